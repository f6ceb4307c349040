/*
** The shared arena (see ct_shm.h). Blocks come in power-of-two size
** classes with one free list each, under one robust process-shared mutex;
** fresh blocks are cut from the top. Large freed blocks give their pages
** back to the system. The region is reserved with MAP_NORESERVE, so only
** the pages in use cost memory.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ct_internal.h"
#include "ct_shm.h"
#include "lauxlib.h"

#define ARENA_MAGIC 0x43544d50u   /* "CTMP" */
#define BLOCK_MAGIC 0x424c4b21u
#define MIN_SHIFT 5               /* smallest block: 32 bytes, 16 usable */
#define NCLASSES 40
#define HDR 16                    /* block header; keeps bodies 16-aligned */
#define RELEASE_MIN ((size_t)1 << 20)  /* free blocks this big give pages back */

typedef struct arena_header {
  uint32_t magic;
  pthread_mutex_t lock;
  size_t size;
  size_t top;                     /* offset of the first never-used byte */
  uint64_t free_list[NCLASSES];   /* offset of the first free block, 0: none */
  size_t in_use;                  /* bytes in live blocks (statistics) */
} arena_header;

typedef struct block_header {
  uint32_t magic;
  uint32_t cls;
  uint64_t next_free;             /* while free */
} block_header;

static char *base = NULL;
static size_t arena_size = 0;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

#define AH ((arena_header *)base)

void ct_shm_mutex_init (pthread_mutex_t *m) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(m, &a);
  pthread_mutexattr_destroy(&a);
}

void ct_shm_mutex_lock (pthread_mutex_t *m) {
  int r = pthread_mutex_lock(m);
  if (r == EOWNERDEAD)  /* the holder died inside a short section: go on */
    pthread_mutex_consistent(m);
}

void ct_shm_mutex_unlock (pthread_mutex_t *m) {
  pthread_mutex_unlock(m);
}

static void map_arena (void) {
  static const size_t sizes[] = {(size_t)1 << 32, (size_t)1 << 30, (size_t)1 << 28,
                                 (size_t)1 << 26};
  size_t i;
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void *p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      base = (char *)p;
      arena_size = sizes[i];
      break;
    }
  }
  if (base == NULL) return;
  AH->magic = ARENA_MAGIC;
  ct_shm_mutex_init(&AH->lock);
  AH->size = arena_size;
  AH->top = 4096;  /* the header's page */
  AH->in_use = 0;
}

int ct_shm_init (void) {
  pthread_once(&init_once, map_arena);
  return base != NULL ? 0 : -1;
}

int ct_shm_ready (void) {
  return base != NULL;
}

static unsigned class_of (size_t need) {
  unsigned c = 0;
  size_t s = (size_t)1 << MIN_SHIFT;
  while (s < need) {
    s <<= 1;
    c++;
  }
  return c;
}

void *ct_shm_alloc (size_t n) {
  size_t need;
  unsigned cls;
  size_t bsize;
  block_header *b = NULL;
  if (ct_shm_init() != 0 || n > arena_size) return NULL;
  need = n + HDR;
  cls = class_of(need);
  if (cls >= NCLASSES) return NULL;
  bsize = (size_t)1 << (cls + MIN_SHIFT);
  ct_shm_mutex_lock(&AH->lock);
  if (AH->free_list[cls] != 0) {
    b = (block_header *)(base + AH->free_list[cls]);
    AH->free_list[cls] = b->next_free;
  }
  else if (AH->top + bsize <= AH->size) {
    b = (block_header *)(base + AH->top);
    AH->top += bsize;
  }
  if (b != NULL) AH->in_use += bsize;
  ct_shm_mutex_unlock(&AH->lock);
  if (b == NULL) return NULL;
  b->magic = BLOCK_MAGIC;
  b->cls = cls;
  b->next_free = 0;
  return (char *)b + HDR;
}

void ct_shm_free (void *p) {
  block_header *b;
  size_t bsize;
  if (p == NULL) return;
  b = (block_header *)((char *)p - HDR);
  if (b->magic != BLOCK_MAGIC) return;  /* not ours, or freed twice */
  bsize = (size_t)1 << (b->cls + MIN_SHIFT);
  if (bsize >= RELEASE_MIN) {  /* give the body's whole pages back */
    size_t pg = 4096;
    uintptr_t from = ((uintptr_t)p + pg - 1) & ~(uintptr_t)(pg - 1);
    uintptr_t to = ((uintptr_t)b + bsize) & ~(uintptr_t)(pg - 1);
    if (to > from) madvise((void *)from, to - from, MADV_REMOVE);
  }
  b->magic = 0;
  ct_shm_mutex_lock(&AH->lock);
  b->next_free = AH->free_list[b->cls];
  AH->free_list[b->cls] = (uint64_t)((char *)b - base);
  AH->in_use -= bsize;
  ct_shm_mutex_unlock(&AH->lock);
}

uint64_t ct_shm_offset (const void *p) {
  return (uint64_t)((const char *)p - base);
}

void *ct_shm_at (uint64_t off) {
  block_header *b;
  if (base == NULL || off < 4096 + HDR || off >= arena_size || (off & 15) != 0)
    return NULL;
  b = (block_header *)(base + off - HDR);
  if (b->magic != BLOCK_MAGIC) return NULL;
  return base + off;
}

/* ---- shared objects ------------------------------------------------------ */

static ct_shm_destroy destructors[64];

void ct_shm_register_type (uint32_t type, ct_shm_destroy destroy) {
  if (type < 64) destructors[type] = destroy;
}

void *ct_shm_newobj (lua_State *L, size_t size, uint32_t type) {
  ct_shm_obj *o = (ct_shm_obj *)ct_shm_alloc(size);
  if (o == NULL) {
    luaL_error(L, "out of shared memory");
    return NULL;
  }
  memset(o, 0, size);
  o->refs = 1;
  o->type = type;
  return o;
}

void ct_shm_incref (ct_shm_obj *o) {
  __atomic_fetch_add(&o->refs, 1, __ATOMIC_RELAXED);
}

void ct_shm_decref (ct_shm_obj *o) {
  if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    if (o->type < 64 && destructors[o->type]) destructors[o->type](o);
    ct_shm_free(o);
  }
}

/* ---- handles: the process's list, fork and exit -------------------------- */

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static ct_shm_handle handles = {NULL, NULL, &handles, &handles};  /* ring */
static int hooks_installed = 0;

static void before_fork (void) {
  ct_shm_handle *h;
  ct_shm_init();  /* objects made after the fork must be shared too */
  pthread_mutex_lock(&handles_lock);
  for (h = handles.next; h != &handles; h = h->next)
    if (h->obj) ct_shm_incref(h->obj);  /* the child's copies */
}

static void after_fork_parent (long pid) {
  ct_shm_handle *h;
  if (pid < 0)  /* no child: take the counts back */
    for (h = handles.next; h != &handles; h = h->next)
      if (h->obj) ct_shm_decref(h->obj);
  pthread_mutex_unlock(&handles_lock);
}

static void after_fork_child (long pid) {
  (void)pid;
  pthread_mutex_init(&handles_lock, NULL);
}

void ct_shm_release_all (void) {
  ct_shm_handle *h;
  pthread_mutex_lock(&handles_lock);
  for (h = handles.next; h != &handles; h = h->next) {
    if (h->obj) {
      ct_shm_obj *o = h->obj;
      h->obj = NULL;
      ct_shm_decref(o);
    }
  }
  pthread_mutex_unlock(&handles_lock);
}

static int handle_gc (lua_State *L) {
  ct_shm_handle *h = (ct_shm_handle *)lua_touserdata(L, 1);
  ct_shm_obj *o;
  if (h == NULL || h->prev == NULL) return 0;
  pthread_mutex_lock(&handles_lock);
  h->prev->next = h->next;
  h->next->prev = h->prev;
  h->prev = h->next = NULL;
  o = h->obj;
  h->obj = NULL;
  pthread_mutex_unlock(&handles_lock);
  if (o) ct_shm_decref(o);
  return 0;
}

void ct_shm_install_hooks (void) {
  pthread_mutex_lock(&handles_lock);
  if (!hooks_installed) {
    hooks_installed = 1;
    ct_atfork(before_fork, after_fork_parent, after_fork_child);
  }
  pthread_mutex_unlock(&handles_lock);
}

void *ct_shm_pushhandle (lua_State *L, size_t size, const ct_kind *kind,
                         ct_shm_obj *obj) {
  ct_shm_handle *h = (ct_shm_handle *)lua_newuserdatauv(L, size, 0);
  memset(h, 0, size);
  h->kind = kind;
  h->obj = obj;
  if (luaL_newmetatable(L, "cthreads.shared handle")) {
    lua_pushcfunction(L, handle_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  ct_shm_install_hooks();
  pthread_mutex_lock(&handles_lock);
  h->next = handles.next;
  h->prev = &handles;
  handles.next->prev = h;
  handles.next = h;
  pthread_mutex_unlock(&handles_lock);
  return h;
}

/* ---- shared kinds ------------------------------------------------------------ */

static struct { const ct_kind *kind; size_t size; } kinds[CT_SHM_MAXKINDS];

void ct_shm_register_kind (int id, const ct_kind *kind, size_t handle_size) {
  if (id >= 0 && id < CT_SHM_MAXKINDS) {
    kinds[id].kind = kind;
    kinds[id].size = handle_size;
  }
}

int ct_shm_kind_id (const ct_kind *kind) {
  int i;
  for (i = 0; i < CT_SHM_MAXKINDS; i++)
    if (kinds[i].kind == kind) return i;
  return -1;
}

const ct_kind *ct_shm_kind (int id, size_t *handle_size) {
  if (id < 0 || id >= CT_SHM_MAXKINDS || kinds[id].kind == NULL) return NULL;
  if (handle_size) *handle_size = kinds[id].size;
  return kinds[id].kind;
}
