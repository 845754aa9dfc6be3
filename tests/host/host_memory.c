/*
 * host_memory.c - memory belongs to the host.
 *
 * Every lua_State here is made with lua_newstate(capped_alloc, &budget): an
 * allocator that refuses to grow past a limit (or after a countdown), counts
 * live bytes and blocks, and checks that every free and realloc passes the
 * size the block really has (a size header in front of each block).
 *
 * 1. The limit sweep: a fresh state per limit, from 50 KB up to past what the
 *    whole workload (memory.lua: big graphs, backward, nn, compile, optimizers,
 *    dump/parse, data, train, viz) needs; opening the libraries and loading
 *    the modules happen under the limit too. Every failure must be the error
 *    "not enough memory" (never a crash, an abort or another message); then,
 *    with the limit lifted, the same state must train a small model to the
 *    same bits as a state that never ran out; lua_close must give back every
 *    byte and block.
 * 2. Injection: memory.lua's scenarios make allocation k fail, for k = 0, 1,
 *    2, ... until the operation succeeds, so every allocation of backward's
 *    scratch array, compile's tape, Vector, ParamSet, the optimizers'
 *    buffers, _system.run's buffer, ... fails once: once with every later
 *    allocation refused too, once with memory back right after (so error
 *    handlers that decorate or swallow the error are seen). The operations
 *    that must not allocate at all (compiled forward/backward/run_batch,
 *    optimizer steps) run with every allocation refused.
 *
 *   host_memory [memory.lua [sweep-steps [samples]]]
 *
 * sweep-steps (default 10) limits between 50 KB and the workload's peak;
 * samples (default 12): allocations made to fail in the big operations of the
 * injection (every one in the small operations). The defaults take a few
 * seconds under Valgrind; ctest asks for more.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "micrograd.h"

#ifndef HOST_SCRIPT_DIR
#define HOST_SCRIPT_DIR "tests/host"
#endif

/* host.samples (see above) */
static int samples = 12;

/* ---- the host's allocator ------------------------------------------------ */

typedef struct budget {
  size_t limit;            /* growth past this many live bytes is refused */
  long countdown;          /* >= 0: growth requests allowed before refusals start; -1: off */
  long burst;              /* once refusals start: how many (-1: all from then on) */
  size_t live, blocks;     /* bytes and blocks handed out and not yet freed */
  size_t peak;             /* most live bytes seen */
  unsigned long requests;  /* requests to grow (granted or not) */
  unsigned long refused;   /* requests refused */
  unsigned long bad_sizes; /* frees/reallocs whose osize was not the block's size */
  char phase[32];          /* what the script says it is doing (host.phase) */
  char refused_in[32];     /* the phase of the first refusal since the last reset */
} budget;

/* Each block starts with its size, so osize can be checked. */
typedef union header {
  size_t size;
  max_align_t align;
} header;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  budget *b = ud;
  header *h = ptr ? (header *)ptr - 1 : NULL;
  size_t old = 0;
  if (h) {
    old = h->size;
    if (osize != old) b->bad_sizes++;
  }
  if (nsize == 0) {
    if (h) free(h), b->live -= old, b->blocks--;
    return NULL;
  }
  if (nsize > old) { /* growth can be refused; shrinking never is */
    b->requests++;
    int refuse = nsize - old > b->limit - b->live || nsize > SIZE_MAX - sizeof(header);
    if (b->countdown == 0 && b->burst != 0) {
      refuse = 1;
      if (b->burst > 0 && --b->burst == 0) b->countdown = -1; /* the burst is over */
    } else if (b->countdown > 0) {
      b->countdown--;
    }
    if (refuse) {
      if (b->refused_in[0] == 0) memcpy(b->refused_in, b->phase, sizeof b->phase);
      b->refused++;
      return NULL;
    }
  }
  header *nh = realloc(h, sizeof(header) + nsize);
  if (!nh) {
    b->refused++;
    return NULL;
  }
  nh->size = nsize;
  b->live = b->live - old + nsize;
  if (!h) b->blocks++;
  if (b->live > b->peak) b->peak = b->live;
  return nh + 1;
}

static budget *budget_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

static void reset_limits(budget *b) { b->limit = SIZE_MAX, b->countdown = -1, b->burst = -1; }

/* ---- the functions scripts get: the global table `host` ------------------- */

/* host.stats(): live bytes, live blocks, peak bytes, refusals so far. */
static int host_stats(lua_State *L) {
  budget *b = budget_of(L);
  lua_pushinteger(L, (lua_Integer)b->live);
  lua_pushinteger(L, (lua_Integer)b->blocks);
  lua_pushinteger(L, (lua_Integer)b->peak);
  lua_pushinteger(L, (lua_Integer)b->refused);
  return 4;
}

/* host.phase(name): names what the script does now, for the report of where
 * memory ran out. */
static int host_phase(lua_State *L) {
  budget *b = budget_of(L);
  const char *name = luaL_checkstring(L, 1);
  snprintf(b->phase, sizeof b->phase, "%s", name);
  return 0;
}

/* host.try(fn, mode, n): calls fn() with memory capped and lifts the cap
 * before it returns true, fn's first result or false, the error message;
 * then the number of refused requests and of requests to grow. mode
 * "limit": at most n more live bytes; "fail": the first n growth requests
 * succeed, every later one fails; "burst": the first n succeed, the next two
 * fail (enough for Lua's own allocations, which collect garbage and try
 * again once), the rest succeed: what happens after a memory error (error
 * handlers, messages) runs with memory available. */
static int host_try(lua_State *L) {
  budget *b = budget_of(L);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  const char *mode = luaL_checkstring(L, 2);
  lua_Integer n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 0, 3, "n >= 0 expected");
  lua_settop(L, 1);
  unsigned long before = b->refused, requests = b->requests;
  b->refused_in[0] = 0;
  if (strcmp(mode, "limit") == 0)
    b->limit = b->live + (size_t)n;
  else if (strcmp(mode, "fail") == 0)
    b->countdown = (long)n;
  else if (strcmp(mode, "burst") == 0)
    b->countdown = (long)n, b->burst = 2;
  else
    return luaL_argerror(L, 2, "'limit', 'fail' or 'burst' expected");
  int status = lua_pcall(L, 0, 1, 0);
  reset_limits(b);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, -2);
  lua_pushinteger(L, (lua_Integer)(b->refused - before));
  lua_pushinteger(L, (lua_Integer)(b->requests - requests));
  return 4;
}

/* host.fds(): how many file descriptors the process has open. */
static int host_fds(lua_State *L) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 0; /* no /proc: nothing to compare */
  lua_Integer n = 0;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  lua_pushinteger(L, n);
  return 1;
}

/* host.sigpipe(): SIGPIPE's disposition ("default", "ignored", "handler") and
 * whether this thread blocks it: what running a program must leave as it was. */
static int host_sigpipe(lua_State *L) {
  struct sigaction sa;
  sigset_t mask;
  sigaction(SIGPIPE, NULL, &sa);
  sigprocmask(SIG_BLOCK, NULL, &mask);
  lua_pushstring(L, sa.sa_handler == SIG_DFL ? "default" : sa.sa_handler == SIG_IGN ? "ignored" : "handler");
  lua_pushboolean(L, sigismember(&mask, SIGPIPE));
  return 2;
}

static void open_host(lua_State *L) {
  static const luaL_Reg fns[] = {{"stats", host_stats}, {"phase", host_phase},     {"try", host_try},
                                 {"fds", host_fds},     {"sigpipe", host_sigpipe}, {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_pushinteger(L, samples);
  lua_setfield(L, -2, "samples");
  lua_setglobal(L, "host");
}

/* ---- the sweep ----------------------------------------------------------- */

static const char *script_path;
static int failures;

#define CHECK(cond, ...)                                                                                     \
  do {                                                                                                       \
    if (!(cond)) {                                                                                           \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                   \
      fprintf(stderr, __VA_ARGS__);                                                                          \
      fputc('\n', stderr);                                                                                   \
      failures++;                                                                                            \
    }                                                                                                        \
  } while (0)

static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "PANIC (unprotected error): %s\n", msg ? msg : "?");
  fflush(stderr);
  return 0; /* Lua aborts: the test fails */
}

/* Opens the libraries, loads memory.lua (once per state: it is kept as
 * registry.memory_lua) and calls its function named by upvalue 1, returning
 * its result: what every protected step below runs. */
static int open_and_call(lua_State *L) {
  budget *b = budget_of(L);
  snprintf(b->phase, sizeof b->phase, "openlibs");
  luaL_openlibs(L);
  mg_openlibs(L);
  open_host(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, "memory_lua") != LUA_TTABLE) {
    lua_pop(L, 1);
    snprintf(b->phase, sizeof b->phase, "loading memory.lua");
    int rc = luaL_loadfilex(L, script_path, "t");
    if (rc != LUA_OK) return lua_error(L);
    lua_call(L, 0, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "memory_lua");
  }
  lua_getfield(L, -1, lua_tostring(L, lua_upvalueindex(1)));
  lua_call(L, 0, 1);
  return 1;
}

/* Runs memory.lua's function `name` in protected mode, memory capped at
 * limit meanwhile: LUA_OK and its result (copied to out), or the status and
 * the message in out. */
static int call_script(lua_State *L, const char *name, size_t limit, char *out, size_t outsize) {
  budget *b = budget_of(L);
  int top = lua_gettop(L);
  lua_pushstring(L, name); /* before the cap: nothing unprotected may fail */
  lua_pushcclosure(L, open_and_call, 1);
  b->limit = limit;
  int status = lua_pcall(L, 0, 1, 0);
  reset_limits(b);
  const char *s = lua_tostring(L, -1);
  snprintf(out, outsize, "%s", s ? s : lua_typename(L, lua_type(L, -1)));
  lua_settop(L, top);
  return status;
}

/* Out-of-memory errors raised by code (the binding's "not enough memory",
 * status LUA_ERRRUN) rather than by Lua's allocator (LUA_ERRMEM). */
static int raised_by_code;

/* Whether msg is the error of a refused allocation: "not enough memory"; Lua
 * 5.3's own string buffers (luaL_Buffer: string.format, table.concat, ...)
 * say it their way (after the position of a Lua line that called them). */
static int out_of_memory_message(const char *msg) {
  if (strcmp(msg, "not enough memory") == 0) return 1;
#if LUA_VERSION_NUM == 503
  const char *buffer = "not enough memory for buffer allocation";
  size_t n = strlen(msg), m = strlen(buffer);
  return n >= m && strcmp(msg + n - m, buffer) == 0;
#else
  return 0;
#endif
}

/* A fresh state whose memory is capped at limit: runs the workload, then
 * (limit lifted) the recovery step, then closes. Returns whether the
 * workload ran out of memory. */
static int run_limited(size_t limit, const char *expect_workload, const char *expect_recover,
                       char *refused_in, size_t refused_in_size) {
  budget b = {0};
  reset_limits(&b);
  lua_State *L = lua_newstate(capped_alloc, &b);
  if (!L) {
    CHECK(0, "lua_newstate failed");
    return 0;
  }
  lua_atpanic(L, panic);
  char msg[4096];
  int status = call_script(L, "workload", limit, msg, sizeof msg);
  int ran_out = status != LUA_OK;
  raised_by_code += status == LUA_ERRRUN;
  snprintf(refused_in, refused_in_size, "%s", b.refused_in[0] ? b.refused_in : "-");
  if (ran_out) {
    CHECK(out_of_memory_message(msg), "limit %zu: the workload failed with \"%s\" (status %d)", limit, msg,
          status);
    CHECK(b.refused > 0, "limit %zu: an error without any refusal: %s", limit, msg);
  } else {
    CHECK(strcmp(msg, expect_workload) == 0, "limit %zu: the workload gave %s instead of %s", limit, msg,
          expect_workload);
  }
  status = call_script(L, "recover", SIZE_MAX, msg, sizeof msg);
  CHECK(status == LUA_OK && strcmp(msg, expect_recover) == 0,
        "limit %zu: after running out of memory (in phase %s) the state does not recover: %s", limit,
        refused_in, msg);
  lua_close(L);
  CHECK(b.live == 0 && b.blocks == 0, "limit %zu (ran out in phase %s): %zu bytes in %zu blocks not freed",
        limit, refused_in, b.live, b.blocks);
  CHECK(b.bad_sizes == 0, "limit %zu: %lu frees/reallocs with a wrong old size", limit, b.bad_sizes);
  return ran_out;
}

int main(int argc, char **argv) {
  script_path = argc > 1 ? argv[1] : HOST_SCRIPT_DIR "/memory.lua";
  int steps = argc > 2 ? atoi(argv[2]) : 10;
  if (steps < 1) steps = 1;
  if (argc > 3 && atoi(argv[3]) > 0) samples = atoi(argv[3]);

  /* The reference: no limit. */
  char workload[4096], recover[4096], inject[4096];
  budget b = {0};
  reset_limits(&b);
  lua_State *L = lua_newstate(capped_alloc, &b);
  if (!L) return fprintf(stderr, "lua_newstate failed\n"), 1;
  lua_atpanic(L, panic);
  if (call_script(L, "workload", SIZE_MAX, workload, sizeof workload) != LUA_OK) {
    fprintf(stderr, "the workload fails with no limit: %s\n", workload);
    return 1;
  }
  size_t peak = b.peak;
  if (call_script(L, "recover", SIZE_MAX, recover, sizeof recover) != LUA_OK) {
    fprintf(stderr, "the recovery step fails with no limit: %s\n", recover);
    return 1;
  }
  /* Injection (memory.lua's own checks): every allocation of each scenario fails once. */
  int status = call_script(L, "inject", SIZE_MAX, inject, sizeof inject);
  CHECK(status == LUA_OK, "injection: %s", inject);
  if (status == LUA_OK) printf("injection: %s\n", inject);
  lua_close(L);
  CHECK(b.live == 0 && b.blocks == 0, "reference state: %zu bytes in %zu blocks not freed", b.live, b.blocks);
  CHECK(b.bad_sizes == 0, "reference state: %lu frees/reallocs with a wrong old size", b.bad_sizes);
  printf("workload: %s (peak %zu KB)\nrecovery step: %s\n", workload, peak / 1024, recover);

  /* The sweep: limits from 50 KB to just past the peak, in steps (each
   * nudged by a few hundred bytes so they do not all fall on round sizes). */
  size_t lo = 50 * 1024, hi = peak + peak / 8, step = (hi - lo) / (size_t)steps + 1;
  int ran_out = 0, distinct = 0, runs = 0, in_a_row = 0;
  char seen[64][32];
  for (int i = 0; i <= steps && in_a_row < 3; i++, runs++) {
    size_t limit = lo + (size_t)i * step + (size_t)(i * 397 % 1024);
    char where[32];
    int out = run_limited(limit, workload, recover, where, sizeof where);
    ran_out += out;
    in_a_row = out ? 0 : in_a_row + 1;
    printf("limit %7zu KB: %s%s\n", limit / 1024, out ? "not enough memory in " : "completed",
           out ? where : "");
    int known = 0;
    for (int k = 0; k < distinct; k++) known |= strcmp(seen[k], where) == 0;
    if (out && !known && distinct < 64) snprintf(seen[distinct++], sizeof seen[0], "%s", where);
  }
  printf("%d of %d limits ran out of memory, in %d different phases (%d raised by C code, the rest by Lua's "
         "allocator)\n",
         ran_out, runs, distinct, raised_by_code);
  CHECK(in_a_row > 0, "even the largest limit ran out of memory");
  /* 10-11 phases on Lua 5.4 and 5.3; 9-10 on 5.1, where a phase or two is
   * hit by a single limit of the sweep or not at all, depending on the run */
  CHECK(distinct >= (steps >= 50 ? 8 : 5), "memory ran out in only %d phases", distinct);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("host memory: all checks passed\n");
  return 0;
}
