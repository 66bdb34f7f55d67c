/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the PPTP ALG's control-stream parser and xlate
 * table (lib/alg/pptp), driven the way a worker drives it.
 *
 * One control connection at a time, as app/dpnat/worker.c's session_create
 * makes it: client 60.60.60.2:4762 -> server 172.19.50.129:1723, source
 * translated to 172.19.51.234:7257 (FLOW_F_NAT), marked for the ALG, which
 * takes its state at the client's ACK that completes the handshake. Every
 * segment is a real Ethernet/IPv4/TCP frame in an mbuf, parsed by pkt_parse,
 * given to pptp_ctrl_input and, when forwarded, translated by nat_rewrite.
 * The flow table, the ALG and the RCU state live across inputs; each input
 * ends by deleting every session, and everything must return to zero.
 *
 * Each direction has a sender that owns a byte stream (fuzzer bytes) and a
 * receiver that keeps the bytes forwarded in order, as TCP would.
 *
 * Input:
 *   byte 0: bit 0 no automatic SYN / SYN-ACK at the start
 *           bit 1 the control session is not translated (no FLOW_F_NAT)
 *           bit 2 IPv4 options (4 bytes) in every frame
 *           bit 3 TCP options (12 bytes) in every frame
 *           bit 4 frames with payload are two-segment mbuf chains, the first
 *                 holding the headers and 8 * (bits 5-7) payload bytes
 *   then operations until the input ends:
 *   segment  [0 | NOACK | SYN | RST | FIN | mode(2) | dir] [len] [param] [bytes]
 *       mode 0 NEW:   len new bytes join the stream; the segment carries
 *                     everything the receiver lacks (retransmission included),
 *                     at most one MSS
 *       mode 1 FRESH: len new bytes join the stream and only they are sent
 *       mode 2 BACK:  no new bytes; len bytes from B bytes before the
 *                     receiver's next byte (an overlap or an old duplicate);
 *                     B is param below 128, else (param - 127) * 16
 *       mode 3 AHEAD: param + len new bytes join the stream, the first param
 *                     are lost (a hole), the last len are sent
 *       (param only in modes 2 and 3; a SYN sits just before the payload)
 *   control  [1 | op(7)] [param]
 *       0 tick: time advances param + 1 s, flows and xlate entries age
 *       1 CLI clear of the calls (all, or those whose Call ID parity is param's)
 *       2 delete the (param mod n)th GRE gate session
 *       3 the client resets the connection and opens a new one
 *       4 RCU quiescent state and reclamation
 *       5 xlate timeout param + 1 s
 *       6 RST, then the same 4-tuple reused by a new connection (SYN, SYN-ACK)
 *       7 the control session deleted (as if aged), then a new one on its tuple
 *       8 the server answers the client's last request (OCRP, ICRP, SLI, WEN,
 *         CDN, ICCN naming the translated Call ID the server received)
 *       (op is taken modulo 9)
 *
 * Checked on every forwarded segment: IPv4 header and TCP checksums verify
 * by full recomputation, before and after the NAT rewrite; IP total length,
 * mbuf length and md->l4_len agree; only the payload's tail may go (and FIN
 * with it), at a message boundary or at a Call ID field, and from the front
 * only bytes the receiver acknowledged (every frame acknowledges what its
 * side received). Against the
 * receiver's stream (unless a fuzzer SYN made the sequence space ambiguous):
 * retransmitted bytes are identical to the ones delivered first; no hole is
 * delivered; no byte from a malformed header on; every byte is the sender's
 * except the Call ID fields the ALG translates, and a translated field holds
 * the translation the xlate table made for the sender's value (with NAT, an
 * inside Call ID never leaves untranslated). Segments pass the session's TCP
 * tracking first (flow_tcp_input), as on a worker, and carry the ACK a TCP
 * would send; a bare FIN or RST that the receiver would not take (not at its
 * next byte; a RST after the sender's FIN: the byte after it) ends no call. The xlate table's walk and
 * lookup agree. At the end of every input: no session, xlate entry, control
 * state or Call ID left, nothing waiting for a grace period.
 *
 * FUZZ_PPTP_VERBOSE=1 in the environment prints a summary of each input:
 * segments forwarded and dropped (by reason) and the ALG's counters.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>

#include "fuzz_common.h"
#include "flow.h"
#include "nat.h"
#include "pkt.h"
#include "pptp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define CLIENT      IP4(60, 60, 60, 2)
#define SERVER      IP4(172, 19, 50, 129)
#define PUB         IP4(172, 19, 51, 234)
#define CLIENT_PORT 4762
#define PUB_PORT    7257

#define MAX_SESS    10      /* control session + gates of a few calls: the table fills */
#define MAX_XLATE   6
#define MAX_CTRL    2
#define STREAM_MAX  8192    /* bytes per direction a sender may produce */
#define MSS         1400
#define MAX_PAIRS   512
#define T0          1000

/* Reference classification of each byte of a sender's stream. */
#define CLS_FIELD0  0x01    /* first byte of a Call ID field the ALG translates */
#define CLS_FIELD1  0x02    /* its second byte */
#define CLS_BAD     0x04    /* at or after the byte that makes a header malformed */
#define CLS_MSG     0x08    /* first byte of a message */

static const uint16_t msg_len[16] = {
	0, 156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24
};

/* Does the ALG translate the field at offset off (12 or 14) of message type t sent in dir? */
static bool
field_xlated(unsigned dir, unsigned t, unsigned off)
{
	if (dir == 0)   /* the inside's own Call ID: OCRQ, OCRP, ICRQ, ICRP, CCRQ, CDN */
		return off == 12 && (t == 7 || t == 8 || t == 9 || t == 10 || t == 12 || t == 13);
	/* the outside names the inside's (translated) id: OCRP, ICRP at 14; ICCN, WEN, SLI at 12 */
	return (off == 14 && (t == 8 || t == 10)) || (off == 12 && (t == 11 || t == 14 || t == 15));
}

/* One direction: the sender's stream, the receiver's copy, the reference parse. */
struct side {
	uint32_t isn;
	uint32_t snd_len;
	uint32_t rcv_len;
	bool syn_seen;
	uint8_t fin_rcvd;      /* the receiver took the sender's FIN (in order): 1 */
	/* reference parser over snd */
	uint32_t r_pos, r_start;
	uint16_t r_len, r_type;
	bool r_bad;
	uint8_t r_hdr[10];
	uint8_t snd[STREAM_MAX];
	uint8_t rcv[STREAM_MAX];
	uint8_t cls[STREAM_MAX];
};

struct pair {
	uint16_t ccid, xcid;   /* host order */
};

struct conn {
	struct flow_session *s;
	bool attached;         /* the ALG is attached (else plain NAPT) */
	bool nat;
	bool sure;             /* the model's sequence space is the ALG's */
	unsigned gen;          /* connections made in this input */
	uint16_t csport, pubport;
	uint32_t pub;
	bool has_xcid;
	uint16_t last_xcid;    /* the Call ID of the client's last request, as the server got it */
	struct side d[2];
	unsigned npairs;
	bool pairs_full;
	struct pair pairs[MAX_PAIRS];
};

static struct rte_mempool *pool;
static struct rte_rcu_qsbr *qsbr;
static struct flow_table *ft;
static struct pptp_alg *alg;
static uint32_t now;
static uint8_t cfg;
static struct conn cn;
static uint64_t n_inputs;
static bool verbose;           /* FUZZ_PPTP_VERBOSE set: a summary per input */
static unsigned n_fwd, n_drop, drops[PKT_DROP_MAX];
static const uint8_t nothing[1];

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_pptp_stream: %s (input %lu, connection %u, rcv %u/%u snd %u/%u)\n",
		what, (unsigned long)n_inputs, cn.gen, cn.d[0].rcv_len, cn.d[1].rcv_len,
		cn.d[0].snd_len, cn.d[1].snd_len);
	abort();
}

static void
free_cb(struct flow_session *s, void *arg)
{
	RTE_SET_USED(arg);
	if (s->alg != FLOW_INVALID && alg != NULL)
		pptp_session_freed(alg, s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t sz;

	(void)argc;
	(void)argv;
	fuzz_eal_init("fuzz_pptp_stream");
	verbose = getenv("FUZZ_PPTP_VERBOSE") != NULL;
	pool = rte_pktmbuf_pool_create("fz_pptp", 255, 0, PKT_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	sz = rte_rcu_qsbr_get_memsize(1);
	qsbr = rte_zmalloc("fz_pptp_q", sz, RTE_CACHE_LINE_SIZE);
	if (pool == NULL || qsbr == NULL || rte_rcu_qsbr_init(qsbr, 1) != 0)
		abort();
	/* This thread is worker 0 and the control lcore: it reports its quiescent states itself. */
	if (rte_rcu_qsbr_thread_register(qsbr, 0) != 0)
		abort();
	rte_rcu_qsbr_thread_online(qsbr, 0);
	ft = flow_create("fz_pptp_f", MAX_SESS, 1, qsbr, free_cb, NULL, 0);
	if (ft == NULL)
		abort();
	alg = pptp_create("fz_pptp_a", MAX_XLATE, MAX_CTRL, 1, qsbr, ft, 0);
	if (alg == NULL || pptp_addr_add(alg, PUB) != 0)
		abort();
	return 0;
}

/* ---------------------------------------------------------------- reference parser */

/* Classify the sender's bytes up to snd_len, as RFC 2637 frames them. */
static void FUZZ_NOCOV
ref_advance(struct side *sd, unsigned dir)
{
	while (sd->r_pos < sd->snd_len) {
		uint32_t p = sd->r_pos++;
		uint32_t k = p - sd->r_start;
		uint8_t b = sd->snd[p];

		if (sd->r_bad) {
			sd->cls[p] = CLS_BAD;
			continue;
		}
		sd->cls[p] = k == 0 ? CLS_MSG : 0;
		if (k < sizeof(sd->r_hdr))
			sd->r_hdr[k] = b;
		switch (k) {
		case 1:
			sd->r_len = wire_get16(sd->r_hdr);
			sd->r_bad = sd->r_len < 16 || sd->r_len > 220;
			break;
		case 3:
			sd->r_bad = wire_get16(sd->r_hdr + 2) != 1;
			break;
		case 7:
			sd->r_bad = wire_get32(sd->r_hdr + 4) != 0x1A2B3C4Du;
			break;
		case 9:
			sd->r_type = wire_get16(sd->r_hdr + 8);
			sd->r_bad = sd->r_type == 0 || sd->r_type > 15 || msg_len[sd->r_type] != sd->r_len;
			break;
		case 12:
		case 14:
			if (field_xlated(dir, sd->r_type, k))
				sd->cls[p] |= CLS_FIELD0;
			break;
		case 13:
		case 15:
			if (field_xlated(dir, sd->r_type, k - 1))
				sd->cls[p] |= CLS_FIELD1;
			break;
		default:
			break;
		}
		if (sd->r_bad) {
			sd->cls[p] = CLS_BAD;
			continue;
		}
		if (k >= 9 && k + 1 == sd->r_len)
			sd->r_start = p + 1;
	}
}

/* Append n bytes to the sender's stream (beyond STREAM_MAX they are consumed and lost). */
static void
stream_add(unsigned dir, const uint8_t *b, size_t n)
{
	struct side *sd = &cn.d[dir];
	size_t room = STREAM_MAX - sd->snd_len;

	if (n > room)
		n = room;
	memcpy(sd->snd + sd->snd_len, b, n);
	sd->snd_len += (uint32_t)n;
	ref_advance(sd, dir);
}

/* ---------------------------------------------------------------- the xlate table's view */

static bool FUZZ_NOCOV
pair_known(uint16_t ccid, uint16_t xcid)
{
	unsigned i;

	for (i = 0; i < cn.npairs; i++)
		if (cn.pairs[i].ccid == ccid && cn.pairs[i].xcid == xcid)
			return true;
	return false;
}

/* Every translation the table holds now for this connection (dying ones too). */
static void FUZZ_NOCOV
pairs_collect(void)
{
	struct pptp_xlate_info xi;
	uint32_t i;

	for (i = 0; i < MAX_XLATE; i++) {
		if (pptp_xlate_get(alg, i, &xi) != 0 || xi.ctrl_sess_id != cn.s->id)
			continue;
		if (pair_known(xi.inside_cid, xi.xlated_cid))
			continue;
		if (cn.npairs == MAX_PAIRS) {
			cn.pairs_full = true;
			return;
		}
		cn.pairs[cn.npairs++] = (struct pair){ xi.inside_cid, xi.xlated_cid };
	}
}

static int FUZZ_NOCOV
walk_check(const struct pptp_xlate_info *xi, void *arg)
{
	struct pptp_xlate_info lk;

	RTE_SET_USED(arg);
	if (xi->gates > 2 || xi->index >= MAX_XLATE)
		fail("walk: impossible call entry");
	if (xi->nat && xi->public_ip != PUB)
		fail("walk: translated call on an unknown public address");
	if (pptp_xlate_lookup(alg, rte_cpu_to_be_32(xi->public_ip), rte_cpu_to_be_32(xi->server_ip),
			      rte_cpu_to_be_16(xi->xlated_cid), &lk) != 0)
		fail("walk: a live call is not found by its translated Call ID");
	if (lk.index != xi->index || lk.gen != xi->gen || lk.inside_cid != xi->inside_cid)
		fail("walk: lookup by translated Call ID finds another entry");
	return 0;
}

static int
count_gates(struct flow_session *s, void *arg)
{
	if (s->flags & FLOW_F_ALG_MADE) {
		if (s->proto != IPPROTO_GRE || !(s->flags & FLOW_F_ALG_DATA))
			fail("an ALG-made session that is not a GRE gate");
		(*(unsigned *)arg)++;
	}
	return 0;
}

static void FUZZ_NOCOV
global_check(void)
{
	struct nat_addr_info ai;
	struct pptp_stats st;
	struct flow_stats fs;
	unsigned gates = 0;
	uint32_t cursor = 0;

	pptp_stats_get(alg, &st);
	flow_stats_get(ft, &fs);
	if (st.xlate_used > MAX_XLATE || st.ctrl_used > MAX_CTRL || fs.alloc > MAX_SESS)
		fail("a table counts more entries than it has");
	if (pptp_addr_info(alg, PUB, &ai) != 0 || ai.used > st.xlate_used)
		fail("more Call IDs allocated than xlate entries in use");
	flow_walk(ft, &cursor, MAX_SESS, count_gates, &gates);
	if (gates > 2 * st.xlate_used)
		fail("more GRE gates than two per xlate entry in use");
	pptp_xlate_walk(alg, now, walk_check, NULL);
}

/* ---------------------------------------------------------------- frames */

static const uint8_t ip_opts[4] = { 0x01, 0x01, 0x01, 0x00 };            /* NOP NOP NOP EOL */
static const uint8_t tcp_opts[12] = { 0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2 };

/* An Ethernet/IPv4/TCP frame of direction dir into buf; returns its length. */
static size_t FUZZ_NOCOV
build_frame(uint8_t *buf, unsigned dir, uint32_t seq, uint8_t flags, const uint8_t *pl,
	    size_t plen, size_t *l4_off)
{
	size_t ipo = (cfg & 0x04) ? sizeof(ip_opts) : 0, tco = (cfg & 0x08) ? sizeof(tcp_opts) : 0;
	size_t ihl = 20 + ipo, thl = 20 + tco, tot = ihl + thl + plen, flen;
	uint8_t *ip = buf + RTE_ETHER_HDR_LEN, *th = ip + ihl, ph[12];
	uint32_t src = dir == 0 ? CLIENT : SERVER, dst = dir == 0 ? SERVER : cn.pub;
	uint16_t sport = dir == 0 ? cn.csport : PPTP_PORT, dport = dir == 0 ? PPTP_PORT : cn.pubport;

	memset(buf, 0, RTE_ETHER_HDR_LEN + tot + 60);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	wire_put16(ip + 2, (uint16_t)tot);
	wire_put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	wire_put32(ip + 12, src);
	wire_put32(ip + 16, dst);
	memcpy(ip + 20, ip_opts, ipo);
	wire_put16(ip + 10, (uint16_t)~wire_fold(wire_sum16(ip, ihl, 0)));
	wire_put16(th, sport);
	wire_put16(th + 2, dport);
	wire_put32(th + 4, seq);
	/* A TCP acknowledges what it has received of the other direction (its FIN too). */
	wire_put32(th + 8, cn.d[dir ^ 1].isn + 1 + cn.d[dir ^ 1].rcv_len + cn.d[dir ^ 1].fin_rcvd);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = flags;
	wire_put16(th + 14, 65535);
	memcpy(th + 20, tcp_opts, tco);
	memcpy(th + thl, pl, plen);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	wire_put16(ph + 10, (uint16_t)(thl + plen));
	wire_put16(th + 16, (uint16_t)~wire_fold(wire_sum16(th, thl + plen, wire_sum16(ph, 12, 0))));
	*l4_off = RTE_ETHER_HDR_LEN + ihl;
	flen = RTE_ETHER_HDR_LEN + tot;
	return flen < 60 ? 60 : flen;   /* Ethernet pads short frames */
}

static struct rte_mbuf *
frame_mbuf(const uint8_t *f, size_t flen, size_t l4_off, size_t hdr_len)
{
	struct rte_mbuf *m, *m2;
	size_t split = hdr_len + ((cfg >> 5) & 7) * 8u;
	uint8_t *p;

	/* pkt_parse wants the transport header's first 60 bytes in the first segment. */
	split = RTE_MAX(split, l4_off + 60);
	if (!(cfg & 0x10) || split >= flen)
		return fuzz_mbuf_exact(pool, f, (uint16_t)flen);
	/* A chain: headers in an ordinary mbuf (room to linearize), the rest exact. */
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		abort();
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)split);
	if (p == NULL)
		abort();
	memcpy(p, f, split);
	m2 = fuzz_mbuf_exact(pool, f + split, (uint16_t)(flen - split));
	if (rte_pktmbuf_chain(m, m2) != 0)
		abort();
	return m;
}

/* ---------------------------------------------------------------- delivery checks */

/* The receiver of dir gets n payload bytes at stream offset start. */
static void FUZZ_NOCOV
deliver(unsigned dir, int64_t start, const uint8_t *pl, uint32_t n)
{
	struct side *sd = &cn.d[dir];
	uint32_t i;

	for (i = 0; i < n; i++) {
		int64_t off = start + i;
		uint32_t o;

		if (off < 0)
			continue;   /* before the stream: TCP drops it */
		if (off >= sd->snd_len)
			fail("forwarded a byte the sender never sent");
		o = (uint32_t)off;
		if (sd->cls[o] & CLS_BAD)
			fail("forwarded a byte of a malformed message (or after it)");
		if (o < sd->rcv_len) {
			if (sd->rcv[o] != pl[i])
				fail("a retransmitted byte differs from the one delivered first");
			continue;
		}
		if (o > sd->rcv_len)
			fail("forwarded data beyond a hole in the stream");
		sd->rcv[sd->rcv_len++] = pl[i];
		if (sd->cls[o] & CLS_FIELD0)
			continue;   /* judged with its second byte */
		if (sd->cls[o] & CLS_FIELD1) {
			uint16_t orig = wire_get16(&sd->snd[o - 1]), fwd = wire_get16(&sd->rcv[o - 1]);

			if (dir == 0 && o >= 13) {
				uint16_t t = wire_get16(&sd->snd[o - 13 + 8]);

				if (t == 7 || t == 9) {
					cn.last_xcid = fwd;
					cn.has_xcid = true;
				}
			}
			if (!cn.attached || !cn.nat) {
				if (fwd != orig)
					fail("a Call ID changed on a connection that is not translated");
			} else if (cn.pairs_full) {
				continue;
			} else if (dir == 0) {
				/* 0 stands in for the id of a call that is gone (never the inside id). */
				if (fwd != 0 && !pair_known(orig, fwd))
					fail("an inside Call ID left without the translation the table made");
			} else if (fwd != orig && !pair_known(fwd, orig)) {
				fail("a translated Call ID was restored to an id the table never paired");
			}
			continue;
		}
		if (pl[i] != sd->snd[o])
			fail("the ALG changed a byte that is not a Call ID it translates");
	}
}

/* ---------------------------------------------------------------- one segment */

/*
 * Send the payload snd[start, start + n) of direction dir (start may be
 * negative: bytes before the stream, then pl gives them) with flags.
 * Returns pptp_ctrl_input's verdict.
 */
static int
send_seg(unsigned dir, int64_t start, const uint8_t *pl, uint32_t n, uint8_t flags)
{
	static uint8_t f[RTE_ETHER_HDR_LEN + 60 + 60 + MSS + 64], out[sizeof(f)];
	struct side *sd = &cn.d[dir];
	uint32_t seq = sd->isn + 1 + (uint32_t)start - ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0);
	size_t l4_off, flen, hdr_len;
	const uint8_t *p, *ip, *th;
	struct rte_mbuf *m;
	struct pkt_meta *md;
	struct pptp_stats st0;
	unsigned ihl, tot, thl, fwd_n;
	uint32_t cut, alg_before;
	int rc;

	flen = build_frame(f, dir, seq, flags, pl, n, &l4_off);
	hdr_len = l4_off + 20 + ((cfg & 0x08) ? sizeof(tcp_opts) : 0);
	m = frame_mbuf(f, flen, l4_off, hdr_len);
	md = pkt_md(m);
	if (pkt_parse(m, md) != PKT_CLASS_IPV4 || !(md->flags & PKT_F_L4_VALID))
		fail("pkt_parse refused the harness's own frame");
	/* What session_hit does before the ALG: the session's TCP tracking refuses
	 * what lies outside the receiver's window. */
	flow_touch(cn.s, now);
	pptp_stats_get(alg, &st0);
	rc = flow_tcp_input(cn.s, dir, rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, md->l4_off),
			    (uint32_t)(md->payload_off - md->l4_off),
			    (uint32_t)(md->l4_len - (md->payload_off - md->l4_off)));
	alg_before = cn.s->alg;
	if (rc == 0 && cn.attached)
		rc = pptp_ctrl_input(alg, 0, cn.s, dir, m, md, now);
	/* The ALG took its state from a segment not at the stream's start (bytes before it were
	 * dropped, no handshake ACK came first): its sequence space is not the model's. */
	if (alg_before == FLOW_INVALID && cn.s->alg < MAX_CTRL && (dir != 0 || start != 0))
		cn.sure = false;
	/* A bare FIN or RST the receiver would not take (a RST not at its next
	 * byte - after a FIN, the byte after it; a FIN not at its next byte)
	 * ends no call: whoever could forge one must not end them. */
	if (cn.sure && sd->syn_seen && cn.d[dir ^ 1].syn_seen && n == 0 &&
	    (flags & (RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG)) && !(flags & RTE_TCP_SYN_FLAG) &&
	    seq != sd->isn + 1 + sd->rcv_len + ((flags & RTE_TCP_RST_FLAG) ? sd->fin_rcvd : 0)) {
		struct pptp_stats st1;

		pptp_stats_get(alg, &st1);
		if (st1.calls_closed != st0.calls_closed)
			fail("a FIN or RST the receiver would not take ended calls");
	}
	if (cn.attached)
		pairs_collect();
	if (rc != 0) {
		if (rc < 0 || rc >= PKT_DROP_MAX)
			fail("pptp_ctrl_input returned an unknown drop reason");
		n_drop++;
		drops[rc]++;
		rte_pktmbuf_free(m);
		return rc;
	}
	n_fwd++;

	/* The forwarded frame: lengths, headers, checksums. */
	if (m->pkt_len > sizeof(out))
		fail("forwarded frame grew");
	p = rte_pktmbuf_read(m, 0, m->pkt_len, out);
	if (p == NULL)
		abort();
	ip = p + RTE_ETHER_HDR_LEN;
	ihl = (ip[0] & 0xfu) * 4;
	tot = wire_get16(ip + 2);
	th = ip + ihl;
	thl = (th[12] >> 4) * 4u;
	if (m->pkt_len != RTE_ETHER_HDR_LEN + tot)
		fail("forwarded frame length is not the IP total length");
	if (md->l4_off != l4_off || md->l4_len != tot - ihl || tot < ihl + thl)
		fail("pkt_meta lengths disagree with the forwarded frame");
	if (memcmp(ip + 12, f + RTE_ETHER_HDR_LEN + 12, 8) != 0 || memcmp(th, f + l4_off, 4) != 0 ||
	    memcmp(th + 8, f + l4_off + 8, 4) != 0)
		fail("the ALG changed addresses, ports or the acknowledgement");
	/* Only bytes the receiver acknowledged may be cut from the front (acked-cut). */
	cut = wire_get32(th + 4) - seq;
	if (cut != 0) {
		if (cut > n || (flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)) ||
		    (cn.sure && start + cut > sd->rcv_len))
			fail("the ALG cut bytes the receiver had not acknowledged");
		start += cut;
		n -= cut;
		if (th[13] != flags)
			fail("the ALG changed the TCP flags of a segment cut at the front");
	}
	if (!fuzz_cksum_ok(ip, ihl))
		fail("forwarded IPv4 header checksum is wrong");
	if (!fuzz_l4_cksum_ok(ip, IPPROTO_TCP, th, tot - ihl))
		fail("forwarded TCP checksum is wrong");
	fwd_n = tot - ihl - thl;
	if (fwd_n > n)
		fail("the ALG added payload");
	if (fwd_n < n) {
		int64_t end = start + fwd_n;

		if (th[13] != (flags & ~RTE_TCP_FIN_FLAG))
			fail("a trimmed segment kept its FIN or changed other flags");
		if (fwd_n == 0 && cut == 0)
			fail("a segment trimmed to nothing was forwarded");
		if (cn.sure && !(flags & RTE_TCP_RST_FLAG) && end >= 0 &&
		    (end >= sd->snd_len || !(sd->cls[end] & (CLS_MSG | CLS_FIELD0))))
			fail("a segment trimmed neither at a message nor at a Call ID field");
	} else if (th[13] != flags && cut == 0) {
		fail("the ALG changed the TCP flags of a whole segment");
	}
	if (cn.sure && !(flags & RTE_TCP_RST_FLAG))
		deliver(dir, start, th + thl, fwd_n);
	/* The receiver takes a FIN that follows what it has. */
	if (cn.sure && (th[13] & RTE_TCP_FIN_FLAG) && !(flags & (RTE_TCP_RST_FLAG | RTE_TCP_SYN_FLAG)) &&
	    start + fwd_n == sd->rcv_len)
		sd->fin_rcvd = 1;

	/* The NAT rewrite the worker applies next keeps both checksums right. */
	nat_rewrite(m, md, &cn.s->rw[dir]);
	p = rte_pktmbuf_read(m, 0, m->pkt_len, out);
	ip = p + RTE_ETHER_HDR_LEN;
	if (!fuzz_cksum_ok(ip, ihl) || !fuzz_l4_cksum_ok(ip, IPPROTO_TCP, ip + ihl, tot - ihl))
		fail("checksum wrong after nat_rewrite of a forwarded segment");
	rte_pktmbuf_free(m);
	return 0;
}

/* ---------------------------------------------------------------- connections */

static void
quiesce(void)
{
	rte_rcu_qsbr_quiescent(qsbr, 0);
	flow_reclaim(ft);
	pptp_tick(alg, now, 0);
}

static void
age_all(void)
{
	rte_rcu_qsbr_quiescent(qsbr, 0);
	flow_age(ft, MAX_SESS);
	rte_rcu_qsbr_quiescent(qsbr, 0);
	flow_reclaim(ft);
	pptp_tick(alg, now, MAX_XLATE);
	rte_rcu_qsbr_quiescent(qsbr, 0);
	flow_reclaim(ft);
	pptp_tick(alg, now, 0);
}

static void
model_reset(bool new_isn)
{
	unsigned dir;

	for (dir = 0; dir < 2; dir++) {
		struct side *sd = &cn.d[dir];
		uint32_t isn = sd->isn;

		memset(sd, 0, offsetof(struct side, snd));
		sd->isn = new_isn ? isn + 0x01000193u * (dir + 1) :
			  (dir == 0 ? 0xffffff00u - 977u * cn.gen : 0x7fffff80u + 13u * cn.gen);
	}
	cn.npairs = 0;
	cn.pairs_full = false;
	cn.sure = true;
	cn.has_xcid = false;
}

static void
handshake(void)
{
	if (cfg & 0x01)
		return;
	cn.d[0].syn_seen = send_seg(0, 0, nothing, 0, RTE_TCP_SYN_FLAG) == 0;
	cn.d[1].syn_seen = send_seg(1, 0, nothing, 0, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) == 0;
	/* The client's ACK completes the handshake: the ALG takes its state. */
	send_seg(0, 0, nothing, 0, RTE_TCP_ACK_FLAG);
}

/* A new control session, as session_create makes it; the tuple changes unless same_tuple. */
static bool
conn_open(bool same_tuple)
{
	struct flow_session *s;
	struct flow_stats fs;

	flow_stats_get(ft, &fs);
	if (fs.alloc != 0)
		fail("sessions left after the control connection and its calls went");
	if (!same_tuple) {
		cn.csport = (uint16_t)(CLIENT_PORT + cn.gen);
		cn.pubport = (uint16_t)(PUB_PORT + cn.gen);
	}
	cn.nat = !(cfg & 0x02);
	cn.pub = cn.nat ? PUB : CLIENT;
	if (!cn.nat)
		cn.pubport = cn.csport;
	s = flow_alloc(ft, 0);
	if (s == NULL)
		fail("no session for a new control connection in an empty table");
	flow_key_set(&s->key[0], rte_cpu_to_be_32(CLIENT), rte_cpu_to_be_32(SERVER),
		     rte_cpu_to_be_16(cn.csport), RTE_BE16(PPTP_PORT), IPPROTO_TCP);
	flow_key_set(&s->key[1], rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(cn.pub),
		     RTE_BE16(PPTP_PORT), rte_cpu_to_be_16(cn.pubport), IPPROTO_TCP);
	flow_rw_set(&s->rw[0], rte_cpu_to_be_32(cn.pub), rte_cpu_to_be_32(SERVER),
		    rte_cpu_to_be_16(cn.pubport), RTE_BE16(PPTP_PORT));
	flow_rw_set(&s->rw[1], rte_cpu_to_be_32(SERVER), rte_cpu_to_be_32(CLIENT),
		    RTE_BE16(PPTP_PORT), rte_cpu_to_be_16(cn.csport));
	s->proto = IPPROTO_TCP;
	s->tmo = FLOW_TMO_TCP;
	s->flags = cn.nat ? FLOW_F_NAT : 0;
	s->policy_id = 1;
	s->iface[0] = 1;
	s->iface[1] = 0;
	s->out_iface[0] = 0;
	s->out_iface[1] = 1;
	s->tcp = FLOW_TCP_SYN0;
	cn.attached = pptp_ctrl_attach(alg, s, 0) == 0;
	if (!cn.attached)
		fail("no control state left although every connection before this one was freed");
	if (!(s->flags & FLOW_F_ALG_CTRL))
		fail("pptp_ctrl_attach succeeded without marking the session");
	if (flow_insert(ft, s, 0) != 0)
		fail("flow_insert of the control session failed in an empty table");
	cn.s = s;
	model_reset(false);
	cn.gen++;
	handshake();
	return true;
}

/* Delete the control session (as ageing or a CLI clear does) and everything it had. */
static void
conn_drop(void)
{
	struct pptp_stats st;

	if (cn.s != NULL && cn.s->in_use)
		flow_delete(ft, cn.s, true);
	cn.s = NULL;
	age_all();   /* the calls' gates were killed: the ager deletes them */
	pptp_stats_get(alg, &st);
	if (st.ctrl_used != 0)
		fail("control state not released after its session went");
}

/* The control session aged out (tick) or was cleared: the client opens a new one. */
static void
conn_check_alive(void)
{
	if (cn.s != NULL && cn.s->in_use)
		return;
	cn.s = NULL;
	conn_drop();
	conn_open(false);
}

/* ---------------------------------------------------------------- operations */

struct input {
	const uint8_t *p;
	size_t left;
};

static bool
take(struct input *in, uint8_t *b)
{
	if (in->left == 0)
		return false;
	*b = *in->p++;
	in->left--;
	return true;
}

/* Up to n new bytes from the input into the stream of dir; returns how many. */
static uint32_t
take_stream(struct input *in, unsigned dir, uint32_t n)
{
	uint32_t k = (uint32_t)RTE_MIN((size_t)n, in->left);

	stream_add(dir, in->p, k);
	in->p += k;
	in->left -= k;
	return k;
}

static void
op_segment(struct input *in, uint8_t op)
{
	static uint8_t junk[MSS];
	unsigned dir = op & 1, mode = (op >> 1) & 3;
	uint8_t flags = RTE_TCP_ACK_FLAG, len = 0, param = 0;
	struct side *sd = &cn.d[dir];
	int64_t start, end;
	uint32_t old_snd = sd->snd_len, n;
	const uint8_t *pl;

	if (op & 0x08)
		flags |= RTE_TCP_FIN_FLAG;
	if (op & 0x10)
		flags |= RTE_TCP_RST_FLAG;
	if (op & 0x20)
		flags |= RTE_TCP_SYN_FLAG;
	if (op & 0x40)
		flags &= (uint8_t)~RTE_TCP_ACK_FLAG;
	take(in, &len);
	if (mode >= 2)
		take(in, &param);
	switch (mode) {
	case 0:   /* NEW: what the receiver lacks, with the new bytes */
		take_stream(in, dir, len);
		start = sd->rcv_len;
		end = RTE_MIN((int64_t)sd->snd_len, start + MSS);
		break;
	case 1:   /* FRESH: only the new bytes */
		take_stream(in, dir, len);
		start = old_snd;
		end = sd->snd_len;
		break;
	case 2:   /* BACK: an old stretch, up to 2 KB back */
		start = (int64_t)sd->rcv_len - (param < 128 ? param : (param - 127) * 16);
		end = RTE_MIN((int64_t)sd->snd_len, start + len);
		break;
	default:  /* AHEAD: a hole of param bytes, then len bytes */
		take_stream(in, dir, (uint32_t)param + len);
		start = RTE_MIN((int64_t)old_snd + param, (int64_t)sd->snd_len);
		end = sd->snd_len;
		break;
	}
	if (end < start)
		end = start;
	n = (uint32_t)(end - start);
	if (start >= 0) {
		pl = sd->snd + start;
	} else {
		/* Bytes before the stream: whatever, then the stream's own. */
		uint32_t pre = (uint32_t)RTE_MIN(-start, (int64_t)n);

		memset(junk, 0x5a, pre);
		memcpy(junk + pre, sd->snd, n - pre);
		pl = junk;
	}
	if (flags & RTE_TCP_SYN_FLAG) {
		/* A SYN at the stream's start with no data repeats the handshake; any other
		 * SYN may move the ALG's idea of the ISN: stop judging stream bytes. */
		if (start != 0 || n != 0)
			cn.sure = false;
		if (send_seg(dir, start, pl, n, flags) == 0)
			sd->syn_seen = true;
		return;
	}
	send_seg(dir, start, pl, n, flags);
}

/*
 * The server answers the client's last request as a real one would: with
 * the Call ID it received (the translated one). param: bits 0-2 the message
 * (OCRP, ICRP, SLI, WEN, CDN, OCRP, ICRP, ICCN), bits 3-4 the server's own
 * Call ID, bit 5 a failure result. Sent as one segment with everything the
 * client lacks.
 */
static void
server_reply(uint8_t param)
{
	static const uint8_t types[8] = { 8, 10, 15, 14, 13, 8, 10, 11 };
	unsigned t = types[param & 7];
	uint16_t sid = (uint16_t)(0x0100 + ((param >> 3) & 3));
	uint16_t peer = cn.has_xcid ? cn.last_xcid : 0x8000;
	uint8_t msg[220];
	struct side *sd = &cn.d[1];
	unsigned i, len = msg_len[t];
	int64_t start;

	for (i = 0; i < len; i++)
		msg[i] = (uint8_t)(0x30 + i * 5);
	wire_put16(msg, (uint16_t)len);
	wire_put16(msg + 2, 1);
	wire_put32(msg + 4, 0x1A2B3C4Du);
	wire_put16(msg + 8, (uint16_t)t);
	wire_put16(msg + 10, 0);
	switch (t) {
	case 8:
	case 10:
		wire_put16(msg + 12, sid);
		wire_put16(msg + 14, peer);
		msg[16] = (param & 0x20) ? 2 : 1;
		break;
	case 13:
		wire_put16(msg + 12, sid);
		wire_put16(msg + 14, 0);
		msg[16] = 1;
		break;
	default:
		wire_put16(msg + 12, peer);
		wire_put16(msg + 14, 0);
		break;
	}
	stream_add(1, msg, len);
	start = sd->rcv_len;
	send_seg(1, start, sd->snd + start,
		 (uint32_t)RTE_MIN((int64_t)sd->snd_len - start, (int64_t)MSS), RTE_TCP_ACK_FLAG);
}

static bool
clear_match(const struct pptp_xlate_info *xi, void *arg)
{
	return (xi->xlated_cid & 1) == *(const uint8_t *)arg;
}

struct gate_pick {
	unsigned want, seen;
	struct flow_session *g;
};

static int
gate_find(struct flow_session *s, void *arg)
{
	struct gate_pick *gp = arg;

	if (!(s->flags & FLOW_F_ALG_MADE))
		return 0;
	if (gp->seen++ == gp->want) {
		gp->g = s;
		return 1;
	}
	return 0;
}

static void
op_control(struct input *in, uint8_t op)
{
	uint8_t param = 0;

	take(in, &param);
	switch ((op & 0x7f) % 9) {
	case 0:   /* time passes */
		now += param + 1u;
		flow_set_clock(ft, now);
		age_all();
		conn_check_alive();
		break;
	case 1: { /* CLI: clear alg pptp xlate */
		uint8_t parity = param & 1;

		pptp_clear(alg, (param & 2) ? clear_match : NULL, &parity);
		break;
	}
	case 2: { /* a GRE gate ages out or is cleared */
		struct gate_pick gp = { 0, 0, NULL };
		uint32_t cursor = 0;
		unsigned n;

		flow_walk(ft, &cursor, MAX_SESS, gate_find, &gp);
		n = gp.seen;
		if (n == 0)
			break;
		gp = (struct gate_pick){ param % n, 0, NULL };
		cursor = 0;
		flow_walk(ft, &cursor, MAX_SESS, gate_find, &gp);
		if (gp.g != NULL)
			flow_delete(ft, gp.g, false);
		break;
	}
	case 3:   /* the client resets and connects again from another port */
		send_seg(0, cn.d[0].rcv_len, nothing, 0, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
		conn_drop();
		conn_open(false);
		break;
	case 4:
		quiesce();
		break;
	case 5:
		pptp_set_timeout(alg, param + 1u);
		break;
	case 6: { /* RST, then the same tuple for a new connection */
		bool sure = cn.sure && cn.d[0].syn_seen;

		send_seg(param & 1, cn.d[param & 1].rcv_len, nothing, 0,
			 RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
		model_reset(true);
		cn.sure = sure;
		cn.d[0].syn_seen = send_seg(0, 0, nothing, 0, RTE_TCP_SYN_FLAG) == 0;
		cn.d[1].syn_seen = send_seg(1, 0, nothing, 0, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) == 0;
		break;
	}
	case 7:   /* the control session goes; the client comes back on the same tuple */
		conn_drop();
		conn_open(true);
		break;
	default:
		server_reply(param);
		break;
	}
}

/* ---------------------------------------------------------------- the input */

static int
collect(struct flow_session *s, void *arg)
{
	struct flow_session **v = arg;
	unsigned i;

	for (i = 0; i < MAX_SESS && v[i] != NULL; i++)
		;
	if (i < MAX_SESS)
		v[i] = s;
	return 0;
}

/* Delete every session and reclaim: the tables must be empty. */
static void
teardown_all(void)
{
	struct flow_session *v[MAX_SESS + 1];
	struct nat_addr_info ai;
	struct pptp_stats st;
	struct flow_stats fs;
	uint32_t cursor = 0;
	unsigned i;

	memset(v, 0, sizeof(v));
	flow_walk(ft, &cursor, MAX_SESS, collect, v);
	for (i = 0; i < MAX_SESS && v[i] != NULL; i++)
		flow_delete(ft, v[i], false);
	cn.s = NULL;
	for (i = 0; i < 3; i++)
		age_all();
	flow_stats_get(ft, &fs);
	pptp_stats_get(alg, &st);
	if (fs.alloc != 0 || fs.pending_free != 0)
		fail("sessions left after deleting them all");
	if (st.xlate_used != 0)
		fail("xlate entries left after every session went");
	if (st.ctrl_used != 0)
		fail("control states left after every session went");
	if (pptp_addr_info(alg, PUB, &ai) != 0 || ai.used != 0)
		fail("Call IDs left allocated after every call went");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t op;

	if (size < 1 || size > 16384)
		return -1;
	n_inputs++;
	cfg = data[0];
	in.p++;
	in.left--;
	now = T0;
	flow_set_clock(ft, now);
	flow_set_timeout(ft, FLOW_TMO_TCP, 1800);
	flow_set_timeout(ft, FLOW_TMO_TCP_SYN, 20);
	flow_set_timeout(ft, FLOW_TMO_TCP_CLOSING, 10);
	flow_set_timeout(ft, FLOW_TMO_GRE, 100);
	pptp_set_timeout(alg, PPTP_DEFAULT_TIMEOUT);
	memset(&cn, 0, offsetof(struct conn, d));
	n_fwd = n_drop = 0;
	memset(drops, 0, sizeof(drops));
	cn.npairs = 0;
	conn_open(false);
	while (take(&in, &op)) {
		if (op & 0x80)
			op_control(&in, op);
		else
			op_segment(&in, op);
		global_check();
	}
	if (verbose) {
		struct pptp_stats st;
		unsigned i;

		pptp_stats_get(alg, &st);
		fprintf(stderr, "input %lu: %u conns, fwd %u drop %u, rcv %u/%u, sure %d, pairs %u; "
			"alg: calls %lu/%lu gates %lu failed %lu desync %lu;",
			(unsigned long)n_inputs, cn.gen, n_fwd, n_drop, cn.d[0].rcv_len, cn.d[1].rcv_len,
			cn.sure, cn.npairs, (unsigned long)st.calls_opened, (unsigned long)st.calls_closed,
			(unsigned long)st.gates_opened, (unsigned long)st.failed,
			(unsigned long)st.desynced);
		for (i = 0; i < PPTP_ERR_MAX; i++)
			if (st.err[i] != 0)
				fprintf(stderr, " %s=%lu", pptp_err_name(i), (unsigned long)st.err[i]);
		for (i = 0; i < PKT_DROP_MAX; i++)
			if (drops[i] != 0)
				fprintf(stderr, " drop:%s=%u", pkt_drop_name(i), drops[i]);
		fprintf(stderr, "\n");
	}
	teardown_all();
	return 0;
}
