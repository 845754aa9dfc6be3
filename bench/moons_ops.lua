-- moons_ops.lua - micrograd's moons training (demo.ipynb) written op by op:
-- MLP 2-16-16-1 as plain Value arithmetic, hinge loss + 1e-4 L2, full-batch
-- SGD. Every step builds the whole graph (about 65,000 nodes), runs backward()
-- and updates the weights, as micrograd's Python does. It is deliberately
-- written without mg.sum, mg.dot or mg.nn: it measures the cost of single ops.
--
--   moons_ops.lua DATA --check          losses at steps 0 and 99, final accuracy
--   moons_ops.lua DATA STEPS [REPS]     median ms per step over REPS runs
--
-- Timing is os.clock() (CPU time of the process): Lua has no monotonic clock.
local mg = require("micrograd")
local Value = mg.Value

local function load(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("a")
  f:close()
  local next_number = text:gmatch("%S+")
  local function num()
    local x = tonumber(next_number())
    return x or error("moons_ops: bad data file " .. path)
  end
  local n, sizes = num(), { num(), num(), num(), num() }
  local X, Y = {}, {}
  for s = 1, n do
    X[s] = { num(), num() }
    Y[s] = num()
  end
  -- Layers of neurons {w = {Value...}, b = Value}; params in micrograd's order.
  local layers, params, init = {}, {}, {}
  for l = 1, #sizes - 1 do
    local layer = {}
    for j = 1, sizes[l + 1] do
      local w = {}
      for i = 1, sizes[l] do
        w[i] = Value(num())
        params[#params + 1] = w[i]
      end
      local b = Value(num())
      params[#params + 1] = b
      layer[j] = { w = w, b = b }
    end
    layers[l] = layer
  end
  for i, p in ipairs(params) do
    init[i] = p.data
  end
  return X, Y, layers, params, init
end

local X, Y, layers, params, init = load(assert(arg[1], "usage: moons_ops.lua DATA --check | STEPS [REPS]"))

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
  local steps = math.tointeger(tonumber(arg[2])) or 20
  local reps = math.tointeger(tonumber(arg[3])) or 5
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
  table.sort(ms)
  print(string.format("ms_per_step %.3f steps %d reps %d loss %.17g", ms[reps // 2 + 1], steps, reps, l))
end
