-- The common subset of Lua 5.1, LuaJIT 2.1, 5.3 and 5.4 (SPEC "Lua versions"),
-- checked by reading a file's tokens: what 5.1 cannot parse (`//`, bitwise
-- operators, `goto` and labels, `<close>`/`<const>`), the string escapes it
-- reads differently ("\x41" is "x41" there; "\z" and "\u{...}" too), and hex
-- floats. Strings and comments are skipped, so code that builds 5.4-only text
-- to load where the language has it stays allowed. (luacheck's `std = "min"`
-- catches the library side: table.unpack, math.tointeger, utf8, ...)
local M = {}

local find, sub, match = string.find, string.sub, string.match

-- The end of a long bracket opened at i ("[[", "[==["), or nil if none opens there.
local function long_bracket(text, i)
  local eqs = match(text, "^%[(=*)%[", i)
  if not eqs then return nil end
  local _, stop = find(text, "]" .. eqs .. "]", i + #eqs + 2, true)
  return stop or #text
end

local function count_lines(text, i, j)
  local n = 0
  for _ in sub(text, i, j):gmatch("\n") do n = n + 1 end
  return n
end

--- The problems of Lua source text: an array of {line = n, what = "..."}.
function M.problems(text)
  local out, line, i, n = {}, 1, 1, #text
  local function problem(what) out[#out + 1] = { line = line, what = what } end
  if sub(text, 1, 1) == "#" then i = (find(text, "\n", 1, true) or n) end -- a #! line
  while i <= n do
    local c = sub(text, i, i)
    if c == "\n" then
      line, i = line + 1, i + 1
    elseif find(c, "%s") then
      i = i + 1
    elseif sub(text, i, i + 1) == "--" then
      local stop = long_bracket(text, i + 2) or (find(text, "\n", i, true) or n + 1) - 1
      line, i = line + count_lines(text, i, stop), stop + 1
    elseif c == "[" and long_bracket(text, i) then
      local stop = long_bracket(text, i)
      line, i = line + count_lines(text, i, stop), stop + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = sub(text, j, j)
        if d == c then break end
        if d == "\n" then line = line + 1 end
        if d == "\\" then
          local e = sub(text, j + 1, j + 1)
          if e == "x" or e == "z" or e == "u" then problem("string escape \\" .. e .. " (Lua 5.2+)") end
          if e == "\n" then line = line + 1 end
          j = j + 1
        end
        j = j + 1
      end
      i = j + 1
    elseif find(c, "%d") or (c == "." and find(sub(text, i + 1, i + 1), "%d")) then
      local num = match(text, "^0[xX][%x%.]*[pP][%+%-]?%d+", i) or match(text, "^0[xX][%x%.]+", i)
        or match(text, "^[%d%.]+[eE][%+%-]?%d+", i) or match(text, "^[%d%.]+", i)
      if find(num, "^0[xX]") and find(num, "[%.pP]") then problem("hex float " .. num .. " (Lua 5.2+)") end
      i = i + #num
    elseif find(c, "[%a_]") then
      local name = match(text, "^[%w_]+", i)
      if name == "goto" then problem("goto (Lua 5.2+)") end
      i = i + #name
    else
      local two = sub(text, i, i + 1)
      local attrib = match(text, "^<%s*(%a+)%s*>", i)
      if two == "//" then
        problem("// (Lua 5.3+)")
      elseif two == "<<" or two == ">>" or c == "&" or c == "|" or (c == "~" and two ~= "~=") then
        problem("bitwise operator " .. ((two == "<<" or two == ">>") and two or c) .. " (Lua 5.3+)")
      elseif two == "::" then
        problem("label :: (Lua 5.2+)")
      elseif attrib == "close" or attrib == "const" then
        problem("<" .. attrib .. "> (Lua 5.4)")
      end
      i = i + ((two == "//" or two == "<<" or two == ">>" or two == "::" or two == "~=") and 2 or 1)
    end
  end
  return out
end

return M
