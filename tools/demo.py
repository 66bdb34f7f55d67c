#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The dpnat demo: the KB12423 lab in network namespaces.

Two PPTP clients (real pptp-linux, 60.60.60.2 and .3) behind dpnat (running
its embedded default configuration: the KB's own lines) call one PPTP server
(real pptpd, 172.19.50.129); PPP frames cross GRE both ways; then the KB's
views are shown and a dpnat-cli prompt is handed over. Everything the demo
creates is removed when it ends.
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import pptp_peers as pp  # noqa: E402
from lab import CLI, Lab, kb_topology  # noqa: E402


def banner(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def show(lab, cmd):
    print(f"dpnat-> {cmd}")
    print(lab.out(cmd).rstrip("\n"), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-prompt", action="store_true", help="do not open a dpnat-cli prompt at the end")
    ap.add_argument("--keep", action="store_true", help="keep the lab running until Ctrl-C")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("demo: needs root (it creates network namespaces)")
    lab = Lab("demo")
    try:
        banner("KB12423 lab: clients 60.60.60.2, 60.60.60.3 | dpnat ethernet4/2 (Trust, NAT) "
               "| ethernet4/1 (Untrust) 172.19.51.234 | PPTP server 172.19.50.129")
        fw, clients, srv = kb_topology(lab)
        lab.start_dpnat(fw, ["fwt", "fwu"], None)
        print(f"dpnat is running (embedded default configuration), socket {lab.sock}")
        show(lab, "get interface")
        banner("the clients ping the server through dpnat (NAPT)")
        for c in clients:
            r = lab.run(c, "ping -c 2 -W 2 172.19.50.129", check=False)
            print(r.stdout.strip().splitlines()[-2] if r.stdout else r.stderr)
        banner("pptpd on the server, pptp-linux on both clients (no pppd: an HDLC stand-in)")
        server = pp.start_server(srv, lab.tmp, "192.168.77.1", "192.168.77.10-20")
        lab.handles.append(server)
        cl = []
        for i, c in enumerate(clients):
            h = pp.start_client(c, lab.tmp, "172.19.50.129", f"client{i + 1}")
            lab.handles.append(h)
            cl.append(h)
        for i, h in enumerate(cl):
            up = h.wait_up(timeout=15)
            print(f"client{i + 1}: call {'up' if up else 'NOT up'}")
        for i, h in enumerate(cl):
            h.send(f"hello from client{i + 1}")
        for i, h in enumerate(cl):
            print(f"client{i + 1} got back over GRE: {h.recv_pongs(timeout=5)}")
        banner("the KB's views")
        show(lab, "get session dst-port 1723")
        show(lab, "get session protocol 47")
        show(lab, "get alg pptp xlate")
        show(lab, "get alg")
        if args.keep:
            print(f"\nlab kept running; CLI: {CLI} -s {lab.sock}   (Ctrl-C here to end and clean up)")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        elif not args.no_prompt and sys.stdin.isatty():
            banner("dpnat-cli prompt: try `get session`, `get alg pptp`, `?`; `exit` ends the demo")
            subprocess.call([CLI, "-s", lab.sock])
        else:
            print(f"\n(no terminal: not opening a prompt; run `tools/demo.sh --keep` and then\n"
                  f" {CLI} -s <socket> from another shell to explore)")
    finally:
        lab.close()
        print("demo: lab removed")


if __name__ == "__main__":
    main()
