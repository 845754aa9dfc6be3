-- micrograd for Lua: a scalar-valued reverse-mode autograd engine.
--
-- `require("micrograd")` returns the whole API: the `Value` type and the
-- engine's documented functions (from the C module `micrograd.core`), and the submodules
-- (`mg.nn`, `mg.loss`, ...), each loaded the first time it is used.
-- (The API reference is docs/core.luadoc and the modules' own LDoc comments.)
local core = require("micrograd.core")

-- What `require("micrograd")` takes from the C module: the functions that
-- docs/core.luadoc documents, and nothing else (core also has internals such
-- as ParamSet and Buffer for optim and train).
-- spec/surface_spec.lua holds this list against the API reference.
local DOCUMENTED = {
  "_VERSION", "Value", "is_value", "sum", "logsumexp", "dot", "vector", "no_grad", "grad_enabled",
  "is_tracing", "detect_anomaly", "seed", "random", "uniform", "normal", "get_rng_state",
  "set_rng_state", "Generator", "compile", "ops",
}

local M = {}
for _, name in ipairs(DOCUMENTED) do M[name] = core[name] end

--- Submodules loaded on first use, e.g. `mg.nn` is `require("micrograd.nn")`.
local submodules = {
  nn = true, loss = true, optim = true, data = true, train = true, viz = true,
}

--- Compares `backward()` with central finite differences: see micrograd.gradcheck.
function M.gradcheck(fn, inputs, opts)
  return require("micrograd.gradcheck").check(fn, inputs, opts)
end

--- The softmax of an array of Values and numbers: an array of Values
-- `exp(values[i] - logsumexp(values))` (made of engine ops, so it is stable,
-- differentiable and compiles like any other op).
-- @tparam {Value|number,...} values a non-empty array
-- @treturn {Value,...} the probabilities, in the order of values
function M.softmax(values)
  local is_value, check = core.is_value, require("micrograd._check")
  if type(values) ~= "table" or is_value(values) then
    check.arg_error("softmax", 1, "table expected, got " .. check.type_name(values))
  end
  if #values == 0 then check.arg_error("softmax", 1, "non-empty array expected, got an empty one") end
  for i = 1, #values do
    local v = values[i]
    if type(v) ~= "number" and not is_value(v) then
      check.arg_error("softmax", 1, string.format("number or Value expected at index %d, got %s", i, type(v)))
    end
  end
  local lse, out = core.logsumexp(values), {}
  for i = 1, #values do
    out[i] = (values[i] - lse):exp()
  end
  return out
end

--- The submodule that has name, for "micrograd has no 'MLP' (did you mean
-- 'nn.MLP'?)". Loading a submodule to look can fail (or meet a name missing
-- while a submodule loads): that only means no suggestion, never recursion.
local looking = false
local function elsewhere(name)
  if looking then return nil end
  looking = true
  local found
  for _, sub in ipairs({ "nn", "loss", "optim", "data", "train", "viz" }) do
    local ok, module = pcall(require, "micrograd." .. sub)
    if ok and type(module) == "table" and rawget(module, name) ~= nil then
      found = sub .. "." .. name
      break
    end
  end
  looking = false
  return found
end

setmetatable(M, {
  __index = function(t, name)
    if name == "ops" then -- made on first use by the C module
      rawset(t, name, core.ops)
      return core.ops
    end
    if submodules[name] then
      local module = require("micrograd." .. name)
      rawset(t, name, module)
      return module
    end
    -- a misspelt name is an error suggesting the right one (micrograd._names)
    local names = require("micrograd._names")
    local candidates = names.names(t)
    for sub in pairs(submodules) do candidates[#candidates + 1] = sub end
    names.missing("micrograd", name, candidates, 2, elsewhere)
  end,
})

return M
