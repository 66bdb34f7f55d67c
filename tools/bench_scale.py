# SPDX-License-Identifier: BSD-3-Clause
"""dpnat scaling by pcap replay (issue 16): 1 worker against 2, and what the
control lcore costs a worker that shares its CPU.

Each port gets one rx_pcap per worker queue (net_pcap: one RX queue per
rx_pcap), and flow i goes to queue i % workers, as a NIC's RSS spreads
flows; UDP from the inside only (Trust -> Untrust), one datagram per flow
in each pass of the pcap. Two measurements per lcore map:
  established: the pcap replayed forever (infinite_rx=1, the file read into
      memory once), so after the first pass every packet is a session hit;
      received packets per second over --window seconds, port 0 (all queues)
  new: --sessions first packets, also replayed from memory (infinite_rx);
      the rate of the first pass, every packet a new session: sessions
      made (telemetry /dpnat/sessions) from 5 % to 95 % of them (each queue
      replays on when it is done, so the packets received do not tell)
and with established, the worker threads' CPU time (schedstat), which a
machine busy with other work does not inflate (workers poll: in the new
pass a worker that finished its share still burns CPU, so none there). The lcore maps (EAL --lcores):
  1w        control lcore on CPU 0, the worker alone on CPU 1
  1w-shared control lcore and the worker both on CPU 1
  2w        control lcore and worker 1 on CPU 0, worker 2 on CPU 1
Maps are taken in turn (A B C A B C ...), --repeat times, and the load
average is printed with each figure. tools/bench.py has the rest of the
method (docs/performance.md); this tool reuses its packets and processes.

Usage: /usr/bin/python3 tools/bench_scale.py [--flows N] [--sessions N] [--window S]
                                             [--repeat N] [--maps 1w,1w-shared,2w] [--build DIR]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402

MAPS = {
    "1w": (1, "0@0,1@1"),
    "1w-shared": (1, "0@1,1@1"),
    "2w": (2, "0@0,1@0,2@1"),
}


def flow_packet(i):
    """The first (and every) datagram of flow i: 10.0.x.y:sport -> 198.18.2.z:53, 64 bytes."""
    hosts = 4096
    c = B.ip2i("10.0.0.0") + 256 + i % hosts
    sp = 1024 + i // hosts
    s = B.ip2i("198.18.2.1") + i % 251
    return B.frame(B.port_mac(0), B.mac2b(B.TRUST_GW_MAC),
                   B.ipv4(c, s, 17, B.udp(c, s, sp, 53, bytes(18))))


def write_queues(workdir, tag, n, workers):
    """Per queue q: a pcap of flows q, q + workers, ... (i < n); their paths."""
    recs = [B.Records() for _ in range(workers)]
    for i in range(n):
        recs[i % workers].add(flow_packet(i))
    paths = []
    for q, r in enumerate(recs):
        p = os.path.join(workdir, "%s-w%d-q%d.pcap" % (tag, workers, q))
        B.write_pcap(p, [(r, 1)])
        paths.append(p)
    return paths


def worker_ns(pid):
    """Sum of the on-CPU ns of dpnat's worker threads (schedstat)."""
    tot = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                if "worker" not in f.read():
                    continue
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                tot += int(f.read().split()[0])
        except (OSError, ValueError):
            pass
    return tot


def control_ns(pid):
    """On-CPU ns and voluntary context switches (its naps) of the control lcore (the main thread)."""
    with open("/proc/%d/task/%d/schedstat" % (pid, pid)) as f:
        ns = int(f.read().split()[0])
    with open("/proc/%d/task/%d/status" % (pid, pid)) as f:
        sw = int(next(x for x in f if x.startswith("voluntary_ctxt_switches")).split()[1])
    return ns, sw


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


class Run:
    def __init__(self, a, workers, lcores, pcaps, empty, infinite, sessions, tag):
        self.prefix = "bscale%d_%s" % (os.getpid() % 100000, tag)
        conf = os.path.join(a.workdir, "dpnat-%s.conf" % tag)
        n_dip = sessions * workers // 30000 + 1
        # infinite_rx keeps the whole pcap in mbufs: as many as its packets, and the pool besides.
        mbufs = 16384 + (sessions if infinite else 0)
        B.dpnat_conf(conf, sessions + sessions // 4 + 1024, 1024, mbufs, n_dip)
        self.sock = os.path.join(a.workdir, "dpnat-%s.sock" % tag)
        v0 = "net_pcap0," + ",".join("rx_pcap=" + p for p in pcaps) + (",infinite_rx=1" if infinite else "")
        v1 = "net_pcap1," + ",".join("rx_pcap=" + empty for _ in pcaps)
        mem = B.mem_mb_for(mbufs, sessions * 2, 2048)
        argv = [os.path.join(a.build, "app", "dpnat", "dpnat"), "--lcores", lcores, "--no-pci", "--no-huge",
                "-m", str(mem), "--file-prefix", self.prefix, "--log-level", "lib.eal:error",
                "--vdev=" + v0, "--vdev=" + v1, "--", "-f", conf, "-s", self.sock]
        self.cmdline = " ".join(argv)
        self.proc = B.Proc(argv, os.path.join(a.workdir, "dpnat-%s.log" % tag), self.prefix)
        self.proc.wait_telemetry(120)
        end = time.monotonic() + 60
        while not os.path.exists(self.sock):
            if not self.proc.alive() or time.monotonic() > end:
                raise RuntimeError("dpnat did not start:\n" + self.proc.tail())
            time.sleep(0.01)

    def rx(self):
        st = self.proc.tm.q("/ethdev/stats,0") or {}
        return st.get("ipackets", 0)

    def stop(self):
        self.proc.stop()


def established(a, workers, lcores, pcaps, empty, tag):
    r = Run(a, workers, lcores, pcaps, empty, True, a.flows, tag)
    try:
        # Warm: every flow's session made (the first pass), then a settle.
        end = time.monotonic() + 120
        while r.rx() < 2 * a.flows:
            if time.monotonic() > end or not r.proc.alive():
                raise RuntimeError("no warm-up: " + r.proc.tail())
            time.sleep(0.05)
        time.sleep(0.3)
        pid = r.proc.p.pid
        t0, p0, c0, k0 = time.monotonic(), r.rx(), worker_ns(pid), control_ns(pid)
        time.sleep(a.window)
        t1, p1, c1, k1 = time.monotonic(), r.rx(), worker_ns(pid), control_ns(pid)
        n = p1 - p0
        return {"mpps": n / (t1 - t0) / 1e6, "cpu_ns": (c1 - c0) / max(n, 1), "cmd": r.cmdline,
                "ctl_pct": (k1[0] - k0[0]) / 1e7 / (t1 - t0), "ctl_wakeups": (k1[1] - k0[1]) / (t1 - t0)}
    finally:
        r.stop()


def newflow(a, workers, lcores, pcaps, empty, tag):
    n = a.sessions
    r = Run(a, workers, lcores, pcaps, empty, True, n, tag)
    try:
        samples = []
        end = time.monotonic() + 300
        while True:
            t = time.monotonic()
            got = (r.proc.tm.q("/dpnat/sessions") or {}).get("created", 0)
            samples.append((t, got))
            if got >= n:
                break
            if time.monotonic() > end or not r.proc.alive():
                raise RuntimeError("new-flow pass did not complete: " + r.proc.tail())
            time.sleep(0.002)
        lo = max(0.05 * n, samples[0][1])

        def cross(level, k):
            for x, y in zip(samples, samples[1:]):
                if x[1] <= level <= y[1] and y[1] > x[1]:
                    return x[k] + (y[k] - x[k]) * (level - x[1]) / (y[1] - x[1])
            return None
        t5, t95 = cross(lo, 0), cross(0.95 * n, 0)
        if t5 is None or t95 is None or t95 <= t5 or lo > 0.5 * n:
            raise RuntimeError("pass not timed; use more --sessions")
        time.sleep(0.3)
        made = (r.proc.tm.q("/dpnat/sessions") or {})
        return {"msps": (0.95 * n - lo) / (t95 - t5) / 1e6, "sessions": made.get("created"),
                "cmd": r.cmdline}
    finally:
        r.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", type=int, default=64000, help="established flows")
    ap.add_argument("--sessions", type=int, default=300000, help="first packets of the new-session pass")
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--maps", default="1w,1w-shared,2w")
    ap.add_argument("--only", default="established,new")
    ap.add_argument("--build", default=os.path.join(B.ROOT, "build"))
    ap.add_argument("--workdir", default="/tmp/dpnat-bench-scale")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    maps = a.maps.split(",")
    empty = B.empty_pcap(os.path.join(a.workdir, "empty.pcap"))
    pc = {}
    for m in maps:
        w = MAPS[m][0]
        if ("est", w) not in pc:
            pc[("est", w)] = write_queues(a.workdir, "est", a.flows, w)
            pc[("new", w)] = write_queues(a.workdir, "new", a.sessions, w)
    for rep in range(a.repeat):
        for m in maps:
            w, lc = MAPS[m]
            if "established" in a.only:
                e = established(a, w, lc, pc[("est", w)], empty, "est-" + m)
                B.log("established %-9s lcores %-12s %6.2f Mpps  worker CPU %6.1f ns/pkt  "
                      "control lcore %.2f %% of a CPU, %.0f naps/s  load %s"
                      % (m, lc, e["mpps"], e["cpu_ns"], e["ctl_pct"], e["ctl_wakeups"], load()))
            if "new" in a.only:
                n = newflow(a, w, lc, pc[("new", w)], empty, "new-" + m)
                B.log("new         %-9s lcores %-12s %6.3f M sessions/s  (%s made)  load %s"
                      % (m, lc, n["msps"], n["sessions"], load()))
            if rep == 0 and m == maps[0]:
                B.log("  (command: %s)" % (e if "established" in a.only else n)["cmd"])


if __name__ == "__main__":
    main()
