/*
** Interning short strings with the GIL off. Lookups walk a chain without
** a lock: chains only grow at their head (published with a release
** store after the string is complete), strings leave them only when the
** world is stopped, and the table is resized only then. Insertions take
** one of a few striped locks and look again under it; one that finds
** twice as many strings as slots asks for a stop that grows the table.
*/
#include <string.h>

#include "ct_fthooks.h"  /* first: the Lua headers read its macros */
#include "ct_internal.h"
#include "ct_luahooks.h"  /* ct_breaker_word */
#include "ct_spin.h"
#include "lua.h"
#include "lstate.h"
#include "lstring.h"
#include "lgc.h"
#include "lmem.h"

#define NSTRIPES 64
static struct { unsigned w; char pad[60]; } stripes[NSTRIPES];

static TString *find (TString **list, const char *str, size_t l) {
  TString *ts;
  for (ts = __atomic_load_n(list, __ATOMIC_ACQUIRE); ts != NULL;
       ts = __atomic_load_n(&ts->u.hnext, __ATOMIC_ACQUIRE)) {
    if (l == ts->shrlen && memcmp(str, getstr(ts), l * sizeof(char)) == 0)
      return ts;
  }
  return NULL;
}

TString *ct_ft_intern (lua_State *L, const char *str, size_t l) {
  global_State *g = G(L);
  stringtable *tb = &g->strt;
  unsigned int h = luaS_hash(str, l, g->seed);
  unsigned int idx = lmod(h, tb->size);
  TString **list = &tb->hash[idx];
  unsigned *lock = &stripes[idx % NSTRIPES].w;
  TString *ts = find(list, str, l);
  TString *nts;
  if (ts != NULL) return ts;
  /* made before taking the lock (allocation may raise an error) */
  nts = gco2ts(luaC_newobj(L, LUA_VSHRSTR, sizelstring(l)));
  nts->hash = h;
  nts->extra = 0;
  memcpy(getstr(nts), str, l * sizeof(char));
  getstr(nts)[l] = '\0';
  nts->shrlen = cast_byte(l);
  ct_spin_lock(lock);
  ts = find(list, str, l);  /* another thread may have added it */
  if (ts == NULL) {
    nts->u.hnext = *list;
    __atomic_store_n(list, nts, __ATOMIC_RELEASE);
    int nuse = __atomic_add_fetch(&tb->nuse, 1, __ATOMIC_RELAXED);
    ts = nts;
    if (nuse >= 2 * tb->size &&  /* chains getting long: a stop grows it */
        !(__atomic_load_n(&ct_breaker_word, __ATOMIC_RELAXED) & CT_BREAK_STRGROW))
      ct_breaker_set(CT_BREAK_STRGROW);
  }
  ct_spin_unlock(lock);
  if (ts != nts) {  /* unused: let it be collected as a long string,
                       which is not in the string table */
    nts->tt = LUA_VLNGSTR;
    nts->u.lnglen = l;
  }
  return ts;
}
