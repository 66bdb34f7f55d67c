/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpnat configuration: the ScreenOS-style `set`/`unset` language parsed into
 * one typed, fixed-size struct. The struct holds no pointers, so the control
 * lcore can copy it, change the copy and publish it. Nothing here depends on
 * DPDK; lines are parsed through the grammar of conf_grammar.h with lib/cli's
 * engine (lib/conf depends on lib/cli, never the other way round).
 *
 * All addresses are IPv4 in host byte order.
 */
#ifndef DPNAT_CONF_H
#define DPNAT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_NAME_LEN      32   /**< interface/zone/address names, incl. NUL */
#define CONF_PORT_LEN      64   /**< DPDK port id or device name, incl. NUL */
#define CONF_PATH_LEN      108  /**< unix socket path (sun_path), incl. NUL */
#define CONF_MAX_IFACES    16
#define CONF_MAX_ZONES     8
#define CONF_MAX_POLICIES  256
#define CONF_MAX_ROUTES    256
#define CONF_MAX_ARPS      256
#define CONF_MAX_DIPS      32
#define CONF_MAX_SYSLOG    4
#define CONF_MAX_IPFIX     4    /**< `set log nat ipfix collector`: collectors at most */
#define CONF_ERR_LEN       256  /**< size of the error buffers below */
#define CONF_MTU_DEFAULT   1500 /**< `set interface X mtu`: ScreenOS's default */
#define CONF_MTU_MIN       576  /**< smallest MTU accepted (RFC 791 datagram every host takes) */
#define CONF_MTU_MAX       9000 /**< largest MTU accepted (jumbo frames) */
#define CONF_VLAN_MAX      4094 /**< largest 802.1Q VLAN id of a subinterface */

/** One interface (`set interface NAME ...`). */
struct conf_iface {
	char name[CONF_NAME_LEN];  /**< e.g. "ethernet4/1" */
	char zone[CONF_NAME_LEN];  /**< "" when no zone is bound */
	char port[CONF_PORT_LEN];  /**< "" when no DPDK port is bound (shown down) */
	uint32_t ip;               /**< interface address, valid if has_ip */
	uint8_t plen;              /**< prefix length of ip */
	bool has_ip;
	bool nat;                  /**< `set interface X nat`: NAT mode */
	bool route_mode;           /**< `set interface X route`: route mode */
	uint16_t mtu;              /**< `set interface X mtu N`: IP MTU, CONF_MTU_DEFAULT unless set */
	uint16_t tag;              /**< `set interface P.N tag T`: 802.1Q VLAN id on P's port, 0: untagged */
	bool builtin;              /**< predefined (vlan1), not written by get config unless changed */
};

/** A DIP pool (`set interface NAME dip ID LOW HIGH`). */
struct conf_dip {
	uint32_t id;
	char iface[CONF_NAME_LEN];
	uint32_t low;              /**< first public address */
	uint32_t high;             /**< last public address, >= low */
	bool det;                  /**< `... deterministic inside P/LEN`: RFC 7422 mapping */
	uint32_t det_inside;       /**< the inside prefix (host order) */
	uint8_t det_plen;          /**< its length */
};

/** A policy (`set policy id N from Z to Z SRC DST SERVICE permit|deny [nat src [dip-id ID]]`). */
struct conf_policy {
	uint32_t id;
	char from_zone[CONF_NAME_LEN];
	char to_zone[CONF_NAME_LEN];
	char src_addr[CONF_NAME_LEN];  /**< only "Any" is understood today */
	char dst_addr[CONF_NAME_LEN];  /**< only "Any" is understood today */
	char service[CONF_NAME_LEN];   /**< "ANY", "PPTP", "HTTP", ... */
	bool permit;
	bool nat_src;                  /**< `nat src` given */
	uint32_t dip_id;               /**< 0 = egress interface address */
};

/** A static route (`set route PREFIX/LEN interface NAME [gateway IP]`). */
struct conf_route {
	uint32_t prefix;
	uint8_t plen;
	char iface[CONF_NAME_LEN];
	uint32_t gateway;              /**< 0 = directly connected */
};

/** A static ARP entry (`set arp IP MAC INTERFACE`). */
struct conf_arp {
	uint32_t ip;
	uint8_t mac[6];
	char iface[CONF_NAME_LEN];
};

/** Table sizes; each has a `set ... max N` line. */
struct conf_limits {
	uint32_t sessions;       /**< `set session max N`, default 1048576 */
	uint32_t pptp_xlate;     /**< `set alg pptp xlate max N`, default 2000 */
	uint32_t pptp_per_src;   /**< `set alg pptp control per-source N`: control connections per client, default 64 */
	uint32_t neighbors;      /**< `set arp max N`, default 1024 */
	uint32_t neigh_queue;    /**< `set arp queue N`: packets held per unresolved neighbour, default 4 */
	uint32_t mbufs;          /**< `set mbuf max N`, default 16384 */
	uint32_t frags;          /**< `set flow frag max N`: fragmented datagrams tracked, default 4096 */
	uint32_t pptp_per_client;  /**< `set alg pptp xlate per-client N`: calls per inside host, default 128 */
	uint32_t nat_maps;       /**< `set nat mapping max N`: endpoint-independent mappings, default 65536 */
};

/** Timeouts in seconds; `set session timeout PROTO N`, `set alg pptp ... timeout N`, `set arp timeout N`. */
struct conf_timeouts {
	uint32_t tcp;            /**< established TCP, default 1800 */
	uint32_t tcp_closing;    /**< after FIN/RST, default 10 */
	uint32_t tcp_syn;        /**< before the handshake completes, default 20 */
	uint32_t udp;            /**< default 60 */
	uint32_t icmp;           /**< default 60 */
	uint32_t gre;            /**< PPTP GRE data sessions, default 1800 (ScreenOS 30 min) */
	uint32_t other;          /**< any other protocol, default 60 */
	uint32_t pptp_xlate;     /**< xlate entry without traffic, default 1800 */
	uint32_t arp;            /**< dynamic neighbour entries, default 1200 */
	uint32_t frag;           /**< `set flow frag timeout N`: a datagram's fragments trail its first by at most, default 5 */
	uint32_t profile;        /**< `set session timeout profile`: CONF_TMO_SCREENOS (default) or CONF_TMO_RFC */
};

/** `set session timeout profile`: whose defaults the session timeouts start from. */
#define CONF_TMO_SCREENOS 0
#define CONF_TMO_RFC      1

/** RFC 4787/5382/5508 behaviour (`set nat ...`); all off by default: ScreenOS's behaviour. */
struct conf_nat {
	bool eim;                /**< `set nat mapping endpoint-independent` (RFC 4787 REQ-1, RFC 5382 REQ-1) */
	bool eif;                /**< `set nat filtering endpoint-independent`: full cone */
	bool hairpin;            /**< `set nat hairpin` (RFC 4787 REQ-9, RFC 5382 REQ-8, RFC 5508 REQ-7) */
	uint8_t port_keep;       /**< `set nat port-preserve [parity]`: CONF_PORT_* */
};

#define CONF_PORT_ANY      0   /**< public ports round robin (ScreenOS) */
#define CONF_PORT_PRESERVE 1   /**< the inside port when free (RFC 4787 REQ-3) */
#define CONF_PORT_PARITY   2   /**< ... else one of the same parity (REQ-4) */

/** A zone's screen (`set zone NAME screen limit-session source-ip-based N`). */
struct conf_screen {
	char zone[CONF_NAME_LEN];
	uint32_t limit_src;      /**< sessions one source host may hold from this zone */
};

/** The whole configuration. */
struct conf {
	struct conf_iface ifaces[CONF_MAX_IFACES];
	unsigned n_ifaces;
	struct conf_dip dips[CONF_MAX_DIPS];
	unsigned n_dips;
	struct conf_policy policies[CONF_MAX_POLICIES];
	unsigned n_policies;           /**< in evaluation order */
	struct conf_route routes[CONF_MAX_ROUTES];
	unsigned n_routes;
	struct conf_arp arps[CONF_MAX_ARPS];
	unsigned n_arps;
	struct conf_limits limits;
	struct conf_timeouts timeouts;
	struct conf_nat nat;
	struct conf_screen screens[CONF_MAX_ZONES];  /**< zones whose limit is not the default */
	unsigned n_screens;
	bool alg_pptp;                 /**< `set alg pptp enable`, default on */
	char socket_path[CONF_PATH_LEN];  /**< `set cli socket PATH`, default /run/dpnat/dpnat.sock */
	uint32_t socket_mode;          /**< `set cli socket-mode 0660`, default 0660 */
	char socket_group[CONF_NAME_LEN];  /**< `set cli socket-group NAME`, "" = the daemon's group */
	uint32_t metrics_ip;           /**< `set metrics listen A.B.C.D:PORT` (Prometheus) */
	uint16_t metrics_port;         /**< 0: no metrics endpoint (the default) */
	uint32_t worker_idle_us;       /**< `set worker idle-sleep USEC`, default 0 (pure poll) */
	bool log_nat;                  /**< `set log nat enable`, default off */
	uint32_t log_nat_queue;        /**< `set log nat queue N`, records per lcore (start-up only) */
	uint32_t pba_size;             /**< `set nat port-block size N`: ports per block, 0 = no port blocks (start-up only) */
	uint32_t pba_max_blocks;       /**< `set nat port-block max-blocks N`: blocks per subscriber, default 8 */
	uint32_t pba_interim;          /**< `set nat port-block interim-log S`: seconds, 0 = none (the default) */
	uint32_t pba_subscribers;      /**< `set nat port-block subscribers N`: table size (start-up only) */
	uint32_t port_limit;           /**< `set nat subscriber-limit ports N`: public ports per inside host, 0 = none */
	bool syslog_on;                /**< `set syslog enable`, default off */
	unsigned n_syslog;
	struct conf_collector {
		uint32_t ip;           /**< host order */
		uint16_t port;         /**< default 514 (syslog), 4739 (IPFIX) */
	} syslog[CONF_MAX_SYSLOG];    /**< `set syslog config A.B.C.D [port N]` */
	bool ipfix_on;                 /**< `set log nat ipfix enable`, default off */
	uint32_t ipfix_refresh;        /**< `set log nat ipfix template-refresh N`, seconds */
	uint32_t ipfix_mtu;            /**< `set log nat ipfix mtu N`: largest IPFIX datagram, IP header included */
	unsigned n_ipfix;
	struct conf_collector ipfix[CONF_MAX_IPFIX];  /**< `set log nat ipfix collector A.B.C.D [port N]` */
	/* The HA pair (docs/ha.md): NSRP's vocabulary, keepalived decides who is active. */
	uint32_t nsrp_cluster;         /**< `set nsrp cluster id N`, 0: no pair (standalone, the default) */
	uint32_t nsrp_local;           /**< `set nsrp local A.B.C.D`: own address on the HA link, host order */
	uint32_t nsrp_peer;            /**< `set nsrp peer A.B.C.D`: sync is sent to and taken from it alone */
	uint16_t nsrp_port;            /**< `set nsrp sync-port N`, UDP, both ends */
	uint32_t nsrp_queue;           /**< `set nsrp queue N`: sync events per lcore (start-up only) */
	uint32_t nsrp_refresh;         /**< `set nsrp refresh N`: seconds between refreshes of a live session */
};

/** Parser state carried between lines (the `set policy id N` ... `exit` context). */
struct conf_ctx {
	const char *file;          /**< name used in error messages */
	unsigned line;             /**< current line number, 1-based */
	unsigned col;              /**< after a failed line: column (1-based) of the word at fault, 0 if none */
	int policy_ctx;            /**< index of the policy whose context is open, or -1 */
};

/** Fill c with the built-in defaults (and the predefined vlan1 interface). */
void conf_init(struct conf *c);

/** Start a parser context for lines coming from file (any label, e.g. "cli"). */
void conf_ctx_init(struct conf_ctx *ctx, const char *file);

/**
 * Apply one configuration line to c. Blank lines and lines starting with '#'
 * are accepted and ignored. ctx->line must already hold this line's number.
 * The line is parsed through the one grammar (conf_grammar.h).
 * Returns 0, or -1 with "FILE:LINE: message" in err and the column of the
 * word at fault in ctx->col (nothing changed in c).
 */
int conf_apply_line(struct conf *c, struct conf_ctx *ctx, const char *line,
		    char *err, size_t errlen);

/** Load a whole file into c (on top of its current content). Returns 0 or -1 with "FILE:LINE: column C: message" in err. */
int conf_load_file(struct conf *c, const char *path, char *err, size_t errlen);

/** Load configuration text (several lines) into c. Returns 0 or -1 with err set. */
int conf_load_string(struct conf *c, const char *label, const char *text,
		     char *err, size_t errlen);

/** Check cross references (routes/arps/dips name known interfaces, ...). Returns 0 or -1 with err set. */
int conf_validate(const struct conf *c, char *err, size_t errlen);

/** Write c as `set` lines that load back into the same state. Returns 0 or -1 on write error. */
int conf_dump(const struct conf *c, FILE *out);

/** Find an interface by name; NULL if absent. */
const struct conf_iface *conf_iface_find(const struct conf *c, const char *name);
/** Index in c->routes of the static route for prefix/plen (any next hop), or -1. */
int conf_route_index(const struct conf *c, uint32_t prefix, uint8_t plen);

/** Index of interface name in c->ifaces, or -1. */
int conf_iface_index(const struct conf *c, const char *name);

/** Sessions one source may hold when it enters from zone (its screen, or the default). */
uint32_t conf_zone_limit_src(const struct conf *c, const char *zone);

/** Find a DIP pool by id; NULL if absent. */
const struct conf_dip *conf_dip_find(const struct conf *c, uint32_t id);

/** Format an address a.b.c.d into buf (at least 16 bytes); returns buf. */
char *conf_ip_str(uint32_t ip, char *buf);

/** Parse a.b.c.d into *ip. Returns 0 or -1. */
int conf_parse_ip(const char *s, uint32_t *ip);

/*
 * The defaults of the limits and timeouts that libraries apply before the
 * configuration is pushed to them (lib/flow, the PPTP ALG): one home, here.
 * docs/configuration.md gives each with its statement.
 */
#define CONF_DEF_TMO_TCP         1800   /**< `set session timeout tcp` (established), and so on */
#define CONF_DEF_TMO_TCP_SYN     20
#define CONF_DEF_TMO_TCP_CLOSING 10
#define CONF_DEF_TMO_UDP         60
#define CONF_DEF_TMO_ICMP        60
#define CONF_DEF_TMO_GRE         1800   /**< PPTP GRE data (ScreenOS: 30 min) */
#define CONF_DEF_TMO_OTHER       60
#define CONF_DEF_NAT_MAPS        65536  /**< `set nat mapping max` */
/* `set session timeout profile rfc`: RFC 5382 REQ-5 (established >= 2 h 4 min, transitory >= 4 min),
 * RFC 4787 REQ-5 (UDP >= 2 min, 5 min recommended), RFC 5508 REQ-1 (ICMP query >= 60 s). */
#define CONF_RFC_TMO_TCP         7440
#define CONF_RFC_TMO_TCP_SYN     240
#define CONF_RFC_TMO_TCP_CLOSING 240
#define CONF_RFC_TMO_UDP         300
#define CONF_RFC_TMO_ICMP        60
#define CONF_DEF_TMO_PPTP_XLATE  1800   /**< `set alg pptp xlate timeout` */
#define CONF_DEF_PPTP_XLATE      2000   /**< `set alg pptp xlate max` (KB: "2 out of 2000") */
#define CONF_DEF_PPTP_PER_SRC    64     /**< PPTP control connections per client address */
#define CONF_DEF_LOG_NAT_QUEUE   4096   /**< `set log nat queue` (records per lcore) */
#define CONF_DEF_SYSLOG_PORT     514    /**< `set syslog config A.B.C.D` without port */
#define CONF_DEF_PBA_MAX_BLOCKS  8      /**< `set nat port-block max-blocks` */
#define CONF_DEF_PBA_SUBS        65536  /**< `set nat port-block subscribers` */
#define CONF_MAX_PBA_BLOCKS      16     /**< as NAT_PBA_MAX_BLOCKS */
#define CONF_MIN_PBA_SIZE        16     /**< as NAT_PBA_MIN_SIZE */
#define CONF_DEF_IPFIX_PORT      4739   /**< `set log nat ipfix collector A.B.C.D` without port (RFC 7011) */
#define CONF_DEF_IPFIX_REFRESH   60     /**< `set log nat ipfix template-refresh` (seconds) */
#define CONF_DEF_NSRP_PORT       7100   /**< `set nsrp sync-port` */
#define CONF_DEF_NSRP_QUEUE      16384  /**< `set nsrp queue` (events per lcore) */
#define CONF_DEF_NSRP_REFRESH    1      /**< `set nsrp refresh` (seconds) */

#endif /* DPNAT_CONF_H */
