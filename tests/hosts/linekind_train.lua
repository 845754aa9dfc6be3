-- Trains tests/hosts/linekind.lua's model and saves it (nn.save's JSON):
--
--   build/micrograd tests/hosts/linekind_train.lua tests/hosts/fixtures/linekind.json
--
-- The training has a fixed seed and gives the same bits in every Lua, so the
-- committed file is what this writes: the test hosts_linekind_model checks it.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local linekind = require("linekind")
local out = assert(arg[1], "usage: linekind_train.lua OUT.json")
local model = linekind.train()
require("micrograd").nn.save(model, out)
local classify = linekind.classifier(out)
local right = 0
for _, e in ipairs(linekind.EXAMPLES) do
  if (classify(e[1]) == "prose") == (e[2] > 0) then right = right + 1 end
end
print(string.format("linekind: %d of %d training lines right, model saved to %s", right, #linekind.EXAMPLES,
  out))
