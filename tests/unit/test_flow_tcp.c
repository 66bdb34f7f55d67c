/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP tracking of a session (lib/flow/flow_tcp.c, flow_tcp_fast in flow.h):
 * what an off-path sender can forge - RST, FIN, SYN, data - at any sequence
 * number changes no state unless the receiving endpoint would take it, and
 * what the endpoints send keeps working: exact RSTs (after a FIN too),
 * in-window RSTs passed for the challenge ACK, window scaling, wrap-around,
 * a reused tuple that starts afresh.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "flow.h"
#include "pkt_drop.h"

#define SYN RTE_TCP_SYN_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define ACK RTE_TCP_ACK_FLAG

/* A connection as both endpoints see it, through one session. */
struct tconn {
	struct flow_session s;
	uint32_t snd[2];     /* next sequence number each side sends */
	uint16_t win[2];     /* window each side advertises */
	int ws[2];           /* window scale each side offers (-1: none) */
};

/* One TCP header (with a window-scale option when ws >= 0) through flow_tcp_input. */
static int
tcp_in(struct flow_session *s, unsigned dir, uint32_t seq, uint32_t ack, uint8_t flags,
       uint16_t win, int ws, uint32_t plen)
{
	uint8_t b[40] __rte_aligned(8);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)b;
	uint32_t hlen = ws >= 0 ? 24 : 20;

	memset(b, 0, sizeof(b));
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(hlen / 4 << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	if (ws >= 0) {
		b[20] = 1;          /* NOP */
		b[21] = 3;          /* window scale */
		b[22] = 3;
		b[23] = (uint8_t)ws;
	}
	return flow_tcp_input(s, dir, th, hlen, plen);
}

/* The same segment through the fast path's check (no SYN, FIN or RST). */
static bool
tcp_fast(struct flow_session *s, unsigned dir, uint32_t seq, uint32_t ack, uint16_t win,
	 uint32_t plen)
{
	uint8_t b[20] __rte_aligned(8);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)b;

	memset(b, 0, sizeof(b));
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = 5 << 4;
	th->tcp_flags = ACK;
	th->rx_win = rte_cpu_to_be_16(win);
	return flow_tcp_fast(s, dir, th, 20 + plen);
}

/* Handshake with initial sequence numbers isn0/isn1; the session as dpnat makes it. */
static struct tconn *
open_conn(uint32_t isn0, uint32_t isn1, int ws0, int ws1)
{
	struct tconn *c = aligned_alloc(64, RTE_ALIGN(sizeof(*c), 64));

	assert_non_null(c);
	memset(c, 0, sizeof(*c));
	c->s.proto = IPPROTO_TCP;
	c->s.tcp = FLOW_TCP_SYN0;
	c->win[0] = 29200;
	c->win[1] = 65160;
	c->ws[0] = ws0;
	c->ws[1] = ws1;
	assert_int_equal(tcp_in(&c->s, 0, isn0, 0, SYN, c->win[0], ws0, 0), 0);
	assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP_SYN);
	assert_int_equal(tcp_in(&c->s, 1, isn1, isn0 + 1, SYN | ACK, c->win[1], ws1, 0), 0);
	c->snd[0] = isn0 + 1;
	c->snd[1] = isn1 + 1;
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0], c->snd[1], ACK, c->win[0], -1, 0), 0);
	assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP);
	return c;
}

/* Side dir sends n bytes (acknowledging all the other sent), through the fast path when fast. */
static void
data(struct tconn *c, unsigned dir, uint32_t n, bool fast)
{
	if (fast)
		assert_true(tcp_fast(&c->s, dir, c->snd[dir], c->snd[dir ^ 1], c->win[dir], n));
	else
		assert_int_equal(tcp_in(&c->s, dir, c->snd[dir], c->snd[dir ^ 1], ACK, c->win[dir],
					-1, n), 0);
	c->snd[dir] += n;
}

/* Side dir acknowledges everything (the long way: its first window may be the widest yet). */
static void
ack_all(struct tconn *c, unsigned dir)
{
	data(c, dir, 0, false);
}

/* 20000 forged segments with flags at random numbers change no state and move no window. */
static void
forge(struct tconn *c, unsigned dir, uint8_t flags, unsigned *passed)
{
	struct flow_session before = c->s;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		uint32_t seq = (uint32_t)rand() << 16 ^ (uint32_t)rand();
		uint32_t ack = (uint32_t)rand() << 16 ^ (uint32_t)rand();

		if (tcp_in(&c->s, dir, seq, ack, flags, 65535, -1, (uint32_t)(rand() % 3) * 512) == 0)
			(*passed)++;
		assert_int_equal(c->s.tcp, before.tcp);
		assert_memory_equal(c->s.tcpp, before.tcpp, sizeof(before.tcpp));
	}
}

/* Blind RST, FIN, SYN and data from either side: nothing changes, the session keeps its timeout. */
static void
test_blind_segments_change_nothing(void **state)
{
	static const uint8_t kinds[] = { RST, RST | ACK, FIN | ACK, FIN, SYN, SYN | ACK, ACK,
					 FIN | RST | ACK };
	struct tconn *c = open_conn(0x10000000, 0x80000000, -1, -1);
	unsigned dir, k, passed = 0;

	(void)state;
	srand(14);
	data(c, 0, 300, true);
	data(c, 1, 5000, true);
	ack_all(c, 0);
	for (dir = 0; dir < 2; dir++)
		for (k = 0; k < RTE_DIM(kinds); k++)
			forge(c, dir, kinds[k], &passed);
	/* In the receiver's window (65535 of 2^32) a RST or SYN passes, for the
	 * endpoint's challenge ACK: a few of 320000 at most. */
	assert_true(passed < 40);
	assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP);
	/* and the connection goes on, on the fast path */
	data(c, 0, 100, true);
	data(c, 1, 100, true);
	free(c);
}

/* RFC 5961: a RST at the next expected byte resets; in the window it passes and changes nothing. */
static void
test_rst_exact_and_in_window(void **state)
{
	unsigned dir;

	(void)state;
	for (dir = 0; dir < 2; dir++) {
		struct tconn *c = open_conn(0xfffff000u, 0x00000100u, -1, -1);   /* wraps */
		unsigned o = dir ^ 1;

		data(c, dir, 6000, true);
		ack_all(c, o);
		/* in the receiver's window, beyond the next byte: passes, no state */
		assert_int_equal(tcp_in(&c->s, dir, c->snd[dir] + 1000, 0, RST, 0, -1, 0), 0);
		assert_int_equal(tcp_in(&c->s, dir, c->snd[dir] + c->win[o], 0, RST, 0, -1, 0), 0);
		assert_int_equal(c->s.tcp & FLOW_TCP_RST, 0);
		/* just past the window, and behind what the receiver acknowledged: dropped */
		assert_int_equal(tcp_in(&c->s, dir, c->snd[dir] + c->win[o] + 1, 0, RST, 0, -1, 0),
				 PKT_DROP_TCP_RST_BAD);
		assert_int_equal(tcp_in(&c->s, dir, c->snd[dir] - 1, 0, RST, 0, -1, 0),
				 PKT_DROP_TCP_RST_BAD);
		assert_int_equal(c->s.tcp & FLOW_TCP_RST, 0);
		assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP);
		/* exactly the next byte */
		assert_int_equal(tcp_in(&c->s, dir, c->snd[dir], 0, RST, 0, -1, 0), 0);
		assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP_CLOSING);
		free(c);
	}
}

/* While data is in flight the receiver's next byte is anywhere from what it acknowledged to what was sent. */
static void
test_rst_with_data_in_flight(void **state)
{
	struct tconn *c = open_conn(1000, 2000, -1, -1);
	uint32_t acked;

	(void)state;
	data(c, 1, 1000, true);
	ack_all(c, 0);
	acked = c->snd[1];
	data(c, 1, 3000, true);   /* not acknowledged yet */
	assert_int_equal(tcp_in(&c->s, 1, acked + 1500, 0, RST | ACK, 0, -1, 0), 0);
	assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP_CLOSING);
	free(c);
}

/* The FIN takes a sequence number: a RST at the byte after the sender's own FIN resets. */
static void
test_rst_after_own_fin(void **state)
{
	struct tconn *c = open_conn(1000, 2000, -1, -1);

	(void)state;
	data(c, 1, 500, true);
	assert_int_equal(tcp_in(&c->s, 1, c->snd[1], c->snd[0], FIN | ACK, c->win[1], -1, 0), 0);
	c->snd[1]++;
	assert_true(c->s.tcp & FLOW_TCP_FIN1);
	/* the client has not acknowledged the FIN yet: the RST after it still resets */
	assert_int_equal(tcp_in(&c->s, 1, c->snd[1], 0, RST, 0, -1, 0), 0);
	assert_true(c->s.tcp & FLOW_TCP_RST);
	free(c);
}

/* A FIN changes state only in the window and with an acceptable ACK; without ACK it is refused. */
static void
test_fin_needs_window_and_ack(void **state)
{
	struct tconn *c = open_conn(1000, 2000, -1, -1);

	(void)state;
	data(c, 0, 100, true);
	data(c, 1, 100, true);
	assert_int_equal(tcp_in(&c->s, 1, c->snd[1] + 200000, c->snd[0], FIN | ACK, 1000, -1, 0),
			 PKT_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(tcp_in(&c->s, 1, c->snd[1], c->snd[0] + 100000, FIN | ACK, 1000, -1, 0),
			 PKT_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(tcp_in(&c->s, 1, c->snd[1], c->snd[0], FIN, 1000, -1, 0),
			 PKT_DROP_TCP_NO_ACK);
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0], c->snd[1], 0, 1000, -1, 10),
			 PKT_DROP_TCP_NO_ACK);
	assert_int_equal(c->s.tcp & (FLOW_TCP_FIN0 | FLOW_TCP_FIN1), 0);
	/* both real FINs: the closing timeout */
	assert_int_equal(tcp_in(&c->s, 1, c->snd[1], c->snd[0], FIN | ACK, 1000, -1, 0), 0);
	c->snd[1]++;
	assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP);
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0], c->snd[1], FIN | ACK, 1000, -1, 0), 0);
	c->snd[0]++;
	assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP_CLOSING);
	free(c);
}

/* Before the SYN-ACK: a RST from the responder must acknowledge exactly the SYN. */
static void
test_rst_before_syn_ack(void **state)
{
	struct flow_session *s = aligned_alloc(64, sizeof(*s));
	unsigned i;

	(void)state;
	memset(s, 0, sizeof(*s));
	s->proto = IPPROTO_TCP;
	s->tcp = FLOW_TCP_SYN0;
	assert_int_equal(tcp_in(s, 0, 5000, 0, SYN, 1000, -1, 0), 0);
	for (i = 0; i < 20000; i++) {
		uint32_t seq = (uint32_t)rand(), ack = (uint32_t)rand() << 16 ^ (uint32_t)rand();

		if (ack == 5001)
			continue;
		assert_int_not_equal(tcp_in(s, 1, seq, ack, RST | ACK, 0, -1, 0), 0);
		assert_int_not_equal(tcp_in(s, 1, seq, ack, FIN | ACK, 0, -1, 0), 0);
		assert_int_not_equal(tcp_in(s, 1, seq, ack, ACK, 0, -1, 0), 0);
		/* a SYN-ACK that acknowledges something else: the initiator resets it */
		assert_int_not_equal(tcp_in(s, 1, seq, ack, SYN | ACK, 0, -1, 0), 0);
	}
	assert_int_equal(tcp_in(s, 1, 7, 0, RST, 0, -1, 0), PKT_DROP_TCP_RST_BAD);
	assert_int_equal(s->tcp, FLOW_TCP_SYN0);
	assert_int_equal(flow_session_tmo(s), FLOW_TMO_TCP_SYN);
	/* the initiator's own RST before any answer: only at ISN + 1 */
	assert_int_equal(tcp_in(s, 0, 9999, 0, RST, 0, -1, 0), PKT_DROP_TCP_RST_BAD);
	/* the real refusal */
	assert_int_equal(tcp_in(s, 1, 0, 5001, RST | ACK, 0, -1, 0), 0);
	assert_int_equal(flow_session_tmo(s), FLOW_TMO_TCP_CLOSING);
	free(s);
}

/* A new connection on the tuple of a closed one starts afresh, with the normal timeouts. */
static void
test_reused_tuple_starts_afresh(void **state)
{
	unsigned how;

	(void)state;
	for (how = 0; how < 2; how++) {   /* closed by both FINs, by a RST */
		struct tconn *c = open_conn(1000, 2000, -1, -1);

		data(c, 0, 100, true);
		if (how == 0) {
			assert_int_equal(tcp_in(&c->s, 0, c->snd[0], c->snd[1], FIN | ACK, 100, -1, 0), 0);
			c->snd[0]++;
			assert_int_equal(tcp_in(&c->s, 1, c->snd[1], c->snd[0], FIN | ACK, 100, -1, 0), 0);
			c->snd[1]++;
			ack_all(c, 0);
		} else {
			assert_int_equal(tcp_in(&c->s, 1, c->snd[1], 0, RST, 0, -1, 0), 0);
		}
		assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP_CLOSING);
		/* the same client port again, new sequence numbers far from the old ones */
		assert_int_equal(tcp_in(&c->s, 0, 0x70000000, 0, SYN, 1000, -1, 0), 0);
		assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP_SYN);
		assert_int_equal(tcp_in(&c->s, 1, 0x30000000, 0x70000001, SYN | ACK, 1000, -1, 0), 0);
		assert_int_equal(flow_session_tmo(&c->s), FLOW_TMO_TCP);
		assert_true(tcp_fast(&c->s, 0, 0x70000001, 0x30000001, 1000, 10));
		assert_true(tcp_fast(&c->s, 1, 0x30000001, 0x7000000b, 1000, 10));
		free(c);
	}
}

/* A SYN on an open connection: a retransmission or in the window passes, changing nothing. */
static void
test_syn_on_open_connection(void **state)
{
	struct tconn *c = open_conn(1000, 2000, -1, -1);
	struct flow_session before;

	(void)state;
	data(c, 0, 100, true);
	data(c, 1, 100, true);
	before = c->s;
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0] + 10, 0, SYN, 1000, -1, 0), 0);
	assert_int_equal(tcp_in(&c->s, 1, c->snd[1] + 10, c->snd[0], SYN | ACK, 1000, -1, 0), 0);
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0] + 0x40000000, 0, SYN, 1000, -1, 0),
			 PKT_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(tcp_in(&c->s, 1, 2000, 1001, SYN | ACK, 1000, -1, 0),
			 PKT_DROP_TCP_OUT_OF_WINDOW);
	assert_int_equal(c->s.tcp, before.tcp);
	assert_memory_equal(c->s.tcpp, before.tcpp, sizeof(before.tcpp));
	free(c);
}

/* With window scaling the windows are wide; without it on both sides they are not. */
static void
test_window_scaling(void **state)
{
	struct tconn *c = open_conn(1000, 2000, 7, 7);
	struct tconn *d = open_conn(1000, 2000, 7, -1);

	(void)state;
	/* the server's first scaled window, 65160 << 7: 8 MB in flight from the client */
	assert_false(tcp_fast(&c->s, 0, c->snd[0] + 4000000, c->snd[1], c->win[0], 1000));
	ack_all(c, 1);
	data(c, 0, 4000000, true);
	data(c, 0, 3000000, true);
	ack_all(c, 1);
	/* only one side offered it: 65 KB */
	assert_false(tcp_fast(&d->s, 0, d->snd[0] + 400000, d->snd[1], 1000, 1000));
	assert_int_equal(tcp_in(&d->s, 0, d->snd[0] + 400000, d->snd[1], ACK, 1000, -1, 1000),
			 PKT_DROP_TCP_OUT_OF_WINDOW);
	data(d, 0, 60000, true);
	free(c);
	free(d);
}

/* The fast path's check refuses what is outside the windows and leaves the tracking alone. */
static void
test_fast_refuses_outside(void **state)
{
	struct tconn *c = open_conn(0xffffff00u, 0x7fffffffu, -1, -1);
	struct flow_session before;

	(void)state;
	data(c, 0, 1000, true);   /* wraps */
	data(c, 1, 1000, true);
	ack_all(c, 0);
	before = c->s;
	assert_false(tcp_fast(&c->s, 1, c->snd[1] + 70000, c->snd[0], 1000, 10));
	assert_false(tcp_fast(&c->s, 1, c->snd[1] - 140000, c->snd[0], 1000, 10));
	assert_false(tcp_fast(&c->s, 1, c->snd[1], c->snd[0] + 1, 1000, 10));      /* acks the unsent */
	assert_false(tcp_fast(&c->s, 1, c->snd[1], c->snd[0] - 200000, 1000, 10));
	assert_memory_equal(c->s.tcpp, before.tcpp, sizeof(before.tcpp));
	/* a wider window goes the long way, which records it */
	assert_false(tcp_fast(&c->s, 1, c->snd[1], c->snd[0], 65535, 10));
	assert_memory_equal(c->s.tcpp, before.tcpp, sizeof(before.tcpp));
	/* old retransmissions and keep-alives pass and move nothing back */
	assert_true(tcp_fast(&c->s, 1, c->snd[1] - 1000, c->snd[0], 1000, 500));
	assert_true(tcp_fast(&c->s, 1, c->snd[1] - 1, c->snd[0], 1000, 0));
	assert_memory_equal(c->s.tcpp, before.tcpp, sizeof(before.tcpp));
	free(c);
}

/* TCP Fast Open: data in the SYN; the SYN-ACK acknowledges it, or only the SYN. */
static void
test_fast_open(void **state)
{
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct flow_session *s = aligned_alloc(64, sizeof(*s));

		memset(s, 0, sizeof(*s));
		s->proto = IPPROTO_TCP;
		s->tcp = FLOW_TCP_SYN0;
		assert_int_equal(tcp_in(s, 0, 7000, 0, SYN, 1000, -1, 100), 0);
		assert_int_equal(tcp_in(s, 0, 7000, 0, SYN, 1000, -1, 100), 0);   /* resent */
		assert_int_equal(tcp_in(s, 1, 90, 7201, SYN | ACK, 1000, -1, 0),
				 PKT_DROP_TCP_OUT_OF_WINDOW);
		assert_int_equal(tcp_in(s, 1, 90, 7000, SYN | ACK, 1000, -1, 0),
				 PKT_DROP_TCP_OUT_OF_WINDOW);
		assert_int_equal(tcp_in(s, 1, 90, k ? 7101 : 7001, SYN | ACK, 1000, -1, 0), 0);
		assert_int_equal(flow_session_tmo(s), FLOW_TMO_TCP);
		assert_true(tcp_fast(s, 0, 7101, 91, 1000, 10));
		free(s);
	}
}

/*
 * An HA standby's copy of the tracking, a refresh interval old, after a
 * takeover: the stream's next segment, far beyond the copy's windows, is
 * taken once per side and re-anchors the tracking; without the synced mark
 * it is dropped; one further away than FLOW_TCP_PICKUP_SPAN is dropped too.
 */
static void
test_synced_copy_picks_up(void **state)
{
	struct tconn *c = open_conn(1000, 5000000, -1, -1);
	struct flow_session copy;
	unsigned d;

	(void)state;
	copy = c->s;   /* what the peer last sent */
	for (d = 0; d < 100; d++) {   /* 2 MB each way since then, far beyond a 64 KB window */
		data(c, 0, 20000, false);
		data(c, 1, 20000, false);
	}
	/* Not marked: stale windows drop the stream. */
	c->s = copy;
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0], c->snd[1], ACK, c->win[0], -1, 100),
			 PKT_DROP_TCP_OUT_OF_WINDOW);
	/* Marked synced: too far (beyond the span) is still dropped. */
	c->s = copy;
	for (d = 0; d < 2; d++)
		c->s.tcpp[d].state |= FLOW_TCPP_SYNCED;
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0] + 2 * FLOW_TCP_PICKUP_SPAN, c->snd[1], ACK,
				c->win[0], -1, 100), PKT_DROP_TCP_OUT_OF_WINDOW);
	/* The real next segment is taken and re-anchors; then the stream runs on the fast path. */
	data(c, 0, 100, false);
	assert_false(c->s.tcpp[0].state & FLOW_TCPP_SYNCED);
	data(c, 1, 100, false);
	assert_false(c->s.tcpp[1].state & FLOW_TCPP_SYNCED);
	data(c, 0, 1000, true);
	data(c, 1, 1000, true);
	/* Once re-anchored, a blind segment far off is dropped again. */
	assert_int_equal(tcp_in(&c->s, 0, c->snd[0] + 1000000, c->snd[1], ACK, c->win[0], -1, 100),
			 PKT_DROP_TCP_OUT_OF_WINDOW);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blind_segments_change_nothing),
		cmocka_unit_test(test_rst_exact_and_in_window),
		cmocka_unit_test(test_rst_with_data_in_flight),
		cmocka_unit_test(test_rst_after_own_fin),
		cmocka_unit_test(test_fin_needs_window_and_ack),
		cmocka_unit_test(test_rst_before_syn_ack),
		cmocka_unit_test(test_reused_tuple_starts_afresh),
		cmocka_unit_test(test_syn_on_open_connection),
		cmocka_unit_test(test_window_scaling),
		cmocka_unit_test(test_fast_refuses_outside),
		cmocka_unit_test(test_fast_open),
		cmocka_unit_test(test_synced_copy_picks_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
