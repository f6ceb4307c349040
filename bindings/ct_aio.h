/*
** asyncio, native half: the parts of the event loop that run at every task
** switch or I/O operation. A loop (ct_aio_loop.c) owns an epoll instance,
** an eventfd that other threads write to wake it, and a timer heap
** (ct_aio_timers.c). The scheduler core (ct_aio_sched.c) resumes the ready
** tasks of a round and is sleep(0). Sockets (ct_aio_sock.c) are
** nonblocking, registered edge-triggered once, with their input and output
** buffered in C; the stream methods (ct_aio_stream.c) read and write them
** and suspend the running task where it would block. Tasks, cancellation,
** the primitives and the servers are Lua (stdlib/asyncio*.lua), which
** these files call back for anything that is not the common case.
** One loop belongs to one OS thread at a time; nothing here is global but
** thread-local state.
*/
#ifndef CT_AIO_H
#define CT_AIO_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_handle.h"

/* ---- timers: a binary heap ordered by (when, seq) ----------------------- */

typedef struct aio_timer {
  double when;      /* CLOCK_MONOTONIC seconds */
  uint64_t seq;     /* insertion order breaks ties: equal deadlines are FIFO */
  uint32_t slot;
} aio_timer;

typedef struct aio_timers {
  aio_timer *heap;
  uint32_t n, cap;
  /* by slot: heap index (or UINT32_MAX when free), generation, free list */
  uint32_t *pos, *gen, *next_free;
  uint32_t nslots, free_head;
  uint64_t seq;
} aio_timers;

/* A timer id is slot + generation << 24, so an id is never reused while a
   Lua table might still hold it. */
#define AIO_TIMER_SLOT_BITS 24
#define AIO_TIMER_MAX_SLOTS (1u << AIO_TIMER_SLOT_BITS)

void aio_timers_init (aio_timers *t);
void aio_timers_free (aio_timers *t);
int64_t aio_timers_add (aio_timers *t, double when);  /* id > 0; -1: no memory */
int aio_timers_cancel (aio_timers *t, int64_t id);    /* 1 if it was pending */
int aio_timers_next (const aio_timers *t, double *when);  /* 0 when empty */
int64_t aio_timers_pop_due (aio_timers *t, double now);   /* id, or 0 */

/* ---- the loop ------------------------------------------------------------- */

typedef struct aio_idbuf { int64_t *v; size_t n, cap; } aio_idbuf;
int aio_idbuf_push (aio_idbuf *b, int64_t id);  /* 0 when out of memory */

/* The loop's open sockets by slot. Epoll events carry a slot and its
   generation, never a pointer: an event for a socket closed (or collected)
   since is looked up, finds the slot empty or reused, and is dropped. */
struct aio_sock;
typedef struct aio_sockset {
  struct aio_sock **sock;  /* by slot; NULL when free */
  uint32_t *gen, *next_free;
  uint32_t nslots, free_head;
  int count;               /* atomic reads: sockets open */
} aio_sockset;

#define AIO_EVENTFD_KEY UINT64_MAX

typedef struct aio_loop {
  const ct_kind *kind;
  int epfd;             /* -1 once closed (under mu) */
  int evfd;             /* eventfd: other threads wake the loop */
  int next_sock_id;
  int nwaiting;         /* tasks waiting on sockets (for deadlock checks) */
  aio_sockset socks;    /* under mu: a collected socket may close from any thread */
  aio_timers timers;
  aio_idbuf due;        /* timers popped by one poll */
  /* ids posted by other threads (to_thread results, call_soon_threadsafe) */
  pthread_mutex_t mu;
  aio_idbuf posted, taken;  /* 'posted' under mu; 'taken' is the loop's copy */
  int accepting;        /* under mu: 0 once closed */
  uint32_t signalled;   /* atomic: the eventfd was written, not yet drained */
  int64_t next_post;    /* atomic: ids for post(), unique per loop */
} aio_loop;

extern const ct_kind aio_loop_kind;

/* ---- sockets -------------------------------------------------------------- */

/* what a task waits for on a socket ('want') and what epoll said ('ready') */
#define AIO_READ  1u
#define AIO_WRITE 2u
#define AIO_DRAIN 4u   /* the output buffer got down to the low-water mark */

#define AIO_LOW_WATER  (16 * 1024)
#define AIO_HIGH_WATER (64 * 1024)

typedef struct aio_buf { char *p; size_t off, len, cap; } aio_buf;

typedef struct aio_sock {
  const ct_kind *kind;
  int fd;               /* -1 once closed */
  int id;               /* a number, unique in its loop, for the Lua side */
  uint32_t slot;        /* in the loop's socket set */
  aio_loop *loop;       /* kept alive: the socket's user value */
  unsigned ready, want;
  int listening;
  int eof;              /* the peer has closed its side (read gave 0) */
  int hup;              /* epoll reported a hang-up: short reads prove nothing */
  int closing;          /* close() with output pending: close once flushed */
  int shut_wr;          /* write_eof(): 1 asked, 2 done (shut down once flushed) */
  int err;              /* errno of a failed send, reported by write/drain */
  unsigned waiting;     /* AIO_READ: a task waits to read (user value 2);
                           AIO_WRITE: one waits to write or drain (3) */
  aio_buf in, out;
} aio_sock;

extern const ct_kind aio_sock_kind;

/* called by the loop's poll, holding the loop's mu, for an epoll event;
   returns the 'want' bits that are now satisfied (and clears them) */
unsigned aio_sock_event (aio_sock *s, uint32_t events);

/* finds the socket an epoll event is about (mu held), or NULL */
aio_sock *aio_sockset_find (aio_sockset *set, uint64_t key);
void aio_sockset_free (aio_sockset *set);

/* closes the descriptor now (unregistering it first); _locked: mu held */
void aio_sock_close_now (aio_sock *s);
void aio_sock_close_locked (aio_sock *s);

/* for the stream methods (ct_aio_stream.c) */
int aio_buf_append (aio_buf *b, const char *p, size_t len);  /* 0: no memory */
aio_sock *aio_checksock (lua_State *L, int idx);
long aio_sock_fill (lua_State *L, aio_sock *s);  /* bytes, 0 at the end, -1 would block */
void aio_sock_take (lua_State *L, aio_sock *s, size_t n);  /* pushes n buffered bytes */
void aio_sock_flush (aio_sock *s);
/* pushes the tasks waiting for 'bits' on the socket at 'idx' (which stop
   waiting); returns how many */
int aio_sock_take_waiters (lua_State *L, int idx, aio_sock *s, unsigned bits);

/* user values of a socket: its loop, then the tasks waiting on it; of a
   loop: a table slot + 1 -> socket (weak values) */
#define AIO_UV_LOOP 1
#define AIO_UV_READER 2
#define AIO_UV_WRITER 3
#define AIO_UV_SOCKS 1

/* pushes the task running in this coroutine and returns 1, or returns 0
   (ct_aio_sched.c) */
int aio_push_current_task (lua_State *L);
aio_loop *aio_running_loop (void);  /* the loop running tasks in this thread */

void aio_sock_register (lua_State *L);    /* add their functions to the */
void aio_sched_register (lua_State *L);   /* module table on the top of */
void aio_stream_register (lua_State *L);  /* the stack */

#endif
