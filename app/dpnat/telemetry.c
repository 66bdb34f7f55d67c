/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands, so dpdk-telemetry.py reads dpnat's figures next to
 * DPDK's own /ethdev/stats. Callbacks run on the telemetry thread and only
 * read counters. DPDK 22.11's callbacks take no argument: the dataplane
 * they read is the one given to dp_telemetry_init, under a lock that
 * dp_telemetry_stop takes before the dataplane is destroyed.
 */
#include <errno.h>
#include <string.h>

#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "dp.h"
#include "dp_session.h"
#include "dp_metrics.h"
#include "views.h"

static const struct dp *tm_dp;          /* NULL once stopped */
static rte_spinlock_t tm_lock = RTE_SPINLOCK_INITIALIZER;

/* Telemetry dictionary names allow letters, digits and '_': "no-route" becomes "no_route". */
static void
add_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
	char n[RTE_TEL_MAX_STRING_LEN];
	unsigned i;

	for (i = 0; name[i] != '\0' && i + 1 < sizeof(n); i++)
		n[i] = name[i] == '-' ? '_' : name[i];
	n[i] = '\0';
	rte_tel_data_add_dict_u64(d, n, v);
}

/* Fill d from the dataplane, unless it is gone (stopped): -EINVAL then. */
static int
tm_run(void (*fill)(const struct dp *dp, struct rte_tel_data *d), struct rte_tel_data *d)
{
	int rc = -EINVAL;

	rte_spinlock_lock(&tm_lock);
	if (tm_dp != NULL) {
		fill(tm_dp, d);
		rc = 0;
	}
	rte_spinlock_unlock(&tm_lock);
	return rc;
}

static void
fill_sessions(const struct dp *dp, struct rte_tel_data *d)
{
	struct flow_stats st;
	unsigned w;

	flow_stats_get(dp->flows, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "alloc", st.alloc);
	rte_tel_data_add_dict_u64(d, "max", st.max);
	rte_tel_data_add_dict_u64(d, "alloc_failed", st.alloc_failed);
	rte_tel_data_add_dict_u64(d, "created", st.created);
	rte_tel_data_add_dict_u64(d, "aged", st.aged);
	rte_tel_data_add_dict_u64(d, "cleared", st.cleared);
	rte_tel_data_add_dict_u64(d, "pending_free", st.pending_free);
	for (w = 0; w < dp->n_workers; w++) {
		char name[32];

		snprintf(name, sizeof(name), "worker%u_alloc", w);
		rte_tel_data_add_dict_u64(d, name, st.per_worker[w]);
	}
}

static int
tm_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tm_run(fill_sessions, d);
}

/* get worker's figures: per worker, then per port its RSS mode (1 owned) and table size. */
static void
fill_workers(const struct dp *dp, struct rte_tel_data *d)
{
	char name[RTE_TEL_MAX_STRING_LEN];
	unsigned w, i;

	rte_tel_data_start_dict(d);
	for (w = 0; w < dp->n_workers; w++) {
		const struct dp_stats *ws = &dp->workers[w].st;
		uint64_t rx, drops;

		dp_stats_rx_drops(ws, &rx, &drops);
		snprintf(name, sizeof(name), "worker%u_rx", w);
		rte_tel_data_add_dict_u64(d, name, rx);
		snprintf(name, sizeof(name), "worker%u_created", w);
		rte_tel_data_add_dict_u64(d, name, ws->created);
		snprintf(name, sizeof(name), "worker%u_non_owner", w);
		rte_tel_data_add_dict_u64(d, name, ws->hits_foreign);
		snprintf(name, sizeof(name), "worker%u_drops", w);
		rte_tel_data_add_dict_u64(d, name, drops);
	}
	for (i = 0; i < ROUTE_MAX_IFACES; i++) {
		if (!dp->ports[i].used)
			continue;
		snprintf(name, sizeof(name), "port%u_rss_owned", dp->ports[i].pi.port_id);
		rte_tel_data_add_dict_u64(d, name, dp->ports[i].pi.rss_mode == PORT_RSS_OWNED);
		snprintf(name, sizeof(name), "port%u_reta_size", dp->ports[i].pi.port_id);
		rte_tel_data_add_dict_u64(d, name, dp->ports[i].pi.reta_size);
	}
}

static int
tm_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tm_run(fill_workers, d);
}

static void
fill_counters(const struct dp *dp, struct rte_tel_data *d)
{
	struct dp_stats sum;
	unsigned i;

	dp_stats_sum(dp, &sum);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "forwarded", sum.forwarded);
	rte_tel_data_add_dict_u64(d, "punted", sum.punted);
	for (i = 1; i < PKT_DROP_MAX; i++)
		add_u64(d, pkt_drop_name(i), sum.drops[i]);
}

static int
tm_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tm_run(fill_counters, d);
}

static void
fill_pptp(const struct dp *dp, struct rte_tel_data *d)
{
	struct pptp_stats st;
	unsigned i;

	/* Counters only: the entries themselves belong to the control lcore (get alg pptp xlate). */
	pptp_stats_get(dp->pptp, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "enabled", dp->conf.alg_pptp);
	rte_tel_data_add_dict_u64(d, "xlate_used", st.xlate_used);
	rte_tel_data_add_dict_u64(d, "xlate_max", st.xlate_max);
	rte_tel_data_add_dict_u64(d, "failed", st.failed);
	rte_tel_data_add_dict_u64(d, "calls_opened", st.calls_opened);
	rte_tel_data_add_dict_u64(d, "calls_closed", st.calls_closed);
	rte_tel_data_add_dict_u64(d, "gates_opened", st.gates_opened);
	rte_tel_data_add_dict_u64(d, "ctrl_used", st.ctrl_used);
	rte_tel_data_add_dict_u64(d, "ctrl_failed", st.ctrl_failed);
	rte_tel_data_add_dict_u64(d, "ctrl_refused", st.ctrl_refused);
	for (i = 0; i < PPTP_ERR_MAX; i++)
		add_u64(d, pptp_err_name(i), st.err[i]);
}

static int
tm_pptp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tm_run(fill_pptp, d);
}

static void
fill_rcu(const struct dp *dp, struct rte_tel_data *d)
{
	struct dp_rcu_queue q[DP_RCU_QUEUES];
	char n[RTE_TEL_MAX_STRING_LEN];
	unsigned i;

	dp_rcu_queues(dp, q);
	rte_tel_data_start_dict(d);
	for (i = 0; i < DP_RCU_QUEUES; i++) {
		snprintf(n, sizeof(n), "%s_deferred", q[i].key);
		rte_tel_data_add_dict_u64(d, n, q[i].st.deferred);
		snprintf(n, sizeof(n), "%s_freed", q[i].key);
		rte_tel_data_add_dict_u64(d, n, q[i].st.freed);
		snprintf(n, sizeof(n), "%s_not_deferred", q[i].key);
		rte_tel_data_add_dict_u64(d, n, q[i].st.failed);
	}
}

static int
tm_rcu(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tm_run(fill_rcu, d);
}

/* Port blocks (all 0 with port blocks off) and the subscriber limits' refusals. */
static void
fill_cgn(const struct dp *dp, struct rte_tel_data *d)
{
	struct nat_pba_stats st;
	struct nat_src_stats ps;
	uint32_t size = dp_cgn_stats(dp, &st, &ps);

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "pba_block_size", size);
	rte_tel_data_add_dict_u64(d, "pba_subscribers", st.subscribers);
	rte_tel_data_add_dict_u64(d, "pba_subscribers_max", st.max_subscribers);
	rte_tel_data_add_dict_u64(d, "pba_blocks", st.blocks);
	rte_tel_data_add_dict_u64(d, "pba_blocks_total", st.blocks_total);
	rte_tel_data_add_dict_u64(d, "pba_allocated", st.allocated);
	rte_tel_data_add_dict_u64(d, "pba_released", st.released);
	rte_tel_data_add_dict_u64(d, "pba_interim", st.interim);
	rte_tel_data_add_dict_u64(d, "pba_refused_max_blocks", st.refused_max);
	rte_tel_data_add_dict_u64(d, "pba_refused_no_block", st.refused_noblock);
	rte_tel_data_add_dict_u64(d, "pba_refused_table_full", st.refused_full);
	rte_tel_data_add_dict_u64(d, "port_limit_refused", ps.refused_limit);
	rte_tel_data_add_dict_u64(d, "port_limit_hosts", ps.sources);
}

static int
tm_cgn(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tm_run(fill_cgn, d);
}

static void
fill_nsrp(const struct dp *dp, struct rte_tel_data *d)
{
	struct dp_ha_stats st;
	unsigned i;

	dp_ha_stats_get(dp, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "role", dp_ha_role_name(st.role));
	rte_tel_data_add_dict_string(d, "peer_role", dp_ha_role_name(st.peer_role));
	rte_tel_data_add_dict_u64(d, "lag_ms", st.lag_ms);
	for (i = 0; i < dp_ha_n_counters; i++)
		rte_tel_data_add_dict_u64(d, dp_ha_counters[i].name,
					  *(const uint64_t *)((const char *)&st + dp_ha_counters[i].off));
}

static int
tm_nsrp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tm_run(fill_nsrp, d);
}

/** Register dpnat's telemetry commands (harmless when telemetry is off). */
void
dp_telemetry_init(const struct dp *dp)
{
	rte_spinlock_lock(&tm_lock);
	tm_dp = dp;
	rte_spinlock_unlock(&tm_lock);
	rte_telemetry_register_cmd("/dpnat/sessions", tm_sessions,
				   "Session table usage. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/workers", tm_workers,
				   "Per worker packets, sessions made, non-owner packets, drops; "
				   "ports' RSS mode. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/counters", tm_counters,
				   "Forwarding and drop counters by reason. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/pptp/xlate", tm_pptp,
				   "PPTP ALG xlate usage and control-stream counters. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/nsrp", tm_nsrp,
				   "HA pair: role, peer role, lag and session sync counters. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/rcu", tm_rcu,
				   "Reclamation queues: deferred, freed, not deferred. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/nat/cgn", tm_cgn,
				   "Port blocks and subscriber limits (issue 18). Takes no parameters");
}

/** Stop answering from the dataplane (before dp_destroy); the commands then fail. */
void
dp_telemetry_stop(void)
{
	rte_spinlock_lock(&tm_lock);
	tm_dp = NULL;
	rte_spinlock_unlock(&tm_lock);
}
