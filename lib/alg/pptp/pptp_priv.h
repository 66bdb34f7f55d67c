/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layouts private to the PPTP ALG, shared by the stream parser
 * (pptp_parse.c) and the xlate table (pptp_xlate.c).
 *
 * Life of a call entry:
 *   FREE -> PENDING (a request named the inside Call ID: keys published)
 *        -> OPEN (the reply accepted it: two GRE gates)
 *        -> DYING (torn down: keys deleted, gates killed, unlinked)
 *        -> FREE after the last reference went (refs: 1 while alive + 1 per
 *           live gate) and an RCU grace period passed.
 * Every move out of PENDING/OPEN happens under the owning control state's
 * lock; DYING entries are no longer linked to any control state.
 *
 * Who writes each field of a call and a control state, and how (the legend
 * of lib/flow/flow.h, pf's pf_state legend):
 *   [N] new: the thread that takes the slot writes it before the slot is
 *       published (a call's keys added, a control state's index swapped into
 *       its session), then nobody until the slot is given back
 *   [L] under the owning control state's lock (the stream parser of its
 *       connection runs under it, on whichever worker has the segment; the
 *       control lcore takes it to tear down)
 *   [A] any thread, atomically
 *   [R] the reclamation callback, after the grace period, when no reader
 *       can hold the slot (docs/architecture.md, "Reclamation")
 *   [K] under the xlate key lock (pptp_alg.wlock)
 * Views (control lcore) read without a lock; the generation tells them
 * that a call's slot was reused between two looks.
 */
#ifndef DPNAT_PPTP_PRIV_H
#define DPNAT_PPTP_PRIV_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "nat.h"
#include "pptp.h"
#include "rcu_defer.h"

#define PPTP_NONE      UINT32_MAX
#define PPTP_HDR_KEEP  20          /* message bytes kept: every field of interest is below */
#define PPTP_LOG_N     64          /* unacknowledged rewrites remembered per direction */
#define PPTP_CTRL_GONE (UINT32_MAX - 1)   /* s->alg of a control session that was freed */
#define PPTP_MAGIC     0x1A2B3C4Du
#define PPTP_MIN_LEN   16          /* the shortest control message */
#define PPTP_MAX_LEN   220         /* the longest one (ICRQ) */

enum pptp_call_state {
	PPTP_CALL_FREE = 0,
	PPTP_CALL_PENDING,
	PPTP_CALL_OPEN,
	PPTP_CALL_DYING,
};

/* Hash key kinds. */
#define PPTP_KEY_FWD 1   /* {client, server, client call id, control source port} */
#define PPTP_KEY_REV 2   /* {public, server, translated call id, 0} */

/** xlate hash key: 16 bytes, padding zero. */
struct pptp_key {
	rte_be32_t ip;
	rte_be32_t server;
	rte_be16_t cid;
	rte_be16_t port;
	uint8_t kind;
	uint8_t pad[3];
};

/** One call (a pair of xlate keys, the KB's forward and reverse entry). */
struct pptp_call {
	uint32_t ctrl;               /* [L] owning control state, PPTP_NONE once torn down (atomic store) */
	uint32_t ctrl_sess_id;       /* [N] */
	uint32_t gen;                /* [R] bumped when the slot returns to the pool (atomic) */
	uint32_t refs;               /* [A] 1 while alive + 1 per live gate; the last put finalizes */
	uint32_t next, prev;         /* [L] the control state's call list */
	uint32_t last_seen;          /* [A] last control message about the call (relaxed store) */
	uint8_t state;               /* [A] enum pptp_call_state; moves out of PENDING/OPEN under [L] */
	uint8_t cid_alloc;           /* [N] xcid came from the allocator; cleared by the last put */
	uint8_t nat;                 /* [N] */
	uint8_t has_scid;            /* [L] the server's reply named its Call ID */
	rte_be32_t client, pub, server;   /* [N] */
	rte_be16_t ccid, xcid, scid, csport;   /* [N], but scid: [L] with has_scid */
	int32_t pos[2];              /* [K] hash slots of the deleted keys, -1 if none */
	struct flow_session *gate[2];   /* [A] [0] client->server, [1] server->client: set under [L], cleared by its free */
};

/** A rewrite done in a direction's byte stream, to repeat on retransmission. */
struct pptp_rwlog {
	uint32_t seq;                /* sequence number of the field's first byte */
	uint8_t old[2];
	uint8_t new_[2];
};

/** One direction of a control connection's byte stream: every field [L]. */
struct pptp_dir {
	uint32_t isn;
	uint32_t next;               /* next expected sequence number */
	uint32_t log_floor;          /* the log holds every rewrite at or after this */
	uint32_t acked;              /* highest byte the receiver acknowledged (<= next) */
	uint32_t cur_call;           /* call named by the message being parsed */
	uint32_t cur_gen;
	uint16_t msg_len;            /* length field of the current message, 0 until read */
	uint16_t consumed;           /* bytes of the current message seen */
	uint8_t known;               /* isn known (SYN seen) */
	uint8_t nlog;
	uint8_t log_head;            /* next slot to write */
	uint8_t fin;                 /* its FIN taken, at next: a RST may follow at next + 1 */
	uint8_t hdr[PPTP_HDR_KEEP];  /* first bytes of the current message, as sent */
	struct pptp_rwlog log[PPTP_LOG_N];
};

/** State of one control connection. */
struct pptp_ctrl {
	rte_spinlock_t lock;         /* the [L] of this state and of its calls */
	uint8_t in_use;              /* [N] set (release) before the index is swapped in; cleared [L] when freed */
	uint8_t desync;              /* [L] */
	uint8_t closing;             /* [L] FIN/RST/Stop seen: no new calls */
	uint8_t nat;                 /* [N] */
	struct flow_session *sess;   /* [N]; cleared [L] when the session is freed */
	uint32_t sess_id;            /* [N] */
	rte_be32_t client, server, pub;   /* [N] */
	rte_be16_t csport;           /* [N] */
	uint16_t pad;
	uint32_t call_head;          /* [L] */
	uint32_t ncalls;             /* [L] */
	struct pptp_dir d[2];        /* [L] */
} __rte_cache_aligned;

/** Counters written by any thread (atomics; control traffic is rare). */
struct pptp_cnt {
	uint64_t failed, calls_opened, calls_closed, gates_opened, gates_failed;
	uint64_t ctrl_failed, ctrl_refused, desynced;
	uint64_t xlate_used, ctrl_used;
	uint64_t err[PPTP_ERR_MAX];
};

struct pptp_alg {
	pptp_call_log_fn log_fn;         /* call opened / ended (pptp_set_call_log), NULL: none */
	void *log_arg;
	pptp_quota_log_fn quota_fn;      /* a call refused at the per-client limit (pptp_set_quota_log) */
	void *quota_arg;
	struct rte_hash *h;
	struct pptp_call *calls;
	struct pptp_ctrl *ctrl;
	struct rte_ring *call_free;      /* free call indices (MP/MC) */
	struct rte_ring *ctrl_free;      /* free control state indices (MP/MC) */
	struct rte_rcu_qsbr *qsbr;
	struct rcu_defer *call_dq;       /* ended calls and their key slots, for a grace period */
	struct rcu_defer *ctrl_dq;       /* freed control states, ditto */
	struct nat_table *cids;          /* the Call ID allocator */
	struct flow_table *ft;
	rte_spinlock_t wlock;            /* serialises check-then-add/delete of xlate keys */
	uint32_t max_xlate;
	uint32_t max_ctrl;
	uint32_t *src_cnt;               /* control states per client, by keyed hash of its address */
	uint32_t src_mask;
	uint32_t src_seed;
	uint32_t per_src;                /* most control states per client (atomic) */
	unsigned n_workers;
	uint32_t tmo;
	uint32_t age_cursor;
	struct nat_src *per_client;      /* calls per inside host, NULL: not counted */
	uint32_t per_client_max;         /* atomic: a host's calls at most */
	struct pptp_cnt cnt;
};

static inline void
pptp_cnt_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline void
pptp_err(struct pptp_alg *a, enum pptp_err e)
{
	pptp_cnt_add(&a->cnt.err[e], 1);
}

static inline bool
pptp_call_alive(const struct pptp_call *c)
{
	uint8_t st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);

	return st == PPTP_CALL_PENDING || st == PPTP_CALL_OPEN;
}

/* ---- pptp_xlate.c, used by the parser (callers hold the control state's lock) ---- */

/**
 * Take a control state for control session s whose handshake completed
 * (isn_c, isn_s: both initial sequence numbers) within the client's
 * per-source maximum. 0 when s->alg names a state (this one or one another
 * worker took first), -EBUSY (per-source maximum), -ENOSPC (none left) or
 * -ENOENT (s was freed meanwhile); refusals counted. No lock needed.
 */
int pptp_ctrl_take(struct pptp_alg *a, struct flow_session *s, uint32_t isn_c, uint32_t isn_s);

/** The live call of control state ci whose inside Call ID is ccid, or NULL. */
struct pptp_call *pptp_call_find_fwd(struct pptp_alg *a, uint32_t ci, rte_be16_t ccid);

/** The live call of control state ci that was translated to xcid, or NULL. */
struct pptp_call *pptp_call_find_rev(struct pptp_alg *a, uint32_t ci, rte_be16_t xcid);

/** The live call of control state ci whose server Call ID is scid, or NULL. */
struct pptp_call *pptp_call_find_scid(struct pptp_alg *a, uint32_t ci, rte_be16_t scid);

/**
 * A new call of control state ci for inside Call ID ccid, translated by
 * worker w. NULL when the table is full, no Call ID is left or a key
 * clashes (all counted as failed).
 */
struct pptp_call *pptp_call_new(struct pptp_alg *a, uint32_t ci, rte_be16_t ccid, unsigned w,
				uint32_t now);

/** Open the two GRE gates of call c (scid known), modelled on control session s. */
void pptp_call_open(struct pptp_alg *a, struct pptp_call *c, struct flow_session *s, unsigned w,
		    uint32_t now);

/** Tear call c of control state ci down (its lock held). */
void pptp_call_teardown(struct pptp_alg *a, struct pptp_ctrl *ctrl, struct pptp_call *c);

/** Tear down every call of control state ctrl (its lock held). */
void pptp_ctrl_teardown_all(struct pptp_alg *a, struct pptp_ctrl *ctrl);

static inline uint32_t
pptp_call_idx(const struct pptp_alg *a, const struct pptp_call *c)
{
	return (uint32_t)(c - a->calls);
}

static inline uint32_t
pptp_ctrl_idx(const struct pptp_alg *a, const struct pptp_ctrl *c)
{
	return (uint32_t)(c - a->ctrl);
}

#endif /* DPNAT_PPTP_PRIV_H */
