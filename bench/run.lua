-- run.lua - the driver behind bench/run.sh: checks, timings and the table.
-- Run it through run.sh (which finds the runner and the C reference and sets
-- LUA_PATH/LUA_CPATH); the arguments and environment knobs are documented
-- there.
--
--   run.lua RUNNER MOONS_REF BUILD
--
-- For each width H of WIDTHS (MLP 2-H-H-1), it checks that every way of
-- training gives the right losses, then times the training step five ways
-- (C reference, op by op, nn, compiled whole batch, compiled run_batch) and
-- inference two ways (compiled, dynamic under mg.no_grad); then the chain.
-- Exit status 1 when a result is wrong or a benchmark fails; a missed speed
-- target is only reported: timings on a shared machine are noisy.
local runner, ref_exe, build = arg[1], arg[2], arg[3]
assert(runner and ref_exe and build, "usage: run.lua RUNNER MOONS_REF BUILD (use bench/run.sh)")
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
print("(all timed in CPU time of the process: CLOCK_PROCESS_CPUTIME_ID in C, os.clock in Lua)")
os.exit(status)
