#!/usr/bin/env lua5.4
--- The README's reliability table, made from the records of a CI run.
--
--     lua5.4 scripts/reliability.lua collect [--build DIR] [--ran NAME=DIR]...
--            [--steps FILE] [--fuzz FILE] [--run TEXT]
--         prints the records of a run: every test of DIR's last ctest run
--         (default build), a count for each other build's run (--ran
--         valgrind=build-valgrind), the CI steps that passed (.ci/run writes
--         them to build/reliability.log), the fuzzing statistics (fuzz/run.sh
--         writes build-fuzz/fuzz-stats.txt) and the describe blocks of the
--         hostile-input specs; missing files are skipped
--     lua5.4 scripts/reliability.lua table [RECORDS]
--         prints the markdown table
--     lua5.4 scripts/reliability.lua --update README.md [RECORDS]
--         rewrites the README's table, between its reliability markers
--     lua5.4 scripts/reliability.lua --check README.md [RECORDS]
--         fails unless the README's table is the one RECORDS makes
--
-- RECORDS defaults to docs/reliability.txt, the records of the last run,
-- committed: the README shows what they say, and spec/reliability_spec.lua
-- checks that it does. Record lines (others, and # comments, are ignored):
--
--     run: <when and where>
--     test: <ctest name> passed|failed [<n> it]
--     ran: <name> <n> tests <p> passed
--     step: <CI step name> ok <seconds>s
--     fuzz: <target> execs=<N> seconds=<S> crashes=<C>
--     hostile: <model|csv> <describe block>
local M = {}

local format, concat = string.format, table.concat

M.BEGIN = "<!-- reliability:begin -->"
M.END = "<!-- reliability:end -->"
M.RECORDS = "docs/reliability.txt"

-- The hostile-input specs: their records' kind, and the table row's name.
local HOSTILE = {
  { kind = "model", spec = "hostile_model_spec", title = "Hostile model files" },
  { kind = "csv", spec = "hostile_csv_spec", title = "Hostile CSV files" },
}

--- The contents of a file, or nil when it cannot be read.
local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

local function lines(text)
  return (text or ""):gmatch("[^\n]+")
end

--- The tests of a ctest log (Testing/Temporary/LastTest.log), in order: each
-- {name, passed, it} (it: the busted spec's count of `it` blocks, or nil).
function M.parse_ctest_log(text)
  local tests, current = {}, nil
  for line in lines(text) do
    local name = line:match("^%d+/%d+ Testing: (%S+)")
    if name then
      current = { name = name, passed = false }
      tests[#tests + 1] = current
    elseif current then
      local ok, failed, errors, pending =
        line:match("^(%d+) successes / (%d+) failures / (%d+) errors / (%d+) pending")
      if ok then current.it = ok + failed + errors + pending end
      -- after the output: "Test Passed." or "Test Pass Reason:" (a regular expression)
      if line == "<end of output>" then current.ended = true end
      if current.ended and line:match("^Test Pass") then current.passed = true end
    end
  end
  for _, t in ipairs(tests) do t.ended = nil end
  return tests
end

--- The top-level describe blocks of a spec file.
function M.describe_blocks(text)
  local blocks = {}
  for line in lines(text) do
    local title = line:match('^describe%("(.-)"')
    if title then blocks[#blocks + 1] = title end
  end
  return blocks
end

--- The last line of each fuzz target, in order of first appearance.
local function fuzz_lines(text)
  local order, last = {}, {}
  for line in lines(text) do
    local target = line:match("^fuzz: (%S+) ")
    if target then
      if not last[target] then order[#order + 1] = target end
      last[target] = line
    end
  end
  local out = {}
  for i, target in ipairs(order) do out[i] = last[target] end
  return out
end

--- The records of a run (see the top of this file), as text.
-- @tparam table o build, ran ({name, dir} pairs), steps, fuzz, run, root
function M.collect(o)
  local root = o.root or "."
  local out = {}
  local function add(...) out[#out + 1] = format(...) end
  add("# The records of a CI run (lua5.4 scripts/reliability.lua collect). docs/reliability.txt")
  add("# holds the last run's: the README's reliability table is made from them.")
  add("run: %s", o.run or os.date("!%Y-%m-%d %H:%M UTC"))
  local tests = M.parse_ctest_log(read(o.build .. "/Testing/Temporary/LastTest.log"))
  table.sort(tests, function(a, b) return a.name < b.name end)
  for _, t in ipairs(tests) do
    add("test: %s %s%s", t.name, t.passed and "passed" or "failed", t.it and format(" %d it", t.it) or "")
  end
  for _, r in ipairs(o.ran or {}) do
    local ran = M.parse_ctest_log(read(r[2] .. "/Testing/Temporary/LastTest.log"))
    if #ran > 0 then
      local passed = 0
      for _, t in ipairs(ran) do passed = passed + (t.passed and 1 or 0) end
      add("ran: %s %d tests %d passed", r[1], #ran, passed)
    end
  end
  for line in lines(o.steps and read(o.steps)) do
    if line:match("^step: ") then add("%s", line) end
  end
  for _, line in ipairs(fuzz_lines(o.fuzz and read(o.fuzz))) do add("%s", line) end
  for _, h in ipairs(HOSTILE) do
    for _, title in ipairs(M.describe_blocks(read(root .. "/spec/" .. h.spec .. ".lua"))) do
      add("hostile: %s %s", h.kind, title)
    end
  end
  return concat(out, "\n") .. "\n"
end

--- The records of a text, by kind.
function M.parse_records(text)
  local r = { tests = {}, ran = {}, steps = {}, fuzz = {}, hostile = {} }
  for line in lines(text) do
    local kind, rest = line:match("^(%a+): (.*)$")
    if kind == "run" then
      r.run = rest
    elseif kind == "test" then
      local name, status, it = rest:match("^(%S+) (%a+) ?(%d*)")
      if name then r.tests[#r.tests + 1] = { name = name, passed = status == "passed", it = tonumber(it) } end
    elseif kind == "ran" then
      local name, n, passed = rest:match("^(%S+) (%d+) tests (%d+) passed")
      if name then r.ran[name] = { n = tonumber(n), passed = tonumber(passed) } end
    elseif kind == "step" then
      local name, seconds = rest:match("^(.-) ok (%d+)s$")
      if name then r.steps[#r.steps + 1] = { name = name, seconds = tonumber(seconds) } end
    elseif kind == "fuzz" then
      local target, fields = rest:match("^(%S+) (.*)$")
      if target then
        local f = { target = target }
        for key, value in fields:gmatch("(%a+)=(%d+)") do f[key] = tonumber(value) end
        r.fuzz[#r.fuzz + 1] = f
      end
    elseif kind == "hostile" then
      local which, title = rest:match("^(%S+) (.+)$")
      if which then
        r.hostile[which] = r.hostile[which] or {}
        table.insert(r.hostile[which], title)
      end
    end
  end
  return r
end

--- 1234567 as "1,234,567".
local function thousands(n)
  local s = format("%d", n)
  repeat
    local k
    s, k = s:gsub("^(%d+)(%d%d%d)", "%1,%2")
  until k == 0
  return s
end

--- The kind of a ctest test, by its name.
local function kind_of(name)
  if name:match("^c_") then return "c" end
  if name:match("^host_") or name == "embed_game" or name == "example_host" then return "host" end
  if name:match("_spec$") then return "spec" end
  if name:match("^example_") or name:match("^tour_") then return "example" end
  if name:match("_parity$") then return "parity" end
  if name == "deep_chain" then return "deep" end
  return "other"
end

--- "12 passed", or "11 passed, 1 failed", for a list of tests.
local function outcome(tests)
  local passed = 0
  for _, t in ipairs(tests) do passed = passed + (t.passed and 1 or 0) end
  if #tests == 0 then return "not run" end
  if passed == #tests then return #tests == 1 and "passed" or format("all %d passed", passed) end
  return format("%d passed, %d failed", passed, #tests - passed)
end

local function names(tests)
  local out = {}
  for i, t in ipairs(tests) do out[i] = "`" .. t.name .. "`" end
  return #out > 0 and concat(out, ", ") or "none"
end

--- The step whose name matches pattern (case-insensitive), or nil.
local function find_step(r, pattern)
  for _, s in ipairs(r.steps) do
    if s.name:lower():find(pattern) then return s end
  end
end

local function step_result(s)
  return s and format("ok, %d s", s.seconds) or "not run"
end

-- Steps with their own row, and steps not worth one.
local OWN_ROW = { "addresssanitizer", "valgrind", "threadsanitizer", "fuzz", "gc stress" }
local NO_ROW = { "^debian packages", "^make test", "^reliability", "^done" }

local function matches_any(name, patterns)
  for _, p in ipairs(patterns) do
    if name:lower():find(p) then return true end
  end
  return false
end

--- The markdown table (with a line that says which run it shows).
function M.table(text)
  local r = M.parse_records(text)
  local by_kind = {}
  for _, t in ipairs(r.tests) do
    local k = kind_of(t.name)
    by_kind[k] = by_kind[k] or {}
    table.insert(by_kind[k], t)
  end
  local rows = {}
  local function row(check, what, result)
    rows[#rows + 1] = format("| %s | %s | %s |", check, (what:gsub("|", "\\|")), result)
  end

  local specs, its, by_name = by_kind.spec or {}, 0, {}
  for _, t in ipairs(specs) do
    its = its + (t.it or 0)
    by_name[t.name] = t
  end
  row("C unit tests", "the engine core, without Lua: " .. names(by_kind.c or {}), outcome(by_kind.c or {}))
  row("busted specs", format("%d spec files, %d `it` blocks, one ctest each", #specs, its), outcome(specs))
  row("Examples and the tour", format("%d scripts run, each output checked", #(by_kind.example or {})),
    outcome(by_kind.example or {}))
  row("Embedding hosts", "C hosts: " .. names(by_kind.host or {}), outcome(by_kind.host or {}))
  row("micrograd parity", "trainings that must give micrograd's losses bit for bit: "
    .. names(by_kind.parity or {}), outcome(by_kind.parity or {}))
  row("Deep graphs", "`deep_chain`: 10^6 nodes, backward under a 256 KiB C stack",
    outcome(by_kind.deep or {}))
  if by_kind.other then row("Other tests", names(by_kind.other), outcome(by_kind.other)) end
  for _, h in ipairs(HOSTILE) do
    local t = by_name[h.spec]
    local blocks = r.hostile[h.kind] or {}
    row(h.title, format("`spec/%s.lua`%s: %s", h.spec, t and t.it and format(", %d `it`", t.it) or "",
      #blocks > 0 and concat(blocks, "; ") or "none"), t and outcome({ t }) or "not run")
  end

  local fuzz = {}
  local crashes = 0
  for i, f in ipairs(r.fuzz) do
    fuzz[i] = format("`%s` %s runs in %d s", f.target, thousands(f.execs or 0), f.seconds or 0)
    crashes = crashes + (f.crashes or 0)
  end
  local fuzz_step = find_step(r, "fuzz")
  row("Fuzzing (libFuzzer, ASan + UBSan)", #fuzz > 0 and concat(fuzz, ", ") or "`fuzz/run.sh`",
    #fuzz > 0 and format("%d crashes%s", crashes, fuzz_step and format(", %d s", fuzz_step.seconds) or "")
      or "not run")

  local asan, valgrind = r.ran.asan, r.ran.valgrind
  row("AddressSanitizer + UndefinedBehaviorSanitizer",
    "the whole ctest suite, instrumented" .. (asan and format(", %d tests", asan.n) or ""),
    step_result(find_step(r, "addresssanitizer")))
  local gcstress = r.ran.gcstress
  row("GC stress (ASan + UBSan)", "the busted specs with a GC step at every allocation (finalizers run "
    .. "inside the library's allocations, `tests/gc_stress.lua`)"
    .. (gcstress and format(", %d specs", gcstress.n) or ""), step_result(find_step(r, "gc stress")))
  row("Valgrind memcheck", "the whole ctest suite but `embed_game` (frame-time checks)"
    .. (valgrind and format(", %d tests", valgrind.n) or "") .. ": no leak, no invalid access",
    step_result(find_step(r, "valgrind")))
  row("ThreadSanitizer", "`host_threads`: lua_States in two threads",
    step_result(find_step(r, "threadsanitizer")))

  local others, total = {}, 0
  for _, s in ipairs(r.steps) do
    if not matches_any(s.name, OWN_ROW) and not matches_any(s.name, NO_ROW) then
      others[#others + 1] = (s.name:match("^[^:(]*"):gsub("%s+$", ""))
      total = total + s.seconds
    end
  end
  row("Other CI steps", #others > 0 and concat(others, ", ") or "none recorded",
    #others > 0 and format("ok, %d s", total) or "not run")

  return format("Last run: %s.\n\n| Check | What | Last run |\n| --- | --- | --- |\n%s\n",
    r.run or "none recorded", concat(rows, "\n"))
end

--- README text with its table region (between the markers) replaced by table.
function M.replace_region(readme, table_text)
  local b = readme:find(M.BEGIN, 1, true)
  local e = readme:find(M.END, 1, true)
  if not b or not e or e < b then return nil, "no " .. M.BEGIN .. " ... " .. M.END .. " region" end
  return readme:sub(1, b + #M.BEGIN - 1) .. "\n" .. table_text .. readme:sub(e)
end

local function usage()
  io.stderr:write("usage: lua5.4 scripts/reliability.lua collect [--build DIR] [--ran NAME=DIR]... ",
    "[--steps FILE] [--fuzz FILE] [--run TEXT]\n",
    "       lua5.4 scripts/reliability.lua table [RECORDS]\n",
    "       lua5.4 scripts/reliability.lua --update|--check README.md [RECORDS]\n")
  return 2
end

--- The command line; returns the exit status.
function M.main(args)
  local command = args[1]
  if command == "collect" then
    local o, i = { build = "build", ran = {} }, 2
    while args[i] do
      local key, value = args[i], args[i + 1]
      if not value then return usage() end
      if key == "--build" then o.build = value
      elseif key == "--steps" then o.steps = value
      elseif key == "--fuzz" then o.fuzz = value
      elseif key == "--run" then o.run = value
      elseif key == "--ran" and value:match("^[^=]+=.") then
        o.ran[#o.ran + 1] = { value:match("^([^=]+)=(.*)$") }
      else return usage() end
      i = i + 2
    end
    io.write(M.collect(o))
    return 0
  end
  if command == "table" then
    local path = args[2] or M.RECORDS
    local text = read(path)
    if not text then io.stderr:write(path, ": cannot read\n") return 1 end
    io.write(M.table(text))
    return 0
  end
  if command == "--update" or command == "--check" then
    local readme_path, path = args[2], args[3] or M.RECORDS
    if not readme_path then return usage() end
    local readme, text = read(readme_path), read(path)
    if not readme or not text then
      io.stderr:write("cannot read ", readme_path, " or ", path, "\n")
      return 1
    end
    local new, err = M.replace_region(readme, M.table(text))
    if not new then io.stderr:write(readme_path, ": ", err, "\n") return 1 end
    if command == "--check" then
      if new == readme then return 0 end
      io.stderr:write(readme_path, ": the reliability table is not the one ", path,
        " makes (run: lua5.4 scripts/reliability.lua --update ", readme_path, ")\n")
      return 1
    end
    local f = assert(io.open(readme_path, "wb"))
    f:write(new)
    f:close()
    return 0
  end
  return usage()
end

if arg and arg[0] and arg[0]:match("reliability%.lua$") then os.exit(M.main(arg)) end
return M
