/*
** multiprocessing.Queue, JoinableQueue and SimpleQueue, native half: a
** linked list of encoded messages in the shared arena. put encodes the
** value, copies it into a block and links it; get unlinks the first block
** and decodes it. Only the linking is under the queue's (robust) mutex;
** waits for items, room, or the end of the tasks are on process-shared
** futex sequence words, detached, and only when someone waits does a put
** or get make the wake-up system call. put never blocks on an unbounded
** queue (the arena is the buffer), so no feeder thread is needed.
*/
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>

#include "ct_codec.h"
#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_mp.h"
#include "ct_shm.h"
#include "lauxlib.h"

typedef struct msg {
  uint64_t next;   /* offset of the next message, 0: none */
  uint64_t size;
  int64_t tag;     /* for Pool: the task id, stored into the taker's slot */
  char data[];
} msg;

typedef struct mp_queue {
  ct_shm_obj h;
  pthread_mutex_t mutex;
  uint64_t head, tail;
  int64_t count;
  int64_t maxsize;       /* 0: unbounded */
  int64_t unfinished;    /* JoinableQueue's unfinished tasks */
  uint32_t items;        /* futex: bumped by put */
  uint32_t space;        /* futex: bumped by get on a bounded queue */
  uint32_t tasks_done;   /* futex: bumped when 'unfinished' drops to 0 */
  uint32_t getters, putters, joiners;
  int32_t shut;          /* shutdown() was called (by any process) */
} mp_queue;

typedef struct queue_handle {
  ct_shm_handle sh;
  int closed;            /* this process called close() */
} queue_handle;

static const ct_kind queue_kind = {"multiprocessing.Queue"};

static queue_handle *toqh (lua_State *L) {
  queue_handle *qh = (queue_handle *)ct_checkhandle(L, 1, &queue_kind);
  if (qh->closed) ct_mp_raw_error(L, "Queue is closed");
  return qh;
}

#define Q(qh) ((mp_queue *)(qh)->sh.obj)

static void destroy_queue (ct_shm_obj *o) {
  mp_queue *q = (mp_queue *)o;
  uint64_t off = q->head;
  while (off != 0) {
    msg *m = (msg *)ct_shm_at(off);
    if (m == NULL) break;
    off = m->next;
    ct_codec_release(m->data, m->size);
    ct_shm_free(m);
  }
}

/* queue_new([maxsize]) */
static int queue_new (lua_State *L) {
  lua_Integer maxsize = luaL_optinteger(L, 1, 0);
  mp_queue *q = (mp_queue *)ct_shm_newobj(L, sizeof(mp_queue), CT_MPT_QUEUE);
  ct_shm_mutex_init(&q->mutex);
  q->maxsize = maxsize > 0 ? maxsize : 0;
  ct_shm_pushhandle(L, sizeof(queue_handle), &queue_kind, &q->h);
  return 1;
}

/* the message for the value at 'idx', or raises the codec's error */
static msg *make_msg (lua_State *L, int idx) {
  char err[200];
  ct_buf b = ct_buf_take();
  msg *m;
  if (!ct_encode(L, idx, &b, err, sizeof err)) {
    ct_buf_give(&b);
    ct_mp_raw_error(L, err);
  }
  m = (msg *)ct_shm_alloc(sizeof(msg) + b.len);
  if (m == NULL) {
    ct_codec_release(b.p, b.len);
    ct_buf_give(&b);
    ct_mp_raw_error(L, "out of shared memory: the queue holds too much data");
  }
  m->next = 0;
  m->tag = 0;
  m->size = b.len;
  memcpy(m->data, b.p, b.len);
  ct_buf_give(&b);
  return m;
}

static void drop_msg (msg *m) {
  ct_codec_release(m->data, m->size);
  ct_shm_free(m);
}

/* put(h, value, [block=true], [timeout]), the message tagged 'tag';
   raises queue.Full */
static int put_tagged (lua_State *L, lua_Integer tag) {
  queue_handle *qh = toqh(L);
  mp_queue *q = Q(qh);
  int block = ct_optboolean(L, 3, 1);
  struct timespec tsb;
  struct timespec *dl = ct_opt_deadline(L, 4, &tsb);
  msg *m;
  uint32_t getters;
  int interrupted = 0;
  luaL_checkany(L, 2);
  m = make_msg(L, 2);
  m->tag = tag;
  ct_shm_mutex_lock(&q->mutex);
  while (!q->shut && q->maxsize > 0 && q->count >= q->maxsize) {
    uint32_t s;
    int r;
    if (!block) break;
    q->putters++;
    s = q->space;
    ct_shm_mutex_unlock(&q->mutex);
    r = ct_mp_wait(&q->space, s, dl);
    ct_shm_mutex_lock(&q->mutex);
    q->putters--;
    if (r == EINTR) { interrupted = 1; break; }
    if (r == ETIMEDOUT) break;
  }
  if (q->shut || (q->maxsize > 0 && q->count >= q->maxsize)) {
    int shut = q->shut;
    ct_shm_mutex_unlock(&q->mutex);
    drop_msg(m);
    if (interrupted) ct_check_interrupt(L);
    return ct_mp_raise_kind(L, shut ? "ShutDown" : "Full");
  }
  if (q->tail != 0) ((msg *)ct_shm_at(q->tail))->next = ct_shm_offset(m);
  else q->head = ct_shm_offset(m);
  q->tail = ct_shm_offset(m);
  q->count++;
  q->unfinished++;
  __atomic_fetch_add(&q->items, 1, __ATOMIC_RELEASE);
  getters = q->getters;
  ct_shm_mutex_unlock(&q->mutex);
  if (getters > 0) ct_futex_wake(&q->items, 1, 1);
  return 0;
}

/* queue_put(h, value, [block=true], [timeout]): Queue:put */
static int queue_put (lua_State *L) {
  return put_tagged(L, 0);
}

/* queue_put_tagged(h, value, block, timeout, tag): the Pool's task
   queue, whose tags name the tasks (see queue_get_recorded) */
static int queue_put_tagged (lua_State *L) {
  return put_tagged(L, luaL_checkinteger(L, 5));
}

/* A getter about to sleep looks again for a few microseconds (detached):
   an item that arrives meanwhile costs its putter no wake-up call and its
   getter no wake-up latency. 1 if an item came. */
#define SPIN_ROUNDS 40

static int spin_for_item (uint32_t *items, uint32_t seen) {
  int k, got = 0;
  ct_tstate *ts = ct_detach();
  for (k = 0; k < SPIN_ROUNDS; k++) {
    if (__atomic_load_n(items, __ATOMIC_ACQUIRE) != seen) {
      got = 1;
      break;
    }
    sched_yield();
  }
  ct_attach(ts, 0);
  return got;
}

/* get(h, [block=true], [timeout]) -> value; raises queue.Empty. With a
   'slot', the message's tag is stored there while the message is
   unlinked. */
static int get_recorded (lua_State *L, int64_t *slot) {
  queue_handle *qh = toqh(L);
  mp_queue *q = Q(qh);
  int block = ct_optboolean(L, 2, 1);
  struct timespec tsb;
  struct timespec *dl = ct_opt_deadline(L, 3, &tsb);
  msg *m;
  uint32_t putters;
  char err[200];
  int interrupted = 0, ok;
  ct_shm_mutex_lock(&q->mutex);
  while (q->count == 0 && !q->shut) {
    uint32_t s;
    int r;
    if (!block) break;
    q->getters++;
    s = q->items;
    ct_shm_mutex_unlock(&q->mutex);
    if (spin_for_item(&q->items, s)) r = 0;
    else r = ct_mp_wait(&q->items, s, dl);
    ct_shm_mutex_lock(&q->mutex);
    q->getters--;
    if (r == EINTR) { interrupted = 1; break; }
    if (r == ETIMEDOUT) break;
  }
  if (q->count == 0) {
    int shut = q->shut;
    ct_shm_mutex_unlock(&q->mutex);
    if (interrupted) ct_check_interrupt(L);
    return ct_mp_raise_kind(L, shut ? "ShutDown" : "Empty");
  }
  m = (msg *)ct_shm_at(q->head);
  if (slot != NULL) __atomic_store_n(slot, m->tag, __ATOMIC_RELEASE);
  q->head = m->next;
  if (q->head == 0) q->tail = 0;
  q->count--;
  putters = 0;
  if (q->maxsize > 0) {
    __atomic_fetch_add(&q->space, 1, __ATOMIC_RELEASE);
    putters = q->putters;
  }
  ct_shm_mutex_unlock(&q->mutex);
  if (putters > 0) ct_futex_wake(&q->space, 1, 1);
  ok = ct_decode(L, m->data, m->size, 1, err, sizeof err);
  ct_shm_free(m);
  if (!ok) return luaL_error(L, "cannot receive from the queue: %s", err);
  return 1;
}

/* queue_get(h, [block=true], [timeout]) -> value: Queue:get */
static int queue_get (lua_State *L) {
  return get_recorded(L, NULL);
}

/* queue_get_recorded(h, block, timeout, slots, i) -> value: a Pool
   worker's get; the message's tag goes to slots[i] (an int64 Array
   handle), so a worker killed at any point after taking a task has it
   recorded */
static int queue_get_recorded (lua_State *L) {
  return get_recorded(L, ct_mp_value_int64(L, 4, luaL_checkinteger(L, 5)));
}

static int queue_qsize (lua_State *L) {
  mp_queue *q = Q(toqh(L));
  lua_pushinteger(L, (lua_Integer)__atomic_load_n(&q->count, __ATOMIC_RELAXED));
  return 1;
}

static int queue_empty (lua_State *L) {
  mp_queue *q = Q(toqh(L));
  lua_pushboolean(L, __atomic_load_n(&q->count, __ATOMIC_RELAXED) == 0);
  return 1;
}

static int queue_full (lua_State *L) {
  mp_queue *q = Q(toqh(L));
  lua_pushboolean(L, q->maxsize > 0 &&
                     __atomic_load_n(&q->count, __ATOMIC_RELAXED) >= q->maxsize);
  return 1;
}

static int queue_maxsize (lua_State *L) {
  queue_handle *qh = (queue_handle *)ct_checkhandle(L, 1, &queue_kind);
  lua_pushinteger(L, (lua_Integer)Q(qh)->maxsize);
  return 1;
}

/* queue_task_done(h) */
static int queue_task_done (lua_State *L) {
  mp_queue *q = Q(toqh(L));
  uint32_t joiners = 0;
  int ok = 1;
  ct_shm_mutex_lock(&q->mutex);
  if (q->unfinished <= 0) ok = 0;
  else if (--q->unfinished == 0) {
    __atomic_fetch_add(&q->tasks_done, 1, __ATOMIC_RELEASE);
    joiners = q->joiners;
  }
  ct_shm_mutex_unlock(&q->mutex);
  if (joiners > 0) ct_futex_wake(&q->tasks_done, INT32_MAX, 1);
  if (!ok) return ct_mp_raw_error(L, "task_done() called too many times");
  return 0;
}

/* queue_join(h): until every item put has been task_done */
static int queue_join (lua_State *L) {
  mp_queue *q = Q(toqh(L));
  ct_shm_mutex_lock(&q->mutex);
  while (q->unfinished > 0) {
    uint32_t s;
    int r;
    q->joiners++;
    s = q->tasks_done;
    ct_shm_mutex_unlock(&q->mutex);
    r = ct_mp_wait(&q->tasks_done, s, NULL);
    ct_shm_mutex_lock(&q->mutex);
    q->joiners--;
    if (r == EINTR) {
      ct_shm_mutex_unlock(&q->mutex);
      ct_check_interrupt(L);
      ct_shm_mutex_lock(&q->mutex);
    }
  }
  ct_shm_mutex_unlock(&q->mutex);
  return 0;
}

/* queue_shutdown(h, [immediate=false]): put raises queue.ShutDown from
   now on, in every process; get too once the queue is empty, at once if
   'immediate' (the items are dropped and count as done for join) */
static int queue_shutdown (lua_State *L) {
  mp_queue *q = Q(toqh(L));
  int immediate = lua_toboolean(L, 2);
  uint64_t dropped = 0;
  ct_shm_mutex_lock(&q->mutex);
  q->shut = 1;
  if (immediate) {
    dropped = q->head;
    q->head = q->tail = 0;
    q->unfinished -= q->count;
    if (q->unfinished < 0) q->unfinished = 0;
    q->count = 0;
  }
  /* every waiter looks again: getters, putters, and joiners (their count
     may have dropped to 0) */
  __atomic_fetch_add(&q->items, 1, __ATOMIC_RELEASE);
  __atomic_fetch_add(&q->space, 1, __ATOMIC_RELEASE);
  if (q->unfinished == 0) __atomic_fetch_add(&q->tasks_done, 1, __ATOMIC_RELEASE);
  ct_shm_mutex_unlock(&q->mutex);
  ct_futex_wake(&q->items, INT32_MAX, 1);
  ct_futex_wake(&q->space, INT32_MAX, 1);
  ct_futex_wake(&q->tasks_done, INT32_MAX, 1);
  while (dropped != 0) {  /* outside the mutex: decoding nothing, freeing */
    msg *m = (msg *)ct_shm_at(dropped);
    dropped = m->next;
    drop_msg(m);
  }
  return 0;
}

static int queue_is_shutdown (lua_State *L) {
  mp_queue *q = Q(toqh(L));
  lua_pushboolean(L, __atomic_load_n(&q->shut, __ATOMIC_RELAXED));
  return 1;
}

static int queue_close (lua_State *L) {
  queue_handle *qh = (queue_handle *)ct_checkhandle(L, 1, &queue_kind);
  qh->closed = 1;
  return 0;
}

static int queue_closed (lua_State *L) {
  queue_handle *qh = (queue_handle *)ct_checkhandle(L, 1, &queue_kind);
  lua_pushboolean(L, qh->closed);
  return 1;
}

/* ---- the codec as functions (tests, and the manager's plain values) ------- */

static int mp_dumps (lua_State *L) {
  char err[200];
  ct_buf b;
  luaL_checkany(L, 1);
  b = ct_buf_take();
  if (!ct_encode(L, 1, &b, err, sizeof err)) {
    ct_buf_give(&b);
    return ct_mp_raw_error(L, err);
  }
  lua_pushlstring(L, b.p, b.len);
  ct_buf_give(&b);
  return 1;
}

static int mp_loads (lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  char err[200];
  if (!ct_decode(L, s, n, 0, err, sizeof err)) return ct_mp_raw_error(L, err);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"queue_new", queue_new},
  {"queue_put", queue_put},
  {"queue_get", queue_get},
  {"queue_put_tagged", queue_put_tagged},
  {"queue_get_recorded", queue_get_recorded},
  {"queue_qsize", queue_qsize},
  {"queue_empty", queue_empty},
  {"queue_full", queue_full},
  {"queue_maxsize", queue_maxsize},
  {"queue_task_done", queue_task_done},
  {"queue_join", queue_join},
  {"queue_shutdown", queue_shutdown},
  {"queue_is_shutdown", queue_is_shutdown},
  {"queue_close", queue_close},
  {"queue_closed", queue_closed},
  {"dumps", mp_dumps},
  {"loads", mp_loads},
  {NULL, NULL}
};

void ct_mp_queue_register (lua_State *L) {
  ct_shm_register_kind(CT_MPK_QUEUE, &queue_kind, sizeof(queue_handle));
  ct_shm_register_type(CT_MPT_QUEUE, destroy_queue);
  luaL_setfuncs(L, funcs, 0);
}
