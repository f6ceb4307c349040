/*
** --compare: runs the same command line twice in child processes, with
** the GIL on and with it off, and prints wall and CPU times side by side.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cthreads.h"
#include "host.h"

typedef struct { double wall, cpu; int status; } run_result;

static double now (void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double tv (struct timeval t) {
  return (double)t.tv_sec + (double)t.tv_usec * 1e-6;
}

/* 'script': index of the script in argv (argc when none); the options
   before it lose --compare, --gil and --no-gil, the script's own
   arguments are passed on unchanged */
static int run_child (int argc, char **argv, int script, const char *mode,
                      run_result *r) {
  char **args = calloc((size_t)argc + 2, sizeof(char *));
  int n = 0;
  int i;
  pid_t pid;
  struct rusage ru;
  int st;
  double t0;
  if (args == NULL) return -1;
  args[n++] = argv[0];
  args[n++] = (char *)mode;
  for (i = 1; i < argc; i++) {
    if (i < script && (strcmp(argv[i], "--compare") == 0 ||
        strcmp(argv[i], "--gil") == 0 || strcmp(argv[i], "--no-gil") == 0))
      continue;
    args[n++] = argv[i];
  }
  args[n] = NULL;
  fflush(stdout);
  fflush(stderr);
  t0 = now();
  pid = fork();
  if (pid < 0) { free(args); return -1; }
  if (pid == 0) {
    execv("/proc/self/exe", args);
    execvp(argv[0], args);
    perror(PROGNAME ": cannot run itself");
    _exit(127);
  }
  free(args);
  if (wait4(pid, &st, 0, &ru) < 0) return -1;
  r->wall = now() - t0;
  r->cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return 0;
}

int host_compare (int argc, char **argv, int script, int has_e) {
  run_result on, off;
  int have_off = ct_nogil_supported();
  const char *what = script < argc ? argv[script] : "-e ...";
  if (script >= argc && !has_e) {
    fprintf(stderr, "%s: --compare needs a script (or -e code) to run\n", PROGNAME);
    return 1;
  }
  if (script < argc && strcmp(argv[script], "-") == 0 && strcmp(argv[script - 1], "--") != 0) {
    fprintf(stderr, "%s: --compare cannot run stdin twice; give a script file\n",
            PROGNAME);
    return 1;
  }
  fprintf(stderr, "=== %s --compare: GIL on\n", PROGNAME);
  if (run_child(argc, argv, script, "--gil", &on) != 0) return 1;
  if (have_off) {
    fprintf(stderr, "=== %s --compare: GIL off\n", PROGNAME);
    if (run_child(argc, argv, script, "--no-gil", &off) != 0) return 1;
  }
  fprintf(stderr, "\n=== %s --compare %s\n", PROGNAME, what);
  fprintf(stderr, "%-9s %10s %10s %9s %6s\n", "mode", "wall s", "cpu s", "cpu/wall", "exit");
  fprintf(stderr, "%-9s %10.3f %10.3f %9.2f %6d\n", "GIL on", on.wall, on.cpu,
          on.wall > 0 ? on.cpu / on.wall : 0.0, on.status);
  if (have_off) {
    fprintf(stderr, "%-9s %10.3f %10.3f %9.2f %6d\n", "GIL off", off.wall, off.cpu,
            off.wall > 0 ? off.cpu / off.wall : 0.0, off.status);
    fprintf(stderr, "wall time ratio (on / off): %.2fx\n",
            off.wall > 0 ? on.wall / off.wall : 0.0);
  }
  else
    fprintf(stderr, "%-9s (not available: this build has no free-threaded VM yet)\n",
            "GIL off");
  return on.status != 0 ? on.status : (have_off ? off.status : 0);
}
