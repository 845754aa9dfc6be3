--- Checkpoint files for `micrograd.train` (`train.checkpoint`, `train.restore`).
--
-- A checkpoint is a JSON document with every number written to the bit
-- (model_io's 17-digit encoder), written atomically through
-- `model_io.write_file`:
--
--     {"format": "micrograd-checkpoint", "version": 1, "step": 120,
--      "rng": "<64 hex digits: the engine generator>",
--      "parameters": [...], "optimizer": {...}, "schedule": {...},
--      "trainer": {...}, "generator": "<64 hex digits>"}
--
-- `optimizer`, `schedule` and `trainer` are whatever the objects' `state()`
-- returns, and go back through their `load_state()`: any optimizer or
-- schedule with those two methods can be checkpointed. Numbers that are not
-- finite (a diverged loss in the history) are written as the strings "nan",
-- "inf" and "-inf". Reading is bounded as model documents are (nesting,
-- string sizes, counts checked before anything is built), and a restore
-- changes nothing unless every part loads.
-- @module micrograd.train_checkpoint
local check = require("micrograd._check")
local mg = require("micrograd")
local model_io = require("micrograd.model_io")
local compat = require("micrograd._compat")
local arg_error, type_name = check.arg_error, check.type_name

local format, type, pairs, ipairs, tostring = string.format, type, pairs, ipairs, tostring
local huge, tointeger = math.huge, compat.tointeger
local is_value = mg.is_value

local M = {}

M.FORMAT = "micrograd-checkpoint"
M.VERSION = 1

local PARTS = { model = true, optimizer = true, schedule = true, trainer = true, generator = true }
local STATEFUL = { "optimizer", "schedule", "trainer" } -- restored in this order

local function has_method(x, name)
  if type(x) ~= "table" then return false end
  return type(x[name]) == "function"
end

-- The parameters of a model: a module's parameters(), or an array of Values.
local function parameters_of(model)
  if has_method(model, "parameters") then return model:parameters() end
  if type(model) == "table" and not is_value(model) then
    for i = 1, #model do
      if not is_value(model[i]) then return nil end
    end
    return model
  end
end

-- The objects of a checkpoint from the caller's table (argument 2 of fname):
-- the trainer's model, optimizer and schedule unless given.
local function objects(fname, objs)
  if type(objs) ~= "table" then
    arg_error(fname, 2, "table {model =, optimizer =, schedule =, trainer =} expected, got "
      .. type_name(objs), 4)
  end
  for name in pairs(objs) do
    if not PARTS[name] then arg_error(fname, 2, format("unknown field '%s'", tostring(name)), 4) end
  end
  local o = {}
  local t = objs.trainer
  if t ~= nil then
    if not (has_method(t, "state") and has_method(t, "load_state")) then
      arg_error(fname, 2, "field 'trainer': Trainer expected, got " .. type_name(t), 4)
    end
    o.trainer, o.optimizer, o.schedule = t, t.optimizer, t.schedule
    if parameters_of(t.model) then o.model = t.model end
  end
  for _, name in ipairs({ "model", "optimizer", "schedule", "generator" }) do
    if objs[name] ~= nil then o[name] = objs[name] end
  end
  if o.model ~= nil then
    o.params = parameters_of(o.model)
    if not o.params then
      arg_error(fname, 2, "field 'model': a module with parameters() or an array of Values expected, got " ..
        type_name(o.model), 4)
    end
  end
  for _, name in ipairs({ "optimizer", "schedule" }) do
    local x = o[name]
    if x ~= nil and not (has_method(x, "state") and has_method(x, "load_state")) then
      arg_error(fname, 2, format("field '%s': an object with state() and load_state() expected, got %s", name,
        type_name(x)), 4)
    end
  end
  local g = o.generator
  if g ~= nil and not (type(g) == "userdata" and pcall(function() return g:get_state() end)) then
    arg_error(fname, 2, "field 'generator': Generator expected, got " .. type_name(g), 4)
  end
  return o
end

-- A message of model_io's file functions, about a checkpoint: without the
-- position model_io blamed (inside this module), "model" words replaced.
local function io_message(err, from, to)
  local msg = tostring(err):gsub("^[^\n]-:%d+: ", "", 1)
  if msg:sub(1, #from) == from then msg = to .. msg:sub(#from + 1) end
  return msg
end

-- A copy of a state table with every number that is not finite as a string.
local function portable(x)
  if type(x) == "number" then
    if x ~= x then return "nan" end
    if x == huge then return "inf" end
    if x == -huge then return "-inf" end
    return x
  end
  if type(x) ~= "table" then return x end
  local out = {}
  for k, v in pairs(x) do out[k] = portable(v) end
  return out
end

-- Writes the checkpoint of objects o: true, or nil and a message (no position).
local function save(path, o)
  local doc = { format = M.FORMAT, version = M.VERSION, rng = mg.get_rng_state() }
  if o.params then
    local values = {}
    for i, p in ipairs(o.params) do
      local x = p.data
      if x ~= x or x == huge or x == -huge then
        return nil, format("cannot checkpoint: parameter %d is %s (only finite numbers can be saved)", i,
          tostring(x))
      end
      values[i] = x
    end
    doc.parameters = values
  end
  for _, name in ipairs(STATEFUL) do
    if o[name] then doc[name] = portable(o[name]:state()) end
  end
  if o.generator then doc.generator = o.generator:get_state() end
  doc.step = o.trainer and o.trainer.step_count or nil
  local text = model_io.encode_value(doc) .. "\n"
  local ok, err = pcall(model_io.write_file, path, text)
  if err == "not enough memory" then error(err, 0) end -- a memory error stays one
  if not ok then return nil, io_message(err, "cannot save model", "cannot write checkpoint") end
  return true
end

--- Writes a checkpoint (see `train.checkpoint`); errors blame the caller of `train.checkpoint`.
-- @tparam string path
-- @tparam table objs
function M.write(path, objs)
  if type(path) ~= "string" then
    arg_error("checkpoint", 1, "file path (string) expected, got " .. type_name(path), 3)
  end
  local ok, msg = save(path, objects("checkpoint", objs))
  if not ok then error(msg, 3) end
end

--- Writes a checkpoint of checked arguments (for `train.fit`).
-- @tparam string path
-- @tparam table objs
-- @treturn ?boolean true when written
-- @treturn ?string else why not (no position)
function M.try_write(path, objs)
  return save(path, objects("checkpoint", objs))
end

-- Raises "name: msg".
local function bad(name, msg, ...)
  error(name .. ": " .. format(msg, ...), 0)
end

-- The message of a "bad argument" error without its "bad argument #1 to 'f' (...)" frame.
local function inner(msg)
  msg = tostring(msg)
  return msg:match("^bad argument #%d+ to '[^']+' %((.*)%)$") or msg
end

local function is_hex_state(s)
  return type(s) == "string" and #s == 64 and not s:find("[^0-9a-fA-F]")
end

-- Checks the document against the objects; returns the parameter values.
local function check_document(name, doc, o)
  if type(doc) ~= "table" or doc == model_io.null or #doc > 0 then
    bad(name, "not a checkpoint (the top level is not an object)")
  end
  if doc.format ~= M.FORMAT then
    local f = doc.format
    local shown = type(f) == "string" and "'" .. f:sub(1, 40) .. "'" or type_name(f)
    bad(name, "not a checkpoint (format is %s)", shown)
  end
  if doc.version ~= M.VERSION then
    bad(name, "unsupported checkpoint version %s (this library reads version %d)",
      tostring(doc.version):sub(1, 40),
      M.VERSION)
  end
  if not is_hex_state(doc.rng) then bad(name, "field 'rng': generator state of 64 hex digits expected") end
  local step = doc.step
  if step ~= nil and not (type(step) == "number" and tointeger(step) and step >= 0) then
    bad(name, "field 'step': integer >= 0 expected")
  end
  local values
  if o.params then
    values = doc.parameters
    if type(values) ~= "table" or values == model_io.null then
      bad(name, "the checkpoint has no parameters (field 'parameters')")
    end
    if #values ~= #o.params then
      bad(name, "the model has %d parameters, the checkpoint %d", #o.params, #values)
    end
    for i = 1, #values do
      local x = values[i]
      if type(x) ~= "number" or x ~= x or x == huge or x == -huge then
        bad(name, "parameter %d is not a finite number", i)
      end
    end
  end
  for _, part in ipairs(STATEFUL) do
    if o[part] and type(doc[part]) ~= "table" then bad(name, "the checkpoint has no %s state", part) end
  end
  if o.generator and not is_hex_state(doc.generator) then
    bad(name, "field 'generator': generator state of 64 hex digits expected")
  end
  return values
end

--- Restores a checkpoint into existing objects (see `train.restore`).
-- @tparam string path
-- @tparam table objs
-- @treturn ?integer the checkpoint's step
function M.read(path, objs)
  if type(path) ~= "string" then
    arg_error("restore", 1, "file path (string) expected, got " .. type_name(path), 3)
  end
  local o = objects("restore", objs)
  local ok, text = pcall(model_io.read_file, path)
  if not ok then error(io_message(text, "cannot read model", "cannot read checkpoint"), 3) end
  local doc = model_io.decode_json(text, path)
  local values = check_document(path, doc, o)

  -- what to go back to when a part is refused
  local backup = { rng = mg.get_rng_state(), generator = o.generator and o.generator:get_state() }
  if o.params then
    backup.values = {}
    for i, p in ipairs(o.params) do backup.values[i] = p.data end
  end
  for _, part in ipairs(STATEFUL) do
    if o[part] then backup[part] = o[part]:state() end
  end
  local function rollback()
    for _, part in ipairs(STATEFUL) do
      if o[part] then pcall(o[part].load_state, o[part], backup[part]) end
    end
    if backup.values then
      for i, p in ipairs(o.params) do p.data = backup.values[i] end
    end
    mg.set_rng_state(backup.rng)
    if o.generator then o.generator:set_state(backup.generator) end
  end

  -- the parameters first: a trainer's state may take up other ones (the
  -- last ones of a training that restore_best ended and that goes on)
  if values then
    for i, p in ipairs(o.params) do p.data = values[i] end
  end
  for _, part in ipairs(STATEFUL) do
    if o[part] then
      local loaded, err = pcall(o[part].load_state, o[part], doc[part])
      if not loaded then
        rollback()
        bad(path, "%s: %s", part, inner(err))
      end
    end
  end
  mg.set_rng_state(doc.rng)
  if o.generator then o.generator:set_state(doc.generator) end
  return doc.step and tointeger(doc.step)
end

return require("micrograd._names").strict(M, "micrograd.train_checkpoint")
