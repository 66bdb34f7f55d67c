/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The new-flow decision: what the first packet of a flow that matched no
 * session becomes. One constructor (nat_session_new) takes the packet's
 * tuple and where it came from and goes to, the published rules
 * (struct nat_rules, built aside by the control lcore and swapped whole)
 * and the tables (struct nat_ctx), and returns either a session, inserted,
 * or the drop reason. Everything it takes on the way - a public port, the
 * source host's session count, a session object, an ALG's state - is given
 * back in reverse order by one unwinding ladder when a later step fails.
 *
 * Its lower half, nat_session_build(), turns a fully described session
 * (struct nat_sess_spec: keys, rewrites, interfaces, class) into a session
 * object ready for flow_insert; the ALGs' gates and, later, a receiver of
 * replicated sessions make theirs with it.
 *
 * ALGs: lib/nat knows none of them. The daemon registers each as a hook in
 * the context (protocol, destination port, attach/detach); the rules say
 * which are switched on.
 *
 * Threads: workers, concurrently; the rules are read-only to them.
 */
#ifndef DPNAT_NAT_SESSION_H
#define DPNAT_NAT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "nat.h"
#include "nat_pba.h"
#include "nat_map.h"
#include "nat_src.h"

#define NAT_MAX_ZONES  8    /**< as ROUTE_MAX_ZONES (checked by the daemon) */
#define NAT_MAX_IFACES 16   /**< as ROUTE_MAX_IFACES (checked by the daemon) */
#define NAT_MAX_ALGS   4
#define NAT_ADDR_TRIES 4    /**< DIP pool addresses tried for a port before a refusal */

/** What the new-flow decision reads that configuration changes; immutable once published. */
struct nat_rules {
	struct nat_policy_set policies;                /**< compiled, in evaluation order */
	bool zone_untrust[NAT_MAX_ZONES];              /**< zone named Untrust: NAT-mode egress, no-session on a miss */
	int32_t iface_nat_idx[NAT_MAX_IFACES];         /**< nat_table index of each interface's address, -1 */
	uint32_t zone_limit_src[NAT_MAX_ZONES + 1];    /**< sessions per source host by ingress zone; last: no zone */
	uint32_t alg_on;                               /**< bit i: the context's ALG hook i is switched on */
	uint32_t port_limit;                           /**< public ports per subscriber (src_ports), UINT32_MAX: none */
	bool map_eim;                                  /**< endpoint-independent mappings (TCP, UDP, ICMP echo) */
	bool map_eif;                                  /**< any Untrust host may reach a live mapping */
	bool hairpin;                                  /**< inside hosts reach live mappings */
	uint8_t port_keep;                             /**< NAT_PORT_*: port preservation */
};

#define NAT_PORT_ANY      0   /**< round robin from the worker's slice */
#define NAT_PORT_PRESERVE 1   /**< the inside port when free */
#define NAT_PORT_PARITY   2   /**< ... else one of its parity when the next round-robin ports give one */

/** An ALG that rides on sessions to one protocol and destination port. */
struct nat_alg_hook {
	uint8_t proto;
	rte_be16_t dport;
	uint16_t fail_reason;   /**< drop reason when attach refuses */
	/**
	 * Its data packets (PPTP's GRE) hash by addresses alone on a NIC: from
	 * a DIP pool, take an address whose (peer, address) hash lands on the
	 * creating worker's queue where there is one (nat_addr_class).
	 */
	bool data_by_addr;
	/** Give s (not yet inserted) the ALG's state; 0, or non-zero to refuse the flow. */
	int (*attach)(void *arg, struct flow_session *s, unsigned w);
	/** Undo attach for s, which was never inserted. */
	void (*detach)(void *arg, struct flow_session *s);
	void *arg;
};

/** The tables a new session takes from, and the ALGs that may ride on it. */
struct nat_ctx {
	struct flow_table *flows;
	struct nat_table *nat;
	struct nat_src *src;                       /**< sessions per source host */
	struct nat_src *src_ports;                 /**< public ports per source host (rules' port_limit), NULL: none */
	struct nat_pba *pba;                       /**< port blocks, NULL: ports from the workers' slices */
	struct nat_map *map;                       /**< endpoint-independent mappings */
	unsigned n_algs;
	struct nat_alg_hook alg[NAT_MAX_ALGS];
};

/** The first packet of a new flow, as the worker parsed and routed it. */
struct nat_flow {
	rte_be32_t src;
	rte_be32_t dst;
	rte_be16_t sport;       /**< ICMP echo: the identifier */
	rte_be16_t dport;
	uint8_t proto;
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint8_t in_iface;
	uint8_t out_iface;
	uint8_t in_zone;
	uint8_t out_zone;
	bool in_nat;            /**< the ingress interface is in NAT mode */
	uint32_t now;           /**< flow clock, seconds (when a port block is taken) */
};

/** A whole session described by name: the input of nat_session_build. */
struct nat_sess_spec {
	struct flow_key key[2];     /**< [0] as the initiator sends, [1] as replies arrive */
	struct flow_rw rw[2];       /**< what each direction becomes (checksum deltas summed on insert) */
	uint8_t iface[2];           /**< interface each direction arrives on */
	uint8_t out_iface[2];       /**< ... and leaves by */
	uint8_t proto;
	uint8_t tmo;                /**< enum flow_tmo */
	uint8_t flags;              /**< FLOW_F_* */
	uint8_t xflags;             /**< FLOW_X_* */
	uint8_t tcp;                /**< FLOW_TCP_* to start with */
	uint8_t alg_id;             /**< the ALG that made it (FLOW_ALG_NONE for a policy's session) */
	uint8_t oneway;             /**< 1: key[1] is a wing no packet matches (flow_insert) */
	uint16_t policy_id;
	uint16_t dip_id;
	uint16_t nat_port;          /**< public port to free on delete (host order), 0 if none */
	uint32_t alg;               /**< ALG state index, FLOW_INVALID if none */
};

/** Outcome of nat_session_new beyond the session itself. */
#define NAT_NEW_RACE 0x1   /**< another worker inserted the same flow first: *sp is its session */

/**
 * Take a session object for worker w from ft and fill it from sp. Not
 * inserted (flow_insert publishes it; on failure flow_release gives it
 * back). NULL when the table is full. Inline: the caller's spec is folded
 * into the stores.
 */
static inline struct flow_session *
nat_session_build(struct flow_table *ft, const struct nat_sess_spec *sp, unsigned w)
{
	struct flow_session *s = flow_alloc(ft, w);

	if (s == NULL)
		return NULL;
	s->key[0] = sp->key[0];
	s->key[1] = sp->key[1];
	s->rw[0] = sp->rw[0];
	s->rw[1] = sp->rw[1];
	s->iface[0] = sp->iface[0];
	s->iface[1] = sp->iface[1];
	s->out_iface[0] = sp->out_iface[0];
	s->out_iface[1] = sp->out_iface[1];
	s->proto = sp->proto;
	s->tmo = sp->tmo;
	s->flags = sp->flags;
	s->xflags = sp->xflags;
	s->tcp = sp->tcp;
	s->alg_id = sp->alg_id;
	s->oneway = sp->oneway;
	s->policy_id = sp->policy_id;
	s->dip_id = sp->dip_id;
	s->nat_port = sp->nat_port;
	s->alg = sp->alg;
	return s;
}

/**
 * The new-flow decision for the first packet f on worker w under rules r:
 * policy, zone rule, public address and port, per-source count, keys,
 * rewrites, timeout class, ALG, insert. Returns 0 with *sp the inserted
 * session (and *how NAT_NEW_RACE when another worker's session for the same
 * flow was found instead), or a drop reason (enum pkt_drop) with nothing
 * taken.
 */
unsigned nat_session_new(const struct nat_ctx *ctx, const struct nat_rules *r,
			 const struct nat_flow *f, unsigned w, struct flow_session **sp,
			 unsigned *how);

/** The inside endpoint a packet for a public endpoint reaches: its mapping's, a reference held. */
struct nat_target {
	rte_be32_t ip;
	rte_be16_t port;        /**< ICMP: the identifier */
	uint16_t policy_id;     /**< the policy that made the mapping */
	uint8_t iface;          /**< the interface ip is routed by */
};

/**
 * A session for the first packet f of a flow to a public endpoint that
 * mapping t owns (f->dst and f->dport, for ICMP echo its identifier):
 * from an Untrust zone when r says endpoint-independent filtering (TCP and
 * UDP), from any other zone when r says hairpinning - then f->out_iface and
 * f->out_zone are where the public address is routed, the policy for that
 * zone pair decides, and the source becomes the sender's own public
 * endpoint (its mapping). The reference on t's mapping passes to the
 * session, or is given back with anything else taken when a step fails.
 * Returns as nat_session_new.
 */
unsigned nat_session_mapped(const struct nat_ctx *ctx, const struct nat_rules *r,
			    const struct nat_flow *f, const struct nat_target *t, unsigned w,
			    struct flow_session **sp, unsigned *how);

/**
 * Per-source session limit r sets for a source entering from zone (a zone
 * index, or anything >= NAT_MAX_ZONES for an interface without one).
 */
static inline uint32_t
nat_rules_src_limit(const struct nat_rules *r, uint8_t zone)
{
	return r->zone_limit_src[zone < NAT_MAX_ZONES ? zone : NAT_MAX_ZONES];
}

/** Whether zone is an Untrust zone under r. */
static inline bool
nat_rules_untrust(const struct nat_rules *r, uint8_t zone)
{
	return zone < NAT_MAX_ZONES && r->zone_untrust[zone];
}

#endif /* DPNAT_NAT_SESSION_H */
