-- mg.logsumexp (one engine node) and mg.softmax (made of engine ops): values,
-- extreme inputs, gradients (exact and against finite differences), numbers
-- mixed in, errors, detect_anomaly and compiled replays.
local mg = require("micrograd")
local check = require("spec.helpers.check")

local Value = mg.Value
local assert_near, error_of, mentions = check.assert_near, check.error_of, check.assert_mentions

-- fn run with detect_anomaly on, switched off however it ends.
local function detecting(fn)
  return function() check.with_anomaly(true, fn) end
end

local function bits(x) return check.bits(x) end

local function values(xs)
  local out = {}
  for i, x in ipairs(xs) do out[i] = Value(x) end
  return out
end

-- ln(sum e^x) in plain Lua, shifted by the largest x.
local function reference(xs)
  local m = -math.huge
  for _, x in ipairs(xs) do m = math.max(m, x) end
  local s = 0
  for _, x in ipairs(xs) do s = s + math.exp(x - m) end
  return m + math.log(s)
end

describe("mg.logsumexp", function()
  it("is one node with op 'logsumexp' over its operands in order", function()
    local a, b = Value(0.5), Value(-1)
    local l = mg.logsumexp({ a, 2, b })
    assert.equal("logsumexp", l.op)
    local kids = l:children()
    assert.equal(3, #kids)
    assert.is_true(rawequal(a, kids[1]))
    assert.equal(2.0, kids[2].data)
    assert.is_true(rawequal(b, kids[3]))
    assert_near(math.log(math.exp(0.5) + math.exp(2) + math.exp(-1)), l.data, 1e-15)
  end)

  it("gives the shifted value: m + ln(sum e^(x - m)), bit for bit", function()
    local cases = { { 1 }, { 0, 0 }, { 1, 2, 3 }, { -0.3, 7.25, 7.25, -12 }, { 1e-300, -1e-300 } }
    for _, xs in ipairs(cases) do
      assert.equal(bits(reference(xs)), bits(mg.logsumexp(values(xs)).data))
      assert.equal(bits(reference(xs)), bits(mg.logsumexp(xs).data)) -- numbers only
    end
    assert.equal(3.5, mg.logsumexp({ Value(3.5) }).data)
  end)

  it("stays finite and exact for inputs like 1000 and -1000", function()
    assert.equal(1000 + math.log(2), mg.logsumexp({ 1000, 1000 }).data)
    assert.equal(-1000 + math.log(2), mg.logsumexp({ -1000, -1000 }).data)
    assert.equal(1000.0, mg.logsumexp({ 1000, -1000 }).data)
    assert.equal(1000.0, mg.logsumexp({ -1000, 1000, 0 }).data)
    assert.equal(1e308, mg.logsumexp({ 1e308, 0 }).data)
    local x = values({ 1000, 1000, -1000 })
    mg.logsumexp(x):backward()
    assert.equal(0.5, x[1].grad) -- e^(x - m) / s, not e^(x - out): no digits lost to m's size
    assert.equal(0.5, x[2].grad)
    assert.equal(0.0, x[3].grad)
  end)

  it("gives IEEE results for infinities and NaN", function()
    assert.equal(math.huge, mg.logsumexp({ math.huge, 1 }).data)
    assert.equal(-math.huge, mg.logsumexp({ -math.huge, -math.huge }).data)
    assert.equal(2.0, mg.logsumexp({ -math.huge, 2 }).data)
    assert.is_true(check.is_nan(mg.logsumexp({ 0 / 0, 1 }).data))
    assert.is_true(check.is_nan(mg.logsumexp({ 1, 0 / 0, math.huge }).data))
  end)

  it("has the softmax as its gradient, exactly and by finite differences", function()
    local xs = { 0.3, -1.2, 2.5, 0.3 }
    local x = values(xs)
    local l = mg.logsumexp(x)
    l:backward()
    local s = 0
    for _, v in ipairs(xs) do s = s + math.exp(v - 2.5) end
    for i, v in ipairs(xs) do
      assert.equal(bits(math.exp(v - 2.5) / s), bits(x[i].grad), "softmax " .. i)
      local fd = check.diff(function(t)
        local ys = { check.unpack(xs) }
        ys[i] = t
        return reference(ys)
      end, v)
      assert_near(fd, x[i].grad, 1e-8, "finite difference " .. i)
    end
    local lse = function(a, b, c) return mg.logsumexp({ a, 2, b * c, a }) end
    assert.is_true(mg.gradcheck(lse, { 0.1, -0.7, 1.9 }))
  end)

  it("takes a Value used twice, and scales its gradient by the incoming one", function()
    local a = Value(1)
    local l = mg.logsumexp({ a, a })
    assert.equal(1 + math.log(2), l.data)
    local tripled = 3 * l
    tripled:backward()
    assert.equal(3.0, a.grad)
  end)

  it("refuses an empty array and anything but numbers and Values", function()
    mentions(error_of(mg.logsumexp, {}),
      "bad argument #1 to 'logsumexp' (non-empty array expected, got an empty one)")
    mentions(error_of(mg.logsumexp, 5), "bad argument #1 to 'logsumexp' (table expected, got number)")
    mentions(error_of(mg.logsumexp, { 1, {} }),
      "bad argument #1 to 'logsumexp' (number or Value expected at index 2, got table)")
  end)

  it("makes a leaf under no_grad", function()
    local l = mg.no_grad(mg.logsumexp, { Value(1), 1 })
    assert.equal("", l.op)
    assert.equal(1 + math.log(2), l.data)
  end)

  it("is checked by detect_anomaly, forward and backward", detecting(function()
    local ok = pcall(mg.logsumexp, { math.huge, 1 }) -- an infinite operand: not this op's fault
    assert.is_true(ok)
    local x = Value(1)
    local l = mg.logsumexp({ x, 2 })
    mentions(error_of(function() (l * 1e308 * 1e308):backward() end), "anomaly")
    mentions(error_of(function() mg.logsumexp({ x * 1e308 * 10, 2 }) end), "anomaly: '*' produced inf")
  end))

  it("compiles: the shift is found again at every replay, the same bits as the dynamic engine", function()
    local p = Value(0.25)
    local g = mg.compile(function(a, b) return mg.logsumexp({ a, p * b, -3, b }) end, 2)
    assert.equal(1, g.nodes - 1) -- the logsumexp and the product
    for _, xs in ipairs({ { 0, 0 }, { 1000, -1000 }, { -800, 900 }, { 3.5, 3.5 } }) do
      local a, b = Value(xs[1]), Value(xs[2])
      p.grad = 0
      local l = mg.logsumexp({ a, p * b, -3, b })
      l:backward()
      local want = p.grad
      p.grad = 0
      assert.equal(bits(l.data), bits(g(xs[1], xs[2])))
      assert.is_true(l.data < math.huge)
      g:backward()
      assert.equal(bits(want), bits(p.grad))
      local ig = g:input_grads()
      assert.equal(bits(a.grad), bits(ig[1]))
      assert.equal(bits(b.grad), bits(ig[2]))
    end
  end)

  it("reports anomalies in a compiled replay as the dynamic engine does", function()
    -- a's gradient: 1.5e308 from the product, then 0.5 * 1.5e308 from logsumexp: inf
    local function f(a) return mg.logsumexp({ a, 0 }) * 1.5e308 + a * 1.5e308 end
    check.with_anomaly(true, function()
      local dynamic = error_of(function() f(Value(1e-300)):backward() end)
      mentions(dynamic, "anomaly: backward of 'logsumexp' sent gradient 7.5e+307 to operand #1, whose " ..
        "gradient overflowed to inf (operands 1e-300, 0.0; created at ")
      local g = mg.compile(f, 1)
      g(1e-300)
      local replayed = error_of(g.backward, g)
      assert.equal(dynamic:gsub("%)$", "; replayed by a compiled graph)"), replayed)
    end)
  end)
end)

describe("mg.softmax", function()
  it("returns exp(x_i - logsumexp(x)) as Values that sum to 1", function()
    local x = values({ 1, 2, 3 })
    local p = mg.softmax(x)
    assert.equal(3, #p)
    local lse = mg.logsumexp(x).data
    local total = 0
    for i = 1, 3 do
      assert.is_true(mg.is_value(p[i]))
      assert.equal(bits(math.exp(x[i].data - lse)), bits(p[i].data))
      total = total + p[i].data
    end
    assert_near(1, total, 1e-15)
    assert.equal("exp", p[1].op)
  end)

  it("is stable for large inputs and takes numbers", function()
    local p = mg.softmax({ 1000, Value(1000), -1000 })
    assert_near(0.5, p[1].data, 1e-12)
    assert_near(0.5, p[2].data, 1e-12)
    assert.equal(0.0, p[3].data)
  end)

  it("has the softmax Jacobian as its gradient", function()
    local xs = { 0.2, -0.4, 1.1 }
    for j = 1, 3 do
      local x = values(xs)
      local p = mg.softmax(x)
      p[j]:backward()
      for i = 1, 3 do
        local want = p[j].data * ((i == j and 1 or 0) - p[i].data)
        assert_near(want, x[i].grad, 1e-14, string.format("d p%d / d x%d", j, i))
      end
    end
    assert.is_true(mg.gradcheck(function(a, b) return mg.softmax({ a, b, 0.5 })[2] end, { 0.3, -1 }))
  end)

  it("checks its argument", function()
    mentions(error_of(mg.softmax, {}), "bad argument #1 to 'softmax' (non-empty array expected")
    mentions(error_of(mg.softmax, Value(1)), "bad argument #1 to 'softmax' (table expected, got Value)")
    mentions(error_of(mg.softmax, { 1, "x" }),
      "bad argument #1 to 'softmax' (number or Value expected at index 2, got string)")
  end)
end)
