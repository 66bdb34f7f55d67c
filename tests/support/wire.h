/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte-level helpers the unit tests, the fuzz harnesses and the bench tools
 * share to build and check packets without trusting the code under test:
 * big-endian loads and stores, and the Internet checksum computed the plain
 * way (RFC 1071), byte by byte.
 *
 * A user may define WIRE_ATTR (e.g. to keep these out of fuzzing coverage)
 * before including this file.
 */
#ifndef DPNAT_TEST_WIRE_H
#define DPNAT_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifndef WIRE_ATTR
#define WIRE_ATTR
#endif

/** One's complement sum of n bytes (big-endian words) added to sum, not folded. */
static inline WIRE_ATTR uint32_t
wire_sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/** sum folded to 16 bits with end-around carry. */
static inline WIRE_ATTR uint16_t
wire_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/** The big-endian 16-bit value at p. */
static inline WIRE_ATTR uint16_t
wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/** The big-endian 32-bit value at p. */
static inline WIRE_ATTR uint32_t
wire_get32(const uint8_t *p)
{
	return (uint32_t)wire_get16(p) << 16 | wire_get16(p + 2);
}

/** Store v big-endian at p. */
static inline WIRE_ATTR void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/** Store v big-endian at p. */
static inline WIRE_ATTR void
wire_put32(uint8_t *p, uint32_t v)
{
	wire_put16(p, (uint16_t)(v >> 16));
	wire_put16(p + 2, (uint16_t)v);
}

#endif /* DPNAT_TEST_WIRE_H */
