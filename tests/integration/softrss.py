# SPDX-License-Identifier: BSD-3-Clause
"""A NIC's receive-side scaling as dpnat programs it, in Python: Toeplitz over
an IPv4 packet's tuple with dpnat's key (read from lib/rss/rss.c, so the bytes
are dpnat's own) and the redirection table dpnat writes (entry j -> queue
j % queues). test_rss.py holds it to DPDK's rte_softrss through the vectors
test_rss writes (tests/unit/golden/rss_vectors.txt).

    softrss.py split IN.pcap QUEUES OUT_PREFIX   one OUT_PREFIX<q>.pcap per queue
"""
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RETA_SIZE = 128     # any power of two >= the queues gives the same queue


def dpnat_key():
    """dpnat's Toeplitz key: the bytes of rss_key[] in lib/rss/rss.c."""
    src = open(os.path.join(ROOT, "lib", "rss", "rss.c")).read()
    body = re.search(r"rss_key\[RSS_KEY_LEN\]\s*=\s*\{([^}]*)\}", src).group(1)
    key = bytes(int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]{2}", body))
    assert len(key) == 40, len(key)
    return key


KEY = dpnat_key()
_KEYINT = int.from_bytes(KEY, "big")
_KEYBITS = len(KEY) * 8


def toeplitz(data, key_int=_KEYINT, key_bits=_KEYBITS):
    """The 32-bit Toeplitz hash of bytes data."""
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                pos = i * 8 + b
                h ^= (key_int >> (key_bits - 32 - pos)) & 0xffffffff
    return h


def ip4(a):
    return struct.pack("!4B", *(int(x) for x in a.split(".")))


def hash_l4(src, dst, sport, dport):
    """Hash of an IPv4 TCP/UDP packet (dotted addresses, int ports)."""
    return toeplitz(ip4(src) + ip4(dst) + struct.pack("!HH", sport, dport))


def hash_ip(src, dst):
    """Hash of any other IPv4 packet: its addresses alone."""
    return toeplitz(ip4(src) + ip4(dst))


def queue(h, queues, reta_size=RETA_SIZE):
    """The queue dpnat's redirection table gives hash h."""
    return (h & (reta_size - 1)) % queues


def frame_queue(frame, queues):
    """The RX queue of an Ethernet frame (bytes) on a NIC with dpnat's RSS; 0 if not IPv4."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return 0
    ihl = (frame[14] & 0x0f) * 4
    proto = frame[23]
    frag = struct.unpack("!H", frame[20:22])[0] & 0x3fff
    src, dst = frame[26:30], frame[30:34]
    if proto in (6, 17) and not frag and len(frame) >= 14 + ihl + 4:
        return queue(toeplitz(src + dst + frame[14 + ihl:14 + ihl + 4]), queues)
    return queue(toeplitz(src + dst), queues)


def split(frames, queues):
    """frames (bytes each) as a NIC with dpnat's RSS puts them on queues queues, in order."""
    out = [[] for _ in range(queues)]
    for f in frames:
        out[frame_queue(bytes(f), queues)].append(f)
    return out


def main(argv):
    if len(argv) != 5 or argv[1] != "split":
        print(__doc__, file=sys.stderr)
        return 2
    from scapy.all import rdpcap, wrpcap, Ether
    queues = int(argv[3])
    for q, fr in enumerate(split([bytes(p) for p in rdpcap(argv[2])], queues)):
        wrpcap(f"{argv[4]}{q}.pcap", [Ether(f) for f in fr], linktype=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
