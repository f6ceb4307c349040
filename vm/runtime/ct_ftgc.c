/*
** The free-threaded mode's side of the collector (GIL off):
**   - allocation debt counted per thread, added to 'GCdebt' in chunks;
**   - new objects on the creating thread's own list, spliced into
**     'allgc' when the world is stopped;
**   - every collection is whole inside a stop-the-world: in generational
**     mode (lua.c's default) a young or a major collection, in
**     incremental mode a full cycle; a mode asked for by collectgarbage
**     is entered at the next collection; finalizers run after the world
**     restarts; in generational mode old objects stay black between
**     collections, and the write barriers fire, under the lists' lock
**     (lgc.c);
**   - memory another thread may still read (resized table parts, old
**     stacks) and files closed under a reader are kept until the next
**     stop-the-world.
** Lua's own collector (lgc.c) does the marking and sweeping: inside the
** stop 'ct_ft_on' is cleared, as the collecting thread is alone.
*/
#include <stdlib.h>
#include <string.h>

#include "ct_fthooks.h"  /* first: the Lua headers read its macros */
#include "ct_internal.h"
#include "ct_luahooks.h"  /* ct_gc_begin, ct_gc_end */
#include "ct_spin.h"
#include "lua.h"
#include "lauxlib.h"
#include "lstate.h"
#include "lgc.h"
#include "lfunc.h"
#include "ltm.h"
#include "lstring.h"
#include "ldo.h"
#include "ct_ftgc.h"

int ct_ft_on = 0;
int ct_ft_localdebt = 0;
_Thread_local int ct_ft_finalizing = 0;
static int asked_mode = LUA_GCINC;  /* entered at the next collection */

int ct_ft_gcmode (int mode) {
  return __atomic_exchange_n(&asked_mode, mode, __ATOMIC_RELAXED);
}

#define DEBT_CHUNK	(64 * 1024)

static unsigned gclists_lock;  /* allgc, finobj, tobefnz, twups */

void ct_ft_lockgc (void) { ct_spin_lock(&gclists_lock); }
void ct_ft_unlockgc (void) { ct_spin_unlock(&gclists_lock); }


/* {======================================================
** Debt and object lists
** ======================================================= */

void ct_ft_adddebt (global_State *g, ptrdiff_t d) {
  ct_tstate *ts = ct_current;
  if (ts == NULL) {
    __atomic_fetch_add(&g->GCdebt, d, __ATOMIC_RELAXED);
    return;
  }
  d += ts->ft_debt;  /* written by its thread only, read by any */
  if (d > DEBT_CHUNK || d < -DEBT_CHUNK) {
    __atomic_fetch_add(&g->GCdebt, d, __ATOMIC_RELAXED);
    d = 0;
  }
  __atomic_store_n(&ts->ft_debt, d, __ATOMIC_RELAXED);
}

void ct_ft_linkgc (lua_State *L, GCObject *o) {
  ct_tstate *ts = ct_current;
  if (ts == NULL) {  /* a thread the runtime does not know */
    global_State *g = G(L);
    ct_ft_lockgc();
    o->next = g->allgc;
    g->allgc = o;
    ct_ft_unlockgc();
    return;
  }
  o->next = (GCObject *)ts->ft_head;
  ts->ft_head = o;
  if (ts->ft_tail == NULL) ts->ft_tail = o;
}

/* moves a thread's objects and debt to the global ones (world stopped,
   or the thread itself under the lists' lock) */
static void take_thread (global_State *g, ct_tstate *ts) {
  if (ts->ft_head != NULL) {
    GCObject *tail = (GCObject *)ts->ft_tail;
    tail->next = g->allgc;
    g->allgc = (GCObject *)ts->ft_head;
    ts->ft_head = ts->ft_tail = NULL;
  }
  if (ts->ft_debt != 0) {
    __atomic_fetch_add(&g->GCdebt, ts->ft_debt, __ATOMIC_RELAXED);
    __atomic_store_n(&ts->ft_debt, 0, __ATOMIC_RELAXED);
  }
}

static void take_all_threads (global_State *g) {
  ct_tstate *ts;
  pthread_mutex_lock(&ct_rt.list_lock);
  for (ts = ct_rt.threads; ts != NULL; ts = ts->next)
    take_thread(g, ts);
  pthread_mutex_unlock(&ct_rt.list_lock);
}

/* collectgarbage("count"): the threads' pending debts are read racily,
   which is as exact as a count taken while they allocate can be */
size_t ct_ft_totalbytes (global_State *g) {
  l_mem total = (l_mem)g->totalbytes + __atomic_load_n(&g->GCdebt, __ATOMIC_RELAXED);
  ct_tstate *ts;
  pthread_mutex_lock(&ct_rt.list_lock);
  for (ts = ct_rt.threads; ts != NULL; ts = ts->next)
    total += __atomic_load_n(&ts->ft_debt, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&ct_rt.list_lock);
  return total > 0 ? (size_t)total : 0;
}

/* a forked child: the parent's other threads are gone, their objects
   stay (the world was stopped at the fork) */
void ct_ft_after_fork (void) {
  if (ct_ft_on && ct_rt.L != NULL) take_all_threads(G(ct_rt.L));
}

void ct_ft_thread_end (ct_tstate *ts) {
  if (!ct_ft_on || ct_rt.L == NULL) return;
  ct_ft_lockgc();
  take_thread(G(ct_rt.L), ts);
  ct_ft_unlockgc();
}

/* }====================================================== */


/* {======================================================
** Memory and files kept until the next stop-the-world
** ======================================================= */

typedef struct Retired {
  void *p;
  size_t size;
  int kind;  /* CT_RETIRED_* */
  FILE *f;
} Retired;

static unsigned retire_lock;
static Retired *retired;
static size_t nretired, retired_cap;
static size_t nfiles;  /* FILEs waiting */

static int retire (lua_State *L, void *p, size_t size, int kind, FILE *f) {
  int ok = 1;
  ct_spin_lock(&retire_lock);
  if (nretired == retired_cap) {
    size_t ncap = retired_cap ? 2 * retired_cap : 64;
    Retired *nr = (Retired *)realloc(retired, ncap * sizeof(Retired));
    if (nr == NULL) ok = 0;
    else { retired = nr; retired_cap = ncap; }
  }
  if (ok) {
    retired[nretired].p = p;
    retired[nretired].size = size;
    retired[nretired].kind = kind;
    retired[nretired].f = f;
    nretired++;
    if (f != NULL) nfiles++;
  }
  ct_spin_unlock(&retire_lock);
  (void)L;
  return ok;
}

/* finds the retired block holding 'p': its start, or NULL */
void *ct_ft_retired_block (const void *p, int *kind) {
  size_t i;
  void *found = NULL;
  ct_spin_lock(&retire_lock);
  for (i = nretired; i-- > 0; ) {
    char *b = (char *)retired[i].p;
    if (b != NULL && (const char *)p >= b && (const char *)p < b + retired[i].size) {
      found = b;
      *kind = retired[i].kind;
      break;
    }
  }
  ct_spin_unlock(&retire_lock);
  return found;
}

/* a block of 'size' bytes that readers may still hold; if it cannot be
   recorded it is leaked (never freed under a reader) */
void ct_ft_retire (lua_State *L, void *p, size_t size, int kind) {
  if (p != NULL) retire(L, p, size, kind, NULL);
}

void ct_ft_freestack (lua_State *L, StackValue *s, int n) {
  ct_ft_retire(L, s, (size_t)n * sizeof(StackValue), CT_RETIRED_STACK);
}

int ct_ft_fclose (lua_State *L, FILE *f) {
  int res = fflush(f);
  if (!retire(L, NULL, 0, CT_RETIRED_FILE, f))  /* no room to wait: close it now */
    return fclose(f);
  return res == 0 ? 0 : EOF;
}

/* world stopped (or one thread left) */
static void free_retired (global_State *g) {
  size_t i;
  for (i = 0; i < nretired; i++) {
    if (retired[i].p != NULL) {
      (*g->frealloc)(g->ud, retired[i].p, retired[i].size, 0);
      g->GCdebt -= (l_mem)retired[i].size;
    }
    if (retired[i].f != NULL) fclose(retired[i].f);
  }
  nretired = 0;
  nfiles = 0;
}

/* }====================================================== */


/* {======================================================
** Collections
** ======================================================= */

/* runs the finalizers of objects the last cycle found unreachable;
   several threads may share the work, each object is taken once */
static void run_finalizers (lua_State *L) {
  global_State *g = G(L);
  for (;;) {
    GCObject *o;
    TValue v;
    const TValue *tm;
    ct_ft_lockgc();
    o = g->tobefnz;
    if (o == NULL) {
      ct_ft_unlockgc();
      return;
    }
    g->tobefnz = o->next;  /* back to the normal list */
    o->next = g->allgc;
    g->allgc = o;
    resetbit(o->marked, FINALIZEDBIT);
    if (getage(o) == G_OLD1)  /* as lgc.c's udata2finalize */
      g->firstold1 = o;  /* the first OLD1 object in the list */
    ct_ft_unlockgc();
    /* 'o' is only referenced here until it is on the stack, and no stop
       can happen before: this thread reaches no safepoint in between */
    setgcovalue(L, &v, o);
    tm = luaT_gettmbyobj(L, &v, TM_GC);
    if (!notm(tm) && lua_checkstack(L, 2)) {
      int oldah = L->allowhook;
      L->allowhook = 0;  /* no hooks during finalizers, as in Lua */
      ct_ft_finalizing++;  /* and no collectgarbage (lua_gc returns -1) */
      setobj2s(L, L->top, tm);
      setobj2s(L, L->top + 1, &v);
      L->top += 2;
      L->ci->callstatus |= CIST_FIN;  /* debug info: a "__gc" metamethod */
      if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        luaE_warnerror(L, "__gc");
        L->top--;  /* pops the error object */
      }
      L->ci->callstatus &= ~CIST_FIN;
      ct_ft_finalizing--;
      L->allowhook = oldah;
    }
  }
}

/* Insertions never grow the string table (readers walk its chains
   without a lock): a stop does, to more slots than strings however many
   came since the last one. An insertion that finds twice as many strings
   as slots asks for a stop through the eval breaker (ct_ftstr.c): a
   program making many strings between collections (a young collection
   comes after the heap grew by a fifth) had chains 30 long. */
static void grow_strings (lua_State *L, global_State *g) {
  int size = g->strt.size;
  while (size <= g->strt.nuse && size < (1 << 26)) size *= 2;
  if (size != g->strt.size) luaS_resize(L, size);
}

/* at a safepoint of a thread that saw CT_BREAK_STRGROW */
void ct_ft_growstrings (lua_State *L) {
  ct_tstate *me = ct_current;
  ct_breaker_clear(CT_BREAK_STRGROW);
  if (!ct_ft_on || !ct_stw_begin(me)) return;  /* another stop came first */
  take_all_threads(G(L));  /* should the resize's allocation fail, the
                              emergency collection sees every object */
  ct_ft_on = 0;  /* alone now: Lua's own code paths */
  ct_ft_localdebt = 0;
  grow_strings(L, G(L));
  ct_ft_localdebt = 1;
  ct_ft_on = 1;
  ct_stw_end(me);
}

/* the collection itself, world stopped: Lua's step (a young collection,
   or a major one when due) or full collection, without finalizers (an
   "emergency" collection also keeps stacks and the string table's size),
   then what the stop lets us do */
static void collect_stopped (lua_State *L, int full) {
  global_State *g = G(L);
  int kind = __atomic_load_n(&asked_mode, __ATOMIC_RELAXED) == LUA_GCGEN
             ? KGC_GEN : KGC_INC;
  take_all_threads(g);
  ct_ft_on = 0;  /* alone now: Lua's own code paths */
  ct_ft_localdebt = 0;
  if ((kind == KGC_GEN) != isdecGCmodegen(g)) {  /* asked for since */
    g->gcemergency = 1;  /* as below: finalizers after the restart */
    ct_gc_begin(L);  /* a pause for --stats, as luaC_fullgc's */
    luaC_changemode(L, kind);  /* entering generational mode collects */
    ct_gc_end(L);
    g->gcemergency = 0;
    if (kind == KGC_INC) luaC_fullgc(L, 1);
  }
  else if (full)
    luaC_fullgc(L, 1);
  else
    luaC_stepstopped(L);
  grow_strings(L, g);
  free_retired(g);
  ct_ft_localdebt = 1;
  ct_ft_on = 1;
}

/* 'how': 0 a step (the debt is due), 1 an emergency, 2 a full collection */
void ct_ft_collect (lua_State *L, int how) {
  ct_tstate *me = ct_current;
  if (how == 1) return;  /* a failed allocation may hold a table's lock:
                            no stop here; the allocation fails instead */
  if (!ct_stw_begin(me)) return;  /* another thread collected meanwhile */
  collect_stopped(L, how == 2);
  ct_stw_end(me);
  run_finalizers(L);
}

/* lgc.c's luaC_checkfinalizer with the GIL off: 'o' may be on any
   thread's list; found on this thread's or on 'allgc' under the lock,
   else after a stop-the-world has spliced every list into 'allgc' */
void ct_ft_checkfinalizer (lua_State *L, GCObject *o, Table *mt) {
  global_State *g = G(L);
  ct_tstate *ts = ct_current;
  GCObject **p;
  int tries;
  if (gfasttm(g, mt, TM_GC) == NULL || (g->gcstp & GCSTPCLS))
    return;
  for (tries = 0; ; tries++) {
    ct_ft_lockgc();
    if (tofinalize(o)) {  /* another thread did it */
      ct_ft_unlockgc();
      return;
    }
    if (ts != NULL) {
      GCObject *prev = NULL;
      for (p = (GCObject **)&ts->ft_head; *p != NULL && *p != o; p = &(*p)->next)
        prev = *p;
      if (*p == o) {
        *p = o->next;
        if (ts->ft_tail == o) ts->ft_tail = prev;
        break;
      }
    }
    for (p = &g->allgc; *p != NULL && *p != o; p = &(*p)->next) { }
    if (*p == o) {
      *p = o->next;
      luaC_unlinkedgc(g, o);  /* it may start an age's part of 'allgc' */
      break;
    }
    ct_ft_unlockgc();
    /* on another thread's list: stop the world to splice the lists */
    if (ct_stw_begin(ts)) {
      take_all_threads(g);
      ct_stw_end(ts);
    }
    if (tries > 100) return;  /* cannot happen: 'o' is on some list */
  }
  o->next = g->finobj;
  g->finobj = o;
  l_setbit(o->marked, FINALIZEDBIT);
  ct_ft_unlockgc();
}

/* }====================================================== */


/* {======================================================
** Entering and leaving the mode
** ======================================================= */

static char token_anchor;  /* thread-local addresses below */
static _Thread_local char coro_token;

void *ct_coro_token (void) {
  (void)token_anchor;
  return &coro_token;
}

/* a coroutine is claimed by the thread that resumes it (lcorolib.c) */
int ct_coacquire (lua_State *L, lua_State *co) {
  void **w = (void **)lua_getextraspace(co);
  void *me = ct_coro_token();
  void *cur = NULL;
  (void)L;
  if (__atomic_compare_exchange_n(w, &cur, me, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE))
    return 1;
  return cur == me ? 2 : 0;
}

void ct_corelease (lua_State *co) {
  __atomic_store_n((void **)lua_getextraspace(co), NULL, __ATOMIC_RELEASE);
}

/* Called by the only thread running Lua, before it starts a second one
   with the GIL off: from here on the hooks take the free-threaded paths.
   Generational mode stays (each of its steps is atomic); in incremental
   mode the cycle under way is finished, so that no object is black
   while threads run and the barriers do not fire. */
void ct_ft_enable (lua_State *L) {
  global_State *g;
  if (ct_rt.gil_on || ct_ft_on) return;
  g = G(L);
  asked_mode = isdecGCmodegen(g) ? LUA_GCGEN : LUA_GCINC;
  if (g->gckind == KGC_INC && g->gcstate != GCSpause)
    luaC_runtilstate(L, bitmask(GCSpause));  /* finish the cycle */
  *(void **)lua_getextraspace(ct_rt.L) = ct_coro_token();  /* main runs */
  ct_ft_localdebt = 1;
  __atomic_store_n(&ct_ft_on, 1, __ATOMIC_SEQ_CST);
}

/* Before lua_close, with no other thread running Lua: back to Lua's own
   paths, with every object on 'allgc'. */
void ct_ft_shutdown (lua_State *L) {
  global_State *g;
  if (!ct_ft_on) return;
  g = G(L);
  take_all_threads(g);
  ct_ft_on = 0;
  ct_ft_localdebt = 0;
  free_retired(g);
  free(retired);
  retired = NULL;
  retired_cap = 0;
}

/* }====================================================== */
