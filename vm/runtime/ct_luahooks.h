/*
** cthreads: forced into every Lua core file with -include (see
** CMakeLists.txt). It connects Lua's own customisation points to the
** runtime instead of patching the sources:
**   - the eval breaker checked by lvm.c (patch 0003);
**   - stdio reads and writes, 'system' and 'pclose', which detach from the
**     runtime while they may block so that other threads keep running.
** Only declarations here: the definitions live in ct_breaker.c and
** ct_blockio.c.
*/
#ifndef CT_LUAHOOKS_H
#define CT_LUAHOOKS_H

#include <stdio.h>
#include <stdlib.h>

struct lua_State;

/* eval breaker: nonzero when a running thread must call ct_breaker_handle */
extern int ct_breaker_word;  /* CT_BREAK_* bits; see ct_internal.h */
void ct_breaker_handle (struct lua_State *L);
#define luai_breakerset(L)	(__atomic_load_n(&ct_breaker_word, __ATOMIC_RELAXED) != 0)
#define luai_breaker(L)		ct_breaker_handle(L)

/* lgc.c (patch 0004): every collection step and full collection */
void ct_gc_begin (struct lua_State *L);
void ct_gc_end (struct lua_State *L);
#define luai_gcbegin(L)		ct_gc_begin(L)
#define luai_gcend(L)		ct_gc_end(L)

/* blocking I/O: detached while waiting */
size_t ct_fread (void *p, size_t size, size_t n, FILE *f);
size_t ct_fwrite (const void *p, size_t size, size_t n, FILE *f);
int ct_fflush (FILE *f);
int ct_getc_slow (FILE *f);
void ct_lockfile (FILE *f);
int ct_system (const char *cmd);
int ct_pclose (FILE *f);

#define fread(p,s,n,f)		ct_fread(p,s,n,f)
#define fwrite(p,s,n,f)		ct_fwrite(p,s,n,f)
/* file:flush() and io.flush() (liolib.c): a flush to a full pipe blocks */
#define fflush(f)		ct_fflush(f)

/* liolib.c: reads take the FILE lock without blocking while attached */
#if defined(__GLIBC__)
#define l_getc(f)  \
  ((f)->_IO_read_ptr < (f)->_IO_read_end ? getc_unlocked(f) : ct_getc_slow(f))
#else
#define l_getc(f)		ct_getc_slow(f)
#endif
#define l_lockfile(f)		ct_lockfile(f)
#define l_unlockfile(f)		funlockfile(f)

#define l_popen(L,c,m)		(ct_fflush(NULL), popen(c,m))
#define l_pclose(L,file)	(ct_pclose(file))

/* loslib.c: Lua 5.4.4's os.execute calls system() itself (the l_system
   hook came in a later release), so the call is renamed here */
#define l_system(cmd)		ct_system(cmd)
#define system(cmd)		ct_system(cmd)

/* lauxlib.h: print and warnings */
#define lua_writestring(s,l)	ct_fwrite((s), sizeof(char), (l), stdout)
#define lua_writeline()		(lua_writestring("\n", 1), ct_fflush(stdout))
/* warnings may come from a finalizer, in the middle of a collection: the
   real fflush, attached ('(fflush)' is not the macro above) */
#define lua_writestringerror(s,p)	(fprintf(stderr, (s), (p)), (fflush)(stderr))

/* the free-threaded mode (GIL off) */
#include "ct_fthooks.h"

#endif
