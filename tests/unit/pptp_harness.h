/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP unit tests' common harness: an EAL-backed flow table whose free
 * callback feeds the ALG, real Ethernet/IPv4/TCP frames, a TCP-like sender
 * and receiver per direction with checksum checks on every forwarded
 * segment, and helpers that set calls up. Included by test_pptp_parse.c and
 * test_pptp_xlate.c; each uses part of it.
 */
#ifndef DPNAT_TEST_PPTP_HARNESS_H
#define DPNAT_TEST_PPTP_HARNESS_H

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>

#include "eal_rundir.h"
#include "flow.h"
#include "wire.h"
#include "nat.h"
#include "pkt.h"
#include "pptp.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define SERVER   IP4(172, 19, 50, 129)
#define PUB      IP4(172, 19, 51, 234)
#define CLIENT1  IP4(60, 60, 60, 2)
#define CLIENT2  IP4(60, 60, 60, 3)

enum {
	SCCRQ = 1, SCCRP, STOPRQ, STOPRP, ECHORQ, ECHORP, OCRQ, OCRP, ICRQ, ICRP, ICCN,
	CCRQ, CDN, WEN, SLI
};

static __rte_unused const uint16_t msg_len[16] = {
	0, 156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24
};

static __rte_unused struct rte_mempool *pool;
static __rte_unused struct rte_rcu_qsbr *qsbr;

/* EAL (no hugepages, own file prefix, mem_mb MB), the mbuf pool and a QSBR for 4 readers. */
static __rte_unused int
harness_setup(const char *prog, const char *mem_mb)
{
	char prefix[64], pname[RTE_MEMPOOL_NAMESIZE], qname[32];
	char *argv[] = { (char *)prog, "--no-huge", "--no-shconf", "-m", (char *)mem_mb, "--no-pci",
			 "--no-telemetry", "--log-level=error", prefix, "-l", "0" };

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", prog);
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	eal_rundir_remove_at_exit();
	snprintf(pname, sizeof(pname), "%s_m", prog);
	snprintf(qname, sizeof(qname), "%s_q", prog);
	pool = rte_pktmbuf_pool_create(pname, 1023, 0, PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	qsbr = rte_zmalloc(qname, rte_rcu_qsbr_get_memsize(4), RTE_CACHE_LINE_SIZE);
	if (pool == NULL || qsbr == NULL || rte_rcu_qsbr_init(qsbr, 4) != 0)
		return -1;
	return 0;
}
static __rte_unused unsigned name_seq;

/* ---- environment: a flow table whose free callback feeds the ALG ---- */

struct env {
	struct flow_table *ft;
	struct pptp_alg *a;
	uint32_t now;
};

static __rte_unused void
free_cb(struct flow_session *s, void *arg)
{
	struct env *e = arg;

	if ((s->alg != FLOW_INVALID || (s->flags & FLOW_F_ALG_CTRL)) && e->a != NULL)
		pptp_session_freed(e->a, s);
}

static __rte_unused struct env *
env_new_w(uint32_t max_sess, uint32_t max_xlate, uint32_t max_ctrl, unsigned nw)
{
	struct env *e = calloc(1, sizeof(*e));
	char nm[32];

	assert_non_null(e);
	snprintf(nm, sizeof(nm), "pf%u", name_seq);
	e->ft = flow_create(nm, max_sess, nw, qsbr, free_cb, e, 0);
	assert_non_null(e->ft);
	snprintf(nm, sizeof(nm), "pa%u", name_seq++);
	e->a = pptp_create(nm, max_xlate, max_ctrl, nw, qsbr, e->ft, 0);
	assert_non_null(e->a);
	assert_int_equal(pptp_addr_add(e->a, PUB), 0);
	/* Calls idle out well before their control connection does (the library's default is
	 * the configuration's, 1800 s, as long as an established TCP session's). */
	pptp_set_timeout(e->a, 300);
	e->now = 1000;
	flow_set_clock(e->ft, e->now);
	return e;
}

static __rte_unused struct env *
env_new(uint32_t max_sess, uint32_t max_xlate, uint32_t max_ctrl)
{
	return env_new_w(max_sess, max_xlate, max_ctrl, 1);
}

/* Move the clock of the ALG's caller and of the flow table. */
static __rte_unused void
env_clock(struct env *e, uint32_t now)
{
	e->now = now;
	flow_set_clock(e->ft, now);
}

static __rte_unused void
env_free(struct env *e)
{
	pptp_free(e->a);
	e->a = NULL;
	flow_free(e->ft);
	free(e);
}

/* Age out what was killed and let the ALG reclaim (no reader is registered: grace periods are immediate). */
static __rte_unused void
env_settle(struct env *e)
{
	flow_age(e->ft, 1u << 20);
	flow_reclaim(e->ft);
	pptp_tick(e->a, e->now, 0);
}

static __rte_unused struct pptp_stats
stats(struct env *e)
{
	struct pptp_stats st;

	pptp_stats_get(e->a, &st);
	return st;
}

/* ---- checksums, written independently of lib/pkt ---- */

/* Both checksums of the IPv4/TCP frame m hold. */
static __rte_unused void
assert_cksums(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *) + RTE_ETHER_HDR_LEN;
	unsigned ihl = (p[0] & 0xf) * 4u, tot = (unsigned)(p[2] << 8 | p[3]);
	uint8_t ph[12];

	assert_int_equal(rte_pktmbuf_pkt_len(m), RTE_ETHER_HDR_LEN + tot);
	assert_int_equal(wire_fold(wire_sum16(p, ihl, 0)), 0xffff);
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	ph[10] = (uint8_t)((tot - ihl) >> 8);
	ph[11] = (uint8_t)(tot - ihl);
	assert_int_equal(wire_fold(wire_sum16(p + ihl, tot - ihl, wire_sum16(ph, 12, 0))), 0xffff);
}

/* ---- frames ---- */

/* An Ethernet/IPv4/TCP frame with correct checksums, acknowledging ack. */
static __rte_unused struct rte_mbuf *
tcp_frame_ack(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
	      uint32_t ack, uint8_t flags, const uint8_t *data, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p, *ip, *th, ph[12];
	unsigned tot = 20 + 20 + (unsigned)len;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + tot));
	assert_non_null(p);
	if (p == NULL)
		abort();   /* cmocka's assert is not noreturn: gcc -O3 otherwise warns of memset(NULL) */
	memset(p, 0, RTE_ETHER_HDR_LEN + tot);
	memcpy(p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	ip = p + RTE_ETHER_HDR_LEN;
	ip[0] = 0x45;
	wire_put16(ip + 2, (uint16_t)tot);
	wire_put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	wire_put32(ip + 12, src);
	wire_put32(ip + 16, dst);
	wire_put16(ip + 10, (uint16_t)~wire_fold(wire_sum16(ip, 20, 0)));
	th = ip + 20;
	wire_put16(th, sport);
	wire_put16(th + 2, dport);
	wire_put32(th + 4, seq);
	wire_put32(th + 8, ack);
	th[12] = 5 << 4;
	th[13] = flags;
	wire_put16(th + 14, 65535);
	if (len)
		memcpy(th + 20, data, len);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	wire_put16(ph + 10, (uint16_t)(20 + len));
	wire_put16(th + 16, (uint16_t)~wire_fold(wire_sum16(th, 20 + len, wire_sum16(ph, 12, 0))));
	return m;
}

/* An Ethernet/IPv4/TCP frame with correct checksums (an arbitrary acknowledgement). */
static __rte_unused struct rte_mbuf *
tcp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
	  uint8_t flags, const uint8_t *data, size_t len)
{
	return tcp_frame_ack(src, dst, sport, dport, seq, 0x11111111, flags, data, len);
}

/* A PPTP control message of type t with its exact length; fields at 12, 14 and the result at 16. */
static __rte_unused size_t
msg(uint8_t *b, unsigned t, uint16_t f12, uint16_t f14, uint8_t result)
{
	size_t len = msg_len[t], i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(0x41 + i * 7);
	wire_put16(b, (uint16_t)len);
	wire_put16(b + 2, 1);
	wire_put32(b + 4, 0x1A2B3C4D);
	wire_put16(b + 8, (uint16_t)t);
	wire_put16(b + 10, 0);
	wire_put16(b + 12, f12);
	wire_put16(b + 14, f14);
	if (len > 16)
		b[16] = result;
	return len;
}

/* ---- a control connection, with each side's TCP receiver simulated ---- */

struct conn {
	struct env *e;
	struct flow_session *s;
	uint32_t client, server, pub;
	uint16_t csport, pubport;
	uint32_t isn[2];
	uint32_t snd[2];          /* next sequence number each side sends */
	uint8_t rcv[2][32768];    /* in-order bytes forwarded from each direction */
	uint32_t rcv_len[2];
	unsigned fwd, dropped;
	unsigned w;               /* worker that handles it */
	bool norecord;            /* bulk: keep no received bytes */
	bool noack;               /* the receivers' ACKs are lost before dpnat */
};

/* A segment of direction dir as each side's TCP sends it: acknowledging what it received. */
static __rte_unused struct rte_mbuf *
conn_frame(struct conn *c, unsigned dir, uint32_t seq, uint8_t flags, const uint8_t *data,
	   size_t len)
{
	uint32_t ack = c->isn[1 - dir] + 1 + c->rcv_len[1 - dir];

	if (dir == 0)
		return tcp_frame_ack(c->client, c->server, c->csport, PPTP_PORT, seq, ack, flags,
				     data, len);
	return tcp_frame_ack(c->server, c->pub, PPTP_PORT, c->pubport, seq, ack, flags, data, len);
}

/* The receiver of direction dir acknowledges what it has (its ACK passes dpnat). */
static __rte_unused void
conn_ack(struct conn *c, unsigned dir)
{
	struct rte_mbuf *m = conn_frame(c, 1 - dir, c->snd[1 - dir], RTE_TCP_ACK_FLAG, NULL, 0);
	struct pkt_meta *md = pkt_md(m);

	assert_int_equal(pkt_parse(m, md), PKT_CLASS_IPV4);
	assert_int_equal(pptp_ctrl_input(c->e->a, c->w, c->s, 1 - dir, m, md, c->e->now), 0);
	rte_pktmbuf_free(m);
}

/*
 * Send one segment of direction dir. Returns pptp_ctrl_input's verdict; a
 * forwarded segment has its checksums verified and is delivered to the
 * receiver (bytes it already had must be identical). *fwd gets the payload
 * length that left.
 */
static __rte_unused int
seg(struct conn *c, unsigned dir, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len,
    size_t *fwd)
{
	struct rte_mbuf *m;
	struct pkt_meta *md;
	const uint8_t *pl;
	uint32_t base = c->isn[dir] + 1, off, n, i;
	int rc;

	m = conn_frame(c, dir, seq, flags, data, len);
	md = pkt_md(m);
	assert_int_equal(pkt_parse(m, md), PKT_CLASS_IPV4);
	rc = pptp_ctrl_input(c->e->a, c->w, c->s, dir, m, md, c->e->now);
	if (fwd != NULL)
		*fwd = 0;
	if (rc != 0) {
		c->dropped++;
		rte_pktmbuf_free(m);
		return rc;
	}
	c->fwd++;
	/* The worker's TCP state bits: the SYN-ACK tells the ALG the server answered. */
	if (flags & RTE_TCP_SYN_FLAG)
		c->s->tcp |= dir ? FLOW_TCP_SYN1 : FLOW_TCP_SYN0;
	assert_cksums(m);
	assert_int_equal(md->l4_len, rte_pktmbuf_pkt_len(m) - md->l4_off);
	n = md->l4_len - 20;
	pl = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->l4_off + 20);
	if (fwd != NULL)
		*fwd = n;
	if (flags & RTE_TCP_SYN_FLAG) {
		rte_pktmbuf_free(m);
		return 0;
	}
	off = rte_be_to_cpu_32(((const struct rte_tcp_hdr *)rte_pktmbuf_mtod_offset(m,
		const uint8_t *, md->l4_off))->sent_seq) - base;   /* dpnat may cut the front */
	for (i = 0; i < n; i++) {
		uint32_t at = off + i;

		if (c->norecord) {
			if (at == c->rcv_len[dir])
				c->rcv_len[dir]++;
			continue;
		}
		assert_true(at < sizeof(c->rcv[dir]));
		if (at < c->rcv_len[dir])
			assert_int_equal(c->rcv[dir][at], pl[i]);   /* a retransmission: the same bytes */
		else if (at == c->rcv_len[dir])
			c->rcv[dir][c->rcv_len[dir]++] = pl[i];
	}
	rte_pktmbuf_free(m);
	if (n > 0 && !c->noack)
		conn_ack(c, dir);
	return 0;
}

/* Send bytes as the sender's TCP would until the receiver has them all (trims make it resend). */
static __rte_unused void
xmit(struct conn *c, unsigned dir, const uint8_t *data, size_t len)
{
	uint32_t start = c->snd[dir] - (c->isn[dir] + 1);
	unsigned rounds = 0;

	assert_int_equal(c->rcv_len[dir], start);
	while (c->rcv_len[dir] < start + len) {
		uint32_t done = c->rcv_len[dir] - start;

		assert_int_equal(seg(c, dir, c->isn[dir] + 1 + c->rcv_len[dir], RTE_TCP_ACK_FLAG,
				     data + done, len - done, NULL), 0);
		assert_true(++rounds < 4);
	}
	c->snd[dir] += (uint32_t)len;
}

static __rte_unused void
xmit_msg(struct conn *c, unsigned dir, unsigned t, uint16_t f12, uint16_t f14, uint8_t result)
{
	uint8_t b[256];

	xmit(c, dir, b, msg(b, t, f12, f14, result));
}

/* The received message of length len at stream offset off: its field at 12 (or 14). */
static __rte_unused uint16_t
rcv16(const struct conn *c, unsigned dir, uint32_t off)
{
	assert_true(off + 2 <= c->rcv_len[dir]);
	return wire_get16(&c->rcv[dir][off]);
}

/* A NAT'd control session as a worker makes it, marked for the ALG, its SYN seen (no state yet). */
static __rte_unused struct conn *
conn_syn_pw(struct env *e, uint32_t client, uint16_t csport, uint32_t pub, uint16_t pubport,
	    unsigned w)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct flow_session *s;

	assert_non_null(c);
	c->e = e;
	c->client = client;
	c->server = SERVER;
	c->pub = pub;
	c->w = w;
	c->csport = csport;
	c->pubport = pubport;
	c->isn[0] = 0xfffffff0u - csport;     /* sequence numbers wrap during the tests */
	c->isn[1] = 0x7ffffff8u + pubport;
	s = flow_alloc(e->ft, w);
	assert_non_null(s);
	flow_key_set(&s->key[0], rte_cpu_to_be_32(client), rte_cpu_to_be_32(SERVER),
		     rte_cpu_to_be_16(csport), rte_cpu_to_be_16(PPTP_PORT), IPPROTO_TCP);
	flow_key_set(&s->key[1], rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(pub),
		     rte_cpu_to_be_16(PPTP_PORT), rte_cpu_to_be_16(pubport), IPPROTO_TCP);
	flow_rw_set(&s->rw[0], rte_cpu_to_be_32(pub), rte_cpu_to_be_32(SERVER),
		    rte_cpu_to_be_16(pubport), rte_cpu_to_be_16(PPTP_PORT));
	flow_rw_set(&s->rw[1], rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(client),
		    rte_cpu_to_be_16(PPTP_PORT), rte_cpu_to_be_16(csport));
	s->proto = IPPROTO_TCP;
	s->tmo = FLOW_TMO_TCP;
	s->flags = FLOW_F_NAT;
	s->policy_id = 1;
	s->iface[0] = 2;
	s->iface[1] = 1;
	s->out_iface[0] = 1;
	s->out_iface[1] = 2;
	s->tcp = FLOW_TCP_SYN0;
	assert_int_equal(flow_insert(e->ft, s, w), 0);
	assert_int_equal(pptp_ctrl_attach(e->a, s, w), 0);
	assert_true(s->flags & FLOW_F_ALG_CTRL);
	c->s = s;
	assert_int_equal(seg(c, 0, c->isn[0], RTE_TCP_SYN_FLAG, NULL, 0, NULL), 0);
	c->snd[0] = c->isn[0] + 1;
	c->snd[1] = c->isn[1] + 1;
	return c;
}

/* The server's SYN-ACK, then the client's ACK that completes the handshake: its verdict. */
static __rte_unused int
conn_handshake(struct conn *c)
{
	assert_int_equal(seg(c, 1, c->isn[1], RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0, NULL), 0);
	return seg(c, 0, c->snd[0], RTE_TCP_ACK_FLAG, NULL, 0, NULL);
}

/* A NAT'd control session with both SYNs seen and the handshake completed: the ALG's state taken. */
static __rte_unused struct conn *
conn_open_pw(struct env *e, uint32_t client, uint16_t csport, uint32_t pub, uint16_t pubport,
	     unsigned w)
{
	struct conn *c = conn_syn_pw(e, client, csport, pub, pubport, w);

	assert_int_equal(conn_handshake(c), 0);
	assert_int_not_equal(c->s->alg, FLOW_INVALID);
	return c;
}

static __rte_unused struct conn *
conn_open(struct env *e, uint32_t client, uint16_t csport, uint16_t pubport)
{
	return conn_open_pw(e, client, csport, PUB, pubport, 0);
}

/* The translated id of the call client cid of c, from the CLI's walk; 0 if none. */
struct find_arg {
	uint32_t ip;
	uint16_t cid;
	struct pptp_xlate_info xi;
	unsigned n;
};

static __rte_unused int
find_fn(const struct pptp_xlate_info *xi, void *arg)
{
	struct find_arg *f = arg;

	if (xi->inside_ip == f->ip && xi->inside_cid == f->cid) {
		f->xi = *xi;
		f->n++;
	}
	return 0;
}

static __rte_unused bool
find_call(struct env *e, uint32_t ip, uint16_t cid, struct pptp_xlate_info *xi)
{
	struct find_arg f = { .ip = ip, .cid = cid };

	pptp_xlate_walk(e->a, e->now, find_fn, &f);
	assert_true(f.n <= 1);
	if (xi != NULL)
		*xi = f.xi;
	return f.n == 1;
}

/* Outgoing call set up on c: OCRQ from the client, OCRP from the server. Returns the translated id. */
static __rte_unused uint16_t
call_up(struct conn *c, uint16_t ccid, uint16_t scid)
{
	uint32_t off0 = c->rcv_len[0], off1;
	uint16_t xcid;

	xmit_msg(c, 0, OCRQ, ccid, 0x5555, 0);
	xcid = rcv16(c, 0, off0 + 12);
	off1 = c->rcv_len[1];
	xmit_msg(c, 1, OCRP, scid, xcid, 1);
	assert_int_equal(rcv16(c, 1, off1 + 12), scid);
	assert_int_equal(rcv16(c, 1, off1 + 14), ccid);
	return xcid;
}

#endif /* DPNAT_TEST_PPTP_HARNESS_H */
