/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint-independent mappings (RFC 4787 REQ-1, RFC 5382 REQ-1): an inside
 * endpoint (protocol, address, port or ICMP identifier) keeps one public
 * endpoint for every destination for as long as a session uses it. A
 * mapping owns its public port: it is counted by the sessions that use it
 * (a reference each) and gives the port back when the last one is freed.
 *
 * A bounded table (`set nat mapping max N`) with two chained hash indexes,
 * inside endpoint and public endpoint, under one spinlock. It is taken only
 * when a session is made or freed and for a packet to a public address that
 * matched no session (endpoint-independent filtering, hairpinning): never
 * for a packet of an established session.
 *
 * Threads: any; every call takes the lock but nat_map_stats (relaxed reads).
 */
#ifndef DPNAT_NAT_MAP_H
#define DPNAT_NAT_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>

#include "nat.h"

struct nat_map;

/** One mapping as the CLI shows it (addresses and ports in network order). */
struct nat_map_info {
	rte_be32_t in_ip;
	rte_be32_t pub_ip;
	rte_be16_t in_port;     /**< ICMP: the identifier */
	rte_be16_t pub_port;
	uint8_t proto;
	uint16_t policy_id;     /**< the policy whose session made it */
	uint32_t refs;          /**< sessions using it */
	uint32_t created;       /**< flow clock, seconds */
};

/** Counters of the table. */
struct nat_map_stats {
	uint32_t used;          /**< mappings alive */
	uint32_t max;
	uint64_t created;
	uint64_t freed;
	uint64_t reused;        /**< sessions that found their endpoint's mapping alive */
	uint64_t failed;        /**< refused: table full */
	uint64_t inbound;       /**< sessions opened from outside to a mapping (endpoint-independent filtering) */
	uint64_t hairpin;       /**< sessions hairpinned from inside to a mapping */
};

/** A table of up to max mappings whose public ports come from nt. NULL with rte_errno set. */
struct nat_map *nat_map_create(const char *name, struct nat_table *nt, uint32_t max, int socket);

/** Free it (the ports of mappings still alive are not given back). NULL accepted. */
void nat_map_free(struct nat_map *m);

/**
 * Take a reference on the mapping of inside endpoint (proto, ip, port):
 * 0 with its public endpoint in *pub_ip and *pub_port, or -ENOENT.
 */
int nat_map_take_in(struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port,
		    rte_be32_t *pub_ip, rte_be16_t *pub_port);

/**
 * Add the mapping inside (proto, ip, port) to public (*pub_ip, *pub_port),
 * holding one reference, made by policy policy_id at time now. Returns 0; 1
 * when another thread added one for the same inside endpoint first: a
 * reference on that one is taken and *pub_ip and *pub_port say its public
 * endpoint (the caller gives its own port back); -ENOSPC when the table is
 * full (counted).
 */
int nat_map_add(struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port,
		rte_be32_t *pub_ip, rte_be16_t *pub_port, uint16_t policy_id, uint32_t now);

/**
 * Take a reference on the mapping that owns public endpoint (proto, pub_ip,
 * pub_port): 0 with its inside endpoint in *ip and *port and its policy in
 * *policy_id, or -ENOENT. hairpin says which counter the session made from
 * it goes to.
 */
int nat_map_take_pub(struct nat_map *m, uint8_t proto, rte_be32_t pub_ip, rte_be16_t pub_port,
		     rte_be32_t *ip, rte_be16_t *port, uint16_t *policy_id, bool hairpin);

/**
 * Give back a reference on the mapping of inside endpoint (proto, ip, port);
 * the last one removes the mapping and frees its public port.
 */
void nat_map_put(struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port);

/** Slots nat_map_list reads at most per call (the lock is held meanwhile). */
#define NAT_MAP_LIST_SLOTS 1024

/**
 * Copy up to n live mappings, from slot *pos on, into out, reading at most
 * NAT_MAP_LIST_SLOTS slots; *pos moves past the last slot read (the end:
 * *pos is the table's size, nat_map_stats' max). Returns how many were copied.
 */
unsigned nat_map_list(struct nat_map *m, uint32_t *pos, struct nat_map_info *out, unsigned n);

/** The table's counters. */
void nat_map_stats(const struct nat_map *m, struct nat_map_stats *st);

#endif /* DPNAT_NAT_MAP_H */
