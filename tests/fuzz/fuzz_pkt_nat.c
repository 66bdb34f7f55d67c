/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the packet parser and the NAT rewrites (lib/pkt,
 * lib/nat): arbitrary frames through pkt_parse, then, as a worker does,
 * nat_rewrite for an IPv4 packet, or nat_icmp_err_key and
 * nat_icmp_err_rewrite for an ICMP error, with translations taken from the
 * input.
 *
 * Input:
 *   byte 0     bit 0: split the frame into a two-segment mbuf chain
 *              bit 1: mark the IP checksum as verified good by the port
 *              bit 2: mark it bad (with bit 1: the port could not tell)
 *              bit 3: the direction the ICMP error matched
 *              bits 4-7: where the chain is split (after the headers)
 *   bytes 1-12   flow_rw for nat_rewrite: src, dst, sport, dport
 *   bytes 13-24  for an ICMP error, the session's other key (src, dst, sport,
 *                dport: what the quoted packet is restored to)
 *   bytes 25-36  for an ICMP error, the session's rewrite of its direction
 *   bytes 37-    the Ethernet frame
 *
 * Frames are copied into buffers that end exactly at the frame's last byte,
 * so AddressSanitizer catches any access beyond it.
 *
 * Checked: the parse is self-consistent (offsets and lengths inside the
 * frame, padding trimmed); after a rewrite every checksum that verified
 * before (IPv4 header, TCP, UDP unless it was 0, ICMP, the quoted IPv4
 * header of an ICMP error) still verifies, and the rewritten fields hold
 * what was asked.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "fuzz_common.h"
#include "flow.h"
#include "nat.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define HDR_BYTES  37
#define MAX_FRAME  2000

static struct rte_mempool *pool;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_eal_init("fuzz_pkt_nat");
	pool = rte_pktmbuf_pool_create("fz_pkt", 63, 0, PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL)
		abort();
	return 0;
}

static void
fail(const char *what, const uint8_t *frame, size_t len)
{
	size_t i;

	fprintf(stderr, "fuzz_pkt_nat: %s\nframe (%zu bytes):", what, len);
	for (i = 0; frame != NULL && i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", frame[i]);
	fprintf(stderr, "\n");
	abort();
}

/* The whole packet as one flat byte array (a copy when the mbuf is chained). */
static const uint8_t *
flat(struct rte_mbuf *m, uint8_t *buf)
{
	const uint8_t *p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);

	if (p == NULL)
		abort();
	return p;
}

/* Which checksums of the parsed packet verify now. */
struct verdict {
	bool ip;       /* outer IPv4 header */
	bool l4;       /* TCP, UDP (non-zero checksum) or ICMP over the whole datagram */
	bool udp0;     /* UDP without checksum */
	bool qip;      /* quoted IPv4 header of an ICMP error */
};

static struct verdict
judge(struct rte_mbuf *m, const struct pkt_meta *md, uint8_t *buf)
{
	const uint8_t *p = flat(m, buf);
	const uint8_t *ip = p + md->l3_off, *l4 = p + md->l4_off;
	unsigned ihl = (ip[0] & 0xf) * 4u;
	struct verdict v = { false, false, false, false };
	bool whole = (md->flags & PKT_F_L4_VALID) && !(md->flags & PKT_F_FRAG) &&
		     (uint32_t)md->l4_off + md->l4_len <= m->pkt_len;

	v.ip = fuzz_cksum_ok(ip, ihl);
	if (!whole)
		return v;
	switch (md->l4_proto) {
	case IPPROTO_TCP:
		v.l4 = fuzz_l4_cksum_ok(ip, IPPROTO_TCP, l4, md->l4_len);
		break;
	case IPPROTO_UDP:
		if (wire_get16(l4 + 6) == 0)
			v.udp0 = true;
		else
			v.l4 = fuzz_l4_cksum_ok(ip, IPPROTO_UDP, l4, md->l4_len);
		break;
	case IPPROTO_ICMP:
		v.l4 = fuzz_cksum_ok(l4, md->l4_len);
		if ((md->flags & PKT_F_ICMP_ERR) && md->l4_len >= 8 + 20) {
			const uint8_t *q = l4 + 8;
			unsigned qihl = (q[0] & 0xf) * 4u;

			if ((q[0] >> 4) == 4 && qihl >= 20 && 8 + qihl <= md->l4_len)
				v.qip = fuzz_cksum_ok(q, qihl);
		}
		break;
	default:
		break;
	}
	return v;
}

static void
check_after(const struct verdict *before, const struct verdict *after, const uint8_t *frame,
	    size_t len, const char *what)
{
	char msg[128];

	if (before->ip && !after->ip) {
		snprintf(msg, sizeof(msg), "%s broke the IPv4 header checksum", what);
		fail(msg, frame, len);
	}
	if (before->l4 && !after->l4) {
		snprintf(msg, sizeof(msg), "%s broke the transport checksum", what);
		fail(msg, frame, len);
	}
	if (before->udp0 && !after->udp0) {
		snprintf(msg, sizeof(msg), "%s gave a checksum to UDP that had none", what);
		fail(msg, frame, len);
	}
	if (before->qip && !after->qip) {
		snprintf(msg, sizeof(msg), "%s broke the quoted IPv4 header checksum", what);
		fail(msg, frame, len);
	}
}

/* The parse must describe the frame it parsed. */
static void
check_parse(struct rte_mbuf *m, const struct pkt_meta *md, const uint8_t *frame, size_t len,
	    uint8_t *buf)
{
	const uint8_t *p = flat(m, buf);
	const uint8_t *ip = p + md->l3_off;
	unsigned ihl = (ip[0] & 0xf) * 4u, tot = wire_get16(ip + 2);
	const char *why;

	if (md->l3_off != RTE_ETHER_HDR_LEN || (ip[0] >> 4) != 4 || ihl < 20 ||
	    md->l4_off != md->l3_off + ihl || md->l4_len != tot - ihl)
		fail("pkt_meta offsets disagree with the IPv4 header", frame, len);
	if (m->pkt_len != (uint32_t)md->l3_off + tot)
		fail("pkt_parse left bytes after the IPv4 datagram (padding not trimmed)", frame, len);
	if (rte_mbuf_check(m, 1, &why) != 0)
		fail(why, frame, len);
	if (memcmp(&md->src, ip + 12, 4) != 0 || memcmp(&md->dst, ip + 16, 4) != 0)
		fail("pkt_meta addresses are not the packet's", frame, len);
	if (md->l4_proto != ip[9])
		fail("pkt_meta protocol is not the packet's", frame, len);
	if ((md->flags & PKT_F_L4_VALID) && md->payload_off < md->l4_off)
		fail("payload before the transport header", frame, len);
	if ((md->flags & PKT_F_L4_VALID) && md->payload_off > md->l4_off + md->l4_len)
		fail("payload offset beyond the datagram", frame, len);
	if ((md->flags & PKT_F_L4_VALID) && rte_pktmbuf_data_len(m) <
	    (uint32_t)md->l4_off + RTE_MIN(md->l4_len, 60u))
		fail("transport header not in the first segment", frame, len);
}

static struct rte_mbuf *make_mbuf(const uint8_t *frame, size_t len, uint8_t ctl);

/*
 * The worker's fast parse, on a second copy of the frame and with the
 * frame's own destination MAC as the interface's (when unicast, as an
 * interface's is): when it takes the frame, pkt_parse on a third copy must
 * find the same tuple, offsets and trimmed length, and nothing that makes
 * the worker look at the packet before the session lookup.
 */
static void
fast_agrees(struct rte_mbuf *m, const uint8_t *frame, size_t len, uint8_t ctl)
{
	struct rte_ether_addr mac;
	struct rte_mbuf *c, *f;
	struct pkt_tuple t;
	struct pkt_meta md;

	if (len < RTE_ETHER_ADDR_LEN || (frame[0] & 1))
		return;
	memcpy(&mac, frame, sizeof(mac));
	c = make_mbuf(frame, len, ctl);
	c->ol_flags = m->ol_flags;
	if (!pkt_parse_fast(c, pkt_mac64(&mac), &t)) {
		rte_pktmbuf_free(c);
		return;
	}
	f = make_mbuf(frame, len, ctl);
	f->ol_flags = m->ol_flags;
	if (pkt_parse(f, &md) != PKT_CLASS_IPV4)
		fail("the fast parse took a frame pkt_parse does not", frame, len);
	if (t.src != md.src || t.dst != md.dst || t.sport != md.sport || t.dport != md.dport ||
	    t.proto != md.l4_proto || t.tcp_flags != md.tcp_flags)
		fail("the fast parse and pkt_parse found different tuples", frame, len);
	if (md.flags != PKT_F_L4_VALID || md.l3_off != RTE_ETHER_HDR_LEN ||
	    md.l4_off != RTE_ETHER_HDR_LEN + 20 ||
	    md.gre != (md.l4_proto == IPPROTO_GRE ? PKT_GRE_V1_KEY : 0))
		fail("the fast parse took a frame the worker must look at first", frame, len);
	if (c->pkt_len != f->pkt_len || c->data_len != f->data_len || c->nb_segs != f->nb_segs)
		fail("the fast parse trimmed the frame differently", frame, len);
	if (md.dst == RTE_BE32(0xffffffff) || frame[RTE_ETHER_HDR_LEN + 8] <= 1)
		fail("the fast parse took a frame for the control lcore", frame, len);
	rte_pktmbuf_free(c);
	rte_pktmbuf_free(f);
}

/* Build the (possibly chained) mbuf holding frame[len]. */
static struct rte_mbuf *
make_mbuf(const uint8_t *frame, size_t len, uint8_t ctl)
{
	struct rte_mbuf *m, *m2;
	size_t split;

	if (!(ctl & 1) || len < 2)
		return fuzz_mbuf_exact(pool, frame, (uint16_t)len);
	/* Headers up to the transport header, then a few more bytes, in the first segment. */
	split = RTE_ETHER_HDR_LEN + 20 + (ctl >> 4) * 4u;
	if (split >= len)
		split = len - 1;
	m = fuzz_mbuf_exact(pool, frame, (uint16_t)split);
	m2 = fuzz_mbuf_exact(pool, frame + split, (uint16_t)(len - split));
	if (rte_pktmbuf_chain(m, m2) != 0)
		abort();
	return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_FRAME], buf2[MAX_FRAME];
	const uint8_t *frame = data + HDR_BYTES, *p;
	size_t len = size - HDR_BYTES;
	struct flow_rw rw;
	struct rte_mbuf *m;
	struct pkt_meta *md;
	enum pkt_class cls;
	struct verdict before, after;
	uint8_t ctl;

	if (size < HDR_BYTES || size - HDR_BYTES > MAX_FRAME)
		return -1;
	ctl = data[0];
	memcpy(&rw.src, data + 1, 4);
	memcpy(&rw.dst, data + 5, 4);
	memcpy(&rw.sport, data + 9, 2);
	memcpy(&rw.dport, data + 11, 2);

	m = make_mbuf(frame, len, ctl);
	if ((ctl & 6) == 2)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	else if ((ctl & 6) == 4)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	else if ((ctl & 6) == 6)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_NONE;
	md = pkt_md(m);
	fast_agrees(m, frame, len, ctl);
	cls = pkt_parse(m, md);
	if (cls == PKT_CLASS_DROP) {
		if (md->drop == PKT_DROP_NONE || md->drop >= PKT_DROP_MAX)
			fail("dropped without a valid reason", frame, len);
		rte_pktmbuf_free(m);
		return 0;
	}
	if (cls != PKT_CLASS_IPV4) {
		if (cls != PKT_CLASS_ARP)
			fail("pkt_parse returned an unknown class", frame, len);
		rte_pktmbuf_free(m);
		return 0;
	}
	check_parse(m, md, frame, len, buf);
	if ((ctl & 6) == 4)
		fail("pkt_parse accepted a packet the port marked with a bad IP checksum", frame, len);
	if ((ctl & 6) != 2 && !fuzz_cksum_ok(flat(m, buf) + md->l3_off, md->l4_off - md->l3_off))
		fail("pkt_parse accepted a bad IPv4 header checksum", frame, len);
	before = judge(m, md, buf);

	if (md->flags & PKT_F_ICMP_ERR) {
		struct flow_session s;
		struct flow_key key;
		unsigned dir = (ctl >> 3) & 1;

		if (nat_icmp_err_key(m, md, &key) == 0) {
			memset(&s, 0, sizeof(s));
			s.key[dir] = key;
			flow_key_set(&s.key[1 - dir], 0, 0, 0, 0, key.proto);
			memcpy(&s.key[1 - dir].src, data + 13, 4);
			memcpy(&s.key[1 - dir].dst, data + 17, 4);
			memcpy(&s.key[1 - dir].sport, data + 21, 2);
			memcpy(&s.key[1 - dir].dport, data + 23, 2);
			memcpy(&s.rw[dir].src, data + 25, 4);
			memcpy(&s.rw[dir].dst, data + 29, 4);
			memcpy(&s.rw[dir].sport, data + 33, 2);
			memcpy(&s.rw[dir].dport, data + 35, 2);
			s.proto = key.proto;
			if (key.pad[0] == FLOW_KEY_WING)
				s.flags = FLOW_F_ALG_MADE | FLOW_F_ALG_DATA;   /* a PPTP gate */
			nat_icmp_err_rewrite(m, md, &s, dir);
			after = judge(m, md, buf);
			check_after(&before, &after, frame, len, "nat_icmp_err_rewrite");
			p = flat(m, buf2);
			{
				const uint8_t *q = p + md->l4_off + 8;
				unsigned qihl = (q[0] & 0xf) * 4u;
				const struct flow_key *want = &s.key[1 - dir];

				if (memcmp(q + 12, &want->src, 4) != 0 || memcmp(q + 16, &want->dst, 4) != 0)
					fail("quoted addresses not restored", frame, len);
				if (q[9] == IPPROTO_ICMP) {
					if (memcmp(q + qihl + 4, &want->sport, 2) != 0)
						fail("quoted echo identifier not restored", frame, len);
				} else if (q[9] == IPPROTO_GRE && (s.flags & FLOW_F_ALG_DATA)) {
					if (memcmp(q + qihl + 6, &want->dport, 2) != 0)
						fail("quoted PPTP Call ID not restored", frame, len);
				} else if ((q[9] == IPPROTO_TCP || q[9] == IPPROTO_UDP) &&
					   (memcmp(q + qihl, &want->sport, 2) != 0 ||
					    memcmp(q + qihl + 2, &want->dport, 2) != 0)) {
					fail("quoted ports not restored", frame, len);
				}
				if (memcmp(p + md->l3_off + 16, &s.rw[dir].dst, 4) != 0)
					fail("outer destination not translated", frame, len);
			}
		}
		rte_pktmbuf_free(m);
		return 0;
	}

	{
		/* The packet's own tuple, as a session's key would hold it. */
		struct flow_key k;

		flow_key_set(&k, md->src, md->dst, md->sport, md->dport, md->l4_proto);
		flow_rw_prepare(&rw, &k);
	}
	nat_rewrite(m, md, &rw);
	after = judge(m, md, buf);
	check_after(&before, &after, frame, len, "nat_rewrite");
	p = flat(m, buf2);
	if (memcmp(p + md->l3_off + 12, &rw.src, 4) != 0 || memcmp(p + md->l3_off + 16, &rw.dst, 4) != 0 ||
	    md->src != rw.src || md->dst != rw.dst)
		fail("addresses not rewritten", frame, len);
	if ((md->flags & PKT_F_L4_VALID) &&
	    (md->l4_proto == IPPROTO_TCP || md->l4_proto == IPPROTO_UDP) &&
	    (memcmp(p + md->l4_off, &rw.sport, 2) != 0 || memcmp(p + md->l4_off + 2, &rw.dport, 2) != 0))
		fail("ports not rewritten", frame, len);
	if ((md->flags & PKT_F_L4_VALID) && md->l4_proto == IPPROTO_GRE && (md->gre & PKT_GRE_V1_KEY) &&
	    memcmp(p + md->l4_off + 6, &rw.dport, 2) != 0)
		fail("GRE call id not rewritten", frame, len);
	rte_pktmbuf_free(m);
	return 0;
}
