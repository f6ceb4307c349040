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
** queue's put waking one getter). A waker pops the waiters it wakes, so
** it never wakes one twice nor makes a wake call for nobody. The list is
** guarded by the primitive's lock; a woken waiter takes that lock before
** it returns, which also waits for the waker to be done with its word
** (with the GIL on the wake itself comes later: vm/runtime/ct_defer.c). */
typedef struct ct_waiter {
  struct ct_waiter *prev, *next;
  uint32_t signaled;   /* futex word: 1 once popped by a waker */
  uint32_t sleepers;
} ct_waiter;

static inline void ct_waitlist_init (ct_waiter *head) {
  head->prev = head->next = head;
}

static inline int ct_waitlist_empty (const ct_waiter *head) {
  return head->next == head;
}

static inline void ct_waitlist_append (ct_waiter *head, ct_waiter *w) {
  w->signaled = 0;
  w->sleepers = 0;
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

/* pops and wakes the oldest waiter; 0 if there was none */
static inline int ct_waitlist_wake_one (ct_waiter *head) {
  ct_waiter *w = head->next;
  if (w == head) return 0;
  ct_waitlist_unlink(w);
  __atomic_store_n(&w->signaled, 1, __ATOMIC_SEQ_CST);
  ct_sync_wake(&w->signaled, &w->sleepers, 1);
  return 1;
}

static inline void ct_waitlist_wake_all (ct_waiter *head) {
  while (ct_waitlist_wake_one(head)) {}
}

/* Waits (detached, the guarding lock released by the caller) until 'w' is
   popped or 'deadline' passes: CT_WAIT_CHANGED when popped, else
   CT_WAIT_TIMEOUT or CT_WAIT_INTERRUPT. The caller then retakes its lock,
   and unlinks 'w' if it was not popped (w->signaled is 0). */
static inline int ct_waiter_wait (ct_waiter *w, const struct timespec *deadline) {
  int r = CT_WAIT_CHANGED;
  while (!__atomic_load_n(&w->signaled, __ATOMIC_ACQUIRE)) {
    r = ct_sync_wait(&w->signaled, 0, &w->sleepers, deadline);
    if (r != CT_WAIT_CHANGED) break;
  }
  return r;
}

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
