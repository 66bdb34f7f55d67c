/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "rss.h"

/*
 * Drawn once at random (tools: a seeded generator) and kept because, for 2,
 * 4, 8 and 16 queues, it splits the public ports 1024-65535 into classes
 * of exactly equal size by what they add to the hash's low bits
 * (test_rss checks it). The Microsoft default key is not used: a
 * well-known key helps whoever wants to aim a flood at one queue.
 */
const uint8_t rss_key[RSS_KEY_LEN] = {
	0xe4, 0x37, 0xe7, 0xda, 0x85, 0x5d, 0x60, 0x0c, 0x00, 0xe8,
	0x17, 0x08, 0x83, 0xdc, 0xa6, 0xde, 0xfe, 0x96, 0xf0, 0x46,
	0x43, 0xcf, 0x80, 0x69, 0x3e, 0xa2, 0xa9, 0xe5, 0xe5, 0xaa,
	0xd6, 0x7f, 0x03, 0xda, 0x58, 0x84, 0x1d, 0xbc, 0x8e, 0x60,
};

/* The 32 key bits from bit i (bit 0: the first byte's most significant). */
static uint32_t
key_window(const uint8_t *key, unsigned len, unsigned i)
{
	uint32_t v = 0;
	unsigned b;

	for (b = 0; b < 32; b++) {
		unsigned k = i + b;
		unsigned bit = k / 8 < len ? (key[k / 8] >> (7 - k % 8)) & 1 : 0;

		v = v << 1 | bit;
	}
	return v;
}

uint32_t
rss_hash_ref(const uint8_t *key, const uint8_t *data, unsigned len)
{
	uint32_t h = 0;
	unsigned i;

	for (i = 0; i < len * 8; i++)
		if ((data[i / 8] >> (7 - i % 8)) & 1)
			h ^= key_window(key, RSS_KEY_LEN, i);
	return h;
}

void
rss_tbl_init(struct rss_tbl *tbl, const uint8_t *key, unsigned len)
{
	unsigned pos, v, bit;

	for (pos = 0; pos < RSS_TUPLE_LEN; pos++)
		for (v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (bit = 0; bit < 8; bit++)
				if ((v >> (7 - bit)) & 1)
					h ^= key_window(key, len, pos * 8 + bit);
			tbl->t[pos][v] = h;
		}
}
