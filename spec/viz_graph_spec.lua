local mg = require("micrograd")
local nn = require("micrograd.nn")
local viz_graph = require("micrograd.viz_graph")
local check = require("spec.helpers.check")

local Value = mg.Value
local dot, render = viz_graph.dot, viz_graph.render
local error_of, assert_mentions = check.error_of, check.assert_mentions

-- ---- helpers ---------------------------------------------------------------

--- Parses the DOT text made by dot(): value nodes, op nodes, edges, legend
-- entries and the note, each with its attribute text.
local function parse(text)
  local g = { values = {}, ops = {}, edges = {}, legend = {}, legend_edges = {}, value_list = {},
    op_list = {} }
  for line in text:gmatch("[^\n]+") do
    local name, attrs = line:match("^%s*(v%d+) %[(.*)%];$")
    if name then
      g.values[name] = attrs
      g.value_list[#g.value_list + 1] = name
    end
    name, attrs = line:match("^%s*(op%d+) %[(.*)%];$")
    if name then
      g.ops[name] = attrs
      g.op_list[#g.op_list + 1] = name
    end
    local from, to, rest = line:match("^%s*([%w_]+) %-> ([%w_]+)(.-);$")
    if from and from:match("^legend_") then
      g.legend_edges[#g.legend_edges + 1] = { from = from, to = to, attrs = rest } -- the legend's layout
    elseif from then
      g.edges[#g.edges + 1] = { from = from, to = to, label = rest:match('label="(.-)"') }
    end
    name, attrs = line:match("^%s*legend_(%w+) %[(.*)%];$")
    if name then g.legend[name] = attrs end
    attrs = line:match("^%s*note %[(.*)%];$")
    if attrs then g.note = attrs end
  end
  return g
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

--- The label text of a node's attributes.
local function label_of(attrs)
  return attrs:match('label="(.*)"$')
end

--- The name of the value node whose label (record or constant) contains text.
local function find_value(g, text)
  for _, name in ipairs(g.value_list) do
    if label_of(g.values[name]):find(text, 1, true) then return name end
  end
  error("no value node with " .. text)
end

--- The name of the constant node showing exactly text.
local function find_const(g, text)
  for _, name in ipairs(g.value_list) do
    if label_of(g.values[name]) == text then return name end
  end
  error("no constant node " .. text)
end

--- The edges into node `to`, in order, as "from" names.
local function edges_into(g, to)
  local from = {}
  for _, e in ipairs(g.edges) do
    if e.to == to then from[#from + 1] = e.from end
  end
  return from
end

local function edges_out_of(g, from)
  local to = {}
  for _, e in ipairs(g.edges) do
    if e.from == from then to[#to + 1] = e.to end
  end
  return to
end

--- The fill colour of a node's attributes.
local function fill(attrs)
  return attrs:match('fillcolor="(#%x+)"')
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- The position an error message blames must be this spec file.
local function assert_blames_caller(msg)
  assert(msg:match("^[^:]*viz_graph_spec%.lua:%d+: "), "error not at the caller: " .. msg)
end

--- micrograd's lecture example: L = (a * b + c) * f.
local function lecture()
  local a, b, c, f = Value(2, "a"), Value(-3, "b"), Value(10, "c"), Value(-2, "f")
  local e = a * b
  e.label = "e"
  local d = e + c
  d.label = "d"
  local L = d * f
  L.label = "L"
  return L, { a = a, b = b, c = c, d = d, e = e, f = f }
end

--- A chain x + 1 + 1 + ... (n additions): 1 + 2n values (n results, n constants, x).
local function chain(n)
  local x = Value(1, "x")
  local v = x
  for _ = 1, n do v = v + 1 end
  return v
end

-- ---- structure -------------------------------------------------------------

describe("viz_graph.dot structure", function()
  it("draws (a * b + c):relu() as 6 value records, 3 op nodes and 8 edges", function()
    local a, b, c = Value(2, "a"), Value(-3, "b"), Value(10, "c")
    local g = parse(dot((a * b + c):relu()))
    assert.equal(6, count(g.values)) -- a, b, c, a*b, a*b+c, relu
    assert.equal(3, count(g.ops))
    assert.equal(8, #g.edges)        -- 5 operand -> op, 3 op -> result
    local ops = {}
    for _, name in ipairs(g.op_list) do ops[#ops + 1] = label_of(g.ops[name]) end
    assert.same({ "relu", "+", "*" }, ops) -- breadth-first from the root
    assert.equal("v1", g.value_list[1])
  end)

  it("draws edges operand -> op -> result, as micrograd", function()
    local L, v = lecture()
    local g = parse(dot(L))
    assert.equal(7, count(g.values))
    assert.equal(3, count(g.ops))
    assert.equal(9, #g.edges)
    local na, nb, ne = find_value(g, "a |"), find_value(g, "b |"), find_value(g, "e |")
    local mul = edges_out_of(g, na)
    assert.same(mul, edges_out_of(g, nb))
    assert.equal(1, #mul)
    assert.equal("*", label_of(g.ops[mul[1]]))
    assert.same({ ne }, edges_out_of(g, mul[1]))
    assert.same({ na, nb }, edges_into(g, mul[1])) -- operands in source order
    -- every op node feeds exactly the Value it makes, named alike
    for _, name in ipairs(g.op_list) do
      assert.same({ "v" .. name:match("%d+") }, edges_out_of(g, name))
    end
    assert.is_true(v.a.op == "")
  end)

  it("draws a number operand as its own constant node each time it is used", function()
    local x = Value(3, "x")
    local g = parse(dot(2 * x + 1))
    assert.equal(5, count(g.values)) -- root, 2*x, x, the constants 2 and 1
    assert.equal(2, count(g.ops))
    assert.equal(6, #g.edges)
    local two, one = find_const(g, "2.0000"), find_const(g, "1.0000")
    assert.equal("2.0000", label_of(g.values[two]))
    assert.equal("1.0000", label_of(g.values[one]))
    assert.matches("shape=box", g.values[two])
    assert.matches("dashed", g.values[one])
    -- the same constant twice: two nodes
    g = parse(dot(x * 2 + x * 2))
    assert.equal(6, count(g.values))
  end)

  it("draws a shared Value once, with one edge per use", function()
    local a = Value(3, "a")
    local g = parse(dot(a * a))
    assert.equal(2, count(g.values))
    assert.equal(1, count(g.ops))
    assert.same({ "v2", "v2" }, edges_into(g, "op1"))
    local b = Value(1, "b")
    local c = a + b
    g = parse(dot(c * c + c))
    assert.equal(5, count(g.values)) -- result, c*c, c, a, b
    assert.equal(3, count(g.ops))
    assert.equal(3 * 2 + 3, #g.edges) -- two operands and one result per op
  end)

  it("draws micrograd's README expression with every Value once", function()
    local a, b = Value(-4.0, "a"), Value(2.0, "b")
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
    -- 25 ops (22 binary, 3 unary: neg and two relu), the leaves a and b, 8 number constants
    local p = parse(dot(g))
    assert.equal(25 + 2 + 8, count(p.values))
    assert.equal(25, count(p.ops))
    local constants = 0
    for _, attrs in pairs(p.values) do
      if attrs:find("shape=box", 1, true) then constants = constants + 1 end
    end
    assert.equal(8, constants)
    -- one edge per operand slot (22 * 2 + 3) and one from each op to its result
    assert.equal(47 + 25, #p.edges)
  end)

  it("labels the operands of ops whose order matters", function()
    local a, b = Value(5, "a"), Value(2, "b")
    local g = parse(dot(a - b))
    assert.same({ "1", "2" }, { g.edges[1].label, g.edges[2].label })
    local w1, w2, x1, bias = Value(1, "w1"), Value(2, "w2"), Value(3, "x1"), Value(0.5, "bias")
    g = parse(dot(mg.dot({ w1, w2 }, { x1, 4 }, bias)))
    local labels = {}
    for _, e in ipairs(g.edges) do
      if e.to == "op1" then labels[#labels + 1] = e.label end
    end
    assert.same({ "b", "w1", "x1", "w2", "x2" }, labels)
    g = parse(dot(mg.dot({ w1 }, { x1 })))
    assert.same({ "w1", "x1" }, { g.edges[1].label, g.edges[2].label })
    g = parse(dot(a + b))
    assert.is_nil(g.edges[1].label)
  end)

  it("draws a logsumexp as one op node over all its operands", function()
    local a, b = Value(1, "a"), Value(2, "b")
    local g = parse(dot(mg.logsumexp({ a, 3, b, a })))
    assert.equal(1, count(g.ops))
    assert.equal("logsumexp", label_of(g.ops[g.op_list[1]]))
    local into = edges_into(g, g.op_list[1])
    assert.equal(4, #into) -- a twice, the constant, b
    assert.equal(into[1], into[4])
    assert.equal(find_value(g, "a |"), into[1])
    assert.equal(find_value(g, "b |"), into[3])
  end)

  it("draws a lone leaf as the root alone", function()
    local g = parse(dot(Value(1.5, "only")))
    assert.equal(1, count(g.values))
    assert.equal(0, count(g.ops))
    assert.equal(0, #g.edges)
    assert.equal("{ only | data 1.5000 | grad 0.0000 }", label_of(g.values.v1))
  end)
end)

-- ---- labels and numbers ----------------------------------------------------

describe("viz_graph.dot labels", function()
  it("shows label, data and grad after backward, as micrograd's lecture", function()
    local L = lecture()
    L:backward()
    local g = parse(dot(L))
    local expected = {
      "{ L | data -8.0000 | grad 1.0000 }",
      "{ d | data 4.0000 | grad -2.0000 }",
      "{ f | data -2.0000 | grad 4.0000 }",
      "{ e | data -6.0000 | grad -2.0000 }",
      "{ c | data 10.0000 | grad -2.0000 }",
      "{ a | data 2.0000 | grad 6.0000 }",
      "{ b | data -3.0000 | grad -4.0000 }",
    }
    for i, text in ipairs(expected) do
      assert.equal(text, label_of(g.values["v" .. i]))
    end
  end)

  it("leaves the label field out when a Value has no label", function()
    local x = Value(1.23456)
    local y = x:tanh()
    y:backward()
    local g = parse(dot(y))
    local t = (math.exp(2 * 1.23456) - 1) / (math.exp(2 * 1.23456) + 1)
    assert.equal("{ data 0.8439 | grad 1.0000 }", label_of(g.values.v1))
    assert.equal(string.format("{ data %.4f | grad 1.0000 }", t), label_of(g.values.v1))
    assert.equal(string.format("{ data 1.2346 | grad %.4f }", 1 - t * t), label_of(g.values.v2))
  end)

  it("formats numbers with opts.format", function()
    local x = Value(2, "x")
    local g = parse(dot(x * 3, { format = "%.1e" }))
    assert.equal("{ data 6.0e+00 | grad 0.0e+00 }", label_of(g.values.v1))
    assert.equal("3.0e+00", label_of(g.values[find_const(g, "3.0e+00")]))
  end)

  it("escapes record-label characters in labels", function()
    local hostile = 'a|b{c}<d>"e\\'
    local x = Value(1, hostile)
    local text = dot(x * 2)
    assert.truthy(text:find('{ a\\|b\\{c\\}\\<d\\>\\"e\\\\ | data 1.0000', 1, true))
    -- the record keeps its three fields: no stray separators or braces
    local g = parse(text)
    assert.equal(3, count(g.values))
    assert.equal(2, #edges_into(g, "op1"))
  end)

  it("turns newlines and control characters into safe text", function()
    local x = Value(1, "two\nlines\ttab\0nul")
    local g = parse(dot(x))
    assert.equal("{ two\\nlines tab nul | data 1.0000 | grad 0.0000 }", label_of(g.values.v1))
    x.label = "bad\255utf8"
    assert.equal("{ bad?utf8 | data 1.0000 | grad 0.0000 }", label_of(parse(dot(x)).values.v1))
  end)
end)

-- ---- layout and styles -----------------------------------------------------

describe("viz_graph.dot styles", function()
  it("lays out left to right by default, top to bottom on request", function()
    local x = Value(1, "x")
    local y = x * 2
    local lr = dot(y)
    assert.truthy(lr:find("graph [rankdir=LR];", 1, true))
    assert.equal("{ data 2.0000 | grad 0.0000 }", label_of(parse(lr).values.v1))
    local tb = dot(y, { rankdir = "TB" })
    assert.truthy(tb:find("graph [rankdir=TB];", 1, true))
    assert.falsy(tb:find("rankdir=LR", 1, true))
    -- without braces a TB record keeps its fields side by side too
    assert.equal("data 2.0000 | grad 0.0000", label_of(parse(tb).values.v1))
    assert.equal("x | data 1.0000 | grad 0.0000", label_of(parse(tb).values.v2))
  end)

  it("draws root, leaves, results, constants and parameters distinctly", function()
    local w, x = Value(0.5, "w"), Value(2, "x")
    local y = (w * x + 1):relu()
    local g = parse(dot(y, { params = { w } }))
    local root, sum = g.values.v1, g.values.v2
    local nw, nx, one = g.values[find_value(g, "w |")], g.values[find_value(g, "x |")],
      g.values[find_const(g, "1.0000")]
    assert.matches("shape=Mrecord", root)
    assert.matches("shape=record", sum)
    assert.matches("shape=record", nx)
    assert.matches("shape=box", one)
    local colours = { fill(root), fill(sum), fill(nx), fill(nw), fill(one) }
    for i = 1, #colours do
      assert.truthy(colours[i])
      for j = i + 1, #colours do assert.are_not.equal(colours[i], colours[j]) end
    end
    -- without params, w is a leaf like x
    g = parse(dot(y))
    assert.equal(fill(g.values[find_value(g, "x |")]), fill(g.values[find_value(g, "w |")]))
  end)

  it("takes a model as opts.params and marks all its parameters", function()
    mg.seed(7)
    local n = nn.Neuron(2)
    local out = n({ 1, -1 })
    local g = parse(dot(out, { params = n }))
    local param_fill = fill(g.legend.param)
    local marked = 0
    for _, name in ipairs(g.value_list) do
      if fill(g.values[name]) == param_fill then marked = marked + 1 end
    end
    assert.equal(3, marked) -- two weights and the bias
    -- the same drawing as from the array of parameters, but for their names
    local from_array = dot(out, { params = n:parameters() })
    assert.falsy(from_array:find("w1 |", 1, true))
    local named = dot(out, { params = n }):gsub("{ w%d | ", "{ "):gsub("{ b | ", "{ ")
    assert.equal(from_array, named)
  end)

  it("has a legend of the kinds drawn, which opts.legend = false removes", function()
    local x = Value(2, "x")
    local w = Value(3, "w")
    local text = dot(w * x + 1, { params = { w } })
    assert.truthy(text:find("subgraph cluster_legend {", 1, true))
    local g = parse(text)
    for _, kind in ipairs({ "root", "param", "leaf", "value", "const", "op" }) do
      assert.truthy(g.legend[kind], kind)
    end
    assert.equal(fill(g.values.v1), fill(g.legend.root))
    assert.equal(fill(g.values[find_value(g, "x |")]), fill(g.legend.leaf))
    assert.equal(fill(g.values[find_value(g, "w |")]), fill(g.legend.param))
    assert.equal(fill(g.values[find_const(g, "1.0000")]), fill(g.legend.const))
    assert.is_nil(g.legend.cut) -- nothing was cut
    -- kinds not drawn are not in the legend
    g = parse(dot(x * x))
    assert.is_nil(g.legend.param)
    assert.is_nil(g.legend.const)
    local off = dot(w * x + 1, { legend = false })
    assert.falsy(off:find("legend", 1, true))
    assert.equal(count(parse(text).values), count(parse(off).values))
  end)

  it("gives the same text for the same graph", function()
    local function build()
      local a, b = Value(1, "a"), Value(2, "b")
      local c = a * b + a
      return (c * c + 2):tanh() - mg.sum({ a, b, 3 })
    end
    local y = build()
    local first = dot(y)
    assert.equal(first, dot(y))
    assert.equal(first, dot(build()))
    y:backward()
    assert.are_not.equal(first, dot(y)) -- grads are shown
  end)
end)

-- ---- big graphs ------------------------------------------------------------

describe("viz_graph.dot max_nodes", function()
  it("draws the max_nodes values nearest the root and counts the others", function()
    local g = parse(dot(chain(2000), { max_nodes = 12 }))
    assert.equal(12, count(g.values))
    -- breadth-first from the root: the 7 last results and 5 constants
    local datas = {}
    for _, name in ipairs(g.value_list) do
      local label = label_of(g.values[name])
      datas[#datas + 1] = label:match("data (%S+)") or label
    end
    assert.same({ "2001.0000", "2000.0000", "1.0000", "1999.0000", "1.0000", "1998.0000", "1.0000",
      "1997.0000", "1.0000", "1996.0000", "1.0000", "1995.0000" }, datas)
    assert.truthy(g.note)
    assert.truthy(label_of(g.note):find("… 3989 more values not drawn", 1, true)) -- 4001 - 12
    -- the ops missing operands are drawn dashed, and the legend says so
    assert.matches("dashed", g.ops.op10)
    assert.matches("dashed", g.ops.op12)
    assert.not_matches("dashed", g.ops.op8)
    assert.truthy(g.legend.cut)
    -- every edge joins drawn nodes
    for _, e in ipairs(g.edges) do
      assert.truthy(g.values[e.from] or g.ops[e.from], e.from)
      assert.truthy(g.values[e.to] or g.ops[e.to], e.to)
    end
  end)

  it("counts a shared Value left out once", function()
    local a = Value(1, "a")
    local b = a * a
    local c = b + b
    local g = parse(dot(c * c, { max_nodes = 1 }))
    assert.equal(1, count(g.values))
    assert.equal(1, count(g.ops))
    assert.equal(1, #g.edges) -- op1 -> v1 only
    assert.truthy(label_of(g.note):find("… 3 more values not drawn", 1, true))
    g = parse(dot(Value(1, "x") + 1, { max_nodes = 2 }))
    assert.truthy(label_of(g.note):find("… 1 more value not drawn", 1, true))
  end)

  it("has no note when everything is drawn", function()
    local g = parse(dot(chain(10), { max_nodes = 21 }))
    assert.equal(21, count(g.values))
    assert.is_nil(g.note)
    g = parse(dot(chain(300), { max_nodes = math.huge }))
    assert.equal(601, count(g.values))
    assert.equal(300, count(g.ops))
    assert.equal(900, #g.edges)
    assert.is_nil(g.note)
  end)

  it("stops counting after count_limit", function()
    local g = parse(dot(chain(2000), { max_nodes = 12, count_limit = 100 }))
    assert.truthy(label_of(g.note):find("… over 100 more values not drawn", 1, true))
    g = parse(dot(chain(2000), { max_nodes = 12, count_limit = 0 }))
    assert.truthy(label_of(g.note):find("… more values not drawn", 1, true))
    g = parse(dot(chain(2000), { max_nodes = 12, count_limit = 3989 }))
    assert.truthy(label_of(g.note):find("… 3989 more values not drawn", 1, true))
  end)

  it("returns quickly on a 200,000-step chain, without recursion", function()
    local x = Value(1, "x")
    local v = x
    for _ = 1, 200000 do v = v * 1.0000001 + x end
    local t0 = os.clock()
    local g = parse(dot(v))
    assert.is_true(os.clock() - t0 < 3 * require("spec.helpers.bounds").TIME_SCALE, "dot took too long")
    assert.equal(500, count(g.values))
    assert.truthy(label_of(g.note):find("… over 100000 more values not drawn", 1, true))
    g = parse(dot(v, { max_nodes = 20000, count_limit = 0 }))
    assert.equal(20000, count(g.values))
  end)
end)

-- ---- render ----------------------------------------------------------------

describe("viz_graph.render", function()
  local temps = {}
  local function tmp(suffix)
    local base = os.tmpname()
    temps[#temps + 1] = base
    temps[#temps + 1] = base .. suffix
    return base .. suffix
  end
  after_each(function()
    for _, path in ipairs(temps) do os.remove(path) end
    temps = {}
  end)

  it("writes an SVG file with the labels", function()
    local L = lecture()
    L:backward()
    local path = tmp(".svg")
    assert.equal(path, render(L, path))
    local svg = read_all(path)
    assert.truthy(svg:match("^%s*<%?xml") or svg:match("^%s*<svg"))
    assert.truthy(svg:find("<svg", 1, true))
    -- Graphviz writes "-" as "&#45;"
    for _, text in ipairs({ ">L</text>", ">data &#45;8.0000</text>", ">a</text>", ">grad 6.0000</text>",
      ">c</text>", ">data 10.0000</text>", ">*</text>", ">+</text>", ">legend</text>" }) do
      assert.truthy(svg:find(text, 1, true), text)
    end
  end)

  it("writes a PNG file", function()
    local path = tmp(".PNG")
    render(Value(1, "x") * 2, path, { rankdir = "TB", legend = false })
    local png = read_all(path)
    assert.equal("\137PNG\r\n\26\n", png:sub(1, 8))
    assert.is_true(#png > 200)
  end)

  it("draws a hostile label as written", function()
    local path = tmp(".svg")
    render(Value(1, 'a|b{c}<d>"e\\') + 1, path)
    assert.truthy(read_all(path):find(">a|b{c}&lt;d&gt;&quot;e\\</text>", 1, true))
  end)

  it("takes any path as a path, never through a shell", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(check.execute("mkdir '" .. dir .. "'"))
    local path = dir .. "/-o $(touch pwned); y `x` 'q'.svg"
    render(Value(1, "x") * 2, path)
    assert.truthy(read_all(path):find("<svg", 1, true))
    -- exactly that file, and nothing else, was made
    local ls = assert(io.popen("ls -A '" .. dir .. "'"))
    local listing = ls:read("*a")
    ls:close()
    assert.equal("-o $(touch pwned); y `x` 'q'.svg\n", listing)
    assert.is_false(exists("pwned"))
    assert.is_false(exists("y.svg"))
    os.remove(path)
    os.remove(dir)
    -- the brief's form, in the temporary directory
    local other = tmp(" $(x); y.svg")
    render(Value(2), other)
    assert.is_true(exists(other))
  end)

  it("says how to install Graphviz when dot cannot be run #spawn_error", function()
    local path = tmp(".svg")
    local msg = error_of(render, Value(1), path, { program = "no-such-dot" })
    assert_mentions(msg, "viz.render needs Graphviz's dot program: sudo apt-get install graphviz",
      "no-such-dot")
    assert.is_false(exists(path))
    -- raised at the caller
    local ok, err = pcall(function() render(Value(1), path, { program = "no-such-dot" }) end)
    assert.is_false(ok)
    assert_blames_caller(err)
  end)

  it("raises dot's messages when it fails", function()
    local path = tmp(".svg")
    local msg = error_of(render, Value(1), path, { program = "false" })
    assert_mentions(msg, "false failed (exit status 1)", path)
    -- a directory that does not exist: the file cannot be written (dot
    -- writes to us, we write the file)
    msg = error_of(render, Value(1), "/nonexistent-dir/x/out.svg")
    assert_mentions(msg, "viz.render cannot write /nonexistent-dir/x/out.svg: No such file or directory")
  end)

  it("kills a dot that does not finish in time (option 'timeout') #timeout", function()
    local path = tmp(".svg")
    local fake = tmp("-slow-dot")
    local f = assert(io.open(fake, "w"))
    f:write("#!/bin/sh\nexec sleep 30\n")
    f:close()
    assert.is_true(check.execute("chmod +x '" .. fake .. "'"))
    local clock = require("micrograd._system").clock
    local t0 = clock()
    local msg = error_of(render, Value(1), path, { program = fake, timeout = 0.5 })
    local elapsed = clock() - t0
    os.remove(fake)
    assert_mentions(msg, "did not finish within 0.5 seconds (option 'timeout') and was killed", path)
    assert.is_true(elapsed >= 0.5 and elapsed < 10, "took " .. elapsed .. " s")
    assert.is_false(exists(path))
    assert_mentions(error_of(render, Value(1), path, { timeout = 0 }),
      "bad argument #3 to 'render' (option 'timeout' must be a number of seconds > 0, got number)")
    assert_mentions(error_of(render, Value(1), path, { timeout = "60" }), "option 'timeout'")
    -- math.huge: no limit
    render(Value(1), path, { timeout = math.huge })
    assert.is_true(exists(path))
    os.remove(path)
  end)

  it("keeps the old file when dot fails, and refuses a path with a NUL byte", function()
    local path = tmp(".svg")
    render(Value(1), path)
    local old = read_all(path)
    error_of(render, Value(2), path, { program = "false" })
    assert.equal(old, read_all(path))
    os.remove(path)
    assert_mentions(error_of(render, Value(1), path .. "\0.png"),
      "bad argument #2 to 'render' (path with a NUL byte)")
    assert.is_false(exists(path))
  end)

  it("refuses a path without .svg or .png", function()
    local msg = error_of(render, Value(1), "graph.jpg")
    assert_mentions(msg,
      "bad argument #2 to 'render' (path ending in .svg or .png expected, got \"graph.jpg\")")
    msg = error_of(render, Value(1), "svg")
    assert_mentions(msg, "bad argument #2 to 'render'")
    msg = error_of(render, Value(1), 42)
    assert_mentions(msg, "bad argument #2 to 'render' (string expected, got number)")
    assert.is_false(exists("graph.jpg"))
  end)

  it("checks its other arguments", function()
    assert_mentions(error_of(render, {}, "x.svg"), "bad argument #1 to 'render' (Value expected, got table)")
    assert_mentions(error_of(render, Value(1), "x.svg", { colour = 1 }),
      "bad argument #3 to 'render' (unknown option 'colour')")
    assert_mentions(error_of(render, Value(1), "x.svg", { program = 3 }),
      "bad argument #3 to 'render' (option 'program' must be a program name, got number)")
    assert_mentions(error_of(render, Value(1), "x.svg", { max_nodes = 0 }),
      "bad argument #3 to 'render' (option 'max_nodes' must be an integer >= 1, got 0)")
    assert.is_false(exists("x.svg"))
  end)
end)

-- ---- errors ----------------------------------------------------------------

describe("viz_graph.dot errors", function()
  local x = Value(1)

  it("names the function and the argument", function()
    assert_mentions(error_of(dot, {}), "bad argument #1 to 'dot' (Value expected, got table)")
    assert_mentions(error_of(dot, 3), "bad argument #1 to 'dot' (Value expected, got number)")
    assert_mentions(error_of(dot), "bad argument #1 to 'dot' (Value expected, got nil)")
    assert_mentions(error_of(dot, x, "LR"), "bad argument #2 to 'dot' (options table expected, got string)")
    assert_mentions(error_of(dot, x, { rank = "LR" }), "bad argument #2 to 'dot' (unknown option 'rank')")
    assert_mentions(error_of(dot, x, { program = "dot" }), "unknown option 'program'")
    assert_mentions(error_of(dot, x, { rankdir = "XY" }), "option 'rankdir' must be \"LR\" or \"TB\"",
      "got \"XY\"")
    assert_mentions(error_of(dot, x, { legend = "no" }), "option 'legend' must be a boolean, got string")
    assert_mentions(error_of(dot, x, { max_nodes = 1.5 }),
      "option 'max_nodes' must be an integer >= 1, got 1.5")
    assert_mentions(error_of(dot, x, { max_nodes = "9" }), "option 'max_nodes'")
    assert_mentions(error_of(dot, x, { count_limit = -1 }), "option 'count_limit' must be an integer >= 0")
    assert_mentions(error_of(dot, x, { format = "%d" }), "option 'format' must be a format for one number")
    assert_mentions(error_of(dot, x, { format = "%f %f" }), "option 'format'")
    assert_mentions(error_of(dot, x, { format = 4 }), "option 'format'")
    assert_mentions(error_of(dot, x, { params = 4 }),
      "option 'params' must be an array of Values, got number")
    assert_mentions(error_of(dot, x, { params = { x, 2 } }),
      "bad argument #2 to 'dot' (option 'params': Value expected at index 2, got number)")
  end)

  it("blames the caller", function()
    local cases = {
      function() dot({}) end,
      function() dot(x, { nope = 1 }) end,
      function() dot(x, { max_nodes = 0 }) end,
      function() dot(x, { params = { 1 } }) end,
      function() render(x, "a.gif") end,
      function() render(x, "a.svg", { max_nodes = -1 }) end,
    }
    for _, fn in ipairs(cases) do
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert_blames_caller(err)
    end
  end)
end)

describe("viz_graph.dot layout: width, legend row, nn parameter labels", function()
  local function svg_size(text)
    local w, h = text:match('<svg width="([%d.]+)pt" height="([%d.]+)pt"')
    return tonumber(w), tonumber(h)
  end

  it("scales a drawing wider than opts.width points (default 900) down to it", function()
    local L = lecture()
    assert.truthy(dot(L):find('graph [size="12.5000,1000"];', 1, true))
    assert.truthy(dot(L, { width = 600 }):find('graph [size="8.3333,1000"];', 1, true))
    assert.falsy(dot(L, { width = math.huge }):find("graph [size=", 1, true))
    assert_mentions(error_of(dot, L, { width = 10 }), "option 'width' must be an integer >= 72, got 10")
  end)

  it("lays the legend out in one row: invisible edges sideways, one rank downwards", function()
    local L = lecture()
    local g = parse(dot(L))
    local n = count(g.legend)
    assert.is_true(n >= 3)
    assert.equal(n - 1, #g.legend_edges)
    for _, e in ipairs(g.legend_edges) do assert.matches("style=invis", e.attrs) end
    local tb = dot(L, { rankdir = "TB" })
    assert.truthy(tb:find("rank=same;", 1, true))
    assert.equal(0, #parse(tb).legend_edges)
  end)

  it("shows an nn model's parameters by their labels (w1, w2, b)", function()
    mg.seed(2)
    local model = mg.nn.Neuron(2)
    local g = parse(dot(model({ 1, 2 }), { params = model }))
    for _, name in ipairs({ "w1", "w2", "b" }) do
      local found
      for _, attrs in pairs(g.values) do
        if label_of(attrs):find("{ " .. name .. " |", 1, true) then found = attrs end
      end
      assert.truthy(found, name)
      assert.equal(fill(g.legend.param), fill(found))
    end
  end)

  it("renders an MLP's graph at most 900 points wide (about 1,900 without the limit)", function()
    mg.seed(1)
    local model = mg.nn.MLP(2, { 4, 4, 1 })
    local y = model({ 0.5, -1 })
    local path = os.tmpname() .. ".svg"
    local ok, err = pcall(render, y, path, { params = model })
    if not ok and err:find("needs Graphviz", 1, true) then
      os.remove(path)
      pending("Graphviz is not installed")
      return
    end
    assert(ok, err)
    local w = svg_size(read_all(path))
    render(y, path, { params = model, width = math.huge })
    local natural = svg_size(read_all(path))
    os.remove(path)
    assert.is_true(w <= 900.5, "width " .. w)
    assert.is_true(natural > 1200, "natural width " .. natural)
  end)
end)
