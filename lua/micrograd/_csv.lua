--- Internal: the CSV reader behind data.parse_csv and data.load_csv (their
-- options are checked there; this reads the text and raises "name:line:
-- message" errors for what is wrong in it).
-- @module micrograd._csv
local file = require("micrograd._file")
local compat = require("micrograd._compat")

local find, sub, byte, format = string.find, string.sub, string.byte, string.format
local gsub, lower = string.gsub, string.lower
local concat, move = table.concat, compat.move
local type, ipairs = type, ipairs
local huge, tointeger = math.huge, compat.tointeger

local function is_finite(v)
  return type(v) == "number" and v == v and v > -huge and v < huge
end

local M = {}

local QUOTE, CR, LF = byte('"'), 13, 10
local NONFINITE = { nan = true, inf = true, infinity = true }

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

--- The parser: p holds name and sep; o the checked options (label, header):
-- returns X, y and names as data.parse_csv documents them.
function M.parse(p, text, o)
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

return M
