/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments of translated flows (RFC 4787 REQ-14). Only the first
 * fragment carries the transport header the session lookup needs; it
 * leaves here the addresses its datagram's other fragments must get, under
 * the datagram's identity as it arrived (source, destination, protocol, IP
 * ID). Later fragments find them there, are rewritten the same way and
 * forwarded as they come; nothing is reassembled or held. An entry is
 * forgotten once every byte of its datagram has passed, or after the
 * timeout. Bounded (a size from config), counted; any thread may learn and
 * follow (each locks the datagram's two buckets only), the control lcore
 * ages.
 */
#ifndef DPNAT_NAT_FRAG_H
#define DPNAT_NAT_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>

#define NAT_FRAG_DEFAULT_MAX     4096
#define NAT_FRAG_DEFAULT_TIMEOUT 5    /**< seconds */

/** A datagram's identity, as its fragments arrive (network order). */
struct nat_frag_key {
	rte_be32_t src;
	rte_be32_t dst;
	rte_be16_t id;
	uint8_t proto;
	uint8_t pad;
};

/** What a later fragment becomes. */
struct nat_frag_xlate {
	rte_be32_t src;          /**< new source address */
	rte_be32_t dst;          /**< new destination address */
	uint8_t iface;           /**< interface the datagram's fragments must arrive on */
};

/** Counters. */
struct nat_frag_stats {
	uint64_t used;           /**< datagrams tracked now */
	uint64_t max;
	uint64_t created;        /**< first fragments learnt */
	uint64_t completed;      /**< datagrams whose every byte passed */
	uint64_t failed;         /**< first fragments refused: table full */
	uint64_t timed_out;      /**< entries forgotten by the timeout */
	uint64_t followed;       /**< later fragments translated */
	uint64_t untracked;      /**< later fragments without an entry */
	uint32_t timeout;        /**< seconds */
};

struct nat_frag;

/** Create a tracker for max datagrams (>= 1) on NUMA socket. NULL on failure (rte_errno). */
struct nat_frag *nat_frag_create(const char *name, uint32_t max, int socket);

/** Free it. NULL accepted. */
void nat_frag_free(struct nat_frag *f);

/** Seconds a datagram's entry lives after its first fragment (0 is taken as 1). */
void nat_frag_set_timeout(struct nat_frag *f, uint32_t seconds);

/**
 * The first fragment (offset 0, more fragments) of datagram k, len bytes
 * after its IP header, arrived on iface at now (seconds) and was rewritten
 * to x's addresses: remember them for the later fragments. A datagram with
 * the same identity is replaced. 0, or -ENOSPC when full (counted).
 */
int nat_frag_learn(struct nat_frag *f, const struct nat_frag_key *k, const struct nat_frag_xlate *x,
		   uint16_t len, uint32_t now);

/**
 * A later fragment of datagram k that arrived on iface: off bytes into the
 * datagram's payload, len bytes long, more when it is not the last. 0 with x
 * filled, -ENOENT (counted) or -EXDEV when its first fragment came in by
 * another interface (nothing changed). The entry is forgotten once all the
 * datagram's bytes passed.
 */
int nat_frag_follow(struct nat_frag *f, const struct nat_frag_key *k, uint8_t iface, uint32_t off,
		    uint16_t len, bool more, uint32_t now, struct nat_frag_xlate *x);

/** Control lcore: forget entries past their time, up to budget buckets per call. */
void nat_frag_age(struct nat_frag *f, uint32_t now, unsigned budget);

/** Copy of the counters. */
void nat_frag_stats_get(const struct nat_frag *f, struct nat_frag_stats *st);

#endif /* DPNAT_NAT_FRAG_H */
