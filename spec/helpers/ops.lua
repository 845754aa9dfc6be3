--- Test cases for every op of `mg.ops`, made from its kind: the specs iterate
-- over mg.ops with these, so a new op is tested without a spec edit, and an op
-- of a kind this file does not know fails.
local mg = require("micrograd")

local M = {}

local mt = getmetatable(mg.Value(0))

--- How many operands a test of op gives it (a dot: bias, w1, x1, w2, x2).
local OPERANDS = { unary = 1, binary = 2, sum = 4, logsumexp = 4, dot = 5 }

--- The ops a script makes another way than op.lua (they have none), and
-- the spec that tests them.
M.elsewhere = {
  detach = "spec/compile_marks_spec.lua", -- x:detach() while mg.compile traces: no gradient back
}

--- A test case for op: `n` operands and `apply(xs)`, the op's node over the
-- array xs of Values and numbers, made the way a script makes it (op.lua);
-- nil for an op of M.elsewhere. Errors for an op with no test case.
function M.case(op)
  if op.lua == nil then
    assert(M.elsewhere[op.name], string.format("no test case for op '%s' (spec/helpers/ops.lua)", op.name))
    return nil
  end
  local n = OPERANDS[op.kind]
  assert(n, string.format("no test case for op '%s' of kind '%s' (spec/helpers/ops.lua)", op.name, op.kind))
  assert(type(op.domain) == "table" and op.domain[1] < op.domain[2], "op '" .. op.name .. "' has no domain")
  local lua = op.lua
  local apply
  if op.kind == "unary" then
    apply = lua:sub(1, 2) == "__" and function(xs) return mt[lua](xs[1], xs[1]) end
      or function(xs) return xs[1][lua](xs[1]) end
  elseif op.kind == "binary" then
    apply = function(xs) return mt[lua](xs[1], xs[2]) end
  elseif op.kind == "dot" then
    apply = function(xs) return mg[lua]({ xs[2], xs[4] }, { xs[3], xs[5] }, xs[1]) end
  else
    apply = function(xs) return mg[lua](xs) end
  end
  return { n = n, apply = apply }
end

--- n operands drawn from op's domain, none nearer 0 than 0.1 (relu's and
-- abs's kinks), with draw(lo, hi) a uniform draw.
function M.operands(op, n, draw)
  local xs = {}
  for i = 1, n do
    local x
    repeat x = draw(op.domain[1], op.domain[2]) until math.abs(x) >= 0.1
    xs[i] = x
  end
  return xs
end

return M
