/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's shared state: one struct built by main at start-up, read by
 * the workers and the control lcore. Everything is sized and allocated
 * before the first packet; nothing here allocates per packet.
 */
#ifndef DPNAT_DP_H
#define DPNAT_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "conf.h"
#include "flow.h"
#include "nat.h"
#include "nat_frag.h"
#include "nat_src.h"
#include "pptp.h"

#include <rte_log.h>
#include "neigh.h"
#include "pkt.h"
#include "port.h"
#include "route.h"

#define DP_MAX_WORKERS 16
#define DP_BURST       32
#define DP_PUNT_RING   1024   /* workers -> control, slow path packets */
#define DP_INJECT_RING 1024   /* control -> one worker, packets to send */

/** Per-lcore counters; each is written by its own lcore only and summed by the control lcore. */
struct dp_stats {
	uint64_t drops[PKT_DROP_MAX];
	uint64_t rx_pkts[ROUTE_MAX_IFACES];
	uint64_t rx_bytes[ROUTE_MAX_IFACES];
	uint64_t tx_pkts[ROUTE_MAX_IFACES];
	uint64_t tx_bytes[ROUTE_MAX_IFACES];
	uint64_t forwarded;
	uint64_t punted;
	uint64_t hits;            /* packets that matched a session */
	uint64_t hits_foreign;    /* ... a session another worker created */
	uint64_t polls;
	uint64_t busy_polls;
} __rte_cache_aligned;

/** One interface bound to a started DPDK port. */
struct dp_port {
	bool used;
	bool mtu_hw;                 /* the device took the interface's MTU */
	uint8_t iface;
	struct port_info pi;
};

/** A small transmit buffer per (worker, interface). */
struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[DP_BURST];
};

/*
 * A small per-worker cache of next-hop MACs, valid while the neighbour
 * table's generation is unchanged: the common case costs a compare instead
 * of a hash lookup per packet.
 */
#define DP_NH_CACHE 64
struct dp_nh_cache {
	uint64_t key;                 /* ip | iface << 32 | 1 << 40 (0: empty) */
	uint32_t gen;                 /* neighbour table generation it was read at */
	struct rte_ether_addr mac;
};

/** Per-worker state, cache aligned so workers never share a written line. */
struct dp_worker {
	unsigned idx;
	unsigned lcore;
	uint32_t now;                                 /* flow clock at the start of this loop */
	uint32_t nh_gen;                              /* neighbour generation at the start of this loop */
	uint32_t fwd_gen;                             /* routes + neighbours generation, ditto */
	uint32_t made;                                /* grows when this worker makes state a later packet may match */
	struct rte_ring *inject;                      /* control -> this worker */
	struct dp_stats st;
	/* Fast-path state in the worker itself, not in TLS: the dataplane is a
	 * PIC static library, whose thread-locals cost a __tls_get_addr call. */
	uint32_t tx_pending;                          /* bit i: txbuf[i] holds packets */
	struct dp_txbuf txbuf[ROUTE_MAX_IFACES];
	struct dp_nh_cache nh_cache[DP_NH_CACHE];
	struct rte_ether_addr if_mac[ROUTE_MAX_IFACES];  /* interfaces' MACs as of fwd_gen */
} __rte_cache_aligned;

/** The whole dataplane. */
struct dp {
	struct conf conf;
	struct route_table *rt;
	struct neigh_table *neigh;
	struct rte_mempool *pool;
	struct rte_ring *punt;                        /* workers -> control */
	struct rte_rcu_qsbr *qsbr;
	unsigned n_workers;
	struct dp_worker workers[DP_MAX_WORKERS];
	struct dp_port ports[ROUTE_MAX_IFACES];       /* indexed by interface */
	struct dp_stats ctl_st;                       /* the control lcore's own counters */
	struct flow_table *flows;                     /* sessions, shared by all workers */
	struct nat_table *nat;                        /* public addresses and their ports */
	struct pptp_alg *pptp;                        /* the PPTP ALG: control parsing, xlate, gates */
	struct nat_policy_set *policies;              /* swapped whole; read with an atomic load */
	int iface_nat_idx[ROUTE_MAX_IFACES];          /* nat table index of each interface address, -1 */
	bool zone_untrust[ROUTE_MAX_ZONES];           /* zones named Untrust (NAT-mode egress) */
	struct nat_src *src_sessions;                 /* sessions per source host (limit-session) */
	struct nat_src *src_calls;                    /* PPTP calls per inside host */
	uint32_t zone_limit_src[ROUTE_MAX_ZONES + 1]; /* limit-session source-ip-based per zone, then none */
	struct nat_frag *frags;                       /* first fragments' translations */
	uint32_t mtu_fast_len;                        /* frames up to this long need no MTU check */
	uint8_t tx_iface[ROUTE_MAX_IFACES];           /* interface whose port sends for each (itself or the parent) */
	uint16_t vlan_tag[ROUTE_MAX_IFACES];          /* 802.1Q id a subinterface's frames carry, 0: untagged */
	uint32_t vlan_subs;                           /* bit i: interface i is a subinterface (vlan_tag[i] set) */
	uint64_t hz;
	uint64_t start_tsc;
	volatile bool quit;
	volatile bool reload;                         /* SIGHUP: reload the configuration */
	uint64_t neigh_failed_pkts;                   /* neighbour give-ups already counted as drops */
	uint64_t neigh_removed_pkts;                  /* packets of cleared entries already counted */
	const char *config_path;                      /* -f, NULL for the embedded default */
	const char *socket_path;
};

/** Seconds since start-up. */
static inline uint64_t
dp_now(const struct dp *dp)
{
	return (rte_get_tsc_cycles() - dp->start_tsc) / dp->hz;
}

/** Count a drop on st and free the mbuf. */
static inline void
dp_drop(struct dp_stats *st, struct rte_mbuf *m, unsigned reason)
{
	st->drops[reason]++;
	rte_pktmbuf_free(m);
}

/* worker.c */
/** The worker lcore loop; arg is the struct dp_worker. */
int dp_worker_main(void *arg);
/** Process a received burst on worker w as its loop does, then flush its transmit buffers. */
void dp_worker_burst(struct dp *dp, struct dp_worker *w, unsigned iface,
		     struct rte_mbuf **pkts, uint16_t n);
/** Resolve next hop and forward an IPv4 packet whose out_iface/neigh are known; used by both loops. */
void dp_fwd_finish(const struct route_iface *out, const struct rte_ether_addr *dmac,
		   struct rte_mbuf *m);

/* slowpath.c */
/** Handle one packet punted by a worker (ARP, to-me, TTL, unresolved next hop). */
void dp_slowpath(struct dp *dp, struct rte_mbuf *m);
/** Send m out of iface from the control lcore (through worker 0's inject ring). */
void dp_ctl_send(struct dp *dp, struct rte_mbuf *m, uint8_t iface);
/** Count the packets the neighbour table freed since the last call as drops (control lcore). */
void dp_neigh_drops(struct dp *dp);
/** ARP request for ip on iface (neighbour resolution and retries). */
void dp_arp_request(struct dp *dp, uint8_t iface, uint32_t ip);

struct cli_out;

/** dpnat's own log types (one per module of the program; libraries have theirs). */
extern int dp_logtype_main;
extern int dp_logtype_ctl;
/** Log one line from the program's control side at level (ERR, NOTICE, INFO, DEBUG). */
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dp_logtype_main, "dpnat: " fmt "\n", ##__VA_ARGS__)

/* ctl.c */
/**
 * Produce the next slice of a streamed answer into out and return 0, or
 * return 1 when the answer is complete (state released). Called with out
 * NULL when the client went away: release state and return 1.
 */
typedef int (*dp_stream_fn)(void *state, struct cli_out *out);
/**
 * From a CLI handler: finish this answer with next(state, out) slice by
 * slice as the client reads it (a million sessions never sit in memory).
 * 0, or -1 when streaming is not possible here (produce the answer at once).
 */
int dp_ctl_stream(dp_stream_fn next, void *state);

/* init.c */
/** Print "dpnat: <message>" on stderr and exit 1 (start-up errors only). */
void dp_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/** Per-lcore mempool cache size for a pool of mbufs shared by lcores lcores. */
unsigned dp_mbuf_cache_size(unsigned mbufs, unsigned lcores);
/**
 * Build the dataplane from dp->conf for dp->n_workers workers (their lcore
 * fields set): pools, tables, rings, ports, routes, sessions. Exits through
 * dp_die() on any error.
 */
void dp_setup(struct dp *dp);
/** Load the file at path, or the embedded default when path is NULL, into c and validate it. 0 or -1 with err. */
int dp_conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* config_rt.c */
/** Make nc the running configuration where that is possible live; 0, or -1 with the reason on out. */
int dp_config_apply(struct dp *dp, const struct conf *nc, struct cli_out *out);
/** Reload the configuration file given at start (SIGHUP); live sessions stay. 0 or -1 (logged). */
int dp_config_reload(struct dp *dp);
/** The embedded default configuration (config/kb-lab.conf). */
extern const char dpnat_default_conf[];

/* session.c */
/** Register public address ip (host order) with the NAT and PPTP allocators; its NAT index or negative. */
int dp_public_addr_add(struct dp *dp, uint32_t ip);
/** Build the policy set from dp->conf (zones must exist). NULL with err set on error. */
struct nat_policy_set *dp_policies_build(struct dp *dp, char *err, size_t errlen);
/** Create the session and NAT tables and register public addresses. 0 or -1 with err. */
int dp_sessions_init(struct dp *dp, char *err, size_t errlen);
/** Apply the configured timeouts to the session table. */
void dp_timeouts_apply(struct dp *dp);
/** Control-lcore housekeeping: clock, ageing slice, RCU reclaim. */
void dp_sessions_tick(struct dp *dp);

/* limits.c */
/** Create the per-source tables and the fragment tracker from dp->conf. 0 or -1 with err. */
int dp_limits_init(struct dp *dp, char *err, size_t errlen);
/** Push the per-source limits and the fragment timeout of dp->conf to the dataplane. */
void dp_limits_apply(struct dp *dp);
/**
 * Worker: count a new session of source host src (network order) that
 * entered from zone against that zone's limit. 0, or a drop reason.
 */
unsigned dp_src_session_take(struct dp *dp, uint8_t zone, rte_be32_t src);
/**
 * Worker: a first fragment of session s's direction dir (not yet
 * rewritten): remember its datagram's translation. 0, or a drop reason.
 */
unsigned dp_frag_first(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m,
		       const struct pkt_meta *md, const struct flow_session *s, unsigned dir);
/**
 * Worker: a later fragment (no transport header): rewritten as its first
 * fragment was and 0 returned (the caller forwards it), a drop reason, or
 * -1 when its datagram is not tracked (the caller treats it as a miss).
 */
int dp_frag_later(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md);
/** True for a fragment that is not the first (it has no transport header). */
static inline bool
dp_frag_is_later(const struct pkt_meta *md)
{
	return (md->flags & (PKT_F_FRAG | PKT_F_L4_VALID)) == PKT_F_FRAG;
}

/* config_rt.c */
/** Apply one `set`/`unset` line at run time; 0, or -1 with the reason written to out. */
int dp_config_line(struct dp *dp, const char *line, struct cli_out *out);

/* mtu.c */
/** Recompute the frame length up to which workers skip the MTU check (after any MTU change). */
void dp_mtu_refresh(struct dp *dp);
/**
 * A fully parsed packet longer than the smallest MTU, before any rewrite:
 * true when it is larger than its egress interface's MTU and was punted
 * (DF: ICMP fragmentation needed) or dropped (no DF); false to go on.
 * s/dir: the session it matched, or NULL on a miss.
 */
bool dp_mtu_over(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md,
		 const struct flow_session *s, unsigned dir);
/** True when parsed packet m is larger than the MTU of interface out_iface it is about to leave by. */
bool dp_mtu_exceeds(const struct dp *dp, const struct rte_mbuf *m, const struct pkt_meta *md,
		    unsigned out_iface);
/** Push the interface MTUs of nc to the dataplane and the ports. 0, or -1 told on out. */
int dp_mtu_apply(struct dp *dp, const struct conf *nc, struct cli_out *out);
/** Give port of interface iface the MTU mtu where the device allows it (logged if not). */
void dp_port_mtu(struct dp *dp, unsigned iface, uint16_t mtu);
/**
 * The MTU packets leaving by interface iface are held to: its own, or the
 * largest its port's device carries where that is smaller (0: no limit).
 */
uint16_t dp_iface_mtu(const struct dp *dp, unsigned iface);
/** The MTU the port of physical interface i must carry: its own and its subinterfaces' largest. */
uint16_t dp_port_mtu_need(const struct conf *c, unsigned i);

/* vlan.c */
/** Whether m came in with an 802.1Q tag (in the frame, or stripped by the device). */
static inline bool
dp_vlan_tagged(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) ||
	       (m->data_len >= sizeof(*eth) && eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN));
}
/**
 * A tagged frame received on physical interface iface: the index of the
 * subinterface its tag names, with the tag removed from the frame, or -1
 * with m dropped and counted (vlan-unknown).
 */
int dp_vlan_rx(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m);
/**
 * Give the n frames of pkts the tag: by the device (hw, its insert offload)
 * or written in place; those that cannot take it are dropped. Returns how many are left.
 */
uint16_t dp_vlan_push(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t tag, bool hw);

/* telemetry.c */
/** Register dpnat's telemetry commands. */
void dp_telemetry_init(void);

/* ctl.c */
/** Give the socket at path to group (`set cli socket-group`; "" = the daemon's own). 0 or -1 with err. */
int dp_ctl_group(const char *path, const char *group, char *err, size_t errlen);
/** Send buf[*off..len) without blocking, advancing *off: 1 all sent, 0 the socket is full, -1 error. */
int dp_send_some(int fd, const char *buf, size_t len, size_t *off);
/** Open the control socket. 0 or -1 with err set. */
int dp_ctl_open(struct dp *dp, char *err, size_t errlen);
/** Serve socket clients without blocking; true if a client had work (input, output, a connection). */
bool dp_ctl_poll(struct dp *dp);
/** Close clients and remove the socket file. */
void dp_ctl_close(struct dp *dp);

/* metrics.c */
/**
 * Open the listening socket nc's `set metrics listen` asks for, unless oc
 * (the running configuration, NULL at start) already has it: *fd is the new
 * socket or -1 (nothing to change). 0, or -1 with err set.
 */
int dp_metrics_prepare(const struct conf *oc, const struct conf *nc, int *fd, char *err, size_t errlen);
/** The change was given up: close fd from dp_metrics_prepare() and listen on oc's address again. */
void dp_metrics_abort(const struct conf *oc, int fd);
/** Make fd from dp_metrics_prepare() the endpoint when nc's address differs from oc's. */
void dp_metrics_commit(const struct conf *oc, const struct conf *nc, int fd);
/** Serve Prometheus scrapes without blocking (control lcore). */
void dp_metrics_poll(struct dp *dp);
/** Close the endpoint and its clients. */
void dp_metrics_close(void);

/* logbuf.c */
/** Keep a copy of the last 64 KiB logged, after rte_eal_init (logging goes where it went). */
void dp_logbuf_init(void);
/** Write the recent log, oldest line first. */
void dp_logbuf_dump(struct cli_out *out);

/* views.c */
struct cli_out;
/** The pool label of public address ip: "dip-ID" for a DIP pool address, else the interface's name. */
void dp_nat_pool_name(const struct dp *dp, uint32_t ip, char *buf, size_t len);
/** Execute one CLI line against the dataplane; 0 on success, -1 on error (message written). */
int dp_cli_exec(struct dp *dp, const char *line, struct cli_out *out);
/** Check the CLI command table (at start-up). 0, or -1 with err set. */
int dp_cli_check(char *err, size_t errlen);
/** Sum every worker's and the control lcore's counters into *sum. */
void dp_stats_sum(const struct dp *dp, struct dp_stats *sum);

/**
 * True if ip (host order) is an address dpnat owns: an interface address or
 * a public address it translates to (every DIP pool address, also of pools
 * removed at run time, whose sessions may live on). Never forwarded. The
 * NAT table holds them all (dp_sessions_init, dips_apply): one hash probe.
 */
static inline bool
dp_addr_is_own(const struct dp *dp, uint32_t ip)
{
	return nat_addr_find(dp->nat, ip) >= 0;
}

extern struct dp *g_dp;

#endif /* DPNAT_DP_H */
