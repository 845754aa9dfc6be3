-- SPEC "Lua versions": the modules, specs, examples and test scripts are
-- written in the common subset of Lua 5.1, LuaJIT 2.1, 5.3 and 5.4, so that
-- they parse everywhere (luacheck's std "min" checks the library side).
local check = require("spec.helpers.check")
local lfs = require("lfs")
local subset = require("spec.helpers.subset")

-- Every .lua file directly in these directories (run from the repository root).
local DIRS = { "lua/micrograd", "spec", "spec/helpers", "examples", "examples/tour", "tests" }

local function lua_files()
  local out = {}
  for _, dir in ipairs(DIRS) do
    for name in lfs.dir(dir) do
      if name:match("%.lua$") then out[#out + 1] = dir .. "/" .. name end
    end
  end
  table.sort(out)
  return out
end

local read = check.read_file

describe("the common subset", function()
  it("finds what Lua 5.1 cannot parse, outside strings and comments", function()
    local code = table.concat({
      "local a = 7 // 2", "local b = 1 << 4", "local c = 5 & 3 | 2 ~ 1", "local d = ~0",
      "goto done", "::done::", "local e <close> = nil", "local f <const> = 1",
      [[local g = "\x41\z   \u{48}"]], "local h = 0x1p4",
      "local ok = a ~= b", "-- a // comment, a <close> one", "local s = 'a // string'",
      "local t = [[ 1 << 2 ]]", "--[==[ goto x ]==]", "local n = 0x10 + 1e5 + .5",
    }, "\n")
    local found = {}
    for _, p in ipairs(subset.problems(code)) do found[#found + 1] = p.line .. " " .. p.what end
    assert.same({
      "1 // (Lua 5.3+)", "2 bitwise operator << (Lua 5.3+)", "3 bitwise operator & (Lua 5.3+)",
      "3 bitwise operator | (Lua 5.3+)", "3 bitwise operator ~ (Lua 5.3+)", "4 bitwise operator ~ (Lua 5.3+)",
      "5 goto (Lua 5.2+)", "6 label :: (Lua 5.2+)", "6 label :: (Lua 5.2+)",
      "7 <close> (Lua 5.4)", "8 <const> (Lua 5.4)",
      "9 string escape \\x (Lua 5.2+)", "9 string escape \\z (Lua 5.2+)", "9 string escape \\u (Lua 5.2+)",
      "10 hex float 0x1p4 (Lua 5.2+)",
    }, found)
  end)

  it("holds in every module, spec, example and test script", function()
    local files, problems = lua_files(), {}
    assert.is_true(#files > 50, "found only " .. #files .. " files")
    for _, path in ipairs(files) do
      for _, p in ipairs(subset.problems(read(path))) do
        problems[#problems + 1] = path .. ":" .. p.line .. ": " .. p.what
      end
    end
    assert.same({}, problems)
  end)
end)
