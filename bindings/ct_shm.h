/*
** The shared arena: one MAP_SHARED region mapped before the first fork, at
** the same address in every process of the program, holding the state of
** the multiprocessing objects (locks, values, queues and their messages).
** Any process of the tree can reach an object made by any other at any
** time, by pointer, and wait on its futex words with shared=1.
**
** Objects are reference counted across processes: each Lua handle owns one
** reference (handles inherited by fork are counted in the child before the
** fork), and so does each encoded copy in flight inside a message.
*/
#ifndef CT_SHM_H
#define CT_SHM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_handle.h"
#include "lua.h"

/* maps the arena if not done yet; 0 on success */
int ct_shm_init (void);
int ct_shm_ready (void);

/* blocks of the arena; NULL when it is full */
void *ct_shm_alloc (size_t n);
void ct_shm_free (void *p);

/* offsets for the wire, and checked pointers back (NULL when 'off' is not
   the start of a live object of at least 'size' bytes) */
uint64_t ct_shm_offset (const void *p);
void *ct_shm_at (uint64_t off);

/* robust process-shared mutexes for short critical sections (never held
   across a wait); a holder that dies leaves the mutex usable */
void ct_shm_mutex_init (pthread_mutex_t *m);
void ct_shm_mutex_lock (pthread_mutex_t *m);
void ct_shm_mutex_unlock (pthread_mutex_t *m);

/* ---- shared objects -------------------------------------------------------- */

typedef struct ct_shm_obj {
  uint32_t refs;    /* atomic */
  uint32_t type;    /* index into the destructor table */
} ct_shm_obj;

typedef void (*ct_shm_destroy) (ct_shm_obj *o);

/* a new object of 'size' bytes (header included, zeroed) with one reference;
   raises "out of shared memory" */
void *ct_shm_newobj (lua_State *L, size_t size, uint32_t type);
void ct_shm_register_type (uint32_t type, ct_shm_destroy destroy);
void ct_shm_incref (ct_shm_obj *o);
void ct_shm_decref (ct_shm_obj *o);

/* A Lua handle on a shared object: a full userdata starting with this.
   Live handles are listed per process so that fork can count the child's
   copies and a child's exit can drop them. */
typedef struct ct_shm_handle {
  const ct_kind *kind;
  ct_shm_obj *obj;
  struct ct_shm_handle *prev, *next;
} ct_shm_handle;

/* pushes a new handle of 'size' bytes (>= sizeof(ct_shm_handle)) owning one
   reference to 'obj' (the caller's, which it takes over); metatable with
   __gc from the registry */
void *ct_shm_pushhandle (lua_State *L, size_t size, const ct_kind *kind,
                         ct_shm_obj *obj);

/* registers the fork hooks (once): the arena is mapped before any fork,
   and the handles a child inherits are counted */
void ct_shm_install_hooks (void);

/* drops the references of every live handle of this process (a child's
   last act before _exit) */
void ct_shm_release_all (void);

/* the kinds of shared handles, for the codec: wire id -> kind */
#define CT_SHM_MAXKINDS 32
void ct_shm_register_kind (int id, const ct_kind *kind, size_t handle_size);
int ct_shm_kind_id (const ct_kind *kind);  /* -1 if not a shared kind */
const ct_kind *ct_shm_kind (int id, size_t *handle_size);

#endif
