/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Start-up: everything dpnat builds from its configuration before the
 * workers are launched (pools, tables, rings, ports, routes, sessions). Kept
 * apart from main() so that harnesses (tests/fuzz) build the same dataplane.
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

struct dp *g_dp;

RTE_LOG_REGISTER(dp_logtype_main, dpnat.main, NOTICE);
RTE_LOG_REGISTER(dp_logtype_ctl, dpnat.ctl, NOTICE);

/* Print one line and leave; start-up errors only. */
void
dp_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dpnat: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	rte_eal_cleanup();
	exit(1);
}

/* A subinterface (tag) takes its parent's port, MAC and state; its frames leave by the parent's port. */
static void
setup_subif(struct dp *dp, unsigned i, struct route_iface *ri)
{
	const struct conf_iface *ci = &dp->conf.ifaces[i];
	const char *dot = strrchr(ci->name, '.');
	char parent[CONF_NAME_LEN];
	const struct route_iface *par;
	int pi;

	snprintf(parent, sizeof(parent), "%.*s", dot != NULL ? (int)(dot - ci->name) : 0, ci->name);
	pi = conf_iface_index(&dp->conf, parent);
	par = pi >= 0 ? route_iface_get(dp->rt, (unsigned)pi) : NULL;
	if (par == NULL)
		dp_die("subinterface %s: no interface %s", ci->name, parent);
	ri->port_id = par->port_id;
	ri->mac = par->mac;
	ri->up = par->up;
	dp->tx_iface[i] = (uint8_t)pi;
	dp->vlan_tag[i] = ci->tag;
	dp->vlan_subs |= 1u << i;
}

/* Interface i of the configuration: zone, address, port (a subinterface: its parent's). */
static void
setup_iface(struct dp *dp, unsigned i)
{
	const struct conf_iface *ci = &dp->conf.ifaces[i];
	char err[CONF_ERR_LEN];
	struct route_iface ri;
	int rc;

	memset(&ri, 0, sizeof(ri));
	snprintf(ri.name, sizeof(ri.name), "%s", ci->name);
	snprintf(ri.zone, sizeof(ri.zone), "%s", ci->zone);
	ri.zone_id = ROUTE_ZONE_NONE;
	if (ci->zone[0]) {
		rc = route_zone_id(dp->rt, ci->zone);
		if (rc < 0)
			dp_die("interface %s: too many zones", ci->name);
		ri.zone_id = (uint8_t)rc;
	}
	ri.port_id = ROUTE_NO_PORT;
	ri.nat = ci->nat;
	ri.has_ip = ci->has_ip;
	ri.ip = ci->ip;
	ri.plen = ci->plen;
	ri.mtu = ci->mtu;
	if (ci->tag != 0) {
		setup_subif(dp, i, &ri);
	} else if (ci->port[0]) {
		uint16_t pid;

		if (port_resolve(ci->port, &pid) != 0)
			dp_die("interface %s: port %s does not exist (known ports: %u; "
			    "add --vdev or check the PCI address)",
			    ci->name, ci->port, rte_eth_dev_count_avail());
		rc = port_setup(pid, (uint16_t)dp->n_workers, dp_port_mtu_need(&dp->conf, i), dp->pool,
				&dp->ports[i].pi, err, sizeof(err));
		if (rc != 0)
			dp_die("interface %s: %s", ci->name, err);
		dp->ports[i].used = true;
		dp->ports[i].iface = (uint8_t)i;
		dp_port_mtu(dp, i, ci->mtu);
		ri.port_id = pid;
		ri.mac = dp->ports[i].pi.mac;
		ri.up = true;
	}
	rc = route_iface_set(dp->rt, i, &ri);
	if (rc != 0)
		dp_die("interface %s: %s", ci->name, strerror(-rc));
}

/* Interfaces, zones and ports from the configuration: physical ones first, then subinterfaces. */
static void
setup_ifaces(struct dp *dp)
{
	const struct conf *c = &dp->conf;
	unsigned i;

	if (c->n_ifaces > ROUTE_MAX_IFACES)
		dp_die("too many interfaces (%u, max %u)", c->n_ifaces, ROUTE_MAX_IFACES);
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		dp->tx_iface[i] = (uint8_t)i;
	for (i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].tag == 0)
			setup_iface(dp, i);
	for (i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].tag != 0)
			setup_iface(dp, i);
	dp_mtu_refresh(dp);
}

/* Static routes and ARP entries from the configuration. */
static void
setup_routes(struct dp *dp)
{
	const struct conf *c = &dp->conf;
	unsigned i, n;
	int rc;

	for (i = 0; i < c->n_routes; i++) {
		const struct conf_route *r = &c->routes[i];
		int ifx = route_iface_by_name(dp->rt, r->iface);
		char a[16];

		rc = ifx < 0 ? -ENODEV : route_add(dp->rt, r->prefix, r->plen, (unsigned)ifx, r->gateway);
		if (rc != 0)
			dp_die("route %s/%u: %s", conf_ip_str(r->prefix, a), r->plen, strerror(-rc));
	}
	for (i = 0; i < c->n_arps; i++) {
		const struct conf_arp *ar = &c->arps[i];
		int ifx = route_iface_by_name(dp->rt, ar->iface);
		struct rte_ether_addr mac;
		char a[16];

		memcpy(mac.addr_bytes, ar->mac, 6);
		rc = ifx < 0 ? -ENODEV : neigh_update(dp->neigh, (uint8_t)ifx, ar->ip, &mac, true,
						      true, 0, NULL, 0, &n);
		if (rc != 0)
			dp_die("arp %s: %s", conf_ip_str(ar->ip, a), strerror(-rc));
	}
}

int
dp_conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	if ((path != NULL ? conf_load_file(c, path, err, errlen) :
	     conf_load_string(c, "<default kb-lab.conf>", dpnat_default_conf, err, errlen)) != 0)
		return -1;
	return conf_validate(c, err, errlen);
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

void
dp_setup(struct dp *dp)
{
	char err[CONF_ERR_LEN];
	unsigned i;
	size_t sz;

	dp->pool = rte_pktmbuf_pool_create("dpnat_mbufs", dp->conf.limits.mbufs,
					   dp_mbuf_cache_size(dp->conf.limits.mbufs, rte_lcore_count()),
					   PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (dp->pool == NULL)
		dp_die("cannot create %u mbufs: %s", dp->conf.limits.mbufs, rte_strerror(rte_errno));
	dp->rt = route_create("dpnat_routes", 1024, rte_socket_id());
	if (dp->rt == NULL)
		dp_die("cannot create the route table: %s", rte_strerror(rte_errno));
	dp->neigh = neigh_create("dpnat_neigh", dp->conf.limits.neighbors,
				 dp->conf.limits.neigh_queue, dp->conf.timeouts.arp, rte_socket_id());
	if (dp->neigh == NULL)
		dp_die("cannot create the neighbour table: %s", rte_strerror(rte_errno));
	dp->punt = rte_ring_create("dpnat_punt", DP_PUNT_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (dp->punt == NULL)
		dp_die("cannot create the slow path ring: %s", rte_strerror(rte_errno));
	sz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	dp->qsbr = rte_zmalloc("dpnat_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, dp->n_workers) != 0)
		dp_die("cannot create the RCU state");
	for (i = 0; i < dp->n_workers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dpnat_inject%u", i);
		dp->workers[i].idx = i;
		dp->workers[i].inject = rte_ring_create(name, DP_INJECT_RING, rte_socket_id(),
							RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->workers[i].inject == NULL)
			dp_die("cannot create ring %s: %s", name, rte_strerror(rte_errno));
	}
	setup_ifaces(dp);
	setup_routes(dp);
	if (dp_sessions_init(dp, err, sizeof(err)) != 0)
		dp_die("%s", err);
}
