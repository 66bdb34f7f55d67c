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

/* Index of the route for prefix/plen in c, or -1. */
static int
route_in(const struct conf *c, uint32_t prefix, uint8_t plen)
{
	unsigned i;

	for (i = 0; i < c->n_routes; i++)
		if (c->routes[i].prefix == prefix && c->routes[i].plen == plen)
			return (int)i;
	return -1;
}

/*
 * Make the route table hold exactly the static routes of nc (old ones from
 * oc). A prefix in both with another next hop is replaced in place, so its
 * packets find the old next hop or the new one, never no route.
 */
static int
routes_apply(struct dp *dp, const struct conf *oc, const struct conf *nc, struct cli_out *out)
{
	unsigned i, j;

	for (i = 0; i < oc->n_routes; i++) {
		bool keep = false;

		for (j = 0; j < nc->n_routes && !keep; j++)
			keep = memcmp(&oc->routes[i], &nc->routes[j], sizeof(oc->routes[i])) == 0;
		if (!keep && route_in(nc, oc->routes[i].prefix, oc->routes[i].plen) < 0)
			route_del(dp->rt, oc->routes[i].prefix, oc->routes[i].plen);
	}
	for (i = 0; i < nc->n_routes; i++) {
		const struct conf_route *r = &nc->routes[i];
		bool had = false;
		int ifx, rc;

		for (j = 0; j < oc->n_routes && !had; j++)
			had = memcmp(&oc->routes[j], r, sizeof(*r)) == 0;
		if (had)
			continue;
		ifx = route_iface_by_name(dp->rt, r->iface);
		rc = ifx < 0 ? -ENODEV : -ENOENT;
		if (ifx >= 0 && route_in(oc, r->prefix, r->plen) >= 0)
			rc = route_replace(dp->rt, r->prefix, r->plen, (unsigned)ifx, r->gateway);
		if (rc == -ENOENT)   /* not replaced: not there (an earlier apply failed part way) */
			rc = route_add(dp->rt, r->prefix, r->plen, (unsigned)ifx, r->gateway);
		if (rc != 0) {
			char a[16];

			cli_printf(out, "route %s/%u: %s", conf_ip_str(r->prefix, a), r->plen,
				   strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* Static ARP entries: removed ones deleted, new ones installed. */
static int
arps_apply(struct dp *dp, const struct conf *oc, const struct conf *nc, struct cli_out *out)
{
	unsigned i, j, n;

	for (i = 0; i < oc->n_arps; i++) {
		bool keep = false;

		for (j = 0; j < nc->n_arps && !keep; j++)
			keep = memcmp(&oc->arps[i], &nc->arps[j], sizeof(oc->arps[i])) == 0;
		if (!keep) {
			int ifx = route_iface_by_name(dp->rt, oc->arps[i].iface);

			if (ifx >= 0)
				neigh_del(dp->neigh, (uint8_t)ifx, oc->arps[i].ip);
		}
	}
	for (i = 0; i < nc->n_arps; i++) {
		const struct conf_arp *ar = &nc->arps[i];
		int ifx = route_iface_by_name(dp->rt, ar->iface);
		struct rte_ether_addr mac;

		memcpy(mac.addr_bytes, ar->mac, 6);
		if (ifx < 0 || neigh_update(dp->neigh, (uint8_t)ifx, ar->ip, &mac, true, true,
					    dp_now(dp), NULL, 0, &n) != 0) {
			char a[16];

			cli_printf(out, "arp %s: cannot install", conf_ip_str(ar->ip, a));
			return -1;
		}
	}
	return 0;
}

/* New DIP pool addresses become allocatable; removed pools keep their addresses until restart. */
static int
dips_apply(struct dp *dp, const struct conf *nc, struct cli_out *out)
{
	unsigned i;

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

/* Make nc the running configuration where that can be done live. 0 or -1 (told on out). */
int
dp_config_apply(struct dp *dp, const struct conf *nc, struct cli_out *out)
{
	struct nat_policy_set *ps, *old_ps;
	struct conf saved;
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
	    nc->limits.frags != dp->conf.limits.frags) {
		cli_printf(out, "table sizes and the socket path are fixed at start: edit the configuration file and restart dpnat");
		return -1;
	}
	if (strcmp(nc->socket_group, dp->conf.socket_group) != 0 &&
	    dp_ctl_group(dp->socket_path, nc->socket_group, err, sizeof(err)) != 0) {
		cli_printf(out, "%s", err);
		return -1;
	}
	/* A new metrics address is bound first: if it is taken, nothing else changes. */
	if (dp_metrics_prepare(&dp->conf, nc, &mfd, err, sizeof(err)) != 0) {
		cli_printf(out, "%s", err);
		return -1;
	}
	saved = dp->conf;
	if (dips_apply(dp, nc, out) != 0)
		goto fail;
	dp->conf = *nc;
	ps = dp_policies_build(dp, err, sizeof(err));
	if (ps == NULL) {
		dp->conf = saved;
		cli_printf(out, "%s", err);
		goto fail;
	}
	if (routes_apply(dp, &saved, nc, out) != 0 || arps_apply(dp, &saved, nc, out) != 0) {
		/* Partly applied: the tables hold what could be done; the config says what was asked. */
		rte_free(ps);
		goto fail;
	}
	dp_metrics_commit(&saved, nc, mfd);
	(void)dp_mtu_apply(dp, nc, out);   /* fails only for a name clash validation ruled out */
	old_ps = __atomic_exchange_n(&dp->policies, ps, __ATOMIC_ACQ_REL);
	/* Workers may still read the old list: free it after every one passed a quiescent state. */
	rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	rte_free(old_ps);
	dp_timeouts_apply(dp);
	dp_limits_apply(dp);
	neigh_set_timeout(dp->neigh, nc->timeouts.arp);
	return 0;
fail:
	dp_metrics_abort(&saved, mfd);
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
