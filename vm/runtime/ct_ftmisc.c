/*
** The free-threaded mode's small locks for the standard library:
** math.random's one generator state for all threads.
*/
#include "ct_spin.h"
#include "ct_fthooks.h"

static unsigned rand_lock;

void ct_ft_randlock (void) { ct_spin_lock(&rand_lock); }
void ct_ft_randunlock (void) { ct_spin_unlock(&rand_lock); }
