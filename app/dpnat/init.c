/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's life: dp_create builds everything dpnat needs from its
 * configuration before the workers are launched (pools, tables, rings,
 * ports, routes, sessions) and returns an error instead of exiting;
 * dp_destroy frees it all. The daemon (main.c), the unit and fuzz harnesses
 * and dpnat-bench-worker build the same dataplane through them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dp_config.h"
#include "dp_iface.h"
#include "dp_session.h"
#include "dp_log.h"

RTE_LOG_REGISTER(dp_logtype_main, dpnat.main, NOTICE);
RTE_LOG_REGISTER(dp_logtype_ctl, dpnat.ctl, NOTICE);

/* A subinterface (tag) takes its parent's port, MAC and state; its frames leave by the parent's port. */
static int
setup_subif(struct dp *dp, unsigned i, struct route_iface *ri, char *err, size_t errlen)
{
	const struct conf_iface *ci = &dp->conf.ifaces[i];
	const char *dot = strrchr(ci->name, '.');
	char parent[CONF_NAME_LEN];
	const struct route_iface *par;
	int pi;

	snprintf(parent, sizeof(parent), "%.*s", dot != NULL ? (int)(dot - ci->name) : 0, ci->name);
	pi = conf_iface_index(&dp->conf, parent);
	par = pi >= 0 ? route_iface_get(dp->rt, (unsigned)pi) : NULL;
	if (par == NULL) {
		snprintf(err, errlen, "subinterface %s: no interface %s", ci->name, parent);
		return -1;
	}
	ri->port_id = par->port_id;
	ri->mac = par->mac;
	ri->up = par->up;
	dp->tx_iface[i] = (uint8_t)pi;
	dp_vlan_link(dp, (unsigned)pi, i, ci->tag);
	return 0;
}

/* Interface i of the configuration: zone, address, port (a subinterface: its parent's). */
static int
setup_iface(struct dp *dp, unsigned i, char *err, size_t errlen)
{
	const struct conf_iface *ci = &dp->conf.ifaces[i];
	char perr[CONF_ERR_LEN];
	struct route_iface ri;
	int rc;

	memset(&ri, 0, sizeof(ri));
	snprintf(ri.name, sizeof(ri.name), "%s", ci->name);
	snprintf(ri.zone, sizeof(ri.zone), "%s", ci->zone);
	ri.zone_id = ROUTE_ZONE_NONE;
	if (ci->zone[0]) {
		rc = route_zone_id(dp->rt, ci->zone);
		if (rc < 0) {
			snprintf(err, errlen, "interface %s: too many zones", ci->name);
			return -1;
		}
		ri.zone_id = (uint8_t)rc;
	}
	ri.port_id = ROUTE_NO_PORT;
	ri.nat = ci->nat;
	ri.has_ip = ci->has_ip;
	ri.ip = ci->ip;
	ri.plen = ci->plen;
	ri.mtu = ci->mtu;
	if (ci->tag != 0) {
		if (setup_subif(dp, i, &ri, err, errlen) != 0)
			return -1;
	} else if (ci->port[0]) {
		uint16_t pid;

		if (port_resolve(ci->port, &pid) != 0) {
			snprintf(err, errlen, "interface %s: port %s does not exist (known ports: %u; "
				 "add --vdev or check the PCI address)",
				 ci->name, ci->port, rte_eth_dev_count_avail());
			return -1;
		}
		rc = port_setup(pid, (uint16_t)dp->n_workers, dp_port_mtu_need(&dp->conf, i), dp->pool,
				dp->rss_assume ? PORT_F_RSS_ASSUME : 0, &dp->ports[i].pi, perr,
				sizeof(perr));
		if (rc != 0) {
			snprintf(err, errlen, "interface %s: %s", ci->name, perr);
			return -1;
		}
		dp->ports[i].used = true;
		dp->ports[i].iface = (uint8_t)i;
		DP_LOG(NOTICE, "port %s (%s): %u queue(s) for %u worker(s), RSS %s (%s)",
		       dp->ports[i].pi.name, dp->ports[i].pi.driver, dp->ports[i].pi.nb_rxq,
		       dp->n_workers, port_rss_mode_name(dp->ports[i].pi.rss_mode),
		       dp->ports[i].pi.rss_why);
		dp_port_mtu(dp, i, ci->mtu);
		ri.port_id = pid;
		ri.mac = dp->ports[i].pi.mac;
		ri.up = true;
	}
	rc = route_iface_set(dp->rt, i, &ri);
	if (rc != 0) {
		snprintf(err, errlen, "interface %s: %s", ci->name, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Interfaces, zones and ports from the configuration: physical ones first, then subinterfaces. */
static int
setup_ifaces(struct dp *dp, char *err, size_t errlen)
{
	const struct conf *c = &dp->conf;
	unsigned i;

	if (c->n_ifaces > ROUTE_MAX_IFACES) {
		snprintf(err, errlen, "too many interfaces (%u, max %u)", c->n_ifaces, ROUTE_MAX_IFACES);
		return -1;
	}
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		dp->tx_iface[i] = (uint8_t)i;
	for (i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].tag == 0 && setup_iface(dp, i, err, errlen) != 0)
			return -1;
	for (i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].tag != 0 && setup_iface(dp, i, err, errlen) != 0)
			return -1;
	dp_mtu_refresh(dp);
	return 0;
}

/* Static routes and ARP entries from the configuration. */
static int
setup_routes(struct dp *dp, char *err, size_t errlen)
{
	const struct conf *c = &dp->conf;
	unsigned i, n;
	int rc;

	for (i = 0; i < c->n_routes; i++) {
		const struct conf_route *r = &c->routes[i];
		int ifx = route_iface_by_name(dp->rt, r->iface);
		char a[16];

		rc = ifx < 0 ? -ENODEV : route_add(dp->rt, r->prefix, r->plen, (unsigned)ifx, r->gateway);
		if (rc != 0) {
			snprintf(err, errlen, "route %s/%u: %s", conf_ip_str(r->prefix, a), r->plen,
				 strerror(-rc));
			return -1;
		}
	}
	for (i = 0; i < c->n_arps; i++) {
		const struct conf_arp *ar = &c->arps[i];
		int ifx = route_iface_by_name(dp->rt, ar->iface);
		struct rte_ether_addr mac;
		char a[16];

		memcpy(mac.addr_bytes, ar->mac, 6);
		rc = ifx < 0 ? -ENODEV : neigh_update(dp->neigh, (uint8_t)ifx, ar->ip, &mac, true,
						      true, 0, NULL, 0, &n);
		if (rc != 0) {
			snprintf(err, errlen, "arp %s: %s", conf_ip_str(ar->ip, a), strerror(-rc));
			return -1;
		}
	}
	return 0;
}

int
dp_conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	if ((path != NULL ? conf_load_file(c, path, err, errlen) :
	     conf_load_string(c, "<default kb-lab.conf>", dpnat_default_conf, err, errlen)) != 0)
		return -1;
	return conf_validate(c, err, errlen);
}

bool
dp_rss_owned_any(const struct dp *dp)
{
	unsigned i;

	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		if (dp->ports[i].used && dp->ports[i].pi.rss_mode == PORT_RSS_OWNED)
			return true;
	return false;
}

unsigned
dp_mbuf_cache_size(unsigned mbufs, unsigned lcores)
{
	/*
	 * Each lcore's cache may grow to 1.5 times this before it flushes: keep
	 * every cache together to at most a fifth of the pool (no more than
	 * DPDK's usual 256), so that a small pool is never mostly parked in the
	 * cache of an lcore that does not need it while another starves.
	 */
	return RTE_MIN(256u, mbufs / (8 * RTE_MAX(lcores, 1u)));
}

/* Pools, tables and rings sized by dp->conf for dp->n_workers workers. 0 or -1 with err. */
static int
setup_tables(struct dp *dp, char *err, size_t errlen)
{
	unsigned i;
	size_t sz;

	dp->pool = rte_pktmbuf_pool_create("dpnat_mbufs", dp->conf.limits.mbufs,
					   dp_mbuf_cache_size(dp->conf.limits.mbufs, rte_lcore_count()),
					   PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (dp->pool == NULL) {
		snprintf(err, errlen, "cannot create %u mbufs: %s", dp->conf.limits.mbufs,
			 rte_strerror(rte_errno));
		return -1;
	}
	/* First: every table the workers read reclaims through it (docs/architecture.md). */
	sz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	dp->qsbr = rte_zmalloc("dpnat_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, dp->n_workers) != 0) {
		snprintf(err, errlen, "cannot create the RCU state");
		return -1;
	}
	dp->rt = route_create("dpnat_routes", 1024, dp->qsbr, rte_socket_id());
	if (dp->rt == NULL) {
		snprintf(err, errlen, "cannot create the route table: %s", rte_strerror(rte_errno));
		return -1;
	}
	dp->neigh = neigh_create("dpnat_neigh", dp->conf.limits.neighbors,
				 dp->conf.limits.neigh_queue, dp->conf.timeouts.arp, dp->qsbr,
				 rte_socket_id());
	if (dp->neigh == NULL) {
		snprintf(err, errlen, "cannot create the neighbour table: %s", rte_strerror(rte_errno));
		return -1;
	}
	dp->punt = rte_ring_create("dpnat_punt", DP_PUNT_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (dp->punt == NULL) {
		snprintf(err, errlen, "cannot create the slow path ring: %s", rte_strerror(rte_errno));
		return -1;
	}
	for (i = 0; i < dp->n_workers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dpnat_inject%u", i);
		dp->workers[i].idx = i;
		dp->workers[i].dp = dp;
		dp->workers[i].inject = rte_ring_create(name, DP_INJECT_RING, rte_socket_id(),
							RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->workers[i].inject == NULL) {
			snprintf(err, errlen, "cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -1;
		}
	}
	if (dp_natlog_create(dp, err, errlen) != 0)
		return -1;
	return dp_ha_create(dp, err, errlen);
}

/* The configuration p names, loaded and validated into c. 0 or -1 with err. */
static int
load_conf(struct conf *c, const struct dp_params *p, char *err, size_t errlen)
{
	conf_init(c);
	if (p->conf_text != NULL) {
		if (conf_load_string(c, p->conf_name != NULL ? p->conf_name : "<text>", p->conf_text,
				     err, errlen) != 0)
			return -1;
		return conf_validate(c, err, errlen);
	}
	/* Without a path: the embedded default, the KB's lab (config/kb-lab.conf). */
	return dp_conf_load(c, p->config_path, err, errlen);
}

/* Give the workers their lcores: the EAL's worker lcores, or (inline) the first ones in order. */
static int
setup_lcores(struct dp *dp, const struct dp_params *p, char *err, size_t errlen)
{
	unsigned n = p->n_workers != 0 ? p->n_workers : rte_lcore_count() - 1;
	unsigned lcore, i = 0;

	/* dp->n_workers stays 0 until it is valid: dp_destroy walks that many workers. */
	if (n == 0) {
		snprintf(err, errlen, "need at least 2 lcores: one control lcore and one worker (e.g. -l 0-1)");
		return -1;
	}
	if (n > DP_MAX_WORKERS) {
		snprintf(err, errlen, "too many workers (%u, max %u)", n, DP_MAX_WORKERS);
		return -1;
	}
	dp->n_workers = n;
	if (p->n_workers != 0) {
		RTE_LCORE_FOREACH(lcore) {
			if (i < dp->n_workers)
				dp->workers[i++].lcore = lcore;
		}
	} else {
		RTE_LCORE_FOREACH_WORKER(lcore)
			dp->workers[i++].lcore = lcore;
	}
	return 0;
}

struct dp *
dp_create(const struct dp_params *p, char *err, size_t errlen)
{
	struct dp *dp = rte_zmalloc("dpnat", sizeof(*dp), RTE_CACHE_LINE_SIZE);

	if (dp == NULL) {
		snprintf(err, errlen, "out of memory for the dataplane state");
		return NULL;
	}
	if (load_conf(&dp->conf, p, err, errlen) != 0 || setup_lcores(dp, p, err, errlen) != 0)
		goto fail;
	dp->config_path = p->config_path;
	dp->rss_assume = p->rss_assume;
	dp->socket_path = p->socket_path != NULL ? p->socket_path : dp->conf.socket_path;
	dp->hz = rte_get_tsc_hz();
	dp->start_tsc = rte_get_tsc_cycles() - (uint64_t)p->clock_s * dp->hz;
	if (setup_tables(dp, err, errlen) != 0 || setup_ifaces(dp, err, errlen) != 0 ||
	    setup_routes(dp, err, errlen) != 0 || dp_sessions_init(dp, err, errlen) != 0)
		goto fail;
	return dp;
fail:
	dp_destroy(dp);
	return NULL;
}

void
dp_destroy(struct dp *dp)
{
	unsigned i;

	if (dp == NULL)
		return;
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		if (dp->ports[i].used)
			port_teardown(&dp->ports[i].pi);
	/* Sessions give their ports and calls back as they go: the ALG, then sessions, then NAT. */
	pptp_free(dp->pptp);
	flow_free(dp->flows);
	nat_map_free(dp->nat_ctx.map);   /* after the sessions, which give their mappings back */
	nat_free(dp->nat);
	nat_src_free(dp->src_sessions);
	nat_src_free(dp->src_calls);
	nat_src_free(dp->src_ports);
	nat_pba_free(dp->pba);
	nat_frag_free(dp->frags);
	rte_free(dp->run);
	neigh_free(dp->neigh);
	route_free(dp->rt);
	for (i = 0; i < dp->n_workers; i++)
		rte_ring_free(dp->workers[i].inject);
	rte_ring_free(dp->punt);
	dp_natlog_free(dp);
	dp_ha_free(dp);
	rte_free(dp->qsbr);
	rte_mempool_free(dp->pool);
	rte_free(dp);
}
