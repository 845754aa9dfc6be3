local mg = require("micrograd")
local check = require("spec.helpers.check")

local Value = mg.Value

describe("micrograd module", function()
  it("has a version string starting with 'micrograd '", function()
    assert.is_string(mg._VERSION)
    assert.equal("micrograd ", mg._VERSION:sub(1, 10))
  end)

  it("exposes Value as a function", function()
    assert.is_function(mg.Value)
  end)
end)

describe("Value construction", function()
  it("is a userdata holding float data and a zero grad", function()
    local v = Value(3)
    assert.equal("userdata", type(v))
    assert.equal(3.0, v.data)
    assert.equal("float", check.math_type(v.data))
    assert.equal(0.0, v.grad)
    assert.equal("float", check.math_type(v.grad))
  end)

  it("accepts floats, negatives and numeric strings", function()
    assert.equal(-4.25, Value(-4.25).data)
    assert.equal(2.5, Value("2.5").data)
    assert.equal(16.0, Value("0x10").data)
  end)

  it("takes an optional string label", function()
    assert.is_nil(Value(1).label)
    assert.equal("w", Value(1, "w").label)
    assert.is_nil(Value(1, nil).label)
  end)

  it("rejects labels that are not strings, numbers included", function()
    assert.is_false(pcall(Value, 1, 5))
    assert.is_false(pcall(Value, 1, {}))
    assert.is_false(pcall(Value, 1, true))
  end)

  it("is a leaf: op is empty and there are no children", function()
    local v = Value(1)
    assert.equal("", v.op)
    assert.same({}, v:children())
  end)
end)

describe("Value fields", function()
  it("data and grad are writable and read back as floats", function()
    local v = Value(1)
    v.data = 5
    v.grad = -2.5
    assert.equal(5.0, v.data)
    assert.equal("float", check.math_type(v.data))
    assert.equal(-2.5, v.grad)
    v.data = v.data - 0.1 * v.grad
    assert.equal(5.25, v.data)
  end)

  it("refuses non-numbers in data and grad, naming the field", function()
    local v = Value(1)
    check.assert_mentions(check.error_of(function() v.data = {} end), "data")
    check.assert_mentions(check.error_of(function() v.grad = "x" end), "grad")
    check.assert_mentions(check.error_of(function() v.data = nil end), "data")
    assert.equal(1.0, v.data)
    assert.equal(0.0, v.grad)
  end)

  it("label is writable with a string or nil only", function()
    local v = Value(1)
    v.label = "loss"
    assert.equal("loss", v.label)
    v.label = nil
    assert.is_nil(v.label)
    assert.is_false(pcall(function() v.label = 5 end))
    assert.is_false(pcall(function() v.label = {} end))
    assert.is_nil(v.label)
  end)

  it("op is read-only", function()
    local v = Value(1)
    assert.is_false(pcall(function() v.op = "+" end))
    assert.equal("", v.op)
  end)

  it("refuses unknown fields but reads them as nil", function()
    local v = Value(1)
    assert.is_false(pcall(function() v.foo = 1 end))
    assert.is_false(pcall(function() v[1] = 1 end))
    assert.is_nil(v.foo)
    assert.is_nil(v.nonexistent_field)
  end)
end)

describe("Value arithmetic", function()
  local a, b
  before_each(function()
    a, b = Value(3), Value(-2)
  end)

  it("computes + - * / ^ with Values on both sides", function()
    assert.equal(1.0, (a + b).data)
    assert.equal(5.0, (a - b).data)
    assert.equal(-6.0, (a * b).data)
    assert.equal(-1.5, (a / b).data)
    assert.equal(1 / 9, (a ^ b).data)
  end)

  it("accepts a number on either side", function()
    assert.equal(5.0, (a + 2).data)
    assert.equal(5.0, (2 + a).data)
    assert.equal(1.0, (a - 2).data)
    assert.equal(-1.0, (2 - a).data)
    assert.equal(6.0, (a * 2).data)
    assert.equal(6.0, (2 * a).data)
    assert.equal(1.5, (a / 2).data)
    assert.equal(2 / 3, (2 / a).data)
    assert.equal(9.0, (a ^ 2).data)
    assert.equal(8.0, (2 ^ a).data)
    assert.equal(0.5, (Value(0.25) ^ 0.5).data)
  end)

  it("negates", function()
    assert.equal(-3.0, (-a).data)
    assert.equal("neg", (-a).op)
  end)

  it("records the op of each result", function()
    assert.equal("+", (a + b).op)
    assert.equal("-", (a - b).op)
    assert.equal("*", (a * b).op)
    assert.equal("/", (a / b).op)
    assert.equal("^", (a ^ b).op)
    assert.equal("-", (2 - a).op)
    assert.equal("/", (2 / a).op)
    assert.equal("^", (a ^ 2).op)
  end)

  it("returns new Values and leaves the operands alone", function()
    local c = a + b
    assert.is_true(mg.is_value(c))
    assert.is_false(rawequal(c, a))
    assert.equal(3.0, a.data)
    assert.equal(-2.0, b.data)
  end)

  it("refuses % and // with an error that mentions Value", function()
    check.assert_mentions(check.error_of(function() return a % 2 end), "Value")
    check.assert_mentions(check.error_of(function() return 2 % a end), "Value")
    if check.has_integers then -- `//` is Lua 5.3+ syntax: loaded from text where the language has it
      local idiv = assert(check.load("local a, b = ... return a // b", "=idiv"))
      check.assert_mentions(check.error_of(idiv, a, b), "Value")
      check.assert_mentions(check.error_of(idiv, 7, a), "Value")
    end
  end)
end)

describe("Value unary ops", function()
  local function tanh(x)
    local e = math.exp(2 * x)
    return (e - 1) / (e + 1)
  end
  local refs = {
    relu = function(x) return math.max(0, x) end,
    tanh = tanh,
    exp = math.exp,
    log = math.log,
    sigmoid = function(x) return 1 / (1 + math.exp(-x)) end,
    abs = math.abs,
    sqrt = math.sqrt,
    softplus = function(x) return math.log(1 + math.exp(x)) end,
  }

  for name, ref in pairs(refs) do
    it(name .. " computes its forward value and records its op", function()
      for _, x in ipairs({ 0.3, 1.7, 4.0, -0.6, -2.5 }) do
        if (name ~= "log" and name ~= "sqrt") or x > 0 then
          local v = Value(x)
          local y = v[name](v)
          check.assert_near(ref(x), y.data, 1e-12, name .. "(" .. x .. ")")
          assert.equal(name, y.op)
          assert.equal(1, #y:children())
          assert.is_true(rawequal(v, y:children()[1]))
        end
      end
    end)
  end
end)

describe("Value comparisons", function()
  it("compare data between Values", function()
    local one, two = Value(1), Value(2)
    assert.is_true(one < two)
    assert.is_false(two < one)
    assert.is_true(one <= two)
    assert.is_true(one <= Value(1))
    assert.is_true(two > one)
    assert.is_true(two >= Value(2))
    assert.is_false(one > Value(1))
  end)

  if not check.mixed_compare then
    it("cannot compare with a number on 5.1 and LuaJIT (no __lt across types): v.data can", function()
      local v = Value(2)
      check.assert_mentions(check.error_of(function() return v < 3 end), "attempt to compare")
      check.assert_mentions(check.error_of(function() return 1 <= v end), "attempt to compare")
      assert.is_true(v.data < 3)
    end)
  end

  if check.mixed_compare then it("compare with a number on either side", function()
    local v = Value(2)
    assert.is_true(v < 3)
    assert.is_false(v < 2)
    assert.is_true(1 < v)
    assert.is_true(v <= 2)
    assert.is_true(2 <= v)
    assert.is_false(3 <= v)
    assert.is_true(v > 1.5)
    assert.is_true(3 > v)
    assert.is_true(v >= 2)
    assert.is_true(2 >= v)
    assert.is_false(v >= 2.5)
  end) end

  it("== is identity", function()
    local v = Value(1)
    assert.is_true(v == v)
    assert.is_false(Value(1) == Value(1))
    assert.is_false(v == 1)
    assert.is_true(v ~= Value(1))
    local t = { [v] = "first" }
    t[Value(1)] = "second"
    assert.equal("first", t[v])
  end)
end)

describe("tostring", function()
  it("matches micrograd's repr with Lua number formatting", function()
    assert.equal("Value(data=2.0, grad=0.0)", tostring(Value(2)))
    assert.equal("Value(data=-0.5, grad=0.0)", tostring(Value(-0.5)))
    local v = Value(24.70408163265306)
    assert.equal("Value(data=24.704081632653, grad=0.0)", tostring(v))
    v.grad = 1
    assert.equal("Value(data=24.704081632653, grad=1.0)", tostring(v))
  end)

  it("writes data and grad as tostring does", function()
    for _, x in ipairs({ 0.1, 1e300, -1e-300, 1 / 3, math.huge, 0 / 0 }) do
      local v = Value(x)
      v.grad = x * 2
      assert.equal("Value(data=" .. tostring(v.data) .. ", grad="
        .. tostring(v.grad) .. ")", tostring(v))
    end
  end)
end)

describe("children", function()
  it("lists the operands in source order", function()
    local a, b = Value(1), Value(2)
    local kids = (a - b):children()
    assert.equal(2, #kids)
    assert.is_true(rawequal(a, kids[1]))
    assert.is_true(rawequal(b, kids[2]))
    kids = (b / a):children()
    assert.is_true(rawequal(b, kids[1]))
    assert.is_true(rawequal(a, kids[2]))
  end)

  it("shows number operands as fresh leaf Values", function()
    local v = Value(5)
    local kids = (2 * v):children()
    assert.equal(2, #kids)
    assert.is_true(mg.is_value(kids[1]))
    assert.equal(2.0, kids[1].data)
    assert.equal("", kids[1].op)
    assert.same({}, kids[1]:children())
    assert.is_true(rawequal(v, kids[2]))
    kids = (v ^ 3):children()
    assert.is_true(rawequal(v, kids[1]))
    assert.equal(3.0, kids[2].data)
  end)

  it("shares an operand used twice", function()
    local v = Value(3)
    local kids = (v * v):children()
    assert.is_true(rawequal(v, kids[1]))
    assert.is_true(rawequal(v, kids[2]))
  end)

  it("keeps the operands alive through garbage collection", function()
    local y = Value(2) * Value(3)
    local s = mg.sum({ Value(1), 2, Value(3) })
    collectgarbage()
    collectgarbage()
    y:backward()
    s:backward()
    local kids = y:children()
    assert.equal(3.0, kids[1].grad)
    assert.equal(2.0, kids[2].grad)
    kids = s:children()
    assert.equal(1.0, kids[1].grad)
    assert.equal(1.0, kids[3].grad)
  end)

  it("lists every operand of a node with many of them", function()
    -- counts of Value operands around 64, with and without number operands
    for _, n in ipairs({ 63, 64, 65, 200 }) do
      local vs, mixed, ws, xs = {}, {}, {}, {}
      for i = 1, n do
        vs[i], ws[i], xs[i] = Value(i), Value(-i), i
        mixed[i] = i % 7 == 0 and i or vs[i]
      end
      for _, array in ipairs({ vs, mixed }) do
        local kids = mg.sum(array):children()
        assert.equal(n, #kids)
        for i = 1, n do
          assert.is_true(mg.is_value(kids[i]))
          assert.equal(i + 0.0, kids[i].data)
          if mg.is_value(array[i]) then
            assert.is_true(rawequal(array[i], kids[i]), "sum child " .. i)
          end
        end
      end
      for _, inputs in ipairs({ xs, vs }) do
        local kids = mg.dot(ws, inputs):children()
        assert.equal(2 * n, #kids)
        for i = 1, n do
          assert.is_true(rawequal(ws[i], kids[2 * i - 1]), "dot weight " .. i)
          assert.equal(i + 0.0, kids[2 * i].data)
        end
      end
    end
  end)

  it("returns a new table each call", function()
    local v = Value(1) + Value(2)
    local first = v:children()
    first[1] = nil
    local second = v:children()
    assert.is_false(rawequal(first, second))
    assert.equal(2, #second)
    assert.is_true(mg.is_value(second[1]))
  end)
end)

describe("detach", function()
  it("gives a new leaf with the same data and a zero grad", function()
    local a = Value(2)
    local y = a * a
    y.grad = 7
    local d = y:detach()
    assert.is_true(mg.is_value(d))
    assert.is_false(rawequal(d, y))
    assert.equal(4.0, d.data)
    assert.equal(0.0, d.grad)
    assert.equal("", d.op)
    assert.same({}, d:children())
    assert.equal("*", y.op)
  end)

  it("cuts the graph", function()
    local a = Value(3)
    local y = a:detach() * 2
    y:backward()
    assert.equal(0.0, a.grad)
  end)
end)

describe("is_value", function()
  it("tells Values from everything else", function()
    assert.is_true(mg.is_value(Value(1)))
    assert.is_true(mg.is_value(Value(1) + 1))
    assert.is_false(mg.is_value(1))
    assert.is_false(mg.is_value("1"))
    assert.is_false(mg.is_value({}))
    assert.is_false(mg.is_value(nil))
    assert.is_false(mg.is_value(io.stdout))
    local mt = getmetatable(Value(1))
    if type(mt) == "table" then
      assert.is_false(mg.is_value(setmetatable({}, mt)))
    end
  end)
end)

describe("sum", function()
  it("adds Values and numbers into one node", function()
    local a, b = Value(2), Value(3)
    local s = mg.sum({ a, 1, b })
    assert.equal(6.0, s.data)
    assert.equal("sum", s.op)
    local kids = s:children()
    assert.equal(3, #kids)
    assert.is_true(rawequal(a, kids[1]))
    assert.equal(1.0, kids[2].data)
    assert.equal("", kids[2].op)
    assert.is_true(rawequal(b, kids[3]))
  end)

  it("adds left to right", function()
    local xs = { 1e16, 0.5, 0.5, -1e16 }
    local s = mg.sum({ Value(xs[1]), xs[2], Value(xs[3]), xs[4] })
    assert.equal(((xs[1] + xs[2]) + xs[3]) + xs[4], s.data)
    assert.equal(0.0, s.data)
  end)

  it("gives 0 for an empty array", function()
    local s = mg.sum({})
    assert.is_true(mg.is_value(s))
    assert.equal(0.0, s.data)
  end)
end)

describe("dot", function()
  it("computes bias + w1*x1 + w2*x2 in one node", function()
    local w1, w2, x1, b = Value(2), Value(-1), Value(3), Value(0.5)
    local d = mg.dot({ w1, w2 }, { x1, 4 }, b)
    assert.equal(0.5 + 6 - 4, d.data)
    assert.equal("dot", d.op)
  end)

  it("takes a number, a Value or no bias", function()
    assert.equal(11.0, mg.dot({ 1, 2 }, { 3, 4 }).data)
    assert.equal(12.0, mg.dot({ 1, 2 }, { 3, 4 }, 1).data)
    assert.equal(9.0, mg.dot({ 1, 2 }, { 3, 4 }, Value(-2)).data)
    assert.equal(0.0, mg.dot({}, {}).data)
    assert.equal(2.0, mg.dot({}, {}, 2).data)
  end)

  it("adds the bias first and the products left to right", function()
    local d = mg.dot({ 1, 0.5, -1 }, { 1e16, 1, 1e16 }, 0.5)
    assert.equal(((0.5 + 1e16) + 0.5) + -1e16, d.data)
    assert.equal(0.0, d.data)
  end)

  it("lists the bias first, then each weight and input", function()
    local w1, w2, x1, x2, b = Value(1), Value(2), Value(3), Value(4), Value(5)
    local kids = mg.dot({ w1, w2 }, { x1, x2 }, b):children()
    local want = { b, w1, x1, w2, x2 }
    assert.equal(#want, #kids)
    for i, v in ipairs(want) do
      assert.is_true(rawequal(v, kids[i]), "child " .. i)
    end
    kids = mg.dot({ w1, w2 }, { x1, x2 }):children()
    want = { w1, x1, w2, x2 }
    assert.equal(#want, #kids)
    for i, v in ipairs(want) do
      assert.is_true(rawequal(v, kids[i]), "child " .. i)
    end
  end)

  it("shows number operands as leaf Values", function()
    local w = Value(2)
    local kids = mg.dot({ w }, { 7 }, 1):children()
    assert.equal(3, #kids)
    assert.equal(1.0, kids[1].data)
    assert.is_true(rawequal(w, kids[2]))
    assert.equal(7.0, kids[3].data)
    assert.equal("", kids[3].op)
  end)

  it("says which operands are number constants (a second array)", function()
    local w = Value(2)
    local kids, constants = mg.dot({ w, 3 }, { 4, w }, 7):children()
    assert.equal(#kids, #constants)
    for k = 1, #kids do
      assert.equal(not rawequal(kids[k], w), constants[k])
    end
    local _, none = Value(1):children()
    assert.same({}, none)
  end)
end)
