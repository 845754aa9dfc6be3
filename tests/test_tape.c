/*
 * test_tape.c - unit tests of the compiled tape (no Lua): layout into ranges,
 * the forward and backward programs against the dynamic engine, run_batch's
 * accumulation, and the checked replays of detect_anomaly.
 */
#include <math.h>
#include <string.h>

#include "tape.h"
#include "test_support.h"

static mg_node *dot(mg_node *const *w, mg_node *const *x, uint32_t n, mg_node *bias) {
  uint32_t first = bias ? 1 : 0, nargs = first + 2 * n;
  mg_node *d = malloc(mg_node_size(nargs));
  mg_op_init(d, MG_OP_DOT, nargs, bias ? MG_DOT_BIAS : 0);
  if (bias) mg_set_arg(d, 0, bias);
  for (uint32_t j = 0; j < n; j++) mg_set_arg(d, first + 2 * j, w[j]), mg_set_arg(d, first + 2 * j + 1, x[j]);
  mg_forward(d);
  return d;
}

static mg_node *summed(mg_node *const *xs, uint32_t n) {
  mg_node *s = malloc(mg_node_size(n));
  mg_op_init(s, MG_OP_SUM, n, 0);
  for (uint32_t j = 0; j < n; j++) mg_set_arg(s, j, xs[j]);
  mg_forward(s);
  return s;
}

/* Every node made for a test, to be traced and freed. */
typedef struct pool {
  mg_node *at[256];
  int count;
} pool;

static mg_node *keep(pool *p, mg_node *n, uint8_t flags) {
  n->flags |= flags;
  p->at[p->count++] = n;
  return n;
}

static void free_pool(pool *p) {
  for (int i = 0; i < p->count; i++) free(p->at[i]);
}

/* A 2-3-3-1 tanh/relu network on two inputs, and an l2-like term: the
 * compiled forward, backward and run_batch against the dynamic engine. */
static void test_network(void) {
  pool p = {{0}, 0};
  mg_node *x[2], *w1[3][2], *b1[3], *w2[3][3], *b2[3], *w3[3], *b3, *h1[3], *h2[3];
  for (int i = 0; i < 2; i++) x[i] = keep(&p, leaf(0.25 - 0.5 * i), MG_TRACED | MG_INPUT | MG_DEPENDS);
  for (int j = 0; j < 3; j++) {
    for (int i = 0; i < 2; i++) w1[j][i] = keep(&p, leaf(0.3 * (j + 1) - 0.7 * i), 0);
    for (int i = 0; i < 3; i++) w2[j][i] = keep(&p, leaf(0.2 * (i - j) + 0.1), 0);
    b1[j] = keep(&p, leaf(0.05 * j), 0), b2[j] = keep(&p, leaf(-0.1 * j), 0),
    w3[j] = keep(&p, leaf(0.5 - j), 0);
  }
  b3 = keep(&p, leaf(0.2), 0);
  for (int j = 0; j < 3; j++)
    h1[j] = keep(&p, unary(MG_OP_TANH, keep(&p, dot(w1[j], x, 2, b1[j]), MG_TRACED)), MG_TRACED);
  for (int j = 0; j < 3; j++)
    h2[j] = keep(&p, unary(MG_OP_RELU, keep(&p, dot(w2[j], h1, 3, b2[j]), MG_TRACED)), MG_TRACED);
  mg_node *score = keep(&p, dot(w3, h2, 3, b3), MG_TRACED);
  mg_node *sq = keep(&p, dot(w3, w3, 3, NULL), MG_TRACED); /* w . w */
  mg_node *parts[] = {score, sq, h2[0]};
  mg_node *out = keep(&p, summed(parts, 3), MG_TRACED);

  budget b = {-1, 0};
  mg_allocator alloc = {test_alloc, &b};
  CHECK(mg_backward(out, &alloc) == MG_OK);
  double want[64];
  int nw = 0;
  for (int i = 0; i < p.count; i++)
    if (!(p.at[i]->flags & MG_TRACED)) want[nw++] = p.at[i]->grad, p.at[i]->grad = 0;

  int status;
  mg_tape *t = mg_tape_compile(&alloc, x, 2, &out, 1, &status);
  CHECK(t != NULL);
  if (!t) return;
  int ranges = 0;
  for (uint32_t i = 0; i < t->ncode; i++) ranges += t->code[i].op == MG_TAPE_DOT_RANGE;
  CHECK(ranges == 8); /* every dot runs over ranges */
  t->val[0] = 0.25, t->val[1] = -0.25;
  mg_tape_forward(t);
  CHECK(t->val[t->out_slots[0]] == out->data);
  mg_tape_backward(t, 1.0);
  nw = 0;
  for (int i = 0; i < p.count; i++)
    if (!(p.at[i]->flags & MG_TRACED)) CHECK(p.at[i]->grad == want[nw++]);

  /* checked sweep: the same gradients, no anomaly */
  for (int i = 0; i < p.count; i++) p.at[i]->grad = 0;
  mg_tape_anomaly bad;
  mg_tape_load_grads(t);
  CHECK(mg_tape_sweep_checked(t, 1.0, &bad) == 0);
  mg_tape_flush_grads(t);
  mg_tape_store_grads(t);
  nw = 0;
  for (int i = 0; i < p.count; i++)
    if (!(p.at[i]->flags & MG_TRACED)) CHECK(p.at[i]->grad == want[nw++]);
  uint32_t at;
  CHECK(mg_tape_check_forward(t, &at) == 0);

  /* an infinite input passes through; then a NaN made in the first dot of
   * layer 1 is blamed on it, not on what follows */
  t->val[0] = INFINITY;
  mg_tape_forward(t);
  CHECK(mg_tape_check_forward(t, &at) == 0); /* inf from an inf operand is not an anomaly */
  b1[0]->data = INFINITY, t->val[0] = 0.25;
  w1[0][0]->data = -INFINITY;
  mg_tape_forward(t); /* bias inf + w (-inf) * x: NaN from non-NaN operands */
  CHECK(mg_tape_check_forward(t, &at) == 1 && t->origin[at]->args[0].node == b1[0]);
  b1[0]->data = 0, w1[0][0]->data = 0.3;

  mg_tape_free(t);
  CHECK(b.live == 0);
  free_pool(&p);
}

/* A backward that overflows: the checked sweep stops at the op whose
 * gradient is not finite and names the operand. */
static void test_backward_anomaly(void) {
  budget b = {-1, 0};
  mg_allocator alloc = {test_alloc, &b};
  mg_node *x = leaf(0.0), *half = leaf(0.5);
  x->flags |= MG_TRACED | MG_INPUT | MG_DEPENDS;
  mg_node *r = binary(MG_OP_POW, x, half); /* sqrt by pow: d/dx at 0 is inf */
  r->flags |= MG_TRACED;
  int status;
  mg_tape *t = mg_tape_compile(&alloc, &x, 1, &r, 1, &status);
  CHECK(t != NULL);
  if (t) {
    mg_tape_anomaly bad;
    t->val[0] = 0.0;
    mg_tape_forward(t);
    mg_tape_load_grads(t);
    CHECK(mg_tape_sweep_checked(t, 1.0, &bad) == 1);
    CHECK(bad.at == 0 && bad.operand == 0 && isinf(bad.grad));
    CHECK(half->grad == 0); /* nothing stored */
    t->val[0] = 4.0;
    mg_tape_forward(t);
    CHECK(mg_tape_sweep_checked(t, 1.0, &bad) == 0 && t->grad[0] == 0.25);
    mg_tape_free(t);
  }
  CHECK(b.live == 0);
  free(r), free(half), free(x);
}

/* The replay's SIMD kernels (dot8, the four-chain dots, add_scaled) against
 * the generic rules of ops.h, bit for bit: a layer of 13 neurons with a bias
 * and relu, and 13 without either, over the same 7 inputs (8 + 4 + 1 dots per
 * group), compiled; every dot's value and every gradient against the dynamic
 * engine (mg_dot_forward over mg_arg operands) and against mg_dot_forward
 * over the tape's own ranges. */
#define SIMD_IN 7
#define SIMD_N  13
static void test_simd_kernels(void) {
  pool p = {{0}, 0};
  mg_node *x[SIMD_IN], *w[2][SIMD_N][SIMD_IN], *bias[SIMD_N], *parts[2 * SIMD_N];
  uint64_t r = 0x9e3779b97f4a7c15u;
  for (int i = 0; i < SIMD_IN; i++)
    x[i] = keep(&p, leaf(sin(i + 0.5) * 1.7), MG_TRACED | MG_INPUT | MG_DEPENDS);
  for (int l = 0; l < 2; l++)
    for (int j = 0; j < SIMD_N; j++)
      for (int i = 0; i < SIMD_IN; i++) {
        r = r * 6364136223846793005u + 1442695040888963407u; /* odd values: every rounding counts */
        w[l][j][i] = keep(&p, leaf((double)(r >> 11) / 9007199254740992.0 - 0.5), 0);
      }
  for (int j = 0; j < SIMD_N; j++) {
    bias[j] = keep(&p, leaf(0.01 * j - 0.05), 0);
    parts[j] = keep(&p, unary(MG_OP_RELU, keep(&p, dot(w[0][j], x, SIMD_IN, bias[j]), MG_TRACED)), MG_TRACED);
    parts[SIMD_N + j] = keep(&p, dot(w[1][j], x, SIMD_IN, NULL), MG_TRACED);
  }
  mg_node *out = keep(&p, summed(parts, 2 * SIMD_N), MG_TRACED);
  budget b = {-1, 0};
  mg_allocator alloc = {test_alloc, &b};
  CHECK(mg_backward(out, &alloc) == MG_OK);
  double want[2 * SIMD_N * SIMD_IN + SIMD_N];
  int nw = 0;
  for (int i = 0; i < p.count; i++)
    if (!(p.at[i]->flags & MG_TRACED)) want[nw++] = p.at[i]->grad, p.at[i]->grad = 0;

  int status;
  mg_tape *t = mg_tape_compile(&alloc, x, SIMD_IN, &out, 1, &status);
  CHECK(t != NULL);
  if (!t) return;
  int groups = 0;
  for (uint32_t i = 0; i < t->nfcode; i++)
    groups += t->fcode[i].op == MG_TAPE_DOT_GROUP && t->fcode[i].n == SIMD_N;
  CHECK(groups == 2); /* both layers run as groups: dot8, a four-chain, one alone */
  for (int i = 0; i < SIMD_IN; i++) t->val[i] = x[i]->data;
  mg_tape_forward(t);
  int dots = 0;
  for (uint32_t i = 0; i < t->ncode; i++) {
    const mg_instr *in = &t->code[i];
    if (in->op != MG_TAPE_DOT_RANGE) continue;
    mg_ranges rw = {t->val + in->dot.w, t->val + in->dot.x};
    double generic =
        mg_dot_forward(t->val[in->dot.bias], in->flags & MG_TAPE_BIAS, in->n, &rw, get_range_w, get_range_x);
    CHECK(memcmp(&generic, &t->val[in->out], sizeof generic) == 0);
    CHECK(memcmp(&t->origin[i]->data, &t->val[in->out], sizeof generic) == 0);
    dots++;
  }
  CHECK(dots == 2 * SIMD_N);
  mg_tape_backward(t, 1.0);
  nw = 0;
  for (int i = 0; i < p.count; i++)
    if (!(p.at[i]->flags & MG_TRACED)) CHECK(memcmp(&p.at[i]->grad, &want[nw++], sizeof(double)) == 0);
  mg_tape_free(t);
  CHECK(b.live == 0);
  free_pool(&p);
}

int main(void) {
  test_network();
  test_backward_anomaly();
  test_simd_kernels();
  return test_verdict("tape tests");
}
