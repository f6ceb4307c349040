/*
** Direct access to a table's array part, for the hot loops of the codec
** and of Pool's list helpers (they are 5 to 10 times faster than one API
** call per element). Reading is safe whenever the caller may touch the
** heap (attached; with the GIL off, the table's lock will have to be held
** here as well). Writing is only for values that are not collectable
** (numbers, booleans, nil): those need no GC barrier. Everything else goes
** through the API.
*/
#ifndef CT_LUAFAST_H
#define CT_LUAFAST_H

#include "lua.h"
#include "lobject.h"
#include "lstate.h"
#include "ltable.h"

/* the table at 'idx' (which must be a table) */
static inline Table *ct_fast_table (lua_State *L, int idx) {
  return (Table *)lua_topointer(L, idx);
}

static inline unsigned ct_fast_asize (const Table *t) {
  return luaH_realasize(t);
}

/* slot i (0-based) of the array part; i < ct_fast_asize(t) */
static inline TValue *ct_fast_slot (Table *t, unsigned i) {
  return &t->array[i];
}

/* copies a value that is not collectable (checked by the caller) */
static inline void ct_fast_copy (TValue *to, const TValue *from) {
  *to = *from;
}

#endif
