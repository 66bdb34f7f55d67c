/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the whole worker path: the real dataplane (init.c's
 * dp_create on two net_ring ports) with live NAPT sessions, a PPTP call and
 * its GRE gates set up at start, then arbitrary frames pushed through
 * dp_worker_burst on either interface, the slow path drained, time advanced
 * and ageing run. After every input all mbufs must be back in the pool
 * (apart from packets a neighbour entry holds): a leak aborts.
 *
 * Input: records of [op][off][len_hi][len_lo][len bytes]. op bit 0 = the
 * interface (0 trust, 1 untrust); bits 1-3 = 0 for a raw frame, else one of
 * the seeded templates with the bytes laid over it at off; bit 7 = cut the
 * frame at off; bits 4-6 = seconds to advance the clock afterwards. len_hi
 * bit 7 = hold the frame and send it in one RX burst with the next ones (up
 * to 32 on one interface), so packets meet what those before them made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "cksum.h"
#include "dp.h"
#include "dp_iface.h"
#include "dp_session.h"
#include "views.h"
#include "dp_harness.h"
#include "eal_rundir.h"
#include "frames.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define CLIENT  IP4(60, 60, 60, 2)
#define SERVER  IP4(172, 19, 50, 129)
#define PUBLIC  IP4(172, 19, 51, 234)

static const char harness_conf[] =
	"set interface \"trust\" zone \"Trust\"\n"
	"set interface \"untrust\" zone \"Untrust\"\n"
	"set interface trust ip 60.60.60.1/24\n"
	"set interface trust nat\n"
	"set interface untrust ip 172.19.51.234/23\n"
	"set interface untrust route\n"
	"set interface trust port net_ring0\n"
	"set interface untrust port net_ring1\n"
	/* An 802.1Q subinterface on the untrust port: frames tagged 100 take the VLAN path (issue 21). */
	"set interface \"untrust.1\" tag 100 zone \"DMZ\"\n"
	"set interface untrust.1 ip 10.100.0.1/24\n"
	"set interface untrust.1 route\n"
	"set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit\n"
	"set arp 60.60.60.2 02:00:00:00:00:02 trust\n"
	"set arp 172.19.50.129 02:00:00:00:01:29 untrust\n"
	/* Small: every clock advance ages the whole table (dp_sessions_tick). */
	"set session max 256\n"
	"set alg pptp xlate max 64\n"
	"set mbuf max 2048\n"
	"set arp queue 2\n"
	/* Small, so that the end-of-input leak check (neigh_walk over every slot) is cheap. */
	"set arp max 16\n"
	"set session timeout udp 20\n"
	/* Issue 18: every frame to the public address may reach a mapping (filtering, hairpinning). */
	"set nat mapping endpoint-independent\n"
	"set nat filtering endpoint-independent\n"
	"set nat hairpin\n"
	"set nat port-preserve parity\n"
	"set session timeout gre 40\n"
	"set alg pptp xlate timeout 40\n";

enum { T_RAW, T_CTRL_C2S, T_CTRL_S2C, T_GRE_C2S, T_GRE_S2C, T_UDP_C2S, T_UDP_S2C, T_ICMP, T_MAX };

struct tmpl {
	uint8_t b[1600];
	uint16_t len;
	uint8_t iface;
};

static struct dp *dp;
static unsigned ifx[2];       /* interface index of trust (0) and untrust (1) */
static struct tmpl tmpls[T_MAX];
static unsigned base_avail;

/* Ethernet + IPv4 header into t for interface iface (0 trust, 1 untrust); returns the l4 pointer. */
static uint8_t *
frame(struct tmpl *t, unsigned iface, uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4len)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, ifx[iface]);

	t->len = (uint16_t)(14 + 20 + l4len);
	t->iface = (uint8_t)iface;
	return frame_ip4(t->b, sizeof(t->b), &ifc->mac, src, dst, proto, l4len);
}

static void
tcp_tmpl(struct tmpl *t, unsigned iface, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt,
	 uint32_t seq, uint32_t ack, uint8_t flags, const void *data, uint16_t dlen)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, ifx[iface]);

	t->len = frame_tcp(t->b, sizeof(t->b), &ifc->mac, src, dst, sp, dpt, seq, ack, flags, data, dlen);
	t->iface = (uint8_t)iface;
}

static void
gre_tmpl(struct tmpl *t, unsigned iface, uint32_t src, uint32_t dst, uint16_t cid)
{
	frame_gre_pptp(frame(t, iface, src, dst, IPPROTO_GRE, PPTP_GRE_FRAME), cid);
}

static void
udp_tmpl(struct tmpl *t, unsigned iface, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt)
{
	uint8_t *u = frame(t, iface, src, dst, IPPROTO_UDP, 8 + 16);

	u[0] = (uint8_t)(sp >> 8);
	u[1] = (uint8_t)sp;
	u[2] = (uint8_t)(dpt >> 8);
	u[3] = (uint8_t)dpt;
	u[5] = 24;
	memset(u + 8, 'u', 16);
}

/* An mbuf holding frame b (len bytes), or NULL for an empty or oversized frame. */
static struct rte_mbuf *
frame_mbuf(const uint8_t *b, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);

	if (m == NULL)
		abort();
	if (len == 0 || rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(rte_pktmbuf_mtod(m, void *), b, len);
	return m;
}

/* One RX burst of n frames on iface through worker 0, and everything it caused (slow path, injections, tx). */
static void
burst(struct rte_mbuf **rx, unsigned n_rx, unsigned iface, struct rte_mbuf **txout)
{
	struct rte_mbuf *pkts[32];
	unsigned i, n, p;

	dp_worker_burst(dp, &dp->workers[0], ifx[iface], rx, (uint16_t)n_rx);
	do {
		n = rte_ring_sc_dequeue_burst(dp->punt, (void **)pkts, RTE_DIM(pkts), NULL);
		for (i = 0; i < n; i++)
			dp_slowpath(dp, pkts[i]);
		p = rte_ring_sc_dequeue_burst(dp->workers[0].inject, (void **)pkts, RTE_DIM(pkts), NULL);
		for (i = 0; i < p; i++)
			rte_pktmbuf_free(pkts[i]);
	} while (n + p > 0);
	/* net_ring ports loop transmitted packets back to their receive side. */
	for (iface = 0; iface < 2; iface++) {
		uint16_t pid = dp->ports[ifx[iface]].pi.port_id;

		while ((n = rte_eth_rx_burst(pid, 0, pkts, RTE_DIM(pkts))) > 0)
			for (i = 0; i < n; i++) {
				if (txout != NULL && *txout == NULL)
					*txout = pkts[i];
				else
					rte_pktmbuf_free(pkts[i]);
			}
	}
}

/* Push one frame through worker 0 as a burst of its own. */
static void
push(const uint8_t *b, uint16_t len, unsigned iface, struct rte_mbuf **txout)
{
	struct rte_mbuf *m = frame_mbuf(b, len);

	if (m != NULL)
		burst(&m, 1, iface, txout);
}

/*
 * One control-lcore tick after the worker's quiescent state, as dpnat runs
 * them: what the previous tick deleted is reclaimed now.
 */
static void
advance(unsigned secs)
{
	dp->start_tsc -= (uint64_t)secs * dp->hz;
	rte_rcu_qsbr_quiescent(dp->qsbr, 0);
	dp_sessions_tick(dp);
}


/* Set up a control connection and one call the way real peers would, to seed state and templates. */
static void
seed(void)
{
	uint8_t msg[200];
	struct tmpl t;
	struct flow_key k;
	struct flow_session *s;
	struct rte_mbuf *out = NULL;
	uint8_t dir;
	uint16_t pubport, xcid, n;
	uint32_t cs = 1000, ss = 5000;

	tcp_tmpl(&t, 0, CLIENT, SERVER, 4762, 1723, cs++, 0, RTE_TCP_SYN_FLAG, NULL, 0);
	push(t.b, t.len, 0, NULL);
	flow_key_set(&k, rte_cpu_to_be_32(CLIENT), rte_cpu_to_be_32(SERVER), RTE_BE16(4762),
		     RTE_BE16(1723), IPPROTO_TCP);
	s = flow_lookup(dp->flows, &k, &dir);
	if (s == NULL) {
		struct dp_stats st;
		unsigned r;

		dp_stats_sum(dp, &st);
		for (r = 1; r < PKT_DROP_MAX; r++)
			if (st.drops[r])
				fprintf(stderr, "seed: drop %s %lu\n", pkt_drop_name(r), (unsigned long)st.drops[r]);
		abort();
	}
	pubport = rte_be_to_cpu_16(s->rw[0].sport);
	tcp_tmpl(&t, 1, SERVER, PUBLIC, 1723, pubport, ss++, cs, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
		 NULL, 0);
	push(t.b, t.len, 1, NULL);
	n = frame_pptp_msg(msg, 1, 156, 0x0100, 0, 0);
	tcp_tmpl(&t, 0, CLIENT, SERVER, 4762, 1723, cs, ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	push(t.b, t.len, 0, NULL);
	cs += n;
	n = frame_pptp_msg(msg, 2, 156, 0x0100, 0x0100, 1);
	tcp_tmpl(&t, 1, SERVER, PUBLIC, 1723, pubport, ss, cs, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	push(t.b, t.len, 1, NULL);
	ss += n;
	n = frame_pptp_msg(msg, 7, 168, 32768, 1, 0);
	tcp_tmpl(&t, 0, CLIENT, SERVER, 4762, 1723, cs, ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	push(t.b, t.len, 0, &out);
	cs += n;
	if (out == NULL)
		abort();
	/* The OCRQ as the server got it: its Call ID is the translated one. */
	xcid = rte_be_to_cpu_16(*rte_pktmbuf_mtod_offset(out, rte_be16_t *, 14 + 20 + 20 + 12));
	rte_pktmbuf_free(out);
	n = frame_pptp_msg(msg, 8, 32, 17382, xcid, 1);
	tcp_tmpl(&t, 1, SERVER, PUBLIC, 1723, pubport, ss, cs, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	push(t.b, t.len, 1, NULL);
	ss += n;
	/* Templates: the next control segments, the gates, a UDP flow, a ping. */
	n = frame_pptp_msg(msg, 15, 24, 17382, 0, 0);
	tcp_tmpl(&tmpls[T_CTRL_C2S], 0, CLIENT, SERVER, 4762, 1723, cs, ss,
		 RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	n = frame_pptp_msg(msg, 14, 40, xcid, 0, 0);
	tcp_tmpl(&tmpls[T_CTRL_S2C], 1, SERVER, PUBLIC, 1723, pubport, ss, cs,
		 RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n);
	gre_tmpl(&tmpls[T_GRE_C2S], 0, CLIENT, SERVER, 17382);
	gre_tmpl(&tmpls[T_GRE_S2C], 1, SERVER, PUBLIC, xcid);
	udp_tmpl(&tmpls[T_UDP_C2S], 0, CLIENT, SERVER, 3000, 53);
	push(tmpls[T_UDP_C2S].b, tmpls[T_UDP_C2S].len, 0, NULL);
	flow_key_set(&k, rte_cpu_to_be_32(CLIENT), rte_cpu_to_be_32(SERVER), RTE_BE16(3000),
		     RTE_BE16(53), IPPROTO_UDP);
	s = flow_lookup(dp->flows, &k, &dir);
	udp_tmpl(&tmpls[T_UDP_S2C], 1, SERVER, PUBLIC, 53, s ? rte_be_to_cpu_16(s->rw[0].sport) : 1);
	{
		uint8_t *ic = frame(&tmpls[T_ICMP], 0, CLIENT, SERVER, IPPROTO_ICMP, 16);

		ic[0] = 8;
		ic[5] = 7;
		*(uint16_t *)(ic + 2) = cksum_full(ic, 16);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { "fuzz_worker", "--no-huge", "--no-shconf", "-m", "512", "--no-pci",
			"--log-level=error", "--vdev=net_ring0", "--vdev=net_ring1",
			"--file-prefix", prefix, "-l", "0" };

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "fuzz_worker_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		abort();
	eal_rundir_remove_at_exit();
	dp = dp_harness_up("harness", harness_conf, 1);
	if (dp == NULL)
		abort();
	ifx[0] = (unsigned)route_iface_by_name(dp->rt, "trust");
	ifx[1] = (unsigned)route_iface_by_name(dp->rt, "untrust");
	seed();
	{
		struct pptp_stats ps;
		struct flow_stats fs;

		pptp_stats_get(dp->pptp, &ps);
		flow_stats_get(dp->flows, &fs);
		/* The control session, the call's two gates and the UDP flow must be live. */
		if (ps.xlate_used != 1 || ps.gates_opened != 2 || fs.alloc != 4) {
			fprintf(stderr, "seed failed: xlate %lu gates %lu sessions %lu\n",
				(unsigned long)ps.xlate_used, (unsigned long)ps.gates_opened,
				(unsigned long)fs.alloc);
			abort();
		}
	}
	base_avail = rte_mempool_avail_count(dp->pool);
	return 0;
}

static int
count_queued(const struct neigh_info *ni, void *arg)
{
	*(unsigned *)arg += ni->queued;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[1600];
	struct rte_mbuf *rx[32];
	unsigned held = 0, n_rx = 0, rx_if = 0;

	while (size >= 4) {
		uint8_t op = data[0], off = data[1];
		uint16_t len = (uint16_t)((data[2] & 0x7f) << 8 | data[3]);
		unsigned ti = (op >> 1) & 7, iface = op & 1, flen;
		bool hold = (data[2] & 0x80) != 0;
		struct rte_mbuf *m;

		data += 4;
		size -= 4;
		if (len > size)
			len = (uint16_t)size;
		if (len > sizeof(buf))
			len = sizeof(buf);
		if (ti == T_RAW || ti >= T_MAX || tmpls[ti].len == 0) {
			memcpy(buf, data, len);
			flen = len;
		} else {
			const struct tmpl *t = &tmpls[ti];
			unsigned o = off % t->len, k = RTE_MIN((unsigned)len, (unsigned)sizeof(buf) - o);

			memcpy(buf, t->b, t->len);
			memcpy(buf + o, data, k);
			flen = RTE_MAX((unsigned)t->len, o + k);
			if (op & 0x80)
				flen = o;
			iface = t->iface;
		}
		/* A burst is one interface's: a frame for the other sends what is held first. */
		if (n_rx != 0 && rx_if != iface) {
			burst(rx, n_rx, rx_if, NULL);
			n_rx = 0;
		}
		m = frame_mbuf(buf, (uint16_t)flen);
		if (m != NULL) {
			rx[n_rx++] = m;
			rx_if = iface;
		}
		if (n_rx != 0 && (!hold || n_rx == RTE_DIM(rx) || ((op >> 4) & 7))) {
			burst(rx, n_rx, rx_if, NULL);
			n_rx = 0;
		}
		if ((op >> 4) & 7)
			advance((op >> 4) & 7);
		data += len;
		size -= len;
	}
	if (n_rx != 0)
		burst(rx, n_rx, rx_if, NULL);
	rte_rcu_qsbr_quiescent(dp->qsbr, 0);
	neigh_walk(dp->neigh, (uint64_t)dp_now(dp), count_queued, &held);
	if (rte_mempool_avail_count(dp->pool) + held != base_avail) {
		fprintf(stderr, "mbuf leak: %u available + %u held != %u\n",
			rte_mempool_avail_count(dp->pool), held, base_avail);
		abort();
	}
	return 0;
}
