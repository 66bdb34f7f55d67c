/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session table. A session is two flows, one per direction; each flow is
 * a match key and a rewrite (VPP's "6-tuple flow" idea): the slow path
 * decides once what each direction becomes, the fast path applies it without
 * knowing why. Both keys are indexed in one hash shared by all workers
 * (flow.c: two-choice, 8-way buckets of one cache line holding signatures
 * and session references; the key itself is the session's): lock-free
 * readers; adds from the workers that create sessions lock only the buckets
 * their keys may go to, deletes (the control lcore, ALG teardown) take no
 * lock; session objects reclaimed after an RCU (QSBR) grace period.
 *
 * Addresses and ports in keys and rewrites are in network byte order.
 *
 * Ownership. Every field of struct flow_session says who writes it and how
 * (pf's pf_state legend; lib/alg/pptp/pptp_priv.h uses it for its calls and
 * control states):
 *   [I] immutable once inserted: the creator writes it between flow_alloc
 *       and flow_insert, whose release store of the index entry publishes
 *       it; anyone reads it
 *   [T] the table (flow.c), on an object it owns (insert, delete)
 *   [D] the worker forwarding that direction, relaxed atomics; the other
 *       direction's worker reads it
 *   [A] any worker, atomically (OR of bits, stores of a whole value)
 *   [C] the control lcore only, once the session left the index (the free
 *       callback)
 * Views on the control lcore read any field without a lock; a value they
 * show may be a moment old. The object itself is reused only after an RCU
 * grace period (docs/architecture.md, "Reclamation").
 */
#ifndef DPNAT_FLOW_H
#define DPNAT_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>

#include "cksum.h"
#include "rcu_defer.h"

#define FLOW_MAX_WORKERS 16
#define FLOW_INVALID     UINT32_MAX

/** A direction's match key: 16 bytes, padding always zero. */
struct flow_key {
	rte_be32_t src;
	rte_be32_t dst;
	rte_be16_t sport;     /**< ICMP echo: identifier; GRE: 0 */
	rte_be16_t dport;     /**< ICMP echo: identifier; GRE: call id */
	uint8_t proto;
	uint8_t pad[3];
};

/**
 * What a direction's packets are rewritten to (the full resulting tuple),
 * with the checksum changes that rewrite makes, summed once when the session
 * is made (flow_rw_prepare) so the fast path adds them instead of
 * recomputing them per packet.
 */
struct flow_rw {
	rte_be32_t src;
	rte_be32_t dst;
	rte_be16_t sport;
	rte_be16_t dport;
	uint16_t ck_ip;       /**< one's complement change of the IPv4 header (addresses) */
	uint16_t ck_l4;       /**< ... of a TCP/UDP checksum (pseudo-header addresses and ports) */
};

/** Timeout classes; the seconds for each live in flow_table and can change at run time. */
enum flow_tmo {
	FLOW_TMO_TCP = 0,      /**< established TCP */
	FLOW_TMO_TCP_SYN,      /**< TCP before the reply's SYN-ACK */
	FLOW_TMO_TCP_CLOSING,  /**< TCP after FIN or RST */
	FLOW_TMO_UDP,
	FLOW_TMO_ICMP,
	FLOW_TMO_GRE,
	FLOW_TMO_OTHER,
	FLOW_TMO_MAX
};

/**
 * key.pad[0] of the second key of a one-way session (flow_session.oneway),
 * set by flow_insert: no packet's key has it (flow_key_set zeroes the
 * padding), so packets match such a session by key[0] only; a lookup that
 * asks for a wing (flow_key_wing: an ICMP error quoting the session's
 * translated packets) finds it by key[1].
 */
#define FLOW_KEY_WING 1

/* session->flags */
#define FLOW_F_ALG_MADE   0x01  /**< opened by an ALG (a data session it expects): the KB's "module 1" */
#define FLOW_F_ALG_CTRL   0x02  /**< an ALG's control connection: its packets go through the ALG (alg_id) */
#define FLOW_F_NAT        0x04  /**< source translated */
#define FLOW_F_ALG_DATA   0x08  /**< an ALG's data session (alg_id, alg): dir 1 restores what dir 0 rewrote */
#define FLOW_F_DEAD       0x10  /**< torn down by a worker (ALG teardown): aged at once */
#define FLOW_F_MAP        0x20  /**< holds a reference on the mapping of key[0]'s source endpoint (lib/nat/nat_map.h) */
#define FLOW_F_MAP_R      0x40  /**< ... and on that of key[1]'s source (reached through its mapping) */
/** struct flow_session.xflags: its public port is counted for its source (nat subscriber-limit ports). */
#define FLOW_X_PORT_COUNTED 0x01
#define FLOW_F_PBA        0x80  /**< its public port is from its source's port block (nat_pba_put on free) */

/* session->alg_id: which ALG owns alg and the FLOW_F_ALG_* flags; the ALGs number themselves. */
#define FLOW_ALG_NONE     0

/* session->tcp (set with atomic OR, both directions may run on different workers) */
#define FLOW_TCP_SYN0     0x01  /**< SYN seen from the initiator */
#define FLOW_TCP_SYN1     0x02  /**< SYN-ACK seen from the responder */
#define FLOW_TCP_FIN0     0x04
#define FLOW_TCP_FIN1     0x08
#define FLOW_TCP_RST      0x10

/**
 * What one side of a TCP session has sent and acknowledged (pf's
 * pf_state_peer, reduced): enough to tell whether a segment lies in the
 * window of the side that receives it (flow_tcp_input, flow_tcp_fast).
 * Written only by packets of its own direction.
 */
struct flow_tcp_peer {
	uint32_t end;        /**< sequence number after the last one it sent (SYN, FIN count): its SND.NXT */
	uint32_t ack;        /**< highest acknowledgement it sent: the other's RCV.NXT is at least this */
	uint16_t max_win;    /**< largest window it advertised, unscaled */
	uint8_t wscale;      /**< its window scale; 0 unless both SYNs offered scaling */
	uint8_t state;       /**< FLOW_TCPP_* */
};

/* flow_tcp_peer.state */
#define FLOW_TCPP_SYN     0x01  /**< its SYN seen: end and ack are valid */
#define FLOW_TCPP_WS      0x02  /**< its SYN offered window scaling */
/**
 * Tracking copied from an HA peer (which may be up to a refresh interval
 * old): the first segment from this side that falls outside the windows
 * re-anchors them instead of being dropped, when it lies within
 * FLOW_TCP_PICKUP_SPAN of what the copy says (flow_tcp_input).
 */
#define FLOW_TCPP_SYNCED  0x04

/** How far a synced side's first segment may be from its copied tracking (64 MiB). */
#define FLOW_TCP_PICKUP_SPAN (1u << 26)

/**
 * How far back of the acknowledging side's window an acknowledgement may
 * lag what the other side sent (pf's MAXACKWINDOW: a window and a segment).
 */
#define FLOW_TCP_ACK_SLACK (65535u + 1500u)

/**
 * Where a direction's packets were last forwarded: the egress interface and
 * the next hop's MAC address, found by a route lookup and the neighbour
 * cache and kept for as long as the session's fwd_gen is the generation of
 * routes and neighbours the worker read (workers fill it; ok says it is).
 */
struct flow_fwd {
	struct rte_ether_addr dmac;  /**< next hop's MAC */
	uint8_t iface;               /**< egress interface */
	uint8_t ok;                  /**< filled for fwd_gen */
};

/**
 * One session (both directions). 192 bytes on a 64-byte boundary: the first
 * 64 bytes - all a packet of an established session reads and writes, but
 * for a TCP segment's window tracking - are one cache line; the second holds
 * the keys the lookup compares and the TCP tracking, the third is cold
 * (what only creation, deletion and views touch; the control lcore writes
 * only there).
 *
 * Ownership of each field: see the legend at the top of this file.
 */
struct flow_session {
	struct flow_rw rw[2];        /**< [I] what packets of each direction become */
	struct flow_fwd fwd[2];      /**< [A] where each direction was forwarded, valid for fwd_gen (fwd_fill) */
	uint32_t fwd_gen;            /**< [A] routes + neighbours generation fwd[] was filled for */
	uint32_t last_seen;          /**< [A] seconds (flow clock); relaxed store, at most once a second */
	uint8_t flags;               /**< [I] FLOW_F_*, but FLOW_F_DEAD: [A] atomic OR (flow_kill) */
	uint8_t tcp;                 /**< [A] FLOW_TCP_*, atomic OR */
	uint8_t iface[2];            /**< [I] interface each direction arrives on */
	uint8_t owner;               /**< [I] worker that allocated it and its public port */
	uint8_t proto;               /**< [I] */
	uint8_t tmo;                 /**< [I] enum flow_tmo when established */
	uint8_t spare;               /**< unused (in_use lives in the cold line: see there) */
	/* the rest: creation, deletion, views */
	uint8_t out_iface[2];        /**< [I] interface each direction leaves by (as routed when made) */
	uint16_t policy_id;          /**< [I] */
	struct flow_key key[2];      /**< [I] [0] as sent by the initiator, [1] as the reply arrives */
	struct flow_tcp_peer tcpp[2]; /**< [D] TCP: what each direction's sender sent (in the keys' line) */
	uint32_t id;                 /**< [T] session id shown by the CLI (index + 1) */
	uint32_t alg;                /**< ALG state index, FLOW_INVALID if none: [I] for a data session;
				      *   a control session's: [A] compare-and-swap from FLOW_INVALID
				      *   by the worker that takes the state, [C] exchanged when freed */
	uint32_t created;            /**< [T] seconds (flow clock), set by flow_insert */
	uint16_t nat_port;           /**< [I] public port (host order) to free, on address rw[0].src; 0 if none */
	uint16_t dip_id;             /**< [I] DIP pool id, 0 = interface address */
	uint8_t was_indexed;         /**< [T] a failed flow_insert left a key visible a moment: reuse after a grace period */
	uint8_t alg_id;              /**< [I] the ALG of FLOW_F_ALG_* and alg, FLOW_ALG_NONE if none */
	uint8_t oneway;              /**< [I] packets match key[0] only: key[1] is indexed as a wing (FLOW_KEY_WING) */
	/*
	 * [T] set by flow_insert, cleared by flow_delete (release store). In the
	 * cold line, not the first: the control lcore's delete writes nothing
	 * of the line the fast path writes (last-seen, TCP bits, fwd cache).
	 */
	uint8_t in_use;
	uint8_t xflags;              /**< [I] FLOW_X_*: the rarer things freeing it gives back (cold) */
} __rte_aligned(64);

/** Bytes of a session the fast path reads (see struct flow_session). */
#define FLOW_SESSION_HOT 64

/** Counters of the table (summed over workers where per worker). */
struct flow_stats {
	uint64_t alloc;              /**< sessions in use now */
	uint64_t max;
	uint64_t alloc_failed;       /**< table full */
	uint64_t created;            /**< total ever created */
	uint64_t freed;              /**< total ever deleted */
	uint64_t aged;               /**< deleted by timeout */
	uint64_t cleared;            /**< deleted by clear / teardown */
	uint64_t insert_failed;      /**< hash insert failed (bucket full, duplicate) */
	uint64_t pending_free;       /**< deleted, waiting for the RCU grace period */
	struct rcu_defer_stats rcu;  /**< the session objects' reclamation queue */
	uint64_t per_worker[FLOW_MAX_WORKERS];  /**< sessions alive that each worker created */
};

struct flow_table;

/** Called when a session is deleted (before its memory is reclaimed): free ports, ALG state. */
typedef void (*flow_free_cb)(struct flow_session *s, void *arg);

/**
 * Create a table for max sessions (2 * max keys) on NUMA socket, whose
 * readers are the n_workers threads registered in qsbr. free_cb runs on the
 * deleting thread for every deleted session. NULL on failure (rte_errno).
 */
struct flow_table *flow_create(const char *name, uint32_t max, unsigned n_workers,
			       struct rte_rcu_qsbr *qsbr, flow_free_cb free_cb, void *cb_arg,
			       int socket);

/** Free the table. NULL accepted. */
void flow_free(struct flow_table *ft);

/** Set the seconds of timeout class t (applies to existing sessions too). */
void flow_set_timeout(struct flow_table *ft, enum flow_tmo t, uint32_t seconds);

/** The seconds of timeout class t. */
uint32_t flow_get_timeout(const struct flow_table *ft, enum flow_tmo t);

/** Advance the table's clock (seconds); the control lcore calls it once a second. */
void flow_set_clock(struct flow_table *ft, uint32_t now);

/** The table's clock in seconds, as the workers stamp sessions. */
uint32_t flow_clock(const struct flow_table *ft);

/**
 * Look up n keys (n <= 64). For each hit, sess[i] is set and dir[i] is 0 or 1;
 * misses get sess[i] = NULL. Returns the hit mask. Lock-free; workers only.
 */
uint64_t flow_lookup_bulk(struct flow_table *ft, const struct flow_key *keys, unsigned n,
			  struct flow_session **sess, uint8_t *dir);

/** Single-key lookup. Returns the session or NULL; *dir set on a hit. */
struct flow_session *flow_lookup(struct flow_table *ft, const struct flow_key *key, uint8_t *dir);

/**
 * Take a free session object for worker w (zeroed except id). NULL when the
 * table is full (alloc_failed counted). w below the table's n_workers: that
 * worker's own cache of free objects, so one thread per w at a time; any
 * other w (the control lcore) takes from the shared ring.
 */
struct flow_session *flow_alloc(struct flow_table *ft, unsigned w);

/**
 * Publish s (keys and rewrites filled) in the hash; a one-way session's
 * key[1] gets FLOW_KEY_WING first. Returns 0: s now
 * belongs to the table and ends only by flow_delete. Or -EEXIST if a key is
 * already present, -ENOSPC if the hash could not take it (counted): nothing
 * is inserted and s is still the caller's, who undoes what it attached to s
 * (NAT port, ALG state) and then gives it back with flow_release. flow_insert
 * never releases s.
 */
int flow_insert(struct flow_table *ft, struct flow_session *s, unsigned w);

/**
 * Give back an object from flow_alloc that is not in the table (never
 * inserted, or flow_insert failed), into worker w's cache (as flow_alloc). Ownership ends here: s is poisoned and
 * may be handed to another worker at once, so the caller reads nothing of
 * it afterwards (copy what it still needs first).
 */
void flow_release(struct flow_table *ft, struct flow_session *s, unsigned w);

/**
 * Delete s: both keys leave the hash at once, free_cb runs, the object is
 * reclaimed after readers pass a quiescent state. Control lcore only.
 * Returns 0 or -ENOENT if it was not in use.
 */
int flow_delete(struct flow_table *ft, struct flow_session *s, bool aged);

/**
 * Any thread: s stops matching at once (ALG teardown): both keys leave the
 * hash, so a new session may take them, and s is marked FLOW_F_DEAD for the
 * ager, which deletes it (free_cb, reclaim after a grace period) as usual.
 */
void flow_unlink(struct flow_table *ft, struct flow_session *s);

/** Reclaim objects whose grace period is over; the control lcore calls it each loop. */
void flow_reclaim(struct flow_table *ft);

/**
 * Age up to budget sessions from an internal cursor (an incremental walk:
 * a slice per call). Returns how many were deleted.
 */
unsigned flow_age(struct flow_table *ft, unsigned budget);

/** Seconds left before s times out (0 if overdue). */
uint32_t flow_time_left(const struct flow_table *ft, const struct flow_session *s);

/** Timeout class s is in now (depends on its TCP state). */
enum flow_tmo flow_session_tmo(const struct flow_session *s);

/** The session with CLI id, or NULL if not in use. */
struct flow_session *flow_by_id(struct flow_table *ft, uint32_t id);

/**
 * Walk sessions in id order starting at *cursor (0 to begin); calls fn for
 * each in use until fn returns non-zero or budget sessions were visited.
 * Updates *cursor; returns false when the end was reached.
 */
bool flow_walk(struct flow_table *ft, uint32_t *cursor, unsigned budget,
	       int (*fn)(struct flow_session *s, void *arg), void *arg);

/** Copy of the counters. */
void flow_stats_get(const struct flow_table *ft, struct flow_stats *st);

/**
 * Check TCP segment th (header hlen bytes, plen bytes of payload) of
 * session s in direction dir against the window of the side that receives
 * it, update the tracking and the session's TCP state: a SYN, FIN or RST
 * changes state only when its sequence number is acceptable (RST: RFC 5961,
 * in [what the receiver acknowledged, what the sender sent]; in the
 * receiver's window it passes without changing state, for the endpoint's
 * challenge ACK); a SYN on a closed session starts it afresh. Returns 0 to
 * forward, or the drop reason (enum pkt_drop). Any worker, either direction.
 */
int flow_tcp_input(struct flow_session *s, unsigned dir, const struct rte_tcp_hdr *th,
		   uint32_t hlen, uint32_t plen);

/*
 * Whether a segment from src to dst, ending at sequence number end (SYN and
 * FIN counted) and acknowledging ack, lies in the windows: end not beyond
 * what dst allows, nor more than a window behind what dst acknowledged;
 * ack not beyond what dst sent, nor more than src's window behind it.
 */
static inline bool
flow_tcp_in_window(const struct flow_tcp_peer *src, const struct flow_tcp_peer *dst,
		   uint32_t end, uint32_t ack)
{
	uint32_t rwin = (uint32_t)__atomic_load_n(&dst->max_win, __ATOMIC_RELAXED) << dst->wscale;
	uint32_t lo = __atomic_load_n(&dst->ack, __ATOMIC_RELAXED) - rwin;
	uint32_t swin = ((uint32_t)src->max_win << src->wscale) + FLOW_TCP_ACK_SLACK;

	return end - lo <= 2 * rwin + 1 &&
	       __atomic_load_n(&dst->end, __ATOMIC_RELAXED) - ack <= swin;
}

/* Advance src's tracking by a segment in the windows (end, ack, window win as sent). */
static inline void
flow_tcp_advance(struct flow_tcp_peer *src, uint32_t end, uint32_t ack, uint16_t win)
{
	if ((int32_t)(end - src->end) > 0)
		__atomic_store_n(&src->end, end, __ATOMIC_RELAXED);
	if ((int32_t)(ack - src->ack) > 0)
		__atomic_store_n(&src->ack, ack, __ATOMIC_RELAXED);
	if (win > src->max_win)
		__atomic_store_n(&src->max_win, win, __ATOMIC_RELAXED);
}

/**
 * The fast path's TCP tracking, for a segment with ACK and without SYN,
 * FIN or RST, l4len bytes from its TCP header th on, of an established
 * session (FLOW_TCP_SYN1 set, FLOW_TCP_RST not): when it lies in the
 * windows, advance direction dir's tracking and return true; false leaves
 * everything as it was, for flow_tcp_input to decide and count.
 */
static inline bool
flow_tcp_fast(struct flow_session *s, unsigned dir, const struct rte_tcp_hdr *th, uint32_t l4len)
{
	struct flow_tcp_peer *src = &s->tcpp[dir];
	uint32_t end = rte_be_to_cpu_32(th->sent_seq) + l4len - ((uint32_t)th->data_off >> 2 & 0x3c);
	uint32_t ack = rte_be_to_cpu_32(th->recv_ack);
	uint16_t win = rte_be_to_cpu_16(th->rx_win);

	/* A window wider than any before goes the long way, which records it. */
	if (unlikely(win > src->max_win || !flow_tcp_in_window(src, &s->tcpp[dir ^ 1], end, ack)))
		return false;
	if ((int32_t)(end - src->end) > 0)
		__atomic_store_n(&src->end, end, __ATOMIC_RELAXED);
	if ((int32_t)(ack - src->ack) > 0)
		__atomic_store_n(&src->ack, ack, __ATOMIC_RELAXED);
	return true;
}

/** Sum the checksum changes of rewriting packets that carry tuple k into rw (before use). */
static inline void
flow_rw_prepare(struct flow_rw *rw, const struct flow_key *k)
{
	uint32_t ip = (uint16_t)~(k->src >> 16) + (uint16_t)~k->src + (uint16_t)~(k->dst >> 16) +
		      (uint16_t)~k->dst + (rw->src >> 16) + (rw->src & 0xffff) + (rw->dst >> 16) +
		      (rw->dst & 0xffff);
	uint32_t l4 = ip + (uint16_t)~k->sport + (uint16_t)~k->dport + rw->sport + rw->dport;

	rw->ck_ip = cksum_fold(ip);
	rw->ck_l4 = cksum_fold(l4);
}

/** Stamp s as used now (workers; writes at most once a second per session). */
static inline void
flow_touch(struct flow_session *s, uint32_t now)
{
	if (s->last_seen != now)
		__atomic_store_n(&s->last_seen, now, __ATOMIC_RELAXED);
}

/** Mark s for deletion by the next ageing pass (any thread; it stops matching then). */
static inline void
flow_kill(struct flow_session *s)
{
	__atomic_fetch_or(&s->flags, FLOW_F_DEAD, __ATOMIC_RELAXED);
}

/** Turn k into the key of a one-way session's second wing (what flow_insert indexes for it). */
static inline void
flow_key_wing(struct flow_key *k)
{
	k->pad[0] = FLOW_KEY_WING;
}

/** Set rw to the tuple (src, dst, sport, dport), network order; the checksum deltas are summed on insert. */
static inline void
flow_rw_set(struct flow_rw *rw, rte_be32_t src, rte_be32_t dst, rte_be16_t sport, rte_be16_t dport)
{
	rw->src = src;
	rw->dst = dst;
	rw->sport = sport;
	rw->dport = dport;
	rw->ck_ip = 0;
	rw->ck_l4 = 0;
}

/** Fill key from the fields (zeroes the padding). */
static inline void
flow_key_set(struct flow_key *k, rte_be32_t src, rte_be32_t dst, rte_be16_t sport,
	     rte_be16_t dport, uint8_t proto)
{
	k->src = src;
	k->dst = dst;
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

#endif /* DPNAT_FLOW_H */
