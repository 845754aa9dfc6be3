--- Pictures as a person sees them: renders SVG text with headless Chromium
-- (Debian `chromium`) to PNG, converts it with `pngtopnm` (Debian `netpbm`)
-- to binary PPM and reads its pixels. Programs run through micrograd._system.run, never a
-- shell.
require("micrograd.core") -- registers micrograd._system
local system = require("micrograd._system")

local M = {}

--- Chromium's flags for a closed network (MACHINE.md).
local CHROMIUM_FLAGS = {
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--hide-scrollbars", "--force-device-scale-factor=1",
}

local missing_reason -- false once the tools were found

--- Runs argv without the sanitizer runtime that the ASan test build preloads
-- (Chromium spins forever under it): `env -u LD_PRELOAD ... argv`.
local function clean_run(argv)
  local full = { "env", "-u", "LD_PRELOAD", "-u", "ASAN_OPTIONS" }
  for _, a in ipairs(argv) do full[#full + 1] = a end
  return system.run(full)
end

--- nil when chromium and pngtopnm can run, else why not (for `pending`).
function M.missing()
  if missing_reason == nil then
    missing_reason = false
    local tools = {
      { "chromium", "Debian package chromium" }, { "pngtopnm", "Debian package netpbm" },
      { "timeout", "coreutils" },
    }
    for _, tool in ipairs(tools) do
      if clean_run({ tool[1], "--version" }) ~= 0 then -- env says 127 when it cannot find it
        missing_reason = string.format("%s is not installed (%s)", tool[1], tool[2])
        break
      end
    end
  end
  return missing_reason or nil
end

local function run(argv)
  local status, out, err = clean_run(argv)
  if status ~= 0 then
    error(string.format("%s failed (%s): %s", argv[1], tostring(status), tostring(err or out)), 2)
  end
  return out
end

--- Reads a binary PPM (P6, maxval 255): returns an image.
local function parse_ppm(ppm)
  local w, h, maxval, stop = ppm:match("^P6%s+(%d+)%s+(%d+)%s+(%d+)%s()")
  assert(w and tonumber(maxval) == 255, "not a binary PPM with maxval 255")
  w, h = tonumber(w), tonumber(h)
  assert(#ppm - stop + 1 >= w * h * 3, "PPM data too short")
  local data = ppm:sub(stop)
  local image = { width = w, height = h }
  --- The colour at pixel (x, y), 0-based from the top left: r, g, b in 0..255.
  function image.rgb(x, y)
    local i = (y * w + x) * 3 + 1
    return data:byte(i, i + 2)
  end
  return image
end

--- Renders svg (text) in a width x height window: returns an image with
-- `width`, `height` and `rgb(x, y)`.
function M.render(svg, width, height)
  local dir = run({ "mktemp", "-d" }):gsub("%s+$", "")
  local ok, result = pcall(function()
    local svg_path, png_path = dir .. "/picture.svg", dir .. "/picture.png"
    local f = assert(io.open(svg_path, "wb"))
    f:write(svg)
    f:close()
    local argv = { "timeout", "60", "chromium" }
    for _, flag in ipairs(CHROMIUM_FLAGS) do argv[#argv + 1] = flag end
    argv[#argv + 1] = "--user-data-dir=" .. dir .. "/profile"
    argv[#argv + 1] = "--screenshot=" .. png_path
    argv[#argv + 1] = string.format("--window-size=%d,%d", width, height)
    argv[#argv + 1] = "file://" .. svg_path
    run(argv)
    return parse_ppm(run({ "pngtopnm", png_path }))
  end)
  run({ "rm", "-rf", dir })
  if not ok then error(result, 2) end
  return result
end

--- "#rrggbb" as r, g, b.
function M.rgb_of(hex)
  return tonumber(hex:sub(2, 3), 16), tonumber(hex:sub(4, 5), 16), tonumber(hex:sub(6, 7), 16)
end

--- Whether pixel (x, y) of image is within tol (per channel) of colour hex.
function M.is(image, x, y, hex, tol)
  local r, g, b = image.rgb(x, y)
  local r2, g2, b2 = M.rgb_of(hex)
  tol = tol or 3
  return math.abs(r - r2) <= tol and math.abs(g - g2) <= tol and math.abs(b - b2) <= tol
end

--- Whether a pixel within `radius` of (x, y) is within tol of colour hex
-- (a point's centre may be crossed by the white outline of a later point).
function M.is_near(image, x, y, hex, tol, radius)
  for dy = -radius, radius do
    for dx = -radius, radius do
      if M.is(image, x + dx, y + dy, hex, tol) then return true end
    end
  end
  return false
end

--- The plot area of an SVG written by viz: x, y, width, height of its frame.
function M.plot_area(svg)
  local x, y, w, h = svg:match('<rect class="frame" x="([%d.]+)" y="([%d.]+)" '
    .. 'width="([%d.]+)" height="([%d.]+)"')
  assert(x, "no plot frame in the SVG")
  return tonumber(x), tonumber(y), tonumber(w), tonumber(h)
end

--- The pixels inside the plot area (a margin of 2 pixels inside the frame)
-- within tol of colour hex: an array of {x, y}.
function M.pixels_of(image, svg, hex, tol)
  local x0, y0, w, h = M.plot_area(svg)
  local found = {}
  for y = math.ceil(y0) + 2, math.floor(y0 + h) - 3 do
    for x = math.ceil(x0) + 2, math.floor(x0 + w) - 3 do
      if M.is(image, x, y, hex, tol) then found[#found + 1] = { x, y } end
    end
  end
  return found
end

--- The circles of an SVG in order: an array of {cx, cy, fill}.
function M.circles(svg)
  local list = {}
  for cx, cy, fill in svg:gmatch('<circle cx="([-%d.]+)" cy="([-%d.]+)" r="[%d.]+" fill="(#%x+)"') do
    list[#list + 1] = { tonumber(cx), tonumber(cy), fill }
  end
  return list
end

return M
