/*
** The time module, as Python's: sleep (detached, so other threads run),
** clocks, ctime. CTHREADS_TIME_SCALE multiplies every sleep.
*/
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "lauxlib.h"

static double clock_s (clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static lua_Integer clock_ns (clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (lua_Integer)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The longest sleep, as Python's: a length in nanoseconds must fit an
   int64 (about 292 years); a longer one (math.huge, 1e308) is an error
   there ("OverflowError: timestamp too large"), not a sleep that never
   ends. */
#define SLEEP_MAX 9223372036.0

static int t_sleep (lua_State *L) {
  double s = luaL_checknumber(L, 1);
  struct timespec dl;
  ct_tstate *ts;
  luaL_argcheck(L, s == s, 1, "sleep length must be a number, not nan");
  luaL_argcheck(L, s >= 0, 1, "sleep length must be non-negative");
  luaL_argcheck(L, s <= SLEEP_MAX, 1, "sleep length is too large");
  s *= ct_time_scale();
  ct_abs_deadline(&dl, s);
  ts = ct_detach();
  while (ct_sleep_until_intr(ts, &dl) == EINTR) {
    ct_attach(ts, 1);
    ct_check_interrupt(L);  /* Ctrl-C in the main thread raises here */
    ts = ct_detach();
  }
  ct_attach(ts, 1);
  return 0;
}

static int t_time (lua_State *L) {
  lua_pushnumber(L, clock_s(CLOCK_REALTIME));
  return 1;
}

static int t_time_ns (lua_State *L) {
  lua_pushinteger(L, clock_ns(CLOCK_REALTIME));
  return 1;
}

static int t_monotonic (lua_State *L) {
  lua_pushnumber(L, clock_s(CLOCK_MONOTONIC));
  return 1;
}

static int t_monotonic_ns (lua_State *L) {
  lua_pushinteger(L, clock_ns(CLOCK_MONOTONIC));
  return 1;
}

static int t_process_time (lua_State *L) {
  lua_pushnumber(L, clock_s(CLOCK_PROCESS_CPUTIME_ID));
  return 1;
}

static int t_thread_time (lua_State *L) {
  lua_pushnumber(L, clock_s(CLOCK_THREAD_CPUTIME_ID));
  return 1;
}

static int t_ctime (lua_State *L) {
  time_t t;
  struct tm tm;
  char buf[64];
  if (lua_isnoneornil(L, 1)) t = time(NULL);
  else if (lua_isinteger(L, 1)) t = (time_t)lua_tointeger(L, 1);
  else {
    /* floored, as Python's; a float outside time_t's range (or NaN) is
       refused before the conversion, which would be undefined */
    double d = floor(luaL_checknumber(L, 1));
    luaL_argcheck(L, d == d, 1, "timestamp must be a number, not nan");
    luaL_argcheck(L, d >= -9.2e18 && d <= 9.2e18, 1, "timestamp out of range");
    t = (time_t)d;
  }
  if (localtime_r(&t, &tm) == NULL)
    return luaL_argerror(L, 1, "timestamp out of range");
  /* Python's format: 'Sat Nov 21 14:16:00 2026', day padded with a space */
  strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg time_funcs[] = {
  {"sleep", t_sleep},
  {"time", t_time},
  {"time_ns", t_time_ns},
  {"monotonic", t_monotonic},
  {"monotonic_ns", t_monotonic_ns},
  {"perf_counter", t_monotonic},
  {"perf_counter_ns", t_monotonic_ns},
  {"process_time", t_process_time},
  {"thread_time", t_thread_time},
  {"ctime", t_ctime},
  {NULL, NULL}
};

int luaopen_ct_time (lua_State *L) {
  ct_time_scale();  /* read the environment once, before threads exist */
  luaL_newlib(L, time_funcs);
  return 1;
}
