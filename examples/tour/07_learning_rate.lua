-- Tour 7: what the learning rate does.
--
-- Gradient descent moves each parameter by -lr * grad. The gradient says which
-- way is downhill and how steep it is, but only right where we stand; the
-- learning rate lr says how far to trust it. Too small and training crawls;
-- too large and each step overshoots the valley, so the loss bounces or blows
-- up. First on the simplest possible loss, x^2; then on the tiny MLP of tour
-- 5; then micrograd's demo trick: start large and decay the rate linearly
-- (optim.linear).
--
--   build/micrograd examples/tour/07_learning_rate.lua
local mg = require("micrograd")
local nn, loss, optim, data = mg.nn, mg.loss, mg.optim, mg.data

--- A loss for a table column: big numbers in %e form, nan and inf spelled the same everywhere.
local function num(x, width)
  local text
  if x ~= x then
    text = "nan"
  elseif x == math.huge or x == -math.huge then
    text = x > 0 and "inf" or "-inf"
  elseif math.abs(x) >= 1e5 then
    text = string.format("%.2e", x)
  else
    text = string.format("%.4f", x)
  end
  return string.rep(" ", width - #text) .. text
end

-- 1. loss = x^2, smallest at x = 0. Its gradient is 2x, so a step is
-- x <- x - lr * 2x = (1 - 2 lr) x: it shrinks for 0 < lr < 1, flips sign
-- when lr > 0.5 (overshooting 0), and grows when lr > 1.
local rates = { 0.01, 0.3, 0.9, 1.1 }
print("loss = x^2 from x = 1, gradient descent with four learning rates; x after each step:")
print("step   lr = 0.01    lr = 0.3    lr = 0.9    lr = 1.1")
local xs = {}
for i in ipairs(rates) do xs[i] = mg.Value(1.0) end
for step = 1, 8 do
  local row = { string.format("%4d", step) }
  for i, lr in ipairs(rates) do
    local x = xs[i]
    local l = x * x
    x.grad = 0
    l:backward()
    x.data = x.data - lr * x.grad
    row[#row + 1] = num(x.data, 10)
  end
  print(table.concat(row, "  "))
end
print("0.01 crawls, 0.3 gets there fast, 0.9 overshoots back and forth,")
print("1.1 overshoots further every step and diverges.")
print()

-- 2. The tiny MLP of tour 5 with three learning rates, the same starting weights.
local X = { { 2.0, 3.0, -1.0 }, { 3.0, -1.0, 0.5 }, { 0.5, 1.0, 1.0 }, { 1.0, 1.0, -1.0 } }
local Y = { 1.0, -1.0, -1.0, 1.0 }
rates = { 0.001, 0.05, 0.2 }
local runs = {}
for i, lr in ipairs(rates) do
  mg.seed(42)
  local model = nn.MLP(3, { 4, 4, 1 }, { activation = "tanh" })
  local params = model:parameters()
  local curve = {}
  for step = 1, 30 do
    local l = 0
    for j, x in ipairs(X) do l = l + (model(x) - Y[j]) ^ 2 end
    model:zero_grad()
    l:backward()
    for _, p in ipairs(params) do p.data = p.data - lr * p.grad end
    curve[step] = l.data
  end
  runs[i] = curve
end
print("the tiny MLP of tour 5, loss sum((ypred - y)^2) every 3 steps:")
print("step    lr = 0.001     lr = 0.05      lr = 0.2")
for step = 3, 30, 3 do
  print(string.format("%4d  %s  %s  %s", step, num(runs[1][step], 12), num(runs[2][step], 12),
    num(runs[3][step], 12)))
end
print(string.format("too small: %.2f after 30 steps; good: %.4f; too large: the loss explodes",
  runs[1][30], runs[2][30]))
print("There is no universal good value: it depends on the model, the loss and")
print("the data. Try a few, a factor of 3 to 10 apart, and watch the loss.")
print()

-- 3. A schedule: big steps early, while far from a minimum, small steps late,
-- to settle into it. micrograd's demo lowers lr linearly from 1.0 to 0.1 over
-- its 100 steps, optim.linear(opt, 1.0, 0.1, 100). Here, on the demo's moons
-- and model, a constant 1.5 (a little too large: the loss jumps around late in
-- training) against the same start decayed linearly to 0.1.
local Xm, labels = data.make_moons(100, { noise = 0.1, seed = 1337 })
local ys = data.signs(labels)

local function moons_run(scheduled)
  mg.seed(1337)
  local model = nn.MLP(2, { 16, 16, 1 })
  local params = model:parameters()
  local opt = optim.SGD(params, { lr = 1.5 })
  local schedule = scheduled and optim.linear(opt, 1.5, 0.1, 100)
  local rows = {}
  for step = 1, 100 do
    local scores, correct = {}, 0
    for i, x in ipairs(Xm) do
      scores[i] = model(x)
      if (scores[i].data > 0) == (ys[i] > 0) then correct = correct + 1 end
    end
    local total = loss.svm(scores, ys) + loss.l2(params, 1e-4)
    rows[step] = { lr = opt.lr, loss = total.data, accuracy = correct }
    opt:zero_grad()
    total:backward()
    opt:step()
    if schedule then schedule:step() end
  end
  return rows
end

local constant, decayed = moons_run(false), moons_run(true)
print("moons, 2-16-16-1 ReLU MLP, hinge loss + L2, SGD:")
print("       constant lr = 1.5    lr from 1.5 linearly to 0.1")
print("step     loss  accuracy         lr    loss  accuracy")
for step = 10, 100, 10 do
  local c, d = constant[step], decayed[step]
  print(string.format("%4d   %6.4f  %7d%%      %5.3f  %6.4f  %7d%%", step, c.loss, c.accuracy, d.lr, d.loss,
    d.accuracy))
end
print(string.format("final accuracy: constant %d%%, decayed %d%%", constant[100].accuracy,
  decayed[100].accuracy))
print("The constant rate keeps jumping out of the valley it found (step 80); the")
print("decaying one takes the same big steps early and then settles in.")
