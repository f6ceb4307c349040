/*
** multiprocessing.Value and Array, native half: typed numbers in the
** shared arena. Each element is read and written with one atomic access,
** so a single get or set never tears; read-modify-write needs the lock
** (get_lock) as in Python.
** Typecodes: b B h H i I l L q Q (integers), f d (floats), c (a 1-byte
** string), ? (boolean).
*/
#include <string.h>

#include "ct_handle.h"
#include "ct_mp.h"
#include "ct_shm.h"
#include "lauxlib.h"

typedef struct mp_value {
  ct_shm_obj h;
  char typecode;
  uint8_t elsize;
  uint32_t pad;
  uint64_t count;
  uint64_t data[];  /* 8-aligned elements */
} mp_value;

static const ct_kind value_kind = {"multiprocessing.Value"};

static int elsize_of (char tc) {
  switch (tc) {
    case 'b': case 'B': case 'c': case '?': return 1;
    case 'h': case 'H': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'q': case 'Q': case 'd': return 8;
    default: return 0;
  }
}

static mp_value *tovalue (lua_State *L) {
  return (mp_value *)((ct_shm_handle *)ct_checkhandle(L, 1, &value_kind))->obj;
}

static void push_elem (lua_State *L, mp_value *v, uint64_t i) {
  char *p = (char *)v->data + i * v->elsize;
  switch (v->typecode) {
    case 'b': lua_pushinteger(L, (int8_t)__atomic_load_n((uint8_t *)p, __ATOMIC_RELAXED)); break;
    case 'B': lua_pushinteger(L, __atomic_load_n((uint8_t *)p, __ATOMIC_RELAXED)); break;
    case 'h': lua_pushinteger(L, (int16_t)__atomic_load_n((uint16_t *)p, __ATOMIC_RELAXED)); break;
    case 'H': lua_pushinteger(L, __atomic_load_n((uint16_t *)p, __ATOMIC_RELAXED)); break;
    case 'i': lua_pushinteger(L, (int32_t)__atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED)); break;
    case 'I': lua_pushinteger(L, __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED)); break;
    case 'l': case 'q': case 'L': case 'Q':
      lua_pushinteger(L, (lua_Integer)__atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED));
      break;
    case 'f': {
      uint32_t bits = __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
      float f;
      memcpy(&f, &bits, 4);
      lua_pushnumber(L, (lua_Number)f);
      break;
    }
    case 'd': {
      uint64_t bits = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
      double d;
      memcpy(&d, &bits, 8);
      lua_pushnumber(L, (lua_Number)d);
      break;
    }
    case 'c': {
      char c = (char)__atomic_load_n((uint8_t *)p, __ATOMIC_RELAXED);
      lua_pushlstring(L, &c, 1);
      break;
    }
    case '?': lua_pushboolean(L, __atomic_load_n((uint8_t *)p, __ATOMIC_RELAXED) != 0); break;
    default: lua_pushnil(L);
  }
}

/* the name of the type of the value at 'arg' for messages: its __name
   (a class instance's class), else its type */
static const char *value_typename (lua_State *L, int arg) {
  const char *name = NULL;
  if (luaL_getmetafield(L, arg, "__name") != LUA_TNIL) {
    name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);  /* the metatable still holds the string */
  }
  return name != NULL ? name : luaL_typename(L, arg);
}

/* the error of a value that does not fit an element: pushes the message
   and returns it */
static const char *bad_value (lua_State *L, int arg, const char *want) {
  return lua_pushfstring(L, "%s expected, got %s", want, value_typename(L, arg));
}

/* Stores the Lua value at 'arg' into element i. NULL on success, else the
   reason it does not fit (pushed), and nothing is stored. */
static const char *set_elem (lua_State *L, mp_value *v, uint64_t i, int arg) {
  char *p = (char *)v->data + i * v->elsize;
  int isnum;
  switch (v->typecode) {
    case 'f': case 'd': {
      lua_Number n = lua_tonumberx(L, arg, &isnum);
      if (!isnum) return bad_value(L, arg, "number");
      if (v->typecode == 'f') {
        float f = (float)n;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        __atomic_store_n((uint32_t *)p, bits, __ATOMIC_RELAXED);
      }
      else {
        double d = (double)n;
        uint64_t bits;
        memcpy(&bits, &d, 8);
        __atomic_store_n((uint64_t *)p, bits, __ATOMIC_RELAXED);
      }
      return NULL;
    }
    case 'c': {
      size_t len;
      const char *s;
      if (lua_type(L, arg) == LUA_TNUMBER) {  /* a byte value, as Python's */
        lua_Integer b = lua_tointegerx(L, arg, &isnum);
        if (!isnum) return lua_pushstring(L, "number has no integer representation");
        if (b < 0 || b > 255) return lua_pushstring(L, "byte must be in range(0, 256)");
        __atomic_store_n((uint8_t *)p, (uint8_t)b, __ATOMIC_RELAXED);
        return NULL;
      }
      if (lua_type(L, arg) != LUA_TSTRING) return bad_value(L, arg, "string");
      s = lua_tolstring(L, arg, &len);
      if (len != 1) return lua_pushstring(L, "one character string expected");
      __atomic_store_n((uint8_t *)p, (uint8_t)s[0], __ATOMIC_RELAXED);
      return NULL;
    }
    case '?':
      __atomic_store_n((uint8_t *)p, (uint8_t)lua_toboolean(L, arg), __ATOMIC_RELAXED);
      return NULL;
    default: {
      /* integers: wrap to the type's width, as ctypes does */
      uint64_t x = (uint64_t)lua_tointegerx(L, arg, &isnum);
      if (!isnum) {
        if (lua_isnumber(L, arg))
          return lua_pushstring(L, "number has no integer representation");
        return bad_value(L, arg, "number");
      }
      switch (v->elsize) {
        case 1: __atomic_store_n((uint8_t *)p, (uint8_t)x, __ATOMIC_RELAXED); break;
        case 2: __atomic_store_n((uint16_t *)p, (uint16_t)x, __ATOMIC_RELAXED); break;
        case 4: __atomic_store_n((uint32_t *)p, (uint32_t)x, __ATOMIC_RELAXED); break;
        default: __atomic_store_n((uint64_t *)p, x, __ATOMIC_RELAXED); break;
      }
      return NULL;
    }
  }
}

/* value_new(typecode, count) -> handle (zeroed elements) */
static int value_new (lua_State *L) {
  const char *tc = luaL_checkstring(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  int es = tc[0] && !tc[1] ? elsize_of(tc[0]) : 0;
  mp_value *v;
  size_t bytes;
  if (es == 0)
    return luaL_argerror(L, 1, lua_pushfstring(L, "unknown typecode '%s'", tc));
  luaL_argcheck(L, n >= 0 && n <= ((lua_Integer)1 << 34), 2, "array size out of range");
  bytes = ((size_t)n * (size_t)es + 7) & ~(size_t)7;
  v = (mp_value *)ct_shm_newobj(L, sizeof(mp_value) + bytes, CT_MPT_VALUE);
  v->typecode = tc[0];
  v->elsize = (uint8_t)es;
  v->count = (uint64_t)n;
  ct_shm_pushhandle(L, sizeof(ct_shm_handle), &value_kind, &v->h);
  return 1;
}

/* Element i (1-based, at 'arg') as an offset into 'out'. 0 on success;
   else pushes the message and returns 2 when the index is not an integer,
   1 when it is out of range. */
static int find_index (lua_State *L, mp_value *v, int arg, uint64_t *out) {
  int isnum;
  lua_Integer i = lua_tointegerx(L, arg, &isnum);
  if (!isnum) {
    lua_pushfstring(L, "integer index expected, got %s", value_typename(L, arg));
    return 2;
  }
  if (i < 1 || (uint64_t)i > v->count) {
    lua_pushfstring(L, "array index %I out of range (1..%I)", (LUAI_UACINT)i,
                    (LUAI_UACINT)v->count);
    return 1;
  }
  *out = (uint64_t)(i - 1);
  return 0;
}

static uint64_t check_index (lua_State *L, mp_value *v, int arg) {
  uint64_t i = 0;
  switch (find_index(L, v, arg, &i)) {
    case 2: luaL_argerror(L, arg, lua_tostring(L, -1)); break;
    case 1: lua_error(L); break;
  }
  return i;
}

/* value_get(h, [i=1]) */
static int value_get (lua_State *L) {
  mp_value *v = tovalue(L);
  uint64_t i = lua_isnoneornil(L, 2) ? 0 : check_index(L, v, 2);
  if (v->count == 0) return luaL_error(L, "empty array");
  push_elem(L, v, i);
  return 1;
}

/* value_set(h, i, x) */
static int value_set (lua_State *L) {
  mp_value *v = tovalue(L);
  uint64_t i = lua_isnil(L, 2) ? 0 : check_index(L, v, 2);
  const char *bad;
  if (v->count == 0) return luaL_error(L, "empty array");
  bad = set_elem(L, v, i, 3);
  if (bad != NULL) return luaL_argerror(L, 3, bad);
  return 0;
}

/* value_tryset(h, i, x) -> nothing, or (n, message) when it cannot be
   done: n is 2 for a bad index, 3 for a bad value, 0 for an index out of
   range; the Lua side raises it at its caller's line */
static int value_tryset (lua_State *L) {
  mp_value *v = tovalue(L);
  uint64_t i = 0;
  const char *bad;
  lua_settop(L, 3);
  if (!lua_isnil(L, 2)) {
    int r = find_index(L, v, 2, &i);
    if (r != 0) {
      lua_pushinteger(L, r == 2 ? 2 : 0);
      lua_insert(L, -2);
      return 2;
    }
  }
  if (v->count == 0) {
    lua_pushinteger(L, 0);
    lua_pushliteral(L, "empty array");
    return 2;
  }
  bad = set_elem(L, v, i, 3);
  if (bad == NULL) return 0;
  lua_pushinteger(L, 3);
  lua_insert(L, -2);
  return 2;
}

static int value_len (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tovalue(L)->count);
  return 1;
}

static int value_typecode (lua_State *L) {
  char tc = tovalue(L)->typecode;
  lua_pushlstring(L, &tc, 1);
  return 1;
}

/* value_totable(h) -> {elements...} */
static int value_totable (lua_State *L) {
  mp_value *v = tovalue(L);
  uint64_t i;
  lua_createtable(L, (int)(v->count > 1000000 ? 1000000 : v->count), 0);
  for (i = 0; i < v->count; i++) {
    push_elem(L, v, i);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* value_bytes(h) -> the 'c' array as a string up to its first NUL */
static int value_bytes (lua_State *L) {
  mp_value *v = tovalue(L);
  const char *p = (const char *)v->data;
  size_t n = 0;
  while (n < v->count && p[n] != '\0') n++;
  lua_pushlstring(L, p, n);
  return 1;
}

/* value_setbytes(h, s): a 'c' array from a string, NUL padded */
static int value_setbytes (lua_State *L) {
  mp_value *v = tovalue(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  if (len > v->count) return luaL_error(L, "byte string too long");
  memcpy((char *)v->data, s, len);
  if (len < v->count) ((char *)v->data)[len] = '\0';
  return 0;
}

static int value_elsize (lua_State *L) {
  const char *tc = luaL_checkstring(L, 1);
  lua_pushinteger(L, tc[0] && !tc[1] ? elsize_of(tc[0]) : 0);
  return 1;
}

int64_t *ct_mp_value_int64 (lua_State *L, int idx, lua_Integer i) {
  mp_value *v = (mp_value *)((ct_shm_handle *)ct_checkhandle(L, idx, &value_kind))->obj;
  if (v->typecode != 'q' || i < 1 || (uint64_t)i > v->count)
    luaL_argerror(L, idx, "int64 array slot expected");
  return (int64_t *)v->data + (i - 1);
}

static const luaL_Reg funcs[] = {
  {"value_new", value_new},
  {"value_get", value_get},
  {"value_set", value_set},
  {"value_tryset", value_tryset},
  {"value_len", value_len},
  {"value_typecode", value_typecode},
  {"value_totable", value_totable},
  {"value_bytes", value_bytes},
  {"value_setbytes", value_setbytes},
  {"value_elsize", value_elsize},
  {NULL, NULL}
};

void ct_mp_value_register (lua_State *L) {
  ct_shm_register_kind(CT_MPK_VALUE, &value_kind, sizeof(ct_shm_handle));
  luaL_setfuncs(L, funcs, 0);
}
