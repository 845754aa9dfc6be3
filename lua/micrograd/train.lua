--- Training loops: `fit`, and the `Trainer` that does the work under it.
--
--    local train = require("micrograd.train")
--    local history = train.fit(model, X, y, { loss = "svm", steps = 100 })
--
-- `fit` trains to the end with progress output and returns the history.
-- `Trainer(model, X, y, opts)` is the same training as an object that works in
-- slices: `trainer:step()` is one optimizer step, `trainer:run(budget)` does
-- steps until a budget (steps, samples, seconds) is used up, and the next call
-- resumes exactly where the last one stopped, inside an epoch too. A game loop
-- calls `run` once a frame; `fit` is `Trainer` plus `run()` to the end.
--
-- A step: the model's outputs for one batch (a forward pass), the loss (plus
-- `loss.l2` of the model's parameters when `l2` is set), `optimizer:zero_grad()`,
-- `backward()`, `optimizer:step()`, then `schedule:step()`. The step's accuracy
-- is counted from that same forward pass (as micrograd's demo does), so it
-- describes the parameters before the update. With the whole data set as the
-- batch (the default), the numbers are those of the hand-written loop in the
-- README, bit for bit.
-- @module micrograd.train
local mg = require("micrograd")
local core = require("micrograd.core")
local lossfns = require("micrograd.loss")
local optim = require("micrograd.optim")
local data = require("micrograd.data")
local compiled = require("micrograd.train_compiled")

local is_value, clock_now, isatty = mg.is_value, core.clock, core.isatty
local type, tostring, pairs, getmetatable, setmetatable = type, tostring, pairs, getmetatable, setmetatable
local format, rep, concat = string.format, string.rep, table.concat
local floor, ceil, huge, tointeger = math.floor, math.ceil, math.huge, math.tointeger

local M = {}

-- ---- argument checks -------------------------------------------------------

-- x's type as messages name it.
local function type_name(x)
  if is_value(x) then return "Value" end
  return type(x)
end

-- x as a message shows it: numbers and booleans by value, anything else by type.
local function show(x)
  if type(x) == "number" or type(x) == "boolean" then return tostring(x) end
  if type(x) == "string" then return format("'%s'", x) end
  return type_name(x)
end

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and type(mt.__call) == "function"
end

local function is_count(x)
  return type(x) == "number" and tointeger(x) ~= nil and x >= 1
end

-- Raises "bad argument #arg to 'fname' (msg)" blaming the caller of the
-- function that calls arg_error.
local function arg_error(arg, fname, msg)
  error(format("bad argument #%d to '%s' (%s)", arg, fname, msg), 3)
end

-- Raises the error for a method called on something else than a Trainer.
local function check_self(self, fname, Class)
  if getmetatable(self) ~= Class then
    error(format("calling '%s' on bad self (Trainer expected, got %s)", fname, type_name(self)), 3)
  end
end

-- ---- losses and accuracies -------------------------------------------------

-- The labels a two-class loss trains on, read from y at every use (so that a
-- label edited in place counts from the next step): 1 stays 1, 0 and -1 become neg.
local function live_labels(y, name, neg)
  return setmetatable({}, {
    __index = function(_, k)
      local v = y[k]
      if v == 1 then return 1 end
      if v == 0 or v == -1 then return neg end
      error(format("labels 0/1 or -1/1 expected for loss '%s', got %s at index %s", name, show(v),
        tostring(k)), 0)
    end,
    __len = function() return #y end,
  })
end

-- The labels a loss trains on, from the caller's y (read live): nil and a
-- message when y does not suit the loss.
local function two_labels(y, name, neg)
  local seen = {}
  for i = 1, #y do
    local v = y[i]
    if v ~= 0 and v ~= 1 and v ~= -1 then
      return nil, format("labels 0/1 or -1/1 expected for loss '%s', got %s at index %d", name, show(v), i)
    end
    seen[v] = true
  end
  if seen[0] and seen[-1] then
    return nil, format("labels 0/1 or -1/1 expected for loss '%s', got 0 and -1 both", name)
  end
  return live_labels(y, name, neg)
end

local function one_output(name, outputs)
  local o = outputs[1]
  if type(o) == "table" and not is_value(o) then
    error(format("loss '%s' expects one output per sample (a Value), but the model returned an array of %d",
      name, #o), 0)
  end
end

-- Per built-in loss: `targets(y)` (the labels it trains on, or nil and a
-- message), `fn(outputs, targets)` (a Value) and its accuracy ("sign",
-- "argmax" or false).
local LOSSES = {
  svm = {
    targets = function(y) return two_labels(y, "svm", -1) end, -- 0/1 labels as data.signs maps them
    fn = function(outputs, targets)
      one_output("svm", outputs)
      return lossfns.svm(outputs, targets)
    end,
    accuracy = "sign",
  },
  bce = {
    targets = function(y) return two_labels(y, "bce", 0) end,
    fn = function(outputs, targets)
      one_output("bce", outputs)
      return lossfns.bce_logits(outputs, targets)
    end,
    accuracy = "sign",
  },
  cross_entropy = {
    targets = function(y)
      for i = 1, #y do
        if not is_count(y[i]) then
          return nil, format("classes 1..k expected for loss 'cross_entropy', got %s at index %d",
            show(y[i]), i)
        end
      end
      return y
    end,
    fn = function(outputs, targets)
      if is_value(outputs[1]) or type(outputs[1]) ~= "table" then
        error(format("loss 'cross_entropy' expects an array of logits per sample (a model with k " ..
          "outputs), but the model returned a %s", type_name(outputs[1])), 0)
      end
      return lossfns.cross_entropy(outputs, targets)
    end,
    accuracy = "argmax",
  },
  mse = {
    targets = function(y)
      for i = 1, #y do
        local v = y[i]
        if type(v) ~= "number" and (type(v) ~= "table" or is_value(v)) then
          return nil, format("numbers (or arrays of numbers) expected for loss 'mse', got %s at index %d",
            type_name(v), i)
        end
      end
      return y
    end,
    fn = function(outputs, targets)
      if type(outputs[1]) ~= "table" or is_value(outputs[1]) then return lossfns.mse(outputs, targets) end
      -- several outputs per sample: the mean over every output of every sample
      local preds, flat = {}, {}
      for i = 1, #outputs do
        local o, t = outputs[i], targets[i]
        if type(t) ~= "table" or #t ~= #o then
          error(format("loss 'mse': the model returned %d outputs for sample %d but its target is %s",
            #o, i, type(t) == "table" and format("an array of %d", #t) or type_name(t)), 0)
        end
        for j = 1, #o do
          preds[#preds + 1], flat[#flat + 1] = o[j], t[j]
        end
      end
      return lossfns.mse(preds, flat)
    end,
    accuracy = false,
  },
}
LOSSES.bce_logits = LOSSES.bce

local function number_of(x)
  if is_value(x) then return x.data end
  return x
end

-- Per accuracy kind: whether one output is right about its label.
local CORRECT = {
  sign = function(o, label)
    if type(o) == "table" and not is_value(o) then
      error(format("accuracy 'sign' expects one output per sample, but the model returned an array of %d",
        #o), 0)
    end
    return (number_of(o) > 0) == (label > 0)
  end,
  argmax = function(o, label)
    if type(o) ~= "table" or is_value(o) then
      error(format("accuracy 'argmax' expects an array of outputs per sample, but the model returned a %s",
        type_name(o)), 0)
    end
    local best, top = 1, number_of(o[1])
    for j = 2, #o do
      local v = number_of(o[j])
      if v > top then best, top = j, v end
    end
    return best == label
  end,
}

-- ---- the Trainer -------------------------------------------------------------

local Trainer = {}
Trainer.__index = Trainer

local OPTIONS = {
  loss = true, optimizer = true, lr = true, steps = true, epochs = true, batch_size = true,
  shuffle = true, seed = true, l2 = true, schedule = true, on_step = true, accuracy = true, clock = true,
  compile = true, history = true,
}
local LOSS_NAMES = "'svm', 'mse', 'bce', 'cross_entropy' or a function"
local FIT_OPTIONS = { progress = true, terminal = true }
for name in pairs(OPTIONS) do FIT_OPTIONS[name] = true end

-- A new Trainer, or nil, the argument number and a message.
-- The number of samples in X and y, or nil, 1 (X) or 2 (y) and a message.
local function check_data(X, y)
  if type(X) ~= "table" or is_value(X) then
    return nil, 1, "array of inputs expected, got " .. type_name(X)
  end
  local n = #X
  if n == 0 then return nil, 1, "array of inputs expected, got an empty table" end
  if type(y) ~= "table" or is_value(y) then
    return nil, 2, "array of labels expected, got " .. type_name(y)
  end
  if #y ~= n then
    return nil, 2, format("array of %d labels expected (one per input), got %d", n, #y)
  end
  return n
end

local function new_trainer(model, X, y, opts, allowed)
  if not callable(model) then
    return nil, 1, "model (a module or function) expected, got " .. type_name(model)
  end
  local n, data_arg, why = check_data(X, y)
  if not n then return nil, data_arg + 1, why end
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then return nil, 4, "table of options expected, got " .. type_name(opts) end
  for name in pairs(opts) do
    if not allowed[name] then return nil, 4, format("unknown option '%s'", tostring(name)) end
  end
  local function bad(name, expected)
    return nil, 4, format("option '%s': %s expected, got %s", name, expected, show(opts[name]))
  end

  -- the loss and the labels it trains on
  local loss, loss_name, default_accuracy, targets, targets_of = opts.loss, "function", false, y, nil
  if loss == nil then loss = "svm" end
  if type(loss) == "string" then
    local entry = LOSSES[loss]
    if not entry then
      return nil, 4, format("option 'loss': %s expected, got '%s'", LOSS_NAMES, loss)
    end
    local t, msg = entry.targets(y)
    if not t then
      if opts.loss == nil then msg = msg .. " (the default loss; set option 'loss')" end
      return nil, 3, msg
    end
    loss_name, targets, default_accuracy, loss, targets_of = loss, t, entry.accuracy, entry.fn, entry.targets
  elseif callable(loss) then
    local user = loss
    loss = function(outputs, ys)
      local v = user(outputs, ys)
      if not is_value(v) then
        error("the loss function returned a " .. type_name(v) .. ", expected a Value", 0)
      end
      return v
    end
  else
    return bad("loss", LOSS_NAMES)
  end

  -- how the accuracy is counted
  local accuracy = opts.accuracy
  if accuracy == nil or accuracy == true then
    if accuracy == true and not default_accuracy then
      local which = loss_name == "function" and "a loss function" or "loss '" .. loss_name .. "'"
      return nil, 4, format("option 'accuracy': %s has no accuracy of its own; give 'sign', " ..
        "'argmax' or a function", which)
    end
    accuracy = default_accuracy
  end
  if type(accuracy) == "string" then
    if not CORRECT[accuracy] then return bad("accuracy", "boolean, 'sign', 'argmax' or a function") end
    accuracy = CORRECT[accuracy]
  elseif accuracy ~= false and not callable(accuracy) then
    return bad("accuracy", "boolean, 'sign', 'argmax' or a function")
  end

  -- parameters, optimizer, schedule
  local has_params = type(model) == "table" and type(model.parameters) == "function"
  local l2 = opts.l2
  if l2 ~= nil and not (type(l2) == "number" and l2 >= 0 and l2 < huge) then
    return bad("l2", "finite number >= 0")
  end
  if l2 == 0 then l2 = nil end
  local optimizer = opts.optimizer
  if optimizer ~= nil then
    if opts.lr ~= nil then return nil, 4, "options 'lr' and 'optimizer' cannot both be given" end
    if type(optimizer) ~= "table" or type(optimizer.step) ~= "function"
      or type(optimizer.zero_grad) ~= "function" then
      return bad("optimizer", "optimizer (with step and zero_grad methods)")
    end
  else
    local lr = opts.lr
    if lr == nil then lr = 0.1 end
    if not (type(lr) == "number" and lr >= 0 and lr < huge) then return bad("lr", "finite number >= 0") end
    if not has_params then
      return nil, 1, "model with a parameters() method expected (or give option 'optimizer'), got " ..
        type_name(model)
    end
    optimizer = optim.SGD(model:parameters(), { lr = lr })
  end
  local params
  if l2 then
    if not has_params then
      return nil, 1, "model with a parameters() method expected for option 'l2', got " .. type_name(model)
    end
    params = model:parameters()
  end
  local schedule = opts.schedule
  if schedule ~= nil and (type(schedule) ~= "table" or type(schedule.step) ~= "function") then
    return bad("schedule", "schedule (with a step method)")
  end

  -- batches, steps
  local batch_size = opts.batch_size
  local whole_batch = batch_size == nil
  if batch_size == nil then batch_size = n end
  if not is_count(batch_size) then return bad("batch_size", "positive integer") end
  batch_size = tointeger(batch_size)
  local requested = batch_size
  if batch_size > n then batch_size = n end
  local per_epoch = ceil(n / batch_size)
  local shuffle = opts.shuffle
  if shuffle == nil then shuffle = batch_size < n end
  if type(shuffle) ~= "boolean" then return bad("shuffle", "boolean") end
  local seed, generator = opts.seed, nil
  if seed ~= nil then
    if type(seed) ~= "number" or tointeger(seed) == nil then return bad("seed", "integer") end
    generator = mg.Generator(seed)
  end
  local steps, epochs = opts.steps, opts.epochs
  if steps ~= nil and epochs ~= nil then
    return nil, 4, "options 'steps' and 'epochs' cannot both be given"
  end
  if steps ~= nil and not is_count(steps) then return bad("steps", "positive integer") end
  if epochs ~= nil and not is_count(epochs) then return bad("epochs", "positive integer") end
  local total = steps and tointeger(steps) or epochs and tointeger(epochs) * per_epoch or 100

  local on_step, clock = opts.on_step, opts.clock
  if on_step ~= nil and not callable(on_step) then return bad("on_step", "function") end
  if clock ~= nil and not callable(clock) then return bad("clock", "function") end

  local keep_history = opts.history
  if keep_history == nil then keep_history = true end
  if type(keep_history) ~= "boolean" then return bad("history", "boolean") end

  local compile, per_batch = opts.compile, nil
  if compile ~= nil and type(compile) ~= "boolean" then return bad("compile", "boolean") end
  if compile then -- one graph per batch size when it can, else (whole batch only) one graph of it
    local msg
    per_batch, msg = compiled.per_batch(model, X, targets, loss_name, params, l2, batch_size)
    if not per_batch and (batch_size < n or shuffle) then return nil, 4, "option 'compile': " .. msg end
  end

  local order = {}
  for i = 1, n do order[i] = i end
  return setmetatable({
    _compile = compile or nil, _per_batch = per_batch, _loss_name = loss_name, _targets_of = targets_of,
    _whole_batch = whole_batch, _batch_request = requested,
    model = model, X = X, y = y, optimizer = optimizer, schedule = schedule,
    loss_name = loss_name, batch_size = batch_size, steps_per_epoch = per_epoch, shuffle = shuffle,
    total_steps = total, step_count = 0, epoch = 0, samples = 0,
    history = { loss = {}, accuracy = {} }, done = false, stopped = false, _keep_history = keep_history,
    clock = clock or clock_now,
    _loss = loss, _targets = targets, _correct = accuracy or nil, _l2 = l2, _params = params,
    _on_step = on_step, _order = order, _pos = n, _batches = nil, _generator = generator,
  }, Trainer)
end

--- A training run that works in slices (see the module's description).
-- It reads `X` and `y` at every step, compiled or not: a sample edited in
-- place (a game's ring buffer) is trained on from the next step.
-- @tparam table|function model a module (`nn.MLP`, ...) or any callable
--   `model(x)`; it needs a `parameters()` method unless `optimizer` is given
--   and `l2` is not
-- @tparam {table,...} X the inputs, one per sample (arrays of numbers)
-- @tparam {number,...} y the labels, one per sample: 0/1 or -1/1 for "svm" and
--   "bce" ("svm" maps 0/1 through `data.signs`, "bce" maps -1 to 0), classes
--   1..k for "cross_entropy", numbers (or arrays of numbers, one per output)
--   for "mse", anything for a loss function
-- @tparam[opt] table opts
--
--   - `loss`: "svm" (default, micrograd's hinge loss), "mse", "bce" (also
--     "bce_logits"), "cross_entropy", or a function `(outputs, ys) -> Value`
--     given the batch's outputs and labels
--   - `optimizer`: any object with `step()` and `zero_grad()` (`optim.SGD`,
--     `optim.Adam`); default `optim.SGD(model:parameters(), {lr = lr})`
--   - `lr`: the default optimizer's learning rate (default 0.1; not with `optimizer`)
--   - `steps`: the number of optimizer steps (default 100), or `epochs`:
--     passes over the data (`ceil(#X / batch_size)` steps each); not both
--   - `batch_size`: samples per step (default `#X`, the whole data set)
--   - `shuffle`: whether each epoch visits the samples in a new order drawn
--     from the engine's generator (`mg.random`, so `mg.seed` makes it
--     repeatable; the same permutation as `data.shuffle`); default true when
--     `batch_size < #X`
--   - `seed`: an integer: shuffle with a generator of the trainer's own,
--     `mg.Generator(seed)`, so that other draws from the engine's generator
--     (between the slices of a game loop, say) do not change the order
--   - `l2`: alpha for `loss.l2(model:parameters(), alpha)`, added to the loss (default none)
--   - `schedule`: an `optim` schedule, stepped after each optimizer step
--   - `on_step`: `function(step, loss, accuracy, trainer)` called after each
--     step; returning `false` stops the training (`trainer.stopped`)
--   - `accuracy`: `true` (default for "svm", "bce": "sign", and
--     "cross_entropy": "argmax"), `false` (default for "mse" and a loss
--     function), "sign" (`output > 0` agrees with `label > 0`), "argmax" (the
--     largest output's index is the class) or `function(output, label) -> boolean`
--   - `clock`: `function() -> seconds` for time budgets and the progress
--     output (default `core.clock`, a monotonic clock)
--   - `history`: false to keep no history (a training that never ends, in a
--     game); `last_loss` and `last_accuracy` still tell the last step's
--   - `compile`: true to trace the step's graph once with `mg.compile` and
--     replay it in C from then on, with the same losses and gradients as the
--     dynamic step, bit for bit: a graph per batch size, fed each step's rows
--     and labels (a built-in loss and inputs that are arrays of numbers; for
--     mini-batches and `shuffle` these are needed), else one graph of the
--     whole batch, compiled again when the data has changed. See
--     `micrograd.train_compiled`.
-- @treturn Trainer with fields `step_count`, `total_steps`, `epoch` (the
--   epoch of the last step), `samples` (samples trained on so far), `history`
--   (`{loss = {...}, accuracy = {...}}`, one entry per step; `accuracy` stays
--   empty without an accuracy), `last_loss` and `last_accuracy` (the last
--   step's, or nil), `step_seconds` (the running mean of a step's time, once
--   a `deadline` budget has timed one), `done`, `stopped`, and `model`,
--   `optimizer`, `schedule`, `batch_size`, `steps_per_epoch`
function M.Trainer(model, X, y, opts)
  local t, arg, msg = new_trainer(model, X, y, opts, OPTIONS)
  if not t then arg_error(arg, "Trainer", msg) end
  return t
end

-- Shuffles order in place: with g:random when the trainer has its own
-- generator, else with the engine's (`data.shuffle`, Fisher-Yates).
local function shuffle(order, g)
  if not g then return data.shuffle(order) end
  for i = #order, 2, -1 do
    local j = g:random(i)
    order[i], order[j] = order[j], order[i]
  end
end

-- The sample indices of the next batch, starting a new epoch when needed.
local function next_batch(self)
  local n = #self._order
  if self._pos >= n then
    self.epoch = self.epoch + 1
    if self.shuffle then shuffle(self._order, self._generator) end
    self._pos, self._batches = 0, data.batches(self._order, nil, self.batch_size)
  end
  local batch = self._batches()
  self._pos = self._pos + #batch
  return batch
end

--- The model's outputs for a batch and the loss on them (the l2 term included).
local function batch_loss(self, batch)
  local model, X, targets = self.model, self.X, self._targets
  local outputs, ys = {}, {}
  for i = 1, #batch do
    local k = batch[i]
    outputs[i], ys[i] = model(X[k]), targets[k]
  end
  local total = self._loss(outputs, ys)
  if self._l2 then total = total + lossfns.l2(self._params, self._l2) end
  return outputs, total
end

--- Replaces the training data (new samples in a game, say): the next step
-- starts a new epoch over `X` and `y`, which are checked and mapped as
-- `Trainer` does. The batch size stays what was asked (the whole data set
-- when none was), capped at `#X`; the step count and total are kept. A
-- compiled trainer compiles again at its next step.
-- @tparam {table,...} X the inputs
-- @tparam table y the labels
function Trainer:set_data(X, y)
  check_self(self, "set_data", Trainer)
  local n, which, why = check_data(X, y)
  if not n then arg_error(which, "set_data", why) end
  local targets = y
  if self._targets_of then
    local t, msg = self._targets_of(y)
    if not t then arg_error(2, "set_data", msg) end
    targets = t
  end
  local batch_size = self._whole_batch and n or math.min(self._batch_request, n)
  if self._compile then
    local state, msg = compiled.per_batch(self.model, X, targets, self._loss_name, self._params,
      self._l2, batch_size)
    if not state and (batch_size < n or self.shuffle) then arg_error(1, "set_data", msg) end
    self._per_batch = state
  end
  self.X, self.y, self._targets, self._graph = X, y, targets, nil
  self.batch_size = batch_size
  self.steps_per_epoch = ceil(n / self.batch_size)
  local order = {}
  for i = 1, n do order[i] = i end
  self._order, self._pos, self._batches = order, n, nil
end

--- One optimizer step on the next batch.
-- @treturn number the step's loss (the l2 term included)
-- @treturn ?number the step's accuracy (a fraction of the batch, from the
--   same forward pass), nil without an accuracy
function Trainer:step()
  check_self(self, "step", Trainer)
  if self.done then
    error(format("calling 'step' on a finished Trainer (%s after %d steps)",
      self.stopped and "stopped by on_step" or "done", self.step_count), 2)
  end
  local batch = next_batch(self)
  local opt = self.optimizer
  local outputs, value
  if self._per_batch then
    outputs, value = compiled.batch_step(self._per_batch, opt, batch)
  elseif self._compile then
    outputs, value = compiled.whole_step(self, batch_loss, batch)
  else
    local total
    outputs, total = batch_loss(self, batch)
    opt:zero_grad()
    total:backward()
    value = total.data
  end
  opt:step()
  if self.schedule then self.schedule:step() end
  local y = self.y

  local accuracy, correct = nil, self._correct
  if correct then
    local right = 0
    for i = 1, #batch do
      if correct(outputs[i], y[batch[i]]) then right = right + 1 end
    end
    accuracy = right / #batch
  end
  local k = self.step_count + 1
  self.step_count, self.samples = k, self.samples + #batch
  if self._keep_history then self.history.loss[k], self.history.accuracy[k] = value, accuracy end
  self.last_loss, self.last_accuracy = value, accuracy
  if k >= self.total_steps then self.done = true end
  if self._on_step and self._on_step(k, value, accuracy, self) == false then
    self.done, self.stopped = true, true
  end
  return value, accuracy
end

local BUDGETS = { steps = true, samples = true, seconds = true, clock = true, deadline = true }

-- Running estimate of a step's time (exponentially weighted mean and mean
-- deviation), for deadlines: a step is expected to fit in mean + 4 deviations.
local function time_step(self, seconds)
  local mean, dev = self.step_seconds, self._step_dev
  if not mean then
    self.step_seconds, self._step_dev = seconds, seconds / 2
  else
    self.step_seconds = mean + 0.1 * (seconds - mean)
    self._step_dev = dev + 0.1 * (math.abs(seconds - mean) - dev)
  end
end

--- Trains for a slice of work: steps until the training is done or a budget
-- is used up. A slice always makes at least one step (unless training is
-- done, or a deadline has come) and ends after the step that reaches a
-- budget; the next call resumes exactly there, inside an epoch too.
-- @tparam[opt] integer|table budget nil: to the end; a number: that many
--   steps; a table with any of `steps` (integer >= 1), `samples` (integer >=
--   1: stop once this slice has trained on that many samples), `seconds`
--   (number > 0, measured by `clock`; the step that reaches it can go past
--   it), `deadline` (a time of `clock`: a step starts only when it is
--   expected to end before it, from the times of the steps before, so a
--   frame's slice does not overshoot; no step at all when the time is short)
--   and `clock` (`function() -> seconds`, default the trainer's `clock`)
-- @treturn boolean whether the training is finished (`trainer.done`)
-- @treturn integer the number of steps this call made
function Trainer:run(budget)
  check_self(self, "run", Trainer)
  local max_steps, max_samples, max_seconds, clock, deadline
  if type(budget) == "number" then
    if not is_count(budget) then
      arg_error(1, "run", "positive integer or table expected, got " .. show(budget))
    end
    max_steps = budget
  elseif type(budget) == "table" then
    for name in pairs(budget) do
      if not BUDGETS[name] then arg_error(1, "run", format("unknown budget '%s'", tostring(name))) end
    end
    max_steps, max_samples, max_seconds, clock = budget.steps, budget.samples, budget.seconds, budget.clock
    deadline = budget.deadline
    if max_steps ~= nil and not is_count(max_steps) then
      arg_error(1, "run", "budget 'steps': positive integer expected, got " .. show(max_steps))
    end
    if max_samples ~= nil and not is_count(max_samples) then
      arg_error(1, "run", "budget 'samples': positive integer expected, got " .. show(max_samples))
    end
    if max_seconds ~= nil and not (type(max_seconds) == "number" and max_seconds > 0) then
      arg_error(1, "run", "budget 'seconds': number > 0 expected, got " .. show(max_seconds))
    end
    if clock ~= nil and not callable(clock) then
      arg_error(1, "run", "budget 'clock': function expected, got " .. show(clock))
    end
    if deadline ~= nil and not (type(deadline) == "number" and deadline == deadline) then
      arg_error(1, "run", "budget 'deadline': number expected, got " .. show(deadline))
    end
  elseif budget ~= nil then
    arg_error(1, "run", "nil, integer or table of budgets expected, got " .. type_name(budget))
  end
  if self.done then return true, 0 end
  clock = clock or self.clock
  local steps, samples0 = 0, self.samples
  local t0 = max_seconds and clock()
  repeat
    local start = deadline and clock()
    if start and (start >= deadline or (self.step_seconds
        and start + self.step_seconds + 4 * self._step_dev > deadline)) then
      break
    end
    self:step()
    steps = steps + 1
    if start then time_step(self, clock() - start) end
  until self.done
    or (max_steps and steps >= max_steps)
    or (max_samples and self.samples - samples0 >= max_samples)
    or (max_seconds and clock() - t0 >= max_seconds)
  return self.done, steps
end

--- The same as `Trainer:run` (a budget table reads well: `trainer:run_for{seconds = 0.002}`).
-- @function Trainer:run_for
Trainer.run_for = Trainer.run

function Trainer:__tostring()
  local last = self.last_loss
  return format("Trainer (%d/%d steps, epoch %d, loss %s)", self.step_count, self.total_steps, self.epoch,
    last and format("%.6g", last) or "-")
end

-- ---- progress output -----------------------------------------------------------

local BAR_WIDTH = 24
local REDRAW = 0.1 -- seconds between redraws of the live bar

-- "12.3s", "4m05s", "2h07m"; "--" when unknown.
local function duration(s)
  if s ~= s or s < 0 or s == huge then return "--" end
  if s < 60 then return format("%.1fs", s) end
  if s < 3600 then return format("%dm%02ds", floor(s / 60), floor(s % 60)) end
  return format("%dh%02dm", floor(s / 3600), floor(s % 3600 / 60))
end

local function loss_text(t)
  local loss = t.last_loss
  local parts = { format((loss == 0 or loss >= 1e-3 or loss ~= loss) and "loss %.6f" or "loss %.4e", loss) }
  local acc = t.last_accuracy
  if acc then parts[2] = format("accuracy %5.1f%%", acc * 100) end
  return concat(parts, "  ")
end

-- The live bar: one line, redrawn in place.
local function bar_line(p, t, now)
  local k, total = t.step_count, t.total_steps
  local filled = floor(BAR_WIDTH * k / total)
  local bar = rep("=", filled) .. (filled < BAR_WIDTH and ">" .. rep(" ", BAR_WIDTH - filled - 1) or "")
  local elapsed = now - p.start
  local done = k - p.first
  local rate = elapsed > 0 and done / elapsed or nil
  local tail
  if t.done then
    tail = "done in " .. duration(elapsed)
  else
    tail = "ETA " .. (rate and duration((total - k) / rate) or "--")
  end
  return format(p.step_format .. " [%s]  %s  %s steps/s  %s", k, total, bar, loss_text(t),
    rate and format("%.1f", rate) or "--", tail)
end

local function plain_line(p, t)
  return format("step " .. p.step_format .. "  %s\n", t.step_count, t.total_steps, loss_text(t))
end

-- Writes what the progress shows after a step (or at the end, when final).
local function show_progress(p, t, final)
  local k = t.step_count
  if p.terminal then
    local now = p.clock()
    if final or k == p.first + 1 or now - p.drawn >= REDRAW then
      p.out:write("\r", bar_line(p, t, now), "\27[K", final and "\n" or "")
      p.out:flush()
      p.drawn = now
    end
  elseif k > p.first and ((k - 1) % p.every == 0 or final) and p.printed ~= k then
    p.out:write(plain_line(p, t))
    p.printed = k
  end
end

-- The progress output for fit: nil for none, or nil and a message.
local function progress_for(opts, t)
  local progress, terminal = opts.progress, opts.terminal
  if progress == nil then progress = "auto" end
  if terminal ~= nil and type(terminal) ~= "boolean" then
    return nil, format("option 'terminal': boolean expected, got %s", show(terminal))
  end
  local iolib = io
  local out
  if progress == false then
    return nil
  elseif progress == true or progress == "auto" then
    if not iolib then
      if progress == "auto" then return nil end
      return nil, "option 'progress': writing progress needs the io library"
    end
    out = iolib.stdout
  elseif iolib and iolib.type(progress) == "file" then
    out = progress
  else
    return nil, format("option 'progress': boolean, 'auto' or an open file expected, got %s", show(progress))
  end
  if terminal == nil then terminal = isatty(out) end
  local width = #tostring(t.total_steps)
  return {
    out = out, terminal = terminal, clock = t.clock, start = t.clock(), drawn = -huge,
    first = t.step_count, printed = nil, step_format = "%" .. width .. "d/%d",
    every = math.max(1, ceil((t.total_steps - t.step_count) / 10)),
  }
end

--- Trains a model to the end and returns its history.
--
-- Makes a `Trainer` with these options and runs it to the end (or until
-- `on_step` returns false), showing progress: on a terminal a live bar
-- redrawn in place (step/total, a bar, loss, accuracy, steps per second and
-- the estimated time left; the final state stays on screen); otherwise
-- (a file, a CI log) a plain line every tenth of the run (steps 1, 11, 21,
-- ... of 100) and the last step, with no control characters.
-- @tparam table|function model the model (see `Trainer`)
-- @tparam {table,...} X the inputs
-- @tparam {number,...} y the labels
-- @tparam[opt] table opts every option of `Trainer`, and:
--
--   - `progress`: `"auto"` (default) or `true`: to `io.stdout`, nothing when
--     there is no `io` library; `false`: none; an open file: written there
--   - `terminal`: `true` for the live bar, `false` for plain lines (default:
--     whether the output is a terminal, by `core.isatty`)
-- @treturn table the history `{loss = {...}, accuracy = {...}}`: one entry
--   per step (`accuracy` stays empty without an accuracy)
-- @treturn Trainer the trainer (its `step_count`, `stopped`, ...)
function M.fit(model, X, y, opts)
  local t, arg, msg = new_trainer(model, X, y, opts, FIT_OPTIONS)
  if not t then arg_error(arg, "fit", msg) end
  local p
  p, msg = progress_for(opts or {}, t)
  if msg then arg_error(4, "fit", msg) end
  if not p then
    t:run()
    return t.history, t
  end
  local function loop()
    while not t.done do
      t:step()
      show_progress(p, t, t.done)
    end
  end
  if not p.terminal then
    loop()
    return t.history, t
  end
  -- on an error, end the bar's line before the message is shown
  local ok, err = pcall(loop)
  if not ok then
    if t.step_count > p.first then p.out:write("\n") end
    error(err, 0)
  end
  return t.history, t
end

return require("micrograd._names").strict(M, "micrograd.train")
