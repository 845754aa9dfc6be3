--- Neural networks: micrograd's Neuron, Layer and MLP, and composable modules.
--
-- Every module has `m:parameters()` (the same Value objects at every call:
-- layer by layer, neuron by neuron, a neuron's weights then its bias),
-- `m:zero_grad()`, `m:train()` / `m:eval()` (the mode only `Dropout` reads),
-- `tostring(m)` (a summary: one line per layer or module, with the parameter
-- count), and is called as `m(x)` with `x` an array of numbers or Values: a
-- single-output module returns a Value, otherwise an array. Saving and
-- loading (`dump`, `parse`, `save`, `load`) are at the end.
-- @module micrograd.nn
local check = require("micrograd._check")
local mg = require("micrograd")
local compat = require("micrograd._compat")
local model_io = require("micrograd.model_io")
local arg_error = check.arg_error

local dot, vector, is_value, uniform, normal = mg.dot, mg.vector, mg.is_value, mg.uniform, mg.normal
local random, is_tracing = mg.random, mg.is_tracing
local Value = mg.Value
local sqrt, type, select, tostring = math.sqrt, type, select, tostring
local concat, format = table.concat, string.format
local tointeger, move = compat.tointeger, compat.move

local M = {}

-- ---- helpers -------------------------------------------------------------

-- Sizes are bounded by what a model file may hold (model_io.LIMITS), before
-- anything is allocated: a model that cannot be saved is not built.
local LIMITS = model_io.LIMITS

local function check_count(fname, arg, n, what)
  local k = type(n) == "number" and tointeger(n)
  if not k or k < 1 then
    local shown = check.describe(n, true)
    arg_error(fname, arg, format("positive integer expected for %s, got %s", what, shown), 3)
  end
  if k > LIMITS.size then
    arg_error(fname, arg, format("%s is %d: at most %d", what, k, LIMITS.size), 3)
  end
  return k
end

--- Refuses a module of more than LIMITS.parameters parameters (a float count: no overflow).
local function check_parameters(fname, count)
  if count > LIMITS.parameters then
    arg_error(fname, 2, format("%.0f parameters: at most %d", count, LIMITS.parameters), 3)
  end
end

local activations = { relu = "relu", tanh = "tanh", sigmoid = "sigmoid", linear = false }
local activation_names = { relu = "ReLU", tanh = "Tanh", sigmoid = "Sigmoid", linear = "Linear" }

--- Weight initialisers: each returns a weight for a neuron with nin inputs in a layer of nout.
local inits = {
  uniform = function() return uniform(-1, 1) end,                            -- micrograd's
  xavier = function(nin, nout) local a = sqrt(6 / (nin + nout)) return uniform(-a, a) end,
  he = function(nin) return normal(0, sqrt(2 / nin)) end,
}

--- Weights of a model being rebuilt from a document (overwritten at once):
-- loading a model draws nothing from the engine's generator.
local function no_init() return 0 end

-- The modules' options (micrograd._check's schema format); false means the default.
local ACTIVATION = { must = "'relu', 'tanh', 'sigmoid' or 'linear'", shown = check.quoted,
  test = function(v) return v == false or activations[v] ~= nil end }
local INIT = { must = "'uniform', 'xavier', 'he' or a function", shown = check.quoted,
  test = function(v)
    return v == false or type(v) == "function" or (type(v) == "string" and inits[v] ~= nil)
  end }
local OPTIONS = { { "activation", ACTIVATION }, { "init", INIT } }
local LINEAR_OPTIONS = { { "init", INIT } } -- Linear has no activation

--- Checks a module's options table; returns activation name and init function.
local function check_opts(fname, arg, opts, default_activation)
  if opts == nil then return default_activation, inits.uniform end
  local o = check.options(fname, arg, opts, fname == "Linear" and LINEAR_OPTIONS or OPTIONS, 3)
  local init = o.init or "uniform"
  return o.activation or default_activation, inits[init] or init
end

--- Checks that x is an array of n numbers or Values (the input of module
-- `name`); a single Value or number stands for an array of one. Returns the array.
local function check_input(name, x, n)
  if n == 1 and (type(x) == "number" or is_value(x)) then return { x } end
  if type(x) ~= "table" then
    error(format("%s expects an array of %d numbers or Values, got %s", name, n, type(x)), 3)
  end
  if #x ~= n then
    error(format("%s expects an array of %d numbers or Values, got %d", name, n, #x), 3)
  end
  for i = 1, n do
    local xi = x[i]
    if type(xi) ~= "number" and not is_value(xi) then
      error(format("%s expects numbers or Values, got %s at index %d", name, type(xi), i), 3)
    end
  end
  return x
end

--- Applies an activation to one Value (act is a method name or false).
local function activate(act, v)
  if act then return v[act](v) end
  return v
end

local getinfo = debug and debug.getinfo -- absent in a host's sandbox: errors then blame our caller
local this_source = getinfo and getinfo(1, "S").source

--- For `error(msg, level)` in the function calling this one: the level of the
-- first Lua function outside this file (the user's line, through nested modules).
local function user_level()
  if not getinfo then return 2 end
  local level = 3 -- 1: user_level, 2: the function raising, 3: its caller
  while true do
    local info = getinfo(level, "S")
    if not info then return 2 end
    if info.source ~= this_source and info.what ~= "C" then return level - 1 end
    level = level + 1
  end
end

--- "1 parameter", "1,251 parameters".
local function count_text(n)
  local digits = tostring(n)
  local grouped = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return grouped .. (n == 1 and " parameter" or " parameters")
end

--- The first line of tostring(m): how a module is named in summaries and errors.
local function headline(m)
  return (tostring(m):match("^[^\n]*"))
end

--- Appends the parameters of module m to list.
local function collect(m, list)
  for _, p in ipairs(m:parameters()) do list[#list + 1] = p end
  return list
end

-- ---- Module: what every module shares --------------------------------------

local Module = {}
Module.__index = Module

local classes = {} -- the metatables of this file's modules (set by class())

--- The module's parameters (the same Values at every call).
-- @treturn {Value,...}
function Module:parameters()
  local list = {}
  for i, p in ipairs(self._params) do list[i] = p end
  return list
end

--- The parameters' names, in parameters() order: each neuron's `w1`, `w2`,
-- ..., `b` (graph drawings and gradcheck reports show them; no label is set
-- on the Values, which would cost time at every garbage collection). A
-- user's module inside a Sequential gives its own `parameter_names()`, or
-- false for each of its parameters.
-- @treturn {string|false,...}
function Module:parameter_names()
  local names = {}
  local function walk(m)
    local mt = getmetatable(m)
    if mt == classes.Neuron then
      for i = 1, m.nin do names[#names + 1] = "w" .. i end
      names[#names + 1] = "b"
    elseif classes[mt] then
      for _, child in ipairs(m:_children()) do walk(child) end
    else
      local own = type(m.parameter_names) == "function" and m:parameter_names() or {}
      for i = 1, #m:parameters() do names[#names + 1] = own[i] or false end
    end
  end
  walk(self)
  return names
end

--- Sets every parameter's grad to 0.
function Module:zero_grad()
  for _, p in ipairs(self._params) do p.grad = 0 end
end

--- Modules are in training mode when made: `Dropout` drops inputs then.
Module.training = true

--- The modules inside this one (none by default).
function Module:_children() return {} end

--- Sets training mode (`mode` true, the default) or evaluation mode (false)
-- on this module and every module inside it. Only `Dropout` behaves
-- differently: in evaluation mode it passes its input through.
-- @tparam[opt=true] boolean mode
-- @return the module itself
function Module:train(mode)
  if mode == nil then mode = true end
  if type(mode) ~= "boolean" then arg_error("train", 1, "boolean or nil expected, got " .. type(mode)) end
  local seen = {} -- each module once, even if a model holds one twice (or itself)
  local function set(m)
    if seen[m] then return end
    seen[m] = true
    m.training = mode
    for _, child in ipairs(m:_children()) do
      if classes[getmetatable(child)] then
        set(child) -- one of ours
      elseif type(child) == "table" and type(child.train) == "function" then
        child:train(mode) -- a user's module with its own train()
      end
    end
  end
  set(self)
  return self
end

--- Evaluation mode: `m:train(false)`.
-- @return the module itself
function Module:eval()
  return self:train(false)
end

--- The summary line: the module's name and shape, and its parameter count.
function Module:__tostring()
  local n = #self._params
  if n == 0 then return self:describe() end
  return self:describe() .. ", " .. count_text(n)
end

--- Parameters as plain numbers, in parameters() order.
-- @treturn table `{ parameters = {numbers...} }`
function Module:state()
  local values = {}
  for i, p in ipairs(self._params) do values[i] = p.data end
  return { parameters = values }
end

--- Loads parameters saved by state() into this model (same architecture).
-- @tparam table state
function Module:load_state(state)
  if type(state) ~= "table" or type(state.parameters) ~= "table" then
    arg_error("load_state", 1, "table with a 'parameters' array expected")
  end
  local values, params = state.parameters, self._params
  if #values ~= #params then
    arg_error("load_state", 1, format("%d parameters expected, got %d", #params, #values))
  end
  for i, x in ipairs(values) do
    if type(x) ~= "number" then arg_error("load_state", 1, format("parameter %d is not a number", i)) end
  end
  for i, p in ipairs(params) do p.data = values[i] end
end

--- Makes a module class: metatable with __call (forward) and __tostring.
local function class(name)
  local cls = setmetatable({}, { __index = Module })
  cls.__index = cls
  cls.__name = name
  cls.__call = function(self, x) return self:forward(x) end
  cls.__tostring = Module.__tostring
  classes[cls] = true
  return cls
end

-- ---- Neuron, Layer, MLP (micrograd's API) ----------------------------------

local Neuron = class("Neuron")
classes.Neuron = Neuron

--- A neuron: `act(b + w1*x1 + w2*x2 + ...)`, as micrograd's.
-- @tparam integer nin number of inputs
-- @tparam[opt] table opts `activation` ("relu", the default, "tanh", "sigmoid", "linear"),
--   `init` ("uniform": U(-1, 1), the default; "xavier"; "he"; or a function(nin, nout))
-- @treturn Neuron
function M.Neuron(nin, opts)
  nin = check_count("Neuron", 1, nin, "nin")
  local activation, init = check_opts("Neuron", 2, opts, "relu")
  return Neuron._new(nin, activation, init, 1)
end

function Neuron._new(nin, activation, init, nout)
  local w = {}
  for i = 1, nin do w[i] = Value(init(nin, nout)) end
  -- _wv: the weights as one Vector, which dot reads without a Lua call per weight
  local self = setmetatable({ w = w, b = Value(0), nin = nin, activation = activation, _wv = vector(w) },
    Neuron)
  self._act = activations[activation]
  self._params = move(w, 1, nin, 1, {})
  self._params[nin + 1] = self.b
  return self
end

-- Runs the neuron on x, an array or a Vector (no input check: modules check once at the top).
function Neuron:_forward(x)
  return activate(self._act, dot(self._wv, x, self.b))
end

function Neuron:forward(x)
  return self:_forward(check_input("Neuron", x, self.nin))
end

function Neuron:describe()
  return format("%sNeuron(%d)", activation_names[self.activation], self.nin)
end

-- As micrograd's repr: no parameter count.
function Neuron:__tostring() return self:describe() end

function Neuron:spec()
  return { type = "Neuron", nin = self.nin, activation = self.activation }
end

local Layer = class("Layer")

--- A layer of nout neurons, each seeing all nin inputs.
-- @tparam integer nin
-- @tparam integer nout
-- @tparam[opt] table opts as Neuron's
-- @treturn Layer
function M.Layer(nin, nout, opts)
  nin = check_count("Layer", 1, nin, "nin")
  nout = check_count("Layer", 2, nout, "nout")
  check_parameters("Layer", (nin + 1.0) * nout)
  local activation, init = check_opts("Layer", 3, opts, "relu")
  return Layer._new(nin, nout, activation, init)
end

function Layer._new(nin, nout, activation, init)
  local neurons, params = {}, {}
  for j = 1, nout do
    neurons[j] = Neuron._new(nin, activation, init, nout)
    collect(neurons[j], params)
  end
  return setmetatable({ neurons = neurons, nin = nin, nout = nout, activation = activation,
    _params = params }, Layer)
end

-- The outputs of the layer's neurons, always as an array.
function Layer:_outputs(x)
  local neurons = self.neurons
  local xv, out = vector(x), {} -- one Vector of the inputs for all the neurons
  for j = 1, #neurons do out[j] = neurons[j]:_forward(xv) end
  return out
end

-- Runs the layer: a Value when it has one neuron, else an array.
function Layer:_forward(x)
  local neurons = self.neurons
  if #neurons == 1 then return neurons[1]:_forward(x) end
  return self:_outputs(x)
end

function Layer:forward(x)
  return self:_forward(check_input("Layer", x, self.nin))
end

function Layer:describe()
  local act = self.activation ~= "linear" and " " .. self.activation or ""
  return format("Layer(%d -> %d%s)", self.nin, self.nout, act)
end

function Layer:_children() return self.neurons end

function Layer:spec()
  return { type = "Layer", nin = self.nin, nout = self.nout, activation = self.activation }
end

local MLP = class("MLP")

--- A multi-layer perceptron: hidden layers with `opts.activation` (ReLU by
-- default), the last layer linear, as micrograd's.
-- @tparam integer nin number of inputs
-- @tparam {integer,...} nouts the size of each layer, e.g. `{16, 16, 1}`
-- @tparam[opt] table opts as Neuron's
-- @treturn MLP
function M.MLP(nin, nouts, opts)
  nin = check_count("MLP", 1, nin, "nin")
  if type(nouts) ~= "table" or #nouts == 0 then
    arg_error("MLP", 2, "non-empty array of layer sizes expected, got " .. type(nouts))
  end
  if #nouts > LIMITS.list then arg_error("MLP", 2, format("%d layers: at most %d", #nouts, LIMITS.list)) end
  local sizes, count = { nin }, 0.0
  for i, n in ipairs(nouts) do
    sizes[i + 1] = check_count("MLP", 2, n, "layer " .. i)
    count = count + (sizes[i] + 1.0) * sizes[i + 1]
  end
  check_parameters("MLP", count)
  local activation, init = check_opts("MLP", 3, opts, "relu")
  return MLP._new(sizes, activation, init)
end

function MLP._new(sizes, activation, init)
  local layers, params = {}, {}
  for i = 1, #sizes - 1 do
    local act = i < #sizes - 1 and activation or "linear"
    layers[i] = Layer._new(sizes[i], sizes[i + 1], act, init)
    collect(layers[i], params)
  end
  return setmetatable({ layers = layers, sizes = sizes, nin = sizes[1], activation = activation,
    _params = params }, MLP)
end

function MLP:_forward(x)
  local layers = self.layers
  for i = 1, #layers - 1 do x = layers[i]:_outputs(x) end -- arrays between layers, even of one
  return layers[#layers]:_forward(x)
end

function MLP:forward(x)
  return self:_forward(check_input("MLP", x, self.nin))
end

function MLP:describe()
  local parts = { tostring(self.nin) }
  for i, layer in ipairs(self.layers) do
    local act = layer.activation ~= "linear" and " " .. layer.activation or ""
    parts[i + 1] = layer.nout .. act
  end
  return "MLP(" .. concat(parts, " -> ") .. ")"
end

function MLP:_children() return self.layers end

function MLP:spec()
  local nouts = move(self.sizes, 2, #self.sizes, 1, {})
  return { type = "MLP", nin = self.nin, nouts = nouts, activation = self.activation }
end

-- ---- composable modules ----------------------------------------------------

local Linear = class("Linear")

--- A dense layer without activation: `nout` linear neurons.
-- @tparam integer nin
-- @tparam integer nout
-- @tparam[opt] table opts `init` as Neuron's
-- @treturn Linear
function M.Linear(nin, nout, opts)
  nin = check_count("Linear", 1, nin, "nin")
  nout = check_count("Linear", 2, nout, "nout")
  check_parameters("Linear", (nin + 1.0) * nout)
  local _, init = check_opts("Linear", 3, opts, "linear")
  return Linear._new(nin, nout, init)
end

function Linear._new(nin, nout, init)
  local layer = Layer._new(nin, nout, "linear", init)
  return setmetatable({ layer = layer, nin = nin, nout = nout, _params = layer._params }, Linear)
end

function Linear:_forward(x) return self.layer:_forward(x) end

function Linear:forward(x)
  return self:_forward(check_input("Linear", x, self.nin))
end

function Linear:describe() return format("Linear(%d, %d)", self.nin, self.nout) end

function Linear:_children() return { self.layer } end

function Linear:spec() return { type = "Linear", nin = self.nin, nout = self.nout } end

--- An activation module: applies `op` to a Value or to every Value of an array.
local function activation_module(name, op)
  local cls = class(name)
  function cls:forward(x)
    if is_value(x) then return x[op](x) end
    if type(x) ~= "table" then
      error(format("%s expects a Value or an array of Values, got %s", name, type(x)), 2)
    end
    local out = {}
    for i = 1, #x do
      local xi = x[i]
      if type(xi) == "number" then xi = Value(xi) end
      if not is_value(xi) then
        error(format("%s expects numbers or Values, got %s at index %d", name, type(xi), i), 2)
      end
      out[i] = xi[op](xi)
    end
    return out
  end
  cls._forward = cls.forward
  function cls:describe() return name .. "()" end
  function cls:spec() return { type = name } end
  return function() return setmetatable({ _params = {} }, cls) end
end

--- `nn.ReLU()`, `nn.Tanh()`, `nn.Sigmoid()`: element-wise activations.
-- @function ReLU
M.ReLU = activation_module("ReLU", "relu")
M.Tanh = activation_module("Tanh", "tanh")
M.Sigmoid = activation_module("Sigmoid", "sigmoid")

local Dropout = class("Dropout")

--- Dropout: in training mode (modules start in it; see `m:train()` and
-- `m:eval()`) each input is zeroed with probability `p` and the others are
-- scaled by `1 / (1 - p)` ("inverted" dropout: evaluation needs no scaling);
-- in evaluation mode the input passes through unchanged. The masks are drawn
-- from the engine's generator (`mg.random`), so `mg.seed` makes them
-- repeatable. A model in training mode with dropout cannot be compiled:
-- `mg.compile` raises an error saying so (call `m:eval()` first).
-- @tparam[opt=0.5] number p the probability of dropping an input, 0 <= p < 1
-- @treturn Dropout
function M.Dropout(p)
  if p == nil then p = 0.5 end
  if type(p) ~= "number" or not (p >= 0 and p < 1) then
    arg_error("Dropout", 1, "probability p with 0 <= p < 1 expected, got " .. tostring(p))
  end
  return setmetatable({ p = p, _params = {} }, Dropout)
end

function Dropout:forward(x)
  if not self.training or self.p == 0 then return x end
  if is_tracing() then
    error("Dropout in training mode cannot be compiled (mg.compile would freeze one random mask):"
      .. " call model:eval() before compiling, or train without compile", user_level())
  end
  local p, scale = self.p, 1 / (1 - self.p)
  if type(x) == "number" or is_value(x) then
    if random() < p then return x * 0 end
    return x * scale
  end
  if type(x) ~= "table" then
    error(format("Dropout expects a Value or an array of numbers or Values, got %s", type(x)), 2)
  end
  local out = {}
  for i = 1, #x do
    local xi = x[i]
    if type(xi) ~= "number" and not is_value(xi) then
      error(format("Dropout expects numbers or Values, got %s at index %d", type(xi), i), 2)
    end
    -- dropped inputs are multiplied by 0, so the graph (and its gradient, 0) still reaches them
    if random() < p then out[i] = xi * 0 else out[i] = xi * scale end
  end
  return out
end

Dropout._forward = Dropout.forward

function Dropout:describe()
  return format("Dropout(%s)%s", tostring(self.p), self.training and "" or " (eval)")
end

function Dropout:spec() return { type = "Dropout", p = self.p } end

local Sequential = class("Sequential")

--- Modules applied one after the other: `Sequential(Linear(2, 16), ReLU(), Linear(16, 1))`.
-- @param ... modules
-- @treturn Sequential
function M.Sequential(...)
  local modules, params = {}, {}
  for i = 1, select("#", ...) do
    local m = select(i, ...)
    if type(m) ~= "table" or type(m.forward) ~= "function" or type(m.parameters) ~= "function" then
      arg_error("Sequential", i, "module expected, got " .. type(m))
    end
    modules[i] = m
    collect(m, params)
  end
  return setmetatable({ modules = modules, _params = params }, Sequential)
end

-- The number of inputs x holds (a single number or Value counts as 1), or nil.
local function input_size(x)
  if type(x) == "number" or is_value(x) then return 1 end
  if type(x) == "table" then return #x end
end

function Sequential:forward(x)
  local modules = self.modules
  for i = 1, #modules do
    local m = modules[i]
    -- a wrong size is reported here, naming the module, at the caller's line
    local nin, n = rawget(m, "nin"), input_size(x)
    if type(nin) == "number" and n and n ~= nin then
      local from = i > 1 and format(" from module %d (%s)", i - 1, headline(modules[i - 1])) or ""
      error(format("Sequential: module %d (%s) expects %d inputs, got %d%s", i, headline(m), nin, n, from),
        user_level())
    end
    x = m:forward(x)
  end
  return x
end

function Sequential:describe()
  return format("Sequential(%d module%s)", #self.modules, #self.modules == 1 and "" or "s")
end

function Sequential:_children() return self.modules end

--- The summary line, then one line per module (indented, nested ones too).
function Sequential:__tostring()
  local lines = { Module.__tostring(self) }
  for i, m in ipairs(self.modules) do
    local text = tostring(m):gsub("\n", "\n    ")
    lines[#lines + 1] = format("  (%d) %s", i, text)
  end
  return concat(lines, "\n")
end

function Sequential:spec()
  local specs = {}
  for i, m in ipairs(self.modules) do
    if type(m.spec) ~= "function" then error(format("module %d of Sequential cannot be saved", i), 2) end
    specs[i] = m:spec()
  end
  return { type = "Sequential", modules = specs }
end

-- ---- saving and loading ----------------------------------------------------

--- Builds a model (with fresh parameters) from its spec; model_io has checked its shape.
local builders = {
  Neuron = function(s) return Neuron._new(s.nin, s.activation, no_init, 1) end,
  Layer = function(s) return Layer._new(s.nin, s.nout, s.activation, no_init) end,
  MLP = function(s) return MLP._new(move(s.nouts, 1, #s.nouts, 2, { s.nin }), s.activation, no_init) end,
  Linear = function(s) return Linear._new(s.nin, s.nout, no_init) end,
  ReLU = function() return M.ReLU() end,
  Tanh = function() return M.Tanh() end,
  Sigmoid = function() return M.Sigmoid() end,
  Dropout = function(s) return M.Dropout(s.p) end,
}
builders.Sequential = function(s) -- as M.Sequential builds it (without a vararg per module)
  local modules, params = {}, {}
  for i, sub in ipairs(s.modules) do
    modules[i] = builders[sub.type](sub)
    collect(modules[i], params)
  end
  return setmetatable({ modules = modules, _params = params }, Sequential)
end

local function check_model(fname, model)
  if type(model) ~= "table" or type(model.spec) ~= "function" or type(model.parameters) ~= "function" then
    arg_error(fname, 1, "model expected, got " .. type(model), 3)
  end
end

--- The model as a JSON document: its architecture and every parameter
-- (written with 17 significant digits: loading gives the same bits).
-- @param model a module of this library
-- @treturn string
function M.dump(model)
  check_model("dump", model)
  return model_io.encode(model:spec(), model:state().parameters)
end

--- Rebuilds a model from a document made by dump().
-- @tparam string text
-- @tparam[opt] string name used in error messages (default "<string>")
-- @return the model
function M.parse(text, name)
  if type(text) ~= "string" then arg_error("parse", 1, "string expected, got " .. type(text)) end
  if name ~= nil and type(name) ~= "string" then arg_error("parse", 2,
    "string expected, got " .. type(name)) end
  local spec, values = model_io.decode(text, name or "<string>")
  local model = builders[spec.type](spec)
  model:load_state({ parameters = values })
  return model
end

--- Writes dump(model) to a file.
-- @param model
-- @tparam string path
function M.save(model, path)
  check_model("save", model)
  if type(path) ~= "string" then arg_error("save", 2, "string expected, got " .. type(path)) end
  model_io.write_file(path, M.dump(model))
end

--- Reads a model written by save().
-- @tparam string path
-- @return the model
function M.load(path)
  if type(path) ~= "string" then arg_error("load", 1, "string expected, got " .. type(path)) end
  return M.parse(model_io.read_file(path), path)
end

-- m(x) is m:forward(x): each class's __call is its forward itself, not a
-- function that calls it (a tail call, which Lua 5.1 counts as a stack level:
-- the errors forward raises for its caller would lose their position there).
for cls in pairs(classes) do
  if type(cls) == "table" then cls.__call = cls.forward end
end

return require("micrograd._names").strict(M, "micrograd.nn")
