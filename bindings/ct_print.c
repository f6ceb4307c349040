/*
** print, replaced: the same output as Lua's, but each call writes its
** whole line with one stdio call (detached, since it may block), so lines
** printed by different threads never mix.
*/
#include <stdio.h>

#include "cthreads.h"
#include "lauxlib.h"

static int ct_print (lua_State *L) {
  int n = lua_gettop(L);
  int i;
  luaL_Buffer b;
  size_t len;
  const char *s;
  ct_tstate *ts;
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    /* the separator first: with the value pushed, the buffer is no longer
       on top, and growing it then would swap the wrong stack slots */
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);  /* uses __tostring/__name */
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  s = lua_tolstring(L, -1, &len);  /* anchored on the stack while detached */
  ts = ct_detach();
  flockfile(stdout);
  fwrite_unlocked(s, 1, len, stdout);
  fflush_unlocked(stdout);
  funlockfile(stdout);
  ct_attach(ts, 0);
  return 0;
}

void ct_open_print (lua_State *L) {
  lua_pushcfunction(L, ct_print);
  lua_setglobal(L, "print");
}
