/*
** Attaching and detaching: a thread touches the Lua heap only while
** attached. With the GIL on, attaching is taking the GIL.
*/
#include <errno.h>

#include "ct_internal.h"
#include "lauxlib.h"

ct_tstate *ct_detach (void) {
  ct_tstate *ts = ct_current;
  if (ts == NULL) return NULL;
  if (ct_rt.tracing) ct_trace_detach(ts, ct_now());
  if (ct_rt.gil_on) ct_gil_drop(ts);
  else ct_defer_released();  /* its deferred wakes (ct_defer.c) */
  __atomic_store_n(&ts->state, CT_DETACHED, __ATOMIC_RELEASE);
  return ts;
}

void ct_attach (ct_tstate *ts, int waited) {
  double asked = 0;
  if (ts == NULL) return;
  if (ct_rt.tracing) asked = ct_now();
  if (ct_rt.gil_on) {
    ct_gil_take(ts, waited);
    __atomic_store_n(&ts->state, CT_ATTACHED, __ATOMIC_RELEASE);
  }
  else {  /* announce, then wait out a stop-the-world under way */
    __atomic_store_n(&ts->state, CT_ATTACHED, __ATOMIC_SEQ_CST);
    if (ct_stw_requested()) ct_stw_park(ts);
  }
  if (ct_rt.tracing) {
    /* with the GIL off there is no GIL to wait for: a stop-the-world
       waited out above counts as still blocked */
    double got = ct_rt.gil_on ? ts->t_taken : ct_now();
    ct_trace_attach(ts, ct_rt.gil_on ? asked : got, got);
  }
}

int ct_gil_enabled (void) {
  return ct_rt.gil_on;
}

int ct_wait_until (lua_State *L, uint32_t *addr, uint32_t expected,
                   const struct timespec *deadline, int shared) {
  ct_tstate *ts = ct_detach();
  int r = ct_futex_wait_intr(ts, addr, expected, deadline, shared);
  ct_attach(ts, 1);
  if (r == EINTR) ct_check_interrupt(L);
  return r != ETIMEDOUT;
}

struct timespec *ct_opt_deadline (lua_State *L, int arg, struct timespec *ts) {
  double t;
  if (lua_isnoneornil(L, arg)) return NULL;
  t = luaL_checknumber(L, arg);
  luaL_argcheck(L, t == t, arg, "timeout must be a number, not nan");  /* as Python */
  if (t < 0) return NULL;  /* negative: forever, as in the API */
  ct_abs_deadline(ts, t);
  return ts;
}
