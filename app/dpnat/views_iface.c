/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CLI views of interfaces, routes, neighbours, the mbuf pool and counters,
 * in ScreenOS shapes (control lcore; they read what workers write).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_log.h>

#include "cli.h"
#include "dp.h"
#include "dp_iface.h"
#include "views.h"

void
dp_stats_sum(const struct dp *dp, struct dp_stats *sum)
{
	const struct dp_stats *all[DP_MAX_WORKERS + 1];
	unsigned n = 0, i, k;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < dp->n_workers; i++)
		all[n++] = &dp->workers[i].st;
	all[n++] = &dp->ctl_st;
	for (k = 0; k < n; k++) {
		const struct dp_stats *s = all[k];

		for (i = 0; i < PKT_DROP_MAX; i++)
			sum->drops[i] += s->drops[i];
		for (i = 0; i < ROUTE_MAX_IFACES; i++) {
			sum->rx_pkts[i] += s->rx_pkts[i];
			sum->rx_bytes[i] += s->rx_bytes[i];
			sum->tx_pkts[i] += s->tx_pkts[i];
			sum->tx_bytes[i] += s->tx_bytes[i];
		}
		sum->forwarded += s->forwarded;
		sum->punted += s->punted;
		sum->polls += s->polls;
		sum->busy_polls += s->busy_polls;
	}
}

/* MAC as ScreenOS prints it: 000c29e91032. */
void
mac_str(const struct rte_ether_addr *m, char *buf)
{
	snprintf(buf, 13, "%02x%02x%02x%02x%02x%02x", m->addr_bytes[0], m->addr_bytes[1],
		 m->addr_bytes[2], m->addr_bytes[3], m->addr_bytes[4], m->addr_bytes[5]);
}

static void
ip_plen_str(uint32_t ip, uint8_t plen, char *buf, size_t len)
{
	char a[16];

	snprintf(buf, len, "%s/%u", conf_ip_str(ip, a), plen);
}

/* get interface [NAME] */
static int
view_interface(struct dp *dp, const char *name, struct cli_out *out)
{
	unsigned i, n = route_iface_count(dp->rt), shown = 0;

	cli_printf(out, "A - Active, I - Inactive, U - Up, D - Down, R - Ready\n\n");
	cli_printf(out, "Interfaces in vsys Root:\n");
	cli_printf(out, "%-14s %-20s %-10s %-14s %-5s %-16s %-5s %s\n", "Name", "IP Address", "Zone",
		   "MAC", "State", "Port", "Mode", "MTU");
	for (i = 0; i < n; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);
		char ipb[32] = "0.0.0.0/0", macb[16] = "-", note[40];
		const char *port = "-";

		if (ifc == NULL || (name != NULL && strcmp(name, ifc->name) != 0))
			continue;
		if (ifc->has_ip)
			ip_plen_str(ifc->ip, ifc->plen, ipb, sizeof(ipb));
		if (ifc->port_id != ROUTE_NO_PORT) {
			mac_str(&ifc->mac, macb);
			port = dp->ports[dp->tx_iface[i]].used ? dp->ports[dp->tx_iface[i]].pi.name : "-";
		}
		/*
		 * "(sw)": the device kept its own MTU; dpnat enforces the interface's in
		 * software. "(port max N)": its device carries no more, dpnat holds
		 * packets to that (dp_iface_mtu).
		 */
		note[0] = '\0';
		if (dp->ports[dp->tx_iface[i]].used && dp_iface_mtu(dp, i) != ifc->mtu)
			snprintf(note, sizeof(note), " (%sport max %u)",
				 dp->ports[dp->tx_iface[i]].mtu_hw ? "" : "sw, ", dp_iface_mtu(dp, i));
		else if (dp->ports[dp->tx_iface[i]].used && !dp->ports[dp->tx_iface[i]].mtu_hw)
			snprintf(note, sizeof(note), " (sw)");
		cli_printf(out, "%-14s %-20s %-10s %-14s %-5s %-16s %-5s %u%s\n", ifc->name, ipb,
			   ifc->zone[0] ? ifc->zone : "Null", macb,
			   ifc->up && port_link_up(ifc->port_id) ? "U" : "D", port,
			   ifc->nat ? "nat" : "route", ifc->mtu, note);
		shown++;
	}
	if (name != NULL && shown == 0) {
		cli_printf(out, "interface \"%s\" does not exist", name);
		return -1;
	}
	return 0;
}

struct route_view_arg {
	struct dp *dp;
	struct cli_out *out;
	unsigned id;
};

static int
route_line(const struct route_entry *e, void *arg)
{
	struct route_view_arg *a = arg;
	const struct route_iface *ifc = route_iface_get(a->dp->rt, e->iface);
	char pfx[32], gw[16];

	ip_plen_str(e->prefix, e->plen, pfx, sizeof(pfx));
	cli_printf(a->out, "*%7u %18s %14s %15s   %c %4u %6u %8s\n", ++a->id, pfx,
		   ifc ? ifc->name : "?", conf_ip_str(e->gateway, gw), e->connected ? 'C' : 'S',
		   e->connected ? 0 : 20, e->connected ? 0 : 1, "Root");
	return 0;
}

/* get route */
static int
view_route(struct dp *dp, struct cli_out *out)
{
	struct route_view_arg a = { .dp = dp, .out = out };

	cli_printf(out, "IPv4 Dest-Routes for <trust-vr> (%u entries)\n", route_count(dp->rt));
	cli_printf(out, "--------------------------------------------------------------------------------\n");
	cli_printf(out, "H: Host C: Connected S: Static A: Auto-Exported\n");
	cli_printf(out, "I: Imported R: RIP P: Permanent D: Auto-Discovered\n");
	cli_printf(out, "N: NSRP SH: SharedDIP O: OSPF E1: OSPF external type 1\n\n");
	cli_printf(out, "%8s %18s %14s %15s %3s %4s %6s %8s\n", "ID", "IP-Prefix", "Interface",
		   "Gateway", "P", "Pref", "Mtr", "Vsys");
	cli_printf(out, "--------------------------------------------------------------------------------\n");
	route_walk(dp->rt, route_line, &a);
	return 0;
}

struct arp_view_arg {
	struct dp *dp;
	struct cli_out *out;
};

static int
arp_line(const struct neigh_info *ni, void *arg)
{
	static const char *const state[] = { "FREE", "PEND", "VLD", "STAT" };
	struct arp_view_arg *a = arg;
	const struct route_iface *ifc = route_iface_get(a->dp->rt, ni->iface);
	char ip[16], mac[16];

	mac_str(&ni->mac, mac);
	cli_printf(a->out, " %-15s %-12s %-18s %-5s %6u %5u %6u\n", conf_ip_str(ni->ip, ip),
		   ni->state == NEIGH_INCOMPLETE ? "000000000000" : mac,
		   ifc ? ifc->name : "?", state[ni->state & 3], ni->age, ni->tries, ni->queued);
	return 0;
}

/* get arp */
static int
view_arp(struct dp *dp, struct cli_out *out)
{
	struct arp_view_arg a = { .dp = dp, .out = out };
	struct neigh_stats st;
	uint32_t used, max;

	neigh_usage(dp->neigh, &used, &max);
	neigh_stats_get(dp->neigh, &st);
	cli_printf(out, "total arp entries: %u, max %u, table full %lu, queue full %lu, failed %lu\n",
		   used, max, (unsigned long)st.table_full, (unsigned long)st.queue_full,
		   (unsigned long)st.failed);
	cli_printf(out, " %-15s %-12s %-18s %-5s %6s %5s %6s\n", "IP", "Mac", "Interface", "State",
		   "Age", "Retry", "PakQue");
	neigh_walk(dp->neigh, dp_now(dp), arp_line, &a);
	return 0;
}

/* get mbuf */
static int
view_mbuf(struct dp *dp, struct cli_out *out)
{
	struct rte_mempool *mp = dp->pool;
	uint64_t nombuf = 0, missed = 0;
	unsigned i, lc, cached = 0;
	struct dp_stats sum;

	for (lc = 0; lc < RTE_MAX_LCORE; lc++) {
		struct rte_mempool_cache *c = rte_mempool_default_cache(mp, lc);

		if (c != NULL)
			cached += c->len;
	}
	for (i = 0; i < route_iface_count(dp->rt); i++) {
		struct rte_eth_stats es;

		if (dp->ports[i].used && rte_eth_stats_get(dp->ports[i].pi.port_id, &es) == 0) {
			nombuf += es.rx_nombuf;
			missed += es.imissed;
		}
	}
	dp_stats_sum(dp, &sum);
	cli_printf(out, "mbuf pool: max %u, in use %u, free %u, in lcore caches %u (cache size %u)\n",
		   mp->size, rte_mempool_in_use_count(mp), rte_mempool_avail_count(mp), cached,
		   mp->cache_size);
	cli_printf(out, "no mbuf: generated packets %lu, receive %lu; receive missed %lu\n",
		   (unsigned long)sum.drops[PKT_DROP_MBUF_ALLOC], (unsigned long)nombuf,
		   (unsigned long)missed);
	return 0;
}

/* get counter statistics [interface NAME] */
static int
view_counters(struct dp *dp, const char *name, struct cli_out *out)
{
	struct dp_stats sum;
	unsigned i, n = route_iface_count(dp->rt), shown = 0;

	dp_stats_sum(dp, &sum);
	for (i = 0; i < n; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);
		struct rte_eth_stats es;

		if (ifc == NULL || (name != NULL && strcmp(name, ifc->name) != 0))
			continue;
		memset(&es, 0, sizeof(es));
		if (dp->ports[i].used)
			rte_eth_stats_get(dp->ports[i].pi.port_id, &es);
		cli_printf(out, "Hardware counters of %s:\n", ifc->name);
		cli_printf(out, "in packets   %12lu | out packets  %12lu\n",
			   (unsigned long)es.ipackets, (unsigned long)es.opackets);
		cli_printf(out, "in bytes     %12lu | out bytes    %12lu\n",
			   (unsigned long)es.ibytes, (unsigned long)es.obytes);
		cli_printf(out, "in missed    %12lu | out errors   %12lu\n",
			   (unsigned long)es.imissed, (unsigned long)es.oerrors);
		cli_printf(out, "in errors    %12lu | in no mbuf   %12lu\n",
			   (unsigned long)es.ierrors, (unsigned long)es.rx_nombuf);
		cli_printf(out, "Flow counters of %s:\n", ifc->name);
		cli_printf(out, "in packets   %12lu | out packets  %12lu\n",
			   (unsigned long)sum.rx_pkts[i], (unsigned long)sum.tx_pkts[i]);
		cli_printf(out, "in bytes     %12lu | out bytes    %12lu\n\n",
			   (unsigned long)sum.rx_bytes[i], (unsigned long)sum.tx_bytes[i]);
		shown++;
	}
	if (name != NULL && shown == 0) {
		cli_printf(out, "interface \"%s\" does not exist", name);
		return -1;
	}
	if (name == NULL) {
		cli_printf(out, "Flow totals:\n");
		cli_printf(out, "forwarded    %12lu | slow path    %12lu\n",
			   (unsigned long)sum.forwarded, (unsigned long)sum.punted);
		cli_printf(out, "drops:\n");
		for (i = 1; i < PKT_DROP_MAX; i++)
			cli_printf(out, "  %-20s %12lu  %s\n", pkt_drop_name(i),
				   (unsigned long)sum.drops[i], pkt_drop_help(i));
	}
	return 0;
}

int
h_get_interface(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	return view_interface(ctx, cli_arg_str(a, "interface"), out);
}

int
h_get_route(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	return view_route(ctx, out);
}

int
h_get_arp(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	return view_arp(ctx, out);
}

int
h_get_mbuf(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	return view_mbuf(ctx, out);
}

int
h_get_counter_stat(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	return view_counters(ctx, cli_arg_str(a, "interface"), out);
}

void
dp_rcu_queues(const struct dp *dp, struct dp_rcu_queue q[DP_RCU_QUEUES])
{
	struct flow_stats fs;
	struct pptp_stats ps;

	flow_stats_get(dp->flows, &fs);
	pptp_stats_get(dp->pptp, &ps);
	q[0] = (struct dp_rcu_queue){ "sessions", "sessions", fs.rcu };
	q[1] = (struct dp_rcu_queue){ "pptp calls", "pptp_calls", ps.rcu_calls };
	q[2] = (struct dp_rcu_queue){ "pptp control", "pptp_control", ps.rcu_ctrl };
	route_rcu_stats(dp->rt, &q[3].st);
	q[3].name = "route next hops";
	q[3].key = "route_next_hops";
	neigh_rcu_stats(dp->neigh, &q[4].st);
	q[4].name = "neighbours";
	q[4].key = "neighbours";
}

/* The reclamation queues (docs/architecture.md, "Reclamation"). */
static void
view_rcu(const struct dp *dp, struct cli_out *out)
{
	struct dp_rcu_queue q[DP_RCU_QUEUES];
	unsigned i;

	dp_rcu_queues(dp, q);
	cli_printf(out, "reclamation (reused after every worker's grace period):\n");
	cli_printf(out, "  %-22s %12s %12s %12s %12s\n", "queue", "deferred", "freed", "pending",
		   "not deferred");
	for (i = 0; i < DP_RCU_QUEUES; i++)
		cli_printf(out, "  %-22s %12lu %12lu %12lu %12lu\n", q[i].name,
			   (unsigned long)q[i].st.deferred, (unsigned long)q[i].st.freed,
			   (unsigned long)(q[i].st.deferred - q[i].st.freed),
			   (unsigned long)q[i].st.failed);
}

/* get counter flow: every drop reason with its count. */
int
h_get_counter_flow(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct dp_stats sum;
	struct flow_stats fs;
	unsigned i;

	RTE_SET_USED(a);
	dp_stats_sum(dp, &sum);
	flow_stats_get(dp->flows, &fs);
	cli_printf(out, "flow counters:\n");
	cli_printf(out, "  %-22s %12lu\n", "forwarded", (unsigned long)sum.forwarded);
	cli_printf(out, "  %-22s %12lu\n", "slow path", (unsigned long)sum.punted);
	cli_printf(out, "  %-22s %12lu\n", "sessions created", (unsigned long)fs.created);
	cli_printf(out, "  %-22s %12lu\n", "sessions aged", (unsigned long)fs.aged);
	cli_printf(out, "  %-22s %12lu\n", "sessions cleared", (unsigned long)fs.cleared);
	cli_printf(out, "  %-22s %12lu\n", "session alloc failed", (unsigned long)fs.alloc_failed);
	cli_printf(out, "  %-22s %12lu\n", "session insert failed", (unsigned long)fs.insert_failed);
	for (i = 0; i < dp->n_workers; i++) {
		const struct dp_stats *ws = &dp->workers[i].st;

		cli_printf(out, "  worker %u: session hits %lu, on another worker's sessions %lu, "
			   "sessions alive %lu\n", i, (unsigned long)ws->hits,
			   (unsigned long)ws->hits_foreign, (unsigned long)fs.per_worker[i]);
	}
	view_rcu(dp, out);
	cli_printf(out, "drops by reason:\n");
	for (i = 1; i < PKT_DROP_MAX; i++)
		cli_printf(out, "  %-22s %12lu  %s\n", pkt_drop_name(i), (unsigned long)sum.drops[i],
			   pkt_drop_help(i));
	return 0;
}

/*
 * get worker: what each worker received, made and dropped, and how many of
 * its packets were of another worker's sessions; then who spreads each
 * port's packets over the queues (issue 16).
 */
void
dp_stats_rx_drops(const struct dp_stats *st, uint64_t *rx, uint64_t *drops)
{
	unsigned k;

	*rx = *drops = 0;
	for (k = 0; k < ROUTE_MAX_IFACES; k++)
		*rx += st->rx_pkts[k];
	for (k = 1; k < PKT_DROP_MAX; k++)
		*drops += st->drops[k];
}

int
h_get_worker(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct flow_stats fs;
	unsigned i;

	RTE_SET_USED(a);
	flow_stats_get(dp->flows, &fs);
	cli_printf(out, "%u worker(s); a non-owner packet is one of a session another worker made\n",
		   dp->n_workers);
	cli_printf(out, "worker lcore   rx-packets    forwarded     sessions      created    non-owner        drops\n");
	for (i = 0; i < dp->n_workers; i++) {
		const struct dp_stats *ws = &dp->workers[i].st;
		uint64_t rx, drops;

		dp_stats_rx_drops(ws, &rx, &drops);
		cli_printf(out, "%6u %5u %12lu %12lu %12lu %12lu %12lu %12lu\n", i, dp->workers[i].lcore,
			   (unsigned long)rx, (unsigned long)ws->forwarded,
			   (unsigned long)fs.per_worker[i], (unsigned long)ws->created,
			   (unsigned long)ws->hits_foreign, (unsigned long)drops);
	}
	cli_printf(out, "non-owner packets are handled where they arrive, in the shared session "
		   "table (no handoff)\n");
	cli_printf(out, "interface        port                 queues rss      reta  key  why\n");
	for (i = 0; i < ROUTE_MAX_IFACES; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);
		const struct port_info *pi = &dp->ports[i].pi;

		if (ifc == NULL || !dp->ports[i].used)
			continue;
		cli_printf(out, "%-16s %-20s %6u %-8s %4u %4u  %s\n", ifc->name, pi->name, pi->nb_rxq,
			   port_rss_mode_name(pi->rss_mode), pi->reta_size, pi->hash_key_size,
			   pi->rss_why);
	}
	return 0;
}

int
h_clear_counter(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	unsigned w;

	RTE_SET_USED(a);
	RTE_SET_USED(out);
	/* Counters are written by their lcore alone; a torn reset is harmless. */
	for (w = 0; w < dp->n_workers; w++)
		memset(&dp->workers[w].st, 0, sizeof(dp->workers[w].st));
	memset(&dp->ctl_st, 0, sizeof(dp->ctl_st));
	for (w = 0; w < ROUTE_MAX_IFACES; w++)
		if (dp->ports[w].used)
			rte_eth_stats_reset(dp->ports[w].pi.port_id);
	return 0;
}

int
h_clear_arp(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;

	RTE_SET_USED(a);
	cli_printf(out, "%u arp entries cleared\n", neigh_flush(dp->neigh));
	dp_neigh_drops(dp);   /* what they still queued */
	return 0;
}
