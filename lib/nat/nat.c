/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_log.h>

#include "nat.h"

RTE_LOG_REGISTER(nat_logtype, dpnat.nat, NOTICE);

#define NAT_NPORTS  (NAT_PORT_MAX - NAT_PORT_MIN + 1)       /* 64512 */
#define NAT_WORDS   ((NAT_NPORTS + 63) / 64)
#define NAT_SWORDS  ((NAT_WORDS + 63) / 64)                 /* summary: a bit per word */
#define NAT_HSIZE   8192                                    /* ip -> index, open addressing */

/* What one worker owns of one address: written by that worker alone, but for free (any thread, atomic). */
struct nat_slice {
	uint32_t first;       /* first bit of the slice */
	uint32_t count;       /* bits in the slice */
	uint32_t cursor;      /* next bit to try, relative to first */
	uint32_t free;        /* atomic: clear bits, counted after the clear (never more than there are) */
	uint64_t failed;
} __rte_cache_aligned;

struct nat_addr {
	uint32_t ip;
	uint32_t used;        /* atomic: ports in use */
	uint64_t bits[NAT_WORDS];   /* bit set = port in use; set by owners, cleared by anyone */
	/*
	 * Bit set = that word of bits is full: set by the owner that filled it
	 * (which looks again and takes it back if a port was freed meanwhile),
	 * cleared by whoever frees a port in it after clearing the port's bit.
	 * A set bit is never stale for long, a clear one only costs a look.
	 */
	uint64_t full[NAT_SWORDS];
	struct nat_slice slice[FLOW_MAX_WORKERS];
};

struct nat_table {
	unsigned n_workers;
	uint32_t max;
	uint32_t n;
	int32_t hash[NAT_HSIZE];
	struct nat_addr *addrs[];
};

static inline unsigned
nat_hslot(uint32_t ip)
{
	return (ip * 2654435761u) >> 19;   /* 13 bits */
}

struct nat_table *
nat_create(const char *name, unsigned n_workers, uint32_t max_addrs, int socket)
{
	struct nat_table *nt;
	unsigned i;

	if (n_workers == 0 || n_workers > FLOW_MAX_WORKERS || max_addrs == 0 ||
	    max_addrs > NAT_MAX_ADDRS) {
		rte_errno = EINVAL;
		return NULL;
	}
	nt = rte_zmalloc_socket(name, sizeof(*nt) + max_addrs * sizeof(nt->addrs[0]),
				RTE_CACHE_LINE_SIZE, socket);
	if (nt == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	nt->n_workers = n_workers;
	nt->max = max_addrs;
	for (i = 0; i < NAT_HSIZE; i++)
		nt->hash[i] = -1;
	rte_log(RTE_LOG_INFO, nat_logtype, "nat: %s: up to %u public addresses, %u workers\n", name, max_addrs, n_workers);
	return nt;
}

void
nat_free(struct nat_table *nt)
{
	unsigned i;

	if (nt == NULL)
		return;
	for (i = 0; i < nt->n; i++)
		rte_free(nt->addrs[i]);
	rte_free(nt);
}

int
nat_addr_find(const struct nat_table *nt, uint32_t ip)
{
	unsigned h = nat_hslot(ip), i;

	for (i = 0; i < NAT_HSIZE; i++, h = (h + 1) & (NAT_HSIZE - 1)) {
		int32_t v = nt->hash[h];

		if (v < 0)
			return -ENOENT;
		if (nt->addrs[v]->ip == ip)
			return v;
	}
	return -ENOENT;
}

int
nat_addr_add(struct nat_table *nt, uint32_t ip)
{
	struct nat_addr *a;
	unsigned h, w, span;
	int idx = nat_addr_find(nt, ip);

	if (idx >= 0)
		return idx;
	if (nt->n >= nt->max)
		return -ENOSPC;
	a = rte_zmalloc("nat_addr", sizeof(*a), RTE_CACHE_LINE_SIZE);
	if (a == NULL)
		return -ENOMEM;
	a->ip = ip;
	/* Equal slices; the last worker takes the remainder. */
	span = NAT_NPORTS / nt->n_workers;
	for (w = 0; w < nt->n_workers; w++) {
		a->slice[w].first = w * span;
		a->slice[w].count = w + 1 == nt->n_workers ? NAT_NPORTS - w * span : span;
		a->slice[w].free = a->slice[w].count;
	}
	/* Bits past the last port never get handed out; words past the last are full. */
	if (NAT_NPORTS % 64)
		a->bits[NAT_WORDS - 1] = ~0ULL << (NAT_NPORTS % 64);
	if (NAT_WORDS % 64)
		a->full[NAT_SWORDS - 1] = ~0ULL << (NAT_WORDS % 64);
	nt->addrs[nt->n] = a;
	for (h = nat_hslot(ip); nt->hash[h] >= 0; h = (h + 1) & (NAT_HSIZE - 1))
		;
	/* Publish the address before the hash slot that finds it. */
	__atomic_store_n(&nt->hash[h], (int32_t)nt->n, __ATOMIC_RELEASE);
	return (int)nt->n++;
}

uint32_t
nat_addr_ip(const struct nat_table *nt, unsigned idx)
{
	return idx < nt->n ? nt->addrs[idx]->ip : 0;
}

unsigned
nat_addr_count(const struct nat_table *nt)
{
	return nt->n;
}

unsigned
nat_addr_room(const struct nat_table *nt)
{
	return nt->max - nt->n;
}

int
nat_port_alloc(struct nat_table *nt, unsigned idx, unsigned w)
{
	struct nat_addr *a;
	struct nat_slice *sl;
	uint32_t i;

	if (idx >= nt->n || w >= nt->n_workers)
		return -EINVAL;
	a = nt->addrs[idx];
	sl = &a->slice[w];
	/* An exhausted slice refuses at once: a refused flow costs no scan. */
	if (__atomic_load_n(&sl->free, __ATOMIC_ACQUIRE) == 0) {
		sl->failed++;
		return -ENOSPC;
	}
	/*
	 * Round robin from the cursor. Full words are skipped through the
	 * summary (64 at a time where it is all full), free bits found with
	 * one count of trailing zeros: a few dozen steps at most, however full.
	 */
	for (i = 0; i < sl->count;) {
		/* cursor and i are below count: no division on the way */
		uint32_t rel = sl->cursor + i >= sl->count ? sl->cursor + i - sl->count : sl->cursor + i;
		uint32_t bit = sl->first + rel, wi = bit / 64, left = sl->count - rel, next;
		uint64_t sw = __atomic_load_n(&a->full[wi / 64], __ATOMIC_SEQ_CST) >> (wi % 64);
		uint64_t *word = &a->bits[wi], w0, clear;

		if (sw & 1) {
			/* This word is full: on to the next word the summary says is not. */
			next = sw == ~0ULL >> (wi % 64) ? 64 - wi % 64 : (uint32_t)__builtin_ctzll(~sw);
			i += RTE_MIN(next * 64 - bit % 64, left);
			continue;
		}
		w0 = __atomic_load_n(word, __ATOMIC_SEQ_CST);
		clear = ~w0 & (~0ULL << (bit % 64));
		if (clear == 0 || (uint32_t)__builtin_ctzll(clear) - bit % 64 >= left) {
			i += RTE_MIN(64 - bit % 64, left);   /* none here before the slice's end */
			continue;
		}
		i += (uint32_t)__builtin_ctzll(clear) - bit % 64;
		bit = sl->first + rel + (uint32_t)__builtin_ctzll(clear) - bit % 64;
		if (__atomic_fetch_or(word, 1ULL << (bit % 64), __ATOMIC_SEQ_CST) & (1ULL << (bit % 64)))
			continue;   /* another owner of a shared word took it: look again */
		if (__atomic_load_n(word, __ATOMIC_SEQ_CST) == ~0ULL) {
			__atomic_fetch_or(&a->full[wi / 64], 1ULL << (wi % 64), __ATOMIC_SEQ_CST);
			/* A port freed between the two: the word is not full after all. */
			if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != ~0ULL)
				__atomic_fetch_and(&a->full[wi / 64], ~(1ULL << (wi % 64)),
						   __ATOMIC_SEQ_CST);
		}
		sl->cursor = bit - sl->first + 1 == sl->count ? 0 : bit - sl->first + 1;
		__atomic_fetch_sub(&sl->free, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&a->used, 1, __ATOMIC_RELAXED);
		return (int)(NAT_PORT_MIN + bit);
	}
	sl->failed++;
	return -ENOSPC;
}

/* The worker whose slice holds port bit bit. */
static inline unsigned
slice_of(const struct nat_table *nt, uint32_t bit)
{
	return RTE_MIN(bit / (NAT_NPORTS / nt->n_workers), nt->n_workers - 1);
}

int
nat_port_reserve(struct nat_table *nt, uint32_t ip, uint16_t port)
{
	int idx = nat_addr_find(nt, ip);
	struct nat_addr *a;
	uint32_t bit, wi;
	uint64_t mask;

	if (idx < 0 || port < NAT_PORT_MIN)
		return -ENOENT;
	a = nt->addrs[idx];
	bit = (uint32_t)port - NAT_PORT_MIN;
	wi = bit / 64;
	mask = 1ULL << (bit % 64);
	if (__atomic_fetch_or(&a->bits[wi], mask, __ATOMIC_SEQ_CST) & mask)
		return -EEXIST;
	/* As an owner does: a word it filled is marked full, unless a port was freed meanwhile. */
	if (__atomic_load_n(&a->bits[wi], __ATOMIC_SEQ_CST) == ~0ULL) {
		__atomic_fetch_or(&a->full[wi / 64], 1ULL << (wi % 64), __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&a->bits[wi], __ATOMIC_SEQ_CST) != ~0ULL)
			__atomic_fetch_and(&a->full[wi / 64], ~(1ULL << (wi % 64)), __ATOMIC_SEQ_CST);
	}
	__atomic_fetch_sub(&a->slice[slice_of(nt, bit)].free, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->used, 1, __ATOMIC_RELAXED);
	return 0;
}

int
nat_port_free(struct nat_table *nt, uint32_t ip, uint16_t port)
{
	int idx = nat_addr_find(nt, ip);
	struct nat_addr *a;
	uint32_t bit;
	uint64_t mask;

	if (idx < 0 || port < NAT_PORT_MIN)
		return -ENOENT;
	a = nt->addrs[idx];
	bit = (uint32_t)port - NAT_PORT_MIN;
	mask = 1ULL << (bit % 64);
	if (!(__atomic_fetch_and(&a->bits[bit / 64], ~mask, __ATOMIC_SEQ_CST) & mask))
		return -ENOENT;   /* was not in use: a double free, refused */
	/* After the port's bit: an owner that marks the word full meanwhile sees the port. */
	if (__atomic_load_n(&a->full[bit / 4096], __ATOMIC_SEQ_CST) & (1ULL << (bit / 64 % 64)))
		__atomic_fetch_and(&a->full[bit / 4096], ~(1ULL << (bit / 64 % 64)), __ATOMIC_SEQ_CST);
	/* Counted after the clear, so an owner that sees it free finds the bit. */
	__atomic_fetch_add(&a->slice[slice_of(nt, bit)].free, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&a->used, 1, __ATOMIC_RELAXED);
	return 0;
}

void
nat_addr_info(const struct nat_table *nt, unsigned idx, struct nat_addr_info *info)
{
	const struct nat_addr *a;
	unsigned w;

	memset(info, 0, sizeof(*info));
	if (idx >= nt->n)
		return;
	a = nt->addrs[idx];
	info->ip = a->ip;
	info->used = __atomic_load_n(&a->used, __ATOMIC_RELAXED);
	info->size = NAT_NPORTS;
	for (w = 0; w < nt->n_workers; w++)
		info->failed += a->slice[w].failed;
}

/* ---- policies ---- */

static const struct nat_service nat_services[] = {
	{ "ANY",    0,           0,    0 },
	{ "PPTP",   IPPROTO_TCP, 1723, IPPROTO_GRE },
	{ "HTTP",   IPPROTO_TCP, 80,   0 },
	{ "HTTPS",  IPPROTO_TCP, 443,  0 },
	{ "FTP",    IPPROTO_TCP, 21,   0 },
	{ "SSH",    IPPROTO_TCP, 22,   0 },
	{ "TELNET", IPPROTO_TCP, 23,   0 },
	{ "SMTP",   IPPROTO_TCP, 25,   0 },
	{ "DNS",    IPPROTO_UDP, 53,   0 },
	{ "ICMP",   IPPROTO_ICMP, 0,   0 },
	{ "PING",   IPPROTO_ICMP, 0,   0 },
	{ "ICMP-ANY", IPPROTO_ICMP, 0, 0 },
	{ "TCP-ANY", IPPROTO_TCP, 0,   0 },
	{ "UDP-ANY", IPPROTO_UDP, 0,   0 },
};

const struct nat_service *
nat_service_find(const char *name)
{
	unsigned i;

	for (i = 0; i < RTE_DIM(nat_services); i++)
		if (strcasecmp(name, nat_services[i].name) == 0)
			return &nat_services[i];
	return NULL;
}

static inline bool
svc_match(const struct nat_service *svc, uint8_t proto, rte_be16_t dport)
{
	if (svc == NULL || svc->proto == 0)
		return true;
	if (svc->proto2 != 0 && proto == svc->proto2)
		return true;
	if (proto != svc->proto)
		return false;
	return svc->port == 0 || rte_be_to_cpu_16(dport) == svc->port;
}

const struct nat_policy *
nat_policy_match(const struct nat_policy_set *set, uint8_t from_zone, uint8_t to_zone,
		 uint8_t proto, rte_be16_t dport)
{
	unsigned i;

	for (i = 0; i < set->n; i++) {
		const struct nat_policy *p = &set->p[i];

		if (p->from_zone == from_zone && p->to_zone == to_zone &&
		    svc_match(p->svc, proto, dport))
			return p;
	}
	return NULL;
}
