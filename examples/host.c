/* A host that embeds Lua and trains a network inside it: no files needed. */
#include <lauxlib.h>
#include <lualib.h>
#include <micrograd.h>
#include <stdio.h>

static const char *script =
    "local mg = require('micrograd')\n"
    "mg.seed(1)\n"
    "local X, y = mg.data.make_moons(60, {noise = 0.1, seed = 1})\n"
    "local model = mg.nn.MLP(2, {16, 16, 1})\n"
    "local h = mg.train.fit(model, X, y, {steps = 100, l2 = 1e-4, lr = 1.0, progress = false})\n"
    "return h.accuracy[#h.accuracy]\n";

int main(void) {
  lua_State *L = luaL_newstate(); /* or lua_newstate(your_allocator, ud) */
  luaL_openlibs(L);
  mg_openlibs(L); /* require("micrograd") now works, from memory */
  if (luaL_dostring(L, script) != LUA_OK) {
    fprintf(stderr, "error: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  printf("training accuracy: %.0f%%\n", 100 * lua_tonumber(L, -1));
  lua_close(L);
  return 0;
}
