/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-source counts (lib/nat/nat_src.h), the fragment tracker (lib/nat/nat_frag.h)
 * and the endpoint-independent mappings (lib/nat/nat_map.h).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_memory.h>
#include <rte_random.h>

#include "nat_frag.h"
#include "nat_map.h"
#include "nat_src.h"

#define IP(a, b, c, d) RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int
setup_eal(void **state)
{
	char *argv[] = { "test_nat_tables", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--no-telemetry", "-l", "0", "--log-level=error" };

	(void)state;
	return rte_eal_init((int)RTE_DIM(argv), argv) < 0 ? -1 : 0;
}

static void
test_src_limit(void **state)
{
	struct nat_src *t = nat_src_create("t_src", 16, SOCKET_ID_ANY);
	struct nat_src_entry top[4];
	struct nat_src_stats st;
	unsigned i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 3; i++)
		assert_int_equal(nat_src_take(t, IP(10, 0, 0, 1), 3), 0);
	/* The fourth is refused; another host is not concerned. */
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 1), 3), -EDQUOT);
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 2), 3), 0);
	assert_int_equal(nat_src_count(t, IP(10, 0, 0, 1)), 3);
	/* A lower limit set later refuses without taking anything back. */
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 1), 2), -EDQUOT);
	nat_src_put(t, IP(10, 0, 0, 1));
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 1), 3), 0);
	nat_src_stats_get(t, &st);
	assert_int_equal(st.sources, 2);
	assert_int_equal(st.units, 4);
	assert_int_equal(st.refused_limit, 2);
	assert_int_equal(st.refused_full, 0);
	assert_int_equal(nat_src_top(t, top, 4), 2);
	assert_int_equal(top[0].ip, 0x0a000001);
	assert_int_equal(top[0].count, 3);
	assert_int_equal(top[1].ip, 0x0a000002);
	assert_int_equal(top[1].count, 1);
	assert_int_equal(nat_src_top(t, top, 1), 1);
	assert_int_equal(top[0].count, 3);
	/* Back to nothing: the slots are free again. */
	for (i = 0; i < 3; i++)
		nat_src_put(t, IP(10, 0, 0, 1));
	nat_src_put(t, IP(10, 0, 0, 2));
	nat_src_put(t, IP(10, 0, 0, 9));   /* never counted: ignored */
	nat_src_stats_get(t, &st);
	assert_int_equal(st.sources, 0);
	assert_int_equal(st.units, 0);
	assert_int_equal(nat_src_top(t, top, 4), 0);
	nat_src_free(t);
}

static void
test_src_full(void **state)
{
	struct nat_src *t = nat_src_create("t_src_full", 2, SOCKET_ID_ANY);
	struct nat_src_stats st;
	uint32_t i, n = 100000, refused = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 1), 10), 0);
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 2), 10), 0);
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 3), 10), -ENOSPC);
	/* A host already counted still gets more. */
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 1), 10), 0);
	nat_src_put(t, IP(10, 0, 0, 2));
	assert_int_equal(nat_src_take(t, IP(10, 0, 0, 3), 10), 0);
	nat_src_stats_get(t, &st);
	assert_int_equal(st.refused_full, 1);
	nat_src_free(t);

	/* Sized for n sources, n distinct sources fit (two choices, at most 3/4 full). */
	t = nat_src_create("t_src_n", n, SOCKET_ID_ANY);
	assert_non_null(t);
	for (i = 0; i < n; i++)
		refused += nat_src_take(t, rte_cpu_to_be_32(0x0a000000 + i * 2654435761u % 0xffffff), 1) != 0;
	nat_src_stats_get(t, &st);
	print_message("%u distinct sources in a table for %u: %u refused\n", n, n, refused);
	assert_int_equal(refused, 0);
	/* What a session create + free adds (a figure for docs/reliability.md, not a check):
	 * a host's first session, then a host that holds others. */
	nat_src_free(t);
	t = nat_src_create("t_src_time", 65536, SOCKET_ID_ANY);
	assert_non_null(t);
	for (n = 0; n < 2; n++) {
		uint64_t t0;

		for (i = 0; n == 1 && i < 4096; i++)
			assert_int_equal(nat_src_take(t, rte_cpu_to_be_32(0x0b000000 + i), 100), 0);
		t0 = rte_get_tsc_cycles();
		for (i = 0; i < 1000000; i++) {
			rte_be32_t ip = rte_cpu_to_be_32(0x0b000000 + (i & 0xfff));

			if (nat_src_take(t, ip, 100) == 0)
				nat_src_put(t, ip);
		}
		print_message("take + put, %s: %.1f ns\n", n == 0 ? "first of its host" : "host holds others",
			      (double)(rte_get_tsc_cycles() - t0) * 1e9 / (double)rte_get_tsc_hz() / 1e6);
	}
	nat_src_free(t);
}

/* Several threads take and give back on a few hosts: no update is lost, no limit passed. */
struct src_thr {
	struct nat_src *t;
	unsigned seed;
	uint32_t held[8];
	uint32_t taken;
};

#define SRC_LIMIT 50

static void *
src_worker(void *arg)
{
	struct src_thr *a = arg;
	unsigned i;

	for (i = 0; i < 200000; i++) {
		unsigned h = (unsigned)rand_r(&a->seed) % 8;

		if (rand_r(&a->seed) % 3 == 0 && a->held[h] > 0) {
			nat_src_put(a->t, IP(10, 1, 0, h));
			a->held[h]--;
		} else if (nat_src_take(a->t, IP(10, 1, 0, h), SRC_LIMIT) == 0) {
			a->held[h]++;
			a->taken++;
		}
	}
	return NULL;
}

static void
test_src_concurrent(void **state)
{
	struct nat_src *t = nat_src_create("t_src_mt", 64, SOCKET_ID_ANY);
	struct src_thr thr[4];
	pthread_t th[4];
	struct nat_src_stats st;
	uint32_t sum[8] = { 0 };
	unsigned i, h;

	(void)state;
	assert_non_null(t);
	memset(thr, 0, sizeof(thr));
	for (i = 0; i < 4; i++) {
		thr[i].t = t;
		thr[i].seed = i + 1;
		assert_int_equal(pthread_create(&th[i], NULL, src_worker, &thr[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++)
		for (h = 0; h < 8; h++)
			sum[h] += thr[i].held[h];
	for (h = 0; h < 8; h++) {
		assert_true(sum[h] <= SRC_LIMIT);
		assert_int_equal(nat_src_count(t, IP(10, 1, 0, h)), sum[h]);
	}
	/* All given back: nothing left. */
	for (i = 0; i < 4; i++)
		for (h = 0; h < 8; h++)
			while (thr[i].held[h]-- > 0)
				nat_src_put(t, IP(10, 1, 0, h));
	nat_src_stats_get(t, &st);
	assert_int_equal(st.units, 0);
	assert_int_equal(st.sources, 0);
	assert_true(st.refused_limit > 0);
	nat_src_free(t);
}

static const struct nat_frag_key K1 = { IP(60, 60, 60, 2), IP(172, 19, 50, 129), 0x1234, 17, 0 };

static void
test_frag_follow_complete(void **state)
{
	struct nat_frag *f = nat_frag_create("t_frag", 8, SOCKET_ID_ANY);
	struct nat_frag_xlate x = { IP(172, 19, 51, 234), IP(172, 19, 50, 129), 2 }, y;
	struct nat_frag_key other = K1;
	struct nat_frag_stats st;

	(void)state;
	assert_non_null(f);
	/* 3008 bytes: 1480 + 1480 + 48; the middle and last in any order. */
	assert_int_equal(nat_frag_learn(f, &K1, &x, 1480, 100), 0);
	assert_int_equal(nat_frag_follow(f, &K1, 2, 2960, 48, false, 100, &y), 0);
	assert_memory_equal(&x, &y, sizeof(x));
	nat_frag_stats_get(f, &st);
	assert_int_equal(st.used, 1);
	/* From another interface: refused, and it ends nothing. */
	assert_int_equal(nat_frag_follow(f, &K1, 1, 1480, 1480, true, 100, &y), -EXDEV);
	/* Another datagram (IP ID) is not tracked. */
	other.id = 0x1235;
	assert_int_equal(nat_frag_follow(f, &other, 2, 1480, 1480, true, 100, &y), -ENOENT);
	assert_int_equal(nat_frag_follow(f, &K1, 2, 1480, 1480, true, 101, &y), 0);
	nat_frag_stats_get(f, &st);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.created, 1);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.followed, 2);
	assert_int_equal(st.untracked, 1);
	/* Once complete, a late copy is untracked. */
	assert_int_equal(nat_frag_follow(f, &K1, 2, 1480, 1480, true, 101, &y), -ENOENT);
	nat_frag_free(f);
}

static void
test_frag_full_and_timeout(void **state)
{
	struct nat_frag *f = nat_frag_create("t_frag_full", 2, SOCKET_ID_ANY);
	struct nat_frag_xlate x = { IP(1, 1, 1, 1), IP(2, 2, 2, 2), 1 }, y;
	struct nat_frag_key k = K1;
	struct nat_frag_stats st;

	(void)state;
	assert_non_null(f);
	nat_frag_set_timeout(f, 5);
	assert_int_equal(nat_frag_learn(f, &k, &x, 8, 10), 0);
	k.id = 2;
	assert_int_equal(nat_frag_learn(f, &k, &x, 8, 10), 0);
	k.id = 3;
	assert_int_equal(nat_frag_learn(f, &k, &x, 8, 10), -ENOSPC);
	/* The same datagram again replaces its entry, and takes no room. */
	k.id = 2;
	assert_int_equal(nat_frag_learn(f, &k, &x, 8, 11), 0);
	nat_frag_stats_get(f, &st);
	assert_int_equal(st.used, 2);
	assert_int_equal(st.failed, 1);
	/* Past the timeout the entries are gone: the ager takes them back. */
	assert_int_equal(nat_frag_follow(f, &K1, 1, 8, 8, true, 16, &y), -ENOENT);
	nat_frag_age(f, 17, 1u << 20);
	nat_frag_stats_get(f, &st);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.timed_out, 2);
	k.id = 3;
	assert_int_equal(nat_frag_learn(f, &k, &x, 8, 17), 0);
	nat_frag_free(f);
}

/*
 * Issue 18: a mapping is found by its inside and by its public endpoint,
 * counted by references; the last reference frees it and its port; a full
 * table refuses and counts; an add that finds one made meanwhile takes it;
 * slots and chains are reused after frees.
 */
static void
test_map_life(void **state)
{
	struct nat_table *nt = nat_create("t_map_nat", 1, 4, SOCKET_ID_ANY);
	struct nat_map *m;
	struct nat_map_stats st;
	struct nat_map_info mi[8];
	struct nat_addr_info ai;
	rte_be32_t pub, ip;
	rte_be16_t pp, port;
	uint16_t pol;
	uint32_t pos = 0;
	int idx, p1, p2, i;

	(void)state;
	assert_non_null(nt);
	idx = nat_addr_add(nt, 0xc0000201);   /* 192.0.2.1 */
	assert_true(idx >= 0);
	m = nat_map_create("t_map", nt, 2, SOCKET_ID_ANY);
	assert_non_null(m);
	assert_int_equal(nat_map_take_in(m, 17, IP(10, 0, 0, 1), RTE_BE16(5000), &pub, &pp), -ENOENT);
	p1 = nat_port_alloc(nt, (unsigned)idx, 0);
	pub = IP(192, 0, 2, 1);
	pp = rte_cpu_to_be_16((uint16_t)p1);
	assert_int_equal(nat_map_add(m, 17, IP(10, 0, 0, 1), RTE_BE16(5000), &pub, &pp, 7, 100), 0);
	/* The same endpoint, added again (another worker's race): that one, referenced. */
	p2 = nat_port_alloc(nt, (unsigned)idx, 0);
	pp = rte_cpu_to_be_16((uint16_t)p2);
	assert_int_equal(nat_map_add(m, 17, IP(10, 0, 0, 1), RTE_BE16(5000), &pub, &pp, 7, 100), 1);
	assert_int_equal(rte_be_to_cpu_16(pp), p1);
	assert_int_equal(nat_port_free(nt, 0xc0000201, (uint16_t)p2), 0);
	/* Found by its inside endpoint (not another protocol's) and by its public one. */
	assert_int_equal(nat_map_take_in(m, 17, IP(10, 0, 0, 1), RTE_BE16(5000), &pub, &pp), 0);
	assert_int_equal(rte_be_to_cpu_16(pp), p1);
	assert_int_equal(nat_map_take_in(m, 6, IP(10, 0, 0, 1), RTE_BE16(5000), &pub, &pp), -ENOENT);
	assert_int_equal(nat_map_take_pub(m, 17, IP(192, 0, 2, 1), rte_cpu_to_be_16((uint16_t)p1),
					  &ip, &port, &pol, false), 0);
	assert_int_equal(ip, IP(10, 0, 0, 1));
	assert_int_equal(port, RTE_BE16(5000));
	assert_int_equal(pol, 7);
	assert_int_equal(nat_map_take_pub(m, 17, IP(192, 0, 2, 1), rte_cpu_to_be_16((uint16_t)(p1 + 1)),
					  &ip, &port, &pol, true), -ENOENT);
	assert_int_equal(nat_map_list(m, &pos, mi, RTE_DIM(mi)), 1);
	assert_int_equal(mi[0].refs, 4);
	/* A second mapping fills the table; a third is refused and counted. */
	pp = RTE_BE16(2000);
	assert_int_equal(nat_port_take(nt, (unsigned)idx, 2000), 0);
	assert_int_equal(nat_port_take(nt, (unsigned)idx, 2000), -EBUSY);
	assert_int_equal(nat_map_add(m, 1, IP(10, 0, 0, 2), RTE_BE16(9), &pub, &pp, 1, 101), 0);
	pp = RTE_BE16(2001);
	assert_int_equal(nat_map_add(m, 17, IP(10, 0, 0, 3), RTE_BE16(9), &pub, &pp, 1, 101), -ENOSPC);
	nat_map_stats(m, &st);
	assert_int_equal(st.used, 2);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.reused, 2);
	assert_int_equal(st.inbound, 1);
	/* Three of four references go: alive. The fourth: gone, its port free. */
	for (i = 0; i < 3; i++)
		nat_map_put(m, 17, IP(10, 0, 0, 1), RTE_BE16(5000));
	assert_int_equal(nat_map_take_pub(m, 17, IP(192, 0, 2, 1), rte_cpu_to_be_16((uint16_t)p1),
					  &ip, &port, &pol, false), 0);
	nat_map_put(m, 17, IP(10, 0, 0, 1), RTE_BE16(5000));
	nat_map_put(m, 17, IP(10, 0, 0, 1), RTE_BE16(5000));
	assert_int_equal(nat_map_take_pub(m, 17, IP(192, 0, 2, 1), rte_cpu_to_be_16((uint16_t)p1),
					  &ip, &port, &pol, false), -ENOENT);
	assert_int_equal(nat_port_free(nt, 0xc0000201, (uint16_t)p1), -ENOENT);   /* freed already */
	nat_map_put(m, 1, IP(10, 0, 0, 2), RTE_BE16(9));
	nat_addr_info(nt, (unsigned)idx, &ai);
	assert_int_equal(ai.used, 0);
	/* The freed slots serve again, many times over. */
	for (i = 0; i < 1000; i++) {
		pp = RTE_BE16(3000);
		assert_int_equal(nat_port_take(nt, (unsigned)idx, 3000), 0);
		assert_int_equal(nat_map_add(m, 17, IP(10, 0, 1, 1), rte_cpu_to_be_16((uint16_t)i), &pub,
					     &pp, 1, 0), 0);
		nat_map_put(m, 17, IP(10, 0, 1, 1), rte_cpu_to_be_16((uint16_t)i));
	}
	nat_map_stats(m, &st);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.created, st.freed);
	nat_map_free(m);
	nat_free(nt);
}

/* Issue 18: the view's walk reads a bounded number of slots per call and finds every mapping. */
static void
test_map_list_bounded(void **state)
{
	struct nat_table *nt = nat_create("t_map_nat2", 1, 4, SOCKET_ID_ANY);
	struct nat_map *m;
	struct nat_map_info mi[64];
	rte_be32_t pub = IP(192, 0, 2, 2);
	rte_be16_t pp;
	uint32_t pos = 0, prev;
	unsigned i, seen = 0, calls = 0;

	(void)state;
	assert_non_null(nt);
	assert_true(nat_addr_add(nt, 0xc0000202) >= 0);
	m = nat_map_create("t_map2", nt, 5000, SOCKET_ID_ANY);
	assert_non_null(m);
	for (i = 0; i < 3000; i++) {
		pp = rte_cpu_to_be_16((uint16_t)(2000 + i));
		assert_int_equal(nat_map_add(m, 17, IP(10, 1, i >> 8, i & 255), RTE_BE16(53), &pub, &pp, 1, 0), 0);
	}
	while (pos < 5000) {
		prev = pos;
		seen += nat_map_list(m, &pos, mi, RTE_DIM(mi));
		assert_true(pos > prev && pos - prev <= NAT_MAP_LIST_SLOTS);
		calls++;
	}
	assert_int_equal(seen, 3000);
	assert_true(calls >= 3000 / 64);
	nat_map_free(m);
	nat_free(nt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_src_limit),
		cmocka_unit_test(test_src_full),
		cmocka_unit_test(test_src_concurrent),
		cmocka_unit_test(test_frag_follow_complete),
		cmocka_unit_test(test_frag_full_and_timeout),
		cmocka_unit_test(test_map_life),
		cmocka_unit_test(test_map_list_bounded),
	};

	return cmocka_run_group_tests(tests, setup_eal, NULL);
}
