-- mg.compile replays what the dynamic engine computes: x:detach() inside a
-- traced function is a stop-gradient that passes the value at each replay,
-- and the marks tracing leaves on Values end with their compile (a Value
-- made during one compile is an ordinary Value for the next).
local check = require("spec.helpers.check")
local mg = require("micrograd")
local Value = mg.Value

describe("detach while tracing", function()
  it("passes the input's value at each replay, and no gradient", function()
    local p = Value(3)
    local function f(x) return x:detach() * 2 + x * p end
    local g = mg.compile(f, 1)
    local x = Value(5)
    local y = f(x)
    y:backward()
    assert.equal(y.data, g(5)) -- 10 + 15; the frozen placeholder gave 0 + 15
    assert.equal(2 * 7 + 7 * 3, g(7))
    p.grad = 0
    g(5)
    g:backward()
    assert.same({ x.grad }, g:input_grads()) -- 3: nothing through the detached branch
    assert.equal(5, p.grad)
  end)

  it("of a captured Value reads it live, as the dynamic code does", function()
    local p = Value(2)
    local g = mg.compile(function(x) return x * p:detach() end, 1)
    assert.equal(10, g(5))
    p.data = 4
    assert.equal(20, g(5))
    g:backward()
    assert.equal(0, p.grad)
    assert.same({ 4 }, g:input_grads())
  end)

  it("is a leaf outside tracing, and refused under no_grad on an input", function()
    local v = Value(2) * 3
    assert.equal("", v:detach().op)
    local err = select(2, pcall(mg.compile, function(x)
      return mg.no_grad(function() return x:detach() end)
    end, 1))
    assert.matches("cannot be replayed", err)
    local g = mg.compile(function(x)
      local k = mg.no_grad(function() return v:detach() end) -- no input: a constant
      return x * k
    end, 1)
    assert.equal(12, g(2))
  end)
end)

describe("the marks of a compile end with it", function()
  it("a parameter made lazily during one compile is a live leaf in later ones", function()
    local w
    local function model(x)
      w = w or Value(0.5, "w") -- made the first time the model runs
      return x * w
    end
    local first = mg.compile(model, 1)
    assert.equal(1, first(2))
    local second = mg.compile(model, 1)
    assert.equal(1, second.parameters)
    assert.equal(1, second(2))
    second:backward()
    assert.equal(2, w.grad) -- a constant in the second compile gave 0
    w.data = 3
    assert.equal(6, second(2))
  end)

  it("a Value left from a failed trace is a captured Value in the next", function()
    local leftover
    local ok = pcall(mg.compile, function(x)
      leftover = (x + 1) * 2
      if x < 0 then return x end -- data-dependent: refused
    end, 1)
    assert.is_false(ok)
    local p = Value(3)
    local g = mg.compile(function(x) return x * p + leftover end, 1)
    assert.equal(1, g.inputs)
    assert.equal(2, g.parameters) -- p and the leftover, read live
    assert.equal(2 * 3 + leftover.data, g(2))
    g:backward()
    assert.equal(1, leftover.grad)
    assert.equal(2, p.grad)
    assert.same({ 3 }, g:input_grads())
  end)

  it("a placeholder kept from one compile is an ordinary Value afterwards", function()
    local kept
    mg.compile(function(x)
      kept = x
      return x * 2
    end, { 4 })
    local g = mg.compile(function(x) return x + kept end, 1)
    assert.equal(1, g.parameters)
    assert.equal(5, g(1))
    local five = check.mixed_compare and 5 or Value(5) -- (5.1 and LuaJIT compare two Values only)
    local h = mg.compile(function(y) -- comparing it is no data-dependent control flow any more
      if kept < five then return y end
      return y * 2
    end, 1)
    assert.equal(3, h(3))
  end)
end)
