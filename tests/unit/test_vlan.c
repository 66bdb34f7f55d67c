/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 802.1Q subinterfaces (app/dpnat/vlan.c): a tag in the frame or stripped by
 * the device picks the subinterface and comes off; unknown and stacked tags
 * are counted drops; on transmit the tag is written in place or left to the
 * device's insert offload. The integration test runs on af_packet, which
 * has both offloads: the software paths are held here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dp_iface.h"
#include "eal_rundir.h"

#define PARENT 1
#define SUB    3

static struct rte_mempool *pool;
static struct dp *dp;
static struct dp_worker *w;

static int
setup_eal(void **state)
{
	char *argv[] = { "test_vlan", "--no-huge", "--no-shconf", "-m", "256", "--no-pci",
			 "--no-telemetry", "--log-level=error", "--file-prefix=dpnat_test_vlan",
			 "-l", "0" };
	unsigned i;

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	eal_rundir_remove_at_exit();
	pool = rte_pktmbuf_pool_create("t_vlan_pool", 63, 0, PKT_PRIV_SIZE,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	dp = rte_zmalloc("t_vlan_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (pool == NULL || dp == NULL)
		return -1;
	for (i = 0; i < ROUTE_MAX_IFACES; i++)
		dp->tx_iface[i] = (uint8_t)i;
	dp->tx_iface[SUB] = PARENT;
	dp_vlan_link(dp, PARENT, SUB, 100);
	w = &dp->workers[0];
	return 0;
}

/* An Ethernet frame from src MAC 02..01 to 02..02: with tag (0: none), then EtherType IPv4 and len-14 bytes of 0xab. */
static struct rte_mbuf *
frame(uint16_t tag, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_non_null(p);
	memset(p, 0xab, len);
	memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (tag != 0) {
		p[12] = 0x81, p[13] = 0x00, p[14] = (uint8_t)(tag >> 8), p[15] = (uint8_t)tag;
		p += 4;
	}
	p[12] = 0x08, p[13] = 0x00;
	return m;
}

static void
test_rx(void **state)
{
	struct rte_mbuf *m;
	uint8_t *p;

	(void)state;
	/* Untagged: not for the VLAN path. */
	m = frame(0, 60);
	assert_false(dp_vlan_tagged(m));
	rte_pktmbuf_free(m);

	/* Tag in the frame: popped, the MACs kept, the IPv4 EtherType next. */
	m = frame(100, 64);
	assert_true(dp_vlan_tagged(m));
	assert_int_equal(dp_vlan_rx(dp, w, PARENT, m), SUB);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	assert_int_equal(m->pkt_len, 60);
	assert_memory_equal(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00\xab", 15);
	assert_int_equal(m->ol_flags & (RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED), 0);
	rte_pktmbuf_free(m);

	/* Stripped by the device: the frame stays as it is, the flags go. */
	m = frame(0, 60);
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 0x2000 | 100;   /* priority bits are not part of the id */
	assert_true(dp_vlan_tagged(m));
	assert_int_equal(dp_vlan_rx(dp, w, PARENT, m), SUB);
	assert_int_equal(m->pkt_len, 60);
	assert_int_equal(m->ol_flags & (RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED), 0);
	rte_pktmbuf_free(m);

	/* Unknown tag, tag 0, a second tag on the subinterface, another port: counted drops. */
	assert_int_equal(dp_vlan_rx(dp, w, PARENT, frame(200, 64)), -1);
	assert_int_equal(dp_vlan_rx(dp, w, PARENT, frame(0xf000, 64)), -1);   /* id 0 */
	assert_int_equal(dp_vlan_rx(dp, w, SUB, frame(100, 64)), -1);
	assert_int_equal(dp_vlan_rx(dp, w, 2, frame(100, 64)), -1);
	assert_int_equal(w->st.drops[PKT_DROP_VLAN_UNKNOWN], 4);
	/* A tag cut short. */
	m = frame(100, 64);
	rte_pktmbuf_trim(m, 64 - 16);
	assert_int_equal(dp_vlan_rx(dp, w, PARENT, m), -1);
	assert_int_equal(w->st.drops[PKT_DROP_RUNT], 1);
	/* Every dropped mbuf went back. */
	assert_int_equal(rte_mempool_avail_count(pool), 63);
}

static void
test_tx(void **state)
{
	struct rte_mbuf *pkts[2];
	uint8_t *p;

	(void)state;
	/* Software: the tag written after the MACs, the EtherType after it. */
	pkts[0] = frame(0, 60);
	pkts[1] = frame(0, 60);
	assert_int_equal(dp_vlan_push(w, pkts, 2, 100, false), 2);
	p = rte_pktmbuf_mtod(pkts[1], uint8_t *);
	assert_int_equal(pkts[1]->pkt_len, 64);
	assert_memory_equal(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x81\x00\x00\x64\x08\x00\xab", 19);
	assert_int_equal(pkts[1]->ol_flags & RTE_MBUF_F_TX_VLAN, 0);
	/* And the pop takes it off again. */
	assert_int_equal(dp_vlan_rx(dp, w, PARENT, pkts[1]), SUB);
	assert_int_equal(pkts[1]->pkt_len, 60);
	rte_pktmbuf_free(pkts[0]);
	rte_pktmbuf_free(pkts[1]);

	/* Device insert: the frame untouched, the tag in the mbuf. */
	pkts[0] = frame(0, 60);
	assert_int_equal(dp_vlan_push(w, pkts, 1, 100, true), 1);
	assert_int_equal(pkts[0]->pkt_len, 60);
	assert_true(pkts[0]->ol_flags & RTE_MBUF_F_TX_VLAN);
	assert_int_equal(pkts[0]->vlan_tci, 100);
	rte_pktmbuf_free(pkts[0]);

	/* A shared mbuf cannot take a tag in place: dropped, counted. */
	pkts[0] = frame(0, 60);
	rte_mbuf_refcnt_update(pkts[0], 1);
	assert_int_equal(dp_vlan_push(w, pkts, 1, 100, false), 0);
	assert_int_equal(w->st.drops[PKT_DROP_VLAN], 1);
	assert_int_equal(rte_mempool_avail_count(pool), 62);
	rte_pktmbuf_free(pkts[0]);
	assert_int_equal(rte_mempool_avail_count(pool), 63);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx),
		cmocka_unit_test(test_tx),
	};

	return cmocka_run_group_tests(tests, setup_eal, NULL);
}
