/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore: receive a burst from each port's queue it owns, parse,
 * decide, rewrite and buffer for transmit; what needs state the control lcore
 * owns (ARP, packets for dpnat itself, TTL expiry, unresolved next hops) is
 * punted to it through a ring. Run to completion, nothing allocated here.
 */
#include <unistd.h>

#include <errno.h>

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "cksum.h"
#include "dp.h"
#include "dp_iface.h"
#include "dp_session.h"

/* How many packets ahead the parse loop fetches packet data. */
#define DP_PREFETCH 4

static inline int
nh_resolve(struct dp *dp, struct dp_worker *w, uint8_t iface, uint32_t ip,
	   struct rte_ether_addr *mac)
{
	struct dp_nh_cache *e = &w->nh_cache[(ip ^ (ip >> 8) ^ iface) % DP_NH_CACHE];
	uint64_t key = ip | (uint64_t)iface << 32 | 1ull << 40;

	/* The generation read at the start of the loop: a change seen one burst late at most. */
	if (likely(e->key == key && e->gen == w->nh_gen)) {
		*mac = e->mac;
		return 0;
	}
	if (neigh_lookup(dp->neigh, iface, ip, mac) != 0)
		return -ENOENT;
	e->key = key;
	e->gen = w->nh_gen;
	e->mac = *mac;
	return 0;
}

/* Send whatever is buffered for iface on this worker's queue of that port. */
static void
tx_flush(struct dp *dp, struct dp_worker *w, unsigned iface)
{
	struct dp_txbuf *b = &w->txbuf[iface];
	struct dp_port *p = &dp->ports[dp->tx_iface[iface]];   /* a subinterface's: its parent's */
	uint16_t q, sent, i;
	uint64_t bytes = 0;

	w->tx_pending &= ~(1u << iface);
	if (unlikely(dp->vlan_tag[iface] != 0)) {
		/* Only when some frame has no tag yet (the fast path rewrote the others'). */
		if (b->tagged != b->n)
			b->n = dp_vlan_push(w, b->pkts, b->n, dp->vlan_tag[iface], p->pi.tx_vlan_insert);
		b->tagged = 0;
	}
	if (b->n == 0)
		return;
	q = (uint16_t)(w->idx % p->pi.nb_txq);
	if (p->pi.txq_shared)
		rte_spinlock_lock(&p->pi.txq_lock[q]);
	for (i = 0; i < b->n; i++)
		bytes += b->pkts[i]->pkt_len;
	sent = rte_eth_tx_burst(p->pi.port_id, q, b->pkts, b->n);
	if (p->pi.txq_shared)
		rte_spinlock_unlock(&p->pi.txq_lock[q]);
	for (i = sent; i < b->n; i++) {
		bytes -= b->pkts[i]->pkt_len;
		dp_drop(&w->st, b->pkts[i], PKT_DROP_TX_FULL);
	}
	w->st.tx_pkts[iface] += sent;
	w->st.tx_bytes[iface] += bytes;
	b->n = 0;
}

/* Send everything buffered, interface by interface. */
static inline void
tx_flush_all(struct dp *dp, struct dp_worker *w)
{
	while (w->tx_pending != 0)
		tx_flush(dp, w, (unsigned)__builtin_ctz(w->tx_pending));
}

/* Queue m for transmission out of iface, a port in use; flushes when the buffer fills. */
static inline void
tx_push(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m)
{
	struct dp_txbuf *b = &w->txbuf[iface];

	w->tx_pending |= 1u << iface;
	b->pkts[b->n++] = m;
	if (b->n == DP_BURST)
		tx_flush(dp, w, iface);
}

/*
 * Queue m for transmission out of iface (dropped if no port is bound to it,
 * or if it is a chain of mbufs, a jumbo frame, and the port sends only one).
 * The fast path never holds a chain: its parse wants the packet whole in one mbuf.
 */
static inline void
tx_enqueue(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m)
{
	const struct dp_port *p = &dp->ports[dp->tx_iface[iface]];

	if (unlikely(!p->used || (m->nb_segs > 1 && !p->pi.tx_multi_seg))) {
		dp_drop(&w->st, m, p->used ? PKT_DROP_TX_MULTI_SEG : PKT_DROP_IFACE_DOWN);
		return;
	}
	tx_push(dp, w, iface, m);
}

/* Hand a packet to the control lcore. */
static inline void
punt(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m)
{
	if (unlikely(rte_ring_mp_enqueue(dp->punt, m) != 0)) {
		dp_drop(&w->st, m, PKT_DROP_PUNT_RING_FULL);
		return;
	}
	w->st.punted++;
}

/*
 * What lowering the TTL adds to the one's complement sum of the IPv4 header.
 * TTL is the first byte of its 16-bit word, so in the word as loaded on
 * this little-endian CPU it is the low byte: the word drops by exactly 1,
 * and RFC 1624 eq. 3 becomes HC' = ~(~HC + 0xfffe).
 */
#define TTL_DEC 0xfffeu

/* Ethernet addresses and TTL of a packet leaving by out to dmac. */
static inline void
fwd_finish(const struct route_iface *out, const struct rte_ether_addr *dmac, struct rte_mbuf *m)
{
	struct pkt_meta *md = pkt_md(m);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
	uint32_t sum;

	rte_ether_addr_copy(dmac, &eth->dst_addr);
	rte_ether_addr_copy(&out->mac, &eth->src_addr);
	ip->time_to_live--;
	sum = (uint16_t)~ip->hdr_checksum + TTL_DEC;
	ip->hdr_checksum = (uint16_t)~cksum_fold(sum);
}

void
dp_fwd_finish(const struct route_iface *out, const struct rte_ether_addr *dmac,
	      struct rte_mbuf *m)
{
	fwd_finish(out, dmac, m);
}

/*
 * Cache in s, for its direction dir, what a lookup of this worker's
 * generation found: egress interface iface, next-hop MAC mac. Both of s's
 * entries are invalidated first when they were filled for another
 * generation. The other direction may be filled at the same moment by a
 * worker that read another generation: whoever stores fwd_gen clears both
 * entries after it, and an entry set while that happened is cleared again
 * when fwd_gen no longer says this worker's generation - so no entry stays
 * valid for a generation it was not looked up for. Once per session
 * direction and generation, so the full barriers cost nothing on the fast
 * path.
 */
static inline void
fwd_fill(struct dp_worker *w, struct flow_session *s, unsigned dir, uint8_t iface,
	 const struct rte_ether_addr *mac)
{
	struct flow_fwd *f = &s->fwd[dir];

	if (__atomic_load_n(&s->fwd_gen, __ATOMIC_ACQUIRE) != w->fwd_gen) {
		__atomic_store_n(&s->fwd_gen, w->fwd_gen, __ATOMIC_SEQ_CST);
		__atomic_store_n(&s->fwd[0].ok, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&s->fwd[1].ok, 0, __ATOMIC_SEQ_CST);
	}
	f->dmac = *mac;
	f->iface = iface;
	__atomic_store_n(&f->ok, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->fwd_gen, __ATOMIC_SEQ_CST) != w->fwd_gen)
		__atomic_store_n(&f->ok, 0, __ATOMIC_RELAXED);
}

/* Route one parsed IPv4 packet that is not for dpnat itself (TTL already checked). */
static inline void
forward(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md,
	struct flow_session *s, unsigned dir)
{
	const struct route_iface *out;
	struct rte_ether_addr mac;
	struct route_nh nh;
	uint32_t dst = rte_be_to_cpu_32(md->dst);
	int rc;

	out = route_lookup_iface(dp->rt, dst, &nh, &rc);
	if (unlikely(out == NULL || !out->up)) {
		dp_drop(&w->st, m, rc != 0 ? PKT_DROP_NO_ROUTE : PKT_DROP_IFACE_DOWN);
		return;
	}
	md->out_iface = nh.iface;
	if (unlikely(nh_resolve(dp, w, nh.iface, nh.gateway ? nh.gateway : dst, &mac) != 0)) {
		punt(dp, w, m);   /* control resolves and sends it */
		return;
	}
	/* Only a bound port is cached: the fast path transmits without asking again. */
	if (s != NULL && dp->ports[dp->tx_iface[nh.iface]].used)
		fwd_fill(w, s, dir, nh.iface, &mac);
	fwd_finish(out, &mac, m);
	w->st.forwarded++;
	tx_enqueue(dp, w, nh.iface, m);
}

/*
 * Forward what dp_mtu_over did not see before its rewrite: later fragments
 * and ICMP errors, dropped over the egress MTU (mtu-exceeded). Neither gets
 * an ICMP error back (a later fragment carries no DF and cannot be quoted
 * usefully; an error never answers an error). Its own route lookup for the
 * long ones: forward() stays as it was.
 */
static inline void
forward_mtu(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md)
{
	struct route_nh nh;
	int rc;

	if (unlikely(m->pkt_len > __atomic_load_n(&dp->mtu_fast_len, __ATOMIC_RELAXED)) &&
	    route_lookup_iface(dp->rt, rte_be_to_cpu_32(md->dst), &nh, &rc) != NULL &&
	    dp_mtu_exceeds(dp, m, md, nh.iface)) {
		dp_drop(&w->st, m, PKT_DROP_MTU_EXCEEDED);
		return;
	}
	forward(dp, w, m, md, NULL, 0);
}

/*
 * What this burst made that a later packet of it may match: the keys of the
 * sessions made, in a 256-bit filter (no false negatives), or everything
 * after an ALG's control packet (it may have opened gates). A miss is looked
 * up again only when its key may be one of them.
 */
static inline unsigned
made_bit(const struct flow_key *k)
{
	uint32_t h = k->src ^ (k->dst * 0x85ebca6bu) ^ ((uint32_t)k->sport << 16 | k->dport) ^ k->proto;

	return (h * 0x9e3779b1u) >> 24;
}

/* Session s was made (or found made) by this burst: both its keys may come again. */
static inline void
made_session(struct dp_worker *w, const struct flow_session *s)
{
	unsigned b0 = made_bit(&s->key[0]), b1 = made_bit(&s->key[1]);

	w->made++;
	w->made_keys[b0 >> 6] |= 1ull << (b0 & 63);
	w->made_keys[b1 >> 6] |= 1ull << (b1 & 63);
}

/* Anything may match now (an ALG opened gates). */
static inline void
made_any(struct dp_worker *w)
{
	w->made++;
	w->made_keys[0] = w->made_keys[1] = w->made_keys[2] = w->made_keys[3] = UINT64_MAX;
}

/* Whether a key missed earlier in this burst may match now. */
static inline bool
made_may_match(const struct dp_worker *w, const struct flow_key *k)
{
	unsigned b;

	if (likely(w->made == 0))
		return false;
	b = made_bit(k);
	return (w->made_keys[b >> 6] >> (b & 63)) & 1;
}

/* A packet matched session s in direction dir: translate and send. */
static void
session_hit(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md,
	    struct flow_session *s, unsigned dir)
{
	/* One test on the fast path for the three rare cases. */
	if (unlikely((md->flags & PKT_F_FRAG) | (md->in_iface != s->iface[dir]) |
		     (s->flags & FLOW_F_DEAD))) {
		unsigned why;

		if (md->in_iface != s->iface[dir])
			/* A session's direction is bound to the interface it arrives on:
			 * nothing from Untrust can pass itself off as an inside host's packet. */
			why = PKT_DROP_WRONG_IFACE;
		else if (s->flags & FLOW_F_DEAD)
			/* Torn down (PPTP call cleared): waiting for the ager, already closed. */
			why = s->proto == IPPROTO_GRE ? PKT_DROP_GRE_NO_GATE : PKT_DROP_NO_SESSION;
		else
			/* A first fragment: its datagram's later fragments will follow it. */
			why = dp_frag_first(dp, w, m, md, s, dir);
		if (why != 0) {
			dp_drop(&w->st, m, why);
			return;
		}
	}
	flow_touch(s, w->now);
	w->st.hits++;
	w->st.hits_foreign += s->owner != w->idx;
	if (md->l4_proto == IPPROTO_TCP) {
		const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
								       md->l4_off);
		uint32_t hlen = (uint32_t)(md->payload_off - md->l4_off);
		/* Outside the receiver's window it changes nothing, and goes no further. */
		int r = flow_tcp_input(s, dir, th, hlen, md->l4_len - hlen);

		/* PPTP control: Call IDs are rewritten before the addresses are. */
		if (r == 0 && unlikely(s->flags & FLOW_F_ALG_CTRL)) {
			r = pptp_ctrl_input(dp->pptp, w->idx, s, dir, m, md, w->now);
			made_any(w);   /* it may have opened gates for the packets behind it */
			/* The HA peer gets the stream's position and calls after every control segment. */
			if (unlikely(__atomic_load_n(&dp->ha_sync, __ATOMIC_RELAXED)))
				dp_ha_session(dp, w->idx, s, DP_HA_EV_PPTP);
		}
		if (r != 0) {
			dp_drop(&w->st, m, (unsigned)r);
			return;
		}
	}
	nat_rewrite(m, md, &s->rw[dir]);
	forward(dp, w, m, md, s, dir);
}

/*
 * A subscriber limit refused f (drop reason why): a quota-exceeded record
 * (RFC 8158 natEvent 13); no public port left: a ports-exhausted one (12).
 * Both at most one a second per lcore.
 */
static __rte_noinline void
quota_log(struct dp *dp, struct dp_worker *w, const struct dp_runtime *rt, const struct nat_flow *f,
	  unsigned why)
{
	switch (why) {
	case PKT_DROP_SRC_SESSION_LIMIT:
		dp_natlog_quota(dp, w->idx, f->src, DP_NATLOG_Q_SESSIONS,
				nat_rules_src_limit(&rt->nat, f->in_zone));
		break;
	case PKT_DROP_SRC_PORT_LIMIT:
		dp_natlog_quota(dp, w->idx, f->src, DP_NATLOG_Q_PORTS, rt->nat.port_limit);
		break;
	case PKT_DROP_NAT_PBA_MAX:
		dp_natlog_quota(dp, w->idx, f->src, DP_NATLOG_Q_BLOCKS, rt->pba_max_blocks);
		break;
	case PKT_DROP_NAT_DET_FULL:
		dp_natlog_quota(dp, w->idx, f->src, DP_NATLOG_Q_DET_RANGE, 0);
		break;
	case PKT_DROP_NAT_NO_PORT:
		dp_natlog_refusal(dp, w->idx, why, f->proto, f->src, f->dst, f->sport, f->dport, 0);
		break;
	default:
		break;
	}
}

/* The NAT module's view of the first packet of a flow, from in to out (out_idx), at now. */
static inline struct nat_flow
nat_flow_of(const struct pkt_meta *md, const struct route_iface *in, unsigned out_idx,
	    const struct route_iface *out, uint32_t now)
{
	return (struct nat_flow){
		.src = md->src,
		.dst = md->dst,
		.sport = md->sport,
		.dport = md->dport,
		.proto = md->l4_proto,
		.tcp_flags = md->tcp_flags,
		.icmp_type = md->icmp_type,
		.in_iface = md->in_iface,
		.out_iface = (uint8_t)out_idx,
		.in_zone = in->zone_id,
		.out_zone = out->zone_id,
		.in_nat = in->nat,
		.now = now,
	};
}

/* Session s was made for this worker's packet (how: nat_session_new's): logged, and seen by the burst. */
static inline void
session_made(struct dp *dp, struct dp_worker *w, const struct dp_runtime *rt,
	     const struct flow_session *s, unsigned how)
{
	w->st.created += !(how & NAT_NEW_RACE);
	/*
	 * Another worker's session (NAT_NEW_RACE) was logged by that worker; one
	 * whose port is of a port block is logged by its block.
	 */
	if (unlikely(rt->log_nat) && !(how & NAT_NEW_RACE) && !(s->flags & FLOW_F_PBA))
		dp_natlog_session(dp, w->idx, s, DP_NATLOG_SESS_NEW);
	/* The HA peer learns it (a PPTP control session with its ALG state). */
	if (unlikely(__atomic_load_n(&dp->ha_sync, __ATOMIC_RELAXED)) && !(how & NAT_NEW_RACE) &&
	    dp_ha_syncable(s->flags, s->alg_id))
		dp_ha_session(dp, w->idx, s, dp_ha_new_event(s->flags));
	made_session(w, s);
}

/*
 * First packet of a flow: the NAT module's new-flow decision under the
 * runtime rt. Returns the session (in direction 0), or NULL with m dropped.
 */
static struct flow_session *
session_create(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *md,
	       const struct dp_runtime *rt, const struct route_iface *in, unsigned out_idx,
	       const struct route_iface *out)
{
	const struct nat_flow f = nat_flow_of(md, in, out_idx, out, w->now);
	struct flow_session *s;
	unsigned why, how;

	why = nat_session_new(&dp->nat_ctx, &rt->nat, &f, w->idx, &s, &how);
	if (why != 0) {
		if (unlikely(rt->log_nat))
			quota_log(dp, w, rt, &f, why);
		dp_drop(&w->st, m, why);
		return NULL;
	}
	session_made(dp, w, rt, s, how);
	return s;
}

/*
 * A packet for a public address that matched no session, when the runtime
 * lets mappings be reached: a session to the inside endpoint of the mapping
 * it names, for a sender the configuration admits - any Untrust host under
 * endpoint-independent filtering (TCP, UDP), an inside host when
 * hairpinning (TCP, UDP, ICMP echo). True when m was taken (forwarded or
 * dropped); false leaves it to the caller, as if there were no mapping.
 */
static bool
session_mapped(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md,
	       const struct dp_runtime *rt)
{
	const struct route_iface *in, *pub_out, *to;
	bool icmp = md->l4_proto == IPPROTO_ICMP, hairpin;
	struct flow_session *s;
	struct nat_target t;
	struct nat_flow f;
	struct route_nh nh, th;
	unsigned why, how;

	if (!(md->flags & PKT_F_L4_VALID) ||
	    !(md->l4_proto == IPPROTO_TCP || md->l4_proto == IPPROTO_UDP ||
	      (icmp && md->icmp_type == RTE_IP_ICMP_ECHO_REQUEST)))
		return false;
	in = route_iface_get(dp->rt, md->in_iface);
	if (in == NULL)
		return false;
	hairpin = !nat_rules_untrust(&rt->nat, in->zone_id);
	/* Filtering: from Untrust only under endpoint-independent filtering. */
	if (hairpin ? !rt->nat.hairpin : (!rt->nat.map_eif || icmp))
		return false;
	if (nat_map_take_pub(dp->nat_ctx.map, md->l4_proto, md->dst, icmp ? md->sport : md->dport,
			     &t.ip, &t.port, &t.policy_id, hairpin) != 0)
		return false;
	if (route_lookup(dp->rt, rte_be_to_cpu_32(t.ip), &th) != 0 ||
	    route_lookup(dp->rt, rte_be_to_cpu_32(md->dst), &nh) != 0 ||
	    (to = route_iface_get(dp->rt, th.iface)) == NULL || !to->up ||
	    (pub_out = route_iface_get(dp->rt, nh.iface)) == NULL) {
		nat_map_put(dp->nat_ctx.map, md->l4_proto, t.ip, t.port);
		dp_drop(&w->st, m, PKT_DROP_NO_ROUTE);
		return true;
	}
	t.iface = th.iface;
	/* out: where the public address is - the hairpin's policy and its own public endpoint. */
	f = nat_flow_of(md, in, nh.iface, pub_out, w->now);
	why = nat_session_mapped(&dp->nat_ctx, &rt->nat, &f, &t, w->idx, &s, &how);
	if (why != 0) {
		dp_drop(&w->st, m, why);
		return true;
	}
	session_made(dp, w, rt, s, how);
	session_hit(dp, w, m, md, s, 0);
	return true;
}

/* True if ip (host order) is the broadcast address of iface's own subnet (prefixes up to /30). */
static inline bool
is_subnet_bcast(const struct route_iface *iface, uint32_t ip)
{
	uint32_t host = iface->plen >= 31 ? 0 : UINT32_MAX >> iface->plen;

	return iface->has_ip && host != 0 && ip == (iface->ip | host);
}

/* No session matched: dpnat's own traffic, intra-zone routing, or a new session. */
static void
session_miss(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md)
{
	const struct route_iface *in, *out;
	struct flow_session *s;
	struct route_nh nh;
	const struct dp_runtime *rt = dp_runtime_get(dp);
	/* PPTP data with the ALG on: what it must translate passes only through its calls' gates. */
	bool alg_gre = md->l4_proto == IPPROTO_GRE && (md->gre & PKT_GRE_V1_KEY) &&
		       (rt->nat.alg_on & (1u << DP_ALG_PPTP));

	/*
	 * For dpnat itself (an interface address or any public address it
	 * translates to, which may be routed to it): never forwarded - that
	 * would send it back where it came from. A ping is answered; the rest,
	 * unsolicited, is dropped here.
	 */
	if (unlikely(dp_addr_is_own(dp, rte_be_to_cpu_32(md->dst)))) {
		/* A live mapping's public endpoint, reachable as configured (off: not even looked up). */
		if ((rt->nat.map_eif | rt->nat.hairpin) && session_mapped(dp, w, m, md, rt))
			return;
		if (alg_gre)
			dp_drop(&w->st, m, PKT_DROP_GRE_NO_GATE);
		else if (md->l4_proto == IPPROTO_ICMP && md->icmp_type == RTE_IP_ICMP_ECHO_REQUEST &&
			 !(md->flags & PKT_F_FRAG))
			punt(dp, w, m);
		else
			dp_drop(&w->st, m, PKT_DROP_TO_ME_UNHANDLED);
		return;
	}
	if (unlikely(route_lookup(dp->rt, rte_be_to_cpu_32(md->dst), &nh) != 0)) {
		dp_drop(&w->st, m, PKT_DROP_NO_ROUTE);
		return;
	}
	in = route_iface_get(dp->rt, md->in_iface);
	out = route_iface_get(dp->rt, nh.iface);
	if (unlikely(out == NULL || !out->up)) {
		dp_drop(&w->st, m, PKT_DROP_IFACE_DOWN);
		return;
	}
	/* A connected subnet's broadcast address is dpnat's too: not forwarded (RFC 2644). */
	if (unlikely(nh.gateway == 0 && is_subnet_bcast(out, rte_be_to_cpu_32(md->dst)))) {
		dp_drop(&w->st, m, PKT_DROP_TO_ME_UNHANDLED);
		return;
	}
	/* Within one zone dpnat routes without state, as ScreenOS does by default. */
	if (in->zone_id == out->zone_id) {
		forward(dp, w, m, md, NULL, 0);
		return;
	}
	/* Other GRE (version 0) takes the policies like any protocol; PPTP data needs a gate. */
	if (alg_gre) {
		dp_drop(&w->st, m, PKT_DROP_GRE_NO_GATE);
		return;
	}
	if (unlikely(dp_frag_is_later(md))) {
		dp_drop(&w->st, m, PKT_DROP_IP_FRAG);
		return;
	}
	if (unlikely(md->flags & PKT_F_ICMP_ERR)) {
		dp_drop(&w->st, m, PKT_DROP_ICMP_ERR_NO_SESSION);
		return;
	}
	s = session_create(dp, w, m, md, rt, in, nh.iface, out);
	if (s != NULL)
		session_hit(dp, w, m, md, s, 0);
}

/* A fragment after the first: its datagram's translation, or a miss. */
static void
frag_later(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md)
{
	int r = dp_frag_later(dp, w, m, md);

	if (r == 0)
		forward_mtu(dp, w, m, md);
	else if (r > 0)
		dp_drop(&w->st, m, (unsigned)r);
	else
		session_miss(dp, w, m, md);
}

/* An ICMP error: find the flow it quotes and translate both layers. */
static void
icmp_error(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md)
{
	struct flow_session *s;
	struct flow_key key;
	uint8_t dir;

	if (nat_icmp_err_key(m, md, &key) != 0 || (s = flow_lookup(dp->flows, &key, &dir)) == NULL) {
		session_miss(dp, w, m, md);
		return;
	}
	nat_icmp_err_rewrite(m, md, s, dir);
	forward_mtu(dp, w, m, md);
}

/*
 * The fast path for a packet pkt_parse_fast took (its protocol and TCP
 * flags given) that matched session s in direction dir: when nothing about
 * it needs a closer look (right interface, session alive and not PPTP
 * control, TCP: an ACK without SYN, FIN or RST, in the windows, no RST
 * before; next hop cached for this generation), translate it, lower the TTL, set both MACs - the IPv4
 * checksum patched for all of it with one fold - and queue it. False, with
 * the packet untouched, sends it the long way.
 */
static __rte_always_inline bool
fast_hit(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf *m,
	 struct flow_session *s, unsigned dir, uint8_t proto, uint8_t tcp_flags, const bool tagged)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)((uint8_t *)(eth + 1) +
							  (tagged ? RTE_VLAN_HLEN : 0));
	uint8_t *l4 = (uint8_t *)(ip + 1);
	const struct flow_rw *rw = &s->rw[dir];
	const struct flow_fwd *f = &s->fwd[dir];

	if (unlikely(s->iface[dir] != iface || (s->flags & (FLOW_F_DEAD | FLOW_F_ALG_CTRL)) ||
		     __atomic_load_n(&s->fwd_gen, __ATOMIC_ACQUIRE) != w->fwd_gen ||
		     !__atomic_load_n(&f->ok, __ATOMIC_ACQUIRE)))
		return false;
	if (proto == IPPROTO_GRE) {
		*(rte_be16_t *)(l4 + 6) = rw->dport;   /* PPTP: the call id, no GRE checksum */
	} else {
		/* SYN, FIN and RST change the session's state, a segment without ACK is
		 * refused: the long way, as is all before the SYN-ACK or after a RST and
		 * whatever lies outside the windows; the rest keeps them current. */
		if (proto == IPPROTO_TCP &&
		    unlikely((tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG |
					   RTE_TCP_ACK_FLAG)) != RTE_TCP_ACK_FLAG ||
			     (s->tcp & (FLOW_TCP_SYN1 | FLOW_TCP_RST)) != FLOW_TCP_SYN1 ||
			     !flow_tcp_fast(s, dir, (const struct rte_tcp_hdr *)l4,
					    rte_be_to_cpu_16(ip->total_length) - (uint32_t)sizeof(*ip))))
			return false;
		nat_rewrite_ports(l4, proto == IPPROTO_UDP, rw);
	}
	flow_touch(s, w->now);
	ip->time_to_live--;
	ip->hdr_checksum = nat_cs_apply(ip->hdr_checksum, (uint32_t)rw->ck_ip + TTL_DEC);
	ip->src_addr = rw->src;
	ip->dst_addr = rw->dst;
	if (tagged) {
		/* The tag stays where it is: the egress subinterface's written over it (PCP 0, as
		 * dp_vlan_push writes it), or, untagged out, the frame starts 4 bytes later
		 * (the MACs are written anew and the IPv4 EtherType is already there). */
		uint16_t otag = dp->vlan_tag[f->iface];

		if (likely(otag != 0)) {
			((struct rte_vlan_hdr *)(eth + 1))->vlan_tci = rte_cpu_to_be_16(otag);
			w->txbuf[f->iface].tagged++;
		} else {
			m->data_off += RTE_VLAN_HLEN;
			m->data_len -= RTE_VLAN_HLEN;
			m->pkt_len -= RTE_VLAN_HLEN;
			eth = (struct rte_ether_hdr *)((uint8_t *)eth + RTE_VLAN_HLEN);
		}
	}
	rte_ether_addr_copy(&f->dmac, &eth->dst_addr);
	rte_ether_addr_copy(&w->if_mac[f->iface], &eth->src_addr);
	w->st.hits_foreign += s->owner != w->idx;
	tx_push(dp, w, f->iface, m);
	return true;
}

static void process_burst(struct dp *dp, struct dp_worker *w, unsigned iface,
			  struct rte_mbuf **pkts, uint16_t n);
static void process_burst_tagged(struct dp *dp, struct dp_worker *w, unsigned iface,
				 struct rte_mbuf **pkts, uint16_t n);

/*
 * Frames of subinterfaces (sub[i] is vl[i]'s), one burst per subinterface,
 * in order: with their tags in the frame (tagged) or already off.
 */
static void
vlan_bursts(struct dp *dp, struct dp_worker *w, struct rte_mbuf **vl, uint8_t *sub, unsigned nv,
	    bool tagged, bool one)
{
	struct rte_mbuf *grp[DP_BURST];
	unsigned i, j, k;

	/* Mostly one subinterface a burst (one: known to be): its frames as they are, no regrouping. */
	for (i = one ? nv : 1; i < nv && sub[i] == sub[0]; i++)
		;
	if (i == nv) {
		(tagged ? process_burst_tagged : process_burst)(dp, w, sub[0], vl, (uint16_t)nv);
		return;
	}
	for (i = 0; i < nv; i++) {
		if (vl[i] == NULL)
			continue;
		for (j = i, k = 0; j < nv; j++)
			if (vl[j] != NULL && sub[j] == sub[i]) {
				grp[k++] = vl[j];
				if (j != i)
					vl[j] = NULL;
			}
		(tagged ? process_burst_tagged : process_burst)(dp, w, sub[i], grp, (uint16_t)k);
	}
}

/* Whether m should go to trunk_burst(): its tag stripped by the device, or in it (with room for it). */
static inline bool
trunk_frame(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) ||
	       (m->data_len >= RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN &&
		eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN));
}

/*
 * A port's burst whose first frame is tagged (a trunk): sorted by tag
 * alone, each subinterface's frames to a burst of its own, the untagged
 * ones to the port's, first - without the port's fast parse failing on
 * every tagged frame. Counted as received on the port like any frame of
 * its burst.
 */
static __rte_noinline void
trunk_burst(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf **pkts, uint16_t n)
{
	const uint8_t *tab = dp->vlan_sub_of[iface];
	struct rte_mbuf *un[DP_BURST], *vl[DP_BURST], *vs[DP_BURST];
	uint8_t vl_sub[DP_BURST], vs_sub[DP_BURST];
	unsigned nu = 0, nv = 0, ns = 0, i, sub, mixed = 0;
	uint64_t bytes = 0;
	int s;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t tt;

		if (!trunk_frame(m)) {
			un[nu++] = m;   /* counted by the port's burst */
			continue;
		}
		bytes += m->pkt_len;
		if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
			if ((s = dp_vlan_rx(dp, w, iface, m)) >= 0) {
				vs_sub[ns] = (uint8_t)s;
				vs[ns++] = m;
			}
			continue;
		}
		memcpy(&tt, rte_pktmbuf_mtod_offset(m, const uint8_t *, 2 * RTE_ETHER_ADDR_LEN), 4);
		sub = tab[rte_be_to_cpu_32(tt) & RTE_ETHER_MAX_VLAN_ID];
		if (unlikely(sub == 0)) {
			dp_drop(&w->st, m, PKT_DROP_VLAN_UNKNOWN);
			continue;
		}
		vl_sub[nv] = (uint8_t)(sub - 1);
		mixed |= vl_sub[nv] ^ vl_sub[0];
		vl[nv++] = m;
	}
	w->st.rx_pkts[iface] += n - nu;
	w->st.rx_bytes[iface] += bytes;
	if (nu != 0)
		process_burst(dp, w, iface, un, (uint16_t)nu);
	if (nv != 0)
		vlan_bursts(dp, w, vl, vl_sub, nv, true, mixed == 0);
	if (ns != 0)
		vlan_bursts(dp, w, vs, vs_sub, ns, false, false);
}

/*
 * Everything that arrives on one interface in one burst: parse all, look up
 * all, then act. tagged (a constant): the frames are a subinterface's with
 * their tags still in them (dp_vlan_sub), which the fast path forwards
 * with the tag rewritten in place; whatever leaves the fast path loses its
 * tag first and goes on as an untagged frame of the subinterface.
 */
static __rte_always_inline void
burst_core(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf **pkts, uint16_t n,
	   const bool tagged)
{
	const uint32_t l2 = RTE_ETHER_HDR_LEN + (tagged ? RTE_VLAN_HLEN : 0);
	const struct route_iface *ifc = route_iface_get(dp->rt, iface);
	const uint64_t mac = pkt_mac64(&ifc->mac);
	const uint32_t fast_len = __atomic_load_n(&dp->mtu_fast_len, __ATOMIC_RELAXED);
	struct flow_key keys[DP_BURST];
	struct rte_mbuf *cand[DP_BURST];
	struct flow_session *sess[DP_BURST];
	uint8_t tcpf[DP_BURST];
	uint8_t dir[DP_BURST];
	uint64_t parsed = 0, bytes = 0;   /* parsed: bit i, cand[i]'s metadata is filled */
	uint64_t later = 0;               /* bit i: cand[i] is a fragment after the first */
	struct rte_mbuf *vl[DP_BURST];    /* tagged frames, for their subinterfaces: the tag in them */
	struct rte_mbuf *vs[DP_BURST];    /* the same, the device took the tag off */
	uint8_t vl_sub[DP_BURST], vs_sub[DP_BURST];
	unsigned nc = 0, i, fast = 0, nv = 0, ns = 0;

	/* The standby of an HA pair forwards nothing and answers no ARP: one test per burst. */
	if (!tagged && unlikely(__atomic_load_n(&dp->ha_standby, __ATOMIC_RELAXED))) {
		w->st.rx_pkts[iface] += n;
		for (i = 0; i < n; i++)
			dp_drop(&w->st, pkts[i], PKT_DROP_HA_STANDBY);
		return;
	}
	/* A trunk's burst (its first frame tells): sorted by tag first (untagged frames come back here). */
	if (!tagged && unlikely(n != 0 && trunk_frame(pkts[0]))) {
		trunk_burst(dp, w, iface, pkts, n);
		return;
	}
	for (i = 0; i < RTE_MIN((unsigned)n, (unsigned)DP_PREFETCH); i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *md = pkt_md(m);
		struct rte_ether_hdr *eth;
		struct rte_ipv4_hdr *ip;
		struct pkt_tuple t;
		enum pkt_class cls;

		if (i + DP_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DP_PREFETCH], void *));
		bytes += m->pkt_len - (l2 - RTE_ETHER_HDR_LEN);
		/* Longer than the smallest MTU (checked below) or tag stripped by the device: the long way. */
		if (likely(m->pkt_len <= fast_len + (l2 - RTE_ETHER_HDR_LEN) &&
			   !(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) &&
			   pkt_parse_fast_l2(m, mac, &t, l2))) {
			/*
			 * The metadata is left unwritten: only packets that leave the fast
			 * path need it. The tuple stays in registers (a key read back from
			 * the fields just stored would wait for the stores to retire).
			 */
			flow_key_set(&keys[nc], t.src, t.dst, t.sport, t.dport, t.proto);
			tcpf[nc] = t.tcp_flags;
			cand[nc++] = m;
			continue;
		}
		if (tagged)
			dp_vlan_pop(m);
		if (unlikely(dp_vlan_tagged(m))) {
			int sub;

			if (tagged) {   /* a second tag: a subinterface has no subinterfaces */
				dp_drop(&w->st, m, PKT_DROP_VLAN_UNKNOWN);
				continue;
			}

			if (!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
				if ((sub = dp_vlan_sub(dp, w, iface, m)) >= 0) {
					vl_sub[nv] = (uint8_t)sub;
					vl[nv++] = m;
				}
			} else if ((sub = dp_vlan_rx(dp, w, iface, m)) >= 0) {
				vs_sub[ns] = (uint8_t)sub;
				vs[ns++] = m;
			}
			continue;
		}
		cls = pkt_parse(m, md);
		md->in_iface = (uint8_t)iface;
		if (unlikely(cls == PKT_CLASS_DROP)) {
			dp_drop(&w->st, m, md->drop);
			continue;
		}
		if (unlikely(cls == PKT_CLASS_ARP)) {
			punt(dp, w, m);
			continue;
		}
		eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &ifc->mac))) {
			/* Broadcast IPv4 can only be for us; anything else was for another host. */
			if (md->flags & PKT_F_BCAST)
				punt(dp, w, m);
			else
				dp_drop(&w->st, m, PKT_DROP_L2_NOT_FOR_US);
			continue;
		}
		ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3_off);
		if (unlikely(ip->time_to_live <= 1 || md->dst == RTE_BE32(0xffffffff))) {
			/* Before any rewrite, so the ICMP error quotes what the sender sent. */
			punt(dp, w, m);
			continue;
		}
		if (unlikely(md->flags & PKT_F_ICMP_ERR)) {
			icmp_error(dp, w, m, md);
			continue;
		}
		flow_key_set(&keys[nc], md->src, md->dst, md->sport, md->dport, md->l4_proto);
		/* In burst order with the rest: its first fragment may be ahead of it here. */
		later |= (uint64_t)dp_frag_is_later(md) << nc;
		parsed |= 1ull << nc;
		cand[nc++] = m;
	}
	w->st.rx_pkts[iface] += n;
	w->st.rx_bytes[iface] += bytes;
	flow_lookup_bulk(dp->flows, keys, nc, sess, dir);
	if (unlikely(w->made != 0)) {
		w->made = 0;
		w->made_keys[0] = w->made_keys[1] = w->made_keys[2] = w->made_keys[3] = 0;
	}
	for (i = 0; i < nc; i++) {
		struct pkt_meta *md = pkt_md(cand[i]);

		/*
		 * Each packet sees what the packets before it made (a session, a
		 * PPTP call's gates): a miss that may match such a change is looked up again.
		 */
		if (sess[i] == NULL && unlikely(made_may_match(w, &keys[i])))
			sess[i] = flow_lookup(dp->flows, &keys[i], &dir[i]);

		if (likely(sess[i] != NULL && !((parsed >> i) & 1) &&
			   fast_hit(dp, w, iface, cand[i], sess[i], dir[i], keys[i].proto, tcpf[i],
				    tagged))) {
			fast++;
			continue;
		}
		if (tagged && !((parsed >> i) & 1))
			dp_vlan_pop(cand[i]);   /* the long way wants it untagged (parsed ones are) */
		/* Only parsed packets are this long; checked before any rewrite (mtu.c). */
		if (unlikely(cand[i]->pkt_len > fast_len) &&
		    dp_mtu_over(dp, w, cand[i], md, sess[i], dir[i]))
			continue;
		if (!((parsed >> i) & 1)) {
			/* The fast parse took it, so the full one agrees (and finds nothing to drop). */
			pkt_parse(cand[i], md);
			md->in_iface = (uint8_t)iface;
		} else if (unlikely((later >> i) & 1)) {
			frag_later(dp, w, cand[i], md);
			continue;
		}
		if (sess[i] != NULL)
			session_hit(dp, w, cand[i], md, sess[i], dir[i]);
		else
			session_miss(dp, w, cand[i], md);
	}
	w->st.hits += fast;
	w->st.forwarded += fast;
	if (tagged)
		return;   /* a subinterface has no subinterfaces: its frames were all popped above */
	if (unlikely(nv != 0))
		vlan_bursts(dp, w, vl, vl_sub, nv, true, false);
	if (unlikely(ns != 0))
		vlan_bursts(dp, w, vs, vs_sub, ns, false, false);
}

/* burst_core() for a port's or a subinterface's untagged frames. */
static void
process_burst(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf **pkts, uint16_t n)
{
	burst_core(dp, w, iface, pkts, n, false);
}

/* burst_core() for a subinterface's frames with their tags in them. */
static void
process_burst_tagged(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf **pkts,
		     uint16_t n)
{
	burst_core(dp, w, iface, pkts, n, true);
}

/*
 * What a worker reads once per loop, not per packet: the flow clock, the
 * neighbour generation and that of routes and neighbours together (with the
 * interfaces' MACs again when it changed).
 */
static inline void
loop_start(struct dp *dp, struct dp_worker *w)
{
	uint32_t gen;
	unsigned i;

	w->now = flow_clock(dp->flows);
	w->nh_gen = neigh_generation(dp->neigh);
	gen = w->nh_gen + route_generation(dp->rt);   /* both only grow: any change changes it */
	if (unlikely(gen != w->fwd_gen)) {
		for (i = 0; i < ROUTE_MAX_IFACES; i++) {
			const struct route_iface *ifc = route_iface_get(dp->rt, i);

			if (ifc != NULL)
				w->if_mac[i] = ifc->mac;
		}
		w->fwd_gen = gen;
	}
}

void
dp_worker_burst(struct dp *dp, struct dp_worker *w, unsigned iface, struct rte_mbuf **pkts,
		uint16_t n)
{
	loop_start(dp, w);
	process_burst(dp, w, iface, pkts, n);
	tx_flush_all(dp, w);
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	struct rte_mbuf *pkts[DP_BURST];
	unsigned iface, idle = 0;
	uint16_t n, i;

	rte_rcu_qsbr_thread_register(dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp->qsbr, w->idx);
	while (!dp->quit) {
		unsigned got = 0;
		uint32_t idle_us;

		loop_start(dp, w);
		for (iface = 0; iface < ROUTE_MAX_IFACES; iface++) {
			struct dp_port *p = &dp->ports[iface];

			if (!p->used || w->idx >= p->pi.nb_rxq)
				continue;
			n = rte_eth_rx_burst(p->pi.port_id, (uint16_t)w->idx, pkts, DP_BURST);
			if (n == 0)
				continue;
			got += n;
			process_burst(dp, w, iface, pkts, n);
		}
		/* Packets the control lcore built or released (ARP, ICMP, resolved next hops). */
		n = (uint16_t)rte_ring_sc_dequeue_burst(w->inject, (void **)pkts, DP_BURST, NULL);
		for (i = 0; i < n; i++) {
			iface = pkts[i]->port;
			if (unlikely(iface >= ROUTE_MAX_IFACES))
				dp_drop(&w->st, pkts[i], PKT_DROP_IFACE_DOWN);
			else
				tx_enqueue(dp, w, iface, pkts[i]);
		}
		got += n;
		tx_flush_all(dp, w);
		rte_rcu_qsbr_quiescent(dp->qsbr, w->idx);
		w->st.polls++;
		if (got) {
			w->st.busy_polls++;
			idle = 0;
		} else if ((idle_us = dp_runtime_get(dp)->worker_idle_us) != 0 && ++idle > 64) {
			/* Optional: yield the core when idle (tests on small machines). */
			rte_rcu_qsbr_thread_offline(dp->qsbr, w->idx);
			usleep(idle_us);
			rte_rcu_qsbr_thread_online(dp->qsbr, w->idx);
		}
	}
	tx_flush_all(dp, w);
	rte_rcu_qsbr_thread_offline(dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->qsbr, w->idx);
	return 0;
}
