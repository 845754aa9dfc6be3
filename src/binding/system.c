/*
 * system.c - the few things the Lua modules need from the operating system
 * that stock Lua lacks: a monotonic clock, "is this a terminal?", running a
 * program (Graphviz's dot) with an argument vector and a time limit, never
 * through a shell, and writing a file atomically.
 *
 * They make the internal module micrograd._system (viz and train use it;
 * micrograd.core, the engine, has none of them). Running a
 * program and writing a file are capabilities: each call checks that the
 * calling script could have done the same itself, i.e. that the real io.popen
 * or os.execute (to run) or io.open (to write) of this Lua is reachable
 * through the global table or package.loaded. "Real" is checked by the C
 * function's address, taken from a scratch state, so a table a script made
 * up does not count, and a host that removed io and os from both places gets
 * no program started and no file written.
 */
#define _GNU_SOURCE /* pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lualib.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "binding.h"

extern char **environ;

/* _system.clock(): seconds from a monotonic clock, as a float. */
static int system_clock(lua_State *L) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return luaL_error(L, "clock: %s", strerror(errno));
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* _system.isatty(file): whether an io library file (io.stdout, ...) is a terminal. */
static int system_isatty(lua_State *L) {
  FILE *f;
  if (!mg_tofile(L, 1, &f)) return mg_type_error(L, 1, "isatty", "file");
  lua_pushboolean(L, f != NULL && isatty(fileno(f)));
  return 1;
}

/* _system.terminal_width(file): the columns of the terminal a file writes to
 * (TIOCGWINSZ), or nil when it is not a terminal or does not say. */
static int system_terminal_width(lua_State *L) {
  FILE *f;
  if (!mg_tofile(L, 1, &f)) return mg_type_error(L, 1, "terminal_width", "file");
  struct winsize ws;
  if (f != NULL && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    lua_pushinteger(L, ws.ws_col);
  else
    lua_pushnil(L);
  return 1;
}

/* ---- capabilities ---------------------------------------------------------- */

/* The C functions behind io.open, io.popen and os.execute in this Lua. */
typedef struct real_functions {
  lua_CFunction open, popen, execute;
} real_functions;

static lua_CFunction field_function(lua_State *S, const char *name) {
  lua_getfield(S, -1, name);
  lua_CFunction f = lua_tocfunction(S, -1);
  lua_pop(S, 1);
  return f;
}

static int scratch_functions(lua_State *S) {
  real_functions *r = lua_touserdata(S, 1);
  lua_pushcfunction(S, luaopen_io);
  lua_call(S, 0, 1);
  r->open = field_function(S, "open");
  r->popen = field_function(S, "popen");
  lua_pushcfunction(S, luaopen_os);
  lua_call(S, 0, 1);
  r->execute = field_function(S, "execute");
  return 0;
}

/* Raises the error Lua raises for a refused allocation. */
static _Noreturn void no_memory(lua_State *L) {
  lua_pushliteral(L, "not enough memory");
  lua_error(L);
  MG_UNREACHABLE();
}

/* Fills r from a scratch state made with L's allocator (so a host's memory
 * limit applies; 5.1 and LuaJIT: see below); opening the libraries there
 * changes nothing in L. */
static void get_real_functions(lua_State *L, real_functions *r) {
  memset(r, 0, sizeof *r);
#if LUA_VERSION_NUM < 502
  /* A state of its own allocator: LuaJIT's lua_close frees its built-in
   * allocator's whole arena, which a state made with L's would share with L;
   * and 5.1's io library, refused an allocation while it wraps stdin, stdout
   * or stderr, lets lua_close fclose the process's own stream. */
  lua_State *S = luaL_newstate();
#else
  void *ud;
  lua_Alloc alloc = lua_getallocf(L, &ud);
  lua_State *S = lua_newstate(alloc, ud);
#endif
  if (!S) no_memory(L);
#if LUA_VERSION_NUM >= 502
  lua_pushcfunction(S, scratch_functions); /* a light C function: allocates nothing */
  lua_pushlightuserdata(S, r);
  int status = lua_pcall(S, 1, 0, 0);
#else
  /* 5.1's lua_pushcfunction allocates a closure: a refusal outside a
   * protected call would end the process (lua_cpcall protects it). */
  int status = lua_cpcall(S, scratch_functions, r);
#endif
  lua_close(S);
  if (status != LUA_OK) no_memory(L);
}

/* Whether the table at the top of the stack has lib.name == fn (read as the
 * script would read it: metamethods may run); pops that table. */
static int table_has(lua_State *L, const char *lib, const char *name, lua_CFunction fn) {
  int top = lua_gettop(L), found = 0;
  if (lua_type(L, -1) == LUA_TTABLE && lua_getfield(L, -1, lib) == LUA_TTABLE) {
    lua_getfield(L, -1, name);
    found = fn != NULL && lua_tocfunction(L, -1) == fn;
  }
  lua_settop(L, top - 1);
  return found;
}

/* Whether a script of L can reach fn as lib.name: as a global, or through
 * package.loaded (the registry's _LOADED, which package.loaded is). */
static int reachable(lua_State *L, const char *lib, const char *name, lua_CFunction fn) {
  lua_pushglobaltable(L);
  if (table_has(L, lib, name, fn)) return 1;
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  return table_has(L, lib, name, fn);
}

typedef enum { CAN_RUN, CAN_WRITE } capability;

static int capable(lua_State *L, capability what) {
  real_functions r;
  get_real_functions(L, &r);
  if (what == CAN_WRITE) return reachable(L, "io", "open", r.open);
  return reachable(L, "io", "popen", r.popen) || reachable(L, "os", "execute", r.execute);
}

static const char *const refusals[] = {
    "this script cannot start programs (neither io.popen nor os.execute is within its reach)",
    "this script cannot write files (io.open is not within its reach)"};

/* _system.can(what): true when the calling script could itself start a
 * program (what = "run") or write a file ("write"); else false and why. */
static int system_can(lua_State *L) {
  static const char *const names[] = {"run", "write", NULL};
  capability what = (capability)luaL_checkoption(L, 1, NULL, names);
  if (capable(L, what)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  lua_pushstring(L, refusals[what]);
  return 2;
}

/* ---- running a program ----------------------------------------------------- */

/* A running program: our pipe ends and its pid, in a to-be-closed userdata
 * so that an error (out of memory while collecting its output) still closes
 * the pipes, reaps the child and unblocks SIGPIPE. */
typedef struct child {
  int in, out, err; /* our pipe ends, -1 once closed */
  pid_t pid;        /* 0 once waited for */
  int status;       /* its wait status */
  int blocked;      /* SIGPIPE blocked here by us */
  int was_pending;  /* SIGPIPE was pending before */
  sigset_t old_mask;
  char msg[MG_RUN_STDERR_KEPT]; /* stderr, truncated */
  size_t msg_len;
} child;

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd), *fd = -1;
}

/* Unblocks SIGPIPE, taking off a SIGPIPE our writes raised. */
static void unblock_sigpipe(child *c) {
  if (!c->blocked) return;
  sigset_t pipe_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  if (!c->was_pending) {
    struct timespec zero = {0, 0};
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &c->old_mask, NULL);
  c->blocked = 0;
}

/* Closes everything and waits for the child; killed first when abandoned. */
static void finish(child *c, int abandon) {
  close_fd(&c->in), close_fd(&c->out), close_fd(&c->err);
  unblock_sigpipe(c);
  if (c->pid > 0) {
    if (abandon) kill(c->pid, SIGKILL);
    while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR) {
    }
    c->pid = 0;
  }
}

static int child_close(lua_State *L) {
  finish(lua_touserdata(L, 1), 1);
  return 0;
}

/* Seconds on the monotonic clock. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Feeds input to the child and collects its stdout into b, its stderr into
 * c->msg, until both close or the deadline (a time of now(), or HUGE_VAL)
 * passes; returns 0 when it passed. */
static int exchange(child *c, const char *input, size_t len, luaL_Buffer *b, double deadline) {
  size_t written = 0;
  if (len == 0) close_fd(&c->in);
  while (c->in >= 0 || c->out >= 0 || c->err >= 0) {
    struct pollfd p[3] = {{c->in, POLLOUT, 0}, {c->out, POLLIN, 0}, {c->err, POLLIN, 0}};
    int wait_ms = -1;
    if (deadline < HUGE_VAL) {
      double left = deadline - now();
      if (left <= 0) return 0;
      wait_ms = left > 1e6 ? 1000000000 : (int)(left * 1000) + 1;
    }
    int ready = poll(p, 3, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) continue; /* the deadline is checked above */
    if (c->in >= 0 && p[0].revents) {
      ssize_t k = (p[0].revents & POLLOUT) ? write(c->in, input + written, len - written) : -1;
      if (k > 0) written += (size_t)k;
      if ((k < 0 && errno != EAGAIN && errno != EINTR) || written == len) close_fd(&c->in);
    }
    if (c->out >= 0 && p[1].revents) {
      char *buf = luaL_prepbuffer(b); /* may raise "not enough memory": child_close cleans up */
      ssize_t k = read(c->out, buf, LUAL_BUFFERSIZE);
      if (k > 0)
        luaL_addsize(b, (size_t)k);
      else if (k == 0 || errno != EINTR)
        close_fd(&c->out);
    }
    if (c->err >= 0 && p[2].revents) {
      char scratch[MG_RUN_READ_CHUNK];
      ssize_t k = read(c->err, scratch, sizeof scratch);
      if (k > 0) {
        size_t room = sizeof c->msg - 1 - c->msg_len, n = (size_t)k < room ? (size_t)k : room;
        memcpy(c->msg + c->msg_len, scratch, n);
        c->msg_len += n;
      } else if (k == 0 || errno != EINTR) {
        close_fd(&c->err);
      }
    }
  }
  return 1;
}

/* Waits for the child until the deadline; 0 when it is still running then. */
static int wait_until(child *c, double deadline) {
  if (deadline >= HUGE_VAL) return 1;
  while (c->pid > 0) {
    pid_t r = waitpid(c->pid, &c->status, WNOHANG);
    if (r == c->pid || (r < 0 && errno != EINTR)) {
      c->pid = 0;
      break;
    }
    double left = deadline - now();
    if (left <= 0) return 0;
    struct timespec pause = {0, left < 0.01 ? (long)(left * 1e9) + 1 : 10000000L};
    nanosleep(&pause, NULL);
  }
  return 1;
}

/* The rest of system_run, from a stack of 1: the private copy of the
 * arguments, 2: the input, 3: argv, 4: the child, 5: the timeout. */
static int run_child(lua_State *L) {
  size_t len = 0;
  const char *input = luaL_optlstring(L, 2, "", &len);
  const char **argv = lua_touserdata(L, 3);
  child *c = lua_touserdata(L, 4);
  double timeout = lua_tonumber(L, 5);
  luaL_Buffer b;
  luaL_buffinit(L, &b);

  /* Close-on-exec from the start: a program another thread starts meanwhile
   * inherits none of them (the child gets its copies through dup2). */
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    int e = errno;
    for (int i = 0; i < 2; i++) close_fd(&in[i]), close_fd(&out[i]), close_fd(&err[i]);
    lua_pushnil(L);
    lua_pushfstring(L, "cannot make pipes: %s", strerror(e));
    return 2;
  }
  c->in = in[1], c->out = out[0], c->err = err[0];
  fcntl(c->in, F_SETFL, O_NONBLOCK); /* our end: a large input must not block while output waits */
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid;
  double deadline = timeout >= HUGE_VAL ? HUGE_VAL : now() + timeout;
  int rc = posix_spawnp(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]), close(out[1]), close(err[1]);
  if (rc != 0) {
    finish(c, 0);
    lua_pushnil(L);
    lua_pushfstring(L, "cannot run %s: %s", argv[0], strerror(rc));
    return 2;
  }
  c->pid = pid;
  /* A child that exits before reading all its input must not kill us with
   * SIGPIPE: write() then fails with EPIPE instead. The signal is blocked in
   * this thread only (the process-wide disposition belongs to the host, and
   * other threads may be running programs too). Blocked after the spawn: the
   * child must not inherit the mask. */
  sigset_t pipe_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigpending(&pending);
  c->was_pending = sigismember(&pending, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &c->old_mask);
  c->blocked = 1;
  int in_time = exchange(c, input, len, &b, deadline);
  close_fd(&c->in), close_fd(&c->out), close_fd(&c->err);
  if (in_time) in_time = wait_until(c, deadline);
  finish(c, !in_time); /* killed when late */
  if (!in_time) {
    lua_pushboolean(L, 0);
    lua_pushfstring(L, "%s did not finish in time and was killed", argv[0]);
    return 2;
  }
  luaL_pushresult(&b);
  lua_pushinteger(L, WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status));
  lua_insert(L, -2);
  lua_pushlstring(L, c->msg, c->msg_len);
  return 3;
}

/* _system.run(argv [, input [, timeout]]): runs argv[1] (searched in PATH)
 * with arguments argv[2..] and input on its standard input; no shell is
 * involved. Returns the exit status, stdout and stderr; nil and a message
 * when it cannot start; false and a message when it ran longer than timeout
 * seconds (default: no limit), in which case it was killed. Only for a
 * script that could start a program itself (see the top of this file). */
static int system_run(lua_State *L) {
  if (lua_type(L, 1) != LUA_TTABLE) return mg_type_error(L, 1, "run", "table");
  luaL_optlstring(L, 2, "", NULL); /* a string (a number becomes one in place) or nil */
  double timeout = HUGE_VAL;
  if (!lua_isnoneornil(L, 3)) {
    int ok;
    timeout = (double)lua_tonumberx(L, 3, &ok);
    if (!ok || !(timeout > 0)) return mg_arg_error(L, 3, "run", "timeout in seconds (a number > 0) expected");
  }
  int argc = (int)lua_rawlen(L, 1);
  if (argc < 1 || argc > MG_RUN_MAX_ARGS)
    return mg_arg_error(L, 1, "run", lua_pushfstring(L, "1 to %d arguments expected", MG_RUN_MAX_ARGS));
  /* Checked at each call, before any pointer into the arguments is taken:
   * the check reads the globals, and their metamethods may run Lua code
   * (which could change the argument table). What follows runs none. */
  if (!capable(L, CAN_RUN)) return luaL_error(L, "run: %s", refusals[CAN_RUN]);
  lua_settop(L, 2);
  /* The strings are kept by a copy of the table that no Lua code can reach: a
   * finalizer run by an allocation below may empty the caller's table. */
  lua_createtable(L, argc, 0);
  for (int i = 1; i <= argc; i++) {
    if (lua_rawgeti(L, 1, i) != LUA_TSTRING)
      return mg_arg_error(L, 1, "run", lua_pushfstring(L, "string expected at index %d", i));
    lua_rawseti(L, -2, i);
  }
  lua_replace(L, 1);
  const char **argv = mg_newuserdatauv(L, sizeof(char *) * ((size_t)argc + 1), 0); /* 3 */
  for (int i = 0; i < argc; i++) {
    lua_rawgeti(L, 1, i + 1);
    size_t n;
    argv[i] = lua_tolstring(L, -1, &n); /* the private copy keeps the string alive */
    if (strlen(argv[i]) != n)
      return mg_arg_error(L, 1, "run", lua_pushfstring(L, "string with a NUL byte at index %d", i + 1));
    lua_pop(L, 1);
  }
  argv[argc] = NULL;

  /* 4: the child, to be closed; every allocation before the pipes exist */
  child *c = mg_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->in = c->out = c->err = -1;
  if (luaL_newmetatable(L, "micrograd.child")) {
    lua_pushcfunction(L, child_close);
    lua_setfield(L, -2, "__close");
#if !MG_HAS_CLOSE /* an error: closed when collected instead (finish does its work once) */
    lua_pushcfunction(L, child_close);
    lua_setfield(L, -2, "__gc");
#endif
  }
  lua_setmetatable(L, 4);
  lua_pushnumber(L, timeout); /* 5 */
#if MG_HAS_CLOSE
  lua_toclose(L, 4);
  return run_child(L);
#else
  /* No to-be-closed slot: the child runs in a protected call, and whatever
   * happens in it (a refused allocation, say) is cleaned up here at once. */
  lua_pushcfunction(L, run_child);
  lua_insert(L, 1);
  int status = lua_pcall(L, 5, LUA_MULTRET, 0);
  finish(c, 1); /* done already unless run_child raised */
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L);
#endif
}

/* ---- writing a file --------------------------------------------------------- */

/* Writes all of text to fd; 0 or an errno value. */
static int write_all(int fd, const char *text, size_t len) {
  while (len > 0) {
    ssize_t k = write(fd, text, len);
    if (k < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    text += k, len -= (size_t)k;
  }
  return 0;
}

/* Where a write to path goes: the file at the end of its symlinks (target,
 * with its directory dir and its stat st when it exists), or, for a path that
 * names an open file of this process (/dev/stdout, /dev/fd/N, /proc/...),
 * nowhere but in place. */
typedef struct destination {
  char target[PATH_MAX], dir[PATH_MAX];
  int exists, in_place;
  struct stat st;
} destination;

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* 0 or an errno value. */
static int resolve(const char *path, destination *d) {
  char cur[PATH_MAX];
  size_t plen = strlen(path);
  if (plen >= sizeof cur) return ENAMETOOLONG;
  memcpy(cur, path, plen + 1);
  for (int hops = 0; hops < 40; hops++) {
    char *slash = strrchr(cur, '/');
    const char *base = slash ? slash + 1 : cur;
    if (*base == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) return EISDIR;
    char dir[PATH_MAX];
    if (!slash)
      strcpy(dir, ".");
    else if (slash == cur)
      strcpy(dir, "/");
    else
      snprintf(dir, sizeof dir, "%.*s", (int)(slash - cur), cur);
    if (!realpath(dir, d->dir)) return errno;
    if ((size_t)snprintf(d->target, sizeof d->target, "%s/%s", strcmp(d->dir, "/") ? d->dir : "", base) >=
        sizeof d->target)
      return ENAMETOOLONG;
    if (starts_with(d->target, "/proc/") || starts_with(d->target, "/dev/fd/") ||
        strcmp(d->target, "/dev/stdout") == 0 || strcmp(d->target, "/dev/stderr") == 0 ||
        strcmp(d->target, "/dev/stdin") == 0) {
      d->in_place = 1;
      return 0;
    }
    if (lstat(d->target, &d->st) != 0) {
      if (errno != ENOENT) return errno;
      d->exists = 0;
      return 0;
    }
    if (!S_ISLNK(d->st.st_mode)) {
      d->exists = 1;
      d->in_place = !S_ISREG(d->st.st_mode);
      return 0;
    }
    char link[PATH_MAX];
    ssize_t n = readlink(d->target, link, sizeof link - 1);
    if (n < 0) return errno;
    link[n] = 0;
    if (link[0] == '/') {
      memcpy(cur, link, (size_t)n + 1);
    } else if ((size_t)snprintf(cur, sizeof cur, "%s/%s", d->dir, link) >= sizeof cur) {
      return ENAMETOOLONG;
    }
  }
  return ELOOP;
}

/* Writes text over the file at path in place (a device, a FIFO, stdout). */
static int write_in_place(const char *path, const char *text, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
  if (fd < 0) return errno;
  int e = write_all(fd, text, len);
  if (close(fd) != 0 && e == 0 && errno != EINTR) e = errno;
  return e;
}

/* Writes text to a new file beside d->target, then renames it over the
 * target: the old file stays whole until the new one is complete on disk. */
static int write_atomically(const destination *d, const char *text, size_t len) {
  if (d->exists && access(d->target, W_OK) != 0) return errno; /* what io.open would say */
  const char *base = strrchr(d->target, '/') + 1;
  char tmp[PATH_MAX + 64];
  int fd = -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long seed =
      (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^ (unsigned long)(size_t)&ts;
  for (int attempt = 0; fd < 0 && attempt < MG_TEMP_NAME_ATTEMPTS; attempt++) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%.200s.%08lx.tmp", strcmp(d->dir, "/") ? d->dir : "", base,
                         (seed >> 32) & 0xffffffffUL) >= sizeof tmp)
      return ENAMETOOLONG;
    mode_t mode = d->exists ? (d->st.st_mode & 07777) : 0666; /* new files: 0666 less the umask, as fopen */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
    if (fd < 0 && errno != EEXIST) return errno;
  }
  if (fd < 0) return EEXIST;
  int e = 0;
  if (d->exists) {
    if (fchmod(fd, d->st.st_mode & 07777) != 0) e = errno; /* the umask may have taken bits off */
    if (fchown(fd, d->st.st_uid, d->st.st_gid) != 0) {     /* keeps the owner when we may */
    }
  }
  if (!e) e = write_all(fd, text, len);
  if (!e && fsync(fd) != 0 && errno != EINVAL) e = errno;
  if (close(fd) != 0 && !e && errno != EINTR) e = errno;
  if (!e && rename(tmp, d->target) != 0) e = errno;
  if (e) {
    unlink(tmp);
    return e;
  }
  int dfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) fsync(dfd), close(dfd); /* the rename on disk too, where the file system can */
  return 0;
}

/* _system.write_file(path, text): writes text to path atomically (see
 * micrograd._file); returns true, or nil and "path: reason". Only for a
 * script that could write the file itself. */
static int system_write_file(lua_State *L) {
  size_t plen, len;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *text = luaL_checklstring(L, 2, &len);
  if (strlen(path) != plen) return mg_arg_error(L, 1, "write_file", "path with a NUL byte");
  if (!capable(L, CAN_WRITE)) return luaL_error(L, "write_file: %s", refusals[CAN_WRITE]);
  destination *d = mg_newuserdatauv(L, sizeof *d, 0); /* large: not on the C stack */
  memset(d, 0, sizeof *d);
  int e = resolve(path, d);
  if (!e) e = d->in_place ? write_in_place(path, text, len) : write_atomically(d, text, len);
  if (e) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* The internal module micrograd._system. */
int mg_open_system(lua_State *L) {
  static const luaL_Reg functions[] = {{"clock", system_clock},
                                       {"isatty", system_isatty},
                                       {"terminal_width", system_terminal_width},
                                       {"run", system_run},
                                       {"can", system_can},
                                       {"write_file", system_write_file},
                                       {NULL, NULL}};
  luaL_newlib(L, functions);
  return 1;
}

/* micrograd._system in package.preload for the modules that need it (the
 * engine's own module, micrograd.core, has no operating-system helpers). */
void mg_register_system(lua_State *L, int module, int upvalues) {
  (void)module, (void)upvalues;
  mg_push_preload(L);
  lua_pushcfunction(L, mg_open_system);
  lua_setfield(L, -2, "micrograd._system");
  lua_pop(L, 1);
}
