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
#include "rss.h"

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
	uint64_t spilled;     /* ports taken here for a flow that wanted another class */
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
	struct nat_slice slice[];   /* n_cls * n_workers: class c, worker w at c * n_workers + w */
};

/*
 * Ports by RSS class (nat_set_rss): the bitmap's bits are the ports sorted
 * by class, so that each (class, worker) slice is a run of bits and the
 * allocator above works unchanged. Without it: one class, bit = port - 1024.
 */
struct nat_table {
	unsigned n_workers;
	unsigned n_cls;                          /* classes: 1, or the queues' count */
	uint32_t cls_first[FLOW_MAX_WORKERS + 1];   /* first bit of each class; [n_cls] = NAT_NPORTS */
	uint16_t *bit_port;                      /* port of each bit, NULL: NAT_PORT_MIN + bit */
	uint16_t *port_bit;                      /* bit of each port (65536 entries) */
	struct rss_tbl *rss;                     /* the hash the classes come from */
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
	nt->n_cls = 1;
	nt->cls_first[1] = NAT_NPORTS;
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
	rte_free(nt->bit_port);
	rte_free(nt->port_bit);
	rte_free(nt->rss);
	rte_free(nt);
}

int
nat_set_rss(struct nat_table *nt, const uint8_t *key, unsigned n_cls)
{
	uint32_t count[FLOW_MAX_WORKERS] = { 0 }, at[FLOW_MAX_WORKERS];
	unsigned c, p;

	if (nt->n != 0 || !rss_queues_ok(n_cls) || n_cls > nt->n_workers || nt->rss != NULL)
		return -EINVAL;
	if (n_cls == 1)
		return 0;
	nt->rss = rte_malloc("nat_rss", sizeof(*nt->rss), RTE_CACHE_LINE_SIZE);
	nt->bit_port = rte_malloc("nat_bit_port", NAT_NPORTS * sizeof(uint16_t), 0);
	nt->port_bit = rte_malloc("nat_port_bit", 65536 * sizeof(uint16_t), 0);
	if (nt->rss == NULL || nt->bit_port == NULL || nt->port_bit == NULL) {
		rte_free(nt->rss);
		rte_free(nt->bit_port);
		rte_free(nt->port_bit);
		nt->rss = NULL;
		nt->bit_port = nt->port_bit = NULL;
		return -ENOMEM;
	}
	rss_tbl_init(nt->rss, key, RSS_KEY_LEN);
	for (p = NAT_PORT_MIN; p <= NAT_PORT_MAX; p++)
		count[rss_dport_part(nt->rss, (uint16_t)p) & (n_cls - 1)]++;
	for (c = 0; c < n_cls; c++) {
		nt->cls_first[c + 1] = nt->cls_first[c] + count[c];
		at[c] = nt->cls_first[c];
	}
	for (p = NAT_PORT_MIN; p <= NAT_PORT_MAX; p++) {
		c = rss_dport_part(nt->rss, (uint16_t)p) & (n_cls - 1);
		nt->bit_port[at[c]] = (uint16_t)p;
		nt->port_bit[p] = (uint16_t)at[c]++;
	}
	nt->n_cls = n_cls;
	return 0;
}

unsigned
nat_port_class(const struct nat_table *nt, unsigned w, rte_be32_t peer, rte_be32_t pub,
	       rte_be16_t peer_port)
{
	if (nt->n_cls == 1)
		return 0;
	return (w ^ rss_hash_l4(nt->rss, peer, pub, peer_port, 0)) & (nt->n_cls - 1);
}

bool
nat_addr_on_worker(const struct nat_table *nt, unsigned w, rte_be32_t peer, rte_be32_t pub)
{
	return nt->n_cls == 1 ||
	       ((rss_hash_ip(nt->rss, peer, pub) ^ w) & (nt->n_cls - 1)) == 0;
}

unsigned
nat_port_class_of(const struct nat_table *nt, uint16_t port)
{
	return nt->n_cls == 1 ? 0 : rss_dport_part(nt->rss, port) & (nt->n_cls - 1);
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
	unsigned h, w, c, span;
	int idx = nat_addr_find(nt, ip);

	if (idx >= 0)
		return idx;
	if (nt->n >= nt->max)
		return -ENOSPC;
	a = rte_zmalloc("nat_addr", sizeof(*a) + nt->n_cls * nt->n_workers * sizeof(a->slice[0]),
			RTE_CACHE_LINE_SIZE);
	if (a == NULL)
		return -ENOMEM;
	a->ip = ip;
	/* Each class cut in equal slices, one per worker; the last worker takes the remainder. */
	for (c = 0; c < nt->n_cls; c++) {
		uint32_t first = nt->cls_first[c], size = nt->cls_first[c + 1] - first;

		span = size / nt->n_workers;
		for (w = 0; w < nt->n_workers; w++) {
			struct nat_slice *sl = &a->slice[c * nt->n_workers + w];

			sl->first = first + w * span;
			sl->count = w + 1 == nt->n_workers ? size - w * span : span;
			sl->free = sl->count;
		}
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

/* A free bit of slice sl of address a, taken; -1 when there is none. */
static inline __attribute__((always_inline)) int
slice_take(struct nat_addr *a, struct nat_slice *sl)
{
	uint32_t i;

	/* An exhausted slice refuses at once: a refused flow costs no scan. */
	if (__atomic_load_n(&sl->free, __ATOMIC_ACQUIRE) == 0)
		return -1;
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
		return (int)bit;
	}
	return -1;
}

int
nat_port_alloc_cls(struct nat_table *nt, unsigned idx, unsigned w, unsigned cls)
{
	struct nat_addr *a;
	unsigned i, c;
	int bit;

	if (idx >= nt->n || w >= nt->n_workers || cls >= nt->n_cls)
		return -EINVAL;
	a = nt->addrs[idx];
	/* The wanted class first; then, rather than refuse, a port of another (counted). */
	for (i = 0, c = cls; i < nt->n_cls; i++, c = c + 1 == nt->n_cls ? 0 : c + 1) {
		bit = slice_take(a, &a->slice[c * nt->n_workers + w]);
		if (bit >= 0) {
			a->slice[c * nt->n_workers + w].spilled += i != 0;
			return nt->bit_port != NULL ? nt->bit_port[bit] : NAT_PORT_MIN + bit;
		}
	}
	a->slice[cls * nt->n_workers + w].failed++;
	return -ENOSPC;
}

/* The bit of port (host order, at least NAT_PORT_MIN) in an address's bitmap. */
static inline uint32_t
port_to_bit(const struct nat_table *nt, uint16_t port)
{
	return nt->port_bit != NULL ? nt->port_bit[port] : (uint32_t)port - NAT_PORT_MIN;
}

/*
 * The slice (RSS class and worker) that holds bit, as the slices were cut:
 * whoever takes or gives back a port outside slice_take counts it there
 * (nat_port_free, nat_port_take, nat_port_reserve, nat_port_alloc_range).
 */
static inline unsigned
slice_of(const struct nat_table *nt, uint32_t bit)
{
	uint32_t span;
	unsigned c;

	if (nt->n_cls == 1)
		return RTE_MIN(bit / (NAT_NPORTS / nt->n_workers), nt->n_workers - 1);
	for (c = 0; c + 1 < nt->n_cls && bit >= nt->cls_first[c + 1]; c++)
		;
	span = RTE_MAX((nt->cls_first[c + 1] - nt->cls_first[c]) / nt->n_workers, 1u);
	return c * nt->n_workers + RTE_MIN((bit - nt->cls_first[c]) / span, nt->n_workers - 1);
}

/*
 * Mark bit in use for a port taken outside slice_take (a given port, not
 * the slice's next), counted out of the slice that holds it; a word it
 * fills is marked full, as an owner marks it, unless a port was freed
 * meanwhile. False if it was in use already.
 */
static bool
port_claim(const struct nat_table *nt, struct nat_addr *a, uint32_t bit)
{
	uint32_t wi = bit / 64;
	uint64_t mask = 1ULL << (bit % 64);

	if (__atomic_fetch_or(&a->bits[wi], mask, __ATOMIC_SEQ_CST) & mask)
		return false;
	if (__atomic_load_n(&a->bits[wi], __ATOMIC_SEQ_CST) == ~0ULL) {
		__atomic_fetch_or(&a->full[wi / 64], 1ULL << (wi % 64), __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&a->bits[wi], __ATOMIC_SEQ_CST) != ~0ULL)
			__atomic_fetch_and(&a->full[wi / 64], ~(1ULL << (wi % 64)), __ATOMIC_SEQ_CST);
	}
	__atomic_fetch_sub(&a->slice[slice_of(nt, bit)].free, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&a->used, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * nat_port_alloc_range where ports are not their bits in order (RSS
 * classes): port by port from first + *cursor.
 */
static int
range_by_port(struct nat_table *nt, struct nat_addr *a, uint32_t first, uint32_t count, uint32_t *cursor)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		uint32_t rel = *cursor + i >= count ? *cursor + i - count : *cursor + i;
		if (!port_claim(nt, a, port_to_bit(nt, (uint16_t)(first + rel))))
			continue;
		*cursor = rel + 1 == count ? 0 : rel + 1;
		return (int)(first + rel);
	}
	return -ENOSPC;
}

int
nat_port_alloc_range(struct nat_table *nt, unsigned idx, uint32_t first, uint32_t count,
		     uint32_t *cursor)
{
	struct nat_addr *a;
	uint32_t i, lo;

	if (idx >= nt->n || first < NAT_PORT_MIN || count == 0 || first + count - 1 > NAT_PORT_MAX)
		return -EINVAL;
	a = nt->addrs[idx];
	lo = first - NAT_PORT_MIN;
	if (*cursor >= count)
		*cursor = 0;
	if (nt->port_bit != NULL)
		return range_by_port(nt, a, first, count, cursor);
	/* A word at a time: the clear bits of the range in it found with one count of trailing zeros. */
	for (i = 0; i < count;) {
		/* cursor and i are below count: no division on the way */
		uint32_t rel = *cursor + i >= count ? *cursor + i - count : *cursor + i;
		uint32_t bit = lo + rel, left = count - rel;
		uint64_t *word = &a->bits[bit / 64];
		uint64_t clear = ~__atomic_load_n(word, __ATOMIC_SEQ_CST) & (~0ULL << (bit % 64));
		uint32_t skip;

		if (clear == 0 || (skip = (uint32_t)__builtin_ctzll(clear) - bit % 64) >= left) {
			i += RTE_MIN(64 - bit % 64, left);
			continue;
		}
		i += skip;
		bit += skip;
		if (!port_claim(nt, a, bit))
			continue;   /* taken meanwhile: look again from it */
		*cursor = bit - lo + 1 == count ? 0 : bit - lo + 1;
		return (int)(NAT_PORT_MIN + bit);
	}
	return -ENOSPC;
}

int
nat_port_reserve(struct nat_table *nt, uint32_t ip, uint16_t port)
{
	int idx = nat_addr_find(nt, ip);

	if (idx < 0 || port < NAT_PORT_MIN)
		return -ENOENT;
	return port_claim(nt, nt->addrs[idx], port_to_bit(nt, port)) ? 0 : -EEXIST;
}

int
nat_port_alloc(struct nat_table *nt, unsigned idx, unsigned w)
{
	struct nat_slice *sl;
	int bit;

	if (nt->n_cls != 1)
		return nat_port_alloc_cls(nt, idx, w, w & (nt->n_cls - 1));
	/* One class: the slice itself, as before classes. */
	if (idx >= nt->n || w >= nt->n_workers)
		return -EINVAL;
	sl = &nt->addrs[idx]->slice[w];
	bit = slice_take(nt->addrs[idx], sl);
	if (bit < 0) {
		sl->failed++;
		return -ENOSPC;
	}
	return NAT_PORT_MIN + bit;
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
	bit = port_to_bit(nt, port);
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

int
nat_port_take(struct nat_table *nt, unsigned idx, uint16_t port)
{
	if (idx >= nt->n || port < NAT_PORT_MIN)
		return -EINVAL;
	return port_claim(nt, nt->addrs[idx], port_to_bit(nt, port)) ? 0 : -EBUSY;
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
	for (w = 0; w < nt->n_workers * nt->n_cls; w++) {
		info->failed += a->slice[w].failed;
		info->spilled += a->slice[w].spilled;
	}
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
