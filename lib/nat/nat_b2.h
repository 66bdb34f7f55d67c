/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two-choice buckets with a spinlock each, for the small tables that
 * workers change on session create/free or on fragments only (per-source
 * counts, fragment tracking): a key lives in one of its two buckets, and an
 * operation locks both (in index order), so there is no global lock and a
 * key is never in both. Private to lib/nat.
 */
#ifndef DPNAT_NAT_B2_H
#define DPNAT_NAT_B2_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>

/** The two buckets of a 64-bit key hash (mask = buckets - 1, a power of two minus one). */
static inline void
nat_b2_pick(uint64_t h, uint32_t mask, uint32_t *b0, uint32_t *b1)
{
	h *= 0x9e3779b97f4a7c15ull;
	*b0 = (uint32_t)(h >> 32) & mask;
	*b1 = (uint32_t)((h >> 32) ^ ((uint32_t)h | 1u) * 0x85ebca6bu) & mask;
}

/** Lock the buckets' locks l0 and l1 (one lock once when they are the same), in address order. */
static inline void
nat_b2_lock(rte_spinlock_t *l0, rte_spinlock_t *l1)
{
	if (l0 == l1) {
		rte_spinlock_lock(l0);
	} else if (l0 < l1) {
		rte_spinlock_lock(l0);
		rte_spinlock_lock(l1);
	} else {
		rte_spinlock_lock(l1);
		rte_spinlock_lock(l0);
	}
}

/** Undo nat_b2_lock. */
static inline void
nat_b2_unlock(rte_spinlock_t *l0, rte_spinlock_t *l1)
{
	rte_spinlock_unlock(l0);
	if (l1 != l0)
		rte_spinlock_unlock(l1);
}

/** Buckets (a power of two, at least 1) so that per_bucket-slot buckets hold n keys at most 3/4 full. */
static inline uint32_t
nat_b2_buckets(uint32_t n, unsigned per_bucket)
{
	uint64_t want = ((uint64_t)n * 4 + 3 * per_bucket - 1) / (3 * per_bucket);

	return (uint32_t)rte_align64pow2(RTE_MAX(want, (uint64_t)1));
}

/**
 * Allocate a table header of hsize bytes (zeroed) and, into *b, the buckets
 * (bsize bytes of slots entries each, zeroed) for max keys; *mask set. The
 * header, or NULL with rte_errno set.
 */
static inline void *
nat_b2_create(const char *name, size_t hsize, size_t bsize, unsigned slots, uint32_t max,
	      int socket, void **b, uint32_t *mask)
{
	uint32_t nb;
	void *h;

	if (max == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	nb = nat_b2_buckets(max, slots);
	h = rte_zmalloc_socket(name, hsize, RTE_CACHE_LINE_SIZE, socket);
	*b = h == NULL ? NULL : rte_zmalloc_socket(name, (size_t)nb * bsize, RTE_CACHE_LINE_SIZE,
						   socket);
	if (*b == NULL) {
		rte_free(h);
		rte_errno = ENOMEM;
		return NULL;
	}
	*mask = nb - 1;
	return h;
}

#endif /* DPNAT_NAT_B2_H */
