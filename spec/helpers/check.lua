--- Small helpers shared by the micrograd specs.
local M = {}

--- True when a and b agree to a relative tolerance (absolute near zero).
function M.near(a, b, rel)
  rel = rel or 1e-12
  local scale = math.max(1, math.abs(a), math.abs(b))
  return math.abs(a - b) <= rel * scale
end

--- Asserts that a and b agree to a relative tolerance, with a useful message.
function M.assert_near(expected, actual, rel, what)
  assert(M.near(expected, actual, rel), string.format(
    "%s: expected %.17g, got %.17g (rel %g)",
    what or "value", expected, actual, rel or 1e-12))
end

--- Calls fn(...) under pcall, asserts that it failed with a string message
-- and returns that message.
function M.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, but the call succeeded")
  assert(type(err) == "string",
    "expected a string error, got " .. type(err))
  return err
end

--- Asserts that message contains every plain (non-pattern) string given.
function M.assert_mentions(message, ...)
  for i = 1, select("#", ...) do
    local part = select(i, ...)
    assert(message:find(part, 1, true),
      string.format("error %q does not mention %q", message, part))
  end
end

--- Central finite difference of f (a function of one number) at x.
function M.diff(f, x)
  local h = 1e-5 * math.max(1, math.abs(x))
  return (f(x + h) - f(x - h)) / (2 * h)
end

--- A uniform number in [lo, hi) from math.random (seed it first).
function M.between(lo, hi)
  return lo + (hi - lo) * math.random()
end

--- True when x is a NaN.
function M.is_nan(x)
  return x ~= x
end

-- ---- Lua versions (SPEC "Lua versions": every spec runs on 5.1, LuaJIT, 5.3, 5.4) ----

--- True on Lua 5.3 and 5.4: an integer subtype, `//` and the bitwise operators.
M.has_integers = rawget(math, "type") ~= nil

--- True on Lua 5.4: `<close>` and `<const>`, coroutine.close, collectgarbage("incremental").
M.lua54 = _VERSION == "Lua 5.4"

--- True where `<` and `<=` call a Value's metamethods with a number (or any
-- other type) on the other side: 5.3 and 5.4. Lua 5.1 and LuaJIT call __lt and
-- __le only between two operands of one type ("attempt to compare userdata with number").
M.mixed_compare = pcall(function() return setmetatable({}, { __lt = function() return true end }) < 1 end)

--- True where tables run a __gc metamethod (5.2+; Lua 5.1 and LuaJIT only userdata's).
M.table_gc = _VERSION ~= "Lua 5.1"

--- The stock interpreter running these specs, for specs that start a fresh one:
-- lua5.4, lua5.3, lua5.1 or luajit.
M.lua = rawget(_G, "jit") and "luajit" or "lua" .. _VERSION:match("%d+%.%d+")

--- Whether the shell command cmd exited with status 0 (os.execute returns true
-- on 5.2+, the status 0 on 5.1 and LuaJIT).
function M.execute(cmd)
  local status = os.execute(cmd)
  return status == true or status == 0
end

--- The output of the shell command cmd and whether it exited with status 0
-- (5.1 and LuaJIT's pipe:close() does not say: the shell echoes the status).
function M.popen(cmd)
  local p = assert(io.popen("( " .. cmd .. " ); echo \"#status $?\"", "r"))
  local out = p:read("*a")
  p:close()
  local text, status = out:match("^(.-)#status (%d+)\n$")
  return text, tonumber(status) == 0
end

local compat = require("micrograd._compat")
M.unpack, M.move, M.math_type = compat.unpack, compat.move, compat.math_type

--- `table.pack(...)`: the arguments and n.
function M.pack(...)
  return { n = select("#", ...), ... }
end

--- x's bits as a string, for exact comparisons: string.pack where Lua has it, else
-- "%.17g" (which reads back to the same double: the same bits but for NaN payloads).
local pack = rawget(string, "pack")
function M.bits(x)
  if pack then return pack("<d", x) end
  if x ~= x then return "nan" end
  return string.format("%.17g", x)
end

--- string.rep(s, n, sep): Lua 5.1 and LuaJIT ignore sep.
function M.rep(s, n, sep)
  if not sep or n <= 0 then return string.rep(s, n) end
  return string.rep(s .. sep, n - 1) .. s
end

--- x as exact text: "%a" (hex) where string.format has it, else "%.17g" (5.1),
-- which reads back to the same double.
local has_hex = pcall(string.format, "%a", 1)
function M.exact(x)
  if has_hex then return string.format("%a", x) end
  if x ~= x then return "nan" end
  return string.format("%.17g", x)
end

--- Whether x is an integer: math.type's "integer" on 5.3/5.4, an integral
-- number where every number is a double.
function M.is_integer(x)
  if M.has_integers then return M.math_type(x) == "integer" end
  return type(x) == "number" and x == math.floor(x)
end

local loadstring, setfenv = rawget(_G, "loadstring"), rawget(_G, "setfenv")

--- Compiles the text code (named name) with env as its globals (default _G), on
-- every Lua: load(code, name, "t", env), or loadstring and setfenv on 5.1 and LuaJIT.
-- Code in syntax a version lacks (`<close>`, `//`) is loaded only where it has it.
function M.load(code, name, env)
  if setfenv then
    local fn, err = loadstring(code, name)
    if fn and env then setfenv(fn, env) end
    return fn, err
  end
  return load(code, name, "t", env)
end

--- fn(...) with detect_anomaly switched to `on`, the switch closed however fn
-- ends: mg.detect_anomaly's function form (anomaly_spec tests it), which works
-- on every Lua (`local _ <close> = mg.detect_anomaly(on)` needs Lua 5.4).
function M.with_anomaly(on, fn, ...)
  return require("micrograd").detect_anomaly(on, fn, ...)
end

--- Runs code, a block of the calling spec file written in Lua 5.4 syntax
-- (`<close>`), in the file's environment: call it only where the language has
-- it (`if check.lua54 then check.lua54_block([==[ ... ]==]) else ... end`).
-- The block keeps its file's name and line numbers, as positions in messages;
-- `locals` (a table) names the spec's local variables the block reads.
function M.lua54_block(code, locals)
  local caller = debug.getinfo(2, "fS")
  local env
  for i = 1, 255 do
    local name, value = debug.getupvalue(caller.func, i)
    if name == nil or name == "_ENV" then
      env = value
      break
    end
  end
  assert(env, "lua54_block: the caller has no _ENV")
  if locals then env = setmetatable(locals, { __index = env, __newindex = env }) end
  local f = assert(io.open(caller.source:sub(2), "rb"))
  local text = f:read("*a")
  f:close()
  local at = assert(text:find(code, 1, true), "lua54_block: the block is not in " .. caller.source)
  local _, newlines = text:sub(1, at - 1):gsub("\n", "")
  assert(M.load(string.rep("\n", newlines) .. code, caller.source, env))()
end

--- The runner's path: ctest sets MICROGRAD_RUNNER, else the build's.
--- The whole of a file, read in binary mode (raises when it cannot be opened).
function M.read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

M.runner = os.getenv("MICROGRAD_RUNNER") or "build/micrograd"

--- s quoted for a POSIX shell.
function M.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

return M
