/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The new-flow decision and the session constructor (nat_session.h).
 * Workers, concurrently: what they share is taken through the tables' own
 * synchronisation (port slices per worker, per-source buckets locked, the
 * session index's insert lock); the rules are read-only.
 */
#include <errno.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "nat_session.h"
#include "pkt_drop.h"

/*
 * The public address (nat_table index) of attempt number attempt: a DIP
 * pool's, sticky per inside host and then its neighbours in the pool (each
 * address of a small pool once), or the egress interface's, once. -1 when
 * there is none left to try.
 */
static int
pick_addr(const struct nat_ctx *ctx, const struct nat_rules *r, const struct nat_policy *p,
	  const struct nat_flow *f, unsigned attempt, unsigned shift)
{
	if (p->nat_src && p->dip_count != 0) {
		uint32_t h = rte_be_to_cpu_32(f->src) * 2654435761u + shift;

		if (attempt >= p->dip_count)
			return -1;
		return nat_addr_find(ctx->nat, p->dip_first + (h + attempt) % p->dip_count);
	}
	return attempt == 0 && f->out_iface < NAT_MAX_IFACES ? r->iface_nat_idx[f->out_iface] : -1;
}

/* Pool addresses looked at for one whose address-hashed replies reach the worker. */
#define NAT_ADDR_RSS_LOOK 64

/*
 * For a flow whose ALG's data packets hash by addresses alone (PPTP GRE):
 * how far past the inside host's own address of the DIP pool the first
 * address lies whose packets from the server reach worker w's queue; 0 if
 * none of the first NAT_ADDR_RSS_LOOK does, or without a pool.
 */
static unsigned
addr_shift_for_worker(const struct nat_ctx *ctx, const struct nat_policy *p,
		      const struct nat_flow *f, unsigned w)
{
	unsigned k;

	if (!p->nat_src || p->dip_count < 2)
		return 0;
	for (k = 0; k < RTE_MIN(p->dip_count, (uint32_t)NAT_ADDR_RSS_LOOK); k++) {
		int a = pick_addr(ctx, NULL, p, f, 0, k);

		if (a >= 0 && nat_addr_on_worker(ctx->nat, w, f->dst,
						 rte_cpu_to_be_32(nat_addr_ip(ctx->nat, (unsigned)a))))
			return k;
	}
	return 0;
}

/*
 * Deterministic pool (RFC 7422): the subscriber's computed address and a
 * port of its computed range, looked for from a point the flow picks. 0, or
 * the drop reason.
 */
static unsigned
det_port(const struct nat_ctx *ctx, const struct nat_policy *p, const struct nat_flow *f,
	 bool ports, uint32_t *nat_ip, int *port)
{
	uint32_t cursor;
	uint16_t first;
	int a;

	if (nat_det_forward(&p->det, rte_be_to_cpu_32(f->src), nat_ip, &first) != 0)
		return PKT_DROP_NAT_DET_OUTSIDE;
	a = nat_addr_find(ctx->nat, *nat_ip);
	if (a < 0)
		return PKT_DROP_NAT_NO_ADDR;
	if (!ports) {
		*port = 0;
		return 0;
	}
	cursor = ((uint32_t)f->sport * 2654435761u ^ f->dst) % p->det.ports;
	*port = nat_port_alloc_range(ctx->nat, (unsigned)a, first, p->det.ports, &cursor);
	return *port < 0 ? PKT_DROP_NAT_DET_FULL : 0;
}

/*
 * Port blocks: a port of the subscriber's block on the pool's (or egress
 * interface's) address, the next address of the pool only when one has no
 * free block. 0, or the drop reason; *tried counts the addresses asked.
 */
static unsigned
pba_port(const struct nat_ctx *ctx, const struct nat_rules *r, const struct nat_policy *p,
	 const struct nat_flow *f, uint32_t *nat_ip, int *port, unsigned *tried)
{
	unsigned attempt;

	for (attempt = 0; attempt < NAT_ADDR_TRIES; attempt++) {
		int a = pick_addr(ctx, r, p, f, attempt, 0);

		if (a < 0)
			break;
		(*tried)++;
		*port = nat_pba_take(ctx->pba, f->src, (unsigned)a, f->now);
		if (*port >= 0) {
			*nat_ip = nat_addr_ip(ctx->nat, (unsigned)a);
			return 0;
		}
		if (*port == -EDQUOT)
			return PKT_DROP_NAT_PBA_MAX;
		if (*port != -EADDRNOTAVAIL)
			break;
	}
	return *tried == 0 ? PKT_DROP_NAT_NO_ADDR : PKT_DROP_NAT_PBA_NO_BLOCK;
}

/* Timeout class of a new session of protocol proto. */
static uint8_t
tmo_class(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:  return FLOW_TMO_TCP;
	case IPPROTO_UDP:  return FLOW_TMO_UDP;
	case IPPROTO_ICMP: return FLOW_TMO_ICMP;
	case IPPROTO_GRE:  return FLOW_TMO_GRE;
	default:           return FLOW_TMO_OTHER;
	}
}

/* The policy's answer for f, before anything is taken: the policy, or NULL with *why set. */
static const struct nat_policy *
decide(const struct nat_rules *r, const struct nat_flow *f, unsigned *why)
{
	const struct nat_policy *p;

	p = nat_policy_match(&r->policies, f->in_zone, f->out_zone, f->proto, f->dport);
	if (p == NULL) {
		/* From Untrust nothing is initiated without a policy: it is a reply with no session. */
		*why = nat_rules_untrust(r, f->in_zone) ? PKT_DROP_NO_SESSION : PKT_DROP_NO_POLICY;
		return NULL;
	}
	if (!p->permit)
		*why = PKT_DROP_POLICY_DENY;
	else if (f->proto == IPPROTO_TCP &&
		 (f->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
			 RTE_TCP_SYN_FLAG)
		*why = PKT_DROP_TCP_NOT_SYN;
	else if (f->proto == IPPROTO_ICMP && f->icmp_type != RTE_IP_ICMP_ECHO_REQUEST)
		*why = PKT_DROP_NO_SESSION;
	else
		return p;
	return NULL;
}

unsigned
nat_session_new(const struct nat_ctx *ctx, const struct nat_rules *r, const struct nat_flow *f,
		unsigned w, struct flow_session **sp, unsigned *how)
{
	const struct nat_alg_hook *alg = NULL;
	const struct nat_policy *p;
	struct nat_sess_spec spec;
	struct flow_session *s;
	struct flow_key key;
	bool icmp = f->proto == IPPROTO_ICMP;
	bool ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP || icmp;
	bool nat;
	rte_be16_t pp = f->sport;   /* the public port (ICMP: identifier) */
	rte_be32_t pub = f->src;    /* the public address */
	uint32_t nat_ip = 0;
	unsigned why, i, flags = 0;
	int port = 0, ins = 0, rc;

	*how = 0;
	p = decide(r, f, &why);
	if (p == NULL)
		return why;
	/*
	 * The public address and port first: a refusal for want of one is
	 * known in O(1) from the slice's free count and has taken nothing.
	 */
	nat = p->nat_src || (f->in_nat && nat_rules_untrust(r, f->out_zone));
	/* An ALG rides on the session when switched on (e.g. PPTP on TCP/1723). */
	for (i = 0; i < ctx->n_algs; i++)
		if (((r->alg_on >> i) & 1) && ctx->alg[i].proto == f->proto &&
		    ctx->alg[i].dport == f->dport) {
			alg = &ctx->alg[i];
			break;
		}
	if (nat) {
		unsigned attempt, tried = 0;
		unsigned shift = alg != NULL && alg->data_by_addr ?
				 addr_shift_for_worker(ctx, p, f, w) : 0;

		port = -1;
		if (p->nat_src && p->det.ports != 0) {
			why = det_port(ctx, p, f, ports, &nat_ip, &port);
			if (why != 0)
				return why;
			tried = 1;
		} else if (ctx->pba != NULL && ports) {
			why = pba_port(ctx, r, p, f, &nat_ip, &port, &tried);
			if (why != 0)
				return why;
			flags |= FLOW_F_PBA;
		}
		for (attempt = 0; attempt < NAT_ADDR_TRIES && port < 0; attempt++) {
			int a = pick_addr(ctx, r, p, f, attempt, shift);

			if (a < 0)
				break;
			tried++;
			nat_ip = nat_addr_ip(ctx->nat, (unsigned)a);
			/*
			 * TCP/UDP: a port whose reply (server to public address
			 * and port) the NIC's Toeplitz hash puts on this worker's
			 * queue. ICMP replies hash by addresses alone: any port.
			 */
			if (ports && !icmp)
				port = nat_port_alloc_cls(ctx->nat, (unsigned)a, w,
							  nat_port_class(ctx->nat, w, f->dst,
									 rte_cpu_to_be_32(nat_ip),
									 f->dport));
			else
				port = ports ? nat_port_alloc(ctx->nat, (unsigned)a, w) : 0;
		}
		if (tried == 0)
			return PKT_DROP_NAT_NO_ADDR;
		if (port < 0)
			return PKT_DROP_NAT_NO_PORT;
		pub = rte_cpu_to_be_32(nat_ip);
		if (ports)
			pp = rte_cpu_to_be_16((uint16_t)port);
		/* A subscriber's public ports, counted where a limit is set (RFC 6888 REQ-4). */
		if (ports && ctx->src_ports != NULL && r->port_limit != UINT32_MAX) {
			rc = nat_src_take(ctx->src_ports, f->src, r->port_limit);
			if (rc != 0) {
				why = rc == -EDQUOT ? PKT_DROP_SRC_PORT_LIMIT : PKT_DROP_SRC_TABLE_FULL;
				goto undo_port;
			}
			flags |= FLOW_F_PORT_COUNTED;
		}
	}
	/* Counted for its source host from here on. */
	rc = nat_src_take(ctx->src, f->src, nat_rules_src_limit(r, f->in_zone));
	if (rc != 0) {
		why = rc == -EDQUOT ? PKT_DROP_SRC_SESSION_LIMIT : PKT_DROP_SRC_TABLE_FULL;
		goto undo_ports;
	}
	/* Every field of spec is set (no memset): ICMP echo: the identifier stands in both port slots. */
	flow_key_set(&spec.key[0], f->src, f->dst, f->sport, icmp ? f->sport : f->dport, f->proto);
	flow_key_set(&spec.key[1], f->dst, pub, icmp ? pp : f->dport, pp, f->proto);
	flow_rw_set(&spec.rw[0], pub, f->dst, pp, icmp ? pp : f->dport);
	flow_rw_set(&spec.rw[1], f->dst, f->src, icmp ? f->sport : f->dport, f->sport);
	spec.iface[0] = f->in_iface;
	spec.iface[1] = f->out_iface;
	spec.out_iface[0] = f->out_iface;
	spec.out_iface[1] = f->in_iface;
	spec.proto = f->proto;
	spec.tmo = tmo_class(f->proto);
	spec.flags = (uint8_t)(flags | (nat ? FLOW_F_NAT : 0));
	spec.tcp = f->proto == IPPROTO_TCP ? FLOW_TCP_SYN0 : 0;
	spec.policy_id = (uint16_t)p->id;
	spec.dip_id = (uint16_t)(nat && p->nat_src ? p->dip_id : 0);
	spec.nat_port = (uint16_t)port;
	spec.alg = FLOW_INVALID;
	spec.alg_id = FLOW_ALG_NONE;
	spec.oneway = 0;
	s = nat_session_build(ctx->flows, &spec, w);
	if (s == NULL) {
		why = PKT_DROP_SESSION_FULL;
		goto undo_src;
	}
	if (alg != NULL && alg->attach(alg->arg, s, w) != 0) {
		/* Without its ALG's state the flow would pass untranslated where the ALG must act. */
		why = alg->fail_reason;
		goto undo_session;
	}
	ins = flow_insert(ctx->flows, s, w);
	if (ins == 0) {
		*sp = s;
		return 0;
	}
	why = PKT_DROP_SESSION_FULL;
	key = s->key[0];   /* s is read no more once released */
	if (alg != NULL)
		alg->detach(alg->arg, s);
undo_session:
	flow_release(ctx->flows, s, w);
undo_src:
	nat_src_put(ctx->src, f->src);
undo_ports:
	if (flags & FLOW_F_PORT_COUNTED)
		nat_src_put(ctx->src_ports, f->src);
undo_port:
	if (port > 0)
		nat_port_free(ctx->nat, nat_ip, (uint16_t)port);
	if (port > 0 && (flags & FLOW_F_PBA))
		nat_pba_put(ctx->pba, f->src, nat_ip, (uint16_t)port);
	/* Another worker made the same flow a moment ago: use its session. */
	if (ins == -EEXIST) {
		uint8_t dir;

		s = flow_lookup(ctx->flows, &key, &dir);
		if (s != NULL && dir == 0) {
			*sp = s;
			*how = NAT_NEW_RACE;
			return 0;
		}
	}
	return why;
}
