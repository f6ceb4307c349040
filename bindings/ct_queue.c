/*
** The queue module, native half: Queue, LifoQueue, PriorityQueue and
** SimpleQueue share one handle. The items live in a Lua table (the
** handle's first user value) used as a ring buffer (FIFO), a stack (LIFO)
** or a binary heap (priority, with insertion numbers in the second user
** value for ties), so any value, nil included, can be queued; FIFO and
** LIFO items are read and written straight in the table's array part
** (see "storage"). A lockword guards the counters and the table; it is
** never held while allocating (a collection could run a finalizer that
** uses the queue). Blocked getters, putters and joiners wait detached in
** three wait lists: a put wakes one getter if some wait, a get one
** putter, so an uncontended operation makes no system call.
*/
#include "ct_fthooks.h"  /* first: the Lua headers read its macros */

#include <limits.h>
#include <string.h>

#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_lockword.h"
#include "ct_wait.h"
#include "lauxlib.h"
#include "lgc.h"
#include "lobject.h"
#include "lstate.h"
#include "ltable.h"

enum { Q_FIFO, Q_LIFO, Q_PRIORITY };

#define MIN_CAPACITY 8

typedef struct ct_queue {
  const ct_kind *kind;
  int order;               /* Q_FIFO, Q_LIFO or Q_PRIORITY */
  int simple;              /* SimpleQueue: unbounded, no task accounting */
  uint32_t mu;             /* lockword over the fields below and the tables */
  void *owner;             /* thread state of the holder (atomic) */
  lua_Integer maxsize;     /* <= 0: unbounded */
  lua_Integer count;
  lua_Integer head;        /* FIFO: index of the first item, 0-based */
  lua_Integer cap;         /* size of the items table */
  Table *items;            /* the items table (user value 1) */
  lua_Integer unfinished;  /* items put and not yet marked task_done */
  lua_Integer next_seq;    /* PriorityQueue: insertion number */
  int shutdown;
  ct_waiter getters, putters, joiners;  /* wait lists */
} ct_queue;

static const ct_kind queue_kind = {"Queue"};

/* registry keys of the error kinds (set by stdlib/queue.lua) */
static const char key_empty = 0, key_full = 0, key_shutdown = 0;

static int raise_kind (lua_State *L, const char *key) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  return lua_error(L);
}

/* the queue at 1 (instance or handle); pushes the handle */
static ct_queue *check_queue (lua_State *L) {
  ct_queue *q = NULL;
  if (lua_type(L, 1) == LUA_TTABLE) lua_rawgetp(L, 1, CT_HANDLE_KEY);
  else lua_pushvalue(L, 1);
  if (lua_type(L, -1) == LUA_TUSERDATA && lua_rawlen(L, -1) == sizeof(ct_queue))
    q = (ct_queue *)lua_touserdata(L, -1);
  if (q == NULL || q->kind != &queue_kind) ct_handle_error(L, 1, "Queue");
  return q;
}

/* ---- the lock ------------------------------------------------------------ */

/* Takes the lock, waiting detached if need be; never raises. It is held
   for short native stretches only (and PriorityQueue comparisons). */
static void queue_lock_quiet (ct_queue *q) {
  if (!ct_lockword_try(&q->mu) && !ct_lockword_spin(&q->mu)) {
    ct_tstate *ts = ct_detach();
    while (__atomic_exchange_n(&q->mu, 2, __ATOMIC_ACQUIRE) != 0)
      ct_futex_wait(&q->mu, 2, NULL, 0);
    ct_attach(ts, 0);
  }
  __atomic_store_n(&q->owner, (void *)ct_current, __ATOMIC_RELAXED);
}

/* the same at the start of a method, which raises instead of deadlocking
   when this thread already holds the lock (a comparison or a finalizer
   run by an operation on the same queue) */
static void queue_lock (lua_State *L, ct_queue *q) {
  void *me = ct_current;
  if (me != NULL && __atomic_load_n(&q->owner, __ATOMIC_RELAXED) == me)
    luaL_error(L, "queue used from inside one of its own operations "
                  "(a comparison or a finalizer)");
  queue_lock_quiet(q);
}

static void queue_unlock (ct_queue *q) {
  __atomic_store_n(&q->owner, NULL, __ATOMIC_RELAXED);
  ct_lockword_release(&q->mu);
}

/* Called locked: waits in 'list' until woken by a waker or 'deadline'
   passes; returns locked. CT_WAIT_INTERRUPT: Ctrl-C, raise it after
   unlocking. */
static int wait_in (ct_queue *q, ct_waiter *list, const struct timespec *deadline) {
  ct_waiter w;
  int r;
  ct_waitlist_append(list, &w);
  queue_unlock(q);
  r = ct_waiter_wait(&w, deadline);
  queue_lock_quiet(q);
  if (ct_waiter_popped(&w)) return CT_WAIT_CHANGED;
  ct_waitlist_unlink(&w);
  return r;
}

/* ---- storage --------------------------------------------------------------- */

/* the table index of the i-th item from the front (FIFO ring) */
static lua_Integer ring_slot (ct_queue *q, lua_Integer i) {
  lua_Integer s = q->head + i;
  if (s >= q->cap) s -= q->cap;
  return s + 1;
}

/* FIFO and LIFO items go straight into the items table's array part,
   which is made with 'cap' slots and never resized (grow makes a new
   table): the queue's lock guards the table, so neither an API call nor,
   with the GIL off, the table's own lock is needed. With the GIL off those
   cost a second contended cache line (the table's lock) inside every put
   and get: a 1:1 queue moved 1.3-1.6 M items/s through the API. Values
   are stored whole (luai_tvstore) like the runtime's own table writes,
   with the collector's barrier. */
static int direct_ok (ct_queue *q, lua_Integer slot) {
  return l_castS2U(slot) - 1u < luaH_realasize(q->items);
}

/* items[slot] = the value at stack index 'idx' (> 0); 'h' is the handle */
static void slot_store (lua_State *L, ct_queue *q, int h, lua_Integer slot,
                        int idx) {
  if (direct_ok(q, slot)) {
    const TValue *v = s2v(L->ci->func + idx);
    luai_tvstore(&q->items->array[slot - 1], v);
    luaC_barrierback(L, obj2gco(q->items), v);
  }
  else {  /* not expected: the array part has 'cap' slots */
    lua_getiuservalue(L, h, 1);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, slot);
    lua_pop(L, 1);
  }
}

/* pushes items[slot] and clears the slot (letting the collector have it) */
static void slot_take (lua_State *L, ct_queue *q, int h, lua_Integer slot) {
  static _Alignas(16) const TValue nil = {{NULL}, LUA_VNIL};
  if (direct_ok(q, slot)) {
    TValue *p = &q->items->array[slot - 1];
    lua_pushnil(L);
    luai_tvload(s2v(L->top - 1), p);
    luai_tvstore(p, &nil);
  }
  else {
    lua_getiuservalue(L, h, 1);
    lua_rawgeti(L, -1, slot);
    lua_pushnil(L);
    lua_rawseti(L, -3, slot);
    lua_remove(L, -2);
  }
}

/* Called locked with the table full; returns locked, with room (unless
   another thread changed things meanwhile: the caller checks again). */
static void grow (lua_State *L, ct_queue *q, int h) {
  lua_Integer newcap = q->cap * 2, i;
  int priority = q->order == Q_PRIORITY;
  queue_unlock(q);
  if (newcap > INT_MAX) luaL_error(L, "queue too large");
  lua_createtable(L, (int)newcap, 0);
  if (priority) lua_createtable(L, (int)newcap, 0);
  queue_lock(L, q);
  if (q->count == q->cap && q->cap < newcap) {
    int fresh = lua_gettop(L) - priority;
    lua_getiuservalue(L, h, 1);
    for (i = 0; i < q->count; i++) {
      lua_rawgeti(L, -1, ring_slot(q, i));
      lua_rawseti(L, fresh, i + 1);
    }
    lua_pop(L, 1);
    if (priority) {
      lua_getiuservalue(L, h, 2);
      for (i = 0; i < q->count; i++) {
        lua_rawgeti(L, -1, i + 1);
        lua_rawseti(L, fresh + 1, i + 1);
      }
      lua_pop(L, 1);
      lua_setiuservalue(L, h, 2);
    }
    q->items = (Table *)lua_topointer(L, -1);
    lua_setiuservalue(L, h, 1);
    q->head = 0;
    q->cap = newcap;
  }
  else lua_pop(L, 1 + priority);
}

/* ---- PriorityQueue order ------------------------------------------------- */

#define CMP_MAX_DEPTH 200

static int has_lt (lua_State *L, int idx) {
  if (luaL_getmetafield(L, idx, "__lt") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

/* three-way comparison: numbers and strings by <, plain tables element by
   element like Python tuples, anything else by < (its __lt); may raise */
static int item_cmp (lua_State *L, int a, int b, int depth) {
  int ta = lua_type(L, a), tb = lua_type(L, b);
  if (ta == LUA_TTABLE && tb == LUA_TTABLE && !has_lt(L, a) && !has_lt(L, b)) {
    lua_Unsigned na = lua_rawlen(L, a), nb = lua_rawlen(L, b), i;
    lua_Unsigned n = na < nb ? na : nb;
    if (depth >= CMP_MAX_DEPTH)
      luaL_error(L, "PriorityQueue: items nested too deeply to compare");
    luaL_checkstack(L, 4, "PriorityQueue: items nested too deeply to compare");
    for (i = 1; i <= n; i++) {
      int c, top;
      lua_rawgeti(L, a, (lua_Integer)i);
      lua_rawgeti(L, b, (lua_Integer)i);
      top = lua_gettop(L);
      c = lua_rawequal(L, top - 1, top) ? 0 : item_cmp(L, top - 1, top, depth + 1);
      lua_pop(L, 2);
      if (c != 0) return c;
    }
    return na < nb ? -1 : na > nb;
  }
  if (lua_rawequal(L, a, b)) return 0;
  if (lua_compare(L, a, b, LUA_OPLT)) return -1;
  return lua_compare(L, b, a, LUA_OPLT);
}

/* is entry (item at a, insertion number sa) before (item at b, sb)? */
static int entry_before (lua_State *L, int a, lua_Integer sa, int b,
                         lua_Integer sb) {
  int c = item_cmp(L, a, b, 0);
  return c != 0 ? c < 0 : sa < sb;
}

/* Protected (the queue is locked, so errors must come back to the caller).
   heap_push(q, items, seqs, item, seq): finds the item's place comparing
   only, then moves the parents down, so an error changes nothing. */
static int heap_push (lua_State *L) {
  ct_queue *q = (ct_queue *)lua_touserdata(L, 1);
  lua_Integer seq = lua_tointeger(L, 5);
  lua_Integer pos = q->count + 1, cur;
  while (pos > 1) {
    lua_Integer parent = pos / 2;
    int before;
    lua_rawgeti(L, 2, parent);
    lua_rawgeti(L, 3, parent);
    before = entry_before(L, 4, seq, 6, lua_tointeger(L, 7));
    lua_pop(L, 2);
    if (!before) break;
    pos = parent;
  }
  for (cur = q->count + 1; cur > pos; cur /= 2) {
    lua_rawgeti(L, 2, cur / 2);
    lua_rawseti(L, 2, cur);
    lua_rawgeti(L, 3, cur / 2);
    lua_rawseti(L, 3, cur);
  }
  lua_pushvalue(L, 4);
  lua_rawseti(L, 2, pos);
  lua_pushinteger(L, seq);
  lua_rawseti(L, 3, pos);
  q->count++;
  return 0;
}

/* Protected. heap_pop(q, items, seqs) -> the first item. The path of the
   last item down from the root is found first, then applied. */
static int heap_pop (lua_State *L) {
  ct_queue *q = (ct_queue *)lua_touserdata(L, 1);
  lua_Integer n = q->count - 1, pos = 1, last_seq;
  lua_Integer path[64];
  int depth = 0, i;
  lua_rawgeti(L, 2, 1);                 /* 4: the result */
  lua_rawgeti(L, 2, q->count);          /* 5: the last item */
  lua_rawgeti(L, 3, q->count);
  last_seq = lua_tointeger(L, -1);
  lua_pop(L, 1);
  for (;;) {
    lua_Integer child = 2 * pos;
    lua_Integer child_seq;
    int before;
    if (child > n) break;
    lua_rawgeti(L, 2, child);           /* 6 */
    lua_rawgeti(L, 3, child);
    child_seq = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (child + 1 <= n) {
      lua_Integer right_seq;
      lua_rawgeti(L, 2, child + 1);     /* 7 */
      lua_rawgeti(L, 3, child + 1);
      right_seq = lua_tointeger(L, -1);
      lua_pop(L, 1);
      if (entry_before(L, 7, right_seq, 6, child_seq)) {
        child++;
        child_seq = right_seq;
        lua_replace(L, 6);
      }
      else lua_pop(L, 1);
    }
    before = entry_before(L, 6, child_seq, 5, last_seq);
    lua_pop(L, 1);
    if (!before) break;
    path[depth++] = child;
    pos = child;
  }
  for (i = 0; i < depth; i++) {         /* move each child up one level */
    lua_rawgeti(L, 2, path[i]);
    lua_rawseti(L, 2, path[i] / 2);
    lua_rawgeti(L, 3, path[i]);
    lua_rawseti(L, 3, path[i] / 2);
  }
  if (n > 0) {
    lua_pushvalue(L, 5);
    lua_rawseti(L, 2, pos);
    lua_pushinteger(L, last_seq);
    lua_rawseti(L, 3, pos);
  }
  lua_pushnil(L);
  lua_rawseti(L, 2, q->count);
  q->count--;
  lua_settop(L, 4);
  return 1;
}

/* ---- adding and taking (locked, with room / with an item) ---------------- */

/* Raises the error of a PriorityQueue comparison (unlocked). Lua's own
   "attempt to compare ..." has no position when a C function compares:
   it is given the script's line that called put or get; an error of a
   __lt keeps its own. */
static void raise_compare_error (lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  if (lua_type(L, -1) == LUA_TSTRING && strncmp(msg, "attempt to compare", 18) == 0) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  lua_error(L);
}

/* Stores the value at stack index 'item'. Raises (unlocking) only for a
   PriorityQueue comparison error. */
static void store (lua_State *L, ct_queue *q, int h, int item) {
  if (q->order != Q_PRIORITY) {
    slot_store(L, q, h, ring_slot(q, q->count), item);
    q->count++;
  }
  else {
    lua_pushcfunction(L, heap_push);
    lua_pushlightuserdata(L, q);
    lua_getiuservalue(L, h, 1);
    lua_getiuservalue(L, h, 2);
    lua_pushvalue(L, item);
    lua_pushinteger(L, q->next_seq);
    if (lua_pcall(L, 5, 0, 0) != LUA_OK) {
      queue_unlock(q);
      raise_compare_error(L);
    }
    q->next_seq++;
  }
}

/* Pushes the next item, removing it. */
static void take (lua_State *L, ct_queue *q, int h) {
  if (q->order != Q_PRIORITY) {
    lua_Integer slot;
    if (q->order == Q_FIFO) {
      slot = q->head + 1;
      q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
    }
    else slot = q->count;  /* LIFO: head stays 0 */
    slot_take(L, q, h, slot);
    q->count--;
    if (q->count == 0) q->head = 0;
  }
  else {
    lua_pushcfunction(L, heap_pop);
    lua_pushlightuserdata(L, q);
    lua_getiuservalue(L, h, 1);
    lua_getiuservalue(L, h, 2);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
      ct_waitlist_wake_one(&q->getters);  /* the item is still there */
      queue_unlock(q);
      raise_compare_error(L);
    }
  }
}

/* ---- the methods --------------------------------------------------------- */

/* new(order, maxsize, simple) */
static int q_new (lua_State *L) {
  int order = (int)luaL_checkinteger(L, 1);
  lua_Integer maxsize = luaL_optinteger(L, 2, 0);
  int simple = lua_toboolean(L, 3);
  ct_queue *q;
  luaL_argcheck(L, order >= Q_FIFO && order <= Q_PRIORITY, 1, "bad queue order");
  q = (ct_queue *)lua_newuserdatauv(L, sizeof(ct_queue), 2);
  memset(q, 0, sizeof *q);
  q->kind = &queue_kind;
  q->order = order;
  q->simple = simple;
  q->maxsize = simple ? 0 : maxsize;
  q->cap = MIN_CAPACITY;
  ct_waitlist_init(&q->getters);
  ct_waitlist_init(&q->putters);
  ct_waitlist_init(&q->joiners);
  lua_createtable(L, MIN_CAPACITY, 0);
  q->items = (Table *)lua_topointer(L, -1);
  lua_setiuservalue(L, -2, 1);
  if (order == Q_PRIORITY) {
    lua_createtable(L, MIN_CAPACITY, 0);
    lua_setiuservalue(L, -2, 2);
  }
  return 1;
}

/* checks the optional block and timeout arguments at 'arg', 'arg'+1 */
static struct timespec *block_args (lua_State *L, int arg, int *block,
                                    struct timespec *tsb) {
  struct timespec *dl;
  *block = ct_optboolean(L, arg, 1);
  dl = ct_opt_deadline(L, arg + 1, tsb);
  return *block ? dl : NULL;
}

/* put(item, [block=true], [timeout]) */
static int q_put (lua_State *L) {
  ct_queue *q;
  ct_wakes wk;
  struct timespec tsb;
  struct timespec *dl;
  int block, h, timed_out = 0;
  lua_settop(L, 4);
  q = check_queue(L);
  h = lua_gettop(L);
  dl = block_args(L, 3, &block, &tsb);
  if (q->order == Q_PRIORITY) luaL_checkstack(L, 40, NULL);
  queue_lock(L, q);
  for (;;) {
    int r;
    if (q->shutdown) {
      queue_unlock(q);
      return raise_kind(L, &key_shutdown);
    }
    if (q->maxsize <= 0 || q->count < q->maxsize) {
      if (q->count == q->cap) {
        grow(L, q, h);
        continue;
      }
      store(L, q, h, 2);
      break;
    }
    if (!block || timed_out) {
      queue_unlock(q);
      return raise_kind(L, &key_full);
    }
    r = wait_in(q, &q->putters, dl);
    if (r == CT_WAIT_TIMEOUT) timed_out = 1;  /* one last look */
    else if (r == CT_WAIT_INTERRUPT) {
      queue_unlock(q);
      ct_check_interrupt(L);
      queue_lock_quiet(q);
    }
  }
  if (!q->simple) q->unfinished++;
  wk.n = 0;
  ct_waitlist_pop(&q->getters, &wk);
  queue_unlock(q);
  ct_wakes_flush(&wk);
  return 0;
}

/* get([block=true], [timeout]) -> item */
static int q_get (lua_State *L) {
  ct_queue *q;
  struct timespec tsb;
  struct timespec *dl;
  int block, h, timed_out = 0;
  lua_settop(L, 3);
  q = check_queue(L);
  h = lua_gettop(L);
  dl = block_args(L, 2, &block, &tsb);
  if (q->order == Q_PRIORITY) luaL_checkstack(L, 40, NULL);
  queue_lock(L, q);
  for (;;) {
    int r;
    if (q->count > 0) {
      take(L, q, h);
      break;
    }
    if (q->shutdown) {
      queue_unlock(q);
      return raise_kind(L, &key_shutdown);
    }
    if (!block || timed_out) {
      queue_unlock(q);
      return raise_kind(L, &key_empty);
    }
    r = wait_in(q, &q->getters, dl);
    if (r == CT_WAIT_TIMEOUT) timed_out = 1;  /* one last look */
    else if (r == CT_WAIT_INTERRUPT) {
      queue_unlock(q);
      ct_check_interrupt(L);
      queue_lock_quiet(q);
    }
  }
  /* A putter is woken before the unlock, a getter after it. A get
     usually comes with more gets: woken after the unlock on a busy machine
     (which wakes a thread on its waker's CPU), the putter took the CPU
     from the getter, put one item and slept again, item after item (a
     maxsize 100 queue, GIL off: 0.8-1.0 M items/s, 1.2-1.9 M woken
     before). A put is often followed by a wait (a ping-pong: 16 us a
     round trip woken after the unlock, 49 us before, on that machine). */
  ct_waitlist_wake_one(&q->putters);
  queue_unlock(q);
  return 1;
}

/* put_nowait(item) */
static int q_put_nowait (lua_State *L) {
  lua_settop(L, 2);
  lua_pushboolean(L, 0);
  return q_put(L);
}

/* get_nowait() */
static int q_get_nowait (lua_State *L) {
  lua_settop(L, 1);
  lua_pushboolean(L, 0);
  return q_get(L);
}

static int q_qsize (lua_State *L) {
  ct_queue *q = check_queue(L);
  lua_Integer n;
  queue_lock(L, q);
  n = q->count;
  queue_unlock(q);
  lua_pushinteger(L, n);
  return 1;
}

static int q_empty (lua_State *L) {
  ct_queue *q = check_queue(L);
  lua_Integer n;
  queue_lock(L, q);
  n = q->count;
  queue_unlock(q);
  lua_pushboolean(L, n == 0);
  return 1;
}

static int q_full (lua_State *L) {
  ct_queue *q = check_queue(L);
  int full;
  queue_lock(L, q);
  full = q->maxsize > 0 && q->count >= q->maxsize;
  queue_unlock(q);
  lua_pushboolean(L, full);
  return 1;
}

static int q_task_done (lua_State *L) {
  ct_queue *q = check_queue(L);
  lua_Integer left;
  queue_lock(L, q);
  if (q->unfinished <= 0) {
    queue_unlock(q);
    return luaL_error(L, "task_done() called too many times");
  }
  left = --q->unfinished;
  if (left == 0) ct_waitlist_wake_all(&q->joiners);
  queue_unlock(q);
  return 0;
}

/* join(): waits until every item put has been marked task_done */
static int q_join (lua_State *L) {
  ct_queue *q = check_queue(L);
  queue_lock(L, q);
  while (q->unfinished > 0) {
    if (wait_in(q, &q->joiners, NULL) == CT_WAIT_INTERRUPT) {
      queue_unlock(q);
      ct_check_interrupt(L);
      queue_lock_quiet(q);
    }
  }
  queue_unlock(q);
  return 0;
}

/* shutdown([immediate=false]) */
static int q_shutdown (lua_State *L) {
  ct_queue *q = check_queue(L);
  int h = lua_gettop(L);
  int immediate = ct_optboolean(L, 2, 0);
  queue_lock(L, q);
  q->shutdown = 1;
  if (immediate) {
    lua_Integer i;
    lua_getiuservalue(L, h, 1);
    for (i = 0; i < q->count; i++) {
      lua_pushnil(L);
      lua_rawseti(L, -2, q->order == Q_FIFO ? ring_slot(q, i) : i + 1);
      if (q->unfinished > 0) q->unfinished--;
    }
    lua_pop(L, 1);
    q->count = 0;
    q->head = 0;
  }
  ct_waitlist_wake_all(&q->getters);
  ct_waitlist_wake_all(&q->putters);
  ct_waitlist_wake_all(&q->joiners);
  queue_unlock(q);
  return 0;
}

/* is_shutdown(): Python's attribute of the same name */
static int q_is_shutdown (lua_State *L) {
  ct_queue *q = check_queue(L);
  lua_pushboolean(L, __atomic_load_n(&q->shutdown, __ATOMIC_RELAXED));
  return 1;
}

static int q_unfinished (lua_State *L) {
  ct_queue *q = check_queue(L);
  lua_Integer n;
  queue_lock(L, q);
  n = q->unfinished;
  queue_unlock(q);
  lua_pushinteger(L, n);
  return 1;
}

static lua_Integer list_length (const ct_waiter *head) {
  const ct_waiter *w;
  lua_Integer n = 0;
  for (w = head->next; w != head; w = w->next) n++;
  return n;
}

/* waiting(q) -> threads blocked in get, in put, in join (for tests) */
static int q_waiting (lua_State *L) {
  ct_queue *q = check_queue(L);
  queue_lock(L, q);
  lua_pushinteger(L, list_length(&q->getters));
  lua_pushinteger(L, list_length(&q->putters));
  lua_pushinteger(L, list_length(&q->joiners));
  queue_unlock(q);
  return 3;
}

/* set_errors(Empty, Full, ShutDown): the values the methods raise */
static int q_set_errors (lua_State *L) {
  lua_settop(L, 3);
  lua_pushvalue(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_empty);
  lua_pushvalue(L, 2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_full);
  lua_pushvalue(L, 3);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_shutdown);
  return 0;
}

static const luaL_Reg queue_funcs[] = {
  {"new", q_new},
  {"put", q_put},
  {"get", q_get},
  {"put_nowait", q_put_nowait},
  {"get_nowait", q_get_nowait},
  {"qsize", q_qsize},
  {"empty", q_empty},
  {"full", q_full},
  {"task_done", q_task_done},
  {"join", q_join},
  {"shutdown", q_shutdown},
  {"is_shutdown", q_is_shutdown},
  {"unfinished", q_unfinished},
  {"set_errors", q_set_errors},
  {"waiting", q_waiting},
  {NULL, NULL}
};

int luaopen_ct_queue (lua_State *L) {
  luaL_newlib(L, queue_funcs);
  lua_pushinteger(L, Q_FIFO);
  lua_setfield(L, -2, "FIFO");
  lua_pushinteger(L, Q_LIFO);
  lua_setfield(L, -2, "LIFO");
  lua_pushinteger(L, Q_PRIORITY);
  lua_setfield(L, -2, "PRIORITY");
  return 1;
}
