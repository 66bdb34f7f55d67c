/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP control-stream parser (lib/alg/pptp/pptp.h): message validation,
 * Call ID rewrites across any segmentation, retransmissions, gaps, the GRE
 * gates an accepted call opens and the teardowns that close them.
 *
 * Real Ethernet/IPv4/TCP frames go through pkt_parse and pptp_ctrl_input, as
 * on a worker; every forwarded segment's checksums are verified by a full
 * recomputation written here, independent of lib/pkt's helpers, and what
 * each side receives is reassembled like a TCP receiver does.
 */
#include "pptp_harness.h"

/* A GRE v1 (PPTP) frame with the given call id. */
static struct rte_mbuf *
gre_frame(uint32_t src, uint32_t dst, uint16_t call_id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p, *ip, *g;
	unsigned tot = 20 + 12 + 4;

	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + tot)));
	p = rte_pktmbuf_mtod(m, uint8_t *);
	memset(p, 0, RTE_ETHER_HDR_LEN + tot);
	memcpy(p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	ip = p + RTE_ETHER_HDR_LEN;
	ip[0] = 0x45;
	wire_put16(ip + 2, (uint16_t)tot);
	ip[8] = 64;
	ip[9] = IPPROTO_GRE;
	wire_put32(ip + 12, src);
	wire_put32(ip + 16, dst);
	wire_put16(ip + 10, (uint16_t)~wire_fold(wire_sum16(ip, 20, 0)));
	g = ip + 20;
	wire_put16(g, 0x3001);           /* key + sequence present, version 1 */
	wire_put16(g + 2, 0x880b);
	wire_put16(g + 4, 4);
	wire_put16(g + 6, call_id);
	wire_put32(g + 8, 1);
	memcpy(g + 12, "\xff\x03\xc0\x21", 4);
	return m;
}

/* A GRE packet from src to dst with call_id goes through a gate and comes out as expected. */
static void
assert_gre_passes(struct env *e, uint32_t src, uint32_t dst, uint16_t call_id, uint32_t out_src,
		  uint32_t out_dst, uint16_t out_call_id)
{
	struct rte_mbuf *m = gre_frame(src, dst, call_id);
	struct pkt_meta *md = pkt_md(m);
	struct flow_session *s;
	struct flow_key k;
	const uint8_t *ip;
	uint8_t dir = 9;

	assert_int_equal(pkt_parse(m, md), PKT_CLASS_IPV4);
	assert_true(md->gre & PKT_GRE_V1_KEY);
	flow_key_set(&k, md->src, md->dst, md->sport, md->dport, md->l4_proto);
	s = flow_lookup(e->ft, &k, &dir);
	assert_non_null(s);
	assert_int_equal(dir, 0);
	assert_true(s->flags & FLOW_F_ALG_DATA);
	assert_false(s->flags & FLOW_F_DEAD);
	nat_rewrite(m, md, &s->rw[dir]);
	ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);
	assert_int_equal(wire_fold(wire_sum16(ip, 20, 0)), 0xffff);
	assert_int_equal((uint32_t)wire_get16(ip + 12) << 16 | wire_get16(ip + 14), out_src);
	assert_int_equal((uint32_t)wire_get16(ip + 16) << 16 | wire_get16(ip + 18), out_dst);
	assert_int_equal(wire_get16(ip + 20 + 6), out_call_id);
	rte_pktmbuf_free(m);
}


/* ---- tests ---- */

/* Every control message with its exact length passes, from either side, and counts no error. */
static void
test_all_types_exact_length(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct conn *c2 = conn_open(e, CLIENT2, 2249, 7257);
	struct pptp_stats st;
	unsigned t, i;

	(void)state;
	/* From the server: no id of the client's is named, so nothing is translated or refused. */
	for (t = SCCRQ; t <= SLI; t++)
		xmit_msg(c, 1, t, 0x1000 + t, 0x2000 + t, 1);
	/* From the client, in an order where every Call ID it names is known. */
	{
		static const unsigned order[] = { SCCRQ, SCCRP, ECHORQ, ECHORP, OCRQ, OCRP, ICRQ,
						  ICRP, ICCN, WEN, SLI, CCRQ, CDN, STOPRQ, STOPRP };

		for (i = 0; i < RTE_DIM(order); i++)
			xmit_msg(c2, 0, order[i], 0x4000, 0x6000, 1);
	}
	st = stats(e);
	for (i = 0; i < PPTP_ERR_MAX; i++)
		if (i != PPTP_ERR_UNKNOWN_CID)
			assert_int_equal(st.err[i], 0);
	assert_int_equal(st.desynced, 0);
	assert_int_equal(c->dropped + c2->dropped, 0);
	assert_int_equal(c->rcv_len[1], 156 + 156 + 16 + 16 + 16 + 20 + 168 + 32 + 220 + 24 + 28 +
					16 + 148 + 40 + 24);
	assert_int_equal(c2->rcv_len[0], c->rcv_len[1]);
	free(c);
	free(c2);
	env_free(e);
}

/* Each type with any other length is refused: counted, dropped, and the connection stays desynced. */
static void
test_wrong_length_each_type(void **state)
{
	struct env *e = env_new(64, 16, 20);
	unsigned t;

	(void)state;
	for (t = SCCRQ; t <= SLI; t++) {
		struct conn *c = conn_open(e, CLIENT1, (uint16_t)(5000 + t), (uint16_t)(8000 + t));
		struct pptp_stats before = stats(e), after;
		uint8_t b[256];
		size_t len;

		memset(b, 0x5a, sizeof(b));
		len = msg(b, t, 0x10, 0x20, 1);
		size_t bad = len + 4 <= 220 ? len + 4 : len - 4;

		wire_put16(b, (uint16_t)bad);
		assert_int_equal(seg(c, t & 1, c->snd[t & 1], RTE_TCP_ACK_FLAG, b, bad, NULL),
				 PKT_DROP_PPTP_BAD);
		after = stats(e);
		assert_int_equal(after.err[PPTP_ERR_WRONG_LEN], before.err[PPTP_ERR_WRONG_LEN] + 1);
		assert_int_equal(after.desynced, before.desynced + 1);
		/* Desynced: even a valid message is not forwarded any more, in either direction. */
		len = msg(b, ECHORQ, 1, 2, 0);
		assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, len, NULL), PKT_DROP_PPTP_BAD);
		assert_int_equal(seg(c, 1, c->snd[1], RTE_TCP_ACK_FLAG, b, len, NULL), PKT_DROP_PPTP_BAD);
		assert_int_equal(stats(e).err[PPTP_ERR_DESYNC], before.err[PPTP_ERR_DESYNC] + 2);
		/* A bare ACK still passes. */
		assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
		free(c);
	}
	assert_int_equal(stats(e).err[PPTP_ERR_WRONG_LEN], 15);
	env_free(e);
}

/* Bad cookie, message type, control type and length field: each counted under its own name. */
static void
test_bad_header_fields(void **state)
{
	static const struct {
		unsigned off, width;
		uint32_t val;
		enum pptp_err err;
	} cases[] = {
		{ 4, 4, 0x1A2B3C4E, PPTP_ERR_BAD_MAGIC },
		{ 4, 4, 0, PPTP_ERR_BAD_MAGIC },
		{ 2, 2, 2, PPTP_ERR_BAD_TYPE },
		{ 2, 2, 0, PPTP_ERR_BAD_TYPE },
		{ 8, 2, 0, PPTP_ERR_BAD_CTRL },
		{ 8, 2, 16, PPTP_ERR_BAD_CTRL },
		{ 0, 2, 8, PPTP_ERR_BAD_LEN },
		{ 0, 2, 0, PPTP_ERR_BAD_LEN },
		{ 0, 2, 4000, PPTP_ERR_BAD_LEN },
	};
	struct env *e = env_new(64, 16, 16);
	unsigned i;

	(void)state;
	for (i = 0; i < RTE_DIM(cases); i++) {
		struct conn *c = conn_open(e, CLIENT1, (uint16_t)(6000 + i), (uint16_t)(9000 + i));
		struct pptp_stats before = stats(e);
		uint8_t b[256];
		size_t len = msg(b, ECHORQ, 1, 2, 0);

		if (cases[i].width == 4)
			wire_put32(b + cases[i].off, cases[i].val);
		else
			wire_put16(b + cases[i].off, (uint16_t)cases[i].val);
		/* A good message in front of the bad one in the same segment does not save it. */
		memmove(b + 16, b, len);
		msg(b, ECHORQ, 3, 4, 0);
		assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, 16 + len, NULL),
				 PKT_DROP_PPTP_BAD);
		assert_int_equal(stats(e).err[cases[i].err], before.err[cases[i].err] + 1);
		assert_int_equal(c->rcv_len[0], 0);
		free(c);
	}
	env_free(e);
}

/* Several messages in one segment: each parsed, the OCRQ in the middle translated. */
static void
test_several_messages_one_segment(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	uint8_t b[1024];
	size_t n = 0;
	uint16_t xcid;

	(void)state;
	n += msg(b + n, SCCRQ, 0, 0, 0);
	n += msg(b + n, ECHORQ, 0, 0, 0);
	n += msg(b + n, OCRQ, 32768, 77, 0);
	n += msg(b + n, ECHORP, 0, 0, 1);
	xmit(c, 0, b, n);
	assert_true(find_call(e, CLIENT1, 32768, &xi));
	xcid = xi.xlated_cid;
	assert_true(xcid >= NAT_PORT_MIN);
	assert_int_not_equal(xcid, 32768);
	assert_int_equal(rcv16(c, 0, 156 + 16 + 12), xcid);
	/* Everything else arrived as sent. */
	wire_put16(b + 156 + 16 + 12, xcid);
	assert_memory_equal(c->rcv[0], b, n);
	assert_int_equal(c->fwd, 4);   /* SYN, SYN-ACK, ACK, one data segment */

	/* The server's reply shares a segment with an SCCRP and an echo. */
	n = 0;
	n += msg(b + n, SCCRP, 0, 0, 1);
	n += msg(b + n, OCRP, 17382, xcid, 1);
	n += msg(b + n, ECHORQ, 0, 0, 0);
	xmit(c, 1, b, n);
	assert_int_equal(rcv16(c, 1, 156 + 14), 32768);
	assert_int_equal(stats(e).gates_opened, 2);
	assert_true(find_call(e, CLIENT1, 32768, &xi));
	assert_int_equal(xi.server_cid, 17382);
	assert_int_equal(xi.gates, 2);
	assert_true(xi.established);
	free(c);
	env_free(e);
}

/* Split an OCRQ at every point: the server always gets the translated id, one entry is made. */
static void
test_ocrq_every_split(void **state)
{
	struct env *e = env_new(1024, 400, 400);
	unsigned k;

	(void)state;
	pptp_set_ctrl_per_source(e->a, 400);
	for (k = 1; k < 168; k++) {
		struct conn *c = conn_open(e, CLIENT1, (uint16_t)(10000 + k), (uint16_t)(20000 + k));
		struct pptp_xlate_info xi;
		uint8_t b[256];
		size_t len = msg(b, OCRQ, (uint16_t)(1000 + k), 9, 0), f1, f2;
		uint32_t base = c->snd[0];
		uint16_t trims = (uint16_t)stats(e).err[PPTP_ERR_SPLIT_TRIM];

		assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b, k, &f1), 0);
		if (k == 13) {
			/* Ends inside the Call ID: trimmed to just before it. */
			assert_int_equal(f1, 12);
			assert_int_equal(stats(e).err[PPTP_ERR_SPLIT_TRIM], trims + 1u);
			assert_false(find_call(e, CLIENT1, (uint16_t)(1000 + k), NULL));
		} else {
			assert_int_equal(f1, k);
		}
		/* The sender resends from what was acknowledged. */
		assert_int_equal(seg(c, 0, base + (uint32_t)f1, RTE_TCP_ACK_FLAG, b + f1, len - f1, &f2), 0);
		assert_int_equal(f2, len - f1);
		assert_int_equal(c->rcv_len[0], len);
		assert_true(find_call(e, CLIENT1, (uint16_t)(1000 + k), &xi));
		assert_int_equal(rcv16(c, 0, 12), xi.xlated_cid);
		assert_int_not_equal(xi.xlated_cid, 1000 + k);
		wire_put16(b + 12, xi.xlated_cid);
		assert_memory_equal(c->rcv[0], b, len);
		free(c);
	}
	assert_int_equal(stats(e).xlate_used, 167);
	assert_int_equal(stats(e).failed, 0);
	env_free(e);
}

/* A segment that starts at the Call ID and ends inside it is dropped; the whole field then passes. */
static void
test_split_field_starting_segment_dropped(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	uint8_t b[256];
	size_t len = msg(b, OCRQ, 32768, 9, 0), f;
	uint32_t base = c->snd[0];

	(void)state;
	assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b, 12, &f), 0);
	assert_int_equal(f, 12);
	assert_int_equal(seg(c, 0, base + 12, RTE_TCP_ACK_FLAG, b + 12, 1, NULL), PKT_DROP_PPTP_SPLIT);
	assert_int_equal(stats(e).err[PPTP_ERR_SPLIT_TRIM], 1);
	assert_int_equal(stats(e).xlate_used, 0);
	/* Three bytes from the field on: the id is whole, translated. */
	assert_int_equal(seg(c, 0, base + 12, RTE_TCP_ACK_FLAG, b + 12, 3, &f), 0);
	assert_int_equal(f, 3);
	assert_int_equal(seg(c, 0, base + 15, RTE_TCP_ACK_FLAG, b + 15, len - 15, &f), 0);
	assert_true(find_call(e, CLIENT1, 32768, &xi));
	assert_int_equal(rcv16(c, 0, 12), xi.xlated_cid);
	assert_int_equal(c->rcv_len[0], len);
	free(c);
	env_free(e);
}

/* Split an OCRP at every point: the client gets its own id back, the gates open once. */
static void
test_ocrp_every_split(void **state)
{
	struct env *e = env_new(1024, 64, 64);
	unsigned k;

	(void)state;
	for (k = 1; k < 32; k++) {
		struct conn *c = conn_open(e, CLIENT1, (uint16_t)(10000 + k), (uint16_t)(20000 + k));
		struct pptp_xlate_info xi;
		uint8_t b[256];
		uint16_t xcid;
		size_t len, f1, f2;
		uint32_t base;
		uint64_t gates = stats(e).gates_opened;

		xmit_msg(c, 0, OCRQ, 40000, 1, 0);
		xcid = rcv16(c, 0, 12);
		len = msg(b, OCRP, (uint16_t)(500 + k), xcid, 1);
		base = c->snd[1];
		assert_int_equal(seg(c, 1, base, RTE_TCP_ACK_FLAG, b, k, &f1), 0);
		assert_true(f1 == k || (k == 15 && f1 == 14));
		assert_int_equal(seg(c, 1, base + (uint32_t)f1, RTE_TCP_ACK_FLAG, b + f1, len - f1, &f2), 0);
		assert_int_equal(f1 + f2, len);
		assert_int_equal(rcv16(c, 1, 12), 500 + k);
		assert_int_equal(rcv16(c, 1, 14), 40000);
		assert_int_equal(stats(e).gates_opened, gates + 2);
		assert_true(find_call(e, CLIENT1, 40000, &xi));
		assert_int_equal(xi.server_cid, 500 + k);
		assert_int_equal(xi.gates, 2);
		/* The client's id went back at whatever offset the segment put it. */
		wire_put16(b + 14, 40000);
		assert_memory_equal(c->rcv[1], b, len);
		/* Close it so the next round's gates do not clash. */
		assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
		env_settle(e);
		free(c);
	}
	assert_int_equal(stats(e).xlate_used, 0);
	env_free(e);
}

/* A message that straddles segments at an odd offset: the rewrite's checksum patch is byte-swapped. */
static void
test_odd_offset_rewrite(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	uint8_t b[512];
	size_t n = 0, f;
	uint32_t base = c->snd[0];
	unsigned i;

	(void)state;
	n += msg(b + n, ECHORQ, 0, 0, 0);
	n += msg(b + n, OCRQ, 0x8001, 0, 0);
	/* 16 + 5 bytes first: the second segment starts 5 bytes into the OCRQ, its Call ID at payload offset 7. */
	assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b, 21, &f), 0);
	assert_int_equal(f, 21);
	assert_int_equal(seg(c, 0, base + 21, RTE_TCP_ACK_FLAG, b + 21, n - 21, &f), 0);
	assert_int_equal(f, n - 21);
	assert_true(find_call(e, CLIENT1, 0x8001, &xi));
	assert_int_equal(rcv16(c, 0, 16 + 12), xi.xlated_cid);
	c->snd[0] += (uint32_t)n;
	/* Every odd position of the id in the second segment: each checksum verified by seg(). */
	for (i = 0; i < 6; i++) {
		unsigned k = 2 * i + 1;
		uint16_t cid = (uint16_t)(0x01ff + 0x100 * i);
		uint32_t start = c->snd[0], roff = c->rcv_len[0];
		size_t len = msg(b, OCRQ, cid, 0, 0);

		assert_int_equal(seg(c, 0, start, RTE_TCP_ACK_FLAG, b, k, &f), 0);
		assert_int_equal(f, k);
		assert_int_equal(seg(c, 0, start + k, RTE_TCP_ACK_FLAG, b + k, len - k, &f), 0);
		assert_int_equal(f, len - k);
		assert_true(find_call(e, CLIENT1, cid, &xi));
		assert_int_equal(rcv16(c, 0, roff + 12), xi.xlated_cid);
		assert_int_not_equal(xi.xlated_cid, cid);
		c->snd[0] += (uint32_t)len;
	}
	assert_int_equal(stats(e).xlate_used, 7);
	free(c);
	env_free(e);
}

/* A retransmission gets the identical rewrite and allocates nothing; overlaps are replayed and parsed. */
static void
test_retransmission(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_stats st;
	uint8_t b[512];
	size_t len = msg(b, OCRQ, 32768, 9, 0), f;
	uint32_t base = c->snd[0];
	uint16_t xcid;
	unsigned i;

	(void)state;
	c->noack = true;   /* the sender never learns it arrived */
	assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b, len, &f), 0);
	xcid = rcv16(c, 0, 12);
	for (i = 0; i < 3; i++) {
		/* seg() asserts that every byte delivered again equals the first delivery. */
		assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b, len, &f), 0);
		assert_int_equal(f, len);
	}
	/* Resegmented retransmissions: ending inside the id, starting inside it. */
	assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b, 13, &f), 0);
	assert_int_equal(seg(c, 0, base + 13, RTE_TCP_ACK_FLAG, b + 13, 20, &f), 0);
	/* ... and with the id at odd payload offsets: whole at 1, half at 9. */
	assert_int_equal(seg(c, 0, base + 11, RTE_TCP_ACK_FLAG, b + 11, 29, &f), 0);
	assert_int_equal(seg(c, 0, base + 3, RTE_TCP_ACK_FLAG, b + 3, 10, &f), 0);
	st = stats(e);
	assert_int_equal(st.xlate_used, 1);
	assert_int_equal(st.calls_opened, 1);
	assert_int_equal(st.err[PPTP_ERR_RETRANS], 7);
	assert_int_equal(rcv16(c, 0, 12), xcid);
	/* An overlap: the old OCRQ again plus a new OCRQ behind it. */
	msg(b + len, OCRQ, 32769, 9, 0);
	assert_int_equal(seg(c, 0, base + 100, RTE_TCP_ACK_FLAG, b + 100, 2 * len - 100, &f), 0);
	assert_int_equal(f, 2 * len - 100);
	assert_int_equal(stats(e).xlate_used, 2);
	assert_int_not_equal(rcv16(c, 0, len + 12), 32769);
	/* An overlap covering the first id: replayed from the log, and the rest again. */
	assert_int_equal(seg(c, 0, base + 4, RTE_TCP_ACK_FLAG, b + 4, 2 * len - 4, &f), 0);
	assert_int_equal(rcv16(c, 0, 12), xcid);
	assert_int_equal(stats(e).xlate_used, 2);
	assert_int_equal(stats(e).calls_opened, 2);
	free(c);
	env_free(e);
}

/* Data beyond a hole is dropped and counted; the in-order resend passes. */
static void
test_gap_dropped(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint8_t b[512];
	size_t n = 0, f;
	uint32_t base = c->snd[0];

	(void)state;
	n += msg(b + n, ECHORQ, 0, 0, 0);
	n += msg(b + n, OCRQ, 32768, 9, 0);
	assert_int_equal(seg(c, 0, base + 16, RTE_TCP_ACK_FLAG, b + 16, n - 16, NULL), PKT_DROP_PPTP_GAP);
	assert_int_equal(seg(c, 0, base + 1, RTE_TCP_ACK_FLAG, b + 1, n - 1, NULL), PKT_DROP_PPTP_GAP);
	assert_int_equal(stats(e).err[PPTP_ERR_GAP], 2);
	assert_int_equal(stats(e).xlate_used, 0);
	assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b, n, &f), 0);
	assert_int_equal(f, n);
	assert_int_equal(stats(e).xlate_used, 1);
	/* A segment without payload is never held back. */
	assert_int_equal(seg(c, 0, base + 5000, RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
	free(c);
	env_free(e);
}

/* After the OCRP: two GRE sessions with exactly the KB's keys, and GRE passes both ways. */
static void
test_gates_after_ocrp(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	struct flow_session *ga, *gb;
	struct flow_key k;
	struct flow_stats fs;
	uint16_t xcid;
	uint8_t dir;

	(void)state;
	xmit_msg(c, 0, OCRQ, 32768, 9, 0);
	xcid = rcv16(c, 0, 12);
	/* No gate before the reply. */
	flow_key_set(&k, rte_cpu_to_be_32(CLIENT1), rte_cpu_to_be_32(SERVER), 0,
		     rte_cpu_to_be_16(17382), IPPROTO_GRE);
	assert_null(flow_lookup(e->ft, &k, &dir));
	xmit_msg(c, 1, OCRP, 17382, xcid, 1);
	assert_true(find_call(e, CLIENT1, 32768, &xi));

	/* Gate A: client -> server on the server's id; rewritten to the public address. */
	ga = flow_lookup(e->ft, &k, &dir);
	assert_non_null(ga);
	assert_int_equal(dir, 0);
	assert_int_equal(ga->proto, IPPROTO_GRE);
	assert_int_equal(ga->flags, FLOW_F_ALG_MADE | FLOW_F_ALG_DATA | FLOW_F_NAT);
	assert_int_equal(ga->tmo, FLOW_TMO_GRE);
	assert_int_equal(ga->policy_id, 1);
	assert_int_equal(ga->iface[0], c->s->iface[0]);
	assert_int_equal(ga->out_iface[0], c->s->out_iface[0]);
	assert_int_equal(ga->nat_port, 0);
	assert_int_equal(ga->alg, xi.index);
	assert_int_equal(ga->rw[0].src, rte_cpu_to_be_32(PUB));
	assert_int_equal(ga->rw[0].dst, rte_cpu_to_be_32(SERVER));
	assert_int_equal(ga->rw[0].sport, rte_cpu_to_be_16(xcid));
	assert_int_equal(ga->rw[0].dport, rte_cpu_to_be_16(17382));
	flow_key_set(&k, rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(PUB), rte_cpu_to_be_16(17382),
		     0, IPPROTO_GRE);
	k.pad[0] = FLOW_KEY_WING;
	assert_memory_equal(&ga->key[1], &k, sizeof(k));
	k.pad[0] = 0;
	assert_null(flow_lookup(e->ft, &k, &dir));   /* the display wing never matches */

	/* Gate B: server -> public on the translated id; restored to the client and its id. */
	flow_key_set(&k, rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(PUB), 0,
		     rte_cpu_to_be_16(xcid), IPPROTO_GRE);
	gb = flow_lookup(e->ft, &k, &dir);
	assert_non_null(gb);
	assert_ptr_not_equal(ga, gb);
	assert_int_equal(dir, 0);
	assert_int_equal(gb->flags, FLOW_F_ALG_MADE | FLOW_F_ALG_DATA | FLOW_F_NAT);
	assert_int_equal(gb->iface[0], c->s->iface[1]);
	assert_int_equal(gb->out_iface[0], c->s->out_iface[1]);
	assert_int_equal(gb->nat_port, 0);
	assert_int_equal(gb->alg, xi.index);
	assert_int_equal(gb->rw[0].src, rte_cpu_to_be_32(SERVER));
	assert_int_equal(gb->rw[0].dst, rte_cpu_to_be_32(CLIENT1));
	assert_int_equal(gb->rw[0].sport, rte_cpu_to_be_16(17382));
	assert_int_equal(gb->rw[0].dport, rte_cpu_to_be_16(32768));
	flow_key_set(&k, rte_cpu_to_be_32(CLIENT1), rte_cpu_to_be_32(SERVER), rte_cpu_to_be_16(32768),
		     0, IPPROTO_GRE);
	k.pad[0] = FLOW_KEY_WING;
	assert_memory_equal(&gb->key[1], &k, sizeof(k));

	assert_gre_passes(e, CLIENT1, SERVER, 17382, PUB, SERVER, 17382);
	assert_gre_passes(e, SERVER, PUB, xcid, SERVER, CLIENT1, 32768);
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 3);
	free(c);
	env_free(e);
}

/* A refused OCRP tears the call down at once: no gates, entry and Call ID back. */
static void
test_ocrp_refused(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct nat_addr_info ni;
	uint16_t xcid;

	(void)state;
	xmit_msg(c, 0, OCRQ, 32768, 9, 0);
	xcid = rcv16(c, 0, 12);
	assert_int_equal(pptp_addr_info(e->a, PUB, &ni), 0);
	assert_int_equal(ni.used, 1);
	xmit_msg(c, 1, OCRP, 17382, xcid, 3);   /* Busy */
	assert_int_equal(rcv16(c, 1, 14), 32768);
	assert_int_equal(stats(e).gates_opened, 0);
	assert_int_equal(stats(e).calls_closed, 1);
	assert_false(find_call(e, CLIENT1, 32768, NULL));
	env_settle(e);
	assert_int_equal(stats(e).xlate_used, 0);
	assert_int_equal(pptp_addr_info(e->a, PUB, &ni), 0);
	assert_int_equal(ni.used, 0);
	free(c);
	env_free(e);
}

static void
assert_gates_dead(struct env *e, uint16_t xcid, uint16_t scid, uint32_t client)
{
	struct flow_session *g;
	struct flow_key k;
	uint8_t dir;

	flow_key_set(&k, rte_cpu_to_be_32(client), rte_cpu_to_be_32(SERVER), 0,
		     rte_cpu_to_be_16(scid), IPPROTO_GRE);
	g = flow_lookup(e->ft, &k, &dir);
	assert_true(g == NULL || (g->flags & FLOW_F_DEAD));
	flow_key_set(&k, rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(PUB), 0,
		     rte_cpu_to_be_16(xcid), IPPROTO_GRE);
	g = flow_lookup(e->ft, &k, &dir);
	assert_true(g == NULL || (g->flags & FLOW_F_DEAD));
}

/* CCRQ (translated) then CDN from the server: gates die, the entry and Call ID come back. */
static void
test_cdn_teardown(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct nat_addr_info ni;
	struct flow_stats fs;
	uint16_t xcid;
	uint32_t off;

	(void)state;
	xcid = call_up(c, 32768, 17382);
	off = c->rcv_len[0];
	xmit_msg(c, 0, CCRQ, 32768, 0, 0);
	assert_int_equal(rcv16(c, 0, off + 12), xcid);
	assert_int_equal(stats(e).calls_closed, 0);
	off = c->rcv_len[1];
	xmit_msg(c, 1, CDN, 17382, 0, 3);
	assert_int_equal(rcv16(c, 1, off + 12), 17382);   /* the server's own id: untouched */
	assert_int_equal(stats(e).calls_closed, 1);
	assert_false(find_call(e, CLIENT1, 32768, NULL));
	assert_gates_dead(e, xcid, 17382, CLIENT1);
	/* Held until the gates are gone, then released after the grace period. */
	assert_int_equal(stats(e).xlate_used, 1);
	assert_int_equal(pptp_addr_info(e->a, PUB, &ni), 0);
	assert_int_equal(ni.used, 1);
	env_settle(e);
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 1);   /* the control session */
	assert_int_equal(stats(e).xlate_used, 0);
	assert_int_equal(pptp_addr_info(e->a, PUB, &ni), 0);
	assert_int_equal(ni.used, 0);
	/* A CCRQ for a call that is gone is not let out untranslated, nor does it
	 * wedge the stream: it leaves with Call ID 0. */
	off = c->rcv_len[0];
	assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG,
			     (const uint8_t *)"\x00\x10\x00\x01\x1a\x2b\x3c\x4d\x00\x0c\x00\x00\x80\x00\x00\x00",
			     16, NULL), 0);
	assert_int_equal(rcv16(c, 0, off + 12), 0);
	c->snd[0] += 16;
	assert_int_equal(stats(e).err[PPTP_ERR_UNKNOWN_CID], 1);
	/* The same inside id makes a new call. */
	xcid = call_up(c, 32768, 17383);
	assert_true(find_call(e, CLIENT1, 32768, NULL));
	free(c);
	env_free(e);
}

/* A CDN from the client itself names its own id: translated, and the call ends. */
static void
test_cdn_from_client(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint16_t xcid;
	uint32_t off;

	(void)state;
	xcid = call_up(c, 32768, 17382);
	off = c->rcv_len[0];
	xmit_msg(c, 0, CDN, 32768, 0, 3);
	assert_int_equal(rcv16(c, 0, off + 12), xcid);
	assert_int_equal(stats(e).calls_closed, 1);
	assert_gates_dead(e, xcid, 17382, CLIENT1);
	env_settle(e);
	assert_int_equal(stats(e).xlate_used, 0);
	free(c);
	env_free(e);
}

/* FIN or RST on the control connection ends all its calls; StopCCRQ too. */
static void
test_fin_rst_stop_teardown(void **state)
{
	static const unsigned how[] = { 0, 1, 2 };   /* FIN, RST, StopCCRQ */
	struct env *e = env_new(256, 16, 8);
	unsigned i;

	(void)state;
	for (i = 0; i < RTE_DIM(how); i++) {
		struct conn *c = conn_open(e, CLIENT1, (uint16_t)(4762 + i), (uint16_t)(7263 + i));
		struct nat_addr_info ni;
		uint16_t x1 = call_up(c, 32768, 17382), x2 = call_up(c, 32769, 17383);

		assert_int_equal(stats(e).xlate_used, 2);
		if (how[i] == 0)
			assert_int_equal(seg(c, 1, c->snd[1], RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG,
					     NULL, 0, NULL), 0);
		else if (how[i] == 1)
			assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_RST_FLAG, NULL, 0, NULL), 0);
		else
			xmit_msg(c, 0, STOPRQ, 0, 0, 0);
		assert_false(find_call(e, CLIENT1, 32768, NULL));
		assert_false(find_call(e, CLIENT1, 32769, NULL));
		assert_gates_dead(e, x1, 17382, CLIENT1);
		assert_gates_dead(e, x2, 17383, CLIENT1);
		env_settle(e);
		assert_int_equal(stats(e).xlate_used, 0);
		assert_int_equal(pptp_addr_info(e->a, PUB, &ni), 0);
		assert_int_equal(ni.used, 0);
		if (how[i] != 2) {
			/* No new call on a closing connection, until a new SYN reuses the tuple. */
			assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, (const uint8_t *)
					     "\x00\xa8\x00\x01\x1a\x2b\x3c\x4d\x00\x07\x00\x00\x00\x09",
					     14, NULL), PKT_DROP_PPTP_XLATE_FAIL);
			c->isn[0] += 100000;
			c->isn[1] += 300000;
			c->rcv_len[0] = c->rcv_len[1] = 0;
			assert_int_equal(seg(c, 0, c->isn[0], RTE_TCP_SYN_FLAG, NULL, 0, NULL), 0);
			assert_int_equal(seg(c, 1, c->isn[1], RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
					     NULL, 0, NULL), 0);
			c->snd[0] = c->isn[0] + 1;
			c->snd[1] = c->isn[1] + 1;
			call_up(c, 32770, 17384);
			assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_RST_FLAG, NULL, 0, NULL), 0);
			env_settle(e);
			assert_int_equal(stats(e).xlate_used, 0);
		}
		free(c);
	}
	assert_int_equal(stats(e).calls_closed, 8);
	env_free(e);
}

/* Control session freed (aged): its calls and their gates go, the state is reused. */
static void
test_ctrl_session_freed(void **state)
{
	struct env *e = env_new(64, 16, 1);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct flow_stats fs;
	uint16_t xcid;

	(void)state;
	xcid = call_up(c, 32768, 17382);
	assert_int_equal(stats(e).ctrl_used, 1);
	assert_int_equal(flow_delete(e->ft, c->s, true), 0);
	assert_gates_dead(e, xcid, 17382, CLIENT1);
	env_settle(e);
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 0);
	assert_int_equal(stats(e).xlate_used, 0);
	assert_int_equal(stats(e).ctrl_used, 0);
	free(c);
	/* The one control state is free again. */
	c = conn_open(e, CLIENT2, 2249, 7257);
	assert_int_equal(stats(e).ctrl_used, 1);
	free(c);
	env_free(e);
}

/* Two clients behind one public address with the same Call ID get different translated ids. */
static void
test_two_clients_same_cid(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c1 = conn_open(e, CLIENT1, 4762, 7263);
	struct conn *c2 = conn_open(e, CLIENT2, 2249, 7257);
	uint16_t x1, x2;

	(void)state;
	x1 = call_up(c1, 32768, 17382);
	x2 = call_up(c2, 32768, 999);
	assert_int_not_equal(x1, x2);
	assert_int_not_equal(x1, 32768);
	assert_gre_passes(e, SERVER, PUB, x1, SERVER, CLIENT1, 32768);
	assert_gre_passes(e, SERVER, PUB, x2, SERVER, CLIENT2, 32768);
	assert_gre_passes(e, CLIENT1, SERVER, 17382, PUB, SERVER, 17382);
	assert_gre_passes(e, CLIENT2, SERVER, 999, PUB, SERVER, 999);
	/* The server answering with the other client's translated id on the wrong connection: not ours. */
	{
		uint8_t b[64];
		size_t len = msg(b, SLI, x2, 0, 0);
		uint32_t off = c1->rcv_len[1];

		xmit(c1, 1, b, len);
		assert_int_equal(rcv16(c1, 1, off + 12), x2);
		assert_int_equal(stats(e).err[PPTP_ERR_UNKNOWN_CID], 1);
	}
	free(c1);
	free(c2);
	env_free(e);
}

/* One control connection, three concurrent calls: three translations and six gates. */
static void
test_three_calls_one_connection(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct flow_stats fs;
	uint16_t x[3];
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++)
		x[i] = call_up(c, (uint16_t)(100 + i), (uint16_t)(700 + i));
	assert_int_not_equal(x[0], x[1]);
	assert_int_not_equal(x[1], x[2]);
	assert_int_not_equal(x[0], x[2]);
	assert_int_equal(stats(e).xlate_used, 3);
	assert_int_equal(stats(e).gates_opened, 6);
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 1 + 6);
	for (i = 0; i < 3; i++)
		assert_gre_passes(e, SERVER, PUB, x[i], SERVER, CLIENT1, (uint16_t)(100 + i));
	/* The middle call ends alone. */
	xmit_msg(c, 1, CDN, 701, 0, 3);
	assert_true(find_call(e, CLIENT1, 100, NULL));
	assert_false(find_call(e, CLIENT1, 101, NULL));
	assert_true(find_call(e, CLIENT1, 102, NULL));
	env_settle(e);
	flow_stats_get(e->ft, &fs);
	assert_int_equal(fs.alloc, 1 + 4);
	assert_int_equal(stats(e).xlate_used, 2);
	free(c);
	env_free(e);
}

/* An incoming call (server is the PAC): ICRQ from outside, ICRP from the client translated, ICCN restored. */
static void
test_incoming_call(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	uint16_t xcid;
	uint32_t off;

	(void)state;
	xmit_msg(c, 1, ICRQ, 555, 0, 0);
	off = c->rcv_len[0];
	xmit_msg(c, 0, ICRP, 32768, 555, 1);
	xcid = rcv16(c, 0, off + 12);
	assert_int_not_equal(xcid, 32768);
	assert_int_equal(rcv16(c, 0, off + 14), 555);
	assert_true(find_call(e, CLIENT1, 32768, &xi));
	assert_int_equal(xi.server_cid, 555);
	assert_int_equal(xi.gates, 2);
	off = c->rcv_len[1];
	xmit_msg(c, 1, ICCN, xcid, 0, 0);
	assert_int_equal(rcv16(c, 1, off + 12), 32768);
	off = c->rcv_len[1];
	xmit_msg(c, 1, WEN, xcid, 0, 0);
	assert_int_equal(rcv16(c, 1, off + 12), 32768);
	assert_gre_passes(e, SERVER, PUB, xcid, SERVER, CLIENT1, 32768);
	assert_gre_passes(e, CLIENT1, SERVER, 555, PUB, SERVER, 555);
	free(c);
	env_free(e);
}

/* Without NAT the ids stay as they are, and the gates still open. */
static void
test_no_nat(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint32_t off;

	(void)state;
	/* Re-attach as a routed (not NAT'd) session: pub is the client itself. */
	pptp_session_freed(e->a, c->s);
	c->s->flags = 0;
	c->s->alg = FLOW_INVALID;
	c->s->rw[0].src = rte_cpu_to_be_32(CLIENT1);
	c->s->rw[0].sport = rte_cpu_to_be_16(4762);
	c->pub = CLIENT1;
	c->pubport = 4762;
	pptp_tick(e->a, e->now, 0);
	assert_int_equal(pptp_ctrl_attach(e->a, c->s, 0), 0);
	assert_int_equal(seg(c, 0, c->isn[0], RTE_TCP_SYN_FLAG, NULL, 0, NULL), 0);
	assert_int_equal(conn_handshake(c), 0);
	xmit_msg(c, 0, OCRQ, 32768, 0, 0);
	assert_int_equal(rcv16(c, 0, 12), 32768);
	off = c->rcv_len[1];
	xmit_msg(c, 1, OCRP, 17382, 32768, 1);
	assert_int_equal(rcv16(c, 1, off + 14), 32768);
	assert_int_equal(stats(e).gates_opened, 2);
	assert_gre_passes(e, SERVER, CLIENT1, 32768, SERVER, CLIENT1, 32768);
	assert_gre_passes(e, CLIENT1, SERVER, 17382, CLIENT1, SERVER, 17382);
	free(c);
	env_free(e);
}

/*
 * Issue 14 #3: a call torn down (server CDN, client CDN, timeout) leaves the
 * session index at once, so a client that redials at once with the same
 * Call IDs gets both gates; the old gates, aged later, harm nothing.
 */
static void
test_quick_redial(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	unsigned how;

	(void)state;
	for (how = 0; how < 3; how++) {
		uint16_t xcid = call_up(c, 32768, 17382);

		if (how == 0) {
			xmit_msg(c, 1, CDN, 17382, 0, 3);
		} else if (how == 1) {
			xmit_msg(c, 0, CDN, 32768, 0, 3);
		} else {
			env_clock(e, e->now + pptp_get_timeout(e->a) + 1);
			pptp_tick(e->a, e->now, 16);
		}
		assert_int_equal(stats(e).calls_closed, 2 * how + 1);
		assert_gates_dead(e, xcid, 17382, CLIENT1);
		/* Redial at once: the ager has not run. */
		xcid = call_up(c, 32768, 17382);
		assert_int_equal(stats(e).gates_failed, 0);
		assert_int_equal(stats(e).gates_opened, 4 * (how + 1));
		assert_true(find_call(e, CLIENT1, 32768, &xi));
		assert_int_equal(xi.gates, 2);
		assert_gre_passes(e, CLIENT1, SERVER, 17382, PUB, SERVER, 17382);
		assert_gre_passes(e, SERVER, PUB, xcid, SERVER, CLIENT1, 32768);
		/* The old gates go; the new call keeps its own. */
		env_settle(e);
		assert_true(find_call(e, CLIENT1, 32768, &xi));
		assert_int_equal(xi.gates, 2);
		assert_gre_passes(e, SERVER, PUB, xcid, SERVER, CLIENT1, 32768);
		xmit_msg(c, 1, CDN, 17382, 0, 3);
		env_settle(e);
		assert_int_equal(stats(e).xlate_used, 0);
	}
	free(c);
	env_free(e);
}

/*
 * Issue 14 #7: a server CDN that names the client's translated Call ID ends
 * the call and reaches the client with its own id; a client CDN that names
 * the server's id ends the call too (it passes as is).
 */
static void
test_cdn_peer_id(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint16_t xcid;
	uint32_t off;

	(void)state;
	xcid = call_up(c, 32768, 17382);
	off = c->rcv_len[1];
	xmit_msg(c, 1, CDN, xcid, 0, 3);
	assert_int_equal(rcv16(c, 1, off + 12), 32768);   /* no foreign id reaches the client */
	assert_int_equal(stats(e).calls_closed, 1);
	assert_int_equal(stats(e).err[PPTP_ERR_CDN_PEER_ID], 1);
	assert_int_equal(stats(e).err[PPTP_ERR_UNKNOWN_CID], 0);
	assert_false(find_call(e, CLIENT1, 32768, NULL));
	assert_gates_dead(e, xcid, 17382, CLIENT1);
	/* Split at the id: held back until it comes whole, then the same. */
	xcid = call_up(c, 32769, 17383);
	{
		uint8_t b[256];
		size_t len = msg(b, CDN, xcid, 0, 3), f;

		off = c->rcv_len[1];
		assert_int_equal(seg(c, 1, c->snd[1], RTE_TCP_ACK_FLAG, b, 13, &f), 0);
		assert_int_equal(f, 12);
		assert_int_equal(stats(e).calls_closed, 1);
		c->snd[1] += 12;
		xmit(c, 1, b + 12, len - 12);
		assert_int_equal(rcv16(c, 1, off + 12), 32769);
		assert_int_equal(stats(e).calls_closed, 2);
	}
	/* The client names the server's id. */
	xcid = call_up(c, 32770, 17384);
	off = c->rcv_len[0];
	xmit_msg(c, 0, CDN, 17384, 0, 3);
	assert_int_equal(rcv16(c, 0, off + 12), 17384);
	assert_int_equal(stats(e).calls_closed, 3);
	assert_gates_dead(e, xcid, 17384, CLIENT1);
	env_settle(e);
	assert_int_equal(stats(e).xlate_used, 0);
	free(c);
	env_free(e);
}

/* One frame of c's direction dir with its TCP checksum made wrong by flipping byte at (from the TCP header), and rx offload flags. */
static int
seg_corrupt(struct conn *c, unsigned dir, uint32_t seq, uint8_t flags, const uint8_t *data,
	    size_t len, unsigned at, uint64_t ol)
{
	struct rte_mbuf *m = conn_frame(c, dir, seq, flags, data, len);
	struct pkt_meta *md = pkt_md(m);
	int rc;

	assert_int_equal(pkt_parse(m, md), PKT_CLASS_IPV4);
	if (at != 0)
		*rte_pktmbuf_mtod_offset(m, uint8_t *, md->l4_off + at) ^= 0x10;
	m->ol_flags |= ol;
	rc = pptp_ctrl_input(c->e->a, c->w, c->s, dir, m, md, c->e->now);
	rte_pktmbuf_free(m);
	return rc;
}

/*
 * Issue 14 #11: a control segment with a wrong TCP checksum is dropped and
 * counted before it is parsed: it names no call, desyncs nothing, tears
 * nothing down, and never leaves with a fresh checksum (the trim case).
 * The port's checksum verdict is taken when it gives one.
 */
static void
test_bad_cksum(void **state)
{
	struct env *e = env_new(64, 16, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint8_t b[256];
	size_t len = msg(b, OCRQ, 32768, 9, 0);
	struct pptp_stats st;
	uint16_t xcid;

	(void)state;
	/* Corrupted inside the Call ID, in the length field, or ending inside the id (a trim). */
	assert_int_equal(seg_corrupt(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, len, 20 + 12, 0),
			 PKT_DROP_PPTP_CKSUM);
	assert_int_equal(seg_corrupt(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, len, 20 + 1, 0),
			 PKT_DROP_PPTP_CKSUM);
	assert_int_equal(seg_corrupt(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, 13, 20 + 5, 0),
			 PKT_DROP_PPTP_CKSUM);
	/* The port says bad: dropped though the sum holds; says good: taken as is. */
	assert_int_equal(seg_corrupt(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, len, 0,
				     RTE_MBUF_F_RX_L4_CKSUM_BAD), PKT_DROP_PPTP_CKSUM);
	st = stats(e);
	assert_int_equal(st.err[PPTP_ERR_BAD_CKSUM], 4);
	assert_int_equal(st.xlate_used, 0);
	assert_int_equal(st.desynced, 0);
	assert_int_equal(st.err[PPTP_ERR_BAD_LEN], 0);
	assert_int_equal(st.err[PPTP_ERR_SPLIT_TRIM], 0);
	xcid = call_up(c, 32768, 17382);
	/* A corrupted FIN or RST tears nothing down. */
	assert_int_equal(seg_corrupt(c, 1, c->snd[1], RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0,
				     4, 0), PKT_DROP_PPTP_CKSUM);
	assert_int_equal(seg_corrupt(c, 0, c->snd[0], RTE_TCP_RST_FLAG, NULL, 0, 5, 0),
			 PKT_DROP_PPTP_CKSUM);
	assert_true(find_call(e, CLIENT1, 32768, NULL));
	assert_int_equal(stats(e).calls_closed, 0);
	/* The stream goes on. */
	xmit_msg(c, 0, CCRQ, 32768, 0, 0);
	assert_int_equal(rcv16(c, 0, len + 12), xcid);
	assert_int_equal(seg_corrupt(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, NULL, 0, 0,
				     RTE_MBUF_F_RX_L4_CKSUM_GOOD), 0);
	free(c);
	env_free(e);
}

/* The segment is forwarded by dpnat and lost beyond it: the receiver never gets it. */
static void
seg_lost(struct conn *c, unsigned dir, uint32_t seq, const uint8_t *data, size_t len)
{
	struct rte_mbuf *m = conn_frame(c, dir, seq, RTE_TCP_ACK_FLAG, data, len);
	struct pkt_meta *md = pkt_md(m);

	assert_int_equal(pkt_parse(m, md), PKT_CLASS_IPV4);
	assert_int_equal(pptp_ctrl_input(c->e->a, c->w, c->s, dir, m, md, c->e->now), 0);
	rte_pktmbuf_free(m);
}

/*
 * Issue 14 #12: an OCRQ lost beyond dpnat, then 100 more calls the receiver
 * cannot acknowledge (the hole): the retransmission still gets its rewrite,
 * rewrites beyond the log's room are held back (counted) until the receiver
 * acknowledges, and a retransmission of acknowledged bytes whose rewrites
 * left the log (the ACK lost on its way to the sender) is cut, not dropped.
 */
static void
test_rewrite_log_window(void **state)
{
	enum { N = 100 };
	struct env *e = env_new(512, 256, 4);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	struct pptp_xlate_info xi;
	uint8_t b[N + 1][168];
	const size_t len = 168;
	size_t f;
	uint32_t base = c->snd[0], sent;
	unsigned i, held = 0;

	(void)state;
	for (i = 0; i <= N; i++)
		msg(b[i], OCRQ, (uint16_t)(100 + i), 9, 0);
	seg_lost(c, 0, base, b[0], len);
	/* The next ones pass dpnat; the receiver holds them out of order and acknowledges none. */
	for (i = 1, sent = 0; i <= N; i++) {
		uint32_t seq = base + (uint32_t)(i * len);

		if (seq != (uint32_t)(base + len + sent))
			break;   /* held back: the sender waits for the hole's ACK */
		assert_int_equal(seg(c, 0, seq, RTE_TCP_ACK_FLAG, b[i], len, &f), 0);
		sent += (uint32_t)f;
		if (f < len)
			held++;
	}
	assert_int_equal(held, 1);
	assert_int_equal(stats(e).err[PPTP_ERR_LOG_FULL], 1);
	assert_int_equal(c->rcv_len[0], 0);
	/* The lost OCRQ again, long after: its rewrite, the same as the first time. */
	assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b[0], len, &f), 0);
	assert_int_equal(f, len);
	assert_true(find_call(e, CLIENT1, 100, &xi));
	assert_int_equal(rcv16(c, 0, 12), xi.xlated_cid);
	/* The sender resends the rest, a message a segment: replayed, then the held ones parsed. */
	for (i = 0; c->rcv_len[0] < (N + 1) * len; i++) {
		uint32_t off = c->rcv_len[0];

		assert_true(i < 4 * N);
		assert_int_equal(seg(c, 0, base + off, RTE_TCP_ACK_FLAG, b[off / len] + off % len,
				     len - off % len, NULL), 0);
	}
	c->snd[0] = base + (uint32_t)((N + 1) * len);
	for (i = 0; i <= N; i++) {
		assert_true(find_call(e, CLIENT1, (uint16_t)(100 + i), &xi));
		assert_int_equal(rcv16(c, 0, (uint32_t)(i * len) + 12), xi.xlated_cid);
	}
	assert_int_equal(stats(e).xlate_used, N + 1);
	assert_int_equal(stats(e).err[PPTP_ERR_GAP], 0);
	/* Acknowledged, then resent from the start (the ACK lost beyond dpnat): cut to what is new. */
	assert_int_equal(seg(c, 0, base, RTE_TCP_ACK_FLAG, b[0], len, &f), 0);
	assert_true(f < len);
	assert_true(stats(e).err[PPTP_ERR_ACKED_CUT] >= 1);
	free(c);
	env_free(e);
}

static int
setup(void **state)
{
	(void)state;
	return harness_setup("test_pptp_parse", "256");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_types_exact_length),
		cmocka_unit_test(test_wrong_length_each_type),
		cmocka_unit_test(test_bad_header_fields),
		cmocka_unit_test(test_several_messages_one_segment),
		cmocka_unit_test(test_ocrq_every_split),
		cmocka_unit_test(test_split_field_starting_segment_dropped),
		cmocka_unit_test(test_ocrp_every_split),
		cmocka_unit_test(test_odd_offset_rewrite),
		cmocka_unit_test(test_retransmission),
		cmocka_unit_test(test_gap_dropped),
		cmocka_unit_test(test_gates_after_ocrp),
		cmocka_unit_test(test_ocrp_refused),
		cmocka_unit_test(test_cdn_teardown),
		cmocka_unit_test(test_cdn_from_client),
		cmocka_unit_test(test_fin_rst_stop_teardown),
		cmocka_unit_test(test_ctrl_session_freed),
		cmocka_unit_test(test_two_clients_same_cid),
		cmocka_unit_test(test_three_calls_one_connection),
		cmocka_unit_test(test_incoming_call),
		cmocka_unit_test(test_no_nat),
		cmocka_unit_test(test_quick_redial),
		cmocka_unit_test(test_cdn_peer_id),
		cmocka_unit_test(test_bad_cksum),
		cmocka_unit_test(test_rewrite_log_window),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
