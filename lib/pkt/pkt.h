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

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_mbuf.h>

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

#endif /* DPNAT_PKT_H */
