/*
 * embed_game.c - a C host with a game loop that trains a micrograd network
 * between its frames.
 *
 * Four agents chase a target that moves around an arena. One small network
 * (2 inputs: where the target is relative to the agent; 2 outputs: the stick
 * the agent pushes) steers all of them. Each frame the host
 *
 *   1. moves the target and, for each agent, asks the network where to go
 *      (inference through a graph made once by mg.compile: no allocation),
 *      moves the agent, and records a training sample (what the agent saw, and
 *      the push that would have taken it straight to the target);
 *   2. gives the Lua side what is left of the frame's budget to train the
 *      network on the latest samples, in slices that resume where they stopped
 *      (micrograd.train's Trainer), timed by the host's own clock.
 *
 * Half-way through, the controls turn by 90 degrees (the agents get
 * "confused"): the network has to learn the new mapping while the game runs.
 *
 * The host owns everything: the Lua state runs on a counting allocator with a
 * limit, has no io, os or debug library (the script and every module come
 * from memory: no files are read), and the clock is a C function the host
 * passes in. At the end it prints frame-time statistics and exits with 1
 * when the 99th-percentile of the CPU time a frame took (this thread's own
 * work: on a shared machine the wall-clock figure also counts the time other
 * programs held the core, so it is printed but not judged) is over the
 * budget plus 10%, or the agents did not learn to steer; with 2 on an error.
 * See README.md.
 *
 *   embed_game [--frames N]        frames to run (600)
 *              [--budget-ms MS]    world + inference + training a frame (2)
 *              [--slicer S]        "predict" (default) or "trainer": see the script's train()
 *              [--gc G]            "generational" (default) or "incremental"
 *              [--memory-kib N]    the Lua state's memory limit (65536)
 *              [--no-sleep]        do not pace the frames to 60 a second
 *              [--trace]           print each frame that goes past the budget
 *              [--no-time-limit]   print the p99 verdict, but judge only the learning
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat.h"
#include "micrograd.h"

#define AGENTS            4
#define FRAME_PERIOD      (1.0 / 60.0) /* seconds: the loop paces itself to 60 frames a second */
#define ARENA             1.2          /* the arena is [-ARENA, ARENA]^2 */
#define AGENT_SPEED       1.2          /* units a second at full stick (the target: 0.6 at most) */
#define CATCH_RADIUS      0.05
#define SPAWN_DISTANCE    0.8
#define CAPACITY          256         /* samples in the ring buffer the network trains on */
#define BATCH_SIZE        8           /* samples a training step */
#define INCREMENTAL_PAUSE 0.0005      /* seconds: the incremental collector's end-of-cycle pause */
#define LEARNING_RATE     0.02        /* Adam's */
#define MEMORY_LIMIT      (64u << 20) /* bytes the Lua state may hold (--memory-kib) */
#define MIN_ALIGNMENT     0.8         /* the agents learned to steer: see alignment() */
#define PI                3.14159265358979323846

/* ---- the Lua side: a string, so the binary needs no file ------------------ */

/* The game's script (see its comments). */
static const char game_script[] =
    "-- The game's learning side. The host calls this chunk with its settings and\n"
    "-- its clock, and calls the functions it returns every frame. It runs without\n"
    "-- the io, os and debug libraries: everything it needs comes from memory.\n"
    "local host = ...\n"
    "local mg = require('micrograd')\n"
    "local Trainer = mg.train.Trainer -- loaded now, not in the middle of a frame\n"
    "local clock = host.clock -- the host's monotonic clock (seconds), a C function\n"
    "local abs, min = math.abs, math.min\n"
    "mg.seed(host.seed)\n"
    "-- Each training step leaves a graph of garbage. The generational collector\n"
    "-- (the default here) frees it in small pieces; the incremental one ends each\n"
    "-- cycle with a pause of about half a millisecond, which stretches the step,\n"
    "-- and so the frame, it falls in. (Before 5.4 Lua has the incremental one only.)\n"
    "if _VERSION == 'Lua 5.4' then collectgarbage(host.gc) end\n"
    "\n"
    "-- One network steers every agent: (dx, dy) to the target -> the stick (x, y).\n"
    "local model = mg.nn.MLP(2, { 16, 2 }, { activation = 'tanh' })\n"
    "local opt = mg.optim.Adam(model:parameters(), { lr = host.lr })\n"
    "\n"
    "-- Per-frame inference: the graph is traced once and replayed in C, and the\n"
    "-- result table is the same every call, so acting allocates nothing.\n"
    "local graph = mg.compile(function(dx, dy) return model({ dx, dy }) end, 2)\n"
    "local function act(dx, dy)\n"
    "  local out = graph(dx, dy)\n"
    "  return out[1], out[2]\n"
    "end\n"
    "\n"
    "-- The latest samples, in a ring buffer the Trainer reads: its data set is\n"
    "-- fixed when it is made, so new samples overwrite the oldest in place.\n"
    "local N = host.capacity\n"
    "local X, Y = {}, {}\n"
    "for i = 1, N do X[i], Y[i] = { 0.0, 0.0 }, { 0.0, 0.0 } end\n"
    "local count, trainer = 0, nil\n"
    "local function record(dx, dy, sx, sy)\n"
    "  local i = count % N + 1\n"
    "  local x, y = X[i], Y[i]\n"
    "  x[1], x[2], y[1], y[2] = dx, dy, sx, sy\n"
    "  count = count + 1\n"
    "  if count == N then -- the buffer is full: training starts\n"
    "    trainer = Trainer(model, X, Y, { loss = 'mse', optimizer = opt, batch_size = host.batch_size,\n"
    "      steps = math.maxinteger or 2^53, seed = host.seed, clock = clock }) -- 5.1: no maxinteger\n"
    "  end\n"
    "end\n"
    "\n"
    "-- The Trainer keeps every step's loss in trainer.history; a game trains for\n"
    "-- hours, so this takes the losses out after each slice and keeps their sum.\n"
    "local loss_sum, loss_steps = 0, 0\n"
    "local function collect_losses()\n"
    "  local history = trainer.history\n"
    "  for _, l in pairs(history.loss) do loss_sum, loss_steps = loss_sum + l, loss_steps + 1 end\n"
    "  history.loss, history.accuracy = {}, {}\n"
    "end\n"
    "\n"
    "-- Trains until `deadline` (a time of the host's clock); returns the number of\n"
    "-- steps made and the longest step's seconds.\n"
    "--   slicer 'trainer': one Trainer slice, run{seconds = ...}; it stops after the\n"
    "--     step that crosses the budget, so a frame can overshoot by a step.\n"
    "--   slicer 'predict': one step at a time, each started only when the time\n"
    "--     left is at least mean + 4 * deviation of the step times so far (the\n"
    "--     estimator of TCP's retransmission timer, RFC 6298).\n"
    "local mean, dev -- seconds a step takes\n"
    "local function train(deadline)\n"
    "  if not trainer then return 0, 0 end\n"
    "  local now = clock()\n"
    "  if host.slicer == 'trainer' then\n"
    "    if deadline <= now then return 0, 0 end\n"
    "    local _, steps = trainer:run({ seconds = deadline - now, clock = clock })\n"
    "    collect_losses()\n"
    "    return steps, 0\n"
    "  end\n"
    "  local steps, longest = 0, 0\n"
    "  while deadline - now >= (mean and mean + 4 * dev or 0) do\n"
    "    trainer:run(1)\n"
    "    local after = clock()\n"
    "    local dt = after - now\n"
    "    if dt > longest then longest = dt end\n"
    "    if not mean then\n"
    "      mean, dev = dt, dt / 2\n"
    "    else\n"
    "      dt = min(dt, 4 * mean) -- a step the OS interrupted says little about the next one\n"
    "      dev = dev + 0.25 * (abs(dt - mean) - dev)\n"
    "      mean = mean + 0.125 * (dt - mean)\n"
    "    end\n"
    "    now, steps = after, steps + 1\n"
    "  end\n"
    "  if steps == 0 and mean then mean, dev = mean * 0.8, dev * 0.8 end -- try again soon\n"
    "  collect_losses()\n"
    "  return steps, longest\n"
    "end\n"
    "\n"
    "-- The mean loss of the steps since the last call (nan when there were none).\n"
    "local function loss()\n"
    "  local l = loss_sum / loss_steps\n"
    "  loss_sum, loss_steps = 0, 0\n"
    "  return l\n"
    "end\n"
    "\n"
    "return { act = act, record = record, train = train, loss = loss }\n";

/* ---- the host's memory: a counting allocator with a limit ----------------- */

typedef struct {
  size_t in_use, peak, limit;
  unsigned long long allocations; /* calls that allocated or grew a block */
  unsigned long long refused;
} host_memory;

/* lua_Alloc: every byte the Lua state and micrograd use comes through here. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  host_memory *m = ud;
  size_t old = ptr ? osize : 0; /* with ptr == NULL, osize is the object's type */
  if (nsize == 0) {
    free(ptr);
    m->in_use -= old;
    return NULL;
  }
  if (nsize > old && m->in_use - old + nsize > m->limit) {
    m->refused++; /* Lua collects garbage and retries, or raises "not enough memory" */
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (p == NULL) return NULL;
  m->in_use = m->in_use - old + nsize;
  if (m->in_use > m->peak) m->peak = m->in_use;
  if (nsize > old) m->allocations++;
  return p;
}

/* ---- the host's clock ----------------------------------------------------- */

static double seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_seconds(void) { return seconds(CLOCK_MONOTONIC); }

/* The CPU time this thread has used: a frame's wall time minus this is the
 * time the OS gave the CPU to other processes. */
static double cpu_seconds(void) { return seconds(CLOCK_THREAD_CPUTIME_ID); }

/* The same clock for Lua: clock() -> seconds. */
static int lua_host_clock(lua_State *L) {
  lua_pushnumber(L, now_seconds());
  return 1;
}

/* Waits for the next frame, as a game waits for the display. */
static void sleep_until(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  int rc;
  do rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  while (rc == EINTR);
}

/* ---- calling the script --------------------------------------------------- */

/* Adds a traceback to an error message. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* The functions the script returned, as registry references. */
typedef struct {
  int act, record, train, loss;
} script;

/* Prints the error a Lua call returned with `status` and ends the program. */
static void fail(lua_State *L, int status) {
  void *ud;
  lua_getallocf(L, &ud);
  const host_memory *m = ud;
  fflush(stdout);
  fprintf(stderr, "embed_game: %s\n", lua_tostring(L, -1));
  if (status == LUA_ERRMEM)
    fprintf(stderr, "embed_game: the host allows the Lua state %zu KiB\n", m->limit >> 10);
  lua_close(L);
  exit(2);
}

/* Calls the script's function `ref` with the nargs values on top of the
 * stack, leaving nres results (the message handler is at stack index 1). */
static void call(lua_State *L, int ref, int nargs, int nres) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_insert(L, -nargs - 1);
  int status = lua_pcall(L, nargs, nres, 1);
  if (status != LUA_OK) fail(L, status);
}

/* The network's stick for a target at (dx, dy) from the agent. */
static void act(lua_State *L, const script *s, double dx, double dy, double *sx, double *sy) {
  lua_pushnumber(L, dx);
  lua_pushnumber(L, dy);
  call(L, s->act, 2, 2);
  *sx = lua_tonumber(L, -2);
  *sy = lua_tonumber(L, -1);
  lua_pop(L, 2);
}

/* A training sample: what an agent saw, and the stick it should have pushed. */
static void record(lua_State *L, const script *s, double dx, double dy, double sx, double sy) {
  lua_pushnumber(L, dx);
  lua_pushnumber(L, dy);
  lua_pushnumber(L, sx);
  lua_pushnumber(L, sy);
  call(L, s->record, 4, 0);
}

/* Trains until the deadline; returns the steps made (the longest in *longest,
 * 0 when the slicer does not time each step). */
static int train(lua_State *L, const script *s, double deadline, double *longest) {
  lua_pushnumber(L, deadline);
  call(L, s->train, 1, 2);
  int steps = (int)lua_tointeger(L, -2);
  *longest = lua_tonumber(L, -1);
  lua_pop(L, 2);
  return steps;
}

/* The mean loss of the training steps since the last call. */
static double mean_loss(lua_State *L, const script *s) {
  call(L, s->loss, 0, 1);
  double loss = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return loss;
}

/* ---- the world ------------------------------------------------------------ */

typedef struct {
  double x, y;
} vec2;

typedef struct {
  double time; /* simulated: FRAME_PERIOD a frame, whatever the wall clock says */
  vec2 target;
  vec2 agent[AGENTS];
  double turn; /* the controls' rotation: a stick s moves an agent along rotate(s, turn) */
  uint64_t rng;
  int catches;
} world;

static vec2 rotate(vec2 v, double a) {
  return (vec2){cos(a) * v.x - sin(a) * v.y, sin(a) * v.x + cos(a) * v.y};
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* splitmix64: the world's own deterministic random numbers, in [0, 1). */
static double world_random(world *w) {
  uint64_t z = (w->rng += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* A new agent somewhere in the arena, at least SPAWN_DISTANCE from the target. */
static vec2 spawn(world *w) {
  for (;;) {
    vec2 p = {(2 * world_random(w) - 1) * ARENA, (2 * world_random(w) - 1) * ARENA};
    if (hypot(p.x - w->target.x, p.y - w->target.y) >= SPAWN_DISTANCE) return p;
  }
}

static vec2 target_at(double t) { return (vec2){0.7 * sin(0.5 * t), 0.6 * sin(0.8 * t + 0.6)}; }

static void world_init(world *w) {
  memset(w, 0, sizeof *w);
  w->rng = 2024;
  w->target = target_at(0);
  for (int i = 0; i < AGENTS; i++) w->agent[i] = spawn(w);
}

/* The stick that moves an agent straight at the target (d away) under the
 * current controls: the label of a training sample. */
static vec2 ideal_stick(const world *w, vec2 d) {
  double r = hypot(d.x, d.y);
  return rotate((vec2){d.x / r, d.y / r}, -w->turn);
}

/* One frame of the world: the target moves; each agent looks, asks the
 * network (the time and allocations that takes are added to *infer_s and
 * *infer_allocs), records a sample and moves. */
static void world_step(world *w, lua_State *L, const script *s, const host_memory *mem, double *infer_s,
                       unsigned long long *infer_allocs) {
  w->time += FRAME_PERIOD;
  w->target = target_at(w->time);
  for (int i = 0; i < AGENTS; i++) {
    vec2 *p = &w->agent[i];
    vec2 d = {w->target.x - p->x, w->target.y - p->y}, stick;
    double t0 = now_seconds();
    unsigned long long a0 = mem->allocations;
    act(L, s, d.x, d.y, &stick.x, &stick.y);
    *infer_allocs += mem->allocations - a0;
    *infer_s += now_seconds() - t0;
    vec2 label = ideal_stick(w, d);
    record(L, s, d.x, d.y, label.x, label.y);
    double len = hypot(stick.x, stick.y);
    if (len > 1) { /* the stick's travel ends at the unit circle */
      stick.x /= len;
      stick.y /= len;
    }
    vec2 v = rotate(stick, w->turn);
    p->x = clamp(p->x + AGENT_SPEED * FRAME_PERIOD * v.x, -ARENA, ARENA);
    p->y = clamp(p->y + AGENT_SPEED * FRAME_PERIOD * v.y, -ARENA, ARENA);
    if (hypot(w->target.x - p->x, w->target.y - p->y) < CATCH_RADIUS) {
      w->catches++;
      *p = spawn(w);
    }
  }
  /* and one sample of a spot no agent is at, so the samples cover every way */
  vec2 d = {(2 * world_random(w) - 1) * ARENA, (2 * world_random(w) - 1) * ARENA};
  if (hypot(d.x, d.y) > CATCH_RADIUS) {
    vec2 label = ideal_stick(w, d);
    record(L, s, d.x, d.y, label.x, label.y);
  }
}

/* How well the network steers now: the mean cosine between the way its
 * stick moves an agent and the way to the target, over a 12 x 12 grid of
 * target positions in [-1, 1]^2 (1: always straight at it, 0: no better than
 * chance). */
static double alignment(const world *w, lua_State *L, const script *s) {
  double sum = 0;
  for (int i = 0; i < 12; i++) {
    for (int j = 0; j < 12; j++) {
      vec2 d = {(i - 5.5) / 6, (j - 5.5) / 6}, stick;
      act(L, s, d.x, d.y, &stick.x, &stick.y);
      vec2 v = rotate(stick, w->turn);
      double lv = hypot(v.x, v.y);
      sum += lv > 0 ? (v.x * d.x + v.y * d.y) / (lv * hypot(d.x, d.y)) : 0;
    }
  }
  return sum / 144;
}

/* ---- statistics ----------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of n sorted values. */
static double quantile(const double *sorted, int n, double q) {
  int k = (int)ceil(q * n);
  return sorted[k < 1 ? 0 : k - 1];
}

/* ---- setting up ----------------------------------------------------------- */

typedef struct {
  int frames;
  double budget; /* seconds of each frame for world + inference + training */
  const char *slicer, *gc;
  size_t memory; /* bytes the Lua state may hold */
  int sleep, trace, time_limit;
} options;

static int parse_options(int argc, char **argv, options *o) {
  *o = (options){600,          0.002, "predict", LUA_VERSION_NUM >= 504 ? "generational" : "incremental",
                 MEMORY_LIMIT, 1,     0,         1};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--frames") == 0 && v) {
      o->frames = atoi(v), i++;
    } else if (strcmp(a, "--budget-ms") == 0 && v) {
      o->budget = atof(v) / 1000, i++;
    } else if (strcmp(a, "--slicer") == 0 && v) {
      o->slicer = v, i++;
    } else if (strcmp(a, "--gc") == 0 && v) {
      o->gc = v, i++;
    } else if (strcmp(a, "--memory-kib") == 0 && v) {
      o->memory = (size_t)strtoul(v, NULL, 10) << 10, i++;
    } else if (strcmp(a, "--no-sleep") == 0) {
      o->sleep = 0;
    } else if (strcmp(a, "--trace") == 0) {
      o->trace = 1;
    } else if (strcmp(a, "--no-time-limit") == 0) {
      o->time_limit = 0;
    } else {
      return 0;
    }
  }
  int slicer_ok = strcmp(o->slicer, "predict") == 0 || strcmp(o->slicer, "trainer") == 0;
  int gc_ok =
      (LUA_VERSION_NUM >= 504 && strcmp(o->gc, "generational") == 0) || strcmp(o->gc, "incremental") == 0;
  return o->frames >= 60 && o->frames <= 1000000 && o->budget > 0 && o->budget < FRAME_PERIOD && slicer_ok &&
         gc_ok && o->memory > 0;
}

/* Opens the libraries the game's script gets: no io, os or debug. */
static void open_sandbox(lua_State *L) {
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},       {LUA_LOADLIBNAME, luaopen_package},
                                  {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_MATHLIBNAME, luaopen_math}, {NULL, NULL}};
  for (const luaL_Reg *lib = libs; lib->func; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  mg_openlibs(L); /* require("micrograd") and its modules, from the library's memory */
}

/* Runs the script with the host's settings and keeps the functions it returns. */
static void load_script(lua_State *L, script *s, const options *o) {
  int status = luaL_loadbufferx(L, game_script, sizeof game_script - 1, "=game", "t");
  if (status != LUA_OK) fail(L, status);
  lua_createtable(L, 0, 7);
  lua_pushcfunction(L, lua_host_clock);
  lua_setfield(L, -2, "clock");
  lua_pushstring(L, o->slicer);
  lua_setfield(L, -2, "slicer");
  lua_pushstring(L, o->gc);
  lua_setfield(L, -2, "gc");
  lua_pushinteger(L, CAPACITY);
  lua_setfield(L, -2, "capacity");
  lua_pushinteger(L, BATCH_SIZE);
  lua_setfield(L, -2, "batch_size");
  lua_pushnumber(L, LEARNING_RATE);
  lua_setfield(L, -2, "lr");
  lua_pushinteger(L, 42);
  lua_setfield(L, -2, "seed");
  status = lua_pcall(L, 1, 1, 1);
  if (status != LUA_OK) fail(L, status);
  int *refs[] = {&s->act, &s->record, &s->train, &s->loss};
  const char *names[] = {"act", "record", "train", "loss"};
  for (int i = 0; i < 4; i++) {
    if (lua_getfield(L, -1, names[i]) != LUA_TFUNCTION) {
      fprintf(stderr, "embed_game: the script returned no function '%s'\n", names[i]);
      exit(2);
    }
    *refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_pop(L, 1);
}

/* ---- the game loop -------------------------------------------------------- */

int main(int argc, char **argv) {
  options o;
  if (!parse_options(argc, argv, &o)) {
    fprintf(stderr,
            "usage: embed_game [--frames N] [--budget-ms MS] [--slicer predict|trainer]\n"
            "                  [--gc generational|incremental] [--memory-kib N] [--no-sleep] [--trace]\n"
            "                  [--no-time-limit]\n");
    return 2;
  }
  host_memory mem = {.limit = o.memory};
  lua_State *L = lua_newstate(host_alloc, &mem);
  double *wall = malloc(sizeof(double) * (size_t)o.frames), *cpu = malloc(sizeof(double) * (size_t)o.frames);
  if (L == NULL || wall == NULL || cpu == NULL) {
    fprintf(stderr, "embed_game: out of memory\n");
    return 2;
  }
  lua_pushcfunction(L, msghandler); /* stack index 1: the message handler of every call */
  open_sandbox(L);
  script s;
  load_script(L, &s, &o);
  world w;
  world_init(&w);

  printf("embed_game: %d agents chase a target, steered by one 2-16-2 network that trains between frames\n",
         AGENTS);
  printf("budget: %.2f ms of each %.1f ms frame for world + inference + training (slicer '%s', %s GC%s)\n\n",
         o.budget * 1e3, FRAME_PERIOD * 1e3, o.slicer, o.gc, o.sleep ? "" : ", not paced");
  printf("   frames  steps       loss  alignment  catches\n");
  const int half = o.frames / 2, rows = o.frames / 6;
  int started = -1, relearned = -1, row_catches = 0, late = 0, waited = 0;
  long steps = 0, row_steps = 0;
  double infer_s = 0, train_s = 0, longest = 0, latest = 0, turned = 0;
  unsigned long long infer_allocs = 0;
  double start = now_seconds();
  for (int f = 0; f < o.frames; f++) {
    if (f == half) { /* the controls turn: the network must learn them anew */
      w.turn = PI / 2;
      turned = alignment(&w, L, &s);
    }
    double t0 = now_seconds(), c0 = cpu_seconds(), deadline = t0 + o.budget;
    world_step(&w, L, &s, &mem, &infer_s, &infer_allocs);
    double t1 = now_seconds(), slice_longest;
    int n = train(L, &s, deadline, &slice_longest);
    double t2 = now_seconds();
    wall[f] = t2 - t0; /* the frame's time: world + inference + training */
    cpu[f] = cpu_seconds() - c0;

    train_s += t2 - t1;
    steps += n;
    row_steps += n;
    if (n > 0 && started < 0) started = f;
    if (slice_longest > longest) longest = slice_longest;
    if (t2 > deadline) {
      late++;
      if (t2 - deadline > latest) latest = t2 - deadline;
    }
    if (wall[f] - cpu[f] > 0.5e-3) waited++; /* the OS ran something else meanwhile */
    if (o.trace && t2 > deadline) {
      printf("  frame %d over budget: %.3f ms (CPU %.3f ms; world + inference %.3f ms; %d steps, longest "
             "%.3f ms)\n",
             f, wall[f] * 1e3, cpu[f] * 1e3, (t1 - t0) * 1e3, n, slice_longest * 1e3);
    }
    if ((f + 1) % rows == 0 || f + 1 == o.frames) { /* a row of the table, outside the frames' time */
      int first = (f / rows) * rows;
      printf("%4d-%-4d %6ld %10.5f %10.3f %8d", first, f, row_steps, mean_loss(L, &s), alignment(&w, L, &s),
             w.catches - row_catches);
      if (first <= started && started <= f) printf("  training starts at frame %d", started);
      if (first <= half && half <= f) printf("  the controls turn 90 degrees at frame %d", half);
      printf("\n");
      row_steps = 0;
      row_catches = w.catches;
    }
    if (f >= half && relearned < 0 && (f - half) % 5 == 4 && alignment(&w, L, &s) >= 0.9) relearned = f;
    if (o.sleep) sleep_until(start + (f + 1) * FRAME_PERIOD);
  }

  double final_alignment = alignment(&w, L, &s);
  double mean = 0;
  for (int f = 0; f < o.frames; f++) mean += wall[f];
  mean /= o.frames;
  qsort(wall, (size_t)o.frames, sizeof *wall, compare_doubles);
  qsort(cpu, (size_t)o.frames, sizeof *cpu, compare_doubles);
  /* The incremental collector (the only one before Lua 5.4) ends each cycle
   * with an atomic pause of about half a millisecond that no slicer can see
   * coming: with it, the limit allows that pause on top. */
  double pause = strcmp(o.gc, "incremental") == 0 ? INCREMENTAL_PAUSE : 0;
  double p99 = quantile(wall, o.frames, 0.99), cpu_p99 = quantile(cpu, o.frames, 0.99),
         limit = o.budget * 1.1 + pause;
  printf("\nframe time (ms): frames %d  mean %.3f  median %.3f  p99 %.3f  max %.3f  budget %.3f\n", o.frames,
         mean * 1e3, quantile(wall, o.frames, 0.5) * 1e3, p99 * 1e3, wall[o.frames - 1] * 1e3,
         o.budget * 1e3);
  printf("  past the budget: %d frames (by %.3f ms at most); CPU time p99 %.3f ms; waited > 0.5 ms for the "
         "CPU: %d frames\n",
         late, latest * 1e3, quantile(cpu, o.frames, 0.99) * 1e3, waited);
  printf("world + inference: %.1f us a frame (inference %.1f us: %d calls, %llu allocations in all)\n",
         mean * 1e6 - train_s * 1e6 / o.frames, infer_s * 1e6 / o.frames, AGENTS, infer_allocs);
  printf("training: %ld steps of %d samples, %.1f a frame, %.1f us a step", steps, BATCH_SIZE,
         (double)steps / o.frames, steps ? train_s * 1e6 / (double)steps : 0.0);
  if (longest > 0) printf(", longest %.1f us", longest * 1e6);
  printf("\n");
  mg_gc_collect(L);
  printf("Lua memory: peak %.0f KiB, %.0f KiB after a full collection, limit %zu KiB (%llu allocations, "
         "%llu refused)\n",
         mem.peak / 1024.0, mem.in_use / 1024.0, mem.limit >> 10, mem.allocations, mem.refused);
  printf("steering: alignment %.3f at the end (1: straight at the target), %d catches\n", final_alignment,
         w.catches);
  printf("  the turn at frame %d dropped the alignment to %.3f; ", half, turned);
  if (relearned >= 0) {
    printf("back above 0.9 by frame %d (%.2f s later)\n", relearned, (relearned - half + 1) * FRAME_PERIOD);
  } else {
    printf("it did not get back above 0.9\n");
  }
  lua_close(L);
  free(wall);
  free(cpu);

  int within = cpu_p99 <= limit, ok = within || !o.time_limit;
  printf("%s: p99 frame CPU time %.3f ms %s the budget + 10%%%s (%.3f ms); wall clock p99 %.3f ms\n",
         within         ? "ok"
         : o.time_limit ? "FAIL"
                        : "note (not judged)",
         cpu_p99 * 1e3, within ? "is within" : "is over",
         pause > 0 ? " + the incremental collector's pause" : "", limit * 1e3, p99 * 1e3);
  if (final_alignment < MIN_ALIGNMENT) {
    printf("FAIL: the agents did not learn to steer (alignment %.3f < %.2f)\n", final_alignment,
           MIN_ALIGNMENT);
    ok = 0;
  }
  return ok ? 0 : 1;
}
