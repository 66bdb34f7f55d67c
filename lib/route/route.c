/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interfaces, zones and IPv4 routes.
 *
 * Concurrency: only the control lcore calls the writers; workers call
 * route_lookup() (and route_iface_get()) at any time without a lock.
 *
 *  - A route's next hop is an index into nh[], a small array of 64-bit words
 *    {valid, iface, gateway} that workers read with one atomic load, so they
 *    never see a torn next hop. Next hops are shared between routes through
 *    reference counts. A slot is written before any LPM entry points at it and
 *    is never rewritten while a route references it.
 *  - Reclamation (docs/architecture.md): a worker may have read an LPM entry
 *    just before the route went and read the next-hop slot after it. A slot
 *    whose last reference goes is therefore handed to the reclamation queue
 *    (rcu_defer, on the workers' qsbr) and given out again only after every
 *    worker passed a quiescent state; rte_lpm frees its tbl8 groups the same
 *    way (rte_lpm_rcu_qsbr_add, defer-queue mode). So a lookup racing any
 *    change finds a next hop that one of the routes valid during the change
 *    named: the old one or the new one, never a third.
 *  - A replaced route (route_replace) changes its LPM entries one by one, each
 *    atomically, from the old next hop to the new: no lookup misses between.
 *  - rte_lpm has no depth 0, so the default route lives outside the LPM in
 *    default_nh, read atomically when the LPM misses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_log.h>

#include "rcu_defer.h"
#include "route.h"

RTE_LOG_REGISTER(route_logtype, dpnat.route, NOTICE);

#define ROUTE_MAX_NH     256                    /* distinct {iface, gateway} pairs */
#define NH_VALID         (UINT64_C(1) << 40)
#define NH_NONE          UINT32_MAX             /* no default route */

/* A static route as kept for route_walk() and route_del(). */
struct route_static {
	uint32_t prefix;
	uint32_t gateway;
	uint32_t nh;
	uint8_t plen;
	uint8_t iface;
};

/* The connected route of one interface. */
struct route_conn {
	bool on;
	uint8_t plen;
	uint32_t prefix;
	uint32_t nh;
};

struct route_table {
	struct rte_lpm *lpm;
	struct route_static *st;       /* sorted by (prefix, plen) */
	uint32_t max_routes;
	uint32_t n_static;
	uint32_t n_conn;
	uint32_t default_nh;           /* nh index of 0.0.0.0/0, NH_NONE if none (atomic) */
	uint32_t nh_cursor;            /* where the next free next-hop search starts */
	unsigned n_zones;
	bool iface_used[ROUTE_MAX_IFACES];
	struct route_iface ifaces[ROUTE_MAX_IFACES];
	struct route_conn conn[ROUTE_MAX_IFACES];
	char zones[ROUTE_MAX_ZONES][ROUTE_NAME_LEN];
	uint32_t nh_ref[ROUTE_MAX_NH];
	uint8_t nh_wait[ROUTE_MAX_NH]; /* unreferenced, waiting for its grace period: not handed out */
	uint64_t nh[ROUTE_MAX_NH];     /* NH_VALID | iface << 32 | gateway (atomic) */
	struct rcu_defer *nh_dq;       /* next-hop slots waiting for their grace period */
	uint32_t gen;                  /* bumped after every change readers may have cached (atomic) */
};

static inline uint32_t
plen_mask(uint8_t plen)
{
	return plen == 0 ? 0 : UINT32_MAX << (32 - plen);
}

static inline uint64_t
nh_word(uint8_t iface, uint32_t gateway)
{
	return NH_VALID | ((uint64_t)iface << 32) | gateway;
}

static int
route_cmp(uint32_t pa, uint8_t la, uint32_t pb, uint8_t lb)
{
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (la != lb)
		return la < lb ? -1 : 1;
	return 0;
}

/* Free slot search from the cursor; -1 if every slot is referenced or waiting. */
static int
nh_free_slot(const struct route_table *rt)
{
	uint32_t i, idx;

	for (i = 0; i < ROUTE_MAX_NH; i++) {
		idx = (rt->nh_cursor + i) % ROUTE_MAX_NH;
		if (rt->nh_ref[idx] == 0 && !rt->nh_wait[idx])
			return (int)idx;
	}
	return -1;
}

/* A next-hop index for (iface, gateway): shared if one exists, else a new slot. */
static int
nh_get(struct route_table *rt, uint8_t iface, uint32_t gateway)
{
	uint64_t w = nh_word(iface, gateway);
	uint32_t i, idx;
	int f;

	for (i = 0; i < ROUTE_MAX_NH; i++)
		if (rt->nh_ref[i] != 0 && rt->nh[i] == w) {
			rt->nh_ref[i]++;
			return (int)i;
		}
	f = nh_free_slot(rt);
	if (f < 0 && rcu_defer_reclaim(rt->nh_dq) > 0)
		f = nh_free_slot(rt);
	if (f < 0)
		return -ENOSPC;   /* all referenced, or some still read by a stalled worker */
	idx = (uint32_t)f;
	/* Published before any LPM entry refers to it. */
	__atomic_store_n(&rt->nh[idx], w, __ATOMIC_RELEASE);
	rt->nh_ref[idx] = 1;
	rt->nh_cursor = (idx + 1) % ROUTE_MAX_NH;
	return (int)idx;
}

/* Tell readers that cached a lookup or an interface that they must look again. */
static inline void
changed(struct route_table *rt)
{
	__atomic_fetch_add(&rt->gen, 1, __ATOMIC_RELEASE);
}

/* Grace period over: the slots can be handed out again (control lcore: it reclaims alone). */
static void
nh_dq_free(void *p, void *e, unsigned int n)
{
	struct route_table *rt = p;
	const uint32_t *idx = e;
	unsigned i;

	for (i = 0; i < n; i++)
		rt->nh_wait[idx[i]] = 0;
}

/* Drop one reference; the last one's slot keeps its contents for late readers, a grace period long. */
static void
nh_put(struct route_table *rt, uint32_t idx)
{
	if (idx >= ROUTE_MAX_NH || rt->nh_ref[idx] == 0 || --rt->nh_ref[idx] > 0)
		return;
	rt->nh_wait[idx] = 1;
	/* The queue holds every slot: a failure (counted) only keeps the slot out of use. */
	rcu_defer(rt->nh_dq, &idx);
}

static int
lpm_install(struct route_table *rt, uint32_t prefix, uint8_t plen, uint32_t nh)
{
	if (plen == 0) {
		__atomic_store_n(&rt->default_nh, nh, __ATOMIC_RELEASE);
		return 0;
	}
	return rte_lpm_add(rt->lpm, prefix, plen, nh);
}

static void
lpm_uninstall(struct route_table *rt, uint32_t prefix, uint8_t plen)
{
	if (plen == 0)
		__atomic_store_n(&rt->default_nh, NH_NONE, __ATOMIC_RELEASE);
	else
		rte_lpm_delete(rt->lpm, prefix, plen);
}

/* Index of the static route prefix/plen, or where it would be inserted (*found false). */
static uint32_t
static_find(const struct route_table *rt, uint32_t prefix, uint8_t plen, bool *found)
{
	uint32_t lo = 0, hi = rt->n_static;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = route_cmp(rt->st[mid].prefix, rt->st[mid].plen, prefix, plen);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Is prefix/plen already a route (connected routes of skip_iface excepted)? */
static bool
route_exists(const struct route_table *rt, uint32_t prefix, uint8_t plen, unsigned skip_iface)
{
	unsigned i;
	bool found;

	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		if (i != skip_iface && rt->conn[i].on && rt->conn[i].prefix == prefix &&
		    rt->conn[i].plen == plen)
			return true;
	static_find(rt, prefix, plen, &found);
	return found;
}

struct route_table *
route_create(const char *name, uint32_t max_routes, struct rte_rcu_qsbr *qsbr, int socket)
{
	struct rte_lpm_rcu_config rcfg;
	struct rte_lpm_config cfg;
	struct route_table *rt;
	char nm[RTE_RCU_QSBR_DQ_NAMESIZE];
	int err;

	if (name == NULL || max_routes == 0 || max_routes > (1u << 20)) {
		rte_errno = EINVAL;
		return NULL;
	}
	rt = rte_zmalloc_socket("route_table", sizeof(*rt), RTE_CACHE_LINE_SIZE, socket);
	if (rt == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	rt->st = rte_zmalloc_socket("route_static", sizeof(*rt->st) * max_routes,
				    RTE_CACHE_LINE_SIZE, socket);
	if (rt->st == NULL) {
		rte_free(rt);
		rte_errno = ENOMEM;
		return NULL;
	}
	/*
	 * One spare rule for the add-before-delete of an address change; each
	 * rule longer than /24 needs at most one tbl8 group, and as many again
	 * may be waiting for their grace period after a change.
	 */
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_rules = max_routes + 1;
	cfg.number_tbl8s = 2 * (max_routes + 1);
	rt->lpm = rte_lpm_create(name, socket, &cfg);
	if (rt->lpm == NULL)
		goto fail;
	/* tbl8 groups: reused after a grace period, through rte_lpm's own queue on the same qsbr. */
	memset(&rcfg, 0, sizeof(rcfg));
	rcfg.v = qsbr;
	rcfg.mode = RTE_LPM_QSBR_MODE_DQ;
	if (qsbr != NULL && rte_lpm_rcu_qsbr_add(rt->lpm, &rcfg) != 0)
		goto fail;
	snprintf(nm, sizeof(nm), "%s_nh", name);
	rt->nh_dq = rcu_defer_create(nm, qsbr, ROUTE_MAX_NH, sizeof(uint32_t), false, nh_dq_free, rt,
				     socket);
	if (rt->nh_dq == NULL)
		goto fail;
	rt->max_routes = max_routes;
	rt->default_nh = NH_NONE;
	/* The predefined zones keep fixed ids; others get ids from 2 up. */
	snprintf(rt->zones[0], ROUTE_NAME_LEN, "Trust");
	snprintf(rt->zones[1], ROUTE_NAME_LEN, "Untrust");
	rt->n_zones = 2;
	rt->gen = 1;   /* never 0, the value a reader starts from */
	rte_log(RTE_LOG_INFO, route_logtype, "route: %s: up to %u routes\n", name, max_routes);
	return rt;
fail:
	err = rte_errno;
	route_free(rt);
	rte_errno = err;
	return NULL;
}

void
route_free(struct route_table *rt)
{
	if (rt == NULL)
		return;
	rte_lpm_free(rt->lpm);
	rcu_defer_free(rt->nh_dq);
	rte_free(rt->st);
	rte_free(rt);
}

int
route_iface_set(struct route_table *rt, unsigned ifindex, const struct route_iface *ifc)
{
	struct route_conn *old, want;
	unsigned i;
	int nh, rc;

	if (rt == NULL || ifc == NULL || ifindex >= ROUTE_MAX_IFACES)
		return -EINVAL;
	if (ifc->has_ip && (ifc->plen == 0 || ifc->plen > 32))
		return -EINVAL;
	if (ifc->name[0] != '\0')
		for (i = 0; i < ROUTE_MAX_IFACES; i++)
			if (i != ifindex && rt->iface_used[i] &&
			    strncmp(rt->ifaces[i].name, ifc->name, ROUTE_NAME_LEN) == 0)
				return -EEXIST;

	old = &rt->conn[ifindex];
	memset(&want, 0, sizeof(want));
	if (ifc->has_ip) {
		want.on = true;
		want.plen = ifc->plen;
		want.prefix = ifc->ip & plen_mask(ifc->plen);
	}
	if (want.on && old->on && want.prefix == old->prefix && want.plen == old->plen) {
		/* Same connected route, same next hop {ifindex, 0}: nothing to do. */
	} else {
		if (want.on) {
			if (route_exists(rt, want.prefix, want.plen, ifindex))
				return -EEXIST;
			if (!old->on && rt->n_conn + rt->n_static >= rt->max_routes)
				return -ENOSPC;
			nh = nh_get(rt, (uint8_t)ifindex, 0);
			if (nh < 0)
				return nh;
			/* Install the new route before removing the old one. */
			rc = lpm_install(rt, want.prefix, want.plen, (uint32_t)nh);
			if (rc < 0) {
				nh_put(rt, (uint32_t)nh);
				return rc;
			}
			want.nh = (uint32_t)nh;
		}
		if (old->on) {
			lpm_uninstall(rt, old->prefix, old->plen);
			nh_put(rt, old->nh);
			rt->n_conn--;
		}
		if (want.on)
			rt->n_conn++;
		*old = want;
	}
	rt->ifaces[ifindex] = *ifc;
	rt->ifaces[ifindex].name[ROUTE_NAME_LEN - 1] = '\0';
	rt->ifaces[ifindex].zone[ROUTE_NAME_LEN - 1] = '\0';
	if (!ifc->has_ip) {
		rt->ifaces[ifindex].ip = 0;
		rt->ifaces[ifindex].plen = 0;
	}
	rt->iface_used[ifindex] = true;
	changed(rt);
	return 0;
}

const struct route_iface *
route_iface_get(const struct route_table *rt, unsigned ifindex)
{
	if (rt == NULL || ifindex >= ROUTE_MAX_IFACES || !rt->iface_used[ifindex])
		return NULL;
	return &rt->ifaces[ifindex];
}

unsigned
route_iface_count(const struct route_table *rt)
{
	unsigned i;

	if (rt == NULL)
		return 0;
	for (i = ROUTE_MAX_IFACES; i > 0; i--)
		if (rt->iface_used[i - 1])
			return i;
	return 0;
}

int
route_iface_by_name(const struct route_table *rt, const char *name)
{
	unsigned i;

	if (rt == NULL || name == NULL || name[0] == '\0')
		return -1;
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		if (rt->iface_used[i] && strncmp(rt->ifaces[i].name, name, ROUTE_NAME_LEN) == 0)
			return (int)i;
	return -1;
}

int
route_iface_by_port(const struct route_table *rt, uint16_t port_id)
{
	unsigned i;

	if (rt == NULL || port_id == ROUTE_NO_PORT)
		return -1;
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		if (rt->iface_used[i] && rt->ifaces[i].port_id == port_id)
			return (int)i;
	return -1;
}

int
route_iface_by_addr(const struct route_table *rt, uint32_t ip)
{
	unsigned i;

	if (rt == NULL)
		return -1;
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		if (rt->iface_used[i] && rt->ifaces[i].has_ip && rt->ifaces[i].ip == ip)
			return (int)i;
	return -1;
}

int
route_zone_id(struct route_table *rt, const char *zone)
{
	unsigned i;

	if (rt == NULL || zone == NULL || zone[0] == '\0' || strlen(zone) >= ROUTE_NAME_LEN)
		return -EINVAL;
	/* ScreenOS zone names are not case sensitive ("untrust" is "Untrust"). */
	for (i = 0; i < rt->n_zones; i++)
		if (strcasecmp(rt->zones[i], zone) == 0)
			return (int)i;
	if (rt->n_zones >= ROUTE_MAX_ZONES)
		return -ENOSPC;
	snprintf(rt->zones[rt->n_zones], ROUTE_NAME_LEN, "%s", zone);
	return (int)rt->n_zones++;
}

const char *
route_zone_name(const struct route_table *rt, unsigned zone_id)
{
	if (rt == NULL || zone_id >= rt->n_zones)
		return "";
	return rt->zones[zone_id];
}

/* A next hop for (ifindex, gateway) installed for prefix/plen: its index, or -ENOSPC / -EINVAL. */
static int
static_install(struct route_table *rt, uint32_t prefix, uint8_t plen, unsigned ifindex,
	       uint32_t gateway)
{
	int nh = nh_get(rt, (uint8_t)ifindex, gateway), rc;

	if (nh < 0)
		return -ENOSPC;
	rc = lpm_install(rt, prefix, plen, (uint32_t)nh);
	if (rc < 0) {
		nh_put(rt, (uint32_t)nh);
		return rc == -EINVAL ? -EINVAL : -ENOSPC;
	}
	return nh;
}

int
route_add(struct route_table *rt, uint32_t prefix, uint8_t plen, unsigned ifindex, uint32_t gateway)
{
	struct route_static *s;
	uint32_t pos;
	bool found;
	int nh;

	if (rt == NULL || plen > 32 || ifindex >= ROUTE_MAX_IFACES || !rt->iface_used[ifindex])
		return -EINVAL;
	prefix &= plen_mask(plen);
	if (route_exists(rt, prefix, plen, ROUTE_MAX_IFACES))
		return -EEXIST;
	if (rt->n_conn + rt->n_static >= rt->max_routes)
		return -ENOSPC;
	nh = static_install(rt, prefix, plen, ifindex, gateway);
	if (nh < 0)
		return nh;
	pos = static_find(rt, prefix, plen, &found);
	memmove(&rt->st[pos + 1], &rt->st[pos], (rt->n_static - pos) * sizeof(*s));
	s = &rt->st[pos];
	s->prefix = prefix;
	s->plen = plen;
	s->iface = (uint8_t)ifindex;
	s->gateway = gateway;
	s->nh = (uint32_t)nh;
	rt->n_static++;
	changed(rt);
	return 0;
}

int
route_del(struct route_table *rt, uint32_t prefix, uint8_t plen)
{
	uint32_t pos;
	bool found;

	if (rt == NULL || plen > 32)
		return -ENOENT;
	prefix &= plen_mask(plen);
	pos = static_find(rt, prefix, plen, &found);
	if (!found)
		return -ENOENT;
	lpm_uninstall(rt, prefix, plen);
	nh_put(rt, rt->st[pos].nh);
	memmove(&rt->st[pos], &rt->st[pos + 1], (rt->n_static - pos - 1) * sizeof(rt->st[0]));
	rt->n_static--;
	changed(rt);
	return 0;
}

int
route_replace(struct route_table *rt, uint32_t prefix, uint8_t plen, unsigned ifindex,
	      uint32_t gateway)
{
	struct route_static *s;
	uint32_t pos, old;
	bool found;
	int nh;

	if (rt == NULL || plen > 32 || ifindex >= ROUTE_MAX_IFACES || !rt->iface_used[ifindex])
		return -EINVAL;
	prefix &= plen_mask(plen);
	pos = static_find(rt, prefix, plen, &found);
	if (!found)
		return -ENOENT;
	s = &rt->st[pos];
	if (s->iface == ifindex && s->gateway == gateway)
		return 0;
	/* The same rule with another next hop: each LPM entry moves atomically from old to new. */
	nh = static_install(rt, prefix, plen, ifindex, gateway);
	if (nh < 0)
		return nh;
	old = s->nh;
	s->iface = (uint8_t)ifindex;
	s->gateway = gateway;
	s->nh = (uint32_t)nh;
	nh_put(rt, old);
	changed(rt);
	return 0;
}

void
route_reclaim(struct route_table *rt)
{
	if (rt != NULL)
		rcu_defer_reclaim(rt->nh_dq);
}

void
route_rcu_stats(const struct route_table *rt, struct rcu_defer_stats *st)
{
	rcu_defer_stats_get(rt != NULL ? rt->nh_dq : NULL, st);
}

/* route_lookup's body, inlined into both entry points. */
static __rte_always_inline int
lookup(const struct route_table *rt, uint32_t dst, struct route_nh *nh)
{
	uint32_t idx;
	uint64_t w;

	if (rte_lpm_lookup(rt->lpm, dst, &idx) != 0) {
		idx = __atomic_load_n(&rt->default_nh, __ATOMIC_ACQUIRE);
		if (idx == NH_NONE)
			return -ENOENT;
	}
	if (unlikely(idx >= ROUTE_MAX_NH))
		return -ENOENT;
	w = __atomic_load_n(&rt->nh[idx], __ATOMIC_ACQUIRE);
	if (unlikely(!(w & NH_VALID)))
		return -ENOENT;
	nh->iface = (uint8_t)(w >> 32);
	nh->gateway = (uint32_t)w;
	return 0;
}

uint32_t
route_generation(const struct route_table *rt)
{
	return __atomic_load_n(&rt->gen, __ATOMIC_ACQUIRE);
}

int
route_lookup(const struct route_table *rt, uint32_t dst, struct route_nh *nh)
{
	return lookup(rt, dst, nh);
}

const struct route_iface *
route_lookup_iface(const struct route_table *rt, uint32_t dst, struct route_nh *nh, int *rc)
{
	*rc = lookup(rt, dst, nh);
	if (*rc != 0 || nh->iface >= ROUTE_MAX_IFACES || !rt->iface_used[nh->iface])
		return NULL;
	return &rt->ifaces[nh->iface];
}

static int
conn_cmp(const void *a, const void *b)
{
	const struct route_entry *x = a, *y = b;

	return route_cmp(x->prefix, x->plen, y->prefix, y->plen);
}

void
route_walk(const struct route_table *rt,
	   int (*fn)(const struct route_entry *e, void *arg), void *arg)
{
	struct route_entry conn[ROUTE_MAX_IFACES], e;
	unsigned i, n = 0;

	if (rt == NULL || fn == NULL)
		return;
	for (i = 0; i < ROUTE_MAX_IFACES; i++) {
		if (!rt->conn[i].on)
			continue;
		memset(&conn[n], 0, sizeof(conn[n]));
		conn[n].prefix = rt->conn[i].prefix;
		conn[n].plen = rt->conn[i].plen;
		conn[n].iface = (uint8_t)i;
		conn[n].gateway = 0;
		conn[n].connected = true;
		n++;
	}
	qsort(conn, n, sizeof(conn[0]), conn_cmp);
	for (i = 0; i < n; i++)
		if (fn(&conn[i], arg) != 0)
			return;
	for (i = 0; i < rt->n_static; i++) {
		memset(&e, 0, sizeof(e));
		e.prefix = rt->st[i].prefix;
		e.plen = rt->st[i].plen;
		e.iface = rt->st[i].iface;
		e.gateway = rt->st[i].gateway;
		e.connected = false;
		if (fn(&e, arg) != 0)
			return;
	}
}

unsigned
route_count(const struct route_table *rt)
{
	return rt == NULL ? 0 : rt->n_conn + rt->n_static;
}
