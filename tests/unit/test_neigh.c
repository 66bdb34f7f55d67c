/* SPDX-License-Identifier: BSD-3-Clause */
/* The neighbour table's promises (lib/route/neigh.h), failures included. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "eal_rundir.h"
#include "neigh.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static struct rte_mempool *pool;

static int
setup_eal(void **state)
{
	char *argv[] = { "test_neigh", "--no-huge", "--no-shconf", "-m", "256", "--no-pci",
			 "--no-telemetry", "--log-level=error", "--file-prefix=dpnat_test_neigh",
			 "-l", "0" };

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	eal_rundir_remove_at_exit();
	/* No per-lcore cache, so the available count is exact. */
	pool = rte_pktmbuf_pool_create("t_neigh_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	return pool == NULL ? -1 : 0;
}

static int
teardown_eal(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static struct rte_mbuf *
mbuf(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	return m;
}

static struct rte_ether_addr
mac_of(uint8_t last)
{
	struct rte_ether_addr a = { { 0x02, 0x00, 0x5e, 0x10, 0x20, last } };

	return a;
}

static void
expect_mac(const struct neigh_table *t, uint8_t iface, uint32_t ip, uint8_t last)
{
	struct rte_ether_addr got, want = mac_of(last);

	assert_int_equal(neigh_lookup(t, iface, ip, &got), 0);
	assert_memory_equal(got.addr_bytes, want.addr_bytes, RTE_ETHER_ADDR_LEN);
}

static void
expect_miss(const struct neigh_table *t, uint8_t iface, uint32_t ip)
{
	struct rte_ether_addr got;

	assert_int_equal(neigh_lookup(t, iface, ip, &got), -ENOENT);
}

/* Learn a dynamic entry (create=true) at time now. */
static int
learn(struct neigh_table *t, uint8_t iface, uint32_t ip, uint8_t last, uint64_t now)
{
	struct rte_ether_addr m = mac_of(last);
	unsigned n = 99;
	int rc = neigh_update(t, iface, ip, &m, false, true, now, NULL, 0, &n);

	assert_int_equal(n, 0);
	return rc;
}

static uint32_t
used_of(const struct neigh_table *t)
{
	uint32_t used, max;

	neigh_usage(t, &used, &max);
	return used;
}

/* Lookups miss until an entry is learnt, and are per (iface, ip). */
static void
test_lookup(void **state)
{
	struct neigh_table *t = neigh_create("n_lookup", 16, 4, 60, NULL, SOCKET_ID_ANY);
	struct rte_ether_addr m = mac_of(1);
	struct neigh_stats st;
	uint32_t used, max;

	(void)state;
	assert_non_null(t);
	assert_null(neigh_create("n_lookup0", 0, 4, 60, NULL, SOCKET_ID_ANY));
	neigh_usage(t, &used, &max);
	assert_int_equal(used, 0);
	assert_int_equal(max, 16);
	expect_miss(t, 0, IP(10, 0, 0, 1));
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 1), 1, 100), 0);
	expect_mac(t, 0, IP(10, 0, 0, 1), 1);
	expect_miss(t, 1, IP(10, 0, 0, 1));
	expect_miss(t, 0, IP(10, 0, 0, 2));
	/* A new MAC for the same neighbour replaces the old one. */
	m = mac_of(2);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1), &m, false, false, 101, NULL, 0, NULL), 0);
	expect_mac(t, 0, IP(10, 0, 0, 1), 2);
	assert_int_equal(learn(t, 1, IP(10, 0, 0, 1), 3, 100), 0);
	expect_mac(t, 1, IP(10, 0, 0, 1), 3);
	expect_mac(t, 0, IP(10, 0, 0, 1), 2);
	assert_int_equal(used_of(t), 2);
	neigh_stats_get(t, &st);
	assert_int_equal(st.learnt, 2);
	neigh_free(t);
	neigh_free(NULL);
}

/* The generation moves on every MAC or state change, and only then. */
static void
test_generation(void **state)
{
	struct neigh_table *t = neigh_create("n_gen", 16, 4, 10, NULL, SOCKET_ID_ANY);
	struct rte_ether_addr m;
	uint32_t g;

	(void)state;
	assert_non_null(t);
	g = neigh_generation(t);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 1), 1, 100), 0);
	assert_int_not_equal(neigh_generation(t), g);
	g = neigh_generation(t);
	/* A refresh with the same MAC changes nothing a cached lookup depends on. */
	m = mac_of(1);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1), &m, false, false, 105, NULL, 0, NULL), 0);
	assert_int_equal(neigh_generation(t), g);
	/* A new MAC does. */
	m = mac_of(7);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1), &m, false, false, 106, NULL, 0, NULL), 0);
	assert_int_not_equal(neigh_generation(t), g);
	g = neigh_generation(t);
	/* So do deletion and expiry. */
	assert_int_equal(neigh_del(t, 0, IP(10, 0, 0, 1)), 0);
	assert_int_not_equal(neigh_generation(t), g);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 2), 2, 100), 0);
	g = neigh_generation(t);
	neigh_tick(t, 200, NULL, NULL);
	expect_miss(t, 0, IP(10, 0, 0, 2));
	assert_int_not_equal(neigh_generation(t), g);
	neigh_free(t);
}

/* The first packet asks for a request, later ones wait; the queue is bounded. */
static void
test_queue(void **state)
{
	struct neigh_table *t = neigh_create("n_queue", 16, 4, 60, NULL, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool), i;
	struct rte_mbuf *m[5];
	struct neigh_stats st;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 5; i++)
		m[i] = mbuf();
	assert_int_equal(neigh_queue(t, 2, IP(10, 0, 0, 9), m[0], 100), 1);
	assert_int_equal(neigh_queue(t, 2, IP(10, 0, 0, 9), m[1], 100), 0);
	assert_int_equal(neigh_queue(t, 2, IP(10, 0, 0, 9), m[2], 100), 0);
	assert_int_equal(neigh_queue(t, 2, IP(10, 0, 0, 9), m[3], 100), 0);
	/* Still unresolved: workers keep missing. */
	expect_miss(t, 2, IP(10, 0, 0, 9));
	assert_int_equal(used_of(t), 1);
	/* Queue (4) full: m NOT taken. */
	assert_int_equal(neigh_queue(t, 2, IP(10, 0, 0, 9), m[4], 100), -ENOSPC);
	neigh_stats_get(t, &st);
	assert_int_equal(st.queue_full, 1);
	assert_int_equal(st.requests_sent, 1);
	assert_int_equal(st.table_full, 0);
	rte_pktmbuf_free(m[4]);
	/* Another neighbour gets its own entry and request. */
	m[4] = mbuf();
	assert_int_equal(neigh_queue(t, 2, IP(10, 0, 0, 10), m[4], 100), 1);
	assert_int_equal(used_of(t), 2);
	/* Freeing the table frees what waits. */
	neigh_free(t);
	assert_int_equal(rte_mempool_avail_count(pool), base);
}

/* A queue length above the cap is capped at 16. */
static void
test_queue_cap(void **state)
{
	struct neigh_table *t = neigh_create("n_qcap", 4, 1000, 60, NULL, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool), i;
	struct neigh_stats st;
	struct rte_mbuf *extra;

	(void)state;
	assert_non_null(t);
	assert_int_equal(neigh_queue(t, 0, IP(10, 0, 0, 1), mbuf(), 1), 1);
	for (i = 1; i < 16; i++)
		assert_int_equal(neigh_queue(t, 0, IP(10, 0, 0, 1), mbuf(), 1), 0);
	extra = mbuf();
	assert_int_equal(neigh_queue(t, 0, IP(10, 0, 0, 1), extra, 1), -ENOSPC);
	rte_pktmbuf_free(extra);
	assert_int_equal(neigh_flush(t), 1);
	assert_int_equal(rte_mempool_avail_count(pool), base);
	/* the 16 packets the flush freed are counted, as removed, not failed */
	neigh_stats_get(t, &st);
	assert_int_equal(st.removed_pkts, 16);
	assert_int_equal(st.failed_pkts, 0);
	assert_int_equal(st.queue_full, 1);
	neigh_free(t);
}

/* An answer releases the waiting packets, in order, into out[]. */
static void
test_update_releases(void **state)
{
	struct neigh_table *t = neigh_create("n_rel", 16, 4, 60, NULL, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool), n = 99, i;
	struct rte_mbuf *m[4], *out[8], *extra;
	struct rte_ether_addr mac = mac_of(7);
	struct neigh_stats st;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 3; i++)
		m[i] = mbuf();
	assert_int_equal(neigh_queue(t, 1, IP(10, 0, 0, 7), m[0], 100), 1);
	assert_int_equal(neigh_queue(t, 1, IP(10, 0, 0, 7), m[1], 100), 0);
	assert_int_equal(neigh_queue(t, 1, IP(10, 0, 0, 7), m[2], 100), 0);
	/* A reply to our request: create=false still updates the pending entry. */
	memset(out, 0, sizeof(out));
	assert_int_equal(neigh_update(t, 1, IP(10, 0, 0, 7), &mac, false, false, 101, out,
				      RTE_DIM(out), &n), 0);
	assert_int_equal(n, 3);
	assert_ptr_equal(out[0], m[0]);
	assert_ptr_equal(out[1], m[1]);
	assert_ptr_equal(out[2], m[2]);
	assert_null(out[3]);
	expect_mac(t, 1, IP(10, 0, 0, 7), 7);
	neigh_stats_get(t, &st);
	assert_int_equal(st.learnt, 1);
	/* Resolved now: the caller sends the packet itself. */
	extra = mbuf();
	assert_int_equal(neigh_queue(t, 1, IP(10, 0, 0, 7), extra, 101), -EEXIST);
	rte_pktmbuf_free(extra);
	/* A refresh releases nothing more. */
	n = 99;
	assert_int_equal(neigh_update(t, 1, IP(10, 0, 0, 7), &mac, false, true, 102, out,
				      RTE_DIM(out), &n), 0);
	assert_int_equal(n, 0);
	for (i = 0; i < 3; i++)
		rte_pktmbuf_free(m[i]);
	assert_int_equal(rte_mempool_avail_count(pool), base);

	/* More waiting than out[] holds: the rest are freed and counted. */
	for (i = 0; i < 4; i++)
		assert_int_equal(neigh_queue(t, 1, IP(10, 0, 0, 8), m[i] = mbuf(), 100), i == 0);
	n = 99;
	mac = mac_of(8);
	assert_int_equal(neigh_update(t, 1, IP(10, 0, 0, 8), &mac, false, false, 101, out, 1, &n),
			 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(out[0], m[0]);
	rte_pktmbuf_free(out[0]);
	assert_int_equal(rte_mempool_avail_count(pool), base);
	neigh_stats_get(t, &st);
	assert_int_equal(st.queue_full, 3);
	assert_int_equal(st.learnt, 2);
	neigh_free(t);
}

/* RFC 826: without create, only entries already there are updated. */
static void
test_rfc826_no_create(void **state)
{
	struct neigh_table *t = neigh_create("n_rfc", 16, 4, 60, NULL, SOCKET_ID_ANY);
	struct rte_ether_addr mac = mac_of(5);
	struct neigh_stats st;
	unsigned n = 99;

	(void)state;
	assert_non_null(t);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 5), &mac, false, false, 100, NULL, 0, &n),
			 -ENOENT);
	assert_int_equal(n, 0);
	expect_miss(t, 0, IP(10, 0, 0, 5));
	assert_int_equal(used_of(t), 0);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 5), 5, 100), 0);
	mac = mac_of(6);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 5), &mac, false, false, 100, NULL, 0, &n),
			 0);
	expect_mac(t, 0, IP(10, 0, 0, 5), 6);
	/* Other interface: not the same entry. */
	assert_int_equal(neigh_update(t, 1, IP(10, 0, 0, 5), &mac, false, false, 100, NULL, 0, &n),
			 -ENOENT);
	assert_int_equal(used_of(t), 1);
	neigh_stats_get(t, &st);
	assert_int_equal(st.learnt, 1);
	neigh_free(t);
}

struct walk_rec {
	unsigned n, stop_after;
	struct neigh_info ni[16];
};

static int
walk_cb(const struct neigh_info *ni, void *arg)
{
	struct walk_rec *w = arg;

	if (w->n < RTE_DIM(w->ni))
		w->ni[w->n] = *ni;
	w->n++;
	return w->stop_after != 0 && w->n >= w->stop_after;
}

static const struct neigh_info *
walk_find(const struct walk_rec *w, uint32_t ip)
{
	unsigned i;

	for (i = 0; i < w->n && i < RTE_DIM(w->ni); i++)
		if (w->ni[i].ip == ip)
			return &w->ni[i];
	return NULL;
}

/* Static entries never age and ARP does not change them; flush keeps them. */
static void
test_static(void **state)
{
	struct neigh_table *t = neigh_create("n_static", 16, 4, 10, NULL, SOCKET_ID_ANY);
	struct rte_ether_addr mac = mac_of(0x51);
	const struct neigh_info *ni;
	struct walk_rec w;
	unsigned n;

	(void)state;
	assert_non_null(t);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1), &mac, true, true, 0, NULL, 0, &n), 0);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 2), 0x52, 0), 0);
	expect_mac(t, 0, IP(10, 0, 0, 1), 0x51);
	/* Dynamic updates, create or not, leave it alone. */
	mac = mac_of(0x66);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1), &mac, false, true, 5, NULL, 0, &n), 0);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1), &mac, false, false, 5, NULL, 0, &n), 0);
	expect_mac(t, 0, IP(10, 0, 0, 1), 0x51);
	/* A resolved entry takes no packets. */
	{
		struct rte_mbuf *m = mbuf();

		assert_int_equal(neigh_queue(t, 0, IP(10, 0, 0, 1), m, 5), -EEXIST);
		rte_pktmbuf_free(m);
	}
	/* Far in the future: the dynamic one ages, the static one stays. */
	neigh_tick(t, 1000, NULL, NULL);
	expect_mac(t, 0, IP(10, 0, 0, 1), 0x51);
	expect_miss(t, 0, IP(10, 0, 0, 2));
	memset(&w, 0, sizeof(w));
	neigh_walk(t, 5000, walk_cb, &w);
	assert_int_equal(w.n, 1);
	ni = walk_find(&w, IP(10, 0, 0, 1));
	assert_non_null(ni);
	assert_int_equal(ni->state, NEIGH_STATIC);
	assert_int_equal(ni->age, 0);
	/* A static update may change it. */
	mac = mac_of(0x77);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1), &mac, true, false, 6, NULL, 0, &n), 0);
	expect_mac(t, 0, IP(10, 0, 0, 1), 0x77);
	/* A dynamic entry can be made static. */
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 3), 0x53, 1000), 0);
	mac = mac_of(0x53);
	assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 3), &mac, true, false, 1000, NULL, 0, &n),
			 0);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 4), 0x54, 1000), 0);
	assert_int_equal(neigh_flush(t), 1);
	expect_mac(t, 0, IP(10, 0, 0, 1), 0x77);
	expect_mac(t, 0, IP(10, 0, 0, 3), 0x53);
	expect_miss(t, 0, IP(10, 0, 0, 4));
	assert_int_equal(used_of(t), 2);
	assert_int_equal(neigh_flush(t), 0);
	/* neigh_del removes any state, static included. */
	assert_int_equal(neigh_del(t, 0, IP(10, 0, 0, 3)), 0);
	assert_int_equal(neigh_del(t, 0, IP(10, 0, 0, 3)), -ENOENT);
	expect_miss(t, 0, IP(10, 0, 0, 3));
	assert_int_equal(used_of(t), 1);
	neigh_free(t);
}

/* Dynamic entries expire once they are timeout seconds old; a refresh restarts the clock. */
static void
test_ageing(void **state)
{
	struct neigh_table *t = neigh_create("n_age", 16, 4, 10, NULL, SOCKET_ID_ANY);
	struct neigh_stats st;
	struct walk_rec w;

	(void)state;
	assert_non_null(t);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 1), 1, 100), 0);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 2), 2, 100), 0);
	neigh_tick(t, 105, NULL, NULL);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 2), 2, 105), 0);   /* refresh */
	neigh_tick(t, 109, NULL, NULL);
	expect_mac(t, 0, IP(10, 0, 0, 1), 1);
	memset(&w, 0, sizeof(w));
	neigh_walk(t, 109, walk_cb, &w);
	assert_int_equal(w.n, 2);
	assert_int_equal(walk_find(&w, IP(10, 0, 0, 1))->age, 9);
	assert_int_equal(walk_find(&w, IP(10, 0, 0, 2))->age, 4);
	assert_int_equal(walk_find(&w, IP(10, 0, 0, 1))->state, NEIGH_REACHABLE);
	neigh_tick(t, 110, NULL, NULL);
	expect_miss(t, 0, IP(10, 0, 0, 1));
	expect_mac(t, 0, IP(10, 0, 0, 2), 2);
	neigh_stats_get(t, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(used_of(t), 1);
	/* A shorter timeout applies to what is there. */
	neigh_set_timeout(t, 3);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 3), 3, 110), 0);
	neigh_tick(t, 112, NULL, NULL);
	expect_miss(t, 0, IP(10, 0, 0, 2));
	expect_mac(t, 0, IP(10, 0, 0, 3), 3);
	neigh_tick(t, 113, NULL, NULL);
	expect_miss(t, 0, IP(10, 0, 0, 3));
	neigh_stats_get(t, &st);
	assert_int_equal(st.expired, 3);
	assert_int_equal(used_of(t), 0);
	neigh_free(t);
}

struct resend_rec {
	unsigned calls;
	uint8_t iface;
	uint32_t ip;
};

static void
on_resend(uint8_t iface, uint32_t ip, void *arg)
{
	struct resend_rec *r = arg;

	r->calls++;
	r->iface = iface;
	r->ip = ip;
}

/* Unanswered: three resends a second apart, then give up and free the packets. */
static void
test_retries_then_fail(void **state)
{
	struct neigh_table *t = neigh_create("n_retry", 16, 4, 60, NULL, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool);
	struct resend_rec r;
	struct neigh_stats st;
	struct walk_rec w;

	(void)state;
	assert_non_null(t);
	memset(&r, 0, sizeof(r));
	assert_int_equal(neigh_queue(t, 3, IP(10, 9, 9, 9), mbuf(), 100), 1);
	assert_int_equal(neigh_queue(t, 3, IP(10, 9, 9, 9), mbuf(), 100), 0);
	assert_true(rte_mempool_avail_count(pool) == base - 2);
	neigh_tick(t, 100, on_resend, &r);      /* same second as the first request */
	assert_int_equal(r.calls, 0);
	neigh_tick(t, 101, on_resend, &r);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.iface, 3);
	assert_int_equal(r.ip, IP(10, 9, 9, 9));
	neigh_tick(t, 101, on_resend, &r);      /* at most once a second */
	assert_int_equal(r.calls, 1);
	neigh_tick(t, 102, on_resend, &r);
	assert_int_equal(r.calls, 2);
	memset(&w, 0, sizeof(w));
	neigh_walk(t, 102, walk_cb, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.ni[0].state, NEIGH_INCOMPLETE);
	assert_int_equal(w.ni[0].queued, 2);
	assert_int_equal(w.ni[0].tries, 3);
	assert_int_equal(w.ni[0].iface, 3);
	neigh_tick(t, 103, on_resend, &r);
	assert_int_equal(r.calls, 3);
	assert_int_equal(used_of(t), 1);
	neigh_tick(t, 104, on_resend, &r);
	assert_int_equal(r.calls, 3);
	assert_int_equal(used_of(t), 0);
	expect_miss(t, 3, IP(10, 9, 9, 9));
	assert_int_equal(rte_mempool_avail_count(pool), base);
	neigh_stats_get(t, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.requests_sent, 4);
	neigh_tick(t, 105, on_resend, &r);
	neigh_tick(t, 106, on_resend, &r);
	assert_int_equal(r.calls, 3);
	/* A new packet starts a new resolution. */
	assert_int_equal(neigh_queue(t, 3, IP(10, 9, 9, 9), mbuf(), 107), 1);
	assert_int_equal(neigh_del(t, 3, IP(10, 9, 9, 9)), 0);
	assert_int_equal(rte_mempool_avail_count(pool), base);
	neigh_free(t);
}

/* No room for a new entry: -ENOSPC, counted, packet not taken. */
static void
test_table_full(void **state)
{
	struct neigh_table *t = neigh_create("n_full", 4, 4, 60, NULL, SOCKET_ID_ANY);
	unsigned base = rte_mempool_avail_count(pool), i, round;
	struct neigh_stats st;
	struct rte_mbuf *m;
	uint32_t used, max;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 4; i++)
		assert_int_equal(learn(t, 0, IP(10, 0, 0, 1 + i), (uint8_t)i, 100), 0);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 5), 5, 100), -ENOSPC);
	m = mbuf();
	assert_int_equal(neigh_queue(t, 0, IP(10, 0, 0, 6), m, 100), -ENOSPC);
	rte_pktmbuf_free(m);
	neigh_stats_get(t, &st);
	assert_int_equal(st.table_full, 2);
	neigh_usage(t, &used, &max);
	assert_int_equal(used, 4);
	assert_int_equal(max, 4);
	expect_miss(t, 0, IP(10, 0, 0, 5));
	/* Existing entries still update when full. */
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 4), 9, 101), 0);
	expect_mac(t, 0, IP(10, 0, 0, 4), 9);
	/* A delete makes room at once. */
	assert_int_equal(neigh_del(t, 0, IP(10, 0, 0, 1)), 0);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 5), 5, 101), 0);
	expect_mac(t, 0, IP(10, 0, 0, 5), 5);

	/*
	 * Many fill/flush rounds, one tick each: deleted slots are reclaimed
	 * over ticks, never lost.
	 */
	neigh_tick(t, 101, NULL, NULL);
	neigh_tick(t, 101, NULL, NULL);
	for (round = 0; round < 50; round++) {
		assert_int_equal(neigh_flush(t), 4);
		assert_int_equal(used_of(t), 0);
		for (i = 0; i < 4; i++) {
			uint32_t ip = IP(10, 1, round, i);

			if (i & 1)
				assert_int_equal(learn(t, 1, ip, (uint8_t)i, 200 + round), 0);
			else
				assert_int_equal(neigh_queue(t, 1, ip, mbuf(), 200 + round), 1);
		}
		neigh_tick(t, 200 + round, NULL, NULL);
	}
	assert_int_equal(used_of(t), 4);
	assert_int_equal(neigh_flush(t), 4);
	assert_int_equal(rte_mempool_avail_count(pool), base);
	neigh_stats_get(t, &st);
	assert_int_equal(st.table_full, 2);
	neigh_free(t);
}

/* Walk reports every entry with its state; fn can stop it. */
static void
test_walk_usage_stats(void **state)
{
	struct neigh_table *t = neigh_create("n_walk", 8, 4, 60, NULL, SOCKET_ID_ANY);
	const struct neigh_info *ni;
	struct rte_ether_addr mac = mac_of(0x31);
	struct neigh_stats st;
	struct walk_rec w;
	uint32_t used, max;
	unsigned n;

	(void)state;
	assert_non_null(t);
	assert_int_equal(learn(t, 1, IP(10, 0, 0, 1), 0x11, 100), 0);
	assert_int_equal(neigh_update(t, 2, IP(10, 0, 0, 2), &mac, true, true, 100, NULL, 0, &n), 0);
	assert_int_equal(neigh_queue(t, 3, IP(10, 0, 0, 3), mbuf(), 100), 1);
	assert_int_equal(neigh_queue(t, 3, IP(10, 0, 0, 3), mbuf(), 100), 0);
	assert_int_equal(neigh_queue(t, 3, IP(10, 0, 0, 3), mbuf(), 100), 0);

	memset(&w, 0, sizeof(w));
	neigh_walk(t, 130, walk_cb, &w);
	assert_int_equal(w.n, 3);
	ni = walk_find(&w, IP(10, 0, 0, 1));
	assert_non_null(ni);
	assert_int_equal(ni->iface, 1);
	assert_int_equal(ni->state, NEIGH_REACHABLE);
	assert_int_equal(ni->mac.addr_bytes[5], 0x11);
	assert_int_equal(ni->age, 30);
	assert_int_equal(ni->queued, 0);
	ni = walk_find(&w, IP(10, 0, 0, 2));
	assert_non_null(ni);
	assert_int_equal(ni->iface, 2);
	assert_int_equal(ni->state, NEIGH_STATIC);
	assert_int_equal(ni->mac.addr_bytes[5], 0x31);
	assert_int_equal(ni->age, 0);
	ni = walk_find(&w, IP(10, 0, 0, 3));
	assert_non_null(ni);
	assert_int_equal(ni->iface, 3);
	assert_int_equal(ni->state, NEIGH_INCOMPLETE);
	assert_int_equal(ni->queued, 3);
	assert_int_equal(ni->tries, 1);

	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	neigh_walk(t, 130, walk_cb, &w);
	assert_int_equal(w.n, 2);

	neigh_usage(t, &used, &max);
	assert_int_equal(used, 3);
	assert_int_equal(max, 8);
	neigh_stats_get(t, &st);
	assert_int_equal(st.learnt, 1);
	assert_int_equal(st.requests_sent, 1);
	assert_int_equal(st.expired, 0);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.table_full, 0);
	assert_int_equal(st.queue_full, 0);
	/* Flush drops the dynamic and pending ones (and frees their packets). */
	assert_int_equal(neigh_flush(t), 2);
	memset(&w, 0, sizeof(w));
	neigh_walk(t, 130, walk_cb, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.ni[0].ip, IP(10, 0, 0, 2));
	neigh_free(t);
}

/* A reader thread always finds the stable entries while others churn. */
struct reader_arg {
	const struct neigh_table *t;
	int started, stop;
	unsigned long lookups, errors;
};

static void *
reader(void *p)
{
	struct reader_arg *a = p;
	struct rte_ether_addr got;
	unsigned i = 0;

	__atomic_store_n(&a->started, 1, __ATOMIC_RELEASE);
	do {
		uint8_t k = (uint8_t)(i++ % 4);

		if (neigh_lookup(a->t, 0, IP(10, 0, 0, 1 + k), &got) != 0 ||
		    got.addr_bytes[5] != 0x40 + k || got.addr_bytes[0] != 0x02)
			a->errors++;
		a->lookups++;
	} while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE));
	return NULL;
}

static void
test_concurrent_reader(void **state)
{
	struct neigh_table *t = neigh_create("n_conc", 64, 4, 5, NULL, SOCKET_ID_ANY);
	struct reader_arg a;
	pthread_t th;
	unsigned i, k;

	(void)state;
	assert_non_null(t);
	for (k = 0; k < 4; k++) {
		struct rte_ether_addr mac = mac_of((uint8_t)(0x40 + k));
		unsigned n;

		assert_int_equal(neigh_update(t, 0, IP(10, 0, 0, 1 + k), &mac, true, true, 0, NULL,
					      0, &n), 0);
	}
	memset(&a, 0, sizeof(a));
	a.t = t;
	assert_int_equal(pthread_create(&th, NULL, reader, &a), 0);
	while (!__atomic_load_n(&a.started, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < 20000; i++) {
		uint32_t ip = IP(10, 2, (i >> 8) & 0xff, i & 0xff);

		assert_int_equal(learn(t, (uint8_t)(i & 1), ip, (uint8_t)i, i / 16), 0);
		if (i >= 8)
			assert_int_equal(neigh_del(t, (uint8_t)((i - 8) & 1),
						   IP(10, 2, ((i - 8) >> 8) & 0xff, (i - 8) & 0xff)), 0);
		if (i % 16 == 15)
			neigh_tick(t, i / 16, NULL, NULL);
		if (i % 64 == 0)
			sched_yield();
	}
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(a.lookups > 0);
	assert_int_equal(a.errors, 0);
	neigh_free(t);
}

/* The table's hash key, as lib/route/neigh.c lays it out: what a worker looks up. */
struct hkey {
	uint32_t ip;
	uint32_t iface;
};

/*
 * A worker found the position of 10.0.0.1 in the hash and stalls before it
 * reads the entry there. The entry is deleted and 200 other neighbours come
 * and go over many ticks: none may get that position (its entry) while the
 * worker may still read it - without the RCU it is reused two ticks later -
 * and once the worker passed a quiescent state the positions come back.
 */
static void
test_stalled_reader(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *q = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	struct neigh_table *t;
	struct rcu_defer_stats st;
	struct rte_hash *h;
	struct hkey k = { IP(10, 0, 0, 1), 0 };
	int32_t pos;
	unsigned i, added = 0;

	(void)state;
	assert_non_null(q);
	assert_int_equal(rte_rcu_qsbr_init(q, 1), 0);
	t = neigh_create("n_stall", 4, 4, 60, q, SOCKET_ID_ANY);
	assert_non_null(t);
	h = rte_hash_find_existing("n_stall");
	assert_non_null(h);
	assert_int_equal(rte_rcu_qsbr_thread_register(q, 0), 0);
	rte_rcu_qsbr_thread_online(q, 0);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 1), 1, 0), 0);
	pos = rte_hash_lookup(h, &k);   /* the worker's first half */
	assert_true(pos >= 0);
	assert_int_equal(neigh_del(t, 0, IP(10, 0, 0, 1)), 0);
	for (i = 0; i < 200; i++) {
		struct hkey n = { IP(10, 1, i >> 8, i & 0xff), 0 };

		neigh_tick(t, i, NULL, NULL);
		if (learn(t, 0, n.ip, (uint8_t)i, i) != 0)
			continue;   /* the other positions wait for the worker too */
		assert_int_not_equal(rte_hash_lookup(h, &n), pos);
		assert_int_equal(neigh_del(t, 0, n.ip), 0);
		added++;
	}
	assert_true(added > 0);
	neigh_rcu_stats(t, &st);
	assert_true(st.deferred > st.freed);
	assert_int_equal(st.failed, 0);
	rte_rcu_qsbr_quiescent(q, 0);
	neigh_tick(t, 1000, NULL, NULL);
	neigh_rcu_stats(t, &st);
	assert_int_equal(st.deferred, st.freed);
	assert_int_equal(learn(t, 0, IP(10, 0, 0, 1), 1, 1000), 0);
	rte_rcu_qsbr_thread_offline(q, 0);
	rte_rcu_qsbr_thread_unregister(q, 0);
	neigh_free(t);
	rte_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_queue_cap),
		cmocka_unit_test(test_update_releases),
		cmocka_unit_test(test_rfc826_no_create),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_ageing),
		cmocka_unit_test(test_retries_then_fail),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_walk_usage_stats),
		cmocka_unit_test(test_concurrent_reader),
		cmocka_unit_test(test_stalled_reader),
	};

	return cmocka_run_group_tests(tests, setup_eal, teardown_eal);
}
