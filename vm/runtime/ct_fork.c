/*
** ct_fork: fork() while other threads may run. The caller is attached, so
** with the GIL on every other thread is outside Lua (waiting for the GIL or
** in a blocking call that touches no Lua state) and the heap is consistent.
** The child starts with a single thread, the caller: the runtime is reset
** around it (it holds the GIL and becomes the main thread, the others'
** states are marked vanished, the thread counters are zero), then the
** hooks that modules registered with ct_atfork run.
** With the GIL off the world is stopped around fork: every other thread
** is parked at a safepoint or detached, so none holds a table's or the
** collector's lock, and the child finds the heap consistent.
*/
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_internal.h"

#define MAX_HOOKS 16

static struct {
  ct_fork_hook prepare;
  ct_fork_result_hook parent, child;
} hooks[MAX_HOOKS];
static int nhooks = 0;
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

int ct_atfork (ct_fork_hook prepare, ct_fork_result_hook parent,
               ct_fork_result_hook child) {
  int ok = 0;
  pthread_mutex_lock(&hooks_lock);
  if (nhooks < MAX_HOOKS) {
    hooks[nhooks].prepare = prepare;
    hooks[nhooks].parent = parent;
    hooks[nhooks].child = child;
    nhooks++;
    ok = 1;
  }
  pthread_mutex_unlock(&hooks_lock);
  return ok ? 0 : -1;
}

/* the child: only 'me' exists now */
static void reset_runtime (ct_tstate *me) {
  ct_tstate *ts;
  sigset_t set;
  pthread_mutex_init(&ct_rt.list_lock, NULL);
  for (ts = ct_rt.threads; ts != NULL; ts = ts->next) {
    if (ts != me && !ts->ended) {
      ts->vanished = 1;
      ts->ended = 1;
      ts->state = CT_DETACHED;
    }
  }
  if (ct_rt.main != me) {
    if (ct_rt.main) ct_rt.main->is_main = 0;
    ct_rt.main = me;
    me->is_main = 1;
  }
  me->daemon = 0;
  me->native_id = (long)syscall(SYS_gettid);
  me->ident = (uint64_t)pthread_self();
  if (pthread_getcpuclockid(pthread_self(), &me->cpuclock) != 0)
    me->cpuclock = CLOCK_THREAD_CPUTIME_ID;
  __atomic_store_n(&ct_rt.os_threads, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&ct_rt.nondaemon_threads, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&ct_rt.threads_word, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&ct_rt.interrupt_pending, 0, __ATOMIC_RELEASE);
  /* --stats and --trace describe the program's own process: a child
     neither records nor reports, even when it leaves with os.exit */
  ct_rt.tracing = 0;
  ct_rt.reported = 1;
  ct_breaker_clear(CT_BREAK_SIGNAL | CT_BREAK_GIL_DROP);
  ct_defer_after_fork(me);
  if (ct_rt.gil_on) ct_gil_reinit_after_fork(me);
  me->t_taken = ct_now();
  /* threads started by the runtime block SIGINT; this one is the main
     thread now and must receive Ctrl-C */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

long ct_fork (void) {
  ct_tstate *me = ct_current;
  pid_t pid;
  int i, n;
  /* buffered output would be written by both processes */
  {
    ct_tstate *ts = ct_detach();
    fflush(NULL);
    ct_attach(ts, 0);
  }
  pthread_mutex_lock(&hooks_lock);
  n = nhooks;
  pthread_mutex_unlock(&hooks_lock);
  if (!ct_rt.gil_on)  /* GIL off: park every other thread */
    while (!ct_stw_begin(me)) { }
  /* the hooks take native locks that attached threads also take: taken
     before the world is stopped, a thread blocked on one (another fork,
     a new shared object, a require) could never park */
  for (i = n - 1; i >= 0; i--)  /* prepare hooks in reverse, as pthread_atfork */
    if (hooks[i].prepare) hooks[i].prepare();
  pthread_mutex_lock(&ct_rt.list_lock);  /* no thread state half made */
  pid = fork();
  if (pid == 0) {
    pthread_mutex_init(&hooks_lock, NULL);
    if (me != NULL) reset_runtime(me);
    else pthread_mutex_init(&ct_rt.list_lock, NULL);
    if (!ct_rt.gil_on) {
      ct_stw_reset_after_fork();
      ct_ft_after_fork();
    }
    for (i = 0; i < n; i++)
      if (hooks[i].child) hooks[i].child(0);
    return 0;
  }
  else {
    int saved = errno;
    pthread_mutex_unlock(&ct_rt.list_lock);
    for (i = 0; i < n; i++)
      if (hooks[i].parent) hooks[i].parent((long)pid);
    if (!ct_rt.gil_on) ct_stw_end(me);
    errno = saved;
    return (long)pid;
  }
}
