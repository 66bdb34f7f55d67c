/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-source counts: how many sessions (or PPTP calls) each inside host
 * holds, so that one host cannot take a whole table (ScreenOS `screen
 * limit-session source-ip-based`). A bounded table of {source, count},
 * sized at creation; workers change it only when a session or call is made
 * or freed, never per established packet. Any thread may take and put:
 * each operation locks the source's two buckets only.
 */
#ifndef DPNAT_NAT_SRC_H
#define DPNAT_NAT_SRC_H

#include <stdint.h>

#include <rte_byteorder.h>

struct nat_src;

/** Counters of a per-source table. */
struct nat_src_stats {
	uint64_t sources;        /**< sources holding at least one unit now */
	uint64_t max;            /**< sources the table holds at most */
	uint64_t units;          /**< units (sessions, calls) counted now */
	uint64_t refused_limit;  /**< takes refused: the source was at its limit */
	uint64_t refused_full;   /**< takes refused: no room for another source */
};

/** One source and its count (host order). */
struct nat_src_entry {
	uint32_t ip;
	uint32_t count;
};

/** Create a table for up to max sources (>= 1) on NUMA socket. NULL on failure (rte_errno). */
struct nat_src *nat_src_create(const char *name, uint32_t max, int socket);

/** Free it. NULL accepted. */
void nat_src_free(struct nat_src *t);

/**
 * Count one more unit for source ip (network order) unless it holds limit
 * already. 0, -EDQUOT (at its limit) or -ENOSPC (table full); refusals are
 * counted.
 */
int nat_src_take(struct nat_src *t, rte_be32_t ip, uint32_t limit);

/** Give back a unit nat_src_take counted for ip. */
void nat_src_put(struct nat_src *t, rte_be32_t ip);

/** Units source ip (network order) holds now. */
uint32_t nat_src_count(struct nat_src *t, rte_be32_t ip);

/** Copy of the counters. */
void nat_src_stats_get(const struct nat_src *t, struct nat_src_stats *st);

/**
 * The n sources holding the most units, most first, into top (control
 * lcore: reads the whole table). Returns how many were written.
 */
unsigned nat_src_top(struct nat_src *t, struct nat_src_entry *top, unsigned n);

#endif /* DPNAT_NAT_SRC_H */
