/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CLI views of the configuration and the system: the running
 * configuration, `set`/`unset`, log levels, tech-support, help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_log.h>

#include "cli.h"
#include "dp.h"
#include "dp_config.h"
#include "views.h"
#include "dp_log.h"
#include "dpnat_version.h"
#include <rte_version.h>

/* A FILE that writes into a cli_out, so conf_dump can stream into the answer. */
static ssize_t
cookie_write(void *c, const char *buf, size_t len)
{
	return cli_write(c, buf, len) == 0 ? (ssize_t)len : -1;
}

/* ---- logging: one dynamic log type per module, "dpnat.<module>" ---- */

static const char *const log_modules[] = { "main", "ctl", "flow", "nat", "route", "neigh", "pptp" };
static const char *const log_levels[] = { "", "emerg", "alert", "crit", "err", "warning",
					  "notice", "info", "debug" };

int
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

int
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

int
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
	"get config", "get interface", "get counter statistics", "get counter flow", "get worker",
	"get route",
	"get arp", "get dip", "get policy", "get mbuf", "get alg", "get alg pptp", "get log",
	"get log nat", "get session limit", "get alg pptp xlate per-client", "get flow frag",
	"get nat subscriber",
	"get nsrp",
};

/* get tech-support: one text for a bug report. */
int
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

int
h_set(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	return dp_config_line(ctx, cli_arg_line(a), out);
}

int
h_help(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(ctx);
	return cli_list_commands(cli_arg_table(a), out);
}

int
h_get_log_nat(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	dp_natlog_show(ctx, out);
	return 0;
}

int
h_get_nsrp(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	RTE_SET_USED(a);
	dp_ha_show(ctx, out);
	return 0;
}

int
h_exec_nsrp_role(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	unsigned role = cli_arg_present(a, "active") ? DP_HA_ACTIVE :
			cli_arg_present(a, "standby") ? DP_HA_STANDBY : DP_HA_INIT;

	return dp_ha_role_set(ctx, role, out);
}
