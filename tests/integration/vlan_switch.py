# SPDX-License-Identifier: BSD-3-Clause
"""A tiny 802.1Q switch in user space, for kernels without the 8021q module
or bridge VLAN filtering: frames on the trunk with tag T go (untagged) to
the access port for T, untagged ones to the access port for 0; frames from
an access port leave on the trunk with its tag (none for 0).

usage: vlan_switch.py TRUNK TAG=IFACE [TAG=IFACE ...]    (run in the namespace)

The kernel takes the tag off a received frame before packet sockets see it
and reports it in PACKET_AUXDATA; this reads it from there (or from the
frame, if it is still there)."""
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
PACKET_OUTGOING = 4
AUX = struct.Struct("IIIHHHH")


def open_raw(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    return s


def recv(s):
    """(frame, tag or None) of the next frame received (not sent) on s, or (None, None)."""
    data, anc, _flags, addr = s.recvmsg(65535, socket.CMSG_SPACE(AUX.size))
    if addr[2] == PACKET_OUTGOING:
        return None, None
    tag = None
    for level, typ, cdata in anc:
        if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= AUX.size:
            status, _l, _s, _m, _n, tci, _tpid = AUX.unpack_from(cdata)
            if status & TP_STATUS_VLAN_VALID:
                tag = tci & 0xfff
    if tag is None and len(data) >= 18 and data[12:14] == b"\x81\x00":
        tag = struct.unpack("!H", data[14:16])[0] & 0xfff
        data = data[:12] + data[16:]
    return data, tag


def main():
    trunk = open_raw(sys.argv[1])
    access = {}
    for arg in sys.argv[2:]:
        t, ifname = arg.split("=", 1)
        access[int(t)] = open_raw(ifname)
    tag_of = {s: t for t, s in access.items()}
    socks = [trunk] + list(access.values())
    while True:
        for s in select.select(socks, [], [])[0]:
            frame, tag = recv(s)
            if frame is None:
                continue
            if s is trunk:
                out = access.get(tag or 0)
                if out is not None:
                    out.send(frame)
            else:
                t = tag_of[s]
                if t:
                    frame = frame[:12] + struct.pack("!HH", 0x8100, t) + frame[12:]
                trunk.send(frame)


if __name__ == "__main__":
    main()
