/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source NAT: public addresses with per-worker port allocators, compiled
 * policies, and the packet rewrite that applies a session's flow_rw.
 *
 * Ports (and PPTP call ids, which come from the same family, as on ScreenOS)
 * are allocated per public address from 1024-65535. That range is cut into
 * one slice per worker, so a worker allocates from its own slice without a
 * lock; any thread frees with an atomic bit clear.
 *
 * RSS classes (nat_set_rss): with n workers (a power of two) the ports are
 * also split into n classes by what they add to the Toeplitz hash of a
 * reply (lib/rss), each class cut into one slice per worker. A worker that
 * wants a reply on its own queue asks for the class nat_port_class names.
 */
#ifndef DPNAT_NAT_H
#define DPNAT_NAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "flow.h"
#include "pkt.h"

#define NAT_PORT_MIN   1024
#define NAT_PORT_MAX   65535
#define NAT_MAX_ADDRS  4096

#include "nat_det.h"   /* after the port range it uses */

/** Per-address usage, for the CLI. */
struct nat_addr_info {
	uint32_t ip;          /**< host order */
	uint32_t used;        /**< ports/call ids in use */
	uint32_t size;        /**< ports available in all */
	uint64_t failed;      /**< allocations refused: the worker's slice was full */
	uint64_t spilled;     /**< ports of another RSS class than the flow wanted (its slice was full) */
};

struct nat_table;

/** Create an allocator set for n_workers workers and up to max_addrs public addresses. */
struct nat_table *nat_create(const char *name, unsigned n_workers, uint32_t max_addrs, int socket);

/** Free it. NULL accepted. */
void nat_free(struct nat_table *nt);

/**
 * Split the ports into n_cls RSS classes (a power of two, at most the
 * workers) by Toeplitz key key (RSS_KEY_LEN bytes); before any address is
 * added. 1 leaves one class. 0, -EINVAL or -ENOMEM.
 */
int nat_set_rss(struct nat_table *nt, const uint8_t *key, unsigned n_cls);

/**
 * The class a port must have for the reply from peer:peer_port to pub
 * (network order) to hash to queue w (dpnat's key and table, lib/rss).
 * 0 without classes.
 */
unsigned nat_port_class(const struct nat_table *nt, unsigned w, rte_be32_t peer, rte_be32_t pub,
			rte_be16_t peer_port);

/**
 * Whether a packet from peer to pub hashed by addresses alone (GRE, ICMP)
 * reaches worker w's queue; true without classes.
 */
bool nat_addr_on_worker(const struct nat_table *nt, unsigned w, rte_be32_t peer, rte_be32_t pub);

/** The RSS class of port (host order); 0 without classes. */
unsigned nat_port_class_of(const struct nat_table *nt, uint16_t port);

/**
 * nat_port_alloc for a port of class cls: from worker w's slice of that
 * class, else (counted as spilled) of the next class that has one.
 */
int nat_port_alloc_cls(struct nat_table *nt, unsigned idx, unsigned w, unsigned cls);

/** Register public address ip (host order); idempotent. Returns its index or -ENOSPC. */
int nat_addr_add(struct nat_table *nt, uint32_t ip);

/** Index of public address ip, or -ENOENT. */
int nat_addr_find(const struct nat_table *nt, uint32_t ip);

/** Address of index idx (host order). */
uint32_t nat_addr_ip(const struct nat_table *nt, unsigned idx);

/** Number of registered addresses. */
unsigned nat_addr_count(const struct nat_table *nt);

/** How many more addresses nat_addr_add can register. */
unsigned nat_addr_room(const struct nat_table *nt);

/**
 * Allocate a port on address idx from worker w's slice (round robin from
 * where the last allocation stopped; of class w % classes, or the next). Returns the port (host order) or
 * -ENOSPC when the slice is exhausted (counted): that is known from the
 * slice's free count before any scan, so a refusal costs the same whatever
 * the slice's size.
 */
int nat_port_alloc(struct nat_table *nt, unsigned idx, unsigned w);

/**
 * Allocate a port on address idx among first..first+count-1 (host order,
 * within NAT_PORT_MIN..NAT_PORT_MAX), looking from first + *cursor on;
 * *cursor moves past the port taken. For the modes that give a subscriber
 * its own range (port blocks, deterministic NAT): lock-free like
 * nat_port_alloc, the port is counted in the slice that holds it, and
 * nat_port_free gives it back. The port, or -ENOSPC when the range is full.
 */
int nat_port_alloc_range(struct nat_table *nt, unsigned idx, uint32_t first, uint32_t count,
			 uint32_t *cursor);
/**
 * Mark port on address ip (host order) in use, taken from its owner's
 * slice, for a session another box made (HA standby): it is never handed
 * out until nat_port_free. Any thread. 0, -EEXIST if it is in use already,
 * -ENOENT if ip is not registered or port below NAT_PORT_MIN.
 */
int nat_port_reserve(struct nat_table *nt, uint32_t ip, uint16_t port);

/** Return port on address ip (host order) to its owner's slice; any thread. 0 or -ENOENT. */
int nat_port_free(struct nat_table *nt, uint32_t ip, uint16_t port);

/**
 * Take port (host order) on address idx whatever worker's slice it is in
 * (port preservation); any thread. 0, -EBUSY when in use, -EINVAL outside
 * the range. nat_port_free gives it back like any.
 */
int nat_port_take(struct nat_table *nt, unsigned idx, uint16_t port);

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
	struct nat_det det;   /**< a deterministic pool's mapping (det.ports 0: not deterministic) */
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

/** nat_rewrite() for what its inline cases leave: ICMP, other protocols, fragments, other GRE. */
void nat_rewrite_slow(struct rte_mbuf *m, struct pkt_meta *md, const struct flow_rw *rw);

/** ck with a summed change delta applied: ~(~ck + delta), RFC 1624 eq. 3 for several words. */
static inline uint16_t
nat_cs_apply(uint16_t ck, uint32_t delta)
{
	return (uint16_t)~cksum_fold((uint32_t)(uint16_t)~ck + delta);
}

/**
 * The fast paths (TCP/UDP, PPTP GRE): both addresses written and the header
 * checksum patched with the change flow_rw_prepare summed for this
 * direction; md takes the whole new tuple. The caller writes the ports.
 */
static inline void
nat_rewrite_addrs(struct rte_ipv4_hdr *ip, struct pkt_meta *md, const struct flow_rw *rw)
{
	ip->hdr_checksum = nat_cs_apply(ip->hdr_checksum, rw->ck_ip);
	ip->src_addr = rw->src;
	ip->dst_addr = rw->dst;
	md->src = rw->src;
	md->dst = rw->dst;
	md->sport = rw->sport;
	md->dport = rw->dport;
}

/** TCP/UDP at l4: both ports written, the transport checksum patched with its summed change. */
static inline void
nat_rewrite_ports(uint8_t *l4, bool udp, const struct flow_rw *rw)
{
	rte_be16_t *ports = (rte_be16_t *)l4;
	uint16_t *ck = (uint16_t *)(l4 + (udp ? offsetof(struct rte_udp_hdr, dgram_cksum) :
					       offsetof(struct rte_tcp_hdr, cksum)));

	if (!udp || *ck != 0) {   /* a UDP checksum of 0 means none, and must stay so */
		uint16_t c = nat_cs_apply(*ck, rw->ck_l4);

		*ck = (udp && c == 0) ? 0xffff : c;
	}
	ports[0] = rw->sport;
	ports[1] = rw->dport;
}

/**
 * Rewrite the parsed IPv4 packet m to the tuple rw: addresses, TCP/UDP
 * ports, ICMP echo identifier or the GRE call id (key low 16 bits), with the
 * IP and transport checksums updated incrementally (RFC 1624; a UDP checksum
 * of 0 stays 0). md's addresses and ports are updated too. rw's checksum
 * changes must have been summed (flow_rw_prepare) against the tuple m carries.
 */
static inline void
nat_rewrite(struct rte_mbuf *m, struct pkt_meta *md, const struct flow_rw *rw)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
	uint8_t *l4 = rte_pktmbuf_mtod_offset(m, uint8_t *, md->l4_off);

	/*
	 * No test for an unchanged tuple: a session without NAT sums to a change
	 * of -0, which leaves every checksum a packet can carry as it was.
	 */
	if (likely(md->flags & PKT_F_L4_VALID)) {
		if (likely(md->l4_proto == IPPROTO_TCP || md->l4_proto == IPPROTO_UDP)) {
			nat_rewrite_ports(l4, md->l4_proto == IPPROTO_UDP, rw);
			nat_rewrite_addrs(ip, md, rw);
			return;
		}
		if (md->l4_proto == IPPROTO_GRE && (md->gre & PKT_GRE_V1_KEY)) {
			/* PPTP data: the call id is the key's low half; PPTP GRE has no checksum. */
			*(rte_be16_t *)(l4 + 6) = rw->dport;
			nat_rewrite_addrs(ip, md, rw);
			return;
		}
	}
	nat_rewrite_slow(m, md, rw);
}

/**
 * For an ICMP error m (md parsed), build the lookup key of the packet it
 * quotes, turned around as a packet of the same flow arriving from the
 * other side would look; for PPTP GRE, the key of the gate's quote wing
 * (FLOW_KEY_WING); for other protocols, their address pair's. Returns
 * 0, or -1 if the quote is too short or an ICMP message other than an echo.
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
