-- Files micrograd writes (micrograd._file): atomic replacement, so that a
-- killed writer or a full disk leaves the old file whole; every error
-- reported; non-regular targets written in place; symlinks followed; no NUL
-- byte in a path. Writers are killed for real (a child process over its file
-- size limit gets SIGXFSZ mid-save), disks are filled for real (a 64 KiB
-- tmpfs in a private mount namespace, a full device made with mknod).
local mg = require("micrograd")
local nn, viz, data = mg.nn, mg.viz, mg.data
local file = require("micrograd._file")
local system = require("micrograd._system")
local check = require("spec.helpers.check")

local error_of, assert_mentions = check.error_of, check.assert_mentions
local format = string.format

local function sh(command)
  local status, out, err = system.run({ "sh", "-c", command })
  assert(status == 0, command .. ": " .. tostring(out) .. tostring(err))
  return out
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function write_plain(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function listing(dir)
  return sh("ls -A '" .. dir .. "'")
end

local function small_model(seed)
  mg.seed(seed)
  return nn.MLP(2, { 2, 1 })
end

--- Runs code in a new interpreter (check.lua) with this state's module paths, under sh
-- settings (`ulimit -f`, `trap`...) given as prefix; returns run's results.
local function child(prefix, code)
  local setup = format("package.path = %q; package.cpath = %q; ", package.path, package.cpath)
  local script = "ulimit -c 0; " .. prefix .. ' exec "$0" "$@"'
  return system.run({ "sh", "-c", script, check.lua, "-e", setup .. code })
end

-- The child's job: save a model of about 500 KB over path (a file size limit
-- of 64 blocks stops it at 32 or 64 KiB).
local BIG_SAVE = [[
  local mg = require("micrograd")
  mg.seed(7)
  local ok, err = pcall(mg.nn.save, mg.nn.MLP(2, { 150, 150, 1 }), PATH)
  io.write(tostring(ok), "|", tostring(err))
]]

local dir
before_each(function()
  dir = os.tmpname()
  os.remove(dir)
  sh("mkdir '" .. dir .. "'")
end)
after_each(function()
  sh("rm -rf '" .. dir .. "'")
end)

describe("atomic files", function()
  it("replace the old file, keep its permissions and leave no temporary file", function()
    local path = dir .. "/model.json"
    nn.save(small_model(1), path)
    sh("chmod 640 '" .. path .. "'")
    local m2 = small_model(2)
    nn.save(m2, path)
    assert.equal(nn.dump(m2), read_all(path))
    assert.equal("640", sh("stat -c %a '" .. path .. "'"):match("%d+"))
    assert.equal("model.json\n", listing(dir))
    -- new files get the umask's permissions, as io.open's
    local csv = dir .. "/pic.svg"
    viz.scatter({ { 0, 0 }, { 1, 1 } }, { 0, 1 }, csv)
    assert.equal(sh("umask -S; touch '" .. dir .. "/t'; stat -c %a '" .. dir .. "/t'"):match("(%d+)%s*$"),
      sh("stat -c %a '" .. csv .. "'"):match("%d+"))
  end)

  it("survive a writer killed mid-save: the old model stays whole", function()
    local path = dir .. "/model.json"
    local old = small_model(1)
    nn.save(old, path)
    local before = read_all(path)
    local status = child("ulimit -f 64;", "PATH = " .. format("%q", path) .. BIG_SAVE)
    assert.equal(128 + 25, status, "the writer was not killed by SIGXFSZ") -- killed mid-save
    assert.equal(before, read_all(path))
    local back = nn.load(path)
    for i, p in ipairs(back:parameters()) do assert.equal(old:parameters()[i].data, p.data) end
  end)

  it("are always whole for a reader beside a saving loop", function()
    local path = dir .. "/model.json"
    nn.save(small_model(1), path)
    -- the child saves a 1,200-parameter model over and over while this one loads it
    local reader_done = dir .. "/done"
    local code = format([[
      local mg = require("micrograd")
      local clock = require("micrograd._system").clock
      mg.seed(9)
      local m, t0, n = mg.nn.MLP(2, { 32, 32, 1 }), clock(), 0
      repeat
        mg.nn.save(m, %q)
        n = n + 1
      until clock() - t0 > 120 or io.open(%q)
      io.write(n)
    ]], path, reader_done)
    local script = dir .. "/saver.lua"
    local paths = format("package.path = %q; package.cpath = %q; ", package.path, package.cpath)
    write_plain(script, paths .. code)
    local saver = assert(io.popen("exec " .. check.lua .. " '" .. script .. "'"))
    local loads, failures = 0, {}
    local clock = require("micrograd._system").clock
    local t0 = clock()
    while clock() - t0 < 1 or loads < 3 do
      local ok, err = pcall(nn.load, path)
      loads = loads + 1
      if not ok then failures[#failures + 1] = err end
    end
    write_plain(reader_done, "")
    local saves = tonumber(saver:read("*a"))
    saver:close()
    assert.is_true(saves and saves >= 3, "the saver did not run: " .. tostring(saves))
    assert.is_true(loads >= 3)
    assert.equal(0, #failures,
      format("%d of %d loads failed, e.g. %s", #failures, loads, tostring(failures[1])))
  end)

  it("report a write error (file too large) and keep the old file", function()
    local path = dir .. "/model.json"
    nn.save(small_model(1), path)
    local before = read_all(path)
    -- SIGXFSZ ignored: writes past the limit fail with EFBIG instead
    local status, out = child("ulimit -f 64; trap '' XFSZ;", "PATH = " .. format("%q", path) .. BIG_SAVE)
    assert.equal(0, status)
    assert.truthy(out:find("^false|"), out)
    assert_mentions(out, "cannot save model: " .. path .. ": File too large")
    assert.equal(before, read_all(path))
    assert.equal("model.json\n", listing(dir)) -- the temporary file is gone
  end)

  it("report a full disk and keep the old file (a 64 KiB tmpfs)", function()
    local mnt = dir .. "/mnt"
    sh("mkdir '" .. mnt .. "'")
    local probe = system.run({ "unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs \"$0\"", mnt })
    if probe ~= 0 then
      pending("needs root and unshare -m to mount a tmpfs (CI runs as root)")
      return
    end
    local path = mnt .. "/model.json"
    local code = format([[
      local mg = require("micrograd")
      mg.nn.save(mg.nn.MLP(2, { 2, 1 }), %q)
      local before = io.open(%q, "rb"):read("*a")
      PATH = %q
    ]], path, path, path) .. BIG_SAVE .. format([[
      local after = io.open(%q, "rb"):read("*a")
      io.write("|", tostring(after == before), "|", tostring(#after))
      local ls = io.popen("ls -A %s")
      io.write("|", (ls:read("*a"):gsub("\n", " ")))
    ]], path, mnt)
    local setup = format("package.path = %q; package.cpath = %q; ", package.path, package.cpath)
    local status, out, err = system.run({ "unshare", "-m", "sh", "-c",
      'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$2" -e "$1"', mnt, setup .. code, check.lua })
    assert.equal(0, status, err)
    assert.truthy(out:find("^false|"), out)
    assert_mentions(out, "No space left on device", "|true|", "|model.json ")
  end)

  it("report a full device written in place, and leave the device node alone", function()
    local full = dir .. "/full"
    if system.run({ "mknod", full, "c", "1", "7" }) ~= 0 then
      pending("needs root to make a device node")
      return
    end
    local msg = error_of(nn.save, small_model(1), full)
    assert_mentions(msg, "cannot save model: " .. full .. ": No space left on device")
    msg = error_of(viz.scatter, { { 0, 0 } }, { 1 }, full)
    assert_mentions(msg, "viz.scatter cannot write " .. full .. ": No space left on device")
    assert.equal("character special file", sh("stat -c %F '" .. full .. "'"):match("[^\n]+"))
    assert.equal("full\n", listing(dir))
  end)

  it("write a FIFO in place", function()
    local fifo = dir .. "/fifo"
    sh("mkfifo '" .. fifo .. "'")
    local reader = assert(io.popen("cat '" .. fifo .. "'"))
    local m = small_model(3)
    nn.save(m, fifo)
    assert.equal(nn.dump(m), reader:read("*a"))
    reader:close()
    assert.equal("fifo", sh("stat -c %F '" .. fifo .. "'"):match("[^\n]+"))
  end)

  it("write /dev/stdout in place", function()
    local status, out = child("", [[
      local mg = require("micrograd")
      mg.seed(3)
      mg.nn.save(mg.nn.MLP(2, { 2, 1 }), "/dev/stdout")
    ]])
    assert.equal(0, status)
    assert.equal(nn.dump(small_model(3)), out)
    -- stdout redirected to a file: that file, not a new one in /dev
    local path = dir .. "/out.json"
    status = child("exec >'" .. path .. "';", [[
      local mg = require("micrograd")
      mg.seed(3)
      mg.nn.save(mg.nn.MLP(2, { 2, 1 }), "/dev/stdout")
    ]])
    assert.equal(0, status)
    assert.equal(nn.dump(small_model(3)), read_all(path))
  end)

  it("follow a symlink: the file it points to is replaced", function()
    local target, link = dir .. "/target.json", dir .. "/link.json"
    nn.save(small_model(1), target)
    sh("ln -s target.json '" .. link .. "'")
    local m = small_model(2)
    nn.save(m, link)
    assert.equal("target.json", sh("readlink '" .. link .. "'"):match("[^\n]+"))
    assert.equal(nn.dump(m), read_all(target))
    -- a dangling one: its target is made
    sh("ln -s made.json '" .. dir .. "/dangling'")
    nn.save(m, dir .. "/dangling")
    assert.equal(nn.dump(m), read_all(dir .. "/made.json"))
  end)

  it("refuse a directory and a missing directory", function()
    assert_mentions(error_of(nn.save, small_model(1), dir), "Is a directory")
    assert_mentions(error_of(nn.save, small_model(1), dir .. "/no/such.json"),
      dir .. "/no/such.json: No such file or directory")
    assert_mentions(error_of(viz.loss_curve, { loss = { 1 } }, dir .. "/no/l.svg"),
      "viz.loss_curve cannot write " .. dir .. "/no/l.svg: No such file or directory")
  end)

  it("refuse a path with a NUL byte instead of cutting it", function()
    local cut = dir .. "/a"
    local path = cut .. "\0.json"
    assert_mentions(error_of(nn.save, small_model(1), path), "path with a NUL byte")
    assert_mentions(error_of(viz.scatter, { { 0, 0 } }, { 1 }, path), "path with a NUL byte")
    write_plain(cut, "x,y\n1,2\n")
    assert_mentions(error_of(nn.load, path), "path with a NUL byte")
    assert_mentions(error_of(data.load_csv, path), "path with a NUL byte")
    assert.equal("a\n", listing(dir))
    local ok, err = file.write(path, "x")
    assert.is_nil(ok)
    assert_mentions(err, "path with a NUL byte")
    assert_mentions(error_of(system.write_file, path, "x"), "path with a NUL byte")
  end)
end)
