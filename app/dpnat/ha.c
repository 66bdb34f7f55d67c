/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HA pair (dp_ha.h): role, event queues, the sync protocol on the HA
 * link, the standby's installs, gratuitous ARP on promotion, `get nsrp`.
 *
 * Wire format, version 1 (docs/ha.md): every datagram starts with
 * struct ha_hdr; EVENTS carries count records (struct dp_ha_rec); BULK_END
 * closes a bulk sync; both take the next sequence number. HELLO (every
 * 500 ms, any role) carries the last sequence number sent without taking
 * one, so a standby sees a gap at the tail too. BULK_REQ asks the active for
 * everything. epoch is drawn at start: a new one tells the peer restarted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "cli.h"
#include "dp.h"
#include "dp_ha.h"
#include "dp_iface.h"
#include "dp_log.h"
#include "dp_session.h"

#define HA_MAGIC       0x44504841u   /* "DPHA" */
#define HA_VERSION     1
#define HA_MAX_RECS    14            /* 16 + 14 * 96 = 1360 bytes: one frame on a 1500-byte link */
#define HA_DRAIN_MAX   16384         /* events drained per control loop at most */
#define HA_BULK_SLICE  1024          /* sessions a bulk walk visits per control loop (~100 KB) */
#define HA_RECV_MAX    1024          /* datagrams read per control loop at most */
#define HA_SOCK_BUF    (8 << 20)     /* socket buffers: a burst of the bulk walk and more */

enum ha_msg {
	HA_MSG_EVENTS = 1,
	HA_MSG_BULK_END = 2,
	HA_MSG_HELLO = 3,
	HA_MSG_BULK_REQ = 4,
	HA_MSG_PPTP = 5,
};

#define HA_F_BULK  0x1   /* EVENTS, PPTP: part of a bulk sync */
#define HA_F_STATE 0x2   /* PPTP: a struct pptp_sync follows the session's record */

struct ha_hdr {
	rte_be32_t magic;
	uint8_t version;
	uint8_t type;              /* enum ha_msg */
	uint8_t role;              /* the sender's enum dp_ha_role */
	uint8_t cluster;
	rte_be32_t epoch;          /* the sender's incarnation */
	rte_be32_t seq;            /* EVENTS, BULK_END: this message's; HELLO: the last one sent */
	rte_be16_t count;          /* records that follow */
	rte_be16_t flags;          /* HA_F_* */
	uint32_t pad;
};

/* The control lcore's side of the pair. */
struct dp_ha_state {
	uint8_t role;
	uint8_t peer_role;
	int fd;
	uint32_t fd_local, fd_peer;    /* what the socket was opened for */
	uint16_t fd_port;
	uint64_t fd_retry_tsc;
	uint32_t epoch;
	uint32_t tx_seq;               /* last sequence number sent */
	bool rx_synced;                /* rx_seq is valid for peer_epoch */
	uint32_t rx_seq;
	uint32_t peer_epoch;
	bool peer_heard;
	uint64_t last_rx_tsc;
	uint64_t last_hello_tsc;
	/* standby: the bulk sync it wants */
	uint32_t bulk_epoch;           /* the peer epoch a complete bulk sync was had for */
	bool bulk_have;
	bool bulk_inflight;
	bool gap_seen;                 /* a gap since the last request */
	uint64_t bulk_req_tsc;
	uint64_t bulk_rx_tsc;          /* the last datagram of a bulk sync arrived */
	/* active: walks of the table */
	bool bulk_walk;
	uint32_t bulk_cursor;
	uint32_t refresh_cursor;
	uint64_t refresh_tsc;
	/* the datagram being filled */
	unsigned nrec;
	uint16_t tx_flags;
	uint8_t tx[sizeof(struct ha_hdr) + HA_MAX_RECS * sizeof(struct dp_ha_rec)] __rte_aligned(8);
	/* gratuitous ARP: sent at promotion and again twice, 500 ms apart */
	unsigned garp_left;
	uint64_t garp_tsc;
	uint64_t role_tsc;
	struct dp_ha_stats st;
};

static const char *const role_names[] = {
	[DP_HA_STANDALONE] = "standalone",
	[DP_HA_INIT] = "init",
	[DP_HA_STANDBY] = "standby",
	[DP_HA_ACTIVE] = "active",
};

#define HA_C(n, t, h) { #n, t, h, offsetof(struct dp_ha_stats, n) }
const struct dp_ha_counter dp_ha_counters[] = {
	HA_C(msgs_sent, "counter", "Sync datagrams sent to the peer"),
	HA_C(events_sent, "counter", "Session events sent to the peer"),
	HA_C(send_errors, "counter", "Sync datagrams the socket refused"),
	HA_C(msgs_recv, "counter", "Sync datagrams taken from the peer"),
	HA_C(events_recv, "counter", "Session events taken from the peer"),
	HA_C(installed, "counter", "Sessions installed from the peer"),
	HA_C(updated, "counter", "Sessions refreshed by the peer"),
	HA_C(deleted, "counter", "Sessions deleted by the peer"),
	HA_C(install_failed, "counter", "Peer sessions that could not be installed (table full)"),
	HA_C(conflicts, "counter", "Peer sessions refused: their port or keys are another session's here"),
	HA_C(events_lost, "counter", "Session events lost to a full queue or a closed socket"),
	HA_C(gaps, "counter", "Sync datagrams the peer sent that never arrived (sequence gaps)"),
	HA_C(refused, "counter", "Sync datagrams refused: not from the peer, or of another cluster"),
	HA_C(bad, "counter", "Sync datagrams or events malformed or of another version"),
	HA_C(bulk_req_sent, "counter", "Bulk syncs asked of the peer"),
	HA_C(bulk_req_recv, "counter", "Bulk syncs the peer asked for"),
	HA_C(bulk_sent, "counter", "Bulk syncs sent whole"),
	HA_C(bulk_recv, "counter", "Bulk syncs received whole"),
	HA_C(split_brain, "counter", "Datagrams from an active peer while active"),
	HA_C(garp_sent, "counter", "Gratuitous ARP sent on promotion"),
	HA_C(role_changes, "counter", "Role changes"),
	HA_C(queued, "gauge", "Session events waiting in the queues"),
};
const unsigned dp_ha_n_counters = RTE_DIM(dp_ha_counters);

const char *
dp_ha_role_name(unsigned role)
{
	return role < RTE_DIM(role_names) ? role_names[role] : "?";
}

/* What the workers read: forward or not, queue events or not. */
static void
publish_role(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;
	bool pair = dp->conf.nsrp_cluster != 0;

	__atomic_store_n(&dp->ha_standby, (uint8_t)(pair && h->role != DP_HA_ACTIVE), __ATOMIC_RELEASE);
	__atomic_store_n(&dp->ha_sync, (uint8_t)(pair && h->role == DP_HA_ACTIVE && dp->conf.nsrp_peer != 0),
			 __ATOMIC_RELEASE);
}

int
dp_ha_create(struct dp *dp, char *err, size_t errlen)
{
	unsigned i;

	RTE_BUILD_BUG_ON(sizeof(struct dp_ha_rec) != 96);
	RTE_BUILD_BUG_ON(sizeof(struct ha_hdr) != 24);
	dp->ha = rte_zmalloc("dpnat_ha", sizeof(*dp->ha), RTE_CACHE_LINE_SIZE);
	if (dp->ha == NULL) {
		snprintf(err, errlen, "out of memory for the HA state");
		return -1;
	}
	dp->ha->fd = -1;
	dp->ha->epoch = (uint32_t)rte_rand() | 1;
	dp->ha->role = dp->conf.nsrp_cluster != 0 ? DP_HA_INIT : DP_HA_STANDALONE;
	dp->ha->peer_role = DP_HA_INIT;
	dp->ha->role_tsc = rte_get_tsc_cycles();
	for (i = 0; i <= dp->n_workers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dpnat_ha%u", i);
		dp->haq[i].ring = rte_ring_create_elem(name, sizeof(struct dp_ha_rec), dp->conf.nsrp_queue,
						       rte_socket_id(),
						       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (dp->haq[i].ring == NULL) {
			snprintf(err, errlen, "cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -1;
		}
	}
	publish_role(dp);
	return 0;
}

void
dp_ha_free(struct dp *dp)
{
	unsigned i;

	for (i = 0; i <= dp->n_workers && i <= DP_MAX_WORKERS; i++) {
		rte_ring_free(dp->haq[i].ring);
		dp->haq[i].ring = NULL;
	}
	if (dp->ha != NULL && dp->ha->fd >= 0)
		close(dp->ha->fd);
	rte_free(dp->ha);
	dp->ha = NULL;
}

/* Fill r from s. */
static void
rec_fill(struct dp_ha_rec *r, const struct flow_session *s, unsigned type)
{
	unsigned d;

	memset(r, 0, sizeof(*r));
	r->type = (uint8_t)type;
	r->proto = s->proto;
	r->tmo = s->tmo;
	r->flags = s->flags & (FLOW_F_NAT | FLOW_F_ALG_CTRL);
	r->tcp = __atomic_load_n(&s->tcp, __ATOMIC_RELAXED);
	r->oneway = s->oneway;
	r->owner = s->owner;
	r->policy_id = rte_cpu_to_be_16(s->policy_id);
	r->dip_id = rte_cpu_to_be_16(s->dip_id);
	r->nat_port = rte_cpu_to_be_16(s->nat_port);
	for (d = 0; d < 2; d++) {
		const struct flow_tcp_peer *p = &s->tcpp[d];

		r->iface[d] = s->iface[d];
		r->out_iface[d] = s->out_iface[d];
		r->key[d].src = s->key[d].src;
		r->key[d].dst = s->key[d].dst;
		r->key[d].sport = s->key[d].sport;
		r->key[d].dport = s->key[d].dport;
		r->rw[d].src = s->rw[d].src;
		r->rw[d].dst = s->rw[d].dst;
		r->rw[d].sport = s->rw[d].sport;
		r->rw[d].dport = s->rw[d].dport;
		r->tcpp[d].end = rte_cpu_to_be_32(__atomic_load_n(&p->end, __ATOMIC_RELAXED));
		r->tcpp[d].ack = rte_cpu_to_be_32(__atomic_load_n(&p->ack, __ATOMIC_RELAXED));
		r->tcpp[d].max_win = rte_cpu_to_be_16(__atomic_load_n(&p->max_win, __ATOMIC_RELAXED));
		r->tcpp[d].wscale = p->wscale;
		r->tcpp[d].state = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
	}
}

void
dp_ha_session(struct dp *dp, unsigned q, const struct flow_session *s, unsigned type)
{
	struct dp_ha_q *hq = &dp->haq[q];
	struct dp_ha_rec r;

	rec_fill(&r, s, type);
	hq->queued++;
	if (hq->ring == NULL || rte_ring_sp_enqueue_elem(hq->ring, &r, sizeof(r)) != 0)
		hq->lost++;
}

/* ---- the socket ---- */

/* (Re)open the socket when the configuration asks for one it is not; retried once a second. */
static void
sock_check(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;
	const struct conf *c = &dp->conf;
	bool want = c->nsrp_cluster != 0 && c->nsrp_local != 0 && c->nsrp_peer != 0;
	struct sockaddr_in sa;
	int fd, sz = HA_SOCK_BUF, one = 1;

	if (h->fd >= 0 && (!want || h->fd_local != c->nsrp_local || h->fd_peer != c->nsrp_peer ||
			   h->fd_port != c->nsrp_port)) {
		close(h->fd);
		h->fd = -1;
	}
	if (!want || h->fd >= 0 || rte_get_tsc_cycles() < h->fd_retry_tsc)
		return;
	h->fd_retry_tsc = rte_get_tsc_cycles() + dp->hz;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Past net.core.[rw]mem_max where allowed (CAP_NET_ADMIN), else as large as that lets. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(c->nsrp_port);
	sa.sin_addr.s_addr = htonl(c->nsrp_local);
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		DP_LOG(WARNING, "nsrp: cannot bind the sync socket to port %u: %s (retrying)",
		       c->nsrp_port, strerror(errno));
		close(fd);
		return;
	}
	h->fd = fd;
	h->fd_local = c->nsrp_local;
	h->fd_peer = c->nsrp_peer;
	h->fd_port = c->nsrp_port;
	DP_LOG(NOTICE, "nsrp: sync socket open on port %u", c->nsrp_port);
}

/* Send a datagram of len bytes to the peer. */
static void
sock_send(struct dp *dp, const void *buf, size_t len)
{
	struct dp_ha_state *h = dp->ha;
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(dp->conf.nsrp_port),
		.sin_addr.s_addr = htonl(dp->conf.nsrp_peer),
	};

	if (h->fd < 0 || sendto(h->fd, buf, len, 0, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		h->st.send_errors++;
		return;
	}
	h->st.msgs_sent++;
}

/* A header of type with count records; seq is the next one for EVENTS/BULK_END. */
static void
hdr_fill(struct dp *dp, struct ha_hdr *hd, unsigned type, unsigned count, uint16_t flags)
{
	struct dp_ha_state *h = dp->ha;

	memset(hd, 0, sizeof(*hd));
	hd->magic = rte_cpu_to_be_32(HA_MAGIC);
	hd->version = HA_VERSION;
	hd->type = (uint8_t)type;
	hd->role = h->role;
	hd->cluster = (uint8_t)dp->conf.nsrp_cluster;
	hd->epoch = rte_cpu_to_be_32(h->epoch);
	if (type == HA_MSG_EVENTS || type == HA_MSG_BULK_END)
		h->tx_seq++;
	hd->seq = rte_cpu_to_be_32(h->tx_seq);
	hd->count = rte_cpu_to_be_16((uint16_t)count);
	hd->flags = rte_cpu_to_be_16(flags);
}

/* Send a message without records. */
static void
send_ctl(struct dp *dp, unsigned type)
{
	struct ha_hdr hd;

	hdr_fill(dp, &hd, type, 0, 0);
	sock_send(dp, &hd, sizeof(hd));
}

/* Send the records gathered so far. */
static void
tx_flush(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;

	if (h->nrec == 0)
		return;
	hdr_fill(dp, (struct ha_hdr *)h->tx, HA_MSG_EVENTS, h->nrec, h->tx_flags);
	sock_send(dp, h->tx, sizeof(struct ha_hdr) + h->nrec * sizeof(struct dp_ha_rec));
	h->st.events_sent += h->nrec;
	h->nrec = 0;
}

/* Add one record to the datagram being filled (flags: HA_F_BULK or 0). */
static void
tx_add(struct dp *dp, const struct dp_ha_rec *r, uint16_t flags)
{
	struct dp_ha_state *h = dp->ha;

	if (h->nrec != 0 && h->tx_flags != flags)
		tx_flush(dp);
	h->tx_flags = flags;
	memcpy(h->tx + sizeof(struct ha_hdr) + h->nrec * sizeof(*r), r, sizeof(*r));
	if (++h->nrec == HA_MAX_RECS)
		tx_flush(dp);
}

/*
 * A PPTP control session and its ALG state, in a datagram of its own (in
 * sequence with the rest): what the peer needs to carry the connection and
 * its calls on. Without a state yet (before the handshake completed) the
 * session alone.
 */
static void
send_pptp(struct dp *dp, struct flow_session *s, uint16_t flags)
{
	static uint8_t buf[sizeof(struct ha_hdr) + sizeof(struct dp_ha_rec) + sizeof(struct pptp_sync)]
		__rte_aligned(8);
	struct dp_ha_rec *r = (struct dp_ha_rec *)(buf + sizeof(struct ha_hdr));
	struct pptp_sync *ps = (struct pptp_sync *)(r + 1);
	size_t len = sizeof(struct ha_hdr) + sizeof(*r);

	tx_flush(dp);
	rec_fill(r, s, DP_HA_EV_UPSERT);
	if (dp->pptp != NULL && pptp_ctrl_export(dp->pptp, s, ps) == 0) {
		flags |= HA_F_STATE;
		len += sizeof(*ps);
	}
	hdr_fill(dp, (struct ha_hdr *)buf, HA_MSG_PPTP, 1, flags);
	sock_send(dp, buf, len);
	dp->ha->st.events_sent++;
}

/* The session whose first key is record r's, or NULL. */
static struct flow_session *
rec_session(struct dp *dp, const struct dp_ha_rec *r)
{
	struct flow_session *s;
	struct flow_key k;
	uint8_t dir;

	flow_key_set(&k, r->key[0].src, r->key[0].dst, r->key[0].sport, r->key[0].dport, r->proto);
	s = flow_lookup(dp->flows, &k, &dir);
	return s != NULL && dir == 0 ? s : NULL;
}

/* A queued PPTP event: the control session it names, sent with its state as it is now. */
static void
send_pptp_of(struct dp *dp, const struct dp_ha_rec *r)
{
	struct flow_session *s = rec_session(dp, r);

	if (s != NULL && (s->flags & FLOW_F_ALG_CTRL))
		send_pptp(dp, s, 0);
}

/* ---- the active: queues, walks ---- */

/* Drain every queue into datagrams (bounded). An event queued while not active is dropped. */
static void
drain(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;
	struct dp_ha_rec recs[32];
	unsigned i, n, k, total = 0;

	for (i = 0; i <= dp->n_workers; i++) {
		if (dp->haq[i].ring == NULL)
			continue;
		while (total < HA_DRAIN_MAX &&
		       (n = rte_ring_sc_dequeue_burst_elem(dp->haq[i].ring, recs, sizeof(recs[0]),
							   RTE_DIM(recs), NULL)) != 0) {
			total += n;
			if (h->fd < 0 || h->role != DP_HA_ACTIVE) {
				h->st.events_lost += n;
				continue;
			}
			for (k = 0; k < n; k++)
				if (recs[k].type == DP_HA_EV_PPTP)
					send_pptp_of(dp, &recs[k]);
				else
					tx_add(dp, &recs[k], 0);
		}
	}
	tx_flush(dp);
}

struct walk_arg {
	struct dp *dp;
	uint32_t since;      /* refresh: sessions seen at or after this second */
	uint16_t flags;
};

static int
walk_one(struct flow_session *s, void *arg)
{
	struct walk_arg *wa = arg;
	struct dp_ha_rec r;
	bool recent = __atomic_load_n(&s->last_seen, __ATOMIC_RELAXED) >= wa->since;

	if (s->flags & FLOW_F_DEAD)
		return 0;
	if (s->flags & FLOW_F_ALG_MADE) {
		/* A PPTP call's gate: the peer made its own; it learns only that it is alive. */
		if (recent && wa->since != 0) {
			rec_fill(&r, s, DP_HA_EV_TOUCH);
			tx_add(wa->dp, &r, wa->flags);
		}
		return 0;
	}
	if (!dp_ha_syncable(s->flags, s->alg_id) || !recent)
		return 0;
	if (s->flags & FLOW_F_ALG_CTRL) {
		send_pptp(wa->dp, s, wa->flags);
		return 0;
	}
	rec_fill(&r, s, DP_HA_EV_UPSERT);
	tx_add(wa->dp, &r, wa->flags);
	return 0;
}

/*
 * Active: a slice of the bulk walk a standby asked for, and every 10 ms a
 * slice of the refresh walk, which sends the sessions seen since the walk
 * last passed them, so the whole table is passed every refresh interval.
 */
static void
walks(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;
	uint64_t now = rte_get_tsc_cycles();

	if (h->bulk_walk) {
		struct walk_arg wa = { .dp = dp, .since = 0, .flags = HA_F_BULK };

		if (!flow_walk(dp->flows, &h->bulk_cursor, HA_BULK_SLICE, walk_one, &wa)) {
			tx_flush(dp);
			send_ctl(dp, HA_MSG_BULK_END);
			h->bulk_walk = false;
			h->st.bulk_sent++;
		}
		tx_flush(dp);
	}
	if (now - h->refresh_tsc >= dp->hz / 100) {
		uint32_t r = dp->conf.nsrp_refresh, clk = flow_clock(dp->flows);
		struct walk_arg wa = {
			.dp = dp,
			.since = clk > r ? clk - r : 0,
			.flags = 0,
		};
		unsigned budget = RTE_MAX(dp->conf.limits.sessions / (r * 100u), 256u);

		h->refresh_tsc = now;
		if (!flow_walk(dp->flows, &h->refresh_cursor, budget, walk_one, &wa))
			h->refresh_cursor = 0;
		tx_flush(dp);
	}
}

/* ---- the receiver ---- */

/* A record's session spec; false if it names what this box cannot hold. */
static bool
rec_spec(struct dp *dp, const struct dp_ha_rec *r, struct nat_sess_spec *sp, bool pptp)
{
	unsigned d;

	if (r->tmo >= FLOW_TMO_MAX || r->oneway > 1 ||
	    (r->flags & ~(FLOW_F_NAT | (pptp ? FLOW_F_ALG_CTRL : 0))) != 0 ||
	    (pptp && (r->proto != IPPROTO_TCP || !(r->flags & FLOW_F_ALG_CTRL))))
		return false;
	memset(sp, 0, sizeof(*sp));
	for (d = 0; d < 2; d++) {
		if (r->iface[d] >= ROUTE_MAX_IFACES || r->out_iface[d] >= ROUTE_MAX_IFACES)
			return false;
		sp->iface[d] = r->iface[d];
		sp->out_iface[d] = r->out_iface[d];
		flow_key_set(&sp->key[d], r->key[d].src, r->key[d].dst, r->key[d].sport,
			     r->key[d].dport, r->proto);
		flow_rw_set(&sp->rw[d], r->rw[d].src, r->rw[d].dst, r->rw[d].sport, r->rw[d].dport);
	}
	sp->proto = r->proto;
	sp->tmo = r->tmo;
	sp->flags = r->flags;
	sp->tcp = r->tcp;
	sp->alg_id = pptp ? PPTP_ALG_ID : FLOW_ALG_NONE;
	sp->oneway = r->oneway;
	sp->policy_id = rte_be_to_cpu_16(r->policy_id);
	sp->dip_id = rte_be_to_cpu_16(r->dip_id);
	sp->nat_port = rte_be_to_cpu_16(r->nat_port);
	sp->alg = FLOW_INVALID;
	/* A public port is one of our own addresses': else nothing could free it. */
	if (sp->nat_port != 0 &&
	    (sp->nat_port < NAT_PORT_MIN || !dp_addr_is_own(dp, rte_be_to_cpu_32(sp->rw[0].src))))
		return false;
	return true;
}

/* The TCP tracking a record carries, marked synced: the first segment after a takeover re-anchors it. */
static void
tcp_sync(struct flow_session *s, const struct dp_ha_rec *r)
{
	unsigned d;

	if (s->proto != IPPROTO_TCP)
		return;
	for (d = 0; d < 2; d++) {
		struct flow_tcp_peer *p = &s->tcpp[d];

		__atomic_store_n(&p->end, rte_be_to_cpu_32(r->tcpp[d].end), __ATOMIC_RELAXED);
		__atomic_store_n(&p->ack, rte_be_to_cpu_32(r->tcpp[d].ack), __ATOMIC_RELAXED);
		__atomic_store_n(&p->max_win, rte_be_to_cpu_16(r->tcpp[d].max_win), __ATOMIC_RELAXED);
		p->wscale = RTE_MIN(r->tcpp[d].wscale, 14);
		__atomic_store_n(&p->state, (uint8_t)((r->tcpp[d].state & (FLOW_TCPP_SYN | FLOW_TCPP_WS)) |
						      FLOW_TCPP_SYNCED), __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->tcp, r->tcp, __ATOMIC_RELAXED);
}

/* Install (or refresh) the session of record r (pptp: a PPTP control session); NULL if none. */
static struct flow_session *
apply_upsert(struct dp *dp, const struct dp_ha_rec *r, bool pptp)
{
	struct dp_ha_state *h = dp->ha;
	struct nat_sess_spec sp;
	struct flow_session *s;
	struct flow_key k;
	uint32_t pub;
	unsigned w;
	uint8_t dir;
	int rc;

	if (!rec_spec(dp, r, &sp, pptp)) {
		h->st.bad++;
		return NULL;
	}
	k = sp.key[0];
	s = flow_lookup(dp->flows, &k, &dir);
	if (s != NULL) {
		if (dir != 0 || memcmp(&s->key[1], &sp.key[1], sizeof(k)) != 0 ||
		    s->nat_port != sp.nat_port) {
			h->st.conflicts++;   /* our own session for the same flow, translated otherwise */
			return NULL;
		}
		/* Known: the peer saw it lately. */
		__atomic_store_n(&s->last_seen, flow_clock(dp->flows), __ATOMIC_RELAXED);
		tcp_sync(s, r);
		h->st.updated++;
		return s;
	}
	pub = rte_be_to_cpu_32(sp.rw[0].src);
	/* Its public port first: a promoted standby must never hand it out again. */
	if (sp.nat_port != 0 && (rc = nat_port_reserve(dp->nat, pub, sp.nat_port)) != 0) {
		if (rc == -EEXIST)
			h->st.conflicts++;   /* another session holds it here */
		else
			h->st.install_failed++;
		return NULL;
	}
	/* Counted for its source host, as session_freed will uncount it. */
	rc = nat_src_take(dp->src_sessions, sp.key[0].src, UINT32_MAX);
	if (rc != 0)
		goto undo_port;
	w = r->owner < dp->n_workers ? r->owner : 0;
	s = nat_session_build(dp->flows, &sp, w);
	if (s == NULL) {
		rc = -ENOSPC;
		goto undo_src;
	}
	tcp_sync(s, r);
	rc = flow_insert(dp->flows, s, w);
	if (rc == 0) {
		h->st.installed++;
		return s;
	}
	flow_release(dp->flows, s, w);
undo_src:
	nat_src_put(dp->src_sessions, sp.key[0].src);
undo_port:
	if (sp.nat_port != 0)
		nat_port_free(dp->nat, pub, sp.nat_port);
	if (rc == -EEXIST)
		h->st.conflicts++;   /* its reply key is another session's */
	else
		h->st.install_failed++;
	return NULL;
}

/* Delete the session of record r, when it is the one the record names. */
static void
apply_del(struct dp *dp, const struct dp_ha_rec *r)
{
	struct flow_session *s = rec_session(dp, r);

	if (s == NULL || s->nat_port != rte_be_to_cpu_16(r->nat_port) ||
	    !dp_ha_syncable(s->flags, s->alg_id))
		return;   /* the ALG's gates go with their call */
	if (flow_delete(dp->flows, s, false) == 0)
		dp->ha->st.deleted++;
}

/* A session the peer saw lately (a PPTP gate): stamped seen, so it does not age out here. */
static void
apply_touch(struct dp *dp, const struct dp_ha_rec *r)
{
	struct flow_session *s = rec_session(dp, r);

	if (s != NULL) {
		__atomic_store_n(&s->last_seen, flow_clock(dp->flows), __ATOMIC_RELAXED);
		dp->ha->st.updated++;
	}
}

/* A PPTP datagram: the control session, and its ALG state when it has one. */
static void
apply_pptp(struct dp *dp, const uint8_t *body, size_t len, uint16_t flags)
{
	const struct dp_ha_rec *r = (const struct dp_ha_rec *)body;
	bool state = flags & HA_F_STATE;
	struct flow_session *s;

	if (len != sizeof(*r) + (state ? sizeof(struct pptp_sync) : 0) || r->type != DP_HA_EV_UPSERT) {
		dp->ha->st.bad++;
		return;
	}
	dp->ha->st.events_recv++;
	s = apply_upsert(dp, r, true);
	if (s == NULL || !state || dp->pptp == NULL)
		return;
	if (pptp_ctrl_import(dp->pptp, s, (const struct pptp_sync *)(r + 1),
			     r->owner < dp->n_workers ? r->owner : 0, flow_clock(dp->flows)) != 0)
		dp->ha->st.install_failed++;
}

/* Sequence number seq of the peer's stream arrived: count a gap. */
static void
rx_seq(struct dp_ha_state *h, uint32_t seq, bool takes)
{
	int32_t d;

	if (!h->rx_synced) {
		h->rx_seq = seq;
		h->rx_synced = true;
		return;
	}
	d = (int32_t)(seq - h->rx_seq);
	if (takes && d == 1) {
		h->rx_seq = seq;
		return;
	}
	if (d > (takes ? 1 : 0)) {
		h->st.gaps += (uint64_t)(d - (takes ? 1 : 0));
		h->gap_seen = true;
		h->rx_seq = seq;
	}
}

/* One datagram of len bytes from from. */
static void
rx_one(struct dp *dp, const uint8_t *buf, size_t len, const struct sockaddr_in *from)
{
	struct dp_ha_state *h = dp->ha;
	const struct ha_hdr *hd = (const struct ha_hdr *)buf;
	unsigned n, i;
	uint32_t epoch;

	/* The peer alone: anything else costs a compare and a counter. */
	if (from->sin_addr.s_addr != htonl(dp->conf.nsrp_peer)) {
		h->st.refused++;
		return;
	}
	if (len < sizeof(*hd) || hd->magic != rte_cpu_to_be_32(HA_MAGIC) || hd->version != HA_VERSION) {
		h->st.bad++;
		return;
	}
	if (hd->cluster != dp->conf.nsrp_cluster) {
		h->st.refused++;
		return;
	}
	n = rte_be_to_cpu_16(hd->count);
	if ((hd->type != HA_MSG_PPTP && len != sizeof(*hd) + (size_t)n * sizeof(struct dp_ha_rec)) ||
	    n > HA_MAX_RECS || hd->role < DP_HA_INIT || hd->role > DP_HA_ACTIVE) {
		h->st.bad++;
		return;
	}
	h->st.msgs_recv++;
	h->peer_heard = true;
	h->last_rx_tsc = rte_get_tsc_cycles();
	h->peer_role = hd->role;
	epoch = rte_be_to_cpu_32(hd->epoch);
	if (epoch != h->peer_epoch) {
		/* The peer (re)started: its stream begins anew, and a standby needs all of it. */
		h->peer_epoch = epoch;
		h->rx_synced = false;
		h->bulk_have = false;
		h->bulk_inflight = false;
	}
	if (hd->role == DP_HA_ACTIVE && h->role == DP_HA_ACTIVE)
		h->st.split_brain++;
	switch (hd->type) {
	case HA_MSG_EVENTS:
		rx_seq(h, rte_be_to_cpu_32(hd->seq), true);
		if (rte_be_to_cpu_16(hd->flags) & HA_F_BULK)
			h->bulk_rx_tsc = h->last_rx_tsc;
		for (i = 0; i < n; i++) {
			const struct dp_ha_rec *r = (const struct dp_ha_rec *)(hd + 1) + i;

			h->st.events_recv++;
			if (r->type == DP_HA_EV_UPSERT)
				(void)apply_upsert(dp, r, false);
			else if (r->type == DP_HA_EV_DEL)
				apply_del(dp, r);
			else if (r->type == DP_HA_EV_TOUCH)
				apply_touch(dp, r);
			else
				h->st.bad++;
		}
		break;
	case HA_MSG_PPTP:
		rx_seq(h, rte_be_to_cpu_32(hd->seq), true);
		if (rte_be_to_cpu_16(hd->flags) & HA_F_BULK)
			h->bulk_rx_tsc = h->last_rx_tsc;
		apply_pptp(dp, (const uint8_t *)(hd + 1), len - sizeof(*hd), rte_be_to_cpu_16(hd->flags));
		break;
	case HA_MSG_BULK_END:
		rx_seq(h, rte_be_to_cpu_32(hd->seq), true);
		h->st.bulk_recv++;
		if (h->bulk_inflight && !h->gap_seen) {
			h->bulk_have = true;
			h->bulk_epoch = epoch;
		}
		h->bulk_inflight = false;
		break;
	case HA_MSG_HELLO:
		rx_seq(h, rte_be_to_cpu_32(hd->seq), false);
		break;
	case HA_MSG_BULK_REQ:
		h->st.bulk_req_recv++;
		if (h->role == DP_HA_ACTIVE) {
			/* From the start again, if one is under way: what it sent is sent again, harmlessly. */
			h->bulk_walk = true;
			h->bulk_cursor = 0;
		}
		break;
	default:
		h->st.bad++;
	}
}

/* Read what the socket holds (bounded). */
static void
rx_all(struct dp *dp)
{
	static uint8_t buf[2048] __rte_aligned(8);
	struct dp_ha_state *h = dp->ha;
	unsigned i;

	for (i = 0; h->fd >= 0 && i < HA_RECV_MAX; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(h->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (len < 0)
			break;
		if (fl != sizeof(from) || from.sin_family != AF_INET) {
			h->st.refused++;
			continue;
		}
		rx_one(dp, buf, (size_t)len, &from);
	}
}

/* Standby: ask for a bulk sync when it has none of this peer, or saw a gap since the last. */
static void
bulk_want(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;
	uint64_t now = rte_get_tsc_cycles();
	bool want = h->role == DP_HA_STANDBY && h->peer_heard && h->peer_role == DP_HA_ACTIVE &&
		    (!h->bulk_have || h->bulk_epoch != h->peer_epoch || h->gap_seen);

	/* Again after 5 s without progress (no part of it arrived), or at most twice a second after a gap. */
	if (!want || now - RTE_MAX(h->bulk_req_tsc, h->bulk_inflight ? h->bulk_rx_tsc : 0) <
			     (h->bulk_inflight ? 5 * dp->hz : dp->hz / 2))
		return;
	h->bulk_req_tsc = now;
	h->bulk_inflight = true;
	h->gap_seen = false;
	send_ctl(dp, HA_MSG_BULK_REQ);
	h->st.bulk_req_sent++;
}

/* ---- gratuitous ARP ---- */

/* Announce every address this box owns: interface addresses, and DIP pool addresses on their interface. */
static void
garp_all(struct dp *dp)
{
	unsigned i, k;

	for (i = 0; i < ROUTE_MAX_IFACES; i++) {
		const struct route_iface *ifc = route_iface_get(dp->rt, i);

		if (ifc == NULL || !ifc->up || !ifc->has_ip || !dp->ports[dp->tx_iface[i]].used)
			continue;
		dp->ha->st.garp_sent += dp_arp_send(dp, (uint8_t)i, ifc->ip, ifc->ip) == 0;
		for (k = 0; k < dp->conf.n_dips && k < CONF_MAX_DIPS; k++) {
			const struct conf_dip *d = &dp->conf.dips[k];
			uint32_t ip;

			if (strcmp(d->iface, ifc->name) != 0)
				continue;
			for (ip = d->low; ip <= d->high && ip != 0; ip++)
				dp->ha->st.garp_sent += dp_arp_send(dp, (uint8_t)i, ip, ip) == 0;
		}
	}
}

/* ---- roles ---- */

int
dp_ha_role_set(struct dp *dp, unsigned role, struct cli_out *out)
{
	struct dp_ha_state *h = dp->ha;
	unsigned old = h->role;

	if (dp->conf.nsrp_cluster == 0) {
		cli_printf(out, "not in an HA pair: set nsrp cluster id first");
		return -1;
	}
	if (role == old)
		return 0;
	h->role = (uint8_t)role;
	h->role_tsc = rte_get_tsc_cycles();
	h->st.role_changes++;
	publish_role(dp);
	DP_LOG(NOTICE, "nsrp: role %s -> %s", dp_ha_role_name(old), dp_ha_role_name(role));
	if (role == DP_HA_ACTIVE) {
		/* Announce our addresses now (the neighbours' caches point at the old active) and twice more. */
		garp_all(dp);
		h->garp_left = 2;
		h->garp_tsc = rte_get_tsc_cycles();
	} else {
		h->garp_left = 0;
		h->bulk_walk = false;
		/* Asked for at once by bulk_want: a box that stood down may have missed a moment. */
		h->bulk_have = false;
		h->bulk_inflight = false;
		h->bulk_req_tsc = 0;
	}
	/* Tell the peer at once. */
	if (h->fd >= 0) {
		send_ctl(dp, HA_MSG_HELLO);
		h->last_hello_tsc = rte_get_tsc_cycles();
	}
	return 0;
}

void
dp_ha_conf_apply(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;

	if (h == NULL)
		return;
	if (dp->conf.nsrp_cluster == 0 && h->role != DP_HA_STANDALONE) {
		h->role = DP_HA_STANDALONE;
		h->st.role_changes++;
	} else if (dp->conf.nsrp_cluster != 0 && h->role == DP_HA_STANDALONE) {
		h->role = DP_HA_INIT;
		h->st.role_changes++;
	}
	publish_role(dp);
}

void
dp_ha_poll(struct dp *dp)
{
	struct dp_ha_state *h = dp->ha;
	uint64_t now = rte_get_tsc_cycles();

	if (h == NULL)
		return;
	if (dp->conf.nsrp_cluster == 0 && h->fd < 0) {
		drain(dp);   /* nothing is queued in a standalone box but what a change left */
		return;
	}
	sock_check(dp);
	rx_all(dp);
	drain(dp);
	if (h->role == DP_HA_ACTIVE && h->fd >= 0)
		walks(dp);
	bulk_want(dp);
	if (h->fd >= 0 && now - h->last_hello_tsc >= dp->hz / 2) {
		h->last_hello_tsc = now;
		send_ctl(dp, HA_MSG_HELLO);
	}
	if (h->garp_left != 0 && now - h->garp_tsc >= dp->hz / 2) {
		h->garp_left--;
		h->garp_tsc = now;
		garp_all(dp);
	}
}

void
dp_ha_stats_get(const struct dp *dp, struct dp_ha_stats *st)
{
	const struct dp_ha_state *h = dp->ha;
	unsigned i;

	memset(st, 0, sizeof(*st));
	if (h == NULL)
		return;
	*st = h->st;
	for (i = 0; i <= dp->n_workers; i++) {
		st->events_lost += __atomic_load_n(&dp->haq[i].lost, __ATOMIC_RELAXED);
		if (dp->haq[i].ring != NULL)
			st->queued += rte_ring_count(dp->haq[i].ring);
	}
	st->role = h->role;
	st->peer_role = h->peer_role;
	st->lag_ms = h->peer_heard ? (rte_get_tsc_cycles() - h->last_rx_tsc) * 1000 / dp->hz : UINT64_MAX;
}

void
dp_ha_show(struct dp *dp, struct cli_out *out)
{
	const struct conf *c = &dp->conf;
	struct dp_ha_state *h = dp->ha;
	struct dp_ha_stats st;
	char a[16], b[16];

	dp_ha_stats_get(dp, &st);
	if (c->nsrp_cluster == 0) {
		cli_printf(out, "NSRP is not configured (set nsrp cluster id N): standalone, forwarding\n");
		return;
	}
	cli_printf(out, "nsrp version: dpnat sync protocol %u\n", HA_VERSION);
	cli_printf(out, "cluster id: %u, role: %s (for %lu s, %lu changes), forwarding: %s\n",
		   c->nsrp_cluster, dp_ha_role_name(st.role),
		   (unsigned long)((rte_get_tsc_cycles() - h->role_tsc) / dp->hz),
		   (unsigned long)st.role_changes, st.role == DP_HA_ACTIVE ? "yes" : "no");
	cli_printf(out, "ha link: local %s, peer %s, sync-port %u, refresh %u s, sync socket %s\n",
		   conf_ip_str(c->nsrp_local, a), conf_ip_str(c->nsrp_peer, b), c->nsrp_port,
		   c->nsrp_refresh, h->fd >= 0 ? "open" : "closed");
	if (st.lag_ms == UINT64_MAX)
		cli_printf(out, "peer: never heard\n");
	else
		cli_printf(out, "peer: role %s, last heard %lu ms ago (lag)\n",
			   dp_ha_role_name(st.peer_role), (unsigned long)st.lag_ms);
	cli_printf(out, "rto sync (sessions):\n");
	cli_printf(out, "  sent:      %lu events in %lu messages, %lu send errors\n",
		   (unsigned long)st.events_sent, (unsigned long)st.msgs_sent,
		   (unsigned long)st.send_errors);
	cli_printf(out, "  received:  %lu events in %lu messages\n", (unsigned long)st.events_recv,
		   (unsigned long)st.msgs_recv);
	cli_printf(out, "  installed: %lu, refreshed %lu, deleted %lu, failed %lu, conflicts %lu\n",
		   (unsigned long)st.installed, (unsigned long)st.updated, (unsigned long)st.deleted,
		   (unsigned long)st.install_failed, (unsigned long)st.conflicts);
	cli_printf(out, "  lost:      %lu events (queue full), %lu messages (sequence gaps)\n",
		   (unsigned long)st.events_lost, (unsigned long)st.gaps);
	cli_printf(out, "  refused:   %lu from a non-peer or another cluster, %lu malformed\n",
		   (unsigned long)st.refused, (unsigned long)st.bad);
	cli_printf(out, "  bulk sync: %lu requested, %lu asked of us, %lu sent, %lu received%s\n",
		   (unsigned long)st.bulk_req_sent, (unsigned long)st.bulk_req_recv,
		   (unsigned long)st.bulk_sent, (unsigned long)st.bulk_recv,
		   h->bulk_walk ? ", sending one now" : h->bulk_inflight ? ", waiting for one" : "");
	cli_printf(out, "  queued:    %lu events unsent (queue %u per lcore, %u lcores)\n",
		   (unsigned long)st.queued, c->nsrp_queue, dp->n_workers + 1);
	cli_printf(out, "split-brain: %lu messages from an active peer while active\n",
		   (unsigned long)st.split_brain);
	cli_printf(out, "gratuitous arp: %lu sent\n", (unsigned long)st.garp_sent);
}
