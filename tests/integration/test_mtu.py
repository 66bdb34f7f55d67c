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


def transfer(lab, client_ns, server_ns, port, upload, size=300000):
    """A TCP connection from client_ns to the server: size bytes up (the
    server counts them to the end) or down (the client does); returns the
    count. Not nc: nc -l gives up a second after its stdin ends."""
    script = os.path.join(lab.tmp, f"srv{port}.py")
    open(script, "w").write(
        "import socket\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('0.0.0.0', {port})); s.listen(1); c, _ = s.accept(); n = 0\n"
        f"if {not upload}: c.sendall(b'y' * {size}); c.close(); raise SystemExit\n"
        "while True:\n"
        "    d = c.recv(65536)\n"
        "    if not d: break\n"
        "    n += len(d)\n"
        "c.sendall(b'%d' % n); c.close()\n")
    lab.spawn(server_ns, f"/usr/bin/python3 {script}")
    time.sleep(0.5)
    code = (f"import socket; s = socket.create_connection(('{SRV}', {port}), timeout=60); n = 0\n"
            f"if {upload}: s.sendall(b'x' * {size}); s.shutdown(socket.SHUT_WR); print(s.recv(100).decode()); raise SystemExit\n"
            "while True:\n d = s.recv(65536)\n if not d: break\n n += len(d)\nprint(n)")
    r = lab.run(client_ns, f'/usr/bin/python3 -c "{code}"', timeout=120)
    return int(r.stdout.strip() or -1)


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
    # The client's MSS comes from its own 1500 MTU: its first full segments need PMTUD.
    assert transfer(lab, c1, srv, 5001, upload=True) == 300000
    assert counter(lab, "frag-needed") >= 1
    # The client learnt the MTU dpnat told it.
    route = lab.run(c1, f"ip route get {SRV}").stdout
    assert "mtu 1280" in route, route


def test_untrust_side_big_packets(lab):
    """Inside MTU 1280: a download through NAT completes by PMTUD (the ICMP
    goes to the server, quoting its packet to the public address), while a
    big DF packet from Untrust without a session is dropped with no ICMP."""
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set interface ethernet4/2 mtu 1280\n")
    assert transfer(lab, c1, srv, 5002, upload=False) == 300000
    assert counter(lab, "frag-needed") >= 1
    assert "mtu 1280" in lab.run(srv, "ip route get 172.19.51.234").stdout

    lab.run(srv, "ip route add 60.60.60.0/24 via 172.19.51.234")
    before = counter(lab, "mtu-exceeded")
    r = lab.run(srv, "ping -c 1 -W 2 -M do -s 1372 60.60.60.3", check=False)
    assert r.returncode != 0 and "Frag needed" not in r.stdout, r.stdout
    assert wait_counter(lab, "mtu-exceeded", before + 1) == before + 1
