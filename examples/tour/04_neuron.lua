-- Tour 4: one neuron, its gradients, and a drawing of its graph.
--
-- micrograd's 2-D neuron: inputs x1, x2, weights w1, w2, bias b,
-- n = x1*w1 + x2*w2 + b and the output o = tanh(n). After o:backward() each
-- leaf's .grad says how much o moves per unit nudge of that leaf. The graph
-- is drawn with mg.viz to neuron.svg (needs Graphviz's `dot`; the script runs
-- without it and says so). Then tanh written out with exp gives the same
-- gradients: how finely the ops are cut up is our choice, as long as each op
-- knows its local derivative.
--
--   build/micrograd examples/tour/04_neuron.lua [output-directory]
local mg = require("micrograd")
local Value = mg.Value

local out_dir = arg and arg[1] or "."

--- The neuron up to n, with the lecture's labels; returns n and the leaves.
local function neuron_sum()
  local x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
  local w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
  local b = Value(6.8813735870195432, "b") -- chosen so that the numbers come out nice
  local x1w1 = x1 * w1; x1w1.label = "x1*w1"
  local x2w2 = x2 * w2; x2w2.label = "x2*w2"
  local sum = x1w1 + x2w2; sum.label = "x1*w1 + x2*w2"
  local n = sum + b; n.label = "n"
  return n, { x1 = x1, w1 = w1, x2 = x2, w2 = w2, b = b }
end

local function show(o, leaves)
  print(string.format("  o = %.4f", o.data))
  for _, name in ipairs({ "x1", "w1", "x2", "w2", "b" }) do
    print(string.format("  %s.grad = %.1f", name, leaves[name].grad))
  end
end

-- o = tanh(n): tanh is one op, with local derivative 1 - tanh(n)^2.
local n, leaves = neuron_sum()
local o = n:tanh(); o.label = "o"
o:backward()
print("o = tanh(x1*w1 + x2*w2 + b), after o:backward():")
show(o, leaves)
print(string.format("  (n.grad = 1 - o^2 = %.1f; w2.grad is 0 because x2 is 0: with no", n.grad))
print("   input, that weight cannot change the output; x1.grad = w1 * n.grad)")
print()

-- The drawing. mg.viz may be missing (it is newer than this tour) and
-- viz.render needs the `dot` program; both cases get a note, not an error.
local path = out_dir .. "/neuron.svg"
local has_viz, viz = pcall(function() return mg.viz end)
if not has_viz then
  print("mg.viz is not available in this build, so no drawing this time")
else
  local ok, err = pcall(viz.render, o, path)
  if ok then
    print("drew the graph to " .. path .. " (a box per value with its data and grad, a node per op)")
  else
    print("could not draw the graph: " .. tostring(err):match("[^\n]*"))
    print("(viz.render runs Graphviz's dot program: on Debian, apt-get install graphviz)")
  end
end
print()

-- tanh(n) = (e^2n - 1) / (e^2n + 1), built from exp, +, - and /. More nodes,
-- the same function, so the same gradients.
n, leaves = neuron_sum()
local e = (2 * n):exp(); e.label = "e"
o = (e - 1) / (e + 1); o.label = "o"
o:backward()
print("the same neuron with tanh written as (e^2n - 1) / (e^2n + 1):")
show(o, leaves)
