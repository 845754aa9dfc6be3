-- Neovim (LuaJIT) runs micrograd on a buffer: every line of the buffer gets a
-- label from tests/hosts/linekind.lua's model, shown as virtual text, and the
-- labels are checked against the expected ones. Run by ctest (cmake/hosts.cmake):
--
--   MG_ROOT=. MG_BUILD=build-luajit nvim --headless -u NONE -i NONE -n \
--     tests/hosts/fixtures/lines.txt -c 'luafile tests/hosts/nvim.lua'
--
-- Neovim finds micrograd as any Lua C module is found: core.so on
-- package.cpath (its symbols resolve against the libluajit nvim is linked
-- with) and the Lua modules on package.path; dkjson is Debian's lua-dkjson
-- for 5.1, on LuaJIT's default path. Exits 0 when every label is right.
-- luacheck: read globals vim jit
local function main()
  local root = assert(os.getenv("MG_ROOT"), "MG_ROOT (the repository) not set")
  local build = assert(os.getenv("MG_BUILD"), "MG_BUILD (a LuaJIT build) not set")
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/tests/hosts/?.lua;"
    .. package.path
  package.cpath = build .. "/lib/?.so;" .. package.cpath

  local linekind = require("linekind")
  local model_path = root .. "/tests/hosts/fixtures/linekind.json"
  local ns = vim.api.nvim_create_namespace("linekind")

  -- What a plugin's command would do: label the buffer's lines.
  local function annotate(buf)
    local classify = linekind.classifier(model_path) -- read and compiled on the first call only
    vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
    for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      local label = classify(line)
      if label then
        vim.api.nvim_buf_set_extmark(buf, ns, i - 1, 0, { virt_text = { { label, "Comment" } } })
      end
    end
  end
  annotate(0)
  annotate(0) -- again, as a user would: the model is not read twice

  -- The labels, read back from the buffer's extmarks.
  local n = vim.api.nvim_buf_line_count(0)
  local labels = {}
  for i = 1, n do labels[i] = "-" end
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    labels[m[2] + 1] = m[4].virt_text[1][1]
  end
  local expected = {}
  for line in io.lines(root .. "/tests/hosts/fixtures/lines.expected") do expected[#expected + 1] = line end
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  local wrong = 0
  for i = 1, math.max(n, #expected) do
    local ok = labels[i] == expected[i]
    if not ok then wrong = wrong + 1 end
    io.stdout:write(string.format("%s %-5s %s\n", ok and " " or "!", tostring(labels[i]), lines[i] or ""))
  end
  local v = vim.version()
  io.stdout:write(string.format(
    "nvim (Neovim %d.%d.%d, %s): %d of %d lines labelled as expected, model read %d time(s)\n",
    v.major, v.minor, v.patch, jit and jit.version or _VERSION, #expected - wrong, #expected, linekind.loads))
  return wrong == 0 and linekind.loads == 1
end

local ok, result = pcall(main)
if not ok then io.stderr:write("nvim.lua: " .. tostring(result) .. "\n") end
io.stdout:flush()
vim.cmd(ok and result and "qall!" or "cquit 1")
