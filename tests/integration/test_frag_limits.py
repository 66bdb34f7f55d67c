# SPDX-License-Identifier: BSD-3-Clause
"""Issue 14, findings 9 and 15: IP fragments of translated flows are forwarded
(both directions, PPTP GRE through an open gate included, reassembled by the
receivers), and one inside host cannot hold every session or every PPTP call
(`set zone Z screen limit-session source-ip-based N`,
`set alg pptp xlate per-client N`)."""
import re

from test_pptp_kb import start_server, client
from test_reliability import (PUB, SERVER, Ctl, flow, flow_grown, gre_echo, kb_lab_pcap,
                              lines_of, plain_switch, raw_frame_send, iface_mac, udp_ask,
                              udp_echo_server, wait_until, xlate_used)
from lab import WAIT, kb_lab


def frag(lab):
    """`get flow frag` as a dict."""
    out = lab.out("get flow frag")
    m = re.search(r"tracked: (\d+) in use, max (\d+), timeout (\d+) s\n"
                  r"first fragments (\d+), failed (\d+); completed (\d+), timed out (\d+)\n"
                  r"later fragments translated (\d+), untracked (\d+)", out)
    assert m, out
    return dict(zip(("used", "max", "timeout", "first", "failed", "completed", "timed_out",
                     "later", "untracked"), map(int, m.groups())))


def src_view(lab, command):
    """`get session limit` / `get alg pptp xlate per-client`: counters and top hosts."""
    out = lab.out(command)
    m = re.search(r"source hosts: (\d+) counted, max (\d+); \w+ counted (\d+)\n"
                  r"refused: at limit (\d+), table full (\d+)", out)
    assert m, out
    d = dict(zip(("sources", "max", "units", "at_limit", "full"), map(int, m.groups())))
    d["top"] = {a: int(n) for a, n in re.findall(r"^  ([\d.]+)\s+(\d+)$", out, re.M)}
    d["text"] = out
    return d


def test_ip_fragments_forwarded_both_ways(lab):
    fw, (c1, c2), srv = kb_lab_pcap(lab, extra_conf="set flow frag max 64\n")
    plain_switch(lab)
    assert "1 received" in lab.run(c1, "ping -c 1 -s 1400 -W 2 172.19.50.129").stdout
    base = flow(lab)
    # 3008 bytes of ICMP: three fragments each way per echo (1480 + 1480 + 48),
    # the first of each a new session's or its reply's, reassembled by the server and the client
    r = lab.run(c1, "ping -c 2 -s 3000 -W 3 172.19.50.129", check=False)
    assert "2 received" in r.stdout, r.stdout
    f = wait_until(lambda: (lambda x: x if x["completed"] >= 4 else None)(frag(lab)),
                   5, "four datagrams completed")
    assert (f["max"], f["timeout"], f["first"], f["later"]) == (64, 5, 4, 8), f
    assert f["used"] == 0 and f["failed"] == 0 and f["untracked"] == 0, f
    assert flow(lab)["ip-frag"] == base["ip-frag"]
    # a UDP datagram of 4000 bytes each way: the NAT port rides in the first fragment,
    # the UDP checksum over the whole datagram is right at both ends
    u, ulog = udp_echo_server(lab, srv, 7000)
    big = "u" * 4000
    assert udp_ask(lab, c2, SERVER, 7000, 3000, big) == "echo:" + big
    got = lines_of(ulog)[-1]
    assert got["src"] == PUB and got["data"] == big and got["sport"] != 3000, got
    # fragments to dpnat itself are still not answered (counted as unhandled)
    f = flow(lab)
    r = lab.run(c1, "ping -c 1 -s 3000 -W 1 60.60.60.1", check=False)
    assert r.returncode != 0
    assert flow_grown(lab, f, {"to-me-unhandled": 3})["to-me-unhandled"] - f["to-me-unhandled"] == 3


def test_later_fragment_without_first_is_dropped(lab):
    """A later fragment whose first was not seen (or has no session) is a counted drop,
    from either side, and nothing is forwarded."""
    fw, (c1, c2), srv = kb_lab_pcap(lab)
    plain_switch(lab)
    base, f0 = flow(lab), frag(lab)
    raw_frame_send(lab, c1, "eth0", iface_mac(lab, "ethernet4/2"), f'''
data = b"z" * 64
frames = [ip_hdr("60.60.60.2", {SERVER!r}, 17, len(data), ident=77, frag=0x2000 | 185) + data,
          ip_hdr("60.60.60.2", {SERVER!r}, 17, len(data), ident=78, frag=185) + data]
''')
    f = flow_grown(lab, base, {"ip-frag": 2})
    assert f["ip-frag"] - base["ip-frag"] == 2 and f["forwarded"] == base["forwarded"], f
    assert frag(lab)["untracked"] - f0["untracked"] == 2


def test_pptp_gre_fragments_through_gate(lab):
    fw, (c1, c2), srv = kb_lab_pcap(lab)
    plain_switch(lab)
    s = start_server(lab, srv)
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    f0 = frag(lab)
    # 3000 bytes of PPP in enhanced GRE: fragmented by the client's and the server's
    # kernels, the Call ID in the first fragment translated each way
    assert gre_echo(lab, c1, 17382, b"g" * 3000)
    f = frag(lab)
    assert f["first"] - f0["first"] >= 2 and f["later"] - f0["later"] >= 4, f
    assert f["untracked"] == f0["untracked"], f


def test_session_limit_per_source(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set zone Trust screen limit-session source-ip-based 3\n")
    u, ulog = udp_echo_server(lab, srv, 7000)
    for sport in (3000, 3001, 3002):
        assert udp_ask(lab, c1, SERVER, 7000, sport, f"a{sport}") == f"echo:a{sport}"
    base = flow(lab)
    # the fourth session of 60.60.60.2 is refused and counted; its existing ones go on
    assert udp_ask(lab, c1, SERVER, 7000, 3003, "over", timeout=0.5, tries=1) is None
    assert flow_grown(lab, base, {"src-session-limit": 1})["session-full"] == base["session-full"]
    assert udp_ask(lab, c1, SERVER, 7000, 3000, "again") == "echo:again"
    # another host is not concerned
    assert udp_ask(lab, c2, SERVER, 7000, 3003, "other") == "echo:other"
    v = src_view(lab, "get session limit")
    assert "zone Trust        3 sessions per source host" in v["text"], v["text"]
    assert v["top"] == {"60.60.60.2": 3, "60.60.60.3": 1} and v["at_limit"] >= 1, v
    assert v["sources"] == 2 and v["units"] == 4, v
    # raised at run time, the same flow passes
    lab.cli("set zone Trust screen limit-session source-ip-based 4")
    assert udp_ask(lab, c1, SERVER, 7000, 3003, "now") == "echo:now"
    assert "set zone \"Trust\" screen limit-session source-ip-based 4" in lab.out("get config")
    # sessions that leave give their count back
    lab.cli("clear session src-ip 60.60.60.2")
    wait_until(lambda: src_view(lab, "get session limit")["top"].get("60.60.60.2") is None, WAIT,
               "60.60.60.2 uncounted")


def test_pptp_calls_per_client(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set alg pptp xlate per-client 1\n")
    s = start_server(lab, srv, cids="17382,999,555")
    a = client(lab, c1, 32768, 4762, "c1")
    assert a.wait_for("gre_echo")["ok"]
    # a second call of 60.60.60.2 (on its own control connection) is refused and counted
    assert Ctl(lab, c1).call(4763, 32769, timeout=2)["got"] == "timeout"
    v = src_view(lab, "get alg pptp xlate per-client")
    assert "pptp xlate per-client: 1 calls per inside host" in v["text"], v["text"]
    assert v["at_limit"] >= 1 and v["top"] == {"60.60.60.2": 1}, v
    assert flow(lab)["pptp-xlate-fail"] >= 1
    # another client still gets its call
    c = client(lab, c2, 16384, 2249, "c2")
    assert c.wait_for("gre_echo")["ok"]
    assert xlate_used(lab)[0] == 2
    assert src_view(lab, "get alg pptp xlate per-client")["top"] == {"60.60.60.2": 1, "60.60.60.3": 1}
    # the call ends: its count is given back
    lab.cli("clear alg pptp xlate src-ip 60.60.60.3")
    wait_until(lambda: src_view(lab, "get alg pptp xlate per-client")["top"] == {"60.60.60.2": 1},
               10, "60.60.60.3's call uncounted")
