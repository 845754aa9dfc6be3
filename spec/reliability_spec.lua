-- scripts/reliability.lua: the records of a CI run, and the README's
-- reliability table made from the committed ones (docs/reliability.txt).
local check = require("spec.helpers.check")
local rel = dofile("scripts/reliability.lua")

local read = check.read_file

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local LOG = [[
Start testing: Dec 02 04:31 UTC
----------------------------------------------------------
1/3 Testing: c_engine
1/3 Test: c_engine
Output:
----------------------------------------------------------
all engine tests passed
<end of output>
Test Passed.
----------------------------------------------------------

2/3 Testing: hostile_csv_spec
2/3 Test: hostile_csv_spec
Output:
----------------------------------------------------------
20 successes / 1 failures / 2 errors / 1 pending : 0.2 seconds
<end of output>
Test Failed.

3/3 Testing: example_readme
Output:
Test Passed.
<end of output>
Test Pass Reason:
Required regular expression found.

4/4 Testing: example_xor
Output:
Test Passed.
<end of output>
Test Fail Reason:
Required regular expression not found.
]]

describe("scripts/reliability.lua", function()
  it("reads a ctest log: each test, whether it passed, and a spec's count of it blocks", function()
    assert.same({
      { name = "c_engine", passed = true },
      { name = "hostile_csv_spec", passed = false, it = 24 },
      { name = "example_readme", passed = true },
      { name = "example_xor", passed = false },
    }, rel.parse_ctest_log(LOG))
  end)

  it("collects a run's records from what CI leaves behind (tests by name), skipping missing files", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(check.execute("mkdir -p '" .. dir .. "/b/Testing/Temporary'"))
    write(dir .. "/b/Testing/Temporary/LastTest.log", LOG)
    write(dir .. "/steps", "step: make test ok 95s\nnoise\nstep: luacheck ok 3s\n")
    write(dir .. "/fuzz", "fuzz: parse execs=10 seconds=5 crashes=0\nfuzz: core execs=7 seconds=5 crashes=0\n"
      .. "fuzz: parse execs=1234567 seconds=60 crashes=0\n")
    local records = rel.collect({
      build = dir .. "/b", ran = { { "valgrind", dir .. "/b" }, { "asan", dir .. "/x" } },
      steps = dir .. "/steps", fuzz = dir .. "/fuzz", run = "a test run",
    })
    os.execute("rm -r '" .. dir .. "'")
    local lines = {}
    for line in records:gmatch("[^\n]+") do
      if not line:match("^#") then lines[#lines + 1] = line end
    end
    assert.same({
      "run: a test run",
      "test: c_engine passed",
      "test: example_readme passed",
      "test: example_xor failed",
      "test: hostile_csv_spec failed 24 it",
      "ran: valgrind 4 tests 2 passed",
      "step: make test ok 95s",
      "step: luacheck ok 3s",
      "fuzz: parse execs=1234567 seconds=60 crashes=0",
      "fuzz: core execs=7 seconds=5 crashes=0",
    }, { check.unpack(lines, 1, 10) })
    -- then the describe blocks of the hostile-input specs
    assert.equal("hostile: model truncated documents", lines[11])
    for i = 11, #lines do assert.matches("^hostile: %a+ ", lines[i]) end
  end)

  it("makes a table that says what ran, and 'not run' for what has no records", function()
    local text = rel.table(table.concat({
      "run: a test run",
      "test: c_engine passed",
      "test: data_spec passed 107 it",
      "test: hostile_csv_spec passed 24 it",
      "step: make test ok 95s",
      "step: Valgrind (memcheck): every ctest test ok 900s",
      "step: luacheck ok 3s",
      "step: clang-tidy (static analyzer) and cppcheck ok 40s",
      "fuzz: parse execs=1234567 seconds=60 crashes=0",
      "hostile: csv huge lines",
      "hostile: csv quoted fields",
    }, "\n"))
    assert.matches("^Last run: a test run%.\n", text)
    local function has(row)
      assert(text:find(row, 1, true), "no row " .. row .. " in\n" .. text)
    end
    has("| busted specs | 2 spec files, 131 `it` blocks, one ctest each | all 2 passed |")
    has("| Hostile CSV files | `spec/hostile_csv_spec.lua`, 24 `it`: huge lines; quoted fields | passed |")
    has("| Hostile model files | `spec/hostile_model_spec.lua`: none | not run |")
    has("`parse` 1,234,567 runs in 60 s | 0 crashes |")
    has("no leak, no invalid access | ok, 900 s |")
    has("| ThreadSanitizer | `host_threads`: lua_States in two threads | not run |")
    has("| Other CI steps | luacheck, clang-tidy | ok, 43 s |")
  end)

  it("has a row for the other Luas: make test on each, ASan and Valgrind on LuaJIT", function()
    local function lua_row(records)
      local text = rel.table(table.concat(records, "\n"))
      return text:match("\n(| Lua 5%.3, 5%.1, LuaJIT |[^\n]*)")
    end
    local head = "| Lua 5.3, 5.1, LuaJIT | every ctest test on each (`make test MG_LUA=...`): "
    assert.equal(head .. "5.3 not run, 5.1 not run, LuaJIT not run; ASan + UBSan on LuaJIT: not run; "
      .. "Valgrind on LuaJIT: not run | not run |",
      lua_row({ "run: a test run", "step: make test ok 95s" }))
    assert.equal(head .. "5.3 70 of 70 passed, 5.1 not run, LuaJIT 71 of 71 passed; "
      .. "ASan + UBSan on LuaJIT: 71 tests; Valgrind on LuaJIT: not run | ok, 3 steps, 260 s |",
      lua_row({ "run: a test run", "ran: lua5.3 70 tests 70 passed", "ran: luajit 71 tests 71 passed",
        "ran: asan-luajit 71 tests 71 passed", "step: make test (Lua 5.4) ok 41s",
        "step: make test MG_LUA=5.3 ok 80s", "step: make test MG_LUA=luajit ok 80s",
        "step: AddressSanitizer + UndefinedBehaviorSanitizer: C tests and specs ok 93s",
        "step: AddressSanitizer + UndefinedBehaviorSanitizer on LuaJIT: C tests and specs ok 100s" }))
  end)

  it("rewrites only the README's region between the markers", function()
    local readme = "# x\n\n" .. rel.BEGIN .. "\nold\n" .. rel.END .. "\n\nmore\n"
    assert.equal("# x\n\n" .. rel.BEGIN .. "\nnew\n" .. rel.END .. "\n\nmore\n",
      rel.replace_region(readme, "new\n"))
    assert.is_nil(rel.replace_region("# no markers\n", "new\n"))
  end)
end)

describe("the README's reliability table", function()
  local readme = read("README.md")

  it("is the one docs/reliability.txt makes (lua5.4 scripts/reliability.lua --update README.md)", function()
    local region = readme:match(rel.BEGIN:gsub("%p", "%%%0") .. "\n(.-)" .. rel.END:gsub("%p", "%%%0"))
    assert.truthy(region, "README.md has no reliability region")
    assert.equal(rel.table(read(rel.RECORDS)), region)
  end)

  it("is a well-formed table with three cells a row", function()
    local region = readme:match(rel.BEGIN:gsub("%p", "%%%0") .. "\n(.-)" .. rel.END:gsub("%p", "%%%0"))
    local rows = 0
    for line in region:gmatch("[^\n]+") do
      if line:match("^|") then
        rows = rows + 1
        local cells = select(2, line:gsub("\\|", ""):gsub("|", "|")) - 1
        assert.equal(3, cells, "row with " .. cells .. " cells: " .. line)
      end
    end
    assert.is_true(rows >= 10, "only " .. rows .. " rows")
  end)
end)
