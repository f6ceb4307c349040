/*
** Native handles shared by the bindings (see ct_handle.h).
*/
#include <stdlib.h>

#include "ct_handle.h"
#include "lauxlib.h"

const char ct_handle_key = 0;

void *ct_newhandle (lua_State *L, size_t size, const ct_kind *kind) {
  void *p = lua_newuserdatauv(L, size, 0);
  *(const ct_kind **)p = kind;
  return p;
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
    luaL_typeerror(L, idx, kind->name);
  return p;
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
