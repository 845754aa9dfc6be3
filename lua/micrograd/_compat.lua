--- Internal: the few library functions Lua 5.1 and LuaJIT lack, one way for
-- every module (SPEC "Lua versions": the modules run unchanged on Lua 5.1,
-- LuaJIT 2.1, 5.3 and 5.4). Where the running Lua has the function, it is
-- the function itself, so Lua 5.3 and 5.4 behave exactly as without this
-- module. On 5.1 and LuaJIT every number is a double: `tointeger` answers
-- for the integral ones and `math_type` calls every number a float.
-- @module micrograd._compat
local math, table, type, tonumber = math, table, type, tonumber
local getmetatable, setmetatable, rawget = getmetatable, setmetatable, rawget
local floor, byte = math.floor, string.byte

local M = {}

--- True where numbers have an integer subtype (Lua 5.3 and 5.4).
M.integers = math.type ~= nil

--- `table.unpack` (5.2+), or 5.1's global `unpack`.
M.unpack = table.unpack or rawget(_G, "unpack")

--- `math.tointeger`: x as an integer if it is a number (or numeric string)
-- with an integral value in [-2^63, 2^63), else nil. (On 5.1 and LuaJIT the
-- result is the double itself; -0 becomes 0 as 5.4's integer 0 prints.)
M.tointeger = math.tointeger or function(x)
  if type(x) == "string" then x = tonumber(x) end
  if type(x) ~= "number" or x ~= floor(x) or x < -2 ^ 63 or x >= 2 ^ 63 then return nil end
  return x + 0
end

--- `math.type`: "integer" or "float" for a number, nil for anything else
-- (every number is a "float" where numbers are all doubles).
M.math_type = math.type or function(x)
  if type(x) == "number" then return "float" end
  return nil
end

-- The lead byte's payload bits (its value modulo these) by sequence length.
local LEAD_BITS = { [2] = 32, [3] = 16, [4] = 8 }

--- Whether s is valid UTF-8 as Lua 5.4's `utf8.len(s)` decides it (no overlong
-- forms, no surrogates, nothing above U+10FFFF), where Lua has no utf8 library
-- (5.1, LuaJIT); nil on 5.3 and 5.4, whose library answers (or whose sandbox
-- removed it: callers then treat non-ASCII text as they always have).
M.utf8_valid = not rawget(_G, "utf8") and not M.integers and function(s)
  local i, n = 1, #s
  while i <= n do
    local c = byte(s, i)
    if c < 0x80 then
      i = i + 1
    else
      local len, least
      if c >= 0xC2 and c <= 0xDF then
        len, least = 2, 0x80
      elseif c >= 0xE0 and c <= 0xEF then
        len, least = 3, 0x800
      elseif c >= 0xF0 and c <= 0xF4 then
        len, least = 4, 0x10000
      else
        return false
      end
      local cp = c % LEAD_BITS[len]
      for k = 1, len - 1 do
        local b = byte(s, i + k)
        if not b or b < 0x80 or b > 0xBF then return false end
        cp = cp * 64 + (b - 0x80)
      end
      if cp < least or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return false end
      i = i + len
    end
  end
  return true
end or nil

--- `math.log10` (5.1, LuaJIT), or `math.log(x, 10)`, which calls C's log10 too.
M.log10 = rawget(math, "log10") or function(x) return math.log(x, 10) end

-- ---- string.format's ties ----------------------------------------------------
-- C's printf (Lua 5.1, 5.3, 5.4) rounds a number exactly halfway between two
-- outputs to the even digit ("%.1f" of 0.25 is "0.2"); LuaJIT 2.1 formats
-- numbers itself and rounds such ties away from zero ("0.3"). M.format is
-- string.format, but on LuaJIT a float directive ("%.Nf", "%.Ne", "%.Ng", with
-- flags and width) that meets a tie gives printf's digits.

local format, frexp, select = string.format, math.frexp, select

-- The exponent of x's lowest set bit (x finite, not 0).
local function low_bit(x)
  local m, e = frexp(x)
  m = m * 2 ^ 53
  local t = 0
  while m % 2 == 0 do m, t = m / 2, t + 1 end
  return e - 53 + t
end

-- Whether the positive x lies exactly halfway between two numbers of k
-- decimals (k < 0: multiples of 10^-k).
local function halfway(x, k)
  if k >= 0 then return low_bit(x) == -(k + 1) end
  if x >= 2 ^ 52 or -k > 22 then return false end -- (not exact in doubles; never met here)
  local q = 10 ^ -k
  return (2 * x) % q == 0 and (2 * x / q) % 2 == 1
end

-- s (digits with a point) without its last digit, and whether the digit now
-- last is even (the tie then rounds down).
local function cut(s)
  local t = s:sub(1, -2):gsub("%.$", "")
  return t, tonumber(t:sub(-1)) % 2 == 0
end

-- Trailing zeros of a fraction dropped, as %g does.
local function trim(s)
  if not s:find(".", 1, true) then return s end
  return (s:gsub("0+$", ""):gsub("%.$", ""))
end

-- printf's digits for |x| (finite, not 0) under conversion conv with precision p
-- when they differ from LuaJIT's (a tie rounded down), else nil.
local function tie_digits(ax, conv, p)
  if conv == "f" or conv == "F" then
    if not halfway(ax, p) then return nil end
    local t, down = cut(format("%." .. (p + 1) .. "f", ax))
    return down and t or nil
  end
  local g = conv == "g" or conv == "G"
  local ep = g and math.max(p, 1) - 1 or p -- the digits after the point in e-style
  local d = tonumber(format("%.20e", ax):match("e(.*)$"))
  if not halfway(ax, ep - d) then return nil end
  local mant, ex = format("%." .. (ep + 1) .. "e", ax):match("^(.-)e(.*)$")
  local t, down = cut(mant)
  if not down then return nil end
  local upper = conv == "E" or conv == "G"
  local e_text = (upper and "E" or "e") .. ex
  if not g then return t .. e_text end
  if d < -4 or d > ep then return trim(t) .. e_text end
  return trim((cut(format("%." .. (ep - d + 1) .. "f", ax))))
end

-- One directive (flags, width, precision, conversion) applied to x, printf's way.
local function directive(flags, width, precision, conv, x)
  local spec = "%" .. flags .. width .. (precision ~= "" and "." .. precision or "") .. conv
  if type(x) ~= "number" or x ~= x or x == 0 or x == math.huge or x == -math.huge then
    return format(spec, x)
  end
  local p = precision == "" and 6 or tonumber(precision)
  local digits = tie_digits(x < 0 and -x or x, conv, p)
  if not digits then return format(spec, x) end
  local sign = x < 0 and "-" or flags:find("+", 1, true) and "+" or flags:find(" ", 1, true) and " " or ""
  local pad = (tonumber(width) or 0) - #sign - #digits
  if pad <= 0 then return sign .. digits end
  if flags:find("-", 1, true) then return sign .. digits .. string.rep(" ", pad) end
  if flags:find("0", 1, true) then return sign .. string.rep("0", pad) .. digits end
  return string.rep(" ", pad) .. sign .. digits
end

--- `string.format`, with printf's rounding of ties on every Lua (see above).
M.format = format
if format("%.1f", 0.25) ~= "0.2" then
  M.format = function(fmt, ...)
    if not fmt:find("%%[-+ #0]*%d*%.?%d*[fFeEgG]") then return format(fmt, ...) end
    if select("#", ...) == 1 and fmt:find("^%%[-+ 0]*%d*%.?%d*[fFeEgG]$") then -- one number alone: no tables
      local flags, width, precision, conv = fmt:match("^%%([-+ 0]*)(%d*)%.?(%d*)(%a)$")
      return directive(flags, width, precision, conv, (...))
    end
    local args, n, out, pos = { ... }, 0, {}, 1
    while true do
      local s, e, flags, width, precision, conv = fmt:find("%%([-+ #0]*)(%d*)%.?(%d*)([%a%%])", pos)
      if not s then break end
      out[#out + 1] = fmt:sub(pos, s - 1)
      if conv == "%" then
        out[#out + 1] = "%"
      else
        n = n + 1
        if conv:find("[fFeEgG]") and not flags:find("#", 1, true) then
          out[#out + 1] = directive(flags, width, precision, conv, args[n])
        else
          out[#out + 1] = format(fmt:sub(s, e), args[n])
        end
      end
      pos = e + 1
    end
    out[#out + 1] = fmt:sub(pos)
    return table.concat(out)
  end
end

--- `#t`, with the table's `__len` where it has one (Lua 5.1 and LuaJIT call
-- `__len` for userdata only; train's live label tables have one).
if #setmetatable({}, { __len = function() return 1 end }) == 1 then
  M.len = function(t) return #t end
else
  M.len = function(t)
    local mt = type(t) == "table" and getmetatable(t)
    local len = type(mt) == "table" and rawget(mt, "__len")
    if len then return len(t) end
    return #t
  end
end

--- `a // b` (floor division, 5.3+ syntax) for b > 0: the quotient of two
-- integers exactly as 5.4 computes it, also beyond 2^53 (there the quotient of
-- the doubles is off by a few units; the remainder's quotient corrects it), as
-- long as a / b rounds below 2^63.
function M.idiv(a, b)
  local q = floor(a / b)
  return q + floor((a - q * b) / b)
end

--- `table.move(a1, f, e, t [, a2])`: a1[f..e] into a2 (default a1) from t on;
-- returns a2. Overlapping ranges of one table move as 5.4 moves them.
M.move = table.move or function(a1, f, e, t, a2)
  a2 = a2 or a1
  if e >= f then
    if t > e or t <= f or a1 ~= a2 then
      for i = 0, e - f do a2[t + i] = a1[f + i] end
    else
      for i = e - f, 0, -1 do a2[t + i] = a1[f + i] end
    end
  end
  return a2
end

return M
