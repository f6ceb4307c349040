/*
** A small spinlock for the free-threaded mode's short critical sections
** (table writes, string insertion, the object lists). Holders never
** block, never run Lua code and never wait for a stop-the-world, so a
** waiter only spins while the holder finishes a few hundred instructions;
** it yields the CPU after a while in case the holder was preempted.
*/
#ifndef CT_SPIN_H
#define CT_SPIN_H

#include <sched.h>

static inline void ct_cpu_relax (void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static inline void ct_spin_lock (unsigned *w) {
  unsigned n = 0;
  for (;;) {
    unsigned z = 0;
    if (__atomic_load_n(w, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(w, &z, 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
    if (++n < 64) ct_cpu_relax();
    else sched_yield();
  }
}

static inline void ct_spin_unlock (unsigned *w) {
  __atomic_store_n(w, 0, __ATOMIC_RELEASE);
}

#endif
