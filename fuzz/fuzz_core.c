/*
 * fuzz_core.c - libFuzzer target over the engine core (engine.h, ops.h,
 * tape.h), no Lua.
 *
 * The bytes become a random graph, built as the Lua binding builds one for
 * mg.compile: phase 1 makes untraced leaves and ops (parameters, values made
 * before tracing); phase 2 makes input placeholders, traced constant leaves
 * and traced ops over anything made so far. Every op of ops.h appears (sum
 * and dot with any operand count), operands are nodes or constants, and the
 * constants include 0, -0, huge, tiny, subnormal, infinite and NaN values.
 * An "exact" program uses small integers and the ops that are exact on them.
 *
 * Checks (a failure traps, which libFuzzer reports as a crash):
 * 1. forward: each node's value against the op computed in long double from
 *    the same operand values (a few ulps; sum and dot relative to their terms);
 * 2. backward: mg_backward against a plain reverse sweep over the fuzzer's own
 *    arrays in creation order, with textbook derivatives in long double. Where
 *    every value involved is moderate, the gradient must be within a rounding
 *    bound (exactly equal in an exact program); a node not below the root must
 *    keep grad +0; two backward passes must give exactly twice; users and
 *    pass must be back to 0; mg_backward_checked must give the same grads, or
 *    MG_EANOMALY exactly when a gradient is not finite, changing none;
 * 3. tape: mg_tape_compile of the same graph, new input and parameter values,
 *    then tape forward/backward, and two rows the way run_batch replays them,
 *    must give the dynamic engine's bits;
 * 4. allocation failure: an allocator that fails after N allocations (N from
 *    the bytes) must give MG_ENOMEM with every node left as found; every
 *    block must be freed with the size it was allocated with, and none leaked.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ops.h"
#include "tape.h"

#define CHECK(cond)                                                                                          \
  do {                                                                                                       \
    if (!(cond)) fail(#cond, __LINE__);                                                                      \
  } while (0)

/* What the last value check was looking at (node, op, operands, value or
 * gradient and the reference), for the report. */
static struct {
  int node, op;
  double a, b, got;
  long double want;
} seen;

static void fail(const char *what, int line) {
  fprintf(stderr, "fuzz_core: check failed at line %d: %s\n", line, what);
  fprintf(stderr, "  node %d op %d (%s) a=%a b=%a got=%a want=%La\n", seen.node, seen.op,
          mg_op_name((mg_op)seen.op), seen.a, seen.b, seen.got, seen.want);
  __builtin_trap();
}

/* Same bits, except that NaN equals NaN and +0 equals -0. */
static int same(double a, double b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  if (a == 0 && b == 0) return 1;
  return memcmp(&a, &b, sizeof a) == 0;
}

/* ---- the bytes ----------------------------------------------------------- */

typedef struct reader {
  const uint8_t *p;
  size_t n;
} reader;

static unsigned u8(reader *r) {
  if (r->n == 0) return 0;
  r->n--;
  return *r->p++;
}

static const double specials[] = {
    0.0,      -0.0,      1.0,     -1.0,   2.0,     -2.0,  0.5,    3.0,     -0.25,
    10.0,     1e-300,    -1e-300, 5e-324, DBL_MIN, 1e300, -1e300, DBL_MAX, -DBL_MAX,
    INFINITY, -INFINITY, NAN,     700.0,  -700.0,  40.0,  -40.0,  1e15,    1.0 + DBL_EPSILON,
    1e-8,     0.1,       -3.5,    1e155,  1e-155};
#define NSPECIALS (sizeof specials / sizeof specials[0])

/* A constant: a special value, a small multiple of 1/8, or 8 raw bytes. */
static double constant(reader *r, int exact) {
  unsigned sel = u8(r);
  if (exact) return (double)((int)(sel % 9) - 4);
  if (sel < 128) return specials[sel % NSPECIALS];
  if (sel < 224) return (double)(int8_t)u8(r) / 8.0;
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)u8(r);
  double x;
  memcpy(&x, b, sizeof x);
  return isnan(x) ? copysign(NAN, x) : x; /* quiet: pow(signaling NaN, 0) is NaN, not 1 */
}

/* ---- an allocator that counts, checks sizes and fails on request ------- */

typedef struct counting {
  long countdown; /* growth requests left before failing; < 0: never fail */
  size_t live, blocks;
} counting;

#define HEADER 16 /* keeps the block's size; keeps 16-byte alignment */

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  counting *c = ud;
  char *block = ptr ? (char *)ptr - HEADER : NULL;
  if (block) {
    size_t had;
    memcpy(&had, block, sizeof had);
    CHECK(had == osize); /* the engine must pass the size it asked for */
  }
  if (nsize == 0) {
    if (block) c->live -= osize, c->blocks--, free(block);
    return NULL;
  }
  if (c->countdown == 0) return NULL;
  if (c->countdown > 0) c->countdown--;
  char *grown = realloc(block, nsize + HEADER);
  if (!grown) return NULL;
  memcpy(grown, &nsize, sizeof nsize);
  c->live += nsize - (block ? osize : 0), c->blocks += !block;
  return grown + HEADER;
}

/* ---- the program ------------------------------------------------------- */

enum { MAX_NODES = 512, MAX_ARGS = 8192, MAX_PHASE1 = 16, MAX_INPUTS = 6, MAX_OUT = 3 };

typedef struct prog {
  int exact;           /* small integers and exact ops only */
  int n, nphase1, nin; /* nodes; nodes [0, nphase1) are untraced; inputs */
  mg_node *node[MAX_NODES];
  uint8_t op[MAX_NODES], bias[MAX_NODES], traced[MAX_NODES];
  int first[MAX_NODES], nargs[MAX_NODES]; /* operands: arg[first .. first + nargs) */
  int arg[MAX_ARGS];                      /* a node index, or -1 for the constant k */
  double k[MAX_ARGS];
  int nargs_total;
  int input[MAX_INPUTS]; /* node indices of the inputs */
} prog;

static prog P;

static double operand(const prog *p, int i, int j) {
  int a = p->arg[p->first[i] + j];
  return a >= 0 ? p->node[a]->data : p->k[p->first[i] + j];
}

/* Operand count of op by its kind (ops.h); -1 for the n-ary kinds. */
static int arity(int op) {
  switch (mg_op_kind_of((mg_op)op)) {
  case MG_KIND_LEAF: return 0;
  case MG_KIND_UNARY: return 1;
  case MG_KIND_BINARY: return 2;
  case MG_KIND_SUM:
  case MG_KIND_DOT:
  case MG_KIND_LSE: break;
  }
  return -1;
}

static const uint8_t exact_ops[] = {MG_OP_ADD,  MG_OP_SUB, MG_OP_MUL, MG_OP_NEG,
                                    MG_OP_RELU, MG_OP_ABS, MG_OP_SUM, MG_OP_DOT};

/* Adds a node: op with nargs operand slots; returns its index, or -1 when full. */
static int new_node(prog *p, int op, int nargs, int bias, int traced) {
  if (p->n == MAX_NODES || p->nargs_total + nargs > MAX_ARGS) return -1;
  int i = p->n++;
  mg_node *n = malloc(mg_node_size((uint32_t)nargs));
  CHECK(n != NULL);
  if (op == MG_OP_LEAF)
    mg_leaf_init(n, 0);
  else
    mg_op_init(n, (mg_op)op, (uint32_t)nargs, bias ? MG_DOT_BIAS : 0);
  if (traced) n->flags |= MG_TRACED;
  p->node[i] = n, p->op[i] = (uint8_t)op, p->bias[i] = (uint8_t)bias, p->traced[i] = (uint8_t)traced;
  p->first[i] = p->nargs_total, p->nargs[i] = nargs;
  p->nargs_total += nargs;
  return i;
}

static void set_operand(prog *p, int i, int j, int a, double k) {
  p->arg[p->first[i] + j] = a, p->k[p->first[i] + j] = a >= 0 ? 0 : k;
  if (a >= 0)
    mg_set_arg(p->node[i], (uint32_t)j, p->node[a]);
  else
    mg_set_const(p->node[i], (uint32_t)j, k);
}

/* An operand for a node made from nodes [0, hi): a node index (recent ones
 * more often) or a constant. */
static void pick_operand(prog *p, reader *r, int i, int j, int hi) {
  unsigned s = u8(r);
  if (hi == 0 || (s & 0xe0) == 0xe0) {
    set_operand(p, i, j, -1, constant(r, p->exact));
    return;
  }
  int back = s < 128 ? (int)(s % (hi < 8 ? hi : 8)) : (int)(s % (unsigned)hi);
  set_operand(p, i, j, hi - 1 - back, 0);
}

/* A chain (op selector 0xff): copies of the last op, each one's first operand the previous copy. */
static void add_chain(prog *p, reader *r) {
  int last = p->n - 1, count = 1 + (int)(u8(r) % 64);
  if (last < p->nphase1 || p->op[last] == MG_OP_LEAF || p->nargs[last] == 0) return;
  for (int c = 0; c < count; c++) {
    int i = new_node(p, p->op[last], p->nargs[last], p->bias[last], 1);
    if (i < 0) return;
    for (int j = 0; j < p->nargs[i]; j++) {
      int a = p->arg[p->first[last] + j];
      set_operand(p, i, j, j == 0 ? i - 1 : a, p->k[p->first[last] + j]);
    }
    mg_forward(p->node[i]);
  }
}

/* One op over nodes [0, hi), or a leaf; returns the node index or -1. */
static int add_op(prog *p, reader *r, int traced, int hi) {
  unsigned sel = u8(r);
  if (traced && sel == 0xff) { /* a chain, not one op */
    add_chain(p, r);
    return -1;
  }
  int op = p->exact ? exact_ops[sel % sizeof exact_ops] : (int)(sel % MG_OP_COUNT);
  if (op == MG_OP_LEAF || (!traced && sel >= 128)) { /* a parameter, or a traced constant leaf */
    int i = new_node(p, MG_OP_LEAF, 0, 0, traced);
    if (i >= 0) p->node[i]->data = constant(r, p->exact);
    return i;
  }
  int nargs = arity(op), bias = 0;
  if (op == MG_OP_SUM || op == MG_OP_LOGSUMEXP) nargs = (int)(u8(r) % 17);
  if (op == MG_OP_DOT) {
    unsigned d = u8(r);
    bias = d & 1, nargs = bias + 2 * (int)((d >> 1) % 9);
  }
  int i = new_node(p, op, nargs, bias, traced);
  if (i < 0) return -1;
  for (int j = 0; j < nargs; j++) pick_operand(p, r, i, j, hi);
  mg_forward(p->node[i]);
  return i;
}

static void build(prog *p, reader *r) {
  unsigned h = u8(r);
  p->exact = (h & 3) == 0;
  p->n = p->nin = p->nargs_total = 0;
  int n1 = (int)(u8(r) % MAX_PHASE1);
  for (int c = 0; c < n1; c++) add_op(p, r, 0, p->n);
  p->nphase1 = p->n;
  p->nin = (int)(u8(r) % (MAX_INPUTS + 1));
  for (int c = 0; c < p->nin; c++) {
    int i = new_node(p, MG_OP_LEAF, 0, 0, 1);
    p->node[i]->flags |= MG_INPUT | MG_DEPENDS;
    p->node[i]->data = constant(r, p->exact);
    p->input[c] = i;
  }
  while (r->n > 0 && p->n < MAX_NODES) add_op(p, r, 1, p->n);
}

static void free_prog(prog *p) {
  for (int i = 0; i < p->n; i++) free(p->node[i]);
  p->n = 0;
}

/* ---- 1. forward ---------------------------------------------------------- */

/* got against want (computed in long double), within rel * mag; non-finite
 * results must agree, except at the edge of overflow. */
static int near(double got, long double want, long double mag, long double rel) {
  double w = (double)want;
  if (isnan(got) || isnan(w)) return isnan(got) && isnan(w);
  if (isinf(got) || isinf(w)) return got == w || fabsl(want) > 1e300L;
  return fabsl((long double)got - want) <= rel * mag + 1e-300L;
}

static long double sigmoidl(long double a) { return 1 / (1 + expl(-a)); }

/* The largest operand m of logsumexp node i and s = sum e^(aj - m), in long
 * double; m is NaN when an operand is, -inf with no operands. */
static void lse_ref(const prog *p, int i, long double *m, long double *s) {
  long double mm = -INFINITY, ss = 0;
  for (int j = 0; j < p->nargs[i]; j++) {
    long double a = operand(p, i, j);
    if (isnan(a) || isnan(mm))
      mm = NAN;
    else if (a > mm)
      mm = a;
  }
  for (int j = 0; j < p->nargs[i]; j++) ss += expl(operand(p, i, j) - mm);
  *m = mm, *s = ss;
}

static void check_forward(const prog *p) {
  const long double ulp = DBL_EPSILON;
  for (int i = 0; i < p->n; i++) {
    int op = p->op[i], k = p->nargs[i];
    double got = p->node[i]->data;
    if (op == MG_OP_LEAF) continue;
    if (op == MG_OP_SUM || op == MG_OP_DOT) {
      long double s = 0, mag = 0;
      int j = 0;
      if (op == MG_OP_DOT && p->bias[i]) s = operand(p, i, 0), mag = fabsl(s), j = 1;
      for (; j < k; j += op == MG_OP_DOT ? 2 : 1) {
        long double t =
            op == MG_OP_SUM ? operand(p, i, j) : (long double)operand(p, i, j) * operand(p, i, j + 1);
        s += t, mag += fabsl(t);
      }
      if (p->exact && mag <= 0x1p50L) CHECK(same(got, (double)s));
      /* (past 1e300 a double partial sum may overflow where long double does not) */
      if (mag <= 1e300L) CHECK(near(got, s, mag, (k + 2) * ulp));
      continue;
    }
    if (op == MG_OP_LOGSUMEXP) { /* m + ln s: s >= 1 is off by about k ulps, ln s by as many */
      long double m, s;
      lse_ref(p, i, &m, &s);
      long double want = isfinite(m) ? m + logl(s) : m;
      seen.node = i, seen.op = op, seen.a = (double)m, seen.b = (double)s, seen.got = got, seen.want = want;
      CHECK(near(got, want, fabsl(want) + 2 * (k + 2), 2 * ulp));
      continue;
    }
    long double a = operand(p, i, 0), b = k > 1 ? operand(p, i, 1) : 0, want = 0;
    /* Every op, no default: an op the reference does not know does not compile (-Wswitch). */
    switch ((mg_op)op) {
    case MG_OP_LEAF:
    case MG_OP_SUM:
    case MG_OP_DOT:
    case MG_OP_LOGSUMEXP:
    case MG_OP_COUNT: continue; /* above */
    case MG_OP_ADD: want = a + b; break;
    case MG_OP_SUB: want = a - b; break;
    case MG_OP_MUL: want = a * b; break;
    case MG_OP_DIV: want = a / b; break;
    case MG_OP_POW: want = powl(a, b); break;
    case MG_OP_NEG: want = -a; break;
    case MG_OP_RELU: want = isnan(a) ? a : a > 0 ? a : 0; break;
    case MG_OP_TANH: want = tanhl(a); break;
    case MG_OP_EXP: want = expl(a); break;
    case MG_OP_LOG: want = logl(a); break;
    case MG_OP_SIGMOID: want = sigmoidl(a); break;
    case MG_OP_ABS: want = fabsl(a); break;
    case MG_OP_SQRT: want = sqrtl(a); break;
    case MG_OP_DETACH: want = a; break;
    case MG_OP_SOFTPLUS: want = a > 0 ? a + log1pl(expl(-a)) : log1pl(expl(a)); break;
    }
    seen.node = i, seen.op = op, seen.a = (double)a, seen.b = (double)b, seen.got = got, seen.want = want;
    if (p->exact && fabsl(want) <= 0x1p50L) CHECK(same(got, (double)want));
    CHECK(near(got, want, fabsl(want), 4 * ulp));
    CHECK(same(got, mg_apply((mg_op)op, (double)a, (double)b)));
  }
}

/* ---- 2. backward --------------------------------------------------------- */

static long double ref[MAX_NODES], mag[MAX_NODES];
static uint8_t reach[MAX_NODES], wild[MAX_NODES];

/* Values where the rounding bound holds: moderate (no overflow or underflow in
 * double) or, in an exact program, integers that double holds exactly. */
static int tame(const prog *p, long double x) {
  if (p->exact) return fabsl(x) <= 0x1p50L && x == floorl(x);
  return x == 0 || (fabsl(x) >= 1e-100L && fabsl(x) <= 1e100L); /* products of three stay in range */
}

/* d node i / d operand j, textbook, in long double; *m bounds the magnitudes in
 * the double formula (for the rounding bound). Returns 0 when a value involved
 * is not tame. */
static int partial(const prog *p, int i, int j, long double *d, long double *m) {
  int op = p->op[i];
  long double a = p->nargs[i] > 0 ? operand(p, i, 0) : 0, b = p->nargs[i] > 1 ? operand(p, i, 1) : 0;
  long double out = p->node[i]->data, x = 0, extra = 1;
  int ok = 1;
  switch ((mg_op)op) { /* every op, no default (see check_forward) */
  case MG_OP_LEAF:
  case MG_OP_COUNT: ok = 0; break; /* no operands */
  case MG_OP_ADD: x = 1; break;
  case MG_OP_SUB: x = j == 0 ? 1 : -1; break;
  case MG_OP_MUL: x = j == 0 ? b : a; break;
  /* (the engine keeps its intermediates in range: no condition on b * b) */
  case MG_OP_DIV: x = j == 0 ? 1 / b : -(a / b) / b, ok = tame(p, b) && tame(p, a); break;
  case MG_OP_POW:
    ok = tame(p, a) && tame(p, b) && tame(p, out);
    if (j == 0) {
      /* the engine rounds b - 1 before pow: a relative error up to |ln a (b - 1)| ulps */
      x = b == 0 ? 0 : b * powl(a, b - 1);
      if (x != 0) extra = 4 + fabsl(logl(fabsl(a)) * (b - 1)), ok = ok && tame(p, powl(a, b - 1));
    } else {
      x = (a == 0 && b >= 0) ? 0 : out * logl(a);
    }
    break;
  case MG_OP_NEG: x = -1; break;
  case MG_OP_RELU: x = out > 0 ? 1 : 0, ok = !isnan(out); break;
  /* tanh and sigmoid: textbook, from a (the engine's 1 - out^2 and s (1 - s) lose
   * their bits, or all of them, where they cancel; it then computes from a) */
  case MG_OP_TANH: x = 1 - tanhl(a) * tanhl(a), *m = 1 + out * out, ok = tame(p, out) && tame(p, a); break;
  case MG_OP_EXP: x = out, ok = tame(p, out); break;
  case MG_OP_LOG: x = 1 / a, ok = tame(p, a); break;
  case MG_OP_SIGMOID:
    x = sigmoidl(a) * (1 - sigmoidl(a)), *m = fabsl(out) * (1 + fabsl(out)), ok = tame(p, out) && tame(p, a);
    break;
  case MG_OP_ABS: x = a > 0 ? 1 : a < 0 ? -1 : 0, ok = !isnan(a); break;
  case MG_OP_SQRT: x = 1 / (2 * out), ok = tame(p, out); break;
  case MG_OP_SOFTPLUS: x = sigmoidl(a), ok = tame(p, a); break;
  case MG_OP_DETACH: x = 0; break;
  case MG_OP_SUM: x = 1; break;
  case MG_OP_LOGSUMEXP: { /* e^(aj - m) / s: e^ of a difference off by |aj - m| ulps, and s by k */
    long double lm, ls, aj = operand(p, i, j);
    lse_ref(p, i, &lm, &ls);
    x = expl(aj - lm) / ls, extra = 4 + 2 * p->nargs[i] + fabsl(aj - lm), ok = isfinite(lm) && tame(p, lm);
    break;
  }
  case MG_OP_DOT: /* the bias, then w1 x1 w2 x2 ...: d/dw = x, d/dx = w */
    if (p->bias[i] && j == 0)
      x = 1;
    else
      x = operand(p, i, ((j - p->bias[i]) % 2 == 0) ? j + 1 : j - 1);
  }
  if (op != MG_OP_TANH && op != MG_OP_SIGMOID) *m = fabsl(x);
  *m *= extra, *d = x;
  return ok && tame(p, x) && tame(p, *m) && isfinite(x);
}

/* The reverse sweep from root over the program's own arrays. */
static void reference(const prog *p, int root) {
  memset(ref, 0, sizeof ref), memset(mag, 0, sizeof mag);
  memset(reach, 0, sizeof reach), memset(wild, 0, sizeof wild);
  ref[root] = 1, mag[root] = 1, reach[root] = 1;
  for (int i = root; i >= 0; i--) {
    if (!reach[i]) continue;
    if (!tame(p, mag[i])) wild[i] = 1;
    for (int j = 0; j < p->nargs[i]; j++) {
      int c = p->arg[p->first[i] + j];
      if (c < 0) continue;
      long double d, m;
      int ok = partial(p, i, j, &d, &m);
      reach[c] = 1;
      wild[c] |= wild[i] || !ok;
      ref[c] += d * ref[i], mag[c] += m * mag[i];
    }
  }
}

static void zero_grads(prog *p) {
  for (int i = 0; i < p->n; i++) p->node[i]->grad = 0;
}

/* Nodes as a failed or finished call must leave them. */
static void check_rest(const prog *p) {
  for (int i = 0; i < p->n; i++) CHECK(p->node[i]->users == 0 && p->node[i]->pass == 0);
}

static void check_backward(prog *p, int root, reader *r) {
  static double first[MAX_NODES];
  counting c = {-1, 0, 0};
  mg_allocator alloc = {counting_alloc, &c};
  zero_grads(p);
  c.countdown = (long)(u8(r) % 4) - 1; /* -1: no failure */
  int rc = mg_backward(p->node[root], &alloc);
  CHECK(c.live == 0 && c.blocks == 0);
  if (rc != MG_OK) {
    CHECK(rc == MG_ENOMEM && c.countdown == 0);
    check_rest(p);
    for (int i = 0; i < p->n; i++) CHECK(same(p->node[i]->grad, 0) && !signbit(p->node[i]->grad));
  }
  c.countdown = -1;
  if (rc != MG_OK) {
    rc = mg_backward(p->node[root], &alloc);
    CHECK(rc == MG_OK && c.live == 0 && c.blocks == 0);
  }
  check_rest(p);

  reference(p, root);
  long double tol = (4.0L * (p->n + p->nargs_total) + 16) * DBL_EPSILON;
  for (int i = 0; i < p->n; i++) {
    double g = p->node[i]->grad;
    first[i] = g;
    seen.node = i, seen.op = p->op[i], seen.a = seen.b = 0, seen.got = g, seen.want = ref[i];
    if (!reach[i]) {
      CHECK(g == 0 && !signbit(g)); /* not below the root: never touched */
    } else if (!wild[i]) {
      if (p->exact)
        CHECK((long double)g == ref[i]);
      else
        CHECK(fabsl((long double)g - ref[i]) <= tol * mag[i]);
    }
  }

  /* mg_backward_checked: the same grads when every gradient is finite; else
   * MG_EANOMALY naming an operand whose gradient is not, and no grad changed */
  zero_grads(p);
  mg_anomaly bad = {NULL, 0, 0, 0};
  int finite = 1;
  for (int i = 0; i < p->n; i++) finite &= isfinite(first[i]) != 0;
  c.countdown = (long)(u8(r) % 4) - 1;
  rc = mg_backward_checked(p->node[root], &alloc, &bad);
  c.countdown = -1;
  check_rest(p);
  CHECK(c.live == 0 && c.blocks == 0);
  if (rc == MG_OK) {
    CHECK(finite);
    for (int i = 0; i < p->n; i++) CHECK(same(p->node[i]->grad, first[i]));
  } else {
    CHECK(rc == MG_ENOMEM || (rc == MG_EANOMALY && !finite));
    for (int i = 0; i < p->n; i++) CHECK(p->node[i]->grad == 0 && !signbit(p->node[i]->grad));
    if (rc == MG_EANOMALY) {
      int b = -1;
      for (int i = 0; i < p->n; i++)
        if (p->node[i] == bad.node) b = i;
      CHECK(b >= 0 && bad.slot < (uint32_t)p->nargs[b] && !isfinite(bad.sum));
      int a = p->arg[p->first[b] + (int)bad.slot];
      CHECK(a >= 0 && !isfinite(first[a]));
    }
  }

  /* two backward passes add the same gradients twice: exactly twice */
  zero_grads(p);
  CHECK(mg_backward(p->node[root], &alloc) == MG_OK);
  CHECK(mg_backward(p->node[root], &alloc) == MG_OK);
  check_rest(p);
  for (int i = 0; i < p->n; i++) CHECK(same(p->node[i]->grad, first[i] + first[i]));
  CHECK(c.live == 0 && c.blocks == 0);
}

/* ---- 3. tape ------------------------------------------------------------- */

/* Snapshot of what compiling must leave unchanged. */
static double saved_data[MAX_NODES];
static uint8_t saved_flags[MAX_NODES];

static void check_as_found(const prog *p) {
  check_rest(p);
  for (int i = 0; i < p->n; i++) {
    const mg_node *n = p->node[i];
    CHECK(same(n->data, saved_data[i]) && n->flags == saved_flags[i]);
    CHECK(n->grad == 0 && !signbit(n->grad));
  }
}

static int index_of(const prog *p, const mg_node *n) {
  for (int i = 0; i < p->nphase1; i++)
    if (p->node[i] == n) return i;
  return -1;
}

/* New values for the inputs and parameters (some), then the dynamic forward. */
static void new_values(prog *p, reader *values) {
  for (int i = 0; i < p->n; i++) {
    int param = i < p->nphase1 && p->op[i] == MG_OP_LEAF, input = p->node[i]->flags & MG_INPUT;
    if ((param || input) && (u8(values) & 1)) p->node[i]->data = constant(values, p->exact);
    if (p->op[i] != MG_OP_LEAF) mg_forward(p->node[i]);
  }
}

static void set_row(prog *p, const double *row) {
  for (int i = 0; i < p->nin; i++) p->node[p->input[i]]->data = row[i];
  for (int i = 0; i < p->n; i++)
    if (p->op[i] != MG_OP_LEAF) mg_forward(p->node[i]);
}

/* The tape's gradients against the dynamic ones in dyn: the inputs' (from
 * the last sweep, when inputs is set) and the captured leaves'. The tape
 * stops at captured nodes, so one with an untraced user below the output gets
 * more in the dynamic engine (through that user): it is skipped. */
static void compare_grads(const prog *p, const mg_tape *t, const double *dyn, const uint8_t *skip,
                          int inputs) {
  for (int i = 0; inputs && i < p->nin; i++) CHECK(same(t->grad[i], dyn[p->input[i]]));
  for (uint32_t k = 0; k < t->nlive; k++) {
    int i = index_of(p, t->live[k]);
    CHECK(i >= 0);
    if (!skip[i]) CHECK(same(t->live[k]->grad, dyn[i]));
  }
}

static void check_tape(prog *p, int root, reader *r, reader *values) {
  static double dyn[MAX_NODES];
  static uint8_t below[MAX_NODES], skip[MAX_NODES];
  mg_node *inputs[MAX_INPUTS], *outputs[MAX_OUT];
  double row_a[MAX_INPUTS], row_b[MAX_INPUTS];
  int out_idx[MAX_OUT], nout = 1 + (int)(u8(r) % MAX_OUT);
  out_idx[0] = root;
  for (int o = 1; o < nout; o++) out_idx[o] = (int)(u8(r) % (unsigned)p->n);
  for (int o = 0; o < nout; o++) outputs[o] = p->node[out_idx[o]];
  for (int i = 0; i < p->nin; i++) inputs[i] = p->node[p->input[i]];

  zero_grads(p);
  for (int i = 0; i < p->n; i++) saved_data[i] = p->node[i]->data, saved_flags[i] = p->node[i]->flags;
  counting c = {-1, 0, 0};
  mg_allocator alloc = {counting_alloc, &c};
  int status = -1;
  c.countdown = (long)(u8(r) % 10) - 1;
  mg_tape *t = mg_tape_compile(&alloc, inputs, (uint32_t)p->nin, outputs, (uint32_t)nout, &status);
  if (!t) {
    CHECK(status == MG_ENOMEM && c.countdown == 0);
    CHECK(c.live == 0 && c.blocks == 0);
    check_as_found(p);
    c.countdown = -1;
    t = mg_tape_compile(&alloc, inputs, (uint32_t)p->nin, outputs, (uint32_t)nout, &status);
  }
  c.countdown = -1;
  CHECK(t != NULL && status == MG_OK);
  CHECK(t->nin == (uint32_t)p->nin && t->nout == (uint32_t)nout);
  check_as_found(p);

  memset(below, 0, sizeof below), memset(skip, 0, sizeof skip);
  below[root] = 1;
  for (int i = root; i >= 0; i--) {
    if (!below[i]) continue;
    for (int j = 0; j < p->nargs[i]; j++) {
      int a = p->arg[p->first[i] + j];
      if (a >= 0) below[a] = 1, skip[a] |= !p->traced[i];
    }
  }

  /* row a: forward (twice: replaying changes nothing) and backward */
  new_values(p, values);
  for (int i = 0; i < p->nin; i++) row_a[i] = t->val[i] = inputs[i]->data;
  for (int rep = 0; rep < 2; rep++) {
    mg_tape_forward(t);
    for (int o = 0; o < nout; o++) CHECK(same(t->val[t->out_slots[o]], outputs[o]->data));
  }
  zero_grads(p);
  CHECK(mg_backward(outputs[0], &alloc) == MG_OK);
  for (int i = 0; i < p->n; i++) dyn[i] = p->node[i]->grad;
  zero_grads(p);
  mg_tape_backward(t, 1.0);
  compare_grads(p, t, dyn, skip, 1);

  /* rows a and b as run_batch runs them: the leaves' gradients stay in the
   * tape between the sweeps, and must come out as two backward passes */
  new_values(p, values);
  for (int i = 0; i < p->nin; i++) row_b[i] = inputs[i]->data;
  zero_grads(p);
  set_row(p, row_a);
  CHECK(mg_backward(outputs[0], &alloc) == MG_OK);
  set_row(p, row_b);
  CHECK(mg_backward(outputs[0], &alloc) == MG_OK);
  for (int i = 0; i < p->n; i++) dyn[i] = p->node[i]->grad;
  zero_grads(p);
  mg_tape_read_live(t);
  mg_tape_load_grads(t);
  for (int row = 0; row < 2; row++) {
    for (int i = 0; i < p->nin; i++) t->val[i] = row ? row_b[i] : row_a[i];
    mg_tape_run(t);
    mg_tape_sweep(t, 1.0);
    mg_tape_flush_grads(t);
  }
  mg_tape_store_grads(t);
  compare_grads(p, t, dyn, skip, 0);
  for (int o = 0; o < nout; o++) CHECK(same(t->val[t->out_slots[o]], outputs[o]->data));

  mg_tape_free(t);
  CHECK(c.live == 0 && c.blocks == 0);
}

/* FUZZ_VERBOSE=1: the program, one node a line (operands: #node or a constant). */
static void dump(const prog *p, int root) {
  fprintf(stderr, "%s program, %d nodes (%d untraced), %d inputs, root %d\n", p->exact ? "exact" : "float",
          p->n, p->nphase1, p->nin, root);
  for (int i = 0; i < p->n; i++) {
    fprintf(stderr, "  %3d %-8s %s%s= %-12.6g", i, p->op[i] ? mg_op_name((mg_op)p->op[i]) : "leaf",
            p->traced[i] ? "" : "untraced ", p->node[i]->flags & MG_INPUT ? "input " : "", p->node[i]->data);
    for (int j = 0; j < p->nargs[i]; j++) {
      int a = p->arg[p->first[i] + j];
      if (a >= 0)
        fprintf(stderr, " #%d", a);
      else
        fprintf(stderr, " %g", p->k[p->first[i] + j]);
    }
    fprintf(stderr, "\n");
  }
}

/* ---- the target ---------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, size};
  if (size < 2) return 0;
  /* the first bytes choose the root and the failures; the rest is the program */
  reader setup = {data, 8 < size ? 8 : size};
  r.p += setup.n, r.n -= setup.n;
  build(&P, &r);
  if (P.n == 0) return 0;
  for (int op = 0; op <= MG_OP_COUNT; op++) CHECK(mg_op_name((mg_op)op) != NULL);
  CHECK(strcmp(mg_op_name(MG_OP_COUNT), "?") == 0);
  check_forward(&P);
  unsigned pick = u8(&setup);
  int root = pick < 128 ? P.n - 1 : (int)(pick % (unsigned)P.n);
  if (getenv("FUZZ_VERBOSE")) dump(&P, root);
  check_backward(&P, root, &setup);
  reader values = {data, size}; /* the bytes again, for new input and parameter values */
  check_tape(&P, root, &setup, &values);
  free_prog(&P);
  return 0;
}
