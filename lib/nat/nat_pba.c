/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port block allocation (nat_pba.h): subscribers in two-choice buckets of
 * three, keyed by (inside address, public address index), each holding its
 * blocks and how many ports of each are in use; the blocks taken on each
 * address in a bitmap under one lock.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "nat_b2.h"
#include "nat_pba.h"

#define PBA_SLOTS  3
#define PBA_NPORTS (NAT_PORT_MAX - NAT_PORT_MIN + 1)

struct pba_sub {
	rte_be32_t ip;                        /* inside address; 0: a free slot */
	uint16_t addr;                        /* nat_table index of its public address */
	uint8_t nblocks;
	uint8_t pad;
	uint32_t ports;                       /* ports in use in all its blocks */
	uint32_t cursor;                      /* where the next port is looked for in a block */
	uint16_t block[NAT_PBA_MAX_BLOCKS];   /* block numbers on addr */
	uint16_t use[NAT_PBA_MAX_BLOCKS];     /* ports in use in each */
	uint32_t logged[NAT_PBA_MAX_BLOCKS];  /* when each was last logged (taken or interim) */
};

struct pba_bucket {
	rte_spinlock_t lock;
	struct pba_sub e[PBA_SLOTS];
} __rte_cache_aligned;

struct nat_pba {
	struct nat_table *nt;
	uint32_t mask;
	uint32_t max_subs;
	uint32_t size;
	uint32_t max_blocks;                  /* atomic: may change at run time */
	uint32_t per_addr;                    /* blocks on one address */
	uint32_t words;                       /* bitmap words per address */
	uint32_t max_addrs;
	uint64_t seed;
	nat_pba_log_fn log;
	void *log_arg;
	uint32_t walk;                        /* nat_pba_interim: next bucket (control lcore) */
	rte_spinlock_t block_lock;            /* bmap, bfree, bcur */
	uint64_t *bmap;                       /* per address: bit set = block taken */
	uint32_t *bfree;                      /* per address: blocks free */
	uint32_t *bcur;                       /* per address: where the next block is looked for */
	uint64_t subs, blocks;                /* atomic: now */
	uint64_t allocated, released, interim;   /* atomic */
	uint64_t refused_max, refused_noblock, refused_full;   /* atomic */
	struct pba_bucket *b;
};

struct nat_pba *
nat_pba_create(const char *name, struct nat_table *nt, uint32_t max_addrs, uint32_t max_subs,
	       uint32_t size, uint32_t max_blocks, int socket)
{
	struct nat_pba *t;
	void *b;
	uint32_t mask, a, per;

	if (nt == NULL || max_addrs == 0 || size < NAT_PBA_MIN_SIZE || size > PBA_NPORTS ||
	    max_blocks == 0 || max_blocks > NAT_PBA_MAX_BLOCKS) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = nat_b2_create(name, sizeof(*t), sizeof(*t->b), PBA_SLOTS, max_subs, socket, &b, &mask);
	if (t == NULL)
		return NULL;
	t->b = b;
	t->nt = nt;
	t->mask = mask;
	t->max_subs = max_subs;
	t->size = size;
	t->max_blocks = max_blocks;
	per = PBA_NPORTS / size;
	t->per_addr = per;
	t->words = (per + 63) / 64;
	t->max_addrs = max_addrs;
	t->seed = rte_rand();
	rte_spinlock_init(&t->block_lock);
	t->bmap = rte_zmalloc_socket(name, (size_t)max_addrs * t->words * sizeof(uint64_t),
				     RTE_CACHE_LINE_SIZE, socket);
	t->bfree = rte_zmalloc_socket(name, (size_t)max_addrs * sizeof(uint32_t), 0, socket);
	t->bcur = rte_zmalloc_socket(name, (size_t)max_addrs * sizeof(uint32_t), 0, socket);
	if (t->bmap == NULL || t->bfree == NULL || t->bcur == NULL) {
		nat_pba_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	for (a = 0; a < max_addrs; a++) {
		t->bfree[a] = per;
		/* Bits past the last block are never handed out. */
		if (per % 64)
			t->bmap[(size_t)a * t->words + t->words - 1] = ~0ULL << (per % 64);
	}
	return t;
}

void
nat_pba_free(struct nat_pba *t)
{
	if (t == NULL)
		return;
	rte_free(t->bmap);
	rte_free(t->bfree);
	rte_free(t->bcur);
	rte_free(t->b);
	rte_free(t);
}

void
nat_pba_set_log(struct nat_pba *t, nat_pba_log_fn fn, void *arg)
{
	t->log_arg = arg;
	t->log = fn;
}

void
nat_pba_set_max_blocks(struct nat_pba *t, uint32_t max_blocks)
{
	if (max_blocks >= 1 && max_blocks <= NAT_PBA_MAX_BLOCKS)
		__atomic_store_n(&t->max_blocks, max_blocks, __ATOMIC_RELAXED);
}

uint32_t
nat_pba_block_size(const struct nat_pba *t)
{
	return t->size;
}

/* The two buckets of (src, idx). */
static inline void
pba_buckets(struct nat_pba *t, rte_be32_t src, unsigned idx, struct pba_bucket **b0,
	    struct pba_bucket **b1)
{
	uint32_t i0, i1;

	nat_b2_pick(((uint64_t)src << 16 | idx) ^ t->seed, t->mask, &i0, &i1);
	*b0 = &t->b[i0];
	*b1 = &t->b[i1];
}

/* (src, idx)'s entry in b0 or b1 (both locked), or NULL. */
static struct pba_sub *
pba_find(struct pba_bucket *b0, struct pba_bucket *b1, rte_be32_t src, unsigned idx)
{
	unsigned i;

	for (i = 0; i < PBA_SLOTS; i++) {
		if (b0->e[i].ip == src && b0->e[i].addr == idx)
			return &b0->e[i];
		if (b1->e[i].ip == src && b1->e[i].addr == idx)
			return &b1->e[i];
	}
	return NULL;
}

/* A free slot of the emptier of b0 and b1, or NULL. */
static struct pba_sub *
pba_slot(struct pba_bucket *b0, struct pba_bucket *b1)
{
	struct pba_sub *f0 = NULL, *f1 = NULL;
	unsigned i, u0 = 0, u1 = 0;

	for (i = 0; i < PBA_SLOTS; i++) {
		if (b0->e[i].ip != 0)
			u0++;
		else if (f0 == NULL)
			f0 = &b0->e[i];
		if (b1->e[i].ip != 0)
			u1++;
		else if (f1 == NULL)
			f1 = &b1->e[i];
	}
	return f1 != NULL && (f0 == NULL || u1 < u0) ? f1 : f0;
}

/* A free block of address idx, taken; -1 when there is none. */
static int
block_take(struct nat_pba *t, unsigned idx)
{
	uint64_t *map = &t->bmap[(size_t)idx * t->words];
	uint32_t i, w;
	int blk = -1;

	rte_spinlock_lock(&t->block_lock);
	for (i = 0; i < t->words && t->bfree[idx] != 0; i++) {
		uint64_t clear;

		w = (t->bcur[idx] + i) % t->words;
		clear = ~map[w];
		if (clear == 0)
			continue;
		blk = (int)(w * 64 + (uint32_t)__builtin_ctzll(clear));
		map[w] |= 1ULL << (blk % 64);
		t->bfree[idx]--;
		/* Round robin: a block just given back is taken last (its ports rest a while). */
		t->bcur[idx] = w;
		break;
	}
	rte_spinlock_unlock(&t->block_lock);
	return blk;
}

/* Give block blk of address idx back. */
static void
block_give(struct nat_pba *t, unsigned idx, unsigned blk)
{
	rte_spinlock_lock(&t->block_lock);
	t->bmap[(size_t)idx * t->words + blk / 64] &= ~(1ULL << (blk % 64));
	t->bfree[idx]++;
	rte_spinlock_unlock(&t->block_lock);
}

static inline uint16_t
block_first(const struct nat_pba *t, unsigned blk)
{
	return (uint16_t)(NAT_PORT_MIN + blk * t->size);
}

static inline void
pba_log(struct nat_pba *t, unsigned ev, const struct pba_sub *e, unsigned k)
{
	if (t->log != NULL)
		t->log(t->log_arg, ev, e->ip, nat_addr_ip(t->nt, e->addr), block_first(t, e->block[k]),
		       (uint16_t)(block_first(t, e->block[k]) + t->size - 1));
}

int
nat_pba_has(struct nat_pba *t, rte_be32_t src, unsigned idx)
{
	struct pba_bucket *b0, *b1;
	int found;

	pba_buckets(t, src, idx, &b0, &b1);
	nat_b2_lock(&b0->lock, &b1->lock);
	found = pba_find(b0, b1, src, idx) != NULL;
	nat_b2_unlock(&b0->lock, &b1->lock);
	return found;
}

/* Remove e's block k (its last port gone): back to the address, logged; e freed with its last block. */
static void
sub_drop_block(struct nat_pba *t, struct pba_sub *e, unsigned k)
{
	unsigned last = e->nblocks - 1u;

	pba_log(t, NAT_PBA_RELEASE, e, k);
	block_give(t, e->addr, e->block[k]);
	e->block[k] = e->block[last];
	e->use[k] = e->use[last];
	e->logged[k] = e->logged[last];
	e->nblocks--;
	__atomic_fetch_sub(&t->blocks, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->released, 1, __ATOMIC_RELAXED);
	if (e->nblocks == 0) {
		e->ip = 0;
		__atomic_fetch_sub(&t->subs, 1, __ATOMIC_RELAXED);
	}
}

/*
 * A port for src on address idx from e, under e's bucket's lock: e holds
 * src's blocks there, or is a free slot (ip 0) that becomes src's with its
 * first block.
 */
static inline int
sub_take(struct nat_pba *t, struct pba_sub *e, rte_be32_t src, unsigned idx, uint32_t now)
{
	unsigned k;
	int port, blk;

	/* A port of a block it holds: no other lock. */
	for (k = 0; k < e->nblocks; k++) {
		if (e->use[k] >= t->size)
			continue;
		port = nat_port_alloc_range(t->nt, idx, block_first(t, e->block[k]), t->size, &e->cursor);
		if (port >= 0) {
			e->use[k]++;
			e->ports++;
			return port;
		}
	}
	if (e->nblocks >= __atomic_load_n(&t->max_blocks, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&t->refused_max, 1, __ATOMIC_RELAXED);
		return -EDQUOT;
	}
	/* A new block: the only step that takes the table's lock. */
	blk = block_take(t, idx);
	if (blk < 0) {
		__atomic_fetch_add(&t->refused_noblock, 1, __ATOMIC_RELAXED);
		return -EADDRNOTAVAIL;
	}
	if (e->ip == 0) {
		memset(e, 0, sizeof(*e));
		e->addr = (uint16_t)idx;
		e->ip = src;
		__atomic_fetch_add(&t->subs, 1, __ATOMIC_RELAXED);
	}
	k = e->nblocks++;
	e->block[k] = (uint16_t)blk;
	e->use[k] = 0;
	e->logged[k] = now;
	e->cursor = 0;
	__atomic_fetch_add(&t->blocks, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->allocated, 1, __ATOMIC_RELAXED);
	pba_log(t, NAT_PBA_ALLOC, e, k);
	port = nat_port_alloc_range(t->nt, idx, block_first(t, (unsigned)blk), t->size, &e->cursor);
	if (port >= 0) {
		e->use[k]++;
		e->ports++;
		return port;
	}
	/* No free port in a fresh block (another mode holds them): not kept with nothing in it. */
	sub_drop_block(t, e, k);
	__atomic_fetch_add(&t->refused_noblock, 1, __ATOMIC_RELAXED);
	return -EADDRNOTAVAIL;
}

/* (src, idx)'s entry in b (locked), or NULL. */
static inline struct pba_sub *
pba_find1(struct pba_bucket *b, rte_be32_t src, unsigned idx)
{
	unsigned i;

	for (i = 0; i < PBA_SLOTS; i++)
		if (b->e[i].ip == src && b->e[i].addr == idx)
			return &b->e[i];
	return NULL;
}

/*
 * (src, idx)'s entry, found under its own bucket's lock alone (an entry
 * never moves, and is only added under both locks): returned with that
 * lock held (*held), or NULL with no lock held.
 */
static inline struct pba_sub *
pba_lock_sub(struct pba_bucket *b0, struct pba_bucket *b1, rte_be32_t src, unsigned idx,
	     rte_spinlock_t **held)
{
	struct pba_sub *e;

	rte_spinlock_lock(&b0->lock);
	e = pba_find1(b0, src, idx);
	if (e != NULL) {
		*held = &b0->lock;
		return e;
	}
	rte_spinlock_unlock(&b0->lock);
	if (b1 == b0)
		return NULL;
	rte_spinlock_lock(&b1->lock);
	e = pba_find1(b1, src, idx);
	if (e != NULL) {
		*held = &b1->lock;
		return e;
	}
	rte_spinlock_unlock(&b1->lock);
	return NULL;
}

int
nat_pba_take(struct nat_pba *t, rte_be32_t src, unsigned idx, uint32_t now)
{
	struct pba_bucket *b0, *b1;
	struct pba_sub *e;
	rte_spinlock_t *held;
	int port = -ENOSPC;

	if (idx >= t->max_addrs || src == 0)
		return -EINVAL;
	pba_buckets(t, src, idx, &b0, &b1);
	/* The common case: a subscriber already there, under its bucket's lock alone. */
	e = pba_lock_sub(b0, b1, src, idx, &held);
	if (e != NULL) {
		port = sub_take(t, e, src, idx, now);
		rte_spinlock_unlock(held);
		return port;
	}
	/* A new one: under both locks, where another thread may just have added it. */
	nat_b2_lock(&b0->lock, &b1->lock);
	e = pba_find(b0, b1, src, idx);
	if (e == NULL) {
		e = pba_slot(b0, b1);
		if (e == NULL || __atomic_load_n(&t->subs, __ATOMIC_RELAXED) >= t->max_subs)
			e = NULL;
	}
	if (e != NULL) {
		port = sub_take(t, e, src, idx, now);
	} else {
		__atomic_fetch_add(&t->refused_full, 1, __ATOMIC_RELAXED);
		port = -ENOSPC;
	}
	nat_b2_unlock(&b0->lock, &b1->lock);
	return port;
}

void
nat_pba_put(struct nat_pba *t, rte_be32_t src, uint32_t pub, uint16_t port)
{
	struct pba_bucket *b0, *b1;
	struct pba_sub *e;
	rte_spinlock_t *held;
	int idx = nat_addr_find(t->nt, pub);
	unsigned k, blk;

	if (idx < 0 || (uint32_t)idx >= t->max_addrs || port < NAT_PORT_MIN)
		return;
	blk = (port - NAT_PORT_MIN) / t->size;
	pba_buckets(t, src, (unsigned)idx, &b0, &b1);
	e = pba_lock_sub(b0, b1, src, (unsigned)idx, &held);
	if (e == NULL)
		return;
	for (k = 0; k < e->nblocks; k++) {
		if (e->block[k] != blk || e->use[k] == 0)
			continue;
		e->ports--;
		if (--e->use[k] == 0)
			sub_drop_block(t, e, k);
		break;
	}
	rte_spinlock_unlock(held);
}

unsigned
nat_pba_interim(struct nat_pba *t, uint32_t now, uint32_t interval, uint32_t budget)
{
	unsigned n = 0, i, k;
	uint32_t j;

	if (interval == 0)
		return 0;
	for (j = 0; j < budget && j <= t->mask; j++) {
		struct pba_bucket *b = &t->b[t->walk];

		t->walk = (t->walk + 1) & t->mask;
		rte_spinlock_lock(&b->lock);
		for (i = 0; i < PBA_SLOTS; i++) {
			struct pba_sub *e = &b->e[i];

			for (k = 0; e->ip != 0 && k < e->nblocks; k++) {
				if (now - e->logged[k] < interval)
					continue;
				e->logged[k] = now;
				pba_log(t, NAT_PBA_INTERIM, e, k);
				n++;
			}
		}
		rte_spinlock_unlock(&b->lock);
	}
	__atomic_fetch_add(&t->interim, n, __ATOMIC_RELAXED);
	return n;
}

void
nat_pba_stats_get(const struct nat_pba *t, struct nat_pba_stats *st)
{
	st->subscribers = __atomic_load_n(&t->subs, __ATOMIC_RELAXED);
	st->max_subscribers = t->max_subs;
	st->blocks = __atomic_load_n(&t->blocks, __ATOMIC_RELAXED);
	st->blocks_total = (uint64_t)t->per_addr * nat_addr_count(t->nt);
	st->allocated = __atomic_load_n(&t->allocated, __ATOMIC_RELAXED);
	st->released = __atomic_load_n(&t->released, __ATOMIC_RELAXED);
	st->interim = __atomic_load_n(&t->interim, __ATOMIC_RELAXED);
	st->refused_max = __atomic_load_n(&t->refused_max, __ATOMIC_RELAXED);
	st->refused_noblock = __atomic_load_n(&t->refused_noblock, __ATOMIC_RELAXED);
	st->refused_full = __atomic_load_n(&t->refused_full, __ATOMIC_RELAXED);
}

unsigned
nat_pba_list(struct nat_pba *t, uint32_t *pos, struct nat_pba_sub_info *out, unsigned n)
{
	unsigned got = 0, k;

	while (got < n && *pos < (t->mask + 1) * PBA_SLOTS) {
		struct pba_bucket *b = &t->b[*pos / PBA_SLOTS];
		const struct pba_sub *e = &b->e[*pos % PBA_SLOTS];

		rte_spinlock_lock(&b->lock);
		if (e->ip != 0) {
			struct nat_pba_sub_info *o = &out[got++];

			o->ip = rte_be_to_cpu_32(e->ip);
			o->pub = nat_addr_ip(t->nt, e->addr);
			o->ports = e->ports;
			o->nblocks = e->nblocks;
			for (k = 0; k < e->nblocks; k++)
				o->first[k] = block_first(t, e->block[k]);
		}
		rte_spinlock_unlock(&b->lock);
		(*pos)++;
	}
	return got;
}
