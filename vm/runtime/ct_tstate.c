/*
** Thread states: one per OS thread that runs Lua, kept for the life of
** the runtime so that --stats can report threads that have ended.
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
  pthread_mutex_lock(&ct_rt.list_lock);
  ts->id = ct_rt.next_id++;
  ts->next = ct_rt.threads;
  ct_rt.threads = ts;
  pthread_mutex_unlock(&ct_rt.list_lock);
  return ts;
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
