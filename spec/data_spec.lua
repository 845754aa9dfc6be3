local mg = require("micrograd")
local data = require("micrograd.data")
local check = require("spec.helpers.check")
local atan2 = rawget(math, "atan2") or math.atan -- (5.1 and LuaJIT: atan takes one argument)

local error_of, assert_mentions, assert_near = check.error_of, check.assert_mentions, check.assert_near

-- The fixtures sit next to this file, wherever busted is run from.
local FIXTURES = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "fixtures/"

-- Golden values: make_moons(10, {noise = 0.1, seed = 7}) printed with %.17g.
-- The labels come from integer draws only (the same bits everywhere); the
-- noise uses libm (Box-Muller), so the points are compared to 1e-13.
local GOLDEN_MOONS_LABELS = { 1, 1, 0, 1, 0, 0, 1, 0, 1, 0 }
local GOLDEN_MOONS_POINTS = {
  { 1.985798180785348, 0.67325488905028519 },
  { -0.10166330421151429, 0.42469822440408694 },
}
-- make_blobs(7, {seed = 1}): the centers are uniforms (the same bits on every
-- machine), the labels integer draws after 7 normals of two raw draws each.
local GOLDEN_BLOBS_CENTERS = {
  { 4.0584366631770088, 0.40873239877713807 },
  { 1.48211400039445, -2.173427959161911 },
  { 3.9435683311992307, -7.1285592651112761 },
}
local GOLDEN_BLOBS_LABELS = { 1, 3, 2, 1, 1, 3, 2 }

local function count(y, label)
  local k = 0
  for _, v in ipairs(y) do
    if v == label then k = k + 1 end
  end
  return k
end

local function mean_sd(xs)
  local sum, sq = 0, 0
  for _, x in ipairs(xs) do sum = sum + x end
  local mean = sum / #xs
  for _, x in ipairs(xs) do sq = sq + (x - mean) ^ 2 end
  return mean, math.sqrt(sq / (#xs - 1))
end

-- The coordinate-wise differences between two data sets of the same shape.
local function differences(A, B)
  local out = {}
  for i, row in ipairs(A) do
    for j, v in ipairs(row) do out[#out + 1] = v - B[i][j] end
  end
  return out
end

local function same_bits(A, B)
  if #A ~= #B then return false end
  for i, row in ipairs(A) do
    for j, v in ipairs(row) do
      if check.bits(v) ~= check.bits(B[i][j]) then return false end
    end
  end
  return true
end

local function is_sorted(y)
  for i = 2, #y do
    if y[i] < y[i - 1] then return false end
  end
  return true
end

-- The batches of data.batches(X, y, size) as an array, failing (rather than
-- hanging) when the iterator does not stop.
local function all_batches(X, y, size)
  local out = {}
  for bx, by in data.batches(X, y, size) do
    out[#out + 1] = { bx, by }
    assert(#out <= #X + 1, "batches does not stop")
  end
  return out
end

-- Rows {i} and labels 10 * i, to follow pairs through a reordering.
local function numbered(n)
  local X, y = {}, {}
  for i = 1, n do X[i], y[i] = { i }, 10 * i end
  return X, y
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

describe("micrograd.data", function()
  it("is reached as require('micrograd').data too", function()
    assert.equal(data, mg.data)
  end)
end)

describe("data.make_moons", function()
  local function check_arcs(n)
    local X, y = data.make_moons(n, { seed = 1 })
    assert.equal(n, #X)
    assert.equal(n, #y)
    assert.equal(math.floor(n / 2), count(y, 0))
    assert.equal(n - math.floor(n / 2), count(y, 1))
    for i, p in ipairs(X) do
      assert.equal(2, #p)
      if y[i] == 0 then
        assert_near(1, p[1] ^ 2 + p[2] ^ 2, 1e-12, "outer radius")
        assert.is_true(p[2] >= 0)
      else
        assert.equal(1, y[i])
        assert_near(1, (p[1] - 1) ^ 2 + (p[2] - 0.5) ^ 2, 1e-12, "inner radius")
        assert.is_true(p[2] <= 0.5)
      end
    end
    return X, y
  end

  it("puts every point on its arc without noise, n // 2 of them outer", function()
    for _, n in ipairs({ 100, 10, 11, 7, 2, 1 }) do check_arcs(n) end
  end)

  it("spaces the points evenly from end to end of each arc", function()
    local X, y = data.make_moons(5, { seed = 3 })
    local outer, inner = {}, {}
    for i, p in ipairs(X) do
      if y[i] == 0 then outer[#outer + 1] = p[1] else inner[#inner + 1] = p[1] end
    end
    table.sort(outer)
    table.sort(inner)
    assert.same({ -1, 1 }, outer)                      -- cos(pi), cos(0)
    assert.equal(3, #inner)                            -- 1 - cos(t), t = 0, pi/2, pi
    assert.equal(0, inner[1])
    assert_near(1, inner[2], 1e-15)
    assert.equal(2, inner[3])
  end)

  it("defaults to 100 points and no noise", function()
    local X, y = data.make_moons()
    assert.equal(100, #X)
    assert.equal(50, count(y, 1))
  end)

  it("shuffles the points", function()
    local _, y = data.make_moons(100, { seed = 5 })
    assert.is_false(is_sorted(y))
  end)

  it("adds Gaussian noise of the given standard deviation after shuffling", function()
    local clean, y1 = data.make_moons(2000, { seed = 11 })
    local noisy, y2 = data.make_moons(2000, { seed = 11, noise = 0.1 })
    assert.same(y1, y2)
    local mean, sd = mean_sd(differences(noisy, clean))
    assert.is_true(math.abs(mean) < 0.01, "mean " .. mean)
    assert.is_true(sd > 0.08 and sd < 0.12, "sd " .. sd)
  end)

  it("gives the same bits for the same seed and differs for another", function()
    local X1, y1 = data.make_moons(50, { noise = 0.2, seed = 42 })
    local X2, y2 = data.make_moons(50, { noise = 0.2, seed = 42 })
    local X3 = data.make_moons(50, { noise = 0.2, seed = 43 })
    assert.is_true(same_bits(X1, X2))
    assert.same(y1, y2)
    assert.is_false(same_bits(X1, X3))
  end)

  it("draws its seed from the engine's generator when none is given", function()
    mg.seed(99)
    local X1 = data.make_moons(20, { noise = 0.1 })
    local X2 = data.make_moons(20, { noise = 0.1 })
    mg.seed(99)
    local X3 = data.make_moons(20, { noise = 0.1 })
    assert.is_true(same_bits(X1, X3))
    assert.is_false(same_bits(X1, X2))
  end)

  it("matches the golden values for seed 7", function()
    local X, y = data.make_moons(10, { noise = 0.1, seed = 7 })
    assert.same(GOLDEN_MOONS_LABELS, y)
    for i, p in ipairs(GOLDEN_MOONS_POINTS) do
      assert_near(p[1], X[i][1], 1e-13, "x1 of point " .. i)
      assert_near(p[2], X[i][2], 1e-13, "x2 of point " .. i)
    end
    local _, clean_y = data.make_moons(10, { seed = 7 })
    assert.same(GOLDEN_MOONS_LABELS, clean_y)
  end)
end)

describe("data.make_circles", function()
  it("puts n // 2 points on the unit circle and the rest on radius factor", function()
    for _, case in ipairs({ { 100, nil }, { 11, 0.5 }, { 1, 0.3 }, { 6, 0 } }) do
      local n, factor = case[1], case[2]
      local X, y = data.make_circles(n, { factor = factor, seed = 2 })
      assert.equal(n, #X)
      assert.equal(math.floor(n / 2), count(y, 0))
      assert.equal(n - math.floor(n / 2), count(y, 1))
      for i, p in ipairs(X) do
        local r = math.sqrt(p[1] ^ 2 + p[2] ^ 2)
        assert_near(y[i] == 0 and 1 or (factor or 0.8), r, 1e-12, "radius")
      end
    end
  end)

  it("spaces the angles evenly without repeating the end point", function()
    local X, y = data.make_circles(8, { seed = 4 })
    local angles = {}
    for i, p in ipairs(X) do
      if y[i] == 0 then angles[#angles + 1] = atan2(p[2], p[1]) % (2 * math.pi) end
    end
    table.sort(angles)
    assert.equal(4, #angles)
    for k, a in ipairs(angles) do
      -- a ~ 2 pi for the point at angle 0 (sin(0) = 0 can land on either side)
      assert_near((k - 1) * math.pi / 2, a > 6 and 0 or a, 1e-12, "angle " .. k)
    end
  end)

  it("adds noise, and is deterministic from the seed", function()
    local clean = data.make_circles(2000, { seed = 8 })
    local noisy = data.make_circles(2000, { seed = 8, noise = 0.05 })
    local _, sd = mean_sd(differences(noisy, clean))
    assert.is_true(sd > 0.04 and sd < 0.06, "sd " .. sd)
    assert.is_true(same_bits(noisy, data.make_circles(2000, { seed = 8, noise = 0.05 })))
    assert.is_false(same_bits(noisy, data.make_circles(2000, { seed = 9, noise = 0.05 })))
  end)
end)

describe("data.make_blobs", function()
  it("splits n over the centers as sklearn does, labels 1..k", function()
    for _, case in ipairs({ { 10, 3, { 4, 3, 3 } }, { 11, 3, { 4, 4, 3 } }, { 2, 3, { 1, 1, 0 } },
      { 100, 4, { 25, 25, 25, 25 } } }) do
      local n, k, counts = case[1], case[2], case[3]
      local X, y = data.make_blobs(n, { centers = k, seed = 1 })
      assert.equal(n, #X)
      for label = 1, k do assert.equal(counts[label], count(y, label)) end
    end
  end)

  it("draws the centers in center_box and the points near them", function()
    local X, y, centers = data.make_blobs(300, { seed = 3, cluster_std = 0.5, center_box = { 2, 5 } })
    assert.equal(3, #centers)
    for _, c in ipairs(centers) do
      assert.equal(2, #c)
      for j = 1, 2 do assert.is_true(c[j] >= 2 and c[j] < 5) end
    end
    local diffs = {}
    for i, p in ipairs(X) do
      local c = centers[y[i]]
      for j = 1, 2 do
        assert.is_true(math.abs(p[j] - c[j]) < 6 * 0.5)
        diffs[#diffs + 1] = p[j] - c[j]
      end
    end
    local mean, sd = mean_sd(diffs)
    assert.is_true(math.abs(mean) < 0.1, "mean " .. mean)
    assert.is_true(sd > 0.4 and sd < 0.6, "sd " .. sd)
    assert.is_false(is_sorted(y))
  end)

  it("spreads many centers over the whole of center_box", function()
    local _, _, centers = data.make_blobs(400, { centers = 400, center_box = { -1, 3 }, seed = 6 })
    for j = 1, 2 do
      local lo, hi = math.huge, -math.huge
      for _, c in ipairs(centers) do
        assert.is_true(c[j] >= -1 and c[j] < 3)
        lo, hi = math.min(lo, c[j]), math.max(hi, c[j])
      end
      assert.is_true(lo < -0.9 and hi > 2.9, "centers span " .. lo .. " .. " .. hi)
    end
  end)

  it("matches the golden values for seed 1", function()
    local _, y, centers = data.make_blobs(7, { seed = 1 })
    assert.same(GOLDEN_BLOBS_CENTERS, centers)
    assert.same(GOLDEN_BLOBS_LABELS, y)
  end)

  it("defaults to 100 points, 3 centers in [-10, 10], 2 features", function()
    local X, y, centers = data.make_blobs(nil, { seed = 5 })
    assert.equal(100, #X)
    assert.equal(3, #centers)
    assert.equal(34, count(y, 1))
    for _, c in ipairs(centers) do
      for j = 1, 2 do assert.is_true(c[j] >= -10 and c[j] < 10) end
    end
  end)

  it("honours explicit centers, n_features and per-center cluster_std", function()
    local X, y, centers = data.make_blobs(9, { centers = { { 1, 2, 3 }, { -5, 0, 5 }, { 7, 7, 7 } },
      cluster_std = { 0, 0, 0.1 }, seed = 1 })
    assert.same({ { 1, 2, 3 }, { -5, 0, 5 }, { 7, 7, 7 } }, centers)
    for i, p in ipairs(X) do
      assert.equal(3, #p)
      if y[i] < 3 then
        assert.same(centers[y[i]], p)
      else
        for j = 1, 3 do assert.is_true(math.abs(p[j] - 7) < 1) end
      end
    end
    local X4 = data.make_blobs(5, { n_features = 4, seed = 1 })
    assert.equal(4, #X4[1])
  end)

  it("returns copies of the centers it was given", function()
    local given = { { 0, 0 } }
    local _, _, centers = data.make_blobs(3, { centers = given, seed = 1 })
    assert.are_not.equal(given[1], centers[1])
    assert.same(given, centers)
  end)

  it("is deterministic from the seed", function()
    local X1, y1, c1 = data.make_blobs(30, { seed = 12 })
    local X2, y2 = data.make_blobs(30, { seed = 12 })
    local X3, _, c3 = data.make_blobs(30, { seed = 13 })
    assert.is_true(same_bits(X1, X2))
    assert.same(y1, y2)
    assert.is_false(same_bits(X1, X3))
    assert.is_false(same_bits(c1, c3))
  end)
end)

describe("data.shuffle", function()
  it("permutes X and y in place with the same permutation", function()
    local X, y = numbered(50)
    local rows = {}
    for i, row in ipairs(X) do rows[i] = row end
    local rX, ry = data.shuffle(X, y, 3)
    assert.equal(X, rX)
    assert.equal(y, ry)
    local seen, moved = {}, false
    for i, row in ipairs(X) do
      assert.equal(10 * row[1], y[i])
      assert.equal(rows[row[1]], row)                -- the same row objects
      assert.is_nil(seen[row[1]])
      seen[row[1]] = true
      moved = moved or row[1] ~= i
    end
    assert.equal(50, #X)
    assert.is_true(moved)
  end)

  it("gives the same permutation for the same seed", function()
    local A, B, C = numbered(30), numbered(30), numbered(30)
    data.shuffle(A, nil, 5)
    data.shuffle(B, nil, 5)
    data.shuffle(C, nil, 6)
    assert.same(A, B)
    assert.are_not.same(A, C)
  end)

  it("uses the engine's generator without a seed", function()
    local A, B = numbered(30), numbered(30)
    mg.seed(1)
    data.shuffle(A)
    mg.seed(1)
    local rX, ry = data.shuffle(B)
    assert.same(A, B)
    assert.equal(B, rX)
    assert.is_nil(ry)
  end)

  it("accepts empty and one-element arrays", function()
    assert.same({}, data.shuffle({}, {}, 1))
    assert.same({ { 1 } }, data.shuffle({ { 1 } }, nil, 1))
  end)
end)

describe("data.batches", function()
  it("covers every row once, in order, in slices of size (the last smaller)", function()
    local X, y = numbered(7)
    local sizes, all = {}, {}
    for _, batch in ipairs(all_batches(X, y, 3)) do
      local bx, by = batch[1], batch[2]
      assert.are_not.equal(X, bx)
      sizes[#sizes + 1] = #bx
      assert.equal(#bx, #by)
      for i, row in ipairs(bx) do
        assert.equal(10 * row[1], by[i])
        all[#all + 1] = row
      end
    end
    assert.same({ 3, 3, 1 }, sizes)
    for i = 1, 7 do assert.equal(X[i], all[i]) end
  end)

  it("works without y, with a size beyond n, and with no rows", function()
    local X = numbered(4)
    local batches = all_batches(X, nil, 2)
    assert.equal(2, #batches)
    for _, batch in ipairs(batches) do
      assert.equal(2, #batch[1])
      assert.is_nil(batch[2])
    end
    batches = all_batches(X, nil, 10)
    assert.equal(1, #batches)
    assert.equal(4, #batches[1][1])
    assert.same({ { 1 } }, all_batches(X, nil, 1)[1][1])
    assert.equal(4, #all_batches(X, nil, 1))
    assert.equal(0, #all_batches({}, {}, 3))
  end)
end)

describe("data.train_test_split", function()
  local function check_split(n, test, n_test)
    local X, y = numbered(n)
    local Xtr, ytr, Xte, yte = data.train_test_split(X, y, { test = test, seed = 2 })
    assert.equal(n_test, #Xte)
    assert.equal(n_test, #yte)
    assert.equal(n - n_test, #Xtr)
    assert.equal(n - n_test, #ytr)
    local seen = {}
    for _, part in ipairs({ { Xtr, ytr }, { Xte, yte } }) do
      for i, row in ipairs(part[1]) do
        assert.equal(10 * row[1], part[2][i])
        assert.is_nil(seen[row[1]], "row in both sets")
        seen[row[1]] = true
      end
    end
    for i = 1, n do assert.is_true(seen[i]) end
  end

  it("sizes the test set as ceil(test * n), or a count", function()
    check_split(10, 0.25, 3)
    check_split(100, 0.25, 25)
    check_split(7, 0.5, 4)
    check_split(10, 4, 4)
    check_split(2, 0.5, 1)
    local X = numbered(20)
    local Xtr, ytr, Xte, yte = data.train_test_split(X, nil)
    assert.equal(15, #Xtr)
    assert.equal(5, #Xte)
    assert.is_nil(ytr)
    assert.is_nil(yte)
  end)

  it("shuffles copies and leaves the inputs untouched", function()
    local X, y = numbered(40)
    local Xtr = data.train_test_split(X, y, { seed = 1 })
    for i = 1, 40 do
      assert.equal(i, X[i][1])
      assert.equal(10 * i, y[i])
    end
    assert.is_false(is_sorted((function()
      local ids = {}
      for i, row in ipairs(Xtr) do ids[i] = row[1] end
      return ids
    end)()))
  end)

  it("is deterministic from the seed", function()
    local X, y = numbered(30)
    local a1, _, a2 = data.train_test_split(X, y, { seed = 4 })
    local b1, _, b2 = data.train_test_split(X, y, { seed = 4 })
    local c1 = data.train_test_split(X, y, { seed = 5 })
    assert.same(a1, b1)
    assert.same(a2, b2)
    assert.are_not.same(a1, c1)
  end)
end)

describe("data.signs", function()
  it("maps 0 to -1 and 1 to 1 in a new array", function()
    local y = { 0, 1, 1, 0, 0.0, 1.0 }
    local s = data.signs(y)
    assert.same({ -1, 1, 1, -1, -1, 1 }, s)
    assert.are_not.equal(y, s)
    assert.same({}, data.signs({}))
  end)
end)

describe("data.parse_csv", function()
  it("reads a header, numeric features and a numeric label", function()
    local X, y, names = data.parse_csv("a,b,label\n1,2.5,0\n-3,4e2,1\n")
    assert.same({ { 1, 2.5 }, { -3, 400 } }, X)
    assert.same({ 0, 1 }, y)
    assert.same({ "a", "b" }, { names[1], names[2] })
    assert.equal(2, #names)
    assert.equal("label", names.label)
    assert.is_nil(names.classes)
  end)

  it("detects a missing header and names the columns x1, x2, ...", function()
    local X, y, names = data.parse_csv("1,2,3\n4,5,6")
    assert.same({ { 1, 2 }, { 4, 5 } }, X)
    assert.same({ 3, 6 }, y)
    assert.same({ "x1", "x2" }, names)
  end)

  it("takes header = true / false as given", function()
    local X, y, names = data.parse_csv("1,2\n3,4\n", { header = true })
    assert.same({ { 3 } }, X)
    assert.same({ 4 }, y)
    assert.same({ "1" }, { names[1] })
    local X2, y2 = data.parse_csv("1,2\n3,4\n", { header = false })
    assert.same({ { 1 }, { 3 } }, X2)
    assert.same({ 2, 4 }, y2)
  end)

  it("maps string labels to classes 1..k in order of first appearance", function()
    local X, y, names = data.parse_csv("x,kind\n1,cat\n2,dog\n3,cat\n4,bird\n")
    assert.same({ { 1 }, { 2 }, { 3 }, { 4 } }, X)
    assert.same({ 1, 2, 1, 3 }, y)
    assert.same({ "cat", "dog", "bird" }, names.classes)
  end)

  it("picks the label column by name or index, or none", function()
    local text = "w,kind,h\n1,a,10\n2,b,20\n"
    local X, y, names = data.parse_csv(text, { label = "kind" })
    assert.same({ { 1, 10 }, { 2, 20 } }, X)
    assert.same({ 1, 2 }, y)
    assert.same({ "w", "h" }, { names[1], names[2] })
    local X1, y1, names1 = data.parse_csv("w,v,h\n1,5,10\n2,6,20\n", { label = 1 })
    assert.same({ { 5, 10 }, { 6, 20 } }, X1)
    assert.same({ 1, 2 }, y1)
    assert.equal("w", names1.label)
    assert.same({ "v", "h" }, { names1[1], names1[2] })
    local X2, y2 = data.parse_csv("1,5,10\n2,6,20\n", { label = 2 })
    assert.same({ { 1, 10 }, { 2, 20 } }, X2)
    assert.same({ 5, 6 }, y2)
    local X3, y3, names3 = data.parse_csv("1,2,3\n4,5,6\n", { label = false })
    assert.same({ { 1, 2, 3 }, { 4, 5, 6 } }, X3)
    assert.is_nil(y3)
    assert.same({ "x1", "x2", "x3" }, names3)
  end)

  it("handles CRLF, blank lines, spaces around fields and a missing final newline", function()
    local X, y = data.parse_csv("a , b\r\n\r\n 1 ,\t2 \r\n   \r\n3,4")
    assert.same({ { 1 }, { 3 } }, X)
    assert.same({ 2, 4 }, y)
  end)

  it("handles quoted fields with quotes, separators and line breaks inside", function()
    local X, y, names = data.parse_csv(
      'x, "the ""size"", in cm" ,label\n1, "2.5" ,"a, b"\n3,4,"multi\nline"\n5,6, "a, b" \n')
    assert.same({ "x", 'the "size", in cm' }, { names[1], names[2] })
    assert.same({ { 1, 2.5 }, { 3, 4 }, { 5, 6 } }, X)
    assert.same({ 1, 2, 1 }, y)
    assert.same({ "a, b", "multi\nline" }, names.classes)
  end)

  it("reads other separators and skips a UTF-8 byte order mark", function()
    local X, y, names = data.parse_csv("\239\187\191a;b\n1.5;2\n", { sep = ";" })
    assert.equal("a", names[1])
    assert.same({ { 1.5 } }, X)
    assert.same({ 2 }, y)
    local X2, y2 = data.parse_csv("1\t 2 \t3\n3\t4\t5\n", { sep = "\t", label = false, header = false })
    assert.is_nil(y2)
    assert.same({ { 1, 2, 3 }, { 3, 4, 5 } }, X2)
    local X3 = data.parse_csv("1 2 3\n", { sep = " ", label = false })
    assert.same({ { 1, 2, 3 } }, X3)
  end)
end)

describe("data.load_csv", function()
  it("reads a file: header, CRLF, a blank line, string labels", function()
    local X, y, names = data.load_csv(FIXTURES .. "iris_small.csv")
    assert.equal(6, #X)
    assert.same({ 5.1, 3.5, 1.4, 0.2 }, X[1])
    assert.same({ 5.8, 2.7, 5.1, 1.9 }, X[6])
    assert.same({ 1, 1, 2, 2, 3, 3 }, y)
    assert.same({ "setosa", "versicolor", "virginica" }, names.classes)
    assert.same({ "sepal_length", "sepal_width", "petal_length", "petal_width" },
      { names[1], names[2], names[3], names[4] })
    assert.equal("species", names.label)
  end)

  it("gives what parse_csv gives for the file's text", function()
    local path = FIXTURES .. "iris_small.csv"
    local X1, y1, n1 = data.load_csv(path, { label = "species", header = true, sep = "," })
    local X2, y2, n2 = data.parse_csv(read_file(path), { label = 5 })
    assert.same(X2, X1)
    assert.same(y2, y1)
    assert.same(n2, n1)
  end)
end)

describe("CSV errors", function()
  it("name the file, line and column of a bad number", function()
    local path = FIXTURES .. "bad_number.csv"
    assert.equal(path .. ":7: column 3 ('petal'): not a number: 'abc'", error_of(data.load_csv, path))
    assert.equal("data.csv:7: column 3 ('petal'): not a number: 'abc'",
      error_of(data.parse_csv, read_file(path), { name = "data.csv" }))
    assert.equal("<string>:3: column 1: not a number: 'x'", error_of(data.parse_csv, "1,2\n\nx,3\n"))
    assert.equal("<string>:2: column 2 ('b'): not a number: ''", error_of(data.parse_csv, "a,b,c\n1,,3\n"))
  end)

  it("name the line of a row with the wrong number of fields", function()
    assert.equal("<string>:3: expected 3 fields, got 2", error_of(data.parse_csv, "a,b,c\n1,2,3\n4,5\n"))
    assert.equal("t.csv:2: expected 2 fields, got 3",
      error_of(data.parse_csv, "1,2\r\n1,2,3\r\n", { name = "t.csv" }))
  end)

  it("name an unknown label column", function()
    assert.equal("<string>:1: unknown label column 'kind'",
      error_of(data.parse_csv, "a,b\n1,2\n", { label = "kind" }))
    assert.equal("<string>:1: unknown label column 3 (the rows have 2 columns)",
      error_of(data.parse_csv, "a,b\n1,2\n", { label = 3 }))
    assert.equal("<string>:2: unknown label column 'a' (the text has no header row)",
      error_of(data.parse_csv, "\n1,2\n", { label = "a" }))
  end)

  it("refuse an empty document, a header alone and an empty label", function()
    assert.equal("<string>: empty document (no rows)", error_of(data.parse_csv, ""))
    assert.equal("e.csv: empty document (no rows)",
      error_of(data.parse_csv, "\r\n  \n\n", { name = "e.csv" }))
    assert.equal("<string>:1: no data rows after the header", error_of(data.parse_csv, "a,b\n"))
    assert.equal("<string>:3: column 2 ('y'): empty label", error_of(data.parse_csv, "x,y\n1,a\n2,\n"))
  end)

  it("name a broken quoted field", function()
    assert.equal("<string>:2: column 2: unterminated quoted field",
      error_of(data.parse_csv, 'a,b\n1,"2\n3\n'))
    assert.equal("<string>:2: column 1: text after the closing quote",
      error_of(data.parse_csv, 'a,b\n"1"x,2\n'))
  end)

  it("name a missing file", function()
    local err = error_of(data.load_csv, FIXTURES .. "no_such_file.csv")
    assert_mentions(err, "load_csv", "no_such_file.csv")
  end)

  it("say so when the io library is missing", function()
    local saved = io
    _G.io = nil
    local ok, err = pcall(data.load_csv, FIXTURES .. "iris_small.csv")
    _G.io = saved
    assert.is_false(ok)
    assert.equal("load_csv needs the io library (use parse_csv with the text)", err)
  end)
end)

describe("bad arguments", function()
  local big = {}
  for i = 1, 3 do big[i] = { i } end
  -- { function, arguments, argument number, message detail [, true: detail is a prefix] }
  local cases = {
    { "make_moons", { {} }, 1, "positive integer expected, got table" },
    { "make_moons", { 0 }, 1, "positive integer expected, got 0" },
    { "make_moons", { 2.5 }, 1, "positive integer expected, got 2.5" },
    { "make_moons", { "10" }, 1, "positive integer expected, got string" },
    { "make_moons", { 10, 0.1 }, 2, "table or nil expected, got 0.1" },
    { "make_moons", { 10, { nosie = 1 } }, 2, "unknown option 'nosie'" },
    { "make_moons", { 10, { noise = -1 } }, 2, "option 'noise': non-negative number expected, got -1" },
    { "make_moons", { 10, { noise = 0 / 0 } }, 2, "option 'noise': non-negative number expected, got", true },
    { "make_moons", { 10, { noise = math.huge } }, 2,
      "option 'noise': non-negative number expected, got inf" },
    { "make_moons", { 10, { seed = 1.5 } }, 2, "option 'seed': integer expected, got 1.5" },
    { "make_moons", { 10, { seed = "7" } }, 2, "option 'seed': integer expected, got string" },
    { "make_circles", { -1 }, 1, "positive integer expected, got -1" },
    { "make_circles", { 10, { factor = 1 } }, 2, "option 'factor': number in [0, 1) expected, got 1" },
    { "make_circles", { 10, { factor = "big" } }, 2,
      "option 'factor': number in [0, 1) expected, got string" },
    { "make_circles", { 10, { centers = 2 } }, 2, "unknown option 'centers'" },
    { "make_blobs", { true }, 1, "positive integer expected, got boolean" },
    { "make_blobs", { 10, { centers = 0 } }, 2,
      "option 'centers': positive integer or array of points expected, got 0" },
    { "make_blobs", { 10, { centers = {} } }, 2,
      "option 'centers': positive integer or array of points expected, got table" },
    { "make_blobs", { 10, { centers = { { 1, 2 }, { 3 } } } }, 2,
      "option 'centers': center 2 has length 1 but center 1 has length 2" },
    { "make_blobs", { 10, { centers = { { 1, "x" } } } }, 2,
      "option 'centers': center 1: coordinate 2 is string, not a finite number" },
    { "make_blobs", { 10, { centers = { 1, 2 } } }, 2,
      "option 'centers': center 1 is not an array of numbers" },
    { "make_blobs", { 10, { cluster_std = -0.5 } }, 2,
      "option 'cluster_std': non-negative number or array of them expected, got -0.5" },
    { "make_blobs", { 10, { cluster_std = { 1, -1, 1 } } }, 2,
      "option 'cluster_std': cluster_std[2] is -1, not a non-negative number" },
    { "make_blobs", { 10, { cluster_std = { 1, 1 } } }, 2,
      "option 'cluster_std' has 2 values for 3 centers" },
    { "make_blobs", { 10, { center_box = { 5, 1 } } }, 2,
      "option 'center_box': {low, high} with low <= high expected, got table" },
    { "make_blobs", { 10, { n_features = 0 } }, 2, "option 'n_features': positive integer expected, got 0" },
    { "make_blobs", { 10, { centers = { { 1, 2 } }, n_features = 3 } }, 2,
      "option 'n_features' is 3 but the centers have 2 coordinates" },
    { "parse_csv", { nil }, 1, "string expected, got nil" },
    { "parse_csv", { "1,2", "x" }, 2, "table or nil expected, got string" },
    { "parse_csv", { "1,2", { lable = 1 } }, 2, "unknown option 'lable'" },
    { "parse_csv", { "1,2", { label = true } }, 2,
      "option 'label': column name, positive integer or false expected, got boolean" },
    { "parse_csv", { "1,2", { label = 0 } }, 2,
      "option 'label': column name, positive integer or false expected, got 0" },
    { "parse_csv", { "1,2", { header = "yes" } }, 2, "option 'header': boolean expected, got string" },
    { "parse_csv", { "1,2", { sep = ",," } }, 2, "option 'sep': one character", true },
    { "parse_csv", { "1,2", { sep = '"' } }, 2, "option 'sep': one character", true },
    { "parse_csv", { "1,2", { name = 3 } }, 2, "option 'name': string expected, got 3" },
    { "load_csv", { {} }, 1, "string expected, got table" },
    { "load_csv", { "x.csv", { name = "y" } }, 2, "unknown option 'name'" },
    { "shuffle", { nil }, 1, "table expected, got nil" },
    { "shuffle", { big, 5 }, 2, "table or nil expected, got 5" },
    { "shuffle", { big, { 1, 2 } }, 2, "y has 2 elements but X has 3" },
    { "shuffle", { big, nil, 0.5 }, 3, "integer or nil expected, got 0.5" },
    { "batches", { "X", nil, 2 }, 1, "table expected, got string" },
    { "batches", { big, { 1 }, 2 }, 2, "y has 1 elements but X has 3" },
    { "batches", { big, nil }, 3, "positive integer expected, got nil" },
    { "batches", { big, nil, 0 }, 3, "positive integer expected, got 0" },
    { "train_test_split", { 1 }, 1, "table expected, got 1" },
    { "train_test_split", { big, { 1, 2, 3, 4 } }, 2, "y has 4 elements but X has 3" },
    { "train_test_split", { big, nil, 0.5 }, 3, "table or nil expected, got 0.5" },
    { "train_test_split", { big, nil, { tests = 1 } }, 3, "unknown option 'tests'" },
    { "train_test_split", { big, nil, { test = 0 } }, 3,
      "option 'test': fraction in (0, 1) or positive integer count expected, got 0" },
    { "train_test_split", { big, nil, { test = 1.5 } }, 3,
      "option 'test': fraction in (0, 1) or positive integer count expected, got 1.5" },
    { "train_test_split", { big, nil, { test = 3 } }, 3,
      "option 'test': 3 test samples leave no training samples (n = 3)" },
    { "train_test_split", { { { 1 } }, nil, { test = 0.5 } }, 3,
      "option 'test': 1 test samples leave no training samples (n = 1)" },
    { "train_test_split", { big, nil, { seed = {} } }, 3, "option 'seed': integer expected, got table" },
    { "signs", { nil }, 1, "table expected, got nil" },
    { "signs", { { 0, 1, -1 } }, 1, "y[3] is -1, expected 0 or 1" },
    { "signs", { { 1, "0" } }, 1, "y[2] is string, expected 0 or 1" },
  }

  for _, case in ipairs(cases) do
    local fname, args, arg, detail, prefix = case[1], case[2], case[3], case[4], case[5]
    local expected = string.format("bad argument #%d to '%s' (%s", arg, fname, detail)
    it(string.format("%s #%d: %s", fname, arg, detail), function()
      local err = error_of(data[fname], check.unpack(args, 1, 3))
      if prefix then
        assert.equal(expected, err:sub(1, #expected))
      else
        assert.equal(expected .. ")", err)
      end
    end)
  end

  it("blame the caller's line", function()
    -- fn is a one-line function: its error must point at that line
    local function blames(fn, what)
      local ok, err = pcall(fn)
      local line = debug.getinfo(fn, "S").linedefined
      assert.is_false(ok)
      assert.matches("data_spec%.lua:" .. line .. ": bad argument " .. what, err)
    end
    blames(function() data.make_moons(10, { nosie = 1 }) end, "#2 to 'make_moons'")
    blames(function() data.make_blobs(10, { cluster_std = { 1 } }) end, "#2 to 'make_blobs'")
    blames(function() data.signs({ 2 }) end, "#1 to 'signs'")
    blames(function() data.train_test_split({ 1 }, nil, { test = 1 }) end, "#3 to 'train_test_split'")
    blames(function() data.batches({}, nil, -1) end, "#3 to 'batches'")
    blames(function() data.shuffle({}, nil, "x") end, "#3 to 'shuffle'")
    blames(function() data.parse_csv(1) end, "#1 to 'parse_csv'")
  end)

  it("leave the module usable afterwards", function()
    pcall(data.make_moons, 10, { nosie = 1 })
    local X = data.make_moons(4, { seed = 1 })
    assert.equal(4, #X)
  end)
end)

describe("data.standardize and data.one_hot", function()
  it("scales each column to mean 0 and standard deviation 1, and the scaler repeats it", function()
    local X = { { 1, 10 }, { 2, 20 }, { 3, 30 }, { 6, 40 } }
    local Xs, scaler = data.standardize(X)
    assert.same({ 3, 25 }, scaler.mean)
    local sd1 = math.sqrt(((1 - 3) ^ 2 + (2 - 3) ^ 2 + 0 + (6 - 3) ^ 2) / 4)
    assert.equal(sd1, scaler.std[1])
    for j = 1, 2 do
      local sum, sq = 0, 0
      for i = 1, 4 do sum = sum + Xs[i][j] end
      for i = 1, 4 do sq = sq + Xs[i][j] ^ 2 end
      assert.is_true(math.abs(sum) < 1e-12)
      assert.is_true(math.abs(sq / 4 - 1) < 1e-12)
    end
    assert.equal((1 - 3) / sd1, Xs[1][1])
    assert.same({ 1, 10 }, X[1]) -- X is not modified
    -- apply scales new rows the same way, bit for bit
    assert.same({ Xs[2] }, scaler:apply({ { 2, 20 } }))
    -- state round trip
    local again = data.scaler(scaler:state())
    assert.same(Xs, again:apply(X))
    assert.equal("Scaler (2 columns)", tostring(again))
    -- a constant column is only centred
    local C, cs = data.standardize({ { 5, 1 }, { 5, 2 } })
    assert.same({ 0, 0 }, { C[1][1], C[2][1] })
    assert.equal(1, cs.std[1])
  end)

  it("refuses ragged, empty or non-numeric rows", function()
    assert.has_error(function() data.standardize({}) end,
      "bad argument #1 to 'standardize' (non-empty array of rows expected, got table)")
    assert.has_error(function() data.standardize({ { 1, 2 }, { 1 } }) end,
      "bad argument #1 to 'standardize' (X[2] must be a row of 2 numbers, got 1 values)")
    assert.has_error(function() data.standardize({ { 1, 0 / 0 } }) end,
      "bad argument #1 to 'standardize' (X[1][2] must be a finite number, got " .. tostring(0 / 0) .. ")")
    local _, scaler = data.standardize({ { 1, 2 }, { 3, 4 } })
    assert.has_error(function() scaler:apply({ { 1, 2, 3 } }) end,
      "bad argument #1 to 'apply' (X[1] must be a row of 2 numbers, got 3 values)")
    assert.has_error(function() scaler.state({}) end,
      "calling 'state' on bad self (Scaler expected, got table)")
    assert.has_error(function() scaler.apply(5, {}) end,
      "calling 'apply' on bad self (Scaler expected, got 5)")
    assert.has_error(function() data.scaler({ mean = { 1 }, std = { 0 } }) end,
      "bad argument #1 to 'scaler' (column 1: finite mean and std > 0 expected)")
  end)

  it("one_hot turns classes 1..k into rows", function()
    assert.same({ { 0, 1, 0 }, { 1, 0, 0 }, { 0, 0, 1 } }, data.one_hot({ 2, 1, 3 }))
    assert.same({ { 0, 1, 0, 0 } }, data.one_hot({ 2 }, 4))
    assert.has_error(function() data.one_hot({ 0, 1 }) end,
      "bad argument #1 to 'one_hot' (y[1] is 0, expected a class 1..k (0/1 labels: add 1))")
    assert.has_error(function() data.one_hot({ 3 }, 2) end,
      "bad argument #2 to 'one_hot' (2 classes, but y has class 3)")
    assert.has_error(function() data.one_hot({ 1 }, 2 ^ 40) end,
      "bad argument #2 to 'one_hot' (at most 65536 classes, got 1099511627776)")
  end)
end)
