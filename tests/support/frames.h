/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames for harnesses and benchmarks that drive the real dataplane with
 * packets: Ethernet + IPv4 (checksum filled), TCP, and PPTP control
 * messages. Addresses and ports are given in host order.
 */
#ifndef DPNAT_TEST_FRAMES_H
#define DPNAT_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "cksum.h"

/** Ethernet (to dmac) + IPv4 header into b (cap bytes, zeroed first); returns the L4 header. */
static inline uint8_t *
frame_ip4(uint8_t *b, size_t cap, const struct rte_ether_addr *dmac, uint32_t src, uint32_t dst,
	  uint8_t proto, uint16_t l4len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	memset(b, 0, cap);
	eth->dst_addr = *dmac;
	memset(&eth->src_addr, 0x02, RTE_ETHER_ADDR_LEN);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = cksum_full(ip, 20);
	return (uint8_t *)(ip + 1);
}

/** A TCP segment with dlen bytes of data (checksums filled); returns the frame's length. */
static inline uint16_t
frame_tcp(uint8_t *b, size_t cap, const struct rte_ether_addr *dmac, uint32_t src, uint32_t dst,
	  uint16_t sp, uint16_t dpt, uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
	  uint16_t dlen)
{
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)frame_ip4(b, cap, dmac, src, dst, IPPROTO_TCP,
								 (uint16_t)(20 + dlen));

	th->src_port = rte_cpu_to_be_16(sp);
	th->dst_port = rte_cpu_to_be_16(dpt);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = 0x50;
	th->tcp_flags = flags;
	th->rx_win = RTE_BE16(8192);
	if (dlen)
		memcpy(th + 1, data, dlen);
	th->cksum = cksum_l4_full(rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst), IPPROTO_TCP, th,
				  20u + dlen);
	return (uint16_t)(14 + 20 + 20 + dlen);
}

/** A PPTP control message of type ct and length len, Call IDs a (at 12) and c (at 14). */
static inline uint16_t
frame_pptp_msg(uint8_t *b, uint16_t ct, uint16_t len, uint16_t a, uint16_t c, uint8_t result)
{
	memset(b, 0, len);
	b[0] = (uint8_t)(len >> 8);
	b[1] = (uint8_t)len;
	b[3] = 1;                                        /* control message */
	b[4] = 0x1a; b[5] = 0x2b; b[6] = 0x3c; b[7] = 0x4d;   /* magic cookie */
	b[9] = (uint8_t)ct;
	b[12] = (uint8_t)(a >> 8); b[13] = (uint8_t)a;
	b[14] = (uint8_t)(c >> 8); b[15] = (uint8_t)c;
	b[16] = result;
	return len;
}

/**
 * At g, a PPTP data header (enhanced GRE, version 1: key with Call ID cid,
 * sequence number 1, acknowledgement 0) and 4 bytes of PPP LCP; the IPv4
 * payload length is PPTP_GRE_FRAME.
 */
#define PPTP_GRE_FRAME (16 + 4)
static inline void
frame_gre_pptp(uint8_t *g, uint16_t cid)
{
	memset(g, 0, PPTP_GRE_FRAME);
	g[0] = 0x30;  /* K, S */
	g[1] = 0x81;  /* A, version 1 */
	g[2] = 0x88;
	g[3] = 0x0b;
	g[5] = 4;
	g[6] = (uint8_t)(cid >> 8);
	g[7] = (uint8_t)cid;
	g[11] = 1;
	memcpy(g + 16, "\xff\x03\xc0\x21", 4);
}

#endif /* DPNAT_TEST_FRAMES_H */
