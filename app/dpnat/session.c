/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-lcore side of sessions: building the tables from the
 * configuration, the compiled policy list, what happens when a session is
 * freed, and the periodic clock/ageing/reclaim work.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_malloc.h>

#include "dp.h"
#include "dp_session.h"
#include "rss.h"

/* A session leaves: give its public port back. */
static void
session_freed(struct flow_session *s, void *arg)
{
	struct dp *dp = arg;
	const struct dp_runtime *rt = dp_runtime_get(dp);

	/*
	 * Logged as made by nat_session_new: every session but the ALG's gates
	 * and those whose port block is logged instead. Freed on the control lcore.
	 */
	if (unlikely(rt != NULL && rt->log_nat) && !(s->flags & (FLOW_F_ALG_MADE | FLOW_F_PBA)))
		dp_natlog_session(dp, dp->n_workers, s, DP_NATLOG_SESS_DEL);
	if (unlikely(dp->ha_sync) && dp_ha_syncable(s->flags, s->alg_id))
		dp_ha_session(dp, dp->n_workers, s, DP_HA_EV_DEL);
	if (s->nat_port != 0)
		nat_port_free(dp->nat, rte_be_to_cpu_32(s->rw[0].src), s->nat_port);
	/* After the port: its block goes back with its last port (nat_pba.h). */
	if (s->flags & FLOW_F_PBA)
		nat_pba_put(dp->pba, s->key[0].src, rte_be_to_cpu_32(s->rw[0].src), s->nat_port);
	if (s->xflags & FLOW_X_PORT_COUNTED)
		nat_src_put(dp->src_ports, s->key[0].src);
	/* Its endpoints' mappings: the last session of one gives its public port back. */
	if (s->flags & FLOW_F_MAP)
		nat_map_put(dp->nat_ctx.map, s->proto, s->key[0].src, s->key[0].sport);
	if (s->flags & FLOW_F_MAP_R)
		nat_map_put(dp->nat_ctx.map, s->proto, s->key[1].src, s->key[1].sport);
	/* Every session but the ALG's gates was counted for its initiator (nat_session_new). */
	if (!(s->flags & FLOW_F_ALG_MADE))
		nat_src_put(dp->src_sessions, s->key[0].src);
	/* A control session may be taking its state on a worker right now: always tell the ALG. */
	if ((s->alg != FLOW_INVALID || (s->flags & FLOW_F_ALG_CTRL)) && dp->pptp != NULL)
		pptp_session_freed(dp->pptp, s);
}

/* Register a public address with the port allocator and the PPTP Call-ID allocator. */
int
dp_public_addr_add(struct dp *dp, uint32_t ip)
{
	int idx = nat_addr_add(dp->nat, ip);

	if (idx >= 0 && dp->pptp != NULL && pptp_addr_add(dp->pptp, ip) < 0)
		return -ENOSPC;
	return idx;
}

/* Compile c's policies into set (zones must exist). 0, or -1 with err set. */
static int
policies_build(struct dp *dp, const struct conf *c, struct nat_policy_set *set, char *err,
	       size_t errlen)
{
	unsigned i;

	set->n = 0;
	for (i = 0; i < c->n_policies && i < NAT_MAX_POLICIES; i++) {
		const struct conf_policy *cp = &c->policies[i];
		struct nat_policy *p = &set->p[set->n];

		memset(p, 0, sizeof(*p));
		int fz = route_zone_id(dp->rt, cp->from_zone);
		int tz = route_zone_id(dp->rt, cp->to_zone);

		if (fz < 0 || tz < 0) {
			snprintf(err, errlen, "policy %u: too many zones", cp->id);
			return -1;
		}
		p->id = cp->id;
		p->from_zone = (uint8_t)fz;
		p->to_zone = (uint8_t)tz;
		p->permit = cp->permit;
		p->nat_src = cp->nat_src;
		p->dip_id = cp->dip_id;
		p->svc = nat_service_find(cp->service);
		if (p->svc == NULL) {
			snprintf(err, errlen, "policy %u: unknown service \"%s\"", cp->id, cp->service);
			return -1;
		}
		if (cp->nat_src && cp->dip_id != 0) {
			const struct conf_dip *d = conf_dip_find(c, cp->dip_id);

			if (d == NULL) {
				snprintf(err, errlen, "policy %u: dip-id %u does not exist", cp->id,
					 cp->dip_id);
				return -1;
			}
			p->dip_first = d->low;
			p->dip_count = d->high - d->low + 1;
			if (d->det && nat_det_setup(&p->det, d->det_inside, d->det_plen, d->low,
						    p->dip_count) != 0) {
				snprintf(err, errlen, "dip %u: inside prefix too large for the pool",
					 cp->dip_id);
				return -1;
			}
		}
		set->n++;
	}
	return 0;
}

struct dp_runtime *
dp_runtime_build(struct dp *dp, const struct conf *c, char *err, size_t errlen)
{
	struct dp_runtime *rt;
	unsigned i, z;

	RTE_BUILD_BUG_ON(NAT_MAX_ZONES != ROUTE_MAX_ZONES);
	RTE_BUILD_BUG_ON(NAT_MAX_IFACES != ROUTE_MAX_IFACES);
	rt = rte_zmalloc("dpnat_runtime", sizeof(*rt), RTE_CACHE_LINE_SIZE);
	if (rt == NULL) {
		snprintf(err, errlen, "out of memory for the runtime configuration");
		return NULL;
	}
	if (policies_build(dp, c, &rt->nat.policies, err, errlen) != 0) {
		rte_free(rt);
		return NULL;
	}
	for (z = 0; z < ROUTE_MAX_ZONES; z++)
		rt->nat.zone_untrust[z] = strcasecmp(route_zone_name(dp->rt, z), "Untrust") == 0;
	/* The last slot is for an interface without a zone: the default. */
	for (z = 0; z <= ROUTE_MAX_ZONES; z++)
		rt->nat.zone_limit_src[z] = conf_zone_limit_src(c, z < ROUTE_MAX_ZONES ?
							       route_zone_name(dp->rt, z) : "");
	/* Interface addresses are registered at start and never change at run time. */
	for (i = 0; i < ROUTE_MAX_IFACES; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);

		rt->nat.iface_nat_idx[i] = ifc != NULL && ifc->has_ip ? nat_addr_find(dp->nat, ifc->ip) : -1;
	}
	rt->nat.alg_on = (uint32_t)c->alg_pptp << DP_ALG_PPTP;
	rt->nat.map_eim = c->nat.eim;
	rt->nat.map_eif = c->nat.eif;
	rt->nat.hairpin = c->nat.hairpin;
	rt->nat.port_keep = c->nat.port_keep == CONF_PORT_PARITY ? NAT_PORT_PARITY :
			    c->nat.port_keep == CONF_PORT_PRESERVE ? NAT_PORT_PRESERVE : NAT_PORT_ANY;
	rt->worker_idle_us = c->worker_idle_us;
	rt->log_nat = c->log_nat;
	rt->nat.port_limit = c->port_limit != 0 ? c->port_limit : UINT32_MAX;
	rt->pba_max_blocks = c->pba_max_blocks;
	return rt;
}

void
dp_runtime_publish(struct dp *dp, struct dp_runtime *rt)
{
	struct dp_runtime *old = __atomic_exchange_n(&dp->run, rt, __ATOMIC_ACQ_REL);

	if (old == NULL)
		return;
	/* Workers may still read the old one: free it after every one passed a quiescent state. */
	rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	rte_free(old);
}

/* The PPTP ALG's hook: it rides on every TCP/1723 session while switched on. */
static int
alg_pptp_attach(void *arg, struct flow_session *s, unsigned w)
{
	return pptp_ctrl_attach(arg, s, w);
}

static void
alg_pptp_detach(void *arg, struct flow_session *s)
{
	pptp_ctrl_detach(arg, s);
}

void
dp_timeouts_apply(struct dp *dp)
{
	const struct conf_timeouts *t = &dp->conf.timeouts;

	flow_set_timeout(dp->flows, FLOW_TMO_TCP, t->tcp);
	flow_set_timeout(dp->flows, FLOW_TMO_TCP_SYN, t->tcp_syn);
	flow_set_timeout(dp->flows, FLOW_TMO_TCP_CLOSING, t->tcp_closing);
	flow_set_timeout(dp->flows, FLOW_TMO_UDP, t->udp);
	flow_set_timeout(dp->flows, FLOW_TMO_ICMP, t->icmp);
	flow_set_timeout(dp->flows, FLOW_TMO_GRE, t->gre);
	flow_set_timeout(dp->flows, FLOW_TMO_OTHER, t->other);
	if (dp->pptp != NULL) {
		pptp_set_timeout(dp->pptp, t->pptp_xlate);
		/* A bound, not a table size: it may change at run time like the timeouts. */
		pptp_set_ctrl_per_source(dp->pptp, dp->conf.limits.pptp_per_src);
	}
}

int
dp_sessions_init(struct dp *dp, char *err, size_t errlen)
{
	const struct conf *c = &dp->conf;
	struct nat_map *map;
	unsigned i;
	uint32_t naddr = 0;

	dp->flows = flow_create("dpnat_flows", c->limits.sessions, dp->n_workers, dp->qsbr,
				session_freed, dp, rte_socket_id());
	if (dp->flows == NULL) {
		snprintf(err, errlen, "cannot create a session table of %u: %s", c->limits.sessions,
			 rte_strerror(rte_errno));
		return -1;
	}
	for (i = 0; i < c->n_ifaces; i++)
		naddr += c->ifaces[i].has_ip;
	for (i = 0; i < c->n_dips; i++)
		naddr += c->dips[i].high - c->dips[i].low + 1;
	if (naddr > NAT_MAX_ADDRS) {
		snprintf(err, errlen, "too many public addresses (%u, max %u)", naddr, NAT_MAX_ADDRS);
		return -1;
	}
	/* Room for DIP pools added at run time. */
	dp->nat = nat_create("dpnat_nat", dp->n_workers, RTE_MIN(naddr + 256, (uint32_t)NAT_MAX_ADDRS),
			     rte_socket_id());
	if (dp->nat == NULL) {
		snprintf(err, errlen, "cannot create the NAT allocator");
		return -1;
	}
	/* Ports by RSS class where a port's replies land as dpnat's key and table put them. */
	if (dp_rss_owned_any(dp) && dp->n_workers > 1 && rss_queues_ok(dp->n_workers) &&
	    nat_set_rss(dp->nat, rss_key, dp->n_workers) != 0) {
		snprintf(err, errlen, "cannot create the NAT allocator's RSS classes");
		return -1;
	}
	/* One control state per PPTP control connection; calls are bounded by the xlate limit. */
	dp->pptp = pptp_create("dpnat_pptp", c->limits.pptp_xlate,
			       RTE_MIN(c->limits.pptp_xlate, c->limits.sessions), dp->n_workers,
			       dp->qsbr, dp->flows, rte_socket_id());
	if (dp->pptp == NULL) {
		snprintf(err, errlen, "cannot create a PPTP xlate table of %u: %s",
			 c->limits.pptp_xlate, rte_strerror(rte_errno));
		return -1;
	}
	pptp_set_call_log(dp->pptp, dp_natlog_pptp_call, dp);
	pptp_set_quota_log(dp->pptp, dp_natlog_pptp_quota, dp);
	for (i = 0; i < ROUTE_MAX_IFACES; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);

		if (ifc != NULL && ifc->has_ip)
			(void)dp_public_addr_add(dp, ifc->ip);
		/* Every interface address is in the NAT table: dp_addr_is_own asks it alone. */
		if (ifc != NULL && ifc->has_ip && nat_addr_find(dp->nat, ifc->ip) < 0) {
			snprintf(err, errlen, "interface %s: cannot register its address", ifc->name);
			return -1;
		}
	}
	for (i = 0; i < c->n_dips; i++) {
		uint32_t ip;

		for (ip = c->dips[i].low; ip <= c->dips[i].high && ip != 0; ip++)
			if (dp_public_addr_add(dp, ip) < 0) {
				snprintf(err, errlen, "dip %u: cannot register address", c->dips[i].id);
				return -1;
			}
	}
	dp_timeouts_apply(dp);
	if (dp_limits_init(dp, err, errlen) != 0)
		return -1;
	map = nat_map_create("dpnat_map", dp->nat, c->limits.nat_maps, rte_socket_id());
	if (map == NULL) {
		snprintf(err, errlen, "cannot create a NAT mapping table of %u: %s", c->limits.nat_maps,
			 rte_strerror(rte_errno));
		return -1;
	}
	dp->nat_ctx = (struct nat_ctx){
		.flows = dp->flows,
		.nat = dp->nat,
		.src = dp->src_sessions,
		.src_ports = dp->src_ports,
		.pba = dp->pba,
		.map = map,
		.n_algs = 1,
		.alg[DP_ALG_PPTP] = {
			.proto = IPPROTO_TCP,
			.dport = RTE_BE16(PPTP_PORT),
			.fail_reason = PKT_DROP_PPTP_XLATE_FAIL,
			.data_by_addr = true,   /* GRE: NICs hash it by addresses alone */
			.attach = alg_pptp_attach,
			.detach = alg_pptp_detach,
			.arg = dp->pptp,
		},
	};
	dp->run = dp_runtime_build(dp, c, err, errlen);
	return dp->run == NULL ? -1 : 0;
}

void
dp_sessions_tick(struct dp *dp)
{
	uint32_t budget = RTE_MAX(dp->conf.limits.sessions / 100, 1024u);

	flow_set_clock(dp->flows, (uint32_t)dp_now(dp));
	/* Never a slot twice in one tick (pptp_tick caps its own budget). */
	flow_age(dp->flows, RTE_MIN(budget, dp->conf.limits.sessions));
	flow_reclaim(dp->flows);
	route_reclaim(dp->rt);
	pptp_tick(dp->pptp, flow_clock(dp->flows), budget);
	nat_frag_age(dp->frags, flow_clock(dp->flows), 256);
	if (dp->pba != NULL)
		nat_pba_interim(dp->pba, flow_clock(dp->flows), dp->conf.pba_interim, 1024);
	dp_natlog_drain(dp);
}
