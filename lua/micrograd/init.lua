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
