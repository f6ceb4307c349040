/*
** The native half of multiprocessing ("cthreads.native.multiprocessing"),
** assembled from its parts: processes (ct_mp_process.c), locks and events
** (ct_mp_sync.c), shared values (ct_mp_value.c), queues and the codec
** functions (ct_mp_queue.c), connections and sockets (ct_mp_conn.c).
*/
#include "ct_handle.h"
#include "ct_mp.h"
#include "ct_shm.h"
#include "lauxlib.h"

static int mp_shm_ready (lua_State *L) {
  lua_pushboolean(L, ct_shm_init() == 0);
  return 1;
}

int luaopen_ct_multiprocessing (lua_State *L) {
  lua_newtable(L);
  ct_mp_process_register(L);
  ct_mp_sync_register(L);
  ct_mp_value_register(L);
  ct_mp_queue_register(L);
  ct_mp_conn_register(L);
  lua_pushcfunction(L, mp_shm_ready);
  lua_setfield(L, -2, "shm_ready");
  lua_pushlightuserdata(L, CT_HANDLE_KEY);
  lua_setfield(L, -2, "HANDLE");
  return 1;
}
