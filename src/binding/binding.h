/*
 * binding.h - what the Lua binding's files share.
 *
 * Every C function of the module is a closure with the same upvalues, so the
 * per-state context is one index away and no C static holds state.
 */
#ifndef MG_BINDING_H
#define MG_BINDING_H

#include "compat.h"
#include "engine.h"
#include "mg_limits.h"
#include "rng.h"

/* The scopes behind the modes (SPEC: modes never leak). Each no_grad scope
 * and each detect_anomaly switch is a guard userdata that ends it exactly
 * once: when closed, or when collected (see module.c and anomaly.c). */
typedef struct mg_modes {
  int no_grad_open;        /* no_grad scopes open */
  int no_grad_traced;      /* of them, those opened during the current trace */
  lua_Integer trace;       /* number of the current trace (the last one when not tracing) */
  int anomaly_base;        /* detect_anomaly's mode when no switch after anomaly_base_seq is open */
  lua_Integer anomaly_seq; /* numbers the detect_anomaly switches */
  lua_Integer anomaly_base_seq;
} mg_modes;

/* Per-lua_State engine state (a userdata in upvalue CTX_UV). */
typedef struct mg_ctx {
  int no_grad;             /* > 0 while ops record no graph (set from the scopes below) */
  int tracing;             /* > 0 while mg.compile runs the function it compiles */
  int anomaly;             /* mg.detect_anomaly: ops and backward check for nan and inf */
  mg_modes modes;          /* the open scopes behind no_grad and anomaly (module.c, anomaly.c) */
  uint16_t nsites;         /* creation sites recorded for detect_anomaly (anomaly.c) */
  mg_rng rng;              /* the engine's generator */
  const void *value_meta;  /* address of the Value metatable (META_UV), for fast type checks */
  const void *vector_meta; /* address of the Vector metatable (VECTOR_META_UV) */
  lua_Integer traced;      /* Values in the list of the running mg.compile (compile.c) */
} mg_ctx;

/* Upvalues shared by every function of the module, in this order. While
 * the module is being registered they sit on the stack from index
 * `upvalues` on: the one for MG_UV_X at upvalues + MG_UV_X. */
enum {
  MG_UV_CTX,         /* mg_ctx userdata */
  MG_UV_META,        /* the Value metatable */
  MG_UV_LABELS,      /* weak-keyed table: Value -> label */
  MG_UV_VECTOR_META, /* the Vector metatable */
  MG_NUPVALUES
};
#define CTX_UV         lua_upvalueindex(1 + MG_UV_CTX)
#define META_UV        lua_upvalueindex(1 + MG_UV_META)
#define LABELS_UV      lua_upvalueindex(1 + MG_UV_LABELS)
#define VECTOR_META_UV lua_upvalueindex(1 + MG_UV_VECTOR_META)

/* Every userdata type of the module (Value, Graph, ParamSet, Buffer,
 * Generator, Vector) is a class, registered one way (mg_register_class):
 * a metatable of metamethods, and a table of methods. A class with no fields
 * has the methods table as its __index; one with fields (Value's data, a
 * Graph's nodes, a Vector's elements) lists its own __index among its
 * metamethods, a C function that reads the fields and falls back to the
 * methods table, its upvalue CLASS_METHODS_UV. Every function of a class
 * has the module's upvalues. */
typedef struct mg_class {
  const char *tname;           /* registry key of the metatable (NULL: the caller made it) */
  const luaL_Reg *metamethods; /* "__index" among them: a class with fields */
  const luaL_Reg *methods;
} mg_class;
#define CLASS_METHODS_UV lua_upvalueindex(MG_NUPVALUES + 1) /* in a class's __index */

/* Pushes the metatable of class c (the table at index meta if meta is not 0,
 * else the registry's c->tname, made if missing) and a new table for its
 * methods, for a caller that adds more of either (Value: its ops); returns 0
 * if the registry's metatable was there already and complete (mg_class_end
 * then leaves it as it is). Its __index is set last: a metatable without one
 * was left half made by a refused allocation, and is filled again. */
int mg_class_begin(lua_State *L, const mg_class *c, int meta);
/* Puts c's metamethods and methods into the two tables mg_class_begin
 * pushed (unless `fresh` is 0), with the module's upvalues from index
 * `upvalues` on, sets __index (and __name, where the Lua has no
 * luaL_newmetatable setting it); pops both. */
void mg_class_end(lua_State *L, const mg_class *c, int fresh, int upvalues);
/* Both at once. */
void mg_register_class(lua_State *L, const mg_class *c, int meta, int upvalues);

/* Bits in mg_node.spare: the Value has an entry in the labels table; a dot
 * node's operands are kept by two Vectors (user values 1 and 2) and its bias
 * (user value 3), not one user value per operand slot. */
#define HAS_LABEL  1
#define BY_VECTORS 2

/* The rest of mg_node.spare: bits 2 and 3 are free; the top 12 bits number the
 * place where a node was made in detect_anomaly mode (0: not recorded;
 * SITE_MAX: made when the table of places was full). */
#define SITE_SHIFT 4
#define SITE_MAX   0x0fff

/* Sets ctx->no_grad from the open scopes: while tracing, only those opened
 * during the trace count (mg.compile records in grad mode). */
static inline void mg_modes_update(mg_ctx *ctx) {
  ctx->no_grad = ctx->tracing ? ctx->modes.no_grad_traced : ctx->modes.no_grad_open;
}

/* Whether L is the state's main thread (a scope opened there cannot be
 * abandoned with a coroutine). */
static inline int mg_is_main_thread(lua_State *L) {
  int main = lua_pushthread(L);
  lua_pop(L, 1);
  return main;
}

static inline mg_ctx *mg_context(lua_State *L) { return (mg_ctx *)lua_touserdata(L, CTX_UV); }

/* Argument checks whose messages name the function: "bad argument #1 to 'f' (...)". */
/* They raise a Lua error and never return (C11's _Noreturn says so to the
 * compiler and the static analysers); the int return type allows
 * `return mg_arg_error(...)`. */
#define _Noreturn _Noreturn
#if defined(__GNUC__) || defined(__clang__)
#define MG_UNREACHABLE() __builtin_unreachable()
#else
#define MG_UNREACHABLE() for (;;) /* luaL_error does not return */
#endif
_Noreturn int mg_arg_error(lua_State *L, int arg, const char *fname, const char *msg);
_Noreturn int mg_type_error(lua_State *L, int arg, const char *fname, const char *expected);
double mg_check_number(lua_State *L, int arg, const char *fname);
const char *mg_typename(lua_State *L, int idx);

/* The node of the Value at idx, or NULL if it is not a Value. */
mg_node *mg_to_value(lua_State *L, int idx);

/* The same, given the context: a full userdata whose metatable is this
 * module's Value metatable (compared by address). */
static inline mg_node *mg_to_value_ctx(lua_State *L, int idx, const mg_ctx *ctx) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return NULL;
  const void *mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  return mt == ctx->value_meta ? (mg_node *)lua_touserdata(L, idx) : NULL;
}

/* detect_anomaly (anomaly.c), used when ctx->anomaly is set. mg_anomaly_forward
 * raises the anomaly error when out, the value op computed from the nargs
 * operands, is a nan and none of them is, or an infinity and all of them are
 * finite (the op that made it, not one that passes it on); mg_anomaly_site records the
 * place in Lua code where the op node n is being made (its number goes in
 * n->spare, the place in the table that is the context's user value 1);
 * mg_anomaly_backward raises the error for what mg_backward_checked found. */
void mg_anomaly_forward(lua_State *L, mg_op op, double out, const mg_arg *args, uint32_t nargs);
void mg_anomaly_site(lua_State *L, mg_node *n);
_Noreturn int mg_anomaly_backward(lua_State *L, const mg_anomaly *bad);

/* The same errors for an op a compiled graph replays (compile.c): n is its
 * traced node (for its op and place), operands the values of its nargs
 * operands now (the first MG_ANOMALY_SHOWN, the most a message shows), out
 * its value; bad NULL for the forward error, else what the checked backward
 * found (its node and slot as for mg_anomaly_backward). */
#define MG_ANOMALY_SHOWN 6
_Noreturn int mg_anomaly_replayed(lua_State *L, const mg_node *n, const double *operands, uint32_t nargs,
                                  double out, const mg_anomaly *bad);

/* While mg.compile runs: remembers the Value at idx as made by it, so that
 * its marks (MG_TRACED, ...) are cleared when the compile ends (compile.c). */
void mg_trace_remember(lua_State *L, int idx);

/* Pushes where the op node n was made, for messages: "created at file:line"
 * as mg_anomaly_site recorded it, or why there is no place ("made while
 * detect_anomaly was off", ...). */
void mg_anomaly_push_site(lua_State *L, const mg_node *n);

/* A Vector (vector.c): an immutable array of numbers and Values. */
typedef struct mg_vector {
  uint32_t n;
  mg_arg at[]; /* the elements: a Value's node, or a number */
} mg_vector;

/* Pushes a new Vector made from the array at stack index idx (absolute);
 * errors name argument arg of fname. */
mg_vector *mg_push_vector(lua_State *L, int idx, const char *fname, int arg);

/* The Vector at idx, or NULL. */
mg_vector *mg_to_vector(lua_State *L, int idx, const mg_ctx *ctx);

/* Pushes the element at 1-based position k of the Vector at idx. */
void mg_push_vector_element(lua_State *L, int idx, uint32_t k);

/* Sets table[name] = a closure of each function in regs, with the MG_NUPVALUES
 * values at stack indices upvalues .. upvalues + MG_NUPVALUES - 1 as its upvalues. */
void mg_setfuncs(lua_State *L, int table, const luaL_Reg *regs, int upvalues);

/* Register the Value functions and metamethods (value.c) and the generator's
 * functions (random.c): module is the module table's index, upvalues as above. */
void mg_register_value(lua_State *L, int module, int upvalues);
void mg_register_random(lua_State *L, int module, int upvalues);
void mg_register_params(lua_State *L, int module, int upvalues);
void mg_register_vector(lua_State *L, int module, int upvalues);
void mg_register_system(lua_State *L, int module, int upvalues);
void mg_register_compile(lua_State *L, int module, int upvalues);
void mg_register_anomaly(lua_State *L, int module, int upvalues);

/* The loader of the internal module micrograd._system (system.c), which
 * luaopen_micrograd_core puts in package.preload; mg_openlibs does too, as
 * 5.1's package library, opened again, starts an empty package.preload. */
int mg_open_system(lua_State *L);

#endif
