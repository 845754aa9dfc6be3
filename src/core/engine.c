/*
 * engine.c - nodes, their forward values, and the backward sweep. The rules
 * of the ops themselves (forward and backward side by side) are in ops.h.
 */
#include "engine.h"

#include "ops.h"

static const char *const op_names[MG_OP_COUNT] = {
#define OP_NAME(CODE, rule, name, kind, lua, lo, hi) name,
    MG_OP_TABLE(OP_NAME)
#undef OP_NAME
};

const char *mg_op_name(mg_op op) { return (unsigned)op < MG_OP_COUNT ? op_names[op] : "?"; }

/* ---- forward ------------------------------------------------------------ */

size_t mg_node_size(uint32_t nargs) { return sizeof(mg_node) + (size_t)nargs * sizeof(mg_arg); }

void mg_leaf_init(mg_node *n, double x) { mg_op_init(n, MG_OP_LEAF, 0, 0), n->data = x; }

void mg_op_init(mg_node *n, mg_op op, uint32_t nargs, uint8_t flags) {
  n->data = 0, n->grad = 0, n->pass = 0;
  n->op = (uint8_t)op, n->flags = flags, n->spare = 0;
  n->users = 0, n->nargs = nargs;
}

void mg_set_arg(mg_node *n, uint32_t i, mg_node *operand) { n->args[i].node = operand, n->args[i].k = 0; }

void mg_set_const(mg_node *n, uint32_t i, double k) { n->args[i].node = NULL, n->args[i].k = k; }

static inline double arg_value(const mg_arg *a) { return a->node ? a->node->data : a->k; }

/* The operands of the n-ary rules (ops.h): operand i of args, and term j's
 * weight and input of a dot's args after its bias. */
static double get_arg(const void *args, uint32_t i) { return arg_value((const mg_arg *)args + i); }
static double get_w(const void *args, uint32_t j) { return arg_value((const mg_arg *)args + 2 * j); }
static double get_x(const void *args, uint32_t j) { return arg_value((const mg_arg *)args + 2 * j + 1); }

double mg_apply(mg_op op, double a, double b) { return mg_op_forward(op, a, b); }

void mg_forward(mg_node *n) {
  const mg_arg *args = n->args;
  uint32_t count = n->nargs, bias = n->flags & MG_DOT_BIAS ? 1 : 0;
  switch (mg_op_kind_of((mg_op)n->op)) {
  case MG_KIND_LEAF: return;
  case MG_KIND_SUM: n->data = mg_sum_forward(args, get_arg, count); return;
  case MG_KIND_DOT:
    n->data =
        mg_dot_forward(bias ? arg_value(&args[0]) : 0, bias, (count - bias) / 2, args + bias, get_w, get_x);
    return;
  case MG_KIND_LSE: n->data = mg_lse_forward(args, get_arg, count); return;
  case MG_KIND_UNARY: n->data = mg_apply((mg_op)n->op, arg_value(&args[0]), 0); return;
  case MG_KIND_BINARY: n->data = mg_apply((mg_op)n->op, arg_value(&args[0]), arg_value(&args[1])); return;
  }
}

/* ---- backward -----------------------------------------------------------
 *
 * Two sweeps, no recursion, one scratch array:
 * 1. Discover every node below the root, breadth first, appending each to the
 *    array once and counting in node->users how many operand slots point at it.
 * 2. Kahn's order from the root: a node's pass gradient is complete when its
 *    last user has sent its share (users drops to 0); it then goes into
 *    node->grad and on to the node's operands. The array, no longer needed
 *    for discovery, holds the nodes that are ready.
 * Every node ends with users == 0 and pass == 0, ready for the next pass.
 */

int mg_nodes_append(mg_nodes *a, mg_node *n) {
  if (a->count == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 256;
    mg_node **at = cap <= SIZE_MAX / sizeof *at
                       ? a->alloc->fn(a->alloc->ud, a->at, a->cap * sizeof *at, cap * sizeof *at)
                       : NULL;
    if (!at) return MG_ENOMEM;
    a->at = at, a->cap = cap;
  }
  a->at[a->count++] = n;
  return MG_OK;
}

void mg_nodes_free(mg_nodes *a) {
  if (a->at) a->alloc->fn(a->alloc->ud, a->at, a->cap * sizeof *a->at, 0);
  a->at = NULL, a->count = a->cap = 0;
}

static int discover(mg_nodes *all, mg_node *root) {
  int rc = mg_nodes_append(all, root);
  for (size_t next = 0; rc == MG_OK && next < all->count; next++) {
    const mg_node *n = all->at[next];
    for (uint32_t i = 0; rc == MG_OK && i < n->nargs; i++) {
      mg_node *child = n->args[i].node;
      if (!child) continue;
      if (child->users == UINT32_MAX)
        rc = MG_ETOOBIG;
      else if (child->users > 0 || (rc = mg_nodes_append(all, child)) == MG_OK)
        child->users++;
    }
  }
  return rc;
}

/* The sweep's helpers are inlined into both sweeps, so that with bad == NULL
 * (mg_backward) the checks of the checked sweep fold away. */
#if defined(__GNUC__) || defined(__clang__)
#define SWEEP_INLINE static inline __attribute__((always_inline))
#define NOINLINE     __attribute__((noinline))
#else
#define SWEEP_INLINE static inline
#define NOINLINE
#endif

/* mg_op_backward for the checked sweep: a call, so that mg_backward stays the
 * only place it is inlined into. */
static NOINLINE void op_backward_call(const mg_node *n, double a, double b, double *ga, double *gb) {
  mg_op_backward((mg_op)n->op, a, b, n->data, n->pass, ga, gb);
}

/* Sends gradient d to operand slot a of node from: when it was the operand's
 * last user, the operand is ready. Checking (bad != NULL): returns 1, *bad
 * filled in, when the operand's pass gradient is no longer finite. */
SWEEP_INLINE int send(mg_nodes *ready, const mg_arg *a, double d, mg_anomaly *bad, mg_node *from) {
  mg_node *n = a->node;
  n->pass += d;
  if (--n->users == 0) ready->at[ready->count++] = n;
  if (bad && !isfinite(n->pass)) {
    bad->node = from, bad->slot = (uint32_t)(a - from->args), bad->grad = d, bad->sum = n->pass;
    return 1;
  }
  return 0;
}

/* The n-ary rules' send (ops.h): operand slot i of node `from`, when it is a node. */
typedef struct sweep_ctx {
  mg_nodes *ready;
  mg_anomaly *bad;
  mg_node *from;
} sweep_ctx;

SWEEP_INLINE int send_to(void *ctx, uint32_t i, double d) {
  sweep_ctx *c = ctx;
  const mg_arg *a = &c->from->args[i];
  return a->node && send(c->ready, a, d, c->bad, c->from);
}

/* Moves node n's pass gradient into its grad and on to its operands; checking,
 * it leaves the grad to the end and returns 1 at a gradient that is not finite. */
SWEEP_INLINE int sweep_node(mg_nodes *ready, mg_node *n, mg_anomaly *bad) {
  const mg_arg *args = n->args;
  double gn = n->pass, ga = 0, gb = 0;
  sweep_ctx c = {ready, bad, n};
  uint32_t bias = n->flags & MG_DOT_BIAS ? 1 : 0;
  if (!bad) n->grad += gn, n->pass = 0;
  switch (mg_op_kind_of((mg_op)n->op)) {
  case MG_KIND_LEAF: return 0;
  case MG_KIND_SUM: return mg_sum_backward(gn, n->nargs, send_to, &c);
  case MG_KIND_DOT:
    return mg_dot_backward(gn, bias, (n->nargs - bias) / 2, args + bias, get_w, get_x, send_to, &c);
  case MG_KIND_LSE: return mg_lse_backward(gn, args, get_arg, n->nargs, send_to, &c);
  case MG_KIND_UNARY:
  case MG_KIND_BINARY: break;
  }
  double a = arg_value(&args[0]), b = n->nargs > 1 ? arg_value(&args[1]) : 0;
  if (bad)
    op_backward_call(n, a, b, &ga, &gb); /* n->pass is still gn */
  else
    mg_op_backward((mg_op)n->op, a, b, n->data, gn, &ga, &gb);
  if (args[0].node && send(ready, &args[0], ga, bad, n)) return 1;
  return n->nargs > 1 && args[1].node && send(ready, &args[1], gb, bad, n);
}

int mg_backward(mg_node *root, const mg_allocator *alloc) {
  mg_nodes all = {alloc, NULL, 0, 0};
  int rc = discover(&all, root);
  if (rc == MG_OK) {
    mg_nodes ready = {alloc, all.at, 0, all.cap}; /* never holds more than all did */
    root->pass = 1.0;                             /* d root / d root */
    ready.at[ready.count++] = root;
    while (ready.count > 0) sweep_node(&ready, ready.at[--ready.count], NULL);
  } else {
    for (size_t i = 0; i < all.count; i++) all.at[i]->users = 0;
  }
  mg_nodes_free(&all);
  return rc;
}

/* The same sweep, with its own ready array: `all` still lists every node at
 * the end, to add the pass gradients to the grads, or (stopped early) to
 * clear what the sweep left behind. */
int mg_backward_checked(mg_node *root, const mg_allocator *alloc, mg_anomaly *bad) {
  mg_nodes all = {alloc, NULL, 0, 0}, ready = {alloc, NULL, 0, 0};
  mg_anomaly unused;
  int rc = discover(&all, root);
  if (!bad) bad = &unused;
  if (rc == MG_OK) { /* all.count <= all.cap: the size cannot overflow */
    ready.at = alloc->fn(alloc->ud, NULL, 0, all.count * sizeof *ready.at);
    if (ready.at)
      ready.cap = all.count;
    else
      rc = MG_ENOMEM;
  }
  if (rc == MG_OK) {
    root->pass = 1.0;
    ready.at[ready.count++] = root;
    while (rc == MG_OK && ready.count > 0)
      if (sweep_node(&ready, ready.at[--ready.count], bad)) rc = MG_EANOMALY;
  }
  for (size_t i = 0; i < all.count; i++) {
    mg_node *n = all.at[i];
    if (rc == MG_OK) n->grad += n->pass;
    n->users = 0, n->pass = 0;
  }
  mg_nodes_free(&ready);
  mg_nodes_free(&all);
  return rc;
}
