-- Tour 6: why neurons need a non-linearity.
--
-- A network whose neurons have no activation ("linear") is a stack of linear
-- maps, and a linear map of a linear map is one linear map: however many
-- layers, the whole network is score = w1*x1 + w2*x2 + b, and its decision
-- boundary (score = 0) is a straight line. This script shows the collapse
-- numerically, then trains the same shape of network with and without a
-- non-linearity on XOR and on micrograd's two moons: the linear one gets
-- stuck, the non-linear one separates them.
--
--   build/micrograd examples/tour/06_nonlinearity.lua
local mg = require("micrograd")
local nn, loss, optim, data = mg.nn, mg.loss, mg.optim, mg.data

-- 1. The collapse. Read w1, w2 and b off a linear 2-16-16-1 network by feeding
-- it (0, 0), (1, 0) and (0, 1), then check the formula at another point.
mg.seed(1)
local flat = nn.MLP(2, { 16, 16, 1 }, { activation = "linear" })
local function score(x1, x2)
  return mg.no_grad(function() return flat({ x1, x2 }).data end)
end
local b = score(0, 0)
local w1, w2 = score(1, 0) - b, score(0, 1) - b
print(string.format("a linear 2-16-16-1 network (%d parameters) is one linear map:", #flat:parameters()))
print(string.format("  score = w1*x1 + w2*x2 + b with w1 = %.4f, w2 = %.4f, b = %.4f", w1, w2, b))
print(string.format("  at (0.3, -1.7): network %.6f, formula %.6f", score(0.3, -1.7),
  w1 * 0.3 + w2 * -1.7 + b))
print()

--- Trains model on X (labels ys in {-1, 1}) with the hinge loss and SGD;
-- returns an array with each step's loss and accuracy (before its update).
local function train(model, X, ys, lr, steps)
  local opt = optim.SGD(model:parameters(), { lr = lr })
  local history = {}
  for k = 1, steps do
    local scores, correct = {}, 0
    for i, x in ipairs(X) do
      scores[i] = model(x)
      if (scores[i].data > 0) == (ys[i] > 0) then correct = correct + 1 end
    end
    local total = loss.svm(scores, ys)
    opt:zero_grad()
    total:backward()
    opt:step()
    history[k] = { loss = total.data, accuracy = correct / #X }
  end
  return history
end

local function pair(activation, seed, ...)
  mg.seed(seed)
  return nn.MLP(2, { ... }, { activation = activation })
end

-- 2. XOR: (0,0) and (1,1) are one class, (0,1) and (1,0) the other. No
-- straight line puts each pair on its own side.
local X = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }
local ys = { -1, 1, 1, -1 }
local lin = train(pair("linear", 2, 8, 1), X, ys, 0.1, 100)
local relu = train(pair("relu", 2, 8, 1), X, ys, 0.1, 100)
print("XOR, a 2-8-1 network, hinge loss, 100 steps of SGD:")
print("step   linear: loss  accuracy   relu: loss  accuracy")
for k = 20, 100, 20 do
  print(string.format("%4d   %12.4f  %7.0f%%   %10.4f  %7.0f%%", k, lin[k].loss, lin[k].accuracy * 100,
    relu[k].loss, relu[k].accuracy * 100))
end
print("The linear network's loss sticks at 1.0000: the best any straight line can do")
print("on XOR under this loss is to give up and score every point 0.")
print()

-- 3. micrograd's two moons: 100 points, two interleaved half circles.
local labels
X, labels = data.make_moons(100, { noise = 0.1, seed = 1337 }) -- labels 0 and 1
ys = data.signs(labels)                                          -- -1 and 1 for the hinge loss
local models = { linear = pair("linear", 1337, 16, 16, 1), tanh = pair("tanh", 1337, 16, 16, 1) }
lin = train(models.linear, X, ys, 0.3, 100)
local tanh = train(models.tanh, X, ys, 0.3, 100)
print("two moons, a 2-16-16-1 network, hinge loss, 100 steps of SGD:")
print("step   linear: loss  accuracy   tanh: loss  accuracy")
for k = 20, 100, 20 do
  print(string.format("%4d   %12.4f  %7.0f%%   %10.4f  %7.0f%%", k, lin[k].loss, lin[k].accuracy * 100,
    tanh[k].loss, tanh[k].accuracy * 100))
end
print(string.format("final accuracy: linear %.0f%%, tanh %.0f%%", lin[100].accuracy * 100,
  tanh[100].accuracy * 100))
print("The linear network finds the best straight line and stays there; the tanh")
print("network bends its boundary around the moons. Any non-linearity does it:")
print("relu, tanh, sigmoid. Between two linear layers it stops them from merging.")

-- The decision regions as text, if this build has mg.viz.
local has_viz, viz = pcall(function() return mg.viz end)
if has_viz and viz.ascii_boundary then
  for _, name in ipairs({ "linear", "tanh" }) do
    local ok, picture = pcall(viz.ascii_boundary, models[name], X, labels)
    if ok then
      print()
      print("the " .. name .. " network's decision regions:")
      print(picture)
    end
  end
end
