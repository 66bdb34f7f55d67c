# SPDX-License-Identifier: BSD-3-Clause
"""The HA pair (issue 17, docs/ha.md): two real dpnat processes, each in its
own namespace with its own keepalived (VRRPv3 on the HA link, 0.1 s
adverts, dpnat's health as track_script, notify calling the CLI), both on the
same client and server LANs. A TCP stream and a UDP flow run through NAT
while the active box dies (kill -9 of dpnat and keepalived), the old box comes
back as standby (bulk sync), and the pair switches back gracefully. The
flows must continue on the same public address and port, the TCP connection
must see no RST and lose no byte; the traffic gaps are measured from the
endpoints' timestamped logs (both directions).
"""
import json
import os
import re
import signal
import subprocess
import time

from lab import CLI, DPNAT, KB_LAB, ROOT, WAIT, sh, wait_until
from test_ops import fetch, metric

HERE = os.path.dirname(os.path.abspath(__file__))
KA = os.path.join(ROOT, "contrib", "keepalived")
PUB = "172.19.51.234"
HA = {"a": "10.255.0.1", "b": "10.255.0.2"}


def box_conf(me, peer, extra=""):
    return KB_LAB + extra + (f"set nsrp local {HA[me]}\nset nsrp peer {HA[peer]}\nset nsrp cluster id 1\n"
                     "set metrics listen 127.0.0.1:19472\n")


def ka_conf(lab, me, peer, prio, sock, flag):
    env = f"DPNAT_CLI={CLI}"
    return f"""global_defs {{
    router_id dpnat-{me}
    vrrp_version 3
    script_user root
}}
vrrp_script dpnat_health {{
    script "/usr/bin/env {env} {KA}/dpnat-ha-check {sock} {flag}"
    interval 1
    fall 1
    rise 1
}}
vrrp_instance dpnat {{
    state BACKUP
    nopreempt
    interface ha0
    virtual_router_id 51
    priority {prio}
    advert_int 0.1
    unicast_src_ip {HA[me]}
    unicast_peer {{
        {HA[peer]}
    }}
    virtual_ipaddress {{
        10.255.0.254/32 dev ha0
    }}
    track_script {{
        dpnat_health
    }}
    notify "/usr/bin/env {env} {KA}/dpnat-ha-notify {sock}"
}}
"""


class Box:
    """One box of the pair: its namespace, dpnat and keepalived."""

    def __init__(self, lab, name, peer, prio):
        self.lab, self.name, self.peer, self.prio = lab, name, peer, prio
        self.extra = ""
        self.ns = lab.ns(f"fw{name}")
        self.sock = os.path.join(lab.tmp, f"{name}.sock")
        self.flag = os.path.join(lab.tmp, f"{name}.maint")
        self.log = os.path.join(lab.tmp, f"{name}.log")
        self.dp = None
        self.ka = None
        self.runs = 0

    def start_dpnat(self):
        conf = os.path.join(self.lab.tmp, f"{self.name}.conf")
        with open(conf, "w") as f:
            f.write(box_conf(self.name, self.peer, self.extra))
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.runs += 1
        vdevs = " ".join(f"--vdev=net_af_packet{i},iface={p}" for i, p in enumerate(("fwt", "fwu")))
        self.dp = self.lab.spawn(
            self.ns, f"{DPNAT} --no-pci {self.lab.eal_mem} --file-prefix {self.lab.tag}{self.name}{self.runs} "
            f"--lcores 0,1 --log-level=lib.eal:error {vdevs} -- -f {conf} -s {self.sock}",
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        wait_until(lambda: os.path.exists(self.sock) and self.cli("get nsrp", check=False).returncode == 0,
                   2 * WAIT, f"dpnat {self.name} answering ({self.log})")

    def start_keepalived(self):
        d = os.path.join(self.lab.tmp, f"ka{self.name}")
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "keepalived.conf")
        with open(conf, "w") as f:
            f.write(ka_conf(self.lab, self.name, self.peer, self.prio, self.sock, self.flag))
        self.pids = [os.path.join(d, x) for x in ("ka.pid", "vrrp.pid", "chk.pid")]
        for p in self.pids:
            if os.path.exists(p):
                os.unlink(p)
        self.ka = self.lab.spawn(self.ns, f"keepalived -n -l -D -f {conf} -p {self.pids[0]} -r {self.pids[1]} "
                                 f"-c {self.pids[2]}", stdout=open(os.path.join(d, "log"), "a"),
                                 stderr=subprocess.STDOUT)

    def cli(self, cmd, check=True):
        r = sh(f"{CLI} -s {self.sock} {cmd}", check=False, timeout=2 * WAIT)
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.name}: {cmd!r} failed: {r.stdout}{r.stderr}")
        return r

    def nsrp(self):
        r = self.cli("get nsrp", check=False)
        return r.stdout if r.returncode == 0 else ""

    def wait_nsrp(self, pattern, timeout=WAIT):
        last = [""]

        def ok():
            last[0] = self.nsrp()
            return last[0] if re.search(pattern, last[0], re.M) else None
        return wait_until(ok, timeout, f"{pattern!r} in box {self.name}'s get nsrp", seen=lambda: last[0])

    def die(self):
        """The box dies: dpnat and keepalived killed at once (kill -9)."""
        pids = [self.dp.pid]
        for p in self.pids:
            try:
                pids.append(int(open(p).read()))
            except (OSError, ValueError):
                pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.dp.wait(timeout=WAIT)
        self.ka.wait(timeout=WAIT)


def counter(text, name):
    m = re.search(name, text, re.M)
    assert m, (name, text)
    return int(m.group(1))


def read_log(path):
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def max_gap(times, t0, t1):
    """Longest silence between consecutive events that ends in [t0, t1]."""
    times = sorted(times)
    gaps = [b - a for a, b in zip(times, times[1:]) if t0 <= b <= t1]
    return max(gaps) if gaps else None


def topology(lab):
    sw = lab.ns("sw")
    c1 = lab.ns("c1")
    srv = lab.ns("srv")
    a = Box(lab, "a", "b", 150)
    b = Box(lab, "b", "a", 100)
    lab.veth(c1, "eth0", sw, "swc1")
    lab.veth(srv, "eth0", sw, "sws")
    lab.veth(a.ns, "fwt", sw, "swat")
    lab.veth(a.ns, "fwu", sw, "swau")
    lab.veth(b.ns, "fwt", sw, "swbt")
    lab.veth(b.ns, "fwu", sw, "swbu")
    lab.veth(a.ns, "ha0", b.ns, "ha0")
    lab.bridge(sw, "brt", ["swc1", "swat", "swbt"])
    lab.bridge(sw, "bru", ["sws", "swau", "swbu"])
    lab.addr(c1, "eth0", "60.60.60.2/24", gw="60.60.60.1")
    lab.addr(srv, "eth0", "172.19.50.129/23")
    lab.addr(a.ns, "ha0", f"{HA['a']}/24")
    lab.addr(b.ns, "ha0", f"{HA['b']}/24")
    return c1, srv, a, b


def start_pair(a, b, dpnat_a=True):
    """Box a active, then box b standby with its bulk sync, each with its keepalived."""
    if dpnat_a:
        a.start_dpnat()
    a.start_keepalived()
    a.wait_nsrp(r"role: active", timeout=2 * WAIT)
    b.start_dpnat()
    b.start_keepalived()
    b.wait_nsrp(r"role: standby", timeout=2 * WAIT)
    b.wait_nsrp(r"bulk sync: [1-9]\d* requested, 0 asked of us, 0 sent, [1-9]\d* received")


def test_failover_keeps_tcp_and_udp(lab):
    c1, srv, a, b = topology(lab)
    a.start_dpnat()
    # In a pair and not yet told: forwards nothing.
    assert re.search(r"role: init .*forwarding: no", a.nsrp()), a.nsrp()
    start_pair(a, b, dpnat_a=False)

    # Sync from anyone but the peer is refused and counted: a well-formed hello from another address.
    hello = "struct.pack('!IBBBBIIHHI', 0x44504841, 1, 3, 3, 1, 7, 99, 0, 0, 0)"
    lab.run(b.ns, "/usr/bin/python3 -c \"import socket, struct; s = socket.socket(2, 2); "
            f"s.bind(('127.0.0.1', 0)); s.sendto({hello}, ('{HA['b']}', 7100))\"")
    b.wait_nsrp(r"refused:\s+1 from a non-peer")
    assert re.search(r"peer: role active", b.nsrp()), b.nsrp()

    logs = {k: os.path.join(lab.tmp, f"{k}.jsonl") for k in ("ts", "us", "tc", "uc")}
    stop = os.path.join(lab.tmp, "stop")
    py = "/usr/bin/python3 " + os.path.join(HERE, "ha_traffic.py")
    lab.spawn(srv, f"{py} tcp-server 8080 {logs['ts']}")
    lab.spawn(srv, f"{py} udp-server 5353 {logs['us']}")
    lab.wait_port(srv, 8080)
    lab.wait_port(srv, 5353, "udp")
    tc = lab.spawn(c1, f"{py} tcp-client 172.19.50.129 8080 40000 {logs['tc']} {stop}")
    uc = lab.spawn(c1, f"{py} udp-client 172.19.50.129 5353 3000 {logs['uc']} {stop}")

    def echoes(k):
        return sum(1 for e in read_log(logs[k]) if e["ev"] == "echo") if os.path.exists(logs[k]) else 0
    wait_until(lambda: echoes("tc") > 50 and echoes("uc") > 50, WAIT, "echoes through box a")
    # Both sessions are on the standby, refreshed with the stream's TCP state.
    b.wait_nsrp(r"installed: [2-9]")
    b.wait_nsrp(r"refreshed [1-9]")
    time.sleep(1.5)   # a refresh interval of traffic

    # 1. The active box dies.
    n0 = echoes("tc"), echoes("uc")
    t_kill = time.monotonic()
    a.die()
    b.wait_nsrp(r"role: active", timeout=WAIT)
    wait_until(lambda: echoes("tc") > n0[0] + 100 and echoes("uc") > n0[1] + 100, WAIT,
               "echoes through box b after the failover")
    view = b.nsrp()
    assert counter(view, r"gratuitous arp: (\d+) sent") >= 1, view
    # The same in the metrics.
    rc, body = fetch(lab, b.ns, "http://127.0.0.1:19472/metrics")
    assert rc == 0, body
    assert metric(body, "dpnat_nsrp_role") == 3
    assert metric(body, "dpnat_nsrp_installed_total") >= 2
    assert metric(body, "dpnat_nsrp_garp_sent_total") >= 1
    assert metric(body, "dpnat_nsrp_refused_total") == 1
    # A standby dropped what reached it, counted.
    assert counter(b.cli("get counter flow").stdout, r"ha-standby\s+(\d+)") > 0

    # 2. The old box comes back as standby: a bulk sync gives it the live sessions.
    a.start_dpnat()
    a.start_keepalived()
    a.wait_nsrp(r"role: standby", timeout=2 * WAIT)
    a.wait_nsrp(r"bulk sync: [1-9]\d* requested, 0 asked of us, 0 sent, [1-9]\d* received")
    a.wait_nsrp(r"installed: [2-9]")
    time.sleep(1.5)

    # 3. Graceful switch back: box b's health fails (maintenance flag), keepalived hands over.
    n1 = echoes("tc"), echoes("uc")
    t_back = time.monotonic()
    open(b.flag, "w").close()
    a.wait_nsrp(r"role: active", timeout=WAIT)
    b.wait_nsrp(r"role: standby", timeout=WAIT)
    wait_until(lambda: echoes("tc") > n1[0] + 100 and echoes("uc") > n1[1] + 100, WAIT,
               "echoes through box a after the switch back")
    open(stop, "w").close()
    tc.wait(timeout=WAIT)
    uc.wait(timeout=WAIT)
    t_end = time.monotonic()

    tcl, ucl, tsl, usl = (read_log(logs[k]) for k in ("tc", "uc", "ts", "us"))
    # TCP: one connection, no error (no RST) at either end, every line echoed in order.
    assert [e for e in tcl + tsl if e["ev"] == "error"] == []
    assert [e for e in tcl if e["ev"] == "eof"] == []
    assert [e for e in tsl if e["ev"] == "accept"] and len([e for e in tsl if e["ev"] == "accept"]) == 1
    sent = [e for e in tcl if e["ev"] == "sent"][0]["n"]
    got = [e["n"] for e in tcl if e["ev"] == "echo"]
    assert got == list(range(sent)), (len(got), sent)
    # The same public address and port all along, TCP and UDP.
    for evs in (tsl, usl):
        peers = {e["peer"] for e in evs if e["ev"] == "rx"}
        assert len(peers) == 1 and peers.pop().startswith(PUB + ":"), {e["peer"] for e in evs}
    # Gaps, each direction: client->server at the server, server->client at the client.
    gaps = {}
    for what, t0, t1 in (("failover", t_kill, t_kill + 10), ("switch back", t_back, t_back + 10)):
        for k, evs, ev in (("tcp c->s", tsl, "rx"), ("tcp s->c", tcl, "echo"),
                           ("udp c->s", usl, "rx"), ("udp s->c", ucl, "echo")):
            gaps[(what, k)] = max_gap([e["t"] for e in evs if e["ev"] == ev], t0, min(t1, t_end))
    print("traffic gaps (s):", {f"{w} {k}": round(g, 3) for (w, k), g in gaps.items()})
    lost = [e["n"] for e in ucl if e["ev"] == "sent"][0] - len({e["n"] for e in ucl if e["ev"] == "echo"})
    print("udp datagrams not echoed:", lost)
    for (what, k), g in gaps.items():
        assert g is not None and g < 5.0, (what, k, g)
    for box in (a, b):
        v = box.nsrp()
        print(box.name, v)
        assert counter(v, r"refused:\s+(\d+) from a non-peer") == (box is b), v
        assert counter(v, r"split-brain: (\d+)") == 0, v


# Frames of n UDP flows from the client's address(es) to an absent host, sent by a raw socket:
# each makes a session on the active box (its ARP for the host fails; the session stays).
FLOOD = r'''
import socket, struct, sys, time
dmac, smac, n = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
def csum(b):
    t = sum(struct.unpack("!10H", b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
first = int(sys.argv[4]) if len(sys.argv) > 4 else 1024
for h in range((n + 49999) // 50000):
    src = socket.inet_aton("60.60.60.%d" % (2 + h))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, src, socket.inet_aton("172.19.50.200"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    head = dmac + smac + b"\x08\x00" + ip
    for p in range(first, first + min(50000, n - h * 50000)):
        s.send(head + struct.pack("!HHHH", p, 5353, 8, 0) + bytes(18))
        if p % 256 == 0:
            time.sleep(0.002)
'''


def mac_of(lab, ns, dev):
    return re.search(r"link/ether (\S+)", lab.run(ns, f"ip link show {dev}").stdout).group(1).replace(":", "")


def test_bulk_sync_100k_sessions(lab):
    """A standby that joins a box holding 100,000 sessions is in sync: time from its role
    change to every session installed (the figure of docs/ha.md)."""
    n = 100000
    c1, srv, a, b = topology(lab)
    lab.addr(c1, "eth0", "60.60.60.3/24")
    # A public address per client host: more sessions than one address has ports.
    for box in (a, b):
        box.extra = ("set interface ethernet4/1 dip 4 172.19.51.240 172.19.51.243\n"
                     'set policy id 1 from "Trust" to "Untrust" "Any" "Any" "ANY" nat src dip-id 4 permit\n')
    a.start_dpnat()
    a.cli("exec nsrp role active")
    script = os.path.join(lab.tmp, "flood.py")
    with open(script, "w") as f:
        f.write(FLOOD)

    def sessions():
        m = re.search(r"^dpnat_sessions (\d+)$", fetch(lab, a.ns, "http://127.0.0.1:19472/metrics")[1], re.M)
        return int(m.group(1)) if m else 0
    # The af_packet port's ring loses frames of a burst this fast: again until every flow made its session.
    for _ in range(10):
        if sessions() >= n:
            break
        lab.run(c1, f"/usr/bin/python3 {script} {mac_of(lab, a.ns, 'fwt')} {mac_of(lab, c1, 'eth0')} {n}",
                timeout=20 * WAIT)
    assert sessions() == n
    b.start_dpnat()
    b.wait_nsrp(r"peer: role active")
    t0 = time.monotonic()
    b.cli("exec nsrp role standby")
    view = b.wait_nsrp(rf"installed: {n},", timeout=4 * WAIT)
    t1 = time.monotonic()
    b.wait_nsrp(r"bulk sync: [1-9]\d* requested, 0 asked of us, 0 sent, [1-9]\d* received$")
    print(f"bulk sync of {n} sessions: {t1 - t0:.2f} s (role change to all installed)")
    print(view)
    assert counter(view, r"lost:\s+\d+ events \(queue full\), (\d+) messages") == 0, view
    assert counter(view, r"failed (\d+)") == 0, view
    # Every public port the active holds is held on the standby too.
    dips = [a.cli("get dip").stdout, b.cli("get dip").stdout]
    print(dips[0], dips[1])
    assert dips[0] == dips[1], dips

    # Sync lost on the link (the standby's input dropped while 1,000 sessions are made): the
    # standby sees the gap when the link is back, asks for a bulk sync and has them all.
    got0 = counter(b.nsrp(), r"bulk sync: .* (\d+) received")
    nft = ("add table inet hablock; add chain inet hablock in { type filter hook input priority 0; }; "
           "add rule inet hablock in udp dport 7100 drop")
    lab.run(b.ns, f"nft '{nft}'")
    lab.run(c1, f"/usr/bin/python3 {script} {mac_of(lab, a.ns, 'fwt')} {mac_of(lab, c1, 'eth0')} 1000 60000",
            timeout=20 * WAIT)
    wait_until(lambda: sessions() >= n + 1000, 2 * WAIT, f"{n + 1000} sessions on box a")
    time.sleep(1)   # the hellos of the blocked second are lost too
    lab.run(b.ns, "nft delete table inet hablock")
    view = b.wait_nsrp(rf"installed: {n + 1000},", timeout=4 * WAIT)
    assert counter(view, r"lost:\s+\d+ events \(queue full\), (\d+) messages") > 0, view
    wait_until(lambda: counter(b.nsrp(), r"bulk sync: .* (\d+) received") > got0, 4 * WAIT,
               "a bulk sync after the gap")

    # Split brain: both told active. Both forward; each counts the other's messages.
    b.cli("exec nsrp role active")
    for box in (a, b):
        box.wait_nsrp(r"split-brain: [1-9]")


def xlate_line(box):
    """The one PPTP xlate entry a box shows: 'client/cid->server xlated to pub/xcid->server(scid)'."""
    out = box.cli("get alg pptp xlate").stdout
    lines = re.findall(r"^(60\.60\.60\.2/\d+->172\.19\.50\.129 xlated to \S+/\d+->172\.19\.50\.129\(\d+\), "
                       r"src-port:\d+)", out, re.M)
    return lines[0] if lines else None


def test_pptp_call_survives_failover(lab):
    """A PPTP call (real pptpd and pptp-linux) up through box a keeps carrying PPP both ways
    through box b after box a dies, and through box a again after it comes back as standby
    and takes over gracefully, with the same Call IDs and public address throughout."""
    import pptp_peers as pp
    c1, srv, a, b = topology(lab)
    start_pair(a, b)
    server = pp.start_server(srv, lab.tmp, "192.168.77.1", "192.168.77.10-20")
    lab.handles.append(server)
    h = pp.start_client(c1, lab.tmp, "172.19.50.129", "c1")
    lab.handles.append(h)
    assert h.wait_up(timeout=2 * WAIT), h.log
    h.send("before")
    assert "before" in h.recv_pongs(timeout=WAIT)
    # The standby holds the same call: client, translated and server Call IDs.
    want = wait_until(lambda: xlate_line(a), WAIT, "the call's xlate entry on box a")
    wait_until(lambda: xlate_line(b) == want, WAIT, f"{want} on box b", seen=lambda: xlate_line(b))
    gre_b = b.cli("get session protocol 47").stdout
    assert "Total 2 sessions" in gre_b, gre_b
    time.sleep(1.5)   # a refresh interval

    a.die()
    b.wait_nsrp(r"role: active", timeout=WAIT)
    got = []
    for i in range(10):
        h.send(f"after-{i}")
        got += h.recv_pongs(timeout=1.0)
    got += h.recv_pongs(timeout=WAIT, count=max(1, 10 - len(got)))
    print("PPP echoes after the failover:", got)
    print(b.cli("get counter flow").stdout)
    # PPP over GRE is datagrams: the first frames may meet an unresolved next hop; the call carries on.
    assert len(got) >= 8 and "after-9" in got, got
    assert xlate_line(b) == want, (xlate_line(b), want)
    assert len(server.calls()) == 1, server.calls()
    flow = b.cli("get counter flow").stdout
    assert re.search(r"gre-no-gate\s+0\b", flow), flow

    # The old box comes back as standby (the call in its bulk sync), then takes over gracefully.
    a.start_dpnat()
    a.start_keepalived()
    a.wait_nsrp(r"role: standby", timeout=2 * WAIT)
    wait_until(lambda: xlate_line(a) == want, 2 * WAIT, f"{want} on the returned box a",
               seen=lambda: xlate_line(a))
    open(b.flag, "w").close()
    a.wait_nsrp(r"role: active", timeout=WAIT)
    b.wait_nsrp(r"role: standby", timeout=WAIT)
    got = []
    for i in range(10):
        h.send(f"back-{i}")
        got += h.recv_pongs(timeout=1.0)
    got += h.recv_pongs(timeout=WAIT, count=max(1, 10 - len(got)))
    print("PPP echoes after the switch back:", got)
    assert len(got) >= 8 and "back-9" in got, got
    assert xlate_line(a) == want, (xlate_line(a), want)
    assert len(server.calls()) == 1, server.calls()
    pp.stop_all([h])
    # The client's hang-up (Call-Clear, Stop-Control, FIN) is translated by box a: the call ends
    # there, and on box b, told by box a.
    wait_until(lambda: xlate_line(a) is None, 2 * WAIT, "the call torn down on box a")
    wait_until(lambda: xlate_line(b) is None, 2 * WAIT, "the call torn down on box b")
    print(want)
