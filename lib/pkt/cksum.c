/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "cksum.h"

uint32_t
cksum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;

	/* Sum 16-bit words as they sit in memory; the result is in the
	 * same (network) byte order as the data, so no swaps are needed. */
	while (len >= 8) {
		uint16_t w[4];

		memcpy(w, p, 8);
		acc += (uint32_t)w[0] + w[1] + w[2] + w[3];
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;

		memcpy(&w, p, 1);   /* the odd byte is the high-order byte on the wire */
		acc += w;
	}
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return cksum_fold((uint32_t)acc);
}

uint16_t
cksum_full(const void *buf, size_t len)
{
	return (uint16_t)~cksum_fold(cksum_partial(buf, len, 0));
}

uint16_t
cksum_l4_full(rte_be32_t src, rte_be32_t dst, uint8_t proto, const void *l4, size_t l4_len)
{
	struct {
		rte_be32_t src, dst;
		uint8_t zero, proto;
		rte_be16_t len;
	} __rte_packed ph = { src, dst, 0, proto, rte_cpu_to_be_16((uint16_t)l4_len) };
	uint32_t sum = cksum_partial(&ph, sizeof(ph), 0);

	return (uint16_t)~cksum_fold(cksum_partial(l4, l4_len, sum));
}
