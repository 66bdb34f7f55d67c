# SPDX-License-Identifier: BSD-3-Clause
"""Issue 5: golden outputs of every view on a known state: the KB's lab
replayed with scripted peers (clients 60.60.60.2:4762 and 60.60.60.3:2249,
Call IDs 32768 and 16384; server Call IDs 17382 and 999).

Only what cannot be the same from run to run is masked: MAC addresses
(veths get random ones), seconds left and ARP ages. Regenerate with
DPNAT_GOLDEN_UPDATE=1 after a deliberate change of a view, and review the diff.
"""
import os
import re

from lab import kb_lab
from test_pptp_kb import client, start_server

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
VIEWS = [
    "get session",
    "get session dst-port 1723",
    "get session protocol 47",
    "get alg pptp xlate",
    "get alg",
    "get alg pptp",
    "get interface",
    "get interface ethernet4/2",
    "get route",
    "get arp",
    "get policy",
    "get config",
    "get log",
    "get session ?",
    "set ?",                       # issue 20: set/unset have ? like the views
    "set interface ethernet4/1 ?",
    "set route 10.9.0.0/16 ?",
    "help",
]


def normalize(text):
    text = re.sub(r"\b[0-9a-f]{12}\b", "<mac>", text)
    text = re.sub(r"time:\d+", "time:<s>", text)
    text = re.sub(r"(?m)^( \S+\s+<mac> \S+\s+\S+)\s+\d+", r"\1 <age>", text)
    return text


def test_golden_views(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    start_server(lab, srv)
    client(lab, c1, 32768, 4762, "c1")
    client(lab, c2, 16384, 2249, "c2")
    update = os.environ.get("DPNAT_GOLDEN_UPDATE") == "1"
    failures = []
    for v in VIEWS:
        got = normalize(f"dpnat-> {v}\n" + lab.out(v))
        path = os.path.join(GOLDEN, v.replace(" ", "_").replace("/", "_").replace("?", "q") + ".txt")
        if update:
            with open(path, "w") as f:
                f.write(got)
            continue
        want = open(path).read()
        if got != want:
            failures.append(f"--- {path}\n{want}\n+++ got\n{got}")
    assert not failures, "\n".join(failures)
