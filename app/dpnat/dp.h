/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's shared state: struct dp, built by dp_create at start-up
 * (main, the harnesses, the bench) and freed by dp_destroy, read by the
 * workers and the control lcore, and the worker that runs on it. Everything
 * is sized and allocated before the first packet; nothing here allocates
 * per packet. The other modules of app/dpnat declare theirs by domain:
 * dp_iface.h, dp_session.h, dp_config.h, dp_metrics.h, dp_log.h, ctl.h, views.h.
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
#include "dp_ha.h"
#include "dp_natlog.h"
#include "flow.h"
#include "nat.h"
#include "nat_frag.h"
#include "nat_session.h"
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
	uint64_t hits_foreign;    /* ... a session another worker created: a non-owner packet */
	uint64_t created;         /* sessions this worker made (nat_session_new) */
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
	uint16_t tagged;     /* of them, frames the fast path left with the subinterface's tag in them */
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
	struct dp *dp;                                /* the dataplane it works in (dp_worker_main's state) */
	uint32_t now;                                 /* flow clock at the start of this loop */
	uint32_t nh_gen;                              /* neighbour generation at the start of this loop */
	uint32_t fwd_gen;                             /* routes + neighbours generation, ditto */
	uint32_t made;                                /* this burst: sessions made (or ALG state changed) so far */
	uint64_t made_keys[4];                        /* this burst: filter of those sessions' keys (dp_made_*) */
	struct rte_ring *inject;                      /* control -> this worker */
	struct dp_stats st;
	/* Fast-path state in the worker itself, not in TLS: the dataplane is a
	 * PIC static library, whose thread-locals cost a __tls_get_addr call. */
	uint32_t tx_pending;                          /* bit i: txbuf[i] holds packets */
	struct dp_txbuf txbuf[ROUTE_MAX_IFACES];
	struct dp_nh_cache nh_cache[DP_NH_CACHE];
	struct rte_ether_addr if_mac[ROUTE_MAX_IFACES];  /* interfaces' MACs as of fwd_gen */
} __rte_cache_aligned;

/** The ALG hooks of dp->nat_ctx, by index (the bits of nat_rules.alg_on). */
#define DP_ALG_PPTP 0

/*
 * Everything the workers read of the configuration, built aside from a
 * validated struct conf on the control lcore, published whole with one
 * atomic pointer and freed after an RCU grace period (dp_runtime_publish;
 * docs/architecture.md, "The published runtime"). Workers never read
 * struct conf, which the control lcore overwrites on every `set`.
 */
struct dp_runtime {
	struct nat_rules nat;                         /* policies, zones, interface NAT, limits, ALG switches */
	uint32_t worker_idle_us;                      /* `set worker idle-sleep` */
	bool log_nat;                                 /* `set log nat enable`: queue NAT event records */
	uint32_t pba_max_blocks;                      /* `set nat port-block max-blocks`, for quota records */
};

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
	struct dp_runtime *run;                       /* what workers read of the configuration: dp_runtime_get() */
	struct nat_ctx nat_ctx;                       /* the tables and ALG hooks new sessions take from (fixed at start) */
	struct nat_src *src_sessions;                 /* sessions per source host (limit-session) */
	struct nat_src *src_calls;                    /* PPTP calls per inside host */
	struct nat_src *src_ports;                    /* public ports per inside host (nat subscriber-limit ports) */
	struct nat_pba *pba;                          /* port blocks (set nat port-block size), NULL: none */
	struct nat_frag *frags;                       /* first fragments' translations */
	uint32_t mtu_fast_len;                        /* frames up to this long need no MTU check */
	uint8_t tx_iface[ROUTE_MAX_IFACES];           /* interface whose port sends for each (itself or the parent) */
	uint16_t vlan_tag[ROUTE_MAX_IFACES];          /* 802.1Q id a subinterface's frames carry, 0: untagged */
	/* Per physical interface and 802.1Q id: its subinterface's index + 1, 0: none (set at start). */
	uint8_t vlan_sub_of[ROUTE_MAX_IFACES][RTE_ETHER_MAX_VLAN_ID + 1];
	struct dp_natlog_q natlog[DP_MAX_WORKERS + 1];  /* NAT event records: [worker], [n_workers] control */
	uint64_t natlog_sent;                         /* records the control lcore drained (dp_natlog_drain) */
	uint64_t natlog_send_lost;                    /* ... that no syslog collector took */
	uint64_t natlog_syslog_sent;                  /* syslog datagrams sent */
	uint64_t natlog_syslog_errors;                /* syslog datagrams refused by the socket */
	int natlog_fd;                                /* the syslog and IPFIX socket, -1 until first needed */
	struct dp_natlog_ipfix natlog_ipfix;          /* the IPFIX exporter (control lcore) */
	uint8_t ha_standby;                           /* workers, per burst: drop all (HA role init/standby) */
	uint8_t ha_sync;                              /* workers, per new session: queue an HA sync event */
	struct dp_ha_q haq[DP_MAX_WORKERS + 1];       /* HA sync events: [worker], [n_workers] control */
	struct dp_ha_state *ha;                       /* the control lcore's side of the HA pair (ha.c) */
	uint64_t hz;
	uint64_t start_tsc;
	volatile bool quit;
	volatile bool reload;                         /* SIGHUP: reload the configuration */
	uint64_t neigh_failed_pkts;                   /* neighbour give-ups already counted as drops */
	uint64_t neigh_removed_pkts;                  /* packets of cleared entries already counted */
	const char *config_path;                      /* -f, NULL for the embedded default */
	bool rss_assume;                              /* -r (dp_params.rss_assume) */
	const char *socket_path;
};

/** The runtime as published now (workers: valid until their next quiescent state). */
static inline const struct dp_runtime *
dp_runtime_get(const struct dp *dp)
{
	return __atomic_load_n(&dp->run, __ATOMIC_ACQUIRE);
}

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
/** The worker lcore loop; arg is the struct dp_worker, which names its dataplane. */
int dp_worker_main(void *arg);
/** Process a received burst on worker w as its loop does, then flush its transmit buffers. */
void dp_worker_burst(struct dp *dp, struct dp_worker *w, unsigned iface,
		     struct rte_mbuf **pkts, uint16_t n);
/** Resolve next hop and forward an IPv4 packet whose out_iface/neigh are known; used by both loops. */
void dp_fwd_finish(const struct route_iface *out, const struct rte_ether_addr *dmac,
		   struct rte_mbuf *m);

/* init.c */
/** What dp_create builds the dataplane from. */
struct dp_params {
	const char *config_path;   /* a file of set/unset lines; NULL: conf_text, else the embedded default */
	const char *conf_text;     /* the configuration as text (harnesses), NULL: config_path */
	const char *conf_name;     /* conf_text's name in error messages */
	const char *socket_path;   /* the CLI socket; NULL: the configuration's */
	/*
	 * 0: one worker per EAL worker lcore (the daemon). n: n workers on the
	 * EAL's first lcores, the calling one included, for a harness that
	 * drives dp_worker_burst itself.
	 */
	unsigned n_workers;
	uint32_t clock_s;          /* the dataplane's clock (dp_now) at start, in seconds */
	bool rss_assume;           /* -r: multi-queue ports are fed as dpnat's RSS would (PORT_F_RSS_ASSUME) */
};
/**
 * Build the dataplane p describes: configuration, pools, tables, rings,
 * ports, routes, sessions (rte_eal_init done, nothing launched). NULL with
 * err set on any error, everything built so far freed.
 */
struct dp *dp_create(const struct dp_params *p, char *err, size_t errlen);
/** Free everything dp_create built (workers stopped and offline; NULL is fine). */
void dp_destroy(struct dp *dp);
/** Whether some started port's replies land as dpnat's RSS key and table put them (owned mode). */
bool dp_rss_owned_any(const struct dp *dp);
/** Per-lcore mempool cache size for a pool of mbufs shared by lcores lcores. */
unsigned dp_mbuf_cache_size(unsigned mbufs, unsigned lcores);

#endif /* DPNAT_DP_H */
