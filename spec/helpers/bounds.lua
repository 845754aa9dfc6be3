--- Time and memory bounds for the hostile-input specs.
--
-- Under Valgrind (or any slow build) ctest sets MG_TIME_SCALE, a factor for
-- every time bound; memory bounds stay as they are.
local check = require("spec.helpers.check")
local M = {}

M.TIME_SCALE = tonumber(os.getenv("MG_TIME_SCALE") or "") or 1

--- Calls fn() with the garbage collector stopped and asserts that it took
-- less than `seconds` of CPU time (times TIME_SCALE) and allocated less than
-- `kib` KiB in all: with the collector stopped, the growth of
-- collectgarbage("count") is everything fn allocated, garbage included.
-- An error in fn is raised again. Returns fn's results.
function M.within(seconds, kib, fn)
  collectgarbage("collect")
  collectgarbage("stop")
  local kib0, t0 = collectgarbage("count"), os.clock()
  local results = check.pack(pcall(fn))
  local took, grew = os.clock() - t0, collectgarbage("count") - kib0
  collectgarbage("restart")
  collectgarbage("collect")
  if not results[1] then error(results[2], 0) end
  local limit = seconds * M.TIME_SCALE
  assert(took < limit, string.format("took %.2f s of CPU time (bound %g s)", took, limit))
  assert(grew < kib, string.format("allocated %.0f KiB (bound %g KiB)", grew, kib))
  return check.unpack(results, 2, results.n)
end

--- The error message of fn(...), which must fail, within the bounds of `within`.
function M.error_within(seconds, kib, fn, ...)
  local args = check.pack(...)
  local ok, err = M.within(seconds, kib, function()
    return pcall(fn, check.unpack(args, 1, args.n))
  end)
  assert(not ok, "expected an error, but the call succeeded")
  assert(type(err) == "string", "expected a string error, got " .. type(err))
  return err
end

--- A new temporary file holding text; returns its path (remove it after).
function M.temp_file(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  f:close()
  return path
end

return M
