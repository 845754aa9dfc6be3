-- Numbers are written and read with '.' whatever the C locale: a host that
-- calls setlocale(LC_ALL, "") under LC_ALL=de_DE.UTF-8 makes string.format
-- and tostring write "0,5" (and tonumber read it). Needs the de_DE.UTF-8
-- locale (Debian: the locales package, de_DE.UTF-8 in /etc/locale.gen and
-- locale-gen; scripts/install-deps.sh and .ci/run set it up).
local check = require("spec.helpers.check")
local mg = require("micrograd")
local nn, viz, data = mg.nn, mg.viz, mg.data
local file = require("micrograd._file")

local GERMAN = "de_DE.UTF-8"

--- fn() run under the German numeric locale, the C locale restored after.
local function german(fn, ...)
  assert(os.setlocale(GERMAN, "numeric"),
    "the de_DE.UTF-8 locale is missing: run scripts/install-deps.sh (it installs and generates it)")
  local results = check.pack(pcall(fn, ...))
  os.setlocale("C", "numeric")
  if not results[1] then error(results[2], 0) end
  return check.unpack(results, 2, results.n)
end

local function model()
  mg.seed(5)
  return nn.MLP(2, { 4, 3, 1 })
end

describe("under LC_NUMERIC=de_DE.UTF-8", function()
  after_each(function() os.setlocale("C", "numeric") end)

  if rawget(_G, "jit") then -- LuaJIT writes and reads numbers itself, in no locale: nothing to test
    pending("string.format really writes a decimal comma (LuaJIT's string.format ignores the locale)")
  else
    it("string.format really writes a decimal comma (the test means something)", function()
      assert.equal("0,5", german(string.format, "%.1f", 0.5))
      assert.equal("0.5", string.format("%.1f", 0.5))
    end)
  end

  it("nn.dump writes the same text as in the C locale, and nn.parse reads it to the bit", function()
    local m = model()
    local c_text = nn.dump(m)
    local de_text = german(nn.dump, m)
    assert.equal(c_text, de_text)
    assert.is_nil(de_text:find("%d,%d"))
    local back = german(nn.parse, de_text)
    for i, p in ipairs(m:parameters()) do assert.equal(p.data, back:parameters()[i].data) end
  end)

  it("nn.save and nn.load round-trip", function()
    local path = os.tmpname()
    local m = model()
    german(nn.save, m, path)
    local back = german(nn.load, path)
    os.remove(path)
    for i, p in ipairs(m:parameters()) do assert.equal(p.data, back:parameters()[i].data) end
  end)

  it("train.checkpoint and train.restore round-trip, optimizer state included", function()
    local path = os.tmpname()
    local m = model()
    local opt = mg.optim.Adam(m:parameters(), { lr = 0.01 })
    for _, p in ipairs(m:parameters()) do p.grad = 0.1 end
    opt:step()
    german(mg.train.checkpoint, path, { model = m, optimizer = opt })
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    assert.is_nil(text:find("%d,%d"), "a decimal comma in the checkpoint")
    local m2 = nn.MLP(2, { 4, 3, 1 })
    local opt2 = mg.optim.Adam(m2:parameters(), { lr = 0.01 })
    german(mg.train.restore, path, { model = m2, optimizer = opt2 })
    os.remove(path)
    for i, p in ipairs(m:parameters()) do assert.equal(p.data, m2:parameters()[i].data) end
  end)

  it("SVG pictures are the same text", function()
    local m = model()
    local X, y = data.make_moons(20, { seed = 2, noise = 0.1 })
    local history = { loss = { 1.25, 0.5, 0.125 }, accuracy = { 0.5, 0.75, 1 } }
    local pictures = {
      function() return viz.scatter(X, y) end,
      function() return viz.decision_boundary(m, X, y, nil, { resolution = 8 }) end,
      function() return viz.loss_curve(history) end,
      function() return viz.ascii_boundary(m, X, y, { width = 20, height = 6 }) end,
    }
    for i, draw in ipairs(pictures) do
      local c_text = draw()
      assert.equal(c_text, german(draw), "picture " .. i)
    end
    assert.truthy(german(pictures[1]):find('cx="%d+%.%d+"'))
  end)

  it("DOT text is the same", function()
    local x = mg.Value(0.5, "x")
    local out = (x * 1.25 + 0.75) ^ 2.5
    out:backward()
    local c_text = viz.dot(out)
    assert.equal(c_text, german(viz.dot, out))
    assert.truthy(c_text:find("data 0.5000", 1, true))
  end)

  it("CSV numbers are read with '.', never with ','", function()
    local text = "a;b;label\n0.5;1e-3;1.5\n2;-0.25;3\n"
    local X, y = german(data.parse_csv, text, { sep = ";" })
    assert.same({ { 0.5, 1e-3 }, { 2, -0.25 } }, X)
    assert.same({ 1.5, 3 }, y)
    -- "0,5" is no number in the C locale; it is none in German either
    local comma = "a;b\n0,5;1\n"
    local ok_c, err_c = pcall(data.parse_csv, comma, { sep = ";", label = false })
    local ok_de, err_de = pcall(german, data.parse_csv, comma, { sep = ";", label = false })
    assert.is_false(ok_c)
    assert.is_false(ok_de)
    assert.equal(err_c, err_de)
  end)

  it("_file's helpers", function()
    assert.equal("0.25", german(file.number, "%.2f", 0.25))
    assert.equal("1.5", german(file.tostring, 1.5))
    assert.equal(tostring(1.0), german(file.tostring, 1.0)) -- "1.0" on 5.3/5.4, "1" where all are doubles
    assert.equal(0.125, german(file.tonumber, "0.125"))
    assert.is_nil(german(file.tonumber, "0,125"))
    local long = "0." .. string.rep("0", 300) .. "1" -- past the length Lua retries with the locale's point
    assert.equal(tonumber(long), german(file.tonumber, long))
  end)
end)
