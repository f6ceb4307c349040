/*
** multiprocessing, native half: the parts register into one module table
** ("cthreads.native.multiprocessing"); stdlib/multiprocessing.lua builds
** the classes on it.
*/
#ifndef CT_MP_H
#define CT_MP_H

#include <stdint.h>
#include <time.h>

#include "lua.h"

/* shared object types (ct_shm_obj.type) */
enum { CT_MPT_LOCK = 1, CT_MPT_SEM, CT_MPT_EVENT, CT_MPT_COND, CT_MPT_VALUE,
       CT_MPT_QUEUE };

/* wire ids of the shared handle kinds */
enum { CT_MPK_LOCK = 1, CT_MPK_RLOCK, CT_MPK_SEM, CT_MPK_EVENT, CT_MPK_COND,
       CT_MPK_VALUE, CT_MPK_QUEUE };

void ct_mp_process_register (lua_State *L);
void ct_mp_sync_register (lua_State *L);
void ct_mp_value_register (lua_State *L);
void ct_mp_queue_register (lua_State *L);
void ct_mp_conn_register (lua_State *L);

void ct_mp_child_exit (int code);

/* element i (1-based) of the int64 ('q') Array handle at 'idx' */
int64_t *ct_mp_value_int64 (lua_State *L, int idx, lua_Integer i);
void ct_mp_kill_daemon_children (void);

/* raises 'msg' as is (no position), as Python's exceptions read */
int ct_mp_raw_error (lua_State *L, const char *msg);

/* raises the error kind 'name' (queue.Empty...) given to set_error_kinds */
int ct_mp_raise_kind (lua_State *L, const char *name);

/* waits detached while *w == expected (shared futex) until 'dl' (NULL:
   forever); returns 0 woken, ETIMEDOUT, or EINTR (Ctrl-C pending) */
int ct_mp_wait (uint32_t *w, uint32_t expected, const struct timespec *dl);

#endif
