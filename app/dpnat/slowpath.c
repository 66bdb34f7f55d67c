/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control lcore's packet work: ARP (answer, learn, resolve), ICMP echo
 * to dpnat's own addresses, ICMP time exceeded and fragmentation needed, and packets waiting for a
 * next hop. Packets leave through worker 0's inject ring, so only workers
 * ever touch a TX queue.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "cksum.h"
#include "dp.h"
#include "dp_iface.h"
#include "dp_session.h"

#define ICMP_QUOTE_MAX 548  /* RFC 1812 4.3.2.3: quote as much as fits in 576 bytes */

void
dp_ctl_send(struct dp *dp, struct rte_mbuf *m, uint8_t iface)
{
	m->port = iface;
	if (rte_ring_sp_enqueue(dp->workers[0].inject, m) != 0)
		dp_drop(&dp->ctl_st, m, PKT_DROP_TX_FULL);
}

/* Send packets that were waiting for (iface -> mac). */
static void
send_released(struct dp *dp, uint8_t iface, const struct rte_ether_addr *mac,
	      struct rte_mbuf **pkts, unsigned n)
{
	const struct route_iface *out = route_iface_get(dp->rt, iface);
	unsigned i;

	for (i = 0; i < n; i++) {
		if (out == NULL) {
			dp_drop(&dp->ctl_st, pkts[i], PKT_DROP_IFACE_DOWN);
			continue;
		}
		dp_fwd_finish(out, mac, pkts[i]);
		dp->ctl_st.forwarded++;
		dp_ctl_send(dp, pkts[i], iface);
	}
}

void
dp_neigh_drops(struct dp *dp)
{
	struct neigh_stats ns;

	neigh_stats_get(dp->neigh, &ns);
	dp->ctl_st.drops[PKT_DROP_NEIGH_FAILED] += ns.failed_pkts - dp->neigh_failed_pkts;
	dp->neigh_failed_pkts = ns.failed_pkts;
	dp->ctl_st.drops[PKT_DROP_NEIGH_REMOVED] += ns.removed_pkts - dp->neigh_removed_pkts;
	dp->neigh_removed_pkts = ns.removed_pkts;
}

int
dp_arp_send(struct dp *dp, uint8_t iface, uint32_t sip, uint32_t tip)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, iface);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m;

	if (ifc == NULL || !ifc->up || !ifc->has_ip)
		return -1;
	m = rte_pktmbuf_alloc(dp->pool);
	if (m == NULL) {
		dp->ctl_st.drops[PKT_DROP_MBUF_ALLOC]++;
		return -1;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&ifc->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	dp_ctl_send(dp, m, iface);
	return 0;
}

void
dp_arp_request(struct dp *dp, uint8_t iface, uint32_t ip)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, iface);

	if (ifc != NULL)
		(void)dp_arp_send(dp, iface, ifc->ip, ip);
}

/* True if ip is an address of a DIP pool defined on interface iface (answered like our own, as ScreenOS does). */
static bool
dip_on_iface(const struct dp *dp, uint8_t iface, uint32_t ip)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, iface);
	unsigned i;

	for (i = 0; ifc != NULL && i < dp->conf.n_dips; i++) {
		const struct conf_dip *d = &dp->conf.dips[i];

		if (ip >= d->low && ip <= d->high && strcmp(d->iface, ifc->name) == 0)
			return true;
	}
	return false;
}

static void
handle_arp(struct dp *dp, struct rte_mbuf *m, struct pkt_meta *md)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, md->in_iface);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	uint32_t sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	uint32_t tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	struct rte_mbuf *rel[64];
	struct rte_ether_addr sha;
	bool for_us;
	unsigned n = 0;

	if (ifc == NULL || !ifc->has_ip) {
		dp_drop(&dp->ctl_st, m, PKT_DROP_ARP_NOT_FOR_US);
		return;
	}
	for_us = tip == ifc->ip || dip_on_iface(dp, md->in_iface, tip);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &sha);
	/* RFC 826: learn the sender when the packet is for us, else only refresh. */
	if (sip != 0 && rte_is_unicast_ether_addr(&sha) &&
	    neigh_update(dp->neigh, md->in_iface, sip, &sha, false, for_us, dp_now(dp),
			 rel, RTE_DIM(rel), &n) == 0 && n > 0)
		send_released(dp, md->in_iface, &sha, rel, n);
	if (!for_us || sip == tip) {
		dp_drop(&dp->ctl_st, m, for_us ? PKT_DROP_NONE : PKT_DROP_ARP_NOT_FOR_US);
		return;
	}
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST)) {
		rte_pktmbuf_free(m);   /* a reply to us: learnt above */
		return;
	}
	/* Turn the request into the reply in place. */
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	rte_ether_addr_copy(&ifc->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(tip);   /* our address or one of our DIP addresses */
	rte_ether_addr_copy(&sha, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	dp_ctl_send(dp, m, md->in_iface);
}

/* ICMP echo to one of our addresses: answer on the interface it came in. */
static void
handle_local(struct dp *dp, struct rte_mbuf *m, struct pkt_meta *md)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, md->in_iface);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
	struct rte_icmp_hdr *icmp;
	uint16_t old, sum;
	rte_be32_t a;

	if (md->l4_proto != IPPROTO_ICMP || !(md->flags & PKT_F_L4_VALID) ||
	    md->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || (md->flags & PKT_F_FRAG) ||
	    md->dst == RTE_BE32(0xffffffff) || ifc == NULL) {
		dp_drop(&dp->ctl_st, m, PKT_DROP_TO_ME_UNHANDLED);
		return;
	}
	icmp = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, md->l4_off);
	/* A jumbo echo's data runs on in the chain's next mbufs: summed where it lies. */
	if (rte_pktmbuf_is_contiguous(m) ? cksum_full(icmp, md->l4_len) != 0 :
	    rte_raw_cksum_mbuf(m, md->l4_off, md->l4_len, &sum) != 0 || sum != 0xffff) {
		dp_drop(&dp->ctl_st, m, PKT_DROP_ICMP_BAD);
		return;
	}
	old = *(uint16_t *)icmp;
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, old, *(uint16_t *)icmp);
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	old = *(uint16_t *)&ip->time_to_live;
	ip->time_to_live = 64;
	ip->hdr_checksum = cksum_adjust16(ip->hdr_checksum, old, *(uint16_t *)&ip->time_to_live);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	dp_ctl_send(dp, m, md->in_iface);
}

/*
 * ICMP error type/code back to the sender of m, quoting m as it arrived;
 * mtu goes in the next-hop MTU field (RFC 1191, 0 for other errors). m is
 * then dropped and counted as why.
 */
static void
send_icmp_error(struct dp *dp, struct rte_mbuf *m, struct pkt_meta *md, uint8_t type,
		uint8_t code, uint16_t mtu, unsigned why)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, md->in_iface);
	struct rte_ether_hdr *oeth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
	uint32_t quote = RTE_MIN((uint32_t)m->pkt_len - md->l3_off, (uint32_t)ICMP_QUOTE_MAX);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	struct rte_mbuf *r;
	const void *src;
	uint8_t *q;

	/* Never answer an ICMP error with one (RFC 1812 4.3.2.7), nor a non-first fragment. */
	if (ifc == NULL || !ifc->has_ip || (md->flags & PKT_F_ICMP_ERR) ||
	    (oip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK)))
		goto out;
	r = rte_pktmbuf_alloc(dp->pool);
	if (r == NULL) {
		dp->ctl_st.drops[PKT_DROP_MBUF_ALLOC]++;
		goto out;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(r, sizeof(*eth) + sizeof(*ip) +
							     sizeof(*icmp) + quote);
	if (eth == NULL) {
		rte_pktmbuf_free(r);
		goto out;
	}
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	q = (uint8_t *)(icmp + 1);
	/* The quote may run into a jumbo frame's second mbuf: read across the chain. */
	src = rte_pktmbuf_read(m, md->l3_off, quote, q);
	if (src == NULL) {
		rte_pktmbuf_free(r);
		goto out;
	}
	rte_ether_addr_copy(&oeth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*icmp) + quote));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(ifc->ip);
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = cksum_full(ip, sizeof(*ip));
	memset(icmp, 0, sizeof(*icmp));
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);   /* the second 16 bits after the checksum */
	if (src != q)
		memcpy(q, src, quote);
	icmp->icmp_cksum = cksum_full(icmp, sizeof(*icmp) + quote);
	dp_ctl_send(dp, r, md->in_iface);
out:
	dp_drop(&dp->ctl_st, m, why);
}

/* A packet whose next hop had no MAC when the worker looked. */
static void
resolve_and_send(struct dp *dp, struct rte_mbuf *m, struct pkt_meta *md)
{
	uint32_t dst = rte_be_to_cpu_32(md->dst);
	const struct route_iface *out;
	struct rte_ether_addr mac;
	struct route_nh nh;
	uint32_t nhip;
	int rc;

	if (route_lookup(dp->rt, dst, &nh) != 0) {
		dp_drop(&dp->ctl_st, m, PKT_DROP_NO_ROUTE);
		return;
	}
	out = route_iface_get(dp->rt, nh.iface);
	if (out == NULL || !out->up) {
		dp_drop(&dp->ctl_st, m, PKT_DROP_IFACE_DOWN);
		return;
	}
	md->out_iface = nh.iface;
	nhip = nh.gateway ? nh.gateway : dst;
	rc = neigh_queue(dp->neigh, nh.iface, nhip, m, dp_now(dp));
	if (rc == 1) {
		dp_arp_request(dp, nh.iface, nhip);
	} else if (rc == -EEXIST) {
		if (neigh_lookup(dp->neigh, nh.iface, nhip, &mac) == 0)
			send_released(dp, nh.iface, &mac, &m, 1);
		else
			dp_drop(&dp->ctl_st, m, PKT_DROP_NEIGH_FAILED);
	} else if (rc < 0) {
		uint32_t used, max;

		neigh_usage(dp->neigh, &used, &max);
		dp_drop(&dp->ctl_st, m, used >= max ? PKT_DROP_NEIGH_TABLE_FULL :
						      PKT_DROP_NEIGH_QUEUE_FULL);
	}
}

void
dp_slowpath(struct dp *dp, struct rte_mbuf *m)
{
	struct pkt_meta *md = pkt_md(m);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip;

	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		handle_arp(dp, m, md);
		return;
	}
	if (md->flags & PKT_F_MTU) {
		/*
		 * Type 3 code 4: fragmentation needed and DF set, with the egress MTU
		 * (the port's own where its device carries less).
		 * Before the local test: a reply to a public address is not for dpnat itself.
		 */
		send_icmp_error(dp, m, md, 3, 4, dp_iface_mtu(dp, md->out_iface),
				PKT_DROP_FRAG_NEEDED);
		return;
	}
	if (dp_addr_is_own(dp, rte_be_to_cpu_32(md->dst)) ||
	    md->dst == RTE_BE32(0xffffffff) || (md->flags & PKT_F_BCAST)) {
		handle_local(dp, m, md);
		return;
	}
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
	if (ip->time_to_live <= 1) {
		/* Type 11 code 0: TTL exceeded in transit. */
		send_icmp_error(dp, m, md, 11, 0, 0, PKT_DROP_TTL_EXCEEDED);
		return;
	}
	resolve_and_send(dp, m, md);
}
