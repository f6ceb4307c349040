/*
** Garbage-collection pauses: the time each thread spends in collection
** steps and full collections (finalizers included), for --stats and
** --trace. With the GIL on a collection runs in whichever thread's
** allocation triggers it, holding the GIL, so it stops every other
** thread that wants to run Lua. Pauses are counted exactly (count, total,
** maximum); the median comes from a log-scale histogram (buckets 5% wide),
** so memory stays fixed however long the program runs.
*/
#include <math.h>

#include "ct_internal.h"
#include "ct_luahooks.h"

#define NBUCKETS 512
#define SMALLEST 1e-7   /* seconds: the lower edge of bucket 0 */
#define GROWTH 1.05     /* each bucket 5% wider than the one before */

static unsigned long histogram[NBUCKETS];  /* under the GIL */
static unsigned long npauses;
static double total_time, max_pause;

static int bucket_of (double d) {
  double b = d <= SMALLEST ? 0 : log(d / SMALLEST) / log(GROWTH);
  return b >= NBUCKETS - 1 ? NBUCKETS - 1 : (int)b;
}

void ct_gc_begin (lua_State *L) {
  ct_tstate *ts = ct_current;
  (void)L;
  if (ts != NULL && ts->gc_depth++ == 0) ts->gc_t0 = ct_now();
}

void ct_gc_end (lua_State *L) {
  ct_tstate *ts = ct_current;
  double d;
  (void)L;
  if (ts == NULL || --ts->gc_depth > 0) return;
  d = ct_now() - ts->gc_t0;
  ts->gc_time += d;
  ts->gc_count++;
  if (ct_rt.tracing) ct_trace_event(ts, CT_EV_GC, ts->gc_t0, ts->gc_t0 + d);
  histogram[bucket_of(d)]++;
  npauses++;
  total_time += d;
  if (d > max_pause) max_pause = d;
}

void ct_gc_pauses (unsigned long *count, double *median, double *max,
                   double *total) {
  unsigned long seen = 0;
  int i;
  *count = npauses;
  *max = max_pause;
  *total = total_time;
  *median = 0;
  for (i = 0; i < NBUCKETS && npauses > 0; i++) {
    seen += histogram[i];
    if (2 * seen >= npauses) {  /* the bucket's geometric middle */
      *median = SMALLEST * pow(GROWTH, i + 0.5);
      if (*median > max_pause) *median = max_pause;
      break;
    }
  }
}
