-- micrograd._check: the one way the Lua modules raise argument errors,
-- describe values and check option tables.
local check = require("micrograd._check")
local mg = require("micrograd")

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  return err
end

describe("_check.arg_error", function()
  it("names the function and the argument, blaming the caller of the function that raises", function()
    local function public(x) check.arg_error("public", 1, "number expected, got " .. check.describe(x)) end
    local line = debug.getinfo(1, "l").currentline + 1
    local err = error_of(function() public({}) end)
    -- ctest gives busted the spec's absolute path
    local expected = "check_spec.lua:" .. line .. ": bad argument #1 to 'public' (number expected, got table)"
    assert.equal(expected, err:sub(-#expected))
  end)

  it("takes the level error() would take in the raising function", function()
    local function helper() check.arg_error("public", 2, "wrong", 3) end
    local function public() helper() end
    local line = debug.getinfo(1, "l").currentline + 1
    local err = error_of(function() public() end)
    local expected = "check_spec.lua:" .. line .. ": bad argument #2 to 'public' (wrong)"
    assert.equal(expected, err:sub(-#expected))
  end)

  it("says when a method is called on something else than its object", function()
    local Class = {}
    local function method(self) check.check_self(self, Class, "method", "Thing") end
    local err = error_of(method, 5)
    assert.truthy(err:find("calling 'method' on bad self (Thing expected, got number)", 1, true))
    method(setmetatable({}, Class)) -- no error
  end)
end)

describe("_check's describers", function()
  it("name Values, files and closed files, and show numbers by value", function()
    local f = io.tmpfile()
    assert.equal("file", check.type_name(f))
    f:close()
    assert.equal("closed file", check.type_name(f))
    assert.equal("Value", check.describe(mg.Value(1)))
    assert.equal("2.5", check.describe(2.5))
    assert.equal("nan", check.describe(0 / 0))
    assert.equal("string", check.describe("2"))
    assert.equal('string "2"', check.describe("2", true)) -- a numeric string is a string
    assert.truthy(check.describe(string.rep("x", 100), true):find("(100 bytes)", 1, true))
    assert.equal("'hinge'", check.show("hinge"))
    assert.equal("true", check.show(true))
    assert.equal('"graph.jpg"', check.quoted("graph.jpg"))
    assert.equal("number", check.quoted(3))
  end)
end)

describe("_check.options", function()
  local schema = {
    { "seed", check.rule("integer", function(v) return type(v) == "number" and v == math.floor(v) end) },
    { "noise", { must = "a number >= 0", test = function(v) return type(v) == "number" and v >= 0 end,
      convert = function(v) return v * 2 end }, 0 },
    { "free", true, "default" },
  }

  it("fills in defaults, converts, and checks nothing for rules that are true", function()
    local o = check.options("f", 2, nil, schema)
    assert.same({ noise = 0, free = "default" }, o)
    o = check.options("f", 2, { seed = 3, noise = 1.5, free = {} }, schema)
    assert.equal(3, o.seed)
    assert.equal(3, o.noise)
    assert.same({}, o.free)
  end)

  it("refuses other tables, unknown names and values that break a rule", function()
    local function says(opts, text)
      local err = error_of(check.options, "f", 2, opts, schema)
      assert.truthy(err:find("bad argument #2 to 'f' (" .. text .. ")", 1, true), err)
    end
    says(5, "options table expected, got number")
    says({ sede = 1 }, "unknown option 'sede'")
    says({ seed = 1.5 }, "option 'seed': integer expected, got 1.5")
    says({ noise = -1 }, "option 'noise' must be a number >= 0, got -1")
    local err = error_of(check.options, "g", 1, 0.5, { what = "table or nil", by_value = true })
    assert.truthy(err:find("(table or nil expected, got 0.5)", 1, true))
  end)
end)

describe("blame through the modules' helpers", function()
  it("viz.decision_boundary: a model that goes bad while the regions are drawn", function()
    local calls = 0
    local function model(x)
      calls = calls + 1
      if calls > 3 then return "bad" end
      return mg.Value(x[1])
    end
    local line = debug.getinfo(1, "l").currentline + 1
    local err = error_of(function() mg.viz.decision_boundary(model, { { 0, 0 }, { 1, 1 } }, { 0, 1 }) end)
    local expected = "check_spec.lua:" .. line .. ": bad argument #1 to 'decision_boundary' (the model must "
      .. "return a Value or an array of Values, got string)"
    assert.equal(expected, err:sub(-#expected))
  end)
end)
