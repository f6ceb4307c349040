/*
** cthreads: the free-threaded mode's hooks into the Lua core (GIL off).
** Forced into every Lua core file through ct_luahooks.h; the patches
** vm/patches/0005..0010 call these macros, and the machinery lives in
** ct_ftgc.c (objects, debt, stop-the-world collections), ct_ftstr.c
** (string table), ct_fttable.c (tables) and ct_ftmisc.c (the rest).
** 'luai_ft()' is false until a second thread may run Lua with the GIL
** off; until then every hook takes Lua's own path.
*/
#ifndef CT_FTHOOKS_H
#define CT_FTHOOKS_H

#include <stddef.h>
#include <stdio.h>

struct lua_State;
struct global_State;
struct GCObject;
struct Table;
struct TValue;
struct TString;
union StackValue;

extern int ct_ft_on;          /* free-threaded: never goes back to 0 */
extern int ct_ft_localdebt;   /* allocations count in the thread's debt */

#define luai_ft()	__builtin_expect(ct_ft_on != 0, 0)

/* values read and written whole (x86-64: one aligned 16-byte access) */
#if defined(__x86_64__) && defined(__SSE2__) && !defined(__SANITIZE_THREAD__)
#include <emmintrin.h>
#define luai_tvload(io1,io2) do { __m128i v_; \
  __asm__ ("movdqa %1, %0" : "=x" (v_) \
           : "m" (*(const __m128i *)(const void *)(io2))); \
  _mm_storel_epi64((__m128i *)(void *)&(io1)->value_, v_); \
  (io1)->tt_ = (unsigned char)_mm_cvtsi128_si32(_mm_srli_si128(v_, 8)); \
  } while (0)
#define luai_tvstore(io1,io2) do { \
  __m128i v_ = _mm_load_si128((const __m128i *)(const void *)(io2)); \
  __asm__ volatile ("movdqa %1, %0" \
           : "=m" (*(__m128i *)(void *)(io1)) : "x" (v_) : "memory"); \
  } while (0)
#elif defined(__x86_64__) && defined(__SANITIZE_THREAD__)
/* ThreadSanitizer does not see inside asm: the same single 16-byte
   accesses as 16-byte atomics, acquire and release (what x86-64's loads
   and stores are: a reader that gets a new object sees it initialized).
   Only the value and the tag are read from the source and written to a
   stack slot (its padding may hold a to-be-closed variable's link).
   With the GIL on (or one thread) plain copies: the GIL orders them,
   and TSan's atomics would only slow that pass down. */
#define luai_tvload(io1,io2) do { \
  if (luai_ft()) { \
    unsigned __int128 v_ = __atomic_load_n( \
        (const unsigned __int128 *)(const void *)(io2), __ATOMIC_ACQUIRE); \
    unsigned long long w_ = (unsigned long long)v_; \
    __builtin_memcpy(&(io1)->value_, &w_, sizeof(w_)); \
    (io1)->tt_ = (unsigned char)(v_ >> 64); \
  } \
  else { (io1)->value_ = (io2)->value_; (io1)->tt_ = (io2)->tt_; } \
  } while (0)
#define luai_tvstore(io1,io2) do { \
  if (luai_ft()) { \
    unsigned long long w_; \
    __builtin_memcpy(&w_, &(io2)->value_, sizeof(w_)); \
    __atomic_store_n((unsigned __int128 *)(void *)(io1), \
        (unsigned __int128)w_ | ((unsigned __int128)(io2)->tt_ << 64), \
        __ATOMIC_RELEASE); \
  } \
  else { (io1)->value_ = (io2)->value_; (io1)->tt_ = (io2)->tt_; } \
  } while (0)
#else
/* elsewhere: field by field, not tear-free */
#define luai_tvload(io1,io2) do { \
  (io1)->value_ = (io2)->value_; (io1)->tt_ = (io2)->tt_; } while (0)
#define luai_tvstore(io1,io2)	luai_tvload(io1,io2)
#endif

/*
** Intended races (docs/tsan.md): fields that threads read without a lock
** while another thread writes them. ThreadSanitizer builds declare them
** as atomics; elsewhere they stay the plain accesses of Lua's code (on
** x86-64 the same single loads and stores, and the VM's code is left as
** it was). Defaults in lobject.h.
*/
#if defined(__SANITIZE_THREAD__)
/* the tag of a table slot or metamethod found without a lock (tested
   before the value is copied whole with luai_tvload) */
#define luai_slottt(o)	__atomic_load_n(&(o)->tt_, __ATOMIC_RELAXED)
/* a table's or userdata's metatable: replaced without a lock */
#define luai_loadmt(t)	__atomic_load_n(&(t)->metatable, __ATOMIC_ACQUIRE)
#define luai_storemt(t,mt) \
  __atomic_store_n(&(t)->metatable, (mt), __ATOMIC_RELEASE)
/* the metatable of a basic type (debug.setmetatable(5, mt)) */
#define luai_loadbasicmt(g,t)	__atomic_load_n(&(g)->mt[t], __ATOMIC_ACQUIRE)
#define luai_storebasicmt(g,t,mt) \
  __atomic_store_n(&(g)->mt[t], (mt), __ATOMIC_RELEASE)
/* a table's flags: the metamethod-absence cache (its bits are set and
   cleared with atomic read-modify-writes) */
#define luai_loadflags(t)	__atomic_load_n(&(t)->flags, __ATOMIC_RELAXED)
/* the array part, read by the VM's fast path after its limit */
#define luai_loadarray(t)	__atomic_load_n(&(t)->array, __ATOMIC_ACQUIRE)
/* the place of an upvalue's value (moved when it closes or its stack
   is reallocated) */
#define luai_loaduv(uv)	__atomic_load_n(&(uv)->v, __ATOMIC_ACQUIRE)
/* the collector's debt: threads add their allocations to it */
#define luai_loaddebt(g)	__atomic_load_n(&(g)->GCdebt, __ATOMIC_RELAXED)
/* the collector's colors, written under its lists' lock by barriers:
   the barriers test them under that lock too (lgc.h) */
#define luai_barrierlocked()	luai_ft()
/* the collector's stop flags (collectgarbage("stop") in any thread) */
#define luai_loadgcstp(g)	__atomic_load_n(&(g)->gcstp, __ATOMIC_RELAXED)
#define luai_storegcstp(g,v) \
  __atomic_store_n(&(g)->gcstp, (lu_byte)(v), __ATOMIC_RELAXED)
#endif

/* lmem.c: per-thread allocation debt */
void ct_ft_adddebt (struct global_State *g, ptrdiff_t d);
#define luai_adddebt(g,d) \
  (ct_ft_localdebt ? ct_ft_adddebt((g), (d)) : (void)((g)->GCdebt += (d)))

/* lgc.c, lstate.c: object lists, finalizers, collections */
void ct_ft_linkgc (struct lua_State *L, struct GCObject *o);
void ct_ft_checkfinalizer (struct lua_State *L, struct GCObject *o,
                           struct Table *mt);
void ct_ft_collect (struct lua_State *L, int how);  /* 0 step, 1 emergency,
                                                       2 full */
#define luai_linkgc(L,g,o) \
  { if (luai_ft()) ct_ft_linkgc(L, o); \
    else { (o)->next = (g)->allgc; (g)->allgc = (o); } }
#define luai_ftcheckfinalizer(L,o,mt)	ct_ft_checkfinalizer(L,o,mt)
#define luai_ftcollect(L,e)	ct_ft_collect(L,e)
#define luai_ftidle(L)	((void)(L))
int ct_ft_gcmode (int mode);  /* lapi.c: the mode asked for, previous one */
#define luai_ftgcmode(m)	ct_ft_gcmode(m)
size_t ct_ft_totalbytes (struct global_State *g);
extern _Thread_local int ct_ft_finalizing;  /* running __gc (ct_ftgc.c) */
#define luai_infinalizer(L)	((void)(L), ct_ft_finalizing != 0)
#define luai_gctotal(g)	(luai_ft() ? ct_ft_totalbytes(g) : gettotalbytes(g))

/* lfunc.c: the list of threads with open upvalues */
void ct_ft_lockgc (void);
void ct_ft_unlockgc (void);
#define luai_lockgclists(L)	(luai_ft() ? ct_ft_lockgc() : (void)0)
#define luai_unlockgclists(L)	(luai_ft() ? ct_ft_unlockgc() : (void)0)
#define luai_publishuv(uv,slot) \
  __atomic_store_n(&(uv)->v, (slot), __ATOMIC_RELEASE)
struct UpVal;
void ct_ft_lockuv (struct UpVal *uv);
void ct_ft_unlockuv (struct UpVal *uv);
void ct_ft_setupval (struct lua_State *L, struct UpVal *uv,
                     const struct TValue *v);
#define luai_lockuv(uv)	(luai_ft() ? ct_ft_lockuv(uv) : (void)0)
#define luai_unlockuv(uv)	(luai_ft() ? ct_ft_unlockuv(uv) : (void)0)
#define luai_ftsetupval(L,uv,v)	ct_ft_setupval(L,uv,v)

/* lparser.c, ldo.c: with the GIL off, locals that closures capture and
   that are assigned are compiled as cells (read and written whole) */
int ct_ft_cells (void);
#define luai_capturecells(L)	((void)(L), ct_ft_cells())
#define luai_uvmoved(uv,p) \
  (luai_ft() && __atomic_load_n(&(uv)->v, __ATOMIC_ACQUIRE) != (p))
#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer builds read an upvalue under its lock (lvm.c's
   'getupval'). The normal build reads it without one and reads again
   when it moved meanwhile: an open upvalue's stack slot, once the
   upvalue is closed, is reused by its thread's ordinary (not atomic)
   writes, which TSan cannot pair with that optimistic read. Closing takes
   the same lock, so under it the slot is still the upvalue's. */
#define luai_getupval(d,uv) \
  { struct UpVal *uv_ = (uv); TValue *p_; \
    do { \
      if (luai_ft()) ct_ft_lockuv(uv_); \
      p_ = luai_loaduv(uv_); luai_tvload((d), p_); \
      if (luai_ft()) ct_ft_unlockuv(uv_); \
    } while (luai_uvmoved(uv_, p_)); }
#endif

/* ldo.c: old stacks are kept until the next stop-the-world */
void ct_ft_freestack (struct lua_State *L, union StackValue *s, int n);
#define luai_freestack(L,s,n) \
  { if (luai_ft()) ct_ft_freestack(L, s, n); else luaM_freearray(L, s, n); }

/* lstring.c */
struct TString *ct_ft_intern (struct lua_State *L, const char *str, size_t l);
#define luai_ftintern(L,str,l)	ct_ft_intern(L,str,l)

/* ltable.c, lvm.h, ltm.c */
const struct TValue *ct_ft_getint (struct Table *t, long long key);
const struct TValue *ct_ft_getshortstr (struct Table *t, struct TString *key);
const struct TValue *ct_ft_getgeneric (struct Table *t,
                                       const struct TValue *key, int deadok);
int ct_ft_next (struct lua_State *L, struct Table *t, union StackValue *key);
unsigned long long ct_ft_getn (struct Table *t);
void ct_ft_set (struct lua_State *L, struct Table *t,
                const struct TValue *key, struct TValue *value);
void ct_ft_resize (struct lua_State *L, struct Table *t, unsigned int nasize,
                   unsigned int nhsize);
void ct_ft_storeslot (struct lua_State *L, struct Table *t,
                      const struct TValue *slot, const struct TValue *v);
void ct_ft_cachenotm (struct Table *t, int event, struct TString *ename);
#define luai_ftgetint(t,k)	ct_ft_getint(t,k)
#define luai_ftgetshortstr(t,k)	ct_ft_getshortstr(t,k)
#define luai_ftgetgeneric(t,k,d)	ct_ft_getgeneric(t,k,d)
#define luai_ftnext(L,t,k)	ct_ft_next(L,t,k)
#define luai_ftgetn(t)	ct_ft_getn(t)
#define luai_ftset(L,t,k,v)	ct_ft_set(L,t,k,v)
#define luai_ftresize(L,t,na,nh)	ct_ft_resize(L,t,na,nh)
#define luai_ftstoreslot(L,t,slot,v)	ct_ft_storeslot(L,t,slot,v)
#define luai_ftcachenotm(t,e,n)	ct_ft_cachenotm(t,(int)(e),n)
#define luai_loadalimit(t)	__atomic_load_n(&(t)->alimit, __ATOMIC_ACQUIRE)

/* lcorolib.c: a coroutine runs in one thread at a time */
int ct_coacquire (struct lua_State *L, struct lua_State *co);
void ct_corelease (struct lua_State *co);
#define luai_coacquire(L,co)	ct_coacquire(L,co)
#define luai_corelease(L,co)	ct_corelease(co)
/* lstate.c: a new thread starts with no owner (extra space is copied
   from the main thread's), and so does a new state's main thread (Lua
   leaves its extra space uninitialized: garbage there made the main
   thread look claimed by another thread, under ASan's filled mallocs) */
#define luai_userstatethread(L,L1) \
  ((void)(L), *(void **)(void *)((char *)(L1) - sizeof(void *)) = NULL)
#define luai_userstateopen(L) \
  (*(void **)(void *)((char *)(L) - sizeof(void *)) = NULL)

/* lmathlib.c */
void ct_ft_randlock (void);
void ct_ft_randunlock (void);
#define luai_randlock()	(luai_ft() ? ct_ft_randlock() : (void)0)
#define luai_randunlock()	(luai_ft() ? ct_ft_randunlock() : (void)0)

/* liolib.c */
int ct_ft_fclose (struct lua_State *L, FILE *f);
#define luai_fclose(L,f)	(luai_ft() ? ct_ft_fclose(L, f) : fclose(f))

#endif
