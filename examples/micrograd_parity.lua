-- micrograd's demo.ipynb, on micrograd's own data and initial weights
-- (examples/data/micrograd_moons_h16.txt): the same training through nn, loss
-- and optim prints the same losses as micrograd's notebook, to the last digit.
--
--   build/micrograd examples/micrograd_parity.lua
local mg = require("micrograd")
local nn, loss, optim = mg.nn, mg.loss, mg.optim

local here = (arg and arg[0] or ""):match("^(.*)/") or "."
local ref = dofile(here .. "/data/reference.lua")(here .. "/data/micrograd_moons_h16.txt")

-- MLP(2, [16, 16, 1]) with micrograd's initial weights, in parameters() order.
local model = nn.MLP(2, { 16, 16, 1 })
local params = model:parameters()
for i, p in ipairs(params) do p.data = ref.weights[i] end

--- A float as Python's repr writes it: the shortest text that reads back the same.
local function repr(x)
  for digits = 15, 17 do
    local text = string.format("%." .. digits .. "g", x)
    if tonumber(text) == x then
      if not text:find("[.e]") then text = text .. ".0" end
      return text
    end
  end
end

local opt = optim.SGD(params, { lr = 1.0 })
local schedule = optim.linear(opt, 1.0, 0.1, 100) -- lr = 1.0 - 0.9 * k / 100
for k = 0, 99 do
  -- forward: hinge loss + 1e-4 L2, and the accuracy
  local scores, correct = {}, 0
  for i, x in ipairs(ref.X) do
    scores[i] = model(x)
    if (ref.y[i] > 0) == (scores[i].data > 0) then correct = correct + 1 end
  end
  local total = loss.svm(scores, ref.y) + loss.l2(params, 1e-4)
  -- backward and update (SGD)
  opt:zero_grad()
  total:backward()
  opt:step()
  schedule:step()
  print(string.format("step %d loss %s, accuracy %s%%", k, repr(total.data), repr(correct / #ref.X * 100)))
end
