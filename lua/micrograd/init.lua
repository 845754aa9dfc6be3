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
