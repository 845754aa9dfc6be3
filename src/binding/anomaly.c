/*
 * anomaly.c - mg.detect_anomaly: find the first op, forward or backward, that
 * makes a nan or an infinity, and the line of Lua that made its node.
 *
 * Off (the default) it costs a test of ctx->anomaly per op and per backward().
 * On, every op checks its result (value.c calls mg_anomaly_forward) and
 * records where its node is being made: the place ("file:line") goes into a
 * table of places, the context's user value 1, and its number into the
 * node's spare bits, so a node costs no memory more; backward() runs
 * mg_backward_checked, and the message names the place of the node it blames.
 */
#include <math.h>
#include <string.h>

#include "binding.h"

/* At most this many operands are written into a message, which is made of
 * at most MESSAGE_SLOTS pieces on the stack. */
#define MAX_SHOWN     MG_ANOMALY_SHOWN
#define MESSAGE_SLOTS (2 * MAX_SHOWN + 20)

/* Whether source (a chunk name) is one of micrograd's own Lua modules:
 * ".../micrograd/name.lua" (the runner's are "@lua/micrograd/name.lua"). */
static int in_micrograd(const char *source) {
  const char *slash = strrchr(source, '/');
  if (source[0] != '@' || !slash || slash - source < 10) return 0;
  return strncmp(slash - 9, "micrograd", 9) == 0 && (slash[-10] == '/' || slash[-10] == '@');
}

/* Pushes the place in Lua code that is running the current C function,
 * "file:line": the innermost Lua function with a line; when that is one of
 * micrograd's modules, followed by ", called from file:line" for the first
 * function outside them. Returns 0 (pushing nothing) when there is none. */
static int push_place(lua_State *L) {
  lua_Debug ar;
  int found = 0;
  for (int level = 1; level <= MG_ANOMALY_MAX_LEVELS && lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    int ours = in_micrograd(ar.source);
    if (!found) {
      lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
      found = 1;
      if (!ours) break;
    } else if (!ours) {
      lua_pushfstring(L, ", called from %s:%d", ar.short_src, ar.currentline);
      lua_concat(L, 2);
      break;
    }
  }
  return found;
}

/* Pushes x as Lua 5.4's tostring writes a float, but every NaN as "nan" (not "-nan"). */
static void push_number(lua_State *L, double x) {
  if (isnan(x)) {
    lua_pushliteral(L, "nan");
    return;
  }
  mg_push_float_text(L, x);
}

static double arg_value(const mg_arg *a) { return a->node ? a->node->data : a->k; }

/* Pushes "operand 1.0" or "operands 1.0, inf, ..." (the first MAX_SHOWN). */
static void push_operands(lua_State *L, const mg_arg *args, uint32_t nargs) {
  int parts = 1;
  lua_pushstring(L, nargs == 1 ? "operand " : nargs == 0 ? "no operands" : "operands ");
  for (uint32_t i = 0; i < nargs && i < MAX_SHOWN; i++, parts++) {
    if (i > 0) lua_pushliteral(L, ", "), parts++;
    push_number(L, arg_value(&args[i]));
  }
  if (nargs > MAX_SHOWN) lua_pushfstring(L, ", ... (" MG_FMT_INT " in all)", MG_INT(nargs)), parts++;
  lua_concat(L, parts);
}

void mg_anomaly_forward(lua_State *L, mg_op op, double out, const mg_arg *args, uint32_t nargs) {
  if (isfinite(out)) return;
  for (uint32_t i = 0; i < nargs; i++) { /* the first op to make a nan, or an infinity? */
    double x = arg_value(&args[i]);
    if (isnan(x) || (!isnan(out) && isinf(x))) return;
  }
  luaL_checkstack(L, MESSAGE_SLOTS, NULL);
  lua_pushfstring(L, "micrograd: anomaly: '%s' produced ", mg_op_name(op));
  push_number(L, out);
  lua_pushliteral(L, " (");
  push_operands(L, args, nargs);
  if (push_place(L)) {
    lua_pushliteral(L, "; created at ");
    lua_insert(L, -2);
    lua_pushliteral(L, ")");
    lua_concat(L, 7);
  } else {
    lua_pushliteral(L, ")");
    lua_concat(L, 5);
  }
  lua_error(L);
}

void mg_anomaly_site(lua_State *L, mg_node *n) {
  mg_ctx *ctx = mg_context(L);
  if (!push_place(L)) lua_pushliteral(L, ""); /* made by C code */
  mg_getiuservalue(L, CTX_UV, 1);             /* the places: number -> place and place -> number */
  lua_pushvalue(L, -2);
  lua_rawget(L, -2);
  lua_Integer site = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (site == 0 && ctx->nsites == SITE_MAX - 1) site = SITE_MAX; /* full */
  if (site == 0) {
    site = ++ctx->nsites;
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, site);
    lua_pushvalue(L, -2);
    lua_pushinteger(L, site);
    lua_rawset(L, -3);
  }
  lua_pop(L, 2);
  n->spare = (uint16_t)((n->spare & ((1u << SITE_SHIFT) - 1)) | (uint16_t)(site << SITE_SHIFT));
}

void mg_anomaly_push_site(lua_State *L, const mg_node *n) {
  int site = n->spare >> SITE_SHIFT;
  mg_getiuservalue(L, CTX_UV, 1);
  lua_rawgeti(L, -1, site);
  lua_remove(L, -2);
  if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0) {
    lua_pop(L, 1);
    lua_pushliteral(L, "created by C code, outside any Lua function");
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    lua_pushliteral(L, "created at ");
    lua_insert(L, -2);
    lua_concat(L, 2);
  } else {
    lua_pop(L, 1);
    lua_pushstring(L, site == 0 ? "made while detect_anomaly was off"
                                : "made after too many places were recorded to keep its own");
  }
}

/* The backward message for what bad says of node n, whose operands are
 * args[0 .. nargs) (only the first MAX_SHOWN are read); replayed: sent by a
 * compiled graph's replay. */
static int raise_backward(lua_State *L, const mg_node *n, const mg_arg *args, uint32_t nargs,
                          const mg_anomaly *bad, int replayed) {
  int parts = 0;
  luaL_checkstack(L, MESSAGE_SLOTS, NULL);
  lua_pushfstring(L, "micrograd: anomaly: backward of '%s' ", mg_op_name((mg_op)n->op)), parts++;
  if (isfinite(bad->grad)) { /* a finite gradient, added to the operand's, overflowed */
    lua_pushliteral(L, "sent gradient "), parts++;
    push_number(L, bad->grad), parts++;
    lua_pushfstring(L, " to operand #" MG_FMT_INT ", whose gradient overflowed to ", MG_INT(bad->slot + 1)),
        parts++;
    push_number(L, bad->sum), parts++;
  } else {
    lua_pushliteral(L, "produced "), parts++;
    push_number(L, bad->grad), parts++;
    lua_pushfstring(L, " gradient for operand #" MG_FMT_INT, MG_INT(bad->slot + 1)), parts++;
  }
  lua_pushliteral(L, " ("), parts++;
  push_operands(L, args, nargs), parts++;
  lua_pushliteral(L, "; "), parts++;
  mg_anomaly_push_site(L, n), parts++;
  lua_pushstring(L, replayed ? "; replayed by a compiled graph)" : ")"), parts++;
  lua_concat(L, parts);
  return lua_error(L);
}

int mg_anomaly_backward(lua_State *L, const mg_anomaly *bad) {
  raise_backward(L, bad->node, bad->node->args, bad->node->nargs, bad, 0);
  MG_UNREACHABLE();
}

int mg_anomaly_replayed(lua_State *L, const mg_node *n, const double *operands, uint32_t nargs, double out,
                        const mg_anomaly *bad) {
  mg_arg shown[MAX_SHOWN];
  for (uint32_t i = 0; i < nargs && i < MAX_SHOWN; i++) shown[i].node = NULL, shown[i].k = operands[i];
  luaL_checkstack(L, MESSAGE_SLOTS, NULL);
  if (bad) {
    raise_backward(L, n, shown, nargs, bad, 1);
    MG_UNREACHABLE();
  }
  lua_pushfstring(L, "micrograd: anomaly: '%s' produced ", mg_op_name((mg_op)n->op));
  push_number(L, out);
  lua_pushliteral(L, " (");
  push_operands(L, shown, nargs);
  lua_pushliteral(L, "; ");
  mg_anomaly_push_site(L, n);
  lua_pushliteral(L, "; replayed by a compiled graph)");
  lua_concat(L, 7);
  lua_error(L);
  MG_UNREACHABLE();
}

/* ---- mg.detect_anomaly ---------------------------------------------------- */

/* A switch: what detect_anomaly(on) returns (user value 1: the context).
 * The mode is the `on` of the newest switch still open, or the base mode.
 * Closing a switch (`<close>`, :close(), an error or coroutine.close
 * unwinding its block) ends it, whatever the order: the switches opened
 * before it and still open decide again. A switch that is collected without
 * being closed ends too when it was made in a coroutine (that coroutine was
 * abandoned, or dropped the guard); made in the main thread, it lasts until
 * the next switch, as a plain mg.detect_anomaly(on) call does: it becomes
 * the base mode. The open switches are in the context's user value 2, a
 * table from `seq` to switch with weak values. */
typedef struct guard {
  int active, on, main;
  lua_Integer seq;
} guard;

#define SWITCH "micrograd.detect_anomaly"

/* Sets ctx->anomaly from the open switches (the table at index scopes),
 * dropping those that can no longer decide. */
static void anomaly_update(lua_State *L, mg_ctx *ctx, int scopes) {
  const guard *newest = NULL;
  lua_pushnil(L);
  while (lua_next(L, scopes)) {
    const guard *g = luaL_testudata(L, -1, SWITCH);
    lua_Integer seq = lua_tointeger(L, -2);
    lua_pop(L, 1);
    if (!g || !g->active || seq <= ctx->modes.anomaly_base_seq) {
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, scopes); /* clearing a field during the traversal is allowed */
    } else if (!newest || g->seq > newest->seq) {
      newest = g;
    }
  }
  ctx->anomaly = newest ? newest->on : ctx->modes.anomaly_base;
}

/* Ends the switch at index 1 (collected: by its finalizer). */
static int guard_end(lua_State *L, guard *g, int collected) {
  if (!g || !g->active) return 0;
  g->active = 0;
  lua_settop(L, 1);
  mg_getiuservalue(L, 1, 1);
  mg_ctx *ctx = lua_touserdata(L, 2);
  if (collected && g->main && g->seq > ctx->modes.anomaly_base_seq)
    ctx->modes.anomaly_base = g->on, ctx->modes.anomaly_base_seq = g->seq;
  mg_getiuservalue(L, 2, 2);
  lua_pushnil(L);
  lua_rawseti(L, 3, g->seq);
  anomaly_update(L, ctx, 3);
  return 0;
}

static int guard_close(lua_State *L) { return guard_end(L, luaL_checkudata(L, 1, SWITCH), 0); }
static int guard_gc(lua_State *L) { return guard_end(L, luaL_testudata(L, 1, SWITCH), 1); }

/* Pushes a new switch turning the mode to `on`. */
static void push_switch(lua_State *L, mg_ctx *ctx, int on) {
  int main = mg_is_main_thread(L);
  mg_getiuservalue(L, CTX_UV, 2); /* the open switches */
  int scopes = lua_gettop(L);
  guard *g = mg_newuserdatauv(L, sizeof *g, 1);
  g->active = 0, g->on = on, g->main = main, g->seq = ++ctx->modes.anomaly_seq;
  lua_pushvalue(L, CTX_UV);
  mg_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, SWITCH);
  lua_pushvalue(L, -1);
  lua_rawseti(L, scopes, g->seq); /* may raise (memory): the switch is not on yet */
  g->active = 1;
  ctx->anomaly = g->on;
  lua_remove(L, scopes);
}

#if MG_HAS_CLOSE
static int call_done(lua_State *L, int status, lua_KContext k) {
  (void)status, (void)k;
  return lua_gettop(L) - 1; /* the results; returning closes the switch below them */
}
#else
/* Without to-be-closed slots: fn ran in a protected call; the switch (index
 * 1) ends now, whether fn returned or raised (then the error goes on). */
static int call_done(lua_State *L, int status) {
  guard *g = lua_touserdata(L, 1);
  if (g->active) {
    lua_pushcfunction(L, guard_close);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
  }
  if (status != LUA_OK && status != LUA_YIELD) return lua_error(L);
  return lua_gettop(L) - 1;
}
#if LUA_VERSION_NUM >= 503
static int call_resumed(lua_State *L, int status, lua_KContext k) {
  (void)k;
  return call_done(L, status);
}
#endif
#endif

/* mg.detect_anomaly(): whether it is on. mg.detect_anomaly(on): turns it on
 * or off and returns a guard whose closing ends the switch.
 * mg.detect_anomaly(on, fn, ...): fn(...) with the mode `on`, the switch
 * ended however fn ends (the form for Luas without `<close>`). */
static int anomaly_detect(lua_State *L) {
  mg_ctx *ctx = mg_context(L);
  int n = lua_gettop(L);
  if (n == 0 || (n == 1 && lua_isnil(L, 1))) {
    lua_pushboolean(L, ctx->anomaly);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TBOOLEAN) mg_type_error(L, 1, "detect_anomaly", "boolean or nil");
  if (n >= 2 && lua_type(L, 2) != LUA_TFUNCTION) { /* or a callable object, e.g. a model */
    if (luaL_getmetafield(L, 2, "__call") == LUA_TNIL)
      mg_type_error(L, 2, "detect_anomaly", "function or none");
    lua_pop(L, 1);
  }
  push_switch(L, ctx, lua_toboolean(L, 1));
  if (n < 2) return 1;
  lua_replace(L, 1); /* switch, fn, args... */
#if MG_HAS_CLOSE
  lua_toclose(L, 1); /* closed on return and on error */
  lua_callk(L, n - 2, LUA_MULTRET, 0, call_done);
  return call_done(L, LUA_OK, 0);
#elif LUA_VERSION_NUM >= 503
  return call_done(L, lua_pcallk(L, n - 2, LUA_MULTRET, 0, 0, call_resumed));
#else
  return call_done(L, lua_pcall(L, n - 2, LUA_MULTRET, 0));
#endif
}

void mg_register_anomaly(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {{"detect_anomaly", anomaly_detect}, {NULL, NULL}};
  lua_newtable(L); /* the places */
  mg_setiuservalue(L, upvalues, 1);
  lua_newtable(L); /* the open switches, weak values */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  mg_setiuservalue(L, upvalues, 2);
  if (luaL_newmetatable(L, SWITCH)) {
    static const luaL_Reg methods[] = {
        {"__close", guard_close}, {"close", guard_close}, {"__gc", guard_gc}, {NULL, NULL}};
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  mg_setfuncs(L, module, functions, upvalues);
}
