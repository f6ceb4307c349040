/*
** --compare: runs the same command line twice in child processes, with
** the GIL on and with it off, and prints wall and CPU times side by side.
**
** Both runs read the same stdin. A file is rewound before each run; a
** terminal is left to each run in turn; a pipe is passed on to the first
** run through a pipe of ours while a copy is kept in an unlinked
** temporary file, which the second run then reads. The copy is made as
** the first run reads (never all of stdin up front: a pipe that never
** ends must not stop the runs from starting). --trace=FILE becomes one
** file per run. A Ctrl-C stops after the run it interrupted.
*/
#define _GNU_SOURCE  /* ppoll, pipe2, mkostemp, SI_USER */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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

/* how the runs get stdin */
typedef struct {
  int pump;      /* stdin is a pipe: the first run gets it through 'copy' */
  int copy;      /* the temporary file (pump), else -1 */
  off_t start;   /* stdin's offset when it is a file (rewound), else -1 */
} stdin_plan;

static volatile sig_atomic_t child_pid;    /* the run under way, or 0 */
static volatile sig_atomic_t got_sigint;

static double now (void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double tv (struct timeval t) {
  return (double)t.tv_sec + (double)t.tv_usec * 1e-6;
}

/* A Ctrl-C typed on the terminal reaches the run too (the same process
   group); a SIGINT sent to this process alone (kill) is passed on. */
static void on_sigint (int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  got_sigint = 1;
  if (child_pid > 0 && si != NULL && (si->si_code == SI_USER || si->si_code == SI_QUEUE))
    kill((pid_t)child_pid, sig);
}

static void on_sigchld (int sig) {
  (void)sig;  /* only interrupts ppoll */
}

static void plan_stdin (stdin_plan *p) {
  char path[] = "/tmp/cthreads-stdin-XXXXXX";
  p->pump = 0;
  p->copy = -1;
  p->start = -1;
  if (isatty(0)) return;
  p->start = lseek(0, 0, SEEK_CUR);
  if (p->start >= 0) return;
  if (fcntl(0, F_GETFL) < 0) return;  /* no stdin at all */
  p->copy = mkostemp(path, O_CLOEXEC);
  if (p->copy < 0) return;  /* then the first run reads stdin directly */
  unlink(path);
  p->pump = 1;
}

/* Feeds stdin to the first run through 'to_child' (non-blocking), keeping
   a copy, until that run ends; then its status is in *st, *ru. */
static int pump (pid_t pid, int to_child, int copy, int *st, struct rusage *ru,
                 const sigset_t *during) {
  static char buf[65536];
  size_t len = 0, off = 0;
  int eof = 0;
  for (;;) {
    struct pollfd pfd[2];
    int n = 0, i;
    pid_t w = wait4(pid, st, WNOHANG, ru);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return -1;
    if (!eof && to_child >= 0 && off == len) {
      pfd[n].fd = 0; pfd[n].events = POLLIN; n++;
    }
    if (to_child >= 0 && off < len) {
      pfd[n].fd = to_child; pfd[n].events = POLLOUT; n++;
    }
    if (ppoll(pfd, (nfds_t)n, NULL, during) <= 0) continue;  /* SIGCHLD */
    for (i = 0; i < n; i++) {
      if (pfd[i].revents == 0) continue;
      if (pfd[i].fd == 0) {
        ssize_t r = read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {  /* the end of stdin: the run sees it too */
          eof = 1;
          close(to_child);
          to_child = -1;
          continue;
        }
        len = (size_t)r;
        off = 0;
        r = write(copy, buf, len);  /* short when the disk is full: a shorter copy */
        (void)r;
      }
      else {
        ssize_t r = write(to_child, buf + off, len - off);
        if (r > 0) off += (size_t)r;
        else if (r < 0 && errno != EAGAIN && errno != EINTR) {
          close(to_child);  /* the run closed its stdin */
          to_child = -1;
        }
      }
    }
  }
  if (to_child >= 0) close(to_child);
  return 0;
}

/* the value of --trace among the options before the script, or NULL */
static const char *trace_option (int argc, char **argv, int script) {
  const char *file = NULL;
  int i;
  for (i = 1; i < script && i < argc; i++) {
    if (strncmp(argv[i], "--trace=", 8) == 0) file = argv[i] + 8;
    else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) file = argv[++i];
  }
  return file;
}

/* "--trace=" and the trace file of one run: FILE with ".gil-on" or
   ".gil-off" before its extension (out.json -> out.gil-on.json) */
static char *trace_arg (const char *file, const char *mode) {
  const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  const char *dot = strrchr(base, '.');
  size_t stem = (dot != NULL && dot != base) ? (size_t)(dot - file) : strlen(file);
  size_t len = strlen(file) + strlen(mode) + 16;
  char *s = malloc(len);
  if (s != NULL)
    snprintf(s, len, "--trace=%.*s.gil-%s%s", (int)stem, file, mode, file + stem);
  return s;
}

/* 'script': index of the script in argv (argc when none); the options
   before it lose --compare, --gil, --no-gil and --trace, the script's own
   arguments are passed on unchanged. 'second' says the run reads the
   copy of stdin that the first one made. */
static int run_child (int argc, char **argv, int script, const char *mode,
                      const char *trace, const stdin_plan *in, int second,
                      run_result *r) {
  char **args = calloc((size_t)argc + 3, sizeof(char *));
  int n = 0;
  int i, st;
  int fds[2] = {-1, -1};
  pid_t pid;
  struct rusage ru;
  sigset_t chld, old;
  double t0;
  if (args == NULL) return -1;
  args[n++] = argv[0];
  args[n++] = (char *)mode;
  if (trace != NULL) args[n++] = (char *)trace;
  for (i = 1; i < argc; i++) {
    if (i < script && (strcmp(argv[i], "--compare") == 0 ||
        strcmp(argv[i], "--gil") == 0 || strcmp(argv[i], "--no-gil") == 0 ||
        strncmp(argv[i], "--trace=", 8) == 0))
      continue;
    if (i < script && strcmp(argv[i], "--trace") == 0) { i++; continue; }
    args[n++] = argv[i];
  }
  args[n] = NULL;
  if (in->pump && !second && pipe2(fds, O_CLOEXEC) != 0) {
    free(args);
    return -1;
  }
  if (in->start >= 0) lseek(0, in->start, SEEK_SET);
  if (in->pump && second) lseek(in->copy, 0, SEEK_SET);
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigaddset(&chld, SIGINT);  /* until child_pid is set, for on_sigint */
  sigprocmask(SIG_BLOCK, &chld, &old);
  fflush(stdout);
  fflush(stderr);
  t0 = now();
  pid = fork();
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (fds[0] >= 0) dup2(fds[0], 0);
    else if (in->pump) dup2(in->copy, 0);
    execv("/proc/self/exe", args);
    execvp(argv[0], args);
    perror(PROGNAME ": cannot run itself");
    _exit(127);
  }
  free(args);
  if (fds[0] >= 0) close(fds[0]);
  if (pid < 0) {
    if (fds[1] >= 0) close(fds[1]);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return -1;
  }
  child_pid = pid;
  sigdelset(&chld, SIGCHLD);
  sigprocmask(SIG_UNBLOCK, &chld, NULL);
  if (fds[1] >= 0) {
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    if (pump(pid, fds[1], in->copy, &st, &ru, &old) != 0) pid = -1;
  }
  else {
    while (wait4(pid, &st, 0, &ru) < 0) {
      if (errno != EINTR) { pid = -1; break; }
    }
  }
  child_pid = 0;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) return -1;
  r->wall = now() - t0;
  r->cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return 0;
}

static void print_row (const char *mode, const run_result *r) {
  fprintf(stderr, "%-9s %10.3f %10.3f %9.2f %6d\n", mode, r->wall, r->cpu,
          r->wall > 0 ? r->cpu / r->wall : 0.0, r->status);
}

int host_compare (int argc, char **argv, int script, int has_e) {
  run_result on, off;
  int have_off = ct_nogil_supported();
  int ran_off = 0;
  const char *what = script < argc ? argv[script] : has_e ? "-e ..." : "(stdin)";
  const char *trace = trace_option(argc, argv, script);
  char *trace_on = NULL, *trace_off = NULL;
  struct sigaction sa;
  stdin_plan in;
  int status;
  int stdin_script = script >= argc ? !has_e
                     : strcmp(argv[script], "-") == 0 && strcmp(argv[script - 1], "--") != 0;
  if (stdin_script && isatty(0)) {
    fprintf(stderr, "%s: --compare needs a script (or -e code) to run\n", PROGNAME);
    return 1;
  }
  if (trace != NULL) {
    trace_on = trace_arg(trace, "on");
    trace_off = trace_arg(trace, "off");
    if (trace_on == NULL || trace_off == NULL) goto fail;
  }
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_sigaction = on_sigint;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_sigchld;
  sa.sa_flags = 0;
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);  /* a run that closes its stdin; runs get SIG_DFL */
  plan_stdin(&in);
  fprintf(stderr, "=== %s --compare: GIL on\n", PROGNAME);
  if (run_child(argc, argv, script, "--gil", trace_on, &in, 0, &on) != 0) goto fail;
  if (have_off && !got_sigint) {
    fprintf(stderr, "=== %s --compare: GIL off\n", PROGNAME);
    if (run_child(argc, argv, script, "--no-gil", trace_off, &in, 1, &off) != 0)
      goto fail;
    ran_off = 1;
  }
  fprintf(stderr, "\n=== %s --compare %s\n", PROGNAME, what);
  fprintf(stderr, "%-9s %10s %10s %9s %6s\n", "mode", "wall s", "cpu s", "cpu/wall", "exit");
  print_row("GIL on", &on);
  if (ran_off) {
    print_row("GIL off", &off);
    fprintf(stderr, "wall time ratio (on / off): %.2fx\n",
            off.wall > 0 ? on.wall / off.wall : 0.0);
    if (on.status != off.status)
      fprintf(stderr, "(the runs ended differently: the times do not compare like with like)\n");
  }
  else
    fprintf(stderr, "%-9s (%s)\n", "GIL off", got_sigint ? "not run: interrupted"
            : "not available: this build has no free-threaded VM yet");
  if (trace != NULL)
    fprintf(stderr, "traces: %s%s%s\n", trace_on + 8, ran_off ? ", " : "",
            ran_off ? trace_off + 8 : "");
  status = on.status != 0 ? on.status : (ran_off ? off.status : 0);
  if (status == 0 && got_sigint) status = 1;
  free(trace_on);
  free(trace_off);
  return status;
fail:
  fprintf(stderr, "%s: --compare: %s\n", PROGNAME, strerror(errno));
  free(trace_on);
  free(trace_off);
  return 1;
}
