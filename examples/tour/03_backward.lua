-- Tour 3: the same gradients from L:backward().
--
-- backward() does what tour 2 did by hand: it visits the nodes from L down to
-- the leaves, and at each node applies that op's local chain-rule step. This
-- script shows it gives the same numbers, says why the nodes are visited in
-- topological order, shows the lecture's "a node used twice" bug (and why
-- gradients are added with += rather than set), and what calling backward()
-- twice does.
--
--   build/micrograd examples/tour/03_backward.lua
local mg = require("micrograd")
local Value = mg.Value

local function build()
  local a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
  local e = a * b; e.label = "e"
  local d = e + c; d.label = "d"
  local L = d * f; L.label = "L"
  return L, { a = a, b = b, c = c, d = d, e = e, f = f, L = L }
end

-- 1. The same numbers as the hand computation of tour 2.
local L, n = build()
L:backward()
print("L = (a*b + c) * f, after L:backward():")
local by_hand = { a = 6.0, b = -4.0, c = -2.0, d = -2.0, e = -2.0, f = 4.0, L = 1.0 }
for _, name in ipairs({ "L", "d", "f", "e", "c", "a", "b" }) do
  print(string.format("  %s.grad = %5.1f   (by hand in tour 2: %5.1f)", name, n[name].grad, by_hand[name]))
end
print()

-- 2. Why a topological order. A node's grad is complete only once every node
-- that uses it has passed its share down. So backward() first sorts the graph
-- so that each node comes after everything it feeds into (walking from L),
-- then applies the chain rule in that order. Here is such an order, found the
-- way micrograd's build_topo does it (children first, then the node), read
-- backwards. (This little recursive version is for reading; the engine sorts
-- with an explicit stack in C, so graphs of any depth work.)
local topo, seen = {}, {}
local function build_topo(v)
  if seen[v] then return end
  seen[v] = true
  for _, child in ipairs(v:children()) do build_topo(child) end
  topo[#topo + 1] = v
end
build_topo(L)
local order = {}
for i = #topo, 1, -1 do order[#order + 1] = topo[i].label end
print("an order backward() can use: " .. table.concat(order, " "))
print("(L first, every node before its operands: when e is reached, d has")
print(" already handed e its gradient)")
print()

-- 3. The lecture's bug: a node used twice. b = a + a, so db/da = 2. A
-- backward pass that SETS a.grad at each use (a.grad = 1 * b.grad, twice)
-- would get 1: the second use overwrites the first. Each use of a is a
-- separate path from b to a, and the multivariable chain rule says the
-- contributions of all paths add up. So every op ADDS to its operands' grads
-- (+= in micrograd's _backward), and that needs grads to start at zero.
local a = Value(3.0, "a")
local b = a + a
b:backward()
print(string.format("b = a + a: a.grad = %.1f (db/da = 2; setting instead of adding would give 1)", a.grad))

-- The lecture's second example: a feeds both d and e.
local a2, b2 = Value(-2.0, "a"), Value(3.0, "b")
local d2 = a2 * b2 -- -6
local e2 = a2 + b2 -- 1
local f2 = d2 * e2 -- -6
f2:backward()
print(string.format("f = (a*b) * (a+b) with a = -2, b = 3: a.grad = %.1f, b.grad = %.1f", a2.grad, b2.grad))
print(string.format("  a.grad = (through d) b*e + (through e) d = %.1f + %.1f", b2.data * e2.data, d2.data))
print()

-- 4. Calling backward() twice adds again, as in PyTorch: the grads double.
-- That is why a training loop sets every grad back to 0 (zero_grad) before
-- each backward(): otherwise this step's gradient is mixed with every
-- earlier step's. Zeroing the parameters (the leaves) is enough: each step's
-- forward pass makes new interior nodes, which start at 0. (Here we reuse one
-- graph, which also works: this engine passes down only what the current
-- backward() computes, so the interior grads left over do not leak into the
-- leaves; micrograd's Python version would over-count them.)
L, n = build()
L:backward()
local first = n.a.grad
L:backward()
print(string.format("backward() once: a.grad = %.1f; twice: a.grad = %.1f (added up)", first, n.a.grad))
for _, name in ipairs({ "a", "b", "c", "f" }) do n[name].grad = 0 end
L:backward()
print(string.format("after zeroing the leaves' grads and one more backward(): a.grad = %.1f", n.a.grad))
