#!/usr/bin/env python3
"""RFC 4475 torture messages sent raw to a node over UDP (SPEC SIP-4).

    sip_torture.py HOST PORT

Each invalid message goes from a loopback address of its own (127.0.0.51, .52, ...), so the
guard's per-address counting does not blacklist the sender of the next one. Prints the number
of invalid messages sent, then checks the node still answers OPTIONS: exit 0 when it does,
1 when it does not, 2 when a message was answered (malformed messages get no answer).
"""
import socket
import sys

INVALID = [
    # 3.1.2.1 badinv01: extraneous separators
    "INVITE sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=134161461246\nMax-Forwards: 7\n"
    "Call-ID: badinv01.0ha0isndaksdjasdf3234nas\nCSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\nContact: \"Joe\" <sip:joe@example.org>;;;;\n"
    "Content-Length: 0\n\n",
    # 3.1.2.2 clerr: Content-Length larger than the message
    "INVITE sip:user@example.com SIP/2.0\nMax-Forwards: 80\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=93942939o2\nContact: <sip:caller@hungry.example.net>\n"
    "Call-ID: clerr.0ha0isndaksdjweiafasdk3\nCSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523\n"
    "Content-Type: application/sdp\nContent-Length: 9999\n\n"
    "v=0\no=mhandley 29739 7272939 IN IP4 192.0.2.155\ns=-\nc=IN IP4 192.0.2.155\nt=0 0\n"
    "m=audio 49217 RTP/AVP 0\n",
    # 3.1.2.3 scalar02: negative Content-Length
    "INVITE sip:vivekg@chair-dnrc.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK-39234-23523\n"
    "To: \"Mr. J. User \" <sip:j.user@example.com>\nFrom: sip:caller@example.net;tag=93942939o2\n"
    "Max-Forwards: 70\nCall-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\nCSeq: 1 INVITE\n"
    "Content-Type: application/sdp\nContent-Length: -999\n\n"
    "v=0\no=mhandley 29739 7272939 IN IP4 192.0.2.15\ns=-\nc=IN IP4 192.0.2.15\nt=0 0\n"
    "m=audio 49217 RTP/AVP 0 12\n",
    # 3.1.2.4 scalarlg: overlarge scalars
    "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\n"
    "To: <sip:user@example.com>\nFrom: <sip:user@example.com>;tag=239232jh3\n"
    "CSeq: 36893488147419103232 REGISTER\nCall-ID: scalar00.0ha0isndaksdjweiafasdk3\n"
    "Max-Forwards: 300\nExpires: 1" + "0" * 100 + "\n"
    "Contact: <sip:user@host129.example.com>\n  ;expires=280297596632815\nContent-Length: 0\n\n",
    # 3.1.2.6 quotbal: unterminated quoted string in a display name
    "INVITE sip:user@example.com SIP/2.0\nTo: \"Mr. J. User <sip:j.user@example.com>\n"
    "From: sip:caller@example.net;tag=93334\nMax-Forwards: 10\n"
    "Call-ID: quotbal.aksdj\nContact: <sip:caller@host59.example.net>\nCSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234\n"
    "Content-Type: application/sdp\nContent-Length: 0\n\n",
    # 3.1.2.9 lwsstart: a SIP version with a space in it
    "INVITE sip:user@example.com SIP/7.0\nMax-Forwards: 70\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=34525\nCall-ID: badvers01.31414\nCSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.19;branch=z9hG4bKkdjuw\nContent-Length: 0\n\n",
    # 3.1.2.12 mismatch01: CSeq method differs from the request method
    "OPTIONS sip:user@example.com SIP/2.0\nTo: sip:j.user@example.com\n"
    "From: sip:caller@example.org;tag=33242\nMax-Forwards: 3\n"
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\nCall-ID: mismatch01.dj0234sxdfl3\n"
    "CSeq: 8 INVITE\nContact: <sip:caller@host.example.org>\nAccept: application/sdp\n"
    "Content-Length: 0\n\n",
    # 3.1.2.16 escruri: escaped headers in the Request-URI
    "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0\nTo: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=341518\nMax-Forwards: 7\nContact: <sip:caller@host39923.example.net>\n"
    "Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh3q-h4n\nCSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw\nContent-Length: 0\n\n",
    # missing mandatory headers (no Call-ID, no CSeq)
    "OPTIONS sip:user@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\n"
    "From: sip:a@example.org;tag=1\nTo: sip:b@example.org\nContent-Length: 0\n\n",
    # a NUL byte among the headers
    "OPTIONS sip:user@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKy\n"
    "From: sip:a@example.org;tag=1\x00evil\nTo: sip:b@example.org\nCall-ID: nul1\n"
    "CSeq: 1 OPTIONS\nContent-Length: 0\n\n",
]


def crlf(text):
    return text.replace("\n", "\r\n").encode("latin-1")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    answered = False
    for index, message in enumerate(INVALID):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.%d" % (51 + index), 0))
        s.settimeout(0.3)
        s.sendto(crlf(message), (host, port))
        try:
            s.recvfrom(65536)
            answered = True
            print("answered: message %d" % index, file=sys.stderr)
        except socket.timeout:
            pass
        s.close()
    print(len(INVALID))
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.50", 0))
    probe.settimeout(2)
    local = probe.getsockname()
    options = (
        "OPTIONS sip:ward@%s:%d SIP/2.0\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK-after\n"
        "From: <sip:probe@%s>;tag=p1\nTo: <sip:ward@%s>\nCall-ID: after-torture\n"
        "CSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n"
        % (host, port, local[0], local[1], local[0], host)
    )
    probe.sendto(crlf(options), (host, port))
    try:
        data, _ = probe.recvfrom(65536)
    except socket.timeout:
        return 1
    if not data.startswith(b"SIP/2.0 200"):
        return 1
    return 2 if answered else 0


if __name__ == "__main__":
    sys.exit(main())
