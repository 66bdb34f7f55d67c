/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-source limits and fragments of translated flows.
 *
 * Per-source: every session a packet makes (not the GRE gates the PPTP ALG
 * opens: those are bounded by the calls) counts against its initiator's
 * source address, up to the limit of the zone it entered from (`set zone Z
 * screen limit-session source-ip-based N`); every PPTP call counts against
 * its inside host, up to `set alg pptp xlate per-client N`. Counted when a
 * session or call is made and freed, never per established packet.
 *
 * Fragments: the first fragment of a datagram matches its session by its
 * transport header and is translated like any packet; the translation of its
 * addresses is kept under the datagram's identity (source, destination,
 * protocol, IP ID as it arrived), where the later fragments find it. A later
 * fragment that arrives before its first, or whose first was refused, is
 * dropped and counted: holding it would cost mbufs that an off-path sender
 * could pin, and the sender's IP retransmits the whole datagram anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ip.h>

#include "dp.h"
#include "dp_session.h"

int
dp_limits_init(struct dp *dp, char *err, size_t errlen)
{
	const struct conf *c = &dp->conf;

	/* A source holds a session at least: as many sources as sessions, the table is never full. */
	dp->src_sessions = nat_src_create("dpnat_src_sess", c->limits.sessions, rte_socket_id());
	dp->src_calls = nat_src_create("dpnat_src_calls", c->limits.pptp_xlate, rte_socket_id());
	dp->src_ports = nat_src_create("dpnat_src_ports", c->limits.sessions, rte_socket_id());
	dp->frags = nat_frag_create("dpnat_frags", c->limits.frags, rte_socket_id());
	if (dp->src_sessions == NULL || dp->src_calls == NULL || dp->src_ports == NULL ||
	    dp->frags == NULL) {
		snprintf(err, errlen, "cannot create the per-source or fragment tables: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	if (c->pba_size != 0) {
		dp->pba = nat_pba_create("dpnat_pba", dp->nat,
					 nat_addr_count(dp->nat) + nat_addr_room(dp->nat),
					 c->pba_subscribers, c->pba_size, c->pba_max_blocks,
					 rte_socket_id());
		if (dp->pba == NULL) {
			snprintf(err, errlen, "cannot create the port block table of %u subscribers: %s",
				 c->pba_subscribers, rte_strerror(rte_errno));
			return -1;
		}
		nat_pba_set_log(dp->pba, dp_natlog_pba, dp);
	}
	dp_limits_apply(dp);
	return 0;
}

void
dp_limits_apply(struct dp *dp)
{
	/* The per-source session limits are the workers' runtime's (dp_runtime_build). */
	pptp_set_client_limit(dp->pptp, dp->src_calls, dp->conf.limits.pptp_per_client);
	nat_frag_set_timeout(dp->frags, dp->conf.timeouts.frag);
	if (dp->pba != NULL)
		nat_pba_set_max_blocks(dp->pba, dp->conf.pba_max_blocks);
}

uint32_t
dp_cgn_stats(const struct dp *dp, struct nat_pba_stats *st, struct nat_src_stats *ps)
{
	memset(st, 0, sizeof(*st));
	if (dp->pba != NULL)
		nat_pba_stats_get(dp->pba, st);
	nat_src_stats_get(dp->src_ports, ps);
	return dp->pba != NULL ? nat_pba_block_size(dp->pba) : 0;
}

/* ---- fragments ---- */

/* The identity of the datagram m (parsed) belongs to, as it arrived. */
static inline void
frag_key(const struct rte_ipv4_hdr *ip, struct nat_frag_key *k)
{
	k->src = ip->src_addr;
	k->dst = ip->dst_addr;
	k->id = ip->packet_id;
	k->proto = ip->next_proto_id;
	k->pad = 0;
}

unsigned
dp_frag_first(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *md,
	      const struct flow_session *s, unsigned dir)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 md->l3_off);
	struct nat_frag_xlate x = { s->rw[dir].src, s->rw[dir].dst, s->iface[dir] };
	struct nat_frag_key k;

	/* The ALG must see whole control messages: a fragmented segment is not parsed. */
	if (s->flags & FLOW_F_ALG_CTRL)
		return PKT_DROP_PPTP_FRAG;
	frag_key(ip, &k);
	if (nat_frag_learn(dp->frags, &k, &x, md->l4_len, w->now) != 0)
		return PKT_DROP_FRAG_TABLE_FULL;
	return 0;
}

int
dp_frag_later(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 md->l3_off);
	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
	struct nat_frag_xlate x;
	struct nat_frag_key k;
	struct flow_rw rw;
	int rc;

	frag_key(ip, &k);
	rc = nat_frag_follow(dp->frags, &k, md->in_iface,
			     (uint32_t)(frag & RTE_IPV4_HDR_OFFSET_MASK) * 8, md->l4_len,
			     (frag & RTE_IPV4_HDR_MF_FLAG) != 0, w->now, &x);
	/* As for its session: only from the interface its first fragment came in by. */
	if (rc == -EXDEV)
		return PKT_DROP_WRONG_IFACE;
	if (rc != 0)
		return -1;
	/* No transport header here: the addresses and the IPv4 checksum only. */
	rw = (struct flow_rw){ .src = x.src, .dst = x.dst };
	nat_rewrite_slow(m, md, &rw);
	return 0;
}
