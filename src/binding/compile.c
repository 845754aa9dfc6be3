/*
 * compile.c - mg.compile(fn, inputs): trace fn once into a tape (tape.c) and
 * replay it from Lua with no allocation.
 *
 * Tracing calls fn with placeholder Values (leaves flagged MG_INPUT) in grad
 * mode; every node made meanwhile is flagged MG_TRACED. The traced graph stays
 * referenced by the compiled graph's user value, which keeps the captured
 * Values (parameters) that the tape reads and credits alive.
 */
#include <math.h>
#include <string.h>

#include "binding.h"
#include "tape.h"

#define GRAPH "micrograd.Graph"

enum { SHAPE_ONE, SHAPE_MANY, SHAPE_ARRAY }; /* what fn returned: a value, several, an array */

/* The tape's owner, the graph's user value 3: a call that holds the graph
 * busy keeps it on its stack too, so the tape outlives the graph if need be. */
typedef struct tape_box {
  mg_tape *tape; /* NULL once freed */
  int closed;    /* the graph was closed (__close, __gc, close): every method refuses it */
  int busy;      /* calls holding the tape (graph_hold) */
} tape_box;

typedef struct graph {
  tape_box *box;
  int shape;
  int forwarded, backwarded; /* a forward (backward) has run since compiling */
} graph;

/* User values of a graph: 1 the traced outputs and placeholders (keeping the
 * graph alive), 2 the table reused for array-shaped results, 3 its tape box.
 *
 * Memory safety: Lua code can run inside any allocation (a GC step runs any
 * finalizer), any call and any metamethod, and that code may close the graph.
 * So a method takes the tape pointer only after it has read its arguments
 * and options into C locals, and one that still runs Lua code after that
 * (allocating its result, reading rows) holds the graph busy first
 * (graph_hold): closing a busy graph only marks it closed, and the tape is
 * freed when the last call holding it ends, by return or by error (or, for
 * one left pending in a dead coroutine, when its box is collected). */

#define TAPE_BOX "micrograd.Graph.tape"

static void free_tape(tape_box *box) {
  if (box->tape) mg_tape_free(box->tape), box->tape = NULL;
}

/* The graph at index 1, open; errors name fname. */
static graph *check_graph(lua_State *L, const char *fname) {
  graph *g = luaL_testudata(L, 1, GRAPH);
  if (!g)
    mg_type_error(L, 1, fname, "compiled graph");
  else if (!g->box || g->box->closed || !g->box->tape)
    mg_arg_error(L, 1, fname, "compiled graph is closed");
  return g;
}

/* __close, __gc and g:close(): frees the tape now, or when the calls holding
 * it end. */
static int graph_close(lua_State *L) {
  graph *g = luaL_testudata(L, 1, GRAPH);
  if (!g) return mg_type_error(L, 1, "close", "compiled graph");
  if (g->box) {
    g->box->closed = 1;
    if (g->box->busy == 0) free_tape(g->box);
  }
  return 0;
}

/* The box's __close: one call fewer holds the graph. */
static int box_release(lua_State *L) {
  tape_box *box = luaL_checkudata(L, 1, TAPE_BOX);
  if (box->busy > 0 && --box->busy == 0 && box->closed) free_tape(box);
  return 0;
}

/* The box's __gc: nothing holds the tape any more. */
static int box_gc(lua_State *L) {
  free_tape(luaL_checkudata(L, 1, TAPE_BOX));
  return 0;
}

/* Holds the graph g (at index 1) busy until the calling C function returns
 * or raises (its box goes on the stack as a to-be-closed value), and returns
 * its tape; an error if it was closed meanwhile. Allocates nothing. */
static mg_tape *graph_hold(lua_State *L, graph *g, const char *fname) {
  if (g->box->closed || !g->box->tape) mg_arg_error(L, 1, fname, "compiled graph is closed");
  mg_getiuservalue(L, 1, 3);
#if MG_HAS_CLOSE
  g->box->busy++;
  lua_toclose(L, -1);
#else
  /* No to-be-closed slot to release it by: held for good, so closing the
   * graph only marks it closed, and the box's finalizer frees the tape. */
  g->box->busy = 1;
#endif
  return g->box->tape;
}

/* ---- the marks of one compile ----
 * MG_TRACED, MG_INPUT and MG_DEPENDS mark the Values one mg.compile makes
 * (the placeholders, every Value made while tracing, its outputs' constants)
 * and must not outlive it: a Value made then and used by a later compile (a
 * parameter a model made lazily, a leftover of a failed trace) is a captured
 * Value there. Each is remembered in a weak list (the context's user value
 * 3), and compile_new clears their marks when the compile ends, however it
 * ends (it runs the compile in a protected call). */

void mg_trace_remember(lua_State *L, int idx) {
  mg_ctx *ctx = mg_context(L);
  if (mg_getiuservalue(L, CTX_UV, 3) != LUA_TTABLE) { /* not compiling */
    lua_pop(L, 1);
    return;
  }
  lua_pushvalue(L, idx < 0 ? idx - 1 : idx);
  lua_rawseti(L, -2, ++ctx->traced);
  lua_pop(L, 1);
}

/* Pushes a record of the list being replaced (a compile run by a finalizer
 * while another compiles has its own) and starts this compile's list. */
static void marks_begin(lua_State *L, mg_ctx *ctx) {
  lua_Integer *previous = mg_newuserdatauv(L, sizeof *previous, 2);
  *previous = ctx->traced;
  mg_getiuservalue(L, CTX_UV, 3);
  mg_setiuservalue(L, -2, 1);
  lua_newtable(L); /* the list: weak, it keeps no Value alive */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  mg_setiuservalue(L, -3, 2);
  mg_setiuservalue(L, CTX_UV, 3); /* nothing raises from here on */
  ctx->traced = 0;
}

/* Clears the marks of the Values in the list of the record at idx and puts
 * back the list it replaced. Allocates nothing. */
static void marks_end(lua_State *L, mg_ctx *ctx, int idx) {
  mg_getiuservalue(L, idx, 2);
  for (lua_Integer i = 1; i <= ctx->traced; i++) {
    if (lua_rawgeti(L, -1, i) == LUA_TUSERDATA) { /* not collected */
      mg_node *n = lua_touserdata(L, -1);
      n->flags &= (uint8_t) ~(MG_TRACED | MG_INPUT | MG_DEPENDS);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  mg_getiuservalue(L, idx, 1);
  mg_setiuservalue(L, CTX_UV, 3);
  ctx->traced = *(lua_Integer *)lua_touserdata(L, idx);
}

/* Tracing is a mode too (SPEC: modes never leak): it starts in grad mode,
 * where only the no_grad scopes opened during the trace count (mg_modes_update),
 * and ends when fn returns or raises; scopes opened or closed meanwhile keep
 * their own count, so the state after the trace is the state before it
 * with exactly those scopes opened or closed. */
static void trace_begin(mg_ctx *ctx) {
  ctx->tracing = 1, ctx->modes.trace++, ctx->modes.no_grad_traced = 0;
  mg_modes_update(ctx);
}

static void trace_end(mg_ctx *ctx) {
  ctx->tracing = 0;
  mg_modes_update(ctx);
}

/* The output at stack index idx as a node; a number becomes a constant. */
static mg_node *output_node(lua_State *L, const mg_ctx *ctx, int idx, int position) {
  mg_node *n = mg_to_value_ctx(L, idx, ctx);
  if (n) return n;
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_error(L, "compile: fn must return Values or numbers, or an array of them (got %s as output %d)",
               mg_typename(L, idx), position);
  n = mg_newuserdatauv(L, mg_node_size(0), 0);
  mg_leaf_init(n, lua_tonumber(L, idx));
  n->flags |= MG_TRACED;
  lua_pushvalue(L, META_UV);
  lua_setmetatable(L, -2);
  mg_trace_remember(L, -1);
  lua_replace(L, idx);
  return n;
}

/* mg.compile(fn, inputs): inputs is a count or an array of example numbers. */
/* compile's arguments: fn at 1, and at 2 the input count or an array of
 * example inputs (then *from_array); returns the input count. */
static lua_Integer check_compile_args(lua_State *L, const mg_ctx *ctx, int *from_array) {
  if (lua_type(L, 1) != LUA_TFUNCTION) {
    if (luaL_getmetafield(L, 1, "__call") == LUA_TNIL) return mg_type_error(L, 1, "compile", "function");
    lua_pop(L, 1);
  }
  lua_Integer nin;
  *from_array = lua_type(L, 2) == LUA_TTABLE;
  if (*from_array) {
    nin = (lua_Integer)lua_rawlen(L, 2);
  } else {
    int ok;
    nin = lua_tointegerx(L, 2, &ok);
    if (!ok || nin < 0) return mg_type_error(L, 2, "compile", "input count or array of example inputs");
  }
  if (nin > MG_COMPILE_MAX_INPUTS)
    return mg_arg_error(L, 2, "compile",
                        lua_pushfstring(L, "too many inputs (at most %d)", (int)MG_COMPILE_MAX_INPUTS));
  if (ctx->tracing) return luaL_error(L, "compile: cannot compile while tracing another function");
  return nin;
}

/* Pushes the array of nin placeholders (leaves marked as traced inputs, with
 * the example inputs at 2 when from_array, else 0). */
static void push_placeholders(lua_State *L, lua_Integer nin, int from_array) {
  lua_createtable(L, (int)nin, 0);
  int t = lua_gettop(L);
  for (lua_Integer i = 1; i <= nin; i++) {
    double x = 0;
    if (from_array) {
      int ok;
      lua_rawgeti(L, 2, i);
      x = (double)lua_tonumberx(L, -1, &ok);
      if (!ok)
        mg_arg_error(L, 2, "compile", lua_pushfstring(L, "number expected at index " MG_FMT_INT, MG_INT(i)));
      lua_pop(L, 1);
    }
    mg_node *n = mg_newuserdatauv(L, mg_node_size(0), 0);
    mg_leaf_init(n, x);
    n->flags |= MG_TRACED | MG_INPUT | MG_DEPENDS;
    lua_pushvalue(L, META_UV);
    lua_setmetatable(L, -2);
    mg_trace_remember(L, -1);
    lua_rawseti(L, t, i);
  }
}

/* Traces fn (at 1) on the placeholders (at 3), in a protected call, so that
 * tracing ends however fn ends (an error in a coroutine does not unwind its
 * stack). Leaves fn's results above base, an array's items unpacked in
 * place; returns how many, and their shape in *shape. */
static int trace_outputs(lua_State *L, mg_ctx *ctx, lua_Integer nin, int base, int *shape) {
  lua_pushvalue(L, 1);
  luaL_checkstack(L, (int)nin + 1, "too many inputs");
  for (lua_Integer i = 1; i <= nin; i++) lua_rawgeti(L, 3, i);
  trace_begin(ctx);
  int traced = lua_pcall(L, (int)nin, LUA_MULTRET, 0);
  trace_end(ctx);
  if (traced != LUA_OK) return lua_error(L);
  int nres = lua_gettop(L) - base;
  *shape = SHAPE_MANY;
  if (nres == 0) return luaL_error(L, "compile: fn returned nothing (it must return Values or numbers)");
  if (nres == 1 && lua_type(L, -1) == LUA_TTABLE) { /* an array: unpack it in place */
    int t = lua_gettop(L);
    lua_Unsigned len = lua_rawlen(L, t);
    if (len == 0 || len > MG_COMPILE_MAX_OUTPUTS)
      return luaL_error(L, "compile: fn returned an empty or huge array");
    luaL_checkstack(L, (int)len, "too many outputs");
    for (lua_Unsigned i = 1; i <= len; i++) lua_rawgeti(L, t, (lua_Integer)i);
    lua_remove(L, t);
    nres = (int)len, *shape = SHAPE_ARRAY;
  } else if (nres == 1) {
    *shape = SHAPE_ONE;
  }
  return nres;
}

/* Pushes the Graph for the nres traced outputs above base (its tape not made
 * yet): it keeps the traced graph (the outputs and the placeholders at 3),
 * its tape box, and for an array shape the array it returns. */
static tape_box *push_graph(lua_State *L, int base, int nres, int shape) {
  lua_createtable(L, nres + 1, 0); /* keep the traced graph: the outputs and the placeholders */
  for (int i = 0; i < nres; i++) {
    lua_pushvalue(L, base + 1 + i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushvalue(L, 3);
  lua_rawseti(L, -2, nres + 1);
  int keep = lua_gettop(L);
  tape_box *box = mg_newuserdatauv(L, sizeof *box, 0);
  box->tape = NULL, box->closed = box->busy = 0;
  luaL_setmetatable(L, TAPE_BOX);
  graph *g = mg_newuserdatauv(L, sizeof *g, 3);
  g->box = box, g->shape = shape, g->forwarded = g->backwarded = 0;
  luaL_setmetatable(L, GRAPH);
  lua_pushvalue(L, keep);
  mg_setiuservalue(L, -2, 1);
  lua_insert(L, -2); /* the box above the graph */
  mg_setiuservalue(L, -2, 3);
  if (shape == SHAPE_ARRAY) {
    lua_createtable(L, nres, 0);
    for (int i = 1; i <= nres; i++) lua_pushnumber(L, 0), lua_rawseti(L, -2, i);
    mg_setiuservalue(L, -2, 2);
  }
  return box;
}

static int compile_body(lua_State *L) {
  mg_ctx *ctx = mg_context(L);
  int from_array;
  lua_Integer nin = check_compile_args(L, ctx, &from_array);
  lua_settop(L, 2);
  push_placeholders(L, nin, from_array); /* 3: also the compile-time scratch of node pointers */
  int base = lua_gettop(L), shape = SHAPE_MANY;
  int nres = trace_outputs(L, ctx, nin, base, &shape);
  mg_node **outputs = mg_newuserdatauv(L, sizeof(mg_node *) * ((size_t)nres + (size_t)nin), 0);
  mg_node **inputs = outputs + nres;
  for (int i = 0; i < nres; i++) outputs[i] = output_node(L, ctx, base + 1 + i, i + 1);
  for (lua_Integer i = 0; i < nin; i++) {
    lua_rawgeti(L, 3, i + 1);
    inputs[i] = lua_touserdata(L, -1);
    lua_pop(L, 1);
  }

  /* Everything Lua allocates comes before the tape: once the tape exists,
   * nothing may raise before the graph owns it (it would leak). */
  tape_box *box = push_graph(L, base, nres, shape);
  mg_allocator alloc;
  int status;
  alloc.fn = (mg_alloc_fn)lua_getallocf(L, &alloc.ud);
  box->tape = mg_tape_compile(&alloc, inputs, (uint32_t)nin, outputs, (uint32_t)nres, &status);
  if (!box->tape && status == MG_ENOMEM) { /* as Lua does: collect garbage, try once more */
    mg_gc_collect(L);
    box->tape = mg_tape_compile(&alloc, inputs, (uint32_t)nin, outputs, (uint32_t)nres, &status);
  }
  if (!box->tape) {
    if (status != MG_ENOMEM) return luaL_error(L, "compile: graph too large");
    lua_pushliteral(L, "not enough memory"); /* Lua's own message, with no position */
    return lua_error(L);
  }
  return 1;
}

/* mg.compile runs compile_body in a protected call, so that the marks it
 * leaves end with it however it ends (an error in a coroutine does not
 * unwind its stack). */
static int compile_new(lua_State *L) {
  mg_ctx *ctx = mg_context(L);
  lua_settop(L, 2);
  for (int i = 1; i <= MG_NUPVALUES; i++) lua_pushvalue(L, lua_upvalueindex(i));
  lua_pushcclosure(L, compile_body, MG_NUPVALUES); /* 3 */
  marks_begin(L, ctx);                             /* 4 */
  lua_pushvalue(L, 3);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  int status = lua_pcall(L, 2, 1, 0);
  marks_end(L, ctx, 4);
  return status == LUA_OK ? 1 : lua_error(L);
}

/* Sets the inputs from the array at index idx (a row of run_batch, or the one
 * array argument of forward); returns what is wrong with it, or NULL. Raises
 * no error (but out of memory). */
static const char *read_row(lua_State *L, mg_tape *t, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return "array of inputs expected";
  if (lua_rawlen(L, idx) != t->nin)
    return lua_pushfstring(L, "array of %d inputs expected, got %d", (int)t->nin, (int)lua_rawlen(L, idx));
  for (uint32_t i = 0; i < t->nin; i++) {
    int ok;
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    t->val[i] = (double)lua_tonumberx(L, -1, &ok);
    lua_pop(L, 1);
    if (!ok) return lua_pushfstring(L, "number expected at index %d", (int)i + 1);
  }
  return NULL;
}

/* Sets the inputs from the arguments from index first on: nin numbers, or
 * one array of nin numbers. */
static void set_inputs(lua_State *L, mg_tape *t, int first, const char *fname) {
  int nargs = lua_gettop(L) - first + 1;
  if (nargs == 1 && lua_type(L, first) == LUA_TTABLE) {
    const char *bad = read_row(L, t, first);
    if (bad) mg_arg_error(L, first, fname, bad);
    return;
  }
  if (nargs != (int)t->nin)
    luaL_error(L, "bad arguments to '%s' (%d inputs expected, got %d)", fname, (int)t->nin, nargs);
  for (uint32_t i = 0; i < t->nin; i++) {
    int ok;
    t->val[i] = (double)lua_tonumberx(L, first + (int)i, &ok);
    if (!ok) mg_type_error(L, first + (int)i, fname, "number");
  }
}

/* ---- detect_anomaly: checked replays ---- */

/* After a forward: raises the anomaly error for the first op that made a NaN
 * or an infinity. */
static void check_forward(lua_State *L, const mg_tape *t) {
  uint32_t at;
  if (!mg_tape_check_forward(t, &at)) return;
  double operands[MG_ANOMALY_SHOWN];
  uint32_t n = mg_tape_operands(t, at, operands, MG_ANOMALY_SHOWN);
  mg_anomaly_replayed(L, t->origin[at], operands, n, t->val[t->code[at].out], NULL);
}

/* A backward with every gradient checked: the grads change only when none is
 * a NaN or an infinity (else the anomaly error). */
static void checked_backward(lua_State *L, mg_tape *t, double seed) {
  mg_tape_anomaly found;
  mg_tape_load_grads(t);
  if (mg_tape_sweep_checked(t, seed, &found)) {
    double operands[MG_ANOMALY_SHOWN];
    const mg_node *n = t->origin[found.at];
    uint32_t count = mg_tape_operands(t, found.at, operands, MG_ANOMALY_SHOWN);
    mg_anomaly bad = {(mg_node *)n, found.operand, found.grad, found.sum};
    mg_anomaly_replayed(L, n, operands, count, t->val[t->code[found.at].out], &bad);
  }
  mg_tape_flush_grads(t);
  mg_tape_store_grads(t);
}

/* g(...) / g:forward(...): the outputs' numbers, in the shape fn returned them.
 * Between taking the tape and its last use, nothing runs Lua code (raw
 * table access, numbers pushed) but the errors, which end the call. */
static int graph_forward(lua_State *L) {
  graph *g = check_graph(L, "forward");
  mg_tape *t = g->box->tape;
  set_inputs(L, t, 2, "forward");
  mg_tape_forward(t);
  g->forwarded = 1, g->backwarded = 0;
  if (mg_context(L)->anomaly) check_forward(L, t);
  if (g->shape == SHAPE_ARRAY) { /* the same table at every call: no allocation */
    mg_getiuservalue(L, 1, 2);
    for (uint32_t i = 0; i < t->nout; i++)
      lua_pushnumber(L, t->val[t->out_slots[i]]), lua_rawseti(L, -2, i + 1);
    return 1;
  }
  luaL_checkstack(L, (int)t->nout, "too many outputs");
  for (uint32_t i = 0; i < t->nout; i++) lua_pushnumber(L, t->val[t->out_slots[i]]);
  return (int)t->nout;
}

/* g:backward(): adds d(first output)/d(leaf) into every captured leaf's grad. */
static int graph_backward(lua_State *L) {
  graph *g = check_graph(L, "backward");
  if (!g->forwarded) return luaL_error(L, "backward: run the compiled graph forward first");
  if (mg_context(L)->anomaly) /* as forward: no Lua code runs but the error */
    checked_backward(L, g->box->tape, 1.0);
  else
    mg_tape_backward(g->box->tape, 1.0);
  g->backwarded = 1;
  return 0;
}

/* g:input_grads(): d(first output)/d(input i) from the last backward. */
static int graph_input_grads(lua_State *L) {
  graph *g = check_graph(L, "input_grads");
  if (!g->backwarded) return luaL_error(L, "input_grads: run backward first");
  mg_tape *t = graph_hold(L, g, "input_grads"); /* the table's allocation may run finalizers */
  lua_createtable(L, (int)t->nin, 0);
  for (uint32_t i = 0; i < t->nin; i++) lua_pushnumber(L, t->grad[i]), lua_rawseti(L, -2, i + 1);
  return 1;
}

/* Row r's outputs after the first into outputs[r]: a number when there is
 * one, else an array (the one already there is refilled). */
static void keep_outputs(lua_State *L, const mg_tape *t, int outputs, lua_Integer r) {
  if (t->nout == 2) {
    lua_pushnumber(L, t->val[t->out_slots[1]]);
    lua_rawseti(L, outputs, r);
    return;
  }
  if (lua_rawgeti(L, outputs, r) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, (int)t->nout - 1, 0);
    lua_pushvalue(L, -1);
    lua_rawseti(L, outputs, r);
  }
  for (uint32_t o = 1; o < t->nout; o++) lua_pushnumber(L, t->val[t->out_slots[o]]), lua_rawseti(L, -2, o);
  lua_pop(L, 1);
}

/* g:run_batch(rows [, opts]): forward and backward for every row, gradients
 * accumulating in the captured leaves; returns the sum of the first output.
 * rows: an array of arrays of inputs, or a Vector of them one row after the
 * other (read with no Lua call).
 * opts.mean: the mean instead, and the mean's gradients; opts.scale = s: s
 * times the sum, and its gradients; opts.outputs: a table that gets each
 * row's other outputs. */
static int graph_run_batch(lua_State *L) {
  graph *g = check_graph(L, "run_batch");
  const mg_vector *packed = mg_to_vector(L, 2, mg_context(L));
  if (!packed && lua_type(L, 2) != LUA_TTABLE)
    return mg_type_error(L, 2, "run_batch", "array of input rows or Vector");
  int mean = 0, has_scale = 0, outputs = 0;
  double scale = 1.0;
  lua_settop(L, 3);
  if (!lua_isnil(L, 3)) {
    if (lua_type(L, 3) != LUA_TTABLE) return mg_type_error(L, 3, "run_batch", "options table or nil");
    lua_getfield(L, 3, "mean");
    mean = lua_toboolean(L, -1);
    if (lua_getfield(L, 3, "scale") != LUA_TNIL) {
      int ok;
      scale = (double)lua_tonumberx(L, -1, &ok), has_scale = 1;
      if (!ok || !isfinite(scale))
        return mg_arg_error(L, 3, "run_batch", "option 'scale': finite number expected");
      if (mean) return mg_arg_error(L, 3, "run_batch", "options 'mean' and 'scale' cannot both be given");
    }
    int type = lua_getfield(L, 3, "outputs");
    if (type != LUA_TNIL && type != LUA_TTABLE)
      return mg_arg_error(L, 3, "run_batch", "option 'outputs': table expected");
    outputs = type == LUA_TTABLE ? 4 : 0;
    lua_replace(L, 4);
    lua_settop(L, 4);
  } else {
    lua_pushnil(L); /* 4: no outputs table */
  }
  /* The options' metamethods have run (and may have closed the graph); what
   * follows may run finalizers (the rows' errors, the outputs' tables). */
  mg_tape *t = graph_hold(L, g, "run_batch"); /* 5 */
  int anomaly = mg_context(L)->anomaly;
  if (t->nout < 2) outputs = 0;
  lua_Integer rows = packed ? (lua_Integer)(t->nin ? packed->n / t->nin : 0) : (lua_Integer)lua_rawlen(L, 2);
  if (packed && (t->nin == 0 || packed->n % t->nin != 0))
    return mg_arg_error(L, 2, "run_batch",
                        lua_pushfstring(L, "Vector of rows of %d inputs expected, got %d numbers",
                                        (int)t->nin, (int)packed->n));
  if (rows == 0) return mg_arg_error(L, 2, "run_batch", "no rows");
  if (mean) scale = 1.0 / (double)rows;
  double total = 0;
  /* The leaves are read once, and their gradients add up in the tape until the
   * end: the same additions, in the same order, as a backward per row. */
  mg_tape_read_live(t);
  mg_tape_load_grads(t);
  for (lua_Integer r = 1; r <= rows; r++) {
    const char *bad = NULL;
    if (packed) { /* no Lua call at all: an immutable Vector */
      const mg_arg *row = packed->at + (r - 1) * t->nin;
      for (uint32_t i = 0; i < t->nin; i++) t->val[i] = row[i].node ? row[i].node->data : row[i].k;
    } else {
      lua_rawgeti(L, 2, r); /* 6 */
      bad = read_row(L, t, 6);
    }
    if (bad) {
      mg_tape_store_grads(t); /* the rows before this one count, as they would one by one */
      return mg_arg_error(L, 2, "run_batch", lua_pushfstring(L, "%s at row " MG_FMT_INT, bad, MG_INT(r)));
    }
    lua_settop(L, 5);
    mg_tape_run(t);
    if (anomaly) { /* row by row, as many backward() calls would */
      mg_tape_store_grads(t);
      check_forward(L, t);
      checked_backward(L, t, scale);
      mg_tape_load_grads(t);
    } else {
      mg_tape_sweep(t, scale);
      mg_tape_flush_grads(t);
    }
    total += t->nout ? t->val[t->out_slots[0]] : 0;
    if (outputs) keep_outputs(L, t, outputs, r);
  }
  mg_tape_store_grads(t);
  g->forwarded = g->backwarded = 1;
  lua_pushnumber(L, mean ? total / (double)rows : has_scale ? total * scale : total);
  return 1;
}

/* g.nodes, g.inputs, g.outputs, g.parameters, and the methods (found on a
 * closed graph too: they say that it is closed). */
static int graph_index(lua_State *L) {
  graph *g = luaL_testudata(L, 1, GRAPH);
  if (!g) return mg_type_error(L, 1, "__index", "compiled graph");
  lua_pushvalue(L, 2);
  if (lua_rawget(L, CLASS_METHODS_UV) != LUA_TNIL) return 1;
  const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (!key) return 1;
  static const char *const fields[] = {"nodes", "inputs", "outputs", "parameters"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(key, fields[i]) != 0) continue;
    const mg_tape *t = check_graph(L, "__index")->box->tape;
    uint32_t counts[] = {t->ncode, t->nin, t->nout, t->nlive};
    lua_pushinteger(L, counts[i]);
    return 1;
  }
  return 1;
}

static int graph_tostring(lua_State *L) {
  graph *g = luaL_testudata(L, 1, GRAPH);
  if (!g) return mg_type_error(L, 1, "__tostring", "compiled graph");
  if (g->box->closed || !g->box->tape) return lua_pushliteral(L, "compiled graph (closed)"), 1;
  const mg_tape *t = g->box->tape;
  lua_pushfstring(L, "compiled graph: %d inputs, %d outputs, %d nodes, %d captured Values, %d slots",
                  (int)t->nin, (int)t->nout, (int)t->ncode, (int)t->nlive, (int)t->nslots);
  return 1;
}

/* mg.is_tracing(): true while mg.compile runs the function it compiles (nn's Dropout asks). */
static int compile_is_tracing(lua_State *L) {
  lua_pushboolean(L, mg_context(L)->tracing > 0);
  return 1;
}

void mg_register_compile(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {
      {"compile", compile_new}, {"is_tracing", compile_is_tracing}, {NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", graph_close},
                                         {"__close", graph_close},
                                         {"__call", graph_forward},
                                         {"__tostring", graph_tostring},
                                         {"__index", graph_index}, /* last: see mg_class_begin */
                                         {NULL, NULL}};
  static const luaL_Reg methods[] = {
      {"forward", graph_forward},     {"backward", graph_backward}, {"input_grads", graph_input_grads},
      {"run_batch", graph_run_batch}, {"close", graph_close},       {NULL, NULL}};
  static const mg_class graph_class = {GRAPH, metamethods, methods};
  mg_setfuncs(L, module, functions, upvalues);
  mg_register_class(L, &graph_class, 0,
                    upvalues); /* the module's upvalues: the context, for detect_anomaly */
  if (luaL_newmetatable(L, TAPE_BOX)) {
    static const luaL_Reg box_methods[] = {{"__close", box_release}, {"__gc", box_gc}, {NULL, NULL}};
    luaL_setfuncs(L, box_methods, 0);
  }
  lua_pop(L, 1);
}
