/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpnat's receive-side scaling: the one Toeplitz key it gives every port
 * that takes one, the redirection table it spreads over the workers'
 * queues, and a table-driven Toeplitz hash of IPv4 tuples that the NAT uses
 * to choose a public port whose reply the NIC puts on the creating worker's
 * queue (docs/architecture.md, "Receive-side scaling"). Tests and tools
 * (tests/integration/softrss.py) use the same bytes.
 *
 * The hash of an IPv4 TCP/UDP packet is Toeplitz over source address,
 * destination address, source port, destination port (12 bytes, network
 * order); of any other IPv4 packet over the two addresses (8 bytes). The
 * queue is reta[hash % reta_size], and dpnat's table holds entry j -> queue
 * j % nb_queues. Toeplitz is linear: the hash of a tuple is the XOR of what
 * each of its bytes contributes, which rss_tbl keeps per byte position.
 */
#ifndef DPNAT_RSS_H
#define DPNAT_RSS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>

#define RSS_KEY_LEN 40
#define RSS_TUPLE_LEN 12     /**< IPv4 addresses and ports */

/** dpnat's Toeplitz key (40 bytes; a device with a longer key gets it padded with zeros). */
extern const uint8_t rss_key[RSS_KEY_LEN];

/** Per byte position of the 12-byte tuple, what each byte value adds to the hash. */
struct rss_tbl {
	uint32_t t[RSS_TUPLE_LEN][256];
};

/** Fill tbl from key (len bytes, at least RSS_TUPLE_LEN + 4). */
void rss_tbl_init(struct rss_tbl *tbl, const uint8_t *key, unsigned len);

/** Toeplitz over len bytes of data with key, bit by bit: the reference rss_tbl must equal. */
uint32_t rss_hash_ref(const uint8_t *key, const uint8_t *data, unsigned len);

/** Hash of an IPv4 TCP/UDP tuple (network order) as the NIC computes it. */
static inline uint32_t
rss_hash_l4(const struct rss_tbl *tbl, rte_be32_t src, rte_be32_t dst, rte_be16_t sport,
	    rte_be16_t dport)
{
	const uint8_t *s = (const uint8_t *)&src, *d = (const uint8_t *)&dst;
	const uint8_t *sp = (const uint8_t *)&sport, *dp = (const uint8_t *)&dport;

	return tbl->t[0][s[0]] ^ tbl->t[1][s[1]] ^ tbl->t[2][s[2]] ^ tbl->t[3][s[3]] ^
	       tbl->t[4][d[0]] ^ tbl->t[5][d[1]] ^ tbl->t[6][d[2]] ^ tbl->t[7][d[3]] ^
	       tbl->t[8][sp[0]] ^ tbl->t[9][sp[1]] ^ tbl->t[10][dp[0]] ^ tbl->t[11][dp[1]];
}

/** Hash of an IPv4 packet by its addresses alone (GRE, ICMP, fragments). */
static inline uint32_t
rss_hash_ip(const struct rss_tbl *tbl, rte_be32_t src, rte_be32_t dst)
{
	const uint8_t *s = (const uint8_t *)&src, *d = (const uint8_t *)&dst;

	return tbl->t[0][s[0]] ^ tbl->t[1][s[1]] ^ tbl->t[2][s[2]] ^ tbl->t[3][s[3]] ^
	       tbl->t[4][d[0]] ^ tbl->t[5][d[1]] ^ tbl->t[6][d[2]] ^ tbl->t[7][d[3]];
}

/** What destination port port (host order) adds to a TCP/UDP hash. */
static inline uint32_t
rss_dport_part(const struct rss_tbl *tbl, uint16_t port)
{
	return tbl->t[10][port >> 8] ^ tbl->t[11][port & 0xff];
}

/** Queue of redirection-table entry j in dpnat's table for nb_queues queues. */
static inline uint16_t
rss_reta_queue(uint32_t j, uint16_t nb_queues)
{
	return (uint16_t)(j % nb_queues);
}

/** Queue a hash lands on through dpnat's table of reta_size entries over nb_queues queues. */
static inline uint16_t
rss_queue(uint32_t hash, uint32_t reta_size, uint16_t nb_queues)
{
	return rss_reta_queue(hash & (reta_size - 1), nb_queues);
}

/** Whether dpnat can choose ports for nb_queues queues: a power of two (then queue = hash % nb_queues). */
static inline bool
rss_queues_ok(unsigned nb_queues)
{
	return nb_queues != 0 && (nb_queues & (nb_queues - 1)) == 0;
}

#endif /* DPNAT_RSS_H */
