# SPDX-License-Identifier: BSD-3-Clause
"""Issue 18: the NAT event log sent as ScreenOS traffic logs (RFC 5424 over
UDP) to a real rsyslog: every session of a small run appears exactly once as
created and once as deleted, and the counters account for every record."""
import os
import re
import shutil

import pytest

from lab import WAIT, kb_lab, wait_until
from test_napt import listen_tcp, tcp_client
from test_ops import fetch, metric

PUB = "172.19.51.234"
PORT = 15514
LINE = re.compile(r"system-notification-00257\(traffic\): start_time=\"[0-9 :-]+\" duration=(\d+) "
                  r"policy_id=(\d+) service=\S+ proto=(\d+) src zone=(\S+) dst zone=(\S+) action=Permit "
                  r"sent=0 rcvd=0 src=(\S+) dst=(\S+) src_port=(\d+) dst_port=(\d+) "
                  r"src-xlated ip=(\S+) port=(\d+) dst-xlated ip=(\S+) port=(\d+) "
                  r"session_id=(\d+) reason=(.+)$")


def rsyslog(lab, ns):
    """rsyslogd in ns receiving UDP on 127.0.0.1:PORT, each message's MSG a line of a file."""
    rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    if not os.path.exists(rsyslogd):
        pytest.skip("rsyslog is not installed (tools/deps.sh)")
    out = os.path.join(lab.tmp, "syslog.out")
    work = os.path.join(lab.tmp, "rsyslog")
    os.makedirs(work, exist_ok=True)
    conf = os.path.join(lab.tmp, "rsyslog.conf")
    open(conf, "w").write(f'''
global(workDirectory="{work}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{PORT}")
template(name="msg" type="string" string="%msg%\\n")
*.* action(type="omfile" file="{out}" template="msg")
''')
    p = lab.spawn(ns, f"{rsyslogd} -n -f {conf} -i {os.path.join(lab.tmp, 'rsyslog.pid')}")
    lab.wait_port(ns, PORT, "udp", pid=p.pid)
    return out


def records(path):
    text = open(path).read() if os.path.exists(path) else ""
    return [m.groups() for m in map(LINE.search, text.splitlines()) if m]


def test_sessions_logged_once_created_once_deleted(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=f"set log nat enable\nset syslog config 127.0.0.1 port {PORT}\n"
                                               "set syslog enable\nset metrics listen 127.0.0.1:19471\n")
    out = rsyslog(lab, fw)
    lab.spawn(srv, "nc -u -l -k -p 5353", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 5353, "udp")
    for c, sport in ((c1, 3000), (c1, 3001), (c2, 3000)):
        lab.run(c, f"bash -c 'echo x | nc -u -q 0 -w 1 -p {sport} 172.19.50.129 5353'", check=False)
    p, _ = listen_tcp(lab, srv, 8080, 2)
    assert tcp_client(lab, c1, "172.19.50.129", 8080, 40000, "a") == "echo:a"
    assert tcp_client(lab, c2, "172.19.50.129", 8080, 40001, "b") == "echo:b"
    p.wait(timeout=WAIT)
    lab.wait_out("get session", "^Total 5 sessions")
    wait_until(lambda: (lambda r: r if len(r) >= 5 else None)(records(out)), 4 * WAIT,
                      "5 creation lines at rsyslog")
    lab.cli("clear session")
    lab.wait_out("get session", "^Total 0 sessions")
    got = wait_until(lambda: (lambda r: r if len(r) >= 10 else None)(records(out)), 4 * WAIT,
                     "10 lines at rsyslog")
    new = [r for r in got if r[14] == "Creation"]
    gone = [r for r in got if r[14] != "Creation"]
    assert len(new) == 5 and len(gone) == 5, got
    # Every session exactly once each way, with its translation.
    key = lambda r: (r[13], r[5], r[7], r[6], r[8], r[9], r[10])
    assert len({key(r) for r in new}) == 5
    assert {key(r) for r in new} == {key(r) for r in gone}
    for r in got:
        assert r[1] == "1" and r[3] == "Trust" and r[4] == "Untrust", r
        assert r[9] == PUB and r[11] == r[6] and r[12] == r[8], r
    assert sorted((r[5], r[7], r[2]) for r in new) == sorted(
        [("60.60.60.2", "3000", "17"), ("60.60.60.2", "3001", "17"), ("60.60.60.3", "3000", "17"),
         ("60.60.60.2", "40000", "6"), ("60.60.60.3", "40001", "6")])
    # Nothing unaccounted for: created = sent + lost, none lost, none left queued.
    view = lab.wait_out("get log nat", r"records queued:\s+0$")
    assert re.search(r"records created: 10$", view, re.M), view
    assert re.search(r"records sent:\s+10$", view, re.M), view
    assert re.search(r"records lost:\s+0 ", view, re.M), view
    assert re.search(r"syslog: enabled, 1 collectors, 10 messages sent, 0 send errors", view), view
    rc, body = fetch(lab, fw, "http://127.0.0.1:19471/metrics")
    assert rc == 0, body
    assert metric(body, "dpnat_natlog_records_created_total") == 10
    assert metric(body, "dpnat_natlog_records_sent_total") == 10
    assert metric(body, "dpnat_natlog_records_lost_total") == 0
    assert metric(body, "dpnat_syslog_messages_sent_total") == 10


CALL = re.compile(r"\[Root\]dpnat-pptp-call: src=(\S+) dst=(\S+) call_id=(\d+) peer_call_id=(\d+) "
                  r"src-xlated ip=(\S+) call_id=(\d+) control_session_id=(\d+) reason=(\S+)$")


def two_calls_made_and_ended(lab, c1, c2, srv):
    """The KB's two PPTP calls through the lab, then ended: one by its own CCRQ/CDN (a worker), the
    other with its control session (`clear session`, the control lcore). Returns the scripted server."""
    from test_pptp_kb import client, start_server
    s = start_server(lab, srv)
    a = client(lab, c1, 32768, 4762, "c1")
    b = client(lab, c2, 16384, 2249, "c2")
    s.wait_for("ocrq", server_cid=999)
    a.wait_for("gre_echo")
    b.wait_for("gre_echo")
    a.send("clear")
    a.wait_for("cdn")
    lab.wait_out("get alg pptp xlate", "^1 out of 2000")
    lab.cli("clear session")
    lab.wait_out("get alg pptp xlate", "^0 out of 2000")
    lab.wait_out("get session", "^Total 0 sessions")
    return s


def test_pptp_calls_logged_once_created_once_deleted(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=f"set log nat enable\nset syslog config 127.0.0.1 port {PORT}\n"
                                               "set syslog enable\n")
    out = rsyslog(lab, fw)
    s = two_calls_made_and_ended(lab, c1, c2, srv)

    def calls():
        text = open(out).read() if os.path.exists(out) else ""
        return [m.groups() for m in map(CALL.search, text.splitlines()) if m]
    got = wait_until(lambda: (lambda r: r if len(r) >= 4 else None)(calls()), 4 * WAIT, "4 call lines")
    new = sorted(r[:7] for r in got if r[7] == "Creation")
    gone = sorted(r[:7] for r in got if r[7] == "Close")
    assert len(new) == 2 and new == gone, got
    assert [(r[0], r[2]) for r in new] == [("60.60.60.2", "32768"), ("60.60.60.3", "16384")]
    assert {r[3] for r in new} == {"17382", "999"}     # the server's Call IDs
    sent = {e["call_id"] for e in s.events if e["event"] == "ocrq"}
    assert {int(r[5]) for r in new} == sent              # the translated Call IDs the server saw
    assert all(r[4] == PUB and r[1] == "172.19.50.129" for r in new)
    # The control sessions: each once created, once deleted, named by the call lines.
    sess = wait_until(lambda: (lambda r: r if len([x for x in r if x[14] != "Creation"]) >= 2 else None)(
        records(out)), 4 * WAIT, "2 session close lines")
    assert sorted(r[13] for r in sess if r[14] == "Creation") == sorted(r[13] for r in sess if r[14] != "Creation")
    assert {r[6] for r in new} == {r[13] for r in sess}
    view = lab.wait_out("get log nat", r"records queued:\s+0$")
    assert re.search(r"records created: 8$", view, re.M), view
    assert re.search(r"records sent:\s+8$", view, re.M), view
