/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_log.h>

#include "flow.h"

RTE_LOG_REGISTER(flow_logtype, dpnat.flow, NOTICE);

/* What waits in the defer queue: the object and its two hash key slots. */
struct flow_dq_elem {
	uint32_t idx;
	int32_t pos[2];
};

/* Counters each worker writes alone, on its own cache line. */
struct flow_wstats {
	uint64_t created;
	uint64_t alloc_failed;
	uint64_t insert_failed;
} __rte_cache_aligned;

struct flow_table {
	struct rte_hash *h;
	struct flow_session *sess;
	struct rte_ring *free_ring;      /* free object indices (MP/MC) */
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;
	flow_free_cb free_cb;
	void *cb_arg;
	uint32_t max;
	uint32_t tmo[FLOW_TMO_MAX];
	uint32_t clock;
	uint32_t age_cursor;
	uint64_t freed, aged, cleared, pending;   /* control lcore only (pending: atomic) */
	uint64_t freed_by_owner[FLOW_MAX_WORKERS + 1];
	struct flow_wstats wst[FLOW_MAX_WORKERS + 1];  /* last slot: control lcore */
};

/* Hash data: object index and direction in one pointer-sized value. */
static inline void *
flow_data(uint32_t idx, unsigned dir)
{
	return (void *)(uintptr_t)(((uint64_t)idx << 1) | dir);
}

static inline uint32_t
flow_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	const uint64_t *k = key;

	RTE_SET_USED(len);
	return rte_hash_crc_8byte(k[1], rte_hash_crc_8byte(k[0], init));
}

/* Defer-queue callback: the grace period is over, slots and object can be reused. */
static void
flow_dq_free(void *p, void *e, unsigned int n)
{
	struct flow_table *ft = p;
	struct flow_dq_elem *el = e;
	unsigned i, d;

	for (i = 0; i < n; i++) {
		for (d = 0; d < 2; d++)
			if (el[i].pos[d] >= 0)
				rte_hash_free_key_with_position(ft->h, el[i].pos[d]);
		rte_ring_enqueue_elem(ft->free_ring, &el[i].idx, sizeof(uint32_t));
		__atomic_fetch_sub(&ft->pending, 1, __ATOMIC_RELAXED);
	}
}

struct flow_table *
flow_create(const char *name, uint32_t max, unsigned n_workers, struct rte_rcu_qsbr *qsbr,
	    flow_free_cb free_cb, void *cb_arg, int socket)
{
	char nm[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp;
	struct rte_rcu_qsbr_dq_parameters dp;
	struct flow_table *ft;
	uint32_t i;

	if (max == 0 || n_workers == 0 || n_workers > FLOW_MAX_WORKERS || qsbr == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	ft = rte_zmalloc_socket(name, sizeof(*ft), RTE_CACHE_LINE_SIZE, socket);
	if (ft == NULL)
		goto nomem;
	ft->max = max;
	ft->qsbr = qsbr;
	ft->free_cb = free_cb;
	ft->cb_arg = cb_arg;
	ft->tmo[FLOW_TMO_TCP] = 1800;
	ft->tmo[FLOW_TMO_TCP_SYN] = 20;
	ft->tmo[FLOW_TMO_TCP_CLOSING] = 10;
	ft->tmo[FLOW_TMO_UDP] = 60;
	ft->tmo[FLOW_TMO_ICMP] = 60;
	ft->tmo[FLOW_TMO_GRE] = 1800;
	ft->tmo[FLOW_TMO_OTHER] = 60;
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

	memset(&hp, 0, sizeof(hp));
	snprintf(nm, sizeof(nm), "%s_h", name);
	hp.name = nm;
	/* Two keys per session, with headroom: cuckoo tables fill to ~90%. */
	hp.entries = RTE_MAX((uint32_t)(2ULL * max + max / 4), 64u);
	hp.key_len = sizeof(struct flow_key);
	hp.hash_func = flow_hash_fn;
	hp.hash_func_init_val = 0x9e3779b9;
	hp.socket_id = socket;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD |
			RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	ft->h = rte_hash_create(&hp);
	if (ft->h == NULL)
		goto fail;

	memset(&dp, 0, sizeof(dp));
	snprintf(nm, sizeof(nm), "%s_dq", name);
	dp.name = nm;
	dp.size = max + 1;
	dp.esize = sizeof(struct flow_dq_elem);
	dp.flags = 0;   /* multi-thread safe: workers defer too, on a failed insert */
	dp.trigger_reclaim_limit = 0;
	dp.max_reclaim_size = 4096;
	dp.free_fn = flow_dq_free;
	dp.p = ft;
	dp.v = qsbr;
	ft->dq = rte_rcu_qsbr_dq_create(&dp);
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
	if (ft->dq != NULL)
		rte_rcu_qsbr_dq_delete(ft->dq);
	rte_hash_free(ft->h);
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

uint64_t
flow_lookup_bulk(struct flow_table *ft, const struct flow_key **keys, unsigned n,
		 struct flow_session **sess, uint8_t *dir)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hits = 0, m;
	unsigned i;

	if (n == 0)
		return 0;
	if (rte_hash_lookup_bulk_data(ft->h, (const void **)keys, n, &hits, data) < 0)
		hits = 0;
	for (i = 0; i < n; i++)
		sess[i] = NULL;
	for (m = hits; m != 0; m &= m - 1) {
		uintptr_t v;

		i = (unsigned)__builtin_ctzll(m);
		v = (uintptr_t)data[i];
		sess[i] = &ft->sess[v >> 1];
		dir[i] = (uint8_t)(v & 1);
		rte_prefetch0(sess[i]);
	}
	return hits;
}

struct flow_session *
flow_lookup(struct flow_table *ft, const struct flow_key *key, uint8_t *dir)
{
	void *data;
	uintptr_t v;

	if (rte_hash_lookup_data(ft->h, key, &data) < 0)
		return NULL;
	v = (uintptr_t)data;
	*dir = (uint8_t)(v & 1);
	return &ft->sess[v >> 1];
}

/* Hand key slots and the object to the defer queue; they return after a grace period. */
static void
flow_defer(struct flow_table *ft, uint32_t idx, int32_t pos0, int32_t pos1)
{
	struct flow_dq_elem el = { .idx = idx, .pos = { pos0, pos1 } };
	unsigned tries = 0;

	__atomic_fetch_add(&ft->pending, 1, __ATOMIC_RELAXED);
	/* The queue holds every object, so a full queue only means a reclaim is due. */
	while (rte_rcu_qsbr_dq_enqueue(ft->dq, &el) != 0 && ++tries < 1000000)
		flow_reclaim(ft);
}

struct flow_session *
flow_alloc(struct flow_table *ft, unsigned w)
{
	struct flow_session *s;
	uint32_t idx;

	if (rte_ring_dequeue_elem(ft->free_ring, &idx, sizeof(idx)) != 0) {
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

void
flow_release(struct flow_table *ft, struct flow_session *s, unsigned w)
{
	uint32_t idx = s->id - 1;

	RTE_SET_USED(w);
	s->in_use = 0;
	rte_ring_enqueue_elem(ft->free_ring, &idx, sizeof(idx));
}

int
flow_insert(struct flow_table *ft, struct flow_session *s, unsigned w)
{
	uint32_t idx = s->id - 1;
	struct flow_wstats *ws = &ft->wst[RTE_MIN(w, (unsigned)FLOW_MAX_WORKERS)];
	void *old;
	int rc;

	s->created = flow_clock(ft);
	s->last_seen = s->created;
	s->in_use = 1;
	/* A key already present belongs to a session another worker just made: keep that one. */
	if (rte_hash_lookup_data(ft->h, &s->key[0], &old) >= 0 ||
	    rte_hash_lookup_data(ft->h, &s->key[1], &old) >= 0) {
		flow_release(ft, s, w);
		ws->insert_failed++;
		return -EEXIST;
	}
	rc = rte_hash_add_key_data(ft->h, &s->key[0], flow_data(idx, 0));
	if (rc != 0) {
		flow_release(ft, s, w);
		ws->insert_failed++;
		return -ENOSPC;
	}
	rc = rte_hash_add_key_data(ft->h, &s->key[1], flow_data(idx, 1));
	if (rc != 0) {
		/* key[0] was visible for a moment: readers may hold s, so defer its reuse. */
		s->in_use = 0;
		flow_defer(ft, idx, rte_hash_del_key(ft->h, &s->key[0]), -1);
		ws->insert_failed++;
		return -ENOSPC;
	}
	ws->created++;
	return 0;
}

int
flow_delete(struct flow_table *ft, struct flow_session *s, bool aged)
{
	int32_t pos0, pos1;

	if (!s->in_use)
		return -ENOENT;
	pos1 = rte_hash_del_key(ft->h, &s->key[1]);
	pos0 = rte_hash_del_key(ft->h, &s->key[0]);
	s->in_use = 0;
	if (ft->free_cb != NULL)
		ft->free_cb(s, ft->cb_arg);
	ft->freed++;
	ft->freed_by_owner[RTE_MIN(s->owner, (uint8_t)FLOW_MAX_WORKERS)]++;
	if (aged)
		ft->aged++;
	else
		ft->cleared++;
	flow_defer(ft, s->id - 1, pos0, pos1);
	return 0;
}

void
flow_reclaim(struct flow_table *ft)
{
	unsigned freed, pending, avail;

	rte_rcu_qsbr_dq_reclaim(ft->dq, 4096, &freed, &pending, &avail);
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
	st->pending_free = __atomic_load_n(&ft->pending, __ATOMIC_RELAXED);
	st->alloc = st->created - st->freed;
}
