--- Compiled steps for `micrograd.train`'s Trainer (option `compile = true`).
--
-- Two ways, chosen by the Trainer:
--
-- - **whole batch**: the batch's loss (every sample, the l2 term) is traced
--   once with `mg.compile` and replayed; the same losses and gradients as the
--   dynamic step, bit for bit (but for "cross_entropy", whose stabilising
--   shift by the largest logit is read once, while tracing: the same up to
--   rounding, as long as no logit grows more than ~700 above it).
-- - **per sample** (mini-batches, shuffled or not): one sample's loss is
--   traced once per label (svm, bce) or with the target as an input (mse),
--   and `run_batch` replays it over the batch's samples in C, each scaled by
--   1 / batch size; the l2 term is a graph of its own. The same losses and
--   gradients as the dynamic step up to rounding (the sums are added in
--   another order).
--
-- Both return the model's outputs as numbers (arrays of numbers for a model
-- with several outputs) and the loss, with the gradients in the parameters.
-- @module micrograd.train_compiled
local mg = require("micrograd")
local lossfns = require("micrograd.loss")

local is_value, unpack = mg.is_value, table.unpack
local format = string.format

local M = {}

--- Losses that decompose into one term per sample (`loss(batch)` is the mean
-- of `loss({sample})`), and whether their target can only take a few values
-- (one graph per value) or is a number to feed as an input.
M.PER_SAMPLE = { svm = "label", bce = "label", bce_logits = "label", mse = "input" }

local function flatten(first, o)
  if is_value(o) or type(o) ~= "table" then return { first, o } end
  return { first, unpack(o) }
end

--- A step replayed from the whole batch's graph, compiled at the first call.
-- @tparam table trainer the Trainer (fields `_graph`, `_widths` are kept in it)
-- @tparam function batch_loss `(trainer, batch) -> outputs, loss Value`
-- @tparam {integer,...} batch the sample indices (the same every step)
-- @treturn table the outputs, one per sample
-- @treturn number the loss
function M.whole_step(trainer, batch_loss, batch)
  if not trainer._graph then
    local widths = {}
    trainer._graph = mg.compile(function()
      local outputs, total = batch_loss(trainer, batch)
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
    end, 0)
    trainer._widths = widths
  end
  local graph = trainer._graph
  local flat = graph()
  trainer.optimizer:zero_grad()
  graph:backward()
  local outputs, pos = {}, 2
  for i, w in ipairs(trainer._widths) do
    if w == 0 then
      outputs[i], pos = flat[pos], pos + 1
    else
      outputs[i] = { unpack(flat, pos, pos + w - 1) }
      pos = pos + w
    end
  end
  return outputs, flat[1]
end

-- The inputs of sample k as a row of numbers: for "input" losses its target
-- follows its inputs (a number, or the numbers of an array).
local function row_of(state, k)
  if state.kind == "label" then return state.X[k] end
  local row = state.rows[k]
  if not row then
    local x, t = state.X[k], state.targets[k]
    row = { unpack(x) }
    if type(t) == "table" then
      for j = 1, #t do row[#row + 1] = t[j] end
    else
      row[#row + 1] = t
    end
    state.rows[k] = row
  end
  return row
end

-- The graph for sample k's group: one per label, or one for every sample.
local function graph_for(state, k)
  local key = state.kind == "label" and state.targets[k] or "all"
  local group = state.groups[key]
  if group then return group end
  local nin, model, loss = state.nin, state.model, state.loss
  local graph
  if state.kind == "label" then
    local label = state.targets[k]
    graph = mg.compile(function(...)
      local o = model({ ... })
      return flatten(loss({ o }, { label }), o)
    end, nin)
  else
    local target = state.targets[k]
    local width = type(target) == "table" and #target or 0
    graph = mg.compile(function(...)
      local args = { ... }
      local t = width == 0 and args[nin + 1] or { unpack(args, nin + 1, nin + width) }
      local o = model({ unpack(args, 1, nin) })
      return flatten(loss({ o }, { t }), o)
    end, nin + math.max(width, 1))
    state.width = width
  end
  group = { graph = graph, rows = {}, at = {}, outputs = {}, count = 0, options = {} }
  group.options.outputs = group.outputs
  state.groups[key], state.order[#state.order + 1] = group, group
  return group
end

--- A new per-sample state for a Trainer, or nil and a message saying why its
-- data cannot be replayed per sample.
-- @param model the model
-- @tparam {table,...} X the inputs (arrays of numbers, all the same length)
-- @tparam table targets the labels the loss trains on
-- @tparam string loss_name the built-in loss
-- @tparam function loss `(outputs, targets) -> Value`
-- @tparam ?table params the parameters for the l2 term, with `alpha`
-- @tparam ?number alpha
-- @treturn ?table
-- @treturn ?string
function M.per_sample(model, X, targets, loss_name, loss, params, alpha)
  local kind = M.PER_SAMPLE[loss_name]
  if not kind then
    return nil, format("a compiled step with mini-batches needs loss 'svm', 'bce' or 'mse', got %s",
      loss_name == "function" and "a loss function" or "'" .. loss_name .. "'")
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
  local state = { kind = kind, model = model, X = X, targets = targets, loss = loss, nin = nin,
    groups = {}, order = {}, rows = {}, outputs = {} }
  if params then
    state.l2 = mg.compile(function() return lossfns.l2(params, alpha) end, 0)
  end
  return state
end

--- One step replayed per sample: the batch's samples by group through
-- `run_batch`, then the l2 term.
-- @tparam table state from `per_sample`
-- @param optimizer the Trainer's optimizer
-- @tparam {integer,...} batch the sample indices
-- @treturn table the outputs, one per sample (reused from step to step)
-- @treturn number the loss
function M.sample_step(state, optimizer, batch)
  local n = #batch
  for _, group in ipairs(state.order) do group.count = 0 end
  for i = 1, n do
    local k = batch[i]
    local group = graph_for(state, k)
    local c = group.count + 1
    group.rows[c], group.at[c], group.count = row_of(state, k), i, c
  end
  optimizer:zero_grad()
  local total, outputs = 0, state.outputs
  for _, group in ipairs(state.order) do
    local c = group.count
    if c > 0 then
      for j = #group.rows, c + 1, -1 do group.rows[j] = nil end
      group.options.scale = 1 / n
      total = total + group.graph:run_batch(group.rows, group.options)
      for j = 1, c do outputs[group.at[j]] = group.outputs[j] end
    end
  end
  for i = #outputs, n + 1, -1 do outputs[i] = nil end
  if state.l2 then
    total = total + state.l2()
    state.l2:backward()
  end
  return outputs, total
end

return require("micrograd._names").strict(M, "micrograd.train_compiled")
