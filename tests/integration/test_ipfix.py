# SPDX-License-Identifier: BSD-3-Clause
"""Issue 18: the NAT event log exported as IPFIX (RFC 7011, RFC 8158 NAT
events) to real receivers: nfdump's nfcapd stores it and nfdump prints the
NAT fields; tshark decodes every field of the capture from the templates.
Every session and every PPTP call of a run is there exactly once as created
and once as deleted, and the counters account for every record
(sent + lost = created)."""
import os
import re
import shutil
import signal
import xml.etree.ElementTree as ET
import subprocess

import pytest

from lab import WAIT, kb_lab, wait_until
from test_napt import listen_tcp, tcp_client
from test_natlog import two_calls_made_and_ended
from test_ops import fetch, metric
from test_reliability import flow

PUB = "172.19.51.234"
SRV = "172.19.50.129"
NFCAPD = 14739          # nfcapd, captured by tshark
SINK = 14740            # a second collector, on 127.0.0.2 (nobody listens: its datagrams are still sent)
CREATE, DELETE = 4, 5   # natEvent: NAT44 session create / delete (RFC 8158, IANA)
PEN = 32473             # dpnat's enterprise elements (the documentation PEN, RFC 5612)

CONF = (f"set log nat enable\nset log nat ipfix collector 127.0.0.1 port {NFCAPD}\n"
        f"set log nat ipfix collector 127.0.0.2 port {SINK}\n"
        "set log nat ipfix template-refresh 2\nset metrics listen 127.0.0.1:19472\n")


def receivers(lab, ns):
    """tshark capturing UDP NFCAPD on lo of ns and nfcapd storing it; (nfcapd, tshark, flow dir, pcap)."""
    for tool in ("nfcapd", "nfdump", "tshark"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (tools/deps.sh)")
    flows = os.path.join(lab.tmp, "flows")
    os.makedirs(flows, exist_ok=True)
    pcap = os.path.join(lab.tmp, "ipfix.pcap")
    err = os.path.join(lab.tmp, "tshark.err")
    t = lab.spawn(ns, f"tshark -n -i lo -f 'udp port {NFCAPD}' -w {pcap}", stderr=open(err, "w"))
    wait_until(lambda: "Capturing on" in open(err).read(), 4 * WAIT, "tshark capturing")
    n = lab.spawn(ns, f"nfcapd -w {flows} -b 127.0.0.1 -p {NFCAPD} -t 3600",
                  stdout=open(os.path.join(lab.tmp, "nfcapd.out"), "w"), stderr=subprocess.STDOUT)
    lab.wait_port(ns, NFCAPD, "udp", pid=n.pid)
    return n, t, flows, pcap


def stop(p, sig):
    """End a receiver the way an operator would: it writes out what it holds."""
    p.send_signal(sig)
    p.wait(timeout=4 * WAIT)


def stop_nfcapd(lab, ns, p):
    """Stop nfcapd once it has read every datagram waiting in its socket (Recv-Q 0)."""
    wait_until(lambda: lab.run(ns, f"ss -Hlnu 'sport = :{NFCAPD}'").stdout.split()[1:2] == ["0"], 4 * WAIT,
               "nfcapd reading its socket")
    stop(p, signal.SIGTERM)


def nfdump(flows):
    """The records nfcapd stored, as `nfdump -o raw` prints them: dicts of its field names to values."""
    r = subprocess.run(["nfdump", "-R", flows, "-o", "raw"], capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 0, r.stderr
    recs = []
    for block in r.stdout.split("Flow Record:")[1:]:
        recs.append({k.strip(): v.strip().split(" ")[0].rstrip(":") for k, v in
                     (line.split("=", 1) for line in block.splitlines() if "=" in line)})
    return recs, r.stdout


def tshark(pcap):
    """tshark's decoding of the capture (from the templates it carries): the messages as (sequence,
    domain, data records, template records) and every data record as a dict of cflow field to value,
    dpnat's enterprise elements as pen:N."""
    r = subprocess.run(["tshark", "-n", "-r", pcap, "-d", f"udp.port=={NFCAPD},cflow", "-T", "pdml"],
                       capture_output=True, text=True, timeout=4 * WAIT)
    assert r.returncode == 0, r.stderr
    msgs, recs = [], []
    for pkt in ET.fromstring(r.stdout).iter("packet"):
        cf = next(pr for pr in pkt.iter("proto") if pr.get("name") == "cflow")
        top = {f.get("name"): f.get("show") for f in cf.iter("field")}
        n = tmpl = 0
        for st in cf.iter("field"):
            if not st.get("show", "").startswith("Set "):
                continue
            sid = int(next(f.get("show") for f in st if f.get("name") == "cflow.flowset_id"))
            tmpl += sum(1 for f in st.iter("field") if f.get("name") == "cflow.template_id")
            for flow in (f for f in st if f.get("show", "").startswith("Flow ")):
                rec = {"set": sid}
                for f in flow:
                    m = re.search(r"Documentation Use\) Type (\d+): Value \(hex bytes\): (.*)$", f.get("showname", ""))
                    if m:
                        rec[f"pen:{m.group(1)}"] = int(m.group(2).replace(" ", ""), 16)
                    else:
                        rec[f.get("name")] = f.get("show")
                recs.append(rec)
                n += 1
        msgs.append((int(top["cflow.sequence"]), int(top["cflow.od_id"]), n, tmpl))
    return msgs, recs


def captured(pcap, done):
    """Wait until done(messages) holds for the capture tshark is still writing (dumpcap writes it
    a while after the datagram went by; stopping it at once may lose the last ones)."""
    def check():
        try:
            return done(tshark(pcap)[0])
        except (AssertionError, ET.ParseError, StopIteration, KeyError):    # a packet half written
            return False
    wait_until(check, 4 * WAIT, "the capture", step=0.5)


def check_sequences(msgs):
    """RFC 7011: each message's sequence counts the data records sent before it, templates count none."""
    seq = 0
    assert msgs[0][3] == 5, msgs    # the templates first: sessions, PPTP calls, ports exhausted, quota, port blocks
    for s, dom, n, _ in msgs:
        assert (s, dom) == (seq, 1), msgs
        seq += n
    return seq


def test_sessions_and_calls_exported_once_each_way(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=CONF)
    nfc, tsh, flows, pcap = receivers(lab, fw)
    lab.cli("set log nat ipfix enable")
    lab.wait_out("get log nat", rf"collector 127.0.0.1 port {NFCAPD}: sequence 0, messages [1-9]\d* \(templates [1-9]")
    # Sessions: three UDP, two TCP.
    lab.spawn(srv, "nc -u -l -k -p 5353", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 5353, "udp")
    for c, sport in ((c1, 3000), (c1, 3001), (c2, 3000)):
        lab.run(c, f"bash -c 'echo x | nc -u -q 0 -w 1 -p {sport} {SRV} 5353'", check=False)
    p, _ = listen_tcp(lab, srv, 8080, 2)
    assert tcp_client(lab, c1, SRV, 8080, 40000, "a") == "echo:a"
    assert tcp_client(lab, c2, SRV, 8080, 40001, "b") == "echo:b"
    p.wait(timeout=WAIT)
    lab.wait_out("get session", "^Total 5 sessions")
    lab.cli("clear session")
    lab.wait_out("get session", "^Total 0 sessions")
    lab.wait_out("get log nat", r"records queued:\s+0$")
    # Templates again after the refresh interval (2 s), to both collectors.
    view = lab.wait_out("get log nat", rf"port {NFCAPD}: sequence 10, messages \d+ \(templates ([2-9]|\d\d+)\)",
                        timeout=4 * WAIT)
    assert re.search(rf"port {SINK}: sequence 10, ", view), view
    assert re.search(r"records created: 10$", view, re.M), view
    assert re.search(r"records sent:\s+10$", view, re.M), view
    assert re.search(r"records lost:\s+0 ", view, re.M), view
    assert "IPFIX: enabled, 2 collectors, template refresh 2 s, mtu 1500" in view, view
    assert re.search(r"records sent 10, records lost 0, messages sent \d+ \(templates \d+\), send errors 0",
                     view), view
    rc, body = fetch(lab, fw, "http://127.0.0.1:19472/metrics")
    assert rc == 0, body
    assert metric(body, "dpnat_ipfix_records_sent_total") + metric(body, "dpnat_ipfix_records_lost_total") \
        == metric(body, "dpnat_natlog_records_created_total") == 10
    assert metric(body, "dpnat_ipfix_template_messages_sent_total") >= 4
    # The capture holds every record and the re-sent templates too.
    captured(pcap, lambda msgs: sum(m[2] for m in msgs) == 10 and sum(m[3] for m in msgs) >= 8)
    stop_nfcapd(lab, fw, nfc)
    stop(tsh, signal.SIGINT)
    want = sorted([("60.60.60.2", "3000", "17"), ("60.60.60.2", "3001", "17"), ("60.60.60.3", "3000", "17"),
                   ("60.60.60.2", "40000", "6"), ("60.60.60.3", "40001", "6")])

    # nfdump: each session once created (natEvent 4), once deleted (5), with its translation.
    recs, text = nfdump(flows)
    assert len(recs) == 10, text
    key = lambda r: (r["src addr"], r["src port"], r["proto"], r["src xlt port"])
    for ev in ("4", "5"):
        got = [r for r in recs if r["nat event"] == ev]
        assert sorted(k[:3] for k in map(key, got)) == want, text
        assert len({key(r) for r in got}) == 5, text
    assert {key(r) for r in recs if r["nat event"] == "4"} == {key(r) for r in recs if r["nat event"] == "5"}
    for r in recs:
        assert (r["dst addr"], r["src xlt ip"], r["dst xlt ip"]) == (SRV, PUB, SRV), r
        assert r["dst xlt port"] == r["dst port"] and r["dst port"] in ("5353", "8080"), r
        assert int(r["src xlt port"]) >= 1024, r
        assert abs(int(r["Event time"]) - int(r["received at"])) < 2000, r   # milliseconds, UTC

    # tshark: every field of every record from the templates, the sequence numbers, nothing else.
    msgs, trecs = tshark(pcap)
    assert check_sequences(msgs) == 10, msgs
    fields = ["cflow.nat_event", "cflow.protocol", "cflow.srcaddr", "cflow.srcport",
              "cflow.post_natsource_ipv4_address", "cflow.post_naptsource_transport_port", "cflow.dstaddr",
              "cflow.dstport", "cflow.post_natdestination_ipv4_address",
              "cflow.post_naptdestination_transport_port"]
    assert all(set(r) == {"set", "cflow.observation_time_milliseconds"} | set(fields) for r in trecs), trecs
    assert sorted(tuple(r[f] for f in fields) for r in trecs) == sorted(
        (r["nat event"], r["proto"], r["src addr"], r["src port"], r["src xlt ip"], r["src xlt port"],
         r["dst addr"], r["dst port"], r["dst xlt ip"], r["dst xlt port"]) for r in recs)


def test_pptp_calls_exported_once_each_way(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=CONF)
    nfc, tsh, flows, pcap = receivers(lab, fw)
    lab.cli("set log nat ipfix enable")
    lab.wait_out("get log nat", rf"collector 127.0.0.1 port {NFCAPD}: sequence 0, messages [1-9]\d* \(templates [1-9]")
    s = two_calls_made_and_ended(lab, c1, c2, srv)
    view = lab.wait_out("get log nat", r"records queued:\s+0$")
    captured(pcap, lambda msgs: sum(m[2] for m in msgs) == 8)
    stop_nfcapd(lab, fw, nfc)
    stop(tsh, signal.SIGINT)
    assert re.search(r"records created: 8$", view, re.M), view
    assert re.search(r"records sent:\s+8$", view, re.M), view
    assert re.search(r"records sent 8, records lost 0, ", view), view
    msgs, trecs = tshark(pcap)
    assert check_sequences(msgs) == 8, msgs
    calls = [r for r in trecs if r["set"] == 257]
    sess = [r for r in trecs if r["set"] == 256]
    # The two calls, once opened and once ended: client, public address, server and the three Call IDs.
    key = lambda r: (r["cflow.srcaddr"], r["pen:1"], r["cflow.post_natsource_ipv4_address"], r["pen:2"],
                     r["cflow.dstaddr"], r["pen:3"], r["cflow.protocol"])
    new = sorted(key(r) for r in calls if r["cflow.nat_event"] == "4")
    gone = sorted(key(r) for r in calls if r["cflow.nat_event"] == "5")
    assert len(calls) == 4 and new == gone, calls
    sent = {e["call_id"] for e in s.events if e["event"] == "ocrq"}
    assert [(k[0], k[1]) for k in new] == [("60.60.60.2", 32768), ("60.60.60.3", 16384)], new
    assert {k[3] for k in new} == sent and {k[5] for k in new} == {17382, 999}, new
    assert all(k[2] == PUB and k[4] == SRV and k[6] == "47" for k in new), new
    # Their control sessions (TCP 1723), once each way, in the session template.
    assert sorted((r["cflow.srcaddr"], r["cflow.nat_event"]) for r in sess) == [
        ("60.60.60.2", "4"), ("60.60.60.2", "5"), ("60.60.60.3", "4"), ("60.60.60.3", "5")], sess
    assert all(r["cflow.dstport"] == "1723" and r["cflow.protocol"] == "6" for r in sess), sess
    # nfdump stores the same 8 records (it has no decoder for dpnat's Call-ID elements).
    recs, text = nfdump(flows)
    assert sorted((r["proto"], r["nat event"]) for r in recs) == sorted(
        [("47", "4")] * 2 + [("47", "5")] * 2 + [("6", "4")] * 2 + [("6", "5")] * 2), text


def test_records_no_collector_took_are_counted_lost(lab):
    # 198.51.100.9 has no route from the firewall namespace: the socket refuses every datagram.
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set log nat enable\nset log nat ipfix collector 198.51.100.9\n"
                                               "set log nat ipfix enable\nset metrics listen 127.0.0.1:19473\n")
    lab.spawn(srv, "nc -u -l -k -p 5353", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 5353, "udp")
    for c, sport in ((c1, 3000), (c2, 3000)):
        lab.run(c, f"bash -c 'echo x | nc -u -q 0 -w 1 -p {sport} {SRV} 5353'", check=False)
    lab.wait_out("get session", "^Total 2 sessions")
    lab.cli("clear session")
    view = lab.wait_out("get log nat", r"records created: 4\n  records sent:    0\n"
                                       r"  records lost:    4 .*\n  records queued:  0$")
    assert re.search(r"records sent 0, records lost 4, messages sent 0 \(templates 0\), send errors [1-9]", view), view
    assert re.search(r"collector 198.51.100.9 port 4739: sequence 4, messages 0 ", view), view
    rc, body = fetch(lab, fw, "http://127.0.0.1:19473/metrics")
    assert rc == 0, body
    assert metric(body, "dpnat_ipfix_records_lost_total") == metric(body, "dpnat_natlog_records_lost_total") == 4
    assert metric(body, "dpnat_natlog_records_sent_total") == 0


def test_quota_exceeded_exported_once_a_second(lab):
    # One session per source host from Trust: the client's next flows are refused (src-session-limit).
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=CONF + "set zone Trust screen limit-session source-ip-based 1\n")
    nfc, tsh, flows, pcap = receivers(lab, fw)
    lab.cli("set log nat ipfix enable")
    lab.wait_out("get log nat", rf"collector 127.0.0.1 port {NFCAPD}: sequence 0, messages [1-9]\d* \(templates [1-9]")
    lab.spawn(srv, "nc -u -l -k -p 5353", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 5353, "udp")
    # 20 datagrams, each from a new socket (a new source port, a new flow), within well under a second.
    lab.run(c1, f"bash -c 'for i in $(seq 20); do echo x > /dev/udp/{SRV}/5353; done'", check=False)
    wait_until(lambda: flow(lab).get("src-session-limit", 0) >= 19, WAIT, "19 flows refused")
    view = lab.wait_out("get log nat", r"records queued:\s+0$")
    created = int(re.search(r"records created: (\d+)$", view, re.M).group(1))
    captured(pcap, lambda msgs: sum(m[2] for m in msgs) == created)
    stop_nfcapd(lab, fw, nfc)
    stop(tsh, signal.SIGINT)
    msgs, trecs = tshark(pcap)
    assert check_sequences(msgs) == created, msgs
    quota = [r for r in trecs if r["set"] == 259]
    # 19 refusals within a second or two: one record a second, not one a packet.
    assert 1 <= len(quota) <= 2 and created == 1 + len(quota), trecs
    for r in quota:
        assert (r["cflow.nat_event"], r["cflow.nat_quota_exceeded_event"], r["cflow.max_entries_per_user"],
                r["cflow.srcaddr"]) == ("13", "3", "1", "60.60.60.2"), r
    assert [r["cflow.nat_event"] for r in trecs if r["set"] == 256] == ["4"], trecs


def test_port_blocks_exported(lab):
    """Port blocks (issue 18) as IPFIX: one record when a subscriber's block is taken (natEvent 16),
    one when it is given back (17), with the subscriber, its public address and the block's first
    and last port (portRangeStart/End), and no record of the sessions that used it."""
    from test_cgn import PUB, udp_burst
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=CONF + (
        "set policy id 1 from \"Trust\" to \"Untrust\" \"Any\" \"Any\" \"ANY\" permit nat src\n"
        "set nat port-block size 64\nset nat port-block max-blocks 1\nset session timeout udp 600\n"))
    nfc, tsh, flows, pcap = receivers(lab, fw)
    lab.cli("set log nat ipfix enable")
    lab.wait_out("get log nat", rf"collector 127.0.0.1 port {NFCAPD}: sequence 0, messages [1-9]\d* \(templates [1-9]")
    udp_burst(lab, c1, range(3000, 3020))
    lab.wait_out("get session", "^Total 20 sessions")
    m = re.search(r"^60\.60\.60\.2\s+172\.19\.51\.234\s+1\s+20\s+(\d+)-(\d+)$", lab.out("get nat port-block"), re.M)
    assert m, lab.out("get nat port-block")
    lab.cli("clear session")
    lab.wait_out("get nat port-block", r"blocks 0 in use")
    view = lab.wait_out("get log nat", r"records queued:\s+0$")
    assert re.search(r"records created: 2$", view, re.M), view
    captured(pcap, lambda msgs: sum(m[2] for m in msgs) == 2)
    stop_nfcapd(lab, fw, nfc)
    stop(tsh, signal.SIGINT)
    msgs, trecs = tshark(pcap)
    assert check_sequences(msgs) == 2, msgs
    got = sorted((r["set"], r["cflow.nat_event"], r["cflow.srcaddr"], r["cflow.post_natsource_ipv4_address"],
                  r["cflow.port_range_start"], r["cflow.port_range_end"]) for r in trecs)
    assert got == [(260, "16", "60.60.60.2", PUB, m.group(1), m.group(2)),
                   (260, "17", "60.60.60.2", PUB, m.group(1), m.group(2))], trecs
