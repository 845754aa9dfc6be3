-- The scripts of host_memory.c. It calls workload() in states whose memory is
-- capped at many limits, recover() once the limit is lifted, and inject()
-- in an uncapped state. `host` (from host_memory.c): host.phase(name) names
-- the current phase for the report; host.try(fn, mode, n) runs fn under a cap
-- ("limit": n more bytes; "fail": the first n allocations succeed, the rest
-- fail; "burst": the first n succeed, the next two fail, the rest succeed)
-- and returns ok, result or message, refusals, allocations; host.stats();
-- host.fds() and host.sigpipe(): open files, SIGPIPE's handling;
-- host.samples: how many allocations inject() makes fail in the operations
-- that make thousands.
-- luacheck: read globals host
local M = {}

local format = string.format

local function bits(x)
  return format("%.17g", x) -- 17 digits tell every double apart (5.1 has no %a)
end

-- ---- the workload: a bit of everything, each phase keeping what it made ----

function M.workload()
  local keep = {}
  host.phase("require")
  local mg = require("micrograd")
  local nn, loss, optim, data, train, viz = mg.nn, mg.loss, mg.optim, mg.data, mg.train, mg.viz
  local out = {}

  host.phase("deep graph")
  local a, b = mg.Value(0.5, "a"), mg.Value(0.25, "b")
  local x = a
  for i = 1, 600 do
    x = x * 0.999 + b * (i % 3)
    if i % 7 == 0 then x = x:tanh() end
  end
  host.phase("backward")
  x:backward()
  out[#out + 1] = bits(x.data) .. " " .. bits(a.grad) .. " " .. bits(b.grad)
  keep.deep = x

  host.phase("wide graph")
  local leaves, terms = {}, {}
  for i = 1, 300 do
    leaves[i] = mg.Value(i / 300)
    terms[i] = leaves[i] * leaves[i]
  end
  local s = mg.sum(terms)
  host.phase("backward")
  s:backward()
  out[#out + 1] = bits(s.data) .. " " .. bits(leaves[300].grad)
  keep.wide = s

  host.phase("vector")
  local vec = mg.vector(leaves)
  local d = mg.dot(vec, vec, 1)
  d:backward()
  out[#out + 1] = bits(d.data)
  keep.vector = d

  host.phase("data")
  local X, y = data.make_moons(20, { noise = 0.1, seed = 3 })
  local lines = { "x1,x2,label" }
  for i, p in ipairs(X) do lines[#lines + 1] = format("%.17g,%.17g,%d", p[1], p[2], y[i]) end
  local X2, y2 = data.parse_csv(table.concat(lines, "\n"))
  assert(#X2 == 20 and X2[20][1] == X[20][1] and y2[20] == y[20], "parse_csv")
  local ys = data.signs(y)

  host.phase("nn")
  mg.seed(11)
  local model = nn.MLP(2, { 6, 6, 1 })
  local params = model:parameters()
  local scores = {}
  for i, p in ipairs(X) do scores[i] = model(p) end
  local total = loss.svm(scores, ys) + loss.l2(params, 1e-4)
  host.phase("backward")
  total:backward()
  out[#out + 1] = bits(total.data) .. " " .. bits(params[1].grad)
  keep.total = total

  host.phase("optim")
  local sgd = optim.SGD(params, { lr = 0.1, momentum = 0.9 })
  sgd:step()
  local adam = optim.Adam(params, { lr = 0.01 })
  adam:step()
  local sched = optim.cosine(sgd, { from = 0.1, to = 0.01, steps = 10 })
  sched:step()
  out[#out + 1] = bits(params[1].data) .. " " .. bits(params[#params].data)
  keep.opt = { sgd, adam, sched, sgd:state(), adam:state() }

  host.phase("compile")
  local g = mg.compile(function(x1, x2, label)
    return (1 - label * model({ x1, x2 })):relu()
  end, 3)
  local rows = {}
  for i, p in ipairs(X) do rows[i] = { p[1], p[2], ys[i] } end
  sgd:zero_grad()
  local batch = g:run_batch(rows, { mean = true })
  out[#out + 1] = bits(batch) .. " " .. bits(params[2].grad) .. " " .. g.nodes
  keep.graph = g

  host.phase("dump/parse")
  local text = nn.dump(model)
  local copy = nn.parse(text, "copy")
  local cp = copy:parameters()
  for i, p in ipairs(params) do assert(cp[i].data == p.data, "nn.parse: parameter " .. i) end
  keep.text, keep.copy = text, copy
  out[#out + 1] = tostring(#text)

  host.phase("train")
  mg.seed(12)
  local small = nn.MLP(2, { 4, 1 })
  local history = train.fit(small, X, y, { steps = 2, l2 = 1e-4, progress = false })
  local trainer = train.Trainer(small, X, y, { steps = 2, batch_size = 10, seed = 4 })
  trainer:run({ samples = 10 })
  trainer:run()
  out[#out + 1] = bits(history.loss[2]) .. " " .. bits(trainer.history.loss[2])
  local compiled = train.Trainer(small, X, y, { steps = 2, compile = true })
  compiled:run()
  out[#out + 1] = bits(compiled.history.loss[2])
  keep.train = { history, trainer, compiled }

  host.phase("viz")
  local dot = viz.dot(keep.deep, { max_nodes = 100 })
  local svg = viz.decision_boundary(small, X, y, nil, { resolution = 12 })
  local curve = viz.loss_curve(history)
  local scatter = viz.scatter(X, y)
  local ascii = viz.ascii_boundary(small, X, y, { width = 16, height = 8 })
  out[#out + 1] = #dot .. " " .. #svg .. " " .. #curve .. " " .. #scatter .. " " .. #ascii
  keep.viz = { dot, svg, curve, scatter, ascii }

  host.phase("done")
  M.kept = keep -- everything stays alive until recover() lets go
  return table.concat(out, "; ")
end

-- ---- after running out: let go, collect, and train a small model ----------

function M.recover()
  M.kept = nil
  collectgarbage()
  collectgarbage()
  -- 5.1 and LuaJIT leave require's sentinel (a light userdata; LuaJIT's
  -- type() calls it a number) in package.loaded when a module's loading
  -- fails (here: ran out of memory), and refuse to load it again: a host
  -- clears it to try again.
  for name, v in pairs(package.loaded) do
    local t = type(v)
    if _VERSION == "Lua 5.1" and (t == "userdata" or t == "number") then package.loaded[name] = nil end
  end
  local mg = require("micrograd")
  assert(mg.grad_enabled(), "grad mode left off")
  mg.seed(7)
  local X, y = mg.data.make_moons(16, { noise = 0.1, seed = 7 })
  local ys = mg.data.signs(y)
  local model = mg.nn.MLP(2, { 4, 1 })
  local params = model:parameters()
  local opt = mg.optim.SGD(params, { lr = 0.5 })
  local losses = {}
  for step = 1, 2 do
    local scores = {}
    for i, p in ipairs(X) do scores[i] = model(p) end
    local total = mg.loss.svm(scores, ys)
    opt:zero_grad()
    total:backward()
    opt:step()
    losses[step] = bits(total.data)
  end
  local g = mg.compile(function(a, b) return model({ a, b }) end, 2)
  local text = mg.nn.dump(model)
  local copy = mg.nn.parse(text)
  losses[#losses + 1] = bits(g(0.5, -0.5))
  losses[#losses + 1] = bits(copy({ 0.5, -0.5 }).data)
  return table.concat(losses, " ")
end

-- ---- injection: every allocation of an operation fails once ----------------

-- Runs op(ctx) with allocation k refused, for k = 0, 1, ... until it succeeds
-- without any refusal: every allocation the operation makes fails, first with
-- every later one refused too ("fail"), then with just it and the next one
-- refused ("burst": Lua's own allocations collect garbage and retry once).
-- With `samples`, k goes up in steps so that about that many of its
-- allocations fail (for the operations that make thousands). setup() makes a
-- fresh ctx with no cap; check(ctx, ok, result, k) runs after each attempt
-- with no cap. Returns how many allocations the operation makes.
local timing = {}
-- A refused allocation's error: Lua 5.3's string buffers say it their way.
local function out_of_memory(res)
  return res == "not enough memory"
    or _VERSION == "Lua 5.3" and type(res) == "string"
      and res:find("not enough memory for buffer allocation$") ~= nil
end
local function exhaust(name, setup, op, check, samples)
  local mg = require("micrograd")
  local started, stride = os.clock(), 1
  if samples then
    local _, _, _, requests = host.try(function() return op(setup()) end, "limit", 2 ^ 40)
    stride = math.max(1, math.floor(requests / samples))
  end
  local k = 0
  while true do
    local done = false
    for _, mode in ipairs({ "fail", "burst" }) do
      local ctx = setup()
      local ok, res, refused = host.try(function() return op(ctx) end, mode, k)
      local what = format("%s: allocation %d refused (%s)", name, k, mode)
      if not ok then
        if not out_of_memory(res) then error(format("%s: %s", what, tostring(res)), 0) end
        if refused == 0 then error(format("%s: failed with no refusal: %s", name, res), 0) end
      end
      if not mg.grad_enabled() then error(what .. ": grad mode left off", 0) end
      check(ctx, ok, res, k)
      done = ok and refused == 0
    end
    if done then
      timing[name] = os.clock() - started
      return k
    end
    k = k + stride
  end
end

-- Runs op() with every allocation refused (it must need none), the collector
-- stopped so that no stack shrinks under it. Warms it up first.
local function no_alloc(name, op)
  collectgarbage()
  collectgarbage("stop")
  host.try(op, "limit", 2 ^ 40) -- warm up: the stack and call frames it needs exist
  local ok, res, refused = host.try(op, "fail", 0)
  collectgarbage("restart")
  if not ok or refused > 0 then
    error(format("%s allocates (%s, %d refusals)", name, tostring(res), refused), 0)
  end
end

local function same(what, got, want)
  if got ~= want and not (got ~= got and want ~= want) then
    error(format("%s: got %s, want %s", what, bits(got), bits(want)), 0)
  end
end

function M.inject()
  -- LuaJIT 2.1 (Debian's 2.1.0~beta3) itself crashes when some allocations
  -- fail (seen in its own code while nn.MLP builds a model; PUC Lua 5.1 with
  -- the same binding passes): ctest does not run host_memory there.
  if rawget(_G, "jit") then return "skipped on LuaJIT" end
  local mg = require("micrograd")
  local nn, optim, data, train, viz = mg.nn, mg.optim, mg.data, mg.train, mg.viz
  local counts = {}

  -- backward's scratch array: grows 256 -> 512 -> ... pointers
  local function chain()
    local a, b = mg.Value(0.5), mg.Value(-0.3)
    local x = a
    for i = 1, 300 do x = (x * b + i % 5):tanh() + a end
    return { a = a, b = b, root = x }
  end
  local ref = chain()
  ref.root:backward()
  counts.backward = exhaust("backward", chain, function(c) c.root:backward() end, function(c, ok)
    if not ok then -- no grad changed; the graph is as it was (a retry gives the right numbers)
      same("grad after a failed backward", c.a.grad + c.b.grad + c.root.grad, 0)
      c.root:backward()
    end
    same("a.grad", c.a.grad, ref.a.grad)
    same("b.grad", c.b.grad, ref.b.grad)
  end)

  -- compile: tracing, the compiler's arrays, the tape, the graph object
  local function model_ctx()
    mg.seed(5)
    return { model = nn.MLP(2, { 3, 2, 1 }) }
  end
  local function compile(c)
    c.g = mg.compile(function(x1, x2) return c.model({ x1, x2 }) end, 2)
    return c.g(0.3, -0.7)
  end
  counts.compile = exhaust("compile", model_ctx, compile, function(c, ok)
    if not ok then compile(c) end -- compiling still works
    local params = c.model:parameters()
    local out = c.model({ 0.3, -0.7 })
    same("compiled forward", c.g(0.3, -0.7), out.data)
    out:backward() -- the nodes' bookkeeping was restored: dynamic and compiled grads agree
    local want = {}
    for i, p in ipairs(params) do want[i], p.grad = p.grad, 0 end
    c.g:backward()
    for i, p in ipairs(params) do same("compiled grad " .. i, p.grad, want[i]) end
  end)

  -- Vector and dot
  local list = {}
  for i = 1, 300 do list[i] = i % 2 == 0 and mg.Value(i) or i end
  counts.vector = exhaust("vector", function() return {} end, function()
    local v = mg.vector(list)
    return mg.dot(v, v).data
  end, function(_, ok, res)
    if ok then same("dot", res, mg.dot(list, list).data) end
  end)

  -- ParamSet and the optimizers' buffers: a failed construction changes nothing
  local function opt_ctx()
    local c = model_ctx()
    c.params = c.model:parameters()
    for i, p in ipairs(c.params) do p.grad = (i % 7) / 7 - 0.5 end
    c.before = {}
    for i, p in ipairs(c.params) do c.before[i] = p.data end
    return c
  end
  local function check_params(c, ok)
    for i, p in ipairs(c.params) do
      if ok then
        if p.data == c.before[i] and p.grad ~= 0 then
          error("optimizer: parameter " .. i .. " not updated", 0)
        end
      else
        same("parameter after a failed optimizer", p.data, c.before[i])
      end
    end
  end
  counts.sgd = exhaust("SGD", opt_ctx, function(c)
    optim.SGD(c.params, { lr = 0.1, momentum = 0.9, clip_norm = 1 }):step()
  end, check_params)
  counts.adam = exhaust("Adam", opt_ctx, function(c)
    optim.Adam(c.params, { lr = 0.1, weight_decay = 0.01 }):step()
  end, check_params)

  -- nn: building a model, and dump/parse
  counts.mlp = exhaust("nn.MLP", function() return {} end, function()
    return tostring(nn.MLP(3, { 8, 8, 2 }))
  end, function() end, host.samples)
  local dumped = model_ctx()
  local text = nn.dump(dumped.model)
  counts.dump = exhaust("nn.dump/nn.parse", function() return {} end, function()
    return nn.parse(nn.dump(dumped.model), "model")
  end, function(_, ok, copy)
    if not ok then return end
    local want = dumped.model:parameters()
    for i, p in ipairs(copy:parameters()) do same("parsed parameter " .. i, p.data, want[i].data) end
    assert(nn.dump(copy) == text)
  end, host.samples)

  -- data
  counts.data = exhaust("data", function() return {} end, function()
    local X, y = data.make_moons(30, { noise = 0.1, seed = 2 })
    local X2 = data.parse_csv("a,b,c\n1,2,0\n3,4,1\n")
    data.shuffle(X, y, 3)
    return #X + #X2
  end, function(_, ok, n)
    if ok then assert(n == 32) end
  end, host.samples)

  -- training: fit and a compiled Trainer
  local X, y = data.make_moons(12, { noise = 0.1, seed = 6 })
  local function fit(c)
    mg.seed(8)
    c.model = nn.MLP(2, { 3, 1 })
    return train.fit(c.model, X, y, { steps = 2, progress = false }).loss[2]
  end
  local fit_loss = fit({})
  counts.fit = exhaust("train.fit", function() return {} end, fit, function(_, ok, l)
    if ok then same("fit loss", l, fit_loss) end
  end, host.samples)
  local function compiled_fit(c)
    mg.seed(8)
    c.model = nn.MLP(2, { 3, 1 })
    local t = train.Trainer(c.model, X, y, { steps = 2, compile = true })
    t:run()
    return t.history.loss[2]
  end
  local compiled_loss = compiled_fit({})
  counts.trainer = exhaust("Trainer (compile)", function() return {} end, compiled_fit, function(_, ok, l)
    if ok then same("compiled Trainer loss", l, compiled_loss) end
  end, host.samples)

  -- viz
  local small = model_ctx()
  local root = small.model({ 0.1, 0.2 })
  local dot_text = viz.dot(root)
  counts.viz = exhaust("viz.dot", function() return {} end, function() return viz.dot(root) end,
    function(_, ok, t)
      if ok then assert(t == dot_text) end
    end, host.samples)

  -- _system.run (how viz.render runs Graphviz): a program's output collected in
  -- a Lua buffer; running out must leave no pipe open, no child unwaited, and
  -- the host's SIGPIPE handling as it was
  local input = string.rep("0123456789abcdef", 8192)
  local fds, disposition, blocked = host.fds(), host.sigpipe()
  counts.run = exhaust("_system.run", function() return {} end, function()
    local status, out = require("micrograd._system").run({ "cat" }, input)
    assert(status == 0, out)
    return out
  end, function(_, ok, out, k)
    if ok then assert(out == input, "_system.run: output") end
    local now_fds, now_disposition, now_blocked = host.fds(), host.sigpipe()
    if now_fds ~= fds then error(format("_system.run: allocation %d refused: %s files open, %s before", k,
      tostring(now_fds), tostring(fds)), 0) end
    if now_disposition ~= disposition or now_blocked ~= blocked then
      error(format("_system.run: allocation %d refused: SIGPIPE %s%s, was %s%s", k, now_disposition,
        now_blocked and " and blocked" or "", disposition, blocked and " and blocked" or ""), 0)
    end
  end)

  -- what must not allocate at all: compiled inference and training, optimizer steps
  local c = model_ctx()
  local params = c.model:parameters()
  local g = mg.compile(function(x1, x2, label) return (1 - label * c.model({ x1, x2 })):relu() end, 3)
  local rows = { { 0.1, 0.2, 1 }, { -0.5, 0.7, -1 }, { 1.5, -0.2, 1 } }
  local sgd = optim.SGD(params, { lr = 0.01, momentum = 0.9 })
  local adam = optim.Adam(params, { lr = 0.01 })
  no_alloc("compiled forward", function() return g(0.5, -0.5, 1) end)
  no_alloc("compiled backward", function() g:backward() end)
  no_alloc("run_batch", function() return g:run_batch(rows) end)
  local mean = { mean = true }
  no_alloc("SGD step", function()
    sgd:zero_grad()
    g:run_batch(rows, mean)
    sgd:step()
  end)
  no_alloc("Adam step", function()
    adam:zero_grad()
    g:run_batch(rows)
    adam:step()
  end)
  no_alloc("Value fields", function()
    local p = params[1]
    p.data = p.data - 0.01 * p.grad
    p.grad = 0
  end)

  local names = {}
  for name in pairs(counts) do names[#names + 1] = name end
  table.sort(names)
  for i, name in ipairs(names) do names[i] = format("%s %d", name, counts[name]) end
  if os.getenv("HOST_MEMORY_VERBOSE") then
    for name, f in pairs(timing) do print(name, f) end
  end
  return "allocations failed one by one: " .. table.concat(names, ", ") .. "; no-allocation paths ok"
end

return M
