/*
 * test_support.h - what the C tests share: CHECK macros, an allocator that
 * can fail after a budget, and nodes built on the heap.
 */
#ifndef MG_TEST_SUPPORT_H
#define MG_TEST_SUPPORT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

static int failures = 0;

#define CHECK(cond)                                                                                          \
  do {                                                                                                       \
    if (!(cond)) {                                                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                               \
      failures++;                                                                                            \
    }                                                                                                        \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                \
  do {                                                                                                       \
    double a_ = (a), b_ = (b);                                                                               \
    if (!(fabs(a_ - b_) <= (tol)*fmax(1.0, fabs(b_)))) {                                                     \
      fprintf(stderr, "%s:%d: %s = %.17g, want %.17g\n", __FILE__, __LINE__, #a, a_, b_);                    \
      failures++;                                                                                            \
    }                                                                                                        \
  } while (0)

typedef struct budget {
  long allocations_left; /* < 0: unlimited */
  long live;             /* blocks currently allocated */
} budget;

static inline void *test_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  budget *b = ud;
  (void)osize;
  if (nsize == 0) {
    if (ptr) b->live--;
    free(ptr);
    return NULL;
  }
  if (b->allocations_left == 0) return NULL;
  if (b->allocations_left > 0) b->allocations_left--;
  void *p = realloc(ptr, nsize);
  if (p && !ptr) b->live++;
  return p;
}

static inline mg_node *leaf(double x) {
  mg_node *n = malloc(mg_node_size(0));
  mg_leaf_init(n, x);
  return n;
}

static inline mg_node *binary(mg_op op, mg_node *a, mg_node *b) {
  mg_node *n = malloc(mg_node_size(2));
  mg_op_init(n, op, 2, 0);
  mg_set_arg(n, 0, a);
  mg_set_arg(n, 1, b);
  mg_forward(n);
  return n;
}

static inline mg_node *unary(mg_op op, mg_node *a) {
  mg_node *n = malloc(mg_node_size(1));
  mg_op_init(n, op, 1, 0);
  mg_set_arg(n, 0, a);
  mg_forward(n);
  return n;
}

/* Exit status of a test program: prints the verdict. */
static inline int test_verdict(const char *name) {
  if (failures) {
    fprintf(stderr, "%s: %d checks failed\n", name, failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
