-- A GC step at (nearly) every allocation, for the GC-stress CI step (.ci/run
-- runs the busted specs with LUA_INIT_5_4=@tests/gc_stress.lua): pause 0
-- starts a new cycle as soon as one ends and a 2-byte step size makes every
-- allocation that checks for garbage do a step, so finalizers run inside
-- allocations all through the library. MG_GC_STRESS = "pause,stepmul,stepsize"
-- (default "0,400,1"); a larger stepmul ends cycles (and runs finalizers) more often.
local pause, stepmul, stepsize = (os.getenv("MG_GC_STRESS") or "0,400,1"):match("^(%d+),(%d+),(%d+)$")
assert(pause, "MG_GC_STRESS: pause,stepmul,stepsize expected")
collectgarbage("incremental", 100, 100, tonumber(stepsize))
collectgarbage("setpause", tonumber(pause)) -- "incremental" leaves a 0 alone
collectgarbage("setstepmul", tonumber(stepmul))
