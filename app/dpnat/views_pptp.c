/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CLI views of the PPTP ALG: its state and counters, the Call-ID
 * translations (streamed) and calls per inside host (control lcore).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_log.h>

#include "cli.h"
#include "dp.h"
#include "views.h"

/* ---- ALG views (KB12423 shapes) ---- */

int
h_get_alg(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;

	RTE_SET_USED(a);
	cli_printf(out, "%-12s ALG : %s\n", "PPTP", dp->conf.alg_pptp ? "enabled" : "disabled");
	return 0;
}

int
h_get_alg_pptp(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct pptp_stats st;
	unsigned i;

	RTE_SET_USED(a);
	pptp_stats_get(dp->pptp, &st);
	cli_printf(out, "PPTP ALG : %s\n", dp->conf.alg_pptp ? "enabled" : "disabled");
	cli_printf(out, "xlate entries: %lu used, max %lu, failed %lu\n", (unsigned long)st.xlate_used,
		   (unsigned long)st.xlate_max, (unsigned long)st.failed);
	cli_printf(out, "control connections: %lu used, max %lu, failed %lu, desynced %lu, "
		   "per source max %lu, refused %lu\n",
		   (unsigned long)st.ctrl_used, (unsigned long)st.ctrl_max,
		   (unsigned long)st.ctrl_failed, (unsigned long)st.desynced,
		   (unsigned long)st.ctrl_per_src, (unsigned long)st.ctrl_refused);
	cli_printf(out, "timeouts: xlate %u s, gre session %u s\n", pptp_get_timeout(dp->pptp),
		   flow_get_timeout(dp->flows, FLOW_TMO_GRE));
	cli_printf(out, "calls opened %lu, closed %lu; gates opened %lu, failed %lu\n",
		   (unsigned long)st.calls_opened, (unsigned long)st.calls_closed,
		   (unsigned long)st.gates_opened, (unsigned long)st.gates_failed);
	cli_printf(out, "control stream counters:\n");
	for (i = 0; i < PPTP_ERR_MAX; i++)
		cli_printf(out, "  %-20s %12lu  %s\n", pptp_err_name(i), (unsigned long)st.err[i],
			   pptp_err_help(i));
	return 0;
}

/* get alg pptp xlate per-client */
int
h_get_alg_pptp_per_client(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;

	RTE_SET_USED(a);
	cli_printf(out, "pptp xlate per-client: %u calls per inside host\n",
		   dp->conf.limits.pptp_per_client);
	src_table_print(dp->src_calls, "calls", out);
	return 0;
}

/* Filters of `get/clear alg pptp xlate`: src-ip = inside client, dst-ip = server,
 * src-port = the control connection's client port, id = control session id. */
static bool
xlate_match(const struct pptp_xlate_info *xi, void *arg)
{
	const struct sess_filter *f = arg;

	if (f->id_set && xi->ctrl_sess_id != f->id)
		return false;
	if (f->proto_set && f->proto != IPPROTO_GRE && f->proto != IPPROTO_TCP)
		return false;
	if (f->dport_set && f->dport != PPTP_PORT && f->dport != xi->server_cid)
		return false;
	return tuple_match(f, rte_cpu_to_be_32(xi->inside_ip), rte_cpu_to_be_32(xi->server_ip),
			   rte_cpu_to_be_16(xi->src_port), rte_cpu_to_be_16(f->dport));
}

struct xlate_print {
	struct cli_out *out;
	struct sess_filter f;
};

static int
xlate_line(const struct pptp_xlate_info *xi, void *arg)
{
	struct xlate_print *xp = arg;
	char in[16], srv[16], pub[16];

	if (!xlate_match(xi, &xp->f))
		return 0;
	cli_printf(xp->out, "%s/%u->%s xlated to %s/%u->%s(0), src-port:%u, time:%u\n",
		   conf_ip_str(xi->inside_ip, in), xi->inside_cid, conf_ip_str(xi->server_ip, srv),
		   conf_ip_str(xi->public_ip, pub), xi->xlated_cid, srv, xi->src_port, xi->time_left);
	return xp->out->failed ? 1 : 0;
}

/* A `get alg pptp xlate` list being streamed: the table, then the reverse table. */
struct xlate_stream {
	struct dp *dp;
	struct xlate_print xp;
	unsigned part;        /* 0: xlate table, 1: rev xlate table */
	uint32_t cursor;
};

static int
xlate_stream_next(void *state, struct cli_out *out)
{
	struct xlate_stream *xs = state;

	if (out != NULL) {
		xs->xp.out = out;
		/* 4096 entry slots a slice: under 450 kB of text. */
		if (pptp_xlate_walk_from(xs->dp->pptp, flow_clock(xs->dp->flows), &xs->cursor, 4096,
					 xlate_line, &xs->xp) && !out->failed)
			return 0;
		if (xs->part == 0 && !out->failed) {
			cli_printf(out, "---------- rev xlate table ----------\n");
			xs->part = 1;
			xs->cursor = 0;
			return 0;
		}
	}
	free(xs);
	return 1;
}

int
h_get_alg_pptp_xlate(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct xlate_print xp = { .out = out };
	struct xlate_stream *xs;
	struct pptp_stats st;
	uint32_t now = flow_clock(dp->flows);

	sess_filter_get(a, &xp.f);
	pptp_stats_get(dp->pptp, &st);
	cli_printf(out, "%lu out of %lu pptp xlate entries are used.\n", (unsigned long)st.xlate_used,
		   (unsigned long)st.xlate_max);
	cli_printf(out, "Failed count %lu.\n", (unsigned long)st.failed);
	cli_printf(out, "---------- xlate table ----------\n");
	/* Both lists stream, a slice at a time, as the client reads them. */
	xs = malloc(sizeof(*xs));
	if (xs != NULL) {
		*xs = (struct xlate_stream){ .dp = dp, .xp = xp };
		if (cli_out_stream(out, xlate_stream_next, xs) == 0)
			return 0;
		free(xs);
	}
	pptp_xlate_walk(dp->pptp, now, xlate_line, &xp);
	cli_printf(out, "---------- rev xlate table ----------\n");
	pptp_xlate_walk(dp->pptp, now, xlate_line, &xp);
	return 0;
}

int
h_clear_alg_pptp_xlate(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct sess_filter f;
	unsigned n;

	sess_filter_get(a, &f);
	n = pptp_clear(dp->pptp, xlate_match, &f);
	cli_printf(out, "%u pptp calls cleared.\n", n);
	return 0;
}
