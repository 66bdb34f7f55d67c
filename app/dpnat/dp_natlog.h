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
				   *   xsport..xdport the block's ports (RFC 8158 natEvent 22) */
	DP_NATLOG_PBA_RELEASE = 6, /**< a port block given back (same fields; natEvent 23) */
	DP_NATLOG_PBA_INTERIM = 7, /**< a port block still held, re-logged every interim-log seconds */
	DP_NATLOG_QUOTA = 8,      /**< a subscriber limit refused a session (natEvent 13):
				   *   src subscriber, quota enum dp_natlog_quota, limit */
};

/** Which limit a DP_NATLOG_QUOTA record names. */
enum dp_natlog_quota {
	DP_NATLOG_Q_SESSIONS = 1,  /**< screen limit-session source-ip-based */
	DP_NATLOG_Q_PORTS,         /**< nat subscriber-limit ports */
	DP_NATLOG_Q_BLOCKS,        /**< nat port-block max-blocks (its blocks all full) */
	DP_NATLOG_Q_DET_RANGE,     /**< the deterministic range all in use */
	DP_NATLOG_Q_PPTP_CALLS,    /**< alg pptp xlate per-client */
};

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
	uint32_t limit;           /**< DP_NATLOG_QUOTA: the limit that refused */
	uint8_t pad[12];
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
} __rte_cache_aligned;

/** Counters summed over lcores: created = sent + lost + queued (lost: a full queue, or no collector took it). */
struct dp_natlog_stats {
	uint64_t created;
	uint64_t sent;
	uint64_t lost;
	uint64_t queued;
	uint64_t syslog_sent;     /**< syslog datagrams sent (a record per collector) */
	uint64_t syslog_errors;   /**< syslog datagrams the socket refused */
	uint64_t quota_held;      /**< quota-exceeded records held back by the rate limit */
	uint32_t queue_size;      /**< records per lcore */
};

/** Create a queue per worker and the control lcore's. 0, or -1 with err set. */
int dp_natlog_create(struct dp *dp, char *err, size_t errlen);
/** Free the queues (NULL rings are fine). */
void dp_natlog_free(struct dp *dp);
/** Queue a record of type for session s on queue q (worker index, or dp->n_workers: control). */
void dp_natlog_session(struct dp *dp, unsigned q, const struct flow_session *s, unsigned type);
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
