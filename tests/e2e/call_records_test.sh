#!/usr/bin/env bash
# Call records survive a crash and reach the primary once each (SPEC TF-8): sipp phones on
# an expansion call each other in a loop, the expansion is killed with SIGKILL mid-way and
# started again; afterwards the primary holds exactly the records the expansion's own log
# holds (no loss, no duplicate), and every call the expansion reported ended before the
# kill is among them.
#   tests/e2e/call_records_test.sh WARD_NODE WARDCTL
# Skips (77) without sipp.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
source "$here/sipp_lib.sh"
sipp_test_init "$@"

start_primary_and_expansion - 44000-44999
for number in 301 302; do
  at primary extension add "$number" --phone-password-stdin <<<"7${number}4619" >/dev/null ||
    fail "SIP-2 extension $number is created"
done
replicated() { at exp1 extension list | grep -q "^302"; }
wait_for 10 replicated || fail "LINE-2 the extensions reach exp1: $(at exp1 extension list 2>&1)"
exp1_sip=$(endpoint exp1 sip_udp)
primary_sip=$exp1_sip
callee_port=$(free_udp_port)
register reg302 "$exp1_sip" 127.0.0.42 "$callee_port" 302
[ "$SIPP_CODE" = 0 ] || fail "SIP-2 302 registers on exp1 ($(why reg302))"

# ---- calls in a loop, the expansion killed mid-way --------------------------------------------
sipp_bg loop-callee "$exp1_sip" 127.0.0.42 -p "$callee_port" -sf "$scenarios/call_uas.xml" \
  -m 200 -rtp_echo -recv_timeout 8000 -timeout 30
loop_callee=$SIPP_PID
sleep 0.3
printf 'SEQUENTIAL\n301;[authentication username=301 password=73014619];302\n' >"$work/loop.csv"
sipp_bg loop-caller "$exp1_sip" 127.0.0.41 -sf "$scenarios/call_uac.xml" -inf "$work/loop.csv" \
  -auth_uri "302@$exp1_sip" -set hold 200 -r 10 -m 200 -recv_timeout 3000 -timeout 30
loop_caller=$SIPP_PID
ended_before() { [ "$(grep -c 'event=call_ended' "$WARD_TEST_DIR/exp1/node.log")" -ge "$1" ]; }
wait_for 20 ended_before 15 || fail "SIP-6 calls end on exp1 before the kill: $(grep -c call_ended "$WARD_TEST_DIR/exp1/node.log")"
kill -KILL "$NODE_PID_exp1"
wait "$NODE_PID_exp1" 2>/dev/null
reported=$(grep -c 'event=call_ended' "$WARD_TEST_DIR/exp1/node.log")
pass "TF-8 exp1 is killed with SIGKILL after reporting $reported calls ended"
kill -TERM "$loop_caller" "$loop_callee" 2>/dev/null
wait "$loop_caller" "$loop_callee" 2>/dev/null
start_node exp1 || exit 1
# The sessions exp1 issued died with it; a login is referred to the primary once the line is
# back, so it is tried until then.
relogin() {
  WARD_SESSION_FILE="$WARD_TEST_DIR/session-exp1" at exp1 login -u Administrator \
    <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
}
wait_for 30 relogin || fail "SEC-10 a login on the restarted exp1: $(at primary cluster status 2>&1)"

# ---- the records: on exp1 and on the primary, once each ---------------------------------------
local_json=$(at exp1 --json calls history --limit 10000)
count_records() {
  python3 -c 'import json,sys
d = json.loads(sys.stdin.read() or "{}")
rows = [r for r in d.get("records", []) if r.get("node") == "exp1"]
seqs = [int(r.get("sequence", 0)) for r in rows]
print(len(rows), len(set(seqs)), sum(1 for r in rows if r.get("end") == "completed"))'
}
read -r local_count local_unique local_completed < <(count_records <<<"$local_json")
[ "$local_count" -ge "$reported" ] && [ "$local_unique" = "$local_count" ] &&
  pass "TF-8 exp1's own log holds a record of every call it reported ended ($local_count records, $local_completed completed, $reported reported)" ||
  fail "TF-8 exp1's own log holds every reported call: $local_count records ($local_unique unique), $reported reported"
forwarded() {
  read -r primary_count primary_unique primary_completed < <(at primary --json calls history --cluster --limit 10000 | count_records)
  [ "$primary_count" = "$local_count" ]
}
if wait_for 20 forwarded; then
  pass "TF-8 the primary holds exactly exp1's $local_count records after the crash and restart"
else
  fail "TF-8 the primary holds exactly exp1's records: primary $primary_count, exp1 $local_count"
fi
[ "$primary_unique" = "$primary_count" ] && [ "$primary_completed" = "$local_completed" ] &&
  pass "TF-8 no record reached the primary twice ($primary_completed completed calls)" ||
  fail "TF-8 no record reached the primary twice: $primary_unique unique of $primary_count, completed $primary_completed vs $local_completed"

finish
