# SPDX-License-Identifier: BSD-3-Clause
"""Issue 4: the real Debian PPTP peers (pptpd, pptp-linux, no pppd) through
dpnat, two clients behind one public address, PPP frames over GRE both
ways; and the same scenario through the Linux kernel's NAT + PPTP helper as
the reference."""
import re
import time

import pptp_peers as pp
from lab import WAIT, kb_lab, kb_topology, kernel_nat

SERVER = "172.19.50.129"


def two_calls(lab, clients, srv):
    server = pp.start_server(srv, lab.tmp, "192.168.77.1", "192.168.77.10-20")
    lab.handles.append(server)
    cl = []
    for i, c in enumerate(clients):
        h = pp.start_client(c, lab.tmp, SERVER, f"c{i + 1}")
        lab.handles.append(h)
        cl.append(h)
    for h in cl:
        assert h.wait_up(timeout=2 * WAIT), h.log
    for i, h in enumerate(cl):
        h.send(f"hello-from-c{i + 1}")
    for i, h in enumerate(cl):
        pongs = h.recv_pongs(timeout=WAIT)
        assert f"hello-from-c{i + 1}" in pongs, (i, pongs)
    return server, cl


def stop(handles):
    pp.stop_all(handles)


def test_real_peers_through_dpnat(lab):
    fw, clients, srv = kb_lab(lab)
    server, cl = two_calls(lab, clients, srv)
    try:
        out = lab.out("get alg pptp xlate")
        assert out.startswith("2 out of 2000 pptp xlate entries are used."), out
        for ip in ("60.60.60.2", "60.60.60.3"):
            assert re.search(rf"^{ip}/\d+->172\.19\.50\.129 xlated to 172\.19\.51\.234/\d+->", out, re.M), out
        gre = lab.out("get session protocol 47")
        assert "Total 4 sessions" in gre, gre
        flow = lab.out("get counter flow")
        assert re.search(r"gre-no-gate\s+0\b", flow), flow
        # pptpd saw both calls from the public address
        assert len(server.calls()) == 2
    finally:
        stop(cl)
    # clients gone (Call-Clear / FIN): calls torn down at once
    lab.wait_out("get alg pptp xlate", "^0 out of 2000")
    lab.wait_out("get session protocol 47", "^Total 0 sessions")
    stop([server])


def test_real_peers_through_linux_reference(lab):
    fw, clients, srv = kb_topology(lab)
    kernel_nat(lab, fw)
    server, cl = two_calls(lab, clients, srv)
    try:
        ct = lab.run(fw, "cat /proc/net/nf_conntrack", check=False).stdout
        if ct:
            assert "gre" in ct
    finally:
        stop(cl + [server])
