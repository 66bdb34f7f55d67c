/* SPDX-License-Identifier: BSD-3-Clause */
/* Checksum helpers against a byte-wise reference, on random data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cksum.h"

/* RFC 1071 reference: big-endian 16-bit words, byte at a time. */
static uint16_t
ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Reference checksum as it would be stored (network order bytes). */
static uint16_t
ref_cksum_stored(const uint8_t *p, size_t len)
{
	return rte_cpu_to_be_16((uint16_t)~ref_sum(p, len, 0));
}

static void
test_full_matches_reference(void **state)
{
	uint8_t buf[1501];
	int iter;

	(void)state;
	srand(1);
	for (iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf)), i;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		assert_int_equal(cksum_full(buf, len), ref_cksum_stored(buf, len));
	}
}

static void
test_verify_zero(void **state)
{
	uint8_t buf[64];
	uint16_t c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 5);
	buf[10] = buf[11] = 0;
	c = cksum_full(buf, sizeof(buf));
	memcpy(buf + 10, &c, 2);
	/* A buffer holding its own checksum sums to zero. */
	assert_int_equal(cksum_full(buf, sizeof(buf)), 0);
}

/* Change a random aligned 16- or 32-bit field; incremental == recomputed. */
/* The fast path's 20-byte header check agrees with the reference, carries included. */
static void
test_hdr20_check(void **state)
{
	uint8_t h[2 + 20];   /* 2 bytes in, like an IPv4 header after Ethernet */
	int iter;

	(void)state;
	srand(20);
	for (iter = 0; iter < 200000; iter++) {
		uint8_t *ip = h + 2;
		uint16_t ck;
		int i, fill = iter % 4;

		for (i = 0; i < 20; i++)
			/* random, all ones (every add carries), all zeros, or nearly all ones */
			ip[i] = fill == 0 ? (uint8_t)rand() : fill == 1 ? 0xff : fill == 2 ? 0 :
				(uint8_t)(0xff - (rand() & 1));
		if (iter & 1) {
			/* store the right checksum: it must pass */
			ip[10] = ip[11] = 0;
			ck = ref_cksum_stored(ip, 20);
			memcpy(ip + 10, &ck, 2);
		}
		assert_int_equal(cksum_ip4_hdr20_ok(ip), ref_sum(ip, 20, 0) == 0xffff);
	}
}

static void
test_incremental_random(void **state)
{
	uint8_t buf[256];
	int iter;

	(void)state;
	srand(2);
	for (iter = 0; iter < 100000; iter++) {
		size_t len = 40 + (size_t)(rand() % 200) / 2 * 2, i, off;
		uint16_t c0, c1;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (iter % 50 == 0)
			memset(buf, 0xff, len);    /* exercise the 0x0000/0xffff corner */
		buf[0] = buf[1] = 0;
		c0 = cksum_full(buf, len);
		memcpy(buf, &c0, 2);
		off = 2 + (size_t)(rand() % (int)((len - 6) / 2)) * 2;
		if (rand() & 1) {
			uint16_t o, n = (uint16_t)rand();

			memcpy(&o, buf + off, 2);
			memcpy(buf + off, &n, 2);
			c1 = cksum_adjust16(c0, o, n);
		} else {
			uint32_t o, n = (uint32_t)rand() ^ ((uint32_t)rand() << 16);

			off &= ~(size_t)3;
			if (off < 4)
				off = 4;
			memcpy(&o, buf + off, 4);
			memcpy(buf + off, &n, 4);
			c1 = cksum_adjust32(c0, o, n);
		}
		buf[0] = buf[1] = 0;
		/* Equal as one's complement values (0 and 0xffff both mean zero sum). */
		{
			uint16_t full = cksum_full(buf, len);

			if (c1 != full)
				assert_true((c1 == 0 && full == 0xffff) || (c1 == 0xffff && full == 0));
		}
		memcpy(buf, &c1, 2);
		assert_true(cksum_full(buf, len) == 0 || cksum_full(buf, len) == 0xffff);
	}
}

static void
test_udp_zero_kept(void **state)
{
	(void)state;
	assert_int_equal(cksum_adjust16_udp(0, 0x1234, 0x4321), 0);
	assert_int_equal(cksum_adjust32_udp(0, 0x01020304, 0x05060708), 0);
	/* A result of 0 is sent as 0xffff (RFC 768). */
	{
		uint16_t c = cksum_adjust16(0x0001, 0x0000, 0xfffe);

		if (c == 0)
			assert_int_equal(cksum_adjust16_udp(0x0001, 0x0000, 0xfffe), 0xffff);
		assert_int_not_equal(cksum_adjust16_udp(0x0001, 0x0000, 0xfffe), 0);
	}
}

static void
test_l4_pseudo_header(void **state)
{
	uint8_t seg[300], ref[12 + 300];
	int iter;

	(void)state;
	srand(3);
	for (iter = 0; iter < 5000; iter++) {
		size_t len = 8 + (size_t)(rand() % 290), i;
		rte_be32_t s = (rte_be32_t)rand(), d = (rte_be32_t)rand();
		uint8_t proto = (iter & 1) ? 6 : 17;

		for (i = 0; i < len; i++)
			seg[i] = (uint8_t)rand();
		memcpy(ref, &s, 4);
		memcpy(ref + 4, &d, 4);
		ref[8] = 0;
		ref[9] = proto;
		ref[10] = (uint8_t)(len >> 8);
		ref[11] = (uint8_t)len;
		memcpy(ref + 12, seg, len);
		assert_int_equal(cksum_l4_full(s, d, proto, seg, len), ref_cksum_stored(ref, 12 + len));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_matches_reference),
		cmocka_unit_test(test_verify_zero),
		cmocka_unit_test(test_hdr20_check),
		cmocka_unit_test(test_incremental_random),
		cmocka_unit_test(test_udp_zero_kept),
		cmocka_unit_test(test_l4_pseudo_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
