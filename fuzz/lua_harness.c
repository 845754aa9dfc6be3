/*
 * lua_harness.c - a fresh, capped lua_State per input running a driver
 * script; see lua_harness.h.
 */
#include "lua_harness.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "micrograd.h"

#ifndef FUZZ_DIR
#define FUZZ_DIR "fuzz"
#endif

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  __builtin_trap();
}

/* ---- the allocator ----------------------------------------------------- */

typedef struct heap {
  size_t used, blocks, limit;
} heap;

/* Each block: its size in a header, then the block, then a canary. liblua is
 * not instrumented, so ASan does not see it write past a block (as it does
 * when a C function pushes more than the stack has room for); the canary is
 * checked whenever the block is freed or resized. */
#define HEADER 16
#define CANARY 64

static void set_canary(char *end) { memset(end, 0xcb, CANARY); }

static void check_canary(const char *end) {
  for (int i = 0; i < CANARY; i++)
    if ((unsigned char)end[i] != 0xcb) fail("a write past the end of a block (Lua stack overflow?)", NULL);
}

static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  heap *h = ud;
  char *block = ptr ? (char *)ptr - HEADER : NULL;
  size_t old = 0;
  if (block) {
    memcpy(&old, block, sizeof old);
    if (old != osize) fail("a block freed or resized with the wrong size", NULL);
    check_canary(block + HEADER + old);
  }
  if (nsize == 0) {
    if (block) h->used -= old, h->blocks--, free(block);
    return NULL;
  }
  if (nsize > old && nsize - old > h->limit - h->used) return NULL; /* over the cap */
  char *grown = realloc(block, HEADER + nsize + CANARY);
  if (!grown) return NULL;
  memcpy(grown, &nsize, sizeof nsize);
  set_canary(grown + HEADER + nsize);
  h->used = h->used - old + nsize, h->blocks += !block;
  return grown + HEADER;
}

/* ---- the hook: instruction budget and Lua line coverage ---------------- */

#define HOOK_EVERY 1000
static long hooks_left; /* the fuzzer runs one input at a time */

/* The Lua code (the modules, the drivers) runs in liblua, which has no
 * coverage instrumentation: the line hook counts each (chunk, line) pair in
 * libFuzzer's extra counters, so that new Lua lines count as new coverage. */
#define LINE_COUNTERS (1 << 16)
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t line_counters[LINE_COUNTERS];

static void hook(lua_State *L, lua_Debug *ar) {
  if (ar->event == LUA_HOOKCOUNT) {
    if (--hooks_left < 0) luaL_error(L, "fuzz: instruction budget used up");
    return;
  }
  if (!lua_getinfo(L, "S", ar)) return;
  uint32_t h = 2166136261u; /* FNV-1a of the chunk name and the line */
  for (const char *c = ar->source; *c; c++) h = (h ^ (uint8_t)*c) * 16777619u;
  h = (h ^ (uint32_t)ar->currentline) * 16777619u;
  uint8_t *counter = &line_counters[(h ^ (h >> 16)) % LINE_COUNTERS];
  if (*counter < 255) ++*counter;
}

/* ---- the driver --------------------------------------------------------- */

typedef struct script {
  const char *name;
  char *text;
  size_t size;
} script;

static const char *read_script(const char *name, size_t *size) {
  static script cache[4];
  for (int i = 0; i < 4; i++) {
    if (cache[i].name && strcmp(cache[i].name, name) == 0) return *size = cache[i].size, cache[i].text;
    if (cache[i].name) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.lua", FUZZ_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail("cannot open the driver script", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (n < 0 || !text || fread(text, 1, (size_t)n, f) != (size_t)n) fail("cannot read", path);
    fclose(f);
    cache[i].name = name, cache[i].text = text, cache[i].size = (size_t)n;
    return *size = (size_t)n, text;
  }
  fail("too many driver scripts", name);
  return NULL;
}

/* Protected set-up: the libraries, then the driver function (left on the stack). */
static int setup(lua_State *L) {
  static const luaL_Reg libs[] = {
    {LUA_GNAME, luaopen_base},
    {LUA_LOADLIBNAME, luaopen_package},
    {LUA_TABLIBNAME, luaopen_table},
    {LUA_STRLIBNAME, luaopen_string},
    {LUA_MATHLIBNAME, luaopen_math},
#if LUA_VERSION_NUM >= 502 /* 5.1's base library opens coroutine */
    {LUA_COLIBNAME, luaopen_coroutine},
#endif
#if LUA_VERSION_NUM >= 503
    {LUA_UTF8LIBNAME, luaopen_utf8},
#endif
    {NULL, NULL}
  };
  const char *name = lua_touserdata(L, 1);
  for (const luaL_Reg *lib = libs; lib->name; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  mg_openlibs(L);
  lua_getglobal(L, "package"); /* nothing from disk: only the built-in modules */
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "path");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  size_t size;
  const char *text = read_script(name, &size);
  lua_pushfstring(L, "@fuzz/%s.lua", name);
  if (luaL_loadbufferx(L, text, size, lua_tostring(L, -1), "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  if (lua_type(L, -1) != LUA_TFUNCTION) return luaL_error(L, "the driver script must return a function");
  return 1;
}

/* Protected: driver(bytes, light, full, verbose); args driver, data, size. */
static int call_driver(lua_State *L) {
  const char *data = lua_touserdata(L, 2);
  size_t size = (size_t)lua_tointeger(L, 3);
  lua_settop(L, 1);
  lua_pushlstring(L, data, size);
  lua_pushlightuserdata(L, (void *)&hooks_left);
  mg_newuserdatauv(L, 16, 1);
  lua_pushboolean(L, getenv("FUZZ_VERBOSE") != NULL);
  lua_call(L, 4, 1);
  return 1;
}

void fuzz_lua_run(const char *driver, const uint8_t *data, size_t size, fuzz_limits limits) {
  heap h = {0, 0, (size_t)-1};
  lua_State *L = lua_newstate(heap_alloc, &h);
  if (!L) fail("lua_newstate failed", NULL);
  lua_pushcfunction(L, setup);
  lua_pushlightuserdata(L, (void *)driver);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) fail("set-up failed", lua_tostring(L, -1));

  h.limit = h.used + limits.memory;
  hooks_left = limits.instructions / HOOK_EVERY;
  lua_sethook(L, hook, LUA_MASKCOUNT | LUA_MASKLINE, HOOK_EVERY);
  lua_pushcfunction(L, call_driver);
  lua_insert(L, 1);
  lua_pushlightuserdata(L, (void *)data);
  lua_pushinteger(L, (lua_Integer)size);
  int status = lua_pcall(L, 3, 1, 0);
  if (status != LUA_OK && lua_type(L, -1) != LUA_TSTRING)
    fail("an error value that is not a string", luaL_typename(L, -1));
  if (status == LUA_OK && !lua_isnil(L, -1)) fail("the driver found a problem", lua_tostring(L, -1));
  if (getenv("FUZZ_VERBOSE") && status != LUA_OK)
    fprintf(stderr, "fuzz: driver stopped: %s\n", lua_tostring(L, -1));

  lua_sethook(L, NULL, 0, 0);
  h.limit = (size_t)-1;
  lua_close(L);
  if (h.used != 0 || h.blocks != 0) fail("memory still allocated after lua_close", NULL);
}
