/*
** The eval breaker: one word of CT_BREAK_* bits that the VM tests at
** backward jumps and calls (patch 0003). Setting a bit makes the running
** thread(s) call ct_breaker_handle within a few instructions. Ctrl-C sets
** CT_BREAK_SIGNAL; the main thread turns it into an error.
*/
#include <signal.h>
#include <string.h>

#include "ct_internal.h"
#include "lauxlib.h"

int ct_breaker_word = 0;

void ct_breaker_set (unsigned bits) {
  __atomic_fetch_or(&ct_breaker_word, (int)bits, __ATOMIC_SEQ_CST);
}

void ct_breaker_clear (unsigned bits) {
  __atomic_fetch_and(&ct_breaker_word, ~(int)bits, __ATOMIC_SEQ_CST);
}

void ct_check_interrupt (lua_State *L) {
  ct_tstate *ts = ct_current;
  if (ts == NULL || !ts->is_main) return;
  if (__atomic_exchange_n(&ct_rt.interrupt_pending, 0, __ATOMIC_SEQ_CST)) {
    ct_breaker_clear(CT_BREAK_SIGNAL);
    luaL_where(L, 1);
    lua_pushliteral(L, "interrupted!");
    lua_concat(L, 2);
    lua_pushvalue(L, -1);  /* remembered, for ct_is_interrupt */
    lua_setfield(L, LUA_REGISTRYINDEX, CT_INTERRUPT_KEY);
    lua_error(L);
  }
}

int ct_is_interrupt (lua_State *L, int idx) {
  int is;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TSTRING) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, CT_INTERRUPT_KEY);
  is = lua_rawequal(L, idx, -1);
  lua_pop(L, 1);
  return is;
}

void ct_breaker_handle (lua_State *L) {
  ct_tstate *ts = ct_current;
  unsigned bits = (unsigned)__atomic_load_n(&ct_breaker_word, __ATOMIC_SEQ_CST);
  if (ts == NULL) return;  /* a thread the runtime does not know */
  if (bits & CT_BREAK_SIGNAL)
    ct_check_interrupt(L);
  if (bits & CT_BREAK_DEFERRED)
    ct_defer_tick(ts);
  if ((bits & CT_BREAK_GIL_DROP) && ct_rt.gil_on)
    ct_gil_forced_switch(ts);
  if (bits & CT_BREAK_STW)
    ct_stw_park(ts);
  if (bits & CT_BREAK_STRGROW)
    ct_ft_growstrings(L);
}

/* A second Ctrl-C while the first is still pending (the main thread is
   stuck in C code that never checks, or in a wait that ignores signals)
   ends the process, as lua's second Ctrl-C does. */
static void on_sigint (int sig) {
  if (__atomic_exchange_n(&ct_rt.interrupt_pending, 1, __ATOMIC_SEQ_CST)) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  ct_breaker_set(CT_BREAK_SIGNAL);
}

/* No SA_RESTART: a main thread blocked in a futex wait or a sleep gets
   EINTR and raises the error at once. Threads started by the runtime
   block SIGINT, so the kernel delivers it to the main thread. */
void ct_catch_sigint (void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, NULL);
}

/* Clears a pending Ctrl-C and says whether there was one (for a host that
   handles it itself, as the REPL does at its prompt). */
int ct_take_interrupt (void) {
  if (__atomic_exchange_n(&ct_rt.interrupt_pending, 0, __ATOMIC_SEQ_CST)) {
    ct_breaker_clear(CT_BREAK_SIGNAL);
    return 1;
  }
  return 0;
}
