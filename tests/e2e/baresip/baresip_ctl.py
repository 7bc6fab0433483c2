#!/usr/bin/env python3
"""Drives baresip for Ward's e2e tests through its ctrl_tcp module (netstring-framed JSON on
a loopback TCP port), and makes and measures the WAV files its aufile/sndfile modules use.
baresip 1.0.0's ctrl_tcp serves one connection at a time (a new one replaces the old), so
one agent per baresip holds it: it logs everything baresip sends and forwards the commands
written to a FIFO.

  baresip_ctl.py agent PORT DIR SECONDS
      Connects to baresip's ctrl_tcp PORT (retrying while baresip starts), creates the FIFO
      DIR/commands and appends every event and response baresip sends, one JSON object a
      line, to DIR/events; commands read from the FIFO (one JSON object a line) go to
      baresip. Ends when baresip closes the connection or SECONDS pass. Exit 3 when it never
      connected.
  baresip_ctl.py command DIR COMMAND [PARAMS]
      Sends one command (dial, hangup, reginfo, callstat, quit, ...) through DIR's agent and
      prints the response's data; exit 0 when baresip answered ok, 1 when it answered not
      ok, 3 when no agent or no answer (5 s).
  baresip_ctl.py tone FILE SECONDS HZ
      Writes a sine tone, 8 kHz mono 16-bit PCM (what G.711 carries without resampling).
  baresip_ctl.py wavstat FILE
      Prints "frames N rms R hz F active S" for a 16-bit mono PCM WAV file: R the root mean
      square of the samples (0 for silence), F the pitch of the blocks that are not silence,
      S their seconds. Exit 3 when the file is missing or unreadable.
"""
import json
import math
import os
import random
import select
import socket
import struct
import sys
import time
import wave


def netstring(payload):
    return str(len(payload)).encode() + b":" + payload + b","


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def complete(self):
        """Whether a whole netstring is buffered already."""
        colon = self.buffer.find(b":")
        return colon > 0 and len(self.buffer) > colon + 1 + int(self.buffer[:colon])

    def next(self):
        """The next netstring's payload, or None when the connection closed."""
        while True:
            colon = self.buffer.find(b":")
            if colon > 0:
                length = int(self.buffer[:colon])
                end = colon + 1 + length
                if len(self.buffer) > end:
                    payload = self.buffer[colon + 1:end]
                    self.buffer = self.buffer[end + 1:]
                    return payload
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk


def connect(port, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)


def agent(port, directory, seconds):
    deadline = time.monotonic() + seconds
    sock = connect(port, 10)
    if sock is None:
        return 3
    fifo = os.path.join(directory, "commands")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    # Read and write, so the FIFO never reports end of file between writers.
    commands = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    reader = Reader(sock)
    pending = b""
    with open(os.path.join(directory, "events"), "a", encoding="utf-8") as out:
        out.write(json.dumps({"agent": "connected"}) + "\n")
        out.flush()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([sock, commands], [], [],
                                        max(0.05, min(1.0, deadline - time.monotonic())))
            if commands in ready:
                pending += os.read(commands, 65536)
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip():
                        sock.sendall(netstring(line.strip()))
            if sock not in ready:
                continue
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            reader.buffer += chunk
            while reader.complete():
                payload = reader.next()
                try:
                    message = json.loads(payload)
                except ValueError:
                    message = {"unparsed": payload.decode("utf-8", "replace")}
                out.write(json.dumps(message) + "\n")
                out.flush()
    os.close(commands)
    return 0


def command(directory, name, params):
    token = f"t{random.getrandbits(32):x}"
    request = {"command": name, "params": params, "token": token}
    try:
        fifo = os.open(os.path.join(directory, "commands"), os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return 3
    os.write(fifo, json.dumps(request).encode() + b"\n")
    os.close(fifo)
    deadline = time.monotonic() + 5
    events = os.path.join(directory, "events")
    while time.monotonic() < deadline:
        with open(events, encoding="utf-8") as source:
            for line in source:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if message.get("response") and message.get("token") == token:
                    print(message.get("data", ""))
                    return 0 if message.get("ok") else 1
        time.sleep(0.05)
    return 3


def tone(path, seconds, hz):
    rate = 8000
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for n in range(int(seconds * rate)):
            frames += struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * n / rate)))
        out.writeframes(bytes(frames))
    return 0


def wavstat(path):
    try:
        with wave.open(path, "rb") as source:
            if source.getsampwidth() != 2 or source.getnchannels() != 1:
                return 3
            rate = source.getframerate()
            data = source.readframes(source.getnframes())
    except (OSError, EOFError, wave.Error):
        return 3
    count = len(data) // 2
    samples = struct.unpack(f"<{count}h", data[:count * 2])
    rms = math.sqrt(sum(s * s for s in samples) / count) if count else 0.0
    # The tone's pitch, from the upward zero crossings of the 20 ms blocks that are not
    # silence (the jitter buffer starts and ends with some).
    block = rate // 50
    crossings = active = 0
    for start in range(0, count - block + 1, block):
        chunk = samples[start:start + block]
        if math.sqrt(sum(s * s for s in chunk) / block) < 500:
            continue
        active += block
        edge = samples[max(0, start - 1):start + block]
        crossings += sum(1 for a, b in zip(edge, edge[1:]) if a < 0 <= b)
    hz = crossings * rate / active if active else 0.0
    print(f"frames {count} rms {rms:.0f} hz {hz:.0f} active {active / rate:.2f}")
    return 0


def main():
    mode = sys.argv[1]
    if mode == "agent":
        return agent(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    if mode == "command":
        return command(sys.argv[2], sys.argv[3], " ".join(sys.argv[4:]))
    if mode == "tone":
        return tone(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    if mode == "wavstat":
        return wavstat(sys.argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
