/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpnat: EAL start-up, configuration, ports, lcore launch, the control loop
 * and an orderly shutdown. Usage: dpnat [EAL options] -- -f CONFIG [-s SOCKET]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "dp.h"

struct dp *g_dp;

RTE_LOG_REGISTER(dp_logtype_main, dpnat.main, NOTICE);
RTE_LOG_REGISTER(dp_logtype_ctl, dpnat.ctl, NOTICE);

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [EAL options] -- [-f CONFIG] [-s SOCKET]\n"
		"  without -f the embedded KB lab configuration (config/kb-lab.conf) is used\n", prog);
}

static void
on_signal(int sig)
{
	if (g_dp == NULL)
		return;
	if (sig == SIGHUP)
		g_dp->reload = true;
	else
		g_dp->quit = true;
}

/* Print one line and leave; start-up errors only. */
static void __rte_noreturn
die(const char *fmt, ...)
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

/* Interfaces, zones and ports from the configuration. */
static void
setup_ifaces(struct dp *dp)
{
	const struct conf *c = &dp->conf;
	char err[CONF_ERR_LEN];
	unsigned i;

	if (c->n_ifaces > ROUTE_MAX_IFACES)
		die("too many interfaces (%u, max %u)", c->n_ifaces, ROUTE_MAX_IFACES);
	for (i = 0; i < c->n_ifaces; i++) {
		const struct conf_iface *ci = &c->ifaces[i];
		struct route_iface ri;
		int rc;

		memset(&ri, 0, sizeof(ri));
		snprintf(ri.name, sizeof(ri.name), "%s", ci->name);
		snprintf(ri.zone, sizeof(ri.zone), "%s", ci->zone);
		ri.zone_id = ROUTE_ZONE_NONE;
		if (ci->zone[0]) {
			rc = route_zone_id(dp->rt, ci->zone);
			if (rc < 0)
				die("interface %s: too many zones", ci->name);
			ri.zone_id = (uint8_t)rc;
		}
		ri.port_id = ROUTE_NO_PORT;
		ri.nat = ci->nat;
		ri.has_ip = ci->has_ip;
		ri.ip = ci->ip;
		ri.plen = ci->plen;
		if (ci->port[0]) {
			uint16_t pid;

			if (port_resolve(ci->port, &pid) != 0)
				die("interface %s: port %s does not exist (known ports: %u; "
				    "add --vdev or check the PCI address)",
				    ci->name, ci->port, rte_eth_dev_count_avail());
			rc = port_setup(pid, (uint16_t)dp->n_workers, dp->pool, &dp->ports[i].pi,
					err, sizeof(err));
			if (rc != 0)
				die("interface %s: %s", ci->name, err);
			dp->ports[i].used = true;
			dp->ports[i].iface = (uint8_t)i;
			ri.port_id = pid;
			ri.mac = dp->ports[i].pi.mac;
			ri.up = true;
		}
		rc = route_iface_set(dp->rt, i, &ri);
		if (rc != 0)
			die("interface %s: %s", ci->name, strerror(-rc));
	}
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
			die("route %s/%u: %s", conf_ip_str(r->prefix, a), r->plen, strerror(-rc));
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
			die("arp %s: %s", conf_ip_str(ar->ip, a), strerror(-rc));
	}
}

static void
resend_arp(uint8_t iface, uint32_t ip, void *arg)
{
	dp_arp_request(arg, iface, ip);
}

/* The control lcore: slow path packets, the CLI socket, timers. */
static void
control_loop(struct dp *dp)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t last_tick = 0, last_age = 0, age_cycles = dp->hz / 100;

	while (!dp->quit) {
		unsigned n, i;
		uint64_t now;

		n = rte_ring_sc_dequeue_burst(dp->punt, (void **)pkts, DP_BURST, NULL);
		for (i = 0; i < n; i++)
			dp_slowpath(dp, pkts[i]);
		dp_ctl_poll(dp);
		if (rte_get_tsc_cycles() - last_age >= age_cycles) {
			last_age = rte_get_tsc_cycles();
			dp_sessions_tick(dp);
		}
		now = dp_now(dp);
		if (now != last_tick) {
			last_tick = now;
			neigh_tick(dp->neigh, now, resend_arp, dp);
		}
		if (dp->reload) {
			dp->reload = false;
			dp_config_reload(dp);
		}
		if (n == 0)
			usleep(200);   /* the control lcore need not spin */
	}
}

int
main(int argc, char **argv)
{
	const char *cfg = NULL, *sock = NULL;
	char err[CONF_ERR_LEN];
	struct dp *dp;
	unsigned lcore, i;
	size_t sz;
	int rc, opt;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "dpnat: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	/* Packet capture for dpdk-dumpcap/dpdk-pdump (secondary processes): needs shared config. */
	if (rte_pdump_init() != 0)
		DP_LOG(NOTICE, "packet capture (pdump) unavailable: %s", rte_strerror(rte_errno));
	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, "f:s:h")) != -1) {
		switch (opt) {
		case 'f':
			cfg = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage("dpnat");
			rte_eal_cleanup();
			return 0;
		default:
			die("unknown option \"-%c\" or missing value (usage: dpnat [EAL options] -- [-f CONFIG] [-s SOCKET])",
			    optopt);
		}
	}
	if (optind < argc)
		die("unexpected argument \"%s\" (usage: dpnat [EAL options] -- -f CONFIG [-s SOCKET])",
		    argv[optind]);

	dp = rte_zmalloc("dpnat", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL)
		die("out of memory for the dataplane state");
	g_dp = dp;
	conf_init(&dp->conf);
	/* Without -f: the embedded default, the KB's lab (config/kb-lab.conf). */
	if ((cfg != NULL ? conf_load_file(&dp->conf, cfg, err, sizeof(err)) :
	     conf_load_string(&dp->conf, "<default kb-lab.conf>", dpnat_default_conf,
			      err, sizeof(err))) != 0 ||
	    conf_validate(&dp->conf, err, sizeof(err)) != 0)
		die("%s", err);
	dp->socket_path = sock != NULL ? sock : dp->conf.socket_path;
	dp->config_path = cfg;
	dp->n_workers = rte_lcore_count() - 1;
	if (dp->n_workers == 0)
		die("need at least 2 lcores: one control lcore and one worker (e.g. -l 0-1)");
	if (dp->n_workers > DP_MAX_WORKERS)
		die("too many workers (%u, max %u)", dp->n_workers, DP_MAX_WORKERS);
	dp->hz = rte_get_tsc_hz();
	dp->start_tsc = rte_get_tsc_cycles();

	dp->pool = rte_pktmbuf_pool_create("dpnat_mbufs", dp->conf.limits.mbufs, 256,
					   PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (dp->pool == NULL)
		die("cannot create %u mbufs: %s", dp->conf.limits.mbufs, rte_strerror(rte_errno));
	dp->rt = route_create("dpnat_routes", 1024, rte_socket_id());
	if (dp->rt == NULL)
		die("cannot create the route table: %s", rte_strerror(rte_errno));
	dp->neigh = neigh_create("dpnat_neigh", dp->conf.limits.neighbors,
				 dp->conf.limits.neigh_queue, dp->conf.timeouts.arp, rte_socket_id());
	if (dp->neigh == NULL)
		die("cannot create the neighbour table: %s", rte_strerror(rte_errno));
	dp->punt = rte_ring_create("dpnat_punt", DP_PUNT_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (dp->punt == NULL)
		die("cannot create the slow path ring: %s", rte_strerror(rte_errno));
	sz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	dp->qsbr = rte_zmalloc("dpnat_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, dp->n_workers) != 0)
		die("cannot create the RCU state");
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		char name[32];

		snprintf(name, sizeof(name), "dpnat_inject%u", i);
		dp->workers[i].idx = i;
		dp->workers[i].lcore = lcore;
		dp->workers[i].inject = rte_ring_create(name, DP_INJECT_RING, rte_socket_id(),
							RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->workers[i].inject == NULL)
			die("cannot create ring %s: %s", name, rte_strerror(rte_errno));
		i++;
	}
	setup_ifaces(dp);
	setup_routes(dp);
	if (dp_sessions_init(dp, err, sizeof(err)) != 0)
		die("%s", err);
	if (dp_cli_check(err, sizeof(err)) != 0)
		die("CLI table: %s", err);
	dp_telemetry_init();
	if (dp_ctl_open(dp, err, sizeof(err)) != 0)
		die("%s", err);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < dp->n_workers; i++)
		rte_eal_remote_launch(dp_worker_main, &dp->workers[i], dp->workers[i].lcore);
	printf("dpnat: %u worker(s), %u interface(s), control socket %s\n", dp->n_workers,
	       dp->conf.n_ifaces, dp->socket_path);
	fflush(stdout);

	control_loop(dp);

	rte_eal_mp_wait_lcore();
	dp_ctl_close(dp);
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		if (dp->ports[i].used)
			port_teardown(&dp->ports[i].pi);
	rte_pdump_uninit();
	pptp_free(dp->pptp);
	flow_free(dp->flows);
	nat_free(dp->nat);
	neigh_free(dp->neigh);
	route_free(dp->rt);
	printf("dpnat: stopped\n");
	rte_eal_cleanup();
	return 0;
}
