# SPDX-License-Identifier: BSD-3-Clause
"""Issue 8: telemetry, live capture with dpdk-dumpcap, log levels, reload on
SIGHUP, install into a DESTDIR."""
import os
import re
import select
import signal
import subprocess
import time

from lab import BUILD, ROOT, WAIT, kb_lab, sh, wait_file, wait_until


def test_telemetry(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    lab.run(c1, "ping -c 1 -W 10 172.19.50.129")
    prefix = f"{lab.tag}0"
    r = sh(f"printf '/dpnat/sessions\\n/dpnat/counters\\n/dpnat/pptp/xlate\\n/dpnat/workers\\n/ethdev/stats,0\\n' | "
           f"/usr/bin/python3 /usr/bin/dpdk-telemetry.py -f {prefix}", check=False, timeout=2 * WAIT)
    assert '"/dpnat/sessions"' in r.stdout, r.stdout + r.stderr
    assert re.search(r'"alloc": 1\b', r.stdout), r.stdout
    assert '"xlate_max": 2000' in r.stdout, r.stdout
    assert '"no_route"' in r.stdout and '"bad_magic"' in r.stdout, r.stdout
    assert '"ipackets"' in r.stdout
    # get worker's figures (issue 16): one worker made the session; af_packet's ports, one worker: owned
    assert re.search(r'"worker0_created": 1\b', r.stdout), r.stdout
    assert re.search(r'"port0_rss_owned": 1\b', r.stdout), r.stdout


def test_log_levels(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    out = lab.out("get log")
    assert re.search(r"^flow\s+notice$", out, re.M), out
    lab.cli("set log level flow debug")
    assert re.search(r"^flow\s+debug$", lab.out("get log"), re.M)
    lab.cli("set log level all err")
    assert re.search(r"^pptp\s+err$", lab.out("get log"), re.M)
    r = lab.cli("set log level nosuch debug", check=False)
    assert r.returncode != 0 and "nosuch" in r.stderr
    r = lab.cli("set log level flow loud", check=False)
    assert r.returncode != 0 and "loud" in r.stderr


def test_sighup_reload_keeps_sessions(lab):
    fw, (c1, c2), srv = kb_lab(lab)
    lab.spawn(srv, "nc -u -l -k -p 7000", stdout=open(os.path.join(lab.tmp, "u.out"), "w"))
    lab.wait_port(srv, 7000, "udp")
    lab.run(c1, "bash -c 'echo before | nc -u -q 0 -w 1 -p 3000 172.19.50.129 7000'", check=False)
    assert "Total 1 sessions" in lab.out_when("get session protocol udp", "Total 1 sessions")
    conf = os.path.join(lab.tmp, "dpnat.conf")
    with open(conf, "a") as f:
        f.write("set session timeout udp 333\nset alg pptp xlate timeout 77\n")
    lab.dpnat.send_signal(signal.SIGHUP)
    lab.wait_out("get alg pptp", "xlate 77 s")
    assert "set session timeout udp 333" in lab.out("get config")
    # the live session stayed and still carries traffic
    assert "Total 1 sessions" in lab.out("get session protocol udp")
    lab.run(c1, "bash -c 'echo after | nc -u -q 0 -w 1 -p 3000 172.19.50.129 7000'", check=False)
    wait_file(os.path.join(lab.tmp, "u.out"), "before", "after")
    # a broken file is refused and the running configuration stays
    with open(conf, "a") as f:
        f.write("set nonsense here\n")
    lab.dpnat.send_signal(signal.SIGHUP)
    wait_file(lab.log, "reload refused")
    assert lab.dpnat.poll() is None
    assert "set session timeout udp 333" in lab.out("get config")


def test_dumpcap_live_capture(lab):
    # pdump needs the primary's shared memory: hugepages, no --no-shconf.
    huge = os.path.join(lab.tmp, "huge")
    os.makedirs(huge)
    before = int(open("/proc/sys/vm/nr_hugepages").read())
    sh(f"echo {before + 300} > /proc/sys/vm/nr_hugepages")
    try:
        sh(f"mount -t hugetlbfs nodev {huge}")
        # A fixed base far from where libraries load: under ASan the primary's
        # own choice sits near the top, where dumpcap's libraries may already be.
        lab.eal_mem = f"--huge-dir {huge} -m 512 --base-virtaddr 0x200000000000"
        fw, (c1, c2), srv = kb_lab(lab)
        prefix = f"{lab.tag}0"
        pcap = os.path.join(lab.tmp, "cap.pcapng")
        cap = subprocess.Popen(f"dpdk-dumpcap --file-prefix={prefix} -i net_af_packet0 -f icmp -c 4 "
                               f"-a duration:{2 * WAIT} -w {pcap} -q", shell=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        # dumpcap names its file once it runs: then more pings than it needs
        said = []

        def started():
            if select.select([cap.stderr], [], [], 0.1)[0]:
                said.append(os.read(cap.stderr.fileno(), 4096))
            return b"File:" in b"".join(said) or cap.poll() is not None
        wait_until(started, WAIT, "dpdk-dumpcap running", seen=lambda: b"".join(said))
        lab.run(c1, "ping -c 10 -i 0.3 -W 10 172.19.50.129")
        # dumpcap prints its statistics once its -c count is reached and pdump is
        # disabled in dpnat; everything it captured is written by then.
        def stats_said():
            if cap.poll() is None and select.select([cap.stderr], [], [], 0.1)[0]:
                said.append(os.read(cap.stderr.fileno(), 4096))
            return b"Packets received/dropped" in b"".join(said) or cap.poll() is not None
        wait_until(stats_said, 3 * WAIT, "dpdk-dumpcap's statistics", seen=lambda: b"".join(said))
        try:
            out, err = cap.communicate(timeout=WAIT)
            err = b"".join(said) + err
            assert cap.returncode == 0, (out, err)
        except subprocess.TimeoutExpired:
            # Seen under tools/stress.sh only: DPDK 22.11's dumpcap, its capture
            # done and reported, does not finish its own EAL clean-up. dpnat's side
            # (pdump disabled, capture written) is what this test is about.
            wchan = open(f"/proc/{cap.pid}/wchan").read()
            cap.kill()
            cap.communicate()
            print(f"dpdk-dumpcap hung after its statistics (wchan {wchan}); killed")
        r = sh(f"tshark -r {pcap} -T fields -e ip.src -e ip.dst -e icmp.type", check=False)
        assert "60.60.60.2\t172.19.50.129\t8" in r.stdout, r.stdout + r.stderr
        lab.stop_dpnat()
    finally:
        sh(f"umount {huge}", check=False)
        sh(f"echo {before} > /proc/sys/vm/nr_hugepages", check=False)


def test_install_destdir(tmp_path):
    dest = tmp_path / "root"
    r = sh(f"meson install -C {BUILD} --destdir {dest} --no-rebuild", check=False, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    found = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert any(f.endswith("bin/dpnat") for f in found), found
    assert any(f.endswith("bin/dpnat-cli") for f in found), found
    assert any(f.endswith("dpnat/dpnat.conf") for f in found), found
    unit = [f for f in found if f.endswith("dpnat.service")]
    assert unit, found
    text = (dest / unit[0]).read_text()
    assert "ExecStart=" in text and "ExecReload=/bin/kill -HUP $MAINPID" in text
    assert "hugepages" in text.lower()
    assert os.path.exists(os.path.join(ROOT, "config", "dpnat.service.in"))
