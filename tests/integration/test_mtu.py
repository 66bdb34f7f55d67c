# SPDX-License-Identifier: BSD-3-Clause
"""Issue 21: interface MTU. A packet larger than the egress interface's MTU
with DF gets ICMP fragmentation needed (type 3 code 4) with that MTU, quoting
what the sender sent (the sender's kernel only takes an error that quotes its
own, untranslated, packet); without DF it is dropped and counted; path-MTU
discovery carries a TCP transfer through NAT."""
import os
import re
import time

from lab import kb_lab

SRV = "172.19.50.129"


def counter(lab, name):
    m = re.search(rf"^\s*{re.escape(name)}\s+(\d+)", lab.out("get counter flow"), re.M)
    return int(m.group(1)) if m else 0


def wait_counter(lab, name, at_least, timeout=30.0):
    end = time.monotonic() + timeout
    while True:
        n = counter(lab, name)
        if n >= at_least or time.monotonic() > end:
            return n
        time.sleep(0.1)


def ping(lab, ns, size, df=True):
    """One ping of size bytes of IP datagram (ICMP payload size - 28)."""
    return lab.run(ns, f"ping -c 1 -W 3 -M {'do' if df else 'dont'} -s {size - 28} {SRV}",
                   check=False)


def test_frag_needed_set_live(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    # The default 1500 carries a 1400-byte datagram with DF.
    r = ping(lab, c1, 1400)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^ethernet4/1\s.*\s1500\b", lab.out("get interface"), re.M)

    lab.cli("set interface ethernet4/1 mtu 1280")
    intf = lab.out("get interface ethernet4/1")
    assert re.search(r"^ethernet4/1\s.*\sroute\s+1280\b", intf, re.M), intf
    assert "set interface ethernet4/1 mtu 1280" in lab.out("get config")
    r = ping(lab, c2, 1400)
    assert r.returncode != 0
    assert "Frag needed and DF set (mtu = 1280)" in r.stdout, r.stdout + r.stderr
    assert wait_counter(lab, "frag-needed", 1) >= 1
    # At the MTU it still passes.
    r = ping(lab, c2, 1280)
    assert r.returncode == 0, r.stdout + r.stderr

    # Without DF: counted and dropped, nothing sent back.
    before = counter(lab, "mtu-exceeded")
    r = ping(lab, c1, 1400, df=False)
    assert r.returncode != 0 and "Frag needed" not in r.stdout
    assert wait_counter(lab, "mtu-exceeded", before + 1) == before + 1

    # Back to the default: the datagram passes again (from a host with no learnt PMTU).
    lab.cli("unset interface ethernet4/1 mtu")
    assert "mtu" not in lab.out("get config")
    lab.run(c1, "ip route flush cache", check=False)
    r = ping(lab, c1, 1400)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pmtu_tcp_through_nat(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set interface ethernet4/1 mtu 1280\n")
    assert re.search(r"^ethernet4/1\s.*\s1280\b", lab.out("get interface"), re.M)
    # A receiver that reads to the end (nc -l gives up a second after its stdin ends).
    script = os.path.join(lab.tmp, "recv.py")
    open(script, "w").write(
        "import socket, sys\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('0.0.0.0', 5001)); s.listen(1); c, _ = s.accept(); n = 0\n"
        "while True:\n"
        "    d = c.recv(65536)\n"
        "    if not d: break\n"
        "    n += len(d)\n"
        "c.sendall(b'%d' % n); c.close()\n")
    lab.spawn(srv, f"/usr/bin/python3 {script}")
    time.sleep(0.5)
    # The client's MSS comes from its own 1500 MTU: its first full segments need PMTUD.
    code = ("import socket; s = socket.create_connection(('" + SRV + "', 5001), timeout=60); "
            "s.sendall(b'x' * 300000); s.shutdown(socket.SHUT_WR); print(s.recv(100).decode())")
    r = lab.run(c1, f'/usr/bin/python3 -c "{code}"', timeout=120)
    assert r.stdout.strip() == "300000", r.stdout + r.stderr
    assert counter(lab, "frag-needed") >= 1
    # The client learnt the MTU dpnat told it.
    route = lab.run(c1, f"ip route get {SRV}").stdout
    assert "mtu 1280" in route, route
