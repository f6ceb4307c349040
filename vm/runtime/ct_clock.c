/*
** Clocks: monotonic time for deadlines and counters, per-thread CPU time.
*/
#include <math.h>
#include <time.h>

#include "ct_internal.h"

double ct_now (void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double ct_thread_cpu (clockid_t c) {
  struct timespec t;
  if (clock_gettime(c, &t) != 0) return 0.0;
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* absolute CLOCK_MONOTONIC deadline 'timeout' seconds from now */
void ct_abs_deadline (struct timespec *ts, double timeout) {
  double whole;
  double frac;
  clock_gettime(CLOCK_MONOTONIC, ts);
  if (timeout > 1e9) timeout = 1e9;  /* about 30 years: forever enough */
  frac = modf(timeout, &whole);
  ts->tv_sec += (time_t)whole;
  ts->tv_nsec += (long)(frac * 1e9);
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}
