--- Running finalizers at a chosen moment, for the specs of memory safety:
-- a finalizer can run inside any allocation a C function makes, and do
-- anything (close a graph, end a mode) while that function still works.
local check = require("spec.helpers.check")
local M = {}

--- The collector's settings in the GC-stress CI step (MG_GC_STRESS =
-- "pause,stepmul,stepsize", see tests/gc_stress.lua), else Lua's defaults.
local function settings()
  local pause, stepmul, stepsize = (os.getenv("MG_GC_STRESS") or ""):match("^(%d+),(%d+),(%d+)$")
  if pause then return tonumber(pause), tonumber(stepmul), tonumber(stepsize) end
  return 200, 100, 13
end

-- Makes each GC step as small as the collector allows: Lua 5.4's stepsize 1;
-- elsewhere (no "incremental" option) the smallest step multiplier.
local function small_steps()
  if check.lua54 then
    collectgarbage("incremental", 100, 100, 1) -- a step does one single step's work
  else
    collectgarbage("setpause", 100)
    collectgarbage("setstepmul", 1) -- (5.3 takes it as 40)
  end
end

-- An object whose finalizer is fn: a table where tables have __gc (5.2+), else
-- a userdata (5.1 and LuaJIT run __gc for userdata only).
local newproxy = rawget(_G, "newproxy")
local function finalized(fn)
  if check.table_gc then return setmetatable({}, { __gc = fn }) end
  local u = newproxy(true)
  getmetatable(u).__gc = fn
  return u
end

--- Calls call() with finalizers pending, so that the first GC step inside it
-- (the first allocation that checks for garbage) runs on_gc(): the collector
-- is stepped one single step at a time until a batch of finalizers has run
-- and more are waiting. Returns whether on_gc ran during call, then what
-- pcall(call) returned.
function M.with_pending_finalizers(on_gc, call)
  collectgarbage("collect")
  collectgarbage("stop")
  small_steps()
  local ran, armed, during = 0, false, false
  for _ = 1, 100 do
    finalized(function()
      ran = ran + 1
      if armed then
        during = true
        on_gc()
      end
    end)
  end
  local steps = 0
  while ran == 0 and steps < 1000000 do
    collectgarbage("step", 0)
    steps = steps + 1
  end
  assert(ran > 0 and ran < 100, "finalizers ran in a way these specs do not expect")
  armed = true
  collectgarbage("restart")
  local results = check.pack(pcall(call))
  armed = false
  local pause, stepmul, stepsize = settings()
  if check.lua54 then collectgarbage("incremental", 100, 100, stepsize) end
  collectgarbage("setpause", pause) -- "incremental" leaves a 0 alone
  collectgarbage("setstepmul", stepmul)
  collectgarbage("collect")
  return during, check.unpack(results, 1, results.n)
end

return M
