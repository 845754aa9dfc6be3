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
local mg = require("micrograd")
local file = require("micrograd._file")

local cos, sin, pi, huge = math.cos, math.sin, math.pi, math.huge
local ceil, tointeger = math.ceil, math.tointeger
local find, sub, byte, format = string.find, string.sub, string.byte, string.format
local gsub, lower = string.gsub, string.lower
local concat, move = table.concat, table.move
local type, tostring, pairs, ipairs = type, tostring, pairs, ipairs

local M = {}

-- Sizes a caller passes are checked against these before anything is
-- allocated (make_blobs(5, {centers = 1e9}) would ask for 24 GB).
local MAX_SAMPLES = 10000000   -- n of a generator
local MAX_CENTERS = 100000     -- make_blobs' centers
local MAX_FEATURES = 100000    -- make_blobs' n_features
local MAX_NUMBERS = 100000000  -- coordinates made in all (samples or centers times features)

-- ---- argument checks -----------------------------------------------------

--- Raises "bad argument #arg to 'fname' (msg)" blaming the caller of the public
-- function: level 1 (the default) when the public function calls argerror
-- itself, 2 from a helper that the public function calls.
local function argerror(fname, arg, msg, level)
  error(format("bad argument #%d to '%s' (%s)", arg, fname, msg), 2 + (level or 1))
end

--- A value as an error message shows it: numbers by value, others by type.
local function describe(v)
  if type(v) == "number" then return tostring(v) end
  return type(v)
end

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
    argerror(fname, arg, "positive integer expected, got " .. describe(n), 2)
  end
  if max and n > max then
    argerror(fname, arg, format("at most %d expected, got %s", max, describe(n)), 2)
  end
  return tointeger(n)
end

--- X must be an array; y nil or an array of the same length.
local function check_xy(fname, X, y)
  if type(X) ~= "table" then argerror(fname, 1, "table expected, got " .. describe(X), 2) end
  if y == nil then return end
  if type(y) ~= "table" then argerror(fname, 2, "table or nil expected, got " .. describe(y), 2) end
  if #y ~= #X then
    argerror(fname, 2, format("y has %d elements but X has %d", #y, #X), 2)
  end
end

--- An option kind: what it expects, and a test that returns true, or false
-- and an optional detail message.
local function kind(expected, test)
  return { expected = expected, test = test }
end

local INTEGER = kind("integer", is_integer)
local NONNEG = kind("non-negative number", function(v) return is_finite(v) and v >= 0 end)
local BOOLEAN = kind("boolean", function(v) return type(v) == "boolean" end)
local STRING = kind("string", function(v) return type(v) == "string" end)

--- Checks an options table against spec, an array of {name, kind, default};
-- returns a new table holding every option's value or its default.
local function check_options(fname, arg, opts, spec)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then argerror(fname, arg, "table or nil expected, got " .. describe(opts), 2) end
  local known = {}
  for _, entry in ipairs(spec) do known[entry[1]] = true end
  for key in pairs(opts) do
    if not known[key] then argerror(fname, arg, format("unknown option '%s'", tostring(key)), 2) end
  end
  local o = {}
  for _, entry in ipairs(spec) do
    local name, k, v = entry[1], entry[2], opts[entry[1]]
    if v == nil then
      v = entry[3]
    else
      local ok, why = k.test(v)
      if not ok then
        why = why or k.expected .. " expected, got " .. describe(v)
        argerror(fname, arg, format("option '%s': %s", name, why), 2)
      end
    end
    o[name] = v
  end
  return o
end

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

local MOONS_OPTIONS = { { "noise", NONNEG, 0 }, { "seed", INTEGER } }

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
  local o = check_options("make_moons", 2, opts, MOONS_OPTIONS)
  local g = mg.Generator(o.seed)
  local X, y = {}, {}
  local n_out = n // 2
  for i, t in ipairs(linspace(0, pi, n_out, true)) do
    X[i], y[i] = { cos(t), sin(t) }, 0
  end
  for i, t in ipairs(linspace(0, pi, n - n_out, true)) do
    X[n_out + i], y[n_out + i] = { 1 - cos(t), 1 - sin(t) - 0.5 }, 1
  end
  return finish(X, y, g, o.noise)
end

local FACTOR = kind("number in [0, 1)", function(v) return is_finite(v) and v >= 0 and v < 1 end)
local CIRCLES_OPTIONS = { { "noise", NONNEG, 0 }, { "factor", FACTOR, 0.8 }, { "seed", INTEGER } }

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
  local o = check_options("make_circles", 2, opts, CIRCLES_OPTIONS)
  local g = mg.Generator(o.seed)
  local X, y = {}, {}
  local n_out, factor = n // 2, o.factor
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
  { "centers", CENTERS, 3 }, { "cluster_std", STD, 1.0 }, { "center_box", BOX, { -10, 10 } },
  { "n_features", FEATURES }, { "seed", INTEGER },
}

--- make_blobs' centers (drawn or copied) and per-center standard deviations.
local function blob_centers(o, g)
  local centers, nf = {}, o.n_features
  if type(o.centers) == "table" then
    local dim = #o.centers[1]
    if nf and nf ~= dim then
      argerror("make_blobs", 2,
        format("option 'n_features' is %d but the centers have %d coordinates", nf, dim), 2)
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
    argerror("make_blobs", 2, format("option 'cluster_std' has %d values for %d centers", #std, #centers), 2)
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
  local o = check_options("make_blobs", 2, opts, BLOBS_OPTIONS)
  local nf = type(o.centers) == "table" and #o.centers[1] or o.n_features or 2
  local ncenters = type(o.centers) == "table" and #o.centers or o.centers
  if (n + ncenters) * nf > MAX_NUMBERS then
    argerror("make_blobs", 2, format("%d samples and %d centers of %d features: more than %d numbers",
      n, ncenters, nf, MAX_NUMBERS))
  end
  local g = mg.Generator(o.seed)
  local centers, stds = blob_centers(o, g)
  local k, X, y = #centers, {}, {}
  for label, c in ipairs(centers) do
    local count, sd = n // k + (label <= n % k and 1 or 0), stds[label]
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

local QUOTE, CR, LF = byte('"'), 13, 10
local NONFINITE = { nan = true, inf = true, infinity = true }

local LABEL = kind("column name, positive integer or false", function(v)
  return v == false or type(v) == "string" or (is_integer(v) and v >= 1)
end)

local SEP = kind("one character other than '\"', CR or LF", function(v)
  return type(v) == "string" and #v == 1 and not find(v, '["\r\n]')
end)

local CSV_OPTIONS = { { "label", LABEL }, { "header", BOOLEAN }, { "sep", SEP, "," } }
local PARSE_OPTIONS = { CSV_OPTIONS[1], CSV_OPTIONS[2], CSV_OPTIONS[3], { "name", STRING, "<string>" } }

--- Raises "name:line: message" (the message has its own location).
local function csv_error(p, line, fmt, ...)
  error(format("%s:%d: " .. fmt, p.name, line, ...), 0)
end

--- A field as a message shows it: quoted, control characters as \ddd, cut
-- to 40 bytes (a hostile file may hold a 50 MB field).
local function shown(f)
  local cut = #f > 40 and format("... (%d bytes)", #f) or ""
  return "'" .. gsub(sub(f, 1, 40), "%c", function(c) return "\\" .. byte(c) end) .. "'" .. cut
end

--- A function returning the text's lines one by one and their numbers; a
-- line ends at LF, CR LF or a lone CR (old Mac files).
local function line_reader(text)
  local pos, lineno, n = 1, 0, #text
  return function()
    if pos > n then return nil end
    local e = find(text, "[\r\n]", pos) or n + 1
    local line = sub(text, pos, e - 1)
    pos, lineno = e + 1, lineno + 1
    if byte(text, e) == CR and byte(text, pos) == LF then pos = pos + 1 end
    return line, lineno
  end
end

--- The body of a quoted field whose opening quote is just before line[i];
-- reads further lines while the quote is open. Returns the field, the
-- current line and the position after the closing quote.
local function read_quoted(p, line, i, next_line, lineno, col)
  local parts = {}
  while true do
    local q = find(line, '"', i, true)
    if not q then
      parts[#parts + 1] = sub(line, i) .. "\n"
      line, i = next_line(), 1
      if not line then csv_error(p, lineno, "column %d: unterminated quoted field", col) end
    elseif byte(line, q + 1) == QUOTE then
      parts[#parts + 1] = sub(line, i, q)         -- "" is one quote
      i = q + 2
    else
      parts[#parts + 1] = sub(line, i, q - 1)
      return concat(parts), line, q + 1
    end
  end
end

--- The fields of the record that starts with line (number lineno).
local function read_record(p, line, lineno, next_line)
  local fields, i, sep = { line = lineno }, 1, p.sep
  while true do
    i = find(line, p.nonblank, i) or #line + 1
    if byte(line, i) == QUOTE then
      local field
      field, line, i = read_quoted(p, line, i + 1, next_line, lineno, #fields + 1)
      fields[#fields + 1] = field
      i = find(line, p.nonblank, i)
      if not i then return fields end
      if sub(line, i, i) ~= sep then
        csv_error(p, lineno, "column %d: text after the closing quote", #fields)
      end
    else
      local s = find(line, sep, i, true)
      local e = (s or #line + 1) - 1
      while e >= i and p.blank[byte(line, e)] do e = e - 1 end -- (a pattern would be quadratic here)
      fields[#fields + 1] = sub(line, i, e)
      if not s then return fields end
      i = s
    end
    i = i + 1
  end
end

--- Every record of the text, blank lines skipped; each must have as many
-- fields as the first.
local function read_records(p, text)
  local records, next_line = {}, line_reader(text)
  for line, lineno in next_line do
    if find(line, "%S") then
      local fields, first = read_record(p, line, lineno, next_line), records[1]
      if first and #fields ~= #first then
        csv_error(p, lineno, "expected %d fields, got %d", #first, #fields)
      end
      records[#records + 1] = fields
    end
  end
  return records
end

local function is_number_row(fields)
  for _, f in ipairs(fields) do
    if not file.tonumber(f) then return false end
  end
  return true
end

--- The label's column number (nil for no label), checked against the header.
local function label_column(p, label, header, ncols, line)
  if label == false then return nil end
  if label == nil then return ncols end
  if type(label) == "string" then
    if not header then
      csv_error(p, line, "unknown label column '%s' (the text has no header row)", label)
    end
    for c = 1, ncols do
      if header[c] == label then return c end
    end
    csv_error(p, line, "unknown label column '%s'", label)
  end
  if label > ncols then
    csv_error(p, line, "unknown label column %d (the rows have %d columns)", label, ncols)
  end
  return tointeger(label)
end

--- "column 3 ('petal')", or "column 3" without a header.
local function column_name(header, c)
  return header and format("column %d (%s)", c, shown(header[c])) or format("column %d", c)
end

--- The labels: numbers when every one is numeric, else classes 1..k in order
-- of first appearance (and their names).
local function read_labels(p, rows, lc, header)
  local y, all_numbers = {}, true
  for i, fields in ipairs(rows) do
    local v = fields[lc]
    if v == "" then csv_error(p, fields.line, "%s: empty label", column_name(header, lc)) end
    y[i] = file.tonumber(v)
    -- an infinite number, or nan or inf spelled out, is not a class name
    if (y[i] and not is_finite(y[i])) or NONFINITE[lower(gsub(v, "^[+-]", ""))] then
      csv_error(p, fields.line, "%s: not a finite number: %s", column_name(header, lc), shown(v))
    end
    all_numbers = all_numbers and y[i] ~= nil
  end
  if all_numbers then return y, nil end
  local classes, index = {}, {}
  for i, fields in ipairs(rows) do
    local v = fields[lc]
    if not index[v] then
      classes[#classes + 1] = v
      index[v] = #classes
    end
    y[i] = index[v]
  end
  return y, classes
end

--- A feature row of numbers from one record's fields.
local function read_features(p, fields, lc, header)
  local row = {}
  for c, f in ipairs(fields) do
    if c ~= lc then
      local v = file.tonumber(f)
      if not v then
        csv_error(p, fields.line, "%s: not a number: %s", column_name(header, c), shown(f))
      end
      if not is_finite(v) then
        csv_error(p, fields.line, "%s: not a finite number: %s", column_name(header, c), shown(f))
      end
      row[#row + 1] = v
    end
  end
  return row
end

--- The parser: p holds name and sep; o the checked options.
local function parse(p, text, o)
  local blanks = p.sep == " " and "\t" or p.sep == "\t" and " " or " \t"
  p.nonblank, p.blank = "[^" .. blanks .. "]", {}
  for c in blanks:gmatch(".") do p.blank[byte(c)] = true end
  if sub(text, 1, 3) == "\239\187\191" then text = sub(text, 4) end   -- UTF-8 BOM
  local records = read_records(p, text)
  if #records == 0 then error(p.name .. ": empty document (no rows)", 0) end
  local first, ncols = records[1], #records[1]
  local has_header = o.header
  if has_header == nil then has_header = not is_number_row(first) end
  local header = has_header and first or nil
  local rows = move(records, has_header and 2 or 1, #records, 1, {})
  if #rows == 0 then csv_error(p, first.line, "no data rows after the header") end
  local lc = label_column(p, o.label, header, ncols, first.line)
  local names, X, y = {}, {}, nil
  for c = 1, ncols do
    if c ~= lc then names[#names + 1] = header and header[c] or "x" .. (#names + 1) end
  end
  for i, fields in ipairs(rows) do X[i] = read_features(p, fields, lc, header) end
  if lc then
    y, names.classes = read_labels(p, rows, lc, header)
    names.label = header and header[lc] or nil
  end
  return X, y, names
end

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
  if type(text) ~= "string" then argerror("parse_csv", 1, "string expected, got " .. describe(text)) end
  local o = check_options("parse_csv", 2, opts, PARSE_OPTIONS)
  return parse({ name = o.name, sep = o.sep }, text, o)
end

--- Reads a CSV file into a data set: `parse_csv` on its contents, with errors
-- naming the file (`data.csv:7: ...`).
-- @tparam string path the file
-- @tparam[opt] table opts `label`, `header`, `sep` as for `parse_csv`
-- @treturn {{number,...},...} X the feature rows
-- @treturn ?{number,...} y the labels (nil when `label` is false)
-- @treturn {string,...} names the feature columns' names, as for `parse_csv`
function M.load_csv(path, opts)
  if type(path) ~= "string" then argerror("load_csv", 1, "string expected, got " .. describe(path)) end
  local o = check_options("load_csv", 2, opts, CSV_OPTIONS)
  if not file.has_io() then error("load_csv needs the io library (use parse_csv with the text)", 2) end
  local text, err, opened = file.read(path)
  if not text then
    error(opened and format("load_csv: cannot read %s: %s", path, err) or "load_csv: cannot open " .. err, 2)
  end
  return parse({ name = path, sep = o.sep }, text, o)
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
    argerror("shuffle", 3, "integer or nil expected, got " .. describe(seed))
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
local SPLIT_OPTIONS = { { "test", TEST, 0.25 }, { "seed", INTEGER } }

--- The test set's size for n samples: ceil(test * n) for a fraction, else test.
local function test_size(test, n)
  local n_test = test < 1 and tointeger(ceil(test * n)) or tointeger(test)
  if n_test >= n then
    argerror("train_test_split", 3,
      format("option 'test': %d test samples leave no training samples (n = %d)", n_test, n), 2)
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
  local o = check_options("train_test_split", 3, opts, SPLIT_OPTIONS)
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
  if type(y) ~= "table" then argerror("signs", 1, "table expected, got " .. describe(y)) end
  local out = {}
  for i = 1, #y do
    local v = y[i]
    if v == 0 then
      out[i] = -1
    elseif v == 1 then
      out[i] = 1
    else
      argerror("signs", 1, format("y[%d] is %s, expected 0 or 1", i, describe(v)))
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
    argerror(fname, 1, "non-empty array of rows expected, got " .. describe(X), 2)
  end
  width = width or (type(X[1]) == "table" and #X[1])
  for i = 1, #X do
    local row = X[i]
    if type(row) ~= "table" or #row ~= width or width == 0 then
      argerror(fname, 1, format("X[%d] must be a row of %d numbers, got %s", i, width or 0,
        type(row) == "table" and #row .. " values" or describe(row)), 2)
    end
    for j = 1, width do
      if not is_finite(row[j]) then
        argerror(fname, 1, format("X[%d][%d] must be a finite number, got %s", i, j, describe(row[j])), 2)
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
    argerror("scaler", 1, "state with arrays 'mean' and 'std' of the same length expected")
  end
  local mean, std = {}, {}
  for j = 1, #state.mean do
    mean[j], std[j] = state.mean[j], state.std[j]
    if not is_finite(mean[j]) or not is_finite(std[j]) or std[j] <= 0 then
      argerror("scaler", 1, format("column %d: finite mean and std > 0 expected", j))
    end
  end
  return setmetatable({ mean = mean, std = std }, Scaler)
end

--- New rows `(x - mean) / std`, column by column.
-- @tparam {{number,...},...} X rows as wide as the data the scaler was made from
-- @treturn table
function Scaler:apply(X)
  if getmetatable(self) ~= Scaler then
    error("calling 'apply' on bad self (Scaler expected, got " .. describe(self) .. ")", 2)
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
    error("calling 'state' on bad self (Scaler expected, got " .. describe(self) .. ")", 2)
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
  if type(y) ~= "table" then argerror("one_hot", 1, "table expected, got " .. describe(y)) end
  local largest = 0
  for i = 1, #y do
    local c = y[i]
    if not is_integer(c) or c < 1 then
      argerror("one_hot", 1, format("y[%d] is %s, expected a class 1..k%s", i, describe(c),
        c == 0 and " (0/1 labels: add 1)" or ""))
    end
    if c > largest then largest = c end
  end
  if k == nil then k = largest end
  k = check_count("one_hot", 2, k)
  if k > MAX_CLASSES then argerror("one_hot", 2, format("at most %d classes, got %d", MAX_CLASSES, k)) end
  if largest > k then argerror("one_hot", 2, format("%d classes, but y has class %d", k, largest)) end
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
