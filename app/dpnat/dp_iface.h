/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interfaces and neighbours in the daemon: the control lcore's slow path
 * (ARP, packets for dpnat, ICMP errors, transmit through a worker), the
 * interface MTUs and 802.1Q subinterfaces (app/dpnat/slowpath.c, mtu.c, vlan.c).
 */
#ifndef DPNAT_DP_IFACE_H
#define DPNAT_DP_IFACE_H

#include "dp.h"

struct cli_out;

/* slowpath.c */
/** Handle one packet punted by a worker (ARP, to-me, TTL, unresolved next hop). */
void dp_slowpath(struct dp *dp, struct rte_mbuf *m);
/** Send m out of iface from the control lcore (through worker 0's inject ring). */
void dp_ctl_send(struct dp *dp, struct rte_mbuf *m, uint8_t iface);
/** Count the packets the neighbour table freed since the last call as drops (control lcore). */
void dp_neigh_drops(struct dp *dp);
/** ARP request for ip on iface (neighbour resolution and retries). */
void dp_arp_request(struct dp *dp, uint8_t iface, uint32_t ip);
/** Broadcast an ARP request from sip for tip on iface (sip == tip: gratuitous). 0, or -1 if not sent. */
int dp_arp_send(struct dp *dp, uint8_t iface, uint32_t sip, uint32_t tip);

/* mtu.c */
/** Recompute the frame length up to which workers skip the MTU check (after any MTU change). */
void dp_mtu_refresh(struct dp *dp);
/**
 * A fully parsed packet longer than the smallest MTU, before any rewrite:
 * true when it is larger than its egress interface's MTU and was punted
 * (DF: ICMP fragmentation needed) or dropped (no DF); false to go on.
 * s/dir: the session it matched, or NULL on a miss.
 */
bool dp_mtu_over(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md,
		 const struct flow_session *s, unsigned dir);
/** True when parsed packet m is larger than the MTU of interface out_iface it is about to leave by. */
bool dp_mtu_exceeds(const struct dp *dp, const struct rte_mbuf *m, const struct pkt_meta *md,
		    unsigned out_iface);
/** Push the interface MTUs of nc to the dataplane and the ports. 0, or -1 told on out. */
int dp_mtu_apply(struct dp *dp, const struct conf *nc, struct cli_out *out);
/** Give port of interface iface the MTU mtu where the device allows it (logged if not). */
void dp_port_mtu(struct dp *dp, unsigned iface, uint16_t mtu);
/**
 * The MTU packets leaving by interface iface are held to: its own, or the
 * largest its port's device carries where that is smaller (0: no limit).
 */
uint16_t dp_iface_mtu(const struct dp *dp, unsigned iface);
/** The MTU the port of physical interface i must carry: its own and its subinterfaces' largest. */
uint16_t dp_port_mtu_need(const struct conf *c, unsigned i);

/* vlan.c */
/** Whether m came in with an 802.1Q tag (in the frame, or stripped by the device). */
static inline bool
dp_vlan_tagged(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) ||
	       (m->data_len >= sizeof(*eth) && eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN));
}
/**
 * A tagged frame received on physical interface iface: the index of the
 * subinterface its tag names, with the tag removed from the frame, or -1
 * with m dropped and counted (vlan-unknown).
 */
int dp_vlan_rx(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m);
/** Make interface sub the subinterface of physical interface port_iface whose frames carry tag (at start). */
void dp_vlan_link(struct dp *dp, unsigned port_iface, unsigned sub, uint16_t tag);

/**
 * A frame with its 802.1Q tag in the frame, received on physical interface
 * iface: the index of the subinterface its tag names, the tag left in
 * place (the fast path rewrites it), or -1 with m dropped and counted
 * (runt, vlan-unknown; a subinterface has no subinterfaces, and id 0, a
 * priority tag, names none). Out of line: inline, it costs the port's
 * untagged loop registers (+8 instructions a packet, callgrind).
 */
int dp_vlan_sub(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m);

/** Move the two MAC addresses (12 bytes) from src to dst, 4 bytes away either way: all loads before the stores. */
static inline void
dp_vlan_move_macs(uint8_t *dst, const uint8_t *src)
{
	uint64_t a;
	uint32_t b;

	memcpy(&a, src, sizeof(a));
	memcpy(&b, src + sizeof(a), sizeof(b));
	memcpy(dst, &a, sizeof(a));
	memcpy(dst + sizeof(a), &b, sizeof(b));
}

/** Take the tag out of a frame dp_vlan_sub() sorted (its length was checked there). */
static inline void
dp_vlan_pop(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	dp_vlan_move_macs(p + RTE_VLAN_HLEN, p);
	m->data_off += RTE_VLAN_HLEN;   /* rte_pktmbuf_adj without its checks */
	m->data_len -= RTE_VLAN_HLEN;
	m->pkt_len -= RTE_VLAN_HLEN;
	m->ol_flags &= ~RTE_MBUF_F_RX_VLAN;
}
/**
 * Give the n frames of pkts the tag: by the device (hw, its insert offload)
 * or written in place; those that cannot take it are dropped. Returns how many are left.
 */
uint16_t dp_vlan_push(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t tag, bool hw);

#endif /* DPNAT_DP_IFACE_H */
