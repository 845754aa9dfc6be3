local mg = require("micrograd")
local nn = require("micrograd.nn")
local loss = require("micrograd.loss")
local model_io = require("micrograd.model_io")
local check = require("spec.helpers.check")
local TIME_SCALE = require("spec.helpers.bounds").TIME_SCALE -- > 1 under Valgrind

local Value = mg.Value
local error_of, assert_mentions = check.error_of, check.assert_mentions

-- ---- helpers ---------------------------------------------------------------

--- The 8 bytes of a double: equal bits, -0.0 and NaN payloads included.
local function bits(x)
  return check.bits(x)
end

local function assert_same_bits(expected, actual, what)
  assert(bits(expected) == bits(actual), string.format("%s: expected %.17g (%q), got %.17g",
    what or "value", expected, bits(expected), actual))
end

local function datas(params)
  local out = {}
  for i, p in ipairs(params) do out[i] = p.data end
  return out
end

local function assert_same_datas(expected, actual, what)
  assert.equal(#expected, #actual)
  for i = 1, #expected do
    assert_same_bits(expected[i], actual[i], (what or "parameter") .. " " .. i)
  end
end

--- Forward output as a flat array of numbers (a Value or an array of Values).
local function outputs(y)
  if mg.is_value(y) then return { y.data } end
  return datas(y)
end

--- Sets every parameter to a reproducible, non-trivial value.
local function scramble(model, seed)
  math.randomseed(seed or 7)
  for _, p in ipairs(model:parameters()) do p.data = check.between(-2, 2) end
end

--- The document text for a model spec table and parameter values, written
-- by hand (so that hostile variants can be made from it).
local function document(fields)
  local parts = {}
  for _, kv in ipairs(fields) do parts[#parts + 1] = string.format("%q: %s", kv[1], kv[2]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local NEURON_MODEL = '{"type": "Neuron", "nin": 2, "activation": "relu"}'

--- A valid Neuron(2) document, with fields replaced by `over` (name -> JSON
-- text, or false to leave the field out).
local function neuron_doc(over)
  over = over or {}
  local fields = {}
  local defaults = {
    { "format", '"micrograd-model"' }, { "version", "1" },
    { "model", NEURON_MODEL }, { "parameters", "[0.5, -0.25, 0.125]" },
  }
  for _, kv in ipairs(defaults) do
    local v = over[kv[1]]
    if v == nil then v = kv[2] end
    if v then fields[#fields + 1] = { kv[1], v } end
  end
  return document(fields)
end

--- A document for an arbitrary model JSON and parameter list JSON.
local function model_doc(model_json, params_json)
  return neuron_doc({ model = model_json, parameters = params_json or "[]" })
end

--- The error of nn.parse(text, name), which must mention the name and every
-- other string given.
local function parse_error(text, name, ...)
  local err = error_of(nn.parse, text, name)
  assert_mentions(err, name, ...)
  return err
end

--- n parameters as a JSON array.
local function params_json(n, value)
  local t = {}
  for i = 1, n do t[i] = value or "0.5" end
  return "[" .. table.concat(t, ", ") .. "]"
end

-- ---- Neuron ------------------------------------------------------------------

describe("nn.Neuron", function()
  it("has nin weights and a zero bias, parameters() weights then bias", function()
    local n = nn.Neuron(3)
    assert.equal(3, n.nin)
    assert.equal(3, #n.w)
    assert.is_true(mg.is_value(n.b))
    local ps = n:parameters()
    assert.equal(4, #ps)
    for i = 1, 3 do assert.is_true(rawequal(n.w[i], ps[i])) end
    assert.is_true(rawequal(n.b, ps[4]))
    assert_same_bits(0.0, n.b.data, "bias")
  end)

  it("draws its weights as mg.uniform(-1, 1) from the engine's seeded generator", function()
    mg.seed(42)
    local n = nn.Neuron(5)
    mg.seed(42)
    for i = 1, 5 do
      assert_same_bits(mg.uniform(-1, 1), n.w[i].data, "w" .. i)
    end
    -- and then the generator has moved on by exactly those draws
    local after_model = mg.uniform(-1, 1)
    mg.seed(42)
    nn.Neuron(5)
    assert_same_bits(after_model, mg.uniform(-1, 1), "next draw")
  end)

  it("gives the same weights for the same seed and other weights for another", function()
    mg.seed(3)
    local a = datas(nn.Neuron(4):parameters())
    mg.seed(3)
    local b = datas(nn.Neuron(4):parameters())
    mg.seed(4)
    local c = datas(nn.Neuron(4):parameters())
    assert_same_datas(a, b)
    assert.are_not.equal(a[1], c[1])
  end)

  local acts = {
    { "relu", "ReLU", "relu" }, { "tanh", "Tanh", "tanh" },
    { "sigmoid", "Sigmoid", "sigmoid" }, { "linear", "Linear", false },
  }
  for _, case in ipairs(acts) do
    local act, shown, method = case[1], case[2], case[3]

    it("computes act(mg.dot(w, x, b)) bit for bit with activation '" .. act .. "'", function()
      local n = nn.Neuron(3, { activation = act })
      n.w[1].data, n.w[2].data, n.w[3].data, n.b.data = 0.3, -0.7, 0.11, 0.2
      for _, x in ipairs({ { 0.5, -1.25, 3.0 }, { -2, 0.1, 0.7 }, { 1, 1, 1 } }) do
        local y = n(x)
        assert.is_true(mg.is_value(y))
        local pre = mg.dot(n.w, x, n.b)
        local expected = method and pre[method](pre) or pre
        assert_same_bits(expected.data, y.data, act .. " output")
        assert.equal(method or "dot", y.op)
      end
    end)

    it("is shown as " .. shown .. "Neuron(nin), like micrograd's repr", function()
      assert.equal(shown .. "Neuron(3)", tostring(nn.Neuron(3, { activation = act })))
    end)
  end

  it("defaults to ReLU, as micrograd", function()
    local n = nn.Neuron(2)
    assert.equal("ReLUNeuron(2)", tostring(n))
    n.w[1].data, n.w[2].data = 1, 1
    assert.equal(0.0, n({ -1, -2 }).data)
    assert.equal(3.0, n({ 1, 2 }).data)
  end)

  it("takes Values as inputs and passes gradients to them", function()
    local n = nn.Neuron(2, { activation = "linear" })
    n.w[1].data, n.w[2].data, n.b.data = 2.0, -3.0, 0.5
    local x = { Value(1.5), Value(4.0) }
    local y = n(x)
    assert.equal(0.5 + 2.0 * 1.5 + -3.0 * 4.0, y.data)
    y:backward()
    assert.equal(2.0, x[1].grad)
    assert.equal(-3.0, x[2].grad)
    assert.equal(1.5, n.w[1].grad)
    assert.equal(4.0, n.w[2].grad)
    assert.equal(1.0, n.b.grad)
  end)

  it("mixes numbers and Values in one input", function()
    local n = nn.Neuron(2)
    local a = n({ 0.25, Value(-0.5) }).data
    local b = n({ Value(0.25), -0.5 }).data
    assert_same_bits(n({ 0.25, -0.5 }).data, a)
    assert_same_bits(a, b)
  end)
end)

-- ---- Layer -------------------------------------------------------------------

describe("nn.Layer", function()
  it("has nout neurons of nin inputs, (nin + 1) * nout parameters neuron by neuron", function()
    local l = nn.Layer(3, 4)
    assert.equal(4, #l.neurons)
    local ps = l:parameters()
    assert.equal(16, #ps)
    local k = 0
    for j = 1, 4 do
      assert.equal(3, l.neurons[j].nin)
      for i = 1, 3 do
        k = k + 1
        assert.is_true(rawequal(l.neurons[j].w[i], ps[k]), "weight " .. i .. " of neuron " .. j)
      end
      k = k + 1
      assert.is_true(rawequal(l.neurons[j].b, ps[k]), "bias of neuron " .. j)
    end
  end)

  it("returns an array of its neurons' outputs, and a Value when it has one neuron", function()
    local l = nn.Layer(2, 3, { activation = "tanh" })
    local x = { 0.3, -0.9 }
    local y = l(x)
    assert.is_false(mg.is_value(y))
    assert.equal(3, #y)
    for j = 1, 3 do
      assert.is_true(mg.is_value(y[j]))
      assert_same_bits(l.neurons[j](x).data, y[j].data, "output " .. j)
      assert.equal("tanh", y[j].op)
    end
    local single = nn.Layer(2, 1)(x)
    assert.is_true(mg.is_value(single))
  end)

  it("draws weights neuron by neuron, biases 0", function()
    mg.seed(99)
    local l = nn.Layer(2, 3)
    mg.seed(99)
    for j = 1, 3 do
      for i = 1, 2 do assert_same_bits(mg.uniform(-1, 1), l.neurons[j].w[i].data) end
      assert_same_bits(0.0, l.neurons[j].b.data)
    end
  end)

  it("is shown on one line with its parameter count, never a line per neuron", function()
    assert.equal("Layer(2 -> 3 relu), 9 parameters", tostring(nn.Layer(2, 3)))
    assert.equal("Layer(4 -> 1 sigmoid), 5 parameters",
      tostring(nn.Layer(4, 1, { activation = "sigmoid" })))
    assert.equal("Layer(1 -> 2), 4 parameters", tostring(nn.Layer(1, 2, { activation = "linear" })))
  end)
end)

-- ---- MLP ---------------------------------------------------------------------

describe("nn.MLP", function()
  it("has one layer per size, the sizes chained, and the right parameter count", function()
    local m = nn.MLP(2, { 16, 16, 1 })
    assert.equal(3, #m.layers)
    assert.same({ 2, 16, 16 }, { m.layers[1].nin, m.layers[2].nin, m.layers[3].nin })
    assert.same({ 16, 16, 1 }, { #m.layers[1].neurons, #m.layers[2].neurons, #m.layers[3].neurons })
    assert.equal(3 * 16 + 17 * 16 + 17, #m:parameters()) -- 337, as micrograd
  end)

  it("lists parameters layer by layer, neuron by neuron, weights then bias", function()
    local m = nn.MLP(3, { 4, 2, 1 })
    local expected = {}
    for _, layer in ipairs(m.layers) do
      for _, n in ipairs(layer.neurons) do
        for _, w in ipairs(n.w) do expected[#expected + 1] = w end
        expected[#expected + 1] = n.b
      end
    end
    local ps = m:parameters()
    assert.equal(#expected, #ps)
    for i = 1, #ps do assert.is_true(rawequal(expected[i], ps[i]), "parameter " .. i) end
  end)

  it("returns the same Value objects in a fresh table on every call", function()
    local m = nn.MLP(2, { 3, 1 })
    local a, b = m:parameters(), m:parameters()
    assert.is_false(rawequal(a, b))
    for i = 1, #a do assert.is_true(rawequal(a[i], b[i])) end
    a[1] = "changed"
    a[#a + 1] = Value(1)
    local c = m:parameters()
    assert.equal(#b, #c)
    assert.is_true(rawequal(b[1], c[1]))
  end)

  it("draws its weights as mg.uniform(-1, 1) in parameters() order, biases 0", function()
    mg.seed(2024)
    local m = nn.MLP(2, { 4, 3, 1 })
    mg.seed(2024)
    for _, layer in ipairs(m.layers) do
      for _, n in ipairs(layer.neurons) do
        for _, w in ipairs(n.w) do assert_same_bits(mg.uniform(-1, 1), w.data) end
        assert_same_bits(0.0, n.b.data)
      end
    end
  end)

  it("gives bit-identical models for the same seed", function()
    mg.seed(11)
    local a = datas(nn.MLP(2, { 8, 8, 1 }):parameters())
    mg.seed(11)
    local b = datas(nn.MLP(2, { 8, 8, 1 }):parameters())
    assert_same_datas(a, b)
  end)

  it("is shown on one line: sizes, activations (the last layer linear), parameter count", function()
    assert.equal("MLP(2 -> 32 relu -> 32 relu -> 3), 1,251 parameters", tostring(nn.MLP(2, { 32, 32, 3 })))
    assert.equal("MLP(2 -> 16 relu -> 16 relu -> 1), 337 parameters", tostring(nn.MLP(2, { 16, 16, 1 })))
    assert.equal("MLP(1 -> 2 tanh -> 1), 7 parameters",
      tostring(nn.MLP(1, { 2, 1 }, { activation = "tanh" })))
    assert.equal("MLP(3 -> 1), 4 parameters", tostring(nn.MLP(3, { 1 })))
    assert.equal("MLP(1 -> 1000 -> 1000 -> 1), 1,004,001 parameters",
      tostring(nn.MLP(1, { 1000, 1000, 1 }, { activation = "linear" })))
    assert.equal("MLP(1 -> 1), 2 parameters", tostring(nn.MLP(1, { 1 })))
  end)

  for _, act in ipairs({ "relu", "tanh", "sigmoid", "linear" }) do
    it("computes the layers in turn with '" .. act .. "' hidden and a linear last layer", function()
      mg.seed(5)
      local m = nn.MLP(2, { 3, 2 }, { activation = act })
      local x = { 0.7, -0.4 }
      local h = {}
      for j, n in ipairs(m.layers[1].neurons) do
        local pre = mg.dot(n.w, x, n.b)
        h[j] = act == "linear" and pre or pre[act](pre)
      end
      local y = m(x)
      assert.equal(2, #y)
      for j, n in ipairs(m.layers[2].neurons) do
        assert_same_bits(mg.dot(n.w, h, n.b).data, y[j].data, "output " .. j)
        assert.equal("dot", y[j].op)
      end
    end)
  end

  it("returns a Value for one output and an array otherwise", function()
    assert.is_true(mg.is_value(nn.MLP(2, { 4, 1 })({ 1, 2 })))
    local y = nn.MLP(2, { 4, 3 })({ 1, 2 })
    assert.is_false(mg.is_value(y))
    assert.equal(3, #y)
  end)

  it("works with a hidden layer of one neuron", function()
    -- a one-neuron layer returns a Value; the next layer must still take it
    local m = nn.MLP(2, { 1, 2 })
    local ok, y = pcall(m, { 0.5, -0.5 })
    assert(ok, "MLP(2, {1, 2}) failed on a valid input: " .. tostring(y))
    assert.equal(2, #y)
    local n1 = m.layers[1].neurons[1]
    local h = mg.dot(n1.w, { 0.5, -0.5 }, n1.b):relu()
    local n2 = m.layers[2].neurons[2]
    assert_same_bits(mg.dot(n2.w, { h }, n2.b).data, y[2].data)
  end)

  it("zero_grad sets every parameter's grad to 0", function()
    local m = nn.MLP(2, { 3, 1 }, { activation = "tanh" })
    local y = m({ 0.3, 0.8 })
    y:backward()
    local nonzero = 0
    for _, p in ipairs(m:parameters()) do
      if p.grad ~= 0 then nonzero = nonzero + 1 end
    end
    assert.is_true(nonzero > 0)
    m:zero_grad()
    for i, p in ipairs(m:parameters()) do assert.equal(0.0, p.grad, "grad " .. i) end
  end)

  --- Sum over a few inputs of the squared outputs (a scalar function of the parameters).
  local function objective(m, xs)
    local total = Value(0)
    for _, x in ipairs(xs) do
      local y = m(x)
      if mg.is_value(y) then y = { y } end
      for _, v in ipairs(y) do total = total + v * v end
    end
    return total
  end

  for _, case in ipairs({
    { "tanh", 3, { 4, 4, 1 } }, { "sigmoid", 2, { 3, 2 } }, { "relu", 2, { 5, 1 } },
  }) do
    local act, nin, nouts = case[1], case[2], case[3]
    it("has gradients that match central finite differences (" .. act .. ")", function()
      mg.seed(1234)
      local m = nn.MLP(nin, nouts, { activation = act })
      local ps = m:parameters()
      for _, p in ipairs(ps) do p.data = p.data + 0.1 end -- biases away from 0
      math.randomseed(77)
      local xs = {}
      for s = 1, 3 do
        xs[s] = {}
        for i = 1, nin do xs[s][i] = check.between(-1.5, 1.5) end
      end
      m:zero_grad()
      objective(m, xs):backward()
      for i, p in ipairs(ps) do
        local saved = p.data
        local numeric = check.diff(function(v)
          p.data = v
          return objective(m, xs).data
        end, saved)
        p.data = saved
        check.assert_near(numeric, p.grad, 1e-6, "d/d parameter " .. i)
      end
    end)
  end

  it("passes gradients to Value inputs (finite differences)", function()
    mg.seed(8)
    local m = nn.MLP(2, { 4, 1 }, { activation = "tanh" })
    local x = { Value(0.4), Value(-0.6) }
    m(x):backward()
    for i = 1, 2 do
      local numeric = check.diff(function(v)
        local xs = { x[1].data, x[2].data }
        xs[i] = v
        return m(xs).data
      end, x[i].data)
      check.assert_near(numeric, x[i].grad, 1e-6, "d/dx" .. i)
    end
  end)
end)

-- ---- opts.init ---------------------------------------------------------------

describe("nn opts.init", function()
  it("'uniform' is the default", function()
    mg.seed(6)
    local a = datas(nn.MLP(2, { 3, 1 }):parameters())
    mg.seed(6)
    local b = datas(nn.MLP(2, { 3, 1 }, { init = "uniform" }):parameters())
    assert_same_datas(a, b)
  end)

  it("'xavier' draws mg.uniform(-a, a), a = sqrt(6 / (nin + nout)) of each layer", function()
    mg.seed(21)
    local m = nn.MLP(2, { 3, 1 }, { init = "xavier" })
    mg.seed(21)
    for _, layer in ipairs(m.layers) do
      local a = math.sqrt(6 / (layer.nin + #layer.neurons))
      for _, n in ipairs(layer.neurons) do
        for _, w in ipairs(n.w) do
          local expected = mg.uniform(-a, a)
          assert_same_bits(expected, w.data)
          assert.is_true(math.abs(w.data) <= a)
        end
        assert_same_bits(0.0, n.b.data)
      end
    end
  end)

  it("'he' draws mg.normal(0, sqrt(2 / nin))", function()
    mg.seed(22)
    local l = nn.Layer(4, 3, { init = "he" })
    mg.seed(22)
    for _, n in ipairs(l.neurons) do
      for _, w in ipairs(n.w) do assert_same_bits(mg.normal(0, math.sqrt(2 / 4)), w.data) end
      assert_same_bits(0.0, n.b.data)
    end
  end)

  it("a function is called as init(nin, nout) for every weight", function()
    local calls = {}
    local m = nn.MLP(2, { 3, 1 }, {
      init = function(nin, nout)
        calls[#calls + 1] = nin .. "x" .. nout
        return #calls / 8
      end,
    })
    assert.equal(9, #calls)
    for i = 1, 6 do assert.equal("2x3", calls[i]) end
    for i = 7, 9 do assert.equal("3x1", calls[i]) end
    local k = 0
    for _, layer in ipairs(m.layers) do
      for _, n in ipairs(layer.neurons) do
        for _, w in ipairs(n.w) do
          k = k + 1
          assert.equal(k / 8, w.data)
        end
        assert.equal(0.0, n.b.data)
      end
    end
  end)

  it("applies to Neuron and Linear too", function()
    local n = nn.Neuron(3, { init = function() return 0.25 end })
    for _, w in ipairs(n.w) do assert.equal(0.25, w.data) end
    local l = nn.Linear(2, 2, { init = function() return -1 end })
    for i, p in ipairs(l:parameters()) do
      assert.equal(i % 3 == 0 and 0.0 or -1.0, p.data)
    end
  end)
end)

-- ---- constructor errors -------------------------------------------------------

describe("nn constructors refuse bad arguments", function()
  local bad_counts = { 0, -1, 1.5, "2", {}, math.huge, 0 / 0 }

  it("Neuron: nin must be a positive integer", function()
    for _, n in ipairs(bad_counts) do
      assert_mentions(error_of(nn.Neuron, n), "bad argument #1 to 'Neuron'", "nin")
    end
    assert_mentions(error_of(nn.Neuron), "bad argument #1 to 'Neuron'")
  end)

  it("Layer: nin and nout must be positive integers", function()
    for _, n in ipairs(bad_counts) do
      assert_mentions(error_of(nn.Layer, n, 2), "bad argument #1 to 'Layer'", "nin")
      assert_mentions(error_of(nn.Layer, 2, n), "bad argument #2 to 'Layer'", "nout")
    end
  end)

  it("MLP: nin and every layer size must be positive integers", function()
    for _, n in ipairs(bad_counts) do
      assert_mentions(error_of(nn.MLP, n, { 1 }), "bad argument #1 to 'MLP'", "nin")
      assert_mentions(error_of(nn.MLP, 2, { 4, n }), "bad argument #2 to 'MLP'", "layer 2")
    end
    assert_mentions(error_of(nn.MLP, 2, {}), "bad argument #2 to 'MLP'")
    assert_mentions(error_of(nn.MLP, 2, 3), "bad argument #2 to 'MLP'", "number")
    assert_mentions(error_of(nn.MLP, 2), "bad argument #2 to 'MLP'", "nil")
  end)

  it("Linear: nin and nout must be positive integers", function()
    assert_mentions(error_of(nn.Linear, 0, 2), "bad argument #1 to 'Linear'", "nin")
    assert_mentions(error_of(nn.Linear, 2, 2.5), "bad argument #2 to 'Linear'", "nout")
  end)

  it("options must be a table", function()
    assert_mentions(error_of(nn.Neuron, 2, "tanh"), "bad argument #2 to 'Neuron'", "string")
    assert_mentions(error_of(nn.Layer, 2, 3, 5), "bad argument #3 to 'Layer'", "number")
    assert_mentions(error_of(nn.MLP, 2, { 1 }, true), "bad argument #3 to 'MLP'", "boolean")
  end)

  it("unknown options are errors that name them", function()
    assert_mentions(error_of(nn.Neuron, 2, { activaton = "tanh" }),
      "bad argument #2 to 'Neuron'", "activaton")
    assert_mentions(error_of(nn.MLP, 2, { 1 }, { lr = 0.1 }), "bad argument #3 to 'MLP'", "lr")
    assert_mentions(error_of(nn.Linear, 2, 1, { bias = false }), "bad argument #3 to 'Linear'", "bias")
  end)

  it("Linear has no activation option (it is always linear)", function()
    -- silently building a linear layer when ReLU was asked for hides a mistake
    assert_mentions(error_of(nn.Linear, 2, 3, { activation = "relu" }),
      "bad argument #3 to 'Linear'", "activation")
  end)

  it("bad activations and inits are errors that name them", function()
    assert_mentions(error_of(nn.Neuron, 2, { activation = "softmax" }),
      "bad argument #2 to 'Neuron'", "activation", "softmax")
    assert_mentions(error_of(nn.Layer, 2, 2, { activation = 1 }), "bad argument #3 to 'Layer'", "activation")
    assert_mentions(error_of(nn.MLP, 2, { 1 }, { init = "glorot" }),
      "bad argument #3 to 'MLP'", "init", "glorot")
    assert_mentions(error_of(nn.Neuron, 2, { init = 0.5 }), "bad argument #2 to 'Neuron'", "init", "number")
  end)

  it("Sequential takes only modules", function()
    assert_mentions(error_of(nn.Sequential, nn.ReLU), "bad argument #1 to 'Sequential'", "function")
    assert_mentions(error_of(nn.Sequential, nn.ReLU(), 5), "bad argument #2 to 'Sequential'", "number")
    assert_mentions(error_of(nn.Sequential, nn.Linear(2, 2), {}), "bad argument #2 to 'Sequential'")
  end)

  it("blames the caller's line", function()
    local err = error_of(function()
      local m = nn.Neuron(0)
      return m
    end)
    assert_mentions(err, "nn_spec.lua:")
  end)
end)

-- ---- input errors ---------------------------------------------------------------

describe("nn modules refuse bad inputs", function()
  local modules = {
    { "MLP", function() return nn.MLP(2, { 3, 1 }) end },
    { "Layer", function() return nn.Layer(2, 3) end },
    { "Neuron", function() return nn.Neuron(2) end },
    { "Linear", function() return nn.Linear(2, 3) end },
  }
  for _, case in ipairs(modules) do
    local name, make = case[1], case[2]

    it(name .. ": wrong size, not an array, wrong entries", function()
      local m = make()
      assert_mentions(error_of(m, { 1 }), name, "array of 2 numbers or Values", "got 1")
      assert_mentions(error_of(m, { 1, 2, 3 }), name, "array of 2 numbers or Values", "got 3")
      assert_mentions(error_of(m, {}), name, "array of 2", "got 0")
      assert_mentions(error_of(m, 5), name, "array of 2", "number")
      assert_mentions(error_of(m), name, "array of 2", "nil")
      assert_mentions(error_of(m, { 1, "2" }), name, "numbers or Values", "string", "index 2")
      assert_mentions(error_of(m, { {}, 2 }), name, "numbers or Values", "table", "index 1")
      assert_mentions(error_of(m.forward, m, { 1 }), name, "array of 2")
    end)
  end

  it("activation modules: not a Value or an array", function()
    for _, name in ipairs({ "ReLU", "Tanh", "Sigmoid" }) do
      local m = nn[name]()
      assert_mentions(error_of(m, "x"), name, "string")
      assert_mentions(error_of(m, { 1, true }), name, "boolean", "index 2")
    end
  end)

  it("Sequential names the module given the wrong number of inputs, at the caller's line", function()
    local s = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    assert_mentions(error_of(s, { 1 }), "Sequential: module 1 (Linear(2, 2), 6 parameters)",
      "expects 2 inputs, got 1")
    local bad = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(15, 1))
    local ok, err = pcall(function()
      local y = bad({ 1, 2 }) -- the line the error must point at
      return y
    end)
    assert.is_false(ok)
    local line = debug.getinfo(1, "l").currentline - 4
    local expected = "nn_spec.lua:" .. line .. ": Sequential: module 3 (Linear(15, 1), 16 parameters)"
      .. " expects 15 inputs, got 16 from module 2 (ReLU())"
    assert.equal(expected, err:sub(-#expected))
    -- nested: still the caller's line, naming the inner module
    local outer = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.MLP(4, { 1 })))
    ok, err = pcall(function()
      local y = outer({ 1, 2 })
      return y
    end)
    assert.is_false(ok)
    assert.matches("nn_spec.lua:%d+: Sequential: module 2 %(MLP%(4 %-> 1%), 5 parameters%)"
      .. " expects 4 inputs, got 3 from module 1 %(Tanh%(%)%)$", err)
  end)
end)

-- ---- composable modules -----------------------------------------------------------

describe("composable modules", function()
  it("Linear(nin, nout) is nout linear neurons: dot(w, x, b), no activation", function()
    mg.seed(31)
    local l = nn.Linear(3, 2)
    assert.equal(8, #l:parameters())
    assert.equal("Linear(3, 2), 8 parameters", tostring(l))
    local x = { -1.5, 0.5, 2 }
    local y = l(x)
    assert.equal(2, #y)
    local ps = l:parameters()
    for j = 1, 2 do
      local w = { ps[4 * j - 3], ps[4 * j - 2], ps[4 * j - 1] }
      assert_same_bits(mg.dot(w, x, ps[4 * j]).data, y[j].data)
      assert.equal("dot", y[j].op)
    end
    -- weights are micrograd's uniform(-1, 1), biases 0
    mg.seed(31)
    for j = 1, 2 do
      for i = 1, 3 do assert_same_bits(mg.uniform(-1, 1), ps[4 * (j - 1) + i].data) end
      assert_same_bits(0.0, ps[4 * j].data)
    end
    assert.is_true(mg.is_value(nn.Linear(3, 1)(x)))
  end)

  for _, case in ipairs({ { "ReLU", "relu" }, { "Tanh", "tanh" }, { "Sigmoid", "sigmoid" } }) do
    local name, op = case[1], case[2]
    it(name .. "() applies " .. op .. " element-wise and has no parameters", function()
      local m = nn[name]()
      assert.equal(name .. "()", tostring(m))
      assert.same({}, m:parameters())
      local xs = { -2, -0.5, 0, 0.5, 3 }
      local ys = m(xs)
      assert.equal(#xs, #ys)
      for i, x in ipairs(xs) do
        local v = Value(x)
        assert_same_bits(v[op](v).data, ys[i].data)
        assert.equal(op, ys[i].op)
      end
      local v = Value(0.75)
      local single = m(v)
      assert.is_true(mg.is_value(single))
      assert_same_bits(v[op](v).data, single.data)
      local vs = { Value(-1), Value(2) }
      local out = m(vs)
      out[1]:backward()
      out[2]:backward()
      assert.is_true(vs[2].grad ~= 0)
    end)
  end

  it("Sequential runs its modules in order, bit for bit", function()
    mg.seed(41)
    local l1, l2 = nn.Linear(2, 4), nn.Linear(4, 1)
    local s = nn.Sequential(l1, nn.Tanh(), l2)
    local x = { 0.25, -1.0 }
    local h = l1(x)
    for i = 1, #h do h[i] = h[i]:tanh() end
    local expected = l2(h)
    local y = s(x)
    assert.is_true(mg.is_value(y))
    assert_same_bits(expected.data, y.data)
  end)

  it("Sequential concatenates its modules' parameters in order (the same Values)", function()
    local l1, l2, l3 = nn.Linear(2, 3), nn.Linear(3, 2), nn.Linear(2, 1)
    local inner = nn.Sequential(l2, nn.Sigmoid())
    local s = nn.Sequential(l1, nn.ReLU(), inner, l3)
    local expected = {}
    for _, m in ipairs({ l1, l2, l3 }) do
      for _, p in ipairs(m:parameters()) do expected[#expected + 1] = p end
    end
    local ps = s:parameters()
    assert.equal(9 + 8 + 3, #ps)
    for i = 1, #ps do assert.is_true(rawequal(expected[i], ps[i]), "parameter " .. i) end
    assert.is_false(rawequal(ps, s:parameters()))
  end)

  it("Sequential is shown one line per module, nested ones indented, with parameter counts", function()
    local s = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Sequential(nn.Linear(16, 1), nn.Sigmoid()))
    assert.equal(table.concat({
      "Sequential(3 modules), 65 parameters",
      "  (1) Linear(2, 16), 48 parameters",
      "  (2) ReLU()",
      "  (3) Sequential(2 modules), 17 parameters",
      "      (1) Linear(16, 1), 17 parameters",
      "      (2) Sigmoid()",
    }, "\n"), tostring(s))
    assert.equal("Sequential(1 module), 2 parameters\n  (1) MLP(1 -> 1), 2 parameters",
      tostring(nn.Sequential(nn.MLP(1, { 1 }))))
    assert.equal("Sequential(0 modules)", tostring(nn.Sequential()))
  end)

  it("Sequential takes a module with one output after a one-output module", function()
    local s = nn.Sequential(nn.Linear(2, 1), nn.Tanh(), nn.Linear(1, 1))
    local ok, y = pcall(s, { 0.5, 0.5 })
    assert(ok, "Sequential(Linear(2, 1), Tanh(), Linear(1, 1)) failed: " .. tostring(y))
    assert.is_true(mg.is_value(y))
  end)

  it("zero_grad of a Sequential clears its modules' parameters", function()
    local s = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    s({ 1, 2 }):backward()
    s:zero_grad()
    for _, p in ipairs(s:parameters()) do assert.equal(0.0, p.grad) end
  end)

  it("modules compose with MLPs and take Values", function()
    local m = nn.MLP(2, { 3, 2 }, { activation = "tanh" })
    local s = nn.Sequential(m, nn.Sigmoid())
    local x = { Value(0.1), Value(0.2) }
    local y = s(x)
    local direct = m({ 0.1, 0.2 })
    for i = 1, 2 do assert_same_bits(direct[i]:sigmoid().data, y[i].data) end
    y[1]:backward()
    assert.is_true(x[1].grad ~= 0)
  end)
end)

-- ---- state / load_state -------------------------------------------------------------

describe("state() and load_state()", function()
  it("round-trips every parameter to the same bits and keeps the same Values", function()
    mg.seed(51)
    local a = nn.MLP(2, { 4, 1 })
    scramble(a, 3)
    a:parameters()[1].data = -0.0
    local state = a:state()
    assert.equal(#a:parameters(), #state.parameters)
    for _, x in ipairs(state.parameters) do assert.equal("number", type(x)) end
    local b = nn.MLP(2, { 4, 1 })
    local before = b:parameters()
    b:load_state(state)
    local after = b:parameters()
    for i = 1, #before do assert.is_true(rawequal(before[i], after[i])) end
    assert_same_datas(datas(a:parameters()), datas(b:parameters()))
    assert_same_bits(a({ 0.3, 0.4 }).data, b({ 0.3, 0.4 }).data)
  end)

  it("gives a copy: changing the state or the model later does not affect the other", function()
    local m = nn.Neuron(2)
    local s = m:state()
    local w1 = m.w[1].data
    s.parameters[1] = 123
    assert.equal(w1, m.w[1].data)
    m.w[1].data = 7
    assert.equal(123, s.parameters[1])
  end)

  it("works for Sequential, Linear and activation modules", function()
    local s = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    scramble(s, 4)
    local t = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    t:load_state(s:state())
    assert_same_datas(datas(s:parameters()), datas(t:parameters()))
    assert.same({ parameters = {} }, nn.ReLU():state())
    nn.ReLU():load_state({ parameters = {} })
  end)

  it("refuses bad states with a message naming load_state, leaving the model as it was", function()
    local m = nn.Neuron(2)
    local before = datas(m:parameters())
    assert_mentions(error_of(m.load_state, m), "bad argument #1 to 'load_state'", "parameters")
    assert_mentions(error_of(m.load_state, m, 5), "bad argument #1 to 'load_state'")
    assert_mentions(error_of(m.load_state, m, {}), "bad argument #1 to 'load_state'", "parameters")
    assert_mentions(error_of(m.load_state, m, { parameters = { 1, 2 } }),
      "bad argument #1 to 'load_state'", "3", "2")
    assert_mentions(error_of(m.load_state, m, { parameters = { 1, 2, 3, 4 } }),
      "bad argument #1 to 'load_state'", "3", "4")
    assert_mentions(error_of(m.load_state, m, { parameters = { 1, "2", 3 } }),
      "bad argument #1 to 'load_state'", "parameter 2")
    assert_same_datas(before, datas(m:parameters()))
  end)
end)

-- ---- dump / parse / save / load ------------------------------------------------------

--- Awkward parameter values: every one must come back with the same bits.
local awkward = {
  -0.0, 0.1, 1 / 3, -2 / 3, 3.0, 1e15, -1e16, 2 ^ 53 + 2, 1e-310, -5e-324, 1e300,
  -1.7976931348623157e308, 0.30000000000000004, 123456789.12345678, -1e-7, 0.0,
}

local function fill_awkward(model)
  local ps = model:parameters()
  math.randomseed(9)
  for i, p in ipairs(ps) do
    p.data = awkward[i] or (check.between(-1, 1) * 10 ^ math.random(-20, 20))
  end
end

local round_trip_cases = {
  { "MLP relu", function() return nn.MLP(2, { 16, 16, 1 }) end, 2 },
  { "MLP tanh", function() return nn.MLP(3, { 4, 2 }, { activation = "tanh" }) end, 3 },
  { "MLP sigmoid", function() return nn.MLP(2, { 3, 1 }, { activation = "sigmoid" }) end, 2 },
  { "MLP linear", function() return nn.MLP(2, { 3, 1 }, { activation = "linear" }) end, 2 },
  { "Layer tanh", function() return nn.Layer(3, 4, { activation = "tanh" }) end, 3 },
  { "Layer relu", function() return nn.Layer(2, 1) end, 2 },
  { "Neuron sigmoid", function() return nn.Neuron(5, { activation = "sigmoid" }) end, 5 },
  { "Neuron linear", function() return nn.Neuron(1, { activation = "linear" }) end, 1 },
  { "Linear", function() return nn.Linear(4, 3) end, 4 },
  { "Sequential", function()
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 4), nn.Tanh(),
      nn.Linear(4, 1), nn.Sigmoid())
  end, 2 },
  { "nested Sequential", function()
    return nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid()),
      nn.Sequential(nn.Sequential(nn.Linear(3, 2), nn.Tanh()), nn.MLP(2, { 2, 1 }, { activation = "tanh" })))
  end, 2 },
}

describe("nn.dump and nn.parse", function()
  for _, case in ipairs(round_trip_cases) do
    local what, make, nin = case[1], case[2], case[3]
    it("round-trip every parameter to the same bits: " .. what, function()
      local model = make()
      fill_awkward(model)
      local text = nn.dump(model)
      assert.is_string(text)
      local copy = nn.parse(text)
      assert.equal(tostring(model), tostring(copy))
      assert_same_datas(datas(model:parameters()), datas(copy:parameters()))
      assert.equal(text, nn.dump(copy))
      -- the copy computes the same thing (on moderate parameters)
      scramble(model, 12)
      copy = nn.parse(nn.dump(model))
      local x = {}
      for i = 1, nin do x[i] = 0.1 * i - 0.35 end
      local ya, yb = outputs(model(x)), outputs(copy(x))
      assert_same_datas(ya, yb, "output")
      -- new Values, not the old ones
      assert.is_false(rawequal(model:parameters()[1], copy:parameters()[1]))
    end)
  end

  it("writes a JSON document with the format, version, model and parameters", function()
    local json = require("dkjson")
    local m = nn.MLP(2, { 3, 1 }, { activation = "tanh" })
    local doc = json.decode(nn.dump(m))
    assert.equal("micrograd-model", doc.format)
    assert.equal(1, doc.version)
    assert.equal("MLP", doc.model.type)
    assert.equal(2, doc.model.nin)
    assert.same({ 3, 1 }, { doc.model.nouts[1], doc.model.nouts[2] })
    assert.equal("tanh", doc.model.activation)
    assert.equal(13, #doc.parameters)
  end)

  it("refuses a NaN or infinite parameter, naming it", function()
    for _, bad in ipairs({ 0 / 0, math.huge, -math.huge }) do
      local m = nn.MLP(2, { 2, 1 })
      m:parameters()[5].data = bad
      local err = error_of(nn.dump, m)
      assert_mentions(err, "parameter 5")
      local path = os.tmpname()
      assert_mentions(error_of(nn.save, m, path), "parameter 5")
      os.remove(path)
    end
  end)

  it("refuses what is not a model, and a module that cannot be saved", function()
    assert_mentions(error_of(nn.dump, 5), "bad argument #1 to 'dump'")
    assert_mentions(error_of(nn.dump, {}), "bad argument #1 to 'dump'")
    local custom = setmetatable({}, { __index = {
      forward = function(_, x) return x end, parameters = function() return {} end,
    } })
    local err = error_of(nn.dump, nn.Sequential(nn.Linear(1, 1), custom))
    assert_mentions(err, "module 2")
  end)

  it("parse refuses arguments of the wrong type", function()
    assert_mentions(error_of(nn.parse), "bad argument #1 to 'parse'")
    assert_mentions(error_of(nn.parse, 42), "bad argument #1 to 'parse'")
    assert_mentions(error_of(nn.parse, neuron_doc(), 5), "bad argument #2 to 'parse'")
  end)

  it("reads a hand-written document", function()
    local m = nn.parse(neuron_doc())
    assert.equal("ReLUNeuron(2)", tostring(m))
    assert.same({ 0.5, -0.25, 0.125 }, datas(m:parameters()))
    local l = nn.parse(model_doc('{"type": "Sequential", "modules": [{"type": "Linear", "nin": 1, "nout": 1},'
      .. ' {"type": "Tanh"}]}', "[2, 1]"))
    assert.equal("Sequential(2 modules), 2 parameters\n  (1) Linear(1, 1), 2 parameters\n  (2) Tanh()",
      tostring(l))
    assert.equal(Value(2.0):tanh().data, l({ 0.5 }).data)
  end)

  it("never calls load() (nor loadfile or dofile)", function()
    local saved = { load = _G.load, loadfile = _G.loadfile, dofile = _G.dofile }
    local called = {}
    for name in pairs(saved) do
      _G[name] = function() called[#called + 1] = name error(name .. " must not be called") end
    end
    local ok, model = pcall(nn.parse, nn.dump(nn.MLP(2, { 4, 1 })), "x.json")
    for name, f in pairs(saved) do _G[name] = f end
    assert.same({}, called)
    assert(ok, tostring(model))
    assert.equal(17, #model:parameters())
  end)

  it("does not draw from the engine's random generator", function()
    local text = nn.dump(nn.MLP(2, { 4, 1 }))
    mg.seed(5)
    local expected = mg.random()
    mg.seed(5)
    nn.parse(text)
    assert.equal(expected, mg.random())
  end)
end)

describe("nn.save and nn.load", function()
  it("round-trip a model through a file", function()
    local path = os.tmpname()
    local m = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    fill_awkward(m)
    nn.save(m, path)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    assert.equal(nn.dump(m), text)
    local copy = nn.load(path)
    os.remove(path)
    assert.equal(tostring(m), tostring(copy))
    assert_same_datas(datas(m:parameters()), datas(copy:parameters()))
  end)

  it("name the file in errors", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write('{"format": "micrograd-model", "version": 7}')
    f:close()
    local err = error_of(nn.load, path)
    os.remove(path)
    assert_mentions(err, path, "version")
    local missing = path .. ".does-not-exist"
    assert_mentions(error_of(nn.load, missing), missing)
    local dir = path .. ".no-such-dir/model.json"
    assert_mentions(error_of(nn.save, nn.Neuron(1), dir), dir)
  end)

  it("load the stored version-1 documents of spec/fixtures/models", function()
    local m = nn.load("spec/fixtures/models/mlp_tanh_v1.json")
    assert.equal("MLP(2 -> 2 tanh -> 1), 9 parameters", tostring(m))
    assert.same({ 0.5, -0.25, 0.125, 1.5, 0.75, -0.5, 2.0, -1.0, 0.0625 }, datas(m:parameters()))
    local h1 = mg.dot({ 0.5, -0.25 }, { 1, 2 }, 0.125):tanh()
    local h2 = mg.dot({ 1.5, 0.75 }, { 1, 2 }, -0.5):tanh()
    assert_same_bits(mg.dot({ 2.0, -1.0 }, { h1, h2 }, 0.0625).data, m({ 1, 2 }).data)

    local s = nn.load("spec/fixtures/models/sequential_v1.json")
    assert.equal("Sequential(3 modules), 7 parameters", tostring(s):match("^[^\n]*"))
    assert.equal("  (3) Linear(2, 1), 3 parameters", tostring(s):match("[^\n]*$"))
    assert_same_datas({ 0.1, -0.0, 1e-310, 3.0, -1.7976931348623157e308, 5e-324, 123456789.12345678 },
      datas(s:parameters()))
    local again = nn.parse(nn.dump(s))
    assert_same_datas(datas(s:parameters()), datas(again:parameters()))
  end)

  it("refuse arguments of the wrong type", function()
    assert_mentions(error_of(nn.save, nn.Neuron(1)), "bad argument #2 to 'save'")
    assert_mentions(error_of(nn.save, "model.json", nn.Neuron(1)), "bad argument #1 to 'save'")
    assert_mentions(error_of(nn.load, 5), "bad argument #1 to 'load'")
  end)
end)

-- ---- hostile documents ---------------------------------------------------------------

describe("nn.parse refuses bad documents with a clear message", function()
  local name = "evil.json"

  it("names '<string>' when no name is given", function()
    assert_mentions(error_of(nn.parse, ""), "<string>")
  end)

  it("empty text", function()
    parse_error("", name, "empty")
    parse_error("  \n\t ", name, "empty")
  end)

  it("not JSON, truncated JSON", function()
    parse_error("hello", name, "JSON")
    parse_error("{format: 1}", name, "JSON")
    local text = nn.dump(nn.MLP(2, { 2, 1 }))
    parse_error(text:sub(1, 40), name, "JSON")
    parse_error(text:sub(1, #text - 4), name, "JSON")
    parse_error('{"format": "micrograd-model", "version": 1, "model": {"type": "Neur', name, "JSON")
  end)

  it("text after the document", function()
    local err = error_of(nn.parse, neuron_doc() .. " garbage", name)
    assert_mentions(err, name)
    assert_mentions(error_of(nn.parse, neuron_doc() .. neuron_doc(), name), name)
  end)

  it("a top level that is not an object", function()
    parse_error("[1, 2, 3]", name, "model document")
    parse_error("42", name, "model document")
    parse_error('"micrograd-model"', name, "model document")
    parse_error("true", name, "model document")
  end)

  it("the document null (valid JSON, but no model)", function()
    -- not "not valid JSON: nil": null is valid JSON, it is just not an object
    parse_error("null", name, "model document")
  end)

  it("wrong or missing format", function()
    parse_error(neuron_doc({ format = '"pytorch"' }), name, "format", "pytorch")
    parse_error(neuron_doc({ format = false }), name, "format")
    parse_error(neuron_doc({ format = "1" }), name, "format")
  end)

  it("wrong or missing version", function()
    parse_error(neuron_doc({ version = "2" }), name, "version", "2")
    parse_error(neuron_doc({ version = "0" }), name, "version")
    parse_error(neuron_doc({ version = false }), name, "version")
  end)

  it("a version that is the string \"1\"", function()
    local err = parse_error(neuron_doc({ version = '"1"' }), name, "version")
    -- the string "1" is not the number 1: the message must not read "version 1 ... reads version 1"
    assert(err:find('"1"', 1, true) or err:find("string", 1, true),
      "message does not say the version is a string: " .. err)
  end)

  it("missing or unknown model type", function()
    parse_error(neuron_doc({ model = false }), name, "model")
    parse_error(neuron_doc({ model = "5" }), name, "model")
    parse_error(neuron_doc({ model = '{"nin": 2, "activation": "relu"}' }), name, "type")
    parse_error(neuron_doc({ model = '{"type": "Transformer", "nin": 2}' }), name, "Transformer")
    parse_error(neuron_doc({ model = '{"type": 5}' }), name, "type")
    parse_error(neuron_doc({ model = '{"type": "__index"}' }), name, "type")
  end)

  it("a type that looks like code is only a name: nothing is executed", function()
    local os_lib = _G.os
    local saved_exit, saved_execute = os_lib.exit, os_lib.execute
    local called = false
    os_lib.exit = function() called = true error("os.exit was called") end
    os_lib.execute = function() called = true error("os.execute was called") end
    local results = {}
    for i, t in ipairs({ "os.exit()", "]] os.exit() --[[", "os.execute('false')", "\") os.exit(1) --" }) do
      local quoted = '"' .. t:gsub('[\\"]', "\\%0") .. '"'
      results[i] = { pcall(nn.parse, neuron_doc({ model = '{"type": ' .. quoted .. ', "nin": 2}' }), name) }
    end
    os_lib.exit, os_lib.execute = saved_exit, saved_execute
    assert.is_false(called)
    for _, r in ipairs(results) do
      assert.is_false(r[1])
      assert_mentions(r[2], name, "type")
    end
  end)

  it("bad or missing activation", function()
    parse_error(model_doc('{"type": "Neuron", "nin": 2, "activation": "softmax"}', "[1, 2, 3]"),
      name, "activation", "softmax")
    parse_error(model_doc('{"type": "Neuron", "nin": 2}', "[1, 2, 3]"), name, "activation")
    parse_error(model_doc('{"type": "MLP", "nin": 1, "nouts": [1], "activation": 3}', "[1, 2]"),
      name, "activation")
    parse_error(model_doc('{"type": "Layer", "nin": 1, "nout": 1, "activation": "os.exit"}', "[1, 2]"),
      name, "activation")
  end)

  it("sizes that are not positive integers", function()
    for _, bad in ipairs({ "2.5", "0", "-3", '"2"', "null", "true", "[2]", "1e-3" }) do
      parse_error(model_doc('{"type": "Neuron", "nin": ' .. bad .. ', "activation": "relu"}', "[1, 2, 3]"),
        name, "nin")
      parse_error(model_doc('{"type": "Linear", "nin": 2, "nout": ' .. bad .. '}', "[1, 2, 3]"), name, "nout")
      if bad ~= "null" then -- (a null in nouts has its own test below)
        parse_error(model_doc('{"type": "MLP", "nin": 2, "nouts": [3, ' .. bad .. '], "activation": "relu"}',
          "[1, 2, 3]"), name, "nouts[2]")
      end
    end
    parse_error(model_doc('{"type": "MLP", "nin": 2, "nouts": [], "activation": "relu"}'), name, "nouts")
    parse_error(model_doc('{"type": "MLP", "nin": 2, "nouts": "16", "activation": "relu"}'), name, "nouts")
    parse_error(model_doc('{"type": "MLP", "nin": 2, "activation": "relu"}'), name, "nouts")
    parse_error(model_doc('{"type": "Sequential", "modules": 3}'), name, "modules")
  end)

  it("a null inside the layer sizes is not skipped", function()
    -- MLP(1, {1, null, 1}) must not load as MLP(1, {1})
    parse_error(model_doc('{"type": "MLP", "nin": 1, "nouts": [1, null, 1], "activation": "relu"}',
      "[0.5, 0.5]"), name, "nouts")
  end)

  it("huge sizes, refused before allocating anything", function()
    local docs = {
      model_doc('{"type": "MLP", "nin": 2, "nouts": [1e9], "activation": "relu"}', "[1, 2, 3]"),
      model_doc('{"type": "MLP", "nin": 2, "nouts": [1000000000000000000000], "activation": "relu"}'),
      model_doc('{"type": "Neuron", "nin": 1e300, "activation": "relu"}', "[1]"),
      model_doc('{"type": "Linear", "nin": 9007199254740993, "nout": 1}', "[1]"),
      model_doc('{"type": "Layer", "nin": 1e999, "nout": 1, "activation": "relu"}', "[1]"),
      -- sizes allowed one by one, but far more parameters than the document has
      model_doc('{"type": "MLP", "nin": 16000000, "nouts": [16000000, 16000000], "activation": "relu"}',
        "[1]"),
    }
    for _, text in ipairs(docs) do
      collectgarbage("collect")
      local kb, t0 = collectgarbage("count"), os.clock()
      parse_error(text, name)
      assert.is_true(os.clock() - t0 < 0.5 * TIME_SCALE, "took too long")
      assert.is_true(collectgarbage("count") - kb < 10240, "allocated too much")
    end
  end)

  it("a parameter count that overflows is still refused, before building anything", function()
    -- 65536 Linear(2^24 - 1, 2^24) modules have 2^64 parameters: the count wraps
    -- to 0 in 64-bit integers and matches an empty parameter list
    local one = '{"type": "Linear", "nin": 16777215, "nout": 16777216}'
    local modules = string.rep(one .. ", ", 65535) .. one
    local text = model_doc('{"type": "Sequential", "modules": [' .. modules .. "]}", "[]")
    -- ask the checker first: building this model would try to allocate 2^64 Values
    local ok = pcall(model_io.decode, text, name)
    assert.is_false(ok, "model_io.decode accepted a model of 2^64 parameters (count overflow)")
    parse_error(text, name)
  end)

  it("too few or too many parameters", function()
    parse_error(neuron_doc({ parameters = "[0.5, 0.25]" }), name, "parameters", "3", "2")
    parse_error(neuron_doc({ parameters = "[0.5, 0.25, 1, 2]" }), name, "parameters", "3", "4")
    parse_error(neuron_doc({ parameters = "[]" }), name, "parameters")
    parse_error(neuron_doc({ parameters = false }), name, "parameters")
    parse_error(neuron_doc({ parameters = '"0.5, 0.25, 1"' }), name, "parameters")
    parse_error(neuron_doc({ parameters = '{"1": 0.5, "2": 0.5, "3": 0.5}' }), name, "parameters")
    parse_error(model_doc('{"type": "MLP", "nin": 2, "nouts": [16, 16, 1], "activation": "relu"}',
      params_json(336)), name, "337", "336")
  end)

  it("a parameter that is a string, a boolean, an array or not finite", function()
    parse_error(neuron_doc({ parameters = '[0.5, "0.25", 1]' }), name, "parameter 2")
    parse_error(neuron_doc({ parameters = "[0.5, 0.25, true]" }), name, "parameter 3")
    parse_error(neuron_doc({ parameters = "[[0.5], 0.25, 1]" }), name, "parameter 1")
    parse_error(neuron_doc({ parameters = "[1e999, 0.25, 1]" }), name, "parameter 1", "finite")
    parse_error(neuron_doc({ parameters = "[0.5, -1e999, 1]" }), name, "parameter 2", "finite")
    parse_error(neuron_doc({ parameters = "[0.5, NaN, 1]" }), name)
    parse_error(neuron_doc({ parameters = "[0.5, Infinity, 1]" }), name)
    parse_error(neuron_doc({ parameters = "[0.5, 0.25, 0x10]" }), name)
  end)

  it("a null parameter, wherever it is, is named as such", function()
    -- the document has 3 entries: it must not be reported as having fewer
    parse_error(neuron_doc({ parameters = "[0.5, null, 1]" }), name, "parameter 2")
    parse_error(neuron_doc({ parameters = "[null, 0.5, 1]" }), name, "parameter 1")
    parse_error(neuron_doc({ parameters = "[0.5, 1, null]" }), name, "parameter 3")
  end)

  it("nesting 10,000 deep, quickly", function()
    for _, text in ipairs({
      string.rep("[", 10000),
      string.rep("[", 10000) .. string.rep("]", 10000),
      string.rep('{"a": ', 10000) .. "1" .. string.rep("}", 10000),
      neuron_doc({ parameters = string.rep("[", 10000) .. string.rep("]", 10000) }),
    }) do
      local t0 = os.clock()
      parse_error(text, name)
      assert.is_true(os.clock() - t0 < 0.5 * TIME_SCALE, "took too long")
    end
  end)

  it("a 1 MB junk string, quickly", function()
    math.randomseed(1)
    local bytes = {}
    for i = 1, 4096 do bytes[i] = string.char(math.random(0, 255)) end
    local noise = string.rep(table.concat(bytes), 256)
    for _, text in ipairs({ string.rep("x", 1048576), noise, "{" .. string.rep('"a": 1, ', 131072) }) do
      local t0 = os.clock()
      parse_error(text, name)
      assert.is_true(os.clock() - t0 < 2 * TIME_SCALE, "took too long")
    end
  end)
end)

-- ---- micrograd parity -----------------------------------------------------------------

-- ---- Dropout, train() and eval() ----------------------------------------------------

describe("nn.Dropout and train/eval modes", function()
  it("zeroes each input with probability p and scales the others by 1/(1-p), from mg.random", function()
    local xs = { 0.5, -1.25, 2.0, 3.0, -0.75, 1.0, 4.0, -2.5 }
    local d = nn.Dropout(0.25)
    mg.seed(7)
    local ys = d(xs)
    mg.seed(7)
    for i, x in ipairs(xs) do
      local expected = mg.random() < 0.25 and x * 0 or x * (1 / (1 - 0.25))
      assert_same_bits(expected, ys[i], "output " .. i)
    end
    -- the same seed gives the same masks; Values keep the graph to every input
    mg.seed(7)
    local vs = {}
    for i, x in ipairs(xs) do vs[i] = Value(x) end
    local out = d(vs)
    local total = out[1]
    for i = 2, #out do total = total + out[i] end
    total:backward()
    for i = 1, #xs do
      assert_same_bits(ys[i], out[i].data, "Value output " .. i)
      local expected_grad = ys[i] == 0 and 0 or 1 / (1 - 0.25)
      assert.equal(expected_grad, vs[i].grad)
    end
  end)

  it("drops about p of the inputs and keeps the mean (inverted dropout)", function()
    mg.seed(3)
    local d, n, dropped, sum = nn.Dropout(0.3), 20000, 0, 0
    local xs = {}
    for i = 1, n do xs[i] = 1.0 end
    for _, y in ipairs(d(xs)) do
      if y == 0 then dropped = dropped + 1 end
      sum = sum + y
    end
    assert.is_true(math.abs(dropped / n - 0.3) < 0.015, "dropped " .. dropped / n)
    assert.is_true(math.abs(sum / n - 1) < 0.03, "mean " .. sum / n)
  end)

  it("passes its input through in evaluation mode, and when p = 0", function()
    local d = nn.Dropout(0.5)
    assert.is_true(d.training)
    assert.equal(d, d:eval())
    assert.is_false(d.training)
    local xs = { 1, 2, 3 }
    assert.equal(xs, d(xs))
    local v = Value(2)
    assert.equal(v, d(v))
    d:train()
    mg.seed(1)
    local draws = 0
    for _ = 1, 20 do if d(v).data == 0 then draws = draws + 1 end end
    assert.is_true(draws > 0 and draws < 20)
    assert.equal(xs, nn.Dropout(0)(xs))
    assert.equal("Dropout(0.5)", tostring(d))
    assert.equal("Dropout(0.5) (eval)", tostring(d:eval()))
  end)

  it("train() and eval() reach every module inside, and return the module", function()
    local drop = nn.Dropout(0.1)
    local mlp = nn.MLP(2, { 3, 1 })
    local s = nn.Sequential(nn.Linear(2, 2), nn.Sequential(drop, mlp))
    assert.equal(s, s:eval())
    local inside = { s, s.modules[1], s.modules[2], drop, mlp, mlp.layers[1], mlp.layers[1].neurons[1] }
    for _, m in ipairs(inside) do
      assert.is_false(m.training)
    end
    assert.equal(s, s:train())
    assert.is_true(drop.training)
    assert.is_true(mlp.layers[2].neurons[1].training)
    s:train(false)
    assert.is_false(drop.training)
    assert_mentions(error_of(s.train, s, "yes"), "bad argument #1 to 'train'", "boolean")
    -- a user module without train() inside a Sequential is left alone
    local custom = { forward = function(_, x) return x end, parameters = function() return {} end }
    nn.Sequential(custom, drop):eval()
    -- one with its own train() is told the mode
    local told
    custom.train = function(_, mode) told = mode end
    nn.Sequential(custom):eval()
    assert.is_false(told)
    -- a model that holds itself does not loop
    local loop = nn.Sequential(nn.Dropout(0.2))
    loop.modules[2] = loop
    assert.equal(loop, loop:eval())
    assert.is_false(loop.modules[1].training)
  end)

  it("refuses a p outside [0, 1)", function()
    for _, p in ipairs({ -0.1, 1, 1.5, 0 / 0, "0.5", true }) do
      assert_mentions(error_of(nn.Dropout, p), "bad argument #1 to 'Dropout'", "0 <= p < 1")
    end
    assert_mentions(error_of(nn.Dropout(0.5), "x"), "Dropout", "string")
    assert_mentions(error_of(nn.Dropout(0.5), { 1, {} }), "Dropout", "table", "index 2")
  end)

  it("mg.compile of a model with dropout in training mode is an error saying so", function()
    local model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 1))
    assert.is_false(mg.is_tracing())
    local ok, err = pcall(function()
      local g = mg.compile(function(a, b) return model({ a, b }) end, 2)
      return g
    end)
    assert.is_false(ok)
    assert_mentions(err, "Dropout in training mode cannot be compiled", "model:eval()")
    assert.is_false(mg.is_tracing())
    -- in evaluation mode it compiles, and gives the dynamic bits
    model:eval()
    local seen
    local g = mg.compile(function(a, b)
      seen = mg.is_tracing()
      return model({ a, b })
    end, 2)
    assert.is_true(seen)
    assert_same_bits(model({ 0.5, -1.5 }).data, g(0.5, -1.5))
  end)

  it("round-trips through dump and parse (a loaded model is in training mode)", function()
    local s = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.1 + 0.2), nn.Linear(3, 1)):eval()
    local again = nn.parse(nn.dump(s))
    assert_same_bits(0.1 + 0.2, again.modules[2].p)
    assert.is_true(again.modules[2].training)
    assert_same_datas(datas(s:parameters()), datas(again:parameters()))
    for _, p in ipairs({ "1", "-0.5", "\"a\"", "null" }) do
      parse_error(model_doc('{"type": "Dropout", "p": ' .. p .. '}'), "<string>", "p must be a number")
    end
  end)

  it("names parameters w1, w2, ..., b in parameters() order, setting no label", function()
    local n = nn.Neuron(3)
    assert.same({ "w1", "w2", "w3", "b" }, n:parameter_names())
    assert.is_nil(n.w[1].label)
    local mlp = nn.MLP(2, { 2, 1 })
    assert.same({ "w1", "w2", "b", "w1", "w2", "b", "w1", "w2", "b" }, mlp:parameter_names())
    assert.same({ "w1", "b", "w1", "b" }, nn.Linear(1, 2):parameter_names())
    -- a user's module: its own names, or false for each parameter
    local p = mg.Value(1)
    local custom = { forward = function(_, x) return x end, parameters = function() return { p, p } end }
    local s = nn.Sequential(nn.Linear(1, 1), nn.Tanh(), custom, nn.Dropout(0.1))
    assert.same({ "w1", "b", false, false }, s:parameter_names())
    custom.parameter_names = function() return { "scale", "shift" } end
    assert.same({ "w1", "b", "scale", "shift" }, s:parameter_names())
    assert.equal(#s:parameters(), #s:parameter_names())
  end)
end)

describe("micrograd parity", function()
  it("trains micrograd's moons MLP to micrograd's losses, bit for bit", function()
    local ref = dofile("examples/data/reference.lua")("examples/data/micrograd_moons_h16.txt")
    assert.same({ 2, 16, 16, 1 }, ref.sizes)
    local model = nn.MLP(2, { 16, 16, 1 })
    local params = model:parameters()
    assert.equal(#ref.weights, #params)
    for i, p in ipairs(params) do p.data = ref.weights[i] end
    local losses, correct = {}, 0
    for k = 0, 99 do
      local scores = {}
      correct = 0
      for i, x in ipairs(ref.X) do
        scores[i] = model(x)
        if (ref.y[i] > 0) == (scores[i].data > 0) then correct = correct + 1 end
      end
      local total = loss.svm(scores, ref.y) + loss.l2(params, 1e-4)
      model:zero_grad()
      total:backward()
      local lr = 1.0 - 0.9 * k / 100
      for _, p in ipairs(params) do p.data = p.data - lr * p.grad end
      losses[k] = string.format("%.17g", total.data)
    end
    assert.equal("0.89584410286832217", losses[0])
    assert.equal("0.010978370135492717", losses[99])
    assert.equal(#ref.X, correct)
  end)

  it("gives bit-identical losses from the same seed", function()
    local X, y = {}, {}
    math.randomseed(5)
    for i = 1, 20 do
      X[i] = { check.between(-1, 1), check.between(-1, 1) }
      y[i] = X[i][1] * X[i][2] > 0 and 1 or -1
    end
    local function run()
      mg.seed(777)
      local model = nn.MLP(2, { 8, 8, 1 })
      local params = model:parameters()
      local out = {}
      for k = 1, 5 do
        local scores = {}
        for i, x in ipairs(X) do scores[i] = model(x) end
        local total = loss.svm(scores, y) + loss.l2(params, 1e-4)
        model:zero_grad()
        total:backward()
        for _, p in ipairs(params) do p.data = p.data - 0.5 * p.grad end
        out[k] = total.data
      end
      return out
    end
    local a, b = run(), run()
    assert_same_datas(a, b, "loss")
    assert.are_not.equal(a[1], a[5])
  end)
end)
