/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT allocators, policies and the packet rewrite (lib/nat/nat.h). */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "nat.h"
#include "nat_pba.h"
#include "nat_session.h"
#include "pkt_drop.h"

static struct rte_mempool *pool;

static int
setup_eal(void **state)
{
	char *argv[] = { "test_nat", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--no-telemetry", "-l", "0", "--log-level=error" };

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("t_nat", 255, 0, PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	return pool == NULL ? -1 : 0;
}

/* ---- allocator ---- */

/* Every port of a worker's slice once, never twice, then a counted refusal; frees make room. */
static void
test_alloc_exhaust_reuse(void **state)
{
	struct nat_table *nt = nat_create("t_a1", 2, 4, 0);
	static uint8_t seen[65536];
	struct nat_addr_info info;
	unsigned w, n[2] = { 0, 0 };
	int idx, p;

	(void)state;
	memset(seen, 0, sizeof(seen));
	idx = nat_addr_add(nt, 0xc0a80001);
	assert_int_equal(idx, 0);
	assert_int_equal(nat_addr_add(nt, 0xc0a80001), 0);     /* idempotent */
	for (w = 0; w < 2; w++) {
		while ((p = nat_port_alloc(nt, 0, w)) >= 0) {
			assert_true(p >= NAT_PORT_MIN && p <= NAT_PORT_MAX);
			assert_int_equal(seen[p], 0);
			seen[p] = (uint8_t)(w + 1);
			n[w]++;
		}
		assert_int_equal(p, -ENOSPC);
	}
	/* The two slices together are the whole range, split in halves. */
	assert_int_equal(n[0] + n[1], NAT_PORT_MAX - NAT_PORT_MIN + 1);
	assert_int_equal(n[0], (NAT_PORT_MAX - NAT_PORT_MIN + 1) / 2);
	nat_addr_info(nt, 0, &info);
	assert_int_equal(info.used, n[0] + n[1]);
	assert_int_equal(info.failed, 2);
	/* A freed port comes back to its owner, and only once. */
	assert_int_equal(nat_port_free(nt, 0xc0a80001, 5000), 0);
	assert_int_equal(nat_port_free(nt, 0xc0a80001, 5000), -ENOENT);
	assert_int_equal(nat_port_free(nt, 0xc0a80002, 5000), -ENOENT);
	p = nat_port_alloc(nt, 0, seen[5000] - 1u);
	assert_int_equal(p, 5000);
	assert_int_equal(nat_port_alloc(nt, 0, 2 - seen[5000]), -ENOSPC);
	nat_free(nt);
}

/* Slices that share a word of the bitmap (5 or 7 workers): every port once, each from its own slice. */
static void
test_alloc_shared_words(void **state)
{
	static uint8_t seen[65536];
	unsigned nw, w, total;
	int p;

	(void)state;
	for (nw = 5; nw <= 7; nw += 2) {
		struct nat_table *nt = nat_create("t_a9", nw, 1, 0);

		memset(seen, 0, sizeof(seen));
		nat_addr_add(nt, 0x0a000001);
		total = 0;
		for (w = 0; w < nw; w++)
			while ((p = nat_port_alloc(nt, 0, w)) >= 0) {
				assert_int_equal(seen[p], 0);
				seen[p] = 1;
				total++;
			}
		assert_int_equal(total, NAT_PORT_MAX - NAT_PORT_MIN + 1);
		/* A port freed in a word two slices share goes back to its own. */
		assert_int_equal(nat_port_free(nt, 0x0a000001, NAT_PORT_MIN + 12902), 0);
		assert_int_equal(nat_port_alloc(nt, 0, 0), -ENOSPC);
		assert_int_equal(nat_port_alloc(nt, 0, 1), NAT_PORT_MIN + 12902);
		nat_free(nt);
	}
}

/* Round robin: consecutive allocations hand out consecutive ports, as ScreenOS does. */
/*
 * A port reserved for a session another box made (HA standby) is never
 * handed out: the owner's slice counts it used, a whole slice reserved
 * refuses at once, and a free gives it back.
 */
static void
test_reserve_never_handed_out(void **state)
{
	struct nat_table *nt = nat_create("t_r1", 2, 1, 0);
	struct nat_addr_info info;
	int idx, p, first = -1;
	unsigned n = 0;

	(void)state;
	idx = nat_addr_add(nt, 0x0a000001);
	assert_int_equal(nat_port_reserve(nt, 0x0a000001, 1024), 0);
	assert_int_equal(nat_port_reserve(nt, 0x0a000001, 1024), -EEXIST);
	assert_int_equal(nat_port_reserve(nt, 0x0a000002, 1024), -ENOENT);
	assert_int_equal(nat_port_reserve(nt, 0x0a000001, 1023), -ENOENT);
	/* Reserve all of worker 0's slice but its last port: only that one is handed out. */
	for (p = 1025; p < NAT_PORT_MIN + (NAT_PORT_MAX - NAT_PORT_MIN + 1) / 2 - 1; p++)
		assert_int_equal(nat_port_reserve(nt, 0x0a000001, (uint16_t)p), 0);
	while ((p = nat_port_alloc(nt, (unsigned)idx, 0)) >= 0) {
		if (first < 0)
			first = p;
		n++;
	}
	assert_int_equal(n, 1);
	assert_int_equal(first, NAT_PORT_MIN + (NAT_PORT_MAX - NAT_PORT_MIN + 1) / 2 - 1);
	nat_addr_info(nt, (unsigned)idx, &info);
	assert_int_equal(info.used, (NAT_PORT_MAX - NAT_PORT_MIN + 1) / 2);
	/* Freed, a reserved port is handed out again. */
	assert_int_equal(nat_port_free(nt, 0x0a000001, 2000), 0);
	assert_int_equal(nat_port_alloc(nt, (unsigned)idx, 0), 2000);
	nat_free(nt);
}

static void
test_alloc_round_robin(void **state)
{
	struct nat_table *nt = nat_create("t_a2", 1, 1, 0);
	int a, b, c;

	(void)state;
	nat_addr_add(nt, 0x0a000001);
	a = nat_port_alloc(nt, 0, 0);
	b = nat_port_alloc(nt, 0, 0);
	assert_int_equal(b, a + 1);
	assert_int_equal(nat_port_free(nt, 0x0a000001, (uint16_t)a), 0);
	c = nat_port_alloc(nt, 0, 0);
	assert_int_equal(c, b + 1);    /* not the one just freed: less reuse of fresh ports */
	assert_int_equal(nat_addr_count(nt), 1);
	assert_int_equal(nat_addr_find(nt, 0x0a000001), 0);
	assert_int_equal(nat_addr_find(nt, 0x0a000002), -ENOENT);
	assert_int_equal(nat_addr_ip(nt, 0), 0x0a000001);
	nat_free(nt);
}

static void
test_addr_limit(void **state)
{
	struct nat_table *nt = nat_create("t_a3", 1, 3, 0);

	(void)state;
	assert_int_equal(nat_addr_add(nt, 1), 0);
	assert_int_equal(nat_addr_add(nt, 2), 1);
	assert_int_equal(nat_addr_add(nt, 3), 2);
	assert_int_equal(nat_addr_add(nt, 4), -ENOSPC);
	assert_null(nat_create("t_a4", 0, 3, 0));
	assert_null(nat_create("t_a5", 1, NAT_MAX_ADDRS + 1, 0));
	nat_free(nt);
}

struct freer_arg {
	struct nat_table *nt;
	int *ports;
	unsigned n;
};

static void *
freer(void *p)
{
	struct freer_arg *fa = p;
	unsigned i;

	for (i = 0; i < fa->n; i++)
		if (nat_port_free(fa->nt, 0x0a000001, (uint16_t)fa->ports[i]) != 0)
			return (void *)1;
	return NULL;
}

/* Frees from another thread while the owner allocates: nothing lost, nothing doubled. */
static void
test_alloc_concurrent_free(void **state)
{
	struct nat_table *nt = nat_create("t_a6", 1, 1, 0);
	struct nat_addr_info info;
	static int ports[60000];
	struct freer_arg fa = { nt, ports, 30000 };
	pthread_t th;
	void *ret;
	unsigned i, got = 0;

	(void)state;
	nat_addr_add(nt, 0x0a000001);
	for (i = 0; i < 60000; i++)
		ports[i] = nat_port_alloc(nt, 0, 0);
	assert_int_equal(pthread_create(&th, NULL, freer, &fa), 0);
	for (i = 0; i < 20000; i++)
		got += nat_port_alloc(nt, 0, 0) >= 0;
	pthread_join(th, &ret);
	assert_null(ret);
	nat_addr_info(nt, 0, &info);
	assert_int_equal(info.used, 60000 - 30000 + got);
	/* Every port left is found: no word is marked full that is not. */
	for (i = 0; nat_port_alloc(nt, 0, 0) >= 0; i++)
		;
	assert_int_equal(i, NAT_PORT_MAX - NAT_PORT_MIN + 1 - info.used);
	nat_free(nt);
}

/* Cycles for n calls of nat_port_alloc on worker 0 of address 0, each followed by a free when it got one: the best of 9 (the machine may be busy). */
static uint64_t
alloc_cycles(struct nat_table *nt, unsigned n)
{
	uint64_t best = UINT64_MAX;
	unsigned r, i;

	for (r = 0; r < 9; r++) {
		uint64_t t = rte_rdtsc_precise();

		for (i = 0; i < n; i++) {
			int p = nat_port_alloc(nt, 0, 0);

			if (p >= 0)
				nat_port_free(nt, 0x0a000001, (uint16_t)p);
		}
		t = rte_rdtsc_precise() - t;
		best = RTE_MIN(best, t);
	}
	return best;
}

/*
 * Issue 14.16: with every port of the slice taken, a refusal costs no more
 * than an allocation and a free of a port do on an empty address - not a
 * scan of the whole bitmap - and a port freed later is found again; with
 * one port left, finding it costs a few times that at most.
 */
static void
test_alloc_refusal_cost(void **state)
{
	struct nat_table *empty = nat_create("t_a7", 1, 1, 0), *full = nat_create("t_a8", 1, 1, 0);
	struct nat_addr_info info;
	uint64_t ok, refused, nearly;
	unsigned i;

	(void)state;
	nat_addr_add(empty, 0x0a000001);
	nat_addr_add(full, 0x0a000001);
	for (i = 0; i < NAT_PORT_MAX - NAT_PORT_MIN + 1; i++)
		assert_true(nat_port_alloc(full, 0, 0) >= 0);
	ok = alloc_cycles(empty, 20000);
	refused = alloc_cycles(full, 20000);
	print_message("alloc+free %.1f cycles, refusal %.1f cycles\n", ok / 20000.0, refused / 20000.0);
	assert_true(refused <= 2 * ok);
	nat_addr_info(full, 0, &info);
	assert_int_equal(info.failed, 9 * 20000);
	assert_int_equal(nat_port_free(full, 0x0a000001, 40000), 0);
	assert_int_equal(nat_port_alloc(full, 0, 0), 40000);
	assert_int_equal(nat_port_alloc(full, 0, 0), -ENOSPC);
	/* One port free, found again and again from a cursor just past it: no scan of the bitmap either. */
	assert_int_equal(nat_port_free(full, 0x0a000001, 40000), 0);
	nearly = alloc_cycles(full, 20000);
	print_message("one port free: alloc+free %.1f cycles\n", nearly / 20000.0);
	assert_true(nearly <= 40 * ok);   /* a scan of the bitmap: 800 times */
	nat_addr_info(full, 0, &info);
	assert_int_equal(info.used, NAT_PORT_MAX - NAT_PORT_MIN);
	nat_free(empty);
	nat_free(full);
}

/* ---- policies ---- */

static void
test_policy_match(void **state)
{
	struct nat_policy_set set = { 0 };

	(void)state;
	set.p[0] = (struct nat_policy){ .id = 5, .from_zone = 1, .to_zone = 2, .permit = false,
					 .svc = nat_service_find("http") };
	set.p[1] = (struct nat_policy){ .id = 1, .from_zone = 1, .to_zone = 2, .permit = true,
					 .svc = nat_service_find("ANY") };
	set.p[2] = (struct nat_policy){ .id = 7, .from_zone = 2, .to_zone = 1, .permit = true,
					 .svc = nat_service_find("PPTP") };
	set.n = 3;
	assert_int_equal(nat_policy_match(&set, 1, 2, IPPROTO_TCP, RTE_BE16(80))->id, 5);
	assert_int_equal(nat_policy_match(&set, 1, 2, IPPROTO_TCP, RTE_BE16(81))->id, 1);
	assert_int_equal(nat_policy_match(&set, 1, 2, IPPROTO_UDP, RTE_BE16(80))->id, 1);
	assert_int_equal(nat_policy_match(&set, 2, 1, IPPROTO_TCP, RTE_BE16(1723))->id, 7);
	assert_int_equal(nat_policy_match(&set, 2, 1, IPPROTO_GRE, 0)->id, 7);
	assert_null(nat_policy_match(&set, 2, 1, IPPROTO_TCP, RTE_BE16(22)));
	assert_null(nat_policy_match(&set, 1, 3, IPPROTO_TCP, RTE_BE16(80)));
	assert_null(nat_service_find("NOPE"));
}

/* ---- rewrite ---- */

/* RFC 1071 reference, byte by byte: independent of lib/pkt. */
static uint16_t
ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t
ref_l4(const struct rte_ipv4_hdr *ip, const uint8_t *l4, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &ip->src_addr, 4);
	memcpy(ph + 4, &ip->dst_addr, 4);
	ph[8] = 0;
	ph[9] = ip->next_proto_id;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return (uint16_t)~ref_sum(l4, len, ref_sum(ph, 12, 0));
}

/* Store a reference checksum (host order value) in network order at p. */
static void
put16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* A random IPv4 packet of proto with correct checksums; md parsed by pkt_parse. */
static struct rte_mbuf *
rand_pkt(uint8_t proto, bool udp_zero, struct pkt_meta **mdp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t plen = (uint16_t)(rand() % 200), l4len, hl;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;
	unsigned i;

	hl = proto == IPPROTO_TCP ? 20 : 8;
	l4len = (uint16_t)(hl + plen);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + l4len));
	memset(eth, 0, 14);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(0x0a000000u | ((uint32_t)rand() & 0xffffff));
	ip->dst_addr = rte_cpu_to_be_32(0x01000000u + ((uint32_t)rand() & 0xffffff));
	l4 = (uint8_t *)(ip + 1);
	for (i = 0; i < l4len; i++)
		l4[i] = (uint8_t)rand();
	switch (proto) {
	case IPPROTO_TCP:
		l4[12] = 0x50;
		put16(l4 + 16, 0);
		put16(l4 + 16, ref_l4(ip, l4, l4len));
		break;
	case IPPROTO_UDP:
		put16(l4 + 4, l4len);
		put16(l4 + 6, 0);
		if (!udp_zero) {
			uint16_t c = ref_l4(ip, l4, l4len);

			put16(l4 + 6, c == 0 ? 0xffff : c);
		}
		break;
	case IPPROTO_ICMP:
		l4[0] = RTE_IP_ICMP_ECHO_REQUEST;
		l4[1] = 0;
		put16(l4 + 2, 0);
		put16(l4 + 2, (uint16_t)~ref_sum(l4, l4len, 0));
		break;
	}
	put16(&ip->hdr_checksum, (uint16_t)~ref_sum((uint8_t *)ip, 20, 0));
	*mdp = pkt_md(m);
	assert_int_equal(pkt_parse(m, *mdp), PKT_CLASS_IPV4);
	return m;
}

/* After any rewrite, every checksum equals a full recomputation. */
static void
check_sums(struct rte_mbuf *m, uint8_t proto, bool udp_zero)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	uint8_t *l4 = (uint8_t *)(ip + 1);
	size_t l4len = rte_be_to_cpu_16(ip->total_length) - 20u;

	assert_int_equal(ref_sum((uint8_t *)ip, 20, 0), 0xffff);
	switch (proto) {
	case IPPROTO_TCP:
		assert_int_equal(ref_l4(ip, l4, l4len), 0);
		break;
	case IPPROTO_UDP:
		if (udp_zero)
			assert_true(l4[6] == 0 && l4[7] == 0);
		else
			assert_true(ref_l4(ip, l4, l4len) == 0 || (l4[6] == 0xff && l4[7] == 0xff &&
								 ref_l4(ip, l4, l4len) == 0));
		break;
	case IPPROTO_ICMP:
		assert_int_equal(ref_sum(l4, l4len, 0), 0xffff);
		break;
	}
}

static void
test_rewrite_random(void **state)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	unsigned seed = 12345, i;

	(void)state;
	srand(seed);
	for (i = 0; i < 30000; i++) {
		uint8_t proto = protos[i % 3];
		bool udp_zero = proto == IPPROTO_UDP && (i / 3) % 4 == 0;
		struct pkt_meta *md;
		struct flow_key key;
		struct rte_mbuf *m = rand_pkt(proto, udp_zero, &md);
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
		struct flow_rw rw;

		flow_rw_set(&rw, md->src, md->dst, md->sport, md->dport);
		switch (rand() % 4) {   /* change some fields, sometimes none */
		case 0:
			rw.src = (rte_be32_t)rand();
			rw.sport = (rte_be16_t)rand();
			break;
		case 1:
			rw.dst = (rte_be32_t)rand();
			rw.dport = (rte_be16_t)rand();
			break;
		case 2:
			rw.src = (rte_be32_t)rand();
			rw.dst = (rte_be32_t)rand();
			rw.sport = (rte_be16_t)rand();
			rw.dport = (rte_be16_t)rand();
			break;
		default:
			break;
		}
		if (proto == IPPROTO_ICMP)
			rw.dport = rw.sport;
		flow_key_set(&key, md->src, md->dst, md->sport, md->dport, proto);
		flow_rw_prepare(&rw, &key);
		nat_rewrite(m, md, &rw);
		if (ip->src_addr != rw.src || ip->dst_addr != rw.dst)
			fail_msg("seed %u iteration %u: addresses not rewritten", seed, i);
		assert_int_equal(md->src, rw.src);
		assert_int_equal(md->dst, rw.dst);
		if (proto == IPPROTO_ICMP) {
			struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);

			assert_int_equal(ic->icmp_ident, rw.sport);
		} else {
			rte_be16_t *ports = (rte_be16_t *)(ip + 1);

			assert_int_equal(ports[0], rw.sport);
			assert_int_equal(ports[1], rw.dport);
		}
		check_sums(m, proto, udp_zero);
		rte_pktmbuf_free(m);
	}
}

/*
 * An echo reply whose identifier becomes 0 with sequence and data 0: the
 * message is all zeros, so its checksum must be 0xffff - where the
 * incremental update alone gives 0x0000 (found by fuzz_pkt_nat).
 */
static void
test_icmp_all_zero_reply(void **state)
{
	struct pkt_meta *md;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	struct flow_key key;
	struct flow_rw rw;
	uint8_t *l4;

	(void)state;
	m = rand_pkt(IPPROTO_ICMP, false, &md);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	l4 = (uint8_t *)(ip + 1);
	memset(l4, 0, rte_be_to_cpu_16(ip->total_length) - 20u);
	l4[0] = RTE_IP_ICMP_ECHO_REPLY;
	put16(l4 + 4, 0x00ff);   /* identifier, to become 0 */
	put16(l4 + 2, (uint16_t)~ref_sum(l4, rte_be_to_cpu_16(ip->total_length) - 20u, 0));
	assert_int_equal(pkt_parse(m, md), PKT_CLASS_IPV4);
	flow_rw_set(&rw, md->src, md->dst, 0, 0);
	flow_key_set(&key, md->src, md->dst, md->sport, md->dport, IPPROTO_ICMP);
	flow_rw_prepare(&rw, &key);
	nat_rewrite(m, md, &rw);
	ic = (struct rte_icmp_hdr *)l4;
	assert_int_equal(ic->icmp_ident, 0);
	assert_int_equal(ic->icmp_cksum, 0xffff);
	check_sums(m, IPPROTO_ICMP, false);
	rte_pktmbuf_free(m);
}

/* An ICMP port unreachable quoting a translated UDP packet comes back fully restored. */
static void
test_icmp_error_rewrite(void **state)
{
	struct flow_session s = { 0 };
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv4_hdr *ip, *qip;
	struct rte_icmp_hdr *icmp;
	struct flow_key key;
	struct pkt_meta *md = pkt_md(m);
	uint8_t *q, *ql4;
	rte_be32_t in = RTE_BE32(0x0a000002), srv = RTE_BE32(0x01020304), pub = RTE_BE32(0x05050505);
	uint8_t *base;

	(void)state;
	flow_key_set(&s.key[0], in, srv, RTE_BE16(4000), RTE_BE16(53), IPPROTO_UDP);
	flow_key_set(&s.key[1], srv, pub, RTE_BE16(53), RTE_BE16(7000), IPPROTO_UDP);
	flow_rw_set(&s.rw[0], pub, srv, RTE_BE16(7000), RTE_BE16(53));
	flow_rw_set(&s.rw[1], srv, in, RTE_BE16(53), RTE_BE16(4000));

	base = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 20 + 8 + 12);
	memset(base, 0, 14 + 20 + 8 + 20 + 8 + 12);
	((struct rte_ether_hdr *)base)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(base + 14);
	ip->version_ihl = 0x45;
	ip->total_length = RTE_BE16(20 + 8 + 20 + 8 + 12);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = srv;
	ip->dst_addr = pub;
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = 3;
	icmp->icmp_code = 3;
	/* The quote: the translated packet as it left dpnat, with a real UDP checksum. */
	q = (uint8_t *)(icmp + 1);
	qip = (struct rte_ipv4_hdr *)q;
	qip->version_ihl = 0x45;
	qip->total_length = RTE_BE16(20 + 8 + 12);
	qip->time_to_live = 63;
	qip->next_proto_id = IPPROTO_UDP;
	qip->src_addr = pub;
	qip->dst_addr = srv;
	put16(&qip->hdr_checksum, (uint16_t)~ref_sum(q, 20, 0));
	ql4 = q + 20;
	put16(ql4, 7000);
	put16(ql4 + 2, 53);
	put16(ql4 + 4, 20);
	memcpy(ql4 + 8, "hello world!", 12);
	put16(ql4 + 6, ref_l4(qip, ql4, 20));
	put16(&icmp->icmp_cksum, (uint16_t)~ref_sum((uint8_t *)icmp, 8 + 20 + 8 + 12, 0));
	put16(&ip->hdr_checksum, (uint16_t)~ref_sum((uint8_t *)ip, 20, 0));

	assert_int_equal(pkt_parse(m, md), PKT_CLASS_IPV4);
	assert_true(md->flags & PKT_F_ICMP_ERR);
	assert_int_equal(nat_icmp_err_key(m, md, &key), 0);
	assert_memory_equal(&key, &s.key[1], sizeof(key));
	nat_icmp_err_rewrite(m, md, &s, 1);

	assert_int_equal(ip->dst_addr, in);
	assert_int_equal(ip->src_addr, srv);
	assert_int_equal(qip->src_addr, in);
	assert_int_equal(qip->dst_addr, srv);
	assert_int_equal(rte_be_to_cpu_16(*(uint16_t *)ql4), 4000);
	assert_int_equal(ref_sum((uint8_t *)ip, 20, 0), 0xffff);
	assert_int_equal(ref_sum(q, 20, 0), 0xffff);
	assert_int_equal(ref_l4(qip, ql4, 20), 0);
	assert_int_equal(ref_sum((uint8_t *)icmp, 8 + 20 + 8 + 12, 0), 0xffff);
	rte_pktmbuf_free(m);
}

/* ---- the new-flow decision (nat_session.h) ---- */

#define Z_TRUST   0
#define Z_UNTRUST 1
#define Z_LAB     2
#define IF_IN     0                 /* Trust, NAT mode */
#define IF_OUT    1                 /* Untrust */
#define IF_LAB    2
#define IP_OUT    0xac130001u       /* the Untrust interface's address */
#define DIP_LO    0x64400001u       /* DIP pool 4: 100.64.0.1-100.64.0.3 */

/* A fake ALG: counts its attaches and detaches, refuses while told to. */
struct fake_alg {
	unsigned attached, detached;
	bool refuse;
};

static int
fake_attach(void *arg, struct flow_session *s, unsigned w)
{
	struct fake_alg *a = arg;

	(void)w;
	if (a->refuse)
		return -1;
	a->attached++;
	s->alg = 7;
	return 0;
}

static void
fake_detach(void *arg, struct flow_session *s)
{
	struct fake_alg *a = arg;

	a->detached++;
	s->alg = FLOW_INVALID;
}

/* Tables, rules and an ALG on TCP/1723 for the tests below (sessions: max). */
struct nf {
	struct rte_rcu_qsbr *qsbr;
	struct nat_ctx ctx;
	struct nat_rules r;
	struct fake_alg alg;
	int if_idx;
};

static void
nf_up(struct nf *t, const char *name, uint32_t max)
{
	char nm[32];
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	assert_non_null(t->qsbr);
	assert_int_equal(rte_rcu_qsbr_init(t->qsbr, 1), 0);
	snprintf(nm, sizeof(nm), "%s_f", name);
	t->ctx.flows = flow_create(nm, max, 1, t->qsbr, NULL, NULL, 0);
	snprintf(nm, sizeof(nm), "%s_n", name);
	t->ctx.nat = nat_create(nm, 1, 8, 0);
	snprintf(nm, sizeof(nm), "%s_s", name);
	t->ctx.src = nat_src_create(nm, 64, 0);
	assert_non_null(t->ctx.flows);
	assert_non_null(t->ctx.nat);
	assert_non_null(t->ctx.src);
	t->if_idx = nat_addr_add(t->ctx.nat, IP_OUT);
	for (i = 0; i < 3; i++)
		assert_true(nat_addr_add(t->ctx.nat, DIP_LO + i) >= 0);
	t->ctx.n_algs = 1;
	t->ctx.alg[0] = (struct nat_alg_hook){ .proto = IPPROTO_TCP, .dport = RTE_BE16(1723),
					       .fail_reason = PKT_DROP_PPTP_XLATE_FAIL,
					       .attach = fake_attach, .detach = fake_detach,
					       .arg = &t->alg };
	t->r.zone_untrust[Z_UNTRUST] = true;
	for (i = 0; i < NAT_MAX_IFACES; i++)
		t->r.iface_nat_idx[i] = -1;
	t->r.iface_nat_idx[IF_OUT] = t->if_idx;
	for (i = 0; i <= NAT_MAX_ZONES; i++)
		t->r.zone_limit_src[i] = 100;
	t->r.alg_on = 1;
	/* Trust -> Untrust: HTTP denied, UDP/4500 through DIP 4, the rest permitted. */
	t->r.policies.p[0] = (struct nat_policy){ .id = 1, .from_zone = Z_TRUST, .to_zone = Z_UNTRUST,
						  .permit = false, .svc = nat_service_find("HTTP") };
	t->r.policies.p[1] = (struct nat_policy){ .id = 2, .from_zone = Z_TRUST, .to_zone = Z_UNTRUST,
						  .permit = true, .nat_src = true, .dip_id = 4,
						  .dip_first = DIP_LO, .dip_count = 3,
						  .svc = nat_service_find("UDP-ANY") };
	t->r.policies.p[2] = (struct nat_policy){ .id = 3, .from_zone = Z_TRUST, .to_zone = Z_UNTRUST,
						  .permit = true, .svc = nat_service_find("ANY") };
	/* Trust -> Lab: routed, no translation. */
	t->r.policies.p[3] = (struct nat_policy){ .id = 4, .from_zone = Z_TRUST, .to_zone = Z_LAB,
						  .permit = true, .svc = nat_service_find("ANY") };
	t->r.policies.n = 4;
}

static void
nf_down(struct nf *t)
{
	flow_free(t->ctx.flows);
	nat_free(t->ctx.nat);
	nat_src_free(t->ctx.src);
	rte_free(t->qsbr);
}

/* A first packet from inside host src (host order) to 198.51.100.1. */
static struct nat_flow
nf_pkt(uint32_t src, uint8_t proto, uint16_t sport, uint16_t dport)
{
	return (struct nat_flow){ .src = rte_cpu_to_be_32(src), .dst = RTE_BE32(0xc6336401),
				  .sport = rte_cpu_to_be_16(sport), .dport = rte_cpu_to_be_16(dport),
				  .proto = proto, .tcp_flags = RTE_TCP_SYN_FLAG,
				  .icmp_type = RTE_IP_ICMP_ECHO_REQUEST, .in_iface = IF_IN,
				  .out_iface = IF_OUT, .in_zone = Z_TRUST, .out_zone = Z_UNTRUST,
				  .in_nat = true };
}

/* Sessions in use, ports used on the interface address, sessions counted for src. */
static void
nf_held(struct nf *t, uint32_t src, uint64_t sess, uint32_t ports, uint32_t count)
{
	struct nat_addr_info info;
	struct flow_stats fs;

	flow_stats_get(t->ctx.flows, &fs);
	nat_addr_info(t->ctx.nat, (unsigned)t->if_idx, &info);
	assert_int_equal(fs.alloc, sess);
	assert_int_equal(info.used, ports);
	assert_int_equal(nat_src_count(t->ctx.src, rte_cpu_to_be_32(src)), count);
}

/* Refusals before anything is taken: each its own reason, nothing held after. */
static void
test_new_refusals(void **state)
{
	struct flow_session *s = NULL;
	struct nat_flow f;
	struct nf t;
	unsigned how;

	(void)state;
	nf_up(&t, "t_nr", 16);
	/* No policy from Trust to an unknown zone: no-policy; from Untrust: a reply without a session. */
	f = nf_pkt(0x0a000001, IPPROTO_UDP, 1000, 53);
	f.out_zone = 5;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NO_POLICY);
	f = nf_pkt(0x0a000001, IPPROTO_UDP, 1000, 53);
	f.in_zone = Z_UNTRUST;
	f.out_zone = Z_TRUST;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NO_SESSION);
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 1000, 80);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_POLICY_DENY);
	/* TCP opens with a SYN alone; ICMP with an echo request. */
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 1000, 443);
	f.tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_TCP_NOT_SYN);
	f.tcp_flags = RTE_TCP_ACK_FLAG;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_TCP_NOT_SYN);
	f = nf_pkt(0x0a000001, IPPROTO_ICMP, 77, 77);
	f.icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NO_SESSION);
	assert_null(s);
	nf_held(&t, 0x0a000001, 0, 0, 0);
	nf_down(&t);
}

/* The zone rule: a NAT-mode interface's flows to Untrust take the egress address; to Lab, none. */
static void
test_new_zone_rule_iface_nat(void **state)
{
	struct flow_session *s = NULL;
	struct nat_flow f;
	struct nf t;
	unsigned how;
	uint16_t port;

	(void)state;
	nf_up(&t, "t_nz", 16);
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 1000, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_int_equal(how, 0);
	assert_true(s->flags & FLOW_F_NAT);
	assert_int_equal(s->rw[0].src, RTE_BE32(IP_OUT));
	port = rte_be_to_cpu_16(s->rw[0].sport);
	assert_true(port >= NAT_PORT_MIN);
	assert_int_equal(s->nat_port, port);
	assert_int_equal(s->dip_id, 0);
	assert_int_equal(s->policy_id, 3);
	assert_int_equal(s->tcp, FLOW_TCP_SYN0);
	assert_int_equal(s->tmo, FLOW_TMO_TCP);
	assert_int_equal(s->iface[0], IF_IN);
	assert_int_equal(s->iface[1], IF_OUT);
	assert_int_equal(s->out_iface[0], IF_OUT);
	assert_int_equal(s->out_iface[1], IF_IN);
	/* The reply's key is what comes back to the public address and port. */
	assert_int_equal(s->key[1].dst, RTE_BE32(IP_OUT));
	assert_int_equal(s->key[1].dport, s->rw[0].sport);
	assert_int_equal(s->rw[1].dst, f.src);
	assert_int_equal(s->rw[1].dport, f.sport);
	nf_held(&t, 0x0a000001, 1, 1, 1);
	/* Not NAT mode, or not to Untrust: routed as it is. */
	f = nf_pkt(0x0a000001, IPPROTO_UDP, 1001, 53);
	f.out_iface = IF_LAB;
	f.out_zone = Z_LAB;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_false(s->flags & FLOW_F_NAT);
	assert_int_equal(s->rw[0].src, f.src);
	assert_int_equal(s->rw[0].sport, f.sport);
	assert_int_equal(s->nat_port, 0);
	/* NAT mode to an egress interface without an address: no address to take. */
	t.r.iface_nat_idx[IF_OUT] = -1;
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 1002, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NAT_NO_ADDR);
	nf_held(&t, 0x0a000001, 2, 1, 2);
	nf_down(&t);
}

/* DIP: sticky per inside host, the pool's id on the session; ICMP echo: the identifier is the port. */
static void
test_new_dip_and_icmp(void **state)
{
	struct flow_session *s = NULL, *s2 = NULL;
	struct nat_flow f;
	struct nf t;
	unsigned how, i;

	(void)state;
	nf_up(&t, "t_nd", 64);
	f = nf_pkt(0x0a000005, IPPROTO_UDP, 1000, 4500);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_int_equal(s->dip_id, 4);
	assert_int_equal(s->policy_id, 2);
	assert_true(rte_be_to_cpu_32(s->rw[0].src) - DIP_LO < 3);
	assert_int_equal(s->tmo, FLOW_TMO_UDP);
	for (i = 1; i < 10; i++) {
		f = nf_pkt(0x0a000005, IPPROTO_UDP, (uint16_t)(1000 + i), 4500);
		assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s2, &how), 0);
		assert_int_equal(s2->rw[0].src, s->rw[0].src);
	}
	f = nf_pkt(0x0a000006, IPPROTO_ICMP, 0x1234, 0x1234);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_int_equal(s->tmo, FLOW_TMO_ICMP);
	assert_int_equal(s->key[0].dport, f.sport);
	assert_int_equal(s->rw[0].sport, s->rw[0].dport);
	assert_int_equal(s->key[1].sport, s->key[1].dport);
	assert_int_equal(s->rw[1].dport, f.sport);
	nf_down(&t);
}

/* No port left: refused in O(1), nothing taken; a source at its limit: the port goes back. */
static void
test_new_port_exhaustion_rollback(void **state)
{
	struct nat_src_stats sst;
	struct flow_session *s = NULL;
	struct nat_flow f;
	struct nf t;
	unsigned how, n = 0;

	(void)state;
	nf_up(&t, "t_np", 8);
	while (nat_port_alloc(t.ctx.nat, (unsigned)t.if_idx, 0) >= 0)
		n++;
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 1000, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NAT_NO_PORT);
	nf_held(&t, 0x0a000001, 0, n, 0);
	/* Refused before the per-source table is asked: even a source at its limit reads no-port. */
	t.r.zone_limit_src[Z_TRUST] = 0;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NAT_NO_PORT);
	nat_src_stats_get(t.ctx.src, &sst);
	assert_int_equal(sst.refused_limit, 0);
	t.r.zone_limit_src[Z_TRUST] = 100;
	assert_int_equal(nat_port_free(t.ctx.nat, IP_OUT, 5000), 0);
	/* The source's limit refuses it after the port was taken: the port is given back. */
	t.r.zone_limit_src[Z_TRUST] = 0;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_SRC_SESSION_LIMIT);
	nf_held(&t, 0x0a000001, 0, n - 1, 0);
	t.r.zone_limit_src[Z_TRUST] = 100;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_int_equal(s->nat_port, 5000);
	nf_held(&t, 0x0a000001, 1, n, 1);
	nf_down(&t);
}

/* The table full, the ALG refusing, the flow made meanwhile: every step taken is given back. */
static void
test_new_rollback_full_alg_race(void **state)
{
	struct flow_session *s = NULL, *s1 = NULL, *fill[2];
	struct nat_flow f;
	struct nf t;
	unsigned how, i;

	(void)state;
	nf_up(&t, "t_nb", 4);
	/* The ALG rides on TCP/1723 while switched on. */
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 1000, 1723);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s1, &how), 0);
	assert_int_equal(t.alg.attached, 1);
	assert_int_equal(s1->alg, 7);
	nf_held(&t, 0x0a000001, 1, 1, 1);
	/* The same flow again (another worker's race): its session, and all ours given back. */
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_int_equal(how, NAT_NEW_RACE);
	assert_ptr_equal(s, s1);
	assert_int_equal(t.alg.attached, 2);
	assert_int_equal(t.alg.detached, 1);
	nf_held(&t, 0x0a000001, 1, 1, 1);
	/* The ALG refuses: its reason, nothing held. */
	t.alg.refuse = true;
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 1001, 1723);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_PPTP_XLATE_FAIL);
	nf_held(&t, 0x0a000001, 1, 1, 1);
	/* Switched off: the flow passes without it. */
	t.r.alg_on = 0;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_int_equal(s->alg, FLOW_INVALID);
	nf_held(&t, 0x0a000001, 2, 2, 2);
	/* The table full: session-full, the port and the count given back. */
	for (i = 0; i < 2; i++) {
		f = nf_pkt(0x0a000001, IPPROTO_TCP, (uint16_t)(2000 + i), 443);
		assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &fill[i], &how), 0);
	}
	nf_held(&t, 0x0a000001, 4, 4, 4);
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 3000, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_SESSION_FULL);
	nf_held(&t, 0x0a000001, 4, 4, 4);
	nf_down(&t);
}

/* ---- carrier-grade NAT: port blocks, deterministic pools, subscriber limits (issue 18) ---- */

/* What the port block log hook was told, in order. */
struct pba_log {
	unsigned n;
	unsigned ev[64];
	uint32_t pub[64];
	uint16_t first[64], last[64];
};

static void
pba_log_hook(void *arg, unsigned event, rte_be32_t src, uint32_t pub, uint16_t first, uint16_t last)
{
	struct pba_log *l = arg;

	(void)src;
	if (l->n < RTE_DIM(l->ev)) {
		l->ev[l->n] = event;
		l->pub[l->n] = pub;
		l->first[l->n] = first;
		l->last[l->n] = last;
	}
	l->n++;
}

/*
 * A subscriber's ports come from its blocks; a block is taken when the
 * others are full and logged once, given back with its last port; the
 * max is a counted refusal; interim records only for blocks due.
 */
static void
test_pba_alloc_free_interim(void **state)
{
	struct nat_table *nt = nat_create("t_pb1", 2, 4, 0);
	struct nat_pba *pb;
	struct nat_pba_stats st;
	struct pba_log log = { 0 };
	rte_be32_t sub = RTE_BE32(0x0a000001);
	int ports[128], p;
	unsigned i;

	(void)state;
	assert_int_equal(nat_addr_add(nt, 0x0a000101), 0);
	pb = nat_pba_create("t_pb1p", nt, 4, 16, 64, 2, 0);
	assert_non_null(pb);
	nat_pba_set_log(pb, pba_log_hook, &log);
	for (i = 0; i < 128; i++) {
		ports[i] = nat_pba_take(pb, sub, 0, 100);
		assert_true(ports[i] >= NAT_PORT_MIN);
		/* Every port of the first block before any of the second. */
		assert_int_equal((ports[i] - NAT_PORT_MIN) / 64, (ports[0] - NAT_PORT_MIN) / 64 + (i >= 64 ? (ports[64] - ports[0]) / 64 : 0));
	}
	assert_int_equal(log.n, 2);
	assert_int_equal(log.ev[0], NAT_PBA_ALLOC);
	assert_int_equal(log.pub[0], 0x0a000101);
	assert_int_equal(log.last[0] - log.first[0], 63);
	assert_int_equal(ports[0], log.first[0]);
	/* Both blocks full, the max reached: refused and counted, nothing logged. */
	assert_int_equal(nat_pba_take(pb, sub, 0, 100), -EDQUOT);
	nat_pba_stats_get(pb, &st);
	assert_int_equal(st.refused_max, 1);
	assert_int_equal(st.blocks, 2);
	assert_int_equal(st.subscribers, 1);
	/* The ports are the address's: `get nat` counts them. */
	{
		struct nat_addr_info info;

		nat_addr_info(nt, 0, &info);
		assert_int_equal(info.used, 128);
	}
	/* Interim: nothing before it is due, each held block once when it is. */
	assert_int_equal(nat_pba_interim(pb, 105, 10, 1u << 20), 0);
	assert_int_equal(nat_pba_interim(pb, 110, 10, 1u << 20), 2);
	assert_int_equal(nat_pba_interim(pb, 111, 10, 1u << 20), 0);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.ev[2], NAT_PBA_INTERIM);
	assert_int_equal(nat_pba_interim(pb, 200, 0, 1u << 20), 0);   /* 0: no interim log */
	/* The second block's ports go: released with its last one, logged once. */
	for (i = 64; i < 128; i++) {
		assert_int_equal(nat_port_free(nt, 0x0a000101, (uint16_t)ports[i]), 0);
		nat_pba_put(pb, sub, 0x0a000101, (uint16_t)ports[i]);
		assert_int_equal(log.n, i < 127 ? 4u : 5u);
	}
	assert_int_equal(log.ev[4], NAT_PBA_RELEASE);
	assert_int_equal(log.first[4], (uint16_t)(ports[64] - (ports[64] - NAT_PORT_MIN) % 64));
	/* A put for a port it does not hold changes nothing. */
	nat_pba_put(pb, sub, 0x0a000101, (uint16_t)ports[100]);
	nat_pba_put(pb, RTE_BE32(0x0a000009), 0x0a000101, (uint16_t)ports[0]);
	nat_pba_stats_get(pb, &st);
	assert_int_equal(st.blocks, 1);
	/* Room again: a new block. */
	p = nat_pba_take(pb, sub, 0, 300);
	assert_true(p >= NAT_PORT_MIN);
	assert_int_equal(log.n, 6);
	assert_int_equal(nat_port_free(nt, 0x0a000101, (uint16_t)p), 0);
	nat_pba_put(pb, sub, 0x0a000101, (uint16_t)p);
	for (i = 0; i < 64; i++) {
		assert_int_equal(nat_port_free(nt, 0x0a000101, (uint16_t)ports[i]), 0);
		nat_pba_put(pb, sub, 0x0a000101, (uint16_t)ports[i]);
	}
	nat_pba_stats_get(pb, &st);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.subscribers, 0);
	assert_int_equal(st.allocated, 3);
	assert_int_equal(st.released, 3);
	assert_int_equal(log.n, 8);
	nat_pba_free(pb);
	nat_free(nt);
}

/* An address out of blocks and a full subscriber table: each its own refusal. */
static void
test_pba_exhaustion(void **state)
{
	struct nat_table *nt = nat_create("t_pb2", 1, 4, 0);
	struct nat_pba *pb;
	struct nat_pba_stats st;

	(void)state;
	assert_int_equal(nat_addr_add(nt, 0x0a000101), 0);
	/* Blocks of 32256: two per address. */
	pb = nat_pba_create("t_pb2p", nt, 4, 3, 32256, 4, 0);
	assert_non_null(pb);
	assert_true(nat_pba_take(pb, RTE_BE32(0x0a000001), 0, 0) >= 0);
	assert_true(nat_pba_take(pb, RTE_BE32(0x0a000002), 0, 0) >= 0);
	assert_int_equal(nat_pba_take(pb, RTE_BE32(0x0a000003), 0, 0), -EADDRNOTAVAIL);
	/* Nothing left of the refused subscriber. */
	assert_false(nat_pba_has(pb, RTE_BE32(0x0a000003), 0));
	assert_true(nat_pba_has(pb, RTE_BE32(0x0a000001), 0));
	nat_pba_stats_get(pb, &st);
	assert_int_equal(st.refused_noblock, 1);
	assert_int_equal(st.subscribers, 2);
	nat_pba_free(pb);
	/* A table of one subscriber. */
	pb = nat_pba_create("t_pb2q", nt, 4, 1, 64, 4, 0);
	assert_non_null(pb);
	assert_true(nat_pba_take(pb, RTE_BE32(0x0a000004), 0, 0) >= 0);
	assert_int_equal(nat_pba_take(pb, RTE_BE32(0x0a000005), 0, 0), -ENOSPC);
	nat_pba_stats_get(pb, &st);
	assert_int_equal(st.refused_full, 1);
	/* Bad parameters refused. */
	assert_null(nat_pba_create("t_pb2r", nt, 4, 1, 8, 4, 0));
	assert_null(nat_pba_create("t_pb2s", nt, 4, 1, 64, NAT_PBA_MAX_BLOCKS + 1, 0));
	nat_pba_free(pb);
	nat_free(nt);
}

struct pba_thr {
	struct nat_pba *pb;
	struct nat_table *nt;
	unsigned errors;
};

/* Take and give back ports of one subscriber in rounds: never a port twice. */
static void *
pba_thr_main(void *arg)
{
	struct pba_thr *a = arg;
	int ports[40];
	unsigned r, i;

	for (r = 0; r < 2000; r++) {
		for (i = 0; i < RTE_DIM(ports); i++)
			ports[i] = nat_pba_take(a->pb, RTE_BE32(0x0a000001), 0, r);
		for (i = 0; i < RTE_DIM(ports); i++) {
			if (ports[i] < 0) {
				a->errors++;
				continue;
			}
			if (nat_port_free(a->nt, 0x0a000101, (uint16_t)ports[i]) != 0)
				a->errors++;
			nat_pba_put(a->pb, RTE_BE32(0x0a000001), 0x0a000101, (uint16_t)ports[i]);
		}
	}
	return NULL;
}

/* Four threads on one subscriber's blocks: no port twice, everything back at the end. */
static void
test_pba_concurrent(void **state)
{
	struct nat_table *nt = nat_create("t_pb3", 4, 4, 0);
	struct pba_thr a[4];
	pthread_t th[4];
	struct nat_pba_stats st;
	struct nat_addr_info info;
	unsigned i;

	(void)state;
	assert_int_equal(nat_addr_add(nt, 0x0a000101), 0);
	/* 4 x 40 ports at most at once: 160 <= 3 blocks of 64. */
	a[0].pb = nat_pba_create("t_pb3p", nt, 4, 16, 64, 3, 0);
	assert_non_null(a[0].pb);
	for (i = 0; i < 4; i++) {
		a[i].pb = a[0].pb;
		a[i].nt = nt;
		a[i].errors = 0;
		assert_int_equal(pthread_create(&th[i], NULL, pba_thr_main, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].errors, 0);
	}
	nat_pba_stats_get(a[0].pb, &st);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.subscribers, 0);
	assert_int_equal(st.allocated, st.released);
	nat_addr_info(nt, 0, &info);
	assert_int_equal(info.used, 0);
	nat_pba_free(a[0].pb);
	nat_free(nt);
}

/* Sessions through nat_session_new with port blocks: ports of the block, a record per block, the max. */
static void
test_pba_sessions(void **state)
{
	struct flow_session *s = NULL;
	struct pba_log log = { 0 };
	struct nat_flow f;
	struct nf t;
	unsigned how, i;

	(void)state;
	nf_up(&t, "t_pbs", 512);
	t.ctx.pba = nat_pba_create("t_pbsp", t.ctx.nat, 8, 16, 16, 2, 0);
	assert_non_null(t.ctx.pba);
	nat_pba_set_log(t.ctx.pba, pba_log_hook, &log);
	for (i = 0; i < 32; i++) {
		f = nf_pkt(0x0a000001, IPPROTO_TCP, (uint16_t)(1000 + i), 443);
		assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
		assert_true(s->flags & FLOW_F_PBA);
		assert_int_equal(rte_be_to_cpu_32(s->rw[0].src), IP_OUT);
		assert_true(s->nat_port >= log.first[log.n - 1] && s->nat_port <= log.last[log.n - 1]);
	}
	/* 32 sessions, 2 records: the log falls by the block size. */
	assert_int_equal(log.n, 2);
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 2000, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NAT_PBA_MAX);
	/* Refused before the per-source count: the source holds its 32. */
	nf_held(&t, 0x0a000001, 32, 32, 32);
	/* Another subscriber: its own block; DIP pool sessions from the pool's address. */
	f = nf_pkt(0x0a000002, IPPROTO_UDP, 1000, 4500);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.pub[2], rte_be_to_cpu_32(s->rw[0].src));
	assert_true(rte_be_to_cpu_32(s->rw[0].src) - DIP_LO < 3);
	/* A session table full: the port and the block given back (logged as released). */
	while (flow_alloc(t.ctx.flows, 0) != NULL)
		;
	f = nf_pkt(0x0a000003, IPPROTO_TCP, 1000, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_SESSION_FULL);
	assert_int_equal(log.n, 5);
	assert_int_equal(log.ev[4], NAT_PBA_RELEASE);
	assert_false(nat_pba_has(t.ctx.pba, RTE_BE32(0x0a000003), (unsigned)t.if_idx));
	nat_pba_free(t.ctx.pba);
	nf_down(&t);
}

/* RFC 7422: every inside address of a prefix maps to its own range and back, for several pool sizes. */
static void
test_det_roundtrip(void **state)
{
	static const struct { uint8_t plen; uint32_t naddr; } cases[] = {
		{ 24, 1 }, { 22, 3 }, { 16, 4 }, { 16, 1 + 0 * 7 }, { 20, 7 }, { 32, 2 },
	};
	static uint8_t seen[8][65536 / 8];
	struct nat_det d = { 0 };
	unsigned c;

	(void)state;
	for (c = 0; c < RTE_DIM(cases); c++) {
		uint32_t n = 1u << (32 - cases[c].plen), pre = 0x0a400000u, o;
		int rc = nat_det_setup(&d, pre, cases[c].plen, 0xc6336401u, cases[c].naddr);

		if (n > 64512u * cases[c].naddr) {   /* /16 on one address: too many per address */
			assert_int_equal(rc, -EINVAL);
			assert_int_equal(d.ports, 0);
			continue;
		}
		assert_int_equal(rc, 0);
		memset(seen, 0, sizeof(seen));
		for (o = 0; o < n; o++) {
			uint32_t pub = 0, back = 0, k;
			uint16_t first = 0;

			assert_int_equal(nat_det_forward(&d, pre + o, &pub, &first), 0);
			assert_true(pub - 0xc6336401u < cases[c].naddr);
			assert_true(first >= NAT_PORT_MIN && first + d.ports - 1 <= NAT_PORT_MAX);
			/* Every port of the range maps back to it, and no port is two addresses'. */
			for (k = 0; k < d.ports; k += d.ports > 64 ? d.ports / 7 + 1 : 1) {
				uint32_t bit = first + k;

				assert_int_equal(nat_det_reverse(&d, pub, (uint16_t)(first + k), &back), 0);
				assert_int_equal(back, pre + o);
				assert_false(seen[pub - 0xc6336401u][bit / 8] & (1u << (bit % 8)));
				seen[pub - 0xc6336401u][bit / 8] |= (uint8_t)(1u << (bit % 8));
			}
			assert_int_equal(nat_det_reverse(&d, pub, (uint16_t)(first + d.ports - 1), &back), 0);
			assert_int_equal(back, pre + o);
		}
		/* Outside the prefix, below the ports, past the last range: no mapping. */
		{
			uint32_t pub, back;
			uint16_t first;

			assert_int_equal(nat_det_forward(&d, pre + n, &pub, &first), -ENOENT);
			assert_int_equal(nat_det_forward(&d, pre - 1, &pub, &first), -ENOENT);
			assert_int_equal(nat_det_reverse(&d, 0xc6336401u, 80, &back), -ENOENT);
			assert_int_equal(nat_det_reverse(&d, 0xc6336401u + cases[c].naddr, 2000, &back), -ENOENT);
			if (d.ports * d.per_addr + NAT_PORT_MIN <= NAT_PORT_MAX)
				assert_int_equal(nat_det_reverse(&d, 0xc6336401u, (uint16_t)(NAT_PORT_MIN + d.ports * d.per_addr), &back), -ENOENT);
		}
	}
	/* /0 onto one address: refused; the whole space is too much for any pool. */
	assert_int_equal(nat_det_setup(&d, 0, 0, 1, 4096), -EINVAL);
}

/* A deterministic pool's sessions: ports of the computed range only, counted refusals. */
static void
test_det_sessions(void **state)
{
	struct flow_session *s = NULL;
	struct nat_flow f;
	struct nf t;
	uint32_t pub = 0;
	uint16_t first = 0;
	unsigned how, i;

	(void)state;
	nf_up(&t, "t_dts", 256);
	/* Pool 4 (3 addresses) deterministic: 10.0.0.0/14 is 87382 per address, too many; /16 gets 2 ports each. */
	assert_int_equal(nat_det_setup(&t.r.policies.p[1].det, 0x0a000000u, 14, DIP_LO, 3), -EINVAL);
	assert_int_equal(nat_det_setup(&t.r.policies.p[1].det, 0x0a000000u, 16, DIP_LO, 3), 0);
	assert_int_equal(t.r.policies.p[1].det.ports, 2);
	assert_int_equal(nat_det_forward(&t.r.policies.p[1].det, 0x0a000005u, &pub, &first), 0);
	for (i = 0; i < 2; i++) {
		f = nf_pkt(0x0a000005, IPPROTO_UDP, (uint16_t)(1000 + i), 4500);
		assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
		assert_int_equal(rte_be_to_cpu_32(s->rw[0].src), pub);
		assert_true(s->nat_port >= first && s->nat_port < first + 2);
		assert_false(s->flags & FLOW_F_PBA);
	}
	f = nf_pkt(0x0a000005, IPPROTO_UDP, 1002, 4500);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NAT_DET_FULL);
	/* Its neighbour still gets its own. */
	f = nf_pkt(0x0a000006, IPPROTO_UDP, 1002, 4500);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	f = nf_pkt(0x0b000006, IPPROTO_UDP, 1002, 4500);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_NAT_DET_OUTSIDE);
	nf_down(&t);
}

/* RFC 6888 REQ-4: a subscriber's public ports limited and counted, the port given back on refusal. */
static void
test_port_limit(void **state)
{
	struct flow_session *s = NULL;
	struct nat_flow f;
	struct nf t;
	unsigned how, i;

	(void)state;
	nf_up(&t, "t_plim", 64);
	t.ctx.src_ports = nat_src_create("t_plims", 64, 0);
	assert_non_null(t.ctx.src_ports);
	t.r.port_limit = 3;
	for (i = 0; i < 3; i++) {
		f = nf_pkt(0x0a000001, IPPROTO_TCP, (uint16_t)(1000 + i), 443);
		assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
		assert_true(s->xflags & FLOW_X_PORT_COUNTED);
	}
	f = nf_pkt(0x0a000001, IPPROTO_TCP, 2000, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_SRC_PORT_LIMIT);
	nf_held(&t, 0x0a000001, 3, 3, 3);
	assert_int_equal(nat_src_count(t.ctx.src_ports, RTE_BE32(0x0a000001)), 3);
	/* Another host is not held back; a session table refusal gives the count back. */
	f = nf_pkt(0x0a000002, IPPROTO_TCP, 2000, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	t.r.zone_limit_src[Z_TRUST] = 1;
	f = nf_pkt(0x0a000002, IPPROTO_TCP, 2001, 443);
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), PKT_DROP_SRC_SESSION_LIMIT);
	assert_int_equal(nat_src_count(t.ctx.src_ports, RTE_BE32(0x0a000002)), 1);
	/* No limit: not counted at all. */
	t.r.port_limit = UINT32_MAX;
	t.r.zone_limit_src[Z_TRUST] = 100;
	assert_int_equal(nat_session_new(&t.ctx, &t.r, &f, 0, &s, &how), 0);
	assert_false(s->xflags & FLOW_X_PORT_COUNTED);
	assert_int_equal(nat_src_count(t.ctx.src_ports, RTE_BE32(0x0a000002)), 1);
	nat_src_free(t.ctx.src_ports);
	nf_down(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_exhaust_reuse),
		cmocka_unit_test(test_alloc_round_robin),
		cmocka_unit_test(test_reserve_never_handed_out),
		cmocka_unit_test(test_alloc_shared_words),
		cmocka_unit_test(test_addr_limit),
		cmocka_unit_test(test_alloc_concurrent_free),
		cmocka_unit_test(test_alloc_refusal_cost),
		cmocka_unit_test(test_policy_match),
		cmocka_unit_test(test_rewrite_random),
		cmocka_unit_test(test_icmp_all_zero_reply),
		cmocka_unit_test(test_icmp_error_rewrite),
		cmocka_unit_test(test_new_refusals),
		cmocka_unit_test(test_new_zone_rule_iface_nat),
		cmocka_unit_test(test_new_dip_and_icmp),
		cmocka_unit_test(test_new_port_exhaustion_rollback),
		cmocka_unit_test(test_new_rollback_full_alg_race),
		cmocka_unit_test(test_pba_alloc_free_interim),
		cmocka_unit_test(test_pba_exhaustion),
		cmocka_unit_test(test_pba_concurrent),
		cmocka_unit_test(test_pba_sessions),
		cmocka_unit_test(test_det_roundtrip),
		cmocka_unit_test(test_det_sessions),
		cmocka_unit_test(test_port_limit),
	};

	return cmocka_run_group_tests(tests, setup_eal, NULL);
}
