/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RSS-aware translation (lib/rss, lib/nat's RSS classes, issue 16): the
 * table-driven Toeplitz hash equals DPDK's rte_softrss and a bit-by-bit
 * reference, and a public port chosen for a flow on worker w makes the
 * reply's hash land on queue w through dpnat's redirection table, at 2, 4,
 * 8 and 16 workers and every table size devices report.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_random.h>
#include <rte_thash.h>

#include "nat.h"
#include "rss.h"
#include "softrss.h"

static int
setup_eal(void **state)
{
	char *argv[] = { "test_rss", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 "--no-telemetry", "-l", "0", "--log-level=error" };

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	rte_srand(16);
	return 0;
}

/* DPDK's generator, seeded in setup_eal: the same flows every run. */
static uint32_t
rnd(void)
{
	return (uint32_t)rte_rand();
}

/* The table hash, the bit-by-bit reference and rte_softrss agree on 100000 random tuples. */
static void
test_hash_matches_softrss(void **state)
{
	static struct rss_tbl tbl;
	unsigned i;

	(void)state;
	rss_tbl_init(&tbl, rss_key, RSS_KEY_LEN);
	for (i = 0; i < 100000; i++) {
		uint32_t s = rnd() << 16 ^ rnd(), d = rnd() << 16 ^ rnd();
		uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();
		uint8_t bytes[RSS_TUPLE_LEN];
		rte_be32_t bs = rte_cpu_to_be_32(s), bd = rte_cpu_to_be_32(d);
		rte_be16_t bsp = rte_cpu_to_be_16(sp), bdp = rte_cpu_to_be_16(dp);
		uint32_t h = rss_hash_l4(&tbl, bs, bd, bsp, bdp);
		union rte_thash_tuple t;

		memcpy(bytes, &bs, 4);
		memcpy(bytes + 4, &bd, 4);
		memcpy(bytes + 8, &bsp, 2);
		memcpy(bytes + 10, &bdp, 2);
		assert_int_equal(h, softrss_l4(s, d, sp, dp));
		assert_int_equal(h, rss_hash_ref(rss_key, bytes, RSS_TUPLE_LEN));
		memset(&t, 0, sizeof(t));
		t.v4.src_addr = s;
		t.v4.dst_addr = d;
		assert_int_equal(rss_hash_ip(&tbl, bs, bd),
				 rte_softrss((uint32_t *)&t, RTE_THASH_V4_L3_LEN, rss_key));
	}
}

/* The key splits the public ports into classes of equal size for 2 to 16 queues. */
static void
test_classes_equal(void **state)
{
	static struct rss_tbl tbl;
	unsigned q, p;

	(void)state;
	rss_tbl_init(&tbl, rss_key, RSS_KEY_LEN);
	for (q = 2; q <= 16; q *= 2) {
		unsigned n[16] = { 0 }, c;

		for (p = NAT_PORT_MIN; p <= NAT_PORT_MAX; p++)
			n[rss_dport_part(&tbl, (uint16_t)p) & (q - 1)]++;
		for (c = 0; c < q; c++)
			assert_int_equal(n[c], (NAT_PORT_MAX - NAT_PORT_MIN + 1) / q);
	}
}

/*
 * For random flows on random workers: the reply (server to public address
 * and the chosen port) hashes, by rte_softrss through dpnat's table of every
 * size, to the creating worker's queue - until a worker's slice of a class
 * runs out. Ports go back and come again; none is handed out twice.
 */
static void
test_reply_lands_on_creator(void **state)
{
	static const unsigned workers[] = { 2, 4, 8, 16 };
	static const uint32_t reta_sizes[] = { 64, 128, 512 };
	unsigned wi;

	(void)state;
	for (wi = 0; wi < RTE_DIM(workers); wi++) {
		unsigned nw = workers[wi], i, r;
		struct nat_table *nt = nat_create("t_rss", nw, 4, 0);
		uint32_t pub = 0xc6336401 + wi;   /* 198.51.100.x */
		static uint8_t used[65536];
		struct nat_addr_info info;
		int idx;

		assert_non_null(nt);
		assert_int_equal(nat_set_rss(nt, rss_key, nw), 0);
		assert_int_equal(nat_set_rss(nt, rss_key, nw), -EINVAL);   /* once */
		idx = nat_addr_add(nt, pub);
		assert_true(idx >= 0);
		memset(used, 0, sizeof(used));
		for (i = 0; i < 20000; i++) {
			unsigned w = rnd() % nw;
			uint32_t srv = 0x0a000000 | (rnd() % 64);     /* few servers: classes fill */
			uint16_t sport = (uint16_t)(rnd() % 4 == 0 ? 53 : 443);
			unsigned cls = nat_port_class(nt, w, rte_cpu_to_be_32(srv), rte_cpu_to_be_32(pub),
						      rte_cpu_to_be_16(sport));
			int p = nat_port_alloc_cls(nt, (unsigned)idx, w, cls);

			assert_true(p >= NAT_PORT_MIN && p <= NAT_PORT_MAX);
			assert_int_equal(used[p], 0);
			used[p] = 1;
			assert_int_equal(nat_port_class_of(nt, (uint16_t)p), cls);
			for (r = 0; r < RTE_DIM(reta_sizes); r++)
				assert_int_equal(rss_queue(softrss_l4(srv, pub, sport, (uint16_t)p),
							   reta_sizes[r], (uint16_t)nw), w);
			/* Half go back: reuse must keep the classes right too. */
			if (rnd() & 1) {
				assert_int_equal(nat_port_free(nt, pub, (uint16_t)p), 0);
				used[p] = 0;
			}
		}
		nat_addr_info(nt, (unsigned)idx, &info);
		assert_int_equal(info.spilled, 0);
		assert_int_equal(info.failed, 0);
		nat_free(nt);
	}
}

/*
 * A worker's slice of one class exhausted: the next port comes from another
 * class (counted as spilled) rather than a refusal; when every class of the
 * worker is empty, a counted refusal; every free finds its own slice again.
 */
static void
test_class_spill_and_refusal(void **state)
{
	struct nat_table *nt = nat_create("t_rss2", 4, 1, 0);
	unsigned per = (NAT_PORT_MAX - NAT_PORT_MIN + 1) / 4 / 4, n = 0, k;
	struct nat_addr_info info;
	static int got[65536];
	int p;

	(void)state;
	assert_int_equal(nat_set_rss(nt, rss_key, 4), 0);
	assert_int_equal(nat_addr_add(nt, 0x0a000001), 0);
	while ((p = nat_port_alloc_cls(nt, 0, 1, 2)) >= 0) {
		if (n < per)
			assert_int_equal(nat_port_class_of(nt, (uint16_t)p), 2);
		got[n++] = p;
	}
	assert_int_equal(p, -ENOSPC);
	assert_int_equal(n, 4 * per);                 /* worker 1's share of every class */
	nat_addr_info(nt, 0, &info);
	assert_int_equal(info.spilled, 3 * per);
	assert_int_equal(info.failed, 1);
	assert_true(nat_port_alloc_cls(nt, 0, 0, 2) >= 0);   /* other workers untouched */
	for (k = 0; k < n; k++)
		assert_int_equal(nat_port_free(nt, 0x0a000001, (uint16_t)got[k]), 0);
	for (k = 0; k < per; k++)
		assert_int_equal(nat_port_class_of(nt, (uint16_t)nat_port_alloc_cls(nt, 0, 1, 2)), 2);
	nat_free(nt);
}

/*
 * The calls that take or give back a port outside a worker's own slice
 * (a port block's or deterministic range's, a preserved source port, a
 * port an HA peer reserved) count it in the slice its class and worker
 * put it in, with RSS classes as without: after a round of each and the
 * ports given back, exhausting every (class, worker) slice hands out every
 * port exactly once. A slice counted wrongly would refuse early, or go
 * looking for ports it does not have.
 */
static void
test_ports_outside_slices_counted(void **state)
{
	static uint8_t seen[65536];
	unsigned ncls, c, w, total, k;
	uint32_t cursor = 0;
	int p, range[64];

	(void)state;
	for (ncls = 1; ncls <= 4; ncls *= 4) {
		struct nat_table *nt = nat_create("t_rss3", 4, 1, 0);

		if (ncls > 1)
			assert_int_equal(nat_set_rss(nt, rss_key, ncls), 0);
		assert_int_equal(nat_addr_add(nt, 0x0a000002), 0);
		for (k = 0; k < 64; k++) {
			range[k] = nat_port_alloc_range(nt, 0, 20000, 64, &cursor);
			assert_true(range[k] >= 20000 && range[k] < 20064);
		}
		assert_int_equal(nat_port_alloc_range(nt, 0, 20000, 64, &cursor), -ENOSPC);
		assert_int_equal(nat_port_take(nt, 0, 30001), 0);
		assert_int_equal(nat_port_take(nt, 0, 30001), -EBUSY);
		assert_int_equal(nat_port_reserve(nt, 0x0a000002, 40002), 0);
		assert_int_equal(nat_port_reserve(nt, 0x0a000002, 40002), -EEXIST);
		for (k = 0; k < 64; k++)
			assert_int_equal(nat_port_free(nt, 0x0a000002, (uint16_t)range[k]), 0);
		assert_int_equal(nat_port_free(nt, 0x0a000002, 30001), 0);
		assert_int_equal(nat_port_free(nt, 0x0a000002, 40002), 0);
		memset(seen, 0, sizeof(seen));
		total = 0;
		for (c = 0; c < ncls; c++)
			for (w = 0; w < 4; w++)
				while ((p = ncls > 1 ? nat_port_alloc_cls(nt, 0, w, c) : nat_port_alloc(nt, 0, w)) >= 0) {
					assert_true(p >= NAT_PORT_MIN && p <= NAT_PORT_MAX);
					assert_int_equal(seen[p], 0);
					seen[p] = 1;
					total++;
				}
		assert_int_equal(total, NAT_PORT_MAX - NAT_PORT_MIN + 1);
		nat_free(nt);
	}
}

#define VECTORS DPNAT_SRCDIR "/tests/unit/golden/rss_vectors.txt"

/*
 * 64 tuples and their rte_softrss hashes, as tests/unit/golden/rss_vectors.txt
 * holds them: the test tooling's Toeplitz in Python (tests/integration/
 * softrss.py) is checked against the same file (test_rss.py).
 * DPNAT_GOLDEN_WRITE=1 rewrites it.
 */
static void
test_vectors_file(void **state)
{
	char want[64 * 80], line[80];
	size_t len = 0;
	unsigned i;
	FILE *f;

	(void)state;
	rte_srand(1601);
	for (i = 0; i < 64; i++) {
		uint32_t s = (uint32_t)rte_rand(), d = (uint32_t)rte_rand();
		uint16_t sp = (uint16_t)rte_rand(), dp = (uint16_t)rte_rand();

		snprintf(line, sizeof(line), "%u.%u.%u.%u %u.%u.%u.%u %u %u %08x\n", s >> 24,
			 (s >> 16) & 255, (s >> 8) & 255, s & 255, d >> 24, (d >> 16) & 255,
			 (d >> 8) & 255, d & 255, sp, dp, softrss_l4(s, d, sp, dp));
		memcpy(want + len, line, strlen(line));
		len += strlen(line);
	}
	want[len] = '\0';
	if (getenv("DPNAT_GOLDEN_WRITE") != NULL) {
		f = fopen(VECTORS, "w");
		assert_non_null(f);
		fputs(want, f);
		fclose(f);
	}
	f = fopen(VECTORS, "r");
	assert_non_null(f);
	{
		char got[sizeof(want)];
		size_t n = fread(got, 1, sizeof(got) - 1, f);

		got[n] = '\0';
		fclose(f);
		assert_string_equal(got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_matches_softrss),
		cmocka_unit_test(test_classes_equal),
		cmocka_unit_test(test_reply_lands_on_creator),
		cmocka_unit_test(test_class_spill_and_refusal),
		cmocka_unit_test(test_ports_outside_slices_counted),
		cmocka_unit_test(test_vectors_file),
	};

	return cmocka_run_group_tests(tests, setup_eal, NULL);
}
