/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's CLI: the command table and the views of interfaces, routes,
 * neighbours and counters, in ScreenOS shapes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include <rte_log.h>

#include <rte_version.h>

#include "dp.h"
#include "dpnat_version.h"

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
static void
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

/* ---- sessions ---- */

/** Filters of `get session` / `clear session`; a session matches if its original or translated tuple does. */
struct sess_filter {
	bool id_set, src_set, dst_set, sport_set, dport_set, proto_set;
	uint32_t id;
	uint32_t src, src_mask, dst, dst_mask;   /* host order */
	uint16_t sport, dport;                   /* host order */
	uint8_t proto;
};

static bool
tuple_match(const struct sess_filter *f, rte_be32_t src, rte_be32_t dst, rte_be16_t sp,
	    rte_be16_t dpt)
{
	if (f->src_set && (rte_be_to_cpu_32(src) & f->src_mask) != (f->src & f->src_mask))
		return false;
	if (f->dst_set && (rte_be_to_cpu_32(dst) & f->dst_mask) != (f->dst & f->dst_mask))
		return false;
	if (f->sport_set && rte_be_to_cpu_16(sp) != f->sport)
		return false;
	if (f->dport_set && rte_be_to_cpu_16(dpt) != f->dport)
		return false;
	return true;
}

/*
 * The port (or Call ID) a session's replies arrive on: the one its first
 * direction is translated to. key[1].dport says the same, except in a PPTP
 * gate's second key, which holds 0 there (FLOW_KEY_GRE_QUOTE).
 */
static inline rte_be16_t
wing1_dport(const struct flow_session *s)
{
	return s->rw[0].sport;
}

static bool
sess_match(const struct sess_filter *f, const struct flow_session *s)
{
	const struct flow_key *k0 = &s->key[0], *k1 = &s->key[1];

	if (f->id_set && s->id != f->id)
		return false;
	if (f->proto_set && s->proto != f->proto)
		return false;
	return tuple_match(f, k0->src, k0->dst, k0->sport, k0->dport) ||
	       tuple_match(f, k1->dst, k1->src, wing1_dport(s), k1->sport);
}

/* MAC of the neighbour that sends a wing's packets (its source, or the gateway towards it). */
static void
wing_mac(struct dp *dp, uint8_t iface, rte_be32_t src, char *buf)
{
	struct rte_ether_addr mac;
	struct route_nh nh;
	uint32_t ip = rte_be_to_cpu_32(src);

	if (route_lookup(dp->rt, ip, &nh) == 0 && nh.gateway != 0)
		ip = nh.gateway;
	if (neigh_lookup(dp->neigh, iface, ip, &mac) == 0)
		mac_str(&mac, buf);
	else
		snprintf(buf, 13, "000000000000");
}

/* One ScreenOS session block: the header line and its two wings. */
static void
sess_print(struct dp *dp, const struct flow_session *s, struct cli_out *out)
{
	const struct flow_key *k0 = &s->key[0], *k1 = &s->key[1];
	uint32_t left = flow_time_left(dp->flows, s);
	char a[16], b[16], m0[16], m1[16];
	bool alg = (s->flags & FLOW_F_ALG_MADE) != 0;

	wing_mac(dp, s->iface[0], k0->src, m0);
	wing_mac(dp, s->iface[1], k1->src, m1);
	/* ScreenOS counts session time in units of 10 seconds; a blank line opens each session. */
	cli_printf(out, "\nid %u/s%s,vsys 0,flag %08x/%04x/0003,policy %u,time %u, dip %u module %u\n",
		   s->id, alg ? "**" : "0*", (unsigned)s->flags << 12 | s->tcp, s->tmo,
		   s->policy_id, (left + 9) / 10, s->dip_id, alg ? 1 : 0);
	/* The KB prints ALG-made wings with other nspflags and without "wsf". */
	cli_printf(out, " if %u(nspflag %s):%s/%u->%s/%u,%u,%s,sess token 3,vlan 0,tun 0,vsd 0,route %u%s\n",
		   s->iface[0], alg ? "800801" : "801801", conf_ip_str(rte_be_to_cpu_32(k0->src), a), rte_be_to_cpu_16(k0->sport),
		   conf_ip_str(rte_be_to_cpu_32(k0->dst), b), rte_be_to_cpu_16(k0->dport), s->proto, m0,
		   s->out_iface[0], alg ? "" : ",wsf 0");
	cli_printf(out, " if %u(nspflag %s):%s/%u<-%s/%u,%u,%s,sess token 4,vlan 0,tun 0,vsd 0,route %u%s\n",
		   s->iface[1], alg ? "800900" : "10801800", conf_ip_str(rte_be_to_cpu_32(k1->dst), a), rte_be_to_cpu_16(wing1_dport(s)),
		   conf_ip_str(rte_be_to_cpu_32(k1->src), b), rte_be_to_cpu_16(k1->sport), s->proto, m1,
		   s->out_iface[1], alg ? "" : ",wsf 0");
}

struct sess_walk {
	struct dp *dp;
	const struct sess_filter *f;
	struct cli_out *out;
	uint64_t matched;
	bool print;
	bool clear;
};

static int
sess_visit(struct flow_session *s, void *arg)
{
	struct sess_walk *sw = arg;

	if (!sess_match(sw->f, s))
		return 0;
	sw->matched++;
	if (sw->print)
		sess_print(sw->dp, s, sw->out);
	if (sw->clear)
		flow_delete(sw->dp->flows, s, false);
	return 0;
}

/* A `get session` list being streamed. */
struct sess_stream {
	struct sess_filter f;
	struct sess_walk sw;
	uint32_t cursor;
};

static int
sess_stream_next(void *state, struct cli_out *out)
{
	struct sess_stream *ss = state;

	if (out != NULL) {
		ss->sw.out = out;
		/* 2048 sessions a slice: about 700 kB of text at most. */
		if (flow_walk(ss->sw.dp->flows, &ss->cursor, 2048, sess_visit, &ss->sw) &&
		    !out->failed)
			return 0;
	}
	free(ss);
	return 1;
}

/* get session [filters] */
static int
view_session(struct dp *dp, const struct sess_filter *f, struct cli_out *out)
{
	struct sess_walk sw = { .dp = dp, .f = f, .out = out };
	struct sess_stream *st_state;
	struct flow_stats st;
	uint32_t cursor = 0;
	unsigned w;

	flow_stats_get(dp->flows, &st);
	cli_printf(out, "alloc %lu/max %lu, alloc failed %lu, mcast alloc 0, di alloc failed 0\n",
		   (unsigned long)st.alloc, (unsigned long)st.max, (unsigned long)st.alloc_failed);
	cli_printf(out, "total reserved 0, free sessions in shared pool %lu\n",
		   (unsigned long)(st.max - st.alloc - st.pending_free));
	for (w = 0; w < dp->n_workers; w++)
		cli_printf(out, "worker %u: alloc %lu/max %lu\n", w, (unsigned long)st.per_worker[w],
			   (unsigned long)st.max);
	/* Count first so that the total comes before the list, as on ScreenOS. */
	while (flow_walk(dp->flows, &cursor, 65536, sess_visit, &sw))
		;
	cli_printf(out, "Total %lu sessions according filtering criteria.\n",
		   (unsigned long)sw.matched);
	/* The list itself streams, a slice at a time, as the client reads it. */
	st_state = malloc(sizeof(*st_state));
	if (st_state != NULL) {
		st_state->f = *f;
		st_state->sw = (struct sess_walk){ .dp = dp, .f = &st_state->f, .print = true };
		st_state->cursor = 0;
		if (dp_ctl_stream(sess_stream_next, st_state) == 0)
			return 0;
		free(st_state);
	}
	sw.print = true;
	cursor = 0;
	while (flow_walk(dp->flows, &cursor, 65536, sess_visit, &sw))
		;
	return 0;
}

/* clear session [filters] */
static int
clear_session(struct dp *dp, const struct sess_filter *f, struct cli_out *out)
{
	struct sess_walk sw = { .dp = dp, .f = f, .out = out, .clear = true };
	uint32_t cursor = 0;

	while (flow_walk(dp->flows, &cursor, 65536, sess_visit, &sw))
		;
	cli_printf(out, "%lu sessions cleared\n", (unsigned long)sw.matched);
	return 0;
}

/* ---- the command table ---- */

static int
h_get_interface(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	return view_interface(ctx, cli_arg_str(a, "interface"), out);
}

static int
h_get_route(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	return view_route(ctx, out);
}

static int
h_get_arp(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	return view_arp(ctx, out);
}

static int
h_get_mbuf(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	return view_mbuf(ctx, out);
}

static int
h_get_counter_stat(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	return view_counters(ctx, cli_arg_str(a, "interface"), out);
}

/* get counter flow: every drop reason with its count. */
static int
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
	cli_printf(out, "drops by reason:\n");
	for (i = 1; i < PKT_DROP_MAX; i++)
		cli_printf(out, "  %-22s %12lu  %s\n", pkt_drop_name(i), (unsigned long)sum.drops[i],
			   pkt_drop_help(i));
	return 0;
}

/* Session filters from the parsed arguments. */
static void
sess_filter_get(const struct cli_args *a, struct sess_filter *f)
{
	uint8_t plen;

	memset(f, 0, sizeof(*f));
	if (cli_arg_present(a, "id")) {
		f->id_set = true;
		f->id = cli_arg_u32(a, "id");
	}
	if (cli_arg_ip(a, "src-ip", &f->src, &plen) == 0) {
		f->src_set = true;
		f->src_mask = plen ? ~0u << (32 - plen) : 0;
	}
	if (cli_arg_ip(a, "dst-ip", &f->dst, &plen) == 0) {
		f->dst_set = true;
		f->dst_mask = plen ? ~0u << (32 - plen) : 0;
	}
	if (cli_arg_present(a, "src-port")) {
		f->sport_set = true;
		f->sport = (uint16_t)cli_arg_u32(a, "src-port");
	}
	if (cli_arg_present(a, "dst-port")) {
		f->dport_set = true;
		f->dport = (uint16_t)cli_arg_u32(a, "dst-port");
	}
	if (cli_arg_present(a, "protocol")) {
		f->proto_set = true;
		f->proto = (uint8_t)cli_arg_u32(a, "protocol");
	}
}

static int
h_get_session(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct sess_filter f;

	sess_filter_get(a, &f);
	return view_session(ctx, &f, out);
}

static int
h_clear_session(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct sess_filter f;

	sess_filter_get(a, &f);
	return clear_session(ctx, &f, out);
}

static int
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

static int
h_clear_arp(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;

	RTE_SET_USED(a);
	cli_printf(out, "%u arp entries cleared\n", neigh_flush(dp->neigh));
	dp_neigh_drops(dp);   /* what they still queued */
	return 0;
}

/* A FILE that writes into a cli_out, so conf_dump can stream into the answer. */
static ssize_t
cookie_write(void *c, const char *buf, size_t len)
{
	return cli_write(c, buf, len) == 0 ? (ssize_t)len : -1;
}

/* ---- ALG views (KB12423 shapes) ---- */

static int
h_get_alg(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;

	RTE_SET_USED(a);
	cli_printf(out, "%-12s ALG : %s\n", "PPTP", dp->conf.alg_pptp ? "enabled" : "disabled");
	return 0;
}

static int
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

/* ---- per-source limits and fragments ---- */

/* A per-source table: usage, refusals and the hosts holding most (what = "sessions", "calls"). */
static void
src_table_print(struct nat_src *t, const char *what, struct cli_out *out)
{
	struct nat_src_entry top[10];
	struct nat_src_stats st;
	unsigned i, n;
	char a[16];

	nat_src_stats_get(t, &st);
	cli_printf(out, "source hosts: %lu counted, max %lu; %s counted %lu\n",
		   (unsigned long)st.sources, (unsigned long)st.max, what, (unsigned long)st.units);
	cli_printf(out, "refused: at limit %lu, table full %lu\n", (unsigned long)st.refused_limit,
		   (unsigned long)st.refused_full);
	n = nat_src_top(t, top, RTE_DIM(top));
	cli_printf(out, "top source hosts:\n");
	for (i = 0; i < n; i++)
		cli_printf(out, "  %-15s %10u\n", conf_ip_str(top[i].ip, a), top[i].count);
}

/* get session limit: ScreenOS limit-session source-ip-based, per zone. */
static int
h_get_session_limit(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	unsigned z;

	RTE_SET_USED(a);
	cli_printf(out, "screen limit-session source-ip-based:\n");
	for (z = 0; z < ROUTE_MAX_ZONES; z++) {
		const char *name = route_zone_name(dp->rt, z);

		if (name[0] != '\0')
			cli_printf(out, "  zone %-12s %u sessions per source host\n", name,
				   __atomic_load_n(&dp->zone_limit_src[z], __ATOMIC_RELAXED));
	}
	src_table_print(dp->src_sessions, "sessions", out);
	return 0;
}

/* get alg pptp xlate per-client */
static int
h_get_alg_pptp_per_client(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;

	RTE_SET_USED(a);
	cli_printf(out, "pptp xlate per-client: %u calls per inside host\n",
		   dp->conf.limits.pptp_per_client);
	src_table_print(dp->src_calls, "calls", out);
	return 0;
}

/* get flow frag */
static int
h_get_flow_frag(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct nat_frag_stats st;

	RTE_SET_USED(a);
	nat_frag_stats_get(dp->frags, &st);
	cli_printf(out, "fragmented datagrams tracked: %lu in use, max %lu, timeout %u s\n",
		   (unsigned long)st.used, (unsigned long)st.max, st.timeout);
	cli_printf(out, "first fragments %lu, failed %lu; completed %lu, timed out %lu\n",
		   (unsigned long)st.created, (unsigned long)st.failed, (unsigned long)st.completed,
		   (unsigned long)st.timed_out);
	cli_printf(out, "later fragments translated %lu, untracked %lu\n",
		   (unsigned long)st.followed, (unsigned long)st.untracked);
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

static int
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
		if (dp_ctl_stream(xlate_stream_next, xs) == 0)
			return 0;
		free(xs);
	}
	pptp_xlate_walk(dp->pptp, now, xlate_line, &xp);
	cli_printf(out, "---------- rev xlate table ----------\n");
	pptp_xlate_walk(dp->pptp, now, xlate_line, &xp);
	return 0;
}

static int
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

static int
h_get_policy(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	const struct conf *c = &dp->conf;
	unsigned i;

	RTE_SET_USED(a);
	cli_printf(out, "Total regular policies %u, Default deny.\n", c->n_policies);
	cli_printf(out, "    ID From            To              Src-address  Dst-address  Service  Action\n");
	for (i = 0; i < c->n_policies; i++) {
		const struct conf_policy *p = &c->policies[i];
		char act[48];

		if (!p->permit)
			snprintf(act, sizeof(act), "Deny");
		else if (p->nat_src && p->dip_id)
			snprintf(act, sizeof(act), "Permit, NAT src dip-id %u", p->dip_id);
		else if (p->nat_src)
			snprintf(act, sizeof(act), "Permit, NAT src");
		else
			snprintf(act, sizeof(act), "Permit");
		cli_printf(out, "%6u %-15s %-15s %-12s %-12s %-8s %s\n", p->id, p->from_zone,
			   p->to_zone, p->src_addr, p->dst_addr, p->service, act);
	}
	return 0;
}

/* ---- public addresses: interface addresses and DIP pools ---- */

void
dp_nat_pool_name(const struct dp *dp, uint32_t ip, char *buf, size_t len)
{
	const struct conf *c = &dp->conf;
	unsigned i;

	for (i = 0; i < c->n_dips; i++)
		if (ip >= c->dips[i].low && ip <= c->dips[i].high) {
			snprintf(buf, len, "dip-%u", c->dips[i].id);
			return;
		}
	for (i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].has_ip && c->ifaces[i].ip == ip) {
			snprintf(buf, len, "%s", c->ifaces[i].name);
			return;
		}
	snprintf(buf, len, "-");   /* a pool removed since start keeps its addresses */
}

/* get dip: every public address, the pool it belongs to and its port use. */
static int
h_get_dip(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	unsigned i, n = nat_addr_count(dp->nat);

	RTE_SET_USED(a);
	cli_printf(out, "%u public addresses, max %u\n", n, NAT_MAX_ADDRS);
	cli_printf(out, "%-15s %-16s %10s %10s %12s\n", "Address", "Pool", "Used", "Ports",
		   "Failed");
	for (i = 0; i < n; i++) {
		struct nat_addr_info ni;
		char ip[16], pool[CONF_NAME_LEN + 8];

		nat_addr_info(dp->nat, i, &ni);
		dp_nat_pool_name(dp, ni.ip, pool, sizeof(pool));
		cli_printf(out, "%-15s %-16s %10u %10u %12lu\n", conf_ip_str(ni.ip, ip), pool, ni.used,
			   ni.size, (unsigned long)ni.failed);
	}
	return 0;
}

/* ---- logging: one dynamic log type per module, "dpnat.<module>" ---- */

static const char *const log_modules[] = { "main", "ctl", "flow", "nat", "route", "neigh", "pptp" };
static const char *const log_levels[] = { "", "emerg", "alert", "crit", "err", "warning",
					  "notice", "info", "debug" };

static int
h_get_log(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	unsigned i;

	RTE_SET_USED(a);
	RTE_SET_USED(ctx);
	cli_printf(out, "%-14s %s\n", "module", "level");
	for (i = 0; i < RTE_DIM(log_modules); i++) {
		char name[32];
		int t, lvl;

		snprintf(name, sizeof(name), "dpnat.%s", log_modules[i]);
		t = rte_log_register(name);   /* returns the existing type */
		lvl = t < 0 ? -1 : rte_log_get_level((uint32_t)t);
		cli_printf(out, "%-14s %s\n", log_modules[i],
			   lvl > 0 && lvl < (int)RTE_DIM(log_levels) ? log_levels[lvl] : "?");
	}
	return 0;
}

static int
h_set_log_level(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	const char *mod = cli_arg_str(a, "level"), *lv = cli_arg_rest(a);
	char pat[40];
	unsigned i, level = 0;
	bool known = strcmp(mod, "all") == 0;

	RTE_SET_USED(ctx);
	for (i = 0; i < RTE_DIM(log_modules); i++)
		known |= strcasecmp(mod, log_modules[i]) == 0;
	if (!known) {
		cli_printf(out, "unknown module \"%s\": expected all, main, ctl, flow, nat, route, neigh or pptp",
			   mod);
		return -1;
	}
	for (i = 1; i < RTE_DIM(log_levels); i++)
		if (strcasecmp(lv, log_levels[i]) == 0 || (lv[0] >= '1' && lv[0] <= '8' &&
							   lv[1] == '\0' && (unsigned)(lv[0] - '0') == i))
			level = i;
	if (level == 0) {
		cli_printf(out, "unknown level \"%s\": expected emerg, alert, crit, err, warning, notice, info or debug",
			   lv);
		return -1;
	}
	snprintf(pat, sizeof(pat), "dpnat.%s", strcmp(mod, "all") == 0 ? "*" : mod);
	if (rte_log_set_level_pattern(pat, level) != 0) {
		cli_printf(out, "cannot set the level of %s", pat);
		return -1;
	}
	return 0;
}

static int
h_get_config(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	cookie_io_functions_t io = { .write = cookie_write };
	FILE *f = fopencookie(out, "w", io);
	int rc;

	RTE_SET_USED(a);
	if (f == NULL) {
		cli_printf(out, "out of memory");
		return -1;
	}
	rc = conf_dump(&dp->conf, f);
	fclose(f);
	return rc;
}

/* The views get tech-support gathers: none of them streams, so all fit one answer. */
static const char *const tech_support_views[] = {
	"get config", "get interface", "get counter statistics", "get counter flow", "get route",
	"get arp", "get dip", "get policy", "get mbuf", "get alg", "get alg pptp", "get log",
};

/* get tech-support: one text for a bug report. */
static int
h_get_tech_support(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct flow_stats fs;
	unsigned i;

	RTE_SET_USED(a);
	flow_stats_get(dp->flows, &fs);
	cli_printf(out, "==== dpnat tech-support ====\n");
	cli_printf(out, "version: dpnat %s, %s\n", DPNAT_VERSION, rte_version());
	cli_printf(out, "uptime: %lu s, workers: %u, configuration: %s, socket: %s\n",
		   (unsigned long)dp_now(dp), dp->n_workers,
		   dp->config_path != NULL ? dp->config_path : "(embedded default)", dp->socket_path);
	cli_printf(out, "sessions: %lu in use, max %lu, alloc failed %lu, pending free %lu\n",
		   (unsigned long)fs.alloc, (unsigned long)fs.max, (unsigned long)fs.alloc_failed,
		   (unsigned long)fs.pending_free);
	for (i = 0; i < RTE_DIM(tech_support_views) && !out->failed; i++) {
		cli_printf(out, "\n==== %s ====\n", tech_support_views[i]);
		if (dp_cli_exec(dp, tech_support_views[i], out) != 0)
			cli_printf(out, "\n(failed)\n");
	}
	cli_printf(out, "\n==== recent log ====\n");
	dp_logbuf_dump(out);
	return 0;
}

static int
h_set(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	return dp_config_line(ctx, cli_arg_line(a), out);
}

static int
h_help(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(ctx);
	return cli_list_commands(cli_arg_table(a), out);
}

#define SESS_FILTERS "[id <u32>] [src-ip <ip/mask>] [dst-ip <ip/mask>] [src-port <port>] " \
		     "[dst-port <port>] [protocol <proto>]"

static const struct cli_cmd dp_cmds[] = {
	{ "get interface [<name>]", "interfaces, or one interface", h_get_interface },
	{ "get route", "the routing table", h_get_route },
	{ "get arp", "the neighbour (ARP) table", h_get_arp },
	{ "get mbuf", "the packet buffer pool: use, caches, allocation failures", h_get_mbuf },
	{ "get counter statistics [interface <name>]", "port and interface counters, drops",
	  h_get_counter_stat },
	{ "get counter flow", "flow counters and every drop reason", h_get_counter_flow },
	{ "get session " SESS_FILTERS, "sessions, optionally filtered", h_get_session },
	{ "get session limit", "sessions per source host: limits per zone, refusals, top hosts",
	  h_get_session_limit },
	{ "get flow frag", "fragments of translated flows: tracked datagrams and counters",
	  h_get_flow_frag },
	{ "get config", "the running configuration as set lines", h_get_config },
	{ "get policy", "security policies in evaluation order", h_get_policy },
	{ "get dip", "public addresses (interface and DIP pool): ports used, failures", h_get_dip },
	{ "get log", "log level of each dpnat module", h_get_log },
	{ "get tech-support", "version, configuration, counters, tables and the recent log in one text",
	  h_get_tech_support },
	{ "set log level <name> <rest>", "set a module's log level (all, main, ctl, flow, nat, route, neigh, pptp; emerg..debug)",
	  h_set_log_level },
	{ "get alg", "application layer gateways and their state", h_get_alg },
	{ "get alg pptp", "PPTP ALG settings, limits and counters", h_get_alg_pptp },
	{ "get alg pptp xlate " SESS_FILTERS, "PPTP Call-ID translations", h_get_alg_pptp_xlate },
	{ "get alg pptp xlate per-client", "PPTP calls per inside host: limit, refusals, top hosts",
	  h_get_alg_pptp_per_client },
	{ "clear alg pptp xlate " SESS_FILTERS, "tear down matching PPTP calls and their GRE sessions",
	  h_clear_alg_pptp_xlate },
	{ "clear session " SESS_FILTERS, "delete matching sessions", h_clear_session },
	{ "clear counter", "reset all counters", h_clear_counter },
	{ "clear arp", "flush dynamic ARP entries", h_clear_arp },
	{ "set <rest>", "change the running configuration", h_set },
	{ "unset <rest>", "remove from the running configuration", h_set },
	{ "help", "list every command", h_help },
};

static const struct cli_word_help dp_words[] = {
	{ "get", "show information" },
	{ "set", "configure" },
	{ "unset", "remove configuration" },
	{ "clear", "clear dynamic state" },
	{ "help", "list every command" },
	{ "interface", "network interfaces" },
	{ "route", "routing table" },
	{ "arp", "ARP (neighbour) table" },
	{ "mbuf", "packet buffer pool" },
	{ "counter", "counters" },
	{ "statistics", "interface statistics" },
	{ "flow", "flow counters and drop reasons" },
	{ "session", "session table" },
	{ "config", "running configuration" },
	{ "policy", "security policies" },
	{ "dip", "public addresses and DIP pools" },
	{ "log", "logging" },
	{ "tech-support", "everything for a bug report" },
	{ "level", "log level of a module" },
	{ "<level>", "module: all, main, ctl, flow, nat, route, neigh, pptp" },
	{ "alg", "application layer gateways" },
	{ "pptp", "the PPTP ALG" },
	{ "xlate", "PPTP Call-ID translation table" },
	{ "per-client", "calls per inside host" },
	{ "limit", "sessions per source host (limit-session)" },
	{ "frag", "fragments of translated flows" },
	{ "id", "session id" },
	{ "src-ip", "source address [/len]" },
	{ "dst-ip", "destination address [/len]" },
	{ "src-port", "source port" },
	{ "dst-port", "destination port" },
	{ "protocol", "IP protocol (number or tcp, udp, icmp, gre)" },
	{ "<interface>", "interface name" },
	{ "<id>", "session id" },
	{ "<src-ip>", "a.b.c.d[/len]" },
	{ "<dst-ip>", "a.b.c.d[/len]" },
	{ "<src-port>", "0-65535" },
	{ "<dst-port>", "0-65535" },
	{ "<protocol>", "0-255, tcp, udp, icmp, gre" },
	{ "<rest>", "configuration statement (see get config)" },
};

static const struct cli_table dp_table = {
	.cmds = dp_cmds, .n_cmds = RTE_DIM(dp_cmds),
	.words = dp_words, .n_words = RTE_DIM(dp_words),
};

int
dp_cli_exec(struct dp *dp, const char *line, struct cli_out *out)
{
	return cli_execute(&dp_table, line, out, dp);
}

/** Check the command table at start-up. 0, or -1 with the problem in err. */
int
dp_cli_check(char *err, size_t errlen)
{
	return cli_table_check(&dp_table, err, errlen);
}
