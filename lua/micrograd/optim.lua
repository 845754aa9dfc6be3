--- Optimizers, learning-rate schedules and gradient clipping.
--
-- `SGD` and `Adam` update a fixed list of parameters (Values) from their
-- `.grad`; the per-parameter loops run in C (`micrograd.core.ParamSet`), so a
-- step costs one Lua call however many parameters there are. The formulas are
-- PyTorch's documented ones: `torch.optim.SGD` (dampening 0) and
-- `torch.optim.AdamW` (decoupled weight decay).
--
--    local optim = require("micrograd.optim")
--    local opt = optim.SGD(model:parameters(), { lr = 0.1, momentum = 0.9 })
--    local sched = optim.linear(opt, 1.0, 0.1, 100)
--    for k = 1, 100 do
--      opt:zero_grad()
--      local loss = ...      -- forward
--      loss:backward()
--      opt:step()
--      sched:step()
--    end
--
-- Hyper-parameters are plain fields (`opt.lr`, `opt.momentum`, ...) read at
-- every `step()`, so they can be changed between steps.
-- @module micrograd.optim
local check = require("micrograd._check")
local core = require("micrograd.core")
local compat = require("micrograd._compat")
local arg_error, check_self = check.arg_error, check.check_self
local type_name, show = check.type_name, check.describe

local ParamSet, Buffer, is_value = core.ParamSet, core.Buffer, core.is_value
local cos, pi, huge, floor = math.cos, math.pi, math.huge, math.floor
local idiv, tointeger = compat.idiv, compat.tointeger
local format = string.format

local M = {}

-- ---- argument checks -------------------------------------------------------

local function finite_nonneg(x)
  return type(x) == "number" and x >= 0 and x < huge
end

-- True when x is an integer (or an integral float) from lo to 2^53.
local function is_integer(x, lo)
  return type(x) == "number" and x >= lo and x <= 2 ^ 53 and x == floor(x)
end

local function count(x)
  return is_integer(x, 1)
end

-- What each hyper-parameter must be: a description and a test.
local RULES = {
  lr = { "finite number >= 0", finite_nonneg },
  momentum = { "finite number >= 0", finite_nonneg },
  weight_decay = { "finite number >= 0", finite_nonneg },
  eps = { "finite number >= 0", finite_nonneg },
  nesterov = { "boolean", function(x) return type(x) == "boolean" end },
  clip_norm = { "nil or number >= 0", function(x) return x == nil or (type(x) == "number" and x >= 0) end },
  clip_value = { "nil or number >= 0", function(x) return x == nil or (type(x) == "number" and x >= 0) end },
  betas = {
    "{beta1, beta2} in [0, 1)",
    function(x)
      if type(x) ~= "table" then return false end
      local b1, b2 = x[1], x[2]
      return type(b1) == "number" and type(b2) == "number" and b1 >= 0 and b1 < 1 and b2 >= 0 and b2 < 1
    end,
  },
  -- schedules
  from = { "finite number >= 0", finite_nonneg },
  to = { "finite number >= 0", finite_nonneg },
  gamma = { "finite number >= 0", finite_nonneg },
  steps = { "integer >= 1", count },
  every = { "integer >= 1", count },
  factor = { "number in (0, 1)", function(x) return type(x) == "number" and x > 0 and x < 1 end },
  patience = { "integer >= 0", function(x) return is_integer(x, 0) end },
  min_lr = { "finite number >= 0", finite_nonneg },
  lr_now = { "finite number >= 0", finite_nonneg },
  best = { "nil or number", function(x) return x == nil or type(x) == "number" end },
  bad_steps = { "integer >= 0", function(x) return is_integer(x, 0) end },
}

-- nil when x follows the rule for name, else "<rule> expected, got <x>".
local function bad(name, x)
  local rule = RULES[name]
  if rule[2](x) then return nil end
  if name == "betas" and type(x) == "table" then
    x = format("{%s, %s}", show(x[1]), show(x[2]))
  else
    x = show(x)
  end
  return format("%s expected, got %s", rule[1], x)
end

-- nil when every field of t named in names follows its rule, else a message
-- "<label> 'name': <rule> expected, got <x>".
local function bad_fields(t, names, label)
  for i = 1, #names do
    local msg = bad(names[i], t[names[i]])
    if msg then return format("%s '%s': %s", label, names[i], msg) end
  end
end

-- x, or d when x is nil.
local function default(x, d)
  if x == nil then return d end
  return x
end

-- An option schema (micrograd._check) that knows names and leaves their
-- values to the RULES above, checked after the defaults are filled in.
local function names_schema(names)
  local schema = { what = "table of options" }
  for i, name in ipairs(names) do schema[i] = { name, true } end
  return schema
end

-- A ParamSet over params: an array of Values, or anything with a
-- :parameters() method (an nn module).
local function param_set(params, fname)
  if type(params) == "table" and type(params.parameters) == "function" then
    params = params:parameters()
  end
  -- Through pcall, the C function's message has no position: blame the caller's caller.
  local ok, ps = pcall(ParamSet, params, fname)
  if not ok then error(ps, ps == "not enough memory" and 0 or 3) end -- out of memory passes as it is
  return ps
end

-- nil when state is a table made by :state() of a `want` optimizer over n
-- parameters (its step count an integer >= 0), else a message.
local function bad_state_header(state, want, n)
  if type(state) ~= "table" then return format("state table expected, got %s", type_name(state)) end
  if state.kind ~= want then
    return format("%s state expected, got kind %s", want,
      type(state.kind) == "string" and format("'%s'", state.kind) or show(state.kind))
  end
  if state.size ~= n then
    return format("state for %d parameters expected, got %s", n, show(state.size))
  end
  local step = state.step
  if not is_integer(step, 0) then
    return format("field 'step': integer >= 0 expected, got %s", show(step))
  end
end

-- A new Buffer of n elements holding the array state[name], or nil and a message.
local function load_buffer(state, name, n)
  local t = state[name]
  if type(t) ~= "table" then
    return nil, format("field '%s': array of %d numbers expected, got %s", name, n, type_name(t))
  end
  if #t ~= n then
    return nil, format("field '%s': array of %d numbers expected, got %d elements", name, n, #t)
  end
  for i = 1, n do
    if type(t[i]) ~= "number" then
      return nil, format("field '%s': number expected at index %d, got %s", name, i, show(t[i]))
    end
  end
  local buf = Buffer(n)
  buf:load(t)
  return buf
end

-- ---- SGD -------------------------------------------------------------------

local SGD = {}
SGD.__index = SGD

local SGD_FIELDS = { "lr", "momentum", "weight_decay", "nesterov", "clip_norm", "clip_value" }
local SGD_OPTIONS = names_schema(SGD_FIELDS)

-- nil when opt's hyper-parameters are valid, else a message.
local function bad_sgd(opt, label)
  local msg = bad_fields(opt, SGD_FIELDS, label)
  if msg then return msg end
  if opt.nesterov and opt.momentum == 0 then
    return format("%s 'nesterov': needs a momentum above 0", label)
  end
end

--- Stochastic gradient descent, as `torch.optim.SGD` (dampening 0).
--
-- Each step, for every parameter p with gradient grad: `g = grad +
-- weight_decay * p`; with momentum, `buf = g` on the first step, else `buf =
-- momentum * buf + g`, and `g = g + momentum * buf` (Nesterov) or `g = buf`;
-- then `p = p - lr * g`. With momentum and weight_decay 0 that is exactly
-- micrograd's `p.data = p.data - lr * p.grad`.
-- @tparam {Value,...}|table params the parameters: an array of distinct Values, or a
--   module with a `parameters()` method (the list is copied: later changes to it do not matter)
-- @tparam[opt] table opts `lr` (default 0.01), `momentum` (0), `weight_decay` (0),
--   `nesterov` (false; needs a momentum), `clip_norm`, `clip_value` (no clipping):
--   gradients are clipped by global L2 norm, then by value, before each update
-- @treturn SGD the optimizer; its options are fields that can be changed between steps
function M.SGD(params, opts)
  local ps = param_set(params, "SGD")
  opts = check.options("SGD", 2, opts, SGD_OPTIONS)
  local opt = setmetatable({
    lr = default(opts.lr, 0.01),
    momentum = default(opts.momentum, 0),
    weight_decay = default(opts.weight_decay, 0),
    nesterov = default(opts.nesterov, false),
    clip_norm = opts.clip_norm,
    clip_value = opts.clip_value,
    _params = ps,
    _steps = 0,
    _buf = nil, -- the momentum buffers, made at the first step with a momentum
  }, SGD)
  local msg = bad_sgd(opt, "option")
  if msg then arg_error("SGD", 2, msg) end
  return opt
end

-- Clips the gradients as opt says; returns the norm when clipping by norm.
local function clip(opt)
  local ps, norm = opt._params, nil
  if opt.clip_norm then norm = ps:clip_norm(opt.clip_norm) end
  if opt.clip_value then ps:clip_value(opt.clip_value) end
  return norm
end

--- One update of every parameter from its gradient (clipped first if asked).
-- @treturn number|nil the gradients' L2 norm before clipping, when `clip_norm` is set
function SGD:step()
  check_self(self, SGD, "step", "SGD")
  local msg = bad_sgd(self, "field")
  if msg then check.self_error("step", msg) end
  local norm = clip(self)
  local first = false
  if self.momentum ~= 0 and not self._buf then
    self._buf, first = Buffer(#self._params), true
  end
  self._params:sgd(self.lr, self.momentum, self.weight_decay, self.nesterov, self._buf, first)
  self._steps = self._steps + 1
  return norm
end

--- Sets every parameter's gradient to 0.
function SGD:zero_grad()
  check_self(self, SGD, "zero_grad", "SGD")
  self._params:zero_grad()
end

--- The optimizer's state: a table of numbers, booleans, strings and arrays
-- (kind "SGD", size, step, the hyper-parameters and, once made,
-- `momentum_buffer`) that survives a JSON round trip with numbers written in full.
-- @treturn table
function SGD:state()
  check_self(self, SGD, "state", "SGD")
  return {
    kind = "SGD", size = #self._params, step = self._steps,
    lr = self.lr, momentum = self.momentum, weight_decay = self.weight_decay,
    nesterov = self.nesterov, clip_norm = self.clip_norm, clip_value = self.clip_value,
    momentum_buffer = self._buf and self._buf:totable() or nil,
  }
end

--- Restores a state from `SGD:state()` of an optimizer over as many parameters
-- (hyper-parameters included); the next steps are those the saved optimizer
-- would have made. Nothing changes when the state is refused.
-- @tparam table state
function SGD:load_state(state)
  check_self(self, SGD, "load_state", "SGD")
  local n = #self._params
  local msg = bad_state_header(state, "SGD", n)
  if not msg then msg = bad_sgd(state, "field") end
  if msg then arg_error("load_state", 1, msg) end
  local buf
  if state.momentum_buffer ~= nil then
    buf, msg = load_buffer(state, "momentum_buffer", n)
    if not buf then arg_error("load_state", 1, msg) end
  end
  for _, name in ipairs(SGD_FIELDS) do self[name] = state[name] end
  self._steps, self._buf = tointeger(state.step), buf
end

function SGD:__tostring()
  return format("SGD (%d parameters, lr %s, %d steps)", #self._params, tostring(self.lr), self._steps)
end

-- ---- Adam ------------------------------------------------------------------

local Adam = {}
Adam.__index = Adam

local ADAM_FIELDS = { "lr", "betas", "eps", "weight_decay", "clip_norm", "clip_value" }
local ADAM_OPTIONS = names_schema(ADAM_FIELDS)

--- Adam with decoupled weight decay, as `torch.optim.AdamW`.
--
-- Step t (1, 2, ...), for every parameter p with gradient g: `p = p - lr *
-- weight_decay * p`; `m = b1 m + (1 - b1) g`; `v = b2 v + (1 - b2) g^2`;
-- `mhat = m / (1 - b1^t)`; `vhat = v / (1 - b2^t)`; `p = p - lr * mhat /
-- (sqrt(vhat) + eps)`.
-- @tparam {Value,...}|table params as for `SGD`
-- @tparam[opt] table opts `lr` (default 0.001), `betas` (`{0.9, 0.999}`), `eps` (1e-8),
--   `weight_decay` (0), `clip_norm`, `clip_value` (as for `SGD`)
-- @treturn Adam the optimizer; its options are fields that can be changed between steps
function M.Adam(params, opts)
  local ps = param_set(params, "Adam")
  opts = check.options("Adam", 2, opts, ADAM_OPTIONS)
  local n = #ps
  local opt = setmetatable({
    lr = default(opts.lr, 0.001),
    betas = default(opts.betas, { 0.9, 0.999 }),
    eps = default(opts.eps, 1e-8),
    weight_decay = default(opts.weight_decay, 0),
    clip_norm = opts.clip_norm,
    clip_value = opts.clip_value,
    _params = ps,
    _steps = 0,
    _m = Buffer(n),
    _v = Buffer(n),
  }, Adam)
  local msg = bad_fields(opt, ADAM_FIELDS, "option")
  if msg then arg_error("Adam", 2, msg) end
  opt.betas = { opt.betas[1], opt.betas[2] } -- a copy: the caller's table may change
  return opt
end

--- One update of every parameter from its gradient (clipped first if asked).
-- @treturn number|nil the gradients' L2 norm before clipping, when `clip_norm` is set
function Adam:step()
  check_self(self, Adam, "step", "Adam")
  local msg = bad_fields(self, ADAM_FIELDS, "field")
  if msg then check.self_error("step", msg) end
  local norm = clip(self)
  local t = self._steps + 1
  self._params:adam(self.lr, self.betas[1], self.betas[2], self.eps, self.weight_decay, t, self._m, self._v)
  self._steps = t
  return norm
end

--- Sets every parameter's gradient to 0.
function Adam:zero_grad()
  check_self(self, Adam, "zero_grad", "Adam")
  self._params:zero_grad()
end

--- The optimizer's state: kind "Adam", size, step, the hyper-parameters and
-- the moment arrays `m` and `v` (see `SGD:state`).
-- @treturn table
function Adam:state()
  check_self(self, Adam, "state", "Adam")
  return {
    kind = "Adam", size = #self._params, step = self._steps,
    lr = self.lr, betas = { self.betas[1], self.betas[2] }, eps = self.eps,
    weight_decay = self.weight_decay, clip_norm = self.clip_norm, clip_value = self.clip_value,
    m = self._m:totable(), v = self._v:totable(),
  }
end

--- Restores a state from `Adam:state()` (see `SGD:load_state`).
-- @tparam table state
function Adam:load_state(state)
  check_self(self, Adam, "load_state", "Adam")
  local n = #self._params
  local msg = bad_state_header(state, "Adam", n) or bad_fields(state, ADAM_FIELDS, "field")
  if msg then arg_error("load_state", 1, msg) end
  local m, v
  m, msg = load_buffer(state, "m", n)
  if m then v, msg = load_buffer(state, "v", n) end
  if not v then arg_error("load_state", 1, msg) end
  for _, name in ipairs(ADAM_FIELDS) do self[name] = state[name] end
  self.betas = { state.betas[1], state.betas[2] }
  self._steps, self._m, self._v = tointeger(state.step), m, v
end

function Adam:__tostring()
  return format("Adam (%d parameters, lr %s, %d steps)", #self._params, tostring(self.lr), self._steps)
end

-- ---- clipping --------------------------------------------------------------

--- Scales the gradients so that their global L2 norm is at most `max_norm`,
-- as PyTorch's `clip_grad_norm_`: with `coef = max_norm / (norm + 1e-6)`, every
-- gradient is multiplied by `coef` when it is below 1.
-- @tparam {Value,...}|table params an array of distinct Values, or a module
-- @tparam number max_norm at least 0
-- @treturn number the norm before clipping
function M.clip_grad_norm(params, max_norm)
  local ps = param_set(params, "clip_grad_norm")
  if not (type(max_norm) == "number" and max_norm >= 0) then
    arg_error("clip_grad_norm", 2, format("number >= 0 expected, got %s", show(max_norm)))
  end
  return ps:clip_norm(max_norm)
end

--- Clamps every gradient to [-c, c], as PyTorch's `clip_grad_value_`.
-- @tparam {Value,...}|table params an array of distinct Values, or a module
-- @tparam number c at least 0
function M.clip_grad_value(params, c)
  local ps = param_set(params, "clip_grad_value")
  if not (type(c) == "number" and c >= 0) then
    arg_error("clip_grad_value", 2, format("number >= 0 expected, got %s", show(c)))
  end
  ps:clip_value(c)
end

-- ---- learning-rate schedules -----------------------------------------------

local Schedule = {}
Schedule.__index = Schedule

-- Per kind: the fields that define it and lr at step k (an integer >= 0).
local KINDS = {
  linear = {
    fields = { "from", "to", "steps" },
    lr = function(s, k)
      if k >= s.steps then return s.to end
      return s.from - (s.from - s.to) * k / s.steps
    end,
  },
  step = {
    fields = { "from", "every", "gamma" },
    lr = function(s, k) return s.from * s.gamma ^ idiv(k, s.every) end,
  },
  cosine = {
    fields = { "from", "to", "steps" },
    lr = function(s, k)
      if k == 0 then return s.from end
      if k >= s.steps then return s.to end
      return s.to + (s.from - s.to) * (1 + cos(pi * k / s.steps)) / 2
    end,
  },
  exponential = {
    fields = { "from", "gamma" },
    lr = function(s, k) return s.from * s.gamma ^ k end,
  },
}

-- A new schedule of kind over opt from the fields in t (already checked).
local function schedule(kind, opt, t)
  local s = setmetatable({ kind = kind, opt = opt, k = 0 }, Schedule)
  for _, name in ipairs(KINDS[kind].fields) do s[name] = t[name] end
  s.steps = s.steps and tointeger(s.steps)
  s.every = s.every and tointeger(s.every)
  opt.lr = KINDS[kind].lr(s, 0)
  return s
end

-- nil when opt can be an optimizer (a table), else a message.
local function bad_optimizer(opt)
  if type(opt) ~= "table" then return format("optimizer expected, got %s", type_name(opt)) end
end

-- The schedule kind made from an options table with the fields names: fill
-- picks them from the checked options; `from` defaults to the optimizer's lr.
-- Errors blame the line that called the public function calling this one.
local function decay_schedule(kind, opt, opts, names, fill)
  local bad_opt = bad_optimizer(opt)
  if bad_opt then arg_error(kind, 1, bad_opt, 3) end
  if opts == nil then arg_error(kind, 2, "table of options expected, got nil", 3) end
  local t = fill(check.options(kind, 2, opts, names_schema(names), 3))
  if t.from == nil then
    t.from = opt.lr
    local msg = bad("from", t.from)
    if msg then arg_error(kind, 1, "field 'lr': " .. msg, 3) end
  end
  local msg = bad_fields(t, KINDS[kind].fields, "option")
  if msg then arg_error(kind, 2, msg, 3) end
  return schedule(kind, opt, t)
end

--- Linear decay: step k's rate is `from - (from - to) * k / steps`, then `to`
-- from step `steps` on (micrograd's demo is `optim.linear(opt, 1.0, 0.1, 100)`,
-- which gives exactly its `1.0 - 0.9 * k / 100`). Sets `opt.lr = from` now.
-- @tparam table opt an optimizer (anything with a settable `lr`)
-- @tparam number from the first rate
-- @tparam number to the last rate
-- @tparam integer steps the number of steps from `from` to `to`
-- @treturn Schedule call `:step()` after each optimizer step
function M.linear(opt, from, to, steps)
  local bad_opt = bad_optimizer(opt)
  if bad_opt then arg_error("linear", 1, bad_opt) end
  local t = { from = from, to = to, steps = steps }
  for i, name in ipairs(KINDS.linear.fields) do
    local msg = bad(name, t[name])
    if msg then arg_error("linear", i + 1, format("%s: %s", name, msg)) end
  end
  return schedule("linear", opt, t)
end

--- Step decay, as PyTorch's `StepLR`: step k's rate is `lr0 * gamma ^ (k // every)`,
-- with `lr0` the optimizer's `lr` now.
-- @tparam table opt an optimizer
-- @tparam table opts `every` (required: an integer >= 1), `gamma` (default 0.1)
-- @treturn Schedule
function M.step(opt, opts)
  local bad_opt = bad_optimizer(opt)
  if bad_opt then arg_error("step", 1, bad_opt) end
  if opts == nil then arg_error("step", 2, "table of options expected, got nil") end
  opts = check.options("step", 2, opts, names_schema({ "every", "gamma" }))
  local t = { from = opt.lr, every = opts.every, gamma = default(opts.gamma, 0.1) }
  local msg = bad("from", t.from)
  if msg then arg_error("step", 1, "field 'lr': " .. msg) end
  msg = bad_fields(t, { "every", "gamma" }, "option")
  if msg then arg_error("step", 2, msg) end
  return schedule("step", opt, t)
end

--- Cosine annealing, as PyTorch's `CosineAnnealingLR`: step k's rate is
-- `to + (from - to) * (1 + cos(pi * k / steps)) / 2`, then `to` from step
-- `steps` on. Sets `opt.lr = from` now.
-- @tparam table opt an optimizer
-- @tparam table opts `from` (default: the optimizer's `lr`), `to` (default 0),
--   `steps` (required: an integer >= 1)
-- @treturn Schedule
function M.cosine(opt, opts)
  local s = decay_schedule("cosine", opt, opts, { "from", "to", "steps" }, function(o)
    return { from = o.from, to = default(o.to, 0), steps = o.steps }
  end)
  return s -- not a tail call: the errors above blame our caller's line
end

--- Exponential decay, as PyTorch's `ExponentialLR`: step k's rate is
-- `from * gamma ^ k`. Sets `opt.lr = from` now.
-- @tparam table opt an optimizer
-- @tparam table opts `gamma` (required: a number >= 0, usually just below 1),
--   `from` (default: the optimizer's `lr`)
-- @treturn Schedule
function M.exponential(opt, opts)
  local s = decay_schedule("exponential", opt, opts, { "from", "gamma" }, function(o)
    return { from = o.from, gamma = o.gamma }
  end)
  return s -- not a tail call: the errors above blame our caller's line
end

--- The rate at step k, changing nothing.
-- @tparam[opt] integer k a step (>= 0); default: the current one
-- @treturn number
function Schedule:lr(k)
  check_self(self, Schedule, "lr", "Schedule")
  if k == nil then k = self.k end
  if not is_integer(k, 0) then
    arg_error("lr", 1, format("integer >= 0 expected, got %s", show(k)))
  end
  return KINDS[self.kind].lr(self, tointeger(k))
end

--- Moves to the next step and sets the optimizer's `lr` to its rate.
-- @treturn number the new rate
function Schedule:step()
  check_self(self, Schedule, "step", "Schedule")
  local k = self.k + 1
  local lr = KINDS[self.kind].lr(self, k)
  self.k, self.opt.lr = k, lr
  return lr
end

--- The schedule's state: `kind`, `step` and the fields that define it.
-- @treturn table
function Schedule:state()
  check_self(self, Schedule, "state", "Schedule")
  local t = { kind = self.kind, step = self.k }
  for _, name in ipairs(KINDS[self.kind].fields) do t[name] = self[name] end
  return t
end

--- Restores a state from `:state()` of a schedule of the same kind, and sets
-- the optimizer's `lr` to the rate of its step.
-- @tparam table state
function Schedule:load_state(state)
  check_self(self, Schedule, "load_state", "Schedule")
  if type(state) ~= "table" then
    arg_error("load_state", 1, format("state table expected, got %s", type_name(state)))
  end
  if state.kind ~= self.kind then
    arg_error("load_state", 1, format("%s schedule state expected, got kind %s", self.kind,
      type(state.kind) == "string" and format("'%s'", state.kind) or show(state.kind)))
  end
  local k = state.step
  if not is_integer(k, 0) then
    arg_error("load_state", 1, format("field 'step': integer >= 0 expected, got %s", show(k)))
  end
  local msg = bad_fields(state, KINDS[self.kind].fields, "field")
  if msg then arg_error("load_state", 1, msg) end
  for _, name in ipairs(KINDS[self.kind].fields) do self[name] = state[name] end
  self.steps = self.steps and tointeger(self.steps)
  self.every = self.every and tointeger(self.every)
  self.k = tointeger(k)
  self.opt.lr = KINDS[self.kind].lr(self, self.k)
end

function Schedule:__tostring()
  return format("Schedule (%s, step %d, lr %s)", self.kind, self.k, tostring(self:lr()))
end

-- ---- warmup and plateau: schedules with their own state ----------------------

-- nil when state can be a load_state's state of a schedule of kind, else a message.
local function bad_state(state, kind)
  if type(state) ~= "table" then return format("state table expected, got %s", type_name(state)) end
  if state.kind ~= kind then
    return format("%s schedule state expected, got kind %s", kind,
      type(state.kind) == "string" and format("'%s'", state.kind) or show(state.kind))
  end
  if not is_integer(state.step, 0) then
    return format("field 'step': integer >= 0 expected, got %s", show(state.step))
  end
end

local Warmup = {}
Warmup.__index = Warmup

-- The warmup's rate at step k (< steps): rising linearly to `to`.
local function warmup_lr(w, k)
  return w.to * (k + 1) / (w.steps + 1)
end

--- Linear warmup: for the first `steps` steps the rate rises linearly to the
-- target, step k's rate being `target * (k + 1) / (steps + 1)`; from step
-- `steps` on, `after` (a schedule made on the same optimizer) takes over from
-- its own step 0. The target is `after`'s first rate, or without `after` the
-- optimizer's `lr` now (then held). Sets `opt.lr` to step 0's rate now.
-- `warmup:step(loss)` passes the loss on to `after` (for `plateau`).
-- @tparam table opt an optimizer
-- @tparam integer steps the number of warmup steps (>= 1)
-- @param[opt] after a schedule over `opt` (made before the warmup)
-- @treturn Warmup
function M.warmup(opt, steps, after)
  local bad_opt = bad_optimizer(opt)
  if bad_opt then arg_error("warmup", 1, bad_opt) end
  if not count(steps) then arg_error("warmup", 2, format("integer >= 1 expected, got %s", show(steps))) end
  if after ~= nil and (type(after) ~= "table" or type(after.step) ~= "function"
      or type(after.state) ~= "function" or type(after.load_state) ~= "function") then
    arg_error("warmup", 3, format("schedule expected, got %s", type_name(after)))
  end
  if after ~= nil and after.opt ~= opt then arg_error("warmup", 3, "schedule of another optimizer") end
  local to = opt.lr
  local msg = bad("to", to)
  if msg then arg_error("warmup", 1, "field 'lr': " .. msg) end
  local w = { kind = "warmup", opt = opt, k = 0, steps = tointeger(steps), to = to, after = after }
  setmetatable(w, Warmup)
  opt.lr = warmup_lr(w, 0)
  return w
end

--- The current rate.
-- @treturn number
function Warmup:lr()
  check_self(self, Warmup, "lr", "Warmup")
  return self.opt.lr
end

--- Moves to the next step and sets the optimizer's `lr`.
-- @param[opt] loss passed on to `after` once the warmup is over
-- @treturn number the new rate
function Warmup:step(loss)
  check_self(self, Warmup, "step", "Warmup")
  local k = self.k + 1
  self.k = k
  if k < self.steps then
    self.opt.lr = warmup_lr(self, k)
  elseif k == self.steps then
    self.opt.lr = self.to -- the target: after's rate at its step 0
  elseif self.after then
    self.after:step(loss)
  end
  return self.opt.lr
end

--- Whether the next `step` acts on its loss: once the warmup is over, when
-- `after` does (a plateau). `train`'s Trainer uses it (see `plateau`).
-- @treturn boolean
function Warmup:uses_loss()
  check_self(self, Warmup, "uses_loss", "Warmup")
  local after = self.after
  return self.k >= self.steps and after ~= nil and type(after.uses_loss) == "function"
    and after:uses_loss() == true
end

--- `kind` ("warmup"), `step`, `steps`, `to` and `after`'s state (if any).
-- @treturn table
function Warmup:state()
  check_self(self, Warmup, "state", "Warmup")
  return { kind = "warmup", step = self.k, steps = self.steps, to = self.to,
    after = self.after and self.after:state() or nil }
end

--- Restores a state from `:state()` of a warmup (with an `after` of the same
-- kind), and sets the optimizer's `lr` to the rate of its step.
-- @tparam table state
function Warmup:load_state(state)
  check_self(self, Warmup, "load_state", "Warmup")
  local msg = bad_state(state, "warmup") or bad_fields(state, { "steps", "to" }, "field")
  if msg then arg_error("load_state", 1, msg) end
  if (state.after == nil) ~= (self.after == nil) then
    arg_error("load_state", 1, self.after and "field 'after' (the next schedule's state) missing"
      or "field 'after' given to a warmup with no next schedule")
  end
  if self.after then self.after:load_state(state.after) end
  self.k, self.steps, self.to = tointeger(state.step), tointeger(state.steps), state.to
  if self.k < self.steps then
    self.opt.lr = warmup_lr(self, self.k)
  elseif not self.after then
    self.opt.lr = self.to
  end -- else after:load_state has set the rate
end

function Warmup:__tostring()
  return format("Warmup (step %d of %d, lr %s%s)", self.k, self.steps, tostring(self.opt.lr),
    self.after and ", then " .. tostring(self.after) or "")
end

local Plateau = {}
Plateau.__index = Plateau

--- Reduce on plateau, as PyTorch's `ReduceLROnPlateau` (mode "min",
-- threshold 0): give `plateau:step(loss)` a loss (a training or validation
-- loss, a number or a Value) after each step or evaluation; when more than
-- `patience` calls in a row bring no loss below the best so far, the rate is
-- multiplied by `factor` (not below `min_lr`) and the count starts again.
-- As the `schedule` of `train.fit` (or a `Trainer`) it is given each step's
-- training loss, or, with a `validation` set, each evaluation's validation
-- loss (stepped at the evaluations only).
-- @tparam table opt an optimizer
-- @tparam[opt] table opts `factor` (default 0.1, in (0, 1)), `patience`
--   (default 10), `min_lr` (default 0); the first rate is the optimizer's `lr`
-- @treturn Plateau
function M.plateau(opt, opts)
  local bad_opt = bad_optimizer(opt)
  if bad_opt then arg_error("plateau", 1, bad_opt) end
  opts = check.options("plateau", 2, opts, names_schema({ "factor", "patience", "min_lr" }))
  local t = { factor = default(opts.factor, 0.1), patience = default(opts.patience, 10),
    min_lr = default(opts.min_lr, 0), lr_now = opt.lr }
  local msg = bad("lr_now", t.lr_now)
  if msg then arg_error("plateau", 1, "field 'lr': " .. msg) end
  msg = bad_fields(t, { "factor", "patience", "min_lr" }, "option")
  if msg then arg_error("plateau", 2, msg) end
  return setmetatable({ kind = "plateau", opt = opt, k = 0, factor = t.factor,
    patience = tointeger(t.patience), min_lr = t.min_lr, best = nil, bad_steps = 0 }, Plateau)
end

--- The current rate.
-- @treturn number
function Plateau:lr()
  check_self(self, Plateau, "lr", "Plateau")
  return self.opt.lr
end

--- Whether the next `step` acts on its loss: always (see `plateau`).
-- @treturn boolean true
function Plateau:uses_loss()
  check_self(self, Plateau, "uses_loss", "Plateau")
  return true
end

--- Records a loss; lowers the optimizer's `lr` after more than `patience`
-- losses in a row without a new best. A NaN loss counts as no improvement.
-- @param loss a number or a Value
-- @treturn number the rate
function Plateau:step(loss)
  check_self(self, Plateau, "step", "Plateau")
  if is_value(loss) then loss = loss.data end
  if type(loss) ~= "number" then
    arg_error("step", 1, format("the loss (a number or a Value) expected, got %s: plateau:step(loss)",
      type_name(loss)))
  end
  self.k = self.k + 1
  if self.best == nil or loss < self.best then
    self.best, self.bad_steps = loss, 0
  else
    self.bad_steps = self.bad_steps + 1
    if self.bad_steps > self.patience then
      local lr = self.opt.lr * self.factor
      if lr < self.min_lr then lr = self.min_lr end
      self.opt.lr, self.bad_steps = lr, 0
    end
  end
  return self.opt.lr
end

--- `kind` ("plateau"), `step`, `factor`, `patience`, `min_lr`, `lr` (the
-- current rate), `best` (absent before the first loss) and `bad_steps`.
-- @treturn table
function Plateau:state()
  check_self(self, Plateau, "state", "Plateau")
  return { kind = "plateau", step = self.k, factor = self.factor, patience = self.patience,
    min_lr = self.min_lr, lr = self.opt.lr, best = self.best, bad_steps = self.bad_steps }
end

--- Restores a state from `:state()` of a plateau, the optimizer's `lr` included.
-- @tparam table state
function Plateau:load_state(state)
  check_self(self, Plateau, "load_state", "Plateau")
  local msg = bad_state(state, "plateau")
  if msg then arg_error("load_state", 1, msg) end
  local t = { factor = state.factor, patience = state.patience, min_lr = state.min_lr, lr_now = state.lr,
    best = state.best, bad_steps = state.bad_steps }
  msg = bad_fields(t, { "factor", "patience", "min_lr", "lr_now", "best", "bad_steps" }, "field")
  if msg then arg_error("load_state", 1, (msg:gsub("'lr_now'", "'lr'"))) end
  self.k, self.factor, self.patience = tointeger(state.step), t.factor, tointeger(t.patience)
  self.min_lr, self.best, self.bad_steps, self.opt.lr = t.min_lr, t.best, tointeger(t.bad_steps), t.lr_now
end

function Plateau:__tostring()
  return format("Plateau (step %d, lr %s, best %s, %d of %d without improvement)", self.k,
    tostring(self.opt.lr), tostring(self.best), self.bad_steps, self.patience)
end

return require("micrograd._names").strict(M, "micrograd.optim")
