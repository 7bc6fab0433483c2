#!/usr/bin/env bash
# Calls through the B2BUA (SPEC SIP-6, SIP-2, MED-3): sipp phones on loopback register with a
# primary and an expansion joined by a line at High, then call each other: answered calls
# with media relayed by the node, busy, cancelled while ringing, unknown and unregistered
# numbers, a wrong password, and a call from a phone on the primary to one on the expansion
# carried over the line. Also emergency numbers (TF-2, MED-2: routed to the emergency
# extension, Enforce waived, marked for the next node over the line) and direct media (MED-3).
#   tests/e2e/sip_call_test.sh WARD_NODE WARDCTL
# Skips (77) without sipp. The nodes challenge MD5 first (sip.digest_preferred: md5) because
# sipp 3.6.1 computes MD5 only; SHA-256 for INVITE is proven by the unit tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
source "$here/sipp_lib.sh"
sipp_test_init "$@"

line_port=$(free_port)
write_node_config primary primary
pin_line_port primary "$line_port"
sip_site primary 46000-46999
start_node primary || exit 1
ignite_admin primary
write_node_config exp1 expansion "$line_port"
sip_site exp1 47000-47999
start_node exp1 || exit 1

if wait_for 30 line_at_high exp1 up; then
  pass "LINE-1 the expansion holds its line to the primary at High"
else
  fail "LINE-1 the expansion holds its line to the primary at High: $(at primary cluster status 2>&1)"
fi
WARD_SESSION_FILE="$WARD_TEST_DIR/session-exp1" at exp1 login -u Administrator \
  <<<"Oak-Tree-Plan-47" >/dev/null 2>&1

for number in 201 202 203 204; do
  expect_code 0 "SIP-2 extension $number is created on the primary" \
    at primary extension add "$number" --phone-password-stdin <<<"7${number}4619"
done
replicated() { at exp1 extension list | grep -q "^204"; }
wait_for 10 replicated || fail "LINE-2 the extensions reach exp1: $(at exp1 extension list 2>&1)"

primary_sip=$(endpoint primary sip_udp)
exp1_sip=$(endpoint exp1 sip_udp)

callee_port=$(free_udp_port)
remote_port=$(free_udp_port)
register reg202 "$primary_sip" 127.0.0.32 "$callee_port" 202
[ "$SIPP_CODE" = 0 ] && pass "SIP-2 extension 202 registers on the primary" ||
  fail "SIP-2 extension 202 registers on the primary ($(why reg202))"
register reg203 "$exp1_sip" 127.0.0.33 "$remote_port" 203
[ "$SIPP_CODE" = 0 ] && pass "SIP-2 extension 203 registers on exp1" ||
  fail "SIP-2 extension 203 registers on exp1 ($(why reg203))"

# ---- SIP-6 an answered call on one node, media through the relay -------------------------------
call answered call_uas.xml 127.0.0.32 "$callee_port" call_uac.xml 202
expect_answered answered "SIP-6 201 calls 202 on one node: 407, INVITE, 180, 200, ACK, BYE, 200 on both legs"
tr -d '\r' <"$work/answered-caller.msg" | grep -q '^m=audio 46[0-9][0-9][0-9] ' &&
  pass "MED-3 the caller's answer names the primary's relay port, not the callee's" ||
  fail "MED-3 the caller's answer names the primary's relay port: $(tr -d '\r' <"$work/answered-caller.msg" | grep '^m=' | head -3)"
tr -d '\r' <"$work/answered-callee.msg" | grep -q '^m=audio 46[0-9][0-9][0-9] ' &&
  grep -q '^c=IN IP4 127.0.0.1' <(tr -d '\r' <"$work/answered-callee.msg") &&
  pass "MED-3 the callee's offer names the primary's relay address and port" ||
  fail "MED-3 the callee's offer names the primary's relay: $(tr -d '\r' <"$work/answered-callee.msg" | grep '^[cm]=' | head -3)"
local_recorded() {
  grep -q 'event=call_ended .*caller=201 callee=202 .*end=completed' "$WARD_TEST_DIR/primary/node.log"
}
wait_for 5 local_recorded &&
  pass "SIP-6 the node records the call as completed" ||
  fail "SIP-6 the node records the call as completed: $(grep call_ended "$WARD_TEST_DIR/primary/node.log" | tail -2)"
[ "$(metric primary ward_media_relay_sessions)" = 0 ] &&
  pass "MED-4 the relay session is released when the call ends" ||
  fail "MED-4 the relay session is released when the call ends: $(metric primary ward_media_relay_sessions)"
[ "$(metric primary ward_calls_answered_total)" = 1 ] &&
  pass "MON-4 ward_calls_answered_total counts the call" ||
  fail "MON-4 ward_calls_answered_total counts the call: $(metric primary ward_calls_answered_total)"

# ---- SIP-6 busy, cancelled, unknown, unregistered, wrong password ------------------------------
call busy call_busy_uas.xml 127.0.0.32 "$callee_port" call_refused_uac.xml 202
[ "$CALLER_CODE" = 0 ] && [ "$CALLEE_CODE" = 0 ] && [ "$(final_code busy)" = 486 ] &&
  pass "SIP-6 a busy callee: its 486 reaches the caller, both legs ACKed" ||
  fail "SIP-6 a busy callee: 486 (final $(final_code busy); caller $(why busy-caller); callee $(why busy-callee))"

call cancel call_ringing_uas.xml 127.0.0.32 "$callee_port" call_cancel_uac.xml 202
[ "$CALLER_CODE" = 0 ] && [ "$CALLEE_CODE" = 0 ] &&
  pass "SIP-6 CANCEL while ringing: 200 and 487 to the caller, CANCEL to the callee" ||
  fail "SIP-6 CANCEL while ringing (caller $(why cancel-caller); callee $(why cancel-callee))"

call unknown "" "" "" call_refused_uac.xml 7999
expect_refused unknown 404 "SIP-6 a number the dial plan does not know: 404"

call unregistered "" "" "" call_refused_uac.xml 204
expect_refused unregistered 480 "SIP-6 an extension registered nowhere: 480"

call wrongpw "" "" "" call_refused_uac.xml 202 55550000
expect_refused wrongpw 403 "SIP-2 an INVITE with a wrong password: 407, then 403"

# ---- SIP-1 SIP-2 a caller on TLS, its INVITE authenticated with SHA-256 (RFC 8760) --------------
sip_tls=$(endpoint primary sip_tls)
relayed_before=$(metric primary ward_media_packets_relayed_total)
sipp_bg tls-callee "$primary_sip" 127.0.0.32 -p "$callee_port" -sf "$scenarios/call_uas.xml" -m 1 \
  -rtp_echo -recv_timeout 10000 -timeout 20 -timeout_error
tls_callee=$SIPP_PID
sleep 0.3
SIP_MEDIA_PROBE=50 SIP_TRANSPORT=tls SIP_CA="$(trust_anchor primary)" python3 "$here/../integration/sip_client.py" \
  call 127.0.0.1 "${sip_tls##*:}" 201 72014619 ward sha256 202 >"$work/tls-caller.out" 2>&1 &
tls_caller=$!
WARD_TEST_PIDS+=("$tls_caller")
# SPEC MON-5, MED-4: the status API shows the call while it lasts, with its legs and media.
call_listed() {
  at primary calls | grep -Eq "^[0-9]+ +201 +202 +answered +tls +udp +rtp +rtp +[0-9]+/[0-9]+"
}
if wait_for 8 call_listed; then
  pass "MON-5 MED-4 wardctl calls shows the answered call: TLS caller, UDP callee, RTP on both legs through the relay"
else
  fail "MON-5 MED-4 wardctl calls shows the answered call: $(at primary calls 2>&1)"
fi
[ "$(metric primary 'ward_call_legs_active{media="rtp",path="relayed"}')" = 2 ] &&
  [ "$(metric primary 'ward_call_legs_active{media="srtp",path="relayed"}')" = 0 ] &&
  pass "MED-4 MON-4 /metrics counts the call's two legs as plain RTP through the relay" ||
  fail "MED-4 MON-4 ward_call_legs_active: $(curl -s "http://$(endpoint primary metrics)/metrics" | grep '^ward_call_legs_active' | tr '\n' ' ')"
tls_code=0
wait "$tls_caller" || tls_code=$?
out=$(cat "$work/tls-caller.out")
sipp_wait "$tls_callee"
if [ "$tls_code" = 0 ] && [ "$SIPP_CODE" = 0 ] && grep -q "^SIP/2.0 200 OK" <<<"$out"; then
  pass "SIP-1 SIP-2 SIP-6 201 over TLS (SHA-256 digest on the INVITE) calls 202 on UDP: answered and hung up"
else
  fail "SIP-1 SIP-2 SIP-6 201 over TLS calls 202 on UDP (client exit $tls_code: $out; callee $(why tls-callee))"
fi
# The caller's 50 RTP packets go to the relay port of the answer, on to the callee, and the
# callee's echoes come back the same way (SPEC MED-3).
echoes=$(sed -n 's/^media .* echoes \([0-9]*\)$/\1/p' <<<"$out")
relayed_after=$(metric primary ward_media_packets_relayed_total)
if [ "${echoes:-0}" -ge 45 ] && [ "${relayed_after:-0}" -ge "$(( ${relayed_before:-0} + 90 ))" ]; then
  pass "MED-3 50 RTP packets reach the callee through the relay and $echoes echoes come back (relayed ${relayed_before:-0} -> $relayed_after)"
else
  fail "MED-3 RTP through the relay: echoes ${echoes:-none}, relayed ${relayed_before:-?} -> ${relayed_after:-?}, dropped $(metric primary ward_media_packets_dropped_total), wrong source $(metric primary ward_media_packets_wrong_source_total)"
fi

# ---- MED-5 forged SRTP packets are dropped, counted and raise an alarm -------------------------
# 201 offers SDES over TLS; once the call is up, 200 packets with wrong authentication tags are
# sent to the node's media port for 201's leg, as an attacker who learnt the port would.
sipp_bg srtp-callee "$primary_sip" 127.0.0.32 -p "$callee_port" -sf "$scenarios/call_uas.xml" -m 1 \
  -rtp_echo -recv_timeout 10000 -timeout 20 -timeout_error
srtp_callee=$SIPP_PID
sleep 0.3
auth_failed_before=$(metric primary 'ward_media_srtp_packets_total{op="auth_failed"}')
out=$(SIP_SRTP=1 SIP_FORGED_SRTP=200 SIP_TRANSPORT=tls SIP_CA="$(trust_anchor primary)" \
  python3 "$here/../integration/sip_client.py" call 127.0.0.1 "${sip_tls##*:}" 201 72014619 ward \
  sha256 202 2>&1)
sipp_wait "$srtp_callee"
grep -q "^answer-sdp m=audio [0-9]* RTP/SAVP .*a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" <<<"$out" \
  && grep -q "^forged 200 " <<<"$out" \
  && pass "MED-1 201's SDES offer over TLS is answered with the node's own key, and 200 forged packets are sent" \
  || fail "MED-1 201's SDES offer over TLS is answered with a key: $out"
auth_failed_after=$(metric primary 'ward_media_srtp_packets_total{op="auth_failed"}')
[ "${auth_failed_after:-0}" -ge "$(( ${auth_failed_before:-0} + 200 ))" ] \
  && pass "MED-5 the 200 forged packets failed authentication, were dropped and counted (${auth_failed_before:-0} -> $auth_failed_after)" \
  || fail "MED-5 the forged packets are counted as failing authentication: ${auth_failed_before:-?} -> ${auth_failed_after:-?}"
srtp_alarm() { at primary alarms list | grep -q "srtp_authentication_failures.*media/relay"; }
wait_for 5 srtp_alarm \
  && pass "MED-5 MON-5 the burst raised the srtp_authentication_failures alarm, listed by wardctl alarms" \
  || fail "MED-5 the burst raised an alarm: $(at primary alarms list 2>&1 | tail -3)"

# ---- SIP-1 Strict SIPS -------------------------------------------------------------------------
expect_code 0 "SIP-1 wardctl sip set strict_sips=on" at primary sip set strict_sips=on
call strict "" "" "" call_refused_uac.xml 202
expect_refused strict 403 "SIP-1 with Strict SIPS a call over UDP is refused with 403"
out=$(SIP_TRANSPORT=tls SIP_CA="$(trust_anchor primary)" python3 "$here/../integration/sip_client.py" \
  call 127.0.0.1 "${sip_tls##*:}" 201 72014619 ward sha256 202 sips 2>&1)
grep -q "^SIP/2.0 480" <<<"$out" &&
  pass "SIP-1 with Strict SIPS a sips call over TLS to a phone that is not on TLS gets 480" ||
  fail "SIP-1 with Strict SIPS a sips call over TLS to a UDP phone gets 480: $out"
expect_code 0 "SIP-1 wardctl sip set strict_sips=off" at primary sip set strict_sips=off

# ---- MED-2 an Enforce extension refuses an RTP-only call ---------------------------------------
expect_code 0 "MED-2 wardctl media set extension 201 enforce" at primary media set extension 201 enforce
call enforce "" "" "" call_refused_uac.xml 202
expect_refused enforce 488 "MED-2 201 under Enforce calling over UDP with an RTP-only offer gets 488"

# ---- TF-2 MED-2 an emergency call is never refused for its media -------------------------------
# 201 is still under Enforce; its RTP-only call to the emergency number is connected anyway.
call no_route "" "" "" call_refused_uac.xml 112
expect_refused no_route 503 "TF-2 an emergency number with no emergency route configured gets 503, not 404"
expect_code 0 "TF-2 wardctl sip set emergency_numbers=112,999 emergency_extension=202" \
  at primary sip set emergency_numbers=112,999 emergency_extension=202
call emergency call_uas.xml 127.0.0.32 "$callee_port" call_uac.xml 112
expect_answered emergency "TF-2 MED-2 201 under Enforce dials 112 with an RTP-only offer: the emergency extension 202 answers"
tr -d '\r' <"$work/emergency-callee.msg" | grep -qi '^Priority: emergency' &&
  pass "TF-2 the emergency extension's INVITE is marked Priority: emergency" ||
  fail "TF-2 the emergency extension's INVITE is marked Priority: emergency: $(tr -d '\r' <"$work/emergency-callee.msg" | grep -i '^priority' | head -1)"
[ "$(metric primary ward_calls_emergency_total)" = 2 ] &&
  grep -q 'event=emergency_call caller=201 dialled=112 route=202' "$WARD_TEST_DIR/primary/node.log" &&
  pass "TF-2 MON-4 emergency calls are counted and logged" ||
  fail "TF-2 MON-4 emergency calls are counted and logged: $(metric primary ward_calls_emergency_total)"
emergency_alarmed() {
  at primary audit list --kind alarm --limit 20 | grep "emergency_call" | grep -q "ringing extension 202"
}
wait_for 5 emergency_alarmed &&
  pass "TF-2 MON-3 an emergency call raises an alarm naming the caller and where it rings" ||
  fail "TF-2 MON-3 an emergency call raises an alarm: $(at primary audit list --kind alarm --limit 20 2>&1 | tail -5)"
at primary sip set emergency_extension= >/dev/null
at primary media set extension 201 system >/dev/null

# ---- MED-3 direct media between two phones on the node ------------------------------------------
relay_sessions_before=$(metric primary ward_media_relay_sessions)
expect_code 0 "MED-3 wardctl sip set direct_media=on" at primary sip set direct_media=on
call direct call_uas.xml 127.0.0.32 "$callee_port" call_uac.xml 202
expect_answered direct "MED-3 with direct media on, 201 calls 202: answered and hung up"
# Two RTP phones on the node's own network: each gets the other's own address, not the relay.
if tr -d '\r' <"$work/direct-callee.msg" | grep -q '^c=IN IP4 127.0.0.31' &&
  tr -d '\r' <"$work/direct-caller.msg" | grep -q '^c=IN IP4 127.0.0.32' &&
  ! tr -d '\r' <"$work/direct-callee.msg" | grep -q '^m=audio 46[0-9][0-9][0-9] '; then
  pass "MED-3 the callee's offer and the caller's answer name the phones' own media addresses"
else
  fail "MED-3 direct media SDP: callee got $(tr -d '\r' <"$work/direct-callee.msg" | grep '^[cm]=' | tr '\n' ' '); caller got $(tr -d '\r' <"$work/direct-caller.msg" | grep '^[cm]=' | tr '\n' ' ')"
fi
[ "$(metric primary ward_calls_direct_media_total)" = 1 ] &&
  [ "$(metric primary ward_media_relay_sessions)" = "${relay_sessions_before:-0}" ] &&
  pass "MED-3 MED-4 the direct call is counted and takes no relay session" ||
  fail "MED-3 MED-4 the direct call is counted and takes no relay session: direct $(metric primary ward_calls_direct_media_total), relay sessions $(metric primary ward_media_relay_sessions)"
expect_code 0 "MED-3 wardctl sip set direct_media=off" at primary sip set direct_media=off

# ---- SIP-5 MED-3 the cluster's RTP port range bounds the relay ---------------------------------
expect_code 0 "SIP-5 wardctl sip set rtp_port_min=46100 rtp_port_max=46199" \
  at primary sip set rtp_port_min=46100 rtp_port_max=46199
call window call_uas.xml 127.0.0.32 "$callee_port" call_uac.xml 202
relay_ports_used=$(cat "$work/window-callee.msg" "$work/window-caller.msg" | tr -d '\r' |
  grep -Eo '^m=audio 46[0-9]{3}' | awk '{print $2}' | sort -u | tr '\n' ' ')
if [ "$CALLER_CODE" = 0 ] && [ "$CALLEE_CODE" = 0 ] && [ -n "$relay_ports_used" ] &&
  ! tr ' ' '\n' <<<"$relay_ports_used" | grep -Eqv '^(461[0-9][0-9])?$'; then
  pass "SIP-5 MED-3 a call's relay ports come from the cluster's RTP port range ($relay_ports_used)"
else
  fail "SIP-5 MED-3 relay ports inside 46100-46199: ${relay_ports_used:-none} (caller $(why window-caller); callee $(why window-callee))"
fi
at primary calls | head -1 | grep -q "relay sessions 0 of 25;" &&
  pass "MED-4 the relay's capacity follows the range: 100 ports, 25 sessions" ||
  fail "MED-4 the relay's capacity follows the range: $(at primary calls | head -1)"
at primary sip set rtp_port_min=40000 rtp_port_max=50750 >/dev/null

# ---- SIP-4 User-Agent block list ---------------------------------------------------------------
sip_client() { python3 "$here/../integration/sip_client.py" "$@"; }
expect_code 0 "SIP-4 wardctl sip set user_agent_block=ward-test" \
  at primary sip set user_agent_block=ward-test
refused_ua() { [ "$(metric primary ward_sip_user_agent_refused_total)" -ge 1 ]; }
expect_code 3 "SIP-4 a blocked User-Agent gets no answer at all" \
  sip_client options 127.0.0.1 "${primary_sip##*:}"
wait_for 3 refused_ua && pass "SIP-4 MON-4 the refusal is counted in ward_sip_user_agent_refused_total" ||
  fail "SIP-4 the refusal is counted: $(metric primary ward_sip_user_agent_refused_total)"
at primary sip set user_agent_block= >/dev/null
expect_output "^SIP/2.0 200 OK" "SIP-4 with the block list cleared the same client is answered" \
  sip_client options 127.0.0.1 "${primary_sip##*:}"

# ---- SIP-5 a remote worker's extension registers from its pinned address only ------------------
# A remote worker's phone password has at least 9 digits (SPEC POL-5).
expect_code 0 "SIP-5 extension 204 is pinned to a remote worker's address" \
  at primary extension set 204 --remote-worker-address 192.0.2.44 --phone-password-stdin \
  <<<"720446193"
expect_output "^SIP/2.0 403" "SIP-5 204 registering from another address is refused" \
  sip_client register 127.0.0.1 "${primary_sip##*:}" 204 720446193 ward sha256
at primary extension set 204 --remote-worker-address "" >/dev/null
expect_output "^SIP/2.0 200 OK" "SIP-5 unpinned, 204 registers from here" \
  sip_client register 127.0.0.1 "${primary_sip##*:}" 204 720446193 ward sha256

# ---- SIP-3 auto-create -------------------------------------------------------------------------
expect_output "^SIP/2.0 403" "SIP-3 with auto-create off an unknown extension does not register" \
  sip_client register 127.0.0.1 "${primary_sip##*:}" 7001 11112222 ward sha256
expect_code 0 "SIP-3 wardctl sip set auto_create=on" at primary sip set auto_create=on
expect_output "^auto_create_lapses_at: [0-9]" "SIP-3 sip show says when auto-create lapses" \
  at primary sip show
expect_output "^SIP/2.0 200 OK" "SIP-3 with auto-create on an unknown extension registers" \
  sip_client register 127.0.0.1 "${primary_sip##*:}" 7001 11112222 ward sha256
auto_created() { at primary extension list | grep -q "^7001 "; }
wait_for 5 auto_created && pass "SIP-3 the extension was created in the directory" ||
  fail "SIP-3 the extension was created in the directory: $(at primary extension list 2>&1)"
expect_output "AutoCreateExtension" "SIP-3 MON-1 the creation is audited" \
  at primary audit list --limit 20
at primary sip set auto_create=off >/dev/null
expect_output "^SIP/2.0 403" "SIP-3 auto-create off again: another unknown extension is refused" \
  sip_client register 127.0.0.1 "${primary_sip##*:}" 7002 11112222 ward sha256

# ---- SIP-6 a call across two nodes over the line ----------------------------------------------
# The primary learns where 203 is from exp1's location table, sent over the line.
sleep 1
call remote call_uas.xml 127.0.0.33 "$remote_port" call_uac.xml 203
expect_answered remote "SIP-6 201 on the primary calls 203 on exp1 over the line: answered and hung up"
tr -d '\r' <"$work/remote-callee.msg" | grep -q '^m=audio 47[0-9][0-9][0-9] ' &&
  pass "MED-3 each node anchors its own leg: the callee is offered exp1's relay" ||
  fail "MED-3 the callee is offered exp1's relay: $(tr -d '\r' <"$work/remote-callee.msg" | grep '^m=' | head -2)"
remote_recorded() {
  grep -q 'event=call_ended .*caller=201 callee=203 caller_leg=line:primary .*end=completed' \
    "$WARD_TEST_DIR/exp1/node.log"
}
wait_for 5 remote_recorded &&
  pass "SIP-6 exp1 records the call that came over the line from the primary" ||
  fail "SIP-6 exp1 records the call from the line: $(grep call_ended "$WARD_TEST_DIR/exp1/node.log" | tail -2)"

# ---- TF-2 MED-2 an emergency call over the line keeps its exception on the far node ----------
# 203 under Enforce on exp1 is a sipp phone on UDP: exp1 cannot meet Enforce on its leg, so an
# ordinary call gets 488 there, while the primary's emergency call to it must connect.
at primary media set extension 203 enforce >/dev/null
enforced_on_exp1() { at exp1 media show | grep -q "^extension 203: enforce"; }
wait_for 10 enforced_on_exp1 || fail "MED-2 203's override reaches exp1: $(at exp1 media show 2>&1)"
call remote_enforce "" "" "" call_refused_uac.xml 203
expect_refused remote_enforce 488 "MED-2 an ordinary call to 203 under Enforce on UDP is refused by exp1 with 488"
at primary sip set emergency_extension=203 >/dev/null
call remote_emergency call_uas.xml 127.0.0.33 "$remote_port" call_uac.xml 112
expect_answered remote_emergency "TF-2 MED-2 an emergency call to 203 on exp1 connects over the line despite Enforce"
grep -q 'event=emergency_call caller=201 dialled=203 route=203' "$WARD_TEST_DIR/exp1/node.log" &&
  pass "TF-2 exp1 takes the call as an emergency call from the line's Priority header" ||
  fail "TF-2 exp1 takes the call as an emergency call: $(grep emergency_call "$WARD_TEST_DIR/exp1/node.log" | tail -2)"
at primary sip set emergency_extension= >/dev/null
at primary media set extension 203 system >/dev/null

finish
