/*
** threading.Condition, native half. Waiters queue in FIFO order, each on
** its own futex word on the waiter's C stack; notify(n) pops n of them.
** With a threading.Lock or RLock (methods not overridden) the lock is
** released and retaken natively; with any other lock object through its
** Lua methods, as Python does: _is_owned, _release_save and
** _acquire_restore when the lock has them, else acquire and release.
*/
#include <limits.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_lock.h"
#include "ct_lockword.h"
#include "ct_wait.h"
#include "lauxlib.h"

enum { LOCK_ANY, LOCK_NATIVE, RLOCK_NATIVE };

typedef struct ct_condition {
  const ct_kind *kind;
  uint32_t mu;         /* ct_mutex over the list */
  ct_waiter head;      /* the waiters, oldest first */
  int mode;
  void *lock;          /* ct_lock or ct_rlock in the native modes */
} ct_condition;

static const ct_kind condition_kind = {"Condition"};

/* cond_new(lock, mode): mode 1 for a threading.Lock, 2 for an RLock, 0
   for anything else; the lock object is kept as the user value */
static int cond_new (lua_State *L) {
  int mode = (int)luaL_checkinteger(L, 2);
  ct_condition *c;
  void *lock = NULL;
  luaL_argcheck(L, !lua_isnoneornil(L, 1), 1, "lock expected");
  if (mode == LOCK_NATIVE) lock = ct_checkhandle(L, 1, &ct_lock_kind);
  else if (mode == RLOCK_NATIVE) lock = ct_checkhandle(L, 1, &ct_rlock_kind);
  else mode = LOCK_ANY;
  c = (ct_condition *)lua_newuserdatauv(L, sizeof(ct_condition), 1);
  c->kind = &condition_kind;
  c->mu = 0;
  ct_waitlist_init(&c->head);
  c->mode = mode;
  c->lock = lock;
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* the condition at 1; pushes its lock object and returns the condition */
static ct_condition *check_cond (lua_State *L) {
  ct_condition *c = (ct_condition *)ct_checkhandle(L, 1, &condition_kind);
  if (lua_type(L, 1) == LUA_TTABLE) lua_rawgetp(L, 1, CT_HANDLE_KEY);
  else lua_pushvalue(L, 1);
  lua_getiuservalue(L, -1, 1);
  lua_remove(L, -2);
  return c;
}

/* calls lock:NAME(args on the stack above) if it has NAME; returns 0 (and
   pushes nothing, popping the args) if it has not */
static int call_lock_method (lua_State *L, int lock, const char *name,
                             int nargs, int nresults) {
  if (lua_getfield(L, lock, name) == LUA_TNIL) {
    lua_pop(L, 1 + nargs);
    return 0;
  }
  lua_insert(L, -1 - nargs);
  lua_pushvalue(L, lock);
  lua_insert(L, -1 - nargs);
  lua_call(L, 1 + nargs, nresults);
  return 1;
}

static int lock_is_owned (lua_State *L, ct_condition *c, int lock) {
  int owned;
  switch (c->mode) {
    case LOCK_NATIVE:
      return __atomic_load_n(&((ct_lock *)c->lock)->word, __ATOMIC_RELAXED) != 0;
    case RLOCK_NATIVE:
      return ct_rlock_owned((ct_rlock *)c->lock);
    default:
      if (call_lock_method(L, lock, "_is_owned", 0, 1)) {
        owned = lua_toboolean(L, -1);
        lua_pop(L, 1);
        return owned;
      }
      /* Python's way for a plain lock: held by anyone counts as owned */
      lua_pushboolean(L, 0);
      call_lock_method(L, lock, "acquire", 1, 1);
      owned = !lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (!owned) call_lock_method(L, lock, "release", 0, 0);
      return owned;
  }
}

/* protected: release_save on the lock at 1 -> saved state (or nil) */
static int any_release_save (lua_State *L) {
  lua_settop(L, 1);
  if (!call_lock_method(L, 1, "_release_save", 0, 1)) {
    if (!call_lock_method(L, 1, "release", 0, 0))
      luaL_error(L, "the lock has no release method");
    lua_pushnil(L);
  }
  return 1;
}

/* acquire_restore(saved at 'saved') on the lock at 'lock' */
static void any_acquire_restore (lua_State *L, int lock, int saved) {
  lua_pushvalue(L, saved);
  if (!call_lock_method(L, lock, "_acquire_restore", 1, 0))
    call_lock_method(L, lock, "acquire", 0, 0);
}

/* wait([timeout]) -> true if notified, false on timeout */
static int cond_wait (lua_State *L) {
  ct_condition *c;
  struct timespec tsb;
  struct timespec *dl;
  ct_waiter w;
  lua_Integer saved = 0;
  int lock, signaled, r = CT_WAIT_CHANGED;
  lua_settop(L, 2);
  dl = ct_opt_deadline(L, 2, &tsb);
  c = check_cond(L);
  lock = lua_gettop(L);
  if (!lock_is_owned(L, c, lock))
    return luaL_error(L, "cannot wait on un-acquired lock");
  ct_mutex_lock(&c->mu);
  ct_waitlist_append(&c->head, &w);
  ct_mutex_unlock(&c->mu);
  switch (c->mode) {
    case LOCK_NATIVE:
      ct_lockword_release(&((ct_lock *)c->lock)->word);
      break;
    case RLOCK_NATIVE:
      saved = ct_rlock_release_save((ct_rlock *)c->lock);
      break;
    default:
      lua_pushcfunction(L, any_release_save);
      lua_pushvalue(L, lock);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        ct_mutex_lock(&c->mu);
        if (!ct_waiter_popped(&w)) ct_waitlist_unlink(&w);
        ct_mutex_unlock(&c->mu);
        return lua_error(L);
      }
  }
  r = ct_waiter_wait(&w, dl);
  signaled = ct_waiter_popped(&w);  /* then out of the list: no mutex */
  if (!signaled) {  /* timed out or interrupted, unless popped meanwhile */
    ct_mutex_lock(&c->mu);
    signaled = ct_waiter_popped(&w);
    if (!signaled) ct_waitlist_unlink(&w);
    ct_mutex_unlock(&c->mu);
  }
  if (signaled) r = CT_WAIT_CHANGED;
  switch (c->mode) {
    case LOCK_NATIVE: {
      uint32_t *word = &((ct_lock *)c->lock)->word;
      if (!ct_lockword_try_free(word) && !ct_lockword_spin(word))
        ct_lockword_acquire_slow(L, word, NULL);
      break;
    }
    case RLOCK_NATIVE:
      ct_rlock_acquire_restore(L, (ct_rlock *)c->lock, saved);
      break;
    default:
      any_acquire_restore(L, lock, lock + 1);
  }
  if (r == CT_WAIT_INTERRUPT) ct_check_interrupt(L);
  lua_pushboolean(L, signaled);
  return 1;
}

static int notify (lua_State *L, lua_Integer n) {
  ct_condition *c = check_cond(L);
  ct_wakes wk;
  if (!lock_is_owned(L, c, lua_gettop(L)))
    return luaL_error(L, "cannot notify on un-acquired lock");
  wk.n = 0;
  ct_mutex_lock(&c->mu);
  /* (n > 0 tested before the decrement: n-- on math.mininteger overflowed) */
  while (n > 0 && ct_waitlist_pop(&c->head, &wk)) n--;
  ct_mutex_unlock(&c->mu);
  /* an RLock is released by its owner, the notifier, before a waiter can
     return: its wakes can wait for that (a Lock may be released by any
     thread) */
  if (c->mode == RLOCK_NATIVE) ct_wakes_flush_to_release(&wk);
  else ct_wakes_flush(&wk);
  return 0;
}

/* notify([n=1]) */
static int cond_notify (lua_State *L) {
  lua_Integer n = luaL_optinteger(L, 2, 1);
  lua_settop(L, 1);
  return notify(L, n);
}

static int cond_notify_all (lua_State *L) {
  lua_settop(L, 1);
  return notify(L, LUA_MAXINTEGER);
}

/* the number of waiters (for tests and __tostring) */
static int cond_waiters (lua_State *L) {
  ct_condition *c = (ct_condition *)ct_checkhandle(L, 1, &condition_kind);
  lua_Integer n = 0;
  ct_waiter *w;
  ct_mutex_lock(&c->mu);
  for (w = c->head.next; w != &c->head; w = w->next) n++;
  ct_mutex_unlock(&c->mu);
  lua_pushinteger(L, n);
  return 1;
}

static const luaL_Reg cond_funcs[] = {
  {"cond_new", cond_new},
  {"cond_wait", cond_wait},
  {"cond_notify", cond_notify},
  {"cond_notify_all", cond_notify_all},
  {"cond_waiters", cond_waiters},
  {NULL, NULL}
};

void ct_condition_register (lua_State *L) {
  luaL_setfuncs(L, cond_funcs, 0);
}
