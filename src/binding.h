/*
 * binding.h - what the Lua binding's files share.
 *
 * Every C function of the module is a closure with the same upvalues, so the
 * per-state context is one index away and no C static holds state.
 */
#ifndef MG_BINDING_H
#define MG_BINDING_H

#include <lauxlib.h>
#include <lua.h>

#include "engine.h"
#include "rng.h"

/* Per-lua_State engine state (a userdata in upvalue CTX_UV). */
typedef struct mg_ctx {
  int no_grad; /* > 0 while ops record no graph */
  mg_rng rng;  /* the engine's generator */
} mg_ctx;

/* Upvalues shared by every function of the module. */
#define CTX_UV       lua_upvalueindex(1) /* mg_ctx userdata */
#define META_UV      lua_upvalueindex(2) /* the Value metatable */
#define LABELS_UV    lua_upvalueindex(3) /* weak-keyed table: Value -> label */
#define METHODS_UV   lua_upvalueindex(4) /* Value methods (relu, backward, ...) */
#define MG_NUPVALUES 4

/* Bit in mg_node.spare: this Value has an entry in the labels table. */
#define HAS_LABEL 1

static inline mg_ctx *mg_context(lua_State *L) { return (mg_ctx *)lua_touserdata(L, CTX_UV); }

/* Argument checks whose messages name the function: "bad argument #1 to 'f' (...)". */
int mg_arg_error(lua_State *L, int arg, const char *fname, const char *msg);
int mg_type_error(lua_State *L, int arg, const char *fname, const char *expected);
double mg_check_number(lua_State *L, int arg, const char *fname);
const char *mg_typename(lua_State *L, int idx);

/* The node of the Value at idx, or NULL if it is not a Value. */
mg_node *mg_to_value(lua_State *L, int idx);

/* Sets table[name] = a closure of each function in regs, with the MG_NUPVALUES
 * values at stack indices upvalues .. upvalues + 3 as its upvalues. */
void mg_setfuncs(lua_State *L, int table, const luaL_Reg *regs, int upvalues);

/* Register the Value functions and metamethods (value.c) and the generator's
 * functions (random.c): module is the module table's index, upvalues as above. */
void mg_register_value(lua_State *L, int module, int upvalues);
void mg_register_random(lua_State *L, int module, int upvalues);
void mg_register_params(lua_State *L, int module, int upvalues);

#endif
