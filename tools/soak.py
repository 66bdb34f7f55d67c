#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Soak dpnat in the KB12423 lab (root, network namespaces).

    sudo /usr/bin/python3 tools/soak.py --minutes 10 [--build build] [--workers 2]

For --minutes, scripted PPTP clients place calls (GRE echoed by the scripted
server; calls end by CCRQ, FIN, RST or are left to time out) while UDP flows
(new ports every few seconds) and short TCP connections (some closed by RST)
cross dpnat. Every --interval seconds it samples sessions, xlate entries,
control connections, the dpnat process's resident memory (VmRSS), forwarded
packets, drops and buffer shortages. Then the generators stop, the timeouts
run out, and it checks that every table is back to empty, the counters add
up, and the resident memory stayed flat over the second half of the run.
Prints a table; exits 0 when every check holds.
"""
import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# A session table of 16384 (peak use is ~500) is cycled through within the first
# two minutes: its free list is a FIFO ring, so every slot is touched once before
# any is reused, and VmRSS then has to stay flat. With the default 1M slots the
# pages of fresh slots would keep adding to VmRSS for hours without any leak.
LIMITS = "set session max 16384\nset mbuf max 2048\n"
TIMEOUTS = ("set session timeout udp 10\nset session timeout icmp 10\nset session timeout tcp 30\n"
            "set session timeout tcp-syn 5\nset session timeout tcp-closing 5\n"
            "set session timeout gre 20\nset alg pptp xlate timeout 20\n")
SETTLE = 45          # seconds after the generators stop: longer than any timeout above


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def sample(T, lab, pid, t0):
    f = T.flow(lab)
    a = T.alg(lab)
    alloc, mx, failed, _ = T.sess(lab)
    m = T.mbufs(lab)
    drops = {k: v for k, v in f.items()
             if k not in ("forwarded", "slow path", "sessions created", "sessions aged", "sessions cleared",
                          "session alloc failed", "session insert failed", "ethertype")}
    return {"t": int(time.time() - t0), "sessions": alloc, "alloc_failed": failed,
            "xlate": a["xlate_used"], "ctrl": a["ctrl_used"], "calls": a["calls_opened"],
            "created": f["sessions created"], "forwarded": f["forwarded"],
            "drops": sum(drops.values()), "mbuf_alloc": f["mbuf-alloc"], "no_mbuf": m["receive"],
            "mbufs": m["in use"], "rss_kib": rss_kib(pid)}


COLS = ("t", "sessions", "alloc_failed", "xlate", "ctrl", "calls", "created", "forwarded", "drops",
        "mbuf_alloc", "no_mbuf", "mbufs", "rss_kib")


def show(row):
    print(" ".join(f"{row[c]:>{max(len(c), 9)}}" for c in COLS), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--build", default=os.environ.get("DPNAT_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--workers", type=int, choices=(1, 2), default=2)
    ap.add_argument("--rss-tolerance-kib", type=int, default=2048,
                    help="allowed VmRSS growth over the second half of the run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("soak: needs root (network namespaces)")
    os.environ["DPNAT_BUILD"] = os.path.abspath(args.build)
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import test_reliability as T          # noqa: E402  (lab helpers and traffic generators)
    from lab import Lab                   # noqa: E402

    seconds = int(args.minutes * 60)
    lab = Lab("soak")
    rows, checks = [], []
    try:
        lc = dict(lcores="0,1@1,2@1", vdev_opts=",qpairs=2") if args.workers == 2 else {}
        fw, (c1, c2), srv = T.kb_lab(lab, extra_conf=LIMITS + TIMEOUTS, **lc)
        pid = lab.dpnat.pid
        assert open(f"/proc/{pid}/comm").read().strip().startswith("dpnat"), "not the dpnat process"
        T.start_churn_servers(lab, srv)
        t0 = time.time()
        print(f"soak: {seconds} s, {args.workers} worker(s), dpnat pid {pid}, sample every {args.interval:g} s")
        print(" ".join(f"{c:>{max(len(c), 9)}}" for c in COLS))
        rows.append(sample(T, lab, pid, t0))
        show(rows[-1])
        gens = [T.churn(lab, c1, seconds, "udp", 8, 5), T.churn(lab, c2, seconds, "udp", 8, 7),
                T.churn(lab, c2, seconds, "tcp"),
                T.churn(lab, c1, seconds, "pptp", 100, 3), T.churn(lab, c2, seconds, "pptp", 5000, 3)]
        while time.time() - t0 < seconds:
            time.sleep(min(args.interval, max(0.0, seconds - (time.time() - t0))))
            if lab.dpnat.poll() is not None:
                raise SystemExit(f"soak: dpnat exited with {lab.dpnat.returncode}")
            rows.append(sample(T, lab, pid, t0))
            show(rows[-1])
        totals = [T.churn_result(g, timeout=60) for g in gens]
        print("generators:", totals)
        # the timeouts run out
        t_stop = time.time()
        while time.time() - t_stop < SETTLE:
            time.sleep(min(args.interval, SETTLE - (time.time() - t_stop)))
            rows.append(sample(T, lab, pid, t0))
            show(rows[-1])
            if (rows[-1]["sessions"] == 0 and rows[-1]["xlate"] == 0 and rows[-1]["ctrl"] == 0
                    and rows[-1]["mbufs"] == 0):
                break
        end = rows[-1]
        f, a = T.flow(lab), T.alg(lab)
        half = [r for r in rows if r["t"] >= seconds // 2 and r["t"] <= seconds]
        rss_growth = max(r["rss_kib"] for r in half) - half[0]["rss_kib"] if half else 0
        peak = max(rows, key=lambda r: r["sessions"])
        checks = [
            ("dpnat running", lab.dpnat.poll() is None),
            ("sessions back to 0", end["sessions"] == 0),
            ("xlate entries back to 0", end["xlate"] == 0),
            ("control connections back to 0", end["ctrl"] == 0),
            ("mbufs in use back to 0", end["mbufs"] == 0),
            ("created == aged + cleared",
             f["sessions created"] == f["sessions aged"] + f["sessions cleared"]),
            ("calls opened == closed", a["calls_opened"] == a["calls_closed"]),
            ("no session alloc failure", end["alloc_failed"] == 0),
            ("no mbuf shortage", end["mbuf_alloc"] == 0 and end["no_mbuf"] == 0),
            (f"VmRSS growth over the second half {rss_growth} KiB <= {args.rss_tolerance_kib} KiB",
             rss_growth <= args.rss_tolerance_kib),
            ("traffic flowed", all(t.get("rcvd", 0) + t.get("ok", 0) + t.get("calls", 0) > 0 for t in totals)),
            ("no error in the log",
             not re.search(r"error|panic|assert|segmentation|abort", open(lab.log).read(), re.I)),
        ]
        print(f"\npeak: {peak['sessions']} sessions, {max(r['xlate'] for r in rows)} xlate entries, "
              f"{max(r['ctrl'] for r in rows)} control connections; "
              f"VmRSS first {rows[0]['rss_kib']} KiB, at half {half[0]['rss_kib'] if half else '-'} KiB, "
              f"max {max(r['rss_kib'] for r in rows)} KiB, end {end['rss_kib']} KiB")
        drops = {k: v for k, v in f.items() if v and k not in (
            "forwarded", "slow path", "sessions created", "sessions aged", "sessions cleared", "ethertype")}
        missed = sum(int(x) for x in re.findall(r"in missed\s+(\d+)", lab.out("get counter statistics")))
        print(f"nonzero drop reasons and session counters: {drops}; port rx missed: {missed}")
        print(f"totals: {f['sessions created']} sessions created ({f['sessions aged']} aged, "
              f"{f['sessions cleared']} cleared), {a['calls_opened']} calls, {f['forwarded']} packets forwarded")
        for name, ok in checks:
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    finally:
        lab.close()
    sys.exit(0 if checks and all(ok for _, ok in checks) else 1)


if __name__ == "__main__":
    main()
