# SPDX-License-Identifier: BSD-3-Clause
"""Issue 19: what an operator meets on day one: help and version without the
EAL, the Prometheus endpoint, get tech-support, the Debian package."""
import glob
import os
import re
import stat

from lab import BUILD, CLI, DPNAT, ROOT, kb_lab, sh

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
