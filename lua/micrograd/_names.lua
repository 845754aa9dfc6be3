-- micrograd._names (internal): module tables that refuse a misspelt name.
--
-- `strict(M, "micrograd.nn")` gives M a metatable whose __index raises
-- "micrograd.nn has no 'MPL' (did you mean 'MLP'?)" at the caller's line
-- instead of returning nil, so `nn.MPL(2, {1})` does not become "attempt to
-- call a nil value". Code that probes a module for an optional field must use
-- rawget.
local M = {}

local min = math.min
local format, lower, byte = string.format, string.lower, string.byte

--- Edit distance between a and b (insertions, deletions, substitutions and
-- swaps of neighbours each cost 1; the optimal string alignment distance).
function M.distance(a, b)
  local la, lb = #a, #b
  local prev2, prev, cur = {}, {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ai = byte(a, i)
    for j = 1, lb do
      local bj = byte(b, j)
      local d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai == bj and 0 or 1))
      if i > 1 and j > 1 and ai == byte(b, j - 1) and byte(a, i - 1) == bj then
        d = min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev, cur = prev, cur, prev2
  end
  return prev[lb]
end

--- The candidate closest to name (case counts for half an edit), or nil when
-- none is close: at most 1 edit for names of up to 4 characters, 2 up to 8,
-- then 3.
-- @tparam string name
-- @tparam {string,...} candidates
-- @treturn string|nil
function M.suggest(name, candidates)
  local allowed = #name <= 4 and 1 or (#name <= 8 and 2 or 3)
  local best, best_score
  for _, c in ipairs(candidates) do
    local score = M.distance(lower(name), lower(c)) + (M.distance(name, c) > 0 and 0.5 or 0)
    if c ~= name and score <= allowed + 0.5 and (not best_score or score < best_score
        or (score == best_score and c < best)) then
      best, best_score = c, score
    end
  end
  return best
end

--- The public names of t (string keys not starting with "_"), sorted.
function M.names(t)
  local list = {}
  for k in pairs(t) do
    if type(k) == "string" and byte(k, 1) ~= 95 then list[#list + 1] = k end -- 95: "_"
  end
  table.sort(list)
  return list
end

--- The error for a missing name: "<module> has no '<name>'" and the closest
-- of candidates, if any; `hint(name)` may give a suggestion of its own when
-- no candidate is close.
function M.missing(module_name, name, candidates, level, hint)
  local shown = type(name) == "string" and format("'%s'", name) or tostring(name)
  local msg = format("%s has no %s", module_name, shown)
  local best = type(name) == "string" and (M.suggest(name, candidates) or (hint and hint(name)))
  if best then msg = format("%s (did you mean '%s'?)", msg, best) end
  error(msg, level + 1)
end

--- Makes module table t refuse unknown names (see the top of this file).
-- @tparam table t the module table
-- @tparam string module_name as messages show it, e.g. "micrograd.nn"
-- @return t
function M.strict(t, module_name)
  return setmetatable(t, {
    __index = function(_, name)
      M.missing(module_name, name, M.names(t), 2)
    end,
  })
end

return M
