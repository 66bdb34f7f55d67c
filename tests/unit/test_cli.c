/* SPDX-License-Identifier: BSD-3-Clause */
/* The CLI grammar engine, its help and completion, and the socket framing (lib/cli/cli.h). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

/* ---- a small command table ---- */

static int h_dump(const struct cli_args *a, struct cli_out *out, void *ctx);
static int h_fail(const struct cli_args *a, struct cli_out *out, void *ctx);
static int h_help(const struct cli_args *a, struct cli_out *out, void *ctx);

static const struct cli_cmd cmds[] = {
	{ "get session [id <u32>] [src-ip <ip/mask>] [dst-ip <ip/mask>] [src-port <port>] "
	  "[dst-port <port>] [protocol <proto>]", "show sessions", h_dump, "session" },
	{ "get statistics", "show statistics", h_dump, "statistics" },
	{ "get interface [<name>]", "show interfaces", h_dump, "interface" },
	{ "get interface-summary", "one line per interface", h_dump, "interface-summary" },
	{ "get route [ip <ip>]", "show routes", h_dump, "route" },
	{ "get routes-summary", "route counts", h_dump, "routes-summary" },
	{ "get alg [pptp [xlate]]", "show ALGs", h_dump, "alg" },
	{ "get fail", "a command that fails", h_fail, "fail" },
	{ "clear session [all]", "clear sessions", h_dump, "clear" },
	{ "clear counter [all | interface <name:ifname>]", "an optional choice", h_dump, "counter" },
	{ "show {all | <name:thing>}", "a required choice", h_dump, "show" },
	{ "exec {ping | trace} <ip:target> [count <u32>]", "probe", h_dump, "exec" },
	{ "set <rest>", "change the configuration", h_dump, "set" },
	{ "unset <rest:line>", "undo a configuration line", h_dump, "unset" },
	{ "help", "list commands", h_help, "help" },
};

static const struct cli_word_help words[] = {
	{ "get", "show things" },
	{ "session", "session table" },
	{ "statistics", "counters" },
	{ "interface", "interfaces" },
	{ "interface-summary", "interface summary" },
	{ "route", "routing table" },
	{ "routes-summary", "routing summary" },
	{ "alg", "application layer gateways" },
	{ "pptp", "PPTP ALG" },
	{ "xlate", "call id translations" },
	{ "fail", "fails" },
	{ "clear", "clear things" },
	{ "counter", "counters" },
	{ "all", "everything" },
	{ "show", "show a thing" },
	{ "exec", "run a probe" },
	{ "ping", "ICMP echo" },
	{ "trace", "traceroute" },
	{ "count", "how many probes" },
	{ "set", "configure" },
	{ "unset", "unconfigure" },
	{ "help", "this list" },
	{ "id", "by session id" },
	{ "src-ip", "by source address" },
	{ "dst-ip", "by destination address" },
	{ "src-port", "by source port" },
	{ "dst-port", "by destination port" },
	{ "protocol", "by IP protocol" },
	{ "ip", "by destination" },
	{ "<id>", "session id" },
	{ "<interface>", "interface name" },
};

static const struct cli_table table = {
	.cmds = cmds, .n_cmds = sizeof(cmds) / sizeof(cmds[0]),
	.words = words, .n_words = sizeof(words) / sizeof(words[0]),
};

static void *handler_ctx;

/* Prints what the accessors see, in one canonical line. */
static int
h_dump(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	static const char *const keys[] = {
		"id", "src-ip", "dst-ip", "src-port", "dst-port", "protocol", "interface",
		"ip", "pptp", "xlate", "all", "thing", "ping", "trace", "target", "count", "ifname",
	};
	size_t i;

	handler_ctx = ctx;
	cli_printf(out, "%s:", (const char *)cli_arg_cmd(a)->data);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint32_t ip;
		uint8_t plen;
		const char *s;

		if (!cli_arg_present(a, keys[i]))
			continue;
		s = cli_arg_str(a, keys[i]);
		if (cli_arg_ip(a, keys[i], &ip, &plen) == 0)
			cli_printf(out, " %s=%u.%u.%u.%u/%u", keys[i], ip >> 24, (ip >> 16) & 255,
				   (ip >> 8) & 255, ip & 255, plen);
		else if (s != NULL && strcmp(keys[i], "interface") != 0 && strcmp(keys[i], "thing") != 0 &&
			 strcmp(keys[i], "ifname") != 0)
			cli_printf(out, " %s=%u", keys[i], cli_arg_u32(a, keys[i]));
		else if (s != NULL)
			cli_printf(out, " %s=[%s]", keys[i], s);
		else
			cli_printf(out, " %s", keys[i]);
	}
	if (cli_arg_rest(a) != NULL)
		cli_printf(out, " rest=[%s]", cli_arg_rest(a));
	cli_printf(out, "\n");
	return 0;
}

static int
h_fail(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	(void)a;
	(void)ctx;
	cli_printf(out, "it failed\n");
	return -1;
}

static int
h_help(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	(void)ctx;
	return cli_list_commands(cli_arg_table(a), out);
}

static char outbuf[1 << 16];

/* Run line; return the status and leave the text in outbuf. */
static int
run(const char *line)
{
	struct cli_strbuf sb;
	struct cli_out out;
	int rc;

	cli_out_strbuf(&out, &sb, outbuf, sizeof(outbuf));
	rc = cli_execute(&table, line, &out, (void *)&table);
	assert_false(sb.truncated);
	return rc;
}

struct case_ {
	const char *line;
	int rc;
	const char *out;
};

static void
run_cases(const struct case_ *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int rc = run(c[i].line);

		if (rc != c[i].rc || strcmp(outbuf, c[i].out) != 0)
			fail_msg("line \"%s\": rc %d, output:\n%s\nexpected rc %d, output:\n%s",
				 c[i].line, rc, outbuf, c[i].rc, c[i].out);
	}
}

#define RUN_CASES(c) run_cases(c, sizeof(c) / sizeof(c[0]))

/* ---- the table itself ---- */

static void
test_table_check(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(cli_table_check(&table, err, sizeof(err)), 0);
}

static void
test_table_check_rejects(void **state)
{
	static const struct {
		const char *syntax;
		const char *why;
	} bad[] = {
		{ "get [session", "missing ']'" },
		{ "get session]", "unbalanced closing bracket" },
		{ "get {session | all", "missing '}'" },
		{ "get <bogus>", "unknown argument type" },
		{ "get <u32", "'<' without '>'" },
		{ "get u32>", "'>' without '<'" },
		{ "set <rest> all", "<rest> must be the last element" },
		{ "set [<rest>]", "<rest> must be the last element" },
		{ "<u32> get", "a command must start with a keyword" },
		{ "", "empty syntax" },
		{ "get []", "empty group or alternative" },
		{ "get {all | }", "empty group or alternative" },
		{ "get | all", "'|' outside a group" },
		{ "get nohelp", "keyword \"nohelp\" has no help text" },
		/* ranges are for <number> and need LO <= HI */
		{ "get <number 5-1>", "bad range" },
		{ "get <u32 1-5>", "bad range" },
		{ "get <number x-5>", "bad range" },
		{ "get <number 5>", "bad range" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cli_cmd c = { bad[i].syntax, "x", h_dump, NULL };
		struct cli_table t = { .cmds = &c, .n_cmds = 1, .words = words,
			       .n_words = sizeof(words) / sizeof(words[0]) };
		char err[256] = "";

		assert_int_equal(cli_table_check(&t, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].syntax, err, bad[i].why);
	}
}

/*
 * Compiled grammars are kept and found again by the table's text: a table
 * rewritten in place (same addresses, new syntax) must be read anew, and
 * more tables than are kept must still work.
 */
static void
test_tables_recompiled(void **state)
{
	static const char *const kw[] = { "get", "set", "unset", "help", "count", "id", "src-ip",
					  "dst-ip", "src-port", "dst-port", "protocol", "ip" };
	char syntax[64], line[64], want[64];
	struct cli_cmd c = { syntax, "x", h_dump, NULL };
	struct cli_table t = { .cmds = &c, .n_cmds = 1, .words = words,
			       .n_words = sizeof(words) / sizeof(words[0]) };
	struct cli_strbuf sb;
	struct cli_out out;
	size_t n = sizeof(kw) / sizeof(kw[0]), i;

	(void)state;
	for (i = 0; i < 3 * n; i++) {
		const char *k = kw[i % n], *prev = kw[(i + n - 1) % n];

		snprintf(syntax, sizeof(syntax), "%s <u32:id>", k);
		c.data = k;
		snprintf(line, sizeof(line), "%s %zu", k, i);
		snprintf(want, sizeof(want), " id=%zu", i);
		cli_out_strbuf(&out, &sb, outbuf, sizeof(outbuf));
		assert_int_equal(cli_execute(&t, line, &out, NULL), 0);
		/* "<keyword>:", the keyword itself if h_dump knows it, then the id. */
		assert_true(strncmp(outbuf, k, strlen(k)) == 0 && outbuf[strlen(k)] == ':');
		assert_non_null(strstr(outbuf, want));
		snprintf(line, sizeof(line), "%s 1", prev);
		cli_out_strbuf(&out, &sb, outbuf, sizeof(outbuf));
		assert_int_equal(cli_execute(&t, line, &out, NULL), -1);
		cli_out_strbuf(&out, &sb, outbuf, sizeof(outbuf));
		assert_int_equal(cli_complete(&t, "", &out), 1);
		snprintf(want, sizeof(want), "%s\n", k);
		assert_string_equal(outbuf, want);
	}
	/* The main table still answers as before. */
	assert_int_equal(run("get session id 7"), 0);
}

/* ---- words: prefixes, case, ambiguity ---- */

static void
test_prefixes(void **state)
{
	static const struct case_ c[] = {
		{ "get session", 0, "session:\n" },
		{ "g sess", 0, "session:\n" },
		{ "GET Session", 0, "session:\n" },
		{ "   get    session   ", 0, "session:\n" },
		{ "get st", 0, "statistics:\n" },
		{ "get s", -1, "ambiguous keyword \"s\" at position 2; could be: session, statistics\n" },
		/* An exact keyword beats the longer keyword it is a prefix of. */
		{ "get interface", 0, "interface: interface\n" },
		{ "get route", 0, "route:\n" },
		{ "get route ip 10.0.0.1", 0, "route: ip=10.0.0.1/32\n" },
		{ "get routes", 0, "routes-summary:\n" },
		{ "get interface-s", 0, "interface-summary:\n" },
		{ "get interf", -1,
		  "ambiguous keyword \"interf\" at position 2; could be: interface, interface-summary\n" },
		/* The words after an ambiguous prefix settle it when only one reading parses. */
		{ "get sess dst 1723", 0, "session: dst-port=1723\n" },
		{ "get sess dst 1.2.3.0/24", 0, "session: dst-ip=1.2.3.0/24\n" },
		{ "get sess src 1.2.3.4 dst 80", 0, "session: src-ip=1.2.3.4/32 dst-port=80\n" },
		{ "get sess dst tcp", -1,
		  "invalid value \"tcp\" at position 4; expected one of: <ip/mask>, <port>\n" },
		{ "get sesion", -1,
		  "unknown keyword \"sesion\" at position 2; expected one of: alg, fail, interface, "
		  "interface-summary, route, routes-summary, session, statistics\n" },
		{ "bogus", -1,
		  "unknown keyword \"bogus\" at position 1; expected one of: clear, exec, get, help, "
		  "set, show, unset\n" },
		{ "get alg p x", 0, "alg: pptp xlate\n" },
		{ "get alg xlate", -1,
		  "unknown keyword \"xlate\" at position 3; expected one of: pptp, <return>\n" },
		/* A quoted word is never a keyword. */
		{ "get \"session\"", -1,
		  "unknown keyword \"session\" at position 2; expected one of: alg, fail, interface, "
		  "interface-summary, route, routes-summary, session, statistics\n" },
		{ "", 0, "" },
		{ "   ", 0, "" },
		{ "get", -1,
		  "incomplete command; expected one of: alg, fail, interface, interface-summary, route, "
		  "routes-summary, session, statistics\n" },
		{ "get fail", -1, "it failed\n" },
		{ "get session id 1 extra", -1,
		  "unknown keyword \"extra\" at position 5; expected one of: dst-ip, dst-port, protocol, "
		  "src-ip, src-port, <return>\n" },
		{ "get statistics now", -1,
		  "unknown keyword \"now\" at position 3; expected end of command\n" },
		/* Control bytes in a bad word are shown escaped, long words cut. */
		{ "get a\x02z", -1,
		  "unknown keyword \"a\\x02z\" at position 2; expected one of: alg, fail, interface, "
		  "interface-summary, route, routes-summary, session, statistics\n" },
	};

	(void)state;
	RUN_CASES(c);
}

/* A single keyword reading beats argument readings; a required choice must be made. */
static void
test_keyword_beats_argument(void **state)
{
	static const struct case_ c[] = {
		{ "show all", 0, "show: all\n" },
		{ "show a", 0, "show: all\n" },
		{ "show b", 0, "show: thing=[b]\n" },
		{ "show \"all\"", 0, "show: thing=[all]\n" },
		{ "show", -1, "incomplete command; expected one of: all, <name>\n" },
		/* "ip" finds the <ip:target> slot by its type name. */
		{ "exec ping 10.1.1.1", 0, "exec: ip=10.1.1.1/32 ping target=10.1.1.1/32\n" },
		{ "exec t 10.1.1.1 count 3", 0, "exec: ip=10.1.1.1/32 trace target=10.1.1.1/32 count=3\n" },
		{ "exec 10.1.1.1", -1,
		  "unknown keyword \"10.1.1.1\" at position 2; expected one of: ping, trace\n" },
		{ "exec ping", -1, "incomplete command; expected one of: <ip>\n" },
	};

	(void)state;
	RUN_CASES(c);
}

/* ---- optional groups ---- */

static void
test_optional_groups(void **state)
{
	static const struct case_ c[] = {
		{ "get session id 7", 0, "session: id=7\n" },
		{ "get session protocol gre id 7", 0, "session: id=7 protocol=47\n" },
		{ "get session dst-port 1723 src-ip 10.0.0.0/8 id 9 protocol tcp dst-ip 1.1.1.1 "
		  "src-port 2249", 0,
		  "session: id=9 src-ip=10.0.0.0/8 dst-ip=1.1.1.1/32 src-port=2249 dst-port=1723 "
		  "protocol=6\n" },
		{ "get session src-port 1 dst-port 2", 0, "session: src-port=1 dst-port=2\n" },
		{ "get session dst-port 2 src-port 1", 0, "session: src-port=1 dst-port=2\n" },
		/* Each group at most once. */
		{ "get session id 5 id 6", -1,
		  "unknown keyword \"id\" at position 5; expected one of: dst-ip, dst-port, protocol, "
		  "src-ip, src-port, <return>\n" },
		{ "get session id", -1, "incomplete command; expected one of: <u32>\n" },
		{ "get alg", 0, "alg:\n" },
		{ "get alg pptp", 0, "alg: pptp\n" },
		{ "clear session", 0, "clear:\n" },
		{ "clear session all", 0, "clear: all\n" },
		{ "clear session all all", -1,
		  "unknown keyword \"all\" at position 4; expected end of command\n" },
		/* An optional choice: either branch, or none, but not both. */
		{ "clear counter", 0, "counter:\n" },
		{ "clear counter all", 0, "counter: all\n" },
		{ "clear counter int \"eth 0\"", 0, "counter: interface ifname=[eth 0]\n" },
		{ "clear counter all interface x", -1,
		  "unknown keyword \"interface\" at position 4; expected end of command\n" },
		{ "clear counter interface", -1, "incomplete command; expected one of: <name>\n" },
	};

	(void)state;
	RUN_CASES(c);
}

/* ---- argument types ---- */

static void
test_arg_types(void **state)
{
	static const struct case_ c[] = {
		{ "get session id 0", 0, "session: id=0\n" },
		{ "get session id 4294967295", 0, "session: id=4294967295\n" },
		{ "get session id 007", 0, "session: id=7\n" },
		{ "get session id 4294967296", -1,
		  "invalid value \"4294967296\" at position 4; expected <u32>: session id\n" },
		{ "get session id -1", -1,
		  "invalid value \"-1\" at position 4; expected <u32>: session id\n" },
		{ "get session id 12a", -1,
		  "invalid value \"12a\" at position 4; expected <u32>: session id\n" },
		{ "get session dst-port 0", 0, "session: dst-port=0\n" },
		{ "get session dst-port 65535", 0, "session: dst-port=65535\n" },
		{ "get session dst-port 65536", -1,
		  "invalid value \"65536\" at position 4; expected <port>: port number 0-65535\n" },
		{ "get route ip 255.255.255.255", 0, "route: ip=255.255.255.255/32\n" },
		{ "get route ip 1.2.3", -1,
		  "invalid value \"1.2.3\" at position 4; expected <ip>: IPv4 address a.b.c.d\n" },
		{ "get route ip 1.2.3.256", -1,
		  "invalid value \"1.2.3.256\" at position 4; expected <ip>: IPv4 address a.b.c.d\n" },
		{ "get route ip 1.2.3.4/24", -1,
		  "invalid value \"1.2.3.4/24\" at position 4; expected <ip>: IPv4 address a.b.c.d\n" },
		{ "get route ip 01.2.3.4", -1,
		  "invalid value \"01.2.3.4\" at position 4; expected <ip>: IPv4 address a.b.c.d\n" },
		{ "get session src-ip 1.2.3.0/24", 0, "session: src-ip=1.2.3.0/24\n" },
		{ "get session src-ip 0.0.0.0/0", 0, "session: src-ip=0.0.0.0/0\n" },
		{ "get session src-ip 1.2.3.4", 0, "session: src-ip=1.2.3.4/32\n" },
		{ "get session src-ip 1.2.0.0/255.255.0.0", 0, "session: src-ip=1.2.0.0/16\n" },
		{ "get session src-ip 1.2.3.0/33", -1,
		  "invalid value \"1.2.3.0/33\" at position 4; expected <ip/mask>: IPv4 address "
		  "a.b.c.d, or prefix a.b.c.d/len\n" },
		{ "get session src-ip 1.2.3.0/255.0.255.0", -1,
		  "invalid value \"1.2.3.0/255.0.255.0\" at position 4; expected <ip/mask>: IPv4 "
		  "address a.b.c.d, or prefix a.b.c.d/len\n" },
		{ "get session src-ip 1.2.3.0/", -1,
		  "invalid value \"1.2.3.0/\" at position 4; expected <ip/mask>: IPv4 address "
		  "a.b.c.d, or prefix a.b.c.d/len\n" },
		{ "get session protocol tcp", 0, "session: protocol=6\n" },
		{ "get session protocol UDP", 0, "session: protocol=17\n" },
		{ "get session protocol icmp", 0, "session: protocol=1\n" },
		{ "get session protocol gre", 0, "session: protocol=47\n" },
		{ "get session protocol 255", 0, "session: protocol=255\n" },
		{ "get session protocol 256", -1,
		  "invalid value \"256\" at position 4; expected <proto>: IP protocol 0-255, or tcp, "
		  "udp, icmp, gre\n" },
		{ "get session protocol tcpx", -1,
		  "invalid value \"tcpx\" at position 4; expected <proto>: IP protocol 0-255, or tcp, "
		  "udp, icmp, gre\n" },
		{ "get interface ethernet4/1", 0, "interface: interface=[ethernet4/1]\n" },
	};

	(void)state;
	RUN_CASES(c);
}

/* Names quoted or not; quotes may hold blanks, escaped quotes, keywords. */
static void
test_quoted_names(void **state)
{
	static const struct case_ c[] = {
		{ "get interface \"ethernet4/1\"", 0, "interface: interface=[ethernet4/1]\n" },
		{ "get interface \"my if\"", 0, "interface: interface=[my if]\n" },
		{ "get interface \"a \\\"b\\\" c\\\\\"", 0, "interface: interface=[a \"b\" c\\]\n" },
		{ "get interface eth\"0 1\"", 0, "interface: interface=[eth0 1]\n" },
		{ "get interface \"session\"", 0, "interface: interface=[session]\n" },
		{ "get interface \"eth0", -1, "unterminated quote at position 3\n" },
		{ "get interface \"\"", -1,
		  "invalid value \"\" at position 3; expected one of: <name>, <return>\n" },
	};

	(void)state;
	RUN_CASES(c);
}

/* Accessors: keys, type-name fallback, absent values, the context pointer. */
static void
test_accessors(void **state)
{
	(void)state;
	handler_ctx = NULL;
	assert_int_equal(run("get interface \"x y\""), 0);
	assert_ptr_equal(handler_ctx, &table);
	/* Rest keeps the raw text, quotes included; key "rest" and the type name both find it. */
	assert_int_equal(run("set interface \"ethernet4/1\" zone \"Untrust\"  "), 0);
	assert_string_equal(outbuf, "set: rest=[interface \"ethernet4/1\" zone \"Untrust\"]\n");
	assert_int_equal(run("unset interface ethernet4/2 nat"), 0);
	assert_string_equal(outbuf, "unset: rest=[interface ethernet4/2 nat]\n");
	/* A keyword that is also a command word elsewhere goes to rest unchanged. */
	assert_int_equal(run("set session \"x\" ?"), 0);
	assert_string_equal(outbuf, "<rest>        the rest of the line\n<return>\n");
	assert_int_equal(run("set"), -1);
	assert_string_equal(outbuf, "incomplete command; expected one of: <rest>\n");
}

/* ---- help ---- */

static void
test_help(void **state)
{
	static const struct case_ c[] = {
		{ "?", 0,
		  "clear         clear things\n"
		  "exec          run a probe\n"
		  "get           show things\n"
		  "help          this list\n"
		  "set           configure\n"
		  "show          show a thing\n"
		  "unset         unconfigure\n" },
		{ "get se?", 0, "session       session table\n" },
		{ "get s?", 0, "session       session table\nstatistics    counters\n" },
		{ "g?", 0, "get           show things\n" },
		{ "get session ?", 0,
		  "dst-ip        by destination address\n"
		  "dst-port      by destination port\n"
		  "id            by session id\n"
		  "protocol      by IP protocol\n"
		  "src-ip        by source address\n"
		  "src-port      by source port\n"
		  "<return>\n" },
		{ "get session dst-port 1723 id 5 ?", 0,
		  "dst-ip        by destination address\n"
		  "protocol      by IP protocol\n"
		  "src-ip        by source address\n"
		  "src-port      by source port\n"
		  "<return>\n" },
		{ "get session id ?", 0, "<u32>         session id\n" },
		{ "get session id 12?", 0, "<u32>         session id\n" },
		{ "get session dst-port ?", 0, "<port>        port number 0-65535\n" },
		{ "get interface ?", 0, "<name>        interface name\n<return>\n" },
		{ "show ?", 0, "all           everything\n<name>        a name; quote it if it has blanks\n" },
		{ "get alg pptp xlate ?", 0, "<return>\n" },
		{ "get xyz?", -1,
		  "unknown keyword \"xyz\" at position 2; expected one of: alg, fail, interface, "
		  "interface-summary, route, routes-summary, session, statistics\n" },
		{ "get sesion ?", -1,
		  "unknown keyword \"sesion\" at position 2; expected one of: alg, fail, interface, "
		  "interface-summary, route, routes-summary, session, statistics\n" },
		/* A '?' inside quotes is just a character. */
		{ "get interface \"what?\"", 0, "interface: interface=[what?]\n" },
	};

	(void)state;
	RUN_CASES(c);
}

static void
test_list_commands(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(run("help"), 0);
	for (i = 0; i < table.n_cmds; i++) {
		char want[512];

		snprintf(want, sizeof(want), "%s\n    %s\n", cmds[i].syntax, cmds[i].help);
		assert_non_null(strstr(outbuf, want));
	}
}

/* ---- completion ---- */

static void
test_complete(void **state)
{
	static const struct {
		const char *line;
		int n;
		const char *out;
	} c[] = {
		{ "", 7, "clear\nexec\nget\nhelp\nset\nshow\nunset\n" },
		{ "g", 1, "get\n" },
		{ "get s", 2, "session\nstatistics\n" },
		{ "get S", 2, "session\nstatistics\n" },
		{ "get session d", 2, "dst-ip\ndst-port\n" },
		{ "get session ", 6, "dst-ip\ndst-port\nid\nprotocol\nsrc-ip\nsrc-port\n" },
		{ "get session dst-port 1723 ", 5, "dst-ip\nid\nprotocol\nsrc-ip\nsrc-port\n" },
		{ "get interface", 2, "interface\ninterface-summary\n" },
		{ "get session id ", 0, "" },
		{ "get session z", 0, "" },
		{ "get sesion ", -1, "" },
		{ "get \"", -1, "" },
		{ "exec ", 2, "ping\ntrace\n" },
		{ "show ", 1, "all\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct cli_strbuf sb;
		struct cli_out out;
		int n;

		cli_out_strbuf(&out, &sb, outbuf, sizeof(outbuf));
		n = cli_complete(&table, c[i].line, &out);
		if (n != c[i].n || strcmp(outbuf, c[i].out) != 0)
			fail_msg("complete \"%s\": %d\n%s", c[i].line, n, outbuf);
	}
	/* The protocol's request form, through cli_execute. */
	assert_int_equal(run("\x01" "complete get s"), 0);
	assert_string_equal(outbuf, "session\nstatistics\n");
	assert_int_equal(run("\x01" "complete get sesion x"), 0);
	assert_string_equal(outbuf, "");
	assert_int_equal(run("\x01" "bogus"), -1);
}

/* ---- references for random inputs ---- */

static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Random short strings of digits, dots and slashes: <ip> agrees with inet_pton. */
static void
test_ip_random_vs_inet_pton(void **state)
{
	static const char alphabet[] = "0123456789....5521x";
	unsigned i, accepted = 0;

	(void)state;
	for (i = 0; i < 200000; i++) {
		char s[24], line[64], want[64];
		unsigned len = 1 + rnd() % 16, k;
		struct in_addr a;
		int ok;

		for (k = 0; k < len; k++)
			s[k] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		s[len] = '\0';
		if (i % 4 == 0)   /* many well-formed ones too */
			snprintf(s, sizeof(s), "%u.%u.%u.%u", rnd() % 300, rnd() % 260, rnd() % 256,
				 rnd() % 256);
		ok = inet_pton(AF_INET, s, &a) == 1;
		snprintf(line, sizeof(line), "get route ip %s", s);
		if (run(line) != (ok ? 0 : -1))
			fail_msg("\"%s\": inet_pton says %d, cli says:\n%s", s, ok, outbuf);
		if (ok) {
			uint32_t h = ntohl(a.s_addr);

			snprintf(want, sizeof(want), "route: ip=%u.%u.%u.%u/32\n", h >> 24,
				 (h >> 16) & 255, (h >> 8) & 255, h & 255);
			assert_string_equal(outbuf, want);
			accepted++;
		}
	}
	assert_true(accepted > 40000);
}

/* Random digit strings: <u32> and <port> agree with strtoull range checks. */
static void
test_numbers_random_vs_strtoull(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		char s[24], line[64], want[64];
		unsigned len = 1 + rnd() % 12, k;
		unsigned long long v;
		int bad = 0;

		for (k = 0; k < len; k++)
			s[k] = (char)('0' + rnd() % 10);
		s[len] = '\0';
		if (rnd() % 16 == 0)
			s[rnd() % len] = "x-+z"[rnd() % 4];
		for (k = 0; k < len; k++)
			bad |= s[k] < '0' || s[k] > '9';
		v = strtoull(s, NULL, 10);
		snprintf(line, sizeof(line), "get session id %s", s);
		if (!bad && v <= UINT32_MAX) {
			assert_int_equal(run(line), 0);
			snprintf(want, sizeof(want), "session: id=%llu\n", v);
			assert_string_equal(outbuf, want);
		} else {
			assert_int_equal(run(line), -1);
		}
		snprintf(line, sizeof(line), "get session src-port %s", s);
		assert_int_equal(run(line), !bad && v <= 65535 ? 0 : -1);
	}
}

/* ---- output sinks ---- */

static void
test_output_sink(void **state)
{
	char small[16], big[2048];
	struct cli_strbuf sb;
	struct cli_out out;
	int i;

	(void)state;
	cli_out_strbuf(&out, &sb, small, sizeof(small));
	assert_int_equal(cli_printf(&out, "%s-%d", "ab", 12), 5);
	assert_string_equal(small, "ab-12");
	assert_false(sb.truncated);
	/* Filling it: what fits is kept, NUL-terminated, and the sink reports failure. */
	assert_int_equal(cli_printf(&out, "%s", "0123456789abcdef"), -1);
	assert_true(sb.truncated);
	assert_true(out.failed);
	assert_int_equal(sb.len, sizeof(small) - 1);
	assert_string_equal(small, "ab-120123456789");
	/* After a failure nothing more is written. */
	assert_int_equal(cli_write(&out, "x", 1), -1);
	assert_int_equal(sb.len, sizeof(small) - 1);

	/* Longer than cli_printf's stack buffer. */
	cli_out_strbuf(&out, &sb, big, sizeof(big));
	assert_int_equal(cli_printf(&out, "%1500s|", "end"), 1501);
	assert_int_equal(sb.len, 1501);
	assert_memory_equal(big + 1497, "end|", 4);
	for (i = 0; i < 1497; i++)
		assert_int_equal(big[i], ' ');
	/* Frames bypass a failed state (the answer must still end) and clear it. */
	cli_out_strbuf(&out, &sb, big, sizeof(big));
	out.failed = true;
	assert_int_equal(cli_frame_end(&out, -1), 0);
	assert_false(out.failed);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(big, "\0" "1\n", 3);
	assert_int_equal(cli_frame_end(&out, 0), 0);
	assert_memory_equal(big + 3, "\0" "0\n", 3);
}

/* ---- framing ---- */

/* A growing capture of framed answers. */
struct capture {
	char *buf;
	size_t len, cap;
	unsigned frames;
};

static int
cap_write(void *arg, const char *buf, size_t len)
{
	struct capture *c = arg;
	size_t i;

	for (i = 0; i < len; i++)
		c->frames += buf[i] == '\0';
	if (c->buf == NULL)
		return 0;   /* count only */
	if (c->len + len > c->cap)
		return -1;
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return 0;
}

static unsigned n_run;

/* Echoes the line; "fail" fails. */
static int
echo_line(void *arg, const char *line, struct cli_out *out)
{
	(void)arg;
	n_run++;
	cli_printf(out, "[%s]", line);
	return strcmp(line, "fail") == 0 ? -1 : 0;
}

static int
exec_line(void *arg, const char *line, struct cli_out *out)
{
	return cli_execute(arg, line, out, NULL);
}

static char capbuf[1 << 20];

static void
cap_init(struct capture *c, struct cli_out *out)
{
	memset(c, 0, sizeof(*c));
	c->buf = capbuf;
	c->cap = sizeof(capbuf);
	out->write = cap_write;
	out->arg = c;
	out->failed = false;
}

#define FEED(conn, s, out) cli_conn_feed(conn, s, sizeof(s) - 1, echo_line, NULL, out)

/* A streamed answer: "slices" left by stream_line, one number per slice, 3 of them. */
struct slices {
	int left;
	int released;   /* next() called without an output: the client left */
};

static int
slice_next(void *state, struct cli_out *out)
{
	struct slices *sl = state;

	if (out == NULL) {
		sl->released++;
		return 1;
	}
	cli_printf(out, "<%d>", sl->left);
	return --sl->left == 0 ? 1 : 0;
}

static struct slices slices;

/* "stream" and "stream-fail" leave a stream of 3 slices after a head; other lines echo. */
static int
stream_line(void *arg, const char *line, struct cli_out *out)
{
	(void)arg;
	if (strncmp(line, "stream", 6) != 0)
		return echo_line(NULL, line, out);
	cli_printf(out, "head");
	slices.left = 3;
	if (cli_out_stream(out, slice_next, &slices) != 0)
		cli_printf(out, "(at once)");
	return strcmp(line, "stream-fail") == 0 ? -1 : 0;
}

/* lib/cli carries a handler's stream: framed once it ends, later lines wait for it. */
static void
test_conn_stream(void **state)
{
	static const char two[] = "stream\nnext\n";
	static struct cli_conn conn;
	struct capture cap;
	struct cli_out out;

	(void)state;
	cli_conn_init(&conn);
	cap_init(&cap, &out);
	out.stream = NULL;
	memset(&slices, 0, sizeof(slices));
	/* The line that streams ends the feed: "next" is not taken yet. */
	assert_int_equal(cli_conn_feed(&conn, two, 7, stream_line, NULL, &out), 2);
	assert_true(cli_conn_streaming(&conn));
	assert_null(out.stream);
	assert_int_equal(cap.len, 4);
	assert_memory_equal(cap.buf, "head", 4);
	/* Nothing more runs while it streams. */
	assert_int_equal(cli_conn_feed(&conn, two + 7, 5, stream_line, NULL, &out), 2);
	assert_int_equal(cap.len, 4);
	assert_int_equal(cli_conn_stream_next(&conn, &out), 0);
	assert_int_equal(cli_conn_stream_next(&conn, &out), 0);
	assert_int_equal(cli_conn_stream_next(&conn, &out), 1);
	assert_false(cli_conn_streaming(&conn));
	assert_int_equal(cap.len, 16);
	assert_memory_equal(cap.buf, "head<3><2><1>\0" "0\n", 16);
	assert_int_equal(cli_conn_stream_next(&conn, &out), 1);
	assert_int_equal(cli_conn_feed(&conn, two + 7, 5, stream_line, NULL, &out), 0);
	assert_int_equal(cap.len, 16 + 9);
	assert_memory_equal(cap.buf + 16, "[next]\0" "0\n", 9);
	/* The handler's status is the answer's, sent at the end. */
	cap.len = 0;
	assert_int_equal(cli_conn_feed(&conn, "stream-fail\n", 12, stream_line, NULL, &out), 2);
	while (cli_conn_stream_next(&conn, &out) == 0)
		;
	assert_memory_equal(cap.buf, "head<3><2><1>\0" "1\n", 16);
	/* A client that leaves mid-stream: the state is released once. */
	assert_int_equal(cli_conn_feed(&conn, "stream\n", 7, stream_line, NULL, &out), 2);
	cli_conn_release(&conn);
	cli_conn_release(&conn);
	assert_int_equal(slices.released, 1);
	assert_false(cli_conn_streaming(&conn));
	/* An output that takes no stream: the handler answers at once. */
	cap.len = 0;
	assert_int_equal(stream_line(NULL, "stream", &out), 0);
	assert_memory_equal(cap.buf, "head(at once)", 13);
}

static void
test_conn_lines(void **state)
{
	static struct cli_conn conn;
	struct capture cap;
	struct cli_out out;

	(void)state;
	cli_conn_init(&conn);
	cap_init(&cap, &out);
	n_run = 0;
	/* Split across feeds. */
	assert_int_equal(FEED(&conn, "get ses", &out), 0);
	assert_int_equal(cap.len, 0);
	assert_int_equal(FEED(&conn, "sion", &out), 0);
	assert_int_equal(FEED(&conn, "\n", &out), 0);
	assert_int_equal(cap.len, 16);
	assert_memory_equal(cap.buf, "[get session]\0" "0\n", 16);
	/* Several in one feed, CRLF, a failing one, an empty one. */
	cap.len = 0;
	assert_int_equal(FEED(&conn, "a\nfail\r\nb c\n\n", &out), 0);
	assert_int_equal(cap.len, 28);
	assert_memory_equal(cap.buf, "[a]\0" "0\n" "[fail]\0" "1\n" "[b c]\0" "0\n" "[]\0" "0\n", 28);
	assert_int_equal(conn.n_lines, 5);
	/* A NUL or other control byte inside a line is refused without running it. */
	cap.len = 0;
	assert_int_equal(cli_conn_feed(&conn, "x\0y\n", 4, echo_line, NULL, &out), 0);
	assert_int_equal(FEED(&conn, "a\x1b[2J\n", &out), 0);
	cap.buf[cap.len] = '\0';
	assert_string_equal(cap.buf, "invalid byte 0x00 in command line\n");
	assert_memory_equal(cap.buf + 34, "\0" "1\n" "invalid byte 0x1b in command line\n" "\0" "1\n",
			    40);
	assert_int_equal(conn.n_bad, 2);
	assert_int_equal(n_run, 5);
	/* exit ends the conversation: nothing after it runs. */
	cap.len = 0;
	assert_int_equal(FEED(&conn, "z\n exit \nq\n", &out), 1);
	assert_int_equal(cap.len, 6);
	assert_int_equal(FEED(&conn, "q\n", &out), 1);
	assert_int_equal(n_run, 6);
	cli_conn_init(&conn);
	assert_int_equal(FEED(&conn, "QUIT\n", &out), 1);
}

static void
test_conn_line_limit(void **state)
{
	static struct cli_conn conn;
	static char line[CLI_LINE_MAX + 2];
	struct capture cap;
	struct cli_out out;
	unsigned i;

	(void)state;
	cli_conn_init(&conn);
	cap_init(&cap, &out);
	n_run = 0;
	/* Exactly CLI_LINE_MAX bytes is fine. */
	memset(line, 'a', CLI_LINE_MAX);
	line[CLI_LINE_MAX] = '\n';
	assert_int_equal(cli_conn_feed(&conn, line, CLI_LINE_MAX + 1, echo_line, NULL, &out), 0);
	assert_int_equal(n_run, 1);
	assert_int_equal(cap.len, CLI_LINE_MAX + 2 + 3);
	/* One more is refused at once, before any '\n' arrives. */
	cap.len = 0;
	assert_int_equal(cli_conn_feed(&conn, line, CLI_LINE_MAX, echo_line, NULL, &out), 0);
	assert_int_equal(cap.len, 0);
	assert_int_equal(FEED(&conn, "b", &out), 0);
	cap.buf[cap.len] = '\0';
	assert_string_equal(cap.buf, "line too long (max 4096 bytes)\n");
	assert_memory_equal(cap.buf + strlen(cap.buf), "\0" "1\n", 3);
	/* Its '\n' ends the skipping, silently. */
	cap.len = 0;
	assert_int_equal(FEED(&conn, "\n", &out), 0);
	assert_int_equal(cap.len, 0);
	/* An endless line: 64 MiB in chunks. Nothing runs, one answer, bounded state. */
	cap.frames = 0;
	for (i = 0; i < 64u * 1024 * 1024 / 1000; i++) {
		static char chunk[1000];

		memset(chunk, 'x', sizeof(chunk));
		assert_int_equal(cli_conn_feed(&conn, chunk, sizeof(chunk), echo_line, NULL, &out), 0);
		assert_true(conn.len <= CLI_LINE_MAX);
	}
	assert_int_equal(cap.frames, 1);
	assert_int_equal(conn.n_too_long, 2);
	assert_int_equal(n_run, 1);
	/* Its '\n' ends the skipping; the next line runs normally. */
	cap.len = 0;
	assert_int_equal(FEED(&conn, "xx\nnext\n", &out), 0);
	assert_int_equal(n_run, 2);
	assert_memory_equal(cap.buf, "[next]\0" "0\n", 9);
	assert_int_equal(cap.len, 9);
}

/*
 * Random bytes (newlines made common) through the real engine: no crash, and
 * exactly as many answers as a slow model of the line rules predicts.
 */
static void
test_conn_garbage(void **state)
{
	static struct cli_conn conn;
	static unsigned char data[1 << 18];
	struct capture cap;
	struct cli_out out;
	unsigned round;

	(void)state;
	for (round = 0; round < 8; round++) {
		size_t i, off, seg = 0, want = 0;
		int rc = 0;

		for (i = 0; i < sizeof(data); i++) {
			uint32_t r = rnd();

			if (round % 2 == 0)
				data[i] = r % 64 == 0 ? '\n' : (unsigned char)(r >> 8);
			else   /* printable: the engine sees many "words" and long lines */
				data[i] = r % 3000 == 0 ? '\n' : " g?es\"ti\\on1.2/"[(r >> 8) % 15];
		}
		/* The model: one answer per line; one per over-long line, on the spot. */
		for (i = 0; i < sizeof(data); i++) {
			if (data[i] == '\n') {
				want += seg <= CLI_LINE_MAX;
				seg = 0;
			} else if (++seg == CLI_LINE_MAX + 1) {
				want++;
			}
		}
		cli_conn_init(&conn);
		memset(&cap, 0, sizeof(cap));   /* count frames only */
		out = (struct cli_out){ .write = cap_write, .arg = &cap };
		for (off = 0; off < sizeof(data) && rc == 0; off += seg) {
			seg = 1 + rnd() % 3000;
			if (seg > sizeof(data) - off)
				seg = sizeof(data) - off;
			rc = cli_conn_feed(&conn, data + off, seg, exec_line, (void *)&table, &out);
			assert_true(conn.len <= CLI_LINE_MAX);
		}
		if (rc == 0)   /* an exit line, however unlikely, would stop early */
			assert_int_equal(cap.frames, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_check),
		cmocka_unit_test(test_table_check_rejects),
		cmocka_unit_test(test_tables_recompiled),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_keyword_beats_argument),
		cmocka_unit_test(test_optional_groups),
		cmocka_unit_test(test_arg_types),
		cmocka_unit_test(test_quoted_names),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_list_commands),
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_ip_random_vs_inet_pton),
		cmocka_unit_test(test_numbers_random_vs_strtoull),
		cmocka_unit_test(test_output_sink),
		cmocka_unit_test(test_conn_lines),
		cmocka_unit_test(test_conn_stream),
		cmocka_unit_test(test_conn_line_limit),
		cmocka_unit_test(test_conn_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
