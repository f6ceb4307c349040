/*
** cthreads runtime internals: thread states, the GIL, the eval breaker,
** futex waits and the counters behind --stats. Bindings use only the
** public API in cthreads.h plus the waiting helpers declared here.
*/
#ifndef CT_INTERNAL_H
#define CT_INTERNAL_H

#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cthreads.h"
#include "lua.h"

/* thread states */
enum { CT_DETACHED, CT_ATTACHED, CT_SUSPENDED };

/* bits of ct_breaker_word */
#define CT_BREAK_GIL_DROP	1u  /* a waiter asks the GIL holder to switch */
#define CT_BREAK_SIGNAL		2u  /* Ctrl-C for the main thread */
#define CT_BREAK_DEFERRED	4u  /* the GIL holder has deferred wakes to make */
#define CT_BREAK_STW		8u  /* GIL off: park for a stop-the-world */
#define CT_BREAK_STRGROW	16u /* GIL off: the string table is to grow */

#define CT_DEFER_MAX 8        /* deferred wakes a thread holds at most */

struct ct_tstate {
  unsigned id;            /* 0 for the main thread, then in creation order */
  int is_main;
  int daemon;
  int state;              /* CT_ATTACHED etc.; atomic access */
  uint64_t ident;         /* pthread_self() */
  long native_id;         /* gettid() */
  /* --trace (ct_trace.c): the thread's own event list */
  double t_attached, t_detached;  /* when it last attached / detached */
  struct ct_trace_chunk *trace_head, *trace_tail;
  unsigned long trace_events, trace_dropped;
  char name[64];
  clockid_t cpuclock;
  double cpu_base;        /* the OS thread's CPU time when this state began */
  int ended;
  uint32_t finished;      /* futex: 1 once the thread has let go of the heap
                             and the GIL (what join waits for) */
  int vanished;           /* in a forked child: a thread of the parent */
  /* counters (written by the thread itself) */
  double t_taken;         /* when this thread last took the GIL */
  double gil_held, gil_waited, lock_waited;
  double gc_time;          /* seconds spent collecting garbage */
  unsigned long gc_count;  /* collection steps and full collections */
  double gc_t0;            /* start of the collection under way */
  int gc_depth;            /* a finalizer may collect inside a step */
  unsigned long gil_takes, switches, forced_drops, lock_waits;
  double cpu_time;        /* filled when the thread ends */
  /* deferred wakes (ct_defer.c), only while holding the GIL */
  int ndeferred, defer_ticks;
  uint32_t *deferred_word[CT_DEFER_MAX];
  int deferred_n[CT_DEFER_MAX];
  /* free-threaded mode (ct_ftgc.c): objects this thread created since the
     last stop-the-world, and its allocation debt not yet counted */
  void *ft_head, *ft_tail;  /* GCObject list */
  ptrdiff_t ft_debt;
  /* the list of all thread states, newest first, under list_lock */
  struct ct_tstate *next, *prev;
  int refs;               /* its OS thread and its Thread handle (atomic) */
};

typedef struct ct_runtime {
  int gil_on;
  long switch_interval_ns;  /* atomic access */
  int stats;
  const char *trace_file;
  int tracing;              /* trace_file is open: record events */
  int reported;             /* --stats and --trace are done (see ct_at_exit) */
  lua_State *L;             /* the main state */
  ct_tstate *main;
  pthread_mutex_t list_lock;
  ct_tstate *threads;
  unsigned next_id;
  int os_threads;           /* threads other than main not yet ended (atomic) */
  int nondaemon_threads;    /* of which non-daemon (atomic) */
  uint32_t threads_word;    /* futex: bumped whenever one of those ends */
  int interrupt_pending;    /* atomic */
  int abandon;              /* ct_close leaves the threads running (Ctrl-C) */
  double t_start;
} ct_runtime;

extern ct_runtime ct_rt;
extern _Thread_local ct_tstate *ct_current;

/* ct_clock.c */
double ct_now (void);                 /* CLOCK_MONOTONIC seconds */
double ct_thread_cpu (clockid_t c);   /* a thread's CPU seconds */
void ct_abs_deadline (struct timespec *ts, double timeout);

/* ct_futex.c: wait while *addr == expected; 'deadline' NULL waits forever.
   Returns 0 when woken (or the value differs), ETIMEDOUT, or EINTR. */
int ct_futex_wait (uint32_t *addr, uint32_t expected,
                   const struct timespec *deadline, int shared);
void ct_futex_wake (uint32_t *addr, int n, int shared);

/* ct_intrwait.c: the same wait, and a sleep until 'deadline' (not NULL),
   that return EINTR when Ctrl-C is pending and ts is the main thread (seen
   within 0.1 s even when the signal came just before the system call);
   other threads wait as ct_futex_wait does and sleep through signals */
int ct_futex_wait_intr (ct_tstate *ts, uint32_t *addr, uint32_t expected,
                        const struct timespec *deadline, int shared);
int ct_sleep_until_intr (ct_tstate *ts, const struct timespec *deadline);

/* ct_gil.c */
void ct_gil_init (void);
void ct_gil_take (ct_tstate *ts, int priority);
void ct_gil_drop (ct_tstate *ts);
void ct_gil_forced_switch (ct_tstate *ts);
void ct_gil_reinit_after_fork (ct_tstate *ts);
int ct_gil_held (void);

/* ct_breaker.c */
#define CT_INTERRUPT_KEY "cthreads.interrupt"  /* registry: the last Ctrl-C error */
void ct_breaker_set (unsigned bits);
void ct_breaker_clear (unsigned bits);

/* ct_defer.c: wake-ups made when the GIL is next dropped (GIL on) */
void ct_defer_wake (uint32_t *word, int n);
void ct_defer_wake_all (ct_tstate *ts);
void ct_defer_tick (ct_tstate *ts);
void ct_defer_wake_to_release (uint32_t *word, int n);  /* see there */
void ct_defer_released (void);
void ct_defer_after_fork (ct_tstate *me);

/* ct_runtime.c: os.exit(status, close), safe while other threads run */
void ct_exit (lua_State *L, int status, int close);

/* ct_stw.c: stop-the-world with the GIL off. ct_stw_begin returns 1 when
   the caller has stopped every other attached thread, 0 when another
   thread's stop happened instead (the caller was parked meanwhile). */
int ct_stw_begin (ct_tstate *me);
void ct_stw_end (ct_tstate *me);
void ct_stw_park (ct_tstate *ts);      /* at a safepoint, if requested */
int ct_stw_requested (void);
void ct_stw_reset_after_fork (void);  /* in a forked child */

/* ct_ftgc.c */
void ct_ft_enable (lua_State *L);      /* before a second thread starts */
void ct_ft_thread_end (ct_tstate *ts); /* last thing a thread does attached */
void ct_ft_shutdown (lua_State *L);    /* before lua_close */
void ct_ft_after_fork (void);          /* child: the vanished threads' objects */
void ct_ft_growstrings (lua_State *L); /* at a safepoint: CT_BREAK_STRGROW */
void *ct_coro_token (void);            /* this OS thread's owner token */

/* ct_tstate.c */
ct_tstate *ct_tstate_new (const char *name, int daemon);  /* refs = 1 */
/* drops a reference; the last frees the state, unless --stats or --trace
   will report it at the end */
void ct_tstate_release (ct_tstate *ts);
void ct_tstate_bind (ct_tstate *ts);      /* in the new OS thread */
void ct_tstate_end (ct_tstate *ts);       /* last thing the thread does */
void ct_tstate_free_all (void);

/* ct_osthread.c: runs fn(arg) in an OS thread of the runtime, a parked one
   if there is one, else a new one (SIGINT blocked). Fills the thread's
   ident (pthread_self) and native id; returns 0 or an errno value. */
int ct_osthread_start (void (*fn) (void *), void *arg,
                       uint64_t *ident, long *native_id);
/* called by fn when it is done with everything a next job could need */
void ct_osthread_free_soon (void);
/* ct_fork.c: hooks run around ct_fork (prepare and parent in the parent,
   child in the child, in registration order; parent and child get the
   result of fork, -1 in the parent when it failed) */
typedef void (*ct_fork_hook) (void);
typedef void (*ct_fork_result_hook) (long pid);
int ct_atfork (ct_fork_hook prepare, ct_fork_result_hook parent,
               ct_fork_result_hook child);

/* ct_gcstats.c: collection pauses, bracketed by patch 0004's hooks */
void ct_gc_pauses (unsigned long *count, double *median, double *max,
                   double *total);

/* ct_stats.c */
void ct_stats_print (FILE *out);

/* ct_trace.c: only called when ct_rt.tracing is set */
enum { CT_EV_RUNNING, CT_EV_GIL_WAIT, CT_EV_BLOCKED, CT_EV_GC };
int ct_trace_open (const char *file, char *err, size_t errsize);
void ct_trace_event (ct_tstate *ts, int kind, double t0, double t1);
void ct_trace_detach (ct_tstate *ts, double now);
void ct_trace_attach (ct_tstate *ts, double asked, double got);
void ct_trace_write (void);
void ct_trace_free (ct_tstate *ts);

/* Waiting helper for bindings: detaches, waits while *addr == expected
   until 'deadline' (NULL: forever), attaches. Returns 1 when woken (the
   caller re-checks its condition), 0 on timeout. Raises "interrupted!" in
   the main thread on Ctrl-C. */
int ct_wait_until (lua_State *L, uint32_t *addr, uint32_t expected,
                   const struct timespec *deadline, int shared);

/* timeout argument at 'arg': nil or negative -> NULL (forever), else fills
   'ts' with the absolute deadline and returns it */
struct timespec *ct_opt_deadline (lua_State *L, int arg, struct timespec *ts);

#endif
