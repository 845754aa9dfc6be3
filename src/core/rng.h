/*
 * rng.h - the engine's random generator: xoshiro256** seeded through splitmix64.
 *
 * Integer and uniform outputs are the same bits on every machine. The state is
 * a plain struct owned by the caller (the binding keeps one per lua_State).
 */
#ifndef MG_RNG_H
#define MG_RNG_H

#include <stdint.h>

#define MG_DEFAULT_SEED 1337

typedef struct mg_rng {
  uint64_t s[4];
} mg_rng;

/* Sets the state to four successive splitmix64 outputs of seed. */
void mg_rng_seed(mg_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t mg_rng_next(mg_rng *r);

/* A double in [0, 1): the top 53 bits of the next output, times 2^-53. */
double mg_rng_double(mg_rng *r);

/* An integer in [0, n] with no bias (rejection on the smallest covering mask). */
uint64_t mg_rng_below_or_eq(mg_rng *r, uint64_t n);

/* A standard normal variate (Box-Muller on two doubles; uses libm's log, sqrt, cos). */
double mg_rng_normal(mg_rng *r);

#endif
