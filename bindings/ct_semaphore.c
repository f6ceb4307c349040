/*
** threading.Semaphore and BoundedSemaphore, native half: the counter is
** the futex word itself; acquire takes one with a compare-and-swap and
** sleeps (detached) while it is zero.
*/
#include <limits.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_wait.h"
#include "lauxlib.h"

#define CT_SEM_MAX 0x7fffffffu

typedef struct ct_semaphore {
  const ct_kind *kind;
  uint32_t value;     /* futex word */
  uint32_t sleepers;
  uint32_t bound;     /* BoundedSemaphore: the initial value; else 0 */
  int bounded;
} ct_semaphore;

static const ct_kind semaphore_kind = {"Semaphore"};

static ct_semaphore *check_sem (lua_State *L) {
  return (ct_semaphore *)ct_checkhandle(L, 1, &semaphore_kind);
}

/* sem_new(value, bounded) */
static int sem_new (lua_State *L) {
  lua_Integer v = luaL_checkinteger(L, 1);
  int bounded = lua_toboolean(L, 2);
  ct_semaphore *s;
  luaL_argcheck(L, v >= 0, 1, "semaphore initial value must be >= 0");
  luaL_argcheck(L, v <= (lua_Integer)CT_SEM_MAX, 1, "semaphore initial value too large");
  s = (ct_semaphore *)ct_newhandle(L, sizeof(ct_semaphore), &semaphore_kind);
  s->value = (uint32_t)v;
  s->sleepers = 0;
  s->bound = bounded ? (uint32_t)v : 0;
  s->bounded = bounded;
  return 1;
}

static int try_take (ct_semaphore *s) {
  uint32_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
  while (v > 0) {
    if (__atomic_compare_exchange_n(&s->value, &v, v - 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return 1;
  }
  return 0;
}

/* acquire([blocking=true], [timeout]) -> boolean */
static int sem_acquire (lua_State *L) {
  ct_semaphore *s = check_sem(L);
  int blocking = ct_optboolean(L, 2, 1);
  struct timespec tsb;
  struct timespec *dl;
  int got;
  if (!lua_isnoneornil(L, 3)) {
    double t = luaL_checknumber(L, 3);
    if (!blocking && t >= 0)
      luaL_argerror(L, 3, "can't specify timeout for non-blocking acquire");
  }
  dl = ct_opt_deadline(L, 3, &tsb);
  got = try_take(s);
  while (!got && blocking) {
    int r = ct_sync_wait(&s->value, 0, &s->sleepers, dl);
    got = try_take(s);
    if (got || r == CT_WAIT_TIMEOUT) break;
    if (r == CT_WAIT_INTERRUPT) ct_check_interrupt(L);
  }
  lua_pushboolean(L, got);
  return 1;
}

/* release([n=1]) */
static int sem_release (lua_State *L) {
  ct_semaphore *s = check_sem(L);
  lua_Integer n = luaL_optinteger(L, 2, 1);
  uint32_t v;
  luaL_argcheck(L, n >= 1, 2, "n must be one or more");
  v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
  do {
    /* n - room, never v + n: n may be as large as math.maxinteger */
    if (s->bounded && n > (lua_Integer)s->bound - (lua_Integer)v)
      return luaL_error(L, "Semaphore released too many times");
    if (n > (lua_Integer)CT_SEM_MAX - (lua_Integer)v)
      return luaL_error(L, "Semaphore value too large");
  } while (!__atomic_compare_exchange_n(&s->value, &v, v + (uint32_t)n, 1,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
  ct_sync_wake(&s->value, &s->sleepers, n > INT_MAX ? INT_MAX : (int)n);
  return 0;
}

/* the current value (Python's _value) */
static int sem_value (lua_State *L) {
  ct_semaphore *s = check_sem(L);
  lua_pushinteger(L, __atomic_load_n(&s->value, __ATOMIC_RELAXED));
  return 1;
}

/* the number of threads asleep in acquire() (for tests) */
static int sem_sleepers (lua_State *L) {
  ct_semaphore *s = check_sem(L);
  lua_pushinteger(L, __atomic_load_n(&s->sleepers, __ATOMIC_SEQ_CST));
  return 1;
}

static const luaL_Reg sem_funcs[] = {
  {"sem_new", sem_new},
  {"sem_acquire", sem_acquire},
  {"sem_release", sem_release},
  {"sem_value", sem_value},
  {"sem_sleepers", sem_sleepers},
  {NULL, NULL}
};

void ct_semaphore_register (lua_State *L) {
  luaL_setfuncs(L, sem_funcs, 0);
}
