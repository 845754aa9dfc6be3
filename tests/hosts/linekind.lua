--- A tiny classifier over lines of text: is a line code or prose? The model
-- the host tests run (Neovim on a buffer's lines, rpm in a macro); it works in
-- any Lua micrograd loads in.
--
-- This is the "load the model once, cache it in a module" pattern of README
-- "Embedding": `require` runs this file once per Lua state, so the model file
-- is read and its graph compiled once, however many times a host calls
-- `classify` (Neovim keeps one state for the whole session; rpm one for every
-- macro of a run).
local mg = require("micrograd")

local M = {}

--- What the network sees of a line: six numbers in [0, 1].
-- @tparam string line
-- @treturn {number,...}
function M.features(line)
  local text = line:match("^%s*(.-)%s*$")
  local n = math.max(#text, 1)
  local function share(pattern)
    local _, count = text:gsub(pattern, "")
    return count / n
  end
  return {
    share("%a"),                                   -- letters
    share("[%(%)%{%}%[%]=;<>_%*/%+&|#~%^\\\"']"),  -- the punctuation of code
    share(" "),                                    -- spaces between words
    text:match("[%.%?!]$") and 1 or 0,             -- ends as a sentence does
    line:match("^%s") and 1 or 0,                  -- indented
    text:match("^%u%l") and 1 or 0,                -- starts with a capitalised word
  }
end

--- The labelled lines the model is trained on (score > 0: prose).
M.EXAMPLES = {
  { "The network learns where the player clicks.", 1 },
  { "Every public function checks its arguments.", 1 },
  { "Install the package and run the tests again", 1 },
  { "This line is an ordinary sentence, with a comma.", 1 },
  { "Why does the model need a second layer?", 1 },
  { "It works in any Lua from 5.1 on!", 1 },
  { "Lua is a small language that is easy to embed", 1 },
  { "See the README for the commands.", 1 },
  { "Gradients add up when a value is used twice.", 1 },
  { "A host that caps memory gets an error, not a crash.", 1 },
  { "Training stops when the loss is small enough", 1 },
  { "Then open the file and read every line of it.", 1 },
  { "local x = y * 2 + 1", -1 },
  { "  return a[i] + b[i]", -1 },
  { "for i = 1, #t do", -1 },
  { "if (x > 0) { y = f(x); }", -1 },
  { "    print(string.format(\"%d\", n))", -1 },
  { "end", -1 },
  { "int main(void) {", -1 },
  { "  t[#t + 1] = { k = v }", -1 },
  { "x = [i * i for i in range(10)]", -1 },
  { "    self.trainer:run({ deadline = now })", -1 },
  { "#include <stdio.h>", -1 },
  { "  }", -1 },
}

--- Trains the model on `EXAMPLES` (fixed seed: the same bits in every Lua).
-- @treturn table the model (an `nn.MLP`)
function M.train()
  mg.seed(7)
  local X, y = {}, {}
  for i, e in ipairs(M.EXAMPLES) do X[i], y[i] = M.features(e[1]), e[2] end
  local model = mg.nn.MLP(6, { 8, 1 }, { activation = "tanh" })
  mg.train.fit(model, X, y, { loss = "svm", steps = 200, lr = 0.1, l2 = 1e-4, progress = false })
  return model
end

-- The models loaded so far, by path, each with its compiled graph.
local loaded = {}
M.loads = 0 -- how many times a model file was read (the tests check it is once)

--- The classifier of a model file (`nn.save`'s JSON), read once per path.
-- @tparam string path
-- @treturn function `classify(line) -> "code" | "prose" | nil` (nil: a blank line)
function M.classifier(path)
  local classify = loaded[path]
  if classify then return classify end
  local model = mg.nn.load(path)
  M.loads = M.loads + 1
  -- Traced once; each call replays the graph in C with no allocation.
  local graph = mg.compile(function(...) return model({ ... }) end, 6)
  classify = function(line)
    if not line:find("%S") then return nil end
    local f = M.features(line)
    return graph(f[1], f[2], f[3], f[4], f[5], f[6]) > 0 and "prose" or "code"
  end
  loaded[path] = classify
  return classify
end

return M
