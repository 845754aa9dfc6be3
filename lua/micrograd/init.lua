-- micrograd for Lua: a scalar-valued reverse-mode autograd engine.
--
-- `require("micrograd")` returns the whole API: the `Value` type and the
-- engine's functions (from the C module `micrograd.core`), and the submodules
-- (`mg.nn`, `mg.loss`, ...), each loaded the first time it is used.
-- (The API reference is docs/core.luadoc and the modules' own LDoc comments.)
local core = require("micrograd.core")

local M = {}
for name, value in pairs(core) do
  M[name] = value
end

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
  local is_value = core.is_value
  local function bad(msg) error("bad argument #1 to 'softmax' (" .. msg .. ")", 3) end
  if type(values) ~= "table" or is_value(values) then
    bad("table expected, got " .. (is_value(values) and "Value" or type(values)))
  end
  if #values == 0 then bad("non-empty array expected, got an empty one") end
  for i = 1, #values do
    local v = values[i]
    if type(v) ~= "number" and not is_value(v) then
      bad(string.format("number or Value expected at index %d, got %s", i, type(v)))
    end
  end
  local lse, out = core.logsumexp(values), {}
  for i = 1, #values do
    out[i] = (values[i] - lse):exp()
  end
  return out
end

setmetatable(M, {
  __index = function(t, name)
    if submodules[name] then
      local module = require("micrograd." .. name)
      rawset(t, name, module)
      return module
    end
  end,
})

return M
