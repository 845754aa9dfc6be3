-- Regression: an MLP with tanh units learns y = sin(x) on [-3, 3] from 40
-- samples, by mean squared error and Adam.
--
--   build/micrograd examples/regression.lua
local mg = require("micrograd")
local nn, loss, optim = mg.nn, mg.loss, mg.optim

mg.seed(7)
local xs, ys = {}, {}
for i = 1, 40 do
  local x = -3 + 6 * (i - 1) / 39
  xs[i], ys[i] = { x }, math.sin(x)
end

local model = nn.MLP(1, { 16, 16, 1 }, { activation = "tanh", init = "xavier" })
local opt = optim.Adam(model:parameters(), { lr = 0.02 })

local mse
for step = 1, 300 do
  local preds = {}
  for i, x in ipairs(xs) do preds[i] = model(x) end
  local total = loss.mse(preds, ys)
  opt:zero_grad()
  total:backward()
  opt:step()
  mse = total.data
  if step % 50 == 0 then print(string.format("step %3d  mse %.5f", step, mse)) end
end

for _, x in ipairs({ -2.5, 0, 1.5 }) do
  local p = mg.no_grad(model, { x })
  print(string.format("sin(%4.1f) = %7.4f, model says %7.4f", x, math.sin(x), p.data))
end
print(string.format("final mse %.5f", mse))
