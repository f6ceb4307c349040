/*
** The import lock: `require` runs a module's body once even when several
** threads ask for the module at the same moment (with the GIL off they
** really are at the same moment; with it on, a body that blocks or runs
** long lets another thread in). The first thread to require a name loads
** it; the others wait, detached, until it is done, then return what it
** put in package.loaded, or, when the load failed, try again themselves
** (as Python's per-module import locks do). A thread that requires a
** module its own loader is waiting for (A loads a and requires b while B
** loads b and requires a) would wait forever: that cycle raises an error
** in the thread that closes it. A module requiring itself in one thread
** behaves as in stock Lua.
*/
#include <stdlib.h>
#include <string.h>

#include "ct_wait.h"
#include "lauxlib.h"

/* a module some thread is loading now */
typedef struct ct_loading {
  struct ct_loading *next;
  const void *loaded;  /* the state's package.loaded: states do not share modules */
  ct_tstate *owner;
  ct_waiter waiters;   /* list head: the threads waiting for it */
  char name[1];        /* allocated to the name's length */
} ct_loading;

/* a thread waiting for a module (on its C stack): for finding cycles */
typedef struct ct_waiting {
  struct ct_waiting *next;
  ct_tstate *who;
  ct_loading *what;
} ct_waiting;

static uint32_t registry_lock = 0;  /* guards the two lists */
static ct_loading *loading = NULL;
static ct_waiting *waiting = NULL;

static ct_loading *find_loading (const void *loaded, const char *name) {
  ct_loading *m;
  for (m = loading; m != NULL; m = m->next)
    if (m->loaded == loaded && strcmp(m->name, name) == 0) return m;
  return NULL;
}

/* Would 'me' waiting for 'm' close a cycle? Follows m's owner to what it
   waits for, that module's owner, and so on. */
static int closes_cycle (ct_tstate *me, ct_loading *m) {
  int steps = 0;
  while (m != NULL && steps++ < 1000) {
    ct_tstate *owner = m->owner;
    ct_waiting *w;
    if (owner == me) return 1;
    for (w = waiting; w != NULL && w->who != owner; w = w->next) {}
    m = w ? w->what : NULL;
  }
  return 0;
}

static void unlink_waiting (ct_waiting *me) {
  ct_waiting **p;
  for (p = &waiting; *p != NULL; p = &(*p)->next)
    if (*p == me) { *p = me->next; return; }
}

/* the loader is done (loaded or failed): wakes the waiters, forgets 'm' */
static void finish_loading (ct_loading *m) {
  ct_loading **p;
  ct_waiting *w;
  ct_mutex_lock(&registry_lock);
  for (p = &loading; *p != NULL; p = &(*p)->next)
    if (*p == m) { *p = m->next; break; }
  /* a woken waiter unlinks its record later: until then it must not lead
     another thread's cycle search to 'm' */
  for (w = waiting; w != NULL; w = w->next)
    if (w->what == m) w->what = NULL;
  ct_waitlist_wake_all(&m->waiters);
  ct_mutex_unlock(&registry_lock);
  free(m);  /* a woken waiter no longer touches 'm' (its own node was popped) */
}

/* calls the original require (upvalue 1) on the arguments; returns its results */
static int call_require (lua_State *L) {
  int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, base, LUA_MULTRET);
  return lua_gettop(L);
}

static int locked_require (lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  ct_tstate *me = ct_current;
  const void *loaded;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  loaded = lua_topointer(L, -1);
  for (;;) {
    ct_loading *m;
    ct_waiter node;
    ct_waiting rec;
    int r, status;
    if (lua_getfield(L, -1, name) != LUA_TNIL && lua_toboolean(L, -1))
      return 1;  /* loaded already: what stock require returns then */
    lua_pop(L, 1);
    ct_mutex_lock(&registry_lock);
    m = find_loading(loaded, name);
    if (m != NULL && m->owner == me) {  /* requiring itself: as stock Lua */
      ct_mutex_unlock(&registry_lock);
      lua_pop(L, 1);
      return call_require(L);
    }
    if (m == NULL) {  /* ours to load */
      size_t len = strlen(name);
      m = (ct_loading *)malloc(sizeof(ct_loading) + len);
      if (m == NULL) {
        ct_mutex_unlock(&registry_lock);
        return luaL_error(L, "not enough memory");
      }
      memcpy(m->name, name, len + 1);
      m->loaded = loaded;
      m->owner = me;
      ct_waitlist_init(&m->waiters);
      m->next = loading;
      loading = m;
      ct_mutex_unlock(&registry_lock);
      lua_pop(L, 1);  /* package.loaded */
      lua_pushvalue(L, lua_upvalueindex(1));
      lua_insert(L, 1);
      status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
      finish_loading(m);
      if (status != LUA_OK) return lua_error(L);
      return lua_gettop(L);
    }
    if (closes_cycle(me, m)) {
      ct_mutex_unlock(&registry_lock);
      return luaL_error(L, "deadlock requiring module '%s': it is being loaded by "
                        "a thread that waits for a module this thread is loading", name);
    }
    ct_waitlist_append(&m->waiters, &node);
    rec.who = me;
    rec.what = m;
    rec.next = waiting;
    waiting = &rec;
    ct_mutex_unlock(&registry_lock);
    r = ct_waiter_wait(&node, NULL);
    ct_mutex_lock(&registry_lock);
    unlink_waiting(&rec);
    if (!ct_waiter_popped(&node)) ct_waitlist_unlink(&node);  /* interrupted */
    ct_mutex_unlock(&registry_lock);
    if (r == CT_WAIT_INTERRUPT) ct_check_interrupt(L);
    /* loaded, or the loader failed: look again */
  }
}

/* fork: hold the lock across it, so the child's lists are whole; the child
   forgets the loads of the threads it does not have, and their waiters */
static void before_fork (void) { ct_mutex_lock(&registry_lock); }
static void after_fork_parent (long pid) {
  (void)pid;
  ct_mutex_unlock(&registry_lock);
}
static void after_fork_child (long pid) {
  ct_loading **p = &loading;
  (void)pid;
  waiting = NULL;
  while (*p != NULL) {
    ct_loading *m = *p;
    if (m->owner != ct_current) *p = m->next;  /* left unfreed: a copy */
    else {
      ct_waitlist_init(&m->waiters);
      p = &m->next;
    }
  }
  registry_lock = 0;
}

/* replaces the global 'require' with one taking the import lock */
void ct_open_require (lua_State *L) {
  static int hooked = 0;
  if (!__atomic_exchange_n(&hooked, 1, __ATOMIC_ACQ_REL))
    ct_atfork(before_fork, after_fork_parent, after_fork_child);
  lua_getglobal(L, "require");
  lua_pushcclosure(L, locked_require, 1);
  lua_setglobal(L, "require");
}
