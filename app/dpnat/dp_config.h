/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running configuration: loading it (init.c) and changing it at run
 * time, by `set`/`unset` lines or a SIGHUP reload (config_rt.c).
 */
#ifndef DPNAT_DP_CONFIG_H
#define DPNAT_DP_CONFIG_H

#include "dp.h"

struct cli_out;

/* init.c */
/** Load the file at path, or the embedded default when path is NULL, into c and validate it. 0 or -1 with err. */
int dp_conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* config_rt.c */
/** Make nc the running configuration where that is possible live; 0, or -1 with the reason on out. */
int dp_config_apply(struct dp *dp, const struct conf *nc, struct cli_out *out);
/** Reload the configuration file given at start (SIGHUP); live sessions stay. 0 or -1 (logged). */
int dp_config_reload(struct dp *dp);
/** The embedded default configuration (config/kb-lab.conf). */
extern const char dpnat_default_conf[];
/** Apply one `set`/`unset` line at run time; 0, or -1 with the reason written to out. */
int dp_config_line(struct dp *dp, const char *line, struct cli_out *out);

#endif /* DPNAT_DP_CONFIG_H */
