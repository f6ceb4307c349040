/*
** Deferred wake-ups, GIL on. A thread holding the GIL that wakes a
** sleeping waiter (a queue put, an Event set, a notify...) makes the
** futex wake when it next drops the GIL instead of at once: the waiter
** could not run before anyway, and woken earlier it would only sleep
** again on the GIL, a second sleep and wake-up for every hand-off (the
** ping-pong case, where the waker blocks right after). The wakes come
** right after the GIL is released, so the waiter finds it free even if
** it runs at once on the waker's CPU.
** If the holder keeps running instead, the eval breaker makes the wakes
** after CT_DEFER_TICKS checks (microseconds of Lua code), so a waiter is
** not held up much longer than before: it would then have waited for the
** GIL anyway (a switch interval). Measured on the queue ping-pong: 20 us
** a round trip with immediate wakes, 7 us deferred; bounded-queue
** throughput about the same for any number of ticks from 16 to 10^5.
** A waiter that wakes by itself meanwhile (its timeout) is gone by the
** time of the wake: the wake then lands on a word nobody waits on, or is
** a spurious wake-up for a later wait at the same address, which every
** futex wait in the runtime tolerates (they all re-check their word).
*/
#include "ct_internal.h"

#define CT_DEFER_TICKS 256

void ct_defer_wake (uint32_t *word, int n) {
  ct_tstate *ts = ct_current;
  if (!ct_rt.gil_on || ts == NULL ||
      __atomic_load_n(&ts->state, __ATOMIC_RELAXED) != CT_ATTACHED ||
      ts->ndeferred == CT_DEFER_MAX) {
    ct_futex_wake(word, n, 0);
    return;
  }
  if (ts->ndeferred == 0) {
    ts->defer_ticks = CT_DEFER_TICKS;
    ct_breaker_set(CT_BREAK_DEFERRED);
  }
  ts->deferred_word[ts->ndeferred] = word;
  ts->deferred_n[ts->ndeferred] = n;
  ts->ndeferred++;
}

/* makes the deferred wakes (the breaker bit is the caller's business) */
void ct_defer_wake_all (ct_tstate *ts) {
  int i, n = ts->ndeferred;
  ts->ndeferred = 0;
  for (i = 0; i < n; i++)
    ct_futex_wake(ts->deferred_word[i], ts->deferred_n[i], 0);
}

/* from the eval breaker: the holder runs on, so wake them soon */
void ct_defer_tick (ct_tstate *ts) {
  if (ts->ndeferred == 0) ct_breaker_clear(CT_BREAK_DEFERRED);
  else if (--ts->defer_ticks <= 0) {
    ct_breaker_clear(CT_BREAK_DEFERRED);
    ct_defer_wake_all(ts);
  }
}

/* GIL off: Condition.notify on an RLock keeps the wakes of sleeping
   waiters until the notifier next releases an RLock or blocks (ct_detach).
   The notifier owns the RLock and must release it before a waiter can
   return, so waiting for that costs a waiter nothing; woken at once, it
   would find the lock still held and sleep again on it, to be woken a
   second time by the release: a Condition ping-pong on a loaded machine
   made 7 futex calls a round trip, against 2.2 with the GIL on (where the
   wakes wait for the GIL's release: ct_defer_wake) and 2.2 with this.
   Nothing bounds the wait otherwise (the eval breaker that does with the
   GIL on would stop every thread: set, it slowed a loop in another
   thread by 55%), so this is only for wakes that cannot be used before a
   release by this thread. With the GIL on, ct_defer_wake. */
void ct_defer_wake_to_release (uint32_t *word, int n) {
  ct_tstate *ts = ct_current;
  if (ct_rt.gil_on) {
    ct_defer_wake(word, n);
    return;
  }
  if (ts == NULL || ts->ndeferred == CT_DEFER_MAX ||
      __atomic_load_n(&ts->state, __ATOMIC_RELAXED) != CT_ATTACHED) {
    ct_futex_wake(word, n, 0);
    return;
  }
  ts->deferred_word[ts->ndeferred] = word;
  ts->deferred_n[ts->ndeferred] = n;
  ts->ndeferred++;
}

/* GIL off: the caller released an RLock, or detaches */
void ct_defer_released (void) {
  ct_tstate *ts = ct_current;
  if (ts != NULL && ts->ndeferred > 0 && !ct_rt.gil_on) ct_defer_wake_all(ts);
}

/* a forked child: the wakes were for the parent's threads */
void ct_defer_after_fork (ct_tstate *me) {
  if (me != NULL) me->ndeferred = 0;
  ct_breaker_clear(CT_BREAK_DEFERRED);
}
