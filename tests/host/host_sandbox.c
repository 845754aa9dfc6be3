/*
 * host_sandbox.c - a state without file access.
 *
 * Opens only the base, package, table, string and math libraries (no io, os,
 * debug), then mg_openlibs, and runs sandbox.lua: every module works, and the
 * functions that need files say that they need io. With "removed" as its
 * second argument it opens every library instead and then removes io and os
 * from the globals and package.loaded, as a host that uses them itself does
 * (the io library's metatables and the standard files stay in the registry);
 * with "loaded-then-removed" it also requires micrograd and its modules
 * before removing them, so nothing the modules kept at load time may help. The host also checks
 * what the script cannot see: that mg_openlibs and the modules set no global,
 * that nothing was read from disk through package.path or package.cpath
 * (they point at a directory holding a trap module for every name a module
 * might look for), and that nothing was written: the script gets that
 * directory as its argument and passes paths in it to the functions that
 * must refuse to write, so any file they write shows up there.
 *
 *   host_sandbox [sandbox.lua [minimal|removed|loaded-then-removed]]
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "micrograd.h"

#ifndef HOST_SCRIPT_DIR
#define HOST_SCRIPT_DIR "tests/host"
#endif

/* Module names a module could require that the sandbox does not provide. */
static const char *const traps[] = {"debug",     "io",     "os",    "lpeg", "utf8",
                                    "coroutine", "dkjson", "cjson", NULL};

static int failures;

static void fail(const char *msg) {
  fprintf(stderr, "FAIL %s\n", msg);
  failures++;
}

/* A directory with <name>.lua for every trap: each records that it was loaded
 * from disk in the global table `loaded_from_disk`. */
static int make_traps(char *dir, size_t size) {
  snprintf(dir, size, "%s/mg-sandbox-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir)) return -1;
  for (int i = 0; traps[i]; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.lua", dir, traps[i]);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "loaded_from_disk = (loaded_from_disk or '') .. ' %s'\nreturn {}\n", traps[i]);
    fclose(f);
  }
  return 0;
}

/* Removes the directory and whatever is in it; returns the names of the
 * files that are not traps, space-separated, in extra. */
static void remove_dir(const char *dir, char *extra, size_t size) {
  extra[0] = 0;
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      int trap = 0;
      for (int i = 0; traps[i]; i++) {
        size_t n = strlen(traps[i]);
        trap |= strncmp(e->d_name, traps[i], n) == 0 && strcmp(e->d_name + n, ".lua") == 0;
      }
      if (!trap) snprintf(extra + strlen(extra), size - strlen(extra), " %s", e->d_name);
      char path[4400];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      remove(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* Pushes a sorted, space-separated list of the global names. */
static void push_globals(lua_State *L) {
  luaL_Buffer b;
  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  lua_newtable(L);
  int names = g + 1, n = 0;
  lua_pushnil(L);
  while (lua_next(L, g)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, names, ++n);
    }
  }
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "sort");
  lua_pushvalue(L, names);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, names, i);
    luaL_addvalue(&b);
    luaL_addchar(&b, ' ');
  }
  luaL_pushresult(&b);
  lua_replace(L, g);
  lua_settop(L, g);
}

static int traceback(lua_State *L) {
  luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

/* Removes io and os from the globals and package.loaded. */
static void remove_io_os(lua_State *L) {
  static const char *const names[] = {"io", "os", NULL};
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (int i = 0; names[i]; i++) {
    lua_pushnil(L);
    lua_setglobal(L, names[i]);
    lua_pushnil(L);
    lua_setfield(L, -2, names[i]);
  }
  lua_pop(L, 1);
}

static int require_all(lua_State *L) {
  static const char *const modules[] = {
      "micrograd",      "micrograd.nn",    "micrograd.loss", "micrograd.optim",
      "micrograd.data", "micrograd.train", "micrograd.viz",  NULL};
  for (int i = 0; modules[i]; i++) {
    lua_getglobal(L, "require");
    lua_pushstring(L, modules[i]);
    lua_call(L, 1, 0);
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *script = argc > 1 ? argv[1] : HOST_SCRIPT_DIR "/sandbox.lua";
  const char *mode = argc > 2 ? argv[2] : "minimal";
  int all_libs = strcmp(mode, "minimal") != 0, load_first = strcmp(mode, "loaded-then-removed") == 0;
  if (!all_libs + (strcmp(mode, "removed") == 0) + load_first != 1) {
    fprintf(stderr, "host_sandbox: unknown mode %s\n", mode);
    return 1;
  }
  char dir[4096];
  if (make_traps(dir, sizeof dir) != 0) {
    perror("making the trap directory");
    return 1;
  }

  lua_State *L = luaL_newstate();
  if (!L) return fprintf(stderr, "luaL_newstate failed\n"), 1;
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},       {LUA_LOADLIBNAME, luaopen_package},
                                  {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_MATHLIBNAME, luaopen_math}, {NULL, NULL}};
  if (all_libs) {
    luaL_openlibs(L);
  } else {
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
      luaL_requiref(L, lib->name, lib->func, 1);
      lua_pop(L, 1);
    }
  }
  /* Modules are searched for only in the trap directory. */
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua", dir);
  lua_setfield(L, -2, "path");
  lua_pushfstring(L, "%s/?.so", dir);
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);

  if (load_first) {
    mg_openlibs(L);
    lua_pushcfunction(L, require_all);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
      fprintf(stderr, "requiring the modules: %s\n", lua_tostring(L, -1));
      return 1;
    }
  }
  if (all_libs) remove_io_os(L);

  push_globals(L);
  char before[4096];
  snprintf(before, sizeof before, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);

  if (!load_first) mg_openlibs(L);

  lua_pushcfunction(L, traceback);
  if (luaL_loadfilex(L, script, "t") != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_pushstring(L, dir);
  if (lua_pcall(L, 1, 1, -3) != LUA_OK) {
    fail(lua_tostring(L, -1));
  } else {
    printf("%s\n", lua_tostring(L, -1));
  }
  lua_settop(L, 0);

  /* What the script could not check itself. */
  push_globals(L);
  if (strcmp(lua_tostring(L, -1), before) != 0) {
    char msg[9000];
    snprintf(msg, sizeof msg, "globals changed:\n  before: %s\n  after:  %s", before, lua_tostring(L, -1));
    fail(msg);
  }
  lua_pop(L, 1);
  if (lua_getglobal(L, "loaded_from_disk") != LUA_TNIL) {
    char msg[1024];
    snprintf(msg, sizeof msg, "modules read from disk through package.path: %s", lua_tostring(L, -1));
    fail(msg);
  }
  lua_pop(L, 1);
  lua_close(L);
  char extra[4096];
  remove_dir(dir, extra, sizeof extra);
  if (extra[0]) {
    char msg[4200];
    snprintf(msg, sizeof msg, "files written by the sandboxed state:%s", extra);
    fail(msg);
  }
  if (failures) return 1;
  printf("host sandbox (%s): all checks passed\n", mode);
  return 0;
}
