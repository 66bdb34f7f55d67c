/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP ALG's TCP sequence rules (issue 14): a FIN or RST ends a control
 * connection's calls only at the next expected byte of its direction - a
 * blind FIN, a RST before the SYN-ACK that does not acknowledge the SYN end
 * nothing - while the RSTs an endpoint takes still reach it: the one after
 * the sender's own FIN, and those beyond what dpnat trimmed (in the
 * receiver's window: passed for the endpoint's challenge ACK).
 */
#include "pptp_harness.h"

/* The connection still takes new calls (it is not closing) and has its calls. */
static void
assert_alive(struct conn *c, uint16_t ccid, uint16_t scid)
{
	assert_true(find_call(c->e, c->client, 32768, NULL));
	call_up(c, ccid, scid);
	assert_true(find_call(c->e, c->client, ccid, NULL));
}

/* FINs from either side at any other sequence number end no call; the real one does. */
static void
test_blind_fin(void **state)
{
	struct env *e = env_new(256, 64, 8);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint64_t bad0 = stats(e).err[PPTP_ERR_FIN_BAD];
	unsigned i, dir, sent = 0;

	(void)state;
	call_up(c, 32768, 17382);
	srand(1);
	for (dir = 0; dir < 2; dir++)
		for (i = 0; i < 2000; i++) {
			uint32_t seq = (uint32_t)rand() << 16 ^ (uint32_t)rand();

			if (seq == c->snd[dir])
				continue;
			/* in the window the endpoint queues it; dpnat's session tracking drops the rest */
			assert_int_equal(seg(c, dir, seq, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0,
					     NULL), 0);
			sent++;
		}
	assert_int_equal(stats(e).err[PPTP_ERR_FIN_BAD] - bad0, sent);
	assert_alive(c, 32769, 17383);
	/* the server's real FIN, then a retransmission of it and its RST after it */
	assert_int_equal(seg(c, 1, c->snd[1], RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
	assert_false(find_call(e, CLIENT1, 32768, NULL));
	assert_false(find_call(e, CLIENT1, 32769, NULL));
	bad0 = stats(e).err[PPTP_ERR_FIN_BAD];
	assert_int_equal(seg(c, 1, c->snd[1], RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
	assert_int_equal(stats(e).err[PPTP_ERR_FIN_BAD], bad0);
	free(c);
	env_free(e);
}

/* The RST at the byte after the sender's own FIN (the FIN takes one) is the endpoint's and passes. */
static void
test_rst_after_own_fin(void **state)
{
	struct env *e = env_new(256, 64, 8);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint64_t bad0;

	(void)state;
	call_up(c, 32768, 17382);
	assert_int_equal(seg(c, 1, c->snd[1], RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
	bad0 = stats(e).err[PPTP_ERR_RST_BAD];
	assert_int_equal(seg(c, 1, c->snd[1] + 1, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
	assert_int_equal(stats(e).err[PPTP_ERR_RST_BAD], bad0);
	free(c);
	env_free(e);
}

/* After a trim the sender's RST lies beyond what dpnat let through: it passes, ending nothing until exact. */
static void
test_rst_after_trim(void **state)
{
	struct env *e = env_new(256, 64, 8);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	uint8_t b[256];
	size_t n = msg(b, OCRQ, 32769, 0x5555, 0), fwd;

	(void)state;
	call_up(c, 32768, 17382);
	/* an OCRQ cut inside its Call ID field: dpnat forwards 12 of the 13 bytes */
	assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, 13, &fwd), 0);
	assert_int_equal(fwd, 12);
	assert_true(n > 13);
	/* the client gives up: its RST is at the byte after all it sent */
	assert_int_equal(seg(c, 0, c->snd[0] + 13, RTE_TCP_RST_FLAG, NULL, 0, NULL), 0);
	assert_true(find_call(e, CLIENT1, 32768, NULL));
	/* the server's challenge ACK says 12: the client's answer resets */
	assert_int_equal(seg(c, 0, c->snd[0] + 12, RTE_TCP_RST_FLAG, NULL, 0, NULL), 0);
	assert_false(find_call(e, CLIENT1, 32768, NULL));
	free(c);
	env_free(e);
}

/*
 * A new connection on a closed tuple, before its SYN-ACK: a RST from the
 * server side counts only when it acknowledges exactly the client's SYN.
 * (The harness's segments acknowledge what their receiver got: rcv_len
 * set off makes a forged RST acknowledge something else.)
 */
static void
test_rst_before_syn_ack(void **state)
{
	struct env *e = env_new(256, 64, 8);
	struct conn *c = conn_open(e, CLIENT1, 4762, 7263);
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		call_up(c, 32768, 17382);
		assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_RST_FLAG, NULL, 0, NULL), 0);
		assert_false(find_call(e, CLIENT1, 32768, NULL));
		env_settle(e);
		/* the same tuple again: k = 0, an ISN the forged RSTs do not acknowledge; 1, the one */
		c->isn[0] = k == 0 ? 0x22222222u : 0x11111110u;
		c->isn[1] += 300000;
		c->rcv_len[0] = c->rcv_len[1] = 0;
		assert_int_equal(seg(c, 0, c->isn[0], RTE_TCP_SYN_FLAG, NULL, 0, NULL), 0);
		c->rcv_len[0] = k == 0 ? 1000 : 0;   /* k = 0: not the SYN's acknowledgement */
		assert_int_equal(seg(c, 1, 12345, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL),
				 k == 0 ? PKT_DROP_TCP_RST_BAD : 0);
		c->rcv_len[0] = 0;
		assert_int_equal(seg(c, 1, 12345, RTE_TCP_RST_FLAG, NULL, 0, NULL),
				 PKT_DROP_TCP_RST_BAD);
		assert_int_equal(seg(c, 1, c->isn[1], RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0,
				     NULL), 0);
		c->snd[0] = c->isn[0] + 1;
		c->snd[1] = c->isn[1] + 1;
		if (k == 0) {
			call_up(c, 32768, 17382);   /* not closing: calls are taken */
			assert_true(find_call(e, CLIENT1, 32768, NULL));
		} else {
			uint8_t b[256];
			size_t n = msg(b, OCRQ, 32768, 0x5555, 0);

			/* the real refusal closed it: no new call */
			assert_int_equal(seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, b, n, NULL),
					 PKT_DROP_PPTP_XLATE_FAIL);
		}
	}
	free(c);
	env_free(e);
}

static int
setup(void **state)
{
	(void)state;
	return harness_setup("test_pptp_seq", "256");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blind_fin),
		cmocka_unit_test(test_rst_after_own_fin),
		cmocka_unit_test(test_rst_after_trim),
		cmocka_unit_test(test_rst_before_syn_ack),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
