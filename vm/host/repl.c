/*
** The REPL: readline editing and a history file, multi-line statements,
** results printed, and the commands :help, :threads, :time STATEMENT and
** :gil. It waits for input detached from the runtime, so threads started
** from the prompt keep running meanwhile.
*/
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

static char history_path[1024];
static int use_readline;

static const char *history_file (void) {
  const char *env = getenv("CTHREADS_HISTORY");
  const char *home = getenv("HOME");
  if (env != NULL) return *env ? env : NULL;  /* empty: no history file */
  if (home == NULL) return NULL;
  snprintf(history_path, sizeof history_path, "%s/.cthreads_history", home);
  return history_path;
}

#if defined(CT_HAVE_READLINE)
/* Ctrl-C at the prompt: drop the line being typed and prompt again */
static int on_signal_event (void) {
  if (ct_take_interrupt()) {
    rl_replace_line("", 0);
    rl_done = 1;
    printf("^C");
  }
  return 0;
}
#endif

/* one line of input, read detached; NULL at end of input */
static char *read_line (const char *prompt) {
  char *line = NULL;
  ct_tstate *ts = ct_detach();
#if defined(CT_HAVE_READLINE)
  if (use_readline) line = readline(prompt);
  else
#endif
  {
    char buf[4096];
    size_t n;
    fputs(prompt, stdout);
    fflush(stdout);
    if (fgets(buf, sizeof buf, stdin) != NULL) {
      n = strlen(buf);
      if (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
      line = strdup(buf);
    }
  }
  ct_attach(ts, 0);
  return line;
}

static void remember (const char *stmt) {
#if defined(CT_HAVE_READLINE)
  const char *file = history_file();
  if (!use_readline || *stmt == '\0') return;
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
   expression to print, else as a statement. Leaves the chunk on the stack;
   '*stmt' receives the whole text (malloc'ed). */
static int compile (lua_State *L, char *first, char **stmt) {
  size_t len = strlen(first);
  char *buf = malloc(len + 1);
  int status;
  memcpy(buf, first, len + 1);
  {
    const char *ret = lua_pushfstring(L, "return %s;", buf);
    status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    lua_remove(L, -2);
    if (status == LUA_OK) { *stmt = buf; return status; }
    lua_pop(L, 1);
  }
  for (;;) {
    char *more;
    size_t mlen;
    status = luaL_loadbuffer(L, buf, len, "=stdin");
    if (!incomplete(L, status)) break;
    more = read_line(PROMPT2);
    if (more == NULL) break;
    mlen = strlen(more);
    buf = realloc(buf, len + mlen + 2);
    buf[len++] = '\n';
    memcpy(buf + len, more, mlen + 1);
    len += mlen;
    free(more);
  }
  *stmt = buf;
  return status;
}

static void print_results (lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, base + 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
      host_report(L, LUA_ERRRUN);
  }
}

static void run_lua (lua_State *L, const char *code) {
  int status = luaL_loadbuffer(L, code, strlen(code), "=repl");
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  host_report(L, status);
}

static void cmd_time (lua_State *L, char *stmt) {
  int base = lua_gettop(L);
  char *whole = NULL;
  struct timespec w0, w1, c0, c1;
  int status;
  while (*stmt == ' ') stmt++;
  if (*stmt == '\0') {
    printf(":time needs a statement, as in  :time for i = 1, 1e7 do end\n");
    return;
  }
  status = compile(L, stmt, &whole);
  clock_gettime(CLOCK_MONOTONIC, &w0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  if (status == LUA_OK) status = host_docall(L, 0, LUA_MULTRET);
  clock_gettime(CLOCK_MONOTONIC, &w1);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  if (status == LUA_OK) print_results(L, base);
  else host_report(L, status);
  lua_settop(L, base);
  {
    double wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) * 1e-9;
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
    printf("wall %.6f s, cpu %.6f s (all threads), GIL %s\n", wall, cpu,
           ct_gil_enabled() ? "on" : "off");
  }
  free(whole);
}

static const char help_text[] =
  "Type Lua statements or expressions; expressions are printed.\n"
  "A statement may continue over several lines (prompt >>).\n"
  "Threads you start keep running while the prompt waits.\n"
  "  :help             this text\n"
  "  :threads          the threads alive now\n"
  "  :time STATEMENT   run STATEMENT, print its wall and CPU time\n"
  "  :gil              whether the GIL is on, and its switch interval\n"
  "Ctrl-C interrupts a running statement (or clears the line); Ctrl-D ends.\n";

static void command (lua_State *L, char *line) {
  if (strcmp(line, ":help") == 0 || strcmp(line, ":h") == 0)
    fputs(help_text, stdout);
  else if (strcmp(line, ":threads") == 0)
    run_lua(L,
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
      "print(('GIL %s, switch interval %g s'):format("
      "threading.gil_enabled() and 'on' or 'off (free-threaded)', "
      "threading.getswitchinterval()))");
  else if (strncmp(line, ":time", 5) == 0 && (line[5] == ' ' || line[5] == '\0'))
    cmd_time(L, line + 5);
  else
    printf("unknown command %s (try :help)\n", line);
  fflush(stdout);
}

void host_repl (lua_State *L) {
  char *line;
  const char *file = history_file();
  use_readline = isatty(0);
#if defined(CT_HAVE_READLINE)
  if (use_readline) {
    rl_readline_name = "cthreads";
    rl_catch_signals = 0;  /* our SIGINT handler; see on_signal_event */
    rl_signal_event_hook = on_signal_event;
    using_history();
    if (file) read_history(file);
  }
#else
  (void)file;
#endif
  while ((line = read_line(PROMPT1)) != NULL) {
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == ':') {
      remember(p);
      command(L, p);
    }
    else if (*p != '\0') {
      int base = lua_gettop(L);
      char *stmt = NULL;
      int status = compile(L, line, &stmt);
      remember(stmt);
      if (status == LUA_OK) status = host_docall(L, 0, LUA_MULTRET);
      if (status == LUA_OK) print_results(L, base);
      else host_report(L, status);
      lua_settop(L, base);
      free(stmt);
    }
    free(line);
    fflush(stdout);
  }
  fputs("\n", stdout);
  fflush(stdout);
}
