/*
 * module.c - luaopen_micrograd_core: the context, the Value metatable, the
 * grad mode (mg.no_grad) and the module table.
 */
#include <string.h>

#include "binding.h"
#include "micrograd.h"

void mg_setfuncs(lua_State *L, int table, const luaL_Reg *regs, int upvalues) {
  for (; regs->name; regs++) {
    for (int i = 0; i < MG_NUPVALUES; i++) lua_pushvalue(L, upvalues + i);
    lua_pushcclosure(L, regs->func, MG_NUPVALUES);
    lua_setfield(L, table, regs->name);
  }
}

int mg_class_begin(lua_State *L, const mg_class *c, int meta) {
  int fresh = 1;
  if (meta) {
    lua_pushvalue(L, meta);
  } else if (!luaL_newmetatable(L, c->tname)) { /* there already: complete once it has __index */
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    fresh = lua_isnil(L, -1);
    lua_pop(L, 1);
  }
  lua_newtable(L);
  return fresh;
}

void mg_class_end(lua_State *L, const mg_class *c, int fresh, int upvalues) {
  int meta = lua_gettop(L) - 1, methods = meta + 1, has_index = 0;
  if (fresh) {
    for (const luaL_Reg *r = c->metamethods; r && r->name; r++) {
      int index = strcmp(r->name, "__index") == 0, n = MG_NUPVALUES + index;
      for (int i = 0; i < MG_NUPVALUES; i++) lua_pushvalue(L, upvalues + i);
      if (index) lua_pushvalue(L, methods); /* CLASS_METHODS_UV */
      lua_pushcclosure(L, r->func, n);
      lua_setfield(L, meta, r->name);
      has_index |= index;
    }
    if (c->methods) mg_setfuncs(L, methods, c->methods, upvalues);
    if (!has_index) {
      lua_pushvalue(L, methods);
      lua_setfield(L, meta, "__index");
    }
    lua_getfield(L, meta, "__name"); /* luaL_newmetatable sets it from 5.3 on */
    if (lua_isnil(L, -1) && c->tname) {
      lua_pushstring(L, c->tname);
      lua_setfield(L, meta, "__name");
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

void mg_register_class(lua_State *L, const mg_class *c, int meta, int upvalues) {
  int fresh = mg_class_begin(L, c, meta);
  mg_class_end(L, c, fresh, upvalues);
}

/* A no-grad scope: a guard userdata (user value 1: the context) that ends
 * its scope exactly once, when closed (`<close>`, :close(), an error or
 * coroutine.close unwinding the block) or when collected (a guard dropped,
 * or a coroutine abandoned inside the scope). The context counts the open
 * scopes, so they may end in any order; `trace` is the number of the
 * mg.compile trace the scope was opened in (0: none), as only those count
 * while that trace runs.
 *
 * GUARD: an open guard. SCOPE: one that needs no finalizer: it has ended,
 * or it is the guard of a no_grad(fn) call in the main thread (that thread is
 * never abandoned, and an error unwinds the call's to-be-closed slot). A
 * finalizer that is not needed is not run: many short scopes stay cheap. */
#define GUARD "micrograd.no_grad"
#define SCOPE "micrograd.no_grad_scope"

typedef struct guard {
  int active;
  lua_Integer trace;
} guard;

/* The guard methods' upvalues: the two metatables, compared by identity. */
#define GUARD_MT lua_upvalueindex(1)
#define SCOPE_MT lua_upvalueindex(2)

/* The guard at index 1 (open, or either kind when `any`), or NULL. */
static guard *to_guard(lua_State *L, int any) {
  if (lua_type(L, 1) != LUA_TUSERDATA || !lua_getmetatable(L, 1)) return NULL;
  int ok = lua_rawequal(L, -1, GUARD_MT) || (any && lua_rawequal(L, -1, SCOPE_MT));
  lua_pop(L, 1);
  return ok ? lua_touserdata(L, 1) : NULL;
}

/* Ends the scope of the guard g at index 1; an open guard's finalizer is
 * the only one it has (see SCOPE). */
static void scope_end(mg_ctx *ctx, guard *g) {
  g->active = 0;
  ctx->modes.no_grad_open--;
  if (ctx->tracing && g->trace == ctx->modes.trace) ctx->modes.no_grad_traced--;
  mg_modes_update(ctx);
}

static int guard_end(lua_State *L, guard *g) {
  if (g && g->active) {
    lua_pushvalue(L, SCOPE_MT);
    lua_setmetatable(L, 1);
    mg_getiuservalue(L, 1, 1);
    scope_end(lua_touserdata(L, -1), g);
  }
  return 0;
}

static int guard_close(lua_State *L) {
  guard *g = to_guard(L, 1);
  if (!g) mg_type_error(L, 1, "close", "no_grad guard");
  return guard_end(L, g);
}
static int guard_gc(lua_State *L) { return guard_end(L, to_guard(L, 0)); }

/* Pushes a new guard (a SCOPE when `call`, for no_grad(fn), in the main thread). */
static void push_guard(lua_State *L, int call) {
  mg_ctx *ctx = mg_context(L);
  guard *g = mg_newuserdatauv(L, sizeof *g, 1);
  g->active = 0;
  lua_pushvalue(L, CTX_UV);
  mg_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, call && mg_is_main_thread(L) ? SCOPE : GUARD);
  g->active = 1, g->trace = ctx->tracing ? ctx->modes.trace : 0;
  ctx->modes.no_grad_open++;
  if (ctx->tracing) ctx->modes.no_grad_traced++;
  mg_modes_update(ctx);
}

#if MG_HAS_CLOSE
static int no_grad_done(lua_State *L, int status, lua_KContext k) {
  (void)status, (void)k;
  return lua_gettop(L) - 1; /* the results; returning closes the guard below them */
}
#else
/* Without to-be-closed slots: fn runs in a protected call, and the guard
 * (index 1) ends after it, whether it returned or raised (then the error goes
 * on). On 5.3 fn may yield (the call continues here when it is resumed);
 * 5.1 and LuaJIT cannot yield across a C call. A guard in a coroutine that
 * is abandoned while fn yields is a GUARD: its finalizer ends it. */
static int no_grad_done(lua_State *L, int status) {
  guard *g = lua_touserdata(L, 1);
  if (g->active) {
    luaL_getmetatable(L, SCOPE); /* the error, if any, stays on top */
    lua_setmetatable(L, 1);
    scope_end(mg_context(L), g);
  }
  if (status != LUA_OK && status != LUA_YIELD) return lua_error(L);
  return lua_gettop(L) - 1;
}
#if LUA_VERSION_NUM >= 503
static int no_grad_resumed(lua_State *L, int status, lua_KContext k) {
  (void)k;
  return no_grad_done(L, status);
}
#endif
#endif

/* mg.no_grad(fn, ...): fn(...) recording no graph. mg.no_grad(): a guard for
 * `local g <close> = mg.no_grad()`. */
static int module_no_grad(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0 || (n == 1 && lua_isnil(L, 1))) {
    push_guard(L, 0);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TFUNCTION) { /* or a callable object, e.g. a model */
    if (luaL_getmetafield(L, 1, "__call") == LUA_TNIL) mg_type_error(L, 1, "no_grad", "function or nil");
    lua_pop(L, 1);
  }
  push_guard(L, 1);
  lua_insert(L, 1); /* guard, fn, args... */
#if MG_HAS_CLOSE
  lua_toclose(L, 1); /* closed on return and on error */
  lua_callk(L, n - 1, LUA_MULTRET, 0, no_grad_done);
  return no_grad_done(L, LUA_OK, 0);
#elif LUA_VERSION_NUM >= 503
  return no_grad_done(L, lua_pcallk(L, n - 1, LUA_MULTRET, 0, 0, no_grad_resumed));
#else
  return no_grad_done(L, lua_pcall(L, n - 1, LUA_MULTRET, 0));
#endif
}

static int module_grad_enabled(lua_State *L) {
  lua_pushboolean(L, mg_context(L)->no_grad == 0);
  return 1;
}

/* The module is made once per lua_State and kept in the registry: requiring
 * it again (package.loaded cleared, a hot reload, busted's insulation) gives
 * the same module, so Values, graphs and modes from before and after work
 * together (two contexts would not recognise each other's Values). */
#define MODULE_KEY "micrograd.core"

int luaopen_micrograd_core(lua_State *L) {
  static const luaL_Reg functions[] = {
      {"no_grad", module_no_grad}, {"grad_enabled", module_grad_enabled}, {NULL, NULL}};
  if (lua_getfield(L, LUA_REGISTRYINDEX, MODULE_KEY) == LUA_TTABLE) return 1;
  lua_pop(L, 1);
  lua_newtable(L);
  int module = lua_gettop(L), upvalues = module + 1;

  /* CTX_UV; user values: 1 anomaly.c's places, 2 its switches, 3 compile.c's list of a compile's Values */
  mg_ctx *ctx = mg_newuserdatauv(L, sizeof *ctx, 3);
  memset(ctx, 0, sizeof *ctx);
  mg_rng_seed(&ctx->rng, MG_DEFAULT_SEED);

  lua_newtable(L); /* META_UV: the Value metatable */
  ctx->value_meta = lua_topointer(L, -1);
  lua_pushliteral(L, "Value");
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "micrograd.Value");

  lua_newtable(L); /* LABELS_UV: labels, weak keys */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);

  lua_newtable(L); /* VECTOR_META_UV: the Vector metatable */
  ctx->vector_meta = lua_topointer(L, -1);
  lua_pushliteral(L, "Vector");
  lua_setfield(L, -2, "__name");

  mg_register_value(L, module, upvalues);
  mg_register_random(L, module, upvalues);
  mg_register_params(L, module, upvalues);
  mg_register_vector(L, module, upvalues);
  mg_register_system(L, module, upvalues);
  mg_register_compile(L, module, upvalues);
  mg_register_anomaly(L, module, upvalues);
  mg_setfuncs(L, module, functions, upvalues);

  int fresh = luaL_newmetatable(L, GUARD); /* the guards' metatables, each method with both as upvalues */
  luaL_newmetatable(L, SCOPE);
  if (fresh) {
    static const luaL_Reg guard_methods[] = {
        {"__close", guard_close}, {"close", guard_close}, {"__gc", guard_gc}, {NULL, NULL}};
    static const luaL_Reg scope_methods[] = {{"__close", guard_close}, {"close", guard_close}, {NULL, NULL}};
    for (int mt = -2; mt <= -1; mt++) {
      lua_pushvalue(L, mt); /* the metatable */
      lua_pushvalue(L, -3); /* GUARD_MT */
      lua_pushvalue(L, -3); /* SCOPE_MT */
      luaL_setfuncs(L, mt == -2 ? guard_methods : scope_methods, 2);
      lua_pushvalue(L, -1);
      lua_setfield(L, -2, "__index");
      lua_pop(L, 1);
    }
  }
  lua_settop(L, module);
  lua_pushliteral(L, "micrograd " MICROGRAD_VERSION);
  lua_setfield(L, module, "_VERSION");
  lua_pushvalue(L, module);
  lua_setfield(L, LUA_REGISTRYINDEX, MODULE_KEY);
  return 1;
}
