-- Tour 2: backpropagation by hand, with the chain rule.
--
-- The lecture's expression L = (a*b + c) * f, built from Values with a label
-- on every node. We fill in every node's .grad ourselves, from L back to the
-- leaves, one chain-rule step at a time, and check each number against a
-- measured slope (nudge one leaf by h, see how much L moves).
--
--   build/micrograd examples/tour/02_manual_backward.lua
local mg = require("micrograd")
local Value = mg.Value

-- The forward pass: each op records its operands, building a graph.
local a = Value(2.0, "a")
local b = Value(-3.0, "b")
local c = Value(10.0, "c")
local e = a * b; e.label = "e"
local d = e + c; d.label = "d"
local f = Value(-2.0, "f")
local L = d * f; L.label = "L"

print("the forward pass:")
for _, v in ipairs({ a, b, c, e, d, f, L }) do
  print(string.format("  %s = %5.1f   (op %q)", v.label, v.data, v.op))
end
print()

-- A node's .grad is dL/d(node): how much L moves per unit nudge of that node.
-- We go backwards from L. The chain rule: if L depends on x through y, then
-- dL/dx = dL/dy * dy/dx (the local derivative of one op times the gradient
-- that arrived from above).
print("the backward pass by hand:")
L.grad = 1.0 -- dL/dL: nudging L by h moves L by h
print("  L.grad = dL/dL = 1")

-- L = d * f: the local derivative of a product with respect to one factor is
-- the other factor.
d.grad = f.data * L.grad
f.grad = d.data * L.grad
print(string.format("  L = d * f   so  d.grad = f * L.grad = %.1f,  f.grad = d * L.grad = %.1f",
  d.grad, f.grad))

-- d = e + c: a sum passes its gradient to each operand unchanged (local
-- derivative 1): "+" just routes the gradient.
e.grad = 1.0 * d.grad
c.grad = 1.0 * d.grad
print(string.format("  d = e + c   so  e.grad = 1 * d.grad = %.1f,  c.grad = 1 * d.grad = %.1f",
  e.grad, c.grad))

-- e = a * b: a product again.
a.grad = b.data * e.grad
b.grad = a.data * e.grad
print(string.format("  e = a * b   so  a.grad = b * e.grad = %.1f,  b.grad = a * e.grad = %.1f",
  a.grad, b.grad))
print()

-- The check: rebuild L with one leaf nudged by h and measure the slope.
local function L_of(vals)
  return (vals.a * vals.b + vals.c) * vals.f
end
local base = { a = a.data, b = b.data, c = c.data, f = f.data }
local h = 1e-6
print("checked against measured slopes (L(leaf + h) - L) / h:")
local all_ok = true
for _, leaf in ipairs({ a, b, c, f }) do
  local nudged = { a = base.a, b = base.b, c = base.c, f = base.f }
  nudged[leaf.label] = nudged[leaf.label] + h
  local slope = (L_of(nudged) - L_of(base)) / h
  local ok = math.abs(slope - leaf.grad) < 1e-4
  all_ok = all_ok and ok
  print(string.format("  %s.grad = %5.1f   measured %9.5f   %s", leaf.label, leaf.grad, slope,
    ok and "ok" or "MISMATCH"))
end
print(all_ok and "all hand-computed gradients match" or "some gradients do not match")
print()

-- What the gradient is for: nudge every leaf a little in the direction of its
-- gradient and L goes up (the opposite direction would make it go down, which
-- is what training does with a loss).
local step = 0.01
for _, leaf in ipairs({ a, b, c, f }) do leaf.data = leaf.data + step * leaf.grad end
local L2 = (a * b + c) * f
print(string.format("one small step along the gradients: L goes from %.4f to %.4f", L.data, L2.data))
