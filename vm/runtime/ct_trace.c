/*
** --trace=FILE: a timeline of every thread (running, waiting for the GIL,
** blocked) written at exit as Chrome trace-event JSON, which Perfetto
** (ui.perfetto.dev) and chrome://tracing open.
**
** Each thread appends its own events to its own list of fixed-size
** chunks, so recording takes no lock; a count published with a release
** store lets the writer read the lists of threads that still run (daemon
** threads at exit). When tracing is off nothing here is called: the
** callers test ct_rt.tracing first.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct_internal.h"

#define CHUNK_EVENTS 2048
#define MAX_EVENTS_PER_THREAD (1u << 20)  /* then events are counted, not kept */
#define MIN_EVENT 1e-6  /* shorter GIL waits are not worth a box */

typedef struct ct_event {
  double t0, t1;
  int kind;
} ct_event;

struct ct_trace_chunk {
  struct ct_trace_chunk *next;  /* published with a release store */
  unsigned n;                   /* events filled; release store */
  ct_event ev[CHUNK_EVENTS];
};

static const char *const event_names[] = {
  "running", "waiting for GIL", "blocked", "GC"
};

static FILE *trace_out;
static pid_t trace_pid;

int ct_trace_open (const char *file, char *err, size_t errsize) {
  trace_out = fopen(file, "w");
  if (trace_out == NULL) {
    snprintf(err, errsize, "cannot open trace file '%s': %s", file, strerror(errno));
    return 0;
  }
  trace_pid = getpid();
  return 1;
}

void ct_trace_event (ct_tstate *ts, int kind, double t0, double t1) {
  struct ct_trace_chunk *c = ts->trace_tail;
  unsigned n;
  if (kind == CT_EV_GIL_WAIT && t1 - t0 < MIN_EVENT) return;
  if (ts->trace_events >= MAX_EVENTS_PER_THREAD) {
    ts->trace_dropped++;
    return;
  }
  if (c == NULL || c->n == CHUNK_EVENTS) {
    struct ct_trace_chunk *nc = (struct ct_trace_chunk *)malloc(sizeof *nc);
    if (nc == NULL) {
      ts->trace_dropped++;
      return;
    }
    nc->next = NULL;
    nc->n = 0;
    if (c == NULL) __atomic_store_n(&ts->trace_head, nc, __ATOMIC_RELEASE);
    else __atomic_store_n(&c->next, nc, __ATOMIC_RELEASE);
    ts->trace_tail = c = nc;
  }
  n = c->n;
  c->ev[n].t0 = t0;
  c->ev[n].t1 = t1;
  c->ev[n].kind = kind;
  __atomic_store_n(&c->n, n + 1, __ATOMIC_RELEASE);
  ts->trace_events++;
}

/* the thread's state changes, called by ct_attach.c and ct_gil.c */
void ct_trace_detach (ct_tstate *ts, double now) {
  double since;
  __atomic_load(&ts->t_attached, &since, __ATOMIC_RELAXED);
  ct_trace_event(ts, CT_EV_RUNNING, since, now);
  ts->t_detached = now;
}

void ct_trace_attach (ct_tstate *ts, double asked, double got) {
  if (ts->t_detached > 0) ct_trace_event(ts, CT_EV_BLOCKED, ts->t_detached, asked);
  ct_trace_event(ts, CT_EV_GIL_WAIT, asked, got);
  __atomic_store(&ts->t_attached, &got, __ATOMIC_RELAXED);
}

void ct_trace_free (ct_tstate *ts) {
  struct ct_trace_chunk *c = ts->trace_head;
  while (c != NULL) {
    struct ct_trace_chunk *next = c->next;
    free(c);
    c = next;
  }
  ts->trace_head = ts->trace_tail = NULL;
}

/* length of the well-formed UTF-8 sequence at s (lead byte >= 0x80), or 0 */
static int utf8_len (const unsigned char *s) {
  int n, i;
  unsigned min, cp;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) { n = 2; cp = s[0] & 0x1f; min = 0x80; }
  else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; min = 0x800; }
  else if (s[0] >= 0xf0 && s[0] <= 0xf4) { n = 4; cp = s[0] & 0x07; min = 0x10000; }
  else return 0;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;  /* also stops at the final '\0' */
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/* a JSON string; bytes that are not UTF-8 (a thread named "a\255", or a
   name cut inside a character) become U+FFFD, so the file stays valid */
static void put_json_string (FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', f);
  while (*p) {
    unsigned char ch = *p;
    if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
    else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
    else if (ch < 0x80) fputc(ch, f);
    else {
      int n = utf8_len(p);
      if (n == 0) fputs("\\ufffd", f);
      else {
        fwrite(p, 1, (size_t)n, f);
        p += n;
        continue;
      }
    }
    p++;
  }
  fputc('"', f);
}

static void put_event (FILE *f, long tid, const char *name, double t0, double t1) {
  double start = (t0 - ct_rt.t_start) * 1e6;
  double dur = (t1 - t0) * 1e6;
  if (dur < 0) dur = 0;
  fprintf(f, ",\n{\"ph\":\"X\",\"cat\":\"thread\",\"name\":\"%s\",\"pid\":%ld,"
          "\"tid\":%ld,\"ts\":%.3f,\"dur\":%.3f}", name, (long)trace_pid, tid, start, dur);
}

static void put_thread (FILE *f, ct_tstate *ts, double now) {
  long tid = ts->native_id > 0 ? ts->native_id : (long)ts->id + 1;
  struct ct_trace_chunk *c;
  fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%ld,\"tid\":%ld,"
          "\"ts\":0,\"args\":{\"name\":", (long)trace_pid, tid);
  put_json_string(f, ts->name);
  fprintf(f, "}}");
  fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%ld,"
          "\"tid\":%ld,\"ts\":0,\"args\":{\"sort_index\":%u}}", (long)trace_pid, tid,
          ts->id);
  for (c = __atomic_load_n(&ts->trace_head, __ATOMIC_ACQUIRE); c != NULL;
       c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE)) {
    unsigned n = __atomic_load_n(&c->n, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
      put_event(f, tid, event_names[c->ev[i].kind], c->ev[i].t0, c->ev[i].t1);
  }
  if (!ts->ended &&
      __atomic_load_n(&ts->state, __ATOMIC_ACQUIRE) == CT_ATTACHED) {
    double since;  /* still running: the open interval up to now */
    __atomic_load(&ts->t_attached, &since, __ATOMIC_RELAXED);
    put_event(f, tid, event_names[CT_EV_RUNNING], since, now);
  }
  if (ts->trace_dropped > 0)
    fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"name\":\"%lu events not recorded "
            "(limit reached)\",\"pid\":%ld,\"tid\":%ld,\"ts\":%.3f}",
            ts->trace_dropped, (long)trace_pid, tid, (now - ct_rt.t_start) * 1e6);
}

/* Writes the file (once). A forked child that exits through here writes
   FILE.PID instead of overwriting its parent's timeline. */
void ct_trace_write (void) {
  FILE *f = trace_out;
  double now = ct_now();
  ct_tstate *ts;
  if (f == NULL) return;
  trace_out = NULL;
  if (getpid() != trace_pid) {
    char name[1024];
    snprintf(name, sizeof name, "%s.%ld", ct_rt.trace_file, (long)getpid());
    trace_pid = getpid();
    f = fopen(name, "w");
    if (f == NULL) return;
  }
  fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"gil\":\"%s\","
          "\"switch_interval\":%g},\n\"traceEvents\":[\n"
          "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%ld,\"tid\":%ld,"
          "\"ts\":0,\"args\":{\"name\":\"cthreads %ld\"}}",
          ct_rt.gil_on ? "on" : "off", (double)ct_rt.switch_interval_ns * 1e-9,
          (long)trace_pid, (long)trace_pid, (long)trace_pid);
  pthread_mutex_lock(&ct_rt.list_lock);
  for (ts = ct_rt.threads; ts != NULL; ts = ts->next) put_thread(f, ts, now);
  pthread_mutex_unlock(&ct_rt.list_lock);
  fprintf(f, "\n]}\n");
  if (fclose(f) != 0)
    fprintf(stderr, "cthreads: cannot write trace file '%s': %s\n",
            ct_rt.trace_file, strerror(errno));
}
