/*
 * fuzz_lua.c - libFuzzer target over the Lua API: fuzz/lua_driver.lua turns
 * the bytes into calls on micrograd's public Lua surface (see there and
 * lua_harness.h). The first byte sets the memory cap: one input in sixteen
 * gets a few kilobytes to a few hundred, so that running out of memory
 * happens somewhere in the middle of the library.
 */
#include "lua_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  fuzz_limits limits = {(size_t)64 << 20, 2000000};
  if (data[0] < 16) limits.memory = (size_t)(4 + 16 * data[0]) << 10;
  fuzz_lua_run("lua_driver", data + 1, size - 1, limits);
  return 0;
}
