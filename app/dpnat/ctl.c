/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a unix stream socket served from the control lcore
 * with non-blocking I/O only. Each client has a bounded input line and a
 * bounded output backlog; a client that floods, stalls or speaks garbage is
 * cut off, never waited for. ctl.c knows the socket only: lines go to the
 * line function given to dp_ctl_open (main's: the CLI views), and lib/cli
 * assembles lines, frames answers (cli_proto.h) and carries the streams a
 * handler leaves for long answers; ctl.c continues them as the backlog
 * drains.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "ctl.h"
#include "dp_log.h"

#include <rte_common.h>
#include <rte_log.h>

#define CTL_MAX_CLIENTS 64
#define CTL_OUT_MAX     (64u << 20)  /* backlog bound per client */
#define CTL_OUT_LOW     (256u << 10) /* a streamed answer is continued below this backlog */
#define CTL_IN_MAX      4096         /* received bytes held while an answer is going out */

struct ctl_client {
	int fd;
	bool closing;            /* the client said exit: close once the answer is out */
	struct cli_conn conn;    /* line assembly and a streamed answer, bounded */
	char *out;               /* pending answer bytes */
	size_t out_len, out_off, out_cap;
	char in[CTL_IN_MAX];     /* received, not yet run: one line runs at a time */
	size_t in_len;
};

static int listen_fd = -1;
static char listen_path[108];            /* sizeof(sockaddr_un.sun_path) */
static struct ctl_client clients[CTL_MAX_CLIENTS];
static cli_line_fn line_fn;              /* runs one line (dp_ctl_open) */
static void *line_arg;

/* Append to a client's backlog; false when the bound is hit. */
static bool
out_append(struct ctl_client *c, const char *buf, size_t len)
{
	if (c->out_len + len > CTL_OUT_MAX)
		return false;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *n;

		while (cap < c->out_len + len)
			cap *= 2;
		n = realloc(c->out, cap);
		if (n == NULL)
			return false;
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return true;
}

static int
sink_write(void *arg, const char *buf, size_t len)
{
	struct ctl_client *c = arg;

	return out_append(c, buf, len) ? 0 : -1;
}

static void
client_close(struct ctl_client *c)
{
	cli_conn_release(&c->conn);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int
dp_ctl_group(const char *path, const char *group, char *err, size_t errlen)
{
	gid_t gid = getegid();

	if (group[0] != '\0') {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
			snprintf(err, errlen, "cli socket-group \"%s\": no such group", group);
			return -1;
		}
		gid = gr.gr_gid;
	}
	if (chown(path, (uid_t)-1, gid) != 0) {
		snprintf(err, errlen, "cli socket-group \"%s\": %s", group, strerror(errno));
		return -1;
	}
	return 0;
}

int
dp_ctl_open(const char *path, unsigned mode, const char *group, cli_line_fn run, void *arg,
	    char *err, size_t errlen)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	unsigned i;

	RTE_BUILD_BUG_ON(sizeof(listen_path) != sizeof(sa.sun_path));
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	line_fn = run;
	line_arg = arg;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A stale socket from a crashed run: take it over only if nobody answers on it. */
	if (access(path, F_OK) == 0) {
		int probe = socket(AF_UNIX, SOCK_STREAM, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(listen_fd);
			listen_fd = -1;
			snprintf(err, errlen, "socket %s is in use by another dpnat", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, mode) != 0 || listen(listen_fd, 64) != 0) {
		snprintf(err, errlen, "socket %s: %s", path, strerror(errno));
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	if (group[0] != '\0' && dp_ctl_group(path, group, err, errlen) != 0) {
		close(listen_fd);
		listen_fd = -1;
		unlink(path);
		return -1;
	}
	snprintf(listen_path, sizeof(listen_path), "%s", path);
	return 0;
}

/*
 * Run held input one line at a time while no answer is streaming and the
 * backlog is low. Returns false to drop the client.
 */
static bool
client_run(struct ctl_client *c)
{
	struct cli_out out = { .write = sink_write, .arg = c };

	/* Continue a streamed answer by one slice. */
	if (c->out_len - c->out_off < CTL_OUT_LOW)
		cli_conn_stream_next(&c->conn, &out);
	while (!cli_conn_streaming(&c->conn) && !c->closing && c->in_len > 0 &&
	       c->out_len - c->out_off < CTL_OUT_LOW) {
		char *nl = memchr(c->in, '\n', c->in_len);
		/* One line at a time: its answer may stream (cli_conn_feed). */
		size_t n = nl != NULL ? (size_t)(nl - c->in) + 1 : c->in_len;
		int rc;

		rc = cli_conn_feed(&c->conn, c->in, n, line_fn, line_arg, &out);
		memmove(c->in, c->in + n, c->in_len - n);
		c->in_len -= n;
		if (rc == 1)
			c->closing = true;
	}
	/* An answer too big for the backlog bound: the client is cut off. */
	return !out.failed;
}

/* Read what the client sent and run it. Returns false to drop the client. */
static bool
client_read(struct ctl_client *c)
{
	ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

	if (n == 0)
		return false;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->in_len += (size_t)n;
	return client_run(c);
}

int
dp_send_some(int fd, const char *buf, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t n = send(fd, buf + *off, len - *off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		*off += (size_t)n;
	}
	return 1;
}

/* Send what we can without blocking. Returns false to drop the client. */
static bool
client_write(struct ctl_client *c)
{
	int rc = dp_send_some(c->fd, c->out, c->out_len, &c->out_off);

	if (rc <= 0)
		return rc == 0;
	c->out_off = c->out_len = 0;
	return true;
}

bool
dp_ctl_poll(void)
{
	struct pollfd pfd[CTL_MAX_CLIENTS + 1];
	unsigned idx[CTL_MAX_CLIENTS + 1];
	unsigned i, n = 0;
	bool busy = false;

	if (listen_fd < 0)
		return false;
	pfd[n].fd = listen_fd;
	pfd[n].events = POLLIN;
	n++;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (clients[i].fd < 0)
			continue;
		/* Streamed answers and held lines move on whenever the backlog allows. */
		if (cli_conn_streaming(&clients[i].conn) || clients[i].in_len > 0) {
			busy |= clients[i].out_len - clients[i].out_off < CTL_OUT_LOW;
			if (!client_run(&clients[i])) {
				client_close(&clients[i]);
				continue;
			}
		}
		pfd[n].fd = clients[i].fd;
		/* Read no more from a client that does not read its answers. */
		pfd[n].events = clients[i].out_len > clients[i].out_off ? POLLOUT :
				(clients[i].in_len < CTL_IN_MAX && !cli_conn_streaming(&clients[i].conn)) ?
				POLLIN : 0;
		idx[n++] = i;
	}
	if (poll(pfd, n, 0) <= 0)
		return busy;
	for (i = 1; i < n; i++) {
		struct ctl_client *c = &clients[idx[i]];
		bool keep = true;

		if (pfd[i].revents & (POLLERR | POLLNVAL))
			keep = false;
		else if (pfd[i].revents & POLLOUT)
			keep = client_write(c);
		else if (pfd[i].revents & (POLLIN | POLLHUP)) {
			keep = client_read(c);
			if (keep)
				keep = client_write(c);
		}
		if (keep && c->closing && c->out_len == 0 && !cli_conn_streaming(&c->conn))
			keep = false;
		if (!keep)
			client_close(c);
	}
	if (pfd[0].revents & POLLIN) {
		static uint64_t refused;
		int fd;

		while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			for (i = 0; i < CTL_MAX_CLIENTS && clients[i].fd >= 0; i++)
				;
			if (i == CTL_MAX_CLIENTS) {
				close(fd);   /* full: refuse rather than grow */
				refused++;
				rte_log(RTE_LOG_WARNING, dp_logtype_ctl,
					"dpnat: CLI connection refused: %u clients already (%lu refused)\n",
					CTL_MAX_CLIENTS, (unsigned long)refused);
				continue;
			}
			rte_log(RTE_LOG_DEBUG, dp_logtype_ctl, "dpnat: CLI client %d connected\n", fd);
			clients[i].fd = fd;
			cli_conn_init(&clients[i].conn);
		}
	}
	return true;
}

void
dp_ctl_close(void)
{
	unsigned i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
		unlink(listen_path);
	}
}
