/*
** Waiting on a futex word for the synchronisation primitives (Event,
** Semaphore, Condition, Queue). A waiter detaches, spins a little when
** that is likely to pay (another core may change the word within
** microseconds), then sleeps on the futex, counted in a 'sleepers' word so
** that a waker makes the wake system call only when someone sleeps. The
** policy (how long, when not at all) is in ct_wait.c.
**
** Protocol (both sides sequentially consistent, so no wakeup is lost):
**   waiter: reads 'expected' under its own logic, then ct_sync_wait
**   waker:  changes *word with an atomic RMW, then ct_sync_wake
*/
#ifndef CT_WAIT_H
#define CT_WAIT_H

#include <stdint.h>
#include <time.h>

#include "ct_internal.h"
#include "lua.h"

/* how ct_sync_wait ended */
enum {
  CT_WAIT_CHANGED,    /* *word differs from 'expected' (or a spurious wake) */
  CT_WAIT_TIMEOUT,    /* the deadline passed */
  CT_WAIT_INTERRUPT   /* Ctrl-C is pending for this (main) thread */
};

/* Detaches, waits while *word == expected until 'deadline' (NULL:
   forever), attaches. Touches no Lua state. After CT_WAIT_INTERRUPT the
   caller undoes its bookkeeping, then calls ct_check_interrupt(L). */
int ct_sync_wait (uint32_t *word, uint32_t expected, uint32_t *sleepers,
                  const struct timespec *deadline);

/* Wakes up to 'n' sleepers on 'word' (after the caller changed it); with
   the GIL on, when the caller next drops the GIL (vm/runtime/ct_defer.c). */
static inline void ct_sync_wake (uint32_t *word, uint32_t *sleepers, int n) {
  if (__atomic_load_n(sleepers, __ATOMIC_SEQ_CST) != 0)
    ct_defer_wake(word, n);
}

/* ---- wait lists -----------------------------------------------------------
** FIFO lists of waiters, each waiting on its own word on its C stack, for
** primitives that wake a given number of waiters (Condition.notify, a
** queue's put waking one getter). The list is guarded by the primitive's
** lock. A waker pops the waiters it wakes, so it never wakes one twice nor
** makes a wake call for nobody: popping marks the waiter's word POPPED,
** and the word's old value says whether the waiter may sleep on it (it
** marks it SLEEPING first), so a wake call is made only then. That call
** mostly comes after the waker has let go of its lock (ct_wakes): woken
** earlier, the waiter would only run into that lock. From the mark on the
** waiter may return and its record vanish; only the word's address is
** used after that, for the wake call (landing on a reused address it is a
** spurious wake-up, which every wait here tolerates). So a popped waiter
** need not take the lock to know it was popped. */
enum { CT_WAITER_WAITING, CT_WAITER_POPPED, CT_WAITER_SLEEPING };

typedef struct ct_waiter {
  struct ct_waiter *prev, *next;
  uint32_t state;      /* futex word: CT_WAITER_* */
} ct_waiter;

/* wake calls to make once the lock is let go */
#define CT_WAKES_MAX 8
typedef struct ct_wakes {
  int n;
  uint32_t *word[CT_WAKES_MAX];
} ct_wakes;

/* makes the wake calls (with the GIL on, when the caller next drops the
   GIL: vm/runtime/ct_defer.c) */
static inline void ct_wakes_flush (ct_wakes *wk) {
  int i;
  for (i = 0; i < wk->n; i++) ct_defer_wake(wk->word[i], 1);
  wk->n = 0;
}

/* the same, with the GIL off when the caller next releases an RLock or
   blocks: for a Condition on an RLock, whose waiters cannot return before
   the notifier (its owner) releases it (vm/runtime/ct_defer.c) */
static inline void ct_wakes_flush_to_release (ct_wakes *wk) {
  int i;
  for (i = 0; i < wk->n; i++) ct_defer_wake_to_release(wk->word[i], 1);
  wk->n = 0;
}

static inline void ct_waitlist_init (ct_waiter *head) {
  head->prev = head->next = head;
}

static inline int ct_waitlist_empty (const ct_waiter *head) {
  return head->next == head;
}

static inline void ct_waitlist_append (ct_waiter *head, ct_waiter *w) {
  w->state = CT_WAITER_WAITING;
  w->next = head;
  w->prev = head->prev;
  head->prev->next = w;
  head->prev = w;
}

static inline void ct_waitlist_unlink (ct_waiter *w) {
  w->prev->next = w->next;
  w->next->prev = w->prev;
  w->prev = w->next = w;
}

/* was 'w' popped by a waker? (then it is out of the list) */
static inline int ct_waiter_popped (ct_waiter *w) {
  return __atomic_load_n(&w->state, __ATOMIC_ACQUIRE) == CT_WAITER_POPPED;
}

/* pops the oldest waiter, adding its word to 'wk' if it may sleep (making
   the wakes at once if 'wk' is full); 0 if there was none */
static inline int ct_waitlist_pop (ct_waiter *head, ct_wakes *wk) {
  ct_waiter *w = head->next;
  uint32_t old;
  if (w == head) return 0;
  ct_waitlist_unlink(w);
  old = __atomic_exchange_n(&w->state, CT_WAITER_POPPED, __ATOMIC_SEQ_CST);
  if (old == CT_WAITER_SLEEPING) {
    if (wk->n == CT_WAKES_MAX) ct_wakes_flush(wk);
    wk->word[wk->n++] = &w->state;  /* 'w' itself may be gone now */
  }
  return 1;
}

/* pops and wakes the oldest waiter at once; 0 if there was none */
static inline int ct_waitlist_wake_one (ct_waiter *head) {
  ct_wakes wk;
  int popped;
  wk.n = 0;
  popped = ct_waitlist_pop(head, &wk);
  ct_wakes_flush(&wk);
  return popped;
}

static inline void ct_waitlist_wake_all (ct_waiter *head) {
  ct_wakes wk;
  wk.n = 0;
  while (ct_waitlist_pop(head, &wk)) {}
  ct_wakes_flush(&wk);
}

/* Waits (detached, the guarding lock released by the caller) until 'w' is
   popped or 'deadline' passes: CT_WAIT_CHANGED when popped, else
   CT_WAIT_TIMEOUT or CT_WAIT_INTERRUPT. Unless 'w' was popped, the caller
   then retakes its lock, and unlinks 'w' if it still was not popped. */
int ct_waiter_wait (ct_waiter *w, const struct timespec *deadline);

/* ---- a small internal mutex ---------------------------------------------
** For native bookkeeping only (lists of waiters, counters): never held
** while touching Lua or blocking, so a waiter spins, then sleeps on the
** futex without detaching. 0 free, 1 held, 2 held with sleepers. */
void ct_mutex_lock_slow (uint32_t *m);

static inline void ct_mutex_lock (uint32_t *m) {
  uint32_t expected = 0;
  if (!__atomic_compare_exchange_n(m, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED))
    ct_mutex_lock_slow(m);
}

static inline void ct_mutex_unlock (uint32_t *m) {
  if (__atomic_exchange_n(m, 0, __ATOMIC_RELEASE) == 2)
    ct_futex_wake(m, 1, 0);
}

/* Bounded spin on a ct_lockword (bindings/ct_lockword.h) before its slow
   path, with the GIL off only (the holder then runs on another core).
   1 if acquired. */
int ct_lockword_spin (uint32_t *w);

/* one relaxation step inside a spin loop */
static inline void ct_cpu_relax (void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
