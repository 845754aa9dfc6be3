/*
 * params.c - parameter sets: the per-parameter loops of the optimizers in C.
 */
#include "binding.h"

void mg_register_params(lua_State *L, int module, int upvalues) {
  (void)L, (void)module, (void)upvalues;
}
