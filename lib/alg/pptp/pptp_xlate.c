/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Call-ID xlate table: call entries, their forward and reverse keys in a
 * lock-free rte_hash, the per-control-connection state pool, the GRE gates
 * of each call, teardown, ageing and the CLI's views.
 *
 * Slots (hash key positions, call entries, control states) are never reused
 * while a worker may still hold them: they go through an RCU defer queue on
 * the qsbr that the flow table uses too.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_ring_elem.h>
#include <rte_log.h>

#include "nat_session.h"
#include "pptp_priv.h"

RTE_LOG_REGISTER(pptp_logtype, dpnat.pptp, NOTICE);

/* What waits in the call defer queue: the entry and its two deleted key slots. */
struct call_dq_elem {
	uint32_t idx;
	int32_t pos[2];
};

static const char *const err_names[] = {
#define PPTP_ERR_NAME(e, s, h) s,
	PPTP_FOREACH_ERR(PPTP_ERR_NAME)
#undef PPTP_ERR_NAME
};

static const char *const err_helps[] = {
#define PPTP_ERR_HELP(e, s, h) h,
	PPTP_FOREACH_ERR(PPTP_ERR_HELP)
#undef PPTP_ERR_HELP
};

const char *
pptp_err_name(unsigned e)
{
	return e < PPTP_ERR_MAX ? err_names[e] : "?";
}

const char *
pptp_err_help(unsigned e)
{
	return e < PPTP_ERR_MAX ? err_helps[e] : "?";
}

static uint32_t
pptp_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	const uint64_t *k = key;

	RTE_SET_USED(len);
	return rte_hash_crc_8byte(k[1], rte_hash_crc_8byte(k[0], init));
}

static inline void
key_fwd(const struct pptp_call *c, struct pptp_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ip = c->client;
	k->server = c->server;
	k->cid = c->ccid;
	k->port = c->csport;
	k->kind = PPTP_KEY_FWD;
}

static inline void
key_rev(rte_be32_t pub, rte_be32_t server, rte_be16_t xcid, struct pptp_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ip = pub;
	k->server = server;
	k->cid = xcid;
	k->kind = PPTP_KEY_REV;
}

static inline void *
idx_data(uint32_t idx)
{
	return (void *)(uintptr_t)idx;
}

/* ---- slot reclamation ---- */

/* Grace period over: key slots and entries can be reused (whichever thread reclaims). */
static void
call_dq_free(void *p, void *e, unsigned int n)
{
	struct pptp_alg *a = p;
	struct call_dq_elem *el = e;
	unsigned i, k;

	for (i = 0; i < n; i++) {
		struct pptp_call *c = &a->calls[el[i].idx];

		for (k = 0; k < 2; k++)
			if (el[i].pos[k] >= 0)
				rte_hash_free_key_with_position(a->h, el[i].pos[k]);
		__atomic_store_n(&c->gen, c->gen + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&c->state, PPTP_CALL_FREE, __ATOMIC_RELEASE);
		rte_ring_enqueue_elem(a->call_free, &el[i].idx, sizeof(uint32_t));
		__atomic_fetch_sub(&a->cnt.xlate_used, 1, __ATOMIC_RELAXED);
	}
}

/* The per-source count of client address ip (network order). */
static inline uint32_t *
src_slot(const struct pptp_alg *a, rte_be32_t ip)
{
	return &a->src_cnt[rte_hash_crc_4byte(ip, a->src_seed) & a->src_mask];
}

/* A control state slot goes back to the pool; its client's count drops. */
static void
ctrl_put_slot(struct pptp_alg *a, uint32_t idx)
{
	__atomic_fetch_sub(src_slot(a, a->ctrl[idx].client), 1, __ATOMIC_RELAXED);
	rte_ring_enqueue_elem(a->ctrl_free, &idx, sizeof(uint32_t));
	__atomic_fetch_sub(&a->cnt.ctrl_used, 1, __ATOMIC_RELAXED);
}

static void
ctrl_dq_free(void *p, void *e, unsigned int n)
{
	struct pptp_alg *a = p;
	uint32_t *idx = e;
	unsigned i;

	for (i = 0; i < n; i++)
		ctrl_put_slot(a, idx[i]);
}

/* ---- create / free ---- */

struct pptp_alg *
pptp_create(const char *name, uint32_t max_xlate, uint32_t max_ctrl, unsigned n_workers,
	    struct rte_rcu_qsbr *qsbr, struct flow_table *ft, int socket)
{
	char nm[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp;
	struct pptp_alg *a;
	uint32_t i;

	RTE_BUILD_BUG_ON(sizeof(struct pptp_ctrl) > 1280);
	RTE_BUILD_BUG_ON(sizeof(struct pptp_key) != 16);
	if (max_xlate == 0 || max_ctrl == 0 || n_workers == 0 ||
	    n_workers > FLOW_MAX_WORKERS || qsbr == NULL || ft == NULL ||
	    max_xlate >= PPTP_NONE / 4 || max_ctrl >= PPTP_NONE / 4) {
		rte_errno = EINVAL;
		return NULL;
	}
	a = rte_zmalloc_socket(name, sizeof(*a), RTE_CACHE_LINE_SIZE, socket);
	if (a == NULL)
		goto nomem;
	a->max_xlate = max_xlate;
	a->max_ctrl = max_ctrl;
	a->n_workers = n_workers;
	a->qsbr = qsbr;
	a->ft = ft;
	a->tmo = PPTP_DEFAULT_TIMEOUT;
	a->per_src = PPTP_DEFAULT_PER_SRC;
	a->src_seed = (uint32_t)rte_rand();
	/* Twice as many counters as states: clients rarely share one. */
	a->src_mask = rte_align32pow2(RTE_MAX(2 * max_ctrl, 64u)) - 1;
	rte_spinlock_init(&a->wlock);

	a->calls = rte_zmalloc_socket(name, (size_t)max_xlate * sizeof(*a->calls),
				      RTE_CACHE_LINE_SIZE, socket);
	a->ctrl = rte_zmalloc_socket(name, (size_t)max_ctrl * sizeof(*a->ctrl),
				     RTE_CACHE_LINE_SIZE, socket);
	a->src_cnt = rte_zmalloc_socket(name, ((size_t)a->src_mask + 1) * sizeof(*a->src_cnt),
					RTE_CACHE_LINE_SIZE, socket);
	if (a->calls == NULL || a->ctrl == NULL || a->src_cnt == NULL)
		goto nomem;

	snprintf(nm, sizeof(nm), "%s_cf", name);
	a->call_free = rte_ring_create_elem(nm, sizeof(uint32_t), rte_align32pow2(max_xlate + 1),
					    socket, 0);
	snprintf(nm, sizeof(nm), "%s_sf", name);
	a->ctrl_free = rte_ring_create_elem(nm, sizeof(uint32_t), rte_align32pow2(max_ctrl + 1),
					    socket, 0);
	if (a->call_free == NULL || a->ctrl_free == NULL)
		goto fail;
	for (i = 0; i < max_xlate; i++)
		rte_ring_enqueue_elem(a->call_free, &i, sizeof(i));
	for (i = 0; i < max_ctrl; i++) {
		rte_spinlock_init(&a->ctrl[i].lock);
		rte_ring_enqueue_elem(a->ctrl_free, &i, sizeof(i));
	}

	memset(&hp, 0, sizeof(hp));
	snprintf(nm, sizeof(nm), "%s_h", name);
	hp.name = nm;
	/* Two keys per call, with headroom for the cuckoo table's fill limit. */
	hp.entries = RTE_MAX((uint32_t)(2ULL * max_xlate + max_xlate / 4), 64u);
	hp.key_len = sizeof(struct pptp_key);
	hp.hash_func = pptp_hash_fn;
	hp.hash_func_init_val = 0x7a3c1d25;
	hp.socket_id = socket;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD |
			RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	a->h = rte_hash_create(&hp);
	if (a->h == NULL)
		goto fail;

	/* Each queue holds every slot at once; multi-threaded: workers tear calls down too. */
	snprintf(nm, sizeof(nm), "%s_cq", name);
	a->call_dq = rcu_defer_create(nm, qsbr, max_xlate + 1, sizeof(struct call_dq_elem), true,
				      call_dq_free, a, socket);
	snprintf(nm, sizeof(nm), "%s_sq", name);
	a->ctrl_dq = rcu_defer_create(nm, qsbr, max_ctrl + 1, sizeof(uint32_t), true,
				      ctrl_dq_free, a, socket);
	if (a->call_dq == NULL || a->ctrl_dq == NULL)
		goto fail;

	snprintf(nm, sizeof(nm), "%s_cid", name);
	a->cids = nat_create(nm, n_workers, NAT_MAX_ADDRS, socket);
	if (a->cids == NULL)
		goto fail;
	rte_log(RTE_LOG_INFO, pptp_logtype, "pptp: %s: %u calls, %u control connections\n",
		name, max_xlate, max_ctrl);
	return a;
nomem:
	rte_errno = ENOMEM;
fail:
	pptp_free(a);
	return NULL;
}

void
pptp_free(struct pptp_alg *a)
{
	if (a == NULL)
		return;
	rcu_defer_free(a->call_dq);
	rcu_defer_free(a->ctrl_dq);
	nat_free(a->cids);
	rte_hash_free(a->h);
	rte_ring_free(a->call_free);
	rte_ring_free(a->ctrl_free);
	rte_free(a->calls);
	rte_free(a->ctrl);
	rte_free(a->src_cnt);
	rte_free(a);
}

int
pptp_addr_add(struct pptp_alg *a, uint32_t pub_ip)
{
	int rc = nat_addr_add(a->cids, pub_ip);

	return rc < 0 ? rc : 0;
}

int
pptp_addr_info(const struct pptp_alg *a, uint32_t pub_ip, struct nat_addr_info *info)
{
	int idx = nat_addr_find(a->cids, pub_ip);

	if (idx < 0)
		return -ENOENT;
	nat_addr_info(a->cids, (unsigned)idx, info);
	return 0;
}

void
pptp_set_client_limit(struct pptp_alg *a, struct nat_src *t, uint32_t limit)
{
	a->per_client = t;
	__atomic_store_n(&a->per_client_max, limit, __ATOMIC_RELAXED);
}

void
pptp_set_ctrl_per_source(struct pptp_alg *a, uint32_t n)
{
	__atomic_store_n(&a->per_src, n ? n : 1, __ATOMIC_RELAXED);
}

void
pptp_set_timeout(struct pptp_alg *a, uint32_t xlate_s)
{
	__atomic_store_n(&a->tmo, xlate_s ? xlate_s : 1, __ATOMIC_RELAXED);
}

uint32_t
pptp_get_timeout(const struct pptp_alg *a)
{
	return __atomic_load_n(&a->tmo, __ATOMIC_RELAXED);
}

/* ---- control states ---- */

int
pptp_ctrl_attach(struct pptp_alg *a, struct flow_session *s, unsigned w)
{
	RTE_SET_USED(a);
	RTE_SET_USED(w);
	s->alg = FLOW_INVALID;   /* no state until the handshake completes */
	s->flags |= FLOW_F_ALG_CTRL;
	s->alg_id = PPTP_ALG_ID;
	return 0;
}

int
pptp_ctrl_take(struct pptp_alg *a, struct flow_session *s, uint32_t isn_c, uint32_t isn_s)
{
	uint32_t *cnt = src_slot(a, s->key[0].src), expect = FLOW_INVALID;
	struct pptp_ctrl *c;
	uint32_t idx;
	unsigned i;

	if (__atomic_fetch_add(cnt, 1, __ATOMIC_RELAXED) >= __atomic_load_n(&a->per_src, __ATOMIC_RELAXED)) {
		__atomic_fetch_sub(cnt, 1, __ATOMIC_RELAXED);
		pptp_cnt_add(&a->cnt.ctrl_refused, 1);
		return -EBUSY;
	}
	if (rte_ring_dequeue_elem(a->ctrl_free, &idx, sizeof(idx)) != 0) {
		__atomic_fetch_sub(cnt, 1, __ATOMIC_RELAXED);
		pptp_cnt_add(&a->cnt.ctrl_failed, 1);
		return -ENOSPC;
	}
	pptp_cnt_add(&a->cnt.ctrl_used, 1);
	c = &a->ctrl[idx];
	/* The slot passed a grace period: nobody holds or waits on its lock. */
	memset(c, 0, sizeof(*c));
	rte_spinlock_init(&c->lock);
	c->sess = s;
	c->sess_id = s->id;
	c->client = s->key[0].src;
	c->server = s->key[0].dst;
	c->csport = s->key[0].sport;
	c->nat = (s->flags & FLOW_F_NAT) != 0;
	c->pub = c->nat ? s->rw[0].src : s->key[0].src;
	c->call_head = PPTP_NONE;
	c->d[0].cur_call = c->d[1].cur_call = PPTP_NONE;
	c->d[0].isn = isn_c;
	c->d[1].isn = isn_s;
	for (i = 0; i < 2; i++) {
		c->d[i].next = c->d[i].log_floor = c->d[i].acked = c->d[i].isn + 1;
		c->d[i].known = 1;
	}
	__atomic_store_n(&c->in_use, 1, __ATOMIC_RELEASE);
	/* The other direction's worker may attach at once, or the session be freed meanwhile. */
	if (!__atomic_compare_exchange_n(&s->alg, &expect, idx, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		c->in_use = 0;
		c->sess = NULL;
		ctrl_put_slot(a, idx);   /* never published: no grace period needed */
		return expect < a->max_ctrl ? 0 : -ENOENT;
	}
	return 0;
}

void
pptp_ctrl_detach(struct pptp_alg *a, struct flow_session *s)
{
	uint32_t idx = s->alg;

	if (!(s->flags & FLOW_F_ALG_CTRL))
		return;
	s->alg = FLOW_INVALID;
	s->flags &= (uint8_t)~FLOW_F_ALG_CTRL;
	s->alg_id = FLOW_ALG_NONE;
	if (idx >= a->max_ctrl || a->ctrl[idx].sess != s)
		return;
	/* Never published: no reader can hold it, no grace period needed. */
	a->ctrl[idx].in_use = 0;
	a->ctrl[idx].sess = NULL;
	ctrl_put_slot(a, idx);
}

/* ---- calls ---- */

/* A live call of control state ci found by key k. */
static struct pptp_call *
call_by_key(struct pptp_alg *a, uint32_t ci, const struct pptp_key *k)
{
	struct pptp_call *c;
	void *data;

	if (rte_hash_lookup_data(a->h, k, &data) < 0)
		return NULL;
	c = &a->calls[(uintptr_t)data];
	if (!pptp_call_alive(c) || __atomic_load_n(&c->ctrl, __ATOMIC_RELAXED) != ci)
		return NULL;
	return c;
}

struct pptp_call *
pptp_call_find_fwd(struct pptp_alg *a, uint32_t ci, rte_be16_t ccid)
{
	const struct pptp_ctrl *ctrl = &a->ctrl[ci];
	struct pptp_key k;

	memset(&k, 0, sizeof(k));
	k.ip = ctrl->client;
	k.server = ctrl->server;
	k.cid = ccid;
	k.port = ctrl->csport;
	k.kind = PPTP_KEY_FWD;
	return call_by_key(a, ci, &k);
}

struct pptp_call *
pptp_call_find_rev(struct pptp_alg *a, uint32_t ci, rte_be16_t xcid)
{
	const struct pptp_ctrl *ctrl = &a->ctrl[ci];
	struct pptp_key k;

	key_rev(ctrl->pub, ctrl->server, xcid, &k);
	return call_by_key(a, ci, &k);
}

struct pptp_call *
pptp_call_find_scid(struct pptp_alg *a, uint32_t ci, rte_be16_t scid)
{
	uint32_t i;

	/* Server-side ids are not keyed: walk the connection's own calls (CDN from outside only). */
	for (i = a->ctrl[ci].call_head; i != PPTP_NONE; i = a->calls[i].next) {
		struct pptp_call *c = &a->calls[i];

		if (c->has_scid && c->scid == scid)
			return c;
	}
	return NULL;
}

/* A call leaves its inside host's count. */
static inline void
call_client_put(struct pptp_alg *a, const struct pptp_call *c)
{
	if (a->per_client != NULL)
		nat_src_put(a->per_client, c->client);
}

/* Last reference gone: the Call ID returns to its slice, the slots after a grace period. */
static void
call_finalize(struct pptp_alg *a, struct pptp_call *c)
{
	struct call_dq_elem el = { pptp_call_idx(a, c), { c->pos[0], c->pos[1] } };

	call_client_put(a, c);
	if (c->cid_alloc) {
		c->cid_alloc = 0;
		nat_port_free(a->cids, rte_be_to_cpu_32(c->pub), rte_be_to_cpu_16(c->xcid));
	}
	rcu_defer(a->call_dq, &el);   /* a failure is counted (get counter flow) */
}

static void
call_put(struct pptp_alg *a, struct pptp_call *c)
{
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		call_finalize(a, c);
}

/* Delete c's keys, where they still name c. */
static void
call_unpublish(struct pptp_alg *a, struct pptp_call *c)
{
	uint32_t idx = pptp_call_idx(a, c);
	struct pptp_key k[2];
	unsigned i;

	key_fwd(c, &k[0]);
	key_rev(c->pub, c->server, c->xcid, &k[1]);
	rte_spinlock_lock(&a->wlock);
	for (i = 0; i < 2; i++) {
		void *data;

		if (c->pos[i] < 0 && rte_hash_lookup_data(a->h, &k[i], &data) >= 0 &&
		    (uintptr_t)data == idx)
			c->pos[i] = rte_hash_del_key(a->h, &k[i]);
	}
	rte_spinlock_unlock(&a->wlock);
}

/* Give back an entry that was never published: no reader can hold it. */
static void
call_unget(struct pptp_alg *a, struct pptp_call *c)
{
	uint32_t idx = pptp_call_idx(a, c);

	call_client_put(a, c);
	if (c->cid_alloc) {
		c->cid_alloc = 0;
		nat_port_free(a->cids, rte_be_to_cpu_32(c->pub), rte_be_to_cpu_16(c->xcid));
	}
	__atomic_store_n(&c->gen, c->gen + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->state, PPTP_CALL_FREE, __ATOMIC_RELEASE);
	rte_ring_enqueue_elem(a->call_free, &idx, sizeof(idx));
	__atomic_fetch_sub(&a->cnt.xlate_used, 1, __ATOMIC_RELAXED);
}

/* pptp_call_new, translated to xcid when fixed (network order, an HA import) or to a new one. */
static struct pptp_call *
call_new(struct pptp_alg *a, uint32_t ci, rte_be16_t ccid, unsigned w, uint32_t now, bool fixed,
	 rte_be16_t xcid)
{
	struct pptp_ctrl *ctrl = &a->ctrl[ci];
	struct pptp_key kf, kr;
	struct pptp_call *c;
	uint32_t idx;
	void *data;

	if (ctrl->closing || w >= a->n_workers)
		goto fail;
	/* One host may not hold every call: counted until the entry is finalized or given back. */
	if (a->per_client != NULL) {
		uint32_t limit = __atomic_load_n(&a->per_client_max, __ATOMIC_RELAXED);
		int rc = nat_src_take(a->per_client, ctrl->client, limit);

		if (rc == -EDQUOT && a->quota_fn != NULL)
			a->quota_fn(a->quota_arg, ctrl->client, limit);
		if (rc != 0)
			goto fail;
	}
	if (rte_ring_dequeue_elem(a->call_free, &idx, sizeof(idx)) != 0) {
		if (a->per_client != NULL)
			nat_src_put(a->per_client, ctrl->client);
		goto fail;
	}
	pptp_cnt_add(&a->cnt.xlate_used, 1);
	c = &a->calls[idx];
	c->client = ctrl->client;   /* first: a give-back below uncounts it */
	c->cid_alloc = 0;
	c->pub = ctrl->pub;
	if (ctrl->nat) {
		int pidx = nat_addr_find(a->cids, rte_be_to_cpu_32(ctrl->pub));
		int x = pidx < 0 ? -ENOENT : !fixed ? nat_port_alloc(a->cids, (unsigned)pidx, w) :
			nat_port_reserve(a->cids, rte_be_to_cpu_32(ctrl->pub), rte_be_to_cpu_16(xcid)) == 0 ?
			rte_be_to_cpu_16(xcid) : -EEXIST;

		if (x < 0) {
			call_unget(a, c);
			goto fail;
		}
		c->xcid = rte_cpu_to_be_16((uint16_t)x);
		c->cid_alloc = 1;
	} else {
		c->xcid = ccid;
	}
	c->ctrl = ci;
	c->ctrl_sess_id = ctrl->sess_id;
	c->refs = 1;
	c->next = c->prev = PPTP_NONE;
	c->last_seen = now;
	c->nat = ctrl->nat;
	c->has_scid = 0;
	c->client = ctrl->client;
	c->server = ctrl->server;
	c->ccid = ccid;
	c->scid = 0;
	c->csport = ctrl->csport;
	c->pos[0] = c->pos[1] = -1;
	c->gate[0] = c->gate[1] = NULL;
	/* Filled before the keys make it visible. */
	__atomic_store_n(&c->state, PPTP_CALL_PENDING, __ATOMIC_RELEASE);

	key_fwd(c, &kf);
	key_rev(c->pub, c->server, c->xcid, &kr);
	rte_spinlock_lock(&a->wlock);
	/* An id already keyed (a non-NAT'd twin connection): refuse rather than steal it. */
	if (rte_hash_lookup_data(a->h, &kf, &data) >= 0 ||
	    rte_hash_lookup_data(a->h, &kr, &data) >= 0 ||
	    rte_hash_add_key_data(a->h, &kf, idx_data(idx)) != 0) {
		rte_spinlock_unlock(&a->wlock);
		call_unget(a, c);
		goto fail;
	}
	if (rte_hash_add_key_data(a->h, &kr, idx_data(idx)) != 0) {
		/* The forward key was visible for a moment: retire through the grace period. */
		c->pos[0] = rte_hash_del_key(a->h, &kf);
		rte_spinlock_unlock(&a->wlock);
		__atomic_store_n(&c->state, PPTP_CALL_DYING, __ATOMIC_RELEASE);
		c->ctrl = PPTP_NONE;
		call_put(a, c);
		goto fail;
	}
	rte_spinlock_unlock(&a->wlock);

	c->next = ctrl->call_head;
	if (c->next != PPTP_NONE)
		a->calls[c->next].prev = idx;
	ctrl->call_head = idx;
	ctrl->ncalls++;
	pptp_cnt_add(&a->cnt.calls_opened, 1);
	return c;
fail:
	pptp_cnt_add(&a->cnt.failed, 1);
	return NULL;
}

struct pptp_call *
pptp_call_new(struct pptp_alg *a, uint32_t ci, rte_be16_t ccid, unsigned w, uint32_t now)
{
	return call_new(a, ci, ccid, w, now, false, 0);
}

static void call_info(const struct pptp_alg *a, const struct pptp_call *c,
		      struct pptp_xlate_info *xi);

void
pptp_set_call_log(struct pptp_alg *a, pptp_call_log_fn fn, void *arg)
{
	a->log_arg = arg;
	a->log_fn = fn;
}

void
pptp_set_quota_log(struct pptp_alg *a, pptp_quota_log_fn fn, void *arg)
{
	a->quota_arg = arg;
	a->quota_fn = fn;
}

/* Tell the call log hook that c opened or, having opened, ends. */
static void
call_log(struct pptp_alg *a, const struct pptp_call *c, bool open)
{
	struct pptp_xlate_info xi;

	if (a->log_fn == NULL)
		return;
	call_info(a, c, &xi);
	a->log_fn(a->log_arg, &xi, open);
}

void
pptp_call_teardown(struct pptp_alg *a, struct pptp_ctrl *ctrl, struct pptp_call *c)
{
	uint32_t ci = pptp_ctrl_idx(a, ctrl);
	unsigned i;

	if (!pptp_call_alive(c) || c->ctrl != ci)
		return;
	/* A call that opened was logged so: its end is too, once (it is dying from here). */
	if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == PPTP_CALL_OPEN)
		call_log(a, c, false);
	__atomic_store_n(&c->state, PPTP_CALL_DYING, __ATOMIC_RELEASE);
	if (c->prev != PPTP_NONE)
		a->calls[c->prev].next = c->next;
	else
		ctrl->call_head = c->next;
	if (c->next != PPTP_NONE)
		a->calls[c->next].prev = c->prev;
	c->next = c->prev = PPTP_NONE;
	__atomic_store_n(&c->ctrl, PPTP_NONE, __ATOMIC_RELEASE);
	ctrl->ncalls--;
	call_unpublish(a, c);
	for (i = 0; i < 2; i++) {
		struct flow_session *g = __atomic_load_n(&c->gate[i], __ATOMIC_ACQUIRE);

		/* Its keys leave the index now: a redial with the same Call IDs gets new gates. */
		if (g != NULL)
			flow_unlink(a->ft, g);
	}
	pptp_cnt_add(&a->cnt.calls_closed, 1);
	call_put(a, c);
}

void
pptp_ctrl_teardown_all(struct pptp_alg *a, struct pptp_ctrl *ctrl)
{
	while (ctrl->call_head != PPTP_NONE)
		pptp_call_teardown(a, ctrl, &a->calls[ctrl->call_head]);
}

/*
 * One gate: a one-way GRE session (one live key; the other wing for ICMP
 * errors and views), made by the NAT module's session constructor (its lower
 * half: no policy, no port, no per-source count - the call holds those).
 */
static struct flow_session *
gate_make(struct pptp_alg *a, unsigned w, const struct flow_session *s, unsigned sdir,
	  const struct flow_key *k0, const struct flow_rw *rw0, const struct flow_key *k1,
	  const struct flow_rw *rw1, uint32_t call_idx, bool nat)
{
	const struct nat_sess_spec spec = {
		.key = { *k0, *k1 },
		.rw = { *rw0, *rw1 },
		.iface = { s->iface[sdir], s->iface[1 - sdir] },
		.out_iface = { s->out_iface[sdir], s->out_iface[1 - sdir] },
		.proto = IPPROTO_GRE,
		.tmo = FLOW_TMO_GRE,
		.flags = FLOW_F_ALG_MADE | FLOW_F_ALG_DATA | (nat ? FLOW_F_NAT : 0),
		.alg_id = PPTP_ALG_ID,
		.oneway = 1,            /* the other wing: found by ICMP errors about its packets, never by a packet */
		.policy_id = s->policy_id,
		.nat_port = 0,          /* the Call ID is the ALG's to free, not a NAT port */
		.alg = call_idx,
	};

	return nat_session_build(a->ft, &spec, w);
}

void
pptp_call_open(struct pptp_alg *a, struct pptp_call *c, struct flow_session *s, unsigned w,
	       uint32_t now)
{
	uint32_t idx = pptp_call_idx(a, c);
	struct flow_key k0, k1;
	struct flow_rw rw0, rw1;
	unsigned i;
	int rc;

	RTE_SET_USED(now);   /* the gates take the session table's clock when inserted */
	if (!pptp_call_alive(c) || !c->has_scid)
		return;
	if (c->gate[0] != NULL || c->gate[1] != NULL)
		return;   /* a repeated reply: the gates are there */
	for (i = 0; i < 2; i++) {
		struct flow_session *g;

		if (i == 0) {
			/* A: client -> server, matched on the server's Call ID; source becomes public. */
			flow_key_set(&k0, c->client, c->server, 0, c->scid, IPPROTO_GRE);
			flow_rw_set(&rw0, c->pub, c->server, c->xcid, c->scid);
			flow_key_set(&k1, c->server, c->pub, c->scid, 0, IPPROTO_GRE);
			flow_rw_set(&rw1, c->server, c->client, c->scid, c->ccid);
		} else {
			/* B: server -> public, matched on the translated id; restored to the client's. */
			flow_key_set(&k0, c->server, c->pub, 0, c->xcid, IPPROTO_GRE);
			flow_rw_set(&rw0, c->server, c->client, c->scid, c->ccid);
			flow_key_set(&k1, c->client, c->server, c->ccid, 0, IPPROTO_GRE);
			flow_rw_set(&rw1, c->pub, c->server, c->xcid, c->scid);
		}
		g = gate_make(a, w, s, i, &k0, &rw0, &k1, &rw1, idx, c->nat);
		if (g == NULL) {
			pptp_cnt_add(&a->cnt.gates_failed, 1);
			continue;
		}
		/* Referenced before it can be found, so its free callback always finds it. */
		__atomic_fetch_add(&c->refs, 1, __ATOMIC_ACQ_REL);
		__atomic_store_n(&c->gate[i], g, __ATOMIC_RELEASE);
		rc = flow_insert(a->ft, g, w);
		if (rc == -EEXIST) {
			/*
			 * The quote wing alone may clash: a torn-down call's from the same
			 * Call ID, still indexed. The gate goes in without it (display
			 * only, as before); only ICMP errors about its packets miss it.
			 */
			g->key[1].dport = i == 0 ? c->xcid : c->scid;
			rc = flow_insert(a->ft, g, w);
		}
		if (rc != 0) {
			/* Still ours: unhook it from the call first, then give it back. */
			__atomic_store_n(&c->gate[i], NULL, __ATOMIC_RELEASE);
			__atomic_fetch_sub(&c->refs, 1, __ATOMIC_ACQ_REL);   /* alive ref remains */
			flow_release(a->ft, g, w);
			pptp_cnt_add(&a->cnt.gates_failed, 1);
			continue;
		}
		pptp_cnt_add(&a->cnt.gates_opened, 1);
	}
	__atomic_store_n(&c->state, PPTP_CALL_OPEN, __ATOMIC_RELEASE);
	call_log(a, c, true);
}

/* ---- HA: a control connection's state to and from the peer ---- */

/* Control state ci, locked, when it is control session s's; else NULL. */
static struct pptp_ctrl *
ctrl_lock_of(struct pptp_alg *a, const struct flow_session *s, uint32_t ci)
{
	struct pptp_ctrl *ctrl;

	if (ci >= a->max_ctrl)
		return NULL;
	ctrl = &a->ctrl[ci];
	rte_spinlock_lock(&ctrl->lock);
	if (!ctrl->in_use || ctrl->sess != s) {
		rte_spinlock_unlock(&ctrl->lock);
		return NULL;
	}
	return ctrl;
}

int
pptp_ctrl_export(struct pptp_alg *a, struct flow_session *s, struct pptp_sync *out)
{
	uint32_t ci = __atomic_load_n(&s->alg, __ATOMIC_ACQUIRE), idx;
	struct pptp_ctrl *ctrl;
	unsigned i, n = 0;

	RTE_BUILD_BUG_ON(sizeof(out->d[0].log) != sizeof(ctrl->d[0].log));
	RTE_BUILD_BUG_ON(sizeof(out->d[0].hdr) != sizeof(ctrl->d[0].hdr));
	memset(out, 0, sizeof(*out));
	ctrl = ctrl_lock_of(a, s, ci);
	if (ctrl == NULL)
		return -ENOENT;
	out->desync = ctrl->desync;
	out->closing = ctrl->closing;
	for (i = 0; i < 2; i++) {
		const struct pptp_dir *d = &ctrl->d[i];
		struct pptp_sync_dir *o = &out->d[i];

		o->isn = d->isn;
		o->next = d->next;
		o->log_floor = d->log_floor;
		o->acked = d->acked;
		o->msg_len = d->msg_len;
		o->consumed = d->consumed;
		o->known = d->known;
		o->fin = d->fin;
		o->nlog = d->nlog;
		o->log_head = d->log_head;
		o->cur_call = 0xff;
		memcpy(o->hdr, d->hdr, sizeof(o->hdr));
		memcpy(o->log, d->log, sizeof(o->log));   /* the same layout (checked at build) */
	}
	for (idx = ctrl->call_head; idx != PPTP_NONE && n < PPTP_SYNC_CALLS; idx = a->calls[idx].next) {
		const struct pptp_call *c = &a->calls[idx];

		if (!pptp_call_alive(c))
			continue;
		for (i = 0; i < 2; i++)
			if (ctrl->d[i].cur_call == idx && ctrl->d[i].cur_gen == c->gen)
				out->d[i].cur_call = (uint8_t)n;
		out->calls[n].ccid = c->ccid;
		out->calls[n].xcid = c->xcid;
		out->calls[n].scid = c->scid;
		out->calls[n].has_scid = c->has_scid;
		out->calls[n].open = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == PPTP_CALL_OPEN;
		n++;
	}
	out->ncalls = (uint8_t)n;
	rte_spinlock_unlock(&ctrl->lock);
	return 0;
}

int
pptp_ctrl_import(struct pptp_alg *a, struct flow_session *s, const struct pptp_sync *in,
		 unsigned w, uint32_t now)
{
	struct pptp_call *made[PPTP_SYNC_CALLS] = { NULL };
	struct pptp_ctrl *ctrl;
	uint32_t ci = __atomic_load_n(&s->alg, __ATOMIC_ACQUIRE), idx, next;
	unsigned i, n = RTE_MIN(in->ncalls, (unsigned)PPTP_SYNC_CALLS);
	int rc;

	if (!(s->flags & FLOW_F_ALG_CTRL) || s->alg_id != PPTP_ALG_ID)
		return -EINVAL;
	if (ci == FLOW_INVALID) {
		rc = pptp_ctrl_take(a, s, in->d[0].isn, in->d[1].isn);
		if (rc != 0)
			return rc;
		ci = __atomic_load_n(&s->alg, __ATOMIC_ACQUIRE);
	}
	ctrl = ctrl_lock_of(a, s, ci);
	if (ctrl == NULL)
		return -ENOENT;
	ctrl->desync = in->desync;
	ctrl->closing = 0;   /* calls are made below; closing is set after */
	for (i = 0; i < 2; i++) {
		const struct pptp_sync_dir *o = &in->d[i];
		struct pptp_dir *d = &ctrl->d[i];

		d->isn = o->isn;
		d->next = o->next;
		d->log_floor = o->log_floor;
		d->acked = o->acked;
		d->msg_len = o->msg_len;
		d->consumed = o->consumed;
		d->known = o->known;
		d->fin = o->fin;
		d->nlog = RTE_MIN(o->nlog, (uint8_t)PPTP_LOG_N);
		d->log_head = (uint8_t)(o->log_head % PPTP_LOG_N);
		d->cur_call = PPTP_NONE;
		memcpy(d->hdr, o->hdr, sizeof(d->hdr));
		memcpy(d->log, o->log, sizeof(d->log));
	}
	/* The calls the peer has, with its Call IDs. */
	for (i = 0; i < n; i++) {
		struct pptp_call *c = pptp_call_find_fwd(a, ci, in->calls[i].ccid);

		if (c != NULL && c->xcid != in->calls[i].xcid) {
			pptp_call_teardown(a, ctrl, c);   /* another call under the same id: the peer's wins */
			c = NULL;
		}
		if (c == NULL)
			c = call_new(a, ci, in->calls[i].ccid, w, now, true, in->calls[i].xcid);
		if (c == NULL)
			continue;
		made[i] = c;
		__atomic_store_n(&c->last_seen, now, __ATOMIC_RELAXED);
		if (in->calls[i].has_scid && !c->has_scid) {
			c->scid = in->calls[i].scid;
			c->has_scid = 1;
		}
		if (in->calls[i].open && c->has_scid)
			pptp_call_open(a, c, s, w, now);
	}
	/* The calls it no longer has end here too. */
	for (idx = ctrl->call_head; idx != PPTP_NONE; idx = next) {
		struct pptp_call *c = &a->calls[idx];
		bool keep = false;

		next = c->next;
		for (i = 0; i < n && !keep; i++)
			keep = made[i] == c;
		if (!keep)
			pptp_call_teardown(a, ctrl, c);
	}
	for (i = 0; i < 2; i++)
		if (in->d[i].cur_call < n && made[in->d[i].cur_call] != NULL) {
			ctrl->d[i].cur_call = pptp_call_idx(a, made[in->d[i].cur_call]);
			ctrl->d[i].cur_gen = made[in->d[i].cur_call]->gen;
		}
	ctrl->closing = in->closing;
	rte_spinlock_unlock(&ctrl->lock);
	return 0;
}

/* ---- control lcore ---- */

/*
 * Tear c down from the control lcore, if it is still the call of generation
 * gen (a worker may have ended it and reused the slot for another call since
 * the caller looked): under its control state's lock, which the owner can
 * drop meanwhile (then c is already dying). Returns whether it was still
 * that call, and the gates it had, for a caller that deletes them at once.
 */
static bool
call_teardown_ctl(struct pptp_alg *a, struct pptp_call *c, uint32_t gen,
		  struct flow_session **gates)
{
	uint32_t ci = __atomic_load_n(&c->ctrl, __ATOMIC_ACQUIRE);
	bool same;
	unsigned i;

	for (i = 0; i < 2 && gates != NULL; i++)
		gates[i] = __atomic_load_n(&c->gate[i], __ATOMIC_ACQUIRE);
	if (ci == PPTP_NONE || ci >= a->max_ctrl) {
		/* Already dying: its gates are still its own only while the slot is. */
		same = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE) == gen;
		for (i = 0; i < 2 && gates != NULL && !same; i++)
			gates[i] = NULL;
		return same;
	}
	rte_spinlock_lock(&a->ctrl[ci].lock);
	/* The slot returns to the pool (gen bumped) only after it left every control state. */
	same = c->ctrl == ci && __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE) == gen;
	if (same) {
		for (i = 0; i < 2 && gates != NULL; i++)
			gates[i] = c->gate[i];
		pptp_call_teardown(a, &a->ctrl[ci], c);
	} else {
		for (i = 0; i < 2 && gates != NULL; i++)
			gates[i] = NULL;
	}
	rte_spinlock_unlock(&a->ctrl[ci].lock);
	return same;
}

void
pptp_session_freed(struct pptp_alg *a, struct flow_session *s)
{
	uint32_t idx = s->alg;

	if (a == NULL || s->alg_id != PPTP_ALG_ID ||
	    (idx == FLOW_INVALID && !(s->flags & FLOW_F_ALG_CTRL)))
		return;
	if (s->flags & FLOW_F_ALG_DATA) {
		struct pptp_call *c;
		unsigned i;

		if (idx >= a->max_xlate)
			return;
		c = &a->calls[idx];
		for (i = 0; i < 2; i++)
			if (__atomic_load_n(&c->gate[i], __ATOMIC_ACQUIRE) == s)
				break;
		if (i == 2)
			return;   /* not (or no longer) this call's gate */
		/* One gate gone ends the call: its keys go, the other gate is killed. */
		call_teardown_ctl(a, c, __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE), NULL);
		__atomic_store_n(&c->gate[i], NULL, __ATOMIC_RELEASE);
		s->alg = FLOW_INVALID;
		call_put(a, c);
	} else if (s->flags & FLOW_F_ALG_CTRL) {
		struct pptp_ctrl *ctrl;

		/* A worker that takes a state for s now finds it gone and gives it back. */
		idx = __atomic_exchange_n(&s->alg, PPTP_CTRL_GONE, __ATOMIC_ACQ_REL);
		if (idx >= a->max_ctrl)
			return;
		ctrl = &a->ctrl[idx];
		rte_spinlock_lock(&ctrl->lock);
		if (!ctrl->in_use || ctrl->sess != s) {
			rte_spinlock_unlock(&ctrl->lock);
			return;
		}
		pptp_ctrl_teardown_all(a, ctrl);
		ctrl->in_use = 0;
		ctrl->sess = NULL;
		rte_spinlock_unlock(&ctrl->lock);
		s->alg = FLOW_INVALID;
		/* A worker may still be about to take the lock: reuse after a grace period. */
		rcu_defer(a->ctrl_dq, &idx);
	}
}

/* The last moment anything passed for c: a control message or GRE through a gate. */
static uint32_t
call_last_active(const struct pptp_call *c)
{
	uint32_t t = __atomic_load_n(&c->last_seen, __ATOMIC_RELAXED);
	unsigned i;

	for (i = 0; i < 2; i++) {
		const struct flow_session *g = __atomic_load_n(&c->gate[i], __ATOMIC_ACQUIRE);

		if (g != NULL) {
			uint32_t gl = __atomic_load_n(&g->last_seen, __ATOMIC_RELAXED);

			if ((int32_t)(gl - t) > 0)
				t = gl;
		}
	}
	return t;
}

static uint32_t
call_time_left(const struct pptp_alg *a, const struct pptp_call *c, uint32_t now)
{
	uint32_t idle = now - call_last_active(c);
	uint32_t tmo = pptp_get_timeout(a);

	if ((int32_t)idle < 0)
		idle = 0;
	return idle >= tmo ? 0 : tmo - idle;
}

void
pptp_tick(struct pptp_alg *a, uint32_t now, unsigned budget)
{
	rcu_defer_reclaim(a->call_dq);
	rcu_defer_reclaim(a->ctrl_dq);
	budget = RTE_MIN(budget, a->max_xlate);
	while (budget-- > 0) {
		struct pptp_call *c = &a->calls[a->age_cursor];
		uint32_t gen = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);

		if (++a->age_cursor >= a->max_xlate)
			a->age_cursor = 0;
		/* gen read first: a call a worker put in the slot after it is not the one aged. */
		if (pptp_call_alive(c) && call_time_left(a, c, now) == 0)
			call_teardown_ctl(a, c, gen, NULL);   /* gates unlinked: the flow ager ends them */
	}
	rcu_defer_reclaim(a->call_dq);
}

static void
call_info(const struct pptp_alg *a, const struct pptp_call *c, struct pptp_xlate_info *xi)
{
	unsigned i;

	memset(xi, 0, sizeof(*xi));
	xi->inside_ip = rte_be_to_cpu_32(c->client);
	xi->server_ip = rte_be_to_cpu_32(c->server);
	xi->public_ip = rte_be_to_cpu_32(c->pub);
	xi->inside_cid = rte_be_to_cpu_16(c->ccid);
	xi->xlated_cid = rte_be_to_cpu_16(c->xcid);
	xi->server_cid = c->has_scid ? rte_be_to_cpu_16(c->scid) : 0;
	xi->src_port = rte_be_to_cpu_16(c->csport);
	xi->ctrl_sess_id = c->ctrl_sess_id;
	xi->index = pptp_call_idx(a, c);
	xi->gen = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
	xi->nat = c->nat != 0;
	xi->established = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == PPTP_CALL_OPEN;
	for (i = 0; i < 2; i++)
		if (__atomic_load_n(&c->gate[i], __ATOMIC_ACQUIRE) != NULL)
			xi->gates++;
}

bool
pptp_xlate_walk_from(struct pptp_alg *a, uint32_t now, uint32_t *cursor, uint32_t budget,
		     int (*fn)(const struct pptp_xlate_info *xi, void *arg), void *arg)
{
	struct pptp_xlate_info xi;
	uint32_t i, end = a->max_xlate;

	if (budget < end - RTE_MIN(*cursor, end))
		end = *cursor + budget;
	for (i = *cursor; i < end; i++) {
		const struct pptp_call *c = &a->calls[i];

		if (!pptp_call_alive(c))
			continue;
		call_info(a, c, &xi);
		xi.time_left = call_time_left(a, c, now);
		if (fn(&xi, arg) != 0) {
			*cursor = a->max_xlate;
			return false;
		}
	}
	*cursor = i;
	return i < a->max_xlate;
}

void
pptp_xlate_walk(struct pptp_alg *a, uint32_t now,
		int (*fn)(const struct pptp_xlate_info *xi, void *arg), void *arg)
{
	uint32_t cursor = 0;

	pptp_xlate_walk_from(a, now, &cursor, a->max_xlate, fn, arg);
}

unsigned
pptp_clear(struct pptp_alg *a, bool (*match)(const struct pptp_xlate_info *xi, void *arg),
	   void *arg)
{
	struct pptp_xlate_info xi;
	unsigned n = 0;
	uint32_t i, now = flow_clock(a->ft);

	for (i = 0; i < a->max_xlate; i++) {
		struct pptp_call *c = &a->calls[i];
		struct flow_session *g[2] = { NULL, NULL };
		unsigned k;

		if (!pptp_call_alive(c))
			continue;
		call_info(a, c, &xi);
		xi.time_left = call_time_left(a, c, now);
		if (match != NULL && !match(&xi, arg))
			continue;
		/* The call that matched, not one that took its slot since (xi.gen). */
		if (!call_teardown_ctl(a, c, xi.gen, g))
			continue;
		/* Gates deleted now: their free callbacks release the entry and the Call ID. */
		for (k = 0; k < 2; k++)
			if (g[k] != NULL && g[k]->alg == i && (g[k]->flags & FLOW_F_ALG_DATA))
				flow_delete(a->ft, g[k], false);
		n++;
	}
	return n;
}

int
pptp_xlate_lookup(struct pptp_alg *a, rte_be32_t pub, rte_be32_t server, rte_be16_t xcid,
		  struct pptp_xlate_info *xi)
{
	struct pptp_key k;
	void *data;

	key_rev(pub, server, xcid, &k);
	if (rte_hash_lookup_data(a->h, &k, &data) < 0)
		return -ENOENT;
	call_info(a, &a->calls[(uintptr_t)data], xi);
	return 0;
}

int
pptp_xlate_get(struct pptp_alg *a, uint32_t idx, struct pptp_xlate_info *xi)
{
	if (idx >= a->max_xlate)
		return -EINVAL;
	if (__atomic_load_n(&a->calls[idx].state, __ATOMIC_ACQUIRE) == PPTP_CALL_FREE)
		return -ENOENT;
	call_info(a, &a->calls[idx], xi);
	return 0;
}

void
pptp_stats_get(const struct pptp_alg *a, struct pptp_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	st->xlate_used = __atomic_load_n(&a->cnt.xlate_used, __ATOMIC_RELAXED);
	st->xlate_max = a->max_xlate;
	st->failed = __atomic_load_n(&a->cnt.failed, __ATOMIC_RELAXED);
	st->calls_opened = __atomic_load_n(&a->cnt.calls_opened, __ATOMIC_RELAXED);
	st->calls_closed = __atomic_load_n(&a->cnt.calls_closed, __ATOMIC_RELAXED);
	st->gates_opened = __atomic_load_n(&a->cnt.gates_opened, __ATOMIC_RELAXED);
	st->gates_failed = __atomic_load_n(&a->cnt.gates_failed, __ATOMIC_RELAXED);
	st->ctrl_used = __atomic_load_n(&a->cnt.ctrl_used, __ATOMIC_RELAXED);
	st->ctrl_max = a->max_ctrl;
	st->ctrl_failed = __atomic_load_n(&a->cnt.ctrl_failed, __ATOMIC_RELAXED);
	st->ctrl_refused = __atomic_load_n(&a->cnt.ctrl_refused, __ATOMIC_RELAXED);
	st->ctrl_per_src = __atomic_load_n(&a->per_src, __ATOMIC_RELAXED);
	st->desynced = __atomic_load_n(&a->cnt.desynced, __ATOMIC_RELAXED);
	for (i = 0; i < PPTP_ERR_MAX; i++)
		st->err[i] = __atomic_load_n(&a->cnt.err[i], __ATOMIC_RELAXED);
	rcu_defer_stats_get(a->call_dq, &st->rcu_calls);
	rcu_defer_stats_get(a->ctrl_dq, &st->rcu_ctrl);
}
