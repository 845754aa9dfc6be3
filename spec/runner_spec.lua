-- build/micrograd runs scripts like lua5.4 does, with the engine built in.
-- ctest sets MICROGRAD_RUNNER to the runner's path.
local check = require("spec.helpers.check")
local runner = os.getenv("MICROGRAD_RUNNER") or "build/micrograd"

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Runs the runner with a shell command line; returns stdout, exit success.
local function run(args, stdin)
  local cmd = quote(runner) .. " " .. args .. " 2>&1"
  if stdin then
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(stdin)
    f:close()
    cmd = cmd .. " < " .. quote(path)
  end
  return check.popen(cmd)
end

local function script(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

describe("build/micrograd", function()
  it("runs a script with its arguments in arg and ...", function()
    local path = script([[
      local mg = require("micrograd")
      print(arg[0] ~= nil, arg[1], arg[2], select("#", ...), ...)
      print(mg.Value(2) * 3)
    ]])
    local out, ok = run(quote(path) .. " one two")
    assert.is_true(ok)
    assert.are.equal("true\tone\ttwo\t2\tone\ttwo\nValue(data=6.0, grad=0.0)\n", out)
    os.remove(path)
  end)

  it("puts the script name in arg[0] and the interpreter before it", function()
    local path = script("print(arg[0] == ..., arg[-1] ~= nil)")
    local out = run(quote(path) .. " " .. quote(path))
    assert.are.equal("true\ttrue\n", out)
    os.remove(path)
  end)

  it("reads the script from stdin with -", function()
    local out, ok = run("- x", "print(require('micrograd')._VERSION, ...)")
    assert.is_true(ok)
    assert.are.equal("micrograd 0.1.0\tx\n", out)
  end)

  it("reads stdin when given no script and stdin is not a terminal", function()
    local out, ok = run("", "print(1 + 1)")
    assert.is_true(ok)
    assert.are.equal("2\n", out)
  end)

  it("runs -e code in order, before the script", function()
    local path = script("print(X)")
    local out, ok = run("-e 'X = 41' -e 'X = X + 1' " .. quote(path))
    assert.is_true(ok)
    assert.are.equal("42\n", out)
    os.remove(path)
  end)

  it("loads every module without any path set", function()
    local code = "print(package.preload['micrograd'] ~= nil, require('micrograd.core') ~= nil)"
    local out, ok = run("-e " .. quote(code))
    assert.is_true(ok)
    assert.are.equal("true\ttrue\n", out)
  end)

  it("requires a module into a global with -l", function()
    local out, ok = run("-l micrograd -e 'print(micrograd.is_value(micrograd.Value(1)))'")
    assert.is_true(ok)
    assert.are.equal("true\n", out)
  end)

  it("prints its version with -v", function()
    local out, ok = run("-v")
    assert.is_true(ok)
    -- the Lua it was built for, the one running these specs ("Lua 5.1.4" for LuaJIT)
    assert.truthy(out:match("^micrograd 0%.1%.0 %(" .. _VERSION:gsub("%.", "%%.")), out)
  end)

  it("reports an error with a traceback and exits with failure", function()
    local out, ok = run("-e 'error(\"boom\")'")
    assert.is_falsy(ok)
    assert.truthy(out:match("micrograd: %(command line%):1: boom"))
    assert.truthy(out:match("stack traceback"))
  end)

  it("reports a missing script and a syntax error", function()
    local out, ok = run("/nonexistent/script.lua")
    assert.is_falsy(ok)
    assert.truthy(out:match("cannot open /nonexistent/script.lua"))
    out, ok = run("-", "x = = 1")
    assert.is_falsy(ok)
    assert.truthy(out:match("syntax error") or out:match("unexpected symbol"))
  end)

  it("rejects an unknown option and a missing option argument", function()
    local out, ok = run("-x")
    assert.is_falsy(ok)
    assert.truthy(out:match("unrecognized option '%-x'"))
    out, ok = run("-e")
    assert.is_falsy(ok)
    assert.truthy(out:match("'%-e' needs an argument"))
  end)

  it("treats a script after -- as a file even when it is named -", function()
    local out, ok = run("-- -")
    assert.is_falsy(ok)
    assert.truthy(out:match("cannot open %-"))
  end)
end)
