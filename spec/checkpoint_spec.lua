-- train.checkpoint / train.restore: stopping at step k and resuming into
-- fresh objects (here, and in a new process) gives the same bits as never
-- stopping; checkpoint files are refused, changing nothing, when they are
-- damaged or hostile.
local mg = require("micrograd")
local check = require("spec.helpers.check")
local bounds = require("spec.helpers.bounds")
local recipes = require("spec.helpers.recipes")

local train, optim, nn = mg.train, mg.optim, mg.nn
local error_of, mentions = check.error_of, check.assert_mentions
local format = string.format

local runner, quote = check.runner, check.shell_quote

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local read = check.read_file

-- The fingerprint of a training that never stops.
local function uninterrupted(name)
  local objs = recipes.build(name, 7)
  objs.trainer:run()
  return recipes.fingerprint(objs)
end

-- Trains recipes.STOP steps and writes a checkpoint to path.
local function first_part(name, path)
  local objs = recipes.build(name, 7)
  objs.trainer:run(recipes.STOP)
  train.checkpoint(path, objs)
  return objs
end

-- Fresh objects (another seed, so other weights), the engine generator moved
-- on, the checkpoint restored, the training run to the end.
local function resumed(name, path)
  local objs = recipes.build(name, 99)
  for _ = 1, 17 do mg.random() end
  assert.equal(recipes.STOP, train.restore(path, objs))
  objs.trainer:run()
  return recipes.fingerprint(objs)
end

local names = {}
for name in pairs(recipes.recipes) do names[#names + 1] = name end
table.sort(names)

describe("resuming from a checkpoint", function()
  for _, name in ipairs(names) do
    it("gives the bits of a run that never stopped: " .. name, function()
      local path = os.tmpname()
      local expected = uninterrupted(name)
      first_part(name, path)
      local got = resumed(name, path)
      os.remove(path)
      assert.equal(expected, got)
    end)
  end

  it("in a new process, too (the runner, every recipe)", function()
    local dir = os.tmpname()
    local script = dir .. ".lua"
    local expected = {}
    for i, name in ipairs(names) do
      expected[i] = uninterrupted(name)
      first_part(name, format("%s.%d", dir, i))
    end
    write(script, [[
      local recipes = require("spec.helpers.recipes")
      local train, mg = require("micrograd.train"), require("micrograd")
      local dir = ...
      for i, name in ipairs({ ]] .. '"' .. table.concat(names, '", "') .. '"' .. [[ }) do
        local objs = recipes.build(name, 12345)
        for _ = 1, 3 do mg.normal() end
        train.restore(dir .. "." .. i, objs)
        objs.trainer:run()
        io.write(recipes.fingerprint(objs), "\n==\n")
      end
    ]])
    local p = assert(io.popen(quote(runner) .. " " .. quote(script) .. " " .. quote(dir) .. " 2>&1"))
    local out = p:read("*a")
    assert.truthy(p:close(), out)
    local got = {}
    for part in out:gmatch("(.-)\n==\n") do got[#got + 1] = part end
    assert.same(expected, got)
    os.remove(script)
    for i = 1, #names do os.remove(format("%s.%d", dir, i)) end
  end)

  it("with fit{checkpoint, checkpoint_every} and fit{resume}", function()
    local path = os.tmpname()
    local function run(steps, opts)
      mg.seed(3)
      local X, y = mg.data.make_moons(30, { seed = 1 })
      local model = nn.MLP(2, { 6, 1 })
      local opt = optim.Adam(model, { lr = 0.03, weight_decay = 0.01 })
      local o = { optimizer = opt, schedule = optim.cosine(opt, { steps = 20 }), steps = steps,
        batch_size = 8,
        progress = false }
      for k, v in pairs(opts or {}) do o[k] = v end
      local history = train.fit(model, X, y, o)
      local ps = {}
      for i, p in ipairs(model:parameters()) do ps[i] = check.bits(p.data) end
      return history, ps
    end
    local full_history, full_params = run(20)
    -- stopped by on_step after step 9; the checkpoint of step 8 is on disk
    run(20, { checkpoint = path, checkpoint_every = 4, on_step = function(k) return k < 9 end })
    mg.seed(1000) -- another generator position: the checkpoint brings its own
    local history, params = run(20, { resume = path })
    assert.same(full_params, params)
    assert.equal(20, #history.loss)
    for k = 1, 20 do assert.equal(check.bits(full_history.loss[k]), check.bits(history.loss[k])) end
    os.remove(path)
    -- resume = true: from the checkpoint file when there is one, else from the start
    local h1, p1 = run(20, { checkpoint = path, resume = true, checkpoint_every = 5,
      on_step = function(k) return k < 7 end })
    assert.equal(7, #h1.loss)
    assert.are_not.same(full_params, p1)
    local h2, p2 = run(20, { checkpoint = path, resume = true })
    assert.same(full_params, p2)
    assert.equal(check.bits(full_history.loss[20]), check.bits(h2.loss[20]))
    os.remove(path)
    mentions(error_of(train.fit, nn.MLP(2, { 1 }), { { 0, 0 } }, { 1 }, { resume = true }),
      "option 'resume' = true needs option 'checkpoint'")
  end)

  it("keeps a diverged training's history (nan written as a string) and its end", function()
    local path = os.tmpname()
    local function diverging()
      mg.seed(1)
      local X, y = {}, {}
      for i = 1, 6 do X[i], y[i] = { i }, 1e100 * i end
      return train.Trainer(nn.MLP(1, { 3, 1 }), X, y, { loss = "mse", steps = 40, lr = 1 })
    end
    local t = diverging()
    t:run()
    local k = t.diverged
    assert.is_true(k ~= nil)
    train.checkpoint(path, { trainer = t })
    local fresh = diverging()
    assert.equal(k, train.restore(path, { trainer = fresh }))
    local x = fresh.history.loss[k]
    assert.is_true(x ~= x or x == math.huge, tostring(x))
    assert.is_true(fresh.done)
    assert.equal("diverged", fresh.stop_reason)
    os.remove(path)
  end)

  it("saves the generator of its own: mg.Generator", function()
    local path = os.tmpname()
    local g = mg.Generator(4)
    g:random()
    train.checkpoint(path, { generator = g })
    local expected = { g:random(), g:normal(), g:uniform(-1, 1) }
    train.restore(path, { generator = g })
    assert.same(expected, { g:random(), g:normal(), g:uniform(-1, 1) })
    os.remove(path)
  end)

  it("writes every number to the bit, in a JSON document", function()
    local path = os.tmpname()
    local objs = first_part("adam_cosine_seeded", path)
    local text = read(path)
    assert.truthy(text:find('"format": "micrograd-checkpoint"', 1, true))
    local state = objs.optimizer:state()
    local doc = require("dkjson").decode(text)
    for i = 1, #state.m do
      assert.equal(check.bits(state.m[i]), check.bits(doc.optimizer.m[i]))
    end
    os.remove(path)
  end)
end)

describe("generator state", function()
  it("mg.get_rng_state / mg.set_rng_state go back to a position", function()
    mg.seed(8)
    local s = mg.get_rng_state()
    assert.equal(64, #s)
    local a = { mg.random(), mg.normal(), mg.random(1, 100) }
    mg.set_rng_state(s)
    assert.same(a, { mg.random(), mg.normal(), mg.random(1, 100) })
    mg.set_rng_state(s:upper())
    assert.equal(a[1], mg.random())
  end)

  it("refuses anything else, changing nothing", function()
    mg.seed(8)
    local s = mg.get_rng_state()
    for _, bad in ipairs({ "", s .. "0", s:sub(2) .. "g", string.rep("0", 64) }) do
      assert.is_false(pcall(mg.set_rng_state, bad))
    end
    assert.equal(s, mg.get_rng_state())
    mentions(error_of(mg.set_rng_state, 42),
      "bad argument #1 to 'set_rng_state' (string expected, got number)")
    mentions(error_of(mg.set_rng_state, string.rep("0", 64)), "the all-zero generator state is not a state")
    local g = mg.Generator(1)
    mentions(error_of(g.set_state, g, "xyz"),
      "bad argument #2 to 'set_state' (generator state of 64 hex digits")
    mentions(error_of(g.get_state, {}), "bad argument #1 to 'get_state' (Generator expected")
  end)
end)

describe("hostile checkpoint files", function()
  local path = os.tmpname()
  local objs = first_part("sgd_momentum_linear", path)
  local good = read(path)

  -- Asserts that restoring text fails mentioning what, and changes nothing.
  local function refuses(text, ...)
    local before = recipes.fingerprint(objs)
    local opt_state = objs.optimizer:state()
    write(path, text)
    local err = bounds.error_within(2, 64 * 1024, train.restore, path, objs)
    mentions(err, path .. ": ", ...)
    assert.equal(before, recipes.fingerprint(objs))
    assert.same(opt_state, objs.optimizer:state())
  end

  it("every cut of a checkpoint is refused", function()
    for n = 1, #good - 2, 97 do refuses(good:sub(1, n), "not valid JSON") end
  end)

  it("wrong documents", function()
    refuses("", "empty document")
    refuses("[1, 2]", "not a checkpoint")
    refuses(good:gsub("micrograd%-checkpoint", "micrograd-model"),
      "not a checkpoint (format is 'micrograd-model')")
    refuses(good:gsub('"version": 1', '"version": 2'), "unsupported checkpoint version 2")
    refuses(good:gsub('"rng": "%x+"', '"rng": "00"'), "field 'rng'")
    refuses(string.rep("[", 100000), "nested deeper than")
    refuses('{"format": "' .. string.rep("a", 1048576) .. '"}', "a string longer than")
  end)

  it("wrong parameters, optimizer, schedule or trainer state", function()
    local doc = require("dkjson").decode(good)
    local encode = require("micrograd.model_io").encode_value
    local function with(change)
      local d = require("dkjson").decode(good)
      change(d)
      return encode(d)
    end
    assert.truthy(doc.parameters)
    refuses(with(function(d) table.remove(d.parameters); table.remove(d.parameters) end),
      "the model has 105 parameters, the checkpoint 103")
    refuses(good:gsub('"parameters": %[[^,]+', '"parameters": ["x"'), "parameter 1 is not a finite number")
    refuses(with(function(d) d.optimizer.kind = "Adam" end), "optimizer: SGD state expected, got kind 'Adam'")
    refuses(with(function(d) d.optimizer.momentum_buffer[2] = "a" end), "optimizer: field 'momentum_buffer'")
    refuses(with(function(d) d.schedule.kind = "cosine" end), "schedule: linear schedule state expected")
    refuses(with(function(d) d.trainer.order[1] = d.trainer.order[2] end),
      "trainer: field 'order': a permutation")
    refuses(with(function(d) d.trainer.size = 41 end), "trainer: state for 40 samples expected, got 41")
    refuses(with(function(d) d.trainer.position = 1e300 end), "trainer: field 'position'")
    refuses(with(function(d) d.trainer.history.loss[2] = {} end), "trainer: field 'history.loss'")
    refuses(with(function(d) d.trainer = nil end), "the checkpoint has no trainer state")
  end)

  it("a missing file, and bad arguments", function()
    mentions(error_of(train.restore, path .. ".missing", objs), "cannot read checkpoint")
    mentions(error_of(train.checkpoint, 42, objs),
      "bad argument #1 to 'checkpoint' (file path (string) expected")
    mentions(error_of(train.checkpoint, path, { modle = 1 }),
      "bad argument #2 to 'checkpoint' (unknown field 'modle')")
    -- errors blame the caller's line
    for _, call in ipairs({
      function() train.checkpoint(path, { modle = 1 }) end,
      function() train.restore(path, { trainer = 42 }) end,
      function() train.restore(path .. ".missing", {}) end,
    }) do
      local _, err = pcall(call)
      assert.truthy(err:find("^[^:]*spec/checkpoint_spec.lua:%d+: "), err)
    end
    mentions(error_of(train.restore, path, { optimizer = 1 }),
      "field 'optimizer': an object with state() and load_state() expected, got number")
    local m = nn.MLP(1, { 1 })
    m:parameters()[1].data = 0 / 0
    mentions(error_of(train.checkpoint, path, { model = m }), "cannot checkpoint: parameter 1 is")
  end)

  os.remove(path)
end)
