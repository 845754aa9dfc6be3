-- Every ```lua snippet of README.md runs, and what it prints matches its
-- `--> expected` comments (one per print call, in order).
local check = require("spec.helpers.check")
local function read_file(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("*a")
  f:close()
  return text
end

--- The ```lua blocks of a markdown text: { {code = ..., line = n}, ... }.
local function lua_blocks(text)
  local blocks, current, lineno = {}, nil, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    lineno = lineno + 1
    if current then
      if line:match("^```%s*$") then
        blocks[#blocks + 1] = current
        current = nil
      else
        current.code[#current.code + 1] = line
      end
    elseif line:match("^```lua%s*$") then
      current = { code = {}, line = lineno + 1 }
    end
  end
  assert(current == nil, "unterminated code block")
  return blocks
end

local blocks = lua_blocks(read_file("README.md"))

describe("README.md", function()
  it("has Lua snippets", function()
    assert.is_true(#blocks >= 5)
  end)

  -- A printed line with each number as this Lua writes it ("2.0" is "2" where
  -- every number is a double: SPEC "Lua versions" compares numbers, not text).
  local function as_printed(line)
    local fields = {}
    for field in (line .. "\t"):gmatch("(.-)\t") do
      local x = tonumber(field)
      fields[#fields + 1] = x and field:match("^%-?[%d.]+$") and tostring(x) or field
    end
    return table.concat(fields, "\t")
  end

  for _, block in ipairs(blocks) do
    local code = table.concat(block.code, "\n")
    if code:find("<close>", 1, true) and not check.lua54 then
      pending("snippet at line " .. block.line .. " (<close> is Lua 5.4 syntax)")
    else it("snippet at line " .. block.line .. " runs and prints what it says", function()
      local expected, printed = {}, {}
      for _, line in ipairs(block.code) do
        local want = line:match("^.*print%b().-%-%->%s(.*)$")
        if want then expected[#expected + 1] = as_printed(want) end
      end
      local env = setmetatable({
        print = function(...)
          local parts = check.pack(...)
          for i = 1, parts.n do parts[i] = tostring(parts[i]) end
          printed[#printed + 1] = as_printed(table.concat(parts, "\t", 1, parts.n))
        end,
      }, { __index = _G })
      local chunk = assert(check.load(code, "=README.md:" .. block.line, env))
      local ok, err = pcall(chunk)
      local compared = tostring(err):find("attempt to compare userdata with number", 1, true)
      if not ok and not check.mixed_compare and compared then
        return -- a Value compared with a number: 5.3+ (5.1 and LuaJIT call __lt for two Values only)
      end
      assert(ok, err)
      if #expected > 0 then
        assert.are.same(expected, printed)
      end
    end) end
  end
end)

--- The ```python block of README.md (the model reader).
local function python_block(text)
  return text:match("\n```python\n(.-)\n```")
end

describe("README.md's Python model reader", function()
  local has_python = check.execute("command -v python3 >/dev/null 2>&1")
  local run = has_python and it or pending

  run("computes what the Lua model computes, from a file nn.save wrote", function()
    local mg = require("micrograd")
    local code = assert(python_block(read_file("README.md")), "no python block")
    local reader, model_path = os.tmpname(), os.tmpname()
    local f = assert(io.open(reader, "w"))
    f:write(code)
    f:close()
    for _, activation in ipairs({ "relu", "tanh", "sigmoid" }) do
      mg.seed(11)
      local model = mg.nn.MLP(2, { 5, 4, 1 }, { activation = activation })
      mg.nn.save(model, model_path)
      local p = assert(io.popen(string.format("python3 %s %s 0.3 -1.25", reader, model_path)))
      local out = p:read("*a")
      p:close()
      local got = tonumber(out:match("^%[(.-)%]"))
      local want = model({ 0.3, -1.25 }).data
      assert(got and math.abs(got - want) <= 1e-12 * math.max(1, math.abs(want)),
        activation .. ": python says " .. out .. ", Lua says " .. want)
    end
    os.remove(reader)
    os.remove(model_path)
  end)
end)

describe("README.md's embedding example", function()
  it("is examples/host.c, the program ctest builds and runs", function()
    local readme = read_file("README.md")
    local block = readme:match("\n```c\n(.-)```")
    assert.is_not_nil(block, "no ```c block in README.md")
    assert.are.equal(read_file("examples/host.c"), block)
  end)
end)
