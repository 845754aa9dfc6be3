/*
 * engine.c - forward and backward rules of every op, and the backward sweep.
 *
 * Each op has its forward rule and its backward rule next to each other:
 * fwd_<op> computes the value, bwd_<op> turns the incoming gradient g into the
 * gradients of the operands. The multiplication order follows micrograd's
 * engine.py (e.g. `(b * a^(b-1)) * g`) so results match it bit for bit.
 */
#include "engine.h"

#include <math.h>
#include <string.h>

static const char *const op_names[MG_OP_COUNT] = {
    "",    "+",   "-",       "*",   "/",    "^",        "neg", "relu", "tanh",
    "exp", "log", "sigmoid", "abs", "sqrt", "softplus", "sum", "dot",
};

const char *mg_op_name(mg_op op) { return (unsigned)op < MG_OP_COUNT ? op_names[op] : "?"; }

/* ---- the ops: forward value and local gradients, side by side ---------- */

/* a + b        d/da = 1, d/db = 1 */
static double fwd_add(double a, double b) { return a + b; }
static void bwd_add(double g, double *ga, double *gb) { *ga = g, *gb = g; }

/* a - b        d/da = 1, d/db = -1 */
static double fwd_sub(double a, double b) { return a - b; }
static void bwd_sub(double g, double *ga, double *gb) { *ga = g, *gb = -g; }

/* a * b        d/da = b, d/db = a */
static double fwd_mul(double a, double b) { return a * b; }
static void bwd_mul(double a, double b, double g, double *ga, double *gb) { *ga = b * g, *gb = a * g; }

/* a / b        d/da = 1/b, d/db = -a/b^2 */
static double fwd_div(double a, double b) { return a / b; }
static void bwd_div(double a, double b, double g, double *ga, double *gb) {
  *ga = g / b, *gb = -g * a / (b * b);
}

/* a ^ b        d/da = b a^(b-1) (0 when b = 0), d/db = a^b ln a (0 when a = 0, b >= 0) */
static double fwd_pow(double a, double b) { return pow(a, b); }
static void bwd_pow(double a, double b, double out, double g, double *ga, double *gb) {
  *ga = b == 0 ? 0.0 : (b * pow(a, b - 1)) * g;
  *gb = (a == 0 && b >= 0) ? 0.0 : g * (out * log(a));
}

/* -a           d/da = -1 */
static double fwd_neg(double a) { return -a; }
static double bwd_neg(double g) { return -g; }

/* relu(a)      d/da = 1 if out > 0 else 0 (a NaN stays NaN, as micrograd) */
static double fwd_relu(double a) { return a < 0 ? 0.0 : a; }
static double bwd_relu(double out, double g) { return (out > 0 ? 1.0 : 0.0) * g; }

/* tanh(a)      d/da = 1 - tanh(a)^2 */
static double fwd_tanh(double a) { return tanh(a); }
static double bwd_tanh(double out, double g) { return (1 - out * out) * g; }

/* e^a          d/da = e^a */
static double fwd_exp(double a) { return exp(a); }
static double bwd_exp(double out, double g) { return out * g; }

/* ln a         d/da = 1/a */
static double fwd_log(double a) { return log(a); }
static double bwd_log(double a, double g) { return g / a; }

/* sigmoid(a)   d/da = s (1 - s); e^a / (1 + e^a) for a < 0 so e^-a cannot overflow */
static double fwd_sigmoid(double a) {
  if (a >= 0) return 1 / (1 + exp(-a));
  double e = exp(a);
  return e / (1 + e);
}
static double bwd_sigmoid(double out, double g) { return g * (out * (1 - out)); }

/* |a|          d/da = sign(a), 0 at 0 */
static double fwd_abs(double a) { return fabs(a); }
static double bwd_abs(double a, double g) { return (a > 0 ? 1.0 : a < 0 ? -1.0 : a == 0 ? 0.0 : a) * g; }

/* sqrt(a)      d/da = 1 / (2 sqrt(a)) */
static double fwd_sqrt(double a) { return sqrt(a); }
static double bwd_sqrt(double out, double g) { return g / (2 * out); }

/* ln(1 + e^a) = max(a, 0) + ln(1 + e^-|a|)     d/da = sigmoid(a) */
static double fwd_softplus(double a) { return (a > 0 ? a : 0.0) + log1p(exp(-fabs(a))); }
static double bwd_softplus(double a, double g) { return g * fwd_sigmoid(a); }

/* sum: a1 + a2 + ...             d/dai = 1
 * dot: [bias +] w1 x1 + w2 x2 + ...   d/dwi = xi, d/dxi = wi, d/dbias = 1
 * Both are written out in mg_forward and sweep_node below. */

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

double mg_apply(mg_op op, double a, double b) {
  switch (op) {
  case MG_OP_ADD: return fwd_add(a, b);
  case MG_OP_SUB: return fwd_sub(a, b);
  case MG_OP_MUL: return fwd_mul(a, b);
  case MG_OP_DIV: return fwd_div(a, b);
  case MG_OP_POW: return fwd_pow(a, b);
  case MG_OP_NEG: return fwd_neg(a);
  case MG_OP_RELU: return fwd_relu(a);
  case MG_OP_TANH: return fwd_tanh(a);
  case MG_OP_EXP: return fwd_exp(a);
  case MG_OP_LOG: return fwd_log(a);
  case MG_OP_SIGMOID: return fwd_sigmoid(a);
  case MG_OP_ABS: return fwd_abs(a);
  case MG_OP_SQRT: return fwd_sqrt(a);
  case MG_OP_SOFTPLUS: return fwd_softplus(a);
  default: return a; /* leaf, sum, dot: not scalar functions */
  }
}

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

typedef struct nodes {
  const mg_allocator *alloc;
  mg_node **at;
  size_t count, cap;
} nodes;

static int append(nodes *a, mg_node *n) {
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

static int discover(nodes *all, mg_node *root) {
  int rc = append(all, root);
  for (size_t next = 0; rc == MG_OK && next < all->count; next++) {
    const mg_node *n = all->at[next];
    for (uint32_t i = 0; rc == MG_OK && i < n->nargs; i++) {
      mg_node *child = n->args[i].node;
      if (!child) continue;
      if (child->users == UINT32_MAX)
        rc = MG_ETOOBIG;
      else if (child->users > 0 || (rc = append(all, child)) == MG_OK)
        child->users++;
    }
  }
  return rc;
}

/* Sends gradient d to operand slot a: when it was the node's last user, the node is ready. */
static inline void send(nodes *ready, const mg_arg *a, double d) {
  mg_node *n = a->node;
  n->pass += d;
  if (--n->users == 0) ready->at[ready->count++] = n;
}

/* Moves node n's pass gradient into its grad and on to its operands. */
static void sweep_node(nodes *ready, mg_node *n) {
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
  case MG_OP_ADD: bwd_add(gn, &ga, &gb); break;
  case MG_OP_SUB: bwd_sub(gn, &ga, &gb); break;
  case MG_OP_MUL: bwd_mul(a, b, gn, &ga, &gb); break;
  case MG_OP_DIV: bwd_div(a, b, gn, &ga, &gb); break;
  case MG_OP_POW: bwd_pow(a, b, n->data, gn, &ga, &gb); break;
  case MG_OP_NEG: ga = bwd_neg(gn); break;
  case MG_OP_RELU: ga = bwd_relu(n->data, gn); break;
  case MG_OP_TANH: ga = bwd_tanh(n->data, gn); break;
  case MG_OP_EXP: ga = bwd_exp(n->data, gn); break;
  case MG_OP_LOG: ga = bwd_log(a, gn); break;
  case MG_OP_SIGMOID: ga = bwd_sigmoid(n->data, gn); break;
  case MG_OP_ABS: ga = bwd_abs(a, gn); break;
  case MG_OP_SQRT: ga = bwd_sqrt(n->data, gn); break;
  case MG_OP_SOFTPLUS: ga = bwd_softplus(a, gn); break;
  default: return;
  }
  if (args[0].node) send(ready, &args[0], ga);
  if (n->nargs > 1 && args[1].node) send(ready, &args[1], gb);
}

int mg_backward(mg_node *root, const mg_allocator *alloc) {
  nodes all = {alloc, NULL, 0, 0};
  int rc = discover(&all, root);
  if (rc == MG_OK) {
    nodes ready = {alloc, all.at, 0, all.cap}; /* never holds more than all did */
    root->pass = 1.0;                          /* d root / d root */
    ready.at[ready.count++] = root;
    while (ready.count > 0) sweep_node(&ready, ready.at[--ready.count]);
  } else {
    for (size_t i = 0; i < all.count; i++) all.at[i]->users = 0;
  }
  if (all.at) alloc->fn(alloc->ud, all.at, all.cap * sizeof *all.at, 0);
  return rc;
}
