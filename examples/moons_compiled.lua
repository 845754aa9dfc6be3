-- micrograd's demo trained three ways on micrograd's own data and initial
-- weights: the dynamic graph (built again every step), the whole batch's loss
-- compiled once, and a per-sample loss replayed over the data with run_batch.
-- The losses agree (the first two to the last bit).
--
--   build/micrograd examples/moons_compiled.lua
local mg = require("micrograd")
local nn, loss, optim = mg.nn, mg.loss, mg.optim
local clock = os.clock -- CPU time of the process

local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local ref = dofile(here .. "/data/reference.lua")(here .. "/data/micrograd_moons_h16.txt")

--- A fresh model with micrograd's initial weights, its optimizer and schedule.
local function setup()
  local model = nn.MLP(2, { 16, 16, 1 })
  local params = model:parameters()
  for i, p in ipairs(params) do p.data = ref.weights[i] end
  local opt = optim.SGD(params, { lr = 1.0 })
  return model, params, opt, optim.linear(opt, 1.0, 0.1, 100)
end

--- The demo's loss over the whole batch (built with the Values of a model).
local function batch_loss(model, params)
  local scores = {}
  for i, x in ipairs(ref.X) do scores[i] = model(x) end
  return loss.svm(scores, ref.y) + loss.l2(params, 1e-4)
end

--- Trains 100 steps with step(opt) returning the loss; returns the losses and ms per step.
local function train(step, opt, schedule)
  local losses, t0 = {}, clock()
  for k = 1, 100 do
    opt:zero_grad()
    losses[k] = step()
    opt:step()
    schedule:step()
  end
  return losses, (clock() - t0) * 1000 / 100
end

-- 1. dynamic: a new graph every step
local model, params, opt, schedule = setup()
local dynamic, dynamic_ms = train(function()
  local total = batch_loss(model, params)
  total:backward()
  return total.data
end, opt, schedule)

-- 2. the whole batch compiled once (no inputs: the data are constants)
model, params, opt, schedule = setup()
local whole = mg.compile(function() return batch_loss(model, params) end, 0)
local compiled, compiled_ms = train(function()
  local total = whole()
  whole:backward()
  return total
end, opt, schedule)

-- 3. one sample's hinge loss compiled, replayed over the rows in C; the L2
--    term is added as a second tiny compiled graph
model, params, opt, schedule = setup()
local rows = {}
for i, x in ipairs(ref.X) do rows[i] = { x[1], x[2], ref.y[i] } end
local sample = mg.compile(function(x1, x2, y) return (1 + -y * model({ x1, x2 })):relu() end, 3)
local l2 = mg.compile(function() return loss.l2(params, 1e-4) end, 0)
local per_sample, per_sample_ms = train(function()
  local data_loss = sample:run_batch(rows, { mean = true })
  local reg = l2()
  l2:backward()
  return data_loss + reg
end, opt, schedule)

local worst_whole, worst_sample = 0, 0
for k = 1, 100 do
  worst_whole = math.max(worst_whole, math.abs(compiled[k] - dynamic[k]) / dynamic[k])
  worst_sample = math.max(worst_sample, math.abs(per_sample[k] - dynamic[k]) / dynamic[k])
end
print(string.format("step 100 loss: dynamic %.17g, whole batch %.17g, per sample %.17g",
  dynamic[100], compiled[100], per_sample[100]))
print(string.format("ms per step: dynamic %.3f, whole batch %.3f, per sample %.3f",
  dynamic_ms, compiled_ms, per_sample_ms))
print(string.format("largest relative difference from dynamic: whole batch %.3g, per sample %.3g",
  worst_whole, worst_sample))
print(worst_whole == 0 and worst_sample <= 1e-12 and "compiled losses agree with dynamic" or "MISMATCH")
