/*
** Thread states: one per OS thread that runs Lua. A thread's state is
** freed once the thread has ended and its Thread handle is collected
** (two references), except under --stats or --trace, which report every
** thread at the end: then all are kept for the life of the runtime.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_internal.h"

_Thread_local ct_tstate *ct_current = NULL;

ct_tstate *ct_tstate_new (const char *name, int daemon) {
  ct_tstate *ts = (ct_tstate *)calloc(1, sizeof(ct_tstate));
  if (ts == NULL) return NULL;
  snprintf(ts->name, sizeof ts->name, "%s", name ? name : "");
  ts->daemon = daemon;
  ts->state = CT_DETACHED;
  ts->refs = 1;
  pthread_mutex_lock(&ct_rt.list_lock);
  ts->id = ct_rt.next_id++;
  ts->next = ct_rt.threads;
  if (ts->next != NULL) ts->next->prev = ts;
  ct_rt.threads = ts;
  pthread_mutex_unlock(&ct_rt.list_lock);
  return ts;
}

/* Every walk of the list while threads run holds list_lock (stop-the-world,
   the collector), so unlinking under it makes the free safe; --stats and
   --trace walk it at the end without the lock, hence they keep states. */
void ct_tstate_release (ct_tstate *ts) {
  if (__atomic_sub_fetch(&ts->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  if (ct_rt.stats || ct_rt.tracing) return;
  pthread_mutex_lock(&ct_rt.list_lock);
  if (ts->prev != NULL) ts->prev->next = ts->next;
  else ct_rt.threads = ts->next;
  if (ts->next != NULL) ts->next->prev = ts->prev;
  pthread_mutex_unlock(&ct_rt.list_lock);
  free(ts);
}

void ct_tstate_bind (ct_tstate *ts) {
  ct_current = ts;
  ts->ident = (uint64_t)pthread_self();
  ts->native_id = (long)syscall(SYS_gettid);
  if (pthread_getcpuclockid(pthread_self(), &ts->cpuclock) != 0)
    ts->cpuclock = CLOCK_THREAD_CPUTIME_ID;
  ts->cpu_base = ct_thread_cpu(ts->cpuclock);  /* OS threads are reused */
}

void ct_tstate_end (ct_tstate *ts) {
  ct_ft_thread_end(ts);  /* GIL off: hand its objects to the collector */
  ts->cpu_time = ct_thread_cpu(ts->cpuclock) - ts->cpu_base;
  ts->ended = 1;
}

void ct_tstate_free_all (void) {
  ct_tstate *ts = ct_rt.threads;
  while (ts != NULL) {
    ct_tstate *next = ts->next;
    ct_trace_free(ts);
    free(ts);
    ts = next;
  }
  ct_rt.threads = NULL;
  ct_current = NULL;
}
