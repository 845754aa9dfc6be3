--- Training pictures: a model's decision regions, a loss curve and a scatter
-- plot as standalone SVG, and the decision regions as text for a terminal.
--
-- `micrograd.viz` re-exports these functions (`viz.decision_boundary`, ...).
-- Each SVG writer returns the SVG text and also writes it to `path` when one is
-- given; the text is the same bits for the same input.
--
-- Points are arrays `X` of `{x1, x2}` (2-D data only) with labels `y`: 0/1 or
-- -1/+1 for two classes, or classes 1..k. Colours: the first class (0, -1 or
-- 1) is red, the second (1, +1 or 2) blue, then green, orange, purple, ...;
-- regions are light tints of their class's colour and points are drawn in the
-- full colour with a white outline, as micrograd's demo plot.
-- @module micrograd.viz_plot
local check = require("micrograd._check")
local mg = require("micrograd")
local file = require("micrograd._file")
local compat = require("micrograd._compat")
local arg_error, describe = check.arg_error, check.describe

local number = file.number -- string.format for one number, '.' whatever the locale
local is_value = mg.is_value
local floor, huge = math.floor, math.huge
local max, min, tointeger = math.max, math.min, compat.tointeger
local no_grad = mg.no_grad
local format, rep, concat = string.format, string.rep, table.concat
local type, tostring, getmetatable = type, tostring, getmetatable

local M = {}

-- ---- argument checks -----------------------------------------------------

local function is_finite(v)
  return type(v) == "number" and v == v and v > -huge and v < huge
end

--- Checks X (argument arg): a non-empty array of points {x1, x2}. Returns #X.
-- `depth` is how many calls below the public function this check runs (1: called by it).
local function check_points(fname, arg, X, depth)
  local lvl = (depth or 1) + 1
  if type(X) ~= "table" then arg_error(fname, arg, "array of points expected, got " .. type(X), lvl + 1) end
  local n = #X
  if n == 0 then arg_error(fname, arg, "array of points expected, got an empty table", lvl + 1) end
  for i = 1, n do
    local p = X[i]
    if type(p) ~= "table" then
      arg_error(fname, arg, format("point {x1, x2} expected at index %d, got %s", i, type(p)), lvl + 1)
    end
    if #p ~= 2 then
      arg_error(fname, arg,
        format("point at index %d has %d coordinates: only 2-D points {x1, x2} can be drawn",
        i, #p), lvl + 1)
    end
    for j = 1, 2 do
      if not is_finite(p[j]) then
        arg_error(fname, arg, format("point at index %d: finite number expected for x%d, got %s",
          i, j, describe(p[j])), lvl + 1)
      end
    end
  end
  return n
end

local MAX_CLASSES = 256

--- Checks the labels y (argument arg) of n points: integers, one per point.
-- Returns whether they are all 0/1, whether all -1/+1, and the largest.
local function check_labels(fname, arg, y, n, depth)
  local lvl = (depth or 1) + 1
  if type(y) ~= "table" then arg_error(fname, arg, "array of labels expected, got " .. type(y), lvl + 1) end
  if #y ~= n then arg_error(fname, arg, format("%d labels expected (one per point), got %d", n, #y),
    lvl + 1) end
  local zero_one, signs, lo, hi = true, true, huge, -huge
  for i = 1, n do
    local v = y[i]
    if type(v) ~= "number" or not tointeger(v) then
      arg_error(fname, arg, format("integer label expected at index %d, got %s", i, describe(v)), lvl + 1)
    end
    zero_one = zero_one and (v == 0 or v == 1)
    signs = signs and (v == -1 or v == 1)
    lo, hi = min(lo, v), max(hi, v)
  end
  if not zero_one and not signs then
    if lo < 1 then
      arg_error(fname, arg, format("labels must be 0/1, -1/+1 or classes 1..k, got labels from %d to %d",
        tointeger(lo), tointeger(hi)), lvl + 1)
    end
    if hi > MAX_CLASSES then
      arg_error(fname, arg, format("at most %d classes can be drawn, got label %d", MAX_CLASSES,
        tointeger(hi)), lvl + 1)
    end
  end
  return zero_one, signs, tointeger(hi)
end

--- Class indices (1..k), k and the class names for labels y of n points.
-- Two-class labels (0/1, -1/+1) become classes 1 and 2 unless `multi` asks
-- for classes 1..k read as they are (a model with k outputs).
local function classes_of(y, n, zero_one, signs, hi, multi)
  local cls = {}
  if (zero_one or signs) and not multi then
    for i = 1, n do cls[i] = y[i] > 0 and 2 or 1 end
    return cls, 2, zero_one and { "0", "1" } or { "-1", "+1" }
  end
  local names = {}
  for c = 1, hi do names[c] = tostring(c) end
  for i = 1, n do cls[i] = tointeger(y[i]) end
  return cls, hi, names
end

-- Option rules (micrograd._check's schema format).
local function typed(kind)
  return { must = "a " .. kind, test = function(v) return type(v) == kind end, shown = type }
end

local function integer_in(lo, hi)
  return {
    must = format("an integer from %d to %d", lo, hi),
    test = function(v)
      local k = type(v) == "number" and tointeger(v)
      return k and k >= lo and k <= hi
    end,
    convert = tointeger,
  }
end

local STRING, BOOLEAN, SIZE = typed("string"), typed("boolean"), integer_in(100, 10000)

-- The options each function takes: {name, rule, default}.
local option_specs = {
  decision_boundary = {
    { "width", SIZE, 640 }, { "height", SIZE, 480 }, { "resolution", integer_in(2, 1000), 60 },
    { "title", STRING }, { "xlabel", STRING, "x1" }, { "ylabel", STRING, "x2" },
    { "equal_axes", BOOLEAN, false },
  },
  scatter = {
    { "width", SIZE, 640 }, { "height", SIZE, 480 },
    { "title", STRING }, { "xlabel", STRING, "x1" }, { "ylabel", STRING, "x2" },
    { "equal_axes", BOOLEAN, false },
  },
  loss_curve = { { "width", SIZE, 640 }, { "height", SIZE, 480 }, { "title", STRING } },
  ascii_boundary = { { "width", integer_in(8, 1000), 60 }, { "height", integer_in(4, 1000), 24 } },
}

--- Sorts out the optional `[path, opts]` arguments at position arg: a table in
-- place of the path is the options. Returns path, opts and the options' position.
local function path_and_opts(fname, arg, path, opts)
  if type(path) == "table" and opts == nil then return nil, path, arg end
  if path ~= nil and type(path) ~= "string" then
    arg_error(fname, arg, "file path (string) expected, got " .. type(path), 3)
  end
  return path, opts, arg + 1
end

--- Whether model can be called: a function, or a table/userdata with __call.
local function is_callable(model)
  if type(model) == "function" then return true end
  local mt = getmetatable(model)
  return type(mt) == "table" and mt.__call ~= nil
end

-- ---- writing files ---------------------------------------------------------

--- Writes text to path for viz.<fname>, atomically (micrograd._file); errors
-- blame the public function's caller.
local function save(fname, path, text)
  if not file.has_io() then -- looked up at each call: a sandboxed host may have removed it
    error(format("viz.%s needs the io library to write %s (call it without a path to get the text)",
      fname, path), 4)
  end
  local ok, err = file.write(path, text)
  if not ok then error(format("viz.%s cannot write %s", fname, err), 4) end
end

-- ---- the model ---------------------------------------------------------------

--- A score as a number: a number or a Value's data; nil for anything else.
local function score_of(v)
  if type(v) == "number" then return v end
  if is_value(v) then return v.data end
  return nil
end

--- Probes model on the first point. Returns classify(x1, x2) -> class index
-- (a single score gives 2 when it is > 0, else 1; k scores give the argmax,
-- the lowest class on ties) and k, the model's number of outputs.
-- Call it under mg.no_grad; `base` as for check_model_data.
local function classifier(fname, model, p, base)
  -- blame level: 3 from classify called by the public function (more with base and depth), 4 from the
  -- probe below (more with base)
  local function bad_output(out)
    return "the model must return a Value or an array of Values, got " .. type(out)
  end
  local probe = model({ p[1], p[2] })
  local k
  if score_of(probe) then
    k = 1
  elseif type(probe) == "table" and #probe >= 1 then
    k = #probe
  else
    arg_error(fname, 1, bad_output(probe), 4 + base)
  end
  local function classify(x1, x2, depth) -- depth: calls between classify and the body below no_grad
    local level = 3 + base + (depth or 0)
    local out = model({ x1, x2 })
    if k == 1 then
      if type(out) == "table" then out = out[1] end
      local s = score_of(out)
      if not s then arg_error(fname, 1, bad_output(out), level) end
      return s > 0 and 2 or 1
    end
    if type(out) ~= "table" or #out ~= k then arg_error(fname, 1, bad_output(out), level) end
    local best, best_score = 1, -huge
    for c = 1, k do
      local s = score_of(out[c])
      if not s then arg_error(fname, 1, bad_output(out[c]), level) end
      if s > best_score then best, best_score = c, s end -- NaN never wins
    end
    return best
  end
  return classify, k
end

--- Checks model, X and y for decision_boundary and ascii_boundary, probes the
-- model (under no_grad). Returns classify, n, cls, k, names. `base`: the calls
-- between the public function and check_model_data's caller (see BELOW_NO_GRAD).
local function check_model_data(fname, model, X, y, base)
  if not is_callable(model) then
    arg_error(fname, 1, "model expected (a function or a callable module), got " .. type(model), 3 + base)
  end
  local n = check_points(fname, 2, X, 2 + base)
  local zero_one, signs, hi = check_labels(fname, 3, y, n, 2 + base)
  local classify, k = classifier(fname, model, X[1], base)
  if k == 1 and not (zero_one or signs) then
    arg_error(fname, 3, "a model with one output separates two classes: labels 0/1 or -1/+1 expected, "
      .. format("got classes 1..%d", hi), 3 + base)
  end
  if k > 1 then
    for i = 1, n do
      local v = y[i]
      if v < 1 or v > k then
        arg_error(fname, 3, format("classes 1..%d expected for a model with %d outputs, got %s at index %d",
          k, k, describe(v), i), 3 + base)
      end
    end
  end
  local cls, _, names = classes_of(y, n, zero_one, signs, k > 1 and k or hi, k > 1)
  return classify, n, cls, max(k, 2), names
end

--- The box [x0, x1] x [y0, y1] covering the points with a margin of `pad`
-- times the larger side on every side (1 when all points coincide).
local function bounds(X, n, pad)
  local x0, x1, y0, y1 = huge, -huge, huge, -huge
  for i = 1, n do
    local p = X[i]
    x0, x1, y0, y1 = min(x0, p[1]), max(x1, p[1]), min(y0, p[2]), max(y1, p[2])
  end
  local m = pad * max(x1 - x0, y1 - y0)
  if m == 0 then m = 1 end
  return x0 - m, x1 + m, y0 - m, y1 + m
end

--- The box grown along one axis so that a unit is as long on both axes in the
-- plot area of page pg (opts.equal_axes), the data staying centred.
local function equalize(pg, x0, x1, y0, y1)
  local ux, uy = (x1 - x0) / pg.w, (y1 - y0) / pg.h -- data units per pixel
  if ux > uy then
    local extra = (ux * pg.h - (y1 - y0)) / 2
    return x0, x1, y0 - extra, y1 + extra
  end
  local extra = (uy * pg.w - (x1 - x0)) / 2
  return x0 - extra, x1 + extra, y0, y1
end

-- the SVG writer (micrograd._svg)
local svg = require("micrograd._svg")
local num, class_color, region_color, page = svg.num, svg.class_color, svg.region_color, svg.page
local svg_open, mapping, x_axis, y_axis = svg.svg_open, svg.mapping, svg.x_axis, svg.y_axis
local frame, axis_labels, title_legend = svg.frame, svg.axis_labels, svg.title_legend
local class_entries, points = svg.class_entries, svg.points

--- Finishes the SVG text, writes it when a path is given, returns it.
local function finish(fname, parts, path)
  parts[#parts + 1] = "</svg>\n"
  local text = concat(parts, "\n")
  if path then save(fname, path, text) end
  return text
end

-- ---- the pictures ----------------------------------------------------------

-- The page of a picture of points X[1..n] (decision_boundary, scatter):
-- its bounds padded by pad, equal axes when o says so; the SVG opened in parts.
-- Returns pg, parts, px, py (the mappings) and the bounds x0, x1, y0, y1.
local function scatter_page(o, X, n, pad)
  local x0, x1, y0, y1 = bounds(X, n, pad)
  local pg = page(o.width, o.height, 20)
  if o.equal_axes then x0, x1, y0, y1 = equalize(pg, x0, x1, y0, y1) end
  local px, py = mapping(pg, x0, x1, y0, y1)
  local parts = {}
  svg_open(parts, pg)
  return pg, parts, px, py, x0, x1, y0, y1
end

-- The decision regions on a res x res grid of cells: one rect per run of
-- equal class along each row.
local function draw_regions(parts, pg, classify, k, res, x0, x1, y0, y1)
  local tints = {}
  for c = 1, k do tints[c] = region_color(class_color(c)) end
  local xs, edges_x, edges_y = {}, {}, {}
  for i = 0, res do
    edges_x[i] = file.tonumber(num(pg.left + pg.w * i / res)) -- (5.1's tonumber reads the locale's point)
    edges_y[i] = file.tonumber(num(pg.top + pg.h * i / res))
  end
  for i = 1, res do xs[i] = x0 + (x1 - x0) * (i - 0.5) / res end
  parts[#parts + 1] = '<g shape-rendering="crispEdges">'
  for j = 1, res do
    local yc = y1 - (y1 - y0) * (j - 0.5) / res
    local run_start, run_class = 1, classify(xs[1], yc, 1)
    for i = 2, res + 1 do
      local c = i <= res and classify(xs[i], yc, 1) or nil
      if c ~= run_class then
        parts[#parts + 1] = format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>',
          num(edges_x[run_start - 1]), num(edges_y[j - 1]), num(edges_x[i - 1] - edges_x[run_start - 1]),
          num(edges_y[j] - edges_y[j - 1]), tints[run_class])
        run_start, run_class = i, c
      end
    end
  end
  parts[#parts + 1] = "</g>"
end

-- The pictures that run the model do it under mg.no_grad's function form, so
-- their checks run two calls further from the public function (its body's
-- function and no_grad itself): BELOW_NO_GRAD, the `base` of check_model_data.
local BELOW_NO_GRAD = 2

-- decision_boundary's SVG parts, but for the closing tag (under no_grad).
local function boundary_parts(model, X, y, o)
  local classify, n, cls, k, names = check_model_data("decision_boundary", model, X, y, BELOW_NO_GRAD)
  local pg, parts, px, py, x0, x1, y0, y1 = scatter_page(o, X, n, 0.2)
  draw_regions(parts, pg, classify, k, o.resolution, x0, x1, y0, y1)
  frame(parts, pg)
  x_axis(parts, pg, x0, x1, px, false)
  y_axis(parts, pg, y0, y1, py, false, "left")
  axis_labels(parts, pg, o.xlabel, o.ylabel)
  title_legend(parts, pg, o.title, class_entries(names))
  points(parts, X, n, cls, px, py)
  return parts
end

--- The model's decision regions with the data on top, as micrograd's demo plot
-- (`plt.contourf` + `plt.scatter`): an SVG picture.
--
-- The model is evaluated under `mg.no_grad` at the centre of each cell of a
-- grid covering the points with a margin (a fifth of the larger side of their
-- box on every side). A model with one output (a Value, or a number) colours
-- a cell with the class of its sign: score > 0 is class 1 (or +1), else 0 (or
-- -1); labels must then be 0/1 or -1/+1. A model with k outputs (an array)
-- colours a cell with the argmax class; labels must be classes 1..k.
-- @param model a function or callable module: `model({x1, x2})` returns a Value or an array of Values
-- @tparam {{number,number},...} X the points
-- @tparam {integer,...} y their labels
-- @tparam[opt] string path where to write the SVG (may be left out: `opts` then comes fourth)
-- @tparam[opt] table opts `resolution` (grid cells per side, 60), `width` (640), `height` (480),
--   `title`, `xlabel` ("x1"), `ylabel` ("x2"), `equal_axes` (false; true: a unit is as long
--   on both axes, so circles look round)
-- @treturn string the SVG text
function M.decision_boundary(model, X, y, path, opts)
  local fname = "decision_boundary"
  local opt_arg
  path, opts, opt_arg = path_and_opts(fname, 4, path, opts)
  local o = check.options(fname, opt_arg, opts, option_specs[fname])
  local parts = no_grad(boundary_parts, model, X, y, o) -- (the function form: every Lua has it)
  local text = finish(fname, parts, path) -- not a tail call: save's errors blame our caller
  return text
end

--- The points coloured by class, with axes: an SVG picture.
-- @tparam {{number,number},...} X the points
-- @tparam {integer,...} y their labels: 0/1, -1/+1 or classes 1..k
-- @tparam[opt] string path where to write the SVG (may be left out: `opts` then comes third)
-- @tparam[opt] table opts `width` (640), `height` (480), `title`, `xlabel` ("x1"), `ylabel` ("x2"),
--   `equal_axes` (false; true: a unit is as long on both axes)
-- @treturn string the SVG text
function M.scatter(X, y, path, opts)
  local fname = "scatter"
  local opt_arg
  path, opts, opt_arg = path_and_opts(fname, 3, path, opts)
  local o = check.options(fname, opt_arg, opts, option_specs[fname])
  local n = check_points(fname, 1, X)
  local zero_one, signs, hi = check_labels(fname, 2, y, n)
  local cls, _, names = classes_of(y, n, zero_one, signs, hi, false)
  local pg, parts, px, py, x0, x1, y0, y1 = scatter_page(o, X, n, 0.08)
  x_axis(parts, pg, x0, x1, px, true)
  y_axis(parts, pg, y0, y1, py, true, "left")
  frame(parts, pg)
  axis_labels(parts, pg, o.xlabel, o.ylabel)
  title_legend(parts, pg, o.title, class_entries(names))
  points(parts, X, n, cls, px, py)
  local text = finish(fname, parts, path) -- not a tail call: save's errors blame our caller
  return text
end

local LOSS_COLOR, ACCURACY_COLOR = "#2e6bb0", "#e08a1e"
local VAL_LOSS_COLOR, VAL_ACCURACY_COLOR = "#7a3aa8", "#2a9d5c" -- dashed

--- An accuracy tick (a fraction) as a percentage.
local function percent(t) return format("%d%%", floor(t * 100 + 0.5)) end

--- Checks history[field] (argument 1): an array of numbers, or nil when optional.
local function check_series(history, field, optional)
  local s = history[field]
  if s == nil and optional then return nil end
  if type(s) ~= "table" or #s == 0 then
    arg_error("loss_curve", 1, format("history.%s must be a non-empty array of numbers, got %s",
      field, type(s) == "table" and "an empty table" or type(s)), 4)
  end
  for i = 1, #s do
    local v = s[i]
    if type(v) ~= "number" then
      arg_error("loss_curve", 1, format("history.%s[%d] must be a number, got %s", field, i, type(v)), 4)
    end
    if (field == "accuracy" or field == "val_accuracy") and not (v >= 0 and v <= 1) then
      arg_error("loss_curve", 1, format("history.%s[%d] must be in [0, 1], got %s", field, i, describe(v)), 4)
    end
  end
  return s
end

--- A series as polylines (a NaN or infinite value breaks the line); entry i
-- is at step xs[i] (default i), dashed when asked.
local function polylines(parts, series, px, py, color, xs, dashed)
  local pts = {}
  local function flush()
    if #pts > 0 then
      parts[#parts + 1] = format('<polyline fill="none" stroke="%s" stroke-width="2.5" '
        .. 'stroke-linejoin="round"%s points="%s"/>', color, dashed and ' stroke-dasharray="7,4"' or "",
        concat(pts, " "))
      pts = {}
    end
  end
  for i = 1, #series do
    local v = series[i]
    if is_finite(v) then
      pts[#pts + 1] = num(px(xs and xs[i] or i)) .. "," .. num(py(v))
    else
      flush()
    end
  end
  flush()
end

--- Checks loss_curve's history (errors blame loss_curve's caller); returns
-- its series: loss, accuracy, val_loss, val_accuracy and val_step (nil when absent).
local function check_history(history)
  local losses = check_series(history, "loss")
  local accuracy = history.accuracy -- empty after a fit without accuracy (mse): none drawn
  local no_accuracy = type(accuracy) == "table" and #accuracy == 0
  accuracy = not no_accuracy and check_series(history, "accuracy", true) or nil
  -- the validation curves (train.fit's validation): entry i at step val_step[i]
  local val_loss = history.val_loss and #history.val_loss > 0 and check_series(history, "val_loss") or nil
  local val_accuracy = val_loss and history.val_accuracy and #history.val_accuracy > 0
    and check_series(history, "val_accuracy") or nil
  local val_step = val_loss and history.val_step
  if val_step ~= nil then
    if type(val_step) ~= "table" or #val_step ~= #val_loss then
      arg_error("loss_curve", 1, format("history.val_step must be an array of %d steps (one per val_loss)",
        #val_loss), 3)
    end
    for i = 1, #val_step do
      if not is_finite(val_step[i]) then
        arg_error("loss_curve", 1, format("history.val_step[%d] must be a number, got %s", i,
          describe(val_step[i])), 3)
      end
    end
  end
  return losses, accuracy, val_loss, val_accuracy, val_step
end

--- Loss and accuracy over the training steps: an SVG picture with the loss on
-- the left axis and the accuracy (in %) on the right one; with a validation
-- set, its loss and accuracy as dashed lines.
-- @tparam table history `{loss = {numbers...}, accuracy = {numbers in [0, 1]...}}` (as `train.fit`
--   returns; accuracy may be left out); step i is the i-th entry; `val_loss`,
--   `val_accuracy` (optional, as `fit` with `validation` gives) are drawn at the
--   steps of `val_step` (default 1, 2, ...)
-- @tparam[opt] string path where to write the SVG (may be left out: `opts` then comes second)
-- @tparam[opt] table opts `width` (640), `height` (480), `title`
-- @treturn string the SVG text
function M.loss_curve(history, path, opts)
  local fname = "loss_curve"
  local opt_arg
  path, opts, opt_arg = path_and_opts(fname, 2, path, opts)
  local o = check.options(fname, opt_arg, opts, option_specs[fname])
  if type(history) ~= "table" then
    arg_error(fname, 1, "history table {loss = {...}, accuracy = {...}} expected, got " .. type(history))
  end
  local losses, accuracy, val_loss, val_accuracy, val_step = check_history(history)
  local steps = max(#losses, accuracy and #accuracy or 0, val_step and val_step[#val_step] or 0,
    val_loss and not val_step and #val_loss or 0)
  local lo, hi = 0, -huge
  for _, series in ipairs({ losses, val_loss or {} }) do
    for _, v in ipairs(series) do
      if is_finite(v) then lo, hi = min(lo, v), max(hi, v) end
    end
  end
  if hi == -huge then hi = 1 end
  if hi <= lo then hi = lo + 1 end
  -- margins of 4% (2% across the steps), so that no line runs along the frame
  local x0, x1 = 1 - 0.02 * (steps - 1), steps + 0.02 * (steps - 1)
  if steps == 1 then x0, x1 = 0, 2 end
  lo, hi = lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)
  local pg = page(o.width, o.height, (accuracy or val_accuracy) and 72 or 20)
  local px, py = mapping(pg, x0, x1, lo, hi)
  local _, apy = mapping(pg, x0, x1, -0.04, 1.04) -- accuracy: the right axis
  local parts = {}
  svg_open(parts, pg)
  x_axis(parts, pg, x0, x1, px, true, true)
  y_axis(parts, pg, lo, hi, py, true, "left")
  local entries = { { LOSS_COLOR, "loss", "line" } }
  if accuracy or val_accuracy then
    y_axis(parts, pg, -0.04, 1.04, apy, false, "right", percent)
    if accuracy then entries[#entries + 1] = { ACCURACY_COLOR, "accuracy", "line" } end
  end
  if val_loss then entries[#entries + 1] = { VAL_LOSS_COLOR, "val loss", "line" } end
  if val_accuracy then entries[#entries + 1] = { VAL_ACCURACY_COLOR, "val accuracy", "line" } end
  frame(parts, pg)
  axis_labels(parts, pg, "step", "loss", (accuracy or val_accuracy) and "accuracy (%)")
  title_legend(parts, pg, o.title, entries)
  polylines(parts, losses, px, py, LOSS_COLOR)
  if accuracy then polylines(parts, accuracy, px, apy, ACCURACY_COLOR) end
  if val_loss then polylines(parts, val_loss, px, py, VAL_LOSS_COLOR, val_step, true) end
  if val_accuracy then polylines(parts, val_accuracy, px, apy, VAL_ACCURACY_COLOR, val_step, true) end
  local text = finish(fname, parts, path) -- not a tail call: save's errors blame our caller
  return text
end

-- ---- the terminal picture --------------------------------------------------

--- Region characters and point marks per class (reused after the last).
local region_chars = { " ", ".", ":", "-", "=", "'", ",", "~", "^", "`" }
local class_marks = "123456789abcdefghijklmnopqrstuvwxyz"

-- ascii_boundary's picture (under no_grad).
local function ascii_picture(model, X, y, o)
  local classify, n, cls, k, names = check_model_data("ascii_boundary", model, X, y, BELOW_NO_GRAD)
  local two = k == 2 and (names[1] == "0" or names[1] == "-1")
  local x0, x1, y0, y1 = bounds(X, n, 0.2)
  local w, h = o.width, o.height
  local grid = {}
  for j = 1, h do
    local row, yc = {}, y1 - (y1 - y0) * (j - 0.5) / h
    for i = 1, w do
      row[i] = region_chars[(classify(x0 + (x1 - x0) * (i - 0.5) / w, yc) - 1) % #region_chars + 1]
    end
    grid[j] = row
  end
  local marks, owner = {}, {}
  for c = 1, k do
    local m = (c - 1) % #class_marks + 1
    marks[c] = two and (c == 1 and "o" or "x") or class_marks:sub(m, m)
  end
  for p = 1, n do
    local i = min(w, max(1, floor((X[p][1] - x0) / (x1 - x0) * w) + 1))
    local j = min(h, max(1, floor((y1 - X[p][2]) / (y1 - y0) * h) + 1))
    local key = (j - 1) * w + i
    if owner[key] and owner[key] ~= cls[p] then
      grid[j][i] = "*"
    elseif not owner[key] then
      owner[key] = cls[p]
      grid[j][i] = marks[cls[p]]
    end
  end
  local lines = { "+" .. rep("-", w) .. "+" }
  for j = 1, h do lines[j + 1] = "|" .. concat(grid[j]) .. "|" end
  lines[h + 2] = lines[1]
  local legend = {}
  for c = 1, k do
    legend[c] = format("'%s' class %s", region_chars[(c - 1) % #region_chars + 1], names[c])
  end
  local point_legend = {}
  for c = 1, k do point_legend[c] = format("%s class %s", marks[c], names[c]) end
  lines[h + 3] = format("regions: %s; points: %s; '*' mixed; x1 %s..%s, x2 %s..%s",
    concat(legend, ", "), concat(point_legend, ", "),
    number("%.3g", x0), number("%.3g", x1), number("%.3g", y0), number("%.3g", y1))
  return concat(lines, "\n")
end

--- The model's decision regions with the data points, as text for a terminal.
--
-- The picture is `height` lines of `width` characters inside a frame of `+`,
-- `-` and `|`, followed by one legend line. Each character is a cell of a grid
-- covering the points with a margin (a fifth of the larger side of their box),
-- x1 growing to the right and x2 upwards; a cell shows its region's character
-- (the model evaluated at its centre, under `mg.no_grad`, as in
-- `decision_boundary`): for two classes ' ' for class 0 (-1) and '.' for
-- class 1 (+1), marks 'o' and 'x' for their points; for classes 1..k the
-- regions are ' ', '.', ':', '-', '=', ... and the points '1', '2', ...
-- A cell holding points of different classes shows '*'.
-- @param model as for `decision_boundary`
-- @tparam {{number,number},...} X the points
-- @tparam {integer,...} y their labels
-- @tparam[opt] table opts `width` (60 characters), `height` (24 lines)
-- @treturn string the picture (lines separated by "\n", no final newline)
function M.ascii_boundary(model, X, y, opts)
  local o = check.options("ascii_boundary", 4, opts, option_specs.ascii_boundary)
  local text = no_grad(ascii_picture, model, X, y, o) -- not a tail call: errors blame our caller
  return text
end

return require("micrograd._names").strict(M, "micrograd.viz_plot")
