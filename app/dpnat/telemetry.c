/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands, so dpdk-telemetry.py reads dpnat's figures next to
 * DPDK's own /ethdev/stats. Callbacks run on the telemetry thread and only
 * read counters.
 */
#include <rte_telemetry.h>

#include "dp.h"

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

static int
tm_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct flow_stats st;
	unsigned w;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	flow_stats_get(g_dp->flows, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "alloc", st.alloc);
	rte_tel_data_add_dict_u64(d, "max", st.max);
	rte_tel_data_add_dict_u64(d, "alloc_failed", st.alloc_failed);
	rte_tel_data_add_dict_u64(d, "created", st.created);
	rte_tel_data_add_dict_u64(d, "aged", st.aged);
	rte_tel_data_add_dict_u64(d, "cleared", st.cleared);
	rte_tel_data_add_dict_u64(d, "pending_free", st.pending_free);
	for (w = 0; w < g_dp->n_workers; w++) {
		char name[32];

		snprintf(name, sizeof(name), "worker%u_alloc", w);
		rte_tel_data_add_dict_u64(d, name, st.per_worker[w]);
	}
	return 0;
}

static int
tm_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_stats sum;
	unsigned i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	dp_stats_sum(g_dp, &sum);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "forwarded", sum.forwarded);
	rte_tel_data_add_dict_u64(d, "punted", sum.punted);
	for (i = 1; i < PKT_DROP_MAX; i++)
		add_u64(d, pkt_drop_name(i), sum.drops[i]);
	return 0;
}

static int
tm_pptp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct pptp_stats st;
	unsigned i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	/* Counters only: the entries themselves belong to the control lcore (get alg pptp xlate). */
	pptp_stats_get(g_dp->pptp, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "enabled", g_dp->conf.alg_pptp);
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
	return 0;
}

static int
tm_rcu(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_rcu_queue q[DP_RCU_QUEUES];
	char n[RTE_TEL_MAX_STRING_LEN];
	unsigned i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	dp_rcu_queues(g_dp, q);
	rte_tel_data_start_dict(d);
	for (i = 0; i < DP_RCU_QUEUES; i++) {
		snprintf(n, sizeof(n), "%s_deferred", q[i].key);
		rte_tel_data_add_dict_u64(d, n, q[i].st.deferred);
		snprintf(n, sizeof(n), "%s_freed", q[i].key);
		rte_tel_data_add_dict_u64(d, n, q[i].st.freed);
		snprintf(n, sizeof(n), "%s_not_deferred", q[i].key);
		rte_tel_data_add_dict_u64(d, n, q[i].st.failed);
	}
	return 0;
}

/** Register dpnat's telemetry commands (harmless when telemetry is off). */
void
dp_telemetry_init(void)
{
	rte_telemetry_register_cmd("/dpnat/sessions", tm_sessions,
				   "Session table usage. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/counters", tm_counters,
				   "Forwarding and drop counters by reason. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/pptp/xlate", tm_pptp,
				   "PPTP ALG xlate usage and control-stream counters. Takes no parameters");
	rte_telemetry_register_cmd("/dpnat/rcu", tm_rcu,
				   "Reclamation queues: deferred, freed, not deferred. Takes no parameters");
}
