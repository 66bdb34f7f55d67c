/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPFIX (RFC 7011) encoding of NAT event records (dp_natlog.h) with the NAT
 * information elements of RFC 8158. Pure functions on buffers: the control
 * lcore's exporter (natlog.c) sends what they write, the unit test
 * (tests/unit/test_ipfix.c) decodes it.
 *
 * Table-driven: a template is a list of (information element, length,
 * record field); a record type (enum dp_natlog_type) names its template and
 * its natEvent value in one table entry (ipfix.c, kinds[]). A new event kind
 * is one entry there, a new shape one more template.
 */
#ifndef DPNAT_IPFIX_H
#define DPNAT_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "dp_natlog.h"

#define IPFIX_VERSION        10
#define IPFIX_HDR_LEN        16     /**< message header: version, length, export time, sequence, domain */
#define IPFIX_SET_HDR_LEN    4
#define IPFIX_SET_TEMPLATE   2      /**< Set ID of a Template Set */
#define IPFIX_UDP_IP_HDR     28     /**< IPv4 + UDP headers around a message (its MTU budget) */
/** Private Enterprise Number of dpnat's own elements: 32473, IANA's number for documentation (RFC 5612). */
#define IPFIX_PEN_DPNAT      32473u

/** Template IDs (data Set IDs) of the templates ipfix_templates() writes. */
enum ipfix_template_id {
	IPFIX_TMPL_NAT44_SESSION = 256,   /**< a NAT44 session made or deleted */
	IPFIX_TMPL_PPTP_CALL = 257,       /**< a PPTP call's Call-ID translation opened or ended */
	IPFIX_TMPL_PORTS_EXHAUSTED = 258, /**< a new flow refused: no public port left */
	IPFIX_TMPL_QUOTA_EXCEEDED = 259,  /**< a new flow refused: its source host at one of its limits */
	IPFIX_TMPL_PORT_BLOCK = 260,      /**< a subscriber's port block taken, given back or still held */
};

/** natQuotaExceededEvent (IE 466) values (RFC 8158 section 4.4.6). */
enum ipfix_quota_event {
	IPFIX_QUOTA_MAX_SESSION_ENTRIES = 1,
	IPFIX_QUOTA_MAX_BIB_ENTRIES = 2,
	IPFIX_QUOTA_MAX_ENTRIES_PER_USER = 3,
};

/** natEvent (IE 230) values (RFC 8158 section 4.1, IANA "NAT Event Type"; 1 and 2 are historic). */
enum ipfix_nat_event {
	IPFIX_NAT_ADDRESSES_EXHAUSTED = 3,
	IPFIX_NAT44_SESSION_CREATE = 4,
	IPFIX_NAT44_SESSION_DELETE = 5,
	IPFIX_NAT44_BIB_CREATE = 8,
	IPFIX_NAT44_BIB_DELETE = 9,
	IPFIX_NAT_PORTS_EXHAUSTED = 12,
	IPFIX_NAT_QUOTA_EXCEEDED = 13,
	IPFIX_NAT_PORT_BLOCK_ALLOC = 16,
	IPFIX_NAT_PORT_BLOCK_DEALLOC = 17,
	IPFIX_NAT_THRESHOLD_REACHED = 18,
};

/** dpnat's enterprise-specific elements (IPFIX_PEN_DPNAT). */
enum ipfix_dpnat_ie {
	IPFIX_IE_PPTP_CLIENT_CALL_ID = 1,      /**< the client's Call ID (inside) */
	IPFIX_IE_PPTP_XLATED_CALL_ID = 2,      /**< the Call ID the server sees (translated) */
	IPFIX_IE_PPTP_PEER_CALL_ID = 3,        /**< the server's Call ID */
};

/** Wall clock and TSC of one drain: turn a record's TSC into UTC milliseconds. */
struct ipfix_clock {
	uint64_t now_ms;   /**< UTC milliseconds at the drain */
	uint64_t now_tsc;  /**< TSC at the drain */
	uint64_t hz;       /**< TSC ticks a second; 0: every record at now_ms */
};

/** Write a message holding every template. Returns its length, 0 if cap is too small. */
size_t ipfix_templates(uint8_t *buf, size_t cap, uint32_t export_time, uint32_t seq, uint32_t domain);

/**
 * Encode records from recs[0..n) into one message of at most cap bytes.
 * *used: records consumed from the front (a record of a type with no
 * template is consumed, not encoded); encoded[i] (i < *used) is 1 when
 * recs[i] is in the message, 0 if not; *n_encoded counts those.
 * Returns the message length; 0 when nothing was encoded (then *used may
 * still be > 0).
 */
size_t ipfix_encode(uint8_t *buf, size_t cap, const struct dp_natlog_rec *recs, unsigned n,
		    const struct ipfix_clock *clk, uint32_t export_time, uint32_t seq, uint32_t domain,
		    unsigned *used, uint8_t *encoded, unsigned *n_encoded);

/** Overwrite a written message's sequence number (each collector has its own). */
void ipfix_set_seq(uint8_t *msg, uint32_t seq);

/** Length of one data record of a record type, 0 when the type has no template. */
size_t ipfix_record_len(unsigned type);

#endif /* DPNAT_IPFIX_H */
