/*
** Stop-the-world with the GIL off. A thread that needs the heap to
** itself (a collection, splicing the object lists) raises the request
** and the eval breaker's CT_BREAK_STW bit; every attached thread parks
** at its next safepoint (a breaker check or an allocation check), and a
** detached thread that tries to attach parks instead. The requester runs
** once no other thread is attached, then lets them all go.
**
** Attaching and requesting form a Dekker pair: the attaching thread
** publishes ATTACHED then reads the request; the requester publishes the
** request then reads the states (both sequentially consistent), so one
** of them always sees the other.
*/
#include <errno.h>

#include "ct_internal.h"

static pthread_mutex_t stw_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stw_parked = PTHREAD_COND_INITIALIZER;   /* to requester */
static pthread_cond_t stw_resumed = PTHREAD_COND_INITIALIZER;  /* to parked */
static int stw_request;  /* atomic: a stop is asked for or under way */

int ct_stw_requested (void) {
  return __atomic_load_n(&stw_request, __ATOMIC_SEQ_CST);
}

/* threads other than 'me' still attached */
static int others_attached (ct_tstate *me) {
  int n = 0;
  ct_tstate *ts;
  pthread_mutex_lock(&ct_rt.list_lock);
  for (ts = ct_rt.threads; ts != NULL; ts = ts->next)
    if (ts != me && __atomic_load_n(&ts->state, __ATOMIC_SEQ_CST) == CT_ATTACHED)
      n++;
  pthread_mutex_unlock(&ct_rt.list_lock);
  return n;
}

/* with stw_mu held: wait for the stop under way to end */
static void park_locked (ct_tstate *ts) {
  while (__atomic_load_n(&stw_request, __ATOMIC_SEQ_CST)) {
    __atomic_store_n(&ts->state, CT_SUSPENDED, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&stw_parked);
    pthread_cond_wait(&stw_resumed, &stw_mu);
  }
  __atomic_store_n(&ts->state, CT_ATTACHED, __ATOMIC_SEQ_CST);
}

void ct_stw_park (ct_tstate *ts) {
  if (ts == NULL || !__atomic_load_n(&stw_request, __ATOMIC_SEQ_CST)) return;
  pthread_mutex_lock(&stw_mu);
  park_locked(ts);
  pthread_mutex_unlock(&stw_mu);
}

int ct_stw_begin (ct_tstate *me) {
  pthread_mutex_lock(&stw_mu);
  if (__atomic_load_n(&stw_request, __ATOMIC_SEQ_CST)) {  /* another stop */
    if (me != NULL) park_locked(me);
    pthread_mutex_unlock(&stw_mu);
    return 0;
  }
  __atomic_store_n(&stw_request, 1, __ATOMIC_SEQ_CST);
  ct_breaker_set(CT_BREAK_STW);
  while (others_attached(me) > 0) {
    /* parked threads signal; the timeout covers a thread that detached
       without passing through stw_mu */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);  /* the condition's clock */
    dl.tv_nsec += 500000;
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&stw_parked, &stw_mu, &dl);
  }
  pthread_mutex_unlock(&stw_mu);
  return 1;
}

void ct_stw_end (ct_tstate *me) {
  (void)me;
  pthread_mutex_lock(&stw_mu);
  ct_breaker_clear(CT_BREAK_STW);
  __atomic_store_n(&stw_request, 0, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&stw_resumed);
  pthread_mutex_unlock(&stw_mu);
}

/* a forked child has one thread: no stop is under way, and the locks are
   as new (the parent forked while holding the world stopped) */
void ct_stw_reset_after_fork (void) {
  pthread_mutex_init(&stw_mu, NULL);
  pthread_cond_init(&stw_parked, NULL);
  pthread_cond_init(&stw_resumed, NULL);
  __atomic_store_n(&stw_request, 0, __ATOMIC_SEQ_CST);
  ct_breaker_clear(CT_BREAK_STW);
}
