/*
** Additions to the os table: getpid, getppid.
*/
#include <unistd.h>

#include "lauxlib.h"

static int os_getpid (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

static int os_getppid (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getppid());
  return 1;
}

void ct_open_os_additions (lua_State *L) {
  lua_getglobal(L, "os");
  lua_pushcfunction(L, os_getpid);
  lua_setfield(L, -2, "getpid");
  lua_pushcfunction(L, os_getppid);
  lua_setfield(L, -2, "getppid");
  lua_pop(L, 1);
}
