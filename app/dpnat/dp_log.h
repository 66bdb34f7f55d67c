/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The program's own logging (libraries have their log types): one log type
 * per module of app/dpnat, and the recent log kept for get tech-support (logbuf.c).
 */
#ifndef DPNAT_DP_LOG_H
#define DPNAT_DP_LOG_H

#include <rte_log.h>

struct cli_out;

/** dpnat's own log types (one per module of the program; libraries have theirs). */
extern int dp_logtype_main;
extern int dp_logtype_ctl;
/** Log one line from the program's control side at level (ERR, NOTICE, INFO, DEBUG). */
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dp_logtype_main, "dpnat: " fmt "\n", ##__VA_ARGS__)

/* logbuf.c */
/** Keep a copy of the last 64 KiB logged, after rte_eal_init (logging goes where it went). */
void dp_logbuf_init(void);
/** Write the recent log, oldest line first. */
void dp_logbuf_dump(struct cli_out *out);

#endif /* DPNAT_DP_LOG_H */
