-- Bugs the fuzzers of fuzz/ found, one test each, so they stay fixed.
local mg = require("micrograd")

describe("found by fuzz_lua", function()
  it("a Value metamethod called directly with extra arguments ignores them", function()
    -- arith() put the new Value's operands in user values of stack slot 3, which
    -- was the third argument: a segfault or heap corruption
    local v = mg.Value(1)
    local mt = getmetatable(v)
    for _, name in ipairs({ "__add", "__sub", "__mul", "__div", "__pow" }) do
      for _, extra in ipairs({ 7, true, {}, "x", v }) do
        local r = mt[name](v, 2, extra)
        assert.is_true(mg.is_value(r))
        r = mt[name](3, v, extra, extra)
        assert.is_true(mg.is_value(r))
        r:backward()
      end
    end
    assert.equal(1 + 2, mt.__add(v, 2, 7).data)
    assert.equal(v, mt.__add(v, 2, 7):children()[1])
  end)
end)
