#!/usr/bin/env bash
# Create New CA reissues the whole cluster (SPEC PKI-4): a primary, a secondary and an
# expansion at line security High; after `pki ca create-new` every node asks over its own
# line to be reissued under the new CA, re-dials with the new identity, and the primary
# stops trusting the replaced CA once the last node is reissued.
set -u
here=$(dirname "$0")
source "$here/lib.sh"
ward_test_init "$@"

line_port=$(free_port)
write_node_config primary primary
pin_line_port primary "$line_port"
start_node primary || exit 1
ignite_admin primary
write_node_config secondary secondary "$line_port"
write_node_config exp1 expansion "$line_port"
write_node_config exp2 expansion "$line_port"
for node in secondary exp1 exp2; do start_node "$node" || exit 1; done

root="$WARD_TEST_DIR/primary/data/certificates/root-ca.pem"
# key_id PEM: the first 8 bytes of the certificate's subject key identifier, as the
# cluster status shows an issuer's key.
key_id() { openssl x509 -noout -ext subjectKeyIdentifier -in "$1" | tail -1 | tr -d ' ' | cut -c1-23; }
# issued_by_key KEY: the primary's cluster status shows each node of NODES (all three) up,
# issued by the CA key KEY.
issued_by_key() {
  local out
  out=$(at primary cluster status) || return 1
  for node in ${NODES:-secondary exp1 exp2}; do
    grep -q "^$node .* up  *high .*\[key $1\]" <<<"$out" || return 1
  done
}
old_key=$(key_id "$root")
cp "$root" "$WARD_TEST_DIR/old-root.pem"
old_fingerprint=$(openssl x509 -noout -fingerprint -sha256 -in "$root" | cut -d= -f2 | cut -c1-23)
wait_for 30 issued_by_key "$old_key" \
  && pass "PKI-5 LINE-1 secondary and expansion enrolled at High under the CA key $old_key" \
  || { fail "PKI-5 nodes enrolled: $(at primary cluster status 2>&1)"; finish; exit 1; }
at primary --on exp1 pki tcs list | grep -q "^$old_fingerprint" \
  && pass "PKI-5 the expansion trusts the cluster CA after enrolment" \
  || fail "PKI-5 the expansion trusts the cluster CA after enrolment: $(at primary --on exp1 pki tcs list 2>&1)"
# exp2 is down while the CA is replaced.
stop_node exp2
sleep 1
before_alarms=$(at primary audit list --kind alarm --limit 1000 2>/dev/null | grep -c "line_down")

# ---- Create New: every node reissued over its line --------------------------------------------
expect_code 0 "PKI-4 the CA is replaced with a new key pair" at primary pki ca create-new --yes
new_key=$(key_id "$root")
[ -n "$new_key" ] && [ "$new_key" != "$old_key" ] \
  && pass "PKI-4 the new CA has a key of its own ($new_key), under the same name" \
  || fail "PKI-4 the new CA has a key of its own: $old_key -> $new_key"
# Watch the lines while the cluster is reissued (exp2 is away): the longest time any line is not up.
longest_ms=0; down_since=(); reissued=0
start=$(date +%s%3N)
while [ $(( $(date +%s%3N) - start )) -lt 40000 ]; do
  out=$(at primary cluster status 2>/dev/null)
  now=$(date +%s%3N)
  all=1
  for i in 0 1; do
    node=$([ $i = 0 ] && echo secondary || echo exp1)
    if grep -q "^$node .* up " <<<"$out"; then
      if [ -n "${down_since[$i]:-}" ]; then
        gap=$(( now - down_since[i] )); [ $gap -gt $longest_ms ] && longest_ms=$gap
        down_since[$i]=""
      fi
    else
      [ -z "${down_since[$i]:-}" ] && down_since[$i]=$now
    fi
    grep -q "^$node .* up  *high .*\[key $new_key\]" <<<"$out" || all=0
  done
  if [ $all = 1 ]; then reissued=1; break; fi
  sleep 0.2
done
[ $reissued = 1 ] \
  && pass "PKI-4 cluster status shows every node up at High with an identity of the new CA ($(( $(date +%s%3N) - start )) ms)" \
  || fail "PKI-4 every node reissued under the new CA: $(at primary cluster status 2>&1)"
[ "$longest_ms" -le 5000 ] \
  && pass "PKI-4 no line was down longer than a reconnect (longest ${longest_ms} ms)" \
  || fail "PKI-4 no line was down longer than a reconnect (longest ${longest_ms} ms)"
after_alarms=$(at primary audit list --kind alarm --limit 1000 2>/dev/null | grep -c "line_down")
[ "$after_alarms" = "$before_alarms" ] && pass "PKI-4 the reissue raised no line-down alarm" \
  || fail "PKI-4 the reissue raised no line-down alarm ($before_alarms -> $after_alarms): $(at primary audit list --kind alarm --limit 1000 2>&1 | grep line_down)"
for node in secondary exp1; do
  openssl verify -CAfile "$root" "$WARD_TEST_DIR/$node/data/certificates/identity.pem" >/dev/null 2>&1 \
    && ! openssl verify -CAfile "$WARD_TEST_DIR/old-root.pem" "$WARD_TEST_DIR/$node/data/certificates/identity.pem" >/dev/null 2>&1 \
    && pass "PKI-4 openssl verifies $node's identity against the new CA, not the old one" \
    || fail "PKI-4 openssl verifies $node's identity against the new CA, not the old one"
  grep -q "reissue_under_new_ca" "$WARD_TEST_DIR/$node/node.log" \
    && pass "PKI-4 $node asked to be reissued under the new CA over its line" \
    || fail "PKI-4 $node asked to be reissued under the new CA over its line"
done
# The replaced CA: out of the expansion's TCS, and no longer trusted by the primary.
at primary --on exp1 pki tcs list | grep -q "^$old_fingerprint" \
  && fail "PKI-4 the expansion no longer trusts the replaced CA" \
  || pass "PKI-4 the expansion no longer trusts the replaced CA"
at primary audit list --limit 200 | grep -q "RetireReplacedCa" \
  && fail "PKI-4 the replaced CA stays trusted on lines while an enrolled node (exp2) is away" \
  || pass "PKI-4 the replaced CA stays trusted on lines while an enrolled node (exp2) is away"

# ---- A node that was away: its identity is revoked and it enrols afresh ------------------------
serial=$(openssl x509 -noout -serial -in "$WARD_TEST_DIR/exp2/data/certificates/identity.pem" | cut -d= -f2)
expect_code 0 "PKI-12 the away node's old identity is revoked" at primary pki revoke "$serial"
expect_output "RetireReplacedCa" "PKI-4 with the last old identity revoked the primary retires the replaced CA" \
  at primary audit list --limit 200
rm -f "$WARD_TEST_DIR/exp2/data/certificates/identity".*
start_node exp2 || exit 1
NODES="exp1 exp2" wait_for 30 issued_by_key "$new_key" \
  && pass "PKI-4 PKI-5 PKI-11 the away node, its identity removed, enrols afresh under the new CA" \
  || fail "PKI-4 the away node enrols afresh under the new CA: $(at primary cluster status 2>&1)"
at primary --on exp2 pki tcs list | grep -q "^$old_fingerprint" \
  && fail "PKI-4 the re-enrolled node no longer trusts the replaced CA" \
  || pass "PKI-4 the re-enrolled node no longer trusts the replaced CA"
# Both nodes still replicate and serve over their new lines.
at primary service-user add reissue1 -g "System Status Group" --setting enabled \
  <<<"Cedar-Moss-Path-71" >/dev/null 2>&1
replicated_to() { at primary --on "$1" service-user list | grep -q reissue1; }
for node in secondary exp1 exp2; do
  wait_for 10 replicated_to "$node" \
    && pass "LINE-3 TOP-2 $node receives a new service user over its reissued line" \
    || fail "LINE-3 TOP-2 $node receives a new service user over its reissued line"
done
finish
