/*
** The native Lock and RLock, for the primitives built on them (Condition
** waits on a Lock or RLock without going through Lua calls).
*/
#ifndef CT_LOCK_H
#define CT_LOCK_H

#include <stdint.h>

#include "ct_handle.h"
#include "lua.h"

typedef struct ct_lock {
  const ct_kind *kind;
  uint32_t word;         /* ct_lockword */
} ct_lock;

typedef struct ct_rlock {
  const ct_kind *kind;
  uint32_t word;
  uint64_t owner;        /* ident of the holder, 0 if none (atomic) */
  lua_Integer count;     /* only touched by the owner */
} ct_rlock;

extern const ct_kind ct_lock_kind, ct_rlock_kind;

/* the calling thread holds 'r' */
int ct_rlock_owned (ct_rlock *r);

/* releases 'r' completely, returns its recursion count (the caller owns it) */
lua_Integer ct_rlock_release_save (ct_rlock *r);

/* acquires 'r' (waiting detached) and sets its recursion count */
void ct_rlock_acquire_restore (lua_State *L, ct_rlock *r, lua_Integer count);

#endif
