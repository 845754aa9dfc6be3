/*
 * params.c - parameter sets: the per-parameter loops of the optimizers in C.
 *
 * core.ParamSet(list [, fname]) caches the nodes of an array of Values in its
 * own memory; its user value is a private copy of the array, which keeps the
 * Values (and so the nodes) alive whatever the caller does to its table later.
 * Its methods (zero_grad, sgd, adam, clip_norm, clip_value) walk that array of
 * pointers with no Lua API call per parameter. core.Buffer(n) is an array of n
 * doubles for the optimizers' state (momentum, Adam's m and v).
 *
 * The update formulas are PyTorch's documented ones (torch.optim.SGD with
 * dampening 0, torch.optim.AdamW), written in the order the comments give.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "binding.h"

#define PARAMSET "micrograd.ParamSet"
#define BUFFER   "micrograd.Buffer"

/* Largest number of parameters or buffer elements (indices fit an int). */
#define MAX_LEN ((lua_Unsigned)(INT32_MAX / 2))
/* A Buffer holds one double per parameter: 2^26 of them (512 MiB) is more
 * than any model this engine trains, and is refused before allocating. */
#define MAX_BUFFER ((lua_Unsigned)1 << 26)

typedef struct paramset {
  size_t n;         /* number of parameters */
  mg_node *nodes[]; /* their nodes, in the order of the list */
} paramset;

typedef struct buffer {
  size_t n;   /* number of elements */
  double x[]; /* the elements, zero when made */
} buffer;

/* ---- argument checks ----------------------------------------------------- */

static paramset *check_paramset(lua_State *L, int arg, const char *fname) {
  paramset *ps = luaL_testudata(L, arg, PARAMSET);
  if (!ps) mg_type_error(L, arg, fname, "ParamSet");
  return ps;
}

/* The Buffer at arg, which must have n elements. */
static buffer *check_buffer(lua_State *L, int arg, const char *fname, size_t n) {
  buffer *b = luaL_testudata(L, arg, BUFFER);
  if (!b)
    mg_type_error(L, arg, fname, "Buffer");
  else if (b->n != n)
    mg_arg_error(L, arg, fname,
                 lua_pushfstring(L, "Buffer of %d elements expected, got %d", (int)n, (int)b->n));
  return b;
}

/* A number at arg that is at least 0 (not NaN). */
static double check_nonneg(lua_State *L, int arg, const char *fname) {
  double x = mg_check_number(L, arg, fname);
  if (!(x >= 0))
    mg_arg_error(L, arg, fname,
                 lua_pushfstring(L, "number >= 0 expected, got %s", luaL_tolstring(L, arg, NULL)));
  return x;
}

/* ---- parameter sets ------------------------------------------------------- */

static int compare_nodes(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (mg_node *const *)a, y = (uintptr_t) * (mg_node *const *)b;
  return (x > y) - (x < y);
}

/* Raises an error if a node appears twice in ps (sorting a scratch copy). */
static void check_distinct(lua_State *L, const paramset *ps, const char *fname) {
  if (ps->n < 2) return;
  mg_node **sorted = mg_newuserdatauv(L, ps->n * sizeof *sorted, 0);
  for (size_t i = 0; i < ps->n; i++) sorted[i] = ps->nodes[i];
  qsort(sorted, ps->n, sizeof *sorted, compare_nodes);
  for (size_t i = 1; i < ps->n; i++) {
    if (sorted[i] != sorted[i - 1]) continue;
    size_t first = 0, second;
    while (ps->nodes[first] != sorted[i]) first++;
    second = first + 1;
    while (ps->nodes[second] != sorted[i]) second++;
    mg_arg_error(
        L, 1, fname,
        lua_pushfstring(L, "the Value at index %d is also at index %d", (int)second + 1, (int)first + 1));
  }
  lua_pop(L, 1);
}

/* core.ParamSet(list [, fname]): a parameter set over the Values list[1..#list];
 * errors name fname (default "ParamSet") and argument #1. */
static int params_new(lua_State *L) {
  const char *fname = "ParamSet";
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TSTRING) mg_type_error(L, 2, "ParamSet", "string or nil");
    fname = lua_tostring(L, 2);
  }
  if (lua_type(L, 1) != LUA_TTABLE) mg_type_error(L, 1, fname, "array of Values");
  lua_Unsigned len = lua_rawlen(L, 1);
  if (len == 0) mg_arg_error(L, 1, fname, "empty parameter list");
  if (len > MAX_LEN) mg_arg_error(L, 1, fname, "too many parameters");
  lua_settop(L, 2);
  paramset *ps = mg_newuserdatauv(L, sizeof *ps + (size_t)len * sizeof(mg_node *), 1); /* 3 */
  ps->n = 0;
  lua_createtable(L, (int)len, 0); /* 4: the private copy of the list */
  for (lua_Unsigned i = 1; i <= len; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i);
    mg_node *v = mg_to_value(L, -1);
    if (!v) {
      const char *got = mg_typename(L, -1);
      mg_arg_error(L, 1, fname, lua_pushfstring(L, "Value expected at index %d, got %s", (int)i, got));
    }
    ps->nodes[i - 1] = v;
    lua_rawseti(L, 4, (lua_Integer)i);
  }
  ps->n = (size_t)len;
  check_distinct(L, ps, fname);
  mg_setiuservalue(L, 3, 1);
  luaL_setmetatable(L, PARAMSET);
  return 1;
}

static int params_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_paramset(L, 1, "__len")->n);
  return 1;
}

static int params_tostring(lua_State *L) {
  paramset *ps = check_paramset(L, 1, "__tostring");
  lua_pushfstring(L, "ParamSet (%d parameters)", (int)ps->n);
  return 1;
}

/* ps:values(): a new array of the Values, in order. */
static int params_values(lua_State *L) {
  paramset *ps = check_paramset(L, 1, "values");
  lua_createtable(L, (int)ps->n, 0);
  mg_getiuservalue(L, 1, 1);
  for (size_t i = 1; i <= ps->n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i);
    lua_rawseti(L, -3, (lua_Integer)i);
  }
  lua_pop(L, 1);
  return 1;
}

/* ps:zero_grad(): p.grad = 0 for every parameter. */
static int params_zero_grad(lua_State *L) {
  paramset *ps = check_paramset(L, 1, "zero_grad");
  for (size_t i = 0; i < ps->n; i++) ps->nodes[i]->grad = 0;
  return 0;
}

/* ps:clip_norm(max_norm): the gradients' global L2 norm (returned), and when
 * max_norm / (norm + 1e-6) < 1 every gradient is multiplied by it (PyTorch's
 * clip_grad_norm_). */
static int params_clip_norm(lua_State *L) {
  paramset *ps = check_paramset(L, 1, "clip_norm");
  double max_norm = check_nonneg(L, 2, "clip_norm");
  double sum = 0, norm;
  for (size_t i = 0; i < ps->n; i++) sum += ps->nodes[i]->grad * ps->nodes[i]->grad;
  norm = sqrt(sum);
  if (isinf(norm)) { /* the squares overflowed: scale by the largest |g| if it is finite */
    double big = 0;
    for (size_t i = 0; i < ps->n; i++) big = fmax(big, fabs(ps->nodes[i]->grad));
    if (isfinite(big)) {
      sum = 0;
      for (size_t i = 0; i < ps->n; i++) sum += (ps->nodes[i]->grad / big) * (ps->nodes[i]->grad / big);
      norm = big * sqrt(sum);
    }
  }
  double coef = max_norm / (norm + 1e-6);
  if (coef < 1)
    for (size_t i = 0; i < ps->n; i++) ps->nodes[i]->grad *= coef;
  lua_pushnumber(L, norm);
  return 1;
}

/* ps:clip_value(c): every gradient clamped to [-c, c] (NaN stays NaN). */
static int params_clip_value(lua_State *L) {
  paramset *ps = check_paramset(L, 1, "clip_value");
  double c = check_nonneg(L, 2, "clip_value");
  for (size_t i = 0; i < ps->n; i++) {
    double g = ps->nodes[i]->grad;
    ps->nodes[i]->grad = g < -c ? -c : g > c ? c : g;
  }
  return 0;
}

/* ps:sgd(lr, momentum, weight_decay, nesterov [, buf, first]): one step of
 * torch.optim.SGD (dampening 0). buf (a Buffer of #ps elements) is required
 * when momentum is not 0; first says that it holds nothing yet. */
static int params_sgd(lua_State *L) {
  paramset *ps = check_paramset(L, 1, "sgd");
  double lr = check_nonneg(L, 2, "sgd"), mu = check_nonneg(L, 3, "sgd");
  double wd = check_nonneg(L, 4, "sgd");
  int nesterov = lua_toboolean(L, 5), first = lua_toboolean(L, 7);
  if (nesterov && mu == 0) mg_arg_error(L, 5, "sgd", "Nesterov momentum needs a momentum above 0");
  double *buf = mu != 0 ? check_buffer(L, 6, "sgd", ps->n)->x : NULL;
  for (size_t i = 0; i < ps->n; i++) {
    mg_node *p = ps->nodes[i];
    double g = p->grad;
    if (wd != 0) g = g + wd * p->data; /* g = grad + weight_decay * p */
    if (buf) {
      buf[i] = first ? g : mu * buf[i] + g; /* buf = g at first, else momentum * buf + g */
      g = nesterov ? g + mu * buf[i] : buf[i];
    }
    p->data = p->data - lr * g; /* p = p - lr * g */
  }
  return 0;
}

/* ps:adam(lr, beta1, beta2, eps, weight_decay, t, m, v): step t (1, 2, ...)
 * of torch.optim.AdamW; m and v are Buffers of #ps elements. */
static int params_adam(lua_State *L) {
  paramset *ps = check_paramset(L, 1, "adam");
  double lr = check_nonneg(L, 2, "adam"), b1 = check_nonneg(L, 3, "adam");
  double b2 = check_nonneg(L, 4, "adam"), eps = check_nonneg(L, 5, "adam");
  double wd = check_nonneg(L, 6, "adam");
  if (!(b1 < 1)) mg_arg_error(L, 3, "adam", "beta1 below 1 expected");
  if (!(b2 < 1)) mg_arg_error(L, 4, "adam", "beta2 below 1 expected");
  int ok;
  lua_Integer t = lua_tointegerx(L, 7, &ok);
  if (!ok || t < 1) mg_type_error(L, 7, "adam", "integer >= 1");
  double *m = check_buffer(L, 8, "adam", ps->n)->x, *v = check_buffer(L, 9, "adam", ps->n)->x;
  double bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
  for (size_t i = 0; i < ps->n; i++) {
    mg_node *p = ps->nodes[i];
    double g = p->grad;
    if (wd != 0) p->data = p->data - lr * wd * p->data; /* p = p - lr * weight_decay * p */
    m[i] = b1 * m[i] + (1 - b1) * g;                    /* m = b1 m + (1 - b1) g */
    v[i] = b2 * v[i] + (1 - b2) * (g * g);              /* v = b2 v + (1 - b2) g^2 */
    double mhat = m[i] / bc1, vhat = v[i] / bc2;        /* bias corrections */
    p->data = p->data - lr * mhat / (sqrt(vhat) + eps); /* p = p - lr mhat / (sqrt(vhat) + eps) */
  }
  return 0;
}

/* ---- buffers -------------------------------------------------------------- */

/* core.Buffer(n): n doubles, all 0. */
static int buffer_new(lua_State *L) {
  int ok;
  lua_Integer n = lua_tointegerx(L, 1, &ok);
  if (!ok) mg_type_error(L, 1, "Buffer", "integer");
  if (n < 0 || (lua_Unsigned)n > MAX_BUFFER) mg_arg_error(L, 1, "Buffer", "size out of range (0 to 2^26)");
  buffer *b = mg_newuserdatauv(L, sizeof *b + (size_t)n * sizeof(double), 0);
  b->n = (size_t)n;
  for (size_t i = 0; i < b->n; i++) b->x[i] = 0;
  luaL_setmetatable(L, BUFFER);
  return 1;
}

static buffer *check_any_buffer(lua_State *L, const char *fname) {
  buffer *b = luaL_testudata(L, 1, BUFFER);
  if (!b) mg_type_error(L, 1, fname, "Buffer");
  return b;
}

static int buffer_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_any_buffer(L, "__len")->n);
  return 1;
}

static int buffer_tostring(lua_State *L) {
  lua_pushfstring(L, "Buffer (%d elements)", (int)check_any_buffer(L, "__tostring")->n);
  return 1;
}

/* buf:totable(): a new array of the elements. */
static int buffer_totable(lua_State *L) {
  buffer *b = check_any_buffer(L, "totable");
  lua_createtable(L, (int)b->n, 0);
  for (size_t i = 0; i < b->n; i++) {
    lua_pushnumber(L, b->x[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* buf:load(t): copies the #buf numbers of the array t in; nothing changes on error. */
static int buffer_load(lua_State *L) {
  buffer *b = check_any_buffer(L, "load");
  if (lua_type(L, 2) != LUA_TTABLE) mg_type_error(L, 2, "load", "table");
  lua_Unsigned len = lua_rawlen(L, 2);
  if (len != b->n)
    mg_arg_error(L, 2, "load",
                 lua_pushfstring(L, "array of %d numbers expected, got length %d", (int)b->n,
                                 (int)(len > MAX_LEN ? MAX_LEN : len)));
  for (int pass = 0; pass < 2; pass++) { /* check every element, then copy */
    for (size_t i = 0; i < b->n; i++) {
      int ok;
      lua_rawgeti(L, 2, (lua_Integer)i + 1);
      double x = (double)lua_tonumberx(L, -1, &ok);
      if (!ok || lua_type(L, -1) != LUA_TNUMBER) {
        const char *got = mg_typename(L, -1);
        mg_arg_error(L, 2, "load",
                     lua_pushfstring(L, "number expected at index %d, got %s", (int)i + 1, got));
      }
      if (pass) b->x[i] = x;
      lua_pop(L, 1);
    }
  }
  return 0;
}

/* ---- registration --------------------------------------------------------- */

void mg_register_params(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {{"ParamSet", params_new}, {"Buffer", buffer_new}, {NULL, NULL}};
  static const luaL_Reg params_methods[] = {{"zero_grad", params_zero_grad},
                                            {"clip_norm", params_clip_norm},
                                            {"clip_value", params_clip_value},
                                            {"sgd", params_sgd},
                                            {"adam", params_adam},
                                            {"values", params_values},
                                            {NULL, NULL}};
  static const luaL_Reg params_metamethods[] = {
      {"__len", params_len}, {"__tostring", params_tostring}, {NULL, NULL}};
  static const luaL_Reg buffer_methods[] = {{"totable", buffer_totable}, {"load", buffer_load}, {NULL, NULL}};
  static const luaL_Reg buffer_metamethods[] = {
      {"__len", buffer_len}, {"__tostring", buffer_tostring}, {NULL, NULL}};
  static const mg_class params_class = {PARAMSET, params_metamethods, params_methods};
  static const mg_class buffer_class = {BUFFER, buffer_metamethods, buffer_methods};
  mg_setfuncs(L, module, functions, upvalues);
  mg_register_class(L, &params_class, 0, upvalues);
  mg_register_class(L, &buffer_class, 0, upvalues);
}
