-- packaging/smoke.lua - checks an installed micrograd from a stock interpreter
-- (lua5.4, lua5.3, lua5.1 or luajit):
--   lua5.3 packaging/smoke.lua LMOD_DIR CMOD_DIR [LUA]
-- LMOD_DIR/CMOD_DIR: where micrograd/init.lua and micrograd/core.so must be
-- found (the install under test, not a copy elsewhere on the search path).
-- LUA, when given, is how the interpreter's version must start ("Lua 5.3",
-- "LuaJIT").
local lmod, cmod, want_lua = ...
assert(lmod and cmod, "usage: lua5.4 smoke.lua LMOD_DIR CMOD_DIR [LUA]")

local failures = 0
local function check(ok, what, detail)
  print(string.format("  %s %s%s", ok and "ok  " or "FAIL", what, detail and (": " .. detail) or ""))
  if not ok then failures = failures + 1 end
end

-- package.searchpath, which Lua 5.1 lacks (LuaJIT has it).
local function searchpath(name, path)
  name = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local file = template:gsub("%?", name)
    local f = io.open(file, "r")
    if f then
      f:close()
      return file
    end
  end
  return nil
end

local function where(name, path)
  return searchpath(name, path) or "(not found)"
end
local jit_lib = rawget(_G, "jit")
local lua = jit_lib and jit_lib.version or _VERSION
check(want_lua == nil or lua:sub(1, #want_lua) == want_lua, "runs on " .. lua,
  want_lua and ("want " .. want_lua) or nil)
local init = where("micrograd", package.path)
local core = where("micrograd.core", package.cpath)
check(init == lmod .. "/micrograd/init.lua", "micrograd found in " .. lmod, init)
check(core == cmod .. "/micrograd/core.so", "micrograd.core found in " .. cmod, core)

local mg = require("micrograd")
check(mg._VERSION:match("^micrograd %d+%.%d+%.%d+$") ~= nil, "mg._VERSION", mg._VERSION)
check(package.loaded["micrograd.core"] ~= nil, "micrograd.core loaded")

-- micrograd's README example.
local Value = mg.Value
local a, b = Value(-4.0), Value(2.0)
local c, d = a + b, a * b + b ^ 3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a):relu()
d = d + 3 * d + (b - a):relu()
local e = c - d
local f = e ^ 2
local g = f / 2.0
g = g + 10.0 / f
g:backward()
local got = string.format("%.4f %.4f %.4f", g.data, a.grad, b.grad)
check(got == "24.7041 138.8338 645.5773", "README example", got)

-- nn, loss, optim: XOR trains.
mg.seed(4)
local X = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }
local y = { -1, 1, 1, -1 }
local model = mg.nn.MLP(2, { 4, 1 }, { activation = "tanh" })
local opt = mg.optim.SGD(model:parameters(), { lr = 0.3, momentum = 0.9 })
local loss
for _ = 1, 200 do
  local scores = {}
  for i, x in ipairs(X) do scores[i] = model(x) end
  loss = mg.loss.svm(scores, y)
  opt:zero_grad()
  loss:backward()
  opt:step()
end
check(loss.data < 0.1, "XOR trains", string.format("loss %.4f", loss.data))

-- Save and reload through the JSON reader (dkjson, from the system).
local ok, copy = pcall(mg.nn.parse, mg.nn.dump(model), "xor")
check(ok and copy({ 1, 0 }).data == model({ 1, 0 }).data, "nn.dump/nn.parse round trip",
  not ok and tostring(copy) or nil)
check(package.loaded.dkjson ~= nil, "dkjson loaded", where("dkjson", package.path))

-- Data sets and a compiled graph (C replay).
local Xm, ym = mg.data.make_moons(20, { noise = 0.1, seed = 1 })
check(#Xm == 20 and #ym == 20, "data.make_moons")
local cg = mg.compile(function(p, q) return (p * q + 1):tanh() end, 2)
local tanh2 = (math.exp(4) - 1) / (math.exp(4) + 1)
check(math.abs(cg(0.5, 2) - tanh2) < 1e-12, "mg.compile", tostring(cg(0.5, 2)))

if failures > 0 then
  io.stderr:write(string.format("smoke.lua: %d check(s) FAILED\n", failures))
  os.exit(1)
end
print("smoke.lua: all checks passed")
