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

/* Whether address index a is one pick_addr would try for f under p. */
static bool
addr_pickable(const struct nat_ctx *ctx, const struct nat_rules *r, const struct nat_policy *p,
	      const struct nat_flow *f, int a)
{
	unsigned k;
	int c;

	for (k = 0; k < NAT_ADDR_TRIES && (c = pick_addr(ctx, r, p, f, k, 0)) >= 0; k++)
		if (c == a)
			return true;
	return false;
}

/*
 * The worker's next port on address a for f: for TCP and UDP one whose
 * reply (server to public address and port) the NIC's Toeplitz hash puts
 * on this worker's queue (the port's RSS class); ICMP replies hash by
 * addresses alone: any port.
 */
static __rte_always_inline int
port_next(const struct nat_ctx *ctx, unsigned a, const struct nat_flow *f, unsigned w)
{
	if (f->proto == IPPROTO_ICMP)
		return nat_port_alloc(ctx->nat, a, w);
	return nat_port_alloc_cls(ctx->nat, a, w,
				  nat_port_class(ctx->nat, w, f->dst,
						 rte_cpu_to_be_32(nat_addr_ip(ctx->nat, a)), f->dport));
}

/*
 * A port on address a for f: its own source port when r preserves ports
 * and it is free (from whatever slice, whatever its RSS class), else the
 * worker's next - with parity, the next one of it too, keeping the one of
 * f's parity.
 */
static __rte_always_inline int
port_pick(const struct nat_ctx *ctx, const struct nat_rules *r, unsigned a,
	  const struct nat_flow *f, unsigned w)
{
	uint16_t want = rte_be_to_cpu_16(f->sport);
	uint32_t ip;
	int port, other;

	if (r->port_keep != NAT_PORT_ANY && nat_port_take(ctx->nat, a, want) == 0)
		return want;
	port = port_next(ctx, a, f, w);
	if (port < 0 || r->port_keep != NAT_PORT_PARITY || ((port ^ want) & 1) == 0)
		return port;
	/* Round robin hands out neighbours: the next one has the other parity, mostly. */
	other = port_next(ctx, a, f, w);
	if (other < 0)
		return port;
	ip = nat_addr_ip(ctx->nat, a);
	if (((other ^ want) & 1) == 0) {
		nat_port_free(ctx->nat, ip, (uint16_t)port);
		return other;
	}
	nat_port_free(ctx->nat, ip, (uint16_t)other);
	return port;
}

/* What pub_take took for a session's source. */
struct nat_pub {
	rte_be32_t ip;          /* public address */
	rte_be16_t port;        /* public port (ICMP: identifier); the source's own when not translated */
	int owned;              /* a port the session owns and frees (host order), 0 if none */
	bool mapped;            /* a reference on the source's mapping is held */
	bool pba;               /* owned is of the source's port block */
	bool counted;           /* owned is counted for the source (nat subscriber-limit ports) */
};

/* Give back port (host order) of address ip (host order) taken for f, from its block if pba. */
static void
port_give(const struct nat_ctx *ctx, const struct nat_flow *f, uint32_t ip, int port, bool pba)
{
	nat_port_free(ctx->nat, ip, (uint16_t)port);
	if (pba)
		nat_pba_put(ctx->pba, f->src, ip, (uint16_t)port);
}

/*
 * The public endpoint of f's source under policy p (created by worker w,
 * shift: see addr_shift_for_worker): with endpoint-independent mappings
 * (ports: TCP, UDP, ICMP echo), its mapping's, taken or made; else a port
 * of the session's own: from a deterministic pool's range, the source's
 * port block, or the worker's slice by RSS class. Port blocks and
 * deterministic ranges make no endpoint-independent mapping (their ports
 * go back through their own tables). 0, or a drop reason with nothing taken.
 */
static __rte_always_inline unsigned
pub_take(const struct nat_ctx *ctx, const struct nat_rules *r, const struct nat_policy *p,
	 const struct nat_flow *f, unsigned w, unsigned shift, bool ports, struct nat_pub *pb)
{
	bool det = p->nat_src && p->det.ports != 0, pba = !det && ctx->pba != NULL && ports;
	bool eim = r->map_eim && ports && ctx->map != NULL && !det && !pba;
	unsigned attempt, tried = 0;
	uint32_t nat_ip = 0;
	int port = -1, rc;

	pb->owned = 0;
	pb->mapped = false;
	pb->pba = false;
	pb->counted = false;
	pb->port = f->sport;
	if (eim && nat_map_take_in(ctx->map, f->proto, f->src, f->sport, &pb->ip, &pb->port) == 0) {
		/* Its mapping, if its address is one this policy and egress give. */
		if (addr_pickable(ctx, r, p, f, nat_addr_find(ctx->nat, rte_be_to_cpu_32(pb->ip)))) {
			pb->mapped = true;
			return 0;
		}
		nat_map_put(ctx->map, f->proto, f->src, f->sport);
		pb->port = f->sport;
		eim = false;   /* mapped elsewhere (another egress): a port of its own */
	}
	if (det) {
		unsigned why = det_port(ctx, p, f, ports, &nat_ip, &port);

		if (why != 0)
			return why;
	} else if (pba) {
		unsigned why = pba_port(ctx, r, p, f, &nat_ip, &port, &tried);

		if (why != 0)
			return why;
		pb->pba = true;
	} else {
		/* A refusal for want of a port is known in O(1) from the slice's free count. */
		for (attempt = 0; attempt < NAT_ADDR_TRIES && port < 0; attempt++) {
			int a = pick_addr(ctx, r, p, f, attempt, shift);

			if (a < 0)
				break;
			tried++;
			nat_ip = nat_addr_ip(ctx->nat, (unsigned)a);
			port = ports ? port_pick(ctx, r, (unsigned)a, f, w) : 0;
		}
		if (tried == 0)
			return PKT_DROP_NAT_NO_ADDR;
		if (port < 0)
			return PKT_DROP_NAT_NO_PORT;
	}
	pb->ip = rte_cpu_to_be_32(nat_ip);
	if (!ports)
		return 0;
	pb->port = rte_cpu_to_be_16((uint16_t)port);
	if (!eim) {
		/* A subscriber's public ports, counted where a limit is set (RFC 6888 REQ-4). */
		if (ctx->src_ports != NULL && r->port_limit != UINT32_MAX) {
			rc = nat_src_take(ctx->src_ports, f->src, r->port_limit);
			if (rc != 0) {
				port_give(ctx, f, nat_ip, port, pb->pba);
				return rc == -EDQUOT ? PKT_DROP_SRC_PORT_LIMIT : PKT_DROP_SRC_TABLE_FULL;
			}
			pb->counted = true;
		}
		pb->owned = port;
		return 0;
	}
	rc = nat_map_add(ctx->map, f->proto, f->src, f->sport, &pb->ip, &pb->port,
			 (uint16_t)p->id, flow_clock(ctx->flows));
	if (rc != 0)   /* full, or another worker's mapping of the same endpoint: not this port */
		nat_port_free(ctx->nat, nat_ip, (uint16_t)port);
	if (rc < 0)
		return PKT_DROP_NAT_MAP_FULL;
	pb->mapped = true;
	return 0;
}

/* Give back what pub_take took for f. */
static void
pub_put(const struct nat_ctx *ctx, const struct nat_flow *f, const struct nat_pub *pb)
{
	if (pb->mapped)
		nat_map_put(ctx->map, f->proto, f->src, f->sport);
	if (pb->owned > 0)
		port_give(ctx, f, rte_be_to_cpu_32(pb->ip), pb->owned, pb->pba);
	if (pb->counted)
		nat_src_put(ctx->src_ports, f->src);
}

/*
 * Insert s (built by worker w, alg attached or NULL): 0 with *sp = s; else
 * the ALG's state and s are given back (what was taken before them is the
 * caller's to give back), *ins says why (-EEXIST: another worker inserted
 * the same flow first, see session_race) and PKT_DROP_SESSION_FULL is returned.
 */
static unsigned
session_insert(const struct nat_ctx *ctx, struct flow_session *s,
	       const struct nat_alg_hook *alg, unsigned w, struct flow_session **sp, int *ins)
{
	*ins = flow_insert(ctx->flows, s, w);
	if (*ins == 0) {
		*sp = s;
		return 0;
	}
	if (alg != NULL)
		alg->detach(alg->arg, s);
	flow_release(ctx->flows, s, w);
	return PKT_DROP_SESSION_FULL;
}

/* After an insert refused as -EEXIST and all given back: the other worker's session of key. */
static unsigned
session_race(const struct nat_ctx *ctx, const struct flow_key *key, unsigned why,
	     struct flow_session **sp, unsigned *how)
{
	struct flow_session *s;
	uint8_t dir;

	s = flow_lookup(ctx->flows, key, &dir);
	if (s != NULL && dir == 0) {
		*sp = s;
		*how = NAT_NEW_RACE;
		return 0;
	}
	return why;
}

/*
 * The rest of a policy's session spec for f, its keys and rewrites set:
 * direction 0 arrives on f's ingress and leaves by to_iface, direction 1
 * the other way; no ALG.
 */
static __rte_always_inline void
spec_fill(struct nat_sess_spec *sp, const struct nat_flow *f, uint8_t to_iface, uint8_t flags,
	  uint32_t policy_id, uint32_t dip_id, int nat_port)
{
	sp->iface[0] = f->in_iface;
	sp->iface[1] = to_iface;
	sp->out_iface[0] = to_iface;
	sp->out_iface[1] = f->in_iface;
	sp->proto = f->proto;
	sp->tmo = tmo_class(f->proto);
	sp->flags = flags;
	sp->tcp = f->proto == IPPROTO_TCP ? FLOW_TCP_SYN0 : 0;
	sp->policy_id = (uint16_t)policy_id;
	sp->dip_id = (uint16_t)dip_id;
	sp->nat_port = (uint16_t)nat_port;
	sp->alg = FLOW_INVALID;
	sp->alg_id = FLOW_ALG_NONE;
	sp->oneway = 0;
	sp->xflags = 0;
}

unsigned
nat_session_new(const struct nat_ctx *ctx, const struct nat_rules *r, const struct nat_flow *f,
		unsigned w, struct flow_session **sp, unsigned *how)
{
	const struct nat_alg_hook *alg = NULL;
	const struct nat_policy *p;
	struct nat_sess_spec spec;
	struct flow_session *s;
	struct nat_pub pb = { .ip = f->src, .port = f->sport };
	bool icmp = f->proto == IPPROTO_ICMP;
	bool ports = f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP || icmp;
	bool nat;
	rte_be16_t pp;
	rte_be32_t pub;
	unsigned why, i;
	int ins = 0, rc;

	*how = 0;
	p = decide(r, f, &why);
	if (p == NULL)
		return why;
	/* An ALG rides on the session when switched on (e.g. PPTP on TCP/1723). */
	for (i = 0; i < ctx->n_algs; i++)
		if (((r->alg_on >> i) & 1) && ctx->alg[i].proto == f->proto &&
		    ctx->alg[i].dport == f->dport) {
			alg = &ctx->alg[i];
			break;
		}
	/* The public address and port first: a refusal for want of one has taken nothing. */
	nat = p->nat_src || (f->in_nat && nat_rules_untrust(r, f->out_zone));
	if (nat) {
		why = pub_take(ctx, r, p, f, w,
			       alg != NULL && alg->data_by_addr ? addr_shift_for_worker(ctx, p, f, w) : 0,
			       ports, &pb);
		if (why != 0)
			return why;
	}
	pub = pb.ip;
	pp = pb.port;
	/* Counted for its source host from here on. */
	rc = nat_src_take(ctx->src, f->src, nat_rules_src_limit(r, f->in_zone));
	if (rc != 0) {
		why = rc == -EDQUOT ? PKT_DROP_SRC_SESSION_LIMIT : PKT_DROP_SRC_TABLE_FULL;
		goto undo_port;
	}
	/* Every field of spec is set (no memset): ICMP echo: the identifier stands in both port slots. */
	flow_key_set(&spec.key[0], f->src, f->dst, f->sport, icmp ? f->sport : f->dport, f->proto);
	flow_key_set(&spec.key[1], f->dst, pub, icmp ? pp : f->dport, pp, f->proto);
	flow_rw_set(&spec.rw[0], pub, f->dst, pp, icmp ? pp : f->dport);
	flow_rw_set(&spec.rw[1], f->dst, f->src, icmp ? f->sport : f->dport, f->sport);
	spec_fill(&spec, f, f->out_iface,
		  (nat ? FLOW_F_NAT : 0) | (pb.mapped ? FLOW_F_MAP : 0) | (pb.pba ? FLOW_F_PBA : 0), p->id,
		  nat && p->nat_src ? p->dip_id : 0, pb.owned);
	spec.xflags = pb.counted ? FLOW_X_PORT_COUNTED : 0;
	s = nat_session_build(ctx->flows, &spec, w);
	if (s == NULL) {
		why = PKT_DROP_SESSION_FULL;
		goto undo_src;
	}
	if (alg != NULL && alg->attach(alg->arg, s, w) != 0) {
		/* Without its ALG's state the flow would pass untranslated where the ALG must act. */
		why = alg->fail_reason;
		flow_release(ctx->flows, s, w);
		goto undo_src;
	}
	why = session_insert(ctx, s, alg, w, sp, &ins);
	if (why == 0)
		return 0;
undo_src:
	nat_src_put(ctx->src, f->src);
undo_port:
	pub_put(ctx, f, &pb);
	/* Another worker made the same flow a moment ago: use its session. */
	return ins == -EEXIST ? session_race(ctx, &spec.key[0], why, sp, how) : why;
}

unsigned
nat_session_mapped(const struct nat_ctx *ctx, const struct nat_rules *r, const struct nat_flow *f,
		   const struct nat_target *t, unsigned w, struct flow_session **sp, unsigned *how)
{
	const struct nat_policy *p = NULL;
	struct nat_sess_spec spec;
	struct flow_session *s;
	struct nat_pub pb = { .ip = f->src, .port = f->sport };
	bool icmp = f->proto == IPPROTO_ICMP;
	bool hairpin = !nat_rules_untrust(r, f->in_zone);
	rte_be16_t tp = t->port, pp;
	unsigned why = 0;
	int ins = 0, rc;

	*how = 0;
	if (hairpin) {
		/* The sender goes out as it would to any public address: policy and its own mapping. */
		p = decide(r, f, &why);
		if (p == NULL)
			goto undo_target;
		if (!p->nat_src && !(f->in_nat && nat_rules_untrust(r, f->out_zone))) {
			why = PKT_DROP_TO_ME_UNHANDLED;   /* untranslated, it could not come back */
			goto undo_target;
		}
		/* ICMP: the identifier is the target mapping's; the sender keeps its address only. */
		why = pub_take(ctx, r, p, f, w, 0, !icmp, &pb);
		if (why != 0)
			goto undo_target;
	} else if (f->proto == IPPROTO_TCP &&
		   (f->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
			   RTE_TCP_SYN_FLAG) {
		why = PKT_DROP_TCP_NOT_SYN;
		goto undo_target;
	}
	pp = icmp ? tp : pb.port;
	rc = nat_src_take(ctx->src, f->src, nat_rules_src_limit(r, f->in_zone));
	if (rc != 0) {
		why = rc == -EDQUOT ? PKT_DROP_SRC_SESSION_LIMIT : PKT_DROP_SRC_TABLE_FULL;
		goto undo_pub;
	}
	/* key[0] as the sender sends, to the public endpoint; key[1] as the mapping's inside host answers. */
	flow_key_set(&spec.key[0], f->src, f->dst, f->sport, icmp ? f->sport : f->dport, f->proto);
	flow_key_set(&spec.key[1], t->ip, pb.ip, tp, pp, f->proto);
	flow_rw_set(&spec.rw[0], pb.ip, t->ip, pp, tp);
	flow_rw_set(&spec.rw[1], f->dst, f->src, icmp ? f->sport : f->dport, f->sport);
	spec_fill(&spec, f, t->iface,
		  FLOW_F_NAT | FLOW_F_MAP_R | (pb.mapped ? FLOW_F_MAP : 0) | (pb.pba ? FLOW_F_PBA : 0),
		  p != NULL ? p->id : t->policy_id, p != NULL && p->nat_src ? p->dip_id : 0, pb.owned);
	spec.xflags = pb.counted ? FLOW_X_PORT_COUNTED : 0;
	/* A host hairpinned to its own mapping: both directions are one; the second is a wing. */
	spec.oneway = memcmp(&spec.key[0], &spec.key[1], sizeof(spec.key[0])) == 0;
	s = nat_session_build(ctx->flows, &spec, w);
	if (s == NULL) {
		why = PKT_DROP_SESSION_FULL;
		goto undo_src;
	}
	why = session_insert(ctx, s, NULL, w, sp, &ins);
	if (why == 0)
		return 0;
undo_src:
	nat_src_put(ctx->src, f->src);
undo_pub:
	if (hairpin)
		pub_put(ctx, f, &pb);
undo_target:
	nat_map_put(ctx->map, f->proto, t->ip, t->port);
	return ins == -EEXIST ? session_race(ctx, &spec.key[0], why, sp, how) : why;
}
