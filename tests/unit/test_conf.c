/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration language (lib/conf/conf.h): every statement, every error, the KB12423 lab file and get config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_grammar.h"

#ifndef DPNAT_SRCDIR
#error "DPNAT_SRCDIR must name the source root"
#endif

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* The KB12423 configuration as printed in the article (note the no-break space). */
static const char kb_text[] =
	"set interface \"ethernet4/1\" zone \"Untrust\"\n"
	"set interface \"ethernet4/2\" zone \"Trust\"\n"
	"set interface \"ethernet2/1\" zone \"Trust\"\n"
	"set interface \"ethernet2/2\" zone \"Untrust\"\n"
	"unset interface vlan1 ip\n"
	"\n"
	"set interface ethernet4/1 ip 172.19.51.234/23\n"
	"set interface ethernet4/1 route\n"
	"set interface ethernet4/2 ip 60.60.60.1/24\n"
	"set interface ethernet4/2 nat\n"
	"\n"
	"exit\n"
	"set policy id 1 from \"Trust\" to \"Untrust\"\xc2\xa0 \"Any\" \"Any\" \"ANY\" permit\n"
	"set policy id 1\n";

/* One line of every statement (and both spellings where there are two). */
static const char every_text[] =
	"# every statement\n"
	"   # an indented comment\n"
	"\t\n"
	"set interface \"eth0\" zone \"Trust\"\n"
	"set interface eth1 zone untrust\n"
	"set interface dmz0 zone \"Lab\"\n"
	"set interface vlan1 zone VLAN\n"
	"set interface vlan1 ip 10.9.9.1/30\n"
	"set interface eth0 ip 10.0.0.1/24\n"
	"set interface eth1 ip 203.0.113.2/24\n"
	"set interface eth0 nat\n"
	"set interface eth1 route\n"
	"set interface dmz0 route\n"
	"set interface dmz0 nat\n"
	"set interface eth0 port net_tap0\n"
	"set interface eth1 port 0000:03:00.1\n"
	"set interface eth1 mtu 1280\n"
	"set interface dmz0 mtu 9000\n"
	"unset interface dmz0 mtu\n"
	"set interface dmz0 port x\n"
	"unset interface dmz0 port\n"
	"set interface eth1 dip 4 203.0.113.10 203.0.113.20\n"
	"set interface eth1 dip 5 203.0.113.30 203.0.113.30\n"
	"set interface eth1 dip 6 203.0.113.40 203.0.113.41\n"
	"unset interface eth1 dip 6\n"
	"set policy id 7 from Trust to Untrust Any any pptp permit nat src dip-id 4\n"
	"set policy id 3 from \"Trust\" to \"Lab\" \"Any\" \"Any\" \"ICMP-ANY\" deny\n"
	"set policy id 9 from Lab to Untrust ANY ANY Http permit nat src\n"
	"set policy id 10 from Lab to Untrust ANY ANY udp-any nat src dip-id 5 permit\n"
	"set policy id 11 from Lab to Untrust ANY ANY SSH permit\n"
	"unset policy id 11\n"
	"set route 0.0.0.0/0 interface eth1 gateway 203.0.113.1\n"
	"set route 192.168.50.0/24 interface eth0\n"
	"set route 10.10.0.0/16 interface eth0 gateway 10.0.0.254\n"
	"set route 10.20.0.0/16 interface eth0\n"
	"unset route 10.20.0.0/16\n"
	"set arp 10.0.0.7 02:00:00:aa:BB:cc eth0\n"
	"set arp 203.0.113.1 0a1b2c3d4e5f eth1\n"
	"set arp 203.0.113.9 02:00:00:00:00:09 eth1\n"
	"unset arp 203.0.113.9\n"
	"set session max 65536\n"
	"set alg pptp xlate max 4000\n"
	"set arp max 2048\n"
	"set arp queue 8\n"
	"set mbuf max 32768\n"
	"set session timeout tcp 3600\n"
	"set session timeout tcp-syn 15\n"
	"set session timeout tcp-closing 5\n"
	"set session timeout udp 90\n"
	"set session timeout icmp 30\n"
	"set session timeout gre 900\n"
	"set session timeout other 120\n"
	"set alg pptp xlate timeout 600\n"
	"set alg pptp control per-source 8\n"
	"set arp timeout 300\n"
	"unset alg pptp enable\n"
	"set cli socket \"/tmp/dpnat test.sock\"\n"
	"set cli socket-mode 0600\n"
	"set cli socket-group dpnat\n"
	"set worker idle-sleep 50\n"
	"set alg pptp xlate per-client 16\n"
	"set flow frag max 512\n"
	"set flow frag timeout 9\n"
	"set zone trust screen limit-session source-ip-based 300\n"
	"set zone Lab screen limit-session source-ip-based 40\n"
	"set zone Untrust screen limit-session source-ip-based 7\n"
	"unset zone untrust screen limit-session source-ip-based\n"
	"set metrics listen 127.0.0.1:9469\n"
	"set nsrp local 10.255.0.1\n"
	"set nsrp peer 10.255.0.2\n"
	"set nsrp sync-port 7200\n"
	"set nsrp queue 1024\n"
	"set nsrp refresh 5\n"
	"set nsrp cluster id 3\n"
	"exit\n";

/* ---- helpers ---- */

static struct conf *
new_conf(void)
{
	struct conf *c = malloc(sizeof(*c));

	assert_non_null(c);
	conf_init(c);
	return c;
}

/* conf_dump into a malloc'd string. */
static char *
dump_str(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(conf_dump(c, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* Apply one line as line number lineno of "t.conf". */
static int
apply(struct conf *c, struct conf_ctx *ctx, unsigned lineno, const char *line, char *err)
{
	ctx->line = lineno;
	return conf_apply_line(c, ctx, line, err, CONF_ERR_LEN);
}

/* The line must fail on c, name "t.conf:LINE:" and every given word, and leave c unchanged. */
static void
expect_error(struct conf *c, const char *line, const char *w1, const char *w2)
{
	struct conf *before = malloc(sizeof(*before));
	struct conf_ctx ctx;
	char err[CONF_ERR_LEN];

	assert_non_null(before);
	memcpy(before, c, sizeof(*c));
	conf_ctx_init(&ctx, "t.conf");
	if (apply(c, &ctx, 42, line, err) != -1)
		fail_msg("accepted: %s", line);
	if (strncmp(err, "t.conf:42: ", 11) != 0)
		fail_msg("\"%s\" -> \"%s\": no file:line", line, err);
	if (strstr(err, ": expected ") == NULL)
		fail_msg("\"%s\" -> \"%s\": no \"expected\"", line, err);
	if (w1 != NULL && strstr(err, w1) == NULL)
		fail_msg("\"%s\" -> \"%s\": missing %s", line, err, w1);
	if (w2 != NULL && strstr(err, w2) == NULL)
		fail_msg("\"%s\" -> \"%s\": missing %s", line, err, w2);
	if (memcmp(before, c, sizeof(*c)) != 0)
		fail_msg("\"%s\" changed the configuration", line);
	free(before);
}

static void
expect_ok(struct conf *c, const char *line)
{
	struct conf_ctx ctx;
	char err[CONF_ERR_LEN] = "";

	conf_ctx_init(&ctx, "t.conf");
	if (apply(c, &ctx, 1, line, err) != 0)
		fail_msg("rejected \"%s\": %s", line, err);
}

/* Every field of a and b, one by one; then the bytes (strings are zero-filled). */
static void
assert_conf_equal(const struct conf *a, const struct conf *b)
{
	unsigned i;

	assert_int_equal(a->n_ifaces, b->n_ifaces);
	for (i = 0; i < a->n_ifaces; i++) {
		const struct conf_iface *x = &a->ifaces[i], *y = &b->ifaces[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->zone, y->zone);
		assert_string_equal(x->port, y->port);
		assert_int_equal(x->ip, y->ip);
		assert_int_equal(x->plen, y->plen);
		assert_int_equal(x->has_ip, y->has_ip);
		assert_int_equal(x->nat, y->nat);
		assert_int_equal(x->route_mode, y->route_mode);
		assert_int_equal(x->builtin, y->builtin);
		assert_int_equal(x->mtu, y->mtu);
		assert_int_equal(x->tag, y->tag);
	}
	assert_int_equal(a->n_dips, b->n_dips);
	for (i = 0; i < a->n_dips; i++) {
		assert_int_equal(a->dips[i].id, b->dips[i].id);
		assert_string_equal(a->dips[i].iface, b->dips[i].iface);
		assert_int_equal(a->dips[i].low, b->dips[i].low);
		assert_int_equal(a->dips[i].high, b->dips[i].high);
	}
	assert_int_equal(a->n_policies, b->n_policies);
	for (i = 0; i < a->n_policies; i++) {
		const struct conf_policy *x = &a->policies[i], *y = &b->policies[i];

		assert_int_equal(x->id, y->id);
		assert_string_equal(x->from_zone, y->from_zone);
		assert_string_equal(x->to_zone, y->to_zone);
		assert_string_equal(x->src_addr, y->src_addr);
		assert_string_equal(x->dst_addr, y->dst_addr);
		assert_string_equal(x->service, y->service);
		assert_int_equal(x->permit, y->permit);
		assert_int_equal(x->nat_src, y->nat_src);
		assert_int_equal(x->dip_id, y->dip_id);
	}
	assert_int_equal(a->n_routes, b->n_routes);
	for (i = 0; i < a->n_routes; i++) {
		assert_int_equal(a->routes[i].prefix, b->routes[i].prefix);
		assert_int_equal(a->routes[i].plen, b->routes[i].plen);
		assert_string_equal(a->routes[i].iface, b->routes[i].iface);
		assert_int_equal(a->routes[i].gateway, b->routes[i].gateway);
	}
	assert_int_equal(a->n_arps, b->n_arps);
	for (i = 0; i < a->n_arps; i++) {
		assert_int_equal(a->arps[i].ip, b->arps[i].ip);
		assert_memory_equal(a->arps[i].mac, b->arps[i].mac, 6);
		assert_string_equal(a->arps[i].iface, b->arps[i].iface);
	}
	assert_int_equal(a->limits.sessions, b->limits.sessions);
	assert_int_equal(a->limits.pptp_xlate, b->limits.pptp_xlate);
	assert_int_equal(a->limits.pptp_per_src, b->limits.pptp_per_src);
	assert_int_equal(a->limits.neighbors, b->limits.neighbors);
	assert_int_equal(a->limits.neigh_queue, b->limits.neigh_queue);
	assert_int_equal(a->limits.mbufs, b->limits.mbufs);
	assert_int_equal(a->timeouts.tcp, b->timeouts.tcp);
	assert_int_equal(a->timeouts.tcp_closing, b->timeouts.tcp_closing);
	assert_int_equal(a->timeouts.tcp_syn, b->timeouts.tcp_syn);
	assert_int_equal(a->timeouts.udp, b->timeouts.udp);
	assert_int_equal(a->timeouts.icmp, b->timeouts.icmp);
	assert_int_equal(a->timeouts.gre, b->timeouts.gre);
	assert_int_equal(a->timeouts.other, b->timeouts.other);
	assert_int_equal(a->timeouts.pptp_xlate, b->timeouts.pptp_xlate);
	assert_int_equal(a->timeouts.arp, b->timeouts.arp);
	assert_int_equal(a->alg_pptp, b->alg_pptp);
	assert_string_equal(a->socket_path, b->socket_path);
	assert_int_equal(a->socket_mode, b->socket_mode);
	assert_int_equal(a->worker_idle_us, b->worker_idle_us);
	assert_int_equal(a->limits.frags, b->limits.frags);
	assert_int_equal(a->limits.pptp_per_client, b->limits.pptp_per_client);
	assert_int_equal(a->timeouts.frag, b->timeouts.frag);
	assert_int_equal(a->n_screens, b->n_screens);
	for (i = 0; i < a->n_screens; i++) {
		assert_string_equal(a->screens[i].zone, b->screens[i].zone);
		assert_int_equal(a->screens[i].limit_src, b->screens[i].limit_src);
	}
	assert_memory_equal(a, b, sizeof(*a));
}

/* dump c, load the dump on top of conf_init, compare; dumping the copy gives the same text. */
static void
roundtrip(const struct conf *c)
{
	struct conf *d = new_conf();
	char err[CONF_ERR_LEN] = "";
	char *text = dump_str(c), *text2;

	if (conf_load_string(d, "dump", text, err, sizeof(err)) != 0)
		fail_msg("dump does not load: %s\n%s", err, text);
	assert_conf_equal(c, d);
	text2 = dump_str(d);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
	free(d);
}

/* The KB12423 lab state (without port bindings). */
static void
check_kb(const struct conf *c)
{
	const struct conf_iface *f;
	const struct conf_policy *p;

	assert_int_equal(c->n_ifaces, 5);
	assert_string_equal(c->ifaces[0].name, "vlan1");
	assert_true(c->ifaces[0].builtin);
	assert_false(c->ifaces[0].has_ip);
	assert_string_equal(c->ifaces[1].name, "ethernet4/1");
	assert_string_equal(c->ifaces[2].name, "ethernet4/2");
	assert_string_equal(c->ifaces[3].name, "ethernet2/1");
	assert_string_equal(c->ifaces[4].name, "ethernet2/2");

	f = conf_iface_find(c, "ethernet4/1");
	assert_non_null(f);
	assert_string_equal(f->zone, "Untrust");
	assert_true(f->has_ip);
	assert_int_equal(f->ip, IP(172, 19, 51, 234));
	assert_int_equal(f->plen, 23);
	assert_true(f->route_mode);
	assert_false(f->nat);
	assert_false(f->builtin);

	f = conf_iface_find(c, "ethernet4/2");
	assert_non_null(f);
	assert_string_equal(f->zone, "Trust");
	assert_true(f->has_ip);
	assert_int_equal(f->ip, IP(60, 60, 60, 1));
	assert_int_equal(f->plen, 24);
	assert_true(f->nat);
	assert_false(f->route_mode);

	f = conf_iface_find(c, "ethernet2/1");
	assert_non_null(f);
	assert_string_equal(f->zone, "Trust");
	assert_false(f->has_ip);
	assert_false(f->nat);
	assert_false(f->route_mode);
	assert_string_equal(f->port, "");

	f = conf_iface_find(c, "ethernet2/2");
	assert_non_null(f);
	assert_string_equal(f->zone, "Untrust");
	assert_false(f->has_ip);
	assert_string_equal(f->port, "");

	assert_int_equal(c->n_policies, 1);
	p = &c->policies[0];
	assert_int_equal(p->id, 1);
	assert_string_equal(p->from_zone, "Trust");
	assert_string_equal(p->to_zone, "Untrust");
	assert_string_equal(p->src_addr, "Any");
	assert_string_equal(p->dst_addr, "Any");
	assert_string_equal(p->service, "ANY");
	assert_true(p->permit);
	assert_false(p->nat_src);
	assert_int_equal(p->dip_id, 0);
	assert_int_equal(c->n_routes, 0);
	assert_int_equal(c->n_arps, 0);
	assert_int_equal(c->n_dips, 0);
}

/* ---- tests ---- */

static void
test_defaults(void **state)
{
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN];
	char *text;

	(void)state;
	assert_int_equal(c->n_ifaces, 1);
	assert_string_equal(c->ifaces[0].name, "vlan1");
	assert_string_equal(c->ifaces[0].zone, "");
	assert_string_equal(c->ifaces[0].port, "");
	assert_true(c->ifaces[0].builtin);
	assert_true(c->ifaces[0].has_ip);
	assert_int_equal(c->ifaces[0].ip, IP(192, 168, 1, 1));
	assert_int_equal(c->ifaces[0].plen, 24);
	assert_false(c->ifaces[0].nat);
	assert_false(c->ifaces[0].route_mode);
	assert_int_equal(c->n_dips + c->n_policies + c->n_routes + c->n_arps, 0);
	assert_int_equal(c->limits.sessions, 1048576);
	assert_int_equal(c->limits.pptp_xlate, 2000);
	assert_int_equal(c->limits.pptp_per_src, 64);
	assert_int_equal(c->limits.neighbors, 1024);
	assert_int_equal(c->limits.neigh_queue, 4);
	assert_int_equal(c->limits.mbufs, 16384);
	assert_int_equal(c->timeouts.tcp, 1800);
	assert_int_equal(c->timeouts.tcp_closing, 10);
	assert_int_equal(c->timeouts.tcp_syn, 20);
	assert_int_equal(c->timeouts.udp, 60);
	assert_int_equal(c->timeouts.icmp, 60);
	assert_int_equal(c->timeouts.gre, 1800);
	assert_int_equal(c->timeouts.other, 60);
	assert_int_equal(c->timeouts.pptp_xlate, 1800);
	assert_int_equal(c->timeouts.arp, 1200);
	assert_true(c->alg_pptp);
	assert_string_equal(c->socket_path, "/run/dpnat/dpnat.sock");
	assert_int_equal(c->socket_mode, 0660);
	assert_int_equal(c->worker_idle_us, 0);
	assert_int_equal(c->limits.frags, 4096);
	assert_int_equal(c->timeouts.frag, 5);
	assert_int_equal(c->limits.pptp_per_client, 128);
	assert_int_equal(c->n_screens, 0);
	assert_int_equal(conf_zone_limit_src(c, "Trust"), 65536);
	assert_int_equal(conf_validate(c, err, sizeof(err)), 0);
	/* Nothing differs from the defaults, so get config prints nothing. */
	text = dump_str(c);
	assert_string_equal(text, "");
	free(text);
	free(c);
}

static void
test_kb_file(void **state)
{
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN] = "";

	(void)state;
	if (conf_load_file(c, DPNAT_SRCDIR "/config/kb-lab.conf", err, sizeof(err)) != 0)
		fail_msg("kb-lab.conf: %s", err);
	check_kb(c);
	assert_string_equal(conf_iface_find(c, "ethernet4/2")->port, "net_af_packet0");
	assert_string_equal(conf_iface_find(c, "ethernet4/1")->port, "net_af_packet1");
	assert_string_equal(conf_iface_find(c, "ethernet2/1")->port, "");
	assert_string_equal(conf_iface_find(c, "ethernet2/2")->port, "");
	assert_int_equal(conf_validate(c, err, sizeof(err)), 0);
	roundtrip(c);
	free(c);
}

/* The shipped sample loads, validates and survives get config. */
static void
test_sample_file(void **state)
{
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN] = "";
	const struct conf_iface *t, *u;

	(void)state;
	if (conf_load_file(c, DPNAT_SRCDIR "/config/dpnat.conf", err, sizeof(err)) != 0)
		fail_msg("dpnat.conf: %s", err);
	if (conf_validate(c, err, sizeof(err)) != 0)
		fail_msg("dpnat.conf: %s", err);
	t = conf_iface_find(c, "trust0");
	u = conf_iface_find(c, "untrust0");
	assert_non_null(t);
	assert_non_null(u);
	assert_string_equal(t->port, "net_tap0");
	assert_string_equal(u->port, "net_tap1");
	assert_true(t->nat);
	assert_true(u->route_mode);
	assert_false(c->ifaces[0].has_ip);
	assert_true(c->n_policies >= 1);
	assert_true(c->n_routes >= 1);
	roundtrip(c);
	free(c);
}

static void
test_kb_file_matches_article(void **state)
{
	struct conf *a = new_conf(), *b = new_conf();
	char err[CONF_ERR_LEN] = "";

	(void)state;
	/* The file minus its two binding lines is the article's configuration. */
	assert_int_equal(conf_load_file(a, DPNAT_SRCDIR "/config/kb-lab.conf", err, sizeof(err)), 0);
	assert_int_equal(conf_load_string(b, "kb", kb_text, err, sizeof(err)), 0);
	expect_ok(b, "set interface ethernet4/2 port net_af_packet0");
	expect_ok(b, "set interface ethernet4/1 port net_af_packet1");
	assert_conf_equal(a, b);
	free(a);
	free(b);
}

static void
test_kb_inline(void **state)
{
	struct conf *c = new_conf();
	struct conf_ctx ctx;
	char err[CONF_ERR_LEN] = "";
	char *copy, *line, *save = NULL;
	unsigned n = 0;

	(void)state;
	if (conf_load_string(c, "kb", kb_text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	check_kb(c);
	assert_int_equal(conf_validate(c, err, sizeof(err)), 0);
	roundtrip(c);

	/* Line by line: the final `set policy id 1` leaves policy 1's context open. */
	conf_init(c);
	conf_ctx_init(&ctx, "kb");
	copy = strdup(kb_text);
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		ctx.line = ++n;
		if (conf_apply_line(c, &ctx, line, err, sizeof(err)) != 0)
			fail_msg("%s", err);
	}
	assert_int_equal(ctx.policy_ctx, 0);
	check_kb(c);
	free(copy);

	/* CRLF line ends load the same. */
	{
		struct conf *d = new_conf();
		char crlf[sizeof(kb_text) * 2], *o = crlf;
		const char *s;

		for (s = kb_text; *s; s++) {
			if (*s == '\n')
				*o++ = '\r';
			*o++ = *s;
		}
		*o = '\0';
		assert_int_equal(conf_load_string(d, "crlf", crlf, err, sizeof(err)), 0);
		assert_conf_equal(c, d);
		free(d);
	}
	free(c);
}

static void
test_every_statement(void **state)
{
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN] = "";
	const struct conf_iface *f;
	const struct conf_dip *d;
	const uint8_t mac0[6] = { 0x02, 0, 0, 0xaa, 0xbb, 0xcc };
	const uint8_t mac1[6] = { 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f };

	(void)state;
	if (conf_load_string(c, "every", every_text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	if (conf_validate(c, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	assert_int_equal(c->n_ifaces, 4);
	f = &c->ifaces[0];
	assert_string_equal(f->name, "vlan1");
	assert_true(f->builtin);
	assert_string_equal(f->zone, "VLAN");
	assert_int_equal(f->ip, IP(10, 9, 9, 1));
	assert_int_equal(f->plen, 30);
	f = &c->ifaces[1];
	assert_string_equal(f->name, "eth0");
	assert_string_equal(f->zone, "Trust");
	assert_int_equal(f->ip, IP(10, 0, 0, 1));
	assert_int_equal(f->plen, 24);
	assert_true(f->has_ip);
	assert_true(f->nat);
	assert_false(f->route_mode);
	assert_string_equal(f->port, "net_tap0");
	assert_false(f->builtin);
	assert_int_equal(f->mtu, CONF_MTU_DEFAULT);
	f = &c->ifaces[2];
	assert_string_equal(f->name, "eth1");
	assert_string_equal(f->zone, "Untrust");   /* predefined zones take ScreenOS' spelling */
	assert_int_equal(f->ip, IP(203, 0, 113, 2));
	assert_true(f->route_mode);
	assert_false(f->nat);
	assert_string_equal(f->port, "0000:03:00.1");
	assert_int_equal(f->mtu, 1280);
	f = &c->ifaces[3];
	assert_string_equal(f->name, "dmz0");
	assert_string_equal(f->zone, "Lab");
	assert_false(f->has_ip);
	assert_true(f->nat);                       /* route then nat: the last one wins */
	assert_false(f->route_mode);
	assert_string_equal(f->port, "");
	assert_int_equal(f->mtu, CONF_MTU_DEFAULT);  /* unset: back to ScreenOS's 1500 */
	assert_int_equal(c->ifaces[0].mtu, CONF_MTU_DEFAULT);

	assert_int_equal(c->n_dips, 2);
	d = conf_dip_find(c, 4);
	assert_non_null(d);
	assert_ptr_equal(d, &c->dips[0]);
	assert_string_equal(d->iface, "eth1");
	assert_int_equal(d->low, IP(203, 0, 113, 10));
	assert_int_equal(d->high, IP(203, 0, 113, 20));
	d = conf_dip_find(c, 5);
	assert_non_null(d);
	assert_int_equal(d->low, d->high);
	assert_null(conf_dip_find(c, 6));

	assert_int_equal(c->n_policies, 4);
	assert_int_equal(c->policies[0].id, 7);
	assert_string_equal(c->policies[0].from_zone, "Trust");
	assert_string_equal(c->policies[0].to_zone, "Untrust");
	assert_string_equal(c->policies[0].src_addr, "Any");
	assert_string_equal(c->policies[0].dst_addr, "Any");
	assert_string_equal(c->policies[0].service, "PPTP");
	assert_true(c->policies[0].permit);
	assert_true(c->policies[0].nat_src);
	assert_int_equal(c->policies[0].dip_id, 4);
	assert_int_equal(c->policies[1].id, 3);
	assert_string_equal(c->policies[1].to_zone, "Lab");
	assert_string_equal(c->policies[1].service, "ICMP-ANY");
	assert_false(c->policies[1].permit);
	assert_false(c->policies[1].nat_src);
	assert_int_equal(c->policies[2].id, 9);
	assert_string_equal(c->policies[2].service, "HTTP");
	assert_true(c->policies[2].nat_src);
	assert_int_equal(c->policies[2].dip_id, 0);
	assert_int_equal(c->policies[3].id, 10);
	assert_string_equal(c->policies[3].service, "UDP-ANY");
	assert_true(c->policies[3].permit);
	assert_int_equal(c->policies[3].dip_id, 5);

	assert_int_equal(c->n_routes, 3);
	assert_int_equal(c->routes[0].prefix, 0);
	assert_int_equal(c->routes[0].plen, 0);
	assert_string_equal(c->routes[0].iface, "eth1");
	assert_int_equal(c->routes[0].gateway, IP(203, 0, 113, 1));
	assert_int_equal(c->routes[1].prefix, IP(192, 168, 50, 0));
	assert_int_equal(c->routes[1].plen, 24);
	assert_int_equal(c->routes[1].gateway, 0);
	assert_int_equal(c->routes[2].prefix, IP(10, 10, 0, 0));
	assert_int_equal(c->routes[2].gateway, IP(10, 0, 0, 254));

	assert_int_equal(c->n_arps, 2);
	assert_int_equal(c->arps[0].ip, IP(10, 0, 0, 7));
	assert_memory_equal(c->arps[0].mac, mac0, 6);
	assert_string_equal(c->arps[0].iface, "eth0");
	assert_int_equal(c->arps[1].ip, IP(203, 0, 113, 1));
	assert_memory_equal(c->arps[1].mac, mac1, 6);

	assert_int_equal(c->limits.sessions, 65536);
	assert_int_equal(c->limits.pptp_xlate, 4000);
	assert_int_equal(c->limits.pptp_per_src, 8);
	assert_int_equal(c->limits.neighbors, 2048);
	assert_int_equal(c->limits.neigh_queue, 8);
	assert_int_equal(c->limits.mbufs, 32768);
	assert_int_equal(c->timeouts.tcp, 3600);
	assert_int_equal(c->timeouts.tcp_syn, 15);
	assert_int_equal(c->timeouts.tcp_closing, 5);
	assert_int_equal(c->timeouts.udp, 90);
	assert_int_equal(c->timeouts.icmp, 30);
	assert_int_equal(c->timeouts.gre, 900);
	assert_int_equal(c->timeouts.other, 120);
	assert_int_equal(c->timeouts.pptp_xlate, 600);
	assert_int_equal(c->timeouts.arp, 300);
	assert_false(c->alg_pptp);
	assert_string_equal(c->socket_path, "/tmp/dpnat test.sock");
	assert_int_equal(c->socket_mode, 0600);
	assert_int_equal(c->worker_idle_us, 50);
	assert_int_equal(c->limits.pptp_per_client, 16);
	assert_int_equal(c->limits.frags, 512);
	assert_int_equal(c->timeouts.frag, 9);
	/* Zone names as ScreenOS spells them; unset goes back to the default. */
	assert_int_equal(c->n_screens, 2);
	assert_string_equal(c->screens[0].zone, "Trust");
	assert_int_equal(conf_zone_limit_src(c, "Trust"), 300);
	assert_int_equal(conf_zone_limit_src(c, "Lab"), 40);
	assert_int_equal(conf_zone_limit_src(c, "Untrust"), 65536);

	expect_ok(c, "set alg pptp enable");
	assert_true(c->alg_pptp);
	expect_ok(c, "unset alg pptp enable");
	free(c);
}

static void
test_dump_roundtrip(void **state)
{
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN] = "";
	char *text;
	char buf[8];
	FILE *f;

	(void)state;
	assert_int_equal(conf_load_string(c, "every", every_text, err, sizeof(err)), 0);
	roundtrip(c);

	/* The dump is ScreenOS-shaped: zones first, quoted. */
	text = dump_str(c);
	assert_int_equal(strncmp(text, "set interface \"vlan1\" zone \"VLAN\"\n"
				 "set interface \"eth0\" zone \"Trust\"\n", 68), 0);
	assert_non_null(strstr(text, "set policy id 7 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"PPTP\" permit nat src dip-id 4\n"));
	assert_non_null(strstr(text, "set arp 203.0.113.1 0a:1b:2c:3d:4e:5f eth1\n"));
	assert_non_null(strstr(text, "set cli socket-mode 0600\n"));
	assert_non_null(strstr(text, "set cli socket-group dpnat\n"));
	assert_non_null(strstr(text, "set metrics listen 127.0.0.1:9469\n"));
	assert_non_null(strstr(text, "unset alg pptp enable\n"));
	assert_non_null(strstr(text, "set zone \"Trust\" screen limit-session source-ip-based 300\n"));
	assert_non_null(strstr(text, "set alg pptp xlate per-client 16\n"));
	assert_non_null(strstr(text, "set flow frag max 512\nset flow frag timeout 9\n"));
	assert_non_null(strstr(text, "set interface eth1 mtu 1280\n"));
	assert_null(strstr(text, "mtu 1500"));        /* the default is not written */
	assert_non_null(strstr(text, "set nsrp local 10.255.0.1\nset nsrp peer 10.255.0.2\n"
				     "set nsrp sync-port 7200\nset nsrp queue 1024\nset nsrp refresh 5\n"
				     "set nsrp cluster id 3\n"));
	free(text);

	/* Interfaces without a zone keep their order; vlan1 comes back with its default address. */
	conf_init(c);
	expect_ok(c, "set interface a0 dip 1 1.1.1.1 1.1.1.2");
	expect_ok(c, "set interface b0 zone Trust");
	expect_ok(c, "unset interface c0 port");
	expect_ok(c, "set interface d0 ip 10.1.1.1/8");
	expect_ok(c, "set interface d0 route");
	expect_ok(c, "set interface c0 nat");
	roundtrip(c);
	expect_ok(c, "set interface vlan1 ip 192.168.1.1/24");
	roundtrip(c);
	expect_ok(c, "set interface vlan1 ip 192.168.1.2/24");
	roundtrip(c);
	expect_ok(c, "unset interface vlan1 ip");
	roundtrip(c);
	expect_ok(c, "set interface vlan1 nat");
	expect_ok(c, "set interface vlan1 port net_null0");
	roundtrip(c);
	/* Subinterfaces come back with their tag, with or without a zone. */
	expect_ok(c, "set interface d0.5 tag 5 zone Untrust");
	expect_ok(c, "set interface d0.5 ip 10.5.0.1/24");
	expect_ok(c, "set interface d0.6 tag 6");
	roundtrip(c);
	text = dump_str(c);
	assert_non_null(strstr(text, "set interface \"d0.5\" tag 5 zone \"Untrust\"\n"));
	assert_non_null(strstr(text, "set interface \"d0.6\" tag 6\n"));
	free(text);
	/* IPFIX collectors (issue 18): added, changed by address, removed, at most CONF_MAX_IPFIX. */
	expect_ok(c, "set log nat ipfix collector 192.0.2.10");
	expect_ok(c, "set log nat ipfix collector 192.0.2.11 port 2055");
	expect_ok(c, "set log nat ipfix template-refresh 30");
	expect_ok(c, "set log nat ipfix mtu 9000");
	expect_ok(c, "set log nat ipfix enable");
	roundtrip(c);
	text = dump_str(c);
	assert_non_null(strstr(text, "set log nat ipfix collector 192.0.2.10 port 4739\n"
				 "set log nat ipfix collector 192.0.2.11 port 2055\n"
				 "set log nat ipfix template-refresh 30\nset log nat ipfix mtu 9000\n"
				 "set log nat ipfix enable\n"));
	free(text);
	expect_ok(c, "set log nat ipfix collector 192.0.2.10 port 9995");
	expect_ok(c, "unset log nat ipfix collector 192.0.2.11");
	assert_int_equal(c->n_ipfix, 1);
	assert_int_equal(c->ipfix[0].port, 9995);
	expect_ok(c, "set log nat ipfix collector 192.0.2.12");
	expect_ok(c, "set log nat ipfix collector 192.0.2.13");
	expect_ok(c, "set log nat ipfix collector 192.0.2.14");
	expect_error(c, "set log nat ipfix collector 192.0.2.15", "too many IPFIX collectors", "at most 4");
	expect_error(c, "unset log nat ipfix collector 192.0.2.99", "no IPFIX collector", NULL);
	expect_error(c, "unset log nat ipfix mtu", "unknown keyword", "enable or collector");
	expect_ok(c, "unset log nat ipfix enable");
	assert_false(c->ipfix_on);
	roundtrip(c);

	/* Write errors are reported. */
	f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	assert_int_equal(conf_dump(c, f), -1);
	fclose(f);
	free(c);
}

/*
 * Issue 18: the RFC 4787/5382 statements and the timeout profile. A
 * profile sets the five protocol timeouts, a line after it changes one,
 * and the dump writes the profile before what differs from it; filtering
 * and hairpinning without mappings are refused by validation.
 */
static void
test_nat_behaviour(void **state)
{
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN] = "";
	char *text;

	(void)state;
	assert_false(c->nat.eim || c->nat.eif || c->nat.hairpin);
	assert_int_equal(c->nat.port_keep, CONF_PORT_ANY);
	assert_int_equal(c->limits.nat_maps, CONF_DEF_NAT_MAPS);
	expect_ok(c, "set session timeout profile rfc");
	assert_int_equal(c->timeouts.tcp, 7440);
	assert_int_equal(c->timeouts.tcp_syn, 240);
	assert_int_equal(c->timeouts.tcp_closing, 240);
	assert_int_equal(c->timeouts.udp, 300);
	assert_int_equal(c->timeouts.icmp, 60);
	assert_int_equal(c->timeouts.gre, CONF_DEF_TMO_GRE);
	expect_ok(c, "set session timeout udp 200");
	expect_ok(c, "set nat mapping endpoint-independent");
	expect_ok(c, "set nat filtering endpoint-independent");
	expect_ok(c, "set nat hairpin");
	expect_ok(c, "set nat port-preserve parity");
	expect_ok(c, "set nat mapping max 1000");
	assert_true(c->nat.eim && c->nat.eif && c->nat.hairpin);
	assert_int_equal(c->nat.port_keep, CONF_PORT_PARITY);
	assert_int_equal(c->limits.nat_maps, 1000);
	roundtrip(c);
	text = dump_str(c);
	assert_non_null(strstr(text, "set session timeout profile rfc\nset session timeout udp 200\n"));
	assert_null(strstr(text, "timeout tcp 7440"));
	assert_non_null(strstr(text, "set nat mapping max 1000\nset nat mapping endpoint-independent\n"
				     "set nat filtering endpoint-independent\nset nat hairpin\n"
				     "set nat port-preserve parity\n"));
	free(text);
	expect_error(c, "set nat filtering full-cone", "full-cone", "address-and-port-dependent");
	expect_error(c, "set nat mapping max 0", NULL, NULL);
	expect_error(c, "set session timeout profile linux", "linux", "rfc");
	/* Filtering and hairpinning act on mappings. */
	expect_ok(c, "unset nat mapping endpoint-independent");
	assert_int_equal(conf_validate(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "set nat mapping endpoint-independent"));
	expect_ok(c, "set nat filtering address-and-port-dependent");
	expect_ok(c, "unset nat hairpin");
	expect_ok(c, "unset nat port-preserve");
	assert_int_equal(conf_validate(c, err, sizeof(err)), 0);
	expect_ok(c, "set session timeout profile screenos");
	assert_int_equal(c->timeouts.tcp, CONF_DEF_TMO_TCP);
	assert_int_equal(c->timeouts.udp, CONF_DEF_TMO_UDP);
	text = dump_str(c);
	assert_null(strstr(text, "profile"));
	assert_null(strstr(text, "set nat filtering"));
	free(text);
	free(c);
}

static void
test_quoted_names(void **state)
{
	struct conf *c = new_conf();
	const struct conf_iface *f;

	(void)state;
	expect_ok(c, "set interface \"eth/0\" zone \"My-Zone\"");
	f = conf_iface_find(c, "eth/0");
	assert_non_null(f);
	assert_string_equal(f->zone, "My-Zone");
	expect_ok(c, "\tset\t\"interface\"  eth/0   \"ip\" \"10.1.2.3/24\"  ");
	assert_int_equal(f->ip, IP(10, 1, 2, 3));
	expect_ok(c, "set policy id 2 from \"My-Zone\" to \"My-Zone\" \"ANY\" \"any\" \"dns\" \"permit\"");
	assert_string_equal(c->policies[0].src_addr, "Any");
	assert_string_equal(c->policies[0].service, "DNS");
	/* Keywords are not case-sensitive; names are. */
	expect_ok(c, "SET INTERFACE Eth/0 ZONE trust");
	assert_non_null(conf_iface_find(c, "Eth/0"));
	assert_string_equal(conf_iface_find(c, "Eth/0")->zone, "Trust");
	assert_string_equal(conf_iface_find(c, "eth/0")->zone, "My-Zone");

	expect_error(c, "set interface \"eth1 zone Trust", "unterminated quote", "\"eth1");
	expect_error(c, "set interface \"eth1\"x zone Trust", "\"eth1\"", "blank");
	expect_error(c, "set interface eth\"1 zone Trust", "stray quote", "eth");
	/* Names with a byte the tokenizer splits on would not load back from get config. */
	expect_error(c, "set interface \"a\vb\" zone Trust", "contains a blank", NULL);
	expect_error(c, "set interface \"a\fb\" nat", "contains a blank", NULL);
	expect_error(c, "set interface \"eth 1\" zone Trust", "\"eth 1\"", "blank");
	expect_error(c, "set interface \"\" zone Trust", "empty interface name", "\"interface\"");
	expect_error(c, "set interface eth1 zone \"\"", "empty zone name", NULL);
	free(c);
}

static void
test_context(void **state)
{
	struct conf *c = new_conf();
	struct conf_ctx ctx;
	char err[CONF_ERR_LEN] = "";

	(void)state;
	conf_ctx_init(&ctx, "t.conf");
	assert_int_equal(ctx.policy_ctx, -1);
	assert_string_equal(ctx.file, "t.conf");

	/* `exit` outside a context is accepted and does nothing. */
	assert_int_equal(apply(c, &ctx, 1, "exit", err), 0);
	assert_int_equal(ctx.policy_ctx, -1);
	/* `set policy id N` needs an existing policy. */
	expect_error(c, "set policy id 5", "no policy id 5", NULL);

	assert_int_equal(apply(c, &ctx, 2, "set interface a zone Trust", err), 0);
	assert_int_equal(apply(c, &ctx, 3, "set interface b zone Untrust", err), 0);
	assert_int_equal(apply(c, &ctx, 4, "set policy id 5 from Trust to Untrust Any Any ANY permit", err), 0);
	assert_int_equal(apply(c, &ctx, 5, "set policy id 6 from Trust to Untrust Any Any PPTP deny", err), 0);
	assert_int_equal(ctx.policy_ctx, -1);      /* a full policy line opens nothing */
	assert_int_equal(apply(c, &ctx, 6, "set policy id 6", err), 0);
	assert_int_equal(ctx.policy_ctx, 1);
	/* Other lines still work inside the context. */
	assert_int_equal(apply(c, &ctx, 7, "set interface a port p0", err), 0);
	assert_int_equal(ctx.policy_ctx, 1);
	assert_int_equal(apply(c, &ctx, 8, "  exit  ", err), 0);
	assert_int_equal(ctx.policy_ctx, -1);
	assert_int_equal(apply(c, &ctx, 9, "exit", err), 0);
	assert_int_equal(ctx.policy_ctx, -1);
	/* Deleting a policy before the open one keeps the context on the same policy. */
	assert_int_equal(apply(c, &ctx, 10, "set policy id 6", err), 0);
	assert_int_equal(apply(c, &ctx, 11, "unset policy id 5", err), 0);
	assert_int_equal(ctx.policy_ctx, 0);
	assert_int_equal(c->policies[ctx.policy_ctx].id, 6);
	/* Deleting the open policy closes its context. */
	assert_int_equal(apply(c, &ctx, 12, "unset policy id 6", err), 0);
	assert_int_equal(ctx.policy_ctx, -1);
	assert_int_equal(c->n_policies, 0);
	expect_error(c, "exit now", "\"now\"", "end of line");
	expect_error(c, "set policy id 6 to Trust", "\"to\"", "from");

	/* A context left open at the end of a file is fine. */
	assert_int_equal(conf_load_string(c, "s", "set policy id 8 from Trust to Untrust Any Any ANY permit\n"
					  "set policy id 8", err, sizeof(err)), 0);
	assert_int_equal(c->n_policies, 1);
	free(c);
}

static void
test_replace_keeps_position(void **state)
{
	struct conf *c = new_conf();

	(void)state;
	expect_ok(c, "set policy id 1 from Trust to Untrust Any Any ANY permit");
	expect_ok(c, "set policy id 2 from Trust to Untrust Any Any HTTP permit");
	expect_ok(c, "set policy id 3 from Trust to Untrust Any Any FTP permit");
	expect_ok(c, "set policy id 2 from Untrust to Trust Any Any TCP-ANY deny");
	assert_int_equal(c->n_policies, 3);
	assert_int_equal(c->policies[1].id, 2);
	assert_string_equal(c->policies[1].from_zone, "Untrust");
	assert_string_equal(c->policies[1].service, "TCP-ANY");
	assert_false(c->policies[1].permit);
	assert_int_equal(c->policies[2].id, 3);
	/* Replacing drops what the new line does not say. */
	expect_ok(c, "set policy id 1 from Trust to Untrust Any Any ANY permit nat src dip-id 9");
	expect_ok(c, "set policy id 1 from Trust to Untrust Any Any ANY permit");
	assert_false(c->policies[0].nat_src);
	assert_int_equal(c->policies[0].dip_id, 0);

	expect_ok(c, "set route 10.0.0.0/8 interface a gateway 1.1.1.1");
	expect_ok(c, "set route 10.0.0.0/16 interface a");
	expect_ok(c, "set route 10.0.0.0/8 interface b");
	assert_int_equal(c->n_routes, 2);
	assert_string_equal(c->routes[0].iface, "b");
	assert_int_equal(c->routes[0].gateway, 0);
	assert_int_equal(c->routes[1].plen, 16);

	expect_ok(c, "set arp 1.2.3.4 02:00:00:00:00:01 a");
	expect_ok(c, "set arp 1.2.3.5 02:00:00:00:00:02 a");
	expect_ok(c, "set arp 1.2.3.4 02:00:00:00:00:03 b");
	assert_int_equal(c->n_arps, 2);
	assert_int_equal(c->arps[0].mac[5], 3);
	assert_string_equal(c->arps[0].iface, "b");

	expect_ok(c, "set interface a dip 4 1.1.1.1 1.1.1.4");
	expect_ok(c, "set interface a dip 5 1.1.1.5 1.1.1.5");
	expect_ok(c, "set interface a dip 4 1.1.1.8 1.1.1.9");
	assert_int_equal(c->n_dips, 2);
	assert_int_equal(c->dips[0].id, 4);
	assert_int_equal(c->dips[0].low, IP(1, 1, 1, 8));
	expect_error(c, "set interface b dip 4 2.2.2.2 2.2.2.3", "dip id 4", "\"a\"");
	free(c);
}

static void
test_unset(void **state)
{
	struct conf *c = new_conf();

	(void)state;
	expect_ok(c, "set interface e0 zone Trust");
	expect_ok(c, "set interface e0 ip 10.0.0.1/24");
	expect_ok(c, "set interface e0 port net_tap0");
	expect_ok(c, "set interface e0 dip 3 10.0.0.100 10.0.0.110");
	expect_ok(c, "set policy id 1 from Trust to Trust Any Any ANY permit");
	expect_ok(c, "set route 10.1.0.0/16 interface e0 gateway 10.0.0.254");
	expect_ok(c, "set arp 10.0.0.254 02:aa:bb:cc:dd:ee e0");

	expect_ok(c, "unset interface e0 ip");
	assert_false(c->ifaces[1].has_ip);
	assert_int_equal(c->ifaces[1].ip, 0);
	assert_int_equal(c->ifaces[1].plen, 0);
	expect_ok(c, "unset interface e0 ip");           /* already unset: fine */
	expect_ok(c, "unset interface e0 port");
	assert_string_equal(c->ifaces[1].port, "");
	expect_ok(c, "set interface e0 mtu 1400");
	assert_int_equal(c->ifaces[1].mtu, 1400);
	expect_ok(c, "unset interface e0 mtu");
	assert_int_equal(c->ifaces[1].mtu, CONF_MTU_DEFAULT);
	expect_ok(c, "unset interface e0 dip 3");
	assert_int_equal(c->n_dips, 0);
	expect_error(c, "unset interface e0 dip 3", "no dip id 3", "\"e0\"");
	expect_ok(c, "unset policy id 1");
	assert_int_equal(c->n_policies, 0);
	expect_error(c, "unset policy id 1", "no policy id 1", NULL);
	expect_ok(c, "unset route 10.1.0.0/16");
	assert_int_equal(c->n_routes, 0);
	expect_error(c, "unset route 10.1.0.0/16", "\"10.1.0.0/16\"", NULL);
	expect_ok(c, "unset arp 10.0.0.254");
	assert_int_equal(c->n_arps, 0);
	expect_error(c, "unset arp 10.0.0.254", "\"10.0.0.254\"", NULL);
	expect_ok(c, "unset interface vlan1 ip");
	assert_false(c->ifaces[0].has_ip);
	assert_true(c->ifaces[0].builtin);
	expect_ok(c, "unset alg pptp enable");
	assert_false(c->alg_pptp);
	/* The interface itself stays. */
	assert_int_equal(c->n_ifaces, 2);
	free(c);
}

struct bound {
	const char *stmt;            /* the line without its number */
	uint32_t lo, hi;
	size_t off;                  /* of the uint32_t it sets in struct conf */
};

static void
test_limits_bounds(void **state)
{
	static const struct bound b[] = {
		{ "set session max", 1, 16777216, offsetof(struct conf, limits.sessions) },
		{ "set alg pptp xlate max", 1, 4194304, offsetof(struct conf, limits.pptp_xlate) },
		{ "set alg pptp control per-source", 1, 4194304, offsetof(struct conf, limits.pptp_per_src) },
		{ "set arp max", 16, 1048576, offsetof(struct conf, limits.neighbors) },
		{ "set arp queue", 0, 256, offsetof(struct conf, limits.neigh_queue) },
		{ "set mbuf max", 1024, 16777216, offsetof(struct conf, limits.mbufs) },
		{ "set session timeout tcp", 1, 604800, offsetof(struct conf, timeouts.tcp) },
		{ "set session timeout tcp-syn", 1, 604800, offsetof(struct conf, timeouts.tcp_syn) },
		{ "set session timeout tcp-closing", 1, 604800, offsetof(struct conf, timeouts.tcp_closing) },
		{ "set session timeout udp", 1, 604800, offsetof(struct conf, timeouts.udp) },
		{ "set session timeout icmp", 1, 604800, offsetof(struct conf, timeouts.icmp) },
		{ "set session timeout gre", 1, 604800, offsetof(struct conf, timeouts.gre) },
		{ "set session timeout other", 1, 604800, offsetof(struct conf, timeouts.other) },
		{ "set alg pptp xlate timeout", 1, 604800, offsetof(struct conf, timeouts.pptp_xlate) },
		{ "set arp timeout", 1, 86400, offsetof(struct conf, timeouts.arp) },
		{ "set worker idle-sleep", 0, 1000000, offsetof(struct conf, worker_idle_us) },
		{ "set alg pptp xlate per-client", 1, 4194304, offsetof(struct conf, limits.pptp_per_client) },
		{ "set flow frag max", 1, 1048576, offsetof(struct conf, limits.frags) },
		{ "set flow frag timeout", 1, 300, offsetof(struct conf, timeouts.frag) },
		{ "set zone Trust screen limit-session source-ip-based", 1, 16777216,
		  offsetof(struct conf, screens[0].limit_src) },
	};
	struct conf *c = new_conf();
	char line[128], word[32];
	unsigned i;
	uint32_t v;

	(void)state;
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		snprintf(line, sizeof(line), "%s %u", b[i].stmt, b[i].lo);
		expect_ok(c, line);
		memcpy(&v, (const char *)c + b[i].off, sizeof(v));
		assert_int_equal(v, b[i].lo);
		snprintf(line, sizeof(line), "%s %u", b[i].stmt, b[i].hi);
		expect_ok(c, line);
		memcpy(&v, (const char *)c + b[i].off, sizeof(v));
		assert_int_equal(v, b[i].hi);
		snprintf(word, sizeof(word), "\"%u\"", b[i].hi + 1);
		snprintf(line, sizeof(line), "%s %u", b[i].stmt, b[i].hi + 1);
		expect_error(c, line, word, "expected a number from");
		if (b[i].lo > 0) {
			snprintf(word, sizeof(word), "\"%u\"", b[i].lo - 1);
			snprintf(line, sizeof(line), "%s %u", b[i].stmt, b[i].lo - 1);
			expect_error(c, line, word, "expected a number from");
		}
		snprintf(line, sizeof(line), "%s -1", b[i].stmt);
		expect_error(c, line, "\"-1\"", NULL);
		snprintf(line, sizeof(line), "%s 99999999999", b[i].stmt);
		expect_error(c, line, "\"99999999999\"", NULL);
		snprintf(line, sizeof(line), "%s 12abc", b[i].stmt);
		expect_error(c, line, "\"12abc\"", NULL);
		snprintf(line, sizeof(line), "%s", b[i].stmt);
		expect_error(c, line, "missing word", "expected a number from");
		snprintf(line, sizeof(line), "%s %u extra", b[i].stmt, b[i].lo);
		expect_error(c, line, "\"extra\"", "end of line");
	}
	/* socket-mode is octal. */
	expect_ok(c, "set cli socket-mode 0777");
	assert_int_equal(c->socket_mode, 0777);
	expect_ok(c, "set cli socket-mode 640");
	assert_int_equal(c->socket_mode, 0640);
	expect_ok(c, "set cli socket-mode 0");
	assert_int_equal(c->socket_mode, 0);
	expect_error(c, "set cli socket-mode 0778", "\"0778\"", "octal");
	expect_error(c, "set cli socket-mode 01000", "\"01000\"", "octal");
	expect_error(c, "set cli socket-mode rw", "\"rw\"", "octal");
	/* The Prometheus endpoint: off by default, A.B.C.D:PORT, unset turns it off. */
	assert_int_equal(c->metrics_port, 0);
	expect_ok(c, "set metrics listen 10.0.0.1:9469");
	assert_int_equal(c->metrics_ip, 0x0a000001);
	assert_int_equal(c->metrics_port, 9469);
	expect_error(c, "set metrics listen 10.0.0.1", "\"10.0.0.1\"", "A.B.C.D:PORT");
	expect_error(c, "set metrics listen 10.0.0.1:0", "\"10.0.0.1:0\"", "A.B.C.D:PORT");
	expect_error(c, "set metrics listen 10.0.0.1:65536", "65536", "A.B.C.D:PORT");
	expect_error(c, "set metrics listen 10.0.0:80", "\"10.0.0:80\"", "A.B.C.D:PORT");
	expect_error(c, "set metrics listen 1.2.3.4:80 x", "\"x\"", "end of line");
	expect_error(c, "set metrics port 80", "\"port\"", "listen");
	assert_int_equal(c->metrics_port, 9469);
	expect_ok(c, "unset metrics listen");
	assert_int_equal(c->metrics_port, 0);
	/* The HA pair: standalone by default; cluster ids 1-7; unset leaves the pair. */
	assert_int_equal(c->nsrp_port, CONF_DEF_NSRP_PORT);
	expect_ok(c, "set nsrp cluster id 7");
	assert_int_equal(c->nsrp_cluster, 7);
	expect_error(c, "set nsrp cluster id 8", "8", "7");
	expect_error(c, "set nsrp cluster 1", "\"1\"", "id");
	expect_error(c, "set nsrp peer 10.0.0", "\"10.0.0\"", "address");
	expect_error(c, "set nsrp refresh 0", "0", "60");
	expect_error(c, "set nsrp queue 63", "63", "1048576");
	expect_error(c, "unset nsrp peer", "\"peer\"", "cluster");
	expect_ok(c, "unset nsrp cluster");
	assert_int_equal(c->nsrp_cluster, 0);
	expect_ok(c, "set cli socket-group adm");
	assert_string_equal(c->socket_group, "adm");
	expect_ok(c, "unset cli socket-group");
	assert_string_equal(c->socket_group, "");
	expect_ok(c, "set cli socket /run/x.sock");
	assert_string_equal(c->socket_path, "/run/x.sock");
	{
		char longp[CONF_PATH_LEN], pline[CONF_PATH_LEN + 32];

		memset(longp, 'p', CONF_PATH_LEN - 1);
		longp[CONF_PATH_LEN - 1] = '\0';
		snprintf(pline, sizeof(pline), "set cli socket %s", longp);
		expect_ok(c, pline);
		assert_int_equal(strlen(c->socket_path), CONF_PATH_LEN - 1);
		snprintf(pline, sizeof(pline), "set cli socket %sq", longp);
		expect_error(c, pline, "bad socket path", NULL);
	}
	free(c);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *line, *w1, *w2;
	} e[] = {
		{ "fo", "unknown command \"fo\"", "set, unset or exit" },
		{ "set fo 1", "unknown keyword \"fo\"", "interface, policy, route, arp, session, alg" },
		{ "set", "missing word after \"set\"", "interface" },
		{ "unset fo", "unknown keyword \"fo\"", "interface, policy, route, arp, alg" },
		{ "unset session max 5", "\"session\"", NULL },
		{ "set interface", "missing word after \"interface\"", "interface name" },
		{ "set interface e0", "missing word after \"e0\"", "zone, ip" },
		{ "set interface e0 speed 100", "\"speed\"", "zone, ip, nat, route, port, dip, mtu" },
		{ "set interface e0 tag 100", "\"e0\" cannot take a tag", "PARENT.N" },
		{ "set interface e0.1 tag 0", "\"0\"", "1 to 4094" },
		{ "set interface e0.1 tag 4095", "\"4095\"", "1 to 4094" },
		{ "set interface e0.1 tag 10 zona Trust", "\"zona\"", "zone or end of line" },
		{ "set interface e0.1 tag 10 zone", "missing word after \"zone\"", "zone name" },
		{ "set interface e0.1 tag 10 zone Trust x", "\"x\"", "end of line" },
		{ "set interface e0 mtu", "missing word after \"mtu\"", "576 to 9000" },
		{ "set interface e0 mtu 575", "\"575\"", "576 to 9000" },
		{ "set interface e0 mtu 9001", "\"9001\"", "576 to 9000" },
		{ "set interface e0 mtu 1500 1", "\"1\"", "end of line" },
		{ "unset interface e0 mtu 1500", "\"1500\"", "end of line" },
		{ "set interface e0 zone", "missing word after \"zone\"", "zone name" },
		{ "set interface e0 zone Trust extra", "\"extra\"", "end of line" },
		{ "set interface e0 ip", "missing word after \"ip\"", "A.B.C.D/LEN" },
		{ "set interface e0 ip 10.0.0.1", "\"10.0.0.1\"", "A.B.C.D/LEN" },
		{ "set interface e0 ip 10.0.0.1/33", "\"10.0.0.1/33\"", NULL },
		{ "set interface e0 ip 10.0.0.1/0", "\"10.0.0.1/0\"", NULL },
		{ "set interface e0 ip 10.0.0.256/24", "\"10.0.0.256/24\"", NULL },
		{ "set interface e0 ip 0.0.0.0/8", "\"0.0.0.0/8\"", NULL },
		{ "set interface e0 ip 10.0.0.1/24 x", "\"x\"", "end of line" },
		{ "set interface e0 nat now", "\"now\"", "end of line" },
		{ "set interface e0 port", "missing word after \"port\"", "port name" },
		{ "set interface e0 dip 0 1.1.1.1 1.1.1.2", "\"0\"", "1 to 65535" },
		{ "set interface e0 dip 4 1.1.1.x 1.1.1.2", "\"1.1.1.x\"", "A.B.C.D" },
		{ "set interface e0 dip 4 1.1.1.9 1.1.1.2", "\"1.1.1.2\"", "not below 1.1.1.9" },
		{ "set interface e0 dip 4 0.0.0.0 1.1.1.2", "\"0.0.0.0\"", NULL },
		{ "set interface e0 dip 4 1.1.1.1", "missing word after \"1.1.1.1\"", NULL },
		{ "unset interface e0 zone", "\"zone\"", "ip, port, dip" },
		{ "unset interface e0 ip 1", "\"1\"", "end of line" },
		{ "set policy 1", "\"1\"", "expected id" },
		{ "set policy id x", "\"x\"", "policy id" },
		{ "set policy id 0 from Trust to Untrust Any Any ANY permit", "\"0\"", NULL },
		{ "set policy id 1 from Trust Untrust Any Any ANY permit", "\"Untrust\"", "expected to" },
		{ "set policy id 1 from Trust to Untrust 10.0.0.0/8 Any ANY permit", "\"10.0.0.0/8\"", "Any" },
		{ "set policy id 1 from Trust to Untrust Any host1 ANY permit", "\"host1\"", "Any" },
		{ "set policy id 1 from Trust to Untrust Any Any GOPHER permit", "\"GOPHER\"", "PPTP" },
		{ "set policy id 1 from Trust to Untrust Any Any ANY", "missing word after \"ANY\"", "permit" },
		{ "set policy id 1 from Trust to Untrust Any Any ANY allow", "\"allow\"", "permit" },
		{ "set policy id 1 from Trust to Untrust Any Any ANY permit log", "\"log\"", "nat src" },
		{ "set policy id 1 from Trust to Untrust Any Any ANY permit deny", "\"deny\"", NULL },
		{ "set policy id 1 from Trust to Untrust Any Any ANY permit nat", "missing word after \"nat\"", "src" },
		{ "set policy id 1 from Trust to Untrust Any Any ANY permit nat dst", "\"dst\"", "src" },
		{ "set policy id 1 from Trust to Untrust Any Any ANY permit nat src dip-id", "missing word", NULL },
		{ "set policy id 1 from Trust to Untrust Any Any ANY permit nat src dip-id q", "\"q\"", NULL },
		{ "set policy id 1 from Trust to Untrust Any Any ANY deny nat src", "deny", "permit" },
		{ "set policy id 1 from Trust to Untrust Any Any ANY nat src", "missing word after \"src\"", "permit" },
		{ "unset policy id 1 from", "\"from\"", "end of line" },
		{ "set route 10.0.0.0/8", "missing word after \"10.0.0.0/8\"", "interface" },
		{ "set route 10.0.0.1/8 interface e0", "\"10.0.0.1/8\"", "10.0.0.0/8" },
		{ "set route 10.0.0.0 interface e0", "\"10.0.0.0\"", "A.B.C.D/LEN" },
		{ "set route 10.0.0.0/8 iface e0", "\"iface\"", "expected interface" },
		{ "set route 10.0.0.0/8 interface e0 via 1.1.1.1", "\"via\"", "gateway" },
		{ "set route 10.0.0.0/8 interface e0 gateway 1.1.1", "\"1.1.1\"", "A.B.C.D" },
		{ "set route 10.0.0.0/8 interface e0 gateway 1.1.1.1 metric", "\"metric\"", "end of line" },
		{ "unset route 10.0.0.0/8 interface", "\"interface\"", "end of line" },
		{ "set arp", "missing word after \"arp\"", "A.B.C.D" },
		{ "set arp bogus", "\"bogus\"", "max, queue or timeout" },
		{ "set arp 10.0.0.2", "missing word after \"10.0.0.2\"", "MAC" },
		{ "set arp 10.0.0.2 02:00:00:00:00 e0", "\"02:00:00:00:00\"", "aa:bb:cc:dd:ee:ff" },
		{ "set arp 10.0.0.2 02-00-00-00-00-01 e0", "\"02-00-00-00-00-01\"", NULL },
		{ "set arp 10.0.0.2 0g:00:00:00:00:01 e0", "\"0g:00:00:00:00:01\"", NULL },
		{ "set arp 10.0.0.2 ff:ff:ff:ff:ff:ff e0", "\"ff:ff:ff:ff:ff:ff\"", "unicast" },
		{ "set arp 10.0.0.2 00:00:00:00:00:00 e0", "\"00:00:00:00:00:00\"", "unicast" },
		{ "set arp 10.0.0.2 02:00:00:00:00:01", "missing word after \"02:00:00:00:00:01\"", "interface" },
		{ "set arp 10.0.0.2 02:00:00:00:00:01 e0 x", "\"x\"", "end of line" },
		{ "unset arp x", "\"x\"", "A.B.C.D" },
		{ "set session", "missing word after \"session\"", "max or timeout" },
		{ "set session min 5", "\"min\"", "max or timeout" },
		{ "set session timeout", "missing word after \"timeout\"", "tcp-syn" },
		{ "set session timeout sctp 5", "\"sctp\"", "tcp, tcp-syn, tcp-closing, udp, icmp, gre, other" },
		{ "set alg", "missing word after \"alg\"", "pptp" },
		{ "set alg ftp enable", "\"ftp\"", "pptp" },
		{ "set alg pptp disable", "\"disable\"", "enable, xlate or control" },
		{ "set alg pptp control max 5", "\"max\"", "per-source" },
		{ "set alg pptp enable now", "\"now\"", "end of line" },
		{ "set alg pptp xlate", "missing word after \"xlate\"", "max, timeout or per-client" },
		{ "set alg pptp xlate size 5", "\"size\"", "max, timeout or per-client" },
		{ "set flow", "missing word after \"flow\"", "frag" },
		{ "set flow frag size 5", "\"size\"", "max or timeout" },
		{ "set zone Trust screen limit-session", "missing word", "source-ip-based" },
		{ "set zone Trust screen syn-flood 5", "\"syn-flood\"", "limit-session" },
		{ "set zone Trust screen limit-session destination-ip-based 5", "\"destination-ip-based\"",
		  "source-ip-based" },
		{ "unset zone Trust screen limit-session source-ip-based 5", "\"5\"", "end of line" },
		{ "unset alg pptp xlate max", "\"xlate\"", "enable" },
		{ "set mbuf", "missing word after \"mbuf\"", "max" },
		{ "set mbuf count 4096", "\"count\"", "max" },
		{ "set cli", "missing word after \"cli\"", "socket" },
		{ "set cli port 5", "\"port\"", "socket, socket-mode or socket-group" },
		{ "set cli socket", "missing word after \"socket\"", "path" },
		{ "set cli socket \"\"", "bad socket path", NULL },
		{ "set worker", "missing word after \"worker\"", "idle-sleep" },
		{ "set worker sleep 5", "\"sleep\"", "idle-sleep" },
		{ "set interface e0 zone Trust\x01", "0x01", "printable" },
	};
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		expect_error(c, e[i].line, e[i].w1, e[i].w2);

	/* The message has the shape the brief gives. */
	{
		struct conf_ctx ctx;

		conf_ctx_init(&ctx, "kb.conf");
		assert_int_equal(apply(c, &ctx, 3, "set fo", err), -1);
		assert_string_equal(err, "kb.conf:3: unknown keyword \"fo\": expected one of interface, "
				    "policy, route, arp, session, alg, mbuf, cli, worker, flow, zone, metrics, log, syslog, nat, nsrp");
	}
	/* Blank and comment lines are fine, even with a NULL ctx. */
	assert_int_equal(conf_apply_line(c, NULL, "", err, sizeof(err)), 0);
	assert_int_equal(conf_apply_line(c, NULL, "   \t ", err, sizeof(err)), 0);
	assert_int_equal(conf_apply_line(c, NULL, "# set fo \"unbalanced", err, sizeof(err)), 0);
	assert_int_equal(conf_apply_line(c, NULL, "set fo", err, sizeof(err)), -1);

	/* Line and word limits. */
	{
		char line[2048];
		size_t n;

		memset(line, 0, sizeof(line));
		n = (size_t)snprintf(line, sizeof(line), "set interface e0 zone ");
		memset(line + n, 'z', 1100);
		expect_error(c, line, "line too long", NULL);
		strcpy(line, "set interface e0 zone");
		for (i = 0; i < 30; i++)
			strcat(line, " w");
		expect_error(c, line, "too many words", NULL);
		/* Names at the size limit fit; one more does not. */
		memset(line, 0, sizeof(line));
		n = (size_t)snprintf(line, sizeof(line), "set interface ");
		memset(line + n, 'i', CONF_NAME_LEN - 1);
		strcat(line, " zone Trust");
		expect_ok(c, line);
		memset(line, 0, sizeof(line));
		n = (size_t)snprintf(line, sizeof(line), "set interface ");
		memset(line + n, 'i', CONF_NAME_LEN);
		strcat(line, " zone Trust");
		expect_error(c, line, "too long", "31 characters");
		memset(line, 0, sizeof(line));
		n = (size_t)snprintf(line, sizeof(line), "set interface e0 port ");
		memset(line + n, 'p', CONF_PORT_LEN);
		expect_error(c, line, "too long", "63 characters");
	}
	free(c);
}

static void
test_capacity(void **state)
{
	struct conf *c = new_conf();
	char line[128];
	unsigned i;

	(void)state;
	for (i = 1; i < CONF_MAX_IFACES; i++) {
		snprintf(line, sizeof(line), "set interface e%u ip 10.%u.0.1/24", i, i);
		expect_ok(c, line);
	}
	assert_int_equal(c->n_ifaces, CONF_MAX_IFACES);
	expect_error(c, "set interface e99 zone Trust", "too many interfaces", "\"e99\"");
	expect_error(c, "unset interface e99 ip", "too many interfaces", NULL);
	expect_error(c, "set interface e99 nat", "too many interfaces", NULL);
	expect_ok(c, "set interface e1 nat");   /* existing ones still change */

	/* Zones: at most CONF_MAX_ZONES distinct ones. */
	for (i = 1; i <= CONF_MAX_ZONES; i++) {
		snprintf(line, sizeof(line), "set interface e%u zone z%u", i, i);
		expect_ok(c, line);
	}
	expect_error(c, "set interface e9 zone z9", "too many zones", "\"z9\"");
	expect_ok(c, "set interface e9 zone z1");          /* a known zone is fine */
	expect_error(c, "set interface e1 zone znew", "too many zones", "\"znew\"");  /* z1 stays on e9 */
	expect_ok(c, "set interface e2 zone zreplaced");   /* e2 was z2's only interface */
	expect_error(c, "set interface e10 zone zother", "too many zones", NULL);

	for (i = 1; i <= CONF_MAX_DIPS; i++) {
		snprintf(line, sizeof(line), "set interface e1 dip %u 20.0.%u.1 20.0.%u.2", i, i, i);
		expect_ok(c, line);
	}
	expect_error(c, "set interface e1 dip 999 20.1.0.1 20.1.0.1", "too many dip pools", NULL);
	for (i = 0; i < CONF_MAX_POLICIES; i++) {
		snprintf(line, sizeof(line), "set policy id %u from z1 to zreplaced Any Any ANY permit", i + 1);
		expect_ok(c, line);
	}
	expect_error(c, "set policy id 9999 from z1 to zreplaced Any Any ANY permit", "too many policies", NULL);
	expect_ok(c, "set policy id 256 from z1 to zreplaced Any Any ANY deny");
	for (i = 0; i < CONF_MAX_ROUTES; i++) {
		snprintf(line, sizeof(line), "set route 30.%u.%u.0/24 interface e1", i / 256, i % 256);
		expect_ok(c, line);
	}
	expect_error(c, "set route 31.0.0.0/24 interface e1", "too many routes", "\"31.0.0.0/24\"");
	for (i = 0; i < CONF_MAX_ARPS; i++) {
		snprintf(line, sizeof(line), "set arp 40.0.%u.1 02:00:00:00:00:01 e1", i);
		expect_ok(c, line);
	}
	expect_error(c, "set arp 41.0.0.1 02:00:00:00:00:01 e1", "too many arp entries", "\"41.0.0.1\"");
	for (i = 0; i < CONF_MAX_ZONES; i++) {
		snprintf(line, sizeof(line), "set zone z%u screen limit-session source-ip-based %u", i, i + 1);
		expect_ok(c, line);
	}
	expect_error(c, "set zone z9 screen limit-session source-ip-based 1", "too many zone screens",
		     "at most 8");
	expect_ok(c, "set zone z0 screen limit-session source-ip-based 99");
	roundtrip(c);
	free(c);
}

static void
test_load(void **state)
{
	struct conf *c = new_conf(), *before = malloc(sizeof(*before));
	char err[CONF_ERR_LEN] = "";
	char path[] = "/tmp/test_conf_XXXXXX";
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(before);
	/* A failing line reports its number, and the whole load changes nothing. */
	memcpy(before, c, sizeof(*c));
	assert_int_equal(conf_load_string(c, "x.conf", "set interface a zone Trust\n\n# c\n"
					  "set interface a ip 1.2.3.4/99\nset interface b zone Trust\n",
					  err, sizeof(err)), -1);
	assert_non_null(strstr(err, "x.conf:4:20: "));   /* FILE:LINE:COLUMN */
	assert_non_null(strstr(err, "\"1.2.3.4/99\""));
	assert_memory_equal(before, c, sizeof(*c));
	assert_int_equal(conf_load_string(c, NULL, "set x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1:5: "));   /* "x" is the fifth column */
	assert_int_equal(conf_load_string(c, "e", "", err, sizeof(err)), 0);
	assert_memory_equal(before, c, sizeof(*c));

	/* Loading adds to what is there. */
	assert_int_equal(conf_load_string(c, "a", "set interface a zone Trust", err, sizeof(err)), 0);
	assert_int_equal(conf_load_string(c, "b", "set interface b zone Untrust\n", err, sizeof(err)), 0);
	assert_int_equal(c->n_ifaces, 3);

	/* Files: a missing one, a bad line, a NUL byte, no final newline. */
	assert_int_equal(conf_load_file(c, "/nonexistent/dpnat.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dpnat.conf"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# x\nset interface c zone DMZ\nset route 1.0.0.0/8 interface c gateway 1.1.1\n", f);
	fclose(f);
	memcpy(before, c, sizeof(*c));
	assert_int_equal(conf_load_file(c, path, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	/* FILE:LINE:COLUMN: the gateway "1.1.1" starts at column 41 of line 3. */
	assert_int_equal(strncmp(err + strlen(path), ":3:41: ", 7), 0);
	assert_non_null(strstr(err, "\"1.1.1\""));
	assert_memory_equal(before, c, sizeof(*c));
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("set interface c zone DMZ\nset interface c ip 9.9.9.9/8\0x\n", 1, 55, f);
	fclose(f);
	assert_int_equal(conf_load_file(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:29: "));   /* the NUL byte, just past "9.9.9.9/8" */
	assert_non_null(strstr(err, "0x00"));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("set interface c zone DMZ\nset interface c ip 9.9.9.9/8", f);
	fclose(f);
	assert_int_equal(conf_load_file(c, path, err, sizeof(err)), 0);
	assert_int_equal(conf_iface_find(c, "c")->ip, IP(9, 9, 9, 9));
	unlink(path);
	free(before);
	free(c);
}

static void
test_validate(void **state)
{
	static const struct {
		const char *extra, *w1, *w2;
	} v[] = {
		{ "set route 10.0.0.0/8 interface nope", "\"nope\"", "10.0.0.0/8" },
		{ "set arp 10.0.0.9 02:00:00:00:00:01 nope", "\"nope\"", "10.0.0.9" },
		{ "set policy id 4 from Trust to Nowhere Any Any ANY permit", "\"Nowhere\"", "policy id 4" },
		{ "set policy id 4 from DMZ to Untrust Any Any ANY permit", "\"DMZ\"", "policy id 4" },
		{ "set policy id 4 from Trust to Untrust Any Any ANY permit nat src dip-id 8", "dip-id 8", "policy id 4" },
		{ "set interface b port net_tap0", "net_tap0", "a and b" },
		{ "set interface b ip 10.0.0.1/16", "10.0.0.1", "a and b" },
		{ "set interface vlan1 ip 10.0.0.1/8", "10.0.0.1", "vlan1 and a" },
	};
	struct conf *c = new_conf(), *base = new_conf();
	char err[CONF_ERR_LEN];
	unsigned i;

	(void)state;
	assert_int_equal(conf_load_string(base, "v",
					  "set interface a zone Trust\n"
					  "set interface b zone Untrust\n"
					  "set interface a ip 10.0.0.1/24\n"
					  "set interface a port net_tap0\n"
					  "set interface b dip 3 1.1.1.1 1.1.1.9\n"
					  "set policy id 1 from Trust to Untrust Any Any PPTP permit nat src dip-id 3\n"
					  "set route 0.0.0.0/0 interface b gateway 1.1.1.254\n"
					  "set arp 1.1.1.254 02:00:00:00:00:fe b\n", err, sizeof(err)), 0);
	assert_int_equal(conf_validate(base, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memcpy(c, base, sizeof(*c));
		expect_ok(c, v[i].extra);
		if (conf_validate(c, err, sizeof(err)) != -1)
			fail_msg("validate accepted: %s", v[i].extra);
		if (strstr(err, v[i].w1) == NULL || strstr(err, v[i].w2) == NULL ||
		    strstr(err, "expected") == NULL)
			fail_msg("%s -> \"%s\"", v[i].extra, err);
	}
	/* Removing the dip a policy uses makes it invalid; DIP outside the subnet is fine. */
	memcpy(c, base, sizeof(*c));
	expect_ok(c, "unset interface b dip 3");
	assert_int_equal(conf_validate(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "dip-id 3"));
	memcpy(c, base, sizeof(*c));
	expect_ok(c, "set interface b ip 2.0.0.1/24");
	assert_int_equal(conf_validate(c, err, sizeof(err)), 0);
	/* Subinterfaces: a parent that exists and is untagged, no port of their own, one per tag. */
	memcpy(c, base, sizeof(*c));
	expect_ok(c, "set interface a.1 tag 100 zone Untrust");
	expect_ok(c, "set interface a.1 ip 10.1.0.1/24");
	expect_ok(c, "set interface b.7 tag 100");
	assert_int_equal(conf_validate(c, err, sizeof(err)), 0);
	assert_int_equal(c->ifaces[3].tag, 100);
	assert_string_equal(c->ifaces[3].zone, "Untrust");
	expect_ok(c, "set interface a.2 tag 100");
	assert_int_equal(conf_validate(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tag 100 is on subinterfaces a.1 and a.2"));
	memcpy(c, base, sizeof(*c));
	expect_ok(c, "set interface x.1 tag 5");
	assert_int_equal(conf_validate(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no physical interface x"));
	memcpy(c, base, sizeof(*c));
	expect_ok(c, "set interface a.1 tag 5");
	expect_ok(c, "set interface a.1.2 tag 6");
	assert_int_equal(conf_validate(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no physical interface a.1"));
	memcpy(c, base, sizeof(*c));
	expect_ok(c, "set interface a.1 tag 5");
	expect_ok(c, "set interface a.1 port net_tap9");
	assert_int_equal(conf_validate(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "subinterface a.1 has a port"));
	/* An MTU outside the bounds (a struct not made by the parser) is refused. */
	memcpy(c, base, sizeof(*c));
	c->ifaces[1].mtu = 100;
	assert_int_equal(conf_validate(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mtu 100"));
	memcpy(c, base, sizeof(*c));
	expect_ok(c, "set policy id 1 from Trust to Untrust Any Any PPTP permit nat src dip-id 3");
	/* nat src without dip-id uses the egress address: no dip needed. */
	expect_ok(c, "set policy id 1 from Trust to Untrust Any Any PPTP permit nat src");
	assert_int_equal(conf_validate(c, err, sizeof(err)), 0);
	free(c);
	free(base);
}

static void
test_ip_helpers(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.4 ", " 1.2.3.4", "1..2.3",
		"1.2.3.", "a.b.c.d", "1.2.3.0004", "-1.2.3.4", "1.2.3.4/24", "0x1.2.3.4",
	};
	char buf[16];
	uint32_t ip = 7;
	unsigned i;

	(void)state;
	assert_int_equal(conf_parse_ip("0.0.0.0", &ip), 0);
	assert_int_equal(ip, 0);
	assert_int_equal(conf_parse_ip("255.255.255.255", &ip), 0);
	assert_int_equal(ip, UINT32_MAX);
	assert_int_equal(conf_parse_ip("172.19.51.234", &ip), 0);
	assert_int_equal(ip, IP(172, 19, 51, 234));
	assert_int_equal(conf_parse_ip("010.001.1.1", &ip), 0);
	assert_int_equal(ip, IP(10, 1, 1, 1));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ip = 7;
		if (conf_parse_ip(bad[i], &ip) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ip, 7);
	}
	assert_string_equal(conf_ip_str(IP(60, 60, 60, 1), buf), "60.60.60.1");
	assert_ptr_equal(conf_ip_str(UINT32_MAX, buf), buf);
	assert_string_equal(buf, "255.255.255.255");
	assert_string_equal(conf_ip_str(0, buf), "0.0.0.0");

	/* Every address survives str -> parse. */
	for (i = 0; i < 1000; i++) {
		uint32_t x = (uint32_t)i * 2654435761u, y;

		assert_int_equal(conf_parse_ip(conf_ip_str(x, buf), &y), 0);
		assert_int_equal(x, y);
	}
}

static void
test_lookups(void **state)
{
	struct conf *c = new_conf();

	(void)state;
	expect_ok(c, "set interface a zone Trust");
	expect_ok(c, "set interface b dip 12 5.5.5.5 5.5.5.6");
	assert_int_equal(conf_iface_index(c, "vlan1"), 0);
	assert_int_equal(conf_iface_index(c, "a"), 1);
	assert_int_equal(conf_iface_index(c, "b"), 2);
	assert_int_equal(conf_iface_index(c, "A"), -1);
	assert_int_equal(conf_iface_index(c, "c"), -1);
	assert_ptr_equal(conf_iface_find(c, "b"), &c->ifaces[2]);
	assert_null(conf_iface_find(c, ""));
	assert_ptr_equal(conf_dip_find(c, 12), &c->dips[0]);
	assert_null(conf_dip_find(c, 13));
	assert_null(conf_dip_find(c, 0));
	free(c);
}


/* ---- the one grammar: `?`, Tab, columns, docs (issue 20) ---- */

#define GOLDEN DPNAT_SRCDIR "/tests/unit/golden/conf_grammar.txt"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static bool
is_request(const char *line)
{
	return strncmp(line, "dpnat-> ", 8) == 0 || strncmp(line, "tab-> ", 6) == 0 ||
	       strncmp(line, "load-> ", 7) == 0;
}

/* The answer to one request of the golden file: `dpnat-> LINE` (help or run), `tab-> LINE`, `load-> LINE`. */
static void
golden_answer(struct conf *c, const char *req, struct cli_out *out)
{
	char err[CONF_ERR_LEN];

	if (strncmp(req, "tab-> ", 6) == 0) {
		if (cli_complete_ctx(conf_grammar(), req + 6, out, c) < 0)
			cli_printf(out, "(no completion)\n");
	} else if (strncmp(req, "load-> ", 7) == 0) {
		struct conf_ctx ctx;
		struct conf *before = malloc(sizeof(*before));

		assert_non_null(before);
		memcpy(before, c, sizeof(*c));
		conf_ctx_init(&ctx, "golden.conf");
		ctx.line = 1;
		if (conf_apply_line(c, &ctx, req + 7, err, sizeof(err)) == 0)
			cli_printf(out, "ok\n");
		else
			cli_printf(out, "%s\ncolumn %u%s\n", err, ctx.col,
				   memcmp(before, c, sizeof(*c)) == 0 ? "" : " (changed the configuration!)");
		free(before);
	} else if (cli_execute(conf_grammar(), req + 7, out, c) != 0) {
		cli_printf(out, "(refused)\n");
	}
}

/*
 * `?` and Tab on set/unset lines, and errors with their columns, against the
 * KB lab: tests/unit/golden/conf_grammar.txt. DPNAT_GOLDEN_WRITE=1 rewrites
 * the answers in place (then read the diff).
 */
static void
test_grammar_golden(void **state)
{
	struct conf *c = new_conf();
	char *text = slurp(GOLDEN), *line, *next, *got = malloc(1 << 16), *want = malloc(1 << 16);
	char err[CONF_ERR_LEN];
	FILE *w = getenv("DPNAT_GOLDEN_WRITE") != NULL ? fopen(GOLDEN ".new", "w") : NULL;
	unsigned n = 0;

	(void)state;
	assert_non_null(text);
	assert_non_null(got);
	assert_non_null(want);
	if (conf_load_file(c, DPNAT_SRCDIR "/config/kb-lab.conf", err, sizeof(err)) != 0)
		fail_msg("kb-lab.conf: %s", err);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		struct cli_strbuf sb;
		struct cli_out out;
		size_t wl = 0;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (w != NULL && (line[0] == '#' || is_request(line)))
			fprintf(w, "%s\n", line);
		if (!is_request(line))
			continue;
		/* The expected answer: the lines up to the next request or comment. */
		want[0] = '\0';
		while (next != NULL && *next != '\0' && *next != '#' && !is_request(next)) {
			char *nl = strchr(next, '\n');
			size_t l = nl != NULL ? (size_t)(nl - next) + 1 : strlen(next);

			memcpy(want + wl, next, l);
			wl += l;
			want[wl] = '\0';
			next = nl != NULL ? nl + 1 : NULL;
		}
		cli_out_strbuf(&out, &sb, got, 1 << 16);
		golden_answer(c, line, &out);
		if (w != NULL)
			fputs(got, w);
		else if (strcmp(got, want) != 0)
			fail_msg("%s\n--- want\n%s--- got\n%s", line, want, got);
		n++;
	}
	if (w != NULL) {
		fclose(w);
		assert_int_equal(rename(GOLDEN ".new", GOLDEN), 0);
	}
	assert_true(n >= 20);
	free(text);
	free(got);
	free(want);
	free(c);
}

/* The grammar's own checks, and every word a line refuses is named with its column. */
static void
test_grammar_table(void **state)
{
	struct conf *c = new_conf();
	char err[CONF_ERR_LEN];

	(void)state;
	assert_int_equal(cli_table_check(conf_grammar(), err, sizeof(err)), 0);
	/* Prefixes read as the keyword, through the grammar, in a file too. */
	assert_int_equal(conf_load_string(c, "p", "set sess max 5\nset int e1 mtu 1400\n"
					  "set alg pptp x per 9\n", err, sizeof(err)), 0);
	assert_int_equal(c->limits.sessions, 5);
	assert_int_equal(conf_iface_find(c, "e1")->mtu, 1400);
	assert_int_equal(c->limits.pptp_per_client, 9);
	/* The grammar reads addresses as the file always has: leading zeros are decimal (fuzz_conf). */
	assert_int_equal(conf_load_string(c, "z", "set arp 172.09.50.1 00:11:22:33:44:55 e1\n"
					  "set route 10.01.0.0/16 interface e1 gateway 010.0.0.1\n",
					  err, sizeof(err)), 0);
	assert_int_equal(c->arps[0].ip, IP(172, 9, 50, 1));
	assert_int_equal(c->routes[0].gateway, IP(10, 0, 0, 1));
	assert_int_equal(conf_grammar_disagreements(), 0);
	/* An ambiguous prefix is refused, naming the word and its column. */
	assert_int_equal(conf_load_string(c, "p", "\nset session timeout tcp- 5\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "p:2:21: "));
	assert_non_null(strstr(err, "\"tcp-\""));
	assert_int_equal(conf_load_string(c, "p.conf", "set arp 10.0.0.1 02:00:00:00:00:01 e1\n"
					  "set interface e1 mtu 99999\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "p.conf:2:22: "));
	assert_non_null(strstr(err, "\"99999\""));
	assert_int_equal(conf_load_string(c, "p.conf", "set session timeout t 5\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "p.conf:1:21: "));
	assert_non_null(strstr(err, "\"t\""));
	free(c);
}

/* docs/configuration.md's Grammar section is the grammar, word for word. */
static void
test_grammar_docs(void **state)
{
	char *doc = slurp(DPNAT_SRCDIR "/docs/configuration.md"), *got = malloc(1 << 16);
	const char *start, *end;
	struct cli_strbuf sb;
	struct cli_out out;
	char *p, *o;

	(void)state;
	assert_non_null(doc);
	assert_non_null(got);
	cli_out_strbuf(&out, &sb, got, 1 << 16);
	assert_int_equal(cli_list_commands(conf_grammar(), &out), 0);
	/* The section's code block, its 4-space indent removed. */
	start = strstr(doc, "\n## Grammar\n");
	assert_non_null(start);
	start = strstr(start, "\n    ");
	assert_non_null(start);
	end = strstr(start, "\n\n#");
	assert_non_null(end);
	for (p = (char *)start + 1, o = doc; p <= end; ) {
		char *nl = memchr(p, '\n', (size_t)(end - p) + 1);

		if (nl == NULL)
			break;
		if (strncmp(p, "    ", 4) == 0)
			p += 4;
		memmove(o, p, (size_t)(nl - p) + 1);
		o += nl - p + 1;
		p = nl + 1;
	}
	*o = '\0';
	while (o > doc && o[-1] == '\n' && o - 1 > doc && o[-2] == '\n')
		*--o = '\0';
	if (strcmp(doc, got) != 0)
		fail_msg("docs/configuration.md's Grammar section differs from conf_grammar.h; it should read:\n%s", got);
	free(doc);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_kb_file),
		cmocka_unit_test(test_kb_file_matches_article),
		cmocka_unit_test(test_sample_file),
		cmocka_unit_test(test_kb_inline),
		cmocka_unit_test(test_every_statement),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_nat_behaviour),
		cmocka_unit_test(test_quoted_names),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_replace_keeps_position),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_limits_bounds),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_ip_helpers),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_grammar_table),
		cmocka_unit_test(test_grammar_golden),
		cmocka_unit_test(test_grammar_docs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
