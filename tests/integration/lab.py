# SPDX-License-Identifier: BSD-3-Clause
"""Network-namespace labs around a real dpnat process.

Every namespace, veth and file a Lab makes carries a per-run tag and is
removed on close; namespaces get no route out of the lab.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DPNAT_BUILD", os.path.join(ROOT, "build"))
DPNAT = os.path.join(BUILD, "app", "dpnat", "dpnat")
CLI = os.path.join(BUILD, "app", "dpnat-cli", "dpnat-cli")


# Bounds of the waits below. A wait returns as soon as its event happens, so
# they cost nothing when things go well; they are sized for an ASan build on a
# 2-core machine that is busy with other work (tools/stress.sh): WAIT for what
# takes well under a second on an idle machine, more where a step itself is
# slow (a timeout that must fire first, TCP retransmissions).
WAIT = 30


def wait_until(fn, timeout, what, step=0.1, seen=None):
    """Poll fn() until it returns something true and return that; after timeout
    seconds fail with what was waited for and fn's last value (or seen(), what
    was last looked at)."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"{what}: still {seen() if seen else v!r} after {timeout} s")
        time.sleep(step)


def text_of(path):
    """A file's text, or "" while it does not exist."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_file(path, *texts, timeout=WAIT):
    """The file's text once it contains every one of texts (what a listener
    received, a daemon's log line)."""
    last = [""]

    def has():
        last[0] = text_of(path)
        return last[0] if all(x in last[0] for x in texts) else None
    return wait_until(has, timeout, f"{texts} in {path}", seen=lambda: last[0])


def proc_tree(pid):
    """pid and its descendants: ([pids], 'pid comm state wchan; ...'), what the
    processes of a command that overran its bound were doing."""
    kids, out, pids = {}, [], []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = text_of(f"/proc/{d}/stat")
            if st:
                kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]), []).append(int(d))
    todo = [pid]
    while todo:
        p = todo.pop()
        st = text_of(f"/proc/{p}/stat")
        if st:
            pids.append(p)
            out.append(f"{p} {st[st.index('(') + 1:st.rindex(')')]} {st[st.rindex(')') + 2]} "
                       f"{text_of(f'/proc/{p}/wchan') or '-'}")
        todo += kids.get(p, [])
    return pids, "; ".join(out)


# Where the kernel of the test machine was seen to hold a process for minutes
# after it had done its work and printed everything: its exit, unmapping files.
EXIT_WCHAN = re.compile(r"unlink_file_vma|exit_mmap|free_pgtables|unmap_vmas|do_exit|mmput")
EXIT_STALL = 600


def exiting(tree):
    """True when a process of tree (proc_tree's text) sits in the exit path above."""
    return any(part.split()[2] == "D" and EXIT_WCHAN.search(part.split()[3])
               for part in tree.split("; ") if len(part.split()) >= 4)


def sh(cmd, check=True, timeout=None, input=None, **kw):
    """Run a shell command (input: text for its stdin); return CompletedProcess with
    text output. Past timeout it fails with what the command's processes were doing."""
    if input is not None:
        kw["stdin"] = subprocess.PIPE
    p = subprocess.Popen(cmd, shell=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    try:
        try:
            out, err = p.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            if not exiting(proc_tree(p.pid)[1]):
                raise
            # Its work is done and it is leaving, stuck in the kernel's unmap
            # (seen under tools/stress.sh): that is no verdict on dpnat, wait on.
            out, err = p.communicate(timeout=EXIT_STALL)
    except subprocess.TimeoutExpired:
        pids, tree = proc_tree(p.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        out, err = p.communicate()
        raise RuntimeError(f"{cmd!r} still running after {timeout} s ({tree}): {out}{err}")
    r = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd!r} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


class Lab:
    """A set of namespaces and one dpnat instance."""

    def __init__(self, name="lab"):
        self.tag = f"d{os.getpid() % 10000}{name[:3]}"
        self.netns = []
        self.procs = []
        self.handles = []          # objects with stop() (pptp_peers handles)
        self.dpnat = None
        self.eal_mem = "--no-huge --no-shconf -m 512"
        self.tmp = tempfile.mkdtemp(prefix=f"dpnat-{self.tag}-")
        self.sock = os.path.join(self.tmp, "dpnat.sock")
        self.log = os.path.join(self.tmp, "dpnat.log")

    # ---- topology ----
    def ns(self, short):
        """Create namespace <tag>-<short> with lo up; returns its name."""
        n = f"{self.tag}-{short}"
        sh(f"ip netns add {n}")
        self.netns.append(n)
        sh(f"ip -n {n} link set lo up")
        return n

    def veth(self, ns_a, if_a, ns_b, if_b):
        """A veth pair with one end in each namespace, offloads off, both up."""
        tmp_a, tmp_b = f"{self.tag}a{len(self.netns)}{if_a}"[:15], f"{self.tag}b{len(self.netns)}{if_b}"[:15]
        sh(f"ip link add {tmp_a} type veth peer name {tmp_b}")
        sh(f"ip link set {tmp_a} netns {ns_a} name {if_a}")
        sh(f"ip link set {tmp_b} netns {ns_b} name {if_b}")
        for n, i in ((ns_a, if_a), (ns_b, if_b)):
            # af_packet hands DPDK what the kernel has: no partial checksums, no GSO.
            sh(f"ip netns exec {n} ethtool -K {i} rx off tx off tso off gso off gro off", check=False)
            sh(f"ip -n {n} link set {i} up")

    def bridge(self, n, name, ports):
        sh(f"ip -n {n} link add {name} type bridge")
        for p in ports:
            sh(f"ip -n {n} link set {p} master {name}")
        sh(f"ip -n {n} link set {name} up")

    def addr(self, n, dev, cidr, gw=None):
        sh(f"ip -n {n} addr add {cidr} dev {dev}")
        if gw:
            sh(f"ip -n {n} route add default via {gw}")

    def run(self, n, cmd, check=True, timeout=10 * WAIT):
        return sh(f"ip netns exec {n} {cmd}", check=check, timeout=timeout)

    def spawn(self, n, cmd, **kw):
        """Start a background process in namespace n; ended on close."""
        p = subprocess.Popen(f"exec ip netns exec {n} {cmd}", shell=True, **kw)
        self.procs.append(p)
        return p

    # ---- dpnat ----
    def start_dpnat(self, fw_ns, ports, config, lcores="0,1", extra_eal="", expect_fail=False, vdev_opts="",
                    dp_args=""):
        """Start dpnat in fw_ns on af_packet ports (list of iface names, in port order)."""
        conf_arg = ""
        if config is not None:      # None: dpnat's embedded default (config/kb-lab.conf)
            conf = os.path.join(self.tmp, "dpnat.conf")
            with open(conf, "w") as f:
                f.write(config)
            conf_arg = f"-f {conf}"
        vdevs = " ".join(f"--vdev=net_af_packet{i},iface={p}{vdev_opts}" for i, p in enumerate(ports))
        cmd = (f"ip netns exec {fw_ns} {DPNAT} --no-pci {self.eal_mem} "
               f"--file-prefix {self.tag}{len(self.procs)} --lcores {lcores} --log-level=lib.eal:error "
               f"{vdevs} {extra_eal} -- {conf_arg} -s {self.sock} {dp_args}")
        logf = open(self.log, "a")
        p = subprocess.Popen(f"exec {cmd}", shell=True, stdout=logf, stderr=subprocess.STDOUT)
        self.dpnat = p
        if expect_fail:
            p.wait(timeout=2 * WAIT)
            return p
        def up():
            if p.poll() is not None:
                raise RuntimeError(f"dpnat exited {p.returncode}: {open(self.log).read()}")
            return os.path.exists(self.sock) and self.cli("get interface", check=False).returncode == 0
        wait_until(up, 2 * WAIT, f"dpnat answering on {self.sock} (log: {self.log})")
        return p

    def cli(self, command, check=True):
        """Run one dpnat-cli command; returns CompletedProcess."""
        r = sh(f"{CLI} -s {self.sock} {command}", check=False, timeout=2 * WAIT)
        if check and r.returncode != 0:
            raise RuntimeError(f"cli {command!r} failed: {r.stdout}{r.stderr}")
        return r

    def out(self, command):
        return self.cli(command).stdout

    def out_when(self, command, text, timeout=WAIT):
        """The command's output once it contains text (a packet just sent may still be on
        its way to the worker), or the last output after timeout."""
        end = time.monotonic() + timeout
        while True:
            out = self.out(command)
            if text in out or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def wait_out(self, command, pattern, timeout=WAIT):
        """The command's output once regex pattern (multi-line) matches it; fails
        naming both after timeout."""
        last = [""]

        def match():
            last[0] = self.out(command)
            return last[0] if re.search(pattern, last[0], re.M) else None
        return wait_until(match, timeout, f"{pattern!r} in `{command}`", seen=lambda: last[0])

    def wait_port(self, n, port, proto="tcp", pid=None, timeout=WAIT):
        """Wait until a socket in namespace n listens on (tcp) or is bound to (udp)
        port, or a raw socket for IP protocol port is open (raw); with pid, one
        of that process."""
        cmd = f"ss -Hlnp{dict(tcp='t', udp='u', raw='w')[proto]} 'sport = :{port}'"
        wait_until(lambda: (lambda o: o if o and (pid is None or f"pid={pid}," in o) else None)(
                       self.run(n, cmd).stdout.strip()),
                   timeout, f"a {proto} socket on port {port} in {n}" + (f" of pid {pid}" if pid else ""))

    def stop_dpnat(self):
        p, self.dpnat = self.dpnat, None
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=2 * WAIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return -9

    def close(self):
        for h in reversed(self.handles):
            try:
                h.stop()
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
        self.stop_dpnat()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for n in reversed(self.netns):
            sh(f"ip netns del {n}", check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
        # The EAL leaves each file prefix's runtime directory behind.
        for d in glob.glob(f"/var/run/dpdk/{self.tag}*"):
            shutil.rmtree(d, ignore_errors=True)


KB_LAB = '''set interface "ethernet4/1" zone "Untrust"
set interface "ethernet4/2" zone "Trust"
set interface "ethernet2/1" zone "Trust"
set interface "ethernet2/2" zone "Untrust"
unset interface vlan1 ip

set interface ethernet4/1 ip 172.19.51.234/23
set interface ethernet4/1 route
set interface ethernet4/2 ip 60.60.60.1/24
set interface ethernet4/2 nat

exit
set policy id 1 from "Trust" to "Untrust"  "Any" "Any" "ANY" permit
set policy id 1
exit
set interface ethernet4/2 port net_af_packet0
set interface ethernet4/1 port net_af_packet1
set worker idle-sleep 100
'''


def kb_topology(lab, n_clients=2):
    """The KB's lab without the firewall: clients 60.60.60.2, .3 ... on a
    bridge, the server 172.19.50.129/23; the firewall namespace gets veth
    fwt (trust side) and fwu (untrust side). Returns (fw, [clients], server)."""
    fw = lab.ns("fw")
    sw = lab.ns("sw")
    srv = lab.ns("srv")
    lab.veth(fw, "fwt", sw, "swfw")
    clients, ports = [], ["swfw"]
    for i in range(n_clients):
        c = lab.ns(f"c{i + 1}")
        lab.veth(c, "eth0", sw, f"swc{i + 1}")
        lab.addr(c, "eth0", f"60.60.60.{i + 2}/24", gw="60.60.60.1")
        clients.append(c)
        ports.append(f"swc{i + 1}")
    lab.bridge(sw, "br0", ports)
    lab.veth(fw, "fwu", srv, "eth0")
    lab.addr(srv, "eth0", "172.19.50.129/23")
    return fw, clients, srv


def kb_lab(lab, extra_conf="", lcores="0,1", n_clients=2, vdev_opts=""):
    """The KB's lab with dpnat as the firewall (config: the KB's own lines)."""
    fw, clients, srv = kb_topology(lab, n_clients)
    lab.start_dpnat(fw, ["fwt", "fwu"], KB_LAB + extra_conf, lcores=lcores, vdev_opts=vdev_opts)
    return fw, clients, srv


def kernel_nat(lab, fw):
    """Make namespace fw the Linux kernel's NAT with its PPTP helper, as a
    reference: masquerade to 172.19.51.234, ct helper pptp on TCP/1723."""
    lab.addr(fw, "fwt", "60.60.60.1/24")
    lab.addr(fw, "fwu", "172.19.51.234/23")
    sh(f"ip netns exec {fw} sysctl -qw net.ipv4.ip_forward=1")
    rules = """
table ip dpnat_ref {
    ct helper pptp_helper { type "pptp" protocol tcp; }
    chain pre { type filter hook prerouting priority filter; tcp dport 1723 ct helper set "pptp_helper"; }
    chain post { type nat hook postrouting priority srcnat; oifname "fwu" masquerade; }
}
"""
    path = os.path.join(lab.tmp, "ref.nft")
    open(path, "w").write(rules)
    sh(f"ip netns exec {fw} nft -f {path}")
