-- No program started and no file written behind a sandbox: a host that opened
-- every library for itself and then removed io and os from what scripts see
-- (globals and package.loaded) gets neither through anything reachable from
-- require("micrograd"), even when the script puts tables of its own named io
-- and os in their place. Every path is tried with the modules loaded before
-- the sandbox closed (the worst case: nothing may be cached at load time).
-- tests/host/host_sandbox.c does the same from a C host.
local mg = require("micrograd")
local nn, viz, data = mg.nn, mg.viz, mg.data
local file_lib = require("micrograd._file")
local system = require("micrograd._system")

local real_io, real_os = io, os

--- A fresh directory, and a fake `dot` in it that leaves a file behind when
-- it runs (then prints a tiny SVG, as dot would).
local function setup()
  local dir = real_os.tmpname()
  real_os.remove(dir)
  assert(real_os.execute("mkdir '" .. dir .. "'"))
  local fake = dir .. "/fake-dot"
  local f = assert(real_io.open(fake, "w"))
  f:write("#!/bin/sh\necho ran > '" .. dir .. "/program-ran'\necho '<svg/>'\n")
  f:close()
  assert(real_os.execute("chmod +x '" .. fake .. "'"))
  return dir, fake
end

local function exists(path)
  local f = real_io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- Runs fn with io and os removed from the globals and package.loaded, or
-- replaced by the tables given (a script's forgeries); restores them after.
local function sandboxed(fn, fake_io, fake_os)
  local loaded = package.loaded
  local saved_io, saved_os = loaded.io, loaded.os
  _G.io, _G.os, loaded.io, loaded.os = fake_io, fake_os, fake_io, fake_os
  local ok, err = pcall(fn)
  _G.io, _G.os, loaded.io, loaded.os = real_io, real_os, saved_io, saved_os
  if not ok then error(err, 0) end
end

--- Forgeries: tables with functions of the right names, and the real
-- library tables' other functions (a script may have kept some of them).
local function forged_io()
  local t = {}
  for k, v in pairs(real_io) do t[k] = v end
  t.open = function() return nil, "forged" end
  t.popen = function() return nil, "forged" end
  return t
end

local function forged_os()
  local t = {}
  for k, v in pairs(real_os) do t[k] = v end
  t.execute = function() return true end
  return t
end

describe("the public surface", function()
  it("does not export the operating-system helpers", function()
    -- (reading a name micrograd does not have is an error that suggests one)
    for _, name in ipairs({ "run", "isatty", "clock" }) do
      assert.is_nil(rawget(mg, name))
      local ok, value = pcall(function() return mg[name] end)
      assert.is_true(not ok or value == nil, name)
    end
    assert.is_nil(require("micrograd.core").run)
  end)
end)

describe("behind a sandbox (io and os removed)", function()
  local dir, fake, model, X, y, v
  before_each(function()
    dir, fake = setup()
    mg.seed(1)
    model = nn.MLP(2, { 3, 1 })
    X, y = data.make_moons(8, { seed = 1 })
    v = mg.Value(1, "x") * 2
  end)
  after_each(function()
    real_os.execute("rm -rf '" .. dir .. "'")
  end)

  for _, case in ipairs({
    { "removed", nil, nil },
    { "replaced by the script's own tables", forged_io, forged_os },
  }) do
    local name, make_io, make_os = case[1], case[2], case[3]

    it("starts no program and writes no file: io and os " .. name, function()
      local fio, fos = make_io and make_io(), make_os and make_os()
      local tried = {}
      local function refuses(what, fn, ...)
        local ok, err = pcall(fn, ...)
        tried[#tried + 1] = what
        assert(not ok, what .. " succeeded behind the sandbox")
        return tostring(err)
      end
      sandboxed(function()
        assert.is_false((system.can("run")))
        assert.is_false((system.can("write")))
        local err = refuses("_system.run", system.run, { fake })
        assert.truthy(err:find("cannot start programs", 1, true), err)
        refuses("_system.run of sh", system.run, { "sh", "-c", "echo ran > '" .. dir .. "/program-ran'" })
        err = refuses("_system.write_file", system.write_file, dir .. "/written", "x")
        assert.truthy(err:find("cannot write files", 1, true), err)
        local ok, why = file_lib.write(dir .. "/written", "x")
        assert.is_nil(ok)
        assert.truthy(why:find("cannot write files", 1, true), why)
        err = refuses("viz.render", viz.render, v, dir .. "/g.svg", { program = fake })
        assert.truthy(err:find("viz.render", 1, true) and err:find("io", 1, true), err)
        refuses("viz.render png", viz.render, v, dir .. "/g.png", { program = fake })
        refuses("nn.save", nn.save, model, dir .. "/written")
        refuses("viz.scatter", viz.scatter, X, y, dir .. "/written")
        refuses("viz.loss_curve", viz.loss_curve, { loss = { 1, 0.5 } }, dir .. "/written")
        refuses("viz.decision_boundary", viz.decision_boundary, model, X, y, dir .. "/written",
          { resolution = 4 })
        -- what needs no file still works
        assert.truthy(viz.dot(v):find("digraph", 1, true))
        assert.truthy(nn.dump(model):find("micrograd-model", 1, true))
      end, fio, fos)
      assert.is_false(exists(dir .. "/program-ran"), "a program ran")
      assert.is_false(exists(dir .. "/written"), "a file was written")
      assert.is_false(exists(dir .. "/g.svg"))
      assert.equal(9, #tried)
    end)
  end

  it("still works with io alone (io.popen is the script's own way to start programs)", function()
    local path = dir .. "/g.svg"
    sandboxed(function()
      assert.is_true((system.can("run")))
      assert.is_true((system.can("write")))
      assert.equal(path, viz.render(v, path, { program = fake }))
      nn.save(model, dir .. "/m.json")
    end, real_io, nil)
    assert.is_true(exists(dir .. "/program-ran"))
    assert.is_true(exists(path))
    assert.is_true(exists(dir .. "/m.json"))
  end)

  it("runs a program with os alone, but writes no file without io", function()
    sandboxed(function()
      assert.is_true((system.can("run")))
      assert.is_false((system.can("write")))
      local status = system.run({ fake })
      assert.equal(0, status)
      assert.has_error(function() viz.render(v, dir .. "/g.svg", { program = fake }) end)
    end, nil, real_os)
    assert.is_false(exists(dir .. "/g.svg"))
  end)

  it("checks at call time: giving io back later works", function()
    sandboxed(function()
      assert.has_error(function() nn.save(model, dir .. "/m.json") end)
    end)
    nn.save(model, dir .. "/m.json")
    assert.is_true(exists(dir .. "/m.json"))
  end)
end)
