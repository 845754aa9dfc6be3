/*
 * compat.h - the Lua C API of 5.4, as the binding uses it, on Lua 5.4, 5.3,
 * 5.1 and LuaJIT 2.1.
 *
 * Why our own header and not Debian's lua-compat53-dev: compat-5.3 brings the
 * 5.3 API to 5.1/5.2 only, and what the binding needs most is 5.4's (user
 * values, to-be-closed slots), which it does not have; it also installs into
 * /usr/include/lua5.1 next to 5.1's own lua.h, so a LuaJIT build would pick
 * up the wrong lua.h by include order. The binding uses a couple of dozen
 * API calls: each line below is small enough to read, and nothing is copied.
 *
 * The rules: on 5.4 this header adds nothing (the 5.4 build is the same code
 * as before it existed). A missing function whose 5.4 meaning can be had
 * exactly gets the 5.4 name (lua_rawlen, luaL_testudata, lua_getfield's
 * returned type, ...); what can only be emulated gets an mg_ name, with the
 * difference said where it is defined:
 *   mg_newuserdatauv / mg_getiuservalue / mg_setiuservalue  - user values
 *     (5.4: the userdata's own; 5.3 and 5.1: a table of them in its single
 *     user value or environment; a Value keeps its operands another way, see
 *     value.c),
 *   MG_HAS_CLOSE - whether lua_toclose exists (the callers say what they do
 *     without it),
 *   MG_FMT_INT / MG_INT - lua_pushfstring's format for a lua_Integer
 *     (5.1's has no %I).
 */
#ifndef MG_COMPAT_H
#define MG_COMPAT_H

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>

#if defined(LUA_LJDIR) /* LuaJIT 2.1: the 5.1 API and a few 5.2 functions */
#define MG_LUAJIT 1
#else
#define MG_LUAJIT 0
#endif

/* ---- 5.4: nothing to do -------------------------------------------------- */
#if LUA_VERSION_NUM >= 504

#define MG_HAS_CLOSE                   1
#define MG_FMT_INT                     "%I"
#define MG_INT(x)                      ((lua_Integer)(x))
#define mg_newuserdatauv(L, size, nuv) lua_newuserdatauv(L, size, nuv)
#define mg_getiuservalue(L, idx, n)    lua_getiuservalue(L, idx, n)
#define mg_setiuservalue(L, idx, n)    lua_setiuservalue(L, idx, n)

#else /* ---- 5.3, 5.1, LuaJIT -------------------------------------------- */

#define MG_HAS_CLOSE 0

#if LUA_VERSION_NUM >= 503
#define MG_FMT_INT       "%I"
#define MG_INT(x)        ((lua_Integer)(x))
#define mg_getuv(L, idx) lua_getuservalue(L, idx)
#define mg_setuv(L, idx) lua_setuservalue(L, idx)
#else
/* 5.1 formats ints only: the numbers so printed (rows, indices) fit. */
#define MG_FMT_INT       "%d"
#define MG_INT(x)        ((int)(x))
#define mg_getuv(L, idx) lua_getfenv(L, idx)
#define mg_setuv(L, idx) lua_setfenv(L, idx)
#endif

/* nuv user values: a table of them in the userdata's one user value (5.3)
 * or environment (5.1, where it must be a table). */
static inline void *mg_newuserdatauv(lua_State *L, size_t size, int nuv) {
  void *p = lua_newuserdata(L, size);
  if (nuv > 0) {
    lua_createtable(L, nuv, 0);
    mg_setuv(L, -2);
  }
  return p;
}

static inline int mg_getiuservalue(lua_State *L, int idx, int n) {
  mg_getuv(L, idx);
  if (lua_type(L, -1) != LUA_TTABLE) { /* none: as 5.4 says for a user value it lacks */
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNONE;
  }
  lua_rawgeti(L, -1, n);
  lua_remove(L, -2);
  return lua_type(L, -1);
}

static inline int mg_setiuservalue(lua_State *L, int idx, int n) {
  idx = idx < 0 && idx > LUA_REGISTRYINDEX ? lua_gettop(L) + idx + 1 : idx;
  mg_getuv(L, idx);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_insert(L, -2);
  lua_rawseti(L, -2, n);
  lua_pop(L, 1);
  return 1;
}

#ifndef LUA_OK
#define LUA_OK 0
#endif
#ifndef LUA_LOADED_TABLE
#define LUA_LOADED_TABLE "_LOADED"
#endif
#ifndef LUA_GNAME
#define LUA_GNAME "_G"
#endif

#endif /* LUA_VERSION_NUM < 504 */

/* ---- 5.1 and LuaJIT ------------------------------------------------------ */
#if LUA_VERSION_NUM < 502

typedef size_t lua_Unsigned;

#define lua_rawlen(L, idx)     lua_objlen(L, idx)
#define lua_pushglobaltable(L) lua_pushvalue(L, LUA_GLOBALSINDEX)

/* The type of what they push, as 5.3 returns it. */
static inline int mg_compat_getfield(lua_State *L, int idx, const char *k) {
  (lua_getfield)(L, idx, k);
  return lua_type(L, -1);
}
static inline int mg_compat_rawgeti(lua_State *L, int idx, lua_Integer n) {
  (lua_rawgeti)(L, idx, (int)n);
  return lua_type(L, -1);
}
static inline int mg_compat_getmetafield(lua_State *L, int obj, const char *e) {
  return (luaL_getmetafield)(L, obj, e) ? lua_type(L, -1) : LUA_TNIL;
}
static inline int mg_compat_rawget(lua_State *L, int idx) {
  (lua_rawget)(L, idx);
  return lua_type(L, -1);
}
#define lua_rawget(L, idx)           mg_compat_rawget(L, idx)
#define lua_getfield(L, idx, k)      mg_compat_getfield(L, idx, k)
#define lua_rawgeti(L, idx, n)       mg_compat_rawgeti(L, idx, n)
#define luaL_getmetafield(L, obj, e) mg_compat_getmetafield(L, obj, e)

/* 5.3's lua_tointegerx: only a number (or numeric string) with an exact
 * integer value converts (5.1's lua_tointeger truncates 2.5 to 2). */
static inline lua_Integer mg_compat_tointegerx(lua_State *L, int idx, int *isnum) {
  int ok = lua_isnumber(L, idx);
  lua_Number x = ok ? lua_tonumber(L, idx) : 0;
  ok = ok && x == floor(x) && x >= -9223372036854775808.0 && x < 9223372036854775808.0;
  if (isnum) *isnum = ok;
  return ok ? (lua_Integer)x : 0;
}
#define lua_tointegerx(L, idx, isnum) mg_compat_tointegerx(L, idx, isnum)

#if !MG_LUAJIT /* LuaJIT 2.1 has these */
static inline lua_Number mg_compat_tonumberx(lua_State *L, int idx, int *isnum) {
  int ok = lua_isnumber(L, idx);
  if (isnum) *isnum = ok;
  return ok ? lua_tonumber(L, idx) : 0;
}
#define lua_tonumberx(L, idx, isnum) mg_compat_tonumberx(L, idx, isnum)

static inline void *mg_compat_testudata(lua_State *L, int idx, const char *tname) {
  void *p = lua_touserdata(L, idx);
  if (!p || !lua_getmetatable(L, idx)) return NULL;
  luaL_getmetatable(L, tname);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}
#define luaL_testudata(L, idx, tname) mg_compat_testudata(L, idx, tname)

static inline void mg_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  for (; l->name; l++) {
    for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#define luaL_setfuncs(L, l, nup) mg_compat_setfuncs(L, l, nup)
#define luaL_newlib(L, l)                                                                                    \
  (lua_createtable(L, 0, (int)(sizeof(l) / sizeof((l)[0]) - 1)), luaL_setfuncs(L, l, 0))

static inline void mg_compat_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}
#define luaL_setmetatable(L, tname) mg_compat_setmetatable(L, tname)

/* Binary chunks start with "\033": refused unless mode has 'b'. */
static inline int mg_compat_loadbufferx(lua_State *L, const char *buff, size_t sz, const char *name,
                                        const char *mode) {
  int binary = sz > 0 && buff[0] == '\033';
  if (mode && !strchr(mode, binary ? 'b' : 't')) {
    lua_pushfstring(L, "attempt to load a %s chunk (mode is '%s')", binary ? "binary" : "text", mode);
    return LUA_ERRSYNTAX;
  }
  return luaL_loadbuffer(L, buff, sz, name);
}
#define luaL_loadbufferx(L, b, sz, name, mode) mg_compat_loadbufferx(L, b, sz, name, mode)
/* The hosts' tests load their own text files: the mode is not checked. */
#define luaL_loadfilex(L, fname, mode) ((void)(mode), luaL_loadfile(L, fname))
#endif /* !MG_LUAJIT */

/* luaL_tolstring: __tostring, else the value as print shows it. */
static inline const char *mg_compat_tolstring(lua_State *L, int idx, size_t *len) {
  if (luaL_callmeta(L, idx, "__tostring")) {
    if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
  } else {
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
    case LUA_TSTRING: lua_pushvalue(L, idx); break;
    case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNIL: lua_pushliteral(L, "nil"); break;
    default: lua_pushfstring(L, "%s: %p", luaL_typename(L, idx), lua_topointer(L, idx)); break;
    }
  }
  return lua_tolstring(L, -1, len); /* a number: converted in place, "%.14g" */
}
#define luaL_tolstring(L, idx, len) mg_compat_tolstring(L, idx, len)

/* luaL_getsubtable: t[fname] at idx, made a new table if it is not one. */
static inline int mg_compat_getsubtable(lua_State *L, int idx, const char *fname) {
  if (lua_getfield(L, idx, fname) == LUA_TTABLE) return 1;
  lua_pop(L, 1);
  idx = idx < 0 && idx > LUA_REGISTRYINDEX ? lua_gettop(L) + idx + 1 : idx;
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, idx, fname);
  return 0;
}
#define luaL_getsubtable(L, idx, fname) mg_compat_getsubtable(L, idx, fname)

/* luaL_requiref: calls openf(modname), puts the result in package.loaded
 * (and in a global when glb), leaves it on the stack. */
static inline void mg_compat_requiref(lua_State *L, const char *modname, lua_CFunction openf, int glb) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, modname);
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    lua_pushcfunction(L, openf);
    lua_pushstring(L, modname);
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, modname);
  }
  lua_remove(L, -2);
  if (glb) {
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_GLOBALSINDEX, modname);
  }
}
#define luaL_requiref(L, modname, openf, glb) mg_compat_requiref(L, modname, openf, glb)

#if !MG_LUAJIT
/* luaL_traceback, short: the message and where each level is. */
static inline void mg_compat_traceback(lua_State *L, lua_State *L1, const char *msg, int level) {
  lua_Debug ar;
  int top = lua_gettop(L);
  if (msg) lua_pushfstring(L, "%s\n", msg);
  lua_pushliteral(L, "stack traceback:");
  while (lua_getstack(L1, level++, &ar)) {
    lua_getinfo(L1, "Sln", &ar);
    lua_pushfstring(L, "\n\t%s:", ar.short_src);
    if (ar.currentline > 0) lua_pushfstring(L, "%d:", ar.currentline);
    if (ar.name)
      lua_pushfstring(L, " in function '%s'", ar.name);
    else
      lua_pushliteral(L, " in main chunk");
    lua_concat(L, lua_gettop(L) - top);
  }
  lua_concat(L, lua_gettop(L) - top);
}
#define luaL_traceback(L, L1, msg, level) mg_compat_traceback(L, L1, msg, level)
#endif

#endif /* LUA_VERSION_NUM < 502 */

/* Pushes the double x as Lua 5.3 and 5.4's tostring writes a float ("2.0",
 * "24.704081632653", "inf"), on every Lua: 5.1 and LuaJIT write 2.0 as "2",
 * and messages and Value's __tostring must read the same on all four. */
static inline void mg_push_float_text(lua_State *L, double x) {
  lua_pushnumber(L, x);
  luaL_tolstring(L, -1, NULL);
  lua_remove(L, -2);
#if LUA_VERSION_NUM < 503
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  if (len > 0 && s[strspn(s, "-0123456789")] == '\0') { /* looks like an integer */
    lua_pushliteral(L, ".0");
    lua_concat(L, 2);
  }
#endif
}

/* Whether the value at idx is a file of the io library; if so, *f is its
 * FILE, or NULL when it is closed. (5.1 and LuaJIT: a userdata that starts
 * with the FILE pointer, NULL once closed; 5.2 on: a luaL_Stream.) */
#include <stdio.h>
#ifndef LUA_FILEHANDLE
#define LUA_FILEHANDLE "FILE*"
#endif
static inline int mg_tofile(lua_State *L, int idx, FILE **f) {
#if LUA_VERSION_NUM >= 502
  const luaL_Stream *s = luaL_testudata(L, idx, LUA_FILEHANDLE);
  if (!s) return 0;
  *f = s->closef ? s->f : NULL;
#else
  FILE *const *p = luaL_testudata(L, idx, LUA_FILEHANDLE);
  if (!p) return 0;
  *f = *p;
#endif
  return 1;
}

/* Pushes package.preload (5.1 has no _PRELOAD in the registry: it is
 * registry._LOADED.package.preload; made if missing). */
static inline void mg_push_preload(lua_State *L) {
#if LUA_VERSION_NUM >= 503
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
#else
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  luaL_getsubtable(L, -1, "package");
  luaL_getsubtable(L, -1, "preload");
  lua_replace(L, -3);
  lua_pop(L, 1);
#endif
}

/* Every version: a full collection (5.4's lua_gc takes no third argument,
 * the others need one; 5.4 ignores it). */
#define mg_gc_collect(L) ((void)lua_gc(L, LUA_GCCOLLECT, 0))

#endif
