# SPDX-License-Identifier: BSD-3-Clause
"""Issue 21: jumbo frames. The KB lab with every link at MTU 9000 and dpnat
on net_pcap ports (of DPDK 22.11's devices on a kernel interface, the one
that carries frames longer than an mbuf: af_packet copies into one mbuf and
tap refuses to send them; see docs/configuration.md): 9000-byte ICMP, UDP
and TCP segments cross the NAT as chains of mbufs, dpnat answers a 9000-byte
echo itself, and with the Untrust
side at 1500 a 9000-byte DF packet gets fragmentation needed with 1500."""
import os
import re

from lab import kb_topology, KB_LAB, wait_until, WAIT

SRV = "172.19.50.129"
CONF = (KB_LAB.replace("net_af_packet", "net_pcap") +
        "set interface ethernet4/1 mtu 9000\nset interface ethernet4/2 mtu 9000\n")


def jumbo_lab(lab):
    fw, (c1,), srv = kb_topology(lab, n_clients=1)
    for ns, dev in ((c1, "eth0"), (f"{lab.tag}-sw", "swc1"), (f"{lab.tag}-sw", "swfw"),
                    (f"{lab.tag}-sw", "br0"), (fw, "fwt"), (fw, "fwu"), (srv, "eth0")):
        lab.run(ns, f"ip link set {dev} mtu 9000")
    vdevs = " ".join(f"--vdev=net_pcap{i},rx_iface_in={p},tx_iface={p}"
                     for i, p in enumerate(("fwt", "fwu")))
    lab.start_dpnat(fw, [], CONF, extra_eal=vdevs)
    return fw, c1, srv


def counter(lab, name):
    m = re.search(rf"^\s*{re.escape(name)}\s+(\d+)", lab.out("get counter flow"), re.M)
    return int(m.group(1)) if m else 0


def test_jumbo_through_nat(lab):
    fw, c1, srv = jumbo_lab(lab)
    # The ports took chains at start, and say so.
    log = wait_until(lambda: (lambda t: t if "takes more than one mbuf" in t else None)(open(lab.log).read()),
                     WAIT, "the jumbo line in the log")
    assert re.search(r"port net_pcap0 \(net_pcap\): MTU 9000 takes more than one mbuf a frame: "
                     r"receive scatter on, multi-segment send on", log), log
    # pcap cannot set an MTU (software check), and carries any frame: no "port max".
    intf = lab.out("get interface")
    assert re.search(r"^ethernet4/1\s.*\sroute\s+9000 \(sw\)$", intf, re.M), intf

    # ICMP: a 9000-byte DF echo and its 9000-byte reply.
    r = lab.run(c1, f"ping -c 1 -W 5 -M do -s {9000 - 28} {SRV}", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{9000 - 20} bytes from {SRV}" in r.stdout, r.stdout

    # dpnat answers a 9000-byte echo itself (its checksum summed across the chain).
    r = lab.run(c1, f"ping -c 1 -W 5 -M do -s {9000 - 28} 60.60.60.1", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{9000 - 20} bytes from 60.60.60.1" in r.stdout, r.stdout

    # UDP: one 9000-byte DF datagram (8972 bytes of data), translated to the interface's address.
    got = os.path.join(lab.tmp, "udp.txt")
    lab.spawn(srv, "/usr/bin/python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                   "s.bind(('0.0.0.0', 5353)); d, a = s.recvfrom(65535); "
                   f"open('{got}', 'w').write('%d %s' % (len(d), a[0]))\"")
    lab.wait_port(srv, 5353, "udp")
    lab.run(c1, "/usr/bin/python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                "s.setsockopt(socket.IPPROTO_IP, 10, 2); "   # IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF
                f"s.sendto(bytes(range(256)) * 35 + b'x' * 12, ('{SRV}', 5353))\"")
    wait_until(lambda: os.path.exists(got) and open(got).read(), WAIT, "the datagram at the server")
    assert open(got).read() == "8972 172.19.51.234"

    # TCP: 1 MB up with 8960-byte segments (MSS from the 9000 MTU both ends), counted to the end.
    out = os.path.join(lab.tmp, "tcp.txt")
    lab.spawn(srv, "/usr/bin/python3 -c \"import socket; s = socket.socket(); "
                   "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8080)); "
                   "s.listen(1); c, a = s.accept(); n = 0; big = 0\n"
                   "while True:\n d = c.recv(65536)\n if not d: break\n n += len(d)\n"
                   f"open('{out}', 'w').write('%d %d %s' % (n, c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG), a[0]))\"")
    lab.wait_port(srv, 8080, "tcp")
    lab.run(c1, "/usr/bin/python3 -c \"import socket; s = socket.create_connection(('%s', 8080), timeout=60); "
                "s.sendall(b'y' * 1000000); s.close()\"" % SRV, timeout=120)
    wait_until(lambda: os.path.exists(out) and open(out).read(), WAIT, "the TCP count at the server")
    n, mss, peer = open(out).read().split()
    assert (int(n), peer) == (1000000, "172.19.51.234")
    assert int(mss) > 8000, mss
    assert counter(lab, "multi-seg") == 0 and counter(lab, "tx-multi-seg") == 0

    # The Untrust side at 1500: a 9000-byte DF packet gets fragmentation needed with 1500,
    # quoting the packet as sent (or the client's kernel would not take it).
    lab.cli("set interface ethernet4/1 mtu 1500")
    r = lab.run(c1, f"ping -c 1 -W 5 -M do -s {9000 - 28} {SRV}", check=False)
    assert r.returncode != 0
    assert "Frag needed and DF set (mtu = 1500)" in r.stdout, r.stdout + r.stderr
    wait_until(lambda: counter(lab, "frag-needed") >= 1, WAIT, "frag-needed counted")
    # At the new MTU it passes.
    r = lab.run(c1, f"ping -c 1 -W 5 -M do -s {1500 - 28} {SRV}", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
