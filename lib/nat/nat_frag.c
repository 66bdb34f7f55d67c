/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fragment tracker: two-choice buckets of four entries and a lock. An
 * entry is free when expires is 0; an expired one is taken back when its
 * bucket needs room, or by the control lcore's ageing walk.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "nat_b2.h"
#include "nat_frag.h"

#define FRAG_SLOTS 4

struct frag_ent {
	struct nat_frag_key k;
	struct nat_frag_xlate x;
	uint32_t expires;        /* flow clock seconds; 0: free */
	uint32_t seen;           /* payload bytes passed */
	uint32_t total;          /* the datagram's payload bytes, 0 until its last fragment */
};

struct frag_bucket {
	rte_spinlock_t lock;
	struct frag_ent e[FRAG_SLOTS];
} __rte_cache_aligned;

struct nat_frag {
	uint32_t mask;
	uint32_t max;
	uint32_t tmo;
	uint32_t age_cursor;
	uint64_t seed;
	uint64_t used, created, completed, failed, timed_out, followed, untracked;   /* atomic */
	struct frag_bucket *b;
};

static inline void
cnt(uint64_t *c, int64_t n)
{
	__atomic_fetch_add(c, (uint64_t)n, __ATOMIC_RELAXED);
}

struct nat_frag *
nat_frag_create(const char *name, uint32_t max, int socket)
{
	void *b;
	uint32_t mask;
	struct nat_frag *f = nat_b2_create(name, sizeof(*f), sizeof(*f->b), FRAG_SLOTS, max, socket,
					   &b, &mask);

	if (f == NULL)
		return NULL;
	f->b = b;
	f->mask = mask;
	f->max = max;
	f->tmo = NAT_FRAG_DEFAULT_TIMEOUT;
	f->seed = rte_rand();
	return f;
}

void
nat_frag_free(struct nat_frag *f)
{
	if (f == NULL)
		return;
	rte_free(f->b);
	rte_free(f);
}

void
nat_frag_set_timeout(struct nat_frag *f, uint32_t seconds)
{
	__atomic_store_n(&f->tmo, seconds == 0 ? 1 : seconds, __ATOMIC_RELAXED);
}

/* k's buckets, locked. */
static inline void
frag_lock(struct nat_frag *f, const struct nat_frag_key *k, struct frag_bucket **b0,
	  struct frag_bucket **b1)
{
	uint64_t h = ((uint64_t)k->src << 32 | k->dst) ^
		     ((uint64_t)k->id << 8 | k->proto) * 0xff51afd7ed558ccdull;
	uint32_t i0, i1;

	nat_b2_pick(h ^ f->seed, f->mask, &i0, &i1);
	*b0 = &f->b[i0];
	*b1 = &f->b[i1];
	nat_b2_lock(&(*b0)->lock, &(*b1)->lock);
}

/* Free e (the bucket locked). */
static inline void
ent_drop(struct nat_frag *f, struct frag_ent *e, uint64_t *why)
{
	e->expires = 0;
	cnt(&f->used, -1);
	cnt(why, 1);
}

/* Look k up in b, freeing the expired entries met; *room is a free slot (or NULL), *nfree their number. */
static struct frag_ent *
bucket_scan(struct nat_frag *f, struct frag_bucket *b, const struct nat_frag_key *k, uint32_t now,
	    struct frag_ent **room, unsigned *nfree)
{
	struct frag_ent *hit = NULL;
	unsigned i;

	*room = NULL;
	*nfree = 0;
	for (i = 0; i < FRAG_SLOTS; i++) {
		struct frag_ent *e = &b->e[i];

		if (e->expires != 0 && (int32_t)(e->expires - now) < 0)
			ent_drop(f, e, &f->timed_out);
		if (e->expires == 0) {
			if (*room == NULL)
				*room = e;
			(*nfree)++;
		} else if (memcmp(&e->k, k, sizeof(*k)) == 0) {
			hit = e;
		}
	}
	return hit;
}

/* k's entry in b0 or b1 (locked), or NULL with *room the free slot of the emptier bucket. */
static struct frag_ent *
frag_find(struct nat_frag *f, struct frag_bucket *b0, struct frag_bucket *b1,
	  const struct nat_frag_key *k, uint32_t now, struct frag_ent **room)
{
	struct frag_ent *e, *r1 = NULL;
	unsigned n0, n1 = 0;

	e = bucket_scan(f, b0, k, now, room, &n0);
	if (e == NULL && b1 != b0)
		e = bucket_scan(f, b1, k, now, &r1, &n1);
	if (r1 != NULL && (*room == NULL || n1 > n0))
		*room = r1;
	return e;
}

int
nat_frag_learn(struct nat_frag *f, const struct nat_frag_key *k, const struct nat_frag_xlate *x,
	       uint16_t len, uint32_t now)
{
	struct frag_bucket *b0, *b1;
	struct frag_ent *e, *room;
	int rc = 0;

	frag_lock(f, k, &b0, &b1);
	e = frag_find(f, b0, b1, k, now, &room);
	if (e == NULL) {
		if (room == NULL || __atomic_load_n(&f->used, __ATOMIC_RELAXED) >= f->max) {
			rc = -ENOSPC;
		} else {
			e = room;
			cnt(&f->used, 1);
		}
	}
	if (e != NULL) {
		e->k = *k;
		e->x = *x;
		e->seen = len;
		e->total = 0;
		e->expires = now + __atomic_load_n(&f->tmo, __ATOMIC_RELAXED);
		if (e->expires == 0)
			e->expires = 1;
	}
	nat_b2_unlock(&b0->lock, &b1->lock);
	cnt(rc == 0 ? &f->created : &f->failed, 1);
	return rc;
}

int
nat_frag_follow(struct nat_frag *f, const struct nat_frag_key *k, uint8_t iface, uint32_t off,
		uint16_t len, bool more, uint32_t now, struct nat_frag_xlate *x)
{
	struct frag_bucket *b0, *b1;
	struct frag_ent *e, *room;

	frag_lock(f, k, &b0, &b1);
	e = frag_find(f, b0, b1, k, now, &room);
	if (e != NULL && e->x.iface != iface) {
		/* Spoofed from the wrong side: it must not end the datagram's entry. */
		nat_b2_unlock(&b0->lock, &b1->lock);
		return -EXDEV;
	}
	if (e != NULL) {
		*x = e->x;
		e->seen += len;
		if (!more)
			e->total = off + len;
		/* Every byte passed (duplicates may end it early: a later copy is then untracked). */
		if (e->total != 0 && e->seen >= e->total)
			ent_drop(f, e, &f->completed);
	}
	nat_b2_unlock(&b0->lock, &b1->lock);
	cnt(e != NULL ? &f->followed : &f->untracked, 1);
	return e != NULL ? 0 : -ENOENT;
}

void
nat_frag_age(struct nat_frag *f, uint32_t now, unsigned budget)
{
	unsigned i, j;

	for (i = 0; i < budget && i <= f->mask; i++) {
		struct frag_bucket *b = &f->b[f->age_cursor];

		f->age_cursor = (f->age_cursor + 1) & f->mask;
		rte_spinlock_lock(&b->lock);
		for (j = 0; j < FRAG_SLOTS; j++)
			if (b->e[j].expires != 0 && (int32_t)(b->e[j].expires - now) < 0)
				ent_drop(f, &b->e[j], &f->timed_out);
		rte_spinlock_unlock(&b->lock);
	}
}

void
nat_frag_stats_get(const struct nat_frag *f, struct nat_frag_stats *st)
{
	st->used = __atomic_load_n(&f->used, __ATOMIC_RELAXED);
	st->max = f->max;
	st->created = __atomic_load_n(&f->created, __ATOMIC_RELAXED);
	st->completed = __atomic_load_n(&f->completed, __ATOMIC_RELAXED);
	st->failed = __atomic_load_n(&f->failed, __ATOMIC_RELAXED);
	st->timed_out = __atomic_load_n(&f->timed_out, __ATOMIC_RELAXED);
	st->followed = __atomic_load_n(&f->followed, __ATOMIC_RELAXED);
	st->untracked = __atomic_load_n(&f->untracked, __ATOMIC_RELAXED);
	st->timeout = __atomic_load_n(&f->tmo, __ATOMIC_RELAXED);
}
