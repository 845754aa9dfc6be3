local mg = require("micrograd")
local check = require("spec.helpers.check")

local Value = mg.Value

-- micrograd's README example (also its test_more_ops).
local function readme_example()
  local a = Value(-4.0)
  local b = Value(2.0)
  local c = a + b
  local d = a * b + b ^ 3
  c = c + (c + 1)
  c = c + (1 + c + (-a))
  d = d + (d * 2 + (b + a):relu())
  d = d + (3 * d + (b - a):relu())
  local e = c - d
  local f = e ^ 2
  local g = f / 2.0
  g = g + 10.0 / f
  return { a = a, b = b, c = c, d = d, e = e, f = f, g = g }
end

describe("micrograd's own examples", function()
  it("README example gives micrograd's printed numbers", function()
    local n = readme_example()
    assert.equal("24.7041", string.format("%.4f", n.g.data))
    n.g:backward()
    assert.equal("138.8338", string.format("%.4f", n.a.grad))
    assert.equal("645.5773", string.format("%.4f", n.b.grad))
  end)

  it("README example matches the exact rational results", function()
    -- g = 2421/98, dg/da = 47620/343, dg/db = 221433/343 (exact arithmetic)
    local n = readme_example()
    n.g:backward()
    check.assert_near(2421 / 98, n.g.data, 1e-12, "g")
    check.assert_near(47620 / 343, n.a.grad, 1e-12, "a.grad")
    check.assert_near(221433 / 343, n.b.grad, 1e-12, "b.grad")
    assert.equal("Value(data=24.704081632653, grad=1.0)", tostring(n.g))
  end)

  it("test_sanity_check", function()
    local x = Value(-4.0)
    local z = 2 * x + 2 + x
    local q = z:relu() + z * x
    local h = (z * z):relu()
    local y = h + q + q * x
    y:backward()
    assert.equal(-20.0, y.data)
    assert.equal(46.0, x.grad)
  end)
end)

describe("gradients against finite differences", function()
  before_each(function()
    math.randomseed(20240611)
  end)

  local between = check.between
  local function away_from_zero()
    local x = between(0.1, 3)
    return math.random(2) == 1 and x or -x
  end
  local domains = {
    relu = away_from_zero, abs = away_from_zero,
    tanh = function() return between(-3, 3) end,
    exp = function() return between(-3, 3) end,
    sigmoid = function() return between(-5, 5) end,
    softplus = function() return between(-5, 5) end,
    log = function() return between(0.1, 5) end,
    sqrt = function() return between(0.1, 5) end,
  }

  for name, draw in pairs(domains) do
    it(name, function()
      local function f(t)
        local v = Value(t)
        return v[name](v).data
      end
      for _ = 1, 50 do
        local x = draw()
        local v = Value(x)
        local y = v[name](v)
        y:backward()
        assert.equal(1.0, y.grad)
        check.assert_near(check.diff(f, x), v.grad, 1e-6, name .. " at " .. x)
      end
    end)
  end

  local binary = {
    ["+"] = function(p, q) return p + q end,
    ["-"] = function(p, q) return p - q end,
    ["*"] = function(p, q) return p * q end,
    ["/"] = function(p, q) return p / q end,
  }

  -- Checks d op(x, y) / dx and / dy for Value/Value, Value/number and
  -- number/Value operands.
  local function check_binary(name, op, x, y)
    local where = string.format("%s at (%.17g, %.17g)", name, x, y)
    local dx = check.diff(function(t) return op(Value(t), y).data end, x)
    local dy = check.diff(function(t) return op(x, Value(t)).data end, y)
    local a, b = Value(x), Value(y)
    local z = op(a, b)
    assert.equal(name, z.op)
    z:backward()
    check.assert_near(dx, a.grad, 1e-6, "d/da " .. where)
    check.assert_near(dy, b.grad, 1e-6, "d/db " .. where)
    a = Value(x)
    op(a, y):backward()
    check.assert_near(dx, a.grad, 1e-6, "d/da (number b) " .. where)
    b = Value(y)
    op(x, b):backward()
    check.assert_near(dy, b.grad, 1e-6, "d/db (number a) " .. where)
  end

  for name, op in pairs(binary) do
    it(name .. " with Values and numbers on either side", function()
      for _ = 1, 50 do
        check_binary(name, op, between(-3, 3), away_from_zero())
      end
    end)
  end

  local pow = function(p, q) return p ^ q end

  it("^ with a positive base and any exponent", function()
    for _ = 1, 50 do
      check_binary("^", pow, between(0.5, 3), between(-3, 3))
    end
  end)

  it("^ with a negative base and a number exponent", function()
    for _, n in ipairs({ 2, 3, -1, -2, 0.0 + 3 }) do
      for _ = 1, 10 do
        local x = -between(0.5, 3)
        local v = Value(x)
        local y = v ^ n
        y:backward()
        check.assert_near(n * x ^ (n - 1), v.grad, 1e-12, "x^" .. n)
      end
    end
  end)

  it("^ with a Value exponent: d/db a^b = a^b ln a", function()
    local a, b = Value(2.5), Value(1.5)
    local y = a ^ b
    y:backward()
    check.assert_near(1.5 * 2.5 ^ 0.5, a.grad, 1e-12, "d/da")
    check.assert_near(2.5 ^ 1.5 * math.log(2.5), b.grad, 1e-12, "d/db")
    b = Value(-0.75)
    y = 3 ^ b
    y:backward()
    check.assert_near(3 ^ -0.75 * math.log(3), b.grad, 1e-12, "d/db 3^b")
  end)

  it("sum", function()
    for _ = 1, 20 do
      local xs, vs = {}, {}
      for i = 1, 6 do
        xs[i] = between(-3, 3)
        vs[i] = i % 3 == 0 and xs[i] or Value(xs[i])
      end
      local s = mg.sum(vs)
      s:backward()
      for i = 1, 6 do
        if mg.is_value(vs[i]) then
          local f = function(t)
            local copy = { check.unpack(vs) }
            copy[i] = t
            return mg.sum(copy).data
          end
          check.assert_near(check.diff(f, xs[i]), vs[i].grad, 1e-6, "sum")
          assert.equal(1.0, vs[i].grad)
        end
      end
    end
  end)

  it("sum of a repeated Value counts it each time", function()
    local a, b = Value(1), Value(2)
    mg.sum({ a, b, a, 3, a }):backward()
    assert.equal(3.0, a.grad)
    assert.equal(1.0, b.grad)
  end)

  it("dot with and without a bias", function()
    for round = 1, 20 do
      local ws, xs = {}, {}
      for i = 1, 4 do
        ws[i] = Value(between(-3, 3))
        xs[i] = i == 2 and between(-3, 3) or Value(between(-3, 3))
      end
      local bias = ({ Value(between(-1, 1)), 0.25, nil })[round % 3 + 1]
      local y = mg.dot(ws, xs, bias)
      y:backward()
      local function data(x) return mg.is_value(x) and x.data or x end
      local want = data(bias) or 0
      for i = 1, 4 do
        want = want + ws[i].data * data(xs[i])
        assert.equal(data(xs[i]), ws[i].grad)
        if mg.is_value(xs[i]) then
          assert.equal(ws[i].data, xs[i].grad)
        end
      end
      check.assert_near(want, y.data, 1e-12, "dot data")
      if mg.is_value(bias) then
        assert.equal(1.0, bias.grad)
      end
      local f = function(t)
        local copy = { check.unpack(ws) }
        copy[3] = t
        return mg.dot(copy, xs, bias).data
      end
      check.assert_near(check.diff(f, ws[3].data), ws[3].grad, 1e-6, "dot")
    end
  end)
end)

describe("every op of mg.ops", function()
  local ops = require("spec.helpers.ops")
  before_each(function()
    math.randomseed(20261207)
  end)

  it("lists every op once, with its kind and how a script makes it", function()
    local seen = {}
    for _, op in ipairs(mg.ops) do
      assert.is_nil(seen[op.name], op.name)
      seen[op.name] = true
      assert.is_truthy(type(op.lua) == "string" or ops.elsewhere[op.name], op.name)
      assert.is_truthy(({ unary = 1, binary = 2 })[op.kind] == op.arity or op.arity == "n")
    end
    for _, name in ipairs({ "+", "neg", "tanh", "sum", "dot", "logsumexp" }) do
      assert.is_true(seen[name], name)
    end
  end)

  for _, op in ipairs(mg.ops) do
    local case = ops.case(op) -- nil: tested elsewhere (ops.elsewhere); an error: no test case
    if case then
      it(op.name .. ": backward against finite differences, compiled = dynamic to the bit", function()
        for _ = 1, 30 do
          local xs = ops.operands(op, case.n, check.between)
          local vs = {}
          for i, x in ipairs(xs) do vs[i] = Value(x) end
          local y = case.apply(vs)
          assert.equal(op.name, y.op)
          y:backward()
          for i = 1, case.n do
            local function f(t)
              local ts = {}
              for k, x in ipairs(xs) do ts[k] = Value(k == i and t or x) end
              return case.apply(ts).data
            end
            check.assert_near(check.diff(f, xs[i]), vs[i].grad, 1e-6,
              string.format("%s: d/d operand %d at %s", op.name, i, table.concat(xs, ", ")))
          end
          local g = mg.compile(function(...) return case.apply({ ... }) end, case.n)
          assert.equal(y.data, g(check.unpack(xs)))
          g:backward()
          local grads = g:input_grads()
          for i = 1, case.n do assert.equal(vs[i].grad, grads[i]) end
        end
      end)
    end
  end
end)

describe("backward accumulates with PyTorch semantics", function()
  it("a second backward doubles every grad, leaves and interior nodes", function()
    local n = readme_example()
    n.g:backward()
    local first = {}
    for k, v in pairs(n) do
      first[k] = v.grad
    end
    assert.equal(1.0, first.g)
    n.g:backward()
    for k, v in pairs(n) do
      assert.equal(2 * first[k], v.grad, "node " .. k)
    end
  end)

  it("doubles through unary ops, sum and dot too", function()
    local x, w = Value(0.7), Value(-1.3)
    local h = (x * w):tanh()
    local s = mg.sum({ h:exp(), h:sigmoid(), x:softplus() })
    local y = mg.dot({ s, w }, { h, x }, 3):sqrt()
    local nodes = { x = x, w = w, h = h, s = s, y = y }
    y:backward()
    local first = {}
    for k, v in pairs(nodes) do
      first[k] = v.grad
    end
    y:backward()
    for k, v in pairs(nodes) do
      assert.equal(2 * first[k], v.grad, "node " .. k)
    end
  end)

  it("adds into grads that are already set", function()
    local a = Value(3)
    a.grad = 10
    local y = a * 2
    y:backward()
    assert.equal(12.0, a.grad)
    assert.equal(1.0, y.grad)
  end)

  it("sums the gradient of a shared operand: a*a gives 2a", function()
    local a = Value(3)
    local y = a * a
    y:backward()
    assert.equal(6.0, a.grad)
  end)

  it("sums over 100 parents", function()
    local x = Value(1.5)
    local terms = {}
    for i = 1, 100 do
      terms[i] = x * i
    end
    mg.sum(terms):backward()
    assert.equal(5050.0, x.grad)

    x = Value(1.5)
    local t = x * x
    local acc = t
    for _ = 2, 100 do
      acc = acc + t
    end
    acc:backward()
    assert.equal(100.0, t.grad)
    assert.equal(300.0, x.grad)
  end)
end)

describe("deep graphs", function()
  local N = 100000

  it("backward through 10^5 steps of x = x * a + b", function()
    local x0, a, b = Value(0), Value(1), Value(0.5)
    local x = x0
    for _ = 1, N do
      x = x * a + b
    end
    assert.equal(N * 0.5, x.data)
    x:backward()
    assert.equal(1.0, x0.grad)
    assert.equal(N + 0.0, b.grad)
    -- dx/da = sum of x_k for k = 0 .. N-1, x_k = k / 2
    assert.equal(0.25 * N * (N - 1), a.grad)
  end)

  it("backward through 10^5 unary ops", function()
    local x0 = Value(0.5)
    local x = x0
    for _ = 1, N do
      x = x:relu()
    end
    x:backward()
    assert.equal(1.0, x0.grad)
  end)

  it("collects a deep graph without crashing", function()
    local x = Value(1)
    for _ = 1, N do
      x = x + 1
    end
    assert.equal(N + 1.0, x.data)
    x = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    assert.equal(2.0, (Value(1) + 1).data)
  end)
end)

describe("IEEE results", function()
  it("log and sqrt outside their domain", function()
    assert.is_true(check.is_nan(Value(-1):log().data))
    assert.equal(-math.huge, Value(0):log().data)
    assert.is_true(check.is_nan(Value(-1):sqrt().data))
    assert.equal(math.huge, Value(1000):exp().data)
  end)

  it("relu of a negative gives 0 and a zero gradient", function()
    local v = Value(-2)
    local y = v:relu()
    assert.equal(0.0, y.data)
    y:backward()
    assert.equal(0.0, v.grad)
  end)

  it("saturating ops stay finite at large inputs", function()
    local function at(name, x)
      local v = Value(x)
      local y = v[name](v)
      y:backward()
      return y.data, v.grad
    end
    local y, g = at("tanh", 1000)
    assert.equal(1.0, y)
    assert.equal(0.0, g)
    y, g = at("tanh", -1000)
    assert.equal(-1.0, y)
    assert.equal(0.0, g)
    y, g = at("sigmoid", 1000)
    assert.equal(1.0, y)
    assert.equal(0.0, g)
    y, g = at("sigmoid", -1000)
    assert.is_true(y >= 0 and y < 1e-300)
    assert.is_true(g >= 0 and g < 1e-300)
    y, g = at("softplus", 1000)
    assert.equal(1000.0, y)
    assert.equal(1.0, g)
    y, g = at("softplus", -1000)
    assert.is_true(y >= 0 and y < 1e-300)
    assert.is_true(g >= 0 and g < 1e-300)
  end)
end)

-- Backward rules never overflow or underflow needlessly: a gradient is inf or
-- 0 only where the true one is out of range (issue 11, item 6). Each case is
-- f, the point, and the exact gradients (written so that no step of their own
-- leaves the range), checked in the dynamic engine and in a compiled graph.
describe("gradients at extreme magnitudes", function()
  local exp, log = math.exp, math.log
  local e700 = exp(700)
  local cases = {
    { "a / b at a = b = 1e-200", function(a, b) return a / b end, { 1e-200, 1e-200 }, { 1e200, -1e200 } },
    { "a / b at a = b = 1e200", function(a, b) return a / b end, { 1e200, 1e200 }, { 1e-200, -1e-200 } },
    { "a / b whose value overflows, times 1e-100", function(a, b) return (a / b) * 1e-100 end,
      { 1e300, 1e-10 }, { 1e-90, -1e220 } },
    { "a / b times 1e-300 (g a underflows)", function(a, b) return (a / b) * 1e-300 end,
      { 1e-200, 1e-200 }, { 1e-100, -1e-100 } },
    { "a ^ 0.001 at a = 1e-310", function(a) return a ^ 0.001 end, { 1e-310 }, { 10 ^ (0.999 * 310 - 3) } },
    { "a ^ -2 times 1e-300 at a = 1e-200", function(a) return a ^ -2 * 1e-300 end, { 1e-200 }, { -2e300 } },
    { "a ^ b whose value overflows, times 1e-20", function(a, b) return a ^ b * 1e-20 end, { e700, 1.02 },
      { 1.02 * e700 ^ 0.02 * 1e-20, (e700 ^ 0.51 * 1e-10) * (e700 ^ 0.51 * log(e700) * 1e-10) } },
    { "tanh at 20", function(a) return a:tanh() end, { 20 }, { (2 / (exp(20) + exp(-20))) ^ 2 } },
    { "tanh at -100", function(a) return a:tanh() end, { -100 }, { (2 / (exp(100) + exp(-100))) ^ 2 } },
    { "sigmoid at 40", function(a) return a:sigmoid() end, { 40 }, { 1 / (exp(40) + 2 + exp(-40)) } },
    { "softplus at -700", function(a) return a:softplus() end, { -700 }, { 1 / (1 + exp(700)) } },
    { "exp at 710 times 1e-10", function(a) return a:exp() * 1e-10 end, { 710 },
      { (exp(355) * 1e-5) * (exp(355) * 1e-5) } },
    { "exp at -750 times 1e300", function(a) return a:exp() * 1e300 end, { -750 },
      { (exp(-375) * 1e150) * (exp(-375) * 1e150) } },
    { "sqrt at 1e-320", function(a) return a:sqrt() end, { 1e-320 }, { 0.5 / math.sqrt(1e-320) } },
    { "log at 1e-300", function(a) return a:log() end, { 1e-300 }, { 1e300 } },
  }

  -- got within rel of want, relative to want (zero or not).
  local function assert_relative(want, got, what)
    assert(want == want and math.abs(want) < math.huge, what .. ": the expected value must be finite")
    assert(math.abs(got - want) <= 1e-9 * math.abs(want),
      string.format("%s: expected %.17g, got %.17g", what, want, got))
  end

  it("keeps the plain formulas' bits in the normal range (parity)", function()
    math.randomseed(11)
    for _ = 1, 200 do
      local x, y = check.between(-5, 5), check.between(0.1, 5)
      local a, b = Value(x), Value(y)
      local q = a / b
      q:backward()
      assert.equal(-1 * x / (y * y), b.grad)
      local c = Value(y)
      local p = c ^ x
      p:backward()
      assert.equal(x * y ^ (x - 1), c.grad)
      local t, s = Value(x), Value(x)
      local tv, sv = t:tanh(), s:sigmoid()
      tv:backward()
      sv:backward()
      assert.equal(1 - tv.data * tv.data, t.grad)
      assert.equal(sv.data * (1 - sv.data), s.grad)
    end
  end)

  for _, case in ipairs(cases) do
    local name, f, at, want = case[1], case[2], case[3], case[4]
    it(name, function()
      local xs = {}
      for i, x in ipairs(at) do xs[i] = Value(x) end
      f(check.unpack(xs)):backward()
      local g = mg.compile(f, at)
      g(at)
      g:backward()
      local compiled = g:input_grads()
      for i = 1, #at do
        assert_relative(want[i], xs[i].grad, name .. ", dynamic, input " .. i)
        assert_relative(want[i], compiled[i], name .. ", compiled, input " .. i)
      end
    end)
  end
end)
