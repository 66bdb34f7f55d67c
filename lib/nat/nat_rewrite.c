/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Applying a flow_rw to a packet, and translating ICMP errors that quote a
 * translated packet. Checksums are patched incrementally (RFC 1624), never
 * recomputed, so the cost does not depend on the packet's size.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include <rte_gre.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "nat.h"

/* Where the transport checksum sits, or NULL (no checksum we must keep right). */
static inline uint16_t *
l4_cksum_ptr(uint8_t *l4, uint8_t proto, bool *is_udp)
{
	*is_udp = false;
	switch (proto) {
	case IPPROTO_TCP:
		return (uint16_t *)(l4 + offsetof(struct rte_tcp_hdr, cksum));
	case IPPROTO_UDP:
		*is_udp = true;
		return (uint16_t *)(l4 + offsetof(struct rte_udp_hdr, dgram_cksum));
	default:
		return NULL;
	}
}

/* Patch a 16-bit word of the transport checksum (UDP keeps 0 meaning none). */
static inline void
ck16(uint16_t *ck, bool udp, uint16_t old, uint16_t new_)
{
	*ck = udp ? cksum_adjust16_udp(*ck, old, new_) : cksum_adjust16(*ck, old, new_);
}

static inline void
ck32(uint16_t *ck, bool udp, uint32_t old, uint32_t new_)
{
	*ck = udp ? cksum_adjust32_udp(*ck, old, new_) : cksum_adjust32(*ck, old, new_);
}

/* The ICMP checksum of the whole (unfragmented) message at md->l4_off, computed afresh. */
static void
icmp_cksum_full(const struct rte_mbuf *m, const struct pkt_meta *md, struct rte_icmp_hdr *icmp)
{
	uint16_t sum = 0;

	icmp->icmp_cksum = 0;
	if (rte_raw_cksum_mbuf(m, md->l4_off, md->l4_len, &sum) == 0)
		icmp->icmp_cksum = (uint16_t)~sum;
}

void
nat_rewrite_slow(struct rte_mbuf *m, struct pkt_meta *md, const struct flow_rw *rw)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
	uint8_t *l4 = rte_pktmbuf_mtod_offset(m, uint8_t *, md->l4_off);
	bool l4ok = (md->flags & PKT_F_L4_VALID) != 0;
	uint16_t *ck = NULL;
	bool udp = false;

	if (l4ok)
		ck = l4_cksum_ptr(l4, md->l4_proto, &udp);
	if (ip->src_addr != rw->src) {
		ip->hdr_checksum = cksum_adjust32(ip->hdr_checksum, ip->src_addr, rw->src);
		if (ck != NULL)
			ck32(ck, udp, ip->src_addr, rw->src);
		ip->src_addr = rw->src;
		md->src = rw->src;
	}
	if (ip->dst_addr != rw->dst) {
		ip->hdr_checksum = cksum_adjust32(ip->hdr_checksum, ip->dst_addr, rw->dst);
		if (ck != NULL)
			ck32(ck, udp, ip->dst_addr, rw->dst);
		ip->dst_addr = rw->dst;
		md->dst = rw->dst;
	}
	if (!l4ok || (md->sport == rw->sport && md->dport == rw->dport))
		return;
	switch (md->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP: {
		/* Both headers start with source port then destination port. */
		rte_be16_t *ports = (rte_be16_t *)l4;

		if (ports[0] != rw->sport) {
			ck16(ck, udp, ports[0], rw->sport);
			ports[0] = rw->sport;
		}
		if (ports[1] != rw->dport) {
			ck16(ck, udp, ports[1], rw->dport);
			ports[1] = rw->dport;
		}
		break;
	}
	case IPPROTO_ICMP: {
		/* Echo request/reply: the identifier is both "ports". */
		struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)l4;
		rte_be16_t id = md->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ? rw->sport : rw->dport;

		if (icmp->icmp_ident != id) {
			icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, icmp->icmp_ident, id);
			icmp->icmp_ident = id;
			/*
			 * An incremental update can give 0x0000 where the answer is
			 * 0xffff: when the message is all zeros (an echo reply whose
			 * identifier, sequence and data are 0), which only a full sum
			 * tells. ICMP is the only checksum here without a pseudo-header
			 * or a version field to keep its data from being all zeros.
			 */
			if (icmp->icmp_cksum == 0 && !(md->flags & PKT_F_FRAG))
				icmp_cksum_full(m, md, icmp);
		}
		break;
	}
	case IPPROTO_GRE:
		/* PPTP: the call id is the low half of the key (no GRE checksum in PPTP). */
		if (md->gre & PKT_GRE_V1_KEY) {
			rte_be16_t *callid = (rte_be16_t *)(l4 + 6);

			*callid = rw->dport;
		}
		break;
	default:
		break;
	}
	md->sport = rw->sport;
	md->dport = rw->dport;
}

/* Offsets inside an ICMP error: outer ICMP header, then the quoted IP header. */
struct icmp_quote {
	struct rte_icmp_hdr *icmp;
	struct rte_ipv4_hdr *qip;
	uint8_t *ql4;
	uint32_t ql4_len;    /* quoted transport bytes present */
};

static int
icmp_quote_get(struct rte_mbuf *m, const struct pkt_meta *md, struct icmp_quote *q)
{
	uint32_t avail = md->l4_len;
	uint32_t qihl;

	if (!(md->flags & PKT_F_ICMP_ERR) || avail < sizeof(struct rte_icmp_hdr) + 20 + 8 ||
	    rte_pktmbuf_data_len(m) < md->l4_off + avail)
		return -1;
	q->icmp = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, md->l4_off);
	q->qip = (struct rte_ipv4_hdr *)(q->icmp + 1);
	qihl = (q->qip->version_ihl & 0xf) * 4u;
	if ((q->qip->version_ihl >> 4) != 4 || qihl < 20 ||
	    avail < sizeof(struct rte_icmp_hdr) + qihl + 8)
		return -1;
	q->ql4 = (uint8_t *)q->qip + qihl;
	q->ql4_len = avail - (uint32_t)sizeof(struct rte_icmp_hdr) - qihl;
	return 0;
}

int
nat_icmp_err_key(struct rte_mbuf *m, const struct pkt_meta *md, struct flow_key *key)
{
	struct icmp_quote q;
	rte_be16_t sp, dp;

	if (icmp_quote_get(m, md, &q) != 0)
		return -1;
	switch (q.qip->next_proto_id) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		sp = ((rte_be16_t *)q.ql4)[0];
		dp = ((rte_be16_t *)q.ql4)[1];
		break;
	case IPPROTO_ICMP: {
		struct rte_icmp_hdr *qi = (struct rte_icmp_hdr *)q.ql4;

		if (qi->icmp_type != RTE_IP_ICMP_ECHO_REQUEST &&
		    qi->icmp_type != RTE_IP_ICMP_ECHO_REPLY)
			return -1;
		sp = dp = qi->icmp_ident;
		break;
	}
	case IPPROTO_GRE: {
		uint16_t fl = (uint16_t)(q.ql4[0] << 8 | q.ql4[1]);

		if ((fl & PKT_GRE_VER_MASK) == 1 && (fl & PKT_GRE_F_KEY)) {
			/* PPTP data: its Call ID alone, as the gate's quote key holds it. */
			flow_key_set(key, q.qip->dst_addr, q.qip->src_addr, *(rte_be16_t *)(q.ql4 + 6),
				     0, IPPROTO_GRE);
			flow_key_wing(key);
			return 0;
		}
		sp = dp = 0;
		break;
	}
	default:
		/* Other protocols (other GRE too) are sessions of an address pair. */
		sp = dp = 0;
		break;
	}
	/* The quoted packet went the other way: turn it around. */
	flow_key_set(key, q.qip->dst_addr, q.qip->src_addr, dp, sp, q.qip->next_proto_id);
	return 0;
}

void
nat_icmp_err_rewrite(struct rte_mbuf *m, struct pkt_meta *md, const struct flow_session *s,
		     unsigned dir)
{
	const struct flow_key *want = &s->key[1 - dir];   /* the quote as it was first sent */
	const struct flow_rw *rw = &s->rw[dir];
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
	struct icmp_quote q;
	uint16_t *icmp_ck, *qck = NULL;
	bool udp = false;

	if (icmp_quote_get(m, md, &q) != 0)
		return;
	icmp_ck = (uint16_t *)((uint8_t *)q.icmp + offsetof(struct rte_icmp_hdr, icmp_cksum));
	switch (q.qip->next_proto_id) {
	case IPPROTO_TCP:
		if (q.ql4_len >= 18)
			qck = (uint16_t *)(q.ql4 + offsetof(struct rte_tcp_hdr, cksum));
		break;
	case IPPROTO_UDP:
		qck = (uint16_t *)(q.ql4 + offsetof(struct rte_udp_hdr, dgram_cksum));
		udp = true;
		break;
	case IPPROTO_ICMP:
		qck = (uint16_t *)(q.ql4 + offsetof(struct rte_icmp_hdr, icmp_cksum));
		break;
	}

	/* Each change inside the ICMP payload is also a change to the ICMP checksum. */
#define PATCH32(field, val) do {                                                       \
	if ((field) != (val)) {                                                        \
		uint16_t oqc = q.qip->hdr_checksum;                                     \
		q.qip->hdr_checksum = cksum_adjust32(oqc, (field), (val));             \
		*icmp_ck = cksum_adjust16(*icmp_ck, oqc, q.qip->hdr_checksum);         \
		if (qck != NULL && q.qip->next_proto_id != IPPROTO_ICMP) {             \
			uint16_t o = *qck;                                             \
			ck32(qck, udp, (field), (val));                                \
			*icmp_ck = cksum_adjust16(*icmp_ck, o, *qck);                  \
		}                                                                      \
		*icmp_ck = cksum_adjust32(*icmp_ck, (field), (val));                   \
		(field) = (val);                                                       \
	}                                                                              \
} while (0)

	PATCH32(q.qip->src_addr, want->src);
	PATCH32(q.qip->dst_addr, want->dst);
#undef PATCH32

	if (q.qip->next_proto_id == IPPROTO_ICMP) {
		struct rte_icmp_hdr *qi = (struct rte_icmp_hdr *)q.ql4;

		if (qi->icmp_ident != want->sport) {
			uint16_t o = *qck;

			*qck = cksum_adjust16(*qck, qi->icmp_ident, want->sport);
			*icmp_ck = cksum_adjust16(*icmp_ck, o, *qck);
			*icmp_ck = cksum_adjust16(*icmp_ck, qi->icmp_ident, want->sport);
			qi->icmp_ident = want->sport;
		}
	} else if (q.qip->next_proto_id == IPPROTO_GRE) {
		/* PPTP data: its Call ID (no GRE checksum); other GRE, like other protocols, has no ports. */
		rte_be16_t *cid = (rte_be16_t *)(q.ql4 + 6);

		if ((s->flags & FLOW_F_ALG_DATA) && *cid != want->dport) {
			*icmp_ck = cksum_adjust16(*icmp_ck, *cid, want->dport);
			*cid = want->dport;
		}
	} else if (q.qip->next_proto_id == IPPROTO_TCP || q.qip->next_proto_id == IPPROTO_UDP) {
		rte_be16_t *ports = (rte_be16_t *)q.ql4;
		rte_be16_t val[2] = { want->sport, want->dport };
		unsigned i;

		for (i = 0; i < 2; i++) {
			if (ports[i] == val[i])
				continue;
			if (qck != NULL) {
				uint16_t o = *qck;

				ck16(qck, udp, ports[i], val[i]);
				*icmp_ck = cksum_adjust16(*icmp_ck, o, *qck);
			}
			*icmp_ck = cksum_adjust16(*icmp_ck, ports[i], val[i]);
			ports[i] = val[i];
		}
	}

	/* The outer header: the error goes to this direction's translated destination. */
	if (ip->dst_addr != rw->dst) {
		ip->hdr_checksum = cksum_adjust32(ip->hdr_checksum, ip->dst_addr, rw->dst);
		ip->dst_addr = rw->dst;
		md->dst = rw->dst;
	}
	if (ip->src_addr == s->key[dir].src && ip->src_addr != rw->src) {
		ip->hdr_checksum = cksum_adjust32(ip->hdr_checksum, ip->src_addr, rw->src);
		ip->src_addr = rw->src;
		md->src = rw->src;
	}
}
