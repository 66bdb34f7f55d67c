/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's life (app/dpnat/init.c): dp_create builds it from a
 * configuration and returns an error instead of leaving the process;
 * dp_destroy gives back everything it took. The DPDK heap's allocated bytes
 * must come back to where they were, round after round, also after a
 * create that failed half-way (pools and tables already made). The
 * interfaces have no port: DPDK 22.11's virtual devices keep memory of
 * their own after close (net_null a dummy packet per queue, net_ring its
 * rings), which would hide ours; tests/unit/test_worker_paths.c and
 * tests/fuzz/fuzz_worker.c build dataplanes with ports.
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
#include <rte_malloc.h>

#include "dp.h"
#include "dp_harness.h"
#include "eal_rundir.h"

static const char conf_text[] =
	"set interface \"trust\" zone \"Trust\"\n"
	"set interface \"untrust\" zone \"Untrust\"\n"
	"set interface trust ip 60.60.60.1/24\n"
	"set interface trust nat\n"
	"set interface untrust ip 172.19.51.234/23\n"
	"set interface untrust route\n"
	"set interface untrust dip 4 172.19.51.100 172.19.51.101\n"
	"set route 0.0.0.0/0 interface untrust gateway 172.19.50.1\n"
	"set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" nat src dip-id 4 permit\n"
	"set arp 172.19.50.1 02:00:00:00:01:01 untrust\n"
	"set session max 256\n"
	"set alg pptp xlate max 64\n"
	"set mbuf max 2048\n";

/* Bytes allocated from the DPDK heap, every socket. */
static size_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;
	size_t sum = 0;
	unsigned i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

/* Create and destroy twice: the second round finds the names free and the heap where it was. */
static void
test_create_destroy_twice(void **state)
{
	size_t before;
	unsigned round;

	(void)state;
	for (round = 0; round < 2; round++) {
		struct dp *dp;

		before = heap_used();
		dp = dp_harness_up("life", conf_text, 1);
		assert_non_null(dp);
		assert_ptr_equal(dp->workers[0].dp, dp);
		assert_true(route_iface_by_name(dp->rt, "untrust") >= 0);
		assert_true(heap_used() > before);
		dp_harness_down(dp);
		assert_int_equal(heap_used(), before);
	}
}

/* A configuration dp_create cannot build: an error, no exit, nothing left behind. */
static void
test_create_fails_cleanly(void **state)
{
	struct dp_params p = { .conf_text = NULL, .conf_name = "life", .n_workers = 1 };
	char text[sizeof(conf_text) + 64], err[CONF_ERR_LEN] = "";
	size_t before = heap_used();

	(void)state;
	/* A port that does not exist: the pools and tables are made first. */
	snprintf(text, sizeof(text), "%sset interface untrust port net_ring9\n", conf_text);
	p.conf_text = text;
	assert_null(dp_create(&p, err, sizeof(err)));
	assert_non_null(strstr(err, "port net_ring9 does not exist"));
	assert_int_equal(heap_used(), before);
	/* More workers than lcores is refused before anything is built. */
	p.n_workers = DP_MAX_WORKERS + 1;
	assert_null(dp_create(&p, err, sizeof(err)));
	assert_non_null(strstr(err, "too many workers"));
	assert_int_equal(heap_used(), before);
	/* A configuration that does not load: its error. */
	p.n_workers = 1;
	p.conf_text = "set interface trust bogus\n";
	assert_null(dp_create(&p, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_int_equal(heap_used(), before);
}

int
main(void)
{
	char prefix[64];
	char *eal[] = { "test_dp_life", "--no-huge", "--no-shconf", "-m", "512", "--no-pci",
			"--no-telemetry", "--log-level=error", "--file-prefix", prefix, "-l", "0" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy_twice),
		cmocka_unit_test(test_create_fails_cleanly),
	};

	snprintf(prefix, sizeof(prefix), "test_dp_life_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		return 1;
	eal_rundir_remove_at_exit();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
