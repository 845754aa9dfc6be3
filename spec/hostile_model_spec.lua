-- Hostile model documents (nn.parse, nn.load): each is refused with a message
-- that names the document, the line or field, and what is wrong, in bounded
-- time and memory. Big and deep documents are made here, not stored.
local nn = require("micrograd.nn")
local check = require("spec.helpers.check")
local bounds = require("spec.helpers.bounds")

local error_of, error_within = check.error_of, bounds.error_within
local rep, format = check.rep, string.format -- (rep with a separator, also on 5.1)

local NAME = "evil.json"
local NEURON = '{"type": "Neuron", "nin": 2, "activation": "relu"}'

--- A document with this model and parameters (JSON texts).
local function doc(model, params)
  return '{"format": "micrograd-model", "version": 1, "model": ' .. model
    .. ', "parameters": ' .. (params or "[]") .. "}"
end

--- Asserts that nn.parse(text, NAME) fails with exactly "evil.json: " .. message.
local function refuses(text, message)
  assert.equal(NAME .. ": " .. message, error_of(nn.parse, text, NAME))
end

--- The same within bounds: seconds of CPU time, KiB allocated.
local function refuses_within(seconds, kib, text, message)
  assert.equal(NAME .. ": " .. message, error_within(seconds, kib, nn.parse, text, NAME))
end

--- n copies of item, comma-separated.
local function list(item, n)
  return rep(item, n, ", ")
end

describe("truncated documents", function()
  local text = nn.dump(nn.MLP(2, { 2, 1 }))

  it("every cut of a saved model is refused with the line and column", function()
    -- the last byte is the newline after the closing brace: cutting it leaves a whole document
    for n = 1, #text - 2 do
      local err = error_of(nn.parse, text:sub(1, n), NAME)
      assert.matches("^evil%.json: not valid JSON: .* at line %d+, column %d+$", err)
    end
  end)

  it("names the construct left open", function()
    refuses(text:sub(1, 1), "not valid JSON: unterminated object at line 1, column 1")
    refuses('{"format": "micrograd-mo', "not valid JSON: unterminated string at line 1, column 12")
    local cut = doc(NEURON, "[0.5, 0.25, 1"):sub(1, -2)
    refuses(cut, format("not valid JSON: unterminated array at line 1, column %d", cut:find("[0.5", 1, true)))
    refuses('{"format": "micrograd-model",\n "version": 1,\n "model": {"type',
      "not valid JSON: unterminated string at line 3, column 12")
  end)

  it("empty and blank documents", function()
    refuses("", "empty document")
    refuses(" \r\n\t", "empty document")
  end)

  it("a whole document followed by more text", function()
    refuses(doc(NEURON, "[1, 2, 3]") .. "\n}", "text after the end of the document at line 2, column 1")
  end)
end)

describe("wrongly typed fields", function()
  it("the top level", function()
    refuses("42", "not a model document (the top level is 42, not an object)")
    refuses("[1, 2]", "not a model document (the top level is an array, not an object)")
    refuses("null", "not a model document (the top level is null, not an object)")
    refuses('"model"', 'not a model document (the top level is "model", not an object)')
  end)

  it("format and version", function()
    refuses('{"version": 1}', "not a model document (no format)")
    refuses('{"format": ["micrograd-model"]}', "not a model document (format is an array)")
    refuses('{"format": "micrograd-model", "version": "1"}',
      'unsupported version "1" (a string) (this library reads version 1)')
    refuses('{"format": "micrograd-model", "version": null}',
      "unsupported version null (this library reads version 1)")
  end)

  it("the model and its type", function()
    refuses(doc('"MLP"'), 'model must be an object, got "MLP"')
    refuses(doc("[1]"), "model must be an object, got an array")
    refuses(doc('{"nin": 2}'), "model.type is missing")
    refuses(doc('{"type": 7}'), "model.type: unknown module type 7")
    refuses(doc('{"type": "Conv2d"}'), 'model.type: unknown module type "Conv2d"')
    refuses(doc('{"type": "Sequential", "modules": [' .. NEURON .. ', 5]}'),
      "model.modules[2] must be an object, got 5")
  end)

  it("sizes, lists and activations", function()
    refuses(doc('{"type": "Neuron", "nin": "2", "activation": "relu"}'),
      'model.nin must be a positive integer, got "2"')
    refuses(doc('{"type": "Linear", "nin": 2, "nout": 1.5}'),
      "model.nout must be a positive integer, got 1.5")
    refuses(doc('{"type": "Linear", "nin": 2}'), "model.nout must be a positive integer, got nothing")
    refuses(doc('{"type": "Linear", "nin": 0, "nout": 1}'), "model.nin is out of range (1 to 16777216): 0")
    refuses(doc('{"type": "MLP", "nin": 2, "nouts": {"1": 4}, "activation": "relu"}'),
      "model.nouts must be a non-empty array, got an object")
    refuses(doc('{"type": "MLP", "nin": 2, "nouts": [], "activation": "relu"}'),
      "model.nouts must be a non-empty array, got an empty array or object")
    refuses(doc('{"type": "MLP", "nin": 2, "nouts": [4, null], "activation": "relu"}'),
      "model.nouts[2] must be a positive integer, got null")
    refuses(doc('{"type": "Sequential", "modules": "ReLU"}'), 'model.modules must be an array, got "ReLU"')
    refuses(doc('{"type": "Neuron", "nin": 2, "activation": "gelu"}'),
      "model.activation must be 'relu', 'tanh', 'sigmoid' or 'linear', got \"gelu\"")
    refuses(doc('{"type": "Sequential", "modules": [{"type": "Layer", "nin": 1, "nout": 1}]}'),
      "model.modules[1].activation must be 'relu', 'tanh', 'sigmoid' or 'linear', got nothing")
  end)

  it("control characters in a name are shown escaped", function()
    refuses(doc('{"type": "Re\\u0000LU\\n"}'), 'model.type: unknown module type "Re\\u0000LU\\u000a"')
  end)
end)

describe("wrong parameter counts", function()
  it("too few, too many, none", function()
    refuses(doc(NEURON, "[0.5, 0.25]"), "the model has 3 parameters, the document 2")
    refuses(doc(NEURON, "[0.5, 0.25, 1, 2]"), "the model has 3 parameters, the document 4")
    refuses(doc(NEURON, "[]"), "the model has 3 parameters, the document 0")
    refuses(doc('{"type": "MLP", "nin": 2, "nouts": [16, 16, 1], "activation": "relu"}', "[1]"),
      "the model has 337 parameters, the document 1")
  end)

  it("parameters that are not an array", function()
    refuses(doc(NEURON, '{"1": 0.5, "2": 0.5, "3": 0.5}'),
      "parameters must be an array of numbers, got an object")
    refuses(doc(NEURON, '"0.5, 0.25, 1"'),
      'parameters must be an array of numbers, got "0.5, 0.25, 1"')
    refuses('{"format": "micrograd-model", "version": 1, "model": ' .. NEURON .. "}",
      "parameters must be an array of numbers, got nothing")
  end)

  it("entries that are not numbers, named by position", function()
    refuses(doc(NEURON, '[0.5, "0.25", 1]'), 'parameter 2 is not a number: "0.25"')
    refuses(doc(NEURON, "[0.5, 0.25, null]"), "parameter 3 is not a number: null")
    refuses(doc(NEURON, "[[0.5], 0.25, 1]"), "parameter 1 is not a number: an array")
    refuses(doc(NEURON, "[true, 0.25, 1]"), "parameter 1 is not a number: true")
  end)
end)

describe("NaN and infinite numbers", function()
  it("parameters that overflow to infinity", function()
    refuses(doc(NEURON, "[1e999, 0.25, 1]"), "parameter 1 is not finite: inf")
    refuses(doc(NEURON, "[0.5, -1e999, 1]"), "parameter 2 is not finite: -inf")
  end)

  it("NaN and Infinity literals, which JSON does not have", function()
    for _, literal in ipairs({ "NaN", "Infinity", "-Infinity", "nan", "inf" }) do
      local text = doc(NEURON, "[0.5, " .. literal .. ", 1]")
      local column = text:find(literal, 1, true)
      refuses(text, format("not valid JSON: no valid JSON value at line 1, column %d", column))
    end
    refuses(doc(NEURON, '[0.5, "NaN", 1]'), 'parameter 2 is not a number: "NaN"')
  end)

  it("sizes that are infinite", function()
    refuses(doc('{"type": "Layer", "nin": 1e999, "nout": 1, "activation": "relu"}'),
      "model.nin is out of range (1 to 16777216): inf")
    refuses(doc('{"type": "Linear", "nin": 2, "nout": -1e999}'),
      "model.nout is out of range (1 to 16777216): -inf")
  end)
end)

describe("enormous sizes", function()
  it("a layer claiming 10^9 neurons fails at once, allocating nothing", function()
    refuses_within(0.1, 64, doc('{"type": "Layer", "nin": 2, "nout": 1000000000, "activation": "relu"}'),
      "model.nout is out of range (1 to 16777216): 1000000000")
    refuses_within(0.1, 64, doc('{"type": "MLP", "nin": 2, "nouts": [1e9, 1], "activation": "relu"}'),
      "model.nouts[1] is out of range (1 to 16777216): " .. tostring(1e9)) -- "1000000000.0" on 5.3/5.4
  end)

  it("sizes allowed one by one whose product is 10^14 parameters, still nothing allocated", function()
    refuses_within(0.1, 64, doc('{"type": "MLP", "nin": 16000000, "nouts": [16000000], "activation": "relu"}',
      "[1]"), "the model has 256000016000000 parameters (at most 16777216)")
  end)

  it("70,000 layers or modules: refused, not built", function()
    -- (the list's length is checked before its entries)
    refuses_within(5, 16 * 1024, doc('{"type": "Sequential", "modules": [' .. list("{}", 70000) .. "]}"),
      "model.modules has 70000 entries (at most 65536)")
    refuses_within(5, 16 * 1024, doc('{"type": "MLP", "nin": 1, "nouts": [' .. list("1", 70000)
      .. '], "activation": "relu"}'), "model.nouts has 70000 entries (at most 65536)")
  end)

  it("200,000 parameters for a model of three", function()
    local text = doc(NEURON, "[" .. list("0", 200000) .. "]")
    -- the decoder holds the numbers for a moment: a few times the text's 600 KB
    refuses_within(5, 8 * 1024, text, "the model has 3 parameters, the document 200000")
  end)

  it("a 50 MB string fails before decoding, allocating nothing", function()
    refuses_within(0.5, 64, '{"format": "' .. rep(rep("a", 1000), 50 * 1000) .. '"}',
      "a string longer than 65536 bytes at line 1, column 12")
    refuses_within(1, 64, doc('{"type": "Neuron", "nin": 2, "activation": "' .. rep("a", 100000) .. '"}'),
      "a string longer than 65536 bytes at line 1, column 97")
  end)

  it("a long string of escapes is cut short too", function()
    refuses_within(1, 64, '{"format": "' .. rep("\\n", 1000 * 1000) .. '"}',
      "a string longer than 65536 bytes at line 1, column 12")
  end)

  it("a long name is shown cut, with its length", function()
    refuses(doc('{"type": "' .. rep("x", 1000) .. '"}'),
      'model.type: unknown module type "' .. rep("x", 40) .. '"... (1000 bytes)')
  end)
end)

describe("deep nesting", function()
  local deep = 100000

  it("10^5 nested arrays or objects fail at level 65, at once", function()
    refuses_within(0.1, 64, rep("[", deep), "nested deeper than 64 levels at line 1, column 65")
    refuses_within(0.1, 64, rep("[", deep) .. rep("]", deep),
      "nested deeper than 64 levels at line 1, column 65")
    refuses_within(0.1, 64, rep('{"a": ', deep) .. "1" .. rep("}", deep),
      "nested deeper than 64 levels at line 1, column 385")
    local text = doc(NEURON, rep("[", deep) .. rep("]", deep))
    refuses_within(0.1, 64, text,
      format("nested deeper than 64 levels at line 1, column %d", text:find("[[", 1, true) + 63))
  end)

  it("brackets inside strings neither hide nor fake nesting", function()
    -- closing brackets in a string must not let deeper nesting through
    local closers = 60000
    local text = '{"a": "' .. rep("]", closers) .. '", "b": ' .. rep("[", closers) .. rep("]", closers) .. "}"
    refuses_within(1, 64, text,
      format("nested deeper than 64 levels at line 1, column %d", text:find("[", 1, true) + 63))
    -- opening brackets in a string are not nesting: the string is only a bad name
    refuses(doc('{"type": "' .. rep("[", 100) .. '"}'),
      'model.type: unknown module type "' .. rep("[", 40) .. '"... (100 bytes)')
    refuses(doc('{"type": "\\"' .. rep("{", 100) .. '"}'),
      'model.type: unknown module type "\\u0022' .. rep("{", 39) .. '"... (101 bytes)')
  end)

  it("comments, which could hide brackets, are refused", function()
    refuses('// "\n' .. rep("[", deep), "not valid JSON: '/' at line 1, column 1 (JSON has no comments)")
    local text = doc(NEURON, "[0.5, /* ] */ 0.25, 1]")
    local column = text:find("/*", 1, true)
    refuses(text, format("not valid JSON: '/' at line 1, column %d (JSON has no comments)", column))
  end)
end)

describe("hostile files on disk", function()
  local path

  after_each(function()
    if path then os.remove(path) end
    path = nil
  end)

  it("name the file in every message", function()
    path = bounds.temp_file(doc(NEURON, "[0.5, 1e999, 1]"))
    assert.equal(path .. ": parameter 2 is not finite: inf", error_of(nn.load, path))
  end)

  it("an empty file, a truncated file, binary junk", function()
    path = bounds.temp_file("")
    assert.equal(path .. ": empty document", error_of(nn.load, path))
    os.remove(path)
    path = bounds.temp_file(nn.dump(nn.Neuron(2)):sub(1, 60))
    local err = error_of(nn.load, path)
    assert.equal(path .. ": not valid JSON: ", err:sub(1, #path + 18))
    assert.matches("unterminated %a+ at line %d+, column %d+$", err)
    os.remove(path)
    path = bounds.temp_file("\0\1\2\255\254")
    assert.equal(path .. ": not valid JSON: no valid JSON value at line 1, column 1", error_of(nn.load, path))
  end)

  it("a missing file and a directory", function()
    local missing = os.tmpname() .. ".missing"
    assert.equal("cannot read model: " .. missing .. ": No such file or directory",
      error_of(nn.load, missing))
    assert.equal("spec/fixtures: cannot read: Is a directory", error_of(nn.load, "spec/fixtures"))
  end)

  it("a 10^5-deep file, quickly", function()
    path = bounds.temp_file(rep("[", 100000))
    assert.equal(path .. ": nested deeper than 64 levels at line 1, column 65",
      error_within(0.2, 1024, nn.load, path))
  end)
end)

describe("the state after hostile documents", function()
  it("nn.parse still reads a good document", function()
    pcall(nn.parse, rep("[", 100000), NAME)
    pcall(nn.parse, doc(NEURON, "[0.5, NaN, 1]"), NAME)
    local m = nn.parse(doc(NEURON, "[0.5, -0.25, 0.125]"), NAME)
    assert.equal(format("%.17g", 0.5 * 2 - 0.25 * 4 + 0.125), format("%.17g", m({ 2, 4 }).data))
  end)
end)

-- Anything nn.save writes, nn.load reads: the writer checks the reader's limits.
describe("writer and reader share their limits", function()
  local function nested(k)
    local m = nn.Linear(1, 1)
    for _ = 1, k do m = nn.Sequential(m) end
    return m
  end

  it("the deepest nesting a document may hold saves and loads; one more is refused at save time", function()
    local deepest = 31 -- (64 - 2) / 2: the document's object, then an object and an array per Sequential
    local text = nn.dump(nested(deepest))
    assert.equal(text, nn.dump(nn.parse(text, NAME)))
    local err = error_of(nn.dump, nested(deepest + 1))
    assert.truthy(err:find("cannot save: the model is nested deeper than a document may be", 1, true), err)
    error_of(nn.dump, nested(40)) -- the issue's case: saved fine, then failed to load
    local path = os.tmpname()
    error_of(nn.save, nested(40), path)
    local f = assert(io.open(path, "rb"))
    assert.equal("", f:read("*a")) -- nothing written
    f:close()
    os.remove(path)
  end)

  it("a Sequential of more modules than a document may list is refused at save time", function()
    -- a stand-in with a real Sequential's spec: building 70,000 modules takes seconds
    local function sequential(n)
      local modules = {}
      for i = 1, n do modules[i] = { type = "ReLU" } end
      return {
        spec = function() return { type = "Sequential", modules = modules } end,
        parameters = function() return {} end,
        state = function() return { parameters = {} } end,
      }
    end
    local err = error_of(nn.dump, sequential(70000))
    assert.truthy(err:find("cannot save: model.modules has 70000 entries (at most 65536)", 1, true), err)
    local real = nn.Sequential(nn.ReLU(), nn.Linear(1, 1))
    assert.equal(nn.dump(real), nn.dump({ spec = function() return real:spec() end,
      parameters = function() return real:parameters() end, state = function() return real:state() end }))
    assert.truthy(nn.dump(sequential(65536)):find('"Sequential"', 1, true))
  end)
end)

describe("negative zero", function()
  it("'-0' written by another tool loads as -0 (bit-exact), strings untouched", function()
    local m = nn.parse(doc(NEURON, "[-0, 0, -0]"), NAME)
    local p = m:parameters()
    assert.equal(-math.huge, 1 / p[1].data)
    assert.equal(math.huge, 1 / p[2].data)
    assert.equal(-math.huge, 1 / p[3].data)
    m = nn.parse(doc(NEURON, "[-0.0,-0e0,\n-0]"), NAME)
    for _, q in ipairs(m:parameters()) do assert.equal(-math.huge, 1 / q.data) end
    -- "-0" inside a string is not a number: the error shows the string as written
    local err = error_of(nn.parse, doc('{"type": "x -0, -0", "nin": 2}', "[1]"), NAME)
    assert.truthy(err:find('"x -0, -0"', 1, true), err)
    -- and what we write reads back with its sign
    assert.equal(-math.huge, 1 / nn.parse(nn.dump(m), NAME):parameters()[1].data)
    -- the other documents (checkpoints) are read the same way
    local decoded = require("micrograd.model_io").decode_json('{"x": [-0, 1, "-0"]}', NAME)
    assert.equal(-math.huge, 1 / decoded.x[1])
    assert.equal("-0", decoded.x[3])
  end)
end)
