/*
 * moons_ref.c - micrograd's moons training (demo.ipynb) written by hand in C:
 * MLP 2-16-16-1, hinge loss + 1e-4 L2, full-batch SGD, no graph at all.
 * It is the yardstick the Lua op-by-op benchmark (moons_ops.lua) is timed
 * against, and it reproduces micrograd's losses to the last bit when built
 * without FMA contraction (-O2 -ffp-contract=off).
 *
 *   moons_ref DATA --check          losses at steps 0 and 99, final accuracy
 *   moons_ref DATA STEPS [REPS]     median microseconds per step over REPS runs
 *
 * DATA is micrograd_moons_h16.txt (see ../shared/data/README.md).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NIN = 2, H1 = 16, H2 = 16, MAX_REPS = 1000 };
/* Parameters in micrograd's parameters() order: each neuron's weights, then its bias. */
enum {
  L1 = 0,                   /* layer 1: neuron i at L1 + i * (NIN + 1) */
  L2 = L1 + H1 * (NIN + 1), /* layer 2: neuron j at L2 + j * (H1 + 1) */
  L3 = L2 + H2 * (H1 + 1),  /* output neuron */
  NPARAM = L3 + H2 + 1
};

/* What the forward pass of one sample leaves for the backward pass. */
typedef struct {
  double h1[H1], h2[H2], score, margin;
} Acts;

typedef struct {
  int n;
  double (*x)[NIN];
  double *y;
  Acts *acts;
  double init[NPARAM];
} Data;

static void die(const char *msg) {
  fprintf(stderr, "moons_ref: %s\n", msg);
  exit(1);
}

static void load(const char *path, Data *d) {
  FILE *f = fopen(path, "r");
  int nin, h1, h2, nout;
  if (!f) die("cannot open the data file");
  if (fscanf(f, "%d %d %d %d %d", &d->n, &nin, &h1, &h2, &nout) != 5 || d->n <= 0 || nin != NIN || h1 != H1 ||
      h2 != H2 || nout != 1)
    die("bad header (want N 2 16 16 1)");
  d->x = malloc(sizeof *d->x * (size_t)d->n);
  d->y = malloc(sizeof *d->y * (size_t)d->n);
  d->acts = malloc(sizeof *d->acts * (size_t)d->n);
  if (!d->x || !d->y || !d->acts) die("out of memory");
  for (int s = 0; s < d->n; s++)
    if (fscanf(f, "%lf %lf %lf", &d->x[s][0], &d->x[s][1], &d->y[s]) != 3) die("bad sample");
  for (int p = 0; p < NPARAM; p++)
    if (fscanf(f, "%lf", &d->init[p]) != 1) die("bad weights");
  fclose(f);
}

static double relu(double v) { return v > 0 ? v : 0; }

/* Forward pass of one sample; a neuron is b + w1*x1 + w2*x2 + ... in that order. */
static void forward(const double *w, const double *x, double y, Acts *a) {
  for (int i = 0; i < H1; i++) {
    const double *n = w + L1 + i * (NIN + 1);
    double act = n[NIN];
    for (int k = 0; k < NIN; k++) act = act + n[k] * x[k];
    a->h1[i] = relu(act);
  }
  for (int j = 0; j < H2; j++) {
    const double *n = w + L2 + j * (H1 + 1);
    double act = n[H1];
    for (int k = 0; k < H1; k++) act = act + n[k] * a->h1[k];
    a->h2[j] = relu(act);
  }
  a->score = w[L3 + H2];
  for (int j = 0; j < H2; j++) a->score = a->score + w[L3 + j] * a->h2[j];
  a->margin = 1 + -y * a->score;
}

/* Backward pass of one sample: adds d loss / d w into g, given gl = d loss / d hinge. */
static void backward(const double *w, const double *x, double y, const Acts *a, double gl, double *g) {
  double g1[H1] = {0}, g2[H2];
  double gs = a->margin > 0 ? -y * gl : 0; /* d loss / d score */
  g[L3 + H2] += gs;
  for (int j = 0; j < H2; j++) {
    g[L3 + j] += a->h2[j] * gs;
    g2[j] = a->h2[j] > 0 ? w[L3 + j] * gs : 0;
  }
  for (int j = H2 - 1; j >= 0; j--) { /* later neurons first, as a reverse sweep does */
    const double *n = w + L2 + j * (H1 + 1);
    double *gn = g + L2 + j * (H1 + 1);
    gn[H1] += g2[j];
    for (int k = 0; k < H1; k++) {
      gn[k] += a->h1[k] * g2[j];
      g1[k] += n[k] * g2[j];
    }
  }
  for (int i = 0; i < H1; i++) {
    double *gn = g + L1 + i * (NIN + 1);
    double gi = a->h1[i] > 0 ? g1[i] : 0;
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
static double step(const Data *d, double *w, double lr, int *correct) {
  double g[NPARAM], sum = 0, reg = 0, gl = 1.0 / d->n; /* gl = d loss / d hinge */
  *correct = 0;
  for (int s = 0; s < d->n; s++) {
    forward(w, d->x[s], d->y[s], &d->acts[s]);
    sum = sum + relu(d->acts[s].margin);
    *correct += (d->y[s] > 0) == (d->acts[s].score > 0);
  }
  for (int p = 0; p < NPARAM; p++) reg = reg + w[p] * w[p];
  double loss = sum * (1.0 / d->n) + 1e-4 * reg;

  for (int p = 0; p < NPARAM; p++) g[p] = w[p] * 1e-4 + w[p] * 1e-4;
  for (int s = d->n - 1; s >= 0; s--) backward(w, d->x[s], d->y[s], &d->acts[s], gl, g);
  for (int p = 0; p < NPARAM; p++) w[p] -= lr * g[p];
  return loss;
}

static double lr_at(int k) { return 1.0 - 0.9 * k / 100; }

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  Data d;
  double w[NPARAM], loss = 0;
  int correct = 0;
  if (argc < 3) {
    fprintf(stderr, "usage: %s DATA --check | %s DATA STEPS [REPS]\n", argv[0], argv[0]);
    return 2;
  }
  load(argv[1], &d);
  if (strcmp(argv[2], "--check") == 0) {
    memcpy(w, d.init, sizeof w);
    for (int k = 0; k < 100; k++) {
      loss = step(&d, w, lr_at(k), &correct);
      if (k == 0 || k == 99) printf("step %d loss %.17g accuracy %.17g%%\n", k, loss, 100.0 * correct / d.n);
    }
  } else {
    int steps = atoi(argv[2]), reps = argc > 3 ? atoi(argv[3]) : 9;
    double us[MAX_REPS];
    if (steps <= 0 || reps <= 0 || reps > MAX_REPS) die("want 0 < STEPS and 0 < REPS <= 1000");
    for (int r = 0; r < reps; r++) {
      memcpy(w, d.init, sizeof w);
      double t0 = now_us();
      for (int k = 0; k < steps; k++) loss = step(&d, w, lr_at(k % 100), &correct);
      us[r] = (now_us() - t0) / steps;
    }
    qsort(us, (size_t)reps, sizeof *us, cmp_double);
    printf("us_per_step %.3f steps %d reps %d loss %.17g\n", us[reps / 2], steps, reps, loss);
  }
  free(d.x);
  free(d.y);
  free(d.acts);
  return 0;
}
