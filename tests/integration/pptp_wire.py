# SPDX-License-Identifier: BSD-3-Clause
"""PPTP control messages (RFC 2637) and enhanced GRE, built and parsed with
the standard library, for scripted peers in the integration tests."""
import socket
import struct

MAGIC = 0x1A2B3C4D
SCCRQ, SCCRP, STOPCCRQ, STOPCCRP, ECHORQ, ECHORP = 1, 2, 3, 4, 5, 6
OCRQ, OCRP, ICRQ, ICRP, ICCN, CCRQ, CDN, WEN, SLI = 7, 8, 9, 10, 11, 12, 13, 14, 15
LENGTHS = {SCCRQ: 156, SCCRP: 156, STOPCCRQ: 16, STOPCCRP: 16, ECHORQ: 16, ECHORP: 20,
           OCRQ: 168, OCRP: 32, ICRQ: 220, ICRP: 24, ICCN: 28, CCRQ: 16, CDN: 148,
           WEN: 40, SLI: 24}


def msg(ctype, body=b""):
    """A control message of type ctype; body is what follows the 12-byte header."""
    n = LENGTHS[ctype]
    m = struct.pack("!HHIHH", n, 1, MAGIC, ctype, 0) + body
    return m + b"\0" * (n - len(m))


def sccrq():
    return msg(SCCRQ, struct.pack("!HHII", 0x0100, 0, 1, 1))


def sccrp():
    return msg(SCCRP, struct.pack("!HBBII", 0x0100, 1, 0, 1, 1))


def ocrq(cid, serial=1):
    return msg(OCRQ, struct.pack("!HH", cid, serial))


def ocrp(cid, peer_cid, result=1):
    return msg(OCRP, struct.pack("!HHBBH", cid, peer_cid, result, 0, 0))


def ccrq(cid):
    return msg(CCRQ, struct.pack("!H", cid))


def cdn(cid, result=1):
    return msg(CDN, struct.pack("!HBB", cid, result, 0))


def sli(peer_cid):
    return msg(SLI, struct.pack("!HH", peer_cid, 0))


def wen(peer_cid):
    return msg(WEN, struct.pack("!HH", peer_cid, 0))


def stopccrq():
    return msg(STOPCCRQ, struct.pack("!BB", 1, 0))


def parse_stream(buf):
    """Split buf into complete messages; returns (messages, rest). Each message
    is (ctype, call_id_at_12, call_id_at_14, raw)."""
    out = []
    while len(buf) >= 16:
        n = struct.unpack("!H", buf[:2])[0]
        if n < 12 or len(buf) < n:
            break
        m, buf = buf[:n], buf[n:]
        ctype = struct.unpack("!H", m[8:10])[0]
        a, b = struct.unpack("!HH", m[12:16])
        out.append((ctype, a, b, m))
    return out, buf


def recv_msgs(sock, count, timeout=30.0):
    """Read until count complete messages arrived."""
    sock.settimeout(timeout)
    buf, got = b"", []
    while len(got) < count:
        d = sock.recv(4096)
        if not d:
            break
        buf += d
        msgs, buf = parse_stream(buf)
        got += msgs
    return got


def gre(call_id, payload, seq=None, ack=None):
    """Enhanced GRE (version 1) header + payload."""
    flags = 0x2001            # K, version 1
    if seq is not None:
        flags |= 0x1000
    if ack is not None:
        flags |= 0x0080
    h = struct.pack("!HHHH", flags, 0x880B, len(payload), call_id)
    if seq is not None:
        h += struct.pack("!I", seq)
    if ack is not None:
        h += struct.pack("!I", ack)
    return h + payload


def parse_gre(ip_packet):
    """(src, call_id, payload) from a raw IPv4 packet carrying enhanced GRE."""
    ihl = (ip_packet[0] & 0xf) * 4
    src = socket.inet_ntoa(ip_packet[12:16])
    g = ip_packet[ihl:]
    flags, proto, plen, cid = struct.unpack("!HHHH", g[:8])
    off = 8 + (4 if flags & 0x1000 else 0) + (4 if flags & 0x0080 else 0)
    return src, cid, g[off:off + plen]
