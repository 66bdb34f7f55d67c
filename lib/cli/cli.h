/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpnat CLI grammar engine: ScreenOS-style commands declared as one table that
 * drives parsing, `?` help and tab completion, plus the framing of the
 * dpnat <-> dpnat-cli socket protocol. Plain C, no DPDK, never prints: all
 * output goes through a struct cli_out sink.
 *
 * Syntax mini-language of struct cli_cmd.syntax (words separated by spaces):
 *   word            a keyword; any unique prefix is accepted, case-insensitive
 *   <type>          an argument slot; type is one of
 *                     u32      0..4294967295
 *                     port     0..65535
 *                     ip       a.b.c.d
 *                     ip/mask  a.b.c.d, a.b.c.d/len or a.b.c.d/m.m.m.m
 *                     proto    0..255 or tcp, udp, icmp, gre
 *                     name     any word, or a "quoted string"
 *                     rest     the rest of the line, raw (must come last)
 *                   and, spelled the ScreenOS way for configuration lines,
 *                     number [LO-HI]  a number, in LO..HI if given: <number 1-65535>
 *                     A.B.C.D         an address (leading zeros read as decimal)
 *                     A.B.C.D/M       a prefix, the length required
 *   <type:key>      the same with an explicit key; without one the key is the
 *                   keyword written just before the slot (`dst-port <port>`
 *                   has key "dst-port"), or the type name if there is none
 *   [ ... ]         an optional group; neighbouring optional groups may be
 *                   given in any order, each at most once, and combine
 *   [ a | b ]       an optional choice;  { a | b }  a required choice
 * Example:
 *   "get session [id <u32>] [src-ip <ip/mask>] [dst-port <port>] [protocol <proto>]"
 *
 * Words: an exact keyword beats a prefix; a prefix that fits several keywords
 * is settled by the words after it if only one reading parses (`get sess dst
 * 1723` is dst-port), otherwise it is an error naming the candidates. A quoted
 * word is never a keyword. A line ending in `?` asks for help: after a space,
 * what may come next; glued to a word, the keywords that start with it.
 */
#ifndef DPNAT_CLI_H
#define DPNAT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_proto.h"

#define CLI_LINE_MAX   CLI_PROTO_LINE_MAX  /**< longest command line, without its '\n' */
#define CLI_MAX_WORDS  128   /**< most words in one line */
#define CLI_MAX_NODES  96    /**< most syntax elements in one command */

struct cli_out;

/**
 * The rest of an answer, produced slice by slice while the client reads it
 * (a million sessions never sit in memory): write the next slice to out and
 * return 0, or return 1 once the answer is complete (state released).
 * Called with out NULL when the client went away: release state, return 1.
 */
typedef int (*cli_stream_fn)(void *state, struct cli_out *out);

/** An answer being streamed (one per connection). */
struct cli_stream {
	cli_stream_fn next;
	void *state;
	int status;    /**< the handler's status, framed when the stream ends */
	bool active;
};

/** Where output goes: write() gets raw bytes and returns 0, or -1 to refuse. */
struct cli_out {
	int (*write)(void *arg, const char *buf, size_t len);
	void *arg;
	bool failed;   /**< set once a write failed; later output is dropped */
	struct cli_stream *stream;   /**< where a handler may leave a stream; NULL: not here */
};

/**
 * From a handler: the rest of this answer is next(state, out), slice by
 * slice, after what the handler wrote; its return value is the answer's
 * status. 0, or -1 when out takes no stream (then answer at once).
 */
int cli_out_stream(struct cli_out *out, cli_stream_fn next, void *state);

/** Write len bytes to out. Returns 0, or -1 if the sink refused (out->failed is then set). */
int cli_write(struct cli_out *out, const char *buf, size_t len);

/** printf to out. Returns the number of bytes written, or -1 on sink or format failure. */
int cli_printf(struct cli_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** A fixed buffer sink (tests, short answers): always NUL-terminated, truncates when full. */
struct cli_strbuf {
	char *buf;
	size_t size;      /**< capacity of buf, incl. the NUL */
	size_t len;       /**< bytes held, without the NUL */
	bool truncated;   /**< something did not fit */
};

/** Make out write into sb, which uses buf[size] (size >= 1). A full buffer makes writes fail. */
void cli_out_strbuf(struct cli_out *out, struct cli_strbuf *sb, char *buf, size_t size);

/** The parsed arguments of a matched command (opaque; read with cli_arg_*()). */
struct cli_args;
struct cli_table;

/** A command handler: 0 on success, -1 on failure after printing the error to out. */
typedef int (*cli_handler_t)(const struct cli_args *a, struct cli_out *out, void *ctx);

/** One command: its syntax, a short help line and its handler. */
struct cli_cmd {
	const char *syntax;
	const char *help;
	cli_handler_t handler;
	const void *data;   /**< anything the handler wants, see cli_arg_cmd() */
};

/** Help of one word: a keyword ("session"), or an argument key in brackets ("<id>"). */
struct cli_word_help {
	const char *word;
	const char *help;
};

/**
 * Values that exist for an argument slot with key (completion of names):
 * writes the i-th (from 0) into buf[len]; returns 0, or -1 past the last.
 */
typedef int (*cli_values_fn)(void *ctx, const char *key, unsigned i, char *buf, size_t len);

/** A command table: commands and the help of their words. */
struct cli_table {
	const struct cli_cmd *cmds;
	size_t n_cmds;
	const struct cli_word_help *words;
	size_t n_words;
	cli_values_fn values;   /**< optional: names that exist, for Tab on an argument */
};

/**
 * Check every syntax of t: it parses, types are known, `<rest>` comes last,
 * every keyword has help text. Returns 0, or -1 with the first problem in err.
 */
int cli_table_check(const struct cli_table *t, char *err, size_t errlen);

/**
 * Run one command line: the matched handler's output, a `?` help listing, or
 * a completion answer when line is CLI_PROTO_COMPLETE "PARTIAL" (see cli_complete).
 * An empty line does nothing. Returns 0, or -1 after writing the error to out.
 */
int cli_execute(const struct cli_table *t, const char *line, struct cli_out *out, void *ctx);

/**
 * Tab completion: the keywords that may complete the last (partial) word of
 * line, sorted, one per line. Returns how many, or -1 (nothing written) if
 * the words before it do not parse.
 */
int cli_complete(const struct cli_table *t, const char *line, struct cli_out *out);

/**
 * cli_complete, and after the keywords the values t->values(ctx, ...) gives
 * for an argument that may stand there (quoted when they hold a blank).
 */
int cli_complete_ctx(const struct cli_table *t, const char *line, struct cli_out *out, void *ctx);

/** List every command: its syntax, then its help indented. Returns 0 or -1 on sink failure. */
int cli_list_commands(const struct cli_table *t, struct cli_out *out);

/* --- configuration lines (the file, SIGHUP reload, `set`/`unset` at run time) --- */

#define CLI_CONF_LINE_MAX  1024  /**< longest configuration line, incl. NUL */
#define CLI_CONF_WORDS_MAX 24    /**< most words on a configuration line */

/** A configuration line cut into words and matched by cli_parse_conf(). */
struct cli_conf_line {
	unsigned n;                          /**< words */
	const char *w[CLI_CONF_WORDS_MAX];   /**< keywords in the grammar's spelling, values unquoted */
	unsigned col[CLI_CONF_WORDS_MAX];    /**< 1-based column of each word in the line */
	int bad;                             /**< the word the grammar refused (n: end of line), or -1 */
	unsigned lexcol;                     /**< after a lexical error: its column (1-based), or 0 */
	const struct cli_cmd *cmd;           /**< the command that matched, NULL if none */
	char buf[CLI_CONF_LINE_MAX + CLI_CONF_WORDS_MAX];
	char kbuf[CLI_CONF_WORDS_MAX * 32];  /**< the keywords' full spellings */
};

/**
 * Parse one configuration line (len bytes, need not be NUL-terminated) with
 * t, by the configuration file's rules: blanks are space, tab, CR, LF, VT, FF
 * and the UTF-8 no-break space; "..." quotes a whole word (no escapes); a
 * control character, a line of CLI_CONF_LINE_MAX bytes or more, or more than
 * CLI_CONF_WORDS_MAX words is an error; '?' is an ordinary character. Handlers
 * are not run. A blank line, or one whose first word starts with '#', is a
 * comment: 0 with r->n 0 and r->cmd NULL, not even lexed. Returns 0 when a
 * command matches (r->cmd, the words in r), 1
 * when the words are fine but t has no such command (why, naming the word,
 * on out; r->bad says which), -1 for a lexical error (on out).
 */
int cli_parse_conf(const struct cli_table *t, const char *line, size_t len, struct cli_conf_line *r,
		   struct cli_out *out);

/* --- arguments, for handlers. Keys are the slot keys, or a keyword, or a type name. --- */

/** True if the keyword key was given, or an argument with that key (or of that type). */
bool cli_arg_present(const struct cli_args *a, const char *key);

/** Value of a u32/port/proto argument; 0 if absent (test with cli_arg_present). */
uint32_t cli_arg_u32(const struct cli_args *a, const char *key);

/** An ip or ip/mask argument, host byte order; plen is 32 for a bare address. 0, or -1 if absent. */
int cli_arg_ip(const struct cli_args *a, const char *key, uint32_t *ip, uint8_t *plen);

/** The text of any argument as typed, quotes removed; NULL if absent. */
const char *cli_arg_str(const struct cli_args *a, const char *key);

/** The raw text matched by `<rest>` (quotes kept, trailing blanks cut); NULL if none. */
const char *cli_arg_rest(const struct cli_args *a);

/** The whole command line as received (leading/trailing blanks cut). Never NULL. */
const char *cli_arg_line(const struct cli_args *a);

/** The command that matched (its data field is free for the handler). */
const struct cli_cmd *cli_arg_cmd(const struct cli_args *a);

/** The table the command came from (for a `help` command). */
const struct cli_table *cli_arg_table(const struct cli_args *a);

/* --- the socket protocol, server side, one struct per connection --- */

/** Runs one complete line; returns 0 or -1 (the answer's status). cli_execute fits behind it. */
typedef int (*cli_line_fn)(void *arg, const char *line, struct cli_out *out);

/** Line assembly state of one connection; bounded, no allocation. */
struct cli_conn {
	size_t len;           /**< bytes of the current line in buf */
	bool discarding;      /**< skipping the tail of an over-long line */
	bool closed;          /**< the client said exit/quit; feed ignores more */
	uint64_t n_lines;     /**< lines run */
	uint64_t n_too_long;  /**< lines refused for length */
	uint64_t n_bad;       /**< lines refused for control bytes */
	struct cli_stream stream;   /**< the answer being streamed, if any */
	char buf[CLI_LINE_MAX + 1];
};

/** Reset a connection's state. */
void cli_conn_init(struct cli_conn *c);

/**
 * Feed bytes received from the client. Each complete line ('\r' before '\n'
 * dropped) runs through fn and its answer is framed on out: text, '\0',
 * status '0'/'1', '\n'. A line over CLI_LINE_MAX is answered with an error as
 * soon as it is seen and skipped up to its '\n'; a line with control bytes
 * is refused. Returns 0 to keep the connection, 1 once the client sent
 * exit/quit (the caller closes after flushing out), 2 when a line's handler
 * left a stream (cli_out_stream): the bytes after that line are not taken,
 * and none are until the stream ended (cli_conn_stream_next). A caller
 * whose handlers stream feeds one line at a time.
 */
int cli_conn_feed(struct cli_conn *c, const void *data, size_t len, cli_line_fn fn,
		  void *arg, struct cli_out *out);

/** True while an answer of c is being streamed. */
bool cli_conn_streaming(const struct cli_conn *c);

/**
 * Continue c's streamed answer by one slice on out; at its end the answer
 * is framed with the handler's status. 1 when nothing streams any more, else 0.
 */
int cli_conn_stream_next(struct cli_conn *c, struct cli_out *out);

/** The client left: release c's streamed answer, if any. */
void cli_conn_release(struct cli_conn *c);

/** Write the end-of-answer frame: CLI_PROTO_END, CLI_PROTO_OK (status 0) or CLI_PROTO_ERR, '\n'. 0 or -1. */
int cli_frame_end(struct cli_out *out, int status);

#endif /* DPNAT_CLI_H */
