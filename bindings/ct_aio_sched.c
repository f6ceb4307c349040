/*
** asyncio's scheduler core: what runs at every task switch, in C.
** run_batch() resumes the ready tasks of one loop round; sleep(0) is the
** switch seen from the task. Everything that is not a plain switch (a
** task's first run, a cancellation, a task's end or error, a callback) is
** handed back to Lua functions of stdlib/asyncio.lua, given once to
** scheduler().
**
** A task is a Lua table; this file reads its state ("_state") and its
** coroutine ("_co") and sets the state to WAITING when the task suspends.
** The ready queue is a Lua array of pairs (entry, resume value); see
** push_ready in stdlib/asyncio.lua.
**
** The task running in each OS thread is known from thread-local storage:
** its coroutine, and where its table sits on the stack of the frame that
** resumed it. A call from any other coroutine (or no task) sees none.
*/
#include "ct_aio.h"
#include "lauxlib.h"

static _Thread_local lua_State *cur_co;  /* the running task's coroutine */
static _Thread_local aio_loop *cur_loop; /* the loop run_batch runs */
/* the running task's table: at slot cur_slot of the frame that resumed it,
   in the state cur_runner (which waits in lua_resume meanwhile) */
static _Thread_local lua_State *cur_runner;
static _Thread_local int cur_slot;

/* run_batch's upvalues, filled from scheduler()'s configuration table */
enum {
  UV_STATE = 1, UV_CO, UV_RQ, UV_RQN, UV_H,    /* field names */
  UV_READY, UV_WAITING, UV_CANCELLING,          /* task states */
  UV_WAIT, UV_DONE, UV_HANDLE,                  /* markers */
  UV_SLOW_STEP, UV_WAIT_CANCELLED, UV_FINISH, UV_FAIL, UV_RUN_HANDLE,
  UV_COUNT = UV_RUN_HANDLE
};

static const char *const batch_config[UV_COUNT] = {
  "state_key", "co_key", "rq_key", "rqn_key", "h_key",
  "READY", "WAITING", "CANCELLING",
  "WAIT", "DONE", "HANDLE",
  "slow_step", "wait_cancelled", "finish", "fail", "run_handle"
};

/* stack slots of run_batch */
#define LOOP 1
#define QUEUE 2
#define NEWQ 4   /* loop._rq: where tasks are queued during the batch */
#define ENTRY 5
#define VALUE 6

#define UV(i) lua_upvalueindex(i)

/* what run_batch compares against, as pointers: states are interned
   strings, markers tables, so identity is equality */
typedef struct batch {
  const char *ready, *cancelling;
  const void *wait, *done, *handle;
} batch;

/* fn(loop, task, [extra]) for the Lua side */
static void call_back (lua_State *L, int fn, int extra) {
  lua_pushvalue(L, UV(fn));
  lua_pushvalue(L, LOOP);
  lua_pushvalue(L, ENTRY);
  if (extra) {
    lua_pushvalue(L, extra);
    lua_call(L, 3, 0);
  }
  else lua_call(L, 2, 0);
}

/* puts the task back at the end of the ready queue */
static void requeue (lua_State *L) {
  lua_Integer n;
  lua_pushvalue(L, UV(UV_RQN));
  lua_rawget(L, LOOP);
  n = lua_tointeger(L, -1) + 2;
  lua_pop(L, 1);
  lua_pushvalue(L, ENTRY);
  lua_rawseti(L, NEWQ, n - 1);
  lua_pushboolean(L, 0);
  lua_rawseti(L, NEWQ, n);
  lua_pushvalue(L, UV(UV_RQN));
  lua_pushinteger(L, n);
  lua_rawset(L, LOOP);
}

static const char *state_of (lua_State *L) {
  lua_pushvalue(L, UV(UV_STATE));
  lua_rawget(L, ENTRY);
  return lua_tostring(L, -1);
}

/* resumes the READY task at ENTRY with VALUE and deals with the outcome */
static void step (lua_State *L, const batch *b) {
  lua_State *co;
  int status, nres, first;
  if (state_of(L) != b->ready) {  /* pending, cancelling, stale */
    lua_pushvalue(L, UV(UV_SLOW_STEP));
    lua_pushvalue(L, LOOP);
    lua_pushvalue(L, ENTRY);
    lua_pushvalue(L, VALUE);
    lua_call(L, 3, 0);
    return;
  }
  lua_pushvalue(L, UV(UV_CO));
  lua_rawget(L, ENTRY);
  co = lua_tothread(L, -1);
  if (co == NULL) return;  /* not a running task: nothing to resume */
  cur_co = co;
  cur_runner = L;
  cur_slot = ENTRY;
  lua_pushvalue(L, VALUE);
  lua_xmove(L, co, 1);
  status = lua_resume(co, L, 1, &nres);
  cur_co = NULL;
  if (status == LUA_YIELD) {
    if (nres == 0) {  /* sleep(0) or a bare coroutine.yield() */
      requeue(L);
      return;
    }
    if (!lua_checkstack(L, nres + 4)) {
      lua_pop(co, nres);
      luaL_error(L, "too many results to yield");
    }
    first = lua_gettop(L) + 1;
    lua_xmove(co, L, nres);
    if (lua_topointer(L, first) == b->wait) {  /* it waits for something */
      if (state_of(L) == b->cancelling)  /* cancelled while it ran */
        call_back(L, UV_WAIT_CANCELLED, 0);
      else {
        lua_pushvalue(L, UV(UV_STATE));
        lua_pushvalue(L, UV(UV_WAITING));
        lua_rawset(L, ENTRY);
      }
    }
    else if (lua_topointer(L, first) == b->done) {  /* the function returned */
      if (nres < 2) lua_pushnil(L);
      call_back(L, UV_FINISH, first + 1);
    }
    else requeue(L);  /* coroutine.yield(values...): the values are dropped */
  }
  else if (status == LUA_OK) {  /* task coroutines never return */
    lua_pop(co, nres);
    lua_pushliteral(L, "asyncio: a task coroutine ended by itself");
    call_back(L, UV_FAIL, lua_gettop(L));
  }
  else {
    lua_xmove(co, L, 1);  /* the error */
    call_back(L, UV_FAIL, lua_gettop(L));
  }
}

/*
** run_batch(loop, queue, n): runs the n slots (n/2 entries) of a ready
** queue taken off the loop; entries queued meanwhile go to loop._rq.
*/
static int run_batch (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 3), i;
  batch b;
  luaL_checktype(L, LOOP, LUA_TTABLE);
  luaL_checktype(L, QUEUE, LUA_TTABLE);
  luaL_checkstack(L, LUA_MINSTACK, NULL);  /* room for current_task() too */
  lua_settop(L, 3);
  b.ready = lua_tostring(L, UV(UV_READY));
  b.cancelling = lua_tostring(L, UV(UV_CANCELLING));
  b.wait = lua_topointer(L, UV(UV_WAIT));
  b.done = lua_topointer(L, UV(UV_DONE));
  b.handle = lua_topointer(L, UV(UV_HANDLE));
  lua_pushvalue(L, UV(UV_H));
  lua_rawget(L, LOOP);
  cur_loop = (aio_loop *)ct_checkhandle(L, -1, &aio_loop_kind);
  lua_pop(L, 1);
  lua_pushvalue(L, UV(UV_RQ));
  lua_rawget(L, LOOP);  /* NEWQ */
  luaL_checktype(L, NEWQ, LUA_TTABLE);
  for (i = 1; i < n; i += 2) {
    lua_rawgeti(L, QUEUE, i);      /* ENTRY */
    lua_rawgeti(L, QUEUE, i + 1);  /* VALUE */
    lua_pushnil(L);
    lua_rawseti(L, QUEUE, i);
    if (lua_topointer(L, VALUE) == b.handle) {
      lua_pushvalue(L, UV(UV_RUN_HANDLE));
      lua_pushvalue(L, ENTRY);
      lua_call(L, 1, 0);
    }
    else step(L, &b);
    lua_settop(L, NEWQ);
  }
  cur_loop = NULL;
  return 0;
}

/*
** resume_task(task, co, ...) -> like coroutine.resume(co, ...), with 'task'
** the current task meanwhile (for the Lua side's first runs of tasks)
*/
static int resume_task (lua_State *L) {
  lua_State *co = lua_tothread(L, 2);
  lua_State *saved_co = cur_co, *saved_runner = cur_runner;
  int saved_slot = cur_slot;
  int narg = lua_gettop(L) - 2, status, nres;
  luaL_argexpected(L, co != NULL, 2, "coroutine");
  if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
  luaL_checkstack(L, LUA_MINSTACK, NULL);  /* room for current_task() */
  cur_co = co;
  cur_runner = L;
  cur_slot = 1;
  lua_xmove(L, co, narg);
  status = lua_resume(co, L, narg, &nres);
  cur_co = saved_co;
  cur_runner = saved_runner;
  cur_slot = saved_slot;
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      return luaL_error(L, "too many results to resume");
    }
    lua_pushboolean(L, 1);
    lua_xmove(co, L, nres);
    return nres + 1;
  }
  lua_pushboolean(L, 0);
  lua_xmove(co, L, 1);
  return 2;
}

aio_loop *aio_running_loop (void) {
  return cur_loop;
}

/* The task is read off the frame that resumed it, which waits in
   lua_resume: a value pushed there and moved off at once. */
int aio_push_current_task (lua_State *L) {
  if (L != cur_co || L == NULL) return 0;
  lua_pushvalue(cur_runner, cur_slot);
  lua_xmove(cur_runner, L, 1);
  return 1;
}

/* current_task() -> the task whose coroutine calls, or nothing */
static int current_task (lua_State *L) {
  return aio_push_current_task(L);
}

/* sleep's upvalues */
enum { SUV_SLOW = 1, SUV_CANCEL, SUV_RAISE };

static int return_all (lua_State *L, int status, lua_KContext ctx) {
  (void)status; (void)ctx;
  return lua_gettop(L);
}

/* back from sleep(0): CANCEL as the resume value raises CancelledError */
static int sleep0_done (lua_State *L, int status, lua_KContext ctx) {
  (void)status; (void)ctx;
  if (lua_rawequal(L, 3, UV(SUV_CANCEL))) {
    lua_pushvalue(L, UV(SUV_RAISE));
    lua_call(L, 0, 0);
  }
  lua_settop(L, 2);
  return 1;
}

/*
** sleep(s, [result]): sleep(0) in a task is a bare yield to the loop, done
** here; anything else goes to the Lua implementation.
*/
static int aio_sleep (lua_State *L) {
  int n;
  if (L == cur_co && lua_type(L, 1) == LUA_TNUMBER && lua_tonumber(L, 1) == 0) {
    lua_settop(L, 2);
    return lua_yieldk(L, 0, 0, sleep0_done);
  }
  n = lua_gettop(L);
  lua_pushvalue(L, UV(SUV_SLOW));
  lua_insert(L, 1);
  lua_callk(L, n, LUA_MULTRET, 0, return_all);
  return lua_gettop(L);
}

static void config_field (lua_State *L, const char *name) {
  if (lua_getfield(L, 1, name) == LUA_TNIL)
    luaL_error(L, "scheduler: '%s' missing", name);
}

/*
** scheduler(config) -> run_batch, sleep
** config: the field names, states, markers and Lua callbacks named in
** batch_config, plus sleep_slow, CANCEL and raise_cancelled for sleep.
*/
static int scheduler (lua_State *L) {
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  for (i = 0; i < UV_COUNT; i++) config_field(L, batch_config[i]);
  lua_pushcclosure(L, run_batch, UV_COUNT);
  config_field(L, "sleep_slow");
  config_field(L, "CANCEL");
  config_field(L, "raise_cancelled");
  lua_pushcclosure(L, aio_sleep, 3);
  return 2;
}

static const luaL_Reg sched_funcs[] = {
  {"scheduler", scheduler},
  {"resume_task", resume_task},
  {"current_task", current_task},
  {NULL, NULL}
};

/* adds the scheduler functions to the module table on the top of the stack */
void aio_sched_register (lua_State *L) {
  luaL_setfuncs(L, sched_funcs, 0);
}
