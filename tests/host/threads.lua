-- What each thread of host_threads.c runs in its own lua_State: run(seed)
-- trains micrograd's moons classifier dynamically, a model through a
-- compiled graph (run_batch and Adam), and a compiled Trainer in time slices,
-- and returns every loss, some parameters and a few draws of the engine's
-- generator as exact bits. The same seed must give the same text whether the
-- state runs alone or beside others.
local M = {}

local format = string.format

local function bits(out, x)
  out[#out + 1] = format("%.17g", x) -- 17 digits tell every double apart (5.1 has no %a)
end

function M.run(seed, steps)
  local mg = require("micrograd")
  local nn, loss, optim, data, train = mg.nn, mg.loss, mg.optim, mg.data, mg.train
  local out = {}

  -- the generator belongs to the state: interleaved draws elsewhere change nothing
  mg.seed(seed)
  for _ = 1, 3 do bits(out, mg.random()) end

  -- micrograd's demo: hinge loss + L2, SGD with a linear schedule, dynamic graph
  local X, y = data.make_moons(40, { noise = 0.1, seed = seed })
  local ys = data.signs(y)
  local model = nn.MLP(2, { 8, 8, 1 })
  local params = model:parameters()
  local opt = optim.SGD(params, { lr = 1.0 })
  local schedule = optim.linear(opt, 1.0, 0.1, steps)
  for _ = 1, steps do
    local scores = {}
    for i, x in ipairs(X) do scores[i] = model(x) end
    local total = loss.svm(scores, ys) + loss.l2(params, 1e-4)
    opt:zero_grad()
    total:backward()
    opt:step()
    schedule:step()
    bits(out, total.data)
  end
  bits(out, params[1].data)
  bits(out, params[#params].data)

  -- a compiled per-sample loss replayed over the batch in C, with Adam
  local net = nn.MLP(2, { 6, 6, 1 }, { activation = "tanh" })
  local g = mg.compile(function(x1, x2, label)
    return (1 - label * net({ x1, x2 })):relu()
  end, 3)
  local rows = {}
  for i, x in ipairs(X) do rows[i] = { x[1], x[2], ys[i] } end
  local adam = optim.Adam(net:parameters(), { lr = 0.05 })
  local mean = { mean = true }
  for _ = 1, steps do
    adam:zero_grad()
    bits(out, g:run_batch(rows, mean))
    adam:step()
  end
  local p = net:parameters()
  bits(out, p[1].data)
  -- the model round-trips through its text
  local copy = nn.parse(nn.dump(net), "net")
  bits(out, copy({ 0.25, -0.5 }).data)

  -- a compiled Trainer working in slices of samples, as a game loop would
  local small = nn.MLP(2, { 4, 1 })
  local t = train.Trainer(small, X, y, { steps = steps, compile = true, l2 = 1e-4 })
  while not t.done do t:run({ samples = 50 }) end
  for _, l in ipairs(t.history.loss) do bits(out, l) end

  return table.concat(out, " ")
end

-- Runs a program that stops reading its input early, n times (how viz.render
-- runs Graphviz): writing the rest raises SIGPIPE, which must neither kill
-- the process nor change how the host handles the signal, even with other
-- threads doing the same.
function M.programs(n)
  require("micrograd.core") -- registers micrograd._system
  local system = require("micrograd._system")
  local input = string.rep("x", 262144)
  for _ = 1, n do
    local status, out = system.run({ "head", "-c", "1" }, input)
    assert(status == 0 and out == "x", "head -c 1: " .. tostring(out))
  end
  return "ok"
end

return M
