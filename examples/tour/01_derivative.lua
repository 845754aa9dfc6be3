-- Tour 1: what a derivative is, measured by hand.
--
-- The start of micrograd's lecture: take f(x) = 3x^2 - 4x + 5, nudge x by a
-- small h and watch how much f moves. The ratio (f(x + h) - f(x)) / h is the
-- slope, and as h shrinks it approaches the derivative f'(x) = 6x - 4. Then a
-- function of three inputs, d = a*b + c, and its partial derivatives, each
-- measured the same way by nudging one input at a time.
--
--   build/micrograd examples/tour/01_derivative.lua
local mg = require("micrograd")

local function f(x) return 3 * x ^ 2 - 4 * x + 5 end
local function df(x) return 6 * x - 4 end -- the same, worked out with calculus

print("f(x) = 3x^2 - 4x + 5")
print(string.format("f(3.0) = %.1f", f(3.0)))
print()

-- The slope at x = 3 for smaller and smaller h. At first the estimate gets
-- better; at h = 1e-15 it falls apart, because f(x + h) - f(x) subtracts two
-- nearly equal floating-point numbers and only a few bits are left.
print("the slope at x = 3.0, measured with a nudge h:")
print("         h   (f(x+h) - f(x)) / h")
for _, h in ipairs({ 0.1, 0.01, 0.001, 1e-6, 1e-8, 1e-15 }) do
  local x = 3.0
  print(string.format("%10g   %.8f", h, (f(x + h) - f(x)) / h))
end
print(string.format("the exact derivative 6x - 4 at x = 3.0 is %.1f", df(3.0)))
print()

-- The derivative is a slope, and its sign says which way f goes: at x = -3
-- f falls as x grows, at x = 2/3 it is flat (the bottom of the parabola).
print("   x    measured   6x - 4")
for _, x in ipairs({ -3.0, 2 / 3, 3.0 }) do
  local h = 1e-6
  print(string.format("%5.2f   %9.5f   %6.2f", x, (f(x + h) - f(x)) / h, df(x)))
end
print()

-- Several inputs: d = a*b + c. Nudge one input, keep the others fixed: that
-- is the partial derivative with respect to that input.
local a, b, c = 2.0, -3.0, 10.0
local function d_of(aa, bb, cc) return aa * bb + cc end
local h = 1e-4
local d1 = d_of(a, b, c)
print(string.format("d = a*b + c with a = %.1f, b = %.1f, c = %.1f: d = %.1f", a, b, c, d1))
local slopes = {
  a = (d_of(a + h, b, c) - d1) / h, -- d goes down as a goes up: b is negative
  b = (d_of(a, b + h, c) - d1) / h,
  c = (d_of(a, b, c + h) - d1) / h,
}
print(string.format("dd/da measured %.4f   (calculus: b = %.1f)", slopes.a, b))
print(string.format("dd/db measured %.4f   (calculus: a = %.1f)", slopes.b, a))
print(string.format("dd/dc measured %.4f   (calculus: 1.0)", slopes.c))
print()

-- A preview of what the rest of the tour builds: the same expression made of
-- Values, and backward() computing all three derivatives at once, exactly.
local av, bv, cv = mg.Value(a, "a"), mg.Value(b, "b"), mg.Value(c, "c")
local dv = av * bv + cv
dv:backward()
print(string.format("with Values and backward(): a.grad = %.1f, b.grad = %.1f, c.grad = %.1f",
  av.grad, bv.grad, cv.grad))
print("Measuring one input at a time costs one extra evaluation per input;")
print("backward() gets every derivative in one sweep, which is what makes")
print("training a network with thousands of parameters possible.")
