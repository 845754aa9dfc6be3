local mg = require("micrograd")
local check = require("spec.helpers.check")

local Value = mg.Value
local error_of, mentions = check.error_of, check.assert_mentions

-- Asserts that fn(...) fails with "bad argument #n to '<name>'"; the name
-- may carry a module prefix ('micrograd.Value'). Returns the message.
local function bad_arg(n, name, fn, ...)
  local err = error_of(fn, ...)
  local pattern = "bad argument #" .. n .. " to '[%w_.]*" .. name .. "'"
  assert(err:find(pattern),
    string.format("error %q does not match %q", err, pattern))
  return err
end

-- True when message mentions the number k on its own (an element index).
local function mentions_index(message, k)
  return message:find("%f[%d]" .. k .. "%f[%D]") ~= nil
end

describe("Value()", function()
  it("names the function and argument #1", function()
    mentions(bad_arg(1, "Value", Value, {}), "number expected, got table")
    mentions(bad_arg(1, "Value", Value), "number expected, got no value")
    mentions(bad_arg(1, "Value", Value, nil), "number expected, got nil")
    mentions(bad_arg(1, "Value", Value, "abc"), "number expected, got string")
    bad_arg(1, "Value", Value, true)
  end)

  it("names argument #2 for a bad label", function()
    bad_arg(2, "Value", Value, 1, 5)
    bad_arg(2, "Value", Value, 1, {})
    bad_arg(2, "Value", Value, 1, false)
  end)
end)

describe("operators", function()
  local v = Value(1)
  local ops = {
    ["+"] = function(p, q) return p + q end,
    ["-"] = function(p, q) return p - q end,
    ["*"] = function(p, q) return p * q end,
    ["/"] = function(p, q) return p / q end,
    ["^"] = function(p, q) return p ^ q end,
    ["<"] = function(p, q) return p < q end,
    ["<="] = function(p, q) return p <= q end,
  }

  for sym, op in pairs(ops) do
    -- (Lua 5.1 and LuaJIT compare a Value with a value of another type without
    -- calling its metamethod: their own error, "attempt to compare userdata with table")
    local vm_compare = not check.mixed_compare and (sym == "<" or sym == "<=")
    if vm_compare then it("'" .. sym .. "' with another type is the VM's error (5.1, LuaJIT)", function()
      mentions(error_of(op, v, {}), "attempt to compare")
      mentions(error_of(op, true, v), "attempt to compare")
    end) else it("'" .. sym .. "' names the bad operand", function()
      mentions(error_of(op, v, {}), "bad argument #2 to '" .. sym .. "'",
        "number or Value expected, got table")
      mentions(error_of(op, {}, v), "bad argument #1 to '" .. sym .. "'",
        "number or Value expected, got table")
      mentions(error_of(op, v, nil), "bad argument #2 to '" .. sym .. "'",
        "got nil")
      mentions(error_of(op, true, v), "bad argument #1 to '" .. sym .. "'",
        "got boolean")
    end) end
  end

  -- Lua evaluates a > b as b < a, so the metamethod sees the operands
  -- swapped: either wording names the right operand.
  local swapped = {
    [">"] = { "<", function(p, q) return p > q end },
    [">="] = { "<=", function(p, q) return p >= q end },
  }

  for sym, case in pairs(swapped) do
    local flipped, op = case[1], case[2]
    local function names(err, n, m)
      assert(err:find("bad argument #" .. n .. " to '" .. sym .. "'", 1, true)
        or err:find("bad argument #" .. m .. " to '" .. flipped .. "'", 1, true),
        "error does not name the operand: " .. err)
      mentions(err, "number or Value expected, got table")
    end
    if check.mixed_compare then it("'" .. sym .. "' names the bad operand", function()
      names(error_of(op, v, {}), 2, 1)
      names(error_of(op, {}, v), 1, 2)
    end) else it("'" .. sym .. "' with another type is the VM's error (5.1, LuaJIT)", function()
      mentions(error_of(op, v, {}), "attempt to compare")
    end) end
  end

  it("% and // are refused with a message about Value", function()
    mentions(error_of(function() return v % 2 end), "Value")
    if check.has_integers then -- `//` is Lua 5.3+ syntax: loaded from text where the language has it
      local idiv = assert(check.load("local a, b = ... return a // b", "=idiv"))
      mentions(error_of(idiv, 2, v), "Value")
    end
  end)
end)

describe("methods on a non-Value", function()
  local v = Value(1)
  local methods = { "relu", "tanh", "exp", "log", "sigmoid", "abs", "sqrt",
    "softplus", "backward", "children", "detach" }

  for _, name in ipairs(methods) do
    it(name .. " names itself", function()
      mentions(error_of(v[name], 5), name)
      mentions(error_of(v[name], {}), name)
      mentions(error_of(v[name]), name)
      mentions(error_of(function() return v[name]("x") end), name)
    end)
  end

  it("metamethods called directly with bad operands raise errors", function()
    local mt = getmetatable(v)
    if type(mt) ~= "table" then
      return
    end
    local strict = { __add = true, __sub = true, __mul = true, __div = true,
      __pow = true, __mod = true, __idiv = true, __lt = true, __le = true,
      __index = true, __newindex = true, __tostring = true }
    for key, fn in pairs(mt) do
      if type(fn) == "function" and key ~= "__gc" and key ~= "__close" then
        local ok1 = pcall(fn, 5, {})
        local ok2 = pcall(fn, {}, "data")
        local ok3 = pcall(fn)
        if strict[key] then
          assert.is_false(ok1, key)
          assert.is_false(ok2, key)
          assert.is_false(ok3, key)
        end
      end
    end
    if type(mt.__index) == "table" then
      mentions(error_of(mt.__index.relu, 5), "relu")
    end
  end)
end)

describe("sum", function()
  it("names sum and argument #1", function()
    bad_arg(1, "sum", mg.sum, 5)
    bad_arg(1, "sum", mg.sum)
    bad_arg(1, "sum", mg.sum, "12")
  end)

  it("names the index of a bad element", function()
    local err = bad_arg(1, "sum", mg.sum, { 1, {} })
    assert(mentions_index(err, 2), "no index 2 in: " .. err)
    err = bad_arg(1, "sum", mg.sum, { Value(1), 2, true })
    assert(mentions_index(err, 3), "no index 3 in: " .. err)
  end)
end)

describe("dot", function()
  it("names each argument", function()
    bad_arg(1, "dot", mg.dot, 5, {})
    bad_arg(1, "dot", mg.dot)
    bad_arg(2, "dot", mg.dot, {}, 5)
    bad_arg(2, "dot", mg.dot, {})
    bad_arg(3, "dot", mg.dot, { 1 }, { 1 }, {})
    bad_arg(3, "dot", mg.dot, { 1 }, { 1 }, true)
  end)

  it("names the index of a bad element", function()
    local err = bad_arg(1, "dot", mg.dot, { {} }, { 1 })
    assert(mentions_index(err, 1), "no index 1 in: " .. err)
    err = bad_arg(2, "dot", mg.dot, { 1, 2 }, { 1, {} })
    assert(mentions_index(err, 2), "no index 2 in: " .. err)
  end)

  it("refuses arrays of different lengths", function()
    mentions(error_of(mg.dot, { 1 }, { 1, 2 }), "dot", "length")
    mentions(error_of(mg.dot, { 1, 2, 3 }, { Value(1) }), "dot", "length")
  end)
end)

describe("no_grad", function()
  it("names no_grad for a non-function", function()
    mentions(error_of(mg.no_grad, 5), "no_grad")
    mentions(error_of(mg.no_grad, {}), "no_grad")
    mentions(error_of(mg.no_grad, "print"), "no_grad")
    assert.is_true(mg.grad_enabled())
  end)
end)

describe("random numbers", function()
  it("seed names itself", function()
    bad_arg(1, "seed", mg.seed, "x")
    bad_arg(1, "seed", mg.seed, {})
    bad_arg(1, "seed", mg.seed, 1.5)
  end)

  it("random names itself and refuses empty intervals", function()
    mentions(bad_arg(1, "random", mg.random, 0), "interval is empty")
    mentions(bad_arg(1, "random", mg.random, -5), "interval is empty")
    mentions(error_of(mg.random, 3, 1), "random", "interval is empty")
    bad_arg(1, "random", mg.random, "x")
    bad_arg(1, "random", mg.random, 1.5)
    bad_arg(2, "random", mg.random, 1, {})
    bad_arg(2, "random", mg.random, 1, 2.5)
    mentions(error_of(mg.random, 1, 2, 3), "random")
  end)

  it("uniform and normal name themselves", function()
    bad_arg(1, "uniform", mg.uniform, "a")
    bad_arg(2, "uniform", mg.uniform, 0, {})
    bad_arg(1, "normal", mg.normal, {})
    bad_arg(2, "normal", mg.normal, 0, "x")
  end)
end)

describe("after all these errors", function()
  it("the engine still works", function()
    local a = Value(2)
    local y = a * 3 + 1
    y:backward()
    assert.equal(7.0, y.data)
    assert.equal(3.0, a.grad)
    assert.is_true(mg.grad_enabled())
  end)
end)
