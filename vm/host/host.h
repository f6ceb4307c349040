/*
** The command-line host: options (host_main.c), running chunks
** (host_run.c), the REPL (repl.c) and --compare (compare.c).
*/
#ifndef HOST_H
#define HOST_H

#include <stdio.h>

#include "lua.h"

#define PROGNAME "cthreads"

/* the prefix of error reports: PROGNAME, or NULL in the REPL (as lua) */
extern const char *host_progname;

/* the last error that host_report printed was a Ctrl-C's */
extern int host_interrupted;

/* reports a failed status: prints the message on the stack to stderr */
int host_report (lua_State *L, int status);
/* runs the function on the stack with 'narg' arguments under a traceback */
int host_docall (lua_State *L, int narg, int nres);
int host_dostring (lua_State *L, const char *s, const char *name);

void host_usage (FILE *out);

/* the interactive loop; returns when input ends */
void host_repl (lua_State *L);

/* --compare: runs this program on 'argv' (without --compare) with the GIL
   on and off and prints the two timings; returns the exit status.
   'script' is the script's index in argv (argc when none), 'has_e' says
   -e was given. */
int host_compare (int argc, char **argv, int script, int has_e);

#endif
