/*
** threading.Event, native half: one futex word holding the flag (bit 0)
** and a count of set() calls (the other bits), so that a waiter woken by
** a set() returns true even if clear() came before it ran, as in Python.
*/
#include <limits.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_wait.h"
#include "lauxlib.h"

typedef struct ct_event {
  const ct_kind *kind;
  uint32_t state;     /* bit 0: the flag; bits 1..: sets so far */
  uint32_t sleepers;
} ct_event;

static const ct_kind event_kind = {"Event"};

static ct_event *check_event (lua_State *L) {
  return (ct_event *)ct_checkhandle(L, 1, &event_kind);
}

static int event_new (lua_State *L) {
  ct_event *e = (ct_event *)ct_newhandle(L, sizeof(ct_event), &event_kind);
  e->state = 0;
  e->sleepers = 0;
  return 1;
}

static int event_set (lua_State *L) {
  ct_event *e = check_event(L);
  uint32_t s = __atomic_load_n(&e->state, __ATOMIC_SEQ_CST);
  do {
    if (s & 1u) return 0;  /* already set: nobody is waiting */
  } while (!__atomic_compare_exchange_n(&e->state, &s, (s + 2u) | 1u, 1,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  ct_sync_wake(&e->state, &e->sleepers, INT_MAX);
  return 0;
}

static int event_clear (lua_State *L) {
  ct_event *e = check_event(L);
  __atomic_fetch_and(&e->state, ~1u, __ATOMIC_SEQ_CST);
  return 0;
}

static int event_is_set (lua_State *L) {
  ct_event *e = check_event(L);
  lua_pushboolean(L, __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) & 1u);
  return 1;
}

/* wait([timeout]) -> true when set (now or by a set() during the wait) */
static int event_wait (lua_State *L) {
  ct_event *e = check_event(L);
  struct timespec tsb;
  struct timespec *dl = ct_opt_deadline(L, 2, &tsb);
  uint32_t seen = __atomic_load_n(&e->state, __ATOMIC_SEQ_CST);
  for (;;) {
    uint32_t now;
    int r;
    if (seen & 1u) break;
    r = ct_sync_wait(&e->state, seen, &e->sleepers, dl);
    now = __atomic_load_n(&e->state, __ATOMIC_SEQ_CST);
    if ((now >> 1) != (seen >> 1)) {  /* a set() happened meanwhile */
      seen = now | 1u;
      break;
    }
    if (r == CT_WAIT_TIMEOUT) break;
    if (r == CT_WAIT_INTERRUPT) ct_check_interrupt(L);
    seen = now;
  }
  lua_pushboolean(L, seen & 1u);
  return 1;
}

/* the number of threads asleep in wait() (for tests: a waiter counted here
   has read the state already, so a set() from now on wakes it) */
static int event_sleepers (lua_State *L) {
  ct_event *e = check_event(L);
  lua_pushinteger(L, __atomic_load_n(&e->sleepers, __ATOMIC_SEQ_CST));
  return 1;
}

static const luaL_Reg event_funcs[] = {
  {"event_new", event_new},
  {"event_set", event_set},
  {"event_clear", event_clear},
  {"event_is_set", event_is_set},
  {"event_wait", event_wait},
  {"event_sleepers", event_sleepers},
  {NULL, NULL}
};

void ct_event_register (lua_State *L) {
  luaL_setfuncs(L, event_funcs, 0);
}
