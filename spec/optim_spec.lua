local mg = require("micrograd")
local core = require("micrograd.core")
local optim = require("micrograd.optim")
local check = require("spec.helpers.check")

local Value = mg.Value
local error_of, mentions, assert_near = check.error_of, check.assert_mentions, check.assert_near

-- A tiny quadratic: f(p) = sum A[i] * (p[i] - C[i])^2, from P0. Its gradient
-- is set by hand (2 * A[i] * (p[i] - C[i]), the same expression in Python), so
-- the reference values below test the optimizers only.
local P0 = { 1.5, -0.75, 0.25 }
local C = { 0.5, 0.25, -1.0 }
local A = { 1.0, 3.0, 0.5 }

local function quadratic()
  local ps = {}
  for i, x in ipairs(P0) do ps[i] = Value(x) end
  return ps
end

local function set_grads(ps)
  for i, p in ipairs(ps) do p.grad = 2 * A[i] * (p.data - C[i]) end
end

-- Parameters after each of the first steps, from PyTorch's documented formulas
-- in Python (floats, no numpy):
--   SGD: g = grad + wd * p; buf = g (first step) or momentum * buf + g;
--        g = g + momentum * buf (Nesterov) or buf; p = p - lr * g
--   AdamW: p = p - lr * wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) (g * g);
--        mhat = m / (1 - b1 ** t); vhat = v / (1 - b2 ** t); p = p - lr * mhat / (sqrt(vhat) + eps)
local REF = {
  momentum = { -- lr 0.1, momentum 0.9
    { 1.3, -0.1499999999999999, 0.125 },
    { 0.96, 0.6300000000000001, -0.1 },
    { 0.5619999999999998, 1.104, -0.39249999999999996 },
    { 0.1913999999999998, 1.0182, -0.7164999999999999 },
  },
  nesterov = { -- lr 0.05, momentum 0.9, weight_decay 0.01, nesterov
    { 1.308575, -0.17928749999999993, 0.13101249999999998 },
    { 1.07209510375, 0.3088804481250001, -0.027284399375000046 },
    { 0.8229072458139375, 0.5983880052055313, -0.2111791525674688 },
    { 0.5884750372174974, 0.6758318922013176, -0.40766186670343585 },
  },
  weight_decay = { -- lr 0.1, weight_decay 0.1
    { 1.285, -0.14249999999999996, 0.1225 },
    { 1.1151499999999999, 0.09442500000000001, 0.009024999999999977 },
    { 0.9809684999999999, 0.18682575, -0.09196775000000004 },
    { 0.874965115, 0.22286204250000002, -0.18185129750000004 },
  },
  momentum_decay = { -- lr 0.1, momentum 0.5, weight_decay 0.01
    { 1.2985, -0.14924999999999988, 0.12475 },
    { 1.0367514999999998, 0.3908242500000001, -0.05047475000000001 },
    { 0.7974901984999998, 0.57597600075, -0.23298917525 },
    { 0.6175640178514998, 0.47239029967424995, -0.40071448117475006 },
  },
  adamw = { -- lr 0.1, betas {0.9, 0.999}, eps 1e-8, weight_decay 0
    { 1.4000000005, -0.6500000001666666, 0.15000000079999998 },
    { 1.3004122286917927, -0.5504122280114293, 0.050303727982838484 },
    { 1.2015862729460303, -0.4515862719071071, -0.04884454903715439 },
    { 1.103939060573746, -0.3539390591681715, -0.14716468457024173 },
    { 1.007963659264342, -0.25796365748908945, -0.24433715858490745 },
  },
  adamw_decay = { -- lr 0.05, betas {0.8, 0.99}, eps 1e-6, weight_decay 0.1
    { 1.4425000249999875, -0.696250008333332, 0.198750039999968 },
    { 1.3854664148277063, -0.6429342829008433, 0.14787828076488474 },
    { 1.3290279401581477, -0.5901708956334699, 0.09746893733392187 },
    { 1.2733205495549, -0.5380836018731107, 0.04760836936715176 },
    { 1.2184862383018478, -0.4868006921346516, -0.0016158307336515618 },
  },
}

-- Runs make_opt(ps) on the quadratic and compares every step with REF[name].
local function against_reference(name, make_opt)
  local ps = quadratic()
  local opt = make_opt(ps)
  for step, want in ipairs(REF[name]) do
    set_grads(ps)
    opt:step()
    for i, p in ipairs(ps) do
      assert_near(want[i], p.data, 1e-15, string.format("%s step %d parameter %d", name, step, i))
    end
  end
end

local function datas(ps)
  local out = {}
  for i, p in ipairs(ps) do out[i] = p.data end
  return out
end

-- Asserts that fn(...) fails with "bad argument #n to 'name'" and mentions
-- each of the strings after the arguments table.
local function bad_arg(n, name, fn, args, ...)
  local err = error_of(fn, check.unpack(args, 1, args.n or #args))
  mentions(err, string.format("bad argument #%d to '%s'", n, name), ...)
  return err
end

local function bad_self(name, fn, args, ...)
  local err = error_of(fn, check.unpack(args, 1, args.n or #args))
  mentions(err, string.format("calling '%s' on bad self", name), ...)
  return err
end

-- JSON for a state table, numbers written in full ("%.17g"; floats keep a
-- fraction or exponent so that they read back as floats, -0.0 included).
local function encode(x)
  local t = type(x)
  if t == "number" then
    assert(x == x and x ~= math.huge and x ~= -math.huge, "non-finite number in a state")
    if check.math_type(x) == "integer" then return string.format("%d", x) end
    local s = string.format("%.17g", x)
    if not s:find("[.eEn]") then s = s .. ".0" end
    return s
  elseif t == "string" then
    return string.format("%q", x)
  elseif t == "boolean" then
    return tostring(x)
  elseif t == "table" then
    local parts = {}
    if #x > 0 then
      for k in pairs(x) do
        assert(check.is_integer(k) and k >= 1 and k <= #x, "mixed table in a state")
      end
      for i = 1, #x do parts[i] = encode(x[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(x) do
      assert(type(k) == "string", "non-string key in a state")
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for i, k in ipairs(keys) do parts[i] = string.format("%q:%s", k, encode(x[k])) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  error("not JSON: " .. t)
end

local has_dkjson, dkjson = pcall(require, "dkjson")
local has_cjson, cjson = pcall(require, "cjson")
local decode = has_dkjson and dkjson.decode or has_cjson and cjson.decode or nil

local function deep_copy(x)
  if type(x) ~= "table" then return x end
  local t = {}
  for k, v in pairs(x) do t[k] = deep_copy(v) end
  return t
end

-- state -> JSON text -> a new table (a plain copy when no JSON decoder is
-- installed: the state is still checked to be JSON).
local function round_trip(state)
  local text = encode(state)
  if not decode then return deep_copy(state) end
  return assert(decode(text))
end

describe("micrograd.optim", function()
  it("is require('micrograd').optim too", function()
    assert.equal(optim, mg.optim)
    assert.is_function(optim.SGD)
    assert.is_function(optim.Adam)
  end)
end)

describe("SGD", function()
  it("updates p.data = p.data - lr * p.grad exactly, lr 0.01 by default", function()
    local gen = mg.Generator(7)
    local ps, data, grad = {}, {}, {}
    for i = 1, 40 do
      data[i], grad[i] = gen:uniform(-3, 3), gen:normal(0, 2)
      ps[i] = Value(data[i])
      ps[i].grad = grad[i]
    end
    local opt = optim.SGD(ps)
    assert.equal(0.01, opt.lr)
    opt:step()
    for i, p in ipairs(ps) do
      assert.equal(data[i] - 0.01 * grad[i], p.data)
      assert.equal(grad[i], p.grad) -- gradients are left alone
    end
    opt.lr = 0.37
    opt:step()
    for i, p in ipairs(ps) do
      assert.equal((data[i] - 0.01 * grad[i]) - 0.37 * grad[i], p.data)
    end
  end)

  it("gives micrograd's demo loop bit for bit with optim.linear(opt, 1.0, 0.1, 100)", function()
    -- Two copies of a small model trained on the same data: one by hand as in
    -- micrograd's demo, one with SGD and the linear schedule.
    local function model(seed)
      local gen = mg.Generator(seed)
      local w = {}
      for i = 1, 6 do w[i] = Value(gen:uniform(-1, 1)) end
      return w
    end
    local xs = { { 0.5, -1.0 }, { 1.5, 0.25 }, { -0.75, 2.0 }, { 0.1, -0.3 } }
    local ys = { 1, -1, 1, -1 }
    local function loss_of(w)
      local total = Value(0)
      for i, x in ipairs(xs) do
        local h = mg.dot({ w[1], w[2] }, x, w[3]):tanh()
        local score = w[4] * h + w[5] * x[1] + w[6]
        total = total + (1 - ys[i] * score):relu()
      end
      return total / #xs
    end
    local hand, opt_w = model(3), model(3)
    local opt = optim.SGD(opt_w)
    local sched = optim.linear(opt, 1.0, 0.1, 100)
    for k = 0, 119 do
      for _, p in ipairs(hand) do p.grad = 0 end
      loss_of(hand):backward()
      local lr = k < 100 and 1.0 - 0.9 * k / 100 or 0.1
      for _, p in ipairs(hand) do p.data = p.data - lr * p.grad end

      opt:zero_grad()
      loss_of(opt_w):backward()
      assert.equal(lr, opt.lr)
      opt:step()
      sched:step()
    end
    assert.same(datas(hand), datas(opt_w))
  end)

  it("follows PyTorch with momentum", function()
    against_reference("momentum", function(ps) return optim.SGD(ps, { lr = 0.1, momentum = 0.9 }) end)
  end)

  it("follows PyTorch with Nesterov momentum and weight decay", function()
    against_reference("nesterov", function(ps)
      return optim.SGD(ps, { lr = 0.05, momentum = 0.9, weight_decay = 0.01, nesterov = true })
    end)
  end)

  it("follows PyTorch with weight decay", function()
    against_reference("weight_decay", function(ps) return optim.SGD(ps, { lr = 0.1, weight_decay = 0.1 }) end)
    against_reference("momentum_decay", function(ps)
      return optim.SGD(ps, { lr = 0.1, momentum = 0.5, weight_decay = 0.01 })
    end)
  end)

  it("reads its fields at every step", function()
    local ps = quadratic()
    local opt = optim.SGD(ps, { lr = 0.1 })
    set_grads(ps)
    opt:step()
    opt.momentum = 0.9 -- the buffer starts here, as in PyTorch
    for _ = 2, 3 do
      set_grads(ps)
      opt:step()
    end
    -- by hand: step 1 plain, then buf = g, then buf = 0.9 buf + g
    local p, buf = P0[1], nil
    for step = 1, 3 do
      local g = 2 * A[1] * (p - C[1])
      if step == 2 then buf = g elseif step == 3 then buf = 0.9 * buf + g end
      p = p - 0.1 * (step == 1 and g or buf)
    end
    assert.equal(p, ps[1].data)
  end)
end)

describe("Adam", function()
  it("has PyTorch's defaults", function()
    local opt = optim.Adam(quadratic())
    assert.equal(0.001, opt.lr)
    assert.same({ 0.9, 0.999 }, opt.betas)
    assert.equal(1e-8, opt.eps)
    assert.equal(0, opt.weight_decay)
  end)

  it("follows PyTorch's AdamW", function()
    against_reference("adamw", function(ps) return optim.Adam(ps, { lr = 0.1 }) end)
  end)

  it("follows PyTorch's AdamW with decoupled weight decay and other betas", function()
    against_reference("adamw_decay", function(ps)
      return optim.Adam(ps, { lr = 0.05, betas = { 0.8, 0.99 }, eps = 1e-6, weight_decay = 0.1 })
    end)
  end)

  it("copies the betas it is given", function()
    local betas = { 0.8, 0.99 }
    local opt = optim.Adam(quadratic(), { betas = betas })
    betas[1] = 5
    assert.same({ 0.8, 0.99 }, opt.betas)
  end)
end)

describe("both optimizers", function()
  local makers = {
    SGD = function(ps) return optim.SGD(ps, { lr = 0.04 }) end,
    ["SGD with momentum"] = function(ps) return optim.SGD(ps, { lr = 0.01, momentum = 0.9 }) end,
    ["SGD with Nesterov"] = function(ps)
      return optim.SGD(ps, { lr = 0.01, momentum = 0.9, nesterov = true })
    end,
    Adam = function(ps) return optim.Adam(ps, { lr = 0.05 }) end,
    ["Adam with clipping"] = function(ps) return optim.Adam(ps, { lr = 0.05, clip_norm = 1 }) end,
  }
  for name, make in pairs(makers) do
    it(name .. " minimizes a 2-parameter quadratic through backward()", function()
      local x, y = Value(-2), Value(4)
      local opt = make({ x, y })
      for _ = 1, 600 do
        opt:zero_grad()
        local loss = (x - 3) ^ 2 + 10 * (y + 1) ^ 2 + 0.5 * x * y
        loss:backward()
        opt:step()
      end
      -- minimum of (x-3)^2 + 10(y+1)^2 + xy/2: 2(x-3) + y/2 = 0, 20(y+1) + x/2 = 0
      local ym = -21.5 / 19.875
      local xm = 3 - ym / 4
      assert_near(xm, x.data, 1e-3, name .. " x")
      assert_near(ym, y.data, 1e-3, name .. " y")
    end)
  end

  it("zero_grad sets every gradient to 0", function()
    for _, make in pairs(makers) do
      local ps = quadratic()
      set_grads(ps)
      make(ps):zero_grad()
      for _, p in ipairs(ps) do assert.equal(0, p.grad) end
    end
  end)

  it("use the lr they are given at each step", function()
    local ps1, ps2 = quadratic(), quadratic()
    local a, b = optim.Adam(ps1, { lr = 0.1 }), optim.Adam(ps2, { lr = 0.1 })
    set_grads(ps1); a:step()
    set_grads(ps2); b:step()
    b.lr = 0.5
    set_grads(ps1); a:step()
    set_grads(ps2); b:step()
    assert.equal(0.1, a.lr)
    assert.are_not.equal(ps1[1].data, ps2[1].data)
    assert.is_true(math.abs(ps2[1].data - P0[1]) > math.abs(ps1[1].data - P0[1]))
  end)

  it("accept a module with :parameters()", function()
    local ps = quadratic()
    local module = { parameters = function() return ps end }
    set_grads(ps)
    optim.SGD(module, { lr = 1 }):step()
    assert.equal(P0[1] - 2 * A[1] * (P0[1] - C[1]), ps[1].data)
  end)

  it("tostring", function()
    assert.equal("SGD (3 parameters, lr 0.5, 0 steps)", tostring(optim.SGD(quadratic(), { lr = 0.5 })))
    assert.matches("^Adam %(3 parameters", tostring(optim.Adam(quadratic())))
  end)
end)

describe("gradient clipping", function()
  local function grads_of(gs)
    local ps = {}
    for i, g in ipairs(gs) do
      ps[i] = Value(0)
      ps[i].grad = g
    end
    return ps
  end

  it("clip_grad_norm scales by max_norm / (norm + 1e-6) and returns the norm", function()
    local ps = grads_of({ 3, -4, 12 })
    assert.equal(13, optim.clip_grad_norm(ps, 6.5))
    local coef = 6.5 / (13 + 1e-6)
    assert.equal(3 * coef, ps[1].grad)
    assert.equal(-4 * coef, ps[2].grad)
    assert.equal(12 * coef, ps[3].grad)
  end)

  it("clip_grad_norm leaves small gradients alone", function()
    local ps = grads_of({ 3, -4, 12 })
    assert.equal(13, optim.clip_grad_norm(ps, 13)) -- coef 13 / (13 + 1e-6) < 1: scaled
    assert.is_true(ps[3].grad < 12)
    ps = grads_of({ 3, -4, 12 })
    assert.equal(13, optim.clip_grad_norm(ps, 20))
    assert.same({ 3, -4, 12 }, { ps[1].grad, ps[2].grad, ps[3].grad })
  end)

  it("clip_grad_norm gets the norm of huge gradients right", function()
    local ps = grads_of({ 3e200, -4e200 })
    assert_near(5e200, optim.clip_grad_norm(ps, 1), 1e-15)
    assert_near(0.6, ps[1].grad, 1e-12)
    assert_near(-0.8, ps[2].grad, 1e-12)
  end)

  it("clip_grad_value clamps to [-c, c]", function()
    local ps = grads_of({ 3, -4, 0.5, -2, 0 / 0 })
    optim.clip_grad_value(ps, 2)
    assert.same({ 2, -2, 0.5, -2 }, { ps[1].grad, ps[2].grad, ps[3].grad, ps[4].grad })
    assert.is_true(check.is_nan(ps[5].grad))
  end)

  it("happens inside step(), by norm then by value, and step() returns the norm", function()
    local ps = grads_of({ 3, -4, 12 })
    local opt = optim.SGD(ps, { lr = 1, clip_norm = 6.5, clip_value = 2 })
    assert.equal(13, opt:step())
    local coef = 6.5 / (13 + 1e-6)
    assert.equal(-(3 * coef), ps[1].data)
    assert.equal(-(-4 * coef), ps[2].data)
    assert.equal(-2, ps[3].data) -- 12 * coef = 6 clamped to 2
    assert.equal(2, ps[3].grad)  -- the gradients are clipped in place, as PyTorch's
    assert.is_nil(optim.SGD(grads_of({ 1 })):step())
  end)
end)

describe("schedules", function()
  local function sgd(lr) return optim.SGD(quadratic(), { lr = lr }) end

  it("linear gives 1.0 - 0.9 * k / 100 bit for bit, then holds at `to`", function()
    local opt = sgd(0.5)
    local sched = optim.linear(opt, 1.0, 0.1, 100)
    for k = 0, 99 do
      assert.equal(1.0 - 0.9 * k / 100, opt.lr)
      assert.equal(1.0 - 0.9 * k / 100, sched:lr(k))
      if k < 99 then assert.equal(1.0 - 0.9 * (k + 1) / 100, sched:step()) else sched:step() end
    end
    for _ = 100, 150 do
      assert.equal(0.1, opt.lr)
      sched:step()
    end
    assert.equal(0.1, sched:lr(1000))
    assert.equal(1.0, sched:lr(0)) -- lr(k) changes nothing
    assert.equal(0.1, opt.lr)
  end)

  it("step multiplies by gamma every n steps from the optimizer's lr", function()
    local opt = sgd(0.8)
    local sched = optim.step(opt, { every = 3, gamma = 0.5 })
    local want = { 0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1 }
    for k = 0, 9 do
      assert.equal(want[k + 1], opt.lr)
      assert.equal(want[k + 1], sched:lr(k))
      sched:step()
    end
    assert.equal(0.8 * 0.5 ^ 33, sched:lr(100))
    assert.equal(0.8 * 0.1, optim.step(sgd(0.8), { every = 1 }):lr(1)) -- gamma 0.1 by default
  end)

  it("cosine anneals from `from` to `to` over `steps`, then holds", function()
    local opt = sgd(0.3)
    local sched = optim.cosine(opt, { from = 1.0, to = 0.1, steps = 10 })
    assert.equal(1.0, opt.lr)
    for k = 1, 9 do
      local want = 0.1 + 0.9 * (1 + math.cos(math.pi * k / 10)) / 2
      assert.equal(want, sched:step())
      assert.equal(want, opt.lr)
    end
    assert_near(0.55, sched:lr(5), 1e-15)
    assert.equal(0.1, sched:step())
    assert.equal(0.1, sched:step())
    -- from defaults to the optimizer's lr, to to 0
    local sched2 = optim.cosine(sgd(0.3), { steps = 4 })
    assert.same({ 0.3, 0.15, 0 }, { sched2:lr(0), sched2:lr(2), sched2:lr(4) })
    assert_near(0.3 * (1 + math.cos(math.pi / 4)) / 2, sched2:lr(1), 1e-15)
  end)

  it("state and load_state resume a schedule", function()
    local opt = sgd(0.3)
    local sched = optim.cosine(opt, { from = 1.0, to = 0.1, steps = 10 })
    for _ = 1, 4 do sched:step() end
    local saved = sched:state()
    assert.same({ kind = "cosine", step = 4, from = 1.0, to = 0.1, steps = 10 }, saved)
    local opt2 = sgd(0.3)
    local sched2 = optim.cosine(opt2, { steps = 2 })
    sched2:load_state(saved)
    assert.equal(opt.lr, opt2.lr)
    for _ = 1, 8 do assert.equal(sched:step(), sched2:step()) end
  end)
end)

describe("exponential, warmup and plateau schedules", function()
  local function sgd(lr) return optim.SGD(quadratic(), { lr = lr }) end

  -- A copy of t with every number through "%.17g" text, as a checkpoint's JSON has them.
  local function through_text(t)
    if type(t) == "number" then return tonumber(string.format("%.17g", t)) end
    if type(t) ~= "table" then return t end
    local out = {}
    for k, v in pairs(t) do out[k] = through_text(v) end
    return out
  end

  local function bits(x) return check.bits(x) end

  it("exponential multiplies by gamma every step, from the optimizer's lr or `from`", function()
    local opt = sgd(0.5)
    local sched = optim.exponential(opt, { gamma = 0.9 })
    assert.equal(0.5, opt.lr)
    for k = 1, 20 do
      assert.equal(0.5 * 0.9 ^ k, sched:step())
      assert.equal(0.5 * 0.9 ^ k, opt.lr)
    end
    assert.equal(2 * 0.5 ^ 3, optim.exponential(sgd(1), { from = 2, gamma = 0.5 }):lr(3))
    assert.same({ kind = "exponential", step = 20, from = 0.5, gamma = 0.9 }, sched:state())
    assert.has_error(function() optim.exponential(opt, {}) end,
      "bad argument #2 to 'exponential' (option 'gamma': finite number >= 0 expected, got nil)")
  end)

  it("warmup rises linearly to the target, then hands over to the next schedule", function()
    local opt = sgd(0.1)
    local after = optim.cosine(opt, { from = 1.0, to = 0.0, steps = 10 })
    local w = optim.warmup(opt, 4, after)
    local want = { 1 / 5, 2 / 5, 3 / 5, 4 / 5 }
    assert.equal(want[1], opt.lr)
    for k = 1, 3 do assert.equal(want[k + 1], w:step()) end
    assert.equal(1.0, w:step()) -- step 4: the cosine's step 0
    local reference = optim.cosine(sgd(0.1), { from = 1.0, to = 0.0, steps = 10 })
    for _ = 1, 12 do assert.equal(reference:step(), w:step()) end
    -- without a next schedule: the optimizer's lr, then held
    local opt2 = sgd(0.3)
    local w2 = optim.warmup(opt2, 2)
    assert.same({ 0.3 / 3, 0.3 * 2 / 3, 0.3, 0.3 }, { opt2.lr, w2:step(), w2:step(), w2:step() })
    assert.has_error(function() optim.warmup(opt2, 0) end,
      "bad argument #2 to 'warmup' (integer >= 1 expected, got 0)")
    assert.has_error(function() optim.warmup(opt2, 3, optim.exponential(sgd(1), { gamma = 0.5 })) end,
      "bad argument #3 to 'warmup' (schedule of another optimizer)")
  end)

  it("plateau lowers the rate by factor after `patience` losses without a new best", function()
    local opt = sgd(1.0)
    local p = optim.plateau(opt, { factor = 0.5, patience = 2, min_lr = 0.2 })
    local losses = { 5, 4, 4, 4, 4.5, 3, 3, 3, 3, 3, 3, 3, 3, 3 }
    local want = { 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2 }
    for i, l in ipairs(losses) do assert.equal(want[i], p:step(l), "step " .. i) end
    assert.equal(0.2, opt.lr)
    assert.equal(3, p:state().best)
    -- a Value is read as its number; no loss is an error saying what to pass
    assert.equal(0.2, p:step(mg.Value(1)))
    assert.equal(1, p.best)
    assert.has_error(function() p:step() end,
      "bad argument #1 to 'step' (the loss (a number or a Value) expected, got nil: plateau:step(loss))")
    assert.has_error(function() optim.plateau(opt, { factor = 1 }) end,
      "bad argument #2 to 'plateau' (option 'factor': number in (0, 1) expected, got 1)")
  end)

  -- Each case: a fresh optimizer and schedule, and the loss fed to step k.
  local function loss_at(k) return 1 / (1 + (k % 7)) + k * 1e-3 end
  local cases = {
    linear = function(opt) return optim.linear(opt, 1.0, 0.1, 17) end,
    step = function(opt) return optim.step(opt, { every = 3, gamma = 0.7 }) end,
    cosine = function(opt) return optim.cosine(opt, { from = 0.9, to = 0.01, steps = 23 }) end,
    exponential = function(opt) return optim.exponential(opt, { gamma = 0.93 }) end,
    plateau = function(opt) return optim.plateau(opt, { factor = 0.3, patience = 1 }) end,
    warmup = function(opt) return optim.warmup(opt, 5) end,
    ["warmup + cosine"] = function(opt)
      return optim.warmup(opt, 5, optim.cosine(opt, { from = 0.8, steps = 20 }))
    end,
    ["warmup + plateau"] = function(opt)
      return optim.warmup(opt, 3, optim.plateau(opt, { factor = 0.5, patience = 0 }))
    end,
  }
  for name, make in pairs(cases) do
    it(name .. ": a schedule restored from its state continues to the same lr bits", function()
      for _, stop in ipairs({ 0, 1, 4, 5, 6, 12 }) do
        local opt = sgd(0.37)
        local sched = make(opt)
        local rates = {}
        for k = 1, 30 do rates[k] = sched:step(loss_at(k)) end
        -- stop at step `stop`, save, restore into fresh objects, go on
        local opt1 = sgd(0.37)
        local first = make(opt1)
        for k = 1, stop do first:step(loss_at(k)) end
        local saved = through_text(first:state())
        local opt2 = sgd(5)
        local second = make(opt2)
        second:load_state(saved)
        assert.equal(bits(opt1.lr), bits(opt2.lr), "lr after load_state at step " .. stop)
        for k = stop + 1, 30 do
          local lr = second:step(loss_at(k))
          assert.equal(bits(rates[k]), bits(lr), string.format("%s: stop %d, step %d", name, stop, k))
          assert.equal(bits(rates[k]), bits(opt2.lr))
        end
        assert.same(sched:state(), second:state())
      end
    end)
  end

  it("load_state refuses another kind's state and bad fields", function()
    local opt = sgd(1)
    local p = optim.plateau(opt, {})
    assert.has_error(function() p:load_state({ kind = "cosine", step = 1 }) end,
      "bad argument #1 to 'load_state' (plateau schedule state expected, got kind 'cosine')")
    local state = p:state()
    state.patience = -1
    assert.has_error(function() p:load_state(state) end,
      "bad argument #1 to 'load_state' (field 'patience': integer >= 0 expected, got -1)")
    local w = optim.warmup(opt, 2)
    local with_after = { kind = "warmup", step = 1, steps = 2, to = 1, after = {} }
    assert.has_error(function() w:load_state(with_after) end,
      "bad argument #1 to 'load_state' (field 'after' given to a warmup with no next schedule)")
    assert.matches("Warmup %(step 0 of 2", tostring(w))
    assert.matches("Plateau %(step 0", tostring(p))
  end)
end)

describe("state and load_state", function()
  local configs = {
    SGD = function(ps)
      return optim.SGD(ps, { lr = 0.05, momentum = 0.9, nesterov = true, weight_decay = 0.01 })
    end,
    ["SGD with clipping"] = function(ps)
      return optim.SGD(ps, { lr = 0.05, momentum = 0.5, clip_norm = 0.7 })
    end,
    Adam = function(ps) return optim.Adam(ps, { lr = 0.05, weight_decay = 0.1, clip_value = 1.5 }) end,
  }
  for name, make in pairs(configs) do
    it(name .. ": 10 steps equal 5, save and load into a new optimizer, 5 more (same bits)", function()
      local straight = quadratic()
      local opt = make(straight)
      local sched = optim.linear(opt, 0.1, 0.01, 8)
      for _ = 1, 10 do
        set_grads(straight)
        opt:step()
        sched:step()
      end

      local resumed = quadratic()
      local first = make(resumed)
      local first_sched = optim.linear(first, 0.1, 0.01, 8)
      for _ = 1, 5 do
        set_grads(resumed)
        first:step()
        first_sched:step()
      end
      local text_state = round_trip(first:state())
      local text_sched = round_trip(first_sched:state())
      local second = make(resumed)
      local second_sched = optim.linear(second, 1, 1, 1)
      second:load_state(text_state)
      second_sched:load_state(text_sched)
      for _ = 6, 10 do
        set_grads(resumed)
        second:step()
        second_sched:step()
      end
      assert.same(datas(straight), datas(resumed))
      for i = 1, #straight do assert.equal(straight[i].data, resumed[i].data) end
      assert.same(opt:state(), second:state())
    end)
  end

  it("SGD's state holds the hyper-parameters, the step count and the momentum buffer", function()
    local ps = quadratic()
    local opt = optim.SGD(ps, { lr = 0.1, momentum = 0.9 })
    local s = opt:state()
    assert.same({ kind = "SGD", size = 3, step = 0, lr = 0.1, momentum = 0.9, weight_decay = 0,
      nesterov = false }, s)
    set_grads(ps)
    opt:step()
    s = opt:state()
    assert.equal(1, s.step)
    assert.same({ 2, -6, 1.25 }, s.momentum_buffer)
  end)

  it("Adam's state holds m and v", function()
    local ps = quadratic()
    local opt = optim.Adam(ps)
    set_grads(ps)
    local g = { ps[1].grad, ps[2].grad, ps[3].grad }
    opt:step()
    local s = opt:state()
    assert.equal("Adam", s.kind)
    assert.equal(1, s.step)
    assert.same({ 0.9, 0.999 }, s.betas)
    for i = 1, 3 do
      assert.equal((1 - 0.9) * g[i], s.m[i]) -- 0.9 * 0 adds 0
      assert.equal((1 - 0.999) * (g[i] * g[i]), s.v[i])
    end
  end)

  it("load_state restores the hyper-parameters, lr included", function()
    local a = optim.SGD(quadratic(), { lr = 0.2, momentum = 0.3 })
    local b = optim.SGD(quadratic())
    b:load_state(a:state())
    assert.equal(0.2, b.lr)
    assert.equal(0.3, b.momentum)
  end)
end)

describe("parameter sets", function()
  it("keep their Values alive after the caller drops its table", function()
    local opt
    do
      local list = {}
      for i = 1, 200 do
        list[i] = Value(i)
        list[i].grad = 1
      end
      opt = optim.SGD(list, { lr = 0.5 })
      list[1] = Value(-1) -- later changes to the caller's table do not matter
    end
    collectgarbage()
    collectgarbage()
    local junk = {}
    for i = 1, 5000 do junk[i] = Value(-i) end -- reuse freed memory, if any
    opt:step()
    assert.equal(-5000, junk[5000].data)
    local values = opt._params:values()
    assert.equal(200, #values)
    for i, v in ipairs(values) do assert.equal(i - 0.5, v.data) end
  end)

  it("are usable from the core module: ParamSet and Buffer", function()
    local ps = quadratic()
    local set = core.ParamSet(ps)
    assert.equal(3, #set)
    assert.equal("ParamSet (3 parameters)", tostring(set))
    local buf = core.Buffer(3)
    assert.equal(3, #buf)
    assert.same({ 0, 0, 0 }, buf:totable())
    buf:load({ 1, 2.5, -3 })
    assert.same({ 1, 2.5, -3 }, buf:totable())
    for _, p in ipairs(ps) do p.grad = 2 end
    set:sgd(0.5, 0.9, 0, false, buf, false)
    -- buf = 0.9 * buf + g
    assert.same({ 0.9 * 1 + 2, 0.9 * 2.5 + 2, 0.9 * -3 + 2 }, buf:totable())
    assert.equal(P0[1] - 0.5 * (0.9 * 1 + 2), ps[1].data)
  end)

  it("are independent of the Values' order of creation", function()
    local a, b, c = Value(1), Value(2), Value(3)
    local set = core.ParamSet({ c, a, b })
    local values = set:values()
    assert.equal(c, values[1])
    assert.equal(a, values[2])
    assert.equal(b, values[3])
  end)
end)

describe("errors", function()
  local v1, v2 = Value(1), Value(2)

  it("name the constructor and the parameter list", function()
    for _, name in ipairs({ "SGD", "Adam", "clip_grad_norm", "clip_grad_value" }) do
      local fn = optim[name]
      bad_arg(1, name, fn, { n = 2, nil, 1 }, "array of Values expected, got nil")
      bad_arg(1, name, fn, { 5, 1 }, "got number")
      bad_arg(1, name, fn, { {}, 1 }, "empty parameter list")
      bad_arg(1, name, fn, { { v1, v2, {} }, 1 }, "Value expected at index 3, got table")
      bad_arg(1, name, fn, { { v1, 7 }, 1 }, "Value expected at index 2, got number")
      bad_arg(1, name, fn, { { v1, v2, v1 }, 1 }, "index 3", "index 1")
    end
  end)

  it("name the option that is wrong", function()
    local ps = { v1, v2 }
    bad_arg(2, "SGD", optim.SGD, { ps, 0.1 }, "table of options expected, got number")
    bad_arg(2, "SGD", optim.SGD, { ps, { lr_ = 1 } }, "unknown option 'lr_'")
    bad_arg(2, "SGD", optim.SGD, { ps, { betas = { 0.9, 0.99 } } }, "unknown option 'betas'")
    bad_arg(2, "SGD", optim.SGD, { ps, { lr = -1 } }, "option 'lr'", "got -1")
    bad_arg(2, "SGD", optim.SGD, { ps, { lr = "0.1" } }, "option 'lr'", "got string")
    bad_arg(2, "SGD", optim.SGD, { ps, { lr = math.huge } }, "option 'lr'")
    bad_arg(2, "SGD", optim.SGD, { ps, { lr = v1 } }, "option 'lr'", "got Value")
    bad_arg(2, "SGD", optim.SGD, { ps, { momentum = -0.5 } }, "option 'momentum'")
    bad_arg(2, "SGD", optim.SGD, { ps, { weight_decay = 0 / 0 } }, "option 'weight_decay'")
    bad_arg(2, "SGD", optim.SGD, { ps, { nesterov = 1, momentum = 0.9 } }, "option 'nesterov'", "boolean")
    bad_arg(2, "SGD", optim.SGD, { ps, { nesterov = true } }, "option 'nesterov'", "momentum")
    bad_arg(2, "SGD", optim.SGD, { ps, { clip_norm = -1 } }, "option 'clip_norm'")
    bad_arg(2, "SGD", optim.SGD, { ps, { clip_value = "x" } }, "option 'clip_value'")
    bad_arg(2, "Adam", optim.Adam, { ps, { momentum = 0.9 } }, "unknown option 'momentum'")
    bad_arg(2, "Adam", optim.Adam, { ps, { betas = { 0.9 } } }, "option 'betas'", "{0.9, nil}")
    bad_arg(2, "Adam", optim.Adam, { ps, { betas = { 1, 0.999 } } }, "option 'betas'")
    bad_arg(2, "Adam", optim.Adam, { ps, { betas = 0.9 } }, "option 'betas'")
    bad_arg(2, "Adam", optim.Adam, { ps, { eps = -1e-8 } }, "option 'eps'")
    bad_arg(2, "Adam", optim.Adam, { ps, { weight_decay = -1 } }, "option 'weight_decay'")
  end)

  it("name the method and the field for bad fields at step()", function()
    local sgd = optim.SGD({ v1, v2 })
    bad_self("step", sgd.step, { n = 1, nil }, "SGD expected, got nil")
    bad_self("step", sgd.step, { optim.Adam({ v1 }) }, "SGD expected, got table")
    bad_self("zero_grad", sgd.zero_grad, { 5 }, "SGD expected, got number")
    sgd.lr = "big"
    bad_self("step", sgd.step, { sgd }, "field 'lr'", "got string")
    sgd.lr, sgd.momentum = 0.1, -1
    bad_self("step", sgd.step, { sgd }, "field 'momentum'")
    sgd.momentum, sgd.nesterov = 0, true
    bad_self("step", sgd.step, { sgd }, "field 'nesterov'")
    local adam = optim.Adam({ v1, v2 })
    bad_self("step", adam.step, { sgd }, "Adam expected")
    adam.betas = { 0.9, 1.5 }
    bad_self("step", adam.step, { adam }, "field 'betas'")
    assert.equal(1, v1.data) -- nothing moved
  end)

  it("name load_state and what is wrong with the state, and change nothing", function()
    local sgd = optim.SGD({ v1, v2 }, { momentum = 0.9 })
    local adam = optim.Adam({ v1, v2 })
    local before = sgd:state()
    local function good()
      return optim.SGD({ v1, v2 }, { momentum = 0.5, lr = 3 }):state()
    end
    local function with(changes)
      local s = good()
      s.momentum_buffer = { 1, 2 }
      for k, x in pairs(changes) do s[k] = x end
      return s
    end
    bad_arg(1, "load_state", sgd.load_state, { sgd, nil, n = 2 }, "state table expected, got nil")
    bad_arg(1, "load_state", sgd.load_state, { sgd, adam:state() }, "SGD state expected", "'Adam'")
    bad_arg(1, "load_state", adam.load_state, { adam, good() }, "Adam state expected", "'SGD'")
    bad_arg(1, "load_state", sgd.load_state, { sgd, optim.SGD({ v1 }):state() }, "2 parameters", "got 1")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ step = -1 }) }, "field 'step'")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ step = 1.5 }) }, "field 'step'")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ step = 1e300 }) }, "field 'step'")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ lr = -3 }) }, "field 'lr'")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ nesterov = "no" }) }, "field 'nesterov'")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ momentum_buffer = 5 }) },
      "field 'momentum_buffer'", "got number")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ momentum_buffer = { 1 } }) },
      "field 'momentum_buffer'", "2 numbers", "got 1 elements")
    bad_arg(1, "load_state", sgd.load_state, { sgd, with({ momentum_buffer = { 1, "2" } }) },
      "field 'momentum_buffer'", "index 2", "got string")
    local adam_state = adam:state()
    adam_state.v = nil
    bad_arg(1, "load_state", adam.load_state, { adam, adam_state }, "field 'v'")
    adam_state = adam:state()
    adam_state.betas = { 0.9, -1 }
    bad_arg(1, "load_state", adam.load_state, { adam, adam_state }, "field 'betas'")
    bad_self("load_state", sgd.load_state, { 1, good() }, "SGD expected")
    assert.same(before, sgd:state())
  end)

  it("name the schedule and its argument", function()
    local opt = optim.SGD({ v1 }, { lr = 0.5 })
    bad_arg(1, "linear", optim.linear, { nil, 1, 0.1, 10, n = 4 }, "optimizer expected, got nil")
    bad_arg(2, "linear", optim.linear, { opt, -1, 0.1, 10 }, "from", "got -1")
    bad_arg(3, "linear", optim.linear, { opt, 1, "x", 10 }, "to", "got string")
    bad_arg(4, "linear", optim.linear, { opt, 1, 0.1, 0 }, "steps", "integer >= 1")
    bad_arg(4, "linear", optim.linear, { opt, 1, 0.1, 2.5 }, "steps")
    bad_arg(4, "linear", optim.linear, { opt, 1, 0.1, n = 3 }, "steps", "got nil")
    bad_arg(1, "step", optim.step, { 5, { every = 2 } }, "optimizer expected")
    bad_arg(2, "step", optim.step, { opt, n = 1 }, "table of options expected")
    bad_arg(2, "step", optim.step, { opt, {} }, "option 'every'")
    bad_arg(2, "step", optim.step, { opt, { every = 0 } }, "option 'every'")
    bad_arg(2, "step", optim.step, { opt, { every = 2, gama = 0.5 } }, "unknown option 'gama'")
    bad_arg(2, "step", optim.step, { opt, { every = 2, gamma = -0.5 } }, "option 'gamma'")
    bad_arg(1, "step", optim.step, { { lr = "x" }, { every = 2 } }, "field 'lr'")
    bad_arg(2, "cosine", optim.cosine, { opt, {} }, "option 'steps'")
    bad_arg(2, "cosine", optim.cosine, { opt, { steps = 10, to = -1 } }, "option 'to'")
    bad_arg(2, "cosine", optim.cosine, { opt, { steps = 10, tmax = 3 } }, "unknown option 'tmax'")
    bad_arg(1, "cosine", optim.cosine, { {}, { steps = 10 } }, "field 'lr'")
    local sched = optim.linear(opt, 1, 0.1, 10)
    bad_arg(1, "lr", sched.lr, { sched, -1 }, "integer >= 0 expected, got -1")
    bad_arg(1, "lr", sched.lr, { sched, 1.5 }, "integer >= 0 expected")
    bad_arg(1, "lr", sched.lr, { sched, 1e300 }, "integer >= 0 expected")
    bad_arg(4, "linear", optim.linear, { opt, 1, 0.1, 1e300 }, "steps")
    bad_self("step", sched.step, { opt }, "Schedule expected")
    bad_arg(1, "load_state", sched.load_state, { sched, { kind = "cosine", step = 1 } },
      "linear schedule state expected")
    bad_arg(1, "load_state", sched.load_state, { sched, { kind = "linear", step = -2 } }, "field 'step'")
    bad_arg(1, "load_state", sched.load_state, { sched, { kind = "linear", step = 2, from = 1, to = 0 } },
      "field 'steps'")
    assert.equal(0, sched.k)
    assert.equal(1, opt.lr)
  end)

  it("point at the caller's line", function()
    local opt = optim.SGD({ v1 })
    local sched = optim.linear(opt, 1, 0.5, 2)
    local calls = {
      function() local o = optim.SGD({ 1 }); return o end,
      function() local o = optim.Adam({ v1 }, { lr = -1 }); return o end,
      function() local o = optim.SGD({ v1 }, { wrong = 1 }); return o end,
      function() local o = optim.linear(nil, 1, 0, 1); return o end,
      function() local o = optim.step(opt, { every = 0 }); return o end,
      function() local o = optim.cosine(5, { steps = 1 }); return o end,
      function() opt.step(nil); return opt end,
      function() opt:load_state({}); return opt end,
      function() local n = optim.clip_grad_norm({ v1 }, -1); return n end,
      function() local lr = sched:lr(-1); return lr end,
    }
    for _, call in ipairs(calls) do
      mentions(error_of(call), "optim_spec.lua:")
    end
    opt.lr = -1
    mentions(error_of(function() opt:step(); return opt end), "optim_spec.lua:")
  end)

  it("name the clipping function and its bound", function()
    bad_arg(2, "clip_grad_norm", optim.clip_grad_norm, { { v1 }, -1 }, "number >= 0 expected, got -1")
    bad_arg(2, "clip_grad_norm", optim.clip_grad_norm, { { v1 }, "1" }, "got string")
    bad_arg(2, "clip_grad_value", optim.clip_grad_value, { { v1 }, n = 1 }, "got nil")
    bad_arg(2, "clip_grad_value", optim.clip_grad_value, { { v1 }, 0 / 0 }, "got ")
  end)

  it("name the core functions and their arguments", function()
    local set = core.ParamSet({ v1, v2 })
    bad_arg(1, "ParamSet", core.ParamSet, { 5 }, "array of Values expected")
    bad_arg(1, "ParamSet", core.ParamSet, { { v1, 3 } }, "Value expected at index 2, got number")
    bad_arg(2, "ParamSet", core.ParamSet, { { v1 }, 5 }, "string or nil expected")
    bad_arg(1, "Buffer", core.Buffer, { -1 }, "size out of range")
    bad_arg(1, "Buffer", core.Buffer, { "x" }, "integer expected")
    bad_arg(1, "zero_grad", set.zero_grad, { {} }, "ParamSet expected, got table")
    bad_arg(2, "clip_norm", set.clip_norm, { set, -1 }, "number >= 0 expected")
    bad_arg(2, "clip_value", set.clip_value, { set, "x" }, "number expected")
    bad_arg(6, "sgd", set.sgd, { set, 0.1, 0.9, 0, false, core.Buffer(3) },
      "Buffer of 2 elements expected, got 3")
    bad_arg(6, "sgd", set.sgd, { set, 0.1, 0.9, 0, false, nil, n = 6 }, "Buffer expected, got nil")
    bad_arg(5, "sgd", set.sgd, { set, 0.1, 0, 0, true }, "Nesterov")
    bad_arg(2, "sgd", set.sgd, { set, -0.1, 0, 0, false }, "number >= 0 expected, got -0.1")
    local m, v = core.Buffer(2), core.Buffer(2)
    bad_arg(7, "adam", set.adam, { set, 0.1, 0.9, 0.999, 1e-8, 0, 0, m, v }, "integer >= 1 expected")
    bad_arg(3, "adam", set.adam, { set, 0.1, 1, 0.999, 1e-8, 0, 1, m, v }, "beta1")
    bad_arg(9, "adam", set.adam, { set, 0.1, 0.9, 0.999, 1e-8, 0, 1, m, {} }, "Buffer expected, got table")
    bad_arg(2, "load", m.load, { m, { 1 } }, "array of 2 numbers expected, got length 1")
    bad_arg(2, "load", m.load, { m, { 1, "2" } }, "number expected at index 2, got string")
    bad_arg(1, "totable", m.totable, { set }, "Buffer expected, got micrograd.ParamSet")
    assert.same({ 0, 0 }, m:totable())
  end)
end)
