local check = require("spec.helpers.check")
local mg = require("micrograd")

-- Golden outputs of xoshiro256** seeded through splitmix64, computed with an
-- independent Python implementation (float = (next() >> 11) * 2^-53; integer
-- in [lo, hi] by masked rejection).
local GOLDEN = {
  [42] = {
    floats = { 0.08386297105988216, 0.3789802506626686, 0.6800434110281394,
      0.9246929453253876, 0.9918039142821028 },
    dice = { 2, 2, 5, 1, 3, 6, 2, 6, 3, 6, 3, 6 },
    percent = { 23, 34, 34, 57, 51, 8 },
    thousand = { 791, 639, 418, 162, 613, 569 },
    wide = { 549267988068, 572747275698, 491481687166, 436554966850 },
    signed = { 3, 3, -2, -2, 1, -3, -1, 3 },
    full = { -7676373272452217066, -2232420343890232706, 3321214725393783201 },
  },
  [1337] = {
    floats = { 0.6759434119590045, 0.8144736480449252, 0.7775129841449137 },
    dice = { 5, 4, 5, 4, 6, 2, 4, 1, 1, 5, 3, 3 },
  },
}

local function draws(n, fn, ...)
  local out = {}
  for i = 1, n do
    out[i] = fn(...)
  end
  return out
end

local function mean_sd(xs)
  local sum, sq = 0, 0
  for _, x in ipairs(xs) do
    sum = sum + x
  end
  local mean = sum / #xs
  for _, x in ipairs(xs) do
    sq = sq + (x - mean) ^ 2
  end
  return mean, math.sqrt(sq / (#xs - 1))
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Runs code in a fresh interpreter (lua5.4, luajit, ...) process that finds micrograd as this one does.
local function run_fresh(code)
  local script = string.format("package.path = %q; package.cpath = %q; ",
    package.path, package.cpath) .. code
  local pipe = assert(io.popen(check.lua .. " -e " .. shell_quote(script) .. " 2>&1"))
  local out = pipe:read("*a")
  pipe:close()
  return out
end

describe("mg.seed and golden values", function()
  it("reproduces xoshiro256** floats for seed 42", function()
    mg.seed(42)
    assert.same(GOLDEN[42].floats, draws(5, mg.random))
  end)

  it("reproduces integers in [1, 6] for seed 42", function()
    mg.seed(42)
    assert.same(GOLDEN[42].dice, draws(12, mg.random, 1, 6))
    mg.seed(42)
    assert.same(GOLDEN[42].dice, draws(12, mg.random, 6))
  end)

  it("reproduces other integer ranges for seed 42", function()
    mg.seed(42)
    assert.same(GOLDEN[42].percent, draws(6, mg.random, 100))
    mg.seed(42)
    assert.same(GOLDEN[42].thousand, draws(6, mg.random, 1, 1000))
    mg.seed(42)
    assert.same(GOLDEN[42].wide, draws(4, mg.random, 0, 1099511627776))
    mg.seed(42)
    assert.same(GOLDEN[42].signed, draws(8, mg.random, -3, 3))
    if check.has_integers then -- 64-bit integers: 5.1 and LuaJIT's numbers hold 53 bits
      local lo, hi = rawget(math, "mininteger"), rawget(math, "maxinteger")
      mg.seed(42)
      assert.same(GOLDEN[42].full, draws(3, mg.random, lo, hi))
    end
  end)

  it("accepts a float seed with an integral value", function()
    mg.seed(42.0)
    assert.same(GOLDEN[42].floats, draws(5, mg.random))
  end)

  it("reproduces seed 1337", function()
    mg.seed(1337)
    assert.same(GOLDEN[1337].floats, draws(3, mg.random))
    mg.seed(1337)
    assert.same(GOLDEN[1337].dice, draws(12, mg.random, 1, 6))
  end)

  it("starts a fresh state at seed 1337", function()
    local out = run_fresh([[
      local mg = require("micrograd")
      local f = mg.random()
      print(string.format("%.17g %d %d", f, mg.random(1, 6), mg.random(1, 6)))
    ]])
    local f, d1, d2 = out:match("^(%S+) (%d+) (%d+)")
    assert(f, "unexpected output from a fresh " .. check.lua .. ": " .. out)
    assert.equal(GOLDEN[1337].floats[1], tonumber(f))
    -- the next two draws of seed 1337's stream, as integers in [1, 6]
    mg.seed(1337)
    mg.random()
    assert.same(draws(2, mg.random, 1, 6), { tonumber(d1), tonumber(d2) })
  end)

  it("gives the same mixed sequence for the same seed", function()
    local function sequence()
      return {
        mg.random(), mg.random(10), mg.random(-5, 5), mg.uniform(-1, 1),
        mg.normal(), mg.normal(3, 2), mg.random(), mg.normal(),
      }
    end
    mg.seed(7)
    local first = sequence()
    mg.seed(7)
    assert.same(first, sequence())
  end)

  it("resets any cached normal on reseed", function()
    mg.seed(3)
    local first = draws(3, mg.normal)
    mg.seed(3)
    mg.normal()
    mg.seed(3)
    assert.same(first, draws(3, mg.normal))
  end)

  it("gives different sequences for different seeds", function()
    mg.seed(1)
    local one = draws(5, mg.random)
    mg.seed(2)
    local two = draws(5, mg.random)
    mg.seed(-1)
    local minus = draws(5, mg.random)
    assert.are_not.same(one, two)
    assert.are_not.same(one, minus)
  end)
end)

describe("the generator is independent of math.random", function()
  it("is not disturbed by math.random", function()
    math.randomseed(5)
    mg.seed(42)
    local got = {}
    for i = 1, 5 do
      math.random()
      math.randomseed(i)
      got[i] = mg.random()
    end
    assert.same(GOLDEN[42].floats, got)
  end)

  it("does not disturb math.random", function()
    math.randomseed(5)
    local want = draws(3, math.random)
    math.randomseed(5)
    local got = {}
    for i = 1, 3 do
      mg.seed(i)
      mg.random()
      mg.normal()
      got[i] = math.random()
    end
    assert.same(want, got)
  end)
end)

describe("distributions", function()
  before_each(function()
    mg.seed(2024)
  end)

  it("random() is a float in [0, 1) with mean 1/2 and variance 1/12", function()
    local xs = draws(100000, mg.random)
    for _, x in ipairs(xs) do
      assert(check.math_type(x) == "float" and x >= 0 and x < 1, "out of range")
    end
    local mean, sd = mean_sd(xs)
    assert.is_true(math.abs(mean - 0.5) < 0.01, "mean " .. mean)
    assert.is_true(math.abs(sd ^ 2 - 1 / 12) < 0.005, "variance " .. sd ^ 2)
  end)

  it("uniform(a, b) is a float in [a, b)", function()
    local xs = draws(10000, mg.uniform, -2, 5)
    for _, x in ipairs(xs) do
      assert(check.math_type(x) == "float" and x >= -2 and x < 5, "out of range")
    end
    local mean = mean_sd(xs)
    assert.is_true(math.abs(mean - 1.5) < 0.1, "mean " .. mean)
  end)

  it("uniform(0, 1) draws the same bits as random()", function()
    mg.seed(42)
    assert.same(GOLDEN[42].floats, draws(5, mg.uniform, 0, 1))
  end)

  it("normal() has mean 0 and standard deviation 1", function()
    local xs = draws(100000, mg.normal)
    local mean, sd = mean_sd(xs)
    assert.is_true(math.abs(mean) < 0.02, "mean " .. mean)
    assert.is_true(math.abs(sd - 1) < 0.02, "sd " .. sd)
    local inside = 0
    for _, x in ipairs(xs) do
      assert(check.math_type(x) == "float" and x == x, "not a float")
      if math.abs(x) < 1 then
        inside = inside + 1
      end
    end
    assert.is_true(math.abs(inside / #xs - 0.6827) < 0.01, "within 1 sd")
  end)

  it("normal(mu, sigma) scales and shifts", function()
    local mean, sd = mean_sd(draws(100000, mg.normal, 5, 2))
    assert.is_true(math.abs(mean - 5) < 0.05, "mean " .. mean)
    assert.is_true(math.abs(sd - 2) < 0.05, "sd " .. sd)
  end)

  it("random(m, n) hits every integer in range and nothing else", function()
    local counts = {}
    for _ = 1, 60000 do
      local k = mg.random(1, 6)
      assert(check.is_integer(k) and k >= 1 and k <= 6, "out of range")
      counts[k] = (counts[k] or 0) + 1
    end
    for k = 1, 6 do
      local c = counts[k] or 0
      assert.is_true(c > 9000 and c < 11000, "count of " .. k .. ": " .. c)
    end
  end)

  it("random(m) gives integers in [1, m]", function()
    local seen = {}
    for _ = 1, 10000 do
      local k = mg.random(10)
      assert(check.is_integer(k) and k >= 1 and k <= 10, "out of range")
      seen[k] = true
    end
    for k = 1, 10 do
      assert.is_true(seen[k], "never drew " .. k)
    end
    assert.equal(1, mg.random(1))
  end)

  it("handles negative and one-element intervals", function()
    local seen = {}
    for _ = 1, 10000 do
      local k = mg.random(-3, 3)
      assert(k >= -3 and k <= 3, "out of range")
      seen[k] = true
    end
    for k = -3, 3 do
      assert.is_true(seen[k], "never drew " .. k)
    end
    assert.equal(5, mg.random(5, 5))
    assert.equal(2 ^ 53, mg.random(2 ^ 53, 2 ^ 53))
    if check.has_integers then -- (64-bit integers: 5.3 and 5.4)
      local max = rawget(math, "maxinteger")
      assert.equal(max, mg.random(max, max))
    end
  end)
end)

describe("mg.Generator", function()
  it("is an independent generator with the engine's algorithm", function()
    local g = mg.Generator(42)
    mg.seed(42)
    local first = mg.random()
    assert.equal(first, g:random())
    mg.seed(7)
    local h = mg.Generator(42)
    assert.equal(first, h:random())
    assert.are_not.equal(mg.random(), g:random())
  end)

  it("has seed, random, uniform and normal", function()
    local g = mg.Generator(1)
    g:seed(99)
    local a = { g:random(), g:random(6), g:random(-2, 2), g:uniform(-1, 1), g:normal(5, 0.1) }
    g:seed(99)
    local b = { g:random(), g:random(6), g:random(-2, 2), g:uniform(-1, 1), g:normal(5, 0.1) }
    assert.are.same(a, b)
    assert.is_true(a[2] >= 1 and a[2] <= 6 and a[4] >= -1 and a[4] < 1)
  end)

  it("takes its seed from the engine's generator when none is given", function()
    mg.seed(5)
    local x = mg.Generator():random()
    mg.seed(5)
    assert.equal(x, mg.Generator():random())
  end)

  it("checks its arguments", function()
    local g = mg.Generator(1)
    assert.truthy(select(2, pcall(mg.Generator, "x")):find("bad argument #1 to 'Generator'", 1, true))
    local msg = select(2, pcall(g.random, 5))
    assert.truthy(msg:find("bad argument #1 to 'random' (Generator expected", 1, true))
    assert.truthy(select(2, pcall(g.uniform, g, "a")):find("bad argument #2 to 'uniform'", 1, true))
    assert.truthy(select(2, pcall(g.random, g, 3, 1)):find("interval is empty", 1, true))
  end)
end)
