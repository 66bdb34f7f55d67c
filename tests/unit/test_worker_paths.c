/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker path against accidents and off-path senders (issue 14): the
 * real dataplane (dp_create on three net_ring ports, as tests/fuzz/fuzz_worker.c
 * drives it) fed whole RX bursts through dp_worker_burst, what it sends
 * read back from the rings, its drop counters and tables checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "cksum.h"
#include "dp.h"
#include "dp_iface.h"
#include "views.h"
#include "dp_config.h"
#include "dp_natlog.h"
#include "dp_harness.h"
#include "eal_rundir.h"
#include "frames.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define CLIENT   IP4(60, 60, 60, 2)
#define SERVER   IP4(172, 19, 50, 129)
#define PUBLIC   IP4(172, 19, 51, 234)
#define DIP_LOW  IP4(172, 19, 51, 100)
#define DMZHOST  IP4(10, 9, 9, 2)
#define ROUTER   IP4(172, 19, 50, 1)

static const char conf_text[] =
	"set interface \"trust\" zone \"Trust\"\n"
	"set interface \"untrust\" zone \"Untrust\"\n"
	"set interface \"dmz\" zone \"DMZ\"\n"
	"set interface trust ip 60.60.60.1/24\n"
	"set interface trust nat\n"
	"set interface untrust ip 172.19.51.234/23\n"
	"set interface untrust route\n"
	"set interface dmz ip 10.9.9.1/24\n"
	"set interface dmz route\n"
	/* 802.1Q subinterfaces of dmz's port (issue 21), in their own zone. */
	"set interface dmz.5 tag 5 zone \"Trust\"\n"
	"set interface dmz.5 ip 10.5.5.1/24\n"
	"set interface dmz.5 nat\n"
	"set interface dmz.6 tag 6 zone \"Trust\"\n"
	"set interface dmz.6 ip 10.6.6.1/24\n"
	"set interface dmz.6 nat\n"
	"set interface dmz.7 tag 7 zone \"Untrust\"\n"
	"set interface dmz.7 ip 10.7.7.1/24\n"
	"set interface trust port net_ring0\n"
	"set interface untrust port net_ring1\n"
	"set interface dmz port net_ring2\n"
	"set interface untrust dip 4 172.19.51.100 172.19.51.101\n"
	/* The DIP pool is routed to dpnat by the upstream router: what dpnat forwards to it loops. */
	"set route 0.0.0.0/0 interface untrust gateway 172.19.50.1\n"
	"set policy id 3 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"DNS\" permit nat src dip-id 4\n"
	"set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit\n"
	"set policy id 2 from \"DMZ\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit\n"
	"set arp 60.60.60.2 02:00:00:00:00:02 trust\n"
	"set arp 172.19.50.129 02:00:00:00:01:29 untrust\n"
	"set arp 172.19.50.1 02:00:00:00:01:01 untrust\n"
	"set arp 10.9.9.2 02:00:00:00:09:02 dmz\n"
	"set arp 10.5.5.2 02:00:00:00:05:02 dmz.5\n"
	"set arp 10.6.6.2 02:00:00:00:06:02 dmz.6\n"
	"set arp 10.7.7.2 02:00:00:00:07:02 dmz.7\n"
	"set session max 256\n"
	"set alg pptp xlate max 64\n"
	"set mbuf max 2048\n"
	"set log nat queue 64\n"
	"set nat mapping max 8\n";

enum { TRUST, UNTRUST, DMZ, SUB5, SUB6, SUB7, NIF };

static struct dp *dp;
static unsigned ifx[NIF];

struct frm {
	uint8_t b[256];
	uint16_t len;
};

static const struct rte_ether_addr *
mac_of(unsigned i)
{
	return &route_iface_get(dp->rt, ifx[i])->mac;
}

static void
udp_frm(struct frm *f, unsigned i, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt)
{
	uint8_t *u = frame_ip4(f->b, sizeof(f->b), mac_of(i), src, dst, IPPROTO_UDP, 8 + 8);

	u[0] = (uint8_t)(sp >> 8);
	u[1] = (uint8_t)sp;
	u[2] = (uint8_t)(dpt >> 8);
	u[3] = (uint8_t)dpt;
	u[5] = 16;
	f->len = 14 + 20 + 16;
}

static void
tcp_frm(struct frm *f, unsigned i, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt,
	uint32_t seq, uint32_t ack, uint8_t flags, const void *data, uint16_t dlen)
{
	f->len = frame_tcp(f->b, sizeof(f->b), mac_of(i), src, dst, sp, dpt, seq, ack, flags, data,
			   dlen);
}

/* GRE: PPTP (version 1, Call ID cid) or version 0 without a key, carrying IPv4. */
static void
gre_frm(struct frm *f, unsigned i, uint32_t src, uint32_t dst, bool pptp, uint16_t cid)
{
	uint8_t *g = frame_ip4(f->b, sizeof(f->b), mac_of(i), src, dst, IPPROTO_GRE, PPTP_GRE_FRAME);

	if (pptp) {
		frame_gre_pptp(g, cid);
	} else {
		g[2] = 0x08;
		g[3] = 0x00;
	}
	f->len = 14 + 20 + PPTP_GRE_FRAME;
}

/* An ICMP error of type/code from src about the packet in q (its IP header on), as a router sends it. */
static void
icmp_err_frm(struct frm *f, unsigned i, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	     const struct frm *q)
{
	uint16_t qlen = 20 + 8;
	uint8_t *ic = frame_ip4(f->b, sizeof(f->b), mac_of(i), src, dst, IPPROTO_ICMP,
				(uint16_t)(8 + qlen));

	ic[0] = type;
	ic[1] = code;
	if (type == 3 && code == 4)
		ic[7] = 0x40;   /* next-hop MTU 1088... any */
	memcpy(ic + 8, q->b + 14, qlen);
	*(uint16_t *)(ic + 2) = cksum_full(ic, 8u + qlen);
	f->len = (uint16_t)(14 + 20 + 8 + qlen);
}

/* Everything dpnat sent out of each interface since the last call. */
struct sent {
	struct rte_mbuf *m[NIF][64];
	unsigned n[NIF];
};

static void
sent_free(struct sent *s)
{
	unsigned i, j;

	for (i = 0; i < NIF; i++)
		for (j = 0; j < s->n[i]; j++)
			rte_pktmbuf_free(s->m[i][j]);
	memset(s, 0, sizeof(*s));
}

/* Push the n mbufs in through worker 0 as one RX burst on interface i; run the slow path; collect what left. */
static void
burst_mbufs(unsigned i, struct rte_mbuf **in, unsigned n, struct sent *out)
{
	struct rte_mbuf *pkts[64];
	unsigned k, j, c;

	dp_worker_burst(dp, &dp->workers[0], ifx[i], in, (uint16_t)n);
	do {
		c = rte_ring_sc_dequeue_burst(dp->punt, (void **)pkts, RTE_DIM(pkts), NULL);
		for (k = 0; k < c; k++)
			dp_slowpath(dp, pkts[k]);
		/* What the control lcore built leaves through worker 0's inject ring. */
		j = rte_ring_sc_dequeue_burst(dp->workers[0].inject, (void **)pkts, RTE_DIM(pkts), NULL);
		for (k = 0; k < j; k++) {
			unsigned to;

			for (to = 0; to < NIF && ifx[to] != pkts[k]->port; to++)
				;
			if (out != NULL && to < NIF && out->n[to] < RTE_DIM(out->m[to]))
				out->m[to][out->n[to]++] = pkts[k];
			else
				rte_pktmbuf_free(pkts[k]);
		}
	} while (c + j > 0);
	for (k = 0; k < NIF; k++) {
		uint16_t pid = dp->ports[ifx[k]].pi.port_id;

		while ((c = rte_eth_rx_burst(pid, 0, pkts, RTE_DIM(pkts))) > 0)
			for (j = 0; j < c; j++) {
				if (out != NULL && out->n[k] < RTE_DIM(out->m[k]))
					out->m[k][out->n[k]++] = pkts[j];
				else
					rte_pktmbuf_free(pkts[j]);
			}
	}
	rte_rcu_qsbr_quiescent(dp->qsbr, 0);
}

/* Push n frames through worker 0 as one RX burst on interface i, one mbuf each. */
static void
burst(unsigned i, const struct frm *f, unsigned n, struct sent *out)
{
	struct rte_mbuf *pkts[64];
	unsigned k;

	assert_true(n <= RTE_DIM(pkts));
	for (k = 0; k < n; k++) {
		pkts[k] = rte_pktmbuf_alloc(dp->pool);
		assert_non_null(pkts[k]);
		memcpy(rte_pktmbuf_append(pkts[k], f[k].len), f[k].b, f[k].len);
	}
	burst_mbufs(i, pkts, n, out);
}

static uint64_t
drops(unsigned reason)
{
	struct dp_stats st;

	dp_stats_sum(dp, &st);
	return st.drops[reason];
}

static uint64_t
sessions(void)
{
	struct flow_stats fs;

	flow_stats_get(dp->flows, &fs);
	return fs.alloc;
}

/* Delete every session and call, as `clear session` does, so each test starts empty. */
static int
reset(void **state)
{
	uint32_t id;

	(void)state;
	for (id = 1; id <= 256; id++) {
		struct flow_session *s = flow_by_id(dp->flows, id);

		if (s != NULL)
			flow_delete(dp->flows, s, false);
	}
	rte_rcu_qsbr_quiescent(dp->qsbr, 0);
	flow_reclaim(dp->flows);
	return 0;
}

/*
 * Finding 2: two datagrams of one new UDP flow in one burst. Both must leave
 * with the one session's translation, and exactly one port stays taken.
 */
static void
test_two_new_udp_in_one_burst(void **state)
{
	struct frm f[2];
	struct sent out = { 0 };
	struct nat_addr_info ni;
	int idx = nat_addr_find(dp->nat, PUBLIC);

	(void)state;
	udp_frm(&f[0], TRUST, CLIENT, SERVER, 40000, 4500);
	f[1] = f[0];
	burst(TRUST, f, 2, &out);
	assert_int_equal(out.n[UNTRUST], 2);
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 12), PUBLIC);
	assert_int_equal(be16_at(out.m[UNTRUST][0], 34), be16_at(out.m[UNTRUST][1], 34));
	assert_int_equal(sessions(), 1);
	nat_addr_info(dp->nat, (unsigned)idx, &ni);
	assert_int_equal(ni.used, 1);
	assert_int_equal(drops(PKT_DROP_SESSION_FULL), 0);
	sent_free(&out);
}

/*
 * Issue 15: a miss is looked up again only when its key may be one a
 * session made earlier in the burst carries. Sixteen new UDP flows, then
 * each again, in one burst: every second datagram finds its flow's session
 * by the second lookup (no insert refused as a duplicate), none is lost.
 */
static void
test_burst_misses_find_sessions_made_before(void **state)
{
	struct frm f[32];
	struct sent out = { 0 };
	struct flow_stats fs0, fs1;
	unsigned i;

	(void)state;
	flow_stats_get(dp->flows, &fs0);
	for (i = 0; i < 16; i++) {
		udp_frm(&f[i], TRUST, CLIENT, SERVER, (uint16_t)(41000 + i * 7), 4500);
		f[16 + i] = f[i];
	}
	burst(TRUST, f, 32, &out);
	flow_stats_get(dp->flows, &fs1);
	assert_int_equal(out.n[UNTRUST], 32);
	assert_int_equal(sessions(), 16);
	assert_int_equal(fs1.insert_failed, fs0.insert_failed);
	for (i = 0; i < 16; i++)
		assert_int_equal(be16_at(out.m[UNTRUST][i], 34), be16_at(out.m[UNTRUST][16 + i], 34));
	sent_free(&out);
}

/*
 * Finding 2, PPTP: two SYNs to TCP/1723 in one burst leave one session, and
 * no control state: that is taken at the handshake's ACK (finding 14).
 */
static void
test_two_pptp_syn_in_one_burst(void **state)
{
	struct frm f[2];
	struct sent out = { 0 };
	struct pptp_stats ps0, ps1;

	(void)state;
	pptp_stats_get(dp->pptp, &ps0);
	tcp_frm(&f[0], TRUST, CLIENT, SERVER, 4762, 1723, 1000, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	f[1] = f[0];
	burst(TRUST, f, 2, &out);
	assert_int_equal(out.n[UNTRUST], 2);
	assert_int_equal(sessions(), 1);
	pptp_stats_get(dp->pptp, &ps1);
	assert_int_equal(ps1.ctrl_used, ps0.ctrl_used);
	sent_free(&out);
}

/* A PPTP control connection and an outgoing call up to (not including) the reply; returns the translated Call ID. */
struct call {
	uint16_t pubport, xcid;
	uint32_t cs, ss;
};

static void
call_until_reply(struct call *c)
{
	struct frm f;
	struct sent out = { 0 };
	uint8_t msg[200];
	uint16_t n;

	c->cs = 1000;
	c->ss = 5000;
	tcp_frm(&f, TRUST, CLIENT, SERVER, 4762, 1723, c->cs++, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	burst(TRUST, &f, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	c->pubport = be16_at(out.m[UNTRUST][0], 34);
	sent_free(&out);
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 1723, c->pubport, c->ss++, c->cs,
		RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	burst(UNTRUST, &f, 1, NULL);
	n = frame_pptp_msg(msg, 1, 156, 0x0100, 0, 0);
	tcp_frm(&f, TRUST, CLIENT, SERVER, 4762, 1723, c->cs, c->ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	burst(TRUST, &f, 1, NULL);
	c->cs += n;
	n = frame_pptp_msg(msg, 2, 156, 0x0100, 0x0100, 1);
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 1723, c->pubport, c->ss, c->cs,
		RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	burst(UNTRUST, &f, 1, NULL);
	c->ss += n;
	n = frame_pptp_msg(msg, 7, 168, 32768, 1, 0);
	tcp_frm(&f, TRUST, CLIENT, SERVER, 4762, 1723, c->cs, c->ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	burst(TRUST, &f, 1, &out);
	c->cs += n;
	assert_int_equal(out.n[UNTRUST], 1);
	c->xcid = be16_at(out.m[UNTRUST][0], 14 + 20 + 20 + 12);
	sent_free(&out);
}

/* The server's Outgoing-Call-Reply for c (server Call ID 17382) into f. */
static void
ocrp_frm(struct frm *f, struct call *c)
{
	uint8_t msg[32];
	uint16_t n = frame_pptp_msg(msg, 8, 32, 17382, c->xcid, 1);

	tcp_frm(f, UNTRUST, SERVER, PUBLIC, 1723, c->pubport, c->ss, c->cs,
		RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	c->ss += n;
}

/*
 * Finding 5: the server's first GRE packet in the same RX burst as the
 * Outgoing-Call-Reply that opens its gate reaches the client, with the
 * client's Call ID.
 */
static void
test_gre_behind_its_ocrp(void **state)
{
	struct call c;
	struct frm f[3];
	struct sent out = { 0 };
	uint64_t nogate = drops(PKT_DROP_GRE_NO_GATE);

	(void)state;
	call_until_reply(&c);
	ocrp_frm(&f[0], &c);
	gre_frm(&f[1], UNTRUST, SERVER, PUBLIC, true, c.xcid);
	gre_frm(&f[2], UNTRUST, SERVER, PUBLIC, true, c.xcid);
	burst(UNTRUST, f, 3, &out);
	assert_int_equal(drops(PKT_DROP_GRE_NO_GATE), nogate);
	assert_int_equal(out.n[TRUST], 3);
	assert_int_equal(be16_at(out.m[TRUST][1], 14 + 20 + 6), 32768);
	assert_int_equal(be16_at(out.m[TRUST][2], 14 + 20 + 6), 32768);
	sent_free(&out);
}

/*
 * Finding 6: unsolicited packets to a DIP pool address (routed to dpnat)
 * are never forwarded: UDP and TCP are dropped and counted, a ping is
 * answered as one to an interface address is. The same for a connected
 * subnet's broadcast address.
 */
static void
test_dip_address_not_forwarded(void **state)
{
	struct frm f[3];
	struct sent out = { 0 };
	uint8_t *ic;
	uint64_t tome = drops(PKT_DROP_TO_ME_UNHANDLED);

	(void)state;
	udp_frm(&f[0], UNTRUST, SERVER, DIP_LOW, 53, 5000);
	tcp_frm(&f[1], UNTRUST, SERVER, DIP_LOW + 1, 80, 5000, 1, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	ic = frame_ip4(f[2].b, sizeof(f[2].b), mac_of(UNTRUST), SERVER, DIP_LOW, IPPROTO_ICMP, 16);
	ic[0] = 8;
	ic[5] = 9;
	*(uint16_t *)(ic + 2) = cksum_full(ic, 16);
	f[2].len = 14 + 20 + 16;
	burst(UNTRUST, f, 3, &out);
	assert_int_equal(out.n[TRUST] + out.n[DMZ], 0);
	assert_int_equal(out.n[UNTRUST], 1);    /* the echo reply alone */
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 12), DIP_LOW);
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 16), SERVER);
	assert_int_equal(*rte_pktmbuf_mtod_offset(out.m[UNTRUST][0], uint8_t *, 34), 0);
	assert_int_equal(drops(PKT_DROP_TO_ME_UNHANDLED), tome + 2);
	sent_free(&out);
	/* Untrust's subnet broadcast (172.19.50.0/23) is not sent back out either. */
	udp_frm(&f[0], UNTRUST, SERVER, IP4(172, 19, 51, 255), 53, 5000);
	burst(UNTRUST, f, 1, &out);
	assert_int_equal(out.n[TRUST] + out.n[UNTRUST] + out.n[DMZ], 0);
	assert_int_equal(drops(PKT_DROP_TO_ME_UNHANDLED), tome + 3);
}

/*
 * Finding 10: with the ALG on, GRE that is not PPTP is routed and passes
 * policies like any protocol, and PPTP GRE that needs no translation (within
 * one zone) is routed; only PPTP GRE across zones without a gate is refused.
 */
static void
test_gre_not_for_the_alg(void **state)
{
	struct frm f[3];
	struct sent out = { 0 };
	uint64_t nogate = drops(PKT_DROP_GRE_NO_GATE);

	(void)state;
	gre_frm(&f[0], DMZ, DMZHOST, SERVER, false, 0);
	gre_frm(&f[1], DMZ, DMZHOST, SERVER, false, 0);
	gre_frm(&f[2], DMZ, DMZHOST, SERVER, true, 77);
	burst(DMZ, f, 3, &out);
	assert_int_equal(out.n[UNTRUST], 2);
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 12), DMZHOST);
	assert_int_equal(drops(PKT_DROP_GRE_NO_GATE), nogate + 1);
	sent_free(&out);
	/* The reply comes back through the session. */
	gre_frm(&f[0], UNTRUST, SERVER, DMZHOST, false, 0);
	burst(UNTRUST, f, 1, &out);
	assert_int_equal(out.n[DMZ], 1);
	sent_free(&out);
	/* PPTP GRE from one Untrust host to another: routed without state. */
	gre_frm(&f[0], UNTRUST, SERVER, IP4(8, 8, 8, 8), true, 99);
	burst(UNTRUST, f, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	assert_int_equal(drops(PKT_DROP_GRE_NO_GATE), nogate + 1);
	sent_free(&out);
}

/* The ICMP error m carries valid IPv4, ICMP and quoted IPv4 checksums. */
static void
assert_icmp_err_sums(const struct rte_mbuf *m)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, 14);

	assert_int_equal(cksum_full(ip, 20), 0);
	assert_int_equal(cksum_full(ip + 20, m->pkt_len - 14 - 20), 0);
	assert_int_equal(cksum_full(ip + 28, 20), 0);
}

/*
 * Finding 8: ICMP errors quoting PPTP GRE (fragmentation needed from a
 * router outside, port unreachable from the client inside) are translated
 * like TCP/UDP ones, the quoted Call ID included; so are those quoting
 * another protocol's flow.
 */
static void
test_icmp_err_quoting_gre(void **state)
{
	struct call c;
	struct frm f, q;
	struct sent out = { 0 };
	const struct rte_mbuf *m;

	(void)state;
	call_until_reply(&c);
	ocrp_frm(&f, &c);
	burst(UNTRUST, &f, 1, NULL);
	/* Outside: a router's frag-needed about the client's GRE as dpnat sent it. */
	gre_frm(&q, UNTRUST, PUBLIC, SERVER, true, 17382);
	icmp_err_frm(&f, UNTRUST, ROUTER, PUBLIC, 3, 4, &q);
	burst(UNTRUST, &f, 1, &out);
	assert_int_equal(out.n[TRUST], 1);
	m = out.m[TRUST][0];
	assert_int_equal(be32_at(m, 14 + 12), ROUTER);
	assert_int_equal(be32_at(m, 14 + 16), CLIENT);
	assert_int_equal(be32_at(m, 14 + 28 + 12), CLIENT);        /* quoted source */
	assert_int_equal(be32_at(m, 14 + 28 + 16), SERVER);
	assert_int_equal(be16_at(m, 14 + 28 + 20 + 6), 17382);     /* quoted Call ID: the server's */
	assert_icmp_err_sums(m);
	sent_free(&out);
	/* Inside: the client's own unreachable about the server's GRE as dpnat sent it. */
	gre_frm(&q, TRUST, SERVER, CLIENT, true, 32768);
	icmp_err_frm(&f, TRUST, CLIENT, SERVER, 3, 3, &q);
	burst(TRUST, &f, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	m = out.m[UNTRUST][0];
	assert_int_equal(be32_at(m, 14 + 12), PUBLIC);
	assert_int_equal(be32_at(m, 14 + 16), SERVER);
	assert_int_equal(be32_at(m, 14 + 28 + 12), SERVER);
	assert_int_equal(be32_at(m, 14 + 28 + 16), PUBLIC);        /* quoted destination */
	assert_int_equal(be16_at(m, 14 + 28 + 20 + 6), c.xcid);    /* quoted Call ID: the translated one */
	assert_icmp_err_sums(m);
	sent_free(&out);
	/* Another protocol's flow (ESP, translated on its addresses alone): its error too. */
	frame_ip4(q.b, sizeof(q.b), mac_of(TRUST), CLIENT, SERVER, 50, 8 + 8);
	q.len = 14 + 20 + 16;
	burst(TRUST, &q, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	sent_free(&out);
	frame_ip4(q.b, sizeof(q.b), mac_of(UNTRUST), PUBLIC, SERVER, 50, 8 + 8);
	icmp_err_frm(&f, UNTRUST, ROUTER, PUBLIC, 3, 4, &q);
	burst(UNTRUST, &f, 1, &out);
	assert_int_equal(out.n[TRUST], 1);
	m = out.m[TRUST][0];
	assert_int_equal(be32_at(m, 14 + 16), CLIENT);
	assert_int_equal(be32_at(m, 14 + 28 + 12), CLIENT);
	assert_icmp_err_sums(m);
	sent_free(&out);
	/* A quote naming no call is still refused. */
	gre_frm(&q, UNTRUST, PUBLIC, SERVER, true, 4321);
	icmp_err_frm(&f, UNTRUST, ROUTER, PUBLIC, 3, 4, &q);
	burst(UNTRUST, &f, 1, &out);
	assert_int_equal(out.n[TRUST] + out.n[UNTRUST] + out.n[DMZ], 0);
}

/*
 * Finding 8's quote wing and a redial: the client clears its call and
 * dials again at once with the same Call ID, the server answers with a new
 * one. The torn-down call's gates may still be indexed; the new call's
 * gates must open all the same (its quote wing gives way if it clashes).
 */
static void
test_redial_same_client_call_id(void **state)
{
	struct call c;
	struct frm f;
	struct sent out = { 0 };
	uint8_t msg[200];
	uint16_t n, xcid2;

	(void)state;
	call_until_reply(&c);
	ocrp_frm(&f, &c);
	burst(UNTRUST, &f, 1, NULL);
	/* Call-Clear-Request from the client, Call-Disconnect-Notify from the server. */
	n = frame_pptp_msg(msg, 12, 16, 32768, 0, 0);
	tcp_frm(&f, TRUST, CLIENT, SERVER, 4762, 1723, c.cs, c.ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	burst(TRUST, &f, 1, NULL);
	c.cs += n;
	n = frame_pptp_msg(msg, 13, 148, 17382, 0x0100, 0);
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 1723, c.pubport, c.ss, c.cs,
		RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	burst(UNTRUST, &f, 1, NULL);
	c.ss += n;
	/* The same client Call ID again; the server picks 17383. */
	n = frame_pptp_msg(msg, 7, 168, 32768, 2, 0);
	tcp_frm(&f, TRUST, CLIENT, SERVER, 4762, 1723, c.cs, c.ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	burst(TRUST, &f, 1, &out);
	c.cs += n;
	assert_int_equal(out.n[UNTRUST], 1);
	xcid2 = be16_at(out.m[UNTRUST][0], 14 + 20 + 20 + 12);
	sent_free(&out);
	n = frame_pptp_msg(msg, 8, 32, 17383, xcid2, 1);
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 1723, c.pubport, c.ss, c.cs,
		RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	burst(UNTRUST, &f, 1, NULL);
	/* Both gates of the new call pass GRE. */
	gre_frm(&f, UNTRUST, SERVER, PUBLIC, true, xcid2);
	burst(UNTRUST, &f, 1, &out);
	assert_int_equal(out.n[TRUST], 1);
	assert_int_equal(be16_at(out.m[TRUST][0], 14 + 20 + 6), 32768);
	sent_free(&out);
	gre_frm(&f, TRUST, CLIENT, SERVER, true, 17383);
	burst(TRUST, &f, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	sent_free(&out);
}

/* ---- jumbo frames in chains of mbufs (issue 21) ---- */

#define JUMBO 9000
static uint8_t jb[JUMBO + 14], jout[JUMBO + 14];

/* The frame b of len bytes as an RX scatter would hand it: first bytes in one mbuf, the rest in 2 KiB ones. */
static struct rte_mbuf *
chain(const uint8_t *b, uint32_t len, uint16_t first)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	while (off < len) {
		uint16_t n = (uint16_t)RTE_MIN(len - off, off == 0 ? (uint32_t)first : 2048u);
		struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);

		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, n), b + off, n);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
		off += n;
	}
	return head;
}

/* The whole frame m into jout; its length. */
static uint32_t
gather(const struct rte_mbuf *m)
{
	const void *p = rte_pktmbuf_read(m, 0, m->pkt_len, jout);

	assert_non_null(p);
	if (p != jout)
		memcpy(jout, p, m->pkt_len);
	return m->pkt_len;
}

/* A UDP datagram of tot IP bytes (payload a counting pattern), DF as asked, checksums right. */
static uint32_t
jumbo_udp(unsigned i, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt, uint16_t tot, bool df)
{
	uint8_t *u = frame_ip4(jb, sizeof(jb), mac_of(i), src, dst, IPPROTO_UDP, (uint16_t)(tot - 20));
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(jb + 14);
	uint16_t k;

	for (k = 8; k < tot - 20; k++)
		u[k] = (uint8_t)(k * 7);
	u[0] = (uint8_t)(sp >> 8);
	u[1] = (uint8_t)sp;
	u[2] = (uint8_t)(dpt >> 8);
	u[3] = (uint8_t)dpt;
	u[4] = (uint8_t)((tot - 20) >> 8);
	u[5] = (uint8_t)(tot - 20);
	if (df) {
		ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = cksum_full(ip, 20);
	}
	*(uint16_t *)(u + 6) = cksum_l4_full(ip->src_addr, ip->dst_addr, IPPROTO_UDP, u, tot - 20u);
	return 14u + tot;
}

/* Interface i's MTU, as `set interface NAME mtu` leaves it. */
static void
iface_mtu(unsigned i, uint16_t mtu)
{
	struct route_iface ri = *route_iface_get(dp->rt, ifx[i]);

	ri.mtu = mtu;
	assert_int_equal(route_iface_set(dp->rt, ifx[i], &ri), 0);
	dp_mtu_refresh(dp);
}

/* The gathered frame in jout: IPv4 header and transport checksums verify. */
static void
assert_sums_ok(uint32_t len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(jout + 14);

	assert_int_equal(cksum_full(ip, 20), 0);
	if (ip->next_proto_id == IPPROTO_ICMP)
		assert_int_equal(cksum_full(jout + 34, len - 34), 0);
	else
		assert_int_equal(cksum_l4_full(ip->src_addr, ip->dst_addr, ip->next_proto_id,
					       jout + 34, len - 34), 0);
}

/*
 * Jumbo frames as chains of mbufs (RX scatter): translated both ways with
 * their checksums right and their payload whole, TCP too; headers cut by a
 * segment boundary, a chain for a port that sends only single mbufs, and a
 * PPTP control segment larger than one mbuf are counted drops; the echo to
 * dpnat and fragmentation needed (its quote across the chain) are answered.
 */
static void
test_jumbo_chains(void **state)
{
	struct sent out = { 0 };
	struct rte_mbuf *m;
	uint32_t len, k;
	uint16_t pub;
	uint64_t d0;
	struct call c;
	struct frm f;

	(void)state;
	iface_mtu(TRUST, JUMBO);
	iface_mtu(UNTRUST, JUMBO);
	dp->ports[ifx[TRUST]].pi.tx_multi_seg = true;   /* as a device reporting it */
	dp->ports[ifx[UNTRUST]].pi.tx_multi_seg = true;

	/* 9000 bytes of UDP out, in five mbufs: one chain leaves, translated, payload intact. */
	len = jumbo_udp(TRUST, CLIENT, SERVER, 40000, 4500, JUMBO, true);
	m = chain(jb, len, 2048);
	assert_true(m->nb_segs > 1);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	assert_true(out.m[UNTRUST][0]->nb_segs > 1);
	assert_int_equal(gather(out.m[UNTRUST][0]), len);
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 12), PUBLIC);
	pub = be16_at(out.m[UNTRUST][0], 34);
	assert_sums_ok(len);
	assert_memory_equal(jout + 42, jb + 42, len - 42);
	sent_free(&out);
	/* The reply, 9000 bytes the other way. */
	len = jumbo_udp(UNTRUST, SERVER, PUBLIC, 4500, pub, JUMBO, false);
	m = chain(jb, len, 2048);
	burst_mbufs(UNTRUST, &m, 1, &out);
	assert_int_equal(out.n[TRUST], 1);
	assert_int_equal(gather(out.m[TRUST][0]), len);
	assert_int_equal(be32_at(out.m[TRUST][0], 14 + 16), CLIENT);
	assert_int_equal(be16_at(out.m[TRUST][0], 36), 40000);
	assert_sums_ok(len);
	sent_free(&out);

	/* TCP: after the handshake, an 8000-byte segment (within the 8192 window) in a chain. */
	tcp_frm(&f, TRUST, CLIENT, SERVER, 5001, 80, 100, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	burst(TRUST, &f, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	pub = be16_at(out.m[UNTRUST][0], 34);
	sent_free(&out);
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 80, pub, 700, 101, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	burst(UNTRUST, &f, 1, NULL);
	for (k = 0; k < 8000; k++)
		jout[k] = (uint8_t)(k * 13);
	len = frame_tcp(jb, sizeof(jb), mac_of(TRUST), CLIENT, SERVER, 5001, 80, 101, 701,
			RTE_TCP_ACK_FLAG, jout, 8000);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	assert_int_equal(gather(out.m[UNTRUST][0]), len);
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 12), PUBLIC);
	assert_sums_ok(len);
	sent_free(&out);

	/* The UDP header cut by the first segment's end: counted, nothing sent. */
	d0 = drops(PKT_DROP_MULTI_SEG);
	len = jumbo_udp(TRUST, CLIENT, SERVER, 40001, 4500, 3000, false);
	m = chain(jb, len, 14 + 20 + 4);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST] + out.n[TRUST], 0);
	assert_int_equal(drops(PKT_DROP_MULTI_SEG), d0 + 1);

	/* A chain for a port that sends one mbuf a frame: counted, nothing sent. */
	dp->ports[ifx[UNTRUST]].pi.tx_multi_seg = false;
	d0 = drops(PKT_DROP_TX_MULTI_SEG);
	len = jumbo_udp(TRUST, CLIENT, SERVER, 40000, 4500, JUMBO, false);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 0);
	assert_int_equal(drops(PKT_DROP_TX_MULTI_SEG), d0 + 1);
	dp->ports[ifx[UNTRUST]].pi.tx_multi_seg = true;

	/* A 4000-byte echo to dpnat in a chain: answered, the reply's checksum right. */
	len = 14u + 4000;
	{
		uint8_t *ic = frame_ip4(jb, sizeof(jb), mac_of(TRUST), CLIENT, IP4(60, 60, 60, 1),
					IPPROTO_ICMP, 4000 - 20);

		ic[0] = RTE_IP_ICMP_ECHO_REQUEST;
		ic[5] = 7;
		for (k = 8; k < 4000 - 20; k++)
			ic[k] = (uint8_t)k;
		*(uint16_t *)(ic + 2) = cksum_full(ic, 4000 - 20);
	}
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[TRUST], 1);
	assert_int_equal(gather(out.m[TRUST][0]), len);
	assert_int_equal(jout[34], RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(be32_at(out.m[TRUST][0], 14 + 16), CLIENT);
	assert_sums_ok(len);
	sent_free(&out);

	/* Over a 1500 egress with DF: fragmentation needed, its quote read across the chain. */
	iface_mtu(UNTRUST, 1500);
	len = jumbo_udp(TRUST, CLIENT, SERVER, 40002, 4500, JUMBO, true);
	m = chain(jb, len, 100);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 0);
	assert_int_equal(out.n[TRUST], 1);
	len = gather(out.m[TRUST][0]);
	assert_int_equal(len, 14 + 20 + 8 + 548);
	assert_int_equal(jout[34], 3);
	assert_int_equal(jout[35], 4);
	assert_int_equal(be16_at(out.m[TRUST][0], 34 + 6), 1500);
	assert_memory_equal(jout + 42, jb + 14, 548);   /* what the sender sent, across the segments */
	assert_sums_ok(len);
	sent_free(&out);
	iface_mtu(UNTRUST, JUMBO);

	/* A PPTP control segment larger than one mbuf: the ALG reads segments whole, so it is refused. */
	call_until_reply(&c);
	d0 = drops(PKT_DROP_MULTI_SEG);
	memset(jout, 0, 3000);
	len = frame_tcp(jb, sizeof(jb), mac_of(TRUST), CLIENT, SERVER, 4762, 1723, c.cs, c.ss,
			RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, jout, 3000);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 0);
	assert_int_equal(drops(PKT_DROP_MULTI_SEG), d0 + 1);

	iface_mtu(TRUST, 1500);
	iface_mtu(UNTRUST, 1500);
	dp->ports[ifx[TRUST]].pi.tx_multi_seg = false;
	dp->ports[ifx[UNTRUST]].pi.tx_multi_seg = false;
}

/* An IPv4 fragment in jb from i: UDP datagram id, data at byte offset off (8-byte units), len data bytes. */
static uint32_t
frag_frm(unsigned i, uint32_t src, uint32_t dst, uint16_t id, uint16_t off, uint16_t len, bool mf)
{
	uint8_t *d = frame_ip4(jb, sizeof(jb), mac_of(i), src, dst, IPPROTO_UDP, len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(jb + 14);

	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)(off / 8) | (mf ? RTE_IPV4_HDR_MF_FLAG : 0));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_full(ip, 20);
	if (off == 0) {   /* the UDP header: ports, the whole datagram's length, no checksum */
		d[0] = 40000 >> 8;
		d[1] = 40000 & 0xff;
		d[2] = 4500 >> 8;
		d[3] = 4500 & 0xff;
		d[4] = 0x10;
	}
	return 14u + 20 + len;
}

/*
 * Issue 21: later fragments and ICMP errors take their translation without
 * the check before rewrite; over the egress MTU they are dropped as they
 * are routed (mtu-exceeded), at or under it they pass.
 */
static void
test_mtu_later_fragments_and_icmp_errors(void **state)
{
	struct sent out = { 0 };
	struct rte_mbuf *m;
	uint64_t d0 = drops(PKT_DROP_MTU_EXCEEDED);
	uint32_t len;
	uint16_t pub;
	uint8_t *ic;

	(void)state;
	iface_mtu(UNTRUST, 1280);
	iface_mtu(TRUST, 1280);
	/* A small first fragment makes the session; a 1400-byte later one is too big for Untrust. */
	len = frag_frm(TRUST, CLIENT, SERVER, 77, 0, 32, true);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	pub = be16_at(out.m[UNTRUST][0], 34);
	sent_free(&out);
	len = frag_frm(TRUST, CLIENT, SERVER, 77, 32, 1400, true);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 0);
	assert_int_equal(drops(PKT_DROP_MTU_EXCEEDED), d0 + 1);
	/* One at the MTU passes, translated. */
	len = frag_frm(TRUST, CLIENT, SERVER, 77, 32 + 1400, 1280 - 20, false);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 12), PUBLIC);
	sent_free(&out);

	/* A 1400-byte ICMP error from outside about the flow: too big for Trust. */
	{
		uint8_t q[14 + 28];

		frame_ip4(q, sizeof(q), mac_of(UNTRUST), PUBLIC, SERVER, IPPROTO_UDP, 8);
		ic = frame_ip4(jb, sizeof(jb), mac_of(UNTRUST), ROUTER, PUBLIC, IPPROTO_ICMP, 1400 - 20);
		memcpy(ic + 8, q + 14, 20);
	}
	ic[0] = 3;
	ic[1] = 3;
	ic[28] = (uint8_t)(pub >> 8);
	ic[29] = (uint8_t)pub;
	ic[30] = 4500 >> 8;
	ic[31] = 4500 & 0xff;
	ic[33] = 8;
	*(uint16_t *)(ic + 2) = cksum_full(ic, 1400 - 20);
	m = chain(jb, 14 + 1400, 2048);
	burst_mbufs(UNTRUST, &m, 1, &out);
	assert_int_equal(out.n[TRUST], 0);
	assert_int_equal(drops(PKT_DROP_MTU_EXCEEDED), d0 + 2);
	/* The same error at 1280 passes, translated to the client. */
	jb[14 + 2] = 1280 >> 8;
	jb[14 + 3] = 1280 & 0xff;
	jb[14 + 10] = jb[14 + 11] = 0;
	*(uint16_t *)(jb + 14 + 10) = cksum_full(jb + 14, 20);
	*(uint16_t *)(ic + 2) = 0;
	*(uint16_t *)(ic + 2) = cksum_full(ic, 1280 - 20);
	m = chain(jb, 14 + 1280, 2048);
	burst_mbufs(UNTRUST, &m, 1, &out);
	assert_int_equal(out.n[TRUST], 1);
	assert_int_equal(be32_at(out.m[TRUST][0], 14 + 16), CLIENT);
	sent_free(&out);
	iface_mtu(UNTRUST, 1500);
	iface_mtu(TRUST, 1500);
}

/*
 * Issue 21: a port whose device carries less than its interface's MTU
 * (max_mtu from its largest frame): packets are held to the device's
 * limit, fragmentation needed names it.
 */
static void
test_port_max_mtu(void **state)
{
	struct sent out = { 0 };
	struct rte_mbuf *m;
	uint16_t keep = dp->ports[ifx[UNTRUST]].pi.max_mtu;
	uint32_t len;

	(void)state;
	dp->ports[ifx[UNTRUST]].pi.max_mtu = 1400;
	dp_mtu_refresh(dp);
	assert_int_equal(dp_iface_mtu(dp, ifx[UNTRUST]), 1400);
	len = jumbo_udp(TRUST, CLIENT, SERVER, 40003, 4500, 1450, true);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 0);
	assert_int_equal(out.n[TRUST], 1);
	assert_int_equal(be16_at(out.m[TRUST][0], 34 + 6), 1400);
	sent_free(&out);
	len = jumbo_udp(TRUST, CLIENT, SERVER, 40003, 4500, 1400, true);
	m = chain(jb, len, 2048);
	burst_mbufs(TRUST, &m, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	sent_free(&out);
	dp->ports[ifx[UNTRUST]].pi.max_mtu = keep;
	dp_mtu_refresh(dp);
}

/* Apply nc (then freed) through the run-time configuration path (a `set`): its result. */
static int
conf_apply_free(struct conf *nc)
{
	struct cli_strbuf sb;
	struct cli_out out;
	char msg[256];
	int rc;

	cli_out_strbuf(&out, &sb, msg, sizeof(msg));
	/* The harness's one thread is worker 0: offline, the grace period does not wait for it. */
	rte_rcu_qsbr_thread_offline(dp->qsbr, 0);
	rc = dp_config_apply(dp, nc, &out);
	rte_rcu_qsbr_thread_online(dp->qsbr, 0);
	free(nc);
	return rc;
}

/* Apply the NAT event log settings through the run-time configuration path (a `set`): its result. */
static int
log_nat_apply(bool on, uint32_t queue)
{
	struct conf *nc = malloc(sizeof(*nc));

	assert_non_null(nc);
	*nc = dp->conf;
	nc->log_nat = on;
	nc->log_nat_queue = queue;
	return conf_apply_free(nc);
}

/* Turn the NAT event log on or off. */
static void
log_nat_set(bool on)
{
	assert_int_equal(log_nat_apply(on, dp->conf.log_nat_queue), 0);
}

/* New UDP flows from CLIENT, source ports sp0.., in bursts of DP_BURST. */
static void
new_udp_flows(uint16_t sp0, unsigned n)
{
	struct frm f[DP_BURST];
	unsigned k, i;

	for (k = 0; k < n; k += i) {
		for (i = 0; i < RTE_DIM(f) && k + i < n; i++)
			udp_frm(&f[i], TRUST, CLIENT, SERVER, (uint16_t)(sp0 + k + i), 53000);
		burst(TRUST, f, i, NULL);
	}
}

/*
 * Issue 18: with `set log nat enable` every session made and deleted is a
 * record with its pre- and post-NAT tuple; a full queue (set log nat queue
 * 64) loses records and counts them, created = sent + lost + queued; with
 * logging off nothing is made.
 */
static void
test_natlog_records_and_loss(void **state)
{
	struct dp_natlog_stats st;
	struct dp_natlog_rec r;

	(void)state;
	new_udp_flows(41000, 8);
	dp_natlog_stats_get(dp, &st);
	assert_int_equal(st.created, 0);
	assert_int_equal(st.queued, 0);
	reset(NULL);

	log_nat_set(true);
	new_udp_flows(42000, 1);
	/* The record as the worker queued it (put back for the counts below). */
	assert_int_equal(rte_ring_sc_dequeue_elem(dp->natlog[0].ring, &r, sizeof(r)), 0);
	assert_int_equal(r.type, DP_NATLOG_SESS_NEW);
	assert_int_equal(r.proto, IPPROTO_UDP);
	assert_int_equal(r.policy_id, 1);
	assert_int_equal(rte_be_to_cpu_32(r.src), CLIENT);
	assert_int_equal(rte_be_to_cpu_32(r.dst), SERVER);
	assert_int_equal(rte_be_to_cpu_16(r.sport), 42000);
	assert_int_equal(rte_be_to_cpu_16(r.dport), 53000);
	assert_int_equal(rte_be_to_cpu_32(r.xsrc), PUBLIC);
	assert_int_equal(rte_be_to_cpu_32(r.xdst), SERVER);
	assert_int_equal(rte_be_to_cpu_16(r.xsport), r.nat_port);
	assert_true(r.nat_port != 0);
	assert_true(r.session_id != 0);
	assert_int_equal(rte_ring_sp_enqueue_elem(dp->natlog[0].ring, &r, sizeof(r)), 0);

	/* 99 more: the worker's queue holds 64, the other 36 are lost and counted. */
	new_udp_flows(42001, 99);
	assert_int_equal(sessions(), 100);
	dp_natlog_stats_get(dp, &st);
	assert_int_equal(st.created, 100);
	assert_int_equal(st.queued, 64);
	assert_int_equal(st.lost, 36);
	assert_int_equal(st.sent, 0);
	assert_int_equal(dp_natlog_drain(dp), 64);
	dp_natlog_stats_get(dp, &st);
	assert_int_equal(st.sent, 64);
	assert_int_equal(st.queued, 0);

	/* Deleted on the control lcore: its own queue; one record each, the delete's. */
	reset(NULL);
	dp_natlog_stats_get(dp, &st);
	assert_int_equal(st.created, 200);
	assert_int_equal(st.queued, 64);
	assert_int_equal(st.lost, 72);
	assert_int_equal(rte_ring_sc_dequeue_elem(dp->natlog[dp->n_workers].ring, &r, sizeof(r)), 0);
	assert_int_equal(r.type, DP_NATLOG_SESS_DEL);
	assert_int_equal(rte_be_to_cpu_32(r.src), CLIENT);
	assert_int_equal(rte_be_to_cpu_32(r.xsrc), PUBLIC);
	assert_int_equal(rte_ring_sp_enqueue_elem(dp->natlog[dp->n_workers].ring, &r, sizeof(r)), 0);
	dp_sessions_tick(dp);
	dp_natlog_stats_get(dp, &st);
	assert_int_equal(st.sent + st.lost, st.created);
	assert_int_equal(st.sent, 128);

	/* The queues are sized at start: a run-time change is refused whole. */
	assert_int_equal(log_nat_apply(false, 128), -1);
	assert_true(dp->conf.log_nat && dp->conf.log_nat_queue == 64);

	/* Off again: sessions made and deleted make nothing. */
	log_nat_set(false);
	new_udp_flows(43000, 8);
	reset(NULL);
	dp_natlog_stats_get(dp, &st);
	assert_int_equal(st.created, 200);
}

/* Frame f as it arrives on dmz's port for one of its subinterfaces: with tag in the frame. */
static void
tag_frm(struct frm *f, uint16_t tag)
{
	memmove(f->b + 16, f->b + 12, f->len - 12u);
	f->b[12] = 0x81;
	f->b[13] = 0x00;
	f->b[14] = (uint8_t)(tag >> 8);
	f->b[15] = (uint8_t)tag;
	f->len += 4;
}

/*
 * Issue 21: the tagged frames of a port's burst go to their subinterfaces,
 * after its untagged frames, each subinterface's in their order. One burst
 * on dmz's port: untagged DMZ traffic, dmz.5's new flow twice (a session
 * made earlier in the burst), dmz.6's, an ICMP echo to dmz.5 (the full
 * parse), an unknown and a stacked tag (counted drops). Then a burst of
 * dmz.5's frames alone (passed on without regrouping): the established
 * flow's fast path; its reply leaves dmz's port with tag 5 written.
 */
static void
test_tagged_frames_in_a_burst(void **state)
{
	struct frm f[8], r;
	struct sent out = { 0 };
	struct dp_stats st0, st1;
	uint64_t unk = drops(PKT_DROP_VLAN_UNKNOWN), hits;
	uint16_t pub;
	uint8_t *ic;
	unsigned i;

	(void)state;
	dp_stats_sum(dp, &st0);
	udp_frm(&f[0], DMZ, DMZHOST, SERVER, 5000, 53);
	udp_frm(&f[1], SUB5, IP4(10, 5, 5, 2), SERVER, 40005, 4500);
	tag_frm(&f[1], 5);
	udp_frm(&f[2], SUB6, IP4(10, 6, 6, 2), SERVER, 40006, 4500);
	tag_frm(&f[2], 6);
	f[3] = f[1];
	ic = frame_ip4(f[4].b, sizeof(f[4].b), mac_of(SUB5), IP4(10, 5, 5, 2), SERVER, IPPROTO_ICMP, 8);
	ic[0] = 8;
	ic[5] = 7;   /* echo id */
	*(uint16_t *)(ic + 2) = cksum_full(ic, 8);
	f[4].len = 14 + 20 + 8;
	tag_frm(&f[4], 5);
	f[5] = f[1];
	f[5].b[15] = 8;   /* no subinterface */
	f[6] = f[1];
	tag_frm(&f[6], 5);   /* stacked */
	udp_frm(&f[7], DMZ, DMZHOST, SERVER, 5001, 53);
	burst(DMZ, f, 8, &out);
	assert_int_equal(out.n[UNTRUST], 6);
	/* The untagged ones first, in order, then dmz.5's, then dmz.6's, translated to Untrust's address. */
	assert_int_equal(be16_at(out.m[UNTRUST][0], 34), 5000);
	assert_int_equal(be16_at(out.m[UNTRUST][1], 34), 5001);
	for (i = 2; i < 6; i++)
		assert_int_equal(be32_at(out.m[UNTRUST][i], 14 + 12), PUBLIC);
	pub = be16_at(out.m[UNTRUST][2], 34);
	assert_int_equal(be16_at(out.m[UNTRUST][3], 34), pub);
	assert_int_equal(out.m[UNTRUST][4]->pkt_len, 14 + 20 + 8);
	assert_int_not_equal(be16_at(out.m[UNTRUST][5], 34), pub);
	assert_int_equal(drops(PKT_DROP_VLAN_UNKNOWN), unk + 2);
	dp_stats_sum(dp, &st1);
	assert_int_equal(st1.rx_pkts[ifx[DMZ]] - st0.rx_pkts[ifx[DMZ]], 8);
	assert_int_equal(st1.rx_pkts[ifx[SUB5]] - st0.rx_pkts[ifx[SUB5]], 4);   /* the stacked one too */
	assert_int_equal(st1.rx_pkts[ifx[SUB6]] - st0.rx_pkts[ifx[SUB6]], 1);
	sent_free(&out);

	/* Established: the fast path of the subinterface's frames. */
	hits = dp->workers[0].st.hits;
	f[0] = f[1];
	burst(DMZ, f, 2, &out);
	assert_int_equal(out.n[UNTRUST], 2);
	assert_int_equal(be16_at(out.m[UNTRUST][0], 34), pub);
	assert_int_equal(be16_at(out.m[UNTRUST][1], 34), pub);
	assert_int_equal(dp->workers[0].st.hits, hits + 2);
	sent_free(&out);

	/* The reply leaves dmz's port with the tag, to the host behind dmz.5. */
	udp_frm(&r, UNTRUST, SERVER, PUBLIC, 4500, pub);
	burst(UNTRUST, &r, 1, &out);
	assert_int_equal(out.n[DMZ], 1);
	assert_int_equal(be16_at(out.m[DMZ][0], 12), RTE_ETHER_TYPE_VLAN);
	assert_int_equal(be16_at(out.m[DMZ][0], 14), 5);
	assert_int_equal(be32_at(out.m[DMZ][0], 18 + 16), IP4(10, 5, 5, 2));
	assert_int_equal(be16_at(out.m[DMZ][0], 18 + 22), 40005);
	sent_free(&out);
}

/*
 * Issue 21: a tagged frame forwarded by the fast path keeps its tag in the
 * frame: the egress subinterface's id is written over the ingress one
 * (dmz.5 in Trust -> dmz.7 in Untrust, both on dmz's port: no move, no
 * second tag at the flush). The fast path's frame must equal, byte for
 * byte, the one the long way sent for the same flow just before.
 */
static void
test_tagged_fast_path_keeps_the_tag(void **state)
{
	struct frm f[2], r;
	struct sent out = { 0 };
	const struct rte_ether_addr h7 = { { 0x02, 0, 0, 0, 0x07, 0x02 } };
	uint8_t first[64];
	uint64_t hits;
	uint16_t pub;
	unsigned len;

	(void)state;
	udp_frm(&f[0], SUB5, IP4(10, 5, 5, 2), IP4(10, 7, 7, 2), 40100, 4600);
	tag_frm(&f[0], 5);
	f[0].b[14] |= 0xa0;   /* priority 5: the rewrite keeps none of it, as the long way */
	f[1] = f[0];
	/* The first one makes the session, the long way: untagged there, tagged at the flush. */
	burst(DMZ, &f[0], 1, &out);
	assert_int_equal(out.n[DMZ], 1);
	len = out.m[DMZ][0]->pkt_len;
	assert_int_equal(len, f[0].len);
	assert_true(len <= sizeof(first));
	memcpy(first, rte_pktmbuf_mtod(out.m[DMZ][0], uint8_t *), len);
	assert_int_equal(be16_at(out.m[DMZ][0], 12), RTE_ETHER_TYPE_VLAN);
	assert_int_equal(be16_at(out.m[DMZ][0], 14), 7);
	assert_int_equal(be32_at(out.m[DMZ][0], 18 + 12), IP4(10, 7, 7, 1));
	pub = be16_at(out.m[DMZ][0], 18 + 20);
	sent_free(&out);

	/* The second, the fast path: the same bytes, tag 7 written in place. */
	hits = dp->workers[0].st.hits;
	burst(DMZ, &f[1], 1, &out);
	assert_int_equal(dp->workers[0].st.hits, hits + 1);
	assert_int_equal(out.n[DMZ], 1);
	assert_int_equal(out.m[DMZ][0]->pkt_len, len);
	assert_memory_equal(rte_pktmbuf_mtod(out.m[DMZ][0], uint8_t *), first, len);
	assert_memory_equal(rte_pktmbuf_mtod(out.m[DMZ][0], uint8_t *), &h7, 6);
	assert_memory_equal(rte_pktmbuf_mtod_offset(out.m[DMZ][0], uint8_t *, 6), mac_of(SUB7), 6);
	sent_free(&out);

	/* The reply on dmz.7, by the fast path, leaves with tag 5 to the host behind dmz.5. */
	udp_frm(&r, SUB7, IP4(10, 7, 7, 2), IP4(10, 7, 7, 1), 4600, pub);
	tag_frm(&r, 7);
	hits = dp->workers[0].st.hits;
	burst(DMZ, &r, 1, &out);
	assert_int_equal(dp->workers[0].st.hits, hits + 1);
	assert_int_equal(out.n[DMZ], 1);
	assert_int_equal(out.m[DMZ][0]->pkt_len, r.len);
	assert_int_equal(be16_at(out.m[DMZ][0], 12), RTE_ETHER_TYPE_VLAN);
	assert_int_equal(be16_at(out.m[DMZ][0], 14), 5);
	assert_int_equal(be16_at(out.m[DMZ][0], 16), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(be32_at(out.m[DMZ][0], 18 + 16), IP4(10, 5, 5, 2));
	assert_int_equal(be16_at(out.m[DMZ][0], 18 + 22), 40100);
	assert_int_equal(cksum_full(rte_pktmbuf_mtod_offset(out.m[DMZ][0], uint8_t *, 18), 20), 0);
	sent_free(&out);
}

/*
 * Issue 21: a burst that starts with a tagged frame (a trunk's, sorted by
 * tag before any parse) still sends the port's untagged frames first, then
 * each subinterface's, and takes a tag the device stripped into the mbuf
 * as well as one in the frame; an unknown tag is a counted drop; every
 * frame counts as received on the port.
 */
static void
test_trunk_burst_sorted_by_tag(void **state)
{
	struct frm f[4];
	struct rte_mbuf *m[4];
	struct sent out = { 0 };
	struct dp_stats st0, st1;
	uint64_t unk = drops(PKT_DROP_VLAN_UNKNOWN);
	unsigned k;

	(void)state;
	dp_stats_sum(dp, &st0);
	udp_frm(&f[0], SUB5, IP4(10, 5, 5, 2), SERVER, 40201, 4500);
	tag_frm(&f[0], 5);
	udp_frm(&f[1], DMZ, DMZHOST, SERVER, 5201, 53);
	udp_frm(&f[2], SUB6, IP4(10, 6, 6, 2), SERVER, 40202, 4500);   /* stripped below */
	udp_frm(&f[3], SUB5, IP4(10, 5, 5, 2), SERVER, 40203, 4500);
	tag_frm(&f[3], 9);   /* no subinterface */
	for (k = 0; k < 4; k++) {
		m[k] = rte_pktmbuf_alloc(dp->pool);
		assert_non_null(m[k]);
		memcpy(rte_pktmbuf_append(m[k], f[k].len), f[k].b, f[k].len);
	}
	m[2]->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m[2]->vlan_tci = 6;
	burst_mbufs(DMZ, m, 4, &out);
	assert_int_equal(out.n[UNTRUST], 3);
	assert_int_equal(be16_at(out.m[UNTRUST][0], 34), 5201);   /* the untagged one first */
	assert_int_equal(be32_at(out.m[UNTRUST][1], 14 + 12), PUBLIC);
	assert_int_equal(be32_at(out.m[UNTRUST][2], 14 + 12), PUBLIC);
	assert_int_equal(be16_at(out.m[UNTRUST][1], 12), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(drops(PKT_DROP_VLAN_UNKNOWN), unk + 1);
	dp_stats_sum(dp, &st1);
	assert_int_equal(st1.rx_pkts[ifx[DMZ]] - st0.rx_pkts[ifx[DMZ]], 4);
	assert_int_equal(st1.rx_pkts[ifx[SUB5]] - st0.rx_pkts[ifx[SUB5]], 1);
	assert_int_equal(st1.rx_pkts[ifx[SUB6]] - st0.rx_pkts[ifx[SUB6]], 1);
	assert_int_equal(st1.rx_bytes[ifx[DMZ]] - st0.rx_bytes[ifx[DMZ]],
			 f[0].len + f[1].len + f[2].len + f[3].len);
	sent_free(&out);
}

/* The dataplane again from conf_text with extra lines after it (a start-up setting). */
static void
dp_again(const char *extra)
{
	static char text[sizeof(conf_text) + 1024];

	uint16_t pid;

	snprintf(text, sizeof(text), "%s%s", conf_text, extra);
	dp_harness_down(dp);
	/* dp_destroy closed the ring ports: back, as the EAL's --vdev made them. */
	if (rte_eth_dev_get_port_by_name("net_ring0", &pid) != 0) {
		static const char *const rings[] = { "net_ring0", "net_ring1", "net_ring2" };

		for (pid = 0; pid < RTE_DIM(rings); pid++) {
			rte_eal_hotplug_remove("vdev", rings[pid]);
			assert_int_equal(rte_eal_hotplug_add("vdev", rings[pid], ""), 0);
		}
	}
	dp = dp_harness_up("test-cgn", text, 1);
	assert_non_null(dp);
	ifx[TRUST] = (unsigned)route_iface_by_name(dp->rt, "trust");
	ifx[UNTRUST] = (unsigned)route_iface_by_name(dp->rt, "untrust");
	ifx[DMZ] = (unsigned)route_iface_by_name(dp->rt, "dmz");
	ifx[SUB5] = (unsigned)route_iface_by_name(dp->rt, "dmz.5");
	ifx[SUB6] = (unsigned)route_iface_by_name(dp->rt, "dmz.6");
}

/* A CLI command's answer into buf. */
static void
cli(const char *line, char *buf, size_t size)
{
	struct cli_strbuf sb;
	struct cli_out out;

	cli_out_strbuf(&out, &sb, buf, size);
	dp_cli_exec(dp, line, &out);
}

/* Records of type on queue q, all taken off it; the first max of them into recs. */
static unsigned
natlog_take(unsigned q, unsigned type, struct dp_natlog_rec *recs, unsigned max)
{
	struct dp_natlog_rec r;
	unsigned n = 0;

	while (rte_ring_sc_dequeue_elem(dp->natlog[q].ring, &r, sizeof(r)) == 0)
		if (r.type == type && n++ < max)
			recs[n - 1] = r;
	return n;
}

/*
 * Issue 18, through the worker path: with `set nat port-block size 64
 * max-blocks 2` a subscriber's 128 new flows leave with ports of its two
 * blocks on one public address, two block records instead of 128; the
 * 129th is a counted drop and a quota record; deleting its sessions gives
 * the blocks back (two release records, no session records). A deterministic pool's flow
 * leaves from its computed address and range, which the CLI computes both
 * ways. `get nat port-block` shows the subscriber.
 */
static void
test_port_blocks_and_deterministic(void **state)
{
	struct dp_natlog_rec r, blk[2];
	struct frm f[DP_BURST];
	struct sent out;
	static char buf[8192];
	uint16_t ports[129];
	unsigned k, i, n = 0;
	uint64_t maxed;

	(void)state;
	dp_again("set nat port-block size 64\n"
		 "set nat port-block max-blocks 2\n"
		 "set log nat queue 1024\n"
		 "set log nat enable\n"
		 "set interface untrust dip 5 172.19.51.110 172.19.51.111 deterministic inside 10.5.5.0/24\n"
		 "set policy id 5 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"HTTPS\" permit nat src dip-id 5\n"
		 "unset policy id 1\n"
		 "set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit\n");
	maxed = drops(PKT_DROP_NAT_PBA_MAX);
	for (k = 0; k < 128; k += i) {
		memset(&out, 0, sizeof(out));
		for (i = 0; i < RTE_DIM(f) && k + i < 128; i++)
			udp_frm(&f[i], TRUST, CLIENT, SERVER, (uint16_t)(44000 + k + i), 53000);
		burst(TRUST, f, i, &out);
		for (unsigned j = 0; j < out.n[UNTRUST] && n < RTE_DIM(ports); j++) {
			assert_int_equal(be32_at(out.m[UNTRUST][j], 14 + 12), PUBLIC);
			ports[n++] = be16_at(out.m[UNTRUST][j], 14 + 20);
		}
		sent_free(&out);
	}
	assert_int_equal(n, 128);
	assert_int_equal(sessions(), 128);
	/* Two blocks of 64: two records for 128 sessions, which make none of their own. */
	assert_int_equal(rte_ring_count(dp->natlog[0].ring), 2);
	assert_int_equal(natlog_take(0, DP_NATLOG_PBA_ALLOC, blk, 2), 2);
	for (k = 0; k < 2; k++) {
		assert_int_equal(rte_be_to_cpu_32(blk[k].src), CLIENT);
		assert_int_equal(rte_be_to_cpu_32(blk[k].xsrc), PUBLIC);
		assert_int_equal(rte_be_to_cpu_16(blk[k].xdport) - rte_be_to_cpu_16(blk[k].xsport), 63);
	}
	/* Every port of the two blocks, each once: 128 flows, 128 ports. */
	for (k = 0; k < 128; k++) {
		uint16_t p = ports[k];

		assert_true((p >= rte_be_to_cpu_16(blk[0].xsport) && p <= rte_be_to_cpu_16(blk[0].xdport)) ||
			    (p >= rte_be_to_cpu_16(blk[1].xsport) && p <= rte_be_to_cpu_16(blk[1].xdport)));
		for (i = 0; i < k; i++)
			assert_int_not_equal(ports[i], p);
	}
	/* The 129th: no block left for it. */
	udp_frm(&f[0], TRUST, CLIENT, SERVER, 45000, 53000);
	burst(TRUST, f, 1, NULL);
	assert_int_equal(drops(PKT_DROP_NAT_PBA_MAX), maxed + 1);
	assert_int_equal(natlog_take(0, DP_NATLOG_QUOTA, &r, 1), 1);
	assert_int_equal(r.quota, DP_NATLOG_Q_BLOCKS);
	assert_int_equal(r.limit, 2);
	cli("get nat port-block", buf, sizeof(buf));
	assert_non_null(strstr(buf, "60.60.60.2      172.19.51.234        2        128"));
	assert_non_null(strstr(buf, "blocks allocated 2, released 0"));
	assert_non_null(strstr(buf, "refused: at max-blocks 1"));

	/* Deterministic: 10.5.5.2 is inside address 2 of 256 on 2 addresses: 128 per address, 504 ports each. */
	memset(&out, 0, sizeof(out));
	tcp_frm(&f[0], SUB5, IP4(10, 5, 5, 2), SERVER, 40000, 443, 1000, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	tag_frm(&f[0], 5);
	burst(DMZ, f, 1, &out);
	assert_int_equal(out.n[UNTRUST], 1);
	assert_int_equal(be32_at(out.m[UNTRUST][0], 14 + 12), IP4(172, 19, 51, 110));
	k = be16_at(out.m[UNTRUST][0], 14 + 20);
	assert_true(k >= 1024 + 2 * 504 && k < 1024 + 3 * 504);
	sent_free(&out);
	cli("get nat deterministic inside 10.5.5.2", buf, sizeof(buf));
	assert_string_equal(buf, "10.5.5.2 -> 172.19.51.110 ports 2032-2535 (dip 5, 504 ports per inside address)\n");
	cli("get nat deterministic public 172.19.51.111 port 2100", buf, sizeof(buf));
	assert_string_equal(buf, "172.19.51.111 port 2100 <- 10.5.5.130 (dip 5, its ports 2032-2535)\n");

	/*
	 * Sessions gone: both blocks given back, one record each, on the queue
	 * of the lcore that freed them (here the harness's one lcore, worker 0's).
	 */
	natlog_take(0, 0, NULL, 0);
	natlog_take(dp->n_workers, 0, NULL, 0);
	reset(NULL);
	assert_int_equal(natlog_take(0, DP_NATLOG_PBA_RELEASE, &r, 1) +
			 natlog_take(dp->n_workers, DP_NATLOG_PBA_RELEASE, &r, 1), 2);
	assert_int_equal(rte_be_to_cpu_32(r.src), CLIENT);
	cli("get nat port-block", buf, sizeof(buf));
	assert_non_null(strstr(buf, "subscribers 0 (max 65536), blocks 0 in use"));
	dp_again("");
}

/* Apply configuration lines through the run-time path (as `set` at the CLI): 0 or -1. */
static int
conf_lines(const char *text)
{
	struct conf *nc = malloc(sizeof(*nc));
	char err[CONF_ERR_LEN];

	assert_non_null(nc);
	*nc = dp->conf;
	if (conf_load_string(nc, "test", text, err, sizeof(err)) != 0) {
		free(nc);
		return -1;
	}
	return conf_apply_free(nc);
}

static struct nat_map_stats
map_stats(void)
{
	struct nat_map_stats st;

	nat_map_stats(dp->nat_ctx.map, &st);
	return st;
}

#define CLIENT2 IP4(60, 60, 60, 3)
#define OUTSIDE IP4(172, 19, 50, 77)

/* Send one frame in on interface i; the one frame that left by interface o (its mbuf) or NULL. */
static struct rte_mbuf *
one_through(unsigned i, const struct frm *f, unsigned o, struct sent *out)
{
	sent_free(out);
	burst(i, f, 1, out);
	return out->n[o] == 1 ? out->m[o][0] : NULL;
}

/*
 * Issue 18: endpoint-independent mapping (RFC 4787 REQ-1): one inside
 * endpoint keeps its public port for every destination while a session
 * lives; filtering address-and-port-dependent by default (an outside host
 * it never sent to is refused, no state made), endpoint-independent when
 * configured (that host reaches it, through a session of its own);
 * hairpinning (REQ-9) from a second inside host to the public endpoint,
 * its source translated to its own mapping, both ways, for UDP, TCP and
 * ICMP echo; the mappings and their ports given back when the sessions go.
 */
static void
test_eim_eif_hairpin(void **state)
{
	struct sent out = { 0 };
	struct frm f;
	struct rte_mbuf *m;
	uint64_t unhandled;
	uint16_t pub, pub2, pub3, tpub;
	int idx = nat_addr_find(dp->nat, PUBLIC);
	struct nat_addr_info ni;

	(void)state;
	assert_int_equal(conf_lines("set nat mapping endpoint-independent\n"
				    "set arp 60.60.60.3 02:00:00:00:00:03 trust\n"
				    "set arp 172.19.50.77 02:00:00:00:01:77 untrust\n"), 0);
	/* One public endpoint for two destinations. */
	udp_frm(&f, TRUST, CLIENT, SERVER, 40000, 4500);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	pub = be16_at(m, 34);
	udp_frm(&f, TRUST, CLIENT, ROUTER, 40000, 5000);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	assert_int_equal(be32_at(m, 26), PUBLIC);
	assert_int_equal(be16_at(m, 34), pub);
	assert_int_equal(map_stats().used, 1);
	assert_int_equal(map_stats().reused, 1);
	nat_addr_info(dp->nat, (unsigned)idx, &ni);
	assert_int_equal(ni.used, 1);

	/* Address-and-port-dependent filtering: a host it never sent to is refused, no state. */
	unhandled = drops(PKT_DROP_TO_ME_UNHANDLED);
	udp_frm(&f, UNTRUST, OUTSIDE, PUBLIC, 7000, pub);
	assert_null(one_through(UNTRUST, &f, TRUST, &out));
	assert_int_equal(drops(PKT_DROP_TO_ME_UNHANDLED), unhandled + 1);
	assert_int_equal(sessions(), 2);

	/* Endpoint-independent filtering: it reaches the inside endpoint. */
	assert_int_equal(conf_lines("set nat filtering endpoint-independent\n"), 0);
	assert_non_null(m = one_through(UNTRUST, &f, TRUST, &out));
	assert_int_equal(be32_at(m, 26), OUTSIDE);
	assert_int_equal(be32_at(m, 30), CLIENT);
	assert_int_equal(be16_at(m, 34), 7000);
	assert_int_equal(be16_at(m, 36), 40000);
	assert_int_equal(sessions(), 3);
	assert_int_equal(map_stats().inbound, 1);
	/* ... and the inside host's answer leaves from the same public endpoint. */
	udp_frm(&f, TRUST, CLIENT, OUTSIDE, 40000, 7000);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	assert_int_equal(be16_at(m, 34), pub);
	assert_int_equal(sessions(), 3);
	/* A public port no mapping owns stays closed; so does TCP without a SYN. */
	udp_frm(&f, UNTRUST, OUTSIDE, PUBLIC, 7000, (uint16_t)(pub + 1));
	assert_null(one_through(UNTRUST, &f, TRUST, &out));
	assert_int_equal(drops(PKT_DROP_TO_ME_UNHANDLED), unhandled + 2);

	/* Hairpinning: the second inside host reaches the first by its public endpoint. */
	assert_int_equal(conf_lines("set nat hairpin\n"), 0);
	udp_frm(&f, TRUST, CLIENT2, PUBLIC, 5555, pub);
	assert_non_null(m = one_through(TRUST, &f, TRUST, &out));
	assert_int_equal(be32_at(m, 26), PUBLIC);
	assert_int_equal(be32_at(m, 30), CLIENT);
	assert_int_equal(be16_at(m, 36), 40000);
	pub2 = be16_at(m, 34);
	assert_int_not_equal(pub2, pub);
	assert_int_equal(map_stats().hairpin, 1);
	assert_int_equal(map_stats().used, 2);
	/* The answer, to the second host's public endpoint, comes from the first's. */
	udp_frm(&f, TRUST, CLIENT, PUBLIC, 40000, pub2);
	assert_non_null(m = one_through(TRUST, &f, TRUST, &out));
	assert_int_equal(be32_at(m, 26), PUBLIC);
	assert_int_equal(be16_at(m, 34), pub);
	assert_int_equal(be32_at(m, 30), CLIENT2);
	assert_int_equal(be16_at(m, 36), 5555);
	/* A host to its own public endpoint (RFC 5780's hairpinning test) gets its packet back. */
	udp_frm(&f, TRUST, CLIENT, PUBLIC, 40000, pub);
	assert_non_null(m = one_through(TRUST, &f, TRUST, &out));
	assert_int_equal(be32_at(m, 26), PUBLIC);
	assert_int_equal(be16_at(m, 34), pub);
	assert_int_equal(be32_at(m, 30), CLIENT);
	assert_int_equal(be16_at(m, 36), 40000);
	assert_non_null(m = one_through(TRUST, &f, TRUST, &out));   /* again: its session */
	assert_int_equal(be16_at(m, 36), 40000);
	{
		/* Its two directions are one: the second key is a wing, not a second index entry. */
		struct flow_key k;
		struct flow_session *hs;
		uint8_t dir;

		flow_key_set(&k, rte_cpu_to_be_32(CLIENT), rte_cpu_to_be_32(PUBLIC), RTE_BE16(40000),
			     rte_cpu_to_be_16(pub), IPPROTO_UDP);
		assert_non_null(hs = flow_lookup(dp->flows, &k, &dir));
		assert_int_equal(dir, 0);
		assert_true(hs->oneway);
	}
	assert_int_equal(map_stats().hairpin, 2);
	/* The second host's mapping is the one it has for the outside too. */
	udp_frm(&f, TRUST, CLIENT2, SERVER, 5555, 4500);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	assert_int_equal(be16_at(m, 34), pub2);

	/* TCP: a SYN hairpinned to a TCP mapping of the first host. */
	tcp_frm(&f, TRUST, CLIENT, SERVER, 40100, 80, 1000, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	tpub = be16_at(m, 34);
	tcp_frm(&f, TRUST, CLIENT2, PUBLIC, 5556, tpub, 2000, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	assert_non_null(m = one_through(TRUST, &f, TRUST, &out));
	assert_int_equal(be32_at(m, 26), PUBLIC);
	assert_int_equal(be32_at(m, 30), CLIENT);
	assert_int_equal(be16_at(m, 36), 40100);
	pub3 = be16_at(m, 34);
	tcp_frm(&f, TRUST, CLIENT, PUBLIC, 40100, pub3, 5000, 2001, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
		NULL, 0);
	assert_non_null(m = one_through(TRUST, &f, TRUST, &out));
	assert_int_equal(be16_at(m, 34), tpub);
	assert_int_equal(be32_at(m, 30), CLIENT2);
	assert_int_equal(be16_at(m, 36), 5556);

	/* ICMP echo: to the identifier of the first host's echo mapping. */
	{
		uint8_t *ic = frame_ip4(f.b, sizeof(f.b), mac_of(TRUST), CLIENT, SERVER, IPPROTO_ICMP, 8);
		uint16_t id;

		ic[0] = 8;
		ic[5] = 77;   /* identifier 77 */
		*(uint16_t *)(ic + 2) = cksum_full(ic, 8);
		f.len = 14 + 20 + 8;
		assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
		id = be16_at(m, 38);
		ic = frame_ip4(f.b, sizeof(f.b), mac_of(TRUST), CLIENT2, PUBLIC, IPPROTO_ICMP, 8);
		ic[0] = 8;
		ic[4] = (uint8_t)(id >> 8);
		ic[5] = (uint8_t)id;
		*(uint16_t *)(ic + 2) = cksum_full(ic, 8);
		assert_non_null(m = one_through(TRUST, &f, TRUST, &out));
		assert_int_equal(be32_at(m, 26), PUBLIC);
		assert_int_equal(be32_at(m, 30), CLIENT);
		assert_int_equal(be16_at(m, 38), 77);
		assert_int_equal(cksum_full(rte_pktmbuf_mtod_offset(m, uint8_t *, 34), 8), 0);
	}
	sent_free(&out);

	/* Off-path: from Untrust, hairpinning gives nothing; without filtering, nothing reaches a mapping. */
	assert_int_equal(conf_lines("set nat filtering address-and-port-dependent\n"), 0);
	udp_frm(&f, UNTRUST, OUTSIDE, PUBLIC, 7001, pub);
	assert_null(one_through(UNTRUST, &f, TRUST, &out));
	sent_free(&out);

	/* The sessions go: every mapping and port with them. */
	reset(NULL);
	assert_int_equal(map_stats().used, 0);
	nat_addr_info(dp->nat, (unsigned)idx, &ni);
	assert_int_equal(ni.used, 0);
	assert_int_equal(conf_lines("unset nat hairpin\nunset nat mapping endpoint-independent\n"), 0);
}

/*
 * Issue 18: the mapping table is bounded (set nat mapping max 8 here): a
 * new endpoint beyond it is refused as nat-map-full, its port given back,
 * and an endpoint with a live mapping still gets new sessions.
 */
static void
test_mapping_table_full(void **state)
{
	struct sent out = { 0 };
	struct frm f;
	struct nat_addr_info ni;
	uint64_t full = drops(PKT_DROP_NAT_MAP_FULL);
	int idx = nat_addr_find(dp->nat, PUBLIC);
	unsigned i;

	(void)state;
	assert_int_equal(conf_lines("set nat mapping endpoint-independent\n"), 0);
	for (i = 0; i < 9; i++) {
		udp_frm(&f, TRUST, CLIENT, SERVER, (uint16_t)(43000 + i), 4500);
		if (i < 8)
			assert_non_null(one_through(TRUST, &f, UNTRUST, &out));
		else
			assert_null(one_through(TRUST, &f, UNTRUST, &out));
	}
	assert_int_equal(drops(PKT_DROP_NAT_MAP_FULL), full + 1);
	assert_int_equal(map_stats().used, 8);
	assert_int_equal(map_stats().failed, 1);
	nat_addr_info(dp->nat, (unsigned)idx, &ni);
	assert_int_equal(ni.used, 8);
	/* A live mapping's endpoint, to another destination: a session, no new mapping. */
	udp_frm(&f, TRUST, CLIENT, ROUTER, 43000, 4501);
	assert_non_null(one_through(TRUST, &f, UNTRUST, &out));
	assert_int_equal(map_stats().used, 8);
	sent_free(&out);
	reset(NULL);
	assert_int_equal(map_stats().used, 0);
	assert_int_equal(conf_lines("unset nat mapping endpoint-independent\n"), 0);
}

/*
 * Issue 18, RFC 4787 REQ-3/REQ-4: with port preservation the inside port is
 * kept when free; when it is not, parity keeps at least its parity. Off, the
 * ports are the worker's round robin.
 */
static void
test_port_preserve_parity(void **state)
{
	struct sent out = { 0 };
	struct frm f;
	struct rte_mbuf *m;
	unsigned i;

	(void)state;
	assert_int_equal(conf_lines("set nat port-preserve parity\n"
				    "set arp 60.60.60.3 02:00:00:00:00:03 trust\n"), 0);
	udp_frm(&f, TRUST, CLIENT, SERVER, 40010, 4500);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	assert_int_equal(be16_at(m, 34), 40010);
	/* Taken now: the second host's same port gets another of its parity, several times over. */
	for (i = 0; i < 4; i++) {
		udp_frm(&f, TRUST, CLIENT2, SERVER, 40010, (uint16_t)(4600 + i));
		assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
		assert_int_not_equal(be16_at(m, 34), 40010);
		assert_int_equal(be16_at(m, 34) % 2, 0);
		udp_frm(&f, TRUST, CLIENT2, SERVER, 40011, (uint16_t)(4600 + i));
		assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
		if (i == 0)
			assert_int_equal(be16_at(m, 34), 40011);
		else
			assert_int_equal(be16_at(m, 34) % 2, 1);
	}
	sent_free(&out);
	assert_int_equal(conf_lines("unset nat port-preserve\n"), 0);
	udp_frm(&f, TRUST, CLIENT, SERVER, 40020, 4500);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	assert_int_not_equal(be16_at(m, 34), 40020);
	sent_free(&out);
}

/*
 * Issue 18, RFC 5382 REQ-2a: TCP simultaneous open through the NAT. The
 * inside host's SYN makes the session; the outside host's own SYN (no ACK)
 * crosses it and reaches the inside host; each side's SYN-ACK then passes.
 */
static void
test_tcp_simultaneous_open(void **state)
{
	struct sent out = { 0 };
	struct frm f;
	struct rte_mbuf *m;
	uint16_t tp;

	(void)state;
	tcp_frm(&f, TRUST, CLIENT, SERVER, 40300, 7000, 1000, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	tp = be16_at(m, 34);
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 7000, tp, 5000, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	assert_non_null(m = one_through(UNTRUST, &f, TRUST, &out));
	assert_int_equal(be32_at(m, 30), CLIENT);
	assert_int_equal(be16_at(m, 36), 40300);
	tcp_frm(&f, TRUST, CLIENT, SERVER, 40300, 7000, 1000, 5001, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
		NULL, 0);
	assert_non_null(m = one_through(TRUST, &f, UNTRUST, &out));
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 7000, tp, 5000, 1001, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
		NULL, 0);
	assert_non_null(m = one_through(UNTRUST, &f, TRUST, &out));
	/* Established: data both ways. */
	tcp_frm(&f, TRUST, CLIENT, SERVER, 40300, 7000, 1001, 5001, RTE_TCP_ACK_FLAG, "hi", 2);
	assert_non_null(one_through(TRUST, &f, UNTRUST, &out));
	tcp_frm(&f, UNTRUST, SERVER, PUBLIC, 7000, tp, 5001, 1003, RTE_TCP_ACK_FLAG, "ho", 2);
	assert_non_null(one_through(UNTRUST, &f, TRUST, &out));
	sent_free(&out);
}

int
main(void)
{
	char prefix[64];
	int rc;
	char *eal[] = { "test_worker_paths", "--no-huge", "--no-shconf", "-m", "512", "--no-pci",
			"--log-level=error", "--vdev=net_ring0", "--vdev=net_ring1", "--vdev=net_ring2",
			"--file-prefix", prefix, "-l", "0" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_two_new_udp_in_one_burst, reset),
		cmocka_unit_test_setup(test_two_pptp_syn_in_one_burst, reset),
		cmocka_unit_test_setup(test_burst_misses_find_sessions_made_before, reset),
		cmocka_unit_test_setup(test_gre_behind_its_ocrp, reset),
		cmocka_unit_test_setup(test_dip_address_not_forwarded, reset),
		cmocka_unit_test_setup(test_gre_not_for_the_alg, reset),
		cmocka_unit_test_setup(test_icmp_err_quoting_gre, reset),
		cmocka_unit_test_setup(test_redial_same_client_call_id, reset),
		cmocka_unit_test_setup(test_jumbo_chains, reset),
		cmocka_unit_test_setup(test_mtu_later_fragments_and_icmp_errors, reset),
		cmocka_unit_test_setup(test_port_max_mtu, reset),
		cmocka_unit_test_setup(test_natlog_records_and_loss, reset),
		cmocka_unit_test_setup(test_tagged_frames_in_a_burst, reset),
		cmocka_unit_test_setup(test_tagged_fast_path_keeps_the_tag, reset),
		cmocka_unit_test_setup(test_trunk_burst_sorted_by_tag, reset),
		cmocka_unit_test_setup(test_port_blocks_and_deterministic, reset),
		cmocka_unit_test_setup(test_eim_eif_hairpin, reset),
		cmocka_unit_test_setup(test_port_preserve_parity, reset),
		cmocka_unit_test_setup(test_mapping_table_full, reset),
		cmocka_unit_test_setup(test_tcp_simultaneous_open, reset),
	};

	snprintf(prefix, sizeof(prefix), "test_worker_paths_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		return 1;
	eal_rundir_remove_at_exit();
	dp = dp_harness_up("test", conf_text, 1);
	if (dp == NULL)
		return 1;
	ifx[TRUST] = (unsigned)route_iface_by_name(dp->rt, "trust");
	ifx[UNTRUST] = (unsigned)route_iface_by_name(dp->rt, "untrust");
	ifx[DMZ] = (unsigned)route_iface_by_name(dp->rt, "dmz");
	ifx[SUB5] = (unsigned)route_iface_by_name(dp->rt, "dmz.5");
	ifx[SUB6] = (unsigned)route_iface_by_name(dp->rt, "dmz.6");
	ifx[SUB7] = (unsigned)route_iface_by_name(dp->rt, "dmz.7");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	/* Torn down with its sessions, calls and ports (under ASan: nothing touched after free). */
	dp_harness_down(dp);
	return rc;
}
