# SPDX-License-Identifier: BSD-3-Clause
"""Issue 16: every flow owned by one worker, with traffic fed to each worker's
queue as a NIC with dpnat's RSS key and redirection table would spread it.

The NIC is simulated by softrss.py (Toeplitz in Python, held to DPDK's
rte_softrss by the vectors test_rss writes): a capture of UDP and TCP flows is
split into one pcap per queue, and dpnat runs on net_pcap ports with one
rx_pcap (and one tx_pcap) per queue, `-r` telling it that the queues are fed
that way. What each worker sent out of the Untrust port lands in that
queue's tx_pcap; the reply to each such packet (server to the public address
and the port dpnat chose) must hash, by the same Python Toeplitz, to the same
queue: the worker that made the session. Replies themselves are not replayed
(net_pcap reads its files once, at start, before dpnat chose any port); the
C harness test_rss_paths sends them through the real worker path.
"""
import os
import random
import re

import pytest

import softrss
from lab import wait_until, WAIT

from scapy.all import Ether, IP, UDP, TCP, Raw, rdpcap, wrpcap  # noqa: E402

PUBLIC = "172.19.51.234"
CLIENTS = [f"60.60.60.{i}" for i in range(2, 10)]
SERVERS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
N_FLOWS = 240
MAC_TRUST = "02:70:63:61:70:00"     # net_pcap's MACs: 02:70:63:61:70:<device index>

CONF = """set interface "trust" zone "Trust"
set interface "untrust" zone "Untrust"
set interface trust ip 60.60.60.1/24
set interface trust nat
set interface untrust ip 172.19.51.234/23
set interface untrust route
set interface trust port net_pcap0
set interface untrust port net_pcap1
set route 0.0.0.0/0 interface untrust gateway 172.19.50.1
set arp 172.19.50.1 02:00:00:00:01:01 untrust
set policy id 1 from "Trust" to "Untrust" "Any" "Any" "ANY" permit
set session max 8192
set mbuf max 8192
set alg pptp xlate max 64
""" + "".join(f"set arp {c} 02:00:00:00:00:{i + 2:02x} trust\n" for i, c in enumerate(CLIENTS))


def flows_frames(seed=16):
    """N_FLOWS flows, UDP (3 datagrams each) and TCP (a SYN), in a shuffled order
    that keeps each flow's packets in order."""
    rnd = random.Random(seed)
    per_flow = []
    for i in range(N_FLOWS):
        c, s = CLIENTS[i % len(CLIENTS)], SERVERS[i % len(SERVERS)]
        cport, sport = 20000 + 7 * i, (53, 443, 8080)[i % 3]
        eth = Ether(dst=MAC_TRUST, src="02:00:00:00:00:%02x" % (i % len(CLIENTS) + 2))
        if i % 2:
            per_flow.append([eth / IP(src=c, dst=s) / TCP(sport=cport, dport=sport, flags="S", seq=1000)])
        else:
            per_flow.append([eth / IP(src=c, dst=s) / UDP(sport=cport, dport=sport) / Raw(b"x" * 8)
                             for _ in range(3)])
    out = []
    while any(per_flow):
        f = rnd.choice([f for f in per_flow if f])
        out.append(f.pop(0))
    return out


def worker_table(lab):
    """get worker's rows: {worker: (rx, forwarded, sessions, created, non_owner, drops)}."""
    rows = {}
    for m in re.finditer(r"^\s+(\d+)\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$",
                         lab.out("get worker"), re.M):
        rows[int(m.group(1))] = tuple(int(x) for x in m.groups()[1:])
    return rows


def run_split(lab, workers, assume):
    """Replay the flows split per queue through `workers` workers; returns
    (get worker text, rows, {queue: frames sent on Untrust}, flows per queue)."""
    fw = lab.ns("fw")
    frames = flows_frames()
    queues = softrss.split([bytes(f) for f in frames], workers)
    d = lab.tmp
    empty = os.path.join(d, "empty.pcap")
    wrpcap(empty, [], linktype=1)
    trust, untrust = [], []
    for q in range(workers):
        wrpcap(os.path.join(d, f"t_rx{q}.pcap"), [Ether(f) for f in queues[q]], linktype=1)
        trust.append(f"rx_pcap={d}/t_rx{q}.pcap,tx_pcap={d}/t_tx{q}.pcap")
        untrust.append(f"rx_pcap={empty},tx_pcap={d}/u_tx{q}.pcap")
    vdevs = (f"--vdev=net_pcap0,{','.join(trust)} --vdev=net_pcap1,{','.join(untrust)}")
    lab.start_dpnat(fw, [], CONF, lcores=f"'0@0,(1-{workers})@1'", extra_eal=vdevs,
                    dp_args="-r" if assume else "")
    total = sum(len(q) for q in queues)
    rows = wait_until(lambda: (lambda r: r if sum(v[0] for v in r.values()) >= total else None)(
        worker_table(lab)), 4 * WAIT, f"{total} packets received by {workers} workers")
    text = lab.out("get worker")
    lab.stop_dpnat()
    sent = {q: [bytes(p) for p in rdpcap(os.path.join(d, f"u_tx{q}.pcap"))] for q in range(workers)}
    return text, rows, sent, queues


def reply_queue(frame, workers):
    """The queue a NIC with dpnat's RSS gives the reply to a translated packet (bytes)."""
    p = Ether(frame)
    return softrss.queue(softrss.hash_l4(p[IP].dst, p[IP].src, p[IP].payload.dport, p[IP].payload.sport),
                         workers)


@pytest.mark.parametrize("workers", [2, 4, 8])
def test_rss_owned_every_reply_to_its_creator(lab, workers):
    text, rows, sent, queues = run_split(lab, workers, assume=True)
    assert re.search(r"^trust\s+net_pcap0\s+%d owned .*assumed \(-r\)" % workers, text, re.M), text
    assert re.search(r"^untrust\s+net_pcap1\s+%d owned" % workers, text, re.M), text
    # Each session made by the worker whose queue the flow's packets reached; none handled elsewhere.
    firsts = [set() for _ in range(workers)]
    for q in range(workers):
        for f in queues[q]:
            firsts[q].add(bytes(f[26:38]) + bytes([f[23]]))
    assert {w: rows[w][3] for w in rows} == {q: len(firsts[q]) for q in range(workers)}, text
    assert sum(v[4] for v in rows.values()) == 0, text
    assert sum(v[3] for v in rows.values()) == N_FLOWS, text
    # Every translated packet left through its creator's queue, and its reply hashes back there.
    assert sum(len(v) for v in sent.values()) == sum(len(q) for q in queues)
    wrong = [(q, reply_queue(f, workers)) for q in sent for f in sent[q] if reply_queue(f, workers) != q]
    assert not wrong, f"{len(wrong)} replies would reach another worker: {wrong[:5]}"


def test_rss_fallback_shown_and_replies_scattered(lab):
    """Without -r the net_pcap ports are in fallback (the device takes no key):
    get worker says so and why, and the ports dpnat picks (no RSS classes) send
    replies to any queue - the check above fails there."""
    workers = 4
    text, rows, sent, queues = run_split(lab, workers, assume=False)
    assert re.search(r"^trust\s+net_pcap0\s+4 fallback\s+0\s+0\s+no TCP/UDP hash", text, re.M), text
    wrong = sum(1 for q in sent for f in sent[q] if reply_queue(f, workers) != q)
    assert wrong > sum(len(v) for v in sent.values()) // 4, wrong


def test_softrss_matches_dpdk():
    """softrss.py against rte_softrss: the vectors test_rss (C) writes and checks."""
    path = os.path.join(softrss.ROOT, "tests", "unit", "golden", "rss_vectors.txt")
    n = 0
    for line in open(path):
        s, d, sp, dp, h = line.split()
        assert softrss.hash_l4(s, d, int(sp), int(dp)) == int(h, 16), line
        n += 1
    assert n == 64
