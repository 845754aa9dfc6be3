--- Internal: argument errors, value descriptions and option tables, one way
-- for every module (nn, loss, optim, data, train, viz, gradcheck, ...).
--
-- **Blame levels.** `level` is what `error` would take in the function that
-- calls `arg_error`: 2 (the default) blames that function's caller, which is
-- the user's line when a public function calls `arg_error` itself; a helper
-- one call below the public function passes 3, and so on.
--
-- **Descriptions.** `describe(x)` is how a message names a wrong argument:
-- numbers by value ("nan" for any NaN), `Value` for a Value, "file" and
-- "closed file" for io files, anything else (numeric strings included) by its
-- type. `show(x)` names a wrong choice: like describe, but booleans by value
-- and strings quoted (`'hinge'`); `quoted(x)` a wrong path or DOT attribute
-- (`"graph.jpg"`, else the type).
--
-- **Option tables.** `options(fname, arg, opts, schema [, level])` checks an
-- options table against a schema, an array of `{name, rule, default}`, and
-- returns a new table with every option's value or default. A rule is a table
-- `{expected = "integer", test = function(v) ... end}` ("option 'seed':
-- integer expected, got string") or `{must = "a boolean", test = ...}`
-- ("option 'legend' must be a boolean, got string"); `test` returns true, or
-- false and optionally the message's tail after "option 'name': ". A rule
-- `true` accepts anything (the caller checks the option itself). A rule may
-- also have `shown` (the describer for the got-part, default describe) and
-- `convert` (applied to a valid value, e.g. math.tointeger).
-- `schema.what` names the table in "... expected, got number" (default
-- "options table"); `schema.by_value` shows a number given instead by value.
-- @module micrograd._check
local core = require("micrograd.core")

local is_value = core.is_value
local type, tostring, pairs, ipairs, error, getmetatable = type, tostring, pairs, ipairs, error, getmetatable
local format = string.format
local io_type = rawget(_G, "io") and io.type -- io may be removed by a host

local M = {}

--- Raises "bad argument #arg to 'fname' (msg)" (see the blame levels above).
function M.arg_error(fname, arg, msg, level)
  error(format("bad argument #%d to '%s' (%s)", arg, fname, msg), (level or 2) + 1)
end

--- Raises "calling 'fname' on bad self (msg)" for a method called on
-- something else than its object, or on one whose fields are wrong.
function M.self_error(fname, msg, level)
  error(format("calling '%s' on bad self (%s)", fname, msg), (level or 2) + 1)
end

--- Raises self_error unless self's metatable is Class (name: what it is called).
function M.check_self(self, Class, fname, name, level)
  if getmetatable(self) ~= Class then
    M.self_error(fname, format("%s expected, got %s", name, M.type_name(self)), (level or 2) + 1)
  end
end

--- x's type as messages name it: "Value", "file", "closed file", or type(x).
function M.type_name(x)
  local t = type(x)
  if t == "userdata" then
    if is_value(x) then return "Value" end
    local kind = io_type and io_type(x)
    if kind then return kind end
  end
  return t
end

--- A wrong argument as a message shows it: numbers by value, else its type;
-- with `text`, a string by its text too (`string "2"`: a numeric string is
-- shown as the string it is, not as a number).
function M.describe(x, text)
  if text and type(x) == "string" then
    if #x <= 40 then return format("string %q", x) end
    return format("string %q... (%d bytes)", x:sub(1, 40), #x) -- a hostile argument may be huge
  end
  if type(x) == "number" then
    if x ~= x then return "nan" end -- not "-nan" as some C libraries print it
    return tostring(x)
  end
  return M.type_name(x)
end

--- A wrong choice as a message shows it: strings quoted, booleans by value.
function M.show(x)
  if type(x) == "string" then return format("'%s'", x) end
  if type(x) == "boolean" then return tostring(x) end
  return M.describe(x)
end

--- A string as `%q` writes it (a path, a DOT attribute), anything else by its type.
function M.quoted(x)
  if type(x) == "string" then return format("%q", x) end
  return M.type_name(x)
end

--- A rule for options(): what is expected, and its test.
function M.rule(expected, test)
  return { expected = expected, test = test }
end

--- The message for option name of value v that breaks rule (why: test's tail).
local function option_message(name, rule, v, why)
  if why then return format("option '%s': %s", name, why) end
  local got = (rule.shown or M.describe)(v)
  if rule.must then return format("option '%s' must be %s, got %s", name, rule.must, got) end
  return format("option '%s': %s expected, got %s", name, rule.expected, got)
end

--- Checks opts (argument arg of fname) against schema; returns a new table
-- holding every option's value or its default (see the module's comment).
function M.options(fname, arg, opts, schema, level)
  level = (level or 2) + 1
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    local got = schema.by_value and M.describe(opts) or M.type_name(opts)
    M.arg_error(fname, arg, format("%s expected, got %s", schema.what or "options table", got), level)
  end
  local known = schema.known
  if not known then
    known = {}
    for _, entry in ipairs(schema) do known[entry[1]] = true end
    schema.known = known
  end
  for key in pairs(opts) do
    if not known[key] then M.arg_error(fname, arg, format("unknown option '%s'", tostring(key)), level) end
  end
  local out = {}
  for _, entry in ipairs(schema) do
    local name, rule, v = entry[1], entry[2], opts[entry[1]]
    if v == nil then
      v = entry[3]
    elseif rule ~= true then
      local ok, why = rule.test(v)
      if not ok then M.arg_error(fname, arg, option_message(name, rule, v, why), level) end
      if rule.convert then v = rule.convert(v) end
    end
    out[name] = v
  end
  return out
end

return M
