/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HA pair (issue 17, docs/ha.md): an active box that forwards and
 * mirrors its sessions to a standby that forwards nothing and installs what
 * it is told, ScreenOS NSRP's RTO mirror in dpnat's shape. Who is active is
 * decided outside dpnat (keepalived's VRRP), which tells it through the CLI
 * (`exec nsrp role active|standby|init`).
 *
 * Session events are queued like the NAT event log (dp_natlog.h): the
 * worker that makes a session puts a fixed-size record into its own
 * single-producer ring, the control lcore (which deletes sessions) into its
 * own; a full ring loses the event and counts it; nothing waits. The control
 * lcore drains the rings into sequence-numbered, versioned UDP datagrams to
 * the peer over a kernel socket on the HA link, walks the table to refresh
 * live sessions (so the standby does not age them out) and, when the
 * standby asks (on joining, on a gap), to send it everything (bulk sync).
 * Only datagrams from the configured peer are taken; the rest are counted.
 */
#ifndef DPNAT_DP_HA_H
#define DPNAT_DP_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ring.h>

#include "flow.h"

struct dp;
struct cli_out;
struct flow_session;
struct dp_ha_state;

/** The box's part in the pair. */
enum dp_ha_role {
	DP_HA_STANDALONE = 0,   /**< no `set nsrp cluster id`: forwards, syncs nothing */
	DP_HA_INIT,             /**< in a pair, not yet told: forwards nothing */
	DP_HA_STANDBY,          /**< forwards nothing, answers no ARP, installs the peer's sessions */
	DP_HA_ACTIVE,           /**< forwards and mirrors its sessions to the peer */
};

/** What a sync record tells. */
enum dp_ha_ev {
	DP_HA_EV_UPSERT = 1,    /**< a session made or refreshed: install it, or refresh it if known */
	DP_HA_EV_DEL = 2,       /**< a session deleted (key[0] is enough) */
	DP_HA_EV_PPTP = 3,      /**< queued only: a PPTP control session whose ALG state changed (sent whole) */
	DP_HA_EV_TOUCH = 4,     /**< a session seen lately, known by key[0] (refresh of a PPTP call's gates) */
};

/**
 * One session event, 96 bytes, as it travels (version 1): addresses and
 * ports in network order as in the session's keys, other multi-byte fields
 * big-endian. Filled by the lcore that makes the event.
 */
struct dp_ha_rec {
	uint8_t type;             /**< enum dp_ha_ev */
	uint8_t proto;
	uint8_t tmo;              /**< enum flow_tmo */
	uint8_t flags;            /**< FLOW_F_NAT only (ALG sessions are not synced) */
	uint8_t tcp;              /**< FLOW_TCP_* */
	uint8_t oneway;
	uint8_t owner;            /**< worker that made it (its public port's slice) */
	uint8_t pad0;
	uint8_t iface[2];
	uint8_t out_iface[2];
	rte_be16_t policy_id;
	rte_be16_t dip_id;
	rte_be16_t nat_port;
	uint16_t pad1;
	struct {
		rte_be32_t src, dst;
		rte_be16_t sport, dport;
	} key[2], rw[2];
	struct {
		rte_be32_t end, ack;
		rte_be16_t max_win;
		uint8_t wscale;
		uint8_t state;
	} tcpp[2];
	uint8_t pad2[4];
};

/** One lcore's event queue (its counters written by that lcore only). */
struct dp_ha_q {
	struct rte_ring *ring;    /**< SP (this lcore) / SC (control lcore) ring of dp_ha_rec */
	uint64_t queued;
	uint64_t lost;            /**< ring full: never sent */
} __rte_cache_aligned;

/** Every counter of the pair, for `get nsrp`, telemetry and metrics. */
struct dp_ha_stats {
	uint64_t msgs_sent, events_sent, send_errors;
	uint64_t msgs_recv, events_recv;
	uint64_t installed, updated, deleted, install_failed, conflicts;
	uint64_t events_lost;     /**< queue full on the active */
	uint64_t gaps;            /**< messages the standby never got (sequence numbers skipped) */
	uint64_t refused;         /**< datagrams from an address other than the peer's, or another cluster */
	uint64_t bad;             /**< malformed or of another version */
	uint64_t bulk_req_sent, bulk_req_recv, bulk_sent, bulk_recv;
	uint64_t split_brain;     /**< messages from an active peer while active */
	uint64_t garp_sent;
	uint64_t role_changes;
	uint64_t queued;          /**< events waiting in the queues now */
	uint64_t lag_ms;          /**< ms since the peer's last message (UINT64_MAX: never heard) */
	uint32_t role, peer_role;
};

/** One counter of struct dp_ha_stats by name, for telemetry and metrics (dpnat_nsrp_<name>). */
struct dp_ha_counter {
	const char *name;
	const char *type;         /**< "counter" or "gauge" */
	const char *help;
	size_t off;               /**< of its uint64_t in struct dp_ha_stats */
};
/** Every counter of struct dp_ha_stats but the lag and roles. */
extern const struct dp_ha_counter dp_ha_counters[];
/** How many dp_ha_counters there are. */
extern const unsigned dp_ha_n_counters;

/** Create the queues (always: the role may be set at run time). 0, or -1 with err set. */
int dp_ha_create(struct dp *dp, char *err, size_t errlen);
/** Free the queues and close the socket. */
void dp_ha_free(struct dp *dp);
/**
 * Whether a session of flags and alg_id is mirrored: every session a policy
 * made, and PPTP control sessions with their ALG state (DP_HA_EV_PPTP); not
 * the ALG's gates, which the peer makes from the calls it is told of.
 */
static inline bool
dp_ha_syncable(uint8_t flags, uint8_t alg_id)
{
	return !(flags & (FLOW_F_ALG_MADE | FLOW_F_ALG_DATA)) &&
	       (alg_id == FLOW_ALG_NONE || (flags & FLOW_F_ALG_CTRL));
}
/** The event that tells the peer of a session of flags made: DP_HA_EV_PPTP for a PPTP control session. */
static inline unsigned
dp_ha_new_event(uint8_t flags)
{
	return (flags & FLOW_F_ALG_CTRL) ? DP_HA_EV_PPTP : DP_HA_EV_UPSERT;
}
/** Queue event type (enum dp_ha_ev) for s on queue q (worker index, or dp->n_workers: control). */
void dp_ha_session(struct dp *dp, unsigned q, const struct flow_session *s, unsigned type);
/** Control lcore, every loop: socket, receive, drain and send, refresh and bulk walks, hellos. */
void dp_ha_poll(struct dp *dp);
/** Make the box role (enum dp_ha_role, not STANDALONE). 0, or -1 with a message in out. */
int dp_ha_role_set(struct dp *dp, unsigned role, struct cli_out *out);
/** The counters. */
void dp_ha_stats_get(const struct dp *dp, struct dp_ha_stats *st);
/** A role's name as the views print it. */
const char *dp_ha_role_name(unsigned role);
/** CLI view `get nsrp`. */
void dp_ha_show(struct dp *dp, struct cli_out *out);
/** Apply the configuration (cluster on or off) after a change: role, socket. */
void dp_ha_conf_apply(struct dp *dp);

#endif /* DPNAT_DP_HA_H */
