/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ScreenOS-style configuration language (see docs/configuration.md).
 *
 * A line is cut into words and matched by the one grammar (conf_grammar.h,
 * lib/cli's engine: lexical rules, keywords, value types, prefixes written
 * out), then handled by one function per statement that checks the values
 * and applies them. Every handler reads and checks all of its words first and only then
 * writes into struct conf, so a line that fails leaves the struct as it was.
 * Strings in the struct are always zero-filled to their full size, so two
 * configurations with the same content also compare equal with memcmp.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_grammar.h"

/* Defaults (see conf.h and docs/configuration.md). */
#define DEF_SESSIONS        1048576
#define DEF_PPTP_XLATE      CONF_DEF_PPTP_XLATE
#define DEF_PPTP_PER_SRC    CONF_DEF_PPTP_PER_SRC
#define DEF_NEIGHBORS       1024
#define DEF_NEIGH_QUEUE     4
#define DEF_MBUFS           16384
#define DEF_FRAGS           4096
#define DEF_TMO_FRAG        5
#define DEF_PPTP_PER_CLIENT 128     /* calls one inside host may hold */
#define DEF_LIMIT_SRC       65536   /* sessions one source host may hold */
#define DEF_TMO_TCP         CONF_DEF_TMO_TCP
#define DEF_TMO_TCP_CLOSING CONF_DEF_TMO_TCP_CLOSING
#define DEF_TMO_TCP_SYN     CONF_DEF_TMO_TCP_SYN
#define DEF_TMO_UDP         CONF_DEF_TMO_UDP
#define DEF_TMO_ICMP        CONF_DEF_TMO_ICMP
#define DEF_TMO_GRE         CONF_DEF_TMO_GRE
#define DEF_TMO_OTHER       CONF_DEF_TMO_OTHER
#define DEF_TMO_PPTP_XLATE  CONF_DEF_TMO_PPTP_XLATE
#define DEF_TMO_ARP         1200
#define DEF_SOCKET_PATH     "/run/dpnat/dpnat.sock"
#define DEF_SOCKET_MODE     0660
#define DEF_VLAN1_NAME      "vlan1"
#define DEF_VLAN1_IP        0xc0a80101u  /* 192.168.1.1 */
#define DEF_VLAN1_PLEN      24

/* Bounds of the numeric statements. */
#define MAX_SESSIONS     16777216u
#define MAX_PPTP_XLATE   4194304u
#define MIN_NEIGHBORS    16u
#define MAX_NEIGHBORS    1048576u
#define MAX_NEIGH_QUEUE  256u
#define MIN_MBUFS        1024u
#define MAX_MBUFS        16777216u
#define MAX_TMO          604800u   /* one week */
#define MAX_TMO_ARP      86400u
#define MAX_IDLE_US      1000000u
#define MAX_DIP_ID       65535u
#define MAX_FRAGS        1048576u
#define MAX_NAT_MAPS     16777216u
#define MAX_TMO_FRAG     300u

#define SET_KEYWORDS   "one of interface, policy, route, arp, session, alg, mbuf, cli, worker, flow, zone, metrics, log, syslog, nat, nsrp"
#define UNSET_KEYWORDS "one of interface, policy, route, arp, alg, zone, cli, metrics, log, syslog, nat, nsrp"

static const char *const services[] = {
	"ANY", "PPTP", "HTTP", "HTTPS", "FTP", "DNS", "SSH", "TELNET", "SMTP", "PING",
	"ICMP", "ICMP-ANY", "TCP-ANY", "UDP-ANY",
};
#define SERVICES_LIST "one of ANY, PPTP, HTTP, HTTPS, FTP, DNS, SSH, TELNET, SMTP, PING, " \
		      "ICMP, ICMP-ANY, TCP-ANY, UDP-ANY"

/* ScreenOS predefined zones: written in any case, stored in this spelling. */
static const char *const known_zones[] = {
	"Trust", "Untrust", "DMZ", "Global", "Null", "Self", "MGT", "HA", "VLAN",
	"Untrust-Tun", "V1-Trust", "V1-Untrust", "V1-DMZ", "V1-Null",
};

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

/* One line being parsed. */
struct parser {
	struct conf *c;
	struct conf_ctx *ctx;
	char *err;
	size_t errlen;
	unsigned n;                       /* words */
	unsigned pos;                     /* next word to read */
	unsigned at;                      /* the word an error is about (n: the end of the line) */
	const char *const *w;             /* the words, from cl */
	struct cli_conf_line cl;          /* the line as the grammar read it */
};

/* ---- small helpers ---- */

/* Copy src into the whole of dst (n bytes), zero-filled; src must fit. */
static void
scopy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		l = n - 1;
	memset(dst, 0, n);
	memcpy(dst, src, l);
}

/* Column of word k of p's line (k == n: just after the last word). */
static unsigned
word_col(const struct parser *p, unsigned k)
{
	if (k < p->n)
		return p->cl.col[k];
	return p->n > 0 ? p->cl.col[p->n - 1] + (unsigned)strlen(p->cl.w[p->n - 1]) + 1 : 1;
}

/* Write "FILE:LINE: " and the message into p->err, where word p->at starts into ctx->col. Always returns -1. */
static int __attribute__((format(printf, 2, 3)))
perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	p->ctx->col = word_col(p, p->at);
	if (p->err == NULL || p->errlen == 0)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%u: ",
		     p->ctx->file != NULL ? p->ctx->file : "?", p->ctx->line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* perr about word k (an earlier one than the parser is at). */
#define perr_at(p, k, ...) ((p)->at = (k), perr((p), __VA_ARGS__))

/* Plain message (no file:line) for conf_validate and load failures. */
static int __attribute__((format(printf, 3, 4)))
verr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
kw(const char *w, const char *k)
{
	return w != NULL && strcasecmp(w, k) == 0;
}

/* Decimal number without sign, at most UINT32_MAX. */
static int
parse_u32(const char *s, uint32_t *v)
{
	uint64_t x = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
		if (x > UINT32_MAX)
			return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

/* A.B.C.D/LEN; LEN in [minlen, 32]. */
static int
parse_prefix(const char *s, unsigned minlen, uint32_t *ip, uint8_t *plen)
{
	char a[16];
	const char *sl = strchr(s, '/');
	uint32_t l;

	if (sl == NULL || (size_t)(sl - s) >= sizeof(a))
		return -1;
	memcpy(a, s, (size_t)(sl - s));
	a[sl - s] = '\0';
	if (conf_parse_ip(a, ip) != 0 || strlen(sl + 1) > 2 || parse_u32(sl + 1, &l) != 0 ||
	    l < minlen || l > 32)
		return -1;
	*plen = (uint8_t)l;
	return 0;
}

static uint32_t
plen_mask(uint8_t plen)
{
	return plen == 0 ? 0 : UINT32_MAX << (32 - plen);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* aa:bb:cc:dd:ee:ff, or ScreenOS' aabbccddeeff. */
static int
parse_mac(const char *s, uint8_t mac[6])
{
	size_t len = strlen(s), i;
	bool colons = len == 17;

	if (len != 17 && len != 12)
		return -1;
	for (i = 0; i < 6; i++) {
		const char *h = s + (colons ? i * 3 : i * 2);
		int hi = hexval(h[0]), lo = hexval(h[1]);

		if (hi < 0 || lo < 0)
			return -1;
		if (colons && i < 5 && h[2] != ':')
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static const char *
zone_canon(const char *z)
{
	size_t i;

	for (i = 0; i < DIM(known_zones); i++)
		if (strcasecmp(z, known_zones[i]) == 0)
			return known_zones[i];
	return z;
}

static void
defaults_limits(struct conf_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->sessions = DEF_SESSIONS;
	l->pptp_xlate = DEF_PPTP_XLATE;
	l->pptp_per_src = DEF_PPTP_PER_SRC;
	l->neighbors = DEF_NEIGHBORS;
	l->neigh_queue = DEF_NEIGH_QUEUE;
	l->mbufs = DEF_MBUFS;
	l->frags = DEF_FRAGS;
	l->pptp_per_client = DEF_PPTP_PER_CLIENT;
	l->nat_maps = CONF_DEF_NAT_MAPS;
}

static void
defaults_timeouts(struct conf_timeouts *t)
{
	memset(t, 0, sizeof(*t));
	t->tcp = DEF_TMO_TCP;
	t->tcp_closing = DEF_TMO_TCP_CLOSING;
	t->tcp_syn = DEF_TMO_TCP_SYN;
	t->udp = DEF_TMO_UDP;
	t->icmp = DEF_TMO_ICMP;
	t->gre = DEF_TMO_GRE;
	t->other = DEF_TMO_OTHER;
	t->pptp_xlate = DEF_TMO_PPTP_XLATE;
	t->arp = DEF_TMO_ARP;
	t->frag = DEF_TMO_FRAG;
}

/* The protocol timeouts of profile (CONF_TMO_*) in t; the others stay. */
static void
profile_timeouts(struct conf_timeouts *t, uint32_t profile)
{
	bool rfc = profile == CONF_TMO_RFC;

	t->profile = profile;
	t->tcp = rfc ? CONF_RFC_TMO_TCP : DEF_TMO_TCP;
	t->tcp_syn = rfc ? CONF_RFC_TMO_TCP_SYN : DEF_TMO_TCP_SYN;
	t->tcp_closing = rfc ? CONF_RFC_TMO_TCP_CLOSING : DEF_TMO_TCP_CLOSING;
	t->udp = rfc ? CONF_RFC_TMO_UDP : DEF_TMO_UDP;
	t->icmp = rfc ? CONF_RFC_TMO_ICMP : DEF_TMO_ICMP;
}

/* ---- words ---- */

static const char *
prev_word(const struct parser *p)
{
	return p->pos > 0 ? p->w[p->pos - 1] : "";
}

/* The next word, or NULL with "missing word" in err. */
static const char *
need(struct parser *p, const char *expected)
{
	p->at = p->pos;
	if (p->pos >= p->n) {
		perr(p, "missing word after \"%s\": expected %s", prev_word(p), expected);
		return NULL;
	}
	return p->w[p->pos++];
}

static const char *
peek(struct parser *p)
{
	p->at = p->pos;
	return p->pos < p->n ? p->w[p->pos] : NULL;
}

/* The line must end here. */
static int
need_end(struct parser *p)
{
	p->at = p->pos;
	if (p->pos < p->n)
		return perr(p, "unexpected word \"%s\" after \"%s\": expected end of line",
			    p->w[p->pos], prev_word(p));
	return 0;
}

/* The next word must be keyword k. */
static int
need_kw(struct parser *p, const char *k)
{
	const char *w = need(p, k);

	if (w == NULL)
		return -1;
	if (!kw(w, k)) {
		p->at = --p->pos;
		return perr(p, "unexpected word \"%s\" after \"%s\": expected %s", w,
			    prev_word(p), k);
	}
	return 0;
}

/* A number in [lo, hi], named what in errors. */
static int
need_u32(struct parser *p, const char *what, uint32_t lo, uint32_t hi, uint32_t *v)
{
	char exp[64];
	const char *w;

	snprintf(exp, sizeof(exp), "a number from %u to %u", lo, hi);
	w = need(p, exp);
	if (w == NULL)
		return -1;
	if (parse_u32(w, v) != 0 || *v < lo || *v > hi)
		return perr(p, "bad %s \"%s\": expected %s", what, w, exp);
	return 0;
}

/* A name for what: not empty, shorter than max, no blanks. */
static const char *
need_name(struct parser *p, const char *what, size_t max)
{
	char exp[64];
	const char *w;

	snprintf(exp, sizeof(exp), "a %s", what);
	w = need(p, exp);
	if (w == NULL)
		return NULL;
	if (*w == '\0') {
		perr(p, "empty %s after \"%s\": expected %s", what,
		     p->pos > 1 ? p->w[p->pos - 2] : "", exp);
		return NULL;
	}
	if (strlen(w) >= max) {
		perr(p, "%s \"%s\" is too long: expected at most %zu characters", what, w, max - 1);
		return NULL;
	}
	/* Every byte the tokenizer splits on (blank_at), so get config can write names unquoted. */
	if (strpbrk(w, " \t\r\n\v\f") != NULL || strstr(w, "\xc2\xa0") != NULL) {
		perr(p, "%s \"%s\" contains a blank: expected a name without blanks", what, w);
		return NULL;
	}
	return w;
}

static int
need_ip(struct parser *p, const char *what, uint32_t *ip)
{
	const char *w = need(p, "an address A.B.C.D");

	if (w == NULL)
		return -1;
	if (conf_parse_ip(w, ip) != 0)
		return perr(p, "bad %s \"%s\": expected an address A.B.C.D", what, w);
	return 0;
}

/* A network PREFIX/LEN with no host bits (LEN 0..32). */
static int
need_net(struct parser *p, uint32_t *prefix, uint8_t *plen)
{
	const char *w = need(p, "a prefix A.B.C.D/LEN");

	if (w == NULL)
		return -1;
	if (parse_prefix(w, 0, prefix, plen) != 0)
		return perr(p, "bad prefix \"%s\": expected A.B.C.D/LEN with LEN 0 to 32", w);
	if ((*prefix & ~plen_mask(*plen)) != 0) {
		char a[16];

		return perr(p, "host bits set in prefix \"%s\": expected the network address %s/%u",
			    w, conf_ip_str(*prefix & plen_mask(*plen), a), *plen);
	}
	return 0;
}

/* ---- interfaces ---- */

/*
 * Index of interface name; if it does not exist, -1 in *ix when there is room to
 * create it (the caller creates it with iface_commit once the line is fully checked).
 */
static int
iface_slot(struct parser *p, const char *name, int *ix)
{
	*ix = conf_iface_index(p->c, name);
	if (*ix < 0 && p->c->n_ifaces >= CONF_MAX_IFACES)
		return perr(p, "too many interfaces at \"%s\": expected at most %d interfaces",
			    name, CONF_MAX_IFACES);
	return 0;
}

static struct conf_iface *
iface_commit(struct conf *c, const char *name, int ix)
{
	struct conf_iface *f;

	if (ix >= 0)
		return &c->ifaces[ix];
	f = &c->ifaces[c->n_ifaces++];
	memset(f, 0, sizeof(*f));
	scopy(f->name, sizeof(f->name), name);
	f->mtu = CONF_MTU_DEFAULT;
	return f;
}

/* Whether zone is bound to an interface other than skip (-1: any). */
static bool
zone_used(const struct conf *c, const char *zone, int skip)
{
	unsigned i;

	for (i = 0; i < c->n_ifaces; i++)
		if ((int)i != skip && strcmp(c->ifaces[i].zone, zone) == 0)
			return true;
	return false;
}

/* Distinct zones bound to interfaces other than skip. */
static unsigned
zone_count(const struct conf *c, int skip)
{
	unsigned i, j, n = 0;

	for (i = 0; i < c->n_ifaces; i++) {
		bool seen = false;

		if ((int)i == skip || c->ifaces[i].zone[0] == '\0')
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = (int)j != skip && strcmp(c->ifaces[j].zone, c->ifaces[i].zone) == 0;
		n += !seen;
	}
	return n;
}

static int
dip_index(const struct conf *c, uint32_t id)
{
	unsigned i;

	for (i = 0; i < c->n_dips; i++)
		if (c->dips[i].id == id)
			return (int)i;
	return -1;
}

/* The zone name ending the line, canonical, for interface ix; NULL (err set) if it is not one or no zone is left. */
static const char *
zone_arg(struct parser *p, int ix)
{
	const char *v = need_name(p, "zone name", CONF_NAME_LEN), *zone;

	if (v == NULL || need_end(p) != 0)
		return NULL;
	zone = zone_canon(v);
	if (!zone_used(p->c, zone, ix) && zone_count(p->c, ix) >= CONF_MAX_ZONES) {
		perr(p, "too many zones at \"%s\": expected at most %d zones", v, CONF_MAX_ZONES);
		return NULL;
	}
	return zone;
}

/* set interface NAME zone|ip|nat|route|port|dip|mtu|tag ... */
static int
set_interface(struct parser *p)
{
	struct conf *c = p->c;
	const char *name, *what, *v;
	struct conf_iface *f;
	int ix;

	name = need_name(p, "interface name", CONF_NAME_LEN);
	if (name == NULL || iface_slot(p, name, &ix) != 0)
		return -1;
	what = need(p, "one of zone, ip, nat, route, port, dip, mtu, tag");
	if (what == NULL)
		return -1;
	if (kw(what, "tag")) {
		/* ScreenOS: `set interface ethernet4/1.1 tag 100 zone Untrust`, the zone optional here. */
		uint32_t tag;

		if (strchr(name, '.') == NULL || name[0] == '.')
			return perr(p, "interface \"%s\" cannot take a tag: expected a subinterface name PARENT.N",
				    name);
		if (need_u32(p, "vlan tag", 1, CONF_VLAN_MAX, &tag) != 0)
			return -1;
		v = NULL;
		if (p->pos < p->n) {
			what = need(p, "zone");
			if (!kw(what, "zone"))
				return perr(p, "unknown word \"%s\" after the tag: expected zone or end of line",
					    what);
			v = zone_arg(p, ix);
			if (v == NULL)
				return -1;
		}
		f = iface_commit(c, name, ix);
		f->tag = (uint16_t)tag;
		if (v != NULL)
			scopy(f->zone, sizeof(f->zone), v);
	} else if (kw(what, "zone")) {
		v = zone_arg(p, ix);
		if (v == NULL)
			return -1;
		f = iface_commit(c, name, ix);
		scopy(f->zone, sizeof(f->zone), v);
	} else if (kw(what, "ip")) {
		uint32_t ip;
		uint8_t plen;

		v = need(p, "an address A.B.C.D/LEN");
		if (v == NULL)
			return -1;
		if (parse_prefix(v, 1, &ip, &plen) != 0 || ip == 0)
			return perr(p, "bad interface address \"%s\": expected A.B.C.D/LEN with LEN 1 to 32",
				    v);
		if (need_end(p) != 0)
			return -1;
		f = iface_commit(c, name, ix);
		f->ip = ip;
		f->plen = plen;
		f->has_ip = true;
	} else if (kw(what, "nat") || kw(what, "route")) {
		bool nat = kw(what, "nat");

		if (need_end(p) != 0)
			return -1;
		f = iface_commit(c, name, ix);
		f->nat = nat;
		f->route_mode = !nat;
	} else if (kw(what, "port")) {
		v = need_name(p, "port name", CONF_PORT_LEN);
		if (v == NULL || need_end(p) != 0)
			return -1;
		f = iface_commit(c, name, ix);
		scopy(f->port, sizeof(f->port), v);
	} else if (kw(what, "dip")) {
		uint32_t id, low, high;
		struct conf_dip *d;
		int di;

		if (need_u32(p, "dip id", 1, MAX_DIP_ID, &id) != 0 ||
		    need_ip(p, "dip low address", &low) != 0)
			return -1;
		if (low == 0)
			return perr(p, "bad dip low address \"%s\": expected an address other than 0.0.0.0",
				    prev_word(p));
		bool det = false;
		uint32_t dpre = 0;
		uint8_t dlen = 0;

		if (need_ip(p, "dip high address", &high) != 0)
			return -1;
		if (high < low)
			return perr(p, "bad dip high address \"%s\": expected an address not below %s",
				    prev_word(p), p->w[p->pos - 2]);
		if (peek(p) != NULL && kw(peek(p), "deterministic")) {
			uint64_t per;

			p->pos++;
			if (need_kw(p, "inside") != 0 || need_net(p, &dpre, &dlen) != 0)
				return -1;
			/* Every inside address must get a port: at most 64512 of them per public address. */
			per = ((1ULL << (32 - dlen)) + (high - low)) / ((uint64_t)high - low + 1);
			if (per > 64512)
				return perr(p, "inside prefix %s too large for %u public addresses: expected at most 64512 inside addresses per public address",
					    prev_word(p), high - low + 1);
			det = true;
		}
		if (need_end(p) != 0)
			return -1;
		di = dip_index(c, id);
		if (di >= 0 && strcmp(c->dips[di].iface, name) != 0)
			return perr_at(p, 4, "dip id %u already belongs to interface \"%s\": expected an id not used by another interface",
				    id, c->dips[di].iface);
		if (di < 0 && c->n_dips >= CONF_MAX_DIPS)
			return perr_at(p, 4, "too many dip pools at id %u: expected at most %d pools",
				    id, CONF_MAX_DIPS);
		iface_commit(c, name, ix);
		d = di >= 0 ? &c->dips[di] : &c->dips[c->n_dips++];
		memset(d, 0, sizeof(*d));
		d->id = id;
		scopy(d->iface, sizeof(d->iface), name);
		d->low = low;
		d->high = high;
		d->det = det;
		d->det_inside = dpre;
		d->det_plen = dlen;
	} else if (kw(what, "mtu")) {
		uint32_t mtu;

		if (need_u32(p, "mtu", CONF_MTU_MIN, CONF_MTU_MAX, &mtu) != 0 || need_end(p) != 0)
			return -1;
		f = iface_commit(c, name, ix);
		f->mtu = (uint16_t)mtu;
	} else {
		return perr(p, "unknown interface setting \"%s\": expected one of zone, ip, nat, route, port, dip, mtu, tag",
			    what);
	}
	return 0;
}

/* unset interface NAME ip|port|mtu|dip ID */
static int
unset_interface(struct parser *p)
{
	struct conf *c = p->c;
	const char *name, *what;
	struct conf_iface *f;
	int ix;

	name = need_name(p, "interface name", CONF_NAME_LEN);
	if (name == NULL || iface_slot(p, name, &ix) != 0)
		return -1;
	what = need(p, "one of ip, port, dip, mtu");
	if (what == NULL)
		return -1;
	if (kw(what, "ip") || kw(what, "port")) {
		bool ip = kw(what, "ip");

		if (need_end(p) != 0)
			return -1;
		f = iface_commit(c, name, ix);
		if (ip) {
			f->ip = 0;
			f->plen = 0;
			f->has_ip = false;
		} else {
			memset(f->port, 0, sizeof(f->port));
		}
	} else if (kw(what, "mtu")) {
		if (need_end(p) != 0)
			return -1;
		iface_commit(c, name, ix)->mtu = CONF_MTU_DEFAULT;
	} else if (kw(what, "dip")) {
		uint32_t id;
		int di;

		if (need_u32(p, "dip id", 1, MAX_DIP_ID, &id) != 0 || need_end(p) != 0)
			return -1;
		di = dip_index(c, id);
		if (di < 0 || strcmp(c->dips[di].iface, name) != 0)
			return perr_at(p, 4, "no dip id %u on interface \"%s\": expected the id of one of its dip pools",
				    id, name);
		memmove(&c->dips[di], &c->dips[di + 1],
			sizeof(c->dips[0]) * (c->n_dips - (unsigned)di - 1));
		c->n_dips--;
		memset(&c->dips[c->n_dips], 0, sizeof(c->dips[0]));
	} else {
		return perr(p, "unknown interface setting \"%s\": expected one of ip, port, dip, mtu", what);
	}
	return 0;
}

/* ---- policies ---- */

static int
policy_index(const struct conf *c, uint32_t id)
{
	unsigned i;

	for (i = 0; i < c->n_policies; i++)
		if (c->policies[i].id == id)
			return (int)i;
	return -1;
}

/* set policy id N [from Z to Z SRC DST SERVICE permit|deny [nat src [dip-id ID]]] */
static int
set_policy(struct parser *p)
{
	struct conf *c = p->c;
	struct conf_policy np;
	const char *v;
	bool have_action = false, have_nat = false;
	uint32_t id;
	size_t i;
	int pi;

	if (need_kw(p, "id") != 0 || need_u32(p, "policy id", 1, UINT32_MAX, &id) != 0)
		return -1;
	pi = policy_index(c, id);
	v = peek(p);
	if (v == NULL) {
		/* `set policy id N`: enter the policy's context (closed by `exit`). */
		if (pi < 0)
			return perr(p, "no policy id %u: expected the id of an existing policy or a whole policy",
				    id);
		p->ctx->policy_ctx = pi;
		return 0;
	}
	if (!kw(v, "from"))
		return perr(p, "unexpected word \"%s\" after \"%s\": expected from or end of line",
			    v, prev_word(p));
	p->pos++;
	memset(&np, 0, sizeof(np));
	np.id = id;
	v = need_name(p, "zone name", CONF_NAME_LEN);
	if (v == NULL)
		return -1;
	scopy(np.from_zone, sizeof(np.from_zone), zone_canon(v));
	if (need_kw(p, "to") != 0)
		return -1;
	v = need_name(p, "zone name", CONF_NAME_LEN);
	if (v == NULL)
		return -1;
	scopy(np.to_zone, sizeof(np.to_zone), zone_canon(v));
	v = need(p, "a source address (Any)");
	if (v == NULL)
		return -1;
	if (!kw(v, "Any"))
		return perr(p, "unsupported source address \"%s\": expected Any", v);
	scopy(np.src_addr, sizeof(np.src_addr), "Any");
	v = need(p, "a destination address (Any)");
	if (v == NULL)
		return -1;
	if (!kw(v, "Any"))
		return perr(p, "unsupported destination address \"%s\": expected Any", v);
	scopy(np.dst_addr, sizeof(np.dst_addr), "Any");
	v = need(p, "a service, " SERVICES_LIST);
	if (v == NULL)
		return -1;
	for (i = 0; i < DIM(services); i++)
		if (strcasecmp(v, services[i]) == 0)
			break;
	if (i == DIM(services))
		return perr(p, "unknown service \"%s\": expected " SERVICES_LIST, v);
	scopy(np.service, sizeof(np.service), services[i]);
	/* permit|deny and `nat src [dip-id ID]`, in either order (ScreenOS writes nat first). */
	for (;;) {
		v = peek(p);
		if (v == NULL) {
			if (have_action)
				break;
			need(p, have_nat ? "permit or deny" : "permit, deny or nat src");
			return -1;
		}
		if (!have_action && (kw(v, "permit") || kw(v, "deny"))) {
			np.permit = kw(v, "permit");
			have_action = true;
			p->pos++;
		} else if (!have_nat && kw(v, "nat")) {
			p->pos++;
			if (need_kw(p, "src") != 0)
				return -1;
			np.nat_src = true;
			have_nat = true;
			if (kw(peek(p), "dip-id")) {
				p->pos++;
				if (need_u32(p, "dip id", 1, MAX_DIP_ID, &np.dip_id) != 0)
					return -1;
			}
		} else {
			return perr(p, "unexpected word \"%s\" after \"%s\": expected %s", v,
				    prev_word(p),
				    have_action ? (have_nat ? "end of line" : "nat src or end of line") :
				    (have_nat ? "permit or deny" : "permit, deny or nat src"));
		}
	}
	if (np.nat_src && !np.permit)
		return perr_at(p, 3, "nat src in a deny policy id %u: expected permit with nat src", id);
	if (pi < 0 && c->n_policies >= CONF_MAX_POLICIES)
		return perr_at(p, 3, "too many policies at id %u: expected at most %d policies", id,
			    CONF_MAX_POLICIES);
	if (pi < 0)
		pi = (int)c->n_policies++;
	c->policies[pi] = np;
	return 0;
}

/* unset policy id N */
static int
unset_policy(struct parser *p)
{
	struct conf *c = p->c;
	uint32_t id;
	int pi;

	if (need_kw(p, "id") != 0 || need_u32(p, "policy id", 1, UINT32_MAX, &id) != 0 ||
	    need_end(p) != 0)
		return -1;
	pi = policy_index(c, id);
	if (pi < 0)
		return perr_at(p, 3, "no policy id %u: expected the id of an existing policy", id);
	memmove(&c->policies[pi], &c->policies[pi + 1],
		sizeof(c->policies[0]) * (c->n_policies - (unsigned)pi - 1));
	c->n_policies--;
	memset(&c->policies[c->n_policies], 0, sizeof(c->policies[0]));
	if (p->ctx->policy_ctx == pi)
		p->ctx->policy_ctx = -1;
	else if (p->ctx->policy_ctx > pi)
		p->ctx->policy_ctx--;
	return 0;
}

/* ---- routes and ARP ---- */

int
conf_route_index(const struct conf *c, uint32_t prefix, uint8_t plen)
{
	unsigned i;

	for (i = 0; i < c->n_routes; i++)
		if (c->routes[i].prefix == prefix && c->routes[i].plen == plen)
			return (int)i;
	return -1;
}

/* set route PREFIX/LEN interface NAME [gateway IP] */
static int
set_route(struct parser *p)
{
	struct conf *c = p->c;
	struct conf_route r;
	const char *name;
	int ri;

	memset(&r, 0, sizeof(r));
	if (need_net(p, &r.prefix, &r.plen) != 0 || need_kw(p, "interface") != 0)
		return -1;
	name = need_name(p, "interface name", CONF_NAME_LEN);
	if (name == NULL)
		return -1;
	scopy(r.iface, sizeof(r.iface), name);
	if (peek(p) != NULL) {
		if (!kw(peek(p), "gateway"))
			return perr(p, "unexpected word \"%s\" after \"%s\": expected gateway or end of line",
				    peek(p), prev_word(p));
		p->pos++;
		if (need_ip(p, "gateway", &r.gateway) != 0)
			return -1;
	}
	if (need_end(p) != 0)
		return -1;
	ri = conf_route_index(c, r.prefix, r.plen);
	if (ri < 0 && c->n_routes >= CONF_MAX_ROUTES)
		return perr_at(p, 2, "too many routes at \"%s\": expected at most %d routes", p->w[2],
			    CONF_MAX_ROUTES);
	if (ri < 0)
		ri = (int)c->n_routes++;
	c->routes[ri] = r;
	return 0;
}

/* unset route PREFIX/LEN */
static int
unset_route(struct parser *p)
{
	struct conf *c = p->c;
	uint32_t prefix;
	uint8_t plen;
	int ri;

	if (need_net(p, &prefix, &plen) != 0 || need_end(p) != 0)
		return -1;
	ri = conf_route_index(c, prefix, plen);
	if (ri < 0)
		return perr_at(p, 2, "no route \"%s\": expected the prefix of a configured route",
			    prev_word(p));
	memmove(&c->routes[ri], &c->routes[ri + 1],
		sizeof(c->routes[0]) * (c->n_routes - (unsigned)ri - 1));
	c->n_routes--;
	memset(&c->routes[c->n_routes], 0, sizeof(c->routes[0]));
	return 0;
}

static int
arp_index(const struct conf *c, uint32_t ip)
{
	unsigned i;

	for (i = 0; i < c->n_arps; i++)
		if (c->arps[i].ip == ip)
			return (int)i;
	return -1;
}

/* set arp IP MAC INTERFACE | set arp max|queue|timeout N */
static int
set_arp(struct parser *p)
{
	struct conf *c = p->c;
	struct conf_arp a;
	const char *v, *name;
	uint32_t n;
	int ai;

	v = need(p, "an address A.B.C.D, max, queue or timeout");
	if (v == NULL)
		return -1;
	if (kw(v, "max")) {
		if (need_u32(p, "arp max", MIN_NEIGHBORS, MAX_NEIGHBORS, &n) != 0 || need_end(p) != 0)
			return -1;
		c->limits.neighbors = n;
		return 0;
	}
	if (kw(v, "queue")) {
		if (need_u32(p, "arp queue", 0, MAX_NEIGH_QUEUE, &n) != 0 || need_end(p) != 0)
			return -1;
		c->limits.neigh_queue = n;
		return 0;
	}
	if (kw(v, "timeout")) {
		if (need_u32(p, "arp timeout", 1, MAX_TMO_ARP, &n) != 0 || need_end(p) != 0)
			return -1;
		c->timeouts.arp = n;
		return 0;
	}
	memset(&a, 0, sizeof(a));
	if (conf_parse_ip(v, &a.ip) != 0 || a.ip == 0)
		return perr(p, "bad arp address \"%s\": expected an address A.B.C.D, max, queue or timeout",
			    v);
	v = need(p, "a MAC address aa:bb:cc:dd:ee:ff");
	if (v == NULL)
		return -1;
	if (parse_mac(v, a.mac) != 0)
		return perr(p, "bad MAC address \"%s\": expected aa:bb:cc:dd:ee:ff", v);
	if ((a.mac[0] & 1) != 0 || (a.mac[0] | a.mac[1] | a.mac[2] | a.mac[3] | a.mac[4] | a.mac[5]) == 0)
		return perr(p, "MAC address \"%s\" is not a unicast address: expected a unicast MAC address",
			    v);
	name = need_name(p, "interface name", CONF_NAME_LEN);
	if (name == NULL || need_end(p) != 0)
		return -1;
	scopy(a.iface, sizeof(a.iface), name);
	ai = arp_index(c, a.ip);
	if (ai < 0 && c->n_arps >= CONF_MAX_ARPS)
		return perr_at(p, 2, "too many arp entries at \"%s\": expected at most %d entries",
			    p->w[2], CONF_MAX_ARPS);
	if (ai < 0)
		ai = (int)c->n_arps++;
	c->arps[ai] = a;
	return 0;
}

/* unset arp IP */
static int
unset_arp(struct parser *p)
{
	struct conf *c = p->c;
	uint32_t ip;
	int ai;

	if (need_ip(p, "arp address", &ip) != 0 || need_end(p) != 0)
		return -1;
	ai = arp_index(c, ip);
	if (ai < 0)
		return perr_at(p, 2, "no arp entry \"%s\": expected the address of a static arp entry",
			    prev_word(p));
	memmove(&c->arps[ai], &c->arps[ai + 1],
		sizeof(c->arps[0]) * (c->n_arps - (unsigned)ai - 1));
	c->n_arps--;
	memset(&c->arps[c->n_arps], 0, sizeof(c->arps[0]));
	return 0;
}

/* ---- limits, timeouts and the rest ---- */

#define TMO_NAMES "one of tcp, tcp-syn, tcp-closing, udp, icmp, gre, other"

/* set session max N | set session timeout PROTO N */
static int
set_session(struct parser *p)
{
	static const struct {
		const char *name;
		size_t off;
	} tmo[] = {
		{ "tcp", offsetof(struct conf_timeouts, tcp) },
		{ "tcp-syn", offsetof(struct conf_timeouts, tcp_syn) },
		{ "tcp-closing", offsetof(struct conf_timeouts, tcp_closing) },
		{ "udp", offsetof(struct conf_timeouts, udp) },
		{ "icmp", offsetof(struct conf_timeouts, icmp) },
		{ "gre", offsetof(struct conf_timeouts, gre) },
		{ "other", offsetof(struct conf_timeouts, other) },
	};
	const char *v;
	uint32_t n;
	size_t i;

	v = need(p, "max or timeout");
	if (v == NULL)
		return -1;
	if (kw(v, "max")) {
		if (need_u32(p, "session max", 1, MAX_SESSIONS, &n) != 0 || need_end(p) != 0)
			return -1;
		p->c->limits.sessions = n;
		return 0;
	}
	if (!kw(v, "timeout"))
		return perr(p, "unknown session setting \"%s\": expected max or timeout", v);
	v = need(p, TMO_NAMES " or profile");
	if (v == NULL)
		return -1;
	if (kw(v, "profile")) {
		v = need(p, "screenos or rfc");
		if (v == NULL)
			return -1;
		if (!kw(v, "screenos") && !kw(v, "rfc"))
			return perr(p, "unknown timeout profile \"%s\": expected screenos or rfc", v);
		if (need_end(p) != 0)
			return -1;
		/* The protocols' timeouts start again from the profile's: lines after it change them. */
		profile_timeouts(&p->c->timeouts, kw(v, "rfc") ? CONF_TMO_RFC : CONF_TMO_SCREENOS);
		return 0;
	}
	for (i = 0; i < DIM(tmo); i++)
		if (kw(v, tmo[i].name))
			break;
	if (i == DIM(tmo))
		return perr(p, "unknown session timeout \"%s\": expected " TMO_NAMES, v);
	if (need_u32(p, "session timeout", 1, MAX_TMO, &n) != 0 || need_end(p) != 0)
		return -1;
	memcpy((char *)&p->c->timeouts + tmo[i].off, &n, sizeof(n));
	return 0;
}

/* [un]set alg pptp enable | set alg pptp xlate max|timeout N | set alg pptp control per-source N */
static int
alg_line(struct parser *p, bool set)
{
	const char *v;
	uint32_t n;

	v = need(p, "pptp");
	if (v == NULL)
		return -1;
	if (!kw(v, "pptp"))
		return perr(p, "unknown ALG \"%s\": expected pptp", v);
	v = need(p, set ? "enable, xlate or control" : "enable");
	if (v == NULL)
		return -1;
	if (kw(v, "enable")) {
		if (need_end(p) != 0)
			return -1;
		p->c->alg_pptp = set;
		return 0;
	}
	if (set && kw(v, "control")) {
		v = need(p, "per-source");
		if (v == NULL)
			return -1;
		if (!kw(v, "per-source"))
			return perr(p, "unknown pptp control setting \"%s\": expected per-source", v);
		if (need_u32(p, "pptp control per-source", 1, MAX_PPTP_XLATE, &n) != 0 ||
		    need_end(p) != 0)
			return -1;
		p->c->limits.pptp_per_src = n;
		return 0;
	}
	if (!set || !kw(v, "xlate"))
		return perr(p, "unknown pptp setting \"%s\": expected %s", v,
			    set ? "enable, xlate or control" : "enable");
	v = need(p, "max, timeout or per-client");
	if (v == NULL)
		return -1;
	if (kw(v, "max")) {
		if (need_u32(p, "pptp xlate max", 1, MAX_PPTP_XLATE, &n) != 0 || need_end(p) != 0)
			return -1;
		p->c->limits.pptp_xlate = n;
		return 0;
	}
	if (kw(v, "per-client")) {
		if (need_u32(p, "pptp xlate per-client", 1, MAX_PPTP_XLATE, &n) != 0 ||
		    need_end(p) != 0)
			return -1;
		p->c->limits.pptp_per_client = n;
		return 0;
	}
	if (kw(v, "timeout")) {
		if (need_u32(p, "pptp xlate timeout", 1, MAX_TMO, &n) != 0 || need_end(p) != 0)
			return -1;
		p->c->timeouts.pptp_xlate = n;
		return 0;
	}
	return perr(p, "unknown pptp xlate setting \"%s\": expected max, timeout or per-client", v);
}

/* set flow frag max|timeout N */
static int
set_flow(struct parser *p)
{
	const char *v;
	uint32_t n;

	if (need_kw(p, "frag") != 0)
		return -1;
	v = need(p, "max or timeout");
	if (v == NULL)
		return -1;
	if (kw(v, "max")) {
		if (need_u32(p, "flow frag max", 1, MAX_FRAGS, &n) != 0 || need_end(p) != 0)
			return -1;
		p->c->limits.frags = n;
		return 0;
	}
	if (kw(v, "timeout")) {
		if (need_u32(p, "flow frag timeout", 1, MAX_TMO_FRAG, &n) != 0 || need_end(p) != 0)
			return -1;
		p->c->timeouts.frag = n;
		return 0;
	}
	return perr(p, "unknown flow frag setting \"%s\": expected max or timeout", v);
}

/* Index of zone's screen in c->screens, or -1. */
static int
screen_index(const struct conf *c, const char *zone)
{
	unsigned i;

	for (i = 0; i < c->n_screens && i < CONF_MAX_ZONES; i++)
		if (strcasecmp(c->screens[i].zone, zone) == 0)
			return (int)i;
	return -1;
}

/* [un]set zone NAME screen limit-session source-ip-based [N] */
static int
zone_line(struct parser *p, bool set)
{
	const char *zone;
	uint32_t n = 0;
	int ix;

	zone = need_name(p, "zone name", CONF_NAME_LEN);
	if (zone == NULL || need_kw(p, "screen") != 0 || need_kw(p, "limit-session") != 0 ||
	    need_kw(p, "source-ip-based") != 0)
		return -1;
	if (set && need_u32(p, "limit-session source-ip-based", 1, MAX_SESSIONS, &n) != 0)
		return -1;
	if (need_end(p) != 0)
		return -1;
	zone = zone_canon(zone);
	ix = screen_index(p->c, zone);
	if (!set) {
		if (ix >= 0) {
			p->c->screens[ix] = p->c->screens[--p->c->n_screens];
			memset(&p->c->screens[p->c->n_screens], 0, sizeof(p->c->screens[0]));
		}
		return 0;
	}
	if (ix < 0) {
		if (p->c->n_screens >= CONF_MAX_ZONES)
			return perr(p, "too many zone screens: expected at most %d zones",
				    CONF_MAX_ZONES);
		ix = (int)p->c->n_screens++;
		scopy(p->c->screens[ix].zone, sizeof(p->c->screens[ix].zone), zone);
	}
	p->c->screens[ix].limit_src = n;
	return 0;
}

/* set mbuf max N */
static int
set_mbuf(struct parser *p)
{
	uint32_t n;

	if (need_kw(p, "max") != 0 || need_u32(p, "mbuf max", MIN_MBUFS, MAX_MBUFS, &n) != 0 ||
	    need_end(p) != 0)
		return -1;
	p->c->limits.mbufs = n;
	return 0;
}

/* set cli socket PATH | set cli socket-mode OCTAL | set cli socket-group NAME */
static int
set_cli(struct parser *p)
{
	const char *v;

	v = need(p, "socket, socket-mode or socket-group");
	if (v == NULL)
		return -1;
	if (kw(v, "socket")) {
		v = need(p, "a socket path");
		if (v == NULL)
			return -1;
		if (*v == '\0' || strlen(v) >= CONF_PATH_LEN)
			return perr(p, "bad socket path \"%s\": expected a path of 1 to %d characters",
				    v, CONF_PATH_LEN - 1);
		if (need_end(p) != 0)
			return -1;
		scopy(p->c->socket_path, sizeof(p->c->socket_path), v);
		return 0;
	}
	if (kw(v, "socket-mode")) {
		uint32_t mode = 0;
		const char *s;

		v = need(p, "an octal mode such as 0660");
		if (v == NULL)
			return -1;
		for (s = v; *s >= '0' && *s <= '7' && mode <= 0777; s++)
			mode = mode * 8 + (uint32_t)(*s - '0');
		if (*v == '\0' || *s != '\0' || mode > 0777)
			return perr(p, "bad socket-mode \"%s\": expected an octal mode from 0000 to 0777",
				    v);
		if (need_end(p) != 0)
			return -1;
		p->c->socket_mode = mode;
		return 0;
	}
	if (kw(v, "socket-group")) {
		v = need_name(p, "group name", CONF_NAME_LEN);
		if (v == NULL || need_end(p) != 0)
			return -1;
		scopy(p->c->socket_group, sizeof(p->c->socket_group), v);
		return 0;
	}
	return perr(p, "unknown cli setting \"%s\": expected socket, socket-mode or socket-group", v);
}

/* unset cli socket-group */
static int
unset_cli(struct parser *p)
{
	if (need_kw(p, "socket-group") != 0 || need_end(p) != 0)
		return -1;
	p->c->socket_group[0] = '\0';
	return 0;
}

/* set metrics listen A.B.C.D:PORT | unset metrics listen */
static int
metrics_line(struct parser *p, bool set)
{
	uint32_t ip = 0, port = 0;
	const char *v, *colon;
	char addr[16];
	bool ok = false;

	if (need_kw(p, "listen") != 0)
		return -1;
	if (!set) {
		if (need_end(p) != 0)
			return -1;
		p->c->metrics_ip = 0;
		p->c->metrics_port = 0;
		return 0;
	}
	v = need(p, "an address and port A.B.C.D:PORT");
	if (v == NULL)
		return -1;
	colon = strchr(v, ':');
	if (colon != NULL && (size_t)(colon - v) < sizeof(addr)) {
		memcpy(addr, v, (size_t)(colon - v));
		addr[colon - v] = '\0';
		ok = conf_parse_ip(addr, &ip) == 0 && parse_u32(colon + 1, &port) == 0 &&
		     port >= 1 && port <= 65535;
	}
	if (!ok)
		return perr(p, "bad metrics address \"%s\": expected A.B.C.D:PORT with a port from 1 to 65535",
			    v);
	if (need_end(p) != 0)
		return -1;
	p->c->metrics_ip = ip;
	p->c->metrics_port = (uint16_t)port;
	return 0;
}

/* set worker idle-sleep USEC */
static int
set_worker(struct parser *p)
{
	uint32_t n;

	if (need_kw(p, "idle-sleep") != 0 ||
	    need_u32(p, "worker idle-sleep", 0, MAX_IDLE_US, &n) != 0 || need_end(p) != 0)
		return -1;
	p->c->worker_idle_us = n;
	return 0;
}

/*
 * The rest of a collector line after its keyword: A.B.C.D [port N] (set) or
 * A.B.C.D (unset), added to, changed in or removed from list[*n] (max).
 * what names the collector kind in errors ("syslog", "IPFIX").
 */
static int
collector_line(struct parser *p, bool set, const char *what, struct conf_collector *list,
	       unsigned *n, unsigned max, uint32_t port)
{
	char wport[32], wcoll[32];
	uint32_t ip;
	unsigned i;

	snprintf(wport, sizeof(wport), "%s port", what);
	snprintf(wcoll, sizeof(wcoll), "%s collector", what);
	if (need_ip(p, wcoll, &ip) != 0)
		return -1;
	if (set && peek(p) != NULL) {
		if (!kw(peek(p), "port"))
			return perr(p, "unexpected word \"%s\" after \"%s\": expected port or end of line",
				    peek(p), prev_word(p));
		p->pos++;
		if (need_u32(p, wport, 1, 65535, &port) != 0)
			return -1;
	}
	if (need_end(p) != 0)
		return -1;
	for (i = 0; i < *n && list[i].ip != ip; i++)
		;
	if (!set) {
		if (i == *n)
			return perr(p, "no %s collector %s: expected a configured collector", what, prev_word(p));
		list[i] = list[--*n];
		return 0;
	}
	if (i == *n) {
		if (*n >= max)
			return perr(p, "too many %s collectors: expected at most %u", what, max);
		(*n)++;
	}
	list[i].ip = ip;
	list[i].port = (uint16_t)port;
	return 0;
}

/* set|unset log nat ipfix enable, collector A.B.C.D [port N], template-refresh N, mtu N */
static int
ipfix_line(struct parser *p, bool set)
{
	struct conf *c = p->c;
	const char *v = need(p, set ? "enable, collector, template-refresh or mtu" : "enable or collector");
	uint32_t n;

	if (v == NULL)
		return -1;
	if (kw(v, "enable")) {
		if (need_end(p) != 0)
			return -1;
		c->ipfix_on = set;
		return 0;
	}
	if (kw(v, "collector"))
		return collector_line(p, set, "IPFIX", c->ipfix, &c->n_ipfix, CONF_MAX_IPFIX,
				      CONF_DEF_IPFIX_PORT);
	if (set && kw(v, "template-refresh")) {
		if (need_u32(p, "ipfix template-refresh", 1, 3600, &n) != 0 || need_end(p) != 0)
			return -1;
		c->ipfix_refresh = n;
		return 0;
	}
	if (set && kw(v, "mtu")) {
		if (need_u32(p, "ipfix mtu", CONF_MTU_MIN, CONF_MTU_MAX, &n) != 0 || need_end(p) != 0)
			return -1;
		c->ipfix_mtu = n;
		return 0;
	}
	return perr(p, "unknown keyword \"%s\": expected %s", v,
		    set ? "enable, collector, template-refresh or mtu" : "enable or collector");
}

/* set|unset log nat enable, set log nat queue N, set|unset log nat ipfix ... */
static int
log_line(struct parser *p, bool set)
{
	const char *v;
	uint32_t n;

	if (need_kw(p, "nat") != 0)
		return -1;
	v = need(p, set ? "enable, queue or ipfix" : "enable or ipfix");
	if (v == NULL)
		return -1;
	if (kw(v, "enable")) {
		if (need_end(p) != 0)
			return -1;
		p->c->log_nat = set;
		return 0;
	}
	if (kw(v, "ipfix"))
		return ipfix_line(p, set);
	if (set && kw(v, "queue")) {
		if (need_u32(p, "log nat queue", 64, 1048576, &n) != 0 || need_end(p) != 0)
			return -1;
		p->c->log_nat_queue = n;
		return 0;
	}
	return perr(p, "unknown keyword \"%s\": expected %s", v, set ? "enable, queue or ipfix" : "enable or ipfix");
}

/*
 * set nat port-block size|max-blocks|interim-log|subscribers N, unset nat port-block,
 * set nat subscriber-limit ports N, unset nat subscriber-limit ports
 */
static int
nat_cgn_line(struct parser *p, bool set, const char *v)
{
	struct conf *c = p->c;
	uint32_t n;

	if (kw(v, "subscriber-limit")) {
		if (need_kw(p, "ports") != 0)
			return -1;
		if (!set) {
			if (need_end(p) != 0)
				return -1;
			c->port_limit = 0;
			return 0;
		}
		if (need_u32(p, "nat subscriber-limit ports", 1, 64512, &n) != 0 || need_end(p) != 0)
			return -1;
		c->port_limit = n;
		return 0;
	}
	if (!kw(v, "port-block"))
		return perr(p, "unknown keyword \"%s\": expected port-block or subscriber-limit", v);
	if (!set) {
		if (need_end(p) != 0)
			return -1;
		c->pba_size = 0;
		return 0;
	}
	v = need(p, "size, max-blocks, interim-log or subscribers");
	if (v == NULL)
		return -1;
	if (kw(v, "size")) {
		if (need_u32(p, "port-block size", CONF_MIN_PBA_SIZE, 32256, &n) != 0 || need_end(p) != 0)
			return -1;
		c->pba_size = n;
	} else if (kw(v, "max-blocks")) {
		if (need_u32(p, "port-block max-blocks", 1, CONF_MAX_PBA_BLOCKS, &n) != 0 ||
		    need_end(p) != 0)
			return -1;
		c->pba_max_blocks = n;
	} else if (kw(v, "interim-log")) {
		if (need_u32(p, "port-block interim-log", 0, 86400, &n) != 0 || need_end(p) != 0)
			return -1;
		c->pba_interim = n;
	} else if (kw(v, "subscribers")) {
		if (need_u32(p, "port-block subscribers", 1, 16777216, &n) != 0 || need_end(p) != 0)
			return -1;
		c->pba_subscribers = n;
	} else {
		return perr(p, "unknown port-block setting \"%s\": expected size, max-blocks, interim-log or subscribers",
			    v);
	}
	return 0;
}

/* set|unset syslog enable, set syslog config A.B.C.D [port N], unset syslog config A.B.C.D */
static int
syslog_line(struct parser *p, bool set)
{
	struct conf *c = p->c;
	const char *v = need(p, "config or enable");

	if (v == NULL)
		return -1;
	if (kw(v, "enable")) {
		if (need_end(p) != 0)
			return -1;
		c->syslog_on = set;
		return 0;
	}
	if (!kw(v, "config"))
		return perr(p, "unknown keyword \"%s\": expected config or enable", v);
	return collector_line(p, set, "syslog", c->syslog, &c->n_syslog, CONF_MAX_SYSLOG,
			      CONF_DEF_SYSLOG_PORT);
}

/*
 * set nat mapping endpoint-independent | set nat mapping max N
 * set nat filtering endpoint-independent|address-and-port-dependent
 * set nat hairpin | set nat port-preserve [parity]; unset of the switches
 */
static int
nat_behaviour_line(struct parser *p, bool set, const char *v)
{
	struct conf_nat *n = &p->c->nat;
	uint32_t max;

	if (kw(v, "mapping")) {
		v = need(p, set ? "endpoint-independent or max" : "endpoint-independent");
		if (v == NULL)
			return -1;
		if (set && kw(v, "max")) {
			if (need_u32(p, "nat mapping max", 1, MAX_NAT_MAPS, &max) != 0 || need_end(p) != 0)
				return -1;
			p->c->limits.nat_maps = max;
			return 0;
		}
		if (!kw(v, "endpoint-independent"))
			return perr(p, "unknown keyword \"%s\": expected %s", v,
				    set ? "endpoint-independent or max" : "endpoint-independent");
		if (need_end(p) != 0)
			return -1;
		n->eim = set;
		return 0;
	}
	if (set && kw(v, "filtering")) {
		v = need(p, "endpoint-independent or address-and-port-dependent");
		if (v == NULL)
			return -1;
		if (!kw(v, "endpoint-independent") && !kw(v, "address-and-port-dependent"))
			return perr(p, "unknown filtering \"%s\": expected endpoint-independent or address-and-port-dependent",
				    v);
		if (need_end(p) != 0)
			return -1;
		n->eif = kw(v, "endpoint-independent");
		return 0;
	}
	if (kw(v, "hairpin")) {
		if (need_end(p) != 0)
			return -1;
		n->hairpin = set;
		return 0;
	}
	if (kw(v, "port-preserve")) {
		bool parity = set && peek(p) != NULL && kw(peek(p), "parity");

		p->pos += parity;
		if (need_end(p) != 0)
			return -1;
		n->port_keep = !set ? CONF_PORT_ANY : parity ? CONF_PORT_PARITY : CONF_PORT_PRESERVE;
		return 0;
	}
	return perr(p, "unknown nat setting \"%s\": expected %s", v,
		    set ? "port-block, subscriber-limit, mapping, filtering, hairpin or port-preserve" :
			  "port-block, subscriber-limit, mapping, hairpin or port-preserve");
}

/* set|unset nat ...: port blocks and subscriber limits, or the RFC 4787 behaviour switches. */
static int
nat_line(struct parser *p, bool set)
{
	const char *v = need(p, set ? "port-block, subscriber-limit, mapping, filtering, hairpin or port-preserve" :
				      "port-block, subscriber-limit, mapping, hairpin or port-preserve");

	if (v == NULL)
		return -1;
	if (kw(v, "port-block") || kw(v, "subscriber-limit"))
		return nat_cgn_line(p, set, v);
	return nat_behaviour_line(p, set, v);
}

/* set nsrp cluster id N | local A.B.C.D | peer A.B.C.D | sync-port N | queue N | refresh N; unset nsrp cluster */
static int
nsrp_line(struct parser *p, bool set)
{
	struct conf *c = p->c;
	const char *v = need(p, set ? "cluster, local, peer, sync-port, queue or refresh" : "cluster");
	uint32_t n;

	if (v == NULL)
		return -1;
	if (kw(v, "cluster")) {
		if (!set) {
			if (need_end(p) != 0)
				return -1;
			c->nsrp_cluster = 0;
			return 0;
		}
		if (need_kw(p, "id") != 0 || need_u32(p, "nsrp cluster id", 1, 7, &n) != 0 ||
		    need_end(p) != 0)
			return -1;
		c->nsrp_cluster = n;
		return 0;
	}
	if (!set)
		return perr(p, "unknown keyword \"%s\": expected cluster", v);
	if (kw(v, "local") || kw(v, "peer")) {
		bool local = kw(v, "local");

		if (need_ip(p, local ? "nsrp local address" : "nsrp peer address", &n) != 0 ||
		    need_end(p) != 0)
			return -1;
		if (local)
			c->nsrp_local = n;
		else
			c->nsrp_peer = n;
		return 0;
	}
	if (kw(v, "sync-port")) {
		if (need_u32(p, "nsrp sync-port", 1, 65535, &n) != 0 || need_end(p) != 0)
			return -1;
		c->nsrp_port = (uint16_t)n;
		return 0;
	}
	if (kw(v, "queue")) {
		if (need_u32(p, "nsrp queue", 64, 1048576, &n) != 0 || need_end(p) != 0)
			return -1;
		c->nsrp_queue = n;
		return 0;
	}
	if (kw(v, "refresh")) {
		if (need_u32(p, "nsrp refresh", 1, 60, &n) != 0 || need_end(p) != 0)
			return -1;
		c->nsrp_refresh = n;
		return 0;
	}
	return perr(p, "unknown keyword \"%s\": expected cluster, local, peer, sync-port, queue or refresh", v);
}

/* ---- lines ---- */

/* Run the statement of p's words (keywords spelled out by the grammar). 0, or -1 with p->err set. */
static int
statement(struct parser *p)
{
	const char *v;

	v = p->w[p->pos++];
	if (kw(v, "exit")) {
		/* Closes a `set policy id N` context; outside one it does nothing. */
		if (need_end(p) != 0)
			return -1;
		p->ctx->policy_ctx = -1;
		return 0;
	}
	if (kw(v, "set")) {
		v = need(p, SET_KEYWORDS);
		if (v == NULL)
			return -1;
		if (kw(v, "interface"))
			return set_interface(p);
		if (kw(v, "policy"))
			return set_policy(p);
		if (kw(v, "route"))
			return set_route(p);
		if (kw(v, "arp"))
			return set_arp(p);
		if (kw(v, "session"))
			return set_session(p);
		if (kw(v, "alg"))
			return alg_line(p, true);
		if (kw(v, "mbuf"))
			return set_mbuf(p);
		if (kw(v, "cli"))
			return set_cli(p);
		if (kw(v, "worker"))
			return set_worker(p);
		if (kw(v, "flow"))
			return set_flow(p);
		if (kw(v, "zone"))
			return zone_line(p, true);
		if (kw(v, "metrics"))
			return metrics_line(p, true);
		if (kw(v, "log"))
			return log_line(p, true);
		if (kw(v, "syslog"))
			return syslog_line(p, true);
		if (kw(v, "nat"))
			return nat_line(p, true);
		if (kw(v, "nsrp"))
			return nsrp_line(p, true);
		return perr(p, "unknown keyword \"%s\": expected " SET_KEYWORDS, v);
	}
	if (kw(v, "unset")) {
		v = need(p, UNSET_KEYWORDS);
		if (v == NULL)
			return -1;
		if (kw(v, "interface"))
			return unset_interface(p);
		if (kw(v, "policy"))
			return unset_policy(p);
		if (kw(v, "route"))
			return unset_route(p);
		if (kw(v, "arp"))
			return unset_arp(p);
		if (kw(v, "alg"))
			return alg_line(p, false);
		if (kw(v, "zone"))
			return zone_line(p, false);
		if (kw(v, "cli"))
			return unset_cli(p);
		if (kw(v, "metrics"))
			return metrics_line(p, false);
		if (kw(v, "log"))
			return log_line(p, false);
		if (kw(v, "syslog"))
			return syslog_line(p, false);
		if (kw(v, "nat"))
			return nat_line(p, false);
		if (kw(v, "nsrp"))
			return nsrp_line(p, false);
		return perr(p, "unknown keyword \"%s\": expected " UNSET_KEYWORDS, v);
	}
	return perr(p, "unknown command \"%s\": expected set, unset or exit", v);
}


/* Grammar and statement functions for the table of conf_grammar.h; never run (cli_parse_conf matches only). */
static int
h_none(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	(void)a;
	(void)out;
	(void)ctx;
	return 0;
}

#define CONF_CMD(syntax, help) { syntax, help, h_none, NULL },
static const struct cli_cmd conf_cmds[] = {
	CONF_GRAMMAR(CONF_CMD)
	{ "exit", "close a policy's context", h_none, NULL },
};
static const struct cli_word_help conf_words[] = { CONF_GRAMMAR_WORDS };
static int
conf_values_cb(void *ctx, const char *key, unsigned i, char *buf, size_t len)
{
	return ctx != NULL ? conf_values(ctx, key, i, buf, len) : -1;
}

static const struct cli_table conf_table = {
	.cmds = conf_cmds, .n_cmds = DIM(conf_cmds),
	.words = conf_words, .n_words = DIM(conf_words),
	.values = conf_values_cb,   /* ctx: the struct conf */
};

int
conf_values(const struct conf *c, const char *key, unsigned i, char *buf, size_t len)
{
	unsigned k, j;

	if (strcmp(key, "interface") == 0 && i < c->n_ifaces && i < CONF_MAX_IFACES) {
		snprintf(buf, len, "%s", c->ifaces[i].name);
		return 0;
	}
	if (strcmp(key, "dip-id") == 0 && i < c->n_dips && i < CONF_MAX_DIPS) {
		snprintf(buf, len, "%u", c->dips[i].id);
		return 0;
	}
	if (strcmp(key, "policy-id") == 0 && i < c->n_policies && i < CONF_MAX_POLICIES) {
		snprintf(buf, len, "%u", c->policies[i].id);
		return 0;
	}
	if (strcmp(key, "service") == 0 && i < DIM(services)) {
		snprintf(buf, len, "%s", services[i]);
		return 0;
	}
	if ((strcmp(key, "src-addr") == 0 || strcmp(key, "dst-addr") == 0) && i == 0) {
		snprintf(buf, len, "Any");
		return 0;
	}
	if (strcmp(key, "zone") != 0)
		return -1;
	/* Zones bound to interfaces, each once, in interface order. */
	for (k = 0; k < c->n_ifaces && k < CONF_MAX_IFACES; k++) {
		const char *z = c->ifaces[k].zone;

		if (z[0] == '\0')
			continue;
		for (j = 0; j < k && strcmp(c->ifaces[j].zone, z) != 0; j++)
			;
		if (j < k)
			continue;
		if (i-- == 0) {
			snprintf(buf, len, "%s", z);
			return 0;
		}
	}
	return -1;
}

static unsigned long n_disagree;   /* see conf_grammar_disagreements() */

unsigned long
conf_grammar_disagreements(void)
{
	return __atomic_load_n(&n_disagree, __ATOMIC_RELAXED);
}

const struct cli_table *
conf_grammar(void)
{
	return &conf_table;
}

/* A line through the grammar, then its statement function. */
static int
apply(struct conf *c, struct conf_ctx *ctx, const char *line, size_t len, char *err,
      size_t errlen)
{
	struct parser *p = malloc(sizeof(*p));
	struct conf_ctx sctx;
	struct cli_strbuf sb;
	struct cli_out out;
	struct conf *scratch;
	char why[CONF_ERR_LEN];
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ctx->col = 0;
	if (p == NULL)
		return verr(err, errlen, "%s:%u: out of memory: expected %zu free bytes",
			    ctx->file != NULL ? ctx->file : "?", ctx->line, sizeof(*p));
	memset(p, 0, offsetof(struct parser, cl));
	p->c = c;
	p->ctx = ctx;
	p->err = err;
	p->errlen = errlen;
	p->w = p->cl.w;
	cli_out_strbuf(&out, &sb, why, sizeof(why));
	rc = cli_parse_conf(&conf_table, line, len, &p->cl, &out);
	while (sb.len > 0 && why[sb.len - 1] == '\n')
		why[--sb.len] = '\0';
	if (rc < 0) {
		/* Lexical: the message says what, lexcol where. */
		ctx->col = p->cl.lexcol;
		rc = verr(err, errlen, "%s:%u: %s", ctx->file != NULL ? ctx->file : "?", ctx->line, why);
		goto out;
	}
	p->n = p->cl.n;
	if (p->n == 0)
		goto out;   /* blank or comment */
	if (ctx->policy_ctx >= (int)c->n_policies)
		ctx->policy_ctx = -1;   /* a context from another configuration */
	if (rc == 0) {
		rc = statement(p);
		goto out;
	}
	/*
	 * The grammar refused the line. The statement function, run on a copy,
	 * names the bad value more precisely; if it took the line, the two
	 * disagree (a bug fuzz_conf looks for) and the grammar's word stands.
	 */
	scratch = malloc(sizeof(*scratch));
	if (scratch == NULL) {
		rc = verr(err, errlen, "%s:%u: out of memory: expected %zu free bytes",
			  ctx->file != NULL ? ctx->file : "?", ctx->line, sizeof(*scratch));
		goto out;
	}
	memcpy(scratch, c, sizeof(*scratch));
	sctx = *ctx;
	p->c = scratch;
	p->ctx = &sctx;
	if (statement(p) == 0) {
		p->ctx = ctx;
		p->at = p->cl.bad >= 0 ? (unsigned)p->cl.bad : p->n;
		__atomic_add_fetch(&n_disagree, 1, __ATOMIC_RELAXED);
		perr(p, "%s (" CONF_GRAMMAR_DISAGREES ")", why);
	} else if (p->cl.bad >= 0 && p->at < (unsigned)p->cl.bad) {
		/* It stopped at a word the grammar took (a keyword prefix): the grammar's word is the one. */
		p->ctx = ctx;
		p->at = (unsigned)p->cl.bad;
		perr(p, "%s", why);
	} else {
		ctx->col = sctx.col;
	}
	free(scratch);
	rc = -1;
out:
	free(p);
	return rc;
}

/* ---- public API ---- */

/* After a failed line of a load: "FILE:LINE: msg" becomes "FILE:LINE:COLUMN: msg" (the GNU error format editors jump to). */
static void
err_add_col(char *err, size_t errlen, const struct conf_ctx *ctx)
{
	char tmp[CONF_ERR_LEN];
	int pre;

	if (err == NULL || errlen == 0 || ctx->col == 0)
		return;
	pre = snprintf(tmp, sizeof(tmp), "%s:%u: ", ctx->file, ctx->line);
	if (pre < 0 || (size_t)pre >= sizeof(tmp) || strncmp(err, tmp, (size_t)pre) != 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s", err + pre);
	snprintf(err, errlen, "%s:%u:%u: %s", ctx->file, ctx->line, ctx->col, tmp);
}

void
conf_init(struct conf *c)
{
	struct conf_iface *v;

	memset(c, 0, sizeof(*c));
	v = &c->ifaces[c->n_ifaces++];
	scopy(v->name, sizeof(v->name), DEF_VLAN1_NAME);
	v->ip = DEF_VLAN1_IP;
	v->plen = DEF_VLAN1_PLEN;
	v->has_ip = true;
	v->builtin = true;
	v->mtu = CONF_MTU_DEFAULT;
	defaults_limits(&c->limits);
	defaults_timeouts(&c->timeouts);
	c->alg_pptp = true;
	scopy(c->socket_path, sizeof(c->socket_path), DEF_SOCKET_PATH);
	c->socket_mode = DEF_SOCKET_MODE;
	c->worker_idle_us = 0;
	c->log_nat = false;
	c->log_nat_queue = CONF_DEF_LOG_NAT_QUEUE;
	c->pba_max_blocks = CONF_DEF_PBA_MAX_BLOCKS;
	c->pba_subscribers = CONF_DEF_PBA_SUBS;
	c->ipfix_refresh = CONF_DEF_IPFIX_REFRESH;
	c->ipfix_mtu = CONF_MTU_DEFAULT;
	c->nsrp_port = CONF_DEF_NSRP_PORT;
	c->nsrp_queue = CONF_DEF_NSRP_QUEUE;
	c->nsrp_refresh = CONF_DEF_NSRP_REFRESH;
}

void
conf_ctx_init(struct conf_ctx *ctx, const char *file)
{
	ctx->file = file != NULL ? file : "?";
	ctx->line = 0;
	ctx->col = 0;
	ctx->policy_ctx = -1;
}

int
conf_apply_line(struct conf *c, struct conf_ctx *ctx, const char *line, char *err,
		size_t errlen)
{
	struct conf_ctx local;

	if (ctx == NULL) {
		conf_ctx_init(&local, NULL);
		ctx = &local;
	}
	if (line == NULL)
		return 0;
	return apply(c, ctx, line, strlen(line), err, errlen);
}

int
conf_load_string(struct conf *c, const char *label, const char *text, char *err, size_t errlen)
{
	struct conf_ctx ctx;
	struct conf *tmp;
	const char *s = text;

	conf_ctx_init(&ctx, label != NULL ? label : "<string>");
	if (text == NULL)
		return verr(err, errlen, "%s: no configuration text: expected a string", ctx.file);
	tmp = malloc(sizeof(*tmp));
	if (tmp == NULL)
		return verr(err, errlen, "%s: out of memory: expected %zu free bytes", ctx.file,
			    sizeof(*tmp));
	memcpy(tmp, c, sizeof(*tmp));
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);

		ctx.line++;
		if (apply(tmp, &ctx, s, len, err, errlen) != 0) {
			err_add_col(err, errlen, &ctx);
			free(tmp);
			return -1;
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	memcpy(c, tmp, sizeof(*tmp));
	free(tmp);
	return 0;
}

int
conf_load_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct conf_ctx ctx;
	struct conf *tmp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int rc = 0;

	if (path == NULL)
		return verr(err, errlen, "no configuration file: expected a path");
	f = fopen(path, "r");
	if (f == NULL)
		return verr(err, errlen, "%s: cannot open: %s: expected a readable configuration file",
			    path, strerror(errno));
	tmp = malloc(sizeof(*tmp));
	if (tmp == NULL) {
		fclose(f);
		return verr(err, errlen, "%s: out of memory: expected %zu free bytes", path,
			    sizeof(*tmp));
	}
	memcpy(tmp, c, sizeof(*tmp));
	conf_ctx_init(&ctx, path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		ctx.line++;
		if (apply(tmp, &ctx, line, (size_t)len, err, errlen) != 0) {
			err_add_col(err, errlen, &ctx);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		rc = verr(err, errlen, "%s:%u: read error: %s: expected a readable configuration file",
			  path, ctx.line + 1, strerror(errno));
	}
	free(line);
	fclose(f);
	if (rc == 0)
		memcpy(c, tmp, sizeof(*tmp));
	free(tmp);
	return rc;
}

/* Parent interface of subinterface f (NAME.N): present, untagged; f has no port of its own, a tag of its own. */
static int
subif_check(const struct conf *c, const struct conf_iface *f, char *err, size_t errlen)
{
	const char *dot = strrchr(f->name, '.');
	const struct conf_iface *par = NULL;
	unsigned i;

	if (f->tag > CONF_VLAN_MAX)
		return verr(err, errlen, "interface %s: tag %u: expected 1 to %d", f->name, f->tag,
			    CONF_VLAN_MAX);
	for (i = 0; dot != NULL && i < c->n_ifaces && par == NULL; i++)
		if (strlen(c->ifaces[i].name) == (size_t)(dot - f->name) &&
		    strncmp(c->ifaces[i].name, f->name, (size_t)(dot - f->name)) == 0)
			par = &c->ifaces[i];
	if (par == NULL || par->tag != 0)
		return verr(err, errlen, "subinterface %s has no physical interface %.*s: expected an untagged interface of that name",
			    f->name, dot != NULL ? (int)(dot - f->name) : 0, f->name);
	if (f->port[0] != '\0')
		return verr(err, errlen, "subinterface %s has a port: expected its traffic on %s's port",
			    f->name, par->name);
	for (i = 0; i < c->n_ifaces && &c->ifaces[i] != f; i++) {
		const struct conf_iface *g = &c->ifaces[i];

		if (g->tag == f->tag && strncmp(g->name, f->name, (size_t)(dot - f->name + 1)) == 0 &&
		    strrchr(g->name, '.') == g->name + (dot - f->name))
			return verr(err, errlen, "tag %u is on subinterfaces %s and %s: expected one subinterface per tag and port",
				    f->tag, g->name, f->name);
	}
	return 0;
}

int
conf_validate(const struct conf *c, char *err, size_t errlen)
{
	char a[16], b[16];
	unsigned i, j;

	if (c->n_ifaces > CONF_MAX_IFACES || c->n_dips > CONF_MAX_DIPS ||
	    c->n_policies > CONF_MAX_POLICIES || c->n_routes > CONF_MAX_ROUTES ||
	    c->n_arps > CONF_MAX_ARPS || c->n_screens > CONF_MAX_ZONES)
		return verr(err, errlen, "table counts out of range: expected a configuration built by conf_init and conf_load");
	if (zone_count(c, -1) > CONF_MAX_ZONES)
		return verr(err, errlen, "%u zones: expected at most %d zones", zone_count(c, -1),
			    CONF_MAX_ZONES);
	for (i = 0; i < c->n_ifaces; i++) {
		const struct conf_iface *f = &c->ifaces[i];

		if (f->nat && f->route_mode)
			return verr(err, errlen, "interface %s: both nat and route: expected one of them",
				    f->name);
		if (f->mtu < CONF_MTU_MIN || f->mtu > CONF_MTU_MAX)
			return verr(err, errlen, "interface %s: mtu %u: expected %d to %d",
				    f->name, f->mtu, CONF_MTU_MIN, CONF_MTU_MAX);
		if (f->tag != 0 && subif_check(c, f, err, errlen) != 0)
			return -1;
		for (j = 0; j < i; j++) {
			const struct conf_iface *g = &c->ifaces[j];

			if (strcmp(f->name, g->name) == 0)
				return verr(err, errlen, "interface %s is defined twice: expected unique names",
					    f->name);
			if (f->port[0] != '\0' && strcmp(f->port, g->port) == 0)
				return verr(err, errlen, "port %s is bound to interfaces %s and %s: expected one interface per port",
					    f->port, g->name, f->name);
			if (f->has_ip && g->has_ip && f->ip == g->ip)
				return verr(err, errlen, "address %s is on interfaces %s and %s: expected one interface per address",
					    conf_ip_str(f->ip, a), g->name, f->name);
		}
	}
	/* Filtering and hairpinning act on mappings: without them there is none. */
	if ((c->nat.eif || c->nat.hairpin) && !c->nat.eim)
		return verr(err, errlen, "nat %s without endpoint-independent mappings: expected set nat mapping endpoint-independent",
			    c->nat.eif ? "filtering endpoint-independent" : "hairpin");
	for (i = 0; i < c->n_dips; i++) {
		const struct conf_dip *d = &c->dips[i];

		if (conf_iface_find(c, d->iface) == NULL)
			return verr(err, errlen, "dip id %u: unknown interface \"%s\": expected a configured interface",
				    d->id, d->iface);
		if (d->low == 0 || d->high < d->low)
			return verr(err, errlen, "dip id %u: bad range %s-%s: expected low <= high",
				    d->id, conf_ip_str(d->low, a), conf_ip_str(d->high, b));
		for (j = 0; j < i; j++)
			if (c->dips[j].id == d->id)
				return verr(err, errlen, "dip id %u is defined twice: expected unique ids",
					    d->id);
	}
	for (i = 0; i < c->n_policies; i++) {
		const struct conf_policy *pl = &c->policies[i];

		if (!zone_used(c, pl->from_zone, -1))
			return verr(err, errlen, "policy id %u: unknown zone \"%s\": expected a zone bound to an interface",
				    pl->id, pl->from_zone);
		if (!zone_used(c, pl->to_zone, -1))
			return verr(err, errlen, "policy id %u: unknown zone \"%s\": expected a zone bound to an interface",
				    pl->id, pl->to_zone);
		if (pl->nat_src && pl->dip_id != 0 && conf_dip_find(c, pl->dip_id) == NULL)
			return verr(err, errlen, "policy id %u: unknown dip-id %u: expected the id of a configured dip pool",
				    pl->id, pl->dip_id);
		for (j = 0; j < i; j++)
			if (c->policies[j].id == pl->id)
				return verr(err, errlen, "policy id %u is defined twice: expected unique ids",
					    pl->id);
	}
	for (i = 0; i < c->n_routes; i++) {
		const struct conf_route *r = &c->routes[i];

		if (conf_iface_find(c, r->iface) == NULL)
			return verr(err, errlen, "route %s/%u: unknown interface \"%s\": expected a configured interface",
				    conf_ip_str(r->prefix, a), r->plen, r->iface);
	}
	for (i = 0; i < c->n_arps; i++) {
		const struct conf_arp *ar = &c->arps[i];

		if (conf_iface_find(c, ar->iface) == NULL)
			return verr(err, errlen, "arp %s: unknown interface \"%s\": expected a configured interface",
				    conf_ip_str(ar->ip, a), ar->iface);
	}
	return 0;
}

/* Write helpers: remember the first failure. */
static void __attribute__((format(printf, 3, 4)))
out_line(FILE *out, int *rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(out, fmt, ap) < 0)
		*rc = -1;
	va_end(ap);
}

static void
dump_ip_line(FILE *out, int *rc, const struct conf_iface *f)
{
	char a[16];

	out_line(out, rc, "set interface %s ip %s/%u\n", f->name, conf_ip_str(f->ip, a), f->plen);
}

int
conf_dump(const struct conf *c, FILE *out)
{
	struct conf_limits dl;
	struct conf_timeouts dt;
	char a[16], b[16];
	bool ip_done[CONF_MAX_IFACES];
	unsigned i, n_ifaces = c->n_ifaces < CONF_MAX_IFACES ? c->n_ifaces : CONF_MAX_IFACES;
	int rc = 0;

	/* Interfaces are created in their order: zones first, as ScreenOS writes them. */
	for (i = 0; i < n_ifaces; i++) {
		const struct conf_iface *f = &c->ifaces[i];

		ip_done[i] = false;
		if (f->tag != 0 && f->zone[0] != '\0') {
			out_line(out, &rc, "set interface \"%s\" tag %u zone \"%s\"\n", f->name, f->tag,
				 f->zone);
		} else if (f->tag != 0) {
			out_line(out, &rc, "set interface \"%s\" tag %u\n", f->name, f->tag);
		} else if (f->zone[0] != '\0') {
			out_line(out, &rc, "set interface \"%s\" zone \"%s\"\n", f->name, f->zone);
		} else if (!f->builtin) {
			if (f->has_ip)
				dump_ip_line(out, &rc, f);
			else
				out_line(out, &rc, "unset interface %s ip\n", f->name);
			ip_done[i] = true;
		}
	}
	for (i = 0; i < n_ifaces; i++) {
		const struct conf_iface *f = &c->ifaces[i];

		if (!ip_done[i]) {
			if (f->builtin && !f->has_ip)
				out_line(out, &rc, "unset interface %s ip\n", f->name);
			else if (f->has_ip && (!f->builtin || f->ip != DEF_VLAN1_IP ||
					       f->plen != DEF_VLAN1_PLEN))
				dump_ip_line(out, &rc, f);
		}
		if (f->nat)
			out_line(out, &rc, "set interface %s nat\n", f->name);
		else if (f->route_mode)
			out_line(out, &rc, "set interface %s route\n", f->name);
		if (f->port[0] != '\0')
			out_line(out, &rc, "set interface %s port %s\n", f->name, f->port);
		if (f->mtu != CONF_MTU_DEFAULT)
			out_line(out, &rc, "set interface %s mtu %u\n", f->name, f->mtu);
	}
	for (i = 0; i < c->n_dips && i < CONF_MAX_DIPS; i++) {
		const struct conf_dip *d = &c->dips[i];

		out_line(out, &rc, "set interface %s dip %u %s %s", d->iface, d->id,
			 conf_ip_str(d->low, a), conf_ip_str(d->high, b));
		if (d->det)
			out_line(out, &rc, " deterministic inside %s/%u", conf_ip_str(d->det_inside, a),
				 d->det_plen);
		out_line(out, &rc, "\n");
	}
	for (i = 0; i < c->n_policies && i < CONF_MAX_POLICIES; i++) {
		const struct conf_policy *pl = &c->policies[i];

		out_line(out, &rc, "set policy id %u from \"%s\" to \"%s\" \"%s\" \"%s\" \"%s\" %s",
			 pl->id, pl->from_zone, pl->to_zone, pl->src_addr, pl->dst_addr,
			 pl->service, pl->permit ? "permit" : "deny");
		if (pl->nat_src && pl->dip_id != 0)
			out_line(out, &rc, " nat src dip-id %u", pl->dip_id);
		else if (pl->nat_src)
			out_line(out, &rc, " nat src");
		out_line(out, &rc, "\n");
	}
	for (i = 0; i < c->n_routes && i < CONF_MAX_ROUTES; i++) {
		const struct conf_route *r = &c->routes[i];

		out_line(out, &rc, "set route %s/%u interface %s", conf_ip_str(r->prefix, a),
			 r->plen, r->iface);
		if (r->gateway != 0)
			out_line(out, &rc, " gateway %s", conf_ip_str(r->gateway, a));
		out_line(out, &rc, "\n");
	}
	for (i = 0; i < c->n_arps && i < CONF_MAX_ARPS; i++) {
		const struct conf_arp *ar = &c->arps[i];

		out_line(out, &rc, "set arp %s %02x:%02x:%02x:%02x:%02x:%02x %s\n",
			 conf_ip_str(ar->ip, a), ar->mac[0], ar->mac[1], ar->mac[2], ar->mac[3],
			 ar->mac[4], ar->mac[5], ar->iface);
	}
	/* The rest only when it differs from the defaults. */
	defaults_limits(&dl);
	defaults_timeouts(&dt);
	if (c->limits.sessions != dl.sessions)
		out_line(out, &rc, "set session max %u\n", c->limits.sessions);
	/* The profile first: the protocol lines below are what differs from it. */
	if (c->timeouts.profile != dt.profile) {
		out_line(out, &rc, "set session timeout profile rfc\n");
		profile_timeouts(&dt, c->timeouts.profile);
	}
	if (c->timeouts.tcp != dt.tcp)
		out_line(out, &rc, "set session timeout tcp %u\n", c->timeouts.tcp);
	if (c->timeouts.tcp_syn != dt.tcp_syn)
		out_line(out, &rc, "set session timeout tcp-syn %u\n", c->timeouts.tcp_syn);
	if (c->timeouts.tcp_closing != dt.tcp_closing)
		out_line(out, &rc, "set session timeout tcp-closing %u\n", c->timeouts.tcp_closing);
	if (c->timeouts.udp != dt.udp)
		out_line(out, &rc, "set session timeout udp %u\n", c->timeouts.udp);
	if (c->timeouts.icmp != dt.icmp)
		out_line(out, &rc, "set session timeout icmp %u\n", c->timeouts.icmp);
	if (c->timeouts.gre != dt.gre)
		out_line(out, &rc, "set session timeout gre %u\n", c->timeouts.gre);
	if (c->timeouts.other != dt.other)
		out_line(out, &rc, "set session timeout other %u\n", c->timeouts.other);
	if (!c->alg_pptp)
		out_line(out, &rc, "unset alg pptp enable\n");
	if (c->limits.pptp_xlate != dl.pptp_xlate)
		out_line(out, &rc, "set alg pptp xlate max %u\n", c->limits.pptp_xlate);
	if (c->timeouts.pptp_xlate != dt.pptp_xlate)
		out_line(out, &rc, "set alg pptp xlate timeout %u\n", c->timeouts.pptp_xlate);
	if (c->limits.pptp_per_src != dl.pptp_per_src)
		out_line(out, &rc, "set alg pptp control per-source %u\n", c->limits.pptp_per_src);
	if (c->limits.neighbors != dl.neighbors)
		out_line(out, &rc, "set arp max %u\n", c->limits.neighbors);
	if (c->limits.neigh_queue != dl.neigh_queue)
		out_line(out, &rc, "set arp queue %u\n", c->limits.neigh_queue);
	if (c->timeouts.arp != dt.arp)
		out_line(out, &rc, "set arp timeout %u\n", c->timeouts.arp);
	if (c->limits.mbufs != dl.mbufs)
		out_line(out, &rc, "set mbuf max %u\n", c->limits.mbufs);
	if (c->limits.pptp_per_client != dl.pptp_per_client)
		out_line(out, &rc, "set alg pptp xlate per-client %u\n", c->limits.pptp_per_client);
	if (c->limits.frags != dl.frags)
		out_line(out, &rc, "set flow frag max %u\n", c->limits.frags);
	if (c->timeouts.frag != dt.frag)
		out_line(out, &rc, "set flow frag timeout %u\n", c->timeouts.frag);
	for (i = 0; i < c->n_screens && i < CONF_MAX_ZONES; i++)
		out_line(out, &rc, "set zone \"%s\" screen limit-session source-ip-based %u\n",
			 c->screens[i].zone, c->screens[i].limit_src);
	if (strcmp(c->socket_path, DEF_SOCKET_PATH) != 0)
		out_line(out, &rc, "set cli socket \"%s\"\n", c->socket_path);
	if (c->socket_mode != DEF_SOCKET_MODE)
		out_line(out, &rc, "set cli socket-mode 0%03o\n", c->socket_mode);
	if (c->socket_group[0] != '\0')
		out_line(out, &rc, "set cli socket-group %s\n", c->socket_group);
	if (c->worker_idle_us != 0)
		out_line(out, &rc, "set worker idle-sleep %u\n", c->worker_idle_us);
	if (c->metrics_port != 0)
		out_line(out, &rc, "set metrics listen %s:%u\n", conf_ip_str(c->metrics_ip, a),
			 c->metrics_port);
	if (c->log_nat_queue != CONF_DEF_LOG_NAT_QUEUE)
		out_line(out, &rc, "set log nat queue %u\n", c->log_nat_queue);
	if (c->log_nat)
		out_line(out, &rc, "set log nat enable\n");
	for (i = 0; i < c->n_syslog && i < CONF_MAX_SYSLOG; i++)
		out_line(out, &rc, "set syslog config %s port %u\n", conf_ip_str(c->syslog[i].ip, a),
			 c->syslog[i].port);
	if (c->syslog_on)
		out_line(out, &rc, "set syslog enable\n");
	if (c->pba_size != 0)
		out_line(out, &rc, "set nat port-block size %u\n", c->pba_size);
	if (c->pba_max_blocks != CONF_DEF_PBA_MAX_BLOCKS)
		out_line(out, &rc, "set nat port-block max-blocks %u\n", c->pba_max_blocks);
	if (c->pba_interim != 0)
		out_line(out, &rc, "set nat port-block interim-log %u\n", c->pba_interim);
	if (c->pba_subscribers != CONF_DEF_PBA_SUBS)
		out_line(out, &rc, "set nat port-block subscribers %u\n", c->pba_subscribers);
	if (c->port_limit != 0)
		out_line(out, &rc, "set nat subscriber-limit ports %u\n", c->port_limit);
	for (i = 0; i < c->n_ipfix && i < CONF_MAX_IPFIX; i++)
		out_line(out, &rc, "set log nat ipfix collector %s port %u\n", conf_ip_str(c->ipfix[i].ip, a),
			 c->ipfix[i].port);
	if (c->ipfix_refresh != CONF_DEF_IPFIX_REFRESH)
		out_line(out, &rc, "set log nat ipfix template-refresh %u\n", c->ipfix_refresh);
	if (c->ipfix_mtu != CONF_MTU_DEFAULT)
		out_line(out, &rc, "set log nat ipfix mtu %u\n", c->ipfix_mtu);
	if (c->ipfix_on)
		out_line(out, &rc, "set log nat ipfix enable\n");
	if (c->limits.nat_maps != dl.nat_maps)
		out_line(out, &rc, "set nat mapping max %u\n", c->limits.nat_maps);
	if (c->nat.eim)
		out_line(out, &rc, "set nat mapping endpoint-independent\n");
	if (c->nat.eif)
		out_line(out, &rc, "set nat filtering endpoint-independent\n");
	if (c->nat.hairpin)
		out_line(out, &rc, "set nat hairpin\n");
	if (c->nat.port_keep != CONF_PORT_ANY)
		out_line(out, &rc, "set nat port-preserve%s\n",
			 c->nat.port_keep == CONF_PORT_PARITY ? " parity" : "");
	if (c->nsrp_local != 0)
		out_line(out, &rc, "set nsrp local %s\n", conf_ip_str(c->nsrp_local, a));
	if (c->nsrp_peer != 0)
		out_line(out, &rc, "set nsrp peer %s\n", conf_ip_str(c->nsrp_peer, a));
	if (c->nsrp_port != CONF_DEF_NSRP_PORT)
		out_line(out, &rc, "set nsrp sync-port %u\n", c->nsrp_port);
	if (c->nsrp_queue != CONF_DEF_NSRP_QUEUE)
		out_line(out, &rc, "set nsrp queue %u\n", c->nsrp_queue);
	if (c->nsrp_refresh != CONF_DEF_NSRP_REFRESH)
		out_line(out, &rc, "set nsrp refresh %u\n", c->nsrp_refresh);
	if (c->nsrp_cluster != 0)
		out_line(out, &rc, "set nsrp cluster id %u\n", c->nsrp_cluster);
	if (fflush(out) != 0 || ferror(out))
		rc = -1;
	return rc;
}

const struct conf_iface *
conf_iface_find(const struct conf *c, const char *name)
{
	int i = conf_iface_index(c, name);

	return i < 0 ? NULL : &c->ifaces[i];
}

int
conf_iface_index(const struct conf *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->n_ifaces && i < CONF_MAX_IFACES; i++)
		if (strcmp(c->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

uint32_t
conf_zone_limit_src(const struct conf *c, const char *zone)
{
	int ix = screen_index(c, zone);

	return ix >= 0 ? c->screens[ix].limit_src : DEF_LIMIT_SRC;
}

const struct conf_dip *
conf_dip_find(const struct conf *c, uint32_t id)
{
	int i = dip_index(c, id);

	return i < 0 ? NULL : &c->dips[i];
}

char *
conf_ip_str(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

int
conf_parse_ip(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	unsigned part;

	for (part = 0; part < 4; part++) {
		unsigned x = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			x = x * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || x > 255)
			return -1;
		v = v << 8 | x;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	if (*s != '\0')
		return -1;
	*ip = v;
	return 0;
}
