/*
** --stats: per-thread figures printed at exit.
*/
#include <stdlib.h>

#include "ct_internal.h"

void ct_stats_print (FILE *out) {
  ct_tstate *ts;
  double wall = ct_now() - ct_rt.t_start;
  int n = 0;
  fprintf(out, "\n--- cthreads stats (GIL %s, switch interval %.4g s, wall %.3f s)\n",
          ct_rt.gil_on ? "on" : "off",
          (double)ct_rt.switch_interval_ns * 1e-9, wall);
  fprintf(out, "%-4s %-20s %9s %9s %9s %8s %8s %9s %7s %9s\n",
          "id", "thread", "cpu s", "gil held", "gil wait", "switches",
          "forced", "lock wait", "waits", "gc s");
  /* the list is newest first; print in creation order (through an array:
     walking the list again for each line took seconds with 10^4 threads) */
  for (ts = ct_rt.threads; ts != NULL; ts = ts->next) n++;
  ct_tstate **order = (ct_tstate **)malloc((size_t)n * sizeof *order);
  if (order == NULL) return;
  int k = n;
  for (ts = ct_rt.threads; ts != NULL; ts = ts->next) order[--k] = ts;
  for (int i = 0; i < n; i++) {
    ts = order[i];
    double held = ts->gil_held;
    if (ts == ct_current && ct_rt.gil_on)
      held += ct_now() - ts->t_taken;  /* the caller holds it now */
    fprintf(out, "%-4u %-20.20s %9.3f %9.3f %9.3f %8lu %8lu %9.3f %7lu %9.3f\n",
            ts->id, ts->name, ts->cpu_time, held, ts->gil_waited,
            ts->switches, ts->forced_drops, ts->lock_waited, ts->lock_waits,
            ts->gc_time);
  }
  free(order);
  {
    unsigned long count;
    double median, max, total;
    ct_gc_pauses(&count, &median, &max, &total);
    fprintf(out, "GC pauses: %lu, median %.3f ms, max %.3f ms, total %.3f s "
            "(%s)\n", count, median * 1e3, max * 1e3, total,
            ct_rt.gil_on ? "with the GIL held: no thread runs Lua meanwhile"
                         : "the world stopped");
  }
  fprintf(out, "(cpu: thread CPU time; gil held/wait: seconds holding and "
          "waiting for the GIL;\n switches: times the GIL came from another "
          "thread; forced: drops asked by a waiter;\n lock wait: seconds "
          "blocked in Lock/RLock/Condition/Semaphore/Event/queue waits;\n gc: "
          "seconds this thread spent collecting garbage, finalizers included)\n");
}
