-- What host_sandbox.c runs in a state opened with only the base, package,
-- table, string and math libraries (no io, os, debug, utf8, coroutine), after
-- mg_openlibs; or in one opened with every library, io and os then removed
-- from the globals and package.loaded. Every check runs even when an earlier one fails; the script
-- ends with an error listing the failures, or returns a summary. Its argument
-- is a directory the host watches: the paths given to the functions that must
-- refuse to write are in it.
local dir = ...
local results, failed = {}, {}

local function check(name, fn)
  local ok, err = pcall(fn)
  if ok then
    results[#results + 1] = name
  else
    failed[#failed + 1] = name .. ": " .. tostring(err)
  end
end

-- fn must raise an error that names the function and says it needs io.
local function needs_io(fname, fn)
  check(fname .. " says it needs io", function()
    local ok, err = pcall(fn)
    assert(not ok, "no error")
    err = tostring(err)
    assert(err:find(fname, 1, true), "the message does not name " .. fname .. ": " .. err)
    assert(err:find("%f[%w]io%f[%W]"), "the message does not mention io: " .. err)
  end)
end

local function near(a, b, what)
  assert(math.abs(a - b) < 1e-9, string.format("%s: %.17g, want %.17g", what, a, b))
end

check("no io, os", function()
  assert(io == nil and os == nil and package.loaded.io == nil and package.loaded.os == nil,
    "the host gave this state io or os")
end)

local mg
check("require", function()
  mg = require("micrograd")
  for _, name in ipairs({ "nn", "loss", "optim", "data", "train", "viz" }) do
    assert(type(mg[name]) == "table", "mg." .. name)
    assert(require("micrograd." .. name) == mg[name], "require('micrograd." .. name .. "')")
  end
  assert(mg._VERSION:match("^micrograd %d+%.%d+%.%d+"), mg._VERSION)
end)
if not mg then error(table.concat(failed, "\n"), 0) end
local nn, loss, optim, data, train, viz = mg.nn, mg.loss, mg.optim, mg.data, mg.train, mg.viz

check("Value ops and backward", function()
  -- micrograd's README example
  local a, b = mg.Value(-4.0), mg.Value(2.0)
  local c = a + b
  local d = a * b + b ^ 3
  c = c + c + 1
  c = c + 1 + c + (-a)
  d = d + d * 2 + (b + a):relu()
  d = d + 3 * d + (b - a):relu()
  local e = c - d
  local f = e ^ 2
  local g = f / 2.0
  g = g + 10.0 / f
  g:backward()
  near(g.data, 24.704081632653061, "g")
  near(a.grad, 138.83381924198250, "a.grad")
  near(b.grad, 645.57725947521863, "b.grad")
  local v = mg.Value(0.5, "v")
  local w = v:tanh() + v:exp() + v:log() + v:sigmoid() + v:abs() + v:sqrt() + v:softplus()
  w:backward()
  assert(w.op == "+" and v.label == "v" and tostring(v):match("^Value%(data=0.5"))
  assert(mg.sum({ v, 1, 2 }).data == 3.5 and mg.dot({ v, 2 }, { 2, v }, 1).data == 3)
  assert(mg.no_grad(function() return (v * 2).op end) == "")
end)

local X, y, ys
check("data.make_moons, make_blobs, parse_csv, shuffle, batches, split", function()
  X, y = data.make_moons(40, { noise = 0.1, seed = 1337 })
  ys = data.signs(y)
  assert(#X == 40 and #y == 40 and (y[1] == 0 or y[1] == 1))
  local Xb = data.make_blobs(30, { centers = 3, seed = 1 })
  assert(#Xb == 30)
  local Xc, yc, names = data.parse_csv("x1,x2,class\n0.5,1.5,setosa\n2.0,0.1,virginica\n")
  assert(#Xc == 2 and Xc[2][1] == 2.0 and yc[2] == 2 and names[1] == "x1" and names.classes[2] == "virginica")
  local Xs, ysh = { { 1 }, { 2 }, { 3 } }, { 1, 2, 3 }
  data.shuffle(Xs, ysh, 5)
  for i = 1, 3 do assert(Xs[i][1] == ysh[i]) end
  local n = 0
  for bx in data.batches(X, y, 16) do n = n + #bx end
  assert(n == 40)
  local Xtr, _, Xte = data.train_test_split(X, y, { test = 0.25, seed = 2 })
  assert(#Xtr + #Xte == 40)
end)

local model
check("nn, loss, optim: micrograd's training loop", function()
  mg.seed(1337)
  model = nn.MLP(2, { 16, 16, 1 })
  local params = model:parameters()
  assert(#params == 337)
  local opt = optim.SGD(params, { lr = 1.0, momentum = 0.5 })
  local schedule = optim.linear(opt, 1.0, 0.1, 20)
  local first, last
  for step = 1, 20 do
    local scores = {}
    for i, x in ipairs(X) do scores[i] = model(x) end
    local total = loss.svm(scores, ys) + loss.l2(params, 1e-4)
    opt:zero_grad()
    total:backward()
    opt:step()
    schedule:step()
    if step == 1 then first = total.data end
    last = total.data
  end
  assert(last < first, "the loss did not go down")
  local adam = optim.Adam(model, { lr = 0.01 })
  adam:step()
  assert(type(adam:state()) == "table")
  local m2 = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))
  local logits = {}
  for i = 1, 3 do logits[i] = m2(X[i]) end
  local ce = loss.cross_entropy(logits, { 1, 2, 3 }) + loss.mse({ model(X[1]) }, { 1 })
    + loss.bce_logits({ model(X[2]) }, { 1 })
  ce:backward()
end)

check("nn.dump / nn.parse", function()
  local text = nn.dump(model)
  assert(text:match('"format"%s*:%s*"micrograd%-model"'))
  local copy = nn.parse(text, "copy")
  local p, q = model:parameters(), copy:parameters()
  for i = 1, #p do assert(p[i].data == q[i].data, "parameter " .. i) end
  local ok, err = pcall(nn.parse, "{", "broken")
  assert(not ok and tostring(err):find("broken", 1, true), tostring(err))
  local state = model:state()
  copy:load_state(state)
end)

check("compile", function()
  local g = mg.compile(function(x1, x2) return model({ x1, x2 }) end, 2)
  local out = g(0.5, -1.0)
  assert(out == model({ 0.5, -1.0 }).data)
  g:backward()
  assert(#g:input_grads() == 2)
  local rows = {}
  for i, x in ipairs(X) do rows[i] = { x[1], x[2] } end
  assert(type(g:run_batch(rows, { mean = true })) == "number")
  assert(tostring(g):match("^compiled graph"))
end)

check("train.fit (progress = false, and 'auto' which is silent without io), Trainer", function()
  mg.seed(1)
  local m = nn.MLP(2, { 4, 1 })
  local history = train.fit(m, X, y, { steps = 5, progress = false, l2 = 1e-4 })
  assert(#history.loss == 5 and #history.accuracy == 5)
  history = train.fit(m, X, y, { steps = 2 })
  assert(#history.loss == 2)
  local fake = 0
  local t = train.Trainer(m, X, y, { steps = 6, batch_size = 10, clock = function() return fake end })
  t:run({ samples = 20 })
  assert(t.step_count == 2, t.step_count)
  t:run()
  assert(t.done)
end)

check("viz.dot", function()
  local x, w = mg.Value(2, "x"), mg.Value(-3, "w")
  local out = (x * w):tanh()
  out.label = "out"
  out:backward()
  local text = viz.dot(out)
  assert(text:match("^digraph"), text:sub(1, 40))
end)

check("viz.decision_boundary, loss_curve, scatter, ascii_boundary without a path", function()
  local svg = viz.decision_boundary(model, X, y, nil, { resolution = 10 })
  assert(svg:match("<svg"))
  assert(viz.loss_curve({ loss = { 1, 0.5, 0.25 }, accuracy = { 0.5, 0.75, 1 } }):match("<svg"))
  assert(viz.scatter(X, y):match("<svg"))
  assert(#viz.ascii_boundary(model, X, y, { width = 20, height = 8 }) > 0)
end)

-- the functions that need files
needs_io("nn.save", function() nn.save(model, dir .. "/model.json") end)
needs_io("nn.load", function() nn.load(dir .. "/debug.lua") end)
needs_io("load_csv", function() data.load_csv(dir .. "/debug.lua") end)
needs_io("viz.decision_boundary", function() viz.decision_boundary(model, X, y, dir .. "/boundary.svg") end)
needs_io("viz.scatter", function() viz.scatter(X, y, dir .. "/scatter.svg") end)
needs_io("viz.loss_curve", function() viz.loss_curve({ loss = { 1, 0.5 } }, dir .. "/loss.svg") end)
needs_io("viz.render", function() viz.render(mg.Value(1) * 2, dir .. "/render.svg") end)
needs_io("fit", function() train.fit(model, X, y, { steps = 1, progress = true }) end)

-- nothing reaches files or programs behind the host's back
local function refuses(what, fn, ...)
  local ok = pcall(fn, ...)
  assert(not ok, what .. " did not refuse")
end

--- Every way to a program or a file that micrograd has.
local function every_path(where)
  for _, name in ipairs({ "run", "isatty", "clock" }) do
    -- (reading a name micrograd does not have is an error that suggests one)
    local ok, value = pcall(function() return mg[name] end)
    assert(rawget(mg, name) == nil and (not ok or value == nil), "micrograd exports " .. name)
  end
  assert(require("micrograd.core").run == nil, "micrograd.core exports run")
  local system = require("micrograd._system")
  assert(system.can("run") == false and system.can("write") == false, "_system.can says yes " .. where)
  refuses("_system.run(true)", system.run, { "true" })
  refuses("_system.run(sh)", system.run, { "sh", "-c", "echo > '" .. dir .. "/program-ran'" })
  refuses("_system.write_file", system.write_file, dir .. "/written", "x")
  assert(require("micrograd._file").write(dir .. "/written", "x") == nil, "_file.write wrote a file")
  local v = mg.Value(1) * 2
  refuses("viz.render", viz.render, v, dir .. "/render.svg")
  refuses("viz.render(sh)", viz.render, v, dir .. "/render.svg", { program = "sh" })
  refuses("nn.save", nn.save, model, dir .. "/model.json")
  refuses("viz.scatter", viz.scatter, X, y, dir .. "/scatter.svg")
end

check("no program starts and no file is written, through any path", function() every_path("") end)

-- Tables a script makes and names io and os are no capability.
check("a script's own io and os tables do not count", function()
  local fake_io = { open = function() return nil, "fake" end, popen = function() return nil, "fake" end }
  local fake_os = { execute = function() return true end, rename = function() return true end }
  _G.io, _G.os, package.loaded.io, package.loaded.os = fake_io, fake_os, fake_io, fake_os
  local ok, err = pcall(every_path, "with forged io and os")
  _G.io, _G.os, package.loaded.io, package.loaded.os = nil, nil, nil, nil
  assert(ok, err)
end)

if #failed > 0 then
  local n = #failed + #results
  error(#failed .. " of " .. n .. " sandbox checks failed:\n  " .. table.concat(failed, "\n  "), 0)
end
return #results .. " sandbox checks passed"
