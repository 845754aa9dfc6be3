--- Compiled steps for `micrograd.train`'s Trainer (option `compile = true`).
--
-- Two ways, chosen by the Trainer; both give the dynamic step's losses and
-- gradients bit for bit (but for the sign of a zero), because they replay
-- the graph the dynamic step builds, and both read the data at every step,
-- as the dynamic step does:
--
-- - **per batch** (a built-in loss, inputs that are arrays of numbers): one
--   graph per batch size is traced with the batch's inputs and labels as the
--   graph's inputs (a label as numbers: -y for "svm", y for "bce", the
--   target for "mse", a one-hot row for "cross_entropy"), and every step
--   feeds it the rows of the step's batch. The loss is built as the dynamic
--   one is, with the label entering as a factor (`y * z` where the dynamic
--   loss branches on y, `dot(one_hot, z)` where it picks `z[class]`): the
--   same values and the same gradients in the same order.
-- - **whole batch** (any other data or loss function, every sample in a
--   fixed order): the batch's loss (the l2 term included) is traced with
--   `mg.compile`, the samples' inputs and labels as constants, and replayed;
--   it is traced again at the first step that finds them changed.
--
-- Both return the model's outputs as numbers (arrays of numbers for a model
-- with several outputs) and the loss, with the gradients in the parameters.
-- @module micrograd.train_compiled
local mg = require("micrograd")
local lossfns = require("micrograd.loss")
local compat = require("micrograd._compat")

local is_value, unpack, sum, dot, logsumexp = mg.is_value, compat.unpack, mg.sum, mg.dot, mg.logsumexp
local format, max, idiv, tointeger = string.format, math.max, compat.idiv, compat.tointeger

local M = {}

--- The most inputs `mg.compile` takes: a batch's rows and labels must fit.
M.MAX_INPUTS = 100000

--- The graph's outputs, flattened: the loss, then each sample's output (or
-- its outputs one after the other); widths[i] is 0 for a single output, else
-- the sample's number of outputs.
local function flatten(total, outputs, widths)
  local flat = { total }
  for i, o in ipairs(outputs) do
    if is_value(o) or type(o) ~= "table" then
      flat[#flat + 1], widths[i] = o, 0
    else
      for j = 1, #o do flat[#flat + 1] = o[j] end
      widths[i] = #o
    end
  end
  return flat
end

--- The outputs of a replay: one number (or array of numbers) per sample.
local function unflatten(flat, widths)
  local outputs, pos = {}, 2
  for i, w in ipairs(widths) do
    if w == 0 then
      outputs[i], pos = flat[pos], pos + 1
    else
      outputs[i] = { unpack(flat, pos, pos + w - 1) }
      pos = pos + w
    end
  end
  return outputs
end

-- What a whole-batch graph holds of sample k: its row and label, and the
-- elements of those that are tables (one level: rows of numbers, arrays of targets).
local function remember_one(x)
  if type(x) ~= "table" then return { x } end
  local copy = { x }
  for key, v in pairs(x) do copy[#copy + 1], copy[#copy + 2] = key, v end
  return copy
end

local function same(a, b) return a == b or (a ~= a and b ~= b) end -- NaN is NaN

local function same_one(copy, x)
  if not same(copy[1], x) then return false end
  if type(x) ~= "table" then return true end
  local count = 0
  for _ in pairs(x) do count = count + 1 end
  if 2 * count ~= #copy - 1 then return false end
  for i = 2, #copy, 2 do
    if not same(x[copy[i]], copy[i + 1]) then return false end
  end
  return true
end

-- What the whole batch's graph holds of the data (see same_data).
local function remember(X, targets, batch)
  local seen = {}
  for i = 1, #batch do
    local k = batch[i]
    seen[2 * i - 1], seen[2 * i] = remember_one(X[k]), remember_one(targets[k])
  end
  return seen
end

-- Whether the batch's rows and labels are still what remember saw (NaN equals NaN).
local function same_data(seen, X, targets, batch)
  for i = 1, #batch do
    local k = batch[i]
    if not same_one(seen[2 * i - 1], X[k]) or not same_one(seen[2 * i], targets[k]) then return false end
  end
  return true
end

--- The state of a whole-batch compiled step (its graph, compiled at the first
-- step, the outputs' widths, and a copy of the data it was traced on): one per
-- Trainer, passed to `whole_step`.
-- @treturn table
function M.whole_state()
  return { graph = nil, widths = nil, seen = nil }
end

--- Forgets state's graph (the trainer's data were replaced): the next step traces again.
-- @tparam table state from `whole_state`
function M.whole_reset(state)
  state.graph, state.widths, state.seen = nil, nil, nil
end

--- A step replayed from the whole batch's graph, compiled at the first call
-- and again when the batch's rows or labels have changed since.
-- @tparam table state from `whole_state`
-- @tparam {table,...} X the inputs
-- @param targets the labels the loss reads
-- @tparam {integer,...} batch the sample indices (the same every step)
-- @tparam function batch_loss `(trainer, batch) -> outputs, loss Value`, called while tracing
-- @tparam table trainer batch_loss's first argument
-- @tparam table optimizer its gradients are zeroed before the backward pass
-- @treturn table the outputs, one per sample
-- @treturn number the loss
function M.whole_step(state, X, targets, batch, batch_loss, trainer, optimizer)
  if state.graph and not same_data(state.seen, X, targets, batch) then M.whole_reset(state) end
  if not state.graph then
    local widths = {}
    state.graph = mg.compile(function()
      local outputs, total = batch_loss(trainer, batch)
      return flatten(total, outputs, widths)
    end, 0)
    state.widths, state.seen = widths, remember(X, targets, batch)
  end
  local graph = state.graph
  local flat = graph()
  optimizer:zero_grad()
  graph:backward()
  return unflatten(flat, state.widths), flat[1]
end

-- ---- per batch -------------------------------------------------------------

local function one_output(name, o)
  if type(o) == "table" and not is_value(o) then
    error(format("loss '%s' expects one output per sample (a Value), but the model returned an array of %d",
      name, #o), 0)
  end
end

--- Per built-in loss: `width(state)` (the label inputs per sample), `encode(row,
-- pos, target, state, k)` (writes them at row[pos ..]; sample k's; `factor`:
-- a number label's one input is factor * label), `prepare(state, batch)` and
-- `loss(outputs, labels, state)` (the batch's loss from the outputs and each
-- sample's label inputs), built as `micrograd.loss` builds it from numbers.
local LABELS = {
  svm = { -- relu(1 + -y * s): the factor -y is the input
    width = function() return 1 end,
    factor = -1,
    encode = function(row, pos, y) row[pos] = -y end,
    loss = function(outputs, labels)
      local losses = {}
      for i = 1, #outputs do
        one_output("svm", outputs[i])
        losses[i] = (1 + labels[i][1] * outputs[i]):relu()
      end
      return sum(losses) * (1.0 / #outputs)
    end,
  },
  bce = { -- softplus(z) - y * z, where the dynamic loss has softplus(z) - z or softplus(z)
    width = function() return 1 end,
    factor = 1,
    encode = function(row, pos, y) row[pos] = y end,
    loss = function(outputs, labels)
      local losses = {}
      for i = 1, #outputs do
        local z = outputs[i]
        one_output("bce", z)
        losses[i] = z:softplus() - labels[i][1] * z
      end
      return sum(losses) * (1.0 / #outputs)
    end,
  },
  cross_entropy = { -- logsumexp(z) - dot(one_hot, z), where the dynamic loss has z[class]
    width = function(state) return state.classes end,
    prepare = function(state, batch) -- checks the classes; one higher than any seen needs new graphs
      local targets, top = state.targets, state.classes
      for i = 1, #batch do
        local k = batch[i]
        local class = targets[k]
        class = type(class) == "number" and tointeger(class)
        if not class or class < 1 then
          error(format("classes 1..k expected for loss 'cross_entropy', got %s at index %d",
            tostring(targets[k]), k), 0)
        end
        if class > top then top = class end
      end
      if top > state.classes then state.classes, state.width, state.graphs = top, top, {} end
    end,
    encode = function(row, pos, class, state)
      for j = 1, state.classes do row[pos + j - 1] = j == class and 1 or 0 end
    end,
    loss = function(outputs, labels, state)
      local losses, k = {}, state.classes
      for i = 1, #outputs do
        local z = outputs[i]
        if is_value(z) or type(z) ~= "table" then
          error(format("loss 'cross_entropy' expects an array of logits per sample (a model with k " ..
            "outputs), but the model returned a %s", is_value(z) and "Value" or type(z)), 0)
        end
        if #z < k then
          error(format("loss 'cross_entropy': class %d is out of the %d outputs of the model", k, #z), 0)
        end
        losses[i] = logsumexp(z) - dot(labels[i], k == #z and z or { unpack(z, 1, k) })
      end
      return sum(losses) * (1.0 / #outputs)
    end,
  },
  mse = { -- the target is an input: (p - t)^2 as the dynamic loss
    width = function(state) return state.target_width end,
    encode = function(row, pos, t, state, k)
      local w = state.target_width
      if type(t) == "number" and w == 1 and not state.target_arrays then
        row[pos] = t
      elseif type(t) == "table" and not is_value(t) and #t == w and state.target_arrays then
        for j = 1, w do row[pos + j - 1] = t[j] end
      else
        error(format("loss 'mse': a compiled step needs targets of one shape (%s), got %s at index %d",
          state.target_arrays and "arrays of " .. w or "numbers",
          type(t) == "table" and "an array of " .. #t or type(t), k), 0)
      end
    end,
    loss = function(outputs, labels, state)
      if type(outputs[1]) ~= "table" or is_value(outputs[1]) then
        if state.target_arrays then
          error("bad argument #2 to 'mse' (number or Value expected at index 1, got table)", 0)
        end
        local targets = {}
        for i = 1, #labels do targets[i] = labels[i][1] end
        return lossfns.mse(outputs, targets)
      end
      local preds, flat = {}, {}
      for i = 1, #outputs do
        local o = outputs[i]
        if #o ~= state.target_width then
          error(format("loss 'mse': the model returned %d outputs for sample %d but its target is " ..
            "an array of %d", #o, i, state.target_width), 0)
        end
        for j = 1, #o do preds[#preds + 1], flat[#flat + 1] = o[j], labels[i][j] end
      end
      return lossfns.mse(preds, flat)
    end,
  },
}
LABELS.bce_logits = LABELS.bce

--- A new per-batch state for a Trainer, or nil and a message saying why its
-- data cannot be replayed that way.
-- @param model the model
-- @tparam {table,...} X the inputs (arrays of numbers, all the same length)
-- @tparam table targets the labels the loss trains on (as the Trainer mapped them)
-- @tparam string loss_name the built-in loss (the graph builds it itself, see above)
-- @tparam ?table params the parameters for the l2 term, with `alpha`
-- @tparam ?number alpha
-- @tparam integer batch_size the samples per step
-- @treturn ?table
-- @treturn ?string
function M.per_batch(model, X, targets, loss_name, params, alpha, batch_size)
  local labels = LABELS[loss_name]
  if not labels then
    return nil, "a compiled step with mini-batches (or shuffle) needs a built-in loss ('svm', 'bce', " ..
      "'cross_entropy' or 'mse'), got a loss function"
  end
  local nin = type(X[1]) == "table" and #X[1] or 0
  for k = 1, #X do
    local x = X[k]
    if type(x) ~= "table" or is_value(x) or #x ~= nin or nin == 0 then
      return nil, format("a compiled step with mini-batches needs inputs that are arrays of %d numbers, " ..
        "got %s at index %d", nin, type(x) == "table" and "an array of " .. #x or type(x), k)
    end
    for j = 1, nin do
      if type(x[j]) ~= "number" then
        return nil, format("a compiled step with mini-batches needs numbers as inputs, got %s at [%d][%d]",
          is_value(x[j]) and "a Value" or type(x[j]), k, j)
      end
    end
  end
  local state = { labels = labels, model = model, X = X, targets = targets, nin = nin, params = params,
    alpha = alpha, graphs = {}, row = {}, classes = 0, target_width = 1 }
  if loss_name == "cross_entropy" then
    for k = 1, #targets do state.classes = max(state.classes, targets[k]) end
  elseif loss_name == "mse" then
    local t1 = targets[1]
    state.target_width, state.target_arrays = type(t1) == "table" and #t1 or 1, type(t1) == "table"
    for k = 1, #targets do
      local t = targets[k]
      local w = type(t) == "table" and #t or 1
      if w ~= state.target_width or (type(t) == "table") ~= state.target_arrays then
        return nil, format("a compiled step with mini-batches needs targets of one shape, " ..
          "got %s at index 1 and %s at index %d", type(t1) == "table" and "an array of " .. #t1 or "a number",
          type(t) == "table" and "an array of " .. #t or "a number", k)
      end
    end
  end
  state.width = labels.width(state)
  if batch_size * (nin + state.width) > M.MAX_INPUTS then
    return nil, format("a compiled step takes at most %d inputs, and %d samples of %d inputs and %d label " ..
      "inputs are more (use a smaller batch_size)", M.MAX_INPUTS, batch_size, nin, state.width)
  end
  return state
end

-- The graph for batches of size n: inputs are each sample's nin inputs, then its label inputs.
local function graph_for(state, n)
  local entry = state.graphs[n]
  if entry then return entry end
  local nin, width, labels, model = state.nin, state.width, state.labels, state.model
  local params, alpha = state.params, state.alpha
  local per = nin + width
  local widths = {}
  local graph = mg.compile(function(...)
    local args, outputs, ys = { ... }, {}, {}
    for i = 1, n do
      local base = (i - 1) * per
      outputs[i] = model({ unpack(args, base + 1, base + nin) })
      ys[i] = { unpack(args, base + nin + 1, base + per) }
    end
    local total = labels.loss(outputs, ys, state)
    if params then total = total + lossfns.l2(params, alpha) end
    return flatten(total, outputs, widths)
  end, n * per)
  entry = { graph = graph, widths = widths }
  state.graphs[n] = entry
  return entry
end

--- One step replayed from the graph for the batch's size, fed the batch's rows.
-- @tparam table state from `per_batch`
-- @param optimizer the Trainer's optimizer
-- @tparam {integer,...} batch the sample indices
-- @treturn table the outputs, one per sample
-- @treturn number the loss
function M.batch_step(state, optimizer, batch)
  local n, labels = #batch, state.labels
  if labels.prepare then labels.prepare(state, batch) end
  local entry = graph_for(state, n)
  local row, X, targets, encode, factor = state.row, state.X, state.targets, labels.encode, labels.factor
  local nin, width = state.nin, state.width
  local pos = 0
  for i = 1, n do
    local k = batch[i]
    local x = X[k]
    if type(x) ~= "table" then
      error(format("a compiled step needs inputs that are arrays of %d numbers, got %s at index %d", nin,
        type(x), k), 0)
    end
    for j = 1, nin do row[pos + j] = x[j] end -- checked by the graph (see below)
    pos = pos + nin
    if factor and type(targets[k]) == "number" then
      row[pos + 1] = factor * targets[k] -- exact: factor is 1 or -1
    else
      encode(row, pos + 1, targets[k], state, k)
    end
    pos = pos + width
  end
  for j = #row, pos + 1, -1 do row[j] = nil end
  local ok, flat = pcall(entry.graph, row)
  if not ok then -- say which sample's input is not a number
    local at = type(flat) == "string" and tointeger(flat:match("number expected at index (%d+)"))
    if not at then error(flat, 0) end
    local i, j = idiv(at - 1, nin + width) + 1, (at - 1) % (nin + width) + 1
    local v = row[at]
    error(format("a compiled step needs numbers as inputs, got %s at [%d][%d]",
      is_value(v) and "a Value" or type(v), batch[i], j), 0)
  end
  optimizer:zero_grad()
  entry.graph:backward()
  return unflatten(flat, entry.widths), flat[1]
end

return require("micrograd._names").strict(M, "micrograd.train_compiled")
