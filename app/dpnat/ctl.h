/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket (ctl.c): the unix socket dpnat-cli talks to, served
 * from the control lcore without blocking. It knows sockets and clients,
 * not commands: each line goes to the line function given at open.
 */
#ifndef DPNAT_CTL_H
#define DPNAT_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/** Give the socket at path to group (`set cli socket-group`; "" = the daemon's own). 0 or -1 with err. */
int dp_ctl_group(const char *path, const char *group, char *err, size_t errlen);
/** Send buf[*off..len) without blocking, advancing *off: 1 all sent, 0 the socket is full, -1 error. */
int dp_send_some(int fd, const char *buf, size_t len, size_t *off);
/**
 * Open the control socket at path with mode and group ("" = the daemon's);
 * every line a client sends runs through run(arg, line, out). 0 or -1 with err set.
 */
int dp_ctl_open(const char *path, unsigned mode, const char *group, cli_line_fn run, void *arg,
		char *err, size_t errlen);
/** Serve socket clients without blocking; true if a client had work (input, output, a connection). */
bool dp_ctl_poll(void);
/** Close clients and remove the socket file. */
void dp_ctl_close(void);

#endif /* DPNAT_CTL_H */
