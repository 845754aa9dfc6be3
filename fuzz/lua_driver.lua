-- fuzz/lua_driver.lua - what fuzz_lua runs on each input (see lua_harness.h).
--
-- The bytes are a program. Each step picks an action, a call on micrograd's
-- public Lua API (Values, their operators, fields and methods, sum, dot,
-- vector, no_grad, compile and compiled graphs, the generators, ParamSet and
-- Buffer, nn, loss, optim, data, train, viz, gradcheck, metamethods called
-- directly, coroutines, garbage collection), and its arguments: nil,
-- booleans, integers, floats (nan, inf, huge, tiny), strings, tables (some with
-- hostile metatables), functions that run more steps, userdata of every kind.
-- Hostile code runs where C code may not expect it: finalizers (run by any
-- allocation's GC step) and options tables' metamethods that close graphs
-- and guards, call __gc directly, run backward, compile, collect garbage or
-- run more steps; one input in four runs with a GC step at every allocation.
-- Results go into a pool that later steps take arguments from. Every call
-- runs under pcall, and every error value must be a string; the harness
-- checks the rest (no crash, no sanitizer report, no leak); FUZZ_VERBOSE=1
-- prints every error. The state has no
-- io or os library, so nothing here writes files or runs programs.
local NPOOL, MAXDEPTH, MAXSTEPS = 24, 3, 400

return function(bytes, light, full, verbose)
  local mg = require("micrograd")
  local pos, len = 0, #bytes
  local problem -- the first thing found wrong (returned to the harness)
  local pool, step = {}, nil
  local budget = MAXSTEPS

  local function byte()
    pos = pos + 1
    if pos > len then return 0 end
    return bytes:byte(pos)
  end
  local function more() return pos < len and budget > 0 end
  local function pick(list) return list[byte() % #list + 1] end
  local closable, nclosable = {}, 0 -- the last few results that have a __close (graphs, guards)
  local function put(x)
    if x == nil then return end
    pool[byte() % NPOOL + 1] = x
    local mt = getmetatable(x)
    if type(mt) == "table" and rawget(mt, "__close") then
      nclosable = nclosable + 1
      closable[(nclosable - 1) % 8 + 1] = x
    end
  end

  -- every error value must be a string
  local function check(ok, err, ...)
    if not ok and type(err) ~= "string" and not problem then
      problem = "error value is a " .. type(err) .. ": " .. tostring(err)
    end
    if not ok and verbose then print("error: " .. tostring(err)) end
    return ok, err, ...
  end
  local function try(fn, ...) return check(pcall(fn, ...)) end

  -- ---- arguments ----

  local SPECIALS = { 0, -0.0, 1, -1, 2, 3, 0.5, -0.5, 10, 1e308, -1e308, 1e-308, 5e-324, math.huge,
    -math.huge, 0 / 0, math.maxinteger, math.mininteger, 2 ^ 53, 2 ^ 63, 1e15, 1e6 + 1, 2 ^ 31, -(2 ^ 31),
    100, 0.1, 700, -700, 100000, 100001, 65536, 1000000 }
  local STRINGS = { "", "a", "3", "0x10", "1e400", "nan", "-inf", " 2 ", "relu", "tanh", "sigmoid",
    "linear", "svm", "mse", "bce", "bce_logits", "cross_entropy", "sign", "argmax", "mean", "uniform",
    "xavier", "he", "zeros", "\0", "x.svg", "x.png", "-", ",", ";", "\t", "label", "data", "grad", "op",
    "LR", "%.4f", "%d", "%s", "1,2\n3,4\n", "a,b,label\n1,2,x\n3,4,y\n", string.rep("x", 300) }
  local OPTION_NAMES = { "lr", "momentum", "weight_decay", "nesterov", "clip_norm", "clip_value", "betas",
    "eps", "activation", "init", "noise", "seed", "centers", "cluster_std", "center_box", "n_features",
    "factor", "label", "header", "sep", "name", "test", "loss", "optimizer", "steps", "epochs",
    "batch_size", "shuffle", "l2", "schedule", "on_step", "accuracy", "clock", "compile", "progress",
    "terminal", "mean", "rankdir", "legend", "params", "max_nodes", "count_limit", "format", "tol",
    "every", "gamma", "from", "to", "program", "width", "height", "title", "resolution" }

  local function number()
    local k = byte()
    if k < 96 then return k % 8 end -- small counts and sizes are the most useful
    if k < 160 then return SPECIALS[k % #SPECIALS + 1] end
    if k < 224 then return (byte() - 128) / 16 end
    local b = {}
    for i = 1, 8 do b[i] = byte() end
    return (string.unpack("<d", string.char(table.unpack(b))))
  end

  local any, callback, meddle -- defined below

  local function hostile(depth)
    local k = byte() % 9
    if k >= 6 then -- options whose metamethods meddle, then answer
      local function answer(_, key)
        meddle(depth + 1)
        if byte() % 2 == 0 then return any(depth + 1) end
        return key == "mean" or nil
      end
      if k == 6 then return setmetatable({}, { __index = answer }) end
      if k == 7 then
        return setmetatable({ 1, 2 }, { __index = answer, __len = function() meddle(depth + 1) return 2 end })
      end
      return setmetatable({}, { __index = answer, __tostring = function() meddle(depth + 1) return "x" end })
    end
    if k == 0 then return setmetatable({}, { __index = function() error("hostile __index") end }) end
    if k == 1 then return setmetatable({}, { __len = function() return 2 ^ 40 end }) end
    if k == 2 then return setmetatable({}, { __index = function(_, i) return i end }) end -- endless
    if k == 3 then return setmetatable({}, { __tostring = function() return {} end, __name = 7 }) end
    if k == 4 then return setmetatable({ 1, 2 }, { __call = function() return mg.Value(1) end }) end
    return setmetatable({}, { __newindex = function() error("hostile __newindex") end })
  end

  local function array(depth, gen)
    local t = {}
    for i = 1, byte() % 7 do t[i] = gen(depth + 1) end
    return t
  end
  local function value() return mg.Value(number()) end
  local function matrix(depth)
    return array(depth, function(d) return array(d, number) end)
  end
  local function opts(depth)
    local t = {}
    for _ = 1, byte() % 4 do t[pick(OPTION_NAMES)] = any(depth + 1) end
    return t
  end

  local function foreign()
    return pick({ light, full, coroutine.create(function() end), mg, string, math.abs, tostring })
  end

  function any(depth)
    depth = depth or 0
    local k = byte() % 16
    if k == 0 then return nil end
    if k == 1 then return byte() % 2 == 0 end
    if k <= 3 then return number() end
    if k == 4 then return pick(STRINGS) end
    if k <= 7 then return pool[byte() % NPOOL + 1] end
    if depth >= MAXDEPTH then return number() end
    if k == 8 then return array(depth, any) end
    if k == 9 then return array(depth, number) end
    if k == 10 then return array(depth, function() return pool[byte() % NPOOL + 1] or value() end) end
    if k == 11 then return callback(depth) end
    if k == 12 then return foreign() end
    if k == 13 then return opts(depth) end
    if k == 14 then return matrix(depth) end
    return hostile(depth)
  end

  local function target() -- mostly a pool item (the first one from a place the bytes choose)
    if byte() % 4 == 0 then return any(1) end
    local k = byte()
    for i = 0, NPOOL - 1 do
      local x = pool[(k + i) % NPOOL + 1]
      if x ~= nil then return x end
    end
  end

  -- A function that stashes its arguments, runs a few more steps and
  -- returns (or raises, or yields) what the bytes say.
  function callback(depth)
    local steps, how = byte() % 4, byte()
    return function(...)
      local args = table.pack(...)
      for i = 1, math.min(args.n, 3) do pool[(how + i) % NPOOL + 1] = args[i] end
      if depth < MAXDEPTH then
        for _ = 1, steps do
          if more() then step(depth + 1) end
        end
      end
      local k = how % 8
      if k == 0 then error("callback failed") end
      if k == 1 then return end
      if k == 2 then return args[1] * 2 + 1 end
      if k == 3 then return pool[how % NPOOL + 1] end
      if k == 4 then return pool[how % NPOOL + 1], pool[(how + 7) % NPOOL + 1] end
      if k == 5 then return { pool[how % NPOOL + 1], pool[(how + 3) % NPOOL + 1] } end
      if k == 6 then return coroutine.yield(args[1]) end
      if how % 3 == 0 then -- many results
        local many = {}
        for i = 1, byte() * 4 do many[i] = pool[i % NPOOL + 1] or i end
        return table.unpack(many)
      end
      return number()
    end
  end

  -- ---- actions ----

  local OPS = {
    function(a, b) return a + b end, function(a, b) return a - b end, function(a, b) return a * b end,
    function(a, b) return a / b end, function(a, b) return a ^ b end, function(a, b) return a % b end,
    function(a, b) return a // b end, function(a, b) return a < b end, function(a, b) return a <= b end,
    function(a, b) return a == b end, function(a, b) return a .. b end, function(a, b) return a & b end,
    function(a) return -a end, function(a) return #a end, function(a) return tostring(a) end,
    function(a, b) return a(b) end, function(a) return ~a end,
  }
  local METHODS = { "relu", "tanh", "exp", "log", "sigmoid", "abs", "sqrt", "softplus", "backward",
    "children", "detach", "forward", "input_grads", "run_batch", "zero_grad", "clip_norm", "clip_value",
    "sgd", "adam", "values", "totable", "load", "seed", "random", "uniform", "normal", "close",
    "parameters", "state", "load_state", "step", "run", "lr", "describe", "spec" }
  for _, op in ipairs(mg.ops) do -- every Value method of the op table, the ones above first
    local listed = false
    for _, name in ipairs(METHODS) do listed = listed or name == op.lua end
    if op.kind == "unary" and op.lua and not listed and not op.lua:find("^__") then
      METHODS[#METHODS + 1] = op.lua
    end
  end
  local FIELDS = { "data", "grad", "label", "op", "lr", "nin", "nout", "layers", "neurons", "w", "b",
    "activation", "step_count", "history", "nodes", "inputs", "outputs", "parameters", 1, 2, 0, -1, "x" }
  local METAMETHODS = { "__index", "__newindex", "__call", "__gc", "__close", "__tostring", "__len",
    "__add", "__sub", "__mul", "__div", "__pow", "__unm", "__lt", "__le", "__mod", "__idiv" }
  local LOSSES = { "svm", "mse", "bce_logits", "cross_entropy", "l2" }
  local NN = { "Neuron", "Layer", "MLP", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential" }
  local DATA = { "make_moons", "make_circles", "make_blobs" }
  local VIZ = { "dot", "scatter", "loss_curve", "decision_boundary", "ascii_boundary", "render" }

  local MODULES = { "", "nn", "loss", "optim", "data", "train", "viz" }
  local function_names = {}
  local function functions_of(name, module) -- sorted, so that a run does not depend on pairs' order
    if not function_names[name] then
      local names = {}
      for k, v in pairs(module) do
        if type(v) == "function" and k ~= "run" then names[#names + 1] = k end
      end
      table.sort(names)
      function_names[name] = names
    end
    return function_names[name]
  end

  local function sizes(depth)
    if byte() % 4 == 0 then return any(depth) end
    return array(depth, function() return byte() % 4 + 1 end)
  end

  local ACTIONS = {
    function(depth) return mg.Value(number(), byte() % 3 == 0 and any(depth) or nil) end,
    function(depth) return mg.Value(any(depth), any(depth)) end,
    function(depth) return pick(OPS)(target(), any(depth)) end,
    function(depth) return pick(OPS)(any(depth), target()) end,
    function(depth)
      local obj = target()
      return obj[pick(METHODS)](obj, any(depth), any(depth))
    end,
    function(depth) return target()[pick(METHODS)](any(depth), any(depth)) end,
    function() return target()[pick(FIELDS)] end,
    function(depth) target()[pick(FIELDS)] = any(depth) end,
    function(depth)
      local nary = ({ mg.sum, mg.logsumexp, mg.softmax })[byte() % 3 + 1]
      return nary(byte() % 2 == 0 and any(depth) or array(depth, any))
    end,
    function(depth) return mg.dot(any(depth), any(depth), any(depth)) end,
    function(depth)
      local v = mg.vector(any(depth))
      return v, v[number()]
    end,
    function(depth) return mg.no_grad(callback(depth), any(depth)) end,
    function(depth)
      local guard <close> = mg.no_grad()
      if byte() % 2 == 0 then guard:close() end
      if depth < MAXDEPTH then step(depth + 1) end
      return mg.grad_enabled()
    end,
    function() return mg.no_grad() end, -- a guard left open in the pool
    function(depth)
      local fn = byte() % 4 == 0 and any(depth) or callback(depth)
      local g = mg.compile(fn, byte() % 2 == 0 and number() or any(depth))
      return g, g(any(depth), any(depth))
    end,
    function(depth)
      local g = target()
      return g:run_batch(byte() % 2 == 0 and matrix(depth) or any(depth), any(depth))
    end,
    function(depth)
      local k = byte() % 5
      if k == 0 then return mg.seed(any(depth)) end
      if k == 1 then return mg.random(any(depth), any(depth)) end
      if k == 2 then return mg.uniform(any(depth), any(depth)) end
      if k == 3 then return mg.normal(any(depth), any(depth)) end
      return mg.Generator(any(depth))
    end,
    function(depth)
      local core = require("micrograd.core") -- internals, not part of mg
      if byte() % 2 == 0 then return core.Buffer(any(depth)) end
      return core.ParamSet(any(depth), any(depth))
    end,
    function(depth)
      local mt = getmetatable(target())
      local fn = type(mt) == "table" and rawget(mt, pick(METAMETHODS))
      if type(fn) == "function" then return fn(any(depth), any(depth), any(depth)) end
    end,
    function(depth)
      local name = pick(NN)
      if name == "Sequential" then return mg.nn.Sequential(any(depth), any(depth), any(depth)) end
      if name == "MLP" then return mg.nn.MLP(number(), sizes(depth), any(depth)) end
      return mg.nn[name](number(), number(), any(depth))
    end,
    function(depth)
      local model = target()
      return model(byte() % 2 == 0 and array(depth, number) or any(depth))
    end,
    function(depth)
      local k = byte() % 4
      if k == 0 then return mg.nn.parse(mg.nn.dump(target())) end
      if k == 1 then return mg.nn.parse(any(depth), any(depth)) end
      if k == 2 then return mg.nn.save(target(), any(depth)) end
      return mg.nn.load(any(depth))
    end,
    function(depth) return mg.loss[pick(LOSSES)](any(depth), any(depth)) end,
    function(depth)
      local params = byte() % 2 == 0 and target() or any(depth)
      if type(params) == "table" and type(params.parameters) == "function" then
        params = params:parameters()
      end
      local k = byte() % 7
      if k == 0 then return mg.optim.SGD(params, opts(depth)) end
      if k == 1 then return mg.optim.Adam(params, opts(depth)) end
      if k == 2 then return mg.optim.linear(target(), any(depth), any(depth), any(depth)) end
      if k == 3 then return mg.optim.step(target(), opts(depth)) end
      if k == 4 then return mg.optim.cosine(target(), opts(depth)) end
      if k == 5 then return mg.optim.clip_grad_norm(params, any(depth)) end
      return mg.optim.clip_grad_value(params, any(depth))
    end,
    function(depth) return mg.data[pick(DATA)](number(), byte() % 2 == 0 and opts(depth) or any(depth)) end,
    function(depth)
      local k = byte() % 6
      if k == 0 then return mg.data.parse_csv(pick(STRINGS), byte() % 2 == 0 and opts(depth) or any()) end
      if k == 1 then return mg.data.shuffle(any(depth), any(depth), any(depth)) end
      if k == 2 then
        local it = mg.data.batches(any(depth), any(depth), any(depth))
        return it(), it()
      end
      if k == 3 then return mg.data.train_test_split(any(depth), any(depth), opts(depth)) end
      if k == 4 then return mg.data.signs(any(depth)) end
      return mg.data.load_csv(any(depth), any(depth))
    end,
    function(depth)
      local o = opts(depth)
      if byte() % 2 == 0 then o.steps = byte() % 4 + 1 end
      if byte() % 2 == 0 then o.progress = false end
      if byte() % 2 == 0 then return mg.train.fit(target(), any(depth), any(depth), o) end
      return mg.train.Trainer(target(), any(depth), any(depth), o)
    end,
    function(depth) return mg.viz[pick(VIZ)](target(), any(depth), any(depth), any(depth), any(depth)) end,
    function(depth) return mg.gradcheck(callback(depth), any(depth), any(depth)) end,
    function(depth)
      local co = coroutine.create(callback(depth))
      local results = table.pack(coroutine.resume(co, any(depth)))
      check(table.unpack(results, 1, results.n))
      if byte() % 2 == 0 then
        results = table.pack(coroutine.resume(co, any(depth)))
        check(table.unpack(results, 1, results.n))
      end
      if byte() % 2 == 0 then check(coroutine.close(co)) end
      return co
    end,
    function()
      if byte() % 2 == 0 then return collectgarbage("collect") end
      return collectgarbage("step", byte())
    end,
    function() return target():backward() end,
    function(depth)
      local guard <close> = mg.detect_anomaly(byte() % 4 ~= 0)
      if depth < MAXDEPTH then step(depth + 1) end
      if byte() % 2 == 0 then return guard end
    end,
    function(depth) -- any function of any module (but core.run, which runs programs)
      local name = pick(MODULES)
      local module = name == "" and mg or mg[name]
      local fn = module[pick(functions_of(name, module))]
      return fn(any(depth), any(depth), any(depth), any(depth))
    end,
  }

  -- Hostile code, for finalizers and metamethods: a call that may free or
  -- change what a C function in the middle of its work holds.
  local function meddle_once(depth)
    local k = byte() % 9
    local x = pool[byte() % NPOOL + 1]
    if (k <= 1 or k == 6) and nclosable > 0 and byte() % 4 ~= 0 then -- mostly a graph or a guard
      x = closable[byte() % math.min(nclosable, 8) + 1]
    end
    local mt = getmetatable(x)
    if verbose then print(("meddle: %d on %s"):format(k, tostring(x))) end
    if k <= 1 then -- close it, or call its __gc, whatever it is
      local fn = type(mt) == "table" and rawget(mt, k == 0 and "__close" or "__gc")
      if type(fn) == "function" then fn(x) end
    elseif k == 2 then
      x:backward()
    elseif k == 3 then
      pool[byte() % NPOOL + 1] = mg.compile(function(a) return a * x end, 1)
    elseif k == 4 then
      collectgarbage(byte() % 2 == 0 and "collect" or "step", byte())
    elseif k == 5 then
      pool[byte() % NPOOL + 1] = byte() % 2 == 0 and mg.no_grad() or mg.detect_anomaly(byte() % 2 == 0)
    elseif k == 6 then
      x:close()
    elseif k == 7 then
      x[pick(FIELDS)] = any(depth)
    elseif depth < MAXDEPTH then
      step(depth + 1)
    end
  end
  function meddle(depth)
    if more() then check(pcall(meddle_once, depth)) end
  end

  -- Objects whose finalizers meddle; some come back to life a few times, so
  -- that they run again in later collections.
  local function finalizers(depth)
    for _ = 1, byte() % 4 + 1 do
      local lives = byte() % 4
      local function arm()
        setmetatable({}, {
          __gc = function()
            meddle(depth + 1)
            if lives > 0 then
              lives = lives - 1
              arm()
            end
          end,
        })
      end
      arm()
    end
  end
  ACTIONS[#ACTIONS + 1] = finalizers
  ACTIONS[#ACTIONS + 1] = finalizers

  function step(depth)
    budget = budget - 1
    local k = byte() % #ACTIONS + 1
    if verbose then print(("step: depth %d, action %d"):format(depth, k)) end
    local ok, a, b = try(ACTIONS[k], depth)
    if ok then
      put(a)
      put(b)
    end
  end

  if byte() % 4 == 0 then -- a GC step at every allocation, a whole cycle every few dozen or hundred
    collectgarbage("incremental", 100, 100, 1)
    collectgarbage("setpause", 0)
    collectgarbage("setstepmul", 100 + byte() * 4)
  end
  for i = 1, 4 do pool[i] = mg.Value(i - 2.5) end
  pool[5], pool[6] = pool[1] * pool[2] + pool[3], { 1, 2, 3 }
  if byte() % 2 == 1 then -- a richer start: a model, data, an optimizer, a compiled graph, ...
    try(function()
      local nn, data = mg.nn, mg.data
      local model = nn.MLP(2, { 4, 1 })
      local X, y = data.make_moons(8, { seed = 1 })
      pool[7], pool[8], pool[9], pool[10] = model, X, y, model:parameters()
      pool[11] = mg.optim.SGD(pool[10], { lr = 0.1 })
      pool[12] = model(X[1])
      pool[13] = mg.compile(function(a, b) return (a * b + pool[1]):tanh() end, 2)
      closable[1], nclosable = pool[13], 1
      pool[14], pool[15] = mg.Generator(7), mg.vector({ pool[1], 2, pool[2] })
      pool[16] = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
      pool[17], pool[18] = data.signs(y), mg.loss.mse({ pool[12] }, { 1 })
    end)
  end
  while more() do step(0) end
  pool = nil
  collectgarbage("collect")
  return problem
end
