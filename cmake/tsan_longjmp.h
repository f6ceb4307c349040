/*
** Forced (-include) into the Lua core files of the TSan build only
** (CTHREADS_TSAN, see CMakeLists.txt). On POSIX Lua raises errors with
** _setjmp/_longjmp; GCC 12's TSan runtime does not unwind its shadow stack
** on _longjmp, so every error raised inside the VM (a type error, a syntax
** error from load) leaked the frames it unwound: about 1 MB of TSan memory
** per error, gigabytes over a stress run, and ever deeper bogus stacks in
** its reports. longjmp is unwound properly, so this build uses it (ldo.c
** takes these when they are defined).
*/
#include <setjmp.h>
#define LUAI_THROW(L,c)		longjmp((c)->b, 1)
#define LUAI_TRY(L,c,a)		if (setjmp((c)->b) == 0) { a }
#define luai_jmpbuf		jmp_buf
