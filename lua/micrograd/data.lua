--- Data sets and data handling: sklearn's toy generators, CSV files, shuffling,
-- batches and splits.
--
-- Labels follow sklearn: binary data sets give 0/1, multi-class data sets give
-- classes 1..k (`signs` maps 0/1 to -1/+1 for the hinge loss). Every random
-- draw comes from the engine's generators (`mg.Generator`), never from
-- `math.random`, so a seed gives the same data on every machine.
-- Functions that reorder or slice data share the rows of `X` (they copy the
-- arrays, not the rows).
-- @module micrograd.data
local check = require("micrograd._check")
local mg = require("micrograd")
local file = require("micrograd._file")
local csv = require("micrograd._csv")
local compat = require("micrograd._compat")
local arg_error, describe, kind = check.arg_error, check.describe, check.rule

local cos, sin, pi, huge = math.cos, math.sin, math.pi, math.huge
local ceil, idiv, tointeger = math.ceil, compat.idiv, compat.tointeger
local find, format = string.find, string.format
local move = compat.move
local type, tostring, ipairs = type, tostring, ipairs

local M = {}

-- Sizes a caller passes are checked against these before anything is
-- allocated (make_blobs(5, {centers = 1e9}) would ask for 24 GB).
local MAX_SAMPLES = 10000000   -- n of a generator
local MAX_CENTERS = 100000     -- make_blobs' centers
local MAX_FEATURES = 100000    -- make_blobs' n_features
local MAX_NUMBERS = 100000000  -- coordinates made in all (samples or centers times features)

-- ---- argument checks -----------------------------------------------------

local function is_integer(v)
  return type(v) == "number" and tointeger(v) ~= nil
end

local function is_finite(v)
  return type(v) == "number" and v == v and v > -huge and v < huge
end

--- n as an integer >= 1 (default when nil), at most max when given.
local function check_count(fname, arg, n, default, max)
  if n == nil and default then return default end
  if not is_integer(n) or n < 1 then
    arg_error(fname, arg, "positive integer expected, got " .. describe(n), 3)
  end
  if max and n > max then
    arg_error(fname, arg, format("at most %d expected, got %s", max, describe(n)), 3)
  end
  return tointeger(n)
end

--- X must be an array; y nil or an array of the same length.
local function check_xy(fname, X, y)
  if type(X) ~= "table" then arg_error(fname, 1, "table expected, got " .. describe(X), 3) end
  if y == nil then return end
  if type(y) ~= "table" then arg_error(fname, 2, "table or nil expected, got " .. describe(y), 3) end
  if #y ~= #X then
    arg_error(fname, 2, format("y has %d elements but X has %d", #y, #X), 3)
  end
end

local INTEGER = kind("integer", is_integer)
local NONNEG = kind("non-negative number", function(v) return is_finite(v) and v >= 0 end)
local BOOLEAN = kind("boolean", function(v) return type(v) == "boolean" end)
local STRING = kind("string", function(v) return type(v) == "string" end)

-- ---- randomness ----------------------------------------------------------

--- A function draw(i) giving an integer in [1, i]: from a new generator with
-- this seed, or from the engine's global generator when seed is nil.
local function drawer(seed)
  if seed == nil then return mg.random end
  local g = mg.Generator(seed)
  return function(i) return g:random(i) end
end

--- Fisher-Yates: the same permutation of X and (when given) y.
local function permute(X, y, draw)
  for i = #X, 2, -1 do
    local j = draw(i)
    X[i], X[j] = X[j], X[i]
    if y then y[i], y[j] = y[j], y[i] end
  end
end

--- Adds normal(0, sd) to every coordinate of every row, row by row.
local function add_noise(X, g, sd)
  if sd == 0 then return end
  for _, row in ipairs(X) do
    for j = 1, #row do
      row[j] = row[j] + g:normal(0, sd)
    end
  end
end

--- numpy's linspace(a, b, n, endpoint): a + i * step, the last point b exactly.
local function linspace(a, b, n, endpoint)
  local div = endpoint and n - 1 or n
  local step = div > 0 and (b - a) / div or 0
  local t = {}
  for i = 1, n do t[i] = a + (i - 1) * step end
  if endpoint and n > 1 then t[n] = b end
  return t
end

--- The generators' common ending: shuffle X and y together, then add noise.
local function finish(X, y, g, noise)
  permute(X, y, function(i) return g:random(i) end)
  add_noise(X, g, noise)
  return X, y
end

-- ---- toy data sets -------------------------------------------------------

local MOONS_OPTIONS = { { "noise", NONNEG, 0 }, { "seed", INTEGER }, what = "table or nil", by_value = true }

--- Two interleaving half circles (sklearn's `make_moons`).
--
-- The outer moon (label 0) is `(cos t, sin t)` and the inner one (label 1)
-- `(1 - cos t, 0.5 - sin t)` for t evenly spaced in [0, pi]; `n // 2` points
-- are outer. The points are shuffled, then Gaussian noise is added.
-- @tparam[opt=100] integer n number of points
-- @tparam[opt] table opts `noise` (standard deviation of the noise added to
--   every coordinate, default 0), `seed` (an integer; default drawn from the
--   engine's generator, so `mg.seed` makes it reproducible)
-- @treturn {{number,number},...} X the points
-- @treturn {integer,...} y the labels, 0 or 1
function M.make_moons(n, opts)
  n = check_count("make_moons", 1, n, 100, MAX_SAMPLES)
  local o = check.options("make_moons", 2, opts, MOONS_OPTIONS)
  local g = mg.Generator(o.seed)
  local X, y = {}, {}
  local n_out = idiv(n, 2)
  for i, t in ipairs(linspace(0, pi, n_out, true)) do
    X[i], y[i] = { cos(t), sin(t) }, 0
  end
  for i, t in ipairs(linspace(0, pi, n - n_out, true)) do
    X[n_out + i], y[n_out + i] = { 1 - cos(t), 1 - sin(t) - 0.5 }, 1
  end
  return finish(X, y, g, o.noise)
end

local FACTOR = kind("number in [0, 1)", function(v) return is_finite(v) and v >= 0 and v < 1 end)
local CIRCLES_OPTIONS = { { "noise", NONNEG, 0 }, { "factor", FACTOR, 0.8 }, { "seed", INTEGER },
  what = "table or nil", by_value = true }

--- A small circle inside a large one (sklearn's `make_circles`).
--
-- The outer circle (label 0, radius 1) holds `n // 2` points at angles evenly
-- spaced in [0, 2 pi); the inner one (label 1) has radius `factor`. The points
-- are shuffled, then Gaussian noise is added.
-- @tparam[opt=100] integer n number of points
-- @tparam[opt] table opts `noise` (default 0), `factor` (inner radius, in
--   [0, 1), default 0.8), `seed` (an integer; default drawn from the engine's
--   generator)
-- @treturn {{number,number},...} X the points
-- @treturn {integer,...} y the labels, 0 or 1
function M.make_circles(n, opts)
  n = check_count("make_circles", 1, n, 100, MAX_SAMPLES)
  local o = check.options("make_circles", 2, opts, CIRCLES_OPTIONS)
  local g = mg.Generator(o.seed)
  local X, y = {}, {}
  local n_out, factor = idiv(n, 2), o.factor
  for i, t in ipairs(linspace(0, 2 * pi, n_out, false)) do
    X[i], y[i] = { cos(t), sin(t) }, 0
  end
  for i, t in ipairs(linspace(0, 2 * pi, n - n_out, false)) do
    X[n_out + i], y[n_out + i] = { cos(t) * factor, sin(t) * factor }, 1
  end
  return finish(X, y, g, o.noise)
end

--- A non-empty array of points of one dimension, every coordinate finite.
local function check_points(v)
  if type(v) ~= "table" or #v == 0 then return false end
  local dim = type(v[1]) == "table" and #v[1] or 0
  for i, c in ipairs(v) do
    if type(c) ~= "table" or #c == 0 then
      return false, format("center %d is not an array of numbers", i)
    elseif #c ~= dim then
      return false, format("center %d has length %d but center 1 has length %d", i, #c, dim)
    end
    for j = 1, dim do
      if not is_finite(c[j]) then
        return false, format("center %d: coordinate %d is %s, not a finite number", i, j, describe(c[j]))
      end
    end
  end
  return true
end

--- A kind of positive integer at most max (the message says so when too big).
local function bounded(expected, max, what)
  return kind(expected, function(v)
    if not (is_integer(v) and v >= 1) then return false end
    if v > max then return false, format("at most %d %s, got %s", max, what, describe(v)) end
    return true
  end)
end

local CENTER_COUNT = bounded("positive integer", MAX_CENTERS, "centers")
local CENTERS = kind("positive integer or array of points", function(v)
  if type(v) == "number" then return CENTER_COUNT.test(v) end
  return check_points(v)
end)
local FEATURES = bounded("positive integer", MAX_FEATURES, "features")

local STD = kind("non-negative number or array of them", function(v)
  if type(v) ~= "table" then return NONNEG.test(v) end
  for i = 1, #v do
    if not NONNEG.test(v[i]) then
      return false, format("cluster_std[%d] is %s, not a non-negative number", i, describe(v[i]))
    end
  end
  return true
end)

local BOX = kind("{low, high} with low <= high", function(v)
  return type(v) == "table" and #v == 2 and is_finite(v[1]) and is_finite(v[2]) and v[1] <= v[2]
end)

local BLOBS_OPTIONS = {
  what = "table or nil", by_value = true,
  { "centers", CENTERS, 3 }, { "cluster_std", STD, 1.0 }, { "center_box", BOX, { -10, 10 } },
  { "n_features", FEATURES }, { "seed", INTEGER },
}

--- make_blobs' centers (drawn or copied) and per-center standard deviations.
local function blob_centers(o, g)
  local centers, nf = {}, o.n_features
  if type(o.centers) == "table" then
    local dim = #o.centers[1]
    if nf and nf ~= dim then
      arg_error("make_blobs", 2, format("option 'n_features' is %d but the centers have %d coordinates",
        nf, dim), 3)
    end
    for i, c in ipairs(o.centers) do centers[i] = move(c, 1, dim, 1, {}) end
  else
    nf = nf or 2
    local lo, hi = o.center_box[1], o.center_box[2]
    for i = 1, tointeger(o.centers) do
      local c = {}
      for j = 1, nf do c[j] = g:uniform(lo, hi) end
      centers[i] = c
    end
  end
  local std, stds = o.cluster_std, {}
  if type(std) == "table" and #std ~= #centers then
    arg_error("make_blobs", 2, format("option 'cluster_std' has %d values for %d centers", #std, #centers), 3)
  end
  for i = 1, #centers do stds[i] = type(std) == "table" and std[i] or std end
  return centers, stds
end

--- Gaussian blobs (sklearn's `make_blobs`).
--
-- `n` points are split over the centers as evenly as possible (the first
-- `n % k` centers get one more); each point is its center plus
-- `normal(0, cluster_std)` in every coordinate; the points are shuffled.
-- @tparam[opt=100] integer n number of points
-- @tparam[opt] table opts `centers` (a count k, default 3, whose centers are
--   drawn uniformly in `center_box` per feature; or an array of center points),
--   `cluster_std` (a number or one per center, default 1), `center_box`
--   (`{low, high}`, default `{-10, 10}`), `n_features` (default 2, or the
--   centers' dimension), `seed` (an integer; default drawn from the engine's
--   generator)
-- @treturn {{number,...},...} X the points
-- @treturn {integer,...} y the labels, classes 1..k
-- @treturn {{number,...},...} the centers (new arrays)
function M.make_blobs(n, opts)
  n = check_count("make_blobs", 1, n, 100, MAX_SAMPLES)
  local o = check.options("make_blobs", 2, opts, BLOBS_OPTIONS)
  local nf = type(o.centers) == "table" and #o.centers[1] or o.n_features or 2
  local ncenters = type(o.centers) == "table" and #o.centers or o.centers
  if (n + ncenters) * nf > MAX_NUMBERS then
    arg_error("make_blobs", 2, format("%d samples and %d centers of %d features: more than %d numbers",
      n, ncenters, nf, MAX_NUMBERS))
  end
  local g = mg.Generator(o.seed)
  local centers, stds = blob_centers(o, g)
  local k, X, y = #centers, {}, {}
  for label, c in ipairs(centers) do
    local count, sd = idiv(n, k) + (label <= n % k and 1 or 0), stds[label]
    for _ = 1, count do
      local row = {}
      for j = 1, #c do row[j] = g:normal(c[j], sd) end
      X[#X + 1], y[#y + 1] = row, label
    end
  end
  permute(X, y, function(i) return g:random(i) end)
  return X, y, centers
end

-- ---- CSV -----------------------------------------------------------------

local LABEL = kind("column name, positive integer or false", function(v)
  return v == false or type(v) == "string" or (is_integer(v) and v >= 1)
end)

local SEP = kind("one character other than '\"', CR or LF", function(v)
  return type(v) == "string" and #v == 1 and not find(v, '["\r\n]')
end)

local CSV_OPTIONS = { { "label", LABEL }, { "header", BOOLEAN }, { "sep", SEP, "," },
  what = "table or nil", by_value = true }
local PARSE_OPTIONS = { CSV_OPTIONS[1], CSV_OPTIONS[2], CSV_OPTIONS[3], { "name", STRING, "<string>" },
  what = "table or nil", by_value = true }

--- Parses CSV text into a data set.
--
-- Fields are separated by `sep`; spaces around fields are ignored; a field
-- may be double-quoted (`""` is a quote inside, and separators and line breaks
-- are allowed inside). LF, CRLF and CR line ends, a trailing newline and
-- blank lines are fine. Feature columns must be finite numbers. The label
-- column gives numbers when all its values are numeric, otherwise classes 1..k
-- in order of first appearance, named in `names.classes`; an infinite label,
-- or one spelled `nan` or `inf`, is an error, not a class. Errors name
-- `opts.name` (default `"<string>"`), the line and the column: `data.csv:7:
-- column 3 ('petal'): not a number: 'abc'` (a field longer than 40 bytes is
-- shown cut).
-- @tparam string text the CSV document
-- @tparam[opt] table opts `label` (column name or 1-based index, default the
--   last column, `false` for none), `header` (boolean; default: the first row
--   is a header when any of its fields is not a number), `sep` (one character,
--   default `","`), `name` (for error messages)
-- @treturn {{number,...},...} X the feature rows
-- @treturn ?{number,...} y the labels (nil when `label` is false)
-- @treturn {string,...} names the feature columns' names (from the header, or
--   `"x1"`, `"x2"`, ...), with `names.classes` (class names, when the labels
--   are strings) and `names.label` (the label column's name, with a header)
function M.parse_csv(text, opts)
  if type(text) ~= "string" then arg_error("parse_csv", 1, "string expected, got " .. describe(text)) end
  local o = check.options("parse_csv", 2, opts, PARSE_OPTIONS)
  return csv.parse({ name = o.name, sep = o.sep }, text, o)
end

--- Reads a CSV file into a data set: `parse_csv` on its contents, with errors
-- naming the file (`data.csv:7: ...`).
-- @tparam string path the file
-- @tparam[opt] table opts `label`, `header`, `sep` as for `parse_csv`
-- @treturn {{number,...},...} X the feature rows
-- @treturn ?{number,...} y the labels (nil when `label` is false)
-- @treturn {string,...} names the feature columns' names, as for `parse_csv`
function M.load_csv(path, opts)
  if type(path) ~= "string" then arg_error("load_csv", 1, "string expected, got " .. describe(path)) end
  local o = check.options("load_csv", 2, opts, CSV_OPTIONS)
  if not file.has_io() then error("load_csv needs the io library (use parse_csv with the text)", 2) end
  local text, err, opened = file.read(path)
  if not text then
    error(opened and format("load_csv: cannot read %s: %s", path, err) or "load_csv: cannot open " .. err, 2)
  end
  return csv.parse({ name = path, sep = o.sep }, text, o)
end

-- ---- shuffling, batches, splits ------------------------------------------

--- Shuffles X and y in place with the same permutation (Fisher-Yates).
-- @tparam table X an array (of rows)
-- @tparam[opt] table y an array of the same length, or nil
-- @tparam[opt] integer seed a seed for a new generator; without it, the
--   engine's global generator (`mg.random`) is used
-- @treturn table X
-- @treturn ?table y
function M.shuffle(X, y, seed)
  check_xy("shuffle", X, y)
  if seed ~= nil and not is_integer(seed) then
    arg_error("shuffle", 3, "integer or nil expected, got " .. describe(seed))
  end
  permute(X, y, drawer(seed))
  return X, y
end

--- An iterator over consecutive batches: `for bx, by in data.batches(X, y, 32) do`.
-- Each batch is a new array of at most `size` rows (the last one may be
-- smaller); `by` is nil when y is nil.
-- @tparam table X an array (of rows)
-- @tparam[opt] table y an array of the same length, or nil
-- @tparam integer size the batch size
-- @treturn function the iterator
function M.batches(X, y, size)
  check_xy("batches", X, y)
  size = check_count("batches", 3, size)
  local n, i = #X, 0
  return function()
    if i >= n then return nil end
    local last = i + size < n and i + size or n
    local bx, by = move(X, i + 1, last, 1, {}), y and move(y, i + 1, last, 1, {})
    i = last
    return bx, by
  end
end

local TEST = kind("fraction in (0, 1) or positive integer count", function(v)
  return is_finite(v) and v > 0 and (v < 1 or is_integer(v))
end)
local SPLIT_OPTIONS = { { "test", TEST, 0.25 }, { "seed", INTEGER }, what = "table or nil", by_value = true }

--- The test set's size for n samples: ceil(test * n) for a fraction, else test.
local function test_size(test, n)
  local n_test = test < 1 and tointeger(ceil(test * n)) or tointeger(test)
  if n_test >= n then
    arg_error("train_test_split", 3,
      format("option 'test': %d test samples leave no training samples (n = %d)", n_test, n), 3)
  end
  return n_test
end

--- Splits a data set into shuffled training and test sets (sklearn's
-- `train_test_split`); X and y are not modified.
-- @tparam table X an array (of rows)
-- @tparam[opt] table y an array of the same length, or nil
-- @tparam[opt] table opts `test` (a fraction in (0, 1), the test set having
--   `ceil(test * n)` samples, or a count; default 0.25), `seed` (an integer;
--   without it the engine's global generator is used)
-- @treturn table Xtr
-- @treturn ?table ytr
-- @treturn table Xte
-- @treturn ?table yte
function M.train_test_split(X, y, opts)
  check_xy("train_test_split", X, y)
  local o = check.options("train_test_split", 3, opts, SPLIT_OPTIONS)
  local n = #X
  local n_test = test_size(o.test, n)
  local order = {}
  for i = 1, n do order[i] = i end
  permute(order, nil, drawer(o.seed))
  local Xtr, Xte, ytr, yte = {}, {}, y and {}, y and {}
  for k, i in ipairs(order) do
    if k <= n_test then
      Xte[k] = X[i]
      if y then yte[k] = y[i] end
    else
      Xtr[k - n_test] = X[i]
      if y then ytr[k - n_test] = y[i] end
    end
  end
  return Xtr, ytr, Xte, yte
end

--- Maps 0/1 labels to -1/+1 (for the hinge loss `loss.svm`).
-- @tparam {number,...} y labels, each 0 or 1
-- @treturn {integer,...} a new array: -1 for 0, 1 for 1
function M.signs(y)
  if type(y) ~= "table" then arg_error("signs", 1, "table expected, got " .. describe(y)) end
  local out = {}
  for i = 1, #y do
    local v = y[i]
    if v == 0 then
      out[i] = -1
    elseif v == 1 then
      out[i] = 1
    else
      arg_error("signs", 1, format("y[%d] is %s, expected 0 or 1", i, describe(v)))
    end
  end
  return out
end

-- ---- scaling and one-hot rows -------------------------------------------

local Scaler = {}
Scaler.__index = Scaler

--- Checks that X is a non-empty array of rows of finite numbers, each of
-- width (or of the first row's width when width is nil); returns the width.
local function check_rows(fname, X, width)
  if type(X) ~= "table" or #X == 0 then
    arg_error(fname, 1, "non-empty array of rows expected, got " .. describe(X), 3)
  end
  width = width or (type(X[1]) == "table" and #X[1])
  for i = 1, #X do
    local row = X[i]
    if type(row) ~= "table" or #row ~= width or width == 0 then
      arg_error(fname, 1, format("X[%d] must be a row of %d numbers, got %s", i, width or 0,
        type(row) == "table" and #row .. " values" or describe(row)), 3)
    end
    for j = 1, width do
      if not is_finite(row[j]) then
        local v = row[j] -- a NaN as tostring writes it ("-nan" with glibc), as the specs expect
        arg_error(fname, 1, format("X[%d][%d] must be a finite number, got %s", i, j,
          type(v) == "number" and tostring(v) or describe(v)), 3)
      end
    end
  end
  return width
end

--- Scales each column of X to mean 0 and standard deviation 1, as sklearn's
-- `StandardScaler` (the population standard deviation; a constant column is
-- only centred). Returns the scaled rows (new arrays) and the scaler, whose
-- `scaler:apply(X2)` scales other rows (a test set, new inputs) the same way;
-- `scaler:state()` gives `{mean = {...}, std = {...}}` and
-- `data.scaler(state)` rebuilds it (to scale inputs after a model is loaded).
-- @tparam {{number,...},...} X rows of numbers, all of the same width
-- @treturn table the scaled rows
-- @treturn Scaler the scaler
function M.standardize(X)
  local width, n = check_rows("standardize", X), #X
  local mean, std = {}, {}
  for j = 1, width do
    local sum = 0
    for i = 1, n do sum = sum + X[i][j] end
    local m = sum / n
    local sq = 0
    for i = 1, n do
      local d = X[i][j] - m
      sq = sq + d * d
    end
    local sd = math.sqrt(sq / n)
    mean[j], std[j] = m, sd > 0 and sd or 1
  end
  local scaler = setmetatable({ mean = mean, std = std }, Scaler)
  return scaler:apply(X), scaler
end

--- Rebuilds a scaler from `scaler:state()`.
-- @tparam table state `{mean = {...}, std = {...}}` (arrays of the same length)
-- @treturn Scaler
function M.scaler(state)
  if type(state) ~= "table" or type(state.mean) ~= "table" or type(state.std) ~= "table"
      or #state.mean == 0 or #state.mean ~= #state.std then
    arg_error("scaler", 1, "state with arrays 'mean' and 'std' of the same length expected")
  end
  local mean, std = {}, {}
  for j = 1, #state.mean do
    mean[j], std[j] = state.mean[j], state.std[j]
    if not is_finite(mean[j]) or not is_finite(std[j]) or std[j] <= 0 then
      arg_error("scaler", 1, format("column %d: finite mean and std > 0 expected", j))
    end
  end
  return setmetatable({ mean = mean, std = std }, Scaler)
end

--- New rows `(x - mean) / std`, column by column.
-- @tparam {{number,...},...} X rows as wide as the data the scaler was made from
-- @treturn table
function Scaler:apply(X)
  if getmetatable(self) ~= Scaler then
    check.self_error("apply", "Scaler expected, got " .. describe(self))
  end
  local mean, std = self.mean, self.std
  check_rows("apply", X, #mean)
  local out = {}
  for i = 1, #X do
    local row, scaled = X[i], {}
    for j = 1, #mean do scaled[j] = (row[j] - mean[j]) / std[j] end
    out[i] = scaled
  end
  return out
end

--- The scaler as plain numbers: `{mean = {...}, std = {...}}` (copies).
-- @treturn table
function Scaler:state()
  if getmetatable(self) ~= Scaler then
    check.self_error("state", "Scaler expected, got " .. describe(self))
  end
  return { mean = move(self.mean, 1, #self.mean, 1, {}), std = move(self.std, 1, #self.std, 1, {}) }
end

function Scaler:__tostring()
  return format("Scaler (%d columns)", #self.mean)
end

local MAX_CLASSES = 65536 -- one_hot's rows are k numbers each

--- One-hot rows: class c of k becomes `{0, ..., 1 (at c), ..., 0}`.
-- @tparam {integer,...} y class labels 1..k (add 1 to 0/1 labels first)
-- @tparam[opt] integer k the number of classes (default: the largest label; at most 65536)
-- @treturn table an array of rows of k numbers
function M.one_hot(y, k)
  if type(y) ~= "table" then arg_error("one_hot", 1, "table expected, got " .. describe(y)) end
  local largest = 0
  for i = 1, #y do
    local c = y[i]
    if not is_integer(c) or c < 1 then
      arg_error("one_hot", 1, format("y[%d] is %s, expected a class 1..k%s", i, describe(c),
        c == 0 and " (0/1 labels: add 1)" or ""))
    end
    if c > largest then largest = c end
  end
  if k == nil then k = largest end
  k = check_count("one_hot", 2, k)
  if k > MAX_CLASSES then arg_error("one_hot", 2, format("at most %d classes, got %d", MAX_CLASSES, k)) end
  if largest > k then arg_error("one_hot", 2, format("%d classes, but y has class %d", k, largest)) end
  local out = {}
  for i = 1, #y do
    local row = {}
    for j = 1, k do row[j] = 0 end
    row[tointeger(y[i])] = 1
    out[i] = row
  end
  return out
end

return require("micrograd._names").strict(M, "micrograd.data")
