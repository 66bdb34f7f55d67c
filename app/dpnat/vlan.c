/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 802.1Q subinterfaces (`set interface ethernet4/1.1 tag 100 zone Untrust`).
 * A subinterface is an interface of its own (zone, address, NAT mode,
 * neighbours, sessions) whose frames go over its parent's port with its tag.
 * A tagged frame leaves the fast parse (its EtherType is not IPv4, or the
 * device stripped the tag: RTE_MBUF_F_RX_VLAN_STRIPPED, as with the port's
 * strip offload or af_packet, which reports what the kernel took off),
 * is sorted here to its subinterface and processed as a burst of it: with
 * its tag in the frame, which the fast path rewrites in place (a frame
 * leaving by an untagged interface just starts 4 bytes later), and off for
 * everything else. Frames a subinterface sends without it get the tag when
 * its transmit buffer is flushed: by the device where the port has the insert offload, written in
 * place otherwise (drivers/port takes both offloads where the device
 * reports them).
 */
#include <string.h>

#include <rte_ether.h>

#include "dp.h"
#include "dp_iface.h"

void
dp_vlan_link(struct dp *dp, unsigned port_iface, unsigned sub, uint16_t tag)
{
	dp->vlan_tag[sub] = tag;
	dp->vlan_sub_of[port_iface][tag & RTE_ETHER_MAX_VLAN_ID] = (uint8_t)(sub + 1);
}

int
dp_vlan_sub(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m)
{
	const struct rte_vlan_hdr *vh = rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *,
								 sizeof(struct rte_ether_hdr));
	unsigned sub;

	if (unlikely(m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*vh))) {
		dp_drop(&w->st, m, PKT_DROP_RUNT);
		return -1;
	}
	sub = dp->vlan_sub_of[iface][rte_be_to_cpu_16(vh->vlan_tci) & RTE_ETHER_MAX_VLAN_ID];
	if (unlikely(sub == 0)) {
		dp_drop(&w->st, m, PKT_DROP_VLAN_UNKNOWN);
		return -1;
	}
	return (int)sub - 1;
}

int
dp_vlan_rx(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m)
{
	unsigned sub;

	if (!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
		int s = dp_vlan_sub(dp, w, iface, m);

		if (s >= 0)
			dp_vlan_pop(m);
		return s;
	}
	sub = dp->vlan_sub_of[iface][m->vlan_tci & RTE_ETHER_MAX_VLAN_ID];
	if (sub == 0) {
		dp_drop(&w->st, m, PKT_DROP_VLAN_UNKNOWN);
		return -1;
	}
	m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
	return (int)sub - 1;
}

uint16_t
dp_vlan_push(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t tag, bool hw)
{
	const rte_be32_t tpid_tci = rte_cpu_to_be_32((uint32_t)RTE_ETHER_TYPE_VLAN << 16 | tag);
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		/* The fast path forwarded it with its tag rewritten in place. */
		if (*(const rte_be16_t *)(p + 2 * RTE_ETHER_ADDR_LEN) == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
			pkts[k++] = m;
			continue;
		}
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
