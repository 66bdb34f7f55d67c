/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP xlate table (lib/alg/pptp/pptp.h): capacity and the KB's
 * "Failed count", Call-ID exhaustion, ageing, the CLI walk and clear, RCU
 * safety of entry reuse under concurrent lock-free readers, and a table of
 * a million calls.
 *
 * Calls are made the way a worker makes them: real frames through pkt_parse
 * and pptp_ctrl_input.
 */
#include <pthread.h>
#include <sched.h>

#include "pptp_harness.h"


/* Several OCRQs (ids first, first + 1, ...) in one segment at the sender's position; returns the verdict. */
static int
ocrq_burst(struct conn *c, uint16_t first, unsigned n)
{
	uint8_t b[8 * 168];
	size_t len = 0;
	unsigned i;
	int rc;

	assert_true(n <= 8);
	for (i = 0; i < n; i++)
		len += msg(b + len, OCRQ, (uint16_t)(first + i), 0, 0);
	rc = seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, len, NULL);
	if (rc == 0)
		c->snd[0] += (uint32_t)len;
	return rc;
}

/* One whole message sent and forwarded whole, without recording (bulk senders). */
static void
send_msg(struct conn *c, unsigned dir, unsigned t, uint16_t f12, uint16_t f14, uint8_t result)
{
	uint8_t b[256];
	size_t len = msg(b, t, f12, f14, result), f;

	assert_int_equal(seg(c, dir, c->snd[dir], RTE_TCP_ACK_FLAG, b, len, &f), 0);
	assert_int_equal(f, len);
	c->snd[dir] += (uint32_t)len;
}

static bool
match_ip(const struct pptp_xlate_info *xi, void *arg)
{
	return xi->inside_ip == *(const uint32_t *)arg;
}

static bool
match_cid(const struct pptp_xlate_info *xi, void *arg)
{
	return xi->inside_cid == *(const uint16_t *)arg;
}

/* ---- tests ---- */

/* Full table: the OCRQ is dropped and counted ("Failed count"), and it passes once a call ends. */
static void
test_table_full(void **state)
{
	struct env *e = env_new(64, 4, 4);
	struct conn *a = conn_open(e, CLIENT1, 4762, 7263);
	struct conn *b = conn_open(e, CLIENT2, 2249, 7257);
	struct pptp_stats st;
	uint8_t m[256];
	size_t len = msg(m, OCRQ, 3, 0, 0), f;

	(void)state;
	xmit_msg(a, 0, OCRQ, 1, 0, 0);
	xmit_msg(a, 0, OCRQ, 2, 0, 0);
	xmit_msg(b, 0, OCRQ, 1, 0, 0);
	xmit_msg(b, 0, OCRQ, 2, 0, 0);
	st = stats(e);
	assert_int_equal(st.xlate_used, 4);
	assert_int_equal(st.xlate_max, 4);
	assert_int_equal(st.failed, 0);
	/* The fifth: dropped whole, never forwarded with the inside id. */
	assert_int_equal(seg(a, 0, a->snd[0], RTE_TCP_ACK_FLAG, m, len, NULL), PKT_DROP_PPTP_XLATE_FAIL);
	assert_int_equal(seg(a, 0, a->snd[0], RTE_TCP_ACK_FLAG, m, len, NULL), PKT_DROP_PPTP_XLATE_FAIL);
	st = stats(e);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.xlate_used, 4);
	assert_false(find_call(e, CLIENT1, 3, NULL));
	/* The other connection closes: its two calls go, and the retransmission passes. */
	assert_int_equal(seg(b, 0, b->snd[0], RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
	env_settle(e);
	assert_int_equal(stats(e).xlate_used, 2);
	assert_int_equal(seg(a, 0, a->snd[0], RTE_TCP_ACK_FLAG, m, len, &f), 0);
	assert_int_equal(f, len);
	assert_true(find_call(e, CLIENT1, 3, NULL));
	assert_int_equal(stats(e).xlate_used, 3);
	assert_int_equal(stats(e).failed, 2);
	free(a);
	free(b);
	env_free(e);
}

/* A Call-ID slice runs out: counted failure, and the freed id is handed out again. */
static void
test_callid_exhaustion(void **state)
{
	const unsigned nw = 16, w = 15;
	const unsigned slice = (NAT_PORT_MAX - NAT_PORT_MIN + 1) - (nw - 1) *
			       ((NAT_PORT_MAX - NAT_PORT_MIN + 1) / nw);
	struct env *e = env_new_w(64, slice + 16, 4, nw);
	struct conn *c = conn_open_pw(e, CLIENT1, 4762, PUB, 7263, w);
	struct nat_addr_info ni;
	struct pptp_xlate_info xi;
	uint16_t cid = 5, freed;
	unsigned made = 0;

	(void)state;
	c->norecord = true;
	while (made < slice) {
		unsigned n = RTE_MIN(8u, slice - made);

		assert_int_equal(ocrq_burst(c, (uint16_t)(1 + made), n), 0);
		made += n;
	}
	assert_int_equal(stats(e).xlate_used, slice);
	assert_int_equal(stats(e).failed, 0);
	assert_int_equal(pptp_addr_info(e->a, PUB, &ni), 0);
	assert_int_equal(ni.used, slice);
	/* One more: no Call ID left in this worker's slice. */
	assert_int_equal(ocrq_burst(c, 60000, 1), PKT_DROP_PPTP_XLATE_FAIL);
	assert_int_equal(stats(e).failed, 1);
	assert_int_equal(stats(e).xlate_used, slice);
	assert_int_equal(pptp_addr_info(e->a, PUB, &ni), 0);
	assert_int_equal(ni.failed, 1);
	/* Clear one call: its id is the only one free, and the retry gets it. */
	assert_true(find_call(e, CLIENT1, cid, &xi));
	freed = xi.xlated_cid;
	assert_int_equal(pptp_clear(e->a, match_cid, &cid), 1);
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(stats(e).xlate_used, slice - 1);
	assert_int_equal(ocrq_burst(c, 60000, 1), 0);
	assert_true(find_call(e, CLIENT1, 60000, &xi));
	assert_int_equal(xi.xlated_cid, freed);
	free(c);
	env_free(e);
}

/* A public address the ALG was not told about gets no Call IDs: counted, dropped. */
static void
test_unregistered_address(void **state)
{
	struct env *e = env_new(64, 8, 4);
	struct conn *c = conn_open_pw(e, CLIENT1, 4762, PUB + 1, 7263, 0);
	struct nat_addr_info ni;

	(void)state;
	assert_int_equal(ocrq_burst(c, 32768, 1), PKT_DROP_PPTP_XLATE_FAIL);
	assert_int_equal(stats(e).failed, 1);
	assert_int_equal(stats(e).xlate_used, 0);
	assert_int_equal(pptp_addr_info(e->a, PUB + 1, &ni), -ENOENT);
	assert_int_equal(pptp_addr_add(e->a, PUB + 1), 0);
	assert_int_equal(ocrq_burst(c, 32768, 1), 0);
	assert_int_equal(stats(e).xlate_used, 1);
	free(c);
	env_free(e);
}

static struct conn *
conn_syn(struct env *e, uint32_t client, uint16_t csport, uint16_t pubport)
{
	return conn_syn_pw(e, client, csport, PUB, pubport, 0);
}

/*
 * Issue 14 #14: unanswered SYNs to TCP/1723 take no control state, so a SYN
 * flood never blocks a real connection; a state is taken when the client's
 * handshake completes, at most per-source maximum per client (refusals
 * counted), and none left is a counted refusal that a retry overcomes.
 */
static void
test_ctrl_taken_at_handshake(void **state)
{
	struct env *e = env_new(256, 8, 4);
	struct conn *flood[64], *a, *b, *d;
	unsigned i;

	(void)state;
	/* 64 SYNs that nobody answers: no state, not even when the pool is 4. */
	for (i = 0; i < RTE_DIM(flood); i++)
		flood[i] = conn_syn(e, CLIENT2 + i, (uint16_t)(1024 + i), (uint16_t)(3000 + i));
	assert_int_equal(stats(e).ctrl_used, 0);
	/* Nor does data before the handshake completed (counted, dropped). */
	assert_int_equal(seg(flood[0], 1, flood[0]->snd[1], RTE_TCP_ACK_FLAG,
			     (const uint8_t *)"\x00\x10", 2, NULL), PKT_DROP_PPTP_GAP);
	assert_int_equal(stats(e).ctrl_used, 0);
	/* Data after a hole (its first bytes lost) cannot start the stream: no state from it. */
	assert_int_equal(seg(flood[1], 1, flood[1]->isn[1], RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
			     NULL, 0, NULL), 0);
	assert_int_equal(seg(flood[1], 0, flood[1]->snd[0] + 100, RTE_TCP_ACK_FLAG,
			     (const uint8_t *)"\x00\x10\x00\x01\x1a\x2b\x3c\x4e", 8, NULL),
			 PKT_DROP_PPTP_GAP);
	assert_int_equal(stats(e).ctrl_used, 0);
	/* The stream's first message does. */
	xmit_msg(flood[1], 0, SCCRQ, 0, 0, 0);
	assert_int_equal(stats(e).ctrl_used, 1);
	assert_int_equal(flow_delete(e->ft, flood[1]->s, false), 0);
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(stats(e).ctrl_used, 0);
	/* A real client still gets its state. */
	a = conn_open(e, CLIENT1, 4762, 7263);
	assert_int_equal(stats(e).ctrl_used, 1);
	call_up(a, 32768, 17382);
	/* Per source: CLIENT1 may hold two; the third is refused and counted. */
	pptp_set_ctrl_per_source(e->a, 2);
	b = conn_open(e, CLIENT1, 4763, 7264);
	d = conn_syn(e, CLIENT1, 4764, 7265);
	assert_int_equal(conn_handshake(d), PKT_DROP_PPTP_CTRL_LIMIT);
	assert_int_equal(stats(e).ctrl_refused, 1);
	assert_int_equal(stats(e).ctrl_per_src, 2);
	assert_int_equal(d->s->alg, FLOW_INVALID);
	/* One of CLIENT1's connections ends: the retransmitted SCCRQ now takes a state. */
	assert_int_equal(flow_delete(e->ft, b->s, false), 0);
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(stats(e).ctrl_used, 1);
	xmit_msg(d, 0, SCCRQ, 0, 0, 0);
	assert_int_not_equal(d->s->alg, FLOW_INVALID);
	assert_int_equal(stats(e).ctrl_used, 2);
	call_up(d, 32769, 17383);
	/* The pool (4) runs out: counted as failed, not as a per-source refusal. */
	pptp_set_ctrl_per_source(e->a, 64);
	free(b);
	b = conn_open(e, CLIENT2, 2249, 7257);
	free(b);
	b = conn_open(e, CLIENT2, 2250, 7258);
	free(b);
	b = conn_syn(e, CLIENT2, 2251, 7259);
	assert_int_equal(conn_handshake(b), PKT_DROP_PPTP_XLATE_FAIL);
	assert_int_equal(stats(e).ctrl_failed, 1);
	assert_int_equal(stats(e).ctrl_used, 4);
	/* A session freed before its handshake completed gives nothing back twice. */
	assert_int_equal(flow_delete(e->ft, b->s, false), 0);
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(stats(e).ctrl_used, 4);
	/* A late segment of the freed session takes nothing. */
	assert_int_equal(seg(b, 0, b->snd[0], RTE_TCP_ACK_FLAG, NULL, 0, NULL), PKT_DROP_NO_SESSION);
	assert_int_equal(stats(e).ctrl_used, 4);
	free(b);
	for (i = 0; i < RTE_DIM(flood); i++)
		free(flood[i]);
	free(a);
	free(d);
	env_free(e);
}

/* What the clear's match callback does: end the matched call on its "worker" and let another connection's new call take the slot. */
struct recycle_arg {
	struct conn *owner, *other;
	unsigned calls;
};

static bool
match_then_recycle(const struct pptp_xlate_info *xi, void *arg)
{
	struct recycle_arg *r = arg;

	if (xi->inside_ip != CLIENT1 || r->calls++ > 0)
		return false;
	/* Between the control lcore's look and its teardown, a worker ends the call ... */
	send_msg(r->owner, 1, CDN, 17382, 0, 3);
	env_settle(r->owner->e);
	/* ... and another client's call takes the very slot (the table has one). */
	send_msg(r->other, 0, OCRQ, 7, 0, 0);
	assert_int_equal(stats(r->owner->e).xlate_used, 1);
	return true;   /* the call it looked at matched */
}

/*
 * Issue 14 #17: `clear alg pptp xlate` acts on the call it matched, not on
 * one that a worker put in the same slot since: the slot's generation is
 * checked under the control state's lock.
 */
static void
test_clear_recycled_slot(void **state)
{
	struct env *e = env_new(64, 1, 4);
	struct recycle_arg r = { NULL, NULL, 0 };
	struct pptp_xlate_info xi;

	(void)state;
	r.owner = conn_open(e, CLIENT1, 4762, 7263);
	r.other = conn_open(e, CLIENT2, 2249, 7257);
	r.owner->norecord = r.other->norecord = true;
	send_msg(r.owner, 0, OCRQ, 1, 0, 0);
	assert_true(find_call(e, CLIENT1, 1, &xi));
	send_msg(r.owner, 1, OCRP, 17382, xi.xlated_cid, 1);
	assert_int_equal(pptp_clear(e->a, match_then_recycle, &r), 0);
	/* The other client's call is untouched. */
	assert_true(find_call(e, CLIENT2, 7, &xi));
	assert_int_equal(stats(e).calls_closed, 1);
	free(r.owner);
	free(r.other);
	env_free(e);
}

/* Ageing: a call without traffic expires after the xlate timeout; GRE through a gate keeps it. */
static void
test_expiry(void **state)
{
	struct env *e = env_new(64, 8, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	struct flow_session *g;
	struct flow_key k;
	uint16_t xcid;
	uint8_t dir;

	(void)state;
	pptp_set_timeout(e->a, 10);
	assert_int_equal(pptp_get_timeout(e->a), 10);
	xmit_msg(c, 0, OCRQ, 32768, 0, 0);          /* no reply: pending */
	pptp_tick(e->a, 1005, 100);
	assert_true(find_call(e, CLIENT1, 32768, &xi));
	env_clock(e, 1005);
	assert_true(find_call(e, CLIENT1, 32768, &xi));
	assert_int_equal(xi.time_left, 5);
	pptp_tick(e->a, 1009, 100);
	assert_int_equal(stats(e).calls_closed, 0);
	pptp_tick(e->a, 1010, 100);
	assert_int_equal(stats(e).calls_closed, 1);
	assert_int_equal(stats(e).xlate_used, 0);
	assert_false(find_call(e, CLIENT1, 32768, NULL));

	/* An established call: GRE seen at 2008 through gate B. */
	env_clock(e, 2000);
	xcid = call_up(c, 32769, 17382);
	flow_key_set(&k, rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(PUB), 0, rte_cpu_to_be_16(xcid),
		     IPPROTO_GRE);
	g = flow_lookup(e->ft, &k, &dir);
	assert_non_null(g);
	flow_touch(g, 2008);
	env_clock(e, 2015);
	pptp_tick(e->a, 2015, 100);
	assert_true(find_call(e, CLIENT1, 32769, &xi));
	assert_int_equal(xi.time_left, 3);
	pptp_tick(e->a, 2018, 100);
	assert_false(find_call(e, CLIENT1, 32769, NULL));
	assert_true(g->flags & FLOW_F_DEAD);
	assert_int_equal(stats(e).xlate_used, 1);   /* until the gates are aged */
	env_settle(e);
	assert_int_equal(stats(e).xlate_used, 0);
	assert_null(flow_lookup(e->ft, &k, &dir));
	free(c);
	env_free(e);
}

/* The KB's two clients: the walk gives everything "get alg pptp xlate" prints. */
struct kb_walk {
	char line[4][160];
	struct pptp_xlate_info xi[4];
	unsigned n;
};

static void
ip_str(uint32_t ip, char *b, size_t n)
{
	snprintf(b, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static int
kb_fn(const struct pptp_xlate_info *xi, void *arg)
{
	struct kb_walk *w = arg;
	char in[16], srv[16], pub[16];

	assert_true(w->n < 4);
	ip_str(xi->inside_ip, in, sizeof(in));
	ip_str(xi->server_ip, srv, sizeof(srv));
	ip_str(xi->public_ip, pub, sizeof(pub));
	snprintf(w->line[w->n], sizeof(w->line[0]),
		 "%s/%u->%s xlated to %s/%u->%s(0), src-port:%u, time:%u", in, xi->inside_cid, srv,
		 pub, xi->xlated_cid, srv, xi->src_port, xi->time_left);
	w->xi[w->n++] = *xi;
	return 0;
}

static int
stop_fn(const struct pptp_xlate_info *xi, void *arg)
{
	kb_fn(xi, arg);
	return 1;
}

static void
test_walk_kb(void **state)
{
	struct env *e = env_new(64, 2000, 4);
	struct conn *c1 = conn_open(e, CLIENT1, 4762, 7263);
	struct conn *c2 = conn_open(e, CLIENT2, 2249, 7257);
	struct kb_walk w;
	char want[2][160];
	uint16_t x1, x2;
	unsigned i, j;

	(void)state;
	pptp_set_timeout(e->a, 110);
	env_clock(e, 5000);
	x1 = call_up(c1, 32768, 17382);
	env_clock(e, 5010);
	x2 = call_up(c2, 16384, 999);
	snprintf(want[0], sizeof(want[0]),
		 "60.60.60.2/32768->172.19.50.129 xlated to 172.19.51.234/%u->172.19.50.129(0), src-port:4762, time:100",
		 x1);
	snprintf(want[1], sizeof(want[1]),
		 "60.60.60.3/16384->172.19.50.129 xlated to 172.19.51.234/%u->172.19.50.129(0), src-port:2249, time:110",
		 x2);
	memset(&w, 0, sizeof(w));
	pptp_xlate_walk(e->a, e->now, kb_fn, &w);
	assert_int_equal(w.n, 2);
	for (i = 0; i < 2; i++) {
		const struct conn *c = i == 0 ? c1 : c2;

		j = strcmp(w.line[0], want[i]) == 0 ? 0 : 1;
		assert_string_equal(w.line[j], want[i]);
		assert_int_equal(w.xi[j].server_cid, i == 0 ? 17382 : 999);
		assert_int_equal(w.xi[j].ctrl_sess_id, c->s->id);
		assert_int_equal(w.xi[j].gates, 2);
		assert_true(w.xi[j].nat);
		assert_true(w.xi[j].established);
	}
	assert_int_not_equal(x1, x2);
	assert_int_equal(stats(e).xlate_used, 2);
	assert_int_equal(stats(e).xlate_max, 2000);
	assert_int_equal(stats(e).failed, 0);
	/* A walk callback may stop it. */
	memset(&w, 0, sizeof(w));
	pptp_xlate_walk(e->a, e->now, stop_fn, &w);
	assert_int_equal(w.n, 1);
	/* Slice by slice (the CLI streams): budgets of one slot see each call once. */
	{
		uint32_t cursor = 0, slices = 0;
		bool more;

		memset(&w, 0, sizeof(w));
		do {
			uint32_t before = cursor;

			more = pptp_xlate_walk_from(e->a, e->now, &cursor, 1, kb_fn, &w);
			assert_true(cursor == before + 1);
			slices++;
		} while (more);
		assert_int_equal(slices, 2000);   /* every slot of the table, one a call */
		assert_int_equal(w.n, 2);
		assert_int_not_equal(strcmp(w.line[0], w.line[1]), 0);
		assert_true(strcmp(w.line[0], want[0]) == 0 || strcmp(w.line[1], want[0]) == 0);
		assert_true(strcmp(w.line[0], want[1]) == 0 || strcmp(w.line[1], want[1]) == 0);
		/* at the end the walk does nothing */
		assert_false(pptp_xlate_walk_from(e->a, e->now, &cursor, 10, kb_fn, &w));
		assert_int_equal(w.n, 2);
		/* a callback that stops ends the walk, whatever the budget left */
		cursor = 0;
		memset(&w, 0, sizeof(w));
		assert_false(pptp_xlate_walk_from(e->a, e->now, &cursor, 2000, stop_fn, &w));
		assert_int_equal(w.n, 1);
	}
	free(c1);
	free(c2);
	env_free(e);
}

/* Clear by a match: those calls' gates are deleted at once, the others stay. */
static void
test_clear(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c1 = conn_open(e, CLIENT1, 4762, 7263);
	struct conn *c2 = conn_open(e, CLIENT2, 2249, 7257);
	struct flow_stats fs;
	struct flow_key k;
	uint32_t ip = CLIENT2;
	uint16_t x2;
	uint8_t dir;

	(void)state;
	call_up(c1, 32768, 17382);
	x2 = call_up(c2, 16384, 999);
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 2 + 4);
	assert_int_equal(pptp_clear(e->a, match_ip, &ip), 1);
	flow_key_set(&k, rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(PUB), 0, rte_cpu_to_be_16(x2),
		     IPPROTO_GRE);
	assert_null(flow_lookup(e->ft, &k, &dir));
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 2 + 2);
	assert_true(find_call(e, CLIENT1, 32768, NULL));
	assert_false(find_call(e, CLIENT2, 16384, NULL));
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(stats(e).xlate_used, 1);
	/* The server's later messages about the cleared call are left alone and counted. */
	xmit_msg(c2, 1, SLI, x2, 0, 0);
	assert_int_equal(stats(e).err[PPTP_ERR_UNKNOWN_CID], 1);
	assert_int_equal(pptp_clear(e->a, NULL, NULL), 1);
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(stats(e).xlate_used, 0);
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 2);
	free(c1);
	free(c2);
	env_free(e);
}

/* Every error counter has a distinct name and help text. */
static void
test_err_names(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < PPTP_ERR_MAX; i++) {
		assert_true(strlen(pptp_err_name(i)) > 0);
		assert_true(strlen(pptp_err_help(i)) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(pptp_err_name(i), pptp_err_name(j));
	}
	assert_string_equal(pptp_err_name(PPTP_ERR_MAX), "?");
	assert_string_equal(pptp_err_name(PPTP_ERR_BAD_MAGIC), "bad-magic");
}

/* ---- concurrent lock-free readers ---- */

/*
 * Reader 0 holds one call's entry inside its read-side section while the
 * main thread tears that call down and then makes and ends calls until no
 * slot is left: with RCU-deferred reuse the held slot can never be handed
 * out meanwhile (the entry keeps its generation and contents). Reader 1
 * looks calls up freely all along.
 */
struct rd_shared {
	struct pptp_alg *a;
	volatile int stop;
	int round;          /* main: round r started, target_xcid set */
	int held;           /* reader 0: holds round r's call */
	int done;           /* main: round r's churn is over */
	int released;       /* reader 0: checked and quiescent */
	uint16_t target_xcid;
	uint64_t bad, hits[2], passes;
};

static void
rd_wait(int *v, int want)
{
	while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want)
		sched_yield();
}

static void *
holder(void *p)
{
	struct rd_shared *r = p;
	rte_be32_t pub = rte_cpu_to_be_32(PUB), srv = rte_cpu_to_be_32(SERVER);
	int round;

	rte_rcu_qsbr_thread_register(qsbr, 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	for (round = 1;; round++) {
		struct pptp_xlate_info xi, xj;

		rd_wait(&r->round, round);
		if (r->stop)
			break;
		if (pptp_xlate_lookup(r->a, pub, srv, rte_cpu_to_be_16(r->target_xcid), &xi) != 0 ||
		    xi.xlated_cid != r->target_xcid)
			r->bad++;
		r->hits[0]++;
		__atomic_store_n(&r->held, round, __ATOMIC_RELEASE);
		rd_wait(&r->done, round);
		/* Torn down and churned meanwhile: still the same call in the same slot. */
		if (pptp_xlate_get(r->a, xi.index, &xj) != 0 || xj.gen != xi.gen ||
		    xj.xlated_cid != xi.xlated_cid || xj.inside_cid != xi.inside_cid ||
		    xj.inside_ip != xi.inside_ip || xj.server_ip != xi.server_ip)
			r->bad++;
		rte_rcu_qsbr_quiescent(qsbr, 0);
		__atomic_store_n(&r->released, round, __ATOMIC_RELEASE);
	}
	rte_rcu_qsbr_thread_offline(qsbr, 0);
	rte_rcu_qsbr_thread_unregister(qsbr, 0);
	return NULL;
}

static void *
scanner(void *p)
{
	struct rd_shared *r = p;
	rte_be32_t pub = rte_cpu_to_be_32(PUB), srv = rte_cpu_to_be_32(SERVER);

	rte_rcu_qsbr_thread_register(qsbr, 1);
	rte_rcu_qsbr_thread_online(qsbr, 1);
	do {
		uint32_t i;

		for (i = 0; i < 8; i++) {
			struct pptp_xlate_info x0, xi, xj;

			if (pptp_xlate_get(r->a, i, &x0) != 0 ||
			    pptp_xlate_lookup(r->a, pub, srv, rte_cpu_to_be_16(x0.xlated_cid), &xi) != 0)
				continue;
			r->hits[1]++;
			if (xi.xlated_cid != x0.xlated_cid || xi.public_ip != PUB)
				r->bad++;
			sched_yield();
			if (pptp_xlate_get(r->a, xi.index, &xj) != 0 || xj.gen != xi.gen ||
			    xj.inside_cid != xi.inside_cid)
				r->bad++;
		}
		r->passes++;
		rte_rcu_qsbr_quiescent(qsbr, 1);
	} while (!r->stop);
	rte_rcu_qsbr_thread_offline(qsbr, 1);
	rte_rcu_qsbr_thread_unregister(qsbr, 1);
	return NULL;
}

static void
test_concurrent_readers(void **state)
{
	const int rounds = 300;
	struct env *e = env_new(256, 8, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct rd_shared r;
	pthread_t th[2];
	uint16_t cid = 2;
	unsigned churned = 0, never_dry = 0;
	int round;

	(void)state;
	c->norecord = true;
	memset(&r, 0, sizeof(r));
	r.a = e->a;
	send_msg(c, 0, OCRQ, 1, 0, 0);   /* a long-lived call */
	assert_int_equal(pthread_create(&th[0], NULL, holder, &r), 0);
	assert_int_equal(pthread_create(&th[1], NULL, scanner, &r), 0);
	for (round = 1; round <= rounds; round++) {
		struct pptp_xlate_info xi;
		uint16_t x = cid++, scid = (uint16_t)(20000 + round);
		unsigned n;

		/* Reclaim what the last round left (the scanner passes quiescent states on its own). */
		for (n = 0; stats(e).xlate_used > 1 && n < 1000000; n++) {
			flow_age(e->ft, 1024);
			flow_reclaim(e->ft);
			pptp_tick(e->a, e->now, 0);
			sched_yield();
		}
		assert_int_equal(ocrq_burst(c, x, 1), 0);
		assert_true(find_call(e, CLIENT1, x, &xi));
		if (round % 3 == 0)
			send_msg(c, 1, OCRP, scid, xi.xlated_cid, 1);
		r.target_xcid = xi.xlated_cid;
		__atomic_store_n(&r.round, round, __ATOMIC_RELEASE);
		rd_wait(&r.held, round);
		/* The held call ends, three ways in turn. */
		if (round % 3 == 0) {
			send_msg(c, 1, CDN, scid, 0, 3);
			flow_age(e->ft, 1024);   /* its gates go: the entry's last references */
		} else if (round % 3 == 1) {
			assert_int_equal(pptp_clear(e->a, match_cid, &x), 1);
		} else {
			send_msg(c, 0, CCRQ, x, 0, 0);
			send_msg(c, 0, CDN, x, 0, 0);
		}
		/* Make and end calls until no slot is left: the held one must not come back. */
		for (n = 0; n < 64; n++) {
			uint16_t y = cid++;

			pptp_tick(e->a, e->now, 0);
			if (ocrq_burst(c, y, 1) != 0)
				break;
			churned++;
			assert_int_equal(pptp_clear(e->a, match_cid, &y), 1);
		}
		if (n == 64)
			never_dry++;   /* slots came back while the holder held one */
		__atomic_store_n(&r.done, round, __ATOMIC_RELEASE);
		rd_wait(&r.released, round);
		if (cid > 60000)
			cid = 2;
	}
	r.stop = 1;
	__atomic_store_n(&r.round, rounds + 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(th[0], NULL), 0);
	assert_int_equal(pthread_join(th[1], NULL), 0);
	assert_int_equal(r.bad, 0);
	assert_int_equal(never_dry, 0);
	assert_int_equal(r.hits[0], rounds);
	assert_true(r.passes >= 1);
	/* Readers gone: everything but the long-lived call comes back. */
	env_settle(e);
	assert_int_equal(stats(e).xlate_used, 1);
	print_message("concurrent: %d rounds, %u calls churned, scanner %lu hits in %lu passes\n",
		      rounds, churned, (unsigned long)r.hits[1], (unsigned long)r.passes);
	free(c);
	env_free(e);
}

/* A million calls: 16 public addresses, one control connection each. */
static void
test_million_calls(void **state)
{
	const unsigned naddr = 16, per = 62500;
	struct env *e = env_new(64, 1000000, naddr);
	struct conn *c[16];
	struct pptp_stats st;
	unsigned i, made;

	(void)state;
	for (i = 0; i < naddr; i++) {
		assert_int_equal(pptp_addr_add(e->a, PUB + 1 + i), 0);
		c[i] = conn_open_pw(e, CLIENT1, (uint16_t)(3000 + i), PUB + 1 + i, 7000, 0);
		c[i]->norecord = true;
		for (made = 0; made < per; made += 8)
			assert_int_equal(ocrq_burst(c[i], (uint16_t)(1 + made), RTE_MIN(8u, per - made)),
					 0);
	}
	st = stats(e);
	assert_int_equal(st.xlate_used, 1000000);
	assert_int_equal(st.failed, 0);
	assert_int_equal(ocrq_burst(c[0], 65000, 1), PKT_DROP_PPTP_XLATE_FAIL);
	assert_int_equal(stats(e).failed, 1);
	/* Spot checks through the lock-free lookup. */
	for (i = 0; i < naddr; i++) {
		struct pptp_xlate_info xi;

		assert_int_equal(pptp_xlate_lookup(e->a, rte_cpu_to_be_32(PUB + 1 + i),
						   rte_cpu_to_be_32(SERVER),
						   rte_cpu_to_be_16(NAT_PORT_MIN + 777), &xi), 0);
		assert_int_equal(xi.public_ip, PUB + 1 + i);
		assert_int_equal(xi.inside_cid, 778);
	}
	for (i = 0; i < naddr; i++) {
		assert_int_equal(seg(c[i], 0, c[i]->snd[0], RTE_TCP_RST_FLAG, NULL, 0, NULL), 0);
		free(c[i]);
	}
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(stats(e).xlate_used, 0);
	assert_int_equal(stats(e).calls_closed, 1000000);
	env_free(e);
}

static int
setup(void **state)
{
	(void)state;
	return harness_setup("test_pptp_xlate", "1024");
}

/* What the quota hook was told. */
struct quota_seen {
	unsigned n;
	rte_be32_t client;
	uint32_t limit;
};

static void
quota_hook(void *arg, rte_be32_t client, uint32_t limit)
{
	struct quota_seen *q = arg;

	q->n++;
	q->client = client;
	q->limit = limit;
}

/*
 * Issue 18 (RFC 6888): an inside host at its per-client call limit is
 * refused like a full table, and the quota hook (the NAT log's quota
 * record) hears of each refusal; another host is not held back.
 */
static void
test_per_client_quota_hook(void **state)
{
	struct env *e = env_new(64, 8, 4);
	struct nat_src *pc = nat_src_create("t_pcq", 16, 0);
	struct conn *a = conn_open(e, CLIENT1, 4762, 7263);
	struct conn *b = conn_open(e, CLIENT2, 2249, 7257);
	struct quota_seen q = { 0 };
	uint8_t m[256];
	size_t len = msg(m, OCRQ, 3, 0, 0);

	(void)state;
	assert_non_null(pc);
	pptp_set_client_limit(e->a, pc, 2);
	pptp_set_quota_log(e->a, quota_hook, &q);
	xmit_msg(a, 0, OCRQ, 1, 0, 0);
	xmit_msg(a, 0, OCRQ, 2, 0, 0);
	assert_int_equal(q.n, 0);
	assert_int_equal(seg(a, 0, a->snd[0], RTE_TCP_ACK_FLAG, m, len, NULL), PKT_DROP_PPTP_XLATE_FAIL);
	assert_int_equal(q.n, 1);
	assert_int_equal(rte_be_to_cpu_32(q.client), CLIENT1);
	assert_int_equal(q.limit, 2);
	xmit_msg(b, 0, OCRQ, 1, 0, 0);
	assert_int_equal(q.n, 1);
	assert_int_equal(stats(e).xlate_used, 3);
	free(a);
	free(b);
	env_free(e);
	nat_src_free(pc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_callid_exhaustion),
		cmocka_unit_test(test_unregistered_address),
		cmocka_unit_test(test_ctrl_taken_at_handshake),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_walk_kb),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_concurrent_readers),
		cmocka_unit_test(test_million_calls),
		cmocka_unit_test(test_clear_recycled_slot),
		cmocka_unit_test(test_per_client_quota_hook),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
