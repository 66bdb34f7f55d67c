/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every reason dpnat drops or punts a packet, as one list. The list makes the
 * enum, the per-worker counter array and the names `get counter flow` prints,
 * so a new reason is one line here and nothing else.
 */
#ifndef DPNAT_PKT_DROP_H
#define DPNAT_PKT_DROP_H

#include <stdint.h>

/* X(enum suffix, name printed by the CLI, one-line help) */
#define DPNAT_FOREACH_DROP(X)                                                  \
	X(NONE,            "none",             "not dropped")                 \
	X(RUNT,            "runt",             "frame shorter than its headers") \
	X(MULTI_SEG,       "multi-seg",        "headers, an ICMP error or a PPTP control segment not whole in the first mbuf of a chain (jumbo frame)") \
	X(L2_NOT_FOR_US,   "l2-not-for-us",    "destination MAC is neither ours nor broadcast") \
	X(ETHERTYPE,       "ethertype",        "neither IPv4 nor ARP")        \
	X(VLAN,            "vlan",             "tagged frame dpnat does not take (802.1ad QinQ, stacked tags)") \
	X(VLAN_UNKNOWN,    "vlan-unknown",     "802.1Q tag of no subinterface on the port it came in") \
	X(ARP_BAD,         "arp-bad",          "malformed or non-IPv4 ARP")   \
	X(ARP_NOT_FOR_US,  "arp-not-for-us",   "ARP for an address that is not ours") \
	X(IP_VERSION,      "ip-version",       "IP version is not 4")         \
	X(IP_HDR_LEN,      "ip-hdr-len",       "IPv4 header length invalid")  \
	X(IP_TOTAL_LEN,    "ip-total-len",     "IPv4 total length disagrees with the frame") \
	X(IP_CSUM,         "ip-csum",          "IPv4 header checksum wrong")  \
	X(IP_SRC_BAD,      "ip-src-bad",       "source is multicast, broadcast or zero") \
	X(IP_FRAG,         "ip-frag",          "IPv4 fragment whose first fragment was not seen (or has no session)") \
	X(FRAG_TABLE_FULL, "frag-table-full",  "first fragment refused: fragment table full (set flow frag max)") \
	X(L4_SHORT,        "l4-short",         "transport header truncated")  \
	X(TTL_EXCEEDED,    "ttl-exceeded",     "TTL ran out (ICMP time exceeded sent)") \
	X(FRAG_NEEDED,     "frag-needed",      "larger than the egress MTU with DF set (ICMP fragmentation needed sent)") \
	X(MTU_EXCEEDED,    "mtu-exceeded",     "larger than the egress MTU without DF (dpnat does not fragment)") \
	X(NO_ROUTE,        "no-route",         "no route to destination")     \
	X(IFACE_DOWN,      "iface-down",       "egress interface has no port") \
	X(NEIGH_QUEUE_FULL,"neigh-queue-full", "next hop unresolved and its queue full") \
	X(NEIGH_TABLE_FULL,"neigh-table-full", "neighbour table full")        \
	X(NEIGH_FAILED,    "neigh-failed",     "next hop did not answer ARP") \
	X(NEIGH_REMOVED,   "neigh-removed",    "queued for a next hop whose entry was cleared") \
	X(PUNT_RING_FULL,  "punt-ring-full",   "slow path ring to the control lcore full") \
	X(TX_FULL,         "tx-full",          "port transmit queue full")    \
	X(TX_MULTI_SEG,    "tx-multi-seg",     "frame in several mbufs for a port that sends only one (no multi-segment transmit)") \
	X(TO_ME_UNHANDLED, "to-me-unhandled",  "addressed to dpnat, not ICMP echo") \
	X(ICMP_BAD,        "icmp-bad",         "malformed ICMP")              \
	X(POLICY_DENY,     "policy-deny",      "denied by policy")            \
	X(NO_POLICY,       "no-policy",        "no policy matches the zone pair") \
	X(NO_SESSION,      "no-session",       "untrust to trust without a session") \
	X(WRONG_IFACE,     "wrong-iface",      "matches a session but arrived on another interface (spoofed)") \
	X(TCP_RST_BAD,     "tcp-rst-bad",      "RST outside the receiver's window (blind reset)") \
	X(TCP_OUT_OF_WINDOW, "tcp-out-of-window", "TCP segment outside the receiver's window (blind or stale)") \
	X(TCP_NO_ACK,      "tcp-no-ack",       "TCP segment without ACK on an open connection") \
	X(TCP_NOT_SYN,     "tcp-not-syn",      "first packet of a TCP flow is not a SYN") \
	X(SESSION_FULL,    "session-full",     "session table full")          \
	X(SRC_SESSION_LIMIT, "src-session-limit", "source host at its session limit (screen limit-session)") \
	X(SRC_TABLE_FULL,  "src-table-full",   "no room to count another source host") \
	X(NAT_NO_PORT,     "nat-no-port",      "no free public port")         \
	X(NAT_NO_ADDR,     "nat-no-addr",      "no public address for NAT")   \
	X(NAT_PBA_MAX,     "nat-pba-max-blocks", "subscriber's port blocks all full and at set nat port-block max-blocks") \
	X(NAT_PBA_NO_BLOCK, "nat-pba-no-block", "no free port block on the address, or no room for another subscriber") \
	X(NAT_DET_OUTSIDE, "nat-det-outside",  "source outside the deterministic DIP pool's inside prefix") \
	X(NAT_DET_FULL,    "nat-det-range-full", "every port of the subscriber's deterministic range in use") \
	X(SRC_PORT_LIMIT,  "src-port-limit",   "subscriber at set nat subscriber-limit ports") \
	X(NAT_MAP_FULL,    "nat-map-full",     "no room for an endpoint-independent mapping (set nat mapping max)") \
	X(ICMP_ERR_NO_SESSION, "icmp-err-no-session", "ICMP error for an unknown flow") \
	X(GRE_NO_GATE,     "gre-no-gate",      "GRE matching no PPTP call")   \
	X(GRE_BAD,         "gre-bad",          "malformed GRE header")        \
	X(PPTP_BAD,        "pptp-bad",         "malformed PPTP control message or desynced stream") \
	X(PPTP_GAP,        "pptp-gap",         "PPTP control segment out of order or too old to replay") \
	X(PPTP_NO_CALL,    "pptp-no-call",     "PPTP message from inside names an unknown call") \
	X(PPTP_XLATE_FAIL, "pptp-xlate-fail",  "no PPTP xlate entry or Call ID left") \
	X(PPTP_SPLIT,      "pptp-split",       "PPTP segment starts inside a Call ID field") \
	X(PPTP_FRAG,       "pptp-frag",        "fragmented PPTP control segment (the ALG parses whole segments)") \
	X(PPTP_CKSUM,      "pptp-cksum",       "PPTP control segment with a wrong TCP checksum") \
	X(PPTP_HELD,       "pptp-held",        "PPTP rewrite held back until the receiver acknowledges older ones") \
	X(PPTP_CTRL_LIMIT, "pptp-ctrl-limit",  "client holds its most PPTP control connections") \
	X(HA_STANDBY,      "ha-standby",       "received while not the active box of an HA pair (NSRP role init or standby)") \
	X(MBUF_ALLOC,      "mbuf-alloc",       "no mbuf for a generated packet") \
	X(SHUTDOWN,        "shutdown",         "dropped while stopping")

/** Drop reasons; PKT_DROP_NONE is 0. */
enum pkt_drop {
#define DPNAT_DROP_ENUM(e, s, h) PKT_DROP_##e,
	DPNAT_FOREACH_DROP(DPNAT_DROP_ENUM)
#undef DPNAT_DROP_ENUM
	PKT_DROP_MAX
};

/** Name of a drop reason as the CLI prints it ("no-route"); "?" if out of range. */
const char *pkt_drop_name(unsigned reason);

/** One-line help text of a drop reason. */
const char *pkt_drop_help(unsigned reason);

#endif /* DPNAT_PKT_DROP_H */
