/*
 * ops.h - the op table: every op's forward and backward rule, side by side,
 * and the table (MG_OP_TABLE, at the end) that everything else about an op
 * derives from: the mg_op codes, the names, the dynamic engine's and the
 * tape's dispatch, the Value methods and the `mg.ops` list the specs test.
 *
 * fwd_<op> computes the value, bwd_<op> turns the incoming gradient g into the
 * gradients of the operands. Unary: fwd_op(a), bwd_op(a, out, g) returns d/da;
 * binary: fwd_op(a, b), bwd_op(a, b, out, g, &ga, &gb). The multiplication order follows micrograd's
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
#include <stdint.h>

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
static inline void bwd_add(double a, double b, double out, double g, double *ga, double *gb) {
  (void)a, (void)b, (void)out;
  *ga = g, *gb = g;
}

/* a - b        d/da = 1, d/db = -1 */
static inline double fwd_sub(double a, double b) { return a - b; }
static inline void bwd_sub(double a, double b, double out, double g, double *ga, double *gb) {
  (void)a, (void)b, (void)out;
  *ga = g, *gb = -g;
}

/* a * b        d/da = b, d/db = a */
static inline double fwd_mul(double a, double b) { return a * b; }
static inline void bwd_mul(double a, double b, double out, double g, double *ga, double *gb) {
  (void)out;
  *ga = b * g, *gb = a * g;
}

/* a / b        d/da = 1/b, d/db = -a/b^2 (g a and b^2 may leave the range
 * where the gradient does not: a = b = 1e-200 gives -1e200, not -inf) */
static inline double fwd_div(double a, double b) { return a / b; }
static inline void bwd_div(double a, double b, double out, double g, double *ga, double *gb) {
  (void)out;
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
static inline double bwd_neg(double a, double out, double g) { return (void)a, (void)out, -g; }

/* relu(a)      d/da = 1 if out > 0 else 0 (a NaN stays NaN, as micrograd) */
static inline double fwd_relu(double a) { return a < 0 ? 0.0 : a; }
static inline double bwd_relu(double a, double out, double g) { return (void)a, (out > 0 ? 1.0 : 0.0) * g; }

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
static inline double bwd_log(double a, double out, double g) { return (void)out, g / a; }

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
static inline double bwd_abs(double a, double out, double g) {
  return (void)out, (a > 0 ? 1.0 : a < 0 ? -1.0 : a == 0 ? 0.0 : a) * g;
}

/* sqrt(a)      d/da = 1 / (2 sqrt(a)) */
static inline double fwd_sqrt(double a) { return sqrt(a); }
static inline double bwd_sqrt(double a, double out, double g) { return (void)a, g / (2 * out); }

/* ln(1 + e^a) = max(a, 0) + ln(1 + e^-|a|)     d/da = sigmoid(a) */
static inline double fwd_softplus(double a) { return (a > 0 ? a : 0.0) + log1p(exp(-fabs(a))); }
static inline double bwd_softplus(double a, double out, double g) { return (void)out, g * fwd_sigmoid(a); }

/* detach(a)    a; d/da = 0 (a stop-gradient: x:detach() while mg.compile traces) */
static inline double fwd_detach(double a) { return a; }
static inline double bwd_detach(double a, double out, double g) { return (void)a, (void)out, (void)g, 0.0; }

/* ---- the n-ary ops: one definition each -----------------------------------
 *
 * They loop over their operands, which every caller keeps its own way (the
 * dynamic engine's mg_arg array, the tape's slot indices or slot ranges), so
 * each rule takes the caller's operands as `ops` and a function that reads
 * operand i: inlined, the call costs nothing. The tape's SIMD kernels
 * (tape_replay.c) are the only other copies; tests/test_tape.c checks them
 * against these bit for bit. */

#if defined(__GNUC__) || defined(__clang__)
#define MG_RULE static inline __attribute__((always_inline))
#else
#define MG_RULE static inline
#endif

/* Operand i of the caller's operands ops. */
typedef double (*mg_get_fn)(const void *ops, uint32_t i);

/* Sends gradient d to operand i of the caller's operands (ctx); returns
 * non-zero to stop (detect_anomaly found a sum that is not finite). */
typedef int (*mg_send_fn)(void *ctx, uint32_t i, double d);

/* sum: a1 + a2 + ... left to right (0 for none)      d/dai = 1 */
MG_RULE double mg_sum_forward(const void *ops, mg_get_fn get, uint32_t n) {
  double acc = n > 0 ? get(ops, 0) : 0;
  for (uint32_t i = 1; i < n; i++) acc += get(ops, i);
  return acc;
}
MG_RULE int mg_sum_backward(double g, uint32_t n, mg_send_fn send, void *ctx) {
  for (uint32_t i = 0; i < n; i++)
    if (send(ctx, i, g)) return 1;
  return 0;
}

/* dot: [bias +] w1 x1 + w2 x2 + ... left to right (0 for no terms), operands
 * in the order bias, w1, x1, w2, x2, ...      d/dbias = 1, d/dwj = xj, d/dxj = wj
 * w(ops, j) and x(ops, j) read term j's operands; bias is the bias's value. */
MG_RULE double mg_dot_forward(double bias, int has_bias, uint32_t terms, const void *ops, mg_get_fn w,
                              mg_get_fn x) {
  double acc;
  uint32_t j = 0;
  if (has_bias)
    acc = bias;
  else if (terms > 0)
    acc = w(ops, 0) * x(ops, 0), j = 1;
  else
    return 0;
  for (; j < terms; j++) acc += w(ops, j) * x(ops, j);
  return acc;
}
MG_RULE int mg_dot_backward(double g, int has_bias, uint32_t terms, const void *ops, mg_get_fn w, mg_get_fn x,
                            mg_send_fn send, void *ctx) {
  uint32_t bias = has_bias ? 1 : 0;
  if (has_bias && send(ctx, 0, g)) return 1;
  for (uint32_t j = 0; j < terms; j++) {
    if (send(ctx, bias + 2 * j, x(ops, j) * g)) return 1;
    if (send(ctx, bias + 2 * j + 1, w(ops, j) * g)) return 1;
  }
  return 0;
}

/* logsumexp: ln(e^a1 + e^a2 + ...) = m + ln s, s = e^(a1-m) + e^(a2-m) + ...,
 * m the largest ai (so no e^ overflows)    d/dai = e^(ai-m) / s (the softmax)
 * A NaN operand gives NaN, an infinite m is the value. The backward finds m
 * and s again rather than using e^(ai - out): out has lost the low bits of
 * ln s to m's magnitude (logsumexp{1000, 1000} would give 0.50000000000003,
 * not 0.5). */
static inline double lse_max(double m, double a) { return a > m || a != a ? a : m; }
static inline double lse_term(double a, double m) { return exp(a - m); }
MG_RULE void mg_lse_parts(const void *ops, mg_get_fn get, uint32_t n, double *m, double *s) {
  double mm = -INFINITY, ss = 0;
  for (uint32_t i = 0; i < n; i++) mm = lse_max(mm, get(ops, i));
  if (n > 0) ss = lse_term(get(ops, 0), mm);
  for (uint32_t i = 1; i < n; i++) ss += lse_term(get(ops, i), mm);
  *m = mm, *s = ss;
}
MG_RULE double mg_lse_forward(const void *ops, mg_get_fn get, uint32_t n) {
  double m, s;
  mg_lse_parts(ops, get, n, &m, &s);
  return isfinite(m) ? m + log(s) : m;
}
MG_RULE int mg_lse_backward(double g, const void *ops, mg_get_fn get, uint32_t n, mg_send_fn send,
                            void *ctx) {
  double m, s;
  mg_lse_parts(ops, get, n, &m, &s);
  for (uint32_t i = 0; i < n; i++)
    if (send(ctx, i, lse_term(get(ops, i), m) / s * g)) return 1;
  return 0;
}

/* ---- the op table -----------------------------------------------------------
 *
 * One row per op, in code order: X(CODE, rule, name, kind, lua, lo, hi)
 *   CODE  the op is MG_OP_CODE (mg_op, engine.h)
 *   rule  its rules above: fwd_rule and bwd_rule (UNARY and BINARY); the
 *         n-ary kinds have theirs by kind (mg_sum_*, mg_dot_*, mg_lse_*)
 *   name  v.op and the name in messages
 *   kind  LEAF, UNARY, BINARY, SUM, DOT or LSE: the shape of its operands
 *         (the tape schedules UNARY ops as maps over slot ranges)
 *   lua   how a script makes one: a Value method ("tanh"), a metamethod
 *         ("__add"), a function of the module ("sum"), or NULL (made another
 *         way: detach by v:detach() while mg.compile traces)
 *   lo, hi  where the specs draw its operands to test its gradients (away
 *         from 0 by 0.1 at least, where relu and abs have their kink); none
 *         (0, 0) for detach, whose gradient is 0 by definition
 * A new unary op is a rule pair above and a row here; everything else,
 * including its Value method and its tests, follows. */
/* clang-format off */
#define MG_OP_TABLE(X)                                                  \
  /* CODE     rule       name         kind    lua          lo   hi */   \
  X(LEAF,      leaf,      "",          LEAF,   NULL,        0,   0)     \
  X(ADD,       add,       "+",         BINARY, "__add",     -3,  3)     \
  X(SUB,       sub,       "-",         BINARY, "__sub",     -3,  3)     \
  X(MUL,       mul,       "*",         BINARY, "__mul",     -3,  3)     \
  X(DIV,       div,       "/",         BINARY, "__div",     -3,  3)     \
  X(POW,       pow,       "^",         BINARY, "__pow",     0.5, 3)     \
  X(NEG,       neg,       "neg",       UNARY,  "__unm",     -3,  3)     \
  X(RELU,      relu,      "relu",      UNARY,  "relu",      -3,  3)     \
  X(TANH,      tanh,      "tanh",      UNARY,  "tanh",      -3,  3)     \
  X(EXP,       exp,       "exp",       UNARY,  "exp",       -3,  3)     \
  X(LOG,       log,       "log",       UNARY,  "log",       0.1, 5)     \
  X(SIGMOID,   sigmoid,   "sigmoid",   UNARY,  "sigmoid",   -5,  5)     \
  X(ABS,       abs,       "abs",       UNARY,  "abs",       -3,  3)     \
  X(SQRT,      sqrt,      "sqrt",      UNARY,  "sqrt",      0.1, 5)     \
  X(SOFTPLUS,  softplus,  "softplus",  UNARY,  "softplus",  -5,  5)     \
  X(DETACH,    detach,    "detach",    UNARY,  NULL,        0,   0)     \
  X(SUM,       sum,       "sum",       SUM,    "sum",       -3,  3)     \
  X(DOT,       dot,       "dot",       DOT,    "dot",       -3,  3)     \
  X(LOGSUMEXP, logsumexp, "logsumexp", LSE,    "logsumexp", -3,  3)
/* clang-format on */

/* ---- what derives from it ---------------------------------------------------- */

/* Op codes (MG_OP_LEAF is 0). A node's op fits in 8 bits. */
typedef enum mg_op {
#define MG_OP_ENUM(CODE, rule, name, kind, lua, lo, hi) MG_OP_##CODE,
  MG_OP_TABLE(MG_OP_ENUM)
#undef MG_OP_ENUM
      MG_OP_COUNT
} mg_op;

/* The shape of an op's operands (the table's kind column). */
typedef enum mg_op_kind {
  MG_KIND_LEAF,   /* no operands */
  MG_KIND_UNARY,  /* op(a) */
  MG_KIND_BINARY, /* op(a, b) */
  MG_KIND_SUM,    /* a1 + a2 + ... */
  MG_KIND_DOT,    /* [bias +] w1 x1 + w2 x2 + ... */
  MG_KIND_LSE     /* ln(e^a1 + e^a2 + ...) */
} mg_op_kind;

static inline mg_op_kind mg_op_kind_of(mg_op op) {
  switch (op) {
#define MG_OP_KIND(CODE, rule, name, kind, lua, lo, hi)                                                      \
  case MG_OP_##CODE: return MG_KIND_##kind;
    MG_OP_TABLE(MG_OP_KIND)
#undef MG_OP_KIND
  case MG_OP_COUNT: break;
  }
  return MG_KIND_LEAF;
}

/* Whether op is a scalar op (UNARY or BINARY): one computed by mg_op_forward. */
static inline int mg_op_is_scalar(unsigned op) {
  return op < MG_OP_COUNT &&
         (mg_op_kind_of((mg_op)op) == MG_KIND_UNARY || mg_op_kind_of((mg_op)op) == MG_KIND_BINARY);
}

/* The per-kind cases of the dispatch below (the n-ary ops and leaves have
 * theirs by kind in engine.c and tape_replay.c). */
/* clang-format off */
#define MG_FWD_LEAF(CODE, rule)   case MG_OP_##CODE: break;
#define MG_FWD_UNARY(CODE, rule)  case MG_OP_##CODE: return fwd_##rule(a);
#define MG_FWD_BINARY(CODE, rule) case MG_OP_##CODE: return fwd_##rule(a, b);
#define MG_FWD_SUM(CODE, rule)    case MG_OP_##CODE: break;
#define MG_FWD_DOT(CODE, rule)    case MG_OP_##CODE: break;
#define MG_FWD_LSE(CODE, rule)    case MG_OP_##CODE: break;
#define MG_BWD_LEAF(CODE, rule)   case MG_OP_##CODE: return;
#define MG_BWD_UNARY(CODE, rule)  case MG_OP_##CODE: *ga = bwd_##rule(a, out, g); return;
#define MG_BWD_BINARY(CODE, rule) case MG_OP_##CODE: bwd_##rule(a, b, out, g, ga, gb); return;
#define MG_BWD_SUM(CODE, rule)    case MG_OP_##CODE: return;
#define MG_BWD_DOT(CODE, rule)    case MG_OP_##CODE: return;
#define MG_BWD_LSE(CODE, rule)    case MG_OP_##CODE: return;
/* clang-format on */

/* op(a, b) for the scalar ops (b ignored by unary ones); a for the others. */
static inline double mg_op_forward(mg_op op, double a, double b) {
  switch (op) {
#define MG_OP_FWD(CODE, rule, name, kind, lua, lo, hi) MG_FWD_##kind(CODE, rule)
    MG_OP_TABLE(MG_OP_FWD)
#undef MG_OP_FWD
  case MG_OP_COUNT: break;
  }
  return a;
}

/* The gradients *ga, *gb of the operands of a scalar op with operands a, b,
 * value out and incoming gradient g (*gb is 0 for unary ops). */
static inline void mg_op_backward(mg_op op, double a, double b, double out, double g, double *ga,
                                  double *gb) {
  *ga = 0, *gb = 0;
  switch (op) {
#define MG_OP_BWD(CODE, rule, name, kind, lua, lo, hi) MG_BWD_##kind(CODE, rule)
    MG_OP_TABLE(MG_OP_BWD)
#undef MG_OP_BWD
  case MG_OP_COUNT: break;
  }
}

#endif
