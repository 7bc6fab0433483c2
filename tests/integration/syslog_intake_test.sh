#!/usr/bin/env bash
# The primary's syslog receiver (SPEC TOP-2, MON-2): devices that are not Ward nodes send it
# syslog over TLS (RFC 5425, from a real rsyslog), TCP (RFC 6587) and UDP (RFC 5426, from
# logger); it keeps each message with the events other nodes forwarded, across a restart,
# follows the TLS settings and the management check level at once, and counts what it drops.
set -u
here=$(dirname "$0")
source "$here/lib.sh"
source "$here/rsyslog_receiver.sh"
ward_test_init "$@"

write_node_config primary primary
export WARD_SYSLOG_INTAKE_TRANSPORTS=tls,tcp,udp WARD_SYSLOG_INTAKE_MESSAGES_PER_SECOND=50
start_node primary || exit 1
export WARD_SESSION_FILE="$WARD_TEST_DIR/session-admin"
ignite primary
ctl() { wardctl_for primary "$@"; }
tls_at=$(endpoint primary syslog_tls)
tcp_at=$(endpoint primary syslog_tcp)
udp_at=$(endpoint primary syslog_udp)
[ -n "$tls_at" ] && [ -n "$tcp_at" ] && [ -n "$udp_at" ] && [ -z "$(unlisted_ports primary)" ] \
  && pass "TOP-2 MON-2 the primary receives syslog on TLS, TCP and UDP, on the ports it reports" \
  || fail "TOP-2 MON-2 syslog ports reported: $(cat "$WARD_TEST_DIR/primary/data/run/endpoints"; unlisted_ports primary)"

# events_show PATTERN: the primary's stored events from 127.0.0.1 match PATTERN within 5 s.
events_show() {
  local pattern=$1
  for _ in $(seq 1 25); do
    OUT=$(ctl --json cluster events --node syslog:127.0.0.1 --limit 1000 2>&1)
    grep -q -- "$pattern" <<<"$OUT" && return 0
    sleep 0.2
  done
  return 1
}

# ---- UDP and TCP from logger(1), as a small device sends them --------------------------------
logger --server 127.0.0.1 --port "${udp_at##*:}" --udp --rfc5424 -t fw01-daemon -p auth.warning \
  "udp: port scan from 198.51.100.9"
events_show "udp: port scan from 198.51.100.9" \
  && pass "MON-2 a UDP message (RFC 5426) is stored with the forwarded events" \
  || fail "MON-2 a UDP message is stored: $OUT"
grep -q '"action": "auth.warning"' <<<"$OUT" && grep -q '"service": "syslog/udp"' <<<"$OUT" \
  && pass "MON-2 the stored record keeps facility, severity and transport" \
  || fail "MON-2 the stored record keeps facility, severity and transport: $OUT"
logger --server 127.0.0.1 --port "${tcp_at##*:}" --tcp --octet-count --rfc5424 -t gw-b \
  -p local3.err "tcp: trunk register failed"
events_show "tcp: trunk register failed" \
  && pass "MON-2 a TCP message with octet counting (RFC 6587) is stored" \
  || fail "MON-2 a TCP message is stored: $OUT"

# ---- TLS from a real rsyslog, verifying the primary's certificate by name ---------------------
forwarder="$WARD_TEST_DIR/rsyslog-device"
if rsyslog_tls_forwarder_start "$forwarder" "$(trust_anchor primary)" "${tls_at##*:}" \
  primary.ward.test >/dev/null; then
  logger --server 127.0.0.1 --port "$RSYSLOG_PORT" --tcp --octet-count --rfc5424 -t ups-mon \
    -p daemon.crit "tls: battery low on site a"
  events_show "tls: battery low on site a" \
    && pass "TOP-2 MON-2 a device's rsyslog delivers over TLS (RFC 5425) and the primary stores it" \
    || fail "TOP-2 MON-2 rsyslog over TLS is stored: $OUT; rsyslog: $(cat "$forwarder/rsyslogd.log" 2>/dev/null | tail -5)"
  grep -q '"service": "syslog/tls"' <<<"$OUT" && grep -q '"object": "[^"]*/ups-mon"' <<<"$OUT" \
    && pass "MON-2 the TLS record names its transport and the device's host and application" \
    || fail "MON-2 the TLS record names its transport, host and application: $OUT"
  rsyslog_stop "$forwarder"
else
  fail "MON-2 an rsyslog forwarder starts"
fi
expect_output "syslog:127.0.0.1" "MON-2 wardctl cluster sources lists the device beside the nodes" \
  ctl cluster sources

# ---- Bad input is counted and changes nothing ------------------------------------------------
python3 - "${udp_at##*:}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"this is not syslog", ("127.0.0.1", int(sys.argv[1])))
PY
for _ in $(seq 1 25); do [ "$(metric primary 'ward_syslog_dropped_total{reason="malformed"}')" -ge 1 ] 2>/dev/null && break; sleep 0.2; done
[ "$(metric primary 'ward_syslog_dropped_total{reason="malformed"}')" -ge 1 ] 2>/dev/null \
  && pass "MON-4 a datagram that is not syslog is dropped and counted as malformed" \
  || fail "MON-4 malformed syslog counted: $(metric primary 'ward_syslog_dropped_total{reason="malformed"}')"
# 300 datagrams at once from one address: the first 100 (the burst of 50/s) are stored, the
# rest are dropped and counted, and the receiver still takes the next message.
python3 - "${udp_at##*:}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(b"<14>1 - flood app - - - flood %d" % i, ("127.0.0.1", int(sys.argv[1])))
PY
for _ in $(seq 1 25); do [ "$(metric primary 'ward_syslog_dropped_total{reason="rate_limited"}')" -ge 100 ] 2>/dev/null && break; sleep 0.2; done
limited=$(metric primary 'ward_syslog_dropped_total{reason="rate_limited"}')
[ "${limited:-0}" -ge 100 ] 2>/dev/null \
  && pass "MON-2 a flood from one address is cut at its rate and counted ($limited dropped)" \
  || fail "MON-2 a flood from one address is cut at its rate: ${limited:-none}"
sleep 1.5
logger --server 127.0.0.1 --port "${udp_at##*:}" --udp --rfc5424 -t fw01 "after the flood"
events_show "after the flood" && pass "MON-2 after a flood the sender is heard again" \
  || fail "MON-2 after a flood the sender is heard again: $OUT"
received=$(metric primary 'ward_syslog_received_total{transport="udp"}')
[ "${received:-0}" -ge 3 ] 2>/dev/null \
  && pass "MON-4 /metrics counts received syslog per transport (udp: $received)" \
  || fail "MON-4 /metrics counts received syslog per transport: ${received:-none}"

# ---- TLS settings and the management check level apply at once ------------------------------
probe() { openssl s_client -connect "$tls_at" -servername primary.ward.test "$@" </dev/null 2>&1; }
expect_code 0 "TLS-1 minimum TLS version set to 1.3" ctl pki tls set --min-version 1.3
probe -tls1_2 | grep -q "New, TLSv1.2" && fail "TLS-1 with 1.3 minimum the syslog receiver refuses TLS 1.2" \
  || pass "TLS-1 with 1.3 minimum the syslog receiver refuses TLS 1.2"
probe -tls1_3 | grep -q "New, TLSv1.3" && pass "TLS-1 the syslog receiver still accepts TLS 1.3" \
  || fail "TLS-1 the syslog receiver still accepts TLS 1.3"
ctl pki tls set --min-version 1.2 >/dev/null 2>&1
expect_code 0 "PKI-8 management checks set to High" ctl pki checks set --management high
python3 - "${tls_at##*:}" "$(trust_anchor primary)" <<'PY'
import socket, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
context.check_hostname = False
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            message = b"<14>1 - dev app - - - sent without a certificate"
            tls.sendall(b"%d %s" % (len(message), message))
            tls.settimeout(2)
            tls.recv(1)
except (ssl.SSLError, OSError):
    pass
PY
sleep 1
events_show "sent without a certificate" \
  && fail "PKI-8 at management checks High a device without a certificate is not heard" \
  || pass "PKI-8 at management checks High a device without a certificate is not heard"
expect_output "tls_handshake_failed.*service/syslog_intake" \
  "TLS-3 the refused device raises the TLS alarm for the syslog receiver" \
  ctl audit list --kind alarm --limit 200
ctl pki checks set --management medium >/dev/null 2>&1

# ---- What was stored survives a restart; numbering continues ---------------------------------
stop_node primary
start_node primary || exit 1
ctl login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
udp_at=$(endpoint primary syslog_udp)
logger --server 127.0.0.1 --port "${udp_at##*:}" --udp --rfc5424 -t fw01 "after the restart"
events_show "after the restart" \
  && grep -q "udp: port scan from 198.51.100.9" <<<"$OUT" \
  && pass "MON-2 stored syslog survives a restart and new messages join it" \
  || fail "MON-2 stored syslog survives a restart: $OUT"
sequences=$(grep -o '"sequence": "*[0-9]*' <<<"$OUT" | grep -o '[0-9]*$')
[ "$(sort -n <<<"$sequences" | uniq -d)" = "" ] && [ "$(sort -n <<<"$sequences" | tail -1)" = "$(wc -l <<<"$sequences" | tr -d ' ')" ] \
  && pass "MON-2 the sender's events are numbered without gaps or repeats across the restart" \
  || fail "MON-2 numbering across the restart: $(tr '\n' ' ' <<<"$sequences")"

# ---- Only the primary receives; a bad setting is refused, naming its key ---------------------
write_node_config exp1 expansion 7
expect_code 2 "TOP-2 an expansion configured to receive syslog is refused" \
  env WARD_SYSLOG_INTAKE_TRANSPORTS=tls "$WARD_NODE" --config "$WARD_TEST_DIR/exp1/node.yaml" --check-config
grep -q "syslog_intake.transports" <<<"$OUT" && pass "TOP-2 the refusal names syslog_intake.transports" \
  || fail "TOP-2 the refusal names syslog_intake.transports: $OUT"
expect_code 2 "MON-2 an unknown syslog transport is refused" \
  env WARD_SYSLOG_INTAKE_TRANSPORTS=tls,sctp "$WARD_NODE" --config "$WARD_TEST_DIR/primary/node.yaml" --check-config
finish
