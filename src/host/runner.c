/*
 * runner.c - build/micrograd: a Lua 5.4 interpreter with the engine and every
 * module of the project built in.
 *
 *   micrograd [options] [script [args]]
 *     -e code   run code          -l mod   require mod into global mod
 *     -v        print the version -        read the script from stdin
 *     --        stop handling options
 * Like lua5.4: the script sees its arguments in `arg` (arg[0] is the script)
 * and as `...`; with no script it reads stdin, or starts a prompt on a terminal.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "micrograd.h"

#define PROGNAME "micrograd"

static void print_usage(void) {
  fprintf(stderr,
          "usage: %s [options] [script [args]]\n"
          "  -e code  run code\n"
          "  -l mod   require mod into global mod\n"
          "  -v       print the version\n"
          "  -        read the script from stdin\n"
          "  --       stop handling options\n",
          PROGNAME);
}

/* Adds a traceback to an error message. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the function below its nargs arguments; prints an error and returns
 * its status if it fails. */
static int docall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (status != LUA_OK) {
    fprintf(stderr, "%s: %s\n", PROGNAME, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return status;
}

static int dostring(lua_State *L, const char *code, const char *name) {
  int status = luaL_loadbuffer(L, code, strlen(code), name);
  if (status == LUA_OK) return docall(L, 0, 0);
  fprintf(stderr, "%s: %s\n", PROGNAME, lua_tostring(L, -1));
  lua_pop(L, 1);
  return status;
}

static int dorequire(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, name);
  return status;
}

/* arg = {[-n] = PROGNAME, ..., [0] = script, [1] = first argument, ...} */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int run_script(lua_State *L, char **argv, int argc, int script) {
  const char *fname = argv[script];
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL; /* stdin */
  int status = luaL_loadfile(L, fname);
  if (status != LUA_OK) {
    fprintf(stderr, "%s: %s\n", PROGNAME, lua_tostring(L, -1));
    lua_pop(L, 1);
    return status;
  }
  int nargs = argc - script - 1;
  luaL_checkstack(L, nargs, "too many arguments to script");
  for (int i = script + 1; i < argc; i++) lua_pushstring(L, argv[i]);
  return docall(L, nargs, 0);
}

/* A small prompt: each line runs as `return <line>` if that compiles, else as is. */
static void repl(lua_State *L) {
  char line[4096];
  printf("%s (%s)\n", "micrograd " MICROGRAD_VERSION, LUA_RELEASE);
  for (;;) {
    fputs("> ", stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) break;
    const char *ret = lua_pushfstring(L, "return %s", line);
    int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    if (status != LUA_OK) {
      lua_pop(L, 2);
      status = luaL_loadbuffer(L, line, strlen(line), "=stdin");
      if (status != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        continue;
      }
    } else {
      lua_remove(L, -2);
    }
    int top = lua_gettop(L) - 1;
    if (docall(L, 0, LUA_MULTRET) == LUA_OK && lua_gettop(L) > top) {
      int n = lua_gettop(L) - top;
      lua_getglobal(L, "print");
      lua_insert(L, top + 1);
      docall(L, n, 0);
    }
    lua_settop(L, top);
  }
  fputs("\n", stdout);
}

/* Runs the options and the script; returns the process exit status. */
static int pmain(lua_State *L, int argc, char **argv) {
  int script = 0, ran_code = 0;
  for (int i = 1; i < argc && !script; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc) script = i + 1;
      break;
    } else if (strcmp(a, "-") == 0 || a[0] != '-') {
      script = i;
    } else if (strcmp(a, "-v") == 0) {
      printf("micrograd %s (%s)\n", MICROGRAD_VERSION, LUA_RELEASE);
      ran_code = 1;
    } else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: '%s' needs an argument\n", PROGNAME, a);
        print_usage();
        return 1;
      }
      ran_code = 1; /* handled in order below, after arg exists */
      i++;
    } else {
      fprintf(stderr, "%s: unrecognized option '%s'\n", PROGNAME, a);
      print_usage();
      return 1;
    }
  }
  create_arg_table(L, argv, argc, script);
  int end = script ? script : argc;
  for (int i = 1; i < end; i++) {
    if (strcmp(argv[i], "-e") == 0 && dostring(L, argv[++i], "=(command line)") != LUA_OK) return 1;
    if (strcmp(argv[i], "-l") == 0 && dorequire(L, argv[++i]) != LUA_OK) return 1;
  }
  if (script) return run_script(L, argv, argc, script) == LUA_OK ? 0 : 1;
  if (!ran_code) {
    if (isatty(STDIN_FILENO))
      repl(L);
    else
      return run_script(L, (char *[]){PROGNAME, "-"}, 2, 1) == LUA_OK ? 0 : 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create Lua state: not enough memory\n", PROGNAME);
    return 1;
  }
  luaL_openlibs(L);
  mg_openlibs(L);
  int status = pmain(L, argc, argv);
  lua_close(L);
  return status;
}
