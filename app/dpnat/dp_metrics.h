/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Figures for the outside: the Prometheus endpoint (metrics.c) and the DPDK
 * telemetry commands (telemetry.c).
 */
#ifndef DPNAT_DP_METRICS_H
#define DPNAT_DP_METRICS_H

#include "dp.h"

/* telemetry.c */
/** Register dpnat's telemetry commands, which read dp. */
void dp_telemetry_init(const struct dp *dp);
/** Stop answering from the dataplane (before dp_destroy); the commands then fail. */
void dp_telemetry_stop(void);

/* metrics.c */
/**
 * Open the listening socket nc's `set metrics listen` asks for, unless oc
 * (the running configuration, NULL at start) already has it: *fd is the new
 * socket or -1 (nothing to change). 0, or -1 with err set.
 */
int dp_metrics_prepare(const struct conf *oc, const struct conf *nc, int *fd, char *err, size_t errlen);
/** The change was given up: close fd from dp_metrics_prepare() and listen on oc's address again. */
void dp_metrics_abort(const struct conf *oc, int fd);
/** Make fd from dp_metrics_prepare() the endpoint when nc's address differs from oc's. */
void dp_metrics_commit(const struct conf *oc, const struct conf *nc, int fd);
/** Serve Prometheus scrapes without blocking (control lcore). */
void dp_metrics_poll(struct dp *dp);
/** Close the endpoint and its clients. */
void dp_metrics_close(void);

#endif /* DPNAT_DP_METRICS_H */
