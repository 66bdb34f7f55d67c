/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPFIX encoder (app/dpnat/ipfix.c, issue 18): a decoder written here
 * from RFC 7011 reads back what the encoder wrote - the templates, then data
 * records through those templates - and finds every field of every record;
 * message sizes stay within the budget, records are neither lost nor doubled
 * across messages, unknown record types are consumed and not encoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>

#include "ipfix.h"

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* A decoded template: its fields as (element id, length, enterprise). */
struct tmpl {
	unsigned id, n;
	struct { unsigned ie, len; uint32_t pen; } f[32];
};

static struct tmpl tmpls[8];
static unsigned n_tmpls;

/* A decoded data record: the value of each (pen, element id) seen, as an integer. */
struct rec {
	unsigned set;
	uint64_t v[2][512];   /* [0] IANA, [1] dpnat's enterprise */
	uint8_t has[2][512];
};

/* Check the message header; returns its length. */
static size_t
check_header(const uint8_t *m, size_t len, uint32_t seq)
{
	assert_true(len >= IPFIX_HDR_LEN);
	assert_int_equal(get16(m), 10);
	assert_int_equal(get16(m + 2), len);
	assert_int_equal(get32(m + 4), 1796000000u);
	assert_int_equal(get32(m + 8), seq);
	assert_int_equal(get32(m + 12), 7);
	return len;
}

static void
decode_templates(const uint8_t *m, size_t len)
{
	size_t off = IPFIX_HDR_LEN;

	check_header(m, len, 42);
	n_tmpls = 0;
	while (off < len) {
		unsigned sid = get16(m + off), slen = get16(m + off + 2);
		size_t p = off + 4;

		assert_int_equal(sid, 2);
		assert_true(off + slen <= len);
		while (p < off + slen) {
			struct tmpl *t = &tmpls[n_tmpls++];
			unsigned i;

			t->id = get16(m + p);
			t->n = get16(m + p + 2);
			p += 4;
			for (i = 0; i < t->n; i++) {
				unsigned ie = get16(m + p);

				t->f[i].ie = ie & 0x7fff;
				t->f[i].len = get16(m + p + 2);
				t->f[i].pen = 0;
				p += 4;
				if (ie & 0x8000) {
					t->f[i].pen = get32(m + p);
					p += 4;
				}
			}
		}
		assert_int_equal(p, off + slen);
		off += slen;
	}
	assert_int_equal(off, len);
}

static const struct tmpl *
find_tmpl(unsigned id)
{
	unsigned i;

	for (i = 0; i < n_tmpls; i++)
		if (tmpls[i].id == id)
			return &tmpls[i];
	fail_msg("no template %u", id);
	return NULL;
}

/* Decode the data records of a message into out[]; returns how many. */
static unsigned
decode_data(const uint8_t *m, size_t len, uint32_t seq, struct rec *out)
{
	size_t off = IPFIX_HDR_LEN;
	unsigned n = 0;

	check_header(m, len, seq);
	while (off < len) {
		unsigned sid = get16(m + off), slen = get16(m + off + 2);
		const struct tmpl *t = find_tmpl(sid);
		size_t p = off + 4;

		assert_true(slen > 4 && off + slen <= len);
		while (p < off + slen) {
			struct rec *r = &out[n++];
			unsigned i, k;

			memset(r, 0, sizeof(*r));
			r->set = sid;
			for (i = 0; i < t->n; i++) {
				unsigned e = t->f[i].pen != 0;
				uint64_t v = 0;

				assert_true(t->f[i].ie < 512);
				if (e)
					assert_int_equal(t->f[i].pen, IPFIX_PEN_DPNAT);
				for (k = 0; k < t->f[i].len; k++)
					v = v << 8 | m[p + k];
				r->v[e][t->f[i].ie] = v;
				r->has[e][t->f[i].ie] = 1;
				p += t->f[i].len;
			}
		}
		assert_int_equal(p, off + slen);
		off += slen;
	}
	assert_int_equal(off, len);
	return n;
}

static struct dp_natlog_rec
mkrec(unsigned type, unsigned i)
{
	struct dp_natlog_rec r;

	memset(&r, 0, sizeof(r));
	r.type = (uint8_t)type;
	r.proto = type == DP_NATLOG_CALL_NEW || type == DP_NATLOG_CALL_DEL ? 47 : (i & 1 ? 6 : 17);
	r.src = rte_cpu_to_be_32(0x0a000000u + i);
	r.dst = rte_cpu_to_be_32(0xc6336400u + i);
	r.xsrc = rte_cpu_to_be_32(0xcb007100u + i);
	r.xdst = r.dst;
	r.sport = rte_cpu_to_be_16((uint16_t)(1000 + i));
	r.dport = rte_cpu_to_be_16((uint16_t)(2000 + i));
	r.xsport = rte_cpu_to_be_16((uint16_t)(3000 + i));
	r.xdport = r.dport;
	r.tsc = 1000000 + 1000 * (uint64_t)i;   /* 1 ms apart at 1 MHz */
	r.limit = 100 + i;
	return r;
}

static const struct ipfix_clock clk = { 1796000000123ull, 1000000 + 1000 * 200, 1000000 };

/* Every field of a decoded record against the record it came from. */
static void
check_rec(const struct rec *d, const struct dp_natlog_rec *r, unsigned i)
{
	bool call = r->type == DP_NATLOG_CALL_NEW || r->type == DP_NATLOG_CALL_DEL;
	bool new = r->type == DP_NATLOG_SESS_NEW || r->type == DP_NATLOG_CALL_NEW;

	assert_int_equal(d->v[0][323], clk.now_ms - (200 - i));
	assert_int_equal(d->v[0][8], rte_be_to_cpu_32(r->src));
	if (r->type == DP_NATLOG_QUOTA) {
		assert_int_equal(d->set, IPFIX_TMPL_QUOTA_EXCEEDED);
		assert_int_equal(d->v[0][230], 13);     /* Quota exceeded */
		assert_int_equal(d->v[0][466], 3);      /* maximum entries per user */
		assert_int_equal(d->v[0][473], 100 + i);
		return;
	}
	if (r->type >= DP_NATLOG_PBA_ALLOC && r->type <= DP_NATLOG_PBA_INTERIM) {
		assert_int_equal(d->set, IPFIX_TMPL_PORT_BLOCK);
		assert_int_equal(d->v[0][230], r->type == DP_NATLOG_PBA_RELEASE ? 17 : 16);
		assert_int_equal(d->v[0][225], rte_be_to_cpu_32(r->xsrc));
		assert_int_equal(d->v[0][361], 3000 + i);   /* portRangeStart */
		assert_int_equal(d->v[0][362], 2000 + i);   /* portRangeEnd */
		assert_false(d->has[0][12] || d->has[0][7]);
		return;
	}
	if (r->type == DP_NATLOG_PORTS_EXHAUSTED) {
		assert_int_equal(d->set, IPFIX_TMPL_PORTS_EXHAUSTED);
		assert_int_equal(d->v[0][230], 12);     /* NAT ports exhausted */
		assert_int_equal(d->v[0][4], r->proto);
		assert_int_equal(d->v[0][12], rte_be_to_cpu_32(r->dst));
		assert_int_equal(d->v[0][7], 1000 + i);
		assert_int_equal(d->v[0][11], 2000 + i);
		assert_false(d->has[0][225]);
		return;
	}
	assert_int_equal(d->set, call ? IPFIX_TMPL_PPTP_CALL : IPFIX_TMPL_NAT44_SESSION);
	assert_int_equal(d->v[0][230], new ? 4 : 5);
	assert_int_equal(d->v[0][4], r->proto);
	assert_int_equal(d->v[0][8], rte_be_to_cpu_32(r->src));
	assert_int_equal(d->v[0][225], rte_be_to_cpu_32(r->xsrc));
	assert_int_equal(d->v[0][12], rte_be_to_cpu_32(r->dst));
	if (call) {
		assert_int_equal(d->v[1][IPFIX_IE_PPTP_CLIENT_CALL_ID], 1000 + i);
		assert_int_equal(d->v[1][IPFIX_IE_PPTP_XLATED_CALL_ID], 3000 + i);
		assert_int_equal(d->v[1][IPFIX_IE_PPTP_PEER_CALL_ID], 2000 + i);
		assert_false(d->has[0][7] || d->has[0][226]);
	} else {
		assert_int_equal(d->v[0][226], rte_be_to_cpu_32(r->xdst));
		assert_int_equal(d->v[0][7], 1000 + i);
		assert_int_equal(d->v[0][227], 3000 + i);
		assert_int_equal(d->v[0][11], 2000 + i);
		assert_int_equal(d->v[0][228], 2000 + i);
	}
}

/* Templates decode; 32 mixed records in one message decode field by field, in order. */
static void
test_roundtrip(void **state)
{
	static uint8_t msg[9000];
	static struct rec out[64];
	struct dp_natlog_rec recs[64];
	uint8_t enc[64];
	unsigned i, used, n, nenc;
	size_t len;

	(void)state;
	len = ipfix_templates(msg, sizeof(msg), 1796000000u, 42, 7);
	assert_true(len > 0);
	decode_templates(msg, len);
	assert_int_equal(n_tmpls, 5);
	assert_int_equal(find_tmpl(IPFIX_TMPL_NAT44_SESSION)->n, 11);
	assert_int_equal(find_tmpl(IPFIX_TMPL_PPTP_CALL)->n, 9);
	assert_int_equal(ipfix_templates(msg, len - 1, 1796000000u, 42, 7), 0);

	for (i = 0; i < 64; i++)
		recs[i] = mkrec(i % 7 == 3 ? DP_NATLOG_CALL_NEW : i % 7 == 5 ? DP_NATLOG_CALL_DEL :
				i % 11 == 4 ? DP_NATLOG_QUOTA : i % 11 == 7 ? DP_NATLOG_PORTS_EXHAUSTED :
				i % 13 == 9 ? DP_NATLOG_PBA_ALLOC : i % 13 == 10 ? DP_NATLOG_PBA_RELEASE :
				i % 13 == 11 ? DP_NATLOG_PBA_INTERIM :
				i & 2 ? DP_NATLOG_SESS_DEL : DP_NATLOG_SESS_NEW, i);
	/* A jumbo MTU: all 64 in one message. */
	len = ipfix_encode(msg, 9000 - IPFIX_UDP_IP_HDR, recs, 64, &clk, 1796000000u, 99, 7, &used, enc, &nenc);
	assert_true(len > 0 && len <= 9000 - IPFIX_UDP_IP_HDR);
	assert_int_equal(used, 64);
	assert_int_equal(nenc, 64);
	n = decode_data(msg, len, 99, out);
	assert_int_equal(n, 64);
	for (i = 0; i < 64; i++) {
		assert_int_equal(enc[i], 1);
		check_rec(&out[i], &recs[i], i);
	}
	ipfix_set_seq(msg, 1234);
	assert_int_equal(get32(msg + 8), 1234);
}

/* A small budget splits the records over several messages: each within it, every record once. */
static void
test_split(void **state)
{
	static uint8_t msg[9000];
	static struct rec out[64];
	struct dp_natlog_rec recs[32];
	unsigned i, k, used, n, nenc, total = 0, msgs = 0;
	uint8_t enc[32];
	uint32_t seq = 0;
	size_t cap = 576 - IPFIX_UDP_IP_HDR;

	(void)state;
	decode_templates(msg, ipfix_templates(msg, sizeof(msg), 1796000000u, 42, 7));
	for (i = 0; i < 32; i++)
		recs[i] = mkrec(i >= 20 && i % 3 == 0 ? DP_NATLOG_CALL_DEL : DP_NATLOG_SESS_NEW, i);
	for (i = 0; i < 32; i += used) {
		size_t len = ipfix_encode(msg, cap, recs + i, 32 - i, &clk, 1796000000u, seq, 7, &used, enc,
					  &nenc);

		assert_true(len > 0 && len <= cap);
		assert_true(used > 0);
		n = decode_data(msg, len, seq, out);
		assert_int_equal(n, nenc);
		assert_int_equal(n, used);
		for (k = 0; k < n; k++)
			check_rec(&out[k], &recs[i + k], i + k);
		seq += n;
		total += n;
		msgs++;
	}
	assert_int_equal(total, 32);
	assert_true(msgs >= 2);
}

/* A record type without a template (a kind added to dp_natlog.h only) is consumed, never encoded. */
static void
test_unknown_type(void **state)
{
	static uint8_t msg[2000];
	static struct rec out[8];
	struct dp_natlog_rec recs[3] = { mkrec(DP_NATLOG_SESS_NEW, 0), mkrec(200, 1), mkrec(DP_NATLOG_SESS_DEL, 2) };
	unsigned used, nenc;
	uint8_t enc[3];
	size_t len;

	(void)state;
	assert_int_equal(ipfix_record_len(200), 0);
	assert_int_equal(ipfix_record_len(0), 0);
	decode_templates(msg, ipfix_templates(msg, sizeof(msg), 1796000000u, 42, 7));
	len = ipfix_encode(msg, sizeof(msg), recs, 3, &clk, 1796000000u, 5, 7, &used, enc, &nenc);
	assert_int_equal(used, 3);
	assert_int_equal(nenc, 2);
	assert_true(enc[0] == 1 && enc[1] == 0 && enc[2] == 1);
	assert_int_equal(decode_data(msg, len, 5, out), 2);
	check_rec(&out[0], &recs[0], 0);
	check_rec(&out[1], &recs[2], 2);
	/* Only unknown records: nothing to send, all consumed. */
	len = ipfix_encode(msg, sizeof(msg), &recs[1], 1, &clk, 1796000000u, 5, 7, &used, enc, &nenc);
	assert_int_equal(len, 0);
	assert_int_equal(used, 1);
	assert_int_equal(nenc, 0);
}

/*
 * 20000 random batches: any record type (most without a template), any
 * budget from the smallest that holds one record to a jumbo frame. Nothing
 * is written past the budget, every message decodes, every known record is
 * encoded exactly once and in order, every unknown one never.
 */
static void
test_random(void **state)
{
	static uint8_t msg[9000 + 64];
	static struct rec out[64];
	struct dp_natlog_rec recs[64];
	uint8_t enc[64];
	unsigned iter, i, k, used, nenc, n;
	uint32_t seq = 0;

	(void)state;
	srand(18);
	decode_templates(msg, ipfix_templates(msg, sizeof(msg), 1796000000u, 42, 7));
	for (iter = 0; iter < 20000; iter++) {
		unsigned nrec = 1 + (unsigned)rand() % 64, done = 0, want = 0;
		size_t cap = IPFIX_HDR_LEN + IPFIX_SET_HDR_LEN + 34 + (unsigned)rand() % (9000 - 54);

		for (i = 0; i < nrec; i++) {
			unsigned t = (unsigned)rand() % 8 == 0 ? (unsigned)rand() % 256 : 1 + (unsigned)rand() % DP_NATLOG_PORTS_EXHAUSTED;

			recs[i] = mkrec(t, i);
			want += ipfix_record_len(t) != 0;
		}
		for (i = 0; i < nrec; i += used) {
			size_t len;

			memset(msg, 0xa5, sizeof(msg));
			len = ipfix_encode(msg, cap, recs + i, nrec - i, &clk, 1796000000u, seq, 7, &used, enc, &nenc);
			assert_true(used > 0);
			assert_true(len <= cap);
			for (k = (unsigned)cap; k < sizeof(msg); k++)
				assert_int_equal(msg[k], 0xa5);
			n = len != 0 ? decode_data(msg, len, seq, out) : 0;
			assert_int_equal(n, nenc);
			for (k = 0, n = 0; k < used; k++) {
				assert_int_equal(enc[k], ipfix_record_len(recs[i + k].type) != 0);
				if (enc[k])
					check_rec(&out[n++], &recs[i + k], i + k);
			}
			seq += nenc;
			done += nenc;
		}
		assert_int_equal(done, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
