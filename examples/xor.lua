-- XOR: the classic problem no single neuron can solve. Two tanh hidden units
-- and a linear output learn it with the hinge loss and plain SGD.
--
--   build/micrograd examples/xor.lua
local mg = require("micrograd")
local nn, loss, optim = mg.nn, mg.loss, mg.optim

mg.seed(4)
local X = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }
local y = { -1, 1, 1, -1 }

local model = nn.MLP(2, { 4, 1 }, { activation = "tanh" })
local opt = optim.SGD(model:parameters(), { lr = 0.3, momentum = 0.9 })

local correct
for step = 1, 200 do
  local scores = {}
  correct = 0
  for i, x in ipairs(X) do
    scores[i] = model(x)
    if (scores[i].data > 0) == (y[i] > 0) then correct = correct + 1 end
  end
  local total = loss.svm(scores, y)
  opt:zero_grad()
  total:backward()
  opt:step()
  if step % 40 == 0 then
    print(string.format("step %3d  loss %.4f  correct %d/4", step, total.data, correct))
  end
end
for i, x in ipairs(X) do
  print(string.format("xor(%d, %d) = %2d, model says %7.4f", x[1], x[2], y[i], model(x).data))
end
print(string.format("final accuracy %.0f%%", correct / 4 * 100))
