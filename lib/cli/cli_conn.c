/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Output sinks and the server side of the dpnat-cli socket protocol
 * (cli_proto.h): bytes in, complete lines out, each answer framed as text,
 * CLI_PROTO_END, status, '\n', at once or when its stream ends.
 * The line buffer is fixed: a client can make us skip bytes, never grow.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

int
cli_write(struct cli_out *out, const char *buf, size_t len)
{
	/* After a refused write, drop the rest: a hole in the middle would mislead. */
	if (out->failed)
		return -1;
	if (len == 0)
		return 0;
	if (out->write(out->arg, buf, len) != 0) {
		out->failed = true;
		return -1;
	}
	return 0;
}

int
cli_printf(struct cli_out *out, const char *fmt, ...)
{
	char small[512];
	char *big;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return cli_write(out, small, (size_t)n) == 0 ? n : -1;
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		out->failed = true;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = cli_write(out, big, (size_t)n);
	free(big);
	return rc == 0 ? n : -1;
}

static int
strbuf_write(void *arg, const char *buf, size_t len)
{
	struct cli_strbuf *sb = arg;
	size_t room = sb->size - 1 - sb->len;
	size_t n = len < room ? len : room;

	memcpy(sb->buf + sb->len, buf, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	if (n < len) {
		sb->truncated = true;
		return -1;
	}
	return 0;
}

void
cli_out_strbuf(struct cli_out *out, struct cli_strbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	sb->len = 0;
	sb->truncated = false;
	buf[0] = '\0';
	out->write = strbuf_write;
	out->arg = sb;
	out->failed = false;
	out->stream = NULL;   /* a fixed buffer takes no stream: a streaming view answers at once */
}

int
cli_out_stream(struct cli_out *out, cli_stream_fn next, void *state)
{
	if (out->stream == NULL || out->stream->active)
		return -1;
	*out->stream = (struct cli_stream){ .next = next, .state = state, .active = true };
	return 0;
}

int
cli_frame_end(struct cli_out *out, int status)
{
	const char frame[3] = { CLI_PROTO_END, status == 0 ? CLI_PROTO_OK : CLI_PROTO_ERR, '\n' };
	/* Straight to the sink: the frame must go out even after a failed answer. */
	int rc = out->write(out->arg, frame, sizeof(frame));

	out->failed = false;
	return rc == 0 ? 0 : -1;
}

void
cli_conn_init(struct cli_conn *c)
{
	c->len = 0;
	c->discarding = false;
	c->closed = false;
	c->n_lines = c->n_too_long = c->n_bad = 0;
	memset(&c->stream, 0, sizeof(c->stream));
}

bool
cli_conn_streaming(const struct cli_conn *c)
{
	return c->stream.active;
}

int
cli_conn_stream_next(struct cli_conn *c, struct cli_out *out)
{
	if (!c->stream.active)
		return 1;
	if (c->stream.next(c->stream.state, out) == 0)
		return 0;
	c->stream.active = false;
	cli_frame_end(out, c->stream.status);
	return 1;
}

void
cli_conn_release(struct cli_conn *c)
{
	if (c->stream.active)
		c->stream.next(c->stream.state, NULL);
	c->stream.active = false;
}

/* First control byte of a line (tab and a leading 0x01 request mark are fine); -1 if none. */
static int
bad_byte(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\t' || (ch == 0x01 && i == 0))
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return ch;
	}
	return -1;
}

static bool
is_exit(const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len == 4 && (strncasecmp(s, "exit", 4) == 0 || strncasecmp(s, "quit", 4) == 0);
}

/* One complete line in c->buf: run it and frame the answer. Returns 1 on exit/quit, 2 when it streams. */
static int
conn_line(struct cli_conn *c, cli_line_fn fn, void *arg, struct cli_out *out)
{
	struct cli_stream *outer = out->stream;
	int bad, rc;

	if (c->len > 0 && c->buf[c->len - 1] == '\r')
		c->len--;
	c->buf[c->len] = '\0';
	bad = bad_byte(c->buf, c->len);
	c->len = 0;
	if (bad >= 0) {
		c->n_bad++;
		cli_printf(out, "invalid byte 0x%02x in command line\n", bad);
		cli_frame_end(out, -1);
		return 0;
	}
	if (is_exit(c->buf))
		return 1;
	c->n_lines++;
	out->stream = &c->stream;
	rc = fn(arg, c->buf, out);
	out->stream = outer;
	if (c->stream.active) {
		/* The answer goes on as the client reads it: framed by cli_conn_stream_next. */
		c->stream.status = rc;
		return 2;
	}
	cli_frame_end(out, rc);
	return 0;
}

int
cli_conn_feed(struct cli_conn *c, const void *data, size_t len, cli_line_fn fn, void *arg,
	      struct cli_out *out)
{
	const char *p = data;
	size_t i;

	if (c->closed)
		return 1;
	if (c->stream.active)
		return 2;
	for (i = 0; i < len; i++) {
		char ch = p[i];

		if (ch == '\n') {
			int rc = 0;

			if (c->discarding) {
				c->discarding = false;
				c->len = 0;
			} else {
				rc = conn_line(c, fn, arg, out);
			}
			if (rc == 1)
				c->closed = true;
			if (rc != 0)
				return rc;
			continue;
		}
		if (c->discarding)
			continue;
		if (c->len == CLI_LINE_MAX) {
			/* Answer now: the client may be waiting, and we will not keep the bytes. */
			c->n_too_long++;
			c->discarding = true;
			c->len = 0;
			cli_printf(out, "line too long (max %d bytes)\n", CLI_LINE_MAX);
			cli_frame_end(out, -1);
			continue;
		}
		c->buf[c->len++] = ch;
	}
	return 0;
}
