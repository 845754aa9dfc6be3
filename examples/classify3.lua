-- Three classes: blobs in the plane, an MLP with three outputs (one logit per
-- class), softmax cross-entropy and Adam.
--
--   build/micrograd examples/classify3.lua
local mg = require("micrograd")
local nn, loss, optim, data = mg.nn, mg.loss, mg.optim, mg.data

mg.seed(3)
local X, y = data.make_blobs(150, { centers = 3, cluster_std = 1.5, seed = 3 })
local Xtr, ytr, Xte, yte = data.train_test_split(X, y, { test = 0.2, seed = 3 })

-- inputs are around +-10: scale them down so tanh-free ReLU units start well
local function scaled(rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = { r[1] / 10, r[2] / 10 } end
  return out
end
Xtr, Xte = scaled(Xtr), scaled(Xte)

local model = nn.MLP(2, { 16, 3 })
local opt = optim.Adam(model:parameters(), { lr = 0.05 })

--- The class with the largest logit.
local function predict(logits)
  local best = 1
  for j = 2, #logits do
    if logits[j].data > logits[best].data then best = j end
  end
  return best
end

local function accuracy(rows, labels)
  local correct = 0
  mg.no_grad(function()
    for i, x in ipairs(rows) do
      if predict(model(x)) == labels[i] then correct = correct + 1 end
    end
  end)
  return correct / #rows
end

for step = 1, 60 do
  local logits = {}
  for i, x in ipairs(Xtr) do logits[i] = model(x) end
  local total = loss.cross_entropy(logits, ytr)
  opt:zero_grad()
  total:backward()
  opt:step()
  if step % 10 == 0 then
    print(string.format("step %2d  loss %.4f  train accuracy %3.0f%%", step, total.data,
      accuracy(Xtr, ytr) * 100))
  end
end
print(string.format("final test accuracy %.0f%%", accuracy(Xte, yte) * 100))
