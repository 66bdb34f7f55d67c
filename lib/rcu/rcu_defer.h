/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deferred reuse after an RCU (QSBR) grace period, counted. Every table a
 * worker reads lock-free (sessions, PPTP calls and control states, route
 * next hops, neighbour entries) hands what it removed to one of these
 * queues, all on the daemon's one rte_rcu_qsbr; the element comes back to
 * its table (free_fn) only after every worker reported a quiescent state
 * since. docs/architecture.md, "Reclamation", has the rule.
 *
 * A wrapper of rte_rcu_qsbr_dq that counts what was deferred, what was
 * freed and what could not be deferred (the queue full even after a
 * reclaim: the element is then never reused - leaked, but counted, never
 * silently). Queues are sized by their tables to hold every element at
 * once, so that count stays 0 unless a table is wrong.
 *
 * Threads: rcu_defer() from any thread when the queue was created
 * multi-threaded (mt), else from its one writer; free_fn runs on whichever
 * thread reclaims (rcu_defer() reclaims too), so it must be safe there.
 */
#ifndef DPNAT_RCU_DEFER_H
#define DPNAT_RCU_DEFER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

/** Counters of one queue (monotonic; pending = deferred - freed). */
struct rcu_defer_stats {
	uint64_t deferred;       /**< elements queued for a grace period */
	uint64_t freed;          /**< elements given back after their grace period */
	uint64_t failed;         /**< elements that could not be queued (never reused) */
};

/** Gives back n elements of esize bytes at elems (the grace period is over). */
typedef void (*rcu_defer_free_fn)(void *arg, void *elems, unsigned int n);

struct rcu_defer;

/**
 * A queue for size elements of esize bytes (a multiple of 4) reclaimed on
 * qsbr; mt when more than one thread defers. With qsbr NULL (a table no
 * other thread reads: tools, single-threaded tests) elements are freed at
 * once. NULL on failure (rte_errno).
 */
struct rcu_defer *rcu_defer_create(const char *name, struct rte_rcu_qsbr *qsbr, uint32_t size,
				   uint32_t esize, bool mt, rcu_defer_free_fn free_fn, void *arg,
				   int socket);

/** Free the queue (elements still waiting are dropped: call when no reader is left). NULL accepted. */
void rcu_defer_free(struct rcu_defer *d);

/**
 * Queue element e (esize bytes, copied) for free_fn after a grace period.
 * 0, or -ENOSPC when the queue stays full after a reclaim (counted as failed:
 * the element is never given back).
 */
int rcu_defer(struct rcu_defer *d, const void *e);

/** Give back what passed its grace period (up to the queue's reclaim bound); returns how many. */
unsigned rcu_defer_reclaim(struct rcu_defer *d);

/** Copy of the counters. */
void rcu_defer_stats_get(const struct rcu_defer *d, struct rcu_defer_stats *st);

#endif /* DPNAT_RCU_DEFER_H */
