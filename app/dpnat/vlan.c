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
#include <string.h>

#include <rte_ether.h>

#include "dp.h"
#include "dp_iface.h"

/* Move the two MAC addresses (12 bytes) from src to dst, 4 bytes away either way: all loads before the stores. */
static inline void
vlan_move_macs(uint8_t *dst, const uint8_t *src)
{
	uint64_t a;
	uint32_t b;

	memcpy(&a, src, sizeof(a));
	memcpy(&b, src + sizeof(a), sizeof(b));
	memcpy(dst, &a, sizeof(a));
	memcpy(dst + sizeof(a), &b, sizeof(b));
}

int
dp_vlan_rx(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	bool in_frame = !(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED);
	uint32_t subs;
	uint16_t tag;
	unsigned i;

	if (!in_frame) {
		tag = m->vlan_tci & 0xfff;
	} else {
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(p + sizeof(struct rte_ether_hdr));

		if (m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*vh)) {
			dp_drop(&w->st, m, PKT_DROP_RUNT);
			return -1;
		}
		tag = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
	}
	/* Only the port's own subinterfaces: a subinterface has none (its frames carry no second tag). */
	if (tag != 0)
		for (subs = dp->vlan_port_subs[iface]; subs != 0; subs &= subs - 1) {
			i = (unsigned)__builtin_ctz(subs);
			if (dp->vlan_tag[i] != tag)
				continue;
			/* The tag off in place (dp_vlan_tagged saw the 802.1Q EtherType): MACs 4 bytes on. */
			if (in_frame) {
				vlan_move_macs(p + RTE_VLAN_HLEN, p);
				m->data_off += RTE_VLAN_HLEN;   /* rte_pktmbuf_adj, the length checked above */
				m->data_len -= RTE_VLAN_HLEN;
				m->pkt_len -= RTE_VLAN_HLEN;
			}
			m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
			return (int)i;
		}
	dp_drop(&w->st, m, PKT_DROP_VLAN_UNKNOWN);
	return -1;
}

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
			vlan_move_macs(p, p + RTE_VLAN_HLEN);
			memcpy(p + 2 * RTE_ETHER_ADDR_LEN, &tpid_tci, sizeof(tpid_tci));
		}
		pkts[k++] = m;
	}
	return k;
}
