/*
 * host_threads.c - states in different threads train independently.
 *
 * Each thread makes its own lua_State (luaL_newstate, luaL_openlibs,
 * mg_openlibs) and runs threads.lua's run(seed): dynamic training of the moons
 * classifier, a compiled graph trained with run_batch, a compiled Trainer in
 * slices. First every seed runs alone, one after the other, for the
 * reference; then all at once, one thread per seed, several rounds; every
 * thread's result must be the reference's, bit for bit. Under
 * ThreadSanitizer (tests/host/tsan.sh) this also shows that no C state is
 * shared between lua_States. Last, every thread runs programs at the same
 * time (_system.run, as viz.render does) that stop reading their input early:
 * the process's SIGPIPE handling (here a handler of the host's) must be what
 * it was.
 *
 *   host_threads [threads.lua [threads [rounds [steps]]]]
 */
#define _POSIX_C_SOURCE 200809L

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat.h"
#include "micrograd.h"

#ifndef HOST_SCRIPT_DIR
#define HOST_SCRIPT_DIR "tests/host"
#endif

#define MAX_THREADS 16

static const char *script_path;
static int steps = 40;

typedef struct job {
  int seed;     /* 0: run programs instead of training */
  char *result; /* malloc'd: run(seed)'s text, or "error: ..." */
  pthread_barrier_t *start;
  double seconds;
} job;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *copy(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  if (c) memcpy(c, s, n);
  return c;
}

/* The protected part: open everything, load the script, call run(seed,
 * steps) or programs(steps). */
static int run_script(lua_State *L) {
  int seed = (int)lua_tointeger(L, 1);
  luaL_openlibs(L);
  mg_openlibs(L);
  if (luaL_loadfilex(L, script_path, "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  lua_getfield(L, -1, seed ? "run" : "programs");
  if (seed) lua_pushinteger(L, seed);
  lua_pushinteger(L, steps);
  lua_call(L, seed ? 2 : 1, 1);
  return 1;
}

static volatile sig_atomic_t sigpipes; /* the host's handler: counts */

static void on_sigpipe(int sig) {
  (void)sig;
  sigpipes++;
}

/* SIGPIPE's handler and whether the calling thread blocks it. */
static void sigpipe_state(void (**handler)(int), int *blocked) {
  struct sigaction sa;
  sigset_t mask;
  sigaction(SIGPIPE, NULL, &sa);
  pthread_sigmask(SIG_BLOCK, NULL, &mask);
  *handler = sa.sa_handler, *blocked = sigismember(&mask, SIGPIPE);
}

static void run_job(job *j) {
  lua_State *L = luaL_newstate();
  if (!L) {
    j->result = copy("error: luaL_newstate failed");
    return;
  }
  double t0 = now();
  lua_pushcfunction(L, run_script);
  lua_pushinteger(L, j->seed);
  int status = lua_pcall(L, 1, 1, 0);
  const char *s = lua_tostring(L, -1);
  if (status == LUA_OK && s) {
    j->result = copy(s);
  } else {
    char buf[1024];
    snprintf(buf, sizeof buf, "error: %s", s ? s : "(not a string)");
    j->result = copy(buf);
  }
  lua_close(L);
  j->seconds = now() - t0;
}

static void *thread_main(void *arg) {
  job *j = arg;
  pthread_barrier_wait(j->start); /* all threads train at the same time */
  run_job(j);
  return NULL;
}

int main(int argc, char **argv) {
  script_path = argc > 1 ? argv[1] : HOST_SCRIPT_DIR "/threads.lua";
  int nthreads = argc > 2 ? atoi(argv[2]) : 3;
  int rounds = argc > 3 ? atoi(argv[3]) : 2;
  if (argc > 4) steps = atoi(argv[4]);
  if (nthreads < 2 || nthreads > MAX_THREADS || rounds < 1 || steps < 1) {
    fprintf(stderr, "usage: host_threads [threads.lua [threads (2-%d) [rounds [steps]]]]\n", MAX_THREADS);
    return 2;
  }
  int failures = 0;

  /* The reference: each seed alone. */
  char *reference[MAX_THREADS];
  double alone = 0;
  for (int i = 0; i < nthreads; i++) {
    job j = {1000 + i, NULL, NULL, 0};
    run_job(&j);
    if (!j.result || strncmp(j.result, "error", 5) == 0) {
      fprintf(stderr, "seed %d alone: %s\n", j.seed, j.result ? j.result : "out of memory");
      return 1;
    }
    reference[i] = j.result;
    alone += j.seconds;
  }
  for (int i = 1; i < nthreads; i++) {
    if (strcmp(reference[i], reference[0]) == 0) {
      fprintf(stderr, "seeds %d and %d give the same result: the test would see nothing\n", 1000, 1000 + i);
      return 1;
    }
  }

  /* Then together. */
  for (int r = 0; r < rounds; r++) {
    pthread_t threads[MAX_THREADS];
    job jobs[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads);
    double t0 = now();
    for (int i = 0; i < nthreads; i++) {
      jobs[i] = (job){1000 + i, NULL, &start, 0};
      if (pthread_create(&threads[i], NULL, thread_main, &jobs[i]) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
      }
    }
    for (int i = 0; i < nthreads; i++) pthread_join(threads[i], NULL);
    double wall = now() - t0;
    pthread_barrier_destroy(&start);
    for (int i = 0; i < nthreads; i++) {
      if (!jobs[i].result || strcmp(jobs[i].result, reference[i]) != 0) {
        fprintf(stderr, "FAIL round %d, seed %d: in a thread beside others it gives\n  %s\nalone\n  %s\n",
                r + 1, jobs[i].seed, jobs[i].result ? jobs[i].result : "(out of memory)", reference[i]);
        failures++;
      }
      free(jobs[i].result);
    }
    printf("round %d: %d threads in %.3f s (one after the other: %.3f s)\n", r + 1, nthreads, wall, alone);
  }
  for (int i = 0; i < nthreads; i++) free(reference[i]);

  /* Programs in every thread at once, the host having its own SIGPIPE handler. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigpipe;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, NULL);
  {
    pthread_t threads[MAX_THREADS];
    job jobs[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads);
    for (int i = 0; i < nthreads; i++) {
      jobs[i] = (job){0, NULL, &start, 0};
      if (pthread_create(&threads[i], NULL, thread_main, &jobs[i]) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
      }
    }
    for (int i = 0; i < nthreads; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < nthreads; i++) {
      if (!jobs[i].result || strcmp(jobs[i].result, "ok") != 0) {
        fprintf(stderr, "FAIL programs in thread %d: %s\n", i + 1, jobs[i].result ? jobs[i].result : "?");
        failures++;
      }
      free(jobs[i].result);
    }
  }
  void (*handler)(int);
  int blocked;
  sigpipe_state(&handler, &blocked);
  if (handler != on_sigpipe || blocked) {
    fprintf(stderr,
            "FAIL after programs ran in %d threads at once, SIGPIPE is %s%s instead of the host's handler\n",
            nthreads,
            handler == SIG_IGN   ? "ignored"
            : handler == SIG_DFL ? "default"
                                 : "another handler",
            blocked ? " and blocked" : "");
    failures++;
  } else {
    printf(
        "programs: %d threads ran `head -c 1` %d times each; SIGPIPE still the host's (%d delivered to it)\n",
        nthreads, steps, (int)sigpipes);
  }
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("host threads: %d states in %d threads, %d rounds, same bits as alone\n", nthreads, nthreads,
         rounds);
  return 0;
}
