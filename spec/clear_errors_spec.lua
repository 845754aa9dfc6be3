-- Errors that say what is wrong: a closed compiled graph says it is closed,
-- micrograd.core required twice in one state is the same module, and the
-- messages show what was passed (a numeric string is a string, a closed
-- file a closed file).
local mg = require("micrograd")
local check = require("spec.helpers.check")

describe("a closed compiled graph", function()
  local function closed_graph()
    local p = mg.Value(2)
    local g = mg.compile(function(x, y) return x * p + y, x end, 2)
    g(1, 2)
    g:backward()
    g:close()
    return g
  end

  it("says it is closed in every method and field", function()
    local g = closed_graph()
    local calls = {
      forward = function() return g:forward(1, 2) end,
      call = function() return g(1, 2) end,
      backward = function() return g:backward() end,
      input_grads = function() return g:input_grads() end,
      run_batch = function() return g:run_batch({ { 1, 2 } }) end,
      nodes = function() return g.nodes end,
      inputs = function() return g.inputs end,
      outputs = function() return g.outputs end,
      parameters = function() return g.parameters end,
    }
    for name, call in pairs(calls) do
      local err = check.error_of(call)
      assert.truthy(err:find("compiled graph is closed", 1, true), name .. ": " .. err)
      assert.falsy(err:find("got micrograd.Graph", 1, true), name .. ": " .. err)
    end
    assert.matches("bad argument #1 to 'forward' %(compiled graph is closed%)",
      check.error_of(g.forward, g, 1, 2))
  end)

  it("has a string form, and closing again (or a <close> scope) is harmless", function()
    local g = closed_graph()
    assert.equal("compiled graph (closed)", tostring(g))
    g:close()
    getmetatable(g).__close(g)
    if check.lua54 then -- (<close> is Lua 5.4 syntax)
      check.lua54_block([==[
    do
      local h <close> = mg.compile(function(x) return x * 2 end, 1)
      assert.equal(6, h(3))
    end
]==], { mg = mg })
    end
    assert.matches("^compiled graph: 2 inputs", tostring(mg.compile(function(x, y) return x + y end, 2)))
  end)
end)

describe("micrograd.core required twice in one state", function()
  it("gives the same module: Values, graphs and modes work together", function()
    local core = require("micrograd.core")
    local a = core.Value(2)
    package.loaded["micrograd.core"] = nil
    local again = require("micrograd.core")
    assert.equal(core, again)
    local b = again.Value(3)
    local c = a * b -- "number or Value expected, got Value" with two instances
    c:backward()
    assert.equal(3, a.grad)
    assert.is_true(core.is_value(b) and again.is_value(a))
    local g = again.compile(function(x) return x * a end, 1)
    local guard = core.detect_anomaly(true)
    assert.truthy(check.error_of(g, 1e308):find("anomaly", 1, true))
    guard:close()
  end)

  it("as a hot reload of every micrograd module does", function()
    local before = mg.Value(1)
    for name in pairs(package.loaded) do
      if name == "micrograd" or name:match("^micrograd%.") then package.loaded[name] = nil end
    end
    local reloaded = require("micrograd")
    local model = reloaded.nn.MLP(1, { 2, 1 })
    local out = model({ before })
    out:backward()
    assert.is_true(reloaded.is_value(out) and mg.is_value(out))
  end)
end)

describe("messages show what was passed", function()
  it("a numeric string is a string", function()
    local err = check.error_of(mg.gradcheck, function(x) return x * x end, { "2" })
    assert.truthy(err:find('got string "2"', 1, true), err)
    err = check.error_of(mg.nn.MLP, "2", { 1 })
    assert.truthy(err:find('got string "2"', 1, true), err)
  end)

  it("a closed file is a closed file", function()
    local f = io.tmpfile()
    f:close()
    for _, call in ipairs({
      function() return mg.Value(f) end,
      function() return mg.Value(1, f) end,
      function() return mg.sum({ f }) end,
      function() return mg.Value(1) + f end,
      function()
        local X, y = mg.data.make_moons(4, { seed = 1 })
        return mg.train.fit(mg.nn.MLP(2, { 2, 1 }), X, y, { steps = 1, progress = f })
      end,
    }) do
      local err = check.error_of(call)
      assert.truthy(err:find("got closed file", 1, true), err)
    end
    local open = io.tmpfile()
    assert.truthy(check.error_of(mg.Value, open):find("got file", 1, true))
    open:close()
  end)
end)
