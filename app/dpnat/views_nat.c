/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `get nat mapping`: the RFC 4787/5382 behaviour in force and the
 * endpoint-independent mappings (lib/nat/nat_map.h), streamed a slice at a
 * time as the client reads.
 */
#include <netinet/in.h>
#include <stdlib.h>

#include "dp.h"
#include "views.h"

/* A `get nat mapping` list being streamed. */
struct map_stream {
	struct dp *dp;
	uint32_t pos;
};

static const char *
map_proto(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" :
	       proto == IPPROTO_ICMP ? "icmp" : "other";
}

/* One slice: 4096 slots of the table, 1024 a lock. 0: more to come, 1: done. */
static int
map_stream_next(void *state, struct cli_out *out)
{
	struct map_stream *ms = state;
	struct nat_map_info mi[64];
	struct nat_map_stats st;
	uint32_t end = ms->pos + 4096;
	unsigned i, n;
	char a[16], b[16];

	if (out == NULL)
		goto done;
	nat_map_stats(ms->dp->nat_ctx.map, &st);
	while (ms->pos < end && ms->pos < st.max && !out->failed) {
		n = nat_map_list(ms->dp->nat_ctx.map, &ms->pos, mi, RTE_DIM(mi));
		for (i = 0; i < n; i++)
			cli_printf(out, "%-5s %s/%u -> %s/%u, sessions %u, policy %u, age %u\n",
				   map_proto(mi[i].proto), conf_ip_str(rte_be_to_cpu_32(mi[i].in_ip), a),
				   rte_be_to_cpu_16(mi[i].in_port),
				   conf_ip_str(rte_be_to_cpu_32(mi[i].pub_ip), b),
				   rte_be_to_cpu_16(mi[i].pub_port), mi[i].refs, mi[i].policy_id,
				   flow_clock(ms->dp->flows) - mi[i].created);
	}
	if (ms->pos < st.max && !out->failed)
		return 0;
done:
	free(ms);
	return 1;
}

int
h_get_nat_mapping(const struct cli_args *a, struct cli_out *out, void *ctx)
{
	struct dp *dp = ctx;
	const struct conf_nat *c = &dp->conf.nat;
	struct nat_map_stats st;
	struct map_stream *ms;

	RTE_SET_USED(a);
	nat_map_stats(dp->nat_ctx.map, &st);
	cli_printf(out, "mapping %s, filtering %s, hairpin %s, port-preserve %s\n",
		   c->eim ? "endpoint-independent" : "per session",
		   c->eif ? "endpoint-independent" : "address-and-port-dependent",
		   c->hairpin ? "on" : "off",
		   c->port_keep == CONF_PORT_PARITY ? "parity" :
		   c->port_keep == CONF_PORT_PRESERVE ? "on" : "off");
	cli_printf(out, "%u out of %u nat mappings are used.\n", st.used, st.max);
	cli_printf(out, "created %lu, freed %lu, reused %lu, failed %lu, inbound %lu, hairpin %lu\n",
		   (unsigned long)st.created, (unsigned long)st.freed, (unsigned long)st.reused,
		   (unsigned long)st.failed, (unsigned long)st.inbound, (unsigned long)st.hairpin);
	ms = malloc(sizeof(*ms));
	if (ms == NULL)
		return 0;
	*ms = (struct map_stream){ .dp = dp };
	if (cli_out_stream(out, map_stream_next, ms) == 0)
		return 0;
	/* No stream here (tech-support, tests): the whole list at once. */
	while (map_stream_next(ms, out) == 0)
		;
	return 0;
}
