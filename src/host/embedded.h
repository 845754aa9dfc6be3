/*
 * embedded.h - Lua sources compiled into the library (generated at build time
 * from the lua/micrograd modules by cmake/embed.cmake).
 */
#ifndef MG_EMBEDDED_H
#define MG_EMBEDDED_H

#include <stddef.h>

typedef struct mg_embedded {
  const char *name;      /* module name for require, e.g. "micrograd.nn" */
  const char *chunkname; /* "@lua/micrograd/nn.lua", for messages */
  const char *source;
  size_t size;
} mg_embedded;

/* Terminated by an entry whose name is NULL. */
extern const mg_embedded mg_embedded_modules[];

#endif
