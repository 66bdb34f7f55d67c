/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP ALG (RFC 2637): parses both byte streams of each TCP/1723 control
 * connection, translates the inside host's Call IDs so that many clients
 * behind one public address can reach the same server, and opens the GRE
 * gates of each established call (KB12423's "pptp xlate" and its two GRE
 * sessions per call).
 *
 * Direction 0 is the inside client (the initiator of the control connection,
 * the session's key[0]); direction 1 is the outside server.
 *
 * Threads: workers call pptp_ctrl_attach() and pptp_ctrl_input(); the
 * control lcore calls everything else. Both directions of a control
 * connection may run on different workers at once: each control state has
 * its own spinlock. The xlate table is an rte_hash read lock-free; entry and
 * control-state slots are reused only after an RCU (QSBR) grace period of
 * the workers registered in the qsbr given to pptp_create().
 */
#ifndef DPNAT_PPTP_H
#define DPNAT_PPTP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "conf.h"
#include "flow.h"
#include "nat.h"
#include "nat_src.h"
#include "pkt.h"
#include "rcu_defer.h"

#define PPTP_PORT            1723
#define PPTP_DEFAULT_XLATE   CONF_DEF_PPTP_XLATE
#define PPTP_DEFAULT_TIMEOUT CONF_DEF_TMO_PPTP_XLATE  /**< seconds an xlate entry lives idle (lib/conf) */
#define PPTP_DEFAULT_PER_SRC CONF_DEF_PPTP_PER_SRC
#define PPTP_ALG_ID          1      /**< flow_session.alg_id of the PPTP ALG's sessions (FLOW_ALG_NONE is 0) */


/* X(enum suffix, name, help): control-stream errors and events, counted per reason. */
#define PPTP_FOREACH_ERR(X)                                                           \
	X(BAD_LEN,     "bad-length",      "length field shorter than a header or too long") \
	X(BAD_MAGIC,   "bad-magic",       "magic cookie is not 0x1A2B3C4D")                 \
	X(BAD_TYPE,    "bad-msg-type",    "PPTP message type is not 1 (control)")           \
	X(BAD_CTRL,    "bad-ctrl-type",   "unknown control message type")                   \
	X(WRONG_LEN,   "wrong-length",    "length is not the one of the control type")      \
	X(GAP,         "gap",             "segment beyond the next expected byte (dropped)") \
	X(DESYNC,      "desync-drop",     "payload of a desynced control connection dropped") \
	X(UNKNOWN_CID, "unknown-call-id", "call id that names no call of the connection")   \
	X(SPLIT_TRIM,  "split-trimmed",   "segment trimmed before a split Call ID field")   \
	X(RETRANS,     "retrans-rewritten", "retransmission given the logged rewrites again") \
	X(NO_ISN,      "no-isn",          "payload before the handshake gave its stream start") \
	X(RST_BAD,     "rst-bad-seq",     "RST not at the next expected byte: no teardown") \
	X(BAD_CKSUM,   "bad-cksum",       "TCP checksum wrong (dropped before parsing)")    \
	X(LOG_FULL,    "log-full",        "rewrite log full of unacknowledged rewrites (held back)") \
	X(ACKED_CUT,   "acked-cut",       "retransmitted bytes older than the log (acknowledged) cut off") \
	X(CDN_PEER_ID, "cdn-peer-id",     "CDN naming the receiver's Call ID (accepted)") \
	X(FIN_BAD,     "fin-bad-seq",     "FIN not at the next expected byte: no teardown")

/** Counted control-stream errors and events. */
enum pptp_err {
#define PPTP_ERR_ENUM(e, s, h) PPTP_ERR_##e,
	PPTP_FOREACH_ERR(PPTP_ERR_ENUM)
#undef PPTP_ERR_ENUM
	PPTP_ERR_MAX
};

/** Counters of the ALG. */
struct pptp_stats {
	uint64_t xlate_used;     /**< call entries in use (including those waiting for reuse) */
	uint64_t xlate_max;
	uint64_t failed;         /**< KB "Failed count": table full, no Call ID, id clash */
	uint64_t calls_opened;   /**< xlate entries created */
	uint64_t calls_closed;   /**< calls torn down */
	uint64_t gates_opened;   /**< GRE gate sessions created (two per call) */
	uint64_t gates_failed;   /**< GRE gate that could not be created (table full, clash) */
	uint64_t ctrl_used;      /**< control states in use */
	uint64_t ctrl_max;
	uint64_t ctrl_failed;    /**< no control state left when a handshake completed */
	uint64_t ctrl_refused;   /**< refused: the client holds its per-source maximum */
	uint64_t ctrl_per_src;   /**< that maximum */
	uint64_t desynced;       /**< control connections marked desynced */
	uint64_t err[PPTP_ERR_MAX];
	struct rcu_defer_stats rcu_calls;  /**< ended calls waiting for a grace period */
	struct rcu_defer_stats rcu_ctrl;   /**< freed control states, ditto */
};

/** One call as the CLI shows it. Addresses and ids in host order. */
struct pptp_xlate_info {
	uint32_t inside_ip;      /**< client */
	uint32_t server_ip;
	uint32_t public_ip;      /**< the control session's public address (= inside_ip if not NAT'd) */
	uint16_t inside_cid;     /**< the client's own Call ID */
	uint16_t xlated_cid;     /**< what the server sees */
	uint16_t server_cid;     /**< the server's Call ID, 0 until its reply */
	uint16_t src_port;       /**< the control connection's original client source port */
	uint32_t time_left;      /**< seconds */
	uint32_t ctrl_sess_id;   /**< id of the control session */
	uint32_t index;          /**< entry index */
	uint32_t gen;            /**< entry generation: changes only when the slot is reused */
	uint8_t gates;           /**< GRE gates alive (0..2) */
	bool nat;                /**< Call ID translated */
	bool established;        /**< the reply accepted the call and the gates were opened */
};

struct pptp_alg;

#define PPTP_SYNC_CALLS 16      /**< calls of one control connection an HA record carries */
#define PPTP_SYNC_LOG   64      /**< as PPTP_LOG_N */

/**
 * One control connection's ALG state as an HA peer needs it to take the
 * connection over (pptp_ctrl_export, pptp_ctrl_import): each direction's
 * stream position and parse state, and its calls with their Call IDs.
 * Host byte order but for the Call IDs (network); both boxes run the same
 * build.
 */
struct pptp_sync {
	uint8_t desync, closing, ncalls, pad;
	struct pptp_sync_dir {
		uint32_t isn, next, log_floor, acked;
		uint16_t msg_len, consumed;
		uint8_t known, fin, nlog, log_head;
		uint8_t cur_call;       /**< index in calls[] of the call being parsed, 0xff: none */
		uint8_t pad[3];
		uint8_t hdr[20];
		struct {
			uint32_t seq;
			uint8_t old[2], new_[2];
		} log[PPTP_SYNC_LOG];
	} d[2];
	struct {
		rte_be16_t ccid, xcid, scid;
		uint8_t has_scid, open;
	} calls[PPTP_SYNC_CALLS];
};

/**
 * Create the ALG: max_xlate calls (two hash keys each), max_ctrl control
 * connections, for n_workers workers that are readers of qsbr; GRE gates
 * go into ft. NULL on failure (rte_errno: EINVAL, ENOMEM).
 */
struct pptp_alg *pptp_create(const char *name, uint32_t max_xlate, uint32_t max_ctrl,
			     unsigned n_workers, struct rte_rcu_qsbr *qsbr, struct flow_table *ft,
			     int socket);

/**
 * The ALG state of control session s into *out (any lcore; takes the
 * state's lock). 0, or -ENOENT when s has none (yet). Calls beyond
 * PPTP_SYNC_CALLS are left out (counted in ncalls as carried).
 */
int pptp_ctrl_export(struct pptp_alg *a, struct flow_session *s, struct pptp_sync *out);

/**
 * HA standby, control lcore: make control session s (inserted, PPTP's) hold
 * the state in *in: a control state taken if it has none, its streams set,
 * calls it lacks made with the same translated Call IDs (reserved in the
 * allocator) and their gates opened, calls *in no longer has torn down.
 * Worker w's pools are used. 0, or a negative errno when no state could be
 * had (the calls that could not be made are counted as failed).
 */
int pptp_ctrl_import(struct pptp_alg *a, struct flow_session *s, const struct pptp_sync *in,
		     unsigned w, uint32_t now);

/** Free the ALG. NULL accepted. Sessions in ft that point at it must be gone. */
void pptp_free(struct pptp_alg *a);

/** Register public address pub_ip (host order) whose Call IDs the ALG hands out. 0 or -ENOSPC/-ENOMEM. */
int pptp_addr_add(struct pptp_alg *a, uint32_t pub_ip);

/**
 * Usage of the Call IDs of public address pub_ip (host order): in use, size,
 * refusals. 0 or -ENOENT if the address is not registered.
 */
int pptp_addr_info(const struct pptp_alg *a, uint32_t pub_ip, struct nat_addr_info *info);

/**
 * Worker: mark TCP/1723 session s (keys, rewrites and FLOW_F_NAT already
 * set) as a PPTP control connection, before its first packet is forwarded.
 * Sets FLOW_F_ALG_CTRL and alg_id PPTP_ALG_ID and takes no state: pptp_ctrl_input() takes it when
 * the client completes the TCP handshake (an unanswered SYN costs nothing),
 * at most per-source maximum per client. Returns 0.
 */
int pptp_ctrl_attach(struct pptp_alg *a, struct flow_session *s, unsigned w);

/** Worker: undo pptp_ctrl_attach() for a session that is released without being inserted. */
void pptp_ctrl_detach(struct pptp_alg *a, struct flow_session *s);

/**
 * Worker w: a TCP segment of control session s in direction dir (every one,
 * the SYNs included: they set where each byte stream starts), before the
 * NAT rewrite (md parsed, pre-NAT addresses). Rewrites Call IDs in place
 * (TCP checksum patched), may trim the segment (then IP length and both
 * checksums are fixed and md->l4_len updated), opens and closes GRE gates.
 * Returns 0 to forward m, or a drop reason (enum pkt_drop; m untouched
 * apart from rewrites already applied, the caller frees it).
 */
int pptp_ctrl_input(struct pptp_alg *a, unsigned w, struct flow_session *s, unsigned dir,
		    struct rte_mbuf *m, struct pkt_meta *md, uint32_t now);

/**
 * Control lcore, from the flow table's free callback, for any session (those
 * of other ALGs are left alone) with s->alg != FLOW_INVALID or
 * FLOW_F_ALG_CTRL set: a control session's calls are torn down and its
 * state released; a GRE gate's call is torn down (its other gate killed) and
 * its entry and Call ID released once both gates are gone.
 */
void pptp_session_freed(struct pptp_alg *a, struct flow_session *s);

/**
 * Control lcore: age up to budget xlate entries (timeout since the last
 * control message of the call or GRE packet through its gates) and reclaim
 * slots whose RCU grace period is over.
 */
void pptp_tick(struct pptp_alg *a, uint32_t now, unsigned budget);

/**
 * Count every call against its inside host in t (NULL: no counting), and
 * refuse a host's new call while it holds limit calls. Control lcore; t must
 * stay while the ALG lives and be given before the first call.
 */
void pptp_set_client_limit(struct pptp_alg *a, struct nat_src *t, uint32_t limit);
/** Set the most control connections one client address may hold (0 is taken as 1). */
void pptp_set_ctrl_per_source(struct pptp_alg *a, uint32_t n);

/**
 * Called on the lcore that did it when a call opens (the server's reply
 * that makes its gates) and when an opened call ends (open false): the
 * NAT event log's hook. Never per packet.
 */
typedef void (*pptp_call_log_fn)(void *arg, const struct pptp_xlate_info *xi, bool open);

/** Set the call log hook (NULL: none), before the workers start. */
void pptp_set_call_log(struct pptp_alg *a, pptp_call_log_fn fn, void *arg);

/**
 * Called on the lcore that refused it when an inside host's call is refused
 * at its per-client limit (pptp_set_client_limit): the NAT event log's quota
 * record. client in network order.
 */
typedef void (*pptp_quota_log_fn)(void *arg, rte_be32_t client, uint32_t limit);

/** Set the quota hook (NULL: none), before the workers start. */
void pptp_set_quota_log(struct pptp_alg *a, pptp_quota_log_fn fn, void *arg);

/** Set the xlate timeout in seconds (0 is taken as 1). */
void pptp_set_timeout(struct pptp_alg *a, uint32_t xlate_s);

/** The xlate timeout in seconds. */
uint32_t pptp_get_timeout(const struct pptp_alg *a);

/** Copy of the counters. */
void pptp_stats_get(const struct pptp_alg *a, struct pptp_stats *st);

/** CLI name of error counter e ("bad-magic"); "?" if out of range. */
const char *pptp_err_name(unsigned e);

/** One-line help of error counter e. */
const char *pptp_err_help(unsigned e);

/**
 * Control lcore: call fn for each live call (in entry order) until it
 * returns non-zero; time_left is computed against now.
 */
void pptp_xlate_walk(struct pptp_alg *a, uint32_t now,
		     int (*fn)(const struct pptp_xlate_info *xi, void *arg), void *arg);

/**
 * Control lcore: pptp_xlate_walk() over the entry slots from *cursor (0 to
 * begin), at most budget slots; updates *cursor and returns true while slots
 * remain (false at the end, or when fn stopped the walk).
 */
bool pptp_xlate_walk_from(struct pptp_alg *a, uint32_t now, uint32_t *cursor, uint32_t budget,
			  int (*fn)(const struct pptp_xlate_info *xi, void *arg), void *arg);

/**
 * Control lcore: tear down every live call for which match returns true
 * (NULL matches all): xlate entries removed, both GRE gates deleted.
 * Returns how many calls were torn down.
 */
unsigned pptp_clear(struct pptp_alg *a, bool (*match)(const struct pptp_xlate_info *xi, void *arg),
		    void *arg);

/**
 * Lock-free (any RCU reader): find the call that translated to xcid on
 * public address pub towards server (network order) and copy it to xi
 * (time_left not computed). 0 or -ENOENT.
 */
int pptp_xlate_lookup(struct pptp_alg *a, rte_be32_t pub, rte_be32_t server, rte_be16_t xcid,
		      struct pptp_xlate_info *xi);

/**
 * Copy entry idx as it is now into xi, whatever its state (time_left not
 * computed). 0, -EINVAL if idx is out of range, -ENOENT if the entry is free.
 */
int pptp_xlate_get(struct pptp_alg *a, uint32_t idx, struct pptp_xlate_info *xi);

#endif /* DPNAT_PPTP_H */
