/*
 * random.c - the engine's generator (rng.c) from Lua: mg.seed, mg.random,
 * mg.uniform, mg.normal use the one kept in the module's context (one per
 * lua_State); mg.Generator(seed) makes independent ones with the same methods.
 * mg.get_rng_state / mg.set_rng_state (g:get_state / g:set_state) save and
 * restore a generator's position exactly, for checkpoints.
 */
#include "binding.h"

#define GENERATOR "micrograd.Generator"

static lua_Integer check_integer(lua_State *L, int arg, const char *fname) {
  int ok;
  lua_Integer n = lua_tointegerx(L, arg, &ok);
  if (!ok) mg_type_error(L, arg, fname, "integer");
  return n;
}

static double opt_number(lua_State *L, int arg, const char *fname, double dflt) {
  return lua_isnoneornil(L, arg) ? dflt : mg_check_number(L, arg, fname);
}

/* Each takes its arguments from stack index `first` on (2 for methods). */

/* seed(n): n an integer (a float with an integral value is accepted). */
static int do_seed(lua_State *L, mg_rng *rng, int first) {
  mg_rng_seed(rng, (uint64_t)check_integer(L, first, "seed"));
  return 0;
}

/* random(): a float in [0, 1); random(m): an integer in [1, m];
 * random(m, n): an integer in [m, n]. */
static int do_random(lua_State *L, mg_rng *rng, int first) {
  lua_Integer low, up;
  switch (lua_gettop(L) - first + 1) {
  case 0: lua_pushnumber(L, mg_rng_double(rng)); return 1;
  case 1: low = 1, up = check_integer(L, first, "random"); break;
  case 2: low = check_integer(L, first, "random"), up = check_integer(L, first + 1, "random"); break;
  default: return luaL_error(L, "wrong number of arguments to 'random' (0, 1 or 2 expected)");
  }
  if (low > up) mg_arg_error(L, lua_gettop(L), "random", "interval is empty");
  uint64_t r = mg_rng_below_or_eq(rng, (uint64_t)up - (uint64_t)low);
  lua_pushinteger(L, (lua_Integer)((uint64_t)low + r));
  return 1;
}

/* uniform(a, b): a + (b - a) * u with u in [0, 1). */
static int do_uniform(lua_State *L, mg_rng *rng, int first) {
  double a = mg_check_number(L, first, "uniform"), b = mg_check_number(L, first + 1, "uniform");
  lua_pushnumber(L, a + (b - a) * mg_rng_double(rng));
  return 1;
}

/* normal([mu [, sigma]]): mu + sigma * z, z standard normal. */
static int do_normal(lua_State *L, mg_rng *rng, int first) {
  double mu = opt_number(L, first, "normal", 0), sigma = opt_number(L, first + 1, "normal", 1);
  lua_pushnumber(L, mu + sigma * mg_rng_normal(rng));
  return 1;
}

/* get_state(): the generator's position as 64 hex digits (its four 64-bit
 * words, most significant digit first): a string that survives any file
 * format, and the same on every Lua (5.1 has no 64-bit integers). */
static int do_get_state(lua_State *L, const mg_rng *rng) {
  static const char digits[] = "0123456789abcdef";
  char text[64];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 16; j++) text[i * 16 + j] = digits[(rng->s[i] >> (60 - 4 * j)) & 15];
  lua_pushlstring(L, text, sizeof text);
  return 1;
}

/* The value of a hex digit, -1 for any other character. */
static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* set_state(text): back to a position from get_state. Anything else is an
 * error and changes nothing; so is the all-zero state (xoshiro would give
 * zeros for ever). */
static int do_set_state(lua_State *L, mg_rng *rng, int arg, const char *fname) {
  size_t len;
  const char *text = lua_type(L, arg) == LUA_TSTRING ? lua_tolstring(L, arg, &len) : NULL;
  if (!text) return mg_type_error(L, arg, fname, "string");
  if (len != 64) return mg_arg_error(L, arg, fname, "generator state of 64 hex digits expected");
  mg_rng next = {{0, 0, 0, 0}};
  for (size_t k = 0; k < 64; k++) {
    int d = hex_digit(text[k]);
    if (d < 0) return mg_arg_error(L, arg, fname, "generator state of 64 hex digits expected");
    next.s[k / 16] = (next.s[k / 16] << 4) | (uint64_t)d;
  }
  if ((next.s[0] | next.s[1] | next.s[2] | next.s[3]) == 0)
    return mg_arg_error(L, arg, fname, "the all-zero generator state is not a state");
  *rng = next;
  return 0;
}

/* The context's generator: mg.seed, mg.random, ... */
#define CTX_RNG (&mg_context(L)->rng)
static int random_seed(lua_State *L) { return do_seed(L, CTX_RNG, 1); }
static int random_random(lua_State *L) { return do_random(L, CTX_RNG, 1); }
static int random_uniform(lua_State *L) { return do_uniform(L, CTX_RNG, 1); }
static int random_normal(lua_State *L) { return do_normal(L, CTX_RNG, 1); }
static int random_get_state(lua_State *L) { return do_get_state(L, CTX_RNG); }
static int random_set_state(lua_State *L) { return do_set_state(L, CTX_RNG, 1, "set_rng_state"); }

/* Generator objects: g:seed(n), g:random(...), g:uniform(a, b), g:normal(mu, sigma). */
static mg_rng *check_generator(lua_State *L, const char *fname) {
  mg_rng *rng = luaL_testudata(L, 1, GENERATOR);
  if (!rng) mg_type_error(L, 1, fname, "Generator");
  return rng;
}
static int generator_seed(lua_State *L) { return do_seed(L, check_generator(L, "seed"), 2); }
static int generator_random(lua_State *L) { return do_random(L, check_generator(L, "random"), 2); }
static int generator_uniform(lua_State *L) { return do_uniform(L, check_generator(L, "uniform"), 2); }
static int generator_normal(lua_State *L) { return do_normal(L, check_generator(L, "normal"), 2); }
static int generator_get_state(lua_State *L) { return do_get_state(L, check_generator(L, "get_state")); }
static int generator_set_state(lua_State *L) {
  return do_set_state(L, check_generator(L, "set_state"), 2, "set_state");
}

static int generator_tostring(lua_State *L) {
  lua_pushfstring(L, "Generator (%p)", lua_touserdata(L, 1));
  return 1;
}

/* mg.Generator([seed]): a new generator; without a seed, one drawn from the
 * engine's generator (so mg.seed makes it reproducible too). */
static int random_generator(lua_State *L) {
  uint64_t seed = lua_isnoneornil(L, 1) ? mg_rng_next(CTX_RNG) : (uint64_t)check_integer(L, 1, "Generator");
  mg_rng *rng = mg_newuserdatauv(L, sizeof *rng, 0);
  mg_rng_seed(rng, seed);
  luaL_setmetatable(L, GENERATOR);
  return 1;
}

void mg_register_random(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {{"seed", random_seed},
                                       {"random", random_random},
                                       {"uniform", random_uniform},
                                       {"normal", random_normal},
                                       {"get_rng_state", random_get_state},
                                       {"set_rng_state", random_set_state},
                                       {"Generator", random_generator},
                                       {NULL, NULL}};
  static const luaL_Reg methods[] = {{"seed", generator_seed},
                                     {"random", generator_random},
                                     {"uniform", generator_uniform},
                                     {"normal", generator_normal},
                                     {"get_state", generator_get_state},
                                     {"set_state", generator_set_state},
                                     {NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__tostring", generator_tostring}, {NULL, NULL}};
  static const mg_class generator_class = {GENERATOR, metamethods, methods};
  mg_setfuncs(L, module, functions, upvalues);
  mg_register_class(L, &generator_class, 0, upvalues);
}
