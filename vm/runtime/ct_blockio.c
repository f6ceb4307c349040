/*
** Blocking standard-library calls (stdio reads and writes, 'system',
** 'pclose'), reached through the macros in ct_luahooks.h. Each detaches
** while it may block so that other threads keep running. A FILE lock is
** never waited for while attached: a thread holding it may itself be
** detached, waiting for input, and would need the GIL to finish.
*/
#include "ct_internal.h"
#include "ct_luahooks.h"

#undef fread
#undef fwrite
#undef system
#undef fflush

size_t ct_fread (void *p, size_t size, size_t n, FILE *f) {
  ct_tstate *ts = ct_detach();
  size_t r = fread(p, size, n, f);
  ct_attach(ts, 0);
  return r;
}

size_t ct_fwrite (const void *p, size_t size, size_t n, FILE *f) {
  ct_tstate *ts = ct_detach();
  size_t r = fwrite(p, size, n, f);
  ct_attach(ts, 0);
  return r;
}

int ct_fflush (FILE *f) {
  ct_tstate *ts = ct_detach();
  int r = fflush(f);
  ct_attach(ts, 0);
  return r;
}

/* the stdio buffer is empty: the next getc may wait for input */
int ct_getc_slow (FILE *f) {
  ct_tstate *ts = ct_detach();
  int c = getc_unlocked(f);
  ct_attach(ts, 1);
  return c;
}

void ct_lockfile (FILE *f) {
  if (ftrylockfile(f) != 0) {
    ct_tstate *ts = ct_detach();
    flockfile(f);
    ct_attach(ts, 1);
  }
}

int ct_system (const char *cmd) {
  ct_tstate *ts = ct_detach();
  int r = system(cmd);
  ct_attach(ts, 1);
  return r;
}

int ct_pclose (FILE *f) {
  ct_tstate *ts = ct_detach();
  int r = pclose(f);
  ct_attach(ts, 1);
  return r;
}
