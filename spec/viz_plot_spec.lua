-- Training pictures (micrograd.viz_plot, re-exported by micrograd.viz): the SVG
-- text, and the pictures as headless Chromium draws them (pending without
-- chromium and pngtopnm: Debian packages chromium and netpbm).
local mg = require("micrograd")
local plot = require("micrograd.viz_plot")
local check = require("spec.helpers.check")
local picture = require("spec.helpers.picture")

local nn, loss, optim, data = mg.nn, mg.loss, mg.optim, mg.data

local RED, BLUE, GREEN = "#c8382d", "#2e6bb0", "#2f9a4a"  -- points of classes 1, 2, 3
local RED_TINT, BLUE_TINT = "#efc3c0", "#c0d3e7"          -- their regions
local LOSS_COLOR, ACCURACY_COLOR = "#2e6bb0", "#e08a1e"

-- ---- helpers -------------------------------------------------------------

--- micrograd's demo: the moons, a 2-16-16-1 MLP trained to 100% (examples/moons.lua).
local trained
local function moons()
  if trained then return check.unpack(trained) end
  mg.seed(1337)
  local X, y = data.make_moons(100, { noise = 0.1, seed = 1337 })
  local ys = data.signs(y)
  local model = nn.MLP(2, { 16, 16, 1 })
  local params = model:parameters()
  local opt = optim.SGD(params, { lr = 1.0 })
  local schedule = optim.linear(opt, 1.0, 0.1, 100)
  local history = { loss = {}, accuracy = {} }
  for k = 1, 100 do
    local scores, correct = {}, 0
    for i, x in ipairs(X) do
      scores[i] = model(x)
      if (scores[i].data > 0) == (ys[i] > 0) then correct = correct + 1 end
    end
    local total = loss.svm(scores, ys) + loss.l2(params, 1e-4)
    history.loss[k], history.accuracy[k] = total.data, correct / #X
    opt:zero_grad()
    total:backward()
    opt:step()
    schedule:step()
  end
  trained = { model, X, y, history }
  return model, X, y, history
end

--- Whether text is well-formed XML as far as an SVG writer goes: tags
-- balanced, attributes quoted, no raw '<' or '&' in text.
local function assert_well_formed(svg)
  local stack, pos = {}, 1
  while true do
    local s, e, close, name, attrs = svg:find("<(/?)([%w:-]+)([^<>]*)>", pos)
    if not s then break end
    local between = svg:sub(pos, s - 1)
    assert(not between:find("<", 1, true), "raw '<' in text")
    for amp in between:gmatch("&[^;]*;?") do
      assert(amp:match("^&%a+;$") or amp:match("^&#%d+;$"), "raw '&' in text: " .. amp)
    end
    local stripped = attrs:gsub('%s+[%w:-]+="[^"]*"', "")
    assert(stripped == "" or stripped == "/" or stripped:match("^%s*/$"),
      "bad attributes in <" .. name .. attrs .. ">")
    if close == "/" then
      assert(table.remove(stack) == name, "unbalanced </" .. name .. ">")
    elseif not attrs:find("/$") then
      stack[#stack + 1] = name
    end
    pos = e + 1
  end
  assert(#stack == 0, "unclosed <" .. tostring(stack[#stack]) .. ">")
  assert(svg:sub(pos):match("^%s*$"), "text after the last tag")
end

--- Checks the SVG's header: namespace, size and viewBox.
local function assert_svg(svg, width, height)
  assert.truthy(svg:find('^<svg xmlns="http://www.w3.org/2000/svg" '))
  assert.truthy(svg:find(string.format('width="%d" height="%d" viewBox="0 0 %d %d"', width, height,
    width, height), 1, true))
  assert.truthy(svg:find("</svg>\n$"))
  assert_well_formed(svg)
  assert.falsy(svg:find("%d%.%d%d%d"), "numbers written with more than 2 decimals")
  assert.falsy(svg:find("nan") or svg:find("inf"), "non-finite numbers")
end

local function count(text, plain)
  local n, pos = 0, 1
  while true do
    local s, e = text:find(plain, pos, true)
    if not s then return n end
    n, pos = n + 1, e + 1
  end
end

--- A fresh temporary file name (removed by the caller).
local function tmpname(ext)
  local name = os.tmpname()
  os.remove(name)
  return name .. ext
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

--- The error of fn(...) with its position: asserts that it blames this spec
-- file (the caller of the viz function) and returns the message.
local function error_here(fn, ...)
  local err = check.error_of(function(...)
    local result = fn(...) -- not a tail call: this function is the caller blamed
    return result
  end, ...)
  assert(err:find("viz_plot_spec.lua:%d+: "), "error not blamed on the caller: " .. err)
  return err
end

--- The box the pictures draw for points X: a fifth of the larger side of the
-- points' box on every side (as decision_boundary and ascii_boundary document).
local function bounds(X)
  local x0, x1, y0, y1 = math.huge, -math.huge, math.huge, -math.huge
  for _, p in ipairs(X) do
    x0, x1 = math.min(x0, p[1]), math.max(x1, p[1])
    y0, y1 = math.min(y0, p[2]), math.max(y1, p[2])
  end
  local m = 0.2 * math.max(x1 - x0, y1 - y0)
  return x0 - m, x1 + m, y0 - m, y1 + m
end

-- Two tiny data sets and models whose regions are known exactly.
local X4 = { { -1, -1 }, { -1, 1 }, { 1, -1 }, { 1, 1 } }
local y4 = { 0, 0, 1, 1 }
local function by_x1(x) return mg.Value(x[1]) end -- class 1 where x1 > 0

-- ---- decision_boundary: text ------------------------------------------------

describe("viz_plot.decision_boundary", function()
  it("draws the regions, the points on top, axes and a title as standalone SVG", function()
    local model, X, y = moons()
    local svg = plot.decision_boundary(model, X, y, nil, { title = "moons <MLP> & friends" })
    assert_svg(svg, 640, 480)
    assert.are.equal(#X, count(svg, "<circle "))
    local reds, blues = 0, 0
    for _, c in ipairs(picture.circles(svg)) do
      if c[3] == RED then reds = reds + 1 elseif c[3] == BLUE then blues = blues + 1 end
    end
    assert.are.same({ 50, 50 }, { reds, blues })
    for i, c in ipairs(picture.circles(svg)) do
      assert.are.equal(y[i] == 1 and BLUE or RED, c[3], "point " .. i)
    end
    assert.truthy(svg:find('fill="' .. RED_TINT .. '"', 1, true))
    assert.truthy(svg:find('fill="' .. BLUE_TINT .. '"', 1, true))
    assert.truthy(svg:find(">moons &lt;MLP&gt; &amp; friends</text>", 1, true))
    assert.truthy(svg:find(">x1</text>", 1, true))
    assert.truthy(svg:find(">x2</text>", 1, true))
    assert.truthy(svg:find(">class 0</text>", 1, true))
    assert.truthy(svg:find(">class 1</text>", 1, true))
    assert.truthy(svg:find('<rect class="frame" ', 1, true))
    -- points come after the regions: drawn on top
    assert.is_true(svg:find("<circle ", 1, true) > svg:find('fill="' .. RED_TINT .. '"', 1, true))
    assert.is_true(#svg < 40000, "SVG of " .. #svg .. " bytes")
  end)

  it("is deterministic and writes the same text to the file", function()
    local model, X, y = moons()
    local path = tmpname(".svg")
    local svg = plot.decision_boundary(model, X, y, path)
    assert.are.equal(svg, read_file(path))
    assert.are.equal(svg, plot.decision_boundary(model, X, y))
    os.remove(path)
  end)

  it("colours each cell by the sign of a single score: > 0 is class 1", function()
    -- resolution 2: the left column of cells is x1 < 0 (class 0), the right x1 > 0 (class 1)
    local svg = plot.decision_boundary(by_x1, X4, y4, nil, { resolution = 2 })
    local fills = {}
    local regions = svg:match('<g shape%-rendering="crispEdges">(.-)</g>')
    for fill in regions:gmatch('<rect x="[%d.]+" y="[%d.]+" width="[%d.]+" height="[%d.]+" fill="(#%x+)"') do
      fills[#fills + 1] = fill
    end
    assert.are.same({ RED_TINT, BLUE_TINT, RED_TINT, BLUE_TINT }, fills)
    -- a run of equal cells is one rect: a constant model gives one rect per row
    svg = plot.decision_boundary(function() return -1 end, X4, y4, nil, { resolution = 50 })
    assert.are.equal(50, count(svg, 'fill="' .. RED_TINT .. '"'))
    assert.are.equal(0, count(svg, 'fill="' .. BLUE_TINT .. '"'))
    -- -1/+1 labels: the same classes, named as given
    svg = plot.decision_boundary(by_x1, X4, { -1, -1, 1, 1 }, { resolution = 4 })
    assert.truthy(svg:find(">class -1</text>", 1, true))
    assert.truthy(svg:find(">class +1</text>", 1, true))
  end)

  it("colours each cell by the argmax of k outputs, classes 1..k", function()
    local X3 = { { 0, 0 }, { 1, 0 }, { 0, 1 } }
    local function three(x) -- class 1 near the origin, 2 to the right, 3 upwards
      return { mg.Value(0.5), mg.Value(x[1]), mg.Value(x[2]) }
    end
    local svg = plot.decision_boundary(three, X3, { 1, 2, 3 }, nil, { resolution = 30, width = 300,
      height = 300, xlabel = "first", ylabel = "second" })
    assert_svg(svg, 300, 300)
    local green_tint = "#c1e1c9"
    for _, tint in ipairs({ RED_TINT, BLUE_TINT, green_tint }) do
      assert.truthy(svg:find('fill="' .. tint .. '"', 1, true), tint)
    end
    local fills = {}
    for _, c in ipairs(picture.circles(svg)) do fills[#fills + 1] = c[3] end
    assert.are.same({ RED, BLUE, GREEN }, fills)
    assert.truthy(svg:find(">first</text>", 1, true) and svg:find(">second</text>", 1, true))
    assert.truthy(svg:find(">class 3</text>", 1, true))
    -- a model with 3 outputs and only classes 1 and 2 in the data still shows class 3's region
    svg = plot.decision_boundary(three, X3, { 1, 2, 1 }, nil, { resolution = 30 })
    assert.truthy(svg:find('fill="' .. green_tint .. '"', 1, true))
  end)

  it("evaluates the model under no_grad, and restores grad mode even after an error", function()
    local modes = {}
    local function spy(x)
      modes[mg.grad_enabled()] = true
      return mg.Value(x[1]) * 2
    end
    plot.decision_boundary(spy, X4, y4, nil, { resolution = 3 })
    assert.are.same({ [false] = true }, modes)
    assert.is_true(mg.grad_enabled())
    local calls = 0
    local function broken(x)
      calls = calls + 1
      if calls > 3 then error("model broke") end
      return x[1]
    end
    local err = check.error_of(plot.decision_boundary, broken, X4, y4)
    check.assert_mentions(err, "model broke")
    assert.is_true(mg.grad_enabled())
  end)

  it("covers the points with a margin and draws ticks on both axes", function()
    local svg = plot.decision_boundary(by_x1, X4, y4, nil, { resolution = 2 })
    -- the box is [-1.4, 1.4]^2 (a fifth of the side on each side): ticks -1, -0.5, 0, 0.5, 1
    for _, label in ipairs({ "-1.0", "-0.5", "0.0", "0.5", "1.0" }) do
      assert.are.equal(2, count(svg, ">" .. label .. "</text>"), label)
    end
    local x, y, w, h = picture.plot_area(svg)
    for _, c in ipairs(picture.circles(svg)) do
      assert.is_true(c[1] > x + 0.1 * w and c[1] < x + 0.9 * w)
      assert.is_true(c[2] > y + 0.1 * h and c[2] < y + 0.9 * h)
    end
  end)
end)

-- ---- scatter and loss_curve: text --------------------------------------------

describe("viz_plot.scatter", function()
  it("draws the points coloured by class with axes", function()
    local X, y = data.make_moons(60, { noise = 0.1, seed = 7 })
    local path = tmpname(".svg")
    local svg = plot.scatter(X, y, path, { title = "moons", width = 500, height = 400 })
    assert_svg(svg, 500, 400)
    assert.are.equal(svg, read_file(path))
    os.remove(path)
    assert.are.equal(60, count(svg, "<circle "))
    for i, c in ipairs(picture.circles(svg)) do
      assert.are.equal(y[i] == 1 and BLUE or RED, c[3])
    end
    assert.truthy(svg:find(">moons</text>", 1, true))
    assert.truthy(svg:find(">x1</text>", 1, true) and svg:find(">x2</text>", 1, true))
    assert.falsy(svg:find(RED_TINT, 1, true) or svg:find(BLUE_TINT, 1, true)) -- no regions
    assert.are.equal(svg, plot.scatter(X, y, { title = "moons", width = 500, height = 400 }))
    -- classes 1..k, and every point at one spot (the box is then 1 unit around it)
    svg = plot.scatter({ { 2, 2 }, { 2, 2 }, { 2, 2 } }, { 1, 2, 3 })
    assert_svg(svg, 640, 480)
    assert.are.equal(3, count(svg, "<circle "))
    assert.truthy(svg:find(GREEN, 1, true) and svg:find(">class 3</text>", 1, true))
  end)
end)

describe("viz_plot.loss_curve", function()
  it("draws loss and accuracy as two polylines with labelled axes and a legend", function()
    local _, _, _, history = moons()
    local path = tmpname(".svg")
    local svg = plot.loss_curve(history, path, { title = "training" })
    assert_svg(svg, 640, 480)
    assert.are.equal(svg, read_file(path))
    os.remove(path)
    assert.are.equal(2, count(svg, "<polyline "))
    assert.are.equal(1, count(svg, '<polyline fill="none" stroke="' .. LOSS_COLOR .. '"'))
    assert.are.equal(1, count(svg, '<polyline fill="none" stroke="' .. ACCURACY_COLOR .. '"'))
    for _, text in ipairs({ "training", "step", "loss", "accuracy", "accuracy (%)", "0%", "100%" }) do
      assert.truthy(svg:find(">" .. text .. "</text>", 1, true), text)
    end
    local points = svg:match('stroke="' .. LOSS_COLOR .. '" stroke%-width="[%d.]+" stroke%-linejoin="round" '
      .. 'points="([^"]*)"')
    assert.are.equal(100, count(points, ",")) -- one point per step
    -- step ticks are whole numbers
    assert.truthy(svg:find(">20</text>", 1, true) and svg:find(">100</text>", 1, true))
    assert.falsy(svg:find(">20.0</text>", 1, true))
  end)

  it("works without accuracy, for one step, and breaks the line at NaN or inf", function()
    local svg = plot.loss_curve({ loss = { 3, 2, 1 } })
    assert_svg(svg, 640, 480)
    assert.are.equal(1, count(svg, "<polyline "))
    assert.falsy(svg:find("accuracy", 1, true))
    svg = plot.loss_curve({ loss = { 0.5 }, accuracy = { 1 } })
    assert_svg(svg, 640, 480)
    svg = plot.loss_curve({ loss = { 4, 3, 0 / 0, 2, 1, math.huge, 0.5 } })
    assert_svg(svg, 640, 480)
    assert.are.equal(3, count(svg, "<polyline "))
    svg = plot.loss_curve({ loss = { 0 / 0 } }) -- nothing to draw, still a picture
    assert_svg(svg, 640, 480)
    svg = plot.loss_curve({ loss = { -1, -2, -3 } })
    assert.truthy(svg:find(">-3.0</text>", 1, true))
  end)
end)

-- ---- ascii_boundary ---------------------------------------------------------

describe("viz_plot.ascii_boundary", function()
  --- The picture's grid (framed lines without the frame) and legend line.
  local function grid_of(text, width, height)
    local lines = {}
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    assert.are.equal(height + 3, #lines)
    assert.are.equal("+" .. string.rep("-", width) .. "+", lines[1])
    assert.are.equal(lines[1], lines[height + 2])
    local rows = {}
    for j = 1, height do
      local line = lines[j + 1]
      assert.are.equal(width + 2, #line)
      assert.truthy(line:match("^|.*|$"))
      rows[j] = line:sub(2, -2)
    end
    return rows, lines[height + 3]
  end

  --- The cell (column, row) of point p in a width x height picture of X.
  local function cell(X, p, width, height)
    local x0, x1, y0, y1 = bounds(X)
    local i = math.min(width, math.floor((p[1] - x0) / (x1 - x0) * width) + 1)
    local j = math.min(height, math.floor((y1 - p[2]) / (y1 - y0) * height) + 1)
    return i, j
  end

  it("draws a trained model's regions with each point's mark at its cell", function()
    local model, X, y = moons()
    local text = plot.ascii_boundary(model, X, y)
    assert.are.equal(text, plot.ascii_boundary(model, X, y))
    local rows, legend = grid_of(text, 60, 24)
    local all = table.concat(rows)
    assert.truthy(all:find(" ", 1, true) and all:find(".", 1, true)) -- both regions
    check.assert_mentions(legend, "' ' class 0", "'.' class 1", "o class 0", "x class 1")
    local marks = { [0] = "o", [1] = "x" }
    local regions = { [0] = " ", [1] = "." }
    local beside_own = 0
    for k, p in ipairs(X) do
      local i, j = cell(X, p, 60, 24)
      local ch = rows[j]:sub(i, i)
      assert.truthy(ch == marks[y[k]] or ch == "*", string.format("point %d: %q at (%d, %d)", k, ch, i, j))
      -- the nearest region character along the row (past other points' marks) is its class's
      for d = 1, 59 do
        local left, right = rows[j]:sub(i - d, i - d), rows[j]:sub(i + d, i + d)
        local found = (left == " " or left == ".") or (right == " " or right == ".")
        if found then
          if left == regions[y[k]] or right == regions[y[k]] then beside_own = beside_own + 1 end
          break
        end
      end
    end
    assert.is_true(beside_own >= 95, beside_own .. " of 100 points have their region beside them")
    -- the corners far from the data: bottom right is class 1 ('.'), top left class 0 (' ')
    assert.are.equal(".", rows[24]:sub(60, 60))
    assert.are.equal(" ", rows[1]:sub(1, 1))
  end)

  it("takes a size and draws k classes with digits", function()
    local X3 = { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 0, 0 } }
    local function three(x) return { 0.5, x[1], x[2] } end -- plain numbers also do
    local text = plot.ascii_boundary(three, X3, { 1, 2, 3, 2 }, { width = 20, height = 10 })
    local rows, legend = grid_of(text, 20, 10)
    local all = table.concat(rows)
    for _, ch in ipairs({ " ", ".", ":", "2", "3" }) do
      assert.truthy(all:find(ch, 1, true), ch)
    end
    local i, j = cell(X3, X3[1], 20, 10)
    assert.are.equal("*", rows[j]:sub(i, i)) -- classes 1 and 2 share the cell at the origin
    check.assert_mentions(legend, "' ' class 1", "'.' class 2", "':' class 3", "1 class 1")
  end)
end)

-- ---- files and bad arguments -------------------------------------------------

describe("viz_plot arguments", function()
  it("names the file it cannot write, and needs io only with a path", function()
    local err = error_here(plot.scatter, X4, y4, "/nonexistent-micrograd-dir/x.svg")
    check.assert_mentions(err, "viz.scatter cannot write /nonexistent-micrograd-dir/x.svg")
    err = error_here(plot.loss_curve, { loss = { 1 } }, "/nonexistent-micrograd-dir/l.svg")
    check.assert_mentions(err, "viz.loss_curve cannot write /nonexistent-micrograd-dir/l.svg")
    err = error_here(plot.decision_boundary, by_x1, X4, y4, "/nonexistent-micrograd-dir/d.svg")
    check.assert_mentions(err, "viz.decision_boundary cannot write /nonexistent-micrograd-dir/d.svg")
    local saved = io
    _G.io = nil
    local ok, msg = pcall(plot.scatter, X4, y4, "out.svg")
    local text_ok, text = pcall(plot.scatter, X4, y4)
    _G.io = saved
    assert.is_false(ok)
    check.assert_mentions(msg, "viz.scatter needs the io library to write out.svg "
      .. "(call it without a path to get the text)")
    assert.is_true(text_ok)
    assert.truthy(text:find("<svg", 1, true))
  end)

  it("checks decision_boundary's and ascii_boundary's arguments", function()
    for _, f in ipairs({ "decision_boundary", "ascii_boundary" }) do
      local fn = plot[f]
      local function expect(msg, ...)
        check.assert_mentions(error_here(fn, ...), string.format(msg, f))
      end
      expect("bad argument #1 to '%s' (model expected (a function or a callable module), got number)",
        5, X4, y4)
      expect("bad argument #1 to '%s' (the model must return a Value or an array of Values, got string)",
        function() return "yes" end, X4, y4)
      expect("bad argument #1 to '%s' (the model must return a Value or an array of Values, got nil)",
        function(x) if x[1] > 0 then return 1 end end, X4, y4)
      expect("bad argument #2 to '%s' (array of points expected, got number)", by_x1, 3, y4)
      expect("bad argument #2 to '%s' (array of points expected, got an empty table)", by_x1, {}, {})
      expect("bad argument #2 to '%s' (point {x1, x2} expected at index 2, got number)",
        by_x1, { { 1, 2 }, 5 },
        { 0, 1 })
      expect("bad argument #2 to '%s' (point at index 1 has 3 coordinates: "
        .. "only 2-D points {x1, x2} can be drawn)",
        by_x1, { { 1, 2, 3 } }, { 0 })
      expect("bad argument #2 to '%s' (point at index 1: finite number expected for x2, got nan)",
        by_x1, { { 1, 0 / 0 } }, { 0 })
      expect("bad argument #2 to '%s' (point at index 1: finite number expected for x1, got string)",
        by_x1, { { "1", 0 } }, { 0 })
      expect("bad argument #3 to '%s' (array of labels expected, got nil)", by_x1, X4)
      expect("bad argument #3 to '%s' (4 labels expected (one per point), got 3)", by_x1, X4, { 0, 1, 1 })
      expect("bad argument #3 to '%s' (integer label expected at index 2, got 0.5)",
        by_x1, X4, { 0, 0.5, 1, 1 })
      expect("bad argument #3 to '%s' (labels must be 0/1, -1/+1 or classes 1..k, got labels from 0 to 2)",
        by_x1, X4, { 0, 1, 2, 1 })
      expect("bad argument #3 to '%s' (a model with one output separates two classes: labels 0/1 or -1/+1 "
        .. "expected, got classes 1..3)", by_x1, X4, { 1, 2, 3, 1 })
      expect("bad argument #3 to '%s' (classes 1..2 expected for a model with 2 outputs, got 0 at index 1)",
        function(x) return { x[1], x[2] } end, X4, y4)
      expect("bad argument #3 to '%s' (classes 1..2 expected for a model with 2 outputs, got 3 at index 4)",
        function(x) return { x[1], x[2] } end, X4, { 1, 2, 1, 3 })
      expect("bad argument #3 to '%s' (at most 256 classes can be drawn, got label 1000)",
        by_x1, X4, { 1, 2, 1, 1000 })
    end
    local function expect(msg, ...)
      check.assert_mentions(error_here(plot.decision_boundary, ...), msg)
    end
    expect("bad argument #4 to 'decision_boundary' (file path (string) expected, got number)",
      by_x1, X4, y4, 1)
    expect("bad argument #5 to 'decision_boundary' (options table expected, got string)",
      by_x1, X4, y4, "a.svg",
      "big")
    expect("bad argument #5 to 'decision_boundary' (unknown option 'colour')",
      by_x1, X4, y4, nil, { colour = 1 })
    expect("bad argument #4 to 'decision_boundary' (unknown option 'colour')", by_x1, X4, y4, { colour = 1 })
    expect("bad argument #5 to 'decision_boundary' (option 'resolution' must be an integer "
      .. "from 2 to 1000, got 1)",
      by_x1, X4, y4, nil, { resolution = 1 })
    expect("bad argument #5 to 'decision_boundary' (option 'width' must be an integer "
      .. "from 100 to 10000, got 64.5)",
      by_x1, X4, y4, nil, { width = 64.5 })
    expect("bad argument #5 to 'decision_boundary' (option 'title' must be a string, got table)",
      by_x1, X4, y4, nil, { title = {} })
    local function expect_ascii(msg, ...)
      check.assert_mentions(error_here(plot.ascii_boundary, ...), msg)
    end
    expect_ascii("bad argument #4 to 'ascii_boundary' (unknown option 'resolution')", by_x1, X4, y4,
      { resolution = 10 })
    expect_ascii("bad argument #4 to 'ascii_boundary' (option 'height' must be an integer "
      .. "from 4 to 1000, got 2)",
      by_x1, X4, y4, { height = 2 })
    expect_ascii("bad argument #4 to 'ascii_boundary' (options table expected, got string)",
      by_x1, X4, y4, "x")
  end)

  it("checks scatter's and loss_curve's arguments", function()
    local function expect(fn, msg, ...)
      check.assert_mentions(error_here(fn, ...), msg)
    end
    expect(plot.scatter, "bad argument #1 to 'scatter' (array of points expected, got number)", 1, y4)
    expect(plot.scatter, "bad argument #1 to 'scatter' (point at index 2 has 1 coordinates: only 2-D",
      { { 1, 2 },
      { 1 } }, { 0, 1 })
    expect(plot.scatter, "bad argument #2 to 'scatter' (array of labels expected, got string)", X4, "0011")
    expect(plot.scatter, "bad argument #2 to 'scatter' (4 labels expected (one per point), got 5)", X4,
      { 0, 0, 1, 1, 1 })
    expect(plot.scatter, "bad argument #2 to 'scatter' (integer label expected at index 1, got boolean)", X4,
      { true, 0, 1, 1 })
    expect(plot.scatter, "bad argument #2 to 'scatter' (labels must be 0/1, -1/+1 or classes 1..k, "
      .. "got labels from -1 to 2)", X4, { -1, 1, 2, 1 })
    expect(plot.scatter, "bad argument #3 to 'scatter' (file path (string) expected, got boolean)",
      X4, y4, true)
    expect(plot.scatter, "bad argument #4 to 'scatter' (unknown option 'resolution')", X4, y4, "s.svg",
      { resolution = 3 })
    expect(plot.scatter, "bad argument #3 to 'scatter' (option 'height' must be an integer "
      .. "from 100 to 10000, "
      .. "got 0)", X4, y4, { height = 0 })
    expect(plot.loss_curve, "bad argument #1 to 'loss_curve' (history table {loss = {...}, accuracy = {...}} "
      .. "expected, got number)", 0.5)
    expect(plot.loss_curve, "bad argument #1 to 'loss_curve' (history.loss must be a non-empty "
      .. "array of numbers, "
      .. "got nil)", {})
    expect(plot.loss_curve, "bad argument #1 to 'loss_curve' (history.loss must be a non-empty "
      .. "array of numbers, "
      .. "got an empty table)", { loss = {} })
    expect(plot.loss_curve, "bad argument #1 to 'loss_curve' (history.loss[2] must be a number, got string)",
      { loss = { 1, "2" } })
    expect(plot.loss_curve, "bad argument #1 to 'loss_curve' (history.accuracy must be a non-empty array of "
      .. "numbers, got number)", { loss = { 1 }, accuracy = 1 })
    expect(plot.loss_curve, "bad argument #1 to 'loss_curve' (history.accuracy[1] must be in [0, 1], got 95)",
      { loss = { 1 }, accuracy = { 95 } })
    expect(plot.loss_curve,
      "bad argument #1 to 'loss_curve' (history.accuracy[1] must be in [0, 1], got nan)",
      { loss = { 1 }, accuracy = { 0 / 0 } })
    expect(plot.loss_curve, "bad argument #2 to 'loss_curve' (file path (string) expected, got number)",
      { loss = { 1 } }, 2)
    expect(plot.loss_curve, "bad argument #3 to 'loss_curve' (unknown option 'xlabel')", { loss = { 1 } },
      "l.svg", { xlabel = "epoch" })
    expect(plot.loss_curve, "bad argument #2 to 'loss_curve' (option 'title' must be a string, got number)",
      { loss = { 1 } }, { title = 1 })
  end)
end)

-- ---- as a person sees them: rendered by headless Chromium --------------------

describe("viz_plot pictures in a browser", function()
  --- An `it` that is pending when chromium or pngtopnm is missing.
  local function browser_it(name, fn)
    it(name, function()
      local why = picture.missing()
      if why then
        pending(why .. ": browser pictures not checked")
        return
      end
      fn()
    end)
  end

  --- For each point of an SVG by viz: whether its own colour shows at its
  -- centre, and whether the region around it (a ring 8 pixels out) is mostly
  -- its class's. Returns the two counts.
  local function point_sides(image, svg, y)
    local centred, surrounded = 0, 0
    for i, c in ipairs(picture.circles(svg)) do
      local own, own_tint = y[i] == 1 and BLUE or RED, y[i] == 1 and BLUE_TINT or RED_TINT
      local other_tint = y[i] == 1 and RED_TINT or BLUE_TINT
      if picture.is_near(image, math.floor(c[1]), math.floor(c[2]), own, 8, 1) then centred = centred + 1 end
      local mine, theirs = 0, 0
      for a = 0, 15 do
        local sx = math.floor(c[1] + 8 * math.cos(a * math.pi / 8) + 0.5)
        local sy = math.floor(c[2] + 8 * math.sin(a * math.pi / 8) + 0.5)
        if picture.is(image, sx, sy, own_tint) then mine = mine + 1 end
        if picture.is(image, sx, sy, other_tint) then theirs = theirs + 1 end
      end
      if mine > theirs then surrounded = surrounded + 1 end
    end
    return centred, surrounded
  end

  browser_it("shows the trained moons model's regions, each point on its class's side", function()
    local model, X, y = moons()
    local svg = plot.decision_boundary(model, X, y, nil, { title = "moons" })
    local image = picture.render(svg, 640, 480)
    assert.are.same({ 640, 480 }, { image.width, image.height })
    local px, py, pw, ph = picture.plot_area(svg)
    local area = pw * ph
    local red, blue = #picture.pixels_of(image, svg, RED_TINT), #picture.pixels_of(image, svg, BLUE_TINT)
    assert.is_true(red > 0.2 * area and blue > 0.2 * area,
      string.format("red %d, blue %d of %d", red, blue, area))
    assert.is_true(red + blue > 0.9 * area) -- the regions fill the plot, points aside
    local centred, surrounded = point_sides(image, svg, y)
    assert.is_true(centred >= 95, centred .. " of 100 points show their colour")
    assert.is_true(surrounded >= 95, surrounded .. " of 100 points lie mostly in their class's region")
    -- away from the boundary (|score| > 0.5), every region pixel has the colour of the score's sign
    local x0, x1, y0, y1 = bounds(X)
    local checked, wrong = 0, 0
    mg.no_grad(function()
      for sy = math.ceil(py) + 3, math.floor(py + ph) - 4, 7 do
        for sx = math.ceil(px) + 3, math.floor(px + pw) - 4, 7 do
          local x = { x0 + (sx + 0.5 - px) / pw * (x1 - x0), y1 - (sy + 0.5 - py) / ph * (y1 - y0) }
          local score = model(x).data
          local tint = picture.is(image, sx, sy, RED_TINT) and RED_TINT
            or picture.is(image, sx, sy, BLUE_TINT) and BLUE_TINT
          if tint and math.abs(score) > 0.5 then
            checked = checked + 1
            if tint ~= (score > 0 and BLUE_TINT or RED_TINT) then wrong = wrong + 1 end
          end
        end
      end
    end)
    assert.is_true(checked > 2000, checked .. " pixels checked")
    assert.are.equal(0, wrong)
    -- and the check sees a wrong picture: the model's sign flipped puts every point on the other side
    local flipped = plot.decision_boundary(function(x) return -model(x) end, X, y)
    local _, wrong_side = point_sides(picture.render(flipped, 640, 480), flipped, y)
    assert.is_true(wrong_side <= 5, wrong_side .. " of 100 points in their region with the sign flipped")
  end)

  browser_it("shows the loss falling and the accuracy rising", function()
    local _, _, _, history = moons()
    local svg = plot.loss_curve(history, nil, { title = "training" })
    local image = picture.render(svg, 640, 480)
    local px, _, pw = picture.plot_area(svg)
    --- Mean row of the pixels of a colour in the first and the last fifth of the plot.
    local function ends(color)
      local pixels = picture.pixels_of(image, svg, color, 40)
      assert.is_true(#pixels > 300, #pixels .. " pixels of " .. color)
      local left, nl, right, nr = 0, 0, 0, 0
      for _, p in ipairs(pixels) do
        if p[1] < px + pw / 5 then left, nl = left + p[2], nl + 1 end
        if p[1] > px + pw * 4 / 5 then right, nr = right + p[2], nr + 1 end
      end
      assert.is_true(nl > 0 and nr > 0)
      return left / nl, right / nr
    end
    local loss_left, loss_right = ends(LOSS_COLOR)
    assert.is_true(loss_left < loss_right - 100,
      string.format("loss rows %.0f -> %.0f", loss_left, loss_right))
    local acc_left, acc_right = ends(ACCURACY_COLOR)
    assert.is_true(acc_left > acc_right + 20,
      string.format("accuracy rows %.0f -> %.0f", acc_left, acc_right))
  end)

  browser_it("shows both classes' points", function()
    local _, X, y = moons()
    local svg = plot.scatter(X, y, nil, { width = 480, height = 360 })
    local image = picture.render(svg, 480, 360)
    assert.are.same({ 480, 360 }, { image.width, image.height })
    local red, blue = #picture.pixels_of(image, svg, RED, 8), #picture.pixels_of(image, svg, BLUE, 8)
    -- a point covers about 50 pixels: most of the 50 of each class show
    assert.is_true(red > 40 * 30 and blue > 40 * 30, string.format("red %d, blue %d pixels", red, blue))
    for i, c in ipairs(picture.circles(svg)) do
      if i % 10 == 0 then
        local color = y[i] == 1 and BLUE or RED
        assert.is_true(picture.is_near(image, math.floor(c[1]), math.floor(c[2]), color, 8, 1))
      end
    end
  end)
end)

describe("viz_plot equal_axes", function()
  -- The centres of the circles drawn, in order.
  local function circles(svg)
    local out = {}
    for cx, cy in svg:gmatch('<circle cx="([%d.%-]+)" cy="([%d.%-]+)"') do
      out[#out + 1] = { tonumber(cx), tonumber(cy) }
    end
    return out
  end

  local X = { { 0, 0 }, { 4, 0 }, { 0, 1 } } -- wide data: 4 by 1
  local y = { 0, 1, 1 }

  for _, case in ipairs({
    -- (not tail calls: Lua 5.1 counts a tail call as a level, and error_here's position would be lost)
    { "scatter", function(opts) local svg = plot.scatter(X, y, opts) return svg end },
    { "decision_boundary", function(opts)
      local svg = plot.decision_boundary(by_x1, X, y, opts)
      return svg
    end },
  }) do
    it(case[1] .. " draws a unit as long on both axes with equal_axes = true", function()
      for _, size in ipairs({ { 640, 480 }, { 300, 700 } }) do
        local c = circles(case[2]({ equal_axes = true, width = size[1], height = size[2] }))
        local unit_x = (c[2][1] - c[1][1]) / 4
        local unit_y = c[1][2] - c[3][2]
        assert.is_true(math.abs(unit_x - unit_y) < 0.02, unit_x .. " vs " .. unit_y)
        -- every point is inside the picture
        for _, p in ipairs(c) do
          assert.is_true(p[1] > 0 and p[1] < size[1] and p[2] > 0 and p[2] < size[2])
        end
      end
      -- by default the axes stretch to the plot area
      local c = circles(case[2]({}))
      assert.is_true(math.abs((c[2][1] - c[1][1]) / 4 - (c[1][2] - c[3][2])) > 10)
      local err = error_here(case[2], { equal_axes = 1 })
      assert.truthy(err:find("option 'equal_axes' must be a boolean, got number", 1, true))
    end)
  end
end)
