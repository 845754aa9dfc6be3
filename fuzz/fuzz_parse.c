/*
 * fuzz_parse.c - libFuzzer target over the parsers of untrusted text:
 * nn.parse (model documents, via model_io.lua and the JSON reader) and
 * data.parse_csv, driven by fuzz/parse_driver.lua (see there and
 * lua_harness.h). The first byte sets the memory cap (one input in sixteen
 * gets a tight one).
 */
#include "lua_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  fuzz_limits limits = {(size_t)64 << 20, 5000000};
  if (data[0] < 16) limits.memory = (size_t)(16 + 32 * data[0]) << 10;
  fuzz_lua_run("parse_driver", data + 1, size - 1, limits);
  return 0;
}
