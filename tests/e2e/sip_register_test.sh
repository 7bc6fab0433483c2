#!/usr/bin/env bash
# SIP registrar end to end (SPEC SIP-1, SIP-2, SIP-4): sipp against a real primary on
# loopback, extensions made with wardctl.
#   tests/e2e/sip_register_test.sh WARD_NODE WARDCTL
# Skips (77) without sipp (Debian sip-tester) or python3.
#
# sipp 3.6.1 computes MD5 digests only, and takes the algorithm, realm and nonce from the
# first WWW-Authenticate header of a 401 (it joins them all into one string): Ward offers
# SHA-256 first, so sipp's own [authentication] keyword stops sipp with the fatal error
# "createAuthHeader: authentication must use MD5 or AKAv1-MD5". The registrations here are
# therefore answered by tests/e2e/sip/digest_authorization.py, run by the scenario
# (register_digest_*.xml), for SHA-256 and for MD5. register_uac.xml, which uses sipp's own
# keyword, is tried too: it must work whenever Ward's first challenge is MD5, and otherwise
# the limitation is only reported.
#
# Each phase sends from its own loopback address (127.0.0.21-24), because the guard counts
# failures and rates per source address. Every sipp run is bounded (-m, -recv_timeout,
# -timeout with -timeout_error) and stopped by PID on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v sipp >/dev/null 2>&1; then
  echo "SKIP: sipp is not installed (apt-get install sip-tester)"
  exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 is not installed (the digest helper needs it)"
  exit 77
fi
source "$here/../integration/lib.sh"
ward_test_init "$@"
scenarios="$here/sip"
failure_threshold=${WARD_SIP_FAILURE_THRESHOLD:-10}

write_node_config primary primary
grep -q '^sip:' "$WARD_TEST_DIR/primary/node.yaml" ||
  printf 'sip:\n  udp_port: 0\n' >>"$WARD_TEST_DIR/primary/node.yaml"
start_node primary || exit 1
export WARD_SESSION_FILE="$WARD_TEST_DIR/session-admin"
ctl() { wardctl_for primary "$@"; }
ignite primary

sip=""
for _ in $(seq 1 50); do
  sip=$(endpoint primary sip_udp)
  [ -n "$sip" ] && break
  sleep 0.1
done
if [ -z "$sip" ]; then
  fail "SIP-1 the node lists its SIP UDP endpoint (sip_udp) in run/endpoints"
  cat "$WARD_TEST_DIR/primary/data/run/endpoints"
  finish
  exit 1
fi
pass "SIP-1 the node listens for SIP on UDP $sip"

expect_code 0 "SIP-2 extension 201 with a phone password is created" \
  ctl extension add 201 --phone-password-stdin <<<"82917364"
expect_code 0 "SIP-2 extension 202 with a phone password is created" \
  ctl extension add 202 --phone-password-stdin <<<"64019283"

work="$WARD_TEST_DIR/sipp"
mkdir -p "$work"
# csv NAME EXTENSION PASSWORD: an injection file in the scenarios' format.
csv() {
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s];%s\n' "$2" "$2" "$3" "$3" \
    >"$work/$1.csv"
  echo "$work/$1.csv"
}
good201=$(csv good201 201 82917364)
good202=$(csv good202 202 64019283)
bad201=$(csv bad201 201 10293847)
bad202=$(csv bad202 202 10293847)
unknown=$(csv unknown 7999 10293847)

# sipp_run NAME SOURCE SCENARIO CALLS CSV [SIPP OPTIONS...]: sipp from SOURCE to the node,
# in the background as a recorded child, waited for. Exit code in SIPP_CODE (0: every call
# went as the scenario says; 1: some failed; 255: fatal error or global timeout); screen,
# errors and message trace in $work/NAME.{out,err,msg}.
sipp_run() {
  local name=$1 source=$2 scenario=$3 calls=$4 inf=$5
  shift 5
  local args=("$sip" -sf "$scenarios/$scenario" -i "$source" -m "$calls" -recv_timeout 4000
    -timeout $((calls + 10)) -timeout_error -nostdin -trace_err -error_file "$work/$name.err"
    -trace_msg -message_file "$work/$name.msg")
  [ -n "$inf" ] && args+=(-inf "$inf")
  sipp "${args[@]}" "$@" >"$work/$name.out" 2>&1 &
  local pid=$!
  WARD_TEST_PIDS+=("$pid")
  SIPP_CODE=0
  wait "$pid" || SIPP_CODE=$?
}
# digest_run NAME SOURCE SCENARIO CALLS CSV ALGORITHM [SIPP OPTIONS...]: a
# register_digest_*.xml scenario, with a directory of its own holding the placeholder
# header file of every call (see the scenario).
digest_run() {
  local name=$1 source=$2 scenario=$3 calls=$4 inf=$5 algorithm=$6
  shift 6
  local dir="$work/auth-$name"
  mkdir -p "$dir"
  for n in $(seq 1 "$calls"); do printf 'X-Digest: pending' >"$dir/auth-$n"; done
  sipp_run "$name" "$source" "$scenario" "$calls" "$inf" -set algorithm "$algorithm" \
    -set helper "$scenarios/digest_authorization.py" -set workdir "$dir" "$@"
}
# successes NAME: the calls of run NAME that completed as the scenario says.
successes() {
  awk -F'|' '/Successful call/ { gsub(/ /, "", $3); n = $3 } END { print n + 0 }' "$work/$1.out"
}
# why NAME: what sipp said went wrong, for failure messages.
why() {
  local text
  text=$(grep -v "^The following events occurred" "$work/$1.err" 2>/dev/null | head -c 400)
  echo "sipp exit $SIPP_CODE; ${text:-$(grep -m1 -i "error\|abort" "$work/$1.out")}"
}
# expect_sipp CODE DESCRIPTION NAME: the last run's exit code is CODE.
expect_sipp() {
  if [ "$SIPP_CODE" = "$1" ]; then pass "$2"; else fail "$2 ($(why "$3"))"; fi
}

# ---- SIP-2 registration with the right password ---------------------------------------------
digest_run register-sha256 127.0.0.21 register_digest_uac.xml 1 "$good201" SHA-256
expect_sipp 0 "SIP-2 REGISTER 201 with the right password, SHA-256 digest: 401 then 200 OK" register-sha256

# The challenge as the phone sees it: two WWW-Authenticate headers, SHA-256 first.
# first_response NAME CODE: the headers of the first response CODE in run NAME's trace.
first_response() {
  tr -d '\r' <"$work/$1.msg" | awk -v code="$2" '
    !found && $0 ~ "^SIP/2.0 " code " " { found = 1 }
    found && /^$/ { exit }
    found { print }'
}
challenges=$(first_response register-sha256 401 | grep -i '^WWW-Authenticate:')
first=$(sed -n 1p <<<"$challenges")
second=$(sed -n 2p <<<"$challenges")
if [ "$(wc -l <<<"$challenges")" = 2 ] && grep -q 'algorithm=SHA-256' <<<"$first" &&
  grep -q 'algorithm=MD5' <<<"$second" && grep -q 'qop="auth"' <<<"$first" &&
  grep -q 'qop="auth"' <<<"$second" && grep -q 'realm="ward"' <<<"$first"; then
  pass "SIP-2 the 401 offers SHA-256 first, then MD5, both qop=auth in realm ward"
else
  fail "SIP-2 the 401 offers SHA-256 first, then MD5, both qop=auth in realm ward: $challenges"
fi

digest_run register-md5 127.0.0.21 register_digest_uac.xml 1 "$good201" MD5
expect_sipp 0 "SIP-2 REGISTER 201 with the right password, MD5 digest (old phones): 200 OK" register-md5
first_response register-md5 200 | grep -qi '^Contact:.*sip:201@127.0.0.21.*expires=' &&
  pass "SIP-2 the 200 OK returns the binding's Contact with its expires" ||
  fail "SIP-2 the 200 OK returns the binding's Contact with its expires: $(first_response register-md5 200)"

registered=""
for _ in $(seq 1 30); do
  registered=$(ctl registrations 2>&1)
  grep -q "^201 .*udp.*127.0.0.21:.*sip:201@127.0.0.21" <<<"$registered" && break
  sleep 0.1
done
grep -q "^201 .*udp.*127.0.0.21:.*sip:201@127.0.0.21" <<<"$registered" &&
  pass "SIP-2 wardctl registrations shows 201 bound over UDP from 127.0.0.21" ||
  fail "SIP-2 wardctl registrations shows 201 bound over UDP from 127.0.0.21: $registered"

# sipp's own [authentication] keyword: MD5 only, from the first challenge.
sipp_run register-sipp-auth 127.0.0.21 register_uac.xml 1 "$good201"
if grep -q 'algorithm=MD5' <<<"$first"; then
  expect_sipp 0 "SIP-2 sipp's own MD5 [authentication] registers 201 (MD5 offered first)" register-sipp-auth
elif [ "$SIPP_CODE" = 255 ] && grep -q "must use MD5" "$work/register-sipp-auth.err"; then
  echo "note - sipp $(sipp -v 2>&1 | sed -n 's/.*SIPp v\([0-9.]*\).*/\1/p')'s own [authentication] cannot answer Ward's challenge (SHA-256 offered first): fatal 'createAuthHeader: authentication must use MD5 or AKAv1-MD5'"
else
  echo "note - sipp's own [authentication] against a SHA-256-first challenge: $(why register-sipp-auth)"
fi

# ---- SIP-2 SIP-4 refusals ---------------------------------------------------------------------
digest_run wrong-password 127.0.0.22 register_digest_forbidden_uac.xml 1 "$bad201" SHA-256
expect_sipp 0 "SIP-2 REGISTER 201 with a wrong password: 401 then 403 Forbidden" wrong-password
digest_run unknown-extension 127.0.0.22 register_digest_forbidden_uac.xml 1 "$unknown" MD5
expect_sipp 0 "SIP-4 REGISTER of an unknown extension: 401 then 403, as for a wrong password" unknown-extension
ctl registrations 2>&1 | grep -q "^7999 " &&
  fail "SIP-4 the unknown extension has no binding" || pass "SIP-4 the unknown extension has no binding"

# ---- SIP-4 an address with repeated failures is blacklisted -----------------------------------
# The failures go to 202 so that 201 and its binding stay out of it; the source is its own.
failures_csv="$work/failures.csv"
{ echo SEQUENTIAL; for _ in $(seq 1 "$failure_threshold"); do tail -n 1 "$bad202"; done; } >"$failures_csv"
# Four calls a second: the guard also limits each address to 50 messages a second.
digest_run failures 127.0.0.23 register_digest_forbidden_uac.xml "$failure_threshold" "$failures_csv" SHA-256 -r 4
refused=$(successes failures)
[ "$refused" = "$failure_threshold" ] &&
  pass "SIP-4 $failure_threshold wrong passwords from 127.0.0.23 are each refused with 403" ||
  fail "SIP-4 $failure_threshold wrong passwords from 127.0.0.23 are each refused with 403 (only $refused; $(why failures))"

started=$(date +%s%N)
sipp_run blacklisted 127.0.0.23 register_unanswered_uac.xml 1 "$good202"
took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
expect_sipp 0 "SIP-4 then a REGISTER from 127.0.0.23 gets no answer at all (sipp waited ${took_ms} ms)" blacklisted
[ "$took_ms" -le 5000 ] && pass "SIP-4 the unanswered REGISTER is given up within 5 s" ||
  fail "SIP-4 the unanswered REGISTER is given up within 5 s (${took_ms} ms)"

alarms=""
for _ in $(seq 1 50); do
  alarms=$(ctl audit list --kind alarm --limit 100 2>&1)
  grep -qi "blacklist" <<<"$alarms" && break
  sleep 0.1
done
grep -i "blacklist" <<<"$alarms" | grep -q "127.0.0.23" &&
  pass "SIP-4 the blacklisting raised an alarm naming 127.0.0.23" ||
  fail "SIP-4 the blacklisting raised an alarm naming 127.0.0.23: $(grep -i blacklist <<<"$alarms" || tail -5 <<<"$alarms")"

if ctl blacklist --help >/dev/null 2>&1; then
  expect_output "127.0.0.23" "SIP-4 wardctl blacklist list shows 127.0.0.23" ctl blacklist list
fi

digest_run other-address 127.0.0.24 register_digest_uac.xml 1 "$good201" SHA-256
expect_sipp 0 "SIP-4 another address still registers 201 while 127.0.0.23 is blacklisted" other-address

# ---- SIP-1 OPTIONS ------------------------------------------------------------------------------
sipp_run options 127.0.0.21 options_uac.xml 1 ""
expect_sipp 0 "SIP-1 OPTIONS gets 200 OK" options
first_response options 200 | grep -qi '^Allow:.*REGISTER' &&
  pass "SIP-1 the OPTIONS answer lists REGISTER in Allow" ||
  fail "SIP-1 the OPTIONS answer lists REGISTER in Allow: $(first_response options 200)"

if [ "$WARD_TEST_FAILURES" -ne 0 ]; then
  echo "--- node log (last 30 lines)"
  tail -n 30 "$WARD_TEST_DIR/primary/node.log"
fi
finish
