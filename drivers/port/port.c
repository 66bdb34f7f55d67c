/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "port.h"
#include "rss.h"

#define PORT_NB_RXD 1024
#define PORT_NB_TXD 1024

int
port_resolve(const char *spec, uint16_t *port_id)
{
	char *end;
	unsigned long v;

	if (spec == NULL || *spec == '\0')
		return -ENODEV;
	v = strtoul(spec, &end, 10);
	if (*end == '\0') {
		if (v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port((uint16_t)v))
			return -ENODEV;
		*port_id = (uint16_t)v;
		return 0;
	}
	if (rte_eth_dev_get_port_by_name(spec, port_id) != 0)
		return -ENODEV;
	return 0;
}

/* Clamp the descriptor counts to what the device accepts. */
static void
port_adjust_desc(uint16_t port_id, uint16_t *nb_rxd, uint16_t *nb_txd)
{
	if (rte_eth_dev_adjust_nb_rx_tx_desc(port_id, nb_rxd, nb_txd) != 0) {
		*nb_rxd = 512;
		*nb_txd = 512;
	}
}

/*
 * The largest IP MTU the device's largest frame carries: its max_mtu where
 * it gives one, else its maximum frame less Ethernet header and CRC (as
 * ethdev itself checks rte_eth_dev_set_mtu).
 */
static uint16_t
port_max_mtu(const struct rte_eth_dev_info *info)
{
	uint32_t m = info->max_rx_pktlen > RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN ?
		     info->max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN : 0;

	if (info->max_mtu != UINT16_MAX && info->max_mtu < m)
		m = info->max_mtu;
	return (uint16_t)RTE_MIN(m, (uint32_t)UINT16_MAX);
}

/*
 * net_pcap builds chains for captured frames longer than an mbuf and reads
 * chains out whole to send them (rte_pktmbuf_read), but reports neither
 * offload: the one device dpnat takes chains from without its word.
 */
static bool
port_chains_unreported(const struct rte_eth_dev_info *info)
{
	return strcmp(info->driver_name, "net_pcap") == 0;
}

const char *
port_rss_mode_name(uint8_t mode)
{
	return mode == PORT_RSS_OWNED ? "owned" : "fallback";
}

/* The flow types dpnat hashes: IPv4 TCP and UDP by addresses and ports, the rest by addresses. */
#define PORT_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)
#define PORT_RSS_NEED (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP)

/* Why a device of nq queues for nb_workers workers cannot take dpnat's RSS; NULL if it may. */
static const char *
rss_refusal(const struct rte_eth_dev_info *info, uint16_t nq, uint16_t nb_workers)
{
	if (nq != nb_workers)
		return "fewer queues than workers";
	if (!rss_queues_ok(nq))
		return "workers not a power of two";
	if ((info->flow_type_rss_offloads & PORT_RSS_NEED) != PORT_RSS_NEED)
		return "no TCP/UDP hash";
	if (info->hash_key_size < RSS_TUPLE_LEN + 4 || info->hash_key_size > 128)
		return "no hash key";
	if (info->reta_size < nq || (info->reta_size & (info->reta_size - 1)) != 0 ||
	    info->reta_size > RTE_ETH_RSS_RETA_SIZE_512)
		return "no redirection table";
	return NULL;
}

/*
 * After start: dpnat's key (configured) and its table, entry j to queue
 * j % nq, written and read back. 0, or a negative errno (the device refused).
 */
static int
rss_program(uint16_t port_id, uint16_t reta_size, uint16_t nq)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];
	unsigned j;
	int rc;

	memset(reta, 0, sizeof(reta));
	for (j = 0; j < reta_size; j++) {
		reta[j / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (j % RTE_ETH_RETA_GROUP_SIZE);
		reta[j / RTE_ETH_RETA_GROUP_SIZE].reta[j % RTE_ETH_RETA_GROUP_SIZE] =
			rss_reta_queue(j, nq);
	}
	rc = rte_eth_dev_rss_reta_update(port_id, reta, reta_size);
	if (rc != 0)
		return rc;
	memset(reta, 0, sizeof(reta));
	for (j = 0; j < reta_size; j++)
		reta[j / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (j % RTE_ETH_RETA_GROUP_SIZE);
	rc = rte_eth_dev_rss_reta_query(port_id, reta, reta_size);
	if (rc != 0)
		return rc;
	for (j = 0; j < reta_size; j++)
		if (reta[j / RTE_ETH_RETA_GROUP_SIZE].reta[j % RTE_ETH_RETA_GROUP_SIZE] !=
		    rss_reta_queue(j, nq))
			return -EIO;
	return 0;
}

int
port_setup(uint16_t port_id, uint16_t nb_workers, uint16_t mtu, struct rte_mempool *mp,
	   unsigned flags, struct port_info *pi, char *err, size_t errlen)
{
	uint8_t key[128];
	const char *no_rss = NULL;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = PORT_NB_RXD, nb_txd = PORT_NB_TXD;
	uint16_t q, nq;
	int rc;

	memset(pi, 0, sizeof(*pi));
	pi->port_id = port_id;
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: cannot read device info: %s", port_id,
			 strerror(-rc));
		return rc;
	}
	rte_eth_dev_get_name_by_port(port_id, pi->name);
	snprintf(pi->driver, sizeof(pi->driver), "%s", info.driver_name);

	memset(&conf, 0, sizeof(conf));
	nq = RTE_MIN(nb_workers, RTE_MIN(info.max_rx_queues, info.max_tx_queues));
	if (nq == 0)
		nq = 1;
	pi->reta_size = info.reta_size;
	pi->hash_key_size = info.hash_key_size;
	pi->rss_offloads = info.flow_type_rss_offloads;
	if (nq > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = PORT_RSS_HF & info.flow_type_rss_offloads;
		pi->rss = conf.rx_adv_conf.rss_conf.rss_hf != 0;
	}
	/* Owned RSS: dpnat's key at configure (padded to the device's length), the table after start. */
	no_rss = nq == 1 && nb_workers == 1 ? NULL : rss_refusal(&info, nq, nb_workers);
	if (no_rss == NULL && nq > 1) {
		memset(key, 0, sizeof(key));
		memcpy(key, rss_key, RSS_KEY_LEN);
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
	}
	/* Offloads only where the device has them; pkt_parse verifies in software otherwise. */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		pi->rx_ip_cksum = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		pi->tx_ip_cksum = true;
	}
	/* 802.1Q subinterfaces: the device's strip and insert where it has them, software otherwise. */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
		pi->rx_vlan_strip = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
		pi->tx_vlan_insert = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/*
	 * Jumbo frames: a frame of this MTU (tag included) longer than one mbuf
	 * arrives and leaves as a chain where the device can. Taken only when
	 * needed: both can cost a device its fastest receive and send paths.
	 */
	pi->max_mtu = port_max_mtu(&info);
	if ((uint32_t)mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN >
	    (uint32_t)rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM) {
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
			pi->rx_scatter = true;
		}
		if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
			pi->tx_multi_seg = true;
		}
		if (port_chains_unreported(&info))
			pi->rx_scatter = pi->tx_multi_seg = true;
	}

	rc = rte_eth_dev_configure(port_id, nq, nq, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: configure %u queues failed: %s", pi->name, nq,
			 strerror(-rc));
		return rc;
	}
	port_adjust_desc(port_id, &nb_rxd, &nb_txd);
	for (q = 0; q < nq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;

		rxc.offloads = conf.rxmode.offloads;
		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, rte_eth_dev_socket_id(port_id),
					    &rxc, mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port_id, q, nb_txd,
						    rte_eth_dev_socket_id(port_id), &txc);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: queue %u setup failed: %s", pi->name, q,
				 strerror(-rc));
			return rc;
		}
		rte_spinlock_init(&pi->txq_lock[q]);
	}
	pi->nb_rxq = nq;
	pi->nb_txq = nq;
	pi->txq_shared = nq < nb_workers;
	rte_eth_macaddr_get(port_id, &pi->mac);

	rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: start failed: %s", pi->name, strerror(-rc));
		return rc;
	}
	if (no_rss == NULL && nq > 1) {
		rc = rss_program(port_id, info.reta_size, nq);
		if (rc == 0) {
			/* The key may have been taken silently short: read it back. */
			struct rte_eth_rss_conf rc2 = { .rss_key = key, .rss_key_len = sizeof(key) };

			memset(key, 0, sizeof(key));
			rc = rte_eth_dev_rss_hash_conf_get(port_id, &rc2);
			if (rc == 0 && memcmp(key, rss_key, RSS_KEY_LEN) != 0)
				rc = -EIO;
		}
		if (rc != 0)
			no_rss = rc == -ENOTSUP ? "table update not supported" :
				 "device refused the key or table";
	}
	if (no_rss == NULL) {
		pi->rss_mode = PORT_RSS_OWNED;
		snprintf(pi->rss_why, sizeof(pi->rss_why), nq == 1 ? "one queue" : "dpnat key and table");
	} else if ((flags & PORT_F_RSS_ASSUME) && nq == nb_workers && rss_queues_ok(nq)) {
		/* Assumed for what the device cannot take, never for queues it does not have. */
		pi->rss_mode = PORT_RSS_OWNED;
		snprintf(pi->rss_why, sizeof(pi->rss_why), "assumed (-r): %s", no_rss);
	} else {
		pi->rss_mode = PORT_RSS_FALLBACK;
		snprintf(pi->rss_why, sizeof(pi->rss_why), "%s", no_rss);
	}
	/* Not every virtual device supports promiscuous mode (net_null, net_ring): not fatal. */
	(void)rte_eth_promiscuous_enable(port_id);
	return 0;
}

int
port_set_mtu(struct port_info *pi, uint16_t mtu)
{
	struct rte_eth_dev_info info;
	int rc;

	rc = rte_eth_dev_info_get(pi->port_id, &info);
	if (rc != 0)
		return rc;
	if (mtu < info.min_mtu || mtu > info.max_mtu)
		return -EINVAL;
	return rte_eth_dev_set_mtu(pi->port_id, mtu);
}

void
port_teardown(struct port_info *pi)
{
	rte_eth_dev_stop(pi->port_id);
	rte_eth_dev_close(pi->port_id);
}

bool
port_link_up(uint16_t port_id)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(port_id, &link) != 0)
		return false;
	return link.link_status == RTE_ETH_LINK_UP;
}
