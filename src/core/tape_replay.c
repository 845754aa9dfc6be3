/*
 * tape_replay.c - replaying a compiled tape: forward (the scheduled code, see
 * tape_schedule.c) and backward (the code in reverse).
 */
#include <string.h>

#include "ops.h"
#include "tape.h"

void mg_tape_read_live(mg_tape *t) {
  double *v = t->val + t->nin;
  for (uint32_t k = 0; k < t->nlive; k++) v[k] = t->live[k]->data;
}

void mg_tape_forward(mg_tape *t) {
  mg_tape_read_live(t);
  mg_tape_run(t);
}

#if defined(__GNUC__) || defined(__clang__)
typedef double two_doubles __attribute__((vector_size(2 * sizeof(double))));
#define MG_TWO_DOUBLES 1
#endif

#ifdef MG_TWO_DOUBLES
/* Eight range dots d[0..8) over the same x (n terms, from term first): eight
 * chains of additions, two to a vector register. */
static void dot8(double *v, const mg_instr *d, const double *x, uint32_t n, uint32_t first) {
  const double *w0 = v + d[0].dot.w, *w1 = v + d[1].dot.w, *w2 = v + d[2].dot.w, *w3 = v + d[3].dot.w;
  const double *w4 = v + d[4].dot.w, *w5 = v + d[5].dot.w, *w6 = v + d[6].dot.w, *w7 = v + d[7].dot.w;
  two_doubles a01, a23, a45, a67;
  if (first) {
    a01 = (two_doubles){w0[0], w1[0]} * x[0], a23 = (two_doubles){w2[0], w3[0]} * x[0];
    a45 = (two_doubles){w4[0], w5[0]} * x[0], a67 = (two_doubles){w6[0], w7[0]} * x[0];
  } else {
    a01 = (two_doubles){v[d[0].dot.bias], v[d[1].dot.bias]},
    a23 = (two_doubles){v[d[2].dot.bias], v[d[3].dot.bias]};
    a45 = (two_doubles){v[d[4].dot.bias], v[d[5].dot.bias]},
    a67 = (two_doubles){v[d[6].dot.bias], v[d[7].dot.bias]};
  }
  for (uint32_t j = first; j < n; j++) {
    double xj = x[j];
    a01 += (two_doubles){w0[j], w1[j]} * xj, a23 += (two_doubles){w2[j], w3[j]} * xj;
    a45 += (two_doubles){w4[j], w5[j]} * xj, a67 += (two_doubles){w6[j], w7[j]} * xj;
  }
  v[d[0].out] = a01[0], v[d[1].out] = a01[1], v[d[2].out] = a23[0], v[d[3].out] = a23[1];
  v[d[4].out] = a45[0], v[d[5].out] = a45[1], v[d[6].out] = a67[0], v[d[7].out] = a67[1];
}
#endif

/* The k range dots at in, which share x, n and whether they have a bias:
 * eight or four chains of additions at a time (each in its own order, so the
 * same bits). */
static void dot_group(double *v, const mg_instr *in, uint32_t k) {
  const double *x = v + in->dot.x;
  uint32_t n = in->n, first = in->flags & MG_TAPE_BIAS ? 0 : 1, i = 0, j;
#ifdef MG_TWO_DOUBLES
  for (; i + 8 <= k; i += 8) dot8(v, in + i, x, n, first);
#endif
  for (; i + 4 <= k; i += 4) {
    const mg_instr *d = in + i;
    const double *w0 = v + d[0].dot.w, *w1 = v + d[1].dot.w, *w2 = v + d[2].dot.w, *w3 = v + d[3].dot.w;
    double a0, a1, a2, a3;
    if (first)
      a0 = w0[0] * x[0], a1 = w1[0] * x[0], a2 = w2[0] * x[0], a3 = w3[0] * x[0];
    else
      a0 = v[d[0].dot.bias], a1 = v[d[1].dot.bias], a2 = v[d[2].dot.bias], a3 = v[d[3].dot.bias];
    for (j = first; j < n; j++) {
      double xj = x[j];
      a0 += w0[j] * xj, a1 += w1[j] * xj, a2 += w2[j] * xj, a3 += w3[j] * xj;
    }
    v[d[0].out] = a0, v[d[1].out] = a1, v[d[2].out] = a2, v[d[3].out] = a3;
  }
  for (; i < k; i++) {
    const double *w = v + in[i].dot.w;
    double a = first ? w[0] * x[0] : v[in[i].dot.bias];
    for (j = first; j < n; j++) a += w[j] * x[j];
    v[in[i].out] = a;
  }
}

/* The value of a dot, sum or logsumexp instruction that is not in a group. */
static inline double nary_forward(const mg_tape *t, const mg_instr *in) {
  const double *v = t->val;
  uint32_t bias = in->flags & MG_TAPE_BIAS ? 1 : 0;
  if (in->op == MG_TAPE_DOT_RANGE) {
    mg_ranges r = {v + in->dot.w, v + in->dot.x};
    return mg_dot_forward(v[in->dot.bias], bias, in->n, &r, get_range_w, get_range_x);
  }
  if (in->op == MG_TAPE_SUM_RANGE) return mg_sum_forward(v + in->range.first, get_range, in->n);
  mg_listed l = {v, t->args + in->list.first}, lw = {v, l.at + bias};
  switch (in->op) {
  case MG_OP_SUM: return mg_sum_forward(&l, get_listed, in->n);
  case MG_OP_DOT:
    return mg_dot_forward(bias ? v[l.at[0]] : 0, bias, (in->n - bias) / 2, &lw, get_listed_w, get_listed_x);
  default: return mg_lse_forward(&l, get_listed, in->n); /* MG_OP_LOGSUMEXP */
  }
}

void mg_tape_run(mg_tape *t) {
  double *v = t->val;
  for (const mg_instr *in = t->fcode, *end = in + t->nfcode; in < end; in++) {
    uint32_t j, n = in->n;
    double acc;
    switch (in->op) {
    case MG_TAPE_DOT_GROUP:
      dot_group(v, in + 1, n);
      in += n;
      continue;
    case MG_TAPE_MAP: {
      const double *a = v + in->range.first;
      double *out = v + in->out;
      if (in->act == MG_OP_RELU)
        for (j = 0; j < n; j++) out[j] = fwd_relu(a[j]);
      else
        for (j = 0; j < n; j++) out[j] = mg_op_forward((mg_op)in->act, a[j], a[j]);
      continue;
    }
    case MG_TAPE_DOT_RANGE:
    case MG_TAPE_SUM_RANGE:
    case MG_OP_SUM:
    case MG_OP_DOT:
    case MG_OP_LOGSUMEXP: acc = nary_forward(t, in); break;
    case MG_OP_RELU: acc = fwd_relu(v[in->scalar.a]); break;
    case MG_OP_ADD: acc = fwd_add(v[in->scalar.a], v[in->scalar.b]); break;
    case MG_OP_MUL: acc = fwd_mul(v[in->scalar.a], v[in->scalar.b]); break;
    default: acc = mg_op_forward((mg_op)in->op, v[in->scalar.a], v[in->scalar.b]); /* the other scalar ops */
    }
    v[in->out] = acc;
  }
}

/* g[i] += x[i] * s for i < n; the arrays do not overlap. Each element is
 * computed alone, so doing two at a time (SIMD) gives the same bits. */
#ifdef MG_TWO_DOUBLES
static inline void add_scaled(double *restrict g, const double *restrict x, double s, uint32_t n) {
  uint32_t i = 0;
  for (; i + 2 <= n; i += 2) {
    two_doubles gv, xv;
    memcpy(&gv, g + i, sizeof gv); /* unaligned loads and stores */
    memcpy(&xv, x + i, sizeof xv);
    gv += xv * s;
    memcpy(g + i, &gv, sizeof gv);
  }
  if (i < n) g[i] += x[i] * s;
}
#else
static inline void add_scaled(double *restrict g, const double *restrict x, double s, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) g[i] += x[i] * s;
}
#endif

void mg_tape_load_grads(mg_tape *t) {
  double *g = t->grad + t->nin;
  for (uint32_t k = 0; k < t->nlive; k++) g[k] = t->live[k]->grad;
  for (uint32_t j = 0; j < t->nshared; j++)
    t->shared_grad[j] = t->grad[t->shared[j]], t->grad[t->shared[j]] = 0;
}

void mg_tape_flush_grads(mg_tape *t) {
  for (uint32_t j = 0; j < t->nshared; j++)
    t->shared_grad[j] += t->grad[t->shared[j]], t->grad[t->shared[j]] = 0;
}

void mg_tape_store_grads(mg_tape *t) {
  for (uint32_t j = 0; j < t->nshared; j++) t->grad[t->shared[j]] = t->shared_grad[j];
  const double *g = t->grad + t->nin;
  for (uint32_t k = 0; k < t->nlive; k++) t->live[k]->grad = g[k];
}

/* Range dot in (value out) with incoming gradient gn. */
static inline void dot_backward(const double *v, double *g, const mg_instr *in, double gn, double out) {
  /* A zero gradient (an inactive relu above) would add only zeros, unless an
   * operand is infinite or NaN (0 * inf is NaN): then the value is not finite. */
  if (gn == 0 && isfinite(out)) return;
  if (in->flags & MG_TAPE_BIAS) g[in->dot.bias] += gn;
  if (in->flags & MG_TAPE_SAME) {
    const double *w = v + in->dot.w;
    double *gw = g + in->dot.w;
    for (uint32_t j = 0; j < in->n; j++) gw[j] += w[j] * gn, gw[j] += w[j] * gn;
    return;
  }
  if (in->flags & MG_TAPE_WGRAD) add_scaled(g + in->dot.w, v + in->dot.x, gn, in->n);
  if (in->flags & MG_TAPE_XGRAD) add_scaled(g + in->dot.x, v + in->dot.w, gn, in->n);
}

#if defined(__GNUC__) || defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* The n-ary rules' send on the tape: adds d to the slot of operand i. */
typedef struct adder {
  double *g;
  const uint32_t *at;
} adder;
static int add_to(void *ctx, uint32_t i, double d) {
  adder *a = ctx;
  a->g[a->at[i]] += d;
  return 0;
}

/* Sends the gradient gn of a sum, dot or logsumexp instruction over listed
 * slots to its operands (a call: inlined, it would cost the sweep's hot loop
 * registers). */
NOINLINE static void nary_backward(mg_tape *t, const mg_instr *in, double gn) {
  uint32_t bias = in->flags & MG_TAPE_BIAS ? 1 : 0;
  mg_listed l = {t->val, t->args + in->list.first}, lw = {t->val, l.at + bias};
  adder add = {t->grad, l.at};
  switch (in->op) {
  case MG_OP_SUM:
    if (gn != 0) mg_sum_backward(gn, in->n, add_to, &add); /* else it would add only zeros */
    return;
  case MG_OP_DOT:
    if (gn == 0 && isfinite(t->val[in->out])) return; /* see dot_backward */
    mg_dot_backward(gn, bias, (in->n - bias) / 2, &lw, get_listed_w, get_listed_x, add_to, &add);
    return;
  default: mg_lse_backward(gn, &l, get_listed, in->n, add_to, &add); /* MG_OP_LOGSUMEXP */
  }
}

void mg_tape_sweep(mg_tape *t, double seed) {
  const double *v = t->val;
  double *g = t->grad;
  /* The leaves' slots keep what they hold (see mg_tape_load_grads); constants'
   * slots are scratch, written and never read. */
  memset(g, 0, t->nin * sizeof(double));
  memset(g + t->nin + t->nlive, 0, t->nops * sizeof(double));
  if (t->nout == 0) return;
  g[t->out_slots[0]] += seed;
  for (const mg_instr *in = t->bcode, *end = in + t->nbcode; in < end; in++) {
    uint32_t j, n = in->n;
    double gn = g[in->out], ga, gb;
    switch (in->op) {
    case MG_TAPE_ACT_DOT: /* the activation's backward, then the dot's with its result */
      if (in->act == MG_OP_RELU)
        gn = bwd_relu(0, v[in->out], gn); /* relu's rule reads only its value: no load of its operand */
      else
        mg_op_backward((mg_op)in->act, v[in->dot.pre], v[in->dot.pre], v[in->out], gn, &gn, &gb);
      if (gn == 0 && isfinite(v[in->dot.pre]))
        break; /* an inactive relu: nothing to send (see dot_backward) */
      dot_backward(v, g, in, gn, v[in->dot.pre]);
      break;
    case MG_TAPE_DOT_RANGE: dot_backward(v, g, in, gn, v[in->out]); break;
    case MG_TAPE_SUM_RANGE:
      if (gn == 0) break; /* it would add only zeros */
      for (j = 0; j < n; j++) g[in->range.first + j] += gn;
      break;
    case MG_OP_SUM:
    case MG_OP_DOT:
    case MG_OP_LOGSUMEXP: nary_backward(t, in, gn); break;
    case MG_OP_RELU: g[in->scalar.a] += bwd_relu(0, v[in->out], gn); break; /* it reads only its value */
    default: /* the other scalar ops; a unary op's b is a, and its gb is 0 */
      mg_op_backward((mg_op)in->op, v[in->scalar.a], v[in->scalar.b], v[in->out], gn, &ga, &gb);
      g[in->scalar.a] += ga;
      g[in->scalar.b] += gb;
    }
  }
}

void mg_tape_backward(mg_tape *t, double seed) {
  mg_tape_load_grads(t);
  mg_tape_sweep(t, seed);
  mg_tape_flush_grads(t);
  mg_tape_store_grads(t);
}
