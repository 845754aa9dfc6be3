-- Hostile CSV files (data.load_csv, data.parse_csv): each bad row is refused
-- with a message that names the file, the line and the column, and what is
-- wrong, in bounded time and memory. Big inputs are made here, not stored.
local data = require("micrograd.data")
local check = require("spec.helpers.check")
local bounds = require("spec.helpers.bounds")

local error_of, error_within = check.error_of, bounds.error_within
local rep = check.rep -- (string.rep with a separator, also where 5.1 ignores it)

--- Writes text to a file and asserts that load_csv(path, opts) fails with
-- exactly `expected`, in which FILE stands for the file's path.
local function refuses(text, expected, opts)
  local path = bounds.temp_file(text)
  local ok, err = pcall(data.load_csv, path, opts)
  os.remove(path)
  assert.is_false(ok, "load_csv accepted the file")
  assert.equal(expected, (err:gsub(path:gsub("%p", "%%%0"), "FILE", 1)))
end

--- parse_csv(text, {name = "big.csv"}) must fail with exactly `expected`,
-- within seconds of CPU time and kib KiB allocated.
local function refuses_within(seconds, kib, text, expected)
  assert.equal(expected, error_within(seconds, kib, data.parse_csv, text, { name = "big.csv" }))
end

describe("rows with the wrong number of fields", function()
  it("too few or too many, named by line", function()
    refuses("a,b,c\n1,2,3\n4,5\n", "FILE:3: expected 3 fields, got 2")
    refuses("a,b,c\n1,2,3\n4,5,6,7\n", "FILE:3: expected 3 fields, got 4")
    refuses("1,2\n3\n", "FILE:2: expected 2 fields, got 1")
  end)

  it("a trailing separator is one more, empty, field", function()
    refuses("a,b\n1,2,\n", "FILE:2: expected 2 fields, got 3")
  end)

  it("the line counts blank lines and the lines inside quoted fields", function()
    refuses('a,b\n\n"x\ny",1\n\n1\n', "FILE:6: expected 2 fields, got 1")
  end)

  it("a bad row near the top of a million-line file fails at once", function()
    local text = "a,b\n1\n" .. rep("1,2\n", 1000000)
    refuses_within(0.1, 64, text, "big.csv:2: expected 2 fields, got 1")
  end)
end)

describe("fields that are not numbers", function()
  it("named by line, column and header name, the field quoted", function()
    refuses("x,y,label\n1,2,0\n1,abc,1\n", "FILE:3: column 2 ('y'): not a number: 'abc'")
    refuses("1,2,0\n1,2 3,1\n", "FILE:2: column 2: not a number: '2 3'")
    refuses("x,y\n,1\n", "FILE:2: column 1 ('x'): not a number: ''")
    refuses("x,y\n--1,1\n", "FILE:2: column 1 ('x'): not a number: '--1'")
  end)

  it("control characters are shown escaped", function()
    refuses("x,y\n1\0,1\n", "FILE:2: column 1 ('x'): not a number: '1\\0'")
    refuses("x\1,y\nz,1\n", "FILE:2: column 1 ('x\\1'): not a number: 'z'")
  end)

  it("an empty label is named as such", function()
    refuses("x,y\n1,a\n2,\n", "FILE:3: column 2 ('y'): empty label")
  end)
end)

describe("NaN and infinite values", function()
  it("features: nan and inf are not numbers, overflowing numbers are not finite", function()
    refuses("x,y\nNaN,1\n", "FILE:2: column 1 ('x'): not a number: 'NaN'")
    refuses("x,y\n-inf,1\n", "FILE:2: column 1 ('x'): not a number: '-inf'")
    refuses("x,y\n1e999,1\n", "FILE:2: column 1 ('x'): not a finite number: '1e999'")
    refuses("x,y\n-1e400,1\n", "FILE:2: column 1 ('x'): not a finite number: '-1e400'")
  end)

  it("labels: never made into classes named nan or inf", function()
    refuses("x,y\n1,0.5\n2,nan\n", "FILE:3: column 2 ('y'): not a finite number: 'nan'")
    refuses("x,y\n1,cat\n2,Inf\n", "FILE:3: column 2 ('y'): not a finite number: 'Inf'")
    refuses("x,y\n1,-Infinity\n", "FILE:2: column 2 ('y'): not a finite number: '-Infinity'")
    refuses("x,y\n1,1e999\n", "FILE:2: column 2 ('y'): not a finite number: '1e999'")
  end)
end)

describe("empty lines and empty files", function()
  it("blank lines anywhere are skipped, and counted in line numbers", function()
    local X, y = data.parse_csv("\n \nx,y\n\n1,2\n\t\n3,4\n\n")
    assert.same({ { 1 }, { 3 } }, X)
    assert.same({ 2, 4 }, y)
    refuses("\n\nx,y\n\n1,a\n\nz,b\n", "FILE:7: column 1 ('x'): not a number: 'z'")
  end)

  it("nothing, only blank lines, only a header", function()
    refuses("", "FILE: empty document (no rows)")
    refuses("\r\n \n\t\n", "FILE: empty document (no rows)")
    refuses("\239\187\191", "FILE: empty document (no rows)")
    refuses("\nx,y\n\n", "FILE:2: no data rows after the header")
  end)

  it("a row of empty fields", function()
    refuses("x,y\n,\n", "FILE:2: column 1 ('x'): not a number: ''")
  end)
end)

describe("huge lines", function()
  it("a 10 MB field is shown cut, with its length", function()
    local field = rep(rep("x", 1000), 10 * 1000) -- (10 MB, made quickly)
    -- the line and the field are copied once each
    refuses_within(2, 3 * 10 * 1000, "a,b\n" .. field .. ",1\n",
      "big.csv:2: column 1 ('a'): not a number: '" .. rep("x", 40) .. "'... (10000000 bytes)")
  end)

  it("a run of 200,000 blanks inside a field takes linear time", function()
    -- (trimming it with a pattern took minutes)
    local text = "a,b\n1" .. rep(" ", 200000) .. "x,1\n"
    refuses_within(0.5, 2 * 1024, text, "big.csv:2: column 1 ('a'): not a number: '1"
      .. rep(" ", 39) .. "'... (200002 bytes)")
  end)

  it("a line of 200,000 fields after a header of two", function()
    refuses_within(2, 16 * 1024, "a,b\n" .. rep("1", 200000, ","),
      "big.csv:2: expected 2 fields, got 200000")
  end)

  it("100,000 columns that are all right are read", function()
    -- a number and a name ("x123") for each column of 2 bytes
    local X, y = bounds.within(5, 20 * 1024, function()
      return data.parse_csv(rep("1", 100000, ",") .. "\n")
    end)
    assert.equal(99999, #X[1])
    assert.same({ 1 }, y)
  end)
end)

describe("byte order marks and line ends", function()
  it("a UTF-8 BOM before the header is skipped", function()
    local X, y, names = data.parse_csv("\239\187\191x,y\n1,2\n")
    assert.equal("x", names[1])
    assert.same({ { 1 } }, X)
    assert.same({ 2 }, y)
  end)

  it("CRLF, LF and a lone CR all end lines, even mixed", function()
    local texts = { "x,y\r\n1,2\r\n3,4\r\n", "x,y\n1,2\n3,4", "x,y\r1,2\r3,4\r", "x,y\r\n1,2\r3,4\n" }
    for _, text in ipairs(texts) do
      local X, y = data.parse_csv(text)
      assert.same({ { 1 }, { 3 } }, X)
      assert.same({ 2, 4 }, y)
    end
    refuses("x,y\r1,2\r3\r", "FILE:3: expected 2 fields, got 1")
    refuses("x,y\r\n1,2\r\n\r\nz,4\r\n", "FILE:4: column 1 ('x'): not a number: 'z'")
  end)
end)

describe("quoted fields", function()
  it("unterminated: named by the line where the field opens", function()
    refuses('a,b\n1,"2\n3,4\n5,6\n', "FILE:2: column 2: unterminated quoted field")
  end)

  it("an unterminated quote before 100,000 lines: bounded by the text's size", function()
    local text = 'a,b\n1,"' .. rep("2,3\n", 100000)
    refuses_within(2, 8 * 1024, text, "big.csv:2: column 2: unterminated quoted field")
  end)

  it("text after the closing quote", function()
    refuses('a,b\n"1"2,3\n', "FILE:2: column 1: text after the closing quote")
  end)

  it("a quoted number is a number, a quoted quote is not", function()
    local X = data.parse_csv('a,b\n"1.5", "2"\n')
    assert.same({ { 1.5 } }, X)
    refuses('a,b\n"1""",2\n', "FILE:2: column 1 ('a'): not a number: '1\"'")
  end)
end)

describe("unknown label column", function()
  it("by name, by number, and by name without a header", function()
    refuses("a,b\n1,2\n", "FILE:1: unknown label column 'species'", { label = "species" })
    refuses("a,b\n1,2\n", "FILE:1: unknown label column 3 (the rows have 2 columns)", { label = 3 })
    refuses("1,2\n3,4\n", "FILE:1: unknown label column 'a' (the text has no header row)", { label = "a" })
  end)
end)

describe("files that cannot be read", function()
  it("a missing file and a directory", function()
    local missing = os.tmpname() .. ".missing"
    assert.equal("load_csv: cannot open " .. missing .. ": No such file or directory",
      error_of(data.load_csv, missing))
    assert.equal("load_csv: cannot read spec/fixtures: Is a directory",
      error_of(data.load_csv, "spec/fixtures"))
  end)
end)
