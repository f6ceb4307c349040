/*
** The command-line host: options (host_main.c), running chunks
** (host_run.c), the REPL (repl.c) and --compare (compare.c).
*/
#ifndef HOST_H
#define HOST_H

#include "lua.h"

#define PROGNAME "cthreads"

/* reports a failed status: prints the message on the stack to stderr */
int host_report (lua_State *L, int status);
/* runs the function on the stack with 'narg' arguments under a traceback */
int host_docall (lua_State *L, int narg, int nres);
int host_dostring (lua_State *L, const char *s, const char *name);

/* the interactive loop; returns when input ends */
void host_repl (lua_State *L);

/* --compare: runs this program on 'argv' (without --compare) with the GIL
   on and off and prints the two timings; returns the exit status */
int host_compare (int argc, char **argv, const char *script);

#endif
