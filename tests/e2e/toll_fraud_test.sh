#!/usr/bin/env bash
# Toll fraud (SPEC TF-1..TF-7, TF-9) with sipp phones and a sipp carrier behind a UDP
# trunk, all on loopback: the dial plan is set with wardctl on the primary (refusing bad
# input by field) and replicated to an expansion; an allowed national call reaches the
# carrier with the trunk's caller ID; premium and international calls are refused with 403
# and counted, with every caller-ID prefix variant; allowing international for one user
# opens it for that user; a phone without a user (NoUser) reaches no outside number but
# emergency calls always go out; a forward is checked against the user's barring when it
# is set and the off-switch and trunk-to-trunk rules when it is used; an authorization code lets a barred caller place one call
# with its owner's rights, a wrong one is refused, and the code is never shown, logged or
# recorded; the carrier's call in rings the extension its incoming
# route names, without a digest challenge.
#   tests/e2e/toll_fraud_test.sh WARD_NODE WARDCTL
# Skips (77) without sipp.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
source "$here/sipp_lib.sh"
sipp_test_init "$@"

start_primary_and_expansion 45000-45999 -

for number in 201 202 203; do
  at primary extension add "$number" --phone-password-stdin <<<"7${number}4619" >/dev/null ||
    fail "SIP-2 extension $number is created"
done
at primary user add alice --extension 201 >/dev/null || fail "SEC-2 user alice is created"
at primary user add carol --extension 203 >/dev/null || fail "SEC-2 user carol is created"
primary_sip=$(endpoint primary sip_udp)
carrier_port=$(free_udp_port)
carrier=127.0.0.60

# ---- TF-9 TF-1 TF-2 the dial plan through wardctl --------------------------------------------
expect_code 0 "TF-9 a UDP trunk to the carrier is configured" \
  at primary trunk set carrier --address "$carrier" --port "$carrier_port" --transport udp \
  --caller-id 2125550100 --channels 4
expect_code 0 "TF-2 50:Main leaves through the carrier trunk" at primary ars set 50 Main --trunk carrier
expect_code 0 "TF-3 50:Main bars 1-900 numbers with a Barred call record" \
  at primary short-code set ars:50 1900N barred SMDR
expect_code 0 "TF-2 50:Main dials everything else" at primary short-code set ars:50 'N;' dial N
expect_code 0 "TF-1 the system short code 9N sends the number to 50:Main" \
  at primary short-code set system 9N dial N --route 50:Main
expect_code 0 "TF-9 calls to 21255501XX from the carrier ring 202" \
  at primary trunk route set 21255501XX 202 --trunk carrier

plan_before=$(at primary dial-plan show)
expect_code 1 "TF-1 a short code with a character outside the syntax is refused" \
  at primary short-code set system 9A dial N
grep -q "code" <<<"$OUT" && grep -q "'A'" <<<"$OUT" &&
  pass "TF-1 the refusal names the field and the character" || fail "TF-1 the refusal names the field: $OUT"
expect_code 1 "TF-2 an ARS table naming a trunk that does not exist is refused" \
  at primary ars set 51 Other --trunk nosuch
grep -q "no trunk nosuch" <<<"$OUT" && pass "TF-2 the refusal names the missing trunk" ||
  fail "TF-2 the refusal names the missing trunk: $OUT"
expect_code 1 "TF-3 an unknown calling class is refused" at primary barring set system galactic barred
grep -q "calling_class" <<<"$OUT" && pass "TF-3 the refusal names calling_class" ||
  fail "TF-3 the refusal names calling_class: $OUT"
expect_code 1 "TF-2 a table's own short code barring an emergency number is refused" \
  at primary short-code set ars:50 911 barred
expect_code 1 "TF-9 a trunk with a host name for an address is refused" \
  at primary trunk set other --address carrier.example
plan_after=$(at primary dial-plan show)
[ -n "$plan_before" ] && [ "$plan_after" = "$plan_before" ] &&
  pass "TF-1 refused changes leave the dial plan as it was" ||
  fail "TF-1 refused changes leave the dial plan as it was: $(diff <(echo "$plan_before") <(echo "$plan_after") | head -10)"

replicated() { at exp1 trunk list | grep -q "^carrier .*$carrier:$carrier_port"; }
wait_for 10 replicated && pass "LINE-2 the dial plan reaches the expansion" ||
  fail "LINE-2 the dial plan reaches the expansion: $(at exp1 trunk list 2>&1)"

# carrier_call NAME CALLER_EXTENSION DIALLED: the carrier sipp answers one call while the
# caller dials; CALLER_CODE and CALLEE_CODE as call() sets them.
carrier_call() {
  sipp_bg "$1-callee" "$primary_sip" "$carrier" -p "$carrier_port" -sf "$scenarios/call_uas.xml" \
    -m 1 -rtp_echo -recv_timeout 10000 -timeout 20 -timeout_error
  local carrier_pid=$SIPP_PID
  sleep 0.3
  CALLER=$2 HOLD_MS=500 call "$1" "" "" "" call_uac.xml "$3"
  sipp_wait "$carrier_pid"
  CALLEE_CODE=$SIPP_CODE
}
# refused NAME CALLER_EXTENSION DIALLED TEXT: the call ends with 403 and never reaches the carrier.
refused() {
  CALLER=$2 call "$1" "" "" "" call_refused_uac.xml "$3"
  expect_refused "$1" 403 "$4"
}

# ---- TF-9 an allowed national call reaches the carrier -----------------------------------------
carrier_call national 201 912125551234
expect_answered national "TF-9 alice's national call goes out through the trunk and is answered by the carrier"
invite_line=$(tr -d '\r' <"$work/national-callee.msg" | grep -m1 '^INVITE ')
grep -q '^INVITE sip:12125551234@' <<<"$invite_line" &&
  pass "TF-1 the carrier is asked for the number without the 9" ||
  fail "TF-1 the carrier is asked for the number without the 9: $invite_line"
tr -d '\r' <"$work/national-callee.msg" | grep -q '^From: .*<sip:2125550100@' &&
  pass "TF-9 the carrier sees the trunk's caller ID" ||
  fail "TF-9 the carrier sees the trunk's caller ID: $(tr -d '\r' <"$work/national-callee.msg" | grep -m1 '^From:')"
ended_on_trunk() { grep -q 'event=call_ended .*caller=201 callee=12125551234 .*trunk=carrier' "$WARD_TEST_DIR/primary/node.log"; }
wait_for 5 ended_on_trunk && pass "TF-9 the node records the call through the trunk" ||
  fail "TF-9 the node records the call through the trunk: $(grep call_ended "$WARD_TEST_DIR/primary/node.log" | tail -1)"

# ---- TF-3 TF-4 barred numbers, whatever prefix ---------------------------------------------------
refused premium 201 919005551234 "TF-3 a 1-900 number is barred by 50:Main's short code: 403"
grep -q 'Warning: 399 ward "barred: 50:Main short code 1900N"' <(tr -d '\r' <"$work/premium-caller.msg") &&
  pass "TF-3 the 403 says why" || fail "TF-3 the 403 says why: $(tr -d '\r' <"$work/premium-caller.msg" | grep -m1 Warning)"
refused international 201 9011442079460000 "TF-3 an international call is barred by the system's calling classes: 403"
for prefix in '*67' '*82' '%2331%23'; do
  refused "prefix-${prefix//[^0-9]/}" 201 "9${prefix}011442079460000" \
    "TF-4 the caller-ID prefix ${prefix//%23/#} does not get round international barring: 403"
done
[ "$(metric primary 'ward_calls_barred_total{reason="short_code"}')" = 1 ] &&
  [ "$(metric primary 'ward_calls_barred_total{reason="calling_class"}')" = 4 ] &&
  pass "TF-3 ward_calls_barred_total counts each refusal by reason" ||
  fail "TF-3 ward_calls_barred_total: short_code $(metric primary 'ward_calls_barred_total{reason="short_code"}'), calling_class $(metric primary 'ward_calls_barred_total{reason="calling_class"}')"

expect_code 0 "TF-3 international is allowed for alice alone" \
  at primary barring set user:alice international allowed
carrier_call allowed 201 9011442079460000
expect_answered allowed "TF-3 alice's international call now reaches the carrier"
refused carol 203 9011442079460000 "TF-3 carol's international call is still barred: 403"

# ---- TF-5 authorization codes ----------------------------------------------------------------------
expect_code 0 "TF-5 the system short code *12N takes an authorization code" \
  at primary short-code set system '*12N' auth_code
expect_code 1 "TF-5 a weak authorization code is refused" at primary auth-code set user:alice <<<"1234"
grep -q "code" <<<"$OUT" && pass "TF-5 the refusal names the code" || fail "TF-5 the refusal names the code: $OUT"
expect_code 0 "TF-5 alice gets an authorization code (read from standard input)" \
  at primary auth-code set user:alice <<<"482913"
at primary auth-code list | grep -q '^user:alice' &&
  pass "TF-5 the owner is listed" ||
  fail "TF-5 the owner is listed, the code never shown: $(at primary auth-code list)"
carrier_call authcode 203 '*12482913%239011442079460000'
expect_answered authcode "TF-5 carol's international call with alice's code reaches the carrier"
refused after-code 203 9011442079460000 "TF-5 the code was for one call: carol's next international call is barred: 403"
refused wrong-code 203 '*12482914%239011442079460000' "TF-5 a wrong authorization code is refused: 403"
grep -q 'Warning: 399 ward "barred: authorization code not accepted"' <(tr -d '\r' <"$work/wrong-code-caller.msg") &&
  pass "TF-5 the 403 says the code was not accepted" ||
  fail "TF-5 the 403 says why: $(tr -d '\r' <"$work/wrong-code-caller.msg" | grep -m1 Warning)"

# ---- TF-6 forwarding: checked when set and when used --------------------------------------------
expect_code 1 "TF-6 a forward to a number the user may not call is refused when it is set" \
  at primary forward carol --unconditional 9011442079460000
grep -q "forward_unconditional" <<<"$OUT" && grep -q "international calls are barred for carol" <<<"$OUT" &&
  pass "TF-6 the refusal names the field and why" || fail "TF-6 the refusal names the field: $OUT"
expect_code 1 "TF-6 an emergency number is no forwarding target" \
  at primary forward carol --unconditional 911
expect_code 0 "TF-6 alice forwards every call to a national number" \
  at primary forward alice --unconditional 912125557777
carrier_call forwarded 202 201
expect_answered forwarded "TF-6 a call to alice's extension goes out to her forward and is answered by the carrier"
tr -d '\r' <"$work/forwarded-callee.msg" | grep -q '^INVITE sip:12125557777@' &&
  pass "TF-6 the carrier is asked for alice's forwarding number" ||
  fail "TF-6 the carrier is asked for the forward: $(tr -d '\r' <"$work/forwarded-callee.msg" | grep -m1 '^INVITE ')"
expect_code 0 "TF-6 the system inhibits off-switch forwarding" \
  at primary dial-plan switches --inhibit-off-switch on
refused inhibited 202 201 "TF-6 the system's inhibit wins over alice's own setting: the forwarded call is refused: 403"
grep -q 'forwarding to outside numbers is inhibited for alice' <(tr -d '\r' <"$work/inhibited-caller.msg") &&
  pass "TF-6 the 403 says forwarding is inhibited" ||
  fail "TF-6 the 403 says why: $(tr -d '\r' <"$work/inhibited-caller.msg" | grep -m1 Warning)"
expect_code 0 "TF-6 the system lifts the inhibit" at primary dial-plan switches --inhibit-off-switch off
expect_code 0 "TF-9 calls to 2125550177 from the carrier ring alice (201)" \
  at primary trunk route set 2125550177 201 --trunk carrier
printf 'SEQUENTIAL\n4155550199;2125550177\n' >"$work/trunk-to-trunk.csv"
sipp_bg trunk-to-trunk "$primary_sip" "$carrier" -p "$carrier_port" -sf "$scenarios/trunk_call_uac.xml" \
  -inf "$work/trunk-to-trunk.csv" -m 1 -recv_timeout 4000 -timeout 10
sipp_wait "$SIPP_PID"
tr -d '\r' <"$work/trunk-to-trunk.msg" | grep -q '^SIP/2.0 403' &&
  grep -q 'event=call_barred caller=4155550199 .*reason=forwarding .*trunk-to-trunk transfer is off' "$WARD_TEST_DIR/primary/node.log" &&
  pass "TF-6 a carrier's call is not forwarded back out through a trunk (trunk-to-trunk off by default): 403" ||
  fail "TF-6 trunk-to-trunk forwarding is refused: $(tr -d '\r' <"$work/trunk-to-trunk.msg" | grep '^SIP/2.0' | head -2)"
expect_code 0 "TF-6 alice's forward is switched off" at primary forward alice --off
at primary trunk route delete 2125550177 --trunk carrier >/dev/null

# ---- TF-7 NoUser and outgoing call bar; TF-5 emergency calls always go out -----------------------
refused nouser 202 95551234 "TF-7 an extension without a user (NoUser) reaches no outside number: 403"
carrier_call emergency 202 911
expect_answered emergency "TF-5 an emergency call from NoUser goes out through Main's trunk"
expect_code 0 "TF-7 carol's outgoing calls are barred" at primary dialing carol --outgoing-call-bar on
refused barred-carol 203 95551234 "TF-7 carol's local call is refused while her outgoing calls are barred: 403"

# ---- TF-9 a carrier that challenges the trunk's calls ----------------------------------------------
expect_code 0 "TF-9 the trunk gets digest credentials towards the carrier" \
  at primary trunk set carrier --address "$carrier" --port "$carrier_port" --transport udp \
  --caller-id 2125550100 --channels 4 --username ward-site-1 --password-stdin <<<"carrier-secret-1"
at primary trunk list | grep -q 'ward-site-1 (password set)' && ! at primary trunk list | grep -q carrier-secret-1 &&
  ! grep -rq carrier-secret-1 "$WARD_TEST_DIR/primary/node.log" "$WARD_TEST_DIR/primary/data/audit/audit.log" &&
  pass "TF-9 the carrier password is never shown, logged or audited" ||
  fail "TF-9 the carrier password is never shown: $(at primary trunk list)"
sipp_bg challenged-callee "$primary_sip" "$carrier" -p "$carrier_port" -sf "$scenarios/carrier_auth_uas.xml" \
  -m 1 -rtp_echo -recv_timeout 10000 -timeout 20 -timeout_error
challenged_carrier=$SIPP_PID
sleep 0.3
CALLER=201 HOLD_MS=500 call challenged "" "" "" call_uac.xml 95551234
sipp_wait "$challenged_carrier"
CALLEE_CODE=$SIPP_CODE
expect_answered challenged "TF-9 the carrier's 401 is answered with the trunk's credentials and the call goes through"

# ---- TF-3 TF-8 call records -----------------------------------------------------------------------
history=$(at primary calls history --limit 1000)
grep -Eq '^[0-9T:-]+Z +[0-9]+s +[0-9]+s +201 +outgoing +12125551234 +912125551234 +trunk:carrier +carrier +completed +primary' <<<"$history" &&
  pass "TF-8 the national call has its record: caller, direction, number sent, dialled, trunk, end" ||
  fail "TF-8 the national call has its record: $history"
grep -Eq '^[0-9T:-]+Z +0s +0s +201 +outgoing +- +919005551234 +Barred +- +short_code ' <<<"$history" &&
  pass "TF-3 the barred 1-900 call has a Barred record (zero duration and ring time)" ||
  fail "TF-3 the barred 1-900 call has a Barred record: $history"
[ "$(grep -c ' Barred ' <<<"$history")" = 12 ] &&
  pass "TF-3 every barred call of this test is recorded (12)" ||
  fail "TF-3 every barred call of this test is recorded: $(grep -c ' Barred ' <<<"$history")"
csv=$(at primary calls history --csv --caller 201)
head -1 <<<"$csv" | grep -q '^start,duration,ring,caller,direction,called,dialled,account_code,party1,party2,trunk,barred,end,node,call_id$' &&
  grep -q ',201,outgoing,12125551234,912125551234,0,extension:201,trunk:carrier,carrier,0,completed,primary,' <<<"$csv" &&
  pass "TF-8 the records export as CSV with the SMDR fields" ||
  fail "TF-8 the records export as CSV: $(head -3 <<<"$csv")"
grep -q ',203,outgoing,011442079460000,\*12\*\*\*\*#9011442079460000,1,extension:203,trunk:carrier,carrier,0,completed,' \
  <(at primary calls history --csv --caller 203) &&
  pass "TF-5 TF-8 the call with a code is recorded with the account code flag, the code masked" ||
  fail "TF-5 the call with a code is recorded: $(at primary calls history --csv --caller 203 | grep '\*12')"
! grep -rEq '482913(#|%23)' "$WARD_TEST_DIR/primary/node.log" "$WARD_TEST_DIR/primary/data/audit" \
  "$WARD_TEST_DIR/exp1/node.log" "$WARD_TEST_DIR/exp1/data/audit" &&
  pass "TF-5 the code appears in no log, audit trail or call record" ||
  fail "TF-5 the code appears nowhere: $(grep -rlE '482913(#|%23)' "$WARD_TEST_DIR"/primary "$WARD_TEST_DIR"/exp1 2>/dev/null)"

# ---- TF-9 the carrier's call in ------------------------------------------------------------------
callee_port=$(free_udp_port)
register reg202 "$primary_sip" 127.0.0.32 "$callee_port" 202
[ "$SIPP_CODE" = 0 ] || fail "SIP-2 202 registers ($(why reg202))"
sipp_bg inbound-callee "$primary_sip" 127.0.0.32 -p "$callee_port" -sf "$scenarios/call_uas.xml" \
  -m 1 -rtp_echo -recv_timeout 10000 -timeout 20 -timeout_error
inbound_callee=$SIPP_PID
sleep 0.3
printf 'SEQUENTIAL\n4155550199;2125550142\n' >"$work/inbound.csv"
sipp_bg inbound-caller "$primary_sip" "$carrier" -p "$carrier_port" -sf "$scenarios/trunk_call_uac.xml" \
  -inf "$work/inbound.csv" -m 1 -recv_timeout 10000 -timeout 20 -timeout_error
sipp_wait "$SIPP_PID"
CALLER_CODE=$SIPP_CODE
sipp_wait "$inbound_callee"
CALLEE_CODE=$SIPP_CODE
expect_answered inbound "TF-9 the carrier's call to 2125550142 rings 202 without a digest challenge"
printf 'SEQUENTIAL\n4155550199;2125550142\n' >"$work/stranger.csv"
sipp_bg stranger "$primary_sip" 127.0.0.61 -p "$carrier_port" -sf "$scenarios/trunk_call_uac.xml" \
  -inf "$work/stranger.csv" -m 1 -recv_timeout 4000 -timeout 10 -timeout_error
sipp_wait "$SIPP_PID"
tr -d '\r' <"$work/stranger.msg" | grep -q '^SIP/2.0 407' &&
  pass "TF-9 the same call from an address that is no trunk is challenged like any phone" ||
  fail "TF-9 a call from an address that is no trunk is challenged: $(tr -d '\r' <"$work/stranger.msg" | grep '^SIP/2.0' | head -2)"

finish
