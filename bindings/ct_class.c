/*
** The native half of stdlib/class.lua ("cthreads.native.class"):
** register(cls), called once for each class as it is made, does two
** things.
**
** It gives the class an identity: the process's pid, a monotonic clock
** reading and a counter, as a 20-byte string that no other class of any
** process of the program has (the clock tells apart two processes that
** had the same pid in turn). Two maps in the registry hold it: class ->
** identity (weak keys) and identity -> class (weak values). A process
** forked after the class was made inherits both, so the codec
** (ct_codec.c) sends the class by reference, as pickle does, and the
** receiver finds its own copy of it.
**
** It sets the table's BITWATCH (vm patch 0024): every assignment of a
** "__" key reaches the class's __newindex, even when the key is present,
** so a class sees its metamethods change and copies them down to its
** subclasses.
*/
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ct_codec.h"
#include "ct_luafast.h"
#include "lauxlib.h"

static const char ids_key = 0;    /* registry: class -> identity */
static const char by_id_key = 0;  /* registry: identity -> class */

/* pushes the map at 'key' of the registry, made (weak in 'mode') on first use */
static void push_map (lua_State *L, const void *key, const char *mode) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void ct_class_push_ids (lua_State *L) {
  push_map(L, &ids_key, "k");
}

void ct_class_push_by_id (lua_State *L) {
  push_map(L, &by_id_key, "v");
}

void ct_class_record (lua_State *L, int cls, int id) {
  cls = lua_absindex(L, cls);
  id = lua_absindex(L, id);
  ct_class_push_ids(L);
  lua_pushvalue(L, cls);
  lua_pushvalue(L, id);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  ct_class_push_by_id(L);
  lua_pushvalue(L, id);
  lua_pushvalue(L, cls);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

static int class_register (lua_State *L) {
  static uint64_t counter;
  struct timespec now;
  uint32_t pid = (uint32_t)getpid();
  uint64_t ns, n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
  char id[20];
  luaL_checktype(L, 1, LUA_TTABLE);
  clock_gettime(CLOCK_MONOTONIC, &now);
  ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
  memcpy(id, &pid, 4);
  memcpy(id + 4, &ns, 8);
  memcpy(id + 12, &n, 8);
  lua_pushlstring(L, id, sizeof id);
  ct_class_record(L, 1, -1);
  __atomic_fetch_or(&ct_fast_table(L, 1)->flags, (lu_byte)BITWATCH, __ATOMIC_RELAXED);
  return 0;
}

static const luaL_Reg class_funcs[] = {
  {"register", class_register},
  {NULL, NULL}
};

int luaopen_ct_class (lua_State *L) {
  ct_class_push_ids(L);  /* made now, while only one thread runs */
  ct_class_push_by_id(L);
  lua_pop(L, 2);
  luaL_newlib(L, class_funcs);
  return 1;
}
