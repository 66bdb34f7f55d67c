# SPDX-License-Identifier: BSD-3-Clause
"""dpnat pcap-replay benchmark (issue 6).

Generates pcaps (a set-up section, then data), replays them through the real
dpnat on one worker lcore (two net_pcap ports) and through dpdk-testpmd io
forwarding on the same virtual devices (the ceiling, run right after dpnat,
never at the same time), and prints Mpps, ns and cycles per packet, dpnat's
own cost per packet (dpnat - testpmd, by wall clock and by the forwarding
thread's CPU time), drops by reason, sessions and xlate entries, new
sessions and PPTP calls per second, memory per session, a perf profile, Open
vSwitch's DPDK datapath doing the same NAT with its conntrack (one-way
TCP/UDP, the same pcap and vdevs as a dpnat and a testpmd run), and the
Linux kernel NAT + PPTP helper reference. docs/performance.md has the method
and the figures.

Usage: tools/bench.sh [--quick] [--only NAME,...] [--flows 1k,64k,1M] [--no-kernel] ...
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------
# Addresses. Every address below lives only inside dpnat's pcap ports or in
# network namespaces this tool creates; nothing is sent to a real network.
# ---------------------------------------------------------------------------
TRUST_GW = "60.60.60.2"          # next hop towards the inside clients (static ARP)
TRUST_GW_MAC = "02:00:00:00:00:02"
UNTRUST_GW = "172.19.50.1"       # next hop towards the servers (static ARP)
UNTRUST_GW_MAC = "02:00:00:00:01:01"
DIP_FIRST = "100.64.0.1"         # public addresses (DIP pool 4 on ethernet4/1)
PORT_MAC = "02:70:63:61:70:%02x"  # net_pcap MAC of the n-th pcap vdev (DPDK 22.11)
FRAME_64 = 60                    # a 64-byte frame without its 4-byte FCS (pcap has none)
MIX_SIZES = (64, 600, 1400)      # frame sizes with FCS

# The vdev layout of every run: KB12423's Trust and Untrust interfaces.
#   vdev 0  ethernet4/2  Trust    inside clients (static ARP next hop 60.60.60.2)
#   vdev 1  ethernet4/1  Untrust  servers (static ARP next hop 172.19.50.1)
# Each port replays one pcap, read once (no infinite_rx, see docs/performance.md):
# first the set-up section (first packets / PPTP control, client and server
# side in lock-step), then the data section repeated many times.
IFACES = ("ethernet4/2", "ethernet4/1")


def ip2i(s):
    return struct.unpack("!I", socket.inet_aton(s))[0]


def i2ip(i):
    return socket.inet_ntoa(struct.pack("!I", i & 0xffffffff))


def mac2b(m):
    return bytes(int(x, 16) for x in m.split(":"))


ALL_CPUS = os.sched_getaffinity(0)


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------
# Packets and pcap files (standard library only, fast enough for millions)
# ---------------------------------------------------------------------------
def csum(data):
    """Internet checksum of data (bytes)."""
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, proto, payload, ttl=64, ident=0):
    """IPv4 header (no options) + payload; src/dst as integers."""
    tot = 20 + len(payload)
    h = struct.pack("!BBHHHBBHII", 0x45, 0, tot, ident & 0xffff, 0, ttl, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def l4_csum(src, dst, proto, seg):
    return csum(struct.pack("!IIBBH", src, dst, 0, proto, len(seg)) + seg)


TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", win=65535):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 5 << 4,
                    flags, win, 0, 0)
    seg = h + payload
    c = l4_csum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_csum(src, dst, 17, seg) or 0xffff
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def gre_v1(call_id, payload, seq):
    """Enhanced GRE (RFC 2637): K and S flags, version 1, PPP payload."""
    return struct.pack("!HHHHI", 0x3001, 0x880B, len(payload), call_id, seq & 0xffffffff) + payload


def frame(dmac, smac, ip_packet):
    return dmac + smac + b"\x08\x00" + ip_packet


def pad_payload(fixed_len, size_with_fcs):
    """Payload bytes so that a frame of fixed_len header bytes is size_with_fcs long with FCS."""
    return bytes(max(0, size_with_fcs - 4 - fixed_len))


class Pcap:
    """Write a classic pcap (microsecond, Ethernet) file."""

    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.n = 0
        self.path = path

    def add(self, pkt):
        self.f.write(struct.pack("<IIII", 0, self.n & 0xfffff, len(pkt), len(pkt)))
        self.f.write(pkt)
        self.n += 1

    def close(self):
        self.f.close()
        return self.n


class Records:
    """Packets kept as pcap records in memory, to be written (and repeated) later."""

    def __init__(self):
        self.parts = []
        self.n = 0

    def add(self, pkt):
        self.parts.append(struct.pack("<IIII", 0, self.n & 0xfffff, len(pkt), len(pkt)))
        self.parts.append(pkt)
        self.n += 1

    def blob(self):
        b = b"".join(self.parts)
        self.parts = [b]
        return b

    def close(self):
        return self.n


def write_pcap(path, sections):
    """A pcap of the given (Records, repeat) sections in order; its packet count."""
    n = 0
    with open(path, "wb", buffering=1 << 22) as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for rec, times in sections:
            b = rec.blob()
            for _ in range(times):
                f.write(b)
            n += rec.n * times
    return n


def read_pcap(path):
    """Yield the packets of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + caplen]
        off += caplen


def empty_pcap(path):
    Pcap(path).close()
    return path


# ---------------------------------------------------------------------------
# PPTP control messages (RFC 2637), the few the set-up needs
# ---------------------------------------------------------------------------
PPTP_MAGIC = 0x1A2B3C4D


def pptp_msg(ctype, length, body):
    m = struct.pack("!HHIHH", length, 1, PPTP_MAGIC, ctype, 0) + body
    return m + bytes(length - len(m))


def sccrq():
    return pptp_msg(1, 156, struct.pack("!HHII", 0x0100, 0, 1, 1))


def sccrp():
    return pptp_msg(2, 156, struct.pack("!HBBII", 0x0100, 1, 0, 1, 1))


def ocrq(call_id, serial):
    return pptp_msg(7, 168, struct.pack("!HH", call_id, serial & 0xffff))


def ocrp(call_id, peer_call_id):
    return pptp_msg(8, 32, struct.pack("!HHBBH", call_id, peer_call_id, 1, 0, 0))


PPP_IP = b"\xff\x03\x00\x21"


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------
class Plan:
    """Everything one measured configuration needs: pcaps, limits, expectations."""

    def __init__(self, name, kind, flows, sizes, workdir):
        self.name = name              # e.g. pptp-64@64k
        self.kind = kind              # pptp | tcpudp | newflow-tcpudp | newflow-pptp
        self.flows = flows            # concurrent flows (GRE flows for PPTP: 2 per call)
        self.sizes = sizes            # frame sizes (with FCS) of the data packets
        self.dir = workdir
        self.pcaps = [None, None]      # per vdev
        self.ceiling_pcaps = None
        self.infinite = [False, False]
        self.expect_sessions = 0
        self.expect_xlate = 0
        self.n_dip = 1
        self.session_max = 0
        self.xlate_max = 0
        self.meta = {}

    def path(self, what):
        return os.path.join(self.dir, what)

    def setup_counts(self):
        """Packets of the set-up section on each port (the one-way plans have none on port 1)."""
        n = self.meta["setup_packets"]
        return [n, 0] if self.kind == "tcpudp-oneway" else [n, n]


def port_mac(i):
    return mac2b(PORT_MAC % i)


class PptpGen:
    """PPTP workload: `calls` calls from as many inside clients (one control
    connection each), all clients using the same few Call IDs (they collide,
    so every one must be translated), towards `servers` PPTP servers."""

    def __init__(self, calls):
        self.calls = calls
        self.servers = max(16, -(-calls // 60000))
        self.gw_t, self.gw_u = mac2b(TRUST_GW_MAC), mac2b(UNTRUST_GW_MAC)

    def client(self, j):
        return ip2i("10.0.0.0") + 256 + j

    def sport(self, j):
        return 1025 + j % 60000

    def server(self, j):
        return ip2i("198.18.1.1") + j % self.servers

    def ccid(self, j):
        return 0x0100 + j % 8        # colliding inside Call IDs

    def scid(self, j):
        return 1 + j // self.servers  # the server's own Call ID, unique per server

    @staticmethod
    def isn_c(j):
        return (j << 8) | 0x11

    @staticmethod
    def isn_s(j):
        return 0x80000000 | (j << 4)

    def syns(self, p):
        """The client's SYN of every call's control connection (round 1)."""
        mac = port_mac(0)
        for j in range(self.calls):
            c, s = self.client(j), self.server(j)
            p.add(frame(mac, self.gw_t, ipv4(c, s, 6, tcp(c, s, self.sport(j), 1723, self.isn_c(j), 0, TCP_SYN))))
        return p.n

    def warm_trust(self, p):
        """Client side of every call set-up, one message per call and round:
        SYN; SCCRQ, whose ACK of the server's SYN-ACK completes the handshake
        (the ALG takes control state only then); OCRQ."""
        mac = port_mac(0)
        self.syns(p)
        for j in range(self.calls):
            c, s = self.client(j), self.server(j)
            p.add(frame(mac, self.gw_t, ipv4(c, s, 6, tcp(c, s, self.sport(j), 1723, self.isn_c(j) + 1,
                                                          self.isn_s(j) + 1, TCP_ACK | TCP_PSH, sccrq()))))
        for j in range(self.calls):
            c, s = self.client(j), self.server(j)
            p.add(frame(mac, self.gw_t, ipv4(c, s, 6, tcp(c, s, self.sport(j), 1723, self.isn_c(j) + 157,
                                                          self.isn_s(j) + 157, TCP_ACK | TCP_PSH,
                                                          ocrq(self.ccid(j), j)))))
        return p.close()

    def discover(self, out_pcap, call_ids=True):
        """(public ip, public port, translated call id) of each call, from what
        dpnat sent to the servers in a discovery run; the call id is None
        when call_ids is false (a run of the SYNs alone)."""
        pub, port, xcid = {}, {}, {}
        for pkt in read_pcap(out_pcap):
            if len(pkt) < 54 or pkt[23] != 6:
                continue
            ihl = (pkt[14] & 15) * 4
            l4 = 14 + ihl
            sp, dp, seq = struct.unpack("!HHI", pkt[l4:l4 + 8])
            if dp != 1723:
                continue
            flags = pkt[l4 + 13]
            pay = pkt[l4 + (pkt[l4 + 12] >> 4) * 4:]
            if flags & TCP_SYN:
                j = seq >> 8
                pub[j] = struct.unpack("!I", pkt[26:30])[0]
                port[j] = sp
            elif len(pay) >= 16 and struct.unpack("!H", pay[8:10])[0] == 7:
                j = (seq - 157) >> 8
                xcid[j] = struct.unpack("!H", pay[12:14])[0]
        miss = [j for j in range(self.calls) if j not in pub or (call_ids and j not in xcid)]
        if miss:
            raise RuntimeError("discovery: %d of %d calls not seen leaving dpnat (first: %d)"
                               % (len(miss), self.calls, miss[0]))
        return [(pub[j], port[j], xcid.get(j)) for j in range(self.calls)]

    def warm_untrust(self, p, xl):
        """Server side, one reply per client message at the same position:
        SYN-ACK, SCCRP, and OCRP where the translated call id is known (the
        second discovery run has none, and no OCRP)."""
        mac = port_mac(1)
        for j in range(self.calls):
            s, (pub, pp, _) = self.server(j), xl[j]
            p.add(frame(mac, self.gw_u, ipv4(s, pub, 6, tcp(s, pub, 1723, pp, self.isn_s(j), self.isn_c(j) + 1,
                                                            TCP_SYN | TCP_ACK))))
        for j in range(self.calls):
            s, (pub, pp, _) = self.server(j), xl[j]
            p.add(frame(mac, self.gw_u, ipv4(s, pub, 6, tcp(s, pub, 1723, pp, self.isn_s(j) + 1,
                                                            self.isn_c(j) + 157, TCP_ACK | TCP_PSH, sccrp()))))
        for j in range(self.calls):
            s, (pub, pp, xc) = self.server(j), xl[j]
            if xc is None:
                continue
            p.add(frame(mac, self.gw_u, ipv4(s, pub, 6, tcp(s, pub, 1723, pp, self.isn_s(j) + 157,
                                                            self.isn_c(j) + 325, TCP_ACK | TCP_PSH,
                                                            ocrp(self.scid(j), xc)))))
        return p.close()

    def data(self, pt, pu, xl, sizes):
        """GRE data of every call in both directions; each pass over the calls
        uses the next size, so every call sees every size when there are few."""
        passes = len(sizes) if self.calls * len(sizes) <= 300000 else 1
        mt, mu = port_mac(0), port_mac(1)
        cache = {}
        for ps in range(passes):
            for j in range(self.calls):
                size = sizes[(ps + j) % len(sizes)]
                if size not in cache:
                    cache[size] = PPP_IP + pad_payload(14 + 20 + 12 + 4, size)
                ppp = cache[size]
                c, s, (pub, _, xc) = self.client(j), self.server(j), xl[j]
                pt.add(frame(mt, self.gw_t, ipv4(c, s, 47, gre_v1(self.scid(j), ppp, ps + 1))))
                pu.add(frame(mu, self.gw_u, ipv4(s, pub, 47, gre_v1(xc, ppp, ps + 1))))
        return pt.close(), pu.close()


class TcpUdpGen:
    """TCP/UDP mix: `flows` flows (even: TCP, odd: UDP) from flows/8 inside clients."""

    def __init__(self, flows):
        self.flows = flows
        self.hosts = max(1, flows // 8)
        self.gw_t, self.gw_u = mac2b(TRUST_GW_MAC), mac2b(UNTRUST_GW_MAC)

    def tuple(self, i):
        c = ip2i("10.0.0.0") + 256 + i % self.hosts
        sp = 1024 + i // self.hosts
        s = ip2i("198.18.2.1") + i % 251
        tcp_ = i % 2 == 0
        dp = (80, 443)[(i >> 1) & 1] if tcp_ else (53, 4500)[(i >> 1) & 1]
        return tcp_, c, sp, s, dp

    @staticmethod
    def isn_c(i):
        return (i << 8) | 0x22

    @staticmethod
    def isn_s(i):
        return 0x40000000 | (i << 2)

    @staticmethod
    def tag(i):
        return b"BNCH" + struct.pack("!I", i)

    def first_packets(self, p, mac):
        for i in range(self.flows):
            t, c, sp, s, dp = self.tuple(i)
            if t:
                # A bare SYN; the frame is padded to 60 bytes as Ethernet does.
                seg = tcp(c, s, sp, dp, self.isn_c(i), 0, TCP_SYN)
                p.add(frame(mac, self.gw_t, ipv4(c, s, 6, seg)) + bytes(6))
            else:
                p.add(frame(mac, self.gw_t, ipv4(c, s, 17, udp(c, s, sp, dp, self.tag(i) + bytes(10)))))
        return p.close()

    def discover(self, out_pcap):
        pub = {}
        for pkt in read_pcap(out_pcap):
            if len(pkt) < 42:
                continue
            proto, ihl = pkt[23], (pkt[14] & 15) * 4
            l4 = 14 + ihl
            src = struct.unpack("!I", pkt[26:30])[0]
            sp = struct.unpack("!H", pkt[l4:l4 + 2])[0]
            if proto == 6:
                i = struct.unpack("!I", pkt[l4 + 4:l4 + 8])[0] >> 8
            elif proto == 17 and pkt[l4 + 8:l4 + 12] == b"BNCH":
                i = struct.unpack("!I", pkt[l4 + 12:l4 + 16])[0]
            else:
                continue
            pub[i] = (src, sp)
        miss = [i for i in range(self.flows) if i not in pub]
        if miss:
            raise RuntimeError("discovery: %d of %d flows not seen leaving dpnat (first: %d)"
                               % (len(miss), self.flows, miss[0]))
        return [pub[i] for i in range(self.flows)]

    def warm_untrust(self, p, xl):
        """The server's answer to each first packet (SYN-ACK, or a UDP reply)."""
        mac = port_mac(1)
        for i in range(self.flows):
            t, c, sp, s, dp = self.tuple(i)
            pub, pp = xl[i]
            if t:
                seg = tcp(s, pub, dp, pp, self.isn_s(i), self.isn_c(i) + 1, TCP_SYN | TCP_ACK)
                p.add(frame(mac, self.gw_u, ipv4(s, pub, 6, seg)) + bytes(6))
            else:
                p.add(frame(mac, self.gw_u, ipv4(s, pub, 17, udp(s, pub, dp, pp, bytes(18)))))
        return p.close()

    def data(self, pt, pu, xl, size=64):
        """One 64-byte packet per flow and direction per pass."""
        mt, mu = port_mac(0), port_mac(1)
        for i in range(self.flows):
            t, c, sp, s, dp = self.tuple(i)
            pub, pp = xl[i]
            if t:
                pay = pad_payload(54, size)
                pt.add(frame(mt, self.gw_t, ipv4(c, s, 6, tcp(c, s, sp, dp, self.isn_c(i) + 1, self.isn_s(i) + 1,
                                                              TCP_ACK | TCP_PSH, pay))))
                pu.add(frame(mu, self.gw_u, ipv4(s, pub, 6, tcp(s, pub, dp, pp, self.isn_s(i) + 1,
                                                                self.isn_c(i) + 1 + len(pay), TCP_ACK | TCP_PSH,
                                                                pay))))
            else:
                pay = pad_payload(42, size)
                pt.add(frame(mt, self.gw_t, ipv4(c, s, 17, udp(c, s, sp, dp, pay))))
                pu.add(frame(mu, self.gw_u, ipv4(s, pub, 17, udp(s, pub, dp, pp, pay))))
        return pt.close(), pu.close()


# ---------------------------------------------------------------------------
# Running dpnat and testpmd
# ---------------------------------------------------------------------------
class Telemetry:
    """DPDK telemetry v2 client (the socket dpdk-telemetry.py talks to)."""

    def __init__(self, prefix, timeout=60.0):
        path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        end = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > end:
                    raise RuntimeError("no telemetry socket at " + path)
                time.sleep(0.05)
        info = json.loads(self.s.recv(65536).decode())
        self.maxlen = int(info.get("max_output_len", 16384))

    def q(self, cmd):
        self.s.send(cmd.encode())
        d = json.loads(self.s.recv(self.maxlen).decode())
        return d.get(cmd.split(",")[0])

    def close(self):
        self.s.close()


class HugePages:
    """2 MB hugepages for the EAL, as a production dpnat runs: reserved on
    demand (vm.nr_hugepages), hugetlbfs mounted if it is not, the reservation
    given back at exit. Files are unlinked at once (--huge-unlink), so a killed
    process leaves none behind."""
    enabled = False
    orig = None
    mounted = False       # we mounted /dev/hugepages: unmount it at exit

    @classmethod
    def setup(cls):
        try:
            if not any(l.split()[2] == "hugetlbfs" for l in open("/proc/mounts") if len(l.split()) > 2):
                os.makedirs("/dev/hugepages", exist_ok=True)
                subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"], check=True)
                cls.mounted = True
            cls.orig = int(open("/proc/sys/vm/nr_hugepages").read())
            cls.enabled = True
        except (OSError, subprocess.CalledProcessError, ValueError) as e:
            log("bench: no hugepages (%s); using 4 KB pages (--no-huge)" % e)

    @classmethod
    def ensure(cls, mem_mb):
        """At least mem_mb of free hugepages (one process runs at a time)."""
        if not cls.enabled:
            return
        need = mem_mb // 2 + 16
        free = int([l.split()[1] for l in open("/proc/meminfo") if l.startswith("HugePages_Free")][0])
        if free < need:
            total = int(open("/proc/sys/vm/nr_hugepages").read()) + need - free
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write(str(total))
            got = int(open("/proc/sys/vm/nr_hugepages").read())
            if got < total:
                raise RuntimeError("only %d of %d hugepages could be reserved; try --no-huge" % (got, total))

    @classmethod
    def restore(cls):
        if cls.enabled and cls.orig is not None:
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write(str(cls.orig))
        if cls.mounted:
            subprocess.run(["umount", "/dev/hugepages"], check=False)
            cls.mounted = False


def eal_args(prefix, vdevs, mem_mb):
    HugePages.ensure(mem_mb)
    a = ["-l", "0,1", "--no-pci", "--huge-unlink" if HugePages.enabled else "--no-huge",
         "-m", str(mem_mb), "--file-prefix", prefix, "--log-level", "lib.eal:error"]
    for v in vdevs:
        a.append("--vdev=" + v)
    return a


def vdev_strings(pcaps, infinite, tx_files=None):
    """net_pcap vdevs; without a tx stream the PMD drops on transmit (the cheapest)."""
    out = []
    for i, (p, inf) in enumerate(zip(pcaps, infinite)):
        s = "net_pcap%d,rx_pcap=%s" % (i, p)
        if inf:
            s += ",infinite_rx=1"
        if tx_files and tx_files[i]:
            s += ",tx_pcap=" + tx_files[i]
        out.append(s)
    return out


def pcap_count(path):
    n, off = 0, 24
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(24)
        while off + 16 <= size:
            h = f.read(16)
            caplen = struct.unpack("<I", h[8:12])[0]
            f.seek(caplen, 1)
            off += 16 + caplen
            n += 1
    return n


class Proc:
    """A DPDK process (dpnat or testpmd) with its log, telemetry and clean stop."""

    def __init__(self, argv, log_path, prefix, stdin=None):
        self.argv, self.log_path, self.prefix = argv, log_path, prefix
        self.logf = open(log_path, "w")
        self.p = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                  stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                  preexec_fn=lambda: os.sched_setaffinity(0, ALL_CPUS))
        self.tm = None

    def wait_telemetry(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                raise RuntimeError("%s exited (%s); see %s:\n%s" % (
                    os.path.basename(self.argv[0]), self.p.returncode, self.log_path, self.tail()))
            try:
                self.tm = Telemetry(self.prefix, timeout=0.5)
                return self.tm
            except RuntimeError:
                pass
        raise RuntimeError("%s did not start in %.0f s; see %s" % (self.argv[0], timeout, self.log_path))

    def tail(self, n=15):
        self.logf.flush()
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.tm:
            try:
                self.tm.close()
            except OSError:
                pass
            self.tm = None
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def worker_tid(pid, name="worker"):
    """The forwarding thread: the one whose name holds `name` (EAL names the
    lcore lcore-worker-1; Open vSwitch its PMD thread pmd-c01/id:N)."""
    if pid is None:
        return None
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                    if name in f.read():
                        return int(t)
            except OSError:
                pass
    except OSError:
        pass
    return None


def worker_oncpu_ns(pid, name="worker"):
    """Nanoseconds the forwarding thread has spent on a CPU (schedstat)."""
    tid = worker_tid(pid, name)
    if tid is None:
        return None
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cpu_steal(cpu):
    """Steal ticks of one CPU (/proc/stat)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % cpu):
                v = line.split()
                return int(v[8]) if len(v) > 8 else 0
    return 0


def other_dpdk_workers():
    """Processes (not ours) with DPDK worker lcore threads: they compete for CPU 1."""
    me, out = os.getpid(), set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            for t in os.listdir("/proc/%s/task" % pid):
                with open("/proc/%s/task/%s/comm" % (pid, t)) as f:
                    c = f.read()
                if "rte-worker" in c or "lcore-worker" in c:
                    out.add(int(pid))
                    break
        except OSError:
            pass
    return sorted(out)


def cpu_busy(seconds=1.0):
    """Share of both CPUs busy over `seconds` (everything, /proc/stat)."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = read()
    time.sleep(seconds)
    t1, i1 = read()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def port_stats(tm, ports):
    out = {}
    for p in ports:
        s = tm.q("/ethdev/stats,%d" % p) or {}
        out[p] = s
    return out


def tsc_hz():
    """TSC frequency: the kernel's calibration (dmesg), else /proc/cpuinfo's cpu MHz."""
    try:
        d = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=5).stdout
        m = re.findall(r"tsc: Refined TSC clocksource calibration: ([0-9.]+) MHz", d) or \
            re.findall(r"tsc: Detected ([0-9.]+) MHz", d)
        if m:
            return float(m[-1]) * 1e6, "dmesg (tsc: %s MHz)" % m[-1]
    except (OSError, subprocess.TimeoutExpired):
        pass
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                v = float(line.split(":")[1])
                return v * 1e6, "/proc/cpuinfo (cpu MHz %.3f)" % v
    return 0.0, "unknown"


# ---------------------------------------------------------------------------
# dpnat configuration
# ---------------------------------------------------------------------------
def dpnat_conf(path, session_max, xlate_max, mbufs, n_dip):
    """KB12423's set-up (ethernet4/2 Trust in NAT mode, ethernet4/1 Untrust, a
    Trust->Untrust permit policy with source NAT to DIP pool 4, so that more
    than 64512 ports or Call IDs can be had) on two pcap ports, with static ARP
    for both next hops so that no ARP is needed, limits sized to the workload."""
    last = i2ip(ip2i(DIP_FIRST) + n_dip - 1)
    lines = [
        '# generated by tools/bench.py',
        # Trust first: the worker polls ports in interface order, and each
        # server answer must be read after the client packet it answers.
        'set interface "ethernet4/2" zone "Trust"',
        'set interface "ethernet4/1" zone "Untrust"',
        'unset interface vlan1 ip',
        'set interface ethernet4/1 ip 172.19.51.234/23',
        'set interface ethernet4/1 route',
        'set interface ethernet4/2 ip 60.60.60.1/24',
        'set interface ethernet4/2 nat',
        'set interface ethernet4/1 dip 4 %s %s' % (DIP_FIRST, last),
        'set interface ethernet4/2 port net_pcap0',
        'set interface ethernet4/1 port net_pcap1',
        'set policy id 1 from "Trust" to "Untrust" "Any" "Any" "ANY" nat src dip-id 4 permit',
        'set route 10.0.0.0/8 interface ethernet4/2 gateway %s' % TRUST_GW,
        'set route 0.0.0.0/0 interface ethernet4/1 gateway %s' % UNTRUST_GW,
        'set arp %s %s ethernet4/2' % (TRUST_GW, TRUST_GW_MAC),
        'set arp %s %s ethernet4/1' % (UNTRUST_GW, UNTRUST_GW_MAC),
        'set session max %d' % session_max,
        'set alg pptp xlate max %d' % xlate_max,
        'set mbuf max %d' % mbufs,
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def mem_mb_for(mbufs, sessions, xlate):
    """-m for --no-huge: the mbuf pool (with 4 KB pages a mempool object may not
    straddle a page, so every mbuf takes a page of its own: 4.1 KB measured),
    the session and xlate tables (about 0.3 and 0.4 KB measured; 0.6 and 0.8
    allowed) and 768 MB of slack. Only what is touched becomes RSS."""
    return int(768 + mbufs * 4.25 / 1024 + sessions * 0.6 / 1024 + xlate * 0.8 / 1024)


class Bench:
    def __init__(self, args):
        self.a = args
        self.build = args.build
        self.dpnat = os.path.join(self.build, "app", "dpnat", "dpnat")
        self.cli_bin = os.path.join(self.build, "app", "dpnat-cli", "dpnat-cli")
        self.testpmd = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
        self.work = args.workdir
        os.makedirs(self.work, exist_ok=True)
        self.hz, self.hz_src = tsc_hz()
        self.seq = 0
        self.pptp_cache = {}

    def prefix(self):
        self.seq += 1
        return "bench%d_%d" % (os.getpid() % 100000, self.seq)

    def cli(self, sock, *words, timeout=120):
        r = subprocess.run([self.cli_bin, "-s", sock] + list(words), capture_output=True,
                           text=True, timeout=timeout)
        return r.stdout + r.stderr

    # -- dpnat --
    def start_dpnat(self, plan, pcaps, infinite, tx_files=None, tag="run"):
        prefix = self.prefix()
        conf = dpnat_conf(plan.path("dpnat-%s.conf" % tag), plan.session_max, plan.xlate_max,
                          plan.mbufs, plan.n_dip)
        sock = plan.path("dpnat-%s.sock" % tag)
        argv = [self.dpnat] + eal_args(prefix, vdev_strings(pcaps, infinite, tx_files), plan.mem_mb) + \
            ["--", "-f", conf, "-s", sock]
        proc = Proc(argv, plan.path("dpnat-%s.log" % tag), prefix)
        proc.sock = sock
        proc.cmdline = " ".join(argv)
        proc.wait_telemetry(120 + plan.mbufs / 50000)
        end = time.monotonic() + 60
        while not os.path.exists(sock):
            if not proc.alive() or time.monotonic() > end:
                raise RuntimeError("dpnat did not open its socket; see " + proc.log_path + "\n" + proc.tail())
            time.sleep(0.002)
        return proc

    def start_testpmd(self, plan, pcaps, infinite, tag="testpmd"):
        prefix = self.prefix()
        argv = [self.testpmd] + eal_args(prefix, vdev_strings(pcaps, infinite), plan.mem_mb) + \
            ["--", "--forward-mode=io", "--nb-cores=1", "--rxq=1", "--txq=1", "--burst=32",
             "--total-num-mbufs=%d" % plan.mbufs, "--no-lsc-interrupt"]
        # Without -i testpmd forwards until a line arrives on stdin: keep it open.
        proc = Proc(argv, plan.path("%s.log" % tag), prefix, stdin=subprocess.PIPE)
        proc.cmdline = " ".join(argv)
        proc.wait_telemetry(120 + plan.mbufs / 50000)
        return proc

    def measure_worker(self, workload, flows, lcores="0@1"):
        """dpnat-bench-worker: the worker's own cost without a PMD's receive path; one worker
        per entry of lcores (EAL map: '0@1' = worker 0 on CPU 1)."""
        exe = os.path.join(self.build, "tools", "dpnat-bench-worker")
        nw = len(lcores.split(","))
        argv = [exe, "--workload", workload, "--flows", str(flows), "--rounds", "40",
                "--passes", str(max(1, 200000 // flows)), "--workers", str(nw), "--lcores", lcores]
        if HugePages.enabled:
            HugePages.ensure(2048 + flows // 256)
            argv.append("--huge")
        r = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        out = {"workload": workload, "flows": flows, "workers": nw, "lcores": lcores, "cmdline": " ".join(argv)}
        vals = dict(re.findall(r"^\s+(dpnat|io only|own cost)\s+([0-9.-]+) cycles/pkt", r.stdout, re.M))
        mpps = dict(re.findall(r"^\s+(dpnat|io only)\s+.* ([0-9.]+) Mpps", r.stdout, re.M))
        if r.returncode != 0 or len(vals) != 3:
            out["error"] = (r.stderr or r.stdout).strip()[-300:]
            return out
        out.update(dpnat_cycles=float(vals["dpnat"]), io_cycles=float(vals["io only"]),
                   own_cycles=float(vals["own cost"]), own_ns=float(vals["own cost"]) / self.hz * 1e9,
                   dpnat_mpps=float(mpps.get("dpnat", "nan")))
        return out

    # -- measurement helpers --
    def snapshot(self, tm, ports, dpnat=True, pid=None):
        t = time.monotonic()
        st = port_stats(tm, ports)
        t2 = time.monotonic()
        snap = {"t": (t + t2) / 2, "ports": st, "oncpu": worker_oncpu_ns(pid), "steal": cpu_steal(1)}
        if dpnat:
            snap["counters"] = tm.q("/dpnat/counters") or {}
            snap["sessions"] = tm.q("/dpnat/sessions") or {}
        return snap

    @staticmethod
    def disturbance(s0, s1):
        """Share of the window the forwarding thread was on its CPU, and the
        hypervisor's steal time on CPU 1: the window was disturbed when the
        first is clearly below 1 or the second above 0."""
        dt = s1["t"] - s0["t"]
        on = (s1["oncpu"] - s0["oncpu"]) / 1e9 / dt if s0["oncpu"] is not None and s1["oncpu"] is not None else None
        steal = (s1["steal"] - s0["steal"]) / os.sysconf("SC_CLK_TCK") / dt
        return {"worker_on_cpu": round(on, 3) if on is not None else None, "steal": round(steal, 3),
                "worker_cpu_ns": (s1["oncpu"] - s0["oncpu"]) if on is not None else None}

    def rate(self, s0, s1, ports):
        dt = s1["t"] - s0["t"]
        rx = sum(s1["ports"][p].get("ipackets", 0) - s0["ports"][p].get("ipackets", 0) for p in ports)
        tx = sum(s1["ports"][p].get("opackets", 0) - s0["ports"][p].get("opackets", 0) for p in ports)
        nombuf = sum(s1["ports"][p].get("rx_nombuf", 0) - s0["ports"][p].get("rx_nombuf", 0) for p in ports)
        return rx / dt, tx / dt, dt, nombuf

    def wait_warm(self, proc, plan, counts, dpnat=True):
        """Until both ports are past the set-up section and (dpnat) the
        expected sessions exist."""
        tm = proc.tm
        end = time.monotonic() + 60 + plan.flows / 20000
        while True:
            st = port_stats(tm, [0, 1])
            ses = (tm.q("/dpnat/sessions") or {}) if dpnat else {"alloc": plan.expect_sessions}
            done = all(st[p].get("ipackets", 0) >= counts[p] for p in (0, 1))
            if done and ses.get("alloc", 0) >= plan.expect_sessions:
                break
            if not proc.alive():
                raise RuntimeError("died during the set-up:\n" + proc.tail())
            if time.monotonic() > end:
                raise RuntimeError("set-up incomplete: ports at %s of %s packets, sessions %s of %d"
                                   % ([st[p].get("ipackets") for p in (0, 1)], counts[:2],
                                      ses.get("alloc"), plan.expect_sessions))
            time.sleep(0.05)
        return time.monotonic()

    def timed_window(self, snap, plan, ports, total=None):
        """Settle, then the measurement window between two snap() (a dict as
        snapshot() makes it), shortened if the pcaps would run out before its
        end; fails if they did run out."""
        total = total or plan.meta["pcap_packets"]
        time.sleep(self.a.settle)
        s0 = snap()
        time.sleep(0.2)
        sp = snap()
        left = min(total[p] - sp["ports"][p].get("ipackets", 0) for p in ports)
        per_port = max(1.0, min(sp["ports"][p].get("ipackets", 0) - s0["ports"][p].get("ipackets", 0)
                                for p in ports) / (sp["t"] - s0["t"]))
        # Half of what is left at the rate seen: the machine may speed up.
        w = min(self.a.window, 0.5 * left / per_port)
        if w < 0.2:
            raise RuntimeError("the pcaps are too short for a window (%d packets left at %.2f Mpps per port): "
                               "raise --data-packets / --data-bytes" % (left, per_port / 1e6))
        time.sleep(w)
        s1 = snap()
        if any(s1["ports"][p].get("ipackets", 0) >= total[p] for p in ports):
            raise RuntimeError("a pcap ran out inside the window")
        return sp, s1

    def perf_profile(self, pid, seconds, out):
        """perf record -g on the worker lcore's thread; the top of perf report."""
        if not shutil.which("perf") or self.a.no_perf:
            return None
        data = out + ".data"
        tid = worker_tid(pid)
        target = ["-t", str(tid)] if tid else ["-p", str(pid)]
        r = subprocess.run(["perf", "record", "-g", "-o", data] + target + ["--", "sleep", str(seconds)],
                           capture_output=True, text=True, timeout=seconds + 60)
        if r.returncode != 0:
            return "perf record failed: " + r.stderr.strip()[-300:]
        return self.perf_report(out)

    def perf_report(self, out):
        data = out + ".data"
        if not os.path.exists(data):
            return None
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,symbol",
                              "-g", "none", "--percent-limit", "0.7"],
                             capture_output=True, text=True, timeout=300).stdout
        lines = [re.sub(r"(\s+-)+\s*$", "", l) for l in rep.splitlines() if l.strip() and not l.startswith("#")]
        with open(out + ".txt", "w") as f:
            f.write(rep)
        try:
            os.unlink(data)
        except OSError:
            pass
        return "\n".join(lines[:25])

    # -- preparing a plan: pcaps, discovery, limits --
    def size_plan(self, plan, calls=0):
        need = max(plan.flows if plan.kind in ("tcpudp", "tcpudp-oneway", "newflow-tcpudp") else calls, 1)
        plan.n_dip = max(1, -(-need // 40000))
        plan.session_max = int(plan.expect_sessions * 1.25) + 4096
        plan.xlate_max = max(64, int(calls * 1.1) + 64)
        plan.mbufs = 65536
        plan.mem_mb = mem_mb_for(plan.mbufs, plan.session_max, plan.xlate_max)

    def repeats(self, data, sizes, factor=1):
        """How many times the data section is written: enough packets for the
        warm-up, settle and window at the fastest rate expected (testpmd),
        within a disk budget per port."""
        avg = sum(s - 4 + 16 for s in sizes) / len(sizes)
        want = min(self.a.data_packets * factor, int(self.a.data_bytes / avg))
        return max(1, -(-want // max(data.n, 1)))

    def discovery(self, plan, gen, warm_t, expect, warm_u=None, **kw):
        """Run dpnat on the client side of the set-up (and the server side
        known so far, warm_u, in lock-step) and read the translations it chose
        from what it sent out of the Untrust port. One worker allocates ports
        and Call IDs in packet order, so the measured run, fed the same client
        packets in the same order, chooses the same ones (checked there: every
        reply must find its session)."""
        out = plan.path("discovery-out.pcap")
        e = empty_pcap(plan.path("empty.pcap"))
        n = pcap_count(warm_t)
        save = plan.mbufs, plan.mem_mb
        plan.mbufs, plan.mem_mb = 65536, mem_mb_for(65536, plan.session_max, plan.xlate_max)
        proc = self.start_dpnat(plan, [warm_t, warm_u or e], [False] * 2, [None, out], tag="discovery")
        try:
            end = time.monotonic() + 60 + n / 20000
            while True:
                st = port_stats(proc.tm, [0, 1])
                if st[0].get("ipackets", 0) >= n and st[1].get("opackets", 0) >= n:
                    break
                if time.monotonic() > end or not proc.alive():
                    raise RuntimeError("discovery: %s/%d packets in, %s out; counters %s" % (
                        st[0].get("ipackets"), n, st[1].get("opackets"), proc.tm.q("/dpnat/counters")))
                time.sleep(0.05)
        finally:
            proc.stop()
        plan.mbufs, plan.mem_mb = save
        return gen.discover(out, **kw)

    def prepare(self, plan):
        os.makedirs(plan.dir, exist_ok=True)
        e = empty_pcap(plan.path("empty.pcap"))
        t0 = time.monotonic()
        trust, untrust = plan.path("trust.pcap"), plan.path("untrust.pcap")
        if plan.kind in ("pptp", "newflow-pptp"):
            calls = plan.flows // 2 if plan.kind == "pptp" else plan.flows
            gen = PptpGen(calls)
            plan.expect_sessions = 3 * calls
            plan.expect_xlate = calls
            plan.meta.update(calls=calls, clients=calls, servers=gen.servers, ctrl_connections=calls,
                             inside_call_ids=8)
            self.size_plan(plan, calls)
            if calls in self.pptp_cache:
                # The same calls were set up for another size mix: same set-up section.
                wt, wu = self.pptp_cache[calls]
                xl = wu.xl
            else:
                # dpnat's TCP tracking and the ALG take no control message
                # before the handshake, so discovery takes two runs: the SYNs
                # alone give the public ports; then the set-up with the
                # SYN-ACKs and SCCRPs (no OCRP yet) gives the Call IDs.
                wpath, upath = plan.path("setup-trust.pcap"), plan.path("setup-untrust.pcap")
                syn = Records()
                gen.syns(syn)
                write_pcap(wpath, [(syn, 1)])
                xl = self.discovery(plan, gen, wpath, calls, call_ids=False)
                wt, wu = Records(), Records()
                gen.warm_trust(wt)
                gen.warm_untrust(wu, xl)
                write_pcap(wpath, [(wt, 1)])
                write_pcap(upath, [(wu, 1)])
                xl2 = self.discovery(plan, gen, wpath, calls, upath)
                if [x[:2] for x in xl2] != [x[:2] for x in xl]:
                    raise RuntimeError("discovery: the two runs chose different public ports")
                xl = xl2
                os.unlink(wpath)
                os.unlink(upath)
                wu = Records()
                gen.warm_untrust(wu, xl)
                wu.xl = xl
                self.pptp_cache[calls] = (wt, wu)
            if plan.kind == "pptp":
                dt, du = Records(), Records()
                gen.data(dt, du, xl, plan.sizes)
                r = self.repeats(dt, plan.sizes)
                nt = write_pcap(trust, [(wt, 1), (dt, r)])
                write_pcap(untrust, [(wu, 1), (du, r)])
                plan.meta.update(setup_packets=wt.n, data_packets=nt - wt.n, data_section=dt.n, data_repeats=r)
            else:
                nt = write_pcap(trust, [(wt, 1)])
                write_pcap(untrust, [(wu, 1)])
                plan.meta.update(setup_packets=wt.n, data_packets=0)
                # testpmd's steady rate on the same packets (it keeps no state):
                # the set-up section written many times over.
                r = self.repeats(wt, (64,))
                ct, cu = plan.path("ceiling-trust.pcap"), plan.path("ceiling-untrust.pcap")
                plan.meta["ceiling_packets"] = [write_pcap(ct, [(wt, r)]), write_pcap(cu, [(wu, r)])]
                plan.ceiling_pcaps = [ct, cu]
            plan.pcaps = [trust, untrust]
        elif plan.kind == "tcpudp":
            gen = TcpUdpGen(plan.flows)
            plan.expect_sessions = plan.flows
            plan.meta.update(tcp_flows=(plan.flows + 1) // 2, udp_flows=plan.flows // 2, clients=gen.hosts)
            self.size_plan(plan)
            wt = Records()
            gen.first_packets(wt, port_mac(0))
            wpath = plan.path("setup-trust.pcap")
            write_pcap(wpath, [(wt, 1)])
            xl = self.discovery(plan, gen, wpath, plan.flows)
            os.unlink(wpath)
            wu, dt, du = Records(), Records(), Records()
            gen.warm_untrust(wu, xl)
            gen.data(dt, du, xl)
            r = self.repeats(dt, plan.sizes)
            nt = write_pcap(trust, [(wt, 1), (dt, r)])
            write_pcap(untrust, [(wu, 1), (du, r)])
            plan.meta.update(setup_packets=wt.n, data_packets=nt - wt.n, data_section=dt.n, data_repeats=r)
            plan.pcaps = [trust, untrust]
        elif plan.kind == "tcpudp-oneway":
            # Trust -> Untrust only, the same pcap for dpnat, testpmd and Open vSwitch:
            # the first packets (SYN, first datagram), then the data section repeated.
            gen = TcpUdpGen(plan.flows)
            plan.expect_sessions = plan.flows
            plan.meta.update(tcp_flows=(plan.flows + 1) // 2, udp_flows=plan.flows // 2, clients=gen.hosts)
            self.size_plan(plan)
            wt, dt, du = Records(), Records(), Records()
            gen.first_packets(wt, port_mac(0))
            gen.data(dt, du, [(0, 0)] * plan.flows)
            r = self.repeats(dt, plan.sizes, 2)
            nt = write_pcap(trust, [(wt, 1), (dt, r)])
            plan.meta.update(setup_packets=wt.n, data_packets=nt - wt.n, data_section=dt.n, data_repeats=r)
            plan.pcaps = [trust, e]
        elif plan.kind == "newflow-tcpudp":
            gen = TcpUdpGen(plan.flows)
            plan.expect_sessions = plan.flows
            plan.meta.update(tcp_flows=(plan.flows + 1) // 2, udp_flows=plan.flows // 2, clients=gen.hosts)
            self.size_plan(plan)
            wt = Records()
            gen.first_packets(wt, port_mac(0))
            write_pcap(trust, [(wt, 1)])
            plan.meta.update(setup_packets=wt.n, data_packets=0)
            plan.pcaps = [trust, e]
            # testpmd alone on one port goes faster: a longer pcap.
            r = self.repeats(wt, (64,), 3)
            ct = plan.path("ceiling-trust.pcap")
            plan.meta["ceiling_packets"] = [write_pcap(ct, [(wt, r)]), 0]
            plan.ceiling_pcaps = [ct, e]
        plan.infinite = [False, False]
        plan.meta["generate_s"] = round(time.monotonic() - t0, 1)
        plan.meta["pcap_packets"] = [pcap_count(p) for p in plan.pcaps]

    # -- measured runs --
    def measure_dpnat_established(self, plan, profile=False, ports=(0, 1)):
        setup = plan.setup_counts()
        proc = self.start_dpnat(plan, plan.pcaps, plan.infinite, tag="measure")
        r = {"dpnat_cmdline": proc.cmdline}
        try:
            t_start = time.monotonic()
            self.wait_warm(proc, plan, setup)
            r["warmup_s"] = round(time.monotonic() - t_start, 2)
            s0, s1 = self.timed_window(lambda: self.snapshot(proc.tm, ports, pid=proc.p.pid), plan, list(ports))
            rx, tx, dt, nombuf = self.rate(s0, s1, list(ports))
            r.update(rx_pps=rx, tx_pps=tx, window_s=round(dt, 3), rx_nombuf=nombuf)
            r.update(self.disturbance(s0, s1))
            r["cpu_ns_per_pkt"] = r["worker_cpu_ns"] / (rx * dt) if r["worker_cpu_ns"] and rx else None
            c0, c1 = s0["counters"], s1["counters"]
            r["drops_in_window"] = {k: c1[k] - c0.get(k, 0) for k in c1
                                    if k not in ("forwarded", "punted") and c1[k] - c0.get(k, 0)}
            r["forwarded_in_window"] = c1.get("forwarded", 0) - c0.get("forwarded", 0)
            r["punted_in_window"] = c1.get("punted", 0) - c0.get("punted", 0)
            r["drops_total"] = {k: v for k, v in c1.items() if k not in ("forwarded", "punted") and v}
            r["sessions"] = s1["sessions"]
            r.update(self.cli_state(proc, plan))
            heap = proc.tm.q("/eal/heap_info,0") or {}
            r["heap_alloc_mb"] = round(heap.get("Alloc_size", 0) / 1048576, 1)
            r["rss_mb"] = round(rss_kb(proc.p.pid) / 1024, 1)
            if profile:
                st = port_stats(proc.tm, [0])
                left = (plan.meta["pcap_packets"][0] - st[0].get("ipackets", 0)) / max(rx / 2, 1)
                secs = min(self.a.perf_seconds, int(left * 0.8))
                if secs >= 1:
                    r["perf"] = self.perf_profile(proc.p.pid, secs, plan.path("perf"))
            if not proc.alive():
                raise RuntimeError("dpnat died:\n" + proc.tail())
        finally:
            proc.stop()
        return r

    def cli_state(self, proc, plan):
        out = {}
        flow = self.cli(proc.sock, "get", "counter", "flow")
        with open(plan.path("get-counter-flow.txt"), "w") as f:
            f.write(flow)
        m = re.search(r"worker 0: session hits (\d+)", flow)
        out["session_hits"] = int(m.group(1)) if m else None
        head = self.cli(proc.sock, "get", "session", "id", "0")
        m = re.search(r"alloc (\d+)/max (\d+)", head)
        if m:
            out["sessions_live"], out["sessions_max"] = int(m.group(1)), int(m.group(2))
        alg = self.cli(proc.sock, "get", "alg", "pptp")
        with open(plan.path("get-alg-pptp.txt"), "w") as f:
            f.write(alg)
        m = re.search(r"xlate entries: (\d+) used, max (\d+)", alg)
        if m:
            out["xlate_live"], out["xlate_max"] = int(m.group(1)), int(m.group(2))
        m = re.search(r"calls opened (\d+), closed (\d+); gates opened (\d+), failed (\d+)", alg)
        if m:
            out["calls_opened"], out["gates_opened"], out["gates_failed"] = \
                int(m.group(1)), int(m.group(3)), int(m.group(4))
        return out

    def measure_testpmd(self, plan, ports, ceiling=False):
        """testpmd io forwarding over the plan's pcaps, past their set-up
        section; or (ceiling) over the new-flow pcaps repeated, in steady state."""
        pcaps = plan.ceiling_pcaps if ceiling else plan.pcaps
        proc = self.start_testpmd(plan, pcaps, plan.infinite)
        r = {"testpmd_cmdline": proc.cmdline}
        try:
            # Past the set-up section, as dpnat's window is.
            self.wait_warm(proc, plan, [0, 0] if ceiling else plan.setup_counts(), dpnat=False)
            s0, s1 = self.timed_window(lambda: self.snapshot(proc.tm, ports, dpnat=False, pid=proc.p.pid),
                                       plan, ports, plan.meta["ceiling_packets"] if ceiling else None)
            rx, tx, dt, nombuf = self.rate(s0, s1, ports)
            r.update(rx_pps=rx, tx_pps=tx, window_s=round(dt, 3), rx_nombuf=nombuf)
            r.update(self.disturbance(s0, s1))
            r["cpu_ns_per_pkt"] = r["worker_cpu_ns"] / (rx * dt) if r["worker_cpu_ns"] and rx else None
        finally:
            proc.stop()
        return r

    def perf_start(self, pid, out):
        tid = worker_tid(pid)
        if not shutil.which("perf") or self.a.no_perf or tid is None:
            return None
        return subprocess.Popen(["perf", "record", "-g", "-o", out + ".data", "-t", str(tid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def perf_stop(self, p, out):
        if p is None:
            return None
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)
        return self.perf_report(out)

    def measure_dpnat_newflow(self, plan, profile=False):
        """Only first packets: the rate at which the pass over the pcap (every
        packet a new session, or a call set-up step) goes through port 0."""
        counts = plan.meta["pcap_packets"]
        n = counts[0]
        proc = self.start_dpnat(plan, plan.pcaps, plan.infinite, tag="newflow")
        r = {"cmdline": proc.cmdline}
        perf = self.perf_start(proc.p.pid, plan.path("perf")) if profile else None
        try:
            samples = []
            end = time.monotonic() + 120 + n / 20000
            while True:
                t = time.monotonic()
                st = proc.tm.q("/ethdev/stats,0") or {}
                t2 = time.monotonic()
                samples.append(((t + t2) / 2, st.get("ipackets", 0), worker_oncpu_ns(proc.p.pid) or 0))
                if perf is not None and st.get("ipackets", 0) >= 0.95 * n:
                    # Profile the first pass only (the rest are session hits).
                    r["perf"] = self.perf_stop(perf, plan.path("perf"))
                    perf = None
                if st.get("ipackets", 0) >= n:
                    break
                if not proc.alive() or time.monotonic() > end:
                    raise RuntimeError("new-flow pass did not complete: %s" % (samples[-1:],))
                time.sleep(0.002)
            # The first pass: from the first sample (the pass may have begun a
            # moment before dpnat's socket appeared) or 5 %, to 95 %.
            lo = max(0.05 * n, samples[0][1])

            def cross(level, k=0):
                for a, b in zip(samples, samples[1:]):
                    if a[1] <= level <= b[1] and b[1] > a[1]:
                        return a[k] + (b[k] - a[k]) * (level - a[1]) / (b[1] - a[1])
                return None
            t5, t95 = cross(lo), cross(0.95 * n)
            c5, c95 = cross(lo, 2), cross(0.95 * n, 2)
            if lo > 0.5 * n or t5 is None or t95 is None or t95 <= t5:
                raise RuntimeError("new-flow pass not timed (%d samples, first at %d of %d packets); "
                                   "use more flows" % (len(samples), samples[0][1], n))
            r["pass_pps"] = (0.95 * n - lo) / (t95 - t5)
            # The same on the worker's own CPU time, which survives a busy machine.
            r["cpu_ns_per_pkt"] = (c95 - c5) / (0.95 * n - lo) if c95 and c5 and c95 > c5 else None
            r["worker_on_cpu"] = round((c95 - c5) / 1e9 / (t95 - t5), 3) if r["cpu_ns_per_pkt"] else None
            r["samples"] = len(samples)
            r["pass_s"] = round(t95 - t5, 4)
            time.sleep(0.2)
            r["sessions"] = proc.tm.q("/dpnat/sessions")
            c = proc.tm.q("/dpnat/counters") or {}
            r["drops_total"] = {k: v for k, v in c.items() if k not in ("forwarded", "punted") and v}
            r.update(self.cli_state(proc, plan))
        finally:
            if perf is not None:
                self.perf_stop(perf, plan.path("perf"))
            proc.stop()
        return r

    # -- memory per session --
    def heap_after_start(self, plan, session_max, xlate_max):
        plan.session_max, plan.xlate_max, plan.mbufs, plan.n_dip = session_max, xlate_max, 16384, 1
        plan.mem_mb = mem_mb_for(plan.mbufs, session_max * 2, xlate_max * 2)
        e = empty_pcap(plan.path("empty.pcap"))
        proc = self.start_dpnat(plan, [e] * 2, [False] * 2, tag="mem-%d-%d" % (session_max, xlate_max))
        try:
            time.sleep(0.3)
            heap = proc.tm.q("/eal/heap_info,0") or {}
            return heap.get("Alloc_size", 0), rss_kb(proc.p.pid) * 1024
        finally:
            proc.stop()

    def measure_memory(self, small, large):
        """rte_malloc'd bytes (and RSS) of dpnat at two `set session max`
        values, the rest fixed; the difference over the difference in
        sessions is what one session costs in every table sized by that limit.
        The same for `set alg pptp xlate max` (call entries, their two xlate
        keys, and the control-connection states sized with them)."""
        plan = Plan("memory", "memory", 0, (), os.path.join(self.work, "memory"))
        os.makedirs(plan.dir, exist_ok=True)
        a1, r1 = self.heap_after_start(plan, small, 2000)
        a2, r2 = self.heap_after_start(plan, large, 2000)
        x1, xr1 = self.heap_after_start(plan, small, 2000)
        x2, xr2 = self.heap_after_start(plan, small, 2000 + (large - small) // 4)
        dx = (large - small) // 4
        return {"session_max_small": small, "session_max_large": large,
                "bytes_per_session_heap": (a2 - a1) / (large - small),
                "bytes_per_session_rss": (r2 - r1) / (large - small),
                "xlate_delta": dx,
                "bytes_per_xlate_heap": (x2 - x1) / dx,
                "bytes_per_xlate_rss": (xr2 - xr1) / dx}


# ---------------------------------------------------------------------------
# Linux kernel reference: nftables masquerade + ct helper pptp, in namespaces
# ---------------------------------------------------------------------------
KERNEL_SERVER = r'''
import json, resource, selectors, socket, struct, sys
count, out = int(sys.argv[1]), sys.argv[2]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 1723)); ls.listen(4096)
sel = selectors.DefaultSelector(); sel.register(ls, selectors.EVENT_READ)
conns, bufs, seen, scid = [], {}, [], 0
def msg(t, n, body):
    m = struct.pack("!HHIHH", n, 1, 0x1A2B3C4D, t, 0) + body
    return m + bytes(n - len(m))
while len(seen) < count:
    ev = sel.select(30)
    if not ev:
        break
    for key, _ in ev:
        s = key.fileobj
        if s is ls:
            c, a = ls.accept(); conns.append(c); bufs[c] = b""
            sel.register(c, selectors.EVENT_READ)
            continue
        d = s.recv(4096)
        if not d:
            sel.unregister(s); continue
        b = bufs[s] + d
        while len(b) >= 12 and len(b) >= struct.unpack("!H", b[:2])[0]:
            n = struct.unpack("!H", b[:2])[0]; m, b = b[:n], b[n:]
            t = struct.unpack("!H", m[8:10])[0]
            if t == 1:
                s.sendall(msg(2, 156, struct.pack("!HBBII", 0x0100, 1, 0, 1, 1)))
            elif t == 7:
                cid, serial = struct.unpack("!HH", m[12:16])
                scid += 1
                s.sendall(msg(8, 32, struct.pack("!HHBBH", scid, cid, 1, 0, 0)))
                pa = s.getpeername()
                seen.append({"serial": serial, "pub": pa[0], "xcid": cid, "scid": scid,
                             "server": s.getsockname()[0]})
        bufs[s] = b
json.dump(seen, open(out, "w"))
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.read()
'''

KERNEL_CLIENT = r'''
import json, resource, socket, struct, sys
count, out, ccids = int(sys.argv[1]), sys.argv[2], 8
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
def msg(t, n, body):
    m = struct.pack("!HHIHH", n, 1, 0x1A2B3C4D, t, 0) + body
    return m + bytes(n - len(m))
def recv_msg(s):
    b = b""
    while len(b) < 2 or len(b) < struct.unpack("!H", b[:2])[0]:
        d = s.recv(4096)
        if not d:
            raise SystemExit("server closed")
        b += d
    return b
socks, calls = [], []
for j in range(count):
    c = "10.0.%d.%d" % (1 + j // 250, 1 + j % 250)
    srv = "198.18.1.%d" % (1 + j % 16)
    s = socket.socket(); s.bind((c, 0)); s.connect((srv, 1723))
    s.sendall(msg(1, 156, struct.pack("!HHII", 0x0100, 0, 1, 1))); recv_msg(s)
    ccid = 0x0100 + j % ccids
    s.sendall(msg(7, 168, struct.pack("!HH", ccid, j)))
    r = recv_msg(s)
    scid, peer = struct.unpack("!HH", r[12:16])
    socks.append(s)
    calls.append({"serial": j, "client": c, "server": srv, "ccid": ccid, "scid": scid})
json.dump(calls, open(out, "w"))
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.read()
'''

KERNEL_SENDER = r'''
import ctypes, os, socket, sys, time
fa, fb, other_ns, dev_a, dev_b, seconds = sys.argv[1:7]
def frames(p):
    d = open(p, "rb").read(); out = []; i = 0
    while i < len(d):
        n = int.from_bytes(d[i:i + 2], "big"); out.append(d[i + 2:i + 2 + n]); i += 2 + n
    return out
A, B = frames(fa), frames(fb)
sa = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); sa.bind((dev_a, 0))
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/run/netns/" + other_ns, os.O_RDONLY)
if libc.setns(fd, 0x40000000) != 0:
    raise SystemExit("setns failed")
sb = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); sb.bind((dev_b, 0))
pairs = list(zip(A, B))
end = time.monotonic() + float(seconds); sent = 0
sendA, sendB = sa.send, sb.send
while time.monotonic() < end:
    for a, b in pairs:
        sendA(a); sendB(b)
    sent += 2 * len(pairs)
print(sent)
'''


class KernelRef:
    """The PPTP GRE workload through Linux (nftables masquerade, ct helper
    pptp) in three namespaces, and the same sender into a namespace that
    drops at ingress: the difference is the kernel's own cost per packet."""

    def __init__(self, bench, calls, sizes, seconds):
        self.b, self.calls, self.sizes, self.seconds = bench, calls, sizes, seconds
        tag = "bk%d" % (os.getpid() % 100000)
        self.ns = {"cli": tag + "c", "fw": tag + "f", "srv": tag + "s"}
        self.dir = os.path.join(bench.work, "kernel")
        os.makedirs(self.dir, exist_ok=True)
        self.procs = []

    def sh(self, cmd, check=True):
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s%s" % (cmd, r.stdout, r.stderr))
        return r.stdout

    def nx(self, n, cmd, check=True):
        return self.sh("ip netns exec %s %s" % (self.ns[n], cmd), check)

    def setup(self):
        c, f, s = self.ns["cli"], self.ns["fw"], self.ns["srv"]
        for n in (c, f, s):
            self.sh("ip netns add " + n)
            self.sh("ip -n %s link set lo up" % n)
        self.sh("ip link add %sa type veth peer name %sb" % (c, c))
        self.sh("ip link set %sa netns %s name c0" % (c, c))
        self.sh("ip link set %sb netns %s name fwt" % (c, f))
        self.sh("ip link add %sa type veth peer name %sb" % (s, s))
        self.sh("ip link set %sa netns %s name s0" % (s, s))
        self.sh("ip link set %sb netns %s name fwu" % (s, f))
        for n, i in ((c, "c0"), (f, "fwt"), (f, "fwu"), (s, "s0")):
            self.sh("ip netns exec %s ethtool -K %s rx off tx off tso off gso off gro off" % (n, i), check=False)
            self.sh("ip -n %s link set %s up" % (n, i))
        self.sh("ip -n %s addr add 60.60.60.2/24 dev c0" % c)
        self.sh("ip -n %s route add default via 60.60.60.1" % c)
        self.sh("ip -n %s route add local 10.0.0.0/16 dev lo" % c)
        self.sh("ip -n %s addr add 60.60.60.1/24 dev fwt" % f)
        self.sh("ip -n %s addr add 172.19.51.234/23 dev fwu" % f)
        self.sh("ip -n %s route add 10.0.0.0/8 via 60.60.60.2" % f)
        self.sh("ip -n %s route add 198.18.0.0/15 via 172.19.50.1" % f)
        self.sh("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1" % f)
        self.sh("ip -n %s addr add 172.19.50.1/23 dev s0" % s)
        self.sh("ip -n %s route add local 198.18.1.0/24 dev lo" % s)
        rules = ("table ip bench_ref {\n"
                 "  ct helper pptp_helper { type \"pptp\" protocol tcp; }\n"
                 "  chain pre { type filter hook prerouting priority filter; tcp dport 1723 ct helper set \"pptp_helper\"; }\n"
                 "  chain post { type nat hook postrouting priority srcnat; oifname \"fwu\" masquerade; }\n"
                 "}\n")
        self.nft(f, rules)
        # GRE that reaches the end hosts is counted and dropped there (no GRE
        # stack would answer it); the TCP control connections pass.
        for n, dev in ((c, "c0"), (s, "s0")):
            self.nft(n, "table netdev sink {\n chain in { type filter hook ingress device %s priority 0; "
                        "ip protocol gre counter drop; }\n}\n" % dev)

    def nft(self, n, text):
        path = os.path.join(self.dir, "%s.nft" % n)
        with open(path, "w") as fh:
            fh.write(text)
        self.sh("ip netns exec %s nft -f %s" % (n, path))

    def mac(self, n, dev):
        out = json.loads(self.nx(n, "ip -j link show dev " + dev))
        return mac2b(out[0]["address"])

    def rx(self, n, dev):
        out = json.loads(self.nx(n, "ip -j -s link show dev " + dev))
        return out[0]["stats64"]["rx"]["packets"]

    def spawn(self, n, script, *args):
        path = os.path.join(self.dir, "role-%d.py" % len(self.procs))
        with open(path, "w") as fh:
            fh.write(script)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[n], sys.executable, path] + [str(a) for a in args],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def wait_ready(self, p, what):
        line = p.stdout.readline()
        if "ready" not in line:
            raise RuntimeError("kernel reference %s failed: %s" % (what, p.stderr.read()[-500:]))

    def calls_setup(self):
        srv_out, cli_out = os.path.join(self.dir, "server.json"), os.path.join(self.dir, "client.json")
        srv = self.spawn("srv", KERNEL_SERVER, self.calls, srv_out)
        time.sleep(0.3)
        t0 = time.monotonic()
        cli = self.spawn("cli", KERNEL_CLIENT, self.calls, cli_out)
        self.wait_ready(cli, "client")
        self.wait_ready(srv, "server")
        setup_s = time.monotonic() - t0
        with open(srv_out) as fh:
            seen = {x["serial"]: x for x in json.load(fh)}
        with open(cli_out) as fh:
            calls = json.load(fh)
        return calls, seen, setup_s

    def frames(self, calls, seen, size):
        mac_c0, mac_fwt = self.mac("cli", "c0"), self.mac("fw", "fwt")
        mac_s0, mac_fwu = self.mac("srv", "s0"), self.mac("fw", "fwu")
        fa, fb = os.path.join(self.dir, "a-%d.bin" % size), os.path.join(self.dir, "b-%d.bin" % size)
        ppp = PPP_IP + pad_payload(14 + 20 + 12 + 4, size)
        with open(fa, "wb") as a, open(fb, "wb") as b:
            for x in calls:
                sv = seen[x["serial"]]
                c, s, pub = ip2i(x["client"]), ip2i(x["server"]), ip2i(sv["pub"])
                fr = frame(mac_fwt, mac_c0, ipv4(c, s, 47, gre_v1(x["scid"], ppp, 1)))
                a.write(struct.pack("!H", len(fr)) + fr)
                fr = frame(mac_fwu, mac_s0, ipv4(s, pub, 47, gre_v1(sv["xcid"], ppp, 1)))
                b.write(struct.pack("!H", len(fr)) + fr)
        return fa, fb

    def send(self, fa, fb, measure):
        """Run the sender (one process pinned to CPU 1, both directions
        interleaved, as dpnat's one worker); rate over the middle window."""
        secs = self.b.a.settle + self.b.a.window + 1.0
        p = subprocess.Popen(["ip", "netns", "exec", self.ns["cli"], "taskset", "-c", "1", sys.executable,
                              os.path.join(self.dir, "sender.py"), fa, fb, self.ns["srv"], "c0", "s0", str(secs)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(self.b.a.settle + 0.3)
        t0, r0 = time.monotonic(), measure()
        time.sleep(self.b.a.window)
        t1, r1 = time.monotonic(), measure()
        out, err = p.communicate(timeout=60)
        if p.returncode != 0:
            raise RuntimeError("kernel sender failed: " + err[-500:])
        return [(y - x) / (t1 - t0) for x, y in zip(r0, r1)]

    def run(self):
        with open(os.path.join(self.dir, "sender.py"), "w") as fh:
            fh.write(KERNEL_SENDER)
        res = {"calls": self.calls}
        try:
            self.setup()
            calls, seen, setup_s = self.calls_setup()
            res["control_setup_s"] = round(setup_s, 2)
            res["translated_call_ids"] = sum(1 for x in calls if seen[x["serial"]]["xcid"] != x["ccid"])
            res["per_size"] = {}
            for size in self.sizes:
                fa, fb = self.frames(calls, seen, size)
                # Through the kernel's NAT: packets that reached the far ends.
                # Server -> client packets reach the client only when their GRE
                # conntrack matched and translated them back.
                fwd, back = self.send(fa, fb, lambda: (self.rx("srv", "s0"), self.rx("cli", "c0")))
                # The same sender into the firewall namespace dropping everything at ingress.
                self.nft(self.ns["fw"], "table netdev bench_drop {\n"
                               " chain t { type filter hook ingress device fwt priority 0; drop; }\n"
                               " chain u { type filter hook ingress device fwu priority 0; drop; }\n}\n")
                bt, bu = self.send(fa, fb, lambda: (self.rx("fw", "fwt"), self.rx("fw", "fwu")))
                self.sh("ip netns exec %s nft delete table netdev bench_drop" % self.ns["fw"])
                res["per_size"][size] = {"nat_pps": fwd + back, "nat_fwd_pps": fwd, "nat_rev_pps": back,
                                         "baseline_pps": bt + bu}
        finally:
            self.cleanup()
        return res

    def cleanup(self):
        for p in self.procs:
            try:
                p.stdin.close()
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        for n in self.ns.values():
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


# ---------------------------------------------------------------------------
# Open vSwitch with DPDK: the userspace datapath's conntrack doing source NAT
# ---------------------------------------------------------------------------
OVS_VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class OvsRef:
    """ovs-vswitchd (DPDK datapath, package openvswitch-switch-dpdk, the same
    DPDK 22.11) on the same net_pcap vdevs as dpnat and testpmd, with the NAT
    pipeline an OVS user writes: untracked IP from p0 goes through ct(nat);
    new connections are committed with nat(src=the DIP range:1024-65535),
    established ones forwarded; everything else dropped. Its own ovsdb-server
    and run directory, one PMD thread on CPU 1, the main thread on CPU 0;
    both daemons are stopped by PID."""

    def __init__(self, bench, plan):
        self.b, self.plan = bench, plan
        self.dir = plan.path("ovs")
        self.prefix = bench.prefix()
        self.db_pid = self.vs_pid = None
        self.mgmt = None

    def sh(self, argv, check=True, timeout=120):
        env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir, OVS_DBDIR=self.dir,
                   OVS_SYSCONFDIR=self.dir)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s%s" % (" ".join(argv), r.stdout, r.stderr))
        return r.stdout

    def vsctl(self, *a):
        return self.sh(["ovs-vsctl", "--db=unix:%s/db.sock" % self.dir, "--timeout=120"] + list(a))

    def appctl(self, *a, check=True):
        return self.sh(["ovs-appctl", "-t", "%s/ovs-vswitchd.ctl" % self.dir] + list(a), check=check)

    def ofctl(self, *a, stdin=None):
        argv = ["ovs-ofctl"] + list(a[:1]) + [self.mgmt] + list(a[1:])
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr))
        return r.stdout

    def start(self):
        p = self.plan
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.sh(["ovsdb-tool", "create", self.dir + "/conf.db", OVS_SCHEMA])
        self.sh(["ovsdb-server", self.dir + "/conf.db", "--remote=punix:%s/db.sock" % self.dir,
                 "--pidfile=%s/ovsdb-server.pid" % self.dir, "--unixctl=%s/ovsdb-server.ctl" % self.dir,
                 "--log-file=%s/ovsdb-server.log" % self.dir, "--detach", "--no-chdir"])
        self.db_pid = int(open(self.dir + "/ovsdb-server.pid").read())
        self.vsctl("--no-wait", "init")
        HugePages.ensure(p.mem_mb)
        # OVS adds --in-memory unless --legacy-mem is given; --no-huge needs legacy memory.
        extra = "--no-pci --file-prefix=%s" % self.prefix
        mem = []
        if HugePages.enabled:
            mem = ["other_config:dpdk-socket-mem=%d" % p.mem_mb]
        else:
            extra += " --no-huge --legacy-mem -m %d" % p.mem_mb
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   "other_config:dpdk-extra=" + extra, "other_config:pmd-cpu-mask=0x2", *mem)
        # The main thread (and the DPDK main lcore OVS derives from it) on CPU 0.
        self.sh(["taskset", "-c", "0", OVS_VSWITCHD, "unix:%s/db.sock" % self.dir,
                 "--pidfile=%s/ovs-vswitchd.pid" % self.dir, "--unixctl=%s/ovs-vswitchd.ctl" % self.dir,
                 "--log-file=%s/ovs-vswitchd.log" % self.dir, "--detach", "--no-chdir"], timeout=300)
        self.vs_pid = int(open(self.dir + "/ovs-vswitchd.pid").read())
        if self.vsctl("get", "Open_vSwitch", ".", "dpdk_initialized").strip() != "true":
            raise RuntimeError("ovs-vswitchd: DPDK not initialised; see %s/ovs-vswitchd.log" % self.dir)
        self.vsctl("add-br", "bnat", "--", "set", "bridge", "bnat", "datapath_type=netdev", "fail_mode=secure")
        self.mgmt = "unix:%s/bnat.mgmt" % self.dir

    def flows_nat(self):
        """The NAT pipeline, in place before the ports exist (port 1 = p0 Trust, 2 = p1 Untrust)."""
        n = self.plan.n_dip
        last = i2ip(ip2i(DIP_FIRST) + n - 1)
        self.ofctl("add-flows", "-", stdin=(
            "table=0,priority=100,ip,in_port=1,ct_state=-trk actions=ct(table=1,zone=1,nat)\n"
            "table=0,priority=0 actions=drop\n"
            "table=1,priority=100,ip,in_port=1,ct_state=+trk+new "
            "actions=ct(commit,zone=1,nat(src=%s-%s:1024-65535)),output:2\n"
            "table=1,priority=100,ip,in_port=1,ct_state=+trk+est actions=output:2\n"
            "table=1,priority=0 actions=drop\n" % (DIP_FIRST, last)))

    def add_ports(self, pcaps):
        # The same vdev strings as dpnat's and testpmd's ports; Untrust first, so that
        # the Trust pcap starts replaying into a complete pipeline.
        v = vdev_strings(pcaps, self.plan.infinite)
        self.vsctl("add-port", "bnat", "p1", "--", "set", "Interface", "p1", "type=dpdk", "ofport_request=2",
                   "options:dpdk-devargs=" + v[1])
        self.vsctl("add-port", "bnat", "p0", "--", "set", "Interface", "p0", "type=dpdk", "ofport_request=1",
                   "options:dpdk-devargs=" + v[0])
        for i in ("p0", "p1"):
            if self.vsctl("get", "Interface", i, "ofport").strip() in ("-1", "[]"):
                raise RuntimeError("ovs: port %s: %s" % (i, self.vsctl("get", "Interface", i, "error")))

    def port_counts(self):
        """(packets received on p0, packets sent on p1) as OVS counts them."""
        out = self.ofctl("dump-ports")
        rx = re.search(r"port\s+1: rx pkts=(\d+)", out)
        tx = re.search(r"port\s+2: rx pkts=\d+.*?\n\s+tx pkts=(\d+)", out, re.S)
        return int(rx.group(1)) if rx else 0, int(tx.group(1)) if tx else 0

    def ct_entries(self):
        m = re.search(r"Total:\s*(\d+)", self.appctl("dpctl/ct-stats-show", check=False))
        return int(m.group(1)) if m else 0

    def snapshot(self):
        """Bench.snapshot's shape: OVS's own port counters (live, unlike
        ovs-vsctl's statistics), its PMD thread's CPU time."""
        t = time.monotonic()
        rx, tx = self.port_counts()
        t2 = time.monotonic()
        return {"t": (t + t2) / 2, "ports": {0: {"ipackets": rx}, 1: {"opackets": tx}},
                "oncpu": worker_oncpu_ns(self.vs_pid, "pmd"), "steal": cpu_steal(1)}

    def measure(self):
        """Set up the flows (the pcap's first section), then a timed window on
        the established flows: rates, the PMD thread's CPU time per packet,
        conntrack entries and how many carry a translated source."""
        p = self.plan
        r = {}
        try:
            self.start()
            self.flows_nat()
            t0 = time.monotonic()
            self.add_ports(p.pcaps)
            setup = p.meta["setup_packets"]
            end = time.monotonic() + 120 + p.flows / 5000
            while True:
                rx, _ = self.port_counts()
                ct = self.ct_entries()
                if rx >= setup and ct >= p.expect_sessions:
                    break
                if time.monotonic() > end:
                    raise RuntimeError("ovs set-up incomplete: %d of %d packets in, %d of %d conntrack entries"
                                       % (rx, setup, ct, p.expect_sessions))
                time.sleep(0.1)
            r["warmup_s"] = round(time.monotonic() - t0, 2)
            r["ct_maxconns"] = int(self.appctl("dpctl/ct-get-maxconns").strip() or 0)
            s0, s1 = self.b.timed_window(self.snapshot, p, [0])
            rx, _, dt, _ = self.b.rate(s0, s1, [0])
            tx = (s1["ports"][1]["opackets"] - s0["ports"][1]["opackets"]) / dt
            r.update(rx_pps=rx, tx_pps=tx, window_s=round(dt, 3))
            r.update(self.b.disturbance(s0, s1))
            r["cpu_ns_per_pkt"] = r["worker_cpu_ns"] / (rx * dt) if r["worker_cpu_ns"] and rx else None
            ct = self.appctl("dpctl/dump-conntrack", check=False)
            r["ct_entries"] = ct.count("\n")
            first = ip2i(DIP_FIRST)
            pub = {i2ip(first + k) for k in range(p.n_dip)}
            r["ct_translated"] = sum(1 for l in ct.splitlines()
                                     if any("dst=%s," % a in l.split("reply=")[-1] for a in pub))
            with open(os.path.join(p.dir, "ovs-pmd-stats.txt"), "w") as f:
                f.write(self.appctl("dpif-netdev/pmd-stats-show", check=False))
            r["cmdline"] = "%s (dpdk-extra: %s)" % (OVS_VSWITCHD, self.vsctl(
                "get", "Open_vSwitch", ".", "other_config:dpdk-extra").strip())
            r["version"] = self.sh(["ovs-vsctl", "--version"]).splitlines()[0]
        finally:
            self.stop()
        return r

    def stop(self):
        if self.vs_pid is not None:
            # exit --cleanup removes the datapath and its tap devices; a signal
            # before it has finished would leave them behind.
            self.appctl("exit", "--cleanup", check=False)
            end = time.monotonic() + 20
            while time.monotonic() < end and os.path.exists("/proc/%d" % self.vs_pid):
                time.sleep(0.1)
            self.kill(self.vs_pid)
            self.vs_pid = None
        if self.db_pid is not None:
            self.kill(self.db_pid)
            self.db_pid = None
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)

    def kill(self, pid):
        """End one of our daemons (its command line names our run directory)."""
        try:
            if self.dir not in open("/proc/%d/cmdline" % pid).read():
                return
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.1)
        log("   %s did not end on SIGTERM: SIGKILL" % pid)
        os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------
# The whole benchmark
# ---------------------------------------------------------------------------
def parse_count(s):
    s = s.strip().lower()
    mult = {"k": 1000, "m": 1000000}
    if s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def fmt_count(n):
    if n >= 1000000 and n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def spread(v, scale=1.0, fmt="%.2f"):
    if not v:
        return "-"
    if len(v) == 1:
        return fmt % (v[0] * scale)
    return (fmt + " [" + fmt + "-" + fmt + "]") % (median(v) * scale, min(v) * scale, max(v) * scale)


class Runner:
    def __init__(self, args):
        self.a = args
        self.b = Bench(args)
        self.res = {"mode": "quick" if args.quick else "full", "tsc_hz": self.b.hz, "tsc_source": self.b.hz_src,
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"), "window_s": args.window,
                    "repeat": args.repeat, "established": [], "newflow": [], "notes": []}

    def cyc(self, ns):
        return ns * self.b.hz / 1e9

    def established(self, kind, flows, sizes, label, profile):
        d = os.path.join(self.a.workdir, "%s-%s" % (label, fmt_count(flows)))
        plan = Plan("%s@%s" % (label, fmt_count(flows)), kind, flows, sizes, d)
        log("== %s: generating pcaps and discovering translations ..." % plan.name)
        self.b.prepare(plan)
        runs = []
        for rep in range(self.a.repeat):
            log("   dpnat run %d/%d ..." % (rep + 1, self.a.repeat))
            dr = self.b.measure_dpnat_established(plan, profile=profile and rep == 0)
            log("   testpmd run %d/%d (after dpnat stopped) ..." % (rep + 1, self.a.repeat))
            tr = self.b.measure_testpmd(plan, [0, 1])
            own = 1e9 / dr["rx_pps"] - 1e9 / tr["rx_pps"]
            own_cpu = (dr["cpu_ns_per_pkt"] - tr["cpu_ns_per_pkt"]) \
                if dr.get("cpu_ns_per_pkt") and tr.get("cpu_ns_per_pkt") else None
            runs.append({"dpnat": dr, "testpmd": tr, "own_ns": own, "own_cycles": self.cyc(own),
                         "own_cpu_ns": own_cpu, "own_cpu_cycles": self.cyc(own_cpu) if own_cpu is not None else None})
            log("   dpnat %.2f Mpps (thread on CPU %s), testpmd %.2f Mpps (on CPU %s); dpnat's own cost "
                "%.1f ns = %.0f cycles/pkt by wall clock, %s cycles/pkt by the forwarding thread's CPU time"
                % (dr["rx_pps"] / 1e6, dr.get("worker_on_cpu"), tr["rx_pps"] / 1e6, tr.get("worker_on_cpu"),
                   own, self.cyc(own), "%.0f" % self.cyc(own_cpu) if own_cpu is not None else "?"))
            if dr["drops_in_window"]:
                log("   drops in the window: %s" % dr["drops_in_window"])
        self.drop_pcaps(plan)
        entry = {"name": plan.name, "kind": kind, "flows": flows, "sizes": list(sizes), "meta": plan.meta,
                 "limits": {"session_max": plan.session_max, "xlate_max": plan.xlate_max,
                            "mbufs": plan.mbufs, "mem_mb": plan.mem_mb, "dip_addresses": plan.n_dip},
                 "runs": runs}
        self.res["established"].append(entry)
        self.save()
        return entry

    def newflow(self, kind, count, label):
        d = os.path.join(self.a.workdir, "%s-%s" % (label, fmt_count(count)))
        plan = Plan("%s@%s" % (label, fmt_count(count)), kind, count, (64,), d)
        log("== %s: generating pcaps ..." % plan.name)
        self.b.prepare(plan)
        runs = []
        for rep in range(self.a.repeat):
            log("   dpnat run %d/%d ..." % (rep + 1, self.a.repeat))
            dr = self.b.measure_dpnat_newflow(plan)
            log("   testpmd run %d/%d ..." % (rep + 1, self.a.repeat))
            tr = self.b.measure_testpmd(plan, [0], ceiling=True)
            tr["pass_pps"] = tr["rx_pps"]
            if kind == "newflow-pptp":
                # Each call is 3 client packets (SYN, SCCRQ, OCRQ) on port 0 and
                # their 3 answers on port 1, in lock-step; 3 sessions per call.
                per_s = dr["pass_pps"] / 3
                unit = "calls"
            else:
                per_s = dr["pass_pps"]
                unit = "sessions"
            # testpmd's cost for the same packets, taken off dpnat's time per unit.
            # Both passes are timed on port 0: a call is 3 of its packets
            # (the 3 answers on port 1 go through in the same rounds).
            k = 3 if kind == "newflow-pptp" else 1
            own = 1e9 / per_s - k * 1e9 / tr["pass_pps"]
            own_cpu = None
            if dr.get("cpu_ns_per_pkt") and tr.get("cpu_ns_per_pkt"):
                per_unit = dr["cpu_ns_per_pkt"] * k
                own_cpu = per_unit - k * tr["cpu_ns_per_pkt"]
                dr["cpu_ns_per_unit"] = per_unit
            runs.append({"dpnat": dr, "testpmd": tr, "per_s": per_s, "unit": unit,
                         "per_s_cpu": 1e9 / dr["cpu_ns_per_unit"] if own_cpu is not None else None,
                         "own_ns": own, "own_cycles": self.cyc(own),
                         "own_cpu_ns": own_cpu, "own_cpu_cycles": self.cyc(own_cpu) if own_cpu is not None else None})
            log("   %.0f %s/s set up by wall clock (pass of %d packets in %.3f s, thread on CPU %s), %s/s by "
                "the thread's CPU time; testpmd %.2f Mpps; own cost %s cycles per %s (CPU time)" % (
                    per_s, unit, plan.meta["pcap_packets"][0], dr["pass_s"], dr.get("worker_on_cpu"),
                    "%.0f" % runs[-1]["per_s_cpu"] if runs[-1]["per_s_cpu"] else "?", tr["rx_pps"] / 1e6,
                    "%.0f" % runs[-1]["own_cpu_cycles"] if own_cpu is not None else "?", unit[:-1]))
        if not self.a.no_perf:
            # A separate run for the profile: perf's sampling would slow the timed pass.
            log("   dpnat run for the perf profile ...")
            runs[0]["dpnat"]["perf"] = self.b.measure_dpnat_newflow(plan, profile=True).get("perf")
        self.drop_pcaps(plan)
        self.res["newflow"].append({"name": plan.name, "kind": kind, "count": count, "meta": plan.meta,
                                    "limits": {"session_max": plan.session_max, "xlate_max": plan.xlate_max,
                                               "mbufs": plan.mbufs, "mem_mb": plan.mem_mb},
                                    "runs": runs})
        self.save()

    def versus_ovs(self, flows):
        """dpnat, testpmd and Open vSwitch's conntrack NAT on the same one-way
        TCP/UDP pcap (Trust -> Untrust), one after the other."""
        d = os.path.join(self.a.workdir, "oneway-%s" % fmt_count(flows))
        plan = Plan("oneway@%s" % fmt_count(flows), "tcpudp-oneway", flows, (64,), d)
        log("== %s (dpnat, testpmd and Open vSwitch, Trust -> Untrust only): generating the pcap ..." % plan.name)
        self.b.prepare(plan)
        runs = []
        for rep in range(self.a.repeat):
            log("   dpnat run %d/%d ..." % (rep + 1, self.a.repeat))
            dr = self.b.measure_dpnat_established(plan, ports=(0,))
            log("   testpmd run %d/%d ..." % (rep + 1, self.a.repeat))
            tr = self.b.measure_testpmd(plan, [0])
            log("   Open vSwitch run %d/%d ..." % (rep + 1, self.a.repeat))
            try:
                orr = OvsRef(self.b, plan).measure()
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                orr = {"error": str(e)}
                log("   Open vSwitch failed: %s" % e)
            x = {"dpnat": dr, "testpmd": tr, "ovs": orr}
            for who in ("dpnat", "ovs"):
                v = x[who]
                if v.get("cpu_ns_per_pkt") and tr.get("cpu_ns_per_pkt"):
                    x[who + "_own_cpu_cycles"] = self.cyc(v["cpu_ns_per_pkt"] - tr["cpu_ns_per_pkt"])
            runs.append(x)
            log("   dpnat %.2f Mpps, %s own cycles/pkt; Open vSwitch %s Mpps (%s forwarded), %s own cycles/pkt; "
                "testpmd %.2f Mpps" % (
                    dr["rx_pps"] / 1e6, "%.0f" % x["dpnat_own_cpu_cycles"] if "dpnat_own_cpu_cycles" in x else "?",
                    "%.2f" % (orr["rx_pps"] / 1e6) if "rx_pps" in orr else "?",
                    "%.0f %%" % (100 * orr["tx_pps"] / orr["rx_pps"]) if orr.get("rx_pps") else "?",
                    "%.0f" % x["ovs_own_cpu_cycles"] if "ovs_own_cpu_cycles" in x else "?", tr["rx_pps"] / 1e6))
        self.drop_pcaps(plan)
        self.res.setdefault("ovs", []).append({"name": plan.name, "flows": flows, "meta": plan.meta,
                                               "dip_addresses": plan.n_dip, "runs": runs})
        self.save()

    def drop_pcaps(self, plan):
        """A workload's pcaps are large: gone once it is measured (unless --keep)."""
        if self.a.keep:
            return
        for f in os.listdir(plan.dir):
            if f.endswith(".pcap") and f != "empty.pcap":
                os.unlink(os.path.join(plan.dir, f))

    def save(self):
        with open(self.a.json, "w") as f:
            json.dump(self.res, f, indent=1, default=str)

    def run(self):
        a = self.a
        want = set(a.only.split(",")) if a.only else None

        def on(name):
            return want is None or name in want
        t0 = time.monotonic()
        log("dpnat benchmark (%s mode): one worker lcore (lcore 1), control on lcore 0; TSC %.3f GHz from %s"
            % (self.res["mode"], self.b.hz / 1e9, self.b.hz_src))
        log("dpnat and testpmd run one after the other on the same 2 cores, never at the same time.")
        self.res["pages"] = "2 MB hugepages" if HugePages.enabled else "4 KB pages (--no-huge)"
        log("EAL memory: " + self.res["pages"])
        end = time.monotonic() + a.wait_quiet
        while True:
            others, busy = other_dpdk_workers(), cpu_busy(1.0)
            if (not others and busy < 0.1) or time.monotonic() > end:
                break
        self.res["cpu_busy_at_start"] = round(busy, 3)
        if others:
            log("WARNING: other DPDK processes are running (pids %s): they share CPU 1 with the "
                "forwarding lcore and disturb the figures" % others)
            self.res["notes"].append("other DPDK processes were running at the start: %s" % others)
        if busy >= 0.1:
            log("WARNING: the machine is %.0f %% busy before the benchmark starts: figures will be "
                "disturbed (see the on-CPU check)" % (busy * 100))
            self.res["notes"].append("machine %.0f %% busy at the start" % (busy * 100))
        big = max(a.flows)
        for flows in a.flows:
            prof = flows == big or flows == 64000
            if on("pptp-64"):
                self.established("pptp", flows, (64,), "pptp-64", prof)
            if on("pptp-mix"):
                self.established("pptp", flows, MIX_SIZES, "pptp-mix", False)
            if on("tcpudp-64"):
                self.established("tcpudp", flows, (64,), "tcpudp-64", prof)
        if on("ovs"):
            if os.path.exists(OVS_VSWITCHD):
                for flows in a.flows:
                    self.versus_ovs(flows)
            else:
                log("== Open vSwitch: %s is missing (apt-get install openvswitch-switch-dpdk); skipped" % OVS_VSWITCHD)
                self.res["notes"].append("Open vSwitch with DPDK not installed: not measured")
        if on("newflow-tcpudp"):
            self.newflow("newflow-tcpudp", a.newflow_sessions, "newflow-tcpudp")
        if on("newflow-pptp"):
            self.newflow("newflow-pptp", a.newflow_calls, "newflow-pptp")
        if on("worker"):
            self.res["worker"] = []
            for wl in ("tcpudp", "pptp"):
                for flows in a.flows:
                    log("== in-process own cost (dpnat-bench-worker), %s, %d flows ..." % (wl, flows))
                    self.res["worker"].append(self.b.measure_worker(wl, flows))
                    self.save()
            # Scaling: two workers on the two CPUs, and two oversubscribed on one (correctness:
            # every packet forwarded, none dropped; the rate of the latter only shows the sharing).
            for lcores in ("0@0,1@1", "0@1,1@1"):
                for wl in ("tcpudp", "pptp"):
                    flows = 64000 if 64000 in a.flows else max(a.flows)
                    log("== dpnat-bench-worker, %s, %d flows, workers on lcores %s ..." % (wl, flows, lcores))
                    self.res["worker"].append(self.b.measure_worker(wl, flows, lcores))
                    self.save()
        if on("memory"):
            log("== memory per session ...")
            self.res["memory"] = self.b.measure_memory(65536, a.memory_sessions)
            self.save()
        if on("kernel") and not a.no_kernel:
            for calls in a.kernel_calls:
                log("== Linux kernel reference, %d PPTP calls ..." % calls)
                try:
                    k = KernelRef(self.b, calls, a.kernel_sizes, a.window).run()
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    k = {"calls": calls, "error": str(e)}
                    log("   failed: %s" % e)
                self.res.setdefault("kernel", []).append(k)
                self.save()
        self.res["elapsed_s"] = round(time.monotonic() - t0, 1)
        self.save()
        self.report()

    # -- the report --
    def report(self):
        r, P = self.res, log

        def col(runs, f, fmt="%.0f", scale=1.0):
            v = [f(x) for x in runs]
            v = [x for x in v if x is not None]
            return spread(v, scale, fmt)
        P("")
        P("=" * 110)
        P("dpnat benchmark, %s mode, %s; TSC %.3f GHz (%s); window %.1f s, %d run(s) each, median [min-max]; %s"
          % (r["mode"], r["started"], r["tsc_hz"] / 1e9, r["tsc_source"], r["window_s"], r["repeat"],
             r.get("pages", "4 KB pages (--no-huge)")))
        for n in r["notes"]:
            P("NOTE: " + n)
        P("Established flows, both directions, one worker. Rate = packets received on the two data ports.")
        P("cpu = per packet on the forwarding thread's own CPU time (schedstat), which a busy machine does not")
        P("inflate; wall = 1/rate. own = dpnat - testpmd (io forwarding, same vdevs, same pcaps, run just after).")
        hdr = ("workload", "flows", "dpnat Mpps", "testpmd Mpps", "ratio", "dpnat cyc cpu", "testpmd cyc cpu",
               "own ns cpu", "own cyc cpu", "own cyc wall")
        fm = "%-10s %5s %13s %13s %11s %13s %15s %11s %11s %12s"
        P(fm % hdr)
        for e in r["established"]:
            runs = e["runs"]
            P(fm % (e["name"].split("@")[0], fmt_count(e["flows"]),
                    col(runs, lambda x: x["dpnat"]["rx_pps"], "%.2f", 1e-6),
                    col(runs, lambda x: x["testpmd"]["rx_pps"], "%.2f", 1e-6),
                    col(runs, lambda x: x["dpnat"]["rx_pps"] / x["testpmd"]["rx_pps"], "%.2f"),
                    col(runs, lambda x: x["dpnat"].get("cpu_ns_per_pkt") and self.cyc(x["dpnat"]["cpu_ns_per_pkt"])),
                    col(runs, lambda x: x["testpmd"].get("cpu_ns_per_pkt") and
                        self.cyc(x["testpmd"]["cpu_ns_per_pkt"])),
                    col(runs, lambda x: x.get("own_cpu_ns"), "%.1f"),
                    col(runs, lambda x: x.get("own_cpu_cycles")),
                    col(runs, lambda x: x["own_cycles"])))
        bad = []
        for e in r["established"]:
            for x in e["runs"]:
                for who in ("dpnat", "testpmd"):
                    on, st = x[who].get("worker_on_cpu"), x[who].get("steal", 0)
                    if (on is not None and on < 0.97) or st > 0.01:
                        bad.append("%s %s %s" % (e["name"], who, on))
        if bad:
            P("  busy machine: forwarding thread on its CPU less than 97 % of the window in: " + ", ".join(bad))
            P("  (wall-clock figures of those windows are inflated; the cpu columns are not)")
        for e in r["established"]:
            x = e["runs"][-1]["dpnat"]
            P("  %-15s sessions %s/%s, xlate %s/%s, gates %s; drops in window: %s; drops while setting up: %s; "
              "heap %.0f MB, RSS %.0f MB" % (
                  e["name"], x.get("sessions_live"), x.get("sessions_max"), x.get("xlate_live"),
                  x.get("xlate_max"), x.get("gates_opened"), x["drops_in_window"] or "none",
                  x["drops_total"] or "none", x.get("heap_alloc_mb", 0), x.get("rss_mb", 0)))
        if r["newflow"]:
            P("New flows (only first packets; the first pass over the pcap; per worker):")
            for e in r["newflow"]:
                runs = e["runs"]
                u = runs[0]["unit"]
                P("  %-20s %s %s/s (wall), %s/s (cpu); own cost %s cycles per %s (cpu), %s (wall); "
                  "testpmd %s Mpps; sessions %s, drops %s" % (
                      e["name"], col(runs, lambda x: x["per_s"]), u, col(runs, lambda x: x.get("per_s_cpu")),
                      col(runs, lambda x: x.get("own_cpu_cycles")), u[:-1], col(runs, lambda x: x["own_cycles"]),
                      col(runs, lambda x: x["testpmd"]["rx_pps"], "%.2f", 1e-6),
                      runs[-1]["dpnat"].get("sessions_live"), runs[-1]["dpnat"].get("drops_total") or "none"))
        if r.get("worker"):
            P("In-process own cost (dpnat-bench-worker: frames built from memory into mbufs, dp_worker_burst vs "
              "transmit as is; best of its rounds):")
            for x in r["worker"]:
                if "error" in x:
                    P("  %-7s %8d flows: failed: %s" % (x["workload"], x["flows"], x["error"]))
                else:
                    P("  %-7s %8d flows, %d worker(s) on %-8s: dpnat %6.1f, io only %5.1f, own %6.1f cycles/pkt "
                      "(%5.1f ns) per worker; %5.2f Mpps in all%s" % (
                          x["workload"], x["flows"], x.get("workers", 1), x.get("lcores", "0@1"),
                          x["dpnat_cycles"], x["io_cycles"], x["own_cycles"], x["own_ns"],
                          x.get("dpnat_mpps", float("nan")),
                          " (oversubscribed: both on CPU 1)" if x.get("lcores") == "0@1,1@1" else ""))
        if r.get("ovs"):
            P("Against Open vSwitch with DPDK (userspace conntrack, ct(commit,nat(src=DIP range))), the same one-way")
            P("TCP/UDP pcap (Trust -> Untrust, 64-byte frames) and vdevs; own = x - testpmd, by the thread's CPU time:")
            fo = "  %-12s %15s %14s %13s %13s %11s %14s"
            P(fo % ("flows", "testpmd Mpps", "dpnat Mpps", "dpnat own cyc", "OVS Mpps", "OVS fwd %", "OVS own cyc"))
            for e in r["ovs"]:
                runs = e["runs"]
                P(fo % (fmt_count(e["flows"]), col(runs, lambda x: x["testpmd"]["rx_pps"], "%.2f", 1e-6),
                        col(runs, lambda x: x["dpnat"]["rx_pps"], "%.2f", 1e-6),
                        col(runs, lambda x: x.get("dpnat_own_cpu_cycles")),
                        col(runs, lambda x: x["ovs"].get("rx_pps"), "%.2f", 1e-6),
                        col(runs, lambda x: x["ovs"].get("rx_pps") and 100 * x["ovs"]["tx_pps"] / x["ovs"]["rx_pps"]),
                        col(runs, lambda x: x.get("ovs_own_cpu_cycles"))))
                for x in runs:
                    if "error" in x["ovs"]:
                        P("    Open vSwitch failed: " + x["ovs"]["error"][-300:])
                o = runs[-1]["ovs"]
                if "ct_entries" in o:
                    P("    OVS conntrack: %d entries, %d with a translated source; dpnat sessions %s" % (
                        o["ct_entries"], o["ct_translated"], runs[-1]["dpnat"].get("sessions_live")))
        m = r.get("memory")
        if m:
            P("Memory: %.0f bytes per session (rte_malloc'd, every table sized by `set session max`; RSS %.0f), "
              "%.0f bytes per PPTP xlate entry incl. its control state (RSS %.0f)" % (
                  m["bytes_per_session_heap"], m["bytes_per_session_rss"], m["bytes_per_xlate_heap"],
                  m["bytes_per_xlate_rss"]))
        for k in r.get("kernel", []):
            if "error" in k:
                P("Linux kernel reference (%d calls): failed: %s" % (k["calls"], k["error"]))
                continue
            for size, v in k["per_size"].items():
                own = 1e9 / v["nat_pps"] - 1e9 / v["baseline_pps"] if v["nat_pps"] else float("nan")
                P("Linux NAT + PPTP helper, %5d calls, %sB GRE both ways: %.3f Mpps through NAT (%.3f out, %.3f back "
                  "in), %.3f Mpps into a drop; kernel's own cost %.0f ns = %.0f cycles/pkt (wall)" % (
                      k["calls"], size, v["nat_pps"] / 1e6, v["nat_fwd_pps"] / 1e6, v["nat_rev_pps"] / 1e6,
                      v["baseline_pps"] / 1e6, own, self.cyc(own)))
        P("Targets (64-byte packets, one worker; own cost by CPU time):")
        for e in r["established"]:
            if e["sizes"] != [64] or e["flows"] < 64000:
                continue
            tgt = 100 if e["flows"] < 1000000 else 150
            v = [x.get("own_cpu_cycles") for x in e["runs"] if x.get("own_cpu_cycles") is not None] or \
                [x["own_cycles"] for x in e["runs"]]
            c = median(v)
            P("  %-18s %4.0f cycles/pkt, target <= %d: %s" % (
                e["name"], c, tgt, "met" if c <= tgt else "MISSED by %.0f cycles (x%.1f)" % (c - tgt, c / tgt)))
        for e in r["newflow"]:
            v = [x.get("per_s_cpu") or x["per_s"] for x in e["runs"]]
            v = median(v)
            if e["kind"] == "newflow-tcpudp":
                P("  %-18s %.0f new sessions/s, target >= 1000000: %s" % (
                    e["name"], v, "met" if v >= 1e6 else "MISSED (%.0f %% of it)" % (v / 1e4)))
            else:
                P("  %-18s %.0f PPTP calls/s = %.0f sessions/s (3 per call)" % (e["name"], v, 3 * v))
        if m:
            v = m["bytes_per_session_heap"]
            P("  memory             %.0f bytes/session, target <= 256: %s" % (
                v, "met" if v <= 256 else "MISSED by %.0f bytes" % (v - 256)))
        for e in r["established"] + r["newflow"]:
            perf = e["runs"][0]["dpnat"].get("perf")
            if perf:
                P("perf profile of the worker lcore, %s (perf record -g -t <worker thread>, cpu-clock; %s):" % (
                    e["name"], "the first pass" if e in r["newflow"] else "%d s after the window" % self.a.perf_seconds))
                for line in perf.splitlines()[:14]:
                    P("   " + line.rstrip())
        P("Results: %s (elapsed %.0f s)" % (self.a.json, r.get("elapsed_s", 0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1k and 64k flows, 2 s windows, one run each (about 2-3 min)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"), help="meson build directory")
    ap.add_argument("--workdir", default="/tmp/dpnat-bench", help="pcaps, logs, configs")
    ap.add_argument("--json", help="results file (default WORKDIR/results.json)")
    ap.add_argument("--only", help="comma list of: pptp-64,pptp-mix,tcpudp-64,ovs,newflow-tcpudp,newflow-pptp,worker,"
                    "memory,kernel")
    ap.add_argument("--flows", help="concurrent flows per established workload, e.g. 1k,64k,1M")
    ap.add_argument("--window", type=float, help="measurement window in seconds")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds between warm-up and window")
    ap.add_argument("--repeat", type=int, help="dpnat/testpmd pairs per workload")
    ap.add_argument("--newflow-sessions", help="first packets in the new-session run")
    ap.add_argument("--newflow-calls", help="calls in the PPTP call set-up run")
    ap.add_argument("--memory-sessions", help="large `set session max` of the memory runs")
    ap.add_argument("--kernel-calls", help="calls in the Linux reference, e.g. 1000,16000")
    ap.add_argument("--no-kernel", action="store_true", help="skip the Linux kernel reference")
    ap.add_argument("--no-perf", action="store_true", help="skip the perf profile")
    ap.add_argument("--no-huge", action="store_true",
                    help="4 KB pages for the EAL instead of 2 MB hugepages (reserved and given back by the bench)")
    ap.add_argument("--perf-seconds", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the pcaps in WORKDIR")
    ap.add_argument("--data-packets", help="data packets per port and workload (default 20M quick, 50M full)")
    ap.add_argument("--data-bytes", help="disk budget of one port's pcap (default 3G quick, 6G full)")
    ap.add_argument("--wait-quiet", type=int, default=0,
                    help="wait up to N s for other DPDK processes to end before starting")
    a = ap.parse_args()
    q = a.quick
    a.flows = [parse_count(x) for x in (a.flows or ("1k,64k" if q else "1k,64k,1M")).split(",")]
    a.window = a.window or (2.0 if q else 5.0)
    a.data_packets = parse_count(a.data_packets or ("20M" if q else "50M"))
    a.data_bytes = parse_count((a.data_bytes or ("3G" if q else "6G")).lower().replace("g", "000m"))
    a.repeat = a.repeat or (1 if q else 3)
    a.newflow_sessions = parse_count(a.newflow_sessions or ("256k" if q else "1M"))
    a.newflow_calls = parse_count(a.newflow_calls or ("32k" if q else "128k"))
    a.memory_sessions = parse_count(a.memory_sessions or ("1M" if q else "4M"))
    a.kernel_calls = [parse_count(x) for x in (a.kernel_calls or ("100,1k" if q else "100,1k,8k")).split(",")]
    a.kernel_sizes = (64,) if q else (64, 1400)
    a.json = a.json or os.path.join(a.workdir, "results.json")
    if os.geteuid() != 0:
        sys.exit("bench: run as root (DPDK, namespaces, perf)")
    for f in (os.path.join(a.build, "app", "dpnat", "dpnat"), shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"):
        if not os.path.exists(f):
            sys.exit("bench: %s is missing (tools/bench.sh builds dpnat and installs dpdk-testpmd)" % f)
    os.makedirs(a.workdir, exist_ok=True)
    # This tool, the CLI clients and perf stay on CPU 0 (dpnat's control
    # lcore), leaving CPU 1 to the forwarding lcore under test.
    os.sched_setaffinity(0, {0})
    if not a.no_huge:
        HugePages.setup()
    try:
        Runner(a).run()
    finally:
        HugePages.restore()
        if not a.keep:
            for root, dirs, files in os.walk(a.workdir):
                for fn in files:
                    if fn.endswith(".pcap") or fn.endswith(".bin"):
                        os.unlink(os.path.join(root, fn))


if __name__ == "__main__":
    main()
