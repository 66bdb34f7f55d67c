/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the DPDK harnesses: EAL start-up, packet buffers that
 * end exactly where the frame ends (so AddressSanitizer sees any read or
 * write past it: DPDK's own mempool memory is not instrumented), and
 * checksums computed independently of lib/pkt.
 */
#ifndef DPNAT_FUZZ_COMMON_H
#define DPNAT_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "pkt.h"

/*
 * Harness code that libFuzzer need not learn from (checksums, the reference
 * models): no coverage instrumentation, so the feedback is the libraries'.
 */
#if defined(__clang__) && __clang_major__ >= 13
#define FUZZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NOCOV
#endif
#define WIRE_ATTR FUZZ_NOCOV
#include "eal_rundir.h"
#include "wire.h"

/** Start the EAL without hugepages, PCI or shared config, under a unique file prefix. */
static inline void
fuzz_eal_init(const char *name)
{
	char prefix[64];
	char *argv[] = { (char *)(uintptr_t)name, "--no-huge", "--no-shconf", "-m", "256",
			 "--no-pci", "--log-level=error", prefix, "-l", "0", NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s_%d", name, (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed\n", name);
		abort();
	}
	eal_rundir_remove_at_exit();
}

static void
fuzz_extbuf_free(void *addr, void *opaque)
{
	free((uint8_t *)addr);
	free(opaque);
}

/**
 * An mbuf from pool whose data is a malloc'd buffer: RTE_PKTMBUF_HEADROOM
 * bytes of headroom, then exactly len bytes (copied from data), then
 * nothing. The mbuf's private area (pkt_meta) is the pool's.
 */
static inline struct rte_mbuf *
fuzz_mbuf_exact(struct rte_mempool *pool, const uint8_t *data, uint16_t len)
{
	struct rte_mbuf_ext_shared_info *shinfo = malloc(sizeof(*shinfo));
	uint16_t room = (uint16_t)(RTE_PKTMBUF_HEADROOM + len);
	uint8_t *buf = malloc(room);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	if (shinfo == NULL || buf == NULL || m == NULL)
		abort();
	memset(shinfo, 0, sizeof(*shinfo));
	shinfo->free_cb = fuzz_extbuf_free;
	shinfo->fcb_opaque = shinfo;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, buf, (rte_iova_t)(uintptr_t)buf, room, shinfo);
	rte_pktmbuf_reset_headroom(m);
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL || p + len != buf + room)
		abort();
	memcpy(p, data, len);
	return m;
}

/** True if the n bytes at p (a header with its checksum) sum to 0xffff. */
static inline bool
fuzz_cksum_ok(const uint8_t *p, size_t n)
{
	return wire_fold(wire_sum16(p, n, 0)) == 0xffff;
}

/** True if a TCP/UDP segment l4[n] of IPv4 header ip verifies with its pseudo header. */
static inline bool
fuzz_l4_cksum_ok(const uint8_t *ip, uint8_t proto, const uint8_t *l4, size_t n)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(n >> 8);
	ph[11] = (uint8_t)n;
	return wire_fold(wire_sum16(l4, n, wire_sum16(ph, 12, 0))) == 0xffff;
}

#endif /* DPNAT_FUZZ_COMMON_H */
