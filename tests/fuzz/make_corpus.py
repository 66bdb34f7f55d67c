#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the libFuzzer harnesses (tests/fuzz/corpus/<name>/).

Every seed is a real message in the input format of its harness (see the
comment at the top of each fuzz_*.c): configuration files and statements,
CLI command lines and socket byte streams, Ethernet frames of each kind the
parser knows, and PPTP control conversations (KB12423's lab: client
60.60.60.2, server 172.19.50.129) cut into TCP segments in several ways.

Usage: tests/fuzz/make_corpus.py [OUTDIR]   (default: tests/fuzz/corpus)
The output is deterministic; running it again rewrites the same files.
"""
import hashlib
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write_corpus(outdir, name, seeds):
    d = os.path.join(outdir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for label, data in seeds:
        if isinstance(data, str):
            data = data.encode()
        h = hashlib.sha1(data).hexdigest()[:10]
        with open(os.path.join(d, '%s-%s' % (label, h)), 'wb') as f:
            f.write(data)
    return len(seeds)


# ---------------------------------------------------------------- fuzz_conf

CONF_LINES = [
    'set interface "ethernet4/1" zone "Untrust"',
    'set interface "ethernet4/2" zone "Trust"',
    'unset interface vlan1 ip',
    'set interface ethernet4/1 ip 172.19.51.234/23',
    'set interface ethernet4/1 route',
    'set interface ethernet4/2 ip 60.60.60.1/24',
    'set interface ethernet4/2 nat',
    'set interface ethernet4/2 port net_af_packet0',
    'set interface ethernet4/1 port 1',
    'set interface ethernet4/1 dip 4 172.19.51.240 172.19.51.249',
    'unset interface ethernet4/1 dip 4',
    'unset interface ethernet4/1 port',
    'set policy id 1 from "Trust" to "Untrust" "Any" "Any" "ANY" permit',
    'set policy id 2 from "Trust" to "Untrust" "Any" "Any" "PPTP" permit nat src dip-id 4',
    'set policy id 3 from "Untrust" to "Trust" "Any" "Any" "HTTP" deny',
    'set policy id 1',
    'exit',
    'unset policy id 3',
    'set route 0.0.0.0/0 interface ethernet4/1 gateway 172.19.50.1',
    'set route 10.0.0.0/8 interface ethernet4/2',
    'unset route 10.0.0.0/8',
    'set arp 172.19.50.1 00:11:22:33:44:55 ethernet4/1',
    'unset arp 172.19.50.1',
    'set arp max 1024', 'set arp queue 4', 'set arp timeout 1200',
    'set alg pptp enable', 'unset alg pptp enable',
    'set alg pptp xlate max 2000', 'set alg pptp xlate timeout 1800',
    'set cli socket /run/dpnat/dpnat.sock', 'set cli socket-mode 0660',
    'set mbuf max 16384', 'set session max 1048576',
    'set session timeout gre 1800', 'set session timeout icmp 60',
    'set session timeout other 60', 'set session timeout tcp 1800',
    'set session timeout tcp-closing 10', 'set session timeout tcp-syn 20',
    'set session timeout udp 60', 'set worker idle-sleep 0',
    '# a comment', '',
    'set flow frag max 4096', 'set flow frag timeout 5', 'set alg pptp xlate per-client 128',
    'set zone "Trust" screen limit-session source-ip-based 65536',
    'unset zone Trust screen limit-session source-ip-based',
]


def conf_seeds():
    seeds = []
    for fn in ('dpnat.conf', 'kb-lab.conf'):
        p = os.path.join(ROOT, 'config', fn)
        if os.path.exists(p):
            with open(p, 'rb') as f:
                seeds.append(('file', f.read()))
    for i, line in enumerate(CONF_LINES):
        seeds.append(('line%02d' % i, line + '\n'))
    seeds.append(('all', '\n'.join(CONF_LINES) + '\n'))
    seeds.append(('crlf', '\r\n'.join(CONF_LINES[:8]) + '\r\n'))
    # Limits: zones, DIP pools, a line too long, nested policy contexts.
    seeds.append(('zones', ''.join('set interface "e%d" zone "Z%d"\n' % (i, i) for i in range(10))))
    seeds.append(('dips', 'set interface "u" zone "Untrust"\n' +
                  ''.join('set interface u dip %d 10.0.%d.1 10.0.%d.9\n' % (i + 1, i, i) for i in range(34))))
    seeds.append(('longline', 'set interface "' + 'x' * 1100 + '" zone "Trust"\n'))
    seeds.append(('ctx2', 'set policy id 3 from "Trust" to "Untrust" "Any" "Any" "ANY" permit\n'
                  'set policy id 3\nset policy id 3\nexit\nexit\nexit\n'))
    seeds.append(('ctx', 'set policy id 7 from "Trust" to "Untrust" "Any" "Any" "ANY" permit\n'
                  'set policy id 7\nset policy id 7 from "Trust" to "Untrust" "Any" "Any" "PPTP" '
                  'permit nat src\nexit\n'))
    return seeds


# ---------------------------------------------------------------- fuzz_cli

CLI_LINES = [
    'get interface', 'get interface ethernet4/1', 'get route', 'get arp',
    'get counter statistics', 'get counter statistics interface "ethernet4/2"',
    'get counter flow', 'get session', 'get sess dst 1723',
    'get session id 5 src-ip 60.60.60.0/24 dst-ip 172.19.50.129 src-port 4762 '
    'dst-port 1723 protocol tcp',
    'get session protocol 47 src-ip 10.0.0.0/255.0.0.0',
    'get config', 'get policy', 'get alg', 'get alg pptp', 'get alg pptp xlate',
    'get alg pptp xlate src-ip 60.60.60.2', 'clear alg pptp xlate id 3',
    'clear session dst-port 1723', 'clear counter', 'clear arp',
    'set interface ethernet4/2 nat', 'unset interface vlan1 ip', 'help',
    'get ?', 'get s?', 'get session ?', 'g i', 'ge co', 'get "session"',
    'ping 172.19.50.129 count 3 size 1400', 'debug pptp level 2 route', 'debug flow',
    'exec "my file" with set x', 'exec f without', 'show udp 10.0.0.0/8 53 lbl',
    'show 255', '\x01complete get se', '\x01complete ', '\x01complete get session ',
    '\x01bogus', 'get session id 4294967296', 'get session src-port 65536',
    'get session "unterminated', 'exit', 'quit',
    'get session limit', 'get flow frag', 'get alg pptp xlate per-client',
]


def cli_seeds():
    seeds = []
    for i, line in enumerate(CLI_LINES):
        seeds.append(('exec%02d' % i, bytes([0x03]) + line.encode()))
    # exec mode, several lines, a small sink
    seeds.append(('exec-multi', bytes([0x01]) + '\n'.join(CLI_LINES[:12]).encode()))
    # conn mode: whole stream, byte by byte, 7 bytes at a time
    stream = '\r\n'.join(CLI_LINES[:20]).encode() + b'\r\nget alg\nexit\nget route\n'
    seeds.append(('conn-whole', bytes([0x04 | 0x03 | (31 << 3)]) + stream))
    seeds.append(('conn-bytes', bytes([0x04 | 0x03]) + stream))
    seeds.append(('conn-7', bytes([0x04 | 0x02 | (6 << 3)]) + stream))
    seeds.append(('exec-words', bytes([0x03]) + ('get session ' + 'id 1 ' * 140).encode()))
    seeds.append(('exec-complex', bytes([0x03]) + ('get session ' + 'i 1 s 10.0.0.1 d 2 ' * 20).encode()))
    seeds.append(('exec-long', bytes([0x03]) + b'get interface ' + b'y' * 4090))
    seeds.append(('conn-ctl', bytes([0x04 | 0x03 | (3 << 3)]) + b'get\x07 route\nget arp\n'))
    seeds.append(('conn-long', bytes([0x04 | 0x03 | (31 << 3)]) + b'get ' + b'x' * 4100 +
                  b'\nget route\n'))
    return seeds


# ---------------------------------------------------------------- packets

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(s):
    return bytes(int(x) for x in s.split('.'))


def ipv4(src, dst, proto, payload, opts=b'', frag=0, ttl=64, ident=0x1234):
    ihl = (20 + len(opts)) // 4
    hdr = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, 20 + len(opts) + len(payload), ident,
                      frag, ttl, proto, 0, ip4(src), ip4(dst)) + opts
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + payload


def pseudo(src, dst, proto, n):
    return ip4(src) + ip4(dst) + struct.pack('!BBH', 0, proto, n)


def tcp(src, dst, sport, dport, seq, flags, payload=b'', ack=0x11111111, opts=b''):
    off = (20 + len(opts)) // 4
    h = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack, off << 4, flags, 65535,
                    0, 0) + opts
    seg = h + payload
    c = csum(pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack('!H', c) + seg[18:]


def udp(src, dst, sport, dport, payload, zero=False):
    seg = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    if zero:
        return seg
    c = csum(pseudo(src, dst, 17, len(seg)) + seg) or 0xffff
    return seg[:6] + struct.pack('!H', c) + seg[8:]


def icmp(typ, code, rest, payload):
    m = struct.pack('!BBH', typ, code, 0) + rest + payload
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]


def gre_pptp(call, seq=None, ack=None, payload=b''):
    flags = 0x2001 | (0x1000 if seq is not None else 0) | (0x0080 if ack is not None else 0)
    h = struct.pack('!HHHH', flags, 0x880b, len(payload), call)
    if seq is not None:
        h += struct.pack('!I', seq)
    if ack is not None:
        h += struct.pack('!I', ack)
    return h + payload


MAC_US = bytes.fromhex('020000000001')
MAC_PEER = bytes.fromhex('020000000002')


def eth(payload, etype=0x0800, dst=MAC_US):
    f = dst + MAC_PEER + struct.pack('!H', etype) + payload
    if len(f) < 60:
        f += b'\0' * (60 - len(f))
    return f


CLIENT, SERVER, PUB = '60.60.60.2', '172.19.50.129', '172.19.51.234'


def pkt_seeds():
    frames = []
    frames.append(('tcp-syn', eth(ipv4(CLIENT, SERVER, 6, tcp(CLIENT, SERVER, 4762, 1723, 1000, 0x02)))))
    frames.append(('tcp-data', eth(ipv4(CLIENT, SERVER, 6,
                                        tcp(CLIENT, SERVER, 4762, 80, 1001, 0x18, b'GET / HTTP/1.0\r\n\r\n')))))
    frames.append(('tcp-opts', eth(ipv4(CLIENT, SERVER, 6, tcp(CLIENT, SERVER, 5000, 443, 7, 0x02,
                                                             opts=b'\x02\x04\x05\xb4\x01\x03\x03\x07')))))
    frames.append(('udp-dns', eth(ipv4(CLIENT, '8.8.8.8', 17, udp(CLIENT, '8.8.8.8', 33333, 53, b'\x12\x34' + b'\0' * 10)))))
    frames.append(('udp-nocsum', eth(ipv4(CLIENT, '8.8.8.8', 17, udp(CLIENT, '8.8.8.8', 1, 2, b'abc', zero=True)))))
    frames.append(('icmp-echo', eth(ipv4(CLIENT, SERVER, 1, icmp(8, 0, struct.pack('!HH', 0x4242, 1), b'ping' * 8)))))
    frames.append(('icmp-reply', eth(ipv4(SERVER, PUB, 1, icmp(0, 0, struct.pack('!HH', 0x4242, 1), b'ping' * 8)))))
    q_tcp = ipv4(PUB, SERVER, 6, tcp(PUB, SERVER, 1025, 1723, 5, 0x02))
    frames.append(('icmp-err-tcp', eth(ipv4('172.19.50.1', PUB, 1, icmp(3, 1, b'\0' * 4, q_tcp[:28])))))
    frames.append(('icmp-err-tcp-full', eth(ipv4('172.19.50.1', PUB, 1, icmp(3, 4, b'\0\0\x05\xdc', q_tcp)))))
    q_udp = ipv4(PUB, '8.8.8.8', 17, udp(PUB, '8.8.8.8', 2000, 53, b'q' * 12))
    frames.append(('icmp-err-udp', eth(ipv4('8.8.8.8', PUB, 1, icmp(3, 3, b'\0' * 4, q_udp)))))
    q_icmp = ipv4(PUB, SERVER, 1, icmp(8, 0, struct.pack('!HH', 1030, 9), b'x' * 8))
    frames.append(('icmp-err-icmp', eth(ipv4('10.9.9.9', PUB, 1, icmp(11, 0, b'\0' * 4, q_icmp)))))
    q_opts = ipv4(PUB, SERVER, 17, udp(PUB, SERVER, 7, 9, b''), opts=b'\x01\x01\x01\x00')
    frames.append(('icmp-err-qopts', eth(ipv4('10.9.9.9', PUB, 1, icmp(12, 0, b'\0' * 4, q_opts)))))
    frames.append(('gre-pptp', eth(ipv4(CLIENT, SERVER, 47, gre_pptp(0x8001, seq=1, ack=0, payload=b'\xff\x03' + b'p' * 20)))))
    frames.append(('gre-pptp-ack', eth(ipv4(SERVER, PUB, 47, gre_pptp(1024, ack=7)))))
    frames.append(('gre-v0', eth(ipv4(CLIENT, SERVER, 47, struct.pack('!HH', 0, 0x0800) + b'x' * 20))))
    frames.append(('frag-first', eth(ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 5, 6, b'y' * 40)[:32], frag=0x2000))))
    frames.append(('frag-next', eth(ipv4(CLIENT, SERVER, 17, b'z' * 24, frag=0x0004))))
    frames.append(('ip-opts', eth(ipv4(CLIENT, SERVER, 6, tcp(CLIENT, SERVER, 1, 2, 3, 0x10), opts=b'\x94\x04\0\0'))))
    frames.append(('esp', eth(ipv4(CLIENT, SERVER, 50, b'\0\0\0\1' * 6))))
    frames.append(('ttl1', eth(ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 5, 6, b'a'), ttl=1))))
    arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + MAC_PEER + ip4(CLIENT) + b'\0' * 6 + ip4('60.60.60.1')
    frames.append(('arp', eth(arp, etype=0x0806, dst=b'\xff' * 6)))
    frames.append(('vlan', eth(b'\0\x01\x08\x00' + ipv4(CLIENT, SERVER, 17, udp(CLIENT, SERVER, 1, 1, b'')), etype=0x8100)))

    rw = ip4(PUB) + ip4(SERVER) + struct.pack('!HH', 1025, 1723)
    sess_other = ip4(CLIENT) + ip4(SERVER) + struct.pack('!HH', 4762, 1723)
    sess_rw = ip4(SERVER) + ip4(CLIENT) + struct.pack('!HH', 1723, 4762)
    seeds = []
    for label, f in frames:
        for ctl in (0x00, 0x01 | 0x30, 0x02 | 0x08, 0x04):
            seeds.append(('%s-%02x' % (label, ctl), bytes([ctl]) + rw + sess_other + sess_rw + f))
    return seeds


# ---------------------------------------------------------------- fuzz_pptp_stream

PPTP_LEN = {1: 156, 2: 156, 3: 16, 4: 16, 5: 16, 6: 20, 7: 168, 8: 32, 9: 220, 10: 24,
            11: 28, 12: 16, 13: 148, 14: 40, 15: 24}


def pptp_msg(t, f12=0, f14=0, result=0, fill=0):
    n = PPTP_LEN[t]
    b = bytearray((0x41 + i * 7 + fill) & 0xff for i in range(n))
    b[0:2] = struct.pack('!H', n)
    b[2:4] = struct.pack('!H', 1)
    b[4:8] = struct.pack('!I', 0x1A2B3C4D)
    b[8:10] = struct.pack('!H', t)
    b[10:12] = b'\0\0'
    b[12:14] = struct.pack('!H', f12)
    b[14:16] = struct.pack('!H', f14)
    if n > 16:
        b[16] = result
    return bytes(b)


# Ops of fuzz_pptp_stream (see its header comment).
NEW, FRESH, BACK, AHEAD = 0, 1, 2, 3
F_FIN, F_RST, F_SYN, F_NOACK = 0x08, 0x10, 0x20, 0x40


def back(nbytes):
    """The BACK param for a start nbytes before the receiver's next byte (rounded)."""
    return nbytes if nbytes < 128 else min(255, 127 + (nbytes + 15) // 16)


def op_seg(d, data=b'', mode=NEW, flags=0, param=0, length=0):
    """One segment of direction d. NEW/FRESH: data joins the stream. BACK: length
    old bytes from back(param) before the receiver's next. AHEAD: data joins the
    stream, its first param bytes are lost."""
    if mode == BACK:
        assert not data
        n = length
    elif mode == AHEAD:
        n = len(data) - param
    else:
        n = len(data)
    assert 0 <= n <= 255 and 0 <= param <= (2048 if mode == BACK else 255)
    b = bytes([(d & 1) | (mode << 1) | flags, n])
    if mode == BACK:
        b += bytes([back(param)])
    elif mode == AHEAD:
        b += bytes([param])
    return b + data


def op_ctl(k, param=0):
    return bytes([0x80 | k, param])


OP_TICK, OP_CLEAR, OP_KILL_GATE, OP_NEW_CONN, OP_QUIESCE, OP_TIMEOUT, OP_REUSE, OP_DEL_CTRL, OP_SERVER = range(9)


def segs(d, stream, size):
    """stream sent in order in segments of size bytes."""
    return b''.join(op_seg(d, stream[i:i + size]) for i in range(0, len(stream), size))


def server(kind, sid=0, fail=False):
    """The harness's server answers the client's last request (op 8)."""
    k = {'OCRP': 0, 'ICRP': 1, 'SLI': 2, 'WEN': 3, 'CDN': 4, 'ICCN': 7}[kind]
    return op_ctl(OP_SERVER, k | (sid << 3) | (0x20 if fail else 0))


def pptp_seeds():
    seeds = []
    cfg = 0x00
    setup = pptp_msg(1, fill=1)                # SCCRQ
    setup_r = pptp_msg(2, result=1, fill=2)    # SCCRP
    ocrq = pptp_msg(7, f12=0x8000, fill=3)     # client's Call ID 0x8000
    sli = pptp_msg(15, f12=0x0100, fill=5)     # client -> server, names the server's id
    ccrq = pptp_msg(12, f12=0x8000)
    cdn_c = pptp_msg(13, f12=0x8000, fill=6)   # the client clears its call
    stop = pptp_msg(3)
    stop_r = pptp_msg(4)
    echo = pptp_msg(5)
    echo_r = pptp_msg(6, result=1)
    icrq = pptp_msg(9, f12=0x8001, fill=7)
    iccn = pptp_msg(11, f12=0x0100)
    wen = pptp_msg(14, f12=0x0100)
    ocrp_c = pptp_msg(8, f12=0x8002, f14=0x0101, result=1)   # the client answers an incoming call

    # The KB's outgoing call, whole messages in one segment each.
    conv = (segs(0, setup, 255) + segs(1, setup_r, 255) + segs(0, ocrq, 255) + server('OCRP') +
            segs(0, sli, 255) + server('SLI') + segs(1, echo, 255) + segs(0, echo_r, 255) +
            segs(0, ccrq, 255) + server('CDN') + segs(0, stop, 255) + segs(1, stop_r, 255))
    seeds.append(('kb-call', bytes([cfg]) + conv))
    # The same cut in small and odd segments (Call IDs split across segments).
    for size in (1, 5, 13, 31):
        conv = (segs(0, setup + ocrq, size) + segs(1, setup_r, size) + server('OCRP') +
                segs(0, sli + ccrq, size) + server('CDN') + segs(0, cdn_c, size))
        seeds.append(('kb-call-seg%d' % size, bytes([cfg]) + conv))
    # Incoming call, several messages per segment; the client also answers one.
    conv = (op_seg(0, setup[:100]) + op_seg(0, setup[100:]) + op_seg(1, setup_r[:150]) +
            op_seg(1, setup_r[150:]) + op_seg(0, icrq[:200]) + op_seg(0, icrq[200:]) +
            server('ICRP', sid=1) + op_seg(0, iccn + wen[:7]) + op_seg(0, wen[7:] + sli) +
            server('WEN', sid=1) + segs(0, ocrp_c, 255) + server('ICCN') +
            server('CDN', sid=1) + op_seg(1, pptp_msg(12, f12=0x0101), flags=F_FIN))
    seeds.append(('incoming', bytes([cfg]) + conv))
    # A refused call; a repeated reply; two calls at once.
    conv = (segs(0, setup, 255) + segs(1, setup_r, 255) + segs(0, ocrq, 255) +
            server('OCRP', fail=True) + segs(0, pptp_msg(7, f12=0x8003), 255) + server('OCRP', sid=2) +
            server('OCRP', sid=2) + segs(0, pptp_msg(9, f12=0x8004), 255) + server('ICRP', sid=3) +
            segs(0, pptp_msg(13, f12=0x8003), 255) + server('SLI'))
    seeds.append(('calls', bytes([cfg]) + conv))
    # Retransmissions, overlaps and gaps.
    conv = (op_seg(0, setup[:120]) + op_seg(0, mode=BACK, param=60, length=60) +
            op_seg(0, setup[120:] + ocrq[:40]) + op_seg(0, mode=BACK, param=40, length=40) +
            op_seg(0, ocrq[40:60] + ocrq[60:], mode=AHEAD, param=20) + op_seg(0) +
            op_seg(1, setup_r, mode=FRESH) + server('OCRP') + op_seg(1, mode=BACK, param=30, length=10) +
            op_seg(0, mode=BACK, param=200, length=255) + op_seg(1, mode=BACK, param=255, length=255) +
            op_seg(0, ccrq[:14], mode=FRESH) + op_seg(0, mode=BACK, param=14, length=14) + op_seg(0, ccrq[14:]))
    seeds.append(('retrans', bytes([cfg]) + conv))
    # A request whose Call ID is split between segments, sent without retransmission (a gap follows).
    conv = (segs(0, setup, 255) + op_seg(0, ocrq[:13], mode=FRESH) + op_seg(0, ocrq[13:], mode=FRESH) +
            op_seg(0) + segs(1, setup_r, 255) + server('OCRP'))
    seeds.append(('split-fresh', bytes([cfg]) + conv))
    # A call, then ageing, a CLI clear, a gate killed, reuse of the tuple, the control session deleted.
    base = segs(0, setup + ocrq, 255) + segs(1, setup_r, 255) + server('OCRP')
    seeds.append(('tick', bytes([cfg]) + base + op_ctl(OP_TICK, 200) + op_ctl(OP_TICK, 200) + segs(0, sli, 255)))
    seeds.append(('clear', bytes([cfg]) + base + op_ctl(OP_CLEAR) + segs(0, sli + ccrq, 255)))
    seeds.append(('killgate', bytes([cfg]) + base + op_ctl(OP_KILL_GATE, 1) + server('CDN')))
    seeds.append(('reuse', bytes([cfg]) + base + op_ctl(OP_REUSE) + base))
    seeds.append(('newconn', bytes([cfg]) + base + op_ctl(OP_NEW_CONN) + base))
    seeds.append(('delctrl', bytes([cfg]) + base + op_ctl(OP_DEL_CTRL) + base))
    seeds.append(('timeout', bytes([cfg]) + op_ctl(OP_TIMEOUT, 3) + base + op_ctl(OP_TICK, 5) +
                  op_ctl(OP_QUIESCE) + segs(0, sli, 255)))
    # Many calls: the xlate table and the session table (gates) fill up.
    many = segs(0, setup, 255) + segs(1, setup_r, 255)
    for i in range(8):
        many += segs(0, pptp_msg(7, f12=0x9000 + i), 255) + server('OCRP', sid=i & 3)
    seeds.append(('many', bytes([cfg]) + many))
    # More Call ID rewrites than the rewrite log keeps (16), then old retransmissions.
    wrap = base + segs(0, ccrq * 18, 255)
    for i in range(18):
        wrap += server('SLI')
    wrap += (op_seg(0, mode=BACK, param=255, length=255) + op_seg(0, mode=BACK, param=40, length=40) +
             op_seg(0, mode=BACK, param=400, length=255) + op_seg(1, mode=BACK, param=600, length=255) +
             op_seg(1, mode=BACK, param=255, length=255) + op_seg(1, mode=BACK, param=30, length=30))
    seeds.append(('logwrap', bytes([cfg]) + wrap))
    # RST, FIN, Stop mid-stream; a bad magic; without the handshake; without NAT; options and chains.
    seeds.append(('rst', bytes([cfg]) + base + op_seg(1, flags=F_RST) + segs(0, sli, 255)))
    seeds.append(('fin', bytes([cfg]) + base + op_seg(0, sli, flags=F_FIN) + server('SLI')))
    seeds.append(('stop', bytes([cfg]) + base + segs(0, stop, 255) + segs(0, ocrq, 255)))
    bad = bytearray(ocrq)
    bad[5] ^= 0xff
    seeds.append(('badmagic', bytes([cfg]) + segs(0, setup, 255) + segs(0, bytes(bad), 255)))
    seeds.append(('nohandshake', bytes([cfg | 0x01]) + segs(0, setup[:10], 255) +
                  op_seg(0, mode=BACK, param=10, length=0, flags=F_SYN | F_NOACK) +
                  op_seg(1, flags=F_SYN) + segs(0, setup[10:], 255) + segs(1, setup_r, 255)))
    seeds.append(('nonat', bytes([cfg | 0x02]) + base + segs(0, ccrq, 255) + server('CDN')))
    seeds.append(('opts', bytes([cfg | 0x04 | 0x08]) + base + segs(0, sli, 7)))
    seeds.append(('chain', bytes([cfg | 0x10 | 0x60]) + segs(0, setup + ocrq, 200) +
                  segs(1, setup_r, 200) + server('OCRP')))
    return seeds


# ---------------------------------------------------------------- fuzz_worker

T_GRE_C2S, T_UDP_C2S, T_UDP_S2C = 3, 5, 6


def wrec(tmpl, off, data, hold=False):
    """One fuzz_worker record: template tmpl with data laid over it at off; hold = same burst as the next."""
    return bytes([tmpl << 1, off, (0x80 if hold else 0) | len(data) >> 8, len(data) & 0xff]) + data


def worker_seeds():
    l4 = 14 + 20
    new_udp = struct.pack('>H', 40001)
    gre_v0 = bytes([0, 0, 0x08, 0])
    return [
        # two datagrams of a new flow and one of another in one RX burst
        ('burst-new-udp', wrec(T_UDP_C2S, l4, new_udp, True) + wrec(T_UDP_C2S, l4, new_udp, True) +
         wrec(T_UDP_C2S, l4, struct.pack('>H', 40002))),
        # GRE version 0 (not PPTP) through NAT, twice in one burst
        ('burst-gre-v0', wrec(T_GRE_C2S, l4, gre_v0, True) + wrec(T_GRE_C2S, l4, gre_v0)),
        # unsolicited datagrams to the public address, in one burst
        ('burst-to-public', wrec(T_UDP_S2C, l4 + 2, struct.pack('>H', 5000), True) +
         wrec(T_UDP_S2C, l4 + 2, struct.pack('>H', 5001))),
    ]


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'corpus')
    n = 0
    n += write_corpus(outdir, 'fuzz_conf', conf_seeds())
    n += write_corpus(outdir, 'fuzz_cli', cli_seeds())
    n += write_corpus(outdir, 'fuzz_pkt_nat', pkt_seeds())
    n += write_corpus(outdir, 'fuzz_pptp_stream', pptp_seeds())
    n += write_corpus(outdir, 'fuzz_worker', worker_seeds())
    print('make_corpus: %d seeds in %s' % (n, outdir))


if __name__ == '__main__':
    main()
