/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interface MTU (`set interface NAME mtu N`). Workers let a frame no longer
 * than the smallest MTU of all interfaces (plus its Ethernet header) through
 * without looking at the MTU at all: with every interface at its default
 * 1500 nothing a 1500-byte port receives ever comes here. A longer packet is
 * parsed fully and, before any rewrite, checked against the MTU of the
 * interface it would leave by: with DF it is punted, so that the control
 * lcore answers ICMP fragmentation needed quoting what the sender sent;
 * without DF, or without a session from an Untrust zone, it is dropped and
 * counted (`mtu-exceeded`: see docs/configuration.md for why dpnat does not
 * fragment). Later fragments and ICMP errors, which take their translation
 * without that check, are checked as they are routed (worker.c, forward) and
 * dropped (`mtu-exceeded`) without an ICMP error. The limit is the
 * interface's MTU or its port device's largest, whichever is smaller.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>

#include "cli.h"
#include "dp.h"
#include "dp_iface.h"
#include "dp_log.h"

void
dp_mtu_refresh(struct dp *dp)
{
	unsigned i, n = route_iface_count(dp->rt);
	uint32_t min = CONF_MTU_MAX;

	for (i = 0; i < n; i++) {
		uint16_t mtu = route_iface_get(dp->rt, i) != NULL ? dp_iface_mtu(dp, i) : 0;

		if (mtu != 0 && mtu < min)
			min = mtu;
	}
	__atomic_store_n(&dp->mtu_fast_len, min + RTE_ETHER_HDR_LEN, __ATOMIC_RELAXED);
}

bool
dp_mtu_over(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md,
	    const struct flow_session *s, unsigned dir)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 md->l3_off);
	const struct route_iface *out;
	struct route_nh nh;
	uint32_t dst;
	int rc;

	/* A packet that will be dropped as spoofed, or is for dpnat itself, is not checked. */
	if (s != NULL && md->in_iface != s->iface[dir])
		return false;
	dst = rte_be_to_cpu_32(s != NULL ? s->rw[dir].dst : md->dst);
	if (s == NULL && route_iface_by_addr(dp->rt, dst) >= 0)
		return false;
	out = route_lookup_iface(dp->rt, dst, &nh, &rc);
	if (out == NULL || !dp_mtu_exceeds(dp, m, md, nh.iface))
		return false;
	/*
	 * Without a session from an Untrust zone the sender may be forged: no
	 * ICMP for it, and refusing it costs what any refused packet does.
	 */
	if (s == NULL) {
		const struct route_iface *in = route_iface_get(dp->rt, md->in_iface);

		if (in != NULL && nat_rules_untrust(&dp_runtime_get(dp)->nat, in->zone_id)) {
			dp_drop(&w->st, m, PKT_DROP_MTU_EXCEEDED);
			return true;
		}
	}
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) {
		md->out_iface = nh.iface;
		md->flags |= PKT_F_MTU;
		if (unlikely(rte_ring_mp_enqueue(dp->punt, m) != 0))
			dp_drop(&w->st, m, PKT_DROP_PUNT_RING_FULL);
		else
			w->st.punted++;
	} else {
		dp_drop(&w->st, m, PKT_DROP_MTU_EXCEEDED);
	}
	return true;
}

bool
dp_mtu_exceeds(const struct dp *dp, const struct rte_mbuf *m, const struct pkt_meta *md,
	       unsigned out_iface)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 md->l3_off);
	uint16_t mtu = dp_iface_mtu(dp, out_iface);

	return mtu != 0 && rte_be_to_cpu_16(ip->total_length) > mtu;
}

int
dp_mtu_apply(struct dp *dp, const struct conf *nc, struct cli_out *out)
{
	unsigned i;

	for (i = 0; i < nc->n_ifaces && i < ROUTE_MAX_IFACES; i++) {
		const struct route_iface *cur = route_iface_get(dp->rt, i);
		struct route_iface ri;
		int rc;

		if (cur == NULL || cur->mtu == nc->ifaces[i].mtu)
			continue;
		ri = *cur;
		ri.mtu = nc->ifaces[i].mtu;
		rc = route_iface_set(dp->rt, i, &ri);
		if (rc != 0) {
			cli_printf(out, "interface %s: mtu: %s", ri.name, strerror(-rc));
			return -1;
		}
		if (dp->ports[i].used)
			dp_port_mtu(dp, i, ri.mtu);
	}
	dp_mtu_refresh(dp);
	return 0;
}

void
dp_port_mtu(struct dp *dp, unsigned iface, uint16_t mtu)
{
	const struct port_info *pi = &dp->ports[iface].pi;
	int rc = port_set_mtu(&dp->ports[iface].pi, mtu);

	dp->ports[iface].mtu_hw = rc == 0;
	if (rc != 0)
		DP_LOG(NOTICE, "port %s: device MTU not set to %u (%s): checked in software only",
		       pi->name, mtu, strerror(-rc));
	/* Jumbo frames: what the port does with frames longer than one mbuf (port_setup decided). */
	if ((uint32_t)mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN >
	    (uint32_t)rte_pktmbuf_data_room_size(dp->pool) - RTE_PKTMBUF_HEADROOM)
		DP_LOG(NOTICE, "port %s (%s): MTU %u takes more than one mbuf a frame: "
		       "receive scatter %s, multi-segment send %s, device frames up to MTU %u%s",
		       pi->name, pi->driver, mtu, pi->rx_scatter ? "on" : "off",
		       pi->tx_multi_seg ? "on" : "off", pi->max_mtu,
		       mtu > pi->max_mtu ? ": larger packets are held to that MTU" : "");
}

uint16_t
dp_iface_mtu(const struct dp *dp, unsigned iface)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, iface);
	const struct dp_port *p = &dp->ports[dp->tx_iface[iface]];
	uint16_t mtu = ifc != NULL ? ifc->mtu : 0;

	if (p->used && p->pi.max_mtu != 0 && (mtu == 0 || p->pi.max_mtu < mtu))
		mtu = p->pi.max_mtu;
	return mtu;
}

uint16_t
dp_port_mtu_need(const struct conf *c, unsigned i)
{
	size_t len = strlen(c->ifaces[i].name);
	uint16_t mtu = c->ifaces[i].mtu;
	unsigned j;

	for (j = 0; j < c->n_ifaces; j++)
		if (c->ifaces[j].tag != 0 && strncmp(c->ifaces[j].name, c->ifaces[i].name, len) == 0 &&
		    c->ifaces[j].name[len] == '.' && c->ifaces[j].mtu > mtu)
			mtu = c->ifaces[j].mtu;
	return mtu;
}
