/*
 * random.c - mg.seed, mg.random, mg.uniform, mg.normal: the engine's own
 * generator (rng.c), one per lua_State, kept in the module's context.
 */
#include "binding.h"

/* mg.seed(n): n an integer (a float with an integral value is accepted). */
static int random_seed(lua_State *L) {
  int ok;
  lua_Integer n = lua_tointegerx(L, 1, &ok);
  if (!ok) mg_type_error(L, 1, "seed", "integer");
  mg_rng_seed(&mg_context(L)->rng, (uint64_t)n);
  return 0;
}

static lua_Integer check_integer(lua_State *L, int arg, const char *fname) {
  int ok;
  lua_Integer n = lua_tointegerx(L, arg, &ok);
  if (!ok) mg_type_error(L, arg, fname, "integer");
  return n;
}

/* mg.random(): a float in [0, 1); mg.random(m): an integer in [1, m];
 * mg.random(m, n): an integer in [m, n]. */
static int random_random(lua_State *L) {
  mg_rng *rng = &mg_context(L)->rng;
  lua_Integer low, up;
  switch (lua_gettop(L)) {
  case 0: lua_pushnumber(L, mg_rng_double(rng)); return 1;
  case 1: low = 1, up = check_integer(L, 1, "random"); break;
  case 2: low = check_integer(L, 1, "random"), up = check_integer(L, 2, "random"); break;
  default: return luaL_error(L, "wrong number of arguments to 'random' (0, 1 or 2 expected)");
  }
  if (low > up) mg_arg_error(L, lua_gettop(L), "random", "interval is empty");
  uint64_t r = mg_rng_below_or_eq(rng, (uint64_t)up - (uint64_t)low);
  lua_pushinteger(L, (lua_Integer)((uint64_t)low + r));
  return 1;
}

/* mg.uniform(a, b): a + (b - a) * u with u in [0, 1). */
static int random_uniform(lua_State *L) {
  double a = mg_check_number(L, 1, "uniform"), b = mg_check_number(L, 2, "uniform");
  lua_pushnumber(L, a + (b - a) * mg_rng_double(&mg_context(L)->rng));
  return 1;
}

static double opt_number(lua_State *L, int arg, const char *fname, double dflt) {
  return lua_isnoneornil(L, arg) ? dflt : mg_check_number(L, arg, fname);
}

/* mg.normal([mu [, sigma]]): mu + sigma * z, z standard normal. */
static int random_normal(lua_State *L) {
  double mu = opt_number(L, 1, "normal", 0), sigma = opt_number(L, 2, "normal", 1);
  lua_pushnumber(L, mu + sigma * mg_rng_normal(&mg_context(L)->rng));
  return 1;
}

void mg_register_random(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {{"seed", random_seed},
                                       {"random", random_random},
                                       {"uniform", random_uniform},
                                       {"normal", random_normal},
                                       {NULL, NULL}};
  mg_setfuncs(L, module, functions, upvalues);
}
