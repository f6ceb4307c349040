/*
** OS threads for threading.Thread, kept for reuse. Creating an OS thread
** and ending it (clone, stack set-up, exit) is most of what a Thread's
** start+join costs: about 75 us on the 2-vCPU VM where the benchmarks run,
** while waking a parked thread is a few. A thread whose job is done parks
** for a while (up to MAX_IDLE of them, IDLE_SECONDS each) and the next
** ct_osthread_start hands it the new job. Parked threads hold no thread
** state and touch no Lua state; they do not count as running threads, so
** they never delay the end of the program.
** Every OS thread started here blocks SIGINT: Ctrl-C goes to the main thread.
*/
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_internal.h"

#define MAX_IDLE	16
#define IDLE_SECONDS	2.0

typedef struct worker {
  uint32_t word;              /* futex: 1 once 'fn' and 'arg' are set */
  void (*fn) (void *);
  void *arg;
  int listed;                 /* in the idle list (under pool.lock) */
  int enlisted;               /* listed for the next job (own thread only) */
  uint64_t ident;
  long native_id;
  struct worker *next;
} worker;

static struct {
  pthread_mutex_t lock;
  worker *idle;               /* most recently parked first */
  int nidle;
} pool = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* in a forked child the parked threads do not exist */
static void forget_idle (void) {
  pthread_mutex_init(&pool.lock, NULL);
  pool.idle = NULL;
  pool.nidle = 0;
}

static void register_atfork (void) {
  pthread_atfork(NULL, NULL, forget_idle);
}

static _Thread_local worker *self_worker;  /* this OS thread's, if ours */

/* lists 'w' as idle: 0 when the list is full */
static int enlist (worker *w) {
  pthread_mutex_lock(&pool.lock);
  if (pool.nidle >= MAX_IDLE) {
    pthread_mutex_unlock(&pool.lock);
    return 0;
  }
  __atomic_store_n(&w->word, 0, __ATOMIC_RELAXED);
  w->listed = 1;
  w->next = pool.idle;
  pool.idle = w;
  pool.nidle++;
  pthread_mutex_unlock(&pool.lock);
  return 1;
}

/* a listed 'w' waits for a job: 0 when nobody came within IDLE_SECONDS
   (it is then out of the list) */
static int wait_for_job (worker *w) {
  struct timespec tsb;
  struct timespec *deadline = &tsb;
  ct_abs_deadline(&tsb, IDLE_SECONDS);
  while (__atomic_load_n(&w->word, __ATOMIC_ACQUIRE) == 0) {
    if (ct_futex_wait(&w->word, 0, deadline, 0) == ETIMEDOUT) {
      int listed;
      pthread_mutex_lock(&pool.lock);
      listed = w->listed;
      if (listed) {  /* still idle: take it out and end */
        worker **p = &pool.idle;
        while (*p != w) p = &(*p)->next;
        *p = w->next;
        pool.nidle--;
      }
      pthread_mutex_unlock(&pool.lock);
      if (listed) return 0;
      deadline = NULL;  /* taken just now: its job is on the way */
    }
  }
  return 1;
}

/* The job is about to end and will touch nothing the next job could need:
   the thread may be handed that job now, before the current one has
   returned. Called before waking those who wait for the end (join), so
   that a join followed at once by a start finds this thread listed. */
void ct_osthread_free_soon (void) {
  worker *w = self_worker;
  if (w != NULL && !w->enlisted) w->enlisted = enlist(w);
}

static void *worker_main (void *arg) {
  worker self;
  worker *first = (worker *)arg;  /* the starter's, valid until word is set */
  self.fn = first->fn;
  self.arg = first->arg;
  self.enlisted = 0;
  self.ident = first->ident = (uint64_t)pthread_self();
  self.native_id = first->native_id = (long)syscall(SYS_gettid);
  __atomic_store_n(&first->word, 1, __ATOMIC_RELEASE);  /* 'first' is gone */
  ct_futex_wake(&first->word, 1, 0);
  self_worker = &self;
  for (;;) {
    self.fn(self.arg);  /* (a next job may already be set in 'self') */
    ct_current = NULL;
    if (!self.enlisted && !enlist(&self)) break;
    if (!wait_for_job(&self)) break;
    self.enlisted = 0;
  }
  self_worker = NULL;
  return NULL;
}

int ct_osthread_start (void (*fn) (void *), void *arg,
                       uint64_t *ident, long *native_id) {
  worker *w;
  pthread_once(&atfork_once, register_atfork);
  pthread_mutex_lock(&pool.lock);
  w = pool.idle;
  if (w != NULL) {
    pool.idle = w->next;
    pool.nidle--;
    w->listed = 0;
  }
  pthread_mutex_unlock(&pool.lock);
  if (w != NULL) {  /* a parked thread: hand it the job */
    *ident = w->ident;
    *native_id = w->native_id;
    w->fn = fn;
    w->arg = arg;
    __atomic_store_n(&w->word, 1, __ATOMIC_RELEASE);
    ct_futex_wake(&w->word, 1, 0);
    return 0;
  }
  else {  /* a new thread; wait until it has copied the job and its ids */
    worker first;
    pthread_t pt;
    pthread_attr_t attr;
    sigset_t block, old;
    int err;
    first.word = 0;
    first.fn = fn;
    first.arg = arg;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    err = pthread_create(&pt, &attr, worker_main, &first);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) return err;
    while (__atomic_load_n(&first.word, __ATOMIC_ACQUIRE) == 0)
      ct_futex_wait(&first.word, 0, NULL, 0);
    *ident = first.ident;
    *native_id = first.native_id;
    return 0;
  }
}
