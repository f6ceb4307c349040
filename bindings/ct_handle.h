/*
** Native handles: the C part of a cthreads object. A Lua-side instance
** (a table made by the class system) keeps its handle, a full userdata
** starting with a ct_kind pointer, under the light-userdata key
** CT_HANDLE_KEY. Native methods accept the instance or the bare handle;
** a handle may itself be the instance, with its class as its metatable
** (threading.Lock() does this, for speed).
*/
#ifndef CT_HANDLE_H
#define CT_HANDLE_H

#include "lua.h"

typedef struct ct_kind {
  const char *name;  /* for error messages: "Lock", "Thread"... */
} ct_kind;

extern const char ct_handle_key;
#define CT_HANDLE_KEY ((void *)&ct_handle_key)

/* a new handle of 'size' bytes (starting with the kind) on the stack */
void *ct_newhandle (lua_State *L, size_t size, const ct_kind *kind);

/* the handle of the instance or handle at 'idx', or a typed arg error */
void *ct_checkhandle (lua_State *L, int idx, const ct_kind *kind);
/* raises the error of a handle argument that is not a 'name': a type
   error, or, for an instance of a subclass of the class 'name' whose init
   did not call the parent's, one that says so */
int ct_handle_error (lua_State *L, int idx, const char *name);

/* optional boolean argument; anything but a boolean or nil is an error */
int ct_optboolean (lua_State *L, int arg, int def);

/* CTHREADS_TIME_SCALE (1 when unset): multiplies sleeps and Timer delays */
double ct_time_scale (void);

#endif
