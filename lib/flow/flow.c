/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_log.h>
#include <rte_vect.h>

#include "conf.h"
#include "flow.h"
#include "rcu_defer.h"

RTE_LOG_REGISTER(flow_logtype, dpnat.flow, NOTICE);

/*
 * The key index: a lock-free two-choice hash of 8-way buckets, one cache
 * line each: 8 signatures, then 8 values (session index << 1 | direction,
 * plus one; 0 = empty). A key may sit in one of two buckets, chosen by its
 * hash and by a mix of the same hash; inserts take the first one while it
 * has fewer than FH_FIRST_MAX keys, else the less loaded of the two, and
 * the table has twice as many slots as keys, so a bucket never overflows in
 * practice. A lookup fetches the first bucket (the second only for keys not
 * found there, a few percent) and then the session, whose own key[dir] is
 * the stored key (no separate key store). Entries never move: readers load a
 * value (acquire) and compare the session's key, which stays valid until an
 * RCU grace period after deletion; readers never wait.
 *
 * Writers take no table-wide lock. An insert locks the buckets its keys may
 * go to (both of each key: up to four, in index order, so two inserts never
 * wait for each other in a circle) with a lock byte per bucket kept beside
 * the buckets (fh_lock): two inserts of the same key meet on its first
 * bucket, so the second finds the first's entry (-EEXIST) and one session
 * wins, as under one lock; inserts of other keys run at the same time. A
 * delete takes no lock at all: it clears the slots holding its own values,
 * which no inserter writes (inserters fill empty slots only, and a value is
 * indexed again only after its object's grace period), so the control lcore
 * never waits for a worker that was preempted holding a lock, nor a worker
 * for it.
 */
#define FH_WAYS 8
#define FH_FIRST_MAX 6   /* keys a first bucket takes before the two choices */
#define FH_LOCK_YIELD 4096   /* spins on a bucket lock before yielding the CPU to its holder */

struct fh_bucket {
	uint32_t sig[FH_WAYS];
	uint32_t val[FH_WAYS];
} __rte_cache_aligned;

/*
 * Each worker's cache of free session objects (indices), refilled from and
 * spilled to the shared free ring FLOW_WC_BULK at a time, so that session
 * set-up does not move the ring's consumer line between workers on every
 * session (mempool's per-lcore cache, for one ring of indices). Bounded by
 * the table: all caches together hold at most an eighth of it (wc_max),
 * so one worker finds the table full only while the others keep that few.
 */
#define FLOW_WC_MAX 64
#define FLOW_WC_BULK 32

struct flow_wcache {
	uint32_t n;
	uint32_t idx[FLOW_WC_MAX];
} __rte_cache_aligned;

/* Counters each worker writes alone, on its own cache line. */
struct flow_wstats {
	uint64_t created;
	uint64_t alloc_failed;
	uint64_t insert_failed;
} __rte_cache_aligned;

/*
 * Lines: the first is read by every lookup and by the workers' loop
 * (buckets, sessions, clock, timeouts), written only by the control lcore
 * once a second (clock) or when a timeout is set; what the control lcore
 * writes per deleted session is on lines of its own.
 */
struct flow_table {
	struct fh_bucket *bkt;
	uint32_t bmask;                  /* buckets - 1 */
	uint32_t clock;
	struct flow_session *sess;
	uint8_t *lk;                     /* a writers' lock byte per bucket (fh_lock) */
	uint32_t tmo[FLOW_TMO_MAX];
	uint32_t max;
	/* set at creation, then read only */
	struct rte_ring *free_ring __rte_cache_aligned;  /* free object indices (MP/MC) */
	struct rte_rcu_qsbr *qsbr;
	struct rcu_defer *dq;            /* deleted objects waiting for their grace period */
	flow_free_cb free_cb;
	void *cb_arg;
	uint32_t n_workers;
	uint32_t wc_max;                 /* objects a worker's cache holds at most (0: no caches) */
	struct flow_wcache *wc;          /* per worker */
	/* the control lcore only */
	uint32_t age_cursor __rte_cache_aligned;
	uint64_t freed, aged, cleared;
	uint64_t freed_by_owner[FLOW_MAX_WORKERS + 1];
	struct flow_wstats wst[FLOW_MAX_WORKERS + 1];  /* last slot: control lcore */
};

static inline uint32_t
fh_val(uint32_t idx, unsigned dir)
{
	return ((idx << 1) | dir) + 1;
}

/*
 * The key's signature (and first bucket: its low bits). CRC32-C is linear:
 * keys that differ by a counter land in a handful of bucket patterns, so a
 * multiply-xorshift finaliser spreads them.
 */
static inline uint32_t
fh_sig(const struct flow_key *k)
{
	uint64_t w[2];
	uint32_t h;

	memcpy(w, k, sizeof(w));   /* keys are only 4-byte aligned */
	h = rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], 0x9e3779b9));

	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

/* The alternate bucket: high bits of a multiplicative mix of the whole signature. */
static inline uint32_t
fh_alt(const struct flow_table *ft, uint32_t sig)
{
	return (uint32_t)(((uint64_t)sig * 0x9e3779b97f4a7c15ull) >> 32) & ft->bmask;
}

/* Slots of b whose signature is sig (empty slots may match; callers check the value). */
static inline unsigned
fh_match(const struct fh_bucket *b, uint32_t sig)
{
#if defined(RTE_ARCH_X86)
	__m128i s = _mm_set1_epi32((int)sig);
	__m128i lo = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)&b->sig[0]), s);
	__m128i hi = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)&b->sig[4]), s);

	return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
	       (unsigned)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
#else
	unsigned m = 0, i;

	for (i = 0; i < FH_WAYS; i++)
		m |= (unsigned)(__atomic_load_n(&b->sig[i], __ATOMIC_RELAXED) == sig) << i;
	return m;
#endif
}

static inline bool
fh_key_eq(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* The value of key in bucket b among the slots in mask, or 0. */
static inline uint32_t
fh_scan(const struct flow_table *ft, const struct fh_bucket *b, unsigned mask,
	const struct flow_key *key)
{
	for (; mask != 0; mask &= mask - 1) {
		unsigned j = (unsigned)__builtin_ctz(mask);
		uint32_t v = __atomic_load_n(&b->val[j], __ATOMIC_ACQUIRE);

		if (v != 0 && fh_key_eq(&ft->sess[(v - 1) >> 1].key[(v - 1) & 1], key))
			return v;
	}
	return 0;
}

/* Full lookup of key with signature sig: both buckets. */
static inline uint32_t
fh_find(const struct flow_table *ft, const struct flow_key *key, uint32_t sig)
{
	const struct fh_bucket *b1 = &ft->bkt[sig & ft->bmask], *b2 = &ft->bkt[fh_alt(ft, sig)];
	uint32_t v = fh_scan(ft, b1, fh_match(b1, sig), key);

	return v != 0 || b2 == b1 ? v : fh_scan(ft, b2, fh_match(b2, sig), key);
}

static inline unsigned
fh_used(const struct fh_bucket *b)
{
	unsigned n = 0, j;

	for (j = 0; j < FH_WAYS; j++)
		n += b->val[j] != 0;
	return n;
}

/* Take bucket b's writer lock; a holder preempted on a shared CPU gets it back after a while. */
static inline void
fh_lock(struct flow_table *ft, uint32_t b)
{
	uint8_t *l = &ft->lk[b];
	unsigned spins = 0;

	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(l, __ATOMIC_RELAXED) != 0)
			if (++spins % FH_LOCK_YIELD == 0)
				sched_yield();
			else
				rte_pause();
}

/* Release bucket b's writer lock. */
static inline void
fh_unlock(struct flow_table *ft, uint32_t b)
{
	__atomic_store_n(&ft->lk[b], 0, __ATOMIC_RELEASE);
}

/* Order b[i] <= b[j] (branch-free). */
static inline void
fh_order(uint32_t *b, unsigned i, unsigned j)
{
	uint32_t lo = RTE_MIN(b[i], b[j]), hi = RTE_MAX(b[i], b[j]);

	b[i] = lo;
	b[j] = hi;
}

/* Lock the four buckets b (sorted here, by a sorting network) in index order, each once. */
static inline void
fh_lock4(struct flow_table *ft, uint32_t b[4])
{
	unsigned i;

	fh_order(b, 0, 1);
	fh_order(b, 2, 3);
	fh_order(b, 0, 2);
	fh_order(b, 1, 3);
	fh_order(b, 1, 2);
	fh_lock(ft, b[0]);
	for (i = 1; i < 4; i++)
		if (b[i] != b[i - 1])
			fh_lock(ft, b[i]);
}

/* Undo fh_lock4. */
static inline void
fh_unlock4(struct flow_table *ft, const uint32_t b[4])
{
	unsigned i;

	for (i = 3; i > 0; i--)
		if (b[i] != b[i - 1])
			fh_unlock(ft, b[i]);
	fh_unlock(ft, b[0]);
}

/*
 * Writers (both buckets of the key locked): put the value of the key with signature sig in its
 * first bucket, or once that holds FH_FIRST_MAX keys in the less loaded of
 * its two (the "power of two choices" keeps the fullest bucket close to the
 * mean, so no entry ever has to move). Most keys stay in their first
 * bucket, the only one a lookup fetches up front.
 */
static int
fh_add(struct flow_table *ft, uint32_t sig, uint32_t val)
{
	struct fh_bucket *b = &ft->bkt[sig & ft->bmask], *b2 = &ft->bkt[fh_alt(ft, sig)];
	unsigned j, used = fh_used(b);

	if (used >= FH_FIRST_MAX && fh_used(b2) < used)
		b = b2;
	for (j = 0; j < FH_WAYS; j++)
		if (b->val[j] == 0) {
			__atomic_store_n(&b->sig[j], sig, __ATOMIC_RELAXED);
			__atomic_store_n(&b->val[j], val, __ATOMIC_RELEASE);
			return 0;
		}
	return -ENOSPC;
}

/*
 * Remove the entry with value val of the key with signature sig, without a
 * lock: inserters fill empty slots only, so a slot holding val changes only
 * by a removal of val. Two removals of one session may run at once (a
 * worker's flow_unlink, the ager's flow_delete of the session it marked
 * dead): a compare-and-swap from val, so that the later one cannot clear
 * the slot after an insert reused it.
 */
static void
fh_del(struct flow_table *ft, uint32_t sig, uint32_t val)
{
	struct fh_bucket *bs[2] = { &ft->bkt[sig & ft->bmask], &ft->bkt[fh_alt(ft, sig)] };
	unsigned i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < FH_WAYS; j++) {
			uint32_t v = val;

			if (__atomic_load_n(&bs[i]->val[j], __ATOMIC_RELAXED) == val &&
			    __atomic_compare_exchange_n(&bs[i]->val[j], &v, 0, false, __ATOMIC_RELEASE,
							__ATOMIC_RELAXED))
				return;
		}
}

/* Defer-queue callback: the grace period is over, the object can be reused. */
static void
flow_dq_free(void *p, void *e, unsigned int n)
{
	struct flow_table *ft = p;

	rte_ring_enqueue_bulk_elem(ft->free_ring, e, sizeof(uint32_t), n, NULL);
}

struct flow_table *
flow_create(const char *name, uint32_t max, unsigned n_workers, struct rte_rcu_qsbr *qsbr,
	    flow_free_cb free_cb, void *cb_arg, int socket)
{
	char nm[RTE_RING_NAMESIZE];
	uint32_t nb;
	struct flow_table *ft;
	uint32_t i;

	if (max == 0 || max > (1u << 30) || n_workers == 0 || n_workers > FLOW_MAX_WORKERS || qsbr == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	ft = rte_zmalloc_socket(name, sizeof(*ft), RTE_CACHE_LINE_SIZE, socket);
	if (ft == NULL)
		goto nomem;
	ft->max = max;
	ft->n_workers = n_workers;
	ft->wc_max = RTE_MIN((uint32_t)FLOW_WC_MAX, max / (8 * n_workers));
	if (ft->wc_max < 2)
		ft->wc_max = 0;
	ft->wc = rte_zmalloc_socket(name, n_workers * sizeof(*ft->wc), RTE_CACHE_LINE_SIZE, socket);
	if (ft->wc == NULL)
		goto nomem;
	ft->qsbr = qsbr;
	ft->free_cb = free_cb;
	ft->cb_arg = cb_arg;
	ft->tmo[FLOW_TMO_TCP] = CONF_DEF_TMO_TCP;
	ft->tmo[FLOW_TMO_TCP_SYN] = CONF_DEF_TMO_TCP_SYN;
	ft->tmo[FLOW_TMO_TCP_CLOSING] = CONF_DEF_TMO_TCP_CLOSING;
	ft->tmo[FLOW_TMO_UDP] = CONF_DEF_TMO_UDP;
	ft->tmo[FLOW_TMO_ICMP] = CONF_DEF_TMO_ICMP;
	ft->tmo[FLOW_TMO_GRE] = CONF_DEF_TMO_GRE;
	ft->tmo[FLOW_TMO_OTHER] = CONF_DEF_TMO_OTHER;
	RTE_BUILD_BUG_ON(sizeof(struct flow_session) != 192);
	/* The TCP tracking shares the keys' line, which every lookup reads anyway. */
	RTE_BUILD_BUG_ON(offsetof(struct flow_session, tcpp) + sizeof(((struct flow_session *)0)->tcpp) >
			 2 * FLOW_SESSION_HOT);
	RTE_BUILD_BUG_ON(offsetof(struct flow_session, out_iface) != FLOW_SESSION_HOT);
	/* What the control lcore writes when it deletes stays off the lines workers write. */
	RTE_BUILD_BUG_ON(offsetof(struct flow_session, in_use) < 2 * FLOW_SESSION_HOT);
	ft->sess = rte_zmalloc_socket(name, (size_t)max * sizeof(struct flow_session),
				      RTE_CACHE_LINE_SIZE, socket);
	if (ft->sess == NULL)
		goto nomem;

	snprintf(nm, sizeof(nm), "%s_free", name);
	ft->free_ring = rte_ring_create_elem(nm, sizeof(uint32_t), rte_align32pow2(max + 1),
					     socket, 0);
	if (ft->free_ring == NULL)
		goto fail;
	for (i = 0; i < max; i++)
		rte_ring_enqueue_elem(ft->free_ring, &i, sizeof(i));

	/* Two keys per session, at most half the slots used when the table is full. */
	nb = rte_align32pow2(RTE_MAX((uint32_t)(((uint64_t)max * 2 * 2 + FH_WAYS - 1) / FH_WAYS),
				     64u));
	ft->bkt = rte_zmalloc_socket(name, (size_t)nb * sizeof(struct fh_bucket),
				     RTE_CACHE_LINE_SIZE, socket);
	if (ft->bkt == NULL)
		goto nomem;
	ft->bmask = nb - 1;
	ft->lk = rte_zmalloc_socket(name, nb, RTE_CACHE_LINE_SIZE, socket);
	if (ft->lk == NULL)
		goto nomem;

	/* Holds every object at once; multi-threaded: workers defer too, on a failed insert. */
	snprintf(nm, sizeof(nm), "%s_dq", name);
	ft->dq = rcu_defer_create(nm, qsbr, max + 1, sizeof(uint32_t), true, flow_dq_free, ft, socket);
	if (ft->dq == NULL)
		goto fail;
	rte_log(RTE_LOG_INFO, flow_logtype, "flow: %s: %u sessions, %u workers\n", name, max, n_workers);
	return ft;
nomem:
	rte_errno = ENOMEM;
fail:
	flow_free(ft);
	return NULL;
}

void
flow_free(struct flow_table *ft)
{
	if (ft == NULL)
		return;
	rcu_defer_free(ft->dq);
	rte_free(ft->lk);
	rte_free(ft->wc);
	rte_free(ft->bkt);
	rte_ring_free(ft->free_ring);
	rte_free(ft->sess);
	rte_free(ft);
}

void
flow_set_timeout(struct flow_table *ft, enum flow_tmo t, uint32_t seconds)
{
	if (t < FLOW_TMO_MAX)
		__atomic_store_n(&ft->tmo[t], seconds, __ATOMIC_RELAXED);
}

uint32_t
flow_get_timeout(const struct flow_table *ft, enum flow_tmo t)
{
	return t < FLOW_TMO_MAX ? __atomic_load_n(&ft->tmo[t], __ATOMIC_RELAXED) : 0;
}

void
flow_set_clock(struct flow_table *ft, uint32_t now)
{
	__atomic_store_n(&ft->clock, now, __ATOMIC_RELAXED);
}

uint32_t
flow_clock(const struct flow_table *ft)
{
	return __atomic_load_n(&ft->clock, __ATOMIC_RELAXED);
}

/* Fetch the lines of the session value v refers to (0: none) that a lookup and its packet read. */
static inline void
fh_prefetch_sess(const struct flow_table *ft, uint32_t v)
{
	if (v != 0) {
		const struct flow_session *s = &ft->sess[(v - 1) >> 1];

		rte_prefetch0(s);           /* the fast path's line */
		rte_prefetch0(&s->key[0]);  /* the keys, for the compare in 3 */
	}
}

uint64_t
flow_lookup_bulk(struct flow_table *ft, const struct flow_key *keys, unsigned n,
		 struct flow_session **sess, uint8_t *dir)
{
	uint32_t sig[64], cand[64];
	uint64_t hits = 0, second = 0;
	unsigned i;

	/* 1: hash every key and fetch its first bucket. */
	for (i = 0; i < n; i++) {
		sig[i] = fh_sig(&keys[i]);
		rte_prefetch0(&ft->bkt[sig[i] & ft->bmask]);
	}
	/* 2: the first slot whose signature matches; fetch that session, or the second bucket. */
	for (i = 0; i < n; i++) {
		const struct fh_bucket *b = &ft->bkt[sig[i] & ft->bmask];
		unsigned m = fh_match(b, sig[i]);

		if (m == 0) {
			cand[i] = 0;
			second |= 1ull << i;
			rte_prefetch0(&ft->bkt[fh_alt(ft, sig[i])]);
			continue;
		}
		cand[i] = __atomic_load_n(&b->val[__builtin_ctz(m)], __ATOMIC_ACQUIRE);
		fh_prefetch_sess(ft, cand[i]);
	}
	/* 2b: the keys not in their first bucket, in their second. */
	for (; second != 0; second &= second - 1) {
		const struct fh_bucket *b;
		unsigned m;

		i = (unsigned)__builtin_ctzll(second);
		b = &ft->bkt[fh_alt(ft, sig[i])];
		m = fh_match(b, sig[i]);
		if (m != 0) {
			cand[i] = __atomic_load_n(&b->val[__builtin_ctz(m)], __ATOMIC_ACQUIRE);
			fh_prefetch_sess(ft, cand[i]);
		}
	}
	/* 3: confirm the key; anything else (a miss, a signature collision) looks everywhere. */
	for (i = 0; i < n; i++) {
		uint32_t v = cand[i];

		if (v == 0 || !fh_key_eq(&ft->sess[(v - 1) >> 1].key[(v - 1) & 1], &keys[i]))
			v = fh_find(ft, &keys[i], sig[i]);
		if (v == 0) {
			sess[i] = NULL;
			continue;
		}
		sess[i] = &ft->sess[(v - 1) >> 1];
		dir[i] = (uint8_t)((v - 1) & 1);
		hits |= 1ull << i;
	}
	return hits;
}

struct flow_session *
flow_lookup(struct flow_table *ft, const struct flow_key *key, uint8_t *dir)
{
	uint32_t v = fh_find(ft, key, fh_sig(key));

	if (v == 0)
		return NULL;
	*dir = (uint8_t)((v - 1) & 1);
	return &ft->sess[(v - 1) >> 1];
}

/* Hand the object to the defer queue; it returns to the free ring after a grace period. */
static void
flow_defer(struct flow_table *ft, uint32_t idx)
{
	/* The queue holds every object: a failure is a bug, counted (get counter flow). */
	rcu_defer(ft->dq, &idx);
}

/* A free object index for worker w from its cache (refilled from the ring), or the ring; -1 if none. */
static inline int
flow_idx_get(struct flow_table *ft, unsigned w, uint32_t *idx)
{
	struct flow_wcache *c;

	if (w >= ft->n_workers || ft->wc_max == 0)
		return rte_ring_dequeue_elem(ft->free_ring, idx, sizeof(*idx));
	c = &ft->wc[w];
	if (c->n == 0) {
		c->n = rte_ring_dequeue_burst_elem(ft->free_ring, c->idx, sizeof(uint32_t),
						   RTE_MIN((uint32_t)FLOW_WC_BULK, ft->wc_max), NULL);
		if (c->n == 0)
			return -1;
	}
	*idx = c->idx[--c->n];
	return 0;
}

/* Give a free object index back into worker w's cache (spilling half of a full one), or the ring. */
static inline void
flow_idx_put(struct flow_table *ft, unsigned w, uint32_t idx)
{
	struct flow_wcache *c;

	if (w >= ft->n_workers || ft->wc_max == 0) {
		rte_ring_enqueue_elem(ft->free_ring, &idx, sizeof(idx));
		return;
	}
	c = &ft->wc[w];
	if (c->n >= ft->wc_max) {
		uint32_t k = ft->wc_max / 2;

		c->n -= k;
		rte_ring_enqueue_bulk_elem(ft->free_ring, &c->idx[c->n], sizeof(uint32_t), k, NULL);
	}
	c->idx[c->n++] = idx;
}

struct flow_session *
flow_alloc(struct flow_table *ft, unsigned w)
{
	struct flow_session *s;
	uint32_t idx;

	if (flow_idx_get(ft, w, &idx) != 0) {
		ft->wst[RTE_MIN(w, (unsigned)FLOW_MAX_WORKERS)].alloc_failed++;
		return NULL;
	}
	s = &ft->sess[idx];
	memset(s, 0, sizeof(*s));
	s->id = idx + 1;
	s->alg = FLOW_INVALID;
	s->owner = (uint8_t)w;
	return s;
}

/* What a released object holds until flow_alloc takes it again: any use after release shows. */
#define FLOW_POISON 0xa5

void
flow_release(struct flow_table *ft, struct flow_session *s, unsigned w)
{
	uint32_t idx = s->id - 1;
	size_t iu = offsetof(struct flow_session, in_use);

	__atomic_store_n(&s->in_use, 0, __ATOMIC_RELEASE);
	if (s->was_indexed) {
		/* A reader may have found it through the key that was visible: no poison, a grace period. */
		flow_defer(ft, idx);
		return;
	}
	/* in_use stays 0 (views walk every object); the id is the object's own. */
	memset(s, FLOW_POISON, iu);
	memset((uint8_t *)s + iu + 1, FLOW_POISON, sizeof(*s) - iu - 1);
	s->id = idx + 1;
	flow_idx_put(ft, w, idx);
}

int
flow_insert(struct flow_table *ft, struct flow_session *s, unsigned w)
{
	uint32_t idx = s->id - 1;
	struct flow_wstats *ws = &ft->wst[RTE_MIN(w, (unsigned)FLOW_MAX_WORKERS)];
	bool was_visible = false;
	uint32_t sig[2], lb[4];
	int rc = 0;

	s->created = flow_clock(ft);
	s->last_seen = s->created;
	s->in_use = 1;
	if (s->oneway)
		flow_key_wing(&s->key[1]);   /* no packet matches it: what looks for a wing does */
	flow_rw_prepare(&s->rw[0], &s->key[0]);
	flow_rw_prepare(&s->rw[1], &s->key[1]);
	sig[0] = fh_sig(&s->key[0]);
	sig[1] = fh_sig(&s->key[1]);
	lb[0] = sig[0] & ft->bmask;
	lb[1] = fh_alt(ft, sig[0]);
	lb[2] = sig[1] & ft->bmask;
	lb[3] = fh_alt(ft, sig[1]);
	fh_lock4(ft, lb);
	/* A key already present belongs to a session another worker just made: keep that one. */
	if (fh_find(ft, &s->key[0], sig[0]) != 0 || fh_find(ft, &s->key[1], sig[1]) != 0)
		rc = -EEXIST;
	else if (fh_add(ft, sig[0], fh_val(idx, 0)) != 0)
		rc = -ENOSPC;
	else if (fh_add(ft, sig[1], fh_val(idx, 1)) != 0) {
		fh_del(ft, sig[0], fh_val(idx, 0));
		was_visible = true;
		rc = -ENOSPC;
	}
	fh_unlock4(ft, lb);
	if (rc == 0) {
		ws->created++;
		return 0;
	}
	ws->insert_failed++;
	/* Still the caller's; key[0] may have been visible for a moment: flow_release then defers its reuse. */
	s->in_use = 0;
	s->was_indexed = was_visible;
	return rc;
}

int
flow_delete(struct flow_table *ft, struct flow_session *s, bool aged)
{
	uint32_t idx = s->id - 1;

	if (!s->in_use)
		return -ENOENT;
	fh_del(ft, fh_sig(&s->key[1]), fh_val(idx, 1));
	fh_del(ft, fh_sig(&s->key[0]), fh_val(idx, 0));
	s->in_use = 0;
	if (ft->free_cb != NULL)
		ft->free_cb(s, ft->cb_arg);
	ft->freed++;
	ft->freed_by_owner[RTE_MIN(s->owner, (uint8_t)FLOW_MAX_WORKERS)]++;
	if (aged)
		ft->aged++;
	else
		ft->cleared++;
	flow_defer(ft, idx);
	return 0;
}

void
flow_unlink(struct flow_table *ft, struct flow_session *s)
{
	uint32_t idx = s->id - 1;

	flow_kill(s);
	if (!__atomic_load_n(&s->in_use, __ATOMIC_ACQUIRE))
		return;
	/* The object is reused only after flow_delete, whose own removal then finds nothing. */
	fh_del(ft, fh_sig(&s->key[1]), fh_val(idx, 1));
	fh_del(ft, fh_sig(&s->key[0]), fh_val(idx, 0));
}

void
flow_reclaim(struct flow_table *ft)
{
	rcu_defer_reclaim(ft->dq);
}

enum flow_tmo
flow_session_tmo(const struct flow_session *s)
{
	uint8_t t;

	if (s->proto != IPPROTO_TCP)
		return (enum flow_tmo)s->tmo;
	t = __atomic_load_n(&s->tcp, __ATOMIC_RELAXED);
	if ((t & FLOW_TCP_RST) || (t & (FLOW_TCP_FIN0 | FLOW_TCP_FIN1)) ==
	    (FLOW_TCP_FIN0 | FLOW_TCP_FIN1))
		return FLOW_TMO_TCP_CLOSING;
	if (!(t & FLOW_TCP_SYN1))
		return FLOW_TMO_TCP_SYN;
	return FLOW_TMO_TCP;
}

uint32_t
flow_time_left(const struct flow_table *ft, const struct flow_session *s)
{
	uint32_t idle = flow_clock(ft) - __atomic_load_n(&s->last_seen, __ATOMIC_RELAXED);
	uint32_t tmo = flow_get_timeout(ft, flow_session_tmo(s));

	if (__atomic_load_n(&s->flags, __ATOMIC_RELAXED) & FLOW_F_DEAD)
		return 0;
	return idle >= tmo ? 0 : tmo - idle;
}

unsigned
flow_age(struct flow_table *ft, unsigned budget)
{
	unsigned deleted = 0;

	while (budget-- > 0) {
		struct flow_session *s = &ft->sess[ft->age_cursor];

		if (++ft->age_cursor >= ft->max)
			ft->age_cursor = 0;
		if (s->in_use && flow_time_left(ft, s) == 0 && flow_delete(ft, s, true) == 0)
			deleted++;
	}
	return deleted;
}

struct flow_session *
flow_by_id(struct flow_table *ft, uint32_t id)
{
	if (id == 0 || id > ft->max || !ft->sess[id - 1].in_use)
		return NULL;
	return &ft->sess[id - 1];
}

bool
flow_walk(struct flow_table *ft, uint32_t *cursor, unsigned budget,
	  int (*fn)(struct flow_session *s, void *arg), void *arg)
{
	while (*cursor < ft->max && budget-- > 0) {
		struct flow_session *s = &ft->sess[(*cursor)++];

		if (s->in_use && fn(s, arg) != 0)
			return *cursor < ft->max;
	}
	return *cursor < ft->max;
}

void
flow_stats_get(const struct flow_table *ft, struct flow_stats *st)
{
	unsigned w;

	memset(st, 0, sizeof(*st));
	st->max = ft->max;
	for (w = 0; w <= FLOW_MAX_WORKERS; w++) {
		st->created += ft->wst[w].created;
		st->alloc_failed += ft->wst[w].alloc_failed;
		st->insert_failed += ft->wst[w].insert_failed;
		if (w < FLOW_MAX_WORKERS)
			st->per_worker[w] = ft->wst[w].created - ft->freed_by_owner[w];
	}
	st->freed = ft->freed;
	st->aged = ft->aged;
	st->cleared = ft->cleared;
	rcu_defer_stats_get(ft->dq, &st->rcu);
	st->pending_free = st->rcu.deferred - st->rcu.freed;
	st->alloc = st->created - st->freed;
}
