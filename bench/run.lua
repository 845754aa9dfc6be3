-- run.lua - the driver behind bench/run.sh: checks, timings and the table.
-- luacheck: std lua54
-- (run.sh runs it with stock lua5.4; the benchmarks it starts keep to the
-- common subset of every Lua.)
-- Run it through run.sh (which finds the runner and the C reference and sets
-- LUA_PATH/LUA_CPATH); the arguments and environment knobs are documented
-- there.
--
--   run.lua RUNNER MOONS_REF BUILD [LUA=RUNNER_FOR_LUA ...]
--
-- Each LUA=RUNNER_FOR_LUA (5.4=build/micrograd, luajit=build-luajit/micrograd,
-- ...) adds a row to the table of Lua versions (moons 2-16-16-1); an empty
-- runner is a Lua whose runner could not be built (a failure).
--
-- For each width H of WIDTHS (MLP 2-H-H-1), it checks that every way of
-- training gives the right losses, then times the training step five ways
-- (C reference, op by op, nn, compiled whole batch, compiled run_batch) and
-- inference two ways (compiled, dynamic under mg.no_grad); then the chain.
-- Exit status 1 when a result is wrong or a benchmark fails; a missed speed
-- target is only reported: timings on a shared machine are noisy.
local runner, ref_exe, build = arg[1], arg[2], arg[3]
assert(runner and ref_exe and build,
  "usage: run.lua RUNNER MOONS_REF BUILD [LUA=RUNNER ...] (use bench/run.sh)")
local lua_runners = {} -- { {lua = "5.3", runner = path or nil}, ... }
for i = 4, #arg do
  local lua, path = arg[i]:match("^([^=]+)=(.*)$")
  assert(lua, "run.lua: want LUA=RUNNER, got '" .. arg[i] .. "'")
  lua_runners[#lua_runners + 1] = { lua = lua, runner = path ~= "" and path or nil }
end
local bench = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local root = bench:match("^(.*)/[^/]*$") or ".."
local micrograd_data = root .. "/examples/data/micrograd_moons_h16.txt"

local function env_int(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  local n = math.tointeger(tonumber(v))
  if not n or n <= 0 then
    error(string.format("run.lua: %s must be a positive integer, got '%s'", name, v))
  end
  return n
end

local widths = {}
for w in (os.getenv("WIDTHS") or "16 32 64"):gmatch("%S+") do
  local n = math.tointeger(tonumber(w))
  if not n or n <= 0 then error("run.lua: WIDTHS must be positive integers, got '" .. w .. "'") end
  widths[#widths + 1] = n
end
assert(#widths > 0, "run.lua: WIDTHS is empty")

local knobs = {
  moons_steps = env_int("MOONS_STEPS", 20),
  moons_reps = env_int("MOONS_REPS", 7),
  ref_steps = env_int("REF_STEPS", 1000),
  ref_reps = env_int("REF_REPS", 9),
  compiled_steps = env_int("COMPILED_STEPS", 50),
  chain_steps = env_int("CHAIN_STEPS", 1000000),
  chain_runs = env_int("CHAIN_RUNS", 5),
  lua_rounds = env_int("LUA_ROUNDS", 3),
}

-- The step counts are for width 16; a step at width H costs about (H / 16)^2
-- as much, so width H runs ceil(steps * (16 / H)^2) steps (at least 1).
local function scaled(steps, h)
  return math.max(1, math.ceil(steps * 256 / (h * h)))
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function command(exe, ...)
  local words = { quote(exe) }
  for _, a in ipairs({ ... }) do words[#words + 1] = quote(tostring(a)) end
  return table.concat(words, " ") .. " 2>&1"
end

local status = 0

-- Starts a command; the returned function waits for it and gives its output
-- (without the final newline), or nil after reporting a failure.
local function start(what, exe, ...)
  local cmd = command(exe, ...)
  local pipe = assert(io.popen(cmd, "r"))
  return function()
    local out = pipe:read("a"):gsub("\n$", "")
    local ok, how, code = pipe:close()
    if ok then return out end
    print(string.format("%s: FAILED (%s %s): %s", what, how, tostring(code), cmd))
    print(out)
    status = 1
    return nil
  end
end

local function run(what, exe, ...)
  return start(what, exe, ...)()
end

-- field(out, key): the number after key in a benchmark's output line
local function field(out, key)
  return out and tonumber((" " .. out):match("%s" .. key .. " (%S+)"))
end

local function shape(h)
  return string.format("2-%d-%d-1", h, h)
end

print("runner: " .. runner)
print("C reference: " .. ref_exe)

-- The data files: micrograd's for width 16, generated ones for the others.
local data, generated = {}, {}
for _, h in ipairs(widths) do
  if h == 16 then
    data[h] = micrograd_data
  else
    data[h] = string.format("%s/bench/moons_h%d.txt", build, h)
    generated[#generated + 1] = h
  end
end
if #generated > 0 then
  os.execute("mkdir -p " .. quote(build .. "/bench"))
  run("make_widths.lua", runner, bench .. "/make_widths.lua", micrograd_data, build .. "/bench",
    table.unpack(generated))
end

-- Correctness: every way trains 100 steps (all started at once: they are
-- not timed). Width 16 must give micrograd's bits, other widths the C
-- reference's losses at that width.
local WANT = "step 0 loss 0.89584410286832217 accuracy 50%\nstep 99 loss 0.010978370135492717 accuracy 100%"
local ways = {
  { "C reference", "moons_ref" },
  { "Lua op by op", "moons_ops.lua" },
  { "Lua nn + optim", "moons_nn.lua" },
  { "compiled whole batch", "moons_compiled.lua" },
}
print("checking the losses at steps 0 and 99 (" .. #widths * #ways .. " trainings of 100 steps) ...")
local pending = {}
for _, h in ipairs(widths) do
  pending[h] = {}
  for i, way in ipairs(ways) do
    local what = shape(h) .. " " .. way[1]
    if way[2] == "moons_ref" then
      pending[h][i] = start(what, ref_exe, data[h], "--check")
    else
      pending[h][i] = start(what, runner, bench .. "/" .. way[2], data[h], "--check")
    end
  end
end
for _, h in ipairs(widths) do
  local outs = {}
  for i = 1, #ways do outs[i] = pending[h][i]() end
  local want = h == 16 and WANT or outs[1]
  if not (want and want:match("^step 0 loss %S+ accuracy %S+\nstep 99 loss %S+ accuracy %S+$")) then
    want = nil
  end
  for i, way in ipairs(ways) do
    local what = string.format("%-9s %-20s", shape(h), way[1])
    if h ~= 16 and i == 1 and want then
      print(what .. ": " .. want:gsub("\n", ", ") .. " (the reference at this width)")
    elseif outs[i] and want and outs[i] == want then
      print(what .. (h == 16 and ": micrograd's losses to the last bit (step 0, step 99, 100% accuracy)"
        or ": agree with the C reference to the last bit (step 0, step 99, accuracy)"))
    else
      print(what .. ": WRONG RESULT, got:")
      print(outs[i])
      print(h == 16 and "want:" or "want (the C reference at this width):")
      print(want or "(no valid C reference output)")
      status = 1
    end
  end
end
-- Timing, width by width: the ratios compare figures taken minutes apart at most.
local results = {}
for _, h in ipairs(widths) do
  print(string.format("timing %s (C, op by op, nn, compiled) ...", shape(h)))
  local ops_steps, ref_steps = scaled(knobs.moons_steps, h), scaled(knobs.ref_steps, h)
  local r = {}
  r.c = run(shape(h) .. " C", ref_exe, data[h], ref_steps, knobs.ref_reps)
  local reps = knobs.moons_reps
  r.ops = run(shape(h) .. " op by op", runner, bench .. "/moons_ops.lua", data[h], ops_steps, reps)
  r.nn = run(shape(h) .. " nn", runner, bench .. "/moons_nn.lua", data[h], ops_steps, reps)
  r.compiled = run(shape(h) .. " compiled", runner, bench .. "/moons_compiled.lua", data[h],
    knobs.compiled_steps, reps)
  results[h] = r
end
print("timing the chain ...")
local chain = run("chain", runner, bench .. "/chain.lua", knobs.chain_steps, knobs.chain_runs)

-- A row per Lua: width 16, micrograd's data. Each Lua's runner first passes
-- the three --check runs; then LUA_ROUNDS rounds, each timing the C
-- reference and then every Lua in turn (op by op, nn, compiled), so that a
-- change of load on a shared machine falls on every Lua alike; a figure is
-- the median over the rounds of each run's median.
local H16 = 16
local lua_rows, lua_c_us = {}, nil
local function median_of(list)
  local t = {}
  for i = 1, #list do t[i] = list[i] end
  table.sort(t)
  return t[math.floor(#t / 2) + 1]
end
-- lua_figure(row, name, key): the median over the rounds of key in the
-- output of benchmark name ("ops", "nn", "compiled"), or nil.
local function lua_figure(row, name, key)
  local values = {}
  for r, out in ipairs(row.outs and row.outs[name] or {}) do
    values[r] = field(out, key)
    if not values[r] then return nil end
  end
  return #values > 0 and median_of(values) or nil
end
if #lua_runners > 0 then
  for _, lr in ipairs(lua_runners) do
    local row = { lua = lr.lua, runner = lr.runner, outs = { ops = {}, nn = {}, compiled = {} } }
    lua_rows[#lua_rows + 1] = row
    if not lr.runner then
      print(string.format("Lua %s: FAILED: its runner could not be built (see above)", lr.lua))
      status = 1
    else
      row.version = run("Lua " .. lr.lua .. " version", lr.runner, "-e",
        "print(rawget(_G, 'jit') and jit.version or _VERSION)")
      print(string.format("Lua %s (%s, %s): checking 2-16-16-1 ...", lr.lua, row.version or "?", lr.runner))
      row.right = true
      for i = 2, #ways do
        local out = run("Lua " .. lr.lua .. " " .. ways[i][1], lr.runner, bench .. "/" .. ways[i][2],
          micrograd_data, "--check")
        if out ~= WANT then
          print(string.format("Lua %s %s: WRONG RESULT, got:\n%s", lr.lua, ways[i][1], tostring(out)))
          row.right, status = false, 1
        end
      end
      if row.right then
        print(string.format("Lua %s: micrograd's losses to the last bit, every way", lr.lua))
      end
    end
  end
  local rounds, steps = knobs.lua_rounds, scaled(knobs.moons_steps, H16)
  local reps = math.max(1, math.ceil(knobs.moons_reps / rounds))
  print(string.format("timing the Lua rows: %d rounds of the C reference and every Lua in turn"
    .. " (%d reps each) ...", rounds, reps))
  local c_samples = {}
  for r = 1, rounds do
    local c = run("2-16-16-1 C (Lua rows)", ref_exe, micrograd_data, knobs.ref_steps, knobs.ref_reps)
    c_samples[#c_samples + 1] = field(c, "us_per_step")
    for _, row in ipairs(lua_rows) do
      if row.runner then
        local what = "Lua " .. row.lua
        local moons = micrograd_data
        row.outs.ops[r] = run(what .. " op by op", row.runner, bench .. "/moons_ops.lua", moons, steps, reps)
        row.outs.nn[r] = run(what .. " nn", row.runner, bench .. "/moons_nn.lua", moons, steps, reps)
        row.outs.compiled[r] = run(what .. " compiled", row.runner, bench .. "/moons_compiled.lua", moons,
          knobs.compiled_steps, reps)
      end
    end
  end
  lua_c_us = #c_samples == rounds and median_of(c_samples) or nil
end

-- The table.
local function fmt(v, spec)
  return v and string.format(spec, v) or "?"
end
local function ratio(a, b, spec)
  return (a and b and b > 0) and string.format(spec, a / b) or "?"
end

local met = {} -- {what, measured, unit, target}
local function target(what, measured, unit, limit)
  met[#met + 1] = { what, measured, unit, limit }
end

print()
print(string.format("%-16s %9s  %18s  %18s  %18s  %18s", "moons step", "C -O2",
  "op by op", "nn + optim", "compiled whole", "compiled run_batch"))
print(string.format("%-16s %9s  %10s %7s  %10s %7s  %10s %7s  %10s %7s", "(medians)", "ms/step",
  "ms/step", "x C", "ms/step", "x C", "ms/step", "x C", "ms/step", "x C"))
for _, h in ipairs(widths) do
  local r = results[h]
  local c_us = field(r.c, "us_per_step")
  local c = c_us and c_us / 1000
  local ops, nn = field(r.ops, "ms_per_step"), field(r.nn, "ms_per_step")
  local whole, sample = field(r.compiled, "whole_ms_per_step"), field(r.compiled, "sample_ms_per_step")
  print(string.format("%-16s %9s  %10s %7s  %10s %7s  %10s %7s  %10s %7s", shape(h), fmt(c, "%.4f"),
    fmt(ops, "%.3f"), ratio(ops, c, "%.0f"), fmt(nn, "%.3f"), ratio(nn, c, "%.0f"),
    fmt(whole, "%.4f"), ratio(whole, c, "%.1f"), fmt(sample, "%.4f"), ratio(sample, c, "%.1f")))
  target("op by op / C, " .. shape(h), ratio(ops, c, "%.0f"), "x", 165)
  target("nn / C, " .. shape(h), ratio(nn, c, "%.0f"), "x", 50)
  target("compiled whole / C, " .. shape(h), ratio(whole, c, "%.1f"), "x", 1.5)
  target("compiled run_batch / C, " .. shape(h), ratio(sample, c, "%.1f"), "x", 1.5)
end
print(string.format("%-16s %9s  %10s %7s  %10s %7s  %10s %7s  %10s %7s", "target", "",
  "", "<= 165", "", "<= 50", "", "<= 1.5", "", "<= 1.5"))

print()
print(string.format("%-16s %9s   %16s", "inference", "compiled", "dynamic no_grad"))
print(string.format("%-16s %9s   %16s", "(medians)", "us/sample", "us/sample"))
for _, h in ipairs(widths) do
  local compiled = field(results[h].compiled, "infer_us")
  print(string.format("%-16s %9s   %16s", shape(h), fmt(compiled, "%.3f"),
    fmt(field(results[h].nn, "infer_us"), "%.3f")))
  if h == 16 then target("inference 2-16-16-1, compiled", fmt(compiled, "%.3f"), "us", 0.5) end
end

print()
print(string.format("%-16s %9s   %s", "chain", "measured", "x = x * a + b (medians)"))
local chain_rows = {
  { "build", "build_ns_per_node", "ns/node", 70 },
  { "backward", "backward_ns_per_node", "ns/node", 20 },
  { "Lua heap", "bytes_per_node", "B/node", 160 },
}
for _, row in ipairs(chain_rows) do
  local v = fmt(field(chain, row[2]), "%.1f")
  print(string.format("%-16s %9s   %s", row[1], v, row[3]))
  target("chain x = x * a + b, " .. row[1], v, row[3], row[4])
end

-- The Lua versions: each figure as x C (the C reference of this run) and as
-- x 5.4 (that Lua's figure over 5.4's). Compiled paths (whole batch,
-- run_batch, compiled inference) within 1.2x of 5.4, dynamic ones (op by op,
-- nn, inference under no_grad) within 2x.
if #lua_rows > 0 then
  local cols = {
    { "op by op", "ops", "ms_per_step", 2, "dynamic" },
    { "nn + optim", "nn", "ms_per_step", 2, "dynamic" },
    { "compiled whole", "compiled", "whole_ms_per_step", 1.2, "compiled" },
    { "run_batch", "compiled", "sample_ms_per_step", 1.2, "compiled" },
    { "infer compiled", "compiled", "infer_us", 1.2, "compiled" },
    { "infer no_grad", "nn", "infer_us", 2, "dynamic" },
  }
  local base
  for _, row in ipairs(lua_rows) do
    if row.lua == "5.4" then base = row end
  end
  print()
  print(string.format("Lua versions, moons 2-16-16-1 (medians of %d rounds; x C: over the C reference's"
    .. " %.4f ms/step in those rounds; x 5.4: over Lua 5.4's figure)", knobs.lua_rounds,
    (lua_c_us or 0) / 1000))
  local head1, head2 = string.format("%-22s", "Lua"), string.format("%-22s", "")
  for _, col in ipairs(cols) do
    head1 = head1 .. string.format("  %-15s", col[1])
    head2 = head2 .. string.format("  %7s %7s", col[3] == "infer_us" and "us" or "x C", "x 5.4")
  end
  print(head1)
  print(head2)
  for _, row in ipairs(lua_rows) do
    local c_us = lua_c_us
    local name = (row.version or ("Lua " .. row.lua)) .. (row.right == false and " WRONG" or "")
    local line = string.format("%-22s", name)
    for _, col in ipairs(cols) do
      local v = lua_figure(row, col[2], col[3])
      local b = base and lua_figure(base, col[2], col[3])
      local vs_c = col[3] == "infer_us" and fmt(v, "%.3f") or ratio(v, c_us and c_us / 1000, "%.1f")
      local vs_base = ratio(v, b, "%.2f")
      line = line .. string.format("  %7s %7s", vs_c, vs_base)
      if row ~= base then
        target(string.format("Lua %s %s / 5.4", row.lua, col[1]), vs_base, "x", col[4])
      end
    end
    print(line)
  end
  print(string.format("%-22s  %s", "target", "compiled whole, run_batch, infer compiled <= 1.2 x 5.4;"
    .. " op by op, nn, infer no_grad <= 2 x 5.4"))
end

print()
print(string.format("%-36s %10s %-8s %10s %s", "target", "measured", "unit", "target", "met"))
local n_met = 0
for _, t in ipairs(met) do
  local ok = tonumber(t[2]) and tonumber(t[2]) <= t[4]
  if ok then n_met = n_met + 1 end
  print(string.format("%-36s %10s %-8s %10s %s", t[1], t[2], t[3], "<= " .. t[4], ok and "yes" or "NO"))
end
print(string.format("%d of %d targets met", n_met, #met))

print()
for _, h in ipairs(widths) do
  local r = results[h]
  print(string.format("%s C: %s", shape(h), r.c or "?"))
  print(string.format("%s op by op: %s", shape(h), r.ops or "?"))
  print(string.format("%s nn: %s", shape(h), r.nn or "?"))
  print(string.format("%s compiled: %s", shape(h), r.compiled or "?"))
end
print("chain: " .. (chain or "?"))
for _, row in ipairs(lua_rows) do
  for _, name in ipairs({ "ops", "nn", "compiled" }) do
    for r, out in ipairs(row.outs[name]) do
      print(string.format("Lua %s %s, round %d: %s", row.lua, name, r, out or "?"))
    end
  end
end
print("(all timed in CPU time of the process: CLOCK_PROCESS_CPUTIME_ID in C, os.clock in Lua)")
os.exit(status)
