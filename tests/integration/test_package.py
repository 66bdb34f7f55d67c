# SPDX-License-Identifier: BSD-3-Clause
"""Issue 19: the Debian package (built from the working tree, checked by
lintian, installed, started, reloaded, stopped and purged) and the man pages,
which must agree with docs/.

This machine (and CI's container) has no systemd as PID 1, so the service is
run the way its unit says: the installed unit's ExecStart with
/etc/default/dpnat's variables, SIGHUP for ExecReload, SIGTERM to stop;
systemd-analyze verify checks the unit itself.
"""
import glob
import grp
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from lab import DPNAT, KB_LAB, ROOT, Lab, kb_topology, sh

VERSION = re.search(r"version: '([^']+)'", open(os.path.join(ROOT, "meson.build")).read()).group(1)
APT = "apt-get -o DPkg::Lock::Timeout=600 -y -q"


def roff_text(path):
    """A man page's source with font escapes and request names removed, so
    that statements read as they are written in docs/."""
    out = []
    for ln in open(path).read().splitlines():
        if ln.startswith('.\\"'):
            continue
        ln = re.sub(r"^\.(B|I|BR|RB|BI|IB|RI|IR|TP|PP|IP|SH|SS|TH|nf|fi|RS|RE|br)\b ?", "", ln)
        ln = re.sub(r"\\f[BIRP]", "", ln)
        ln = ln.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\").replace('"', "")
        out.append(ln)
    return "\n".join(out)


def docs_help_block():
    cli = open(os.path.join(ROOT, "docs", "cli.md")).read()
    return re.search(r"^dpnat-> help\n(.*?)^```", cli, re.M | re.S).group(1)


# ---- man pages against docs/ (no package needed) ----

def test_man_conf_is_generated_from_docs(tmp_path):
    out = tmp_path / "dpnat.conf.5"
    sh(f"/usr/bin/python3 {ROOT}/tools/gen_man_conf.py {ROOT}/docs/configuration.md {out}")
    assert out.read_text() == open(os.path.join(ROOT, "man", "dpnat.conf.5")).read(), \
        "man/dpnat.conf.5 is stale: run tools/gen_man_conf.py"
    page = roff_text(os.path.join(ROOT, "man", "dpnat.conf.5"))
    doc = open(os.path.join(ROOT, "docs", "configuration.md")).read()
    stmts = set(re.findall(r"`((?:un)?set [^`]+)`", doc))
    stmts |= {m.strip() for m in re.findall(r"^    ((?:un)?set .*)$", doc, re.M)}
    assert len(stmts) > 40, stmts
    missing = sorted(s for s in stmts if s not in page)
    assert not missing, f"statements of docs/configuration.md missing from dpnat.conf.5: {missing}"
    # and every keyword the parser accepts after set/unset has its section
    src = open(os.path.join(ROOT, "lib", "conf", "conf.c")).read()
    for kind in ("SET", "UNSET"):
        words = re.search(rf'#define {kind}_KEYWORDS\s+"one of ([^"]+)"', src).group(1).split(", ")
        for w in words:
            assert re.search(rf"^{kind.lower()} {w}\b", page, re.M), (kind, w)


def test_man_cli_lists_every_command():
    golden = open(os.path.join(ROOT, "tests", "integration", "golden", "help.txt")).read()
    block = docs_help_block()
    assert "dpnat-> help\n" + block == golden, "docs/cli.md's help differs from the daemon's (golden/help.txt)"
    page = roff_text(os.path.join(ROOT, "man", "dpnat-cli.8"))
    lines = block.splitlines()
    for cmd, what in zip(lines[0::2], lines[1::2]):
        assert f"\n{cmd}\n" in page, f"dpnat-cli.8 lacks {cmd!r}"
        assert what.strip()[1:] in page, f"dpnat-cli.8 lacks the help of {cmd!r}"
    r = sh(f"{os.path.dirname(os.path.dirname(DPNAT))}/dpnat-cli/dpnat-cli --help")
    for opt in set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", r.stdout)):
        assert opt in page, f"dpnat-cli.8 lacks option {opt}"


def test_man_dpnat_lists_every_option():
    page = roff_text(os.path.join(ROOT, "man", "dpnat.8"))
    r = sh(f"{DPNAT} --help")
    opts = set(re.findall(r"(?<![\w.*-])(--?[a-z][\w-]*)", r.stdout))
    assert {"-f", "-s", "--version", "--eal-help", "--lcores", "--vdev"} <= opts, opts
    missing = sorted(o for o in opts if o not in page)
    assert not missing, f"dpnat.8 lacks options of dpnat --help: {missing}"


def test_man_pages_render_cleanly():
    for page in ("dpnat.8", "dpnat-cli.8", "dpnat.conf.5"):
        path = os.path.join(ROOT, "man", page)
        th = re.search(r'^\.TH \S+ (\d) "[^"]*" "dpnat ([^"]+)"', open(path).read(), re.M)
        assert th and th.group(1) == page[-1] and th.group(2) == VERSION, (page, th and th.groups())
        r = sh(f"LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l {path}", check=False)
        assert r.returncode == 0 and not r.stderr.strip(), (page, r.stderr)
    changelog = open(os.path.join(ROOT, "debian", "changelog")).readline()
    assert changelog.startswith(f"dpnat ({VERSION})"), changelog


# ---- the package ----

@pytest.fixture(scope="module")
def package():
    """Build the package from the working tree (tracked and new files) in a temporary directory."""
    tmp = tempfile.mkdtemp(prefix="dpnat-pkg-")
    src = os.path.join(tmp, "dpnat")
    r = sh(f"git -C {ROOT} ls-files -co --exclude-standard -z", check=False)
    if r.returncode == 0:
        files = r.stdout.split("\0")
    else:                   # not a git checkout: everything but build directories
        files = [os.path.relpath(os.path.join(d, f), ROOT) for d, dirs, fs in os.walk(ROOT)
                 for f in fs if not os.path.relpath(d, ROOT).split(os.sep)[0].startswith(("build", ".git"))]
    for f in filter(None, files):
        if os.path.isfile(os.path.join(ROOT, f)):
            os.makedirs(os.path.join(src, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, f), os.path.join(src, f))
    r = sh(f"cd {src} && DEB_BUILD_OPTIONS='nocheck noddebs parallel=2' dpkg-buildpackage -us -uc -b",
           check=False, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    debs = glob.glob(os.path.join(tmp, f"dpnat_{VERSION}_*.deb"))
    changes = glob.glob(os.path.join(tmp, f"dpnat_{VERSION}_*.changes"))
    assert len(debs) == 1 and len(changes) == 1, os.listdir(tmp)
    yield {"deb": debs[0], "changes": changes[0], "dir": tmp}
    shutil.rmtree(tmp, ignore_errors=True)


def test_package_contents_and_lintian(package):
    r = sh(f"dpkg-deb -c {package['deb']}")
    for path in ("./usr/bin/dpnat", "./usr/bin/dpnat-cli", "./etc/dpnat/dpnat.conf", "./etc/default/dpnat",
                 "./lib/systemd/system/dpnat.service", "./usr/share/man/man8/dpnat.8.gz",
                 "./usr/share/man/man8/dpnat-cli.8.gz", "./usr/share/man/man5/dpnat.conf.5.gz",
                 "./usr/share/bash-completion/completions/dpnat-cli",
                 "./usr/share/dpnat/grafana/dpnat.json", "./usr/share/doc/dpnat/copyright"):
        assert re.search(rf" {re.escape(path)}$", r.stdout, re.M), path
    conffiles = sh(f"dpkg-deb -I {package['deb']} conffiles").stdout.split()
    assert {"/etc/dpnat/dpnat.conf", "/etc/default/dpnat"} <= set(conffiles), conffiles
    r = sh(f"lintian --tag-display-limit 0 -I {package['changes']}", check=False, timeout=300)
    tags = [ln for ln in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", ln)]
    print("lintian:", *tags, sep="\n  ")
    assert r.returncode == 0 and not [t for t in tags if t.startswith("E: ")], r.stdout + r.stderr


def _installed(pkg):
    r = sh(f"dpkg-query -W -f='${{Status}}' {pkg}", check=False)
    return "install ok installed" in r.stdout


def test_install_start_reload_stop_purge(package):
    if _installed("dpnat"):
        pytest.skip("a dpnat package is installed on this machine already; not touching it")
    group_existed = sh("getent group dpnat", check=False).returncode == 0
    lab = Lab("pkg")
    try:
        r = sh(f"{APT} install --no-install-recommends {package['deb']}", check=False, timeout=900)
        assert r.returncode == 0 and _installed("dpnat"), r.stdout[-2000:] + r.stderr[-2000:]
        gid = grp.getgrnam("dpnat").gr_gid        # postinst made the group
        # reinstalling runs the maintainer scripts again: the group is reused
        r = sh(f"dpkg -i {package['deb']}", check=False, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert sh("/usr/bin/dpnat --version").stdout.startswith(f"dpnat {VERSION} ")
        assert "set cli socket-group dpnat" in open("/etc/dpnat/dpnat.conf").read()
        unit = "/lib/systemd/system/dpnat.service"
        r = sh(f"systemd-analyze verify {unit}", check=False, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        text = open(unit).read()
        exec_start = re.search(r"^ExecStart=(.*)$", text, re.M).group(1)
        assert re.search(r"^ExecReload=/bin/kill -HUP \$MAINPID$", text, re.M)
        assert "EnvironmentFile=-/etc/default/dpnat" in text and "RuntimeDirectory=dpnat" in text

        # The operator's part: ports in the configuration, EAL options in /etc/default/dpnat.
        fw, clients, srv = kb_topology(lab, 1)
        with open("/etc/dpnat/dpnat.conf", "w") as f:
            f.write(KB_LAB + "set cli socket-group dpnat\n")
        with open("/etc/default/dpnat", "w") as f:
            f.write(f'DPNAT_EAL="-l 0,1 --no-pci --no-huge --no-shconf -m 512 --file-prefix {lab.tag}pkg '
                    f'--vdev=net_af_packet0,iface=fwt --vdev=net_af_packet1,iface=fwu"\n')
        # What systemd does: RuntimeDirectory, EnvironmentFile, ExecStart with $DPNAT_EAL split on blanks.
        os.makedirs("/run/dpnat", mode=0o755, exist_ok=True)
        os.chmod("/run/dpnat", 0o755)
        cmd = f"set -a; . /etc/default/dpnat; set +a; exec {exec_start}"
        p = subprocess.Popen(["ip", "netns", "exec", fw, "bash", "-c", cmd],
                             stdout=open(lab.log, "a"), stderr=subprocess.STDOUT)
        lab.procs.append(p)
        sock = "/run/dpnat/dpnat.sock"
        end = time.monotonic() + 60
        while not os.path.exists(sock):
            assert p.poll() is None, open(lab.log).read()
            assert time.monotonic() < end, open(lab.log).read()
            time.sleep(0.1)
        st = os.stat(sock)
        assert st.st_gid == gid and stat.S_IMODE(st.st_mode) == 0o660, (st.st_gid, oct(st.st_mode))
        member = f"setpriv --reuid=nobody --regid=nogroup --groups={gid}"
        r = sh(f"{member} /usr/bin/dpnat-cli get interface", check=False)
        assert r.returncode == 0 and "ethernet4/2" in r.stdout, r.stdout + r.stderr
        r = sh("setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/dpnat-cli get interface",
               check=False)
        assert r.returncode == 2 and "Permission denied" in r.stderr, r.stdout + r.stderr
        lab.run(clients[0], "ping -c 1 -W 2 172.19.50.129")

        # ExecReload
        with open("/etc/dpnat/dpnat.conf", "a") as f:
            f.write("set session timeout udp 333\n")
        sh(re.search(r"^ExecReload=(.*)$", text, re.M).group(1).replace("$MAINPID", str(p.pid)))
        end = time.monotonic() + 30
        while "set session timeout udp 333" not in sh("/usr/bin/dpnat-cli get config").stdout:
            assert time.monotonic() < end, open(lab.log).read()
            time.sleep(0.1)
        assert "Total 1 sessions" in sh("/usr/bin/dpnat-cli get session protocol icmp").stdout

        # systemd's stop: SIGTERM to the main process
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0, open(lab.log).read()
        assert not os.path.exists(sock)

        # purge: binaries, configuration (edited conffiles too) and the unit go
        r = sh(f"{APT} purge dpnat", check=False, timeout=900)
        assert r.returncode == 0 and not _installed("dpnat"), r.stdout + r.stderr
        for path in ("/usr/bin/dpnat", "/usr/bin/dpnat-cli", "/etc/dpnat", "/etc/default/dpnat", unit,
                     "/usr/share/man/man8/dpnat.8.gz"):
            assert not os.path.exists(path), path
        assert sh("dpkg-query -W dpnat", check=False).returncode != 0
    finally:
        lab.close()
        if _installed("dpnat") or sh("dpkg-query -W -f='${Status}' dpnat", check=False).stdout.strip():
            sh(f"{APT} purge dpnat", check=False, timeout=900)
        if os.path.isdir("/run/dpnat") and not os.listdir("/run/dpnat"):
            os.rmdir("/run/dpnat")
        # The package leaves its system group behind on purge, as Debian packages do; the test does not.
        if not group_existed:
            sh("delgroup --quiet --system dpnat", check=False)
