#!/usr/bin/env bash
# README "From the first command to a call", run as written: the environment the start
# block gives the cluster, every command of the setup and observe blocks (with W pointing at
# this test's node instead of .ward-local/primary, and the metrics address its own), and a
# call between two baresip phones configured from the README's softphone table: TLS to the
# port the table names, its realm, users and passwords, SRTP mandatory.
#   tests/e2e/readme_walkthrough_test.sh WARD_NODE WARDCTL
# Skips (77) without baresip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
source "$here/baresip/lib.sh"
if ! baresip_available; then
  echo "SKIP: baresip is not installed (apt-get install baresip)"
  exit 77
fi
ward_test_init "$@"
readme="$here/../../README.md"

# block NAME: the lines of the sh block after the README's <!-- walkthrough:NAME --> mark.
block() {
  awk -v mark="<!-- walkthrough:$1 -->" '
    $0 == mark { found = 1; next }
    found && !inside && /^```sh/ { inside = 1; next }
    inside && /^```/ { exit }
    inside { print }' "$readme"
}
# table ROW COLUMN: the cell of the softphone table's row ROW for extension COLUMN (201, 202).
table() {
  awk -F'|' -v row="$1" -v column="$2" '
    $2 ~ /^ *setting *$/ { for (i = 3; i < NF; i++) { c = $i; gsub(/ /, "", c); if (c == column) col = i } }
    col && $2 ~ "^ *" row " *$" { v = $col; gsub(/^ +| +$/, "", v); print v; exit }' "$readme"
}
# run LINE: one README command with this test's W; stdin is the administrator's password
# (the login reads it; the commands with their own here-string ignore it).
run() {
  WARD_SESSION_FILE="$WARD_TEST_DIR/session-walkthrough" bash -c "$1" <<<"Oak-Tree-Plan-47" 2>&1
}

start=$(block start)
[[ "$start" == *./scripts/local-cluster* ]] && pass "README the walkthrough starts the local cluster" \
  || fail "README the walkthrough starts the local cluster: $start"
write_node_config primary primary
# The node keeps its default relay range (40000-49999); the phones' RTP ports lie below it.
# The WARD_ settings the start block puts before the command apply to the node.
for assignment in $(grep -o 'WARD_[A-Z_]*=[^ ]*' <<<"$start"); do export "${assignment?}"; done
start_node primary || exit 1
ignite_admin primary

W="$WARDCTL --endpoints $WARD_TEST_DIR/primary/data/run/endpoints --ca-file $(trust_anchor primary) --server-name primary.ward.test"
export W
steps=0
while IFS= read -r line; do
  [ -z "$line" ] || [[ "$line" == W=* ]] && continue
  steps=$((steps + 1))
  out=$(run "$line") && pass "README step: ${line%%#*}" || fail "README step: $line: $out"
done < <(block setup)
[ "$steps" -ge 4 ] && pass "README the setup block has its $steps steps" \
  || fail "README the setup block has at least 4 steps: $steps"

# The table's values against what the local cluster serves and what the steps created.
tls_port=$(sed -n '/^sip:/,/^[a-z]/s/^  tls_port: *//p' "$here/../../deploy/local/primary.yaml")
[ "$(table "transport, port" 201)" = "TLS, $tls_port" ] && [ "$(table realm 201)" = ward ] \
  && pass "README the softphone table names the local primary's TLS port ($tls_port) and realm" \
  || fail "README the softphone table names TLS, $tls_port and realm ward: $(table "transport, port" 201), $(table realm 201)"
realm_default=$("$WARD_NODE" --print-settings | awk '/^sip\.realm$/ { getline; print $2 }')
[ "$(table realm 202)" = "$realm_default" ] \
  && pass "README the realm in the table is the default sip.realm ($realm_default)" \
  || fail "README the realm in the table is the default sip.realm: $(table realm 202) vs $realm_default"
mediaenc=""
[ "$(table "media encryption" 201)" = "SRTP (SDES), mandatory" ] && mediaenc=srtp-mand
for extension in 201 202; do
  password=$(table password "$extension")
  hz=$([ "$extension" = 201 ] && echo 440 || echo 660)
  baresip_start "w$extension" "$extension" "$password" primary "$hz" "$mediaenc" ||
    fail "README softphone $extension starts: $(tail -5 "$(baresip_dir "w$extension")/baresip.log")"
done
wait_for 10 baresip_registered w201 && wait_for 10 baresip_registered w202 \
  && pass "README both softphones register with the table's settings (TLS, MD5 digest, SRTP mandatory)" \
  || fail "README both softphones register: $(baresip_why w201); $(baresip_why w202)"

baresip_dial w201 202 >/dev/null
wait_for 10 baresip_event w202 CALL_ESTABLISHED incoming && wait_for 5 baresip_event w201 CALL_ESTABLISHED outgoing \
  && pass "README 201 calls 202 and 202 answers" \
  || fail "README 201 calls 202 and 202 answers: $(baresip_why w201); $(baresip_why w202)"

metrics=$(endpoint primary metrics)
observed=0
while IFS= read -r line; do
  [ -z "$line" ] && continue
  observed=$((observed + 1))
  # The node publishes its calls a few times a second: the step is run again, for up to
  # 5 s, until it shows what it should (or the last output is judged).
  command=${line//127.0.0.1:9744/$metrics}
  shows_call() {
    out=$(run "$command")
    grep -Eq '^[0-9]+ +201 +202 +answered +tls +tls +srtp[:A-Z0-9_]* +srtp' <<<"$out" ||
      { grep -q '^ward_calls_active{media="relayed"} 1' <<<"$out" &&
        grep -q '^ward_call_legs_active{media="srtp",path="relayed"} 2' <<<"$out"; }
  }
  for _ in $(seq 1 25); do shows_call && break; sleep 0.2; done
  case "$line" in
    *" calls"*)
      grep -Eq '^[0-9]+ +201 +202 +answered +tls +tls +srtp[:A-Z0-9_]* +srtp' <<<"$out" \
        && pass "README '\$W calls' shows the call answered, both legs TLS and SRTP" \
        || fail "README '\$W calls' shows the call with both legs TLS and SRTP: $out" ;;
    curl*)
      grep -q '^ward_calls_active{media="relayed"} 1' <<<"$out" \
        && grep -q '^ward_call_legs_active{media="srtp",path="relayed"} 2' <<<"$out" \
        && pass "README /metrics shows the call and its two SRTP legs through the relay" \
        || fail "README /metrics shows the call and its two SRTP legs through the relay: $out" ;;
    *) fail "README an observe step this test does not know how to check: $line" ;;
  esac
done < <(block observe)
[ "$observed" = 2 ] && pass "README the observe block's two steps ran" \
  || fail "README the observe block has the two steps this test checks: $observed"
baresip_hangup w201 >/dev/null
finish
