/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the CLI grammar engine and the socket line framing
 * (lib/cli).
 *
 * The command table is dpnat's own (app/dpnat/views.c, its set/unset lines
 * lib/conf's one grammar, conf_grammar.h, with names completed from a
 * configuration as the daemon does), plus a few commands
 * that use every syntax feature the views do not (explicit keys, required
 * choices, bare ip, name and rest slots). Handlers only read their
 * arguments, through every accessor, and check what the grammar promises:
 * a port is at most 65535, a protocol at most 255, a prefix length at most
 * 32 (exactly 32 for a bare address), strings are NUL-terminated.
 *
 * Input: byte 0 picks the mode and the sink size, the rest is the client's
 * bytes.
 *   mode "exec":  the bytes are cut at '\n' and each line goes through
 *                 cli_execute and cli_complete;
 *   mode "conn":  the bytes are fed to cli_conn_feed in chunks (sizes from
 *                 byte 0), and the framed answers are counted: one frame per
 *                 line run, line refused for control bytes, or line too long.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "conf_grammar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_MAX_INPUT (3 * CLI_LINE_MAX)
/*
 * Lines run through the grammar per input. Each line walks the command
 * table once per word; more lines per input only slow the search down (the
 * line framing still sees every byte).
 */
#define FUZZ_MAX_EXEC  8

static unsigned lines_run;

static void
fail(const char *what, const char *line)
{
	fprintf(stderr, "fuzz_cli: %s\n", what);
	if (line != NULL)
		fprintf(stderr, "line: \"%s\"\n", line);
	abort();
}

/* Every key a command of the table below can bind. */
enum key_kind { K_ANY, K_PORT, K_PROTO, K_IP, K_PREFIX };

static const struct {
	const char *key;
	enum key_kind kind;
} keys[] = {
	{ "id", K_ANY }, { "src-ip", K_PREFIX }, { "dst-ip", K_PREFIX },
	{ "src-port", K_PORT }, { "dst-port", K_PORT }, { "protocol", K_PROTO },
	{ "interface", K_ANY }, { "name", K_ANY }, { "rest", K_ANY },
	{ "u32", K_ANY }, { "port", K_PORT }, { "ip", K_IP }, { "ip/mask", K_PREFIX },
	{ "proto", K_PROTO }, { "count", K_ANY }, { "bytes", K_PORT }, { "level", K_ANY },
	{ "host", K_IP }, { "file", K_ANY }, { "label", K_ANY }, { "flow", K_ANY },
	{ "pptp", K_ANY }, { "route", K_ANY }, { "get", K_ANY }, { "session", K_ANY },
	{ "unknown-key", K_ANY }, { "", K_ANY },
};

static const struct cli_table *the_table;
static unsigned long handler_calls;

static int
h_touch(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	const struct cli_cmd *cmd = cli_arg_cmd(a);
	const char *line = cli_arg_line(a), *rest = cli_arg_rest(a);
	size_t i;

	if (ctx != &handler_calls)
		fail("handler got the wrong context", line);
	handler_calls++;
	if (line == NULL)
		fail("cli_arg_line returned NULL", NULL);
	if (cmd == NULL || cmd < the_table->cmds || cmd >= the_table->cmds + the_table->n_cmds)
		fail("cli_arg_cmd is not a command of the table", line);
	if (cli_arg_table(a) != the_table)
		fail("cli_arg_table is not the table", line);
	if (strlen(line) > CLI_LINE_MAX)
		fail("cli_arg_line longer than a line", line);
	if (rest != NULL && strlen(rest) > CLI_LINE_MAX)
		fail("cli_arg_rest longer than a line", line);
	cli_printf(out, "%s|%s\n", cmd->syntax, rest != NULL ? rest : "-");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		bool present = cli_arg_present(a, keys[i].key);
		uint32_t u = cli_arg_u32(a, keys[i].key);
		const char *s = cli_arg_str(a, keys[i].key);
		uint32_t ip = 0;
		uint8_t plen = 0;
		int iprc = cli_arg_ip(a, keys[i].key, &ip, &plen);

		if (!present && (u != 0 || s != NULL || iprc == 0))
			fail("an absent key has a value", line);
		if (s != NULL && strlen(s) > CLI_LINE_MAX)
			fail("an argument longer than the line", line);
		if (!present)
			continue;
		switch (keys[i].kind) {
		case K_PORT:
			if (u > 65535)
				fail("a <port> argument above 65535", line);
			break;
		case K_PROTO:
			if (u > 255)
				fail("a <proto> argument above 255", line);
			break;
		case K_IP:
			if (s != NULL && (iprc != 0 || plen != 32))
				fail("an <ip> argument that is not a /32 address", line);
			break;
		case K_PREFIX:
			if (s != NULL && (iprc != 0 || plen > 32))
				fail("an <ip/mask> argument with a bad prefix length", line);
			break;
		default:
			break;
		}
		if (iprc == 0 && plen > 32)
			fail("a prefix length above 32", line);
		cli_printf(out, " %s=%u,%s,%08x/%u", keys[i].key, u, s != NULL ? s : "-", ip, plen);
	}
	cli_write(out, "\n", 1);
	return cmd->data != NULL ? -1 : 0;
}

#define SESS_FILTERS "[id <u32>] [src-ip <ip/mask>] [dst-ip <ip/mask>] [src-port <port>] " \
		     "[dst-port <port>] [protocol <proto>]"

static const char fails[] = "fails";

static const struct cli_cmd cmds[] = {
	/* app/dpnat/views.c */
	{ "get interface [<name>]", "interfaces, or one interface", h_touch, NULL },
	{ "get route", "the routing table", h_touch, NULL },
	{ "get arp", "the neighbour (ARP) table", h_touch, NULL },
	{ "get counter statistics [interface <name>]", "port and interface counters", h_touch, NULL },
	{ "get counter flow", "flow counters and every drop reason", h_touch, NULL },
	{ "get session " SESS_FILTERS, "sessions, optionally filtered", h_touch, NULL },
	{ "get config", "the running configuration as set lines", h_touch, NULL },
	{ "get policy", "security policies in evaluation order", h_touch, NULL },
	{ "get alg", "application layer gateways and their state", h_touch, NULL },
	{ "get alg pptp", "PPTP ALG settings, limits and counters", h_touch, NULL },
	{ "get alg pptp xlate " SESS_FILTERS, "PPTP Call-ID translations", h_touch, NULL },
	{ "clear alg pptp xlate " SESS_FILTERS, "tear down matching PPTP calls", h_touch, NULL },
	{ "clear session " SESS_FILTERS, "delete matching sessions", h_touch, NULL },
	{ "clear counter", "reset all counters", h_touch, NULL },
	{ "clear arp", "flush dynamic ARP entries", h_touch, fails },
#define FUZZ_CONF_CMD(syntax, help) { syntax, help, h_touch, NULL },
	CONF_GRAMMAR(FUZZ_CONF_CMD)
	{ "help", "list every command", h_touch, NULL },
	/* the rest of the syntax language */
	{ "ping <ip:host> [count <u32>] [size <port:bytes>]", "explicit keys", h_touch, NULL },
	{ "debug { flow | pptp } [level <u32>] [route]", "a required choice", h_touch, NULL },
	{ "exec <name:file> [ with | without ] <rest>", "a name, an optional choice, rest", h_touch,
	  NULL },
	{ "show <proto> [<ip/mask>] [<port>] [<name:label>]", "bare typed slots", h_touch, fails },
};

static const struct cli_word_help words[] = {
	{ "get", "show information" }, { "set", "configure" }, { "unset", "remove configuration" },
	{ "clear", "clear dynamic state" }, { "help", "list every command" },
	{ "interface", "network interfaces" }, { "route", "routing table" },
	{ "arp", "ARP (neighbour) table" }, { "counter", "counters" },
	{ "statistics", "interface statistics" }, { "flow", "flow counters and drop reasons" },
	{ "session", "session table" }, { "config", "running configuration" },
	{ "policy", "security policies" }, { "alg", "application layer gateways" },
	{ "pptp", "the PPTP ALG" }, { "xlate", "PPTP Call-ID translation table" },
	{ "id", "session id" }, { "src-ip", "source address [/len]" },
	{ "dst-ip", "destination address [/len]" }, { "src-port", "source port" },
	{ "dst-port", "destination port" }, { "protocol", "IP protocol" },
	{ "ping", "send pings" }, { "count", "how many" }, { "size", "bytes" },
	{ "debug", "debugging" }, { "level", "how much" }, { "exec", "run a file" },
	{ "with", "with it" }, { "without", "without it" }, { "show", "show typed slots" },
	{ "<interface>", "interface name" }, { "<id>", "session id" },
	{ "<rest>", "configuration statement" }, { "<host>", "an address" },
	{ "<bytes>", "a size" }, { "<file>", "a file" }, { "<label>", "a label" },
	CONF_GRAMMAR_WORDS
};

/* The configuration names are completed from: the KB lab's, with a DIP pool. */
static struct conf fuzz_conf;

static int
values(void *ctx, const char *key, unsigned i, char *buf, size_t len)
{
	if (ctx != &handler_calls)
		fail("values got the wrong context", key);
	return conf_values(&fuzz_conf, key, i, buf, len);
}

static const struct cli_table table = {
	.cmds = cmds, .n_cmds = sizeof(cmds) / sizeof(cmds[0]),
	.words = words, .n_words = sizeof(words) / sizeof(words[0]),
	.values = values,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	the_table = &table;
	conf_init(&fuzz_conf);
	if (conf_load_string(&fuzz_conf, "fuzz",
			     "set interface \"ethernet4/1\" zone \"Untrust\"\n"
			     "set interface \"ethernet4/2\" zone \"Trust\"\n"
			     "set interface \"ethernet2/1\" zone \"DMZ\"\n"
			     "set interface ethernet4/1 dip 4 1.1.1.1 1.1.1.9\n"
			     "set policy id 1 from Trust to Untrust Any Any ANY permit\n",
			     err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_cli: the harness's configuration is refused: %s\n", err);
		abort();
	}
	if (cli_table_check(&table, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_cli: the harness's table is refused: %s\n", err);
		abort();
	}
	return 0;
}

static int
run_line(void *arg, const char *line, struct cli_out *out)
{
	if (strlen(line) > CLI_LINE_MAX)
		fail("a line longer than CLI_LINE_MAX reached the handler", NULL);
	if (strchr(line, '\n') != NULL)
		fail("a line with a newline reached the handler", line);
	if (++lines_run > FUZZ_MAX_EXEC)
		return cli_printf(out, "skipped\n") < 0 ? -1 : 0;
	return cli_execute(arg, line, out, &handler_calls);
}

static void
check_sink(const struct cli_strbuf *sb, const char *line)
{
	if (sb->len >= sb->size)
		fail("string sink overflowed", line);
	if (sb->buf[sb->len] != '\0')
		fail("string sink not NUL-terminated", line);
}

/* Count the answer frames ('\0', '0' or '1', '\n') in the sink's bytes. */
static uint64_t
count_frames(const struct cli_strbuf *sb)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i + 2 < sb->len; i++) {
		if (sb->buf[i] == '\0') {
			if ((sb->buf[i + 1] != '0' && sb->buf[i + 1] != '1') || sb->buf[i + 2] != '\n')
				fail("a NUL in the answer that is not a frame end", NULL);
			n++;
			i += 2;
		}
	}
	if (i < sb->len && memchr(sb->buf + i, '\0', sb->len - i) != NULL)
		fail("a truncated frame end", NULL);
	return n;
}

static void
mode_exec(const uint8_t *data, size_t size, char *obuf, size_t osize)
{
	char *line = malloc(size + 1);
	size_t off = 0;

	if (line == NULL)
		abort();
	while (off <= size && ++lines_run <= FUZZ_MAX_EXEC) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
		struct cli_strbuf sb;
		struct cli_out out;
		int rc;

		memcpy(line, data + off, len);
		line[len] = '\0';
		cli_out_strbuf(&out, &sb, obuf, osize);
		rc = cli_execute(&table, line, &out, &handler_calls);
		if (rc != 0 && rc != -1)
			fail("cli_execute returned neither 0 nor -1", line);
		check_sink(&sb, line);
		if (!sb.truncated && strlen(sb.buf) != sb.len)
			fail("a NUL inside an answer", line);
		cli_out_strbuf(&out, &sb, obuf, osize);
		rc = cli_complete_ctx(&table, line, &out, &handler_calls);
		check_sink(&sb, line);
		if (rc >= 0 && !sb.truncated) {
			/* n candidates, one per line */
			size_t i, nls = 0;

			for (i = 0; i < sb.len; i++)
				nls += sb.buf[i] == '\n';
			if (nls != (size_t)rc)
				fail("cli_complete's count is not its number of lines", line);
		}
		if (nl == NULL)
			break;
		off += len + 1;
	}
	free(line);
}

static void
mode_conn(const uint8_t *data, size_t size, unsigned chunk, char *obuf, size_t osize)
{
	static struct cli_conn conn;
	struct cli_strbuf sb;
	struct cli_out out;
	size_t off = 0;
	int rc = 0;

	cli_conn_init(&conn);
	cli_out_strbuf(&out, &sb, obuf, osize);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = cli_conn_feed(&conn, data + off, n, run_line, (void *)&table, &out);
		if (rc != 0 && rc != 1)
			fail("cli_conn_feed returned neither 0 nor 1", NULL);
		if (conn.len > CLI_LINE_MAX)
			fail("connection line buffer beyond CLI_LINE_MAX", NULL);
		check_sink(&sb, NULL);
		off += n;
		if (rc == 1) {
			if (!conn.closed)
				fail("exit/quit returned 1 but the connection is not closed", NULL);
			/* Closed: more bytes are ignored. */
			if (cli_conn_feed(&conn, "get route\n", 10, run_line, (void *)&table,
					  &out) != 1)
				fail("a closed connection accepted more bytes", NULL);
			break;
		}
	}
	if (!sb.truncated && count_frames(&sb) != conn.n_lines + conn.n_too_long + conn.n_bad)
		fail("answer frames do not match the lines received", NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char obuf[1 << 16];
	static const size_t osizes[4] = { 1, 64, 4096, sizeof(obuf) };
	uint8_t ctl;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return -1;
	ctl = data[0];
	data++;
	size--;
	lines_run = 0;
	if (ctl & 0x04)
		mode_conn(data, size, (ctl >> 3) + 1u, obuf, osizes[ctl & 3]);
	else
		mode_exec(data, size, obuf, osizes[ctl & 3]);
	return 0;
}
