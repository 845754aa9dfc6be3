--- The model file format: writing and checking the JSON documents of
-- `nn.dump`/`nn.parse` (nn builds the modules).
--
--     {"format": "micrograd-model", "version": 1,
--      "model": {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], "activation": "relu"},
--      "parameters": [0.23550571390294128, ...]}
--
-- Numbers are written by this module with 17 significant digits (JSON
-- libraries write 14), so every parameter reads back to the same bits. Reading
-- goes through dkjson, never `load()`: nothing in a file is ever executed.
-- A hostile document costs time and memory in proportion to its size at most:
-- nesting (64 levels) and strings (64 KiB) are bounded before decoding, and
-- sizes and the parameter count are checked before anything is built.
-- @module micrograd.model_io

-- dkjson asks for the debug library (pcall(require, "debug")); in a state
-- without it (a sandbox) that request must not search package.path on disk.
local json
do
  local loaded = package.loaded
  local stub = loaded.debug == nil
  if stub then loaded.debug = {} end
  local ok, mod = pcall(require, "dkjson")
  if stub then loaded.debug = nil end
  if not ok then error(mod, 0) end
  json = mod
end

local file = require("micrograd._file")
local compat = require("micrograd._compat")
local format, find, sub, byte = string.format, string.find, string.sub, string.byte
local concat, type, tostring, pairs, next = table.concat, type, tostring, pairs, next
local huge, floor = math.huge, math.floor
local math_type, tointeger = compat.math_type, compat.tointeger

local M = {}

M.FORMAT = "micrograd-model"
M.VERSION = 1
local MAX_DEPTH = 64        -- nesting of the document
local MAX_SIZE = 16777216   -- any layer size (2^24)
local MAX_LIST = 65536      -- the layers of an MLP, the modules of a Sequential
local MAX_STRING = 65536    -- any string
local MAX_PARAMETERS = 16777216 -- a model's parameters
--- The limits the reader enforces and the writer checks (nn.save refuses a
-- model nn.load would refuse).
M.LIMITS = {
  depth = MAX_DEPTH, size = MAX_SIZE, list = MAX_LIST, string = MAX_STRING, parameters = MAX_PARAMETERS,
}

-- ---- writing ----------------------------------------------------------------

-- (with '.' whatever the C locale; number, from file.formatter, saves finding
-- the locale's point once per number)
local function number_text(x, number)
  number = number or file.number
  if math_type(x) == "integer" then return tostring(x) end
  if x ~= x or x == huge or x == -huge then return nil end
  if x == floor(x) and x > -1e15 and x < 1e15 then return number("%.1f", x) end
  return number("%.17g", x)
end
M.number_text = number_text

local function string_text(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return format("\\u%04x", c:byte())
  end) .. '"'
end

-- A number of a spec or state table: where every number is a double (Lua 5.1,
-- LuaJIT), the integral ones are the integers (sizes, counts) 5.3 and 5.4 write
-- without a point, so that a model's spec reads the same text on every Lua.
local function spec_number_text(x)
  if not compat.integers and x == floor(x) and x > -2 ^ 53 and x < 2 ^ 53 then return format("%.0f", x) end
  return number_text(x)
end

--- JSON text of a spec table (strings, integers, arrays and objects with string keys).
local function encode_value(v)
  local t = type(v)
  if t == "string" then return string_text(v) end
  if t == "number" then return assert(spec_number_text(v), "not a finite number") end
  if t == "boolean" then return tostring(v) end
  assert(t == "table", "cannot write a " .. t)
  if #v > 0 or next(v) == nil then -- arrays, and an empty array (specs are never empty objects)
    local parts = {}
    for i, x in ipairs(v) do parts[i] = encode_value(x) end
    return "[" .. concat(parts, ", ") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = string_text(k) .. ": " .. encode_value(v[k]) end
  return "{" .. concat(parts, ", ") .. "}"
end

--- The document for a model spec and its parameter values.
-- @tparam table spec the model's architecture (`model:spec()`)
-- @tparam {number,...} values the parameters, in parameters() order
-- @treturn string
function M.encode(spec, values)
  M.check_writable(spec)
  local lines, number = {}, file.formatter()
  for i, x in ipairs(values) do
    local text = number_text(x, number)
    if not text then
      error(format("cannot save: parameter %d is %s (only finite numbers can be saved)", i, tostring(x)), 3)
    end
    lines[#lines + 1] = text
  end
  local rows = {}
  for i = 1, #lines, 4 do rows[#rows + 1] = "  " .. concat(lines, ", ", i, math.min(i + 3, #lines)) end
  return format('{"format": "%s", "version": %d,\n "model": %s,\n "parameters": [\n%s\n]}\n',
    M.FORMAT, M.VERSION, encode_value(spec), concat(rows, ",\n"))
end

-- ---- reading ----------------------------------------------------------------

--- Raises "name: msg" (the document's name, then what is wrong).
local function bad(name, msg, ...)
  error(name .. ": " .. format(msg, ...), 0)
end

--- "line L, column C" of byte pos in text (as dkjson's messages say it).
local function location(text, pos)
  local line, start = 1, 1
  while true do
    local nl = find(text, "\n", start, true)
    if not nl or nl >= pos then break end
    line, start = line + 1, nl + 1
  end
  return format("line %d, column %d", line, pos - start + 1)
end

--- A decoded value as a message shows it: strings quoted and cut to 40
-- bytes (a hostile document may hold a 50 MB string), null as null.
local function shown(v)
  if v == nil then return "nothing" end
  if v == json.null then return "null" end
  if type(v) == "table" then
    return #v > 0 and "an array" or next(v) == nil and "an empty array or object" or "an object"
  end
  if type(v) ~= "string" then return tostring(v) end
  if #v <= 40 then return string_text(v) end
  return format("%s... (%d bytes)", string_text(v:sub(1, 40)), #v)
end

--- True when t is a table whose keys are exactly 1..#t (a JSON array).
local function is_array(t)
  if type(t) ~= "table" or t == json.null then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

--- Refuses, before decoding, nesting deeper than MAX_DEPTH (the decoder
-- recurses once per level) and strings longer than MAX_STRING (a model
-- document's strings are names). Strings are skipped as the decoder reads
-- them; comments, which JSON does not have but dkjson would skip, are
-- refused, so that no bracket escapes this scan.
local function prescan(name, text)
  -- quote, backslash: the next of each after i (plain searches, each byte
  -- searched once however many strings and escapes there are)
  local depth, pos, quote, backslash = 0, 1, 0, 0
  while true do
    local i, _, c = find(text, '([%[%]{}"/])', pos)
    if not i then return end
    if c == '"' then
      local start = i
      repeat -- to the closing quote; a backslash escapes the next byte
        if quote <= i then quote = find(text, '"', i + 1, true) or huge end
        if backslash <= i then backslash = find(text, "\\", i + 1, true) or huge end
        if quote == huge then return end -- unterminated: the decoder says where
        local escape = backslash < quote
        i = escape and backslash + 1 or quote
        if i - start > MAX_STRING then
          bad(name, "a string longer than %d bytes at %s", MAX_STRING, location(text, start))
        end
      until not escape
    elseif c == "/" then
      bad(name, "not valid JSON: '/' at %s (JSON has no comments)", location(text, i))
    elseif c == "[" or c == "{" then
      depth = depth + 1
      if depth > MAX_DEPTH then
        bad(name, "nested deeper than %d levels at %s", MAX_DEPTH, location(text, i))
      end
    else
      depth = depth - 1
    end
    pos = i + 1
  end
end

local function check_size(name, where, x)
  if math_type(x) ~= "integer" and not (type(x) == "number" and x == floor(x)) then
    bad(name, "%s must be a positive integer, got %s", where, shown(x))
  end
  if x < 1 or x > MAX_SIZE then
    bad(name, "%s is out of range (1 to %d): %s", where, MAX_SIZE, tostring(x))
  end
  return tointeger(x)
end

--- Refuses a list that is not an array of min to MAX_LIST entries.
local function check_list(name, where, t, min)
  if not is_array(t) or #t < min then
    bad(name, "%s must be a%s array, got %s", where, min > 0 and " non-empty" or "n", shown(t))
  end
  if #t > MAX_LIST then bad(name, "%s has %d entries (at most %d)", where, #t, MAX_LIST) end
end

local activations = { relu = true, tanh = true, sigmoid = true, linear = true }

local function check_activation(name, where, a)
  if not activations[a] then
    bad(name, "%s.activation must be 'relu', 'tanh', 'sigmoid' or 'linear', got %s", where, shown(a))
  end
end

-- Parameter counts are floats: a hostile document cannot make them wrap around.
local check_spec -- recursive: returns the number of parameters of the module

local checkers = {
  Neuron = function(name, s, where)
    check_activation(name, where, s.activation)
    return check_size(name, where .. ".nin", s.nin) + 1.0
  end,
  Layer = function(name, s, where)
    check_activation(name, where, s.activation)
    local nin, nout = check_size(name, where .. ".nin", s.nin), check_size(name, where .. ".nout", s.nout)
    return (nin + 1.0) * nout
  end,
  Linear = function(name, s, where)
    local nin, nout = check_size(name, where .. ".nin", s.nin), check_size(name, where .. ".nout", s.nout)
    return (nin + 1.0) * nout
  end,
  MLP = function(name, s, where)
    check_activation(name, where, s.activation)
    local nin = check_size(name, where .. ".nin", s.nin)
    check_list(name, where .. ".nouts", s.nouts, 1)
    local count = 0.0
    for i, nout in ipairs(s.nouts) do
      nout = check_size(name, format("%s.nouts[%d]", where, i), nout)
      count = count + (nin + 1.0) * nout
      nin = nout
    end
    return count
  end,
  ReLU = function() return 0.0 end,
  Tanh = function() return 0.0 end,
  Sigmoid = function() return 0.0 end,
  Dropout = function(name, s, where)
    if type(s.p) ~= "number" or not (s.p >= 0 and s.p < 1) then
      bad(name, "%s.p must be a number from 0 to below 1, got %s", where, shown(s.p))
    end
    return 0.0
  end,
  Sequential = function(name, s, where)
    check_list(name, where .. ".modules", s.modules, 0)
    local count = 0.0
    for i, module in ipairs(s.modules) do
      count = count + check_spec(name, module, format("%s.modules[%d]", where, i))
    end
    return count
  end,
}

check_spec = function(name, s, where)
  if type(s) ~= "table" or s == json.null or #s > 0 then
    bad(name, "%s must be an object, got %s", where, shown(s))
  end
  if s.type == nil then bad(name, "%s.type is missing", where) end
  local checker = checkers[s.type]
  if not checker then bad(name, "%s.type: unknown module type %s", where, shown(s.type)) end
  return checker(name, s, where)
end

--- Raises an error when a document with this spec would not load: the
-- writer refuses what the reader refuses (nesting, list lengths, sizes,
-- module types), with the reader's own checks.
-- @tparam table spec the model's architecture (`model:spec()`)
function M.check_writable(spec)
  -- nesting as prescan counts it: the document's object is level 1
  local function walk(v, depth)
    if type(v) == "string" and #v > MAX_STRING then
      error(format("cannot save: a string of %d bytes (a document's strings have at most %d)",
        #v, MAX_STRING), 0)
    end
    if type(v) ~= "table" then return end
    if depth > MAX_DEPTH then
      error(format("cannot save: the model is nested deeper than a document may be (%d levels:"
        .. " at most %d Sequentials one inside another)", MAX_DEPTH, compat.idiv(MAX_DEPTH - 2, 2)), 0)
    end
    for _, x in pairs(v) do walk(x, depth + 1) end
  end
  walk(spec, 2)
  local count = check_spec("cannot save", spec, "model")
  if count > MAX_PARAMETERS then
    error(format("cannot save: the model has %.0f parameters (at most %d)", count, MAX_PARAMETERS), 0)
  end
end

--- text with each JSON number token "-0" (an integer, which Lua reads as 0,
-- losing the sign; other tools write it) as "-0.0"; strings are left alone.
local function negative_zeros(text)
  if not find(text, "%-0[^%.%deE]") and not find(text, "%-0$") then return text end
  local out, pos, i = {}, 1, 1
  while true do
    local s, _, c = find(text, '(["%-])', i)
    if not s then break end
    if c == '"' then -- to the closing quote; a backslash escapes the next byte
      local j = s + 1
      while true do
        local q = find(text, '["\\]', j)
        if not q then return text end -- unterminated: the decoder says where
        if byte(text, q) == 92 then
          j = q + 2
        else
          i = q + 1
          break
        end
      end
    else
      local before = s == 1 and " " or sub(text, s - 1, s - 1)
      local after = sub(text, s + 2, s + 2)
      if find(before, "^[%[,:%s]") and byte(text, s + 1) == 48 and not find(after, "^[%.%deE]") then
        out[#out + 1] = sub(text, pos, s + 1)
        out[#out + 1] = ".0"
        pos = s + 2
      end
      i = s + 1
    end
  end
  out[#out + 1] = sub(text, pos)
  return concat(out)
end

--- Decodes text with the bounds of model documents (nesting, string sizes;
-- JSON null as json.null, never a hole that would shorten an array): the
-- value and the position after it; errors name the document.
local function parse_json(text, name)
  if text:match("^%s*$") then bad(name, "empty document") end
  prescan(name, text)
  text = negative_zeros(text)
  local ok, doc, pos, err = pcall(json.decode, text, 1, json.null)
  if not ok then
    if doc == "not enough memory" then error(doc, 0) end -- out of memory passes as it is
    bad(name, "not valid JSON: %s", tostring(doc))
  end
  if err then bad(name, "not valid JSON: %s", tostring(err)) end
  return doc, pos, text
end

--- Checks a document and returns its model spec and parameter values.
-- @tparam string text
-- @tparam string name for messages (a file name or "<string>")
-- @treturn table spec
-- @treturn {number,...} values
function M.decode(text, name)
  local doc, pos
  doc, pos, text = parse_json(text, name)
  if type(doc) ~= "table" or doc == json.null or #doc > 0 then
    bad(name, "not a model document (the top level is %s, not an object)", shown(doc))
  end
  local extra = find(text, "%S", pos)
  if extra then bad(name, "text after the end of the document at %s", location(text, extra)) end
  if doc.format ~= M.FORMAT then
    local got = doc.format == nil and "no format" or "format is " .. shown(doc.format)
    bad(name, "not a model document (%s)", got)
  end
  if doc.version ~= M.VERSION then
    local v = doc.version
    bad(name, "unsupported version %s%s (this library reads version %d)",
      shown(v), type(v) == "string" and " (a string)" or "", M.VERSION)
  end
  local expected = check_spec(name, doc.model, "model")
  if expected > MAX_PARAMETERS then
    bad(name, "the model has %.0f parameters (at most %d)", expected, MAX_PARAMETERS)
  end
  local values = doc.parameters
  if not is_array(values) then
    bad(name, "parameters must be an array of numbers, got %s", shown(values))
  end
  if #values ~= expected then
    bad(name, "the model has %.0f parameters, the document %d", expected, #values)
  end
  for i = 1, #values do
    local x = values[i]
    if type(x) ~= "number" then
      bad(name, "parameter %d is not a number: %s", i, shown(x))
    end
    if x ~= x or x == huge or x == -huge then bad(name, "parameter %d is not finite: %s", i, tostring(x)) end
  end
  return doc.model, values
end

-- ---- other documents (train.checkpoint) ----------------------------------------

--- JSON text of a table of strings, finite numbers (17 significant digits),
-- booleans, arrays and objects with string keys (sorted), as model documents write them.
M.encode_value = encode_value

--- JSON null as `decode_json` returns it.
M.null = json.null

--- Decodes a JSON document with the bounds of model documents (nesting,
-- string sizes; JSON null as `M.null`, never a hole); errors name the document.
-- @tparam string text
-- @tparam string name for messages
-- @return the decoded value
function M.decode_json(text, name)
  local doc, pos
  doc, pos, text = parse_json(text, name)
  local extra = find(text, "%S", pos)
  if extra then bad(name, "text after the end of the document at %s", location(text, extra)) end
  return doc
end

-- ---- files ------------------------------------------------------------------

local function need_io(what)
  if not file.has_io() then
    error(what .. " needs the io library (use nn.dump/nn.parse with the text)", 4)
  end
end

--- Reads a whole file; errors name the file.
-- @tparam string path
-- @tparam[opt] string what the public function, for messages (default "nn.load")
function M.read_file(path, what)
  need_io(what or "nn.load")
  local text, err, opened = file.read(path)
  if not text then error(opened and path .. ": cannot read: " .. err or "cannot read model: " .. err, 3) end
  return text
end

--- Writes a whole file atomically (micrograd._file): a crash or a full disk
-- leaves the old file whole; every error is raised, naming the file.
-- @tparam string path
-- @tparam string text
-- @tparam[opt] string what the public function, for messages (default "nn.save")
function M.write_file(path, text, what)
  need_io(what or "nn.save")
  local ok, err = file.write(path, text)
  if not ok then error("cannot save model: " .. err, 3) end
end

return require("micrograd._names").strict(M, "micrograd.model_io")
