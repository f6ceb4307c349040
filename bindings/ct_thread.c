/*
** The native side of threading.Thread: an OS thread (a new one or a parked
** one, see vm/runtime/ct_osthread.c) with its own Lua thread (lua_newthread
** of the main state) that runs a bootstrap function from
** stdlib/threading.lua on the Thread object, attached to the runtime.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_spin.h"
#include "lauxlib.h"

typedef struct thread_handle {
  const ct_kind *kind;
  int daemon;
  lua_State *L1;
  int ref_thread, ref_self, ref_boot;
  ct_tstate *ts;
} thread_handle;

static const ct_kind thread_kind = {"thread handle"};

/* luaL_ref/luaL_unref update the registry's free list in several steps:
   with the GIL off, one thread at a time (they never collect garbage, so
   holding a spinlock across them cannot delay a stop-the-world) */
static unsigned ref_lock;

static void unref3 (lua_State *L, thread_handle *h) {
  ct_spin_lock(&ref_lock);
  luaL_unref(L, LUA_REGISTRYINDEX, h->ref_boot);
  luaL_unref(L, LUA_REGISTRYINDEX, h->ref_self);
  luaL_unref(L, LUA_REGISTRYINDEX, h->ref_thread);
  ct_spin_unlock(&ref_lock);
}

/* the life of one Thread, in an OS thread from ct_osthread_start */
static void run_thread (void *arg) {
  thread_handle *h = (thread_handle *)arg;
  ct_tstate *ts = h->ts;
  int daemon = h->daemon;
  lua_State *L1 = h->L1;
  ct_tstate_bind(ts);
  ct_attach(ts, 0);
  *(void **)lua_getextraspace(L1) = ct_coro_token();  /* runs here only */
  lua_rawgeti(L1, LUA_REGISTRYINDEX, h->ref_boot);
  lua_rawgeti(L1, LUA_REGISTRYINDEX, h->ref_self);
  if (lua_pcall(L1, 1, 0, 0) != LUA_OK) {  /* the bootstrap itself failed */
    const char *msg = lua_tostring(L1, -1);
    fprintf(stderr, "cthreads: thread bootstrap failed: %s\n",
            msg ? msg : "(error object is not a string)");
  }
  lua_settop(L1, 0);
  /* from here on 'h' and L1 may be collected once the GIL is dropped */
  unref3(L1, h);
  /* its state is a dead coroutine now, for any thread to look at (no
     collection can free it before this thread's next check) */
  __atomic_store_n((void **)lua_getextraspace(L1), NULL, __ATOMIC_RELEASE);
  ct_tstate_end(ts);
  ct_detach();
  ct_osthread_free_soon();  /* a start() right after the join reuses us */
  /* only now wake the joiners: woken earlier, they would find the GIL still
     held by this thread and sleep a second time (scripts/bench/NOTES.md) */
  __atomic_store_n(&ts->finished, 1, __ATOMIC_RELEASE);
  ct_futex_wake(&ts->finished, INT32_MAX, 0);
  ct_current = NULL;  /* this OS thread may wait in the pool for a while */
  ct_tstate_release(ts);  /* the handle may be gone already */
  if (!daemon) __atomic_fetch_sub(&ct_rt.nondaemon_threads, 1, __ATOMIC_ACQ_REL);
  __atomic_fetch_sub(&ct_rt.os_threads, 1, __ATOMIC_ACQ_REL);
  __atomic_fetch_add(&ct_rt.threads_word, 1, __ATOMIC_ACQ_REL);
  ct_futex_wake(&ct_rt.threads_word, INT32_MAX, 0);
}

/* a collected handle lets go of its thread's state */
static int th_gc (lua_State *L) {
  thread_handle *h = (thread_handle *)lua_touserdata(L, 1);
  if (h->ts != NULL) {
    ct_tstate_release(h->ts);
    h->ts = NULL;
  }
  return 0;
}

/* start(self, name, daemon, bootstrap) -> handle, ident, native_id */
static int th_start (lua_State *L) {
  thread_handle *h;
  int err;
  uint64_t ident;
  long native_id;
  const char *name = luaL_checkstring(L, 2);
  int daemon = lua_toboolean(L, 3);
  luaL_checktype(L, 4, LUA_TFUNCTION);
  h = (thread_handle *)ct_newhandle(L, sizeof(thread_handle), &thread_kind);
  memset((char *)h + sizeof(h->kind), 0, sizeof(*h) - sizeof(h->kind));
  h->daemon = daemon;
  h->ts = ct_tstate_new(name, daemon);
  if (h->ts == NULL) return luaL_error(L, "can't start new thread: not enough memory");
  h->ts->refs = 2;  /* the OS thread's, and the handle's (see th_gc) */
  if (luaL_newmetatable(L, "cthreads.thread_handle")) {
    lua_pushcfunction(L, th_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  ct_ft_enable(L);  /* GIL off: from now on threads run side by side */
  h->L1 = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 4);
  ct_spin_lock(&ref_lock);
  h->ref_boot = luaL_ref(L, LUA_REGISTRYINDEX);
  h->ref_self = luaL_ref(L, LUA_REGISTRYINDEX);
  h->ref_thread = luaL_ref(L, LUA_REGISTRYINDEX);
  ct_spin_unlock(&ref_lock);
  __atomic_fetch_add(&ct_rt.os_threads, 1, __ATOMIC_ACQ_REL);
  if (!daemon) __atomic_fetch_add(&ct_rt.nondaemon_threads, 1, __ATOMIC_ACQ_REL);
  /* returns when the ids are known, as Python's start() does (a new OS
     thread publishes them without needing the GIL) */
  err = ct_osthread_start(run_thread, h, &ident, &native_id);
  if (err != 0) {
    __atomic_fetch_sub(&ct_rt.os_threads, 1, __ATOMIC_ACQ_REL);
    if (!daemon) __atomic_fetch_sub(&ct_rt.nondaemon_threads, 1, __ATOMIC_ACQ_REL);
    unref3(L, h);
    h->ts->ended = 1;
    h->ts->finished = 1;
    ct_tstate_release(h->ts);  /* no OS thread holds it */
    return luaL_error(L, "can't start new thread: %s", strerror(err));
  }
  lua_pushinteger(L, (lua_Integer)ident);
  lua_pushinteger(L, (lua_Integer)native_id);
  return 3;
}

/* ended, or a thread of the parent process in a forked child. A handle
   already finalized (th_gc) can still be reached from another finalizer
   of the same collection (a Pool's joining its threads): its thread had
   let go of its Thread object, so it counts as ended. */
static int thread_ended (thread_handle *h) {
  if (h->ts == NULL) return 1;
  return __atomic_load_n(&h->ts->finished, __ATOMIC_ACQUIRE) != 0 ||
         h->ts->vanished;
}

/* join(handle, [timeout]) -> true if the thread has ended */
static int th_join (lua_State *L) {
  thread_handle *h = (thread_handle *)ct_checkhandle(L, 1, &thread_kind);
  struct timespec tsb;
  struct timespec *dl = ct_opt_deadline(L, 2, &tsb);
  /* the handle holds its thread's state until th_gc */
  uint32_t *finished = h->ts != NULL ? &h->ts->finished : NULL;
  while (!thread_ended(h)) {
    if (!ct_wait_until(L, finished, 0, dl, 0)) break;
  }
  lua_pushboolean(L, thread_ended(h));
  return 1;
}

static int th_done (lua_State *L) {
  thread_handle *h = (thread_handle *)ct_checkhandle(L, 1, &thread_kind);
  lua_pushboolean(L, thread_ended(h));
  return 1;
}

static int th_get_ident (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)(uint64_t)pthread_self());
  return 1;
}

static int th_get_native_id (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)syscall(SYS_gettid));
  return 1;
}

/* set_name(name): the current thread's name in --stats */
static int th_set_name (lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  if (ct_current) snprintf(ct_current->name, sizeof ct_current->name, "%s", name);
  return 0;
}

static int th_setswitchinterval (lua_State *L) {
  double s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s > 0 && s == s, 1, "switch interval must be strictly positive");
  if (s > 1e6) s = 1e6;
  __atomic_store_n(&ct_rt.switch_interval_ns, (long)(s * 1e9) > 0 ? (long)(s * 1e9) : 1,
                   __ATOMIC_RELAXED);
  return 0;
}

static int th_getswitchinterval (lua_State *L) {
  lua_pushnumber(L, (double)__atomic_load_n(&ct_rt.switch_interval_ns,
                                            __ATOMIC_RELAXED) * 1e-9);
  return 1;
}

static int th_gil_enabled (lua_State *L) {
  lua_pushboolean(L, ct_gil_enabled());
  return 1;
}

static int th_time_scale (lua_State *L) {
  lua_pushnumber(L, ct_time_scale());
  return 1;
}

/*
** next_count(i) -> the next value of process-wide counter i (1..4): the
** N of default names (Thread-N, Dummy-N) and the start order. A Lua
** 'n = n + 1' from several threads with the GIL off repeats values.
*/
static int th_next_count (lua_State *L) {
  static lua_Integer counters[4];
  lua_Integer i = luaL_checkinteger(L, 1);
  luaL_argcheck(L, i >= 1 && i <= 4, 1, "no such counter");
  lua_pushinteger(L, __atomic_add_fetch(&counters[i - 1], 1, __ATOMIC_RELAXED));
  return 1;
}

static const luaL_Reg thread_funcs[] = {
  {"next_count", th_next_count},
  {"start", th_start},
  {"join", th_join},
  {"done", th_done},
  {"get_ident", th_get_ident},
  {"get_native_id", th_get_native_id},
  {"set_name", th_set_name},
  {"setswitchinterval", th_setswitchinterval},
  {"getswitchinterval", th_getswitchinterval},
  {"gil_enabled", th_gil_enabled},
  {"time_scale", th_time_scale},
  {NULL, NULL}
};

void ct_lock_register (lua_State *L);       /* ct_lock.c */
void ct_event_register (lua_State *L);      /* ct_event.c */
void ct_semaphore_register (lua_State *L);  /* ct_semaphore.c */
void ct_condition_register (lua_State *L);  /* ct_condition.c */

/* the native half of the threading module (stdlib/threading.lua) */
int luaopen_ct_threading (lua_State *L) {
  luaL_newlib(L, thread_funcs);
  lua_pushlightuserdata(L, CT_HANDLE_KEY);
  lua_setfield(L, -2, "HANDLE");
  lua_pushinteger(L, (lua_Integer)(uint64_t)pthread_self());
  lua_setfield(L, -2, "main_ident");
  ct_lock_register(L);
  ct_event_register(L);
  ct_semaphore_register(L);
  ct_condition_register(L);
  return 1;
}
