/*
 * vector.c - mg.vector(vs): an immutable array of numbers and Values that
 * mg.dot reads without touching Lua per element.
 *
 * A neuron's weights are one vector for its whole life, and a layer's input
 * one vector for all its neurons: a dot node over two vectors keeps just the
 * two vectors (and the bias) alive, and copies operand pointers in C.
 */
#include "binding.h"

/* Pushes a new Vector with the elements of the array at stack index idx (an
 * absolute index); errors name argument arg of fname. User value 1 is a table
 * with the elements, which keeps the Values alive. */
mg_vector *mg_push_vector(lua_State *L, int idx, const char *fname, int arg) {
  const mg_ctx *ctx = mg_context(L);
  if (lua_type(L, idx) != LUA_TTABLE) mg_type_error(L, arg, fname, "table or Vector");
  lua_Unsigned len = lua_rawlen(L, idx);
  if (len > MG_MAX_ARGS / 2) mg_arg_error(L, arg, fname, "array too long");
  uint32_t n = (uint32_t)len;
  mg_vector *v = mg_newuserdatauv(L, sizeof *v + n * sizeof(mg_arg), 1);
  int vec = lua_gettop(L);
  v->n = n;
  lua_createtable(L, (int)n, 0);
  for (uint32_t i = 0; i < n; i++) {
    int ok;
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    mg_node *node = mg_to_value_ctx(L, -1, ctx);
    v->at[i].node = node, v->at[i].k = 0;
    if (!node) {
      v->at[i].k = (double)lua_tonumberx(L, -1, &ok);
      if (!ok) {
        const char *got = mg_typename(L, -1);
        mg_arg_error(L, arg, fname,
                     lua_pushfstring(L, "number or Value expected at index %d, got %s", (int)i + 1, got));
      }
      if (lua_type(L, -1) == LUA_TSTRING) { /* numeric strings are kept as numbers */
        lua_pushnumber(L, v->at[i].k);
        lua_replace(L, -2);
      }
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  mg_setiuservalue(L, vec, 1);
  lua_pushvalue(L, VECTOR_META_UV);
  lua_setmetatable(L, vec);
  return v;
}

/* mg.vector(vs) */
static int vector_new(lua_State *L) {
  mg_push_vector(L, 1, "vector", 1);
  return 1;
}

mg_vector *mg_to_vector(lua_State *L, int idx, const mg_ctx *ctx) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return NULL;
  const void *mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  return mt == ctx->vector_meta ? lua_touserdata(L, idx) : NULL;
}

static mg_vector *check_vector(lua_State *L, const char *fname) {
  mg_vector *v = mg_to_vector(L, 1, mg_context(L));
  if (!v) mg_type_error(L, 1, fname, "Vector");
  return v;
}

static int vector_len(lua_State *L) {
  lua_pushinteger(L, check_vector(L, "__len")->n);
  return 1;
}

/* v[i]: the i-th element (nil outside 1..#v). */
static int vector_index(lua_State *L) {
  mg_vector *v = check_vector(L, "__index");
  int ok;
  lua_Integer i = lua_tointegerx(L, 2, &ok);
  if (!ok || i < 1 || (lua_Unsigned)i > v->n) return 0;
  mg_getiuservalue(L, 1, 1);
  lua_rawgeti(L, -1, i);
  return 1;
}

static int vector_newindex(lua_State *L) { return luaL_error(L, "a Vector cannot be changed"); }

static int vector_tostring(lua_State *L) {
  lua_pushfstring(L, "Vector(%d)", (int)check_vector(L, "__tostring")->n);
  return 1;
}

/* Pushes the Value or number at 1-based position k of the vector at idx. */
void mg_push_vector_element(lua_State *L, int idx, uint32_t k) {
  mg_getiuservalue(L, idx, 1);
  lua_rawgeti(L, -1, k);
  lua_remove(L, -2);
}

void mg_register_vector(lua_State *L, int module, int upvalues) {
  static const luaL_Reg functions[] = {{"vector", vector_new}, {NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__len", vector_len},
                                         {"__index", vector_index},
                                         {"__newindex", vector_newindex},
                                         {"__tostring", vector_tostring},
                                         {NULL, NULL}};
  static const mg_class vector_class = {NULL, metamethods, NULL};
  mg_setfuncs(L, module, functions, upvalues);
  mg_register_class(L, &vector_class, upvalues + MG_UV_VECTOR_META, upvalues);
}
