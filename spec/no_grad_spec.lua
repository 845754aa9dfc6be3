local mg = require("micrograd")

local Value = mg.Value

-- Asserts that v is a leaf: op "" and no children.
local function assert_leaf(v, what)
  assert.is_true(mg.is_value(v), what)
  assert.equal("", v.op, what)
  assert.same({}, v:children(), what)
end

describe("grad_enabled", function()
  it("is a boolean, true by default", function()
    assert.is_true(mg.grad_enabled())
  end)
end)

describe("no_grad(fn, ...)", function()
  it("calls fn with the arguments and returns all its results", function()
    local n, a, b, c = (function(...)
      return select("#", ...), ...
    end)(mg.no_grad(function(x, y) return x + y, nil, y end, 1, 2))
    assert.equal(3, n)
    assert.equal(3, a)
    assert.is_nil(b)
    assert.equal(2, c)
    assert.equal(0, select("#", mg.no_grad(function() end)))
  end)

  it("turns grad mode off inside and back on after", function()
    local inside = mg.no_grad(mg.grad_enabled)
    assert.is_false(inside)
    assert.is_true(mg.grad_enabled())
  end)

  it("makes every op return a leaf with the right data", function()
    local a, b = Value(2), Value(-3)
    local r = mg.no_grad(function()
      return {
        add = a + b, sub = 1 - a, mul = a * b, div = a / 4, pow = a ^ b,
        neg = -a, relu = a:relu(), tanh = a:tanh(), exp = a:exp(),
        log = a:log(), sigmoid = b:sigmoid(), abs = b:abs(),
        sqrt = a:sqrt(), softplus = b:softplus(),
        sum = mg.sum({ a, b, 1 }), dot = mg.dot({ a }, { b }, 1),
      }
    end)
    for name, v in pairs(r) do
      assert_leaf(v, name)
    end
    assert.equal(-1.0, r.add.data)
    assert.equal(-6.0, r.mul.data)
    assert.equal(0.125, r.pow.data)
    assert.equal(0.0, r.sum.data)
    assert.equal(-5.0, r.dot.data)
    assert.equal(3.0, r.abs.data)
  end)

  it("keeps backward from reaching the operands", function()
    local a, b = Value(2), Value(3)
    local y = mg.no_grad(function() return a * b end)
    y:backward()
    assert.equal(1.0, y.grad)
    assert.equal(0.0, a.grad)
    assert.equal(0.0, b.grad)
  end)

  it("records again afterwards, with no_grad results as leaves", function()
    local a = Value(2)
    local c = mg.no_grad(function() return a * 5 end)
    local y = c * a
    assert.equal("*", y.op)
    y:backward()
    assert.equal(10.0, a.grad)
    assert.equal(2.0, c.grad)
  end)

  it("nests", function()
    local states = {}
    mg.no_grad(function()
      mg.no_grad(function()
        states[1] = mg.grad_enabled()
      end)
      states[2] = mg.grad_enabled()
      states[3] = (Value(1) + 1).op
    end)
    assert.same({ false, false, "" }, states)
    assert.is_true(mg.grad_enabled())
  end)

  it("propagates an error from fn and restores grad mode", function()
    local ok, err = pcall(mg.no_grad, function() error("boom", 0) end)
    assert.is_false(ok)
    assert.equal("boom", err)
    assert.is_true(mg.grad_enabled())
    assert.equal("+", (Value(1) + 1).op)

    local object = {}
    ok, err = pcall(mg.no_grad, function() error(object) end)
    assert.is_false(ok)
    assert.is_true(rawequal(object, err))
    assert.is_true(mg.grad_enabled())
  end)

  it("restores grad mode after an error in a nested call", function()
    local ok = pcall(mg.no_grad, function()
      mg.no_grad(function()
        return Value(1) + {}
      end)
    end)
    assert.is_false(ok)
    assert.is_true(mg.grad_enabled())
  end)
end)

describe("local g <close> = no_grad()", function()
  it("turns grad mode off for the block", function()
    local a = Value(2)
    local y
    do
      local g <close> = mg.no_grad() -- luacheck: ignore 211
      assert.is_false(mg.grad_enabled())
      y = a * a
    end
    assert.is_true(mg.grad_enabled())
    assert.equal(4.0, y.data)
    assert.equal("", y.op)
    y:backward()
    assert.equal(0.0, a.grad)
    assert.equal("*", (a * a).op)
  end)

  it("nests, alone and with no_grad(fn)", function()
    local states = {}
    do
      local outer <close> = mg.no_grad() -- luacheck: ignore 211
      do
        local inner <close> = mg.no_grad() -- luacheck: ignore 211
        states[1] = mg.grad_enabled()
      end
      states[2] = mg.grad_enabled()
      mg.no_grad(function() states[3] = mg.grad_enabled() end)
      states[4] = mg.grad_enabled()
    end
    states[5] = mg.grad_enabled()
    mg.no_grad(function()
      do
        local g <close> = mg.no_grad() -- luacheck: ignore 211
        states[6] = mg.grad_enabled()
      end
      states[7] = mg.grad_enabled()
    end)
    assert.same({ false, false, false, false, true, false, false }, states)
    assert.is_true(mg.grad_enabled())
  end)

  it("restores grad mode when the block raises an error", function()
    local ok, err = pcall(function()
      local g <close> = mg.no_grad() -- luacheck: ignore 211
      error("inside", 0)
    end)
    assert.is_false(ok)
    assert.equal("inside", err)
    assert.is_true(mg.grad_enabled())
  end)

  it("restores grad mode when the function returns early", function()
    local function early()
      local g <close> = mg.no_grad() -- luacheck: ignore 211
      if mg.grad_enabled() == false then
        return "off"
      end
      return "on"
    end
    assert.equal("off", early())
    assert.is_true(mg.grad_enabled())
  end)
end)
