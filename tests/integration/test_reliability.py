# SPDX-License-Identifier: BSD-3-Clause
"""Issue 7: reliability on the KB lab. Exhaustion of every bounded table with a
counted failure and recovery, abrupt disconnects cleaned by timeouts or at
once, hostile traffic with a defined outcome and a counter each, and two
workers under traffic while sessions and calls are cleared and aged."""
import json
import os
import re
import select
import signal
import subprocess
import time


from lab import CLI, KB_LAB, WAIT, kb_lab, kb_topology, wait_file, wait_until
from test_napt import listen_tcp, tcp_client
from test_pptp_kb import Peer, start_server, client

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = "172.19.50.129"
PUB = "172.19.51.234"

# ---------------------------------------------------------------- helpers

PRELUDE = f'''import json, os, select, socket, struct, sys, time
sys.path.insert(0, {HERE!r})
import pptp_wire as w
def say(**kw):
    print(json.dumps(kw), flush=True)
def csum(b):
    if len(b) % 2:
        b += b"\\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip_hdr(src, dst, proto, plen, ttl=64, opts=b"", ident=1, frag=0, bad_csum=False):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + plen, ident, frag, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst)) + opts
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:]
def udp_seg(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(ph + u) or 0xffff
    return u[:6] + struct.pack("!H", c) + u[8:]
def tcp_syn(src, dst, sport, dport, seq=1):
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 8192, 0, 0)
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(t))
    return t[:16] + struct.pack("!H", csum(ph + t)) + t[18:]
def mac(s):
    return bytes.fromhex(s.replace(":", ""))
'''

_n = [0]


def pyfile(lab, code):
    _n[0] += 1
    path = os.path.join(lab.tmp, f"snip{_n[0]}.py")
    with open(path, "w") as f:
        f.write(PRELUDE + code)
    return path


def py(lab, ns, code, check=True, timeout=10 * WAIT):
    """Run a python snippet (with PRELUDE) in namespace ns; returns stdout."""
    r = lab.run(ns, f"/usr/bin/python3 {pyfile(lab, code)}", check=False, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"snippet failed in {ns}: {r.stdout}{r.stderr}")
    return r.stdout


def pyspawn(lab, ns, code, out=None):
    """Start a python snippet in the background; its stdout goes to file out."""
    return lab.spawn(ns, f"/usr/bin/python3 -u {pyfile(lab, code)}",
                     stdout=open(out, "w") if out else subprocess.DEVNULL, stderr=subprocess.STDOUT)


def flow(lab):
    """`get counter flow` as {name: value} (flow counters and drop reasons)."""
    out = lab.out("get counter flow")
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^  ([a-z][\w-]*(?: [\w-]+)*)\s+(\d+)(?:  |$)", out, re.M)}


def flow_grown(lab, base, want, timeout=WAIT):
    """Wait until every counter in want has grown by at least its value over base
    (packets may still be on their way); return `get counter flow` then."""
    def ready():
        f = flow(lab)
        return f if all(f[k] - base[k] >= n for k, n in want.items()) else None
    return wait_until(ready, timeout, f"counters {want} grown over {base}")


def mbufs(lab):
    """`get mbuf` as a dict: max, in use, free, cached, generated/receive failures."""
    out = lab.out("get mbuf")
    m = re.search(r"max (\d+), in use (\d+), free (\d+), in lcore caches (\d+).*"
                  r"generated packets (\d+), receive (\d+)", out, re.S)
    assert m, out
    return dict(zip(("max", "in use", "free", "cached", "generated", "receive"), map(int, m.groups())))


def alg(lab):
    """`get alg pptp` as a dict: xlate/ctrl usage, calls and the stream counters."""
    out = lab.out("get alg pptp")
    d = {m.group(1): int(m.group(2))
         for m in re.finditer(r"^  ([a-z][\w-]*)\s+(\d+)  ", out, re.M)}
    m = re.search(r"xlate entries: (\d+) used, max (\d+), failed (\d+)", out)
    d["xlate_used"], d["xlate_max"], d["xlate_failed"] = map(int, m.groups())
    m = re.search(r"control connections: (\d+) used, max (\d+), failed (\d+), desynced (\d+)", out)
    d["ctrl_used"], d["ctrl_max"], d["ctrl_failed"], d["desynced"] = map(int, m.groups())
    m = re.search(r"calls opened (\d+), closed (\d+); gates opened (\d+), failed (\d+)", out)
    d["calls_opened"], d["calls_closed"], d["gates_opened"], d["gates_failed"] = map(int, m.groups())
    return d


def sess(lab, filt=""):
    """(alloc, max, alloc failed, total matching filt) from `get session`."""
    out = lab.out(f"get session {filt}")
    m = re.search(r"^alloc (\d+)/max (\d+), alloc failed (\d+)", out, re.M)
    t = re.search(r"^Total (\d+) sessions according filtering criteria\.", out, re.M)
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), int(t.group(1))


def xlate_used(lab):
    m = re.match(r"(\d+) out of (\d+) pptp xlate entries are used\.\nFailed count (\d+)\.",
                 lab.out("get alg pptp xlate"))
    assert m, lab.out("get alg pptp xlate")
    return int(m.group(1)), int(m.group(3))


def iface_mac(lab, name):
    """dpnat's MAC of an interface, aa:bb:... from `get interface NAME`."""
    m = re.search(rf"^{re.escape(name)}\s+\S+\s+\S+\s+([0-9a-f]{{12}})\s", lab.out(f"get interface {name}"), re.M)
    return ":".join(m.group(1)[i:i + 2] for i in range(0, 12, 2))


def alive(lab):
    """dpnat still runs, answers the CLI and logged no error."""
    assert lab.dpnat.poll() is None, "dpnat exited: " + open(lab.log).read()
    lab.out("get interface")
    log = open(lab.log).read()
    assert not re.search(r"error|panic|assert|segmentation|abort", log, re.I), log


def udp_echo_server(lab, ns, port, bind="0.0.0.0"):
    """A UDP echo server in ns that logs every datagram it gets (peer and text)."""
    out = os.path.join(lab.tmp, f"udpecho{port}.log")
    p = pyspawn(lab, ns, f'''
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(({bind!r}, {port}))
while True:
    d, a = s.recvfrom(65535)
    say(src=a[0], sport=a[1], data=d.decode(errors="replace"))
    s.sendto(b"echo:" + d, a)
''', out)
    lab.wait_port(ns, port, "udp", pid=p.pid)
    return p, out


def udp_ask(lab, ns, dst, port, sport, text, timeout=10.0, tries=3):
    """Send text from sport in ns, return the echo or None."""
    out = py(lab, ns, f'''
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {sport}))
s.settimeout({timeout})
for _ in range({tries}):
    s.sendto({text.encode()!r}, ({dst!r}, {port}))
    try:
        print(s.recv(65535).decode()); break
    except socket.timeout:
        pass
''')
    return out.strip() or None


def lines_of(path):
    try:
        return [json.loads(l) for l in open(path).read().splitlines() if l.startswith("{")]
    except FileNotFoundError:
        return []


# A PPTP control client driven line by line from stdin, for what the scripted
# peer cannot do: lying lengths, RST, held requests. One JSON event per command.
CTL = '''
s = None
buf = b""
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
server = sys.argv[1]
def recv_one(timeout):
    global buf
    end = time.time() + timeout
    while True:
        msgs, rest = w.parse_stream(buf)
        if msgs:
            n = len(msgs[0][3])
            buf = buf[n:]
            return msgs[0]
        left = end - time.time()
        if left <= 0:
            return None
        r, _, _ = select.select([s], [], [], left)
        if r:
            d = s.recv(65535)
            if not d:
                return "eof"
            buf += d
for line in sys.stdin:
    a = line.split()
    if not a:
        continue
    op, seq = a[0], int(a[1])
    try:
        if op == "connect":
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", int(a[2])))
            s.settimeout(float(a[3]) if len(a) > 3 else 30)
            s.connect((server, 1723))
            s.setblocking(True)
            say(event="done", seq=seq)
        elif op == "send":
            s.sendall(bytes.fromhex(a[2]))
            say(event="done", seq=seq)
        elif op == "recv":
            m = recv_one(float(a[2]))
            if m is None or m == "eof":
                say(event="done", seq=seq, got=m or "timeout")
            else:
                say(event="done", seq=seq, got="msg", type=m[0], a=m[1], b=m[2])
        elif op == "gre":
            scid, body = int(a[2]), a[3].encode()
            got = None
            for attempt in range(int(a[4]) if len(a) > 4 else 40):
                raw.sendto(w.gre(scid, body, seq=attempt), (server, 0))
                end = time.time() + 0.5
                while time.time() < end and got is None:
                    r, _, _ = select.select([raw], [], [], 0.1)
                    if r:
                        src, rcid, payload = w.parse_gre(raw.recv(65535))
                        if payload == b"pong:" + body:
                            got = (src, rcid)
                if got:
                    break
            say(event="done", seq=seq, ok=got is not None, src=got and got[0], cid=got and got[1])
        elif op == "rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            say(event="done", seq=seq)
        elif op == "close":
            s.close()
            say(event="done", seq=seq)
    except Exception as e:
        say(event="done", seq=seq, error=repr(e))
'''


class Ctl(Peer):
    """The CTL client in a namespace; do() runs one command and returns its event."""

    def __init__(self, lab, ns, server=SERVER):
        path = pyfile(lab, CTL)
        self.p = lab.spawn(ns, f"/usr/bin/python3 -u {path} {server}", stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
        self.events = []
        self.buf = b""
        self.seq = 0

    def do(self, *words, timeout=2 * WAIT):
        self.seq += 1
        self.send(" ".join([str(words[0]), str(self.seq)] + [str(x) for x in words[1:]]))
        e = self.wait_for("done", timeout=timeout, seq=self.seq)
        assert "error" not in e, e
        return e

    def call(self, sport, cid, timeout=WAIT):
        """Control connection + SCCRQ + OCRQ; returns the OCRP event (or a timeout event)."""
        self.do("connect", sport, timeout)
        self.do("send", w_hex("sccrq"))
        assert self.do("recv", WAIT).get("type") == 2   # an SCCRP (not a timeout)
        self.do("send", w_hex("ocrq", cid))
        return self.do("recv", timeout, timeout=timeout + WAIT)


def w_hex(name, *args):
    import pptp_wire as w
    return getattr(w, name)(*args).hex()


def gre_probe(lab, ns, dst, cid, body, src=None):
    """Send one enhanced GRE packet from ns (source src through AF_INET raw with
    IP_HDRINCL when given)."""
    if src is None:
        py(lab, ns, f'r = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)\n'
                    f'r.sendto(w.gre({cid}, {body!r}), ({dst!r}, 0))\n')
    else:
        py(lab, ns, f'''
g = w.gre({cid}, {body!r})
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.sendto(ip_hdr({src!r}, {dst!r}, 47, len(g)) + g, ({dst!r}, 0))
''')


def gre_listen(lab, ns, seconds):
    """Background raw GRE listener in ns; returns the file its packets go to."""
    out = os.path.join(lab.tmp, f"grelisten{_n[0]}.log")
    p = pyspawn(lab, ns, f'''
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
end = time.time() + {seconds}
while time.time() < end:
    x, _, _ = select.select([r], [], [], 0.2)
    if x:
        src, cid, payload = w.parse_gre(r.recv(65535))
        say(src=src, cid=cid, payload=payload.decode(errors="replace"))
''', out)
    lab.wait_port(ns, 47, "raw", pid=p.pid)
    return out


def gre_echo(lab, ns, scid, body, tries=40):
    """GRE to the scripted server for its Call ID scid; True when the echo comes back."""
    out = py(lab, ns, f'''
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
ok = False
for i in range({tries}):
    r.sendto(w.gre({scid}, {body!r}, seq=i), ({SERVER!r}, 0))
    end = time.time() + 0.5
    while time.time() < end and not ok:
        x, _, _ = select.select([r], [], [], 0.1)
        if x and w.parse_gre(r.recv(65535))[2] == b"pong:" + {body!r}:
            ok = True
    if ok:
        break
print(ok)
''')
    return out.strip() == "True"


# ---------------------------------------------------------------- exhaustion

def test_xlate_table_full(lab):
    # `set alg pptp xlate max N` bounds the calls and the control connections alike
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set alg pptp xlate max 2\n")
    s = start_server(lab, srv, cids="17382,999,555")
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    b = Ctl(lab, c2)
    e1 = b.call(2249, 16384)
    assert e1["got"] == "msg" and e1["type"] == 8 and e1["b"] == 16384, e1
    assert xlate_used(lab) == (2, 0)
    # the table is full: the next Outgoing-Call-Request is held back and counted
    b.do("send", w_hex("ocrq", 16385))
    assert b.do("recv", 3)["got"] == "timeout"
    used, failed = wait_until(lambda: (lambda v: v if v[1] >= 1 else None)(xlate_used(lab)), WAIT,
                              "the held request counted")
    assert used == 2 and failed >= 1, lab.out("get alg pptp xlate")
    assert alg(lab)["xlate_failed"] == failed
    assert flow(lab)["pptp-xlate-fail"] >= 1
    assert "60.60.60.3/16385" not in lab.out("get alg pptp xlate")
    # nothing of it reached the server, and the calls that exist carry on
    assert len([e for e in s.drain(0.2) if e["event"] == "ocrq"]) == 2
    assert gre_echo(lab, c1, 17382, b"c1-still-there")
    assert gre_echo(lab, c2, 999, b"c2-still-there")
    # the first call clears: the held request (TCP retransmits it) goes through now
    a.send("clear")
    a.wait_for("cdn")
    e = b.do("recv", 2 * WAIT, timeout=3 * WAIT)     # TCP's backoff may be long by now
    assert e["got"] == "msg" and e["type"] == 8 and e["a"] == 555 and e["b"] == 16385, e
    out = lab.out("get alg pptp xlate")
    assert out.startswith("2 out of 2 pptp xlate entries are used."), out
    assert re.search(r"^60\.60\.60\.3/16385->172\.19\.50\.129 .*src-port:2249,", out, re.M), out
    assert gre_echo(lab, c2, 555, b"held-call")
    assert xlate_used(lab)[1] >= failed          # failures stay counted
    assert "Total 4 sessions" in lab.out("get session protocol 47")


def test_ctrl_table_full(lab):
    """The control-connection table (sized by `set alg pptp xlate max`) full: the
    new TCP/1723 connection must not carry an untranslated inside Call ID."""
    # the control state lives as long as its TCP session: closed ones go after tcp-closing
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set alg pptp xlate max 1\nset session timeout tcp-closing 2\n")
    s = start_server(lab, srv, cids="17382,999,555")
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    b = Ctl(lab, c2)
    try:
        b.call(2249, 16384, timeout=3)
    except AssertionError:
        pass                      # no control state at its handshake: its SCCRQ never passes
    st = wait_until(lambda: (lambda v: v if v["ctrl_failed"] >= 1 else None)(alg(lab)), WAIT,
                    "control connection refused")
    assert st["ctrl_used"] == 1, st
    leaked = [e for e in s.drain(0.2) if e["event"] == "ocrq" and e["call_id"] == 16384]
    assert not leaked, f"inside Call ID 16384 reached the server untranslated: {leaked}"
    # recovery: both connections go, a new one gets the ALG (b resets: a closed socket
    # would resend its SCCRQ, which takes the one state as soon as a frees it)
    b.do("rst")
    b.p.kill()
    b.p.wait(timeout=WAIT)
    a.send("clear")
    a.wait_for("closed")
    wait_until(lambda: alg(lab)["ctrl_used"] == 0, WAIT, "control connection freed")
    c = Ctl(lab, c1)
    e = c.call(4763, 7)
    assert e["got"] == "msg" and e["type"] == 8 and e["b"] == 7, e
    assert xlate_used(lab)[0] == 1


def test_neigh_queue_full(lab):
    # 172.19.50.200 is on-link on the untrust side and nobody owns it
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set arp queue 1\n")
    base = flow(lab)
    py(lab, c1, """
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(6):
    s.sendto(b"x%d" % i, ("172.19.50.200", 9000))
""")
    arp = lab.wait_out("get arp", r"queue full 5,")
    m = re.search(r"^total arp entries: \d+, max \d+, table full 0, queue full (\d+), failed (\d+)$", arp, re.M)
    assert m and int(m.group(1)) == 5, arp
    row = re.search(r"^ 172\.19\.50\.200\s+(\S+)\s+ethernet4/1\s+(\S+)\s+\d+\s+\d+\s+(\d+)$", arp, re.M)
    assert row and row.group(3) == "1", arp             # one packet held
    f = flow(lab)
    assert f["neigh-queue-full"] - base["neigh-queue-full"] == 5, f
    # the UDP session exists (the first packet made it) and the rest of dpnat works
    assert sess(lab, "dst-ip 172.19.50.200")[3] == 1
    assert "1 received" in lab.run(c1, "ping -c 1 -W 10 172.19.50.129").stdout
    # nobody answers: the entry fails after its retries and the held packet is dropped, counted
    arp = wait_until(lambda: (lambda o: "172.19.50.200" not in o and o)(lab.out("get arp")), WAIT, "entry failed")
    assert re.search(r"queue full 5, failed 1$", arp.splitlines()[0]), arp
    f = flow(lab)
    assert f["neigh-failed"] - base["neigh-failed"] == 1, f


def test_mbuf_pool_small(lab):
    # the smallest pool; each unresolved neighbour may hold 16 packets
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set mbuf max 1024\nset arp queue 16\n")
    # a burst through dpnat: af_packet copies, so the pool only turns over
    r = lab.run(c1, "ping -f -c 2000 -W 1 172.19.50.129", check=False).stdout
    m = re.search(r"2000 packets transmitted, (\d+) received", r)
    assert m and int(m.group(1)) >= 1900, r
    # now make dpnat hold every buffer: 17 packets for each of ~500 on-link
    # addresses nobody owns (queues of 16 would need 8000 mbufs)
    py(lab, c1, """
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in range(17):
    for h in range(2, 500):
        if h != 129:
            try:
                s.sendto(b"y" * 200, ("172.19.%d.%d" % (50 + h // 256, h % 256), 9000))
            except OSError:
                time.sleep(0.001)
""")
    # The queues hold the whole pool until their neighbours fail (a few
    # seconds); the ARP requests built meanwhile (the first for an address, or
    # the one-a-second resends) find no mbuf, and each is counted.
    m = wait_until(lambda: (lambda v: v if v["generated"] > 0 else None)(mbufs(lab)), WAIT,
                   "an ARP request refused for want of an mbuf")
    assert m["max"] == 1024 and m["in use"] + m["free"] == 1024, m
    assert flow(lab)["mbuf-alloc"] >= m["generated"]
    alive(lab)
    # every neighbour fails in turn, its packets are returned, and dpnat forwards again
    wait_until(lambda: re.match(r"total arp entries: [0-3],", lab.out("get arp")), 2 * WAIT, "queues drained")
    assert int(re.search(r"failed (\d+)", lab.out("get arp")).group(1)) >= 400
    assert "3 received" in lab.run(c1, "ping -c 3 -i 0.2 -W 10 172.19.50.129").stdout
    r = lab.run(c2, "ping -f -c 1000 -W 1 172.19.50.129", check=False).stdout
    m = re.search(r"1000 packets transmitted, (\d+) received", r)
    assert m and int(m.group(1)) >= 950, r
    p, log = listen_tcp(lab, srv, 8080, 1)
    assert tcp_client(lab, c2, SERVER, 8080, 40000, "after") == "echo:after"
    alive(lab)
    # nothing leaked: with the queues gone the pool is back to (nearly) all free
    wait_until(lambda: mbufs(lab)["in use"] <= 64, WAIT, "mbufs returned to the pool")


def test_clear_arp_counts_queued_packets(lab):
    # packets waiting for a neighbour that `clear arp` removes are counted drops
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set arp queue 16\n")
    py(lab, c1, """
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"q", ("172.19.50.77", 9000))
""")
    wait_until(lambda: re.search(r"^ 172\.19\.50\.77 .* 5$", lab.out("get arp"), re.M), WAIT,
               "5 packets queued for 172.19.50.77")
    assert mbufs(lab)["in use"] >= 5
    assert re.match(r"\d+ arp entries cleared", lab.out("clear arp"))
    f = flow(lab)
    assert f["neigh-removed"] == 5 and f["neigh-failed"] == 0, f
    assert mbufs(lab)["in use"] == 0
    alive(lab)


def syn_flood(lab, ns, srv, dport, sport0, n):
    """n SYNs from 60.60.60.2:sport0.. (in ns) to the server's dport, which
    drops them silently (no SYN-ACK, no RST), 100 per 10 ms."""
    lab.run(srv, "nft add table ip flood")
    lab.run(srv, "nft add chain ip flood in '{ type filter hook input priority 0 ; }'")
    lab.run(srv, f"nft add rule ip flood in tcp dport {dport} tcp sport {sport0}-{sport0 + n - 1} drop")
    py(lab, ns, f"""
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for i in range({n}):
    r.sendto(tcp_syn("60.60.60.2", {SERVER!r}, {sport0} + i, {dport}, seq=i), ({SERVER!r}, 0))
    if i % 100 == 99:
        time.sleep(0.01)
""")


def test_syn_flood_session_table_full(lab):
    # tcp-syn 10: the table must stay full through the checks below on a slow machine
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set session max 500\nset session timeout tcp-syn 10\n")
    # the server drops the flood silently (no SYN-ACK, no RST): sessions stay half-open
    u, ulog = udp_echo_server(lab, srv, 7000)
    assert udp_ask(lab, c2, SERVER, 7000, 3000, "before") == "echo:before"
    syn_flood(lab, c1, srv, 9, 10000, 3000)
    wait_until(lambda: sess(lab)[2] > 0, WAIT, "session allocation refused")
    alloc, mx, failed, _ = sess(lab)
    assert (alloc, mx) == (500, 500) and failed > 0, lab.out("get session")
    f = flow(lab)
    assert f["session-full"] > 0 and f["session alloc failed"] > 0, f
    # the flow that existed goes on; a new one is refused while the table is full
    assert udp_ask(lab, c2, SERVER, 7000, 3000, "during") == "echo:during"
    assert udp_ask(lab, c2, SERVER, 7000, 3001, "new", timeout=0.5, tries=1) is None
    flow_grown(lab, f, {"session-full": 1})
    # the half-open sessions age out after tcp-syn and new flows pass again
    wait_until(lambda: sess(lab)[0] <= 1, 2 * WAIT, "sessions aged")
    p, log = listen_tcp(lab, srv, 8080, 1)
    assert tcp_client(lab, c2, SERVER, 8080, 40000, "after") == "echo:after"
    assert udp_ask(lab, c2, SERVER, 7000, 3000, "still") == "echo:still"
    alive(lab)


def test_nat_port_pool_exhausted(lab):
    # one public address has 64512 ports (1024-65535): 66000 UDP flows exhaust them
    # (udp 15: the flows of the first burst must outlive a slow second one)
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set session timeout udp 15\n")
    u, ulog = udp_echo_server(lab, srv, 7000)
    for _ in range(2):                      # twice: af_packet may drop part of a burst
        py(lab, c1, f"""
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for i in range(66000):
    sport = 1 + i % 65535
    dport = 9 if i < 65535 else 10
    r.sendto(udp_seg("60.60.60.2", {SERVER!r}, sport, dport, b"p"), ({SERVER!r}, 0))
    if i % 200 == 199:
        time.sleep(0.004)
""", timeout=120)
    alloc = sess(lab)[0]
    f = flow(lab)
    assert alloc == 64512, lab.out("get session")
    refused = f["nat-no-port"] + f["nat-no-addr"]
    assert refused > 0, f
    # no port: a new flow of the other host fails too (ping shares the pool)
    r = lab.run(c2, "ping -c 1 -W 1 172.19.50.129", check=False)
    f2 = wait_until(lambda: (lambda f: f if f["nat-no-port"] + f["nat-no-addr"] > refused else None)(flow(lab)),
                    WAIT, "the ping refused for want of a port")
    assert r.returncode != 0
    # the ports come back when the flows time out
    wait_until(lambda: sess(lab)[0] == 0, 2 * WAIT, "sessions aged")
    assert "1 received" in lab.run(c2, "ping -c 1 -W 10 172.19.50.129").stdout
    assert udp_ask(lab, c2, SERVER, 7000, 3000, "after") == "echo:after"
    alive(lab)
    # the refusals are counted under the reason that names them
    assert f2["nat-no-port"] > 0 and f2["nat-no-addr"] == 0, f2


# ---------------------------------------------------------------- abrupt disconnects

# short, but long enough for a slow machine to look at a call before it ages
SHORT = "set session timeout gre 5\nset alg pptp xlate timeout 5\n"


def call_state(lab):
    """(xlate entries used, GRE sessions, control sessions)."""
    return (xlate_used(lab)[0], sess(lab, "protocol 47")[3], sess(lab, "dst-port 1723")[3])


def test_client_vanishes(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=SHORT)
    start_server(lab, srv, cids="17382,999,555")
    t0 = time.monotonic()                 # before the call's last packet
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    assert call_state(lab) == (1, 2, 1)
    # no FIN, no RST can reach dpnat: the link goes first, then the process
    lab.run(c1, "ip link set eth0 down")
    a.p.kill()
    a.p.wait(timeout=WAIT)
    # the call is cleaned by the short timeouts; the silent TCP session stays (tcp timeout)
    wait_until(lambda: call_state(lab)[:2] == (0, 0), 2 * WAIT, "call timed out")
    assert time.monotonic() - t0 >= 4, "cleaned before its timeout (5 s, 1 s ticks)"
    assert sess(lab, "dst-port 1723")[3] == 1
    st = alg(lab)
    assert (st["calls_opened"], st["calls_closed"], st["xlate_used"]) == (1, 1, 0), st
    # the client comes back: the same inside Call ID makes a new call
    lab.run(c1, "ip link set eth0 up")
    lab.run(c1, "ip route replace default via 60.60.60.1")
    b = client(lab, c1, 32768, 4763, "c1b")
    e = b.wait_for("gre_echo")
    assert e["ok"] and e["rx_call_id"] == 32768, b.events
    out = lab.out("get alg pptp xlate")
    assert out.startswith("1 out of 2000") and "60.60.60.2/32768->" in out and "src-port:4763," in out, out
    assert alg(lab)["calls_opened"] == 2


def test_server_vanishes(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=SHORT)
    start_server(lab, srv, cids="17382,999,555")
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    lab.run(srv, "ip link set eth0 down")
    # nothing reaches dpnat from the server any more (and the client is silent)
    wait_until(lambda: call_state(lab)[:2] == (0, 0), 2 * WAIT, "call timed out")
    assert alg(lab)["calls_closed"] == 1
    lab.run(srv, "ip link set eth0 up")
    b = client(lab, c2, 16384, 2249, "c2")
    e = b.wait_for("gre_echo")
    assert e["ok"] and e["rx_call_id"] == 16384, b.events
    assert call_state(lab)[:2] == (1, 2)


def test_control_rst_clears_calls_at_once(lab):
    fw, (c1, c2), srv = kb_lab(lab)            # default timeouts: 1800 s
    s = start_server(lab, srv, cids="17382,999,555")
    other = client(lab, c2, 16384, 2249, "c2")
    c = Ctl(lab, c1)
    e = c.call(4762, 32768)
    assert e["type"] == 8 and e["b"] == 32768, e
    assert c.do("gre", e["a"], "before-rst")["ok"]
    assert call_state(lab) == (2, 4, 2)
    c.do("rst")
    # at once: the timeouts are 1800 s; the bound only allows for a slow machine
    wait_until(lambda: call_state(lab)[:2] == (1, 2), WAIT, "calls of the reset connection gone")
    out = lab.out("get alg pptp xlate")
    assert "60.60.60.2/32768" not in out and "60.60.60.3/16384" in out, out
    assert alg(lab)["calls_closed"] == 1
    # the server saw the reset too; the other client's call is untouched
    s.wait_for("closed", timeout=WAIT)
    assert gre_echo(lab, c2, other.wait_for("ocrp")["server_cid"], b"other-call")


# ---------------------------------------------------------------- hostile traffic

def plain_switch(lab):
    """Where br_netfilter is loaded, the lab's bridge would reassemble fragments and
    drop bad IP checksums itself: make it a plain switch so dpnat sees the frames."""
    lab.run(f"{lab.tag}-sw", "sysctl -qw net.bridge.bridge-nf-call-iptables=0", check=False)


def raw_frame_send(lab, ns, dev, dst_mac, frames_code):
    """Send Ethernet frames from ns on dev with AF_PACKET; frames_code is python
    that builds a list `frames` of (ip packet bytes) with helpers of PRELUDE."""
    py(lab, ns, f"""
src_mac = mac(open("/sys/class/net/{dev}/address").read().strip())
{frames_code}
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
p.bind(({dev!r}, 0))
for f in frames:
    p.send(mac({dst_mac!r}) + src_mac + b"\\x08\\x00" + f)
    time.sleep(0.02)
""")


def test_gre_spoofed_and_unknown_calls(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    s = start_server(lab, srv, cids="17382,999")
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    xcid = s.wait_for("ocrq")["call_id"]
    heard = gre_listen(lab, c1, 10 * WAIT)
    base = flow(lab)
    # a call that exists, from the wrong source: the other inside host uses c1's
    # server Call ID; an outside host (spoofed 172.19.50.130) uses c1's public Call ID
    gre_probe(lab, c2, SERVER, 17382, b"spoof-in")
    gre_probe(lab, srv, PUB, xcid, b"spoof-out", src="172.19.50.130")
    # Call IDs that name no call, from both sides
    gre_probe(lab, c1, SERVER, 4321, b"spoof-nocall-in")
    gre_probe(lab, srv, PUB, 4321, b"spoof-nocall-out")
    f = flow_grown(lab, base, {"gre-no-gate": 4})
    assert f["gre-no-gate"] - base["gre-no-gate"] == 4, f
    # the inside address of the call, spoofed from outside, matches the gate but
    # arrives on the wrong interface
    raw_frame_send(lab, srv, "eth0", iface_mac(lab, "ethernet4/1"), f"""
g = w.gre(17382, b"spoof-wrong-iface")
frames = [ip_hdr("60.60.60.2", {SERVER!r}, 47, len(g)) + g]
""")
    f2 = flow_grown(lab, f, {"wrong-iface": 1})
    assert f2["wrong-iface"] - f["wrong-iface"] == 1, f2
    assert f2["forwarded"] == f["forwarded"]
    # none of it reached anyone, and the real call goes on
    got = [e for e in s.drain(0.5) if e["event"] == "gre" and e["payload"].startswith("spoof")]
    assert not got, got
    assert gre_echo(lab, c1, 17382, b"real")
    seen = wait_until(lambda: (lambda p: p if "pong:real" in p else None)([e["payload"] for e in lines_of(heard)]),
                      WAIT, "the real call's echo at the listener")
    assert "pong:real" in seen and not [p for p in seen if "spoof" in p], seen


PLAIN_SERVER = '''
import threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 1723))
ls.listen(16)
say(event="listening")
def conn(c, a):
    buf, total = b"", 0
    while True:
        d = c.recv(65535)
        if not d:
            break
        total += len(d)
        say(event="bytes", sport=a[1], total=total, hex=d[:24].hex())
        buf += d
        msgs, buf = w.parse_stream(buf)
        for ctype, x, y, m in msgs:
            if ctype == w.SCCRQ:
                c.sendall(w.sccrp())
            elif ctype == w.ECHORQ:      # answer with a lie: length 1000
                c.sendall(struct.pack("!HHIHH", 1000, 1, w.MAGIC, w.ECHORP, 0) + bytes(8))
    say(event="closed", sport=a[1])
while True:
    c, a = ls.accept()
    say(event="accept", sport=a[1])
    threading.Thread(target=conn, args=(c, a), daemon=True).start()
'''


def lie(length, magic=0x1A2B3C4D, mtype=1, ctype=1, size=156):
    import struct
    return (struct.pack("!HHIHH", length, mtype, magic, ctype, 0) + bytes(size - 12)).hex()


def test_pptp_lying_lengths(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    out = os.path.join(lab.tmp, "plain.log")
    pyspawn(lab, srv, PLAIN_SERVER, out)
    wait_until(lambda: lines_of(out), WAIT, "server listening")
    cases = [("bad-length", lie(1000)), ("bad-length", lie(5)), ("wrong-length", lie(168)),
             ("bad-magic", lie(156, magic=0xdeadbeef)), ("bad-msg-type", lie(156, mtype=2)),
             ("bad-ctrl-type", lie(156, ctype=99))]
    base, fbase = alg(lab), flow(lab)
    ctls = []
    for i, (why, bad) in enumerate(cases):
        c = Ctl(lab, c1)
        c.do("connect", 5000 + i)
        c.do("send", w_hex("sccrq"))
        assert c.do("recv", WAIT)["type"] == 2       # a valid message passes both ways
        c.do("send", bad)
        c.do("send", w_hex("sccrq"))                  # after the lie, nothing passes
        ctls.append(c)
    # the server's lie (an Echo-Reply of length 1000) never reaches the client
    e = Ctl(lab, c2)
    e.do("connect", 6000)
    e.do("send", w_hex("sccrq"))
    assert e.do("recv", WAIT)["type"] == 2
    e.do("send", w_hex("msg", 5))
    assert e.do("recv", 3)["got"] == "timeout"
    # TCP retransmits the dropped bytes
    st = wait_until(lambda: (lambda v: v if v["bad-length"] - base["bad-length"] >= 3
                             and v["desynced"] - base["desynced"] >= len(cases) + 1
                             and v["desync-drop"] > base["desync-drop"] else None)(alg(lab)),
                    WAIT, "every lie and a dropped retransmission counted")
    f = flow(lab)
    assert st["bad-length"] - base["bad-length"] == 3, st       # two from clients, one from the server
    for why in ("wrong-length", "bad-magic", "bad-msg-type", "bad-ctrl-type"):
        assert st[why] - base[why] == 1, (why, st)
    assert st["desynced"] - base["desynced"] == len(cases) + 1, st
    assert st["desync-drop"] > base["desync-drop"], st       # retransmissions and the later SCCRQ
    assert f["pptp-bad"] - fbase["pptp-bad"] >= len(cases) + 1, f
    # the server got exactly the valid SCCRQ of each connection and not a byte more
    got = {}
    for ev in lines_of(out):
        if ev["event"] == "bytes":
            got[ev["sport"]] = ev["total"]
    assert sorted(got.values()) == [156] * (len(cases)) + [156 + 16], got
    # a desync is per connection: a new one works
    ok = Ctl(lab, c1)
    ok.do("connect", 5100)
    ok.do("send", w_hex("sccrq"))
    assert ok.do("recv", WAIT)["type"] == 2


def test_unsolicited_from_outside(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    u, ulog = udp_echo_server(lab, srv, 7000)
    lab.run(srv, "ip addr add 172.19.50.130/23 dev eth0")
    lab.run(srv, "ip route add 60.60.60.0/24 via 172.19.51.234")
    # an inside host with a live UDP flow, listening on its port for 4 s
    inside = os.path.join(lab.tmp, "inside.log")
    pyspawn(lab, c1, f"""
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 3000))
s.sendto(b"hello", ({SERVER!r}, 7000))
s.settimeout(0.2)
end = time.time() + {10 * WAIT}
while time.time() < end:
    try:
        d, a = s.recvfrom(65535)
        say(src=a[0], sport=a[1], data=d.decode())
    except socket.timeout:
        pass
""", inside)
    wait_until(lambda: lines_of(inside), WAIT, "flow up")
    pub_port = int(re.search(r"172\.19\.51\.234/(\d+)<-172\.19\.50\.129/7000,17", lab.out("get session")).group(1))
    a0, _, _, total0 = sess(lab)
    base = flow(lab)
    # to the public address: a SYN, a datagram on a random port and one on the live
    # flow's public port from another host and from the server's other port
    py(lab, srv, f"""
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
r.sendto(tcp_syn({SERVER!r}, {PUB!r}, 40000, 80), ({PUB!r}, 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"unsolicited", ({PUB!r}, 5000))
for src, sport in (("172.19.50.130", 7000), ({SERVER!r}, 7001)):
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    v.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    v.bind((src, sport))
    v.sendto(b"intruder", ({PUB!r}, {pub_port}))
# to an inside host, routed through dpnat
r.sendto(tcp_syn({SERVER!r}, "60.60.60.2", 40001, 22), ("60.60.60.2", 0))
u.sendto(b"unsolicited", ("60.60.60.2", 3000))
""")
    r = lab.run(srv, "ping -c 1 -W 1 60.60.60.2", check=False)
    assert r.returncode != 0
    # dpnat's own address answers echo, without a session
    assert "1 received" in lab.run(srv, f"ping -c 1 -W 10 {PUB}").stdout
    f = flow_grown(lab, base, {"to-me-unhandled": 4, "no-session": 3})
    assert f["to-me-unhandled"] - base["to-me-unhandled"] == 4, f
    assert f["no-session"] - base["no-session"] == 3, f
    assert f["sessions created"] == base["sessions created"]
    assert sess(lab)[0] == a0 and sess(lab)[3] == total0 == 1
    # all of them were dropped (counted above): none can still reach the inside host
    got = lines_of(inside)
    assert [(g["src"], g["sport"], g["data"]) for g in got] == [(SERVER, 7000, "echo:hello")], got


def kb_lab_pcap(lab, extra_conf=""):
    """The KB lab on net_pcap ports: net_af_packet's fanout has the kernel
    reassemble IP fragments before DPDK sees them, libpcap hands them as they are."""
    fw, clients, srv = kb_topology(lab)
    conf = (KB_LAB + extra_conf + "set interface ethernet4/2 port net_pcap0\n"
            "set interface ethernet4/1 port net_pcap1\n")
    lab.start_dpnat(fw, [], conf, extra_eal="--vdev=net_pcap0,rx_iface_in=fwt,tx_iface=fwt "
                                            "--vdev=net_pcap1,rx_iface_in=fwu,tx_iface=fwu")
    return fw, clients, srv


def test_ip_options_forwarded(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    u, ulog = udp_echo_server(lab, srv, 7000)
    seen = os.path.join(lab.tmp, "rawudp.log")
    raw = pyspawn(lab, srv, """
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
while True:
    p = r.recv(65535)
    ihl = (p[0] & 15) * 4
    say(ihl=ihl, src=socket.inet_ntoa(p[12:16]), opts=p[20:ihl].hex(), ttl=p[8],
        csum_ok=csum(p[:ihl]) == 0, data=p[ihl + 8:].decode(errors="replace"))
""", seen)
    lab.wait_port(srv, 17, "raw", pid=raw.pid)
    # NOP, NOP, NOP, EOL; and a Router Alert
    out = py(lab, c1, f"""
for name, opt in (("nops", b"\\x01\\x01\\x01\\x00"), ("ra", b"\\x94\\x04\\x00\\x00")):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, opt)
    s.settimeout({WAIT})
    s.sendto(name.encode(), ({SERVER!r}, 7000))
    print(s.recv(100).decode())
""")
    # forwarded both ways, translated, options kept, header checksum right
    assert out.split() == ["echo:nops", "echo:ra"], out
    got = {e["data"]: e for e in lines_of(seen) if e["data"] in ("nops", "ra")}
    assert got["nops"]["ihl"] == 24 and got["nops"]["opts"] == "01010100", got
    assert got["ra"]["ihl"] == 24 and got["ra"]["opts"] == "94040000", got
    assert all(g["src"] == PUB and g["csum_ok"] and g["ttl"] == 63 for g in got.values()), got


def test_ttl_one(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    base = flow(lab)
    r = lab.run(c1, "ping -c 1 -t 1 -W 10 172.19.50.129", check=False)
    assert re.search(r"From 60\.60\.60\.1 icmp_seq=1 Time to live exceeded", r.stdout), r.stdout
    f = flow_grown(lab, base, {"ttl-exceeded": 1})
    assert f["ttl-exceeded"] - base["ttl-exceeded"] == 1, f
    assert f["sessions created"] == base["sessions created"]
    # TTL 2 is enough to cross dpnat (the server gets TTL 1)
    assert "1 received" in lab.run(c1, "ping -c 1 -t 2 -W 10 172.19.50.129").stdout


def test_bad_ip_header_checksum(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    plain_switch(lab)
    u, ulog = udp_echo_server(lab, srv, 7000)
    lab.run(c1, "ping -c 1 -W 10 60.60.60.1")
    base = flow(lab)
    # whole frames to dpnat's MAC: the kernel cannot repair the checksum
    raw_frame_send(lab, c1, "eth0", iface_mac(lab, "ethernet4/2"), f"""
frames = []
for i, bad in enumerate((True, True, True, False)):
    text = (b"bad%d" % i) if bad else b"good"
    u = udp_seg("60.60.60.2", {SERVER!r}, 3100 + i, 7000, text)
    frames.append(ip_hdr("60.60.60.2", {SERVER!r}, 17, len(u), ident=100 + i, bad_csum=bad) + u)
""")
    f = flow_grown(lab, base, {"ip-csum": 3})
    assert f["ip-csum"] - base["ip-csum"] == 3, f
    wait_until(lambda: lines_of(ulog), WAIT, "the good datagram at the server")
    got = [e["data"] for e in lines_of(ulog)]
    assert got == ["good"], got


# ---------------------------------------------------------------- concurrency

# Traffic generators (also used by tools/soak.py). argv: mode seconds server ...;
# every mode prints one JSON line of totals at the end and never raises.
CHURN = '''
import random
mode, seconds, server = sys.argv[1], float(sys.argv[2]), sys.argv[3]
end = time.time() + seconds
tot = {"mode": mode}
def bump(k, n=1):
    tot[k] = tot.get(k, 0) + n
if mode == "udp":          # udp FLOWS NEWEVERY: flows of datagrams, new ports every NEWEVERY s
    flows, every = int(sys.argv[4]), float(sys.argv[5])
    socks = []
    gen = 0
    while time.time() < end:
        for s in socks:
            s.close()
        socks = []
        for i in range(flows):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            socks.append(s)
        gen += 1
        t_end = min(end, time.time() + every)
        while time.time() < t_end:
            for s in socks:
                try:
                    s.sendto(b"u%d" % gen, (server, 7000)); bump("sent")
                except OSError:
                    bump("send_err")
            time.sleep(0.05)
            for s in socks:
                while True:
                    try:
                        s.recv(100); bump("rcvd")
                    except (BlockingIOError, OSError):
                        break
elif mode == "tcp":        # short TCP connections to the echo server on 8080
    while time.time() < end:
        try:
            s = socket.create_connection((server, 8080), timeout=2)
            s.sendall(b"ping"); d = s.recv(100)
            bump("ok" if d == b"echo:ping" else "bad")
            if random.random() < 0.2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            bump("fail")
        time.sleep(0.05)
elif mode == "pptp":       # pptp CIDBASE GRES: calls ended by CCRQ, FIN, RST or left to time out
    cid, gres = int(sys.argv[4]), int(sys.argv[5])
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
    keep = []
    n = 0
    while time.time() < end:
        n += 1
        my = cid + n % 2000
        try:
            s = socket.create_connection((server, 1723), timeout=2)
            s.sendall(w.sccrq()); w.recv_msgs(s, 1, timeout=2)
            s.sendall(w.ocrq(my))
            (ct, scid, peer, _), = w.recv_msgs(s, 1, timeout=2)
            bump("calls")
            for k in range(gres):
                body = b"g%d.%d" % (my, k)
                raw.sendto(w.gre(scid, body, seq=k), (server, 0))
                t = time.time() + 0.5
                while time.time() < t:
                    r, _, _ = select.select([raw], [], [], 0.1)
                    if r and w.parse_gre(raw.recv(65535))[2] == b"pong:" + body:
                        bump("gre_ok"); break
            how = n % 4
            if how == 0:
                s.sendall(w.ccrq(my)); w.recv_msgs(s, 1, timeout=2); s.close()
            elif how == 1:
                s.close()
            elif how == 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
            else:
                keep.append(s)           # silent: the call must time out
                if len(keep) > 20:
                    keep.pop(0).close()
        except (OSError, ValueError):
            bump("fail")
            try:
                s.close()
            except Exception:
                pass
        time.sleep(0.05)
    for s in keep:
        s.close()
print(json.dumps(tot), flush=True)
'''

TCP_ECHO = '''
import threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 8080))
ls.listen(128)
def serve(c):
    try:
        c.settimeout(10)
        while True:
            d = c.recv(100)
            if not d:
                break
            c.sendall(b"echo:" + d)
    except OSError:
        pass
    c.close()
while True:
    c, a = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''

PEER_SCRIPT = os.path.join(HERE, "pptp_script_peer.py")


def start_churn_servers(lab, srv):
    """UDP echo on 7000, TCP echo on 8080 and the scripted PPTP server (events to a file)."""
    udp_echo_server(lab, srv, 7000)
    pyspawn(lab, srv, TCP_ECHO)
    cids = ",".join(str(20000 + i) for i in range(400))
    lab.spawn(srv, f"/usr/bin/python3 -u {PEER_SCRIPT} server --cids {cids}",
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lab.wait_port(srv, 8080)
    lab.wait_port(srv, 1723)


def churn(lab, ns, seconds, mode, *args):
    """Start one generator; returns the file its totals go to."""
    out = os.path.join(lab.tmp, f"churn{_n[0] + 1}.json")
    path = pyfile(lab, CHURN)
    lab.spawn(ns, f"/usr/bin/python3 -u {path} {mode} {seconds} {SERVER} " + " ".join(map(str, args)),
              stdout=open(out, "w"), stderr=subprocess.STDOUT)
    return out


def churn_result(path, timeout=2 * WAIT):
    return wait_until(lambda: lines_of(path), timeout, f"totals of generator {path}")[-1]


ALL_SHORT = ("set session timeout udp 2\nset session timeout icmp 2\nset session timeout tcp 4\n"
             "set session timeout tcp-syn 2\nset session timeout tcp-closing 2\n"
             "set session timeout gre 3\nset alg pptp xlate timeout 3\n")


def test_two_workers_clear_and_age_under_traffic(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=ALL_SHORT, lcores="0,1@1,2@1", vdev_opts=",qpairs=2")
    start_churn_servers(lab, srv)
    gens = [churn(lab, c1, 14, "udp", 6, 2), churn(lab, c2, 14, "udp", 6, 3),
            churn(lab, c1, 14, "pptp", 100, 3), churn(lab, c2, 14, "pptp", 100, 3),
            churn(lab, c2, 14, "tcp")]
    end = time.time() + 13
    i = 0
    while time.time() < end:
        i += 1
        cmd = ["clear session", "clear alg pptp xlate", "clear session protocol udp",
               "get session", "clear session protocol 47", "get alg pptp xlate"][i % 6]
        lab.out(cmd)
        time.sleep(0.3)
    res = [churn_result(g) for g in gens]
    udp1, udp2, p1, p2, tcp = res
    # traffic really flowed, through both workers
    assert udp1.get("rcvd", 0) > 100 and udp2.get("rcvd", 0) > 100, res
    assert p1.get("calls", 0) + p2.get("calls", 0) > 5 and p1.get("gre_ok", 0) + p2.get("gre_ok", 0) > 5, res
    assert tcp.get("ok", 0) > 10, res
    f = flow(lab)
    per = re.findall(r"worker (\d): session hits (\d+), on another worker's sessions (\d+), sessions alive (\d+)",
                     lab.out("get counter flow"))
    assert len(per) == 2 and all(int(h) > 0 for _, h, _, _ in per), per
    # everything goes back to zero by ageing alone
    wait_until(lambda: sess(lab)[0] == 0 and alg(lab)["xlate_used"] == 0 and alg(lab)["ctrl_used"] == 0,
               2 * WAIT, "tables empty", step=0.5)
    f = flow(lab)
    assert f["sessions created"] == f["sessions aged"] + f["sessions cleared"], f
    assert f["sessions cleared"] > 0 and f["sessions aged"] > 0, f
    per = re.findall(r"worker \d: .* sessions alive (\d+)", lab.out("get counter flow"))
    assert per == ["0", "0"], per
    st = alg(lab)
    assert st["calls_opened"] == st["calls_closed"] > 0, st
    assert st["gates_failed"] == 0, st
    out = lab.out("get session")
    assert re.search(r"^worker 0: alloc 0/", out, re.M) and re.search(r"^worker 1: alloc 0/", out, re.M), out
    assert xlate_used(lab)[0] == 0
    alive(lab)
    # and it still works
    assert "1 received" in lab.run(c1, "ping -c 1 -W 10 172.19.50.129").stdout


def test_blind_rst_from_outside(lab):
    """A RST whose sequence number is nowhere near the window (spoofed by an
    off-path host that guessed the public port) must not end the calls."""
    fw, (c1, c2), srv = kb_lab(lab)
    s = start_server(lab, srv, cids="17382,999")
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    pub_port = s.wait_for("accept")["sport"]
    base = flow(lab)
    py(lab, srv, f"""
t = struct.pack("!HHIIBBHHH", 1723, {pub_port}, 0x12345678, 0, 5 << 4, 0x04, 0, 0, 0)
ph = socket.inet_aton({SERVER!r}) + socket.inet_aton({PUB!r}) + struct.pack("!BBH", 0, 6, len(t))
t = t[:16] + struct.pack("!H", csum(ph + t)) + t[18:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP).sendto(t, ({PUB!r}, 0))
""")
    flow_grown(lab, base, {"tcp-rst-bad": 1})
    assert call_state(lab) == (1, 2, 1), lab.out("get alg pptp xlate")
    assert gre_echo(lab, c1, 17382, b"after-blind-rst")


# ---- off-path FIN/RST/SYN at random sequence numbers (issue 14) ----

FORGE = """
import random
random.seed({seed})
def forge(src, dst, sport, dport, flags, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    for _ in range(n):
        t = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), random.getrandbits(32),
                        5 << 4, flags, 65535, 0, 0)
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(t))
        s.sendto(t[:16] + struct.pack("!H", csum(ph + t)) + t[18:], (dst, 0))
        time.sleep(0.0005)   # paced: af_packet's receive ring drops what a burst overflows
"""
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
# what dpnat counts for a forged segment it refuses
REFUSED = ("tcp-rst-bad", "tcp-out-of-window", "tcp-no-ack")


def forge(lab, ns, src, dst, sport, dport, kinds, n, seed=14):
    """From ns, n segments of each flags value in kinds at random sequence and
    acknowledgement numbers; returns once dpnat has dealt with nearly all of
    them (af_packet may lose a few on a loaded machine): what it refused,
    by reason, and how many it forwarded (in the receiver's window, about 1
    in 65536, a RST or SYN passes unchanged)."""
    base = flow(lab)
    py(lab, ns, FORGE.format(seed=seed) + "".join(
        f"forge({src!r}, {dst!r}, {sport}, {dport}, {k}, {n})\n" for k in kinds))
    want = len(kinds) * n * 95 // 100

    def done():
        f = flow(lab)
        got = {k: f.get(k, 0) - base.get(k, 0) for k in REFUSED + ("forwarded",)}
        return got if sum(got.values()) >= want else None
    return wait_until(done, 20, f"{want} forged segments refused or forwarded")


TCP_KEEP_SERVER = """
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {port})); s.listen(4)
while True:
    c, a = s.accept()
    say(accept=a[1])
    while True:
        d = c.recv(100)
        if not d:
            break
        c.sendall(b"echo:" + d)
        if d.startswith(b"close"):
            break
    c.close()
"""

TCP_KEEP_CLIENT = """
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {sport})); s.settimeout(10); s.connect(({dst!r}, {port}))
for line in sys.stdin:
    s.sendall(line.strip().encode())
    say(got=s.recv(100).decode())
"""


class KeptTcp:
    """A TCP connection from ns:sport to the server that stays open; ask() sends a line, returns the echo."""
    def __init__(self, lab, ns, port, sport):
        self.p = lab.spawn(ns, f"/usr/bin/python3 -u {pyfile(lab, TCP_KEEP_CLIENT.format(sport=sport, dst=SERVER, port=port))}",
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        r, _, _ = select.select([self.p.stdout], [], [], 10)
        assert r, f"no echo for {text!r}"
        return json.loads(self.p.stdout.readline())["got"]


def tcp_session_time(lab, port):
    """The `time` (tens of seconds left) of the one TCP session to port."""
    out = lab.out(f"get session dst-port {port}")
    t = re.findall(r"^id \d+/.*,time (\d+),", out, re.M)
    assert len(t) == 1, out
    return int(t[0])


def test_blind_segments_idle_tcp_session(lab):
    """An idle TCP session (an SSH login, say) survives RST, FIN, SYN and ACKs
    forged from outside at random sequence numbers: nothing is torn down,
    its timeout stays the established one, and it goes on working."""
    fw, (c1, c2), srv = kb_lab(lab)
    out = os.path.join(lab.tmp, "keepsrv.log")
    pyspawn(lab, srv, TCP_KEEP_SERVER.format(port=2222), out)
    wait_until(lambda: "2222" in lab.run(srv, "ss -ltn").stdout, 10, "server listening")
    k = KeptTcp(lab, c1, 2222, 40222)
    assert k.ask("one") == "echo:one"
    pub_port = json.loads(open(out).readline())["accept"]
    assert tcp_session_time(lab, 2222) > 100
    # RSTs alone first: out of its window the client drops them without a word, so
    # nothing of its own follows (on f60ffef: the 10 s closing timeout from the first)
    got = forge(lab, srv, SERVER, PUB, 2222, pub_port, (RST, RST | ACK), 300)
    assert tcp_session_time(lab, 2222) > 100, lab.out("get session dst-port 2222")
    got2 = forge(lab, srv, SERVER, PUB, 2222, pub_port, (FIN | ACK, FIN, SYN, SYN | ACK, ACK), 300, seed=15)
    assert tcp_session_time(lab, 2222) > 100, lab.out("get session dst-port 2222")
    assert k.ask("two") == "echo:two"
    assert tcp_session_time(lab, 2222) > 100
    # refused, not passed on (the few in the client's window pass: 1 in 65536)
    assert got["forwarded"] + got2["forwarded"] < 10, (got, got2)
    alive(lab)


def test_blind_fin_keeps_pptp_call(lab):
    """A FIN forged from outside at random sequence numbers on the PPTP control
    connection ends no call and does not close the connection to new calls."""
    fw, (c1, c2), srv = kb_lab(lab)
    s = start_server(lab, srv, cids="17382,999")
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    pub_port = s.wait_for("accept")["sport"]
    got = forge(lab, srv, SERVER, PUB, 1723, pub_port, (FIN | ACK, FIN, RST | ACK), 300)
    st = alg(lab)
    assert st["calls_closed"] == 0 and st.get("fin-bad-seq", 0) + st["rst-bad-seq"] == 0, st
    assert call_state(lab) == (1, 2, 1), lab.out("get alg pptp xlate")
    assert gre_echo(lab, c1, 17382, b"after-blind-fin")
    # still takes calls
    b = client(lab, c2, 16384, 2249, "c2")
    assert b.wait_for("gre_echo")["ok"]
    assert got["forwarded"] < 10, got


def test_reused_tuple_normal_timeout(lab):
    """A new connection on the 4-tuple of one that ended with both FINs gets
    fresh state and the established timeout, not the 10 s closing one."""
    fw, (c1, c2), srv = kb_lab(lab)
    out = os.path.join(lab.tmp, "keepsrv.log")
    pyspawn(lab, srv, TCP_KEEP_SERVER.format(port=2223), out)
    wait_until(lambda: "2223" in lab.run(srv, "ss -ltn").stdout, 10, "server listening")
    # the server closes first (its side keeps TIME-WAIT), the client answers with its FIN
    assert tcp_client(lab, c1, SERVER, 2223, 40223, "close") == "echo:close"
    wait_until(lambda: tcp_session_time(lab, 2223) <= 1, 10, "first connection closing")
    k = KeptTcp(lab, c1, 2223, 40223)
    assert k.ask("again") == "echo:again"
    assert len(open(out).readlines()) == 2
    assert tcp_session_time(lab, 2223) > 100, lab.out("get session dst-port 2223")
    assert k.ask("still") == "echo:still"


# ------------------------------------------------- route changes under traffic

ROUTE_STORM = '''set interface "trust0" zone "Trust"
set interface "out1" zone "Trust"
set interface "out2" zone "Trust"
set interface trust0 ip 10.1.0.1/24
set interface trust0 route
set interface out1 ip 10.2.0.1/24
set interface out1 route
set interface out2 ip 10.3.0.1/24
set interface out2 route
set interface trust0 port net_af_packet0
set interface out1 port net_af_packet1
set interface out2 port net_af_packet2
set worker idle-sleep 100
set route 10.9.0.0/16 interface out1 gateway 10.2.0.2
'''

# What the storm changes, in a loop (every route but 10.9.0.0/16, which stays):
# tbl8 groups come and go under 10.9.1.0/24 (always out1) and 10.9.2.0/24 (its
# /28 out2), a /17 under the /16 and a /16 that nothing covers are replaced
# between the two interfaces, a /24 comes and goes on out2; every churned
# route has its own gateway, so next-hop slots are freed and reused all the
# time. Some route covers every destination at every moment: a replace or a
# delete implies no loss, so no packet may be a no-route drop.
STORM_LINES = [
    "set route 10.9.1.0/28 interface out1 gateway 10.2.0.3",
    "set route 10.9.2.0/28 interface out2 gateway 10.3.0.3",
    "set route 10.9.128.0/17 interface out2 gateway 10.3.0.2",
    "set route 10.9.7.0/24 interface out2 gateway 10.3.0.4",
    "set route 10.7.0.0/16 interface out2 gateway 10.3.0.5",
    "unset route 10.9.1.0/28",
    "set route 10.9.128.0/17 interface out1 gateway 10.2.0.4",
    "unset route 10.9.2.0/28",
    "unset route 10.9.7.0/24",
    "set route 10.7.0.0/16 interface out1 gateway 10.2.0.3",
    "set route 10.9.128.0/17 interface out2 gateway 10.3.0.6",
]

# Destinations the sender cycles through, and the interfaces a route valid at
# some moment of the storm sends each to ("out1", "out2"; none: a no-route drop).
STORM_DSTS = {
    "10.9.1.5": {"out1"}, "10.9.1.200": {"out1"}, "10.9.2.200": {"out1"}, "10.9.3.1": {"out1"},
    "10.9.2.5": {"out1", "out2"}, "10.9.200.1": {"out1", "out2"}, "10.9.7.7": {"out1", "out2"},
    "10.7.1.1": {"out1", "out2"},
}

STORM_SEND = '''
dsts = %r
end = time.time() + %d
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
sent = dict.fromkeys(dsts, 0)
i = 0
while time.time() < end:
    for d in dsts:
        try:
            s.sendto(b"storm " + d.encode(), (d, 5000 + i %% 64))
            sent[d] += 1
        except OSError:
            pass
    i += 1
say(sent=sent)
'''

STORM_RECV = '''
import signal
r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
r.bind(("eth0", 0))
seen = {}
def done(*a):
    say(seen=seen)
    os._exit(0)
signal.signal(signal.SIGTERM, done)
say(ready=1)
while True:
    f = r.recv(2048)
    if len(f) < 34 or f[23] != 17:
        continue
    d = socket.inet_ntoa(f[30:34])
    seen[d] = seen.get(d, 0) + 1
'''


def drop_counts(lab):
    """The drop reasons of `get counter flow` as {reason: count}."""
    out = lab.out("get counter flow")
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^  ([a-z][\w-]*)\s+(\d+)  ", out[out.index("drops by reason:"):], re.M)}


def iface_flow(lab, name):
    """(in, out) packets of interface name as dpnat's workers counted them."""
    m = re.search(r"Flow counters of .*:\nin packets\s+(\d+) \| out packets\s+(\d+)",
                  lab.out(f"get counter statistics interface {name}"))
    return int(m.group(1)), int(m.group(2))


def test_route_changes_under_traffic_two_workers(lab):
    """Issue 15: routes added, removed and replaced in a loop (CLI and SIGHUP
    reloads) while two workers on one CPU forward as fast as a sender can
    send: no packet leaves by an interface that no route valid during the
    change named, and every packet dpnat received is forwarded or a counted
    drop - none for want of a route, since one always covered each."""
    fw, a, b1, b2 = lab.ns("fw"), lab.ns("a"), lab.ns("b1"), lab.ns("b2")
    lab.veth(fw, "fwa", a, "eth0")
    lab.veth(fw, "fwb", b1, "eth0")
    lab.veth(fw, "fwc", b2, "eth0")
    for n in (a, b1, b2):   # nothing but the test's packets on dpnat's ports
        lab.run(n, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.eth0.disable_ipv6=1")
    lab.addr(a, "eth0", "10.1.0.2/24", gw="10.1.0.1")
    lab.addr(b1, "eth0", "10.2.0.2/24")
    lab.addr(b2, "eth0", "10.3.0.2/24")
    macs = {n: lab.run(n, "cat /sys/class/net/eth0/address").stdout.strip() for n in (b1, b2)}
    arps = "".join(f"set arp 10.2.0.{i} {macs[b1]} out1\n" for i in (2, 3, 4)) + \
           "".join(f"set arp 10.3.0.{i} {macs[b2]} out2\n" for i in (2, 3, 4, 5, 6))
    base = ROUTE_STORM + arps + "set route 10.7.0.0/16 interface out1 gateway 10.2.0.3\n"
    lab.start_dpnat(fw, ["fwa", "fwb", "fwc"], base + "set route 10.9.128.0/17 interface out1 gateway 10.2.0.4\n",
                    lcores="0,1@1,2@1", vdev_opts=",qpairs=2")
    fw_mac = iface_mac(lab, "trust0")
    lab.run(a, f"ip neigh replace 10.1.0.1 lladdr {fw_mac} dev eth0 nud permanent")
    for n in (b1, b2):
        lab.run(n, "ip link set eth0 arp off")
    recv = {}
    for name, n in (("out1", b1), ("out2", b2)):
        recv[name] = (os.path.join(lab.tmp, f"{name}.json"), None)
        p = pyspawn(lab, n, STORM_RECV, out=recv[name][0])
        recv[name] = (recv[name][0], p)
        wait_file(recv[name][0], '"ready"')
    f0, d0 = flow(lab), drop_counts(lab)
    io0 = {i: iface_flow(lab, i) for i in ("trust0", "out1", "out2")}
    out = os.path.join(lab.tmp, "send.json")
    seconds = 15
    sender = pyspawn(lab, a, STORM_SEND % (list(STORM_DSTS), seconds), out=out)
    # The storm: CLI lines through one dpnat-cli reading stdin, and reloads of
    # the file (alternating what 10.9.128.0/17 says) in between.
    conf = os.path.join(lab.tmp, "dpnat.conf")
    script = os.path.join(lab.tmp, "storm.txt")
    with open(script, "w") as f:
        f.write("\n".join(STORM_LINES * 20) + "\n")
    end, rounds, reloads = time.time() + seconds - 2, 0, 0
    while time.time() < end:
        lab.run(fw, f"/bin/sh -c '{CLI} -s {lab.sock} < {script} > /dev/null 2>&1'", check=False)
        rounds += 1
        via = ("out2 gateway 10.3.0.2", "out1 gateway 10.2.0.4")[reloads % 2]
        with open(conf, "w") as f:
            f.write(base + f"set route 10.9.128.0/17 interface {via}\n")
        lab.dpnat.send_signal(signal.SIGHUP)
        reloads += 1
    sent = json.loads(wait_file(out, '"sent"').strip().splitlines()[-1])["sent"]
    # Drained: nothing more arrives once the sender stopped.
    def settled(last=[None]):
        now = iface_flow(lab, "trust0"), iface_flow(lab, "out1"), iface_flow(lab, "out2")
        same, last[0] = now == last[0], now
        return same
    wait_until(settled, WAIT, "dpnat's counters settled", step=0.5)
    f1, d1 = flow(lab), drop_counts(lab)
    io1 = {i: iface_flow(lab, i) for i in ("trust0", "out1", "out2")}
    seen = {}
    for name, (path, p) in recv.items():
        p.send_signal(signal.SIGTERM)
        seen[name] = json.loads(wait_file(path, '"seen"').strip().splitlines()[-1])["seen"]
    # Traffic flowed through both workers while routes changed.
    assert rounds >= 1 and reloads >= 1, (rounds, reloads)
    assert sum(sent.values()) > 1000, sent
    per = re.findall(r"worker (\d): session hits", lab.out("get counter flow"))
    assert len(per) == 2, per
    # No packet left by an interface that no route valid during the change named.
    wrong = {(name, d, n) for name in seen for d, n in seen[name].items()
             if d in STORM_DSTS and name not in STORM_DSTS[d]}
    assert not wrong, (wrong, seen)
    got = {name: sum(n for d, n in seen[name].items() if d in STORM_DSTS) for name in seen}
    assert got["out1"] > 0 and got["out2"] > 0, seen
    # Every packet dpnat took in is accounted for: forwarded out of one of
    # the two, or a counted drop (a full transmit queue; stray non-IP frames
    # of the namespaces themselves); none for want of a route.
    rx = sum(io1[i][0] - io0[i][0] for i in io0)
    tx = sum(io1[i][1] - io0[i][1] for i in io0)
    drops = {k: d1[k] - d0[k] for k in d1 if d1[k] != d0[k]}
    punted = f1["slow path"] - f0["slow path"]
    assert rx > 0 and rx == tx + sum(drops.values()) + punted, (rx, tx, drops, punted)
    assert set(drops) <= {"tx-full", "ethertype"}, drops
    # Receivers saw no more than dpnat sent each way (their own losses aside).
    for name in ("out1", "out2"):
        assert got[name] <= io1[name][1] - io0[name][1], (name, got, io0, io1)
    # What the changes unlinked went through the reclamation queues and came back.
    assert f1["route next hops"] > f0["route next hops"], f1
    rcu = re.search(r"^  route next hops\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$",
                    lab.wait_out("get counter flow", r"^  route next hops\s+(\d+)\s+\1\s+0\s+0$"), re.M)
    assert rcu, lab.out("get counter flow")
    alive(lab)
