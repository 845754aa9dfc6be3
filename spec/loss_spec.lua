local mg = require("micrograd")
local loss = require("micrograd.loss")
local check = require("spec.helpers.check")

local Value = mg.Value
local error_of, assert_mentions, assert_near = check.error_of, check.assert_mentions, check.assert_near

--- The 8 bytes of a double: equal bits, -0.0 included.
local function bits(x)
  return check.bits(x)
end

local function assert_same_bits(expected, actual, what)
  assert(bits(expected) == bits(actual), string.format("%s: expected %.17g, got %.17g",
    what or "value", expected, actual))
end

local function values(xs)
  local out = {}
  for i, x in ipairs(xs) do out[i] = Value(x) end
  return out
end

--- Checks the gradient of f(vs) (a Value) with respect to each of vs against
-- central finite differences.
local function check_gradients(f, vs, rel, what)
  for _, v in ipairs(vs) do v.grad = 0 end
  f(vs):backward()
  for i, v in ipairs(vs) do
    local saved = v.data
    local numeric = check.diff(function(x)
      v.data = x
      return f(vs).data
    end, saved)
    v.data = saved
    assert_near(numeric, v.grad, rel or 1e-7, (what or "d/dx") .. i)
  end
end

--- log(1 + exp(z)) for moderate z, in plain Lua.
local function sigmoid(z)
  return 1 / (1 + math.exp(-z))
end

-- ---- svm -----------------------------------------------------------------------

describe("loss.svm", function()
  local raw = { 0.3, -1.7, 2.5, -0.2, 0.9, 1.0 }
  local ys = { 1, -1, -1, 1, -1, 1 }

  it("is micrograd's sum(relu(1 + -y * score)) * (1.0 / n), bit for bit", function()
    local scores = values(raw)
    local got = loss.svm(scores, ys)
    assert.is_true(mg.is_value(got))
    -- the same expression, written with Value ops as micrograd's demo does
    local total = Value(0)
    for i, s in ipairs(scores) do total = total + (1 + -ys[i] * s):relu() end
    local expected = total * (1.0 / #scores)
    assert_same_bits(expected.data, got.data)
    -- and with plain numbers
    local plain = 0
    for i, s in ipairs(raw) do plain = plain + math.max(0, 1 + -ys[i] * s) end
    assert_same_bits(plain * (1.0 / #raw), got.data)
  end)

  it("takes the mean as sum * (1.0 / n), not sum / n (micrograd's bits)", function()
    -- for these three samples the two roundings differ
    local scores3, ys3 = values({ 0.35, -1.7, 0.1 }), { 1, -1, 1 }
    local sum = 0
    for i, s in ipairs(scores3) do sum = sum + math.max(0, 1 + -ys3[i] * s.data) end
    assert.are_not.equal(sum / 3, sum * (1.0 / 3))
    assert_same_bits(sum * (1.0 / 3), loss.svm(scores3, ys3).data)
  end)

  it("has gradient -y / n where the margin is violated, 0 elsewhere", function()
    local scores = values(raw)
    loss.svm(scores, ys):backward()
    local n = #raw
    for i, s in ipairs(scores) do
      local expected = (1 - ys[i] * raw[i] > 0) and -ys[i] / n or 0
      assert_near(expected, s.grad, 1e-15, "grad " .. i)
    end
  end)

  it("matches finite differences away from the kinks", function()
    check_gradients(function(vs) return loss.svm(vs, ys) end, values({ 0.3, -1.7, 2.5, -0.2, 0.9, 1.5 }))
  end)

  it("accepts labels written as floats", function()
    assert_same_bits(loss.svm(values(raw), ys).data,
      loss.svm(values(raw), { 1.0, -1.0, -1.0, 1.0, -1.0, 1.0 }).data)
  end)

  it("accepts numbers as scores (a Value comes back)", function()
    local ok, got = pcall(loss.svm, { 0.5, -2 }, { 1, -1 })
    assert(ok, "svm with number scores failed: " .. tostring(got))
    assert.is_true(mg.is_value(got))
    assert.equal((0.5 + 0) * (1.0 / 2), got.data)
  end)
end)

-- ---- mse ---------------------------------------------------------------------------

describe("loss.mse", function()
  local p = { 0.52, -1.25, 3.0 }
  local t = { 1.0, -1.0, 2.0 }

  it("is the mean of (pred - target)^2", function()
    local got = loss.mse(values(p), t)
    local total = 0
    for i = 1, #p do total = total + (p[i] - t[i]) * (p[i] - t[i]) end
    assert_near(total / #p, got.data, 1e-15)
    assert.are_not.equal(total / #p, total * (1.0 / #p)) -- (the data tell the two apart)
    assert_same_bits(total * (1.0 / #p), got.data)
  end)

  it("has gradients 2 (pred - target) / n, and -2 (pred - target) / n for Value targets", function()
    local preds, targets = values(p), values(t)
    loss.mse(preds, targets):backward()
    for i = 1, #p do
      assert_near(2 * (p[i] - t[i]) / #p, preds[i].grad, 1e-15, "pred " .. i)
      assert_near(-2 * (p[i] - t[i]) / #p, targets[i].grad, 1e-15, "target " .. i)
    end
  end)

  it("matches finite differences", function()
    check_gradients(function(vs) return loss.mse(vs, t) end, values(p))
  end)

  it("takes numbers on either side", function()
    assert_same_bits(loss.mse(values(p), t).data, loss.mse(p, values(t)).data)
    assert.is_true(mg.is_value(loss.mse(p, t)))
  end)
end)

-- ---- bce_logits ------------------------------------------------------------------------

describe("loss.bce_logits", function()
  local zs = { -3.0, -0.5, 0.0, 0.7, 2.5, -1.2 }
  local ys = { 0, 1, 1, 0, 1, 0 }

  it("is -[y log s + (1 - y) log(1 - s)] with s = sigmoid(z), for moderate logits", function()
    local got = loss.bce_logits(values(zs), ys)
    assert.is_true(mg.is_value(got))
    local total = 0
    for i, z in ipairs(zs) do
      local s = sigmoid(z)
      total = total - (ys[i] * math.log(s) + (1 - ys[i]) * math.log(1 - s))
    end
    assert_near(total / #zs, got.data, 1e-13)
  end)

  it("has gradients (sigmoid(z) - y) / n", function()
    local logits = values(zs)
    loss.bce_logits(logits, ys):backward()
    for i, z in ipairs(zs) do
      assert_near((sigmoid(z) - ys[i]) / #zs, logits[i].grad, 1e-13, "grad " .. i)
    end
  end)

  it("matches finite differences", function()
    check_gradients(function(vs) return loss.bce_logits(vs, ys) end, values(zs))
  end)

  it("is finite and right for logits of +-1000", function()
    local cases = { -- z, y, loss, gradient
      { 1000, 1, 0, 0 }, { 1000, 0, 1000, 1 }, { -1000, 1, 1000, -1 }, { -1000, 0, 0, 0 },
    }
    for _, c in ipairs(cases) do
      local z = Value(c[1])
      local l = loss.bce_logits({ z }, { c[2] })
      l:backward()
      local what = string.format("z=%g y=%d", c[1], c[2])
      assert_near(c[3], l.data, 1e-12, what .. " loss")
      assert_near(c[4], z.grad, 1e-12, what .. " grad")
    end
    -- mixed in one batch: the mean stays finite
    local batch = values({ 1000, -1000, 1000, -1000 })
    local l = loss.bce_logits(batch, { 1, 0, 0, 1 })
    l:backward()
    assert_near(500, l.data, 1e-12, "batch loss")
    assert_near(0.25, batch[3].grad, 1e-12, "batch grad 3")
    assert_near(-0.25, batch[4].grad, 1e-12, "batch grad 4")
  end)

  it("accepts numbers as logits", function()
    assert_same_bits(loss.bce_logits(values(zs), ys).data, loss.bce_logits(zs, ys).data)
  end)
end)

-- ---- cross_entropy ---------------------------------------------------------------------

describe("loss.cross_entropy", function()
  local raw = { { 0.5, -1.0, 2.0 }, { 1.5, 0.2, -0.3 }, { -2.0, 0.0, 0.1 } }
  local classes = { 3, 1, 2 }

  local function logit_values()
    local out = {}
    for i, z in ipairs(raw) do out[i] = values(z) end
    return out
  end

  local function softmax(z)
    local total, out = 0, {}
    for _, x in ipairs(z) do total = total + math.exp(x) end
    for j, x in ipairs(z) do out[j] = math.exp(x) / total end
    return out
  end

  it("is the mean of log(sum(exp(z))) - z[class] for small logits", function()
    local got = loss.cross_entropy(logit_values(), classes)
    assert.is_true(mg.is_value(got))
    local total = 0
    for i, z in ipairs(raw) do
      local s = 0
      for _, x in ipairs(z) do s = s + math.exp(x) end
      total = total + math.log(s) - z[classes[i]]
    end
    assert_near(total / #raw, got.data, 1e-13)
  end)

  it("has gradient (softmax - onehot) / n", function()
    local logits = logit_values()
    loss.cross_entropy(logits, classes):backward()
    for i, z in ipairs(raw) do
      local sm = softmax(z)
      for j = 1, #z do
        local expected = (sm[j] - (j == classes[i] and 1 or 0)) / #raw
        assert_near(expected, logits[i][j].grad, 1e-13, string.format("grad [%d][%d]", i, j))
      end
    end
  end)

  it("matches finite differences", function()
    local logits = logit_values()
    local flat = {}
    for _, z in ipairs(logits) do
      for _, v in ipairs(z) do flat[#flat + 1] = v end
    end
    check_gradients(function() return loss.cross_entropy(logits, classes) end, flat)
  end)

  it("is stable for logits like {1000, 0, -1000}", function()
    for c, expected in ipairs({ 0, 1000, 2000 }) do
      local z = values({ 1000, 0, -1000 })
      local l = loss.cross_entropy({ z }, { c })
      l:backward()
      assert_near(expected, l.data, 1e-12, "loss for class " .. c)
      local grads = { 1, 0, 0 }
      grads[c] = grads[c] - 1
      for j = 1, 3 do assert_near(grads[j], z[j].grad, 1e-12, "grad " .. j .. " for class " .. c) end
    end
    local z = values({ -1000, -1000 })
    local l = loss.cross_entropy({ z }, { 2 })
    l:backward()
    assert_near(math.log(2), l.data, 1e-12, "equal large negative logits")
    assert_near(0.5, z[1].grad, 1e-12)
    assert_near(-0.5, z[2].grad, 1e-12)
  end)

  it("is one logsumexp node minus the class logit, with the shifted formula's bits", function()
    local got = loss.cross_entropy(logit_values(), classes)
    local losses = {}
    for i, z in ipairs(raw) do
      local m = math.max(check.unpack(z))
      local s = 0
      for j, x in ipairs(z) do s = j == 1 and math.exp(x - m) or s + math.exp(x - m) end
      losses[i] = (m + math.log(s)) - z[classes[i]]
    end
    assert_same_bits(((losses[1] + losses[2]) + losses[3]) * (1.0 / 3), got.data)
    local term = loss.cross_entropy({ values(raw[1]) }, { 3 }):children()[1]:children()[1] -- mean, sum, term
    assert.equal("-", term.op)
    assert.equal("logsumexp", term:children()[1].op)
  end)

  it("accepts numbers as logits, and a single class", function()
    assert_same_bits(loss.cross_entropy(logit_values(), classes).data, loss.cross_entropy(raw, classes).data)
    assert.equal(0.0, loss.cross_entropy({ { 3.5 } }, { 1 }).data)
  end)

  it("accepts classes written as floats", function()
    assert_same_bits(loss.cross_entropy(raw, classes).data, loss.cross_entropy(raw, { 3.0, 1.0, 2.0 }).data)
  end)
end)

-- ---- l2 ----------------------------------------------------------------------------------

describe("loss.l2", function()
  local raw = { 0.5, -1.5, 2.0, 1e-3, -0.75 }

  it("is alpha * sum(p * p)", function()
    local got = loss.l2(values(raw), 1e-4)
    assert.is_true(mg.is_value(got))
    local total = 0
    for _, p in ipairs(raw) do total = total + p * p end
    assert_same_bits(1e-4 * total, got.data)
  end)

  it("has gradients 2 alpha p", function()
    local ps = values(raw)
    loss.l2(ps, 0.25):backward()
    for i, p in ipairs(raw) do assert_near(2 * 0.25 * p, ps[i].grad, 1e-15, "grad " .. i) end
  end)

  it("matches finite differences", function()
    check_gradients(function(vs) return loss.l2(vs, 0.3) end, values(raw))
  end)

  it("is 0 for no parameters", function()
    assert.equal(0.0, loss.l2({}, 1e-4).data)
  end)
end)

-- ---- errors --------------------------------------------------------------------------------

describe("loss functions refuse bad arguments", function()
  local v = values({ 0.5, -0.5 })

  local pair_losses = {
    { "svm", { 1, -1 } }, { "mse", { 0.1, 0.2 } }, { "bce_logits", { 0, 1 } },
  }
  for _, case in ipairs(pair_losses) do
    local name, labels = case[1], case[2]
    local f = loss[name]

    it(name .. ": arrays of the same non-zero length", function()
      assert_mentions(error_of(f, v, { labels[1] }), "bad argument #2 to '" .. name .. "'", "length")
      assert_mentions(error_of(f, { v[1] }, labels), "bad argument #2 to '" .. name .. "'", "length")
      assert_mentions(error_of(f, {}, {}), "bad argument #1 to '" .. name .. "'", "empty")
      assert_mentions(error_of(f, nil, labels), "bad argument #1 to '" .. name .. "'", "nil")
      assert_mentions(error_of(f, v[1], labels), "bad argument #1 to '" .. name .. "'")
      assert_mentions(error_of(f, v, 1), "bad argument #2 to '" .. name .. "'", "number")
    end)

    it(name .. ": entries must be numbers or Values", function()
      assert_mentions(error_of(f, { v[1], "0.5" }, labels), "bad argument #1 to '" .. name .. "'",
        "index 2", "string")
      assert_mentions(error_of(f, { {}, v[2] }, labels), "bad argument #1 to '" .. name .. "'",
        "index 1", "table")
    end)
  end

  it("svm: labels must be -1 or 1", function()
    for _, bad in ipairs({ 0, 2, 0.5, "1", true }) do
      assert_mentions(error_of(loss.svm, v, { 1, bad }), "bad argument #2 to 'svm'", "index 2", "-1", "1")
    end
  end)

  it("bce_logits: labels must be 0 or 1", function()
    for _, bad in ipairs({ -1, 2, 0.5, "0", false }) do
      assert_mentions(error_of(loss.bce_logits, v, { bad, 1 }), "bad argument #2 to 'bce_logits'", "index 1")
    end
  end)

  it("mse: targets must be numbers or Values", function()
    assert_mentions(error_of(loss.mse, v, { 1, "2" }), "bad argument #2 to 'mse'", "index 2", "string")
  end)

  it("cross_entropy: arrays of the same non-zero length", function()
    local z = { values({ 1, 2 }), values({ 0, 1 }) }
    assert_mentions(error_of(loss.cross_entropy, z, { 1 }), "bad argument #2 to 'cross_entropy'", "length")
    assert_mentions(error_of(loss.cross_entropy, {}, {}), "bad argument #1 to 'cross_entropy'", "empty")
    assert_mentions(error_of(loss.cross_entropy, nil, { 1 }), "bad argument #1 to 'cross_entropy'")
    assert_mentions(error_of(loss.cross_entropy, z, "1"), "bad argument #2 to 'cross_entropy'")
  end)

  it("cross_entropy: each sample a non-empty array of numbers or Values", function()
    assert_mentions(error_of(loss.cross_entropy, { Value(1) }, { 1 }),
      "bad argument #1 to 'cross_entropy'", "index 1")
    assert_mentions(error_of(loss.cross_entropy, { values({ 1 }), {} }, { 1, 1 }),
      "bad argument #1 to 'cross_entropy'", "index 2")
    assert_mentions(error_of(loss.cross_entropy, { 5 }, { 1 }), "bad argument #1 to 'cross_entropy'")
    assert_mentions(error_of(loss.cross_entropy, { { Value(1), "x" } }, { 1 }),
      "bad argument #1 to 'cross_entropy'", "string")
  end)

  it("cross_entropy: classes in 1..k", function()
    local z = { values({ 1, 2, 3 }) }
    for _, bad in ipairs({ 0, 4, -1, 1.5, "1", true }) do
      assert_mentions(error_of(loss.cross_entropy, z, { bad }), "bad argument #2 to 'cross_entropy'",
        "1..3", "index 1")
    end
  end)

  it("l2: an array of Values and a number alpha", function()
    assert_mentions(error_of(loss.l2, nil, 1e-4), "bad argument #1 to 'l2'")
    assert_mentions(error_of(loss.l2, Value(1), 1e-4), "bad argument #1 to 'l2'")
    assert_mentions(error_of(loss.l2, { Value(1), 2 }, 1e-4), "bad argument #1 to 'l2'", "index 2")
    assert_mentions(error_of(loss.l2, { Value(1), "x" }, 1e-4), "bad argument #1 to 'l2'", "index 2")
    assert_mentions(error_of(loss.l2, v), "bad argument #2 to 'l2'", "nil")
    assert_mentions(error_of(loss.l2, v, "0.1"), "bad argument #2 to 'l2'", "string")
    assert_mentions(error_of(loss.l2, v, {}), "bad argument #2 to 'l2'", "table")
  end)

  it("l2: alpha must be finite", function()
    -- a NaN or infinite alpha turns every gradient into NaN/inf: refuse it up front
    assert_mentions(error_of(loss.l2, v, 0 / 0), "bad argument #2 to 'l2'")
    assert_mentions(error_of(loss.l2, v, math.huge), "bad argument #2 to 'l2'")
  end)

  it("blame the caller's line, not loss.lua", function()
    for _, call in ipairs({
      function() local l = loss.svm({}, {}) return l end,
      function() local l = loss.mse(v, { 1 }) return l end,
      function() local l = loss.bce_logits(v, { 0, 3 }) return l end,
      function() local l = loss.cross_entropy({ { 1 } }, { 2 }) return l end,
      function() local l = loss.l2(v, "x") return l end,
    }) do
      local err = error_of(call)
      assert_mentions(err, "loss_spec.lua:")
    end
  end)
end)
