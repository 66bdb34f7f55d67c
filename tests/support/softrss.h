/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a NIC with dpnat's RSS key computes for a packet, by DPDK's own
 * software Toeplitz (rte_softrss), independent of lib/rss's tables: the
 * reference the RSS tests hold dpnat to.
 */
#ifndef DPNAT_TEST_SOFTRSS_H
#define DPNAT_TEST_SOFTRSS_H

#include <string.h>

#include <rte_thash.h>

#include "rss.h"

/** Toeplitz hash of an IPv4 TCP/UDP packet src:sport -> dst:dport (host order) with dpnat's key. */
static inline __attribute__((unused)) uint32_t
softrss_l4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	union rte_thash_tuple t;

	memset(&t, 0, sizeof(t));
	t.v4.src_addr = src;
	t.v4.dst_addr = dst;
	t.v4.sport = sport;
	t.v4.dport = dport;
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, rss_key);
}

#endif /* DPNAT_TEST_SOFTRSS_H */
