# SPDX-License-Identifier: BSD-3-Clause
"""Issue 19: what an operator meets on day one: help and version without the
EAL, the Prometheus endpoint, get tech-support, the Debian package."""
import glob
import grp
import json
import os
import re
import shlex
import signal
import stat
import subprocess
import time

from lab import BUILD, CLI, DPNAT, ROOT, WAIT, kb_lab, sh, wait_until

# Run as nobody: the EAL of an unprivileged user can neither map hugepages nor
# write /var/run/dpdk, so anything that starts it fails or leaves traces.
NOBODY = "setpriv --reuid=nobody --regid=nogroup --clear-groups"


def _unprivileged(cmd):
    # nobody must be able to reach the build (worktrees under /root may not be).
    return sh(f"{NOBODY} {cmd}", check=False, timeout=30)


def _readable_by_all(path):
    p = path
    while p != "/":
        if not os.stat(p).st_mode & stat.S_IXOTH:
            return False
        p = os.path.dirname(p)
    return True


def test_help_and_version_without_eal():
    run = _unprivileged if _readable_by_all(os.path.dirname(DPNAT)) else \
        (lambda c: sh(c, check=False, timeout=30))
    prefix = f"opshelp{os.getpid()}"
    version = re.search(r"version: '([^']+)'", open(os.path.join(ROOT, "meson.build")).read()).group(1)
    for args in ("--help", "-h", "-- --help", "-- -h", "-l 0-1 --no-pci -- -f x.conf --help"):
        r = run(f"{DPNAT} --file-prefix {prefix} {args}")
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        out = r.stdout
        # dpnat's own options and the EAL options it needs
        for want in ("-f CONFIG", "-s SOCKET", "--lcores", "--vdev", "--no-pci", "--file-prefix",
                     "--version", "--eal-help"):
            assert want in out, (args, want, out)
        assert "EAL:" not in out + r.stderr, (args, out, r.stderr)
    r = run(f"{DPNAT} --file-prefix {prefix} --version")
    assert r.returncode == 0 and r.stdout.startswith(f"dpnat {version} (DPDK "), r.stdout + r.stderr
    r = run(f"{DPNAT} --file-prefix {prefix} -- --version")
    assert r.returncode == 0 and r.stdout.startswith(f"dpnat {version}"), r.stdout + r.stderr
    # EAL's own list, still without any set-up
    r = run(f"{DPNAT} --file-prefix {prefix} --eal-help")
    assert r.returncode == 0 and "--vdev" in r.stdout and "--huge-dir" in r.stdout, r.stdout + r.stderr
    assert not glob.glob(f"/var/run/dpdk/{prefix}*") and not glob.glob(f"/tmp/dpdk/{prefix}*")
    r = run(f"{CLI} --version")
    assert r.returncode == 0 and r.stdout.strip() == f"dpnat-cli {version}", r.stdout
    for a in ("--help", "-h"):
        r = run(f"{CLI} -s /nonexistent/sock {a}")
        assert r.returncode == 0 and "--complete" in r.stdout and "-s, --socket" in r.stdout, r.stdout


def test_bench_help_installs_and_builds_nothing(tmp_path):
    # Stand-ins for everything bench.sh would install or build with: each call leaves a mark.
    fake = tmp_path / "bin"
    fake.mkdir()
    marks = tmp_path / "marks"
    for tool in ("apt-get", "meson", "ninja", "dpkg-query", "sudo"):
        p = fake / tool
        p.write_text(f"#!/bin/sh\necho {tool} >> {marks}\nexit 1\n")
        p.chmod(0o755)
    r = sh(f"PATH={fake}:/usr/bin:/bin {ROOT}/tools/bench.sh --help", check=False, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("usage: tools/bench.sh"), r.stdout
    assert "--quick" in r.stdout and "--flows" in r.stdout, r.stdout
    assert not marks.exists(), marks.read_text()


# ---- Prometheus ----

FETCH = ("/usr/bin/python3 -c 'import sys, urllib.request, urllib.error\n"
         "try:\n r = urllib.request.urlopen(sys.argv[1], timeout=10); sys.stdout.write(r.read().decode())\n"
         "except urllib.error.HTTPError as e:\n print(e.code); sys.exit(3)\n"
         "except OSError as e:\n print(e); sys.exit(2)' ")


def fetch(lab, ns, url):
    """GET url from inside namespace ns: (exit status, body)."""
    r = lab.run(ns, FETCH + f"'{url}'", check=False, timeout=30)
    return r.returncode, r.stdout


def metric(text, name, labels=""):
    m = re.search(rf"^{re.escape(name + labels)} (\d+)$", text, re.M)
    assert m, f"{name}{labels} missing"
    return int(m.group(1))


def wait_for(fn, timeout=2 * WAIT, what="condition"):
    """lab.wait_until with this file's default bound."""
    return wait_until(fn, timeout, what, step=0.2)


def cli_counter(lab, label):
    return int(re.search(rf"^\s+{label}\s+(\d+)$", lab.out("get counter flow"), re.M).group(1))


def test_metrics_endpoint_and_prometheus(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set metrics listen 127.0.0.1:19469\n")
    url = "http://127.0.0.1:19469/metrics"
    lab.run(c1, "ping -c 3 -i 0.2 -W 2 172.19.50.129")
    lab.run(c2, "ping -c 2 -i 0.2 -W 2 172.19.50.129")
    fwd = wait_for(lambda: cli_counter(lab, "forwarded") >= 10 and cli_counter(lab, "forwarded"),
                   what="10 forwarded packets")
    rc, text = fetch(lab, fw, url)
    assert rc == 0, text
    # the figures the CLI shows, under Prometheus names
    assert metric(text, "dpnat_forwarded_packets_total") == fwd
    assert metric(text, "dpnat_sessions_created_total") == cli_counter(lab, "sessions created")
    assert metric(text, "dpnat_sessions") == int(re.search(r"^alloc (\d+)/", lab.out("get session"), re.M).group(1))
    assert metric(text, "dpnat_interface_receive_packets_total", '{interface="ethernet4/2"}') >= 5
    assert metric(text, "dpnat_drops_total", '{reason="no-route"}') >= 0
    assert metric(text, "dpnat_worker_session_hits_total", '{worker="0"}') >= 1
    assert metric(text, "dpnat_worker_sessions_created_total", '{worker="0"}') == cli_counter(lab, "sessions created")
    assert re.search(r'^dpnat_port_rss_owned\{interface="ethernet4/1",.*reta_size="0"\} 1$', text, re.M), text
    assert metric(text, "dpnat_pptp_xlate_entries_max") == 2000
    assert metric(text, "dpnat_nat_ports_used", '{address="172.19.51.234",pool="ethernet4/1"}') >= 0
    assert re.search(r'^dpnat_build_info\{version="[^"]+",dpdk="DPDK [^"]+"\} 1$', text, re.M), text[:300]
    # the exposition format, as Prometheus' own linter reads it
    r = sh("promtool check metrics", input=text, check=False, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    # docs/monitoring.md lists every family; the Grafana dashboard asks only for families that exist
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    doc = open(os.path.join(ROOT, "docs", "monitoring.md")).read()
    assert not [f for f in families if f"| `{f}` |" not in doc], "missing from docs/monitoring.md"
    dash = json.load(open(os.path.join(ROOT, "contrib", "grafana", "dpnat.json")))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    used = {m for e in exprs for m in re.findall(r"\b(dpnat_\w+)", e)}
    assert used and not used - families, used - families
    # anything but /metrics is 404
    assert fetch(lab, fw, "http://127.0.0.1:19469/")[0] == 3

    # A real Prometheus server in the same namespace scrapes it.
    prom = os.path.join(lab.tmp, "prom")
    os.makedirs(os.path.join(prom, "data"))
    with open(os.path.join(prom, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: dpnat\n    static_configs:\n"
                "      - targets: ['127.0.0.1:19469']\n")
    lab.spawn(fw, f"prometheus --config.file={prom}/prometheus.yml --storage.tsdb.path={prom}/data "
                  f"--web.listen-address=127.0.0.1:19090",
              stdout=subprocess.DEVNULL, stderr=open(os.path.join(prom, "log"), "w"))
    api = "http://127.0.0.1:19090/api/v1"

    def target_up():
        rc, body = fetch(lab, fw, f"{api}/targets")
        if rc != 0:
            return None
        t = json.loads(body)["data"]["activeTargets"]
        return t and t[0]["health"] == "up" and t[0]

    t = wait_for(target_up, what="prometheus target up: " + open(os.path.join(prom, "log")).read()[-2000:])
    assert t["scrapeUrl"] == url
    fwd = cli_counter(lab, "forwarded")

    def scraped_forwarded():
        rc, body = fetch(lab, fw, f"{api}/query?query=dpnat_forwarded_packets_total")
        res = json.loads(body)["data"]["result"] if rc == 0 else []
        return res and int(res[0]["value"][1]) == fwd and res

    res = wait_for(scraped_forwarded, what=f"prometheus to see forwarded == {fwd}")
    assert res[0]["metric"]["job"] == "dpnat"
    rc, body = fetch(lab, fw, f"{api}/query?query=up{{job=%22dpnat%22}}")
    assert json.loads(body)["data"]["result"][0]["value"][1] == "1"


def test_metrics_off_by_default_and_set_at_run_time(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    assert "metrics" not in lab.out("get config")
    assert fetch(lab, fw, "http://127.0.0.1:19469/metrics")[0] == 2
    lab.cli("set metrics listen 127.0.0.1:19469")
    rc, text = fetch(lab, fw, "http://127.0.0.1:19469/metrics")
    assert rc == 0 and "dpnat_sessions_max 1048576" in text, text[:300]
    assert "set metrics listen 127.0.0.1:19469" in lab.out("get config")
    lab.cli("set metrics listen 127.0.0.1:19470")
    assert fetch(lab, fw, "http://127.0.0.1:19469/metrics")[0] == 2
    assert fetch(lab, fw, "http://127.0.0.1:19470/metrics")[0] == 0
    # an address dpnat cannot bind is refused and changes nothing
    for bad in ("192.0.2.1:19471", "192.0.2.1:19470"):    # the same port: the old socket is let go first
        r = lab.cli(f"set metrics listen {bad}", check=False)
        assert r.returncode == 1 and bad in r.stderr, r.stderr
        assert fetch(lab, fw, "http://127.0.0.1:19470/metrics")[0] == 0
        assert "set metrics listen 127.0.0.1:19470" in lab.out("get config")
    # the same port on another address (every address here)
    lab.cli("set metrics listen 0.0.0.0:19470")
    assert fetch(lab, fw, "http://127.0.0.1:19470/metrics")[0] == 0
    assert "set metrics listen 0.0.0.0:19470" in lab.out("get config")
    lab.cli("unset metrics listen")
    assert fetch(lab, fw, "http://127.0.0.1:19470/metrics")[0] == 2
    assert "metrics" not in lab.out("get config")


# ---- get tech-support ----

def test_tech_support(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    lab.run(c1, "ping -c 2 -i 0.2 -W 2 172.19.50.129")
    # something in the log: a reload, and a refused one
    lab.dpnat.send_signal(signal.SIGHUP)
    wait_for(lambda: "configuration reloaded" in open(lab.log).read(), what="the reload's log line")
    version = re.search(r"version: '([^']+)'", open(os.path.join(ROOT, "meson.build")).read()).group(1)
    ts = lab.out("get tech-support")
    assert re.search(rf"^version: dpnat {re.escape(version)}, DPDK ", ts, re.M), ts[:300]
    assert "workers: 1" in ts and f"socket: {lab.sock}" in ts, ts[:300]
    sections = re.findall(r"^==== (.*) ====$", ts, re.M)
    for want in ("get config", "get interface", "get counter statistics", "get counter flow",
                 "get worker", "get route", "get arp", "get dip", "get policy", "get mbuf", "get alg",
                 "get alg pptp", "get log", "get log nat", "get session limit",
                 "get alg pptp xlate per-client", "get flow frag", "get nsrp", "recent log"):
        assert want in sections, (want, sections)
    # each section is the view itself
    for view in ("get config", "get dip", "get alg pptp", "get policy", "get log nat"):
        body = ts.split(f"==== {view} ====\n", 1)[1].split("\n==== ", 1)[0]
        assert body.rstrip("\n") == lab.out(view).rstrip("\n"), view
    log = ts.split("==== recent log ====\n", 1)[1]
    assert "configuration reloaded" in log, log[-2000:]
    assert re.search(rf"dpnat: {re.escape(version)} started: 1 worker", log), log[-2000:]


# ---- bash completion ----

def complete(lab, words, cword_text):
    """What contrib/bash-completion/dpnat-cli offers after `dpnat-cli WORDS` with the
    cursor at the end of cword_text, asking the lab's daemon."""
    script = os.path.join(ROOT, "contrib", "bash-completion", "dpnat-cli")
    line = "dpnat-cli " + " ".join(words + [cword_text])
    prog = f"""
source /usr/share/bash-completion/bash_completion
source {script}
COMP_LINE={shlex.quote(line)}
COMP_POINT=${{#COMP_LINE}}
COMP_WORDS=(dpnat-cli {" ".join(shlex.quote(w) for w in words)} {shlex.quote(cword_text)})
COMP_CWORD={len(words) + 1}
_dpnat_cli
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = sh(f"PATH={os.path.dirname(CLI)}:$PATH DPNAT_SOCKET={lab.sock} bash -c {shlex.quote(prog)}",
           check=False, timeout=30)
    assert r.returncode == 0, r.stderr
    return sorted(filter(None, r.stdout.split("\n")))


def test_bash_completion_asks_the_daemon(lab):
    kb_lab(lab)
    assert complete(lab, [], "") == ["clear", "exec", "get", "help", "set", "unset"]
    assert complete(lab, ["get"], "se") == ["session"]
    assert complete(lab, ["get"], "tech") == ["tech-support"]
    assert complete(lab, ["get", "alg", "pptp"], "") == ["xlate"]
    assert complete(lab, ["get", "session"], "src") == ["src-ip", "src-port"]
    assert complete(lab, ["-s", lab.sock, "get"], "ro") == ["route"]
    assert "--complete" in complete(lab, [], "--")
    # the words are the daemon's: a daemon without the command offers nothing
    assert complete(lab, ["get"], "nosuch") == []


def test_socket_group(lab):
    kb_lab(lab)
    nogroup = grp.getgrnam("nogroup").gr_gid
    assert os.stat(lab.sock).st_gid == os.getegid()
    lab.cli("set cli socket-group nogroup")
    assert os.stat(lab.sock).st_gid == nogroup
    assert "set cli socket-group nogroup" in lab.out("get config")
    r = lab.cli("set cli socket-group no-such-group", check=False)
    assert r.returncode == 1 and "no such group" in r.stderr, r.stderr
    assert os.stat(lab.sock).st_gid == nogroup
    lab.cli("unset cli socket-group")
    assert os.stat(lab.sock).st_gid == os.getegid()


HOSTILE = r'''
import re, socket, sys, time
addr = ("127.0.0.1", 19469)


def get():
    s = socket.create_connection(addr, timeout=10)
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            return data.decode()
        data += d


def refused_total():
    end = time.monotonic() + 30
    while True:            # until the slots the idle clients held are free again
        t = get()
        if t.startswith("HTTP/1.1 200"):
            return int(re.search(r"^dpnat_metrics_refused_total (\d+)$", t, re.M).group(1))
        assert time.monotonic() < end, t


idle = [socket.create_connection(addr) for _ in range(12)]   # more than the 8 slots, saying nothing
refused = 0
for s in idle:
    s.settimeout(0.3)
    try:
        refused += s.recv(1) == b""
    except socket.timeout:
        pass
for s in idle:
    s.close()
before = refused_total()
big = socket.create_connection(addr)
big.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 8000)                 # headers past the bound
big.settimeout(5)
try:
    cut = big.recv(100) == b""
except ConnectionResetError:
    cut = True
print(refused, before, cut, refused_total() == before)
'''


def test_metrics_endpoint_bounds_hostile_clients(lab):
    fw, (c1, c2), srv = kb_lab(lab, extra_conf="set metrics listen 127.0.0.1:19469\n")
    script = os.path.join(lab.tmp, "hostile.py")
    open(script, "w").write(HOSTILE)
    r = lab.run(fw, f"/usr/bin/python3 {script}", check=False, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    refused, before, cut, not_refused = r.stdout.split()
    # 4 of 12 idle clients refused at once; the oversized request was read and cut, not refused
    assert int(refused) >= 4 and int(before) == 4 and cut == "True" and not_refused == "True", r.stdout
    assert "worker 0" in lab.out("get session")       # the control lcore kept serving the CLI
    # once the idle clients are gone (closed by the script, or past their deadline), scrapes work again
    text = wait_for(lambda: (lambda rc, t: rc == 0 and t)(*fetch(lab, fw, "http://127.0.0.1:19469/metrics")),
                    what="a scrape after the hostile clients")
    assert metric(text, "dpnat_metrics_refused_total") >= 4
