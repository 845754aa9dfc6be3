-- micrograd._compat: the fallbacks Lua 5.1 and LuaJIT use, checked on every
-- Lua. On 5.3 and 5.4 the module hands out the library's own functions; its
-- fallbacks are loaded here too, in an environment without those functions,
-- and compared with the library where the library is there to compare.
local check = require("spec.helpers.check")
local compat = require("micrograd._compat")

local PATH = "lua/micrograd/_compat.lua"

-- _compat as Lua 5.1 sees it: no math.tointeger/type, table.unpack/move, utf8.
local function fallbacks()
  local f = assert(io.open(PATH, "rb"))
  local text = f:read("*a")
  f:close()
  local env = {}
  for k, v in pairs(_G) do env[k] = v end
  env.math, env.table = {}, {}
  for k, v in pairs(math) do env.math[k] = v end
  for k, v in pairs(table) do env.table[k] = v end
  env.math.tointeger, env.math.type, env.table.unpack, env.table.move = nil, nil, nil, nil
  env.utf8, env.unpack, env._G = nil, compat.unpack, env
  return assert(check.load(text, "@" .. PATH, env))()
end

local old = fallbacks()

-- A function computing a // b, where the language has the operator.
local floor_div = check.has_integers and assert(check.load("return function(a, b) return a // b end"))()

describe("micrograd._compat", function()
  it("is the library itself where the library has the function", function()
    local function lib(t, name) return rawget(t, name) end -- (luacheck's std "min" has none of these)
    assert.equal(lib(table, "unpack") or rawget(_G, "unpack"), compat.unpack)
    assert.equal(lib(math, "tointeger") or false, lib(math, "tointeger") and compat.tointeger or false)
    assert.equal(lib(math, "type") or false, lib(math, "type") and compat.math_type or false)
    assert.equal(lib(table, "move") or false, lib(table, "move") and compat.move or false)
    assert.equal(check.has_integers, compat.integers)
    assert.is_false(old.integers)
  end)

  it("tointeger: integral numbers (and numeric strings) in [-2^63, 2^63), else nil", function()
    for _, t in ipairs({ compat.tointeger, old.tointeger }) do
      assert.equal(3, t(3.0))
      assert.equal(-7, t(-7))
      assert.equal(8, t("8"))
      assert.equal(-2 ^ 63, t(-2 ^ 63))
      assert.equal(2 ^ 53, t(2 ^ 53))
      for _, x in ipairs({ 3.5, 2 ^ 63, 2 ^ 64, math.huge, -math.huge, 0 / 0, "x", "2.5", {}, true }) do
        assert.is_nil(t(x), tostring(x))
      end
      assert.is_nil(t(nil))
      assert.equal(math.huge, 1 / t(-0.0)) -- 5.4's integer 0 has no sign
    end
  end)

  it("math_type: 'float' for every number where all numbers are doubles", function()
    assert.equal("float", old.math_type(1))
    assert.equal("float", old.math_type(0.5))
    assert.is_nil(old.math_type("1"))
    assert.is_nil(old.math_type(nil))
    assert.equal("float", compat.math_type(0.5))
    assert.equal(check.has_integers and "integer" or "float", compat.math_type(1))
  end)

  it("move: as table.move, overlapping ranges and another table included", function()
    for _, move in ipairs({ compat.move, old.move }) do
      assert.same({ 1, 1, 2, 3, 5 }, move({ 1, 2, 3, 4, 5 }, 1, 3, 2))
      assert.same({ 2, 3, 4, 4, 5 }, move({ 1, 2, 3, 4, 5 }, 2, 4, 1))
      assert.same({ 9 }, move({ 1, 2, 3 }, 1, 0, 1, { 9 })) -- an empty range
      local into = {}
      assert.equal(into, move({ 1, 2, 3 }, 2, 3, 5, into))
      assert.same({ [5] = 2, [6] = 3 }, into)
    end
  end)

  it("len: a table's __len counts (5.1 and LuaJIT's # skips it)", function()
    local proxy = setmetatable({}, { __len = function() return 4 end })
    for _, len in ipairs({ compat.len, old.len }) do
      assert.equal(4, len(proxy))
      assert.equal(3, len({ 1, 2, 3 }))
      assert.equal(2, len("ab"))
    end
  end)

  it("idiv: floor division, also beyond 2^53 on the integers of 5.3 and 5.4", function()
    for _, idiv in ipairs({ compat.idiv, old.idiv }) do
      for a = -20, 20 do
        for _, b in ipairs({ 1, 2, 3, 7, 72 }) do
          assert.equal(math.floor(a / b), idiv(a, b), a .. " // " .. b)
        end
      end
      assert.equal(1e7 / 2, idiv(1e7 + 1, 2))
    end
    if floor_div then
      local big = { 2 ^ 53, 2 ^ 53 + 1, 2 ^ 62 + 12345, 9007199254740993 * 1000 + 7 }
      for _, a in ipairs(big) do
        a = compat.tointeger(a)
        for _, b in ipairs({ 2, 3, 72, 1000 }) do
          assert.equal(floor_div(a, b), compat.idiv(a, b), tostring(a) .. " // " .. b)
          assert.equal(compat.math_type(floor_div(a, b)), compat.math_type(compat.idiv(a, b)))
        end
      end
    end
  end)

  it("format: a tie rounds to the even digit, as C's printf does, also on LuaJIT", function()
    local cases = {
      { "%.1f", 0.25, "0.2" }, { "%.1f", -0.25, "-0.2" }, { "%.2f", 0.125, "0.12" }, { "%.0f", 0.5, "0" },
      { "%.0f", 1.5, "2" }, { "%.0f", 2.5, "2" }, { "%.17g", 2 ^ -25, "2.9802322387695312e-08" },
      { "%.3g", 0.0625, "0.0625" }, { "%.1e", 0.25, "2.5e-01" }, { "%5.1f%%", 12.25, " 12.2%" },
      { "ETA %.1fs", 7.25, "ETA 7.2s" }, { "%.2g", 0.125, "0.12" }, { "%.1g", 25, "2e+01" },
      { "%.1g", 35, "4e+01" },
      { "%.2e", 1.125, "1.12e+00" }, { "%-8.1f|", 0.25, "0.2     |" }, { "%08.1f", -0.25, "-00000.2" },
      { "%+.1f", 0.25, "+0.2" }, { "%.1f", 0.35, "0.3" }, { "%.1f", 0.75, "0.8" },
      { "%.3g", 1234.5, "1.23e+03" },
      { "%.5g", 2 ^ -10, "0.00097656" }, { "%.4f", 1 / 3, "0.3333" }, { "%d|%s|%.1f", 3, "0.2" },
    }
    for _, c in ipairs(cases) do
      local fmt, x, want = c[1], c[2], c[3]
      if fmt == "%d|%s|%.1f" then
        assert.equal("3|x|0.2", compat.format(fmt, x, "x", 0.25))
      else
        assert.equal(want, compat.format(fmt, x), fmt .. " of " .. string.format("%.17g", x))
      end
    end
    assert.equal(string.format == compat.format, string.format("%.1f", 0.25) == "0.2")
  end)

  it("utf8_valid: what Lua 5.4's utf8.len accepts", function()
    local valid = old.utf8_valid
    for _, s in ipairs({ "", "abc", "caf\195\169", "\226\128\166", "\240\159\152\128", "\244\143\191\191",
      "\237\159\191" }) do
      assert.is_true(valid(s), s)
    end
    for _, s in ipairs({ "\255", "\128", "caf\195", "\192\128", "\224\128\128", "\240\128\128\128",
      "\237\160\128", "\244\144\128\128", "\248\136\128\128\128", "\195\40" }) do
      assert.is_false(valid(s), s)
    end
    if _VERSION == "Lua 5.4" and rawget(_G, "utf8") then
      local rng, len = math.random, rawget(_G, "utf8").len
      math.randomseed(7)
      local bytes = { 0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0,
        0x9f, 0x90 }
      for _ = 1, 20000 do
        local parts = {}
        for i = 1, rng(1, 5) do parts[i] = string.char(bytes[rng(1, #bytes)]) end
        local s = table.concat(parts)
        assert.equal(len(s) ~= nil, valid(s), string.format("%q", s))
      end
    end
    assert.equal(rawget(_G, "utf8") == nil and not check.has_integers, compat.utf8_valid ~= nil)
  end)
end)
