/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL creates a runtime directory per file prefix (/var/run/dpdk/<prefix>:
 * config, memory segment lists, the multi-process and telemetry sockets) and
 * leaves it behind at exit. Programs that use a new prefix per process (the
 * unit tests, the fuzz harnesses, dpnat-bench-worker) remove theirs.
 */
#ifndef DPNAT_TEST_EAL_RUNDIR_H
#define DPNAT_TEST_EAL_RUNDIR_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

static char eal_rundir_path[PATH_MAX];

/* Remove the directory recorded by eal_rundir_remove_at_exit and the files in it. */
static __attribute__((unused)) void
eal_rundir_remove(void)
{
	DIR *d = opendir(eal_rundir_path);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(eal_rundir_path);
}

/* After rte_eal_init: remove this process's EAL runtime directory when it exits. */
static inline __attribute__((unused)) void
eal_rundir_remove_at_exit(void)
{
	const char *p = rte_eal_get_runtime_dir();

	if (p == NULL || p[0] == '\0' || strlen(p) >= sizeof(eal_rundir_path))
		return;
	snprintf(eal_rundir_path, sizeof(eal_rundir_path), "%s", p);
	atexit(eal_rundir_remove);
}

#endif
