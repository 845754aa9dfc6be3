-- make_widths.lua - the moons benchmark's data at other hidden widths:
--
--   make_widths.lua SOURCE OUTDIR WIDTH...
--
-- reads SOURCE (examples/data/micrograd_moons_h16.txt: micrograd's 100 moons
-- samples and the initial weights of its 2-16-16-1 MLP) and writes, for each
-- WIDTH, OUTDIR/moons_hWIDTH.txt in the same format (header N 2 WIDTH WIDTH 1,
-- format in ../shared/data/README.md): the same samples, and the initial
-- weights of MLP(2, {WIDTH, WIDTH, 1}) drawn as micrograd draws them (layer
-- by layer, neuron by neuron, each weight uniform(-1, 1), each bias 0) from
-- mg.Generator(1337) (xoshiro256**: the same bits on every machine). Every
-- number is written with %.17g, so that C and Lua read back the same bits.
local mg = require("micrograd")

local source, outdir = arg[1], arg[2]
assert(source and outdir and arg[3], "usage: make_widths.lua SOURCE OUTDIR WIDTH...")
local root = debug.getinfo(1, "S").source:match("^@(.*)/bench/") or "."
local ref = dofile(root .. "/examples/data/reference.lua")(source)
local common = dofile(root .. "/bench/common.lua")

for a = 3, #arg do
  local width = common.whole(arg[a])
  assert(width and width > 0, "make_widths: WIDTH must be a positive integer, got " .. arg[a])
  local sizes = { #ref.X[1], width, width, 1 }
  local lines = { string.format("%d %d %d %d %d", #ref.X, sizes[1], sizes[2], sizes[3], sizes[4]) }
  for i, x in ipairs(ref.X) do
    lines[#lines + 1] = string.format("%.17g %.17g %.17g", x[1], x[2], ref.y[i])
  end
  local gen = mg.Generator(1337)
  for l = 1, #sizes - 1 do
    for _ = 1, sizes[l + 1] do
      local neuron = {}
      for i = 1, sizes[l] do neuron[i] = string.format("%.17g", gen:uniform(-1, 1)) end
      neuron[#neuron + 1] = "0"
      lines[#lines + 1] = table.concat(neuron, " ")
    end
  end
  local path = string.format("%s/moons_h%d.txt", outdir, width)
  local f = assert(io.open(path, "w"))
  assert(f:write(table.concat(lines, "\n"), "\n"))
  assert(f:close())
end
