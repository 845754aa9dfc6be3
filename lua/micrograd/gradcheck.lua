--- Gradient checking: `backward()` against central finite differences.
--
--     local ok, report = mg.gradcheck(function(x, y) return (x * y):tanh() end, { 0.5, -1.2 })
--     assert(ok, tostring(report))
--
-- `opts.params` checks parameters too: Values that fn uses (a model's
-- `m:parameters()`), whose gradients are compared the same way.
--
-- @module micrograd.gradcheck
local check = require("micrograd._check")
local mg = require("micrograd")
local compat = require("micrograd._compat")
local arg_error = check.arg_error

local Value, is_value, no_grad = mg.Value, mg.is_value, mg.no_grad
local abs, max, huge = math.abs, math.max, math.huge
local format, concat, type, unpack = string.format, table.concat, type, compat.unpack

local M = {}

-- The options (micrograd._check's schema format); params is checked first, by check_arguments.
local OPTIONS = {
  { "eps", check.rule("positive number", function(x) return type(x) == "number" and x > 0 and x < huge end),
    1e-6 },
  { "tol", check.rule("number >= 0", function(x) return type(x) == "number" and x >= 0 end), 1e-5 },
  { "params", true },
}

--- The value of fn at the point xs (numbers), with no graph.
local function value_at(fn, xs)
  local out = no_grad(function()
    local vs = {}
    for i, x in ipairs(xs) do vs[i] = Value(x) end
    return fn(unpack(vs))
  end)
  if type(out) == "number" then return out end
  if not is_value(out) then
    error(format("gradcheck: fn must return a Value or a number, got %s", type(out)), 3)
  end
  return out.data
end

local Report = {}
Report.__index = Report

--- One line per input and parameter: analytic and numeric gradients and their relative error.
function Report:__tostring()
  local lines = { format("gradcheck: worst relative error %.3g (tolerance %g) at %s",
    self.worst, self.tol, self.names[self.worst_input]) }
  for i = 1, #self.errors do
    lines[#lines + 1] = format("  %s: backward %.17g, finite differences %.17g, relative error %.3g",
      self.names[i], self.analytic[i], self.numeric[i], self.errors[i])
  end
  return concat(lines, "\n")
end

--- Checks gradcheck's arguments (errors blame gradcheck's caller); returns
-- the parameters (or nil), their names, eps and tol.
local function check_arguments(fn, inputs, opts)
  local mt = type(fn) == "table" and getmetatable(fn)
  if type(fn) ~= "function" and not (mt and mt.__call) then
    arg_error("gradcheck", 1, "function expected, got " .. type(fn), 3)
  end
  local params = type(opts) == "table" and opts.params or nil
  local param_names = {}
  if type(params) == "table" and type(params.parameters) == "function" then -- a module
    if type(params.parameter_names) == "function" then param_names = params:parameter_names() end
    params = params:parameters()
  end
  if params ~= nil then
    if type(params) ~= "table" then
      arg_error("gradcheck", 3, "option 'params': array of Values expected, got " .. type(params), 3)
    end
    for i = 1, #params do
      if not is_value(params[i]) then
        arg_error("gradcheck", 3, format("option 'params': Value expected at index %d, got %s", i,
          type(params[i])), 3)
      end
    end
  end
  local nparams = params and #params or 0
  if type(inputs) ~= "table" or (#inputs == 0 and nparams == 0) then
    arg_error("gradcheck", 2, "non-empty array of numbers expected", 3)
  end
  for i = 1, #inputs do
    local x = inputs[i]
    if type(x) ~= "number" or x ~= x or abs(x) == huge then
      arg_error("gradcheck", 2,
        format("finite number expected at index %d, got %s", i, check.describe(x, true)), 3)
    end
  end
  opts = check.options("gradcheck", 3, opts, OPTIONS, 3)
  return params, param_names, opts.eps, opts.tol
end

--- Compares the gradients `backward()` gives for `fn` at `inputs` with
-- central finite differences `(f(x + eps) - f(x - eps)) / (2 eps)`.
-- The relative error of input i is `|a - n| / max(1, |a|, |n|)`.
-- @tparam function fn takes one Value per input, returns a Value (a scalar)
-- @tparam {number,...} inputs the point to check at
-- @tparam[opt] table opts `eps` (step, default 1e-6), `tol` (largest
--   relative error accepted, default 1e-5), `params` (an array of Values fn
--   uses, or a model: their gradients are checked too, a model's named as
--   its `parameter_names()` say; their `data` and `grad` are left as they were)
-- @treturn boolean whether every input's and parameter's relative error is within `tol`
-- @treturn table the report: `errors`, `analytic`, `numeric` (one entry per
--   input, then one per parameter), `names` ("input 1", "parameter 2 (w2)"),
--   `worst`, `worst_input` (its index), `tol`; `tostring(report)` explains it
function M.check(fn, inputs, opts)
  local params, param_names, eps, tol = check_arguments(fn, inputs, opts)
  local nparams = params and #params or 0

  -- analytic: one backward from zeroed grads (the parameters' grads are put back after)
  local saved_grads = {}
  for j = 1, nparams do saved_grads[j], params[j].grad = params[j].grad, 0 end
  local values = {}
  for i, x in ipairs(inputs) do values[i] = Value(x) end
  local ok, out = pcall(fn, unpack(values))
  if ok and is_value(out) then ok = pcall(out.backward, out) end
  local param_grads = {}
  for j = 1, nparams do param_grads[j], params[j].grad = params[j].grad, saved_grads[j] end
  if not ok then error(out, 0) end
  if not is_value(out) then arg_error("gradcheck", 1, "fn must return a Value, got " .. type(out)) end

  local report = setmetatable({ errors = {}, analytic = {}, numeric = {}, names = {}, worst = 0,
    worst_input = 1, tol = tol }, Report)
  local function record(i, name, a, up, down)
    local n = (up - down) / (2 * eps)
    local err = abs(a - n) / max(1, abs(a), abs(n))
    if err ~= err then err = huge end -- a NaN on either side fails
    report.analytic[i], report.numeric[i], report.errors[i], report.names[i] = a, n, err, name
    if err > report.worst or i == 1 then report.worst, report.worst_input = err, i end
  end
  local xs = { unpack(inputs) }
  for i, x in ipairs(inputs) do
    xs[i] = x + eps
    local up = value_at(fn, xs)
    xs[i] = x - eps
    local down = value_at(fn, xs)
    xs[i] = x
    record(i, "input " .. i, values[i].grad, up, down)
  end
  for j = 1, nparams do
    local p = params[j]
    local x = p.data
    p.data = x + eps
    local up_ok, up = pcall(value_at, fn, xs)
    p.data = x - eps
    local down_ok, down = pcall(value_at, fn, xs)
    p.data = x -- the parameter's own bits back, even after an error
    if not up_ok then error(up, 0) end
    if not down_ok then error(down, 0) end
    local label = p.label or param_names[j]
    local name = format("parameter %d%s", j, label and " (" .. label .. ")" or "")
    record(#inputs + j, name, param_grads[j], up, down)
  end
  return report.worst <= tol, report
end

return require("micrograd._names").strict(M, "micrograd.gradcheck")
