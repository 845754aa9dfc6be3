--- Internal: train.fit's progress output. On a terminal, a live bar redrawn
-- in place that fits the terminal's width (at least 40 columns) and says less
-- when narrow; otherwise plain lines, about ten per training.
-- @module micrograd._progress
local check = require("micrograd._check")
require("micrograd.core") -- registers micrograd._system
local system = require("micrograd._system")

local show = check.show
local isatty, terminal_width = system.isatty, system.terminal_width
local type, tostring, tonumber = type, tostring, tonumber
local format = require("micrograd._compat").format -- (printf's rounding of ties on LuaJIT too)
local rep, concat = string.rep, table.concat
local floor, ceil, huge = math.floor, math.ceil, math.huge

local M = {}

local MAX_BAR = 24
local MIN_BAR = 10
local MIN_COLUMNS = 40
local REDRAW = 0.1 -- seconds between redraws of the live bar

-- The columns of the terminal out writes to: $COLUMNS when it is a number,
-- else what the terminal says, else 80; never below 40.
local function columns(out)
  local oslib = os
  local env = type(oslib) == "table" and type(oslib.getenv) == "function"
    and tonumber(oslib.getenv("COLUMNS"))
  local cols = env and env >= 1 and floor(env) or terminal_width(out) or 80
  return math.max(cols, MIN_COLUMNS)
end

-- "12.3s", "4m05s", "2h07m"; "--" when unknown.
local function duration(s)
  if s ~= s or s < 0 or s == huge then return "--" end
  if s < 60 then return format("%.1fs", s) end
  if s < 3600 then return format("%dm%02ds", floor(s / 60), floor(s % 60)) end
  return format("%dh%02dm", floor(s / 3600), floor(s % 3600 / 60))
end

-- A loss in full ("%.6f", or "%.4e" when small) or short ("%.4g").
local function loss_number(x, short)
  if short then return format("%.4g", x) end
  return format((x == 0 or x >= 1e-3 or x ~= x) and "%.6f" or "%.4e", x)
end

local function loss_text(t, short, no_val)
  local parts = { "loss " .. loss_number(t.last_loss, short) }
  local acc = t.last_accuracy
  if acc then parts[#parts + 1] = format(short and "acc %.1f%%" or "accuracy %5.1f%%", acc * 100) end
  if t.last_val_loss and not no_val then
    parts[#parts + 1] = (short and "val " or "val_loss ") .. loss_number(t.last_val_loss, short)
  end
  return concat(parts, "  ")
end

-- "k/total", or "k" for a training that never ends.
local function count_text(p, t)
  if t.total_steps == huge then return format("%d", t.step_count) end
  return format(p.step_format, t.step_count, t.total_steps)
end

-- A bar of `width` characters inside brackets, filled to k / total.
local function bar_text(t, width)
  local filled = floor(width * t.step_count / t.total_steps)
  return "[" .. rep("=", filled) .. (filled < width and ">" .. rep(" ", width - filled - 1) or "") .. "]"
end

-- The live bar: one line of at most `room` characters, redrawn in place. The
-- richest layout that fits: step count, bar, loss, accuracy, validation loss,
-- speed, time left; narrower terminals drop the speed, then shorten the
-- words, then drop the bar, the validation loss, then the time.
local function bar_line(p, t, now, room)
  local elapsed = now - p.start
  local rate = elapsed > 0 and (t.step_count - p.first) / elapsed or nil
  local tail
  if t.done then
    tail = "done in " .. duration(elapsed)
  else
    tail = "ETA " .. (rate and t.total_steps < huge and duration((t.total_steps - t.step_count) / rate)
      or "--")
  end
  local speed = (rate and format("%.1f", rate) or "--") .. " steps/s"
  local count = count_text(p, t)
  local long, short = loss_text(t, false), loss_text(t, true)
  local layouts = {
    { count, true, long, speed, tail },
    { count, true, long, tail },
    { count, true, short, tail },
    { count, short, tail },
    { count, loss_text(t, true, true), tail },
    { count, loss_text(t, true, true) },
    { count, "loss " .. loss_number(t.last_loss, true) },
  }
  for _, parts in ipairs(layouts) do
    local has_bar = parts[2] == true
    local text = concat(parts, "  ", has_bar and 3 or 2)
    if not has_bar and #count + 2 + #text <= room then return count .. "  " .. text end
    if has_bar and t.total_steps < huge then
      local width = math.min(MAX_BAR, room - #count - #text - 5) -- " [", "]  " around the bar
      if width >= MIN_BAR then return count .. " " .. bar_text(t, width) .. "  " .. text end
    end
  end
  return (count .. "  loss " .. loss_number(t.last_loss, true)):sub(1, room)
end

local function plain_line(p, t)
  return format("step %s  %s\n", count_text(p, t), loss_text(t))
end

--- Writes what the progress shows after trainer t's step (or at the end, when final).
-- @tparam table p from `for_fit`
-- @tparam table t the Trainer
-- @tparam boolean final
function M.show(p, t, final)
  local k = t.step_count
  if p.terminal then
    local now = p.clock()
    if final or k == p.first + 1 or now - p.drawn >= REDRAW then
      -- one column spare: a line that fills the last column wraps on some terminals
      p.out:write("\r", bar_line(p, t, now, columns(p.out) - 1), "\27[K", final and "\n" or "")
      p.out:flush()
      p.drawn = now
    end
  elseif k > p.first and ((k - 1) % p.every == 0 or final) and p.printed ~= k then
    p.out:write(plain_line(p, t))
    p.printed = k
  end
end

--- The progress output for fit's opts (`progress`, `terminal`) and Trainer t:
-- a table for `show`, nil for none, or nil and a message.
function M.for_fit(opts, t)
  local progress, terminal = opts.progress, opts.terminal
  if progress == nil then progress = "auto" end
  if terminal ~= nil and type(terminal) ~= "boolean" then
    return nil, format("option 'terminal': boolean expected, got %s", show(terminal))
  end
  local iolib = io
  local out
  if progress == false then
    return nil
  elseif progress == true or progress == "auto" then
    if not iolib then
      if progress == "auto" then return nil end
      return nil, "option 'progress': writing progress needs the io library"
    end
    out = iolib.stdout
  elseif iolib and iolib.type(progress) == "file" then
    out = progress
  else
    return nil, format("option 'progress': boolean, 'auto' or an open file expected, got %s", show(progress))
  end
  if terminal == nil then terminal = isatty(out) end
  local total = t.total_steps
  local width = total < huge and #tostring(total) or 1
  return {
    out = out, terminal = terminal, clock = t.clock, start = t.clock(), drawn = -huge,
    first = t.step_count, printed = nil, step_format = "%" .. width .. "d/%d",
    every = total < huge and math.max(1, ceil((total - t.step_count) / 10)) or 100,
  }
end

return M
