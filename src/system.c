/*
 * system.c - the few things the Lua modules need from the operating system
 * that stock Lua lacks: a monotonic clock, "is this a terminal?", and running
 * a program (Graphviz's dot) with an argument vector, never through a shell.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "binding.h"

extern char **environ;

/* core.clock(): seconds from a monotonic clock, as a float. */
static int system_clock(lua_State *L) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return luaL_error(L, "clock: %s", strerror(errno));
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* core.isatty(file): whether an io library file (io.stdout, ...) is a terminal. */
static int system_isatty(lua_State *L) {
  luaL_Stream *s = luaL_testudata(L, 1, LUA_FILEHANDLE);
  if (!s) return mg_type_error(L, 1, "isatty", "file");
  lua_pushboolean(L, s->closef != NULL && s->f != NULL && isatty(fileno(s->f)));
  return 1;
}

/* core.terminal_width(file): the columns of the terminal a file writes to
 * (TIOCGWINSZ), or nil when it is not a terminal or does not say. */
static int system_terminal_width(lua_State *L) {
  luaL_Stream *s = luaL_testudata(L, 1, LUA_FILEHANDLE);
  if (!s) return mg_type_error(L, 1, "terminal_width", "file");
  struct winsize ws;
  if (s->closef != NULL && s->f != NULL && ioctl(fileno(s->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    lua_pushinteger(L, ws.ws_col);
  else
    lua_pushnil(L);
  return 1;
}

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
  char msg[2048]; /* stderr, truncated */
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

/* Feeds input to the child and collects its stdout into b, its stderr into
 * c->msg, until both close. */
static void exchange(child *c, const char *input, size_t len, luaL_Buffer *b) {
  size_t written = 0;
  if (len == 0) close_fd(&c->in);
  while (c->in >= 0 || c->out >= 0 || c->err >= 0) {
    struct pollfd p[3] = {{c->in, POLLOUT, 0}, {c->out, POLLIN, 0}, {c->err, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
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
      char scratch[512];
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
}

/* core.run(argv [, input]): runs argv[1] (searched in PATH) with arguments
 * argv[2..] and input on its standard input; no shell is involved. Returns
 * the exit status (nil and a message when it cannot start), stdout, stderr. */
static int system_run(lua_State *L) {
  /* Only in a state that has the io library: a host that left it out (a
   * sandbox) gets no programs run and no files written behind its back. The
   * registry's file-handle metatable is made by luaopen_io alone, and scripts
   * cannot forge it. */
  if (luaL_getmetatable(L, LUA_FILEHANDLE) == LUA_TNIL)
    return luaL_error(L, "run needs the io library (this state was opened without it)");
  lua_pop(L, 1);
  if (lua_type(L, 1) != LUA_TTABLE) return mg_type_error(L, 1, "run", "table");
  size_t len = 0;
  const char *input = luaL_optlstring(L, 2, "", &len);
  int argc = (int)lua_rawlen(L, 1);
  if (argc < 1 || argc > 1000) return mg_arg_error(L, 1, "run", "1 to 1000 arguments expected");
  lua_settop(L, 2);
  const char **argv = lua_newuserdatauv(L, sizeof(char *) * ((size_t)argc + 1), 0); /* 3 */
  for (int i = 0; i < argc; i++) {
    lua_rawgeti(L, 1, i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      return mg_arg_error(L, 1, "run", lua_pushfstring(L, "string expected at index %d", i + 1));
    argv[i] = lua_tostring(L, -1); /* the table keeps the string alive */
    lua_pop(L, 1);
  }
  argv[argc] = NULL;

  /* 4: the child, to be closed; every allocation before the pipes exist */
  child *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->in = c->out = c->err = -1;
  if (luaL_newmetatable(L, "micrograd.child")) {
    lua_pushcfunction(L, child_close);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, 4);
  lua_toclose(L, 4);
  luaL_Buffer b;
  luaL_buffinit(L, &b);

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe(in) || pipe(out) || pipe(err)) {
    int e = errno;
    for (int i = 0; i < 2; i++) close_fd(&in[i]), close_fd(&out[i]), close_fd(&err[i]);
    lua_pushnil(L);
    lua_pushfstring(L, "cannot make pipes: %s", strerror(e));
    return 2;
  }
  c->in = in[1], c->out = out[0], c->err = err[0];
  for (int i = 0; i < 2; i++) {
    fcntl(in[i], F_SETFD, FD_CLOEXEC), fcntl(out[i], F_SETFD, FD_CLOEXEC), fcntl(err[i], F_SETFD, FD_CLOEXEC);
  }
  fcntl(c->in, F_SETFL, O_NONBLOCK); /* our end: a large input must not block while output waits */
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid;
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
  exchange(c, input, len, &b);
  finish(c, 0);
  luaL_pushresult(&b);
  lua_pushinteger(L, WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status));
  lua_insert(L, -2);
  lua_pushlstring(L, c->msg, c->msg_len);
  return 3;
}

void mg_register_system(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {{"clock", system_clock},
                                       {"isatty", system_isatty},
                                       {"terminal_width", system_terminal_width},
                                       {"run", system_run},
                                       {NULL, NULL}};
  mg_setfuncs(L, module, functions, upvalues);
}
