/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port block allocation (Junos/ScreenOS CG-NAT "port-block", issue 18): a
 * subscriber (inside address) gets blocks of block_size consecutive ports
 * on one public address, at most max_blocks of them; its sessions take
 * ports from its blocks, so one log record per block replaces one per
 * session. A block is taken when the subscriber's blocks are full and
 * given back when the last session in it ends.
 *
 * Who owns what: a subscriber's state (its blocks and their use counts) is
 * changed under its bucket's lock, by the worker that makes a session
 * (nat_pba_take) or whoever frees one (nat_pba_put) - at session create and
 * free only, never per packet, as the per-source counts (nat_src.c). Which
 * blocks of an address are taken is changed under one table lock, taken
 * only when a block is allocated or released (once per block_size
 * sessions at most). The ports themselves are bits of the nat_table
 * (nat_port_alloc_range / nat_port_free), so `get nat` counts them too.
 *
 * The table is bounded (max subscribers, from config) and counted; the log
 * is a hook (lib/nat never logs): it is called under the subscriber's lock
 * and must only queue.
 */
#ifndef DPNAT_NAT_PBA_H
#define DPNAT_NAT_PBA_H

#include <stdint.h>

#include <rte_byteorder.h>

#include "nat.h"

#define NAT_PBA_MAX_BLOCKS 16      /**< blocks one subscriber may hold at most (config bound) */
#define NAT_PBA_MIN_SIZE   16      /**< smallest block */

/** What a block event tells the log hook. */
enum nat_pba_event {
	NAT_PBA_ALLOC = 1,     /**< block taken */
	NAT_PBA_RELEASE,       /**< block given back (its last session ended) */
	NAT_PBA_INTERIM,       /**< block still held (nat_pba_interim) */
};

/** The log hook: block first..last of subscriber src (network order) on public pub (host order). */
typedef void (*nat_pba_log_fn)(void *arg, unsigned event, rte_be32_t src, uint32_t pub,
			       uint16_t first, uint16_t last);

/** Counters (summed when asked). */
struct nat_pba_stats {
	uint64_t subscribers;      /**< subscribers holding a block now */
	uint64_t max_subscribers;  /**< the table's size */
	uint64_t blocks;           /**< blocks held now */
	uint64_t blocks_total;     /**< blocks on all addresses (registered at create) */
	uint64_t allocated;        /**< blocks ever taken */
	uint64_t released;         /**< blocks ever given back */
	uint64_t interim;          /**< interim records made */
	uint64_t refused_max;      /**< sessions refused: the subscriber held max_blocks full blocks */
	uint64_t refused_noblock;  /**< sessions refused: no free block on the address */
	uint64_t refused_full;     /**< sessions refused: no room for another subscriber */
};

/** One subscriber as the view shows it (host order). */
struct nat_pba_sub_info {
	uint32_t ip;
	uint32_t pub;
	uint32_t ports;            /**< ports in use */
	uint32_t nblocks;
	uint16_t first[NAT_PBA_MAX_BLOCKS];   /**< each block's first port */
};

struct nat_pba;

/**
 * A table for up to max_subs subscribers, blocks of size ports (16 up to
 * the whole range), at most max_blocks (1..NAT_PBA_MAX_BLOCKS) each, on
 * the public addresses of nt (indexes below max_addrs). NULL on failure
 * (rte_errno).
 */
struct nat_pba *nat_pba_create(const char *name, struct nat_table *nt, uint32_t max_addrs,
			       uint32_t max_subs, uint32_t size, uint32_t max_blocks, int socket);

/** Free it. NULL accepted. */
void nat_pba_free(struct nat_pba *t);

/** Set the log hook (NULL: none). */
void nat_pba_set_log(struct nat_pba *t, nat_pba_log_fn fn, void *arg);

/** Change the blocks a subscriber may hold from now on (1..NAT_PBA_MAX_BLOCKS). */
void nat_pba_set_max_blocks(struct nat_pba *t, uint32_t max_blocks);

/** The block size. */
uint32_t nat_pba_block_size(const struct nat_pba *t);

/** Whether src (network order) holds a block on address idx now: where its ports come from. */
int nat_pba_has(struct nat_pba *t, rte_be32_t src, unsigned idx);

/**
 * A port for a new session of src (network order) on public address idx at
 * time now (seconds): from src's blocks there, or a new block when they are
 * full. The port (host order); -EDQUOT when src holds max_blocks full
 * blocks, -EADDRNOTAVAIL when the address has no free block, -ENOSPC when
 * there is no room for another subscriber (all counted).
 */
int nat_pba_take(struct nat_pba *t, rte_be32_t src, unsigned idx, uint32_t now);

/**
 * Give back port (host order) that nat_pba_take gave src on public address
 * pub (host order), after nat_port_free; the block goes back with its last
 * port. Any thread.
 */
void nat_pba_put(struct nat_pba *t, rte_be32_t src, uint32_t pub, uint16_t port);

/**
 * Control lcore: log NAT_PBA_INTERIM for every block held interval seconds
 * or more since it was last logged, walking at most budget buckets from
 * where the last call stopped. Returns records logged.
 */
unsigned nat_pba_interim(struct nat_pba *t, uint32_t now, uint32_t interval, uint32_t budget);

/** Copy of the counters. */
void nat_pba_stats_get(const struct nat_pba *t, struct nat_pba_stats *st);

/**
 * Subscribers for a view, from position *pos of the table (0 to start; set
 * past the last one read), into out[n]. Returns how many were written; 0
 * at the end.
 */
unsigned nat_pba_list(struct nat_pba *t, uint32_t *pos, struct nat_pba_sub_info *out, unsigned n);

#endif /* DPNAT_NAT_PBA_H */
