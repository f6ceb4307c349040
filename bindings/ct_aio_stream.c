/*
** asyncio's stream methods: StreamReader's read, readline, readuntil,
** readexactly, at_eof and StreamWriter's write, drain, wait_closed, as C
** functions on the reader and writer objects (tables holding the socket
** at [1]). An operation that would block suspends the
** running task right here: the task is registered as the socket's waiter
** (a registry reference, which the loop's poll hands back when epoll says
** the socket is ready), marked with what to undo if it is cancelled, and
** yields WAIT to the scheduler; the continuation tries again.
*/
#define _GNU_SOURCE  /* memmem */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ct_aio.h"
#include "lauxlib.h"

/* the methods' upvalues, from stream_methods()'s configuration table */
enum {
  SU_WAIT = 1, SU_CANCEL, SU_RAISE, SU_INCOMPLETE, SU_UNDO_KEY, SU_UNDO_ARG_KEY,
  SU_READER, SU_WRITER,
  SU_COUNT = SU_WRITER
};

static const char *const stream_config[SU_COUNT] = {
  "WAIT", "CANCEL", "raise_cancelled", "incomplete", "undo_key", "undo_arg_key",
  "reader", "writer"
};

#define UV(i) lua_upvalueindex(i)

/* the socket of the stream object at 1 (its [1]), or NULL */
static aio_sock *table_sock (lua_State *L) {
  aio_sock *s = NULL;
  if (lua_type(L, 1) != LUA_TTABLE) return NULL;
  if (lua_rawgeti(L, 1, 1) == LUA_TUSERDATA && lua_rawlen(L, -1) == sizeof(aio_sock))
    s = (aio_sock *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return (s != NULL && s->kind == &aio_sock_kind) ? s : NULL;
}

/* is the object at 1 an instance of the class at upvalue 'cls' or of a
   subclass (class.lua's Class:is: the metatable, then its 'super's)? */
static int is_instance (lua_State *L, int cls) {
  int depth, found = 0;
  if (!lua_getmetatable(L, 1)) return 0;
  for (depth = 0; depth < 100 && !found; depth++) {  /* (a cycle ends) */
    if (lua_rawequal(L, -1, UV(cls))) found = 1;
    else if (!lua_istable(L, -1)) break;
    else {
      lua_pushliteral(L, "super");
      lua_rawget(L, -2);
      lua_remove(L, -2);
    }
  }
  lua_pop(L, 1);
  return found;
}

/* the socket of the StreamReader or StreamWriter (upvalue 'cls') at 1: a
   method called on anything else (reader.read(nil), a writer) raises a
   bad-argument error naming the method, as the native threading ones */
static aio_sock *stream_sock_of (lua_State *L, int cls) {
  aio_sock *s = table_sock(L);
  if (s == NULL || !is_instance(L, cls))
    luaL_typeerror(L, 1, cls == SU_READER ? "StreamReader" : "StreamWriter");
  return s;
}

#define reader_sock(L) stream_sock_of(L, SU_READER)
#define writer_sock(L) stream_sock_of(L, SU_WRITER)

/* the socket of a stream object, or a bare socket (the library's waits) */
static aio_sock *any_sock (lua_State *L) {
  aio_sock *s = table_sock(L);
  return s != NULL ? s : aio_checksock(L, 1);
}

/*
** undo_io(task, socket): a task waiting on the socket was cancelled; it
** stops waiting (called through task._undo by Task:cancel)
*/
static int undo_io (lua_State *L) {
  aio_sock *s = aio_checksock(L, 2);
  lua_settop(L, 2);
  if ((s->waiting & AIO_READ) && lua_getiuservalue(L, 2, AIO_UV_READER) &&
      lua_rawequal(L, -1, 1)) {
    lua_pushnil(L);
    lua_setiuservalue(L, 2, AIO_UV_READER);
    s->waiting &= ~AIO_READ;
    s->want &= ~AIO_READ;
    s->loop->nwaiting--;
  }
  lua_settop(L, 2);
  if ((s->waiting & AIO_WRITE) && lua_getiuservalue(L, 2, AIO_UV_WRITER) &&
      lua_rawequal(L, -1, 1)) {
    lua_pushnil(L);
    lua_setiuservalue(L, 2, AIO_UV_WRITER);
    s->waiting &= ~AIO_WRITE;
    s->want &= ~(AIO_WRITE | AIO_DRAIN);
    s->loop->nwaiting--;
  }
  return 0;
}

/*
** Suspends the running task until socket 's' (the object at 1) is ready
** for 'bits', keeping the first 'nargs' stack slots for the continuation k.
*/
static int wait_ready (lua_State *L, aio_sock *s, unsigned bits, int nargs,
                       lua_KFunction k, const char *what) {
  unsigned slot = (bits & AIO_READ) ? AIO_READ : AIO_WRITE;
  int sock = nargs + 1, task = nargs + 2;
  lua_settop(L, nargs);
  if (s->loop->epfd < 0) return luaL_error(L, "Event loop is closed");
  if (lua_type(L, 1) == LUA_TTABLE) lua_rawgeti(L, 1, 1);  /* sock */
  else lua_pushvalue(L, 1);
  if (!aio_push_current_task(L))  /* task */
    return luaL_error(L, "%s called outside a task; start one with asyncio.run(f) "
                      "or loop:run_until_complete(f)", what);
  if (aio_running_loop() != s->loop)
    return luaL_error(L, "the connection belongs to another event loop");
  if (s->waiting & slot)
    return luaL_error(L, "%s called while another task is already waiting on "
                      "this connection", what);
  /* task._undo, task._undo_arg = undo_io, the socket */
  lua_pushvalue(L, UV(SU_UNDO_KEY));
  lua_pushcfunction(L, undo_io);
  lua_rawset(L, task);
  lua_pushvalue(L, UV(SU_UNDO_ARG_KEY));
  lua_pushvalue(L, sock);
  lua_rawset(L, task);
  lua_setiuservalue(L, sock, slot == AIO_READ ? AIO_UV_READER : AIO_UV_WRITER);
  s->want |= bits;
  s->waiting |= slot;
  s->loop->nwaiting++;
  lua_settop(L, nargs);  /* the resume value comes right after the arguments */
  lua_pushvalue(L, UV(SU_WAIT));
  return lua_yieldk(L, 1, (lua_KContext)nargs, k);
}

/* back from a wait: CANCEL as the resume value raises CancelledError */
static void resumed (lua_State *L, int status, lua_KContext ctx) {
  int nargs = (int)ctx;
  if (status != LUA_YIELD) return;
  if (lua_gettop(L) > nargs && lua_rawequal(L, nargs + 1, UV(SU_CANCEL))) {
    lua_pushvalue(L, UV(SU_RAISE));
    lua_call(L, 0, 0);  /* raises */
  }
  lua_settop(L, nargs);
}

/* raises IncompleteReadError for 'partial' (on the top) of 'expected' */
static int incomplete (lua_State *L, const char *expected) {
  lua_pushvalue(L, UV(SU_INCOMPLETE));
  lua_insert(L, -2);
  lua_pushstring(L, expected);
  lua_call(L, 2, 1);
  return lua_error(L);
}

/* ---- reading ------------------------------------------------------------- */

/* finds 'sep' in the buffer from byte 'from' on; -1 if absent */
static long find_sep (const aio_sock *s, size_t from, const char *sep, size_t seplen) {
  const char *base = s->in.p + s->in.off;
  const char *hit;
  if (s->in.len < seplen || from > s->in.len - seplen) return -1;
  if (seplen == 1) hit = memchr(base + from, sep[0], s->in.len - from);
  else hit = memmem(base + from, s->in.len - from, sep, seplen);
  return hit ? (long)(hit - base) : -1;
}

/* pushes data up to and including sep: 1; would block: 0; the stream
   ended first: -1 with what was left pushed */
static int try_readuntil (lua_State *L, aio_sock *s, const char *sep, size_t seplen) {
  size_t from = 0;
  for (;;) {
    long at = find_sep(s, from, sep, seplen);
    long r;
    if (at >= 0) {
      aio_sock_take(L, s, (size_t)at + seplen);
      return 1;
    }
    if (s->in.len >= seplen) from = s->in.len - seplen + 1;
    r = aio_sock_fill(L, s);
    if (r < 0) return 0;
    if (r == 0) {
      aio_sock_take(L, s, s->in.len);
      return -1;
    }
  }
}

/* reader:readline() -> a line with its "\n"; at the end of the stream
   what is left (a last line without "\n", or "") */
static int readline_k (lua_State *L, int status, lua_KContext ctx) {
  aio_sock *s = reader_sock(L);
  resumed(L, status, ctx);
  if (try_readuntil(L, s, "\n", 1) != 0) return 1;
  return wait_ready(L, s, AIO_READ, 1, readline_k, "StreamReader:readline");
}

static int r_readline (lua_State *L) {
  lua_settop(L, 1);
  return readline_k(L, LUA_OK, 1);
}

/* reader:readuntil([sep="\n"]) -> data up to and including sep;
   IncompleteReadError if the stream ends first */
static int readuntil_k (lua_State *L, int status, lua_KContext ctx) {
  aio_sock *s = reader_sock(L);
  size_t seplen;
  const char *sep;
  int r;
  resumed(L, status, ctx);
  sep = luaL_optlstring(L, 2, "\n", &seplen);
  luaL_argcheck(L, seplen > 0, 2, "separator should be at least one-byte string");
  r = try_readuntil(L, s, sep, seplen);
  if (r > 0) return 1;
  if (r < 0) return incomplete(L, "undefined");
  return wait_ready(L, s, AIO_READ, 2, readuntil_k, "StreamReader:readuntil");
}

static int r_readuntil (lua_State *L) {
  lua_settop(L, 2);
  return readuntil_k(L, LUA_OK, 2);
}

/* reader:read([n=-1]) -> up to n bytes, at least one unless the stream
   ended (""); n < 0 reads until the end of the stream */
static int read_k (lua_State *L, int status, lua_KContext ctx) {
  aio_sock *s = reader_sock(L);
  lua_Integer n;
  long r;
  resumed(L, status, ctx);
  n = luaL_optinteger(L, 2, -1);
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  if (n < 0) {  /* everything: gather it in the buffer, then take it all */
    while ((r = aio_sock_fill(L, s)) > 0) {}
    if (r < 0) return wait_ready(L, s, AIO_READ, 2, read_k, "StreamReader:read");
    aio_sock_take(L, s, s->in.len);
    return 1;
  }
  if (s->in.len == 0) {
    r = aio_sock_fill(L, s);
    if (r < 0) return wait_ready(L, s, AIO_READ, 2, read_k, "StreamReader:read");
  }
  aio_sock_take(L, s, s->in.len < (size_t)n ? s->in.len : (size_t)n);
  return 1;
}

static int r_read (lua_State *L) {
  lua_settop(L, 2);
  return read_k(L, LUA_OK, 2);
}

/* reader:readexactly(n) -> n bytes; IncompleteReadError if the stream
   ends first */
static int readexactly_k (lua_State *L, int status, lua_KContext ctx) {
  aio_sock *s = reader_sock(L);
  lua_Integer n;
  resumed(L, status, ctx);
  n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0, 2, "readexactly size can not be less than zero");
  while (s->in.len < (size_t)n) {
    long r = aio_sock_fill(L, s);
    if (r < 0) return wait_ready(L, s, AIO_READ, 2, readexactly_k, "StreamReader:readexactly");
    if (r == 0) {
      aio_sock_take(L, s, s->in.len);
      return incomplete(L, lua_tostring(L, 2));
    }
  }
  aio_sock_take(L, s, (size_t)n);
  return 1;
}

static int r_readexactly (lua_State *L) {
  lua_settop(L, 2);
  return readexactly_k(L, LUA_OK, 2);
}

/* reader:at_eof(): the stream has ended and nothing is left in the buffer */
static int r_at_eof (lua_State *L) {
  aio_sock *s = reader_sock(L);
  lua_pushboolean(L, s->in.len == 0 && (s->eof || s->fd < 0));
  return 1;
}

/* ---- writing --------------------------------------------------------------- */

static int raise_lost (lua_State *L, aio_sock *s) {
  return luaL_error(L, "connection lost: %s", strerror(s->err));
}

/* writer:write(data): never waits; what the kernel does not take is buffered */
static int w_write (lua_State *L) {
  aio_sock *s = writer_sock(L);
  size_t len;
  const char *p = luaL_checklstring(L, 2, &len);
  if (s->fd < 0 || s->closing) return luaL_error(L, "write to a closed connection");
  if (s->shut_wr) return luaL_error(L, "cannot write after write_eof()");
  if (s->err) return raise_lost(L, s);
  if (len == 0) return 0;
  if (s->out.len == 0 && (s->ready & AIO_WRITE)) {
    ssize_t n;
    do n = send(s->fd, p, len, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    if (n >= 0) {
      p += n;
      len -= (size_t)n;
      if (len > 0) s->ready &= ~AIO_WRITE;
    }
    else if (errno == EAGAIN || errno == EWOULDBLOCK) s->ready &= ~AIO_WRITE;
    else {
      s->err = errno;
      return raise_lost(L, s);
    }
    if (len == 0) return 0;
  }
  if (!aio_buf_append(&s->out, p, len))
    return luaL_error(L, "not enough memory for a socket buffer");
  return 0;
}

/* writer:drain(): waits while more than the high-water mark is buffered
   (then until it is down to the low-water mark); raises if the
   connection was lost */
static int drain_k (lua_State *L, int status, lua_KContext ctx) {
  aio_sock *s = writer_sock(L);
  resumed(L, status, ctx);
  if (s->err) return raise_lost(L, s);
  if (s->fd >= 0 && s->out.len > AIO_HIGH_WATER)
    return wait_ready(L, s, AIO_DRAIN, 1, drain_k, "StreamWriter:drain");
  return 0;
}

static int w_drain (lua_State *L) {
  lua_settop(L, 1);
  return drain_k(L, LUA_OK, 1);
}

/* writer:wait_closed(): waits until the socket is closed (after close(),
   once the buffered data is sent) */
static int wait_closed_k (lua_State *L, int status, lua_KContext ctx) {
  aio_sock *s = writer_sock(L);
  resumed(L, status, ctx);
  if (s->fd >= 0)
    return wait_ready(L, s, AIO_DRAIN, 1, wait_closed_k, "StreamWriter:wait_closed");
  return 0;
}

static int w_wait_closed (lua_State *L) {
  lua_settop(L, 1);
  return wait_closed_k(L, LUA_OK, 1);
}

/* socket:wait(bits): waits until the socket is ready for READ or WRITE
   (a listening socket to accept, a connecting one to be connected) */
static int wait_k (lua_State *L, int status, lua_KContext ctx) {
  aio_sock *s = any_sock(L);
  unsigned bits;
  resumed(L, status, ctx);
  if (status == LUA_YIELD) return 0;  /* woken: ready, or closed */
  bits = (unsigned)luaL_checkinteger(L, 2) & (AIO_READ | AIO_WRITE);
  if (s->fd < 0 || (s->ready & bits)) return 0;
  return wait_ready(L, s, bits, 2, wait_k, "asyncio socket wait");
}

static int s_wait (lua_State *L) {
  lua_settop(L, 2);
  return wait_k(L, LUA_OK, 2);
}

static const luaL_Reg stream_methods[] = {
  {"read", r_read},
  {"readline", r_readline},
  {"readuntil", r_readuntil},
  {"readexactly", r_readexactly},
  {"at_eof", r_at_eof},
  {"write", w_write},
  {"drain", w_drain},
  {"wait_closed", w_wait_closed},
  {"wait", s_wait},
  {NULL, NULL}
};

/*
** stream_methods(config) -> {read=, readline=, ...}: the methods, bound to
** the scheduler's markers and callbacks named in stream_config
*/
static int make_stream_methods (lua_State *L) {
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  for (i = 0; i < SU_COUNT; i++)
    if (lua_getfield(L, 1, stream_config[i]) == LUA_TNIL)
      return luaL_error(L, "stream_methods: '%s' missing", stream_config[i]);
  lua_newtable(L);
  lua_insert(L, 2);
  luaL_setfuncs(L, stream_methods, SU_COUNT);
  return 1;
}

static const luaL_Reg stream_funcs[] = {
  {"stream_methods", make_stream_methods},
  {NULL, NULL}
};

void aio_stream_register (lua_State *L) {
  luaL_setfuncs(L, stream_funcs, 0);
}
