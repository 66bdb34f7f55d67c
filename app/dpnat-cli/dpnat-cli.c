/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpnat-cli: the ScreenOS-like command line of the dpnat daemon.
 *
 *   dpnat-cli [-s SOCKET] [COMMAND WORDS...]
 *
 * With words it sends one command and prints the answer (stdout, or stderr if
 * the daemon reports an error) and exits 0 or 1. Without words it reads
 * commands: from a terminal with line editing, history, tab completion and
 * `?` help asked from the daemon; otherwise line by line, for scripts.
 * Exit status 2 means the daemon could not be reached or went away.
 *
 * Protocol: lib/cli/cli_proto.h, shared with the daemon (the header only:
 * the client links no dpnat library). `dpnat-cli --complete LINE` prints a
 * completion request's answer, for the bash completion.
 */
#include <errno.h>
#include <getopt.h>
#include <histedit.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_proto.h"
#include "dpnat_version.h"

#define DEFAULT_SOCKET  CLI_PROTO_SOCKET
#define LINE_MAX_BYTES  CLI_PROTO_LINE_MAX
#define HOLD_MAX        (64u * 1024)    /* answer bytes held back before streaming */
#define COMPLETE_MAX    (1u << 20)      /* completion answers are word lists */
#define HISTORY_SIZE    1000
#define PROMPT          "dpnat-> "

#define EXIT_OK         0
#define EXIT_CMD_FAILED 1
#define EXIT_NO_DAEMON  2

/* The connection to the daemon, with bytes read past the last answer. */
struct conn {
	int fd;
	const char *path;
	size_t off, len;
	char buf[16384];
};

/* Answer text as it arrives: held up to HOLD_MAX, so that a short error can go to stderr. */
struct answer {
	char *buf;
	size_t len, cap, max;
	bool streaming;   /* too long to hold: going to stdout as it comes */
	bool stream_ok;   /* may stream (one-shot/script) or must hold all (completion) */
	bool overflow;
};

static struct conn g_conn;
static bool g_broken;        /* the daemon went away during an interactive request */

static int
conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->path = path;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(c->fd);
		c->fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

/* Send buf then '\n'. Returns 0, or -1 if the connection is gone. */
static int
conn_send_line(struct conn *c, const char *buf, size_t len)
{
	struct iovec parts[2] = { { (void *)buf, len }, { "\n", 1 } };
	struct msghdr mh = { .msg_iov = parts, .msg_iovlen = 2 };

	while (parts[0].iov_len + parts[1].iov_len > 0) {
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		size_t done;
		int i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done = (size_t)n;
		for (i = 0; i < 2; i++) {
			size_t take = done < parts[i].iov_len ? done : parts[i].iov_len;

			parts[i].iov_base = (char *)parts[i].iov_base + take;
			parts[i].iov_len -= take;
			done -= take;
		}
		/* Skip emptied leading parts so sendmsg never sees a zero-length head. */
		mh.msg_iov = parts[0].iov_len == 0 ? &parts[1] : &parts[0];
		mh.msg_iovlen = parts[0].iov_len == 0 ? 1 : 2;
	}
	return 0;
}

static void
answer_init(struct answer *a, size_t max, bool stream_ok)
{
	memset(a, 0, sizeof(*a));
	a->max = max;
	a->stream_ok = stream_ok;
}

static void
answer_add(struct answer *a, const char *buf, size_t len)
{
	if (a->streaming) {
		fwrite(buf, 1, len, stdout);
		return;
	}
	if (a->len + len > a->max) {
		if (!a->stream_ok) {
			a->overflow = true;
			return;
		}
		/* Too long to be an error message: it is output, send it on. */
		a->streaming = true;
		fwrite(a->buf, 1, a->len, stdout);
		fwrite(buf, 1, len, stdout);
		a->len = 0;
		return;
	}
	if (a->len + len + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		char *n;

		while (cap < a->len + len + 1)
			cap *= 2;
		n = realloc(a->buf, cap);
		if (n == NULL) {
			a->overflow = true;
			return;
		}
		a->buf = n;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, buf, len);
	a->len += len;
	a->buf[a->len] = '\0';
}

/*
 * Read one answer into a. Returns its status (0 ok, 1 error), or -1 if the
 * connection closed or failed before the answer ended (errno 0 on a plain
 * close), or -2 if the bytes break the framing.
 */
static int
conn_read_answer(struct conn *c, struct answer *a)
{
	enum { TEXT, STATUS, END } st = TEXT;
	int status = 1;

	for (;;) {
		while (c->off < c->len) {
			const char *p = c->buf + c->off;
			size_t avail = c->len - c->off;
			const char *nul;

			switch (st) {
			case TEXT:
				nul = memchr(p, CLI_PROTO_END, avail);
				answer_add(a, p, nul != NULL ? (size_t)(nul - p) : avail);
				c->off += nul != NULL ? (size_t)(nul - p) + 1 : avail;
				if (nul != NULL)
					st = STATUS;
				break;
			case STATUS:
				if (*p != CLI_PROTO_OK && *p != CLI_PROTO_ERR)
					return -2;
				status = *p == CLI_PROTO_ERR;
				c->off++;
				st = END;
				break;
			case END:
				if (*p != '\n')
					return -2;
				c->off++;
				return status;
			}
		}
		c->off = c->len = 0;
		for (;;) {
			ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);

			if (n > 0) {
				c->len = (size_t)n;
				break;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				errno = 0;
			return -1;
		}
	}
}

/* Say why the daemon is gone; for exit status 2. */
static void
report_broken(const struct conn *c, int rc)
{
	fflush(stdout);
	if (rc == -2)
		fprintf(stderr, "dpnat-cli: malformed answer from %s\n", c->path);
	else if (errno != 0)
		fprintf(stderr, "dpnat-cli: connection to %s lost: %s\n", c->path, strerror(errno));
	else
		fprintf(stderr, "dpnat-cli: %s closed the connection before the answer ended\n",
			c->path);
}

/* Print what is held of an answer to f, with a final newline if it lacks one. */
static void
answer_print(const struct answer *a, FILE *f)
{
	if (a->len == 0)
		return;
	fwrite(a->buf, 1, a->len, f);
	if (a->buf[a->len - 1] != '\n')
		fputc('\n', f);
}

/*
 * Send one command and print its answer. Returns 0 (ok), 1 (the daemon
 * reported an error) or 2 (the connection broke; said on stderr).
 */
static int
run_command(struct conn *c, const char *line)
{
	struct answer a;
	int rc;

	if (strlen(line) > LINE_MAX_BYTES) {
		fprintf(stderr, "dpnat-cli: command too long (max %d bytes)\n", LINE_MAX_BYTES);
		return EXIT_CMD_FAILED;
	}
	if (conn_send_line(c, line, strlen(line)) != 0) {
		report_broken(c, -1);
		return EXIT_NO_DAEMON;
	}
	answer_init(&a, HOLD_MAX, true);
	rc = conn_read_answer(c, &a);
	if (rc < 0) {
		/* Show what did arrive, then why the rest did not. */
		answer_print(&a, stdout);
		report_broken(c, rc);
		free(a.buf);
		return EXIT_NO_DAEMON;
	}
	if (a.streaming) {
		fflush(stdout);
	} else {
		answer_print(&a, rc == 0 ? stdout : stderr);
		fflush(rc == 0 ? stdout : stderr);
	}
	free(a.buf);
	return rc == 0 ? EXIT_OK : EXIT_CMD_FAILED;
}

static bool
is_exit(const char *s)
{
	return strcasecmp(s, "exit") == 0 || strcasecmp(s, "quit") == 0;
}

/* Cut blanks and line ends at both ends, in place. */
static char *
trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		s[--len] = '\0';
	return s;
}

/*
 * The words of the command line as one line. A later word with blanks and no
 * quote of its own is quoted; the first word goes as it is, since a quoted
 * first word is never a command, so `dpnat-cli "get session"` works too.
 */
static char *
join_words(int argc, char **argv)
{
	size_t cap = 1, o = 0;
	char *line;
	int i;

	for (i = 0; i < argc; i++)
		cap += 2 * strlen(argv[i]) + 3;
	line = malloc(cap);
	if (line == NULL)
		return NULL;
	for (i = 0; i < argc; i++) {
		const char *w = argv[i];
		bool quote = i > 0 && strchr(w, '"') == NULL &&
			     (w[0] == '\0' || strpbrk(w, " \t") != NULL);

		if (i > 0)
			line[o++] = ' ';
		if (!quote) {
			memcpy(line + o, w, strlen(w));
			o += strlen(w);
			continue;
		}
		line[o++] = '"';
		for (; *w != '\0'; w++) {
			if (*w == '\\')
				line[o++] = '\\';
			line[o++] = *w;
		}
		line[o++] = '"';
	}
	line[o] = '\0';
	return line;
}

/* The command line from the words, checked before anything is sent; NULL after a message. */
static char *
one_shot_line(int argc, char **argv)
{
	char *line = join_words(argc, argv);

	if (line == NULL) {
		fprintf(stderr, "dpnat-cli: out of memory\n");
		return NULL;
	}
	if (strpbrk(line, "\r\n") != NULL) {
		fprintf(stderr, "dpnat-cli: a command cannot contain a line break\n");
		free(line);
		return NULL;
	}
	if (strlen(line) > LINE_MAX_BYTES) {
		fprintf(stderr, "dpnat-cli: command too long (max %d bytes)\n", LINE_MAX_BYTES);
		free(line);
		return NULL;
	}
	return line;
}

static int
one_shot(struct conn *c, char *line)
{
	if (is_exit(trim(line)))
		return EXIT_OK;
	return run_command(c, line);
}

/* Commands from a pipe or file: no prompt; blank lines and # comments skipped. */
static int
script(struct conn *c)
{
	char *buf = NULL;
	size_t cap = 0;
	int worst = EXIT_OK;

	while (getline(&buf, &cap, stdin) >= 0) {
		char *line = trim(buf);
		int rc;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (is_exit(line))
			break;
		rc = run_command(c, line);
		if (rc == EXIT_NO_DAEMON) {
			worst = rc;
			break;
		}
		if (rc > worst)
			worst = rc;
	}
	free(buf);
	return worst;
}

/* ---------------------------------------------------------------- interactive */

static const char *
prompt(EditLine *el)
{
	(void)el;
	return PROMPT;
}

/* The text before the cursor, as a C string (NULL if too long). */
static char *
text_before_cursor(EditLine *el, size_t extra)
{
	const LineInfo *li = el_line(el);
	size_t len = (size_t)(li->cursor - li->buffer);
	char *s;

	if (len + extra > LINE_MAX_BYTES)
		return NULL;
	s = malloc(len + extra + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, li->buffer, len);
	s[len] = '\0';
	return s;
}

/* Whether s ends inside a "quoted string" (then '?' is just a character). */
static bool
in_quotes(const char *s)
{
	bool q = false;

	for (; *s != '\0'; s++) {
		if (q && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			q = !q;
	}
	return q;
}

/* Ask the daemon; hold the whole answer. Returns the status, or -1 with g_broken set. */
static int
ask(const char *req, size_t reqlen, struct answer *a)
{
	int rc;

	answer_init(a, COMPLETE_MAX, false);
	if (conn_send_line(&g_conn, req, reqlen) != 0) {
		g_broken = true;
		return -1;
	}
	rc = conn_read_answer(&g_conn, a);
	if (rc < 0) {
		report_broken(&g_conn, rc);
		g_broken = true;
		return -1;
	}
	return rc;
}

/* `?` key: show the daemon's help for the text before the cursor, then redraw. */
static unsigned char
key_help(EditLine *el, int ch)
{
	struct answer a;
	char *text;
	int rc;

	(void)ch;
	text = text_before_cursor(el, 1);
	if (text == NULL)
		return CC_REFRESH_BEEP;
	if (in_quotes(text)) {
		free(text);
		return el_insertstr(el, "?") == 0 ? CC_REFRESH : CC_ERROR;
	}
	strcat(text, "?");
	fputs("?\n", stdout);
	rc = ask(text, strlen(text), &a);
	free(text);
	if (rc < 0) {
		free(a.buf);
		return CC_EOF;
	}
	answer_print(&a, stdout);
	fflush(stdout);
	free(a.buf);
	return CC_REDISPLAY;
}

/* Print candidates in columns under the line. */
static void
show_columns(char **w, int n)
{
	size_t width = 0;
	int i, cols;

	for (i = 0; i < n; i++)
		if (strlen(w[i]) > width)
			width = strlen(w[i]);
	width += 2;
	cols = (int)(80 / width);
	if (cols < 1)
		cols = 1;
	fputc('\n', stdout);
	for (i = 0; i < n; i++)
		printf("%-*s%s", (int)width, w[i], (i % cols == cols - 1 || i == n - 1) ? "\n" : "");
	fflush(stdout);
}

/* Tab key: complete the word before the cursor from the daemon's candidates. */
static unsigned char
key_complete(EditLine *el, int ch)
{
	static const char tag[] = CLI_PROTO_COMPLETE;
	char *text, *req, *word, *w[256];
	struct answer a;
	size_t plen, common;
	int n = 0, i, rc;
	unsigned char ret;

	(void)ch;
	text = text_before_cursor(el, 0);
	if (text == NULL)
		return CC_REFRESH_BEEP;
	req = malloc(strlen(text) + sizeof(tag));
	if (req == NULL) {
		free(text);
		return CC_ERROR;
	}
	memcpy(req, tag, sizeof(tag) - 1);
	strcpy(req + sizeof(tag) - 1, text);
	rc = ask(req, strlen(req), &a);
	free(req);
	if (rc < 0) {
		free(text);
		free(a.buf);
		return CC_EOF;
	}
	word = strrchr(text, ' ');
	word = word != NULL ? word + 1 : text;
	plen = strlen(word);
	for (char *save = NULL, *t = a.buf != NULL ? strtok_r(a.buf, "\n", &save) : NULL;
	     t != NULL && n < (int)(sizeof(w) / sizeof(w[0])); t = strtok_r(NULL, "\n", &save))
		if (strlen(t) >= plen)
			w[n++] = t;
	if (rc != 0 || n == 0) {
		ret = CC_REFRESH_BEEP;
	} else if (n == 1) {
		el_insertstr(el, w[0] + plen);
		el_insertstr(el, " ");
		ret = CC_REFRESH;
	} else {
		/* Insert what all candidates share; list them if that is nothing. */
		for (common = strlen(w[0]), i = 1; i < n; i++) {
			size_t k = 0;

			while (k < common && w[i][k] == w[0][k])
				k++;
			common = k;
		}
		if (common > plen) {
			char save = w[0][common];

			w[0][common] = '\0';
			el_insertstr(el, w[0] + plen);
			w[0][common] = save;
			ret = CC_REFRESH;
		} else {
			show_columns(w, n);
			ret = CC_REDISPLAY;
		}
	}
	free(text);
	free(a.buf);
	return ret;
}

static char *
history_path(void)
{
	const char *home = getenv("HOME");
	char *p;

	if (home == NULL || home[0] == '\0')
		return NULL;
	if (asprintf(&p, "%s/.dpnat_history", home) < 0)
		return NULL;
	return p;
}

static int
interactive(struct conn *c, const char *argv0)
{
	HistEvent ev;
	History *hist = history_init();
	EditLine *el = el_init(argv0, stdin, stdout, stderr);
	char *hpath = history_path();
	const char *got = NULL;
	int count, rc = EXIT_OK;

	if (hist == NULL || el == NULL) {
		fprintf(stderr, "dpnat-cli: cannot set up line editing\n");
		return EXIT_CMD_FAILED;
	}
	history(hist, &ev, H_SETSIZE, HISTORY_SIZE);
	history(hist, &ev, H_SETUNIQUE, 1);
	if (hpath != NULL)
		history(hist, &ev, H_LOAD, hpath);   /* a missing file is fine */
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, prompt);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_SIGNAL, 1);
	el_set(el, EL_ADDFN, "dpnat-complete", "complete a word from the daemon", key_complete);
	el_set(el, EL_ADDFN, "dpnat-help", "ask the daemon what may come next", key_help);
	el_set(el, EL_BIND, "^I", "dpnat-complete", NULL);
	el_set(el, EL_BIND, "?", "dpnat-help", NULL);
	el_source(el, NULL);   /* the user's ~/.editrc, if any */

	while (!g_broken && (got = el_gets(el, &count)) != NULL && count > 0) {
		char *copy = strdup(got), *line;

		if (copy == NULL)
			break;
		line = trim(copy);
		if (line[0] != '\0')
			history(hist, &ev, H_ENTER, line);
		if (is_exit(line)) {
			free(copy);
			break;
		}
		if (line[0] != '\0' && run_command(c, line) == EXIT_NO_DAEMON) {
			free(copy);
			rc = EXIT_NO_DAEMON;
			break;
		}
		free(copy);
	}
	if (g_broken)
		rc = EXIT_NO_DAEMON;
	else if (got == NULL)
		fputc('\n', stdout);   /* EOF: leave the shell prompt on its own line */
	if (hpath != NULL)
		history(hist, &ev, H_SAVE, hpath);
	free(hpath);
	el_end(el);
	history_end(hist);
	if (rc != EXIT_NO_DAEMON)
		(void)conn_send_line(c, "exit", 4);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: dpnat-cli [-s SOCKET] [COMMAND WORDS...]\n"
		   "       dpnat-cli [-s SOCKET] --complete LINE\n"
		   "  -s, --socket SOCKET  daemon socket (default $DPNAT_SOCKET, else " DEFAULT_SOCKET ")\n"
		   "  --complete LINE      print the words the daemon accepts after LINE's last word\n"
		   "                       (what Tab shows; used by the bash completion)\n"
		   "  -h, --help           this text;  --version  the version\n"
		   "Without words: an interactive prompt on a terminal, else commands from stdin.\n"
		   "`help` lists every command. Exit status: 0 ok, 1 the command failed,\n"
		   "2 the daemon cannot be reached. See dpnat-cli(8).\n");
}

/* --complete LINE: the daemon's candidates for LINE's last (partial) word, one per line. */
static int
complete_once(const char *text)
{
	static const char tag[] = CLI_PROTO_COMPLETE;
	struct answer a;
	char *req;
	int rc;

	if (strlen(text) > LINE_MAX_BYTES - sizeof(tag) || strchr(text, '\n') != NULL)
		return EXIT_CMD_FAILED;
	if (asprintf(&req, "%s%s", tag, text) < 0)
		return EXIT_CMD_FAILED;
	rc = ask(req, strlen(req), &a);
	free(req);
	if (rc < 0) {
		free(a.buf);
		return EXIT_NO_DAEMON;
	}
	if (rc == 0 && a.buf != NULL)
		fwrite(a.buf, 1, a.len, stdout);
	free(a.buf);
	return rc == 0 ? EXIT_OK : EXIT_CMD_FAILED;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "complete", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("DPNAT_SOCKET"), *complete = NULL;
	char *line = NULL;
	int opt, rc;

	if (path == NULL || path[0] == '\0')
		path = DEFAULT_SOCKET;
	/* '+': stop at the first command word, so words may start with '-'. */
	while ((opt = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("dpnat-cli %s\n", DPNAT_VERSION);
			return EXIT_OK;
		case 'C':
			complete = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_CMD_FAILED;
		}
	}
	if (optind < argc) {
		line = one_shot_line(argc - optind, argv + optind);
		if (line == NULL)
			return EXIT_CMD_FAILED;
	}
	signal(SIGPIPE, SIG_IGN);
	if (conn_open(&g_conn, path) != 0) {
		fprintf(stderr, "dpnat-cli: cannot connect to %s: %s\n", path, strerror(errno));
		free(line);
		return EXIT_NO_DAEMON;
	}
	if (complete != NULL)
		rc = complete_once(complete);
	else if (line != NULL)
		rc = one_shot(&g_conn, line);
	else if (isatty(STDIN_FILENO))
		rc = interactive(&g_conn, argv[0]);
	else
		rc = script(&g_conn);
	close(g_conn.fd);
	free(line);
	return rc;
}
