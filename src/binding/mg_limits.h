/*
 * mg_limits.h - the binding's limits, in one place. Each is what a script can
 * ask for at most; going past it is an error naming the function.
 */
#ifndef MG_LIMITS_H
#define MG_LIMITS_H

#include "compat.h"

/* mg.compile: inputs of the compiled function. They are passed on the Lua
 * stack: 5.1 and LuaJIT give a C function 8000 slots (LUAI_MAXCSTACK), so
 * there fewer fit (about 7000), and more end in a clean "stack overflow
 * (too many inputs)". */
#define MG_COMPILE_MAX_INPUTS 100000

/* mg.compile: the length of an array fn returns as its outputs. */
#define MG_COMPILE_MAX_OUTPUTS 1000000

/* _system.run: arguments of the program, bytes of its stderr kept for the
 * message, bytes read from stderr at once. */
#define MG_RUN_MAX_ARGS    1000
#define MG_RUN_STDERR_KEPT 2048
#define MG_RUN_READ_CHUNK  512

/* _system.write_file: names tried for the temporary file before giving up. */
#define MG_TEMP_NAME_ATTEMPTS 100

/* detect_anomaly: stack levels searched for the Lua line that made a node. */
#define MG_ANOMALY_MAX_LEVELS 64

#endif
