/*
** cthreads: embedding API.
** A C program creates the runtime and its main Lua state with ct_open, runs
** Lua code on it, and calls ct_close at the end. The state has the standard
** libraries plus the builtins threading, queue, multiprocessing, asyncio and
** time. C functions that block (wait for a lock, a socket, a child...) must
** detach around the wait with ct_detach/ct_attach so other threads run, and
** must not touch any Lua state while detached.
*/
#ifndef CTHREADS_H
#define CTHREADS_H

#include "lua.h"

#define CTHREADS_VERSION "cthreads 0.1"

typedef struct ct_options {
  int gil;                 /* 1: GIL on; 0: free-threaded */
  double switch_interval;  /* seconds between forced GIL switches */
  int stats;               /* print per-thread figures at ct_close */
  const char *trace_file;  /* Chrome trace-event JSON timeline, or NULL */
  int ignore_env;          /* like lua -E: no LUA_PATH/LUA_CPATH */
} ct_options;

/* Fills 'o' with the defaults, applying the environment (CTHREADS_GIL). */
void ct_options_init (ct_options *o);

/* Whether this build can run with the GIL off. */
int ct_nogil_supported (void);

/* Creates the runtime and the main state; the calling thread becomes the
   main thread, attached. Returns NULL (and a message in 'err') on failure. */
lua_State *ct_open (const ct_options *o, char *err, size_t errsize);

/* Waits for every non-daemon thread, prints --stats, closes the state
   (unless daemon threads are still running, which are abandoned). A
   Ctrl-C during the wait gives it up: the threads are abandoned too, and
   ct_close returns 1 (else 0). */
int ct_close (lua_State *L);
/* Makes ct_close abandon the non-daemon threads (and child processes)
   instead of waiting for them: for a host whose script a Ctrl-C ended. */
void ct_abandon_threads (void);

/* Blocking calls. ct_detach returns the caller's thread state; give it back
   to ct_attach. 'waited' says the call really blocked, which lets the
   thread take the GIL back promptly (short I/O calls pass 0). */
typedef struct ct_tstate ct_tstate;
ct_tstate *ct_detach (void);
void ct_attach (ct_tstate *ts, int waited);

/* Makes Ctrl-C (SIGINT) an "interrupted!" error raised in the main thread,
   also while it waits in a blocking call. */
void ct_catch_sigint (void);

/* Clears a pending Ctrl-C and returns 1 if there was one (for hosts that
   handle it themselves, like the REPL at its prompt). */
int ct_take_interrupt (void);

/* Raises "interrupted!" in the main thread if Ctrl-C is pending. */
void ct_check_interrupt (lua_State *L);
/* Whether the value at 'idx' is the error that Ctrl-C raised last (as
   raised, or with the traceback that ct_pcall_traceback adds). */
int ct_is_interrupt (lua_State *L, int idx);

int ct_gil_enabled (void);

/* fork() for a process whose other threads may be running: call it
   attached. Returns the child's pid in the parent, 0 in the child, -1 (and
   errno) on failure. The child has one thread, the caller, attached and
   now the runtime's main thread; the other threads' states are marked
   vanished, so joining them returns at once. */
long ct_fork (void);

/* Calls 'fn' with 'nargs' arguments under a traceback message handler, like
   lua_pcall. On error, the message with its traceback is on the stack. */
int ct_pcall_traceback (lua_State *L, int nargs, int nresults);

#endif
