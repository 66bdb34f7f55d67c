/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpnat-bench-worker: dpnat's own cost per packet, measured in one process
 * without a PMD's receive path in the way. The real dataplane (init.c's
 * dp_create, the worker's dp_worker_burst) runs on two net_null ports (their
 * transmit frees the packets); the flows are set up by real packets (TCP
 * handshakes, UDP first packets, PPTP control connections with SCCRQ/OCRQ
 * and their replies, the translated Call IDs read back from the ALG), then
 * bursts of 60-byte frames are built from memory the way a PMD would (mbufs
 * from the pool, the frame copied in) and either
 *   - handed to dp_worker_burst (parse, session lookup, translation,
 *     routing, transmit), or
 *   - transmitted as they are (the "io forwarding" ceiling of this method),
 * in alternating rounds. Own cost = cycles per packet of the first minus the
 * second. With --workers N, N lcores each run their share of the flows at
 * the same time on their own queues (the aggregate rate shows how the
 * workers scale; --lcores maps them onto CPUs, oversubscribed or not).
 *
 * It complements tools/bench.py (pcap replay through the real process and
 * dpdk-testpmd), whose pcap PMD reads and copies every packet: here the
 * replay costs a few cycles, so the difference is stable on a busy machine
 * (the best of --rounds is reported) and the profile shows dpnat alone.
 *
 * Usage: dpnat-bench-worker [--flows N] [--workload tcpudp|pptp|new] [--passes N] [--rounds N]
 *                           [--huge] [--workers N] [--lcores MAP] [--refused N] [--tagged]
 *                           [--replies]
 *   --tagged: the same flows on 802.1Q subinterfaces (Trust tag 10, Untrust tag 100 on the
 *     two ports): every frame arrives tagged and leaves tagged (net_null has no VLAN
 *     offloads, so the tag is taken off and written in software)
 *   --tag-offload: --tagged as a device with the VLAN strip and insert offloads does it: frames
 *     arrive untagged with the tag in the mbuf (RTE_MBUF_F_RX_VLAN_STRIPPED), leave with
 *     RTE_MBUF_F_TX_VLAN
 *   --refused N (tcpudp, one worker): one public address, and N more UDP flows from
 *     the inside whose every packet is refused for want of a port (--flows 64512
 *     takes them all): what a refused new flow costs, and what it costs the rest
 *   --workload new: the new-session rate - each round sends the first UDP
 *     datagram of N flows never seen before (8 per client, a new source port per round)
 *     in bursts of 32 from the inside, each of the --workers its share at the same time;
 *     cycles per created session and sessions/s in all, best round
 *   --replies (--workload new): each burst of first datagrams followed by the servers'
 *     answers to them, as sessions with traffic both ways are set up
 *   --rss: the ports' queues taken as fed by dpnat's RSS (dpnat -r): with two or more
 *     workers new TCP/UDP ports are chosen by RSS class (issue 16); --workload new
 *     --workers 2 --rss against --workers 2 is what that choice costs a new session
 *   --port-block N: port blocks of N ports (set nat port-block size N, max-blocks 16); with
 *     --log-nat the run ends with the records made per subscriber (workload new)
 *   --log-nat: `set log nat enable` with queues that hold every record; with --workload new
 *     the control lcore's drain of each round's records is timed too (cycles per record)
 *   --ipfix (implies --log-nat): the drain sends the records as IPFIX to a UDP socket of the
 *     bench on 127.0.0.1 (never read: what the exporter costs, not the collector)
 *   --huge: hugepage memory (mounted hugetlbfs, reserved pages) instead of --no-huge
 *   --nat-rfc: endpoint-independent mapping and filtering and hairpinning on (issue 18):
 *     what they cost the established path (nothing looks at them there) and a new session
 *   --ha: as the active box of an HA pair (issue 17): every session made queues a sync event
 *     (the queues hold them all; nothing drains them here): what the sync costs the new-session rate
 *   --lcores: EAL lcore map for the N workers, e.g. '0@1,1@1' (default: -l 0..N-1)
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "cksum.h"
#include "dp.h"
#include "views.h"
#include "dp_harness.h"
#include "eal_rundir.h"
#include "frames.h"

#define FRAME 60
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

struct frame {
	uint8_t b[FRAME + 4];          /* room for an 802.1Q tag */
};

static struct dp *dp;
static unsigned ifx[2];                /* interface index of the port of trust (0) and untrust (1) */
static uint16_t vtag[2];               /* --tagged: their 802.1Q ids (0: untagged) */
static bool vlan_hw;                   /* --tag-offload: the device strips and inserts tags */
static struct rte_ether_addr if_mac[2];
static struct frame *data[2];          /* per direction, one frame per flow */
static unsigned n_data;
static uint16_t frame_len[2] = { FRAME, FRAME };   /* data frames per direction, tag included */
static unsigned n_refused;             /* the last n_refused trust frames: new flows refused */
static unsigned n_workers = 1;
static unsigned passes;
static unsigned go, ready;             /* round number; workers arrived at barriers */
static uint64_t wts[DP_MAX_WORKERS][4];   /* per worker: dpnat loop start, end; io loop start, end */
static uint64_t wcpu[DP_MAX_WORKERS];
static uint64_t drain_cycles, drain_records;   /* --log-nat: the best round's drain */     /* per worker: its thread's CPU time in the dpnat loop, ns */

/*
 * The calling thread's CPU time in ns. On a shared machine the wall time of
 * a round includes whatever else ran on the CPUs; the CPU time the workers'
 * threads spent does not, and still includes what they cost each other
 * (spinning on a lock, lines moving between caches).
 */
static uint64_t
thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *msg)
{
	fprintf(stderr, "bench-worker: %s\n", msg);
	if (dp != NULL && dp->flows != NULL) {
		struct dp_stats st;
		unsigned i;

		struct flow_stats fs;

		dp_stats_sum(dp, &st);
		for (i = 1; i < PKT_DROP_MAX; i++)
			if (st.drops[i])
				fprintf(stderr, "bench-worker: drop %s: %lu\n", pkt_drop_name(i),
					(unsigned long)st.drops[i]);
		flow_stats_get(dp->flows, &fs);
		fprintf(stderr, "bench-worker: sessions %lu of %lu, alloc failed %lu, insert failed %lu\n",
			(unsigned long)fs.alloc, (unsigned long)fs.max, (unsigned long)fs.alloc_failed,
			(unsigned long)fs.insert_failed);
	}
	exit(1);
}

/* --tagged: insert direction dir's 802.1Q tag into the frame b of len bytes (room for 4 more). */
static uint16_t
tag_frame(uint8_t *b, uint16_t len, unsigned dir)
{
	if (vtag[dir] == 0)
		return len;
	memmove(b + 16, b + 12, len - 12u);
	b[12] = 0x81;
	b[13] = 0x00;
	b[14] = (uint8_t)(vtag[dir] >> 8);
	b[15] = (uint8_t)vtag[dir];
	return (uint16_t)(len + 4);
}

/* Ethernet + IPv4 header for direction dir (0 trust, 1 untrust) into b; returns l4. */
static uint8_t *
ip_frame(uint8_t *b, unsigned dir, uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4len)
{
	return frame_ip4(b, 64, &if_mac[dir], src, dst, proto, l4len);
}

static uint16_t
tcp_frame(uint8_t *b, unsigned dir, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt,
	  uint32_t seq, uint32_t ack, uint8_t flags, const void *pl, uint16_t plen)
{
	return (uint16_t)RTE_MAX(frame_tcp(b, RTE_MAX(64u, 54u + plen), &if_mac[dir], src, dst, sp, dpt,
					   seq, ack, flags, pl, plen), FRAME);
}

static void
udp_frame(uint8_t *b, unsigned dir, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt)
{
	uint8_t *u = ip_frame(b, dir, src, dst, IPPROTO_UDP, FRAME - 34);

	u[0] = (uint8_t)(sp >> 8);
	u[1] = (uint8_t)sp;
	u[2] = (uint8_t)(dpt >> 8);
	u[3] = (uint8_t)dpt;
	u[5] = FRAME - 34;
	memset(u + 8, 'u', FRAME - 42);
	*(uint16_t *)(u + 6) = cksum_l4_full(rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst),
					     IPPROTO_UDP, u, FRAME - 34);
}

/* PPTP GRE (RFC 2637: K and S set, version 1) carrying call id cid. */
static void
gre_frame(uint8_t *b, unsigned dir, uint32_t src, uint32_t dst, uint16_t cid)
{
	uint8_t *g = ip_frame(b, dir, src, dst, IPPROTO_GRE, FRAME - 34);

	g[0] = 0x30;
	g[1] = 0x01;
	g[2] = 0x88;
	g[3] = 0x0b;
	g[5] = FRAME - 34 - 12;
	g[6] = (uint8_t)(cid >> 8);
	g[7] = (uint8_t)cid;
	g[11] = 1;
	memset(g + 12, 0x21, FRAME - 34 - 12);
}


/* Set-up: one packet through worker 0 (what it sends, the null port frees). */
static void
push(const uint8_t *b, uint16_t len, unsigned dir)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	uint8_t *p = NULL;

	if (m == NULL || (p = (uint8_t *)rte_pktmbuf_append(m, len + (vtag[dir] ? 4 : 0))) == NULL)
		die("mbuf pool empty during set-up");
	memcpy(p, b, len);
	tag_frame(p, len, dir);
	dp_worker_burst(dp, &dp->workers[0], ifx[dir], &m, 1);
}

static struct flow_session *
session_of(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dpt, uint8_t proto)
{
	struct flow_key k;
	uint8_t dir;

	flow_key_set(&k, rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst), rte_cpu_to_be_16(sp),
		     rte_cpu_to_be_16(dpt), proto);
	return flow_lookup(dp->flows, &k, &dir);
}

static uint32_t
client_of(unsigned i)
{
	return IP4(10, 0, 0, 0) + 1 + i;
}

static uint32_t
server_of(unsigned i)
{
	return IP4(198, 18, 0, 1) + (i % 16);
}

/* Half TCP (80, 443), half UDP (53, 4500); 8 flows per client. */
static void
setup_tcpudp(unsigned flows)
{
	unsigned i;

	for (i = 0; i < flows; i++) {
		uint32_t c = client_of(i / 8), s = server_of(i);
		uint16_t sp = (uint16_t)(10000 + i % 8), dpt;
		struct flow_session *ss;
		uint8_t b[64];
		uint16_t pub;

		if (i % 2 == 0) {
			dpt = (i / 2) % 2 ? 443 : 80;
			push(b, tcp_frame(b, 0, c, s, sp, dpt, 1000, 0, RTE_TCP_SYN_FLAG, NULL, 0), 0);
			ss = session_of(c, s, sp, dpt, IPPROTO_TCP);
			if (ss == NULL)
				die("TCP session not created (see get counter flow)");
			pub = rte_be_to_cpu_16(ss->rw[0].sport);
			push(b, tcp_frame(b, 1, s, rte_be_to_cpu_32(ss->rw[0].src), dpt, pub, 5000, 1001,
					  RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0), 1);
			tcp_frame(data[0][i].b, 0, c, s, sp, dpt, 1001, 5001,
				  RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, "abcdef", 6);
			tcp_frame(data[1][i].b, 1, s, rte_be_to_cpu_32(ss->rw[0].src), dpt, pub, 5001, 1007,
				  RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, "ghijkl", 6);
		} else {
			dpt = (i / 2) % 2 ? 4500 : 53;
			udp_frame(data[0][i].b, 0, c, s, sp, dpt);
			push(data[0][i].b, FRAME, 0);
			ss = session_of(c, s, sp, dpt, IPPROTO_UDP);
			if (ss == NULL)
				die("UDP session not created");
			udp_frame(data[1][i].b, 1, s, rte_be_to_cpu_32(ss->rw[0].src), dpt,
				  rte_be_to_cpu_16(ss->rw[0].sport));
		}
	}
	/* New flows from other clients that find no port; their Untrust slot replays an established reply. */
	for (i = flows; i < flows + n_refused; i++) {
		udp_frame(data[0][i].b, 0, client_of(i / 8 + 1000000), server_of(i), 20000, 53);
		data[1][i] = data[1][i % flows];
	}
	n_data = flows + n_refused;
}

/* Per call: the client, its public address and port, the server's and the translated Call ID. */
struct call {
	uint32_t pubip;
	uint16_t pub;
	uint16_t xcid;
	uint32_t cs, ss;
};

static struct call *calls_tab;

/* The ALG's entries: each call's translated Call ID, by client (one call per client). */
static int
xcid_of(const struct pptp_xlate_info *xi, void *arg)
{
	unsigned j = xi->inside_ip - client_of(0);

	(void)arg;
	if (j < n_data)
		calls_tab[j].xcid = xi->xlated_cid;
	return 0;
}

/*
 * flows/2 calls, one per control connection and client, Call IDs 0x100-0x107
 * (colliding). First every call up to its OCRQ, then the translated Call IDs
 * from the ALG, then the servers' OCRPs, which open the GRE gates.
 */
static void
setup_pptp(unsigned flows)
{
	unsigned calls = flows / 2, j;
	uint8_t b[256], msg[200];
	uint16_t n;

	calls_tab = calloc(calls, sizeof(*calls_tab));
	if (calls_tab == NULL)
		die("out of memory");
	n_data = calls;
	for (j = 0; j < calls; j++) {
		struct call *k = &calls_tab[j];
		uint32_t c = client_of(j), s = server_of(j);
		struct flow_session *fs;

		k->cs = 1000;
		k->ss = 5000;
		push(b, tcp_frame(b, 0, c, s, 20000, 1723, k->cs++, 0, RTE_TCP_SYN_FLAG, NULL, 0), 0);
		fs = session_of(c, s, 20000, 1723, IPPROTO_TCP);
		if (fs == NULL)
			die("PPTP control session not created");
		k->pub = rte_be_to_cpu_16(fs->rw[0].sport);
		k->pubip = rte_be_to_cpu_32(fs->rw[0].src);
		push(b, tcp_frame(b, 1, s, k->pubip, 1723, k->pub, k->ss++, k->cs,
				  RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0), 1);
		n = frame_pptp_msg(msg, 1, 156, 0x0100, 0, 0);
		push(b, tcp_frame(b, 0, c, s, 20000, 1723, k->cs, k->ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
				  msg, n), 0);
		k->cs += n;
		n = frame_pptp_msg(msg, 2, 156, 0x0100, 0x0100, 1);
		push(b, tcp_frame(b, 1, s, k->pubip, 1723, k->pub, k->ss, k->cs,
				  RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n), 1);
		k->ss += n;
		n = frame_pptp_msg(msg, 7, 168, (uint16_t)(0x100 + j % 8), 1, 0);
		push(b, tcp_frame(b, 0, c, s, 20000, 1723, k->cs, k->ss, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
				  msg, n), 0);
		k->cs += n;
	}
	pptp_xlate_walk(dp->pptp, flow_clock(dp->flows), xcid_of, NULL);
	for (j = 0; j < calls; j++) {
		struct call *k = &calls_tab[j];
		uint32_t c = client_of(j), s = server_of(j);
		uint16_t scid = (uint16_t)(1 + j / 16);

		if (k->xcid == 0)
			die("an OCRQ did not pass (no xlate entry)");
		n = frame_pptp_msg(msg, 8, 32, scid, k->xcid, 1);
		push(b, tcp_frame(b, 1, s, k->pubip, 1723, k->pub, k->ss, k->cs,
				  RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, n), 1);
		gre_frame(data[0][j].b, 0, c, s, scid);
		gre_frame(data[1][j].b, 1, s, k->pubip, k->xcid);
	}
}

/* Build a burst of frames [first, first + n) of direction dir into mbufs, as a PMD would. */
static inline unsigned
build(struct rte_mbuf **pkts, unsigned dir, unsigned first, unsigned n)
{
	unsigned i;

	if (rte_pktmbuf_alloc_bulk(dp->pool, pkts, n) != 0)
		die("mbuf pool empty");
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		rte_memcpy(rte_pktmbuf_mtod(m, void *), data[dir][first + i].b, frame_len[dir]);
		m->data_len = frame_len[dir];
		m->pkt_len = frame_len[dir];
		m->port = dp->ports[ifx[dir]].pi.port_id;
		if (vlan_hw) {
			m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
			m->vlan_tci = vtag[dir];
		}
	}
	return n;
}

/* All workers meet here (the k-th barrier of the run); yields, so oversubscribed lcores get on. */
static void
barrier(unsigned k)
{
	unsigned spins = 0;

	__atomic_fetch_add(&ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < n_workers * k)
		if (++spins % 256 == 0)
			sched_yield();
		else
			rte_pause();
}

/*
 * --workload new: round r sends the first datagram of flows nobody sent
 * before (source port 1024 + 8r + i % 8) in bursts of 32 from the inside,
 * each worker its share of the flows on its own queue; every datagram must
 * make a session. With --replies each burst is followed by the servers'
 * first answers to it (from the Untrust side, to the translated address and
 * port), as a session with traffic both ways is set up. wts[w][0..1] get
 * the round's start and end, wts[w][2] the cycles spent building the
 * replies' frames (the bench's own work: the public ports are read back
 * from the sessions), which the rate leaves out.
 */
static bool new_replies;

static void
new_share(unsigned w, unsigned flows, unsigned *lo, unsigned *hi)
{
	unsigned share = (flows + n_workers - 1) / n_workers;

	*lo = RTE_MIN(flows, w * share);
	*hi = RTE_MIN(flows, *lo + share);
}

static int
new_main(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg, r = go, lo, hi, first, i;
	struct dp_worker *wk = &dp->workers[w];
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t own = 0, own_ns = 0, made0 = wk->st.forwarded;

	if (w != 0) {
		rte_rcu_qsbr_thread_register(dp->qsbr, w);
		rte_rcu_qsbr_thread_online(dp->qsbr, w);
	}
	new_share(w, n_data, &lo, &hi);
	for (i = lo; i < hi; i++)
		udp_frame(data[0][i].b, 0, client_of(i / 8), server_of(i), (uint16_t)(1024 + 8 * r + i % 8), 53);
	barrier(go);
	wcpu[w] = thread_ns();
	wts[w][0] = rte_rdtsc_precise();
	for (first = lo; first < hi; first += DP_BURST) {
		unsigned n = RTE_MIN((unsigned)DP_BURST, hi - first);

		build(pkts, 0, first, n);
		dp_worker_burst(dp, wk, ifx[0], pkts, (uint16_t)n);
		if (!new_replies)
			continue;
		{
			uint64_t t = rte_rdtsc(), tn = thread_ns();

			for (i = first; i < first + n; i++) {
				struct flow_session *fs = session_of(client_of(i / 8), server_of(i),
								     (uint16_t)(1024 + 8 * r + i % 8), 53,
								     IPPROTO_UDP);

				if (fs == NULL)
					die("a new flow made no session");
				udp_frame(data[1][i].b, 1, server_of(i), rte_be_to_cpu_32(fs->rw[0].src), 53,
					  rte_be_to_cpu_16(fs->rw[0].sport));
			}
			own += rte_rdtsc() - t;
			own_ns += thread_ns() - tn;
		}
		build(pkts, 1, first, n);
		dp_worker_burst(dp, wk, ifx[1], pkts, (uint16_t)n);
	}
	wts[w][1] = rte_rdtsc_precise();
	wts[w][2] = own;
	wcpu[w] = thread_ns() - wcpu[w] - own_ns;
	if (wk->st.forwarded - made0 != (uint64_t)(hi - lo) * (new_replies ? 2 : 1))
		die("a new flow or its reply was not forwarded");
	if (w != 0) {
		rte_rcu_qsbr_thread_offline(dp->qsbr, w);
		rte_rcu_qsbr_thread_unregister(dp->qsbr, w);
	}
	return 0;
}

/*
 * A round of --workload new on every worker at once; returns the cycles it
 * took from the first start to the last end, less the slowest worker's
 * reply building, and in *cpu the workers' CPU time (ns, reply building
 * left out).
 */
static uint64_t
new_round(uint64_t *cpu)
{
	uint64_t lo = UINT64_MAX, hi = 0, own = 0;
	unsigned w = 1, lc;

	go++;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (w < n_workers)
			rte_eal_remote_launch(new_main, (void *)(uintptr_t)w++, lc);
	}
	new_main((void *)0);
	rte_eal_mp_wait_lcore();
	for (w = 0; w < n_workers; w++) {
		lo = RTE_MIN(lo, wts[w][0]);
		hi = RTE_MAX(hi, wts[w][1]);
		own = RTE_MAX(own, wts[w][2]);
	}
	/* The control lcore's part: drain (and with --ipfix, encode and send) this round's records. */
	if (dp->conf.log_nat) {
		uint64_t d0 = rte_rdtsc_precise(), c;
		unsigned got = 0, n;

		while ((n = dp_natlog_drain(dp)) != 0)
			got += n;
		c = rte_rdtsc_precise() - d0;
		/* The best round's, as the new-session time (a loaded machine preempts the others). */
		if (got != 0 && (drain_records == 0 || c * drain_records < drain_cycles * got)) {
			drain_cycles = c;
			drain_records = got;
		}
	}
	for (*cpu = 0, w = 0; w < n_workers; w++)
		*cpu += wcpu[w];
	return hi - lo - own;
}

/* Worker w's pass over its share of the flows in both directions, bursts of 32 alternating. */
static void
pass(unsigned w, bool through_dpnat)
{
	unsigned share = (n_data + n_workers - 1) / n_workers;
	unsigned lo = w * share, hi = RTE_MIN(n_data, lo + share), first, d;
	struct dp_worker *wk = &dp->workers[w];
	struct rte_mbuf *pkts[DP_BURST];

	for (first = lo; first < hi; first += DP_BURST) {
		unsigned n = RTE_MIN((unsigned)DP_BURST, hi - first);

		for (d = 0; d < 2; d++) {
			build(pkts, d, first, n);
			if (through_dpnat) {
				dp_worker_burst(dp, wk, ifx[d], pkts, (uint16_t)n);
			} else {
				const struct dp_port *p = &dp->ports[ifx[1 - d]];
				uint16_t q = (uint16_t)(w % p->pi.nb_txq), sent;

				sent = rte_eth_tx_burst(p->pi.port_id, q, pkts, (uint16_t)n);
				if (sent < n)
					rte_pktmbuf_free_bulk(pkts + sent, n - sent);
			}
		}
	}
}

/* One round on worker w: passes through dpnat, then as many io-only passes, all workers in step. */
static int
round_main(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg, p;

	if (w != 0) {
		rte_rcu_qsbr_thread_register(dp->qsbr, w);
		rte_rcu_qsbr_thread_online(dp->qsbr, w);
	}
	barrier(2 * go - 1);
	wcpu[w] = thread_ns();
	wts[w][0] = rte_rdtsc_precise();
	for (p = 0; p < passes; p++)
		pass(w, true);
	wts[w][1] = rte_rdtsc_precise();
	wcpu[w] = thread_ns() - wcpu[w];
	barrier(2 * go);
	wts[w][2] = rte_rdtsc_precise();
	for (p = 0; p < passes; p++)
		pass(w, false);
	wts[w][3] = rte_rdtsc_precise();
	if (w != 0) {
		rte_rcu_qsbr_thread_offline(dp->qsbr, w);
		rte_rcu_qsbr_thread_unregister(dp->qsbr, w);
	}
	return 0;
}

/*
 * Run a round on every worker at once: from the first start to the last
 * end, for each loop; t[2] the workers' CPU time in the dpnat loop (ns).
 */
static void
run_round(uint64_t t[3])
{
	unsigned w, lc, k;

	go++;
	w = 1;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (w < n_workers)
			rte_eal_remote_launch(round_main, (void *)(uintptr_t)w++, lc);
	}
	round_main((void *)0);
	rte_eal_mp_wait_lcore();
	for (k = 0; k < 2; k++) {
		uint64_t lo = UINT64_MAX, hi = 0;

		for (w = 0; w < n_workers; w++) {
			lo = RTE_MIN(lo, wts[w][2 * k]);
			hi = RTE_MAX(hi, wts[w][2 * k + 1]);
		}
		t[k] = hi - lo;
	}
	for (t[2] = 0, w = 0; w < n_workers; w++)
		t[2] += wcpu[w];
}

static void
usage(void)
{
	fprintf(stderr, "usage: dpnat-bench-worker [--flows N] [--workload tcpudp|pptp|new] "
			"[--passes N] [--rounds N] [--huge] [--workers N] [--lcores MAP] [--refused N] [--tagged] [--tag-offload] "
			"[--log-nat] [--ipfix] [--rss] [--port-block N] [--nat-rfc] [--replies] [--ha]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "flows", required_argument, NULL, 'f' }, { "workload", required_argument, NULL, 'w' },
		{ "passes", required_argument, NULL, 'p' }, { "rounds", required_argument, NULL, 'r' },
		{ "huge", no_argument, NULL, 'H' }, { "workers", required_argument, NULL, 'n' },
		{ "lcores", required_argument, NULL, 'L' }, { "refused", required_argument, NULL, 'R' },
		{ "tagged", no_argument, NULL, 'T' }, { "tag-offload", no_argument, NULL, 'O' },
		{ "log-nat", no_argument, NULL, 'G' }, { "ipfix", no_argument, NULL, 'X' },
		{ "rss", no_argument, NULL, 'S' }, { "port-block", required_argument, NULL, 'B' },
		{ "nat-rfc", no_argument, NULL, 'C' },
		{ "replies", no_argument, NULL, 'Y' }, { "ha", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	char prefix[64], conf[2048], ports[512], lcores[64] = "0", natlog[512] = "", pba[96] = "";
	unsigned pba_size = 0;
	bool log_nat = false, ipfix = false, rss = false, nat_rfc = false, ha_on = false;
	int sink = -1;
	const char *tn, *un;
	char *eal[] = { argv[0], "--no-pci", "--log-level=error", "--vdev=net_null0",
			"--vdev=net_null1", "--file-prefix", prefix, "--lcores", lcores, "-m", "2048",
			"--no-huge", "--no-shconf" };
	int neal = (int)RTE_DIM(eal);
	bool lcores_set = false;
	unsigned flows = 65536, rounds = 5, r, d, ndip, nsess, w;
	const char *wl = "tcpudp";
	uint64_t best[2] = { UINT64_MAX, UINT64_MAX }, best_cpu = UINT64_MAX;
	double hz, pkts;
	struct dp_stats st;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'f': flows = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': wl = optarg; break;
		case 'p': passes = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'H': eal[neal - 2] = "--in-memory"; neal--; break;
		case 'n': n_workers = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'R': n_refused = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'O': vlan_hw = true; /* fall through */
		case 'T': vtag[0] = 10; vtag[1] = 100; break;
		case 'X': ipfix = true; /* fall through */
		case 'G': log_nat = true; break;
		case 'S': rss = true; break;
		case 'B': pba_size = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'C': nat_rfc = true; break;
		case 'Y': new_replies = true; break;
		case 'A': ha_on = true; break;
		case 'L':
			snprintf(lcores, sizeof(lcores), "%s", optarg);
			lcores_set = true;
			break;
		default: usage();
		}
	}
	if (flows < 64 || flows > 4000000 || rounds == 0 || n_workers == 0 ||
	    n_workers > DP_MAX_WORKERS ||
	    (strcmp(wl, "tcpudp") != 0 && strcmp(wl, "pptp") != 0 && strcmp(wl, "new") != 0) ||
	    (strcmp(wl, "new") == 0 && rounds > 64) || (new_replies && strcmp(wl, "new") != 0) ||
	    (n_refused != 0 && (strcmp(wl, "tcpudp") != 0 || n_workers != 1 ||
				flows > NAT_PORT_MAX - NAT_PORT_MIN + 1)))
		usage();
	if (!lcores_set)
		snprintf(lcores, sizeof(lcores), "0-%u", n_workers - 1);
	if (passes == 0)
		passes = RTE_MAX(1u, 1000000u / flows);
	snprintf(prefix, sizeof(prefix), "bench_worker_%d", (int)getpid());
	if (rte_eal_init(neal, eal) < 0)
		die("EAL init failed");
	eal_rundir_remove_at_exit();
	if (rte_lcore_count() < n_workers)
		die("fewer lcores than --workers");
	/* Enough DIP addresses for the ports or Call IDs each worker takes from its slice. */
	ndip = flows * n_workers / 30000 + 1;   /* each worker allocates from its own slice of the ports */
	if (n_refused != 0)
		ndip = 1;   /* one address, whose ports the flows take */
	/* PPTP: a control session and two GRE gates per call, a call per two flows. */
	nsess = strcmp(wl, "pptp") == 0 ? flows / 2 * 3 : flows;
	if (strcmp(wl, "new") == 0) {
		nsess = flows * (rounds + 1);   /* every round's flows stay */
		ndip = nsess * n_workers / 30000 + 1;   /* each worker takes its own slice of each address */
	}
	/*
	 * --log-nat: a record per session made, queues that hold them all (the cost of queuing, not of
	 * losing); --workload new drains them every round, so a round's worth, all touched by the warm-up.
	 */
	if (log_nat)
		snprintf(natlog, sizeof(natlog), "set log nat queue %u\nset log nat enable\n",
			 RTE_MIN(RTE_MAX(strcmp(wl, "new") == 0 ? flows : nsess, 64u), 1048576u));
	if (pba_size != 0)
		snprintf(pba, sizeof(pba), "set nat port-block size %u\nset nat port-block max-blocks 16\n",
			 pba_size);
	/* --ipfix: a collector socket of our own (bound, never read: the kernel drops what overflows it). */
	if (ipfix) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);

		sink = socket(AF_INET, SOCK_DGRAM, 0);
		if (sink < 0 || bind(sink, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(sink, (struct sockaddr *)&sa, &sl) != 0)
			die("ipfix sink socket");
		snprintf(natlog + strlen(natlog), sizeof(natlog) - strlen(natlog),
			 "set log nat ipfix collector 127.0.0.1 port %u\nset log nat ipfix enable\n",
			 ntohs(sa.sin_port));
	}
	if (nat_rfc)
		snprintf(natlog + strlen(natlog), sizeof(natlog) - strlen(natlog),
			 "set nat mapping endpoint-independent\nset nat filtering endpoint-independent\n"
			 "set nat hairpin\nset nat mapping max %u\n", RTE_MIN(RTE_MAX(nsess, 1u), 16777216u));
	/* --ha: the active box of a pair, a sync event per session made, queues that hold them all. */
	if (ha_on)
		snprintf(natlog + strlen(natlog), sizeof(natlog) - strlen(natlog),
			 "set nsrp queue %u\nset nsrp local 127.0.0.1\nset nsrp peer 127.0.0.1\nset nsrp cluster id 1\n",
			 RTE_MIN(RTE_MAX(nsess, 64u), 1048576u));
	/* --tagged: the same interfaces as subinterfaces of two physical ones on the ports. */
	tn = vtag[0] ? "ethernet0/0.1" : "trust";
	un = vtag[1] ? "ethernet0/1.1" : "untrust";
	if (vtag[0])
		snprintf(ports, sizeof(ports),
			 "set interface ethernet0/0 port net_null0\n"
			 "set interface ethernet0/1 port net_null1\n"
			 "set interface %s tag %u zone Trust\n"
			 "set interface %s tag %u zone Untrust\n", tn, vtag[0], un, vtag[1]);
	else
		snprintf(ports, sizeof(ports),
			 "set interface trust zone Trust\n"
			 "set interface untrust zone Untrust\n"
			 "set interface trust port net_null0\n"
			 "set interface untrust port net_null1\n");
	snprintf(conf, sizeof(conf),
		 "%s"
		 "set interface %s ip 60.60.60.1/24\n"
		 "set interface %s nat\n"
		 "set interface %s ip 172.19.51.234/23\n"
		 "set interface %s route\n"
		 "set interface %s dip 4 100.64.0.1 100.64.%u.%u\n"
		 "set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" nat src dip-id 4 permit\n"
		 "set route 10.0.0.0/8 interface %s gateway 60.60.60.2\n"
		 "set route 0.0.0.0/0 interface %s gateway 172.19.50.1\n"
		 "set arp 60.60.60.2 02:00:00:00:00:02 %s\n"
		 "set arp 172.19.50.1 02:00:00:00:01:01 %s\n"
		 "set session max %u\n"
		 "set alg pptp xlate max %u\n"
		 "set mbuf max 16384\n"
		 "%s%s",
		 ports, tn, tn, un, un, un, ndip / 256, ndip % 256, tn, un, tn, un, nsess + nsess / 4 + 64,
		 strcmp(wl, "pptp") == 0 ? flows / 2 + flows / 16 + 64 : 64, natlog, pba);
	dp = dp_harness_up_rss("bench", conf, n_workers, rss);
	if (dp == NULL)
		die("configuration");
	if (ha_on && dp_ha_role_set(dp, DP_HA_ACTIVE, NULL) != 0)
		die("HA role");
	for (d = 0; d < 2; d++) {
		int sub = route_iface_by_name(dp->rt, d ? un : tn);

		if (sub < 0)
			die("interface missing");
		/* Frames arrive on the port's interface: the subinterface's parent when tagged. */
		ifx[d] = vtag[d] ? (unsigned)route_iface_by_name(dp->rt, d ? "ethernet0/1" : "ethernet0/0") :
				   (unsigned)sub;
		if_mac[d] = route_iface_get(dp->rt, (unsigned)sub)->mac;
		data[d] = calloc(flows + n_refused, sizeof(struct frame));
		if (data[d] == NULL)
			die("out of memory");
	}
	if (strcmp(wl, "new") == 0) {
		uint64_t t = UINT64_MAX, cpu = UINT64_MAX, c1;

		n_data = flows;
		new_round(&c1);   /* warm up */
		for (r = 1; r <= rounds; r++) {
			t = RTE_MIN(t, new_round(&c1));
			cpu = RTE_MIN(cpu, c1);
		}
		hz = (double)rte_get_tsc_hz();
		printf("workload new%s, %u new UDP flows a round in bursts of %u, best of %u rounds, "
		       "%u worker(s) on lcores %s\n", new_replies ? " with replies" : "", flows, DP_BURST,
		       rounds, n_workers, lcores);
		/* Per worker: the wall time of the round is each worker's time for its share. */
		printf("  new session %7.1f cycles  %6.1f ns  %7.3f M sessions/s  (%.3f M/s per worker)\n",
		       (double)t * n_workers / flows, (double)t * n_workers / flows * 1e9 / hz,
		       flows / ((double)t / hz) / 1e6, flows / ((double)t / hz) / 1e6 / n_workers);
		printf("  CPU time    %7.1f ns per session (the workers' threads, best round)\n",
		       (double)cpu / flows);
		if (log_nat && drain_records != 0) {
			struct dp_natlog_stats st;

			dp_natlog_stats_get(dp, &st);
			printf("  control lcore drain%s: %7.1f cycles/record  %6.1f ns  %7.3f M records/s "
			       "(best round, %lu records)\n", ipfix ? " + IPFIX" : "",
			       (double)drain_cycles / drain_records, (double)drain_cycles / drain_records * 1e9 / hz,
			       drain_records / ((double)drain_cycles / hz) / 1e6, (unsigned long)drain_records);
			printf("  records created %lu, sent %lu, lost %lu; IPFIX messages %lu, records %lu, lost %lu\n",
			       (unsigned long)st.created, (unsigned long)st.sent, (unsigned long)st.lost,
			       (unsigned long)st.ipfix_msgs, (unsigned long)st.ipfix_records_sent,
			       (unsigned long)st.ipfix_records_lost);
		}
		if (log_nat) {
			struct dp_natlog_stats ls;
			struct flow_stats fs;
			unsigned subs = (flows + 7) / 8;

			/* Every session deleted (as ageing or clear would): their records too. */
			flow_stats_get(dp->flows, &fs);
			dp_natlog_stats_get(dp, &ls);
			printf("  NAT log: %lu sessions of %u subscribers made %lu records (%.1f a subscriber)",
			       (unsigned long)fs.alloc, subs, (unsigned long)ls.created,
			       (double)ls.created / subs);
			for (r = 1; r <= nsess + nsess / 4 + 64; r++) {
				struct flow_session *s = flow_by_id(dp->flows, r);

				if (s != NULL)
					flow_delete(dp->flows, s, false);
			}
			rte_rcu_qsbr_quiescent(dp->qsbr, 0);
			flow_reclaim(dp->flows);
			dp_natlog_stats_get(dp, &ls);
			printf("; deleted, %lu (%.1f a subscriber)\n", (unsigned long)ls.created,
			       (double)ls.created / subs);
		}
		if (ha_on) {
			struct flow_session *s = flow_by_id(dp->flows, 1);
			struct dp_ha_stats hs;
			uint64_t best = UINT64_MAX, t0;
			unsigned k, i;

			dp_ha_stats_get(dp, &hs);
			printf("  sync events queued %lu, lost %lu\n", (unsigned long)hs.queued,
			       (unsigned long)hs.events_lost);
			/* The worker's part alone: fill a record and queue it, into an emptied queue. */
			for (k = 0; s != NULL && k < 5; k++) {
				rte_ring_reset(dp->haq[0].ring);
				t0 = rte_rdtsc_precise();
				for (i = 0; i < flows; i++)
					dp_ha_session(dp, 0, s, DP_HA_EV_UPSERT);
				best = RTE_MIN(best, rte_rdtsc_precise() - t0);
			}
			printf("  sync event (fill + enqueue) %7.1f cycles, best of 5 x %u\n",
			       (double)best / flows, flows);
		}
		if (sink >= 0)
			close(sink);
		return 0;
	}
	if (strcmp(wl, "pptp") == 0)
		setup_pptp(flows);
	else
		setup_tcpudp(flows);
	for (d = 0; d < 2 && !vlan_hw; d++) {
		unsigned i;

		for (i = 0; i < n_data; i++)
			frame_len[d] = tag_frame(data[d][i].b, FRAME, d);
	}
	for (d = 0; d < 2 && vlan_hw; d++)
		dp->ports[ifx[d]].pi.tx_vlan_insert = true;   /* net_null frees what it is given */
	for (w = 0; w < n_workers; w++)
		memset(&dp->workers[w].st, 0, sizeof(dp->workers[w].st));
	/* Warm up, then rounds of both loops on every worker at once; the best round of each counts. */
	{
		unsigned keep = passes;
		uint64_t t[3];

		passes = 1;
		run_round(t);
		passes = keep;
		for (r = 0; r < rounds; r++) {
			run_round(t);
			best[0] = RTE_MIN(best[0], t[0]);
			best[1] = RTE_MIN(best[1], t[1]);
			best_cpu = RTE_MIN(best_cpu, t[2]);
		}
	}
	dp_stats_sum(dp, &st);
	{
		uint64_t drops = 0, fwd = st.forwarded, expect;
		double per_w;
		struct flow_stats fsx;
		unsigned i;

		for (i = 1; i < PKT_DROP_MAX; i++) {
			drops += st.drops[i];
			if (st.drops[i])
				fprintf(stderr, "bench-worker: drop %s: %lu\n", pkt_drop_name(i),
					(unsigned long)st.drops[i]);
		}
		expect = (uint64_t)(rounds * passes + 1) * (2 * n_data - n_refused);
		flow_stats_get(dp->flows, &fsx);
		hz = (double)rte_get_tsc_hz();
		pkts = (double)passes * 2 * n_data;
		per_w = pkts / n_workers;   /* a round lasts from the first start to the last end */
		printf("workload %s%s, %u flows (%u sessions), %u packets per round, best of %u rounds, "
		       "%u worker(s) on lcores %s\n", wl,
		       vlan_hw ? " (802.1Q tagged, device offloads)" : vtag[0] ? " (802.1Q tagged)" : "", flows, (unsigned)fsx.alloc, (unsigned)pkts, rounds,
		       n_workers, lcores);
		printf("  dpnat     %7.1f cycles/pkt  %6.1f ns/pkt  %7.2f Mpps\n", best[0] / per_w,
		       best[0] / per_w * 1e9 / hz, pkts / (best[0] / hz) / 1e6);
		printf("  io only   %7.1f cycles/pkt  %6.1f ns/pkt  %7.2f Mpps\n", best[1] / per_w,
		       best[1] / per_w * 1e9 / hz, pkts / (best[1] / hz) / 1e6);
		printf("  dpnat CPU %7.1f ns/pkt (the workers' threads, best round)\n", best_cpu / pkts);
		printf("  own cost  %7.1f cycles/pkt  %6.1f ns/pkt\n", ((double)best[0] - (double)best[1]) / per_w,
		       ((double)best[0] - (double)best[1]) / per_w * 1e9 / hz);
		printf("  forwarded %lu of %lu, drops %lu\n", (unsigned long)fwd, (unsigned long)expect,
		       (unsigned long)drops);
		if (n_refused != 0) {
			double fwd_round = (double)passes * (2 * n_data - n_refused);

			printf("  refused   %u of %u packets a round (%.2f %%): the rest at %.2f Mpps\n",
			       passes * n_refused, (unsigned)pkts, 100.0 * n_refused / (2 * n_data),
			       fwd_round / (best[0] / hz) / 1e6);
			/* The refusals are the drops: exactly one nat-no-port per refused packet. */
			if (st.drops[PKT_DROP_NAT_NO_PORT] != (uint64_t)(rounds * passes + 1) * n_refused)
				die("not every refused packet was refused for want of a port");
			drops -= st.drops[PKT_DROP_NAT_NO_PORT];
		}
		if (drops != 0 || fwd != expect)
			die("packets were dropped or lost: the figures are not valid");
	}
	return 0;
}
