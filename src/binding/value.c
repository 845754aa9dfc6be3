/*
 * value.c - the Value userdata: each one holds its mg_node inline.
 *
 * A node's operands are kept alive by its userdata (constants live in the
 * node itself; a dot over Vectors keeps the two Vectors and its bias), so a
 * Value needs no finalizer and the garbage collector frees a graph when
 * nothing refers to its root. How depends on the Lua (see "keeping operands
 * alive" below).
 */
#include <string.h>

#include "binding.h"

/* ---- keeping operands alive ---------------------------------------------
 * What each Lua gives a userdata, and what a Value does with it:
 *   5.4      many user values: user value i + 1 keeps operand slot i (no
 *            allocation beyond the userdata itself); past MAX_KEPT slots, one
 *            table in user value 1.
 *   5.3      one user value, any Lua value: a node with one Value operand
 *            keeps it there directly (no allocation: relu, x * 2); one with
 *            more keeps them as the upvalues of a C closure (one allocation,
 *            the smallest Lua object that holds n values: no separate array
 *            part as a table has); past MAX_KEPT (Lua's upvalue limit), a table.
 *   5.1/JIT  an environment, which must be a table: a table of the operands
 *            (LuaJIT allocates a small table's array with the table).
 * The slots are numbered as the node's operand slots (0-based); a dot over
 * Vectors keeps 3 slots (w, x, bias). Only nodes made in grad mode keep
 * anything (in no-grad mode they become leaves). */
#if LUA_VERSION_NUM >= 504
#define MAX_KEPT 64
#elif LUA_VERSION_NUM == 503
#define MAX_KEPT 255
#else
#define MAX_KEPT 0
#endif

/* A dot over Vectors keeps 3 slots: w, x (Vectors), the bias. */
#define DOT_KEPT 3u

/* Pushes a new Value userdata of size bytes with room to keep `slots` slots
 * (none when nothing is kept). */
static mg_node *new_value_userdata(lua_State *L, const mg_ctx *ctx, size_t size, uint32_t slots) {
#if LUA_VERSION_NUM >= 504
  int nuv = ctx->no_grad ? 0 : slots > MAX_KEPT ? 1 : (int)slots;
  mg_node *n = lua_newuserdatauv(L, size, nuv);
#else
  (void)ctx, (void)slots;
  mg_node *n = lua_newuserdata(L, size);
#endif
  lua_pushvalue(L, META_UV);
  lua_setmetatable(L, -2);
  return n;
}

#if LUA_VERSION_NUM == 503
/* The function of a 5.3 node's closure of operands: never meant to be called. */
static int kept_operands(lua_State *L) {
  return luaL_error(L, "the operands a Value keeps are not a function");
}
#endif

/* Keeps what the binary (or unary: ib 0) op node at stack index node takes
 * from stack indices ia and ib (0: a number, nothing to keep) in its slots 0
 * and 1. */
static void keep_operands2(lua_State *L, int node, int ia, int ib) {
#if LUA_VERSION_NUM >= 504
  if (ia) lua_pushvalue(L, ia), lua_setiuservalue(L, node, 1);
  if (ib) lua_pushvalue(L, ib), lua_setiuservalue(L, node, 2);
#elif LUA_VERSION_NUM == 503
  if (ia && ib) {
    lua_pushvalue(L, ia);
    lua_pushvalue(L, ib);
    lua_pushcclosure(L, kept_operands, 2);
  } else {
    lua_pushvalue(L, ia ? ia : ib);
  }
  lua_setuservalue(L, node);
#else
  lua_createtable(L, ib ? 2 : 1, 0);
  if (ia) lua_pushvalue(L, ia), lua_rawseti(L, -2, 1);
  if (ib) lua_pushvalue(L, ib), lua_rawseti(L, -2, 2);
  lua_setfenv(L, node);
#endif
}

/* Makes room to keep `slots` slots in the new Value at stack index node (an
 * absolute index, the top of the stack). Returns the stack index of a table
 * of them that it pushes, or 0 (pushes nothing). */
static int keep_begin(lua_State *L, int node, uint32_t slots) {
  if (slots > MAX_KEPT) {
    lua_createtable(L, (int)slots, 0);
    lua_pushvalue(L, -1);
#if LUA_VERSION_NUM >= 504
    lua_setiuservalue(L, node, 1);
#elif LUA_VERSION_NUM == 503
    lua_setuservalue(L, node);
#else
    lua_setfenv(L, node);
#endif
    return lua_gettop(L);
  }
#if LUA_VERSION_NUM == 503
  if (slots > 1) { /* a closure with `slots` nil upvalues */
    luaL_checkstack(L, (int)slots, "too many operands");
    for (uint32_t i = 0; i < slots; i++) lua_pushnil(L);
    lua_pushcclosure(L, kept_operands, (int)slots);
    lua_setuservalue(L, node);
  }
#endif
  (void)node;
  return 0;
}

/* Pops the value on top of the stack into slot i of the `slots` that the
 * Value at stack index node keeps (table: what keep_begin returned). */
static void keep_set(lua_State *L, int node, int table, uint32_t slots, uint32_t i) {
  if (table) {
    lua_rawseti(L, table, (lua_Integer)i + 1);
    return;
  }
  (void)slots;
#if LUA_VERSION_NUM >= 504
  lua_setiuservalue(L, node, (int)i + 1);
#elif LUA_VERSION_NUM == 503
  if (slots == 1) {
    lua_setuservalue(L, node);
  } else {
    lua_getuservalue(L, node);
    lua_insert(L, -2);
    lua_setupvalue(L, -2, (int)i + 1);
    lua_pop(L, 1);
  }
#else
  (void)node, (void)i;
  lua_pop(L, 1); /* unreachable: MAX_KEPT is 0, every node has a table */
#endif
}

/* Pushes what slot i of the `slots` that the Value at idx keeps holds. */
static void push_kept(lua_State *L, int idx, uint32_t slots, uint32_t i) {
#if LUA_VERSION_NUM >= 504
  if (slots > MAX_KEPT) {
    lua_getiuservalue(L, idx, 1);
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    lua_remove(L, -2);
  } else {
    lua_getiuservalue(L, idx, (int)i + 1);
  }
#else
  (void)slots;
#if LUA_VERSION_NUM == 503
  lua_getuservalue(L, idx);
#else
  lua_getfenv(L, idx);
#endif
  switch (lua_type(L, -1)) {
  case LUA_TTABLE: lua_rawgeti(L, -1, (lua_Integer)i + 1); break;
  case LUA_TFUNCTION:
    if (!lua_getupvalue(L, -1, (int)i + 1)) lua_pushnil(L);
    break;
  default: return; /* the one operand itself (5.3) */
  }
  lua_remove(L, -2);
#endif
}

/* ---- argument checks ----------------------------------------------------- */

const char *mg_typename(lua_State *L, int idx) {
  FILE *file;
  if (mg_tofile(L, idx, &file)) return file ? "file" : "closed file"; /* as io.type says, not "FILE*" */
  int t = luaL_getmetafield(L, idx, "__name");                        /* pushes nothing when absent */
  if (t == LUA_TSTRING) {
    const char *name = lua_tostring(L, -1);
    lua_pop(L, 1);
    return name; /* still referenced by the metatable of the value at idx */
  }
  if (t != LUA_TNIL) lua_pop(L, 1);
  return luaL_typename(L, idx);
}

_Noreturn int mg_arg_error(lua_State *L, int arg, const char *fname, const char *msg) {
  luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
  MG_UNREACHABLE(); /* luaL_error raises */
}

_Noreturn int mg_type_error(lua_State *L, int arg, const char *fname, const char *expected) {
  const char *msg = lua_pushfstring(L, "%s expected, got %s", expected, mg_typename(L, arg));
  mg_arg_error(L, arg, fname, msg);
}

double mg_check_number(lua_State *L, int arg, const char *fname) {
  int ok;
  double x = (double)lua_tonumberx(L, arg, &ok);
  if (!ok) mg_type_error(L, arg, fname, "number");
  return x;
}

mg_node *mg_to_value(lua_State *L, int idx) { return mg_to_value_ctx(L, idx, mg_context(L)); }

static mg_node *check_value(lua_State *L, int arg, const char *fname) {
  mg_node *n = mg_to_value(L, arg);
  if (!n) mg_type_error(L, arg, fname, "Value");
  return n;
}

/* An operand at arg: its node (value in *x), or NULL for a number (in *x). */
static mg_node *check_operand(lua_State *L, const mg_ctx *ctx, int arg, const char *fname, double *x) {
  int ok;
  mg_node *n = mg_to_value_ctx(L, arg, ctx);
  if (n) {
    *x = n->data;
    return n;
  }
  *x = (double)lua_tonumberx(L, arg, &ok); /* a number or a numeric string */
  if (!ok) {
    const char *got = mg_typename(L, arg);
    mg_arg_error(L, arg, fname, lua_pushfstring(L, "number or Value expected, got %s", got));
  }
  return NULL;
}

/* ---- making Values ------------------------------------------------------- */

/* Every function that makes Values reads the context once, into a copy
 * (`found`), when it starts: an allocation can run a finalizer, which may
 * open or close no_grad or detect_anomaly, and an op that changed mode
 * halfway would keep operands it does not hold alive (a node made with no
 * user values in no-grad mode, finished as an op in grad mode). */

/* Pushes a new Value with nargs operand slots, with room to keep them
 * unless in no-grad mode (see "keeping operands alive"). */
static mg_node *new_value(lua_State *L, const mg_ctx *ctx, uint32_t nargs) {
  return new_value_userdata(L, ctx, mg_node_size(nargs), nargs);
}

static mg_node *push_leaf(lua_State *L, const mg_ctx *ctx, double x) {
  mg_node *n = new_value(L, ctx, 0);
  mg_leaf_init(n, x);
  if (ctx->tracing) { /* a constant of the compiled graph */
    n->flags |= MG_TRACED;
    mg_trace_remember(L, -1);
  }
  return n;
}

/* While mg.compile traces: whether any operand of n depends on an input. */
static int depends_on_input(const mg_node *n) {
  for (uint32_t i = 0; i < n->nargs; i++)
    if (n->args[i].node && (n->args[i].node->flags & MG_DEPENDS)) return 1;
  return 0;
}

/* While mg.compile traces, an op under no_grad would freeze a value that
 * depends on the inputs: refuse it. */
static void check_frozen(lua_State *L, int depends) {
  if (depends)
    luaL_error(L, "compile: an op under no_grad on a Value that depends on an input cannot be replayed");
}

/* While mg.compile traces: marks the new op node n as part of the graph, and
 * records where it is made (for detect_anomaly's messages from the compiled
 * graph; in detect_anomaly mode check_anomaly does). */
static void trace(lua_State *L, const mg_ctx *ctx, mg_node *n) {
  n->flags |= MG_TRACED | (depends_on_input(n) ? MG_DEPENDS : 0);
  mg_trace_remember(L, -1); /* n is the Value on top of the stack */
  if (!ctx->anomaly && !ctx->no_grad) mg_anomaly_site(L, n);
}

/* In detect_anomaly mode: checks the new op node n (unless it depends on an
 * input of the graph mg.compile traces: its value is a placeholder's) and,
 * when it keeps its operands, records where it is made. */
static void check_anomaly(lua_State *L, const mg_ctx *ctx, mg_node *n) {
  if (!(n->flags & MG_DEPENDS)) mg_anomaly_forward(L, (mg_op)n->op, n->data, n->args, n->nargs);
  if (!ctx->no_grad) mg_anomaly_site(L, n);
}

/* After the operands are set: computes the value; in no-grad mode the node
 * forgets its operands and becomes a leaf. */
static void finish_value(lua_State *L, const mg_ctx *ctx, mg_node *n) {
  mg_forward(n);
  if (ctx->tracing) {
    if (ctx->no_grad) check_frozen(L, depends_on_input(n));
    trace(L, ctx, n);
  }
  if (ctx->anomaly) check_anomaly(L, ctx, n);
  if (ctx->no_grad) n->op = MG_OP_LEAF, n->nargs = 0, n->flags &= (uint8_t)~MG_DEPENDS;
}

/* Pushes the Value in operand slot i of the Value at idx. */
static void push_operand(lua_State *L, int idx, const mg_node *n, uint32_t i) {
  if (n->spare & BY_VECTORS) { /* a dot over Vectors: bias, then w1, x1, w2, x2, ... */
    uint32_t bias = (n->flags & MG_DOT_BIAS) != 0;
    if (bias && i == 0) {
      push_kept(L, idx, DOT_KEPT, 2);
    } else {
      push_kept(L, idx, DOT_KEPT, (i - bias) % 2);
      mg_push_vector_element(L, lua_gettop(L), (i - bias) / 2 + 1);
      lua_remove(L, -2);
    }
  } else {
    push_kept(L, idx, n->nargs, i);
  }
}

/* a op b, either side a number. */
static int arith(lua_State *L, mg_op op) {
  const mg_ctx found = *mg_context(L), *ctx = &found;
  const char *name = mg_op_name(op);
  double a, b;
  mg_node *na = check_operand(L, ctx, 1, name, &a), *nb = check_operand(L, ctx, 2, name, &b);
  if (ctx->no_grad) {
    if (ctx->tracing) check_frozen(L, ((na ? na->flags : 0) | (nb ? nb->flags : 0)) & MG_DEPENDS);
    double out = mg_apply(op, a, b);
    if (ctx->anomaly) {
      mg_arg args[2] = {{NULL, a}, {NULL, b}};
      mg_anomaly_forward(L, op, out, args, 2);
    }
    push_leaf(L, ctx, out);
    return 1;
  }
  lua_settop(L, 2); /* the new Value is 3 (a metamethod called directly may get more arguments) */
  mg_node *n = new_value(L, ctx, 2);
  mg_op_init(n, op, 2, 0);
  if (na)
    mg_set_arg(n, 0, na);
  else
    mg_set_const(n, 0, a);
  if (nb)
    mg_set_arg(n, 1, nb);
  else
    mg_set_const(n, 1, b);
  keep_operands2(L, 3, na ? 1 : 0, nb ? 2 : 0);
  n->data = mg_apply(op, a, b);
  if (ctx->tracing) trace(L, ctx, n);
  if (ctx->anomaly) check_anomaly(L, ctx, n);
  return 1;
}

/* f(v) for the unary ops; errors name the method (unary minus: "-"). */
static int unary(lua_State *L, mg_op op) {
  const mg_ctx found = *mg_context(L), *ctx = &found;
  mg_node *a = mg_to_value_ctx(L, 1, ctx);
  if (!a) mg_type_error(L, 1, op == MG_OP_NEG ? "-" : mg_op_name(op), "Value");
  if (ctx->no_grad) {
    if (ctx->tracing) check_frozen(L, a->flags & MG_DEPENDS);
    double out = mg_apply(op, a->data, 0);
    if (ctx->anomaly) {
      mg_arg arg = {NULL, a->data};
      mg_anomaly_forward(L, op, out, &arg, 1);
    }
    push_leaf(L, ctx, out);
    return 1;
  }
  lua_settop(L, 1);
  mg_node *n = new_value(L, ctx, 1);
  mg_op_init(n, op, 1, 0);
  mg_set_arg(n, 0, a);
  keep_operands2(L, 2, 1, 0);
  n->data = mg_apply(op, a->data, 0);
  if (ctx->tracing) trace(L, ctx, n);
  if (ctx->anomaly) check_anomaly(L, ctx, n);
  return 1;
}

/* The Lua function of each scalar op of the table (ops.h): op_<rule>. */
#define OP_FN_LEAF(CODE, rule)
#define OP_FN_UNARY(CODE, rule)                                                                              \
  static int op_##rule(lua_State *L) { return unary(L, MG_OP_##CODE); }
#define OP_FN_BINARY(CODE, rule)                                                                             \
  static int op_##rule(lua_State *L) { return arith(L, MG_OP_##CODE); }
#define OP_FN_SUM(CODE, rule)
#define OP_FN_DOT(CODE, rule)
#define OP_FN_LSE(CODE, rule)
#define OP_FN(CODE, rule, name, kind, lua, lo, hi) OP_FN_##kind(CODE, rule)
MG_OP_TABLE(OP_FN)
#undef OP_FN

static int value_unsupported(lua_State *L, const char *op) {
  return luaL_error(L, "Value does not support '%s' (Values support + - * / ^ and unary -)", op);
}
static int value_mod(lua_State *L) { return value_unsupported(L, "%"); }
static int value_idiv(lua_State *L) { return value_unsupported(L, "//"); }

/* ---- n-ary nodes: sum and dot -------------------------------------------- */

/* Length of the array argument arg of fname. */
static uint32_t check_array(lua_State *L, int arg, const char *fname) {
  if (lua_type(L, arg) != LUA_TTABLE) mg_type_error(L, arg, fname, "table");
  lua_Unsigned len = lua_rawlen(L, arg);
  if (len > MG_MAX_ARGS / 2) mg_arg_error(L, arg, fname, "array too long");
  return (uint32_t)len;
}

/* A new n-ary Value: pushes it, and after it its operand table if it needs
 * one; *table is that table's stack index, or 0. */
static mg_node *new_nary(lua_State *L, const mg_ctx *ctx, uint32_t nargs, int *table) {
  mg_node *n = new_value(L, ctx, nargs);
  *table = ctx->no_grad ? 0 : keep_begin(L, lua_gettop(L), nargs);
  return n;
}

/* Pops the value on top of the stack into operand slot i of n (the new Value
 * at stack index node; its operand table at `table`, or 0). The value is an
 * element of argument arg at `index`, or the argument itself if index is 0. */
static void pop_operand(lua_State *L, const mg_ctx *ctx, mg_node *n, int node, int table, uint32_t i, int arg,
                        lua_Integer index, const char *fname) {
  mg_node *v = mg_to_value_ctx(L, -1, ctx);
  int ok;
  if (v) {
    mg_set_arg(n, i, v);
    if (ctx->no_grad)
      lua_pop(L, 1);
    else
      keep_set(L, node, table, n->nargs, i);
    return;
  }
  double x = (double)lua_tonumberx(L, -1, &ok);
  if (!ok) {
    const char *got = mg_typename(L, -1);
    const char *msg = index ? lua_pushfstring(L, "number or Value expected at index " MG_FMT_INT ", got %s",
                                              MG_INT(index), got)
                            : lua_pushfstring(L, "number or Value expected, got %s", got);
    mg_arg_error(L, arg, fname, msg);
  }
  mg_set_const(n, i, x);
  lua_pop(L, 1);
}

/* An n-ary op reads the modes many times, across allocations, whose garbage
 * collection steps may run finalizers that end scopes (modes never leak): it
 * works on a copy of the context as the op found it, so that it keeps its
 * operands if and only if it records them. */

/* One node op(vs[1], vs[2], ...) over the array argument 1 of fname. */
static int nary_op(lua_State *L, mg_op op, const char *fname) {
  const mg_ctx found = *mg_context(L), *ctx = &found;
  uint32_t len = check_array(L, 1, fname);
  int table;
  if (len == 0 && op == MG_OP_LOGSUMEXP)
    mg_arg_error(L, 1, fname, "non-empty array expected, got an empty one");
  lua_settop(L, 1);
  mg_node *n = new_nary(L, ctx, len, &table);
  mg_op_init(n, op, len, 0);
  for (uint32_t i = 0; i < len; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    pop_operand(L, ctx, n, 2, table, i, 1, (lua_Integer)i + 1, fname);
  }
  lua_settop(L, 2);
  finish_value(L, ctx, n);
  return 1;
}

/* mg.sum(vs): vs[1] + vs[2] + ... left to right, one node. */
static int value_sum(lua_State *L) { return nary_op(L, MG_OP_SUM, "sum"); }

/* mg.logsumexp(vs): ln(e^vs[1] + e^vs[2] + ...), stable (ops.h), one node. */
static int value_logsumexp(lua_State *L) { return nary_op(L, MG_OP_LOGSUMEXP, "logsumexp"); }

/* The Vector argument arg of dot, or NULL; a table argument is replaced by a
 * Vector when `convert` (the other argument is a Vector). */
static mg_vector *dot_vector(lua_State *L, const mg_ctx *ctx, int arg, int convert) {
  mg_vector *v = mg_to_vector(L, arg, ctx);
  if (v || !convert) return v;
  v = mg_push_vector(L, arg, "dot", arg);
  lua_replace(L, arg);
  return v;
}

/* mg.dot over Vectors: copies the operand pointers in C and keeps the two
 * Vectors and the bias as the node's user values 1, 2, 3. */
static int dot_vectors(lua_State *L, const mg_ctx *ctx, mg_vector *w, mg_vector *x) {
  if (w->n != x->n)
    mg_arg_error(
        L, 2, "dot",
        lua_pushfstring(L, "array of length %d expected (as #1), got length %d", (int)w->n, (int)x->n));
  int has_bias = !lua_isnoneornil(L, 3);
  uint32_t nargs = 2 * w->n + (uint32_t)has_bias, slot = 0;
  lua_settop(L, 3);
  mg_node *n = new_value_userdata(L, ctx, mg_node_size(nargs), DOT_KEPT); /* 4 */
  mg_op_init(n, MG_OP_DOT, nargs, has_bias ? MG_DOT_BIAS : 0);
  if (has_bias) {
    double b;
    mg_node *bias = check_operand(L, ctx, 3, "dot", &b);
    if (bias)
      mg_set_arg(n, slot++, bias);
    else
      mg_set_const(n, slot++, b);
  }
  for (uint32_t i = 0; i < w->n; i++) n->args[slot++] = w->at[i], n->args[slot++] = x->at[i];
  if (!ctx->no_grad) {
    int table = keep_begin(L, 4, DOT_KEPT);
    n->spare |= BY_VECTORS;
    for (uint32_t i = 0; i < DOT_KEPT; i++) {
      lua_pushvalue(L, (int)i + 1);
      keep_set(L, 4, table, DOT_KEPT, i);
    }
    lua_settop(L, 4);
  }
  finish_value(L, ctx, n);
  return 1;
}

/* mg.dot(ws, xs [, bias]): bias + ws[1]*xs[1] + ws[2]*xs[2] + ..., one node.
 * ws and xs are arrays or Vectors (mg.vector). */
static int value_dot(lua_State *L) {
  const mg_ctx found = *mg_context(L), *ctx = &found; /* see nary_op */
  lua_settop(L, 3);
  mg_vector *wv = dot_vector(L, ctx, 1, 0), *xv = dot_vector(L, ctx, 2, wv != NULL);
  if (xv && !wv) wv = dot_vector(L, ctx, 1, 1);
  if (wv && xv) return dot_vectors(L, ctx, wv, xv); /* a table beside a Vector became one */
  uint32_t len = check_array(L, 1, "dot"), xlen = check_array(L, 2, "dot");
  if (xlen != len)
    mg_arg_error(
        L, 2, "dot",
        lua_pushfstring(L, "array of length %d expected (as #1), got length %d", (int)len, (int)xlen));
  int has_bias = !lua_isnoneornil(L, 3), table;
  uint32_t nargs = 2 * len + (uint32_t)has_bias, slot = 0;
  lua_settop(L, 3);
  mg_node *n = new_nary(L, ctx, nargs, &table);
  mg_op_init(n, MG_OP_DOT, nargs, has_bias ? MG_DOT_BIAS : 0);
  if (has_bias) {
    lua_pushvalue(L, 3);
    pop_operand(L, ctx, n, 4, table, slot++, 3, 0, "dot");
  }
  for (uint32_t i = 1; i <= len; i++) {
    lua_rawgeti(L, 1, i);
    pop_operand(L, ctx, n, 4, table, slot++, 1, i, "dot");
    lua_rawgeti(L, 2, i);
    pop_operand(L, ctx, n, 4, table, slot++, 2, i, "dot");
  }
  lua_settop(L, 4);
  finish_value(L, ctx, n);
  return 1;
}

/* ---- the Value constructor and fields ------------------------------------ */

static void set_label(lua_State *L, int idx, mg_node *n, int label) {
  lua_pushvalue(L, idx);
  lua_pushvalue(L, label);
  lua_rawset(L, LABELS_UV);
  if (lua_isnil(L, label))
    n->spare &= (uint16_t)~HAS_LABEL;
  else
    n->spare |= HAS_LABEL;
}

/* mg.Value(x [, label]) */
static int value_new(lua_State *L) {
  const mg_ctx found = *mg_context(L), *ctx = &found;
  double x = mg_check_number(L, 1, "Value");
  int t = lua_type(L, 2);
  if (t != LUA_TNONE && t != LUA_TNIL && t != LUA_TSTRING) mg_type_error(L, 2, "Value", "string or nil");
  mg_node *n = push_leaf(L, ctx, x);
  if (t == LUA_TSTRING) set_label(L, -1, n, 2);
  return 1;
}

static int value_is_value(lua_State *L) {
  lua_pushboolean(L, mg_to_value(L, 1) != NULL);
  return 1;
}

static int value_index(lua_State *L) {
  mg_node *n = check_value(L, 1, "__index");
  const char *key = lua_tostring(L, 2);
  if (key && lua_type(L, 2) == LUA_TSTRING) {
    if (strcmp(key, "data") == 0) {
      lua_pushnumber(L, n->data);
      return 1;
    }
    if (strcmp(key, "grad") == 0) {
      lua_pushnumber(L, n->grad);
      return 1;
    }
    if (strcmp(key, "label") == 0) {
      if (n->spare & HAS_LABEL) {
        lua_pushvalue(L, 1);
        lua_rawget(L, LABELS_UV);
      } else {
        lua_pushnil(L);
      }
      return 1;
    }
    if (strcmp(key, "op") == 0) {
      lua_pushstring(L, mg_op_name((mg_op)n->op));
      return 1;
    }
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, CLASS_METHODS_UV);
  return 1;
}

static int value_newindex(lua_State *L) {
  mg_node *n = check_value(L, 1, "__newindex");
  const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  int ok = 0;
  if (key && (strcmp(key, "data") == 0 || strcmp(key, "grad") == 0)) {
    double x = (double)lua_tonumberx(L, 3, &ok);
    if (!ok)
      return luaL_error(L, "bad value for Value field '%s' (number expected, got %s)", key,
                        mg_typename(L, 3));
    if (key[0] == 'd')
      n->data = x;
    else
      n->grad = x;
    return 0;
  }
  if (key && strcmp(key, "label") == 0) {
    int t = lua_type(L, 3);
    if (t != LUA_TNIL && t != LUA_TSTRING)
      return luaL_error(L, "bad value for Value field 'label' (string or nil expected, got %s)",
                        mg_typename(L, 3));
    set_label(L, 1, n, 3);
    return 0;
  }
  if (key && strcmp(key, "op") == 0) return luaL_error(L, "Value field 'op' is read-only");
  lua_pushvalue(L, 2);
  return luaL_error(L, "cannot set field '%s' of a Value (only data, grad and label can be set)",
                    luaL_tolstring(L, -1, NULL));
}

/* Pushes a number as Lua's tostring writes a float ("0.0", "24.704081632653"). */
static void push_number_text(lua_State *L, double x) { mg_push_float_text(L, x); }

static int value_tostring(lua_State *L) {
  mg_node *n = check_value(L, 1, "__tostring");
  lua_pushliteral(L, "Value(data=");
  push_number_text(L, n->data);
  lua_pushliteral(L, ", grad=");
  push_number_text(L, n->grad);
  lua_pushliteral(L, ")");
  lua_concat(L, 5);
  return 1;
}

/* Comparisons look at .data; numbers may be on either side. */
static int compare(lua_State *L, const char *name, int less_equal) {
  const mg_ctx found = *mg_context(L), *ctx = &found;
  double a, b;
  mg_node *na = check_operand(L, ctx, 1, name, &a), *nb = check_operand(L, ctx, 2, name, &b);
  if (ctx->tracing && (((na ? na->flags : 0) | (nb ? nb->flags : 0)) & MG_DEPENDS))
    return luaL_error(L, "compile: cannot compare a Value that depends on an input while tracing "
                         "(data-dependent control flow cannot be replayed; use relu, abs or max-free math)");
  lua_pushboolean(L, less_equal ? a <= b : a < b);
  return 1;
}
static int value_lt(lua_State *L) { return compare(L, "<", 0); }
static int value_le(lua_State *L) { return compare(L, "<=", 1); }

/* ---- methods -------------------------------------------------------------- */

/* backward(), checked for nan and inf in detect_anomaly mode. */
static int run_backward(lua_State *L, mg_node *n, const mg_allocator *alloc, mg_anomaly *bad) {
  return mg_context(L)->anomaly ? mg_backward_checked(n, alloc, bad) : mg_backward(n, alloc);
}

static int value_backward(lua_State *L) {
  mg_node *n = check_value(L, 1, "backward");
  mg_allocator alloc;
  mg_anomaly bad;
  alloc.fn = (mg_alloc_fn)lua_getallocf(L, &alloc.ud);
  int rc = run_backward(L, n, &alloc, &bad);
  if (rc == MG_ENOMEM) { /* as Lua does: collect garbage, try once more */
    mg_gc_collect(L);
    rc = run_backward(L, n, &alloc, &bad);
  }
  switch (rc) {
  case MG_OK: return 0;
  case MG_EANOMALY: return mg_anomaly_backward(L, &bad);
  case MG_ENOMEM:
    lua_pushliteral(L, "not enough memory");
    return lua_error(L); /* Lua's message, no position */
  default: return luaL_error(L, "backward: graph too large");
  }
}

/* v:children(): the operands in source order, and a second array that is
 * true where an operand is a number constant (a fresh leaf at every call). */
static int value_children(lua_State *L) {
  const mg_ctx *ctx = mg_context(L);
  mg_node *n = check_value(L, 1, "children");
  lua_createtable(L, (int)n->nargs, 0);
  lua_createtable(L, (int)n->nargs, 0);
  for (uint32_t i = 0; i < n->nargs; i++) {
    int constant = n->args[i].node == NULL;
    if (constant)
      push_leaf(L, ctx, n->args[i].k);
    else
      push_operand(L, 1, n, i);
    lua_rawseti(L, -3, (lua_Integer)i + 1);
    lua_pushboolean(L, constant);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 2;
}

/* v:detach(): a new leaf with v's data. While mg.compile traces, a
 * stop-gradient node instead (op "detach": v's value, no gradient back), so
 * that the compiled graph passes the value v has at each replay. */
static int value_detach(lua_State *L) {
  const mg_ctx found = *mg_context(L), *ctx = &found;
  mg_node *n = check_value(L, 1, "detach");
  if (ctx->tracing && !ctx->no_grad) return unary(L, MG_OP_DETACH);
  if (ctx->tracing) check_frozen(L, n->flags & MG_DEPENDS);
  push_leaf(L, ctx, n->data);
  return 1;
}

/* ---- registration --------------------------------------------------------- */

/* The Lua function of each op (NULL for those made another way), by op. */
#define OP_REG_LEAF(rule)                           NULL,
#define OP_REG_UNARY(rule)                          op_##rule,
#define OP_REG_BINARY(rule)                         op_##rule,
#define OP_REG_SUM(rule)                            value_sum,
#define OP_REG_DOT(rule)                            value_dot,
#define OP_REG_LSE(rule)                            value_logsumexp,
#define OP_REG(CODE, rule, name, kind, lua, lo, hi) OP_REG_##kind(rule)
static const lua_CFunction op_functions[MG_OP_COUNT] = {MG_OP_TABLE(OP_REG)};
#undef OP_REG

/* How a script makes each op: a method, "__" a metamethod, else a function. */
#define OP_LUA(CODE, rule, name, kind, lua, lo, hi) lua,
static const char *const op_lua[MG_OP_COUNT] = {MG_OP_TABLE(OP_LUA)};
#undef OP_LUA

/* The test domain of each op's operands (the table's lo and hi). */
#define OP_DOMAIN(CODE, rule, name, kind, lua, lo, hi) {lo, hi},
static const double op_domain[MG_OP_COUNT][2] = {MG_OP_TABLE(OP_DOMAIN)};
#undef OP_DOMAIN

/* mg.ops: one table per op (leaves aside), in code order: name, kind
 * ("unary", "binary", "sum", "dot", "logsumexp"), arity (1, 2, or "n"), lua
 * (how a script makes it) and domain ({lo, hi}, where the specs test it). */
static void push_ops(lua_State *L) {
  static const char *const kinds[] = {"leaf", "unary", "binary", "sum", "dot", "logsumexp"};
  lua_createtable(L, MG_OP_COUNT - 1, 0);
  for (int op = 1; op < MG_OP_COUNT; op++) {
    mg_op_kind kind = mg_op_kind_of((mg_op)op);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, mg_op_name((mg_op)op));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, kinds[kind]);
    lua_setfield(L, -2, "kind");
    if (kind == MG_KIND_UNARY || kind == MG_KIND_BINARY)
      lua_pushinteger(L, kind == MG_KIND_UNARY ? 1 : 2);
    else
      lua_pushliteral(L, "n");
    lua_setfield(L, -2, "arity");
    lua_pushstring(L, op_lua[op]);
    lua_setfield(L, -2, "lua");
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, op_domain[op][0]);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, op_domain[op][1]);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "domain");
    lua_rawseti(L, -2, op);
  }
}

/* The module's __index: makes mg.ops when first read and keeps it. Made at
 * load, its 34 tables would be traversed by every collection cycle for
 * nothing (1.3% of a dynamic graph's instructions). */
static int ops_index(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "ops") != 0) return 0;
  push_ops(L);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

void mg_register_value(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {{"Value", value_new}, {"is_value", value_is_value}, {NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__mod", value_mod},
                                         {"__idiv", value_idiv},
                                         {"__lt", value_lt},
                                         {"__le", value_le},
                                         {"__index", value_index},
                                         {"__newindex", value_newindex},
                                         {"__tostring", value_tostring},
                                         {NULL, NULL}};
  static const luaL_Reg method_list[] = {
      {"backward", value_backward}, {"children", value_children}, {"detach", value_detach}, {NULL, NULL}};
  static const mg_class value_class = {NULL, metamethods, method_list};
  mg_setfuncs(L, module, functions, upvalues);
  int fresh = mg_class_begin(L, &value_class, upvalues + MG_UV_META);
  int meta = lua_gettop(L) - 1, methods = meta + 1;
  for (int op = 0; op < MG_OP_COUNT; op++) { /* the ops, from the table */
    const luaL_Reg reg[] = {{op_lua[op], op_functions[op]}, {NULL, NULL}};
    mg_op_kind kind = mg_op_kind_of((mg_op)op);
    if (!op_lua[op] || !op_functions[op]) continue;
    int to = strncmp(op_lua[op], "__", 2) == 0                 ? meta
             : kind == MG_KIND_UNARY || kind == MG_KIND_BINARY ? methods
                                                               : module;
    mg_setfuncs(L, to, reg, upvalues);
  }
  mg_class_end(L, &value_class, fresh, upvalues); /* after the ops': the order of a hash part counts */
  lua_createtable(L, 0, 1);                       /* mg.ops, made on first use (see ops_index) */
  lua_pushcfunction(L, ops_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, module);
}
