/*
 * test_engine.c - unit tests of the C core (no Lua): ops, backward, memory
 * failures, the generator.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rng.h"
#include "tape.h"
#include "test_support.h"

static int backward(mg_node *root) {
  budget b = {-1, 0};
  mg_allocator alloc = {test_alloc, &b};
  int rc = mg_backward(root, &alloc);
  CHECK(b.live == 0);
  return rc;
}

/* ---- tests ---------------------------------------------------------------- */

static double unary_value(mg_op op, double x) { return mg_apply(op, x, 0); }

/* Where the op table (ops.h) has each op's gradients tested. */
static const double domain[MG_OP_COUNT][2] = {
#define DOMAIN(CODE, rule, name, kind, lua, lo, hi) {lo, hi},
    MG_OP_TABLE(DOMAIN)
#undef DOMAIN
};

/* d op(x) / dx by backward, against central differences, for every unary op
 * of the table at points of its domain. */
static void test_unary_gradients(void) {
  static const double points[] = {0.3, 1.7, 2.5, -0.8, -2.2};
  int tested = 0;
  for (int op = 0; op < MG_OP_COUNT; op++) {
    if (mg_op_kind_of((mg_op)op) != MG_KIND_UNARY) continue;
    for (size_t j = 0; j < sizeof points / sizeof *points; j++) {
      double x = points[j];
      if (x < domain[op][0] || x > domain[op][1]) continue;
      mg_node *a = leaf(x), *out = unary((mg_op)op, a);
      CHECK(backward(out) == MG_OK);
      double h = 1e-6, fd = (unary_value((mg_op)op, x + h) - unary_value((mg_op)op, x - h)) / (2 * h);
      CHECK_NEAR(a->grad, fd, 1e-6);
      CHECK(out->grad == 1.0);
      free(out), free(a), tested++;
    }
  }
  CHECK(tested >= 9 * 2);
}

static void test_binary_gradients(void) {
  static const mg_op ops[] = {MG_OP_ADD, MG_OP_SUB, MG_OP_MUL, MG_OP_DIV, MG_OP_POW};
  double x = 1.3, y = -0.7, h = 1e-6;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
    mg_node *a = leaf(x), *b = leaf(y), *out = binary(ops[i], a, b);
    CHECK(backward(out) == MG_OK);
    double fa = (mg_apply(ops[i], x + h, y) - mg_apply(ops[i], x - h, y)) / (2 * h);
    double fb = (mg_apply(ops[i], x, y + h) - mg_apply(ops[i], x, y - h)) / (2 * h);
    CHECK_NEAR(a->grad, fa, 1e-6);
    CHECK_NEAR(b->grad, fb, 1e-6);
    free(out), free(b), free(a);
  }
}

/* micrograd's README example, with its published numbers. */
typedef struct kept {
  mg_node *nodes[64];
  int count;
} kept;

static mg_node *keep(kept *k, mg_node *n) { return k->nodes[k->count++] = n; }

static void test_micrograd_readme(void) {
  kept all = {{0}, 0};
#define K(expr) keep(&all, (expr))
#define C(x)    K(leaf(x))
  mg_node *a = C(-4.0), *b = C(2.0);
  mg_node *c = K(binary(MG_OP_ADD, a, b));
  mg_node *d = K(binary(MG_OP_ADD, K(binary(MG_OP_MUL, a, b)), K(binary(MG_OP_POW, b, C(3)))));
  c = K(binary(MG_OP_ADD, c, K(binary(MG_OP_ADD, c, C(1)))));
  c = K(binary(MG_OP_ADD, c, K(binary(MG_OP_ADD, K(binary(MG_OP_ADD, C(1), c)), K(unary(MG_OP_NEG, a))))));
  d = K(binary(
      MG_OP_ADD, d,
      K(binary(MG_OP_ADD, K(binary(MG_OP_MUL, d, C(2))), K(unary(MG_OP_RELU, K(binary(MG_OP_ADD, b, a))))))));
  d = K(binary(
      MG_OP_ADD, d,
      K(binary(MG_OP_ADD, K(binary(MG_OP_MUL, C(3), d)), K(unary(MG_OP_RELU, K(binary(MG_OP_SUB, b, a))))))));
  mg_node *e = K(binary(MG_OP_SUB, c, d));
  mg_node *f = K(binary(MG_OP_POW, e, C(2)));
  mg_node *g = K(binary(MG_OP_DIV, f, C(2.0)));
  g = K(binary(MG_OP_ADD, g, K(binary(MG_OP_DIV, C(10.0), f))));
  CHECK(backward(g) == MG_OK);
  CHECK_NEAR(g->data, 24.70408163265306, 1e-14);
  CHECK_NEAR(a->grad, 138.83381924198252, 1e-13);
  CHECK_NEAR(b->grad, 645.5772594752186, 1e-13);
  /* PyTorch semantics: a second backward adds exactly the same again, interior nodes too. */
  double ga = a->grad, gb = b->grad, ge = e->grad;
  CHECK(backward(g) == MG_OK);
  CHECK(a->grad == 2 * ga && b->grad == 2 * gb && e->grad == 2 * ge);
  for (int i = 0; i < all.count; i++) CHECK(all.nodes[i]->users == 0 && all.nodes[i]->pass == 0);
  for (int i = 0; i < all.count; i++) free(all.nodes[i]);
#undef K
#undef C
}

static void test_sum_and_dot(void) {
  mg_node *w[3] = {leaf(0.5), leaf(-1.5), leaf(2.0)}, *bias = leaf(0.25);
  double x[3] = {2.0, 3.0, -1.0};
  mg_node *dot = malloc(mg_node_size(7));
  mg_op_init(dot, MG_OP_DOT, 7, MG_DOT_BIAS);
  mg_set_arg(dot, 0, bias);
  for (int i = 0; i < 3; i++) mg_set_arg(dot, 1 + 2 * i, w[i]), mg_set_const(dot, 2 + 2 * i, x[i]);
  mg_forward(dot);
  CHECK(dot->data == ((0.25 + 0.5 * 2.0) + -1.5 * 3.0) + 2.0 * -1.0);
  CHECK(backward(dot) == MG_OK);
  for (int i = 0; i < 3; i++) CHECK(w[i]->grad == x[i]);
  CHECK(bias->grad == 1.0);

  /* sum of a node used twice and a constant: d/dw0 = 2 */
  mg_node *sum = malloc(mg_node_size(3));
  mg_op_init(sum, MG_OP_SUM, 3, 0);
  mg_set_arg(sum, 0, w[0]), mg_set_const(sum, 1, 10.0), mg_set_arg(sum, 2, w[0]);
  mg_forward(sum);
  CHECK(sum->data == 0.5 + 10.0 + 0.5);
  w[0]->grad = 0;
  CHECK(backward(sum) == MG_OK);
  CHECK(w[0]->grad == 2.0);

  mg_node *empty = malloc(mg_node_size(0));
  mg_op_init(empty, MG_OP_SUM, 0, 0);
  mg_forward(empty);
  CHECK(empty->data == 0.0);
  CHECK(backward(empty) == MG_OK && empty->grad == 1.0);
  free(empty), free(sum), free(dot), free(bias);
  for (int i = 0; i < 3; i++) free(w[i]);
}

/* a * a: both operand slots are the same node. */
static void test_shared_operand(void) {
  mg_node *a = leaf(3.0), *sq = binary(MG_OP_MUL, a, a);
  mg_node *out = binary(MG_OP_ADD, sq, sq); /* 2 a^2 */
  CHECK(backward(out) == MG_OK);
  CHECK(a->grad == 12.0);
  CHECK(sq->grad == 2.0);
  free(out), free(sq), free(a);
}

/* pow's special cases: 0^b with a Value exponent, a^0. */
static void test_pow_edges(void) {
  mg_node *a = leaf(0.0), *b = leaf(2.0), *p = binary(MG_OP_POW, a, b);
  CHECK(backward(p) == MG_OK);
  CHECK(p->data == 0.0 && a->grad == 0.0 && b->grad == 0.0);
  free(p), free(b), free(a);
  a = leaf(0.0), b = leaf(0.0), p = binary(MG_OP_POW, a, b);
  CHECK(backward(p) == MG_OK);
  CHECK(p->data == 1.0 && a->grad == 0.0 && b->grad == 0.0);
  free(p), free(b), free(a);
  a = leaf(-1.0), p = unary(MG_OP_LOG, a);
  CHECK(isnan(p->data));
  free(p), free(a);
}

/* A million-node chain: no recursion anywhere. */
static void test_deep_chain(void) {
  enum { N = 1000000 };
  mg_node **nodes = malloc(sizeof *nodes * (2 * N + 3));
  mg_node *a = leaf(1.0), *b = leaf(1.0), *x = leaf(0.0), *x0 = x;
  size_t count = 0;
  for (int i = 0; i < N; i++) {
    x = nodes[count++] = binary(MG_OP_MUL, x, a);
    x = nodes[count++] = binary(MG_OP_ADD, x, b);
  }
  CHECK(backward(x) == MG_OK);
  CHECK(x->data == N);
  CHECK(a->grad == (double)N * (N - 1) / 2);
  CHECK(b->grad == N);
  CHECK(x0->grad == 1.0);
  for (size_t i = 0; i < count; i++) free(nodes[i]);
  free(nodes), free(a), free(b), free(x0);
}

/* Every allocation failure inside backward: MG_ENOMEM, no grad touched, counts
 * cleared, nothing leaked; then it works. */
static void test_out_of_memory(void) {
  enum { N = 2000 };
  mg_node *nodes[N + 1];
  nodes[0] = leaf(1.0);
  for (int i = 1; i <= N; i++) nodes[i] = unary(MG_OP_TANH, nodes[i - 1]);
  int failed = 0;
  for (long limit = 0; limit < 64; limit++) {
    budget b = {limit, 0};
    mg_allocator alloc = {test_alloc, &b};
    int rc = mg_backward(nodes[N], &alloc);
    CHECK(b.live == 0);
    for (int i = 0; i <= N; i++) CHECK(nodes[i]->users == 0 && nodes[i]->pass == 0);
    if (rc == MG_ENOMEM) {
      failed++;
      for (int i = 0; i <= N; i++) CHECK(nodes[i]->grad == 0);
    } else {
      CHECK(rc == MG_OK);
      CHECK(nodes[N]->grad == 1.0 && nodes[0]->grad != 0);
      break;
    }
  }
  CHECK(failed > 0);
  for (int i = 0; i <= N; i++) free(nodes[i]);
}

/* A node with one operand node and one constant. */
static mg_node *with_const(mg_op op, mg_node *a, double k) {
  mg_node *n = malloc(mg_node_size(2));
  mg_op_init(n, op, 2, 0);
  mg_set_arg(n, 0, a);
  mg_set_const(n, 1, k);
  mg_forward(n);
  return n;
}

static int backward_checked(mg_node *root, mg_anomaly *bad) {
  budget b = {-1, 0};
  mg_allocator alloc = {test_alloc, &b};
  int rc = mg_backward_checked(root, &alloc, bad);
  CHECK(b.live == 0);
  return rc;
}

/* Every node of nodes[0..count) is ready for the next pass and has grad 0. */
static int untouched(mg_node **nodes, int count) {
  int ok = 1;
  for (int i = 0; i < count; i++)
    ok = ok && nodes[i]->users == 0 && nodes[i]->pass == 0 && nodes[i]->grad == 0;
  return ok;
}

/* mg_backward_checked: stops at the first gradient that is not finite, names
 * the node and slot, changes no grad; the graph then works as before. */
static void test_backward_checked(void) {
  mg_anomaly bad;
  /* d sqrt(a) / da at 0 is inf: (a ^ 0.5) * 3, with a = 0 */
  mg_node *a = leaf(0.0), *p = with_const(MG_OP_POW, a, 0.5), *out = with_const(MG_OP_MUL, p, 3.0);
  mg_node *nodes[] = {a, p, out};
  CHECK(backward_checked(out, &bad) == MG_EANOMALY);
  CHECK(bad.node == p && bad.slot == 0 && isinf(bad.grad) && isinf(bad.sum));
  CHECK(untouched(nodes, 3));
  CHECK(backward(out) == MG_OK); /* unchecked, the same graph still runs */
  CHECK(out->grad == 1.0 && p->grad == 3.0 && isinf(a->grad));
  CHECK(backward_checked(out, NULL) == MG_EANOMALY);
  free(out), free(p), free(a);

  /* finite gradients that overflow when added: x * 1e308 + x * 1e308 */
  mg_node *x = leaf(1.0), *m1 = with_const(MG_OP_MUL, x, 1e308), *m2 = with_const(MG_OP_MUL, x, 1e308);
  mg_node *s = binary(MG_OP_ADD, m1, m2), *sum_nodes[] = {x, m1, m2, s};
  CHECK(backward_checked(s, &bad) == MG_EANOMALY);
  CHECK((bad.node == m1 || bad.node == m2) && bad.slot == 0);
  CHECK(bad.grad == 1e308 && isinf(bad.sum));
  CHECK(untouched(sum_nodes, 4));
  free(s), free(m2), free(m1), free(x);

  /* dot with a bias: the slot counts the bias; nan from 0 * inf */
  mg_node *bias = leaf(1.0), *w1 = leaf(2.0), *w2 = leaf(0.0), *dot = malloc(mg_node_size(5));
  mg_op_init(dot, MG_OP_DOT, 5, MG_DOT_BIAS);
  mg_set_arg(dot, 0, bias), mg_set_arg(dot, 1, w1), mg_set_const(dot, 2, 3.0);
  mg_set_arg(dot, 3, w2), mg_set_const(dot, 4, INFINITY);
  mg_forward(dot);
  mg_node *dot_nodes[] = {bias, w1, w2, dot};
  CHECK(backward_checked(dot, &bad) == MG_EANOMALY);
  CHECK(bad.node == dot && bad.slot == 3 && isinf(bad.grad));
  CHECK(untouched(dot_nodes, 4));
  free(dot), free(w2), free(w1), free(bias);

  /* a finite graph: the same grads, bit for bit, as mg_backward */
  mg_node *u = leaf(0.7), *v = leaf(1.3), *uv = binary(MG_OP_MUL, u, v), *t = unary(MG_OP_TANH, uv);
  mg_node *q = binary(MG_OP_DIV, t, v), *r = binary(MG_OP_POW, q, u), *e = binary(MG_OP_ADD, r, uv);
  mg_node *all[] = {u, v, uv, t, q, r, e};
  double want[7];
  CHECK(backward(e) == MG_OK);
  for (int i = 0; i < 7; i++) {
    CHECK(isfinite(all[i]->grad) && all[i]->grad != 0);
    want[i] = all[i]->grad, all[i]->grad = 0;
  }
  CHECK(backward_checked(e, &bad) == MG_OK);
  for (int i = 0; i < 7; i++) CHECK(all[i]->grad == want[i] && all[i]->users == 0 && all[i]->pass == 0);

  /* out of memory: MG_ENOMEM with nothing changed, then it works */
  int failed = 0;
  for (long limit = 0; limit < 8; limit++) {
    budget b = {limit, 0};
    mg_allocator alloc = {test_alloc, &b};
    for (int i = 0; i < 7; i++) all[i]->grad = 0;
    int rc = mg_backward_checked(e, &alloc, &bad);
    CHECK(b.live == 0);
    if (rc == MG_ENOMEM) {
      failed++;
      CHECK(untouched(all, 7));
    } else {
      CHECK(rc == MG_OK);
      for (int i = 0; i < 7; i++) CHECK(all[i]->grad == want[i]);
      break;
    }
  }
  CHECK(failed == 2); /* the discovery array, then the ready array */
  for (int i = 0; i < 7; i++) free(all[i]);
}

static void test_rng(void) {
  mg_rng r;
  mg_rng_seed(&r, 1337);
  /* Golden values from an independent implementation of splitmix64 + xoshiro256**. */
  CHECK(mg_rng_next(&r) == UINT64_C(0xad0aa0a04f822edc));
  CHECK(mg_rng_next(&r) == UINT64_C(0xd0815851ce885def));
  CHECK(mg_rng_next(&r) == UINT64_C(0xc70b17471e263e43));
  mg_rng_seed(&r, 42);
  CHECK(mg_rng_double(&r) == 0.08386297105988216);
  CHECK(mg_rng_double(&r) == 0.3789802506626686);
  int seen[7] = {0};
  for (int i = 0; i < 10000; i++) {
    uint64_t x = mg_rng_below_or_eq(&r, 6);
    CHECK(x <= 6);
    if (x <= 6) seen[x]++;
  }
  for (int i = 0; i <= 6; i++) CHECK(seen[i] > 1200);
  CHECK(mg_rng_below_or_eq(&r, 0) == 0);
  (void)mg_rng_below_or_eq(&r, UINT64_MAX); /* full range: must not loop */
  double sum = 0, sq = 0;
  for (int i = 0; i < 100000; i++) {
    double z = mg_rng_normal(&r);
    CHECK(isfinite(z));
    sum += z, sq += z * z;
  }
  CHECK(fabs(sum / 100000) < 0.02);
  CHECK(fabs(sq / 100000 - 1) < 0.02);
}

/* The tape replays a small traced graph with the engine's values and
 * gradients, and every allocation failure while compiling leaves the nodes
 * as they were. */
static void test_tape(void) {
  mg_node *x = leaf(0.5), *w = leaf(-1.25), *c = leaf(3.0);
  x->flags |= MG_TRACED | MG_INPUT | MG_DEPENDS, c->flags |= MG_TRACED;
  mg_node *m = binary(MG_OP_MUL, x, w), *s = binary(MG_OP_ADD, m, c), *t = unary(MG_OP_TANH, s);
  mg_node *out = binary(MG_OP_MUL, t, t);
  m->flags |= MG_TRACED, s->flags |= MG_TRACED, t->flags |= MG_TRACED, out->flags |= MG_TRACED;
  CHECK(backward(out) == MG_OK);
  double want_w = w->grad, want_x = x->grad;
  w->grad = x->grad = 0;
  int failed = 0;
  for (long limit = 0; limit < 16; limit++) {
    budget b = {limit, 0};
    mg_allocator alloc = {test_alloc, &b};
    int status;
    mg_tape *tape = mg_tape_compile(&alloc, &x, 1, &out, 1, &status);
    mg_node *all[] = {x, w, c, m, s, t, out};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) CHECK(all[i]->users == 0 && all[i]->pass == 0);
    if (!tape) {
      CHECK(status == MG_ENOMEM && b.live == 0);
      failed++;
      continue;
    }
    CHECK(tape->nin == 1 && tape->nlive == 1 && tape->ncode == 4 && tape->nbackward == 4);
    tape->val[0] = 0.5;
    mg_tape_forward(tape);
    CHECK(tape->val[tape->out_slots[0]] == out->data);
    mg_tape_backward(tape, 1.0);
    CHECK(w->grad == want_w);
    CHECK(tape->grad[0] == want_x);
    tape->val[0] = -2.0; /* another input */
    mg_tape_forward(tape);
    CHECK_NEAR(tape->val[tape->out_slots[0]], pow(tanh(-2.0 * -1.25 + 3.0), 2), 1e-15);
    mg_tape_free(tape);
    CHECK(b.live == 0);
    break;
  }
  CHECK(failed > 0);
  free(out), free(t), free(s), free(m), free(c), free(w), free(x);
}

/* logsumexp: shifted by the largest operand (no overflow at 1000), the softmax
 * as its gradient, a constant and a repeated operand, IEEE edge cases. */
static void test_logsumexp(void) {
  mg_node *a = leaf(1000.0), *b = leaf(-1000.0);
  mg_node *l = malloc(mg_node_size(4));
  mg_op_init(l, MG_OP_LOGSUMEXP, 4, 0);
  mg_set_arg(l, 0, a), mg_set_const(l, 1, 1000.0), mg_set_arg(l, 2, b), mg_set_arg(l, 3, a);
  mg_forward(l);
  CHECK(l->data == 1000.0 + log(3.0));
  CHECK(backward(l) == MG_OK);
  CHECK(a->grad == 2.0 / 3.0); /* two slots of e^0 / 3 */
  CHECK(b->grad == 0.0);
  CHECK(strcmp(mg_op_name(MG_OP_LOGSUMEXP), "logsumexp") == 0);
  double cases[][3] = {{INFINITY, 1, INFINITY}, {-INFINITY, -INFINITY, -INFINITY}, {NAN, INFINITY, NAN}};
  for (int c = 0; c < 3; c++) {
    mg_node *e = malloc(mg_node_size(2));
    mg_op_init(e, MG_OP_LOGSUMEXP, 2, 0);
    mg_set_const(e, 0, cases[c][0]), mg_set_const(e, 1, cases[c][1]);
    mg_forward(e);
    CHECK(isnan(cases[c][2]) ? isnan(e->data) : e->data == cases[c][2]);
    free(e);
  }
  free(l), free(a), free(b);
}

static void test_op_names(void) {
  CHECK(strcmp(mg_op_name(MG_OP_LEAF), "") == 0);
  CHECK(strcmp(mg_op_name(MG_OP_POW), "^") == 0);
  CHECK(strcmp(mg_op_name(MG_OP_SOFTPLUS), "softplus") == 0);
  CHECK(strcmp(mg_op_name(MG_OP_DOT), "dot") == 0);
  CHECK(strcmp(mg_op_name(MG_OP_COUNT), "?") == 0);
}

int main(void) {
  test_unary_gradients();
  test_binary_gradients();
  test_micrograd_readme();
  test_sum_and_dot();
  test_shared_operand();
  test_pow_edges();
  test_deep_chain();
  test_out_of_memory();
  test_backward_checked();
  test_rng();
  test_tape();
  test_op_names();
  test_logsumexp();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  puts("all engine tests passed");
  return 0;
}
