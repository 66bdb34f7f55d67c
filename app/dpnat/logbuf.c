/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The recent log: every line dpnat (and DPDK) logs still goes where the EAL
 * sent it (stdout and syslog, the journal under systemd), and a copy is kept
 * in a fixed ring of the last DP_LOGBUF_SIZE bytes for `get tech-support`.
 * Writers are serialised by the stdio lock of the log stream, which the
 * reader takes too.
 */
#include <stdio.h>
#include <string.h>

#include <rte_log.h>

#include "cli.h"
#include "dp.h"
#include "dp_log.h"

#define DP_LOGBUF_SIZE (64u << 10)

static char ring[DP_LOGBUF_SIZE];
static size_t ring_head;        /* next byte written */
static bool ring_wrapped;
static FILE *prev_stream;       /* where the EAL logged before */
static FILE *our_stream;

static ssize_t
logbuf_write(void *cookie, const char *buf, size_t len)
{
	size_t i = 0;

	RTE_SET_USED(cookie);
	if (prev_stream != NULL) {
		fwrite(buf, 1, len, prev_stream);
		fflush(prev_stream);
	}
	if (len > DP_LOGBUF_SIZE)
		i = len - DP_LOGBUF_SIZE;   /* only the tail fits */
	while (i < len) {
		size_t n = len - i < DP_LOGBUF_SIZE - ring_head ? len - i : DP_LOGBUF_SIZE - ring_head;

		memcpy(ring + ring_head, buf + i, n);
		ring_head += n;
		i += n;
		if (ring_head == DP_LOGBUF_SIZE) {
			ring_head = 0;
			ring_wrapped = true;
		}
	}
	return (ssize_t)len;
}

void
dp_logbuf_init(void)
{
	cookie_io_functions_t io = { .write = logbuf_write };

	if (our_stream != NULL)
		return;
	prev_stream = rte_log_get_stream();
	our_stream = fopencookie(NULL, "w", io);
	if (our_stream == NULL)
		return;   /* logging goes on as before, without the copy */
	setvbuf(our_stream, NULL, _IOLBF, 0);
	rte_openlog_stream(our_stream);
}

void
dp_logbuf_dump(struct cli_out *out)
{
	size_t start = 0, len;

	if (our_stream == NULL) {
		cli_printf(out, "(the recent log is not kept)\n");
		return;
	}
	flockfile(our_stream);
	if (ring_wrapped) {
		/* Begin at the first whole line of the older part. */
		char *nl = memchr(ring + ring_head, '\n', DP_LOGBUF_SIZE - ring_head);

		if (nl != NULL) {
			start = (size_t)(nl + 1 - ring);
			cli_write(out, ring + start, DP_LOGBUF_SIZE - start);
		}
	}
	len = ring_head;
	cli_write(out, ring, len);
	funlockfile(our_stream);
	if (len > 0 && ring[len - 1] != '\n')
		cli_printf(out, "\n");
}
