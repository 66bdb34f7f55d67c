# SPDX-License-Identifier: BSD-3-Clause
"""Issue 18, carrier-grade NAT with real traffic through the KB lab: port
blocks logged per block at a real rsyslog (allocate, interim, release, the
quota record of a subscriber at its maximum) with their views and metrics;
a deterministic pool whose translation the server sees is what the CLI
computes both ways; the per-subscriber port limit."""
import re

from lab import WAIT, kb_lab, wait_until
from test_natlog import PORT, rsyslog
from test_napt import listen_tcp, tcp_client
from test_ops import fetch, metric
from test_reliability import flow, flow_grown

PUB = "172.19.51.234"
SERVER = "172.19.50.129"
PBA = re.compile(r"\[Root\]dpnat-port-block: src=(\S+) src-xlated ip=(\S+) port-start=(\d+) "
                 r"port-end=(\d+) reason=(\S+)$")
QUOTA = re.compile(r"\[Root\]dpnat-quota: src=(\S+) quota=(\S+) limit=(\d+) reason=Exceeded$")


def lines(path, rx):
    try:
        text = open(path).read()
    except FileNotFoundError:
        text = ""
    return [m.groups() for m in map(rx.search, text.splitlines()) if m]


def udp_burst(lab, ns, sports, dport=5353):
    """One datagram from each source port, from one process."""
    code = ("import socket\n"
            f"for p in range({sports.start}, {sports.stop}):\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "    s.bind(('0.0.0.0', p))\n"
            f"    s.sendto(b'x', ('{SERVER}', {dport}))\n"
            "    s.close()\n")
    lab.run(ns, f"/usr/bin/python3 -c \"{code}\"")


def test_port_blocks_logged_per_block(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=(
        "set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit nat src\n"
        "set nat port-block size 64\nset nat port-block max-blocks 1\n"
        f"set log nat enable\nset syslog config 127.0.0.1 port {PORT}\nset syslog enable\n"
        "set session timeout udp 600\nset metrics listen 127.0.0.1:19472\n"))
    out = rsyslog(lab, fw)
    base = flow(lab)
    # 40 flows of one subscriber: one block, one record.
    udp_burst(lab, c1, range(3000, 3040))
    lab.wait_out("get session", "^Total 40 sessions")
    view = lab.out("get nat port-block")
    m = re.search(r"^60\.60\.60\.2\s+172\.19\.51\.234\s+1\s+40\s+(\d+)-(\d+)$", view, re.M)
    assert m, view
    first, last = int(m.group(1)), int(m.group(2))
    assert last - first == 63, view
    # Every session's public port is of that block.
    ports = [int(p) for p in re.findall(r"172\.19\.51\.234/(\d+)<-172\.19\.50\.129/5353", lab.out("get session"))]
    assert len(ports) == 40 and all(first <= p <= last for p in ports), (ports, first, last)
    got = wait_until(lambda: lines(out, PBA) or None, 4 * WAIT, "the block's line at rsyslog")
    assert got == [("60.60.60.2", PUB, str(first), str(last), "Allocate")], got
    # 24 more fill the block; the 65th is refused, counted and logged as a quota record.
    udp_burst(lab, c1, range(3040, 3065))
    flow_grown(lab, base, {"nat-pba-max-blocks": 1})
    lab.wait_out("get session", "^Total 64 sessions")
    q = wait_until(lambda: lines(out, QUOTA) or None, 4 * WAIT, "the quota line at rsyslog")
    assert q == [("60.60.60.2", "port-blocks", "1")], q
    # Another subscriber: a block of its own.
    udp_burst(lab, c2, range(3000, 3005))
    lab.wait_out("get nat port-block", r"^60\.60\.60\.3\s+172\.19\.51\.234\s+1\s+5 ")
    view = lab.out("get nat port-block")
    assert "subscribers 2 (max 65536), blocks 2 in use" in view, view
    assert "refused: at max-blocks 1, no free block 0, table full 0" in view, view
    # Interim re-logging, at run time: each held block again.
    lab.cli("set nat port-block interim-log 1")
    wait_until(lambda: len([r for r in lines(out, PBA) if r[4] == "Interim"]) >= 2 or None, 4 * WAIT,
               "interim lines of both blocks")
    lab.cli("set nat port-block interim-log 0")
    # Gone: each block released with its last session, once.
    lab.cli("clear session")
    lab.wait_out("get nat port-block", r"subscribers 0 \(max 65536\), blocks 0 in use")
    rel = wait_until(lambda: (lambda r: r if len(r) >= 2 else None)(
        [x for x in lines(out, PBA) if x[4] == "Release"]), 4 * WAIT, "two release lines")
    assert sorted(r[0] for r in rel) == ["60.60.60.2", "60.60.60.3"], rel
    alloc = [x for x in lines(out, PBA) if x[4] == "Allocate"]
    assert len(alloc) == 2 and {r[:4] for r in alloc} == {r[:4] for r in rel}, (alloc, rel)
    # 69 sessions made and deleted: no session record at all, the blocks' instead.
    text = open(out).read()
    assert "system-notification-00257" not in text, text[:500]
    view = lab.wait_out("get log nat", r"records queued:\s+0$")
    made = int(re.search(r"records created: (\d+)$", view, re.M).group(1))
    interim = len([r for r in lines(out, PBA) if r[4] == "Interim"])
    assert made == 2 + 2 + 1 + interim, (view, interim)
    rc, body = fetch(lab, fw, "http://127.0.0.1:19472/metrics")
    assert rc == 0, body
    assert metric(body, "dpnat_pba_block_size") == 64
    assert metric(body, "dpnat_pba_blocks_allocated_total") == 2
    assert metric(body, "dpnat_pba_blocks_released_total") == 2
    assert metric(body, "dpnat_pba_blocks") == 0
    assert 'dpnat_pba_refused_total{reason="max-blocks"} 1' in body
    # A start-up setting is refused at run time, whole.
    r = lab.cli("set nat port-block size 128", check=False)
    assert "fixed at start" in r.stdout + r.stderr, r


def test_deterministic_pool_both_ways(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=(
        "set interface ethernet4/1 dip 5 172.19.51.240 172.19.51.241 deterministic inside 60.60.60.0/24\n"
        "set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit nat src dip-id 5\n"))
    # 256 inside addresses on 2 public ones: 128 each, 504 ports each.
    assert lab.out("get nat deterministic inside 60.60.60.2") == \
        "60.60.60.2 -> 172.19.51.240 ports 2032-2535 (dip 5, 504 ports per inside address)\n"
    assert lab.out("get nat deterministic inside 60.60.60.131") == \
        "60.60.60.131 -> 172.19.51.241 ports 2536-3039 (dip 5, 504 ports per inside address)\n"
    assert "in no deterministic pool" in lab.out("get nat deterministic inside 10.0.0.1")
    p, log = listen_tcp(lab, srv, 8080, 2)
    assert tcp_client(lab, c1, SERVER, 8080, 40000, "a") == "echo:a"
    assert tcp_client(lab, c2, SERVER, 8080, 40001, "b") == "echo:b"
    p.wait(timeout=WAIT)
    seen = [ln.split() for ln in open(log).read().splitlines()]
    # What the server saw is each client's computed address and range, and maps back to the client.
    for (addr, port, msg), client in zip(seen, ("60.60.60.2", "60.60.60.3")):
        fwd = lab.out(f"get nat deterministic inside {client}")
        lo, hi = map(int, re.search(r"ports (\d+)-(\d+)", fwd).groups())
        assert fwd.split()[2] == addr and lo <= int(port) <= hi, (fwd, addr, port)
        back = lab.out(f"get nat deterministic public {addr} port {port}")
        assert back.startswith(f"{addr} port {port} <- {client} (dip 5"), back
    assert "dip 5 172.19.51.240 172.19.51.241 deterministic inside 60.60.60.0/24" in lab.out("get config")


def test_subscriber_port_limit(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=(
        "set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit nat src\n"
        "set nat subscriber-limit ports 10\nset session timeout udp 600\n"))
    base = flow(lab)
    udp_burst(lab, c1, range(3000, 3012))
    flow_grown(lab, base, {"src-port-limit": 2})
    lab.wait_out("get session", "^Total 10 sessions")
    udp_burst(lab, c2, range(3000, 3003))
    lab.wait_out("get session", "^Total 13 sessions")
    v = lab.out("get nat subscriber 60.60.60.2")
    assert "  ports      10 (limit 10)" in v and "  sessions   10" in v, v
    v = lab.out("get nat subscriber")
    assert "refused: at limit 2, table full 0" in v.split("sessions:")[0], v
    # Raised at run time: room again.
    lab.cli("set nat subscriber-limit ports 12")
    udp_burst(lab, c1, range(3012, 3014))
    lab.wait_out("get session", "^Total 15 sessions")
