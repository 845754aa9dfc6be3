--- Internal: the SVG writer behind micrograd.viz_plot's pictures: numbers,
-- escaping, colours, the page, axes with ticks, frame, labels, title and
-- legend, and points. Every function appends lines to `parts`, an array of
-- strings that the picture joins; the output is the same bits for the same
-- input, whatever the C locale.
-- @module micrograd._svg
local file = require("micrograd._file")
local log10 = require("micrograd._compat").log10

local number = file.number -- string.format for one number, '.' whatever the locale
local floor, ceil, abs, max = math.floor, math.ceil, math.abs, math.max
local format = string.format

--- A coordinate or length, compactly: at most 2 decimals, no trailing zeros.
local function num(v)
  local s = number("%.2f", v)
  s = s:gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

local escapes = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }

local function escape(text)
  return (text:gsub("[&<>\"']", escapes))
end

--- Point colours for the first classes; later classes get hues around the circle.
local palette = {
  "#c8382d", "#2e6bb0", "#2f9a4a", "#e08a1e", "#7d4fb0",
  "#1f9e9a", "#8c5a3c", "#d45b9e", "#8a9a2a", "#6b6b6b",
}

--- A colour as "#rrggbb" from red, green and blue in [0, 1].
local function hex(r, g, b)
  return format("#%02x%02x%02x", floor(r * 255 + 0.5), floor(g * 255 + 0.5), floor(b * 255 + 0.5))
end

--- The colour of class c (its points), "#rrggbb".
local function class_color(c)
  if c <= #palette then return palette[c] end
  local h, s, l = ((c - 1) * 137.508) % 360 / 60, 0.55, 0.45 -- golden-angle hues, HSL
  local chroma = (1 - abs(2 * l - 1)) * s
  local x = chroma * (1 - abs(h % 2 - 1))
  local r, g, b
  if h < 1 then r, g, b = chroma, x, 0
  elseif h < 2 then r, g, b = x, chroma, 0
  elseif h < 3 then r, g, b = 0, chroma, x
  elseif h < 4 then r, g, b = 0, x, chroma
  elseif h < 5 then r, g, b = x, 0, chroma
  else r, g, b = chroma, 0, x end
  local m = l - chroma / 2
  return hex(r + m, g + m, b + m)
end

--- The light tint of colour (#rrggbb) that fills its class's region: 70% white.
local function region_color(color)
  local r, g, b = tonumber(color:sub(2, 3), 16), tonumber(color:sub(4, 5), 16), tonumber(color:sub(6, 7), 16)
  local function light(v) return (v / 255) * 0.3 + 0.7 end
  return hex(light(r), light(g), light(b))
end

local INK, GRID = "#333333", "#e6e6e6"

--- The page: layout of the plot area inside a width x height picture.
local function page(width, height, right)
  local left, top, bottom = 64, 40, 52
  return { width = width, height = height, left = left, top = top,
    w = width - left - right, h = height - top - bottom }
end

local function svg_open(parts, pg)
  parts[#parts + 1] = format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
    .. 'viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="12">',
    pg.width, pg.height, pg.width, pg.height)
  parts[#parts + 1] = format('<rect width="%d" height="%d" fill="#ffffff"/>', pg.width, pg.height)
end

--- "Nice" ticks (1, 2 or 5 times a power of ten) inside [lo, hi], about
-- `target` of them; returns the tick values and their decimals.
local function ticks(lo, hi, target)
  local raw = (hi - lo) / target
  local mag = 10 ^ floor(log10(raw))
  local f = raw / mag
  local step = (f < 1.5 and 1 or f < 3 and 2 or f < 7 and 5 or 10) * mag
  local list = {}
  for i = ceil(lo / step - 1e-9), floor(hi / step + 1e-9) do list[#list + 1] = i * step end
  local magnitude = floor(log10(step) + 1e-9)
  return list, magnitude < 0 and -magnitude or 0 -- (not max(0, -m): -0 is "-0" on 5.1 and LuaJIT)
end

local function tick_label(v, decimals)
  local s = number("%." .. decimals .. "f", v)
  if s:match("^%-0%.?0*$") then s = s:sub(2) end
  return s
end

--- Maps data to page coordinates: returns px(x) and py(y) for the box [x0, x1] x [y0, y1].
local function mapping(pg, x0, x1, y0, y1)
  local sx, sy = pg.w / (x1 - x0), pg.h / (y1 - y0)
  return function(x) return pg.left + (x - x0) * sx end,
    function(y) return pg.top + (y1 - y) * sy end
end

--- The bottom axis: gridlines (when grid), ticks and tick labels for
-- [x0, x1] (only whole numbers when integer).
local function x_axis(parts, pg, x0, x1, px, grid, integer)
  local list, decimals = ticks(x0, x1, max(2, pg.w / 90))
  local bottom = pg.top + pg.h
  for _, t in ipairs(list) do
    if not integer or t == floor(t) then
      local x = num(px(t))
      if grid then
        parts[#parts + 1] = format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>',
          x, num(pg.top), x, num(bottom), GRID)
      end
      parts[#parts + 1] = format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>',
        x, num(bottom), x, num(bottom + 5), INK)
      parts[#parts + 1] = format('<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>',
        x, num(bottom + 18), INK, tick_label(t, integer and 0 or decimals))
    end
  end
end

--- A side axis ("left" or "right"): gridlines (when grid), ticks and tick
-- labels for [y0, y1]; fmt(tick, decimals) writes a tick's label.
local function y_axis(parts, pg, y0, y1, py, grid, side, fmt)
  local list, decimals = ticks(y0, y1, max(2, pg.h / 60))
  local edge = side == "left" and pg.left or pg.left + pg.w
  local dir = side == "left" and -1 or 1
  for _, t in ipairs(list) do
    local y = num(py(t))
    if grid then
      parts[#parts + 1] = format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>',
        num(pg.left), y, num(pg.left + pg.w), y, GRID)
    end
    parts[#parts + 1] = format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>',
      num(edge), y, num(edge + 5 * dir), y, INK)
    parts[#parts + 1] = format('<text x="%s" y="%s" text-anchor="%s" fill="%s">%s</text>',
      num(edge + 8 * dir), num(py(t) + 4), side == "left" and "end" or "start", INK,
      (fmt or tick_label)(t, decimals))
  end
end

--- The frame of the plot area (class "frame": its box is the plot area).
local function frame(parts, pg)
  parts[#parts + 1] = format('<rect class="frame" x="%s" y="%s" width="%s" height="%s" fill="none" '
    .. 'stroke="%s"/>', num(pg.left), num(pg.top), num(pg.w), num(pg.h), INK)
end

--- Axis titles: below the bottom axis, and rotated beside the left/right axes.
local function axis_labels(parts, pg, xlabel, ylabel, rlabel)
  local cx, cy = pg.left + pg.w / 2, pg.top + pg.h / 2
  parts[#parts + 1] = format('<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>',
    num(cx), num(pg.top + pg.h + 40), INK, escape(xlabel))
  parts[#parts + 1] = format('<text x="%s" y="%s" text-anchor="middle" fill="%s" '
    .. 'transform="rotate(-90 %s %s)">%s</text>', num(16), num(cy), INK, num(16), num(cy), escape(ylabel))
  if rlabel then
    local x = pg.left + pg.w + 52
    parts[#parts + 1] = format('<text x="%s" y="%s" text-anchor="middle" fill="%s" '
      .. 'transform="rotate(90 %s %s)">%s</text>', num(x), num(cy), INK, num(x), num(cy), escape(rlabel))
  end
end

--- The title (top left) and a legend (top right): entries {color, text, kind}
-- with kind "box" (a class) or "line" (a curve).
local function title_legend(parts, pg, title, entries)
  if title then
    parts[#parts + 1] = format('<text x="%s" y="%s" font-size="15" font-weight="bold" fill="%s">%s</text>',
      num(pg.left), num(pg.top - 14), INK, escape(title))
  end
  local x, y = pg.left + pg.w, pg.top - 14
  for i = #entries, 1, -1 do -- right to left, so that the last entry ends at the frame's edge
    local e = entries[i]
    x = x - 7 * #e[2]
    parts[#parts + 1] = format('<text x="%s" y="%s" fill="%s">%s</text>', num(x), num(y), INK, escape(e[2]))
    if e[3] == "line" then
      parts[#parts + 1] = format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"/>',
        num(x - 26), num(y - 4), num(x - 6), num(y - 4), e[1])
      x = x - 26 - 16
    else
      parts[#parts + 1] = format('<rect x="%s" y="%s" width="10" height="10" fill="%s"/>',
        num(x - 15), num(y - 9), e[1])
      x = x - 15 - 16
    end
  end
end

--- Class legend entries for names.
local function class_entries(names)
  local entries = {}
  for c, name in ipairs(names) do entries[c] = { class_color(c), "class " .. name, "box" } end
  return entries
end

--- The data points, in order, as circles in their class's colour.
local function points(parts, X, n, cls, px, py)
  parts[#parts + 1] = '<g stroke="#ffffff" stroke-width="1">'
  for i = 1, n do
    local p = X[i]
    parts[#parts + 1] = format('<circle cx="%s" cy="%s" r="4.5" fill="%s"/>',
      num(px(p[1])), num(py(p[2])), class_color(cls[i]))
  end
  parts[#parts + 1] = "</g>"
end

local M = {
  num = num,
  escape = escape,
  hex = hex,
  class_color = class_color,
  region_color = region_color,
  page = page,
  svg_open = svg_open,
  ticks = ticks,
  tick_label = tick_label,
  mapping = mapping,
  x_axis = x_axis,
  y_axis = y_axis,
  frame = frame,
  axis_labels = axis_labels,
  title_legend = title_legend,
  class_entries = class_entries,
  points = points,
}

return M
