-- The everyday workflow of micrograd.train: predict, evaluate, validation,
-- early stopping, best weights, trainings that never end, divergence, a
-- model whose width does not suit the labels, and a progress bar that fits
-- the terminal (checked in a real one with tmux when it is installed).
local mg = require("micrograd")
local check = require("spec.helpers.check")
local bounds = require("spec.helpers.bounds")

local train, nn, optim, data = mg.train, mg.nn, mg.optim, mg.data
local error_of, mentions = check.error_of, check.assert_mentions
local format = string.format

local runner, quote = check.runner, check.shell_quote

local function blobs(n, seed)
  return data.make_blobs(n or 60, { centers = 3, seed = seed or 2 })
end

local function trained_blobs(opts)
  mg.seed(5)
  local X, y = blobs()
  local model = nn.MLP(2, { 8, 3 })
  local o = { loss = "cross_entropy", optimizer = optim.Adam(model, { lr = 0.05 }), steps = 60,
    progress = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.lr then o.optimizer = nil end
  local history, trainer = train.fit(model, X, y, o)
  return model, X, y, history, trainer
end

describe("predict", function()
  it("gives classes 1..k and softmax probabilities for several outputs", function()
    local model, X, y = trained_blobs()
    local labels, probs = train.predict(model, X)
    assert.equal(#X, #labels)
    local right = 0
    for i = 1, #X do
      local p = probs[i]
      assert.equal(3, #p)
      check.assert_near(1, p[1] + p[2] + p[3], 1e-12)
      -- the label is the most probable class, and the largest output
      local out = mg.no_grad(model, X[i])
      local best = 1
      for j = 2, 3 do
        if out[j].data > out[best].data then best = j end
      end
      assert.equal(best, labels[i])
      assert.is_true(p[best] >= p[1] and p[best] >= p[2] and p[best] >= p[3])
      -- softmax: p_j / p_1 = exp(z_j - z_1)
      check.assert_near(math.exp(out[2].data - out[1].data), p[2] / p[1], 1e-12)
      if labels[i] == y[i] then right = right + 1 end
    end
    assert.is_true(right / #X > 0.75, "accuracy " .. right / #X)
  end)

  it("gives 0/1 and P(class 1) for one output, and the outputs for 'mse'", function()
    mg.seed(3)
    local X, y = data.make_moons(30, { noise = 0.1, seed = 1 })
    local model = nn.MLP(2, { 8, 1 })
    train.fit(model, X, y, { loss = "bce", steps = 40, lr = 0.5, progress = false })
    local labels, probs = train.predict(model, X)
    for i = 1, #X do
      local z = mg.no_grad(model, X[i]).data
      assert.equal(z > 0 and 1 or 0, labels[i])
      check.assert_near(1 / (1 + math.exp(-z)), probs[i], 1e-12)
    end
    model:zero_grad()
    local values, none = train.predict(model, X, { loss = "mse" })
    assert.is_nil(none)
    assert.equal(mg.no_grad(model, X[4]).data, values[4])
    -- no graph was made: nothing to backward into the parameters
    assert.equal(0, model:parameters()[1].grad)
  end)

  it("works with a compiled graph as the model, with the same answers", function()
    local model, X, y = trained_blobs({ compile = true })
    local g = mg.compile(function(a, b) return model({ a, b }) end, 2)
    local l1, p1 = train.predict(model, X)
    local l2, p2 = train.predict(g, X)
    assert.same(l1, l2)
    assert.equal(train.evaluate(model, X, y).loss, train.evaluate(g, X, y).loss)
    for i = 1, #X do
      for j = 1, 3 do check.assert_near(p1[i][j], p2[i][j], 1e-12) end
    end
  end)

  it("says what is wrong", function()
    mentions(error_of(train.predict, 42, {}),
      "bad argument #1 to 'predict' (model (a module or function) expected")
    mentions(error_of(train.predict, nn.MLP(2, { 1 }), 7),
      "bad argument #2 to 'predict' (array of inputs expected")
    mentions(error_of(train.predict, nn.MLP(2, { 1 }), { { 1, 2 } }, { loss = "hinge" }),
      "bad argument #3 to 'predict' (option 'loss': 'svm', 'bce', 'cross_entropy' or 'mse' expected, " ..
      "got 'hinge')")
    mentions(error_of(train.predict, nn.MLP(2, { 1 }), { { 1, 2 } }, { los = "svm" }), "unknown option 'los'")
    assert.same({}, (train.predict(nn.MLP(2, { 1 }), {})))
  end)
end)

describe("evaluate", function()
  it("returns the loss, the accuracy and the confusion matrix (rows: true class)", function()
    local model, X, y = trained_blobs()
    local r = train.evaluate(model, X, y)
    local labels = train.predict(model, X)
    local right, counts = 0, { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } }
    for i = 1, #X do
      if labels[i] == y[i] then right = right + 1 end
      counts[y[i]][labels[i]] = counts[y[i]][labels[i]] + 1
    end
    assert.equal(right / #X, r.accuracy)
    assert.same(counts, r.confusion)
    -- the loss is the training loss on these samples
    local outputs = {}
    mg.no_grad(function()
      for i = 1, #X do outputs[i] = model(X[i]) end
    end)
    assert.equal(mg.loss.cross_entropy(outputs, y).data, r.loss)
  end)

  it("binary labels: a 2 x 2 matrix (row 1 is class 0), the svm loss by default", function()
    mg.seed(3)
    local X, y = data.make_moons(30, { noise = 0.1, seed = 1 })
    local model = nn.MLP(2, { 8, 1 })
    train.fit(model, X, y, { steps = 30, progress = false })
    local r = train.evaluate(model, X, y)
    local c = r.confusion
    assert.equal(2, #c)
    local zeros, ones = 0, 0
    for i = 1, #y do
      if y[i] == 0 then zeros = zeros + 1 else ones = ones + 1 end
    end
    assert.equal(zeros, c[1][1] + c[1][2])
    assert.equal(ones, c[2][1] + c[2][2])
    assert.equal((c[1][1] + c[2][2]) / #y, r.accuracy)
    local outputs = {}
    mg.no_grad(function()
      for i = 1, #X do outputs[i] = model(X[i]) end
    end)
    assert.equal(mg.loss.svm(outputs, data.signs(y)).data, r.loss)
    -- mse: a loss only
    local m = train.evaluate(model, X, y, { loss = "mse" })
    assert.is_nil(m.accuracy)
    assert.is_nil(m.confusion)
  end)

  it("refuses labels the model cannot give", function()
    local model, X = trained_blobs()
    local y = {}
    for i = 1, #X do y[i] = 4 end
    mentions(error_of(train.evaluate, model, X, y),
      "bad argument #3 to 'evaluate' (class 4 at index 1, but the model " ..
      "has 3 outputs)")
    mentions(error_of(train.evaluate, model, X, { 1 }),
      "bad argument #3 to 'evaluate' (array of 60 labels expected")
  end)
end)

describe("validation", function()
  it("records val_loss, val_accuracy and best_step, once an epoch by default", function()
    mg.seed(5)
    local X, y = blobs(60, 2)
    local Xv, yv = blobs(30, 9)
    local model = nn.MLP(2, { 8, 3 })
    local history, t = train.fit(model, X, y, { optimizer = optim.Adam(model, { lr = 0.05 }), steps = 20,
      batch_size = 20, validation = { Xv, yv }, progress = false })
    assert.equal(3, t.steps_per_epoch)
    assert.same({ 3, 6, 9, 12, 15, 18, 20 }, history.val_step) -- and the last step
    assert.equal(7, #history.val_loss)
    assert.equal(7, #history.val_accuracy)
    local best = 1
    for i = 2, 7 do
      if history.val_loss[i] < history.val_loss[best] then best = i end
    end
    assert.equal(history.val_step[best], history.best_step)
    -- the last one is evaluate's answer on the validation set
    local r = train.evaluate(model, Xv, yv)
    assert.equal(r.loss, history.val_loss[7])
    assert.equal(r.accuracy, history.val_accuracy[7])
  end)

  it("holds out a seeded fraction, the same one every time", function()
    local _, _, _, h1, t1 = trained_blobs({ validation = 0.25, steps = 5 })
    local _, _, _, h2, t2 = trained_blobs({ validation = 0.25, steps = 5 })
    assert.equal(15, #t1.validation[1])
    assert.equal(45, #t1.X)
    assert.same(t1.validation[2], t2.validation[2])
    assert.same(h1.val_loss, h2.val_loss)
    local _, _, _, _, t3 = trained_blobs({ validation = 0.25, steps = 5, seed = 8 })
    assert.are_not.same(t1.validation[2], t3.validation[2])
  end)

  it("stops after `patience` evaluations without a better loss, and restores the best weights", function()
    -- a learning rate that overshoots: the validation loss goes up after a while
    local model, _, _, history, t = trained_blobs({ validation = 0.3, patience = 3, restore_best = true,
      steps = 500, lr = 3.0 })
    assert.is_true(t.stopped)
    assert.equal("early stopping", t.stop_reason)
    local n = #history.val_loss
    assert.is_true(n < 500)
    -- the last three evaluations were no better than the best
    for i = n - 2, n do assert.is_true(history.val_loss[i] >= history.val_loss[n - 3]) end
    assert.equal(history.val_step[n - 3], history.best_step)
    -- the model holds the best step's weights: its validation loss is the best one
    local r = train.evaluate(model, t.validation[1], t.validation[2])
    assert.equal(history.val_loss[n - 3], r.loss)
    assert.is_true(t.restored)
  end)

  it("works on the compiled path with mini-batches too", function()
    mg.seed(3)
    local X, y = data.make_moons(40, { noise = 0.1, seed = 1 })
    local model = nn.MLP(2, { 8, 1 })
    local history = train.fit(model, X, y, { compile = true, batch_size = 8, steps = 15, lr = 0.3,
      validation = 0.25, validate_every = 5, progress = false })
    assert.same({ 5, 10, 15 }, history.val_step)
    assert.is_true(history.val_accuracy[3] > 0.6)
  end)

  it("checks its options", function()
    local X, y = blobs()
    local model = nn.MLP(2, { 3 })
    local function fit_error(opts)
      opts.progress = false
      return error_of(train.fit, model, X, y, opts)
    end
    mentions(fit_error({ validation = 1.5 }),
      "option 'validation': {X, y} or a fraction in (0, 1) expected, got 1.5")
    mentions(fit_error({ validation = "x" }), "option 'validation': {X, y} or a fraction in (0, 1) expected")
    mentions(fit_error({ validation = { X } }), "option 'validation': array of labels expected, got nil (y)")
    mentions(fit_error({ validation = { X, { 1, 2 } } }), "option 'validation': array of 60 labels expected")
    local yv = {}
    for i = 1, #X do yv[i] = 5 end
    mentions(fit_error({ validation = { X, yv } }),
      "option 'validation': the labels have 5 classes (1..5) but the model has 3 outputs")
    mentions(fit_error({ patience = 3 }), "option 'patience' needs option 'validation'")
    mentions(fit_error({ restore_best = true }), "option 'restore_best' needs option 'validation'")
    mentions(fit_error({ validation = 0.2, patience = 0 }),
      "option 'patience': positive integer expected, got 0")
    mentions(fit_error({ validation = 0.2, validate_every = 1.5 }),
      "option 'validate_every': positive integer")
    mentions(fit_error({ validation = 0.99 }), "holding out 60 of 60 samples leaves none to train on")
  end)
end)

describe("fit also", function()
  it("accepts steps = math.huge: a training that other limits end", function()
    mg.seed(1)
    local X, y = data.make_moons(20, { seed = 1 })
    local f = io.tmpfile()
    local history, t = train.fit(nn.MLP(2, { 4, 1 }), X, y, { steps = math.huge, progress = f,
      terminal = false,
      on_step = function(k) return k < 250 end })
    assert.equal(250, #history.loss)
    assert.equal(math.huge, t.total_steps)
    f:seek("set")
    local text = f:read("*a")
    f:close()
    assert.truthy(text:find("^step 1  loss"), text)
    assert.truthy(text:find("\nstep 201  loss"), text)
    assert.truthy(text:find("\nstep 250  loss [^\n]*\n$"), text)
    -- a Trainer too, in slices; and the live bar has no total, no bar
    local trainer = train.Trainer(nn.MLP(2, { 4, 1 }), X, y, { epochs = math.huge, history = false })
    assert.is_false(trainer:run(30))
    assert.equal(30, trainer.step_count)
    assert.truthy(tostring(trainer):find("^Trainer %(30/inf steps, epoch 30, loss "), tostring(trainer))
    local g = io.tmpfile()
    train.fit(nn.MLP(2, { 4, 1 }), X, y, { steps = math.huge, progress = g, terminal = true,
      on_step = function(k) return k < 5 end })
    g:seek("set")
    local bar = g:read("*a")
    g:close()
    assert.truthy(bar:find("\r5  loss [^\r]*done in"), bar)
  end)

  it("stops a diverging training and says so, pointing at mg.detect_anomaly", function()
    mg.seed(1)
    local X, y = {}, {}
    for i = 1, 10 do X[i], y[i] = { i }, 1e100 * i end
    local model = nn.MLP(1, { 4, 1 })
    local err = error_of(train.fit, model, X, y, { loss = "mse", steps = 50, lr = 1, progress = false })
    mentions(err, "fit: the loss became ", " at step ", "so the training stopped",
      "mg.detect_anomaly()")
    -- the Trainer stops too, before the optimizer uses the step's gradients
    mg.seed(1)
    model = nn.MLP(1, { 4, 1 })
    local t = train.Trainer(model, X, y, { loss = "mse", steps = 50, lr = 1 })
    local before
    t:run({ steps = 50 })
    assert.is_true(t.done and t.stopped)
    assert.equal("diverged", t.stop_reason)
    assert.equal(t.step_count, t.diverged)
    for _, p in ipairs(model:parameters()) do
      before = p.data
      assert.is_true(before == before and before ~= math.huge and before ~= -math.huge)
    end
  end)
end)

describe("the progress bar", function()
  -- The live bar of a fit run by the runner, on a terminal of `cols` columns
  -- given by $COLUMNS: each redraw, as written.
  local function redraws(cols, opts)
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(format([[
      local mg = require("micrograd")
      mg.seed(1)
      local X, y = mg.data.make_blobs(60, { centers = 3, seed = 2 })
      local model = mg.nn.MLP(2, { 8, 3 })
      local ticks = 0
      mg.train.fit(model, X, y, { steps = 400, terminal = true, %s
        clock = function() ticks = ticks + 1; return ticks * 0.07 end })
    ]], opts or ""))
    f:close()
    local p = assert(io.popen(format("COLUMNS=%d %s %s", cols, quote(runner), quote(script))))
    local out = p:read("*a")
    assert.truthy(p:close(), out)
    os.remove(script)
    local draws = {}
    for line in out:gmatch("\r([^\r]*)") do draws[#draws + 1] = (line:gsub("\27%[K", ""):gsub("\n$", "")) end
    return draws
  end

  for _, case in ipairs({ { 120, "steps/s", "accuracy" }, { 80, "accuracy" }, { 50, "acc " }, { 40, "loss" },
    { 20, "loss" } }) do
    local cols = case[1]
    it(format("fits in %d columns", cols), function()
      local draws = redraws(cols, cols < 60 and "validation = 0.2," or nil)
      assert.is_true(#draws > 3)
      for _, d in ipairs(draws) do
        assert.is_true(#d < math.max(cols, 40), format("%d characters in %d columns: %q", #d, cols, d))
        for i = 2, #case do mentions(d, case[i]) end
      end
      mentions(draws[#draws], "400/400")
    end)
  end

  -- A real terminal: tmux at 120, 80 and 50 columns; nothing may wrap.
  local has_tmux = os.execute("command -v tmux >/dev/null 2>&1")
  local describe_tmux = has_tmux and describe or pending
  describe_tmux("in tmux", function()
    for _, cols in ipairs({ 120, 80, 50 }) do
      it(format("at %d columns: one line that never wraps", cols), function()
        local script, out = os.tmpname(), os.tmpname()
        local f = assert(io.open(script, "w"))
        f:write([[
          local mg = require("micrograd")
          mg.seed(1)
          local X, y = mg.data.make_moons(200, { noise = 0.1, seed = 1 })
          local model = mg.nn.MLP(2, { 16, 16, 1 })
          mg.train.fit(model, X, y, { steps = 150, validation = 0.2, batch_size = 32 })
          io.write("FINISHED\n")
        ]])
        f:close()
        local session = "mg_progress_" .. cols .. "_" .. tostring(os.time())
        local scale = math.ceil(bounds.TIME_SCALE)
        local cmd = format("tmux -L %s new-session -d -x %d -y 10 -s %s %s && ", session, cols, session,
          quote("env -u COLUMNS " .. quote(runner) .. " " .. quote(script) .. "; sleep " .. 30 * scale))
        -- poll the pane until the script is done (20 s, times the slow-build factor)
        cmd = cmd .. format("for i in $(seq 1 %d); do tmux -L %s capture-pane -p -t %s > %s; "
          .. "grep -q FINISHED %s && break; sleep 0.1; done; tmux -L %s kill-server",
          200 * scale, session, session, quote(out), quote(out), session)
        assert.truthy(os.execute(cmd))
        local text = io.open(out):read("*a")
        os.remove(script)
        os.remove(out)
        local lines = {}
        for line in text:gmatch("[^\n]*") do
          if line:find("%S") then lines[#lines + 1] = line end
        end
        -- the bar's line and FINISHED: a wrapped bar would leave pieces on more lines
        assert.equal(2, #lines, text)
        mentions(lines[1], "150/150", "done in", "loss")
        assert.is_true(#lines[1] < cols, text)
        assert.equal("FINISHED", lines[2])
      end)
    end
  end)
end)

describe("viz.loss_curve", function()
  it("draws the validation curves too, dashed, at their steps", function()
    local _, _, _, history = trained_blobs({ validation = 0.25, steps = 12, batch_size = 15 })
    assert.same({ 3, 6, 9, 12 }, history.val_step)
    local svg = mg.viz.loss_curve(history)
    local _, dashed = svg:gsub('stroke%-dasharray="7,4"', "")
    assert.equal(2, dashed)
    mentions(svg, ">val loss<", ">val accuracy<", ">loss<", ">accuracy<")
    -- without validation: as before, no dashed line
    local _, _, _, plain = trained_blobs({ steps = 5 })
    assert.is_nil(mg.viz.loss_curve(plain):find("dasharray", 1, true))
    mentions(error_of(mg.viz.loss_curve, { loss = { 1, 2 }, val_loss = { 1 }, val_step = { 1, 2 } }),
      "history.val_step must be an array of 1 steps")
  end)
end)
