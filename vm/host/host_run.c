/*
** Running chunks for the host: protected calls with a traceback, and
** error reports in lua.c's format ("cthreads: message").
*/
#include <stdio.h>
#include <string.h>

#include "cthreads.h"
#include "host.h"
#include "lauxlib.h"

const char *host_progname = PROGNAME;
int host_interrupted;

int host_report (lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    host_interrupted = ct_is_interrupt(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    if (host_progname) fprintf(stderr, "%s: ", host_progname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

int host_docall (lua_State *L, int narg, int nres) {
  return ct_pcall_traceback(L, narg, nres);
}

int host_dostring (lua_State *L, const char *s, const char *name) {
  int status = luaL_loadbuffer(L, s, strlen(s), name);
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  return host_report(L, status);
}
