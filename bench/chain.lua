-- chain.lua - the cost of one node: builds x = x * a + b for STEPS steps
-- (2 nodes per step), then runs x:backward(), and reports per node:
--   build     ns to create it (the Lua loop, the metamethod, the userdata, GC)
--   backward  ns for backward() to sort it and send its gradient on
--   heap      bytes of Lua heap it keeps alive (collectgarbage("count"))
-- Each figure is the median of RUNS runs.
--
--   chain.lua [STEPS [RUNS]]            defaults: 1000000 steps, 5 runs
--
-- Timing is os.clock() (CPU time of the process): Lua has no monotonic clock.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
local mg = require("micrograd")
local Value = mg.Value

local steps = common.whole(arg[1]) or 1000000
local runs = common.whole(arg[2]) or 5
assert(steps > 0 and runs > 0, "chain: STEPS and RUNS must be positive")
local nodes = 2 * steps

local median = common.median

local build, backward, heap = {}, {}, {}
for r = 1, runs do
  local a, b, x0 = Value(0.999999), Value(1e-6), Value(1.0)
  collectgarbage("collect")
  local kb0 = collectgarbage("count")

  local t0 = os.clock()
  local x = x0
  for _ = 1, steps do
    x = x * a + b
  end
  local t1 = os.clock()

  collectgarbage("collect")
  heap[r] = (collectgarbage("count") - kb0) * 1024 / nodes

  local t2 = os.clock()
  x:backward()
  local t3 = os.clock()
  build[r] = (t1 - t0) * 1e9 / nodes
  backward[r] = (t3 - t2) * 1e9 / nodes

  -- d x / d x0 = a^steps: a sanity check that backward really ran.
  local want = 0.999999 ^ steps
  if not (math.abs(x0.grad - want) <= 1e-9 * want and x.data == x.data) then
    error(string.format("chain: x0.grad = %.17g, want %.17g", x0.grad, want))
  end
end
collectgarbage("collect")

print(string.format("build_ns_per_node %.1f backward_ns_per_node %.1f bytes_per_node %.1f steps %d runs %d",
  median(build), median(backward), median(heap), steps, runs))
