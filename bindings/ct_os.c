/*
** Additions to the os table: getpid, getppid; and os.exit, which must not
** close the state under other threads.
*/
#include <stdlib.h>
#include <unistd.h>

#include "ct_internal.h"
#include "lauxlib.h"

static int os_getpid (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

static int os_getppid (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getppid());
  return 1;
}

/* os.exit([code=true], [close=false]): Lua's arguments; see ct_exit */
static int os_exit (lua_State *L) {
  int status;
  if (lua_isboolean(L, 1))
    status = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
  else
    status = (int)luaL_optinteger(L, 1, EXIT_SUCCESS);
  ct_exit(L, status, lua_toboolean(L, 2));
  return 0;  /* not reached */
}

void ct_open_os_additions (lua_State *L) {
  lua_getglobal(L, "os");
  lua_pushcfunction(L, os_getpid);
  lua_setfield(L, -2, "getpid");
  lua_pushcfunction(L, os_getppid);
  lua_setfield(L, -2, "getppid");
  lua_pushcfunction(L, os_exit);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
}
