/*
** The runtime's life: ct_open creates it with the main thread attached,
** ct_close waits for non-daemon threads and tears it down.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ct_internal.h"
#include "lauxlib.h"
#include "lualib.h"

ct_runtime ct_rt;

void ct_open_modules (lua_State *L);  /* bindings/ct_modules.c */
void ct_time_scale_noenv (void);      /* bindings/ct_handle.c */

void ct_options_init (ct_options *o) {
  const char *env = getenv("CTHREADS_GIL");
  o->gil = 0;  /* free-threaded by default, as CPython 3.13t */
  if (env != NULL && *env != '\0')
    o->gil = strcmp(env, "0") != 0;
  o->switch_interval = 0.005;
  o->stats = 0;
  o->trace_file = NULL;
  o->ignore_env = 0;
}

int ct_nogil_supported (void) {
  return 1;
}

/* --stats and --trace are written once: by ct_close, or at exit() when
   the script ends with os.exit (or a thread calls it) */
static void report_at_end (void) {
  if (ct_rt.main == NULL || ct_rt.reported) return;
  ct_rt.reported = 1;
  if (ct_rt.main->cpu_time == 0)
    ct_rt.main->cpu_time = ct_thread_cpu(ct_rt.main->cpuclock);
  if (ct_rt.stats) ct_stats_print(stderr);
  if (ct_rt.tracing) ct_trace_write();
}

static int at_exit_registered;

static void ct_at_exit (void) {
  report_at_end();
}

lua_State *ct_open (const ct_options *o, char *err, size_t errsize) {
  lua_State *L;
  if (!o->gil && !ct_nogil_supported()) {
    snprintf(err, errsize, "the GIL cannot be turned off in this build: "
             "the free-threaded VM is not implemented yet (use --gil)");
    return NULL;
  }
  if (!(o->switch_interval > 0)) {
    snprintf(err, errsize, "switch interval must be positive");
    return NULL;
  }
  memset(&ct_rt, 0, sizeof ct_rt);
  if (o->trace_file != NULL) {
    if (!ct_trace_open(o->trace_file, err, errsize)) return NULL;
    ct_rt.tracing = 1;
  }
  if (!at_exit_registered) {
    atexit(ct_at_exit);
    at_exit_registered = 1;
  }
  ct_rt.gil_on = o->gil;
  ct_rt.switch_interval_ns = (long)(o->switch_interval * 1e9);
  if (ct_rt.switch_interval_ns < 1) ct_rt.switch_interval_ns = 1;
  ct_rt.stats = o->stats;
  ct_rt.trace_file = o->trace_file;
  ct_rt.t_start = ct_now();
  pthread_mutex_init(&ct_rt.list_lock, NULL);
  ct_gil_init();
  ct_rt.main = ct_tstate_new("MainThread", 0);
  if (ct_rt.main == NULL) {
    snprintf(err, errsize, "not enough memory");
    return NULL;
  }
  ct_rt.main->is_main = 1;
  ct_tstate_bind(ct_rt.main);
  ct_attach(ct_rt.main, 0);
  L = luaL_newstate();
  if (L == NULL) {
    snprintf(err, errsize, "cannot create state: not enough memory");
    return NULL;
  }
  ct_rt.L = L;
  if (o->ignore_env) {  /* read by luaopen_package */
    ct_time_scale_noenv();
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  ct_open_modules(L);
  return L;
}

/* Waits until every non-daemon OS thread has finished with the heap; a
   Ctrl-C gives up (the threads are then abandoned like daemons) and
   returns 0. */
static int wait_nondaemon_threads (void) {
  for (;;) {
    uint32_t seen = __atomic_load_n(&ct_rt.threads_word, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&ct_rt.nondaemon_threads, __ATOMIC_ACQUIRE) == 0)
      return 1;
    ct_tstate *ts = ct_detach();
    int r = ct_futex_wait(&ct_rt.threads_word, seen, NULL, 0);
    ct_attach(ts, 1);
    if (r == EINTR && ct_take_interrupt()) {
      fprintf(stderr, "cthreads: interrupted while waiting for threads to end\n");
      return 0;
    }
  }
}

/* package.loaded[mod]._shutdown(abandon), in protected mode since a
   script may have broken its modules; the arguments are the module name
   and 'abandon' (true: end without joining threads or children) */
static int call_shutdown (lua_State *L) {
  const char *mod = lua_tostring(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_type(L, -1) != LUA_TTABLE) return 0;
  if (lua_getfield(L, -1, mod) != LUA_TTABLE) return 0;
  if (lua_getfield(L, -1, "_shutdown") != LUA_TFUNCTION) return 0;
  lua_pushvalue(L, 2);
  lua_call(L, 1, 0);
  return 0;
}

/* 0 when the module's shutdown ended normally */
static int module_shutdown (lua_State *L, const char *mod, int abandon) {
  int top = lua_gettop(L);
  int failed = 0;
  lua_pushcfunction(L, call_shutdown);
  lua_pushstring(L, mod);
  lua_pushboolean(L, abandon);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (ct_is_interrupt(L, -1))  /* Ctrl-C while joining */
      fprintf(stderr, "cthreads: interrupted while waiting for %s to end\n",
              strcmp(mod, "threading") == 0 ? "threads" : "child processes");
    else
      fprintf(stderr, "cthreads: error at shutdown: %s\n",
              msg ? msg : "(error object is not a string)");
    failed = 1;
  }
  lua_settop(L, top);
  return failed;
}

void ct_abandon_threads (void) {
  ct_rt.abandon = 1;
}

int ct_close (lua_State *L) {
  /* threading._shutdown joins the non-daemon threads, as Python does;
     then multiprocessing's exit function finalizes pools and managers,
     terminates daemon children and joins the others. After a Ctrl-C
     (there, or one that ended the script) nothing is joined: what still
     runs is abandoned, like daemons. */
  int abandon = ct_rt.abandon;
  int give_up = module_shutdown(L, "threading", abandon);
  if (give_up) abandon = 1;
  if (module_shutdown(L, "multiprocessing", abandon)) give_up = abandon = 1;
  if (!abandon && !wait_nondaemon_threads()) give_up = 1;
  ct_rt.main->cpu_time = ct_thread_cpu(ct_rt.main->cpuclock);
  report_at_end();
  fflush(stdout);
  if (__atomic_load_n(&ct_rt.os_threads, __ATOMIC_ACQUIRE) == 0) {
    ct_ft_shutdown(L);
    lua_close(L);
    ct_detach();
    ct_tstate_free_all();
  }
  /* else daemon threads still run: keep the heap and the GIL (they stay
     parked waiting for it) and let the process exit under them; with
     the GIL off, stop the world for good so that they park */
  else if (!ct_rt.gil_on)
    ct_stw_begin(ct_rt.main);
  return give_up;
}

/* os.exit(status, close). The state is closed only when no other thread
   can be using its heap (Lua's lua_close would free it under them);
   otherwise, or without 'close', the other threads are stopped (GIL off)
   or left waiting for the GIL, and abandoned as ct_close abandons
   daemons, while the process exits. */
void ct_exit (lua_State *L, int status, int close) {
  ct_tstate *me = ct_current;
  int alone = me == ct_rt.main &&
              __atomic_load_n(&ct_rt.os_threads, __ATOMIC_ACQUIRE) == 0;
  if (close && alone) {
    if (me->cpu_time == 0) me->cpu_time = ct_thread_cpu(me->cpuclock);
    report_at_end();
    fflush(stdout);
    ct_ft_shutdown(L);
    lua_close(L);
    ct_detach();
    ct_tstate_free_all();
  }
  else if (!alone && !ct_rt.gil_on && me != NULL) {
    while (!ct_stw_begin(me)) {}  /* another stop came first: ours next */
  }
  exit(status);
}
