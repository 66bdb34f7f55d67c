/* SPDX-License-Identifier: BSD-3-Clause */
/* The counted reclamation queue (lib/rcu/rcu_defer.h): what it promises. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "eal_rundir.h"
#include "rcu_defer.h"

static int
setup_eal(void **state)
{
	char *argv[] = { "test_rcu", "--no-huge", "--no-shconf", "-m", "128", "--no-pci",
			 "--no-telemetry", "--log-level=error", "--file-prefix=dpnat_test_rcu", "-l", "0" };

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	eal_rundir_remove_at_exit();
	return 0;
}

static int
teardown_eal(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

/* What free_fn was given back, in order. */
static uint32_t given[64];
static unsigned n_given;

static void
give(void *arg, void *elems, unsigned int n)
{
	const uint32_t *e = elems;
	unsigned i;

	assert_ptr_equal(arg, given);
	for (i = 0; i < n && n_given < RTE_DIM(given); i++)
		given[n_given++] = e[i];
}

/*
 * With a reader that has not passed a quiescent state nothing comes back; a
 * full queue refuses at once and counts it (no spin, no silent leak); after
 * the reader's quiescent state everything deferred comes back, in order.
 */
static void
test_grace_full_and_counts(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *q = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	struct rcu_defer_stats st;
	struct rcu_defer *d;
	uint32_t i, ok = 0;

	(void)state;
	assert_non_null(q);
	assert_int_equal(rte_rcu_qsbr_init(q, 1), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(q, 0), 0);
	rte_rcu_qsbr_thread_online(q, 0);
	n_given = 0;
	d = rcu_defer_create("t_rcu_full", q, 3, sizeof(uint32_t), false, give, given, SOCKET_ID_ANY);
	assert_non_null(d);
	for (i = 0; i < 32; i++) {
		int rc = rcu_defer(d, &i);

		if (rc == -ENOSPC)
			break;
		assert_int_equal(rc, 0);
		ok++;
	}
	assert_true(ok >= 3 && ok < 32);
	assert_int_equal(rcu_defer_reclaim(d), 0);
	assert_int_equal(n_given, 0);
	rcu_defer_stats_get(d, &st);
	assert_int_equal(st.deferred, ok);
	assert_int_equal(st.freed, 0);
	assert_int_equal(st.failed, 1);
	rte_rcu_qsbr_quiescent(q, 0);
	assert_int_equal(rcu_defer_reclaim(d), ok);
	assert_int_equal(n_given, ok);
	for (i = 0; i < ok; i++)
		assert_int_equal(given[i], i);
	rcu_defer_stats_get(d, &st);
	assert_int_equal(st.freed, ok);
	rcu_defer_free(d);
	rte_rcu_qsbr_thread_offline(q, 0);
	rte_rcu_qsbr_thread_unregister(q, 0);
	rte_free(q);
}

/* Without a qsbr (no other reader) an element comes back at once, counted the same way. */
static void
test_no_readers(void **state)
{
	struct rcu_defer_stats st;
	struct rcu_defer *d;
	uint32_t e = 7;

	(void)state;
	n_given = 0;
	d = rcu_defer_create("t_rcu_none", NULL, 4, sizeof(uint32_t), true, give, given, SOCKET_ID_ANY);
	assert_non_null(d);
	assert_int_equal(rcu_defer(d, &e), 0);
	assert_int_equal(n_given, 1);
	assert_int_equal(given[0], 7);
	rcu_defer_stats_get(d, &st);
	assert_int_equal(st.deferred, 1);
	assert_int_equal(st.freed, 1);
	assert_int_equal(st.failed, 0);
	assert_null(rcu_defer_create("t_rcu_bad", NULL, 4, 3, true, give, given, SOCKET_ID_ANY));
	rcu_defer_free(d);
	rcu_defer_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grace_full_and_counts),
		cmocka_unit_test(test_no_readers),
	};

	return cmocka_run_group_tests(tests, setup_eal, teardown_eal);
}
