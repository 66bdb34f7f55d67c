# SPDX-License-Identifier: BSD-3-Clause
"""Issue 18: dpnat's NAT behaviour (RFC 4787, 5382) as a third party finds
it: coturn's STUN server with two addresses on the Untrust side (RFC 5780:
alternate address and port), its turnutils_natdiscovery on an inside host.
What it reports must be what the configuration promises: ScreenOS's
address-and-port-dependent mapping and filtering by default, endpoint-
independent mapping with `set nat mapping endpoint-independent`, then
endpoint-independent filtering and hairpinning when configured."""
import os
import re
import shutil

import pytest

from lab import WAIT, kb_lab
from test_ops import fetch, metric

SRV, SRV2, PUB = "172.19.50.129", "172.19.50.130", "172.19.51.234"
EIM = "set nat mapping endpoint-independent\n"
FULL = EIM + "set nat filtering endpoint-independent\nset nat hairpin\nset metrics listen 127.0.0.1:19472\n"


def stun_lab(lab, conf):
    """The KB lab with conf added, the server namespace a STUN server on two
    addresses. Returns (firewall namespace, the first inside host)."""
    if shutil.which("turnserver") is None or shutil.which("turnutils_natdiscovery") is None:
        pytest.skip("coturn is not installed (tools/deps.sh)")
    fw, (c1, c2), srv = kb_lab(lab, extra_conf=conf)
    lab.run(srv, f"ip addr add {SRV2}/23 dev eth0")
    log = open(os.path.join(lab.tmp, "turnserver.log"), "w")
    p = lab.spawn(srv, f"turnserver --stun-only -L {SRV} -L {SRV2} --no-cli -n --no-tls --no-dtls "
                       f"--log-file stdout --simple-log --pidfile {lab.tmp}/turn.pid",
                  stdout=log, stderr=log)
    # RFC 5780 wants both addresses and both ports (3478, 3479) answering.
    for port in (3478, 3479):
        lab.wait_port(srv, port, "udp", pid=p.pid)
    return fw, c1


def discover(lab, c, flag):
    """turnutils_natdiscovery's verdict lines (NAT with ...!, hairpinning) for one test."""
    out = lab.run(c, f"timeout {2 * WAIT} turnutils_natdiscovery {flag} {SRV}", check=False).stdout
    assert "UDP reflexive addr: " + PUB in out, out   # it saw dpnat's public address
    return out


def test_default_is_screenos(lab):
    _, c1 = stun_lab(lab, "")
    assert "NAT with Address and Port Dependent Mapping!" in discover(lab, c1, "-m")
    assert "NAT with Address and Port Dependent Filtering!" in discover(lab, c1, "-f")
    assert "successful hairpinning" not in discover(lab, c1, "-H")
    out = lab.out("get nat mapping")
    assert "mapping per session, filtering address-and-port-dependent, hairpin off" in out, out
    assert "0 out of 65536 nat mappings are used." in out, out


def test_endpoint_independent_mapping(lab):
    _, c1 = stun_lab(lab, EIM)
    out = discover(lab, c1, "-m")
    assert "NAT with Endpoint Independent Mapping!" in out, out
    # Filtering stays address-and-port dependent: the server's answers from the
    # other address and port were refused, counted, and made no session.
    assert "NAT with Address and Port Dependent Filtering!" in discover(lab, c1, "-f")
    assert "successful hairpinning" not in discover(lab, c1, "-H")
    out = lab.out("get nat mapping")
    assert re.search(r"inbound 0, hairpin 0$", out, re.M), out
    assert re.search(r"^udp   60\.60\.60\.2/\d+ -> 172\.19\.51\.234/\d+, sessions \d+, policy 1,", out, re.M), out
    assert re.search(r"to-me-unhandled +[1-9]", lab.out("get counter flow")), lab.out("get counter flow")


def test_full_cone_and_hairpin(lab):
    fw, c1 = stun_lab(lab, FULL)
    assert "NAT with Endpoint Independent Mapping!" in discover(lab, c1, "-m")
    assert "NAT with Endpoint Independent Filtering!" in discover(lab, c1, "-f")
    assert "Received a request (maybe a successful hairpinning)" in discover(lab, c1, "-H")
    out = lab.out("get nat mapping")
    assert "mapping endpoint-independent, filtering endpoint-independent, hairpin on" in out, out
    m = re.search(r"^(\d+) out of (\d+) nat mappings are used\.\ncreated (\d+), freed (\d+), reused (\d+), "
                  r"failed (\d+), inbound ([1-9]\d*), hairpin ([1-9]\d*)$", out, re.M)
    assert m, out
    # The same counts on the Prometheus endpoint.
    rc, body = fetch(lab, fw, "http://127.0.0.1:19472/metrics")
    assert rc == 0, body
    for name, v in (("dpnat_nat_mappings", 1), ("dpnat_nat_mappings_max", 2),
                    ("dpnat_nat_mappings_created_total", 3), ("dpnat_nat_mapping_reuses_total", 5),
                    ("dpnat_nat_mapping_failures_total", 6), ("dpnat_nat_mapping_inbound_total", 7),
                    ("dpnat_nat_mapping_hairpin_total", 8)):
        assert metric(body, name) == int(m.group(v)), (name, out)
