#!/usr/bin/env python3
"""Looks at the RTP a node relays, on loopback, for plaintext (SPEC MED-1, MED-3).

    capture.py SECONDS PORT[,PORT...] WAV [WAV...]

Captures for SECONDS the UDP datagrams to or from the given ports on `lo` (an AF_PACKET
socket: needs root; exit 77 without it), then checks each datagram's payload (after the
12-byte RTP header) against the PCMU encoding of the WAV files the phones play: a 16-byte
run of a payload found in a tone's PCMU means that datagram crossed in clear text. Prints
"packets N plaintext M" and exits 0.
"""
import socket
import struct
import sys
import time
import wave

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # Python 3.13 dropped it; Debian bookworm has 3.11
        audioop = None


def pcmu(path):
    with wave.open(path, "rb") as w:
        frames = w.readframes(w.getnframes())
        width = w.getsampwidth()
    if audioop is not None:
        return audioop.lin2ulaw(frames, width)
    raise SystemExit("no audioop")


def main():
    seconds = float(sys.argv[1])
    ports = {int(p) for p in sys.argv[2].split(",") if p}
    plain = b"".join(pcmu(path) for path in sys.argv[3:])
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
        s.bind(("lo", 0))
    except PermissionError:
        print("capture needs root")
        return 77
    s.settimeout(0.2)
    packets = 0
    clear = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            frame, address = s.recvfrom(65535)
        except socket.timeout:
            continue
        # Loopback frames carry an Ethernet header; count each datagram once (outgoing copy).
        if address[2] == socket.PACKET_OUTGOING:
            continue
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        if ip[9] != 17:
            continue
        header = (ip[0] & 0x0F) * 4
        source, destination = struct.unpack("!HH", ip[header:header + 4])
        if source not in ports and destination not in ports:
            continue
        payload = ip[header + 8:]
        if len(payload) < 12 + 32 or (payload[0] >> 6) != 2:
            continue
        packets += 1
        if payload[12:28] in plain:
            clear += 1
    print(f"packets {packets} plaintext {clear}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
