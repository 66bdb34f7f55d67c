/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bring up the real dataplane in-process for a harness or benchmark that
 * drives dp_worker_burst itself: dp_create from the configuration text, with
 * n_workers workers on the EAL's lcores in order and the clock at 100 s, the
 * calling thread registered as RCU reader 0, one housekeeping tick.
 * dp_harness_down takes the reader off and frees it all (dp_destroy).
 */
#ifndef DPNAT_TEST_DP_HARNESS_H
#define DPNAT_TEST_DP_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "dp.h"
#include "dp_session.h"

/**
 * The dataplane built from conf_text (rte_eal_init done), or NULL with the
 * reason on stderr; rss_assume: multi-queue ports taken as fed by dpnat's
 * RSS (dpnat -r).
 */
static inline __attribute__((unused)) struct dp *
dp_harness_up_rss(const char *name, const char *conf_text, unsigned n_workers, bool rss_assume)
{
	const struct dp_params p = { .conf_text = conf_text, .conf_name = name,
				     .n_workers = n_workers, .clock_s = 100,
				     .rss_assume = rss_assume };
	char err[CONF_ERR_LEN];
	struct dp *dp = dp_create(&p, err, sizeof(err));

	if (dp == NULL) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	rte_rcu_qsbr_thread_register(dp->qsbr, 0);
	rte_rcu_qsbr_thread_online(dp->qsbr, 0);
	dp_sessions_tick(dp);
	return dp;
}

/** dp_harness_up_rss without -r. */
static inline __attribute__((unused)) struct dp *
dp_harness_up(const char *name, const char *conf_text, unsigned n_workers)
{
	return dp_harness_up_rss(name, conf_text, n_workers, false);
}

/** Take the calling thread off as RCU reader 0 and free the dataplane of dp_harness_up. */
static inline __attribute__((unused)) void
dp_harness_down(struct dp *dp)
{
	rte_rcu_qsbr_thread_offline(dp->qsbr, 0);
	rte_rcu_qsbr_thread_unregister(dp->qsbr, 0);
	dp_destroy(dp);
}

/** The big-endian 16-bit field at offset off of m's first segment, host order (unaligned). */
static inline __attribute__((unused)) uint16_t
be16_at(const struct rte_mbuf *m, unsigned off)
{
	rte_be16_t v;

	memcpy(&v, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), sizeof(v));
	return rte_be_to_cpu_16(v);
}

/** The big-endian 32-bit field at offset off of m's first segment, host order (unaligned). */
static inline __attribute__((unused)) uint32_t
be32_at(const struct rte_mbuf *m, unsigned off)
{
	rte_be32_t v;

	memcpy(&v, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), sizeof(v));
	return rte_be_to_cpu_32(v);
}

#endif /* DPNAT_TEST_DP_HARNESS_H */
