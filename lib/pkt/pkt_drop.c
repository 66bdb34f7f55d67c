/* SPDX-License-Identifier: BSD-3-Clause */
#include "pkt_drop.h"

#define DPNAT_DROP_NAME(e, s, h) s,
#define DPNAT_DROP_HELP(e, s, h) h,
static const char *const drop_names[] = { DPNAT_FOREACH_DROP(DPNAT_DROP_NAME) };
static const char *const drop_helps[] = { DPNAT_FOREACH_DROP(DPNAT_DROP_HELP) };

const char *
pkt_drop_name(unsigned reason)
{
	return reason < PKT_DROP_MAX ? drop_names[reason] : "?";
}

const char *
pkt_drop_help(unsigned reason)
{
	return reason < PKT_DROP_MAX ? drop_helps[reason] : "?";
}
