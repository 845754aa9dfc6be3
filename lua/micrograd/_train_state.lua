--- Internal: a Trainer's state for checkpoints (`Trainer:state()` and
-- `Trainer:load_state(state)` in micrograd.train): the table of numbers,
-- strings, booleans and arrays a checkpoint writes, and the checks a state
-- read back passes before anything of the trainer changes. A refused state
-- raises a message without a position (load_state blames its caller).
-- @module micrograd._train_state
local check = require("micrograd._check")
local mg = require("micrograd")
local compat = require("micrograd._compat")
local type_name, show = check.type_name, check.show

local is_value = mg.is_value
local type, tostring, ipairs, pcall, error = type, tostring, ipairs, pcall, error
local format = string.format
local huge, tointeger = math.huge, compat.tointeger

local M = {}

local function copy(t)
  if t == nil then return nil end
  local out = {}
  for i = 1, #t do out[i] = t[i] end
  return out
end

--- The state of trainer t (see `Trainer:state`).
-- @tparam table t a Trainer
-- @treturn table
function M.snapshot(t)
  local h = t.history
  return {
    kind = "Trainer", size = #t._order, step = t.step_count, epoch = t.epoch, samples = t.samples,
    position = t._pos, order = copy(t._order),
    generator = t._generator and t._generator:get_state() or nil,
    history = {
      loss = copy(h.loss), accuracy = copy(h.accuracy), val_loss = copy(h.val_loss),
      val_accuracy = copy(h.val_accuracy), val_step = copy(h.val_step), best_step = h.best_step,
    },
    last_loss = t.last_loss, last_accuracy = t.last_accuracy,
    last_val_loss = t.last_val_loss, last_val_accuracy = t.last_val_accuracy,
    best_val_loss = t._best_loss < huge and t._best_loss or nil, best_step = t.best_step,
    wait = t._wait, best_parameters = copy(t._best_params),
    last_parameters = t.restored and copy(t._last_params) or nil,
    done = t.done, stopped = t.stopped, stop_reason = t.stop_reason, diverged = t.diverged,
  }
end

-- A number of a state: a number, or "nan", "inf", "-inf" (how a checkpoint
-- writes those); nil for anything else.
local NONFINITE = { nan = 0 / 0, inf = huge, ["-inf"] = -huge }
local function state_number(x)
  if type(x) == "number" then return x end
  if type(x) == "string" then return NONFINITE[x] end
end

-- A checked copy of state[name]: nil (when optional), an integer from lo to
-- hi, or raises "field 'name': ...".
local function state_integer(state, name, lo, hi, optional)
  local x = state[name]
  if x == nil and optional then return nil end
  if type(x) ~= "number" or tointeger(x) == nil or x < lo or x > hi then
    error(format("field '%s': integer from %d to %s expected, got %s", name, lo, tostring(hi), show(x)), 0)
  end
  return tointeger(x)
end

-- A checked copy of an array of numbers (integers when asked), or nil when absent.
local function state_numbers(t, name, integers, max_len)
  if t == nil then return nil end
  if type(t) ~= "table" or is_value(t) then
    error(format("field '%s': array of numbers expected, got %s", name, type_name(t)), 0)
  end
  local n = #t
  if max_len and n > max_len then
    error(format("field '%s': at most %d numbers expected, got %d", name, max_len, n), 0)
  end
  local out = {}
  for i = 1, n do
    local x = state_number(t[i])
    if x == nil or (integers and tointeger(x) == nil) then
      error(format("field '%s': %s expected at index %d, got %s", name, integers and "integer" or "number", i,
        show(t[i])), 0)
    end
    out[i] = integers and tointeger(x) or x
  end
  return out
end

-- Checks that r.order is a permutation of 1..n (raises a message, no position).
local function check_order(r, n)
  if not r.order or #r.order ~= n then
    error(format("field 'order': a permutation of 1..%d expected", n), 0)
  end
  local seen = {}
  for i = 1, n do
    local j = r.order[i]
    if j < 1 or j > n or seen[j] then
      error(format("field 'order': a permutation of 1..%d expected, got %d at index %d", n, j, i), 0)
    end
    seen[j] = true
  end
end

-- The state's generator, checked against the trainer's seed, into r.
local function read_generator(self, state, r)
  if (state.generator ~= nil) ~= (self._generator ~= nil) then
    error(format("field 'generator': %s", self._generator and "the trainer has a seed, the state no generator"
      or "the state has a generator, the trainer no seed"), 0)
  end
  if state.generator ~= nil then
    local g = mg.Generator(0)
    local ok = pcall(g.set_state, g, state.generator)
    if not ok then error("field 'generator': generator state of 64 hex digits expected", 0) end
    r.generator = state.generator
  end
end

-- The state's history and last numbers, checked, into r.
local function read_history(state, r)
  local h = state.history
  if type(h) ~= "table" then error("field 'history': table expected, got " .. type_name(h), 0) end
  r.history = {}
  for _, name in ipairs({ "loss", "accuracy", "val_loss", "val_accuracy", "val_step" }) do
    r.history[name] = state_numbers(h[name], "history." .. name, name == "val_step")
  end
  r.history.loss, r.history.accuracy = r.history.loss or {}, r.history.accuracy or {}
  r.history.best_step = state_integer(h, "best_step", 0, 2 ^ 53, true)
  for _, name in ipairs({ "last_loss", "last_accuracy", "last_val_loss", "last_val_accuracy",
    "best_val_loss" }) do
    local x = state[name]
    r[name] = state_number(x)
    if x ~= nil and r[name] == nil then
      error(format("field '%s': number expected, got %s", name, show(x)), 0)
    end
  end
end

--- The trainer's fields from a state, checked; raises a message (no position)
-- when it is refused, and changes nothing.
-- @tparam table self a Trainer
-- @tparam table state
-- @treturn table the checked fields, for `apply`
function M.read(self, state)
  if type(state) ~= "table" or state.kind ~= "Trainer" then
    error(format("Trainer state expected, got %s", type(state) == "table" and "kind " .. show(state.kind)
      or type_name(state)), 0)
  end
  local n = #self._order
  if state.size ~= n then
    error(format("state for %d samples expected, got %s (the trainer's data differ)", n, show(state.size)), 0)
  end
  local r = {
    step = state_integer(state, "step", 0, 2 ^ 53), epoch = state_integer(state, "epoch", 0, 2 ^ 53),
    samples = state_integer(state, "samples", 0, 2 ^ 53), position = state_integer(state, "position", 0, n),
    order = state_numbers(state.order, "order", true, n),
    wait = state_integer(state, "wait", 0, 2 ^ 53),
    best_step = state_integer(state, "best_step", 0, 2 ^ 53, true),
    diverged = state_integer(state, "diverged", 1, 2 ^ 53, true),
  }
  check_order(r, n)
  read_generator(self, state, r)
  read_history(state, r)
  local params = self.restore_best and self.model:parameters()
  for _, name in ipairs({ "best_parameters", "last_parameters" }) do
    r[name] = state_numbers(state[name], name, false, params and #params or 0)
    if r[name] and #r[name] ~= #params then
      error(format("field '%s': %d numbers expected, got %d", name, #params, #r[name]), 0)
    end
  end
  for _, name in ipairs({ "done", "stopped" }) do
    if type(state[name]) ~= "boolean" then error(format("field '%s': boolean expected, got %s", name,
      show(state[name])), 0) end
    r[name] = state[name]
  end
  local reason = state.stop_reason
  if reason ~= nil and reason ~= "on_step" and reason ~= "early stopping" and reason ~= "diverged" then
    error("field 'stop_reason': 'on_step', 'early stopping' or 'diverged' expected, got " .. show(reason), 0)
  end
  r.stop_reason = reason
  return r
end

--- Puts the fields `read` checked into trainer t (see `Trainer:load_state`).
-- @tparam table t a Trainer
-- @tparam table r from `read`
function M.apply(t, r)
  if r.generator then t._generator:set_state(r.generator) end
  local h = t.history
  h.loss, h.accuracy, h.best_step = r.history.loss, r.history.accuracy, r.history.best_step
  if t.validation then
    h.val_loss, h.val_accuracy = r.history.val_loss or {}, r.history.val_accuracy or {}
    h.val_step = r.history.val_step or {}
  end
  t.step_count, t.epoch, t.samples = r.step, r.epoch, r.samples
  t._pos, t._order = r.position, r.order
  t.last_loss, t.last_accuracy = r.last_loss, r.last_accuracy
  t.last_val_loss, t.last_val_accuracy = r.last_val_loss, r.last_val_accuracy
  t._best_loss, t.best_step, t._wait = r.best_val_loss or huge, r.best_step, r.wait
  t.best_val_loss = r.best_val_loss
  t._best_params = r.best_parameters
  -- a training stopped by on_step goes on (that is how a run is interrupted);
  -- one stopped early, or diverged, stays finished
  local resumable = r.stop_reason == nil or r.stop_reason == "on_step"
  t.done = (r.done and not resumable) or r.step >= t.total_steps
  t.stopped = r.stopped and not resumable
  t.stop_reason = not resumable and r.stop_reason or nil
  t.diverged = r.diverged
  -- saved after restore_best put the best weights back: a training that goes
  -- on takes up the last weights again (as if it had never stopped)
  t._last_params, t.restored = r.last_parameters, r.last_parameters ~= nil or nil
  if r.last_parameters and not t.done then
    for i, p in ipairs(t.model:parameters()) do p.data = r.last_parameters[i] end
    t._last_params, t.restored = nil, nil
  end
end

return M
