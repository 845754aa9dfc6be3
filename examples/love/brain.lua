--- The game's learning side, with no LÖVE in it: the points the player placed,
-- a network that learns live to tell the two colours apart, and a grid of its
-- scores for the screen. main.lua drives it once a frame; it runs in any Lua
-- micrograd runs in (tests/hosts/love_brain.lua checks it without LÖVE).
--
-- Each frame the game gives it a slice of training (`train.Trainer`, resumed
-- where the last slice stopped) and refreshes some rows of the grid through a
-- graph compiled once (`mg.compile`): inference replays it in C and allocates
-- nothing.
local mg = require("micrograd")

local M = {}
local Brain = {}
Brain.__index = Brain

--- A new brain for a screen of `width` x `height` pixels.
-- @tparam table opts `width`, `height` (pixels), `cols`, `rows` (the grid of
--   scores drawn over the screen), `seed` (the network's initial weights),
--   `clock` (`function() -> seconds`, for time budgets)
-- @treturn Brain
function M.new(opts)
  local self = setmetatable({
    width = opts.width, height = opts.height, cols = opts.cols, rows = opts.rows,
    seed = opts.seed or 1, clock = opts.clock,
  }, Brain)
  self:reset()
  return self
end

--- Forgets every point and starts again from fresh weights.
function Brain:reset()
  mg.seed(self.seed)
  -- Two tanh layers: enough for a few blobs, a ring or XOR, small enough to
  -- learn in a second of frames.
  local model = mg.nn.MLP(2, { 16, 16, 1 }, { activation = "tanh" })
  self.model = model
  self.optimizer = mg.optim.Adam(model:parameters(), { lr = 0.02 })
  -- Traced once with placeholders; the parameters are leaves read live at
  -- each call, so the graph always predicts with the latest weights.
  self.graph = mg.compile(function(x, y) return model({ x, y }) end, 2)
  self.X, self.y = {}, {}
  self.points = {} -- { {px, py, class}, ... } in screen pixels, class "a" or "b"
  self.trainer = nil
  self.steps = 0
  self.scores = {} -- scores[(row - 1) * cols + col]: > 0 is class a
  for i = 1, self.cols * self.rows do self.scores[i] = 0 end
  self.next_row = 1
end

--- The network's coordinates of a screen pixel: the screen's centre is 0, its
-- top and bottom edges -1 and 1 (the same scale on both axes).
function Brain:to_model(px, py)
  local half = self.height / 2
  return (px - self.width / 2) / half, (py - half) / half
end

--- Adds a point of class "a" or "b" at a screen pixel; training starts (or
-- goes on over the new data set) at the next slice.
function Brain:add(px, py, class)
  assert(class == "a" or class == "b", "class 'a' or 'b' expected")
  local points, n = self.points, #self.points + 1
  points[n] = { px, py, class }
  local x, y = self:to_model(px, py)
  self.X[n], self.y[n] = { x, y }, class == "a" and 1 or -1
  if self.trainer then
    self.trainer:set_data(self.X, self.y)
  else
    -- micrograd's hinge loss on the whole set of points, a step for ever; no
    -- history (a game can run for hours); small weights (l2) keep the
    -- boundary smooth between the points. Each step replays a compiled graph
    -- of a batch of 16 points (traced again after a click: with whole-set
    -- batches that trace grew with the points, to 20-30 ms a click at 100).
    self.trainer = mg.train.Trainer(self.model, self.X, self.y, {
      loss = "svm", optimizer = self.optimizer, steps = math.huge, l2 = 1e-4,
      history = false, clock = self.clock, compile = true, batch_size = 16,
    })
  end
end

--- One slice of training. `budget` is what `Trainer:run` takes: a number of
-- steps, or `{seconds = s}` (measured by the clock) to stay inside a frame.
-- @treturn integer the steps made
function Brain:train(budget)
  if not self.trainer then return 0 end
  local _, steps = self.trainer:run(budget)
  self.steps = self.steps + steps
  return steps
end

--- The last step's loss and accuracy (nil before the first step).
function Brain:progress()
  local t = self.trainer
  if not t then return nil end
  return t.last_loss, t.last_accuracy
end

--- The network's score at a screen pixel (> 0: class a).
function Brain:score(px, py)
  local x, y = self:to_model(px, py)
  return self.graph(x, y)
end

--- Recomputes `count` rows of the grid, going round; each cell's score is the
-- network's at the cell's centre. Returns the first and last rows done.
function Brain:refresh(count)
  local cols, rows, scores, graph = self.cols, self.rows, self.scores, self.graph
  local cw, ch = self.width / cols, self.height / rows
  local half = self.height / 2
  local first = self.next_row
  local row = first
  for _ = 1, math.min(count, rows) do
    local y = ((row - 0.5) * ch - half) / half
    local base = (row - 1) * cols
    for col = 1, cols do
      scores[base + col] = graph(((col - 0.5) * cw - self.width / 2) / half, y)
    end
    row = row % rows + 1
  end
  self.next_row = row
  return first, (row - 2) % rows + 1
end

--- How many points the network puts on the wrong side (0 once it has learnt).
function Brain:mistakes()
  local wrong = 0
  for _, p in ipairs(self.points) do
    if (self:score(p[1], p[2]) > 0) ~= (p[3] == "a") then wrong = wrong + 1 end
  end
  return wrong
end

return M
