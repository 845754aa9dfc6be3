-- micrograd's README example, in Lua: build an expression, run backward,
-- read the gradients. Run it with `build/micrograd examples/readme.lua`.
local mg = require("micrograd")
local Value = mg.Value

local a = Value(-4.0)
local b = Value(2.0)
local c = a + b
local d = a * b + b ^ 3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a):relu()
d = d + 3 * d + (b - a):relu()
local e = c - d
local f = e ^ 2
local g = f / 2.0
g = g + 10.0 / f
print(string.format("%.4f", g.data)) -- 24.7041, the outcome of this forward pass
g:backward()
print(string.format("%.4f", a.grad)) -- 138.8338, i.e. the numerical value of dg/da
print(string.format("%.4f", b.grad)) -- 645.5773, i.e. the numerical value of dg/db
