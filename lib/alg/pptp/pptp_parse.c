/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PPTP control-stream parser. Each direction of a control connection is
 * a byte stream: messages may be split across segments or share one, and
 * segments may be retransmitted or overlap. Per direction the parser keeps
 * the next expected sequence number, the first bytes of the message in
 * progress (every field of interest lies at offsets 0..16) and a log of the
 * Call ID rewrites it made, so a retransmission gets exactly the same bytes
 * and allocates nothing.
 *
 * One descriptor per control message type says its exact length and what
 * its Call ID fields are; the parser is one routine for all fifteen.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "cksum.h"
#include "pptp_priv.h"

#define PPTP_PARSE_UPTO 17   /* bytes of a message the parser looks at (result code at 16) */

/* What a 16-bit field at offset 12 or 14 of a message is. */
enum fld_role {
	F_NONE = 0,
	F_OWN_NEW,     /* sender's own Call ID of a new call (request, or reply to the peer's request) */
	F_OWN_LOOKUP,  /* sender's own Call ID of an existing call (CCRQ) */
	F_OWN_CLEAR,   /* sender's own Call ID of a call that ends (CDN; some senders name the peer's) */
	F_PEER,        /* the receiver's Call ID */
};

struct msg_desc {
	uint16_t len;      /* exact length (RFC 2637) */
	uint8_t f12;       /* role of the field at 12 */
	uint8_t f14;       /* role of the field at 14 */
	uint8_t result;    /* result code at 16 decides the call (OCRP, ICRP) */
	uint8_t stop;      /* ends the control connection: all calls go */
};

static const struct msg_desc msg_desc[16] = {
	[1]  = { 156, F_NONE, F_NONE, 0, 0 },            /* SCCRQ */
	[2]  = { 156, F_NONE, F_NONE, 0, 0 },            /* SCCRP */
	[3]  = { 16,  F_NONE, F_NONE, 0, 1 },            /* StopCCRQ */
	[4]  = { 16,  F_NONE, F_NONE, 0, 1 },            /* StopCCRP */
	[5]  = { 16,  F_NONE, F_NONE, 0, 0 },            /* Echo-Request */
	[6]  = { 20,  F_NONE, F_NONE, 0, 0 },            /* Echo-Reply */
	[7]  = { 168, F_OWN_NEW, F_NONE, 0, 0 },         /* OCRQ */
	[8]  = { 32,  F_OWN_NEW, F_PEER, 1, 0 },         /* OCRP */
	[9]  = { 220, F_OWN_NEW, F_NONE, 0, 0 },         /* ICRQ */
	[10] = { 24,  F_OWN_NEW, F_PEER, 1, 0 },         /* ICRP */
	[11] = { 28,  F_PEER, F_NONE, 0, 0 },            /* ICCN */
	[12] = { 16,  F_OWN_LOOKUP, F_NONE, 0, 0 },      /* CCRQ */
	[13] = { 148, F_OWN_CLEAR, F_NONE, 0, 0 },       /* CDN */
	[14] = { 40,  F_PEER, F_NONE, 0, 0 },            /* WEN */
	[15] = { 24,  F_PEER, F_NONE, 0, 0 },            /* SLI */
};

#define PPTP_MSG_CTRL    1
#define PPTP_RESULT_OK   1   /* OCRP "Connected", ICRP "Connect" */

/* One segment being parsed. */
struct pctx {
	struct pptp_alg *a;
	struct pptp_ctrl *ctrl;
	struct pptp_dir *d;
	struct flow_session *s;
	struct rte_mbuf *m;
	struct pkt_meta *md;
	uint8_t *pkt;          /* frame start */
	uint8_t *l4;           /* TCP header */
	uint32_t ci;           /* control state index */
	uint32_t pstart;       /* frame offset of the first payload byte */
	uint32_t end;          /* frame offset past the last payload byte */
	uint32_t seq;          /* sequence number of the first payload byte */
	uint32_t now;
	unsigned dir;
	unsigned w;
	bool trimmed;
};

static inline uint16_t
hdr16(const struct pptp_dir *d, unsigned off)
{
	return (uint16_t)(d->hdr[off] << 8 | d->hdr[off + 1]);
}

static inline rte_be16_t
hdr_be16(const struct pptp_dir *d, unsigned off)
{
	rte_be16_t v;

	memcpy(&v, &d->hdr[off], 2);
	return v;
}

static inline uint32_t
seq_at(const struct pctx *x, uint32_t p)
{
	return x->seq + (p - x->pstart);
}

static inline uint16_t
tcp_ck_get(const struct pctx *x)
{
	uint16_t ck;

	memcpy(&ck, x->l4 + offsetof(struct rte_tcp_hdr, cksum), 2);
	return ck;
}

static inline void
tcp_ck_set(struct pctx *x, uint16_t ck)
{
	memcpy(x->l4 + offsetof(struct rte_tcp_hdr, cksum), &ck, 2);
}

/* Set one payload byte, patching the TCP checksum for its place in its 16-bit word. */
static void
patch_byte(struct pctx *x, uint32_t p, uint8_t nb)
{
	uint8_t o2[2] = { 0, 0 }, n2[2] = { 0, 0 };
	unsigned half = (p - x->md->l4_off) & 1;
	uint16_t ov, nv;

	if (x->pkt[p] == nb)
		return;
	o2[half] = x->pkt[p];
	n2[half] = nb;
	memcpy(&ov, o2, 2);
	memcpy(&nv, n2, 2);
	tcp_ck_set(x, cksum_adjust16(tcp_ck_get(x), ov, nv));
	x->pkt[p] = nb;
}

/* The oldest rewrite in the log (nlog > 0). */
static inline const struct pptp_rwlog *
log_oldest(const struct pptp_dir *d)
{
	return &d->log[(d->log_head + PPTP_LOG_N - d->nlog) % PPTP_LOG_N];
}

/*
 * Forget the rewrites the receiver acknowledged: it never needs those bytes
 * again. Only they go, so every retransmission it may still need finds its
 * rewrites (the parser holds new rewrites back while the log is full).
 */
static void
log_evict(struct pptp_dir *d)
{
	while (d->nlog > 0) {
		uint32_t end = log_oldest(d)->seq + 2;

		if ((int32_t)(d->acked - end) < 0)
			break;
		d->log_floor = end;
		d->nlog--;
	}
}

static void
log_add(struct pptp_dir *d, uint32_t seq, const uint8_t *old, const uint8_t *new_)
{
	struct pptp_rwlog *e = &d->log[d->log_head];

	if (d->nlog == PPTP_LOG_N)
		d->log_floor = e->seq + 2;   /* not reached: parse() holds a rewrite back when full */
	else
		d->nlog++;
	e->seq = seq;
	memcpy(e->old, old, 2);
	memcpy(e->new_, new_, 2);
	d->log_head = (uint8_t)((d->log_head + 1) % PPTP_LOG_N);
}

/* Rewrite the Call ID at frame offset p (both bytes in this segment) and log it. */
static void
rewrite16(struct pctx *x, uint32_t p, rte_be16_t nv)
{
	uint8_t *fp = x->pkt + p;
	uint16_t ov, o, n;

	memcpy(&ov, fp, 2);
	if (ov == nv)
		return;
	/* A field at an odd offset from the TCP header straddles two checksum words. */
	if ((p - x->md->l4_off) & 1) {
		o = rte_bswap16(ov);
		n = rte_bswap16(nv);
	} else {
		o = ov;
		n = nv;
	}
	tcp_ck_set(x, cksum_adjust16(tcp_ck_get(x), o, n));
	memcpy(fp, &nv, 2);
	log_add(x->d, seq_at(x, p), (const uint8_t *)&ov, (const uint8_t *)&nv);
}

/* Bytes [seq, seq + n) were seen before: give them the logged rewrites again. */
static bool
replay(struct pctx *x, uint32_t n)
{
	const struct pptp_dir *d = x->d;
	bool any = false;
	unsigned i, b;

	for (i = 0; i < d->nlog; i++) {
		const struct pptp_rwlog *e = &d->log[(d->log_head + PPTP_LOG_N - 1 - i) % PPTP_LOG_N];

		for (b = 0; b < 2; b++) {
			uint32_t rel = e->seq + b - x->seq;

			if (rel < n) {
				patch_byte(x, x->pstart + rel, e->new_[b]);
				any = true;
			}
		}
	}
	return any;
}

/*
 * Keep only the payload before frame offset at: the sender resends the rest.
 * IP length and checksum fixed, TCP checksum recomputed, FIN dropped (it
 * follows the removed bytes). Returns 0, or why when nothing would be left.
 */
static int
seg_trim(struct pctx *x, uint32_t at, int why)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(x->pkt + x->md->l3_off);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)x->l4;
	rte_be16_t old_tot = ip->total_length, new_tot;
	uint16_t l4_len;

	if (at == x->pstart)
		return why;
	new_tot = rte_cpu_to_be_16((uint16_t)(at - x->md->l3_off));
	ip->hdr_checksum = cksum_adjust16(ip->hdr_checksum, old_tot, new_tot);
	ip->total_length = new_tot;
	if (x->m->pkt_len > at)
		rte_pktmbuf_trim(x->m, (uint16_t)(x->m->pkt_len - at));
	th->tcp_flags = (uint8_t)(th->tcp_flags & ~RTE_TCP_FIN_FLAG);
	l4_len = (uint16_t)(at - x->md->l4_off);
	th->cksum = 0;
	th->cksum = cksum_l4_full(ip->src_addr, ip->dst_addr, IPPROTO_TCP, x->l4, l4_len);
	x->md->l4_len = l4_len;
	x->md->tcp_flags = th->tcp_flags;
	x->end = at;
	x->trimmed = true;
	return 0;
}

/*
 * Cut the first n payload bytes: the receiver acknowledged them, and their
 * rewrites left the log. The segment then starts at the first byte it may
 * still need (or carries none: an ACK the receiver answers, which unwedges
 * a sender whose ACK was lost). Lengths fixed, TCP checksum recomputed.
 */
static void
seg_cut_front(struct pctx *x, uint32_t n)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(x->pkt + x->md->l3_off);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)x->l4;
	rte_be16_t old_tot = ip->total_length, new_tot;
	uint16_t l4_len;

	memmove(x->pkt + x->pstart, x->pkt + x->pstart + n, x->end - x->pstart - n);
	x->end -= n;
	x->seq += n;
	new_tot = rte_cpu_to_be_16((uint16_t)(x->end - x->md->l3_off));
	ip->hdr_checksum = cksum_adjust16(ip->hdr_checksum, old_tot, new_tot);
	ip->total_length = new_tot;
	rte_pktmbuf_trim(x->m, (uint16_t)(x->m->pkt_len - x->end));
	th->sent_seq = rte_cpu_to_be_32(x->seq);
	l4_len = (uint16_t)(x->end - x->md->l4_off);
	th->cksum = 0;
	th->cksum = cksum_l4_full(ip->src_addr, ip->dst_addr, IPPROTO_TCP, x->l4, l4_len);
	x->md->l4_len = l4_len;
}

/* The call the message in progress names, if still alive and ours. */
static struct pptp_call *
cur_call(struct pctx *x)
{
	struct pptp_call *c;

	if (x->d->cur_call == PPTP_NONE)
		return NULL;
	c = &x->a->calls[x->d->cur_call];
	if (c->gen != x->d->cur_gen || !pptp_call_alive(c) || c->ctrl != x->ci)
		return NULL;
	return c;
}

static void
cur_set(struct pctx *x, struct pptp_call *c)
{
	x->d->cur_call = pptp_call_idx(x->a, c);
	x->d->cur_gen = c->gen;
	__atomic_store_n(&c->last_seen, x->now, __ATOMIC_RELAXED);
}

/* Must the field at off be whole in one segment (it is rewritten, or its failure drops)? */
static inline bool
field_atomic(unsigned role, unsigned dir)
{
	if (dir == 0)
		return role == F_OWN_NEW || role == F_OWN_LOOKUP || role == F_OWN_CLEAR;
	/* A server's CDN may name the translated id, which the client must get back as its own. */
	return role == F_PEER || role == F_OWN_CLEAR;
}

/* A field that must be whole, at frame offset p. 0 or a drop reason (nothing consumed then). */
static int
field_whole(struct pctx *x, const struct msg_desc *dsc, unsigned role, uint32_t p)
{
	struct pptp_alg *a = x->a;
	struct pptp_call *c;
	rte_be16_t v;

	memcpy(&v, x->pkt + p, 2);
	if (x->dir == 0) {
		c = pptp_call_find_fwd(a, x->ci, v);
		if (role == F_OWN_NEW) {
			/* The inside names a new call. A retransmitted request reuses its entry;
			 * an id reused for a call that was already up starts afresh. */
			if (c != NULL && __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == PPTP_CALL_OPEN) {
				pptp_call_teardown(a, x->ctrl, c);
				c = NULL;
			}
			if (c == NULL)
				c = pptp_call_new(a, x->ci, v, x->w, x->now);
			if (c == NULL)
				return PKT_DROP_PPTP_XLATE_FAIL;
		} else if (c == NULL && role == F_OWN_CLEAR &&
			   (c = pptp_call_find_scid(a, x->ci, v)) != NULL) {
			/* A CDN naming the server's id (RFC 2637 leaves it open): it passes as is. */
			pptp_err(a, PPTP_ERR_CDN_PEER_ID);
			cur_set(x, c);
			pptp_call_teardown(a, x->ctrl, c);
			return 0;
		} else if (c == NULL) {
			pptp_err(a, PPTP_ERR_UNKNOWN_CID);
			/*
			 * The call is gone (the server's CDN crossed this CCRQ, a CLI clear,
			 * a timeout). The inside id must not leave, but dropping would wedge
			 * the stream: the sender resends the same bytes forever. Call ID 0
			 * names no call of ours; the server ignores or refuses it. The
			 * rewrite is logged, so a retransmission gets the same 0.
			 */
			if (x->ctrl->nat)
				rewrite16(x, p, 0);
			return 0;
		}
		rewrite16(x, p, c->xcid);
		cur_set(x, c);
		if (role == F_OWN_CLEAR)
			pptp_call_teardown(a, x->ctrl, c);
		return 0;
	}
	if (role == F_OWN_CLEAR) {
		/* A server's CDN names its own id, or (some servers) the translated one,
		 * which goes back to the client's own. Either way the call ends. */
		c = pptp_call_find_scid(a, x->ci, v);
		if (c == NULL && (c = pptp_call_find_rev(a, x->ci, v)) != NULL) {
			pptp_err(a, PPTP_ERR_CDN_PEER_ID);
			rewrite16(x, p, c->ccid);
		}
		if (c == NULL) {
			pptp_err(a, PPTP_ERR_UNKNOWN_CID);
			return 0;
		}
		cur_set(x, c);
		pptp_call_teardown(a, x->ctrl, c);
		return 0;
	}
	/* Outside: the peer's (our translated) id goes back to the client's own. */
	c = pptp_call_find_rev(a, x->ci, v);
	if (c == NULL) {
		pptp_err(a, PPTP_ERR_UNKNOWN_CID);
		return 0;
	}
	rewrite16(x, p, c->ccid);
	cur_set(x, c);
	if (dsc->result && c->gate[0] == NULL && c->gate[1] == NULL) {
		/* A reply: its own id (offset 12, already read) is the server's Call ID. */
		c->scid = hdr_be16(x->d, 12);
		c->has_scid = 1;
	}
	return 0;
}

/* A field that may be split, complete in hdr at off. */
static void
field_done(struct pctx *x, const struct msg_desc *dsc, unsigned role, unsigned off)
{
	struct pptp_call *c;

	if (x->dir == 0 && role == F_PEER && dsc->result) {
		/* The inside's reply names the server's id as the peer's. */
		c = cur_call(x);
		if (c != NULL && c->gate[0] == NULL && c->gate[1] == NULL) {
			c->scid = hdr_be16(x->d, off);
			c->has_scid = 1;
		}
	}
}

/* The result code of a reply decides the call: gates open, or the call goes. */
static void
result_done(struct pctx *x)
{
	struct pptp_call *c = cur_call(x);

	if (c == NULL)
		return;
	if (x->d->hdr[16] == PPTP_RESULT_OK)
		pptp_call_open(x->a, c, x->s, x->w, x->now);
	else
		pptp_call_teardown(x->a, x->ctrl, c);
}

static int
desync(struct pctx *x, enum pptp_err e)
{
	pptp_err(x->a, e);
	if (!x->ctrl->desync) {
		x->ctrl->desync = 1;
		pptp_cnt_add(&x->a->cnt.desynced, 1);
	}
	return PKT_DROP_PPTP_BAD;
}

/* Header checks and split fields as the count of bytes seen reaches n. 0 or a drop reason. */
static int
header_byte(struct pctx *x, unsigned n)
{
	struct pptp_dir *d = x->d;
	const struct msg_desc *dsc;
	uint16_t ct;

	switch (n) {
	case 2:
		d->msg_len = hdr16(d, 0);
		if (d->msg_len < PPTP_MIN_LEN || d->msg_len > PPTP_MAX_LEN)
			return desync(x, PPTP_ERR_BAD_LEN);
		return 0;
	case 4:
		return hdr16(d, 2) == PPTP_MSG_CTRL ? 0 : desync(x, PPTP_ERR_BAD_TYPE);
	case 8:
		return ((uint32_t)hdr16(d, 4) << 16 | hdr16(d, 6)) == PPTP_MAGIC ?
			0 : desync(x, PPTP_ERR_BAD_MAGIC);
	case 10:
		ct = hdr16(d, 8);
		if (ct == 0 || ct >= RTE_DIM(msg_desc))
			return desync(x, PPTP_ERR_BAD_CTRL);
		return msg_desc[ct].len == d->msg_len ? 0 : desync(x, PPTP_ERR_WRONG_LEN);
	default:
		break;
	}
	if (n < 14)
		return 0;
	dsc = &msg_desc[hdr16(d, 8)];
	if (n == 14 && dsc->f12 != F_NONE && !field_atomic(dsc->f12, x->dir))
		field_done(x, dsc, dsc->f12, 12);
	else if (n == 16 && dsc->f14 != F_NONE && !field_atomic(dsc->f14, x->dir))
		field_done(x, dsc, dsc->f14, 14);
	else if (n == 17 && dsc->result)
		result_done(x);
	return 0;
}

static void
msg_end(struct pctx *x)
{
	struct pptp_dir *d = x->d;

	if (msg_desc[hdr16(d, 8)].stop) {
		pptp_ctrl_teardown_all(x->a, x->ctrl);
		x->ctrl->closing = 1;
	}
	d->consumed = 0;
	d->msg_len = 0;
	d->cur_call = PPTP_NONE;
}

/* New bytes from frame offset p (sequence number d->next) to the end. 0 or a drop reason. */
static int
parse(struct pctx *x, uint32_t p)
{
	struct pptp_dir *d = x->d;
	const uint32_t first = p;
	int rc = 0;

	while (p < x->end) {
		uint32_t rem = x->end - p;
		unsigned off = d->consumed;

		if (off >= PPTP_PARSE_UPTO) {
			uint32_t n = RTE_MIN(rem, (uint32_t)(d->msg_len - off));

			d->consumed = (uint16_t)(off + n);
			p += n;
		} else {
			const struct msg_desc *dsc = off >= 10 ? &msg_desc[hdr16(d, 8)] : NULL;
			unsigned role = dsc == NULL ? F_NONE : off == 12 ? dsc->f12 :
					off == 14 ? dsc->f14 : F_NONE;

			if (role != F_NONE && field_atomic(role, x->dir)) {
				if (rem < 2) {
					/* Ends inside a Call ID: let the sender resend it whole. */
					pptp_err(x->a, PPTP_ERR_SPLIT_TRIM);
					rc = seg_trim(x, p, PKT_DROP_PPTP_SPLIT);
					break;
				}
				if (d->nlog == PPTP_LOG_N) {
					/* No room to remember its rewrite: the sender resends it
					 * once the receiver acknowledged older ones. */
					pptp_err(x->a, PPTP_ERR_LOG_FULL);
					rc = seg_trim(x, p, PKT_DROP_PPTP_HELD);
					break;
				}
				memcpy(&d->hdr[off], x->pkt + p, 2);
				rc = field_whole(x, dsc, role, p);
				if (rc != 0) {
					/* Refused: hold back the whole message when it began in
					 * this segment (nothing before its Call IDs acts), else
					 * from the field on. The sender resends it. */
					if (p - first >= off) {
						p -= off;
						d->consumed = 0;
						d->msg_len = 0;
						d->cur_call = PPTP_NONE;
					}
					rc = seg_trim(x, p, rc);
					break;
				}
				d->consumed = (uint16_t)(off + 2);
				p += 2;
			} else {
				d->hdr[off] = x->pkt[p];
				d->consumed = (uint16_t)(off + 1);
				p++;
				rc = header_byte(x, d->consumed);
				if (rc != 0)
					return rc;
			}
		}
		if (d->consumed == d->msg_len)
			msg_end(x);
	}
	d->next = seq_at(x, p);
	return rc;
}

/* The payload of a segment: replay what was seen, parse what is new. */
static int
stream_input(struct pctx *x)
{
	struct pptp_dir *d = x->d;
	uint32_t plen = x->end - x->pstart, old;
	int32_t ahead;

	if (x->ctrl->desync) {
		pptp_err(x->a, PPTP_ERR_DESYNC);
		return PKT_DROP_PPTP_BAD;
	}
	if (!d->known) {
		pptp_err(x->a, PPTP_ERR_NO_ISN);
		return PKT_DROP_PPTP_GAP;
	}
	ahead = (int32_t)(x->seq - d->next);
	if (ahead > 0) {
		/* A hole before it: the sender retransmits in order. */
		pptp_err(x->a, PPTP_ERR_GAP);
		return PKT_DROP_PPTP_GAP;
	}
	if ((int32_t)(x->seq - d->log_floor) < 0) {
		/* Older than the log: the receiver acknowledged those bytes (only acknowledged
		 * rewrites leave the log); they go, and what it may still need stays. */
		uint32_t cut = RTE_MIN(plen, d->log_floor - x->seq);

		if (x->md->tcp_flags & RTE_TCP_SYN_FLAG) {
			/* Data on a SYN from before the stream: nothing to cut it to. */
			pptp_err(x->a, PPTP_ERR_GAP);
			return PKT_DROP_PPTP_GAP;
		}
		pptp_err(x->a, PPTP_ERR_ACKED_CUT);
		seg_cut_front(x, cut);
		plen -= cut;
		ahead += (int32_t)cut;
		if (plen == 0)
			return 0;
	}
	old = RTE_MIN(plen, (uint32_t)-ahead);
	if (old > 0) {
		if (replay(x, old))
			pptp_err(x->a, PPTP_ERR_RETRANS);
		if (old == plen)
			return 0;
	}
	return parse(x, x->pstart + old);
}

/* The TCP checksum of the segment holds (the port's verdict when it gave one). */
static bool
tcp_cksum_ok(const struct rte_mbuf *m, const uint8_t *pkt, const struct pkt_meta *md, uint32_t end)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(pkt + md->l3_off);

	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
		return true;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return false;
	default:
		return cksum_l4_full(ip->src_addr, ip->dst_addr, IPPROTO_TCP, pkt + md->l4_off,
				     end - md->l4_off) == 0;
	}
}

/* Could plen bytes at pl be a client's first bytes (a Start-Control-Connection-Request)? */
static bool
msg_start(const uint8_t *pl, uint32_t plen)
{
	static const uint8_t head[10] = { 0, 156, 0, PPTP_MSG_CTRL, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1 };
	uint32_t i;

	for (i = 0; i < RTE_MIN(plen, (uint32_t)sizeof(head)); i++)
		if (pl[i] != head[i])
			return false;
	return true;
}

/*
 * No control state yet: the client's first segment after the server's
 * SYN-ACK completes the handshake and takes one (its sequence number and
 * acknowledgement give both streams' starts; with data, only if it can be
 * the stream's first message, an SCCRQ). Before that nothing is parsed: an
 * unanswered SYN costs no state. 0 to go on, or a drop reason.
 */
static int
ctrl_handshake(struct pptp_alg *a, struct flow_session *s, unsigned dir, uint8_t flags,
	       const struct rte_tcp_hdr *th, const uint8_t *pl, uint32_t plen)
{
	if (__atomic_load_n(&s->alg, __ATOMIC_ACQUIRE) == PPTP_CTRL_GONE)
		return PKT_DROP_NO_SESSION;
	if (dir == 0 && (flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG)) ==
	    RTE_TCP_ACK_FLAG && (__atomic_load_n(&s->tcp, __ATOMIC_RELAXED) & FLOW_TCP_SYN1) &&
	    msg_start(pl, plen)) {
		switch (pptp_ctrl_take(a, s, rte_be_to_cpu_32(th->sent_seq) - 1,
				       rte_be_to_cpu_32(th->recv_ack) - 1)) {
		case 0:
			return 0;
		case -EBUSY:
			return PKT_DROP_PPTP_CTRL_LIMIT;
		case -ENOSPC:
			return PKT_DROP_PPTP_XLATE_FAIL;
		default:
			return PKT_DROP_NO_SESSION;
		}
	}
	if (plen > 0) {
		pptp_err(a, PPTP_ERR_NO_ISN);
		return PKT_DROP_PPTP_GAP;
	}
	return 0;
}

/* An acknowledgement from the receiver of stream o: rewrites it covers leave o's log. */
static void
ack_input(struct pptp_dir *o, const struct pptp_dir *d, uint32_t seq, uint32_t ack)
{
	/* Only for bytes that left (<= o->next), from a segment near its own stream. */
	if (!o->known || (int32_t)(ack - o->acked) <= 0 || (int32_t)(ack - o->next) > 0 ||
	    (d->known && (uint32_t)(d->next - seq) > UINT16_MAX))
		return;
	o->acked = ack;
	log_evict(o);
}

int
pptp_ctrl_input(struct pptp_alg *a, unsigned w, struct flow_session *s, unsigned dir,
		struct rte_mbuf *m, struct pkt_meta *md, uint32_t now)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	struct pptp_ctrl *ctrl;
	struct pptp_dir *d;
	struct pctx x;
	uint32_t tot, doff;
	uint8_t flags;
	int rc = 0;

	if (!(s->flags & FLOW_F_ALG_CTRL) || s->alg_id != PPTP_ALG_ID || dir > 1 ||
	    md->l4_proto != IPPROTO_TCP || !(md->flags & PKT_F_L4_VALID))
		return 0;
	memset(&x, 0, sizeof(x));
	x.pkt = rte_pktmbuf_mtod(m, uint8_t *);
	ip = (const struct rte_ipv4_hdr *)(x.pkt + md->l3_off);
	tot = rte_be_to_cpu_16(ip->total_length);
	th = (const struct rte_tcp_hdr *)(x.pkt + md->l4_off);
	doff = (uint32_t)(th->data_off >> 4) * 4;
	x.pstart = md->l4_off + doff;
	x.end = md->l3_off + tot;
	if (x.end > x.pstart && !rte_pktmbuf_is_contiguous(m)) {
		/*
		 * Headers are in the first segment (pkt_parse); the payload must join
		 * them. A jumbo segment that does not fit one mbuf is refused.
		 */
		if (rte_pktmbuf_linearize(m) != 0)
			return PKT_DROP_MULTI_SEG;
		x.pkt = rte_pktmbuf_mtod(m, uint8_t *);
		th = (const struct rte_tcp_hdr *)(x.pkt + md->l4_off);
	}
	if (x.end < x.pstart || x.end > rte_pktmbuf_data_len(m))
		x.end = x.pstart;   /* no payload we can trust: pkt_parse checked lengths */
	flags = th->tcp_flags;
	x.seq = rte_be_to_cpu_32(th->sent_seq);
	/* Nothing a corrupted segment says may change state or leave re-checksummed. */
	if (!tcp_cksum_ok(m, x.pkt, md, x.end)) {
		pptp_err(a, PPTP_ERR_BAD_CKSUM);
		return PKT_DROP_PPTP_CKSUM;
	}
	if (__atomic_load_n(&s->alg, __ATOMIC_ACQUIRE) >= a->max_ctrl) {
		rc = ctrl_handshake(a, s, dir, flags, th, x.pkt + x.pstart, x.end - x.pstart);
		if (rc != 0 || __atomic_load_n(&s->alg, __ATOMIC_ACQUIRE) >= a->max_ctrl)
			return rc;
	}

	ctrl = &a->ctrl[s->alg];
	rte_spinlock_lock(&ctrl->lock);
	if (!ctrl->in_use || ctrl->sess != s) {
		/* The control session was freed while this segment was in flight. */
		rte_spinlock_unlock(&ctrl->lock);
		return PKT_DROP_NO_SESSION;
	}
	d = &ctrl->d[dir];
	if ((flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG && dir == 0 &&
	    ctrl->closing && d->known && x.seq != d->isn) {
		/* The closed connection's tuple is reused by a new one: both streams start afresh. */
		pptp_ctrl_teardown_all(a, ctrl);
		memset(ctrl->d, 0, sizeof(ctrl->d));
		ctrl->d[0].cur_call = ctrl->d[1].cur_call = PPTP_NONE;
		ctrl->closing = 0;
		ctrl->desync = 0;
	}
	if (flags & RTE_TCP_SYN_FLAG) {
		/* The stream starts at ISN + 1; a SYN resent before any data may change the ISN. */
		if (!d->known || (d->next == d->isn + 1 && d->consumed == 0 && d->nlog == 0)) {
			d->isn = x.seq;
			d->next = x.seq + 1;
			d->log_floor = d->acked = d->next;
			d->known = 1;
		}
		x.seq++;
	}
	if (flags & RTE_TCP_RST_FLAG) {
		const struct pptp_dir *o = &ctrl->d[dir ^ 1];

		/* RFC 5961: only a RST at exactly the next expected byte (after a FIN:
		 * the byte after it) resets the connection; before the sender's SYN was
		 * seen, one that acknowledges exactly the peer's SYN. Anything else that
		 * got here lies in the receiver's window (the session's tracking drops
		 * the rest): it passes for the endpoint's challenge ACK, ending nothing. */
		if (d->known ? x.seq != d->next && !(d->fin && x.seq == d->next + 1) :
			       !(flags & RTE_TCP_ACK_FLAG) || !o->known ||
				       rte_be_to_cpu_32(th->recv_ack) != o->isn + 1) {
			pptp_err(a, PPTP_ERR_RST_BAD);
			rte_spinlock_unlock(&ctrl->lock);
			return d->known ? 0 : PKT_DROP_TCP_RST_BAD;
		}
		pptp_ctrl_teardown_all(a, ctrl);
		ctrl->closing = 1;
		rte_spinlock_unlock(&ctrl->lock);
		return 0;
	}
	/* Not from a RST: only what the receiver's own segments say frees its rewrites. */
	if (flags & RTE_TCP_ACK_FLAG)
		ack_input(&ctrl->d[1 - dir], d, x.seq, rte_be_to_cpu_32(th->recv_ack));
	if (x.end > x.pstart) {
		x.a = a;
		x.ctrl = ctrl;
		x.d = d;
		x.s = s;
		x.m = m;
		x.md = md;
		x.l4 = x.pkt + md->l4_off;
		x.ci = s->alg;
		x.now = now;
		x.dir = dir;
		x.w = w;
		rc = stream_input(&x);
	}
	if (rc == 0 && (flags & RTE_TCP_FIN_FLAG) && !x.trimmed) {
		/* The FIN follows the payload: it ends the stream only at the next
		 * expected byte (forged ones are not; one beyond a hole ends nothing
		 * yet). It takes a sequence number, which a RST after it counts. */
		uint32_t fin = x.seq + (x.end - x.pstart);

		if (d->known && fin == d->next) {
			if (!d->fin) {
				d->fin = 1;
				pptp_ctrl_teardown_all(a, ctrl);
				ctrl->closing = 1;
			}
		} else {
			pptp_err(a, PPTP_ERR_FIN_BAD);
		}
	}
	rte_spinlock_unlock(&ctrl->lock);
	return rc;
}
