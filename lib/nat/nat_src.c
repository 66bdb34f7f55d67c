/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-source counts in two-choice buckets of one cache line: a lock and
 * seven {source, count} slots; a slot whose count is 0 is free. A new
 * source is looked for in both of its buckets and added to the emptier one
 * under both buckets' locks, so it is never in two slots; a source already
 * there is counted under its own bucket's lock alone. Counts are exact.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "nat_b2.h"
#include "nat_src.h"

#define SRC_SLOTS 7

struct src_bucket {
	rte_spinlock_t lock;
	uint32_t pad;
	struct nat_src_entry e[SRC_SLOTS];   /* ip in network order here */
} __rte_cache_aligned;

struct nat_src {
	uint32_t mask;
	uint32_t max;
	uint64_t seed;
	uint64_t sources;         /* atomic */
	uint64_t refused_limit;   /* atomic */
	uint64_t refused_full;    /* atomic */
	struct src_bucket *b;
};

struct nat_src *
nat_src_create(const char *name, uint32_t max, int socket)
{
	void *b;
	uint32_t mask;
	struct nat_src *t = nat_b2_create(name, sizeof(*t), sizeof(*t->b), SRC_SLOTS, max, socket,
					  &b, &mask);

	if (t == NULL)
		return NULL;
	t->b = b;
	t->mask = mask;
	t->max = max;
	t->seed = rte_rand();
	return t;
}

void
nat_src_free(struct nat_src *t)
{
	if (t == NULL)
		return;
	rte_free(t->b);
	rte_free(t);
}

/* ip's two buckets. */
static inline void
src_buckets(struct nat_src *t, rte_be32_t ip, struct src_bucket **b0, struct src_bucket **b1)
{
	uint32_t i0, i1;

	nat_b2_pick((uint64_t)ip ^ t->seed, t->mask, &i0, &i1);
	*b0 = &t->b[i0];
	*b1 = &t->b[i1];
}

/* ip's slot in bucket b, or NULL. */
static inline struct nat_src_entry *
src_find(struct src_bucket *b, rte_be32_t ip)
{
	unsigned i;

	for (i = 0; i < SRC_SLOTS; i++)
		if (b->e[i].count != 0 && b->e[i].ip == ip)
			return &b->e[i];
	return NULL;
}

/*
 * Add delta (+1 within limit, or -1) to ip's count where it already is,
 * with b's lock alone: a source's slot never moves, and it is only added
 * under both its buckets' locks. 1 when found (*rc: 0 or -EDQUOT), 0 when
 * ip is not in b.
 */
static inline int
src_bump(struct nat_src *t, struct src_bucket *b, rte_be32_t ip, int delta, uint32_t limit,
	 int *rc)
{
	struct nat_src_entry *e;

	rte_spinlock_lock(&b->lock);
	e = src_find(b, ip);
	if (e != NULL) {
		*rc = 0;
		if (delta > 0 && e->count >= limit)
			*rc = -EDQUOT;
		else if (delta > 0)
			e->count++;
		else if (--e->count == 0)
			__atomic_fetch_sub(&t->sources, 1, __ATOMIC_RELAXED);
	}
	rte_spinlock_unlock(&b->lock);
	return e != NULL;
}

/* A free slot of b, or NULL; *used is how many slots b has in use. */
static inline struct nat_src_entry *
src_free_slot(struct src_bucket *b, unsigned *used)
{
	struct nat_src_entry *f = NULL;
	unsigned i;

	*used = 0;
	for (i = 0; i < SRC_SLOTS; i++) {
		if (b->e[i].count != 0)
			(*used)++;
		else if (f == NULL)
			f = &b->e[i];
	}
	return f;
}

/* A source not seen in either bucket: add it under both locks (or find that another thread did). */
static int
src_add(struct nat_src *t, struct src_bucket *b0, struct src_bucket *b1, rte_be32_t ip,
	uint32_t limit)
{
	struct nat_src_entry *e;
	int rc = 0;

	nat_b2_lock(&b0->lock, &b1->lock);
	e = src_find(b0, ip);
	if (e == NULL && b1 != b0)
		e = src_find(b1, ip);
	if (e != NULL) {
		if (e->count >= limit)
			rc = -EDQUOT;
		else
			e->count++;
	} else if (limit == 0) {
		rc = -EDQUOT;
	} else {
		unsigned u0, u1;
		struct nat_src_entry *f0 = src_free_slot(b0, &u0);
		struct nat_src_entry *f1 = b1 != b0 ? src_free_slot(b1, &u1) : NULL;

		e = f1 != NULL && (f0 == NULL || u1 < u0) ? f1 : f0;
		if (e == NULL || __atomic_load_n(&t->sources, __ATOMIC_RELAXED) >= t->max) {
			rc = -ENOSPC;
		} else {
			e->ip = ip;
			e->count = 1;
			__atomic_fetch_add(&t->sources, 1, __ATOMIC_RELAXED);
		}
	}
	nat_b2_unlock(&b0->lock, &b1->lock);
	return rc;
}

int
nat_src_take(struct nat_src *t, rte_be32_t ip, uint32_t limit)
{
	struct src_bucket *b0, *b1;
	int rc;

	src_buckets(t, ip, &b0, &b1);
	if (!src_bump(t, b0, ip, 1, limit, &rc) && (b1 == b0 || !src_bump(t, b1, ip, 1, limit, &rc)))
		rc = src_add(t, b0, b1, ip, limit);
	if (rc != 0)
		__atomic_fetch_add(rc == -EDQUOT ? &t->refused_limit : &t->refused_full, 1,
				   __ATOMIC_RELAXED);
	return rc;
}

void
nat_src_put(struct nat_src *t, rte_be32_t ip)
{
	struct src_bucket *b0, *b1;
	int rc;

	src_buckets(t, ip, &b0, &b1);
	if (!src_bump(t, b0, ip, -1, 0, &rc) && b1 != b0)
		src_bump(t, b1, ip, -1, 0, &rc);
}

uint32_t
nat_src_count(struct nat_src *t, rte_be32_t ip)
{
	struct src_bucket *b0, *b1;
	struct nat_src_entry *e;
	uint32_t n;

	src_buckets(t, ip, &b0, &b1);
	nat_b2_lock(&b0->lock, &b1->lock);
	e = src_find(b0, ip);
	if (e == NULL && b1 != b0)
		e = src_find(b1, ip);
	n = e != NULL ? e->count : 0;
	nat_b2_unlock(&b0->lock, &b1->lock);
	return n;
}

void
nat_src_stats_get(const struct nat_src *t, struct nat_src_stats *st)
{
	uint32_t i, j;

	st->sources = __atomic_load_n(&t->sources, __ATOMIC_RELAXED);
	st->max = t->max;
	/* Summed by a walk (control lcore): no counter shared by the workers per session. */
	st->units = 0;
	for (i = 0; i <= t->mask; i++)
		for (j = 0; j < SRC_SLOTS; j++)
			st->units += __atomic_load_n(&t->b[i].e[j].count, __ATOMIC_RELAXED);
	st->refused_limit = __atomic_load_n(&t->refused_limit, __ATOMIC_RELAXED);
	st->refused_full = __atomic_load_n(&t->refused_full, __ATOMIC_RELAXED);
}

unsigned
nat_src_top(struct nat_src *t, struct nat_src_entry *top, unsigned n)
{
	unsigned got = 0, i, j, k;

	if (n == 0)
		return 0;
	for (i = 0; i <= t->mask; i++) {
		for (j = 0; j < SRC_SLOTS; j++) {
			/* A racy read is good enough for a view: each slot is read whole. */
			struct nat_src_entry e;

			memcpy(&e, &t->b[i].e[j], sizeof(e));
			if (e.count == 0 || (got == n && e.count <= top[n - 1].count))
				continue;
			k = got < n ? got++ : n - 1;
			while (k > 0 && top[k - 1].count < e.count) {
				top[k] = top[k - 1];
				k--;
			}
			top[k].ip = rte_be_to_cpu_32(e.ip);
			top[k].count = e.count;
		}
	}
	return got;
}
