/*
** Native handles shared by the bindings (see ct_handle.h).
*/
#include <stdlib.h>
#include <string.h>

#include "ct_handle.h"
#include "lauxlib.h"

const char ct_handle_key = 0;

void *ct_newhandle (lua_State *L, size_t size, const ct_kind *kind) {
  void *p = lua_newuserdatauv(L, size, 0);
  *(const ct_kind **)p = kind;
  return p;
}

/* Is the table at idx an instance of a class named 'name' (or of one of
   its subclasses)? A kind "multiprocessing.Queue" names the class Queue. */
static int instance_of (lua_State *L, int idx, const char *name) {
  const char *dot = strrchr(name, '.');
  int depth, found = 0;
  if (dot != NULL) name = dot + 1;
  if (!lua_getmetatable(L, idx)) return 0;
  for (depth = 0; depth < 100 && !found && lua_istable(L, -1); depth++) {
    lua_pushliteral(L, "__name");
    lua_rawget(L, -2);
    found = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
    lua_pop(L, 1);
    lua_pushliteral(L, "super");
    lua_rawget(L, -2);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return found;
}

void *ct_checkhandle (lua_State *L, int idx, const ct_kind *kind) {
  /* the handle itself first (threading.Lock() instances are handles):
     lua_touserdata is not NULL for full and light userdata, and
     lua_rawlen is 0 for light ones, so the size check drops those too */
  void *p = lua_touserdata(L, idx);
  if (p != NULL) {
    if (lua_rawlen(L, idx) < sizeof(const ct_kind *)) p = NULL;
  }
  else if (lua_istable(L, idx)) {
    if (lua_rawgetp(L, idx, CT_HANDLE_KEY) == LUA_TUSERDATA &&
        lua_rawlen(L, -1) >= sizeof(const ct_kind *))
      p = lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
  if (p == NULL || *(const ct_kind **)p != kind)
    ct_handle_error(L, idx, kind->name);
  return p;
}

int ct_handle_error (lua_State *L, int idx, const char *name) {
  idx = lua_absindex(L, idx);
  if (lua_istable(L, idx) && lua_rawgetp(L, idx, CT_HANDLE_KEY) == LUA_TNIL &&
      instance_of(L, idx, name)) {
    /* a subclass whose init did not call its parent's: say so (as
       Thread:start does), rather than "Queue expected, got MyQueue" */
    const char *dot = strrchr(name, '.');
    const char *sub = "?";
    if (lua_getmetatable(L, idx)) {
      lua_pushliteral(L, "__name");
      lua_rawget(L, -2);
      if (lua_type(L, -1) == LUA_TSTRING) sub = lua_tostring(L, -1);
    }
    return luaL_error(L, "%s.init() was not called (call %s.super.init(self) in your init)",
                      dot != NULL ? dot + 1 : name, sub);
  }
  return luaL_typeerror(L, idx, name);
}

int ct_optboolean (lua_State *L, int arg, int def) {
  if (lua_isnoneornil(L, arg)) return def;
  luaL_checktype(L, arg, LUA_TBOOLEAN);
  return lua_toboolean(L, arg);
}

static double scale = -1;

/* -E: CTHREADS_TIME_SCALE is ignored, as every environment variable */
void ct_time_scale_noenv (void) {
  scale = 1.0;
}

double ct_time_scale (void) {
  if (scale < 0) {
    const char *s = getenv("CTHREADS_TIME_SCALE");
    char *end = NULL;
    double v = (s != NULL && *s != '\0') ? strtod(s, &end) : 1.0;
    /* empty is unset; an unparsable value (refused by the host) is 1 */
    scale = (v >= 0 && v == v && (end == NULL || *end == '\0')) ? v : 1.0;
  }
  return scale;
}
