/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet parser. One pass over the headers of the first segment, every
 * length checked before it is read, every failure a named drop reason.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "pkt.h"


static inline enum pkt_class
drop(struct pkt_meta *md, enum pkt_drop why)
{
	md->drop = (uint8_t)why;
	return PKT_CLASS_DROP;
}

/* True for ICMP types that quote an offending packet (RFC 792). */
static inline bool
icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * The GRE header at md->l4_off (md->l4_len bytes of it in the segment at g):
 * 0 or a drop reason. md is the caller's local copy, so that the compiler
 * need not reload the mbuf after each store into it.
 */
static inline int
parse_gre(const uint8_t *g, struct pkt_meta *md)
{
	uint16_t fl, proto, need = 4;

	md->gre = 0;
	md->sport = 0;
	md->dport = 0;
	if (md->l4_len < 4)
		return PKT_DROP_L4_SHORT;
	fl = (uint16_t)(g[0] << 8 | g[1]);
	proto = (uint16_t)(g[2] << 8 | g[3]);
	if ((fl & PKT_GRE_VER_MASK) == 0) {
		/* RFC 2784/2890 GRE: not PPTP. Valid for the caller to classify. */
		need = (uint16_t)(4 + ((fl & PKT_GRE_F_CSUM) ? 4 : 0) + ((fl & PKT_GRE_F_KEY) ? 4 : 0) +
				  ((fl & PKT_GRE_F_SEQ) ? 4 : 0));
		if (md->l4_len < need)
			return PKT_DROP_L4_SHORT;
		md->payload_off = (uint16_t)(md->l4_off + need);
		return 0;
	}
	if ((fl & PKT_GRE_VER_MASK) != 1 || (fl & (PKT_GRE_F_CSUM | PKT_GRE_F_ROUTE)) ||
	    !(fl & PKT_GRE_F_KEY) || proto != PKT_GRE_PROTO_PPP)
		return PKT_DROP_GRE_BAD;
	need = pkt_gre_pptp_len(fl);
	if (md->l4_len < need)
		return PKT_DROP_L4_SHORT;
	memcpy(&md->dport, g + 6, 2);   /* call id: low half of the key */
	md->gre = PKT_GRE_V1_KEY;
	md->payload_off = (uint16_t)(md->l4_off + need);
	return 0;
}

/*
 * Cut the packet to its first len bytes (len <= pkt_len, len > 0). Unlike
 * rte_pktmbuf_trim this works when the bytes to remove span more than the
 * last segment: segments wholly past len are freed.
 */
static void
trim_to(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m;
	uint32_t at = 0;
	uint16_t n = 1;

	while (at + seg->data_len < len) {
		at += seg->data_len;
		seg = seg->next;
		n++;
	}
	seg->data_len = (uint16_t)(len - at);
	if (seg->next != NULL) {
		rte_pktmbuf_free(seg->next);
		seg->next = NULL;
		m->nb_segs = n;
	}
	m->pkt_len = len;
}

/* Transport headers (first or only fragment) at l4, into the local copy md. */
static inline enum pkt_class
parse_l4(const uint8_t *l4, struct pkt_meta *md)
{
	uint16_t len = md->l4_len;

	switch (md->l4_proto) {
	case IPPROTO_TCP: {
		const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)l4;
		uint16_t hl;

		if (len < sizeof(*th))
			return drop(md, PKT_DROP_L4_SHORT);
		hl = (uint16_t)((th->data_off >> 4) * 4);
		if (hl < sizeof(*th) || hl > len)
			return drop(md, PKT_DROP_L4_SHORT);
		md->sport = th->src_port;
		md->dport = th->dst_port;
		md->tcp_flags = th->tcp_flags;
		md->payload_off = (uint16_t)(md->l4_off + hl);
		break;
	}
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)l4;

		if (len < sizeof(*uh))
			return drop(md, PKT_DROP_L4_SHORT);
		md->sport = uh->src_port;
		md->dport = uh->dst_port;
		md->payload_off = (uint16_t)(md->l4_off + sizeof(*uh));
		break;
	}
	case IPPROTO_ICMP: {
		const struct rte_icmp_hdr *ih = (const struct rte_icmp_hdr *)l4;

		if (len < sizeof(*ih))
			return drop(md, PKT_DROP_L4_SHORT);
		md->icmp_type = ih->icmp_type;
		if (ih->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ||
		    ih->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
			md->sport = ih->icmp_ident;
			md->dport = ih->icmp_ident;
		} else if (icmp_is_error(ih->icmp_type)) {
			md->flags |= PKT_F_ICMP_ERR;
		}
		md->payload_off = (uint16_t)(md->l4_off + sizeof(*ih));
		break;
	}
	case IPPROTO_GRE: {
		int r = parse_gre(l4, md);

		if (r != 0)
			return drop(md, (enum pkt_drop)r);
		break;
	}
	default:
		/* Other protocols are matched on addresses alone. */
		md->payload_off = md->l4_off;
		break;
	}
	md->flags |= PKT_F_L4_VALID;
	return PKT_CLASS_IPV4;
}

/* Everything but the final copy out: fills the local v, never touches the mbuf's metadata. */
static inline enum pkt_class
parse(struct rte_mbuf *m, struct pkt_meta *v)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const uint32_t seglen = rte_pktmbuf_data_len(m), pktlen = rte_pktmbuf_pkt_len(m);
	const uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint16_t etype, ihl, tot, frag;
	enum pkt_class c;

	if (seglen < sizeof(*eth))
		return drop(v, PKT_DROP_RUNT);
	if (rte_is_broadcast_ether_addr(&eth->dst_addr))
		v->flags |= PKT_F_BCAST;
	etype = rte_be_to_cpu_16(eth->ether_type);
	v->l3_off = sizeof(*eth);
	if (unlikely(etype != RTE_ETHER_TYPE_IPV4)) {
		if (etype == RTE_ETHER_TYPE_ARP)
			return seglen < sizeof(*eth) + sizeof(struct rte_arp_hdr) ?
			       drop(v, PKT_DROP_ARP_BAD) : PKT_CLASS_ARP;
		return drop(v, etype == RTE_ETHER_TYPE_VLAN || etype == RTE_ETHER_TYPE_QINQ ?
			       PKT_DROP_VLAN : PKT_DROP_ETHERTYPE);
	}
	if (seglen < sizeof(*eth) + sizeof(*ip))
		return drop(v, pktlen < sizeof(*eth) + sizeof(*ip) ? PKT_DROP_RUNT : PKT_DROP_MULTI_SEG);
	if (likely(ip->version_ihl == RTE_IPV4_VHL_DEF)) {
		ihl = sizeof(*ip);
	} else {
		if ((ip->version_ihl >> 4) != 4)
			return drop(v, PKT_DROP_IP_VERSION);
		ihl = (uint16_t)((ip->version_ihl & 0xf) * 4);
		if (ihl < sizeof(*ip) || pktlen < sizeof(*eth) + ihl)
			return drop(v, PKT_DROP_IP_HDR_LEN);
		if (seglen < sizeof(*eth) + ihl)
			return drop(v, PKT_DROP_MULTI_SEG);
		v->flags |= PKT_F_IP_OPTS;
	}
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < ihl || sizeof(*eth) + tot > pktlen)
		return drop(v, PKT_DROP_IP_TOTAL_LEN);
	if (unlikely(ck == RTE_MBUF_F_RX_IP_CKSUM_BAD))
		return drop(v, PKT_DROP_IP_CSUM);
	if (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    (ihl == sizeof(*ip) ? !cksum_ip4_hdr20_ok(ip) : cksum_full(ip, ihl) != 0))
		return drop(v, PKT_DROP_IP_CSUM);
	if (unlikely(!pkt_ip4_src_ok(ip->src_addr)))
		return drop(v, PKT_DROP_IP_SRC_BAD);
	/* Ethernet pads short frames: keep exactly the IP datagram. */
	if (pktlen > sizeof(*eth) + tot)
		trim_to(m, sizeof(*eth) + (uint32_t)tot);
	v->src = ip->src_addr;
	v->dst = ip->dst_addr;
	v->l4_off = (uint16_t)(sizeof(*eth) + ihl);
	v->l4_len = (uint16_t)(tot - ihl);
	v->l4_proto = ip->next_proto_id;
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (unlikely(frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		v->flags |= PKT_F_FRAG;
		if (frag & RTE_IPV4_HDR_OFFSET_MASK)
			return PKT_CLASS_IPV4;    /* no transport header here */
	}
	/*
	 * Transport headers must sit in the first segment (a jumbo frame's
	 * chain has them there: its first mbuf is full), and an ICMP error
	 * whole, quote included, as its translation reads and rewrites it.
	 */
	if (unlikely(seglen < (uint32_t)v->l4_off + RTE_MIN(v->l4_len, (uint16_t)60)))
		return drop(v, PKT_DROP_MULTI_SEG);
	c = parse_l4((const uint8_t *)ip + ihl, v);
	if (unlikely((v->flags & PKT_F_ICMP_ERR) && seglen < (uint32_t)v->l4_off + v->l4_len))
		return drop(v, PKT_DROP_MULTI_SEG);
	return c;
}

enum pkt_class
pkt_parse(struct rte_mbuf *m, struct pkt_meta *md)
{
	struct pkt_meta v;
	enum pkt_class c;

	memset(&v, 0, sizeof(v));
	c = parse(m, &v);
	*md = v;
	return c;
}
