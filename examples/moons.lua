-- micrograd's demo.ipynb in Lua: a 2-16-16-1 MLP learns the two moons.
-- make_moons(100, noise 0.1), hinge loss + 1e-4 L2, SGD with the learning
-- rate going from 1.0 down to 0.1 over 100 steps; then the model is saved,
-- and the decision boundary and the loss curve are drawn (SVG, and the
-- boundary in the terminal too).
--
--   build/micrograd examples/moons.lua [output-directory]
local mg = require("micrograd")
local nn, loss, optim, data, viz = mg.nn, mg.loss, mg.optim, mg.data, mg.viz

local out_dir = arg and arg[1] or "."
mg.seed(1337)

-- the data: 100 points, labels 0/1 mapped to -1/+1 for the hinge loss
local X, y = data.make_moons(100, { noise = 0.1, seed = 1337 })
local ys = data.signs(y)

local model = nn.MLP(2, { 16, 16, 1 })
print(model)
print("number of parameters", #model:parameters())

local params = model:parameters()
local opt = optim.SGD(params, { lr = 1.0 })
local schedule = optim.linear(opt, 1.0, 0.1, 100)

local accuracy
local history = { loss = {}, accuracy = {} }
for k = 0, 99 do
  -- forward: a score per point, the loss, the accuracy
  local scores, correct = {}, 0
  for i, x in ipairs(X) do
    scores[i] = model(x)
    if (ys[i] > 0) == (scores[i].data > 0) then correct = correct + 1 end
  end
  local total = loss.svm(scores, ys) + loss.l2(params, 1e-4)
  accuracy = correct / #X
  history.loss[k + 1], history.accuracy[k + 1] = total.data, accuracy
  -- backward and update
  opt:zero_grad()
  total:backward()
  opt:step()
  schedule:step()
  if k % 10 == 0 or k == 99 then
    print(string.format("step %3d  loss %.6f  accuracy %3.0f%%", k, total.data, accuracy * 100))
  end
end

print(string.format("final accuracy %.0f%%", accuracy * 100))
print(viz.ascii_boundary(model, X, y))

local model_path = out_dir .. "/moons_model.json"
local boundary_path, curve_path = out_dir .. "/moons.svg", out_dir .. "/moons_loss.svg"
nn.save(model, model_path)
viz.decision_boundary(model, X, y, boundary_path, { title = "moons: 2-16-16-1 MLP, 100% accuracy" })
viz.loss_curve(history, curve_path, { title = "moons: loss and accuracy" })
print("model saved to " .. model_path)
print("decision boundary drawn in " .. boundary_path)
print("loss curve drawn in " .. curve_path)
