/*
** The native half of multiprocessing ("cthreads.native.multiprocessing"),
** assembled from its parts: processes (ct_mp_process.c), locks and events
** (ct_mp_sync.c), shared values (ct_mp_value.c), queues and the codec
** functions (ct_mp_queue.c), connections and sockets (ct_mp_conn.c).
*/
#include "ct_handle.h"
#include "ct_luafast.h"
#include "ct_mp.h"
#include "ct_shm.h"
#include "lauxlib.h"

static int mp_shm_ready (lua_State *L) {
  lua_pushboolean(L, ct_shm_init() == 0);
  return 1;
}

/* list_new(n) -> an empty table with room for n list items */
static int mp_list_new (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_createtable(L, n > 0 && n < (1 << 26) ? (int)n : 0, 0);
  return 1;
}

/* copies src[i..i+n-1] to dst[at..at+n-1] (raw); array slots directly
   when both sides are in array parts and the value is not collectable */
static void copy_range (lua_State *L, int src, lua_Integer i, lua_Integer n,
                        int dst, lua_Integer at) {
  Table *ts = ct_fast_table(L, src), *td = ct_fast_table(L, dst);
  lua_Unsigned sa = ct_fast_asize(ts), da = ct_fast_asize(td);
  lua_Integer k;
  for (k = 0; k < n; k++) {
    lua_Integer si = i + k, di = at + k;
    if (si >= 1 && (lua_Unsigned)si <= sa && di >= 1 && (lua_Unsigned)di <= da) {
      const TValue *v = ct_fast_slot(ts, (unsigned)(si - 1));
      if (!iscollectable(v)) {
        ct_fast_copy(ct_fast_slot(td, (unsigned)(di - 1)), v);
        continue;
      }
    }
    lua_rawgeti(L, src, si);
    lua_rawseti(L, dst, di);
    sa = ct_fast_asize(ts);  /* a write through the API may resize dst */
    da = ct_fast_asize(td);
  }
}

/* slice(t, i, j) -> {t[i], ..., t[j]} (raw reads, presized) */
static int mp_slice (lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 2), j = luaL_checkinteger(L, 3);
  lua_Integer n = j >= i ? j - i + 1 : 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, n < (1 << 26), 3, "slice too long");
  lua_createtable(L, (int)n, 0);
  copy_range(L, 1, i, n, lua_gettop(L), 1);
  return 1;
}

/* move(src, n, dst, at): dst[at..at+n-1] = src[1..n] (raw) */
static int mp_move (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 2), at = luaL_checkinteger(L, 4);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  copy_range(L, 1, 1, n, 3, at);
  return 0;
}

int luaopen_ct_multiprocessing (lua_State *L) {
  ct_shm_install_hooks();
  lua_newtable(L);
  ct_mp_process_register(L);
  ct_mp_sync_register(L);
  ct_mp_value_register(L);
  ct_mp_queue_register(L);
  ct_mp_conn_register(L);
  lua_pushcfunction(L, mp_shm_ready);
  lua_setfield(L, -2, "shm_ready");
  lua_pushcfunction(L, mp_list_new);
  lua_setfield(L, -2, "list_new");
  lua_pushcfunction(L, mp_slice);
  lua_setfield(L, -2, "slice");
  lua_pushcfunction(L, mp_move);
  lua_setfield(L, -2, "move");
  lua_pushlightuserdata(L, CT_HANDLE_KEY);
  lua_setfield(L, -2, "HANDLE");
  return 1;
}
