#!/usr/bin/env python3
"""Answers one Digest challenge for a sipp scenario: writes the Authorization header line.

sipp 3.6.1's own [authentication] keyword computes MD5 only and reads the algorithm, realm
and nonce from the first WWW-Authenticate header of the 401 (all of them joined into one
string), so against a registrar that offers SHA-256 first it stops with the fatal error
"createAuthHeader: authentication must use MD5 or AKAv1-MD5". The register_digest_*.xml
scenarios therefore capture both challenges, run this helper with <exec>, and insert the
header with [file name=...]. Only hashlib, os, re and sys are imported, and the scenarios
run it with python3 -S -E, so it starts fast.

  digest_authorization.py ALGORITHM USERNAME PASSWORD METHOD URI OUT CHALLENGE...

ALGORITHM is SHA-256 or MD5; the challenge offering it is answered (qop=auth, nc=00000001,
a random cnonce). The header goes to OUT without a line end (sipp inserts the file as it
is), written to a temporary file first and renamed, so sipp never reads half of it.
"""
import hashlib
import os
import re
import sys

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)')


def params(challenge):
    return {name.lower(): value[1:-1] if value.startswith('"') else value
            for name, value in PARAM.findall(challenge)}


def main(argv):
    if len(argv) < 8:
        sys.exit(__doc__)
    algorithm, username, password, method, uri, out = argv[1:7]
    offered = [params(c) for c in argv[7:]]
    chosen = next((p for p in offered if p.get("algorithm", "MD5").upper() == algorithm.upper()),
                  None)
    if chosen is None or algorithm.upper() not in HASHES:
        sys.exit("no %s challenge among %r" % (algorithm, argv[7:]))
    h = lambda text: HASHES[algorithm.upper()](text.encode()).hexdigest()
    realm, nonce = chosen["realm"], chosen["nonce"]
    nc, cnonce, qop = "00000001", os.urandom(8).hex(), "auth"
    ha1 = h("%s:%s:%s" % (username, realm, password))
    ha2 = h("%s:%s" % (method, uri))
    response = h(":".join([ha1, nonce, nc, cnonce, qop, ha2]))
    header = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
              'response="%s", algorithm=%s, cnonce="%s", qop=%s, nc=%s'
              % (username, realm, nonce, uri, response, chosen.get("algorithm", "MD5"), cnonce,
                 qop, nc))
    if "opaque" in chosen:
        header += ', opaque="%s"' % chosen["opaque"]
    with open(out + ".tmp", "w") as f:
        f.write(header)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main(sys.argv)
