/*
** The Lua modules of stdlib/ built into the runtime. The build embeds their
** source (cmake/embed.cmake), compiles that to Lua bytecode with
** vm/tools/ct_precompile.c, and links the bytecode: a new state loads
** every module at start, and undumping is several times faster than
** parsing.
*/
#ifndef ct_stdlib_h
#define ct_stdlib_h

#include <stddef.h>

typedef struct ct_embedded {
  const char *name;  /* module "x" is stdlib/x.lua, loaded as cthreads.x */
  const char *code;  /* source text, or a binary chunk */
  size_t size;
} ct_embedded;

/* ends with a {NULL, NULL, 0} entry */
extern const ct_embedded ct_stdlib_modules[];

/* the chunk name of module 'name', as tracebacks show it */
#define CT_STDLIB_CHUNKNAME "@cthreads/%s.lua"

#endif
