/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT event log (dp_natlog.h): per-lcore single-producer rings of fixed-size
 * records, drained by the control lcore.
 */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "cli.h"
#include "dp.h"
#include "dp_natlog.h"

int
dp_natlog_create(struct dp *dp, char *err, size_t errlen)
{
	unsigned i;

	RTE_BUILD_BUG_ON(sizeof(struct dp_natlog_rec) != 64);
	for (i = 0; i <= dp->n_workers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dpnat_natlog%u", i);
		dp->natlog[i].ring = rte_ring_create_elem(name, sizeof(struct dp_natlog_rec),
							  dp->conf.log_nat_queue,
							  rte_socket_id(),
							  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (dp->natlog[i].ring == NULL) {
			snprintf(err, errlen, "cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

void
dp_natlog_free(struct dp *dp)
{
	unsigned i;

	for (i = 0; i <= dp->n_workers && i <= DP_MAX_WORKERS; i++) {
		rte_ring_free(dp->natlog[i].ring);
		dp->natlog[i].ring = NULL;
	}
}

void
dp_natlog_session(struct dp *dp, unsigned q, const struct flow_session *s, unsigned type)
{
	struct dp_natlog_q *lq = &dp->natlog[q];
	struct dp_natlog_rec r;

	memset(&r, 0, sizeof(r));
	r.type = (uint8_t)type;
	r.proto = s->proto;
	r.in_iface = s->iface[0];
	r.out_iface = s->out_iface[0];
	r.policy_id = s->policy_id;
	r.nat_port = s->nat_port;
	r.session_id = s->id;
	r.created = s->created;
	r.time = type == DP_NATLOG_SESS_NEW ? s->created : flow_clock(dp->flows);
	r.src = s->key[0].src;
	r.dst = s->key[0].dst;
	r.sport = s->key[0].sport;
	r.dport = s->key[0].dport;
	r.xsrc = s->rw[0].src;
	r.xdst = s->rw[0].dst;
	r.xsport = s->rw[0].sport;
	r.xdport = s->rw[0].dport;
	lq->created++;
	if (lq->ring == NULL ||
	    rte_ring_sp_enqueue_elem(lq->ring, &r, sizeof(r)) != 0)
		lq->lost++;
}

unsigned
dp_natlog_drain(struct dp *dp)
{
	struct dp_natlog_rec recs[32];
	unsigned i, n, total = 0;

	for (i = 0; i <= dp->n_workers; i++) {
		if (dp->natlog[i].ring == NULL)
			continue;
		/* At most one ring's worth a call: a producer faster than that loses, and counts it. */
		for (;;) {
			n = rte_ring_sc_dequeue_burst_elem(dp->natlog[i].ring, recs, sizeof(recs[0]),
							   RTE_DIM(recs), NULL);
			if (n == 0)
				break;
			/* The sinks (syslog, IPFIX) take the records here; none yet but the count. */
			dp->natlog_sent += n;
			total += n;
			if (total >= dp->conf.log_nat_queue * (dp->n_workers + 1u))
				return total;
		}
	}
	return total;
}

void
dp_natlog_stats_get(const struct dp *dp, struct dp_natlog_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i <= dp->n_workers; i++) {
		st->created += __atomic_load_n(&dp->natlog[i].created, __ATOMIC_RELAXED);
		st->lost += __atomic_load_n(&dp->natlog[i].lost, __ATOMIC_RELAXED);
		if (dp->natlog[i].ring != NULL)
			st->queued += rte_ring_count(dp->natlog[i].ring);
	}
	st->sent = dp->natlog_sent;
	st->queue_size = dp->conf.log_nat_queue;
}

void
dp_natlog_show(struct dp *dp, struct cli_out *out)
{
	struct dp_natlog_stats st;

	dp_natlog_stats_get(dp, &st);
	cli_printf(out, "NAT event log: %s, queue %u records per lcore (%u lcores)\n",
		   dp->conf.log_nat ? "enabled" : "disabled", st.queue_size, dp->n_workers + 1);
	cli_printf(out, "  records created: %lu\n", (unsigned long)st.created);
	cli_printf(out, "  records sent:    %lu\n", (unsigned long)st.sent);
	cli_printf(out, "  records lost:    %lu (queue full)\n", (unsigned long)st.lost);
	cli_printf(out, "  records queued:  %lu\n", (unsigned long)st.queued);
}
