/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every flow owned by one worker (issue 16), on the real worker path: the
 * dataplane on two net_ring ports with one queue per worker, taken as fed
 * by dpnat's RSS (dpnat -r), each packet handed to the worker whose queue a
 * NIC with dpnat's key and table would put it on (rte_softrss over the
 * packet's tuple), the translated packet read back from that worker's
 * transmit queue, and the reply from the server sent the same way with the
 * public port dpnat chose. At 2, 4 and 8 workers: every reply reaches the
 * worker that made the session (0 non-owner packets, get worker's count);
 * in fallback mode (no -r: no RSS classes) the same traffic shows them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dp_harness.h"
#include "eal_rundir.h"
#include "frames.h"
#include "rss.h"
#include "softrss.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define PUBLIC   IP4(172, 19, 51, 234)
#define N_CLIENTS 8
#define N_FLOWS  400
#define RETA     128     /* a common device's table: the queue is the same for any size >= workers */

static struct dp *dp;
static unsigned vdev_next;   /* net_ring ports are used once: a closed one is gone */

/* What a NIC with dpnat's key and table does: the RX queue of an IPv4 TCP/UDP packet. */
static uint16_t
nic_queue(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint16_t nq)
{
	return rss_queue(softrss_l4(src, dst, sport, dport), RETA, nq);
}

static struct dp *
up(unsigned n_workers, bool rss, const char *extra)
{
	char conf[2048];
	int len, i;

	len = snprintf(conf, sizeof(conf),
		       "set interface \"trust\" zone \"Trust\"\n"
		       "set interface \"untrust\" zone \"Untrust\"\n"
		       "set interface trust ip 60.60.60.1/24\n"
		       "set interface trust nat\n"
		       "set interface untrust ip 172.19.51.234/23\n"
		       "set interface untrust route\n"
		       "set interface trust port net_ring%u\n"
		       "set interface untrust port net_ring%u\n"
		       "set route 0.0.0.0/0 interface untrust gateway 172.19.50.1\n"
		       "%s"   /* before policy 1: policies match in order */
		       "set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit\n"
		       "set arp 172.19.50.1 02:00:00:00:01:01 untrust\n"
		       "set session max 4096\n"
		       "set mbuf max 4096\n", vdev_next, vdev_next + 1, extra);
	for (i = 0; i < N_CLIENTS; i++)
		len += snprintf(conf + len, sizeof(conf) - (size_t)len,
				"set arp 60.60.60.%d 02:00:00:00:00:%02x trust\n", 2 + i, 2 + i);
	vdev_next += 2;
	return dp_harness_up_rss("test_rss_paths", conf, n_workers, rss);
}

/* One frame through worker w on interface iface; the frame it sent on port out, queue w, or NULL. */
static struct rte_mbuf *
through(unsigned w, unsigned iface, const uint8_t *b, uint16_t len, unsigned out)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool), *got[8];
	uint16_t n, k;

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, len), b, len);
	dp_worker_burst(dp, &dp->workers[w], iface, &m, 1);
	n = rte_eth_rx_burst(dp->ports[out].pi.port_id, (uint16_t)w, got, RTE_DIM(got));
	for (k = 1; k < n; k++)
		rte_pktmbuf_free(got[k]);
	return n > 0 ? got[0] : NULL;
}

/* A UDP datagram or a TCP SYN (reply: SYN-ACK) of src:sp -> dst:dpt, to the MAC of iface. */
static uint16_t
frame(uint8_t *b, size_t cap, unsigned iface, bool tcp, bool reply, uint32_t src, uint32_t dst,
      uint16_t sp, uint16_t dpt)
{
	const struct rte_ether_addr *mac = &route_iface_get(dp->rt, iface)->mac;
	uint8_t *u;

	if (tcp)
		return frame_tcp(b, cap, mac, src, dst, sp, dpt, reply ? 5000 : 1000, reply ? 1001 : 0,
				 reply ? (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) : RTE_TCP_SYN_FLAG,
				 NULL, 0);
	u = frame_ip4(b, cap, mac, src, dst, IPPROTO_UDP, 8 + 8);
	u[0] = (uint8_t)(sp >> 8);
	u[1] = (uint8_t)sp;
	u[2] = (uint8_t)(dpt >> 8);
	u[3] = (uint8_t)dpt;
	u[5] = 16;
	return 14 + 20 + 16;
}

struct run {
	uint64_t non_owner;        /* get worker's non-owner packets, all workers */
	uint64_t created;          /* sessions made, all workers */
	unsigned replies;          /* replies that reached the client */
	unsigned on_creator;       /* replies the NIC put on the session's creator */
};

/* N_FLOWS UDP and TCP flows and their replies through n_workers workers. */
static void
run_flows(unsigned n_workers, bool rss, struct run *r)
{
	unsigned trust, untrust, i, w;

	memset(r, 0, sizeof(*r));
	dp = up(n_workers, rss, "");
	assert_non_null(dp);
	trust = (unsigned)route_iface_by_name(dp->rt, "trust");
	untrust = (unsigned)route_iface_by_name(dp->rt, "untrust");
	assert_int_equal(dp->ports[trust].pi.nb_rxq, n_workers);
	assert_int_equal(dp->ports[untrust].pi.rss_mode,
			 rss && rss_queues_ok(n_workers) ? PORT_RSS_OWNED : PORT_RSS_FALLBACK);
	for (i = 0; i < N_FLOWS; i++) {
		bool tcp = i & 1;
		uint32_t cli = IP4(60, 60, 60, 2 + i % N_CLIENTS), srv = IP4(198, 51, 100, 1 + i % 3);   /* beyond the gateway */
		uint16_t cport = (uint16_t)(20000 + i * 7), sport = i % 4 == 0 ? 53 : 443, pub;
		uint16_t q = nic_queue(cli, srv, cport, sport, (uint16_t)n_workers), q2;
		uint8_t b[128];
		struct rte_mbuf *m;
		uint16_t len;

		len = frame(b, sizeof(b), trust, tcp, false, cli, srv, cport, sport);
		m = through(q, trust, b, len, untrust);
		assert_non_null(m);
		pub = be16_at(m, 14 + 20);
		assert_int_equal(be32_at(m, 14 + 12),
				 PUBLIC);
		rte_pktmbuf_free(m);
		q2 = nic_queue(srv, PUBLIC, sport, pub, (uint16_t)n_workers);
		r->on_creator += q2 == q;
		len = frame(b, sizeof(b), untrust, tcp, true, srv, PUBLIC, sport, pub);
		m = through(q2, untrust, b, len, trust);
		if (m != NULL) {
			r->replies++;
			assert_int_equal(be16_at(m, 14 + 22), cport);
			rte_pktmbuf_free(m);
		}
	}
	for (w = 0; w < n_workers; w++) {
		r->non_owner += dp->workers[w].st.hits_foreign;
		r->created += dp->workers[w].st.created;
	}
	dp_harness_down(dp);
	dp = NULL;
}

/* Owned: every reply on its creator, none a non-owner packet, at 2, 4 and 8 workers. */
static void
test_owned_no_non_owner(void **state)
{
	static const unsigned nw[] = { 2, 4, 8 };
	unsigned i;

	(void)state;
	for (i = 0; i < RTE_DIM(nw); i++) {
		struct run r;

		run_flows(nw[i], true, &r);
		printf("# %u workers, owned: %u/%u replies on their creator, %lu non-owner packets\n",
		       nw[i], r.on_creator, N_FLOWS, (unsigned long)r.non_owner);
		assert_int_equal(r.created, N_FLOWS);
		assert_int_equal(r.replies, N_FLOWS);
		assert_int_equal(r.on_creator, N_FLOWS);
		assert_int_equal(r.non_owner, 0);
	}
}

/* Fallback (the device's spreading, no classes): the same traffic is correct but counted. */
static void
test_fallback_counts_non_owner(void **state)
{
	struct run r;

	(void)state;
	run_flows(4, false, &r);
	printf("# 4 workers, fallback: %u/%u replies on their creator, %lu non-owner packets\n",
	       r.on_creator, N_FLOWS, (unsigned long)r.non_owner);
	assert_int_equal(r.replies, N_FLOWS);
	assert_true(r.on_creator < N_FLOWS);
	assert_int_equal(r.non_owner, N_FLOWS - r.on_creator);
}

/*
 * PPTP (issue 16's GRE decision): NICs hash GRE by addresses alone, so the
 * server's GRE to a call reaches the worker that made its control connection
 * only if the public address is chosen for it: from a DIP pool of 8, each
 * control connection gets an address whose (server, address) hash lands on
 * its creator's queue, and a port whose TCP reply does too.
 */
static void
test_pptp_dip_address_per_worker(void **state)
{
	static const char pool[] =
		"set interface untrust dip 5 172.19.51.100 172.19.51.107\n"
		"set policy id 2 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"PPTP\" permit nat src dip-id 5\n";
	unsigned trust, untrust, i, n_workers = 4, ok = 0;
	static struct rss_tbl tbl;

	(void)state;
	rss_tbl_init(&tbl, rss_key, RSS_KEY_LEN);
	dp = up(n_workers, true, pool);
	assert_non_null(dp);
	trust = (unsigned)route_iface_by_name(dp->rt, "trust");
	untrust = (unsigned)route_iface_by_name(dp->rt, "untrust");
	for (i = 0; i < 64; i++) {
		uint32_t cli = IP4(60, 60, 60, 2 + i % N_CLIENTS), srv = IP4(198, 51, 100, 1 + i % 5);
		uint16_t cport = (uint16_t)(30000 + i), q = nic_queue(cli, srv, cport, 1723,
								     (uint16_t)n_workers);
		uint8_t b[128];
		struct rte_mbuf *m;
		uint32_t pub;
		uint16_t pport, len;

		len = frame(b, sizeof(b), trust, true, false, cli, srv, cport, 1723);
		m = through(q, trust, b, len, untrust);
		assert_non_null(m);
		pub = be32_at(m, 14 + 12);
		pport = be16_at(m, 14 + 20);
		rte_pktmbuf_free(m);
		assert_true(pub >= IP4(172, 19, 51, 100) && pub <= IP4(172, 19, 51, 107));
		/* The server's GRE (addresses alone) and its TCP (with ports) both reach the creator. */
		ok += rss_queue(rss_hash_ip(&tbl, rte_cpu_to_be_32(srv), rte_cpu_to_be_32(pub)), RETA,
				(uint16_t)n_workers) == q;
		assert_int_equal(nic_queue(srv, pub, 1723, pport, (uint16_t)n_workers), q);
	}
	printf("# PPTP, 4 workers, DIP pool of 8: %u/64 control connections on an address whose GRE reaches their creator\n",
	       ok);
	assert_int_equal(ok, 64);
	dp_harness_down(dp);
	dp = NULL;
}

/* -r never makes up queues: 3 workers (not a power of two) stay in fallback, and are served. */
static void
test_assume_needs_power_of_two(void **state)
{
	struct run r;

	(void)state;
	dp = up(3, true, "");
	assert_non_null(dp);
	assert_int_equal(dp->ports[route_iface_by_name(dp->rt, "untrust")].pi.rss_mode,
			 PORT_RSS_FALLBACK);
	assert_string_equal(dp->ports[route_iface_by_name(dp->rt, "untrust")].pi.rss_why,
			    "workers not a power of two");
	dp_harness_down(dp);
	dp = NULL;
	run_flows(3, true, &r);
	assert_int_equal(r.replies, N_FLOWS);
	assert_int_equal(r.non_owner, N_FLOWS - r.on_creator);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "--no-shconf", "-m", "256", "--no-pci", "--no-telemetry",
			"--log-level=error", "--vdev=net_ring0", "--vdev=net_ring1", "--vdev=net_ring2",
			"--vdev=net_ring3", "--vdev=net_ring4", "--vdev=net_ring5", "--vdev=net_ring6",
			"--vdev=net_ring7", "--vdev=net_ring8", "--vdev=net_ring9", "--vdev=net_ring10", "--vdev=net_ring11",
			"--vdev=net_ring12", "--vdev=net_ring13", "--file-prefix", prefix, "-l", "0" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owned_no_non_owner),
		cmocka_unit_test(test_fallback_counts_non_owner),
		cmocka_unit_test(test_pptp_dip_address_per_worker),
		cmocka_unit_test(test_assume_needs_power_of_two),
	};

	(void)argc;
	snprintf(prefix, sizeof(prefix), "test_rss_paths_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		return 1;
	eal_rundir_remove_at_exit();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
