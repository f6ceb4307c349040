/*
** The event loop's timers: a binary heap of (when, seq) with removal by id,
** so that a cancelled sleep or timeout leaves nothing behind. Plain C, no
** Lua: the loop turns due ids into wake-ups on the Lua side.
*/
#include <stdlib.h>
#include <string.h>

#include "ct_aio.h"

#define NO_POS UINT32_MAX

void aio_timers_init (aio_timers *t) {
  memset(t, 0, sizeof *t);
  t->free_head = NO_POS;
}

void aio_timers_free (aio_timers *t) {
  free(t->heap);
  free(t->pos);
  free(t->gen);
  free(t->next_free);
  aio_timers_init(t);
}

static int earlier (const aio_timer *a, const aio_timer *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place (aio_timers *t, uint32_t i, aio_timer e) {
  t->heap[i] = e;
  t->pos[e.slot] = i;
}

static void sift_up (aio_timers *t, uint32_t i) {
  aio_timer e = t->heap[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!earlier(&e, &t->heap[parent])) break;
    place(t, i, t->heap[parent]);
    i = parent;
  }
  place(t, i, e);
}

static void sift_down (aio_timers *t, uint32_t i) {
  aio_timer e = t->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= t->n) break;
    if (c + 1 < t->n && earlier(&t->heap[c + 1], &t->heap[c])) c++;
    if (!earlier(&t->heap[c], &e)) break;
    place(t, i, t->heap[c]);
    i = c;
  }
  place(t, i, e);
}

static int grow_slots (aio_timers *t) {
  uint32_t n = t->nslots ? t->nslots * 2 : 64, i;
  uint32_t *pos, *gen, *nf;
  if (n > AIO_TIMER_MAX_SLOTS) n = AIO_TIMER_MAX_SLOTS;
  if (n <= t->nslots) return 0;
  pos = realloc(t->pos, n * sizeof *pos);
  if (pos) t->pos = pos;
  gen = realloc(t->gen, n * sizeof *gen);
  if (gen) t->gen = gen;
  nf = realloc(t->next_free, n * sizeof *nf);
  if (nf) t->next_free = nf;
  if (!pos || !gen || !nf) return 0;
  for (i = t->nslots; i < n; i++) {  /* new slots join the free list */
    pos[i] = NO_POS;
    gen[i] = 0;
    nf[i] = (i + 1 < n) ? i + 1 : t->free_head;
  }
  t->free_head = t->nslots;
  t->nslots = n;
  return 1;
}

static int64_t make_id (const aio_timers *t, uint32_t slot) {
  /* slot 0 with generation 0 would be id 0: start generations at 1 */
  return ((int64_t)(t->gen[slot] + 1) << AIO_TIMER_SLOT_BITS) | slot;
}

int64_t aio_timers_add (aio_timers *t, double when) {
  uint32_t slot;
  aio_timer e;
  if (t->free_head == NO_POS && !grow_slots(t)) return -1;
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    aio_timer *h = realloc(t->heap, cap * sizeof *h);
    if (h == NULL) return -1;
    t->heap = h;
    t->cap = cap;
  }
  slot = t->free_head;
  t->free_head = t->next_free[slot];
  e.when = when;
  e.seq = t->seq++;
  e.slot = slot;
  t->heap[t->n] = e;
  t->pos[slot] = t->n;
  t->n++;
  sift_up(t, t->n - 1);
  return make_id(t, slot);
}

static void release_slot (aio_timers *t, uint32_t slot) {
  t->pos[slot] = NO_POS;
  t->gen[slot] = (t->gen[slot] + 1) & 0x3fffffffu;  /* old ids stop matching */
  t->next_free[slot] = t->free_head;
  t->free_head = slot;
}

static void remove_at (aio_timers *t, uint32_t i) {
  uint32_t slot = t->heap[i].slot;
  t->n--;
  if (i != t->n) {
    place(t, i, t->heap[t->n]);
    if (i > 0 && earlier(&t->heap[i], &t->heap[(i - 1) / 2])) sift_up(t, i);
    else sift_down(t, i);
  }
  release_slot(t, slot);
}

int aio_timers_cancel (aio_timers *t, int64_t id) {
  uint32_t slot;
  if (id <= 0) return 0;
  slot = (uint32_t)(id & (AIO_TIMER_MAX_SLOTS - 1));
  if (slot >= t->nslots || t->pos[slot] == NO_POS || make_id(t, slot) != id)
    return 0;
  remove_at(t, t->pos[slot]);
  return 1;
}

int aio_timers_next (const aio_timers *t, double *when) {
  if (t->n == 0) return 0;
  *when = t->heap[0].when;
  return 1;
}

int64_t aio_timers_pop_due (aio_timers *t, double now) {
  int64_t id;
  if (t->n == 0 || t->heap[0].when > now) return 0;
  id = make_id(t, t->heap[0].slot);
  remove_at(t, 0);
  return id;
}
