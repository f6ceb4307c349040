/*
** The value codec (see ct_codec.h). One value per message, a tag byte
** before each value:
**   nil, false, true
**   INT zigzag-varint, FLOAT 8 bytes (integers and floats stay apart)
**   STR varint length, bytes
**   TABLE u32 n, u32 h, n values for keys 1..n, h key/value pairs,
**         then the metatable (a value: nil, or a table). When the top bit
**         of n is set, the n list values are all integers, as 8-byte words
**         (the next bit: all floats, as 8-byte doubles): lists of numbers
**         cost a copy rather than a tagged value each
**   LFUNC varint length, string.dump bytes, varint count, the upvalues:
**         each a value, or UPREF (function ordinal, upvalue index) for a
**         cell shared with an upvalue of a function already sent
**   REF varint ordinal: a table or function sent earlier in the message
**         (shared and cyclic references); ordinals count every TABLE and
**         LFUNC in order, and those referenced again carry the SHARED bit
**   NAMED varint length, name: a standard library value (print,
**         math.sqrt, io.stdout, threading.Lock, queue.Empty, the stdlib
**         modules' environment...) that the
**         receiver looks up in its own standard library
**   ENV: the sender's globals table (as a value, or a function's _ENV
**         upvalue; also an _ENV layered over the globals by an __index
**         function), received as the receiver's globals
**   SHM varint kind, varint offset: a multiprocessing object in the arena
**   EXT varint kind, u32 length, payload: another sendable handle
**   CLASS varint length, identity, then the class as a TABLE: a class of
**         stdlib/class.lua (as a value or as a metatable), received as
**         the receiver's own class of that identity when it has one (its
**         ordinal then stands for that class, and the copy is dropped),
**         else as the copy, which the receiver records under the identity
**   CLASSREF varint length, identity, varint length, name: a class whose
**         copy could not be encoded (a field that cannot be sent): only
**         a receiver that has the class can take it
** Values that are none of these (coroutines, C functions outside the
** standard library, foreign userdata) are refused with "cannot send a
** value of type X to another process".
*/
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct_codec.h"
#include "ct_luafast.h"
#include "ct_shm.h"
#include "lauxlib.h"

enum {
  T_NIL = 0, T_FALSE, T_TRUE, T_INT, T_FLOAT, T_STR, T_TABLE, T_REF, T_LFUNC,
  T_NAMED, T_ENV, T_SHM, T_EXT, T_UPREF, T_CLASS, T_CLASSREF
};
#define SHARED 0x80
#define MAX_DEPTH 400
#define PACKED_INTS 0x80000000u    /* on a TABLE's list count */
#define PACKED_FLOATS 0x40000000u
#define COUNT_MASK 0x3fffffffu
#define PACK_MIN 8                 /* shorter lists are not worth the scan */
#define MAX_EXT 8

static const char names_v2n_key = 0;  /* registry: value -> name */
static const char names_n2v_key = 0;  /* registry: name -> value */
static const char dumps_key = 0;      /* registry: function -> string.dump (weak) */

static const ct_codec_ext *exts[MAX_EXT];

void ct_push_stdlib_env (lua_State *L);  /* bindings/ct_modules.c */

void ct_codec_register_ext (int id, const ct_codec_ext *ext) {
  if (id >= 0 && id < MAX_EXT) exts[id] = ext;
}

/* ---- buffers ------------------------------------------------------------- */

int ct_buf_reserve (ct_buf *b, size_t extra) {
  size_t ncap;
  char *np;
  if (b->cap - b->len >= extra) return 1;
  ncap = b->cap ? b->cap : 256;
  while (ncap - b->len < extra) {
    if (ncap > SIZE_MAX / 2) return 0;
    ncap *= 2;
  }
  np = (char *)realloc(b->p, ncap);
  if (np == NULL) return 0;
  b->p = np;
  b->cap = ncap;
  return 1;
}

void ct_buf_free (ct_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* Each thread keeps one spare buffer between messages, in a key whose
   destructor frees it when the thread ends. */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void free_spare (void *p) {
  ct_buf *b = (ct_buf *)p;
  free(b->p);
  free(b);
}

static void make_spare_key (void) {
  pthread_key_create(&spare_key, free_spare);
}

ct_buf ct_buf_take (void) {
  ct_buf b = {NULL, 0, 0};
  ct_buf *spare;
  pthread_once(&spare_once, make_spare_key);
  spare = (ct_buf *)pthread_getspecific(spare_key);
  if (spare != NULL && spare->p != NULL) {
    b = *spare;
    spare->p = NULL;
    spare->cap = 0;
  }
  b.len = 0;
  return b;
}

void ct_buf_free_spare (void) {
  ct_buf *spare;
  pthread_once(&spare_once, make_spare_key);
  spare = (ct_buf *)pthread_getspecific(spare_key);
  if (spare != NULL) {
    pthread_setspecific(spare_key, NULL);
    free_spare(spare);
  }
}

void ct_buf_give (ct_buf *b) {
  ct_buf *spare;
  pthread_once(&spare_once, make_spare_key);
  spare = (ct_buf *)pthread_getspecific(spare_key);
  if (spare == NULL && (spare = (ct_buf *)calloc(1, sizeof(ct_buf))) != NULL)
    pthread_setspecific(spare_key, spare);
  if (spare != NULL && spare->p == NULL && b->cap <= ((size_t)1 << 20)) {
    *spare = *b;
    spare->len = 0;
  }
  else free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* ---- pointer maps (open addressing) ---------------------------------------- */

typedef struct pmap {
  const void **keys;
  uint64_t *vals;
  size_t cap, n;
} pmap;

static size_t phash (const void *p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

static int pmap_get (const pmap *m, const void *k, uint64_t *v) {
  size_t i;
  if (m->cap == 0) return 0;
  for (i = phash(k, m->cap); m->keys[i] != NULL; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == k) {
      *v = m->vals[i];
      return 1;
    }
  }
  return 0;
}

static int pmap_put (pmap *m, const void *k, uint64_t v) {
  size_t i;
  if ((m->n + 1) * 2 > m->cap) {  /* grow */
    pmap nm;
    size_t j;
    nm.cap = m->cap ? m->cap * 2 : 64;
    nm.n = 0;
    nm.keys = (const void **)calloc(nm.cap, sizeof(void *));
    nm.vals = (uint64_t *)malloc(nm.cap * sizeof(uint64_t));
    if (nm.keys == NULL || nm.vals == NULL) {
      free(nm.keys);
      free(nm.vals);
      return 0;
    }
    for (j = 0; j < m->cap; j++)
      if (m->keys[j] != NULL) pmap_put(&nm, m->keys[j], m->vals[j]);
    free(m->keys);
    free(m->vals);
    *m = nm;
  }
  for (i = phash(k, m->cap); m->keys[i] != NULL; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == k) {
      m->vals[i] = v;
      return 1;
    }
  }
  m->keys[i] = k;
  m->vals[i] = v;
  m->n++;
  return 1;
}

/* drops the entries whose value is 'limit' << shift or more */
static int pmap_prune (pmap *m, uint64_t limit, int shift) {
  pmap nm = {NULL, NULL, 0, 0};
  size_t i;
  for (i = 0; i < m->cap; i++) {
    if (m->keys[i] != NULL && (m->vals[i] >> shift) < limit &&
        !pmap_put(&nm, m->keys[i], m->vals[i])) {
      free(nm.keys);
      free(nm.vals);
      return 0;
    }
  }
  free(m->keys);
  free(m->vals);
  *m = nm;
  return 1;
}

static void pmap_free (pmap *m) {
  free(m->keys);
  free(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->n = 0;
}

/* ---- the standard library by name ------------------------------------------ */

static const char *const base_names[] = {
  "assert", "collectgarbage", "dofile", "error", "getmetatable", "ipairs",
  "load", "loadfile", "next", "pairs", "pcall", "print", "rawequal", "rawget",
  "rawlen", "rawset", "require", "select", "setmetatable", "tonumber",
  "tostring", "type", "xpcall", "warn", NULL
};

static const char *const std_modules[] = {
  "string", "table", "math", "io", "os", "coroutine", "utf8", "debug",
  "package", NULL
};

static const char *const ct_modules[] = {
  "threading", "queue", "multiprocessing", "time", "asyncio", NULL
};

/* value at 'v' is called 'name': n2v[name] = v, v2n[v] = name unless named */
static void add_name (lua_State *L, int v2n, int n2v, int v, const char *name) {
  lua_pushvalue(L, v);
  lua_setfield(L, n2v, name);
  lua_pushvalue(L, v);
  if (lua_rawget(L, v2n) == LUA_TNIL) {
    lua_pushvalue(L, v);
    lua_pushstring(L, name);
    lua_rawset(L, v2n);
  }
  lua_pop(L, 1);
}

static int nameable (int t, int everything) {
  if (t == LUA_TFUNCTION || t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA)
    return 1;
  return everything && t == LUA_TTABLE;
}

/* names the string-keyed fields of the table at 'tab' as prefix.key;
   'levels' more levels below tables when 'everything' */
static void name_fields (lua_State *L, int v2n, int n2v, int tab,
                         const char *prefix, int levels, int everything) {
  luaL_checkstack(L, 6, "names");
  lua_pushnil(L);
  while (lua_next(L, tab) != 0) {
    int t = lua_type(L, -1);
    if (lua_type(L, -2) == LUA_TSTRING && nameable(t, everything) &&
        (everything || t != LUA_TFUNCTION || lua_iscfunction(L, -1))) {
      int v = lua_gettop(L);
      const char *name = lua_pushfstring(L, "%s.%s", prefix, lua_tostring(L, -2));
      add_name(L, v2n, n2v, v, name);
      if (t == LUA_TTABLE && levels > 0) {
        name_fields(L, v2n, n2v, v, name, levels - 1, everything);
        if (lua_getmetatable(L, v)) {
          /* the metatable's index is taken before the name is pushed (as
             arguments of one call, their order would be unspecified) */
          int mt = lua_gettop(L);
          add_name(L, v2n, n2v, mt, lua_pushfstring(L, "%s#mt", name));
          lua_pop(L, 2);
        }
      }
      lua_pop(L, 1);  /* name */
    }
    lua_pop(L, 1);
  }
}

static int is_ct_module (const char *name) {
  int i;
  if (strncmp(name, "cthreads.", 9) == 0) return 1;
  for (i = 0; ct_modules[i] != NULL; i++)
    if (strcmp(name, ct_modules[i]) == 0) return 1;
  return 0;
}

/* builds the two name maps once per process (children inherit them) */
static void build_names (lua_State *L) {
  int v2n, n2v, loaded, i;
  lua_newtable(L);
  v2n = lua_gettop(L);
  lua_newtable(L);
  n2v = lua_gettop(L);
  lua_pushglobaltable(L);
  for (i = 0; base_names[i] != NULL; i++) {
    lua_getfield(L, -1, base_names[i]);
    if (lua_iscfunction(L, -1)) add_name(L, v2n, n2v, lua_gettop(L), base_names[i]);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  /* the stdlib modules' environment: a stdlib function's _ENV upvalue */
  ct_push_stdlib_env(L);
  if (lua_istable(L, -1)) add_name(L, v2n, n2v, lua_gettop(L), "cthreads.env");
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  loaded = lua_gettop(L);
  for (i = 0; std_modules[i] != NULL; i++) {
    if (lua_getfield(L, loaded, std_modules[i]) == LUA_TTABLE) {
      add_name(L, v2n, n2v, lua_gettop(L), std_modules[i]);
      name_fields(L, v2n, n2v, lua_gettop(L), std_modules[i], 0, 0);
    }
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, loaded) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && is_ct_module(lua_tostring(L, -2)) &&
        lua_type(L, -1) == LUA_TTABLE) {
      const char *name = lua_tostring(L, -2);
      add_name(L, v2n, n2v, lua_gettop(L), name);
      name_fields(L, v2n, n2v, lua_gettop(L), name, 1, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);  /* loaded */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &names_n2v_key);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &names_v2n_key);
}

/* pushes the name map 'key' (building both on first use) */
static void push_names (lua_State *L, const void *key) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
    lua_pop(L, 1);
    build_names(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  }
}

static void push_dumps (lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &dumps_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &dumps_key);
  }
}

/* ---- encoding ------------------------------------------------------------------ */

typedef struct enc {
  lua_State *L;
  ct_buf *b;
  int failed;
  char *err;
  size_t errsize;
  int depth;
  int v2n, dumps, ids;     /* stack indices */
  uint32_t next;           /* next ordinal */
  pmap seen;               /* table/function -> ordinal */
  pmap upvals;             /* upvalue id -> ordinal << 8 | index */
  size_t *tagpos;          /* ordinal -> offset of its tag byte */
  size_t ntag, captag;
  ct_shm_obj **shm;        /* references taken, undone on failure */
  size_t nshm, capshm;
} enc;

static void fail (enc *e, const char *fmt, const char *what) {
  if (e->failed) return;
  e->failed = 1;
  snprintf(e->err, e->errsize, fmt, what);
}

static void nomem (enc *e) {
  fail(e, "%s", "not enough memory to encode the value");
}

static void put (enc *e, const void *p, size_t n) {
  if (e->failed) return;
  if (!ct_buf_reserve(e->b, n)) {
    nomem(e);
    return;
  }
  memcpy(e->b->p + e->b->len, p, n);
  e->b->len += n;
}

static void put_byte (enc *e, int c) {
  unsigned char x = (unsigned char)c;
  put(e, &x, 1);
}

static void put_varint (enc *e, uint64_t v) {
  unsigned char tmp[10];
  int n = 0;
  do {
    unsigned char byte = v & 0x7f;
    v >>= 7;
    tmp[n++] = byte | (v ? 0x80 : 0);
  } while (v);
  put(e, tmp, (size_t)n);
}

static void put_u32 (enc *e, uint32_t v) {
  put(e, &v, 4);
}

static int writer (lua_State *L, const void *p, size_t sz, void *ud) {
  ct_buf *b = (ct_buf *)ud;
  (void)L;
  if (!ct_buf_reserve(b, sz)) return 1;
  memcpy(b->p + b->len, p, sz);
  b->len += sz;
  return 0;
}

static void unsupported (enc *e, int idx) {
  fail(e, "cannot send a value of type %s to another process",
       luaL_typename(e->L, idx));
}

static void enc_value (enc *e, int idx);

/* records the tag position of a new ordinal */
static uint32_t new_ordinal (enc *e, const void *p) {
  uint32_t ord = e->next++;
  if (e->ntag == e->captag) {
    size_t nc = e->captag ? e->captag * 2 : 32;
    size_t *np = (size_t *)realloc(e->tagpos, nc * sizeof(size_t));
    if (np == NULL) {
      nomem(e);
      return ord;
    }
    e->tagpos = np;
    e->captag = nc;
  }
  e->tagpos[e->ntag++] = e->b->len;
  if (!pmap_put(&e->seen, p, ord)) nomem(e);
  return ord;
}

static void mark_shared (enc *e, uint64_t ord) {
  if (ord < e->ntag) e->b->p[e->tagpos[ord]] |= (char)SHARED;
}

static void put_int (enc *e, lua_Integer v) {
  uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  unsigned char *p;
  if (!ct_buf_reserve(e->b, 11)) {
    nomem(e);
    return;
  }
  p = (unsigned char *)e->b->p + e->b->len;
  *p++ = T_INT;
  while (z >= 0x80) {
    *p++ = (unsigned char)(z | 0x80);
    z >>= 7;
  }
  *p++ = (unsigned char)z;
  e->b->len = (size_t)((char *)p - e->b->p);
}

/* a number, boolean or string straight from its slot; 0 for other types */
static int enc_scalar (enc *e, const TValue *v) {
  switch (ttypetag(v)) {
    case LUA_VNUMINT:
      put_int(e, ivalue(v));
      return 1;
    case LUA_VNUMFLT: {
      double d = (double)fltvalue(v);
      put_byte(e, T_FLOAT);
      put(e, &d, 8);
      return 1;
    }
    case LUA_VFALSE:
      put_byte(e, T_FALSE);
      return 1;
    case LUA_VTRUE:
      put_byte(e, T_TRUE);
      return 1;
    case LUA_VSHRSTR:
    case LUA_VLNGSTR: {
      TString *ts = tsvalue(v);
      size_t len = tsslen(ts);
      put_byte(e, T_STR);
      put_varint(e, len);
      put(e, getstr(ts), len);
      return 1;
    }
    default:
      return 0;
  }
}

/* The list part is the array part's leading run of non-nil values, read
   straight from the slots; the array part's other values and the hash
   part (lua_next from the end of the array part) are sent as pairs. */
static void enc_table (enc *e, int idx) {
  lua_State *L = e->L;
  Table *t = ct_fast_table(L, idx);
  unsigned asize = ct_fast_asize(t), i;
  size_t countpos;
  uint32_t narr = 0, nhash = 0;
  uint32_t packed = 0;
  new_ordinal(e, lua_topointer(L, idx));
  put_byte(e, T_TABLE);
  countpos = e->b->len;
  put_u32(e, 0);
  put_u32(e, 0);
  i = 0;
  if (asize >= PACK_MIN) {  /* a list of integers only, or floats only? */
    int tag = ttypetag(ct_fast_slot(t, 0));
    unsigned run = 0;
    if (tag == LUA_VNUMINT || tag == LUA_VNUMFLT) {
      while (run < asize && run < COUNT_MASK && ttypetag(ct_fast_slot(t, run)) == tag) run++;
      if (run >= PACK_MIN && (run == asize || ttisnil(ct_fast_slot(t, run)))) {
        char *p;
        if (!ct_buf_reserve(e->b, (size_t)run * 8)) {
          nomem(e);
          return;
        }
        p = e->b->p + e->b->len;
        if (tag == LUA_VNUMINT) {
          for (i = 0; i < run; i++, p += 8) {
            int64_t v = (int64_t)ivalue(ct_fast_slot(t, i));
            memcpy(p, &v, 8);
          }
          packed = PACKED_INTS;
        }
        else {
          for (i = 0; i < run; i++, p += 8) {
            double v = (double)fltvalue(ct_fast_slot(t, i));
            memcpy(p, &v, 8);
          }
          packed = PACKED_FLOATS;
        }
        e->b->len += (size_t)run * 8;
        narr = run;
      }
    }
  }
  for (; !packed && i < asize && !e->failed; i++) {
    const TValue *v = ct_fast_slot(t, i);
    if (ttisnil(v)) break;
    if (!enc_scalar(e, v)) {
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
      enc_value(e, lua_gettop(L));
      lua_pop(L, 1);
    }
    narr++;
  }
  for (; i < asize && !e->failed; i++) {
    const TValue *v = ct_fast_slot(t, i);
    if (ttisnil(v)) continue;
    put_int(e, (lua_Integer)i + 1);
    if (!enc_scalar(e, v)) {
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
      enc_value(e, lua_gettop(L));
      lua_pop(L, 1);
    }
    nhash++;
  }
  if (e->failed) return;
  if (asize > 0) lua_pushinteger(L, (lua_Integer)asize);
  else lua_pushnil(L);
  while (!e->failed && lua_next(L, idx) != 0) {
    enc_value(e, lua_gettop(L) - 1);
    enc_value(e, lua_gettop(L));
    nhash++;
    lua_pop(L, 1);
  }
  if (e->failed) {
    lua_pop(L, 1);  /* the key left by the interrupted traversal */
    return;
  }
  narr |= packed;
  memcpy(e->b->p + countpos, &narr, 4);
  memcpy(e->b->p + countpos + 4, &nhash, 4);
  if (lua_getmetatable(L, idx)) {
    enc_value(e, lua_gettop(L));
    lua_pop(L, 1);
  }
  else put_byte(e, T_NIL);
}

/* is the value at 'idx' a table whose metatable's __index is a function
   (an environment layered over the globals)? */
static int env_layer (lua_State *L, int idx) {
  int layer;
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  lua_pushliteral(L, "__index");
  layer = lua_rawget(L, -2) == LUA_TFUNCTION;
  lua_pop(L, 2);
  return layer;
}

static void enc_function (enc *e, int idx) {
  lua_State *L = e->L;
  uint32_t ord;
  int i, nups = 0;
  size_t len;
  const char *dump, *name;
  if (lua_iscfunction(L, idx)) {
    unsupported(e, idx);
    return;
  }
  ord = new_ordinal(e, lua_topointer(L, idx));
  put_byte(e, T_LFUNC);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, e->dumps) != LUA_TSTRING) {
    ct_buf tmp = {NULL, 0, 0};
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    if (lua_dump(L, writer, &tmp, 0) != 0) {
      lua_pop(L, 1);
      ct_buf_free(&tmp);
      nomem(e);
      return;
    }
    lua_pop(L, 1);
    lua_pushlstring(L, tmp.p, tmp.len);
    ct_buf_free(&tmp);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -2);
    lua_rawset(L, e->dumps);
  }
  dump = lua_tolstring(L, -1, &len);
  put_varint(e, len);
  put(e, dump, len);
  lua_pop(L, 1);
  while (lua_getupvalue(L, idx, nups + 1) != NULL) {
    lua_pop(L, 1);
    nups++;
  }
  put_varint(e, (uint64_t)nups);
  for (i = 1; i <= nups && !e->failed; i++) {
    void *id = lua_upvalueid(L, idx, i);
    uint64_t where;
    if (pmap_get(&e->upvals, id, &where)) {
      put_byte(e, T_UPREF);
      put_varint(e, where >> 8);
      put_varint(e, where & 0xff);
      mark_shared(e, where >> 8);
      continue;
    }
    if (!pmap_put(&e->upvals, id, ((uint64_t)ord << 8) | (uint64_t)i)) {
      nomem(e);
      return;
    }
    /* An _ENV that is this state's globals is sent as ENV by enc_value
       (the receiver's globals, as pickle does), and so is one layered over
       them by an __index function (a test framework's per-file globals,
       busted's): copying that would copy the framework. Any other table
       is copied like any upvalue (local _ENV = {x = 5}). */
    name = lua_getupvalue(L, idx, i);
    if (name != NULL && strcmp(name, "_ENV") == 0 && env_layer(L, lua_gettop(L)))
      put_byte(e, T_ENV);
    else enc_value(e, lua_gettop(L));
    lua_pop(L, 1);
  }
}

static void enc_userdata (enc *e, int idx) {
  lua_State *L = e->L;
  void *ud = lua_touserdata(L, idx);
  const ct_kind *kind;
  int id, i;
  if (lua_type(L, idx) != LUA_TUSERDATA || lua_rawlen(L, idx) < sizeof(ct_kind *)) {
    unsupported(e, idx);
    return;
  }
  kind = *(const ct_kind **)ud;
  id = ct_shm_kind_id(kind);
  if (id >= 0) {
    ct_shm_handle *h = (ct_shm_handle *)ud;
    if (h->obj == NULL) {
      fail(e, "cannot send a closed %s", kind->name);
      return;
    }
    if (e->nshm == e->capshm) {
      size_t nc = e->capshm ? e->capshm * 2 : 8;
      ct_shm_obj **np = (ct_shm_obj **)realloc(e->shm, nc * sizeof(*np));
      if (np == NULL) {
        nomem(e);
        return;
      }
      e->shm = np;
      e->capshm = nc;
    }
    put_byte(e, T_SHM);
    put_varint(e, (uint64_t)id);
    put_varint(e, ct_shm_offset(h->obj));
    if (!e->failed) {
      ct_shm_incref(h->obj);
      e->shm[e->nshm++] = h->obj;
    }
    return;
  }
  for (i = 0; i < MAX_EXT; i++) {
    if (exts[i] != NULL && exts[i]->kind == kind) {
      size_t lenpos;
      uint32_t len;
      put_byte(e, T_EXT);
      put_varint(e, (uint64_t)i);
      lenpos = e->b->len;
      put_u32(e, 0);
      if (e->failed) return;
      if (!exts[i]->encode(L, ud, e->b, e->err, e->errsize)) {
        e->failed = 1;
        return;
      }
      len = (uint32_t)(e->b->len - lenpos - 4);
      memcpy(e->b->p + lenpos, &len, 4);
      return;
    }
  }
  unsupported(e, idx);
}

/* undoes the encoding since the state saved in 'to', when the buffer
   held 'len' bytes */
static void rollback (enc *e, const enc *to, size_t len) {
  size_t i;
  for (i = to->nshm; i < e->nshm; i++) ct_shm_decref(e->shm[i]);
  e->nshm = to->nshm;
  if (!pmap_prune(&e->seen, to->next, 0) || !pmap_prune(&e->upvals, to->next, 8)) {
    nomem(e);
    return;
  }
  e->b->len = len;
  e->next = to->next;
  e->ntag = to->ntag;
  e->depth = to->depth;
  e->failed = 0;
}

/* the class at 'idx', whose identity is at 'id': CLASS and a copy, or
   CLASSREF when a field of the class cannot be sent (as pickle, which
   sends a class by name only, sends its instances) */
static void enc_class (enc *e, int idx, int id) {
  lua_State *L = e->L;
  enc saved = *e;
  size_t start = e->b->len;
  int top = lua_gettop(L);
  size_t len;
  const char *s = lua_tolstring(L, id, &len);
  put_byte(e, T_CLASS);
  put_varint(e, len);
  put(e, s, len);
  enc_table(e, idx);
  if (!e->failed) return;
  lua_settop(L, top);
  rollback(e, &saved, start);
  if (e->failed) return;
  new_ordinal(e, lua_topointer(L, idx));
  put_byte(e, T_CLASSREF);
  put_varint(e, len);
  put(e, s, len);
  lua_pushliteral(L, "__name");
  if (lua_rawget(L, idx) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "?");
  }
  s = lua_tolstring(L, -1, &len);
  put_varint(e, len);
  put(e, s, len);
  lua_pop(L, 1);
}

static void enc_value (enc *e, int idx) {
  lua_State *L = e->L;
  int t = lua_type(L, idx);
  if (e->failed) return;
  switch (t) {
    case LUA_TNIL:
      put_byte(e, T_NIL);
      return;
    case LUA_TBOOLEAN:
      put_byte(e, lua_toboolean(L, idx) ? T_TRUE : T_FALSE);
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) put_int(e, lua_tointeger(L, idx));
      else {
        double d = (double)lua_tonumber(L, idx);
        put_byte(e, T_FLOAT);
        put(e, &d, 8);
      }
      return;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      put_byte(e, T_STR);
      put_varint(e, len);
      put(e, s, len);
      return;
    }
    case LUA_TTABLE:
    case LUA_TFUNCTION:
    case LUA_TUSERDATA:
    case LUA_TLIGHTUSERDATA: {
      uint64_t ord;
      if (t == LUA_TTABLE) {
        lua_pushglobaltable(L);
        if (lua_rawequal(L, idx, -1)) {
          lua_pop(L, 1);
          put_byte(e, T_ENV);
          return;
        }
        lua_pop(L, 1);
      }
      if ((t == LUA_TTABLE || t == LUA_TFUNCTION) &&
          pmap_get(&e->seen, lua_topointer(L, idx), &ord)) {
        put_byte(e, T_REF);
        put_varint(e, ord);
        mark_shared(e, ord);
        return;
      }
      lua_pushvalue(L, idx);
      if (lua_rawget(L, e->v2n) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, -1, &len);
        put_byte(e, T_NAMED);
        put_varint(e, len);
        put(e, name, len);
        lua_pop(L, 1);
        return;
      }
      lua_pop(L, 1);
      if (t == LUA_TLIGHTUSERDATA) {
        unsupported(e, idx);
        return;
      }
      if (++e->depth > MAX_DEPTH) {
        fail(e, "%s", "value nested too deeply to send to another process");
        return;
      }
      if (!lua_checkstack(L, 8)) {
        fail(e, "%s", "value nested too deeply to send to another process");
        return;
      }
      if (t == LUA_TTABLE) {
        int cls = 0;
        if (lua_getmetatable(L, idx)) {  /* every class has one */
          lua_pop(L, 1);
          lua_pushvalue(L, idx);
          if (lua_rawget(L, e->ids) == LUA_TSTRING) cls = lua_gettop(L);
          else lua_pop(L, 1);
        }
        if (cls) {
          enc_class(e, idx, cls);
          lua_pop(L, 1);
        }
        else enc_table(e, idx);
      }
      else if (t == LUA_TFUNCTION) enc_function(e, idx);
      else enc_userdata(e, idx);
      e->depth--;
      return;
    }
    default:
      unsupported(e, idx);
      return;
  }
}

int ct_encode (lua_State *L, int idx, ct_buf *b, char *err, size_t errsize) {
  enc e;
  size_t start = b->len;
  int top = lua_gettop(L);
  memset(&e, 0, sizeof e);
  idx = lua_absindex(L, idx);
  e.L = L;
  e.b = b;
  e.err = err;
  e.errsize = errsize;
  luaL_checkstack(L, 10, "encode");
  push_names(L, &names_v2n_key);
  e.v2n = lua_gettop(L);
  push_dumps(L);
  e.dumps = lua_gettop(L);
  ct_class_push_ids(L);
  e.ids = lua_gettop(L);
  enc_value(&e, idx);
  lua_settop(L, top);
  pmap_free(&e.seen);
  pmap_free(&e.upvals);
  free(e.tagpos);
  if (e.failed) {
    size_t i;
    for (i = 0; i < e.nshm; i++) ct_shm_decref(e.shm[i]);
    b->len = start;
  }
  free(e.shm);
  return !e.failed;
}

/* ---- decoding ------------------------------------------------------------------ */

typedef struct dec {
  lua_State *L;
  const char *p, *end;
  int adopt;
  int depth;
  uint32_t next;
  int refs;        /* stack slot: nil until a shared object appears */
  int n2v, by_id;  /* stack slots */
  const char *err;
  char errbuf[160];
} dec;

static int bad (dec *d, const char *msg) {
  if (d->err == NULL) d->err = msg;
  return 0;
}

static int get_byte (dec *d, int *c) {
  if (d->p >= d->end) return bad(d, "truncated message");
  *c = (unsigned char)*d->p++;
  return 1;
}

static int get_varint (dec *d, uint64_t *v) {
  uint64_t r = 0;
  int shift = 0;
  for (;;) {
    unsigned char c;
    if (d->p >= d->end || shift > 63) return bad(d, "malformed message");
    c = (unsigned char)*d->p++;
    r |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) break;
    shift += 7;
  }
  *v = r;
  return 1;
}

static int get_bytes (dec *d, size_t n, const char **s) {
  if ((size_t)(d->end - d->p) < n) return bad(d, "truncated message");
  *s = d->p;
  d->p += n;
  return 1;
}

/* the value at 'idx' is the object of ordinal 'ord' */
static void remember (dec *d, uint32_t ord, int idx) {
  lua_State *L = d->L;
  idx = lua_absindex(L, idx);
  if (lua_type(L, d->refs) != LUA_TTABLE) {
    lua_newtable(L);
    lua_replace(L, d->refs);
  }
  lua_pushvalue(L, idx);
  lua_rawseti(L, d->refs, (lua_Integer)ord);
}

static int dec_value (dec *d);

/* 'as': 0, or the stack slot of the value that the table's ordinal stands
   for (a class the receiver has: the table is a copy to be dropped) */
static int dec_table (dec *d, int shared, int as) {
  lua_State *L = d->L;
  uint32_t narr, nhash, i, j;
  const char *s;
  int t;
  Table *tab;
  uint32_t packed;
  if (!get_bytes(d, 8, &s)) return 0;
  memcpy(&narr, s, 4);
  memcpy(&nhash, s + 4, 4);
  packed = narr & (PACKED_INTS | PACKED_FLOATS);
  narr &= COUNT_MASK;
  if (packed == (PACKED_INTS | PACKED_FLOATS) ||
      (packed && narr > (uint64_t)(d->end - d->p) / 8) ||
      narr > (uint64_t)(d->end - d->p) || nhash > (uint64_t)(d->end - d->p) / 2)
    return bad(d, "malformed message");
  lua_createtable(L, (int)narr, (int)nhash);
  t = lua_gettop(L);
  tab = ct_fast_table(L, t);  /* its array part holds exactly narr slots */
  if (shared) remember(d, d->next, as ? as : t);
  d->next++;
  if (packed == PACKED_INTS) {
    for (i = 0; i < narr; i++, d->p += 8) {
      int64_t v;
      memcpy(&v, d->p, 8);
      setivalue(ct_fast_slot(tab, i), (lua_Integer)v);
    }
  }
  else if (packed == PACKED_FLOATS) {
    for (i = 0; i < narr; i++, d->p += 8) {
      double v;
      memcpy(&v, d->p, 8);
      setfltvalue(ct_fast_slot(tab, i), (lua_Number)v);
    }
  }
  for (i = 1; !packed && i <= narr; i++) {
    /* numbers and booleans straight into their slot (no GC barrier) */
    int tag = d->p < d->end ? (unsigned char)*d->p : -1;
    if (tag == T_INT) {
      uint64_t v;
      d->p++;
      if (!get_varint(d, &v)) return 0;
      setivalue(ct_fast_slot(tab, i - 1), (lua_Integer)((v >> 1) ^ (~(v & 1) + 1)));
    }
    else if (tag == T_FLOAT) {
      double x;
      d->p++;
      if (!get_bytes(d, 8, &s)) return 0;
      memcpy(&x, s, 8);
      setfltvalue(ct_fast_slot(tab, i - 1), (lua_Number)x);
    }
    else if (tag == T_TRUE) { d->p++; setbtvalue(ct_fast_slot(tab, i - 1)); }
    else if (tag == T_FALSE) { d->p++; setbfvalue(ct_fast_slot(tab, i - 1)); }
    else {
      if (!dec_value(d)) return 0;
      lua_rawseti(L, t, (lua_Integer)i);
    }
  }
  for (j = 0; j < nhash; j++) {
    if (!dec_value(d) || !dec_value(d)) return 0;
    if (lua_isnil(L, -2) || (lua_type(L, -2) == LUA_TNUMBER &&
                             lua_tonumber(L, -2) != lua_tonumber(L, -2)))
      return bad(d, "malformed message");
    lua_rawset(L, t);
  }
  if (!dec_value(d)) return 0;
  if (lua_type(L, -1) == LUA_TTABLE) lua_setmetatable(L, t);
  else if (lua_isnil(L, -1)) lua_pop(L, 1);
  else return bad(d, "malformed message");
  return 1;
}

static int dec_function (dec *d, int shared) {
  lua_State *L = d->L;
  uint64_t len, nups, i;
  const char *s;
  int f;
  if (!get_varint(d, &len) || !get_bytes(d, (size_t)len, &s)) return 0;
  if (len < 4 || memcmp(s, LUA_SIGNATURE, 4) != 0) return bad(d, "malformed message");
  if (luaL_loadbufferx(L, s, (size_t)len, "=(sent function)", "b") != LUA_OK) {
    snprintf(d->errbuf, sizeof d->errbuf, "cannot load a sent function: %s",
             lua_tostring(L, -1));
    d->err = d->errbuf;
    return 0;
  }
  f = lua_gettop(L);
  if (shared) remember(d, d->next, f);
  d->next++;
  if (!get_varint(d, &nups)) return 0;
  if (nups > 255 || (nups > 0 && lua_getupvalue(L, f, (int)nups) == NULL))
    return bad(d, "malformed message");
  if (nups > 0) lua_pop(L, 1);
  if (lua_getupvalue(L, f, (int)nups + 1) != NULL) return bad(d, "malformed message");
  for (i = 1; i <= nups; i++) {
    if (d->p < d->end && (unsigned char)*d->p == T_UPREF) {
      uint64_t ford, uidx;
      d->p++;
      if (!get_varint(d, &ford) || !get_varint(d, &uidx)) return 0;
      if (lua_type(L, d->refs) != LUA_TTABLE ||
          lua_rawgeti(L, d->refs, (lua_Integer)ford) != LUA_TFUNCTION ||
          lua_iscfunction(L, -1) || uidx < 1 || uidx > 255 ||
          lua_getupvalue(L, -1, (int)uidx) == NULL)
        return bad(d, "malformed message");
      lua_pop(L, 1);
      lua_upvaluejoin(L, f, (int)i, -1, (int)uidx);
      lua_pop(L, 1);
    }
    else {
      if (!dec_value(d)) return 0;
      lua_setupvalue(L, f, (int)i);
    }
  }
  return 1;
}

/* a CLASS: pushes the receiver's class of that identity, or the copy
   that follows (recorded under the identity) when there is none */
static int dec_class (dec *d) {
  lua_State *L = d->L;
  uint64_t len;
  const char *s;
  int id, tag, ok;
  if (!get_varint(d, &len) || !get_bytes(d, (size_t)len, &s)) return 0;
  if (!get_byte(d, &tag) || (tag & ~SHARED) != T_TABLE) return bad(d, "malformed message");
  lua_pushlstring(L, s, (size_t)len);
  id = lua_gettop(L);
  lua_pushvalue(L, id);
  lua_rawget(L, d->by_id);
  if (++d->depth > MAX_DEPTH) return bad(d, "message nested too deeply");
  ok = dec_table(d, tag & SHARED, lua_isnil(L, id + 1) ? 0 : id + 1);
  d->depth--;
  if (!ok) return 0;
  if (lua_isnil(L, id + 1)) ct_class_record(L, -1, id);
  else lua_pop(L, 1);  /* the copy */
  lua_replace(L, id);
  lua_settop(L, id);
  return 1;
}

static int dec_value (dec *d) {
  lua_State *L = d->L;
  int tag, shared;
  uint64_t v;
  const char *s;
  if (!get_byte(d, &tag)) return 0;
  shared = tag & SHARED;
  tag &= ~SHARED;
  if (!lua_checkstack(L, 6)) return bad(d, "message nested too deeply");
  switch (tag) {
    case T_NIL: lua_pushnil(L); return 1;
    case T_FALSE: lua_pushboolean(L, 0); return 1;
    case T_TRUE: lua_pushboolean(L, 1); return 1;
    case T_INT:
      if (!get_varint(d, &v)) return 0;
      lua_pushinteger(L, (lua_Integer)((v >> 1) ^ (~(v & 1) + 1)));
      return 1;
    case T_FLOAT: {
      double x;
      if (!get_bytes(d, 8, &s)) return 0;
      memcpy(&x, s, 8);
      lua_pushnumber(L, (lua_Number)x);
      return 1;
    }
    case T_STR:
      if (!get_varint(d, &v) || !get_bytes(d, (size_t)v, &s)) return 0;
      lua_pushlstring(L, s, (size_t)v);
      return 1;
    case T_TABLE:
    case T_LFUNC: {
      int ok;
      if (++d->depth > MAX_DEPTH) return bad(d, "message nested too deeply");
      ok = tag == T_TABLE ? dec_table(d, shared, 0) : dec_function(d, shared);
      d->depth--;
      return ok;
    }
    case T_CLASS:
      return dec_class(d);
    case T_CLASSREF: {
      const char *name;
      uint64_t nlen;
      if (!get_varint(d, &v) || !get_bytes(d, (size_t)v, &s) ||
          !get_varint(d, &nlen) || !get_bytes(d, (size_t)nlen, &name)) return 0;
      lua_pushlstring(L, s, (size_t)v);
      if (lua_rawget(L, d->by_id) != LUA_TTABLE) {
        snprintf(d->errbuf, sizeof d->errbuf,
                 "received an object of class '%.*s', which this process does not "
                 "have and which could not be copied", (int)(nlen > 60 ? 60 : nlen), name);
        d->err = d->errbuf;
        return 0;
      }
      if (shared) remember(d, d->next, -1);
      d->next++;
      return 1;
    }
    case T_REF:
      if (!get_varint(d, &v)) return 0;
      if (lua_type(L, d->refs) != LUA_TTABLE ||
          lua_rawgeti(L, d->refs, (lua_Integer)v) == LUA_TNIL)
        return bad(d, "malformed message");
      return 1;
    case T_NAMED:
      if (!get_varint(d, &v) || !get_bytes(d, (size_t)v, &s)) return 0;
      lua_pushlstring(L, s, (size_t)v);
      if (lua_rawget(L, d->n2v) == LUA_TNIL) {
        snprintf(d->errbuf, sizeof d->errbuf,
                 "received an unknown standard value '%.*s'", (int)(v > 60 ? 60 : v), s);
        d->err = d->errbuf;
        return 0;
      }
      return 1;
    case T_ENV:
      lua_pushglobaltable(L);
      return 1;
    case T_SHM: {
      uint64_t kid, off;
      size_t size;
      const ct_kind *kind;
      ct_shm_obj *o;
      if (!get_varint(d, &kid) || !get_varint(d, &off)) return 0;
      kind = ct_shm_kind((int)(kid < CT_SHM_MAXKINDS ? kid : CT_SHM_MAXKINDS), &size);
      o = (ct_shm_obj *)ct_shm_at(off);
      if (kind == NULL || o == NULL || o->refs == 0)
        return bad(d, "malformed message (bad shared object)");
      if (!d->adopt) ct_shm_incref(o);
      ct_shm_pushhandle(L, size, kind, o);
      return 1;
    }
    case T_EXT: {
      uint32_t len;
      if (!get_varint(d, &v) || !get_bytes(d, 4, &s)) return 0;
      memcpy(&len, s, 4);
      if (v >= MAX_EXT || exts[v] == NULL || !get_bytes(d, len, &s))
        return bad(d, "malformed message");
      if (!exts[v]->decode(L, s, len, d->errbuf, sizeof d->errbuf)) {
        d->err = d->errbuf;
        return 0;
      }
      return 1;
    }
    default:
      return bad(d, "malformed message");
  }
}

int ct_decode (lua_State *L, const char *p, size_t n, int adopt,
               char *err, size_t errsize) {
  dec d;
  int top = lua_gettop(L);
  memset(&d, 0, sizeof d);
  d.L = L;
  d.p = p;
  d.end = p + n;
  d.adopt = adopt;
  luaL_checkstack(L, 10, "decode");
  push_names(L, &names_n2v_key);
  d.n2v = lua_gettop(L);
  lua_pushnil(L);
  d.refs = lua_gettop(L);
  ct_class_push_by_id(L);
  d.by_id = lua_gettop(L);
  if (!dec_value(&d) || (d.p != d.end && bad(&d, "malformed message (trailing bytes)") == 0)) {
    snprintf(err, errsize, "%s", d.err ? d.err : "malformed message");
    lua_settop(L, top);
    return 0;
  }
  lua_replace(L, top + 1);  /* the value over the name map (refs, classes) */
  lua_settop(L, top + 1);
  return 1;
}

/* ---- releasing an undelivered message ------------------------------------------ */

/* walks one value, dropping the shared references; 0 if malformed */
static int skip_value (dec *d) {
  int tag;
  uint64_t v, i;
  const char *s;
  if (!get_byte(d, &tag)) return 0;
  if (++d->depth > MAX_DEPTH) return 0;
  switch (tag & ~SHARED) {
    case T_NIL: case T_FALSE: case T_TRUE: case T_ENV: break;
    case T_INT: if (!get_varint(d, &v)) return 0; break;
    case T_FLOAT: if (!get_bytes(d, 8, &s)) return 0; break;
    case T_STR: case T_NAMED:
      if (!get_varint(d, &v) || !get_bytes(d, (size_t)v, &s)) return 0;
      break;
    case T_REF: if (!get_varint(d, &v)) return 0; break;
    case T_CLASS:  /* the identity, then the copy */
      if (!get_varint(d, &v) || !get_bytes(d, (size_t)v, &s) || !skip_value(d)) return 0;
      break;
    case T_CLASSREF:  /* the identity and the name */
      if (!get_varint(d, &v) || !get_bytes(d, (size_t)v, &s) ||
          !get_varint(d, &v) || !get_bytes(d, (size_t)v, &s)) return 0;
      break;
    case T_TABLE: {
      uint32_t narr, nhash;
      if (!get_bytes(d, 8, &s)) return 0;
      memcpy(&narr, s, 4);
      memcpy(&nhash, s + 4, 4);
      if (narr & (PACKED_INTS | PACKED_FLOATS)) {
        if (!get_bytes(d, (size_t)(narr & COUNT_MASK) * 8, &s)) return 0;
      }
      else for (i = 0; i < narr; i++) if (!skip_value(d)) return 0;
      for (i = 0; i < 2 * (uint64_t)nhash; i++) if (!skip_value(d)) return 0;
      if (!skip_value(d)) return 0;
      break;
    }
    case T_LFUNC:
      if (!get_varint(d, &v) || !get_bytes(d, (size_t)v, &s)) return 0;
      if (!get_varint(d, &v) || v > 255) return 0;
      for (i = 0; i < v; i++) {
        if (d->p < d->end && (unsigned char)*d->p == T_UPREF) {
          uint64_t a, b;
          d->p++;
          if (!get_varint(d, &a) || !get_varint(d, &b)) return 0;
        }
        else if (!skip_value(d)) return 0;
      }
      break;
    case T_SHM: {
      uint64_t off;
      ct_shm_obj *o;
      if (!get_varint(d, &v) || !get_varint(d, &off)) return 0;
      o = (ct_shm_obj *)ct_shm_at(off);
      if (o != NULL && o->refs > 0) ct_shm_decref(o);
      break;
    }
    case T_EXT: {
      uint32_t len;
      if (!get_varint(d, &v) || !get_bytes(d, 4, &s)) return 0;
      memcpy(&len, s, 4);
      if (!get_bytes(d, len, &s)) return 0;
      break;
    }
    default:
      return 0;
  }
  d->depth--;
  return 1;
}

void ct_codec_release (const char *p, size_t n) {
  dec d;
  memset(&d, 0, sizeof d);
  d.p = p;
  d.end = p + n;
  skip_value(&d);
}
