/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus endpoint: `GET /metrics` over HTTP on the address of
 * `set metrics listen A.B.C.D:PORT`, served by the control lcore with
 * non-blocking I/O only, like the CLI socket. A few clients at a time, each
 * with a bounded request and a deadline; an answer is rendered whole from the
 * same counters the CLI sums (the workers never see a scrape) and the
 * connection is closed after it. The metric list is in docs/monitoring.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_version.h>

#include "cli.h"
#include "ctl.h"
#include "dp.h"
#include "dp_session.h"
#include "dp_metrics.h"
#include "views.h"
#include "dp_log.h"
#include "dpnat_version.h"

#define MX_MAX_CLIENTS 8
#define MX_REQ_MAX     4096      /* request line and headers */
#define MX_DEADLINE_S  10        /* a client gets this long to ask and to read */

struct mx_client {
	bool used;
	int fd;
	uint64_t deadline;       /* dp_now() after which the client is dropped */
	char req[MX_REQ_MAX];
	size_t req_len;
	char *out;               /* the whole answer, headers included */
	size_t out_len, out_off;
};

static int mx_fd = -1;
static struct mx_client mx_clients[MX_MAX_CLIENTS];
static uint64_t mx_scrapes, mx_refused;

/* ---- the text ---- */

/** A growing text buffer; a failed allocation marks it failed and later writes do nothing. */
struct mx_buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3)))
mx_printf(struct mx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		/* Nothing allocated yet: only measure (no offset on a null pointer). */
		n = vsnprintf(b->s != NULL ? b->s + b->len : NULL, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 65536;
			char *s;

			while (cap - b->len <= (size_t)n)
				cap *= 2;
			s = realloc(b->s, cap);
			if (s == NULL) {
				b->failed = true;
				return;
			}
			b->s = s;
			b->cap = cap;
		}
	}
}

/* A metric family's HELP and TYPE lines. */
static void
family(struct mx_buf *b, const char *name, const char *type, const char *help)
{
	mx_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample without labels. */
static void
sample(struct mx_buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	family(b, name, type, help);
	mx_printf(b, "%s %lu\n", name, (unsigned long)v);
}

/* A label value in the exposition format's escaping (backslash, quote, newline). */
static const char *
esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

/** A counter family read from a struct at offset off. */
struct mx_field {
	const char *name, *help;
	size_t off;
};

/* The label values of interface i: interface="...". */
static const char *
iface_label(const struct route_iface *ifc, char *buf, size_t len)
{
	char e[2 * ROUTE_NAME_LEN + 1];

	snprintf(buf, len, "interface=\"%s\"", esc(ifc->name, e, sizeof(e)));
	return buf;
}

static void
render_interfaces(struct dp *dp, const struct dp_stats *sum, struct mx_buf *b)
{
	static const struct mx_field flow[] = {
		{ "dpnat_interface_receive_packets_total", "Packets received on the interface by the workers",
		  offsetof(struct dp_stats, rx_pkts) },
		{ "dpnat_interface_receive_bytes_total", "Bytes received on the interface by the workers",
		  offsetof(struct dp_stats, rx_bytes) },
		{ "dpnat_interface_transmit_packets_total", "Packets sent out of the interface",
		  offsetof(struct dp_stats, tx_pkts) },
		{ "dpnat_interface_transmit_bytes_total", "Bytes sent out of the interface",
		  offsetof(struct dp_stats, tx_bytes) },
	};
	static const struct mx_field hw[] = {
		{ "dpnat_port_receive_packets_total", "Packets the DPDK port received", offsetof(struct rte_eth_stats, ipackets) },
		{ "dpnat_port_receive_bytes_total", "Bytes the DPDK port received", offsetof(struct rte_eth_stats, ibytes) },
		{ "dpnat_port_transmit_packets_total", "Packets the DPDK port sent", offsetof(struct rte_eth_stats, opackets) },
		{ "dpnat_port_transmit_bytes_total", "Bytes the DPDK port sent", offsetof(struct rte_eth_stats, obytes) },
		{ "dpnat_port_receive_missed_total", "Packets the DPDK port dropped: receive queues full", offsetof(struct rte_eth_stats, imissed) },
		{ "dpnat_port_receive_errors_total", "Erroneous packets the DPDK port received", offsetof(struct rte_eth_stats, ierrors) },
		{ "dpnat_port_transmit_errors_total", "Packets the DPDK port failed to send", offsetof(struct rte_eth_stats, oerrors) },
		{ "dpnat_port_receive_nombuf_total", "Receive buffer allocation failures of the DPDK port", offsetof(struct rte_eth_stats, rx_nombuf) },
	};
	struct rte_eth_stats es[ROUTE_MAX_IFACES];
	unsigned i, k, n = route_iface_count(dp->rt);
	char lab[128], e1[2 * ROUTE_NAME_LEN + 1], e2[2 * PORT_NAME_LEN + 1];

	family(b, "dpnat_interface_up", "gauge", "1 when the interface is bound to a port whose link is up");
	for (i = 0; i < n; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);

		if (ifc != NULL)
			mx_printf(b, "dpnat_interface_up{%s,zone=\"%s\",mode=\"%s\"} %d\n",
				  iface_label(ifc, lab, sizeof(lab)), esc(ifc->zone, e1, sizeof(e1)),
				  ifc->nat ? "nat" : "route", ifc->up && port_link_up(ifc->port_id));
	}
	for (k = 0; k < RTE_DIM(flow); k++) {
		family(b, flow[k].name, "counter", flow[k].help);
		for (i = 0; i < n; i++) {
			const struct route_iface *ifc = route_iface_get(dp->rt, i);
			const uint64_t *v = (const uint64_t *)((const char *)sum + flow[k].off);

			if (ifc != NULL)
				mx_printf(b, "%s{%s} %lu\n", flow[k].name, iface_label(ifc, lab, sizeof(lab)),
					  (unsigned long)v[i]);
		}
	}
	for (i = 0; i < n && i < ROUTE_MAX_IFACES; i++)
		if (!dp->ports[i].used || rte_eth_stats_get(dp->ports[i].pi.port_id, &es[i]) != 0)
			memset(&es[i], 0, sizeof(es[i]));
	for (k = 0; k < RTE_DIM(hw); k++) {
		family(b, hw[k].name, "counter", hw[k].help);
		for (i = 0; i < n && i < ROUTE_MAX_IFACES; i++) {
			const struct route_iface *ifc = route_iface_get(dp->rt, i);

			if (ifc != NULL && dp->ports[i].used)
				mx_printf(b, "%s{%s,port=\"%s\"} %lu\n", hw[k].name,
					  iface_label(ifc, lab, sizeof(lab)),
					  esc(dp->ports[i].pi.name, e2, sizeof(e2)),
					  (unsigned long)*(const uint64_t *)((const char *)&es[i] + hw[k].off));
		}
	}
}

static void
render_workers(struct dp *dp, const struct flow_stats *fs, struct mx_buf *b)
{
	static const struct mx_field wk[] = {
		{ "dpnat_worker_forwarded_packets_total", "Packets the worker forwarded", offsetof(struct dp_stats, forwarded) },
		{ "dpnat_worker_slowpath_packets_total", "Packets the worker handed to the control lcore", offsetof(struct dp_stats, punted) },
		{ "dpnat_worker_session_hits_total", "Packets that matched a session", offsetof(struct dp_stats, hits) },
		{ "dpnat_worker_foreign_session_hits_total", "Packets that matched a session another worker created", offsetof(struct dp_stats, hits_foreign) },
		{ "dpnat_worker_sessions_created_total", "Sessions the worker made", offsetof(struct dp_stats, created) },
		{ "dpnat_worker_polls_total", "Receive polls of all ports", offsetof(struct dp_stats, polls) },
		{ "dpnat_worker_busy_polls_total", "Receive polls that found packets", offsetof(struct dp_stats, busy_polls) },
	};
	unsigned w, k, r;

	for (k = 0; k < RTE_DIM(wk); k++) {
		family(b, wk[k].name, "counter", wk[k].help);
		for (w = 0; w < dp->n_workers; w++)
			mx_printf(b, "%s{worker=\"%u\"} %lu\n", wk[k].name, w,
				  (unsigned long)*(const uint64_t *)((const char *)&dp->workers[w].st + wk[k].off));
	}
	family(b, "dpnat_worker_drops_total", "counter", "Packets the worker dropped, all reasons");
	for (w = 0; w < dp->n_workers; w++) {
		uint64_t d = 0;

		for (r = 1; r < PKT_DROP_MAX; r++)
			d += dp->workers[w].st.drops[r];
		mx_printf(b, "dpnat_worker_drops_total{worker=\"%u\"} %lu\n", w, (unsigned long)d);
	}
	family(b, "dpnat_worker_sessions", "gauge", "Sessions alive that the worker created");
	for (w = 0; w < dp->n_workers; w++)
		mx_printf(b, "dpnat_worker_sessions{worker=\"%u\"} %lu\n", w,
			  (unsigned long)fs->per_worker[w]);
}

/* Each port's RSS: 1 where dpnat's key and table decide the queues (owned), 0 in fallback. */
static void
render_rss(struct dp *dp, struct mx_buf *b)
{
	char lab[160], e2[2 * PORT_NAME_LEN + 1];
	unsigned i;

	family(b, "dpnat_port_rss_owned", "gauge",
	       "1: dpnat's RSS key and redirection table spread the port's packets (owned), 0: fallback");
	for (i = 0; i < ROUTE_MAX_IFACES; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);

		if (ifc != NULL && dp->ports[i].used)
			mx_printf(b, "dpnat_port_rss_owned{%s,port=\"%s\",reta_size=\"%u\"} %u\n",
				  iface_label(ifc, lab, sizeof(lab)),
				  esc(dp->ports[i].pi.name, e2, sizeof(e2)), dp->ports[i].pi.reta_size,
				  dp->ports[i].pi.rss_mode == PORT_RSS_OWNED);
	}
}

static void
render_nat(struct dp *dp, struct mx_buf *b)
{
	static const char *const names[] = { "dpnat_nat_ports_used", "dpnat_nat_ports",
					     "dpnat_nat_port_alloc_failures_total" };
	static const char *const helps[] = {
		"Ports (and PPTP Call IDs) of the public address in use",
		"Ports of the public address that can be allocated",
		"Allocations refused on the public address: the worker's slice was full" };
	unsigned i, k, n = nat_addr_count(dp->nat);
	char ip[16], pool[64], e[2 * sizeof(pool) + 1];

	for (k = 0; k < RTE_DIM(names); k++) {
		family(b, names[k], k == 2 ? "counter" : "gauge", helps[k]);
		for (i = 0; i < n; i++) {
			struct nat_addr_info ni;

			nat_addr_info(dp->nat, i, &ni);
			dp_nat_pool_name(dp, ni.ip, pool, sizeof(pool));
			mx_printf(b, "%s{address=\"%s\",pool=\"%s\"} %lu\n", names[k],
				  conf_ip_str(ni.ip, ip), esc(pool, e, sizeof(e)),
				  (unsigned long)(k == 0 ? ni.used : k == 1 ? ni.size : ni.failed));
		}
	}
}

/* The endpoint-independent mappings, as get nat mapping counts them. */
static void
render_nat_map(struct dp *dp, struct mx_buf *b)
{
	struct nat_map_stats st;

	nat_map_stats(dp->nat_ctx.map, &st);
	sample(b, "dpnat_nat_mappings", "gauge", "Endpoint-independent mappings alive", st.used);
	sample(b, "dpnat_nat_mappings_max", "gauge", "Mapping table size (set nat mapping max)", st.max);
	sample(b, "dpnat_nat_mappings_created_total", "counter", "Mappings made", st.created);
	sample(b, "dpnat_nat_mapping_reuses_total", "counter",
	       "Sessions that found their inside endpoint's mapping alive", st.reused);
	sample(b, "dpnat_nat_mapping_failures_total", "counter", "Mappings refused: the table was full",
	       st.failed);
	sample(b, "dpnat_nat_mapping_inbound_total", "counter",
	       "Sessions opened from Untrust to a mapping (endpoint-independent filtering)", st.inbound);
	sample(b, "dpnat_nat_mapping_hairpin_total", "counter", "Sessions hairpinned from inside to a mapping",
	       st.hairpin);
}

/* The reclamation queues, as get counter flow shows them. */
static void
render_rcu(const struct dp *dp, struct mx_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fam[] = {
		{ "dpnat_reclaim_deferred_total", "Elements unlinked and queued for the workers' grace period, by table",
		  offsetof(struct rcu_defer_stats, deferred) },
		{ "dpnat_reclaim_freed_total", "Elements given back after their grace period, by table",
		  offsetof(struct rcu_defer_stats, freed) },
		{ "dpnat_reclaim_not_deferred_total", "Elements that could not be queued (never reused), by table",
		  offsetof(struct rcu_defer_stats, failed) },
	};
	struct dp_rcu_queue q[DP_RCU_QUEUES];
	unsigned f, i;

	dp_rcu_queues(dp, q);
	for (f = 0; f < RTE_DIM(fam); f++) {
		family(b, fam[f].name, "counter", fam[f].help);
		for (i = 0; i < DP_RCU_QUEUES; i++)
			mx_printf(b, "%s{queue=\"%s\"} %lu\n", fam[f].name, q[i].key,
				  (unsigned long)*(const uint64_t *)((const char *)&q[i].st + fam[f].off));
	}
}

/* The NAT event log: created = sent + lost + queued. */
/* The HA pair: role, lag and every sync counter. */
static void
render_ha(struct dp *dp, struct mx_buf *b)
{
	struct dp_ha_stats st;
	char name[64];
	unsigned i;

	dp_ha_stats_get(dp, &st);
	sample(b, "dpnat_nsrp_role", "gauge", "HA role: 0 standalone, 1 init, 2 standby, 3 active", st.role);
	sample(b, "dpnat_nsrp_peer_role", "gauge", "The peer's HA role as it last said", st.peer_role);
	family(b, "dpnat_nsrp_lag_seconds", "gauge", "Seconds since the peer's last sync datagram (0: never heard)");
	mx_printf(b, "dpnat_nsrp_lag_seconds %.3f\n", st.lag_ms == UINT64_MAX ? 0.0 : (double)st.lag_ms / 1000);
	for (i = 0; i < dp_ha_n_counters; i++) {
		const struct dp_ha_counter *c = &dp_ha_counters[i];

		snprintf(name, sizeof(name), "dpnat_nsrp_%s%s", c->name,
			 strcmp(c->type, "counter") == 0 ? "_total" : "");
		sample(b, name, c->type, c->help, *(const uint64_t *)((const char *)&st + c->off));
	}
}

static void
render_natlog(struct dp *dp, struct mx_buf *b)
{
	struct dp_natlog_stats st;

	dp_natlog_stats_get(dp, &st);
	sample(b, "dpnat_natlog_enabled", "gauge", "1 when NAT event logging is on (set log nat enable)",
	       dp->conf.log_nat);
	sample(b, "dpnat_natlog_records_created_total", "counter", "NAT event records made", st.created);
	sample(b, "dpnat_natlog_records_sent_total", "counter", "NAT event records drained to the collectors",
	       st.sent);
	sample(b, "dpnat_natlog_records_lost_total", "counter", "NAT event records lost to a full queue",
	       st.lost);
	sample(b, "dpnat_natlog_records_queued", "gauge", "NAT event records waiting in the queues",
	       st.queued);
	sample(b, "dpnat_syslog_messages_sent_total", "counter", "syslog datagrams sent (one per record and collector)",
	       st.syslog_sent);
	sample(b, "dpnat_syslog_send_errors_total", "counter", "syslog datagrams the socket refused",
	       st.syslog_errors);
	sample(b, "dpnat_ipfix_enabled", "gauge", "1 when IPFIX export is on (set log nat ipfix enable)",
	       dp->conf.ipfix_on);
	sample(b, "dpnat_ipfix_records_sent_total", "counter",
	       "NAT event records in an IPFIX message at least one collector took", st.ipfix_records_sent);
	sample(b, "dpnat_ipfix_records_lost_total", "counter",
	       "NAT event records drained with IPFIX on that no collector took", st.ipfix_records_lost);
	sample(b, "dpnat_ipfix_messages_sent_total", "counter",
	       "IPFIX datagrams sent (one per message and collector), templates included", st.ipfix_msgs);
	sample(b, "dpnat_ipfix_template_messages_sent_total", "counter", "IPFIX template datagrams sent",
	       st.ipfix_templates);
	sample(b, "dpnat_ipfix_send_errors_total", "counter", "IPFIX datagrams the socket refused",
	       st.ipfix_errors);
}

/* Port blocks and the per-subscriber port limit (issue 18). */
static void
render_cgn(struct dp *dp, struct mx_buf *b)
{
	struct nat_pba_stats st;
	struct nat_src_stats ps;
	uint32_t size = dp_cgn_stats(dp, &st, &ps);

	sample(b, "dpnat_pba_block_size", "gauge", "ports per block, 0: no port blocks (set nat port-block size)",
	       size);
	sample(b, "dpnat_pba_subscribers", "gauge", "subscribers holding port blocks", st.subscribers);
	sample(b, "dpnat_pba_blocks", "gauge", "port blocks held", st.blocks);
	sample(b, "dpnat_pba_blocks_allocated_total", "counter", "port blocks taken", st.allocated);
	sample(b, "dpnat_pba_blocks_released_total", "counter", "port blocks given back", st.released);
	sample(b, "dpnat_pba_interim_records_total", "counter", "port block interim records made", st.interim);
	family(b, "dpnat_pba_refused_total", "counter", "new sessions refused for want of a port block, by reason");
	mx_printf(b, "dpnat_pba_refused_total{reason=\"max-blocks\"} %lu\n", (unsigned long)st.refused_max);
	mx_printf(b, "dpnat_pba_refused_total{reason=\"no-block\"} %lu\n", (unsigned long)st.refused_noblock);
	mx_printf(b, "dpnat_pba_refused_total{reason=\"table-full\"} %lu\n", (unsigned long)st.refused_full);
	sample(b, "dpnat_port_limit_refused_total", "counter",
	       "new sessions refused: the host at set nat subscriber-limit ports", ps.refused_limit);
}

static void
render_pptp(struct dp *dp, struct mx_buf *b)
{
	struct pptp_stats st;
	char e[64];
	unsigned i;

	pptp_stats_get(dp->pptp, &st);
	sample(b, "dpnat_pptp_enabled", "gauge", "1 when the PPTP ALG is enabled", dp->conf.alg_pptp);
	sample(b, "dpnat_pptp_xlate_entries", "gauge", "PPTP Call-ID xlate entries in use", st.xlate_used);
	sample(b, "dpnat_pptp_xlate_entries_max", "gauge", "PPTP Call-ID xlate entries at most (set alg pptp xlate max)",
	       st.xlate_max);
	sample(b, "dpnat_pptp_xlate_failures_total", "counter",
	       "Calls that could get no xlate entry (the KB's Failed count)", st.failed);
	sample(b, "dpnat_pptp_calls_opened_total", "counter", "PPTP calls translated", st.calls_opened);
	sample(b, "dpnat_pptp_calls_closed_total", "counter", "PPTP calls torn down", st.calls_closed);
	sample(b, "dpnat_pptp_gates_opened_total", "counter", "GRE gate sessions the ALG made (two per call)",
	       st.gates_opened);
	sample(b, "dpnat_pptp_gate_failures_total", "counter", "GRE gate sessions that could not be made",
	       st.gates_failed);
	sample(b, "dpnat_pptp_control_connections", "gauge", "PPTP control connections tracked", st.ctrl_used);
	sample(b, "dpnat_pptp_control_connections_max", "gauge", "PPTP control connections tracked at most",
	       st.ctrl_max);
	sample(b, "dpnat_pptp_control_failures_total", "counter",
	       "PPTP control connections refused: no control state left", st.ctrl_failed);
	sample(b, "dpnat_pptp_desynced_total", "counter", "PPTP control connections that lost message framing",
	       st.desynced);
	family(b, "dpnat_pptp_control_errors_total", "counter", "PPTP control stream events by kind");
	for (i = 0; i < PPTP_ERR_MAX; i++)
		mx_printf(b, "dpnat_pptp_control_errors_total{error=\"%s\"} %lu\n",
			  esc(pptp_err_name(i), e, sizeof(e)), (unsigned long)st.err[i]);
}

/* The whole exposition text. */
static void
render(struct dp *dp, struct mx_buf *b)
{
	struct dp_stats sum;
	struct flow_stats fs;
	struct neigh_stats ns;
	uint32_t used, max;
	unsigned i;

	dp_stats_sum(dp, &sum);
	flow_stats_get(dp->flows, &fs);
	family(b, "dpnat_build_info", "gauge", "Version of dpnat and of DPDK; always 1");
	mx_printf(b, "dpnat_build_info{version=\"%s\",dpdk=\"%s\"} 1\n", DPNAT_VERSION, rte_version());
	sample(b, "dpnat_uptime_seconds", "gauge", "Seconds since dpnat started", dp_now(dp));
	sample(b, "dpnat_workers", "gauge", "Worker lcores", dp->n_workers);
	render_interfaces(dp, &sum, b);
	sample(b, "dpnat_forwarded_packets_total", "counter", "Packets forwarded by the workers", sum.forwarded);
	sample(b, "dpnat_slowpath_packets_total", "counter", "Packets handed to the control lcore (ARP, to dpnat, unresolved)",
	       sum.punted);
	family(b, "dpnat_drops_total", "counter", "Packets dropped, by reason (get counter flow)");
	for (i = 1; i < PKT_DROP_MAX; i++)
		mx_printf(b, "dpnat_drops_total{reason=\"%s\"} %lu\n", pkt_drop_name(i),
			  (unsigned long)sum.drops[i]);
	render_workers(dp, &fs, b);
	render_rss(dp, b);
	sample(b, "dpnat_sessions", "gauge", "Sessions in use", fs.alloc);
	sample(b, "dpnat_sessions_max", "gauge", "Sessions at most (set session max)", fs.max);
	sample(b, "dpnat_sessions_pending_free", "gauge", "Deleted sessions waiting for the workers' grace period",
	       fs.pending_free);
	sample(b, "dpnat_sessions_created_total", "counter", "Sessions created", fs.created);
	sample(b, "dpnat_sessions_aged_total", "counter", "Sessions deleted by timeout", fs.aged);
	sample(b, "dpnat_sessions_cleared_total", "counter", "Sessions deleted by clear or teardown", fs.cleared);
	sample(b, "dpnat_session_alloc_failures_total", "counter", "Sessions refused: the table was full",
	       fs.alloc_failed);
	sample(b, "dpnat_session_insert_failures_total", "counter", "Session index inserts that failed",
	       fs.insert_failed);
	render_nat(dp, b);
	render_nat_map(dp, b);
	render_pptp(dp, b);
	render_natlog(dp, b);
	render_cgn(dp, b);
	render_ha(dp, b);
	neigh_usage(dp->neigh, &used, &max);
	neigh_stats_get(dp->neigh, &ns);
	sample(b, "dpnat_arp_entries", "gauge", "Neighbour (ARP) entries in use", used);
	sample(b, "dpnat_arp_entries_max", "gauge", "Dynamic neighbour entries at most (set arp max)", max);
	sample(b, "dpnat_arp_table_full_total", "counter", "Neighbour entries that could not be made", ns.table_full);
	sample(b, "dpnat_arp_queue_full_total", "counter", "Packets dropped: their neighbour's queue was full",
	       ns.queue_full);
	sample(b, "dpnat_arp_failures_total", "counter", "Neighbour resolutions given up", ns.failed);
	sample(b, "dpnat_arp_requests_total", "counter", "ARP requests sent", ns.requests_sent);
	render_rcu(dp, b);
	sample(b, "dpnat_mbufs_in_use", "gauge", "Packet buffers in use", rte_mempool_in_use_count(dp->pool));
	sample(b, "dpnat_mbufs_max", "gauge", "Packet buffers in all (set mbuf max)", dp->pool->size);
	sample(b, "dpnat_metrics_scrapes_total", "counter", "Answers of this endpoint", mx_scrapes);
	sample(b, "dpnat_metrics_refused_total", "counter", "Connections to this endpoint refused: too many at once",
	       mx_refused);
}

/* ---- HTTP ---- */

static void
mx_close(struct mx_client *c)
{
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
}

/* Answer a complete request: status line, headers, body; the connection closes after it. */
static void
respond(struct dp *dp, struct mx_client *c)
{
	struct mx_buf body = { 0 }, all = { 0 };
	const char *status = "200 OK", *type = "text/plain; version=0.0.4; charset=utf-8";
	bool head = strncmp(c->req, "HEAD ", 5) == 0;

	if (strncmp(c->req, "GET ", 4) != 0 && !head) {
		status = "405 Method Not Allowed";
		type = "text/plain; charset=utf-8";
		mx_printf(&body, "only GET /metrics\n");
	} else if (strncmp(c->req + (head ? 5 : 4), "/metrics ", 9) != 0 &&
		   strncmp(c->req + (head ? 5 : 4), "/metrics?", 9) != 0) {
		status = "404 Not Found";
		type = "text/plain; charset=utf-8";
		mx_printf(&body, "dpnat: the metrics are at /metrics\n");
	} else {
		render(dp, &body);
		mx_scrapes++;
	}
	if (body.failed) {
		status = "500 Internal Server Error";
		body.len = 0;
	}
	mx_printf(&all, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		  status, type, body.len);
	if (!head && body.len > 0)
		mx_printf(&all, "%.*s", (int)body.len, body.s);
	free(body.s);
	if (all.failed) {
		free(all.s);
		mx_close(c);
		return;
	}
	c->out = all.s;
	c->out_len = all.len;
	c->out_off = 0;
}

/* Read what the client sent; answer once the headers are complete. False to drop the client. */
static bool
mx_read(struct dp *dp, struct mx_client *c)
{
	ssize_t n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);

	if (n == 0)
		return false;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL) {
		respond(dp, c);
		return c->used;
	}
	return c->req_len < sizeof(c->req) - 1;   /* headers too long: dropped */
}

/* Send what the socket takes. False when done or broken (the client is closed either way). */
static bool
mx_write(struct mx_client *c)
{
	return dp_send_some(c->fd, c->out, c->out_len, &c->out_off) == 0;
}

/* Open a listening socket on ip:port (host order); the fd, or -1 with err set. */
static int
mx_listen(uint32_t ip, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(ip) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	char a[16];

	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 16) == 0)
		return fd;
	snprintf(err, errlen, "metrics listen %s:%u: %s", conf_ip_str(ip, a), port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Close the listening socket and its clients. */
static void
mx_stop(void)
{
	unsigned i;

	for (i = 0; i < MX_MAX_CLIENTS; i++)
		if (mx_clients[i].used)
			mx_close(&mx_clients[i]);
	if (mx_fd >= 0)
		close(mx_fd);
	mx_fd = -1;
}

/* Whether nc asks for the endpoint the running configuration oc has. */
static bool
mx_same(const struct conf *oc, const struct conf *nc)
{
	return oc != NULL && oc->metrics_ip == nc->metrics_ip && oc->metrics_port == nc->metrics_port;
}

int
dp_metrics_prepare(const struct conf *oc, const struct conf *nc, int *fd, char *err, size_t errlen)
{
	char ignored[CONF_ERR_LEN];

	*fd = -1;
	if (mx_same(oc, nc) || nc->metrics_port == 0)
		return 0;   /* unchanged, or only to be closed */
	/* The same port on another address cannot be bound while the old one listens. */
	if (oc != NULL && mx_fd >= 0 && oc->metrics_port == nc->metrics_port)
		mx_stop();
	*fd = mx_listen(nc->metrics_ip, nc->metrics_port, err, errlen);
	if (*fd < 0 && oc != NULL && oc->metrics_port != 0 && mx_fd < 0)
		mx_fd = mx_listen(oc->metrics_ip, oc->metrics_port, ignored, sizeof(ignored));
	return *fd < 0 ? -1 : 0;
}

void
dp_metrics_abort(const struct conf *oc, int fd)
{
	char ignored[CONF_ERR_LEN];

	if (fd >= 0)
		close(fd);
	if (oc->metrics_port != 0 && mx_fd < 0)   /* given up for fd: back to the old address */
		mx_fd = mx_listen(oc->metrics_ip, oc->metrics_port, ignored, sizeof(ignored));
}

void
dp_metrics_commit(const struct conf *oc, const struct conf *nc, int fd)
{
	char a[16];

	if (mx_same(oc, nc) && mx_fd >= 0)
		return;
	mx_stop();
	mx_fd = fd;
	if (fd >= 0)
		DP_LOG(NOTICE, "metrics on http://%s:%u/metrics", conf_ip_str(nc->metrics_ip, a),
		       nc->metrics_port);
}

void
dp_metrics_poll(struct dp *dp)
{
	struct pollfd pfd[MX_MAX_CLIENTS + 1];
	unsigned idx[MX_MAX_CLIENTS + 1];
	unsigned i, n = 0;
	uint64_t now = dp_now(dp);

	if (mx_fd < 0)
		return;
	pfd[n].fd = mx_fd;
	pfd[n++].events = POLLIN;
	for (i = 0; i < MX_MAX_CLIENTS; i++) {
		struct mx_client *c = &mx_clients[i];

		if (!c->used)
			continue;
		if (now > c->deadline) {
			mx_close(c);
			continue;
		}
		pfd[n].fd = c->fd;
		pfd[n].events = c->out != NULL ? POLLOUT : POLLIN;
		idx[n++] = i;
	}
	if (poll(pfd, n, 0) <= 0)
		return;
	for (i = 1; i < n; i++) {
		struct mx_client *c = &mx_clients[idx[i]];
		bool keep = true;

		if (pfd[i].revents & (POLLERR | POLLNVAL))
			keep = false;
		else if (pfd[i].revents & (POLLIN | POLLHUP) && c->out == NULL)
			keep = mx_read(dp, c);
		if (keep && c->used && c->out != NULL)
			keep = mx_write(c);   /* try at once: most answers fit the socket buffer */
		if (!keep && c->used)
			mx_close(c);
	}
	if (pfd[0].revents & POLLIN) {
		int fd;

		while ((fd = accept4(mx_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			for (i = 0; i < MX_MAX_CLIENTS && mx_clients[i].used; i++)
				;
			if (i == MX_MAX_CLIENTS) {
				close(fd);   /* full: refuse rather than grow */
				mx_refused++;
				continue;
			}
			mx_clients[i].used = true;
			mx_clients[i].fd = fd;
			mx_clients[i].deadline = now + MX_DEADLINE_S;
		}
	}
}

void
dp_metrics_close(void)
{
	mx_stop();
}
