/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT event log (issue 18): fixed-size records of sessions made and deleted,
 * queued by the lcore that made or deleted them into its own bounded
 * single-producer ring and drained by the control lcore. A full ring loses
 * the record and counts it; nothing waits. Nothing is queued unless the
 * published runtime says `set log nat enable` (one branch where a session
 * is made or freed, never per packet).
 */
#ifndef DPNAT_DP_NATLOG_H
#define DPNAT_DP_NATLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ring.h>

#include "conf.h"

struct dp;
struct cli_out;
struct flow_session;
struct pptp_xlate_info;

/** What a record tells. */
enum dp_natlog_type {
	DP_NATLOG_SESS_NEW = 1,   /**< a session was made (nat_session_new) */
	DP_NATLOG_SESS_DEL = 2,   /**< a session was deleted (aged or cleared) */
	DP_NATLOG_CALL_NEW = 3,   /**< a PPTP call opened: src/sport client and its Call ID, xsrc/xsport
				   *   public address and translated Call ID, dst/dport server and its Call ID */
	DP_NATLOG_CALL_DEL = 4,   /**< an opened PPTP call ended (same fields) */
	DP_NATLOG_PBA_ALLOC = 5,  /**< a port block taken: src subscriber, xsrc public address,
				   *   xsport..xdport the block's ports (natEvent 16) */
	DP_NATLOG_PBA_RELEASE = 6, /**< a port block given back (same fields; natEvent 17) */
	DP_NATLOG_PBA_INTERIM = 7, /**< a port block still held, re-logged every interim-log seconds */
	DP_NATLOG_QUOTA = 8,      /**< a subscriber limit refused a session (natEvent 13):
				   *   src subscriber, quota enum dp_natlog_quota, limit; at most
				   *   one a second per lcore */
	DP_NATLOG_PORTS_EXHAUSTED = 9, /**< a new flow (src/dst/ports/proto) refused: no public port
				   *   left (natEvent 12); at most one a second per lcore */
};

/** Which limit a DP_NATLOG_QUOTA record names. */
enum dp_natlog_quota {
	DP_NATLOG_Q_SESSIONS = 1,  /**< screen limit-session source-ip-based */
	DP_NATLOG_Q_PORTS,         /**< nat subscriber-limit ports */
	DP_NATLOG_Q_BLOCKS,        /**< nat port-block max-blocks (its blocks all full) */
	DP_NATLOG_Q_DET_RANGE,     /**< the deterministic range all in use */
	DP_NATLOG_Q_PPTP_CALLS,    /**< alg pptp xlate per-client */
};

/** Refusal kinds rate-limited per lcore by dp_natlog_refusal() (DP_NATLOG_PORTS_EXHAUSTED). */
#define DP_NATLOG_REFUSALS 1

/** One event, 64 bytes: pre-NAT tuple (key[0]) and post-NAT tuple (rw[0]), network order. */
struct dp_natlog_rec {
	uint8_t type;             /**< enum dp_natlog_type */
	uint8_t proto;
	uint8_t in_iface;         /**< interface the initiator's packets arrive on */
	uint8_t out_iface;        /**< interface they leave by */
	uint16_t policy_id;
	uint16_t nat_port;        /**< public port taken, host order, 0 if none */
	uint32_t session_id;
	uint32_t created;         /**< flow clock, seconds */
	uint32_t time;            /**< flow clock, seconds: when the event happened */
	rte_be32_t src, dst;      /**< as the initiator sent them */
	rte_be32_t xsrc, xdst;    /**< as they left */
	rte_be16_t sport, dport;
	rte_be16_t xsport, xdport;
	uint8_t reason;           /**< delete: enum dp_natlog_reason */
	uint8_t quota;            /**< DP_NATLOG_QUOTA: enum dp_natlog_quota */
	uint8_t pad0[2];
	uint64_t tsc;             /**< TSC when the event happened (IPFIX's millisecond time) */
	uint32_t limit;           /**< DP_NATLOG_QUOTA, DP_NATLOG_PORTS_EXHAUSTED: the limit that refused */
	uint8_t pad[4];
} __rte_aligned(64);

/** Why a session was deleted, as ScreenOS's traffic log words it. */
enum dp_natlog_reason {
	DP_NATLOG_CLOSE_OTHER = 0,   /**< cleared (`clear session`) or torn down */
	DP_NATLOG_CLOSE_AGE,         /**< idle timeout */
	DP_NATLOG_CLOSE_FIN,         /**< TCP FIN */
	DP_NATLOG_CLOSE_RST,         /**< TCP RST */
};

/** One lcore's queue and what it made and lost (written by that lcore only). */
struct dp_natlog_q {
	struct rte_ring *ring;    /**< SP (this lcore) / SC (control lcore) ring of dp_natlog_rec */
	uint64_t created;
	uint64_t lost;            /**< ring full: never queued */
	uint64_t quota_held;      /**< quota records not made: one a second per queue at most */
	uint32_t quota_sec;       /**< the second of the last quota record */
	uint32_t refused_at[DP_NATLOG_REFUSALS];  /**< flow-clock second + 1 of the last refusal record */
} __rte_cache_aligned;

/** Records the control lcore takes off a queue at once and hands to syslog and IPFIX (a batch). */
#define DP_NATLOG_BATCH 256

/** The IPFIX Observation Domain ID of every message dpnat sends. */
#define DP_IPFIX_DOMAIN 1

/** One IPFIX collector's transport session (control lcore only). */
struct dp_ipfix_coll {
	uint32_t ip;              /**< host order */
	uint16_t port;
	uint32_t seq;             /**< RFC 7011 sequence: data records sent to it before the next message */
	uint64_t tmpl_at;         /**< monotonic second of its last template message, 0: never */
	uint64_t tmpl_failed_at;  /**< monotonic second its socket last refused the templates */
	uint64_t msgs;            /**< messages (template and data) it took */
	uint64_t errors;          /**< messages the socket refused for it */
	uint64_t templates;       /**< template messages it took */
};

/** The IPFIX exporter's state (control lcore only). */
struct dp_natlog_ipfix {
	struct dp_ipfix_coll coll[CONF_MAX_IPFIX];
	unsigned n;
	uint64_t records_sent;    /**< records at least one collector took */
	uint64_t records_lost;    /**< records drained while IPFIX was on that no collector took */
};

/** Counters summed over lcores: created = sent + lost + queued (lost: a full queue, or no collector took it). */
struct dp_natlog_stats {
	uint64_t created;
	uint64_t sent;
	uint64_t lost;
	uint64_t queued;
	uint64_t syslog_sent;     /**< syslog datagrams sent (a record per collector) */
	uint64_t syslog_errors;   /**< syslog datagrams the socket refused */
	uint64_t quota_held;      /**< quota-exceeded records held back by the rate limit */
	uint64_t ipfix_records_sent;  /**< records in an IPFIX message at least one collector took */
	uint64_t ipfix_records_lost;  /**< records drained with IPFIX on that no collector took */
	uint64_t ipfix_msgs;      /**< IPFIX datagrams sent (each per collector), templates included */
	uint64_t ipfix_templates; /**< IPFIX template datagrams sent */
	uint64_t ipfix_errors;    /**< IPFIX datagrams the socket refused */
	uint32_t queue_size;      /**< records per lcore */
};

/** Create a queue per worker and the control lcore's. 0, or -1 with err set. */
int dp_natlog_create(struct dp *dp, char *err, size_t errlen);
/** Free the queues (NULL rings are fine). */
void dp_natlog_free(struct dp *dp);
/** Queue a record of type for session s on queue q (worker index, or dp->n_workers: control). */
void dp_natlog_session(struct dp *dp, unsigned q, const struct flow_session *s, unsigned type);
/**
 * Worker q refused a new flow (src, dst in network order) for reason why
 * (a PKT_DROP_*): a DP_NATLOG_PORTS_EXHAUSTED or DP_NATLOG_QUOTA_EXCEEDED
 * record, at most one of each a second; other reasons make none.
 */
void dp_natlog_refusal(struct dp *dp, unsigned q, unsigned why, uint8_t proto, rte_be32_t src,
		       rte_be32_t dst, rte_be16_t sport, rte_be16_t dport, uint32_t limit);
/** The PPTP ALG's call log hook (pptp_set_call_log): arg is the struct dp. */
void dp_natlog_pptp_call(void *arg, const struct pptp_xlate_info *xi, bool open);
/** lib/nat's port block hook (nat_pba_set_log): arg is the struct dp; queued on the calling lcore's queue. */
void dp_natlog_pba(void *arg, unsigned event, rte_be32_t src, uint32_t pub, uint16_t first,
		   uint16_t last);
/** A subscriber limit refused a session of src on worker queue q (at most one record a second per queue). */
void dp_natlog_quota(struct dp *dp, unsigned q, rte_be32_t src, unsigned quota, uint32_t limit);
/** The PPTP ALG's quota hook (pptp_set_quota_log): arg is the struct dp. */
void dp_natlog_pptp_quota(void *arg, rte_be32_t client, uint32_t limit);
/** Control lcore: drain every queue (bounded by the queues' sizes). Returns records drained. */
unsigned dp_natlog_drain(struct dp *dp);
/** The counters summed over lcores. */
void dp_natlog_stats_get(const struct dp *dp, struct dp_natlog_stats *st);
/** CLI view `get log nat`. */
void dp_natlog_show(struct dp *dp, struct cli_out *out);

#endif /* DPNAT_DP_NATLOG_H */
