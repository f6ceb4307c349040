/*
** A lock in one 32-bit futex word: 0 free, 1 held, 2 held and maybe
** waited for. Any thread may release it. The base of Lock, RLock and the
** other primitives.
*/
#ifndef CT_LOCKWORD_H
#define CT_LOCKWORD_H

#include <stdint.h>
#include <time.h>

#include "lua.h"

static inline int ct_lockword_try (uint32_t *w) {
  uint32_t expected = 0;
  return __atomic_compare_exchange_n(w, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED);
}

/* the same, trying only when the word looks free: a compare-and-swap on a
   held word would take its cache line from the holder, who soon writes
   it again to release (for retaking a lock right after a wake-up) */
static inline int ct_lockword_try_free (uint32_t *w) {
  return __atomic_load_n(w, __ATOMIC_RELAXED) == 0 && ct_lockword_try(w);
}

/* waits (detached) until acquired or 'deadline' passes; 1 if acquired */
int ct_lockword_acquire_slow (lua_State *L, uint32_t *w,
                              const struct timespec *deadline);

/* releases; returns 0 if the word was not held */
int ct_lockword_release (uint32_t *w);

#endif
