/*
 * ops.h - the forward and backward rule of every scalar op, side by side.
 *
 * fwd_<op> computes the value, bwd_<op> turns the incoming gradient g into the
 * gradients of the operands. The multiplication order follows micrograd's
 * engine.py (e.g. `(b * a^(b-1)) * g`) so results match it bit for bit. The
 * dynamic engine (engine.c) and the compiled tape (tape.c) both use these, so
 * both give the same bits.
 *
 * No rule overflows or underflows needlessly (a gradient is inf or 0 only
 * where the true one is out of range): where an intermediate of the plain
 * formula leaves the normal range, the rule computes it another way, and
 * everywhere else it gives the plain formula's bits (which parity needs).
 */
#ifndef MG_OPS_H
#define MG_OPS_H

#include <float.h>
#include <math.h>

#include "engine.h"

/* Whether x is a normal number: no bits lost to underflow, no overflow. */
static inline int mg_normal(double x) { return fabs(x) >= DBL_MIN && fabs(x) <= DBL_MAX; }

/* (p * q) / (r * s) for finite nonzero p, q, r, s, with the exponents kept
 * apart: the bits of the plain formula wherever it stays in the normal range
 * (scaling by powers of two is exact), and within an ulp or two of the true
 * result where the plain formula's intermediates leave the range. */
static inline double mg_scaled_ratio(double p, double q, double r, double s) {
  int ep, eq, er, es;
  double m = (frexp(p, &ep) * frexp(q, &eq)) / (frexp(r, &er) * frexp(s, &es));
  return ldexp(m, ep + eq - er - es);
}

/* sign * e^(sum of logs), for a product of factors given by their logs when
 * the plain product leaves the range: about 1e-13 relative error, no needless
 * overflow or underflow. */
static inline double mg_exp_sum(double sign, double log_sum) { return sign * exp(log_sum); }

/* a + b        d/da = 1, d/db = 1 */
static inline double fwd_add(double a, double b) { return a + b; }
static inline void bwd_add(double g, double *ga, double *gb) { *ga = g, *gb = g; }

/* a - b        d/da = 1, d/db = -1 */
static inline double fwd_sub(double a, double b) { return a - b; }
static inline void bwd_sub(double g, double *ga, double *gb) { *ga = g, *gb = -g; }

/* a * b        d/da = b, d/db = a */
static inline double fwd_mul(double a, double b) { return a * b; }
static inline void bwd_mul(double a, double b, double g, double *ga, double *gb) { *ga = b * g, *gb = a * g; }

/* a / b        d/da = 1/b, d/db = -a/b^2 (g a and b^2 may leave the range
 * where the gradient does not: a = b = 1e-200 gives -1e200, not -inf) */
static inline double fwd_div(double a, double b) { return a / b; }
static inline void bwd_div(double a, double b, double g, double *ga, double *gb) {
  double ga_ = g * a, bb = b * b, q = ga_ / bb;
  if (!(mg_normal(ga_) && mg_normal(bb)) && isfinite(g) && isfinite(a) && isfinite(b) && g != 0 && a != 0 &&
      b != 0)
    q = mg_scaled_ratio(g, a, b, b);
  *ga = g / b, *gb = -q;
}

/* a ^ b        d/da = b a^(b-1) (0 when b = 0), d/db = a^b ln a (0 when a = 0, b >= 0)
 * Where a^(b-1), b a^(b-1), a^b or a^b ln a leaves the range, the same
 * products are summed as logs (a^(b-1) overflows for a = 1e-310, b = 0.001,
 * where d/da is 4.9e306). */
static inline double fwd_pow(double a, double b) { return pow(a, b); }
static inline double pow_wide(double a, double b, double g) { /* b a^(b-1) g; finite nonzero a, b, g */
  double sign = (b < 0) != (g < 0) ? -1.0 : 1.0;
  if (a < 0 && fmod(b - 1, 2) != 0) sign = -sign; /* odd integer b - 1 (else a^(b-1) is NaN) */
  return mg_exp_sum(sign, log(fabs(b)) + (b - 1) * log(fabs(a)) + log(fabs(g)));
}
static inline double pow_log_wide(double a, double b, double g) { /* a^b ln a g; a > 0, finite b, g */
  double la = log(a), sign = (la < 0) != (g < 0) ? -1.0 : 1.0;
  return mg_exp_sum(sign, b * la + log(fabs(la)) + log(fabs(g)));
}
static inline void bwd_pow(double a, double b, double out, double g, double *ga, double *gb) {
  int wide = isfinite(a) && isfinite(b) && isfinite(g) && a != 0 && g != 0;
  double p = pow(a, b - 1), bp = b * p;
  *ga = b == 0 ? 0.0 : wide && !isnan(p) && !(mg_normal(p) && mg_normal(bp)) ? pow_wide(a, b, g) : bp * g;
  double ol = out * log(a);
  *gb = (a == 0 && b >= 0)                                              ? 0.0
        : wide && a > 0 && a != 1 && !(mg_normal(out) && mg_normal(ol)) ? pow_log_wide(a, b, g)
                                                                        : g * ol;
}

/* -a           d/da = -1 */
static inline double fwd_neg(double a) { return -a; }
static inline double bwd_neg(double g) { return -g; }

/* relu(a)      d/da = 1 if out > 0 else 0 (a NaN stays NaN, as micrograd) */
static inline double fwd_relu(double a) { return a < 0 ? 0.0 : a; }
static inline double bwd_relu(double out, double g) { return (out > 0 ? 1.0 : 0.0) * g; }

/* tanh(a)      d/da = 1 - tanh(a)^2; where that cancels (|a| > 9.7: it is
 * 0 from |a| = 19.1 on), 4 e / (1 + e)^2 with e = e^-2|a| */
static inline double fwd_tanh(double a) { return tanh(a); }
static inline double bwd_tanh(double a, double out, double g) {
  double d = 1 - out * out;
  if (d < 0x1p-26 && isfinite(a)) {
    double e = exp(-2 * fabs(a));
    d = 4 * e / ((1 + e) * (1 + e));
  }
  return d * g;
}

/* e^a          d/da = e^a; where e^a leaves the range, e^(a + ln|g|) */
static inline double fwd_exp(double a) { return exp(a); }
static inline double bwd_exp(double a, double out, double g) {
  if (!mg_normal(out) && isfinite(a) && isfinite(g) && g != 0)
    return mg_exp_sum(g < 0 ? -1.0 : 1.0, a + log(fabs(g)));
  return out * g;
}

/* ln a         d/da = 1/a */
static inline double fwd_log(double a) { return log(a); }
static inline double bwd_log(double a, double g) { return g / a; }

/* sigmoid(a)   d/da = s (1 - s); e^a / (1 + e^a) for a < 0 so e^-a cannot overflow */
static inline double fwd_sigmoid(double a) {
  if (a >= 0) return 1 / (1 + exp(-a));
  double e = exp(a);
  return e / (1 + e);
}
/* (for |a| > 18, e / (1 + e)^2 with e = e^-|a|: s (1 - s) cancels for a > 0, to 0 from a = 37) */
static inline double bwd_sigmoid(double a, double out, double g) {
  double d = out * (1 - out);
  if (d < 0x1p-26 && isfinite(a)) {
    double e = exp(-fabs(a));
    d = e / ((1 + e) * (1 + e));
  }
  return g * d;
}

/* |a|          d/da = sign(a), 0 at 0 */
static inline double fwd_abs(double a) { return fabs(a); }
static inline double bwd_abs(double a, double g) {
  return (a > 0 ? 1.0 : a < 0 ? -1.0 : a == 0 ? 0.0 : a) * g;
}

/* sqrt(a)      d/da = 1 / (2 sqrt(a)) */
static inline double fwd_sqrt(double a) { return sqrt(a); }
static inline double bwd_sqrt(double out, double g) { return g / (2 * out); }

/* ln(1 + e^a) = max(a, 0) + ln(1 + e^-|a|)     d/da = sigmoid(a) */
static inline double fwd_softplus(double a) { return (a > 0 ? a : 0.0) + log1p(exp(-fabs(a))); }
static inline double bwd_softplus(double a, double g) { return g * fwd_sigmoid(a); }

/* detach(a)    the value of a; d/da = 0 (a stop-gradient: nothing is sent back) */
static inline double fwd_detach(double a) { return a; }

/* sum: a1 + a2 + ...             d/dai = 1
 * dot: [bias +] w1 x1 + w2 x2 + ...   d/dwi = xi, d/dxi = wi, d/dbias = 1
 * Both are loops over their operands, written out where they are used. */

/* logsumexp: ln(e^a1 + e^a2 + ...) = m + ln s, s = e^(a1-m) + e^(a2-m) + ...,
 * m the largest ai (so no e^ overflows)    d/dai = e^(ai-m) / s (the softmax)
 * Loops over the operands, written out where they are used in these steps so
 * that every caller gets the same bits: m = lse_max(m, ai) from m = -inf, then
 * s = lse_term(a1, m) + lse_term(a2, m) + ... left to right; the value is
 * lse_finish(m, s) (a NaN operand gives NaN, an infinite m is the value).
 * The backward finds m and s again rather than using e^(ai - out): out has
 * lost the low bits of ln s to m's magnitude (logsumexp{1000, 1000} would give
 * 0.50000000000003, not 0.5). */
static inline double lse_max(double m, double a) { return a > m || a != a ? a : m; }
static inline double lse_term(double a, double m) { return exp(a - m); }
static inline double lse_finish(double m, double s) { return isfinite(m) ? m + log(s) : m; }
static inline double bwd_logsumexp(double a, double m, double s, double g) { return lse_term(a, m) / s * g; }

/* m and s of a logsumexp over slots v[at[0]], v[at[1]], ... (the compiled tape's). */
static inline void lse_slots(const double *v, const uint32_t *at, uint32_t n, double *m, double *s) {
  double mm = -INFINITY, ss = 0;
  for (uint32_t j = 0; j < n; j++) mm = lse_max(mm, v[at[j]]);
  if (n > 0) ss = lse_term(v[at[0]], mm);
  for (uint32_t j = 1; j < n; j++) ss += lse_term(v[at[j]], mm);
  *m = mm, *s = ss;
}

/* op(a, b) for the scalar ops (b ignored by unary ones); a for the others. */
static inline double mg_op_forward(mg_op op, double a, double b) {
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
  case MG_OP_DETACH: return fwd_detach(a);
  default: return a;
  }
}

/* The gradients *ga, *gb of the operands of a scalar op with operands a, b,
 * value out and incoming gradient g (*gb is 0 for unary ops). */
static inline void mg_op_backward(mg_op op, double a, double b, double out, double g, double *ga,
                                  double *gb) {
  *ga = 0, *gb = 0;
  switch (op) {
  case MG_OP_ADD: bwd_add(g, ga, gb); break;
  case MG_OP_SUB: bwd_sub(g, ga, gb); break;
  case MG_OP_MUL: bwd_mul(a, b, g, ga, gb); break;
  case MG_OP_DIV: bwd_div(a, b, g, ga, gb); break;
  case MG_OP_POW: bwd_pow(a, b, out, g, ga, gb); break;
  case MG_OP_NEG: *ga = bwd_neg(g); break;
  case MG_OP_RELU: *ga = bwd_relu(out, g); break;
  case MG_OP_TANH: *ga = bwd_tanh(a, out, g); break;
  case MG_OP_EXP: *ga = bwd_exp(a, out, g); break;
  case MG_OP_LOG: *ga = bwd_log(a, g); break;
  case MG_OP_SIGMOID: *ga = bwd_sigmoid(a, out, g); break;
  case MG_OP_ABS: *ga = bwd_abs(a, g); break;
  case MG_OP_SQRT: *ga = bwd_sqrt(out, g); break;
  case MG_OP_SOFTPLUS: *ga = bwd_softplus(a, g); break;
  case MG_OP_DETACH: break; /* no gradient */
  default: break;
  }
}

#endif
