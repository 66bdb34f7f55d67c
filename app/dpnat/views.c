/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's CLI: the command table, which names each command's handler
 * (views_*.c, by domain), and the entry points the control socket and
 * start-up use.
 */
#include <rte_common.h>

#include "cli.h"
#include "conf_grammar.h"
#include "dp.h"
#include "views.h"


#define SESS_FILTERS "[id <u32>] [src-ip <ip/mask>] [dst-ip <ip/mask>] [src-port <port>] " \
		     "[dst-port <port>] [protocol <proto>]"

static const struct cli_cmd dp_cmds[] = {
	{ "get interface [<name>]", "interfaces, or one interface", h_get_interface, NULL },
	{ "get route", "the routing table", h_get_route, NULL },
	{ "get arp", "the neighbour (ARP) table", h_get_arp, NULL },
	{ "get mbuf", "the packet buffer pool: use, caches, allocation failures", h_get_mbuf, NULL },
	{ "get counter statistics [interface <name>]", "port and interface counters, drops",
	  h_get_counter_stat, NULL },
	{ "get counter flow", "flow counters and every drop reason", h_get_counter_flow, NULL },
	{ "get worker", "per worker: packets, sessions made, non-owner packets, drops; each port's RSS mode",
	  h_get_worker, NULL },
	{ "get session " SESS_FILTERS, "sessions, optionally filtered", h_get_session, NULL },
	{ "get session limit", "sessions per source host: limits per zone, refusals, top hosts",
	  h_get_session_limit, NULL },
	{ "get flow frag", "fragments of translated flows: tracked datagrams and counters",
	  h_get_flow_frag, NULL },
	{ "get nat port-block", "port block allocation: settings, counters, every subscriber's blocks",
	  h_get_nat_port_block, NULL },
	{ "get nat deterministic { inside <ip> | public <ip> port <number 1024-65535> }",
	  "deterministic NAT (RFC 7422): an inside address's public address and ports, or back",
	  h_get_nat_det, NULL },
	{ "get nat subscriber [<ip:subscriber>]",
	  "subscriber limits (RFC 6888): ports, sessions, PPTP calls per inside host", h_get_nat_subscriber, NULL },
	{ "get config", "the running configuration as set lines", h_get_config, NULL },
	{ "get policy", "security policies in evaluation order", h_get_policy, NULL },
	{ "get dip", "public addresses (interface and DIP pool): ports used, failures", h_get_dip, NULL },
	{ "get nat mapping", "NAT behaviour (RFC 4787/5382) and the endpoint-independent mappings",
	  h_get_nat_mapping, NULL },
	{ "get log", "log level of each dpnat module", h_get_log, NULL },
	{ "get log nat", "NAT event log: records created, sent, lost", h_get_log_nat, NULL },
	{ "get nsrp", "the HA pair: role, peer, session sync counters and lag", h_get_nsrp, NULL },
	{ "exec nsrp role { active | standby | init }",
	  "make this box the active or standby one of its HA pair (keepalived's notify)", h_exec_nsrp_role, NULL },
	{ "get tech-support", "version, configuration, counters, tables and the recent log in one text",
	  h_get_tech_support, NULL },
	{ "set log level <name> <rest>", "set a module's log level (all, main, ctl, flow, nat, route, neigh, pptp; emerg..debug)",
	  h_set_log_level, NULL },
	{ "get alg", "application layer gateways and their state", h_get_alg, NULL },
	{ "get alg pptp", "PPTP ALG settings, limits and counters", h_get_alg_pptp, NULL },
	{ "get alg pptp xlate " SESS_FILTERS, "PPTP Call-ID translations", h_get_alg_pptp_xlate, NULL },
	{ "get alg pptp xlate per-client", "PPTP calls per inside host: limit, refusals, top hosts",
	  h_get_alg_pptp_per_client, NULL },
	{ "clear alg pptp xlate " SESS_FILTERS, "tear down matching PPTP calls and their GRE sessions",
	  h_clear_alg_pptp_xlate, NULL },
	{ "clear session " SESS_FILTERS, "delete matching sessions", h_clear_session, NULL },
	{ "clear counter", "reset all counters", h_clear_counter, NULL },
	{ "clear arp", "flush dynamic ARP entries", h_clear_arp, NULL },
#define DP_CONF_CMD(syntax, help) { syntax, help, h_set, NULL },
	CONF_GRAMMAR(DP_CONF_CMD)   /* the one set/unset grammar, lib/conf's */
	{ "help", "list every command", h_help, NULL },
};

static const struct cli_word_help dp_words[] = {
	{ "get", "show information" },
	{ "set", "configure" },
	{ "unset", "remove configuration" },
	{ "clear", "clear dynamic state" },
	{ "help", "list every command" },
	{ "exec", "run an operation" },
	{ "nsrp", "the HA pair (NSRP)" },
	{ "role", "this box's part in the pair" },
	{ "active", "forward and mirror sessions to the peer" },
	{ "standby", "forward nothing, take the peer's sessions" },
	{ "init", "forward nothing, not yet told" },
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
	{ "get nat", "NAT behaviour" },
	{ "get nat mapping", "endpoint-independent mappings" },
	{ "tech-support", "everything for a bug report" },
	{ "level", "log level of a module" },
	{ "<level>", "module: all, main, ctl, flow, nat, route, neigh, pptp" },
	{ "alg", "application layer gateways" },
	{ "pptp", "the PPTP ALG" },
	{ "xlate", "PPTP Call-ID translation table" },
	{ "per-client", "calls per inside host" },
	{ "limit", "sessions per source host (limit-session)" },
	{ "get nat", "carrier-grade NAT: port blocks, deterministic pools, subscribers" },
	{ "public", "a public address" },
	{ "subscriber", "per inside host limits and use" },
	{ "<subscriber>", "inside host address" },
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
	CONF_GRAMMAR_WORDS          /* after ours: the views' help wins for shared words */
};

/* Names that exist, for Tab on a set/unset argument. */
static int
dp_values(void *ctx, const char *key, unsigned i, char *buf, size_t len)
{
	return ctx != NULL ? conf_values(&((struct dp *)ctx)->conf, key, i, buf, len) : -1;
}

static const struct cli_table dp_table = {
	.cmds = dp_cmds, .n_cmds = RTE_DIM(dp_cmds),
	.words = dp_words, .n_words = RTE_DIM(dp_words),
	.values = dp_values,
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
