-- Every ```lua snippet of README.md runs, and what it prints matches its
-- `--> expected` comments (one per print call, in order).
local function read_file(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("a")
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

  for _, block in ipairs(blocks) do
    it("snippet at line " .. block.line .. " runs and prints what it says", function()
      local expected, printed = {}, {}
      for _, line in ipairs(block.code) do
        local want = line:match("^.*print%b().-%-%->%s(.*)$")
        if want then expected[#expected + 1] = want end
      end
      local env = setmetatable({
        print = function(...)
          local parts = table.pack(...)
          for i = 1, parts.n do parts[i] = tostring(parts[i]) end
          printed[#printed + 1] = table.concat(parts, "\t", 1, parts.n)
        end,
      }, { __index = _G })
      local chunk = assert(load(table.concat(block.code, "\n"), "=README.md:" .. block.line, "t", env))
      chunk()
      if #expected > 0 then
        assert.are.same(expected, printed)
      end
    end)
  end
end)
