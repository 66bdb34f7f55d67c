/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksum helpers: full computation and RFC 1624 incremental
 * update (HC' = ~(~HC + ~m + m')). All values are 16-bit words exactly as
 * they sit in the packet (network byte order), so callers never swap.
 */
#ifndef DPNAT_CKSUM_H
#define DPNAT_CKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

/** Fold a 32-bit one's complement sum to 16 bits (not inverted). */
static inline uint16_t
cksum_fold(uint32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return (uint16_t)sum;
}

/** True if a 20-byte IPv4 header (no options) sums to 0xffff: the fast-path check, inline. */
static inline bool
cksum_ip4_hdr20_ok(const void *hdr)
{
	uint64_t a, b, s;
	uint32_t c;

	/* The header sits 2 bytes off alignment after Ethernet: unaligned loads. */
	memcpy(&a, hdr, 8);
	memcpy(&b, (const uint8_t *)hdr + 8, 8);
	memcpy(&c, (const uint8_t *)hdr + 16, 4);
	/* One's complement sum in 64 bits: each carry out comes back in at the bottom. */
	s = a + b;
	s += s < a;
	s += c;
	s += s < c;
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return cksum_fold((uint32_t)s) == 0xffff;
}

/** RFC 1624 eq. 3: checksum after one 16-bit word changed from old to new. */
static inline uint16_t
cksum_adjust16(uint16_t cksum, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~cksum;
	sum += (uint16_t)~old;
	sum += new_;
	return (uint16_t)~cksum_fold(sum);
}

/** RFC 1624 eq. 3 for a 32-bit field (an address) changed from old to new. */
static inline uint16_t
cksum_adjust32(uint16_t cksum, uint32_t old, uint32_t new_)
{
	uint32_t sum = (uint16_t)~cksum;
	sum += (uint16_t)~(old >> 16) + (uint16_t)~(old & 0xffff);
	sum += (new_ >> 16) + (new_ & 0xffff);
	return (uint16_t)~cksum_fold(sum);
}

/**
 * Same as cksum_adjust16 for a UDP checksum: 0 means "no checksum" and stays
 * 0, and a computed 0 is sent as 0xffff (RFC 768).
 */
static inline uint16_t
cksum_adjust16_udp(uint16_t cksum, uint16_t old, uint16_t new_)
{
	if (cksum == 0)
		return 0;
	cksum = cksum_adjust16(cksum, old, new_);
	return cksum == 0 ? 0xffff : cksum;
}

/** UDP variant of cksum_adjust32. */
static inline uint16_t
cksum_adjust32_udp(uint16_t cksum, uint32_t old, uint32_t new_)
{
	if (cksum == 0)
		return 0;
	cksum = cksum_adjust32(cksum, old, new_);
	return cksum == 0 ? 0xffff : cksum;
}

/** One's complement sum of len bytes at buf added to sum (not folded, not inverted). */
uint32_t cksum_partial(const void *buf, size_t len, uint32_t sum);

/** Full Internet checksum of len bytes (inverted, ready to store; network order). */
uint16_t cksum_full(const void *buf, size_t len);

/** Full TCP/UDP checksum over pseudo header + l4 bytes (inverted; network order). */
uint16_t cksum_l4_full(rte_be32_t src, rte_be32_t dst, uint8_t proto,
		       const void *l4, size_t l4_len);

#endif /* DPNAT_CKSUM_H */
