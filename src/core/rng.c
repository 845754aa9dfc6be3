/*
 * rng.c - xoshiro256** (Blackman and Vigna, 2018) with splitmix64 seeding.
 */
#include "rng.h"

#include <math.h>

/* splitmix64: one step of a Weyl sequence, then a mixing function. */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void mg_rng_seed(mg_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t mg_rng_next(mg_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double mg_rng_double(mg_rng *r) { return (double)(mg_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t mg_rng_below_or_eq(mg_rng *r, uint64_t n) {
  uint64_t mask = n, x;
  mask |= mask >> 1, mask |= mask >> 2, mask |= mask >> 4;
  mask |= mask >> 8, mask |= mask >> 16, mask |= mask >> 32;
  do x = mg_rng_next(r) & mask;
  while (x > n);
  return x;
}

double mg_rng_normal(mg_rng *r) {
  /* Box-Muller: u1 in (0, 1] so the log is finite. */
  double u1 = 1.0 - mg_rng_double(r), u2 = mg_rng_double(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}
