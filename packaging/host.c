/*
 * packaging/host.c - a small C host built against the *installed* micrograd
 * (packaging/smoke.sh builds it with pkg-config and with find_package).
 *
 * It opens a state, calls mg_openlibs (the engine, the Lua modules and their
 * JSON reader come from the library: no Lua files on disk), trains XOR, saves
 * and reloads the model as JSON, and prints the result with the Lua version
 * it runs on. Exit status 0 when the training worked and the versions agree.
 * The same file builds against each Lua micrograd supports (5.4, 5.3, 5.1,
 * LuaJIT): pkg-config micrograd-5.3 / find_package COMPONENTS 5.3, ...
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <micrograd.h>
#include <stdio.h>
#include <string.h>

/* Lua 5.1 has no LUA_OK (LuaJIT 2.1, 5.3 and 5.4 do): success is 0. */
#ifndef LUA_OK
#define LUA_OK 0
#endif

/* clang-format off */
static const char *script =
    "local mg = require('micrograd')\n"
    "mg.seed(4)\n"
    "local X = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } }\n"
    "local y = { -1, 1, 1, -1 }\n"
    "local model = mg.nn.MLP(2, { 4, 1 }, { activation = 'tanh' })\n"
    "local opt = mg.optim.SGD(model:parameters(), { lr = 0.3, momentum = 0.9 })\n"
    "local loss\n"
    "for _ = 1, 200 do\n"
    "  local scores = {}\n"
    "  for i, x in ipairs(X) do scores[i] = model(x) end\n"
    "  loss = mg.loss.svm(scores, y)\n"
    "  opt:zero_grad()\n"
    "  loss:backward()\n"
    "  opt:step()\n"
    "end\n"
    "local copy = mg.nn.parse(mg.nn.dump(model), 'xor')\n"
    "local lua = rawget(_G, 'jit') and jit.version or _VERSION\n"
    "return mg._VERSION, loss.data, copy({ 1, 0 }).data, copy({ 1, 1 }).data, lua\n";
/* clang-format on */

/* host [LUA]: LUA, when given, is the start of the Lua version the host must
 * run on ("Lua 5.3", "LuaJIT"). */
int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (L == NULL) return 1;
  luaL_openlibs(L);
  mg_openlibs(L);
  if (luaL_loadstring(L, script) != LUA_OK || lua_pcall(L, 0, 5, 0) != LUA_OK) {
    fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  const char *version = lua_tostring(L, -5), *lua = lua_tostring(L, -1);
  double loss = lua_tonumber(L, -4), y10 = lua_tonumber(L, -3), y11 = lua_tonumber(L, -2);
  printf("host: %s (header %s) on %s, xor loss %.4f, model(1, 0) = %.3f, model(1, 1) = %.3f\n",
         version ? version : "?", MICROGRAD_VERSION, lua ? lua : "?", loss, y10, y11);
  int ok = version != NULL && strcmp(version, "micrograd " MICROGRAD_VERSION) == 0 && loss < 0.1 && y10 > 0 &&
           y11 < 0 && (argc < 2 || (lua != NULL && strncmp(lua, argv[1], strlen(argv[1])) == 0));
  lua_close(L);
  if (!ok) fprintf(stderr, "host: FAILED\n");
  return ok ? 0 : 1;
}
