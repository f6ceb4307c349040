/*
** cthreads: the command line. Accepts what lua accepts (script and its
** arguments in 'arg' and '...', -e, -l, -i, -v, -E, -W, -, --, LUA_INIT)
** with the same order of actions and the same exit statuses, plus the
** runtime's options (--gil, --no-gil, --switch-interval, --stats,
** --trace, --compare). All real work goes through the embedding API.
**
** One deliberate difference: a script read from a pipe (no arguments,
** stdin not a terminal) that fails makes the exit status 1; lua 5.4.4
** ignores that failure and exits with 0.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cthreads.h"
#include "host.h"
#include "lauxlib.h"
#include "lualib.h"

/* what the command line asks for, besides the runtime's options */
enum {
  HAS_ERROR = 1,   /* bad option (usage printed, exit 1) */
  HAS_I = 2,       /* -i */
  HAS_V = 4,       /* -v (also set by -i) */
  HAS_E = 8,       /* -e */
  HAS_NOENV = 16,  /* -E */
  HAS_GILOPT = 32  /* --gil or --no-gil */
};

typedef struct cmdline {
  int argc;
  char **argv;
  int flags;
  int script;      /* index of the script in argv; argc when there is none */
  int compare;     /* --compare */
} cmdline;

static void usage (const char *badopt) {
  if (badopt[1] == 'e' || badopt[1] == 'l')
    fprintf(stderr, "%s: '%s' needs argument\n", PROGNAME, badopt);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", PROGNAME, badopt);
  host_usage(stderr);
}

void host_usage (FILE *out) {
  fprintf(out,
    "usage: %s [options] [script [args]]\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -v        show version information\n"
    "  -E        ignore environment variables\n"
    "  -W        turn warnings on\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n"
    "  --gil | --no-gil       GIL on, or off (env CTHREADS_GIL=1|0)\n"
    "  --switch-interval=S    the GIL's switch interval in seconds (default 0.005)\n"
    "  --stats                per-thread figures at exit (CPU, GIL held/waited,\n"
    "                         switches, lock waits) on stderr\n"
    "  --trace=FILE           timeline of the threads as Chrome trace-event JSON\n"
    "  --compare              run the script with the GIL on and off, print both timings\n"
    "  --help                 this text\n",
    PROGNAME);
  fflush(out);
}

/* the value of a long option given as --name=VALUE or --name VALUE;
   NULL when 'a' is not that option */
static const char *long_value (const char *a, const char *name, int *i,
                               int argc, char **argv, int *bad) {
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;  /* a longer name */
  if (*i + 1 < argc) return argv[++*i];
  *bad = 1;
  return "";
}

/* one of the runtime's long options; returns 0 if 'argv[*i]' is not one,
   1 when handled, -1 on a bad value (message printed) */
static int runtime_option (cmdline *c, ct_options *o, int *i) {
  const char *a = c->argv[*i];
  const char *v;
  int bad = 0;
  if (strcmp(a, "--gil") == 0) { o->gil = 1; c->flags |= HAS_GILOPT; }
  else if (strcmp(a, "--no-gil") == 0) { o->gil = 0; c->flags |= HAS_GILOPT; }
  else if (strcmp(a, "--stats") == 0) o->stats = 1;
  else if (strcmp(a, "--compare") == 0) c->compare = 1;
  else if (strcmp(a, "--help") == 0) { host_usage(stdout); exit(EXIT_SUCCESS); }
  else if ((v = long_value(a, "--switch-interval", i, c->argc, c->argv, &bad))) {
    char *end;
    double s = strtod(v, &end);
    if (bad || *v == '\0' || *end != '\0' || !(s > 0)) {
      fprintf(stderr, "%s: --switch-interval needs a positive number of "
              "seconds, as in --switch-interval=0.005 (got '%s')\n", PROGNAME, v);
      return -1;
    }
    o->switch_interval = s > 1e6 ? 1e6 : s;  /* as setswitchinterval */
  }
  else if ((v = long_value(a, "--trace", i, c->argc, c->argv, &bad))) {
    size_t n = strlen(v);
    if (bad || *v == '\0') {
      fprintf(stderr, "%s: --trace needs a file name, as in --trace=out.json\n",
              PROGNAME);
      return -1;
    }
    /* 'cthreads --trace script.lua' would overwrite the script */
    if (n >= 4 && strcmp(v + n - 4, ".lua") == 0) {
      fprintf(stderr, "%s: --trace would overwrite the Lua file '%s'; "
              "name the trace file, as in --trace=out.json\n", PROGNAME, v);
      return -1;
    }
    o->trace_file = v;
  }
  else return 0;
  return 1;
}

/* CTHREADS_GIL and CTHREADS_TIME_SCALE with values that mean nothing are
   errors, as python's PYTHON_GIL=abc is, rather than a silent guess (an
   unparsable scale made every sleep 0). Unchecked under -E, which ignores
   them, and CTHREADS_GIL under --gil or --no-gil, which override it. */
static int check_environment (const cmdline *c) {
  const char *gil = getenv("CTHREADS_GIL");
  const char *scale = getenv("CTHREADS_TIME_SCALE");
  if (c->flags & HAS_NOENV) return 1;
  if (!(c->flags & HAS_GILOPT) && gil != NULL && *gil != '\0' &&
      strcmp(gil, "0") != 0 && strcmp(gil, "1") != 0) {
    fprintf(stderr, "%s: CTHREADS_GIL must be 0 or 1 (got '%s')\n", PROGNAME, gil);
    return 0;
  }
  if (scale != NULL && *scale != '\0') {
    char *end;
    double v = strtod(scale, &end);
    if (*end != '\0' || !(v >= 0) || v > 1e9) {
      fprintf(stderr, "%s: CTHREADS_TIME_SCALE must be a number from 0 to 1e9 "
              "(got '%s')\n", PROGNAME, scale);
      return 0;
    }
  }
  return 1;
}

/* Reads the options up to the script, as lua does. Sets c->script (argc
   when there is no script) and c->flags; HAS_ERROR after a bad option. */
static void collect_args (cmdline *c, ct_options *o) {
  char **argv = c->argv;
  int i;
  c->flags = 0;
  for (i = 1; i < c->argc; i++) {
    const char *a = argv[i];
    c->script = i;
    if (a[0] != '-') return;                  /* the script */
    switch (a[1]) {
      case '\0': return;                      /* '-': the script is stdin */
      case '-': {
        int r;
        if (a[2] == '\0') { c->script = i + 1; return; }  /* '--' */
        r = runtime_option(c, o, &i);
        if (r == 0) { usage(a); c->flags = HAS_ERROR; return; }
        if (r < 0) { c->flags = HAS_ERROR; return; }
        break;
      }
      case 'E': case 'W': case 'i': case 'v':
        if (a[2] != '\0') { usage(a); c->flags = HAS_ERROR; return; }
        if (a[1] == 'E') c->flags |= HAS_NOENV;
        if (a[1] == 'i') c->flags |= HAS_I | HAS_V;  /* -i implies -v */
        if (a[1] == 'v') c->flags |= HAS_V;
        break;
      case 'e': case 'l':
        if (a[1] == 'e') c->flags |= HAS_E;
        if (a[2] == '\0') {  /* the argument is the next word */
          i++;
          if (i >= c->argc || argv[i][0] == '-') {
            usage(a);
            c->flags = HAS_ERROR;
            return;
          }
        }
        break;
      default:
        usage(a);
        c->flags = HAS_ERROR;
        return;
    }
  }
  c->script = c->argc;
}

/* 'arg': the script at 0, its arguments at 1.., what came before it at
   negative indices; with no script the interpreter is arg[0] */
static void create_arg_table (lua_State *L, int argc, char **argv, int script) {
  int i;
  if (script == argc) script = 0;
  lua_createtable(L, argc - (script + 1), script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dofile (lua_State *L, const char *name) {
  int status = luaL_loadfile(L, name);
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  return host_report(L, status);
}

static int handle_luainit (lua_State *L) {
  const char *name = "=LUA_INIT_5_4";
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  return host_dostring(L, init, name);
}

/* -l mod, -l g=mod: g = require(mod) */
static int dolibrary (lua_State *L, char *spec) {
  char *modname = strchr(spec, '=');
  int status;
  if (modname == NULL) modname = spec;
  else *modname++ = '\0';  /* the global's name ends at the '=' */
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  status = host_docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, spec);
  return host_report(L, status);
}

/* -e, -l and -W in command-line order; 0 when one of them fails */
static int run_args (lua_State *L, cmdline *c) {
  char **argv = c->argv;
  int i;
  for (i = 1; i < c->script; i++) {
    const char *a = argv[i];
    if (a[1] == 'e' || a[1] == 'l') {
      char *extra = (char *)a + 2;
      int status;
      if (*extra == '\0') extra = argv[++i];
      status = a[1] == 'e' ? host_dostring(L, extra, "=(command line)")
                           : dolibrary(L, extra);
      if (status != LUA_OK) return 0;
    }
    else if (a[1] == 'W')
      lua_warning(L, "@on", 0);
    else if (strcmp(a, "--switch-interval") == 0 || strcmp(a, "--trace") == 0)
      i++;  /* skip the option's value */
  }
  return 1;
}

/* pushes arg[1..#arg] (which -e code may have changed) */
static int push_args (lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

static int handle_script (lua_State *L, char **argv) {
  const char *fname = argv[0];
  int status;
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    fname = NULL;  /* stdin */
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = push_args(L);
    status = host_docall(L, n, LUA_MULTRET);
  }
  return host_report(L, status);
}

static void print_version (void) {
  printf("%s  %s\n", CTHREADS_VERSION, LUA_COPYRIGHT);
  fflush(stdout);
}

/* everything that runs Lua code, in protected mode as lua.c does, so that
   an error outside a chunk ('arg' not a table...) is reported too */
static int pmain (lua_State *L) {
  cmdline *c = (cmdline *)lua_touserdata(L, 1);
  int argc = c->argc;
  char **argv = c->argv;
  lua_settop(L, 0);
  create_arg_table(L, argc, argv, c->script);
  lua_gc(L, LUA_GCGEN, 0, 0);  /* as lua.c: generational collection */
  if (!(c->flags & HAS_NOENV) && handle_luainit(L) != LUA_OK)
    return 0;
  if (!run_args(L, c))
    return 0;
  if (c->script < argc && handle_script(L, argv + c->script) != LUA_OK)
    return 0;
  /* a Ctrl-C that cut a read short just as the script ended: the error
     the script would have got at its next call */
  ct_check_interrupt(L);
  if (c->flags & HAS_I)
    host_repl(L);
  else if (c->script == argc && !(c->flags & (HAS_E | HAS_V))) {
    if (isatty(0)) {
      print_version();
      host_repl(L);
    }
    else if (dofile(L, NULL) != LUA_OK)  /* lua ignores this failure */
      return 0;
  }
  lua_pushboolean(L, 1);
  return 1;
}

int main (int argc, char **argv) {
  ct_options o;
  cmdline c;
  lua_State *L;
  char err[256];
  int status, ok;
  memset(&c, 0, sizeof c);
  c.argc = argc;
  c.argv = argv;
  ct_options_init(&o);
  collect_args(&c, &o);
  if (c.flags & HAS_ERROR) return EXIT_FAILURE;
  if (!check_environment(&c)) return EXIT_FAILURE;
  if (c.compare)  /* runs both modes itself, whatever was asked */
    return host_compare(argc, argv, c.script, (c.flags & HAS_E) != 0);
  if (!o.gil && !ct_nogil_supported()) {
    fprintf(stderr, "%s: --no-gil (or CTHREADS_GIL=0) is not available yet: the "
            "free-threaded VM is not implemented in this build; run with --gil\n",
            PROGNAME);
    return 2;
  }
  if (c.flags & HAS_V) print_version();  /* first, as lua does */
  o.ignore_env = (c.flags & HAS_NOENV) != 0;
  if (o.ignore_env && !(c.flags & HAS_GILOPT))
    o.gil = 0;  /* -E: CTHREADS_GIL is ignored too, as python -E ignores PYTHON_GIL */
  L = ct_open(&o, err, sizeof err);
  if (L == NULL) {
    fprintf(stderr, "%s: %s\n", PROGNAME, err);
    return EXIT_FAILURE;
  }
  ct_catch_sigint();
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &c);
  status = lua_pcall(L, 1, 1, 0);
  ok = lua_toboolean(L, -1) && status == LUA_OK;
  host_report(L, status);
  lua_settop(L, 0);
  /* a Ctrl-C that ended the script ends the program: threads that would
     keep it alive are not waited for */
  if (!ok && host_interrupted) ct_abandon_threads();
  if (ct_close(L)) ok = 0;  /* a Ctrl-C while waiting for the threads */
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
