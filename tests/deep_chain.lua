-- 10^6 steps of x = x * a + b, then backward: ctest runs it with `ulimit -s 256`,
-- so any recursion over the graph (in C or in Lua) would overflow the stack.
local mg = require("micrograd")
local n = tonumber(arg[1]) or 1000000
local a, b = mg.Value(1.0), mg.Value(1.0)
local x = mg.Value(0.0)
local x0 = x
for _ = 1, n do
  x = x * a + b
end
x:backward()
-- With a = b = 1 and x0 = 0: x_k = k, so dx/da = 0 + 1 + ... + (n - 1), dx/db = n, dx/dx0 = 1.
local function check(what, got, want)
  if got ~= want then
    error(string.format("%s: got %.17g, want %.17g", what, got, want))
  end
end
check("x.data", x.data, n)
check("a.grad", a.grad, n * (n - 1) / 2)
check("b.grad", b.grad, n)
check("x0.grad", x0.grad, 1)
print(string.format("deep chain of %d steps: ok", n))
