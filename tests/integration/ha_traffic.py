# SPDX-License-Identifier: BSD-3-Clause
"""Traffic for the HA failover test (test_ha.py), run inside a namespace.

    ha_traffic.py tcp-server PORT LOG      echo lines; log each line's arrival and the peer
    ha_traffic.py udp-server PORT LOG      echo datagrams; log each arrival and the peer
    ha_traffic.py tcp-client DST PORT SPORT LOG STOPFILE
    ha_traffic.py udp-client DST PORT SPORT LOG STOPFILE

Every log line is JSON: {"t": monotonic seconds, "ev": ..., ...}; CLOCK_MONOTONIC
is the same in every namespace, so the logs of client and server line up.
A client sends a numbered line (TCP) or datagram (UDP) every 10 ms until
STOPFILE exists, logs every echo it gets back, and any socket error (a RST
shows as ECONNRESET).
"""
import json
import os
import socket
import sys
import threading
import time

PERIOD = 0.01


def logger(path):
    f = open(path, "a", buffering=1)
    lock = threading.Lock()

    def log(ev, **kw):
        with lock:
            f.write(json.dumps(dict(t=time.monotonic(), ev=ev, **kw)) + "\n")
    return log


def tcp_server(port, path):
    log = logger(path)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(8)
    while True:
        c, peer = ls.accept()
        threading.Thread(target=tcp_serve_one, args=(c, peer, log), daemon=True).start()


def tcp_serve_one(c, peer, log):
    log("accept", peer=f"{peer[0]}:{peer[1]}")
    buf = b""
    try:
        while True:
            d = c.recv(4096)
            if not d:
                log("eof", peer=f"{peer[0]}:{peer[1]}")
                return
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                log("rx", n=int(line), peer=f"{peer[0]}:{peer[1]}")
                c.sendall(line + b"\n")
    except OSError as e:
        log("error", err=str(e), peer=f"{peer[0]}:{peer[1]}")


def udp_server(port, path):
    log = logger(path)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        d, peer = s.recvfrom(2048)
        log("rx", n=int(d), peer=f"{peer[0]}:{peer[1]}")
        s.sendto(d, peer)


def client(kind, dst, port, sport, path, stop):
    log = logger(path)
    tcp = kind == "tcp"
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    if tcp:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect((dst, port))
        log("connected")
    else:
        s.connect((dst, port))
    done = threading.Event()

    def reader():
        buf = b""
        while not done.is_set():
            try:
                d = s.recv(4096)
            except socket.timeout:
                continue
            except OSError as e:
                log("error", err=str(e))
                return
            if tcp and not d:
                log("eof")
                return
            if tcp:
                buf += d
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    log("echo", n=int(line))
            else:
                log("echo", n=int(d))
    s.settimeout(0.2)
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    n = 0
    nxt = time.monotonic()
    while not os.path.exists(stop):
        try:
            s.send(b"%d\n" % n if tcp else b"%d" % n)
        except socket.timeout:
            pass
        except OSError as e:
            log("error", err=str(e))
            if tcp:
                break
        n += 1
        nxt += PERIOD
        time.sleep(max(0.0, nxt - time.monotonic()))
    log("sent", n=n)
    time.sleep(1.0)   # the last echoes
    done.set()
    th.join(timeout=2)
    if tcp:
        s.shutdown(socket.SHUT_RDWR)
    s.close()
    log("done")


def main():
    kind = sys.argv[1]
    if kind == "tcp-server":
        tcp_server(int(sys.argv[2]), sys.argv[3])
    elif kind == "udp-server":
        udp_server(int(sys.argv[2]), sys.argv[3])
    else:
        client(kind.split("-")[0], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])


if __name__ == "__main__":
    main()
