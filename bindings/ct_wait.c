/*
** Waiting for the synchronisation primitives (see ct_wait.h): spin a
** little when that pays, then sleep on the futex, detached.
*/
#define _GNU_SOURCE  /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include "ct_lockword.h"
#include "ct_wait.h"

/* Spinning pays when the thread that will change the word runs on another
   core meanwhile: a hand-off then costs no sleep and wake-up. Those cost
   several microseconds on a busy machine and tens on an idle one, whose
   CPUs doze off (a virtual machine's especially): a queue ping-pong round
   trip measured 1.5 us spinning against 60-90 us sleeping on an idle
   two-CPU VM. With the GIL on, a woken waiter also spins until the waker
   drops the GIL (it usually blocks in turn within microseconds) rather
   than sleep on the GIL at once; briefly, as a holder that does not block
   soon keeps the GIL for a whole switch interval. 50 us covers a consumer
   draining a 100-item queue before it blocks: a bounded queue's
   throughput went from 0.5-1.0 to 1.9 million items/s with 10 us -> 50 us.
   Spinning wastes the CPU when the thread waited for is not running (a
   busy machine, or one core): then the spin ends without the change, and
   each such failure costs credit. Without credit, one wait in 16 still
   spins, to notice when spinning pays again. A success is worth one
   credit, a failure four, so spinning lasts only while it nearly always
   works. Each probe that fails doubles the gap to the next one, up to one
   wait in 256: with both threads on one CPU the probes were most of the
   CPU time of a ping-pong (a 50 us spin one wait in 16 is 3 us a wait).
   (Yielding the CPU inside the spin was tried: on a machine whose
   CPUs are all busy it gives the CPU away for milliseconds.) */
#define SPIN_TIME 50e-6      /* for the word */
#define SPIN_GIL_TIME 50e-6  /* for the GIL, once woken */
#define CREDIT_MAX 16
#define CREDIT_FAIL 4
#define PROBE_GAP_MIN 16   /* waits between probes without credit: a power of 2 */
#define PROBE_GAP_MAX 256

/* the CPUs this process may run on (taskset, a container's cpuset), read
   once: on one CPU the thread waited for cannot run while this one spins */
static int ncpu (void) {
  static int cached = 0;
  int n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (n == 0) {
    cpu_set_t set;
    long v = sysconf(_SC_NPROCESSORS_ONLN);
    n = v > 0 ? (int)v : 1;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 &&
        CPU_COUNT(&set) < n)
      n = CPU_COUNT(&set);
    __atomic_store_n(&cached, n, __ATOMIC_RELAXED);
  }
  return n;
}

static double spin_time (void) {
  return ncpu() < 2 ? 0 : SPIN_TIME;
}

/* Threads spinning now, counted only while there are more threads than
   CPUs (otherwise they cannot crowd each other out, and the count's cache
   line would pass between the cores at every hand-off). The credit is per
   thread: whether spinning pays depends on the thread waited for. */
static int spinners = 0;
static _Thread_local int spin_credit = CREDIT_MAX;
static _Thread_local unsigned spin_probe = 0;
static _Thread_local unsigned probe_gap = PROBE_GAP_MIN;

enum { NO_SPIN, SPIN, SPIN_COUNTED };

/* may this thread spin now? if so, spin_end(outcome, what this returned) */
static int spin_begin (void) {
  int n;
  if (spin_time() <= 0) return NO_SPIN;
  if (spin_credit <= 0 && (++spin_probe & (probe_gap - 1)) != 0)
    return NO_SPIN;
  if (__atomic_load_n(&ct_rt.os_threads, __ATOMIC_RELAXED) < ncpu())
    return SPIN;
  n = __atomic_add_fetch(&spinners, 1, __ATOMIC_RELAXED);
  if (n <= ncpu()) return SPIN_COUNTED;
  __atomic_sub_fetch(&spinners, 1, __ATOMIC_RELAXED);
  return NO_SPIN;
}

/* What a spin showed (spin_until's result). Only SPIN_PAID and
   SPIN_FAILED say whether spinning pays: a change seen at once was there
   before the spin began, and one seen after this thread lost its CPU
   midway came from a thread that ran in its place (both on one CPU), where
   sleeping at once would have done as well. */
enum { SPIN_FAILED, SPIN_PAID, SPIN_AT_ONCE, SPIN_DESCHEDULED };

static void spin_end (int outcome, int how) {
  int c = spin_credit;
  if (outcome == SPIN_PAID) {
    spin_credit = c < CREDIT_MAX ? c + 1 : c;
    probe_gap = PROBE_GAP_MIN;
  }
  else if (outcome != SPIN_AT_ONCE) {
    if (c <= 0 && probe_gap < PROBE_GAP_MAX) probe_gap *= 2;  /* a probe */
    spin_credit = c > CREDIT_FAIL ? c - CREDIT_FAIL : 0;
  }
  if (how == SPIN_COUNTED) __atomic_sub_fetch(&spinners, 1, __ATOMIC_RELAXED);
}

static int word_changed (uint32_t *word, uint32_t expected) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE) != expected;
}

static int gil_free (uint32_t *unused, uint32_t unused2) {
  (void)unused; (void)unused2;
  return !ct_gil_held();
}

/* A gap this long between two looks at the clock while spinning means
   the thread was descheduled (a look comes every ~1 us otherwise). */
#define SPIN_GAP 10e-6

/* spins until done(word, expected) or 'budget' seconds pass. A change seen
   in the first round of looks costs no clock read (the hand-off from
   another core, the common case, is that quick); a later one reads the
   clock to see whether this thread lost its CPU since the last look. */
static int spin_until (int (*done) (uint32_t *, uint32_t), uint32_t *word,
                       uint32_t expected, double budget) {
  double last, end;
  int i, first = 1, descheduled = 0;
  if (done(word, expected)) return SPIN_AT_ONCE;
  last = ct_now();
  end = last + budget;
  for (;;) {
    double now;
    for (i = 0; i < 32; i++) {
      ct_cpu_relax();
      if (done(word, expected)) {
        if (first) return SPIN_PAID;
        return descheduled || ct_now() - last > SPIN_GAP ? SPIN_DESCHEDULED
                                                         : SPIN_PAID;
      }
    }
    now = ct_now();
    if (now - last > SPIN_GAP) descheduled = 1;
    if (now >= end) return SPIN_FAILED;
    last = now;
    first = 0;
  }
}

/* sleeps while *word == value, until 'deadline' (NULL: none); CT_WAIT_* */
static int sleep_while (uint32_t *word, uint32_t value,
                        const struct timespec *deadline, ct_tstate *ts) {
  while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == value) {
    int r = ct_futex_wait_intr(ts, word, value, deadline, 0);
    if (r == ETIMEDOUT) return CT_WAIT_TIMEOUT;
    if (r == EINTR && ts != NULL && ts->is_main &&
        __atomic_load_n(&ct_rt.interrupt_pending, __ATOMIC_SEQ_CST))
      return CT_WAIT_INTERRUPT;
  }
  return CT_WAIT_CHANGED;
}

/* the sleep of a ct_waiter (see ct_wait.h), announced in its word */
static int sleep_waiter (uint32_t *word, const struct timespec *deadline,
                         ct_tstate *ts) {
  uint32_t seen = CT_WAITER_WAITING;
  if (!__atomic_compare_exchange_n(word, &seen, CT_WAITER_SLEEPING, 0,
                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    return CT_WAIT_CHANGED;  /* popped */
  return sleep_while(word, CT_WAITER_SLEEPING, deadline, ts);
}

/* ct_sync_wait, and ct_waiter_wait when 'sleepers' is NULL */
static int wait_word (uint32_t *word, uint32_t expected, uint32_t *sleepers,
                      const struct timespec *deadline) {
  ct_tstate *ts = ct_detach();
  double t_begin = ct_rt.stats ? ct_now() : 0;
  int result = CT_WAIT_CHANGED;
  int slept_long = 0;
  int spun = 0;
  int how = spin_begin();
  if (how != NO_SPIN) {
    int outcome = spin_until(word_changed, word, expected, SPIN_TIME);
    spin_end(outcome, how);
    spun = outcome != SPIN_FAILED;
  }
  if (!spun) {
    double t0 = ct_now();
    if (sleepers == NULL)
      result = sleep_waiter(word, deadline, ts);
    else {
      __atomic_fetch_add(sleepers, 1, __ATOMIC_SEQ_CST);
      result = sleep_while(word, expected, deadline, ts);
      __atomic_fetch_sub(sleepers, 1, __ATOMIC_SEQ_CST);
    }
    /* A thread that slept a whole switch interval or more is like one
       back from I/O: it asks for the GIL at once. A short sleep (a
       producer/consumer hand-off) does not, so that the running thread
       keeps the GIL for its interval and items move in batches. */
    slept_long = ct_now() - t0 >= (double)__atomic_load_n(
        &ct_rt.switch_interval_ns, __ATOMIC_RELAXED) * 1e-9;
  }
  if (ct_gil_enabled() && result == CT_WAIT_CHANGED && !slept_long &&
      ct_gil_held() && (how = spin_begin()) != NO_SPIN)
    spin_end(spin_until(gil_free, NULL, 0, SPIN_GIL_TIME), how);
  if (ts != NULL) {  /* --stats */
    ts->lock_waits++;
    if (ct_rt.stats) ts->lock_waited += ct_now() - t_begin;
  }
  ct_attach(ts, slept_long);
  return result;
}

int ct_sync_wait (uint32_t *word, uint32_t expected, uint32_t *sleepers,
                  const struct timespec *deadline) {
  return wait_word(word, expected, sleepers, deadline);
}

int ct_waiter_wait (ct_waiter *w, const struct timespec *deadline) {
  if (ct_waiter_popped(w)) return CT_WAIT_CHANGED;
  return wait_word(&w->state, CT_WAITER_WAITING, NULL, deadline);
}

void ct_mutex_lock_slow (uint32_t *m) {
  int i;
  for (i = 0; i < 100; i++) {
    uint32_t expected = 0;
    ct_cpu_relax();
    if (__atomic_load_n(m, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(m, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
  }
  while (__atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE) != 0)
    ct_futex_wait(m, 2, NULL, 0);
}

/* Only with the GIL off: with it on, the holder of 'w' cannot run while
   the spinner keeps the GIL, so spinning would only delay it. */
int ct_lockword_spin (uint32_t *w) {
  int i;
  if (ct_gil_enabled() || spin_time() <= 0) return 0;
  for (i = 0; i < 200; i++) {
    ct_cpu_relax();
    if (__atomic_load_n(w, __ATOMIC_RELAXED) == 0 && ct_lockword_try(w))
      return 1;
  }
  return 0;
}
