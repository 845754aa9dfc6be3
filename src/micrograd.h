/*
 * micrograd.h - the public C interface of micrograd for Lua.
 *
 * A scalar-valued reverse-mode autograd engine. Hosts that embed Lua 5.4 call
 * mg_openlibs(L) once; scripts then `require("micrograd")`.
 */
#ifndef MICROGRAD_H
#define MICROGRAD_H

#ifdef __cplusplus
extern "C" {
#endif

struct lua_State;

#define MICROGRAD_VERSION_MAJOR 0
#define MICROGRAD_VERSION_MINOR 1
#define MICROGRAD_VERSION_PATCH 0
#define MICROGRAD_VERSION       "0.1.0"

/* Opens the C engine as a Lua module (what `require("micrograd.core")` calls):
 * pushes the module table. */
int luaopen_micrograd_core(struct lua_State *L);

/* Fills package.preload so that require("micrograd") and every module of the
 * project load from copies built into the library: no files needed. Sets no
 * global. Needs the package library to be open. */
void mg_openlibs(struct lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
