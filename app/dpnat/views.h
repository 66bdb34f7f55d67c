/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's CLI inside app/dpnat: the command table (views.c) and the
 * handlers it names, one file per domain: views_iface.c (interfaces,
 * routes, neighbours, counters), views_session.c (sessions, limits,
 * fragments, policies, public addresses), views_pptp.c (the PPTP ALG),
 * views_system.c (configuration, logging, tech-support). Handlers run on the
 * control lcore with ctx the struct dp; a long answer is left as a stream
 * (cli_out_stream) that lib/cli continues as the client reads.
 */
#ifndef DPNAT_VIEWS_H
#define DPNAT_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>

#include "cli.h"
#include "rcu_defer.h"

struct dp;
struct dp_stats;

/* views.c */
/** Execute one CLI line against the dataplane; 0 on success, -1 on error (message written). */
int dp_cli_exec(struct dp *dp, const char *line, struct cli_out *out);
/** Check the CLI command table (at start-up). 0, or -1 with err set. */
int dp_cli_check(char *err, size_t errlen);

/* views_iface.c */
/** Sum every worker's and the control lcore's counters into *sum. */
void dp_stats_sum(const struct dp *dp, struct dp_stats *sum);
/** One lcore's packets received on every interface and dropped for every reason. */
void dp_stats_rx_drops(const struct dp_stats *st, uint64_t *rx, uint64_t *drops);
struct rte_ether_addr;
/** MAC as ScreenOS prints it (000c29e91032) into buf, 13 bytes at least. */
void mac_str(const struct rte_ether_addr *m, char *buf);
/** `clear arp`: flush dynamic ARP entries. */
int h_clear_arp(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `clear counter`: reset all counters. */
int h_clear_counter(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get arp`: the neighbour (ARP) table. */
int h_get_arp(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get nsrp`: the HA pair's role, peer and sync counters. */
int h_get_nsrp(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `exec nsrp role { active | standby | init }`: keepalived's notify. */
int h_exec_nsrp_role(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get log nat`: the NAT event log's counters. */
int h_get_log_nat(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get counter flow`: flow counters and every drop reason. */
int h_get_counter_flow(const struct cli_args *a, struct cli_out *out, void *ctx);
int h_get_worker(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get counter statistics [interface <name>]`: port and interface counters, drops. */
int h_get_counter_stat(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get interface [<name>]`: interfaces, or one interface. */
int h_get_interface(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get mbuf`: the packet buffer pool: use, caches, allocation failures. */
int h_get_mbuf(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get route`: the routing table. */
int h_get_route(const struct cli_args *a, struct cli_out *out, void *ctx);

/* views_nat.c */
/** `get nat mapping`: the NAT behaviour in force and the endpoint-independent mappings. */
int h_get_nat_mapping(const struct cli_args *a, struct cli_out *out, void *ctx);

/* views_session.c */
/** Filters of `get session` / `clear session`; a session matches if its original or translated tuple does. */
struct sess_filter {
	bool id_set, src_set, dst_set, sport_set, dport_set, proto_set;
	uint32_t id;
	uint32_t src, src_mask, dst, dst_mask;   /* host order */
	uint16_t sport, dport;                   /* host order */
	uint8_t proto;
};
/** Whether f's address, port and protocol filters match the tuple (network order). */
bool tuple_match(const struct sess_filter *f, rte_be32_t src, rte_be32_t dst, rte_be16_t sp,
		 rte_be16_t dport);
/** Session filters from the parsed arguments (also those of `get/clear alg pptp xlate`). */
void sess_filter_get(const struct cli_args *a, struct sess_filter *f);
struct nat_src;
/** A per-source table: usage, refusals and the hosts holding most (what = "sessions", "calls"). */
void src_table_print(struct nat_src *t, const char *what, struct cli_out *out);
/** One reclamation queue as views and telemetry show it. */
struct dp_rcu_queue {
	const char *name;              /**< as `get counter flow` prints it */
	const char *key;               /**< telemetry / metrics label */
	struct rcu_defer_stats st;
};
#define DP_RCU_QUEUES 5
/** The counters of every reclamation queue of the dataplane (sessions, PPTP, routes, neighbours). */
void dp_rcu_queues(const struct dp *dp, struct dp_rcu_queue q[DP_RCU_QUEUES]);
/** The pool label of public address ip: "dip-ID" for a DIP pool address, else the interface's name. */
void dp_nat_pool_name(const struct dp *dp, uint32_t ip, char *buf, size_t len);
/** `clear session`: delete matching sessions. */
int h_clear_session(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get dip`: public addresses (interface and DIP pool): ports used, failures. */
int h_get_dip(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get flow frag`: fragments of translated flows: tracked datagrams and counters. */
int h_get_flow_frag(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get policy`: security policies in evaluation order. */
int h_get_policy(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get session`: sessions, optionally filtered. */
int h_get_session(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get session limit`: sessions per source host: limits per zone, refusals, top hosts. */
int h_get_session_limit(const struct cli_args *a, struct cli_out *out, void *ctx);
/** get nat port-block */
int h_get_nat_port_block(const struct cli_args *a, struct cli_out *out, void *ctx);
/** get nat deterministic inside A.B.C.D | public A.B.C.D port N */
int h_get_nat_det(const struct cli_args *a, struct cli_out *out, void *ctx);
/** get nat subscriber [A.B.C.D] */
int h_get_nat_subscriber(const struct cli_args *a, struct cli_out *out, void *ctx);

/* views_pptp.c */
/** `clear alg pptp xlate`: tear down matching PPTP calls and their GRE sessions. */
int h_clear_alg_pptp_xlate(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get alg`: application layer gateways and their state. */
int h_get_alg(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get alg pptp`: PPTP ALG settings, limits and counters. */
int h_get_alg_pptp(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get alg pptp xlate per-client`: PPTP calls per inside host: limit, refusals, top hosts. */
int h_get_alg_pptp_per_client(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get alg pptp xlate`: PPTP Call-ID translations. */
int h_get_alg_pptp_xlate(const struct cli_args *a, struct cli_out *out, void *ctx);

/* views_system.c */
/** `get config`: the running configuration as set lines. */
int h_get_config(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get log`: log level of each dpnat module. */
int h_get_log(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `get tech-support`: version, configuration, counters, tables and the recent log in one text. */
int h_get_tech_support(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `help`: list every command. */
int h_help(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `set <rest>`: change the running configuration. */
int h_set(const struct cli_args *a, struct cli_out *out, void *ctx);
/** `set log level <name> <rest>`: set a module's log level (all, main, ctl, flow, nat, route, neigh, pptp; emerg..debug). */
int h_set_log_level(const struct cli_args *a, struct cli_out *out, void *ctx);

#endif /* DPNAT_VIEWS_H */
