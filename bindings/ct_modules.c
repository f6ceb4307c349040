/*
** Registers the builtins in a new state: the native halves under
** "cthreads.native.NAME", the embedded stdlib/NAME.lua modules under
** "cthreads.NAME", and the public modules (threading, queue, ...) both as
** globals and in package.loaded, like string or math.
**
** The stdlib modules run in their own environment: a copy of the globals
** made before any script runs (the standard library, the locked require,
** print), so that a script that removes or replaces a global (`rawget =
** nil`; Lua's own test suite clears them all before it ends) cannot break
** threading or multiprocessing underneath it, as a Python script cannot
** reach into a module's namespace by assigning its own globals.
*/
#include <string.h>

#include "lauxlib.h"
#include "ct_stdlib.h"

int luaopen_ct_time (lua_State *L);
int luaopen_ct_threading (lua_State *L);
int luaopen_ct_aio (lua_State *L);
int luaopen_ct_multiprocessing (lua_State *L);
int luaopen_ct_queue (lua_State *L);
int luaopen_ct_class (lua_State *L);
void ct_open_os_additions (lua_State *L);
void ct_open_print (lua_State *L);
void ct_open_require (lua_State *L);

static const luaL_Reg natives[] = {
  {"cthreads.native.time", luaopen_ct_time},
  {"cthreads.native.threading", luaopen_ct_threading},
  {"cthreads.native.asyncio", luaopen_ct_aio},
  {"cthreads.native.multiprocessing", luaopen_ct_multiprocessing},
  {"cthreads.native.queue", luaopen_ct_queue},
  {"cthreads.native.class", luaopen_ct_class},
  {NULL, NULL}
};

/* the public modules, in dependency order: name, then where it comes from */
static const char *const builtins[][2] = {
  {"time", "cthreads.native.time"},
  {"threading", "cthreads.threading"},
  {"queue", "cthreads.queue"},
  {"asyncio", "cthreads.asyncio"},
  {"multiprocessing", "cthreads.multiprocessing"},
  {NULL, NULL}
};

static const char stdlib_env_key = 0;

void ct_push_stdlib_env (lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &stdlib_env_key);
}

static void make_stdlib_env (lua_State *L) {
  lua_newtable(L);
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -5);
  }
  lua_pop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &stdlib_env_key);
}

static int load_embedded (lua_State *L) {
  const ct_embedded *m = &ct_stdlib_modules[lua_tointeger(L, lua_upvalueindex(1))];
  char chunkname[96];
  snprintf(chunkname, sizeof chunkname, CT_STDLIB_CHUNKNAME, m->name);
  /* bytecode made at build time (vm/tools/ct_precompile.c); source in
     that build tool itself */
  if (luaL_loadbuffer(L, m->code, m->size, chunkname) != LUA_OK)
    return lua_error(L);
  ct_push_stdlib_env(L);
  if (lua_setupvalue(L, -2, 1) == NULL)  /* the chunk's _ENV */
    lua_pop(L, 1);
  lua_pushvalue(L, 1);  /* module name */
  lua_call(L, 1, 1);
  return 1;
}

void ct_open_modules (lua_State *L) {
  int i;
  ct_open_os_additions(L);
  ct_open_print(L);
  ct_open_require(L);
  make_stdlib_env(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (i = 0; natives[i].name != NULL; i++) {
    lua_pushcfunction(L, natives[i].func);
    lua_setfield(L, -2, natives[i].name);
  }
  for (i = 0; ct_stdlib_modules[i].name != NULL; i++) {
    char name[96];
    snprintf(name, sizeof name, "cthreads.%s", ct_stdlib_modules[i].name);
    lua_pushinteger(L, i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, name);
  }
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (i = 0; builtins[i][0] != NULL; i++) {
    lua_getglobal(L, "require");  /* finds it in package.preload */
    lua_pushstring(L, builtins[i][1]);
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, builtins[i][0]);  /* package.loaded[name] */
    lua_setglobal(L, builtins[i][0]);
  }
  lua_pop(L, 1);
}
