local check = require("spec.helpers.check")
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
  if check.lua54 then check.lua54_block([==[
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
  ]==], { Value = Value, mg = mg }) else
    pending("turns grad mode off for the block"
      .. " (<close> is Lua 5.4)")
  end

  if check.lua54 then check.lua54_block([==[
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
  ]==], { mg = mg }) else
    pending("nests, alone and with no_grad(fn)"
      .. " (<close> is Lua 5.4)")
  end

  if check.lua54 then check.lua54_block([==[
  it("restores grad mode when the block raises an error", function()
    local ok, err = pcall(function()
      local g <close> = mg.no_grad() -- luacheck: ignore 211
      error("inside", 0)
    end)
    assert.is_false(ok)
    assert.equal("inside", err)
    assert.is_true(mg.grad_enabled())
  end)
  ]==], { mg = mg }) else
    pending("restores grad mode when the block raises an error"
      .. " (<close> is Lua 5.4)")
  end

  if check.lua54 then check.lua54_block([==[
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
  ]==], { mg = mg }) else
    pending("restores grad mode when the function returns early"
      .. " (<close> is Lua 5.4)")
  end
end)

-- SPEC: modes (no_grad, detect_anomaly, tracing for mg.compile) never leak.
describe("modes never leak", function()
  -- Collects until the finalizers of what was dropped have run.
  local function collect()
    collectgarbage()
    collectgarbage()
  end

  -- Whether ops record a graph, asked both ways.
  local function recording()
    local enabled = mg.grad_enabled()
    assert.equal(enabled, (Value(1) + 1).op == "+")
    return enabled
  end

  after_each(function()
    mg.detect_anomaly(false)
    collect()
  end)

  describe("no_grad", function()
    if check.lua54 then check.lua54_block([==[
    it("ends a <close> scope when its suspended coroutine is closed", function()
      local co = coroutine.create(function()
        local _ <close> = mg.no_grad()
        coroutine.yield(mg.grad_enabled())
      end)
      assert.same({ true, false }, { coroutine.resume(co) })
      assert.is_true(coroutine.close(co))
      assert.is_true(recording())
    end)
    ]==], { mg = mg, recording = recording }) else
      pending("ends a <close> scope when its suspended coroutine is closed"
        .. " (<close> is Lua 5.4)")
    end

    if check.lua54 then check.lua54_block([==[
    it("ends a no_grad(fn) scope when its suspended coroutine is closed", function()
      local co = coroutine.create(function()
        mg.no_grad(function() coroutine.yield(mg.grad_enabled()) end)
      end)
      assert.same({ true, false }, { coroutine.resume(co) })
      assert.is_true(coroutine.close(co))
      assert.is_true(recording())
    end)
    ]==], { mg = mg, recording = recording }) else
      pending("ends a no_grad(fn) scope when its suspended coroutine is closed"
        .. " (coroutine.close is Lua 5.4)")
    end

    it("ends the no_grad(fn) scope of a coroutine abandoned inside it when it is collected", function()
      local co = coroutine.create(function()
        mg.no_grad(function() coroutine.yield() end) -- (5.1 and LuaJIT refuse the yield: an error)
      end)
      coroutine.resume(co)
      co = nil -- luacheck: ignore 311
      collect()
      assert.is_true(recording())
    end)

    if check.lua54 then check.lua54_block([==[
    it("ends the scopes of a coroutine abandoned inside them when it is collected", function()
      local co = coroutine.create(function()
        local _ <close> = mg.no_grad()
        mg.no_grad(function()
          local g = mg.no_grad() -- luacheck: ignore 211 (never closed)
          coroutine.yield()
        end)
      end)
      coroutine.resume(co)
      co = nil -- luacheck: ignore 311
      collect()
      assert.is_true(recording())
    end)
    ]==], { collect = collect, mg = mg, recording = recording }) else
      pending("ends the scopes of a coroutine abandoned inside them when it is collected"
        .. " (<close> is Lua 5.4)")
    end

    if check.lua54 then check.lua54_block([==[
    it("ends the scopes of a coroutine that died of an error when it is closed or collected", function()
      local co = coroutine.create(function()
        local _ <close> = mg.no_grad()
        error("boom", 0) -- a coroutine's error does not unwind its stack
      end)
      assert.same({ false, "boom" }, { coroutine.resume(co) })
      assert.same({ false, "boom" }, { coroutine.close(co) })
      assert.is_true(recording())
      -- a host that raises between resume and close drops the coroutine
      assert.is_false(pcall(function()
        local c = coroutine.create(function() mg.no_grad(function() error("inner") end) end)
        coroutine.resume(c)
        error("host")
      end))
      collect()
      assert.is_true(recording())
    end)
    ]==], { collect = collect, mg = mg, recording = recording }) else
      pending("ends the scopes of a coroutine that died of an error when it is closed or collected"
        .. " (<close> is Lua 5.4)")
    end

    it("ends a dropped guard's scope when the guard is collected", function()
      mg.no_grad()
      collect()
      assert.is_true(recording())
    end)

    it("guard methods check their argument, and a finalizer called by hand is a close", function()
      local g = mg.no_grad()
      local close, gc = g.close, getmetatable(g).__gc
      local ok, err = pcall(close, 5)
      assert.is_false(ok)
      assert.equal("bad argument #1 to 'close' (no_grad guard expected, got number)", err)
      gc({})
      assert.is_false(mg.grad_enabled())
      gc(g)
      assert.is_true(recording())
      close(g)
      assert.is_true(recording())
    end)

    it("lets scopes end in any order", function()
      local a, b = mg.no_grad(), mg.no_grad()
      a:close()
      assert.is_false(mg.grad_enabled())
      a:close() -- twice: nothing more
      assert.is_false(mg.grad_enabled())
      b:close()
      assert.is_true(recording())
      -- closing a scope that a coroutine opened, from outside it
      local co = coroutine.wrap(function()
        local g = mg.no_grad()
        coroutine.yield(g)
      end)
      co():close()
      assert.is_true(recording())
    end)
  end)

  if check.lua54 then check.lua54_block([==[
  it("lets an op end as it began when a scope ends in a finalizer the op's allocation ran", function()
    -- each coroutine's scope ends when the collector finds it: often inside
    -- the next op's allocations, with the GC stepping at every one
    local xs, ws = {}, {}
    for j = 1, 10 do xs[j], ws[j] = Value(j), Value(1) end
    local vx = mg.vector(xs)
    local function abandon()
      coroutine.resume(coroutine.create(function()
        local _ <close> = mg.no_grad()
        coroutine.yield()
      end))
    end
    local broken = 0
    local function check(v)
      if v.op ~= "" then
        local children = v:children()
        for j = 1, #children do
          if not mg.is_value(children[j]) then broken = broken + 1 end
        end
      end
    end
    collectgarbage("incremental", 1, 1000, 0)
    for _ = 1, 300 do
      abandon()
      check(mg.sum(xs))
      abandon()
      check(mg.dot(ws, xs, 1))
      abandon()
      check(mg.dot(vx, vx))
    end
    collectgarbage("incremental", 200, 100, 13)
    assert.equal(0, broken)
    collect()
    assert.is_true(recording())
  end)
  ]==], { Value = Value, collect = collect, mg = mg, recording = recording }) else
    pending("lets an op end as it began when a scope ends in a finalizer the op's allocation ran"
      .. " (<close> is Lua 5.4)")
  end

  describe("tracing", function()
    it("leaves grad mode as it was when a scope opened in the traced function ends after compile", function()
      local guard
      local g = mg.compile(function(x)
        local y = x * 2
        guard = mg.no_grad()
        return y
      end, 1)
      assert.equal(6, g(3))
      assert.is_false(mg.grad_enabled()) -- the scope is still open
      guard:close()
      assert.is_true(recording())
    end)

    it("traces in grad mode when a scope opened before compile closes in the traced function", function()
      local outer = mg.no_grad()
      local g = mg.compile(function(x)
        outer:close()
        return x * 2
      end, 1)
      assert.equal(8, g(4))
      assert.is_true(recording())
      -- and a scope opened and closed in the traced function ends there
      local inner = mg.no_grad()
      g = mg.compile(function(x)
        local y = x * 3
        mg.no_grad(function() inner:close() end)
        return y
      end, 1)
      assert.equal(9, g(3))
      assert.is_true(recording())
    end)

    if check.lua54 then check.lua54_block([==[
    it("ends when the traced function raises in a coroutine that is never closed", function()
      local co = coroutine.create(function()
        mg.compile(function()
          local _ <close> = mg.no_grad()
          error("boom", 0)
        end, 0)
      end)
      assert.same({ false, "boom" }, { coroutine.resume(co) })
      local g = mg.compile(function(x) return x + 1 end, 1) -- not "while tracing another function"
      assert.equal(3, g(2))
      assert.is_true(Value(1) < Value(2))
      coroutine.close(co)
      assert.is_true(recording())
    end)
    ]==], { Value = Value, mg = mg, recording = recording }) else
      pending("ends when the traced function raises in a coroutine that is never closed"
        .. " (<close> is Lua 5.4)")
    end

    it("ends when the traced function tries to yield", function()
      local co = coroutine.create(function()
        return mg.compile(function(x) coroutine.yield() return x end, 1)
      end)
      local ok, err = coroutine.resume(co)
      assert.is_false(ok)
      assert.truthy(err:find("yield", 1, true))
      assert.equal(2, mg.compile(function(x) return x * 2 end, 1)(1))
      assert.is_true(recording())
    end)

    if check.lua54 then check.lua54_block([==[
    it("keeps the scope of a coroutine suspended in the traced function until it is closed", function()
      local co
      local g = mg.compile(function(x)
        local y = x - 1
        co = coroutine.create(function() mg.no_grad(coroutine.yield) end)
        coroutine.resume(co)
        return y
      end, 1)
      assert.equal(1, g(2))
      assert.is_false(mg.grad_enabled())
      coroutine.close(co)
      assert.is_true(recording())
    end)
    ]==], { mg = mg, recording = recording }) else
      pending("keeps the scope of a coroutine suspended in the traced function until it is closed"
        .. " (coroutine.close is Lua 5.4)")
    end
  end)

  describe("all three", function()
    if check.lua54 then check.lua54_block([==[
    it("end together when a coroutine is abandoned inside them, compiling between yields", function()
      local co = coroutine.create(function()
        local _ <close> = mg.detect_anomaly(true)
        local g = mg.no_grad(function()
          coroutine.yield()
          return mg.compile(function(x)
            assert(mg.grad_enabled() and mg.detect_anomaly())
            return x * 2
          end, 1)
        end)
        coroutine.yield(g)
        mg.no_grad(coroutine.yield)
      end)
      coroutine.resume(co)
      assert.is_false(mg.grad_enabled())
      local _, g = coroutine.resume(co)
      assert.equal(6, g(3))
      assert.is_true(recording() and mg.detect_anomaly())
      coroutine.resume(co)
      assert.is_false(mg.grad_enabled())
      co = nil -- luacheck: ignore 311
      collect()
      assert.is_true(recording())
      assert.is_false(mg.detect_anomaly())
    end)
    ]==], { collect = collect, mg = mg, recording = recording }) else
      pending("end together when a coroutine is abandoned inside them, compiling between yields"
        .. " (<close> is Lua 5.4)")
    end

    if check.lua54 then check.lua54_block([==[
    it("end exactly when an error crosses them all", function()
      local _ <close> = mg.detect_anomaly(false)
      local ok = pcall(mg.no_grad, function()
        local _ <close> = mg.detect_anomaly(true)
        return mg.compile(function(x)
          local _ <close> = mg.no_grad()
          return x + {}
        end, 1)
      end)
      assert.is_false(ok)
      assert.is_true(recording())
      assert.is_false(mg.detect_anomaly())
    end)
    ]==], { mg = mg, recording = recording }) else
      pending("end exactly when an error crosses them all"
        .. " (<close> is Lua 5.4)")
    end
  end)

  describe("detect_anomaly", function()
    if check.lua54 then check.lua54_block([==[
    it("ends a <close> switch when its suspended coroutine is closed", function()
      local co = coroutine.create(function()
        local _ <close> = mg.detect_anomaly(true)
        coroutine.yield()
      end)
      coroutine.resume(co)
      assert.is_true(mg.detect_anomaly())
      coroutine.close(co)
      assert.is_false(mg.detect_anomaly())
    end)
    ]==], { mg = mg }) else
      pending("ends a <close> switch when its suspended coroutine is closed"
        .. " (<close> is Lua 5.4)")
    end

    it("ends the switches of an abandoned coroutine when it is collected", function()
      local co = coroutine.create(function()
        mg.detect_anomaly(true) -- a plain switch, never closed
        local _ = mg.no_grad()
        coroutine.yield()
      end)
      coroutine.resume(co)
      assert.is_true(mg.detect_anomaly())
      co = nil -- luacheck: ignore 311
      collect()
      assert.is_false(mg.detect_anomaly())
      assert.is_true(recording())
      coroutine.wrap(function() mg.detect_anomaly(true) end)() -- a finished coroutine's switch
      collect()
      assert.is_false(mg.detect_anomaly())
    end)

    if check.lua54 then check.lua54_block([==[
    it("ends the <close> switch of a coroutine dead of an error when it is closed or collected", function()
      local co = coroutine.create(function()
        local _ <close> = mg.detect_anomaly(true)
        error("boom", 0)
      end)
      assert.same({ false, "boom" }, { coroutine.resume(co) })
      coroutine.close(co)
      assert.is_false(mg.detect_anomaly())
      co = coroutine.create(function()
        local _ <close> = mg.detect_anomaly(true)
        error("boom", 0)
      end)
      coroutine.resume(co)
      co = nil -- luacheck: ignore 311
      collect()
      assert.is_false(mg.detect_anomaly())
    end)
    ]==], { collect = collect, mg = mg }) else
      pending("ends the <close> switch of a coroutine dead of an error when it is closed or collected"
        .. " (<close> is Lua 5.4)")
    end

    it("keeps a plain switch made in the main thread until the next switch", function()
      mg.detect_anomaly(true)
      collect()
      assert.is_true(mg.detect_anomaly())
      mg.detect_anomaly(false)
      collect()
      assert.is_false(mg.detect_anomaly())
    end)

    if check.lua54 then check.lua54_block([==[
    it("lets switches end in any order, the newest open one deciding", function()
      local a = mg.detect_anomaly(true)
      local b = mg.detect_anomaly(false)
      a:close()
      assert.is_false(mg.detect_anomaly())
      b:close()
      assert.is_false(mg.detect_anomaly())
      -- a coroutine's switch closed while the main thread's is open
      local co = coroutine.create(function()
        local _ <close> = mg.detect_anomaly(true)
        coroutine.yield()
      end)
      coroutine.resume(co)
      do
        local _ <close> = mg.detect_anomaly(false)
        coroutine.close(co)
        assert.is_false(mg.detect_anomaly())
      end
      assert.is_false(mg.detect_anomaly())
    end)
    ]==], { mg = mg }) else
      pending("lets switches end in any order, the newest open one deciding"
        .. " (<close> is Lua 5.4)")
    end

    if check.lua54 then check.lua54_block([==[
    it("is not changed by tracing: switches opened or closed in the traced function stay so", function()
      local inside
      local g = mg.compile(function(x)
        inside = mg.detect_anomaly(true)
        return x * 2
      end, 1)
      assert.equal(2, g(1))
      assert.is_true(mg.detect_anomaly())
      inside:close()
      assert.is_false(mg.detect_anomaly())
      local before = mg.detect_anomaly(true)
      g = mg.compile(function(x)
        before:close()
        return x * 2
      end, 1)
      assert.is_false(mg.detect_anomaly())
      assert.equal(4, g(2))
      -- an error in the traced function closes its <close> switch
      assert.is_false(pcall(mg.compile, function()
        local _ <close> = mg.detect_anomaly(true)
        error("boom")
      end, 0))
      assert.is_false(mg.detect_anomaly())
    end)
    ]==], { mg = mg }) else
      pending("is not changed by tracing: switches opened or closed in the traced function stay so"
        .. " (<close> is Lua 5.4)")
    end
  end)
end)
