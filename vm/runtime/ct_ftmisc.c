/*
** The free-threaded mode's small locks for the standard library:
** math.random's one generator state for all threads, and the lock of
** an upvalue that another thread may be closing; and whether the
** compiler puts shared locals in cells.
*/
#include "ct_fthooks.h"  /* first: the Lua headers read its macros */
#include "ct_internal.h"
#include "ct_spin.h"
#include "lua.h"
#include "lobject.h"

/* chunks compiled with the GIL off (the default) may run on several
   threads at once; with the GIL on, a thread switch never splits a write */
int ct_ft_cells (void) { return !ct_rt.gil_on; }

static unsigned rand_lock;

void ct_ft_randlock (void) { ct_spin_lock(&rand_lock); }
void ct_ft_randunlock (void) { ct_spin_unlock(&rand_lock); }

/* an upvalue's writers and its closing exclude each other (a byte lock:
   held for one store or one move of the value) */
void ct_ft_lockuv (UpVal *uv) {
  unsigned n = 0;
  while (__atomic_exchange_n(&uv->ctlock, 1, __ATOMIC_ACQUIRE)) {
    if (++n < 64) ct_cpu_relax();
    else sched_yield();
  }
}

void ct_ft_unlockuv (UpVal *uv) {
  __atomic_store_n(&uv->ctlock, 0, __ATOMIC_RELEASE);
}

void ct_ft_setupval (lua_State *L, UpVal *uv, const TValue *v) {
  TValue *p;
  (void)L;
  ct_ft_lockuv(uv);
  p = __atomic_load_n(&uv->v, __ATOMIC_ACQUIRE);
  luai_tvstore(p, v);
  ct_ft_unlockuv(uv);
}
