/*
** Waits that Ctrl-C interrupts in the main thread. The SIGINT handler only
** sets ct_rt.interrupt_pending; a signal that lands while the main thread
** sleeps makes the system call return EINTR. One that lands just before
** the call (after the caller last looked at the flag) interrupts nothing,
** so the main thread looks at the flag before each sleep and sleeps in
** slices, looking again after each: such a Ctrl-C is then seen within a
** slice instead of never (an untimed wait would hang).
*/
#include <errno.h>
#include <time.h>

#include "ct_internal.h"

#define MAIN_SLICE 0.1  /* seconds */

static int pending (void) {
  return __atomic_load_n(&ct_rt.interrupt_pending, __ATOMIC_SEQ_CST);
}

static int earlier (const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec ||
         (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* the end of the next slice: a slice from now, or 'deadline' if sooner;
   NULL (no slices) when ts is not the main thread */
static const struct timespec *slice_end (ct_tstate *ts,
                                         const struct timespec *deadline,
                                         struct timespec *buf) {
  if (ts == NULL || !ts->is_main) return deadline;
  ct_abs_deadline(buf, MAIN_SLICE);
  return (deadline != NULL && earlier(deadline, buf)) ? deadline : buf;
}

int ct_futex_wait_intr (ct_tstate *ts, uint32_t *addr, uint32_t expected,
                        const struct timespec *deadline, int shared) {
  int is_main = ts != NULL && ts->is_main;
  for (;;) {
    struct timespec buf;
    const struct timespec *until = slice_end(ts, deadline, &buf);
    int r;
    if (is_main && pending()) return EINTR;
    r = ct_futex_wait(addr, expected, until, shared);
    if (r != ETIMEDOUT || until == deadline) return r;
    if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected) return 0;
  }
}

int ct_sleep_until_intr (ct_tstate *ts, const struct timespec *deadline) {
  int is_main = ts != NULL && ts->is_main;
  for (;;) {
    struct timespec buf;
    const struct timespec *until = slice_end(ts, deadline, &buf);
    int r;
    if (is_main && pending()) return EINTR;
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, until, NULL);
    if (r == EINTR) {
      if (is_main && pending()) return EINTR;
      continue;  /* another signal: sleep on */
    }
    if (until == deadline) return 0;
  }
}
