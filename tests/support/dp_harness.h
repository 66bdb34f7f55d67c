/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bring up the real dataplane in-process for a harness or benchmark that
 * drives dp_worker_burst itself: the configuration text loaded and
 * validated, n_workers workers on the EAL's lcores in order, dp_setup, the
 * calling thread registered as RCU reader 0, one housekeeping tick.
 */
#ifndef DPNAT_TEST_DP_HARNESS_H
#define DPNAT_TEST_DP_HARNESS_H

#include <stdio.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"

/** The dataplane built from conf_text (rte_eal_init done), or NULL with the reason on stderr. */
static inline __attribute__((unused)) struct dp *
dp_harness_up(const char *name, const char *conf_text, unsigned n_workers)
{
	char err[CONF_ERR_LEN];
	struct dp *dp = rte_zmalloc("dpnat", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	unsigned lc, w = 0;

	if (dp == NULL)
		return NULL;
	g_dp = dp;
	conf_init(&dp->conf);
	if (conf_load_string(&dp->conf, name, conf_text, err, sizeof(err)) != 0 ||
	    conf_validate(&dp->conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	dp->n_workers = n_workers;
	RTE_LCORE_FOREACH(lc) {
		if (w < n_workers)
			dp->workers[w++].lcore = lc;
	}
	dp->hz = rte_get_tsc_hz();
	dp->start_tsc = rte_get_tsc_cycles() - 100 * dp->hz;
	dp_setup(dp);
	rte_rcu_qsbr_thread_register(dp->qsbr, 0);
	rte_rcu_qsbr_thread_online(dp->qsbr, 0);
	dp_sessions_tick(dp);
	return dp;
}

#endif /* DPNAT_TEST_DP_HARNESS_H */
