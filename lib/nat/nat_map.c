/* SPDX-License-Identifier: BSD-3-Clause */
/* Endpoint-independent mappings (nat_map.h). */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>

#include "nat_map.h"

#define MAP_NONE UINT32_MAX

struct map_ent {
	rte_be32_t in_ip;
	rte_be32_t pub_ip;
	rte_be16_t in_port;
	rte_be16_t pub_port;
	uint8_t proto;
	uint8_t used;
	uint16_t policy_id;
	uint32_t refs;
	uint32_t next_in;      /* chain of the inside index; free list when unused */
	uint32_t next_pub;     /* chain of the public index */
	uint32_t created;
};

struct nat_map {
	rte_spinlock_t lock;
	struct nat_table *nat;
	uint32_t max;
	uint32_t used;
	uint32_t mask;         /* buckets - 1 */
	uint32_t free_head;
	uint64_t created, freed, reused, failed, inbound, hairpin;
	uint32_t *b_in;
	uint32_t *b_pub;
	struct map_ent ent[];
};

static inline uint32_t
map_hash(uint8_t proto, rte_be32_t ip, rte_be16_t port, uint32_t mask)
{
	uint32_t h = (ip * 2654435761u) ^ ((uint32_t)port << 8 | proto) * 0x85ebca6bu;

	return (h ^ (h >> 15)) & mask;
}

struct nat_map *
nat_map_create(const char *name, struct nat_table *nt, uint32_t max, int socket)
{
	struct nat_map *m;
	uint32_t nb = 1, i;

	if (nt == NULL || max == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	while (nb < max)
		nb <<= 1;
	m = rte_zmalloc_socket(name, sizeof(*m) + (size_t)max * sizeof(m->ent[0]), RTE_CACHE_LINE_SIZE,
			       socket);
	if (m == NULL)
		goto nomem;
	m->b_in = rte_malloc_socket(name, nb * sizeof(uint32_t), RTE_CACHE_LINE_SIZE, socket);
	m->b_pub = rte_malloc_socket(name, nb * sizeof(uint32_t), RTE_CACHE_LINE_SIZE, socket);
	if (m->b_in == NULL || m->b_pub == NULL)
		goto nomem;
	rte_spinlock_init(&m->lock);
	m->nat = nt;
	m->max = max;
	m->mask = nb - 1;
	for (i = 0; i < nb; i++)
		m->b_in[i] = m->b_pub[i] = MAP_NONE;
	for (i = 0; i < max; i++)
		m->ent[i].next_in = i + 1 < max ? i + 1 : MAP_NONE;
	m->free_head = 0;
	return m;
nomem:
	nat_map_free(m);
	rte_errno = ENOMEM;
	return NULL;
}

void
nat_map_free(struct nat_map *m)
{
	if (m == NULL)
		return;
	rte_free(m->b_in);
	rte_free(m->b_pub);
	rte_free(m);
}

/* The mapping of an inside endpoint, MAP_NONE: lock held. */
static uint32_t
find_in(const struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port)
{
	uint32_t i;

	for (i = m->b_in[map_hash(proto, ip, port, m->mask)]; i != MAP_NONE; i = m->ent[i].next_in)
		if (m->ent[i].in_ip == ip && m->ent[i].in_port == port && m->ent[i].proto == proto)
			return i;
	return MAP_NONE;
}

/* The mapping of a public endpoint, MAP_NONE: lock held. */
static uint32_t
find_pub(const struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port)
{
	uint32_t i;

	for (i = m->b_pub[map_hash(proto, ip, port, m->mask)]; i != MAP_NONE; i = m->ent[i].next_pub)
		if (m->ent[i].pub_ip == ip && m->ent[i].pub_port == port && m->ent[i].proto == proto)
			return i;
	return MAP_NONE;
}

int
nat_map_take_in(struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port,
		rte_be32_t *pub_ip, rte_be16_t *pub_port)
{
	uint32_t i;

	rte_spinlock_lock(&m->lock);
	i = find_in(m, proto, ip, port);
	if (i != MAP_NONE) {
		m->ent[i].refs++;
		m->reused++;
		*pub_ip = m->ent[i].pub_ip;
		*pub_port = m->ent[i].pub_port;
	}
	rte_spinlock_unlock(&m->lock);
	return i != MAP_NONE ? 0 : -ENOENT;
}

int
nat_map_add(struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port,
	    rte_be32_t *pub_ip, rte_be16_t *pub_port, uint16_t policy_id, uint32_t now)
{
	struct map_ent *e;
	uint32_t i, h;
	int rc = 0;

	rte_spinlock_lock(&m->lock);
	i = find_in(m, proto, ip, port);
	if (i != MAP_NONE) {
		/* Another worker's session of the same endpoint was first. */
		m->ent[i].refs++;
		m->reused++;
		*pub_ip = m->ent[i].pub_ip;
		*pub_port = m->ent[i].pub_port;
		rc = 1;
	} else if (m->free_head == MAP_NONE) {
		m->failed++;
		rc = -ENOSPC;
	} else {
		i = m->free_head;
		e = &m->ent[i];
		m->free_head = e->next_in;
		e->in_ip = ip;
		e->in_port = port;
		e->pub_ip = *pub_ip;
		e->pub_port = *pub_port;
		e->proto = proto;
		e->used = 1;
		e->policy_id = policy_id;
		e->refs = 1;
		e->created = now;
		h = map_hash(proto, ip, port, m->mask);
		e->next_in = m->b_in[h];
		m->b_in[h] = i;
		h = map_hash(proto, *pub_ip, *pub_port, m->mask);
		e->next_pub = m->b_pub[h];
		m->b_pub[h] = i;
		m->used++;
		m->created++;
	}
	rte_spinlock_unlock(&m->lock);
	return rc;
}

int
nat_map_take_pub(struct nat_map *m, uint8_t proto, rte_be32_t pub_ip, rte_be16_t pub_port,
		 rte_be32_t *ip, rte_be16_t *port, uint16_t *policy_id, bool hairpin)
{
	uint32_t i;

	rte_spinlock_lock(&m->lock);
	i = find_pub(m, proto, pub_ip, pub_port);
	if (i != MAP_NONE) {
		m->ent[i].refs++;
		*ip = m->ent[i].in_ip;
		*port = m->ent[i].in_port;
		*policy_id = m->ent[i].policy_id;
		if (hairpin)
			m->hairpin++;
		else
			m->inbound++;
	}
	rte_spinlock_unlock(&m->lock);
	return i != MAP_NONE ? 0 : -ENOENT;
}

/* Take entry i out of the chain starting at *head whose links are at offset off: lock held. */
static void
unchain(struct nat_map *m, uint32_t *head, size_t off, uint32_t i)
{
	uint32_t *link = head;

	while (*link != MAP_NONE && *link != i)
		link = (uint32_t *)((char *)&m->ent[*link] + off);
	if (*link == i)
		*link = *(uint32_t *)((char *)&m->ent[i] + off);
}

void
nat_map_put(struct nat_map *m, uint8_t proto, rte_be32_t ip, rte_be16_t port)
{
	struct map_ent *e;
	rte_be32_t pub_ip = 0;
	rte_be16_t pub_port = 0;
	uint32_t i;

	rte_spinlock_lock(&m->lock);
	i = find_in(m, proto, ip, port);
	if (i != MAP_NONE && --m->ent[i].refs == 0) {
		e = &m->ent[i];
		pub_ip = e->pub_ip;
		pub_port = e->pub_port;
		unchain(m, &m->b_in[map_hash(proto, ip, port, m->mask)],
			offsetof(struct map_ent, next_in), i);
		unchain(m, &m->b_pub[map_hash(proto, pub_ip, pub_port, m->mask)],
			offsetof(struct map_ent, next_pub), i);
		e->used = 0;
		e->next_in = m->free_head;
		m->free_head = i;
		m->used--;
		m->freed++;
	}
	rte_spinlock_unlock(&m->lock);
	if (pub_port != 0)
		nat_port_free(m->nat, rte_be_to_cpu_32(pub_ip), rte_be_to_cpu_16(pub_port));
}

unsigned
nat_map_list(struct nat_map *m, uint32_t *pos, struct nat_map_info *out, unsigned n)
{
	unsigned k = 0;
	uint32_t i;

	/* A bounded scan under the lock: workers making sessions wait for it. */
	rte_spinlock_lock(&m->lock);
	for (i = *pos; i < m->max && i - *pos < NAT_MAP_LIST_SLOTS && k < n; i++) {
		const struct map_ent *e = &m->ent[i];

		if (!e->used)
			continue;
		out[k++] = (struct nat_map_info){
			.in_ip = e->in_ip, .pub_ip = e->pub_ip, .in_port = e->in_port,
			.pub_port = e->pub_port, .proto = e->proto, .policy_id = e->policy_id,
			.refs = e->refs, .created = e->created,
		};
	}
	rte_spinlock_unlock(&m->lock);
	*pos = i;
	return k;
}

void
nat_map_stats(const struct nat_map *m, struct nat_map_stats *st)
{
	st->used = __atomic_load_n(&m->used, __ATOMIC_RELAXED);
	st->max = m->max;
	st->created = __atomic_load_n(&m->created, __ATOMIC_RELAXED);
	st->freed = __atomic_load_n(&m->freed, __ATOMIC_RELAXED);
	st->reused = __atomic_load_n(&m->reused, __ATOMIC_RELAXED);
	st->failed = __atomic_load_n(&m->failed, __ATOMIC_RELAXED);
	st->inbound = __atomic_load_n(&m->inbound, __ATOMIC_RELAXED);
	st->hairpin = __atomic_load_n(&m->hairpin, __ATOMIC_RELAXED);
}
