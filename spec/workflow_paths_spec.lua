-- The everyday workflow on both paths: every fit option of SPEC's workflow
-- section (validation, patience, restore_best, the new schedules, every
-- loss, mini-batches) gives the same bits dynamically and with compile =
-- true; plateau is driven by the validation loss when there is one; errors
-- (checkpoints written by fit, compiling dropout, predict/evaluate given a
-- loss that does not suit the model) blame the caller's line.
local mg = require("micrograd")
local check = require("spec.helpers.check")

local train, nn, optim, data = mg.train, mg.nn, mg.optim, mg.data
local mentions = check.assert_mentions
local format = string.format

-- The error of fn() raised at this file's line: its message without the position.
local function error_here(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "no error")
  assert.matches("^[^:]*workflow_paths_spec%.lua:%d+: ", err)
  return (err:gsub("^[^:]*:%d+: ", ""))
end

-- Every parameter as exact text.
local function params_of(model)
  local t = {}
  for i, p in ipairs(model:parameters()) do t[i] = check.bits(p.data + 0.0) end
  return t
end

-- Every number of a history as exact text (-0 and 0 alike).
local function history_of(h)
  local t = {}
  for _, name in ipairs({ "loss", "accuracy", "val_loss", "val_accuracy", "val_step" }) do
    for i, x in ipairs(h[name] or {}) do t[#t + 1] = format("%s%d %s", name, i, check.bits(x)) end
  end
  t[#t + 1] = "best_step " .. tostring(h.best_step)
  return t
end

-- Data, a model and a target width for each loss.
local SETUPS = {
  svm = function()
    local X, y = data.make_moons(48, { noise = 0.2, seed = 1 })
    return X, y, nn.MLP(2, { 8, 1 })
  end,
  bce = function()
    local X, y = data.make_moons(48, { noise = 0.2, seed = 2 })
    return X, y, nn.MLP(2, { 8, 1 })
  end,
  cross_entropy = function()
    local X, y = data.make_blobs(48, { centers = 3, seed = 4 })
    return X, y, nn.MLP(2, { 8, 3 })
  end,
  mse = function()
    local X, y = {}, {}
    for i = 1, 48 do
      local x = (i - 24) / 8
      X[i], y[i] = { x }, math.sin(x)
    end
    return X, y, nn.MLP(1, { 8, 1 }, { activation = "tanh" })
  end,
}

-- The schedules of the workflow section, over an optimizer.
local SCHEDULES = {
  exponential = function(opt) return optim.exponential(opt, { gamma = 0.97 }) end,
  warmup = function(opt) return optim.warmup(opt, 4, optim.cosine(opt, { steps = 40 })) end,
  plateau = function(opt) return optim.plateau(opt, { factor = 0.5, patience = 1 }) end,
  warmup_plateau = function(opt)
    return optim.warmup(opt, 3, optim.plateau(opt, { factor = 0.5, patience = 0 }))
  end,
}

-- fit with a loss, a schedule and options, from seed 11, on one path.
local function run(loss, schedule, compile, extra)
  mg.seed(11)
  local X, y, model = SETUPS[loss]()
  extra = extra or {}
  local opt = optim.Adam(model, { lr = extra.lr or 0.15 })
  local opts = { loss = loss, optimizer = opt, schedule = SCHEDULES[schedule](opt), steps = 90,
    batch_size = 9, validation = 0.25, validate_every = 3, patience = 5, restore_best = true,
    compile = compile, progress = false }
  for k, v in pairs(extra) do
    if k ~= "lr" then opts[k] = v end
  end
  local history, t = train.fit(model, X, y, opts)
  return { history = history_of(history), params = params_of(model), steps = t.step_count,
    reason = tostring(t.stop_reason), lr = check.bits(opt.lr), raw = history, trainer = t, model = model }
end

describe("fit on both paths", function()
  for _, loss in ipairs({ "svm", "bce", "cross_entropy", "mse" }) do
    for _, schedule in ipairs({ "exponential", "warmup", "plateau", "warmup_plateau" }) do
      it(format("%s, %s, mini-batches, validation, patience, restore_best: the same bits", loss, schedule),
        function()
          local dynamic = run(loss, schedule, false)
          local compiled = run(loss, schedule, true)
          assert.same(dynamic.history, compiled.history)
          assert.same(dynamic.params, compiled.params)
          assert.equal(dynamic.steps, compiled.steps)
          assert.equal(dynamic.reason, compiled.reason)
          assert.equal(dynamic.lr, compiled.lr)
          -- the best weights are back: evaluate gives the best validation loss
          local h, t = compiled.raw, compiled.trainer
          local r = train.evaluate(compiled.model, t.validation[1], t.validation[2], { loss = loss })
          assert.equal(t.best_val_loss, r.loss)
          for i, k in ipairs(h.val_step) do
            if k == h.best_step then assert.equal(h.val_loss[i], r.loss) end
          end
        end)
    end
  end

  it("stops early on both paths at the same step", function()
    local stops = {}
    for _, compile in ipairs({ false, true }) do
      local r = run("cross_entropy", "exponential", compile, { lr = 0.5, patience = 2, steps = 400 })
      assert.equal("early stopping", r.reason)
      assert.is_true(r.steps < 400)
      stops[#stops + 1] = r.steps
    end
    assert.equal(stops[1], stops[2])
  end)
end)

describe("a plateau schedule in fit", function()
  -- fit with a plateau whose step() records the losses it is given.
  local function spied(opts, warm)
    mg.seed(3)
    local X, y = data.make_moons(40, { noise = 0.2, seed = 3 })
    local model = nn.MLP(2, { 6, 1 })
    local opt = optim.SGD(model, { lr = 0.2 })
    local plateau = optim.plateau(opt, { factor = 0.5, patience = 1 })
    local seen = {}
    local step = plateau.step
    plateau.step = function(self, loss)
      seen[#seen + 1] = loss
      return step(self, loss)
    end
    local schedule = warm and optim.warmup(opt, warm, plateau) or plateau
    local o = { optimizer = opt, schedule = schedule, steps = 30, batch_size = 10, progress = false }
    for k, v in pairs(opts) do o[k] = v end
    local history = train.fit(model, X, y, o)
    return seen, history, opt
  end

  it("gets each step's training loss without a validation set", function()
    local seen, history = spied({})
    assert.same(history.loss, seen)
  end)

  for _, compile in ipairs({ false, true }) do
    it("gets each evaluation's validation loss with one, and only then" .. (compile and " (compiled)" or ""),
      function()
        local seen, history = spied({ validation = 0.25, validate_every = 4, compile = compile })
        assert.equal(8, #history.val_loss) -- steps 4, 8, ..., 28 and the last
        assert.same(history.val_loss, seen)
      end)
  end

  it("after a warmup: the warmup counts steps, then the plateau gets the validation losses", function()
    local seen, history, opt = spied({ validation = 0.25, validate_every = 4 }, 10)
    -- evaluations at steps 12, 16, ..., 28, 30 come after the warmup's 10 steps
    local after = {}
    for i, k in ipairs(history.val_step) do
      if k >= 10 then after[#after + 1] = history.val_loss[i] end
    end
    assert.same(after, seen)
    assert.is_true(opt.lr <= 0.2)
  end)

  it("leaves the other schedules stepped once a step", function()
    mg.seed(3)
    local X, y = data.make_moons(40, { noise = 0.2, seed = 3 })
    local model = nn.MLP(2, { 6, 1 })
    local opt = optim.SGD(model, { lr = 0.2 })
    local cosine = optim.cosine(opt, { steps = 30, to = 0.01 })
    train.fit(model, X, y, { optimizer = opt, schedule = cosine, steps = 30, validation = 0.25,
      progress = false })
    assert.equal(cosine:lr(30), opt.lr)
    assert.equal(0.01, opt.lr)
  end)

  it("is asked through uses_loss()", function()
    local opt = optim.SGD({ mg.Value(1) }, { lr = 0.1 })
    assert.is_true(optim.plateau(opt, {}):uses_loss())
    local w = optim.warmup(opt, 2, optim.plateau(opt, {}))
    assert.is_false(w:uses_loss())
    w:step(1)
    w:step(1)
    assert.is_true(w:uses_loss())
    assert.is_false(optim.warmup(opt, 1, optim.cosine(opt, { steps = 5 })):uses_loss())
    assert.is_nil(rawget(optim.cosine(opt, { steps = 5 }), "uses_loss"))
  end)
end)

describe("workflow errors blame the caller's line", function()
  it("fit's checkpoint that cannot be written: the step, and nothing about train.lua", function()
    mg.seed(1)
    local X, y = data.make_moons(20, { seed = 1 })
    local model = nn.MLP(2, { 4, 1 })
    local path = "/nonexistent-dir-mg/checkpoint.json"
    local msg = error_here(function()
      train.fit(model, X, y, { steps = 6, checkpoint = path, checkpoint_every = 2, progress = false })
    end)
    mentions(msg, "fit: cannot write checkpoint", path, "at step 2")
    -- on a terminal the bar's line is ended before the message
    local f = io.tmpfile()
    error_here(function()
      train.fit(model, X, y, { steps = 6, checkpoint = path, checkpoint_every = 2, progress = f,
        terminal = true })
    end)
    f:seek("set")
    local text = f:read("*a")
    f:close()
    assert.truthy(text:find("\n$"), text)
  end)

  it("fit and Trainer with compile = true and a Dropout in training mode", function()
    mg.seed(2)
    local X, y = data.make_moons(20, { seed = 1 })
    local model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))
    local state = mg.get_rng_state()
    mentions(error_here(function()
      train.fit(model, X, y, { compile = true, batch_size = 5, progress = false })
    end), "bad argument #4 to 'fit' (option 'compile': Dropout in training mode cannot be compiled")
    mentions(error_here(function() train.Trainer(model, X, y, { compile = true }) end),
      "bad argument #4 to 'Trainer' (option 'compile': Dropout in training mode cannot be compiled")
    assert.equal(state, mg.get_rng_state()) -- the check draws nothing
    -- in evaluation mode it compiles, and trains as the dynamic path does
    model:eval()
    local saved = model:state()
    mg.seed(5) -- the same shuffles
    local h1 = train.fit(model, X, y, { compile = true, batch_size = 5, steps = 8, progress = false })
    model:load_state(saved)
    mg.seed(5)
    local h2 = train.fit(model, X, y, { batch_size = 5, steps = 8, progress = false })
    assert.same(history_of(h2), history_of(h1))
  end)

  it("predict and evaluate given a loss that does not suit the model's width", function()
    mg.seed(1)
    local X, y = data.make_blobs(12, { centers = 3, seed = 1 })
    local three, one = nn.MLP(2, { 4, 3 }), nn.MLP(2, { 4, 1 })
    assert.equal("bad argument #3 to 'predict' (option 'loss': 'svm' needs a model with one output, " ..
      "but the model has 3 outputs)", error_here(function() train.predict(three, X, { loss = "svm" }) end))
    assert.equal("bad argument #4 to 'evaluate' (option 'loss': 'bce' needs a model with one output, " ..
      "but the model has 3 outputs)",
      error_here(function() train.evaluate(three, X, y, { loss = "bce" }) end))
    assert.equal("bad argument #3 to 'predict' (option 'loss': 'cross_entropy' needs a model with one " ..
      "output per class (2 or more), but the model has 1 output)",
      error_here(function() train.predict(one, X, { loss = "cross_entropy" }) end))
    mentions(error_here(function() train.predict(one, X, { los = "svm" }) end),
      "bad argument #3 to 'predict' (unknown option 'los')")
    -- mse takes any width
    assert.equal(#X, #train.predict(three, X, { loss = "mse" }))
  end)
end)

describe("evaluate and loss_curve with every loss", function()
  it("binary labels -1/1 and bce: the same confusion rows as 0/1", function()
    mg.seed(4)
    local X, y = data.make_moons(30, { noise = 0.2, seed = 4 })
    local model = nn.MLP(2, { 6, 1 })
    train.fit(model, X, y, { steps = 20, progress = false })
    local r01 = train.evaluate(model, X, y)
    local r11 = train.evaluate(model, X, data.signs(y))
    assert.same(r01.confusion, r11.confusion)
    assert.equal(r01.loss, r11.loss)
    local rb = train.evaluate(model, X, y, { loss = "bce" })
    assert.equal(r01.accuracy, rb.accuracy)
    local outputs = {}
    mg.no_grad(function()
      for i = 1, #X do outputs[i] = model(X[i]) end
    end)
    assert.equal(mg.loss.bce_logits(outputs, y).data, rb.loss)
  end)

  it("loss_curve draws a fit with mse (no accuracy) and its validation loss", function()
    local r = run("mse", "exponential", true)
    assert.equal(0, #r.raw.accuracy)
    local svg = mg.viz.loss_curve(r.raw)
    mentions(svg, ">loss<", ">val loss<")
    assert.is_nil(svg:find("accuracy", 1, true))
  end)
end)

describe("softmax compiled", function()
  it("gives the dynamic bits, forward and backward", function()
    local w = mg.Value(0.5)
    local g = mg.compile(function(a, b, c)
      local p = mg.softmax({ a * w, b, c })
      return p[1] * 3 + p[2], p[3]
    end, 3)
    for _, xs in ipairs({ { 0, 0, 0 }, { 900, -900, 3 }, { -2, 5, 5 } }) do
      w.grad = 0
      local p = mg.softmax({ mg.Value(xs[1]) * w, xs[2], xs[3] })
      local out = p[1] * 3 + p[2]
      out:backward()
      local want = w.grad
      w.grad = 0
      local o1, o2 = g(xs[1], xs[2], xs[3])
      assert.equal(check.bits(out.data), check.bits(o1))
      assert.equal(check.bits(p[3].data), check.bits(o2))
      g:backward()
      assert.equal(check.bits(want), check.bits(w.grad))
    end
  end)
end)

describe("fit{checkpoint, checkpoint_every, resume} compiled", function()
  it("resumes a compiled cross-entropy fit (validation, plateau, restore_best) to the uninterrupted bits",
    function()
      local path = os.tmpname()
      local function go(compile, opts)
        mg.seed(21)
        local X, y = data.make_blobs(45, { centers = 3, seed = 5 })
        local model = nn.MLP(2, { 8, 3 })
        local opt = optim.Adam(model, { lr = 0.1 })
        local o = { optimizer = opt, schedule = optim.plateau(opt, { factor = 0.5, patience = 0 }),
          steps = 30, batch_size = 8, validation = 0.2, validate_every = 3, restore_best = true,
          compile = compile, progress = false }
        for k, v in pairs(opts or {}) do o[k] = v end
        local history = train.fit(model, X, y, o)
        return history_of(history), params_of(model), check.bits(opt.lr)
      end
      local h0, p0, lr0 = go(false)
      local h1, p1, lr1 = go(true)
      assert.same(h0, h1)
      assert.same(p0, p1)
      assert.equal(lr0, lr1)
      -- stopped by on_step after step 17: the checkpoint of step 15 is on disk
      go(true, { checkpoint = path, checkpoint_every = 5, on_step = function(k) return k < 17 end })
      mg.seed(999)
      local h2, p2, lr2 = go(true, { resume = path })
      os.remove(path)
      assert.same(h0, h2)
      assert.same(p0, p2)
      assert.equal(lr0, lr2)
    end)
end)

describe("Trainer:load_state of a training restore_best ended", function()
  it("takes up the last weights when it goes on, keeps the best when it is done, refuses bad ones", function()
    mg.seed(8)
    local X, y = data.make_moons(30, { noise = 0.3, seed = 8 })
    local function make(steps)
      mg.seed(8)
      local model = nn.MLP(2, { 6, 1 })
      return train.Trainer(model, X, y, { steps = steps, lr = 0.5, validation = 0.3, validate_every = 2,
        restore_best = true, on_step = function(k) return k ~= 9 end }), model
    end
    local t, model = make(20)
    t:run()
    assert.is_true(t.restored and t.stop_reason == "on_step")
    local state = t:state()
    assert.equal(#model:parameters(), #state.last_parameters)
    local best = params_of(model)
    -- goes on: the last weights are back
    local t2, model2 = make(20)
    t2:load_state(state)
    assert.is_false(t2.done)
    for i, p in ipairs(model2:parameters()) do assert.equal(state.last_parameters[i], p.data) end
    -- a state with a wrong number of last weights changes nothing
    local bad = t:state()
    bad.last_parameters[#bad.last_parameters] = nil
    local t3, model3 = make(20)
    local before = params_of(model3)
    mentions(error_here(function() t3:load_state(bad) end), "bad argument #1 to 'load_state' (field " ..
      "'last_parameters': " .. #state.last_parameters .. " numbers expected, got " .. #bad.last_parameters)
    assert.same(before, params_of(model3))
    -- done (the steps all made): the model keeps what it has
    local t4, model4 = make(9)
    t4:load_state(state)
    assert.is_true(t4.done)
    assert.are_not.same(best, params_of(model4)) -- model4's own weights, untouched
  end)
end)

describe("predict and evaluate on a model with Dropout in training mode", function()
  it("run it in evaluation mode (no draw from the generator) and leave it in training mode", function()
    mg.seed(6)
    local X, y = data.make_blobs(30, { centers = 3, seed = 6 })
    local model = nn.Sequential(nn.Linear(2, 12), nn.ReLU(), nn.Dropout(0.5), nn.Linear(12, 3))
    train.fit(model, X, y, { optimizer = optim.Adam(model, { lr = 0.05 }), steps = 20, progress = false })
    assert.is_true(model.training)
    local state = mg.get_rng_state()
    local labels, probs = train.predict(model, X)
    local r = train.evaluate(model, X, y)
    assert.equal(state, mg.get_rng_state())
    assert.is_true(model.training)
    model:eval()
    local labels2, probs2 = train.predict(model, X)
    assert.same(labels2, labels)
    assert.same(probs2, probs)
    assert.same(train.evaluate(model, X, y), r)
    -- and a compiled graph of the model in evaluation mode agrees
    local g = mg.compile(function(a, b) return model({ a, b }) end, 2)
    assert.same(labels, (train.predict(g, X)))
  end)
end)

describe("fit compiled also", function()
  it("stops a diverging training as the dynamic path does, at the same step", function()
    local steps = {}
    for _, compile in ipairs({ false, true }) do
      mg.seed(1)
      local X, y = {}, {}
      for i = 1, 10 do X[i], y[i] = { i }, 1e100 * i end
      local model = nn.MLP(1, { 4, 1 })
      local t = train.Trainer(model, X, y, { loss = "mse", steps = 50, lr = 1, batch_size = 5,
        compile = compile })
      t:run()
      assert.equal("diverged", t.stop_reason)
      steps[#steps + 1] = t.diverged
      for _, p in ipairs(model:parameters()) do
        assert.is_true(p.data == p.data and math.abs(p.data) < math.huge)
      end
      mg.seed(1)
      mentions(error_here(function()
        train.fit(nn.MLP(1, { 4, 1 }), X, y, { loss = "mse", steps = 50, lr = 1, compile = compile,
          progress = false })
      end), "fit: the loss became ", "mg.detect_anomaly()")
    end
    assert.equal(steps[1], steps[2])
  end)

  it("accepts steps = math.huge, ended by patience", function()
    mg.seed(2)
    local X, y = data.make_moons(40, { noise = 0.3, seed = 2 })
    local model = nn.MLP(2, { 8, 1 })
    local history, t = train.fit(model, X, y, { steps = math.huge, compile = true, batch_size = 10,
      optimizer = optim.Adam(model, { lr = 0.2 }), validation = 0.25, patience = 3, progress = false })
    assert.equal("early stopping", t.stop_reason)
    assert.equal(#history.loss, t.step_count)
  end)
end)
