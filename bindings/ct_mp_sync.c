/*
** multiprocessing's Lock, RLock, Semaphore, BoundedSemaphore, Event and
** Condition: state in the shared arena, waits on process-shared futexes
** (detached, so the caller's other threads run). Owners are kernel thread
** ids, unique across processes.
*/
#include <errno.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_mp.h"
#include "ct_shm.h"
#include "lauxlib.h"

int ct_mp_raw_error (lua_State *L, const char *msg) {
  lua_pushstring(L, msg);
  return lua_error(L);
}

static const char error_kinds_key = 0;

/* set_error_kinds{Empty=, Full=, EOFError=}: the values the natives raise */
static int set_error_kinds (lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushvalue(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &error_kinds_key);
  return 0;
}

int ct_mp_raise_kind (lua_State *L, const char *name) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &error_kinds_key) == LUA_TTABLE &&
      lua_getfield(L, -1, name) != LUA_TNIL)
    return lua_error(L);
  return ct_mp_raw_error(L, name);
}

int ct_mp_wait (uint32_t *w, uint32_t expected, const struct timespec *dl) {
  ct_tstate *ts = ct_detach();
  int r = ct_futex_wait_intr(ts, w, expected, dl, 1);
  ct_attach(ts, 1);
  return r;
}

static int32_t my_tid (void) {
  static _Thread_local int32_t tid = 0;
  static _Thread_local pid_t for_pid = 0;
  pid_t pid = getpid();
  if (tid == 0 || for_pid != pid) {  /* a forked child has a new tid */
    tid = (int32_t)syscall(SYS_gettid);
    for_pid = pid;
  }
  return tid;
}

/* the (blocking, timeout) arguments at 2 and 3, as threading checks them */
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

/* ---- the lock word: 0 free, 1 held, 2 held and maybe waited for ------------ */

static int word_try (uint32_t *w) {
  uint32_t expected = 0;
  return __atomic_compare_exchange_n(w, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED);
}

static int word_acquire (lua_State *L, uint32_t *w, int blocking,
                         const struct timespec *dl) {
  ct_tstate *me = ct_current;
  double t0;
  int got = 0;
  if (word_try(w)) return 1;
  if (!blocking) return 0;
  t0 = ct_now();
  if (me) me->lock_waits++;
  for (;;) {
    int r;
    if (__atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE) == 0) {
      got = 1;
      break;
    }
    r = ct_mp_wait(w, 2, dl);
    if (r == EINTR) ct_check_interrupt(L);
    if (r == ETIMEDOUT) {
      uint32_t expected = 0;
      got = __atomic_compare_exchange_n(w, &expected, 2, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED);
      break;
    }
  }
  if (me) me->lock_waited += ct_now() - t0;
  return got;
}

static int word_release (uint32_t *w) {
  uint32_t old = __atomic_exchange_n(w, 0, __ATOMIC_RELEASE);
  if (old == 2) ct_futex_wake(w, 1, 1);
  return old != 0;
}

/* ---- Lock and RLock ------------------------------------------------------------ */

typedef struct mp_lock {
  ct_shm_obj h;
  uint32_t word;
  int32_t owner;     /* tid of the holder (atomic), 0 if none */
  int64_t count;     /* RLock recursion, touched by the owner only */
} mp_lock;

static const ct_kind lock_kind = {"multiprocessing.Lock"};
static const ct_kind rlock_kind = {"multiprocessing.RLock"};

static mp_lock *tolock (lua_State *L, int idx, int *recursive) {
  ct_shm_handle *h;
  if (lua_type(L, idx) == LUA_TTABLE) {
    lua_rawgetp(L, idx, CT_HANDLE_KEY);
    h = (ct_shm_handle *)lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
  else h = (ct_shm_handle *)lua_touserdata(L, idx);
  if (h == NULL || (h->kind != &lock_kind && h->kind != &rlock_kind))
    luaL_typeerror(L, idx, "multiprocessing.Lock or RLock");
  *recursive = h->kind == &rlock_kind;
  return (mp_lock *)h->obj;
}

static int new_lock (lua_State *L, const ct_kind *kind) {
  mp_lock *lk = (mp_lock *)ct_shm_newobj(L, sizeof(mp_lock), CT_MPT_LOCK);
  ct_shm_pushhandle(L, sizeof(ct_shm_handle), kind, &lk->h);
  return 1;
}

static int lock_new (lua_State *L) { return new_lock(L, &lock_kind); }
static int rlock_new (lua_State *L) { return new_lock(L, &rlock_kind); }

static int lock_acquire (lua_State *L) {
  mp_lock *lk = (mp_lock *)((ct_shm_handle *)ct_checkhandle(L, 1, &lock_kind))->obj;
  int blocking;
  struct timespec tsb;
  struct timespec *dl = acquire_args(L, &blocking, &tsb);
  int got = word_acquire(L, &lk->word, blocking, dl);
  if (got) __atomic_store_n(&lk->owner, my_tid(), __ATOMIC_RELAXED);
  lua_pushboolean(L, got);
  return 1;
}

static int lock_release (lua_State *L) {
  mp_lock *lk = (mp_lock *)((ct_shm_handle *)ct_checkhandle(L, 1, &lock_kind))->obj;
  __atomic_store_n(&lk->owner, 0, __ATOMIC_RELAXED);
  if (!word_release(&lk->word))
    return ct_mp_raw_error(L, "release unlocked lock");
  return 0;
}

static int rlock_acquire (lua_State *L) {
  mp_lock *lk = (mp_lock *)((ct_shm_handle *)ct_checkhandle(L, 1, &rlock_kind))->obj;
  int blocking, got;
  struct timespec tsb;
  struct timespec *dl = acquire_args(L, &blocking, &tsb);
  int32_t me = my_tid();
  if (__atomic_load_n(&lk->owner, __ATOMIC_RELAXED) == me) {
    lk->count++;
    lua_pushboolean(L, 1);
    return 1;
  }
  got = word_acquire(L, &lk->word, blocking, dl);
  if (got) {
    __atomic_store_n(&lk->owner, me, __ATOMIC_RELAXED);
    lk->count = 1;
  }
  lua_pushboolean(L, got);
  return 1;
}

static int rlock_release (lua_State *L) {
  mp_lock *lk = (mp_lock *)((ct_shm_handle *)ct_checkhandle(L, 1, &rlock_kind))->obj;
  if (__atomic_load_n(&lk->owner, __ATOMIC_RELAXED) != my_tid() || lk->count <= 0)
    return ct_mp_raw_error(L, "cannot release un-acquired lock");
  if (--lk->count == 0) {
    __atomic_store_n(&lk->owner, 0, __ATOMIC_RELAXED);
    word_release(&lk->word);
  }
  return 0;
}

/* locked(lock_or_rlock) */
static int any_locked (lua_State *L) {
  int rec;
  mp_lock *lk = tolock(L, 1, &rec);
  lua_pushboolean(L, __atomic_load_n(&lk->word, __ATOMIC_RELAXED) != 0);
  return 1;
}

/* is_mine(lock_or_rlock): held by the calling thread */
static int any_is_mine (lua_State *L) {
  int rec;
  mp_lock *lk = tolock(L, 1, &rec);
  lua_pushboolean(L, __atomic_load_n(&lk->word, __ATOMIC_RELAXED) != 0 &&
                     __atomic_load_n(&lk->owner, __ATOMIC_RELAXED) == my_tid());
  return 1;
}

/* recursion count of an RLock (0 when not held by the caller) */
static int rlock_count (lua_State *L) {
  mp_lock *lk = (mp_lock *)((ct_shm_handle *)ct_checkhandle(L, 1, &rlock_kind))->obj;
  lua_Integer n = __atomic_load_n(&lk->owner, __ATOMIC_RELAXED) == my_tid()
                  ? lk->count : 0;
  lua_pushinteger(L, n);
  return 1;
}

/* releases a lock held by the caller completely; returns the count */
static int64_t release_save (mp_lock *lk, int recursive) {
  int64_t n = recursive ? lk->count : 1;
  if (recursive) lk->count = 0;
  __atomic_store_n(&lk->owner, 0, __ATOMIC_RELAXED);
  word_release(&lk->word);
  return n;
}

static void acquire_restore (lua_State *L, mp_lock *lk, int recursive, int64_t n) {
  while (!word_acquire(L, &lk->word, 1, NULL)) {}
  __atomic_store_n(&lk->owner, my_tid(), __ATOMIC_RELAXED);
  if (recursive) lk->count = n;
}

/* ---- Semaphore and BoundedSemaphore -------------------------------------------- */

typedef struct mp_sem {
  ct_shm_obj h;
  uint32_t value;     /* futex */
  uint32_t waiters;
  uint32_t maxvalue;  /* BoundedSemaphore: the initial value; 0: unbounded */
} mp_sem;

static const ct_kind sem_kind = {"multiprocessing.Semaphore"};

static mp_sem *tosem (lua_State *L) {
  return (mp_sem *)((ct_shm_handle *)ct_checkhandle(L, 1, &sem_kind))->obj;
}

/* sem_new(value, bounded) */
static int sem_new (lua_State *L) {
  lua_Integer v = luaL_optinteger(L, 1, 1);
  int bounded = lua_toboolean(L, 2);
  mp_sem *s;
  luaL_argcheck(L, v >= 0, 1, "semaphore initial value must be >= 0");
  luaL_argcheck(L, v <= INT32_MAX, 1, "semaphore initial value is too large");
  s = (mp_sem *)ct_shm_newobj(L, sizeof(mp_sem), CT_MPT_SEM);
  s->value = (uint32_t)v;
  s->maxvalue = bounded ? (uint32_t)v : 0;
  ct_shm_pushhandle(L, sizeof(ct_shm_handle), &sem_kind, &s->h);
  return 1;
}

static int sem_try (mp_sem *s) {
  uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
  while (v > 0) {
    if (__atomic_compare_exchange_n(&s->value, &v, v - 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return 1;
  }
  return 0;
}

static int sem_acquire (lua_State *L) {
  mp_sem *s = tosem(L);
  int blocking, got = 0;
  struct timespec tsb;
  struct timespec *dl = acquire_args(L, &blocking, &tsb);
  ct_tstate *me = ct_current;
  double t0;
  if (sem_try(s)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (!blocking) {
    lua_pushboolean(L, 0);
    return 1;
  }
  t0 = ct_now();
  if (me) me->lock_waits++;
  for (;;) {
    int r;
    __atomic_fetch_add(&s->waiters, 1, __ATOMIC_SEQ_CST);
    r = ct_mp_wait(&s->value, 0, dl);
    __atomic_fetch_sub(&s->waiters, 1, __ATOMIC_SEQ_CST);
    if (sem_try(s)) {
      got = 1;
      break;
    }
    if (r == EINTR) ct_check_interrupt(L);
    if (r == ETIMEDOUT) break;
  }
  if (me) me->lock_waited += ct_now() - t0;
  lua_pushboolean(L, got);
  return 1;
}

/* sem_release(h, [n=1]) */
static int sem_release (lua_State *L) {
  mp_sem *s = tosem(L);
  lua_Integer n = luaL_optinteger(L, 2, 1);
  uint32_t v;
  luaL_argcheck(L, n >= 1, 2, "n must be one or more");
  v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
  for (;;) {
    uint64_t nv = (uint64_t)v + (uint64_t)n;
    if ((s->maxvalue > 0 && nv > s->maxvalue) || nv > INT32_MAX)
      return ct_mp_raw_error(L, "semaphore or lock released too many times");
    if (__atomic_compare_exchange_n(&s->value, &v, (uint32_t)nv, 1,
                                    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
      break;
  }
  if (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST) > 0)
    ct_futex_wake(&s->value, n > INT32_MAX ? INT32_MAX : (int)n, 1);
  return 0;
}

static int sem_value (lua_State *L) {
  lua_pushinteger(L, __atomic_load_n(&tosem(L)->value, __ATOMIC_RELAXED));
  return 1;
}

/* ---- Event ------------------------------------------------------------------------ */

typedef struct mp_event {
  ct_shm_obj h;
  uint32_t flag;
  uint32_t waiters;
} mp_event;

static const ct_kind event_kind = {"multiprocessing.Event"};

static mp_event *toevent (lua_State *L) {
  return (mp_event *)((ct_shm_handle *)ct_checkhandle(L, 1, &event_kind))->obj;
}

static int event_new (lua_State *L) {
  mp_event *e = (mp_event *)ct_shm_newobj(L, sizeof(mp_event), CT_MPT_EVENT);
  ct_shm_pushhandle(L, sizeof(ct_shm_handle), &event_kind, &e->h);
  return 1;
}

static int event_set (lua_State *L) {
  mp_event *e = toevent(L);
  __atomic_store_n(&e->flag, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&e->waiters, __ATOMIC_SEQ_CST) > 0)
    ct_futex_wake(&e->flag, INT32_MAX, 1);
  return 0;
}

static int event_clear (lua_State *L) {
  __atomic_store_n(&toevent(L)->flag, 0, __ATOMIC_SEQ_CST);
  return 0;
}

static int event_is_set (lua_State *L) {
  lua_pushboolean(L, __atomic_load_n(&toevent(L)->flag, __ATOMIC_SEQ_CST) != 0);
  return 1;
}

static int event_wait (lua_State *L) {
  mp_event *e = toevent(L);
  struct timespec tsb;
  struct timespec *dl = ct_opt_deadline(L, 2, &tsb);
  while (__atomic_load_n(&e->flag, __ATOMIC_SEQ_CST) == 0) {
    int r;
    __atomic_fetch_add(&e->waiters, 1, __ATOMIC_SEQ_CST);
    r = ct_mp_wait(&e->flag, 0, dl);
    __atomic_fetch_sub(&e->waiters, 1, __ATOMIC_SEQ_CST);
    if (r == EINTR) ct_check_interrupt(L);
    if (r == ETIMEDOUT) break;
  }
  lua_pushboolean(L, __atomic_load_n(&e->flag, __ATOMIC_SEQ_CST) != 0);
  return 1;
}

/* ---- Condition ------------------------------------------------------------------- */

/* A waiter counts itself in, releases the lock and sleeps on 'seq'; notify
   hands out wake-up tickets (never more than there are waiters without
   one) and bumps 'seq'; a woken waiter leaves only with a ticket. */
typedef struct mp_cond {
  ct_shm_obj h;
  pthread_mutex_t mutex;
  uint32_t seq;
  uint32_t nwaiters;
  uint32_t tickets;
} mp_cond;

static const ct_kind cond_kind = {"multiprocessing.Condition"};

static mp_cond *tocond (lua_State *L) {
  return (mp_cond *)((ct_shm_handle *)ct_checkhandle(L, 1, &cond_kind))->obj;
}

static int cond_new (lua_State *L) {
  mp_cond *c = (mp_cond *)ct_shm_newobj(L, sizeof(mp_cond), CT_MPT_COND);
  ct_shm_mutex_init(&c->mutex);
  ct_shm_pushhandle(L, sizeof(ct_shm_handle), &cond_kind, &c->h);
  return 1;
}

static int held_by_me (mp_lock *lk) {
  return __atomic_load_n(&lk->word, __ATOMIC_RELAXED) != 0 &&
         __atomic_load_n(&lk->owner, __ATOMIC_RELAXED) == my_tid();
}

/* cond_wait(cond, lock, [timeout]) -> true if notified */
static int cond_wait (lua_State *L) {
  mp_cond *c = tocond(L);
  int rec, woken = 0, interrupted = 0;
  mp_lock *lk = tolock(L, 2, &rec);
  struct timespec tsb;
  struct timespec *dl = ct_opt_deadline(L, 3, &tsb);
  int64_t saved;
  uint32_t s;
  if (!held_by_me(lk)) return ct_mp_raw_error(L, "cannot wait on un-acquired lock");
  ct_shm_mutex_lock(&c->mutex);
  c->nwaiters++;
  s = c->seq;
  ct_shm_mutex_unlock(&c->mutex);
  saved = release_save(lk, rec);
  for (;;) {
    int r = ct_mp_wait(&c->seq, s, dl);
    ct_shm_mutex_lock(&c->mutex);
    if (c->tickets > 0) {
      c->tickets--;
      c->nwaiters--;
      woken = 1;
    }
    else if (r == ETIMEDOUT || r == EINTR) {
      c->nwaiters--;
      interrupted = r == EINTR;
    }
    else {
      s = c->seq;
      ct_shm_mutex_unlock(&c->mutex);
      continue;
    }
    ct_shm_mutex_unlock(&c->mutex);
    break;
  }
  acquire_restore(L, lk, rec, saved);
  if (interrupted) ct_check_interrupt(L);
  lua_pushboolean(L, woken);
  return 1;
}

/* cond_notify(cond, lock, n) */
static int cond_notify (lua_State *L) {
  mp_cond *c = tocond(L);
  int rec;
  mp_lock *lk = tolock(L, 2, &rec);
  lua_Integer n = luaL_optinteger(L, 3, 1);
  uint32_t k = 0;
  if (!held_by_me(lk)) return ct_mp_raw_error(L, "cannot notify on un-acquired lock");
  ct_shm_mutex_lock(&c->mutex);
  if (n > 0 && c->nwaiters > c->tickets) {
    uint32_t free_waiters = c->nwaiters - c->tickets;
    k = (lua_Integer)free_waiters < n ? free_waiters : (uint32_t)n;
    c->tickets += k;
    c->seq++;
  }
  ct_shm_mutex_unlock(&c->mutex);
  if (k > 0) ct_futex_wake(&c->seq, INT32_MAX, 1);
  return 0;
}

static const luaL_Reg funcs[] = {
  {"lock_new", lock_new},
  {"lock_acquire", lock_acquire},
  {"lock_release", lock_release},
  {"rlock_new", rlock_new},
  {"rlock_acquire", rlock_acquire},
  {"rlock_release", rlock_release},
  {"rlock_count", rlock_count},
  {"locked", any_locked},
  {"is_mine", any_is_mine},
  {"sem_new", sem_new},
  {"sem_acquire", sem_acquire},
  {"sem_release", sem_release},
  {"sem_value", sem_value},
  {"event_new", event_new},
  {"event_set", event_set},
  {"event_clear", event_clear},
  {"event_is_set", event_is_set},
  {"event_wait", event_wait},
  {"cond_new", cond_new},
  {"cond_wait", cond_wait},
  {"cond_notify", cond_notify},
  {"set_error_kinds", set_error_kinds},
  {NULL, NULL}
};

void ct_mp_sync_register (lua_State *L) {
  ct_shm_register_kind(CT_MPK_LOCK, &lock_kind, sizeof(ct_shm_handle));
  ct_shm_register_kind(CT_MPK_RLOCK, &rlock_kind, sizeof(ct_shm_handle));
  ct_shm_register_kind(CT_MPK_SEM, &sem_kind, sizeof(ct_shm_handle));
  ct_shm_register_kind(CT_MPK_EVENT, &event_kind, sizeof(ct_shm_handle));
  ct_shm_register_kind(CT_MPK_COND, &cond_kind, sizeof(ct_shm_handle));
  luaL_setfuncs(L, funcs, 0);
}
