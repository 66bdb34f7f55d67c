/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour (ARP) table.
 *
 * An rte_hash keyed {ip, iface}, created with RW_CONCURRENCY_LF (single
 * writer: the control lcore), gives the key's position; the position indexes
 * a preallocated entry array. Workers read an entry's MAC and state as one
 * 64-bit word with an atomic load, so neigh_lookup() takes no lock.
 *
 * Deletion and reuse. With RW_CONCURRENCY_LF and no RCU attached, rte_hash
 * does not free a key position on rte_hash_del_key() (NO_FREE_ON_DEL is
 * implied): the position, and therefore the entry index, cannot be handed out
 * again until rte_hash_free_key_with_position() is called. That call is what
 * waits for the grace period (docs/architecture.md, "Reclamation"):
 *  - delete: the entry's word is set to FREE (readers that still hold the
 *    position see a miss), the key is removed, the entry is marked dead and
 *    its position handed to the reclamation queue (rcu_defer) on the
 *    workers' qsbr;
 *  - once every worker has passed a quiescent state since, the position goes
 *    back to the hash and the entry may be reused (neigh_tick and every
 *    delete give back what is ready). A worker that found the position
 *    before the delete reads this entry, FREE or its old MAC, never another
 *    neighbour's.
 * The hash has three times max key slots so that entries waiting for their
 * grace period do not make the table look full; the max limit is ours.
 * EXT_TABLE makes every one of those slots usable (no cuckoo failures).
 * Only a writer that deletes and re-creates more than 2 * max entries
 * while a worker stalls can run out of slots early; that is counted as
 * table_full.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_log.h>

#include "neigh.h"
#include "rcu_defer.h"

RTE_LOG_REGISTER(neigh_logtype, dpnat.neigh, NOTICE);

#define NEIGH_QUEUE_MAX   16        /* queue_len is capped here */
#define NEIGH_RESENDS     3         /* resend() calls before giving up */
#define NEIGH_STATE_SHIFT 48
#define NEIGH_MAC_MASK    ((UINT64_C(1) << NEIGH_STATE_SHIFT) - 1)

struct neigh_key {
	uint32_t ip;
	uint32_t iface;
};

struct neigh_entry {
	uint64_t word;          /* MAC (bits 0-47) | state << 48; atomic, read by workers */
	uint64_t confirmed;     /* last confirmed (REACHABLE), created (INCOMPLETE) */
	uint64_t last_req;      /* INCOMPLETE: when the last request went out */
	uint32_t ip;
	uint8_t iface;
	uint8_t tries;          /* requests sent for this resolution */
	uint8_t nq;             /* packets queued */
	uint8_t dead;           /* deleted, position not yet given back to the hash */
};

struct neigh_table {
	struct rte_hash *h;
	struct neigh_entry *e;      /* nslots entries, indexed by key position */
	struct rte_mbuf **q;        /* nslots * qlen held packets */
	uint32_t nslots;
	uint32_t max;
	uint32_t used;
	uint32_t qlen;
	uint32_t timeout;
	uint32_t n_dead;
	uint32_t gen;               /* bumped whenever any entry's MAC or state changes */
	struct rcu_defer *dq;       /* deleted positions waiting for their grace period */
	struct neigh_stats st;
};

static inline uint64_t
mac_word(const struct rte_ether_addr *mac, enum neigh_state s)
{
	uint64_t w = 0;
	unsigned i;

	if (mac != NULL)
		for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
			w |= (uint64_t)mac->addr_bytes[i] << (8 * i);
	return w | ((uint64_t)s << NEIGH_STATE_SHIFT);
}

static inline void
word_mac(uint64_t w, struct rte_ether_addr *mac)
{
	unsigned i;

	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac->addr_bytes[i] = (uint8_t)(w >> (8 * i));
}

static inline enum neigh_state
word_state(uint64_t w)
{
	return (enum neigh_state)((w >> NEIGH_STATE_SHIFT) & 0xff);
}

static inline enum neigh_state
entry_state(const struct neigh_entry *e)
{
	return word_state(__atomic_load_n(&e->word, __ATOMIC_RELAXED));
}

static inline void
entry_publish(struct neigh_table *t, struct neigh_entry *e, uint64_t w)
{
	if (__atomic_load_n(&e->word, __ATOMIC_RELAXED) == w)
		return;
	__atomic_store_n(&e->word, w, __ATOMIC_RELEASE);
	/* Readers that cached a lookup see the change through the generation. */
	__atomic_fetch_add(&t->gen, 1, __ATOMIC_RELEASE);
}

static uint32_t
neigh_hash(const void *key, uint32_t len, uint32_t init)
{
	uint64_t k;

	RTE_SET_USED(len);
	memcpy(&k, key, sizeof(k));
	return rte_hash_crc_8byte(k, init);
}

static inline void
key_set(struct neigh_key *k, uint8_t iface, uint32_t ip)
{
	k->ip = ip;
	k->iface = iface;
}

static inline bool
entry_live(const struct neigh_entry *e)
{
	return !e->dead && entry_state(e) != NEIGH_FREE;
}

/* Position of (iface, ip), or -1. */
static int32_t
neigh_find(const struct neigh_table *t, uint8_t iface, uint32_t ip)
{
	struct neigh_key k;
	int32_t pos;

	key_set(&k, iface, ip);
	pos = rte_hash_lookup(t->h, &k);
	if (pos < 0 || (uint32_t)pos >= t->nslots)
		return -1;
	return pos;
}

static inline struct rte_mbuf **
entry_queue(const struct neigh_table *t, uint32_t pos)
{
	return &t->q[(size_t)pos * t->qlen];
}

/* Free the packets an entry holds. */
static void
entry_drop_queue(struct neigh_table *t, uint32_t pos, uint64_t *counter)
{
	struct neigh_entry *e = &t->e[pos];
	struct rte_mbuf **q = entry_queue(t, pos);
	unsigned i;

	*counter += e->nq;
	for (i = 0; i < e->nq; i++) {
		rte_pktmbuf_free(q[i]);
		q[i] = NULL;
	}
	e->nq = 0;
}

/* A new entry in state s. Returns its position or -ENOSPC (counted). */
static int32_t
entry_new(struct neigh_table *t, uint8_t iface, uint32_t ip, enum neigh_state s,
	  const struct rte_ether_addr *mac, uint64_t now)
{
	struct neigh_entry *e;
	struct neigh_key k;
	int32_t pos;

	if (t->used >= t->max) {
		t->st.table_full++;
		return -ENOSPC;
	}
	key_set(&k, iface, ip);
	pos = rte_hash_add_key(t->h, &k);
	if (pos < 0 && rcu_defer_reclaim(t->dq) > 0)
		pos = rte_hash_add_key(t->h, &k);
	if (pos < 0 || (uint32_t)pos >= t->nslots) {
		/* Only when deleted positions pile up while a worker stalls. */
		t->st.table_full++;
		return -ENOSPC;
	}
	/* A reader finding the key before the word is set sees FREE: a miss. */
	e = &t->e[pos];
	e->ip = ip;
	e->iface = iface;
	e->tries = 0;
	e->nq = 0;
	e->dead = 0;
	e->confirmed = now;
	e->last_req = now;
	entry_publish(t, e, mac_word(mac, s));
	t->used++;
	return pos;
}

/*
 * Remove an entry in any state; its position is reused after a grace
 * period. The packets it still queued are freed and added to *counter.
 */
static void
entry_del(struct neigh_table *t, uint32_t pos, uint64_t *counter)
{
	struct neigh_entry *e = &t->e[pos];
	struct neigh_key k;

	entry_publish(t, e, mac_word(NULL, NEIGH_FREE));
	key_set(&k, e->iface, e->ip);
	rte_hash_del_key(t->h, &k);
	entry_drop_queue(t, pos, counter);
	e->dead = 1;
	t->n_dead++;
	t->used--;
	/* The queue holds every position: a failure (counted) only keeps this one out of use. */
	rcu_defer(t->dq, &pos);
}

/* Grace period over: the positions go back to the hash (control lcore: it reclaims alone). */
static void
neigh_dq_free(void *p, void *e, unsigned int n)
{
	struct neigh_table *t = p;
	const uint32_t *pos = e;
	unsigned i;

	for (i = 0; i < n; i++) {
		rte_hash_free_key_with_position(t->h, (int32_t)pos[i]);
		t->e[pos[i]].dead = 0;
		t->n_dead--;
	}
}

struct neigh_table *
neigh_create(const char *name, uint32_t max, uint32_t queue_len, uint32_t timeout_s,
	     struct rte_rcu_qsbr *qsbr, int socket)
{
	char nm[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct rte_hash_parameters hp;
	struct neigh_table *t;
	int32_t slots;
	int err;

	if (name == NULL || max == 0 || max > RTE_HASH_ENTRIES_MAX / 3) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("neigh_table", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	hp.entries = RTE_MAX(3 * max, 8u);
	hp.key_len = sizeof(struct neigh_key);
	hp.hash_func = neigh_hash;
	hp.socket_id = socket;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	t->h = rte_hash_create(&hp);
	if (t->h == NULL) {
		err = rte_errno;
		rte_free(t);
		rte_errno = err;
		return NULL;
	}
	slots = rte_hash_max_key_id(t->h);
	if (slots <= 0) {
		err = EINVAL;
		goto fail;
	}
	t->nslots = (uint32_t)slots;
	t->max = max;
	t->qlen = queue_len == 0 ? 1 : RTE_MIN(queue_len, (uint32_t)NEIGH_QUEUE_MAX);
	t->timeout = timeout_s;
	t->e = rte_zmalloc_socket("neigh_entries", sizeof(*t->e) * t->nslots,
				  RTE_CACHE_LINE_SIZE, socket);
	t->q = rte_zmalloc_socket("neigh_queues", sizeof(*t->q) * t->nslots * t->qlen,
				  RTE_CACHE_LINE_SIZE, socket);
	if (t->e == NULL || t->q == NULL) {
		err = ENOMEM;
		goto fail;
	}
	snprintf(nm, sizeof(nm), "%s_dq", name);
	t->dq = rcu_defer_create(nm, qsbr, t->nslots, sizeof(uint32_t), false, neigh_dq_free, t, socket);
	if (t->dq == NULL) {
		err = rte_errno;
		goto fail;
	}
	rte_log(RTE_LOG_INFO, neigh_logtype, "neigh: %s: %u entries, queue %u, timeout %u s\n", name, max, queue_len, timeout_s);
	return t;
fail:
	rcu_defer_free(t->dq);
	rte_free(t->e);
	rte_free(t->q);
	rte_hash_free(t->h);
	rte_free(t);
	rte_errno = err;
	return NULL;
}

void
neigh_free(struct neigh_table *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslots; i++)
		if (entry_live(&t->e[i]))
			entry_drop_queue(t, i, &t->st.removed_pkts);
	rcu_defer_free(t->dq);
	rte_hash_free(t->h);
	rte_free(t->e);
	rte_free(t->q);
	rte_free(t);
}

uint32_t
neigh_generation(const struct neigh_table *t)
{
	return __atomic_load_n(&t->gen, __ATOMIC_ACQUIRE);
}

int
neigh_lookup(const struct neigh_table *t, uint8_t iface, uint32_t ip, struct rte_ether_addr *mac)
{
	struct neigh_key k;
	enum neigh_state s;
	int32_t pos;
	uint64_t w;

	key_set(&k, iface, ip);
	pos = rte_hash_lookup(t->h, &k);
	if (pos < 0 || (uint32_t)pos >= t->nslots)
		return -ENOENT;
	w = __atomic_load_n(&t->e[pos].word, __ATOMIC_ACQUIRE);
	s = word_state(w);
	if (s != NEIGH_REACHABLE && s != NEIGH_STATIC)
		return -ENOENT;
	word_mac(w, mac);
	return 0;
}

int
neigh_update(struct neigh_table *t, uint8_t iface, uint32_t ip,
	     const struct rte_ether_addr *mac, bool is_static, bool create, uint64_t now,
	     struct rte_mbuf **out, unsigned out_max, unsigned *n_out)
{
	enum neigh_state s, ns = is_static ? NEIGH_STATIC : NEIGH_REACHABLE;
	struct neigh_entry *e;
	struct rte_mbuf **q;
	unsigned i, n = 0;
	int32_t pos;

	if (n_out != NULL)
		*n_out = 0;
	if (t == NULL || mac == NULL)
		return -EINVAL;
	pos = neigh_find(t, iface, ip);
	if (pos < 0) {
		if (!create)
			return -ENOENT;
		pos = entry_new(t, iface, ip, ns, mac, now);
		if (pos < 0)
			return pos;
		if (!is_static)
			t->st.learnt++;
		return 0;
	}
	e = &t->e[pos];
	s = entry_state(e);
	if (s == NEIGH_STATIC && !is_static)
		return 0;   /* ARP never changes a static entry */
	if (s == NEIGH_INCOMPLETE && !is_static)
		t->st.learnt++;
	e->confirmed = now;
	entry_publish(t, e, mac_word(mac, ns));
	/* Whatever waited for this neighbour can go now. */
	q = entry_queue(t, (uint32_t)pos);
	for (i = 0; i < e->nq; i++) {
		if (out != NULL && n < out_max) {
			out[n++] = q[i];
		} else {
			rte_pktmbuf_free(q[i]);
			t->st.queue_full++;
		}
		q[i] = NULL;
	}
	e->nq = 0;
	if (n_out != NULL)
		*n_out = n;
	return 0;
}

int
neigh_queue(struct neigh_table *t, uint8_t iface, uint32_t ip, struct rte_mbuf *m, uint64_t now)
{
	struct neigh_entry *e;
	enum neigh_state s;
	int32_t pos;

	if (t == NULL || m == NULL)
		return -EINVAL;
	pos = neigh_find(t, iface, ip);
	if (pos >= 0) {
		e = &t->e[pos];
		s = entry_state(e);
		if (s == NEIGH_REACHABLE || s == NEIGH_STATIC)
			return -EEXIST;
		if (e->nq >= t->qlen) {
			t->st.queue_full++;
			return -ENOSPC;
		}
		entry_queue(t, (uint32_t)pos)[e->nq++] = m;
		return 0;
	}
	pos = entry_new(t, iface, ip, NEIGH_INCOMPLETE, NULL, now);
	if (pos < 0)
		return -ENOSPC;
	e = &t->e[pos];
	e->tries = 1;           /* the caller sends the first request */
	e->last_req = now;
	t->st.requests_sent++;
	entry_queue(t, (uint32_t)pos)[e->nq++] = m;
	return 1;
}

void
neigh_tick(struct neigh_table *t, uint64_t now,
	   void (*resend)(uint8_t iface, uint32_t ip, void *arg), void *arg)
{
	struct neigh_entry *e;
	uint32_t i;

	if (t == NULL)
		return;
	rcu_defer_reclaim(t->dq);
	for (i = 0; i < t->nslots; i++) {
		e = &t->e[i];
		if (!entry_live(e))
			continue;
		switch (entry_state(e)) {
		case NEIGH_REACHABLE:
			/* A timeout of 0 disables ageing. */
			if (t->timeout != 0 && now >= e->confirmed &&
			    now - e->confirmed >= t->timeout) {
				entry_del(t, i, &t->st.removed_pkts);
				t->st.expired++;
			}
			break;
		case NEIGH_INCOMPLETE:
			if (now <= e->last_req)
				break;      /* at most one request a second */
			if (e->tries > NEIGH_RESENDS) {
				entry_del(t, i, &t->st.failed_pkts);   /* frees what was queued */
				t->st.failed++;
				break;
			}
			e->tries++;
			e->last_req = now;
			t->st.requests_sent++;
			if (resend != NULL)
				resend(e->iface, e->ip, arg);
			break;
		default:
			break;
		}
	}
}

int
neigh_del(struct neigh_table *t, uint8_t iface, uint32_t ip)
{
	int32_t pos;

	if (t == NULL)
		return -ENOENT;
	pos = neigh_find(t, iface, ip);
	if (pos < 0)
		return -ENOENT;
	entry_del(t, (uint32_t)pos, &t->st.removed_pkts);
	return 0;
}

unsigned
neigh_flush(struct neigh_table *t)
{
	unsigned n = 0;
	uint32_t i;

	if (t == NULL)
		return 0;
	for (i = 0; i < t->nslots; i++) {
		if (!entry_live(&t->e[i]) || entry_state(&t->e[i]) == NEIGH_STATIC)
			continue;
		entry_del(t, i, &t->st.removed_pkts);
		n++;
	}
	return n;
}

void
neigh_walk(const struct neigh_table *t, uint64_t now,
	   int (*fn)(const struct neigh_info *ni, void *arg), void *arg)
{
	const struct neigh_entry *e;
	struct neigh_info ni;
	uint32_t i;
	uint64_t w;

	if (t == NULL || fn == NULL)
		return;
	for (i = 0; i < t->nslots; i++) {
		e = &t->e[i];
		if (!entry_live(e))
			continue;
		w = __atomic_load_n(&e->word, __ATOMIC_RELAXED);
		memset(&ni, 0, sizeof(ni));
		ni.ip = e->ip;
		ni.iface = e->iface;
		ni.state = word_state(w);
		word_mac(w, &ni.mac);
		if (ni.state != NEIGH_STATIC && now > e->confirmed)
			ni.age = (uint32_t)RTE_MIN(now - e->confirmed, (uint64_t)UINT32_MAX);
		ni.queued = e->nq;
		ni.tries = e->tries;
		if (fn(&ni, arg) != 0)
			return;
	}
}

void
neigh_usage(const struct neigh_table *t, uint32_t *used, uint32_t *max)
{
	if (used != NULL)
		*used = t != NULL ? t->used : 0;
	if (max != NULL)
		*max = t != NULL ? t->max : 0;
}

void
neigh_stats_get(const struct neigh_table *t, struct neigh_stats *st)
{
	if (st == NULL)
		return;
	if (t == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = t->st;
}

void
neigh_rcu_stats(const struct neigh_table *t, struct rcu_defer_stats *st)
{
	rcu_defer_stats_get(t != NULL ? t->dq : NULL, st);
}

void
neigh_set_timeout(struct neigh_table *t, uint32_t timeout_s)
{
	if (t != NULL)
		t->timeout = timeout_s;
}
