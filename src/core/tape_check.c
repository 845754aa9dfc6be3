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

/* The slot of operand k (in its node's operand order) of instruction in. */
static uint32_t operand_slot(const mg_tape *t, const mg_instr *in, uint32_t k) {
  uint32_t bias = in->flags & MG_TAPE_BIAS ? 1 : 0;
  if (in->op == MG_TAPE_DOT_RANGE) {
    if (bias && k == 0) return in->dot.bias;
    return ((k - bias) % 2 == 0 ? in->dot.w : in->dot.x) + (k - bias) / 2;
  }
  if (in->op == MG_TAPE_SUM_RANGE) return in->range.first + k;
  if (mg_op_is_scalar(in->op)) return k == 0 ? in->scalar.a : in->scalar.b;
  return t->args[in->list.first + k]; /* MG_OP_SUM, _DOT, _LOGSUMEXP */
}

/* How many operands instruction in has. */
static uint32_t operand_count(const mg_instr *in) {
  return in->op == MG_TAPE_DOT_RANGE ? (in->flags & MG_TAPE_BIAS ? 1 : 0) + 2 * in->n : in->n;
}

/* Calls visit(ctx, k, slot) for operand k (in the node's operand order) of
 * instruction in, until it returns non-zero; returns that. */
typedef int (*operand_fn)(void *ctx, uint32_t k, uint32_t slot);

static int each_operand(const mg_tape *t, const mg_instr *in, operand_fn visit, void *ctx) {
  int rc = 0;
  for (uint32_t k = 0, n = operand_count(in); !rc && k < n; k++) rc = visit(ctx, k, operand_slot(t, in, k));
  return rc;
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
  const mg_tape *t;
  const mg_instr *in;
  uint32_t k;       /* the operand that overflowed */
  double sent, sum; /* the gradient sent to it, and its sum */
} send;

/* Adds gradient d to the slot of operand k; non-zero when the sum is not
 * finite (the n-ary rules' send, ops.h). */
static int add_gradient(void *ctx, uint32_t k, double d) {
  send *s = ctx;
  double *g = s->t->grad + operand_slot(s->t, s->in, k);
  *g += d;
  if (isfinite(*g)) return 0;
  s->k = k, s->sent = d, s->sum = *g;
  return 1;
}

/* Sends instruction in's gradient gn to its operands, each added and checked
 * in the dynamic engine's order, by the rules of ops.h. */
static int sweep_one(mg_tape *t, const mg_instr *in, double gn, send *s) {
  const double *v = t->val;
  uint32_t bias = in->flags & MG_TAPE_BIAS ? 1 : 0;
  double ga, gb;
  s->in = in;
  if (in->op == MG_TAPE_DOT_RANGE) {
    mg_ranges r = {v + in->dot.w, v + in->dot.x};
    return mg_dot_backward(gn, bias, in->n, &r, get_range_w, get_range_x, add_gradient, s);
  }
  if (in->op == MG_TAPE_SUM_RANGE) return mg_sum_backward(gn, in->n, add_gradient, s);
  if (mg_op_is_scalar(in->op)) {
    mg_op_backward((mg_op)in->op, v[in->scalar.a], v[in->scalar.b], v[in->out], gn, &ga, &gb);
    return add_gradient(s, 0, ga) || (in->n > 1 && add_gradient(s, 1, gb));
  }
  mg_listed l = {v, t->args + in->list.first}, lw = {v, l.at + bias};
  switch (in->op) {
  case MG_OP_SUM: return mg_sum_backward(gn, in->n, add_gradient, s);
  case MG_OP_DOT:
    return mg_dot_backward(gn, bias, (in->n - bias) / 2, &lw, get_listed_w, get_listed_x, add_gradient, s);
  default: return mg_lse_backward(gn, &l, get_listed, in->n, add_gradient, s); /* MG_OP_LOGSUMEXP */
  }
}

int mg_tape_sweep_checked(mg_tape *t, double seed, mg_tape_anomaly *bad) {
  double *g = t->grad;
  send s = {t, NULL, 0, 0, 0};
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
