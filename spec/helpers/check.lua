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

--- The runner's path: ctest sets MICROGRAD_RUNNER, else the build's.
M.runner = os.getenv("MICROGRAD_RUNNER") or "build/micrograd"

--- s quoted for a POSIX shell.
function M.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

return M
