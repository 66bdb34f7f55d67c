# SPDX-License-Identifier: BSD-3-Clause
"""Real Debian PPTP peers (pptpd and pptp-linux) without pppd.

The kernel under test has no PPP support, so pppd cannot run.  This module
puts a small stand-in on both PPP ends instead:

* server side: pptpd's pptpctrl execs the stand-in (``ppp`` line of a
  generated pptpd.conf) with its pty on stdin/stdout.  The stand-in decodes
  async HDLC (RFC 1662), logs every frame and answers each frame that
  carries ``PING:<text>`` with the same frame carrying ``PONG:<text>``.
* client side: ``pptp SERVER --nolaunchpppd`` gets one end of a pty as its
  stdin; the handle writes HDLC-framed PPP frames into the other end and
  decodes what comes back.

Everything between the two ends is the real PPTP control connection (TCP
1723) and real enhanced GRE (IP protocol 47), built by pptpd and pptp.

Python API (stdlib only; root; run with /usr/bin/python3):

    srv = start_server(ns, tmpdir, local_ip, remote_ip_range, listen=None)
        -> PptpServer: stop(), terminate(), alive(), processes(), events(),
           received(), pings(), calls()
    cli = start_client(ns, tmpdir, server_ip, name, proto=PPP_IP)
        -> PptpClient: send(text), recv_pongs(timeout=3.0, count=1),
           wait_up(timeout=10.0), send_frame(frame), send_raw(data),
           frames, stop(), terminate(), alive(), processes()
    sn = start_gre_sniffer(ns, path, ifname=None)
        -> GreSniffer: records(), stop()
    stop_all(handles)            # concurrent stop of several handles
    hdlc_encode(frame), HdlcDecoder().feed(data), fcs16(data),
    ppp_frame(proto, info), ppp_split(frame), parse_gre(ip_packet)

Command line:

    python3 pptp_peers.py standin --log FILE [pppd args ignored]
    python3 pptp_peers.py gresniff --out FILE [--ifname IF]
    python3 pptp_peers.py selftest [--keep]

Behaviour worth knowing (pptpd 1.4.0, pptp-linux 1.10.0):

* pptpctrl does not read the GRE socket until the pty has been readable
  once (it waits for pppd to speak first), so the stand-in starts with an
  LCP Configure-Request; clients see it as their first frame.  GRE that
  arrived earlier waits in the socket and is then delivered.
* pptpctrl only clears ECHO on the pty; the stand-in makes it raw.
* pptp opens the call about 1 s after the control connection is up, so a
  call needs ~1.1 s; wait_up() probes until a PONG comes back.
* pptp closes its stdout and uses fd 0 both ways; it logs to syslog only
  (stderr shows fatal errors such as "Connection refused").
* pptp's call manager daemonises (comm "pptpcm"; the data process is
  "pptpgw").

Process hygiene: every process started here gets a session of its own and,
through ``ip netns exec``, a mount namespace of its own.  Handles end
exactly the processes in that session or mount namespace (daemonised ones
included), by PID checked against start time.  The calling process becomes
a child subreaper so the daemonised call manager is reaped, not left a
zombie under a PID 1 that never reaps.
"""
import errno
import json
import os
import select
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import tty

HERE = os.path.abspath(__file__)
PYTHON = "/usr/bin/python3"
PPTPD = "/usr/sbin/pptpd"
PPTP = "/usr/sbin/pptp"

PPP_IP = 0x0021
PPP_LCP = 0xc021

FLAG = 0x7E
ESC = 0x7D
GRE_PROTO = 47

# ---------------------------------------------------------------------------
# RFC 1662 async HDLC
# ---------------------------------------------------------------------------


def _fcs_table():
    tab = []
    for b in range(256):
        v = b
        for _ in range(8):
            v = (v >> 1) ^ 0x8408 if v & 1 else v >> 1
        tab.append(v)
    return tab


_FCSTAB = _fcs_table()
FCS_INIT = 0xFFFF
FCS_GOOD = 0xF0B8


def fcs16(data, fcs=FCS_INIT):
    """PPP FCS-16 (RFC 1662 appendix C) over data, starting from fcs."""
    for b in data:
        fcs = (fcs >> 8) ^ _FCSTAB[(fcs ^ b) & 0xFF]
    return fcs


def hdlc_encode(frame, accm=0xFFFFFFFF):
    """Frame bytes (address..information, no FCS) -> flagged, escaped HDLC.

    The FCS is appended (complemented, least significant octet first);
    0x7E, 0x7D and every control character set in accm are escaped.
    """
    fcs = fcs16(frame) ^ 0xFFFF
    raw = bytes(frame) + bytes((fcs & 0xFF, fcs >> 8))
    out = bytearray((FLAG,))
    for b in raw:
        if b in (FLAG, ESC) or (b < 0x20 and (accm >> b) & 1):
            out += bytes((ESC, b ^ 0x20))
        else:
            out.append(b)
    out.append(FLAG)
    return bytes(out)


class HdlcDecoder:
    """Incremental RFC 1662 decoder: feed() bytes, get complete frames.

    Returned frames have the FCS checked and stripped.  Frames with a bad
    FCS, aborted frames (0x7D 0x7E) and runts are dropped and counted.
    Unescaped control characters present in the receive ACCM are discarded
    as RFC 1662 section 7.1 requires.
    """

    def __init__(self, accm=0xFFFFFFFF):
        self.accm = accm
        self.buf = bytearray()
        self.esc = False
        self.bad_fcs = 0
        self.runts = 0
        self.aborts = 0

    def feed(self, data):
        frames = []
        for b in data:
            if b == FLAG:
                if self.esc:
                    self.aborts += 1
                elif len(self.buf) >= 4:
                    if fcs16(self.buf) == FCS_GOOD:
                        frames.append(bytes(self.buf[:-2]))
                    else:
                        self.bad_fcs += 1
                elif self.buf:
                    self.runts += 1
                self.buf.clear()
                self.esc = False
            elif b < 0x20 and (self.accm >> b) & 1:
                continue
            elif self.esc:
                self.buf.append(b ^ 0x20)
                self.esc = False
            elif b == ESC:
                self.esc = True
            else:
                self.buf.append(b)
        return frames


def ppp_frame(proto, info, acfc=False):
    """PPP frame (without FCS): [FF 03] + 2-byte protocol + info."""
    head = b"" if acfc else b"\xff\x03"
    return head + struct.pack("!H", proto) + bytes(info)


def ppp_split(frame):
    """frame -> (header bytes, protocol, information).

    Handles address/control field compression and protocol field
    compression (a protocol whose first octet is odd is one octet long).
    """
    i = 2 if frame[:2] == b"\xff\x03" else 0
    if len(frame) > i and frame[i] & 1:
        return frame[:i + 1], frame[i], frame[i + 1:]
    if len(frame) < i + 2:
        return frame, None, b""
    return frame[:i + 2], (frame[i] << 8) | frame[i + 1], frame[i + 2:]


# ---------------------------------------------------------------------------
# process helpers: everything we start lives in its own mount namespace
# ---------------------------------------------------------------------------


def _mntns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def _stat(pid):
    """(state, starttime) of pid, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        rest = st[st.rindex(")") + 2:].split()
        return rest[0], int(rest[19])
    except (OSError, ValueError, IndexError):
        return None


def _starttime(pid):
    s = _stat(pid)
    return s[1] if s else None


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        return int(st[st.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


_SUBREAPER = False


def _become_subreaper():
    """Make this process the child subreaper (prctl PR_SET_CHILD_SUBREAPER):
    pptp's call manager daemonises, and PID 1 of some containers never
    reaps, so orphans of what we started come to us and we reap them."""
    global _SUBREAPER
    if _SUBREAPER:
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(36, 1, 0, 0, 0) == 0:
            _SUBREAPER = True
    except (OSError, AttributeError):
        pass


def _reap(pids):
    """waitpid() those of pids that are our (exited) children."""
    me = os.getpid()
    for pid in pids:
        if _ppid(pid) == me:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _alive(pid, start):
    """pid still is the process that started at start and is not a zombie."""
    s = _stat(pid)
    return s is not None and s[1] == start and s[0] != "Z"


def _session(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        return int(st[st.rindex(")") + 2:].split()[3])
    except (OSError, ValueError, IndexError):
        return None


def _members(mnt, sid=None):
    """{pid: starttime} of every process in mount namespace mnt or in
    session sid.  Everything we start gets a session of its own
    (start_new_session) and, through `ip netns exec`, a mount namespace of
    its own; the session catches what runs before the namespace is known,
    the namespace catches children that call setsid()."""
    own = _mntns("self")
    if mnt is not None and mnt == own:
        raise RuntimeError("refusing to select processes of our own mount namespace")
    if sid is not None and sid in (os.getsid(0), 0, 1):
        raise RuntimeError("refusing to select processes of our own session")
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        if (mnt is not None and _mntns(d) == mnt) or (sid is not None and _session(d) == sid):
            st = _starttime(d)
            if st is not None:
                out[int(d)] = st
    return out


def _wait_exec(popen, comm, timeout=30.0):
    """Wait until popen's process runs one of the names in comm, in a mount
    namespace of its own; return that namespace (None if it exited)."""
    own = _mntns("self")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if popen.poll() is not None:
            return None
        m = _mntns(popen.pid)
        if _comm(popen.pid) in comm and m and m != own:
            return m
        time.sleep(0.01)
    raise RuntimeError(f"{comm} did not start within {timeout}s")


class _Group:
    """The process we started plus everything in its mount namespace."""

    def __init__(self, popen, mnt):
        self.popen, self.mnt = popen, mnt
        self.start0 = _starttime(popen.pid)
        self.procs = {}

    def sid(self):
        """Our session id, unless the number now belongs to someone else
        (it cannot while any member of our session lives)."""
        s = _stat(self.popen.pid)
        return None if s is not None and s[1] != self.start0 else self.popen.pid

    def members(self):
        return _members(self.mnt, self.sid())

    def terminate(self):
        """Snapshot the members and SIGTERM them (started process first)."""
        procs = self.members()
        if self.popen.poll() is None and self.popen.pid not in procs:
            st = _starttime(self.popen.pid)
            if st is not None:
                procs[self.popen.pid] = st
        self.procs.update(procs)
        for pid in sorted(procs, key=lambda p: p != self.popen.pid):
            if _alive(pid, procs[pid]):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def finish(self, grace=3.0):
        """Wait up to grace s for the members to exit, SIGKILL the rest."""
        end = time.monotonic() + grace
        while time.monotonic() < end:
            self.popen.poll()
            _reap([p for p in self.procs if p != self.popen.pid])
            if not any(_alive(p, st) for p, st in self.procs.items()):
                break
            time.sleep(0.02)
        late = self.members()   # forked during stop
        self.procs.update(late)
        for pid, st in self.procs.items():
            if _alive(pid, st):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            _reap([p for p in self.procs if p != self.popen.pid])
            if not any(_stat(p) and _stat(p)[1] == st and _ppid(p) == os.getpid()
                       for p, st in self.procs.items()):
                break
            time.sleep(0.02)


def _end_group(popen, mnt, grace=3.0):
    """SIGTERM popen's process and everything in mount namespace mnt, wait
    up to grace seconds, then SIGKILL what is left.  Processes are checked
    by PID and start time, so a recycled PID is never hit."""
    g = _Group(popen, mnt)
    g.terminate()
    g.finish(grace)


def _tcp_listening(pid, port):
    """True if the network namespace of pid has a TCP listener on port."""
    for fn in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{fn}") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


# ---------------------------------------------------------------------------
# server side: PPP stand-in and pptpd
# ---------------------------------------------------------------------------


def _logline(fd, text):
    os.write(fd, (f"{time.time():.6f} {os.getpid()} {text}\n").encode())


def standin_main(log_path):
    """PPP stand-in: pty on fds 0/1, answer PING with PONG, log to log_path."""
    logfd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    mode = "notty"
    if os.isatty(0):
        attrs = termios.tcgetattr(0)
        mode = "raw" if not attrs[3] & (termios.ICANON | termios.ECHO) else \
            f"cooked(lflag={attrs[3]:#x})"
        tty.setraw(0, termios.TCSANOW)
    _logline(logfd, "START " + json.dumps({"ppid": os.getppid(), "argv": sys.argv[1:],
                                           "tty": mode}))
    def on_signal(n, _frame):
        try:
            _logline(logfd, f"EXIT signal {n}")
        finally:
            os._exit(0)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)
    # pptpctrl ignores the GRE socket until the pty has been readable once
    # ("has pppd initialised the pty?"), so speak first, as pppd would:
    # an LCP Configure-Request (ACCM 0, Magic-Number).  It also reaches the
    # client as the first GRE data packet of the call.
    magic = struct.pack("!I", (os.getpid() * 2654435761) & 0xFFFFFFFF or 1)
    opts = b"\x02\x06\x00\x00\x00\x00" + b"\x05\x06" + magic
    hello = ppp_frame(PPP_LCP, b"\x01\x01" + struct.pack("!H", 4 + len(opts)) + opts)
    os.write(1, hdlc_encode(hello))
    _logline(logfd, f"TX {PPP_LCP:04x} {hello.hex()}")
    dec = HdlcDecoder()
    while True:
        try:
            data = os.read(0, 65536)
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            _logline(logfd, f"EXIT read {e.strerror}")
            break
        if not data:
            _logline(logfd, "EXIT eof")
            break
        bad = dec.bad_fcs
        for fr in dec.feed(data):
            _, proto, info = ppp_split(fr)
            _logline(logfd, f"RX {proto if proto is not None else -1:04x} {fr.hex()}")
            i = fr.find(b"PING:")
            if i >= 0:
                reply = fr[:i] + b"PONG:" + fr[i + 5:]
                os.write(1, hdlc_encode(reply))
                _logline(logfd, f"TX {proto if proto is not None else -1:04x} {reply.hex()}")
        if dec.bad_fcs != bad:
            _logline(logfd, f"BADFCS {dec.bad_fcs}")
    os._exit(0)     # no interpreter shutdown: a late SIGHUP must find logfd open


def read_standin_log(path):
    """Parse a stand-in log into a list of event dicts.

    Each dict has ts, pid, ev ("START", "RX", "TX", "BADFCS", "EXIT") and,
    for RX/TX, proto (int) and frame (bytes, FCS stripped) and info (bytes
    after the PPP header); for START, ppid, argv and tty.
    """
    out = []
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        parts = line.split(" ", 3)
        if len(parts) < 3:
            continue
        ev = {"ts": float(parts[0]), "pid": int(parts[1]), "ev": parts[2]}
        rest = parts[3] if len(parts) > 3 else ""
        if ev["ev"] in ("RX", "TX"):
            p, h = rest.split(" ")
            fr = bytes.fromhex(h)
            ev.update(proto=int(p, 16), frame=fr, info=ppp_split(fr)[2])
        elif ev["ev"] == "START":
            ev.update(json.loads(rest))
        else:
            ev["detail"] = rest
        out.append(ev)
    return out


class _Handle:
    """Common process handling: everything in self.mnt is ours."""

    def _init_group(self, popen, mnt):
        self.popen = popen
        self.pid = popen.pid
        self.mnt = mnt
        self._group = _Group(popen, mnt)
        self._stopping = False

    def alive(self):
        """True while the started process runs."""
        return self.popen is not None and self.popen.poll() is None

    def processes(self):
        """{pid: comm} of the started process and everything it forked
        (including daemonised children), found by mount namespace."""
        if self.popen is None:
            return {}
        return {p: _comm(p) for p in self._group.members()}

    def terminate(self):
        """Send SIGTERM to all our processes without waiting (see stop)."""
        if self.popen is not None and not self._stopping:
            self._group.terminate()
            self._stopping = True

    def stop(self, grace=3.0):
        """SIGTERM (unless terminate() did already), wait up to grace
        seconds, SIGKILL leftovers; by PID only.  Idempotent."""
        if self.popen is not None:
            self.terminate()
            self._group.finish(grace)
            self.popen = None
        self._closed()

    def _closed(self):
        pass


def stop_all(handles, grace=3.0):
    """Stop several handles concurrently (a graceful pptp client stop takes
    about 2 s because its call manager waits for the server's replies)."""
    hs = [h for h in handles if h is not None]
    for h in hs:
        h.terminate()
    for h in hs:
        h.stop(grace)


class PptpServer(_Handle):
    """A pptpd running in the foreground in a namespace (see start_server)."""

    def __init__(self, ns, tmpdir, popen, mnt, conf, options, pidfile, log, out):
        self.ns = ns
        self.tmpdir = tmpdir
        self._init_group(popen, mnt)
        self.conf = conf
        self.options = options
        self.pidfile = pidfile
        self.log = log          # stand-in log (all calls append to it)
        self.out = out          # pptpd stdout/stderr

    def events(self):
        """Parsed stand-in log (read_standin_log)."""
        return read_standin_log(self.log)

    def received(self):
        """[(standin_pid, proto, info bytes)] of every frame the stand-ins got."""
        return [(e["pid"], e["proto"], e["info"]) for e in self.events() if e["ev"] == "RX"]

    def pings(self):
        """Texts (str) of every PING the stand-ins received, in log order."""
        out = []
        for _, _, info in self.received():
            i = info.find(b"PING:")
            if i >= 0:
                out.append(info[i + 5:].decode(errors="replace"))
        return out

    def calls(self):
        """One dict per stand-in started (= per call): pid, ppid (the
        pptpctrl), argv (the pppd arguments pptpctrl passed; they include
        'ipparam <client address as seen by the server>' and
        '<localip>:<remoteip>')."""
        return [e for e in self.events() if e["ev"] == "START"]


def start_server(ns, tmpdir, local_ip, remote_ip_range, listen=None, connections=100,
                 stimeout=10, debug=False, ready_timeout=30.0):
    """Start pptpd in the foreground in network namespace ns.

    All files are generated in tmpdir (pptpd.conf, pptpd-options, pid
    file, ppp-standin wrapper, standin.log, pptpd.out); nothing under
    /etc is read or written.  local_ip / remote_ip_range are pptpd.conf
    localip / remoteip specifications (e.g. "10.99.0.1", "10.99.0.10-50").
    Returns a PptpServer once pptpd listens on TCP 1723.
    """
    _become_subreaper()
    os.makedirs(tmpdir, exist_ok=True)
    tmpdir = os.path.abspath(tmpdir)
    log = os.path.join(tmpdir, "standin.log")
    standin = os.path.join(tmpdir, "ppp-standin")
    with open(standin, "w") as f:
        f.write("#!/bin/sh\n"
                "# PPP stand-in launched by pptpctrl instead of pppd; pppd args are ignored\n"
                f"exec {PYTHON} -I -S {shlex.quote(HERE)} standin --log {shlex.quote(log)} \"$@\"\n")
    os.chmod(standin, 0o755)
    options = os.path.join(tmpdir, "pptpd-options")
    with open(options, "w") as f:
        f.write("# pppd options file for the stand-in: intentionally empty\n")
    pidfile = os.path.join(tmpdir, "pptpd.pid")
    conf = os.path.join(tmpdir, "pptpd.conf")
    lines = [f"ppp {standin}", f"option {options}", f"pidfile {pidfile}",
             f"localip {local_ip}", f"remoteip {remote_ip_range}",
             f"connections {connections}", f"stimeout {stimeout}"]
    if listen:
        lines.append(f"listen {listen}")
    if debug:
        lines.append("debug")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = os.path.join(tmpdir, "pptpd.out")
    cmd = ["ip", "netns", "exec", ns, PPTPD, "-f", "-c", conf, "-o", options,
           "-p", pidfile, "-e", standin]
    if listen:
        cmd += ["-l", listen]
    with open(out, "ab") as of:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=of, stderr=of,
                             close_fds=True, start_new_session=True)
    mnt = None
    try:
        mnt = _wait_exec(p, ("pptpd",), ready_timeout)
        if mnt is None:
            raise RuntimeError(f"pptpd exited ({p.returncode}): {open(out).read()}")
        end = time.monotonic() + ready_timeout
        while not _tcp_listening(p.pid, 1723):
            if p.poll() is not None:
                raise RuntimeError(f"pptpd exited ({p.returncode}): {open(out).read()}")
            if time.monotonic() > end:
                raise RuntimeError("pptpd not listening on 1723")
            time.sleep(0.02)
    except BaseException:
        _end_group(p, mnt)
        raise
    return PptpServer(ns, tmpdir, p, mnt, conf, options, pidfile, log, out)


# ---------------------------------------------------------------------------
# client side: pptp --nolaunchpppd on a pty
# ---------------------------------------------------------------------------


class PptpClient(_Handle):
    """A pptp-linux client with a pty as its PPP side (see start_client)."""

    def __init__(self, ns, name, server_ip, popen, mnt, master, log, proto, acfc):
        self.ns = ns
        self.name = name
        self.server_ip = server_ip
        self._init_group(popen, mnt)
        self.master = master
        self.log = log
        self.proto = proto
        self.acfc = acfc
        self.dec = HdlcDecoder()
        self.frames = []        # every decoded frame from the pty, in order
        self._pongs = []        # PONG texts not yet handed out
        self._probes = set()    # wait_up() probe texts: their PONGs are swallowed
        self._probe_pongs = 0
        self.sent = 0

    def send(self, text, proto=None):
        """Write one HDLC PPP frame carrying b"PING:" + text into the pty."""
        if isinstance(text, str):
            text = text.encode()
        fr = ppp_frame(self.proto if proto is None else proto, b"PING:" + text, self.acfc)
        self._write(hdlc_encode(fr))
        self.sent += 1

    def send_frame(self, frame):
        """Write an arbitrary PPP frame (address..info, FCS added) into the pty."""
        self._write(hdlc_encode(frame))

    def send_raw(self, data):
        """Write raw bytes into the pty (e.g. a deliberately bad frame)."""
        self._write(bytes(data))

    def _write(self, data, timeout=30.0):
        # keep reading while writing so neither side can block the other
        end = time.monotonic() + timeout
        while data:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"pty of pptp client {self.name} not accepting data")
            r, w, _ = select.select([self.master], [self.master], [], left)
            if r:
                self._read_once()
            if w:
                try:
                    data = data[os.write(self.master, data):]
                except BlockingIOError:
                    pass

    def _pump(self, timeout):
        r, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not r:
            return False
        if not self._read_once():
            time.sleep(min(0.05, max(0.0, timeout)))
            return False
        return True

    def _read_once(self):
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return True
        except OSError:         # EIO: pptp gone, pty slave closed
            return False
        if not data:
            return False
        for fr in self.dec.feed(data):
            self.frames.append(fr)
            _, _, info = ppp_split(fr)
            i = info.find(b"PONG:")
            if i >= 0:
                text = info[i + 5:].decode(errors="replace")
                if text in self._probes:
                    self._probe_pongs += 1
                else:
                    self._pongs.append(text)
        return True

    def recv_pongs(self, timeout=3.0, count=1):
        """Return the PONG texts (str) received and not yet returned.

        Waits until at least count of them are available or timeout
        seconds have passed, then drains what is already readable and
        returns them all (possibly fewer than count, possibly []).
        """
        end = time.monotonic() + timeout
        while len(self._pongs) < count:
            left = end - time.monotonic()
            if left <= 0:
                break
            self._pump(left)
        while self._pump(0):
            pass
        out, self._pongs = self._pongs, []
        return out

    def wait_up(self, timeout=10.0, interval=0.5):
        """Probe with PING:<name>-probe-<pid>-N until a probe's PONG comes back.

        Returns True if the end-to-end path (control connection, call and
        GRE both ways) works within timeout.  Probe PONGs, including late
        ones, never show up in recv_pongs(); the server's pings() does list
        the probes it saw.
        """
        end = time.monotonic() + timeout
        have = self._probe_pongs
        while time.monotonic() < end:
            text = f"{self.name}-probe-{os.getpid()}-{len(self._probes)}"
            self._probes.add(text)
            self.send(text)
            stop = min(end, time.monotonic() + interval)
            while time.monotonic() < stop:
                self._pump(stop - time.monotonic())
                if self._probe_pongs > have:
                    return True
            if not self.alive():
                return False
        return False

    def _closed(self):
        if self.master is not None:
            os.close(self.master)
            self.master = None


def start_client(ns, tmpdir, server_ip, name, proto=PPP_IP, acfc=False, extra_args=(),
                 loglevel=1):
    """Start `pptp server_ip --nolaunchpppd` in network namespace ns.

    pptp runs inside `unshare -m` with a tmpfs on /run, so each client has
    its own /var/run/pptp call-manager socket directory.  Its stdin is
    the slave side of a raw pty (pptp closes stdout and uses fd 0 both
    ways); stderr goes to tmpdir/pptp-<name>.log.  send() frames default
    to PPP protocol proto, with address/control fields unless acfc.
    Returns a PptpClient immediately (use wait_up() to wait for the call).
    """
    _become_subreaper()
    os.makedirs(tmpdir, exist_ok=True)
    log = os.path.join(os.path.abspath(tmpdir), f"pptp-{name}.log")
    master, slave = os.openpty()
    tty.setraw(slave, termios.TCSANOW)
    tty.setraw(master, termios.TCSANOW)
    os.set_blocking(master, False)
    script = "mount -t tmpfs -o mode=0755 pptprun /run && mkdir /run/pptp && exec \"$0\" \"$@\""
    cmd = ["ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private",
           "sh", "-c", script, PPTP, server_ip, "--nolaunchpppd", "--nobuffer",
           "--nohostroute", "--loglevel", str(loglevel), "--logstring", name] + list(extra_args)
    try:
        with open(log, "ab") as lf:
            p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=lf,
                                 close_fds=True, start_new_session=True)
    finally:
        os.close(slave)
    try:
        mnt = _wait_exec(p, ("pptp", "pptpgw"))   # None: pptp already gave up
    except BaseException:
        _end_group(p, None)
        os.close(master)
        raise
    return PptpClient(ns, name, server_ip, p, mnt, master, log, proto, acfc)


# ---------------------------------------------------------------------------
# GRE observer (for tests: which Call IDs / how many packets went where)
# ---------------------------------------------------------------------------


def parse_gre(ip):
    """IPv4 packet carrying GRE -> dict (src, dst, ver, call_id, seq, ack,
    payload_len) or None."""
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != GRE_PROTO:
        return None
    hl = (ip[0] & 15) * 4
    g = ip[hl:]
    if len(g) < 4:
        return None
    d = {"src": socket.inet_ntoa(ip[12:16]), "dst": socket.inet_ntoa(ip[16:20]),
         "ver": g[1] & 7, "ptype": struct.unpack("!H", g[2:4])[0],
         "call_id": None, "seq": None, "ack": None, "payload_len": None}
    if d["ver"] == 1 and len(g) >= 8:
        d["payload_len"], d["call_id"] = struct.unpack("!HH", g[4:8])
        off = 8
        if g[0] & 0x10 and len(g) >= off + 4:
            d["seq"] = struct.unpack("!I", g[off:off + 4])[0]
            off += 4
        if g[1] & 0x80 and len(g) >= off + 4:
            d["ack"] = struct.unpack("!I", g[off:off + 4])[0]
    return d


def gresniff_main(out_path, ifname=None):
    """Log every IPv4 GRE packet seen in this namespace as JSON lines."""
    # ETH_P_ALL: outgoing packets are only handed to "all protocols" taps
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
    if ifname:
        s.bind((ifname, 3))
    fd = os.open(out_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    signal.signal(signal.SIGTERM, lambda n, f: os._exit(0))
    os.write(fd, b'{"ready": true}\n')
    while True:
        pkt, addr = s.recvfrom(65535)
        if addr[1] != 0x0800:
            continue
        d = parse_gre(pkt)
        if d is None:
            continue
        d.update(ts=time.time(), ifname=addr[0], out=addr[2] == socket.PACKET_OUTGOING)
        os.write(fd, (json.dumps(d) + "\n").encode())


class GreSniffer(_Handle):
    """Handle of a gresniff process (see start_gre_sniffer)."""

    def __init__(self, popen, mnt, path):
        self.path = path
        self._init_group(popen, mnt)

    def records(self):
        """List of dicts from parse_gre plus ts, ifname and out (sent by
        this namespace rather than received)."""
        try:
            with open(self.path) as f:
                rows = [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []
        return [r for r in rows if "ready" not in r]


def start_gre_sniffer(ns, path, ifname=None, timeout=30.0):
    """Record IPv4 GRE packets (both directions) seen in namespace ns."""
    cmd = ["ip", "netns", "exec", ns, PYTHON, "-I", "-S", HERE, "gresniff", "--out", path]
    if ifname:
        cmd += ["--ifname", ifname]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, close_fds=True, start_new_session=True)
    end = time.monotonic() + timeout
    mnt = None
    try:
        while True:
            m = _mntns(p.pid)
            if m and m != _mntns("self") and _comm(p.pid) and _comm(p.pid).startswith("python"):
                mnt = m
            if mnt and os.path.exists(path) and "ready" in open(path).read(64):
                break
            if p.poll() is not None or time.monotonic() > end:
                raise RuntimeError("gre sniffer did not start")
            time.sleep(0.02)
    except BaseException:
        _end_group(p, mnt)
        raise
    return GreSniffer(p, mnt, path)


# ---------------------------------------------------------------------------
# self-test: server + two clients through a bridge, all in namespaces
# ---------------------------------------------------------------------------


def _sh(cmd):
    r = subprocess.run(cmd, shell=True, text=True, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd!r} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


def _gre_summary(records):
    """{(peer address, "in"/"out"): {call_id: data packets}} from sniffer
    records (pure acknowledgements left out)."""
    out = {}
    for r in records:
        if not r["payload_len"]:
            continue
        peer, d = (r["dst"], "out") if r["out"] else (r["src"], "in")
        ids = out.setdefault((peer, d), {})
        ids[r["call_id"]] = ids.get(r["call_id"], 0) + 1
    return out


def selftest(keep=False):
    """pptpd in one namespace; clients c1 and c1b (same address) in a
    second, c2 in a third; the three joined by a bridge in a fourth
    (192.0.2.0/24, no routes).  Each client gets its own PONGs back
    through real GRE.

    Returns 0 on success and prints a summary; raises AssertionError on
    failure (its files are kept then).  Namespaces and processes are
    always removed unless keep.
    """
    t0 = time.monotonic()
    tag = f"pp{os.getpid()}"
    names = {k: f"{tag}{k}" for k in ("br", "srv", "c1", "c2")}
    tmp = tempfile.mkdtemp(prefix=f"{tag}-")
    made, handles = [], []
    ok = False
    try:
        for n in names.values():
            _sh(f"ip netns add {n}")
            made.append(n)
            _sh(f"ip -n {n} link set lo up")
        br = names["br"]
        _sh(f"ip -n {br} link add br0 type bridge")
        _sh(f"ip -n {br} link set br0 up")
        addrs = {"srv": "192.0.2.1", "c1": "192.0.2.11", "c2": "192.0.2.12"}
        for k, a in addrs.items():
            tmp_if = f"{tag}{k}"[:15]
            _sh(f"ip link add {tmp_if} type veth peer name p{k} netns {br}")
            _sh(f"ip link set {tmp_if} netns {names[k]} name eth0")
            _sh(f"ip -n {br} link set p{k} master br0")
            _sh(f"ip -n {br} link set p{k} up")
            _sh(f"ip -n {names[k]} addr add {a}/24 dev eth0")
            _sh(f"ip -n {names[k]} link set eth0 up")
        sniff = start_gre_sniffer(names["srv"], os.path.join(tmp, "gre.jsonl"), "eth0")
        handles.append(sniff)
        t = time.monotonic()
        srv = start_server(names["srv"], os.path.join(tmp, "srv"), "10.99.0.1", "10.99.0.10-20")
        handles.append(srv)
        t_srv = time.monotonic() - t
        t = time.monotonic()
        clients = []
        for name, k in (("c1", "c1"), ("c1b", "c1"), ("c2", "c2")):
            c = start_client(names[k], os.path.join(tmp, name), addrs["srv"], name)
            handles.append(c)
            clients.append(c)
        up = {c.name: c.wait_up(15) for c in clients}
        t_up = time.monotonic() - t
        assert all(up.values()), f"calls not up: {up}"
        for i in range(3):
            for c in clients:
                c.send(f"{c.name}-msg-{i}")
        got = {c.name: c.recv_pongs(5, count=3) for c in clients}
        for c in clients:
            want = [f"{c.name}-msg-{i}" for i in range(3)]
            assert got[c.name] == want, f"{c.name}: got {got[c.name]} want {want}"
            first = ppp_split(c.frames[0]) if c.frames else None
            assert first and first[1] == PPP_LCP, f"{c.name}: first frame {c.frames[:1]}"
        seen = srv.pings()
        for c in clients:
            for i in range(3):
                assert f"{c.name}-msg-{i}" in seen, f"server log lacks {c.name}-msg-{i}"
        calls = srv.calls()
        assert len(calls) == 3, f"expected 3 calls, stand-in log has {len(calls)}"
        ipparams = sorted(c["argv"][c["argv"].index("ipparam") + 1] for c in calls)
        assert ipparams == ["192.0.2.11", "192.0.2.11", "192.0.2.12"], ipparams
        time.sleep(0.2)
        gre = _gre_summary(sniff.records())
        for k in ("c1", "c2"):
            n_in = sum(gre.get((addrs[k], "in"), {}).values())
            n_out = sum(gre.get((addrs[k], "out"), {}).values())
            want = 6 if k == "c1" else 3
            assert n_in >= want and n_out >= want, f"GRE with {k}: {gre}"
        # two calls from one address: two distinct Call IDs each way
        assert len(gre[(addrs["c1"], "in")]) == 2 and len(gre[(addrs["c1"], "out")]) == 2, gre
        procs = {c.name: c.processes() for c in clients}
        # stop one of the two same-address clients; the others keep working
        t = time.monotonic()
        clients[0].stop()
        t_stop1 = time.monotonic() - t
        assert not clients[0].processes() and not clients[0].alive()
        for c in clients[1:]:
            c.send("after-c1-stop")
        for c in clients[1:]:
            assert c.recv_pongs(5) == ["after-c1-stop"], f"{c.name} broken after c1 stopped"
        t = time.monotonic()
        stop_all(reversed(handles))
        t_stop = time.monotonic() - t
        print(f"selftest OK in {time.monotonic() - t0:.2f}s (pptpd listening after {t_srv:.2f}s, "
              f"3 calls up after {t_up:.2f}s, one client stop {t_stop1:.2f}s, "
              f"stop_all {t_stop:.2f}s)")
        print(f"  PONGs: {got}")
        for c in calls:
            print(f"  call: stand-in pid {c['pid']} pptpctrl {c['ppid']} argv {c['argv'][3:]}")
        for name, pr in procs.items():
            print(f"  client {name}: processes {pr}")
        for (peer, d), ids in sorted(gre.items()):
            print(f"  GRE data {'to' if d == 'out' else 'from'} {peer}: packets by Call ID {ids}")
        ok = True
        return 0
    finally:
        stop_all(reversed(handles))
        if not keep:
            for n in reversed(made):
                subprocess.run(["ip", "netns", "del", n], capture_output=True)
        if ok and not keep:
            subprocess.run(["rm", "-rf", tmp])
        else:
            print(f"selftest files kept in {tmp}", file=sys.stderr)


def main(argv):
    if len(argv) >= 2 and argv[1] == "standin":
        log = "/dev/null"
        if "--log" in argv:
            log = argv[argv.index("--log") + 1]
        return standin_main(log)
    if len(argv) >= 2 and argv[1] == "gresniff":
        out = argv[argv.index("--out") + 1]
        ifname = argv[argv.index("--ifname") + 1] if "--ifname" in argv else None
        return gresniff_main(out, ifname)
    if len(argv) >= 2 and argv[1] == "selftest":
        return selftest(keep="--keep" in argv)
    print(__doc__.split("\n\n")[0], file=sys.stderr)
    print("usage: pptp_peers.py standin --log FILE | gresniff --out FILE [--ifname IF] | "
          "selftest [--keep]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
