# SPDX-License-Identifier: BSD-3-Clause
"""Scripted PPTP peers for the KB lab tests (run inside a namespace).

  server --cids 17382,999 [--conns N]
      accepts control connections, answers SCCRQ/OCRQ (server Call IDs taken
      in order from --cids), echoes every GRE packet back to its sender with
      the peer's Call ID as learnt from the OCRQ, answers CCRQ with CDN.
  client --server IP --cid N --sport P --name NAME [--calls K]
      opens the control connection, places K calls (Call IDs N, N+1, ...),
      sends GRE on each and waits for the echo; prints one JSON line per
      event; on a line "clear" from stdin clears the calls (CCRQ, waits for
      CDN) and closes.
"""
import argparse
import json
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pptp_wire as w  # noqa: E402


def say(**kw):
    print(json.dumps(kw), flush=True)


def server(args):
    cids = [int(x) for x in args.cids.split(",")]
    peers = {}                    # (src ip, our cid) -> peer cid learnt from OCRQ
    lock = threading.Lock()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", 1723))
    ls.listen(16)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
    say(event="listening")

    def gre_loop():
        while True:
            pkt, addr = raw.recvfrom(65535)
            src, cid, payload = w.parse_gre(pkt)
            with lock:
                peer = peers.get((src, cid))
            say(event="gre", src=src, call_id=cid, payload=payload.decode(errors="replace"))
            if peer is not None:
                raw.sendto(w.gre(peer, b"pong:" + payload, seq=1), (src, 0))

    threading.Thread(target=gre_loop, daemon=True).start()
    nxt = 0

    def conn_loop(c, a):
        nonlocal nxt
        buf = b""
        mine = []
        while True:
            try:
                d = c.recv(4096)
            except OSError:
                break
            if not d:
                break
            buf += d
            msgs, buf = w.parse_stream(buf)
            for ctype, x, y, raw_m in msgs:
                if ctype == w.SCCRQ:
                    c.sendall(w.sccrp())
                elif ctype == w.OCRQ:
                    with lock:
                        my = cids[nxt % len(cids)]
                        nxt += 1
                        peers[(a[0], my)] = x
                    mine.append(my)
                    say(event="ocrq", src=a[0], sport=a[1], call_id=x, server_cid=my)
                    c.sendall(w.ocrp(my, x))
                elif ctype == w.CCRQ:
                    say(event="ccrq", src=a[0], call_id=x)
                    with lock:
                        my = next((k[1] for k, v in peers.items() if k[0] == a[0] and v == x), 0)
                    c.sendall(w.cdn(my))
                elif ctype == w.STOPCCRQ:
                    c.sendall(w.msg(w.STOPCCRP, b"\x01"))
                else:
                    say(event="msg", type=ctype, a=x, b=y)
        say(event="closed", src=a[0], sport=a[1])
        c.close()

    while True:
        c, a = ls.accept()
        say(event="accept", src=a[0], sport=a[1])
        threading.Thread(target=conn_loop, args=(c, a), daemon=True).start()


def client(args):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", args.sport))
    s.settimeout(30)
    s.connect((args.server, 1723))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
    s.sendall(w.sccrq())
    w.recv_msgs(s, 1)
    calls = {}
    for i in range(args.calls):
        cid = args.cid + i
        s.sendall(w.ocrq(cid))
        (ctype, scid, peer, _), = w.recv_msgs(s, 1)
        say(event="ocrp", call_id=cid, server_cid=scid, peer_cid=peer)
        calls[cid] = scid
    for cid, scid in calls.items():
        body = f"{args.name}:{cid}".encode()
        got = None
        for attempt in range(60):           # 30 s: the first answer ends it
            raw.sendto(w.gre(scid, body, seq=attempt), (args.server, 0))
            end = time.time() + 0.5
            while time.time() < end and got is None:
                r, _, _ = select.select([raw], [], [], 0.1)
                if r:
                    pkt = raw.recv(65535)
                    src, rcid, payload = w.parse_gre(pkt)
                    if payload == b"pong:" + body:
                        got = (src, rcid)
            if got:
                break
        say(event="gre_echo", call_id=cid, ok=got is not None,
            from_=got[0] if got else None, rx_call_id=got[1] if got else None)
    say(event="ready")
    for line in sys.stdin:
        if line.strip() == "clear":
            for cid in calls:
                s.sendall(w.ccrq(cid))
                (ctype, x, y, _), = w.recv_msgs(s, 1)
                say(event="cdn", call_id=cid, type=ctype, server_cid=x)
            s.close()
            say(event="closed")
            break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--cids", default="17382,999")
    ap.add_argument("--server")
    ap.add_argument("--cid", type=int)
    ap.add_argument("--sport", type=int, default=0)
    ap.add_argument("--name", default="c")
    ap.add_argument("--calls", type=int, default=1)
    a = ap.parse_args()
    server(a) if a.role == "server" else client(a)


if __name__ == "__main__":
    main()
