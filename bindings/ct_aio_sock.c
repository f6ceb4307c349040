/*
** asyncio's sockets: nonblocking TCP with input and output buffers in C.
** Each socket is registered once with its loop's epoll, edge-triggered;
** 'ready' remembers what epoll last said, so a read that finds nothing
** buffered and the socket drained goes straight to waiting instead of
** making a recv that would fail. Writes never block: what the kernel does
** not take stays in the output buffer, flushed by the loop's poll when
** epoll says the socket is writable. This file has the socket itself and
** what stdlib/asyncio_streams.lua needs to open, accept and close them;
** the reading and writing methods of the streams, which suspend tasks,
** are in ct_aio_stream.c.
*/
#define _GNU_SOURCE  /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ct_aio.h"
#include "ct_internal.h"
#include "lauxlib.h"

const ct_kind aio_sock_kind = {"socket handle"};

#define READ_CHUNK (64 * 1024)

/* ---- buffers ---------------------------------------------------------------- */

/* room for at least 'need' more bytes after the data */
static int buf_reserve (aio_buf *b, size_t need) {
  if (b->cap - b->off - b->len >= need) return 1;
  if (b->off > 0) {  /* slide the data to the front first */
    memmove(b->p, b->p + b->off, b->len);
    b->off = 0;
    if (b->cap - b->len >= need) return 1;
  }
  {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap - b->len < need) cap *= 2;
    p = realloc(b->p, cap);
    if (p == NULL) return 0;
    b->p = p;
    b->cap = cap;
  }
  return 1;
}

int aio_buf_append (aio_buf *b, const char *p, size_t len) {
  if (!buf_reserve(b, len)) return 0;
  memcpy(b->p + b->off + b->len, p, len);
  b->len += len;
  return 1;
}

static void buf_consume (aio_buf *b, size_t n) {
  b->off += n;
  b->len -= n;
  if (b->len == 0) b->off = 0;
}

static void buf_free (aio_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- the socket object -------------------------------------------------------- */

aio_sock *aio_checksock (lua_State *L, int idx) {
  return (aio_sock *)ct_checkhandle(L, idx, &aio_sock_kind);
}

/* ---- the loop's socket set ------------------------------------------------- */

#define NO_SLOT UINT32_MAX

static int sockset_grow (aio_sockset *set) {
  uint32_t n = set->nslots ? set->nslots * 2 : 64, i;
  aio_sock **sock = realloc(set->sock, n * sizeof *sock);
  uint32_t *gen, *nf;
  if (sock) set->sock = sock;
  gen = realloc(set->gen, n * sizeof *gen);
  if (gen) set->gen = gen;
  nf = realloc(set->next_free, n * sizeof *nf);
  if (nf) set->next_free = nf;
  if (!sock || !gen || !nf) return 0;
  for (i = set->nslots; i < n; i++) {
    sock[i] = NULL;
    gen[i] = 0;
    nf[i] = (i + 1 < n) ? i + 1 : set->free_head;
  }
  set->free_head = set->nslots;
  set->nslots = n;
  return 1;
}

/* a slot for 's' (mu held), and its epoll key; 0 when out of memory */
static int sockset_add (aio_sockset *set, aio_sock *s, uint64_t *key) {
  uint32_t slot;
  if (set->free_head == NO_SLOT && !sockset_grow(set)) return 0;
  slot = set->free_head;
  set->free_head = set->next_free[slot];
  set->sock[slot] = s;
  s->slot = slot;
  __atomic_store_n(&set->count, set->count + 1, __ATOMIC_RELAXED);
  *key = ((uint64_t)set->gen[slot] << 32) | slot;
  return 1;
}

static void sockset_remove (aio_sockset *set, uint32_t slot) {
  if (slot >= set->nslots || set->sock[slot] == NULL) return;
  set->sock[slot] = NULL;
  set->gen[slot]++;
  set->next_free[slot] = set->free_head;
  set->free_head = slot;
  __atomic_store_n(&set->count, set->count - 1, __ATOMIC_RELAXED);
}

aio_sock *aio_sockset_find (aio_sockset *set, uint64_t key) {
  uint32_t slot = (uint32_t)key;
  if (slot >= set->nslots || set->gen[slot] != (uint32_t)(key >> 32)) return NULL;
  return set->sock[slot];
}

void aio_sockset_free (aio_sockset *set) {
  free(set->sock);
  free(set->gen);
  free(set->next_free);
  memset(set, 0, sizeof *set);
  set->free_head = NO_SLOT;
}

void aio_sock_close_locked (aio_sock *s) {
  if (s->fd < 0) return;
  /* unregister explicitly: a forked child may still hold the descriptor */
  if (s->loop->epfd >= 0) epoll_ctl(s->loop->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  sockset_remove(&s->loop->socks, s->slot);
  close(s->fd);
  s->fd = -1;
  buf_free(&s->out);
  s->closing = 0;
}

void aio_sock_close_now (aio_sock *s) {
  if (s->fd < 0) return;
  pthread_mutex_lock(&s->loop->mu);
  aio_sock_close_locked(s);
  pthread_mutex_unlock(&s->loop->mu);
}

static int sock_gc (lua_State *L) {
  aio_sock *s = (aio_sock *)lua_touserdata(L, 1);
  aio_sock_close_now(s);
  buf_free(&s->in);
  return 0;
}

/* wraps 'fd' (already nonblocking) in a new socket of loop 'loopidx' */
static aio_sock *new_sock (lua_State *L, int loopidx, int fd, unsigned ready,
                           int listening) {
  aio_loop *lp = (aio_loop *)lua_touserdata(L, loopidx);
  struct epoll_event ev;
  uint64_t key;
  int e = 0;
  aio_sock *s = (aio_sock *)lua_newuserdatauv(L, sizeof(aio_sock), 3);
  memset(s, 0, sizeof *s);
  s->kind = &aio_sock_kind;
  s->fd = -1;
  s->loop = lp;
  lua_pushvalue(L, loopidx);
  lua_setiuservalue(L, -2, AIO_UV_LOOP);  /* the loop outlives its sockets */
  luaL_setmetatable(L, "cthreads.asyncio.socket");
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (listening ? 0 : EPOLLOUT);
  s->ready = ready;
  s->listening = listening;
  s->id = ++lp->next_sock_id;
  pthread_mutex_lock(&lp->mu);
  if (!sockset_add(&lp->socks, s, &key)) e = ENOMEM;
  else {
    ev.data.u64 = key;
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) s->fd = fd;
    else {
      e = errno;
      sockset_remove(&lp->socks, s->slot);
    }
  }
  pthread_mutex_unlock(&lp->mu);
  if (s->fd < 0) {
    close(fd);
    luaL_error(L, "cannot watch a socket: %s", strerror(e));
  }
  lua_getiuservalue(L, loopidx, AIO_UV_SOCKS);  /* for the loop's poll */
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, (lua_Integer)s->slot + 1);
  lua_pop(L, 1);
  return s;
}

static aio_loop *checkopenloop (lua_State *L, int idx) {
  aio_loop *lp = (aio_loop *)ct_checkhandle(L, idx, &aio_loop_kind);
  if (lp->epfd < 0) luaL_error(L, "Event loop is closed");
  return lp;
}

static void set_nodelay (int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- addresses ---------------------------------------------------------------- */

static int push_addr (lua_State *L, const struct sockaddr *sa) {
  char host[INET6_ADDRSTRLEN];
  int port;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  }
  else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  else {
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
  }
  lua_pushstring(L, host);
  lua_pushinteger(L, port);
  return 2;
}

/*
** resolve(host, port, passive) -> {sockaddr strings} | nil, message
** getaddrinfo may ask a DNS server: detached meanwhile.
*/
static int aio_resolve (lua_State *L) {
  const char *host = luaL_optstring(L, 1, NULL);
  lua_Integer port = luaL_checkinteger(L, 2);
  int passive = lua_toboolean(L, 3);
  char service[16];
  struct addrinfo hints, *res = NULL, *ai;
  int r, i = 0;
  ct_tstate *ts;
  luaL_argcheck(L, port >= 0 && port <= 65535, 2, "port must be 0-65535");
  if (host != NULL && host[0] == '\0') host = NULL;
  snprintf(service, sizeof service, "%d", (int)port);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
  if (host == NULL && !passive) host = "localhost";
  ts = ct_detach();
  r = getaddrinfo(host, service, &hints, &res);
  ct_attach(ts, 1);
  if (r != 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot resolve '%s': %s", host ? host : "*", gai_strerror(r));
    return 2;
  }
  lua_newtable(L);
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    lua_pushlstring(L, (const char *)ai->ai_addr, ai->ai_addrlen);
    lua_rawseti(L, -2, ++i);
  }
  freeaddrinfo(res);
  return 1;
}

static const struct sockaddr *checkaddr (lua_State *L, int idx, socklen_t *len) {
  size_t n;
  const char *s = luaL_checklstring(L, idx, &n);
  luaL_argcheck(L, n >= sizeof(struct sockaddr_in), idx, "not a socket address");
  *len = (socklen_t)n;
  return (const struct sockaddr *)s;
}

/* addr_string(sockaddr) -> host, port */
static int aio_addr_string (lua_State *L) {
  socklen_t len;
  return push_addr(L, checkaddr(L, 1, &len));
}

/* with_port(sockaddr, port) -> the same address with another port */
static int aio_with_port (lua_State *L) {
  socklen_t len;
  const struct sockaddr *sa = checkaddr(L, 1, &len);
  lua_Integer port = luaL_checkinteger(L, 2);
  struct sockaddr_storage ss;
  luaL_argcheck(L, port >= 0 && port <= 65535, 2, "port must be 0-65535");
  luaL_argcheck(L, len <= sizeof ss, 1, "not a socket address");
  memcpy(&ss, sa, len);
  if (ss.ss_family == AF_INET) ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
  else if (ss.ss_family == AF_INET6) ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
  lua_pushlstring(L, (const char *)&ss, len);
  return 1;
}

/*
** listen(loop, sockaddr, backlog) -> socket | nil, message
*/
static int aio_listen (lua_State *L) {
  socklen_t len;
  const struct sockaddr *sa;
  int backlog = (int)luaL_optinteger(L, 3, 100);
  int fd, one = 1, e;
  checkopenloop(L, 1);
  sa = checkaddr(L, 2, &len);
  fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) goto fail;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sa->sa_family == AF_INET6)  /* so that 0.0.0.0 can be bound beside :: */
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, sa, len) != 0 || listen(fd, backlog) != 0) goto fail;
  new_sock(L, 1, fd, AIO_READ, 1);
  return 1;
fail:
  e = errno;
  if (fd >= 0) close(fd);
  lua_pushnil(L);
  lua_pushstring(L, strerror(e));
  return 2;
}

/*
** connect(loop, sockaddr) -> socket, in_progress | nil, message
** When in progress, wait for WRITE, then ask connect_error().
*/
static int aio_connect (lua_State *L) {
  socklen_t len;
  const struct sockaddr *sa;
  int fd, r, e;
  checkopenloop(L, 1);
  sa = checkaddr(L, 2, &len);
  fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) goto fail;
  set_nodelay(fd);
  do r = connect(fd, sa, len); while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EINPROGRESS) goto fail;
  new_sock(L, 1, fd, r == 0 ? AIO_READ | AIO_WRITE : 0, 0);
  lua_pushboolean(L, r != 0);
  return 2;
fail:
  e = errno;
  if (fd >= 0) close(fd);
  lua_pushnil(L);
  lua_pushstring(L, strerror(e));
  return 2;
}

/* ---- socket methods ------------------------------------------------------------- */

static int s_id (lua_State *L) {
  lua_pushinteger(L, aio_checksock(L, 1)->id);
  return 1;
}

static int s_fileno (lua_State *L) {
  lua_pushinteger(L, aio_checksock(L, 1)->fd);
  return 1;
}

static int s_sockname (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (s->fd < 0 || getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  return push_addr(L, (struct sockaddr *)&ss);
}

static int s_peername (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (s->fd < 0 || getpeername(s->fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  return push_addr(L, (struct sockaddr *)&ss);
}

/* connect_error() -> nil when connected, else the reason */
static int s_connect_error (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  int e = 0;
  socklen_t len = sizeof e;
  if (s->fd < 0) e = EBADF;
  else if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
  if (e == 0) return 0;
  lua_pushstring(L, strerror(e));
  return 1;
}

/* accept() -> socket | false (would block) */
static int s_accept (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  int fd;
  if (s->fd < 0) return luaL_error(L, "the server is closed");
  for (;;) {
    fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) break;
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      s->ready &= ~AIO_READ;
      lua_pushboolean(L, 0);
      return 1;
    }
    return luaL_error(L, "accept failed: %s", strerror(errno));
  }
  set_nodelay(fd);
  lua_getiuservalue(L, 1, 1);  /* the loop */
  new_sock(L, lua_gettop(L), fd, AIO_READ | AIO_WRITE, 0);
  return 1;
}

/*
** One recv into the input buffer. Returns bytes read, 0 at end of stream,
** -1 when it would block. Raises on a reset connection and other errors.
** A short read means the socket is drained (TCP on Linux), unless epoll
** already reported a hang-up, after which only recv's 0 is trusted.
*/
long aio_sock_fill (lua_State *L, aio_sock *s) {
  size_t room;
  ssize_t n;
  if (s->eof || s->fd < 0) return 0;
  if (!(s->ready & AIO_READ)) return -1;
  if (!buf_reserve(&s->in, READ_CHUNK / 4))
    return luaL_error(L, "not enough memory for a socket buffer");
  room = s->in.cap - s->in.off - s->in.len;
  do n = recv(s->fd, s->in.p + s->in.off + s->in.len, room, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    s->in.len += (size_t)n;
    if ((size_t)n < room && !s->hup) s->ready &= ~AIO_READ;
    return (long)n;
  }
  if (n == 0) {
    s->eof = 1;
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    s->ready &= ~AIO_READ;
    return -1;
  }
  {
    int e = errno;
    s->eof = 1;
    return luaL_error(L, "connection lost: %s", strerror(e));
  }
}

void aio_sock_take (lua_State *L, aio_sock *s, size_t n) {
  lua_pushlstring(L, s->in.p + s->in.off, n);
  buf_consume(&s->in, n);
}

/* sends what the output buffer holds, as far as the kernel takes it */
void aio_sock_flush (aio_sock *s) {
  while (s->out.len > 0 && s->fd >= 0) {
    ssize_t n = send(s->fd, s->out.p + s->out.off, s->out.len, MSG_NOSIGNAL);
    if (n > 0) {
      buf_consume(&s->out, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      s->ready &= ~AIO_WRITE;
      return;
    }
    s->err = n < 0 ? errno : EPIPE;
    s->out.len = s->out.off = 0;  /* nobody will take it now */
    return;
  }
}

/* the tasks waiting on 's', taken off it (to be woken by the caller) */
int aio_sock_take_waiters (lua_State *L, int idx, aio_sock *s, unsigned bits) {
  int n = 0;
  if ((bits & AIO_READ) && (s->waiting & AIO_READ)) {
    lua_getiuservalue(L, idx, AIO_UV_READER);
    lua_pushnil(L);
    lua_setiuservalue(L, idx, AIO_UV_READER);
    s->waiting &= ~AIO_READ;
    s->loop->nwaiting--;
    n++;
  }
  if ((bits & (AIO_WRITE | AIO_DRAIN)) && (s->waiting & AIO_WRITE)) {
    lua_getiuservalue(L, idx, AIO_UV_WRITER);
    lua_pushnil(L);
    lua_setiuservalue(L, idx, AIO_UV_WRITER);
    s->waiting &= ~AIO_WRITE;
    s->loop->nwaiting--;
    n++;
  }
  if (bits & AIO_READ) s->want &= ~AIO_READ;
  if (bits & (AIO_WRITE | AIO_DRAIN)) s->want &= ~(AIO_WRITE | AIO_DRAIN);
  return n;
}

/*
** close() -> the tasks that waited on the socket (to wake: they find it
** closed). At once when nothing is waiting to be sent, else once flushed;
** reading stops at once.
*/
static int s_close (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  if (s->fd < 0) return 0;
  s->eof = 1;
  if (s->out.len == 0 || s->err || s->loop->epfd < 0) {
    aio_sock_close_now(s);
    return aio_sock_take_waiters(L, 1, s, AIO_READ | AIO_WRITE);
  }
  s->closing = 1;  /* a drain or wait_closed goes on waiting for the flush */
  return aio_sock_take_waiters(L, 1, s, AIO_READ);
}

/* abort() -> the waiting tasks; closes at once, dropping unsent data */
static int s_abort (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  aio_sock_close_now(s);
  return aio_sock_take_waiters(L, 1, s, AIO_READ | AIO_WRITE);
}

/* write_eof(): shuts down the sending side once the buffer is flushed */
/* shuts down the sending side once the output buffer is empty */
static void shut_when_flushed (aio_sock *s) {
  if (s->shut_wr == 1 && s->out.len == 0 && s->fd >= 0) {
    shutdown(s->fd, SHUT_WR);
    s->shut_wr = 2;
  }
}

/* write_eof(): the peer reads the end of the stream after what is buffered */
static int s_write_eof (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  if (s->fd < 0 || s->closing || s->shut_wr) return 0;
  s->shut_wr = 1;
  aio_sock_flush(s);
  shut_when_flushed(s);
  return 0;
}

static int s_is_closing (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  lua_pushboolean(L, s->fd < 0 || s->closing);
  return 1;
}

static int s_is_closed (lua_State *L) {
  lua_pushboolean(L, aio_checksock(L, 1)->fd < 0);
  return 1;
}

static int s_tostring (lua_State *L) {
  aio_sock *s = aio_checksock(L, 1);
  lua_pushfstring(L, "asyncio socket (fd %d)", s->fd);
  return 1;
}

unsigned aio_sock_event (aio_sock *s, uint32_t events) {
  unsigned bits = 0;
  if (s->fd < 0) return 0;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->hup = 1;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->ready |= AIO_READ;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    s->ready |= AIO_WRITE;
    if (s->out.len > 0) aio_sock_flush(s);
  }
  shut_when_flushed(s);
  if (s->closing && (s->out.len == 0 || s->err)) aio_sock_close_locked(s);
  if (s->fd < 0) bits = s->want;  /* closed: wake whoever waits */
  else {
    bits = s->want & s->ready & (AIO_READ | AIO_WRITE);
    if ((s->want & AIO_DRAIN) && (s->out.len <= AIO_LOW_WATER || s->err))
      bits |= AIO_DRAIN;
  }
  s->want &= ~bits;
  return bits;
}

static const luaL_Reg sock_methods[] = {
  {"id", s_id},
  {"fileno", s_fileno},
  {"sockname", s_sockname},
  {"peername", s_peername},
  {"connect_error", s_connect_error},
  {"accept", s_accept},
  {"close", s_close},
  {"abort", s_abort},
  {"write_eof", s_write_eof},
  {"is_closing", s_is_closing},
  {"is_closed", s_is_closed},
  {NULL, NULL}
};

static const luaL_Reg sock_funcs[] = {
  {"resolve", aio_resolve},
  {"addr_string", aio_addr_string},
  {"with_port", aio_with_port},
  {"listen", aio_listen},
  {"connect", aio_connect},
  {NULL, NULL}
};

/* adds the socket functions to the module table on the top of the stack */
void aio_sock_register (lua_State *L) {
  luaL_newmetatable(L, "cthreads.asyncio.socket");
  luaL_newlib(L, sock_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, sock_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, s_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_setfuncs(L, sock_funcs, 0);
}
