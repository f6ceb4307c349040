/*
** Embedding cthreads in a C program: create the runtime, run Lua that
** starts threads, close it. Built by CMake as embed_example and run by
** the tests (spec/embed_spec.lua).
*/
#include <stdio.h>
#include <string.h>

#include "cthreads.h"
#include "lauxlib.h"

static const char code[] =
  "local total, lock = 0, threading.Lock()\n"
  "local ts = {}\n"
  "for i = 1, 4 do\n"
  "  ts[i] = threading.Thread{target = function()\n"
  "    for _ = 1, 1000 do lock:with(function() total = total + 1 end) end\n"
  "  end}\n"
  "  ts[i]:start()\n"
  "end\n"
  "for _, t in ipairs(ts) do t:join() end\n"
  "return total\n";

int main (void) {
  ct_options o;
  char err[256];
  lua_State *L;
  ct_options_init(&o);
  o.gil = 1;
  L = ct_open(&o, err, sizeof err);
  if (L == NULL) {
    fprintf(stderr, "embed_example: %s\n", err);
    return 1;
  }
  if (luaL_loadbuffer(L, code, strlen(code), "=embedded") != LUA_OK ||
      ct_pcall_traceback(L, 0, 1) != LUA_OK) {
    fprintf(stderr, "embed_example: %s\n", lua_tostring(L, -1));
    ct_close(L);
    return 1;
  }
  printf("embedded total = %lld\n", (long long)lua_tointeger(L, -1));
  lua_pop(L, 1);
  ct_close(L);
  return 0;
}
