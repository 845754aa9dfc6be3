/*
 * system.c - the few things the Lua modules need from the operating system
 * that stock Lua lacks: a monotonic clock, "is this a terminal?", and running
 * a program (Graphviz's dot) with an argument vector, never through a shell.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
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

/* Where the child's output goes: stdout into a Lua buffer, stderr into a
 * fixed array (its first bytes are enough for an error message). */
typedef struct outputs {
  int out, err;   /* pipe ends, -1 once closed */
  luaL_Buffer *b; /* stdout */
  char msg[2048]; /* stderr, truncated */
  size_t msg_len;
} outputs;

/* Feeds input to fd_in and collects stdout and stderr until both close. */
static void exchange(int fd_in, const char *input, size_t len, outputs *o) {
  size_t written = 0;
  if (len == 0) close(fd_in), fd_in = -1;
  while (fd_in >= 0 || o->out >= 0 || o->err >= 0) {
    struct pollfd p[3] = {{fd_in, POLLOUT, 0}, {o->out, POLLIN, 0}, {o->err, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fd_in >= 0 && p[0].revents) {
      ssize_t k = (p[0].revents & POLLOUT) ? write(fd_in, input + written, len - written) : -1;
      if (k > 0) written += (size_t)k;
      if ((k < 0 && errno != EAGAIN && errno != EINTR) || written == len) close(fd_in), fd_in = -1;
    }
    if (o->out >= 0 && p[1].revents) {
      char *buf = luaL_prepbuffer(o->b);
      ssize_t k = read(o->out, buf, LUAL_BUFFERSIZE);
      if (k > 0)
        luaL_addsize(o->b, (size_t)k);
      else if (k == 0 || errno != EINTR)
        close(o->out), o->out = -1;
    }
    if (o->err >= 0 && p[2].revents) {
      char scratch[512];
      ssize_t k = read(o->err, scratch, sizeof scratch);
      if (k > 0) {
        size_t room = sizeof o->msg - 1 - o->msg_len, n = (size_t)k < room ? (size_t)k : room;
        memcpy(o->msg + o->msg_len, scratch, n);
        o->msg_len += n;
      } else if (k == 0 || errno != EINTR) {
        close(o->err), o->err = -1;
      }
    }
  }
  if (fd_in >= 0) close(fd_in);
}

static void close_pipes(int in[2], int out[2], int err[2]) {
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0) close(in[i]);
    if (out[i] >= 0) close(out[i]);
    if (err[i] >= 0) close(err[i]);
  }
}

/* core.run(argv [, input]): runs argv[1] (searched in PATH) with arguments
 * argv[2..] and input on its standard input; no shell is involved. Returns
 * the exit status (nil and a message when it cannot start), stdout, stderr. */
static int system_run(lua_State *L) {
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

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe(in) || pipe(out) || pipe(err)) {
    int e = errno;
    close_pipes(in, out, err);
    lua_pushnil(L);
    lua_pushfstring(L, "cannot make pipes: %s", strerror(e));
    return 2;
  }
  for (int i = 0; i < 2; i++) {
    fcntl(in[i], F_SETFD, FD_CLOEXEC), fcntl(out[i], F_SETFD, FD_CLOEXEC), fcntl(err[i], F_SETFD, FD_CLOEXEC);
  }
  fcntl(in[1], F_SETFL, O_NONBLOCK); /* our end: a large input must not block while output waits */
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
    close(in[1]), close(out[0]), close(err[0]);
    lua_pushnil(L);
    lua_pushfstring(L, "cannot run %s: %s", argv[0], strerror(rc));
    return 2;
  }
  /* A child that exits before reading all its input must not kill us with
   * SIGPIPE: write() then fails with EPIPE instead. */
  struct sigaction ignore, old;
  memset(&ignore, 0, sizeof ignore);
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  luaL_Buffer b;
  outputs o = {out[0], err[0], &b, {0}, 0};
  luaL_buffinit(L, &b);
  exchange(in[1], input, len, &o);
  sigaction(SIGPIPE, &old, NULL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  luaL_pushresult(&b);
  lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  lua_insert(L, -2);
  lua_pushlstring(L, o.msg, o.msg_len);
  return 3;
}

void mg_register_system(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {
      {"clock", system_clock}, {"isatty", system_isatty}, {"run", system_run}, {NULL, NULL}};
  mg_setfuncs(L, module, functions, upvalues);
}
