-- common.lua - helpers the benchmark scripts share. They run on every Lua
-- micrograd supports (5.4, 5.3, 5.1, LuaJIT: bench/run.sh's row per Lua), so
-- they keep to the common subset: no //, no math.tointeger, no <close>.
--   local common = dofile(bench_dir .. "/common.lua")
local M = {}

--- A whole number from a command-line argument, or nil.
function M.whole(s)
  local n = tonumber(s)
  if n and n == math.floor(n) then return n end
  return nil
end

--- The median of an array of numbers (sorts the array).
function M.median(t)
  table.sort(t)
  return t[math.floor(#t / 2) + 1]
end

--- table.unpack (5.2+), or 5.1's and LuaJIT's global unpack.
M.unpack = rawget(table, "unpack") or rawget(_G, "unpack")

return M
