/*
** Between the free-threaded mode's files: memory kept until the next
** stop-the-world (ct_ftgc.c), used by the table code (ct_fttable.c).
*/
#ifndef CT_FTGC_H
#define CT_FTGC_H

#include <stddef.h>

struct lua_State;

enum { CT_RETIRED_STACK, CT_RETIRED_ARRAY, CT_RETIRED_NODES, CT_RETIRED_FILE };

void ct_ft_retire (struct lua_State *L, void *p, size_t size, int kind);
/* the start of the retired block holding 'p' (and its kind), or NULL */
void *ct_ft_retired_block (const void *p, int *kind);

#endif
