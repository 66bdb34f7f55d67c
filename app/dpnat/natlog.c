/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT event log (dp_natlog.h): per-lcore single-producer rings of fixed-size
 * records, drained by the control lcore.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "cli.h"
#include "dp.h"
#include "dp_natlog.h"
#include "ipfix.h"
#include "pkt_drop.h"
#include "pptp.h"

int
dp_natlog_create(struct dp *dp, char *err, size_t errlen)
{
	unsigned i;

	RTE_BUILD_BUG_ON(sizeof(struct dp_natlog_rec) != 64);
	dp->natlog_fd = -1;
	for (i = 0; i <= dp->n_workers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dpnat_natlog%u", i);
		dp->natlog[i].ring = rte_ring_create_elem(name, sizeof(struct dp_natlog_rec),
							  dp->conf.log_nat_queue,
							  rte_socket_id(),
							  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (dp->natlog[i].ring == NULL) {
			snprintf(err, errlen, "cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

void
dp_natlog_free(struct dp *dp)
{
	unsigned i;

	for (i = 0; i <= dp->n_workers && i <= DP_MAX_WORKERS; i++) {
		rte_ring_free(dp->natlog[i].ring);
		dp->natlog[i].ring = NULL;
	}
	if (dp->natlog_fd > 0)
		close(dp->natlog_fd);
	dp->natlog_fd = -1;
}

/* Why s ends, in ScreenOS's words: its TCP state, or its idle time spent. */
static uint8_t
close_reason(struct dp *dp, const struct flow_session *s)
{
	if (s->proto == IPPROTO_TCP && (s->tcp & FLOW_TCP_RST))
		return DP_NATLOG_CLOSE_RST;
	if (s->proto == IPPROTO_TCP && (s->tcp & (FLOW_TCP_FIN0 | FLOW_TCP_FIN1)))
		return DP_NATLOG_CLOSE_FIN;
	return flow_time_left(dp->flows, s) == 0 ? DP_NATLOG_CLOSE_AGE : DP_NATLOG_CLOSE_OTHER;
}

/* Queue r on lcore queue lq, counted. */
static void
rec_queue(struct dp_natlog_q *lq, const struct dp_natlog_rec *r)
{
	lq->created++;
	if (lq->ring == NULL || rte_ring_sp_enqueue_elem(lq->ring, (void *)(uintptr_t)r, sizeof(*r)) != 0)
		lq->lost++;
}

void
dp_natlog_session(struct dp *dp, unsigned q, const struct flow_session *s, unsigned type)
{
	struct dp_natlog_q *lq = &dp->natlog[q];
	struct dp_natlog_rec r;

	memset(&r, 0, sizeof(r));
	r.type = (uint8_t)type;
	r.proto = s->proto;
	r.in_iface = s->iface[0];
	r.out_iface = s->out_iface[0];
	r.policy_id = s->policy_id;
	r.nat_port = s->nat_port;
	r.session_id = s->id;
	r.created = s->created;
	r.time = type == DP_NATLOG_SESS_NEW ? s->created : flow_clock(dp->flows);
	r.src = s->key[0].src;
	r.dst = s->key[0].dst;
	r.sport = s->key[0].sport;
	r.dport = s->key[0].dport;
	r.xsrc = s->rw[0].src;
	r.xdst = s->rw[0].dst;
	r.xsport = s->rw[0].sport;
	r.xdport = s->rw[0].dport;
	r.tsc = rte_rdtsc();
	if (type == DP_NATLOG_SESS_DEL)
		r.reason = close_reason(dp, s);
	rec_queue(lq, &r);
}

void
dp_natlog_refusal(struct dp *dp, unsigned q, unsigned why, uint8_t proto, rte_be32_t src, rte_be32_t dst,
		  rte_be16_t sport, rte_be16_t dport, uint32_t limit)
{
	struct dp_natlog_q *lq = &dp->natlog[q];
	unsigned kind = why == PKT_DROP_NAT_NO_PORT ? 0 : DP_NATLOG_REFUSALS;
	uint32_t now = flow_clock(dp->flows) + 1;
	struct dp_natlog_rec r;

	/* Refusals can come at line rate: one record a second of each kind, the drop counters count all. */
	if (kind >= DP_NATLOG_REFUSALS || lq->refused_at[kind] == now)
		return;
	lq->refused_at[kind] = now;
	memset(&r, 0, sizeof(r));
	r.type = DP_NATLOG_PORTS_EXHAUSTED;
	r.proto = proto;
	r.time = now - 1;
	r.created = r.time;
	r.tsc = rte_rdtsc();
	r.src = src;
	r.dst = dst;
	r.sport = sport;
	r.dport = dport;
	r.limit = limit;
	lq->created++;
	if (lq->ring == NULL || rte_ring_sp_enqueue_elem(lq->ring, &r, sizeof(r)) != 0)
		lq->lost++;
}

/* A zone's name for an interface index, "" when it has none. */
static const char *
zone_of(const struct dp *dp, uint8_t ifx)
{
	const struct route_iface *ifc = route_iface_get(dp->rt, ifx);

	return ifc != NULL ? route_zone_name(dp->rt, ifc->zone_id) : "";
}

/* A network-order address as text (conf_ip_str takes host order). */
static const char *
ip_str(rte_be32_t ip, char *buf)
{
	return conf_ip_str(rte_be_to_cpu_32(ip), buf);
}

/*
 * One RFC 5424 message (facility local0, severity notice) whose MSG is
 * ScreenOS's traffic log line (system-notification-00257). wall is the
 * wall-clock second of the flow clock's now. Returns its length.
 */
static int
syslog_format(struct dp *dp, const struct dp_natlog_rec *r, time_t wall, uint32_t now,
	      const char *host, char *buf, size_t len)
{
	static const char *const reasons[] = {
		[DP_NATLOG_CLOSE_OTHER] = "Close - OTHER",
		[DP_NATLOG_CLOSE_AGE] = "Close - AGE OUT",
		[DP_NATLOG_CLOSE_FIN] = "Close - TCP FIN",
		[DP_NATLOG_CLOSE_RST] = "Close - TCP RST",
	};
	static const char *const quotas[] = {
		[DP_NATLOG_Q_SESSIONS] = "sessions",
		[DP_NATLOG_Q_PORTS] = "ports",
		[DP_NATLOG_Q_BLOCKS] = "port-blocks",
		[DP_NATLOG_Q_DET_RANGE] = "deterministic-ports",
		[DP_NATLOG_Q_PPTP_CALLS] = "pptp-calls",
	};
	time_t ev = wall - (time_t)(now - RTE_MIN(r->time, now));
	time_t st = wall - (time_t)(now - RTE_MIN(r->created, now));
	char ts[32], start[32], a[4][16], svc[24];
	struct tm tm;
	bool new = r->type == DP_NATLOG_SESS_NEW;

	gmtime_r(&ev, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (r->type == DP_NATLOG_PORTS_EXHAUSTED)
		/* dpnat's own line for a refused flow (at most one a second). */
		return snprintf(buf, len,
			"<132>1 %s %s dpnat %d nat-event - NetScreen device_id=%s [Root]dpnat-nat-event: "
			"event=%s src=%s dst=%s proto=%u src_port=%u dst_port=%u limit=%u",
			ts, host, (int)getpid(), host,
			"ports-exhausted",
			ip_str(r->src, a[0]), ip_str(r->dst, a[1]), r->proto, rte_be_to_cpu_16(r->sport),
			rte_be_to_cpu_16(r->dport), r->limit);
	if (r->type == DP_NATLOG_CALL_NEW || r->type == DP_NATLOG_CALL_DEL)
		/* ScreenOS logs no PPTP call: dpnat's own line, in the traffic log's key=value style. */
		return snprintf(buf, len,
			"<133>1 %s %s dpnat %d pptp-call - NetScreen device_id=%s [Root]dpnat-pptp-call: "
			"src=%s dst=%s call_id=%u peer_call_id=%u src-xlated ip=%s call_id=%u "
			"control_session_id=%u reason=%s",
			ts, host, (int)getpid(), host, ip_str(r->src, a[0]), ip_str(r->dst, a[1]),
			rte_be_to_cpu_16(r->sport), rte_be_to_cpu_16(r->dport), ip_str(r->xsrc, a[2]),
			rte_be_to_cpu_16(r->xsport), r->session_id,
			r->type == DP_NATLOG_CALL_NEW ? "Creation" : "Close");
	if (r->type >= DP_NATLOG_PBA_ALLOC && r->type <= DP_NATLOG_PBA_INTERIM)
		/* Neither does it log port blocks: dpnat's line, the fields of Junos's PBA log. */
		return snprintf(buf, len,
			"<133>1 %s %s dpnat %d port-block - NetScreen device_id=%s [Root]dpnat-port-block: "
			"src=%s src-xlated ip=%s port-start=%u port-end=%u reason=%s",
			ts, host, (int)getpid(), host, ip_str(r->src, a[0]), ip_str(r->xsrc, a[1]),
			rte_be_to_cpu_16(r->xsport), rte_be_to_cpu_16(r->xdport),
			r->type == DP_NATLOG_PBA_ALLOC ? "Allocate" :
			r->type == DP_NATLOG_PBA_RELEASE ? "Release" : "Interim");
	if (r->type == DP_NATLOG_QUOTA)
		return snprintf(buf, len,
			"<132>1 %s %s dpnat %d quota - NetScreen device_id=%s [Root]dpnat-quota: "
			"src=%s quota=%s limit=%u reason=Exceeded",
			ts, host, (int)getpid(), host, ip_str(r->src, a[0]),
			r->quota < RTE_DIM(quotas) && quotas[r->quota] != NULL ? quotas[r->quota] : "other",
			r->limit);
	gmtime_r(&st, &tm);
	strftime(start, sizeof(start), "%Y-%m-%d %H:%M:%S", &tm);
	if (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP)
		snprintf(svc, sizeof(svc), "%s/port:%u", r->proto == IPPROTO_TCP ? "tcp" : "udp",
			 rte_be_to_cpu_16(r->dport));
	else
		snprintf(svc, sizeof(svc), "%s", r->proto == IPPROTO_ICMP ? "icmp" :
			 r->proto == IPPROTO_GRE ? "gre" : "other");
	return snprintf(buf, len,
		"<133>1 %s %s dpnat %d traffic - NetScreen device_id=%s "
		"[Root]system-notification-00257(traffic): start_time=\"%s\" duration=%u "
		"policy_id=%u service=%s proto=%u src zone=%s dst zone=%s action=Permit sent=0 rcvd=0 "
		"src=%s dst=%s src_port=%u dst_port=%u src-xlated ip=%s port=%u "
		"dst-xlated ip=%s port=%u session_id=%u reason=%s",
		ts, host, (int)getpid(), host, start, new ? 0u : r->time - RTE_MIN(r->created, r->time),
		r->policy_id, svc, r->proto, zone_of(dp, r->in_iface), zone_of(dp, r->out_iface),
		ip_str(r->src, a[0]), ip_str(r->dst, a[1]), rte_be_to_cpu_16(r->sport),
		rte_be_to_cpu_16(r->dport), ip_str(r->xsrc, a[2]), rte_be_to_cpu_16(r->xsport),
		ip_str(r->xdst, a[3]), rte_be_to_cpu_16(r->xdport), r->session_id,
		new ? "Creation" : reasons[r->reason < RTE_DIM(reasons) ? r->reason : 0]);
}

/* The socket syslog and IPFIX send from, made when first needed. -1 if none. */
static int
natlog_socket(struct dp *dp)
{
	if (dp->natlog_fd < 0)
		dp->natlog_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return dp->natlog_fd;
}

/* Send len bytes of msg to a collector. true if the socket took it. */
static bool
send_to(struct dp *dp, const void *msg, size_t len, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(ip),
	};
	int fd = natlog_socket(dp);

	return fd >= 0 && sendto(fd, msg, len, 0, (const struct sockaddr *)&sa, sizeof(sa)) >= 0;
}

/* Send n records to every syslog collector; took[i] = 1 when a collector took recs[i]. */
static void
syslog_send(struct dp *dp, const struct dp_natlog_rec *recs, unsigned n, uint8_t *took)
{
	const struct conf *c = &dp->conf;
	char host[64], msg[768];
	time_t wall = time(NULL);
	uint32_t now = flow_clock(dp->flows);
	unsigned i, k;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "dpnat");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; i < n; i++) {
		int len = syslog_format(dp, &recs[i], wall, now, host, msg, sizeof(msg));

		for (k = 0; k < c->n_syslog && k < CONF_MAX_SYSLOG; k++) {
			if (len > 0 && send_to(dp, msg, RTE_MIN((size_t)len, sizeof(msg) - 1),
					       c->syslog[k].ip, c->syslog[k].port)) {
				dp->natlog_syslog_sent++;
				took[i] = 1;
			} else {
				dp->natlog_syslog_errors++;
			}
		}
	}
}

/* Seconds of a clock: CLOCK_MONOTONIC for template refresh, CLOCK_REALTIME (ms) for records. */
static uint64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The IPFIX collectors as configured now: a collector kept keeps its
 * sequence and template state, a new one starts at 0 with templates due;
 * with IPFIX off every template is due again for when it is turned on.
 */
static void
ipfix_sync(struct dp *dp)
{
	struct dp_natlog_ipfix *x = &dp->natlog_ipfix;
	struct dp_ipfix_coll old[CONF_MAX_IPFIX];
	unsigned i, k, n = RTE_MIN(dp->conf.n_ipfix, (unsigned)CONF_MAX_IPFIX);

	memcpy(old, x->coll, sizeof(old));
	for (i = 0; i < n; i++) {
		const struct conf_collector *cc = &dp->conf.ipfix[i];

		for (k = 0; k < x->n && (old[k].ip != cc->ip || old[k].port != cc->port); k++)
			;
		if (k < x->n) {
			x->coll[i] = old[k];
		} else {
			memset(&x->coll[i], 0, sizeof(x->coll[i]));
			x->coll[i].ip = cc->ip;
			x->coll[i].port = cc->port;
		}
		if (!dp->conf.ipfix_on)
			x->coll[i].tmpl_at = 0;
	}
	x->n = n;
}

/* The templates to every collector whose refresh is due (RFC 7011 section 8.1: UDP needs them again). */
static void
ipfix_templates_due(struct dp *dp)
{
	struct dp_natlog_ipfix *x = &dp->natlog_ipfix;
	uint64_t mono = clock_ms(CLOCK_MONOTONIC) / 1000 + 1;   /* never 0: 0 is "never sent" */
	uint32_t wall = (uint32_t)(clock_ms(CLOCK_REALTIME) / 1000);
	uint8_t msg[512];
	unsigned k;

	for (k = 0; k < x->n; k++) {
		struct dp_ipfix_coll *co = &x->coll[k];
		size_t len;

		if ((co->tmpl_at != 0 && mono - co->tmpl_at < dp->conf.ipfix_refresh) || co->tmpl_failed_at == mono)
			continue;
		len = ipfix_templates(msg, sizeof(msg), wall, co->seq, DP_IPFIX_DOMAIN);
		if (len != 0 && send_to(dp, msg, len, co->ip, co->port)) {
			co->tmpl_at = mono;
			co->templates++;
			co->msgs++;
		} else {
			co->tmpl_failed_at = mono;   /* tried again in the next second */
			co->errors++;
		}
	}
}

/*
 * Send n records as IPFIX data messages of at most the configured MTU to
 * every collector; took[i] = 1 when a collector took recs[i]. Returns how
 * many were taken. Every collector's sequence advances by the records of
 * each message whether or not it took it: a gap is how a collector sees a
 * loss.
 */
static unsigned
ipfix_send(struct dp *dp, const struct dp_natlog_rec *recs, unsigned n, uint8_t *took)
{
	struct dp_natlog_ipfix *x = &dp->natlog_ipfix;
	struct ipfix_clock clk = { clock_ms(CLOCK_REALTIME), rte_rdtsc(), dp->hz };
	size_t cap = RTE_MIN((size_t)dp->conf.ipfix_mtu, (size_t)CONF_MTU_MAX) - IPFIX_UDP_IP_HDR;
	uint8_t msg[CONF_MTU_MAX], enc[DP_NATLOG_BATCH];
	unsigned i = 0, used, k, nrec, taken = 0;

	while (i < n) {
		size_t len = ipfix_encode(msg, cap, recs + i, n - i, &clk, (uint32_t)(clk.now_ms / 1000), 0,
					  DP_IPFIX_DOMAIN, &used, enc, &nrec);
		bool ok = false;

		for (k = 0; len != 0 && k < x->n; k++) {
			struct dp_ipfix_coll *co = &x->coll[k];

			ipfix_set_seq(msg, co->seq);
			if (send_to(dp, msg, len, co->ip, co->port)) {
				co->msgs++;
				ok = true;
			} else {
				co->errors++;
			}
			co->seq += nrec;
		}
		for (k = 0; ok && k < used; k++) {
			took[i + k] |= enc[k];
			taken += enc[k];
		}
		if (used == 0)
			break;
		i += used;
	}
	return taken;
}

/* The queue of the calling lcore: its worker's, else the control lcore's. */
static unsigned
lcore_queue(const struct dp *dp)
{
	unsigned lc = rte_lcore_id(), i;

	for (i = 0; i < dp->n_workers; i++)
		if (dp->workers[i].lcore == lc)
			return i;
	return dp->n_workers;
}

void
dp_natlog_pptp_call(void *arg, const struct pptp_xlate_info *xi, bool open)
{
	struct dp *dp = arg;
	const struct dp_runtime *rt = dp_runtime_get(dp);
	struct dp_natlog_q *lq;
	struct dp_natlog_rec r;

	if (rt == NULL || !rt->log_nat)
		return;
	lq = &dp->natlog[lcore_queue(dp)];
	memset(&r, 0, sizeof(r));
	r.type = open ? DP_NATLOG_CALL_NEW : DP_NATLOG_CALL_DEL;
	r.proto = IPPROTO_GRE;
	r.session_id = xi->ctrl_sess_id;
	r.time = flow_clock(dp->flows);
	r.created = r.time;
	r.tsc = rte_rdtsc();
	r.src = rte_cpu_to_be_32(xi->inside_ip);
	r.dst = rte_cpu_to_be_32(xi->server_ip);
	r.xsrc = rte_cpu_to_be_32(xi->public_ip);
	r.xdst = r.dst;
	r.sport = rte_cpu_to_be_16(xi->inside_cid);
	r.dport = rte_cpu_to_be_16(xi->server_cid);
	r.xsport = rte_cpu_to_be_16(xi->xlated_cid);
	r.xdport = r.dport;
	rec_queue(lq, &r);
}

void
dp_natlog_pba(void *arg, unsigned event, rte_be32_t src, uint32_t pub, uint16_t first,
	      uint16_t last)
{
	static const uint8_t types[] = {
		[NAT_PBA_ALLOC] = DP_NATLOG_PBA_ALLOC,
		[NAT_PBA_RELEASE] = DP_NATLOG_PBA_RELEASE,
		[NAT_PBA_INTERIM] = DP_NATLOG_PBA_INTERIM,
	};
	struct dp *dp = arg;
	const struct dp_runtime *rt = dp_runtime_get(dp);
	struct dp_natlog_rec r;

	if (rt == NULL || !rt->log_nat || event >= RTE_DIM(types))
		return;
	memset(&r, 0, sizeof(r));
	r.type = types[event];
	r.time = flow_clock(dp->flows);
	r.created = r.time;
	r.tsc = rte_rdtsc();
	r.src = src;
	r.xsrc = rte_cpu_to_be_32(pub);
	r.xsport = rte_cpu_to_be_16(first);
	r.xdport = rte_cpu_to_be_16(last);
	rec_queue(&dp->natlog[lcore_queue(dp)], &r);
}

void
dp_natlog_pptp_quota(void *arg, rte_be32_t client, uint32_t limit)
{
	struct dp *dp = arg;
	const struct dp_runtime *rt = dp_runtime_get(dp);

	if (rt != NULL && rt->log_nat)
		dp_natlog_quota(dp, lcore_queue(dp), client, DP_NATLOG_Q_PPTP_CALLS, limit);
}

void
dp_natlog_quota(struct dp *dp, unsigned q, rte_be32_t src, unsigned quota, uint32_t limit)
{
	struct dp_natlog_q *lq = &dp->natlog[q];
	struct dp_natlog_rec r;
	uint32_t now = flow_clock(dp->flows);

	/* A host hammering at its limit would fill the log: one record a second per lcore. */
	if (lq->quota_sec == now + 1) {
		lq->quota_held++;
		return;
	}
	lq->quota_sec = now + 1;
	memset(&r, 0, sizeof(r));
	r.type = DP_NATLOG_QUOTA;
	r.time = now;
	r.created = now;
	r.tsc = rte_rdtsc();
	r.src = src;
	r.quota = (uint8_t)quota;
	r.limit = limit;
	rec_queue(lq, &r);
}

/*
 * n drained records to every transport that is on: sent when one collector
 * of either took it, lost when none did. With no transport on a drained
 * record counts as sent (to nowhere).
 */
static void
natlog_send(struct dp *dp, const struct dp_natlog_rec *recs, unsigned n)
{
	const struct conf *c = &dp->conf;
	bool sys = c->syslog_on && c->n_syslog != 0, ipfix = c->ipfix_on && dp->natlog_ipfix.n != 0;
	uint8_t took[DP_NATLOG_BATCH];
	unsigned i, sent = 0;

	if (!sys && !ipfix) {
		dp->natlog_sent += n;
		return;
	}
	memset(took, 0, n);
	if (sys)
		syslog_send(dp, recs, n, took);
	if (ipfix) {
		unsigned t = ipfix_send(dp, recs, n, took);

		dp->natlog_ipfix.records_sent += t;
		dp->natlog_ipfix.records_lost += n - t;
	}
	for (i = 0; i < n; i++)
		sent += took[i];
	dp->natlog_sent += sent;
	dp->natlog_send_lost += n - sent;
}

unsigned
dp_natlog_drain(struct dp *dp)
{
	struct dp_natlog_rec recs[DP_NATLOG_BATCH];
	unsigned i, n, total = 0;

	ipfix_sync(dp);
	if (dp->conf.ipfix_on)
		ipfix_templates_due(dp);

	for (i = 0; i <= dp->n_workers; i++) {
		if (dp->natlog[i].ring == NULL)
			continue;
		/* At most one ring's worth a call: a producer faster than that loses, and counts it. */
		for (;;) {
			n = rte_ring_sc_dequeue_burst_elem(dp->natlog[i].ring, recs, sizeof(recs[0]),
							   RTE_DIM(recs), NULL);
			if (n == 0)
				break;
			natlog_send(dp, recs, n);
			total += n;
			if (total >= dp->conf.log_nat_queue * (dp->n_workers + 1u))
				return total;
		}
	}
	return total;
}

void
dp_natlog_stats_get(const struct dp *dp, struct dp_natlog_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i <= dp->n_workers; i++) {
		st->created += __atomic_load_n(&dp->natlog[i].created, __ATOMIC_RELAXED);
		st->lost += __atomic_load_n(&dp->natlog[i].lost, __ATOMIC_RELAXED);
		st->quota_held += __atomic_load_n(&dp->natlog[i].quota_held, __ATOMIC_RELAXED);
		if (dp->natlog[i].ring != NULL)
			st->queued += rte_ring_count(dp->natlog[i].ring);
	}
	st->sent = dp->natlog_sent;
	st->lost += dp->natlog_send_lost;
	st->syslog_sent = dp->natlog_syslog_sent;
	st->syslog_errors = dp->natlog_syslog_errors;
	st->ipfix_records_sent = dp->natlog_ipfix.records_sent;
	st->ipfix_records_lost = dp->natlog_ipfix.records_lost;
	for (i = 0; i < dp->natlog_ipfix.n; i++) {
		st->ipfix_msgs += dp->natlog_ipfix.coll[i].msgs;
		st->ipfix_templates += dp->natlog_ipfix.coll[i].templates;
		st->ipfix_errors += dp->natlog_ipfix.coll[i].errors;
	}
	st->queue_size = dp->conf.log_nat_queue;
}

void
dp_natlog_show(struct dp *dp, struct cli_out *out)
{
	struct dp_natlog_stats st;
	unsigned i;

	dp_natlog_stats_get(dp, &st);
	cli_printf(out, "NAT event log: %s, queue %u records per lcore (%u lcores)\n",
		   dp->conf.log_nat ? "enabled" : "disabled", st.queue_size, dp->n_workers + 1);
	cli_printf(out, "  records created: %lu\n", (unsigned long)st.created);
	cli_printf(out, "  records sent:    %lu\n", (unsigned long)st.sent);
	cli_printf(out, "  records lost:    %lu (queue full, or no collector took it)\n",
		   (unsigned long)st.lost);
	cli_printf(out, "  records queued:  %lu\n", (unsigned long)st.queued);
	cli_printf(out, "  quota records held back: %lu (one a second per lcore)\n",
		   (unsigned long)st.quota_held);
	cli_printf(out, "syslog: %s, %u collectors, %lu messages sent, %lu send errors\n",
		   dp->conf.syslog_on ? "enabled" : "disabled", dp->conf.n_syslog,
		   (unsigned long)st.syslog_sent, (unsigned long)st.syslog_errors);
	cli_printf(out, "IPFIX: %s, %u collectors, template refresh %u s, mtu %u, observation domain %u\n",
		   dp->conf.ipfix_on ? "enabled" : "disabled", dp->natlog_ipfix.n, dp->conf.ipfix_refresh,
		   dp->conf.ipfix_mtu, DP_IPFIX_DOMAIN);
	cli_printf(out, "  records sent %lu, records lost %lu, messages sent %lu (templates %lu), send errors %lu\n",
		   (unsigned long)st.ipfix_records_sent, (unsigned long)st.ipfix_records_lost,
		   (unsigned long)st.ipfix_msgs, (unsigned long)st.ipfix_templates, (unsigned long)st.ipfix_errors);
	for (i = 0; i < dp->natlog_ipfix.n; i++) {
		const struct dp_ipfix_coll *co = &dp->natlog_ipfix.coll[i];
		char a[16];

		cli_printf(out, "  collector %s port %u: sequence %u, messages %lu (templates %lu), send errors %lu\n",
			   conf_ip_str(co->ip, a), co->port, co->seq, (unsigned long)co->msgs,
			   (unsigned long)co->templates, (unsigned long)co->errors);
	}
}
