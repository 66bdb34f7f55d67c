# SPDX-License-Identifier: BSD-3-Clause
"""Issue 3: NAPT on the KB's lab: two inside hosts share 172.19.51.234."""
import os
import re
import signal
import time

from lab import WAIT, kb_lab, wait_file

PUB = "172.19.51.234"


def listen_tcp(lab, srv, port, n):
    """A server that records each peer address and echoes a line back."""
    script = os.path.join(lab.tmp, f"tcpsrv{port}.py")
    log = os.path.join(lab.tmp, f"tcpsrv{port}.log")
    open(script, "w").write(f'''
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {port})); s.listen(16)
with open("{log}", "w") as f:
    for _ in range({n}):
        c, a = s.accept()
        d = c.recv(100)
        f.write("%s %d %s\\n" % (a[0], a[1], d.decode())); f.flush()
        c.sendall(b"echo:" + d)
        c.close()
''')
    p = lab.spawn(srv, f"/usr/bin/python3 {script}")
    lab.wait_port(srv, port, pid=p.pid)
    return p, log


def tcp_client(lab, ns, dst, port, sport, msg):
    code = (f'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); '
            f's.bind(("0.0.0.0",{sport})); s.settimeout({WAIT}); s.connect(("{dst}",{port})); '
            f's.sendall(b"{msg}"); print(s.recv(100).decode())')
    return lab.run(ns, f"/usr/bin/python3 -c '{code}'").stdout.strip()


def test_two_hosts_same_source_port(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    p, log = listen_tcp(lab, srv, 8080, 2)
    assert tcp_client(lab, c1, "172.19.50.129", 8080, 40000, "from-c1") == "echo:from-c1"
    assert tcp_client(lab, c2, "172.19.50.129", 8080, 40000, "from-c2") == "echo:from-c2"
    p.wait(timeout=WAIT)
    seen = [l.split() for l in open(log).read().splitlines()]
    assert [s[0] for s in seen] == [PUB, PUB]
    assert seen[0][1] != seen[1][1]        # distinct public ports
    assert {s[2] for s in seen} == {"from-c1", "from-c2"}
    out = lab.out("get sess dst 8080")
    assert re.search(r"^alloc \d+/max 1048576, alloc failed 0, mcast alloc 0, di alloc failed 0$", out, re.M), out
    assert "Total 2 sessions according filtering criteria." in out
    assert re.search(r"60\.60\.60\.2/40000->172\.19\.50\.129/8080,6,", out), out
    assert re.search(r"172\.19\.51\.234/\d+<-172\.19\.50\.129/8080,6,", out), out
    assert "policy 1," in out


def test_ping_and_udp_both_hosts(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    for c in (c1, c2):
        r = lab.run(c, "ping -c 2 -W 10 172.19.50.129").stdout
        assert "2 received" in r
    out = lab.out("get session protocol 1")
    assert "Total 2 sessions" in out
    lab.spawn(srv, "nc -u -l -k -p 5353", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 5353, "udp")
    for c, word in ((c1, "one"), (c2, "two")):
        lab.run(c, f"bash -c 'echo {word} | nc -u -q 0 -w 1 -p 3000 172.19.50.129 5353'", check=False)
    out = lab.wait_out("get session protocol udp", "^Total 2 sessions")
    assert "Total 2 sessions" in out, out
    assert len(re.findall(r"60\.60\.60\.[23]/3000->172\.19\.50\.129/5353,17", out)) == 2
    pubports = re.findall(r"172\.19\.51\.234/(\d+)<-172\.19\.50\.129/5353,17", out)
    assert len(set(pubports)) == 2
    wait_file(os.path.join(lab.tmp, "u.out"), "one", "two")


def test_session_timeout_and_clear(lab):
    # 5 s: long enough for a slow machine to look at the sessions before they age
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set session timeout icmp 5\n")
    t0 = time.monotonic()
    lab.run(c1, "ping -c 1 -W 10 172.19.50.129")
    assert "Total 1 sessions" in lab.out("get session protocol icmp")
    lab.wait_out("get session protocol icmp", "^Total 0 sessions", timeout=5 + WAIT)
    assert time.monotonic() - t0 >= 4, "aged before its timeout (5 s, 1 s ticks)"
    lab.run(c1, "ping -c 1 -W 10 172.19.50.129")
    lab.run(c2, "ping -c 1 -W 10 172.19.50.129")
    lab.cli("clear session src-ip 60.60.60.2")
    out = lab.out("get session protocol icmp")
    assert "Total 1 sessions" in out and "60.60.60.3" in out


def test_untrust_cannot_enter(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    # the server cannot reach inside hosts: no session, no policy
    lab.run(srv, "ip route add 60.60.60.0/24 via 172.19.51.234")
    r = lab.run(srv, "ping -c 1 -W 1 60.60.60.2", check=False)
    assert r.returncode != 0
    lab.wait_out("get counter flow", r"no-session\s+[1-9]|no-policy\s+[1-9]")


def test_session_table_full(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set session max 2\n")
    lab.spawn(srv, "nc -u -l -k -p 7000", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 7000, "udp")
    lab.run(c1, "bash -c 'echo first-flow | nc -u -q 0 -w 1 -p 3000 172.19.50.129 7000'", check=False)
    lab.run(c2, "bash -c 'echo second-flow | nc -u -q 0 -w 1 -p 3001 172.19.50.129 7000'", check=False)
    # the table is full now: a third flow fails and is counted
    lab.run(c2, "bash -c 'echo third-flow | nc -u -q 0 -w 1 -p 3002 172.19.50.129 7000'", check=False)
    lab.wait_out("get session", r"alloc 2/max 2, alloc failed [1-9]")
    lab.wait_out("get counter flow", r"session-full\s+[1-9]")
    # existing flows unharmed
    lab.run(c1, "bash -c 'echo first-again | nc -u -q 0 -w 1 -p 3000 172.19.50.129 7000'", check=False)
    # service recovers once entries free up
    lab.cli("clear session src-ip 60.60.60.3")
    # the freed session is reused after the RCU grace period
    lab.wait_out("get session", r"free sessions in shared pool [1-9]")
    lab.run(c2, "bash -c 'echo fourth-flow | nc -u -q 0 -w 1 -p 3003 172.19.50.129 7000'", check=False)
    got = wait_file(os.path.join(lab.tmp, "u.out"), "first-flow", "second-flow", "first-again", "fourth-flow")
    for w in ("first-flow", "second-flow", "first-again", "fourth-flow"):
        assert w in got, got
    assert "third-flow" not in got


def test_two_workers_replies_on_other_worker(lab):
    # Two workers on one CPU (oversubscribed), two queues per port: the
    # kernel's fanout spreads flows over queues, so replies of a flow arrive
    # on whichever worker owns that queue.
    fw, (c1, c2), srv = kb_lab(lab, lcores="0,1@1,2@1", vdev_opts=",qpairs=2")
    lab.spawn(srv, "nc -u -l -k -p 6000", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 6000, "udp")
    for i in range(24):
        c = c1 if i % 2 == 0 else c2
        lab.run(c, f"bash -c 'echo f{i} | nc -u -q 0 -w 1 -p {20000 + i} 172.19.50.129 6000'", check=False)
    for c in (c1, c2):
        r = lab.run(c, "ping -c 3 -i 0.2 -W 10 172.19.50.129").stdout
        assert "3 received" in r
    lab.wait_out("get session protocol udp", "^Total 24 sessions")
    w = lab.out("get session")
    counts = [int(x) for x in re.findall(r"worker \d+: alloc (\d+)", w)]
    assert len(counts) == 2 and sum(counts) >= 24, w
    flow = lab.out("get counter flow")
    per = re.findall(r"worker (\d): session hits (\d+), on another worker's sessions (\d+)", flow)
    assert len(per) == 2, flow
    # both workers translated, and some packets hit sessions the other worker made
    assert all(int(h) > 0 for _, h, _ in per), flow
    assert sum(int(f) for _, _, f in per) > 0, flow
    # get worker (issue 16): af_packet takes no RSS key, so both ports are in
    # fallback, and the same non-owner packets are counted there.
    gw = lab.out("get worker")
    assert re.search(r"^ethernet4/1\s+net_af_packet\d\s+2 fallback\s+0\s+0\s+no TCP/UDP hash$", gw, re.M), gw
    rows = re.findall(r"^\s+(\d)\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s+(\d+)\s+\d+$", gw, re.M)
    assert len(rows) == 2 and sum(int(c) for _, c, _ in rows) >= 24, gw
    assert sum(int(n) for _, _, n in rows) > 0, gw
    wait_file(os.path.join(lab.tmp, "u.out"), *(f"f{i}\n" for i in range(24)))


def test_icmp_errors_translated_back(lab):
    # The server's kernel answers UDP to a closed port with ICMP port unreachable,
    # addressed to the public address; dpnat must hand it to the inside host with
    # the quoted header turned back, or the host's socket never hears of it.
    fw, (c1, c2), srv = kb_lab(lab)
    code = ("import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"s.bind(('0.0.0.0', 4444)); s.connect(('172.19.50.129', 9999)); s.settimeout({WAIT})\n"
            "s.send(b'anyone?')\n"
            "try:\n"
            "    s.recv(100); print('answer')\n"
            "except ConnectionRefusedError:\n"
            "    print('refused')\n"
            "except socket.timeout:\n"
            "    print('timeout')\n")
    path = os.path.join(lab.tmp, "unreach.py")
    open(path, "w").write(code)
    out = lab.run(c1, f"/usr/bin/python3 {path}").stdout.strip()
    assert out == "refused", out
    # and the same for TCP: a RST from the closed port reaches the right host
    r = lab.run(c2, f"bash -c 'nc -z -w {WAIT} 172.19.50.129 9998; echo rc=$?'", check=False).stdout
    assert "rc=1" in r
    flow = lab.out("get counter flow")
    assert re.search(r"icmp-err-no-session\s+0\b", flow), flow


def test_session_follows_next_hop_mac_change(lab):
    # Established sessions keep each direction's egress interface and next-hop
    # MAC; a neighbour that changes (here the server's new MAC, installed as a
    # static ARP entry by a reload) must reach the packets of a session that
    # already exists, or they go to the old MAC and the server never sees them.
    fw, (c1, c2), srv = kb_lab(lab)
    out = os.path.join(lab.tmp, "u.out")
    lab.spawn(srv, "nc -u -l -k -p 7000", stdout=open(out, "w"))
    lab.wait_port(srv, 7000, "udp")
    send = "bash -c 'echo {} | nc -u -q 0 -w 1 -p 3000 172.19.50.129 7000'"
    lab.run(c1, send.format("one"), check=False)
    assert "Total 1 sessions" in lab.out_when("get session protocol udp", "Total 1 sessions")
    lab.run(c1, send.format("two"), check=False)
    wait_file(out, "two")
    lab.run(srv, "ip link set dev eth0 address 02:00:00:aa:bb:cc")
    with open(os.path.join(lab.tmp, "dpnat.conf"), "a") as f:
        f.write("set arp 172.19.50.129 02:00:00:aa:bb:cc ethernet4/1\n")
    lab.dpnat.send_signal(signal.SIGHUP)
    lab.wait_out("get arp", r"^ 172\.19\.50\.129\s+020000aabbcc ")
    lab.run(c1, send.format("three"), check=False)
    got = wait_file(out, "three")
    assert "one" in got and "two" in got and "three" in got, got
    # the same session carried all three
    assert "Total 1 sessions" in lab.out("get session protocol udp")
