/*
** multiprocessing, native half: child processes. fork runs a Lua
** bootstrap in the child and leaves with its exit code, never returning to
** the caller's frames. The parent keeps a process handle: a pidfd to wait
** on (detached, with a timeout), and the exit status once reaped.
** Daemon children still alive when the process exits are terminated.
*/
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ct_codec.h"
#include "ct_handle.h"
#include "ct_internal.h"
#include "ct_mp.h"
#include "ct_shm.h"
#include "lauxlib.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

typedef struct proc_handle {
  const ct_kind *kind;
  pid_t pid;
  pid_t owner;       /* the parent: only it can wait for the child */
  int pidfd;         /* -1 when closed or unavailable */
  int waiters;       /* threads polling pidfd (under lock) */
  int reaped;        /* atomic */
  int exitcode;
  pthread_mutex_t lock;
} proc_handle;

static const ct_kind proc_kind = {"process handle"};

/* ---- this process's children, for the exit handler ------------------------- */

typedef struct child { pid_t pid; int daemon; } child;
static pthread_mutex_t children_lock = PTHREAD_MUTEX_INITIALIZER;
static child *children = NULL;
static size_t nchildren = 0, capchildren = 0;
static pid_t children_owner = 0;

static void children_add (pid_t pid, int daemon) {
  pthread_mutex_lock(&children_lock);
  if (nchildren == capchildren) {
    size_t nc = capchildren ? capchildren * 2 : 16;
    child *np = (child *)realloc(children, nc * sizeof(child));
    if (np == NULL) {
      pthread_mutex_unlock(&children_lock);
      return;
    }
    children = np;
    capchildren = nc;
  }
  children[nchildren].pid = pid;
  children[nchildren].daemon = daemon;
  nchildren++;
  pthread_mutex_unlock(&children_lock);
}

static void children_remove (pid_t pid) {
  size_t i;
  pthread_mutex_lock(&children_lock);
  for (i = 0; i < nchildren; i++) {
    if (children[i].pid == pid) {
      children[i] = children[--nchildren];
      break;
    }
  }
  pthread_mutex_unlock(&children_lock);
}

/* Terminates the daemon children still listed, and reaps them: the exit
   handler's safety net behind multiprocessing._shutdown. */
void ct_mp_kill_daemon_children (void) {
  size_t i;
  double until;
  if (children_owner != getpid()) return;
  pthread_mutex_lock(&children_lock);
  for (i = 0; i < nchildren; i++)
    if (children[i].daemon) kill(children[i].pid, SIGTERM);
  until = ct_now() + 1.0;
  for (i = 0; i < nchildren; i++) {
    if (!children[i].daemon) continue;
    while (waitpid(children[i].pid, NULL, WNOHANG) == 0) {
      struct timespec pause = {0, 2000000};
      if (ct_now() > until) {
        kill(children[i].pid, SIGKILL);
        waitpid(children[i].pid, NULL, 0);
        break;
      }
      nanosleep(&pause, NULL);
    }
  }
  pthread_mutex_unlock(&children_lock);
}

static void children_after_fork_child (long pid) {
  (void)pid;
  pthread_mutex_init(&children_lock, NULL);
  nchildren = 0;
  children_owner = getpid();
}

/* the last act of a child: flush, drop shared references, leave */
void ct_mp_child_exit (int code) {
  fflush(NULL);
  ct_mp_kill_daemon_children();
  ct_shm_release_all();
  ct_buf_free_spare();
  _exit(code & 0xff);
}

/* ---- fork ------------------------------------------------------------------ */

static int proc_gc (lua_State *L) {
  proc_handle *h = (proc_handle *)lua_touserdata(L, 1);
  if (h->owner == getpid() && h->pidfd >= 0) {
    close(h->pidfd);
    h->pidfd = -1;
  }
  return 0;
}

/* fork(bootstrap, self, daemon) -> handle, pid (in the parent). The child
   runs bootstrap(self) and exits with the integer it returns. */
static int mp_fork (lua_State *L) {
  proc_handle *h;
  long pid;
  int daemon = lua_toboolean(L, 3);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (ct_shm_init() != 0)
    return luaL_error(L, "cannot start a process: no shared memory for multiprocessing");
  h = (proc_handle *)ct_newhandle(L, sizeof(proc_handle), &proc_kind);
  memset((char *)h + sizeof(h->kind), 0, sizeof(*h) - sizeof(h->kind));
  h->pidfd = -1;
  pthread_mutex_init(&h->lock, NULL);
  if (luaL_newmetatable(L, "cthreads.process handle")) {
    lua_pushcfunction(L, proc_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  pid = ct_fork();
  if (pid < 0) return luaL_error(L, "cannot start a process: %s", strerror(errno));
  if (pid == 0) {
    int code = 1;
    /* a fresh Lua thread, so that tracebacks in the child start at its
       bootstrap rather than at the parent's frames */
    lua_State *L1 = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_xmove(L, L1, 2);
    L = L1;
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      const char *msg = lua_tostring(L, -1);
      fprintf(stderr, "cthreads: process bootstrap failed: %s\n",
              msg ? msg : "(error object is not a string)");
    }
    else if (lua_isinteger(L, -1)) code = (int)lua_tointeger(L, -1);
    else code = 0;
    ct_mp_child_exit(code);
  }
  h->pid = (pid_t)pid;
  h->owner = getpid();
  h->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (h->pidfd < 0) h->pidfd = -1;
  children_add((pid_t)pid, daemon);
  lua_pushinteger(L, pid);
  return 2;
}

/* ---- waiting --------------------------------------------------------------- */

static int decode_status (int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return -WTERMSIG(st);
  return 255;
}

/* non-blocking: reaps the child if it has ended; 1 if reaped */
static int try_reap (proc_handle *h) {
  if (__atomic_load_n(&h->reaped, __ATOMIC_ACQUIRE)) return 1;
  pthread_mutex_lock(&h->lock);
  if (!h->reaped) {
    int st;
    pid_t r = waitpid(h->pid, &st, WNOHANG);
    if (r == h->pid || (r < 0 && errno == ECHILD)) {
      h->exitcode = r == h->pid ? decode_status(st) : 255;
      __atomic_store_n(&h->reaped, 1, __ATOMIC_RELEASE);
      children_remove(h->pid);
      if (h->waiters == 0 && h->pidfd >= 0) {
        close(h->pidfd);
        h->pidfd = -1;
      }
    }
  }
  pthread_mutex_unlock(&h->lock);
  return h->reaped;
}

static proc_handle *check_own (lua_State *L) {
  proc_handle *h = (proc_handle *)ct_checkhandle(L, 1, &proc_kind);
  if (h->owner != getpid()) luaL_error(L, "can only test a child process");
  return h;
}

static double remaining_ms (const struct timespec *dl) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(dl->tv_sec - now.tv_sec) * 1e3 +
         (double)(dl->tv_nsec - now.tv_nsec) * 1e-6;
}

/* join(h, [timeout]) -> true if the child has ended (and is reaped) */
static int mp_join (lua_State *L) {
  proc_handle *h = check_own(L);
  struct timespec tsb;
  struct timespec *dl = ct_opt_deadline(L, 2, &tsb);
  double backoff = 1;
  while (!try_reap(h)) {
    int fd, r, ms = -1;
    ct_tstate *ts;
    if (dl != NULL) {
      double left = remaining_ms(dl);
      if (left <= 0) break;
      ms = left > 1e9 ? 1000000000 : (int)left + 1;
    }
    pthread_mutex_lock(&h->lock);
    fd = h->pidfd;
    if (fd >= 0) h->waiters++;
    pthread_mutex_unlock(&h->lock);
    ts = ct_detach();
    if (fd >= 0) {
      struct pollfd p = {fd, POLLIN, 0};
      r = poll(&p, 1, ms);
    }
    else {  /* no pidfd: poll the status with a growing pause */
      struct timespec pause;
      double s = backoff * 1e-3;
      if (ms >= 0 && s * 1e3 > ms) s = ms * 1e-3;
      pause.tv_sec = (time_t)s;
      pause.tv_nsec = (long)((s - (double)pause.tv_sec) * 1e9);
      r = nanosleep(&pause, NULL);
      if (backoff < 50) backoff *= 2;
    }
    ct_attach(ts, 1);
    if (fd >= 0) {
      pthread_mutex_lock(&h->lock);
      h->waiters--;
      if (h->reaped && h->waiters == 0 && h->pidfd >= 0) {
        close(h->pidfd);
        h->pidfd = -1;
      }
      pthread_mutex_unlock(&h->lock);
    }
    if (r < 0 && errno == EINTR) ct_check_interrupt(L);
  }
  lua_pushboolean(L, try_reap(h));
  return 1;
}

/* poll(h) -> exit code, or nil while running */
static int mp_poll (lua_State *L) {
  proc_handle *h = (proc_handle *)ct_checkhandle(L, 1, &proc_kind);
  if (h->owner != getpid()) {  /* a copy inherited by a grandchild */
    if (kill(h->pid, 0) == 0) lua_pushnil(L);
    else lua_pushinteger(L, 255);
    return 1;
  }
  if (try_reap(h)) lua_pushinteger(L, h->exitcode);
  else lua_pushnil(L);
  return 1;
}

/* signal(h, signo): only while not reaped (the pid is still the child's) */
static int mp_signal (lua_State *L) {
  proc_handle *h = check_own(L);
  int sig = (int)luaL_checkinteger(L, 2);
  pthread_mutex_lock(&h->lock);
  if (!h->reaped) kill(h->pid, sig);
  pthread_mutex_unlock(&h->lock);
  return 0;
}

static int mp_cpu_count (lua_State *L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) lua_pushnil(L);
  else lua_pushinteger(L, n);
  return 1;
}

/* exit(code): leaves a child process at once, as Python's os._exit */
static int mp_exit (lua_State *L) {
  ct_mp_child_exit((int)luaL_optinteger(L, 1, 0));
  return 0;
}

static int mp_kill_daemons (lua_State *L) {
  (void)L;
  ct_mp_kill_daemon_children();
  return 0;
}

static const luaL_Reg funcs[] = {
  {"fork", mp_fork},
  {"join", mp_join},
  {"poll", mp_poll},
  {"signal", mp_signal},
  {"cpu_count", mp_cpu_count},
  {"_exit", mp_exit},
  {"kill_daemons", mp_kill_daemons},
  {NULL, NULL}
};

static void at_exit (void) {
  ct_mp_kill_daemon_children();
  ct_buf_free_spare();
}

void ct_mp_process_register (lua_State *L) {
  static int once = 0;
  if (!once) {
    once = 1;
    children_owner = getpid();
    ct_atfork(NULL, NULL, children_after_fork_child);
    atexit(at_exit);
  }
  luaL_setfuncs(L, funcs, 0);
  lua_pushinteger(L, SIGTERM);
  lua_setfield(L, -2, "SIGTERM");
  lua_pushinteger(L, SIGKILL);
  lua_setfield(L, -2, "SIGKILL");
}
