# SPDX-License-Identifier: BSD-3-Clause
"""Issue 21: 802.1Q subinterfaces. The KB lab with its Untrust side on a
trunk: `ethernet4/1.1 tag 100` carries 172.19.51.234/23 to the server's
VLAN 100 (eth0.100 in the server namespace), while ethernet4/1 itself keeps
untagged traffic (10.99.0.0/24) on the same port. Sessions and NAT work
across the subinterface as across a port; a tag with no subinterface is a
counted drop."""
import os
import re
import time

from lab import KB_LAB, kb_topology
from test_napt import listen_tcp, tcp_client

SRV = "172.19.50.129"
HERE = os.path.dirname(os.path.abspath(__file__))

TAGGED = KB_LAB.replace(
    "set interface ethernet4/1 ip 172.19.51.234/23\nset interface ethernet4/1 route\n",
    'set interface ethernet4/1 ip 10.99.0.1/24\n'
    'set interface ethernet4/1 route\n'
    'set interface "ethernet4/1.1" tag 100 zone "Untrust"\n'
    'set interface ethernet4/1.1 ip 172.19.51.234/23\n'
    'set interface ethernet4/1.1 route\n')


def counter(lab, name):
    m = re.search(rf"^\s*{re.escape(name)}\s+(\d+)", lab.out("get counter flow"), re.M)
    return int(m.group(1)) if m else 0


def wait_counter(lab, name, at_least, timeout=30.0):
    end = time.monotonic() + timeout
    while counter(lab, name) < at_least and time.monotonic() < end:
        time.sleep(0.1)
    return counter(lab, name)


def tagged_lab(lab):
    """The KB lab whose server side is a trunk: namespace srv is an 802.1Q
    switch (vlan_switch.py) with the server on VLAN 100, a host 10.99.0.2 on
    the untagged VLAN and one 10.200.0.2 on VLAN 200, which dpnat has no
    subinterface for. Returns (fw, clients, {vlan: host namespace})."""
    assert TAGGED != KB_LAB
    fw, clients, sw = kb_topology(lab)
    lab.run(sw, "ip addr flush dev eth0")
    lab.run(sw, "ip link set eth0 promisc on")
    hosts, ports = {}, []
    for tag, cidr in ((100, f"{SRV}/23"), (0, "10.99.0.2/24"), (200, "10.200.0.2/24")):
        h = lab.ns(f"h{tag}")
        lab.veth(sw, f"a{tag}", h, "eth0")
        lab.run(sw, f"ip link set a{tag} promisc on")
        lab.addr(h, "eth0", cidr)
        hosts[tag] = h
        ports.append(f"{tag}=a{tag}")
    lab.spawn(sw, f"/usr/bin/python3 {os.path.join(HERE, 'vlan_switch.py')} eth0 {' '.join(ports)}")
    lab.start_dpnat(fw, ["fwt", "fwu"], TAGGED)
    return fw, clients, hosts


def test_nat_through_tagged_uplink(lab):
    fw, (c1, c2), hosts = tagged_lab(lab)
    srv = hosts[100]
    intf = lab.out("get interface")
    assert re.search(r"^ethernet4/1\.1\s+172\.19\.51\.234/23\s+Untrust\s+[0-9a-f]{12}\s+U\s+net_af_packet1\s",
                     intf, re.M), intf
    assert 'set interface "ethernet4/1.1" tag 100 zone "Untrust"' in lab.out("get config")

    # TCP from both inside hosts, translated to the subinterface's address.
    p, log = listen_tcp(lab, srv, 8080, 2)
    assert tcp_client(lab, c1, SRV, 8080, 40000, "from-c1") == "echo:from-c1"
    assert tcp_client(lab, c2, SRV, 8080, 40000, "from-c2") == "echo:from-c2"
    p.wait(timeout=10)
    seen = [l.split() for l in open(log).read().splitlines()]
    assert [s[0] for s in seen] == ["172.19.51.234", "172.19.51.234"]

    # UDP too.
    got = os.path.join(lab.tmp, "u.out")
    u = lab.spawn(srv, "timeout 10 nc -u -l -p 5353", stdout=open(got, "w"))
    time.sleep(0.3)
    lab.run(c1, f"bash -c 'echo tagged-udp | nc -u -q 0 -w 1 -p 3000 {SRV} 5353'", check=False)
    out = lab.out_when("get session protocol udp", "Total 1 sessions")
    assert re.search(r"172\.19\.51\.234/\d+<-172\.19\.50\.129/5353,17", out), out
    u.wait(timeout=15)
    assert "tagged-udp" in open(got).read()

    # Untagged traffic on the same port still goes by ethernet4/1.
    r = lab.run(c1, "ping -c 2 -W 2 10.99.0.2", check=False)
    assert "2 received" in r.stdout, r.stdout
    out = lab.out("get session protocol icmp")
    assert "10.99.0.1/" in out, out

    # A tag no subinterface has is dropped and counted (the server ARPs on VLAN 200).
    lab.run(hosts[200], "ping -c 1 -W 1 10.200.0.1", check=False)
    assert wait_counter(lab, "vlan-unknown", 1) >= 1

    # The subinterface's own MTU: a DF datagram above it gets fragmentation needed back.
    lab.cli("set interface ethernet4/1.1 mtu 1280")
    r = lab.run(c2, f"ping -c 1 -W 3 -M do -s 1372 {SRV}", check=False)
    assert "Frag needed and DF set (mtu = 1280)" in r.stdout, r.stdout + r.stderr
    r = lab.run(c2, "ping -c 1 -W 3 -M do -s 1372 10.99.0.2", check=False)
    assert r.returncode == 0, r.stdout + r.stderr   # the parent keeps 1500


def test_pptp_kb_through_tagged_untrust(lab):
    """The KB's two PPTP calls with the scripted peers, the server on VLAN 100."""
    from test_pptp_kb import PUB, client, start_server

    fw, (c1, c2), hosts = tagged_lab(lab)
    s = start_server(lab, hosts[100])
    a = client(lab, c1, 32768, 4762, "c1")
    b = client(lab, c2, 16384, 2249, "c2")
    s.wait_for("ocrq", server_cid=999)
    oq = [e for e in s.events if e["event"] == "ocrq"]
    assert [e["src"] for e in oq] == [PUB, PUB]
    ea, eb = a.wait_for("ocrp"), b.wait_for("ocrp")
    assert (ea["peer_cid"], ea["server_cid"]) == (32768, 17382)
    assert (eb["peer_cid"], eb["server_cid"]) == (16384, 999)
    # GRE both ways through the gates, across the subinterface.
    ga, gb = a.wait_for("gre_echo"), b.wait_for("gre_echo")
    assert ga["ok"] and ga["rx_call_id"] == 32768 and ga["from_"] == SRV
    assert gb["ok"] and gb["rx_call_id"] == 16384 and gb["from_"] == SRV
    s.wait_for("gre", call_id=17382, src=PUB)
    s.wait_for("gre", call_id=999, src=PUB)
    assert "Total 4 sessions" in lab.out("get session protocol 47")
    a.send("clear")
    a.wait_for("cdn")
    b.send("clear")
    b.wait_for("cdn")
