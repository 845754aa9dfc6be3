-- A misspelt name in a public module is an error suggesting the right one.
local mg = require("micrograd")
local names = require("micrograd._names")

--- The error of t[name], raised at this file's line.
local function missing(t, name)
  local ok, err = pcall(function()
    local v = t[name] -- not a tail call: the error must point here
    return v
  end)
  assert.is_false(ok, "no error for " .. tostring(name))
  assert.matches("^[^:]*names_spec%.lua:%d+: ", err)
  return (err:gsub("^[^:]*:%d+: ", ""))
end

describe("misspelt names", function()
  it("suggest the closest name in every public module", function()
    local cases = {
      { mg.nn, "MPL", "micrograd.nn has no 'MPL' (did you mean 'MLP'?)" },
      { mg.nn, "mlp", "micrograd.nn has no 'mlp' (did you mean 'MLP'?)" },
      { mg.nn, "Droput", "micrograd.nn has no 'Droput' (did you mean 'Dropout'?)" },
      { mg, "Valeu", "micrograd has no 'Valeu' (did you mean 'Value'?)" },
      { mg, "nnn", "micrograd has no 'nnn' (did you mean 'nn'?)" },
      { mg, "MLP", "micrograd has no 'MLP' (did you mean 'nn.MLP'?)" },
      { mg.loss, "crossentropy", "micrograd.loss has no 'crossentropy' (did you mean 'cross_entropy'?)" },
      { mg.optim, "SDG", "micrograd.optim has no 'SDG' (did you mean 'SGD'?)" },
      { mg.optim, "adam", "micrograd.optim has no 'adam' (did you mean 'Adam'?)" },
      { mg.data, "make_moon", "micrograd.data has no 'make_moon' (did you mean 'make_moons'?)" },
      { mg.train, "fitt", "micrograd.train has no 'fitt' (did you mean 'fit'?)" },
      { mg.viz, "scater", "micrograd.viz has no 'scater' (did you mean 'scatter'?)" },
      { require("micrograd.gradcheck"), "chek", "micrograd.gradcheck has no 'chek' (did you mean 'check'?)" },
      { require("micrograd.viz_graph"), "dott", "micrograd.viz_graph has no 'dott' (did you mean 'dot'?)" },
      { require("micrograd.viz_plot"), "scatte",
        "micrograd.viz_plot has no 'scatte' (did you mean 'scatter'?)" },
      { require("micrograd.model_io"), "encod",
        "micrograd.model_io has no 'encod' (did you mean 'encode'?)" },
      { require("micrograd.train_checkpoint"), "wirte",
        "micrograd.train_checkpoint has no 'wirte' (did you mean 'write'?)" },
      { mg.train, "checkpont", "micrograd.train has no 'checkpont' (did you mean 'checkpoint'?)" },
      { mg.train, "restor", "micrograd.train has no 'restor' (did you mean 'restore'?)" },
    }
    for _, case in ipairs(cases) do
      assert.equal(case[3], missing(case[1], case[2]))
    end
  end)

  it("give no suggestion when nothing is close", function()
    assert.equal("micrograd.nn has no 'Transformer'", missing(mg.nn, "Transformer"))
    assert.equal("micrograd has no 'xyz'", missing(mg, "xyz"))
    assert.equal("micrograd.optim has no 1", missing(mg.optim, 1))
    local train_compiled = require("micrograd.train_compiled")
    assert.equal("micrograd.train_compiled has no 'zzz'", missing(train_compiled, "zzz"))
  end)

  it("leave the real names, rawget and pairs alone", function()
    assert.equal("function", type(mg.nn.MLP))
    assert.equal("function", type(mg.Value))
    assert.is_nil(rawget(mg.nn, "MPL"))
    assert.is_nil(rawget(mg, "no_such_thing"))
    local n = 0
    for _ in pairs(mg.optim) do n = n + 1 end
    assert.is_true(n > 5)
  end)

  it("never recurse when a name is missing while a submodule loads", function()
    local saved_loaded, saved_field = package.loaded["micrograd.train"], rawget(mg, "train")
    package.loaded["micrograd.train"], package.preload["micrograd.train"] = nil, function()
      return mg.no_such_name -- missing while "micrograd.train" loads
    end
    rawset(mg, "train", nil)
    local ok, err = pcall(require, "micrograd.train")
    package.preload["micrograd.train"], package.loaded["micrograd.train"] = nil, saved_loaded
    rawset(mg, "train", saved_field)
    assert.is_false(ok)
    assert.matches("micrograd has no 'no_such_name'$", err)
    assert.equal("function", type(mg.train.fit))
  end)

  it("measure edit distance with swaps of neighbours as one edit", function()
    assert.equal(0, names.distance("abc", "abc"))
    assert.equal(1, names.distance("MPL", "MLP"))
    assert.equal(1, names.distance("fit", "fitt"))
    assert.equal(3, names.distance("", "abc"))
    assert.equal(3, names.distance("kitten", "sitting"))
    assert.is_nil(names.suggest("zz", { "MLP", "nn" }))
    assert.equal("MLP", names.suggest("mlp", { "MLP", "Layer" }))
  end)
end)
