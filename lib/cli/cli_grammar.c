/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command grammar: a syntax string per command is compiled into a small
 * tree, and one walker over that tree answers the three questions a CLI asks
 * (does this line match, what may come next, which words complete this one).
 *
 * Words are settled left to right. For word k the walker first lists what
 * may stand at k given words 0..k-1 (over every command), and the word is
 * checked against that list: an exact keyword excludes everything else; a
 * prefix keeps every keyword it fits plus any argument slot that accepts it.
 * The full walk then keeps each complete reading, and when readings disagree
 * about a word, a single keyword beats arguments; two keywords are ambiguous.
 * A table's syntax strings are compiled once, into a grammar that is kept
 * for the life of the process and found again by the table's text (see
 * grammar_get); the table stays a plain const array.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* ---------------------------------------------------------------- types */

enum arg_type { T_U32, T_PORT, T_IP, T_PREFIX, T_PROTO, T_NAME, T_REST, T_NUM, T_ADDR, T_NET,
		T_COUNT };

static const struct {
	const char *name;
	const char *help;
} arg_types[T_COUNT] = {
	[T_U32] = { "u32", "number 0-4294967295" },
	[T_PORT] = { "port", "port number 0-65535" },
	[T_IP] = { "ip", "IPv4 address a.b.c.d" },
	[T_PREFIX] = { "ip/mask", "IPv4 address a.b.c.d, or prefix a.b.c.d/len" },
	[T_PROTO] = { "proto", "IP protocol 0-255, or tcp, udp, icmp, gre" },
	[T_NAME] = { "name", "a name; quote it if it has blanks" },
	[T_REST] = { "rest", "the rest of the line" },
	/* ScreenOS spellings, for configuration lines. */
	[T_NUM] = { "number", "a number" },
	[T_ADDR] = { "A.B.C.D", "IPv4 address" },
	[T_NET] = { "A.B.C.D/M", "IPv4 prefix, address/length" },
};

static const struct {
	const char *name;
	uint8_t num;
} proto_names[] = { { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 } };

/* Decimal digits only, no sign, at most max. */
static int
parse_uint(const char *s, uint32_t max, uint32_t *v)
{
	uint64_t n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > max)
			return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

/*
 * a.b.c.d exactly, each part 0-255 without leading zeros (which some tools
 * read as octal) unless zeros (the configuration language has always read
 * them as decimal: 172.09.50.1); end points past it.
 */
static int
parse_ip_at(const char *s, bool zeros, uint32_t *ip, const char **end)
{
	uint32_t v = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned n = 0, digits = 0;

		if (!zeros && s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -1;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*s - '0');
			s++;
			digits++;
		}
		if (digits == 0 || digits > 3 || n > 255)
			return -1;
		v = v << 8 | n;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	*ip = v;
	*end = s;
	return 0;
}

static int
parse_ip(const char *s, bool zeros, uint32_t *ip)
{
	const char *end;

	return parse_ip_at(s, zeros, ip, &end) == 0 && *end == '\0' ? 0 : -1;
}

/* a.b.c.d, a.b.c.d/len, or a.b.c.d/m.m.m.m with a contiguous mask. */
static int
parse_prefix(const char *s, bool zeros, uint32_t *ip, uint8_t *plen)
{
	const char *end;
	uint32_t v, mask;

	if (parse_ip_at(s, zeros, ip, &end) != 0)
		return -1;
	if (*end == '\0') {
		*plen = 32;
		return 0;
	}
	if (*end++ != '/')
		return -1;
	if (strchr(end, '.') == NULL) {
		if (strlen(end) > 2 || parse_uint(end, 32, &v) != 0)
			return -1;
		*plen = (uint8_t)v;
		return 0;
	}
	if (parse_ip(end, zeros, &mask) != 0)
		return -1;
	/* Contiguous: the inverted mask plus one is a power of two (or zero). */
	if (((~mask + 1) & ~mask) != 0)
		return -1;
	*plen = (uint8_t)__builtin_popcount(mask);
	return 0;
}

static int
parse_proto(const char *s, uint32_t *v)
{
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (strcasecmp(s, proto_names[i].name) == 0) {
			*v = proto_names[i].num;
			return 0;
		}
	}
	return parse_uint(s, 255, v);
}

/* Whether s is a valid value of type t; the parsed numbers go to *u / *ip / *plen. */
static bool
type_accepts(enum arg_type t, uint32_t lo, uint32_t hi, const char *s, uint32_t *u, uint32_t *ip,
	     uint8_t *plen)
{
	uint32_t du, dip;
	uint8_t dplen;

	if (u == NULL)
		u = &du;
	if (ip == NULL)
		ip = &dip;
	if (plen == NULL)
		plen = &dplen;
	switch (t) {
	case T_U32:
		return parse_uint(s, UINT32_MAX, u) == 0;
	case T_NUM:
		return parse_uint(s, hi, u) == 0 && *u >= lo;
	case T_PORT:
		return parse_uint(s, 65535, u) == 0;
	case T_IP:
	case T_ADDR:
		*plen = 32;
		return parse_ip(s, t == T_ADDR, ip) == 0;
	case T_PREFIX:
		return parse_prefix(s, false, ip, plen) == 0;
	case T_NET:
		return strchr(s, '/') != NULL && parse_prefix(s, true, ip, plen) == 0;
	case T_PROTO:
		return parse_proto(s, u) == 0;
	case T_NAME:
		return *s != '\0';
	case T_REST:
	case T_COUNT:
		break;
	}
	return true;
}

/* ---------------------------------------------------------------- syntax */

enum node_kind { N_SEQ, N_KW, N_ARG, N_OPT, N_ALT };

/*
 * A syntax tree in an array. A sequence lists its items through first/next;
 * an optional group or a choice lists its alternatives, each a sequence.
 */
struct node {
	uint8_t kind;
	uint8_t type;          /* N_ARG */
	int16_t first;         /* first child, -1 if none */
	int16_t next;          /* next sibling, -1 if last */
	uint16_t len;          /* of text */
	uint16_t klen;         /* of key */
	const char *text;      /* N_KW: the keyword, in the syntax string */
	const char *key;       /* N_ARG: the key; N_KW: the keyword before it, if any */
	uint32_t lo, hi;       /* N_ARG of type number: the range */
};

struct syntax {
	struct node n[CLI_MAX_NODES];
	int count;
	int root;
};

/* Syntax compiler state. */
struct sparser {
	const char *s;
	size_t pos;
	struct syntax *syn;
	const char *lastkw;
	size_t lastkwlen;
	const char *err;       /* static text */
};

#define OPT_RUN_MAX 32     /* optional groups side by side (a bit each) */

static bool
syn_special(char c)
{
	return c == '[' || c == ']' || c == '{' || c == '}' || c == '<' || c == '>' || c == '|';
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
syn_node(struct sparser *p, enum node_kind kind)
{
	struct node *nd;

	if (p->syn->count == CLI_MAX_NODES) {
		p->err = "too many syntax elements";
		return -1;
	}
	nd = &p->syn->n[p->syn->count];
	memset(nd, 0, sizeof(*nd));
	nd->kind = (uint8_t)kind;
	nd->first = -1;
	nd->next = -1;
	return p->syn->count++;
}

static int syn_seq(struct sparser *p, int depth);

/* "LO-HI" up to end, for a number slot. Returns 0 or -1. */
static int
syn_range(const char *s, const char *end, struct node *nd)
{
	char buf[24];
	char *dash;

	if (nd->type != T_NUM || end - s <= 0 || (size_t)(end - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = '\0';
	dash = strchr(buf, '-');
	if (dash == NULL)
		return -1;
	*dash = '\0';
	if (parse_uint(buf, UINT32_MAX, &nd->lo) != 0 || parse_uint(dash + 1, UINT32_MAX, &nd->hi) != 0 ||
	    nd->lo > nd->hi)
		return -1;
	return 0;
}

/* `<type>`, `<type:key>`, `<number LO-HI>` or `<number LO-HI:key>` */
static int
syn_arg(struct sparser *p)
{
	const char *start = p->s + p->pos + 1, *close = strchr(start, '>'), *colon, *range;
	size_t tlen;
	int i, idx;

	if (close == NULL) {
		p->err = "'<' without '>'";
		return -1;
	}
	colon = memchr(start, ':', (size_t)(close - start));
	tlen = (size_t)((colon != NULL ? colon : close) - start);
	range = memchr(start, ' ', tlen);
	if (range != NULL)
		tlen = (size_t)(range - start);
	for (i = 0; i < T_COUNT; i++)
		if (strlen(arg_types[i].name) == tlen && strncmp(arg_types[i].name, start, tlen) == 0)
			break;
	if (i == T_COUNT) {
		p->err = "unknown argument type";
		return -1;
	}
	idx = syn_node(p, N_ARG);
	if (idx < 0)
		return -1;
	p->syn->n[idx].type = (uint8_t)i;
	p->syn->n[idx].lo = 0;
	p->syn->n[idx].hi = UINT32_MAX;
	if (range != NULL && syn_range(range + 1, colon != NULL ? colon : close,
				       &p->syn->n[idx]) != 0) {
		p->err = "bad range: expected `<number LO-HI>`";
		return -1;
	}
	if (colon != NULL && close - colon > 1) {
		p->syn->n[idx].key = colon + 1;
		p->syn->n[idx].klen = (uint16_t)(close - colon - 1);
	} else if (p->lastkw != NULL) {
		p->syn->n[idx].key = p->lastkw;
		p->syn->n[idx].klen = (uint16_t)p->lastkwlen;
	} else {
		p->syn->n[idx].key = arg_types[i].name;
		p->syn->n[idx].klen = (uint16_t)strlen(arg_types[i].name);
	}
	p->pos = (size_t)(close - p->s) + 1;
	return idx;
}

/* `[ a | b ]` (kind N_OPT) or `{ a | b }` (N_ALT), the opener at pos. */
static int
syn_group(struct sparser *p, enum node_kind kind, char closer, int depth)
{
	int g, last = -1;

	if (depth > 8) {
		p->err = "groups nested too deep";
		return -1;
	}
	p->pos++;
	g = syn_node(p, kind);
	if (g < 0)
		return -1;
	for (;;) {
		int seq = syn_seq(p, depth + 1);
		char c;

		if (seq < 0)
			return -1;
		if (p->syn->n[seq].first < 0) {
			p->err = "empty group or alternative";
			return -1;
		}
		if (last < 0)
			p->syn->n[g].first = (int16_t)seq;
		else
			p->syn->n[last].next = (int16_t)seq;
		last = seq;
		c = p->s[p->pos];
		if (c == '|') {
			p->pos++;
			continue;
		}
		if (c == closer) {
			p->pos++;
			return g;
		}
		p->err = closer == ']' ? "missing ']'" : "missing '}'";
		return -1;
	}
}

static int
syn_item(struct sparser *p, int depth)
{
	const char *s = p->s;
	size_t start = p->pos;
	int idx;

	switch (s[p->pos]) {
	case '[':
		return syn_group(p, N_OPT, ']', depth);
	case '{':
		return syn_group(p, N_ALT, '}', depth);
	case '<':
		return syn_arg(p);
	case '>':
		p->err = "'>' without '<'";
		return -1;
	default:
		break;
	}
	while (s[p->pos] != '\0' && !is_blank(s[p->pos]) && !syn_special(s[p->pos]))
		p->pos++;
	idx = syn_node(p, N_KW);
	if (idx < 0)
		return -1;
	p->syn->n[idx].text = s + start;
	p->syn->n[idx].len = (uint16_t)(p->pos - start);
	p->syn->n[idx].key = p->lastkw;
	p->syn->n[idx].klen = (uint16_t)p->lastkwlen;
	p->lastkw = s + start;
	p->lastkwlen = p->pos - start;
	return idx;
}

/* Items up to the end, '|', ']' or '}'; returns the N_SEQ node. */
static int
syn_seq(struct sparser *p, int depth)
{
	int seq = syn_node(p, N_SEQ), last = -1;

	if (seq < 0)
		return -1;
	for (;;) {
		int item;
		char c;

		while (is_blank(p->s[p->pos]))
			p->pos++;
		c = p->s[p->pos];
		if (c == '\0' || c == '|' || c == ']' || c == '}')
			return seq;
		item = syn_item(p, depth);
		if (item < 0)
			return -1;
		if (last < 0)
			p->syn->n[seq].first = (int16_t)item;
		else
			p->syn->n[last].next = (int16_t)item;
		last = item;
	}
}

/* Structural rules the walker relies on. */
static const char *
syn_validate(const struct syntax *syn)
{
	int i, j, run, rests = 0, last = -1;
	int first = syn->n[syn->root].first;

	for (i = 0; i < syn->count; i++) {
		const struct node *nd = &syn->n[i];

		if (nd->kind == N_ARG && nd->type == T_REST)
			rests++;
		if (nd->kind != N_OPT)
			continue;
		for (run = 0, j = i; j >= 0 && syn->n[j].kind == N_OPT; j = syn->n[j].next)
			run++;
		if (run > OPT_RUN_MAX)
			return "too many optional groups side by side";
	}
	for (i = first; i >= 0; i = syn->n[i].next)
		last = i;
	if (last < 0)
		return "empty syntax";
	if (syn->n[first].kind != N_KW)
		return "a command must start with a keyword";
	if (rests > 1 || (rests == 1 && !(syn->n[last].kind == N_ARG && syn->n[last].type == T_REST)))
		return "<rest> must be the last element";
	return NULL;
}

/* Compile text into syn. Returns 0, or -1 with *err and *col set. */
static int
syn_compile(const char *text, struct syntax *syn, const char **err, size_t *col)
{
	struct sparser p = { .s = text, .syn = syn };

	syn->count = 0;
	syn->root = syn_seq(&p, 0);
	if (syn->root >= 0 && p.s[p.pos] != '\0') {
		p.err = p.s[p.pos] == '|' ? "'|' outside a group" : "unbalanced closing bracket";
		syn->root = -1;
	}
	if (syn->root >= 0)
		p.err = syn_validate(syn);
	if (syn->root < 0 || p.err != NULL) {
		*err = p.err;
		*col = p.pos + 1;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- compiled tables */

/* One command's compiled syntax: its nodes, or none (root < 0) if it does not compile. */
struct gcmd {
	const struct node *n;
	int root;
};

/*
 * Every syntax of a table, compiled. The nodes point into the grammar's own
 * copy of the syntax strings, so it does not depend on the table's memory.
 */
struct grammar {
	size_t n_cmds;
	char *text;            /* the syntax strings, each NUL-terminated, in order */
	struct node *nodes;
	struct gcmd cmd[];
};

#define GRAMMAR_CACHE 8    /* distinct tables kept; dpnat has one */

static struct {
	pthread_mutex_t lock;
	int n;
	struct grammar *g[GRAMMAR_CACHE];
} grammar_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
grammar_free(struct grammar *g)
{
	if (g == NULL)
		return;
	free(g->text);
	free(g->nodes);
	free(g);
}

/* Compile every syntax of t; NULL if out of memory. */
static struct grammar *
grammar_compile(const struct cli_table *t)
{
	struct grammar *g = calloc(1, sizeof(*g) + t->n_cmds * sizeof(g->cmd[0]));
	struct syntax *syn = malloc(sizeof(*syn));
	size_t i, tlen = 0, nn = 0;
	struct node *shrunk;
	char *tx;

	if (g == NULL || syn == NULL)
		goto fail;
	g->n_cmds = t->n_cmds;
	for (i = 0; i < t->n_cmds; i++)
		tlen += strlen(t->cmds[i].syntax) + 1;
	g->text = malloc(tlen ? tlen : 1);
	g->nodes = malloc(t->n_cmds * sizeof(syn->n) + 1);
	if (g->text == NULL || g->nodes == NULL)
		goto fail;
	for (i = 0, tx = g->text; i < t->n_cmds; i++) {
		size_t len = strlen(t->cmds[i].syntax);
		const char *why;
		size_t col;

		memcpy(tx, t->cmds[i].syntax, len + 1);
		g->cmd[i].root = -1;
		if (syn_compile(tx, syn, &why, &col) == 0) {
			memcpy(g->nodes + nn, syn->n, (size_t)syn->count * sizeof(syn->n[0]));
			g->cmd[i].root = syn->root;
			g->cmd[i].n = (const struct node *)(uintptr_t)nn;   /* an offset until the end */
			nn += (size_t)syn->count;
		}
		tx += len + 1;
	}
	shrunk = realloc(g->nodes, nn * sizeof(g->nodes[0]) + 1);
	if (shrunk != NULL)
		g->nodes = shrunk;
	for (i = 0; i < t->n_cmds; i++)
		if (g->cmd[i].root >= 0)
			g->cmd[i].n = g->nodes + (uintptr_t)g->cmd[i].n;
	free(syn);
	return g;
fail:
	free(syn);
	grammar_free(g);
	return NULL;
}

/* Whether g was compiled from syntax strings equal to t's. */
static bool
grammar_is(const struct grammar *g, const struct cli_table *t)
{
	const char *tx = g->text;
	size_t i;

	if (g->n_cmds != t->n_cmds)
		return false;
	for (i = 0; i < t->n_cmds; i++) {
		if (strcmp(tx, t->cmds[i].syntax) != 0)
			return false;
		tx += strlen(tx) + 1;
	}
	return true;
}

/*
 * The compiled grammar of t. Kept grammars are never freed, so a request may
 * hold one while other threads run theirs; once GRAMMAR_CACHE tables are
 * kept, others are compiled per request (*own is then true: grammar_free it).
 */
static const struct grammar *
grammar_get(const struct cli_table *t, bool *own)
{
	struct grammar *g = NULL;
	int i;

	*own = false;
	pthread_mutex_lock(&grammar_cache.lock);
	for (i = 0; i < grammar_cache.n && g == NULL; i++)
		if (grammar_is(grammar_cache.g[i], t))
			g = grammar_cache.g[i];
	if (g == NULL) {
		g = grammar_compile(t);
		if (g != NULL && grammar_cache.n < GRAMMAR_CACHE)
			grammar_cache.g[grammar_cache.n++] = g;
		else
			*own = g != NULL;
	}
	pthread_mutex_unlock(&grammar_cache.lock);
	return g;
}

/* ---------------------------------------------------------------- words */

struct word {
	const char *s;     /* unquoted text, NUL-terminated */
	size_t len;
	size_t off;        /* where it starts in the line */
	bool quoted;
};

struct words {
	int n;
	bool help;          /* the line asked for help with '?' */
	bool glued;         /* ... glued to the last word */
	bool open_end;      /* the line ends in a blank (completion: a new word) */
	struct word w[CLI_MAX_WORDS];
	char buf[CLI_LINE_MAX + CLI_MAX_WORDS + 2];
};

/* Bytes of the blank at s: 1 for space or tab, 2 for a UTF-8 no-break space (KB texts have them), else 0. */
static size_t
blank_len(const char *s)
{
	if (is_blank(s[0]))
		return 1;
	return (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0 ? 2 : 0;
}

/*
 * Split line into words: blanks (a no-break space too) separate, "..." quotes (with \" and \\ inside)
 * and may be glued to unquoted text. Returns 0, or -1 with a message in err.
 */
static int
split_words(const char *line, struct words *ws, char *err, size_t errlen)
{
	size_t i = 0, used = 0, b;
	bool last_q = false;

	ws->n = 0;
	ws->help = ws->glued = ws->open_end = false;
	for (;;) {
		struct word *w;

		while ((b = blank_len(line + i)) != 0)
			i += b;
		if (line[i] == '\0')
			break;
		if (ws->n == CLI_MAX_WORDS) {
			snprintf(err, errlen, "too many words (max %d)", CLI_MAX_WORDS);
			return -1;
		}
		w = &ws->w[ws->n];
		w->s = ws->buf + used;
		w->off = i;
		w->quoted = false;
		while (line[i] != '\0' && blank_len(line + i) == 0) {
			last_q = false;
			if (line[i] != '"') {
				ws->buf[used++] = line[i++];
				continue;
			}
			w->quoted = last_q = true;
			for (i++; line[i] != '"'; i++) {
				if (line[i] == '\0') {
					snprintf(err, errlen, "unterminated quote at position %d", ws->n + 1);
					return -1;
				}
				if (line[i] == '\\' && (line[i + 1] == '"' || line[i + 1] == '\\'))
					i++;
				ws->buf[used++] = line[i];
			}
			i++;
		}
		w->len = (size_t)(ws->buf + used - w->s);
		ws->buf[used++] = '\0';
		ws->n++;
	}
	ws->open_end = i > 0 && (is_blank(line[i - 1]) || (i > 1 && blank_len(line + i - 2) == 2));
	/* A '?' outside quotes at the very end asks for help. */
	if (ws->n > 0 && !last_q) {
		struct word *w = &ws->w[ws->n - 1];

		if (w->len > 0 && w->s[w->len - 1] == '?') {
			ws->help = true;
			if (w->len == 1) {
				ws->n--;
			} else {
				ws->glued = true;
				((char *)w->s)[--w->len] = '\0';
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- walker */

/* What a word may be, decided when it was settled. */
struct wres {
	bool exact;        /* it is exactly a keyword possible there: nothing else */
};

/* What word k was taken as along the current path. */
enum { P_KW = 1, P_ARG, P_REST };

struct pathel {
	uint8_t kind;
	uint8_t type;
	uint16_t len;      /* of text */
	const char *text;  /* P_KW: keyword; P_ARG/P_REST: key */
};

/* Something that may come next (help, errors, completion). */
struct cand {
	uint8_t kind;      /* P_KW or P_ARG (rest included) */
	uint8_t type;
	uint16_t len;
	uint16_t klen;     /* P_ARG: of key */
	const char *text;  /* keyword, or help text for an argument */
	const char *key;   /* P_ARG: the slot's key */
	uint32_t lo, hi;   /* P_ARG of type number: the range */
};

#define CAND_MAX    512
#define MATCH_MAX   16
#define STEPS_MAX   200000   /* a walk that needs more is a table bug */

struct match {
	int cmd;
	struct pathel path[CLI_MAX_WORDS];
};

struct cli_args {
	const struct cli_table *t;
	const struct cli_cmd *cmd;
	const struct words *ws;
	const struct pathel *path;
	const char *line;
	const char *rest;
};

/* Everything one request needs; allocated per request to keep stacks small. */
struct engine {
	/* Scalars, zeroed for each request. */
	const struct cli_table *t;
	const struct grammar *g;
	bool own_g;            /* g is this request's own (not kept): free it */
	const struct node *syn;   /* the nodes of the command being walked */
	int cmd;
	/* the walk */
	int ntok;
	bool collect;
	unsigned steps;
	bool too_complex;
	/* results */
	int ncand;
	bool can_end;
	int nmatch;
	int bad;               /* the word settling or picking stopped at */
	/*
	 * Arrays (about 55 KB), not cleared: each element is written before it
	 * is read (line and ws by the request, res by settle, path along the
	 * walk, cand and match up to ncand and nmatch).
	 */
	char line[CLI_LINE_MAX + 1];
	struct words ws;
	struct wres res[CLI_MAX_WORDS];
	struct pathel path[CLI_MAX_WORDS];
	struct cand cand[CAND_MAX];
	struct match match[MATCH_MAX];
};

struct frame {
	int cur;                 /* next item, -1 at the end of the sequence */
	uint32_t used;           /* optional groups of the run at cur already taken */
	const struct frame *up;  /* where to go on at the end */
};

static const char *
word_help(const struct cli_table *t, const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < t->n_words; i++)
		if (strncmp(t->words[i].word, w, len) == 0 && t->words[i].word[len] == '\0')
			return t->words[i].help;
	return NULL;
}

/* Help of keyword candidate c: "PREV WORD" in the word table (`policy id`), else "WORD". */
static const char *
kw_help(const struct cli_table *t, const struct cand *c)
{
	char k[80];
	const char *h = NULL;

	if (c->key != NULL && (size_t)c->klen + c->len + 2 <= sizeof(k)) {
		snprintf(k, sizeof(k), "%.*s %.*s", (int)c->klen, c->key, (int)c->len, c->text);
		h = word_help(t, k, strlen(k));
	}
	return h != NULL ? h : word_help(t, c->text, c->len);
}

/* Help of an argument slot: "<key>" from the word table, else the type's. */
static const char *
arg_help(const struct cli_table *t, const struct node *nd)
{
	char k[80];
	const char *h = NULL;

	if ((size_t)nd->klen + 3 <= sizeof(k)) {
		snprintf(k, sizeof(k), "<%.*s>", (int)nd->klen, nd->key);
		h = word_help(t, k, strlen(k));
	}
	return h != NULL ? h : arg_types[nd->type].help;
}

static void
cand_add(struct engine *e, const struct node *nd)
{
	struct cand c = { .kind = nd->kind == N_KW ? P_KW : P_ARG, .type = nd->type,
			  .lo = nd->lo, .hi = nd->hi };
	int i;

	if (c.kind == P_KW) {
		c.text = nd->text;
		c.len = nd->len;
		c.key = nd->key;
		c.klen = nd->klen;
	} else {
		/* A slot of the same type and key has the same help: known already. */
		for (i = 0; i < e->ncand; i++) {
			const struct cand *o = &e->cand[i];

			if (o->kind == P_ARG && o->type == c.type && o->klen == nd->klen &&
			    o->lo == c.lo && o->hi == c.hi &&
			    memcmp(o->key, nd->key, nd->klen) == 0)
				return;
		}
		c.key = nd->key;
		c.klen = nd->klen;
		c.text = arg_help(e->t, nd);
		c.len = (uint16_t)strlen(c.text);
	}
	for (i = 0; i < e->ncand; i++) {
		const struct cand *o = &e->cand[i];

		if (o->kind == c.kind && o->len == c.len &&
		    ((c.kind == P_KW && o->text == c.text) ||
		     ((c.kind == P_ARG ? o->type == c.type : 1) &&
		      strncasecmp(o->text, c.text, c.len) == 0)))
			return;
	}
	if (e->ncand < CAND_MAX)
		e->cand[e->ncand++] = c;
}

/* Keep a complete reading, unless one that reads every word the same is kept. */
static void
match_add(struct engine *e)
{
	int i, k;

	for (i = 0; i < e->nmatch; i++) {
		const struct pathel *p = e->match[i].path;

		for (k = 0; k < e->ntok; k++) {
			if (p[k].kind != e->path[k].kind)
				break;
			if (p[k].kind == P_KW && (p[k].len != e->path[k].len ||
			    strncasecmp(p[k].text, e->path[k].text, p[k].len) != 0))
				break;
		}
		if (k == e->ntok)
			return;
	}
	if (e->nmatch == MATCH_MAX)
		return;
	e->match[e->nmatch].cmd = e->cmd;
	memcpy(e->match[e->nmatch].path, e->path, sizeof(e->path[0]) * (size_t)e->ntok);
	e->nmatch++;
}

static bool
kw_fits(const struct engine *e, int k, const struct node *nd)
{
	const struct word *w = &e->ws.w[k];

	if (w->quoted || w->len > nd->len)
		return false;
	if (e->res[k].exact && w->len != nd->len)
		return false;
	return strncasecmp(w->s, nd->text, w->len) == 0;
}

static void walk(struct engine *e, const struct frame *f, int k);

/* A run of optional groups: take any one not taken yet and come back, or leave the run. */
static void
walk_opts(struct engine *e, const struct frame *f, int k)
{
	const struct node *n = e->syn;
	uint32_t bit = 1;
	int o;

	for (o = f->cur; o >= 0 && n[o].kind == N_OPT; o = n[o].next, bit <<= 1) {
		struct frame again = { f->cur, f->used | bit, f->up };
		int s;

		if (f->used & bit)
			continue;
		for (s = n[o].first; s >= 0; s = n[s].next) {
			struct frame in = { n[s].first, 0, &again };

			walk(e, &in, k);
		}
	}
	{
		struct frame after = { o, 0, f->up };

		walk(e, &after, k);
	}
}

static void
walk(struct engine *e, const struct frame *f, int k)
{
	const struct node *nd;
	struct frame nx;
	int s;

	if (e->too_complex || ++e->steps > STEPS_MAX) {
		e->too_complex = true;
		return;
	}
	if (f->cur < 0) {
		if (f->up != NULL)
			walk(e, f->up, k);
		else if (k == e->ntok && e->collect)
			e->can_end = true;
		else if (k == e->ntok)
			match_add(e);
		return;
	}
	nd = &e->syn[f->cur];
	nx = (struct frame){ nd->next, 0, f->up };
	switch (nd->kind) {
	case N_KW:
		if (k == e->ntok) {
			if (e->collect)
				cand_add(e, nd);
			return;
		}
		if (!kw_fits(e, k, nd))
			return;
		e->path[k] = (struct pathel){ P_KW, 0, nd->len, nd->text };
		walk(e, &nx, k + 1);
		return;
	case N_ARG:
		if (k == e->ntok) {
			if (e->collect)
				cand_add(e, nd);
			return;
		}
		if (nd->type == T_REST) {
			int i;

			/* It takes every word left, and could take more. */
			for (i = k; i < e->ntok; i++)
				e->path[i] = (struct pathel){ P_REST, T_REST, nd->klen, nd->key };
			if (e->collect)
				cand_add(e, nd);
			walk(e, &nx, e->ntok);
			return;
		}
		if (e->res[k].exact ||
		    !type_accepts(nd->type, nd->lo, nd->hi, e->ws.w[k].s, NULL, NULL, NULL))
			return;
		e->path[k] = (struct pathel){ P_ARG, nd->type, nd->klen, nd->key };
		walk(e, &nx, k + 1);
		return;
	case N_OPT:
		walk_opts(e, f, k);
		return;
	case N_ALT:
		for (s = nd->first; s >= 0; s = e->syn[s].next) {
			struct frame in = { e->syn[s].first, 0, &nx };

			walk(e, &in, k);
		}
		return;
	case N_SEQ:
		break;
	}
}

/*
 * Walk every command over words 0..ntok-1. collect: gather what may come at
 * ntok into cand/can_end; otherwise gather complete readings into match.
 */
static void
walk_all(struct engine *e, int ntok, bool collect)
{
	size_t i;

	e->ntok = ntok;
	e->collect = collect;
	e->ncand = 0;
	e->can_end = false;
	e->nmatch = 0;
	e->steps = 0;
	for (i = 0; i < e->g->n_cmds; i++) {
		const struct gcmd *c = &e->g->cmd[i];
		struct frame top = { -1, 0, NULL };

		if (c->root < 0)
			continue;   /* cli_table_check reports these */
		e->syn = c->n;
		top.cur = c->n[c->root].first;
		e->cmd = (int)i;
		walk(e, &top, 0);
	}
}

/* ---------------------------------------------------------------- messages */

/* A word as an error message shows it: control bytes escaped, long ones cut. */
static void
show_word(char *dst, size_t size, const char *s, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o >= 60) {
			o += (size_t)snprintf(dst + o, size - o, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r;

	if (x->kind != y->kind)
		return x->kind == P_KW ? -1 : 1;
	if (x->kind != P_KW)
		return 0;
	r = strncasecmp(x->text, y->text, n);
	return r != 0 ? r : (int)x->len - (int)y->len;
}

/* Keywords sorted, then arguments in table order (qsort is not stable: sort keywords only). */
static void
cand_sort(struct engine *e)
{
	int nkw = 0, i;
	struct cand tmp;

	for (i = 0; i < e->ncand; i++) {
		if (e->cand[i].kind == P_KW) {
			tmp = e->cand[i];
			memmove(&e->cand[nkw + 1], &e->cand[nkw], sizeof(tmp) * (size_t)(i - nkw));
			e->cand[nkw++] = tmp;
		}
	}
	qsort(e->cand, (size_t)nkw, sizeof(e->cand[0]), cand_cmp);
}

/* "alg, arp, <u32>, <return>" */
/* "<type>" of an argument candidate, "<number LO-HI>" for a ranged number. */
static const char *
cand_show(const struct cand *c, char *buf, size_t size)
{
	if (c->type == T_NUM && (c->lo != 0 || c->hi != UINT32_MAX))
		snprintf(buf, size, "<%s %u-%u>", arg_types[c->type].name, c->lo, c->hi);
	else
		snprintf(buf, size, "<%s>", arg_types[c->type].name);
	return buf;
}

static void
print_expected(struct engine *e, struct cli_out *out)
{
	char name[40];

	int i;

	for (i = 0; i < e->ncand; i++) {
		const struct cand *c = &e->cand[i];

		if (c->kind == P_KW)
			cli_printf(out, "%s%.*s", i ? ", " : "", (int)c->len, c->text);
		else
			cli_printf(out, "%s%s", i ? ", " : "", cand_show(c, name, sizeof(name)));
	}
	if (e->can_end)
		cli_printf(out, "%s<return>", e->ncand ? ", " : "");
}

/* Word k fits nothing that may stand there (cand/can_end hold what may). */
static void
print_bad_word(struct engine *e, int k, struct cli_out *out)
{
	const struct word *w = &e->ws.w[k];
	char shown[96], name[40];
	int i, nkw = 0;

	show_word(shown, sizeof(shown), w->s, w->len);
	for (i = 0; i < e->ncand; i++)
		nkw += e->cand[i].kind == P_KW;
	if (e->ncand == 0) {
		cli_printf(out, "unknown keyword \"%s\" at position %d; expected end of command\n",
			   shown, k + 1);
		return;
	}
	if (nkw == 0) {
		cli_printf(out, "invalid value \"%s\" at position %d; expected ", shown, k + 1);
		if (e->ncand == 1 && !e->can_end) {
			cli_printf(out, "%s: %s\n", cand_show(&e->cand[0], name, sizeof(name)),
				   e->cand[0].text);
			return;
		}
		cli_printf(out, "one of: ");
		print_expected(e, out);
		cli_printf(out, "\n");
		return;
	}
	cli_printf(out, "unknown keyword \"%s\" at position %d; expected one of: ", shown, k + 1);
	print_expected(e, out);
	cli_printf(out, "\n");
}

/* ---------------------------------------------------------------- settling words */

/*
 * Settle words 0..upto-1 one by one against what may stand at each place.
 * Returns 0, or -1 after an error message on out (if out is not NULL).
 */
static int
settle(struct engine *e, int upto, struct cli_out *out)
{
	int k, i;

	for (k = 0; k < upto; k++) {
		const struct word *w = &e->ws.w[k];
		bool fits = false;

		e->res[k].exact = false;
		walk_all(e, k, true);
		if (e->too_complex)
			goto complex;
		for (i = 0; i < e->ncand; i++) {
			const struct cand *c = &e->cand[i];

			if (c->kind == P_KW && !w->quoted && c->len == w->len &&
			    strncasecmp(c->text, w->s, w->len) == 0) {
				e->res[k].exact = true;
				fits = true;
				break;
			}
			if (c->kind == P_KW && !w->quoted && c->len > w->len &&
			    strncasecmp(c->text, w->s, w->len) == 0)
				fits = true;
			if (c->kind == P_ARG && type_accepts(c->type, c->lo, c->hi, w->s, NULL, NULL, NULL))
				fits = true;
		}
		if (!fits) {
			e->bad = k;
			if (out != NULL) {
				cand_sort(e);
				print_bad_word(e, k, out);
			}
			return -1;
		}
	}
	return 0;
complex:
	if (out != NULL)
		cli_printf(out, "command too complex for the grammar engine\n");
	return -1;
}

/*
 * Keep one reading. Where readings disagree on a word, a single keyword
 * reading beats argument readings; otherwise the word is ambiguous.
 */
static int
pick_match(struct engine *e, struct cli_out *out)
{
	bool alive[MATCH_MAX];
	int k, i, first = -1;

	for (i = 0; i < e->nmatch; i++)
		alive[i] = true;
	for (k = 0; k < e->ntok; k++) {
		const struct pathel *kw = NULL;
		int nkw = 0, narg = 0;

		for (i = 0; i < e->nmatch; i++) {
			const struct pathel *p = &e->match[i].path[k];

			if (!alive[i])
				continue;
			if (p->kind != P_KW) {
				narg++;
			} else if (kw == NULL || p->len != kw->len ||
				   strncasecmp(p->text, kw->text, p->len) != 0) {
				kw = p;
				nkw++;
			}
		}
		if (nkw == 1) {
			for (i = 0; i < e->nmatch; i++)
				if (alive[i] && e->match[i].path[k].kind != P_KW)
					alive[i] = false;
			continue;
		}
		if (nkw > 1) {
			char shown[96];
			int shown_n = 0;

			show_word(shown, sizeof(shown), e->ws.w[k].s, e->ws.w[k].len);
			e->bad = k;
			cli_printf(out, "ambiguous keyword \"%s\" at position %d; could be: ", shown, k + 1);
			/* Every distinct keyword among the live readings, in table order. */
			for (i = 0; i < e->nmatch; i++) {
				const struct pathel *p = &e->match[i].path[k];
				int j;

				if (!alive[i] || p->kind != P_KW)
					continue;
				for (j = 0; j < i; j++) {
					const struct pathel *q = &e->match[j].path[k];

					if (alive[j] && q->kind == P_KW && q->len == p->len &&
					    strncasecmp(q->text, p->text, p->len) == 0)
						break;
				}
				if (j < i)
					continue;
				cli_printf(out, "%s%.*s", shown_n++ ? ", " : "", (int)p->len, p->text);
			}
			cli_printf(out, "\n");
			return -1;
		}
	}
	for (i = 0; i < e->nmatch && first < 0; i++)
		if (alive[i])
			first = i;
	return first;
}

/* ---------------------------------------------------------------- requests */

/* A request's state with t's grammar; NULL if out of memory. */
static struct engine *
engine_alloc(const struct cli_table *t)
{
	struct engine *e = malloc(sizeof(*e));

	if (e == NULL)
		return NULL;
	memset(e, 0, offsetof(struct engine, line));
	e->line[0] = '\0';
	e->ws.n = 0;
	e->t = t;
	e->g = grammar_get(t, &e->own_g);
	if (e->g == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

static void
engine_free(struct engine *e)
{
	if (e->own_g)
		grammar_free((struct grammar *)(uintptr_t)e->g);
	free(e);
}

static struct engine *
engine_new(const struct cli_table *t, const char *line, struct cli_out *out)
{
	size_t len = strlen(line);
	struct engine *e;

	if (len > CLI_LINE_MAX) {
		cli_printf(out, "line too long (max %d bytes)\n", CLI_LINE_MAX);
		return NULL;
	}
	e = engine_alloc(t);
	if (e == NULL) {
		cli_printf(out, "out of memory\n");
		return NULL;
	}
	while (is_blank(*line) || *line == '\r' || *line == '\n')
		line++;
	len = strlen(line);
	while (len > 0 && (is_blank(line[len - 1]) || line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	memcpy(e->line, line, len);
	e->line[len] = '\0';
	return e;
}

/* Print "word   help" lines for what is in cand (and <return>). */
static void
print_help_list(struct engine *e, struct cli_out *out, const char *prefix, size_t plen)
{
	int i, width = 12;
	char name[40];

	for (i = 0; i < e->ncand; i++) {
		const struct cand *c = &e->cand[i];
		int l = c->kind == P_KW ? c->len : (int)strlen(cand_show(c, name, sizeof(name)));

		if (c->kind == P_KW && (c->len < plen || strncasecmp(c->text, prefix, plen) != 0))
			continue;
		if (l > width)
			width = l;
	}
	for (i = 0; i < e->ncand; i++) {
		const struct cand *c = &e->cand[i];

		if (c->kind == P_KW) {
			const char *h;

			if (c->len < plen || strncasecmp(c->text, prefix, plen) != 0)
				continue;
			h = kw_help(e->t, c);
			if (h != NULL && *h != '\0')
				cli_printf(out, "%-*.*s  %s\n", width, (int)c->len, c->text, h);
			else
				cli_printf(out, "%.*s\n", (int)c->len, c->text);
		} else {
			cli_printf(out, "%-*s  %s\n", width, cand_show(c, name, sizeof(name)), c->text);
		}
	}
	if (e->can_end && plen == 0)
		cli_printf(out, "<return>\n");
}

/* `...?`: after a blank, what may come next; glued, what the last word may become. */
static int
do_help(struct engine *e, struct cli_out *out)
{
	int pos = e->ws.glued ? e->ws.n - 1 : e->ws.n;
	const struct word *w = e->ws.glued ? &e->ws.w[pos] : NULL;
	int i, nkw = 0;

	if (settle(e, pos, out) != 0)
		return -1;
	walk_all(e, pos, true);
	if (e->too_complex) {
		cli_printf(out, "command too complex for the grammar engine\n");
		return -1;
	}
	cand_sort(e);
	if (w == NULL) {
		print_help_list(e, out, "", 0);
		return 0;
	}
	/* Keywords the partial word starts; a quoted one can only be an argument. */
	for (i = 0; i < e->ncand; i++) {
		const struct cand *c = &e->cand[i];

		if (c->kind == P_KW && !w->quoted && c->len >= w->len &&
		    strncasecmp(c->text, w->s, w->len) == 0)
			nkw++;
	}
	if (nkw == 0) {
		int n = 0;

		for (i = 0; i < e->ncand; i++)
			if (e->cand[i].kind == P_ARG)
				e->cand[n++] = e->cand[i];
		if (n == 0) {
			print_bad_word(e, pos, out);
			return -1;
		}
		e->ncand = n;
		e->can_end = false;
		print_help_list(e, out, "", 0);
		return 0;
	}
	print_help_list(e, out, w->s, w->len);
	return 0;
}

static int
do_execute(struct engine *e, struct cli_out *out, void *ctx)
{
	struct cli_args a;
	const struct match *m;
	int pick;

	if (settle(e, e->ws.n, out) != 0)
		return -1;
	walk_all(e, e->ws.n, false);
	if (e->too_complex) {
		cli_printf(out, "command too complex for the grammar engine\n");
		return -1;
	}
	if (e->nmatch == 0) {
		walk_all(e, e->ws.n, true);
		cand_sort(e);
		cli_printf(out, "incomplete command; expected one of: ");
		print_expected(e, out);
		cli_printf(out, "\n");
		return -1;
	}
	pick = pick_match(e, out);
	if (pick < 0)
		return -1;
	m = &e->match[pick];
	memset(&a, 0, sizeof(a));
	a.t = e->t;
	a.cmd = &e->t->cmds[m->cmd];
	a.ws = &e->ws;
	a.path = m->path;
	a.line = e->line;
	for (int k = 0; k < e->ws.n; k++) {
		if (m->path[k].kind == P_REST) {
			a.rest = e->line + e->ws.w[k].off;
			break;
		}
	}
	if (a.cmd->handler == NULL) {
		cli_printf(out, "command \"%s\" has no handler\n", a.cmd->syntax);
		return -1;
	}
	return a.cmd->handler(&a, out, ctx) == 0 ? 0 : -1;
}

int
cli_execute(const struct cli_table *t, const char *line, struct cli_out *out, void *ctx)
{
	static const char complete_req[] = CLI_PROTO_COMPLETE;
	char err[128];
	struct engine *e;
	int rc;

	if (line[0] == '\x01') {
		if (strncmp(line, complete_req, sizeof(complete_req) - 1) == 0) {
			(void)cli_complete_ctx(t, line + sizeof(complete_req) - 1, out, ctx);
			return 0;
		}
		cli_printf(out, "unknown request\n");
		return -1;
	}
	e = engine_new(t, line, out);
	if (e == NULL)
		return -1;
	if (split_words(e->line, &e->ws, err, sizeof(err)) != 0) {
		cli_printf(out, "%s\n", err);
		rc = -1;
	} else if (e->ws.help) {
		rc = do_help(e, out);
	} else if (e->ws.n == 0) {
		rc = 0;
	} else {
		rc = do_execute(e, out, ctx);
	}
	engine_free(e);
	return rc;
}

/* Values of argument candidate c that start like w (NULL: all). Returns how many were written. */
static int
complete_values(const struct engine *e, const struct cand *c, const struct word *w,
		struct cli_out *out, void *ctx)
{
	char key[80], v[CLI_LINE_MAX / 8];
	unsigned i;
	int n = 0;

	if (e->t->values == NULL || c->type == T_REST || (size_t)c->klen >= sizeof(key))
		return 0;
	memcpy(key, c->key, c->klen);
	key[c->klen] = '\0';
	for (i = 0; i < 4096 && e->t->values(ctx, key, i, v, sizeof(v)) == 0; i++) {
		v[sizeof(v) - 1] = '\0';
		if (w != NULL && (strlen(v) < w->len || strncmp(v, w->s, w->len) != 0))
			continue;
		if (strpbrk(v, " \t\"") != NULL)
			cli_printf(out, "\"%s\"\n", v);
		else
			cli_printf(out, "%s\n", v);
		n++;
	}
	return n;
}

int
cli_complete(const struct cli_table *t, const char *line, struct cli_out *out)
{
	return cli_complete_ctx(t, line, out, NULL);
}

int
cli_complete_ctx(const struct cli_table *t, const char *line, struct cli_out *out, void *ctx)
{
	struct engine *e;
	const struct word *w = NULL;
	char err[128];
	int pos, i, n = 0;

	if (strlen(line) > CLI_LINE_MAX)
		return -1;
	e = engine_alloc(t);
	if (e == NULL)
		return -1;
	/* Keep trailing blanks: they say the partial word is empty. */
	snprintf(e->line, sizeof(e->line), "%s", line);
	if (split_words(e->line, &e->ws, err, sizeof(err)) != 0 || e->ws.help) {
		engine_free(e);
		return -1;
	}
	pos = e->ws.n;
	if (!e->ws.open_end && e->ws.n > 0) {
		pos--;
		w = &e->ws.w[pos];
	}
	if (settle(e, pos, NULL) != 0) {
		engine_free(e);
		return -1;
	}
	walk_all(e, pos, true);
	cand_sort(e);
	for (i = 0; i < e->ncand && !e->too_complex; i++) {
		const struct cand *c = &e->cand[i];

		if (c->kind != P_KW)
			continue;
		if (w != NULL && (w->quoted || c->len < w->len ||
				  strncasecmp(c->text, w->s, w->len) != 0))
			continue;
		cli_printf(out, "%.*s\n", (int)c->len, c->text);
		n++;
	}
	for (i = 0; i < e->ncand && !e->too_complex; i++)
		if (e->cand[i].kind == P_ARG && (w == NULL || !w->quoted))
			n += complete_values(e, &e->cand[i], w, out, ctx);
	if (e->too_complex)
		n = -1;
	engine_free(e);
	return n;
}

int
cli_list_commands(const struct cli_table *t, struct cli_out *out)
{
	size_t i;

	for (i = 0; i < t->n_cmds; i++) {
		const struct cli_cmd *c = &t->cmds[i];

		cli_printf(out, "%s\n", c->syntax);
		if (c->help != NULL && c->help[0] != '\0')
			cli_printf(out, "    %s\n", c->help);
	}
	return out->failed ? -1 : 0;
}

int
cli_table_check(const struct cli_table *t, char *err, size_t errlen)
{
	struct syntax *syn = malloc(sizeof(*syn));
	size_t i;
	int j;

	if (syn == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < t->n_cmds; i++) {
		const char *why;
		size_t col;

		if (t->cmds[i].syntax == NULL || t->cmds[i].handler == NULL) {
			snprintf(err, errlen, "command %zu: no syntax or no handler", i);
			goto fail;
		}
		if (syn_compile(t->cmds[i].syntax, syn, &why, &col) != 0) {
			snprintf(err, errlen, "command \"%s\": %s at column %zu", t->cmds[i].syntax,
				 why, col);
			goto fail;
		}
		for (j = 0; j < syn->count; j++) {
			const struct node *nd = &syn->n[j];

			if (nd->kind == N_KW && word_help(t, nd->text, nd->len) == NULL) {
				snprintf(err, errlen, "command \"%s\": keyword \"%.*s\" has no help text",
					 t->cmds[i].syntax, (int)nd->len, nd->text);
				goto fail;
			}
		}
	}
	free(syn);
	return 0;
fail:
	free(syn);
	return -1;
}

/* ---------------------------------------------------------------- arguments */

/* Word index of the argument with key (or, failing that, of that type); -1 if none. */
static int
arg_find(const struct cli_args *a, const char *key)
{
	size_t len = strlen(key);
	int k;

	for (k = 0; k < a->ws->n; k++) {
		const struct pathel *p = &a->path[k];

		if (p->kind != P_KW && p->len == len && strncmp(p->text, key, len) == 0)
			return k;
	}
	for (k = 0; k < a->ws->n; k++) {
		const struct pathel *p = &a->path[k];

		if (p->kind != P_KW && strcmp(arg_types[p->type].name, key) == 0)
			return k;
	}
	return -1;
}

bool
cli_arg_present(const struct cli_args *a, const char *key)
{
	size_t len = strlen(key);
	int k;

	for (k = 0; k < a->ws->n; k++) {
		const struct pathel *p = &a->path[k];

		if (p->kind == P_KW && p->len == len && strncasecmp(p->text, key, len) == 0)
			return true;
	}
	return arg_find(a, key) >= 0;
}

uint32_t
cli_arg_u32(const struct cli_args *a, const char *key)
{
	int k = arg_find(a, key);
	uint32_t v = 0;

	if (k < 0 || a->path[k].kind != P_ARG)
		return 0;
	if (!type_accepts(a->path[k].type, 0, UINT32_MAX, a->ws->w[k].s, &v, NULL, NULL))
		return 0;
	return v;
}

int
cli_arg_ip(const struct cli_args *a, const char *key, uint32_t *ip, uint8_t *plen)
{
	int k = arg_find(a, key);
	uint32_t v = 0;
	uint8_t l = 32;

	if (k < 0 || a->path[k].kind != P_ARG ||
	    (a->path[k].type != T_IP && a->path[k].type != T_PREFIX &&
	     a->path[k].type != T_ADDR && a->path[k].type != T_NET) ||
	    !type_accepts(a->path[k].type, 0, UINT32_MAX, a->ws->w[k].s, NULL, &v, &l))
		return -1;
	if (ip != NULL)
		*ip = v;
	if (plen != NULL)
		*plen = l;
	return 0;
}

const char *
cli_arg_str(const struct cli_args *a, const char *key)
{
	int k = arg_find(a, key);

	if (k < 0)
		return NULL;
	return a->path[k].kind == P_REST ? a->rest : a->ws->w[k].s;
}

const char *
cli_arg_rest(const struct cli_args *a)
{
	return a->rest;
}

const char *
cli_arg_line(const struct cli_args *a)
{
	return a->line;
}

const struct cli_cmd *
cli_arg_cmd(const struct cli_args *a)
{
	return a->cmd;
}

const struct cli_table *
cli_arg_table(const struct cli_args *a)
{
	return a->t;
}

/* ---------------------------------------------------------------- configuration lines */

/* Blank at s[i] (of len) by the configuration file's rules: its size in bytes (a UTF-8 no-break space is 2), or 0. */
static size_t
conf_blank_at(const char *s, size_t i, size_t len)
{
	unsigned char ch = (unsigned char)s[i];

	if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f')
		return 1;
	if (ch == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xa0)
		return 2;
	return 0;
}

/* Cut line (len bytes) into r's words. 0, or -1 with the reason on out. */
static int
conf_lex(const char *line, size_t len, struct cli_conf_line *r, struct cli_out *out)
{
	char *o = r->buf;
	size_t i, b;

	r->n = 0;
	r->lexcol = 0;
	if (len >= CLI_CONF_LINE_MAX) {
		cli_printf(out, "line too long (%zu characters): expected at most %d characters", len,
			   CLI_CONF_LINE_MAX - 1);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 || ch == 0x7f) && conf_blank_at(line, i, len) == 0) {
			r->lexcol = (unsigned)i + 1;
			cli_printf(out, "control character 0x%02x in line: expected printable text", ch);
			return -1;
		}
	}
	i = 0;
	for (;;) {
		char *start;

		while (i < len && (b = conf_blank_at(line, i, len)) != 0)
			i += b;
		if (i >= len)
			break;
		if (r->n == CLI_CONF_WORDS_MAX) {
			r->lexcol = (unsigned)i + 1;
			cli_printf(out, "too many words at \"%.40s\": expected at most %d words on a line",
				   line + i, CLI_CONF_WORDS_MAX);
			return -1;
		}
		start = o;
		r->col[r->n] = (unsigned)i + 1;
		if (line[i] == '"') {
			size_t q = i;

			for (i++; i < len && line[i] != '"'; i++)
				*o++ = line[i];
			if (i >= len) {
				r->lexcol = (unsigned)q + 1;
				cli_printf(out, "unterminated quote in %.*s: expected a closing \"",
					   (int)(len - q > 60 ? 60 : len - q), line + q);
				return -1;
			}
			i++;
			if (i < len && conf_blank_at(line, i, len) == 0) {
				*o = '\0';
				r->lexcol = (unsigned)i + 1;
				cli_printf(out, "text right after the quoted word \"%s\": expected a blank", start);
				return -1;
			}
		} else {
			while (i < len && conf_blank_at(line, i, len) == 0) {
				if (line[i] == '"') {
					*o = '\0';
					r->lexcol = (unsigned)i + 1;
					cli_printf(out, "stray quote after \"%s\": expected quotes around a whole word",
						   start);
					return -1;
				}
				*o++ = line[i++];
			}
		}
		*o++ = '\0';
		r->w[r->n++] = start;
	}
	return 0;
}

int
cli_parse_conf(const struct cli_table *t, const char *line, size_t len, struct cli_conf_line *r,
	       struct cli_out *out)
{
	const struct match *m;
	struct engine *e;
	char *kb = r->kbuf;
	size_t i = 0, b;
	int k, pick;

	r->cmd = NULL;
	r->bad = -1;
	r->n = 0;
	r->lexcol = 0;
	while (i < len && (b = conf_blank_at(line, i, len)) != 0)
		i += b;
	if (i >= len || line[i] == '#')
		return 0;   /* blank, a no-break space, or a comment */
	if (conf_lex(line, len, r, out) != 0)
		return -1;
	e = engine_alloc(t);
	if (e == NULL) {
		cli_printf(out, "out of memory: expected room for the grammar engine");
		return -1;
	}
	e->ws.n = (int)r->n;
	for (k = 0; k < (int)r->n; k++)
		/* A quoted keyword is still a keyword in a file (`set "interface" ...`). */
		e->ws.w[k] = (struct word){ r->w[k], strlen(r->w[k]), r->col[k] - 1, false };
	e->bad = (int)r->n;
	if (settle(e, e->ws.n, out) != 0)
		goto refused;
	walk_all(e, e->ws.n, false);
	if (e->too_complex || e->nmatch == 0) {
		e->bad = (int)r->n;
		walk_all(e, e->ws.n, true);
		cand_sort(e);
		cli_printf(out, "incomplete command: expected one of ");
		print_expected(e, out);
		goto refused;
	}
	pick = pick_match(e, out);
	if (pick < 0)
		goto refused;
	m = &e->match[pick];
	/* Keywords in the grammar's spelling, so a prefix reads as the whole word. */
	for (k = 0; k < (int)r->n; k++) {
		const struct pathel *pe = &m->path[k];

		if (pe->kind == P_KW && (size_t)(kb - r->kbuf) + pe->len + 1 <= sizeof(r->kbuf)) {
			memcpy(kb, pe->text, pe->len);
			kb[pe->len] = '\0';
			r->w[k] = kb;
			kb += pe->len + 1;
		}
	}
	r->cmd = &t->cmds[m->cmd];
	engine_free(e);
	return 0;
refused:
	r->bad = e->bad;
	engine_free(e);
	return 1;
}
