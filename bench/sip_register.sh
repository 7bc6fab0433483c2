#!/usr/bin/env bash
# SIP registrations over UDP against one primary on loopback, driven by sipp, one line per
# figure (SPEC SIP-1, SIP-2):
#   sip_register_udp_per_s          successful authenticated registrations (200 OK) per second
#   sip_register_udp_failed_percent registrations that failed, of those started
# at the best of a few target rates (sipp -r R for 10 s each; the best stage is the fastest
# whose failures stay at or below 1 %, else the fastest). A comment line per stage gives the
# counts and the CPU the node and sipp used (100 % = one core; 2 cores are shared here).
#   bench/sip_register.sh [BUILD_DIR]
# Environment: WARD_BENCH_EXTENSIONS (1000), WARD_BENCH_RATES ("2000 8000 16000 32000 48000"),
# WARD_BENCH_ADDRESSES (3000). About 3 minutes.
#
# How sipp is used, and why:
# - The guard admits at most 50 messages a second from one address (SPEC SIP-4), so the
#   calls come from 3000 addresses (127.B.x.y, sipp -t ui with the address in field3 of the
#   injection file, port 5060), the extensions spread over them as phones would be: at
#   48000 registrations a second that is 16 a second, 32 messages, per address.
# - With -t ui, sipp 3.6.1's [local_ip]:[local_port] read 127.0.0.1:0 for the first call
#   and for every call reusing an address, and Ward drops a request whose Via or Contact
#   says port 0 without answering; the bench_register_*.xml scenarios name field3:5060.
# - sipp 3.6.1 answers only MD5 challenges, and only when MD5 is the first WWW-Authenticate
#   header; Ward offers SHA-256 first. A probe finds out: if sipp's own [authentication]
#   works, the two figures above are measured. Otherwise they cannot be measured with this
#   sipp (digests computed outside sipp cost a process per call), which a comment line
#   says, and two figures of the same path are given instead:
#     sip_register_udp_noauth_per_s / _failed_percent   extensions without a phone password
#       and with force authorization off: REGISTER -> 200 OK (no digest)
#     sip_register_udp_challenge_per_s / _failed_percent  REGISTER without credentials ->
#       401 with both challenges (the nonce-issuing half of an authenticated registration)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
WARD_NODE=$build/node/ward-node
WARDCTL=$build/cli/wardctl
scenarios=$PWD/tests/e2e/sip
if ! command -v sipp >/dev/null 2>&1; then
  echo "# sipp is not installed (apt-get install sip-tester): no SIP registration figures"
  exit 77
fi
source tests/integration/lib.sh
ward_test_init

extensions=${WARD_BENCH_EXTENSIONS:-1000}
rates=${WARD_BENCH_RATES:-2000 8000 16000 32000 48000}
stage_seconds=10
addresses=${WARD_BENCH_ADDRESSES:-3000}
ticks=$(getconf CLK_TCK)

write_node_config primary primary
sed -i 's/^  level: info$/  level: warn/' "$WARD_TEST_DIR/primary/node.yaml"
grep -q '^sip:' "$WARD_TEST_DIR/primary/node.yaml" ||
  printf 'sip:\n  udp_port: 0\n' >>"$WARD_TEST_DIR/primary/node.yaml"
start_node primary >/dev/null || exit 1
export WARD_SESSION_FILE="$WARD_TEST_DIR/session-admin"
ignite primary
ctl() { wardctl_for primary --timeout 10 "$@"; }
sip=""
for _ in $(seq 1 50); do
  sip=$(endpoint primary sip_udp)
  [ -n "$sip" ] && break
  sleep 0.1
done
if [ -z "$sip" ]; then
  echo "# the node lists no sip_udp endpoint: no SIP registration figures"
  exit 1
fi
work="$WARD_TEST_DIR/bench"
mkdir -p "$work"

# cpu_ticks PID: user + system clock ticks the process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_sipp NAME SCENARIO CSV RATE CALLS: one stage, in the background as a recorded child.
# Sets SIPP_CODE, NODE_CPU and SIPP_CPU (percent of one core over the stage).
run_sipp() {
  local name=$1 scenario=$2 inf=$3 rate=$4 calls=$5
  local node_before start
  node_before=$(cpu_ticks "$NODE_PID_primary")
  start=$(date +%s%N)
  sipp "$sip" -sf "$scenarios/$scenario" -inf "$inf" -t ui -ip_field 3 -p 5060 -i 127.0.0.1 \
    -max_socket $((addresses + 100)) -r "$rate" -rp 1000 -m "$calls" -l 4000 \
    -recv_timeout 3000 -timeout $((calls / rate + 20)) -timeout_error -nostdin \
    -trace_err -error_file "$work/$name.err" -trace_stat -stf "$work/$name.stat" -fd 1 \
    >"$work/$name.out" 2>&1 &
  local pid=$!
  WARD_TEST_PIDS+=("$pid")
  # sipp's own CPU, read just before it exits: sampled while it runs.
  local sipp_ticks=0 t
  while kill -0 "$pid" 2>/dev/null; do
    t=$(cpu_ticks "$pid")
    [ "$t" -gt 0 ] 2>/dev/null && sipp_ticks=$t
    sleep 0.2
  done
  SIPP_CODE=0
  wait "$pid" || SIPP_CODE=$?
  local wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  NODE_CPU=$(( ($(cpu_ticks "$NODE_PID_primary") - node_before) * 1000 * 100 / ticks / (wall_ms + 1) ))
  SIPP_CPU=$(( sipp_ticks * 1000 * 100 / ticks / (wall_ms + 1) ))
}

# stats NAME: "successful failed seconds" from the last row of sipp's statistics file (the
# seconds from sipp's start to that row; its screen's own Elapsed Time reads 0 at exit).
stats() {
  awk -F';' '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { split($(col["StartTime"]), s, "\t"); split($(col["CurrentTime"]), c, "\t")
      seconds = c[3] - s[3]; ok = $(col["SuccessfulCall(C)"]); failed = $(col["FailedCall(C)"]) }
    END { printf "%d %d %.3f\n", ok, failed, seconds }' "$work/$1.stat"
}

# csv NAME FIRST COUNT BLOCK WITH_AUTH: one line per address 127.BLOCK.x.y ($addresses of
# them), the extensions FIRST..FIRST+COUNT-1 spread over them; calls take the lines in
# turn, over and over.
csv() {
  local name=$1 first=$2 count=$3 block=$4 with_auth=$5
  awk -v lines="$addresses" -v first="$first" -v count="$count" -v block="$block" -v auth="$with_auth" '
    BEGIN {
      print "SEQUENTIAL"
      for (i = 0; i < lines; i++) {
        n = first + i % count
        pw = "83" n "61"
        printf "%d;%s;%s;127.%d.%d.%d\n", n,
          auth ? "[authentication username=" n " password=" pw "]" : "-", pw,
          block, int(i / 250) + 1, i % 250 + 1
      }
    }' >"$work/$name.csv"
  echo "$work/$name.csv"
}

# stages LABEL SCENARIO FIRST COUNT WITH_AUTH BLOCK: every rate of $rates; prints a comment
# line per stage and then the best stage's two figures, named sip_register_udp[LABEL]_*.
stages() {
  local label=$1 scenario=$2 first=$3 count=$4 with_auth=$5 block=$6
  local best_rate=-1 best_failed=100 any_rate=0 any_failed=100 inf
  inf=$(csv "lines$label" "$first" "$count" "$block" "$with_auth")
  for rate in $rates; do
    local calls=$((rate * stage_seconds)) name="stage$label-$rate"
    run_sipp "$name" "$scenario" "$inf" "$rate" "$calls"
    local ok failed elapsed per_s failed_pct note=""
    read -r ok failed elapsed < <(stats "$name")
    per_s=$(awk -v ok="$ok" -v e="$elapsed" 'BEGIN { printf "%d", (e > 0) ? ok / e : 0 }')
    failed_pct=$(awk -v ok="$ok" -v c="$calls" 'BEGIN { printf "%.2f", (c - ok) * 100 / c }')
    if [ "$ok" != "$calls" ] && [ -s "$work/$name.err" ]; then
      note="; first error: $(grep -v '^The following' "$work/$name.err" | head -1 | cut -f3 | sed 's/^[0-9.]*: //' | cut -c1-110)"
    fi
    echo "# ${label#_}${label:+ }stage: target ${rate}/s, ${calls} calls: ${ok} ok, ${failed} failed in ${elapsed} s -> ${per_s}/s; node cpu ${NODE_CPU} %, sipp cpu ${SIPP_CPU} % (sipp exit ${SIPP_CODE}${note})"
    if awk -v f="$failed_pct" 'BEGIN { exit !(f <= 1) }' && [ "$per_s" -gt "$best_rate" ]; then
      best_rate=$per_s best_failed=$failed_pct
    fi
    if [ "$per_s" -gt "$any_rate" ]; then any_rate=$per_s any_failed=$failed_pct; fi
  done
  if [ "$best_rate" -lt 0 ]; then best_rate=$any_rate best_failed=$any_failed; fi
  echo "sip_register_udp${label}_per_s $best_rate"
  echo "sip_register_udp${label}_failed_percent $best_failed"
}

# ---- Can sipp's own [authentication] answer Ward's challenge? ---------------------------------
ctl extension add 200 --phone-password-stdin <<<"8320061" >/dev/null 2>&1
printf 'SEQUENTIAL\n200;[authentication username=200 password=8320061];8320061\n' >"$work/probe.csv"
sipp "$sip" -sf "$scenarios/register_uac.xml" -inf "$work/probe.csv" -i 127.9.0.1 -m 1 \
  -recv_timeout 3000 -timeout 10 -timeout_error -nostdin -trace_err -error_file "$work/probe.err" \
  >"$work/probe.out" 2>&1 &
probe=$!
WARD_TEST_PIDS+=("$probe")
probe_code=0
wait "$probe" || probe_code=$?
if [ "$probe_code" = 0 ]; then mode=auth; else mode=noauth; fi

# ---- Extensions ---------------------------------------------------------------------------------
first=201
start=$(date +%s%N)
made=0
for n in $(seq "$first" $((first + extensions - 1))); do
  if [ "$mode" = auth ]; then
    ctl extension add "$n" --phone-password-stdin <<<"83${n}61" >/dev/null 2>&1 || break
  else
    ctl extension add "$n" --force-authorization off >/dev/null 2>&1 || break
  fi
  made=$((made + 1))
  # One wardctl call per extension: settle for 200 if they are slow.
  if [ "$made" = 200 ] && [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 30000 ]; then break; fi
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# ${made} extensions created with wardctl in ${ms} ms ($( [ "$mode" = auth ] && echo "phone passwords" || echo "no phone password, force authorization off")); calls from ${addresses} addresses"
if [ "$made" -lt 1 ]; then
  echo "# no extension could be created: no SIP registration figures"
  exit 1
fi

if [ "$mode" = auth ]; then
  echo "# authenticated: REGISTER, 401, REGISTER with sipp's MD5 digest, 200 OK"
  stages "" bench_register_auth_uac.xml "$first" "$made" 1 10
else
  echo "# sip_register_udp_per_s not measured: sipp $(sipp -v 2>&1 | sed -n 's/.*SIPp v\([0-9.]*\).*/\1/p') cannot answer Ward's challenge ($(grep -v '^The following' "$work/probe.err" 2>/dev/null | head -1 | cut -f3 | sed 's/^[0-9.]*: //' | cut -c1-80); Ward offers SHA-256 first)"
  echo "# without digest: REGISTER -> 200 OK"
  stages _noauth bench_register_noauth_uac.xml "$first" "$made" 0 10
  echo "# challenge only: REGISTER without credentials -> 401 (numbers without an extension: the same cost)"
  stages _challenge bench_register_challenge_uac.xml 5201 "$made" 0 30
fi
