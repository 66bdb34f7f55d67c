/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 802.1Q subinterfaces (`set interface ethernet4/1.1 tag 100 zone Untrust`).
 * A subinterface is an interface of its own (zone, address, NAT mode,
 * neighbours, sessions) whose frames go over its parent's port with its tag.
 * A tagged frame leaves the fast parse (its EtherType is not IPv4, or the
 * device stripped the tag: RTE_MBUF_F_RX_VLAN_STRIPPED, as with the port's
 * strip offload or af_packet, which reports what the kernel took off),
 * loses its tag (dp_vlan_rx, inline in dp_iface.h) and is processed in
 * the same burst pass as its port's untagged frames, as its subinterface's.
 * Frames a subinterface sends get the tag when its transmit buffer is
 * flushed: by the device where the port has the insert offload, written in
 * place otherwise (drivers/port takes both offloads where the device
 * reports them).
 */
#include <string.h>

#include <rte_ether.h>

#include "dp.h"
#include "dp_iface.h"

uint16_t
dp_vlan_push(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t tag, bool hw)
{
	const rte_be32_t tpid_tci = rte_cpu_to_be_32((uint32_t)RTE_ETHER_TYPE_VLAN << 16 | tag);
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *p;

		if (hw) {
			m->vlan_tci = tag;
			m->ol_flags |= RTE_MBUF_F_TX_VLAN;
		} else {
			/* Written in place: our mbufs are direct, unshared, with headroom; others are refused. */
			if (unlikely(!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) > 1 ||
				     (p = (uint8_t *)rte_pktmbuf_prepend(m, RTE_VLAN_HLEN)) == NULL)) {
				dp_drop(&w->st, m, PKT_DROP_VLAN);
				continue;
			}
			dp_vlan_move_macs(p, p + RTE_VLAN_HLEN);
			memcpy(p + 2 * RTE_ETHER_ADDR_LEN, &tpid_tci, sizeof(tpid_tci));
		}
		pkts[k++] = m;
	}
	return k;
}
