/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPFIX encoding of NAT event records (ipfix.h): templates and data sets
 * written from tables.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "ipfix.h"

/* Where an element's value comes from in a struct dp_natlog_rec. */
enum ipfix_src {
	SRC_TIME_MS,    /* observation time, UTC milliseconds (8 bytes) */
	SRC_EVENT,      /* the kind's natEvent (1) */
	SRC_PROTO,      /* (1) */
	SRC_SRC, SRC_XSRC, SRC_DST, SRC_XDST,          /* addresses, network order (4) */
	SRC_SPORT, SRC_XSPORT, SRC_DPORT, SRC_XDPORT,  /* ports or Call IDs, network order (2) */
	SRC_QUOTA,      /* the kind's natQuotaExceededEvent (4) */
	SRC_LIMIT,      /* the record's limit (4) */
};

/* One field of a template: element id, its length, 0 or dpnat's enterprise, and its value's source. */
struct ipfix_field {
	uint16_t ie;
	uint16_t len;
	uint32_t pen;
	uint8_t src;
};

struct ipfix_template {
	uint16_t id;
	uint16_t n;
	const struct ipfix_field *f;
};

/* RFC 8158's NAT44 session record, with destinations (section 4.2) and the protocol. */
static const struct ipfix_field nat44_session[] = {
	{ 323, 8, 0, SRC_TIME_MS },   /* observationTimeMilliseconds */
	{ 230, 1, 0, SRC_EVENT },     /* natEvent */
	{ 4, 1, 0, SRC_PROTO },       /* protocolIdentifier */
	{ 8, 4, 0, SRC_SRC },         /* sourceIPv4Address */
	{ 225, 4, 0, SRC_XSRC },      /* postNATSourceIPv4Address */
	{ 12, 4, 0, SRC_DST },        /* destinationIPv4Address */
	{ 226, 4, 0, SRC_XDST },      /* postNATDestinationIPv4Address */
	{ 7, 2, 0, SRC_SPORT },       /* sourceTransportPort */
	{ 227, 2, 0, SRC_XSPORT },    /* postNAPTSourceTransportPort */
	{ 11, 2, 0, SRC_DPORT },      /* destinationTransportPort */
	{ 228, 2, 0, SRC_XDPORT },    /* postNAPTDestinationTransportPort */
};

/* A PPTP call: the addresses as a session's, the three Call IDs in dpnat's own elements. */
static const struct ipfix_field pptp_call[] = {
	{ 323, 8, 0, SRC_TIME_MS },
	{ 230, 1, 0, SRC_EVENT },
	{ 4, 1, 0, SRC_PROTO },       /* 47 */
	{ 8, 4, 0, SRC_SRC },         /* the client */
	{ 225, 4, 0, SRC_XSRC },      /* the public address */
	{ 12, 4, 0, SRC_DST },        /* the server */
	{ IPFIX_IE_PPTP_CLIENT_CALL_ID, 2, IPFIX_PEN_DPNAT, SRC_SPORT },
	{ IPFIX_IE_PPTP_XLATED_CALL_ID, 2, IPFIX_PEN_DPNAT, SRC_XSPORT },
	{ IPFIX_IE_PPTP_PEER_CALL_ID, 2, IPFIX_PEN_DPNAT, SRC_DPORT },
};

/* A new flow refused for want of a public port: who asked, for what (RFC 8158 has the address; dpnat the flow). */
static const struct ipfix_field ports_exhausted[] = {
	{ 323, 8, 0, SRC_TIME_MS },
	{ 230, 1, 0, SRC_EVENT },     /* 12 */
	{ 4, 1, 0, SRC_PROTO },
	{ 8, 4, 0, SRC_SRC },
	{ 12, 4, 0, SRC_DST },
	{ 7, 2, 0, SRC_SPORT },
	{ 11, 2, 0, SRC_DPORT },
};

/* A source host at its session limit (RFC 8158 section 4.4.6: maximum entries per user). */
static const struct ipfix_field quota_exceeded[] = {
	{ 323, 8, 0, SRC_TIME_MS },
	{ 230, 1, 0, SRC_EVENT },     /* 13 */
	{ 466, 4, 0, SRC_QUOTA },     /* natQuotaExceededEvent */
	{ 473, 4, 0, SRC_LIMIT },     /* maxEntriesPerUser */
	{ 8, 4, 0, SRC_SRC },
};

/* A port block (RFC 8158 section 4.2, port block allocation): the subscriber, its public address and ports. */
static const struct ipfix_field port_block[] = {
	{ 323, 8, 0, SRC_TIME_MS },
	{ 230, 1, 0, SRC_EVENT },     /* 16, 17 */
	{ 8, 4, 0, SRC_SRC },         /* the subscriber */
	{ 225, 4, 0, SRC_XSRC },      /* its public address */
	{ 361, 2, 0, SRC_XSPORT },    /* portRangeStart */
	{ 362, 2, 0, SRC_XDPORT },    /* portRangeEnd */
};

static const struct ipfix_template templates[] = {
	{ IPFIX_TMPL_NAT44_SESSION, RTE_DIM(nat44_session), nat44_session },
	{ IPFIX_TMPL_PPTP_CALL, RTE_DIM(pptp_call), pptp_call },
	{ IPFIX_TMPL_PORTS_EXHAUSTED, RTE_DIM(ports_exhausted), ports_exhausted },
	{ IPFIX_TMPL_QUOTA_EXCEEDED, RTE_DIM(quota_exceeded), quota_exceeded },
	{ IPFIX_TMPL_PORT_BLOCK, RTE_DIM(port_block), port_block },
};

/*
 * What each record type becomes: its template (index in templates[]), its
 * natEvent and natQuotaExceededEvent. event 0: no template, not sent.
 */
static const struct ipfix_kind {
	uint8_t tmpl;
	uint8_t event;
	uint8_t quota;
} kinds[] = {
	[DP_NATLOG_SESS_NEW] = { 0, IPFIX_NAT44_SESSION_CREATE, 0 },
	[DP_NATLOG_SESS_DEL] = { 0, IPFIX_NAT44_SESSION_DELETE, 0 },
	[DP_NATLOG_CALL_NEW] = { 1, IPFIX_NAT44_SESSION_CREATE, 0 },
	[DP_NATLOG_CALL_DEL] = { 1, IPFIX_NAT44_SESSION_DELETE, 0 },
	[DP_NATLOG_PORTS_EXHAUSTED] = { 2, IPFIX_NAT_PORTS_EXHAUSTED, 0 },
	/* Every subscriber limit (sessions, ports, blocks, deterministic range, PPTP calls) is one per user. */
	[DP_NATLOG_QUOTA] = { 3, IPFIX_NAT_QUOTA_EXCEEDED, IPFIX_QUOTA_MAX_ENTRIES_PER_USER },
	/* An interim record re-logs a block still held as taken (RFC 8158 has no interim event). */
	[DP_NATLOG_PBA_ALLOC] = { 4, IPFIX_NAT_PORT_BLOCK_ALLOC, 0 },
	[DP_NATLOG_PBA_RELEASE] = { 4, IPFIX_NAT_PORT_BLOCK_DEALLOC, 0 },
	[DP_NATLOG_PBA_INTERIM] = { 4, IPFIX_NAT_PORT_BLOCK_ALLOC, 0 },
};

static const struct ipfix_template *
kind_template(unsigned type)
{
	if (type >= RTE_DIM(kinds) || kinds[type].event == 0)
		return NULL;
	return &templates[kinds[type].tmpl];
}

/* A template's data record length (the sum of its fields'). */
static size_t
template_len(const struct ipfix_template *t)
{
	size_t len = 0;
	unsigned i;

	for (i = 0; i < t->n; i++)
		len += t->f[i].len;
	return len;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
header(uint8_t *buf, size_t len, uint32_t export_time, uint32_t seq, uint32_t domain)
{
	put16(buf, IPFIX_VERSION);
	put16(buf + 2, (uint16_t)len);
	put32(buf + 4, export_time);
	put32(buf + 8, seq);
	put32(buf + 12, domain);
}

size_t
ipfix_record_len(unsigned type)
{
	const struct ipfix_template *t = kind_template(type);

	return t != NULL ? template_len(t) : 0;
}

size_t
ipfix_templates(uint8_t *buf, size_t cap, uint32_t export_time, uint32_t seq, uint32_t domain)
{
	size_t len = IPFIX_HDR_LEN + IPFIX_SET_HDR_LEN, need = len;
	unsigned i, k;

	for (i = 0; i < RTE_DIM(templates); i++) {
		need += 4;
		for (k = 0; k < templates[i].n; k++)
			need += templates[i].f[k].pen != 0 ? 8 : 4;
	}
	if (need > cap || need > UINT16_MAX)
		return 0;
	for (i = 0; i < RTE_DIM(templates); i++) {
		const struct ipfix_template *t = &templates[i];

		put16(buf + len, t->id);
		put16(buf + len + 2, t->n);
		len += 4;
		for (k = 0; k < t->n; k++) {
			put16(buf + len, (uint16_t)(t->f[k].ie | (t->f[k].pen != 0 ? 0x8000 : 0)));
			put16(buf + len + 2, t->f[k].len);
			len += 4;
			if (t->f[k].pen != 0) {
				put32(buf + len, t->f[k].pen);
				len += 4;
			}
		}
	}
	put16(buf + IPFIX_HDR_LEN, IPFIX_SET_TEMPLATE);
	put16(buf + IPFIX_HDR_LEN + 2, (uint16_t)(len - IPFIX_HDR_LEN));
	header(buf, len, export_time, seq, domain);
	return len;
}

/*
 * The record's event time in UTC milliseconds: the drain's, less the TSC
 * ticks since the event (ms_tick: milliseconds a tick, no division per record).
 */
static uint64_t
rec_ms(const struct ipfix_clock *clk, double ms_tick, uint64_t tsc)
{
	uint64_t back;

	if (ms_tick == 0 || tsc == 0 || tsc >= clk->now_tsc)
		return clk->now_ms;
	back = (uint64_t)((double)(clk->now_tsc - tsc) * ms_tick + 0.5);
	return back < clk->now_ms ? clk->now_ms - back : 0;
}

/* Write one data record of template t for r at p. */
static void
put_record(uint8_t *p, const struct ipfix_template *t, const struct ipfix_kind *k,
	   const struct dp_natlog_rec *r, const struct ipfix_clock *clk, double ms_tick)
{
	unsigned i;

	for (i = 0; i < t->n; i++) {
		const struct ipfix_field *f = &t->f[i];

		switch (f->src) {
		case SRC_TIME_MS: {
			uint64_t ms = rec_ms(clk, ms_tick, r->tsc);

			put32(p, (uint32_t)(ms >> 32));
			put32(p + 4, (uint32_t)ms);
			break;
		}
		case SRC_EVENT: *p = k->event; break;
		case SRC_PROTO: *p = r->proto; break;
		/* Addresses and ports are kept in network order: copied as they are. */
		case SRC_SRC: memcpy(p, &r->src, 4); break;
		case SRC_XSRC: memcpy(p, &r->xsrc, 4); break;
		case SRC_DST: memcpy(p, &r->dst, 4); break;
		case SRC_XDST: memcpy(p, &r->xdst, 4); break;
		case SRC_SPORT: memcpy(p, &r->sport, 2); break;
		case SRC_XSPORT: memcpy(p, &r->xsport, 2); break;
		case SRC_DPORT: memcpy(p, &r->dport, 2); break;
		case SRC_XDPORT: memcpy(p, &r->xdport, 2); break;
		case SRC_QUOTA: put32(p, k->quota); break;
		case SRC_LIMIT: put32(p, r->limit); break;
		default: memset(p, 0, f->len); break;
		}
		p += f->len;
	}
}

size_t
ipfix_encode(uint8_t *buf, size_t cap, const struct dp_natlog_rec *recs, unsigned n,
	     const struct ipfix_clock *clk, uint32_t export_time, uint32_t seq, uint32_t domain,
	     unsigned *used, uint8_t *encoded, unsigned *n_encoded)
{
	const struct ipfix_template *cur = NULL;
	size_t len = IPFIX_HDR_LEN, set = 0, rl = 0;
	double ms_tick = clk->hz != 0 ? 1000.0 / (double)clk->hz : 0;
	unsigned i;

	*n_encoded = 0;
	for (i = 0; i < n; i++) {
		const struct ipfix_template *t = kind_template(recs[i].type);

		encoded[i] = 0;
		if (t == NULL)
			continue;       /* consumed, not encoded */
		if (t != cur) {
			rl = template_len(t);
			if (len + IPFIX_SET_HDR_LEN + rl > cap)
				break;
			if (cur != NULL)
				put16(buf + set + 2, (uint16_t)(len - set));
			set = len;
			put16(buf + set, t->id);
			len += IPFIX_SET_HDR_LEN;
			cur = t;
		} else if (len + rl > cap) {
			break;
		}
		put_record(buf + len, t, &kinds[recs[i].type], &recs[i], clk, ms_tick);
		len += rl;
		encoded[i] = 1;
		(*n_encoded)++;
	}
	*used = i;
	if (cur == NULL)
		return 0;
	put16(buf + set + 2, (uint16_t)(len - set));
	header(buf, len, export_time, seq, domain);
	return len;
}

void
ipfix_set_seq(uint8_t *msg, uint32_t seq)
{
	put32(msg + 8, seq);
}
