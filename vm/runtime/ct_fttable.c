/*
** Tables with the GIL off.
**
** Readers take no lock. They read a consistent view of the table's parts
** (array, its size, node vector, its size) checked by the table's resize
** counter 'ctseq' (odd while a resize publishes new parts), then search
** that view. Parts replaced by a resize are retired, not freed, until
** the next stop-the-world, so a view stays readable however stale.
**
** Writers take the table's lock 'ctlock' (the owner's thread id, so a
** writer may re-enter for the same table). While threads run, a node's
** key is written once, into a node that never had one (key value, then
** its tag with a release store), and a new node is linked into a chain
** after it is complete: a reader never sees a key change under it, and
** a slot found for a key stays that key's slot in that view. Lua's own
** insertion moves colliding nodes around; this one instead links the new
** node after the main position, which keeps every key reachable from
** its main position. Array parts never shrink while threads run.
**
** Values are read and written whole (luai_tvload/luai_tvstore), so a
** reader gets one writer's value, never half of two.
*/
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct_fthooks.h"  /* first: the Lua headers read its macros */
#include "ct_internal.h"
#include "ct_spin.h"
#include "ct_ftgc.h"
#include "lua.h"
#include "lobject.h"
#include "lstate.h"
#include "ltable.h"
#include "lgc.h"
#include "ldebug.h"
#include "ldo.h"
#include "lvm.h"
#include "lstring.h"
#include "ltm.h"

#define FT_MAXBITS	26  /* largest part: 2^26 slots */

/* ThreadSanitizer does not model fences; on x86-64 an acquire or release
   fence is only a compiler barrier, which is what TSan builds keep */
#if defined(__SANITIZE_THREAD__)
#define ct_fence(o)	__asm__ volatile ("" ::: "memory")
#else
#define ct_fence(o)	__atomic_thread_fence(o)
#endif

static const TValue absent = {ABSTKEYCONSTANT};


/* {======================================================
** The table lock
** ======================================================= */

static _Thread_local unsigned my_id;

static unsigned thread_id (void) {
  if (my_id == 0) my_id = (unsigned)syscall(SYS_gettid);
  return my_id;
}

/* 1 when taken now, 0 when this thread holds it already */
static int tlock (Table *t) {
  unsigned me = thread_id();
  unsigned n = 0;
  if (__atomic_load_n(&t->ctlock, __ATOMIC_RELAXED) == me) return 0;
  for (;;) {
    unsigned z = 0;
    if (__atomic_load_n(&t->ctlock, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(&t->ctlock, &z, me, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return 1;
    if (++n < 64) ct_cpu_relax();
    else sched_yield();
  }
}

static void tunlock (Table *t, int taken) {
  if (taken) __atomic_store_n(&t->ctlock, 0, __ATOMIC_RELEASE);
}

/* an error while holding the lock: let it go first */
static l_noret tthrow (lua_State *L, Table *t, const char *msg) {
  __atomic_store_n(&t->ctlock, 0, __ATOMIC_RELEASE);
  if (msg != NULL) luaG_runerror(L, "%s", msg);
  luaD_throw(L, LUA_ERRMEM);
}

/* }====================================================== */


/* {======================================================
** Views and searches (no lock)
** ======================================================= */

typedef struct View {
  TValue *array;
  unsigned int asize;
  Node *node;
  lu_byte lsz;
  int dummy;
} View;

static unsigned int real_asize (unsigned int lim, lu_byte flags) {
  if (!(flags & BITRAS) || ispow2(lim)) return lim;
  lim |= lim >> 1;
  lim |= lim >> 2;
  lim |= lim >> 4;
  lim |= lim >> 8;
  lim |= lim >> 16;
  return lim + 1;
}

static void view (Table *t, View *v) {
  for (;;) {
    unsigned int q = __atomic_load_n(&t->ctseq, __ATOMIC_ACQUIRE);
    if ((q & 1) == 0) {
      v->array = __atomic_load_n(&t->array, __ATOMIC_RELAXED);
      v->asize = real_asize(__atomic_load_n(&t->alimit, __ATOMIC_RELAXED),
                            __atomic_load_n(&t->flags, __ATOMIC_RELAXED));
      v->node = __atomic_load_n(&t->node, __ATOMIC_RELAXED);
      v->lsz = __atomic_load_n(&t->lsizenode, __ATOMIC_RELAXED);
      v->dummy = __atomic_load_n(&t->lastfree, __ATOMIC_RELAXED) == NULL;
      ct_fence(__ATOMIC_ACQUIRE);
      if (__atomic_load_n(&t->ctseq, __ATOMIC_RELAXED) == q) return;
    }
    ct_cpu_relax();
  }
}

/* only the node part (node and size): enough for any key that is not
   looked up in the array part, i.e. for everything but integer keys.
   Inlined by force: it is on the path of every field read, where a call
   cost about 10% of ct_ft_getshortstr's instructions. */
static inline __attribute__((always_inline)) void node_view (Table *t,
                                                             View *v) {
  for (;;) {
    unsigned int q = __atomic_load_n(&t->ctseq, __ATOMIC_ACQUIRE);
    if (luai_likely((q & 1) == 0)) {
      v->node = __atomic_load_n(&t->node, __ATOMIC_RELAXED);
      v->lsz = __atomic_load_n(&t->lsizenode, __ATOMIC_RELAXED);
      ct_fence(__ATOMIC_ACQUIRE);
      if (luai_likely(__atomic_load_n(&t->ctseq, __ATOMIC_RELAXED) == q))
        return;
    }
    ct_cpu_relax();
  }
}

static Node *mainpos (const View *v, const TValue *key) {
  Table tmp;  /* Lua's hashing reads only these two fields */
  tmp.node = v->node;
  tmp.lsizenode = v->lsz;
  return luaH_mainposition(&tmp, key);
}

static int keytag (const Node *n) {
  return __atomic_load_n(&n->u.key_tt, __ATOMIC_ACQUIRE);
}

static Node *nextnode (Node *n) {
  int nx = __atomic_load_n(&gnext(n), __ATOMIC_ACQUIRE);
  return nx == 0 ? NULL : n + nx;
}

/* raw equality of 'key' and the key of 'n' (tag 'kt'); 'deadok' as in
   ltable.c's equalkey */
static int samekey (const Node *n, int kt, const TValue *key, int deadok) {
  if (kt != rawtt(key) && !(deadok && kt == LUA_TDEADKEY && iscollectable(key)))
    return 0;
  switch (kt) {
    case LUA_VNIL: case LUA_VFALSE: case LUA_VTRUE:
      return 1;
    case LUA_VNUMINT:
      return ivalue(key) == keyival(n);
    case LUA_VNUMFLT:
      return luai_numeq(fltvalue(key), fltvalueraw(keyval(n)));
    case LUA_VLIGHTUSERDATA:
      return pvalue(key) == pvalueraw(keyval(n));
    case LUA_VLCF:
      return fvalue(key) == fvalueraw(keyval(n));
    case ctb(LUA_VLNGSTR):
      return luaS_eqlngstr(tsvalue(key), keystrval(n));
    default:
      return gcvalue(key) == gcvalueraw(keyval(n));
  }
}

static const TValue *search (const View *v, const TValue *key, int deadok) {
  Node *n = mainpos(v, key);
  do {
    if (samekey(n, keytag(n), key, deadok)) return gval(n);
  } while ((n = nextnode(n)) != NULL);
  return &absent;
}

static const TValue *getint_view (const View *v, lua_Integer key) {
  if (l_castS2U(key) - 1u < v->asize)
    return &v->array[key - 1];
  else {
    TValue k;
    Node *n;
    setivalue(&k, key);
    n = mainpos(v, &k);
    do {
      if (keytag(n) == LUA_VNUMINT && keyival(n) == key) return gval(n);
    } while ((n = nextnode(n)) != NULL);
    return &absent;
  }
}

static inline __attribute__((always_inline)) const TValue *getshortstr_view (
    const View *v, TString *key) {
  Node *n = &v->node[lmod(key->hash, twoto(v->lsz))];
  do {
    if (keytag(n) == ctb(LUA_VSHRSTR) && keystrval(n) == key) return gval(n);
  } while ((n = nextnode(n)) != NULL);
  return &absent;
}

/* 'key' already normalized (no float with an integer value) */
static const TValue *get_view (const View *v, const TValue *key) {
  switch (ttypetag(key)) {
    case LUA_VSHRSTR: return getshortstr_view(v, tsvalue(key));
    case LUA_VNUMINT: return getint_view(v, ivalue(key));
    case LUA_VNIL: return &absent;
    default: return search(v, key, 0);
  }
}

const TValue *ct_ft_getint (Table *t, lua_Integer key) {
  View v;
  view(t, &v);
  return getint_view(&v, key);
}

/* The commonest read (a field, a global) needs only the node part: its
   two fields read under the resize counter, the search inlined. This
   took nbody's field reads from about 32% of its time to about 15%. */
const TValue *ct_ft_getshortstr (Table *t, TString *key) {
  View v;
  node_view(t, &v);
  return getshortstr_view(&v, key);
}

/* Lua's getgeneric: it searches the node part only (an integer key is
   there too when this is called for it), so the array needs no reading */
const TValue *ct_ft_getgeneric (Table *t, const TValue *key, int deadok) {
  View v;
  node_view(t, &v);
  return search(&v, key, deadok);
}

/* a border of 't' (see luaH_getn), found without writing anything */
lua_Unsigned ct_ft_getn (Table *t) {
  View v;
  lua_Unsigned i, j;
  view(t, &v);
  if (v.asize > 0 && slotisempty(&v.array[v.asize - 1])) {
    unsigned int lo = 0, hi = v.asize;  /* lo present (or 0), hi absent */
    while (hi - lo > 1u) {
      unsigned int m = (lo + hi) / 2;
      if (slotisempty(&v.array[m - 1])) hi = m;
      else lo = m;
    }
    return lo;
  }
  if (v.dummy || slotisempty(getint_view(&v, (lua_Integer)v.asize + 1)))
    return v.asize;
  i = j = v.asize;  /* j + 1 is present: double until absent */
  if (j == 0) j = 1;
  do {
    i = j;
    if (j <= l_castS2U(LUA_MAXINTEGER) / 2) j *= 2;
    else {
      j = LUA_MAXINTEGER;
      if (slotisempty(getint_view(&v, (lua_Integer)j))) break;
      return j;
    }
  } while (!slotisempty(getint_view(&v, (lua_Integer)j)));
  while (j - i > 1u) {
    lua_Unsigned m = (i + j) / 2;
    if (slotisempty(getint_view(&v, (lua_Integer)m))) j = m;
    else i = m;
  }
  return i;
}

int ct_ft_next (lua_State *L, Table *t, StkId key) {
  View v;
  TValue *k = s2v(key);
  unsigned int i, size;
  view(t, &v);
  if (ttisnil(k)) i = 0;  /* first iteration */
  else {
    i = (ttisinteger(k) && l_castS2U(ivalue(k)) - 1u < v.asize)
        ? cast_uint(ivalue(k)) : 0;
    if (i == 0) {  /* in the hash part */
      /* a live key first: a dead one may share its address (this code
         never reuses a dead key's node), and taking it would restart the
         traversal before the live one */
      const TValue *n = search(&v, k, 0);
      if (isabstkey(n)) n = search(&v, k, 1);
      if (luai_unlikely(isabstkey(n)))
        luaG_runerror(L, "invalid key to 'next'");  /* key not found */
      i = cast_uint(nodefromval(n) - v.node) + 1 + v.asize;
    }
  }
  for (; i < v.asize; i++) {
    TValue val;
    luai_tvload(&val, &v.array[i]);
    if (!isempty(&val)) {
      setivalue(k, i + 1);
      setobj2s(L, key + 1, &val);
      return 1;
    }
  }
  size = v.dummy ? 0 : cast_uint(twoto(v.lsz));
  for (i -= v.asize; i < size; i++) {
    Node *n = v.node + i;
    TValue val;
    luai_tvload(&val, gval(n));
    if (!isempty(&val)) {  /* the key was complete before the value */
      int kt;
      ct_fence(__ATOMIC_ACQUIRE);
      kt = keytag(n);
      k->value_ = n->u.key_val;
      settt_(k, kt);
      setobj2s(L, key + 1, &val);
      return 1;
    }
  }
  return 0;
}

/* }====================================================== */


/* {======================================================
** Writers (table lock held)
** ======================================================= */

static void setkey (Node *n, const TValue *key) {
  n->u.key_val = key->value_;
  __atomic_store_n(&n->u.key_tt, key->tt_, __ATOMIC_RELEASE);
}

/* 'lastfree' and a free node's 'next' are read by searches (no lock) */
static Node *freepos (Table *t) {
  Node *f = t->lastfree;
  if (f == NULL) return NULL;
  while (f > t->node) {
    f--;
    __atomic_store_n(&t->lastfree, f, __ATOMIC_RELAXED);
    if (keyisnil(f)) return f;
  }
  return NULL;
}

/* a node for the new key 'key' (value still empty), or NULL when full */
static Node *newkey (Table *t, const TValue *key) {
  Node *mp, *f;
  if (t->lastfree == NULL) return NULL;  /* dummy node */
  mp = luaH_mainposition(t, key);
  if (keyisnil(mp)) {  /* never used: in no chain */
    setkey(mp, key);
    return mp;
  }
  f = freepos(t);
  if (f == NULL) return NULL;
  setkey(f, key);
  __atomic_store_n(&gnext(f), gnext(mp) != 0 ? cast_int((mp + gnext(mp)) - f) : 0,
                   __ATOMIC_RELAXED);
  __atomic_store_n(&gnext(mp), cast_int(f - mp), __ATOMIC_RELEASE);
  return f;
}

static void *rawalloc (lua_State *L, Table *t, size_t size,
                       void *undo, size_t undosize) {
  global_State *g = G(L);
  void *p = (*g->frealloc)(g->ud, NULL, 0, size);
  if (p == NULL) {
    if (undo != NULL) {
      (*g->frealloc)(g->ud, undo, undosize, 0);
      ct_ft_adddebt(g, -(ptrdiff_t)undosize);
    }
    tthrow(L, t, NULL);
  }
  ct_ft_adddebt(g, (ptrdiff_t)size);
  return p;
}

static void resize_locked (lua_State *L, Table *t, unsigned int nasize,
                           unsigned int nhsize) {
  unsigned int oasize = real_asize(t->alimit, luai_loadflags(t));
  TValue *oarray = t->array, *narray = t->array;
  Node *onode = t->node, *nnode;
  int odummy = (t->lastfree == NULL);
  lu_byte olsz = t->lsizenode, nlsz = 0;
  Node *nlastfree;
  size_t nodebytes = 0;
  Table tmp;
  unsigned int i;
  if (nasize < oasize) nasize = oasize;  /* never shrinks under readers */
  if (nasize > (1u << FT_MAXBITS)) tthrow(L, t, "table overflow");
  if (nhsize == 0 && odummy) {
    nnode = onode;
    nlastfree = NULL;
  }
  else {
    int lsize = nhsize > 0 ? luaO_ceillog2(nhsize) : 0;
    size_t n;
    if (lsize > FT_MAXBITS) tthrow(L, t, "table overflow");
    n = (size_t)1 << lsize;
    nodebytes = n * sizeof(Node);
    nnode = (Node *)rawalloc(L, t, nodebytes, NULL, 0);
    for (i = 0; i < n; i++) {
      gnext(&nnode[i]) = 0;
      setnilkey(&nnode[i]);
      setempty(gval(&nnode[i]));
    }
    nlsz = cast_byte(lsize);
    nlastfree = nnode + n;
  }
  if (nasize > oasize) {
    narray = (TValue *)rawalloc(L, t, nasize * sizeof(TValue),
                                nnode != onode ? nnode : NULL, nodebytes);
    if (oasize > 0) memcpy(narray, oarray, oasize * sizeof(TValue));
    for (i = oasize; i < nasize; i++) setempty(&narray[i]);
  }
  /* the new parts, filled before anyone can see them */
  tmp.node = nnode;
  tmp.lsizenode = nlsz;
  tmp.lastfree = nlastfree;
  if (nnode != onode && !odummy) {
    size_t n = (size_t)twoto(olsz);
    for (i = 0; i < n; i++) {
      Node *old = &onode[i];
      if (!isempty(gval(old))) {
        TValue k;
        getnodekey(L, &k, old);
        if (ttisinteger(&k) && l_castS2U(ivalue(&k)) - 1u < nasize)
          narray[ivalue(&k) - 1] = *gval(old);
        else {
          Node *m = newkey(&tmp, &k);
          lua_assert(m != NULL);
          if (m != NULL) *gval(m) = *gval(old);
        }
      }
    }
  }
  {  /* publish: readers retry while 'ctseq' is odd or changed */
    unsigned int q = t->ctseq;
    __atomic_store_n(&t->ctseq, q + 1, __ATOMIC_RELAXED);
    ct_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&t->array, narray, __ATOMIC_RELEASE);  /* see lvm.h */
    __atomic_store_n(&t->node, nnode, __ATOMIC_RELAXED);
    __atomic_store_n(&t->lsizenode, nlsz, __ATOMIC_RELAXED);
    __atomic_store_n(&t->lastfree, nlastfree, __ATOMIC_RELAXED);
    __atomic_fetch_and(&t->flags, cast_byte(~BITRAS), __ATOMIC_RELAXED);
    /* after the array: the VM's fast path reads the limit first */
    __atomic_store_n(&t->alimit, nasize, __ATOMIC_RELEASE);
    __atomic_store_n(&t->ctseq, q + 2, __ATOMIC_RELEASE);
  }
  if (narray != oarray && oarray != NULL)
    ct_ft_retire(L, oarray, oasize * sizeof(TValue), CT_RETIRED_ARRAY);
  if (nnode != onode && !odummy)
    ct_ft_retire(L, onode, (size_t)twoto(olsz) * sizeof(Node), CT_RETIRED_NODES);
}

static void countint (lua_Integer k, unsigned int *nums) {
  if (l_castS2U(k) - 1u < (1u << FT_MAXBITS))
    nums[luaO_ceillog2(cast_uint(k))]++;
}

/* grows 't' for one more key 'ek', as Lua's rehash does: the array part
   gets the largest power of two n with more than n/2 of 1..n in use */
static void rehash_locked (lua_State *L, Table *t, const TValue *ek) {
  unsigned int nums[FT_MAXBITS + 1];
  unsigned int asize = real_asize(t->alimit, luai_loadflags(t));
  unsigned int total = 0, nasize = 0, inarray = 0, a = 0, twotoi, i;
  memset(nums, 0, sizeof nums);
  for (i = 0; i < asize; i++)
    if (!isempty(&t->array[i])) { countint((lua_Integer)i + 1, nums); total++; }
  if (t->lastfree != NULL) {
    unsigned int n = cast_uint(twoto(t->lsizenode));
    for (i = 0; i < n; i++) {
      Node *nd = &t->node[i];
      if (!isempty(gval(nd))) {
        total++;
        if (keyisinteger(nd)) countint(keyival(nd), nums);
      }
    }
  }
  total++;
  if (ttisinteger(ek)) countint(ivalue(ek), nums);
  for (i = 0, twotoi = 1; i <= FT_MAXBITS; i++, twotoi *= 2) {
    a += nums[i];
    if (a > twotoi / 2) nasize = twotoi;
  }
  if (nasize < asize) nasize = asize;
  /* keys that will live in the array part: count them exactly */
  for (i = 0; i < asize; i++)
    if (!isempty(&t->array[i])) inarray++;
  if (t->lastfree != NULL) {
    unsigned int n = cast_uint(twoto(t->lsizenode));
    for (i = 0; i < n; i++) {
      Node *nd = &t->node[i];
      if (!isempty(gval(nd)) && keyisinteger(nd) &&
          l_castS2U(keyival(nd)) - 1u < nasize)
        inarray++;
    }
  }
  if (ttisinteger(ek) && l_castS2U(ivalue(ek)) - 1u < nasize) inarray++;
  resize_locked(L, t, nasize, total - inarray);
}

static void insert_locked (lua_State *L, Table *t, const TValue *key,
                           const TValue *value) {
  for (;;) {
    Node *n = newkey(t, key);
    if (n != NULL) {
      luai_tvstore(gval(n), value);
      /* the key is new in 't': as luaH_newkey (callers check the value) */
      luaC_barrierback(L, obj2gco(t), key);
      return;
    }
    rehash_locked(L, t, key);
    if (ttisinteger(key) &&
        l_castS2U(ivalue(key)) - 1u < real_asize(t->alimit, luai_loadflags(t))) {
      luai_tvstore(&t->array[ivalue(key) - 1], value);
      return;
    }
  }
}

/* t[key] = value, with the lock held */
static void set_locked (lua_State *L, Table *t, const TValue *key,
                        const TValue *value) {
  View v;
  const TValue *slot;
  view(t, &v);
  slot = get_view(&v, key);
  if (!isabstkey(slot))
    luai_tvstore(cast(TValue *, slot), value);
  else if (!ttisnil(value))
    insert_locked(L, t, key, value);
}

void ct_ft_set (lua_State *L, Table *t, const TValue *key, TValue *value) {
  TValue aux;
  int taken;
  if (luai_unlikely(ttisnil(key)))
    luaG_runerror(L, "table index is nil");
  else if (ttisfloat(key)) {
    lua_Number f = fltvalue(key);
    lua_Integer k;
    if (luaV_flttointeger(f, &k, F2Ieq)) {  /* an integer in disguise */
      setivalue(&aux, k);
      key = &aux;
    }
    else if (luai_unlikely(luai_numisnan(f)))
      luaG_runerror(L, "table index is NaN");
  }
  taken = tlock(t);
  set_locked(L, t, key, value);
  invalidateTMcache(t);
  tunlock(t, taken);
}

void ct_ft_resize (lua_State *L, Table *t, unsigned int nasize,
                   unsigned int nhsize) {
  int taken = tlock(t);
  resize_locked(L, t, nasize, nhsize);
  tunlock(t, taken);
}

/* luaV_finishfastset: 'slot' was found for some key in a view of 't';
   store there if it is still part of 't', else (a resize came between)
   find the key again in the current parts */
void ct_ft_storeslot (lua_State *L, Table *t, const TValue *slot,
                      const TValue *v) {
  int taken = tlock(t);
  unsigned int asize = real_asize(t->alimit, luai_loadflags(t));
  if ((slot >= t->array && slot < t->array + asize) ||
      (t->lastfree != NULL && (const Node *)slot >= t->node &&
       (const Node *)slot < t->node + twoto(t->lsizenode)))
    luai_tvstore(cast(TValue *, slot), v);
  else {
    int kind;
    char *b = (char *)ct_ft_retired_block(slot, &kind);
    TValue k;
    if (b == NULL) {  /* cannot happen: slots come from some view */
      tunlock(t, taken);
      return;
    }
    if (kind == CT_RETIRED_ARRAY) {
      setivalue(&k, (lua_Integer)(((const char *)slot - b) / sizeof(TValue)) + 1);
    }
    else {
      getnodekey(L, &k, nodefromval(slot));
    }
    set_locked(L, t, &k, v);
  }
  tunlock(t, taken);
}

/* luaT_gettm found no metamethod 'event': remember it, unless a writer
   added one meanwhile (writers clear the cache under the lock) */
void ct_ft_cachenotm (Table *t, int event, TString *ename) {
  int taken = tlock(t);
  if (notm(ct_ft_getshortstr(t, ename)))
    __atomic_fetch_or(&t->flags, cast_byte(1u << event), __ATOMIC_RELAXED);
  tunlock(t, taken);
}

/* }====================================================== */
