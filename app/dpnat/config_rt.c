/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `set` and `unset` at run time: the line is applied to a copy of the
 * configuration, validated, and then only the parts that can change under
 * traffic are pushed to the dataplane (policies, timeouts, the ALG switch,
 * routes, static ARP, DIP pools, interface MTUs). Interface bindings need a restart and are
 * refused with a message that says so. The running copy then becomes the
 * configuration `get config` prints.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "cli.h"
#include "ctl.h"
#include "dp.h"
#include "dp_config.h"
#include "dp_iface.h"
#include "dp_metrics.h"
#include "dp_session.h"
#include "dp_log.h"

/* Whether the interface part of two configurations is the same, but for the MTUs (live). */
static bool
ifaces_equal(const struct conf *a, const struct conf *b)
{
	unsigned i;

	if (a->n_ifaces != b->n_ifaces)
		return false;
	for (i = 0; i < a->n_ifaces; i++) {
		struct conf_iface x = a->ifaces[i];

		x.mtu = b->ifaces[i].mtu;
		if (memcmp(&x, &b->ifaces[i], sizeof(x)) != 0)
			return false;
	}
	return true;
}

/* Whether e (size bytes) is one of the n entries of list. */
static bool
listed(const void *list, unsigned n, const void *e, size_t size)
{
	unsigned j;

	for (j = 0; j < n; j++)
		if (memcmp((const uint8_t *)list + j * size, e, size) == 0)
			return true;
	return false;
}

/* Whether route r is one of c's static routes. */
static bool
route_in(const struct conf *c, const struct conf_route *r)
{
	return listed(c->routes, c->n_routes, r, sizeof(*r));
}

/* c's static route for the prefix of r (any next hop), or NULL. */
static const struct conf_route *
route_prefix_in(const struct conf *c, const struct conf_route *r)
{
	int i = conf_route_index(c, r->prefix, r->plen);

	return i < 0 ? NULL : &c->routes[i];
}

/*
 * Install route r, replacing in place a route of its prefix that b had (so
 * its packets find the old next hop or the new one, never no route). 0 or -errno.
 */
static int
route_install(struct dp *dp, const struct conf_route *r, const struct conf *b)
{
	int ifx = route_iface_by_name(dp->rt, r->iface), rc = -ENOENT;

	if (ifx < 0)
		return -ENODEV;
	if (route_prefix_in(b, r) != NULL)
		rc = route_replace(dp->rt, r->prefix, r->plen, (unsigned)ifx, r->gateway);
	if (rc == -ENOENT)   /* not replaced: not there (an earlier apply failed part way) */
		rc = route_add(dp->rt, r->prefix, r->plen, (unsigned)ifx, r->gateway);
	return rc;
}

/* Install the static routes of a that b lacks; on failure remove those it installed. 0 or -1 (told on out, if any). */
static int
routes_add(struct dp *dp, const struct conf *a, const struct conf *b, struct cli_out *out)
{
	unsigned i, j;

	for (i = 0; i < a->n_routes; i++) {
		const struct conf_route *r = &a->routes[i];
		int rc;

		if (route_in(b, r))
			continue;
		rc = route_install(dp, r, b);
		if (rc != 0) {
			char ab[16];

			if (out != NULL)
				cli_printf(out, "route %s/%u: %s", conf_ip_str(r->prefix, ab), r->plen,
					   strerror(-rc));
			for (j = 0; j < i; j++) {
				const struct conf_route *was;

				if (route_in(b, &a->routes[j]))
					continue;
				was = route_prefix_in(b, &a->routes[j]);
				if (was != NULL)
					(void)route_install(dp, was, a);   /* replaced: b's next hop back */
				else
					route_del(dp->rt, a->routes[j].prefix, a->routes[j].plen);
			}
			return -1;
		}
	}
	return 0;
}

/* Remove the static routes of a whose prefix b lacks. */
static void
routes_del(struct dp *dp, const struct conf *a, const struct conf *b)
{
	unsigned i;

	for (i = 0; i < a->n_routes; i++)
		/* A prefix b keeps with another next hop is replaced by routes_add, not removed. */
		if (!route_in(b, &a->routes[i]) && route_prefix_in(b, &a->routes[i]) == NULL)
			route_del(dp->rt, a->routes[i].prefix, a->routes[i].plen);
}

/* Make the route table hold exactly the static routes of nc (old ones from oc); on failure as before. */
static int
routes_apply(struct dp *dp, const struct conf *oc, const struct conf *nc, struct cli_out *out)
{
	routes_del(dp, oc, nc);
	if (routes_add(dp, nc, oc, out) == 0)
		return 0;
	(void)routes_add(dp, oc, nc, NULL);   /* what was removed above goes back where it came from */
	return -1;
}

/* Whether static ARP entry e is one of c's. */
static bool
arp_in(const struct conf *c, const struct conf_arp *e)
{
	return listed(c->arps, c->n_arps, e, sizeof(*e));
}

/* Remove the static ARP entries of a that b lacks. */
static void
arps_del(struct dp *dp, const struct conf *a, const struct conf *b)
{
	unsigned i;

	for (i = 0; i < a->n_arps; i++) {
		int ifx = route_iface_by_name(dp->rt, a->arps[i].iface);

		if (!arp_in(b, &a->arps[i]) && ifx >= 0)
			neigh_del(dp->neigh, (uint8_t)ifx, a->arps[i].ip);
	}
}

/* Install every static ARP entry of c. 0, or -1 (told on out, if any). */
static int
arps_add(struct dp *dp, const struct conf *c, struct cli_out *out)
{
	unsigned i, n;

	for (i = 0; i < c->n_arps; i++) {
		const struct conf_arp *ar = &c->arps[i];
		int ifx = route_iface_by_name(dp->rt, ar->iface);
		struct rte_ether_addr mac;

		memcpy(mac.addr_bytes, ar->mac, 6);
		if (ifx < 0 || neigh_update(dp->neigh, (uint8_t)ifx, ar->ip, &mac, true, true,
					    dp_now(dp), NULL, 0, &n) != 0) {
			char a[16];

			if (out != NULL)
				cli_printf(out, "arp %s: cannot install", conf_ip_str(ar->ip, a));
			return -1;
		}
	}
	return 0;
}

/* Static ARP entries: removed ones deleted, new ones installed; on failure as before. */
static int
arps_apply(struct dp *dp, const struct conf *oc, const struct conf *nc, struct cli_out *out)
{
	arps_del(dp, oc, nc);
	if (arps_add(dp, nc, out) == 0)
		return 0;
	arps_del(dp, nc, oc);
	(void)arps_add(dp, oc, NULL);
	return -1;
}

/* Public addresses of nc's DIP pools not registered yet. */
static uint32_t
dips_new(const struct dp *dp, const struct conf *nc)
{
	uint32_t n = 0, ip;
	unsigned i;

	for (i = 0; i < nc->n_dips; i++)
		for (ip = nc->dips[i].low; ip <= nc->dips[i].high && ip != 0; ip++)
			n += nat_addr_find(dp->nat, ip) < 0;
	return n;
}

/* New DIP pool addresses become allocatable; removed pools keep their addresses until restart. */
static int
dips_apply(struct dp *dp, const struct conf *nc, struct cli_out *out)
{
	unsigned i;

	/* Checked whole first: an address once registered stays dpnat's own. */
	if (dips_new(dp, nc) > nat_addr_room(dp->nat)) {
		cli_printf(out, "dip: no room for more public addresses (max %u)", NAT_MAX_ADDRS);
		return -1;
	}
	for (i = 0; i < nc->n_dips; i++) {
		uint32_t ip;

		for (ip = nc->dips[i].low; ip <= nc->dips[i].high && ip != 0; ip++)
			if (dp_public_addr_add(dp, ip) < 0) {
				cli_printf(out, "dip %u: no room for more public addresses (max %u)",
					   nc->dips[i].id, NAT_MAX_ADDRS);
				return -1;
			}
	}
	return 0;
}

/*
 * Make nc the running configuration where that can be done live, as one
 * step that either happens whole or changes nothing: the workers' new
 * runtime is built aside and a new metrics socket bound first; then the
 * socket group, routes, static ARP entries and DIP addresses change, each
 * undone in reverse order when a later one fails; only then does nc become
 * the running configuration and the runtime get published with one
 * pointer. 0 or -1 (told on out).
 */
int
dp_config_apply(struct dp *dp, const struct conf *nc, struct cli_out *out)
{
	struct dp_runtime *rt;
	struct conf *saved;
	char err[CONF_ERR_LEN];
	int mfd;

	/* DIP pools are kept apart from interfaces in struct conf, so they may still change. */
	if (!ifaces_equal(&dp->conf, nc)) {
		cli_printf(out, "interface changes need a restart: edit the configuration file and restart dpnat");
		return -1;
	}
	if (memcmp(nc->socket_path, dp->conf.socket_path, sizeof(nc->socket_path)) != 0 ||
	    nc->limits.sessions != dp->conf.limits.sessions ||
	    nc->limits.pptp_xlate != dp->conf.limits.pptp_xlate ||
	    nc->limits.neighbors != dp->conf.limits.neighbors ||
	    nc->limits.neigh_queue != dp->conf.limits.neigh_queue ||
	    nc->limits.mbufs != dp->conf.limits.mbufs ||
	    nc->limits.frags != dp->conf.limits.frags ||
	    nc->log_nat_queue != dp->conf.log_nat_queue ||
	    nc->limits.nat_maps != dp->conf.limits.nat_maps ||
	    nc->pba_size != dp->conf.pba_size ||
	    nc->pba_subscribers != dp->conf.pba_subscribers ||

	    nc->nsrp_queue != dp->conf.nsrp_queue) {
		cli_printf(out, "table sizes and the socket path are fixed at start: edit the configuration file and restart dpnat");
		return -1;
	}
	rt = dp_runtime_build(dp, nc, err, sizeof(err));
	if (rt == NULL) {
		cli_printf(out, "%s", err);
		return -1;
	}
	saved = rte_malloc(NULL, sizeof(*saved), 0);
	if (saved == NULL) {
		rte_free(rt);
		cli_printf(out, "out of memory");
		return -1;
	}
	/* A new metrics address is bound first: if it is taken, nothing else changes. */
	if (dp_metrics_prepare(&dp->conf, nc, &mfd, err, sizeof(err)) != 0) {
		cli_printf(out, "%s", err);
		goto fail;
	}
	if (strcmp(nc->socket_group, dp->conf.socket_group) != 0 &&
	    dp_ctl_group(dp->socket_path, nc->socket_group, err, sizeof(err)) != 0) {
		cli_printf(out, "%s", err);
		goto fail_metrics;
	}
	/* The tables, each undone if a later one fails (the DIP addresses last: they stay). */
	if (routes_apply(dp, &dp->conf, nc, out) != 0)
		goto fail_group;
	if (arps_apply(dp, &dp->conf, nc, out) != 0)
		goto fail_routes;
	if (dips_apply(dp, nc, out) != 0)
		goto fail_arps;
	*saved = dp->conf;
	dp->conf = *nc;
	dp_metrics_commit(saved, nc, mfd);
	(void)dp_mtu_apply(dp, nc, out);   /* fails only for a name clash validation ruled out */
	dp_runtime_publish(dp, rt);
	dp_timeouts_apply(dp);
	dp_limits_apply(dp);
	neigh_set_timeout(dp->neigh, nc->timeouts.arp);
	dp_ha_conf_apply(dp);
	rte_free(saved);
	return 0;
fail_arps:
	(void)arps_apply(dp, nc, &dp->conf, NULL);
fail_routes:
	(void)routes_apply(dp, nc, &dp->conf, NULL);
fail_group:
	if (strcmp(nc->socket_group, dp->conf.socket_group) != 0)
		(void)dp_ctl_group(dp->socket_path, dp->conf.socket_group, err, sizeof(err));
fail_metrics:
	dp_metrics_abort(&dp->conf, mfd);
fail:
	rte_free(saved);
	rte_free(rt);
	return -1;
}

int
dp_config_line(struct dp *dp, const char *line, struct cli_out *out)
{
	struct conf *nc = rte_malloc(NULL, sizeof(*nc), 0);
	struct conf_ctx ctx;
	char err[CONF_ERR_LEN];
	int rc = -1;

	if (nc == NULL) {
		cli_printf(out, "out of memory");
		return -1;
	}
	*nc = dp->conf;
	conf_ctx_init(&ctx, "cli");
	ctx.line = 1;
	if (conf_apply_line(nc, &ctx, line, err, sizeof(err)) != 0 ||
	    conf_validate(nc, err, sizeof(err)) != 0) {
		/* "cli:1: message" reads better without the pseudo file name; the column points at the word. */
		if (ctx.col != 0)
			cli_printf(out, "column %u: ", ctx.col);
		cli_printf(out, "%s", strncmp(err, "cli:1: ", 7) == 0 ? err + 7 : err);
		goto out;
	}
	if (nc->n_ifaces > dp->conf.n_ifaces) {
		/* The line named an interface that does not exist: point at the name. */
		const char *name = nc->ifaces[dp->conf.n_ifaces].name, *at = strstr(line, name);
		unsigned i;

		if (at != NULL)
			cli_printf(out, "column %u: ", (unsigned)(at - line) + 1);
		cli_printf(out, "interface \"%s\" does not exist: expected one of", name);
		for (i = 0; i < dp->conf.n_ifaces; i++)
			cli_printf(out, "%s %s", i ? "," : "", dp->conf.ifaces[i].name);
		cli_printf(out, " (a new interface needs the configuration file and a restart)");
		goto out;
	}
	rc = dp_config_apply(dp, nc, out);
out:
	rte_free(nc);
	return rc;
}

/* Writes of a reload's messages go to the log. */
static int
log_write(void *arg, const char *buf, size_t len)
{
	(void)arg;
	DP_LOG(ERR, "reload: %.*s", (int)len, buf);
	return 0;
}

int
dp_config_reload(struct dp *dp)
{
	struct conf *nc = rte_malloc(NULL, sizeof(*nc), 0);
	struct cli_out out = { .write = log_write };
	char err[CONF_ERR_LEN];
	int rc = -1;

	if (nc == NULL)
		return -1;
	conf_init(nc);
	if (dp_conf_load(nc, dp->config_path, err, sizeof(err)) != 0) {
		DP_LOG(ERR, "reload refused: %s", err);
		goto out;
	}
	rc = dp_config_apply(dp, nc, &out);
	if (rc == 0)
		DP_LOG(NOTICE, "configuration reloaded from %s",
			   dp->config_path ? dp->config_path : "the embedded default");
out:
	rte_free(nc);
	return rc;
}
