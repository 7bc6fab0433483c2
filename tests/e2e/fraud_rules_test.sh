#!/usr/bin/env bash
# Fraud thresholds (SPEC TF-10) with sipp phones on an expansion and a sipp carrier behind a
# UDP trunk, all on loopback: a rule set with wardctl on the primary (bad rules refused by
# field) is replicated; a burst of alice's calls on the expansion is counted by the primary,
# which raises the warning and critical alarms, counts them on /metrics and bars alice on
# every node within a second; emergency calls still go out. With the primary stopped, the
# expansion's own counters hold alice there (a local cap) and, once the primary is back,
# the primary bars her in the dial plan for the whole cluster.
#   tests/e2e/fraud_rules_test.sh WARD_NODE WARDCTL
# Skips (77) without sipp.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
source "$here/sipp_lib.sh"
sipp_test_init "$@"

start_primary_and_expansion 48000-48499 48500-48999

for number in 201 202; do
  at primary extension add "$number" --phone-password-stdin <<<"7${number}4619" >/dev/null ||
    fail "SIP-2 extension $number is created"
done
at primary user add alice --extension 201 >/dev/null || fail "SEC-2 user alice is created"
at primary user add bob --extension 202 >/dev/null || fail "SEC-2 user bob is created"
carrier_port=$(free_udp_port)
carrier=127.0.0.60
at primary trunk set carrier --address "$carrier" --port "$carrier_port" --transport udp \
  --channels 20 >/dev/null || fail "TF-9 the carrier trunk is configured"
at primary ars set 50 Main --trunk carrier >/dev/null || fail "TF-2 50:Main uses the carrier"
at primary short-code set ars:50 'N;' dial N >/dev/null || fail "TF-2 50:Main dials every number"
at primary short-code set system 9N dial N --route 50:Main >/dev/null || fail "TF-1 9N is set"

# ---- the rule through wardctl; bad ones refused by field ---------------------------------------
expect_code 1 "TF-10 a rule for a user that does not exist is refused" \
  at primary fraud-rule set burst user:mallory calls_per_minute --critical 4
grep -q "subject: no user mallory" <<<"$OUT" && pass "TF-10 the refusal names the subject" ||
  fail "TF-10 the refusal names the subject: $OUT"
expect_code 1 "TF-10 a warning level at or above the critical level is refused" \
  at primary fraud-rule set burst user:alice calls_per_minute --warning 4 --critical 4
grep -q "warning" <<<"$OUT" && pass "TF-10 the refusal names the warning level" ||
  fail "TF-10 the refusal names the warning level: $OUT"
expect_code 1 "TF-10 a prefix with letters is refused" \
  at primary fraud-rule set burst user:alice calls_per_minute --prefix 1a --critical 4
expect_code 0 "TF-10 alice's calls to 1... are limited: warning at 2 a minute, critical at 4 bars her" \
  at primary fraud-rule set burst user:alice calls_per_minute --prefix 1 --warning 2 \
  --critical 4 --critical-action bar_user
expect_code 0 "TF-10 a trunk rule is loaded beside it" \
  at primary fraud-rule set trunk-cap trunk:carrier concurrent_calls --critical 15 \
  --critical-action disable_trunk
replicated() { at exp1 fraud-rule list | grep -q '^burst .*user:alice .*calls_per_minute .*4 bar_user'; }
wait_for 10 replicated && pass "LINE-2 the fraud rules reach the expansion" ||
  fail "LINE-2 the fraud rules reach the expansion: $(at exp1 fraud-rule list 2>&1)"
# The fraud actor reads the rules on its next tick (once a second).
rules_loaded() { [ "$(metric exp1 ward_fraud_rules)" = 2 ]; }
wait_for 5 rules_loaded && pass "TF-10 the expansion loaded both rules" ||
  fail "TF-10 the expansion loaded both rules: $(metric exp1 ward_fraud_rules)"

primary_sip=$(endpoint exp1 sip_udp)
alice_barred_on() { at "$1" rights-template list | grep -Eq '^alice +- +on '; }

# burst NAME COUNT: alice places COUNT calls to 912125551234 on exp1, ten a second, each held
# two seconds, the carrier answering them all. BURST_STARTED: when the first left (ms).
burst() {
  sipp_bg "$1-carrier" "$primary_sip" "$carrier" -p "$carrier_port" -sf "$scenarios/call_uas.xml" \
    -m "$2" -rtp_echo -recv_timeout 10000 -timeout 30 -timeout_error
  local carrier_pid=$SIPP_PID
  sleep 0.3
  BURST_STARTED=$(date +%s%3N)
  sipp_bg "$1-caller" "$primary_sip" 127.0.0.31 -sf "$scenarios/call_uac.xml" \
    -inf "$(csv "$1" 201 72014619 912125551234)" -auth_uri "912125551234@$primary_sip" \
    -set hold 2000 -r 10 -m "$2" -recv_timeout 10000 -timeout 30 -timeout_error
  BURST_CALLER=$SIPP_PID
  BURST_CARRIER=$carrier_pid
}
burst_done() {
  sipp_wait "$BURST_CALLER"
  CALLER_CODE=$SIPP_CODE
  sipp_wait "$BURST_CARRIER"
  CALLEE_CODE=$SIPP_CODE
}

# ---- the primary's counters: alarms, metrics, alice barred everywhere within a second ------------
burst burst1 4
barred_at=""
deadline=$((BURST_STARTED + 3000))
while [ "$(date +%s%3N)" -lt "$deadline" ]; do
  if alice_barred_on exp1; then barred_at=$(date +%s%3N); break; fi
  sleep 0.05
done
burst_done
expect_answered burst1 "TF-10 alice's four calls in a second reach the carrier"
# The fourth call leaves 300 ms after the first (ten a second).
if [ -n "$barred_at" ] && [ $((barred_at - BURST_STARTED - 300)) -le 1000 ]; then
  pass "TF-10 alice is barred on the expansion $((barred_at - BURST_STARTED - 300)) ms after her fourth call (within a second)"
else
  fail "TF-10 alice is barred on the expansion within a second of her fourth call: ${barred_at:+$((barred_at - BURST_STARTED - 300)) ms}${barred_at:-not within 2.7 s}"
fi
alice_barred_on primary && pass "TF-10 alice is barred on the primary too" ||
  fail "TF-10 alice is barred on the primary: $(at primary rights-template list)"
alarms=$(at primary alarms list --limit 200)
grep -q 'fraud_warning.*user/alice' <<<"$alarms" && grep -q 'fraud_critical.*user/alice' <<<"$alarms" &&
  pass "TF-10 the warning and the critical level each raised an alarm on the primary" ||
  fail "TF-10 the levels raised alarms: $(grep fraud <<<"$alarms")"
[ "$(grep -c 'fraud_critical' <<<"$alarms")" = 1 ] && pass "TF-10 the critical level alarmed once" ||
  fail "TF-10 the critical level alarmed once: $(grep -c fraud_critical <<<"$alarms")"
audit=$(at primary audit list --limit 200)
grep -q 'fraud-rule/burst.*FraudAction.*dial_plan/user/alice' <<<"$audit" &&
  pass "TF-10 barring alice is audited with the rule as the actor" ||
  fail "TF-10 barring alice is audited: $(grep -i fraud <<<"$audit" | head -5)"
[ "$(metric primary 'ward_fraud_trips_total{level="critical",action="bar_user"}')" = 1 ] &&
  [ "$(metric primary 'ward_fraud_trips_total{level="warning",action="alarm"}')" = 1 ] &&
  pass "TF-10 ward_fraud_trips_total counts each level by action" ||
  fail "TF-10 ward_fraud_trips_total: critical/bar_user $(metric primary 'ward_fraud_trips_total{level="critical",action="bar_user"}'), warning/alarm $(metric primary 'ward_fraud_trips_total{level="warning",action="alarm"}')"

CALLER=201 call after-bar "" "" "" call_refused_uac.xml 912125559876
expect_refused after-bar 403 "TF-10 alice's next outside call on the expansion is refused: 403"
grep -q 'barred: outgoing calls are barred for alice' <(tr -d '\r' <"$work/after-bar-caller.msg") &&
  pass "TF-10 the 403 says her outgoing calls are barred" ||
  fail "TF-10 the 403 says why: $(tr -d '\r' <"$work/after-bar-caller.msg" | grep -m1 Warning)"
sipp_bg emergency-carrier "$primary_sip" "$carrier" -p "$carrier_port" -sf "$scenarios/call_uas.xml" \
  -m 1 -rtp_echo -recv_timeout 10000 -timeout 20 -timeout_error
emergency_carrier=$SIPP_PID
sleep 0.3
CALLER=201 HOLD_MS=500 call emergency "" "" "" call_uac.xml 911
sipp_wait "$emergency_carrier"
CALLEE_CODE=$SIPP_CODE
expect_answered emergency "TF-5 alice's emergency call still goes out through the trunk"

# ---- the line down: the expansion's own cap, then the primary's word -----------------------------
expect_code 0 "TF-10 the administrator lifts alice's bar" \
  at primary dialing alice --outgoing-call-bar off
lifted() { ! alice_barred_on exp1; }
wait_for 10 lifted || fail "LINE-2 the lifted bar reaches the expansion"
sleep 61 # the last burst leaves the minute's window
stop_node primary
burst burst2 4
burst_done
expect_answered burst2 "TF-10 with the primary stopped, alice's four calls still go out"
held() { [ "$(metric exp1 ward_fraud_local_holds)" = 1 ]; }
wait_for 5 held && pass "TF-10 the expansion's own counters hold alice while its line is down" ||
  fail "TF-10 the expansion holds alice: ward_fraud_local_holds $(metric exp1 ward_fraud_local_holds)"
CALLER=201 call held "" "" "" call_refused_uac.xml 912125559876
expect_refused held 403 "TF-10 alice's next outside call is refused on the expansion: 403"
grep -q 'barred: a fraud rule holds alice on this node' <(tr -d '\r' <"$work/held-caller.msg") &&
  pass "TF-10 the 403 names the local hold" ||
  fail "TF-10 the 403 names the local hold: $(tr -d '\r' <"$work/held-caller.msg" | grep -m1 Warning)"
grep -q 'fraud_critical' <(at exp1 alarms list --limit 200) &&
  pass "TF-10 the expansion raised the critical alarm itself" ||
  fail "TF-10 the expansion raised the alarm: $(at exp1 alarms list --limit 20 2>&1 | tail -5)"

start_node primary || exit 1
relogin() { at primary login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1; }
wait_for 20 relogin || fail "SEC-1 the restarted primary takes a login"
barred_by_primary() { alice_barred_on primary && alice_barred_on exp1; }
wait_for 30 barred_by_primary &&
  pass "TF-10 once the line is back the primary bars alice for the whole cluster" ||
  fail "TF-10 the primary bars alice after the line is back: $(at primary rights-template list 2>&1)"
grep -q 'fraud-rule/burst@exp1.*FraudAction.*dial_plan/user/alice' <(at primary audit list --limit 200) &&
  pass "TF-10 the primary audits the action the expansion's counters asked for" ||
  fail "TF-10 the primary audits the expansion's trip: $(at primary audit list --limit 200 | grep -i fraud)"
released() { [ "$(metric exp1 ward_fraud_local_holds)" = 0 ]; }
wait_for 10 released && pass "TF-10 the expansion's local hold ends once the primary has it" ||
  fail "TF-10 the local hold ends: $(metric exp1 ward_fraud_local_holds)"

expect_code 0 "TF-10 a rule is removed" at primary fraud-rule delete trunk-cap
! at primary fraud-rule list | grep -q '^trunk-cap ' && pass "TF-10 the removed rule is gone" ||
  fail "TF-10 the removed rule is gone: $(at primary fraud-rule list)"

finish
