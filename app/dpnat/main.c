/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpnat: EAL start-up, configuration, ports, lcore launch, the control loop
 * and an orderly shutdown. Usage: dpnat [EAL options] -- -f CONFIG [-s SOCKET];
 * dpnat --help | --version | --eal-help answer before the EAL starts.
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
#include <rte_version.h>

#include "ctl.h"
#include "dp.h"
#include "dp_config.h"
#include "dp_iface.h"
#include "dp_metrics.h"
#include "dp_session.h"
#include "views.h"
#include "dp_log.h"
#include "dpnat_version.h"

/* The dataplane the signal handlers flag (SIGHUP: reload, SIGINT/SIGTERM: quit). */
static struct dp *sig_dp;

/* Print "dpnat: <message>" on stderr and leave; start-up errors only. */
static void __attribute__((format(printf, 1, 2), noreturn))
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

/* dpnat -h: its own options and the EAL options it needs (EAL's whole list: --eal-help). */
static void
usage(const char *prog)
{
	RTE_SET_USED(prog);
	printf("usage: dpnat [EAL options] -- [-f CONFIG] [-s SOCKET] [-r]\n"
	       "       dpnat -h | --help | --version | --eal-help\n"
	       "\n"
	       "dpnat options (after --):\n"
	       "  -f CONFIG    configuration file of set/unset lines (dpnat.conf(5));\n"
	       "               without -f the embedded KB12423 lab configuration is used\n"
	       "  -s SOCKET    CLI socket path (overrides `set cli socket`,\n"
	       "               default /run/dpnat/dpnat.sock)\n"
	       "  -r           take the queues of every port with one per worker (a power\n"
	       "               of two) as fed by dpnat's RSS key and table (replays that\n"
	       "               split traffic per queue, tests)\n"
	       "  -h, --help   this text (also before --); --version: the version\n"
	       "\n"
	       "EAL options dpnat needs (before --):\n"
	       "  -l CORES, --lcores CORES  2 or more: the first is the control lcore, each\n"
	       "                     other one a worker polling every port (e.g. -l 0-2)\n"
	       "  -a PCI_ADDR        use this PCI device (repeatable; default: every bound one)\n"
	       "  --vdev DEVICE      a virtual port: net_af_packet0,iface=eth1, net_tap0, ...\n"
	       "  --no-pci           probe no PCI device (virtual ports only)\n"
	       "  --huge-dir DIR, -m MB, --socket-mem MB   hugepage memory;\n"
	       "                     --no-huge -m 512 runs without hugepages (tests)\n"
	       "  --file-prefix NAME to run several instances side by side\n"
	       "  --log-level TYPE:LEVEL   e.g. --log-level=dpnat.*:debug\n"
	       "\n"
	       "Ports are given to interfaces with `set interface NAME port DEVICE` in the\n"
	       "configuration. Every EAL option: dpnat --eal-help. See dpnat(8).\n");
}

enum early { EARLY_NONE, EARLY_HELP, EARLY_VERSION, EARLY_EAL_HELP };

/*
 * -h, --help, --version and --eal-help, before or after "--": found before
 * the EAL starts, so they touch no device, hugepage or runtime directory.
 */
static enum early
early_option(int argc, char **argv)
{
	bool ours = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!ours && strcmp(a, "--") == 0) {
			ours = true;
		} else if (ours && (strcmp(a, "-f") == 0 || strcmp(a, "-s") == 0)) {
			i++;   /* a value, whatever it looks like */
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			return EARLY_HELP;
		} else if (strcmp(a, "--version") == 0) {
			return EARLY_VERSION;
		} else if (strcmp(a, "--eal-help") == 0) {
			return EARLY_EAL_HELP;
		}
	}
	return EARLY_NONE;
}

static void
on_signal(int sig)
{
	if (sig_dp == NULL)
		return;
	if (sig == SIGHUP)
		sig_dp->reload = true;
	else
		sig_dp->quit = true;
}

static void
resend_arp(uint8_t iface, uint32_t ip, void *arg)
{
	dp_arp_request(arg, iface, ip);
}

/* A CLI line from the control socket: the views run it on the dataplane. */
static int
run_cli_line(void *dp, const char *line, struct cli_out *out)
{
	return dp_cli_exec(dp, line, out);
}

/* Control loops without a punted packet or CLI work before the longer nap. */
#define CTL_IDLE_LOOPS 1000

/* The control lcore: slow path packets, the CLI socket, timers. */
static void
control_loop(struct dp *dp)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t last_tick = 0, last_age = 0, age_cycles = dp->hz / 100;
	unsigned idle = 0;

	while (!dp->quit) {
		unsigned n, i;
		uint64_t now;

		n = rte_ring_sc_dequeue_burst(dp->punt, (void **)pkts, DP_BURST, NULL);
		for (i = 0; i < n; i++)
			dp_slowpath(dp, pkts[i]);
		if (dp_ctl_poll() || n > 0)
			idle = 0;
		dp_metrics_poll(dp);
		dp_ha_poll(dp);
		if (rte_get_tsc_cycles() - last_age >= age_cycles) {
			last_age = rte_get_tsc_cycles();
			dp_sessions_tick(dp);
		}
		now = dp_now(dp);
		if (now != last_tick) {
			last_tick = now;
			neigh_tick(dp->neigh, now, resend_arp, dp);
			dp_neigh_drops(dp);
		}
		if (dp->reload) {
			dp->reload = false;
			dp_config_reload(dp);
		}
		/*
		 * The control lcore need not spin: 200 us naps while packets or CLI
		 * clients keep it busy, 1 ms ones once idle for ~0.25 s (4000
		 * wake-ups a second cost 8 % of a CPU).
		 */
		if (n == 0) {
			usleep(idle < CTL_IDLE_LOOPS ? 200 : 1000);
			idle += idle < CTL_IDLE_LOOPS;
		}
	}
}

int
main(int argc, char **argv)
{
	struct dp_params p = { .config_path = NULL };
	char err[CONF_ERR_LEN];
	struct dp *dp;
	unsigned i;
	int rc, opt, mfd;

	switch (early_option(argc, argv)) {
	case EARLY_HELP:
		usage(argv[0]);
		return 0;
	case EARLY_VERSION:
		printf("dpnat %s (%s)\n", DPNAT_VERSION, rte_version());
		return 0;
	case EARLY_EAL_HELP: {
		/* EAL's own usage: its argument parser prints it and exits before any set-up. */
		char *eal_argv[] = { argv[0], (char *)"-h", NULL };

		rte_set_application_usage_hook(usage);
		rte_eal_init(2, eal_argv);
		return 0;
	}
	case EARLY_NONE:
		break;
	}
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "dpnat: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	dp_logbuf_init();   /* the recent log for get tech-support */
	/* Packet capture for dpdk-dumpcap/dpdk-pdump (secondary processes): needs shared config. */
	if (rte_pdump_init() != 0)
		DP_LOG(NOTICE, "packet capture (pdump) unavailable: %s", rte_strerror(rte_errno));
	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, "f:s:r")) != -1) {
		switch (opt) {
		case 'r':
			p.rss_assume = true;
			break;
		case 'f':
			p.config_path = optarg;
			break;
		case 's':
			p.socket_path = optarg;
			break;
		default:
			die("unknown option \"-%c\" or missing value (usage: dpnat [EAL options] -- [-f CONFIG] [-s SOCKET]; dpnat --help)",
			    optopt);
		}
	}
	if (optind < argc)
		die("unexpected argument \"%s\" (usage: dpnat [EAL options] -- -f CONFIG [-s SOCKET]; dpnat --help)",
		    argv[optind]);

	/* Without -f: the embedded default, the KB's lab (config/kb-lab.conf). */
	dp = dp_create(&p, err, sizeof(err));
	if (dp == NULL)
		die("%s", err);
	sig_dp = dp;
	if (dp_cli_check(err, sizeof(err)) != 0)
		die("CLI table: %s", err);
	dp_telemetry_init(dp);
	if (dp_ctl_open(dp->socket_path, dp->conf.socket_mode, dp->conf.socket_group, run_cli_line, dp,
			err, sizeof(err)) != 0)
		die("%s", err);
	if (dp_metrics_prepare(NULL, &dp->conf, &mfd, err, sizeof(err)) != 0)
		die("%s", err);
	dp_metrics_commit(NULL, &dp->conf, mfd);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < dp->n_workers; i++)
		rte_eal_remote_launch(dp_worker_main, &dp->workers[i], dp->workers[i].lcore);
	/* Logged, not printed, so that get tech-support's recent log starts with it. */
	DP_LOG(NOTICE, "%s started: %u worker(s), %u interface(s), control socket %s", DPNAT_VERSION,
	       dp->n_workers, dp->conf.n_ifaces, dp->socket_path);

	control_loop(dp);

	rte_eal_mp_wait_lcore();
	dp_ctl_close();
	dp_metrics_close();
	rte_pdump_uninit();
	sig_dp = NULL;
	dp_telemetry_stop();
	dp_destroy(dp);
	printf("dpnat: stopped\n");
	rte_eal_cleanup();
	return 0;
}
