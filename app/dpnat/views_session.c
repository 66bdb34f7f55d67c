/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CLI views of sessions (listed, filtered, streamed, cleared), per-source
 * limits, fragments, policies and public addresses (control lcore).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_log.h>

#include "cli.h"
#include "dp.h"
#include "views.h"


bool
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
 * gate's second key (a one-way session's wing), which holds 0 there.
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
		if (cli_out_stream(out, sess_stream_next, st_state) == 0)
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

/* Session filters from the parsed arguments. */
void
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

int
h_get_session(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct sess_filter f;

	sess_filter_get(a, &f);
	return view_session(ctx, &f, out);
}

int
h_clear_session(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct sess_filter f;

	sess_filter_get(a, &f);
	return clear_session(ctx, &f, out);
}

/* ---- per-source limits and fragments ---- */

/* A per-source table: usage, refusals and the hosts holding most (what = "sessions", "calls"). */
void
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
int
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
				   nat_rules_src_limit(&dp_runtime_get(dp)->nat, (uint8_t)z));
	}
	src_table_print(dp->src_sessions, "sessions", out);
	return 0;
}

/* get flow frag */
int
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

int
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
int
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

/* ---- carrier-grade NAT: port blocks, deterministic pools, subscribers ---- */

/* Up to n subscribers holding blocks from position *pos, one line each. 0 once the table is walked. */
static unsigned
pba_lines(struct nat_pba *pba, uint32_t *pos, unsigned n, struct cli_out *out)
{
	struct nat_pba_sub_info subs[32];
	unsigned i, k, got, done = 0;
	char ip[16], pub[16];

	while (done < n && (got = nat_pba_list(pba, pos, subs, RTE_DIM(subs))) != 0) {
		for (i = 0; i < got; i++) {
			cli_printf(out, "%-15s %-15s %6u %10u ", conf_ip_str(subs[i].ip, ip),
				   conf_ip_str(subs[i].pub, pub), subs[i].nblocks, subs[i].ports);
			for (k = 0; k < subs[i].nblocks && k < NAT_PBA_MAX_BLOCKS; k++)
				cli_printf(out, " %u-%u", subs[i].first[k],
					   subs[i].first[k] + nat_pba_block_size(pba) - 1);
			cli_printf(out, "\n");
		}
		done += got;
	}
	return done;
}

struct pba_stream {
	struct nat_pba *pba;
	uint32_t pos;
};

/* The rest of `get nat port-block`, about 2048 subscribers a slice. */
static int
pba_stream_next(void *state, struct cli_out *out)
{
	struct pba_stream *ps = state;

	if (out != NULL && pba_lines(ps->pba, &ps->pos, 2048, out) != 0 && !out->failed)
		return 0;
	free(ps);
	return 1;
}

/* get nat port-block: settings, counters and every subscriber holding blocks (streamed). */
int
h_get_nat_port_block(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	struct nat_pba_stats st;
	struct pba_stream *ps;
	uint32_t pos = 0;

	RTE_SET_USED(a);
	if (dp->pba == NULL) {
		cli_printf(out, "port block allocation: off (set nat port-block size N, then restart)\n");
		return 0;
	}
	nat_pba_stats_get(dp->pba, &st);
	cli_printf(out, "port block allocation: size %u, max %u blocks per subscriber, interim log %u s\n",
		   nat_pba_block_size(dp->pba), dp->conf.pba_max_blocks, dp->conf.pba_interim);
	cli_printf(out, "subscribers %lu (max %lu), blocks %lu in use of %lu\n",
		   (unsigned long)st.subscribers, (unsigned long)st.max_subscribers,
		   (unsigned long)st.blocks, (unsigned long)st.blocks_total);
	cli_printf(out, "blocks allocated %lu, released %lu, interim records %lu\n",
		   (unsigned long)st.allocated, (unsigned long)st.released, (unsigned long)st.interim);
	cli_printf(out, "refused: at max-blocks %lu, no free block %lu, table full %lu\n",
		   (unsigned long)st.refused_max, (unsigned long)st.refused_noblock,
		   (unsigned long)st.refused_full);
	cli_printf(out, "%-15s %-15s %6s %10s  %s\n", "Subscriber", "Public", "Blocks", "Ports-used",
		   "Ports");
	/* A million subscribers never sit in memory as text: the list streams as the client reads. */
	ps = malloc(sizeof(*ps));
	if (ps != NULL) {
		ps->pba = dp->pba;
		ps->pos = 0;
		if (cli_out_stream(out, pba_stream_next, ps) == 0)
			return 0;
		free(ps);
	}
	while (pba_lines(dp->pba, &pos, 65536, out) != 0)
		;
	return 0;
}

/* The deterministic mapping of DIP pool d (0 when it is not one). */
static int
det_of(const struct conf_dip *d, struct nat_det *det)
{
	return d->det && nat_det_setup(det, d->det_inside, d->det_plen, d->low,
					d->high - d->low + 1) == 0;
}

/* get nat deterministic inside A.B.C.D | public A.B.C.D port N: the computed mapping, both ways. */
int
h_get_nat_det(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	const struct conf *c = &dp->conf;
	struct nat_det det;
	uint32_t ip, pub;
	uint16_t first = 0, port;
	unsigned i, found = 0;
	char s1[16], s2[16];

	if (cli_arg_present(a, "inside") && cli_arg_ip(a, "inside", &ip, NULL) == 0) {
		for (i = 0; i < c->n_dips && i < CONF_MAX_DIPS; i++) {
			if (!det_of(&c->dips[i], &det) || nat_det_forward(&det, ip, &pub, &first) != 0)
				continue;
			cli_printf(out, "%s -> %s ports %u-%u (dip %u, %u ports per inside address)\n",
				   conf_ip_str(ip, s1), conf_ip_str(pub, s2), first,
				   first + det.ports - 1, c->dips[i].id, det.ports);
			found++;
		}
		if (found == 0)
			cli_printf(out, "%s is in no deterministic pool's inside prefix\n",
				   conf_ip_str(ip, s1));
		return 0;
	}
	if (cli_arg_ip(a, "public", &pub, NULL) != 0)
		return -1;
	port = (uint16_t)cli_arg_u32(a, "port");
	for (i = 0; i < c->n_dips && i < CONF_MAX_DIPS; i++) {
		if (!det_of(&c->dips[i], &det) || nat_det_reverse(&det, pub, port, &ip) != 0)
			continue;
		(void)nat_det_forward(&det, ip, &pub, &first);
		cli_printf(out, "%s port %u <- %s (dip %u, its ports %u-%u)\n", conf_ip_str(pub, s1),
			   port, conf_ip_str(ip, s2), c->dips[i].id, first, first + det.ports - 1);
		found++;
	}
	if (found == 0)
		cli_printf(out, "%s port %u is no inside address's in a deterministic pool\n",
			   conf_ip_str(pub, s1), port);
	return 0;
}

/* get nat subscriber [A.B.C.D]: the RFC 6888 limits, refusals, and one inside host's use. */
int
h_get_nat_subscriber(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	uint32_t ip;
	char s[16];

	if (cli_arg_present(a, "subscriber") && cli_arg_ip(a, "subscriber", &ip, NULL) == 0) {
		rte_be32_t be = rte_cpu_to_be_32(ip);

		cli_printf(out, "subscriber %s\n", conf_ip_str(ip, s));
		cli_printf(out, "  sessions   %u\n", nat_src_count(dp->src_sessions, be));
		if (dp->conf.port_limit != 0)
			cli_printf(out, "  ports      %u (limit %u)\n", nat_src_count(dp->src_ports, be),
				   dp->conf.port_limit);
		else
			cli_printf(out, "  ports      not counted (no set nat subscriber-limit ports)\n");
		cli_printf(out, "  pptp calls %u (limit %u)\n", nat_src_count(dp->src_calls, be),
			   dp->conf.limits.pptp_per_client);
		return 0;
	}
	cli_printf(out, "subscriber limits: ports %s", dp->conf.port_limit ? "" : "none");
	if (dp->conf.port_limit)
		cli_printf(out, "%u", dp->conf.port_limit);
	cli_printf(out, ", pptp calls %u, sessions per zone (get session limit)\n",
		   dp->conf.limits.pptp_per_client);
	cli_printf(out, "ports:\n");
	src_table_print(dp->src_ports, "ports", out);
	cli_printf(out, "sessions:\n");
	src_table_print(dp->src_sessions, "sessions", out);
	cli_printf(out, "pptp calls:\n");
	src_table_print(dp->src_calls, "calls", out);
	return 0;
}
