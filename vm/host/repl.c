/*
** The REPL: readline editing and a history file, multi-line statements,
** results printed, and the commands :help, :threads, :time STATEMENT and
** :gil. It behaves as lua's (prompts from _PROMPT/_PROMPT2, a leading '='
** means 'return', errors reported without the program name) and waits
** for input detached from the runtime, so threads started from the
** prompt keep running meanwhile. Ctrl-C clears the line being typed (or
** drops a statement being continued); while a statement runs, it raises
** "interrupted!" in it.
*/
#define _GNU_SOURCE  /* ppoll */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cthreads.h"
#include "host.h"
#include "lauxlib.h"

#if defined(CT_HAVE_READLINE)
#include <readline/history.h>
#include <readline/readline.h>
#endif

#define PROMPT1 "> "
#define PROMPT2 ">> "
#define HISTORY_LINES 1000

static char history_path[1024];
static int use_readline;
static int interrupted;  /* the last read_line was cut by Ctrl-C */
static int keep_history = 1;
static int echo_input;   /* input is not a terminal: echo what is read */

/* CTHREADS_HISTORY (empty: none), else ~/.cthreads_history */
static const char *history_file (void) {
  const char *env = getenv("CTHREADS_HISTORY");
  const char *home = getenv("HOME");
  if (env != NULL) return *env ? env : NULL;
  if (home == NULL || *home == '\0') return NULL;
  snprintf(history_path, sizeof history_path, "%s/.cthreads_history", home);
  return history_path;
}

#if defined(CT_HAVE_READLINE)
/* readline's input function: one byte from the terminal. Ctrl-C (the
   SIGINT handler only sets a flag) ends the line as Enter would, and
   read_line drops that line; readline's own reader would just go back
   to waiting for a key. SIGINT is unblocked only inside ppoll, so one
   that comes just before the wait is not missed either. */
static int repl_getc (FILE *f) {
  sigset_t block, old, during;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  for (;;) {
    struct pollfd pfd;
    unsigned char c;
    ssize_t n;
    int r;
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (ct_take_interrupt()) {
      pthread_sigmask(SIG_SETMASK, &old, NULL);
      interrupted = 1;
      fputs("^C", rl_outstream ? rl_outstream : stdout);
      return '\n';
    }
    during = old;
    sigdelset(&during, SIGINT);
    pfd.fd = fileno(f);
    pfd.events = POLLIN;
    pfd.revents = 0;
    r = ppoll(&pfd, 1, NULL, &during);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r < 0) {
      if (errno == EINTR) continue;  /* the flag is checked above */
      return EOF;
    }
    n = read(pfd.fd, &c, 1);
    if (n == 1) return c;
    if (n == 0 || errno != EINTR) return EOF;
  }
}
#endif

/* a line without the limit of a fixed buffer; NULL at end of input or on
   Ctrl-C (then 'interrupted' is set) */
static char *read_plain_line (const char *prompt) {
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  fputs(prompt, stdout);
  fflush(stdout);
  errno = 0;
  n = getline(&buf, &cap, stdin);
  if (n < 0) {
    if (errno == EINTR && ct_take_interrupt()) {
      clearerr(stdin);
      interrupted = 1;
    }
    free(buf);
    return NULL;
  }
  if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = '\0';
  if (echo_input) {  /* as lua with readline does on piped input */
    fputs(buf, stdout);
    fputs("\n", stdout);
    fflush(stdout);  /* before what the statement writes to stderr */
  }
  return buf;
}

/* the prompt: tostring(_PROMPT) (or _PROMPT2), else the default; left on
   the stack to keep it alive */
static const char *get_prompt (lua_State *L, int firstline) {
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushstring(L, firstline ? PROMPT1 : PROMPT2);
  }
  else {
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
  }
  return lua_tostring(L, -1);
}

/* One line of input, read detached so that other threads run; NULL at
   end of input or when Ctrl-C cut it ('interrupted' says which). */
static char *read_line (lua_State *L, int firstline) {
  char *line;
  const char *prompt = get_prompt(L, firstline);
  ct_tstate *ts;
  ct_take_interrupt();  /* a Ctrl-C that came as the last statement ended */
  interrupted = 0;
  ts = ct_detach();
#if defined(CT_HAVE_READLINE)
  if (use_readline) {
    line = readline(prompt);
    if (interrupted) {  /* "^C" and the newline are on the screen */
      free(line);
      line = NULL;
    }
  }
  else
#endif
  {
    line = read_plain_line(prompt);
    if (interrupted) {
      fputs("\n", stdout);
      fflush(stdout);
    }
  }
  ct_attach(ts, 0);
  lua_pop(L, 1);  /* the prompt */
  return line;
}

static void remember (const char *stmt) {
#if defined(CT_HAVE_READLINE)
  const char *file = history_file();
  if (!use_readline || !keep_history || *stmt == '\0') return;
  add_history(stmt);
  if (file) append_history(1, file);
#else
  (void)stmt;
#endif
}

static int incomplete (lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (len >= 5 && strcmp(msg + len - 5, "<eof>") == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Compiles 'first' (and more lines while it is incomplete): as an
   expression whose values are printed, else as a statement. Leaves the
   chunk (or the error message) on the stack and returns the status; -1
   when Ctrl-C dropped the statement (nothing pushed). */
static int compile (lua_State *L, const char *first) {
  luaL_Buffer b;
  const char *code;
  size_t len;
  int status;
  if (first[0] == '=')  /* lua 5.2's '=expr' */
    lua_pushfstring(L, "return %s", first + 1);
  else
    lua_pushstring(L, first);
  code = lua_pushfstring(L, "return %s;", lua_tostring(L, -1));
  status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);  /* the 'return' text */
    remember(lua_tostring(L, -2));
    lua_remove(L, -2);  /* the line */
    return LUA_OK;
  }
  lua_pop(L, 2);
  for (;;) {  /* a statement, maybe over several lines */
    char *more;
    code = lua_tolstring(L, -1, &len);
    status = luaL_loadbuffer(L, code, len, "=stdin");
    if (!incomplete(L, status)) break;
    more = read_line(L, 0);
    if (more == NULL) {
      if (interrupted) {  /* Ctrl-C: forget the whole statement */
        remember(lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
      }
      status = luaL_loadbuffer(L, code, len, "=stdin");  /* the error again */
      break;
    }
    luaL_buffinit(L, &b);
    lua_pushvalue(L, -2);
    luaL_addvalue(&b);
    luaL_addchar(&b, '\n');
    luaL_addstring(&b, more);
    free(more);
    luaL_pushresult(&b);
    lua_remove(L, -2);
  }
  remember(lua_tostring(L, -2));
  lua_remove(L, -2);  /* the text */
  return status;
}

/* prints the values above 'base' with the global print, as lua does */
static void print_results (lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, base + 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
      fprintf(stderr, "error calling 'print' (%s)\n", lua_tostring(L, -1));
      fflush(stderr);
      lua_pop(L, 1);
    }
  }
}

static void run_lua (lua_State *L, const char *code) {
  int status = luaL_loadbuffer(L, code, strlen(code), "=repl");
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  host_report(L, status);
}

static double elapsed (const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static void cmd_time (lua_State *L, const char *stmt) {
  int base = lua_gettop(L);
  struct timespec w0, w1, c0, c1;
  int status;
  while (*stmt == ' ' || *stmt == '\t') stmt++;
  if (*stmt == '\0') {
    printf(":time needs a statement, as in  :time for i = 1, 1e7 do end\n");
    return;
  }
  keep_history = 0;  /* the whole ':time' line is in the history already */
  status = compile(L, stmt);
  keep_history = 1;
  if (status < 0) return;
  if (status != LUA_OK) {  /* a syntax error: nothing ran, nothing to time */
    host_report(L, status);
    lua_settop(L, base);
    return;
  }
  clock_gettime(CLOCK_MONOTONIC, &w0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  status = host_docall(L, 0, LUA_MULTRET);
  clock_gettime(CLOCK_MONOTONIC, &w1);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  if (status == LUA_OK) print_results(L, base);
  else host_report(L, status);
  lua_settop(L, base);
  printf("wall %.6f s, cpu %.6f s (all threads), GIL %s\n", elapsed(&w0, &w1),
         elapsed(&c0, &c1), ct_gil_enabled() ? "on" : "off");
}

static const char help_text[] =
  "Type Lua statements or expressions; the values of expressions are printed.\n"
  "A statement may continue over several lines (prompt >>).\n"
  "Threads you start keep running while the prompt waits for you.\n"
  "  :help             this text\n"
  "  :threads          the threads alive now\n"
  "  :time STATEMENT   run STATEMENT, print its wall and CPU time\n"
  "  :gil              whether the GIL is on, and its switch interval\n"
  "Ctrl-C interrupts a running statement (or clears the line); Ctrl-D ends.\n";

static void command (lua_State *L, const char *line) {
  if (strcmp(line, ":help") == 0 || strcmp(line, ":h") == 0 || strcmp(line, ":?") == 0)
    fputs(help_text, stdout);
  else if (strcmp(line, ":threads") == 0)
    run_lua(L,
      "local threading = require('threading')\n"
      "local ts = threading.enumerate()\n"
      "print(('%-4s %-20s %-20s %-8s %-7s %s'):format('#', 'name', 'ident', "
      "'tid', 'daemon', 'alive'))\n"
      "for i, t in ipairs(ts) do\n"
      "  print(('%-4d %-20s %-20s %-8s %-7s %s'):format(i, tostring(t.name), "
      "tostring(t.ident), tostring(t.native_id), tostring(t.daemon), "
      "tostring(t:is_alive())))\n"
      "end\n"
      "print(#ts .. ' thread(s)')");
  else if (strcmp(line, ":gil") == 0)
    run_lua(L,
      "local threading = require('threading')\n"
      "print(('GIL %s, switch interval %g s'):format("
      "threading.gil_enabled() and 'on' or 'off (free-threaded)', "
      "threading.getswitchinterval()))");
  else if (strncmp(line, ":time", 5) == 0 && (line[5] == ' ' || line[5] == '\t' ||
                                              line[5] == '\0'))
    cmd_time(L, line + 5);
  else
    printf("unknown command %s (try :help)\n", line);
  fflush(stdout);
}

static void start_history (void) {
#if defined(CT_HAVE_READLINE)
  const char *file = history_file();
  if (!use_readline) return;
  rl_readline_name = "cthreads";
  rl_catch_signals = 0;  /* our SIGINT handler; see repl_getc */
  rl_getc_function = repl_getc;
  using_history();
  stifle_history(HISTORY_LINES);
  if (file && read_history(file) != 0) {
    FILE *f = fopen(file, "a");  /* append_history needs the file to exist */
    if (f) fclose(f);
  }
#endif
}

static void end_history (void) {
#if defined(CT_HAVE_READLINE)
  const char *file = history_file();
  if (use_readline && file) history_truncate_file(file, HISTORY_LINES);
#endif
}

void host_repl (lua_State *L) {
  const char *oldprogname = host_progname;
  char *line;
  host_progname = NULL;  /* as lua: no program name on errors here */
  use_readline = isatty(0);
  echo_input = !use_readline;
  start_history();
  for (;;) {
    const char *p;
    line = read_line(L, 1);
    if (line == NULL) {
      if (interrupted) continue;  /* Ctrl-C at the prompt: a new prompt */
      break;
    }
    p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (p[0] == ':' && p[1] != ':') {  /* a command (but '::label::' is Lua) */
      remember(p);
      command(L, p);
    }
    else if (*p != '\0') {
      int base = lua_gettop(L);
      int status = compile(L, line);
      if (status >= 0) {
        if (status == LUA_OK) status = host_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L, base);
        else host_report(L, status);
      }
      lua_settop(L, base);
    }
    free(line);
    fflush(stdout);
  }
  end_history();
  fputs("\n", stdout);
  fflush(stdout);
  host_progname = oldprogname;
}
