/*
 * moons_ref.c - micrograd's moons training (demo.ipynb) written by hand in C:
 * MLP 2-H-H-1, hinge loss + 1e-4 L2, full-batch SGD, no graph at all.
 * It is the yardstick the Lua benchmarks (moons_ops.lua, moons_nn.lua,
 * moons_compiled.lua) are timed against, and with the width-16 data it
 * reproduces micrograd's losses to the last bit when built without FMA
 * contraction (-O2 -ffp-contract=off).
 *
 *   moons_ref DATA --check          losses at steps 0 and 99, final accuracy
 *   moons_ref DATA STEPS [REPS]     median microseconds (CPU time) per step over REPS runs
 *
 * DATA is micrograd_moons_h16.txt (see ../shared/data/README.md) or a file
 * in the same format with other hidden widths (bench/make_widths.lua): the
 * widths H1 and H2 come from its header.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NIN = 2, MAX_N = 100000, MAX_WIDTH = 4096, MAX_REPS = 1000 };

/*
 * The network, the data and every array the training uses, each one
 * contiguous block. Parameters are in micrograd's parameters() order: each
 * neuron's weights, then its bias; layer 1's neuron i at w + i * (NIN + 1),
 * layer 2's neuron j at w + l2 + j * (h1 + 1), the output neuron at w + l3.
 */
typedef struct {
  int n, h1, h2, nparam, l2, l3;
  double *x;              /* x[s * NIN + k] */
  double *y;              /* y[s], -1 or 1 */
  double *a1, *a2;        /* what forward leaves for backward: a1[s * h1 + i], a2[s * h2 + j] */
  double *score, *margin; /* score[s], margin[s] = 1 + -y * score */
  double *init, *g;       /* initial weights, gradient */
} Data;

static void die(const char *msg) {
  fprintf(stderr, "moons_ref: %s\n", msg);
  exit(1);
}

static double *alloc(int count) {
  double *p = malloc(sizeof *p * (size_t)count);
  if (!p) die("out of memory");
  return p;
}

static void load(const char *path, Data *d) {
  FILE *f = fopen(path, "r");
  int nin, nout;
  if (!f) die("cannot open the data file");
  if (fscanf(f, "%d %d %d %d %d", &d->n, &nin, &d->h1, &d->h2, &nout) != 5 || d->n <= 0 || d->n > MAX_N ||
      nin != NIN || d->h1 <= 0 || d->h1 > MAX_WIDTH || d->h2 <= 0 || d->h2 > MAX_WIDTH || nout != 1)
    die("bad header (want N 2 H1 H2 1)");
  d->l2 = d->h1 * (NIN + 1);
  d->l3 = d->l2 + d->h2 * (d->h1 + 1);
  d->nparam = d->l3 + d->h2 + 1;
  d->x = alloc(d->n * NIN);
  d->y = alloc(d->n);
  d->a1 = alloc(d->n * d->h1);
  d->a2 = alloc(d->n * d->h2);
  d->score = alloc(d->n);
  d->margin = alloc(d->n);
  d->init = alloc(d->nparam);
  d->g = alloc(d->nparam);
  for (int s = 0; s < d->n; s++)
    if (fscanf(f, "%lf %lf %lf", &d->x[s * NIN], &d->x[s * NIN + 1], &d->y[s]) != 3) die("bad sample");
  for (int p = 0; p < d->nparam; p++)
    if (fscanf(f, "%lf", &d->init[p]) != 1) die("bad weights");
  fclose(f);
}

static void unload(Data *d) {
  double *arrays[] = {d->x, d->y, d->a1, d->a2, d->score, d->margin, d->init, d->g};
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) free(arrays[i]);
}

static double relu(double v) { return v > 0 ? v : 0; }

/*
 * forward, backward and step take the widths h1 and h2 (d->h1 and d->h2) as
 * arguments and are always inlined: step_16, step_32 and step_64 below give
 * them as constants, so that the compiler unrolls and vectorizes the loops as
 * it would in a program written for one network; step_any takes them at run
 * time for any other width.
 */
#define INLINE static inline __attribute__((always_inline))

/* Forward pass of sample s; a neuron is b + w1*x1 + w2*x2 + ... in that order. */
INLINE void forward(const Data *d, const double *w, int s, const int h1, const int h2) {
  const double *x = d->x + s * NIN;
  double *a1 = d->a1 + s * h1, *a2 = d->a2 + s * h2;
  for (int i = 0; i < h1; i++) {
    const double *n = w + i * (NIN + 1);
    double act = n[NIN];
    for (int k = 0; k < NIN; k++) act = act + n[k] * x[k];
    a1[i] = relu(act);
  }
  for (int j = 0; j < h2; j++) {
    const double *n = w + d->l2 + j * (h1 + 1);
    double act = n[h1];
    for (int k = 0; k < h1; k++) act = act + n[k] * a1[k];
    a2[j] = relu(act);
  }
  const double *out = w + d->l3;
  double score = out[h2];
  for (int j = 0; j < h2; j++) score = score + out[j] * a2[j];
  d->score[s] = score;
  d->margin[s] = 1 + -d->y[s] * score;
}

/*
 * Backward pass of sample s: adds d loss / d w into g, given gl = d loss / d hinge.
 * restrict (w and g are distinct arrays) lets the compiler vectorize the inner loop.
 */
INLINE void backward(const Data *d, const double *restrict w, int s, double gl, double *restrict g,
                     const int h1, const int h2) {
  double g1[MAX_WIDTH], g2[MAX_WIDTH]; /* d loss / d (layer 1, layer 2 outputs) */
  const double *x = d->x + s * NIN, *a1 = d->a1 + s * h1, *a2 = d->a2 + s * h2, *out = w + d->l3;
  double *gout = g + d->l3;
  double gs = d->margin[s] > 0 ? -d->y[s] * gl : 0; /* d loss / d score */
  gout[h2] += gs;
  for (int j = 0; j < h2; j++) {
    gout[j] += a2[j] * gs;
    g2[j] = a2[j] > 0 ? out[j] * gs : 0;
  }
  for (int i = 0; i < h1; i++) g1[i] = 0;
  for (int j = h2 - 1; j >= 0; j--) { /* later neurons first, as a reverse sweep does */
    const double *n = w + d->l2 + j * (h1 + 1);
    const double gj = g2[j];
    double *gn = g + d->l2 + j * (h1 + 1);
    gn[h1] += gj;
    for (int k = 0; k < h1; k++) {
      gn[k] += a1[k] * gj;
      g1[k] += n[k] * gj;
    }
  }
  for (int i = 0; i < h1; i++) {
    double *gn = g + i * (NIN + 1);
    double gi = a1[i] > 0 ? g1[i] : 0;
    gn[NIN] += gi;
    for (int k = 0; k < NIN; k++) gn[k] += x[k] * gi;
  }
}

/*
 * One training step: forward over all samples, loss, backward, SGD with
 * learning rate lr. Returns the loss computed before the update; *correct
 * gets the number of samples classified right.
 *
 * Gradients are summed in the order a reverse sweep over micrograd's graph
 * adds them (the engine's backward() and PyTorch's do the same): the L2 term
 * first (p*p adds p * 1e-4 twice, once per operand), then the samples from
 * the last to the first. The last bits of the step-99 loss depend on it.
 */
INLINE double step(const Data *d, double *w, double lr, int *correct, const int h1, const int h2) {
  double *g = d->g, sum = 0, reg = 0, gl = 1.0 / d->n; /* gl = d loss / d hinge */
  *correct = 0;
  for (int s = 0; s < d->n; s++) {
    forward(d, w, s, h1, h2);
    sum = sum + relu(d->margin[s]);
    *correct += (d->y[s] > 0) == (d->score[s] > 0);
  }
  for (int p = 0; p < d->nparam; p++) reg = reg + w[p] * w[p];
  double loss = sum * (1.0 / d->n) + 1e-4 * reg;

  for (int p = 0; p < d->nparam; p++) g[p] = w[p] * 1e-4 + w[p] * 1e-4;
  for (int s = d->n - 1; s >= 0; s--) backward(d, w, s, gl, g, h1, h2);
  for (int p = 0; p < d->nparam; p++) w[p] -= lr * g[p];
  return loss;
}

typedef double Step(const Data *d, double *w, double lr, int *correct);
static double step_16(const Data *d, double *w, double lr, int *c) { return step(d, w, lr, c, 16, 16); }
static double step_32(const Data *d, double *w, double lr, int *c) { return step(d, w, lr, c, 32, 32); }
static double step_64(const Data *d, double *w, double lr, int *c) { return step(d, w, lr, c, 64, 64); }
static double step_any(const Data *d, double *w, double lr, int *c) {
  return step(d, w, lr, c, d->h1, d->h2);
}

static Step *step_for(const Data *d) {
  if (d->h1 == d->h2 && d->h1 == 16) return step_16;
  if (d->h1 == d->h2 && d->h1 == 32) return step_32;
  if (d->h1 == d->h2 && d->h1 == 64) return step_64;
  return step_any;
}

static double lr_at(int k) { return 1.0 - 0.9 * k / 100; }

/*
 * CPU time of the process, as os.clock() gives the Lua benchmarks: on a busy
 * machine, wall-clock time would also count the time other processes run.
 */
static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  Data d;
  double loss = 0;
  int correct = 0;
  if (argc < 3) {
    fprintf(stderr, "usage: %s DATA --check | %s DATA STEPS [REPS]\n", argv[0], argv[0]);
    return 2;
  }
  load(argv[1], &d);
  double *w = alloc(d.nparam);
  Step *train_step = step_for(&d);
  if (strcmp(argv[2], "--check") == 0) {
    memcpy(w, d.init, sizeof *w * (size_t)d.nparam);
    for (int k = 0; k < 100; k++) {
      loss = train_step(&d, w, lr_at(k), &correct);
      if (k == 0 || k == 99) printf("step %d loss %.17g accuracy %.17g%%\n", k, loss, 100.0 * correct / d.n);
    }
  } else {
    int steps = atoi(argv[2]), reps = argc > 3 ? atoi(argv[3]) : 9;
    double us[MAX_REPS];
    if (steps <= 0 || reps <= 0 || reps > MAX_REPS) die("want 0 < STEPS and 0 < REPS <= 1000");
    for (int r = 0; r < reps; r++) {
      memcpy(w, d.init, sizeof *w * (size_t)d.nparam);
      double t0 = now_us();
      for (int k = 0; k < steps; k++) loss = train_step(&d, w, lr_at(k % 100), &correct);
      us[r] = (now_us() - t0) / steps;
    }
    qsort(us, (size_t)reps, sizeof *us, cmp_double);
    printf("us_per_step %.3f steps %d reps %d loss %.17g\n", us[reps / 2], steps, reps, loss);
  }
  free(w);
  unload(&d);
  return 0;
}
