/* SPDX-License-Identifier: BSD-3-Clause */
/* The packet parser on hand-built frames: every class, flag and drop reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "eal_rundir.h"
#include "pkt.h"

static struct rte_mempool *pool;

/* Frame builder: Ethernet + IPv4 (+ options) + l4 bytes + padding. */
struct fb {
	uint16_t etype;
	uint8_t ihl_words;     /* 5 unless options */
	uint8_t proto;
	uint16_t frag;         /* host order flags+offset */
	uint32_t src, dst;     /* host order */
	const uint8_t *l4;
	uint16_t l4_len;
	uint16_t pad;          /* extra bytes after the datagram */
	int bad_csum;
	int tot_delta;         /* added to total length */
	uint8_t version;
};

static struct rte_mbuf *
build(const struct fb *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t ihl = (uint16_t)(f->ihl_words * 4);
	uint16_t tot = (uint16_t)(ihl + f->l4_len);
	uint8_t *p;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eth) + tot + f->pad));
	assert_non_null(p);
	memset(p, 0, sizeof(*eth) + tot + f->pad);
	eth = (struct rte_ether_hdr *)p;
	memset(&eth->dst_addr, 0xff, 6);
	eth->ether_type = rte_cpu_to_be_16(f->etype ? f->etype : RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = (uint8_t)((f->version ? f->version : 4) << 4 | f->ihl_words);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(tot + f->tot_delta));
	ip->fragment_offset = rte_cpu_to_be_16(f->frag);
	ip->time_to_live = 64;
	ip->next_proto_id = f->proto;
	ip->src_addr = rte_cpu_to_be_32(f->src ? f->src : 0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(f->dst ? f->dst : 0x0a000002);
	if (f->l4_len)
		memcpy((uint8_t *)ip + ihl, f->l4, f->l4_len);
	ip->hdr_checksum = cksum_full(ip, ihl);
	if (f->bad_csum)
		ip->hdr_checksum ^= 0x0101;
	return m;
}

static struct fb
ipv4(uint8_t proto, const void *l4, uint16_t len)
{
	struct fb f = { .ihl_words = 5, .proto = proto, .l4 = l4, .l4_len = len };
	return f;
}

static void
test_tcp(void **state)
{
	uint8_t th[24] = { 0x12, 0x34, 0x06, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02 };
	struct fb f = ipv4(IPPROTO_TCP, th, sizeof(th));
	struct rte_mbuf *m;
	struct pkt_meta md;

	(void)state;
	f.pad = 6;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.l4_proto, IPPROTO_TCP);
	assert_int_equal(md.sport, rte_cpu_to_be_16(0x1234));
	assert_int_equal(md.dport, rte_cpu_to_be_16(1723));
	assert_int_equal(md.tcp_flags, RTE_TCP_SYN_FLAG);
	assert_int_equal(md.l3_off, 14);
	assert_int_equal(md.l4_off, 34);
	assert_int_equal(md.l4_len, 24);
	assert_int_equal(md.payload_off, 54);
	assert_true(md.flags & PKT_F_L4_VALID);
	assert_true(md.flags & PKT_F_BCAST);
	assert_int_equal(md.src, rte_cpu_to_be_32(0x0a000001));
	/* Ethernet padding is trimmed. */
	assert_int_equal(m->pkt_len, 14 + 20 + 24);
	rte_pktmbuf_free(m);

	/* Data offset beyond the segment. */
	th[12] = 0xf0;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_L4_SHORT);
	rte_pktmbuf_free(m);
	f.l4_len = 10;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_L4_SHORT);
	rte_pktmbuf_free(m);
}

static void
test_udp_icmp(void **state)
{
	uint8_t uh[16] = { 0x00, 0x35, 0x04, 0x00, 0, 16, 0, 0 };
	uint8_t echo[16] = { 8, 0, 0, 0, 0xbe, 0xef, 0, 1 };
	uint8_t err[36] = { 3, 3, 0, 0, 0, 0, 0, 0, 0x45 };
	struct fb f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	struct rte_mbuf *m = build(&f);
	struct pkt_meta md;

	(void)state;
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.sport, rte_cpu_to_be_16(53));
	assert_int_equal(md.dport, rte_cpu_to_be_16(1024));
	assert_int_equal(md.payload_off, 14 + 20 + 8);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_ICMP, echo, sizeof(echo));
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.icmp_type, 8);
	assert_int_equal(md.sport, rte_cpu_to_be_16(0xbeef));
	assert_int_equal(md.dport, rte_cpu_to_be_16(0xbeef));
	assert_false(md.flags & PKT_F_ICMP_ERR);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_ICMP, err, sizeof(err));
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_true(md.flags & PKT_F_ICMP_ERR);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_ICMP, err, 4);
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_L4_SHORT);
	rte_pktmbuf_free(m);
}

static void
test_gre(void **state)
{
	/* Enhanced GRE: K + S + A, version 1, protocol PPP, call id 0x1c66. */
	uint8_t g[32] = { 0x30, 0x81, 0x88, 0x0b, 0x00, 0x04, 0x1c, 0x66,
			  0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0x03, 0xc0, 0x21 };
	struct fb f = ipv4(IPPROTO_GRE, g, 20);
	struct rte_mbuf *m = build(&f);
	struct pkt_meta md;

	(void)state;
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.gre, PKT_GRE_V1_KEY);
	assert_int_equal(md.sport, 0);
	assert_int_equal(md.dport, rte_cpu_to_be_16(0x1c66));
	assert_int_equal(md.payload_off, 14 + 20 + 16);
	rte_pktmbuf_free(m);

	/* Only S: 12-byte header; only the key: 8 bytes. */
	g[1] = 0x01;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.payload_off, 14 + 20 + 12);
	rte_pktmbuf_free(m);
	g[0] = 0x20;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.payload_off, 14 + 20 + 8);
	rte_pktmbuf_free(m);

	/* Truncated: S+A announced, 10 bytes present. */
	g[0] = 0x30;
	g[1] = 0x81;
	f.l4_len = 10;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_L4_SHORT);
	rte_pktmbuf_free(m);

	/* Version 1 without key, or with checksum: malformed. */
	f.l4_len = 20;
	g[0] = 0x10;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_GRE_BAD);
	rte_pktmbuf_free(m);
	g[0] = 0xb0;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_GRE_BAD);
	rte_pktmbuf_free(m);

	/* Version 0 (RFC 2784) parses, but is not PPTP. */
	g[0] = 0x00;
	g[1] = 0x00;
	g[2] = 0x08;
	g[3] = 0x00;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.gre, 0);
	assert_int_equal(md.dport, 0);
	assert_int_equal(md.payload_off, 14 + 20 + 4);
	rte_pktmbuf_free(m);

	/* Version 0 with C, K and S: 16 bytes of header, all present. */
	g[0] = 0xb0;
	f.l4_len = 16;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_int_equal(md.payload_off, 14 + 20 + 16);
	assert_true(md.payload_off <= md.l4_off + md.l4_len);
	rte_pktmbuf_free(m);

	/* F2: C, R, K and S announced in a 12-byte datagram: the optional fields
	 * would end past it, so it is a truncated header, not a payload offset
	 * 4 bytes beyond the packet. */
	g[0] = 0xf0;
	f.l4_len = 12;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_L4_SHORT);
	rte_pktmbuf_free(m);
}

/* A chain of segments of the given lengths holding frame[] in order. */
static struct rte_mbuf *
chain(const uint8_t *frame, const uint16_t *seg_len, unsigned n)
{
	struct rte_mbuf *head = NULL;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(pool);

		assert_non_null(s);
		memcpy(rte_pktmbuf_append(s, seg_len[i]), frame, seg_len[i]);
		frame += seg_len[i];
		if (head == NULL)
			head = s;
		else
			assert_int_equal(rte_pktmbuf_chain(head, s), 0);
	}
	return head;
}

/*
 * F1: padding after the datagram is trimmed on a chain too, also when it
 * spans more than the last segment (rte_pktmbuf_trim refuses that), and the
 * segments left empty go back to the pool.
 */
static void
test_chain_padding(void **state)
{
	/* The first segment holds 60 bytes of UDP (pkt_parse wants that much there). */
	uint8_t uh[80] = { 0x00, 0x35, 0x04, 0x00, 0, 80, 0, 0 };
	struct fb f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	const uint16_t dgram = 14 + 20 + 80;                  /* 114 bytes */
	static const uint16_t across[] = { 100, 20, 30 };      /* 14 + 6 pad, 30 pad */
	static const uint16_t boundary[] = { 114, 30, 6 };     /* pad = two whole segments */
	static const uint16_t in_last[] = { 100, 20 };         /* 14 + 6 pad */
	static const struct {
		const uint16_t *len;
		unsigned n, segs_after;
	} cases[] = { { across, 3, 2 }, { boundary, 3, 1 }, { in_last, 2, 2 } };
	unsigned avail = rte_mempool_avail_count(pool), i;
	struct rte_mbuf *flat, *m;
	struct pkt_meta md;
	uint8_t frame[150];
	const char *why;

	(void)state;
	f.pad = (uint16_t)(sizeof(frame) - dgram);
	flat = build(&f);
	memcpy(frame, rte_pktmbuf_mtod(flat, uint8_t *), sizeof(frame));
	rte_pktmbuf_free(flat);
	for (i = 0; i < RTE_DIM(cases); i++) {
		uint16_t j, sum = 0;

		m = chain(frame, cases[i].len, cases[i].n);
		for (j = 0; j < cases[i].n; j++)
			sum = (uint16_t)(sum + cases[i].len[j]);
		assert_int_equal(m->pkt_len, sum);
		assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
		assert_int_equal(m->pkt_len, dgram);
		assert_int_equal(m->nb_segs, cases[i].segs_after);
		assert_int_equal(rte_pktmbuf_pkt_len(m), md.l4_off + md.l4_len);
		assert_null(rte_pktmbuf_lastseg(m)->next);
		sum = 0;
		for (flat = m; flat != NULL; flat = flat->next)
			sum = (uint16_t)(sum + flat->data_len);
		assert_int_equal(sum, dgram);
		assert_int_equal(rte_mbuf_check(m, 1, &why), 0);
		rte_pktmbuf_free(m);
		assert_int_equal(rte_mempool_avail_count(pool), avail);
	}
}

static void
test_ip_errors(void **state)
{
	uint8_t uh[8] = { 0, 1, 0, 2, 0, 8, 0, 0 };
	struct fb f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	struct rte_mbuf *m;
	struct pkt_meta md;

	(void)state;
	f.bad_csum = 1;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_IP_CSUM);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	f.tot_delta = 1;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_IP_TOTAL_LEN);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	f.version = 6;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_IP_VERSION);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	f.ihl_words = 4;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_IP_HDR_LEN);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	f.src = 0xe0000001;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_IP_SRC_BAD);
	rte_pktmbuf_free(m);

	f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	f.etype = RTE_ETHER_TYPE_VLAN;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_VLAN);
	rte_pktmbuf_free(m);
	f.etype = RTE_ETHER_TYPE_IPV6;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_ETHERTYPE);
	rte_pktmbuf_free(m);

	/* A runt: 10 bytes. */
	m = rte_pktmbuf_alloc(pool);
	memset(rte_pktmbuf_append(m, 10), 0, 10);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_DROP);
	assert_int_equal(md.drop, PKT_DROP_RUNT);
	rte_pktmbuf_free(m);
}

static void
test_frag_opts_arp(void **state)
{
	uint8_t uh[8] = { 0, 1, 0, 2, 0, 8, 0, 0 };
	struct fb f = ipv4(IPPROTO_UDP, uh, sizeof(uh));
	struct rte_mbuf *m;
	struct pkt_meta md;

	(void)state;
	f.frag = RTE_IPV4_HDR_MF_FLAG;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_true(md.flags & PKT_F_FRAG);
	assert_true(md.flags & PKT_F_L4_VALID);     /* first fragment has ports */
	rte_pktmbuf_free(m);
	f.frag = 100;
	m = build(&f);
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_true(md.flags & PKT_F_FRAG);
	assert_false(md.flags & PKT_F_L4_VALID);
	rte_pktmbuf_free(m);

	/* 4 bytes of options (NOPs) before the UDP header. */
	m = rte_pktmbuf_alloc(pool);
	{
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 14 + 24 + 8);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);

		memset(p, 0, 14 + 24 + 8);
		p[12] = 0x08;
		ip->version_ihl = 0x46;
		ip->total_length = rte_cpu_to_be_16(32);
		ip->time_to_live = 9;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = rte_cpu_to_be_32(0x01020304);
		ip->dst_addr = rte_cpu_to_be_32(0x05060708);
		memset(p + 34, 1, 4);
		memcpy(p + 38, uh, 8);
		ip->hdr_checksum = cksum_full(ip, 24);
	}
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
	assert_true(md.flags & PKT_F_IP_OPTS);
	assert_int_equal(md.l4_off, 14 + 24);
	assert_int_equal(md.dport, rte_cpu_to_be_16(2));
	rte_pktmbuf_free(m);

	/* ARP. */
	m = rte_pktmbuf_alloc(pool);
	{
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 60);

		memset(p, 0, 60);
		p[12] = 0x08;
		p[13] = 0x06;
	}
	assert_int_equal(pkt_parse(m, &md), PKT_CLASS_ARP);
	rte_pktmbuf_free(m);
}

/* Random bytes never crash the parser and every drop names a real reason. */
static void
test_random_frames(void **state)
{
	int iter;

	(void)state;
	srand(7);
	for (iter = 0; iter < 100000; iter++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint16_t len = (uint16_t)(rand() % 200), i;
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len ? len : 1);
		struct pkt_meta md;
		enum pkt_class c;

		for (i = 0; i < len; i++)
			p[i] = (uint8_t)rand();
		if (len > 24) {
			p[12] = 0x08;
			p[13] = (iter & 3) ? 0x00 : 0x06;
			p[14] = (uint8_t)(0x45 + (iter % 3));
		}
		c = pkt_parse(m, &md);
		if (c == PKT_CLASS_DROP) {
			assert_true(md.drop > PKT_DROP_NONE && md.drop < PKT_DROP_MAX);
		} else if (c == PKT_CLASS_IPV4) {
			assert_true(md.l4_off + md.l4_len <= m->pkt_len);
		}
		rte_pktmbuf_free(m);
	}
}

/* A copy of m's single segment, for parsing the same frame twice. */
static struct rte_mbuf *
copy1(const struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(pool);

	assert_non_null(c);
	memcpy(rte_pktmbuf_append(c, m->data_len), rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
	c->ol_flags = m->ol_flags;
	return c;
}

/*
 * pkt_parse_fast on a copy of m against pkt_parse on m: when the fast parse
 * takes the frame, the full one must find the same tuple and lengths, and
 * the frame be one the worker sends straight to the session lookup. Returns
 * what the fast parse said.
 */
static bool
fast_agrees(struct rte_mbuf *m, const struct rte_ether_addr *mac)
{
	struct rte_mbuf *c = copy1(m);
	struct pkt_tuple t;
	struct pkt_meta md;
	const struct rte_ipv4_hdr *ip;
	bool took;

	memset(&t, 0xa5, sizeof(t));
	took = pkt_parse_fast(c, pkt_mac64(mac), &t);
	if (took) {
		assert_int_equal(pkt_parse(m, &md), PKT_CLASS_IPV4);
		assert_int_equal(t.src, md.src);
		assert_int_equal(t.dst, md.dst);
		assert_int_equal(t.sport, md.sport);
		assert_int_equal(t.dport, md.dport);
		assert_int_equal(t.proto, md.l4_proto);
		assert_int_equal(t.tcp_flags, md.tcp_flags);
		assert_int_equal(md.flags, PKT_F_L4_VALID);
		assert_int_equal(md.l3_off, RTE_ETHER_HDR_LEN);
		assert_int_equal(md.l4_off, RTE_ETHER_HDR_LEN + 20);
		assert_int_equal(md.gre, md.l4_proto == IPPROTO_GRE ? PKT_GRE_V1_KEY : 0);
		assert_int_equal(c->pkt_len, m->pkt_len);
		assert_int_equal(c->data_len, m->data_len);
		assert_memory_equal(rte_pktmbuf_mtod(c, uint8_t *), mac, RTE_ETHER_ADDR_LEN);
		ip = rte_pktmbuf_mtod_offset(c, const struct rte_ipv4_hdr *, md.l3_off);
		assert_true(ip->time_to_live > 1);
		assert_true(md.dst != RTE_BE32(0xffffffff));
		assert_true(md.l4_proto == IPPROTO_TCP || md.l4_proto == IPPROTO_UDP ||
			    md.l4_proto == IPPROTO_GRE);
	} else {
		assert_memory_equal(rte_pktmbuf_mtod(c, uint8_t *), rte_pktmbuf_mtod(m, uint8_t *),
				    m->data_len);
		assert_int_equal(c->data_len, m->data_len);
	}
	rte_pktmbuf_free(c);
	return took;
}

/* Frames the fast parse must take, then each made slightly wrong in a way it must leave alone. */
static void
test_fast_parse(void **state)
{
	static const struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
	uint8_t th[20] = { 0x12, 0x34, 0x06, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10 };
	uint8_t uh[16] = { 0x00, 0x35, 0x04, 0x00, 0, 16, 0, 0 };
	uint8_t g[20] = { 0x30, 0x81, 0x88, 0x0b, 0x00, 0x04, 0x1c, 0x66, 0, 0, 0, 1, 0, 0, 0, 0 };
	struct fb good[] = {
		ipv4(IPPROTO_TCP, th, sizeof(th)),
		ipv4(IPPROTO_UDP, uh, sizeof(uh)),
		ipv4(IPPROTO_GRE, g, sizeof(g)),
	};
	unsigned i, k, took = 0;

	(void)state;
	for (i = 0; i < RTE_DIM(good); i++) {
		for (k = 0; k < 2; k++) {
			struct rte_mbuf *m;

			good[i].pad = (uint16_t)(k * 6);   /* padded to the Ethernet minimum, or not */
			m = build(&good[i]);
			memcpy(rte_pktmbuf_mtod(m, uint8_t *), &mac, sizeof(mac));
			assert_true(fast_agrees(m, &mac));
			rte_pktmbuf_free(m);
		}
	}
	/* Each case: a field changed so that the frame needs the full parse (or is dropped there). */
	for (i = 0; i < RTE_DIM(good); i++) {
		/* fast: which of the three frames (bit 0 TCP, 1 UDP, 2 GRE) the change leaves fast. */
		static const struct { unsigned off; uint8_t val, fast; } bad[] = {
			{ 0, 0xff, 0 },           /* another destination MAC */
			{ 5, 0x02, 0 },
			{ 12, 0x86, 0 },          /* not IPv4 */
			{ 14, 0x46, 0 },          /* options */
			{ 14, 0x55, 0 },          /* IP version 5 */
			{ 16, 0xff, 0 },          /* total length beyond the frame */
			{ 20, 0x20, 0 },          /* more fragments */
			{ 21, 0x01, 0 },          /* fragment offset */
			{ 22, 1, 0 },             /* TTL 1 */
			{ 22, 0, 0 },
			{ 23, IPPROTO_ICMP, 0 },  /* a protocol the fast path leaves alone */
			{ 24, 0x55, 0 },          /* header checksum */
			{ 26, 0, 0 },             /* source 0.0.0.0 (with 27-29 below) */
			{ 26, 0xe0, 0 },          /* multicast source */
			{ 30, 0xff, 0 },          /* limited broadcast destination (with 31-33) */
			{ 34 + 12, 0x40, 6 },     /* TCP: a 16-byte header; UDP, GRE: payload, ack */
			{ 34 + 2, 0x89, 3 },      /* GRE: not PPP; TCP/UDP: a port */
			{ 34 + 0, 0xb0, 3 },      /* GRE: checksum bit */
			{ 34 + 1, 0x80, 3 },      /* GRE: version 0 */
		};
		for (k = 0; k < RTE_DIM(bad); k++) {
			struct rte_mbuf *m = build(&good[i]);
			uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
			bool fix_ck = bad[k].off != 24 && bad[k].off >= 14 && bad[k].off < 34;

			memcpy(p, &mac, sizeof(mac));
			p[bad[k].off] = bad[k].val;
			if (bad[k].off == 26)
				p[27] = p[28] = p[29] = (uint8_t)(bad[k].val ? 1 : 0);
			if (bad[k].off == 30)
				p[31] = p[32] = p[33] = 0xff;
			if (fix_ck) {
				ip->hdr_checksum = 0;
				ip->hdr_checksum = cksum_full(ip, 20);
			}
			assert_int_equal(fast_agrees(m, &mac), (bad[k].fast >> i) & 1);
			rte_pktmbuf_free(m);
		}
	}
	/* A checksum the port verified is trusted either way; one it found bad never passes. */
	{
		struct rte_mbuf *m = build(&good[1]);

		memcpy(rte_pktmbuf_mtod(m, uint8_t *), &mac, sizeof(mac));
		m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD;
		assert_false(fast_agrees(m, &mac));
		rte_pktmbuf_free(m);
	}
	/* Random frames with a plausible start: the fast parse never disagrees. */
	srand(11);
	for (i = 0; i < 200000; i++) {
		struct rte_mbuf *m = build(&good[i % 3]);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		unsigned n = 1 + (unsigned)rand() % 3;

		memcpy(p, &mac, sizeof(mac));
		while (n--)
			p[14 + (unsigned)rand() % (m->data_len - 14)] = (uint8_t)rand();
		if (rand() & 1) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = cksum_full(ip, (ip->version_ihl & 0xf) * 4u < 20 ? 20 :
						      RTE_MIN((ip->version_ihl & 0xf) * 4u, m->data_len - 14u));
		}
		took += fast_agrees(m, &mac);
		rte_pktmbuf_free(m);
	}
	assert_true(took > 20000);
}

static void
test_drop_names(void **state)
{
	unsigned i;

	(void)state;
	assert_string_equal(pkt_drop_name(PKT_DROP_NO_ROUTE), "no-route");
	assert_string_equal(pkt_drop_name(PKT_DROP_MAX), "?");
	for (i = 1; i < PKT_DROP_MAX; i++) {
		assert_true(strlen(pkt_drop_name(i)) > 0);
		assert_true(strlen(pkt_drop_help(i)) > 0);
	}
}

int
main(void)
{
	char prefix[64];
	char *argv[] = { "test_pkt", "--no-huge", "--no-shconf", "-m", "128", "--no-pci",
			 "--log-level=error", "--file-prefix", prefix, "-l", "0" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_udp_icmp),
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_chain_padding),
		cmocka_unit_test(test_ip_errors),
		cmocka_unit_test(test_frag_opts_arp),
		cmocka_unit_test(test_random_frames),
		cmocka_unit_test(test_fast_parse),
		cmocka_unit_test(test_drop_names),
	};

	snprintf(prefix, sizeof(prefix), "test_pkt_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	eal_rundir_remove_at_exit();
	pool = rte_pktmbuf_pool_create("pkt_test", 1023, 0, PKT_PRIV_SIZE, 2048, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mempool failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
