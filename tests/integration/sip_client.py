#!/usr/bin/env python3
"""A minimal SIP UDP client for Ward's registrar tests: sends REGISTER (answering a digest
challenge with MD5 or SHA-256) or OPTIONS, and prints the status line of each response.

  sip_client.py register HOST PORT EXTENSION PASSWORD REALM [md5|sha256] [EXPIRES]
  sip_client.py options HOST PORT
  sip_client.py call HOST PORT CALLER PASSWORD REALM [md5|sha256] DIALLED [sip|sips]
    INVITE with an SDP offer, answering the 407 with Proxy-Authorization; when answered,
    ACK, a short wait, BYE. Prints every final status line; exit 0 when the call was
    answered and hung up, 4 when it got a final failure (printed), 3 on silence.
SIP_SOURCE=ADDRESS sends from that loopback address (default 127.0.0.1).
SIP_TRANSPORT=tcp in the environment uses one TCP connection instead of UDP;
SIP_TRANSPORT=tls one TLS connection, verifying the node against SIP_CA (a PEM file),
presenting the certificate SIP_CERT with its key SIP_KEY when they are set.
Exit 0 when an answer came, 3 when none came within the timeout.
"""
import os
import base64
import hashlib
import random
import re
import socket
import sys
import time

TIMEOUT = 2.0


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    transport = os.environ.get("SIP_TRANSPORT", "udp")
    tcp = transport in ("tcp", "tls")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    sock.bind((os.environ.get("SIP_SOURCE", "127.0.0.1"), 0))
    sock.settimeout(TIMEOUT)
    if tcp:
        sock.connect((host, port))
    if transport == "tls":
        import ssl
        context = ssl.create_default_context(cafile=os.environ["SIP_CA"])
        if os.environ.get("SIP_CERT"):
            context.load_cert_chain(os.environ["SIP_CERT"], os.environ["SIP_KEY"])
        sock = context.wrap_socket(sock, server_hostname=host)
    local = sock.getsockname()[1]
    pending = b""

    def receive():
        nonlocal pending
        if not tcp:
            data, _ = sock.recvfrom(65535)
            return data
        while b"\r\n\r\n" not in pending:
            chunk = sock.recv(65535)
            if not chunk:
                raise socket.timeout()
            pending += chunk
        head, _, rest = pending.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head).group(1))
        while len(rest) < length:
            rest += sock.recv(65535)
        pending = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]
    uri = f"sip:{host}:{port}"
    call_id = f"{random.getrandbits(64):x}@127.0.0.1"

    def send(method, cseq, user, headers):
        branch = f"z9hG4bK{random.getrandbits(48):x}"
        text = (f"{method} {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/{transport.upper()} 127.0.0.1:{local};branch={branch};rport\r\n"
                f"Max-Forwards: 70\r\n"
                f"From: <sip:{user}@{host}>;tag={random.getrandbits(32):x}\r\n"
                f"To: <sip:{user}@{host}>\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
                f"User-Agent: ward-test\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) +
                "Content-Length: 0\r\n\r\n")
        if tcp:
            sock.sendall(text.encode())
        else:
            sock.sendto(text.encode(), (host, port))
        try:
            data = receive()
        except (socket.timeout, ConnectionError):
            print("no answer")
            sys.exit(3)
        answer = data.decode(errors="replace")
        print(answer.splitlines()[0])
        return answer

    if mode == "options":
        send("OPTIONS", 1, "probe", [])
        return
    if mode == "call":
        sys.exit(call(sock, tcp, transport, receive, host, port, local))
    ext, password, realm = sys.argv[4], sys.argv[5], sys.argv[6]
    algorithm = sys.argv[7] if len(sys.argv) > 7 else "md5"
    expires = sys.argv[8] if len(sys.argv) > 8 else "60"
    # Expires 0 removes every binding of the extension (Contact: *).
    contact = [("Contact", "*" if expires == "0" else f"<sip:{ext}@127.0.0.1:{local}>"),
               ("Expires", expires)]
    first = send("REGISTER", 1, ext, contact)
    if not first.startswith("SIP/2.0 401"):
        return
    wanted = "SHA-256" if algorithm == "sha256" else "MD5"
    challenge = next(l for l in first.splitlines()
                     if l.lower().startswith("www-authenticate") and f"algorithm={wanted}" in l)
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)

    def h(text):
        return (hashlib.sha256 if algorithm == "sha256" else hashlib.md5)(text.encode()).hexdigest()

    nc, cnonce = "00000001", f"{random.getrandbits(32):x}"
    ha1 = h(f"{ext}:{realm}:{password}")
    ha2 = h(f"REGISTER:{uri}")
    response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    authorization = (f'Digest username="{ext}",realm="{realm}",nonce="{nonce}",uri="{uri}",'
                     f'response="{response}",algorithm={wanted},qop=auth,nc={nc},'
                     f'cnonce="{cnonce}"')
    send("REGISTER", 2, ext, contact + [("Authorization", authorization)])


def media_probe(answer, count):
    """Sends `count` RTP packets to the media address of the answer (the node's relay) from
    the offer's address, and prints how many came back (the callee echoes them)."""
    import struct
    address = re.search(r"(?m)^c=IN IP4 ([0-9.]+)", answer).group(1)
    port = int(re.search(r"(?m)^m=audio (\d+)", answer).group(1))
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    media.settimeout(0.05)
    echoes = 0
    for seq in range(count):
        packet = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x57415244) + bytes(160)
        media.sendto(packet, (address, port))
        try:
            while True:
                data, _ = media.recvfrom(2048)
                echoes += len(data) == 172
        except socket.timeout:
            pass
    deadline = time.time() + 0.5
    while time.time() < deadline:
        try:
            data, _ = media.recvfrom(2048)
            echoes += len(data) == 172
        except socket.timeout:
            pass
    print(f"media {address}:{port} sent {count} echoes {echoes}")


def forged_srtp(answer, count):
    """Sends `count` packets shaped like SRTP (RTP header, payload, 10-byte tag) whose tags
    are wrong, as an attacker on the path would, to the node's media port of the answer."""
    import struct
    address = re.search(r"(?m)^c=IN IP4 ([0-9.]+)", answer).group(1)
    port = int(re.search(r"(?m)^m=audio (\d+)", answer).group(1))
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    for seq in range(count):
        packet = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x46524744) + os.urandom(170)
        media.sendto(packet, (address, port))
    print(f"forged {count} to {address}:{port}")


def call(sock, tcp, transport, receive, host, port, local):
    caller, password, realm, algorithm, dialled = sys.argv[4:9]
    scheme = sys.argv[9] if len(sys.argv) > 9 else "sip"
    uri = f"{scheme}:{dialled}@{host}:{port}"
    call_id = f"{random.getrandbits(64):x}@127.0.0.1"
    tag = f"{random.getrandbits(32):x}"
    sdp = ("v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    if os.environ.get("SIP_SRTP"):
        # An SDES offer (RFC 4568) with a fresh master key and salt.
        key = base64.b64encode(os.urandom(30)).decode()
        sdp = sdp.replace("RTP/AVP", "RTP/SAVP") + \
            f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}\r\n"

    def put(text):
        if tcp:
            sock.sendall(text.encode())
        else:
            sock.sendto(text.encode(), (host, port))

    def request(method, cseq, target, to, branch, headers=(), body=""):
        text = (f"{method} {target} SIP/2.0\r\n"
                f"Via: SIP/2.0/{transport.upper()} 127.0.0.1:{local};branch={branch};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{caller}@{host}>;tag={tag}\r\nTo: {to}\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
                f"Contact: <{scheme}:{caller}@127.0.0.1:{local};transport={transport}>\r\n"
                f"User-Agent: ward-test\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) +
                (f"Content-Type: application/sdp\r\n" if body else "") +
                f"Content-Length: {len(body)}\r\n\r\n{body}")
        put(text)

    def final(cseq_method):
        while True:
            try:
                answer = receive().decode(errors="replace")
            except (socket.timeout, ConnectionError):
                print("no answer")
                return None
            first = answer.splitlines()[0]
            if not first.startswith("SIP/2.0 "):
                # A request from the node (its BYE): answer 200.
                continue
            code = int(first.split()[1])
            if code >= 200 and f" {cseq_method}" in answer.split("CSeq:")[1].splitlines()[0]:
                print(first)
                # Why a call failed, when the far end says (RFC 3261 20.43).
                for line in answer.splitlines():
                    if line.lower().startswith("warning:"):
                        print(line)
                return answer

    to = f"<sip:{dialled}@{host}>"
    branch = f"z9hG4bK{random.getrandbits(48):x}"
    request("INVITE", 1, uri, to, branch, body=sdp)
    answer = final("INVITE")
    if answer is None:
        return 3
    if answer.startswith("SIP/2.0 407"):
        to_tagged = re.search(r"(?im)^To: *(.*)$", answer).group(1).strip()
        request("ACK", 1, uri, to_tagged, branch)
        wanted = "SHA-256" if algorithm == "sha256" else "MD5"
        challenge = next(l for l in answer.splitlines()
                         if l.lower().startswith("proxy-authenticate") and f"algorithm={wanted}" in l)
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)

        def h(text):
            return (hashlib.sha256 if algorithm == "sha256" else hashlib.md5)(text.encode()).hexdigest()

        nc, cnonce = "00000001", f"{random.getrandbits(32):x}"
        response = h(f"{h(f'{caller}:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:"
                     f"{h(f'INVITE:{uri}')}")
        authorization = (f'Digest username="{caller}",realm="{realm}",nonce="{nonce}",uri="{uri}",'
                         f'response="{response}",algorithm={wanted},qop=auth,nc={nc},'
                         f'cnonce="{cnonce}"')
        branch = f"z9hG4bK{random.getrandbits(48):x}"
        request("INVITE", 2, uri, to, branch, [("Proxy-Authorization", authorization)], sdp)
        answer = final("INVITE")
        if answer is None:
            return 3
    cseq = int(re.search(r"(?im)^CSeq: *(\d+)", answer).group(1))
    to_tagged = re.search(r"(?im)^To: *(.*)$", answer).group(1).strip()
    if not answer.startswith("SIP/2.0 2"):
        request("ACK", cseq, uri, to_tagged, branch)
        return 4
    target = re.search(r"(?im)^Contact: *<([^>]+)>", answer).group(1)
    request("ACK", cseq, target, to_tagged, f"z9hG4bK{random.getrandbits(48):x}")
    probe = int(os.environ.get("SIP_MEDIA_PROBE", "0"))
    if probe:
        media_probe(answer, probe)
    forged = int(os.environ.get("SIP_FORGED_SRTP", "0"))
    if forged:
        print("answer-sdp " + " ".join(l for l in answer.splitlines()
                                       if l.startswith("m=") or l.startswith("a=crypto")))
        forged_srtp(answer, forged)
        time.sleep(1.5)
    time.sleep(0.5)
    request("BYE", cseq + 1, target, to_tagged, f"z9hG4bK{random.getrandbits(48):x}")
    return 0 if final("BYE") is not None else 3


if __name__ == "__main__":
    main()
