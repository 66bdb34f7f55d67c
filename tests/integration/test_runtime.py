# SPDX-License-Identifier: BSD-3-Clause
"""Issue 15: what the workers read of the configuration is a runtime built
aside and published with one pointer, the old one freed after a grace
period; a run-time `set` either applies whole or changes nothing."""
import json
import os
import re
import signal
import time

from lab import WAIT, kb_lab, wait_until
from test_reliability import alive, pyfile

SERVER = "172.19.50.129"

# Datagrams to SERVER:PORT for SECONDS at about RATE a second, a new source
# port (so a new session) every 25; prints how many were sent.
SENDER = """
dst, port, seconds, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
sent, end, sk = 0, time.time() + seconds, None
while time.time() < end:
    if sent % 25 == 0:
        if sk is not None:
            sk.close()
        sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sk.sendto(b"storm-%08d" % sent, (dst, port))
    sent += 1
    time.sleep(1.0 / rate)
say(sent=sent)
"""

# Counts datagrams on PORT; after the first, exits once none came for IDLE seconds.
RECEIVER = """
port, idle = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port))
say(ready=1)
n = 0
s.settimeout(None)
while True:
    try:
        s.recv(2048)
        n += 1
        s.settimeout(idle)
    except socket.timeout:
        break
say(rcvd=n)
"""


def spawn_args(lab, ns, code, out, *args):
    """A python snippet (test_reliability's prelude) in the background, with arguments."""
    path = pyfile(lab, code)
    return lab.spawn(ns, f"/usr/bin/python3 -u {path} " + " ".join(map(str, args)),
                     stdout=open(out, "w"), stderr=open(out + ".err", "w"))


def last_json(path):
    lines = [ln for ln in open(path).read().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def drops_and_missed(lab):
    """Every counted drop (all reasons) plus what the ports missed."""
    drops = lab.out("get counter flow").split("drops by reason:", 1)[1]
    reasons = {m.group(1): int(m.group(2)) for m in re.finditer(r"^  (\S+)\s+(\d+)", drops, re.M)}
    stats = lab.out("get counter statistics")
    missed = sum(int(x) for x in re.findall(r"in missed\s+(\d+)", stats))
    return sum(reasons.values()) + missed, reasons


def test_reload_storm_two_workers(lab):
    """SIGHUP and set/unset (a policy, the PPTP ALG, a route) in a loop for a
    minute while UDP flows (new sessions all along) cross two workers on one
    CPU: dpnat survives, every datagram that did not arrive is a counted
    drop, none is refused for a policy or route the storm did not touch,
    and traffic flows afterwards."""
    fw, (c1, c2), srv = kb_lab(lab, lcores="0,1@1,2@1", vdev_opts=",qpairs=2")
    seconds = 60
    rcv = os.path.join(lab.tmp, "rcv.json")
    spawn_args(lab, srv, RECEIVER, rcv, 9000, 8)
    wait_until(lambda: last_json(rcv), WAIT, "the receiver ready")
    before, reasons0 = drops_and_missed(lab)
    outs = [os.path.join(lab.tmp, f"snd{i}.json") for i in range(2)]
    for c, out in zip((c1, c2), outs):
        spawn_args(lab, c, SENDER, out, SERVER, 9000, seconds, 150)
    cmds = [
        'set policy id 2 from "Trust" to "Untrust" "Any" "Any" "HTTP" deny',
        "unset alg pptp enable",
        "set route 10.99.0.0/16 interface ethernet4/1 gateway 172.19.50.1",
        "unset policy id 2",
        "set alg pptp enable",
        "unset route 10.99.0.0/16",
    ]
    end, i, hups = time.time() + seconds, 0, 0
    while time.time() < end:
        if i % 7 == 6:
            lab.dpnat.send_signal(signal.SIGHUP)
            hups += 1
        else:
            lab.out(cmds[i % 7])   # each set before its unset within a cycle of 7
        i += 1
    sent = sum(wait_until(lambda o=o: last_json(o), 2 * WAIT, f"totals of {o}")["sent"] for o in outs)
    rcvd = wait_until(lambda: (lambda j: j if j and "rcvd" in j else None)(last_json(rcv)),
                      3 * WAIT, "the receiver's total")["rcvd"]
    after, reasons1 = drops_and_missed(lab)
    grew = {k: reasons1[k] - reasons0.get(k, 0) for k in reasons1 if reasons1[k] != reasons0.get(k, 0)}
    # the storm really happened, and traffic really crossed
    assert i > 50 and hups > 5, (i, hups)
    assert sent > 1000 and rcvd > 0.9 * sent, (sent, rcvd, grew)
    # every datagram that did not arrive is counted, and none for a policy or a route
    assert sent - rcvd <= after - before, (sent, rcvd, grew)
    for r in ("no-policy", "policy-deny", "no-route", "no-session", "session-full", "nat-no-port"):
        assert grew.get(r, 0) == 0, grew
    per = re.findall(r"worker (\d): session hits (\d+)", lab.out("get counter flow"))
    assert len(per) == 2 and all(int(h) > 0 for _, h in per), per
    alive(lab)
    assert "1 received" in lab.run(c1, f"ping -c 1 -W 10 {SERVER}").stdout


def arp_entries(lab):
    """The neighbour table's entries: (address, MAC) of each line of `get arp`."""
    return sorted(re.findall(r"^\s*(\d+\.\d+\.\d+\.\d+)\s+([0-9a-f]{12})\s", lab.out("get arp"), re.M))


def test_failing_set_changes_nothing(lab):
    """A `set` the dataplane cannot apply (here: a static ARP entry for a full
    neighbour table) is refused whole: the running configuration, the ARP
    table and what the workers do stay as they were."""
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set arp max 16\n")
    assert "1 received" in lab.run(c1, f"ping -c 1 -W 10 {SERVER}").stdout
    failed = None
    for k in range(40):
        r = lab.cli(f"set arp 60.60.60.{100 + k} 02:00:00:00:01:{k:02x} ethernet4/2", check=False)
        if r.returncode != 0:
            failed = k
            break
    assert failed is not None, "the neighbour table never filled"
    assert "cannot install" in r.stdout + r.stderr, r
    conf0, arp0 = lab.out("get config"), arp_entries(lab)
    assert len(arp0) >= 16, arp0
    # the same line, together with a change the runtime would carry, once more
    r = lab.cli(f"set arp 60.60.60.{100 + failed} 02:00:00:00:01:{failed:02x} ethernet4/2", check=False)
    assert r.returncode != 0
    assert f"60.60.60.{100 + failed} " not in lab.out("get config")
    assert lab.out("get config") == conf0
    assert arp_entries(lab) == arp0
    # the refused sets left the workers' rules alone: traffic passes as before
    # (from c1, whose neighbour entry is in the full table)
    assert "1 received" in lab.run(c1, f"ping -c 1 -W 10 {SERVER}").stdout
    alive(lab)
