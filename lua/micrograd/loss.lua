--- Losses: each returns one Value, the mean over the samples.
--
-- Means are `sum * (1.0 / n)` and sums run left to right, as micrograd's demo
-- computes them, so the numbers match it bit for bit.
-- @module micrograd.loss
local check = require("micrograd._check")
local mg = require("micrograd")
local compat = require("micrograd._compat")
local arg_error, len = check.arg_error, compat.len

local is_value, sum, dot, Value, logsumexp = mg.is_value, mg.sum, mg.dot, mg.Value, mg.logsumexp
local type, format, huge, tointeger = type, string.format, math.huge, compat.tointeger

local M = {}

--- Checks that a and b are arrays of the same non-zero length; returns it.
local function check_pair(fname, a, b, what_a, what_b)
  if type(a) ~= "table" then arg_error(fname, 1, format("array of %s expected, got %s", what_a, type(a)),
    3) end
  if type(b) ~= "table" then arg_error(fname, 2, format("array of %s expected, got %s", what_b, type(b)),
    3) end
  local n, nb = len(a), len(b) -- (train passes label tables with __len)
  if n == 0 then arg_error(fname, 1, "empty array", 3) end
  if nb ~= n then
    arg_error(fname, 2, format("array of length %d expected (as #1), got length %d", n, nb), 3)
  end
  return n
end

local function check_score(fname, arg, x, i)
  if type(x) ~= "number" and not is_value(x) then
    arg_error(fname, arg, format("number or Value expected at index %d, got %s", i, type(x)), 3)
  end
end

local function check_label(fname, y, i, a, b)
  if y ~= a and y ~= b then
    arg_error(fname, 2, format("%s or %s expected at index %d, got %s", a, b, i, tostring(y)), 3)
  end
end

--- Max-margin hinge loss, micrograd's demo: mean of `relu(1 - y * score)`.
-- @tparam {Value,...} scores one score per sample
-- @tparam {number,...} ys labels -1 or 1 (see `data.signs`)
-- @treturn Value
function M.svm(scores, ys)
  local n = check_pair("svm", scores, ys, "scores", "labels")
  local losses = {}
  for i = 1, n do
    local s, y = scores[i], ys[i]
    check_score("svm", 1, s, i)
    check_label("svm", y, i, -1, 1)
    if type(s) == "number" then s = Value(s) end
    losses[i] = (1 + -y * s):relu()
  end
  return sum(losses) * (1.0 / n)
end

--- Mean squared error: mean of `(pred - target)^2`.
-- @tparam {Value,...} preds
-- @tparam {number,...} targets numbers or Values
-- @treturn Value
function M.mse(preds, targets)
  local n = check_pair("mse", preds, targets, "predictions", "targets")
  local losses = {}
  for i = 1, n do
    local p, t = preds[i], targets[i]
    check_score("mse", 1, p, i)
    check_score("mse", 2, t, i)
    local d = p - t
    losses[i] = d * d
  end
  return sum(losses) * (1.0 / n)
end

--- Binary cross-entropy on logits, stable for large |z|:
-- `softplus(z) - y * z` = `-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))]`.
-- @tparam {Value,...} logits
-- @tparam {number,...} ys labels 0 or 1
-- @treturn Value
function M.bce_logits(logits, ys)
  local n = check_pair("bce_logits", logits, ys, "logits", "labels")
  local losses = {}
  for i = 1, n do
    local z, y = logits[i], ys[i]
    check_score("bce_logits", 1, z, i)
    check_label("bce_logits", y, i, 0, 1)
    if type(z) == "number" then z = Value(z) end
    losses[i] = y == 1 and z:softplus() - z or z:softplus()
  end
  return sum(losses) * (1.0 / n)
end

--- Softmax cross-entropy: mean of `mg.logsumexp(z) - z[class]` (one engine
-- node, which subtracts the largest logit at every forward so that exp cannot
-- overflow: a compiled step gives the dynamic step's bits).
-- @tparam {{Value,...},...} logits one array of k logits per sample
-- @tparam {integer,...} classes one class in 1..k per sample
-- @treturn Value
function M.cross_entropy(logits, classes)
  local n = check_pair("cross_entropy", logits, classes, "logit arrays", "classes")
  local losses = {}
  for i = 1, n do
    local z, c = logits[i], classes[i]
    if type(z) ~= "table" or is_value(z) or #z == 0 then
      arg_error("cross_entropy", 1, format("non-empty array of logits expected at index %d", i))
    end
    local k, class = #z, type(c) == "number" and tointeger(c)
    if not class or class < 1 or class > k then
      arg_error("cross_entropy", 2, format("class in 1..%d expected at index %d, got %s", k, i, tostring(c)))
    end
    for j = 1, k do
      local zj = z[j]
      if type(zj) ~= "number" and not is_value(zj) then
        arg_error("cross_entropy", 1, format("number or Value expected at index %d of sample %d, got %s",
          j, i,
          type(zj)))
      end
    end
    losses[i] = logsumexp(z) - z[class]
  end
  return sum(losses) * (1.0 / n)
end

--- L2 regularisation: `alpha * sum(p * p)` (micrograd's demo uses alpha = 1e-4).
-- @tparam {Value,...} params
-- @tparam number alpha
-- @treturn Value
function M.l2(params, alpha)
  if type(params) ~= "table" then arg_error("l2", 1, "array of Values expected, got " .. type(params)) end
  if type(alpha) ~= "number" then arg_error("l2", 2, "number expected, got " .. type(alpha)) end
  if alpha ~= alpha or alpha == huge or alpha == -huge then arg_error("l2", 2, "finite number expected") end
  for i = 1, #params do
    if not is_value(params[i]) then
      arg_error("l2", 1, format("Value expected at index %d, got %s", i, type(params[i])))
    end
  end
  return alpha * dot(params, params)
end

return require("micrograd._names").strict(M, "micrograd.loss")
