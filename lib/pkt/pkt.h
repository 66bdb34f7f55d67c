/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing into per-mbuf metadata. The metadata lives in the mbuf's
 * private area (mempools are created with PKT_PRIV_SIZE), so nothing is
 * allocated per packet. Addresses and ports stay in network byte order, as
 * the packet has them, so building hash keys costs no byte swaps.
 */
#ifndef DPNAT_PKT_H
#define DPNAT_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cksum.h"
#include "pkt_drop.h"

/** What a parsed frame is. */
enum pkt_class {
	PKT_CLASS_DROP = 0,   /**< malformed: md->drop holds the reason */
	PKT_CLASS_ARP,        /**< an ARP frame (request or reply) */
	PKT_CLASS_IPV4,       /**< an IPv4 packet whose headers are valid */
};

/** md->flags bits. */
#define PKT_F_FRAG      0x01  /**< IPv4 fragment (MF set or offset != 0) */
#define PKT_F_IP_OPTS   0x02  /**< IPv4 header has options */
#define PKT_F_L4_VALID  0x04  /**< l4 header present and long enough; sport/dport valid */
#define PKT_F_ICMP_ERR  0x08  /**< ICMP error (unreach, time exceeded, ...) */
#define PKT_F_BCAST     0x10  /**< L2 broadcast */
#define PKT_F_MTU       0x20  /**< punted: larger than out_iface's MTU with DF (ICMP frag needed) */

/** GRE (RFC 2637 enhanced) details, valid when l4_proto == IPPROTO_GRE and PKT_F_L4_VALID. */
#define PKT_GRE_V1_KEY  0x01  /**< version 1 with key present: PPTP */

/** Per-packet metadata filled by pkt_parse(). 32 bytes. */
struct pkt_meta {
	rte_be32_t src;        /**< IPv4 source */
	rte_be32_t dst;        /**< IPv4 destination */
	rte_be16_t sport;      /**< TCP/UDP source port; ICMP echo id; GRE: 0 */
	rte_be16_t dport;      /**< TCP/UDP dest port; ICMP echo id; GRE: call id (key low 16 bits) */
	uint16_t l3_off;       /**< offset of the IPv4 header */
	uint16_t l4_off;       /**< offset of the transport header */
	uint16_t l4_len;       /**< IP total length minus IP header length */
	uint16_t payload_off;  /**< TCP: offset of the payload; GRE: offset of the payload */
	uint8_t l4_proto;      /**< IP protocol */
	uint8_t flags;         /**< PKT_F_* */
	uint8_t tcp_flags;     /**< TCP flags byte */
	uint8_t icmp_type;     /**< ICMP type, when ICMP */
	uint8_t gre;           /**< PKT_GRE_* */
	uint8_t in_iface;      /**< interface index the packet arrived on */
	uint8_t out_iface;     /**< interface index chosen by routing */
	uint8_t drop;          /**< enum pkt_drop when class is DROP */
};

/** Size to pass as priv_size when creating mbuf pools. */
#define PKT_PRIV_SIZE RTE_ALIGN(sizeof(struct pkt_meta), RTE_MBUF_PRIV_ALIGN)

/** The metadata of an mbuf from a pool created with PKT_PRIV_SIZE. */
static inline struct pkt_meta *
pkt_md(struct rte_mbuf *m)
{
	return (struct pkt_meta *)rte_mbuf_to_priv(m);
}

/**
 * Parse an Ethernet frame: L2 (no VLAN), ARP or IPv4 (header length, total
 * length against the frame, header checksum unless the port verified it),
 * then TCP/UDP/ICMP/GRE headers when the packet is not a non-first fragment.
 * Trims trailing Ethernet padding so that pkt_len == l3_off + IP total length.
 * Returns the class; on PKT_CLASS_DROP md->drop names the reason.
 */
enum pkt_class pkt_parse(struct rte_mbuf *m, struct pkt_meta *md);

/** GRE header flags and version (RFC 2784, RFC 2890; RFC 2637 adds ACK and version 1). */
#define PKT_GRE_F_CSUM    0x8000
#define PKT_GRE_F_ROUTE   0x4000
#define PKT_GRE_F_KEY     0x2000
#define PKT_GRE_F_SEQ     0x1000
#define PKT_GRE_F_ACK     0x0080
#define PKT_GRE_VER_MASK  0x0007
/** GRE protocol type of PPP, what PPTP carries. */
#define PKT_GRE_PROTO_PPP 0x880b

/** Bytes of a PPTP (enhanced GRE) header with flags fl: 8, plus sequence and ack when present. */
static inline uint16_t
pkt_gre_pptp_len(uint16_t fl)
{
	return (uint16_t)(8 + ((fl & PKT_GRE_F_SEQ) ? 4 : 0) + ((fl & PKT_GRE_F_ACK) ? 4 : 0));
}

/** False for an IPv4 source no packet may carry: 0.0.0.0, 255.255.255.255, multicast. */
static inline bool
pkt_ip4_src_ok(rte_be32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);

	return h - 1 < UINT32_MAX - 1 && (h >> 28) != 0xe;
}

/** A MAC address as pkt_parse_fast() compares it: its 6 bytes, then 2 zero bytes, as memory. */
static inline uint64_t
pkt_mac64(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;

	memcpy(&v, mac, RTE_ETHER_ADDR_LEN);
	return v;
}

/** What the fast parse reads of a packet: its tuple (as in struct pkt_meta) and TCP flags. */
struct pkt_tuple {
	rte_be32_t src;
	rte_be32_t dst;
	rte_be16_t sport;      /**< TCP/UDP source port; PPTP GRE: 0 */
	rte_be16_t dport;      /**< TCP/UDP destination port; PPTP GRE: the call id */
	uint8_t proto;         /**< IPPROTO_TCP, IPPROTO_UDP or IPPROTO_GRE */
	uint8_t tcp_flags;     /**< TCP: the flags byte; otherwise 0 */
};

/**
 * The fast path's parse, inline, for the common case only: an IPv4 packet
 * to mac (an interface's unicast address, as pkt_mac64() gives it),
 * without options or fragmentation, TTL above 1, a header checksum that verifies (or that the
 * port verified), a unicast source, a destination that is not the limited
 * broadcast, whole in the first segment (the IP header at
 * RTE_ETHER_HDR_LEN, the transport header right after it), carrying TCP,
 * UDP or PPTP GRE with valid headers. For such a packet it fills t, trims
 * Ethernet padding and returns true; pkt_parse() would find the same tuple
 * and flags, PKT_F_L4_VALID alone in md->flags and PKT_GRE_V1_KEY for GRE.
 * Anything else returns false with the mbuf untouched, for pkt_parse().
 * l2 is the Ethernet header's length, a constant: RTE_ETHER_HDR_LEN, or
 * that plus RTE_VLAN_HLEN for a frame whose 802.1Q tag the caller has
 * already read (its EtherType after the tag is checked here, not the tag).
 */
static __rte_always_inline bool
pkt_parse_fast_l2(struct rte_mbuf *m, uint64_t mac, struct pkt_tuple *t, const uint32_t l2)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + l2);
	const uint8_t *l4 = (const uint8_t *)(ip + 1);
	const uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint32_t seglen = m->data_len, w, g;
	uint16_t tot, l4len, need;
	uint64_t d;

	if (unlikely(seglen < l2 + sizeof(*ip) + 8))
		return false;
	/* Destination MAC ours, EtherType IPv4, version 4 with a 20-byte header: two compares. */
	memcpy(&d, p, 8);
	memcpy(&w, p + l2 - 2, 4);
	if ((rte_cpu_to_le_64(d ^ mac) & 0xffffffffffffull) != 0 ||
	    (w & RTE_BE32(0xffffff00)) != RTE_BE32(0x08004500))
		return false;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < sizeof(*ip) + 8 || l2 + (uint32_t)tot > seglen ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
	    ip->time_to_live <= 1 || ip->dst_addr == RTE_BE32(0xffffffff) ||
	    ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	if (!pkt_ip4_src_ok(ip->src_addr))
		return false;
	if (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && !cksum_ip4_hdr20_ok(ip))
		return false;
	l4len = (uint16_t)(tot - sizeof(*ip));
	t->proto = ip->next_proto_id;
	t->tcp_flags = 0;
	if (t->proto == IPPROTO_TCP) {
		if (l4len < 20)
			return false;
		need = (uint16_t)((l4[12] >> 4) * 4);
		if (need < 20 || need > l4len)
			return false;
		memcpy(&t->sport, l4, 4);
		t->tcp_flags = l4[13];
	} else if (t->proto == IPPROTO_UDP) {
		memcpy(&t->sport, l4, 4);
	} else if (t->proto == IPPROTO_GRE) {
		/* Version 1, key present, no checksum or routing, PPP inside: PPTP (RFC 2637). */
		memcpy(&g, l4, 4);   /* flags and version, then the protocol: one compare */
		if ((g & RTE_BE32((uint32_t)(PKT_GRE_F_CSUM | PKT_GRE_F_ROUTE | PKT_GRE_F_KEY |
					     PKT_GRE_VER_MASK) << 16 | 0xffff)) !=
		    RTE_BE32((uint32_t)(PKT_GRE_F_KEY | 1) << 16 | PKT_GRE_PROTO_PPP))
			return false;
		need = pkt_gre_pptp_len((uint16_t)(rte_be_to_cpu_32(g) >> 16));
		if (need > l4len)
			return false;
		t->sport = 0;
		memcpy(&t->dport, l4 + 6, 2);
	} else {
		return false;
	}
	/* Ethernet pads short frames: keep exactly the IP datagram. */
	if (m->pkt_len != l2 + (uint32_t)tot) {
		if (m->next != NULL)
			return false;
		m->data_len = (uint16_t)(l2 + tot);
		m->pkt_len = l2 + (uint32_t)tot;
	}
	t->src = ip->src_addr;
	t->dst = ip->dst_addr;
	return true;
}

/** pkt_parse_fast_l2() for an untagged frame: the IPv4 header at RTE_ETHER_HDR_LEN. */
static inline bool
pkt_parse_fast(struct rte_mbuf *m, uint64_t mac, struct pkt_tuple *t)
{
	return pkt_parse_fast_l2(m, mac, t, RTE_ETHER_HDR_LEN);
}

#endif /* DPNAT_PKT_H */
