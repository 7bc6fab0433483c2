#!/usr/bin/env bash
# The registrar over UDP (SPEC SIP-1, SIP-2, SIP-4) with a real node and a small SIP client:
# digest challenge with SHA-256 and MD5, both answered, wrong password and unknown
# extension refused alike, bindings listed, an address blacklisted after repeated failures
# (then dropped without an answer), alarmed, listed and lifted through wardctl.
set -u
here=$(dirname "$0")
source "$here/lib.sh"
ward_test_init "$@"
sip() { python3 "$here/sip_client.py" "$@"; }

write_node_config primary primary
start_node primary || exit 1
ignite primary
ctl() { wardctl_for primary "$@"; }
ctl extension add 201 --phone-password-stdin <<<"82917364" >/dev/null
ctl extension add 202 --phone-password-stdin <<<"51738294" >/dev/null
address=$(endpoint primary sip_udp)
host=${address%:*}
port=${address##*:}

expect_output "SIP/2.0 200 OK" "SIP-1 OPTIONS over UDP is answered" sip options "$host" "$port"
out=$(sip register "$host" "$port" 201 82917364 ward md5 2>&1)
grep -q "^SIP/2.0 401" <<<"$out" && grep -q "^SIP/2.0 200 OK" <<<"$(tail -1 <<<"$out")" \
  && pass "SIP-2 REGISTER is challenged and the MD5 answer registers 201" \
  || fail "SIP-2 REGISTER is challenged and the MD5 answer registers 201: $out"
expect_output "^SIP/2.0 200 OK" "SIP-2 the SHA-256 (RFC 8760) answer registers 202" \
  sip register "$host" "$port" 202 51738294 ward sha256
tls_address=$(endpoint primary sip_tls)
out=$(SIP_TRANSPORT=tls SIP_CA="$(trust_anchor primary)" sip register "$host" "${tls_address##*:}" 202 51738294 ward sha256 2>&1)
grep -q "^SIP/2.0 401" <<<"$out" && grep -q "^SIP/2.0 200 OK" <<<"$(tail -1 <<<"$out")" \
  && pass "SIP-1 SIP-2 over TLS, with the node's certificate verified, 202 registers" \
  || fail "SIP-1 SIP-2 over TLS, with the node's certificate verified, 202 registers: $out"
tcp_address=$(endpoint primary sip_tcp)
out=$(SIP_TRANSPORT=tcp sip register "$host" "${tcp_address##*:}" 201 82917364 ward sha256 2>&1)
grep -q "^SIP/2.0 401" <<<"$out" && grep -q "^SIP/2.0 200 OK" <<<"$(tail -1 <<<"$out")" \
  && pass "SIP-1 SIP-2 over TCP the challenge and the answer travel on one connection" \
  || fail "SIP-1 SIP-2 over TCP the challenge and the answer travel on one connection: $out"
sleep 0.5
regs=$(ctl registrations)
grep -q "^201 .*udp" <<<"$regs" && grep -q "^202 .*udp" <<<"$regs" && grep -q "^201 .*tcp" <<<"$regs" \
  && grep -q "^202 .*tls" <<<"$regs" \
  && pass "SIP-2 wardctl registrations lists the UDP and TCP and TLS bindings" \
  || fail "SIP-2 wardctl registrations lists both bindings: $regs"
expect_output "^SIP/2.0 403" "SIP-2 a wrong password is refused with 403" \
  sip register "$host" "$port" 201 11111111 ward md5
expect_output "^SIP/2.0 403" "SIP-2 an unknown extension is refused exactly like a wrong password" \
  sip register "$host" "$port" 999 11111111 ward md5
expect_output "^SIP/2.0 200 OK" "SIP-2 Contact * with Expires 0 unregisters every binding" \
  sip register "$host" "$port" 202 51738294 ward md5 0
sleep 0.5
ctl registrations | grep -q "^202 " && fail "SIP-2 the unregistered binding is gone" \
  || pass "SIP-2 the unregistered binding is gone"

# SIP-4: ten failures within a minute blacklist the address; it then gets no answer at all.
for attempt in $(seq 1 10); do sip register "$host" "$port" 201 "0000000$attempt" ward md5 >/dev/null 2>&1; done
expect_code 3 "SIP-4 after 10 failures the source address is dropped without an answer" \
  sip register "$host" "$port" 201 82917364 ward md5
sleep 0.5
expect_output "^address  *127.0.0.1 " "SIP-4 wardctl blacklist list shows the address" \
  ctl blacklist list
expect_output "sip_address_blacklisted" "SIP-4 MON-3 the blacklisting raised an alarm" \
  ctl audit list --kind alarm --limit 20
expect_code 0 "SIP-4 wardctl blacklist reset lifts it" ctl blacklist reset --address 127.0.0.1
expect_output "^SIP/2.0 200 OK" "SIP-4 after the reset the phone registers again" \
  sip register "$host" "$port" 201 82917364 ward md5
expect_code 1 "SIP-4 resetting an address that is not listed is an error" \
  ctl blacklist reset --address 10.9.9.9
# SIP-4: failures against one extension from many addresses blacklist the extension (20),
# though no single address reaches its own threshold (10).
for source in 127.0.0.61 127.0.0.62 127.0.0.63; do
  for attempt in $(seq 1 7); do
    SIP_SOURCE=$source sip register "$host" "$port" 202 "4444000$attempt" ward md5 >/dev/null 2>&1
  done
done
expect_output "^SIP/2.0 403" "SIP-4 a blacklisted extension is refused even with the right password" \
  env SIP_SOURCE=127.0.0.64 python3 "$here/sip_client.py" register "$host" "$port" 202 51738294 ward md5
sleep 0.5
expect_output "^extension  *202 " "SIP-4 wardctl blacklist list shows the extension" ctl blacklist list
ctl blacklist list | grep -q "^address .*127.0.0.6[1-3]" &&
  fail "SIP-4 none of the three addresses reached its own threshold" ||
  pass "SIP-4 none of the three addresses reached its own threshold"
expect_output "sip_extension_blacklisted" "SIP-4 MON-3 the extension's blacklisting raised an alarm" \
  ctl audit list --kind alarm --limit 20
expect_code 0 "SIP-4 wardctl blacklist reset lifts the extension" ctl blacklist reset --extension 202
expect_output "^SIP/2.0 200 OK" "SIP-4 after the reset 202 registers again" \
  env SIP_SOURCE=127.0.0.64 python3 "$here/sip_client.py" register "$host" "$port" 202 51738294 ward md5
# Malformed input: dropped, counted, and the node keeps serving (SPEC SIP-4).
python3 - "$host" "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for junk in [b"INVITE sip:x SIP/2.0\r\n\r\n", b"REGISTER \x00\x01\x02 SIP/9.9\r\nVia: ;;;\r\n\r\n",
             b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\n", b"\xff" * 900,
             b"REGISTER sip:a SIP/2.0\r\nCSeq: 99999999999999999999 REGISTER\r\n\r\n"]:
    s.sendto(junk, (sys.argv[1], int(sys.argv[2])))
PY
expect_output "SIP/2.0 200 OK" "SIP-4 after malformed datagrams the node still answers" \
  sip options "$host" "$port"
# RFC 4475 torture messages, each from an address of its own: none answered, all counted,
# and the node keeps serving (SPEC SIP-4).
malformed_count() {
  curl -s "http://$(endpoint primary metrics)/metrics" | awk '$1 == "ward_sip_malformed_total" { print $2 }'
}
before=$(malformed_count)
sent=$(python3 "$here/sip_torture.py" "$host" "$port")
torture_code=$?
after=$(malformed_count)
if [ "$torture_code" = 0 ] && [ "${after:-0}" -ge "$(( ${before:-0} + ${sent:-99} ))" ]; then
  pass "SIP-4 $sent RFC 4475 torture messages get no answer, are counted ($before -> $after), and OPTIONS is still answered"
else
  fail "SIP-4 RFC 4475 torture messages: exit $torture_code, sent ${sent:-?}, malformed $before -> $after"
fi
if command -v sipsak >/dev/null 2>&1; then
  expect_code 0 "SIP-1 a sipsak OPTIONS probe is answered 200" \
    timeout 10 sipsak -s "sip:ward@$host:$port" -H 127.0.0.1
fi
tcp_closed() {
  exec 3<>"/dev/tcp/$host/${tcp_address##*:}" || return 1
  printf 'OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1\r\n\r\n' >&3
  timeout 3 cat <&3 >/dev/null
  local code=$?
  exec 3<&-
  [ "$code" = 0 ]
}
tcp_closed && pass "SIP-1 a TCP message without Content-Length closes its connection" \
  || fail "SIP-1 a TCP message without Content-Length closes its connection"
metrics=$(curl -s "http://$(endpoint primary metrics)/metrics")
grep -q "^ward_sip_registrations [1-9]" <<<"$metrics" && grep -q "^ward_sip_guard_dropped_total [1-9]" <<<"$metrics" \
  && awk '$1 == "ward_sip_malformed_total" && $2 >= 4 { found = 1 } END { exit !found }' <<<"$metrics" \
  && pass "MON-4 /metrics counts registrations and datagrams the guard dropped" \
  || fail "MON-4 /metrics counts registrations and dropped datagrams: $(grep ward_sip <<<"$metrics")"
# SIP-4 the allow list and the SBC switch, as configured.
write_node_config fenced primary
WARD_SIP_ALLOW=10.0.0.0/8 start_node fenced || exit 1
fenced=$(endpoint fenced sip_udp)
expect_code 3 "SIP-4 a source outside sip.allow gets no answer" sip options "$host" "${fenced##*:}"
write_node_config behind-sbc primary
WARD_SIP_ADDRESS_BLACKLISTING=off start_node behind-sbc || exit 1
sbc=$(endpoint behind-sbc sip_udp)
for attempt in $(seq 1 12); do sip register "$host" "${sbc##*:}" 301 "1111111$attempt" ward md5 >/dev/null 2>&1; done
expect_output "^SIP/2.0 403" "SIP-4 with address blacklisting off (an SBC in front) failures never drop the address" \
  sip register "$host" "${sbc##*:}" 301 11111119 ward md5

# SIP-1 each transport can be switched off; a node with SIP off opens no SIP or media port.
write_node_config tls-only primary
WARD_SIP_TRANSPORTS=tls start_node tls-only || exit 1
[ -z "$(endpoint tls-only sip_udp)$(endpoint tls-only sip_tcp)" ] && [ -n "$(endpoint tls-only sip_tls)" ] \
  && [ "$(open_sockets tls-only udp)" = 0 ] && [ -z "$(unlisted_ports tls-only)" ] \
  && pass "SIP-1 with sip.transports tls the node opens SIP over TLS and no UDP or TCP SIP port" \
  || fail "SIP-1 with sip.transports tls only TLS is open: $(cat "$WARD_TEST_DIR/tls-only/data/run/endpoints"; unlisted_ports tls-only)"
tls_only=$(endpoint tls-only sip_tls)
out=$(SIP_TRANSPORT=tls SIP_CA="$(trust_anchor tls-only)" sip options "$host" "${tls_only##*:}" 2>&1)
expect_output "^SIP/2.0 200 OK" "SIP-1 the TLS-only node answers OPTIONS over TLS" echo "$out"
write_node_config sip-off primary
WARD_SIP_TRANSPORTS=none start_node sip-off || exit 1
grep -q "^sip_" "$WARD_TEST_DIR/sip-off/data/run/endpoints" || [ "$(open_sockets sip-off udp)" != 0 ] \
  || [ -n "$(unlisted_ports sip-off)" ] \
  && fail "SIP-1 with sip.transports none no SIP or media port opens: $(cat "$WARD_TEST_DIR/sip-off/data/run/endpoints"; unlisted_ports sip-off)" \
  || pass "SIP-1 with sip.transports none the node opens no SIP or media port"
grep -q "event=sip_off" "$WARD_TEST_DIR/sip-off/node.log" \
  && pass "SIP-1 the node logs that SIP is off" || fail "SIP-1 the node logs that SIP is off"
expect_code 2 "SIP-1 an unknown transport is refused by --check-config" \
  env WARD_SIP_TRANSPORTS=udp,sctp "$WARD_NODE" --config "$WARD_TEST_DIR/sip-off/node.yaml" --check-config
grep -q "sip.transports" <<<"$OUT" && pass "SIP-1 the refusal names sip.transports" \
  || fail "SIP-1 the refusal names sip.transports: $OUT"
finish
