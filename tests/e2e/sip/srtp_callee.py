#!/usr/bin/env python3
"""A SIP phone that takes calls over TLS with SDES-SRTP, strict about SRTCP, for Ward's
media tests (SPEC MED-1): a second SIP stack beside baresip.

  srtp_callee.py HOST PORT CA_PEM EXTENSION PASSWORD REALM MODE SECONDS

Registers EXTENSION over one TLS connection (digest MD5), then answers the first INVITE
within SECONDS with 200 OK:
  strict   takes the first a=crypto line that carries no session parameters (so encrypted
           SRTCP, as a stack that refuses UNENCRYPTED_SRTCP does) and answers it with a key
           of its own; with no such line it declines the audio stream (m=audio 0);
  decline  always declines the audio stream.
Prints "chose TAG SUITE" or "declined", then waits for the BYE and answers it.
Exit 0 after the BYE, 3 when no INVITE or BYE came in time, 2 when registration failed.
"""
import base64
import hashlib
import os
import random
import re
import socket
import ssl
import sys
import time


def main():
    host, port, ca, ext, password, realm, mode, seconds = sys.argv[1:9]
    port, deadline = int(port), time.time() + float(seconds)
    context = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((host, port), timeout=5)
    sock = context.wrap_socket(raw, server_hostname=host)
    local = sock.getsockname()[1]
    pending = b""

    def receive(until):
        nonlocal pending
        while True:
            if b"\r\n\r\n" in pending:
                head, _, rest = pending.partition(b"\r\n\r\n")
                found = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                length = int(found.group(1)) if found else 0
                if len(rest) >= length:
                    pending = rest[length:]
                    return (head + b"\r\n\r\n" + rest[:length]).decode(errors="replace")
            remaining = until - time.time()
            if remaining <= 0:
                return None
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65535)
            except (socket.timeout, ssl.SSLError):
                return None
            if not chunk:
                return None
            pending += chunk

    call_id = f"{random.getrandbits(64):x}@127.0.0.1"
    tag = f"{random.getrandbits(32):x}"
    contact = f"<sip:{ext}@127.0.0.1:{local};transport=tls>"

    def register(cseq, extra=""):
        uri = f"sip:{host}:{port}"
        text = (f"REGISTER {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/TLS 127.0.0.1:{local};branch=z9hG4bK{random.getrandbits(48):x};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{ext}@{host}>;tag={tag}\r\nTo: <sip:{ext}@{host}>\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact}\r\n"
                f"Expires: 120\r\nUser-Agent: ward-srtp-callee\r\n{extra}Content-Length: 0\r\n\r\n")
        sock.sendall(text.encode())
        return receive(time.time() + 5)

    answer = register(1)
    if answer and answer.startswith("SIP/2.0 401"):
        challenge = next(l for l in answer.splitlines()
                         if l.lower().startswith("www-authenticate") and "MD5" in l)
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
        md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
        uri = f"sip:{host}:{port}"
        nc, cnonce = "00000001", f"{random.getrandbits(32):x}"
        response = md5(f"{md5(f'{ext}:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:"
                       f"{md5(f'REGISTER:{uri}')}")
        answer = register(2, f'Authorization: Digest username="{ext}",realm="{realm}",'
                             f'nonce="{nonce}",uri="{uri}",response="{response}",algorithm=MD5,'
                             f'qop=auth,nc={nc},cnonce="{cnonce}"\r\n')
    if not answer or not answer.startswith("SIP/2.0 200"):
        print(f"registration failed: {answer.splitlines()[0] if answer else 'no answer'}")
        return 2
    print("registered", flush=True)

    def reply(request, code, reason, body=""):
        headers = []
        for name in ("Via", "From", "Call-ID", "CSeq"):
            headers += [l for l in request.split("\r\n\r\n")[0].splitlines()
                        if l.lower().startswith(name.lower() + ":")]
        to = next(l for l in request.splitlines() if l.lower().startswith("to:"))
        if ";tag=" not in to:
            to += f";tag={tag}"
        text = ("\r\n".join([f"SIP/2.0 {code} {reason}"] + headers + [to, f"Contact: {contact}"]) +
                "\r\n" + ("Content-Type: application/sdp\r\n" if body else "") +
                f"Content-Length: {len(body)}\r\n\r\n{body}")
        sock.sendall(text.encode())

    while True:
        message = receive(deadline)
        if message is None:
            print("no INVITE")
            return 3
        if message.startswith("INVITE "):
            break
    offer = message.split("\r\n\r\n", 1)[1]
    chosen = None
    if mode == "strict":
        for line in re.findall(r"(?m)^a=crypto:(.*?)\r?$", offer):
            parts = line.split()
            if len(parts) == 3:  # tag, suite, key: no session parameters
                chosen = parts
                break
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    sdp = ("v=0\r\no=callee 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
    if chosen:
        key = base64.b64encode(os.urandom(30)).decode()
        sdp += (f"m=audio {media.getsockname()[1]} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                f"a=crypto:{chosen[0]} {chosen[1]} inline:{key}\r\n")
        print(f"chose {chosen[0]} {chosen[1]}", flush=True)
    else:
        sdp += "m=audio 0 RTP/SAVP 0\r\n"
        print("declined", flush=True)
    reply(message, 200, "OK", sdp)
    while True:
        message = receive(deadline + 10)
        if message is None:
            print("no BYE")
            return 3
        if message.startswith("BYE "):
            reply(message, 200, "OK")
            print("bye", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
