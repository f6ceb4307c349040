/*
** multiprocessing connections: Pipe() ends and the manager's sockets.
** A message is a frame: a 4-byte length (0xffffffff then 8 bytes for
** big ones) and the encoded value (or raw bytes for send_bytes). Each
** connection reads into its own buffer, so one read system call can
** bring many small messages. Pipe() is made of pipes (two for a duplex
** one), which cost a third of a socket per small message; their write
** ends are non-blocking (a full pipe is waited for detached) and SIGPIPE
** is blocked around a write, so a vanished reader is an error, not death.
** A connection can itself be sent to a process that inherited its file
** descriptor: the receiver checks that the descriptor is the same socket
** and gets its own duplicate (the numbers of the process that made the
** connection travel too, so that a received one can be sent back).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ct_codec.h"
#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_mp.h"
#include "lauxlib.h"

#define READ_CHUNK 65536

typedef struct conn {
  const ct_kind *kind;
  int rfd, wfd;         /* -1 when absent or closed; the same fd for a socket */
  int orig_rfd, orig_wfd;  /* their numbers in the process that made them */
  int is_socket;
  int readable, writable;
  size_t maxmsg;        /* 0: any size; else bigger frames are refused */
  char *rbuf;
  size_t rpos, rlen, rcap;
} conn;

static const ct_kind conn_kind = {"Connection"};

static void close_fds (conn *c) {
  if (c->rfd >= 0) close(c->rfd);
  if (c->wfd >= 0 && c->wfd != c->rfd) close(c->wfd);
  c->rfd = c->wfd = -1;
}

static int conn_gc (lua_State *L) {
  conn *c = (conn *)lua_touserdata(L, 1);
  close_fds(c);
  free(c->rbuf);
  c->rbuf = NULL;
  return 0;
}

static conn *push_conn (lua_State *L, int rfd, int wfd, int is_socket) {
  conn *c = (conn *)ct_newhandle(L, sizeof(conn), &conn_kind);
  memset((char *)c + sizeof(c->kind), 0, sizeof(*c) - sizeof(c->kind));
  c->rfd = c->orig_rfd = rfd;
  c->wfd = c->orig_wfd = wfd;
  c->is_socket = is_socket;
  c->readable = rfd >= 0;
  c->writable = wfd >= 0;
  if (luaL_newmetatable(L, "cthreads.connection")) {
    lua_pushcfunction(L, conn_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return c;
}

static conn *toconn (lua_State *L) {
  conn *c = (conn *)ct_checkhandle(L, 1, &conn_kind);
  if (c->rfd < 0 && c->wfd < 0) ct_mp_raw_error(L, "handle is closed");
  return c;
}

/* a pipe whose write end does not block (and holds 1 MiB when allowed) */
static int make_pipe (int p[2]) {
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
  fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  return 0;
}

/* pipe_new(duplex) -> conn1, conn2 (simplex: conn1 receives, conn2 sends) */
static int pipe_new (lua_State *L) {
  int duplex = ct_optboolean(L, 1, 1);
  int a[2], b[2];
  if (make_pipe(a) != 0)
    return luaL_error(L, "cannot make a pipe: %s", strerror(errno));
  if (!duplex) {
    push_conn(L, a[0], -1, 0);
    push_conn(L, -1, a[1], 0);
    return 2;
  }
  if (make_pipe(b) != 0) {
    int e = errno;
    close(a[0]);
    close(a[1]);
    return luaL_error(L, "cannot make a pipe: %s", strerror(e));
  }
  push_conn(L, a[0], b[1], 0);
  push_conn(L, b[0], a[1], 0);
  return 2;
}

/* waits (detached) for 'events' on fd until 'ms' (-1 forever); returns
   poll's result (-1 with errno EINTR on a signal) */
static int poll_fd (int fd, short events, int ms) {
  struct pollfd p;
  int r;
  ct_tstate *ts;
  p.fd = fd;
  p.events = events;
  p.revents = 0;
  ts = ct_detach();
  r = poll(&p, 1, ms);
  ct_attach(ts, 1);
  return r;
}

/* poll_fd, raising "interrupted!" on Ctrl-C in the main thread */
static int wait_fd (lua_State *L, int fd, short events, int ms) {
  int r = poll_fd(fd, events, ms);
  if (r < 0 && errno == EINTR) ct_check_interrupt(L);
  return r;
}

/* writes all of p[0..n); 0 on success, else errno (EINTR: Ctrl-C while
   waiting for room); raises nothing */
static int write_all (conn *c, const char *p, size_t n) {
  int err = 0;
  sigset_t pipe_set, old;
  if (!c->is_socket) {  /* EPIPE instead of death by SIGPIPE */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  }
  while (n > 0) {
    ssize_t w = c->is_socket ? send(c->wfd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT)
                             : write(c->wfd, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    }
    else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (poll_fd(c->wfd, POLLOUT, -1) < 0 && errno == EINTR &&
          __atomic_load_n(&ct_rt.interrupt_pending, __ATOMIC_ACQUIRE) &&
          ct_current != NULL && ct_current->is_main) {
        err = EINTR;
        break;
      }
    }
    else if (w < 0 && errno == EINTR) continue;
    else {
      err = w < 0 ? errno : EPIPE;
      break;
    }
  }
  if (!c->is_socket) {
    if (err == EPIPE && !sigismember(&old, SIGPIPE)) {  /* drop our SIGPIPE */
      struct timespec zero = {0, 0};
      sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  return err;
}

static void put_header (ct_buf *b, size_t start) {
  size_t n = b->len - start - 12;
  if (n < 0xffffffffu) {  /* short header: move the body up 8 bytes */
    uint32_t h = (uint32_t)n;
    memmove(b->p + start + 4, b->p + start + 12, n);
    memcpy(b->p + start, &h, 4);
    b->len -= 8;
  }
  else {
    uint32_t h = 0xffffffffu;
    uint64_t big = (uint64_t)n;
    memcpy(b->p + start, &h, 4);
    memcpy(b->p + start + 4, &big, 8);
  }
}

static int send_frame (lua_State *L, conn *c, ct_buf *b, int encoded) {
  int err;
  put_header(b, 0);
  err = write_all(c, b->p, b->len);
  if (err == EINTR) {  /* Ctrl-C: the buffer back first, then the error */
    ct_buf_give(b);
    ct_check_interrupt(L);
    return 0;
  }
  if (err != 0) {
    if (encoded) {  /* the refs inside will never be received */
      size_t hdr = (b->len >= 4 && *(uint32_t *)b->p == 0xffffffffu) ? 12 : 4;
      ct_codec_release(b->p + hdr, b->len - hdr);
    }
    ct_buf_give(b);
    if (err == EPIPE || err == ECONNRESET || err == EBADF)
      return ct_mp_raw_error(L, "BrokenPipeError: [Errno 32] Broken pipe");
    lua_pushfstring(L, "cannot send: %s", strerror(err));
    return lua_error(L);
  }
  ct_buf_give(b);
  return 0;
}

/* conn_send(c, value) */
static int conn_send (lua_State *L) {
  conn *c = toconn(L);
  char err[200];
  ct_buf b;
  luaL_checkany(L, 2);
  if (!c->writable) return ct_mp_raw_error(L, "connection is read-only");
  b = ct_buf_take();  /* no error may be raised until it is given back */
  if (!ct_buf_reserve(&b, 12)) {
    ct_buf_give(&b);
    return luaL_error(L, "not enough memory");
  }
  b.len = 12;
  if (!ct_encode(L, 2, &b, err, sizeof err)) {
    ct_buf_give(&b);
    return ct_mp_raw_error(L, err);
  }
  return send_frame(L, c, &b, 1);
}

/* conn_send_bytes(c, s) */
static int conn_send_bytes (lua_State *L) {
  conn *c = toconn(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  ct_buf b;
  if (!c->writable) return ct_mp_raw_error(L, "connection is read-only");
  b = ct_buf_take();
  if (!ct_buf_reserve(&b, 12 + n)) {
    ct_buf_give(&b);
    return luaL_error(L, "not enough memory");
  }
  b.len = 12;
  memcpy(b.p + 12, s, n);
  b.len += n;
  return send_frame(L, c, &b, 0);
}

/* the length of the complete frame at the start of the buffer: 1 and sets
   *hdr and *body when complete, 0 when more bytes are needed, -1 when the
   frame is bigger than maxmsg */
static int frame_ready (conn *c, size_t *hdr, size_t *body) {
  size_t have = c->rlen - c->rpos;
  uint32_t h;
  uint64_t n;
  if (have < 4) return 0;
  memcpy(&h, c->rbuf + c->rpos, 4);
  if (h == 0xffffffffu) {
    if (have < 12) return 0;
    memcpy(&n, c->rbuf + c->rpos + 4, 8);
    *hdr = 12;
  }
  else {
    n = h;
    *hdr = 4;
  }
  if (c->maxmsg > 0 && n > c->maxmsg) return -1;
  *body = (size_t)n;
  if (have - *hdr < n) {
    /* make room for the whole frame */
    size_t need = *hdr + (size_t)n;
    if (c->rpos > 0) {
      memmove(c->rbuf, c->rbuf + c->rpos, have);
      c->rlen = have;
      c->rpos = 0;
    }
    if (c->rcap < need) {
      char *np = (char *)realloc(c->rbuf, need);
      if (np != NULL) {
        c->rbuf = np;
        c->rcap = need;
      }
    }
    return 0;
  }
  return 1;
}

/* A reader that has caught up with its writer looks again for a few
   microseconds before sleeping: a writer whose reader sleeps pays a
   wake-up per message, which costs more than the message itself. */
#define SPIN_ROUNDS 40

static void spin_for_data (int fd) {
  int k;
  for (k = 0; k < SPIN_ROUNDS; k++) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 0) return;
    sched_yield();
  }
}

/* reads more bytes; 1 got some, 0 end of file, -1 timeout; 'ms' -1 forever */
static int fill (lua_State *L, conn *c, int ms) {
  ssize_t r;
  if (c->rcap - c->rlen < 4096) {
    if (c->rpos > 0) {
      memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
      c->rlen -= c->rpos;
      c->rpos = 0;
    }
    if (c->rcap - c->rlen < 4096) {
      size_t nc = c->rcap < READ_CHUNK ? READ_CHUNK : c->rcap * 2;
      char *np = (char *)realloc(c->rbuf, nc);
      if (np == NULL) return luaL_error(L, "not enough memory");
      c->rbuf = np;
      c->rcap = nc;
    }
  }
  for (;;) {
    if (c->is_socket) {
      r = recv(c->rfd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (ms < 0) {  /* a reply is often a few microseconds away */
          ct_tstate *ts = ct_detach();
          spin_for_data(c->rfd);
          ct_attach(ts, 0);
        }
        if (wait_fd(L, c->rfd, POLLIN, ms) == 0) return -1;
        continue;
      }
    }
    else {  /* a pipe: one blocking read, detached */
      ct_tstate *ts;
      if (ms >= 0 && wait_fd(L, c->rfd, POLLIN, ms) == 0) return -1;
      ts = ct_detach();
      spin_for_data(c->rfd);
      r = read(c->rfd, c->rbuf + c->rlen, c->rcap - c->rlen);
      ct_attach(ts, 1);
      if (r < 0 && errno == EINTR) {
        ct_check_interrupt(L);
        continue;
      }
    }
    if (r > 0) {
      c->rlen += (size_t)r;
      return 1;
    }
    if (r == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return 0;
    return luaL_error(L, "cannot receive: %s", strerror(errno));
  }
}

/* receives one frame: pushes the value (or the raw string); raises
   EOFError at the end of the stream */
static int recv_frame (lua_State *L, int raw) {
  conn *c = toconn(L);
  size_t hdr, body;
  int st;
  if (!c->readable) return ct_mp_raw_error(L, "connection is write-only");
  while ((st = frame_ready(c, &hdr, &body)) == 0) {
    int r = fill(L, c, -1);
    if (r == 0) return ct_mp_raise_kind(L, "EOFError");
  }
  if (st < 0) return ct_mp_raw_error(L, "message too large");
  {
    const char *p = c->rbuf + c->rpos + hdr;
    c->rpos += hdr + body;
    if (raw) lua_pushlstring(L, p, body);
    else {
      char err[200];
      if (!ct_decode(L, p, body, 1, err, sizeof err)) {
        if (c->rpos == c->rlen) c->rpos = c->rlen = 0;
        lua_pushfstring(L, "cannot receive: %s", err);
        return lua_error(L);
      }
    }
  }
  if (c->rpos == c->rlen) c->rpos = c->rlen = 0;
  return 1;
}

static int conn_recv (lua_State *L) { return recv_frame(L, 0); }
static int conn_recv_bytes (lua_State *L) { return recv_frame(L, 1); }

/* conn_poll(c, [timeout]): no timeout -> do not wait; nil (given) or
   negative -> forever, as Python's poll(None) */
static int conn_poll (lua_State *L) {
  conn *c = toconn(L);
  int ms = 0;
  int r;
  if (!c->readable) return ct_mp_raw_error(L, "connection is write-only");
  if (c->rlen > c->rpos) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (lua_isnil(L, 2)) ms = -1;  /* an explicit nil; none is 0 */
  else if (!lua_isnone(L, 2)) {
    double t = luaL_checknumber(L, 2);
    luaL_argcheck(L, t == t, 2, "timeout must be a number, not nan");
    if (t < 0) ms = -1;
    else ms = t * 1e3 > 2e9 ? 2000000000 : (int)(t * 1e3 + 0.999);
  }
  if (ms == 0) {
    struct pollfd p = {c->rfd, POLLIN, 0};
    r = poll(&p, 1, 0);
  }
  else r = wait_fd(L, c->rfd, POLLIN, ms);
  lua_pushboolean(L, r > 0);
  return 1;
}

static int conn_close (lua_State *L) {
  conn *c = (conn *)ct_checkhandle(L, 1, &conn_kind);
  close_fds(c);
  free(c->rbuf);
  c->rbuf = NULL;
  c->rpos = c->rlen = c->rcap = 0;
  return 0;
}

/* conn_info(c) -> closed, readable, writable, fileno */
static int conn_info (lua_State *L) {
  conn *c = (conn *)ct_checkhandle(L, 1, &conn_kind);
  int closed = c->rfd < 0 && c->wfd < 0;
  lua_pushboolean(L, closed);
  lua_pushboolean(L, c->readable);
  lua_pushboolean(L, c->writable);
  if (closed) lua_pushnil(L);
  else lua_pushinteger(L, c->rfd >= 0 ? c->rfd : c->wfd);
  return 4;
}

static int conn_set_maxmsg (lua_State *L) {
  conn *c = toconn(L);
  c->maxmsg = (size_t)luaL_checkinteger(L, 2);
  return 0;
}

/* ---- sending a connection ---------------------------------------------------- */

typedef struct conn_wire {
  int32_t rfd, wfd, orig_rfd, orig_wfd, is_socket, pad;
  uint64_t rdev, rino, wdev, wino;
} conn_wire;

static int stat_fd (int fd, uint64_t *dev, uint64_t *ino) {
  struct stat st;
  if (fd < 0) {
    *dev = *ino = 0;
    return 1;
  }
  if (fstat(fd, &st) != 0) return 0;
  *dev = (uint64_t)st.st_dev;
  *ino = (uint64_t)st.st_ino;
  return 1;
}

static int conn_encode (lua_State *L, void *h, ct_buf *b, char *err, size_t errsize) {
  conn *c = (conn *)h;
  conn_wire w;
  (void)L;
  memset(&w, 0, sizeof w);
  if ((c->rfd < 0 && c->wfd < 0) || !stat_fd(c->rfd, &w.rdev, &w.rino) ||
      !stat_fd(c->wfd, &w.wdev, &w.wino)) {
    snprintf(err, errsize, "cannot send a closed Connection");
    return 0;
  }
  w.rfd = c->rfd;
  w.wfd = c->wfd;
  w.orig_rfd = c->orig_rfd;
  w.orig_wfd = c->orig_wfd;
  w.is_socket = c->is_socket;
  if (!ct_buf_reserve(b, sizeof w)) {
    snprintf(err, errsize, "not enough memory");
    return 0;
  }
  memcpy(b->p + b->len, &w, sizeof w);
  b->len += sizeof w;
  return 1;
}

/* a duplicate of the inherited descriptor fd, if it is the same file */
static int dup_same (int fd, uint64_t dev, uint64_t ino) {
  uint64_t d, i;
  if (fd < 0) return -1;
  if (!stat_fd(fd, &d, &i) || d != dev || i != ino) return -2;
  return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/* the same, trying the number the descriptor had where it was made when
   this one is not it: a connection received (so duplicated under another
   number) and sent back to the process that made it, or to a sibling */
static int dup_inherited (int fd, int orig, uint64_t dev, uint64_t ino) {
  int r = dup_same(fd, dev, ino);
  if (r == -2 && orig >= 0 && orig != fd) r = dup_same(orig, dev, ino);
  return r;
}

static int conn_decode (lua_State *L, const char *p, size_t n, char *err, size_t errsize) {
  conn_wire w;
  int rfd, wfd;
  if (n != sizeof w) {
    snprintf(err, errsize, "malformed message");
    return 0;
  }
  memcpy(&w, p, sizeof w);
  rfd = dup_inherited(w.rfd, w.orig_rfd, w.rdev, w.rino);
  wfd = w.is_socket && w.wfd == w.rfd ? rfd
                                      : dup_inherited(w.wfd, w.orig_wfd, w.wdev, w.wino);
  if (rfd < -1 || wfd < -1 || (rfd < 0 && wfd < 0)) {
    if (rfd >= 0) close(rfd);
    if (wfd >= 0 && wfd != rfd) close(wfd);
    snprintf(err, errsize, "received a Connection that this process did not inherit");
    return 0;
  }
  {
    conn *c = push_conn(L, rfd, wfd, w.is_socket);
    c->orig_rfd = w.orig_rfd;
    c->orig_wfd = w.orig_wfd;
  }
  return 1;
}

static const ct_codec_ext conn_ext = {&conn_kind, conn_encode, conn_decode};

/* ---- Unix sockets and secrets for the manager ----------------------------------- */

/* private_dir() -> a new directory only the user can enter (mode 0700) */
static int mp_private_dir (lua_State *L) {
  const char *tmp = getenv("TMPDIR");
  char path[256];
  if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 180) tmp = "/tmp";
  snprintf(path, sizeof path, "%s/cthreads-mp-XXXXXX", tmp);
  if (mkdtemp(path) == NULL)
    return luaL_error(L, "cannot make a private directory: %s", strerror(errno));
  chmod(path, 0700);
  lua_pushstring(L, path);
  return 1;
}

static int fill_addr (lua_State *L, struct sockaddr_un *a, const char *path) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a->sun_path)
    return luaL_error(L, "socket path too long: %s", path);
  strcpy(a->sun_path, path);
  return 0;
}

/* listen(path) -> listening connection */
static int mp_listen (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct sockaddr_un a;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  fill_addr(L, &a, path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return luaL_error(L, "cannot listen on %s: %s", path, strerror(e));
  }
  chmod(path, 0600);
  push_conn(L, fd, -1, 1);
  ((conn *)lua_touserdata(L, -1))->readable = 0;
  return 1;
}

/* accept(listener, [timeout]) -> connection, or nil on timeout */
static int mp_accept (lua_State *L) {
  conn *c = toconn(L);
  int ms = -1;
  if (!lua_isnoneornil(L, 2)) ms = (int)(luaL_checknumber(L, 2) * 1e3);
  for (;;) {
    int fd;
    if (wait_fd(L, c->rfd, POLLIN, ms) == 0) {
      lua_pushnil(L);
      return 1;
    }
    fd = accept4(c->rfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
      push_conn(L, fd, fd, 1);
      return 1;
    }
    if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN) {
      lua_pushnil(L);
      lua_pushstring(L, strerror(errno));
      return 2;
    }
  }
}

/* connect(path) -> connection, or nil and a message */
static int mp_connect (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct sockaddr_un a;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r;
  ct_tstate *ts;
  fill_addr(L, &a, path);
  if (fd < 0) return luaL_error(L, "cannot make a socket: %s", strerror(errno));
  ts = ct_detach();
  r = connect(fd, (struct sockaddr *)&a, sizeof a);
  ct_attach(ts, 1);
  if (r != 0) {
    int e = errno;
    close(fd);
    lua_pushnil(L);
    lua_pushfstring(L, "cannot connect to %s: %s", path, strerror(e));
    return 2;
  }
  push_conn(L, fd, fd, 1);
  return 1;
}

/* urandom(n) -> n random bytes */
static int mp_urandom (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  char buf[256];
  int fd;
  size_t got = 0;
  luaL_argcheck(L, n > 0 && n <= (lua_Integer)sizeof buf, 1, "1..256 bytes");
  fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return luaL_error(L, "cannot open /dev/urandom: %s", strerror(errno));
  while (got < (size_t)n) {
    ssize_t r = read(fd, buf + got, (size_t)n - got);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      close(fd);
      return luaL_error(L, "cannot read /dev/urandom");
    }
    got += (size_t)r;
  }
  close(fd);
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* consteq(a, b): compares without leaking where they differ */
static int mp_consteq (lua_State *L) {
  size_t na, nb, i;
  const char *a = luaL_checklstring(L, 1, &na);
  const char *b = luaL_checklstring(L, 2, &nb);
  unsigned char d = (unsigned char)(na != nb);
  size_t n = na < nb ? na : nb;
  for (i = 0; i < n; i++) d |= (unsigned char)(a[i] ^ b[i]);
  lua_pushboolean(L, d == 0);
  return 1;
}

static int mp_unlink (lua_State *L) {
  unlink(luaL_checkstring(L, 1));
  return 0;
}

static int mp_rmdir (lua_State *L) {
  rmdir(luaL_checkstring(L, 1));
  return 0;
}

static const luaL_Reg funcs[] = {
  {"pipe_new", pipe_new},
  {"conn_send", conn_send},
  {"conn_send_bytes", conn_send_bytes},
  {"conn_recv", conn_recv},
  {"conn_recv_bytes", conn_recv_bytes},
  {"conn_poll", conn_poll},
  {"conn_close", conn_close},
  {"conn_info", conn_info},
  {"conn_set_maxmsg", conn_set_maxmsg},
  {"private_dir", mp_private_dir},
  {"listen", mp_listen},
  {"accept", mp_accept},
  {"connect", mp_connect},
  {"urandom", mp_urandom},
  {"consteq", mp_consteq},
  {"unlink", mp_unlink},
  {"rmdir", mp_rmdir},
  {NULL, NULL}
};

void ct_mp_conn_register (lua_State *L) {
  ct_codec_register_ext(0, &conn_ext);
  luaL_setfuncs(L, funcs, 0);
}
