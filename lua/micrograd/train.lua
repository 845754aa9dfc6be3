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
-- `backward()`, `optimizer:step()`, then `schedule:step(loss)` (with a
-- validation set, `optim.plateau` gets the validation loss at each evaluation
-- instead). The step's accuracy is counted from that same forward pass (as
-- micrograd's demo does), so it describes the parameters before the update. With the whole data set as the
-- batch (the default), the numbers are those of the hand-written loop in the
-- README, bit for bit.
-- @module micrograd.train
local check = require("micrograd._check")
local mg = require("micrograd")
local lossfns = require("micrograd.loss")
local optim = require("micrograd.optim")
local data = require("micrograd.data")
local compiled = require("micrograd.train_compiled")
local checkpoints = require("micrograd.train_checkpoint")
local compat = require("micrograd._compat")
local progress = require("micrograd._progress")
local trainer_state = require("micrograd._train_state")
local arg_error, check_self = check.arg_error, check.check_self
local type_name, show = check.type_name, check.show

local system = require("micrograd._system") -- registered by micrograd.core

local is_value = mg.is_value
local clock_now = system.clock
local type, tostring, pairs, getmetatable, setmetatable = type, tostring, pairs, getmetatable, setmetatable
local format = string.format
local ceil, huge, tointeger = math.ceil, math.huge, compat.tointeger
local unpack, move = compat.unpack, compat.move

local M = {}

-- ---- argument checks -------------------------------------------------------

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and type(mt.__call) == "function"
end

local function is_count(x)
  return type(x) == "number" and tointeger(x) ~= nil and x >= 1
end

-- A number of steps or epochs: a count, or math.huge for a training that never ends.
local function is_length(x)
  return x == huge or is_count(x)
end

local function is_finite(x)
  return x == x and x ~= huge and x ~= -huge
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

-- ---- predictions and evaluation ------------------------------------------------

-- Calls fn(...) recording no graph.
local no_grad = mg.no_grad

-- The width of one output: 1 for a Value or a number, #o for an array.
local function width_of(o)
  if type(o) == "table" and not is_value(o) then return #o end
  return 1
end

-- The model's outputs for every row of X, recording no graph (a model with a
-- `training` mode is put in evaluation mode for them, then back).
local function outputs_of(model, X)
  local out = {}
  local modal = type(model) == "table" and model.training == true and type(model.eval) == "function"
  if modal then model:eval() end
  local ok, err = pcall(no_grad, function()
    for i = 1, #X do
      local o = model(X[i])
      if type(o) == "table" and not is_value(o) then o = move(o, 1, #o, 1, {}) end -- a graph reuses its array
      out[i] = o
    end
  end)
  if modal then model:train() end
  if not ok then error(err, 0) end
  return out
end

-- An error message without a position inside micrograd's own modules.
local function own_position_stripped(err)
  return (tostring(err):gsub("^[^\n]-micrograd[^\n:]-%.lua:%d+: ", "", 1))
end

-- The model's output width, from one sample computed without a graph and
-- without changing the engine generator's position (a model with dropout
-- draws from it); nil when the model fails on it (the first step says why).
local function probe_width(model, x)
  local state = mg.get_rng_state()
  local ok, o = pcall(no_grad, model, x)
  mg.set_rng_state(state)
  if not ok then return nil end
  return width_of(o)
end

-- nil when the model's forward pass for one sample like x can be traced by
-- mg.compile, else why not (a Dropout in training mode, say), without a
-- position inside micrograd; the generator is left where it was.
local function trace_error(model, x)
  local state = mg.get_rng_state()
  local ok, err = pcall(mg.compile, function(...) return model({ ... }) end, #x)
  mg.set_rng_state(state)
  if ok then return nil end
  if err == "not enough memory" then error(err, 0) end -- a memory error stays one
  return own_position_stripped(err)
end

-- How scores map to labels, per loss: "binary" (one score, label 1 when it is
-- above 0), "classes" (one score per class, the largest wins) or "values".
local KIND_OF_LOSS = { svm = "binary", bce = "binary", bce_logits = "binary", cross_entropy = "classes",
  mse = "values" }

-- P(class 1) for a logit, computed without overflow.
local function sigmoid(z)
  if z >= 0 then return 1 / (1 + math.exp(-z)) end
  local e = math.exp(z)
  return e / (1 + e)
end

-- The probabilities of a row of logits (softmax, shifted by the largest) and its argmax.
local function softmax(zs)
  local best, top = 1, zs[1]
  for j = 2, #zs do
    if zs[j] > top then best, top = j, zs[j] end
  end
  local ps, total = {}, 0
  for j = 1, #zs do
    ps[j] = math.exp(zs[j] - top)
    total = total + ps[j]
  end
  for j = 1, #zs do ps[j] = ps[j] / total end
  return ps, best
end

-- predict's and evaluate's options (micrograd._check's schema format).
local PREDICT_OPTIONS = {
  { "loss", { expected = "'svm', 'bce', 'cross_entropy' or 'mse'", shown = show,
    test = function(v) return KIND_OF_LOSS[v] ~= nil end } },
  what = "table of options",
}

-- The kind of prediction for fname's opts.loss (argument arg), or from the
-- output width when no loss is given.
local function prediction_kind(fname, arg, opts, width)
  local loss = check.options(fname, arg, opts, PREDICT_OPTIONS, 3).loss
  if loss == nil then
    local several = (width or 1) > 1
    return several and "classes" or "binary", several and "cross_entropy" or "svm"
  end
  local kind = KIND_OF_LOSS[loss]
  if width and ((kind == "binary" and width ~= 1) or (kind == "classes" and width < 2)) then
    arg_error(fname, arg, format("option 'loss': '%s' needs a model with %s, but the model has %d output%s",
      loss, kind == "binary" and "one output" or "one output per class (2 or more)", width,
      width == 1 and "" or "s"), 3)
  end
  return kind, loss
end

-- The numbers of one output (a Value, a number, or an array of them).
local function numbers_of(o)
  if type(o) == "table" and not is_value(o) then
    local t = {}
    for j = 1, #o do t[j] = number_of(o[j]) end
    return t
  end
  return number_of(o)
end

-- Checks that every output has the width of the first; returns it.
local function check_widths(fname, outputs)
  local width = width_of(outputs[1])
  for i = 2, #outputs do
    if width_of(outputs[i]) ~= width then
      error(format("%s: the model returned %d outputs for sample 1 but %d for sample %d", fname, width,
        width_of(outputs[i]), i), 3)
    end
  end
  return width
end

-- Labels and probabilities for outputs of a kind.
local function labels_of(kind, outputs)
  local labels, probs = {}, {}
  for i = 1, #outputs do
    local o = numbers_of(outputs[i])
    if kind == "binary" then
      if type(o) == "table" then o = o[1] end
      labels[i], probs[i] = o > 0 and 1 or 0, sigmoid(o)
    elseif kind == "classes" then
      if type(o) ~= "table" then o = { o } end
      probs[i], labels[i] = softmax(o)
    else
      labels[i] = o
    end
  end
  return labels, kind ~= "values" and probs or nil
end

--- The model's predictions for some inputs, computed without a graph (and
-- in evaluation mode for a model that has one).
-- @tparam table|function model a module or any callable (a compiled graph too)
-- @tparam {table,...} X the inputs
-- @tparam[opt] table opts `loss`: how outputs map to labels, as the loss
--   trained with says: "svm" or "bce" (one output: label 1 when it is above
--   0, else 0), "cross_entropy" (one output per class: the largest one's
--   class, 1..k) or "mse" (the outputs themselves); default from the model's
--   output width, as `fit` does: "cross_entropy" for several outputs, else "svm";
--   a loss that does not suit the width is an error
-- @treturn table the labels, one per input (0/1, 1..k, or the output numbers for "mse")
-- @treturn ?table the probabilities: P(class 1) (the logistic sigmoid of the
--   output) for one output, an array per input (softmax) for several; nil for "mse"
function M.predict(model, X, opts)
  if not callable(model) then arg_error("predict", 1, "model (a module or function) expected, got " ..
    type_name(model)) end
  if type(X) ~= "table" or is_value(X) then arg_error("predict", 2, "array of inputs expected, got " ..
    type_name(X)) end
  if #X == 0 then
    prediction_kind("predict", 3, opts, nil)
    return {}, {}
  end
  local outputs = outputs_of(model, X)
  local kind = prediction_kind("predict", 3, opts, check_widths("predict", outputs))
  return labels_of(kind, outputs)
end

-- The class index (1..k) of a label for the confusion matrix, and k.
local function class_index(kind, label, width)
  if kind == "binary" then return (label == 1) and 2 or 1, 2 end
  return label, width
end

-- {loss, accuracy, confusion} of outputs against labels y (their targets for
-- the loss), with the loss function, the accuracy rule and the kind.
local function score(outputs, y, targets, lossfn, correct, kind)
  local value = no_grad(lossfn, outputs, targets)
  local result = { loss = number_of(value) }
  if correct then
    local right = 0
    for i = 1, #outputs do
      if correct(outputs[i], y[i]) then right = right + 1 end
    end
    result.accuracy = right / #outputs
  end
  if kind == "binary" or kind == "classes" then
    local width, k = width_of(outputs[1]), 2
    if kind == "classes" then
      for i = 1, #y do k = math.max(k, y[i]) end
      k = math.max(k, width)
    end
    local labels = labels_of(kind, outputs)
    local confusion = {}
    for r = 1, k do
      confusion[r] = {}
      for c = 1, k do confusion[r][c] = 0 end
    end
    for i = 1, #y do
      local r, c = class_index(kind, y[i], k), class_index(kind, labels[i], k)
      confusion[r][c] = confusion[r][c] + 1
    end
    result.confusion = confusion
  end
  return result
end

--- The model's loss, accuracy and confusion matrix on a data set, computed
-- without a graph (and in evaluation mode for a model that has one).
-- @tparam table|function model a module or any callable (a compiled graph too)
-- @tparam {table,...} X the inputs
-- @tparam table y the labels (as `fit` takes them)
-- @tparam[opt] table opts `loss` (as `predict`; default from the output width)
-- @treturn table `{loss = number, accuracy = number, confusion = {{...}, ...}}`:
--   `confusion[t][p]` counts the samples of true class t predicted as p (k x k;
--   classes 1..k, or for binary labels row/column 1 for 0 (or -1) and 2 for
--   1); "mse" has no accuracy and no confusion
function M.evaluate(model, X, y, opts)
  if not callable(model) then arg_error("evaluate", 1, "model (a module or function) expected, got " ..
    type_name(model)) end
  local n, which, why = check_data(X, y)
  if not n then arg_error("evaluate", which + 1, why) end
  local outputs = outputs_of(model, X)
  local kind, loss_name = prediction_kind("evaluate", 4, opts, check_widths("evaluate", outputs))
  local entry = LOSSES[loss_name]
  local targets, msg = entry.targets(y)
  if not targets then arg_error("evaluate", 3, msg) end
  if kind == "classes" then
    local width = width_of(outputs[1])
    for i = 1, n do
      if y[i] > width then
        arg_error("evaluate", 3, format("class %d at index %d, but the model has %d outputs", y[i], i, width))
      end
    end
  end
  return score(outputs, y, targets, entry.fn, CORRECT[entry.accuracy], kind)
end

-- ---- the Trainer -------------------------------------------------------------

local Trainer = {}
Trainer.__index = Trainer

-- Trainer's and fit's options (micrograd._check's schema format): the names
-- only; the stages below check the values.
local function names_schema(names)
  local schema = { what = "table of options" }
  for i, name in ipairs(names) do schema[i] = { name, true } end
  return schema
end
local OPTION_NAMES = {
  "loss", "optimizer", "lr", "steps", "epochs", "batch_size", "shuffle", "seed", "l2", "schedule", "on_step",
  "accuracy", "clock", "compile", "history", "validation", "validate_every", "patience", "restore_best",
}
local OPTIONS = names_schema(OPTION_NAMES)
local FIT_OPTIONS = names_schema({ "progress", "terminal", "checkpoint", "checkpoint_every", "resume",
  unpack(OPTION_NAMES) })
local LOSS_NAMES = "'svm', 'mse', 'bce', 'cross_entropy' or a function"

-- nil when a model with `width` outputs suits loss `name` and labels y, else a message.
local function bad_width(name, width, y)
  local kind = KIND_OF_LOSS[name]
  if kind == "binary" and width ~= 1 then
    return format("loss '%s' needs a model with one output (labels 0/1), but the model has %d outputs " ..
      "(for classes 1..k use loss 'cross_entropy')", name, width)
  end
  if kind == "classes" then
    local k = 0
    for i = 1, #y do k = math.max(k, y[i]) end
    if k > width then
      return format("the labels have %d classes (1..%d) but the model has %d output%s: loss '%s' needs " ..
        "one output per class", k, k, width, width == 1 and "" or "s", name)
    end
  end
end

-- The error for option name of the trainer being made (c): "option 'name':
-- <expected> expected, got <what it is>", as argument 4.
local function bad(c, name, expected)
  return 4, format("option '%s': %s expected, got %s", name, expected, show(c.opts[name]))
end

-- The validation set: given, or a fraction of X held out (shuffled with the
-- trainer's seed, 0 without one).
-- Returns nothing, or the argument number and a message.
local function validation_stage(c)
  local validation = c.opts.validation
  local VALIDATION = "{X, y} or a fraction in (0, 1)"
  if type(validation) == "number" then
    if not (validation > 0 and validation < 1) then return bad(c, "validation", VALIDATION) end
    if ceil(validation * c.n) >= c.n then
      return 4, format("option 'validation': holding out %d of %d samples leaves none to train on",
        ceil(validation * c.n), c.n)
    end
    local seed = type(c.opts.seed) == "number" and tointeger(c.opts.seed) or 0
    c.X, c.y, c.Xv, c.yv = data.train_test_split(c.X, c.y, { test = validation, seed = seed })
    c.n = #c.X
  elseif type(validation) == "table" and not is_value(validation) then
    c.Xv, c.yv = validation[1], validation[2]
    local _, which, bad_data = check_data(c.Xv, c.yv)
    if bad_data then
      return 4, format("option 'validation': %s (%s)", bad_data, which == 1 and "X" or "y")
    end
  elseif validation ~= nil then
    return bad(c, "validation", VALIDATION)
  end
end

-- The loss and the labels it trains on; the model's output width, from one
-- sample, says the default loss and must suit the loss and the labels.
-- Returns nothing, or the argument number and a message.
local function loss_stage(c)
  c.loss, c.loss_name, c.default_accuracy, c.targets, c.targets_of = c.opts.loss, "function", false, c.y, nil
  c.val_targets = c.yv
  c.width = (c.loss == nil or type(c.loss) == "string") and probe_width(c.model, c.X[1]) or nil
  if c.loss == nil then c.loss = (c.width or 1) > 1 and "cross_entropy" or "svm" end
  if type(c.loss) == "string" then
    local entry = LOSSES[c.loss]
    if not entry then
      return 4, format("option 'loss': %s expected, got '%s'", LOSS_NAMES, c.loss)
    end
    local t, msg = entry.targets(c.y)
    if not t then
      if c.opts.loss == nil then msg = msg .. format(" (the default loss for a model with %d output%s; " ..
        "set option 'loss')", c.width or 1, c.width == 1 and "" or "s") end
      return 3, msg
    end
    msg = c.width and bad_width(c.loss, c.width, c.y)
    if msg then return 3, msg end
    if c.Xv then
      c.val_targets, msg = entry.targets(c.yv)
      msg = msg or (c.width and bad_width(c.loss, c.width, c.yv))
      if msg then return 4, "option 'validation': " .. msg end
    end
    c.loss_name, c.targets, c.default_accuracy = c.loss, t, entry.accuracy
    c.loss, c.targets_of = entry.fn, entry.targets
  elseif callable(c.loss) then
    local user = c.loss
    c.loss = function(outputs, ys)
      local v = user(outputs, ys)
      if not is_value(v) then
        error("the loss function returned a " .. type_name(v) .. ", expected a Value", 0)
      end
      return v
    end
  else
    return bad(c, "loss", LOSS_NAMES)
  end
end

-- How the accuracy is counted.
-- Returns nothing, or the argument number and a message.
local function accuracy_stage(c)
  c.accuracy = c.opts.accuracy
  if c.accuracy == nil or c.accuracy == true then
    if c.accuracy == true and not c.default_accuracy then
      local which = c.loss_name == "function" and "a loss function" or "loss '" .. c.loss_name .. "'"
      return 4, format("option 'accuracy': %s has no accuracy of its own; give 'sign', " ..
        "'argmax' or a function", which)
    end
    c.accuracy = c.default_accuracy
  end
  if type(c.accuracy) == "string" then
    if not CORRECT[c.accuracy] then return bad(c, "accuracy", "boolean, 'sign', 'argmax' or a function") end
    c.accuracy = CORRECT[c.accuracy]
  elseif c.accuracy ~= false and not callable(c.accuracy) then
    return bad(c, "accuracy", "boolean, 'sign', 'argmax' or a function")
  end
end

-- Parameters, optimizer, schedule.
-- Returns nothing, or the argument number and a message.
local function optimizer_stage(c)
  c.has_params = type(c.model) == "table" and type(c.model.parameters) == "function"
  c.l2 = c.opts.l2
  if c.l2 ~= nil and not (type(c.l2) == "number" and c.l2 >= 0 and c.l2 < huge) then
    return bad(c, "l2", "finite number >= 0")
  end
  if c.l2 == 0 then c.l2 = nil end
  c.optimizer = c.opts.optimizer
  if c.optimizer ~= nil then
    if c.opts.lr ~= nil then return 4, "options 'lr' and 'optimizer' cannot both be given" end
    if type(c.optimizer) ~= "table" or type(c.optimizer.step) ~= "function"
      or type(c.optimizer.zero_grad) ~= "function" then
      return bad(c, "optimizer", "optimizer (with step and zero_grad methods)")
    end
  else
    local lr = c.opts.lr
    if lr == nil then lr = 0.1 end
    if not (type(lr) == "number" and lr >= 0 and lr < huge) then return bad(c, "lr", "finite number >= 0") end
    if not c.has_params then
      return 1, "model with a parameters() method expected (or give option 'optimizer'), got " ..
        type_name(c.model)
    end
    c.optimizer = optim.SGD(c.model:parameters(), { lr = lr })
  end
  if c.l2 then
    if not c.has_params then
      return 1, "model with a parameters() method expected for option 'l2', got " .. type_name(c.model)
    end
    c.params = c.model:parameters()
  end
  c.schedule = c.opts.schedule
  if c.schedule ~= nil and (type(c.schedule) ~= "table" or type(c.schedule.step) ~= "function") then
    return bad(c, "schedule", "schedule (with a step method)")
  end
end

-- Batches and steps.
-- Returns nothing, or the argument number and a message.
local function batches_stage(c)
  c.batch_size = c.opts.batch_size
  c.whole_batch = c.batch_size == nil
  if c.batch_size == nil then c.batch_size = c.n end
  if not is_count(c.batch_size) then return bad(c, "batch_size", "positive integer") end
  c.batch_size = tointeger(c.batch_size)
  c.requested = c.batch_size
  if c.batch_size > c.n then c.batch_size = c.n end
  c.per_epoch = ceil(c.n / c.batch_size)
  c.shuffle = c.opts.shuffle
  if c.shuffle == nil then c.shuffle = c.batch_size < c.n end
  if type(c.shuffle) ~= "boolean" then return bad(c, "shuffle", "boolean") end
  local seed = c.opts.seed
  if seed ~= nil then
    if type(seed) ~= "number" or tointeger(seed) == nil then return bad(c, "seed", "integer") end
    c.generator = mg.Generator(seed)
  end
  local steps, epochs = c.opts.steps, c.opts.epochs
  if steps ~= nil and epochs ~= nil then
    return 4, "options 'steps' and 'epochs' cannot both be given"
  end
  if steps ~= nil and not is_length(steps) then return bad(c, "steps", "positive integer or math.huge") end
  if epochs ~= nil and not is_length(epochs) then return bad(c, "epochs", "positive integer or math.huge") end
  c.total = 100
  if steps then
    c.total = tointeger(steps) or huge
  elseif epochs then
    c.total = (tointeger(epochs) or huge) * c.per_epoch
  end
end

-- on_step, clock, history and compile.
-- Returns nothing, or the argument number and a message.
local function callbacks_stage(c)
  c.on_step, c.clock = c.opts.on_step, c.opts.clock
  if c.on_step ~= nil and not callable(c.on_step) then return bad(c, "on_step", "function") end
  if c.clock ~= nil and not callable(c.clock) then return bad(c, "clock", "function") end

  c.keep_history = c.opts.history
  if c.keep_history == nil then c.keep_history = true end
  if type(c.keep_history) ~= "boolean" then return bad(c, "history", "boolean") end

  c.compile, c.per_batch = c.opts.compile, nil
  if c.compile ~= nil and type(c.compile) ~= "boolean" then return bad(c, "compile", "boolean") end
  if c.compile then -- one graph per batch size when it can, else (whole batch only) one graph of it
    local msg
    c.per_batch, msg = compiled.per_batch(c.model, c.X, c.targets, c.loss_name, c.params, c.l2, c.batch_size)
    if not c.per_batch and (c.batch_size < c.n or c.shuffle) then return 4, "option 'compile': " .. msg end
    msg = c.per_batch and c.width and trace_error(c.model, c.X[1])
    if msg then return 4, "option 'compile': " .. msg end
  end
end

-- Validation every k steps, early stopping, restoring the best parameters.
-- Returns nothing, or the argument number and a message.
local function stopping_stage(c)
  c.validate_every, c.patience, c.restore_best = c.opts.validate_every, c.opts.patience, c.opts.restore_best
  if c.validate_every ~= nil and not is_count(c.validate_every) then
    return bad(c, "validate_every", "positive integer")
  end
  if c.patience ~= nil and not is_count(c.patience) then return bad(c, "patience", "positive integer") end
  if c.restore_best ~= nil and type(c.restore_best) ~= "boolean" then
    return bad(c, "restore_best", "boolean")
  end
  for _, name in ipairs({ "validate_every", "patience", "restore_best" }) do
    if c.opts[name] ~= nil and not c.Xv then
      return 4, format("option '%s' needs option 'validation'", name)
    end
  end
  if c.restore_best and not c.has_params then
    return 1, "model with a parameters() method expected for option 'restore_best', got "
      .. type_name(c.model)
  end
end

-- The Trainer made from the checked options in c.
local function trainer_of(c)
  local order = {}
  for i = 1, c.n do order[i] = i end
  local history = { loss = {}, accuracy = {} }
  if c.Xv then history.val_loss, history.val_accuracy, history.val_step = {}, {}, {} end
  return setmetatable({
    validation = c.Xv and { c.Xv, c.yv },
    validate_every = c.validate_every and tointeger(c.validate_every) or c.per_epoch,
    patience = c.patience and tointeger(c.patience), restore_best = c.restore_best or false,
    _val_targets = c.val_targets, _best_loss = huge, _wait = 0, _best_params = nil,
    _compile = c.compile or nil, _per_batch = c.per_batch, _loss_name = c.loss_name,
    _targets_of = c.targets_of,
    _whole = c.compile and compiled.whole_state() or nil, -- the whole-batch compiled step
    _whole_batch = c.whole_batch, _batch_request = c.requested,
    model = c.model, X = c.X, y = c.y, optimizer = c.optimizer, schedule = c.schedule,
    loss_name = c.loss_name, batch_size = c.batch_size, steps_per_epoch = c.per_epoch, shuffle = c.shuffle,
    total_steps = c.total, step_count = 0, epoch = 0, samples = 0,
    history = history, done = false, stopped = false, _keep_history = c.keep_history,
    clock = c.clock or clock_now,
    _loss = c.loss, _targets = c.targets, _correct = c.accuracy or nil, _l2 = c.l2, _params = c.params,
    _on_step = c.on_step, _order = order, _pos = c.n, _generator = c.generator,
  }, Trainer)
end

-- The checks and choices of a new Trainer, in the order their errors are found.
local STAGES = {
  validation_stage, loss_stage, accuracy_stage, optimizer_stage,
  batches_stage, callbacks_stage, stopping_stage,
}

-- A new Trainer, or nil, the argument number and a message; the options
-- table's own errors (not a table, an unknown name) are raised at once, for
-- fname's caller.
local function new_trainer(fname, model, X, y, opts, schema)
  if not callable(model) then
    return nil, 1, "model (a module or function) expected, got " .. type_name(model)
  end
  local n, data_arg, why = check_data(X, y)
  if not n then return nil, data_arg + 1, why end
  opts = check.options(fname, 4, opts, schema, 3)
  local c = { model = model, X = X, y = y, n = n, opts = opts }
  for _, stage in ipairs(STAGES) do
    local arg, msg = stage(c)
    if arg then return nil, arg, msg end
  end
  return trainer_of(c)
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
--     (given the step's loss, for `optim.plateau`); with a `validation` set,
--     a schedule driven by a loss (`optim.plateau`, or a warmup handing over
--     to one: its `uses_loss()` is true) is stepped at each evaluation
--     instead, given the validation loss
--   - `on_step`: `function(step, loss, accuracy, trainer)` called after each
--     step; returning `false` stops the training (`trainer.stopped`)
--   - `accuracy`: `true` (default for "svm", "bce": "sign", and
--     "cross_entropy": "argmax"), `false` (default for "mse" and a loss
--     function), "sign" (`output > 0` agrees with `label > 0`), "argmax" (the
--     largest output's index is the class) or `function(output, label) -> boolean`
--   - `clock`: `function() -> seconds` for time budgets and the progress
--     output (default: a monotonic clock)
--   - `history`: false to keep no history (a training that never ends, in a
--     game); `last_loss` and `last_accuracy` still tell the last step's
--   - `compile`: true to trace the step's graph once with `mg.compile` and
--     replay it in C from then on, with the same losses and gradients as the
--     dynamic step, bit for bit: a graph per batch size, fed each step's rows
--     and labels (a built-in loss and inputs that are arrays of numbers; for
--     mini-batches and `shuffle` these are needed), else one graph of the
--     whole batch, compiled again when the data has changed. See
--     `micrograd.train_compiled`. A model that cannot be traced (a
--     `Dropout` in training mode) is refused here, before any step.
--   - `validation`: `{Xv, yv}`, or a fraction in (0, 1) of `X` to hold out
--     (shuffled by `data.train_test_split` with `seed`, 0 without one; the
--     trainer's `X` and `y` are then the rest). The model is evaluated on it
--     (no graph, evaluation mode) every `validate_every` steps and after the
--     last step
--   - `validate_every`: steps between evaluations (default: one epoch)
--   - `patience`: stop after this many evaluations without a lower
--     validation loss (`stop_reason` "early stopping")
--   - `restore_best`: true to put back, when the training ends, the
--     parameters of the evaluation with the lowest validation loss
--
-- Without a `loss`, the model's output width (one sample, computed before
-- the first step without a graph or a draw from the generator) chooses
-- "svm" (one output) or "cross_entropy" (several); a width that does not suit
-- the loss or the labels is an error then. `steps` (or `epochs`) may be
-- `math.huge`: a training that a budget, `on_step` or `patience` ends.
-- @treturn Trainer with fields `step_count`, `total_steps`, `epoch` (the
--   epoch of the last step), `samples` (samples trained on so far), `history`
--   (`{loss = {...}, accuracy = {...}}`, one entry per step; `accuracy` stays
--   empty without an accuracy; with a validation set also `val_loss`,
--   `val_accuracy`, `val_step`, one entry per evaluation, and `best_step`),
--   `last_loss` and `last_accuracy` (the last step's, or nil),
--   `last_val_loss`, `last_val_accuracy`, `best_val_loss`, `best_step`,
--   `step_seconds` (the running mean of a step's time, once a `deadline`
--   budget has timed one), `done`, `stopped`, `stop_reason` ("on_step",
--   "early stopping" or "diverged"), `diverged` (the step whose loss was not
--   finite), `validation`, and `model`, `optimizer`, `schedule`,
--   `batch_size`, `steps_per_epoch`
function M.Trainer(model, X, y, opts)
  local t, arg, msg = new_trainer("Trainer", model, X, y, opts, OPTIONS)
  if not t then arg_error("Trainer", arg, msg) end
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

-- The sample indices of the next batch, starting a new epoch when needed
-- (consecutive slices of the epoch's order, as `data.batches` makes them).
local function next_batch(self)
  local order = self._order
  local n = #order
  if self._pos >= n then
    self.epoch = self.epoch + 1
    if self.shuffle then shuffle(order, self._generator) end
    self._pos = 0
  end
  local first, last = self._pos + 1, math.min(self._pos + self.batch_size, n)
  local batch = {}
  for i = first, last do batch[i - first + 1] = order[i] end
  self._pos = last
  return batch
end

-- The model's outputs for a batch and the loss on them (the l2 term included).
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
  check_self(self, Trainer, "set_data", "Trainer")
  local n, which, why = check_data(X, y)
  if not n then arg_error("set_data", which, why) end
  local targets = y
  if self._targets_of then
    local t, msg = self._targets_of(y)
    if not t then arg_error("set_data", 2, msg) end
    targets = t
  end
  local batch_size = self._whole_batch and n or math.min(self._batch_request, n)
  if self._compile then
    local state, msg = compiled.per_batch(self.model, X, targets, self._loss_name, self._params,
      self._l2, batch_size)
    if not state and (batch_size < n or self.shuffle) then arg_error("set_data", 1, msg) end
    self._per_batch = state
  end
  self.X, self.y, self._targets = X, y, targets
  if self._whole then compiled.whole_reset(self._whole) end
  self.batch_size = batch_size
  self.steps_per_epoch = ceil(n / self.batch_size)
  local order = {}
  for i = 1, n do order[i] = i end
  self._order, self._pos = order, n
end

-- Whether a schedule's next step acts on the loss it is given (optim.plateau,
-- or a warmup that has handed over to one): with a validation set, the
-- trainer steps it at each evaluation with the validation loss.
local function by_validation(s)
  return type(s.uses_loss) == "function" and s:uses_loss() == true
end

-- Evaluates the model on the validation set after step k: records the
-- loss and accuracy, keeps the best parameters, and stops the training after
-- `patience` evaluations without a better loss.
local function validate(self, k)
  local Xv, yv = self.validation[1], self.validation[2]
  local r = score(outputs_of(self.model, Xv), yv, self._val_targets, self._loss, self._correct)
  self.last_val_loss, self.last_val_accuracy = r.loss, r.accuracy
  local h = self.history
  if self._keep_history then
    local i = #h.val_loss + 1
    h.val_loss[i], h.val_accuracy[i], h.val_step[i] = r.loss, r.accuracy, k
  end
  local s = self.schedule
  if s and by_validation(s) then s:step(r.loss) end
  if r.loss < self._best_loss then
    self._best_loss, self.best_step, self._wait = r.loss, k, 0
    self.best_val_loss = r.loss
    h.best_step = k
    if self.restore_best then
      local best = {}
      for i, p in ipairs(self.model:parameters()) do best[i] = p.data end
      self._best_params = best
    end
  else
    self._wait = self._wait + 1
    if self.patience and self._wait >= self.patience and not self.done then
      self.done, self.stopped, self.stop_reason = true, true, "early stopping"
    end
  end
end

-- At the end of a training: the best parameters back, when asked (the last
-- ones kept, for a checkpoint of a training that goes on later).
local function finish(self)
  local best = self._best_params
  if self.restore_best and best and not self.restored then
    local last = {}
    for i, p in ipairs(self.model:parameters()) do last[i], p.data = p.data, best[i] end
    self._last_params, self.restored = last, true
  end
end

-- ---- the trainer's state, for checkpoints (micrograd._train_state) ---------

--- The trainer's position and history: a table of numbers, strings,
-- booleans and arrays (see `train.checkpoint`). The data, the model, the
-- optimizer and the schedule are not in it.
-- @treturn table
function Trainer:state()
  check_self(self, Trainer, "state", "Trainer")
  local state = trainer_state.snapshot(self)
  return state
end

--- Restores a state from `Trainer:state()` of a trainer over as many samples
-- (with a `seed` when it had one): the next steps are those the saved trainer
-- would have made. Nothing changes when the state is refused. A state saved
-- after `restore_best` put the best weights back, of a training that goes on
-- (stopped by `on_step`), puts the last weights back into the model, so that
-- the training goes on as if it had never stopped.
-- @tparam table state
function Trainer:load_state(state)
  check_self(self, Trainer, "load_state", "Trainer")
  local ok, r = pcall(trainer_state.read, self, state)
  if not ok then arg_error("load_state", 1, r) end
  trainer_state.apply(self, r)
end

-- How a finished trainer's error says why it stopped.
local STOPPED = {
  on_step = "stopped by on_step",
  ["early stopping"] = "stopped early: no better validation loss",
  diverged = "stopped: the loss was not finite",
}

--- One optimizer step on the next batch.
--
-- A loss that is not finite (NaN or infinite) stops the training before the
-- optimizer uses its gradients: the trainer is `done` and `stopped`, with
-- `diverged` the step's number and `stop_reason` "diverged".
-- @treturn number the step's loss (the l2 term included)
-- @treturn ?number the step's accuracy (a fraction of the batch, from the
--   same forward pass), nil without an accuracy
function Trainer:step()
  check_self(self, Trainer, "step", "Trainer")
  if self.done then
    local why = "done"
    if self.stopped then why = STOPPED[self.stop_reason] or STOPPED.on_step end
    error(format("calling 'step' on a finished Trainer (%s after %d steps)", why, self.step_count), 2)
  end
  local batch = next_batch(self)
  local opt = self.optimizer
  local outputs, value
  if self._per_batch then
    outputs, value = compiled.batch_step(self._per_batch, opt, batch)
  elseif self._compile then
    outputs, value = compiled.whole_step(self._whole, self.X, self._targets, batch, batch_loss, self, opt)
  else
    local total
    outputs, total = batch_loss(self, batch)
    opt:zero_grad()
    total:backward()
    value = total.data
  end
  local diverged = not is_finite(value)
  if not diverged then
    opt:step()
    local s = self.schedule
    -- the loss, for schedules driven by one (plateau); with a validation set
    -- those are stepped at each evaluation instead, with the validation loss
    if s and not (self.validation and by_validation(s)) then s:step(value) end
  end
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
  if diverged then
    self.done, self.stopped, self.stop_reason, self.diverged = true, true, "diverged", k
  elseif self.validation and (k % self.validate_every == 0 or self.done) then
    validate(self, k)
  end
  if self._on_step and self._on_step(k, value, accuracy, self) == false then
    self.done, self.stopped = true, true
    self.stop_reason = self.stop_reason or "on_step"
  end
  if self.done then finish(self) end
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
--   frame's slice does not overshoot; no step at all when the time is short,
--   and then the estimate is halved, so that one slow step does not stop the
--   training for good)
--   and `clock` (`function() -> seconds`, default the trainer's `clock`)
-- @treturn boolean whether the training is finished (`trainer.done`)
-- @treturn integer the number of steps this call made
function Trainer:run(budget)
  check_self(self, Trainer, "run", "Trainer")
  local max_steps, max_samples, max_seconds, clock, deadline
  if type(budget) == "number" then
    if not is_count(budget) then
      arg_error("run", 1, "positive integer or table expected, got " .. show(budget))
    end
    max_steps = budget
  elseif type(budget) == "table" then
    for name in pairs(budget) do
      if not BUDGETS[name] then arg_error("run", 1, format("unknown budget '%s'", tostring(name))) end
    end
    max_steps, max_samples, max_seconds, clock = budget.steps, budget.samples, budget.seconds, budget.clock
    deadline = budget.deadline
    if max_steps ~= nil and not is_count(max_steps) then
      arg_error("run", 1, "budget 'steps': positive integer expected, got " .. show(max_steps))
    end
    if max_samples ~= nil and not is_count(max_samples) then
      arg_error("run", 1, "budget 'samples': positive integer expected, got " .. show(max_samples))
    end
    if max_seconds ~= nil and not (type(max_seconds) == "number" and max_seconds > 0) then
      arg_error("run", 1, "budget 'seconds': number > 0 expected, got " .. show(max_seconds))
    end
    if clock ~= nil and not callable(clock) then
      arg_error("run", 1, "budget 'clock': function expected, got " .. show(clock))
    end
    if deadline ~= nil and not (type(deadline) == "number" and deadline == deadline) then
      arg_error("run", 1, "budget 'deadline': number expected, got " .. show(deadline))
    end
  elseif budget ~= nil then
    arg_error("run", 1, "nil, integer or table of budgets expected, got " .. type_name(budget))
  end
  if self.done then return true, 0 end
  clock = clock or self.clock
  local steps, samples0 = 0, self.samples
  local t0 = max_seconds and clock()
  repeat
    local start = deadline and clock()
    if start and start >= deadline then break end
    if start and self.step_seconds and start + self.step_seconds + 4 * self._step_dev > deadline then
      -- A slice that had time but made no step halves the estimate: one slow
      -- step (a recompile, a collection) must not stop the training for good.
      if steps == 0 then self.step_seconds, self._step_dev = self.step_seconds / 2, self._step_dev / 2 end
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
  local total = self.total_steps == huge and "inf" or format("%d", self.total_steps)
  return format("Trainer (%d/%s steps, epoch %d, loss %s)", self.step_count, total, self.epoch,
    last and format("%.6g", last) or "-")
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
--     whether the output is a terminal, by isatty). The bar fits the
--     terminal's width (`$COLUMNS`, else the terminal's, at least 40 columns)
--   - `checkpoint`: a file path: `train.checkpoint` writes the training
--     there when it ends, and every `checkpoint_every` steps; when it cannot
--     (a full disk, say), the training stops and `fit` raises an error
--     naming the step
--   - `resume`: a checkpoint's path, restored before the first step (a
--     training stopped by `on_step` goes on from there); `true`: the
--     `checkpoint` file when it exists (a script killed and started again
--     goes on where its last checkpoint was)
--
-- A loss that is not finite stops the training (see `Trainer:step`) and
-- `fit` raises an error saying so.
-- @treturn table the history `{loss = {...}, accuracy = {...}}`: one entry
--   per step (`accuracy` stays empty without an accuracy), and the
--   validation entries (see `Trainer`)
-- @treturn Trainer the trainer (its `step_count`, `stopped`, ...)
function M.fit(model, X, y, opts)
  local t, arg, msg = new_trainer("fit", model, X, y, opts, FIT_OPTIONS)
  if not t then arg_error("fit", arg, msg) end
  opts = opts or {}
  local path, every, resume = opts.checkpoint, opts.checkpoint_every, opts.resume
  if path ~= nil and type(path) ~= "string" then
    arg_error("fit", 4, "option 'checkpoint': file path (string) expected, got " .. show(path))
  end
  if every ~= nil and not is_count(every) then
    arg_error("fit", 4, "option 'checkpoint_every': positive integer expected, got " .. show(every))
  end
  if every ~= nil and path == nil then
    arg_error("fit", 4, "option 'checkpoint_every' needs option 'checkpoint'")
  end
  if resume ~= nil and type(resume) ~= "string" and type(resume) ~= "boolean" then
    arg_error("fit", 4, "option 'resume': file path (string) or boolean expected, got " .. show(resume))
  end
  if resume == true then
    if not path then arg_error("fit", 4, "option 'resume' = true needs option 'checkpoint'") end
    -- from the checkpoint when there is one: a script killed and started again goes on
    local f = type(io) == "table" and io.open(path, "rb")
    if f then f:close() end
    resume = f and path or nil
  end
  if resume then checkpoints.read(resume, { trainer = t }) end
  local p
  p, msg = progress.for_fit(opts, t)
  if msg then arg_error("fit", 4, msg) end
  local save_error -- why a checkpoint could not be written (the training stops there)
  local function loop()
    while not t.done do
      t:step()
      if path and (t.done or (every and t.step_count % every == 0)) then
        local ok, why = checkpoints.try_write(path, { trainer = t })
        if not ok then
          save_error = why
          return
        end
      end
      if p then progress.show(p, t, t.done) end
    end
  end
  if p and p.terminal then
    -- on an error, end the bar's line before the message is shown
    local ok, err = pcall(loop)
    if (not ok or save_error) and t.step_count > p.first then p.out:write("\n") end
    if not ok then error(err, 0) end
  else
    loop()
  end
  if save_error then
    error(format("fit: %s (at step %d; the training stopped there)", save_error, t.step_count), 2)
  end
  if t.diverged then
    error(format("fit: the loss became %s at step %d, so the training stopped (before the optimizer used " ..
      "its gradients). To find the op that made it, run the training inside mg.detect_anomaly() " ..
      "(`local _ <close> = mg.detect_anomaly()`); a smaller learning rate often helps.",
      tostring(t.last_loss), t.diverged), 2)
  end
  return t.history, t
end

--- Writes a checkpoint: everything a training needs to go on later exactly
-- as if it had never stopped. The file is a JSON document (written
-- atomically, every number to the bit) holding the model's parameters, the
-- optimizer's state, the schedule's position, the trainer's position (step
-- counter, epoch, the epoch's order, its generator, history, validation
-- state) and the engine generator's state (`mg.get_rng_state`, which
-- `nn.Dropout` and shuffling draw from).
-- @tparam string path the file
-- @tparam table objs any of `model` (a module, or an array of Values),
--   `optimizer` and `schedule` (anything with `state()` and `load_state()`),
--   `trainer` (a `Trainer`; its model, optimizer and schedule are the
--   defaults of the other fields) and `generator` (an `mg.Generator`)
function M.checkpoint(path, objs)
  checkpoints.write(path, objs)
end

--- Loads a checkpoint into existing objects made as the saved ones were
-- (same model shape, same kinds of optimizer and schedule, a trainer over
-- the same data with the same options). Nothing changes when the file is
-- refused (a wrong shape, a hostile or damaged file): the error names the
-- file and what is wrong.
-- @tparam string path the file
-- @tparam table objs as for `checkpoint`
-- @treturn ?integer the trainer's step count in the checkpoint (nil without a trainer)
function M.restore(path, objs)
  local step = checkpoints.read(path, objs) -- not a tail call: errors blame our caller
  return step
end

return require("micrograd._names").strict(M, "micrograd.train")
