/*
 * lua_harness.h - what the two Lua fuzz targets share.
 *
 * Each input runs in a fresh lua_State whose allocator caps the memory, checks
 * that every block is freed or resized with the size it has, and counts what
 * is live; a count hook bounds the instructions, and a line hook feeds the
 * Lua lines run to libFuzzer as coverage. The state has the base,
 * package, table, string, math, coroutine and utf8 libraries (no io, os or
 * debug: nothing touches files or runs programs) and every micrograd module
 * through mg_openlibs. A driver script (fuzz/<name>.lua, read once) returns a
 * function that gets the input bytes and returns nil, or a message when it
 * saw something wrong. A wrong thing traps: a message from the driver, an
 * error value that is not a string, or bytes left allocated after lua_close.
 */
#ifndef FUZZ_LUA_HARNESS_H
#define FUZZ_LUA_HARNESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_limits {
  size_t memory;     /* bytes the driver may allocate beyond what set-up used */
  long instructions; /* Lua VM instructions before every further one raises an error */
} fuzz_limits;

/* Runs driver(bytes, light, full, verbose) for fuzz/<driver>.lua, where light
 * and full are a light and a full userdata from the host (foreign values for
 * the API) and verbose is whether FUZZ_VERBOSE is set (print every error). */
void fuzz_lua_run(const char *driver, const uint8_t *data, size_t size, fuzz_limits limits);

#endif
