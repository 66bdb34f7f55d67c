/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one grammar of the configuration language: every `set` and `unset`
 * statement, written in lib/cli's syntax (see cli.h) with the ScreenOS value
 * types. lib/conf parses every configuration line through it (the file, the
 * SIGHUP reload, `set`/`unset` typed at the CLI) and the daemon's command
 * table includes it for `?` and Tab, so a keyword is written once, here.
 *
 * Layering (enforced by the build): lib/cli is the grammar engine and knows
 * nothing of configuration; lib/conf depends on lib/cli and owns this table,
 * the typed struct, validation and dump; app/dpnat includes the table in
 * its own command table with its handler.
 *
 * Use: #define X(syntax, help) { syntax, help, handler, NULL },
 *      CONF_GRAMMAR(X)
 * docs/configuration.md carries this list in its "Grammar" section; a unit
 * test (test_conf) fails when the two differ.
 */
#ifndef DPNAT_CONF_GRAMMAR_H
#define DPNAT_CONF_GRAMMAR_H

#include "cli.h"

#define CONF_N_POLICY "<number 1-4294967295:policy-id>"
#define CONF_N_DIP    "<number 1-65535:dip-id>"
#define CONF_POLICY_HEAD "set policy id " CONF_N_POLICY \
	" from <name:zone> to <name:zone> <name:src-addr> <name:dst-addr> <name:service> "

#define CONF_GRAMMAR(X) \
	X("set interface <name> zone <name:zone>", "bind an interface (created if new) to a zone") \
	X("set interface <name> tag <number 1-4094> [zone <name:zone>]", \
	  "make subinterface PARENT.N an 802.1Q VLAN of its parent's port") \
	X("set interface <name> ip <A.B.C.D/M:ip-address>", "the interface's address and prefix length") \
	X("set interface <name> nat", "NAT mode: sources leaving through it are translated") \
	X("set interface <name> route", "route mode: no translation") \
	X("set interface <name> port <name:port>", "bind the interface to a DPDK port (id or device)") \
	X("set interface <name> dip " CONF_N_DIP " <A.B.C.D:low> <A.B.C.D:high> " \
	  "[deterministic inside <A.B.C.D/M:inside-prefix>]", \
	  "a DIP pool: public addresses LOW to HIGH (deterministic: RFC 7422 mapping of a prefix)") \
	X("set interface <name> mtu <number 576-9000>", "the IP MTU (default 1500)") \
	X("unset interface <name> ip", "remove the interface's address") \
	X("unset interface <name> port", "unbind the interface from its port") \
	X("unset interface <name> mtu", "the MTU back to 1500") \
	X("unset interface <name> dip " CONF_N_DIP, "remove a DIP pool") \
	X(CONF_POLICY_HEAD "{ permit | deny } [nat src [dip-id <number 1-65535>]]", \
	  "a policy, added at the end or replaced in place") \
	X(CONF_POLICY_HEAD "nat src [dip-id <number 1-65535>] { permit | deny }", \
	  "the same, nat written first as ScreenOS does") \
	X("set policy id " CONF_N_POLICY, "enter a policy's context (closed by exit)") \
	X("unset policy id " CONF_N_POLICY, "remove a policy") \
	X("set route <A.B.C.D/M> interface <name> [gateway <A.B.C.D>]", "a static route") \
	X("unset route <A.B.C.D/M>", "remove a static route") \
	X("set arp <A.B.C.D> <name:mac> <name:interface>", "a static ARP entry") \
	X("set arp max <number 16-1048576>", "neighbour table size") \
	X("set arp queue <number 0-256>", "packets held per unresolved neighbour") \
	X("set arp timeout <number 1-86400>", "dynamic neighbour entry lifetime, seconds") \
	X("unset arp <A.B.C.D>", "remove a static ARP entry") \
	X("set session max <number 1-16777216>", "session table size") \
	X("set session timeout { tcp | tcp-syn | tcp-closing | udp | icmp | gre | other } " \
	  "<number 1-604800:timeout>", "idle timeout of a protocol's sessions, seconds") \
	X("set session timeout profile { screenos | rfc }", \
	  "the protocols' timeouts from ScreenOS's defaults or RFC 4787/5382/5508's") \
	X("set nat mapping endpoint-independent", \
	  "one public address and port per inside address and port, any destination (RFC 4787 REQ-1)") \
	X("unset nat mapping endpoint-independent", "a public port per session (ScreenOS)") \
	X("set nat mapping max <number 1-16777216>", "endpoint-independent mapping table size") \
	X("set nat filtering { endpoint-independent | address-and-port-dependent }", \
	  "who reaches a live mapping from Untrust: any host (full cone) or the ones it sent to") \
	X("set nat hairpin", "inside hosts reach each other through their public mappings (RFC 4787 REQ-9)") \
	X("unset nat hairpin", "no hairpinning") \
	X("set nat port-preserve [parity]", "keep the inside port when free (else, with parity, its parity)") \
	X("unset nat port-preserve", "public ports round robin (ScreenOS)") \
	X("set alg pptp enable", "turn the PPTP ALG on") \
	X("unset alg pptp enable", "turn the PPTP ALG off") \
	X("set alg pptp xlate max <number 1-4194304>", "PPTP Call-ID translation table size") \
	X("set alg pptp xlate per-client <number 1-4194304>", "PPTP calls one inside host may hold") \
	X("set alg pptp xlate timeout <number 1-604800>", "idle timeout of a PPTP call, seconds") \
	X("set alg pptp control per-source <number 1-4194304>", \
	  "PPTP control connections one client may hold") \
	X("set flow frag max <number 1-1048576>", "fragmented datagrams tracked") \
	X("set flow frag timeout <number 1-300>", "how long fragments may trail the first, seconds") \
	X("set zone <name:zone> screen limit-session source-ip-based <number 1-16777216>", \
	  "sessions one source host may hold from the zone") \
	X("unset zone <name:zone> screen limit-session source-ip-based", "the zone's limit back to the default") \
	X("set mbuf max <number 1024-16777216>", "packet buffer pool size") \
	X("set cli socket <name:path>", "the control socket's path") \
	X("set cli socket-mode <name:mode>", "the control socket's mode, octal") \
	X("set cli socket-group <name:group>", "the control socket's group") \
	X("unset cli socket-group", "the control socket in the daemon's group") \
	X("set worker idle-sleep <number 0-1000000>", "microseconds a worker sleeps after an empty poll") \
	X("set metrics listen <name:address>", "serve Prometheus metrics on A.B.C.D:PORT") \
	X("unset metrics listen", "no metrics endpoint") \
	X("set log nat enable", "log every session's creation and deletion (NAT event log)") \
	X("unset log nat enable", "no NAT event log") \
	X("set log nat queue <number 64-1048576:records>", "NAT event records each lcore may hold undrained") \
	X("set log nat ipfix collector <A.B.C.D:collector> [port <number 1-65535:ipfix-port>]", \
	  "an IPFIX collector: RFC 7011 over UDP, port 4739 unless given") \
	X("unset log nat ipfix collector <A.B.C.D:collector>", "remove an IPFIX collector") \
	X("set log nat ipfix enable", "send the NAT event log as IPFIX (RFC 8158 NAT events) to the collectors") \
	X("unset log nat ipfix enable", "no IPFIX") \
	X("set log nat ipfix template-refresh <number 1-3600:seconds>", \
	  "seconds between the templates re-sent to each collector") \
	X("set log nat ipfix mtu <number 576-9000:ipfix-mtu>", "the largest IPFIX datagram, IP header included") \
	X("set syslog config <A.B.C.D:collector> [port <number 1-65535:udp-port>]", \
	  "a syslog collector: RFC 5424 over UDP, port 514 unless given") \
	X("unset syslog config <A.B.C.D:collector>", "remove a syslog collector") \
	X("set syslog enable", "send the NAT event log as ScreenOS traffic logs to the collectors") \
	X("unset syslog enable", "no syslog") \
	X("set nat port-block size <number 16-32256:ports>", \
	  "port block allocation: a subscriber's ports in blocks of N (start-up only)") \
	X("set nat port-block max-blocks <number 1-16:blocks>", "port blocks one subscriber may hold") \
	X("set nat port-block interim-log <number 0-86400:seconds>", \
	  "log every held block again each S seconds (0: never)") \
	X("set nat port-block subscribers <number 1-16777216:subscribers>", \
	  "subscribers holding port blocks at most (start-up only)") \
	X("unset nat port-block", "no port block allocation (start-up only)") \
	X("set nat subscriber-limit ports <number 1-64512:ports>", "public ports one inside host may hold") \
	X("unset nat subscriber-limit ports", "no limit on a host's public ports") \
	X("set nsrp cluster id <number 1-7:cluster-id>", \
	  "join an HA pair: forward nothing until made active (exec nsrp role)") \
	X("unset nsrp cluster", "leave the HA pair: forward as a standalone box") \
	X("set nsrp local <A.B.C.D:ha-address>", "this box's address on the HA link") \
	X("set nsrp peer <A.B.C.D:peer-address>", "the peer's address on the HA link: sync only from it") \
	X("set nsrp sync-port <number 1-65535:sync-port>", "UDP port of session sync, both ends (default 7100)") \
	X("set nsrp queue <number 64-1048576:events>", "session sync events each lcore may hold unsent") \
	X("set nsrp refresh <number 1-60:seconds>", "seconds between refreshes of a live session on the peer")

/* Help of every keyword and argument key of CONF_GRAMMAR, as struct cli_word_help initialisers. */
#define CONF_GRAMMAR_WORDS \
	{ "set", "configure" }, \
	{ "unset", "remove configuration" }, \
	{ "interface", "network interfaces" }, \
	{ "zone", "security zone" }, \
	{ "tag", "802.1Q VLAN id of a subinterface" }, \
	{ "ip", "interface address" }, \
	{ "nat", "NAT mode / source translation" }, \
	{ "route", "routing table" }, \
	{ "port", "DPDK port" }, \
	{ "dip", "DIP pool" }, \
	{ "mtu", "IP MTU" }, \
	{ "policy", "security policies" }, \
	{ "policy id", "policy id" }, \
	{ "set flow", "flow settings" }, \
	{ "set nat", "NAT behaviour: port blocks, subscriber limits, mappings, filtering, hairpinning, ports" }, \
	{ "unset nat", "NAT behaviour: port blocks, subscriber limits, mappings, filtering, hairpinning, ports" }, \
	{ "interface dip", "DIP pool" }, \
	{ "interface nat", "NAT mode: sources leaving through it are translated" }, \
	{ "interface route", "route mode: no translation" }, \
	{ "id", "policy id" }, \
	{ "from", "zone the traffic comes from" }, \
	{ "to", "zone the traffic goes to" }, \
	{ "permit", "let the traffic pass" }, \
	{ "deny", "drop the traffic" }, \
	{ "src", "translate the source" }, \
	{ "dip-id", "translate to a DIP pool" }, \
	{ "gateway", "next hop" }, \
	{ "arp", "ARP (neighbour) table" }, \
	{ "max", "table size" }, \
	{ "queue", "packets held per unresolved neighbour" }, \
	{ "timeout", "idle timeout, seconds" }, \
	{ "session", "session table" }, \
	{ "tcp", "established TCP" }, \
	{ "tcp-syn", "TCP before the handshake completes" }, \
	{ "tcp-closing", "TCP after FIN or RST" }, \
	{ "udp", "UDP" }, \
	{ "icmp", "ICMP" }, \
	{ "gre", "GRE (PPTP data)" }, \
	{ "other", "any other protocol" }, \
	{ "alg", "application layer gateways" }, \
	{ "pptp", "the PPTP ALG" }, \
	{ "enable", "the ALG is on" }, \
	{ "xlate", "PPTP Call-ID translation table" }, \
	{ "per-client", "calls per inside host" }, \
	{ "control", "PPTP control connections" }, \
	{ "per-source", "control connections per client" }, \
	{ "flow", "flow settings" }, \
	{ "frag", "fragments of translated flows" }, \
	{ "screen", "zone screens" }, \
	{ "limit-session", "session limits" }, \
	{ "source-ip-based", "sessions per source host" }, \
	{ "mbuf", "packet buffer pool" }, \
	{ "cli", "the control socket" }, \
	{ "socket", "socket path" }, \
	{ "socket-mode", "socket file mode" }, \
	{ "socket-group", "socket file group" }, \
	{ "worker", "worker lcores" }, \
	{ "idle-sleep", "sleep after an empty poll" }, \
	{ "metrics", "Prometheus endpoint" }, \
	{ "listen", "address and port to listen on" }, \
	{ "log", "logging" }, \
	{ "log nat", "NAT event log: sessions made and deleted" }, \
	{ "nat enable", "NAT event records are made" }, \
	{ "syslog", "syslog collectors" }, \
	{ "config", "a collector" }, \
	{ "syslog enable", "syslog is sent" }, \
	{ "config port", "the collector's UDP port" }, \
	{ "<udp-port>", "UDP port, 514 unless given" }, \
	{ "<collector>", "collector address" }, \
	{ "nat queue", "undrained records each lcore may hold" }, \
	{ "port-block", "port block allocation" }, \
	{ "size", "ports per block" }, \
	{ "max-blocks", "blocks per subscriber" }, \
	{ "interim-log", "interim re-logging of held blocks" }, \
	{ "subscribers", "subscriber table size" }, \
	{ "subscriber-limit", "per inside host limits (RFC 6888)" }, \
	{ "ports", "public ports per inside host" }, \
	{ "deterministic", "RFC 7422 deterministic mapping" }, \
	{ "inside", "the inside prefix mapped onto the pool" }, \
	{ "<inside-prefix>", "inside prefix A.B.C.D/M" }, \
	{ "<ports>", "ports" }, \
	{ "<blocks>", "blocks" }, \
	{ "<seconds>", "seconds" }, \
	{ "<subscribers>", "subscribers" }, \
	{ "ipfix", "IPFIX export of the NAT event log (RFC 7011, RFC 8158)" }, \
	{ "collector", "an IPFIX collector" }, \
	{ "ipfix enable", "IPFIX is sent" }, \
	{ "collector port", "the collector's UDP port" }, \
	{ "template-refresh", "how often templates are re-sent" }, \
	{ "ipfix mtu", "largest IPFIX datagram" }, \
	{ "<ipfix-port>", "UDP port, 4739 unless given" }, \
	{ "<ipfix-mtu>", "bytes, IP and UDP headers included" }, \
	{ "profile", "whose default timeouts" }, \
	{ "screenos", "ScreenOS's defaults" }, \
	{ "rfc", "RFC 4787, 5382 and 5508 defaults" }, \
	{ "mapping", "endpoint-independent mappings" }, \
	{ "endpoint-independent", "whatever the remote endpoint" }, \
	{ "filtering", "who may reach a mapping from Untrust" }, \
	{ "address-and-port-dependent", "only endpoints the inside host sent to (ScreenOS)" }, \
	{ "hairpin", "inside to inside through public mappings" }, \
	{ "port-preserve", "keep the inside source port" }, \
	{ "parity", "else keep its parity" }, \
	{ "nsrp", "the HA pair (NSRP)" }, \
	{ "cluster", "the HA pair's cluster" }, \
	{ "cluster id", "cluster id, the same on both boxes" }, \
	{ "local", "own address on the HA link" }, \
	{ "peer", "the peer's address on the HA link" }, \
	{ "sync-port", "UDP port of session sync" }, \
	{ "nsrp queue", "unsent sync events each lcore may hold" }, \
	{ "refresh", "seconds between refreshes of a live session" }, \
	{ "<cluster-id>", "cluster id 1-7" }, \
	{ "<ha-address>", "address on the HA link" }, \
	{ "<peer-address>", "the peer's address on the HA link" }, \
	{ "<sync-port>", "UDP port, 7100 unless given" }, \
	{ "<events>", "sync events per lcore" }, \
	{ "exit", "close a policy's context" }, \
	{ "<interface>", "interface name, e.g. \"ethernet4/1\"" }, \
	{ "<zone>", "zone name, e.g. \"Trust\"" }, \
	{ "<tag>", "802.1Q VLAN id" }, \
	{ "<ip-address>", "address/prefix length" }, \
	{ "<port>", "DPDK port id or device name" }, \
	{ "<dip-id>", "DIP pool id" }, \
	{ "<low>", "first public address" }, \
	{ "<high>", "last public address" }, \
	{ "<mtu>", "IP MTU" }, \
	{ "<policy-id>", "policy id" }, \
	{ "<src-addr>", "source address book entry: Any" }, \
	{ "<dst-addr>", "destination address book entry: Any" }, \
	{ "<service>", "service: ANY, PPTP, HTTP, HTTPS, FTP, DNS, SSH, TELNET, SMTP, PING, ICMP, ..." }, \
	{ "<route>", "destination prefix" }, \
	{ "<gateway>", "next hop address" }, \
	{ "<arp>", "neighbour address" }, \
	{ "<mac>", "MAC address aa:bb:cc:dd:ee:ff" }, \
	{ "<max>", "entries" }, \
	{ "<queue>", "packets" }, \
	{ "<timeout>", "seconds" }, \
	{ "<source-ip-based>", "sessions" }, \
	{ "<path>", "socket path" }, \
	{ "<mode>", "octal mode 0000-0777, e.g. 0660" }, \
	{ "<group>", "group name" }, \
	{ "<idle-sleep>", "microseconds" }, \
	{ "<address>", "A.B.C.D:PORT" }, \
	{ "<per-client>", "calls" }, \
	{ "<per-source>", "connections" }, \
	{ "<records>", "records per lcore" }

/** In an error when the grammar refused a line its statement function took: a bug. */
#define CONF_GRAMMAR_DISAGREES "the grammar and the statement parser disagree"

/** How many lines the grammar refused that their statement function took, ever (fuzz_conf: stays 0). */
unsigned long conf_grammar_disagreements(void);

struct conf;

/**
 * The i-th (from 0) value that exists in c for an argument key of the
 * grammar (interface, zone, dip-id, policy-id, service, src-addr, dst-addr),
 * for Tab completion: written into buf[len]. Returns 0, or -1 past the last
 * or for a key with no such list. Fits lib/cli's cli_values_fn.
 */
int conf_values(const struct conf *c, const char *key, unsigned i, char *buf, size_t len);

/** The configuration grammar with `exit` (lib/conf's own table; its handlers are never run). */
const struct cli_table *conf_grammar(void);

#endif /* DPNAT_CONF_GRAMMAR_H */
