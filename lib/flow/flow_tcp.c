/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP state of a session, per direction: what each side sent and
 * acknowledged (struct flow_tcp_peer), so that a segment that an off-path
 * sender can forge - a RST, a FIN, a SYN, or data meant to move the
 * window - changes state only when its sequence number is one the
 * receiving endpoint would accept (pf's window check; RFC 5961 for RST and
 * SYN). The established fast path keeps the windows current with
 * flow_tcp_fast (flow.h); everything else comes here.
 */
#include <netinet/in.h>

#include <rte_tcp.h>

#include "flow.h"
#include "pkt_drop.h"

#define TCPOPT_EOL    0
#define TCPOPT_NOP    1
#define TCPOPT_WSCALE 3
#define TCP_MAX_WSCALE 14   /* RFC 7323 */

/* The window scale a SYN's options offer (hlen bytes of header), or -1. */
static int
syn_wscale(const struct rte_tcp_hdr *th, uint32_t hlen)
{
	const uint8_t *o = (const uint8_t *)(th + 1);
	uint32_t n = hlen > sizeof(*th) ? hlen - (uint32_t)sizeof(*th) : 0, i = 0;

	while (i < n) {
		if (o[i] == TCPOPT_EOL)
			break;
		if (o[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			break;
		if (o[i] == TCPOPT_WSCALE && o[i + 1] == 3)
			return RTE_MIN(o[i + 2], TCP_MAX_WSCALE);
		i += o[i + 1];
	}
	return -1;
}

/*
 * p starts over from its SYN th at seq with plen bytes (TCP Fast Open):
 * nothing acknowledged yet, so until the answer ack holds ISN + 1, the
 * least an answer may acknowledge.
 */
static void
peer_start(struct flow_tcp_peer *p, const struct rte_tcp_hdr *th, uint32_t hlen, uint32_t seq,
	   uint32_t plen)
{
	int ws = syn_wscale(th, hlen);

	__atomic_store_n(&p->end, seq + 1 + plen, __ATOMIC_RELAXED);
	__atomic_store_n(&p->ack, seq + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&p->max_win, rte_be_to_cpu_16(th->rx_win), __ATOMIC_RELAXED);
	p->wscale = ws < 0 ? 0 : (uint8_t)ws;
	__atomic_store_n(&p->state, (uint8_t)(FLOW_TCPP_SYN | (ws < 0 ? 0 : FLOW_TCPP_WS)),
			 __ATOMIC_RELEASE);
}

/* p's window from its SYN (never scaled) in the units of its scaled windows, rounded up. */
static void
syn_win_scale(struct flow_tcp_peer *p)
{
	uint32_t w = ((uint32_t)p->max_win + (1u << p->wscale) - 1) >> p->wscale;

	__atomic_store_n(&p->max_win, (uint16_t)w, __ATOMIC_RELAXED);
}

/* Whether sequence number seq lies in [lo, hi] (modulo 2^32). */
static inline bool
seq_between(uint32_t seq, uint32_t lo, uint32_t hi)
{
	return seq - lo <= hi - lo;
}

/* The receiver's window on the sender src's sequence space: [RCV.NXT at least, its right edge). */
static inline uint32_t
rcv_win(const struct flow_tcp_peer *dst)
{
	return ((uint32_t)__atomic_load_n(&dst->max_win, __ATOMIC_RELAXED) << dst->wscale) + 1;
}

/* A SYN from the initiator (dir 0) or the responder (dir 1). */
static int
syn_input(struct flow_session *s, unsigned dir, const struct rte_tcp_hdr *th, uint32_t hlen,
	  uint32_t seq, uint32_t ack, uint32_t plen)
{
	struct flow_tcp_peer *src = &s->tcpp[dir], *dst = &s->tcpp[dir ^ 1];
	uint8_t t = __atomic_load_n(&s->tcp, __ATOMIC_RELAXED);
	bool has_ack = th->tcp_flags & RTE_TCP_ACK_FLAG;
	bool closed = (t & FLOW_TCP_RST) ||
		      (t & (FLOW_TCP_FIN0 | FLOW_TCP_FIN1)) == (FLOW_TCP_FIN0 | FLOW_TCP_FIN1);

	if ((src->state & FLOW_TCPP_SYN) && seq + 1 + plen == src->end && !closed)
		return 0;   /* a retransmission */
	if (dir == 0 && !has_ack) {
		/* The initiator's first SYN, one before any answer, or a new connection on
		 * the tuple of a closed one: everything starts afresh, the timeout too. */
		if (!(src->state & FLOW_TCPP_SYN) || !(t & FLOW_TCP_SYN1) || closed) {
			__atomic_store_n(&dst->state, 0, __ATOMIC_RELAXED);
			peer_start(src, th, hlen, seq, plen);
			__atomic_store_n(&s->tcp, FLOW_TCP_SYN0, __ATOMIC_RELAXED);
			return 0;
		}
	} else if (dir == 1 && !(t & FLOW_TCP_SYN1) && !closed) {
		/* The answer: a SYN-ACK must acknowledge the initiator's SYN (with Fast
		 * Open, its data or not), else the initiator resets it. A bare SYN (a
		 * simultaneous open) passes but is not taken: anyone could send one. */
		if (!has_ack)
			return 0;
		if (!seq_between(ack, dst->ack, dst->end))
			return PKT_DROP_TCP_OUT_OF_WINDOW;
		peer_start(src, th, hlen, seq, plen);
		__atomic_store_n(&src->ack, ack, __ATOMIC_RELAXED);
		if ((src->state & dst->state & FLOW_TCPP_WS) == 0)
			src->wscale = dst->wscale = 0;   /* scaling only when both offered it */
		else {
			/* The SYNs' windows are not scaled: kept in the units of what follows. */
			syn_win_scale(src);
			syn_win_scale(dst);
		}
		/* The initiator's RCV.NXT once it has the SYN-ACK. */
		__atomic_store_n(&dst->ack, seq + 1, __ATOMIC_RELAXED);
		__atomic_fetch_or(&s->tcp, FLOW_TCP_SYN1, __ATOMIC_RELAXED);
		return 0;
	}
	/* A SYN on an open connection (RFC 5961 4): in the window the endpoint
	 * answers with a challenge ACK, so it passes and changes nothing here. */
	if ((dst->state & FLOW_TCPP_SYN) && (src->state & FLOW_TCPP_SYN) &&
	    seq_between(seq, dst->ack, dst->ack + rcv_win(dst) - 1))
		return 0;
	return PKT_DROP_TCP_OUT_OF_WINDOW;
}

/* A RST: resets only at what the receiver expects next, passes in its window. */
static int
rst_input(struct flow_session *s, unsigned dir, const struct rte_tcp_hdr *th, uint32_t seq,
	  uint32_t ack)
{
	const struct flow_tcp_peer *src = &s->tcpp[dir], *dst = &s->tcpp[dir ^ 1];
	bool exact;

	if (!(src->state & FLOW_TCPP_SYN))
		/* The responder before its SYN-ACK: the initiator (SYN-SENT) takes a RST
		 * only when it acknowledges its SYN (RFC 793, RFC 5961 3.2). */
		exact = (th->tcp_flags & RTE_TCP_ACK_FLAG) && seq_between(ack, dst->ack, dst->end);
	else if (!(dst->state & FLOW_TCPP_SYN))
		/* The initiator before the SYN-ACK: the responder expects ISN + 1. */
		exact = seq == src->end;
	else if ((int32_t)(src->end - dst->ack) >= 0 && seq_between(seq, dst->ack, src->end))
		/* The receiver's RCV.NXT lies between what it acknowledged and what the
		 * sender sent (a FIN counted). */
		exact = true;
	else if (seq_between(seq, dst->ack, dst->ack + rcv_win(dst) - 1))
		return 0;   /* in the window: the endpoint sends a challenge ACK */
	else
		exact = false;
	if (!exact)
		return PKT_DROP_TCP_RST_BAD;
	__atomic_fetch_or(&s->tcp, FLOW_TCP_RST, __ATOMIC_RELAXED);
	return 0;
}

/*
 * A segment (ACK, no SYN or RST) from src of a session whose tracking came
 * from the HA peer, outside the windows that copy gives: the copy is
 * stale by what the endpoints sent since the peer's last refresh. Taken,
 * and the tracking re-anchored to it, when its end and acknowledgement lie
 * within FLOW_TCP_PICKUP_SPAN of the copy (anywhere when the copy predates
 * that side's SYN); only once per side. Returns true if taken.
 */
static bool
tcp_pickup(struct flow_session *s, unsigned dir, const struct rte_tcp_hdr *th, uint32_t seq,
	   uint32_t ack, uint32_t end)
{
	struct flow_tcp_peer *src = &s->tcpp[dir], *dst = &s->tcpp[dir ^ 1];
	uint8_t ss = __atomic_load_n(&src->state, __ATOMIC_RELAXED);
	uint16_t win = rte_be_to_cpu_16(th->rx_win);

	if (!(ss & FLOW_TCPP_SYNCED))
		return false;
	if ((ss & FLOW_TCPP_SYN) &&
	    (end - src->end + FLOW_TCP_PICKUP_SPAN > 2 * FLOW_TCP_PICKUP_SPAN ||
	     ((dst->state & FLOW_TCPP_SYN) &&
	      ack - dst->end + FLOW_TCP_PICKUP_SPAN > 2 * FLOW_TCP_PICKUP_SPAN)))
		return false;
	if (!(ss & FLOW_TCPP_SYN)) {
		src->wscale = 14;   /* unknown: the widest, for this one connection */
		__atomic_store_n(&src->end, end, __ATOMIC_RELAXED);
		__atomic_store_n(&src->ack, ack, __ATOMIC_RELAXED);
	}
	flow_tcp_advance(src, end, ack, win);
	if (!(dst->state & FLOW_TCPP_SYN)) {
		dst->wscale = 14;
		__atomic_store_n(&dst->end, ack, __ATOMIC_RELAXED);
		__atomic_store_n(&dst->ack, seq, __ATOMIC_RELAXED);
		__atomic_store_n(&dst->max_win, 0xffff, __ATOMIC_RELAXED);
		__atomic_store_n(&dst->state, (uint8_t)(dst->state | FLOW_TCPP_SYN), __ATOMIC_RELAXED);
	} else {
		/* src acknowledges what dst sent; dst has received up to where src sends now. */
		if ((int32_t)(ack - dst->end) > 0)
			__atomic_store_n(&dst->end, ack, __ATOMIC_RELAXED);
		if ((int32_t)(seq - dst->ack) > 0)
			__atomic_store_n(&dst->ack, seq, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&src->state, (uint8_t)((ss | FLOW_TCPP_SYN) & ~FLOW_TCPP_SYNCED),
			 __ATOMIC_RELAXED);
	if ((__atomic_load_n(&s->tcp, __ATOMIC_RELAXED) & (FLOW_TCP_SYN0 | FLOW_TCP_SYN1)) !=
	    (FLOW_TCP_SYN0 | FLOW_TCP_SYN1))
		__atomic_fetch_or(&s->tcp, FLOW_TCP_SYN0 | FLOW_TCP_SYN1, __ATOMIC_RELAXED);
	return true;
}

int
flow_tcp_input(struct flow_session *s, unsigned dir, const struct rte_tcp_hdr *th,
	       uint32_t hlen, uint32_t plen)
{
	struct flow_tcp_peer *src = &s->tcpp[dir & 1], *dst = &s->tcpp[(dir & 1) ^ 1];
	const uint8_t f = th->tcp_flags;
	const uint32_t seq = rte_be_to_cpu_32(th->sent_seq), ack = rte_be_to_cpu_32(th->recv_ack);
	uint32_t end;
	uint8_t t;

	dir &= 1;
	if (f & RTE_TCP_SYN_FLAG)
		return syn_input(s, dir, th, hlen, seq, ack, plen);
	if (f & RTE_TCP_RST_FLAG)
		return rst_input(s, dir, th, seq, ack);
	end = seq + plen + !!(f & RTE_TCP_FIN_FLAG);
	if (unlikely(src->state & FLOW_TCPP_SYNCED) && (f & RTE_TCP_ACK_FLAG)) {
		/* A copy from the HA peer: in its windows it is current (the mark goes), else picked up. */
		if ((src->state & dst->state & FLOW_TCPP_SYN) && flow_tcp_in_window(src, dst, end, ack))
			__atomic_store_n(&src->state, (uint8_t)(src->state & ~FLOW_TCPP_SYNCED),
					 __ATOMIC_RELAXED);
		else if (tcp_pickup(s, dir, th, seq, ack, end))
			return 0;
	}
	if (!(src->state & FLOW_TCPP_SYN))
		/* The responder before its SYN-ACK: nothing it sends is expected. */
		return PKT_DROP_TCP_OUT_OF_WINDOW;
	if (!(dst->state & FLOW_TCPP_SYN))
		return 0;   /* the initiator before any answer: passes, changes nothing */
	/* Only a SYN and a RST may come without ACK (RFC 793 3.9): the endpoint drops the rest. */
	if (!(f & RTE_TCP_ACK_FLAG))
		return PKT_DROP_TCP_NO_ACK;
	if (!flow_tcp_in_window(src, dst, end, ack))
		return PKT_DROP_TCP_OUT_OF_WINDOW;
	flow_tcp_advance(src, end, ack, rte_be_to_cpu_16(th->rx_win));
	t = __atomic_load_n(&s->tcp, __ATOMIC_RELAXED);
	if (f & RTE_TCP_FIN_FLAG) {
		uint8_t b = dir ? FLOW_TCP_FIN1 : FLOW_TCP_FIN0;

		if (!(t & b))
			__atomic_fetch_or(&s->tcp, b, __ATOMIC_RELAXED);
	} else if (unlikely((t & FLOW_TCP_RST) && dir == 0)) {
		/* The initiator goes on after a RST the responder's side did not take
		 * (it was in flight, or at a byte the endpoint had not reached): the
		 * session keeps its established timeout. */
		__atomic_fetch_and(&s->tcp, (uint8_t)~FLOW_TCP_RST, __ATOMIC_RELAXED);
	}
	return 0;
}
