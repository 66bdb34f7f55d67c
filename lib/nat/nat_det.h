/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deterministic NAT (RFC 7422): an inside prefix mapped onto a DIP pool by
 * arithmetic alone. Inside address number o of the prefix (o = address -
 * prefix) gets public address low + o / per_addr and the ports
 * NAT_PORT_MIN + (o % per_addr) * ports .. + ports - 1, where per_addr is
 * how many inside addresses share one public address (the prefix's size
 * over the pool's, rounded up) and ports = 64512 / per_addr. The mapping
 * is fixed by the configuration, so nothing of it needs logging; both
 * directions are computed (nat_det_forward, nat_det_reverse).
 */
#ifndef DPNAT_NAT_DET_H
#define DPNAT_NAT_DET_H

#include <errno.h>
#include <stdint.h>

#include "nat.h"

/** A deterministic mapping (host order). */
struct nat_det {
	uint32_t inside;     /**< the inside prefix's first address */
	uint8_t plen;        /**< its length */
	uint32_t low;        /**< the pool's first public address */
	uint32_t naddr;      /**< public addresses in the pool */
	uint32_t per_addr;   /**< inside addresses per public address */
	uint32_t ports;      /**< ports per inside address, 0: no mapping */
};

/**
 * Set d for inside/plen onto the pool low..low+naddr-1. 0, or -EINVAL when
 * the pool is too small to give every inside address a port.
 */
static inline int
nat_det_setup(struct nat_det *d, uint32_t inside, uint8_t plen, uint32_t low, uint32_t naddr)
{
	uint64_t nsub = 1ULL << (32 - (plen > 32 ? 32 : plen));
	uint64_t per = naddr == 0 ? 0 : (nsub + naddr - 1) / naddr;

	d->ports = 0;
	if (plen > 32 || naddr == 0 || per > (uint64_t)(NAT_PORT_MAX - NAT_PORT_MIN + 1))
		return -EINVAL;
	d->inside = plen == 0 ? 0 : inside & (UINT32_MAX << (32 - plen));
	d->plen = plen;
	d->low = low;
	d->naddr = naddr;
	d->per_addr = (uint32_t)per;
	d->ports = (uint32_t)((NAT_PORT_MAX - NAT_PORT_MIN + 1) / per);
	return 0;
}

/** Whether ip (host order) is in d's inside prefix. */
static inline int
nat_det_inside(const struct nat_det *d, uint32_t ip)
{
	return d->ports != 0 && (d->plen == 0 || ((ip ^ d->inside) >> (32 - d->plen)) == 0);
}

/**
 * Inside ip (host order) to its public address *pub and first port *first
 * (d->ports of them). 0, or -ENOENT when ip is not in the prefix.
 */
static inline int
nat_det_forward(const struct nat_det *d, uint32_t ip, uint32_t *pub, uint16_t *first)
{
	uint32_t o;

	if (!nat_det_inside(d, ip))
		return -ENOENT;
	o = ip - d->inside;
	*pub = d->low + o / d->per_addr;
	*first = (uint16_t)(NAT_PORT_MIN + (o % d->per_addr) * d->ports);
	return 0;
}

/**
 * Public pub and port (host order) back to the inside address *ip. 0, or
 * -ENOENT when no inside address maps there.
 */
static inline int
nat_det_reverse(const struct nat_det *d, uint32_t pub, uint16_t port, uint32_t *ip)
{
	uint64_t o;

	if (d->ports == 0 || pub - d->low >= d->naddr || port < NAT_PORT_MIN ||
	    (uint32_t)(port - NAT_PORT_MIN) / d->ports >= d->per_addr)
		return -ENOENT;
	o = (uint64_t)(pub - d->low) * d->per_addr + (uint32_t)(port - NAT_PORT_MIN) / d->ports;
	if (d->plen != 0 && o >> (32 - d->plen) != 0)
		return -ENOENT;
	*ip = d->inside + (uint32_t)o;
	return 0;
}

#endif /* DPNAT_NAT_DET_H */
