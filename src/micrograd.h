/***
 * micrograd.h - the public C interface of micrograd for Lua.
 *
 * A scalar-valued reverse-mode autograd engine written in C and driven from
 * Lua 5.4. A host program that embeds Lua links `libmicrograd` and calls
 * `mg_openlibs(L)` once per `lua_State`; its scripts then `require("micrograd")`
 * with no files on disk. Stock `lua5.4` loads the same engine as the C module
 * `micrograd.core` (`luaopen_micrograd_core`).
 *
 * What a host can rely on: all memory comes from the `lua_State`'s allocator
 * (a memory limit set by the host applies, and running out is a Lua error
 * "not enough memory", after which the state keeps working); there is no
 * global or static mutable state (separate states may run in separate threads
 * at the same time); bad input raises a Lua error and never calls `exit`,
 * `abort` or `assert`; the modules need only the base, package, table, string
 * and math libraries (functions that read or write files say so when `io` is
 * missing).
 *
 * Hosts that want the engine without Lua can use its core directly:
 * `engine.h` (nodes, ops, `mg_backward`), `tape.h` (compiled graphs) and
 * `rng.h` (the generator); they take an allocator from the caller, keep no
 * global state and report failures as return codes.
 * @module micrograd.h
 */
#ifndef MICROGRAD_H
#define MICROGRAD_H

#ifdef __cplusplus
extern "C" {
#endif

struct lua_State;

/*** Version: `MICROGRAD_VERSION_MAJOR`, `_MINOR`, `_PATCH` and the string
 * `MICROGRAD_VERSION` ("0.1.0"); `require("micrograd")._VERSION` is
 * "micrograd 0.1.0".
 * @table MICROGRAD_VERSION
 */
#define MICROGRAD_VERSION_MAJOR 0
#define MICROGRAD_VERSION_MINOR 1
#define MICROGRAD_VERSION_PATCH 0
#define MICROGRAD_VERSION       "0.1.0"

/*** Opens the C engine as a Lua module: what `require("micrograd.core")` calls.
 * Pushes the module table (Value, sum, dot, vector, no_grad, compile, the
 * random generator, ...); `require("micrograd")` returns the same functions
 * and the Lua modules on top.
 * @function luaopen_micrograd_core
 * @param L the state
 * @return 1 (the module table on the stack)
 */
int luaopen_micrograd_core(struct lua_State *L);

/*** Makes every module of the project loadable in L with no files on disk:
 * fills `package.preload` with the engine (`micrograd.core`), every Lua module
 * (`micrograd`, `micrograd.nn`, `micrograd.loss`, `micrograd.optim`,
 * `micrograd.data`, `micrograd.train`, `micrograd.viz`, ...) and the JSON
 * reader they use (`dkjson`), all compiled into the library. Sets no global.
 * Needs the package library (`luaopen_package`) to be open.
 * @function mg_openlibs
 * @param L the state
 */
void mg_openlibs(struct lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
