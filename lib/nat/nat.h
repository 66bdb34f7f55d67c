/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source NAT: public addresses with per-worker port allocators, compiled
 * policies, and the packet rewrite that applies a session's flow_rw.
 *
 * Ports (and PPTP call ids, which come from the same family, as on ScreenOS)
 * are allocated per public address from 1024-65535. That range is cut into
 * one slice per worker, so a worker allocates from its own slice without a
 * lock; any thread frees with an atomic bit clear.
 */
#ifndef DPNAT_NAT_H
#define DPNAT_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "flow.h"
#include "pkt.h"

#define NAT_PORT_MIN   1024
#define NAT_PORT_MAX   65535
#define NAT_MAX_ADDRS  4096

/** Per-address usage, for the CLI. */
struct nat_addr_info {
	uint32_t ip;          /**< host order */
	uint32_t used;        /**< ports/call ids in use */
	uint32_t size;        /**< ports available in all */
	uint64_t failed;      /**< allocations refused: the worker's slice was full */
};

struct nat_table;

/** Create an allocator set for n_workers workers and up to max_addrs public addresses. */
struct nat_table *nat_create(const char *name, unsigned n_workers, uint32_t max_addrs, int socket);

/** Free it. NULL accepted. */
void nat_free(struct nat_table *nt);

/** Register public address ip (host order); idempotent. Returns its index or -ENOSPC. */
int nat_addr_add(struct nat_table *nt, uint32_t ip);

/** Index of public address ip, or -ENOENT. */
int nat_addr_find(const struct nat_table *nt, uint32_t ip);

/** Address of index idx (host order). */
uint32_t nat_addr_ip(const struct nat_table *nt, unsigned idx);

/** Number of registered addresses. */
unsigned nat_addr_count(const struct nat_table *nt);

/**
 * Allocate a port on address idx from worker w's slice (round robin from
 * where the last allocation stopped). Returns the port (host order) or
 * -ENOSPC when the slice is exhausted (counted).
 */
int nat_port_alloc(struct nat_table *nt, unsigned idx, unsigned w);

/** Return port on address ip (host order) to its owner's slice; any thread. 0 or -ENOENT. */
int nat_port_free(struct nat_table *nt, uint32_t ip, uint16_t port);

/** Usage of address idx. */
void nat_addr_info(const struct nat_table *nt, unsigned idx, struct nat_addr_info *info);

/* ---- policies ---- */

#define NAT_SVC_ANY    0
/** Built-in ScreenOS service names and what they match. */
struct nat_service {
	const char *name;
	uint8_t proto;        /**< 0 = any protocol */
	uint16_t port;        /**< destination port, 0 = any */
	uint8_t proto2;       /**< a second protocol matched too (PPTP: GRE), 0 = none */
};

/** The service called name (case-insensitive), or NULL. */
const struct nat_service *nat_service_find(const char *name);

/** One compiled policy. */
struct nat_policy {
	uint32_t id;
	uint8_t from_zone;
	uint8_t to_zone;
	bool permit;
	bool nat_src;
	uint32_t dip_id;
	const struct nat_service *svc;
	uint32_t dip_first;   /**< index of the DIP pool's first address in nat_table */
	uint32_t dip_count;   /**< addresses in the pool, 0 = use the egress interface address */
};

#define NAT_MAX_POLICIES 256

/** An immutable, compiled policy list (swapped whole at run time). */
struct nat_policy_set {
	unsigned n;
	struct nat_policy p[NAT_MAX_POLICIES];
};

/**
 * First policy of set matching the zone pair, protocol and destination port
 * (network order), or NULL.
 */
const struct nat_policy *nat_policy_match(const struct nat_policy_set *set, uint8_t from_zone,
					  uint8_t to_zone, uint8_t proto, rte_be16_t dport);

/* ---- packet rewrite ---- */

/**
 * Rewrite the parsed IPv4 packet m to the tuple rw: addresses, TCP/UDP
 * ports, ICMP echo identifier or the GRE call id (key low 16 bits), with the
 * IP and transport checksums updated incrementally (RFC 1624; a UDP checksum
 * of 0 stays 0). md's addresses and ports are updated too. rw's checksum
 * changes must have been summed (flow_rw_prepare) against the tuple m carries.
 */
void nat_rewrite(struct rte_mbuf *m, struct pkt_meta *md, const struct flow_rw *rw);

/**
 * For an ICMP error m (md parsed), build the lookup key of the packet it
 * quotes, turned around as a packet of the same flow arriving from the
 * other side would look. Returns 0, or -1 if the quote is too short or not
 * TCP/UDP/ICMP echo.
 */
int nat_icmp_err_key(struct rte_mbuf *m, const struct pkt_meta *md, struct flow_key *key);

/**
 * Translate an ICMP error m that matched session s in direction dir (its
 * quote is a packet of direction 1 - dir). The quoted packet is restored to
 * s->key[1 - dir], the outer destination becomes s->rw[dir].dst and the outer
 * source s->rw[dir].src when the error comes from the flow's own endpoint;
 * the quoted IP checksum, the quoted transport checksum where the quote holds
 * it, the ICMP checksum and the outer IP checksum are all corrected.
 */
void nat_icmp_err_rewrite(struct rte_mbuf *m, struct pkt_meta *md,
			  const struct flow_session *s, unsigned dir);

#endif /* DPNAT_NAT_H */
