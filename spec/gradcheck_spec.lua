-- mg.gradcheck: backward() against central finite differences, used here on
-- every op and every loss.
local check = require("spec.helpers.check")
local mg = require("micrograd")
local loss = mg.loss

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

local function assert_checks(fn, inputs, opts)
  local ok, report = mg.gradcheck(fn, inputs, opts)
  assert(ok, tostring(report))
end

describe("mg.gradcheck over every op of mg.ops", function()
  local ops = require("spec.helpers.ops")
  before_each(function()
    math.randomseed(20261207)
  end)
  for _, op in ipairs(mg.ops) do
    local case = ops.case(op) -- nil: tested elsewhere (ops.elsewhere); an error: no test case
    if case then
      it(op.name .. " passes at points of its domain", function()
        for _ = 1, 5 do
          assert_checks(function(...) return case.apply({ ... }) end, ops.operands(op, case.n, check.between))
        end
      end)
    end
  end
end)

describe("mg.gradcheck", function()
  it("passes every op", function()
    local unary = { "tanh", "exp", "sigmoid", "softplus", "relu", "abs" }
    for _, op in ipairs(unary) do
      assert_checks(function(x) return x[op](x) end, { 0.7 })
      assert_checks(function(x) return x[op](x) end, { -1.3 })
    end
    assert_checks(function(x) return x:log() end, { 1.7 })
    assert_checks(function(x) return x:sqrt() end, { 2.5 })
    assert_checks(function(a, b) return a + b end, { 0.3, -0.2 })
    assert_checks(function(a, b) return a - 2 * b end, { 0.3, -0.2 })
    assert_checks(function(a, b) return a * b / (b + 3) end, { 0.3, -0.2 })
    assert_checks(function(a, b) return a ^ b end, { 1.3, 0.7 })
    assert_checks(function(a) return a ^ 3 - 2 ^ a end, { 0.9 })
    assert_checks(function(a) return -a * a end, { 0.9 })
    assert_checks(function(a, b, c) return mg.sum({ a, b, 2, c, a }) end, { 1, 2, 3 })
    assert_checks(function(a, b, c) return mg.logsumexp({ a, b, 2, c * a, a }) end, { 1, -2, 3 })
    assert_checks(function(a, b) return mg.logsumexp({ a * 400, b * 400 }) end, { 1, 0.999 })
    assert_checks(function(a, b) return mg.softmax({ a, b, 1 })[1] * mg.softmax({ b, a })[2] end, { 0.5, -1 })
    assert_checks(function(a, b, c) return mg.dot({ a, b }, { c, a }, b) end, { 0.5, -1.5, 2 })
    local vdot = function(a, b, c) return mg.dot(mg.vector({ a, b }), mg.vector({ c, 3 })) end
    assert_checks(vdot, { 0.5, -1.5, 2 })
  end)

  it("passes every loss", function()
    assert_checks(function(a, b) return loss.svm({ a, b }, { 1, -1 }) end, { 0.2, 0.4 })
    assert_checks(function(a, b) return loss.mse({ a, b }, { 1, -1 }) end, { 0.2, 0.4 })
    assert_checks(function(a, b) return loss.bce_logits({ a, b }, { 1, 0 }) end, { 0.2, -3 })
    assert_checks(function(a, b, c) return loss.cross_entropy({ { a, b, c }, { c, a, b } }, { 2, 3 }) end,
      { 0.2, -1, 1.5 })
    assert_checks(function(a, b) return loss.l2({ a, b }, 0.1) end, { 0.2, -1 })
  end)

  it("passes a model's loss through its inputs", function()
    mg.seed(5)
    local model = mg.nn.MLP(2, { 4, 1 }, { activation = "tanh" })
    assert_checks(function(x1, x2) return model({ x1, x2 }) end, { 0.3, -0.6 })
  end)

  it("catches a wrong gradient and reports it", function()
    -- detach cuts the graph: backward says 0, the finite difference does not
    local ok, report = mg.gradcheck(function(x) return x * x:detach() end, { 1.5 })
    assert.is_false(ok)
    assert.are.equal(1.5, report.analytic[1])
    assert.is_true(math.abs(report.numeric[1] - 3) < 1e-6)
    assert.is_true(report.worst > 0.4)
    assert.truthy(tostring(report):find("input 1: backward 1.5", 1, true))
  end)

  it("fails on NaN instead of passing it", function()
    local ok, report = mg.gradcheck(function(x) return (x - 1):log() end, { 0.5 })
    assert.is_false(ok)
    assert.are.equal(math.huge, report.errors[1])
  end)

  it("takes eps and tol", function()
    local ok = mg.gradcheck(function(x) return x:exp() end, { 3 }, { eps = 1e-1, tol = 1e-9 })
    assert.is_false(ok) -- a coarse step is not that precise
    assert.is_true((mg.gradcheck(function(x) return x:exp() end, { 3 }, { eps = 1e-1, tol = 1e-2 })))
  end)

  it("checks its arguments", function()
    local f = function(x) return x end
    assert.truthy(error_of(mg.gradcheck, 5, { 1 }):find("bad argument #1 to 'gradcheck'", 1, true))
    assert.truthy(error_of(mg.gradcheck, f, {}):find("bad argument #2 to 'gradcheck'", 1, true))
    assert.truthy(error_of(mg.gradcheck, f, { 0 / 0 }):find("finite number expected at index 1", 1, true))
    assert.truthy(error_of(mg.gradcheck, f, { 1 }, { step = 1 }):find("unknown option 'step'", 1, true))
    assert.truthy(error_of(mg.gradcheck, f, { 1 }, { eps = -1 }):find("option 'eps'", 1, true))
    local bad = function() return "x" end
    assert.truthy(error_of(mg.gradcheck, bad, { 1 }):find("must return a Value", 1, true))
  end)
end)

describe("gradcheck opts.params", function()
  it("checks the gradients of parameters a function uses, and leaves them as they were", function()
    mg.seed(3)
    local model = mg.nn.MLP(2, { 3, 1 }, { activation = "tanh" })
    local params = model:parameters()
    params[1].grad = 42
    local before = {}
    for i, p in ipairs(params) do before[i] = check.bits(p.data) .. check.bits(p.grad) end
    local ok, report = mg.gradcheck(function(x, y) return model({ x, y }):tanh() end, { 0.3, -0.7 },
      { params = params })
    assert(ok, tostring(report))
    assert.equal(2 + #params, #report.errors)
    assert.equal("parameter 1", report.names[3])
    -- a model as params: its parameters, named
    ok, report = mg.gradcheck(function(x, y) return model({ x, y }):tanh() end, { 0.3, -0.7 },
      { params = model })
    assert(ok, tostring(report))
    assert.equal(2 + #params, #report.errors)
    assert.equal("parameter 1 (w1)", report.names[3])
    assert.equal("parameter 3 (b)", report.names[5])
    for i, p in ipairs(params) do
      assert.equal(before[i], check.bits(p.data) .. check.bits(p.grad), "parameter " .. i)
    end
    -- parameters alone: no inputs
    local ok2 = mg.gradcheck(function() return model({ 1, 2 }) * 2 end, {}, { params = params })
    assert.is_true(ok2)
  end)

  it("finds a parameter whose gradient backward gets wrong", function()
    local p = mg.Value(1.5, "p")
    -- p.data read as a number is a constant to backward: dfn/dp is 1 to backward, x + 1 really
    local ok, report = mg.gradcheck(function(x) return x * p.data + p end, { 2.0 }, { params = { p } })
    assert.is_false(ok)
    assert.equal(2, report.worst_input)
    assert.equal(1, report.analytic[2])
    assert.is_true(math.abs(report.numeric[2] - 3) < 1e-6)
    assert.matches("at parameter 1 %(p%)", tostring(report))
    assert.equal(1.5, p.data)
  end)

  it("refuses params that are not Values", function()
    assert.has_error(function() mg.gradcheck(function(x) return x end, { 1 }, { params = { 1 } }) end,
      "bad argument #3 to 'gradcheck' (option 'params': Value expected at index 1, got number)")
    assert.has_error(function() mg.gradcheck(function(x) return x end, { 1 }, { params = 5 }) end,
      "bad argument #3 to 'gradcheck' (option 'params': array of Values expected, got number)")
  end)
end)
