--- The scripted game of `love examples/love --scripted OUT.png` (CI): where the
-- "player" clicks, when, and for how long the game runs. The pixel check
-- (tests/hosts/love_pixels.lua) reads the same table.
--
-- Four blobs in an XOR layout: orange (a) top-left and bottom-right, blue (b)
-- top-right and bottom-left. No straight line separates them, so a network
-- that has not learnt gets at least one blob wrong.
local M = {
  width = 800, height = 600, -- the window (conf.lua opens it at this size)
  frames = 240,              -- frames to run; the screenshot is of the last
  click_every = 3,           -- frames between two clicks, from frame 1
  steps_per_frame = 3,       -- training steps a frame (fixed: the run repeats exactly)
  clicks = {},               -- { {x, y, class}, ... } in pixels
}

local blobs = { { 230, 170, "a" }, { 570, 170, "b" }, { 230, 430, "b" }, { 570, 430, "a" } }
local offsets = { { 0, 0 }, { -40, -22 }, { 38, -30 }, { -30, 34 }, { 42, 26 }, { 4, 48 } }
-- The blobs take turns, as a player placing both colours would.
for i = 1, #offsets do
  for _, blob in ipairs(blobs) do
    local o = offsets[i]
    M.clicks[#M.clicks + 1] = { blob[1] + o[1], blob[2] + o[2], blob[3] }
  end
end

return M
