-- moons_nn.lua - micrograd's moons training (demo.ipynb) written as a user of
-- the library writes it: nn.MLP (fused dot nodes), loss.svm + loss.l2, and
-- optim.SGD with optim.linear's schedule (per-parameter loops in C); and
-- the same model's inference, one sample at a time, under mg.no_grad.
-- The layer sizes (2-H-H-1) come from DATA's header.
--
--   moons_nn.lua DATA --check          losses at steps 0 and 99, final accuracy
--   moons_nn.lua DATA STEPS [REPS]     medians over REPS runs: ms per step,
--                                      µs per inference (dynamic, no graph)
--
-- Timing is os.clock() (CPU time of the process).
local mg = require("micrograd")
local nn, loss, optim = mg.nn, mg.loss, mg.optim

local path = assert(arg[1], "usage: moons_nn.lua DATA --check | STEPS [REPS]")
local root = debug.getinfo(1, "S").source:match("^@(.*)/bench/") or "."
local ref = dofile(root .. "/examples/data/reference.lua")(path)
local common = dofile(root .. "/bench/common.lua")

local model = nn.MLP(ref.sizes[1], { common.unpack(ref.sizes, 2) })
local params = model:parameters()
local opt, schedule

local function reset()
  for i, p in ipairs(params) do p.data, p.grad = ref.weights[i], 0 end
  opt = optim.SGD(params, { lr = 1.0 })
  schedule = optim.linear(opt, 1.0, 0.1, 100)
end

local function step()
  local scores, correct = {}, 0
  for i, x in ipairs(ref.X) do
    scores[i] = model(x)
    if (ref.y[i] > 0) == (scores[i].data > 0) then correct = correct + 1 end
  end
  local total = loss.svm(scores, ref.y) + loss.l2(params, 1e-4)
  opt:zero_grad()
  total:backward()
  opt:step()
  schedule:step()
  return total.data, correct / #ref.X
end

reset()
if arg[2] == "--check" then
  for k = 0, 99 do
    local l, accuracy = step()
    if k == 0 or k == 99 then
      print(string.format("step %d loss %.17g accuracy %.17g%%", k, l, 100 * accuracy))
    end
  end
else
  local steps = common.whole(arg[2]) or 20
  local reps = common.whole(arg[3]) or 5
  assert(steps > 0 and steps <= 100 and reps > 0, "moons_nn: STEPS in 1..100 and REPS must be positive")
  local calls = math.floor(80000 / (ref.sizes[2] + ref.sizes[3])) -- inferences per run: 2500 at H = 16
  local ms, infer_us, l = {}, {}, nil
  for r = 1, reps do
    reset()
    collectgarbage("collect")
    local t0 = os.clock()
    for _ = 1, steps do l = step() end
    ms[r] = (os.clock() - t0) * 1000 / steps
    collectgarbage("collect")
    mg.no_grad(function()
      t0 = os.clock()
      for i = 1, calls do local _ = model({ i * 1e-4, 0.5 }).data end
      infer_us[r] = (os.clock() - t0) * 1e6 / calls
    end)
  end
  print(string.format("ms_per_step %.3f infer_us %.3f steps %d reps %d loss %.17g",
    common.median(ms), common.median(infer_us), steps, reps, l))
end
