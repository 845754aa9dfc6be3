-- Checks the screenshot of the scripted LÖVE game (examples/love --scripted):
-- around every clicked point the field has its class's colour (orange for a,
-- blue for b), so the network's boundary separates the classes, and the
-- boundary line is drawn. Any Lua from 5.1 on; ImageMagick's `convert` reads
-- the PNG.
--
--   lua tests/hosts/love_pixels.lua SHOT.png examples/love/scripted.lua
--
-- Exits with 0 when every check passes, 1 when one fails (saying which), 2 on
-- an error (no picture, wrong size).
local shot, layout_file = arg[1], arg[2]
if not shot or not layout_file then
  io.stderr:write("usage: love_pixels.lua SHOT.png examples/love/scripted.lua\n")
  os.exit(2)
end
local layout = dofile(layout_file)

local RADIUS = 16     -- pixels from a point's centre to the samples (its dot has radius 8)
local SAMPLES = 8     -- samples around each point
local MARGIN = 40     -- red - blue (or blue - red) a sample needs, out of 255
local FIELD_BOTTOM = layout.height - 44 -- above the help bar

local function fail(code, msg)
  io.stderr:write("love_pixels: " .. msg .. "\n")
  os.exit(code)
end

-- The picture as a binary PPM (P6): width, height, and the RGB bytes.
local p = io.popen("convert '" .. shot:gsub("'", "'\\''") .. "' -depth 8 ppm:-", "r")
local data = p and p:read("*a")
if p then p:close() end
if not data or data == "" then fail(2, "cannot read " .. shot .. " (is ImageMagick installed?)") end
local width, height, maxval, header = data:match("^P6%s+(%d+)%s+(%d+)%s+(%d+)%s()")
width, height = tonumber(width), tonumber(height)
if not width or tonumber(maxval) ~= 255 then fail(2, shot .. " is not an 8-bit RGB picture") end
if width ~= layout.width or height ~= layout.height then
  fail(2, string.format("%s is %dx%d, the game's window is %dx%d", shot, width, height, layout.width,
    layout.height))
end

local function pixel(x, y)
  local i = header + 3 * (y * width + x)
  return data:byte(i, i + 2)
end

local failures, checked = {}, 0
for n, click in ipairs(layout.clicks) do
  local cx, cy, class = click[1], click[2], click[3]
  for k = 0, SAMPLES - 1 do
    local angle = 2 * math.pi * k / SAMPLES
    local x = math.floor(cx + RADIUS * math.cos(angle) + 0.5)
    local y = math.floor(cy + RADIUS * math.sin(angle) + 0.5)
    local r, g, b = pixel(x, y)
    local lead = class == "a" and r - b or b - r
    checked = checked + 1
    if lead < MARGIN then
      failures[#failures + 1] = string.format("click %d (%s at %d,%d): pixel %d,%d is rgb(%d,%d,%d), not %s",
        n, class, cx, cy, x, y, r, g, b, class == "a" and "orange" or "blue")
    end
  end
end

-- The boundary: near-white pixels in the field, away from the points.
local line = 0
for y = 0, FIELD_BOTTOM - 1, 2 do
  for x = 0, width - 1, 2 do
    local r, g, b = pixel(x, y)
    if r > 200 and g > 200 and b > 200 then line = line + 1 end
  end
end

print(string.format("love_pixels: %d of %d samples around %d clicks have their class's colour; %d boundary"
  .. " pixels", checked - #failures, checked, #layout.clicks, line))
for i = 1, math.min(#failures, 10) do print("  " .. failures[i]) end
if #failures > 10 then print(string.format("  ... and %d more", #failures - 10)) end
if #failures > 0 then fail(1, "the boundary does not separate the clicked classes") end
if line < 100 then fail(1, "no boundary line drawn") end
print("love_pixels: the boundary separates the clicked classes")
