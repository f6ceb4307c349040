/*
** Futex waits (Linux): the primitive under every blocking wait, so that
** waits have absolute monotonic deadlines, can be woken one at a time,
** and return EINTR when Ctrl-C arrives (the SIGINT handler is installed
** without SA_RESTART).
*/
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_internal.h"

int ct_futex_wait (uint32_t *addr, uint32_t expected,
                   const struct timespec *deadline, int shared) {
  int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
  long r = syscall(SYS_futex, addr, op, expected, deadline, NULL,
                   FUTEX_BITSET_MATCH_ANY);
  if (r == 0) return 0;
  switch (errno) {
    case EAGAIN: return 0;  /* the value had already changed */
    case ETIMEDOUT: return ETIMEDOUT;
    case EINTR: return EINTR;
    default: return 0;
  }
}

void ct_futex_wake (uint32_t *addr, int n, int shared) {
  int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
  syscall(SYS_futex, addr, op, n, NULL, NULL, 0);
}
