# SPDX-License-Identifier: BSD-3-Clause
"""Issue 2: dpnat as a router between namespaces (no NAT)."""
import os
import re
import time

from lab import DPNAT, WAIT, sh, wait_file

ROUTED = '''set interface "trust0" zone "Trust"
set interface "untrust0" zone "Untrust"
set interface trust0 ip 10.1.0.1/24
set interface trust0 route
set interface untrust0 ip 10.2.0.1/24
set interface untrust0 route
set interface trust0 port net_af_packet0
set interface untrust0 port net_af_packet1
set interface "spare" zone "Trust"
set policy id 1 from "Trust" to "Untrust" "Any" "Any" "ANY" permit
set policy id 2 from "Untrust" to "Trust" "Any" "Any" "ANY" permit
set route 10.9.0.0/16 interface untrust0 gateway 10.2.0.2
set worker idle-sleep 100
'''


def routed(lab):
    fw = lab.ns("fw")
    a = lab.ns("a")
    b = lab.ns("b")
    lab.veth(fw, "fwa", a, "eth0")
    lab.veth(fw, "fwb", b, "eth0")
    lab.addr(a, "eth0", "10.1.0.2/24", gw="10.1.0.1")
    lab.addr(b, "eth0", "10.2.0.2/24", gw="10.2.0.1")
    # b also owns 10.9.0.9 behind the static route
    sh(f"ip -n {b} addr add 10.9.0.9/32 dev lo")
    lab.start_dpnat(fw, ["fwa", "fwb"], ROUTED)
    return fw, a, b


def test_ping_arp_and_routing(lab):
    fw, a, b = routed(lab)
    # dpnat answers ARP and echo for its own addresses
    lab.run(a, "ping -c 2 -W 10 10.1.0.1")
    neigh = lab.run(a, "ip neigh show 10.1.0.1").stdout
    assert "lladdr" in neigh
    # routed both ways, TTL decremented by one hop
    r = lab.run(a, "ping -c 3 -W 10 10.2.0.2").stdout
    assert "3 received" in r
    assert re.search(r"ttl=63", r)
    lab.run(b, "ping -c 2 -W 10 10.1.0.2")
    # static route with a gateway
    lab.run(a, "ping -c 2 -W 10 10.9.0.9")
    arp = lab.out("get arp")
    assert "10.1.0.2" in arp and "10.2.0.2" in arp
    route = lab.out("get route")
    assert "10.9.0.0/16" in route and "10.2.0.2" in route
    assert "10.1.0.0/24" in route
    intf = lab.out("get interface")
    assert re.search(r"^trust0\s+10\.1\.0\.1/24\s+Trust\s+[0-9a-f]{12}\s+U\s+net_af_packet0", intf, re.M), intf
    assert re.search(r"^spare\s+\S+\s+Trust\s+-\s+D\s", intf, re.M), intf


def test_tcp_udp_through(lab):
    fw, a, b = routed(lab)
    srv = lab.spawn(b, "nc -l -p 5001 -q 1 > /dev/null")
    lab.wait_port(b, 5001)
    r = lab.run(a, f"bash -c 'head -c 200000 /dev/zero | tr \"\\\\0\" x | nc -q 1 -w {WAIT} 10.2.0.2 5001'")
    assert r.returncode == 0
    srv.wait(timeout=WAIT)
    assert srv.returncode == 0
    lab.spawn(b, "nc -u -l -p 5002 -W 1", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(b, 5002, "udp")
    lab.run(a, "bash -c 'echo hello-udp | nc -u -q 1 -w 1 10.2.0.2 5002'")
    wait_file(os.path.join(lab.tmp, "u.out"), "hello-udp")


def test_ttl_and_drops(lab):
    fw, a, b = routed(lab)
    r = lab.run(a, "ping -c 1 -W 10 -t 1 10.2.0.2", check=False).stdout
    assert "Time to live exceeded" in r and "10.1.0.1" in r
    # no route: counted
    lab.run(a, "ping -c 1 -W 1 10.77.0.1", check=False)
    flow = lab.wait_out("get counter flow", r"no-route\s+[1-9]")
    assert re.search(r"ttl-exceeded\s+[1-9]", flow), flow
    st = lab.out("get counter statistics")
    assert "trust0" in st


def test_clean_shutdown_and_errors(lab):
    fw, a, b = routed(lab)
    assert os.path.exists(lab.sock)
    assert lab.stop_dpnat() == 0
    assert not os.path.exists(lab.sock)
    # a missing config: one line, non-zero
    r = sh(f"{DPNAT} --no-pci --no-huge --no-shconf -m 256 --file-prefix {lab.tag}x -l 0 "
           f"--log-level=lib.eal:error -- -f /nonexistent.conf -s {lab.sock}", check=False)
    assert r.returncode != 0
    assert "/nonexistent.conf" in r.stderr
    # wrong arguments
    r = sh(f"{DPNAT} --no-pci --no-huge --no-shconf -m 256 --file-prefix {lab.tag}y -l 0 "
           f"--log-level=lib.eal:error -- -x", check=False)
    assert r.returncode != 0 and "usage" in r.stderr
    # a port that does not exist
    bad = os.path.join(lab.tmp, "bad.conf")
    open(bad, "w").write('set interface "t" zone "Trust"\nset interface t port net_nothing9\n')
    r = sh(f"{DPNAT} --no-pci --no-huge --no-shconf -m 256 --file-prefix {lab.tag}z -l 0-1 "
           f"--log-level=lib.eal:error -- -f {bad} -s {lab.sock}", check=False)
    assert r.returncode != 0 and "net_nothing9" in r.stderr
    # a config error names file:line
    open(bad, "w").write('set interface "t" zone "Trust"\nset interfase t nat\n')
    r = sh(f"{DPNAT} --no-pci --no-huge --no-shconf -m 256 --file-prefix {lab.tag}w -l 0-1 "
           f"--log-level=lib.eal:error -- -f {bad} -s {lab.sock}", check=False)
    assert r.returncode != 0 and f"{bad}:2" in r.stderr and "interfase" in r.stderr


def test_cli_exit_status(lab):
    fw, a, b = routed(lab)
    assert lab.cli("get interface").returncode == 0
    r = lab.cli("get nonsense", check=False)
    assert r.returncode != 0 and "nonsense" in r.stderr
    st = os.stat(lab.sock)
    assert oct(st.st_mode & 0o777) == "0o660"
