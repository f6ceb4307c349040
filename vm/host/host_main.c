/*
** cthreads: the command line. Accepts what lua accepts (script and its
** arguments in 'arg', -e, -l, -i, -v, -E, -W, -, --) plus the runtime's
** options (--gil, --no-gil, --switch-interval, --stats, --trace,
** --compare). All real work goes through the embedding API (cthreads.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cthreads.h"
#include "host.h"
#include "lauxlib.h"
#include "lualib.h"

static void usage (const char *badopt) {
  if (badopt) {
    if (badopt[1] == 'e' || badopt[1] == 'l')
      fprintf(stderr, "%s: '%s' needs argument\n", PROGNAME, badopt);
    else
      fprintf(stderr, "%s: unrecognized option '%s'\n", PROGNAME, badopt);
  }
  fprintf(stderr,
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
    "  --stats                per-thread figures at exit (CPU, GIL held/waited, switches, lock waits)\n"
    "  --trace=FILE           timeline of threads as Chrome trace-event JSON\n"
    "  --compare              run the script with the GIL on and off, print both timings\n",
    PROGNAME);
}

typedef struct {
  int interactive, version, noenv, warnings, compare, execstdin;
  int script;        /* index of the script in argv, or 0 */
  int first_action;  /* index of the first -e/-l, handled in order later */
} cmdline;

/* Parses argv. Returns 0 on success, 1 for a bad option, 2 for a refused
   runtime option (message already printed). */
static int parse (int argc, char **argv, cmdline *c, ct_options *o) {
  int i;
  memset(c, 0, sizeof *c);
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') { c->script = i; return 0; }
    if (strcmp(a, "-") == 0) { c->execstdin = 1; c->script = i; return 0; }
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc) c->script = i + 1;
      return 0;
    }
    if (strcmp(a, "--gil") == 0) o->gil = 1;
    else if (strcmp(a, "--no-gil") == 0) o->gil = 0;
    else if (strcmp(a, "--stats") == 0) o->stats = 1;
    else if (strcmp(a, "--compare") == 0) c->compare = 1;
    else if (strncmp(a, "--switch-interval", 17) == 0) {
      const char *v = a[17] == '=' ? a + 18 : (a[17] == '\0' && i + 1 < argc ? argv[++i] : NULL);
      char *end;
      double s = v ? strtod(v, &end) : 0;
      if (v == NULL || *v == '\0' || *end != '\0' || !(s > 0)) {
        fprintf(stderr, "%s: --switch-interval needs a positive number of seconds\n", PROGNAME);
        return 1;
      }
      o->switch_interval = s;
    }
    else if (strncmp(a, "--trace=", 8) == 0 && a[8] != '\0') o->trace_file = a + 8;
    else if (strcmp(a, "--help") == 0) { usage(NULL); exit(0); }
    else if (a[1] == 'E' && a[2] == '\0') c->noenv = 1;
    else if (a[1] == 'W' && a[2] == '\0') c->warnings = 1;
    else if (a[1] == 'i' && a[2] == '\0') c->interactive = c->version = 1;
    else if (a[1] == 'v' && a[2] == '\0') c->version = 1;
    else if (a[1] == 'e' || a[1] == 'l') {
      if (c->first_action == 0) c->first_action = i;
      if (a[2] == '\0') {
        if (i + 1 >= argc || argv[i + 1][0] == '-') { usage(a); return 1; }
        i++;
      }
    }
    else { usage(a); return 1; }
  }
  return 0;
}

/* 'arg' table: script at 0, its arguments at 1.., the rest negative */
static void create_arg_table (lua_State *L, int argc, char **argv, int script) {
  int i;
  int base = script;  /* with no script, the interpreter is arg[0] */
  lua_createtable(L, argc - base, base + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - base);
  }
  lua_setglobal(L, "arg");
}

static int handle_luainit (lua_State *L) {
  const char *name = "=LUA_INIT_5_4";
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') {
    int status = luaL_loadfile(L, init + 1);
    if (status == LUA_OK) status = host_docall(L, 0, 0);
    return host_report(L, status);
  }
  return host_dostring(L, init, name);
}

/* -l mod, -l g=mod */
static int dolibrary (lua_State *L, char *spec) {
  char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  int status;
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = host_docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq) *eq = '\0';
    else {  /* global name stops at the first '-' (as lua does) */
      char *dash = strchr(spec, '-');
      if (dash) *dash = '\0';
    }
    lua_setglobal(L, spec);
  }
  return host_report(L, status);
}

static int run_actions (lua_State *L, char **argv, int from, int upto) {
  int i;
  for (i = from; i < upto; i++) {
    const char *a = argv[i];
    if (a[0] == '-' && (a[1] == 'e' || a[1] == 'l')) {
      char *extra = a[2] == '\0' ? argv[++i] : (char *)a + 2;
      int status = a[1] == 'e' ? host_dostring(L, extra, "=(command line)")
                               : dolibrary(L, extra);
      if (status != LUA_OK) return status;
    }
    else if (strncmp(a, "--switch-interval", 17) == 0 && a[17] == '\0') i++;
  }
  return LUA_OK;
}

static int run_script (lua_State *L, int argc, char **argv, int script, int fromstdin) {
  const char *fname = fromstdin ? NULL : argv[script];
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = 0;
    int i;
    luaL_checkstack(L, argc, "too many arguments to script");
    for (i = script + 1; i < argc; i++, n++) lua_pushstring(L, argv[i]);
    status = host_docall(L, n, LUA_MULTRET);
  }
  return host_report(L, status);
}

static void print_version (void) {
  printf("%s (%s), %s\n", CTHREADS_VERSION, LUA_RELEASE, LUA_COPYRIGHT);
  fflush(stdout);
}

int main (int argc, char **argv) {
  ct_options o;
  cmdline c;
  lua_State *L;
  char err[256];
  int status = LUA_OK;
  int r;
  ct_options_init(&o);
  r = parse(argc, argv, &c, &o);
  if (r != 0) return r;
  if (c.compare) return host_compare(argc, argv, c.script ? argv[c.script] : NULL);
  if (!o.gil && !ct_nogil_supported()) {
    fprintf(stderr, "%s: --no-gil (or CTHREADS_GIL=0) is not available yet: the "
            "free-threaded VM is not implemented in this build; run with --gil\n",
            PROGNAME);
    return 2;
  }
  o.ignore_env = c.noenv;
  L = ct_open(&o, err, sizeof err);
  if (L == NULL) {
    fprintf(stderr, "%s: %s\n", PROGNAME, err);
    return 1;
  }
  ct_catch_sigint();
  if (c.warnings) lua_warning(L, "@on", 0);
  create_arg_table(L, argc, argv, c.script);
  if (c.version) print_version();
  if (!c.noenv) status = handle_luainit(L);
  if (status == LUA_OK && c.first_action)
    status = run_actions(L, argv, c.first_action, c.script ? c.script : argc);
  if (status == LUA_OK && c.script)
    status = run_script(L, argc, argv, c.script, c.execstdin);
  if (status == LUA_OK) {
    if (c.interactive) host_repl(L);
    else if (c.script == 0 && c.first_action == 0 && !c.version) {
      if (isatty(0)) {
        print_version();
        host_repl(L);
      }
      else status = run_script(L, argc, argv, argc - 1, 1);
    }
  }
  ct_close(L);
  return status == LUA_OK ? 0 : 1;
}
