-- A LÖVE 11.4 game where a network learns while you play: click points of two
-- colours, and watch micrograd draw the line between them, a slice of
-- training a frame.
--
--   love examples/love [--build DIR]          play (DIR: a LuaJIT build, default build)
--   love examples/love --scripted OUT.png     CI: fixed clicks, fixed frames,
--        [--frames N] [--steps-per-frame K]   a screenshot in OUT.png, frame times printed
--        [--budget-ms MS]                     train for MS a frame, as when playing (not fixed steps)
--
-- LÖVE runs LuaJIT: micrograd must be built for it (`make MG_LUA=luajit`; see
-- README "Embedding"). The learning is in brain.lua; this file draws.
-- luacheck: globals love
local scripted_layout = require("scripted")

-- ---- finding micrograd -----------------------------------------------------

-- An installed micrograd is found by LuaJIT's own paths. From a checkout, the
-- Lua modules are two directories up from the game and core.so in the build.
local function find_micrograd(build)
  if not build and pcall(require, "micrograd") then return end
  local repo = love.filesystem.getSource() .. "/../.."
  build = build or repo .. "/build"
  if build:sub(1, 1) ~= "/" then build = love.filesystem.getWorkingDirectory() .. "/" .. build end
  package.path = repo .. "/lua/?.lua;" .. repo .. "/lua/?/init.lua;" .. package.path
  package.cpath = build .. "/lib/?.so;" .. package.cpath
  local ok, err = pcall(require, "micrograd")
  if not ok then
    error("micrograd does not load in LÖVE's LuaJIT: build it for LuaJIT (make MG_LUA=luajit) and run"
      .. " love examples/love --build THAT_BUILD_DIR\n\n" .. tostring(err), 0)
  end
end

-- ---- the game's state --------------------------------------------------------

local W, H = scripted_layout.width, scripted_layout.height
local CELL = 10                   -- pixels a grid cell: 80 x 60 scores
local COLS, ROWS = W / CELL, H / CELL
local ROWS_PER_FRAME = 20         -- grid rows recomputed a frame (the whole grid every 3 frames)
-- Training a frame when playing: steps until this much time has gone (the
-- last step can go past it by a step, a fraction of a millisecond). Not a
-- `deadline` budget: the Trainer skips a deadline slice while its estimate of
-- a step is over the time left, and a slow step (the first after a click
-- compiles the new batch) can leave that estimate there for good.
local TRAIN_SECONDS = 0.004
local HUD_TOP = H - 44            -- the help bar at the bottom

local COLOUR = { a = { 1.00, 0.60, 0.18 }, b = { 0.25, 0.60, 1.00 } }
local BACKGROUND = { 0.11, 0.11, 0.13 }
-- What a fully confident cell adds to the background: orange or blue.
local TINT = { a = { 0.55, 0.26, 0.00 }, b = { 0.00, 0.22, 0.58 } }

local brain, grid_data, grid_image, font, small_font
local paused = false
local script -- the scripted run's settings and records, or nil when playing
local frame_start, last_update
local learn_ms = 0 -- the last frame's training + grid time, shown in the help bar

-- ---- drawing -------------------------------------------------------------------

-- The colour of a cell of score s: the background tinted towards the class's
-- colour as far as the network is sure (tanh of the score).
local function shade(s)
  local t = 1 - 2 / (math.exp(2 * s) + 1) -- tanh(s)
  local tint = t > 0 and TINT.a or TINT.b
  t = math.abs(t)
  return BACKGROUND[1] + tint[1] * t, BACKGROUND[2] + tint[2] * t, BACKGROUND[3] + tint[3] * t
end

-- Writes grid rows first..last (going round) into the image's pixels.
local function paint_rows(first, last)
  local scores, row = brain.scores, first
  while true do
    local base = (row - 1) * COLS
    for col = 1, COLS do
      local r, g, b = shade(scores[base + col])
      grid_data:setPixel(col - 1, row - 1, r, g, b, 1)
    end
    if row == last then break end
    row = row % ROWS + 1
  end
  grid_image:replacePixels(grid_data)
end

-- The line where the score is 0, by marching squares over the cell centres:
-- in each square of four centres, the points where the score crosses 0 on its
-- edges (linearly between two centres), joined in pairs.
local crossings = {} -- reused: no garbage a frame
local function draw_boundary()
  local scores = brain.scores
  local function cross(n, x1, y1, s1, x2, y2, s2)
    if (s1 > 0) == (s2 > 0) then return n end
    local f = s1 / (s1 - s2)
    crossings[n + 1], crossings[n + 2] = x1 + (x2 - x1) * f, y1 + (y2 - y1) * f
    return n + 2
  end
  love.graphics.setColor(1, 1, 1, 0.85)
  love.graphics.setLineWidth(2)
  love.graphics.setLineStyle("rough") -- "smooth" leaves gaps between the short segments
  for row = 1, ROWS - 1 do
    local above, below = (row - 1) * COLS, row * COLS
    local y0 = (row - 0.5) * CELL
    local y1 = y0 + CELL
    for col = 1, COLS - 1 do
      local s00, s10, s01, s11 = scores[above + col], scores[above + col + 1], scores[below + col],
        scores[below + col + 1]
      local x0 = (col - 0.5) * CELL
      local x1 = x0 + CELL
      local n = cross(0, x0, y0, s00, x1, y0, s10)
      n = cross(n, x1, y0, s10, x1, y1, s11)
      n = cross(n, x1, y1, s11, x0, y1, s01)
      n = cross(n, x0, y1, s01, x0, y0, s00)
      for i = 1, n - 3, 4 do
        love.graphics.line(crossings[i], crossings[i + 1], crossings[i + 2], crossings[i + 3])
      end
    end
  end
end

local function draw_points()
  for _, p in ipairs(brain.points) do
    local c = COLOUR[p[3]]
    love.graphics.setColor(0.05, 0.05, 0.05)
    love.graphics.circle("fill", p[1], p[2], 8)
    love.graphics.setColor(c[1], c[2], c[3])
    love.graphics.circle("fill", p[1], p[2], 6)
  end
end

local function draw_help()
  love.graphics.setColor(0, 0, 0, 0.72)
  love.graphics.rectangle("fill", 0, HUD_TOP, W, H - HUD_TOP)
  love.graphics.setFont(font)
  love.graphics.setColor(1, 1, 1)
  local n = #brain.points
  if n == 0 then
    love.graphics.print("Place orange and blue points: the network learns the line between them.", 10,
      HUD_TOP + 5)
  else
    local loss, accuracy = brain:progress()
    love.graphics.print(string.format("%d points   %d steps   loss %s   accuracy %s%s", n, brain.steps,
      loss and string.format("%.4f", loss) or "-",
      accuracy and string.format("%.0f%%", 100 * accuracy) or "-", paused and "   (paused)" or ""),
      10, HUD_TOP + 5)
  end
  love.graphics.setFont(small_font)
  love.graphics.setColor(0.8, 0.8, 0.8)
  love.graphics.print(string.format(
    "left click: orange   right/shift click: blue   space: pause learning   r: start again   esc: quit"
      .. "      learning %.1f ms/frame, %d fps", learn_ms, love.timer.getFPS()), 10, HUD_TOP + 25)
end

-- ---- the scripted run (CI) ---------------------------------------------------------

local function parse_args(args)
  local valued = { ["--scripted"] = true, ["--frames"] = true, ["--steps-per-frame"] = true,
    ["--budget-ms"] = true, ["--build"] = true }
  local opts = {}
  local i = 1
  while i <= #args do
    local a, v = args[i], args[i + 1]
    if valued[a] then
      if not v then error(a .. " needs a value", 0) end
      opts[a:sub(3)] = v
      i = i + 2
    else
      error("unknown argument " .. a .. " (see examples/love/main.lua)", 0)
    end
  end
  return opts
end

local function percentile(sorted, p)
  return sorted[math.max(1, math.ceil(p * #sorted))]
end

local function report_times()
  local function line(name, times)
    local sorted = {}
    for i, t in ipairs(times) do sorted[i] = t end
    table.sort(sorted)
    print(string.format("%s: median %.2f ms, p95 %.2f ms, max %.2f ms over %d frames", name,
      1e3 * percentile(sorted, 0.5), 1e3 * percentile(sorted, 0.95), 1e3 * sorted[#sorted], #sorted))
  end
  line("frame time", script.frame_times)
  line("learning time (training + grid)", script.learn_times)
  line("drawing time (love.draw)", script.draw_times)
end

local function finish_script()
  -- The whole grid with the final weights, then the screenshot of this frame.
  paint_rows(brain:refresh(ROWS))
  love.graphics.captureScreenshot(function(image)
    local file = assert(io.open(script.out, "wb"))
    assert(file:write(image:encode("png"):getString()))
    assert(file:close())
    local loss, accuracy = brain:progress()
    print(string.format("points %d, steps %d, loss %s, accuracy %s, points on the wrong side %d",
      #brain.points, brain.steps, loss and string.format("%.4f", loss) or "-",
      accuracy and string.format("%.0f%%", 100 * accuracy) or "-", brain:mistakes()))
    report_times()
    print("screenshot " .. script.out)
    love.event.quit(0)
  end)
end

-- ---- LÖVE's callbacks ----------------------------------------------------------------

-- A scripted run has nobody to read LÖVE's error screen: an error ends it
-- with status 1 instead.
local unattended = false
local default_errorhandler = love.errorhandler or love.errhand
function love.errorhandler(msg)
  if unattended then
    io.stderr:write("examples/love: " .. debug.traceback(tostring(msg), 2) .. "\n")
    os.exit(1)
  end
  return default_errorhandler(msg)
end

function love.load(args)
  io.stdout:setvbuf("line")
  for _, a in ipairs(args) do
    if a == "--scripted" then unattended = true end
  end
  local opts = parse_args(args)
  find_micrograd(opts.build)
  if opts.scripted then
    script = {
      out = opts.scripted, frame = 0, click = 1,
      frames = tonumber(opts.frames) or scripted_layout.frames,
      steps = tonumber(opts["steps-per-frame"]) or scripted_layout.steps_per_frame,
      budget = opts["budget-ms"] and tonumber(opts["budget-ms"]) / 1e3,
      frame_times = {}, learn_times = {}, draw_times = {},
    }
    love.window.setVSync(0) -- as fast as it goes: the frame times are the game's own
  end
  love.graphics.setBackgroundColor(BACKGROUND)
  font = love.graphics.newFont(15)
  small_font = love.graphics.newFont(12)
  brain = require("brain").new({
    width = W, height = H, cols = COLS, rows = ROWS, seed = 1, clock = love.timer.getTime,
  })
  grid_data = love.image.newImageData(COLS, ROWS)
  grid_image = love.graphics.newImage(grid_data)
  grid_image:setFilter("linear", "linear") -- smooth colours between cell centres
  paint_rows(brain:refresh(ROWS))
end

function love.update()
  local now = love.timer.getTime()
  if script then
    if last_update then script.frame_times[#script.frame_times + 1] = now - last_update end
    last_update = now
    script.frame = script.frame + 1
    local every, clicks = scripted_layout.click_every, scripted_layout.clicks
    if (script.frame - 1) % every == 0 and script.click <= #clicks then
      local c = clicks[script.click]
      brain:add(c[1], c[2], c[3])
      script.click = script.click + 1
    end
  end
  frame_start = now
  if script then
    if script.budget then
      brain:train({ seconds = script.budget })
    elseif script.steps > 0 then
      brain:train(script.steps)
    end
  elseif not paused then
    brain:train({ seconds = TRAIN_SECONDS })
  end
  paint_rows(brain:refresh(ROWS_PER_FRAME))
  local learned = love.timer.getTime() - frame_start
  learn_ms = 1e3 * learned
  if script then
    script.learn_times[#script.learn_times + 1] = learned
    if script.frame == script.frames then finish_script() end
  end
end

function love.draw()
  local start = love.timer.getTime()
  love.graphics.setColor(1, 1, 1)
  love.graphics.draw(grid_image, 0, 0, 0, CELL, CELL)
  draw_boundary()
  draw_points()
  draw_help()
  if script then script.draw_times[#script.draw_times + 1] = love.timer.getTime() - start end
end

function love.mousepressed(x, y, button)
  if script or y >= HUD_TOP then return end
  local shift = love.keyboard.isDown("lshift", "rshift")
  if button == 1 and not shift then
    brain:add(x, y, "a")
  elseif button == 2 or (button == 1 and shift) then
    brain:add(x, y, "b")
  end
end

function love.keypressed(key)
  if key == "escape" then
    love.event.quit()
  elseif script then
    return
  elseif key == "r" then
    brain:reset()
    paint_rows(brain:refresh(ROWS))
  elseif key == "space" then
    paused = not paused
  end
end
