-- The operating-system helpers of micrograd._system: clock, isatty, run (no
-- shell, a time limit). The engine's module, micrograd.core, has none of them.
local check = require("spec.helpers.check")
local core = require("micrograd.core")
local system = require("micrograd._system")

describe("micrograd.core", function()
  it("has no operating-system helpers (they are micrograd._system's)", function()
    for _, name in ipairs({ "clock", "isatty", "terminal_width", "run", "write_file" }) do
      assert.is_nil(rawget(core, name), name)
    end
  end)
end)

describe("_system.clock", function()
  it("is a monotonic clock in seconds", function()
    local t0 = system.clock()
    local t1 = system.clock()
    assert.is_number(t0)
    assert.is_true(t1 >= t0)
  end)
end)

describe("_system.isatty", function()
  it("answers for io files and refuses anything else", function()
    local f = assert(io.tmpfile())
    assert.is_false(system.isatty(f))
    f:close()
    assert.is_false(system.isatty(f)) -- a closed file is no terminal
    local ok, err = pcall(system.isatty, 1)
    assert.is_false(ok)
    assert.truthy(err:find("bad argument #1 to 'isatty' (file expected, got number)", 1, true))
  end)
end)

describe("_system.run", function()
  it("runs a program with an argument vector and feeds it input", function()
    local status, out, err = system.run({ "cat" }, "hello\n")
    assert.are.equal(0, status)
    assert.are.equal("hello\n", out)
    assert.are.equal("", err)
  end)

  it("never involves a shell: metacharacters are plain arguments", function()
    local status, out = system.run({ "printf", "%s|", "$(echo no)", "; rm -rf /", "*" })
    assert.are.equal(0, status)
    assert.are.equal("$(echo no)|; rm -rf /|*|", out)
  end)

  it("returns the exit status and standard error", function()
    local status, out, err = system.run({ "sh", "-c", "echo oops >&2; exit 3" })
    assert.are.equal(3, status)
    assert.are.equal("", out)
    assert.are.equal("oops\n", err)
  end)

  it("moves large inputs and outputs without deadlock", function()
    local big = string.rep("0123456789", 300000)
    local status, out = system.run({ "cat" }, big)
    assert.are.equal(0, status)
    assert.are.equal(#big, #out)
    status = system.run({ "true" }, big) -- exits without reading: no SIGPIPE for us
    assert.are.equal(0, status)
  end)

  it("reports a program it cannot start #spawn_error", function()
    local status, msg = system.run({ "no-such-program-micrograd" })
    assert.is_nil(status)
    assert.truthy(msg:find("cannot run no-such-program-micrograd", 1, true))
  end)

  it("checks its arguments", function()
    local err = select(2, pcall(system.run, "ls"))
    assert.truthy(err:find("bad argument #1 to 'run' (table expected", 1, true))
    assert.truthy(select(2, pcall(system.run, {})):find("bad argument #1 to 'run'", 1, true))
    assert.truthy(select(2, pcall(system.run, { "ls", 5 })):find("string expected at index 2", 1, true))
  end)

  it("kills a program that runs past its time limit", function()
    local t0 = system.clock()
    local status, msg = system.run({ "sleep", "30" }, "", 0.3)
    local elapsed = system.clock() - t0
    assert.is_false(status)
    assert.truthy(msg:find("sleep did not finish in time and was killed", 1, true), msg)
    assert.is_true(elapsed >= 0.3 and elapsed < 10, "took " .. elapsed .. " s")
    -- one that closed its output and lives on is late too
    t0 = system.clock()
    status = system.run({ "sh", "-c", "exec >&- 2>&-; sleep 30" }, "", 0.3)
    assert.is_false(status)
    assert.is_true(system.clock() - t0 < 10)
    -- in time: as without a limit
    local out
    status, out = system.run({ "cat" }, "hi", 30)
    assert.equal(0, status)
    assert.equal("hi", out)
    for _, bad in ipairs({ 0, -1, 0 / 0, "x" }) do
      local err = select(2, pcall(system.run, { "true" }, "", bad))
      assert.truthy(err:find("bad argument #3 to 'run'", 1, true), err)
    end
  end)

  it("takes its arguments after the capability check, whose metamethods may change them", function()
    -- io missing from the globals (still in package.loaded): looking it up
    -- runs the global table's __index, which edits the argument table
    local argv = { "echo", "kept" }
    local saved_io, saved_mt = _G.io, getmetatable(_G)
    setmetatable(_G, { __index = function(_, k)
      if k == "io" then
        argv[2] = "changed"
        collectgarbage()
      end
    end })
    _G.io = nil
    local ok, status, out = pcall(system.run, argv)
    _G.io = saved_io
    setmetatable(_G, saved_mt)
    assert.is_true(ok, status)
    assert.equal(0, status)
    assert.equal("changed\n", out)
  end)

  it("refuses an argument with a NUL byte (it would be cut)", function()
    local ok, err = pcall(system.run, { "echo", "a\0b" })
    assert.is_false(ok)
    assert.truthy(err:find("NUL byte at index 2", 1, true), err)
  end)

  it("gives the program no descriptor but its standard input, output and error", function()
    -- the pipes are made close-on-exec (pipe2): this program and any other
    -- one started meanwhile (another thread) inherit nothing else
    local status, out = system.run({ "ls", "-l", "/proc/self/fd" })
    assert.equal(0, status)
    local ours, others = {}, {}
    for fd, target in out:gmatch("(%d+) %-> (%S+)") do
      if tonumber(fd) <= 2 then ours[target] = true else others[#others + 1] = target end
    end
    assert.is_not_nil(next(ours))
    for _, target in ipairs(others) do
      assert.is_nil(ours[target], "the program holds another end of its own pipes: " .. target)
    end
  end)
end)

describe("_system.run's pipes", function()
  it("are close-on-exec from the moment they exist: no other thread's program inherits them", function()
    if system.run({ "strace", "-V" }) ~= 0 then
      pending("needs strace (Debian: strace; CI installs it)")
      return
    end
    local trace = os.tmpname()
    local code = string.format("package.path = %q; package.cpath = %q; require('micrograd.core'); "
      .. "assert(require('micrograd._system').run({ 'true' }) == 0)", package.path, package.cpath)
    local status, _, err = system.run({ "strace", "-f", "-e", "trace=pipe,pipe2", "-o", trace,
      check.lua, "-e", code })
    local f = assert(io.open(trace, "rb"))
    local calls = f:read("*a")
    f:close()
    os.remove(trace)
    assert.equal(0, status, err)
    local made = select(2, calls:gsub("pipe2%(%[%d+, %d+%], O_CLOEXEC%)%s*= 0", ""))
    assert.equal(3, made, calls)
    assert.is_nil(calls:find("[^%w]pipe%("), "a pipe made without O_CLOEXEC: " .. calls)
  end)
end)

describe("_system.can", function()
  it("says what the calling script could do itself", function()
    assert.is_true(system.can("run"))
    assert.is_true(system.can("write"))
    assert.truthy(select(2, pcall(system.can, "fly")):find("invalid option 'fly'", 1, true))
  end)
end)
