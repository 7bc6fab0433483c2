#!/usr/bin/env python3
"""A minimal SIP UDP client for Ward's registrar tests: sends REGISTER (answering a digest
challenge with MD5 or SHA-256) or OPTIONS, and prints the status line of each response.

  sip_client.py register HOST PORT EXTENSION PASSWORD REALM [md5|sha256] [EXPIRES]
  sip_client.py options HOST PORT
SIP_TRANSPORT=tcp in the environment uses one TCP connection instead of UDP;
SIP_TRANSPORT=tls one TLS connection, verifying the node against SIP_CA (a PEM file).
Exit 0 when an answer came, 3 when none came within the timeout.
"""
import os
import hashlib
import random
import re
import socket
import sys

TIMEOUT = 2.0


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    transport = os.environ.get("SIP_TRANSPORT", "udp")
    tcp = transport in ("tcp", "tls")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(TIMEOUT)
    if tcp:
        sock.connect((host, port))
    if transport == "tls":
        import ssl
        context = ssl.create_default_context(cafile=os.environ["SIP_CA"])
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


if __name__ == "__main__":
    main()
