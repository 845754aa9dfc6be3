/*
 * engine.c - nodes, their forward values, and the backward sweep. The rules
 * of the ops themselves (forward and backward side by side) are in ops.h.
 */
#include "engine.h"

#include "ops.h"

static const char *const op_names[MG_OP_COUNT] = {
    "",    "+",   "-",       "*",   "/",    "^",        "neg", "relu", "tanh",
    "exp", "log", "sigmoid", "abs", "sqrt", "softplus", "sum", "dot",
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

double mg_apply(mg_op op, double a, double b) { return mg_op_forward(op, a, b); }

void mg_forward(mg_node *n) {
  const mg_arg *args = n->args;
  uint32_t i = 0, count = n->nargs;
  double acc;
  switch (n->op) {
  case MG_OP_LEAF: return;
  case MG_OP_SUM:
    if (count == 0) {
      n->data = 0;
      return;
    }
    acc = arg_value(&args[0]);
    for (i = 1; i < count; i++) acc += arg_value(&args[i]);
    n->data = acc;
    return;
  case MG_OP_DOT:
    if (n->flags & MG_DOT_BIAS) {
      acc = arg_value(&args[0]), i = 1;
    } else if (count >= 2) {
      acc = arg_value(&args[0]) * arg_value(&args[1]), i = 2;
    } else {
      n->data = 0;
      return;
    }
    for (; i + 1 < count; i += 2) acc += arg_value(&args[i]) * arg_value(&args[i + 1]);
    n->data = acc;
    return;
  default: n->data = mg_apply((mg_op)n->op, arg_value(&args[0]), count > 1 ? arg_value(&args[1]) : 0);
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

/* Sends gradient d to operand slot a: when it was the node's last user, the node is ready. */
static inline void send(mg_nodes *ready, const mg_arg *a, double d) {
  mg_node *n = a->node;
  n->pass += d;
  if (--n->users == 0) ready->at[ready->count++] = n;
}

/* Moves node n's pass gradient into its grad and on to its operands. */
static void sweep_node(mg_nodes *ready, mg_node *n) {
  const mg_arg *args = n->args;
  double gn = n->pass, ga = 0, gb = 0;
  n->grad += gn;
  n->pass = 0;
  double a = n->nargs > 0 ? arg_value(&args[0]) : 0, b = n->nargs > 1 ? arg_value(&args[1]) : 0;
  uint32_t i;
  switch (n->op) {
  case MG_OP_LEAF: return;
  case MG_OP_SUM:
    for (i = 0; i < n->nargs; i++)
      if (args[i].node) send(ready, &args[i], gn);
    return;
  case MG_OP_DOT:
    i = 0;
    if (n->flags & MG_DOT_BIAS) {
      if (args[0].node) send(ready, &args[0], gn);
      i = 1;
    }
    for (; i + 1 < n->nargs; i += 2) {
      const mg_arg *w = &args[i], *x = &args[i + 1];
      if (w->node) send(ready, w, arg_value(x) * gn);
      if (x->node) send(ready, x, arg_value(w) * gn);
    }
    return;
  default: mg_op_backward((mg_op)n->op, a, b, n->data, gn, &ga, &gb);
  }
  if (args[0].node) send(ready, &args[0], ga);
  if (n->nargs > 1 && args[1].node) send(ready, &args[1], gb);
}

int mg_backward(mg_node *root, const mg_allocator *alloc) {
  mg_nodes all = {alloc, NULL, 0, 0};
  int rc = discover(&all, root);
  if (rc == MG_OK) {
    mg_nodes ready = {alloc, all.at, 0, all.cap}; /* never holds more than all did */
    root->pass = 1.0;                             /* d root / d root */
    ready.at[ready.count++] = root;
    while (ready.count > 0) sweep_node(&ready, ready.at[--ready.count]);
  } else {
    for (size_t i = 0; i < all.count; i++) all.at[i]->users = 0;
  }
  mg_nodes_free(&all);
  return rc;
}
