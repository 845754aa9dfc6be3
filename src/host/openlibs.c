/*
 * openlibs.c - mg_openlibs: puts the engine and the built-in copies of the Lua
 * modules into package.preload, so a host needs no files on disk.
 */
#include "binding.h"
#include "compat.h"
#include "embedded.h"
#include "micrograd.h"

/* package.preload loader of one built-in module (upvalue: its mg_embedded). */
static int load_embedded(lua_State *L) {
  const mg_embedded *m = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbufferx(L, m->source, m->size, m->chunkname, "t") != LUA_OK) return lua_error(L);
  lua_pushstring(L, m->name);
  lua_pushliteral(L, ":preload:");
  lua_call(L, 2, 1);
  return 1;
}

void mg_openlibs(lua_State *L) {
  mg_push_preload(L);
  lua_pushcfunction(L, luaopen_micrograd_core);
  lua_setfield(L, -2, "micrograd.core");
  lua_pushcfunction(L, mg_open_system); /* also registered by micrograd.core, which may be loaded already */
  lua_setfield(L, -2, "micrograd._system");
  for (const mg_embedded *m = mg_embedded_modules; m->name; m++) {
    lua_pushlightuserdata(L, (void *)m);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}
