-- micrograd for Lua, as a LuaRocks package (from the repository root):
--   luarocks --lua-version=5.4 make rockspec/micrograd-dev-1.rockspec
-- No rock server is needed to build it; where none is reachable and dkjson
-- comes from the system (Debian: lua-dkjson), add --deps-mode=none.
-- packaging/smoke.sh installs it into a scratch tree and tests it.
rockspec_format = "3.0"
package = "micrograd"
version = "dev-1"

source = {
  -- Placeholder until the project has a public home: `luarocks make`
  -- builds the working copy and never fetches it.
  url = "git+https://example.invalid/micrograd-lua.git",
}

description = {
  summary = "A scalar-valued reverse-mode autograd engine in C, driven from Lua 5.4",
  detailed = [[
micrograd's ideas and numbers (Andrej Karpathy's micrograd) with the engine
written in C: a Value type with arithmetic metamethods and backward(), and
Lua modules for neural networks, losses, optimizers, data sets, training
loops, graph and training pictures, and compiled graphs replayed in C.]],
  license = "MIT",
  labels = { "autograd", "machine-learning", "neural-network" },
}

dependencies = {
  "lua >= 5.4, < 5.5",
  "dkjson >= 2.5",
}

-- The C files of micrograd.core (those of micrograd_core_objects and
-- micrograd_binding in CMakeLists.txt): compiled and linked in one command
-- into build/luarocks/, so that `luarocks make` leaves no objects and no
-- micrograd/core.so in the checkout (LuaRocks' builtin backend writes
-- src/*.o and ./micrograd/core.so, which a `lua5.4` started at the
-- repository root would then load instead of the build's). Plain C11, no Lua
-- library linked; LuaRocks' CC, CFLAGS ("-O2 -fPIC") and LIBFLAG.
local core_sources = {
  "src/core/engine.c", "src/core/rng.c", "src/core/tape.c", "src/core/tape_schedule.c", "src/core/tape_replay.c",
  "src/core/tape_check.c", "src/binding/module.c", "src/binding/value.c", "src/binding/random.c",
  "src/binding/params.c", "src/binding/vector.c", "src/binding/system.c", "src/binding/compile.c",
  "src/binding/anomaly.c",
}
local sources = ""
for i = 1, #core_sources do sources = sources .. " " .. core_sources[i] end

build = {
  type = "command",
  build_command = "mkdir -p build/luarocks/micrograd && $(CC) $(CFLAGS) -std=c11 -Isrc -Isrc/core -Isrc/binding -I$(LUA_INCDIR)"
    .. sources .. " $(LIBFLAG) -o build/luarocks/micrograd/core.so -lm",
  install = {
    lib = { ["micrograd.core"] = "build/luarocks/micrograd/core.so" },
    lua = {
      ["micrograd.init"] = "lua/micrograd/init.lua", -- require("micrograd") finds micrograd/init.lua
      ["micrograd._check"] = "lua/micrograd/_check.lua",
      ["micrograd._compat"] = "lua/micrograd/_compat.lua",
      ["micrograd._csv"] = "lua/micrograd/_csv.lua",
      ["micrograd._file"] = "lua/micrograd/_file.lua",
      ["micrograd._names"] = "lua/micrograd/_names.lua",
      ["micrograd._progress"] = "lua/micrograd/_progress.lua",
      ["micrograd._svg"] = "lua/micrograd/_svg.lua",
      ["micrograd._train_state"] = "lua/micrograd/_train_state.lua",
      ["micrograd.data"] = "lua/micrograd/data.lua",
      ["micrograd.gradcheck"] = "lua/micrograd/gradcheck.lua",
      ["micrograd.loss"] = "lua/micrograd/loss.lua",
      ["micrograd.model_io"] = "lua/micrograd/model_io.lua",
      ["micrograd.nn"] = "lua/micrograd/nn.lua",
      ["micrograd.optim"] = "lua/micrograd/optim.lua",
      ["micrograd.train"] = "lua/micrograd/train.lua",
      ["micrograd.train_compiled"] = "lua/micrograd/train_compiled.lua",
      ["micrograd.train_checkpoint"] = "lua/micrograd/train_checkpoint.lua",
      ["micrograd.viz"] = "lua/micrograd/viz.lua",
      ["micrograd.viz_graph"] = "lua/micrograd/viz_graph.lua",
      ["micrograd.viz_plot"] = "lua/micrograd/viz_plot.lua",
    },
  },
  copy_directories = { "examples" },
}
