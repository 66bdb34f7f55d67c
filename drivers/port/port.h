/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethdev bring-up for any DPDK port: a NIC by PCI address or the virtual
 * devices dpnat is tested on (net_tap, net_af_packet, net_pcap, net_null,
 * net_ring). Queues follow the worker count as far as the device allows;
 * offloads are taken only where the device reports them.
 */
#ifndef DPNAT_PORT_H
#define DPNAT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#define PORT_NAME_LEN 64

/** Who decides which RX queue a flow's packets reach (port_info.rss_mode). */
enum port_rss_mode {
	PORT_RSS_OWNED = 0,   /**< dpnat's key and table (lib/rss): replies land where dpnat chose */
	PORT_RSS_FALLBACK,    /**< the device's own spreading, or none: a flow's packets may reach any worker */
};

/** port_setup flags */
#define PORT_F_RSS_ASSUME 0x1   /**< queues are fed as dpnat's key and table would spread them (replays, tests) */

/** What a started port offers the dataplane. */
struct port_info {
	uint16_t port_id;
	uint16_t nb_rxq;             /**< RX queues: worker w polls queue w when w < nb_rxq */
	uint16_t nb_txq;             /**< TX queues: worker w sends on queue w % nb_txq */
	bool txq_shared;             /**< fewer TX queues than workers: take txq_lock */
	bool rx_ip_cksum;            /**< device verifies IPv4 header checksums */
	bool tx_ip_cksum;            /**< device can fill IPv4 header checksums */
	bool rss;                    /**< RSS spreads flows over the RX queues */
	uint8_t rss_mode;            /**< enum port_rss_mode */
	uint16_t reta_size;          /**< redirection table entries the device reports (0: none) */
	uint8_t hash_key_size;       /**< Toeplitz key bytes the device reports (0: none) */
	uint64_t rss_offloads;       /**< flow types the device can hash (RTE_ETH_RSS_*) */
	char rss_why[PORT_NAME_LEN]; /**< owned: how; fallback: why */
	bool rx_vlan_strip;          /**< device takes 802.1Q tags off (RTE_MBUF_F_RX_VLAN_STRIPPED) */
	bool tx_vlan_insert;         /**< device writes the tag of RTE_MBUF_F_TX_VLAN mbufs */
	bool rx_scatter;             /**< a frame longer than one mbuf arrives as a chain of mbufs */
	bool tx_multi_seg;           /**< device sends chains of mbufs */
	uint16_t max_mtu;            /**< largest IP MTU its largest frame carries (no tag) */
	struct rte_ether_addr mac;
	char name[PORT_NAME_LEN];    /**< ethdev name, e.g. "net_af_packet0" */
	char driver[PORT_NAME_LEN];  /**< driver name, e.g. "net_af_packet" */
	rte_spinlock_t txq_lock[RTE_MAX_QUEUES_PER_PORT] __rte_cache_aligned;
};

/** Resolve a port given as a number ("0") or an ethdev name ("net_tap0"). 0 or -ENODEV. */
int port_resolve(const char *spec, uint16_t *port_id);

/**
 * Configure and start port_id for nb_workers workers with mbufs from mp:
 * min(nb_workers, device maximum) RX/TX queues, RSS when more than one,
 * promiscuous mode on (the port owns its wire). RSS is owned (dpnat's key
 * and a table spreading its entries over the queues, lib/rss) where the
 * device has a queue per worker, a power of two of them, Toeplitz over
 * IPv4 TCP and UDP, and takes both the key and the table; else fallback
 * (pi->rss_why says why), unless flags has PORT_F_RSS_ASSUME and the port
 * has a queue per worker, a power of two of them. When a frame of IP MTU mtu
 * (plus an 802.1Q tag) does not fit one mbuf of mp, RX scatter and TX
 * multi-segment are taken where the device reports them. Fills *pi.
 * Returns 0 or negative errno with a one-line reason in err.
 */
int port_setup(uint16_t port_id, uint16_t nb_workers, uint16_t mtu, struct rte_mempool *mp,
	       unsigned flags, struct port_info *pi, char *err, size_t errlen);

/** "owned" or "fallback". */
const char *port_rss_mode_name(uint8_t mode);

/**
 * Give the device the IP MTU mtu (rte_eth_dev_set_mtu) where it allows it.
 * Returns 0, or negative errno (-ENOTSUP, -EINVAL: out of the device's
 * range) with the device left as it was: the dataplane checks the MTU in
 * software either way.
 */
int port_set_mtu(struct port_info *pi, uint16_t mtu);

/** Stop and close the port. */
void port_teardown(struct port_info *pi);

/** Whether the port's link is up (non-blocking query). */
bool port_link_up(uint16_t port_id);

#endif /* DPNAT_PORT_H */
