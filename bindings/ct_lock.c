/*
** threading.Lock and threading.RLock, native half. Uncontended acquire
** and release are one atomic instruction each; a contended acquire waits
** on the futex detached, so the holder (and everyone else) runs.
*/
#include <errno.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_lock.h"
#include "ct_lockword.h"
#include "ct_wait.h"
#include "lauxlib.h"

int ct_lockword_acquire_slow (lua_State *L, uint32_t *w,
                              const struct timespec *deadline) {
  ct_tstate *me = ct_current;
  double t0 = ct_now();
  int got = 0;
  if (me) me->lock_waits++;
  for (;;) {
    if (__atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE) == 0) {
      got = 1;
      break;
    }
    if (!ct_wait_until(L, w, 2, deadline, 0)) {  /* timed out: last try */
      uint32_t expected = 0;
      got = __atomic_compare_exchange_n(w, &expected, 2, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED);
      break;
    }
  }
  if (me) me->lock_waited += ct_now() - t0;
  return got;
}

int ct_lockword_release (uint32_t *w) {
  uint32_t old = __atomic_exchange_n(w, 0, __ATOMIC_RELEASE);
  if (old == 2) ct_futex_wake(w, 1, 0);
  return old != 0;
}

/* ---- Lock --------------------------------------------------------------- */

const ct_kind ct_lock_kind = {"Lock"};

/* the (blocking, timeout) arguments of acquire, as Python checks them */
static struct timespec *acquire_args (lua_State *L, int *blocking,
                                      struct timespec *tsb) {
  *blocking = ct_optboolean(L, 2, 1);
  if (!lua_isnoneornil(L, 3)) {
    double t = luaL_checknumber(L, 3);
    if (!*blocking && t >= 0)
      luaL_argerror(L, 3, "can't specify a timeout for a non-blocking call");
  }
  return ct_opt_deadline(L, 3, tsb);
}

/* lock_new([class]): a new lock handle; with a class, the handle gets it
   as its metatable and is itself the instance (what threading.Lock()
   returns: see stdlib/threading.lua) */
static int lock_new (lua_State *L) {
  ct_lock *lk = (ct_lock *)ct_newhandle(L, sizeof(ct_lock), &ct_lock_kind);
  lk->word = 0;
  if (lua_istable(L, 1)) {
    lua_pushvalue(L, 1);
    lua_setmetatable(L, -2);
  }
  return 1;
}

static int lock_acquire (lua_State *L) {
  ct_lock *lk = (ct_lock *)ct_checkhandle(L, 1, &ct_lock_kind);
  if (lua_gettop(L) <= 1) {  /* plain acquire(): the common case */
    if (!ct_lockword_try(&lk->word))
      ct_lockword_acquire_slow(L, &lk->word, NULL);
    lua_pushboolean(L, 1);
    return 1;
  }
  else {
    int blocking;
    struct timespec tsb;
    struct timespec *dl = acquire_args(L, &blocking, &tsb);
    int got = ct_lockword_try(&lk->word);
    if (!got && blocking) got = ct_lockword_acquire_slow(L, &lk->word, dl);
    lua_pushboolean(L, got);
    return 1;
  }
}

static int lock_release (lua_State *L) {
  ct_lock *lk = (ct_lock *)ct_checkhandle(L, 1, &ct_lock_kind);
  if (!ct_lockword_release(&lk->word))
    return luaL_error(L, "release unlocked lock");
  return 0;
}

static int lock_locked (lua_State *L) {
  ct_lock *lk = (ct_lock *)ct_checkhandle(L, 1, &ct_lock_kind);
  lua_pushboolean(L, __atomic_load_n(&lk->word, __ATOMIC_RELAXED) != 0);
  return 1;
}

/* ---- RLock -------------------------------------------------------------- */

const ct_kind ct_rlock_kind = {"RLock"};

static uint64_t my_ident (void) {
  return (uint64_t)pthread_self();
}

static int rlock_new (lua_State *L) {
  ct_rlock *r = (ct_rlock *)ct_newhandle(L, sizeof(ct_rlock), &ct_rlock_kind);
  r->word = 0;
  r->owner = 0;
  r->count = 0;
  return 1;
}

int ct_rlock_owned (ct_rlock *r) {
  return __atomic_load_n(&r->owner, __ATOMIC_RELAXED) == my_ident();
}

static int rlock_acquire (lua_State *L) {
  ct_rlock *r = (ct_rlock *)ct_checkhandle(L, 1, &ct_rlock_kind);
  int blocking;
  struct timespec tsb;
  struct timespec *dl = acquire_args(L, &blocking, &tsb);
  int got;
  if (ct_rlock_owned(r)) {
    r->count++;
    lua_pushboolean(L, 1);
    return 1;
  }
  got = ct_lockword_try(&r->word);
  if (!got && blocking) got = ct_lockword_acquire_slow(L, &r->word, dl);
  if (got) {
    __atomic_store_n(&r->owner, my_ident(), __ATOMIC_RELAXED);
    r->count = 1;
  }
  lua_pushboolean(L, got);
  return 1;
}

static int rlock_release (lua_State *L) {
  ct_rlock *r = (ct_rlock *)ct_checkhandle(L, 1, &ct_rlock_kind);
  if (!ct_rlock_owned(r) || r->count == 0)
    return luaL_error(L, "cannot release un-acquired lock");
  if (--r->count == 0) {
    __atomic_store_n(&r->owner, 0, __ATOMIC_RELAXED);
    ct_lockword_release(&r->word);
    ct_defer_released();  /* a notify's wakes (GIL off) */
  }
  return 0;
}

static int rlock_locked (lua_State *L) {
  ct_rlock *r = (ct_rlock *)ct_checkhandle(L, 1, &ct_rlock_kind);
  lua_pushboolean(L, __atomic_load_n(&r->word, __ATOMIC_RELAXED) != 0);
  return 1;
}

static int rlock_is_owned (lua_State *L) {
  ct_rlock *r = (ct_rlock *)ct_checkhandle(L, 1, &ct_rlock_kind);
  lua_pushboolean(L, ct_rlock_owned(r));
  return 1;
}

/* release_save(): releases completely, returns the recursion count (for
   Condition.wait on an RLock) */
lua_Integer ct_rlock_release_save (ct_rlock *r) {
  lua_Integer n = r->count;
  r->count = 0;
  __atomic_store_n(&r->owner, 0, __ATOMIC_RELAXED);
  ct_lockword_release(&r->word);
  ct_defer_released();  /* a notify's wakes (GIL off) */
  return n;
}

static int rlock_release_save (lua_State *L) {
  ct_rlock *r = (ct_rlock *)ct_checkhandle(L, 1, &ct_rlock_kind);
  if (!ct_rlock_owned(r) || r->count == 0)
    return luaL_error(L, "cannot release un-acquired lock");
  lua_pushinteger(L, ct_rlock_release_save(r));
  return 1;
}

/* acquire_restore(count): acquires and sets the recursion count */
void ct_rlock_acquire_restore (lua_State *L, ct_rlock *r, lua_Integer n) {
  if (!ct_lockword_try_free(&r->word) && !ct_lockword_spin(&r->word))
    ct_lockword_acquire_slow(L, &r->word, NULL);
  __atomic_store_n(&r->owner, my_ident(), __ATOMIC_RELAXED);
  r->count = n;
}

static int rlock_acquire_restore (lua_State *L) {
  ct_rlock *r = (ct_rlock *)ct_checkhandle(L, 1, &ct_rlock_kind);
  lua_Integer n = luaL_checkinteger(L, 2);
  ct_rlock_acquire_restore(L, r, n);
  return 0;
}

static const luaL_Reg lock_funcs[] = {
  {"lock_new", lock_new},
  {"lock_acquire", lock_acquire},
  {"lock_release", lock_release},
  {"lock_locked", lock_locked},
  {"rlock_new", rlock_new},
  {"rlock_acquire", rlock_acquire},
  {"rlock_release", rlock_release},
  {"rlock_locked", rlock_locked},
  {"rlock_is_owned", rlock_is_owned},
  {"rlock_release_save", rlock_release_save},
  {"rlock_acquire_restore", rlock_acquire_restore},
  {NULL, NULL}
};

void ct_lock_register (lua_State *L) {
  luaL_setfuncs(L, lock_funcs, 0);
}
