# baresip phones for Ward's e2e tests: each instance has its own config directory in the
# test dir (baresip -f DIR), registers one extension to a Ward node over TLS, plays a sine
# tone it was given from a WAV file (aufile), writes what it receives to a WAV file
# (sndfile's -dec dump) and is driven through its ctrl_tcp module (netstring JSON on
# loopback) by baresip_ctl.py. Source after tests/integration/lib.sh and ward_test_init;
# every process is recorded in WARD_TEST_PIDS and stopped by PID.
#
# Debian bookworm ships baresip 1.0.0 on libre 1.1.0. What that version can and cannot do,
# found against Ward:
# - Digest: MD5 only, and any challenge with another algorithm (SHA-256) in the same 401/407
#   makes the whole authentication fail ("Function not implemented"), in whatever order the
#   challenges come: digest_preferred: md5 is not enough, the node must offer MD5 alone.
# - In-dialog requests (ACK, BYE, re-INVITE) go only to sip: targets: a sips: Contact from
#   the far end closes the call with "Function not implemented" (libre's sip_request).
# - sip_cafile is loaded but the server's certificate is not verified (libre 1.1.0 accepts
#   any): the node's TLS identity is checked separately (baresip_check_node_tls).
# - ctrl_tcp serves one connection at a time: one agent per instance holds it (see
#   baresip_ctl.py).
# - No ICE, STUN or DTLS modules are loaded: the SDP is plain RTP/AVP (PCMU and
#   telephone-event) with a=tool, a=label, a=rtcp-rsize, a=ssrc cname, a=minptime, a=ptime.
#   mediaenc=srtp offers RTP/AVP with one a=crypto (AES_CM_128_HMAC_SHA1_80); srtp-mand
#   offers RTP/SAVP with the same; the call then reports a CALL_MENC event.

BARESIP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BARESIP_CTL="$BARESIP_HERE/baresip_ctl.py"

baresip_available() { command -v baresip >/dev/null 2>&1 && [ -f /usr/lib/baresip/modules/ctrl_tcp.so ]; }

# baresip_sip_port: P such that UDP and TCP P and TCP P+1 are free on 127.0.0.1 (baresip
# binds UDP and TCP on its sip_listen port and TLS on the next one).
baresip_sip_port() {
  python3 - <<'EOF'
import socket
for _ in range(200):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    held = []
    try:
        for kind, p in ((socket.SOCK_DGRAM, port), (socket.SOCK_STREAM, port),
                        (socket.SOCK_STREAM, port + 1)):
            s = socket.socket(socket.AF_INET, kind)
            held.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in held:
            s.close()
    print(port)
    break
EOF
}

# baresip_udp_range SIZE: a block of SIZE UDP ports on 127.0.0.1 that are all free right
# now, between 10000 and 19999 (below Linux's ephemeral ports and Ward's default RTP range),
# e.g. "13400-13599", apart from every block handed out before in this test: a node binds its
# relay ports only as calls need them, and a phone's RTP port inside the relay's range would be
# refused as the relay's own.
baresip_udp_range() {
  python3 - "$1" "$WARD_TEST_DIR/udp-ranges" <<'EOF'
import os
import random
import socket
import sys
size = int(sys.argv[1])
taken = []
if os.path.exists(sys.argv[2]):
    for line in open(sys.argv[2]):
        first, last = line.split("-")
        taken.append((int(first), int(last)))
starts = list(range(10000, 20000 - size + 1, size))
random.shuffle(starts)
for start in starts:
    end = start + size - 1
    if any(start <= last and first <= end for first, last in taken):
        continue
    held = []
    try:
        for port in range(start, start + size):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        for s in held:
            s.close()
    with open(sys.argv[2], "a") as f:
        f.write(f"{start}-{end}\n")
    print(f"{start}-{end}")
    break
EOF
}

baresip_dir() { echo "$WARD_TEST_DIR/baresip/$1"; }

# baresip_start NAME EXTENSION PASSWORD NODE_NAME TONE_HZ [MEDIAENC]
#   Writes NAME's config directory and starts baresip registering EXTENSION (auth_user and
#   auth_pass = PASSWORD; none when PASSWORD is empty) at NODE_NAME's SIP TLS port, trusting
#   that node's CA, auto-answering, PCMU only, sending a TONE_HZ sine. MEDIAENC is baresip's
#   account mediaenc parameter: empty for plain RTP, srtp (offer SRTP and RTP), srtp-mand
#   (RTP/SAVP only) or srtp-mandf (RTP/SAVPF). Starts its ctrl_tcp agent
#   (baresip 1.0.0's ctrl_tcp serves one connection: events in DIR/events, one JSON object
#   a line; commands through the FIFO DIR/commands). Returns 1 when baresip or its agent did
#   not come up.
baresip_start() {
  local name=$1 extension=$2 password=$3 node=$4 hz=$5 mediaenc=${6:-}
  local dir sip_port ctrl_port tls rtp_ports
  dir=$(baresip_dir "$name")
  mkdir -p "$dir/snd"
  sip_port=$(baresip_sip_port)
  ctrl_port=$(free_port)
  rtp_ports=$(baresip_udp_range 100)
  tls=$(endpoint "$node" sip_tls)
  # 60 s of tone: aufile closes the call when its file ends, so the file outlasts any call.
  python3 "$BARESIP_CTL" tone "$dir/tone.wav" 60 "$hz" || return 1
  sed -e "s|@SIP_PORT@|$sip_port|" -e "s|@CAFILE@|$(trust_anchor "$node")|" \
    -e "s|@SOURCE_WAV@|$dir/tone.wav|" -e "s|@NAME@|$name|g" -e "s|@SND_PATH@|$dir/snd|" \
    -e "s|@RTP_PORTS@|$rtp_ports|" -e "s|@CTRL_PORT@|$ctrl_port|" \
    "$BARESIP_HERE/config.in" >"$dir/config"
  local params="answermode=auto;audio_codecs=pcmu;regint=600"
  [ -n "$password" ] && params="auth_user=$extension;auth_pass=$password;$params"
  [ -n "$mediaenc" ] && params="$params;mediaenc=$mediaenc"
  echo "<sip:$extension@$tls;transport=tls>;$params" >"$dir/accounts"
  : >"$dir/contacts"
  echo "$ctrl_port" >"$dir/ctrl_port"
  echo "$extension" >"$dir/extension"
  echo "$node" >"$dir/node"
  # -s: SIP trace into the log; -t: baresip quits by itself within the test's time limit.
  baresip -f "$dir" -s -t "${BARESIP_LIFETIME:-170}" </dev/null >"$dir/baresip.log" 2>&1 &
  local pid=$!
  WARD_TEST_PIDS+=("$pid")
  echo "$pid" >"$dir/pid"
  python3 "$BARESIP_CTL" agent "$ctrl_port" "$dir" "${BARESIP_LIFETIME:-170}" \
    >"$dir/agent.log" 2>&1 &
  WARD_TEST_PIDS+=("$!")
  wait_for 10 baresip_agent_up "$dir" && kill -0 "$pid" 2>/dev/null
}
baresip_agent_up() { grep -q '"agent": "connected"' "$1/events" 2>/dev/null; }

# baresip_command NAME COMMAND [PARAMS]: one ctrl_tcp command; its response data on stdout.
baresip_command() {
  local name=$1; shift
  python3 "$BARESIP_CTL" command "$(baresip_dir "$name")" "$@"
}

# baresip_registered NAME: baresip's own view (reginfo says OK for the account).
baresip_registered() { baresip_command "$1" reginfo | grep -q 'OK'; }

# baresip_dial NAME EXTENSION: calls EXTENSION through the node NAME registered with.
baresip_dial() {
  local dir tls
  dir=$(baresip_dir "$1")
  tls=$(endpoint "$(cat "$dir/node")" sip_tls)
  # The account's transport=tls is added by baresip itself.
  baresip_command "$1" dial "sip:$2@$tls"
}

baresip_hangup() { baresip_command "$1" hangup; }

# baresip_event NAME TYPE [DIRECTION]: baresip has reported an event of TYPE (CALL_INCOMING,
# CALL_ESTABLISHED, CALL_CLOSED, REGISTER_OK, ...), for a call in DIRECTION if given.
baresip_event() {
  local file
  file="$(baresip_dir "$1")/events"
  if [ -n "${3:-}" ]; then
    grep "\"type\": \"$2\"" "$file" 2>/dev/null | grep -q "\"direction\": \"$3\""
  else
    grep -q "\"type\": \"$2\"" "$file" 2>/dev/null
  fi
}

# baresip_close_reason NAME: the param of the last CALL_CLOSED event ("Connection reset",
# "Function not implemented", ...).
baresip_close_reason() {
  grep '"type": "CALL_CLOSED"' "$(baresip_dir "$1")/events" 2>/dev/null | tail -1 |
    python3 -c 'import json,sys; print(json.loads(sys.stdin.read() or "{}").get("param", ""))'
}

# baresip_received NAME: "frames N rms R hz F" of the audio NAME received and decoded in its
# last call (sndfile's -dec dump; complete once the call is closed). Exit 3 without one.
baresip_received() {
  local file
  file=$(ls -t "$(baresip_dir "$1")"/snd/*-dec.wav 2>/dev/null | head -1)
  [ -n "$file" ] || return 3
  python3 "$BARESIP_CTL" wavstat "$file"
}

# baresip_rtp_stats NAME: baresip's RTP counters printed when its last call ended
# ("tx T rx R" packets).
baresip_rtp_stats() {
  awk '/^packets:/ { tx = $2; rx = $3 } END { if (tx != "") print "tx " tx " rx " rx }' \
    "$(baresip_dir "$1")/baresip.log"
}

# baresip_why NAME: baresip's warnings and call/registration lines, for failure messages.
baresip_why() {
  sed 's/\x1b\[[0-9;]*m//g' "$(baresip_dir "$1")/baresip.log" |
    grep -E '^(reg:|call:|ua:|sip:|tls:|.*session closed|.*Function not implemented|.*error)' |
    tail -6 | tr '\n' ';' | head -c 600
}

# baresip_sip NAME PATTERN: lines of NAME's SIP trace (sent and received) matching PATTERN.
baresip_sip() {
  sed 's/\x1b\[[0-9;]*m//g' "$(baresip_dir "$1")/baresip.log" | tr -d '\r' | grep -E "$2"
}

# baresip_sdp NAME START_LINE_REGEX: the SDP lines (x=...) of the SIP messages in NAME's
# trace whose first line matches START_LINE_REGEX (e.g. '^SIP/2.0 200' for the answers a
# caller received, '^INVITE' for the offers sent or received).
baresip_sdp() {
  sed 's/\x1b\[[0-9;]*m//g' "$(baresip_dir "$1")/baresip.log" | tr -d '\r' |
    awk -v start="$2" '
      /^(UDP|TCP|TLS) [^ ]+ -> [^ ]+$/ { header = 1; keep = 0; next }
      header && NF { header = 0; keep = ($0 ~ start); next }
      keep && /^[a-z]=/ { print }'
}

# baresip_stop NAME: quit, then waits up to 5 s for the process (ward_test_cleanup kills
# whatever is left).
baresip_stop() {
  local dir pid
  dir=$(baresip_dir "$1")
  pid=$(cat "$dir/pid")
  baresip_command "$1" quit >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null
  return 1
}

# baresip_check_node_tls NODE_NAME: the node's SIP TLS port presents an identity that
# chains to the node's trust anchor and names 127.0.0.1 (what baresip 1.0.0 does not check).
baresip_check_node_tls() {
  local tls
  tls=$(endpoint "$1" sip_tls)
  openssl s_client -connect "$tls" -CAfile "$(trust_anchor "$1")" -verify_return_error \
    -verify_ip 127.0.0.1 </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'
}
