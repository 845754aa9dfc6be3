/*
 * tape_check.c - replaying a tape for detect_anomaly: finding the first op
 * whose value, or the first gradient, is a NaN or an infinity.
 *
 * The checks walk the code in traced order (forward) and in reverse
 * (backward), one op at a time with no fused instructions, so that what they
 * report is the op the dynamic engine would blame.
 */
#include <math.h>

#include "ops.h"
#include "tape.h"

/* Calls visit(ctx, k, slot) for operand k (in the node's operand order) of
 * instruction in, until it returns non-zero; returns that. */
typedef int (*operand_fn)(void *ctx, uint32_t k, uint32_t slot);

static int each_operand(const mg_tape *t, const mg_instr *in, operand_fn visit, void *ctx) {
  uint32_t bias = in->flags & MG_TAPE_BIAS ? 1 : 0, rc = 0;
  switch (in->op) {
  case MG_TAPE_DOT_RANGE:
    if (bias) rc = visit(ctx, 0, in->a);
    for (uint32_t j = 0; !rc && j < in->n; j++) {
      rc = visit(ctx, bias + 2 * j, in->b + j);
      if (!rc) rc = visit(ctx, bias + 2 * j + 1, in->c + j);
    }
    return (int)rc;
  case MG_TAPE_SUM_RANGE:
    for (uint32_t j = 0; !rc && j < in->n; j++) rc = visit(ctx, j, in->a + j);
    return (int)rc;
  case MG_OP_SUM:
  case MG_OP_DOT:
  case MG_OP_LOGSUMEXP:
    for (uint32_t j = 0; !rc && j < in->n; j++) rc = visit(ctx, j, t->args[in->a + j]);
    return (int)rc;
  default: return visit(ctx, 0, in->a) || (in->n > 1 && visit(ctx, 1, in->b));
  }
}

typedef struct finite_check {
  const double *v;
  int nan, inf;
} finite_check;

static int note_operand(void *ctx, uint32_t k, uint32_t slot) {
  finite_check *c = ctx;
  double x = c->v[slot];
  (void)k;
  c->nan |= isnan(x), c->inf |= isinf(x);
  return 0;
}

int mg_tape_check_forward(const mg_tape *t, uint32_t *at) {
  for (uint32_t i = 0; i < t->ncode; i++) {
    const mg_instr *in = &t->code[i];
    double out = t->val[in->out];
    if (isfinite(out)) continue;
    finite_check c = {t->val, 0, 0};
    each_operand(t, in, note_operand, &c);
    if ((isnan(out) && !c.nan) || (isinf(out) && !c.nan && !c.inf)) {
      *at = i;
      return 1;
    }
  }
  return 0;
}

typedef struct collect {
  const double *v;
  double *values;
  uint32_t max, count;
} collect;

static int collect_operand(void *ctx, uint32_t k, uint32_t slot) {
  collect *c = ctx;
  if (k < c->max) c->values[k] = c->v[slot];
  c->count++;
  return 0;
}

uint32_t mg_tape_operands(const mg_tape *t, uint32_t at, double *values, uint32_t max) {
  collect c = {t->val, values, max, 0};
  each_operand(t, &t->code[at], collect_operand, &c);
  return c.count;
}

typedef struct send {
  double *g;
  const double *d; /* the gradient for each operand, by operand number; NULL: use one */
  double one;
  uint32_t k; /* the operand that overflowed */
  double sent, sum;
} send;

/* Adds the gradient for operand k into its slot; non-zero when the sum is not finite. */
static int add_gradient(void *ctx, uint32_t k, uint32_t slot) {
  send *s = ctx;
  double d = s->d ? s->d[k] : s->one;
  s->g[slot] += d;
  if (isfinite(s->g[slot])) return 0;
  s->k = k, s->sent = d, s->sum = s->g[slot];
  return 1;
}

/* Sends instruction in's gradient gn to its operands, each added and checked
 * in the dynamic engine's order; a dot's gradient for w_j is x_j gn and so on. */
static int sweep_one(mg_tape *t, const mg_instr *in, double gn, send *s) {
  double d[2];
  if (in->op == MG_TAPE_SUM_RANGE || in->op == MG_OP_SUM) {
    s->d = NULL, s->one = gn;
    return each_operand(t, in, add_gradient, s);
  }
  if (in->op == MG_TAPE_DOT_RANGE || in->op == MG_OP_DOT) {
    uint32_t bias = in->flags & MG_TAPE_BIAS ? 1 : 0;
    uint32_t count = in->op == MG_OP_DOT ? in->n : bias + 2 * in->n;
    if (bias) {
      s->d = NULL, s->one = gn;
      uint32_t slot = in->op == MG_OP_DOT ? t->args[in->a] : in->a;
      if (add_gradient(s, 0, slot)) return 1;
    }
    for (uint32_t k = bias; k + 1 < count; k += 2) { /* w_j gets x_j gn, x_j gets w_j gn */
      uint32_t ws = in->b + (k - bias) / 2, xs = in->c + (k - bias) / 2;
      if (in->op == MG_OP_DOT) ws = t->args[in->a + k], xs = t->args[in->a + k + 1];
      double w = t->val[ws], x = t->val[xs];
      s->d = NULL, s->one = x * gn;
      if (add_gradient(s, k, ws)) return 1;
      s->one = w * gn;
      if (add_gradient(s, k + 1, xs)) return 1;
    }
    return 0;
  }
  if (in->op == MG_OP_LOGSUMEXP) { /* operand k gets e^(ak - m) / s gn */
    const uint32_t *at = t->args + in->a;
    s->d = NULL;
    lse_slots(t->val, at, in->n, &d[0], &d[1]);
    for (uint32_t k = 0; k < in->n; k++) {
      uint32_t slot = at[k];
      s->one = bwd_logsumexp(t->val[slot], d[0], d[1], gn);
      if (add_gradient(s, k, slot)) return 1;
    }
    return 0;
  }
  mg_op_backward((mg_op)in->op, t->val[in->a], t->val[in->b], t->val[in->out], gn, &d[0], &d[1]);
  s->d = d;
  int rc = each_operand(t, in, add_gradient, s);
  s->d = NULL; /* d is gone after the return */
  return rc;
}

int mg_tape_sweep_checked(mg_tape *t, double seed, mg_tape_anomaly *bad) {
  double *g = t->grad;
  send s = {g, NULL, 0, 0, 0, 0};
  for (uint32_t i = 0; i < t->nin; i++) g[i] = 0;
  for (uint32_t i = 0; i < t->nops; i++) g[t->nin + t->nlive + i] = 0;
  if (t->nout == 0) return 0;
  g[t->out_slots[0]] += seed;
  for (uint32_t i = t->nbackward; i-- > 0;) {
    const mg_instr *in = &t->code[i];
    if (sweep_one(t, in, g[in->out], &s)) {
      bad->at = i, bad->operand = s.k, bad->grad = s.sent, bad->sum = s.sum;
      return 1;
    }
  }
  return 0;
}
