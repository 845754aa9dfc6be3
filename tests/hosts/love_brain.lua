-- The LÖVE game's learning side (examples/love/brain.lua) without LÖVE, in
-- whatever Lua the build is for: the scripted clicks and frames of
-- examples/love/scripted.lua, then every clicked point must be on its side of
-- the boundary, and the grid must say so too. With `0` as the argument (no
-- training at all) it must be the other way: the XOR layout is something an
-- untrained network gets wrong, which shows the check can fail.
--
--   build/micrograd tests/hosts/love_brain.lua ROOT [STEPS_PER_FRAME]
local root = assert(arg[1], "usage: love_brain.lua ROOT [STEPS_PER_FRAME]")
package.path = root .. "/examples/love/?.lua;" .. package.path
local brain_module, layout = require("brain"), require("scripted")
local steps = tonumber(arg[2]) or layout.steps_per_frame

local brain = brain_module.new({
  width = layout.width, height = layout.height, cols = 80, rows = 60, seed = 1,
})
local click = 1
for frame = 1, layout.frames do
  if (frame - 1) % layout.click_every == 0 and click <= #layout.clicks then
    local c = layout.clicks[click]
    brain:add(c[1], c[2], c[3])
    click = click + 1
  end
  if steps > 0 then brain:train(steps) end
  brain:refresh(20)
end
brain:refresh(60)

-- The grid cell under each point must agree with the point's class too.
local grid_wrong = 0
for _, p in ipairs(brain.points) do
  local col, row = math.floor(p[1] / 10) + 1, math.floor(p[2] / 10) + 1
  if (brain.scores[(row - 1) * 80 + col] > 0) ~= (p[3] == "a") then grid_wrong = grid_wrong + 1 end
end
local wrong = brain:mistakes()
print(string.format("love brain: %d points, %d steps, %d on the wrong side (%d grid cells)", #brain.points,
  brain.steps, wrong, grid_wrong))
if steps > 0 then
  assert(wrong == 0 and grid_wrong == 0, "the network did not learn the clicked classes")
else
  assert(wrong > 0 and grid_wrong > 0, "an untrained network separated the classes: the check cannot fail")
end
