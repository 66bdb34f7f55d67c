/* SPDX-License-Identifier: BSD-3-Clause */
/* Interfaces, zones and routes (lib/route/route.h), failures included. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "eal_rundir.h"
#include "route.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static int
setup_eal(void **state)
{
	char *argv[] = { "test_route", "--no-huge", "--no-shconf", "-m", "256", "--no-pci",
			 "--no-telemetry", "--log-level=error", "--file-prefix=dpnat_test_route",
			 "-l", "0" };

	(void)state;
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		return -1;
	eal_rundir_remove_at_exit();
	return 0;
}

static int
teardown_eal(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

/* Set interface idx named "eth<idx>" with ip/plen (plen 0: no address) on port idx. */
static int
set_if(struct route_table *rt, unsigned idx, uint32_t ip, uint8_t plen)
{
	struct route_iface ifc;

	memset(&ifc, 0, sizeof(ifc));
	snprintf(ifc.name, sizeof(ifc.name), "eth%u", idx);
	ifc.port_id = (uint16_t)idx;
	ifc.zone_id = ROUTE_ZONE_NONE;
	ifc.up = true;
	ifc.has_ip = plen != 0;
	ifc.ip = ip;
	ifc.plen = plen;
	return route_iface_set(rt, idx, &ifc);
}

/* Expect dst to route via (iface, gateway). */
static void
expect_nh(const struct route_table *rt, uint32_t dst, uint8_t iface, uint32_t gw)
{
	struct route_nh nh;

	memset(&nh, 0xaa, sizeof(nh));
	assert_int_equal(route_lookup(rt, dst, &nh), 0);
	assert_int_equal(nh.iface, iface);
	assert_int_equal(nh.gateway, gw);
}

static void
expect_miss(const struct route_table *rt, uint32_t dst)
{
	struct route_nh nh;

	assert_int_equal(route_lookup(rt, dst, &nh), -ENOENT);
}

/* Interface addresses give connected routes; no address, no route. */
static void
test_connected(void **state)
{
	struct route_table *rt = route_create("t_conn", 64, NULL, SOCKET_ID_ANY);
	const struct route_iface *ifc;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(route_count(rt), 0);
	assert_int_equal(route_iface_count(rt), 0);
	expect_miss(rt, IP(10, 1, 1, 1));
	assert_int_equal(set_if(rt, 0, IP(10, 1, 1, 1), 24), 0);
	assert_int_equal(set_if(rt, 1, IP(192, 168, 7, 1), 16), 0);
	assert_int_equal(set_if(rt, 3, 0, 0), 0);
	assert_int_equal(route_count(rt), 2);
	assert_int_equal(route_iface_count(rt), 4);
	assert_null(route_iface_get(rt, 2));
	assert_null(route_iface_get(rt, ROUTE_MAX_IFACES));
	ifc = route_iface_get(rt, 1);
	assert_non_null(ifc);
	assert_string_equal(ifc->name, "eth1");
	assert_int_equal(ifc->ip, IP(192, 168, 7, 1));
	assert_int_equal(ifc->plen, 16);

	expect_nh(rt, IP(10, 1, 1, 1), 0, 0);
	expect_nh(rt, IP(10, 1, 1, 254), 0, 0);
	expect_nh(rt, IP(192, 168, 200, 3), 1, 0);
	expect_miss(rt, IP(10, 1, 2, 1));
	expect_miss(rt, IP(192, 169, 0, 1));
	expect_miss(rt, IP(8, 8, 8, 8));

	/* Bad arguments. */
	assert_int_equal(set_if(rt, ROUTE_MAX_IFACES, IP(1, 1, 1, 1), 8), -EINVAL);
	assert_int_equal(set_if(rt, 5, IP(1, 1, 1, 1), 33), -EINVAL);
	assert_int_equal(route_iface_set(rt, 5, NULL), -EINVAL);
	assert_null(route_iface_get(rt, 5));
	assert_int_equal(route_count(rt), 2);
	route_free(rt);
	route_free(NULL);
}

/* The longest prefix wins across /0 /8 /16 /24 /32; deletes fall back. */
static void
test_longest_match(void **state)
{
	struct route_table *rt = route_create("t_lpm", 64, NULL, SOCKET_ID_ANY);
	unsigned i;

	(void)state;
	assert_non_null(rt);
	for (i = 0; i < 4; i++)
		assert_int_equal(set_if(rt, i, IP(172, 16, i, 1), 24), 0);
	assert_int_equal(route_add(rt, IP(10, 0, 0, 0), 8, 0, IP(172, 16, 0, 8)), 0);
	assert_int_equal(route_add(rt, IP(10, 1, 0, 0), 16, 1, IP(172, 16, 1, 16)), 0);
	assert_int_equal(route_add(rt, IP(10, 1, 2, 0), 24, 2, IP(172, 16, 2, 24)), 0);
	assert_int_equal(route_add(rt, IP(10, 1, 2, 3), 32, 3, IP(172, 16, 3, 32)), 0);
	assert_int_equal(route_count(rt), 8);

	expect_miss(rt, IP(11, 0, 0, 1));
	expect_nh(rt, IP(10, 200, 0, 1), 0, IP(172, 16, 0, 8));
	expect_nh(rt, IP(10, 1, 200, 1), 1, IP(172, 16, 1, 16));
	expect_nh(rt, IP(10, 1, 2, 4), 2, IP(172, 16, 2, 24));
	expect_nh(rt, IP(10, 1, 2, 2), 2, IP(172, 16, 2, 24));
	expect_nh(rt, IP(10, 1, 2, 3), 3, IP(172, 16, 3, 32));

	/* The default route catches the rest. */
	assert_int_equal(route_add(rt, 0, 0, 1, IP(172, 16, 1, 254)), 0);
	expect_nh(rt, IP(11, 0, 0, 1), 1, IP(172, 16, 1, 254));
	expect_nh(rt, IP(255, 255, 255, 255), 1, IP(172, 16, 1, 254));
	expect_nh(rt, IP(10, 1, 2, 3), 3, IP(172, 16, 3, 32));
	assert_int_equal(route_add(rt, 0, 0, 2, IP(172, 16, 2, 254)), -EEXIST);

	assert_int_equal(route_del(rt, IP(10, 1, 2, 3), 32), 0);
	expect_nh(rt, IP(10, 1, 2, 3), 2, IP(172, 16, 2, 24));
	assert_int_equal(route_del(rt, IP(10, 1, 2, 0), 24), 0);
	expect_nh(rt, IP(10, 1, 2, 3), 1, IP(172, 16, 1, 16));
	assert_int_equal(route_del(rt, IP(10, 1, 0, 0), 16), 0);
	expect_nh(rt, IP(10, 1, 2, 3), 0, IP(172, 16, 0, 8));
	assert_int_equal(route_del(rt, IP(10, 0, 0, 0), 8), 0);
	expect_nh(rt, IP(10, 1, 2, 3), 1, IP(172, 16, 1, 254));
	assert_int_equal(route_del(rt, 0, 0), 0);
	expect_miss(rt, IP(10, 1, 2, 3));
	expect_miss(rt, IP(11, 0, 0, 1));
	expect_nh(rt, IP(172, 16, 3, 9), 3, 0);
	assert_int_equal(route_count(rt), 4);
	route_free(rt);
}

/* Routes sharing a gateway share its next hop; removing one leaves the other right. */
static void
test_gateway_next_hops(void **state)
{
	struct route_table *rt = route_create("t_gw", 600, NULL, SOCKET_ID_ANY);
	unsigned i;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(192, 0, 2, 1), 24), 0);
	assert_int_equal(set_if(rt, 1, IP(198, 51, 100, 1), 24), 0);
	assert_int_equal(route_add(rt, IP(20, 0, 0, 0), 8, 0, IP(192, 0, 2, 254)), 0);
	assert_int_equal(route_add(rt, IP(30, 0, 0, 0), 8, 0, IP(192, 0, 2, 254)), 0);
	assert_int_equal(route_add(rt, IP(40, 0, 0, 0), 8, 1, IP(192, 0, 2, 254)), 0);
	/* On-link static route (gateway 0) shares the connected next hop. */
	assert_int_equal(route_add(rt, IP(50, 0, 0, 0), 8, 1, 0), 0);
	expect_nh(rt, IP(20, 1, 1, 1), 0, IP(192, 0, 2, 254));
	expect_nh(rt, IP(30, 1, 1, 1), 0, IP(192, 0, 2, 254));
	expect_nh(rt, IP(40, 1, 1, 1), 1, IP(192, 0, 2, 254));
	expect_nh(rt, IP(50, 1, 1, 1), 1, 0);

	assert_int_equal(route_del(rt, IP(20, 0, 0, 0), 8), 0);
	expect_miss(rt, IP(20, 1, 1, 1));
	expect_nh(rt, IP(30, 1, 1, 1), 0, IP(192, 0, 2, 254));
	assert_int_equal(route_del(rt, IP(50, 0, 0, 0), 8), 0);
	expect_nh(rt, IP(198, 51, 100, 7), 1, 0);

	/*
	 * More distinct gateways than next-hop slots are in use at once over
	 * time: add and delete many, the survivors keep their own next hop.
	 */
	for (i = 0; i < 500; i++) {
		assert_int_equal(route_add(rt, IP(100, i >> 8, i & 0xff, 0), 24, i & 1,
					   IP(1, 0, i >> 8, i & 0xff)), 0);
		if (i % 3 != 0)
			assert_int_equal(route_del(rt, IP(100, i >> 8, i & 0xff, 0), 24), 0);
	}
	for (i = 0; i < 500; i++) {
		if (i % 3 == 0)
			expect_nh(rt, IP(100, i >> 8, i & 0xff, 9), i & 1, IP(1, 0, i >> 8, i & 0xff));
		else
			expect_miss(rt, IP(100, i >> 8, i & 0xff, 9));
	}
	expect_nh(rt, IP(30, 1, 1, 1), 0, IP(192, 0, 2, 254));
	expect_nh(rt, IP(40, 1, 1, 1), 1, IP(192, 0, 2, 254));
	route_free(rt);
}

struct walk_rec {
	unsigned n, stop_after;
	struct route_entry e[32];
};

static int
walk_cb(const struct route_entry *e, void *arg)
{
	struct walk_rec *w = arg;

	if (w->n < RTE_DIM(w->e))
		w->e[w->n] = *e;
	w->n++;
	return w->stop_after != 0 && w->n >= w->stop_after;
}

/* Changing an interface address replaces its connected route. */
static void
test_replace_iface_address(void **state)
{
	struct route_table *rt = route_create("t_repl", 8, NULL, SOCKET_ID_ANY);
	struct walk_rec w;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(10, 0, 0, 1), 24), 0);
	assert_int_equal(set_if(rt, 1, IP(10, 7, 0, 1), 24), 0);
	expect_nh(rt, IP(10, 0, 0, 9), 0, 0);

	assert_int_equal(set_if(rt, 0, IP(10, 9, 3, 1), 16), 0);
	assert_int_equal(route_count(rt), 2);
	expect_miss(rt, IP(10, 0, 0, 9));
	expect_nh(rt, IP(10, 9, 200, 9), 0, 0);
	assert_int_equal(route_iface_get(rt, 0)->ip, IP(10, 9, 3, 1));
	memset(&w, 0, sizeof(w));
	route_walk(rt, walk_cb, &w);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.e[1].prefix, IP(10, 9, 0, 0));
	assert_int_equal(w.e[1].plen, 16);
	assert_int_equal(w.e[1].iface, 0);
	assert_true(w.e[1].connected);

	/* Same address again: no change. */
	assert_int_equal(set_if(rt, 0, IP(10, 9, 3, 1), 16), 0);
	assert_int_equal(route_count(rt), 2);
	expect_nh(rt, IP(10, 9, 200, 9), 0, 0);

	/* Another interface's subnet: refused, nothing changes. */
	assert_int_equal(set_if(rt, 0, IP(10, 7, 0, 2), 24), -EEXIST);
	assert_int_equal(route_iface_get(rt, 0)->ip, IP(10, 9, 3, 1));
	expect_nh(rt, IP(10, 9, 200, 9), 0, 0);
	expect_nh(rt, IP(10, 7, 0, 9), 1, 0);

	/* Same subnet, new host address: the route stays, the address changes. */
	assert_int_equal(set_if(rt, 0, IP(10, 9, 3, 2), 16), 0);
	assert_int_equal(route_iface_by_addr(rt, IP(10, 9, 3, 2)), 0);
	assert_int_equal(route_iface_by_addr(rt, IP(10, 9, 3, 1)), -1);

	/* Address removed: route removed. */
	assert_int_equal(set_if(rt, 0, 0, 0), 0);
	assert_int_equal(route_count(rt), 1);
	expect_miss(rt, IP(10, 9, 200, 9));
	assert_non_null(route_iface_get(rt, 0));
	assert_false(route_iface_get(rt, 0)->has_ip);
	assert_int_equal(route_iface_by_addr(rt, IP(10, 9, 3, 2)), -1);

	/* A static route blocks a connected route with the same prefix. */
	assert_int_equal(route_add(rt, IP(10, 20, 0, 0), 16, 1, IP(10, 7, 0, 254)), 0);
	assert_int_equal(set_if(rt, 0, IP(10, 20, 0, 1), 16), -EEXIST);
	expect_nh(rt, IP(10, 20, 1, 1), 1, IP(10, 7, 0, 254));
	route_free(rt);
}

/* Duplicates, bad arguments and deletes. */
static void
test_add_del_errors(void **state)
{
	struct route_table *rt = route_create("t_err", 16, NULL, SOCKET_ID_ANY);

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(10, 0, 0, 1), 24), 0);
	assert_int_equal(route_add(rt, IP(20, 1, 0, 0), 16, 0, IP(10, 0, 0, 2)), 0);
	assert_int_equal(route_add(rt, IP(20, 1, 0, 0), 16, 0, IP(10, 0, 0, 3)), -EEXIST);
	/* Host bits are ignored: same prefix. */
	assert_int_equal(route_add(rt, IP(20, 1, 9, 9), 16, 0, IP(10, 0, 0, 3)), -EEXIST);
	/* Same as a connected route. */
	assert_int_equal(route_add(rt, IP(10, 0, 0, 0), 24, 0, IP(10, 0, 0, 3)), -EEXIST);
	/* Same prefix, other length: a different route. */
	assert_int_equal(route_add(rt, IP(20, 1, 0, 0), 24, 0, IP(10, 0, 0, 3)), 0);
	assert_int_equal(route_add(rt, IP(20, 0, 0, 0), 33, 0, 0), -EINVAL);
	assert_int_equal(route_add(rt, IP(20, 0, 0, 0), 8, ROUTE_MAX_IFACES, 0), -EINVAL);
	assert_int_equal(route_add(rt, IP(20, 0, 0, 0), 8, 4, 0), -EINVAL);  /* no such iface */
	assert_int_equal(route_count(rt), 3);
	expect_nh(rt, IP(20, 1, 0, 7), 0, IP(10, 0, 0, 3));
	expect_nh(rt, IP(20, 1, 1, 7), 0, IP(10, 0, 0, 2));

	assert_int_equal(route_del(rt, IP(20, 2, 0, 0), 16), -ENOENT);
	assert_int_equal(route_del(rt, IP(20, 1, 0, 0), 8), -ENOENT);
	assert_int_equal(route_del(rt, IP(10, 0, 0, 0), 24), -ENOENT);   /* connected */
	assert_int_equal(route_del(rt, IP(20, 1, 0, 0), 33), -ENOENT);
	expect_nh(rt, IP(10, 0, 0, 7), 0, 0);
	assert_int_equal(route_del(rt, IP(20, 1, 0, 0), 24), 0);
	assert_int_equal(route_del(rt, IP(20, 1, 0, 0), 24), -ENOENT);
	expect_nh(rt, IP(20, 1, 0, 7), 0, IP(10, 0, 0, 2));
	assert_int_equal(route_del(rt, IP(20, 1, 7, 7), 16), 0);   /* host bits ignored */
	expect_miss(rt, IP(20, 1, 0, 7));
	assert_int_equal(route_count(rt), 1);
	route_free(rt);
}

/* Every change a reader may have cached moves the generation on; lookups and refusals do not. */
static void
test_generation(void **state)
{
	struct route_table *rt = route_create("t_gen", 16, NULL, SOCKET_ID_ANY);
	struct route_nh nh;
	uint32_t g;

	(void)state;
	assert_non_null(rt);
	g = route_generation(rt);
	assert_int_not_equal(g, 0);   /* a reader starting from 0 always looks once */
	assert_int_equal(set_if(rt, 0, IP(10, 0, 0, 1), 24), 0);
	assert_int_not_equal(route_generation(rt), g);
	g = route_generation(rt);
	assert_int_equal(route_add(rt, IP(20, 1, 0, 0), 16, 0, IP(10, 0, 0, 2)), 0);
	assert_int_not_equal(route_generation(rt), g);
	g = route_generation(rt);
	assert_int_equal(route_lookup(rt, IP(20, 1, 2, 3), &nh), 0);
	assert_int_equal(route_add(rt, IP(20, 1, 0, 0), 16, 0, IP(10, 0, 0, 3)), -EEXIST);
	assert_int_equal(route_del(rt, IP(30, 0, 0, 0), 8), -ENOENT);
	assert_int_equal(set_if(rt, 5, IP(1, 1, 1, 1), 33), -EINVAL);
	assert_int_equal(route_generation(rt), g);
	assert_int_equal(route_del(rt, IP(20, 1, 0, 0), 16), 0);
	assert_int_not_equal(route_generation(rt), g);
	g = route_generation(rt);
	/* The same interface again (a new MAC, say): readers caching its MAC must see it. */
	assert_int_equal(set_if(rt, 0, IP(10, 0, 0, 1), 24), 0);
	assert_int_not_equal(route_generation(rt), g);
	route_free(rt);
}

/* The table holds max_routes routes, connected ones included. */
static void
test_full(void **state)
{
	struct route_table *rt = route_create("t_full", 4, NULL, SOCKET_ID_ANY);

	(void)state;
	assert_non_null(rt);
	assert_null(route_create("t_full0", 0, NULL, SOCKET_ID_ANY));
	assert_int_equal(set_if(rt, 0, IP(10, 0, 0, 1), 24), 0);
	assert_int_equal(route_add(rt, IP(20, 0, 0, 0), 8, 0, IP(10, 0, 0, 2)), 0);
	assert_int_equal(route_add(rt, IP(21, 0, 0, 0), 8, 0, IP(10, 0, 0, 2)), 0);
	assert_int_equal(route_add(rt, IP(22, 0, 0, 1), 32, 0, IP(10, 0, 0, 2)), 0);
	assert_int_equal(route_count(rt), 4);
	assert_int_equal(route_add(rt, IP(23, 0, 0, 0), 8, 0, IP(10, 0, 0, 2)), -ENOSPC);
	assert_int_equal(set_if(rt, 1, IP(10, 1, 0, 1), 24), -ENOSPC);
	expect_miss(rt, IP(23, 1, 1, 1));
	/* Replacing an address needs no extra room. */
	assert_int_equal(set_if(rt, 0, IP(10, 5, 0, 1), 24), 0);
	expect_nh(rt, IP(10, 5, 0, 9), 0, 0);
	assert_int_equal(route_del(rt, IP(21, 0, 0, 0), 8), 0);
	assert_int_equal(route_add(rt, IP(23, 0, 0, 0), 8, 0, IP(10, 0, 0, 3)), 0);
	expect_nh(rt, IP(23, 1, 1, 1), 0, IP(10, 0, 0, 3));
	assert_int_equal(route_count(rt), 4);
	route_free(rt);
}

/* Connected routes first, then static, each by prefix; fn can stop the walk. */
static void
test_walk_order(void **state)
{
	struct route_table *rt = route_create("t_walk", 32, NULL, SOCKET_ID_ANY);
	struct walk_rec w;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(192, 168, 1, 1), 24), 0);
	assert_int_equal(set_if(rt, 1, IP(10, 0, 0, 1), 8), 0);
	assert_int_equal(route_add(rt, IP(172, 16, 0, 0), 12, 0, IP(192, 168, 1, 2)), 0);
	assert_int_equal(route_add(rt, 0, 0, 1, IP(10, 0, 0, 254)), 0);
	assert_int_equal(route_add(rt, IP(172, 16, 0, 0), 16, 1, IP(10, 0, 0, 3)), 0);
	assert_int_equal(route_add(rt, IP(1, 2, 3, 4), 32, 1, 0), 0);

	memset(&w, 0, sizeof(w));
	route_walk(rt, walk_cb, &w);
	assert_int_equal(w.n, 6);
	assert_true(w.e[0].connected);
	assert_int_equal(w.e[0].prefix, IP(10, 0, 0, 0));
	assert_int_equal(w.e[0].plen, 8);
	assert_int_equal(w.e[0].iface, 1);
	assert_int_equal(w.e[0].gateway, 0);
	assert_true(w.e[1].connected);
	assert_int_equal(w.e[1].prefix, IP(192, 168, 1, 0));
	assert_int_equal(w.e[1].iface, 0);
	assert_false(w.e[2].connected);
	assert_int_equal(w.e[2].prefix, 0);
	assert_int_equal(w.e[2].plen, 0);
	assert_int_equal(w.e[2].gateway, IP(10, 0, 0, 254));
	assert_int_equal(w.e[3].prefix, IP(1, 2, 3, 4));
	assert_int_equal(w.e[3].plen, 32);
	assert_int_equal(w.e[4].prefix, IP(172, 16, 0, 0));
	assert_int_equal(w.e[4].plen, 12);
	assert_int_equal(w.e[4].iface, 0);
	assert_int_equal(w.e[4].gateway, IP(192, 168, 1, 2));
	assert_int_equal(w.e[5].prefix, IP(172, 16, 0, 0));
	assert_int_equal(w.e[5].plen, 16);
	assert_false(w.e[5].connected);

	memset(&w, 0, sizeof(w));
	w.stop_after = 3;
	route_walk(rt, walk_cb, &w);
	assert_int_equal(w.n, 3);
	route_free(rt);
}

/* Finding interfaces by name, port and address. */
static void
test_iface_find(void **state)
{
	struct route_table *rt = route_create("t_find", 16, NULL, SOCKET_ID_ANY);
	struct route_iface ifc;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(10, 0, 0, 1), 24), 0);
	assert_int_equal(set_if(rt, 2, IP(10, 2, 0, 1), 24), 0);
	memset(&ifc, 0, sizeof(ifc));
	snprintf(ifc.name, sizeof(ifc.name), "ethernet0/3");
	ifc.port_id = ROUTE_NO_PORT;
	ifc.zone_id = ROUTE_ZONE_NONE;
	assert_int_equal(route_iface_set(rt, 3, &ifc), 0);

	assert_int_equal(route_iface_by_name(rt, "eth0"), 0);
	assert_int_equal(route_iface_by_name(rt, "eth2"), 2);
	assert_int_equal(route_iface_by_name(rt, "ethernet0/3"), 3);
	assert_int_equal(route_iface_by_name(rt, "eth1"), -1);
	assert_int_equal(route_iface_by_name(rt, "eth"), -1);
	assert_int_equal(route_iface_by_name(rt, ""), -1);

	assert_int_equal(route_iface_by_port(rt, 0), 0);
	assert_int_equal(route_iface_by_port(rt, 2), 2);
	assert_int_equal(route_iface_by_port(rt, 1), -1);
	assert_int_equal(route_iface_by_port(rt, ROUTE_NO_PORT), -1);

	assert_int_equal(route_iface_by_addr(rt, IP(10, 2, 0, 1)), 2);
	assert_int_equal(route_iface_by_addr(rt, IP(10, 0, 0, 1)), 0);
	assert_int_equal(route_iface_by_addr(rt, IP(10, 0, 0, 2)), -1);
	assert_int_equal(route_iface_by_addr(rt, 0), -1);   /* iface 3 has no address */

	/* A name used by another slot is refused; the same slot may keep it. */
	assert_int_equal(route_iface_set(rt, 4, &ifc), -EEXIST);
	ifc.port_id = 7;
	assert_int_equal(route_iface_set(rt, 3, &ifc), 0);
	assert_int_equal(route_iface_by_port(rt, 7), 3);
	assert_int_equal(route_iface_count(rt), 4);
	route_free(rt);
}

/* Zone names get stable ids; Trust and Untrust are 0 and 1. */
static void
test_zones(void **state)
{
	struct route_table *rt = route_create("t_zone", 16, NULL, SOCKET_ID_ANY);
	char name[16];
	int id, i;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(route_zone_id(rt, "Trust"), 0);
	assert_int_equal(route_zone_id(rt, "Untrust"), 1);
	assert_int_equal(route_zone_id(rt, "untrust"), 1);
	assert_string_equal(route_zone_name(rt, 1), "Untrust");
	id = route_zone_id(rt, "DMZ");
	assert_int_equal(id, 2);
	assert_int_equal(route_zone_id(rt, "DMZ"), 2);
	assert_string_equal(route_zone_name(rt, 2), "DMZ");
	assert_string_equal(route_zone_name(rt, 3), "");
	assert_string_equal(route_zone_name(rt, ROUTE_ZONE_NONE), "");
	assert_int_equal(route_zone_id(rt, ""), -EINVAL);
	assert_int_equal(route_zone_id(rt, NULL), -EINVAL);
	for (i = 3; i < ROUTE_MAX_ZONES; i++) {
		snprintf(name, sizeof(name), "z%d", i);
		assert_int_equal(route_zone_id(rt, name), i);
	}
	assert_int_equal(route_zone_id(rt, "one-too-many"), -ENOSPC);
	assert_int_equal(route_zone_id(rt, "z5"), 5);
	assert_string_equal(route_zone_name(rt, ROUTE_MAX_ZONES - 1), "z7");
	route_free(rt);
}

/* Random routes against a brute-force longest match. */
struct ref_route {
	uint32_t prefix;
	uint8_t plen;
	uint8_t iface;
	uint32_t gw;
	bool on;
};

static uint32_t
mask_of(uint8_t plen)
{
	return plen == 0 ? 0 : UINT32_MAX << (32 - plen);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int
ref_lookup(const struct ref_route *r, unsigned n, uint32_t dst)
{
	int best = -1;
	unsigned i;

	for (i = 0; i < n; i++)
		if (r[i].on && (dst & mask_of(r[i].plen)) == r[i].prefix &&
		    (best < 0 || r[i].plen > r[best].plen))
			best = (int)i;
	return best;
}

static void
check_against_ref(const struct route_table *rt, const struct ref_route *r, unsigned n)
{
	struct route_nh nh;
	unsigned i;

	for (i = 0; i < 10000; i++) {
		uint32_t dst = rnd();
		int best, rc;

		/* Half the addresses fall inside a route (deep ones are rarely hit at random). */
		if (i & 1) {
			const struct ref_route *x = &r[rnd() % n];

			dst = x->prefix | (dst & ~mask_of(x->plen));
		}
		best = ref_lookup(r, n, dst);
		rc = route_lookup(rt, dst, &nh);
		if (best < 0) {
			assert_int_equal(rc, -ENOENT);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(nh.iface, r[best].iface);
		assert_int_equal(nh.gateway, r[best].gw);
	}
}

static void
test_random_vs_bruteforce(void **state)
{
	struct route_table *rt = route_create("t_rand", 256, NULL, SOCKET_ID_ANY);
	static struct ref_route r[256];
	unsigned i, j, n = 0, dups = 0, deep = 0;

	(void)state;
	assert_non_null(rt);
	for (i = 0; i < 4; i++)
		assert_int_equal(set_if(rt, i, IP(100, 64, i, 1), 24), 0);
	for (i = 0; i < 4; i++)
		r[n++] = (struct ref_route){ IP(100, 64, i, 0), 24, (uint8_t)i, 0, true };
	while (n < 204) {
		struct ref_route x;
		bool dup = false;
		int rc;

		/* Lengths biased to 8..32, with a few short ones and /0. */
		x.plen = (uint8_t)(rnd() % 10 == 0 ? rnd() % 33 : 8 + rnd() % 25);
		/* Cluster prefixes under a few /8s so that routes nest. */
		x.prefix = ((uint32_t)(10 + rnd() % 4) << 24 | (rnd() & 0x00ffffff)) & mask_of(x.plen);
		x.iface = (uint8_t)(rnd() % 4);
		x.gw = rnd() % 3 == 0 ? 0 : IP(100, 64, x.iface, 2 + rnd() % 200);
		x.on = true;
		for (j = 0; j < n; j++)
			if (r[j].prefix == x.prefix && r[j].plen == x.plen)
				dup = true;
		rc = route_add(rt, x.prefix, x.plen, x.iface, x.gw);
		if (dup) {
			assert_int_equal(rc, -EEXIST);
			dups++;
			continue;
		}
		assert_int_equal(rc, 0);
		deep += x.plen > 24;
		r[n++] = x;
	}
	assert_int_equal(route_count(rt), n);
	assert_true(deep > 0);
	check_against_ref(rt, r, n);

	/* Delete about half and compare again. */
	for (i = 4; i < n; i++) {
		if (rnd() & 1)
			continue;
		assert_int_equal(route_del(rt, r[i].prefix, r[i].plen), 0);
		r[i].on = false;
	}
	check_against_ref(rt, r, n);
	(void)dups;
	route_free(rt);
}

/* A reader thread always sees the stable routes right while routes change. */
struct reader_arg {
	const struct route_table *rt;
	int started, stop;
	unsigned long lookups, errors;
};

static void *
reader(void *p)
{
	struct reader_arg *a = p;
	struct route_nh nh;
	uint32_t x = 12345;

	__atomic_store_n(&a->started, 1, __ATOMIC_RELEASE);
	do {
		uint32_t dst;

		x = x * 1103515245u + 12345u;
		dst = IP(10, 1, 0, 0) | (x >> 16);

		if (route_lookup(a->rt, dst, &nh) != 0 || nh.iface != 1 ||
		    nh.gateway != IP(192, 0, 2, 1))
			a->errors++;
		if (route_lookup(a->rt, IP(10, 2, 3, 4), &nh) != 0 || nh.iface != 0 ||
		    nh.gateway != IP(192, 0, 2, 2))
			a->errors++;
		a->lookups++;
	} while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE));
	return NULL;
}

static void
test_concurrent_reader(void **state)
{
	struct route_table *rt = route_create("t_conc", 64, NULL, SOCKET_ID_ANY);
	struct reader_arg a;
	pthread_t th;
	unsigned i;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(192, 0, 2, 10), 24), 0);
	assert_int_equal(set_if(rt, 1, IP(198, 51, 100, 10), 24), 0);
	assert_int_equal(route_add(rt, IP(10, 1, 0, 0), 16, 1, IP(192, 0, 2, 1)), 0);
	assert_int_equal(route_add(rt, IP(10, 2, 3, 4), 32, 0, IP(192, 0, 2, 2)), 0);
	memset(&a, 0, sizeof(a));
	a.rt = rt;
	assert_int_equal(pthread_create(&th, NULL, reader, &a), 0);
	while (!__atomic_load_n(&a.started, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < 20000; i++) {
		uint32_t p = IP(20, (i >> 8) & 0xff, i & 0xff, 0);

		assert_int_equal(route_add(rt, p, (uint8_t)(24 + i % 9), i & 1,
					   IP(198, 51, 100, 1 + i % 250)), 0);
		assert_int_equal(route_del(rt, p, (uint8_t)(24 + i % 9)), 0);
		if (i % 64 == 0)
			sched_yield();
	}
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(a.lookups > 0);
	assert_int_equal(a.errors, 0);
	route_free(rt);
}

/* A qsbr with one reader (thread 0), registered and online: the stalled worker. */
static struct rte_rcu_qsbr *
stalled_reader(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *q = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);

	assert_non_null(q);
	assert_int_equal(rte_rcu_qsbr_init(q, 1), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(q, 0), 0);
	rte_rcu_qsbr_thread_online(q, 0);
	return q;
}

static void
reader_done(struct rte_rcu_qsbr *q)
{
	rte_rcu_qsbr_thread_offline(q, 0);
	rte_rcu_qsbr_thread_unregister(q, 0);
	rte_free(q);
}

/*
 * A worker read the tbl24 entry of 10.9.1.5 (a tbl8 group: 10.9.1.0/28
 * exists) and stalls before it reads the group. Meanwhile the /28 goes and a
 * /28 elsewhere, on another interface, is added. When the worker reads on,
 * the group must name a route valid during the change (the group is reused
 * only after the worker's quiescent state), not the new route's next hop:
 * without the RCU the new /28 takes the freed group and 10.9.1.5 goes out of
 * interface 0.
 */
static void
test_stalled_reader_tbl8(void **state)
{
	struct rte_rcu_qsbr *q = stalled_reader();
	struct route_table *rt = route_create("t_st8", 64, q, SOCKET_ID_ANY);
	struct rte_lpm *lpm = rte_lpm_find_existing("t_st8");
	struct rte_lpm_tbl_entry e24, e8;
	uint32_t before, cover;

	(void)state;
	assert_non_null(rt);
	assert_non_null(lpm);
	assert_int_equal(set_if(rt, 0, IP(192, 0, 2, 10), 24), 0);
	assert_int_equal(set_if(rt, 1, IP(198, 51, 100, 10), 24), 0);
	assert_int_equal(route_add(rt, IP(10, 9, 0, 0), 16, 1, IP(198, 51, 100, 1)), 0);
	cover = lpm->tbl24[IP(10, 9, 0, 0) >> 8].next_hop;
	assert_int_equal(route_add(rt, IP(10, 9, 1, 0), 28, 1, IP(198, 51, 100, 2)), 0);
	/* The worker's first half of a lookup. */
	e24 = lpm->tbl24[IP(10, 9, 1, 5) >> 8];
	assert_true(e24.valid && e24.valid_group);
	before = lpm->tbl8[e24.next_hop * RTE_LPM_TBL8_GROUP_NUM_ENTRIES + 5].next_hop;
	/* The control lcore changes routes. */
	assert_int_equal(route_del(rt, IP(10, 9, 1, 0), 28), 0);
	assert_int_equal(route_add(rt, IP(10, 9, 2, 0), 28, 0, IP(192, 0, 2, 1)), 0);
	/* The worker's second half: the /28 it saw, or the /16 under it; never the new /28. */
	e8 = lpm->tbl8[e24.next_hop * RTE_LPM_TBL8_GROUP_NUM_ENTRIES + 5];
	assert_true(e8.valid);
	assert_true(e8.next_hop == before || e8.next_hop == cover);
	route_free(rt);
	reader_done(q);
}

/*
 * The same for a next-hop slot: a worker read the LPM entry of 10.9.0.0/16
 * (slot a) and stalls; the route goes, and routes with 300 other next hops
 * come and go. None may take slot a while the worker may still read it
 * (without the RCU, the 255th does); once it passed a quiescent state, adds
 * succeed again.
 */
static void
test_stalled_reader_next_hop(void **state)
{
	struct rte_rcu_qsbr *q = stalled_reader();
	struct route_table *rt = route_create("t_stnh", 64, q, SOCKET_ID_ANY);
	struct rte_lpm *lpm = rte_lpm_find_existing("t_stnh");
	struct rcu_defer_stats st;
	uint32_t a, i, added = 0;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(192, 0, 2, 10), 24), 0);
	assert_int_equal(route_add(rt, IP(10, 9, 0, 0), 16, 0, IP(192, 0, 2, 1)), 0);
	a = lpm->tbl24[IP(10, 9, 0, 0) >> 8].next_hop;
	assert_int_equal(route_del(rt, IP(10, 9, 0, 0), 16), 0);
	for (i = 0; i < 300; i++) {
		int rc = route_add(rt, IP(20, 0, 0, 0), 8, 0, IP(172, 16, i >> 8, i & 0xff));

		if (rc == -ENOSPC)
			continue;   /* every other slot waits for the worker too */
		assert_int_equal(rc, 0);
		assert_int_not_equal(lpm->tbl24[IP(20, 0, 0, 0) >> 8].next_hop, a);
		assert_int_equal(route_del(rt, IP(20, 0, 0, 0), 8), 0);
		added++;
	}
	assert_true(added > 0);
	route_rcu_stats(rt, &st);
	assert_true(st.deferred > st.freed);
	assert_int_equal(st.failed, 0);
	/* The worker moves on: the slots come back. */
	rte_rcu_qsbr_quiescent(q, 0);
	assert_int_equal(route_add(rt, IP(20, 0, 0, 0), 8, 0, IP(172, 17, 0, 1)), 0);
	route_reclaim(rt);
	route_rcu_stats(rt, &st);
	assert_int_equal(st.deferred, st.freed);
	route_free(rt);
	reader_done(q);
}

/* A replaced route moves to its new next hop without a moment of no route; the old slot waits. */
static void
test_replace(void **state)
{
	struct route_table *rt = route_create("t_rplc", 16, NULL, SOCKET_ID_ANY);
	struct route_nh nh;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(set_if(rt, 0, IP(192, 0, 2, 10), 24), 0);
	assert_int_equal(set_if(rt, 1, IP(198, 51, 100, 10), 24), 0);
	assert_int_equal(route_replace(rt, IP(10, 9, 0, 0), 16, 1, 0), -ENOENT);
	assert_int_equal(route_add(rt, IP(10, 9, 0, 0), 16, 0, IP(192, 0, 2, 1)), 0);
	assert_int_equal(route_replace(rt, IP(10, 9, 0, 0), 16, 1, IP(198, 51, 100, 1)), 0);
	assert_int_equal(route_lookup(rt, IP(10, 9, 3, 4), &nh), 0);
	assert_int_equal(nh.iface, 1);
	assert_int_equal(nh.gateway, IP(198, 51, 100, 1));
	assert_int_equal(route_replace(rt, IP(10, 9, 0, 0), 16, 7, 0), -EINVAL);
	assert_int_equal(route_count(rt), 3);
	assert_int_equal(route_del(rt, IP(10, 9, 0, 0), 16), 0);
	assert_int_equal(route_lookup(rt, IP(10, 9, 3, 4), &nh), -ENOENT);
	route_free(rt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connected),
		cmocka_unit_test(test_longest_match),
		cmocka_unit_test(test_gateway_next_hops),
		cmocka_unit_test(test_replace_iface_address),
		cmocka_unit_test(test_add_del_errors),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_walk_order),
		cmocka_unit_test(test_iface_find),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_random_vs_bruteforce),
		cmocka_unit_test(test_concurrent_reader),
		cmocka_unit_test(test_stalled_reader_tbl8),
		cmocka_unit_test(test_stalled_reader_next_hop),
		cmocka_unit_test(test_replace),
	};

	return cmocka_run_group_tests(tests, setup_eal, teardown_eal);
}
