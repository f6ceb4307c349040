/*
** Protected calls with a traceback, for the host and for threads.
*/
#include "cthreads.h"
#include "ct_internal.h"
#include "lauxlib.h"

static int msghandler (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {  /* an error object that is not a string */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;  /* its own message, without a traceback (as lua.c) */
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  /* a Ctrl-C's error stays recognizable with its traceback */
  if (ct_current != NULL && ct_current->is_main && ct_is_interrupt(L, 1)) {
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, CT_INTERRUPT_KEY);
  }
  return 1;
}

int ct_pcall_traceback (lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  int status;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}
