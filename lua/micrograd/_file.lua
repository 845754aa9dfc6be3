--- Internal: the files micrograd writes and reads, and the numbers in them.
--
-- Writing (`write`) is atomic: the text goes to a new file in the target's
-- directory (`.name.XXXXXXXX.tmp`), is flushed to disk, and is renamed over
-- the target, so a crash, a kill or a full disk leaves the old file whole.
-- Every write, flush and close error is reported. A symlink is followed (the
-- file it points to is replaced); a target that exists and is not a regular
-- file (a FIFO, a device, `/dev/stdout`) is written in place. The work is
-- done in C (`micrograd._system.write_file`): Lua's io library can neither
-- tell a FIFO from a file nor flush to disk nor rename. It is done only for a
-- script that could write the file itself (the real `io.open` within its
-- reach, checked at each call), and then needs no `os.rename`: replacing a
-- file it can open for writing gives the script nothing it did not have.
--
-- Numbers are written and read with '.' whatever the C locale
-- (`LC_NUMERIC=de_DE.UTF-8` makes `string.format` and `tostring` write ',').
--
-- Not part of the public API: used by model_io, viz and data.
-- @module micrograd._file
require("micrograd.core") -- registers micrograd._system
local system = require("micrograd._system")

-- (string.format with printf's rounding of ties on LuaJIT too: micrograd._compat)
local format, string_format = require("micrograd._compat").format, string.format
local find, gsub, sub = string.find, string.gsub, string.sub
local type, tostring, tonumber = type, tostring, tonumber

local M = {}

-- ---- numbers ----------------------------------------------------------------

--- The decimal point string.format writes in the current C locale ("." in C).
local function point()
  return sub(string_format("%.1f", 0.5), 2, -2) -- (no tie: string.format itself, as cheap as it is)
end

--- s with every plain occurrence of from replaced by to.
local function replace(s, from, to)
  return (gsub(s, gsub(from, "%W", "%%%0"), (gsub(to, "%%", "%%%%"))))
end

--- string.format(fmt, x) for one number conversion (`"%.17g"`, `"%.2f"`...),
-- with '.' as the decimal point whatever the locale.
-- @tparam string fmt
-- @tparam number x
-- @treturn string
function M.number(fmt, x)
  local s, p = format(fmt, x), point()
  if p ~= "." then s = replace(s, p, ".") end
  return s
end

--- M.number for many numbers in a row: a function(fmt, x) for the locale of
-- now (string.format itself in a locale whose point is '.').
function M.formatter()
  if point() == "." then return format end
  return M.number
end

--- tostring(x) with '.' as the decimal point whatever the locale.
function M.tostring(x)
  local s, p = tostring(x), point()
  if p ~= "." and type(x) == "number" then s = replace(s, p, ".") end
  return s
end

--- tonumber(s) for text written with '.', whatever the locale: nil for text
-- that uses another decimal point ("0,5" is no number in any locale here),
-- and for "inf", "nan" (in any case) and text with a zero byte, which Lua 5.1
-- and LuaJIT read as numbers and 5.3 and 5.4 do not.
-- @tparam string s
-- @treturn ?number
function M.tonumber(s)
  if find(s, "[nN%z]") then return nil end -- (5.1's strtod also stops at a zero byte)
  local p = point()
  if p ~= "." then
    if find(s, p, 1, true) then return nil end
    s = replace(s, ".", p) -- Lua reads numbers with the locale's point
  end
  return tonumber(s)
end

-- ---- files ------------------------------------------------------------------

--- Whether the calling script has an io library (looked up at each call: a
-- sandboxing host may have removed it).
function M.has_io()
  local lib = io
  return type(lib) == "table" and type(lib.open) == "function"
end

--- nil, or why path cannot be a file name (a string with a NUL byte would
-- silently name another file).
function M.bad_path(path)
  if type(path) ~= "string" then return "string expected, got " .. type(path) end
  if find(path, "\0", 1, true) then return "path with a NUL byte" end
  return nil
end

--- Writes text to path atomically (see the top of this file), when the
-- calling script could write files itself.
-- @tparam string path
-- @tparam string text
-- @treturn ?boolean true, or nil and "path: reason"
-- @treturn ?string
function M.write(path, text)
  local bad = M.bad_path(path)
  if bad then return nil, format("%q: %s", tostring(path), bad) end
  local can, why = system.can("write")
  if not can then return nil, format("%s: %s", path, why) end
  return system.write_file(path, text) -- which checks again
end

--- The whole file at path, through the script's own io library.
-- @tparam string path
-- @treturn ?string the text, or nil, a message and whether the file could
--   be opened (then the message is only the reason reading failed; else it
--   names the file, as io.open's)
function M.read(path)
  local bad = M.bad_path(path)
  if bad then return nil, format("%q: %s", tostring(path), bad), false end
  local f, err = io.open(path, "rb")
  if not f then return nil, tostring(err), false end
  local text, rerr = f:read("*a")
  f:close()
  if not text then return nil, tostring(rerr), true end
  return text
end

return M
