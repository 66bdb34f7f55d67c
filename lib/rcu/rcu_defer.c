/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "rcu_defer.h"

/* Elements given back per reclaim call: a bound on the time one call takes. */
#define RCU_DEFER_RECLAIM_MAX 4096

struct rcu_defer {
	struct rte_rcu_qsbr_dq *dq;      /* NULL: no readers, free at once */
	rcu_defer_free_fn free_fn;
	void *arg;
	uint64_t deferred;               /* atomic */
	uint64_t freed;                  /* atomic */
	uint64_t failed;                 /* atomic */
};

/* The dq's callback: give the elements back and count them. */
static void
dq_free(void *p, void *e, unsigned int n)
{
	struct rcu_defer *d = p;

	d->free_fn(d->arg, e, n);
	__atomic_fetch_add(&d->freed, n, __ATOMIC_RELAXED);
}

struct rcu_defer *
rcu_defer_create(const char *name, struct rte_rcu_qsbr *qsbr, uint32_t size, uint32_t esize,
		 bool mt, rcu_defer_free_fn free_fn, void *arg, int socket)
{
	struct rte_rcu_qsbr_dq_parameters dp;
	struct rcu_defer *d;

	if (name == NULL || size == 0 || esize == 0 || esize % 4 != 0 || free_fn == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	d = rte_zmalloc_socket(name, sizeof(*d), RTE_CACHE_LINE_SIZE, socket);
	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	d->free_fn = free_fn;
	d->arg = arg;
	if (qsbr == NULL)
		return d;
	memset(&dp, 0, sizeof(dp));
	dp.name = name;
	dp.flags = mt ? 0 : RTE_RCU_QSBR_DQ_MT_UNSAFE;
	dp.size = size;
	dp.esize = esize;
	dp.trigger_reclaim_limit = 0;    /* every enqueue gives back what is ready */
	dp.max_reclaim_size = 1024;
	dp.free_fn = dq_free;
	dp.p = d;
	dp.v = qsbr;
	d->dq = rte_rcu_qsbr_dq_create(&dp);
	if (d->dq == NULL) {
		int err = rte_errno;

		rte_free(d);
		rte_errno = err;
		return NULL;
	}
	return d;
}

void
rcu_defer_free(struct rcu_defer *d)
{
	if (d == NULL)
		return;
	if (d->dq != NULL)
		rte_rcu_qsbr_dq_delete(d->dq);
	rte_free(d);
}

int
rcu_defer(struct rcu_defer *d, const void *e)
{
	if (d->dq == NULL) {
		__atomic_fetch_add(&d->deferred, 1, __ATOMIC_RELAXED);
		d->free_fn(d->arg, (void *)(uintptr_t)e, 1);
		__atomic_fetch_add(&d->freed, 1, __ATOMIC_RELAXED);
		return 0;
	}
	/* Counted first: a reclaim inside the enqueue may give it back at once. */
	__atomic_fetch_add(&d->deferred, 1, __ATOMIC_RELAXED);
	if (rte_rcu_qsbr_dq_enqueue(d->dq, (void *)(uintptr_t)e) == 0)
		return 0;
	/* Full: what is ready goes back, then one more try; never a spin. */
	rcu_defer_reclaim(d);
	if (rte_rcu_qsbr_dq_enqueue(d->dq, (void *)(uintptr_t)e) == 0)
		return 0;
	__atomic_fetch_sub(&d->deferred, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&d->failed, 1, __ATOMIC_RELAXED);
	return -ENOSPC;
}

unsigned
rcu_defer_reclaim(struct rcu_defer *d)
{
	unsigned freed = 0, pending, avail;

	if (d == NULL || d->dq == NULL)
		return 0;
	rte_rcu_qsbr_dq_reclaim(d->dq, RCU_DEFER_RECLAIM_MAX, &freed, &pending, &avail);
	return freed;
}

void
rcu_defer_stats_get(const struct rcu_defer *d, struct rcu_defer_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (d == NULL)
		return;
	/* freed first: a concurrent free between the two loads never shows as freed > deferred. */
	st->freed = __atomic_load_n(&d->freed, __ATOMIC_ACQUIRE);
	st->deferred = __atomic_load_n(&d->deferred, __ATOMIC_ACQUIRE);
	st->failed = __atomic_load_n(&d->failed, __ATOMIC_RELAXED);
}
