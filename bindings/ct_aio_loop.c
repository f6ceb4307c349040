/*
** asyncio's native loop: one epoll wait per loop round, detached from the
** runtime whenever it may block, so other threads (and other threads'
** loops) run meanwhile. poll() reports what became runnable in three Lua
** tables: the tasks whose socket is ready, the ids of the timers that are
** due, and the ids other threads posted through the eventfd.
*/
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ct_aio.h"
#include "ct_internal.h"
#include "lauxlib.h"

const ct_kind aio_loop_kind = {"event loop handle"};

#define MAX_EVENTS 256

int aio_idbuf_push (aio_idbuf *b, int64_t id) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    int64_t *v = realloc(b->v, cap * sizeof *v);
    if (v == NULL) return 0;
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n++] = id;
  return 1;
}

static aio_loop *checkloop (lua_State *L, int idx) {
  return (aio_loop *)ct_checkhandle(L, idx, &aio_loop_kind);
}

static aio_loop *checkopen (lua_State *L, int idx) {
  aio_loop *lp = checkloop(L, idx);
  if (lp->epfd < 0) luaL_error(L, "Event loop is closed");
  return lp;
}

static void release_fds (aio_loop *lp) {
  pthread_mutex_lock(&lp->mu);
  lp->accepting = 0;
  if (lp->epfd >= 0) close(lp->epfd);
  if (lp->evfd >= 0) close(lp->evfd);
  lp->epfd = lp->evfd = -1;
  pthread_mutex_unlock(&lp->mu);
}

static int loop_new (lua_State *L) {
  struct epoll_event ev;
  aio_loop *lp = (aio_loop *)lua_newuserdatauv(L, sizeof(aio_loop), 1);
  memset(lp, 0, sizeof *lp);
  lp->kind = &aio_loop_kind;
  lua_newtable(L);  /* the socket map, weak values */
  lua_newtable(L);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setiuservalue(L, -2, AIO_UV_SOCKS);
  lp->epfd = lp->evfd = -1;
  pthread_mutex_init(&lp->mu, NULL);
  aio_timers_init(&lp->timers);
  aio_sockset_free(&lp->socks);  /* an empty set */
  luaL_setmetatable(L, "cthreads.asyncio.loop");
  lp->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (lp->epfd < 0) return luaL_error(L, "cannot create event loop: %s", strerror(errno));
  lp->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (lp->evfd < 0) return luaL_error(L, "cannot create event loop: %s", strerror(errno));
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = AIO_EVENTFD_KEY;
  if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->evfd, &ev) != 0)
    return luaL_error(L, "cannot create event loop: %s", strerror(errno));
  lp->accepting = 1;
  return 1;
}

static int loop_gc (lua_State *L) {
  aio_loop *lp = (aio_loop *)lua_touserdata(L, 1);
  release_fds(lp);
  aio_timers_free(&lp->timers);
  pthread_mutex_lock(&lp->mu);  /* no socket may still be in it, but be safe */
  aio_sockset_free(&lp->socks);
  pthread_mutex_unlock(&lp->mu);
  free(lp->due.v);
  free(lp->posted.v);
  free(lp->taken.v);
  memset(&lp->due, 0, sizeof lp->due);
  memset(&lp->posted, 0, sizeof lp->posted);
  memset(&lp->taken, 0, sizeof lp->taken);
  /* mu is not destroyed: a socket collected in the same cycle may still
     take it (it then finds the set empty) */
  return 0;
}

static int loop_close (lua_State *L) {
  aio_loop *lp = checkloop(L, 1);
  release_fds(lp);
  aio_timers_free(&lp->timers);
  return 0;
}

static int loop_is_closed (lua_State *L) {
  lua_pushboolean(L, checkloop(L, 1)->epfd < 0);
  return 1;
}

static int loop_time (lua_State *L) {
  lua_pushnumber(L, ct_now());
  return 1;
}

static int push_timer_id (lua_State *L, int64_t id) {
  if (id < 0) return luaL_error(L, "not enough memory for a timer");
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

/* timer_at(when) -> id: 'when' in loop:time() seconds */
static int loop_timer_at (lua_State *L) {
  aio_loop *lp = checkopen(L, 1);
  double when = luaL_checknumber(L, 2);
  return push_timer_id(L, aio_timers_add(&lp->timers, when));
}

/* timer_after(delay) -> id */
static int loop_timer_after (lua_State *L) {
  aio_loop *lp = checkopen(L, 1);
  double delay = luaL_checknumber(L, 2);
  if (!(delay >= 0)) delay = 0;  /* negative or nan: due now */
  return push_timer_id(L, aio_timers_add(&lp->timers, ct_now() + delay));
}

static int loop_timer_cancel (lua_State *L) {
  aio_loop *lp = checkloop(L, 1);
  lua_pushboolean(L, aio_timers_cancel(&lp->timers, luaL_checkinteger(L, 2)));
  return 1;
}

/* has_posted() -> whether a thread posted something not yet taken */
static int loop_has_posted (lua_State *L) {
  lua_pushboolean(L, __atomic_load_n(&checkloop(L, 1)->signalled, __ATOMIC_SEQ_CST) != 0);
  return 1;
}

/* epoll_pwait2 takes a timespec (no rounding to milliseconds); kernels
   before 5.11 lack it and get epoll_wait */
static int have_pwait2 = 1;

/* the longest single wait: a timer further away (call_later(1e308),
   sleep(math.huge)) is waited for in such steps, as the runtime's
   deadlines are (ct_abs_deadline). Converting its whole delay made an
   out-of-range time_t (undefined), and epoll refused the negative timeout
   it became: the loop died with "event loop wait failed" */
#define WAIT_MAX 1e9

static int wait_events (int epfd, struct epoll_event *evs, double timeout) {
  int n;
  if (timeout > WAIT_MAX) timeout = WAIT_MAX;
  if (__atomic_load_n(&have_pwait2, __ATOMIC_RELAXED)) {
    struct timespec ts, *tp = NULL;
    if (timeout >= 0) {
      double whole;
      double frac = modf(timeout, &whole);
      ts.tv_sec = (time_t)whole;
      ts.tv_nsec = (long)(frac * 1e9);
      tp = &ts;
    }
    n = epoll_pwait2(epfd, evs, MAX_EVENTS, tp, NULL);
    if (n >= 0 || errno != ENOSYS) return n;
    __atomic_store_n(&have_pwait2, 0, __ATOMIC_RELAXED);
  }
  return epoll_wait(epfd, evs, MAX_EVENTS,
                    timeout < 0 ? -1 : timeout * 1000.0 >= INT_MAX ? INT_MAX
                                     : (int)ceil(timeout * 1000.0));
}

/* takes what other threads posted; called when the eventfd was readable */
static void take_posted (aio_loop *lp) {
  uint64_t v;
  aio_idbuf tmp;
  ssize_t r = read(lp->evfd, &v, sizeof v);
  (void)r;  /* EAGAIN: a spurious wake-up; nothing to drain */
  __atomic_store_n(&lp->signalled, 0, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(&lp->mu);
  /* swap: the loop's copy ('taken', empty) becomes the posting buffer */
  tmp = lp->taken;
  lp->taken = lp->posted;
  lp->posted = tmp;
  lp->posted.n = 0;
  pthread_mutex_unlock(&lp->mu);
}

/*
** poll(block, io_out, timer_out, post_out) -> nio, ntimers, nposted
** Waits for I/O (up to the next timer when 'block', not at all otherwise),
** then fills io_out with the tasks whose socket became ready, timer_out
** with due timer ids in deadline order, post_out with ids posted by threads.
** When 'block' is true but no timer, socket or thread can end the wait,
** returns -1 at once instead; block == 2 waits all the same.
*/
static int loop_poll (lua_State *L) {
  aio_loop *lp = checkopen(L, 1);
  int block = lua_isinteger(L, 2) ? (int)lua_tointeger(L, 2) : lua_toboolean(L, 2);
  struct epoll_event evs[MAX_EVENTS];
  aio_sock *fired[MAX_EVENTS];
  unsigned fired_bits[MAX_EVENTS];
  int nev, i, nfired = 0, nio = 0, posted = 0, err = 0;
  double timeout = 0, next;
  size_t k;
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  luaL_checktype(L, 5, LUA_TTABLE);
  if (block) {
    if (aio_timers_next(&lp->timers, &next)) {
      timeout = next - ct_now();
      if (timeout < 0) timeout = 0;
    }
    else if (block != 2 && lp->nwaiting == 0 &&
             !__atomic_load_n(&lp->signalled, __ATOMIC_SEQ_CST)) {
      /* nothing could ever wake the loop but another thread: let the Lua
         side decide (a deadlock?) before waiting forever */
      lua_pushinteger(L, -1);
      return 1;
    }
    else timeout = -1;  /* nothing due: wait for I/O or a thread */
  }
  nev = 0;
  if (__atomic_load_n(&lp->socks.count, __ATOMIC_RELAXED) > 0 ||
      __atomic_load_n(&lp->signalled, __ATOMIC_SEQ_CST)) {
    /* first without waiting: when something is ready already (a busy
       server), the loop does not detach and attach at all */
    nev = wait_events(lp->epfd, evs, 0);
    err = errno;
  }
  if (nev == 0 && timeout != 0) {
    ct_tstate *ts = ct_detach();
    nev = wait_events(lp->epfd, evs, timeout);
    err = errno;
    ct_attach(ts, 1);
  }
  if (nev < 0) {
    nev = 0;
    if (err == EINTR) ct_check_interrupt(L);  /* Ctrl-C in the main thread */
    else return luaL_error(L, "event loop wait failed: %s", strerror(err));
  }
  /* first everything in C (no Lua allocation, so no finalizer can close a
     socket under us), then the results into the Lua tables */
  if (nev > 0) pthread_mutex_lock(&lp->mu);
  for (i = 0; i < nev; i++) {
    aio_sock *s;
    unsigned bits;
    if (evs[i].data.u64 == AIO_EVENTFD_KEY) {
      posted = 1;
      continue;
    }
    s = aio_sockset_find(&lp->socks, evs[i].data.u64);
    if (s == NULL) continue;  /* closed since */
    bits = aio_sock_event(s, evs[i].events);
    if (bits) {
      fired[nfired] = s;
      fired_bits[nfired++] = bits;
    }
  }
  if (nev > 0) pthread_mutex_unlock(&lp->mu);
  if (posted) take_posted(lp);
  lp->due.n = 0;
  if (lp->timers.n > 0) {
    double now = ct_now();
    int64_t id;
    while ((id = aio_timers_pop_due(&lp->timers, now)) > 0)
      if (!aio_idbuf_push(&lp->due, id))
        return luaL_error(L, "not enough memory for timers");
  }
  /* a socket with a waiting task is reachable (from the task), so these
     pointers are still good after the allocations below */
  if (nfired > 0) {
    lua_getiuservalue(L, 1, AIO_UV_SOCKS);
    for (i = 0; i < nfired; i++) {
      int n;
      lua_rawgeti(L, -1, (lua_Integer)fired[i]->slot + 1);
      if (lua_touserdata(L, -1) == (void *)fired[i]) {
        n = aio_sock_take_waiters(L, lua_gettop(L), fired[i], fired_bits[i]);
        for (; n > 0; n--) lua_rawseti(L, 3, ++nio);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  for (k = 0; k < lp->due.n; k++) {
    lua_pushinteger(L, (lua_Integer)lp->due.v[k]);
    lua_rawseti(L, 4, (lua_Integer)k + 1);
  }
  for (k = 0; k < lp->taken.n; k++) {
    lua_pushinteger(L, (lua_Integer)lp->taken.v[k]);
    lua_rawseti(L, 5, (lua_Integer)k + 1);
  }
  lua_pushinteger(L, nio);
  lua_pushinteger(L, (lua_Integer)lp->due.n);
  lua_pushinteger(L, (lua_Integer)lp->taken.n);
  lp->taken.n = 0;
  return 3;
}

/*
** post(loop, id) -> boolean: from any thread, hands 'id' to the loop and
** wakes it. False when the loop is closed.
*/
static int loop_post (lua_State *L) {
  aio_loop *lp = checkloop(L, 1);
  lua_Integer id = luaL_checkinteger(L, 2);
  int ok;
  pthread_mutex_lock(&lp->mu);  /* also keeps the eventfd open meanwhile */
  ok = lp->accepting && aio_idbuf_push(&lp->posted, (int64_t)id);
  if (ok && __atomic_exchange_n(&lp->signalled, 1, __ATOMIC_SEQ_CST) == 0) {
    uint64_t one = 1;
    ssize_t r = write(lp->evfd, &one, sizeof one);
    (void)r;  /* EAGAIN: the counter is full, so the loop wakes anyway */
  }
  pthread_mutex_unlock(&lp->mu);
  lua_pushboolean(L, ok);
  return 1;
}

/* post_id() -> a fresh id for post(), from any thread */
static int loop_post_id (lua_State *L) {
  aio_loop *lp = checkloop(L, 1);
  lua_pushinteger(L, (lua_Integer)__atomic_add_fetch(&lp->next_post, 1, __ATOMIC_RELAXED));
  return 1;
}

static int aio_time_scale (lua_State *L) {
  lua_pushnumber(L, ct_time_scale());
  return 1;
}

static const luaL_Reg loop_methods[] = {
  {"close", loop_close},
  {"is_closed", loop_is_closed},
  {"time", loop_time},
  {"timer_at", loop_timer_at},
  {"timer_after", loop_timer_after},
  {"timer_cancel", loop_timer_cancel},
  {"has_posted", loop_has_posted},
  {"poll", loop_poll},
  {"post", loop_post},
  {"post_id", loop_post_id},
  {NULL, NULL}
};

static const luaL_Reg aio_funcs[] = {
  {"new_loop", loop_new},
  {"post", loop_post},
  {"time_scale", aio_time_scale},
  {NULL, NULL}
};

int luaopen_ct_aio (lua_State *L) {
  luaL_newmetatable(L, "cthreads.asyncio.loop");
  luaL_newlib(L, loop_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, loop_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, aio_funcs);
  aio_sock_register(L);
  aio_sched_register(L);
  aio_stream_register(L);
  lua_pushinteger(L, AIO_READ);
  lua_setfield(L, -2, "READ");
  lua_pushinteger(L, AIO_WRITE);
  lua_setfield(L, -2, "WRITE");
  lua_pushinteger(L, AIO_DRAIN);
  lua_setfield(L, -2, "DRAIN");
  return 1;
}
