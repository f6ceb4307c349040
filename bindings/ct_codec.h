/*
** The value codec: everything that crosses a process boundary (queues,
** pipes, pools, the manager) is encoded to bytes by the sender and decoded
** into fresh values by the receiver. See ct_codec.c for the format.
*/
#ifndef CT_CODEC_H
#define CT_CODEC_H

#include <stddef.h>

#include "ct_handle.h"
#include "lua.h"

typedef struct ct_buf {
  char *p;
  size_t len, cap;
} ct_buf;

int ct_buf_reserve (ct_buf *b, size_t extra);  /* 0 when out of memory */
void ct_buf_free (ct_buf *b);

/* Appends the encoding of the value at 'idx' to 'b' (which may hold a
   frame header already). Returns 1, or 0 with a message in 'err' (and 'b'
   back to its length before the call); never raises except on memory
   errors. Shared objects inside gain a reference owned by the encoding. */
int ct_encode (lua_State *L, int idx, ct_buf *b, char *err, size_t errsize);

/* Decodes one value from p[0..n) and pushes it. 'adopt': the shared
   objects inside take over the encoding's references (each message is
   decoded once); otherwise they gain new ones. Returns 1, or 0 with a
   message in 'err' and nothing pushed. */
int ct_decode (lua_State *L, const char *p, size_t n, int adopt,
               char *err, size_t errsize);

/* drops the references held by an encoding that will never be decoded */
void ct_codec_release (const char *p, size_t n);

/* Handles that are not shared objects but can still be sent (connections):
   'encode' appends a payload for the handle, 'decode' pushes a new handle
   from it (returning 0 with a message in err on failure). */
typedef struct ct_codec_ext {
  const ct_kind *kind;
  int (*encode) (lua_State *L, void *handle, ct_buf *b, char *err, size_t errsize);
  int (*decode) (lua_State *L, const char *p, size_t n, char *err, size_t errsize);
} ct_codec_ext;
void ct_codec_register_ext (int id, const ct_codec_ext *ext);

/* Classes (bindings/ct_class.c): push the map from a class to its
   identity (a string), or the one from an identity to its class; record
   enters the class at 'cls' under the identity at 'id' in both. */
void ct_class_push_ids (lua_State *L);
void ct_class_push_by_id (lua_State *L);
void ct_class_record (lua_State *L, int cls, int id);

/* buffers reused by a thread; put them back when done */
ct_buf ct_buf_take (void);
void ct_buf_give (ct_buf *b);
/* frees the calling thread's spare buffer (the process is leaving) */
void ct_buf_free_spare (void);

#endif
