/* SPDX-License-Identifier: BSD-3-Clause */
/* The session table's promises (lib/flow/flow.h), failures included. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "flow.h"

static struct rte_rcu_qsbr *qsbr;
static unsigned freed_calls;

static int
setup_eal(void **state)
{
	char *argv[] = { "test_flow", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--no-telemetry", "-l", "0", "--log-level=error" };
	size_t sz;

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	sz = rte_rcu_qsbr_get_memsize(2);
	qsbr = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	return rte_rcu_qsbr_init(qsbr, 2);
}

static void
on_free(struct flow_session *s, void *arg)
{
	(void)s;
	(void)arg;
	freed_calls++;
}

/* A translated TCP session from 10.0.0.<host>:<port> to 1.2.3.4:80 via 5.5.5.5:<pub>. */
static struct flow_session *
make(struct flow_table *ft, unsigned w, uint8_t host, uint16_t port, uint16_t pub)
{
	struct flow_session *s = flow_alloc(ft, w);
	rte_be32_t in = rte_cpu_to_be_32(0x0a000000u | host), srv = RTE_BE32(0x01020304),
		   pa = RTE_BE32(0x05050505);

	if (s == NULL)
		return NULL;
	flow_key_set(&s->key[0], in, srv, rte_cpu_to_be_16(port), RTE_BE16(80), IPPROTO_TCP);
	flow_key_set(&s->key[1], srv, pa, RTE_BE16(80), rte_cpu_to_be_16(pub), IPPROTO_TCP);
	flow_rw_set(&s->rw[0], pa, srv, rte_cpu_to_be_16(pub), RTE_BE16(80));
	flow_rw_set(&s->rw[1], srv, in, RTE_BE16(80), rte_cpu_to_be_16(port));
	s->proto = IPPROTO_TCP;
	s->tcp = FLOW_TCP_SYN0 | FLOW_TCP_SYN1;
	return s;
}

/* Both directions find the one session, with the right direction. */
static void
test_insert_lookup(void **state)
{
	struct flow_table *ft = flow_create("t_il", 64, 2, qsbr, on_free, NULL, 0);
	struct flow_session *s, *got[2];
	struct flow_key keys[2];
	uint8_t dir[2];
	uint64_t hits;

	(void)state;
	assert_non_null(ft);
	s = make(ft, 0, 1, 1000, 2000);
	assert_int_equal(flow_insert(ft, s, 0), 0);
	keys[0] = s->key[1];
	keys[1] = s->key[0];
	hits = flow_lookup_bulk(ft, keys, 2, got, dir);
	assert_int_equal(hits, 3);
	assert_ptr_equal(got[0], s);
	assert_int_equal(dir[0], 1);
	assert_ptr_equal(got[1], s);
	assert_int_equal(dir[1], 0);
	assert_ptr_equal(flow_by_id(ft, s->id), s);
	flow_free(ft);
}

/*
 * A one-way session: packets find it by key[0] only; key[1] is its wing,
 * found by a lookup that asks for one (flow_key_wing), and a two-way
 * session with the same second key is not disturbed by it.
 */
static void
test_oneway(void **state)
{
	struct flow_table *ft = flow_create("t_ow", 8, 1, qsbr, NULL, NULL, 0);
	struct flow_session *s, *t;
	struct flow_key k;
	uint8_t dir = 9;

	(void)state;
	assert_non_null(ft);
	s = make(ft, 0, 1, 1000, 2000);
	s->oneway = 1;
	k = s->key[1];
	assert_int_equal(flow_insert(ft, s, 0), 0);
	assert_ptr_equal(flow_lookup(ft, &s->key[0], &dir), s);
	assert_int_equal(dir, 0);
	assert_null(flow_lookup(ft, &k, &dir));     /* no packet matches the wing */
	flow_key_wing(&k);
	assert_memory_equal(&s->key[1], &k, sizeof(k));
	assert_ptr_equal(flow_lookup(ft, &k, &dir), s);
	assert_int_equal(dir, 1);
	/* A two-way session whose reply key is the wing's packet form goes in beside it. */
	t = make(ft, 0, 2, 1001, 2000);
	t->key[1] = s->key[1];
	t->key[1].pad[0] = 0;
	assert_int_equal(flow_insert(ft, t, 0), 0);
	k.pad[0] = 0;
	assert_ptr_equal(flow_lookup(ft, &k, &dir), t);
	flow_free(ft);
}

/* A duplicate key is refused and nothing of the second session stays. */
static void
test_duplicate(void **state)
{
	struct flow_table *ft = flow_create("t_dup", 8, 1, qsbr, NULL, NULL, 0);
	struct flow_stats st;
	struct flow_session *a, *b;
	uint8_t dir;
	unsigned i;

	(void)state;
	a = make(ft, 0, 1, 1000, 2000);
	assert_int_equal(flow_insert(ft, a, 0), 0);
	b = make(ft, 0, 1, 1000, 2001);   /* same forward key */
	assert_int_equal(flow_insert(ft, b, 0), -EEXIST);
	flow_stats_get(ft, &st);
	assert_int_equal(st.alloc, 1);
	assert_int_equal(st.insert_failed, 1);
	assert_ptr_equal(flow_lookup(ft, &a->key[0], &dir), a);
	/* A failed insert leaves b the caller's, whole (issue 14.2); flow_release ends it. */
	assert_int_equal(rte_be_to_cpu_16(b->key[1].dport), 2001);
	assert_int_equal(b->in_use, 0);
	flow_release(ft, b, 0);
	assert_int_not_equal(b->key[0].proto, IPPROTO_TCP);   /* poisoned: any later use shows */
	for (i = 0; i < 7; i++)
		assert_non_null(flow_alloc(ft, 0));           /* and it is free again: 8 in all */
	assert_null(flow_alloc(ft, 0));
	flow_free(ft);
}

/* The table refuses the (max+1)th session, counts it, and takes one again after a delete + grace period. */
static void
test_full_and_reuse(void **state)
{
	struct flow_table *ft = flow_create("t_full", 16, 1, qsbr, on_free, NULL, 0);
	struct flow_session *all[16], *s;
	struct flow_stats st;
	unsigned i;

	(void)state;
	freed_calls = 0;
	for (i = 0; i < 16; i++) {
		all[i] = make(ft, 0, (uint8_t)i, 1000, (uint16_t)(2000 + i));
		assert_non_null(all[i]);
		assert_int_equal(flow_insert(ft, all[i], 0), 0);
	}
	assert_null(flow_alloc(ft, 0));
	flow_stats_get(ft, &st);
	assert_int_equal(st.alloc, 16);
	assert_int_equal(st.alloc_failed, 1);
	assert_int_equal(st.per_worker[0], 16);

	assert_int_equal(flow_delete(ft, all[3], false), 0);
	assert_int_equal(flow_delete(ft, all[3], false), -ENOENT);
	assert_int_equal(freed_calls, 1);
	/* No reader registered as online: the grace period is over at once. */
	flow_reclaim(ft);
	s = make(ft, 0, 99, 1000, 3000);
	assert_non_null(s);
	assert_int_equal(flow_insert(ft, s, 0), 0);
	flow_stats_get(ft, &st);
	assert_int_equal(st.alloc, 16);
	assert_int_equal(st.cleared, 1);
	assert_int_equal(st.pending_free, 0);
	flow_free(ft);
}

/* Objects are not reused while an online reader has not passed a quiescent state. */
static void
test_rcu_defers_reuse(void **state)
{
	struct flow_table *ft = flow_create("t_rcu", 2, 1, qsbr, NULL, NULL, 0);
	struct flow_session *a, *b;
	struct flow_stats st;

	(void)state;
	rte_rcu_qsbr_thread_register(qsbr, 1);
	rte_rcu_qsbr_thread_online(qsbr, 1);
	a = make(ft, 0, 1, 1000, 2000);
	b = make(ft, 0, 2, 1000, 2001);
	assert_int_equal(flow_insert(ft, a, 0), 0);
	assert_int_equal(flow_insert(ft, b, 0), 0);
	assert_int_equal(flow_delete(ft, a, true), 0);
	flow_reclaim(ft);
	flow_stats_get(ft, &st);
	assert_int_equal(st.pending_free, 1);
	assert_null(flow_alloc(ft, 0));            /* still held back */
	rte_rcu_qsbr_quiescent(qsbr, 1);
	flow_reclaim(ft);
	flow_stats_get(ft, &st);
	assert_int_equal(st.pending_free, 0);
	assert_non_null(flow_alloc(ft, 0));
	rte_rcu_qsbr_thread_offline(qsbr, 1);
	rte_rcu_qsbr_thread_unregister(qsbr, 1);
	flow_free(ft);
}

/* Ageing deletes at the timeout boundary, per class, with the TCP state deciding the class. */
static void
test_ageing(void **state)
{
	struct flow_table *ft = flow_create("t_age", 8, 1, qsbr, NULL, NULL, 0);
	struct flow_session *est, *syn, *fin;
	struct flow_stats st;

	(void)state;
	flow_set_timeout(ft, FLOW_TMO_TCP, 100);
	flow_set_timeout(ft, FLOW_TMO_TCP_SYN, 20);
	flow_set_timeout(ft, FLOW_TMO_TCP_CLOSING, 5);
	flow_set_clock(ft, 1000);
	est = make(ft, 0, 1, 1, 2001);
	syn = make(ft, 0, 2, 1, 2002);
	fin = make(ft, 0, 3, 1, 2003);
	syn->tcp = FLOW_TCP_SYN0;
	fin->tcp |= FLOW_TCP_FIN0 | FLOW_TCP_FIN1;
	assert_int_equal(flow_insert(ft, est, 0), 0);
	assert_int_equal(flow_insert(ft, syn, 0), 0);
	assert_int_equal(flow_insert(ft, fin, 0), 0);
	assert_int_equal(flow_session_tmo(est), FLOW_TMO_TCP);
	assert_int_equal(flow_session_tmo(syn), FLOW_TMO_TCP_SYN);
	assert_int_equal(flow_session_tmo(fin), FLOW_TMO_TCP_CLOSING);

	flow_set_clock(ft, 1004);
	assert_int_equal(flow_time_left(ft, fin), 1);
	assert_int_equal(flow_age(ft, 8), 0);
	flow_set_clock(ft, 1005);
	assert_int_equal(flow_age(ft, 8), 1);       /* fin */
	flow_touch(syn, 1010);                       /* traffic restarts the clock */
	flow_set_clock(ft, 1029);
	assert_int_equal(flow_age(ft, 8), 0);
	flow_set_clock(ft, 1030);
	assert_int_equal(flow_age(ft, 8), 1);       /* syn */
	assert_int_equal(flow_time_left(ft, est), 70);
	/* A run-time timeout change applies to existing sessions. */
	flow_set_timeout(ft, FLOW_TMO_TCP, 30);
	assert_int_equal(flow_age(ft, 8), 1);
	flow_stats_get(ft, &st);
	assert_int_equal(st.aged, 3);
	assert_int_equal(st.alloc, 0);
	flow_free(ft);
}

/* A killed session is gone at the next ageing pass whatever its timeout. */
static void
test_kill(void **state)
{
	struct flow_table *ft = flow_create("t_kill", 8, 1, qsbr, NULL, NULL, 0);
	struct flow_session *a = make(ft, 0, 1, 1, 2001), *b = make(ft, 0, 2, 1, 2002);

	(void)state;
	flow_set_clock(ft, 10);
	assert_int_equal(flow_insert(ft, a, 0), 0);
	assert_int_equal(flow_insert(ft, b, 0), 0);
	flow_kill(a);
	assert_int_equal(flow_time_left(ft, a), 0);
	assert_int_equal(flow_age(ft, 8), 1);
	assert_false(a->in_use);
	assert_true(b->in_use);
	flow_free(ft);
}

/* Ageing is incremental: a budget visits only that many slots. */
static void
test_ageing_slices(void **state)
{
	struct flow_table *ft = flow_create("t_slice", 64, 1, qsbr, NULL, NULL, 0);
	unsigned i, total = 0, calls = 0;

	(void)state;
	flow_set_timeout(ft, FLOW_TMO_TCP, 10);
	for (i = 0; i < 64; i++)
		assert_int_equal(flow_insert(ft, make(ft, 0, (uint8_t)i, 7, (uint16_t)(1024 + i)), 0), 0);
	flow_set_clock(ft, 50);
	while (total < 64) {
		unsigned n = flow_age(ft, 8);

		assert_true(n <= 8);
		total += n;
		assert_true(++calls <= 8);
	}
	assert_int_equal(calls, 8);
	flow_free(ft);
}

struct reader_arg {
	struct flow_table *ft;
	struct flow_key keys[32];
	volatile int stop;
	uint64_t bad, hits;
};

/* A worker-like reader: lookups in a loop, checks what it sees belongs to the key. */
static void *
reader(void *p)
{
	struct reader_arg *ra = p;

	rte_rcu_qsbr_thread_register(qsbr, 1);
	rte_rcu_qsbr_thread_online(qsbr, 1);
	while (!ra->stop) {
		unsigned i;

		for (i = 0; i < 32; i++) {
			uint8_t dir;
			struct flow_session *s = flow_lookup(ra->ft, &ra->keys[i], &dir);

			if (s == NULL)
				continue;
			ra->hits++;
			/* Until we report quiescence the object must still be this key's. */
			if (memcmp(&s->key[dir], &ra->keys[i], sizeof(ra->keys[i])) != 0)
				ra->bad++;
		}
		rte_rcu_qsbr_quiescent(qsbr, 1);
	}
	rte_rcu_qsbr_thread_offline(qsbr, 1);
	rte_rcu_qsbr_thread_unregister(qsbr, 1);
	return NULL;
}

/*
 * The key index holds a full table of keys that differ only by counters
 * (the shape real traffic has: one client's ports, a range of public
 * ports), finds each in both directions, one by one and a burst at a time,
 * and is empty again after deletes. 32768 sessions fill exactly half of
 * the slots: the most a full table ever asks of the index.
 */
static void
test_fill_structured(void **state)
{
	const uint32_t max = 32768;
	struct flow_table *ft = flow_create("t_fill", max, 1, qsbr, NULL, NULL, 0);
	struct flow_session **all = calloc(max, sizeof(*all));
	struct flow_stats st;
	uint32_t i;

	(void)state;
	assert_non_null(ft);
	assert_non_null(all);
	for (i = 0; i < max; i++) {
		struct flow_session *s = flow_alloc(ft, 0);
		rte_be32_t in = rte_cpu_to_be_32(0x0a000001u + i / 8), srv = rte_cpu_to_be_32(0xc6120001u + i % 16),
			   pa = RTE_BE32(0x64400001);

		assert_non_null(s);
		flow_key_set(&s->key[0], in, srv, rte_cpu_to_be_16((uint16_t)(10000 + i % 8)), RTE_BE16(53),
			     IPPROTO_UDP);
		flow_key_set(&s->key[1], srv, pa, RTE_BE16(53), rte_cpu_to_be_16((uint16_t)(1024 + i)),
			     IPPROTO_UDP);
		assert_int_equal(flow_insert(ft, s, 0), 0);
		all[i] = s;
	}
	for (i = 0; i < max; i++) {
		uint8_t d;

		assert_ptr_equal(flow_lookup(ft, &all[i]->key[0], &d), all[i]);
		assert_int_equal(d, 0);
		assert_ptr_equal(flow_lookup(ft, &all[i]->key[1], &d), all[i]);
		assert_int_equal(d, 1);
	}
	for (i = 0; i < max; i += 32) {
		struct flow_key keys[64];
		struct flow_session *got[64];
		uint8_t dir[64];
		unsigned j;

		for (j = 0; j < 32; j++) {
			keys[2 * j] = all[i + j]->key[0];
			keys[2 * j + 1] = all[i + j]->key[1];
		}
		assert_int_equal(flow_lookup_bulk(ft, keys, 64, got, dir), UINT64_MAX);
		for (j = 0; j < 64; j++) {
			assert_ptr_equal(got[j], all[i + j / 2]);
			assert_int_equal(dir[j], j & 1);
		}
	}
	for (i = 0; i < max; i++) {
		struct flow_key k = all[i]->key[0];
		uint8_t d;

		assert_int_equal(flow_delete(ft, all[i], false), 0);
		assert_null(flow_lookup(ft, &k, &d));
	}
	rte_rcu_qsbr_thread_register(qsbr, 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	rte_rcu_qsbr_quiescent(qsbr, 0);
	flow_reclaim(ft);
	rte_rcu_qsbr_thread_offline(qsbr, 0);
	rte_rcu_qsbr_thread_unregister(qsbr, 0);
	flow_stats_get(ft, &st);
	assert_int_equal(st.alloc, 0);
	assert_int_equal(st.insert_failed, 0);
	free(all);
	flow_free(ft);
}

/* Deletes and re-inserts race lock-free readers: no reader ever sees a recycled object. */
static void
test_concurrent_readers(void **state)
{
	struct reader_arg ra = { 0 };
	struct flow_session *live[32] = { 0 };
	struct timespec t0, t;
	pthread_t th;
	unsigned i, round = 0;

	(void)state;
	/* Small table: deleted objects must be recycled quickly to catch mistakes. */
	ra.ft = flow_create("t_conc", 40, 1, qsbr, NULL, NULL, 0);
	for (i = 0; i < 32; i++) {
		live[i] = make(ra.ft, 0, (uint8_t)i, 5000, (uint16_t)(1024 + i));
		ra.keys[i] = live[i]->key[i & 1];
		assert_int_equal(flow_insert(ra.ft, live[i], 0), 0);
	}
	assert_int_equal(pthread_create(&th, NULL, reader, &ra), 0);
	/* The reader is online and reading before the first delete. */
	while (__atomic_load_n(&ra.hits, __ATOMIC_RELAXED) == 0)
		sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		i = round++ % 32;
		assert_int_equal(flow_delete(ra.ft, live[i], false), 0);
		flow_reclaim(ra.ft);
		/* Re-insert the same flow (new object, maybe another slot). */
		while ((live[i] = make(ra.ft, 0, (uint8_t)i, 5000, (uint16_t)(1024 + i))) == NULL)
			flow_reclaim(ra.ft);   /* all spare objects still in their grace period */
		assert_int_equal(flow_insert(ra.ft, live[i], 0), 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
		/* A number of rounds, not a time: each waits for the reader's grace periods,
		 * which a loaded machine stretches; the time cap only stops a hang. */
	} while (round < 300 &&
		 (t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 60000000000L);
	ra.stop = 1;
	pthread_join(th, NULL);
	assert_int_equal(ra.bad, 0);
	assert_true(ra.hits > 0);
	assert_int_equal(round, 300);
	flow_free(ra.ft);
}

/*
 * Each worker keeps a few free objects of its own (no shared ring operation
 * per session): together at most an eighth of the table, and the table
 * still gives out exactly max distinct objects between the workers.
 */
static void
test_worker_caches(void **state)
{
	const unsigned max = 256;
	struct flow_table *ft = flow_create("t_wc", max, 2, qsbr, NULL, NULL, 0);
	struct flow_session *got[256], *s;
	unsigned n0 = 0, n = 0, i, j;
	struct flow_stats st;

	(void)state;
	assert_non_null(ft);
	flow_release(ft, flow_alloc(ft, 1), 1);   /* worker 1's cache now holds a refill */
	while ((s = flow_alloc(ft, 0)) != NULL)
		got[n++] = s;
	n0 = n;
	assert_true(n0 < max);
	assert_true(n0 >= max - max / 8);
	while ((s = flow_alloc(ft, 1)) != NULL) {
		assert_true(n < max);
		got[n++] = s;
	}
	assert_int_equal(n, max);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			assert_ptr_not_equal(got[i], got[j]);
	flow_stats_get(ft, &st);
	assert_int_equal(st.alloc_failed, 2);
	/* Given back by worker 0, taken by worker 1 but for what worker 0 keeps, which it takes. */
	for (i = 0; i < n; i++)
		flow_release(ft, got[i], 0);
	for (n = 0; flow_alloc(ft, 1) != NULL; n++)
		;
	assert_true(n >= max - max / 8);
	for (; flow_alloc(ft, 0) != NULL; n++)
		;
	assert_int_equal(n, max);
	flow_free(ft);
}

/*
 * Writers on several threads at once (workers creating sessions while the
 * control lcore deletes): the index takes no table-wide lock, so these
 * check what its bucket locks must keep.
 */
#define CW_THREADS 4
#define CW_KEYS    64     /* contested keys a round */
#define CW_ROUNDS  5000
#define CW_OWN     3000   /* uncontested sessions per thread in the churn */

struct cw_arg {
	struct flow_table *ft;
	unsigned t;
	unsigned won[CW_ROUNDS];                 /* contested: sessions this thread inserted a round */
	struct flow_session *mine[CW_ROUNDS][CW_KEYS];
	unsigned lost;                           /* -EEXIST */
	unsigned other;                          /* any other failure */
	struct flow_session *own[CW_OWN];        /* churn: published for the deleter */
	unsigned n_own;                          /* how many of own[] are published (release) */
	unsigned unlinked;                       /* churn: own sessions this thread unlinked */
};

static unsigned cw_ready;

/* All CW_THREADS writers and the main thread meet: the k-th barrier. */
static void
cw_barrier(unsigned k)
{
	unsigned spins = 0;

	/* Spins a while first, so that the threads on the CPUs leave together and meet on the keys. */
	__atomic_fetch_add(&cw_ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&cw_ready, __ATOMIC_ACQUIRE) < (CW_THREADS + 1) * k)
		if (++spins % 1024 == 0)
			sched_yield();
}

/*
 * Session i (< 60000) of a set: from 10.<set>.x.y:<port> to
 * 198.18.0.<i % 16>:53 via 100.64.<set>.<alt>:<1024 + i>; key[0] depends on
 * (set, i, port), key[1] on (set, i, alt).
 */
static struct flow_session *
cw_make(struct flow_table *ft, unsigned w, unsigned set, unsigned i, uint16_t port, uint8_t alt)
{
	struct flow_session *s = flow_alloc(ft, w);
	rte_be32_t in = rte_cpu_to_be_32(0x0a000000u | set << 16 | i),
		   srv = rte_cpu_to_be_32(0xc6120000u | (i % 16)),
		   pa = rte_cpu_to_be_32(0x64400000u | set << 8 | alt);
	uint16_t pub = (uint16_t)(1024 + i);

	if (s == NULL)
		return NULL;
	flow_key_set(&s->key[0], in, srv, rte_cpu_to_be_16(port), RTE_BE16(53), IPPROTO_UDP);
	flow_key_set(&s->key[1], srv, pa, RTE_BE16(53), rte_cpu_to_be_16(pub), IPPROTO_UDP);
	flow_rw_set(&s->rw[0], pa, srv, rte_cpu_to_be_16(pub), RTE_BE16(53));
	flow_rw_set(&s->rw[1], srv, in, RTE_BE16(53), rte_cpu_to_be_16(port));
	s->proto = IPPROTO_UDP;
	return s;
}

static void *
cw_writer(void *p)
{
	struct cw_arg *a = p;
	unsigned r, k, i;
	cpu_set_t all;
	long c, n = sysconf(_SC_NPROCESSORS_ONLN);

	/* The EAL pinned the main thread (and so its children) to one CPU: run on all of them. */
	CPU_ZERO(&all);
	for (c = 0; c < n && c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	pthread_setaffinity_np(pthread_self(), sizeof(all), &all);

	for (r = 0; r < CW_ROUNDS; r++) {
		cw_barrier(2 * r + 1);
		/*
		 * Every thread inserts the same CW_KEYS flows in the same order
		 * (so that they meet on each): even rounds the same forward key with this
		 * thread's own public port (two workers racing on one new flow),
		 * odd rounds the same reply key from different sources.
		 */
		for (k = 0; k < CW_KEYS; k++) {
			struct flow_session *s;
			int rc;

			i = k;
			s = r % 2 == 0 ? cw_make(a->ft, a->t, 1, r * CW_KEYS + i, 5000, (uint8_t)a->t) :
					 cw_make(a->ft, a->t, 1, r * CW_KEYS + i, (uint16_t)(5000 + a->t), 0);
			if (s == NULL) {
				a->other++;
				continue;
			}
			rc = flow_insert(a->ft, s, a->t);
			if (rc == 0) {
				a->mine[r][i] = s;
				a->won[r]++;
			} else {
				a->other += rc != -EEXIST;
				a->lost += rc == -EEXIST;
				flow_release(a->ft, s, a->t);
			}
		}
		cw_barrier(2 * r + 2);
	}
	/* Churn: own flows, every fourth unlinked again at once (ALG teardown), while main deletes. */
	cw_barrier(2 * CW_ROUNDS + 1);
	for (i = 0; i < CW_OWN; i++) {
		struct flow_session *s;

		while ((s = cw_make(a->ft, a->t, 2 + a->t, i, 7000, 0)) == NULL)
			sched_yield();   /* objects in their grace period: the deleter reclaims */
		if (flow_insert(a->ft, s, a->t) != 0) {
			a->other++;
			flow_release(a->ft, s, a->t);
			s = NULL;
		} else if (i % 4 == 3) {
			flow_unlink(a->ft, s);
			a->unlinked++;
		}
		a->own[i] = s;
		__atomic_store_n(&a->n_own, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The session key k finds, or NULL; checks the direction and that the session holds k. */
static struct flow_session *
cw_find(struct flow_table *ft, const struct flow_key *k, unsigned want_dir)
{
	struct flow_session *s;
	uint8_t d;

	s = flow_lookup(ft, k, &d);
	if (s != NULL) {
		assert_int_equal(d, want_dir);
		assert_memory_equal(&s->key[d], k, sizeof(*k));
	}
	return s;
}

/*
 * Four threads insert the same flows at the same time, round after round:
 * exactly one session per flow wins (the rest get -EEXIST, as
 * nat_session_new's race path expects) and both its keys find it; then
 * each inserts its own flows (unlinking some) while the main thread
 * deletes them as they appear: nothing lost, nothing found twice, the
 * index empty at the end.
 */
static void
test_concurrent_writers(void **state)
{
	struct flow_table *ft = flow_create("t_cw", CW_THREADS * CW_OWN + CW_THREADS * CW_KEYS * 2, CW_THREADS,
					    qsbr, NULL, NULL, 0);
	struct cw_arg *a = calloc(CW_THREADS, sizeof(*a));
	pthread_t th[CW_THREADS];
	unsigned t, r, i, lost = 0, deleted[CW_THREADS] = { 0 }, n_del = 0, unlinked = 0;
	struct flow_stats st;

	(void)state;
	assert_non_null(ft);
	assert_non_null(a);
	cw_ready = 0;
	for (t = 0; t < CW_THREADS; t++) {
		a[t].ft = ft;
		a[t].t = t;
		assert_int_equal(pthread_create(&th[t], NULL, cw_writer, &a[t]), 0);
	}
	for (r = 0; r < CW_ROUNDS; r++) {
		unsigned won = 0;

		cw_barrier(2 * r + 1);
		cw_barrier(2 * r + 2);
		for (i = 0; i < CW_KEYS; i++) {
			struct flow_session *w = NULL;

			for (t = 0; t < CW_THREADS; t++)
				if (a[t].mine[r][i] != NULL) {
					assert_null(w);   /* two winners: a duplicate key */
					w = a[t].mine[r][i];
				}
			assert_non_null(w);
			assert_ptr_equal(cw_find(ft, &w->key[0], 0), w);
			assert_ptr_equal(cw_find(ft, &w->key[1], 1), w);
		}
		for (t = 0; t < CW_THREADS; t++)
			won += a[t].won[r];
		assert_int_equal(won, CW_KEYS);
		/* Delete the round's sessions: their keys are gone, nothing else of them stays. */
		for (t = 0; t < CW_THREADS; t++)
			for (i = 0; i < CW_KEYS; i++)
				if (a[t].mine[r][i] != NULL) {
					struct flow_session *s = a[t].mine[r][i];
					struct flow_key k0 = s->key[0], k1 = s->key[1];

					assert_int_equal(flow_delete(ft, s, false), 0);
					assert_null(cw_find(ft, &k0, 0));
					assert_null(cw_find(ft, &k1, 1));
				}
		flow_reclaim(ft);
	}
	/* Churn: delete every other published session while the writers go on. */
	cw_barrier(2 * CW_ROUNDS + 1);
	for (;;) {
		unsigned busy = 0;

		for (t = 0; t < CW_THREADS; t++) {
			unsigned n = __atomic_load_n(&a[t].n_own, __ATOMIC_ACQUIRE);

			busy += n < CW_OWN;
			for (; deleted[t] < n; deleted[t] += 2) {
				struct flow_session *s = a[t].own[deleted[t]];

				if (s != NULL && flow_delete(ft, s, false) == 0) {
					a[t].own[deleted[t]] = NULL;
					n_del++;
				}
			}
		}
		flow_reclaim(ft);
		if (busy == 0)
			break;
		sched_yield();
	}
	for (t = 0; t < CW_THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(a[t].other, 0);
		lost += a[t].lost;
		unlinked += a[t].unlinked;
	}
	assert_int_equal(lost, CW_ROUNDS * CW_KEYS * (CW_THREADS - 1));
	/* What is left: found by both keys unless unlinked; then deleted, and found no more. */
	for (t = 0; t < CW_THREADS; t++)
		for (i = 0; i < CW_OWN; i++) {
			struct flow_session *s = a[t].own[i];
			struct flow_key k0, k1;

			if (s == NULL)
				continue;
			k0 = s->key[0];
			k1 = s->key[1];
			if (i % 4 == 3) {
				assert_null(cw_find(ft, &k0, 0));
			} else {
				assert_ptr_equal(cw_find(ft, &k0, 0), s);
				assert_ptr_equal(cw_find(ft, &k1, 1), s);
			}
			assert_int_equal(flow_delete(ft, s, false), 0);
			assert_null(cw_find(ft, &k0, 0));
			assert_null(cw_find(ft, &k1, 1));
		}
	flow_reclaim(ft);
	flow_stats_get(ft, &st);
	assert_int_equal(st.alloc, 0);
	assert_int_equal(st.insert_failed, lost);
	assert_int_equal(st.created, CW_ROUNDS * CW_KEYS + CW_THREADS * CW_OWN);
	assert_true(n_del > 0 && unlinked > 0);
	free(a);
	flow_free(ft);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_oneway),
		cmocka_unit_test(test_full_and_reuse),
		cmocka_unit_test(test_rcu_defers_reuse),
		cmocka_unit_test(test_ageing),
		cmocka_unit_test(test_ageing_slices),
		cmocka_unit_test(test_kill),
		cmocka_unit_test(test_fill_structured),
		cmocka_unit_test(test_concurrent_readers),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_worker_caches),
	};

	return cmocka_run_group_tests(tests, setup_eal, NULL);
}
