/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interfaces, zones and IPv4 routes. Routes live in an rte_lpm whose next
 * hop indexes a small next-hop array {egress interface, gateway}. Workers
 * read lock-free; only the control lcore writes (single writer). What a
 * change unlinks (next-hop slots, LPM tbl8 groups) is reused only after a
 * grace period on the workers' qsbr (docs/architecture.md, "Reclamation").
 * Addresses are IPv4 in host byte order in this API.
 */
#ifndef DPNAT_ROUTE_H
#define DPNAT_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_rcu_qsbr.h>

#include "rcu_defer.h"

#define ROUTE_MAX_IFACES 16      /**< interface indexes are 0..15 (fit in uint8_t) */
#define ROUTE_MAX_ZONES  8
#define ROUTE_NAME_LEN   32
#define ROUTE_NO_PORT    UINT16_MAX

/** Zone ids used by the NAT decisions; other zones get ids from 2 up. */
#define ROUTE_ZONE_NONE  0xff

/** An interface as the dataplane sees it. */
struct route_iface {
	char name[ROUTE_NAME_LEN];
	char zone[ROUTE_NAME_LEN];
	uint16_t port_id;            /**< DPDK port, ROUTE_NO_PORT when unbound (down) */
	uint8_t zone_id;             /**< index in route_table zones, ROUTE_ZONE_NONE if none */
	bool up;                     /**< bound to a started port */
	bool nat;                    /**< NAT mode: sources from here are translated */
	bool has_ip;
	uint32_t ip;
	uint8_t plen;
	uint16_t mtu;                /**< IP MTU: larger packets do not leave here (0: no limit) */
	struct rte_ether_addr mac;
};

/** A next hop: where a route sends packets. */
struct route_nh {
	uint8_t iface;               /**< egress interface index */
	uint32_t gateway;            /**< 0 = the destination itself is on-link */
};

/** One route, as listed by route_walk(). */
struct route_entry {
	uint32_t prefix;
	uint8_t plen;
	uint8_t iface;
	uint32_t gateway;
	bool connected;              /**< derived from an interface address */
};

struct route_table;

/**
 * Create a table for up to max_routes routes on NUMA socket, read by the
 * threads that report quiescent states on qsbr (NULL: no other thread reads
 * it, unlinked memory is reused at once). NULL on failure (rte_errno set).
 */
struct route_table *route_create(const char *name, uint32_t max_routes, struct rte_rcu_qsbr *qsbr,
				 int socket);

/** Free the table. NULL is accepted. */
void route_free(struct route_table *rt);

/**
 * Add or replace interface ifindex (< ROUTE_MAX_IFACES). If it has an address
 * its connected route is installed. Returns 0 or negative errno.
 */
int route_iface_set(struct route_table *rt, unsigned ifindex, const struct route_iface *ifc);

/** Interface ifindex, or NULL if none is set there. */
const struct route_iface *route_iface_get(const struct route_table *rt, unsigned ifindex);

/** Number of interface slots in use (highest index + 1). */
unsigned route_iface_count(const struct route_table *rt);

/** Index of the interface with this name, or -1. */
int route_iface_by_name(const struct route_table *rt, const char *name);

/** Index of the interface bound to DPDK port port_id, or -1. */
int route_iface_by_port(const struct route_table *rt, uint16_t port_id);

/** Index of the interface owning address ip (one of dpnat's own addresses), or -1. */
int route_iface_by_addr(const struct route_table *rt, uint32_t ip);

/** Zone id for a zone name (created on first use). Returns id or negative errno when full. */
int route_zone_id(struct route_table *rt, const char *zone);

/** Name of zone id, or "" if unknown. */
const char *route_zone_name(const struct route_table *rt, unsigned zone_id);

/** Add a static route. Returns 0, -EEXIST (same prefix), -ENOSPC (full) or -EINVAL. */
int route_add(struct route_table *rt, uint32_t prefix, uint8_t plen, unsigned ifindex, uint32_t gateway);

/** Delete the static route for prefix/plen. Returns 0 or -ENOENT. */
int route_del(struct route_table *rt, uint32_t prefix, uint8_t plen);

/**
 * Point the static route prefix/plen at another interface and gateway in
 * place: a lookup finds the old next hop or the new one, never none.
 * Returns 0, -ENOENT (no such static route), -ENOSPC or -EINVAL.
 */
int route_replace(struct route_table *rt, uint32_t prefix, uint8_t plen, unsigned ifindex,
		  uint32_t gateway);

/** Give back the next-hop slots whose grace period is over (control lcore, each loop). */
void route_reclaim(struct route_table *rt);

/** Counters of the next-hop reclamation queue. */
void route_rcu_stats(const struct route_table *rt, struct rcu_defer_stats *st);

/** Longest prefix match for dst. Returns 0 with *nh filled, or -ENOENT. Lock-free, for workers. */
int route_lookup(const struct route_table *rt, uint32_t dst, struct route_nh *nh);

/**
 * route_lookup() and route_iface_get() of its interface in one call, for the
 * workers: *rc is route_lookup()'s result; returns the interface, or NULL
 * when there is no route or its interface is gone.
 */
const struct route_iface *route_lookup_iface(const struct route_table *rt, uint32_t dst,
					     struct route_nh *nh, int *rc);

/**
 * A number that changes after every change to routes or interfaces: a reader
 * that cached what a lookup found keeps it while the number stays the same.
 */
uint32_t route_generation(const struct route_table *rt);

/** Call fn for each route (connected first, then static, in prefix order). Stops early if fn returns non-zero. */
void route_walk(const struct route_table *rt,
		int (*fn)(const struct route_entry *e, void *arg), void *arg);

/** Number of routes installed (connected + static). */
unsigned route_count(const struct route_table *rt);

#endif /* DPNAT_ROUTE_H */
