/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 802.1Q subinterfaces (`set interface ethernet4/1.1 tag 100 zone Untrust`).
 * A subinterface is an interface of its own (zone, address, NAT mode,
 * neighbours, sessions) whose frames go over its parent's port with its tag.
 * A tagged frame leaves the fast parse (its EtherType is not IPv4, or the
 * device stripped the tag: RTE_MBUF_F_RX_VLAN_STRIPPED, as with the port's
 * strip offload or af_packet, which reports what the kernel took off),
 * loses its tag here and is processed as a burst of its subinterface.
 * Frames a subinterface sends get the tag when its transmit buffer is
 * flushed: by the device where the port has the insert offload, written in
 * place otherwise (drivers/port takes both offloads where the device
 * reports them).
 */
#include <rte_ether.h>

#include "dp.h"
#include "dp_iface.h"

int
dp_vlan_rx(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m)
{
	uint16_t tag;
	unsigned i;

	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		tag = m->vlan_tci & 0xfff;
	} else {
		const struct rte_vlan_hdr *vh = rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *,
									sizeof(struct rte_ether_hdr));

		if (m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*vh)) {
			dp_drop(&w->st, m, PKT_DROP_RUNT);
			return -1;
		}
		tag = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
	}
	/* A subinterface's own frames carry no second tag; the parent is a physical interface. */
	if (dp->vlan_tag[iface] == 0 && tag != 0)
		for (i = 0; i < ROUTE_MAX_IFACES; i++)
			if (dp->vlan_tag[i] == tag && dp->tx_iface[i] == iface) {
				if (!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) && rte_vlan_strip(m) != 0)
					break;
				m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
				return (int)i;
			}
	dp_drop(&w->st, m, PKT_DROP_VLAN_UNKNOWN);
	return -1;
}

uint16_t
dp_vlan_push(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t tag, bool hw)
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		m->vlan_tci = tag;
		if (hw)
			m->ol_flags |= RTE_MBUF_F_TX_VLAN;
		/* Our mbufs are direct with headroom: this fails only for what dpnat never makes. */
		else if (rte_vlan_insert(&m) != 0) {
			dp_drop(&w->st, m, PKT_DROP_VLAN);
			continue;
		}
		pkts[k++] = m;
	}
	return k;
}
