--- Trainings for the checkpoint specs: each recipe builds a model, an
-- optimizer, a schedule and a Trainer from the engine generator's current
-- position, the same way every time (in this process or in a new one, which
-- requires this file as spec.helpers.recipes).
local check = require("spec.helpers.check")
local mg = require("micrograd")
local nn, optim, train, data = mg.nn, mg.optim, mg.train, mg.data

local M = {}

M.STEPS = 24 -- steps of every training
M.STOP = 11 -- where the interrupted run checkpoints

local function moons()
  return data.make_moons(40, { noise = 0.1, seed = 3 })
end

-- A model that draws from the engine generator at every call, as dropout
-- does: each hidden output is kept with probability 0.8 and scaled by 1.25.
local function noisy_mlp()
  local first, last = nn.Layer(2, 8), nn.Layer(8, 1, { activation = "linear" })
  local model = {}
  function model.parameters()
    local ps = first:parameters()
    for _, p in ipairs(last:parameters()) do ps[#ps + 1] = p end
    return ps
  end
  return setmetatable(model, {
    __call = function(_, x)
      local h = first(x)
      for i = 1, #h do
        h[i] = mg.random() < 0.8 and h[i] * 1.25 or h[i] * 0
      end
      return last(h)
    end,
  })
end

local function trainer(model, X, y, opt, sched, extra)
  local o = { optimizer = opt, schedule = sched, steps = M.STEPS }
  for k, v in pairs(extra or {}) do o[k] = v end
  return { model = model, optimizer = opt, schedule = sched, trainer = train.Trainer(model, X, y, o) }
end

M.recipes = {
  -- SGD with momentum, linear decay, the whole data set per step
  sgd_momentum_linear = function()
    local X, y = moons()
    local model = nn.MLP(2, { 8, 8, 1 })
    local opt = optim.SGD(model, { lr = 0.1, momentum = 0.9 })
    return trainer(model, X, y, opt, optim.linear(opt, 0.1, 0.01, M.STEPS))
  end,
  -- Nesterov momentum with weight decay, step decay, l2, mini-batches
  -- shuffled by the engine generator
  sgd_nesterov_step_batches = function()
    local X, y = moons()
    local model = nn.MLP(2, { 8, 1 })
    local opt = optim.SGD(model, { lr = 0.05, momentum = 0.9, nesterov = true, weight_decay = 1e-3 })
    return trainer(model, X, y, opt, optim.step(opt, { every = 5, gamma = 0.5 }), { batch_size = 7,
      l2 = 1e-4 })
  end,
  -- Adam with weight decay, cosine annealing, mini-batches shuffled by the
  -- trainer's own generator, the bce loss
  adam_cosine_seeded = function()
    local X, y = moons()
    local model = nn.MLP(2, { 8, 1 }, { activation = "tanh" })
    local opt = optim.Adam(model, { lr = 0.02, weight_decay = 0.01 })
    return trainer(model, X, y, opt, optim.cosine(opt, { steps = M.STEPS, to = 1e-3 }),
      { batch_size = 8, seed = 5, loss = "bce" })
  end,
  -- a model drawing from the engine generator (dropout's masks), Adam
  engine_generator = function()
    local X, y = moons()
    local model = noisy_mlp()
    local opt = optim.Adam(model:parameters(), { lr = 0.01 })
    return trainer(model, X, y, opt, nil, { batch_size = 10 })
  end,
  -- nn.Dropout (masks from the engine generator), validated in evaluation mode
  dropout = function()
    local X, y = moons()
    local model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 1))
    local opt = optim.Adam(model, { lr = 0.02 })
    return trainer(model, X, y, opt, nil, { batch_size = 8, validation = 0.25, validate_every = 3 })
  end,
  -- 3 classes, cross-entropy, validation held out, patience, best weights
  validation_cross_entropy = function()
    local X, y = data.make_blobs(45, { centers = 3, seed = 4 })
    local model = nn.MLP(2, { 8, 3 })
    local opt = optim.Adam(model, { lr = 0.05 })
    return trainer(model, X, y, opt, nil,
      { validation = 0.2, validate_every = 2, patience = 50, restore_best = true, batch_size = 9 })
  end,
  -- compiled: the whole batch's graph replayed
  compiled_whole = function()
    local X, y = moons()
    local model = nn.MLP(2, { 8, 1 })
    local opt = optim.SGD(model, { lr = 0.1, momentum = 0.5 })
    return trainer(model, X, y, opt, optim.linear(opt, 0.1, 0.02, M.STEPS), { compile = true })
  end,
  -- compiled: one sample's graph replayed over shuffled mini-batches
  compiled_batches = function()
    local X, y = moons()
    local model = nn.MLP(2, { 8, 1 })
    local opt = optim.Adam(model, { lr = 0.02, weight_decay = 0.01 })
    return trainer(model, X, y, opt, nil, { compile = true, batch_size = 6 })
  end,
}

-- compiled cross-entropy with mini-batches: 3 classes, shuffled batches, Adam
M.recipes.compiled_cross_entropy_batches = function()
  local X, y = data.make_blobs(45, { centers = 3, seed = 4 })
  local model = nn.MLP(2, { 8, 3 })
  local opt = optim.Adam(model, { lr = 0.05 })
  return trainer(model, X, y, opt, optim.cosine(opt, { steps = M.STEPS }),
    { compile = true, batch_size = 9, loss = "cross_entropy" })
end

-- optim.exponential, warmup and plateau, each over SGD with momentum
local extra_schedules = {
  exponential = function(opt) return optim.exponential(opt, { gamma = 0.9 }) end,
  warmup = function(opt) return optim.warmup(opt, 5, optim.cosine(opt, { steps = M.STEPS })) end,
  plateau = function(opt) return optim.plateau(opt, { factor = 0.5, patience = 2 }) end,
}
for name, make in pairs(extra_schedules) do
  M.recipes["schedule_" .. name] = function()
    local X, y = moons()
    local model = nn.MLP(2, { 8, 1 })
    local opt = optim.SGD(model, { lr = 0.1, momentum = 0.9 })
    return trainer(model, X, y, opt, make(opt))
  end
end

-- a warmup into a plateau driven by the validation loss (stepped at the
-- evaluations), compiled mini-batches, dropout-free cross-entropy
M.recipes.compiled_plateau_validation = function()
  local X, y = data.make_blobs(45, { centers = 3, seed = 4 })
  local model = nn.MLP(2, { 8, 3 })
  local opt = optim.Adam(model, { lr = 0.1 })
  return trainer(model, X, y, opt, optim.warmup(opt, 4, optim.plateau(opt, { factor = 0.5, patience = 0 })),
    { compile = true, batch_size = 9, validation = 0.2, validate_every = 2, restore_best = true })
end

--- The objects of a recipe, built from the engine generator seeded with seed.
function M.build(name, seed)
  mg.seed(seed)
  return M.recipes[name]()
end

--- Every parameter and every number of the history as exact text (check.exact), one per line.
function M.fingerprint(objs)
  local lines = {}
  for i, p in ipairs(objs.model:parameters()) do
    lines[#lines + 1] = "p" .. i .. " " .. check.exact(p.data)
  end
  local h = objs.trainer.history
  for _, name in ipairs({ "loss", "accuracy", "val_loss", "val_accuracy", "val_step" }) do
    for i, x in ipairs(h[name] or {}) do lines[#lines + 1] = name .. i .. " " .. check.exact(x) end
  end
  lines[#lines + 1] = "best_step " .. tostring(h.best_step)
  lines[#lines + 1] = "steps " .. objs.trainer.step_count
  lines[#lines + 1] = "rng " .. mg.get_rng_state()
  return table.concat(lines, "\n")
end

return M
