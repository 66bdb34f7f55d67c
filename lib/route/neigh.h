/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour (ARP) table. Workers look up MAC addresses lock-free: each
 * entry's MAC and state are one 64-bit word read atomically; a deleted
 * entry is reused only after a grace period on their qsbr. Only the control
 * lcore writes: it learns from ARP, holds packets waiting for resolution in a
 * small bounded per-entry queue, retries requests, and ages entries.
 * Addresses are IPv4 in host byte order in this API.
 */
#ifndef DPNAT_NEIGH_H
#define DPNAT_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "rcu_defer.h"

/** Entry states. */
enum neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE,   /**< ARP request sent, no answer yet */
	NEIGH_REACHABLE,    /**< learnt, ages out after the configured timeout */
	NEIGH_STATIC,       /**< from `set arp`, never ages */
};

/** What the CLI and tests see of one entry. */
struct neigh_info {
	uint32_t ip;
	uint8_t iface;
	enum neigh_state state;
	struct rte_ether_addr mac;
	uint32_t age;        /**< seconds since last confirmed (0 for static) */
	uint32_t queued;     /**< packets waiting for resolution */
	uint32_t tries;      /**< ARP requests sent for this resolution */
};

/** Counters, all monotonic. */
struct neigh_stats {
	uint64_t learnt;
	uint64_t expired;
	uint64_t table_full;     /**< a new entry could not be made */
	uint64_t queue_full;     /**< a packet was dropped because its entry's queue was full */
	uint64_t failed;         /**< resolutions given up after the retries */
	uint64_t failed_pkts;    /**< packets freed because their resolution was given up */
	uint64_t removed_pkts;   /**< packets freed because their entry was deleted or flushed */
	uint64_t requests_sent;
};

struct neigh_table;

/**
 * Create a table with room for max entries, queue_len held packets per entry,
 * dynamic entries aging after timeout_s seconds, read by the threads that
 * report quiescent states on qsbr (NULL: no other thread reads it, deleted
 * entries are reused at once). NULL on failure.
 */
struct neigh_table *neigh_create(const char *name, uint32_t max, uint32_t queue_len,
				 uint32_t timeout_s, struct rte_rcu_qsbr *qsbr, int socket);

/** Free the table and any packets still queued. NULL is accepted. */
void neigh_free(struct neigh_table *t);

/** Lock-free lookup for workers: 0 with *mac set when (iface, ip) is resolved, else -ENOENT. */
int neigh_lookup(const struct neigh_table *t, uint8_t iface, uint32_t ip, struct rte_ether_addr *mac);

/**
 * A number that changes whenever any entry's MAC or state changes: a reader
 * that read it before a neigh_lookup() may reuse that lookup's answer for as
 * long as the number stays the same.
 */
uint32_t neigh_generation(const struct neigh_table *t);

/**
 * Learn or refresh (iface, ip) -> mac at time now (seconds). With is_static
 * the entry never ages and ARP does not change it. If create is false only an
 * existing entry is updated (RFC 826: learn only from requests aimed at us or
 * entries we asked for). Packets that were waiting are moved to out (at most
 * out_max, the rest are freed and counted); *n_out tells how many.
 * Returns 0, -ENOENT (not present and !create) or -ENOSPC (table full).
 */
int neigh_update(struct neigh_table *t, uint8_t iface, uint32_t ip,
		 const struct rte_ether_addr *mac, bool is_static, bool create, uint64_t now,
		 struct rte_mbuf **out, unsigned out_max, unsigned *n_out);

/**
 * Queue packet m until (iface, ip) resolves. Returns 1 if the caller must
 * send an ARP request now (new entry), 0 if queued behind a pending request,
 * -ENOSPC if the table is full or the entry's queue is full (m NOT taken:
 * the caller frees it and counts), -EEXIST if the entry is already resolved
 * (m not taken: the caller sends it).
 */
int neigh_queue(struct neigh_table *t, uint8_t iface, uint32_t ip, struct rte_mbuf *m, uint64_t now);

/**
 * Periodic work at time now: expire reachable entries older than the
 * timeout, and for incomplete entries call resend(iface, ip, arg) once a
 * second up to 3 times, then give up (queued packets freed and counted).
 */
void neigh_tick(struct neigh_table *t, uint64_t now,
		void (*resend)(uint8_t iface, uint32_t ip, void *arg), void *arg);

/** Delete one entry (any state). Returns 0 or -ENOENT. */
int neigh_del(struct neigh_table *t, uint8_t iface, uint32_t ip);

/** Delete all dynamic entries (`clear arp`); static ones stay. Returns how many were removed. */
unsigned neigh_flush(struct neigh_table *t);

/** Call fn for each entry in use; stop early if fn returns non-zero. */
void neigh_walk(const struct neigh_table *t, uint64_t now,
		int (*fn)(const struct neigh_info *ni, void *arg), void *arg);

/** Entries in use and the maximum. */
void neigh_usage(const struct neigh_table *t, uint32_t *used, uint32_t *max);

/** Copy of the counters. */
void neigh_stats_get(const struct neigh_table *t, struct neigh_stats *st);

/** Counters of the reclamation queue of deleted entries. */
void neigh_rcu_stats(const struct neigh_table *t, struct rcu_defer_stats *st);

/** Change the dynamic-entry timeout. */
void neigh_set_timeout(struct neigh_table *t, uint32_t timeout_s);

#endif /* DPNAT_NEIGH_H */
