/*
** The global interpreter lock, with CPython's forced switching: a thread
** that waits one switch interval without the GIL changing hands raises a
** drop request through the eval breaker; the holder drops the GIL and
** does not take it again until another thread has. Unlike CPython, a
** thread coming back from a real wait (sleep, lock, queue...) asks for the
** GIL at once and is served before plain waiters, so it does not sit a
** whole interval behind a CPU-bound thread.
*/
#include <errno.h>

#include "ct_internal.h"

static struct {
  pthread_mutex_t mutex;
  pthread_cond_t cond;          /* the GIL was dropped */
  int locked;
  int waiters;
  int priority_waiters;
  unsigned long switch_number;  /* bumped by every take */
  pthread_mutex_t switch_mutex;
  pthread_cond_t switch_cond;   /* someone took the GIL */
  ct_tstate *last_holder;       /* under switch_mutex */
} gil;

static void init_cond (pthread_cond_t *c) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(c, &a);
  pthread_condattr_destroy(&a);
}

void ct_gil_init (void) {
  pthread_mutex_init(&gil.mutex, NULL);
  pthread_mutex_init(&gil.switch_mutex, NULL);
  init_cond(&gil.cond);
  init_cond(&gil.switch_cond);
  __atomic_store_n(&gil.locked, 0, __ATOMIC_RELAXED);
  gil.waiters = gil.priority_waiters = 0;
  gil.switch_number = 0;
  gil.last_holder = NULL;
}

/* After fork the child has one thread, which holds the GIL. */
void ct_gil_reinit_after_fork (ct_tstate *ts) {
  ct_gil_init();
  __atomic_store_n(&gil.locked, 1, __ATOMIC_RELAXED);
  gil.last_holder = ts;
  ct_breaker_clear(CT_BREAK_GIL_DROP);
}

void ct_gil_take (ct_tstate *ts, int priority) {
  double t0 = ct_now();
  int waited = 0;
  pthread_mutex_lock(&gil.mutex);
  if (gil.locked || (!priority && gil.priority_waiters > 0)) {
    waited = 1;
    if (priority) {
      gil.priority_waiters++;
      ct_breaker_set(CT_BREAK_GIL_DROP);  /* ask for it now */
    }
    while (gil.locked || (!priority && gil.priority_waiters > 0)) {
      unsigned long before = gil.switch_number;
      struct timespec dl;
      int r;
      ct_abs_deadline(&dl, (double)__atomic_load_n(&ct_rt.switch_interval_ns,
                                __ATOMIC_RELAXED) * 1e-9);
      gil.waiters++;
      r = pthread_cond_timedwait(&gil.cond, &gil.mutex, &dl);
      gil.waiters--;
      if (r == ETIMEDOUT && gil.locked && gil.switch_number == before)
        ct_breaker_set(CT_BREAK_GIL_DROP);  /* the holder kept it too long */
    }
    if (priority) gil.priority_waiters--;
  }
  __atomic_store_n(&gil.locked, 1, __ATOMIC_RELAXED);
  gil.switch_number++;
  /* the request (if any) is served; a remaining waiter raises it again */
  ct_breaker_clear(CT_BREAK_GIL_DROP);
  if (gil.priority_waiters > 0) ct_breaker_set(CT_BREAK_GIL_DROP);
  pthread_mutex_unlock(&gil.mutex);

  pthread_mutex_lock(&gil.switch_mutex);
  if (gil.last_holder != ts) ts->switches++;
  gil.last_holder = ts;
  pthread_cond_signal(&gil.switch_cond);
  pthread_mutex_unlock(&gil.switch_mutex);

  ts->t_taken = ct_now();
  ts->gil_takes++;
  if (waited) ts->gil_waited += ts->t_taken - t0;
}

void ct_gil_drop (ct_tstate *ts) {
  int deferred = ts->ndeferred > 0;
  if (deferred) ct_breaker_clear(CT_BREAK_DEFERRED);  /* while still ours */
  ts->gil_held += ct_now() - ts->t_taken;
  pthread_mutex_lock(&gil.mutex);
  __atomic_store_n(&gil.locked, 0, __ATOMIC_RELAXED);
  if (gil.priority_waiters > 0)
    pthread_cond_broadcast(&gil.cond);  /* make sure a priority one wakes */
  else if (gil.waiters > 0)
    pthread_cond_signal(&gil.cond);
  pthread_mutex_unlock(&gil.mutex);
  if (deferred) ct_defer_wake_all(ts);  /* vm/runtime/ct_defer.c */
}

/* Called by the holder from the eval breaker on a drop request. */
void ct_gil_forced_switch (ct_tstate *ts) {
  pthread_mutex_lock(&gil.mutex);
  if (gil.waiters == 0 && gil.priority_waiters == 0) {
    ct_breaker_clear(CT_BREAK_GIL_DROP);  /* stale: nobody is waiting */
    pthread_mutex_unlock(&gil.mutex);
    return;
  }
  pthread_mutex_unlock(&gil.mutex);
  ts->forced_drops++;
  if (ct_rt.tracing) ct_trace_detach(ts, ct_now());
  ct_gil_drop(ts);
  /* Wait until another thread has taken the GIL, or this thread would
     simply take it back. Someone is waiting, so someone will take it. */
  pthread_mutex_lock(&gil.switch_mutex);
  while (gil.last_holder == ts)
    pthread_cond_wait(&gil.switch_cond, &gil.switch_mutex);
  pthread_mutex_unlock(&gil.switch_mutex);
  ct_gil_take(ts, 0);
  if (ct_rt.tracing) {  /* all of it was waiting for the GIL, not blocking */
    double dropped = ts->t_detached;
    ts->t_detached = 0;
    ct_trace_attach(ts, dropped, ts->t_taken);
  }
}

/* Whether some thread holds the GIL: a hint read without the mutex, for a
   woken waiter that spins until the holder lets go (bindings/ct_wait.c). */
int ct_gil_held (void) {
  return __atomic_load_n(&gil.locked, __ATOMIC_RELAXED) != 0;
}
