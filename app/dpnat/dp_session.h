/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions in the daemon: the tables and public addresses (session.c), the
 * per-source limits and fragment tracking (limits.c), and the owned-address test.
 */
#ifndef DPNAT_DP_SESSION_H
#define DPNAT_DP_SESSION_H

#include "dp.h"

/* session.c */
/** Register public address ip (host order) with the NAT and PPTP allocators; its NAT index or negative. */
int dp_public_addr_add(struct dp *dp, uint32_t ip);
/** Build the workers' runtime from configuration c (zones must exist) aside; NULL with err set on error. */
struct dp_runtime *dp_runtime_build(struct dp *dp, const struct conf *c, char *err, size_t errlen);
/** Make rt the runtime workers read and free the one it replaces after a grace period (control lcore). */
void dp_runtime_publish(struct dp *dp, struct dp_runtime *rt);
/** Create the session and NAT tables and register public addresses. 0 or -1 with err. */
int dp_sessions_init(struct dp *dp, char *err, size_t errlen);
/** Apply the configured timeouts to the session table. */
void dp_timeouts_apply(struct dp *dp);
/** Control-lcore housekeeping: clock, ageing slice, RCU reclaim. */
void dp_sessions_tick(struct dp *dp);

/* limits.c */
/** Create the per-source tables and the fragment tracker from dp->conf. 0 or -1 with err. */
int dp_limits_init(struct dp *dp, char *err, size_t errlen);
/** Push the per-call limit and the fragment timeout of dp->conf to the ALG and the fragment tracker. */
void dp_limits_apply(struct dp *dp);
/** Port block counters (all 0 without port blocks) into st, the port limit's into ps; returns the block size (0: none). */
uint32_t dp_cgn_stats(const struct dp *dp, struct nat_pba_stats *st, struct nat_src_stats *ps);
/**
 * Worker: a first fragment of session s's direction dir (not yet
 * rewritten): remember its datagram's translation. 0, or a drop reason.
 */
unsigned dp_frag_first(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m,
		       const struct pkt_meta *md, const struct flow_session *s, unsigned dir);
/**
 * Worker: a later fragment (no transport header): rewritten as its first
 * fragment was and 0 returned (the caller forwards it), a drop reason, or
 * -1 when its datagram is not tracked (the caller treats it as a miss).
 */
int dp_frag_later(struct dp *dp, struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *md);
/** True for a fragment that is not the first (it has no transport header). */
static inline bool
dp_frag_is_later(const struct pkt_meta *md)
{
	return (md->flags & (PKT_F_FRAG | PKT_F_L4_VALID)) == PKT_F_FRAG;
}

/**
 * True if ip (host order) is an address dpnat owns: an interface address or
 * a public address it translates to (every DIP pool address, also of pools
 * removed at run time, whose sessions may live on). Never forwarded. The
 * NAT table holds them all (dp_sessions_init, dips_apply): one hash probe.
 */
static inline bool
dp_addr_is_own(const struct dp *dp, uint32_t ip)
{
	return nat_addr_find(dp->nat, ip) >= 0;
}

#endif /* DPNAT_DP_SESSION_H */
