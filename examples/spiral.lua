-- The everyday workflow on cs231n's 3-class spiral: a validation set held
-- out of the training data, early stopping with the best weights restored,
-- checkpoints, predict and evaluate on a test set, a decision-boundary
-- picture; trained compiled (fast), then fine-tuned on the dynamic path
-- from the checkpoint.
--
--   build/micrograd examples/spiral.lua [output-directory]
local mg = require("micrograd")
local nn, optim, data, train, viz = mg.nn, mg.optim, mg.data, mg.train, mg.viz

local out_dir = arg and arg[1] or "."
local checkpoint = out_dir .. "/spiral_checkpoint.json"

--- k arms of n points each: point i of arm c is at radius r = i / (n - 1)
-- and angle 4 (c - 1) + 4 r plus noise, as in Stanford's cs231n notes.
local function make_spiral(n, k, noise, seed)
  local g = mg.Generator(seed)
  local X, y = {}, {}
  for c = 1, k do
    for i = 0, n - 1 do
      local r = i / (n - 1)
      local t = 4 * (c - 1) + 4 * r + g:normal(0, noise)
      X[#X + 1], y[#y + 1] = { r * math.sin(t), r * math.cos(t) }, c
    end
  end
  return X, y
end

local X, y = make_spiral(100, 3, 0.2, 1)
local Xtrain, ytrain, Xtest, ytest = data.train_test_split(X, y, { test = 0.2, seed = 1 })

mg.seed(1)
local model = nn.MLP(2, { 32, 32, 3 })
print(model)
local opt = optim.Adam(model, { lr = 0.02 })
local schedule = optim.cosine(opt, { steps = 300 })

-- 1. compiled: the whole batch's graph is traced once and replayed in C.
-- A fifth of the training data is held out for validation, every 10 steps;
-- the training stops after 10 evaluations without a better validation loss
-- and puts the best weights back. A checkpoint is written every 50 steps.
local history, trainer = train.fit(model, Xtrain, ytrain, {
  loss = "cross_entropy", optimizer = opt, schedule = schedule, steps = 300, compile = true,
  validation = 0.2, validate_every = 10, patience = 10, restore_best = true,
  checkpoint = checkpoint, checkpoint_every = 50,
})
print(string.format("compiled: %d steps (%s), best validation loss %.4f at step %d",
  trainer.step_count, trainer.stop_reason or "all of them", trainer.best_val_loss, history.best_step))
viz.loss_curve(history, out_dir .. "/spiral_loss.svg")

-- 2. evaluate on the test set: loss, accuracy, confusion matrix (rows: true class)
local result = train.evaluate(model, Xtest, ytest)
print(string.format("test loss %.4f, accuracy %.1f%%", result.loss, result.accuracy * 100))
for c, row in ipairs(result.confusion) do
  print(string.format("  class %d predicted as 1, 2, 3: %3d %3d %3d", c, row[1], row[2], row[3]))
end

-- 3. predict: labels and probabilities for new points
local points = { { 0, 0.1 }, { 0.5, 0.5 }, { -0.6, 0.2 } }
local labels, probs = train.predict(model, points)
for i, p in ipairs(points) do
  print(string.format("  (%5.2f, %5.2f) -> class %d  (p = %.2f %.2f %.2f)", p[1], p[2], labels[i],
    probs[i][1], probs[i][2], probs[i][3]))
end

-- 4. the checkpoint: fresh objects of the same shape, the last checkpoint
-- loaded into them, then 20 more steps on the dynamic path with mini-batches
-- (the validation state stays with the compiled trainer; this is fine-tuning)
mg.seed(2)
local tuned = nn.MLP(2, { 32, 32, 3 })
local tuned_opt = optim.Adam(tuned, { lr = 0.02 })
local tuned_schedule = optim.cosine(tuned_opt, { steps = 300 })
train.restore(checkpoint, { model = tuned, optimizer = tuned_opt, schedule = tuned_schedule })
tuned_opt.lr = 0.002
train.fit(tuned, Xtrain, ytrain, { loss = "cross_entropy", optimizer = tuned_opt, steps = 20, batch_size = 32,
  seed = 1, progress = false })
print(string.format("dynamic fine-tuning from the checkpoint: test accuracy %.1f%%",
  train.evaluate(tuned, Xtest, ytest).accuracy * 100))

-- 5. the decision regions with the data
viz.decision_boundary(model, X, y, out_dir .. "/spiral.svg", { title = "3-class spiral", equal_axes = true })
print("decision boundary drawn in " .. out_dir .. "/spiral.svg, loss curve in " .. out_dir
  .. "/spiral_loss.svg")
print(string.format("final test accuracy %.0f%%", result.accuracy * 100))
