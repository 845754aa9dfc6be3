local check = require("spec.helpers.check")
local mg = require("micrograd")

local Value = mg.Value
local huge = math.huge

-- This file as messages name it, and the line of the caller.
local here = debug.getinfo(1, "S").short_src
local function line()
  return debug.getinfo(2, "l").currentline
end

-- The anomaly message with `what` and the place: this file, line `at`.
local function message(what, at)
  return "micrograd: anomaly: " .. what .. "; created at " .. here .. ":" .. at .. ")"
end

-- The error fn raises (it must raise one). (The functions given return what
-- they make through a local: LuaJIT drops a frame that tail-calls a C function,
-- and the node's place would be this function's line.)
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  assert.is_string(err)
  return err
end

-- Runs fn with detect_anomaly on, and turns it back off however fn ends.
local function detecting(fn)
  return function()
    check.with_anomaly(true, fn)
  end
end

describe("detect_anomaly", function()
  after_each(function()
    mg.detect_anomaly(false)
  end)

  it("is off by default: ops and backward give IEEE results without errors", function()
    assert.is_false(mg.detect_anomaly())
    local x = Value(-1)
    assert.is_true(x:log().data ~= x:log().data)
    local a = Value(0)
    local y = a ^ 0.5
    y:backward()
    assert.equal(huge, a.grad)
  end)

  it("mg.detect_anomaly() and (nil) say whether it is on", function()
    local guard = mg.detect_anomaly(true)
    assert.is_true(mg.detect_anomaly())
    assert.is_true(mg.detect_anomaly(nil))
    guard:close()
    assert.is_false(mg.detect_anomaly())
  end)

  it("checks its argument", function()
    assert.equal("bad argument #1 to 'detect_anomaly' (boolean or nil expected, got number)",
      error_of(mg.detect_anomaly, 1))
    assert.equal("bad argument #1 to 'detect_anomaly' (boolean or nil expected, got string)",
      error_of(mg.detect_anomaly, "on"))
    assert.is_false(mg.detect_anomaly())
  end)
end)

describe("detect_anomaly's guard", function()
  after_each(function()
    mg.detect_anomaly(false)
  end)

  if check.lua54 then check.lua54_block([==[
  it("restores the previous mode when a <close> block ends", function()
    do
      local _ <close> = mg.detect_anomaly(true)
      assert.is_true(mg.detect_anomaly())
    end
    assert.is_false(mg.detect_anomaly())
  end)
  ]==], { mg = mg }) else
    pending("restores the previous mode when a <close> block ends"
      .. " (<close> is Lua 5.4)")
  end

  if check.lua54 then check.lua54_block([==[
  it("nests", function()
    do
      local _ <close> = mg.detect_anomaly(true)
      do
        local _ <close> = mg.detect_anomaly(false)
        assert.is_false(mg.detect_anomaly())
        assert.is_true(Value(-1):log().data ~= Value(-1):log().data)
        do
          local _ <close> = mg.detect_anomaly(true)
          assert.is_true(mg.detect_anomaly())
        end
        assert.is_false(mg.detect_anomaly())
      end
      assert.is_true(mg.detect_anomaly())
    end
    assert.is_false(mg.detect_anomaly())
  end)
  ]==], { Value = Value, mg = mg }) else
    pending("nests"
      .. " (<close> is Lua 5.4)")
  end

  if check.lua54 then check.lua54_block([==[
  it("restores the mode when the block ends with an error, and closing twice does nothing", function()
    local guard
    local ok = pcall(function()
      local g <close> = mg.detect_anomaly(true)
      guard = g
      return Value(-1):log()
    end)
    assert.is_false(ok)
    assert.is_false(mg.detect_anomaly())
    mg.detect_anomaly(true)
    guard:close()
    assert.is_true(mg.detect_anomaly()) -- already closed: leaves the mode alone
  end)
  ]==], { Value = Value, mg = mg }) else
    pending("restores the mode when the block ends with an error, and closing twice does nothing"
      .. " (<close> is Lua 5.4)")
  end

  it("is not needed: a plain call turns the mode on until turned off", function()
    mg.detect_anomaly(true)
    collectgarbage()
    collectgarbage() -- a dropped guard changes nothing
    assert.is_true(mg.detect_anomaly())
    mg.detect_anomaly(false)
    assert.is_false(mg.detect_anomaly())
  end)
end)

describe("detect_anomaly's function form, detect_anomaly(on, fn, ...)", function()
  after_each(function()
    mg.detect_anomaly(false)
  end)

  it("calls fn(...) with the mode on and returns all its results, nils too", function()
    local seen
    local r = check.pack(mg.detect_anomaly(true, function(a, b, c)
      seen = mg.detect_anomaly()
      return c, nil, a + b, nil
    end, 1, 2, "x"))
    assert.is_true(seen)
    assert.same({ n = 4, "x", nil, 3, nil }, r)
    assert.is_false(mg.detect_anomaly())
  end)

  it("ends the switch when fn raises, and the error goes on unchanged", function()
    local err = error_of(mg.detect_anomaly, true, function()
      local y = Value(-1):log() -- the anomaly this line makes
      return y
    end)
    assert.matches("micrograd: anomaly: 'log' produced nan", err, 1, true)
    assert.is_false(mg.detect_anomaly())
    local obj = {}
    local ok, e = pcall(mg.detect_anomaly, true, function() error(obj) end)
    assert.is_false(ok)
    assert.equal(obj, e) -- error objects are not touched
    assert.is_false(mg.detect_anomaly())
  end)

  it("nests with plain switches and restores the mode before the call", function()
    mg.detect_anomaly(true)
    local inner = mg.detect_anomaly(false, function()
      return mg.detect_anomaly(true, function() return mg.detect_anomaly() end), mg.detect_anomaly()
    end)
    assert.is_true(inner)
    assert.is_true(mg.detect_anomaly())
  end)

  it("takes a callable object and checks fn", function()
    local callable = setmetatable({}, { __call = function(_, x) return x * 2, mg.detect_anomaly() end })
    assert.same({ 8, true }, { mg.detect_anomaly(true, callable, 4) })
    assert.equal("bad argument #2 to 'detect_anomaly' (function or none expected, got number)",
      error_of(mg.detect_anomaly, true, 3))
    assert.equal("bad argument #2 to 'detect_anomaly' (function or none expected, got table)",
      error_of(mg.detect_anomaly, true, {}))
    assert.is_false(mg.detect_anomaly())
  end)
end)

describe("detect_anomaly in the forward pass", function()
  it("names the op, its operands and the line that made a nan", detecting(function()
    local x = Value(-1)
    local at, err = line(), error_of(function() local r = x:log() return r end)
    assert.equal(message("'log' produced nan (operand -1.0", at), err)
  end))

  it("catches 0 * inf, inf from exp and log, and pow", detecting(function()
    local at, err = line(), error_of(function() return Value(0) * Value(huge) end)
    assert.equal(message("'*' produced nan (operands 0.0, inf", at), err)
    at, err = line(), error_of(function() local r = Value(1000):exp() return r end)
    assert.equal(message("'exp' produced inf (operand 1000.0", at), err)
    at, err = line(), error_of(function() local r = Value(0):log() return r end)
    assert.equal(message("'log' produced -inf (operand 0.0", at), err)
    at, err = line(), error_of(function() return Value(-8) ^ 0.5 end)
    assert.equal(message("'^' produced nan (operands -8.0, 0.5", at), err)
    at, err = line(), error_of(function() return 0 / Value(0) end)
    assert.equal(message("'/' produced nan (operands 0.0, 0.0", at), err)
    assert.truthy(error_of(function() return Value(1e308) + 1e308 end):find("'+' produced inf", 1, true))
    assert.truthy(error_of(function() return -Value(1e308) - 1e308 end):find("'-' produced -inf", 1, true))
    assert.truthy(error_of(function() local r = Value(-1):sqrt() return r end)
      :find("'sqrt' produced nan", 1, true))
  end))

  it("catches sum and dot, listing their first operands", detecting(function()
    local at, err = line(), error_of(function() local r = mg.sum({ 1e308, Value(1e308) }) return r end)
    assert.equal(message("'sum' produced inf (operands 1e+308, 1e+308", at), err)
    local ws, xs = {}, {}
    for i = 1, 5 do ws[i], xs[i] = Value(1e300), 1e100 end
    at, err = line(), error_of(function() local r = mg.dot(ws, xs, 1) return r end)
    assert.equal(message("'dot' produced inf (operands 1.0, 1e+300, 1e+100, 1e+300, 1e+100, 1e+300,"
      .. " ... (11 in all)", at), err)
    err = error_of(mg.dot, mg.vector(ws), mg.vector(xs))
    assert.truthy(err:find("'dot' produced inf (operands 1e+300, 1e+100,", 1, true))
  end))

  it("blames the op that made the nan or inf, not the ops it flows through", detecting(function()
    assert.equal(huge, (Value(huge) + 1).data) -- an infinite leaf is the user's
    local nan = Value(0 / 0) * 2
    assert.is_true(nan.data ~= nan.data)
    local err = error_of(function() return Value(huge) * 0 end) -- but inf * 0 makes a new nan
    assert.truthy(err:find("'*' produced nan (operands inf, 0.0;", 1, true))
    assert.truthy(error_of(function() return Value(huge) - huge end):find("'-' produced nan", 1, true))
  end))

  it("raises nothing for finite results", detecting(function()
    local x, y = Value(2), Value(-3)
    local z = ((x * y + x / y - x ^ 2):tanh() + x:exp() + x:log() + y:relu() + y:sigmoid() + y:abs()
      + x:sqrt() + y:softplus())
    z:backward()
    assert.is_true(x.grad == x.grad and y.grad == y.grad)
  end))

  it("works under no_grad", detecting(function()
    local x = Value(-1)
    local at, err = line(), error_of(mg.no_grad, function() local r = x:log() return r end)
    assert.equal(message("'log' produced nan (operand -1.0", at), err)
    local err0 = error_of(mg.no_grad, function() return Value(0) * huge end)
    assert.truthy(err0:find("'*' produced nan", 1, true))
    assert.truthy(error_of(mg.no_grad, mg.sum, { 1e308, 1e308 }):find("'sum' produced inf", 1, true))
    local y = mg.no_grad(function() return x * 2 end)
    assert.equal("", y.op)
    assert.equal(-2, y.data)
  end))
end)

describe("detect_anomaly and compile", function()
  it("does not check ops on the placeholders mg.compile traces with", detecting(function()
    local w = Value(2)
    local graph = mg.compile(function(x) return (x * w):log() end, 1) -- log(0 * 2) while tracing
    assert.is_not_nil(graph)
    assert.truthy(error_of(function() local r = (Value(0) * w):log() return r end)
      :find("'log' produced -inf", 1, true))
  end))

  -- "...; created at <this file>:<at>; replayed by a compiled graph)"
  local function replayed(what, at)
    return ("micrograd: anomaly: %s; created at %s:%d; replayed by a compiled graph)"):format(what, here, at)
  end

  it("checks a compiled graph's forward, naming the traced line (compiled with it off)", function()
    local w = Value(2)
    local at = line() + 1
    local graph = mg.compile(function(x) return (x * w):log() * 3 end, 1)
    assert.is_true(graph(-1) ~= graph(-1)) -- off: a NaN, no error
    check.with_anomaly(true, function()
      assert.are.equal(replayed("'log' produced nan (operand -2.0", at), error_of(graph, -1))
      assert.are.equal(3 * math.log(2), graph(1))
    end)
  end)

  it("checks a compiled graph's backward; the grads change only when it is clean", detecting(function()
    local w = Value(1)
    local at = line() + 1
    local graph = mg.compile(function(x) return x ^ 0.5 * w end, 1)
    graph(0)
    assert.are.equal(replayed("backward of '^' produced inf gradient for operand #1 (operands 0.0, 0.5", at),
      error_of(graph.backward, graph))
    assert.are.equal(0, w.grad)
    graph(4)
    graph:backward()
    assert.are.equal(2, w.grad)
    -- run_batch: the rows before the bad one count, as backward() per row would
    w.grad = 0
    assert.truthy(error_of(graph.run_batch, graph, { { 9 }, { 0 }, { 4 } }):find("backward of '^'", 1, true))
    assert.are.equal(3, w.grad)
    assert.are.equal(5, graph:run_batch({ { 9 }, { 4 } }))
    assert.are.equal(8, w.grad)
  end))

  it("checks dots in a compiled graph, showing their first operands", detecting(function()
    local w = Value(1)
    local at = line() + 1
    local graph = mg.compile(function(x) return mg.dot({ w, w, w, w }, { x, x, x, x }, 1):exp() end, 1)
    assert.are.equal(replayed("'exp' produced inf (operand 4001.0", at), error_of(graph, 1000))
    local g2 = mg.compile(function(x) return mg.dot({ w, w, w, w }, { x, x, x, x }, -huge) end, 1)
    local shown = "'dot' produced nan (operands -inf, 1.0, inf, 1.0, inf, 1.0, ... (9 in all)"
    assert.truthy(error_of(g2, huge):find(shown, 1, true))
  end))
end)

describe("detect_anomaly in backward", function()
  after_each(function()
    mg.detect_anomaly(false)
  end)

  it("names the op, the operand, its values and the line that made the node", detecting(function()
    local a = Value(0)
    local at, y = line(), a ^ 0.5 -- d sqrt(a) / da is inf at 0
    local z = y * 3
    local err = error_of(z.backward, z)
    assert.equal(message("backward of '^' produced inf gradient for operand #1 (operands 0.0, 0.5", at), err)
  end))

  it("catches a nan gradient", detecting(function()
    local p = Value(2)
    local at, y = line(), Value(-2) ^ p -- finite, but d/dp = y log(-2) is nan
    assert.equal(4, y.data)
    local err = error_of(y.backward, y)
    assert.equal(message("backward of '^' produced nan gradient for operand #2 (operands -2.0, 2.0", at),
      err)
    local b = Value(1e-200)
    at, y = line(), 1 / b -- 1e200, but d/db = -1/b^2 overflows
    err = error_of(y.backward, y)
    assert.equal(message("backward of '/' produced -inf gradient for operand #2 (operands 1.0, 1e-200", at),
      err)
    local x = Value(0)
    at, y = line(), x:sqrt()
    err = error_of(y.backward, y)
    assert.equal(message("backward of 'sqrt' produced inf gradient for operand #1 (operand 0.0", at), err)
  end))

  it("says when finite gradients overflow as they add up", detecting(function()
    local x = Value(1e-10)
    local at, s = line(), x * 1e308 + x * 1e308 -- the second * sends the gradient that overflows
    local err = error_of(s.backward, s)
    assert.equal(message("backward of '*' sent gradient 1e+308 to operand #1, whose gradient overflowed"
      .. " to inf (operands 1e-10, 1e+308", at), err)
  end))

  it("counts sum and dot operands from 1, bias first", detecting(function()
    local w1, w2 = Value(1), Value(0)
    local at, d = line(), mg.dot({ w1, w2 }, { 2, 1e308 }, 5)
    local r = d * 10 -- d's gradient is 10: w2's, 1e308 * 10, overflows
    local err = error_of(r.backward, r)
    assert.equal(message("backward of 'dot' produced inf gradient for operand #4"
      .. " (operands 5.0, 1.0, 2.0, 0.0, 1e+308", at), err)
  end))

  it("changes no grad, and the graph still works afterwards", function()
    local a, b = Value(0), Value(2)
    local y
    check.with_anomaly(true, function()
      y = a ^ 0.5 * b
      error_of(y.backward, y)
      assert.equal(0, a.grad)
      assert.equal(0, b.grad)
      assert.equal(0, y.grad)
    end)
    y:backward() -- off: IEEE results
    assert.equal(huge, a.grad)
    assert.equal(0, b.grad)
    assert.equal(1, y.grad)
    local c = Value(3)
    local z = c * b + a
    check.with_anomaly(true, function() z:backward() end)
    assert.equal(2, c.grad)
    assert.equal(3, b.grad)
  end)

  it("gives the same gradients as without it", function()
    local function grads(on)
      return check.with_anomaly(on, function()
        local x, y = Value(0.3), Value(-1.7)
        local z = mg.sum({ (x * y):tanh(), x:exp() / y, mg.dot({ x, y }, { y, x }, 0.5), (x ^ y):sigmoid() })
        z:backward()
        return { x.grad, y.grad }
      end)
    end
    assert.same(grads(false), grads(true))
  end)

  it("says when the node was made with detect_anomaly off", function()
    local y = Value(0) ^ 0.5
    local err = check.with_anomaly(true, error_of, y.backward, y)
    assert.equal("micrograd: anomaly: backward of '^' produced inf gradient for operand #1"
      .. " (operands 0.0, 0.5; made while detect_anomaly was off)", err)
  end)
end)

describe("detect_anomaly's places", function()
  after_each(function()
    mg.detect_anomaly(false)
  end)

  -- (a coroutine whose body is a C function: Lua 5.1 makes coroutines of Lua functions only)
  local c_coroutines = pcall(coroutine.wrap, print)
  local run_c = c_coroutines and it or pending
  run_c("are missing for ops run by C code with no Lua function on the stack", detecting(function()
    local x = Value(-1)
    local err = error_of(coroutine.wrap(x.log), x)
    assert.equal("micrograd: anomaly: 'log' produced nan (operand -1.0)", err)
    local y = coroutine.wrap(x.sqrt)(Value(0))
    err = error_of(y.backward, y)
    assert.equal("micrograd: anomaly: backward of 'sqrt' produced inf gradient for operand #1 (operand 0.0;"
      .. " created by C code, outside any Lua function)", err)
  end))

  it("are kept for the first 4094 lines; later nodes say so", detecting(function()
    local a = Value(0)
    local at, early = line(), a:sqrt()
    for i = 1, 4100 do
      assert(check.load("local a = ... return a * 2", "=place " .. i))(a)
    end
    local late = assert(check.load("local a = ... return a:sqrt()", "=late"))(a)
    local err = error_of(late.backward, late)
    assert.equal("micrograd: anomaly: backward of 'sqrt' produced inf gradient for operand #1 (operand 0.0;"
      .. " made after too many places were recorded to keep its own)", err)
    err = error_of(early.backward, early)
    assert.truthy(err:find("created at " .. here .. ":" .. at .. ")", 1, true), err)
  end))
end)

describe("detect_anomaly with nn", function()
  after_each(function()
    mg.detect_anomaly(false)
  end)

  it("names the line of micrograd's module and the line of the caller", detecting(function()
    mg.seed(3)
    local model = mg.nn.MLP(2, { 4, 1 })
    local err
    for _ = 1, 200 do -- a learning rate far too large: the weights blow up
      local at
      local ok, e = pcall(function()
        at = line(); local loss = mg.loss.mse({ model({ 3, -2 }) }, { 1 })
        model:zero_grad()
        loss:backward()
        for _, p in ipairs(model:parameters()) do p.data = p.data - 50 * p.grad end
      end)
      if not ok then
        err = e
        assert.truthy(err:find(", called from " .. here .. ":" .. at .. ")", 1, true), err)
        break
      end
    end
    assert.is_string(err, "the weights never overflowed")
    local pattern = "^micrograd: anomaly: .*produced.*; created at .*micrograd/%a+%.lua:%d+, called from "
    assert.truthy(err:find(pattern), err)
  end))

  it("names the loss's line for a loss that overflows", detecting(function()
    local model = mg.nn.MLP(1, { 1 })
    for _, p in ipairs(model:parameters()) do p.data = 1e200 end
    local out = model({ 1 })
    assert.equal(2e200, out.data)
    local at, err = line(), error_of(function() local loss = mg.loss.mse({ out }, { 0 }); return loss end)
    assert.truthy(err:find("^micrograd: anomaly: '%*' produced inf %(operands 2e%+200, 2e%+200; created at "
      .. ".*micrograd/loss%.lua:%d+, called from " .. here:gsub("%p", "%%%0") .. ":" .. at .. "%)$"), err)
  end))
end)
