-- mg.compile: a traced graph replayed in C must give the dynamic engine's
-- values and gradients, allocate nothing per call, and refuse what it
-- cannot replay.
local check = require("spec.helpers.check")
local mg = require("micrograd")
local nn, loss, optim = mg.nn, mg.loss, mg.optim
local Value = mg.Value

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

--- A random program over inputs xs (Values) and captured leaves ps: a list of
-- steps, each an op over earlier values, replayable on any inputs.
local unary = { "tanh", "exp", "sigmoid", "softplus", "relu", "abs" }
local binary = { "+", "-", "*", "/" }
local function random_program(gen, nin, nparams, length)
  local steps = {}
  for s = 1, length do
    local kind = gen:random(1, 7)
    local pick = function() return gen:random(1, nin + nparams + s - 1) end
    if kind <= 3 then
      local k = gen:random() < 0.2 and gen:uniform(0.5, 2)
      steps[s] = { "bin", binary[gen:random(1, #binary)], pick(), pick(), k }
    elseif kind == 4 then
      steps[s] = { "un", unary[gen:random(1, #unary)], pick() }
    elseif kind == 5 then
      steps[s] = { "sum", pick(), pick(), pick() }
    elseif kind == 6 then
      steps[s] = { "lse", pick(), pick(), pick() }
    else
      steps[s] = { "dot", pick(), pick(), pick(), pick(), pick() }
    end
  end
  return steps
end

local function run_program(steps, values)
  local v = { check.unpack(values) }
  for _, st in ipairs(steps) do
    local r
    if st[1] == "bin" then
      local a, b = v[st[3]], st[5] or v[st[4]]
      if st[2] == "+" then r = a + b elseif st[2] == "-" then r = a - b
      elseif st[2] == "*" then r = a * b else r = a / (b * b + 1) end
    elseif st[1] == "un" then
      r = v[st[3]][st[2]](v[st[3]] * 0.5)
    elseif st[1] == "sum" then
      r = mg.sum({ v[st[2]], v[st[3]], 0.5, v[st[4]] })
    elseif st[1] == "lse" then
      r = mg.logsumexp({ v[st[2]], -1.5, v[st[3]] * 40, v[st[4]] })
    else
      r = mg.dot({ v[st[2]], v[st[3]] }, { v[st[4]], 2 }, v[st[5]])
    end
    v[#v + 1] = r
  end
  return v[#v]
end

describe("mg.compile", function()
  it("gives the dynamic engine's values and gradients, bit for bit, on random programs", function()
    local gen = mg.Generator(2024)
    for trial = 1, 60 do
      local nin, nparams = gen:random(1, 3), gen:random(1, 3)
      local steps = random_program(gen, nin, nparams, gen:random(3, 25))
      local params = {}
      for i = 1, nparams do params[i] = Value(gen:uniform(-1, 1)) end
      local g = mg.compile(function(...)
        local vals = { ... }
        for i = 1, nparams do vals[nin + i] = params[i] end
        return run_program(steps, vals)
      end, nin)
      for _ = 1, 3 do
        local xs = {}
        for i = 1, nin do xs[i] = gen:uniform(-2, 2) end
        -- dynamic
        for _, p in ipairs(params) do p.grad = 0 end
        local inputs = {}
        for i = 1, nin do inputs[i] = Value(xs[i]) end
        local vals = { check.unpack(inputs) }
        for i = 1, nparams do vals[nin + i] = params[i] end
        local out = run_program(steps, vals)
        out:backward()
        local want = {}
        for i, p in ipairs(params) do want[i] = p.grad; p.grad = 0 end
        -- compiled
        local y = g(check.unpack(xs))
        g:backward()
        assert(y == out.data or (y ~= y and out.data ~= out.data), "trial " .. trial .. ": forward differs")
        for i, p in ipairs(params) do
          assert(p.grad == want[i] or (p.grad ~= p.grad and want[i] ~= want[i]),
            string.format("trial %d: grad of parameter %d: %.17g vs %.17g", trial, i, p.grad, want[i]))
        end
        local ig = g:input_grads()
        for i = 1, nin do
          local w = inputs[i].grad
          assert(ig[i] == w or (ig[i] ~= ig[i] and w ~= w), "trial " .. trial .. ": input grad " .. i)
        end
      end
    end
  end)

  it("keeps the dynamic bits when dots and sums run over ranges of slots", function()
    -- Dots and sums over windows of earlier values: shared, overlapping and
    -- repeated operands, w . w, constants, biases that are also weights; two
    -- backward calls without zeroing, so the grads accumulate as they do dynamically.
    local gen = mg.Generator(77)
    local function build(vals, plan)
      local v = { check.unpack(vals) }
      for _, st in ipairs(plan) do
        local r
        if st.kind == "dot" then
          local w = check.move(v, st.w, st.w + st.len - 1, 1, {})
          local x = st.same and w or check.move(v, st.x, st.x + st.len - 1, 1, {})
          if st.const then x[1] = 0.5 end
          r = mg.dot(w, x, st.bias and v[st.bias] or nil)
        elseif st.kind == "sum" then
          r = mg.sum(check.move(v, st.w, st.w + st.len - 1, 1, {}))
        else
          r = v[st.w]:tanh()
        end
        v[#v + 1] = r
      end
      return mg.sum(check.move(v, #v - 3, #v, 1, {})) * v[#v]
    end
    for trial = 1, 40 do
      local nin, nparams = gen:random(1, 3), gen:random(2, 12)
      local plan, count = {}, nin + nparams
      for s = 1, gen:random(2, 20) do
        local len = gen:random(1, math.min(count, 6))
        local kind = ({ "dot", "dot", "sum", "tanh" })[gen:random(1, 4)]
        local last = count - len + 1
        plan[s] = { kind = kind, len = len, w = gen:random(1, last), x = gen:random(1, last),
          same = gen:random() < 0.2, const = gen:random() < 0.2,
          bias = gen:random() < 0.6 and gen:random(1, count) or nil }
        count = count + 1
      end
      local params = {}
      for i = 1, nparams do params[i] = Value(gen:uniform(-1, 1)) end
      local function with(inputs)
        local vals = { check.unpack(inputs) }
        for i = 1, nparams do vals[nin + i] = params[i] end
        return build(vals, plan)
      end
      local g = mg.compile(function(...) return with({ ... }) end, nin)
      local xs = {}
      for i = 1, nin do xs[i] = gen:uniform(-2, 2) end
      for _, p in ipairs(params) do p.grad = 0.25 end
      local inputs = {}
      for i = 1, nin do inputs[i] = Value(xs[i]) end
      local out = with(inputs)
      out:backward()
      out:backward()
      local want = {}
      for i, p in ipairs(params) do want[i] = p.grad; p.grad = 0.25 end
      local y = g(check.unpack(xs))
      assert(y == out.data, string.format("trial %d: forward %.17g vs %.17g", trial, y, out.data))
      g:backward()
      g:backward()
      for i, p in ipairs(params) do
        assert(p.grad == want[i], ("trial %d: grad %d: %.17g vs %.17g"):format(trial, i, p.grad, want[i]))
      end
      -- run_batch: the bits of a dynamic backward per row
      local rows = {}
      for r = 1, 3 do
        rows[r] = {}
        for i = 1, nin do rows[r][i] = gen:uniform(-2, 2) end
      end
      for _, p in ipairs(params) do p.grad = 0.5 end
      for _, row in ipairs(rows) do
        local row_inputs = {}
        for i = 1, nin do row_inputs[i] = Value(row[i]) end
        with(row_inputs):backward()
      end
      for i, p in ipairs(params) do want[i] = p.grad; p.grad = 0.5 end
      g:run_batch(rows)
      for i, p in ipairs(params) do
        assert(p.grad == want[i],
          ("trial %d: run_batch grad %d: %.17g vs %.17g"):format(trial, i, p.grad, want[i]))
      end
    end
  end)

  it("keeps the dynamic bits for layers of any width, with and without biases", function()
    -- the forward replay runs a layer's dots eight or four at a time, and
    -- maps over ranges; these widths leave every remainder
    local gen = mg.Generator(5)
    for _, width in ipairs({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 17 }) do
      local model = nn.MLP(3, { width, width + 2, 1 }, { activation = "tanh" })
      local params = model:parameters()
      local W = {}
      for j = 1, width do W[j] = { Value(gen:uniform(-1, 1)), Value(gen:uniform(-1, 1)) } end
      local function net(x1, x2, x3)
        local h = model({ x1, x2, x3 })
        local relus = {}
        for j = 1, width do relus[j] = mg.dot(W[j], { x1, x2 }):relu() end -- dots with no bias
        return h * mg.sum(relus)
      end
      for _, p in ipairs(W) do params[#params + 1] = p[1]; params[#params + 1] = p[2] end
      local g = mg.compile(net, 3)
      local rows = {}
      for r = 1, 4 do rows[r] = { gen:uniform(-1, 1), gen:uniform(-1, 1), gen:uniform(-1, 1) } end
      for _, row in ipairs(rows) do
        local out = net(Value(row[1]), Value(row[2]), Value(row[3]))
        out:backward()
      end
      local want = {}
      for i, p in ipairs(params) do want[i] = p.grad; p.grad = 0 end
      local outs = {}
      for r, row in ipairs(rows) do outs[r] = net(row[1], row[2], row[3]).data end
      for r, row in ipairs(rows) do assert.are.equal(outs[r], g(row)) end
      g:run_batch(rows)
      for i, p in ipairs(params) do
        assert.are.equal(want[i], p.grad, "width " .. width .. ", parameter " .. i)
      end
    end
  end)

  it("trains micrograd's demo compiled whole-batch to micrograd's bits", function()
    local ref = dofile("examples/data/reference.lua")("examples/data/micrograd_moons_h16.txt")
    local model = nn.MLP(2, { 16, 16, 1 })
    local params = model:parameters()
    for i, p in ipairs(params) do p.data = ref.weights[i] end
    local g = mg.compile(function()
      local scores = {}
      for i, x in ipairs(ref.X) do scores[i] = model(x) end
      return loss.svm(scores, ref.y) + loss.l2(params, 1e-4)
    end, 0)
    local opt = optim.SGD(params, { lr = 1.0 })
    local schedule = optim.linear(opt, 1.0, 0.1, 100)
    local first, last
    for k = 0, 99 do
      local total = g()
      opt:zero_grad()
      g:backward()
      opt:step()
      schedule:step()
      if k == 0 then first = total end
      last = total
    end
    assert.are.equal("0.89584410286832217", string.format("%.17g", first))
    assert.are.equal("0.010978370135492717", string.format("%.17g", last))
  end)

  it("replays a per-sample loss over a data set with run_batch", function()
    local ref = dofile("examples/data/reference.lua")("examples/data/micrograd_moons_h16.txt")
    local model = nn.MLP(2, { 16, 16, 1 })
    local params = model:parameters()
    for i, p in ipairs(params) do p.data = ref.weights[i] end
    local rows = {}
    for i, x in ipairs(ref.X) do rows[i] = { x[1], x[2], ref.y[i] } end
    local g = mg.compile(function(x1, x2, y) return (1 + -y * model({ x1, x2 })):relu() end, 3)
    -- dynamic reference: the mean hinge loss and its gradients
    local scores = {}
    for i, x in ipairs(ref.X) do scores[i] = model(x) end
    local want_loss = loss.svm(scores, ref.y)
    want_loss:backward()
    local want = {}
    for i, p in ipairs(params) do want[i] = p.grad; p.grad = 0 end
    local got = g:run_batch(rows, { mean = true })
    assert(math.abs(got - want_loss.data) <= 1e-12 * math.abs(want_loss.data))
    for i, p in ipairs(params) do
      assert(math.abs(p.grad - want[i]) <= 1e-12 * math.max(1, math.abs(want[i])), "parameter " .. i)
    end
    -- the same bits as a dynamic backward per row, onto grads that were not zero
    for _, p in ipairs(params) do p.grad = 0.125 end
    for i, x in ipairs(ref.X) do
      ((1 + -ref.y[i] * model(x)):relu() * (1 / #rows)):backward()
    end
    for i, p in ipairs(params) do want[i] = p.grad; p.grad = 0.125 end
    g:run_batch(rows, { mean = true })
    for i, p in ipairs(params) do assert.are.equal(want[i], p.grad) end
  end)

  it("compiles cross-entropy to the dynamic bits, whole batch and through run_batch", function()
    -- logsumexp shifts by the largest logit at every replay: traced at 0, replayed at
    -- logits in the hundreds and thousands (exp overflows without the shift): the same bits
    mg.seed(21)
    local model = nn.MLP(2, { 6, 3 })
    local params = model:parameters()
    local X, classes = {}, {}
    for i = 1, 9 do
      local scale = i % 3 == 0 and 3000 or 1
      X[i], classes[i] = { mg.uniform(-1, 1) * scale, mg.uniform(-1, 1) * scale }, i % 3 + 1
    end
    local function dynamic(rows, cs, seed_grad)
      for _, p in ipairs(params) do p.grad = seed_grad end
      local logits = {}
      for i, x in ipairs(rows) do logits[i] = model(x) end
      local l = loss.cross_entropy(logits, cs)
      l:backward()
      local want = {}
      for i, p in ipairs(params) do want[i] = p.grad; p.grad = seed_grad end
      return l.data, want
    end
    local function same(a, b, what)
      assert(check.bits(a) == check.bits(b), string.format("%s: %.17g vs %.17g", what, a, b))
    end
    -- whole batch, the inputs fed at every call
    local whole = mg.compile(function(...)
      local xs, logits = { ... }, {}
      for i = 1, #X do logits[i] = model({ xs[2 * i - 1], xs[2 * i] }) end
      return loss.cross_entropy(logits, classes)
    end, 2 * #X)
    local flat = {}
    for i, x in ipairs(X) do flat[2 * i - 1], flat[2 * i] = x[1], x[2] end
    local want_loss, want = dynamic(X, classes, 0.25)
    assert.is_true(want_loss > 10 and want_loss < math.huge)
    same(want_loss, whole(flat), "whole batch loss")
    whole:backward()
    for i, p in ipairs(params) do same(want[i], p.grad, "whole batch grad " .. i) end
    -- one graph per class through run_batch: the bits of a dynamic backward per row
    for c = 1, 3 do
      local g = mg.compile(function(x1, x2) return loss.cross_entropy({ model({ x1, x2 }) }, { c }) end, 2)
      local rows = {}
      for i, x in ipairs(X) do
        if classes[i] == c then rows[#rows + 1] = x end
      end
      for _, p in ipairs(params) do p.grad = 0.5 end
      local total = 0
      for _, x in ipairs(rows) do
        local l = loss.cross_entropy({ model(x) }, { c })
        total = total + l.data
        l:backward()
      end
      for i, p in ipairs(params) do want[i] = p.grad; p.grad = 0.5 end
      same(total, g:run_batch(rows), "run_batch loss, class " .. c)
      for i, p in ipairs(params) do same(want[i], p.grad, "run_batch grad " .. i .. ", class " .. c) end
    end
  end)

  it("scales run_batch's gradients and hands back each row's other outputs", function()
    local w = Value(2)
    local g = mg.compile(function(x, y)
      local p = w * x
      return (p - y) ^ 2, p, p * 2
    end, 2)
    local outs = { { 0, 0 } }
    local first = outs[1]
    assert.are.equal(1, g:run_batch({ { 1, 1 }, { 2, 3 } }, { scale = 0.5, outputs = outs }))
    assert.are.equal(3, w.grad) -- 0.5 * (2 * 1 * 1 + 2 * 1 * 2)
    assert.are.same({ { 2, 4 }, { 4, 8 } }, outs)
    assert.are.equal(first, outs[1]) -- refilled, not replaced
    local h = mg.compile(function(x, y)
      local p = w * x
      return (p - y) ^ 2, p
    end, 2)
    w.grad = 0
    assert.are.equal(1, h:run_batch({ { 1, 1 }, { 2, 3 } }, { mean = true, outputs = outs }))
    assert.are.equal(3, w.grad)
    assert.are.same({ 2, 4 }, outs) -- one other output: numbers
    local both = error_of(h.run_batch, h, { { 1, 1 } }, { mean = true, scale = 2 })
    assert.truthy(both:find("cannot both", 1, true))
    assert.truthy(error_of(h.run_batch, h, { { 1, 1 } }, { scale = 0 / 0 }):find("option 'scale'", 1, true))
    assert.truthy(error_of(h.run_batch, h, { { 1, 1 } }, { outputs = 3 }):find("option 'outputs'", 1, true))
  end)

  it("reads run_batch's rows from a Vector, row after row, with the same results", function()
    local w, b = Value(0.5), Value(-1)
    local g = mg.compile(function(x, y) return (w * x + b - y) ^ 2, w * x end, 2)
    local rows, flat = { { 1, 2 }, { 3, -1 }, { -2, 0.5 } }, { 1, 2, 3, -1, -2, 0.5 }
    local out_t, out_v = {}, {}
    local sum_t = g:run_batch(rows, { outputs = out_t })
    local want_w, want_b = w.grad, b.grad
    w.grad, b.grad = 0, 0
    assert.are.equal(sum_t, g:run_batch(mg.vector(flat), { outputs = out_v }))
    assert.are.same({ want_w, want_b }, { w.grad, b.grad })
    assert.are.same(out_t, out_v)
    local v = Value(3) -- a Value in the Vector is read live
    assert.are.equal((0.5 * 3 - 1 - 2) ^ 2, g:run_batch(mg.vector({ v, 2 })))
    v.data = 1
    assert.are.equal((0.5 - 1 - 2) ^ 2, g:run_batch(mg.vector({ v, 2 })))
    local odd = error_of(g.run_batch, g, mg.vector({ 1, 2, 3 }))
    assert.truthy(odd:find("Vector of rows of 2 inputs expected, got 3", 1, true))
    assert.truthy(error_of(g.run_batch, g, 7):find("array of input rows or Vector expected", 1, true))
  end)

  it("takes up to 100000 inputs (the Lua stack grows for them)", function()
    -- (5.1 and LuaJIT give a C function at most 8000 stack slots: there, 7000
    -- inputs, and 100000 are refused as too many for the stack)
    local n = check.has_integers and 100000 or 7000
    local g = mg.compile(function(...) return select("#", ...) * 0 + select(n, ...) * 2 end, n)
    local xs = {}
    for i = 1, n do xs[i] = i end
    assert.are.equal(2 * n, g(xs))
    assert.truthy(error_of(mg.compile, function(x) return x end, 100001):find("at most 100000", 1, true))
    if n < 100000 then
      assert.truthy(error_of(mg.compile, function(x) return x end, 100000):find("too many inputs", 1, true))
    end
  end)

  it("reads captured Values live and credits their grads", function()
    local w = Value(2)
    local g = mg.compile(function(x) return w * x end, 1)
    assert.are.equal(6, g(3))
    w.data = 5
    assert.are.equal(15, g(3))
    g:backward()
    g:backward()
    assert.are.equal(6, w.grad) -- two backward calls add up
  end)

  it("treats numbers and Values made inside fn as constants", function()
    local g = mg.compile(function(x)
      local c = Value(10)
      return x * c + 1
    end, { 2 })
    assert.are.equal(31, g(3))
    g:backward()
    assert.are.same({ 10 }, g:input_grads())
    assert.are.equal(0, g.parameters)
  end)

  it("returns outputs in the shape fn returned them", function()
    local one = mg.compile(function(x) return x + 1 end, 1)
    assert.are.equal(3, one(2))
    assert.are.equal(3, one({ 2 })) -- one array argument works too
    local many = mg.compile(function(x, y) return x + y, x * y, 7 end, 2)
    assert.are.same({ 5, 6, 7 }, { many(2, 3) })
    local array = mg.compile(function(x) return { x, -x } end, 1)
    local r = array(4)
    assert.are.same({ 4, -4 }, r)
    assert.are.equal(r, array(5)) -- the same table, refilled
    assert.are.same({ 5, -5 }, r)
    local forward = many:forward(1, 1)
    assert.are.equal(2, forward)
  end)

  it("allocates nothing per call", function()
    local model = nn.MLP(2, { 16, 16, 1 })
    local g = mg.compile(function(x1, x2) return model({ x1, x2 }) end, 2)
    local h = mg.compile(function(x) return { x, x * 2 } end, 1)
    for _ = 1, 10 do g(0.1, 0.2); g:backward(); h(1) end
    local jit = rawget(_G, "jit") -- LuaJIT's compiler keeps its traces in the counted heap: off meanwhile
    if jit then jit.off() end
    collectgarbage("collect")
    collectgarbage("stop")
    local before = collectgarbage("count")
    for i = 1, 10000 do
      g(i * 1e-4, -i * 1e-4)
      g:backward()
      h(i)
    end
    local after = collectgarbage("count")
    collectgarbage("restart")
    if jit then jit.on() end
    assert.are.equal(before, after)
  end)

  it("counts its nodes and describes itself", function()
    local g = mg.compile(function(x, y) return (x * y + 1):relu() end, 2)
    assert.are.equal(3, g.nodes)
    assert.are.equal(2, g.inputs)
    assert.are.equal(1, g.outputs)
    assert.truthy(tostring(g):find("2 inputs, 1 outputs, 3 nodes", 1, true))
  end)

  it("refuses data-dependent control flow while tracing, and says why", function()
    local zero = check.mixed_compare and 0 or Value(0) -- (5.1 and LuaJIT compare two Values only)
    local err = error_of(mg.compile, function(x) if x > zero then return x end return -x end, 1)
    assert.truthy(err:find("data-dependent control flow cannot be replayed", 1, true))
    -- comparing Values that do not depend on the inputs is fine
    local w = Value(1)
    local g = mg.compile(function(x) if w > zero then return x * w end return x end, 1)
    assert.are.equal(2, g(2))
  end)

  it("refuses no_grad on input-dependent Values while tracing", function()
    local err = error_of(mg.compile, function(x) return mg.no_grad(function() return x * 2 end) end, 1)
    assert.truthy(err:find("no_grad", 1, true))
  end)

  it("refuses outputs that are not Values, numbers or arrays of them", function()
    assert.truthy(error_of(mg.compile, function() return "x" end, 0):find("got string as output 1", 1, true))
    local err = error_of(mg.compile, function(x) return x, {} end, 1)
    assert.truthy(err:find("got table as output 2", 1, true))
    assert.truthy(error_of(mg.compile, function() end, 0):find("returned nothing", 1, true))
    assert.truthy(error_of(mg.compile, function() return {} end, 0):find("empty", 1, true))
  end)

  it("checks its arguments and its calls", function()
    assert.truthy(error_of(mg.compile, 5, 1):find("bad argument #1 to 'compile'", 1, true))
    local one = function() return 1 end
    assert.truthy(error_of(mg.compile, one, -1):find("bad argument #2 to 'compile'", 1, true))
    assert.truthy(error_of(mg.compile, one, { "a" }):find("number expected at index 1", 1, true))
    local g = mg.compile(function(x, y) return x * y end, 2)
    assert.truthy(error_of(g.backward, g):find("forward first", 1, true))
    assert.truthy(error_of(g.input_grads, g):find("backward first", 1, true))
    assert.truthy(error_of(g, 1):find("2 inputs expected, got 1", 1, true))
    assert.truthy(error_of(g, 1, "x"):find("bad argument #3 to 'forward' (number expected", 1, true))
    assert.truthy(error_of(g, { 1 }):find("array of 2 inputs expected", 1, true))
    assert.truthy(error_of(g.run_batch, g, 5):find("bad argument #2 to 'run_batch'", 1, true))
    assert.truthy(error_of(g.run_batch, g, { { 1 } }):find("array of 2 inputs expected", 1, true))
    assert.truthy(error_of(g.forward, 5):find("compiled graph expected", 1, true))
  end)

  it("leaves grad mode and tracing as they were, also after an error", function()
    pcall(mg.compile, function() error("boom") end, 0)
    assert.is_true(mg.grad_enabled())
    local x = Value(1)
    assert.are.equal("+", (x + 1).op)
    assert.is_true(x < (check.mixed_compare and 2 or Value(2))) -- comparisons work again
    -- compiling inside no_grad still records the graph
    local g = mg.no_grad(mg.compile, function(y) return y * 3 end, 1)
    assert.are.equal(6, g(2))
    assert.is_false(mg.grad_enabled() == false)
  end)

  it("cannot be nested", function()
    local err = error_of(mg.compile, function(x) return mg.compile(function(y) return y end, 1) and x end, 1)
    assert.truthy(err:find("cannot compile while tracing", 1, true))
  end)

  it("skips zero gradients only where that changes nothing (0 * inf stays NaN)", function()
    local w = Value(-math.huge)
    local g = mg.compile(function(x) return mg.dot({ w }, { x }):relu() end, 1)
    g(1)
    g:backward()
    local x = Value(1)
    mg.dot({ w }, { x }):relu():backward()
    local got, want = g:input_grads()[1], x.grad
    assert.is_true(want ~= want, "dynamic: 0 * -inf is NaN")
    assert.is_true(got ~= got, "compiled: the NaN must not be skipped")
    -- and an ordinary inactive relu gives the same gradients as the dynamic engine
    local v = Value(2)
    local h = mg.compile(function(y) return mg.dot({ v }, { y }, -10):relu() + y * v end, 1)
    h(3)
    v.grad = 0
    h:backward()
    local compiled = v.grad
    v.grad = 0
    local y = Value(3)
    ;(mg.dot({ v }, { y }, -10):relu() + y * v):backward()
    assert.are.equal(v.grad, compiled)
  end)
end)

