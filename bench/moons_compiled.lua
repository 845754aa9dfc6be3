-- moons_compiled.lua - micrograd's moons training step compiled with
-- mg.compile: the whole batch's loss traced once and replayed (forward,
-- backward, optim.SGD), and one sample's loss replayed over the data set by
-- run_batch; plus compiled inference of the network per sample. The layer
-- sizes (2-H-H-1) come from DATA's header.
--
--   moons_compiled.lua DATA --check        losses at steps 0 and 99 (whole batch), final accuracy
--   moons_compiled.lua DATA STEPS [REPS]   medians: ms per step both ways, µs per inference
--
-- Timing is os.clock() (CPU time of the process), as in the other benchmarks.
local mg = require("micrograd")
local nn, loss, optim = mg.nn, mg.loss, mg.optim
local clock = os.clock

local path = assert(arg[1], "usage: moons_compiled.lua DATA --check | STEPS [REPS]")
local root = debug.getinfo(1, "S").source:match("^@(.*)/bench/") or "."
local ref = dofile(root .. "/examples/data/reference.lua")(path)
local common = dofile(root .. "/bench/common.lua")

local model = nn.MLP(ref.sizes[1], { common.unpack(ref.sizes, 2) })
local params = model:parameters()
local whole = mg.compile(function()
  local scores = {}
  for i, x in ipairs(ref.X) do scores[i] = model(x) end
  return { loss.svm(scores, ref.y) + loss.l2(params, 1e-4), common.unpack(scores) }
end, 0)
-- the data set packed once, row after row, in a Vector: run_batch reads it
-- with no Lua call per row
local flat = {}
for i, x in ipairs(ref.X) do
  flat[3 * i - 2], flat[3 * i - 1], flat[3 * i] = x[1], x[2], ref.y[i]
end
local rows = mg.vector(flat)
local sample = mg.compile(function(x1, x2, y) return (1 + -y * model({ x1, x2 })):relu() end, 3)
local l2 = mg.compile(function() return loss.l2(params, 1e-4) end, 0)
local infer = mg.compile(function(x1, x2) return model({ x1, x2 }) end, 2)
local opt, schedule

local function reset()
  for i, p in ipairs(params) do p.data, p.grad = ref.weights[i], 0 end
  opt = optim.SGD(params, { lr = 1.0 })
  schedule = optim.linear(opt, 1.0, 0.1, 100)
end

local function whole_step()
  local out = whole()
  opt:zero_grad()
  whole:backward()
  opt:step()
  schedule:step()
  return out
end

local MEAN = { mean = true }
local function sample_step()
  opt:zero_grad()
  local total = sample:run_batch(rows, MEAN) + l2()
  l2:backward()
  opt:step()
  schedule:step()
  return total
end

local median = common.median

reset()
if arg[2] == "--check" then
  for k = 0, 99 do
    local out = whole_step()
    if k == 0 or k == 99 then
      local correct = 0
      for i = 1, #ref.X do
        if (ref.y[i] > 0) == (out[i + 1] > 0) then correct = correct + 1 end
      end
      print(string.format("step %d loss %.17g accuracy %.17g%%", k, out[1], 100 * correct / #ref.X))
    end
  end
else
  local steps = common.whole(arg[2]) or 20
  local reps = common.whole(arg[3]) or 5
  assert(steps > 0 and steps <= 100 and reps > 0, "moons_compiled: STEPS in 1..100 and REPS must be positive")
  local whole_ms, sample_ms, infer_us = {}, {}, {}
  for r = 1, reps do
    reset()
    local t0 = clock()
    for _ = 1, steps do whole_step() end
    whole_ms[r] = (clock() - t0) * 1000 / steps
    reset()
    t0 = clock()
    for _ = 1, steps do sample_step() end
    sample_ms[r] = (clock() - t0) * 1000 / steps
    t0 = clock()
    for i = 1, 10000 do infer(i * 1e-4, 0.5) end
    infer_us[r] = (clock() - t0) * 1e6 / 10000
  end
  print(string.format("whole_ms_per_step %.4f sample_ms_per_step %.4f infer_us %.3f steps %d reps %d",
    median(whole_ms), median(sample_ms), median(infer_us), steps, reps))
end
