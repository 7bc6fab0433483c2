#!/usr/bin/env bash
# A call between two real SIP phones over TLS (SPEC SIP-1, SIP-2, SIP-6, MED-3): two baresip
# instances on loopback register extensions 301 and 302 with a primary over TLS, 301 calls
# 302, 302 answers by itself, each sends a tone of its own for ~3 s through the node's media
# relay, 301 hangs up. The harness is tests/e2e/baresip/lib.sh.
#   tests/e2e/baresip_call_test.sh WARD_NODE WARDCTL
# Skips (77) without baresip (apt-get install baresip).
#
# Then the same phones with SRTP required (srtp-mand): each leg keyed apart by the node, a
# capture on loopback (root) finding none of the tones in clear where the plain call showed
# them, the tones decrypted at each end (MED-1, MED-3); the same SRTP phones with direct media
# switched on, their media going from phone to phone with nothing relayed by the node (MED-3);
# and an SRTP phone calling an RTP sipp phone that echoes, so the node converts both ways.
#
# BARESIP_AUTH=none runs the call without digest (extensions without a phone password and
# Force Authorization off), to look at the rest of the call when authentication is the
# problem.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
source "$here/baresip/lib.sh"
if ! baresip_available; then
  echo "SKIP: baresip is not installed (apt-get install baresip)"
  exit 77
fi
ward_test_init "$@"

# baresip 1.0.0 computes MD5 only (tests/e2e/baresip/lib.sh), so MD5 is challenged first; the
# node's RTP range is a free block of its own, apart from the phones'.
write_node_config primary primary
sed -i "s/^sip:$/sip:\n  digest_preferred: md5-only/" "$WARD_TEST_DIR/primary/node.yaml"
relay_ports=$(baresip_udp_range 400)
printf 'media:\n  rtp_ports: %s\n' "$relay_ports" >>"$WARD_TEST_DIR/primary/node.yaml"
# audio_port PHONE START_LINE_REGEX: the audio port of the SDP in the message PHONE logged
# that starts so (sent or received); the last one when there are several.
audio_port() {
  baresip_sdp "$1" "$2" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p' | tail -1
}
# relay_port START_LINE_REGEX PHONE: the audio port of the SDP PHONE received in the message
# starting so is one of the node's relay ports.
relay_port() {
  local port
  port=$(audio_port "$2" "$1")
  [ -n "$port" ] && [ "$port" -ge "${relay_ports%-*}" ] && [ "$port" -le "${relay_ports#*-}" ]
}
# srtp_call CALLER CALLEE: CALLER dials 302 and both phones report the call established.
srtp_call() {
  baresip_dial "$1" 302 >/dev/null
  wait_for 10 baresip_event "$2" CALL_ESTABLISHED incoming &&
    wait_for 5 baresip_event "$1" CALL_ESTABLISHED outgoing
}
# hung_up CALLER CALLEE: CALLER hangs up and both phones see the call closed.
hung_up() {
  baresip_hangup "$1" >/dev/null
  wait_for 10 closed_by "$1" "Connection reset by user" &&
    wait_for 10 closed_by "$2" "Connection reset by peer"
}
# srtp_phones PREFIX SPEC: baresip phones PREFIX301 (440 Hz) and PREFIX302 (660 Hz) with
# srtp-mand, both registered over TLS; a failure names SPEC.
srtp_phones() {
  baresip_start "${1}301" 301 "${password[301]}" primary 440 srtp-mand ||
    fail "baresip for 301 with srtp-mand starts: $(tail -5 "$(baresip_dir "${1}301")/baresip.log")"
  baresip_start "${1}302" 302 "${password[302]}" primary 660 srtp-mand ||
    fail "baresip for 302 with srtp-mand starts: $(tail -5 "$(baresip_dir "${1}302")/baresip.log")"
  wait_for 10 baresip_registered "${1}301" && wait_for 10 baresip_registered "${1}302" ||
    fail "$2 both SRTP phones register over TLS: $(baresip_why "${1}301"); $(baresip_why "${1}302")"
}
start_node primary || exit 1
ignite_admin primary

baresip_check_node_tls primary &&
  pass "SIP-1 the node's SIP TLS port presents an identity chaining to its CA, for 127.0.0.1" ||
  fail "SIP-1 the node's SIP TLS identity chains to its CA: $(openssl s_client -connect "$(endpoint primary sip_tls)" -CAfile "$(trust_anchor primary)" -verify_ip 127.0.0.1 </dev/null 2>&1 | grep -i verify | head -3)"

# SPEC SIP-5, MED-3: the cluster's RTP port range bounds the relay's ports inside the node's
# own; here it is the node's block.
expect_code 0 "SIP-5 wardctl sip set rtp_port_min/max to the node's relay block" \
  at primary sip set "rtp_port_min=${relay_ports%-*}" "rtp_port_max=${relay_ports#*-}"

declare -A password=([301]=73014619 [302]=73024619)
for number in 301 302; do
  if [ "${BARESIP_AUTH:-digest}" = none ]; then
    password[$number]=""
    at primary extension add "$number" >/dev/null 2>&1
    expect_code 0 "SIP-2 extension $number is created without a password, Force Authorization off" \
      at primary extension set "$number" --force-authorization off
  else
    expect_code 0 "SIP-2 extension $number is created with a phone password" \
      at primary extension add "$number" --phone-password-stdin <<<"${password[$number]}"
  fi
done

# ---- SIP-1 SIP-2 both phones register over TLS ----------------------------------------------
baresip_start p301 301 "${password[301]}" primary 440 ||
  fail "baresip for 301 starts and takes ctrl_tcp commands: $(tail -5 "$(baresip_dir p301)/baresip.log")"
baresip_start p302 302 "${password[302]}" primary 660 ||
  fail "baresip for 302 starts and takes ctrl_tcp commands: $(tail -5 "$(baresip_dir p302)/baresip.log")"
registered=0
for phone in p301 p302; do
  if wait_for 10 baresip_registered "$phone"; then
    registered=$((registered + 1))
    pass "SIP-1 SIP-2 baresip registers ${phone#p} over TLS${password[${phone#p}]:+ with its phone password}"
  else
    hint=""
    baresip_sip "$phone" 'Register: Function not implemented' >/dev/null &&
      hint=" (baresip 1.0.0 gives up on a challenge set that includes SHA-256: the node must offer MD5 alone)"
    fail "SIP-1 SIP-2 baresip registers ${phone#p} over TLS$hint: $(baresip_why "$phone")"
  fi
done
both_on_tls() {
  local list
  list=$(at primary registrations) || return 1
  grep -Eq '^301 +tls ' <<<"$list" && grep -Eq '^302 +tls ' <<<"$list"
}
wait_for 5 both_on_tls &&
  pass "SIP-1 wardctl registrations shows 301 and 302 registered over TLS" ||
  fail "SIP-1 wardctl registrations shows 301 and 302 over TLS: $(at primary registrations 2>&1)"
# Nothing below can work without both registrations.
if [ "$registered" != 2 ]; then
  finish
  exit
fi

# ---- SIP-6 MED-3 301 calls 302, 302 answers by itself -----------------------------------------
relayed_before=$(metric primary ward_media_packets_relayed_total)
baresip_dial p301 302 >/dev/null ||
  fail "SIP-6 baresip 301 takes the dial command: $(baresip_why p301)"
if wait_for 10 baresip_event p302 CALL_ESTABLISHED incoming &&
  wait_for 5 baresip_event p301 CALL_ESTABLISHED outgoing; then
  pass "SIP-6 301 calls 302 over TLS through the B2BUA${password[301]:+ (407 answered with its digest)}: 302 answers, both established"
else
  hint=""
  [ "$(baresip_close_reason p301)" = "Function not implemented" ] &&
    baresip_sip p301 '^Contact: <sips:' >/dev/null &&
    hint=" (baresip 1.0.0 sends in-dialog requests to sip: targets only; the node's 200 OK has a sips: Contact, so there is no ACK)"
  fail "SIP-6 301 calls 302 and both are established$hint (caller: $(baresip_why p301); callee: $(baresip_why p302))"
fi
call_listed() { at primary calls | grep -Eq '^[0-9]+ +301 +302 +answered +tls +tls +rtp +rtp '; }
wait_for 5 call_listed &&
  pass "SIP-6 MED-4 wardctl calls lists the call: answered, caller leg TLS, callee leg TLS, RTP on both legs through the relay" ||
  fail "SIP-6 MED-4 wardctl calls lists the call with two TLS legs: $(at primary calls 2>&1)"
relay_port '^SIP/2.0 200' p301 &&
  pass "MED-3 the answer to 301 names the node's relay port, not 302's" ||
  fail "MED-3 the answer to 301 names the node's relay ($relay_ports): $(baresip_sdp p301 '^SIP/2.0 200' | grep '^[cm]=' | tr '\n' ';')"
relay_port '^INVITE' p302 &&
  pass "MED-3 the offer to 302 names the node's relay port, not 301's" ||
  fail "MED-3 the offer to 302 names the node's relay ($relay_ports): $(baresip_sdp p302 '^INVITE' | grep '^[cm]=' | tr '\n' ';')"

# capture_start NAME PHONE_A PHONE_B [PORTS]: captures 2 s of the call's media on PORTS
# (comma-separated), by default the relay ports `wardctl calls` lists, in the background
# (tests/e2e/baresip/capture.py; needs root).
capture_start() {
  local ports=${4:-}
  [ -n "$ports" ] ||
    ports=$(at primary calls | awk 'NR > 2 && $1 ~ /^[0-9]+$/ { print $NF; exit }' | tr '/' ',')
  python3 "$here/baresip/capture.py" 2 "$ports" "$(baresip_dir "$2")/tone.wav" \
    "$(baresip_dir "$3")/tone.wav" >"$WARD_TEST_DIR/capture-$1.out" 2>&1 &
  WARD_TEST_PIDS+=("$!")
  CAPTURE_PID=$!
}
capture_result() {
  wait "$CAPTURE_PID"
  CAPTURE_CODE=$?
  CAPTURE=$(cat "$WARD_TEST_DIR/capture-$1.out")
}
# capture_verdict NAME clear|none TEXT: waits for capture NAME, then checks it saw the call
# (50 packets or more) with the tones in clear in at least 10 of them, or in none; a note
# instead when not root.
capture_verdict() {
  local wanted='$4 == 0'
  [ "$2" = clear ] && wanted='$4 >= 10'
  capture_result "$1"
  if [ "$CAPTURE_CODE" = 77 ]; then
    echo "note: not root, the media of the $1 call on loopback is not captured"
  elif awk "{ exit !(\$2 >= 50 && $wanted) }" <<<"$CAPTURE"; then
    pass "$3 ($CAPTURE)"
  else
    fail "$3: $CAPTURE"
  fi
}
capture_start rtp p301 p302

# The call stays up ~3 s; neither phone closes it meanwhile.
sleep 3
capture_verdict rtp clear \
  "MED-3 a capture on loopback sees the plain RTP call's tones in clear, so the checks below can tell"
up=0
if baresip_event p301 CALL_ESTABLISHED && baresip_event p302 CALL_ESTABLISHED &&
  ! baresip_event p301 CALL_CLOSED && ! baresip_event p302 CALL_CLOSED; then
  up=1
  pass "SIP-6 the call stays up for 3 s on both phones"
else
  fail "SIP-6 the call stays up for 3 s (301 closed: $(baresip_close_reason p301); 302 closed: $(baresip_close_reason p302))"
fi

# ---- SIP-6 301 hangs up; both phones see the call closed --------------------------------------
# baresip closes a call it hung up with "Connection reset by user" and one the far end hung up
# (a BYE) with "Connection reset by peer".
baresip_hangup p301 >/dev/null
closed_by() { baresip_event "$1" CALL_CLOSED && [ "$(baresip_close_reason "$1")" = "$2" ]; }
if [ "$up" = 1 ] && wait_for 10 closed_by p301 "Connection reset by user" &&
  wait_for 10 closed_by p302 "Connection reset by peer"; then
  pass "SIP-6 301 hangs up: its BYE reaches 302 through the node and both phones close the call"
else
  fail "SIP-6 301 hangs up and 302 gets the BYE (301 closed: $(baresip_close_reason p301); 302 closed: $(baresip_close_reason p302); $(baresip_why p302))"
fi
ended() { grep -q 'event=call_ended .*caller=301 callee=302 .*end=completed' "$WARD_TEST_DIR/primary/node.log"; }
wait_for 5 ended &&
  pass "SIP-6 the node records the call as completed" ||
  fail "SIP-6 the node records the call as completed: $(grep call_ended "$WARD_TEST_DIR/primary/node.log" | tail -2)"

# ---- MED-3 each phone's tone arrived at the other through the relay ---------------------------
# received_tone PHONE HZ: PHONE decoded at least 2 s of a tone of HZ (±5 %).
received_tone() {
  local stats
  stats=$(baresip_received "$1") || return 1
  awk -v want="$2" '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
    END { exit !(v["active"] >= 2 && v["hz"] >= want * 0.95 && v["hz"] <= want * 1.05) }' <<<"$stats"
}
# The dumps are complete once baresip closed the call.
wait_for 5 received_tone p302 440 &&
  pass "MED-3 302 received 301's 440 Hz tone through the relay ($(baresip_received p302); RTP $(baresip_rtp_stats p302))" ||
  fail "MED-3 302 received 301's 440 Hz tone: $(baresip_received p302 || echo 'no dump'); RTP $(baresip_rtp_stats p302)"
wait_for 5 received_tone p301 660 &&
  pass "MED-3 301 received 302's 660 Hz tone through the relay ($(baresip_received p301); RTP $(baresip_rtp_stats p301))" ||
  fail "MED-3 301 received 302's 660 Hz tone: $(baresip_received p301 || echo 'no dump'); RTP $(baresip_rtp_stats p301)"
relayed_after=$(metric primary ward_media_packets_relayed_total)
[ "${relayed_after:-0}" -ge "$(( ${relayed_before:-0} + 200 ))" ] &&
  pass "MED-3 MON-4 the node counts at least 200 relayed packets (${relayed_before:-0} -> $relayed_after)" ||
  fail "MED-3 MON-4 the node counts at least 200 relayed packets: ${relayed_before:-?} -> ${relayed_after:-?}, dropped $(metric primary ward_media_packets_dropped_total), wrong source $(metric primary ward_media_packets_wrong_source_total)"
released() { [ "$(metric primary ward_media_relay_sessions)" = 0 ]; }
wait_for 5 released &&
  pass "MED-4 the relay session is released when the call ends" ||
  fail "MED-4 the relay session is released: $(metric primary ward_media_relay_sessions) left; $(at primary calls 2>&1 | tail -2)"

for phone in p301 p302; do
  baresip_stop "$phone" || fail "baresip ${phone#p} quits when told"
done

# ---- MED-1 MED-2 MED-3 SRTP on both legs, keyed apart by the node -----------------------------
# Both phones insist on SRTP (srtp-mand: RTP/SAVP only). 302 is set to Enforce, so the node
# offers it RTP/SAVP (Best Effort would offer RTP/AVP with a=crypto, which srtp-mand refuses).
expect_code 0 "MED-2 wardctl media set extension 302 enforce" at primary media set extension 302 enforce
srtp_phones s MED-1
srtp_metric() { metric primary "ward_media_srtp_packets_total{op=\"$1\"}"; }
protected_before=$(srtp_metric protected)
unprotected_before=$(srtp_metric unprotected)
if srtp_call s301 s302; then
  pass "MED-1 301 calls 302 with SRTP on both legs: established"
else
  fail "MED-1 301 calls 302 with SRTP on both legs (caller: $(baresip_why s301); callee: $(baresip_why s302))"
fi
secure_listed() {
  at primary calls | grep -Eq '^[0-9]+ +301 +302 +answered +tls +tls +srtp:AES_CM_128_HMAC_SHA1_(80|32) +srtp:AES_CM_128_HMAC_SHA1_(80|32) '
}
wait_for 5 secure_listed &&
  pass "MED-4 MON-5 wardctl calls shows both legs secure, with their suites" ||
  fail "MED-4 MON-5 wardctl calls shows both legs secure: $(at primary calls 2>&1)"
# Each leg has its own keys: the node's key towards 302 is not 301's key.
key_301=$(baresip_sdp s301 '^INVITE' | sed -n 's/^a=crypto:[0-9]* [A-Z0-9_]* inline:\([^|]*\).*/\1/p' | head -1)
key_302=$(baresip_sdp s302 '^INVITE' | sed -n 's/^a=crypto:[0-9]* [A-Z0-9_]* inline:\([^|]*\).*/\1/p' | head -1)
[ -n "$key_301" ] && [ -n "$key_302" ] && [ "$key_301" != "$key_302" ] &&
  baresip_sdp s302 '^INVITE' | grep -q '^m=audio [0-9]* RTP/SAVP ' &&
  pass "MED-1 MED-3 302 is offered RTP/SAVP with a key of the node's own, not 301's" ||
  fail "MED-1 MED-3 302 is offered the node's own key (301 sent ${key_301:-none}, 302 got ${key_302:-none}): $(baresip_sdp s302 '^INVITE' | grep '^[ma]=' | tr '\n' ';')"
capture_start srtp s301 s302
sleep 3
capture_verdict srtp none "MED-1 a capture of the relay ports finds none of the tones in clear"
hung_up s301 s302 ||
  fail "SIP-6 the SRTP call is hung up on both phones (301: $(baresip_close_reason s301); 302: $(baresip_close_reason s302))"
wait_for 5 received_tone s302 440 &&
  pass "MED-3 302 decrypted 301's 440 Hz tone: SRTP in, re-keyed, SRTP out ($(baresip_received s302))" ||
  fail "MED-3 302 received 301's 440 Hz tone over SRTP: $(baresip_received s302 || echo 'no dump'); RTP $(baresip_rtp_stats s302)"
wait_for 5 received_tone s301 660 &&
  pass "MED-3 301 decrypted 302's 660 Hz tone ($(baresip_received s301))" ||
  fail "MED-3 301 received 302's 660 Hz tone over SRTP: $(baresip_received s301 || echo 'no dump'); RTP $(baresip_rtp_stats s301)"
protected_after=$(srtp_metric protected)
unprotected_after=$(srtp_metric unprotected)
[ "${protected_after:-0}" -ge "$(( ${protected_before:-0} + 100 ))" ] &&
  [ "${unprotected_after:-0}" -ge "$(( ${unprotected_before:-0} + 100 ))" ] &&
  pass "MON-4 MED-3 the relay unprotected ${unprotected_after} and protected ${protected_after} SRTP packets" ||
  fail "MON-4 MED-3 SRTP counters: protected ${protected_before:-?} -> ${protected_after:-?}, unprotected ${unprotected_before:-?} -> ${unprotected_after:-?}"
for phone in s301 s302; do
  baresip_stop "$phone" >/dev/null
done

# ---- MED-3 direct SRTP between two phones on the node ------------------------------------------
# Both phones under Enforce, both on TLS, direct media on: the node passes 301's offer (its
# key included, over TLS only) to 302 and 302's answer back, and relays nothing.
at primary media set extension 301 enforce >/dev/null
expect_code 0 "MED-3 wardctl sip set direct_media=on" at primary sip set direct_media=on
srtp_phones d MED-3
protected_before=$(srtp_metric protected)
relayed_before=$(metric primary ward_media_packets_relayed_total)
if srtp_call d301 d302; then
  pass "MED-3 301 calls 302 with direct SRTP: established"
else
  fail "MED-3 301 calls 302 with direct SRTP (caller: $(baresip_why d301); callee: $(baresip_why d302))"
fi
direct_listed() {
  at primary calls | grep -Eq '^[0-9]+ +301 +302 +answered +tls +tls +srtp:AES_CM_128_HMAC_SHA1_(80|32) +srtp:AES_CM_128_HMAC_SHA1_(80|32) +direct'
}
wait_for 5 direct_listed &&
  pass "MED-4 MON-5 wardctl calls shows the call secure on both legs and direct" ||
  fail "MED-4 MON-5 wardctl calls shows the call direct: $(at primary calls 2>&1)"
port_301=$(audio_port d301 '^INVITE')
port_302=$(audio_port d302 '^SIP/2.0 200')
offered_302=$(audio_port d302 '^INVITE')
answered_301=$(audio_port d301 '^SIP/2.0 200')
[ -n "$port_301" ] && [ "$offered_302" = "$port_301" ] && [ -n "$port_302" ] &&
  [ "$answered_301" = "$port_302" ] &&
  pass "MED-3 each phone is given the other's own media port ($port_301, $port_302), not the relay's" ||
  fail "MED-3 direct media ports: 301 offered ${port_301:-?}, 302 was offered ${offered_302:-?}; 302 answered ${port_302:-?}, 301 got ${answered_301:-?}"
if [ -n "$port_301" ] && [ -n "$port_302" ]; then
  capture_start direct d301 d302 "$port_301,$port_302"
  capture_verdict direct none \
    "MED-1 MED-3 a capture between the phones finds direct media and none of the tones in clear"
fi
sleep 1
hung_up d301 d302 ||
  fail "SIP-6 the direct call is hung up on both phones (301: $(baresip_close_reason d301); 302: $(baresip_close_reason d302))"
wait_for 5 received_tone d302 440 && wait_for 5 received_tone d301 660 &&
  pass "MED-3 each phone decrypted the other's tone, sent directly ($(baresip_received d302); $(baresip_received d301))" ||
  fail "MED-3 the direct call's tones: 302 $(baresip_received d302 || echo 'no dump'); 301 $(baresip_received d301 || echo 'no dump')"
[ "$(srtp_metric protected)" = "${protected_before:-0}" ] &&
  [ "$(metric primary ward_media_packets_relayed_total)" = "${relayed_before:-0}" ] &&
  pass "MED-3 MED-4 the node relayed none of the direct call's packets" ||
  fail "MED-3 MED-4 the node relayed the direct call: protected ${protected_before:-?} -> $(srtp_metric protected), relayed ${relayed_before:-?} -> $(metric primary ward_media_packets_relayed_total)"
for phone in d301 d302; do
  baresip_stop "$phone" >/dev/null
done
at primary sip set direct_media=off >/dev/null
at primary media set extension 301 system >/dev/null

# ---- MED-3 an SRTP phone and an RTP phone: the node converts -----------------------------------
# 302 becomes a sipp phone on UDP (plain RTP, echoing what it receives); 301 stays on SRTP.
# 301 hears its own tone back only if the node decrypts 301's SRTP for 302 and encrypts
# 302's echo for 301.
if command -v sipp >/dev/null 2>&1; then
  at primary media set extension 302 system >/dev/null
  scenarios="$here/sip"
  sipp_port=$(free_port)
  sipp_udp=$(endpoint primary sip_udp)
  printf 'SEQUENTIAL\n302;[authentication username=302 password=%s]\n' "${password[302]}" \
    >"$WARD_TEST_DIR/reg302.csv"
  sipp "$sipp_udp" -sf "$scenarios/register_uac.xml" -inf "$WARD_TEST_DIR/reg302.csv" \
    -i 127.0.0.1 -p "$sipp_port" -m 1 -recv_timeout 4000 -timeout 15 -timeout_error -nostdin \
    >"$WARD_TEST_DIR/reg302.out" 2>&1 &
  WARD_TEST_PIDS+=("$!")
  wait "$!" || fail "SIP-2 sipp registers 302 over UDP: $(tail -3 "$WARD_TEST_DIR/reg302.out")"
  sipp "$sipp_udp" -sf "$scenarios/call_uas.xml" -i 127.0.0.1 -p "$sipp_port" -m 1 -rtp_echo \
    -mp "$(baresip_udp_range 10 | cut -d- -f1)" -recv_timeout 15000 -timeout 40 -timeout_error \
    -nostdin >"$WARD_TEST_DIR/uas302.out" 2>&1 &
  uas=$!
  WARD_TEST_PIDS+=("$uas")
  baresip_start m301 301 "${password[301]}" primary 440 srtp-mand ||
    fail "baresip for 301 with srtp-mand starts again"
  wait_for 10 baresip_registered m301 || fail "MED-1 the SRTP phone registers: $(baresip_why m301)"
  baresip_dial m301 302 >/dev/null
  wait_for 10 baresip_event m301 CALL_ESTABLISHED outgoing &&
    pass "MED-3 SRTP 301 calls RTP 302 (sipp on UDP): established" ||
    fail "MED-3 SRTP 301 calls RTP 302: $(baresip_why m301)"
  mixed_listed() {
    at primary calls | grep -Eq '^[0-9]+ +301 +302 +answered +tls +udp +srtp:AES_CM_128_HMAC_SHA1_(80|32) +rtp '
  }
  wait_for 5 mixed_listed &&
    pass "MED-4 wardctl calls shows an SRTP caller leg and an RTP callee leg" ||
    fail "MED-4 wardctl calls shows SRTP and RTP legs: $(at primary calls 2>&1)"
  sleep 3
  baresip_hangup m301 >/dev/null
  wait_for 10 closed_by m301 "Connection reset by user" ||
    fail "SIP-6 the mixed call is hung up: $(baresip_close_reason m301)"
  wait "$uas" || fail "SIP-6 the sipp phone saw INVITE, ACK and BYE: $(tail -5 "$WARD_TEST_DIR/uas302.out")"
  wait_for 5 received_tone m301 440 &&
    pass "MED-3 301 hears its own tone echoed by the RTP phone: SRTP->RTP and RTP->SRTP through the node ($(baresip_received m301))" ||
    fail "MED-3 301 hears its tone echoed through RTP: $(baresip_received m301 || echo 'no dump'); RTP $(baresip_rtp_stats m301)"
  baresip_stop m301 >/dev/null
fi

# ---- MED-1 SRTP options, with a second SIP stack that is strict about SRTCP --------------------
# 302 becomes tests/e2e/sip/srtp_callee.py over TLS: a stack that refuses any a=crypto line
# with UNENCRYPTED_SRTCP, as some softphones do by default. The node offers its configured
# variant (UNENCRYPTED_SRTCP by default) first and encrypted SRTCP as a second line, so the
# call still gets SRTP; with other options set for 302 the first line is taken.
if [ "${BARESIP_AUTH:-digest}" != none ]; then
  at primary media set extension 302 enforce >/dev/null
  sip_tls_at=$(endpoint primary sip_tls)
  # strict_callee NAME MODE: the python phone registers 302 over TLS and answers in MODE.
  strict_callee() {
    python3 "$here/sip/srtp_callee.py" 127.0.0.1 "${sip_tls_at##*:}" "$(trust_anchor primary)" \
      302 "${password[302]}" ward "$2" 30 >"$WARD_TEST_DIR/$1.out" 2>&1 </dev/null &
    callee_pid=$!
    WARD_TEST_PIDS+=("$callee_pid")
    wait_for 10 grep -q registered "$WARD_TEST_DIR/$1.out" ||
      fail "SIP-2 the python phone registers 302 over TLS: $(cat "$WARD_TEST_DIR/$1.out")"
  }
  baresip_start o301 301 "${password[301]}" primary 440 srtp-mand ||
    fail "baresip for 301 with srtp-mand starts for the SRTP options calls"
  wait_for 10 baresip_registered o301 || fail "MED-1 the SRTP phone registers: $(baresip_why o301)"
  # options_call NAME EXPECTED_CHOICE SUITE_PATTERN DESCRIPTION: o301 calls the strict callee.
  options_call() {
    strict_callee "$1" strict
    baresip_dial o301 302 >/dev/null
    wait_for 10 grep -q "^chose $2" "$WARD_TEST_DIR/$1.out" &&
      wait_for 10 baresip_event o301 CALL_ESTABLISHED outgoing &&
      pass "$4 (302 $(grep '^chose' "$WARD_TEST_DIR/$1.out"))" ||
      fail "$4: callee $(tr '\n' ' ' <"$WARD_TEST_DIR/$1.out"); caller $(baresip_why o301)"
    callee_suite=$3
    legs() { at primary calls | grep -Eq "^[0-9]+ +301 +302 +answered +tls +tls +srtp:[A-Z0-9_]+ +srtp:$callee_suite "; }
    wait_for 5 legs && pass "MED-1 MED-4 wardctl calls shows the callee leg on srtp:$3" ||
      fail "MED-1 MED-4 the callee leg is on srtp:$3: $(at primary calls 2>&1)"
    baresip_hangup o301 >/dev/null
    wait "$callee_pid" || fail "SIP-6 the python phone got its BYE: $(cat "$WARD_TEST_DIR/$1.out")"
    wait_for 10 closed_by o301 "Connection reset by user" >/dev/null
  }
  options_call strict80 "2 AES_CM_128_HMAC_SHA1_80" AES_CM_128_HMAC_SHA1_80 \
    "MED-1 a stack refusing UNENCRYPTED_SRTCP takes the node's second a=crypto line: SRTP with encrypted SRTCP"
  expect_output "extension 302 srtp: rtp_encryption=on,rtp_authentication=32,rtcp_encryption=on" \
    "MED-1 wardctl media srtp extension 302 sets 32-bit tags and SRTCP encryption" \
    at primary media srtp extension 302 rtp_authentication=32,rtcp_encryption=on
  expect_output "extension 302 srtp: rtp_encryption=on,rtp_authentication=32" \
    "MED-1 wardctl media show lists the extension's SRTP options" at primary media show
  options_call strict32 "1 AES_CM_128_HMAC_SHA1_32" AES_CM_128_HMAC_SHA1_32 \
    "MED-1 with 302's options the first line offered is HMAC_SHA1_32 with encrypted SRTCP, and it is taken"
  expect_code 1 "MED-1 SRTP options that protect nothing are refused" \
    at primary media srtp extension 302 rtp_encryption=off,rtp_authentication=off
  expect_output "extension 302 srtp: system" "MED-1 the override is removed again" \
    at primary media srtp extension 302 system
  baresip_stop o301 >/dev/null

  # A callee that declines the audio stream: its dialog is ended and the caller told why.
  strict_callee decline decline
  out=$(SIP_SRTP=1 SIP_TRANSPORT=tls SIP_CA="$(trust_anchor primary)" \
    python3 "$here/../integration/sip_client.py" call 127.0.0.1 "${sip_tls_at##*:}" 301 \
    "${password[301]}" ward md5 302 2>&1)
  grep -q "^SIP/2.0 488" <<<"$out" &&
    grep -q "^Warning: 304 .*the callee declined the audio stream (offered SRTP)" <<<"$out" &&
    pass "MED-1 a callee declining the stream: the caller gets 488 with a Warning saying why" ||
    fail "MED-1 a callee declining the stream gets the caller a clear 488: $out"
  wait "$callee_pid" &&
    pass "MED-1 the declining callee's dialog is ended with a BYE" ||
    fail "MED-1 the declining callee's dialog is ended with a BYE: $(cat "$WARD_TEST_DIR/decline.out")"
  at primary media set extension 302 system >/dev/null
fi
finish
