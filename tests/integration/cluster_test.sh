#!/usr/bin/env bash
# A primary, a secondary and an expansion as real processes on loopback:
# each answers `wardctl status` over TLS with its role; bad configs are refused naming the
# key; SIGTERM stops a node cleanly and its store and identity survive the restart.
set -u
source "$(dirname "$0")/lib.sh"
ward_test_init "$@"

write_node_config primary primary
write_node_config secondary secondary
start_node primary || exit 1
write_node_config expansion expansion "$(endpoint primary line | sed "s/.*://")"
start_node secondary || exit 1
start_node expansion || exit 1

# TOP-1: one binary, three roles, each reported over TLS.
for name in primary secondary expansion; do
  out=$(wardctl_for "$name" status 2>&1)
  if grep -q "^role  *$name$" <<<"$out" && grep -q "^node  *$name$" <<<"$out"; then
    pass "TOP-1 $name answers wardctl status with role $name over TLS"
  else
    fail "TOP-1 $name answers wardctl status with role $name over TLS: $out"
  fi
done

json=$(wardctl_for secondary --json status)
check "MON-5 status --json carries version, uptime and identity" \
  grep -q '"version": "0.1.0"' <<<"$json"
grep -q '"self_signed": true' <<<"$json" && grep -q '"subject": "CN=secondary.ward.test"' <<<"$json" \
  && pass "PKI-5 a secondary's first identity is self-signed with CN = hostname" \
  || fail "PKI-5 a secondary's first identity is self-signed with CN = hostname: $json"
json=$(wardctl_for primary --json status)
grep -q '"self_signed": false' <<<"$json" && grep -q '"issuer": "CN=ward-root-primary.ward.test,O=Ward"' <<<"$json" \
  && pass "PKI-2 the primary's identity is issued by its own CA at first start" \
  || fail "PKI-2 the primary's identity is issued by its own CA at first start: $json"

check "MON-5 gRPC health check reports SERVING" wardctl_for secondary health

key_mode=$(stat -c %a "$WARD_TEST_DIR/secondary/data/certificates/identity.key")
[ "$key_mode" = 600 ] && pass "PKI-11 identity key file is mode 0600" \
  || fail "PKI-11 identity key file is mode 0600 (is $key_mode)"

# The node's certificate is checked: another node's certificate is no trust anchor for it.
"$WARDCTL" --node "$(endpoint primary status)" \
  --ca-file "$WARD_TEST_DIR/secondary/data/certificates/identity.pem" \
  --server-name primary.ward.test status >/dev/null 2>&1
code=$?
[ "$code" = 1 ] && pass "TLS-1 wardctl refuses a node whose certificate it does not trust (exit 1)" \
  || fail "TLS-1 wardctl refuses a node whose certificate it does not trust (exit $code)"

"$WARDCTL" --node "$(endpoint primary status)" status >/dev/null 2>&1
code=$?
[ "$code" = 2 ] && pass "wardctl without --ca-file or --insecure is a usage error (exit 2)" \
  || fail "wardctl without --ca-file or --insecure is a usage error (exit $code)"

warning=$("$WARDCTL" --node "$(endpoint primary status)" --insecure status 2>&1 >/dev/null)
code=$?
{ [ "$code" = 0 ] && grep -q "WARNING: --insecure" <<<"$warning"; } \
  && pass "wardctl --insecure works and says loudly that nothing is verified" \
  || fail "wardctl --insecure works and says loudly that nothing is verified ($code: $warning)"

# TLS-1: TLS 1.2 and 1.3 are served, TLS 1.1 is not.
admin=$(endpoint primary status)
probe() { openssl s_client -connect "$admin" -servername primary.ward.test "$@" </dev/null 2>&1; }
probe -tls1_2 | grep -q "New, TLSv1.2" && pass "TLS-1 admin listener accepts TLS 1.2" \
  || fail "TLS-1 admin listener accepts TLS 1.2"
probe -tls1_3 | grep -q "New, TLSv1.3" && pass "TLS-1 admin listener accepts TLS 1.3" \
  || fail "TLS-1 admin listener accepts TLS 1.3"
out=$(probe -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
grep -q "Cipher is (NONE)" <<<"$out" && ! grep -q "Cipher is [A-Z]" <<<"$out" \
  && pass "TLS-1 admin listener refuses TLS 1.1" || fail "TLS-1 admin listener refuses TLS 1.1: $out"

# MON-4: /metrics with build info, uptime and actor counts.
metrics=$(curl -sf "http://$(endpoint expansion metrics)/metrics")
grep -q 'ward_build_info{.*role="expansion".*} 1' <<<"$metrics" \
  && grep -q '^ward_uptime_seconds ' <<<"$metrics" \
  && grep -q '^ward_running_actors [1-9]' <<<"$metrics" \
  && grep -q '^ward_certificate_days_to_expiry{certificate="identity"} 7[23][0-9]' <<<"$metrics" \
  && pass "MON-4 /metrics has build info and uptime and actor count and identity expiry" \
  || fail "MON-4 /metrics has build info and uptime and actor count and identity expiry: $metrics"

# DEP-3: invalid files are refused naming the key.
bad="$WARD_TEST_DIR/bad.yaml"
printf 'node:\n  name: x\n  role: overlord\n  data_dir: d\n' > "$bad"
out=$("$WARD_NODE" --config "$bad" 2>&1); code=$?
{ [ "$code" = 2 ] && grep -q "config key 'node.role'" <<<"$out"; } \
  && pass "DEP-3 a bad role is refused and node.role is named" \
  || fail "DEP-3 a bad role is refused and node.role is named ($code: $out)"
printf 'node: {name: x, role: primary, data_dir: d}\nlisten: {status_prot: 1}\n' > "$bad"
out=$("$WARD_NODE" --config "$bad" 2>&1); code=$?
{ [ "$code" = 2 ] && grep -q "config key 'listen.status_prot': unknown key" <<<"$out"; } \
  && pass "DEP-3 a misspelt key is refused and named" \
  || fail "DEP-3 a misspelt key is refused and named ($code: $out)"
out=$(WARD_LISTEN_STATUS_PORT=99999 "$WARD_NODE" --config "$WARD_TEST_DIR/primary/node.yaml" 2>&1); code=$?
{ [ "$code" = 2 ] && grep -q "listen.status_port.*WARD_LISTEN_STATUS_PORT" <<<"$out"; } \
  && pass "DEP-3 a bad environment override is refused naming key and variable" \
  || fail "DEP-3 a bad environment override is refused naming key and variable ($code: $out)"

# Clean shutdown on SIGTERM within 5 s; the store and identity survive.
fingerprint_before=$(wardctl_for secondary --json status | sed -n 's/.*"sha256_fingerprint": "\(.*\)".*/\1/p')
stop_node secondary
{ [ "$STOP_CODE" = 0 ] && [ "$STOP_MS" -lt 5000 ]; } \
  && pass "SIGTERM stops the secondary cleanly (exit 0 in ${STOP_MS} ms)" \
  || fail "SIGTERM stops the secondary cleanly (exit $STOP_CODE in ${STOP_MS} ms)"
grep -q "event=stopped" "$WARD_TEST_DIR/secondary/node.log" \
  && pass "the secondary logs its clean stop" || fail "the secondary logs its clean stop"

"$WARDCTL" --node "$(endpoint secondary status)" --insecure --timeout 2 status >/dev/null 2>&1
code=$?
[ "$code" = 1 ] && pass "wardctl against a stopped node is a remote error (exit 1)" \
  || fail "wardctl against a stopped node is a remote error (exit $code)"

start_node secondary || exit 1
after=$(wardctl_for secondary --json status)
grep -q '"start_count": "2"' <<<"$after" \
  && pass "the store reopens after SIGTERM and counts the second start" \
  || fail "the store reopens after SIGTERM and counts the second start: $after"
grep -q "audit_trail_truncated" "$WARD_TEST_DIR/secondary/node.log" \
  && fail "MON-1 a clean restart finds the audit trail at its sealed anchor" \
  || pass "MON-1 a clean restart finds the audit trail at its sealed anchor"
grep -q "\"sha256_fingerprint\": \"$fingerprint_before\"" <<<"$after" \
  && pass "PKI-11 the identity survives a restart unchanged" \
  || fail "PKI-11 the identity survives a restart unchanged"

# PKI-11: a deleted certificate is replaced at the next start.
stop_node expansion
rm "$WARD_TEST_DIR/expansion/data/certificates/identity.pem"
start_node expansion || exit 1
grep -q "event=identity_recreated" "$WARD_TEST_DIR/expansion/node.log" \
  && wardctl_for expansion status >/dev/null 2>&1 \
  && pass "PKI-11 a node whose certificate was deleted makes a new one and stays reachable" \
  || fail "PKI-11 a node whose certificate was deleted makes a new one and stays reachable"

# Logs are structured: one event per line with level and component.
if grep -v '^ts=[0-9T:.-]*Z level=[a-z]* component=[a-z]* ' "$WARD_TEST_DIR/primary/node.log" | grep -q .; then
  fail "logs are one structured line per event"
else
  pass "logs are one structured line per event"
fi

finish
