-- Tour 5: a tiny MLP trained step by step, by hand.
--
-- The lecture's four examples with three inputs each and a target of +1 or -1,
-- a 3-4-4-1 network of tanh neurons, and gradient descent written out: forward
-- pass, loss = sum((ypred - y)^2), zero the grads, backward, and nudge every
-- parameter against its gradient. Next to it the same training with the
-- lecture's famous bug, forgetting to zero the grads.
--
--   build/micrograd examples/tour/05_tiny_mlp.lua
local mg = require("micrograd")
local nn = mg.nn

local xs = {
  { 2.0, 3.0, -1.0 },
  { 3.0, -1.0, 0.5 },
  { 0.5, 1.0, 1.0 },
  { 1.0, 1.0, -1.0 },
}
local ys = { 1.0, -1.0, -1.0, 1.0 } -- the targets

local lr, steps = 0.05, 20

--- A fresh model; the same seed gives the same starting weights every time.
local function new_model()
  mg.seed(42)
  return nn.MLP(3, { 4, 4, 1 }, { activation = "tanh" })
end

--- Forward pass: the predictions and the loss, sum over the examples of
-- (ypred - y)^2: 0 when every prediction hits its target, larger the further off.
local function forward(model)
  local ypred, loss = {}, 0
  for i, x in ipairs(xs) do
    ypred[i] = model(x)
    loss = loss + (ypred[i] - ys[i]) ^ 2
  end
  return ypred, loss
end

local model = new_model()
local params = model:parameters()
print(tostring(model))
print(string.format("%d parameters: 4 * (3 + 1) + 4 * (4 + 1) + (4 + 1) weights and biases", #params))
-- In the lecture's video every layer has tanh; micrograd's nn.py, like mg.nn,
-- leaves the last layer linear, so a prediction can go a little past +-1.
print("the output neuron is linear, as in micrograd's nn.py: predictions may pass +-1")
print()

-- One step in slow motion.
local _, loss = forward(model)
print(string.format("step 1: the loss is %.4f", loss.data))
for _, p in ipairs(params) do p.grad = 0 end -- zero_grad (they are 0 already, but not from step 2 on)
loss:backward()
-- A parameter's grad is d(loss)/d(parameter): the slope of the loss along that
-- one weight. A positive grad means "increasing this weight increases the
-- loss", so we move each weight a small step the other way.
local w = params[1]
print(string.format("  the first weight: data %.4f, grad %.4f", w.data, w.grad))
for _, p in ipairs(params) do p.data = p.data - lr * p.grad end
print(string.format("  after p.data = p.data - %.2f * p.grad it is %.4f", lr, w.data))
_, loss = forward(model)
print(string.format("  and the loss is now %.4f", loss.data))
print()

-- The whole loop, twice: as it should be, and with zero_grad forgotten. Without
-- it, backward() adds each step's gradient onto all the earlier ones (grads
-- accumulate, see tour 3), so every step follows an ever larger, stale sum of
-- old gradients instead of the current slope.
local good, buggy = new_model(), new_model()
print(string.format("training %d steps, learning rate %.2f", steps, lr))
print("step   loss (zero_grad)   loss (zero_grad forgotten)")
for k = 1, steps do
  local _, good_loss = forward(good)
  good:zero_grad() -- p.grad = 0 for every parameter
  good_loss:backward()
  for _, p in ipairs(good:parameters()) do p.data = p.data - lr * p.grad end

  local _, buggy_loss = forward(buggy)
  buggy_loss:backward() -- the bug: no zero_grad() before it
  for _, p in ipairs(buggy:parameters()) do p.data = p.data - lr * p.grad end

  print(string.format("%4d   %15.6f   %15.6f", k, good_loss.data, buggy_loss.data))
end
print()

local ypred
ypred, loss = forward(good)
print(string.format("final loss %.6f; predictions against targets:", loss.data))
for i, yp in ipairs(ypred) do
  print(string.format("  x = {%4.1f, %4.1f, %4.1f}   ypred = %7.4f   y = %4.1f", xs[i][1], xs[i][2], xs[i][3],
    yp.data, ys[i]))
end
