-- moons_ops.lua - micrograd's moons training (demo.ipynb) written op by op:
-- MLP 2-H-H-1 as plain Value arithmetic, hinge loss + 1e-4 L2, full-batch
-- SGD. Every step builds the whole graph (about 65,000 nodes at H = 16),
-- runs backward() and updates the weights, as micrograd's Python does. It is
-- deliberately written without mg.sum, mg.dot or mg.nn: it measures the cost
-- of single ops. The layer sizes come from DATA's header.
--
--   moons_ops.lua DATA --check          losses at steps 0 and 99, final accuracy
--   moons_ops.lua DATA STEPS [REPS]     median ms per step over REPS runs
--
-- Timing is os.clock() (CPU time of the process): Lua has no monotonic clock.
local mg = require("micrograd")
local Value = mg.Value

-- micrograd's data and initial weights (examples/data/reference.lua reads the file)
local path = assert(arg[1], "usage: moons_ops.lua DATA --check | STEPS [REPS]")
local root = debug.getinfo(1, "S").source:match("^@(.*)/bench/") or "."
local ref = dofile(root .. "/examples/data/reference.lua")(path)
local common = dofile(root .. "/bench/common.lua")
local X, Y, init = ref.X, ref.y, ref.weights

-- Layers of neurons {w = {Value...}, b = Value}; params in micrograd's order.
local layers, params = {}, {}
for l = 1, #ref.sizes - 1 do
  local layer = {}
  for j = 1, ref.sizes[l + 1] do
    local w = {}
    for i = 1, ref.sizes[l] do
      w[i] = Value(init[#params + 1])
      params[#params + 1] = w[i]
    end
    local b = Value(init[#params + 1])
    params[#params + 1] = b
    layer[j] = { w = w, b = b }
  end
  layers[l] = layer
end

-- The model on one sample: ReLU hidden layers, linear output.
local function model(x)
  for l, layer in ipairs(layers) do
    local out = {}
    for j, neuron in ipairs(layer) do
      local w, act = neuron.w, neuron.b
      for i = 1, #w do
        act = act + w[i] * x[i]
      end
      out[j] = l < #layers and act:relu() or act
    end
    x = out
  end
  return x[1]
end

-- Total loss and accuracy, as micrograd's demo computes them.
local function loss()
  local sum, correct = 0, 0
  for s = 1, #X do
    local y, score = Y[s], model(X[s])
    sum = sum + (1 + -y * score):relu()
    if (y > 0) == (score.data > 0) then
      correct = correct + 1
    end
  end
  local reg = 0
  for _, p in ipairs(params) do
    reg = reg + p * p
  end
  return sum * (1.0 / #X) + 1e-4 * reg, correct / #X
end

local function step(k)
  local total, accuracy = loss()
  for _, p in ipairs(params) do
    p.grad = 0
  end
  total:backward()
  local lr = 1.0 - 0.9 * k / 100
  for _, p in ipairs(params) do
    p.data = p.data - lr * p.grad
  end
  return total.data, accuracy
end

if arg[2] == "--check" then
  for k = 0, 99 do
    local l, accuracy = step(k)
    if k == 0 or k == 99 then
      print(string.format("step %d loss %.17g accuracy %.17g%%", k, l, 100 * accuracy))
    end
  end
else
  local steps = common.whole(arg[2]) or 20
  local reps = common.whole(arg[3]) or 5
  assert(steps > 0 and reps > 0, "moons_ops: STEPS and REPS must be positive")
  local ms, l = {}, nil
  for r = 1, reps do
    for i, p in ipairs(params) do
      p.data, p.grad = init[i], 0
    end
    collectgarbage("collect")
    local t0 = os.clock()
    for k = 0, steps - 1 do
      l = step(k % 100)
    end
    ms[r] = (os.clock() - t0) * 1000 / steps
  end
  print(string.format("ms_per_step %.3f steps %d reps %d loss %.17g", common.median(ms), steps, reps, l))
end
