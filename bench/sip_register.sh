#!/usr/bin/env bash
# SIP registrations against one primary on loopback, over UDP and over TLS, driven by sipp,
# one line per figure (SPEC SIP-1, SIP-2):
#   sip_register_udp_per_s          successful authenticated registrations (200 OK) per second
#   sip_register_udp_failed_percent registrations that failed, of those started
#   sip_register_tls_per_s          the same over one TLS connection
#   sip_register_tls_failed_percent
# at the best of a few target rates (sipp -r R for 10 s each; the best stage is the fastest
# whose failures stay at or below 1 %, else the fastest). A comment line per stage gives the
# counts and the CPU the node, sipp and (TLS) stunnel used (100 % = one core; 2 cores are
# shared here).
#   bench/sip_register.sh [BUILD_DIR]
# Environment: WARD_BENCH_EXTENSIONS (1000), WARD_BENCH_RATES ("2000 8000 16000 32000 48000",
# UDP), WARD_BENCH_TLS_RATES ("2000 8000 16000 24000 32000"), WARD_BENCH_ADDRESSES (3000),
# WARD_BENCH_STAGE_SECONDS (10). About 4 minutes.
#
# How sipp is used, and why:
# - The node challenges MD5 first (sip.digest_preferred: md5): sipp 3.6.1 answers only MD5
#   challenges, and only when MD5 is the first WWW-Authenticate header (Ward's default is
#   SHA-256 first, MD5 second). A probe checks that sipp's own [authentication] works, so
#   that the figures above are authenticated registrations: REGISTER, 401, REGISTER with
#   sipp's MD5 digest, 200 OK.
# - UDP: the guard admits at most 50 messages a second from one address (SPEC SIP-4; the
#   node keeps that default for the UDP stages), so the calls come from 3000 addresses
#   (127.B.x.y, sipp -t ui with the address in field3 of the injection file, port 5060), the
#   extensions spread over them as phones would be: at 48000 registrations a second that is
#   16 a second, 32 messages, per address.
# - With -t ui, sipp 3.6.1's [local_ip]:[local_port] read 127.0.0.1:0 for the first call
#   and for every call reusing an address, and Ward drops a request whose Via or Contact
#   says port 0 without answering; the bench_register_*.xml scenarios name field3:5060.
# - TLS: Debian's sipp 3.6.1 has no TLS (../shared/TOOLCHAIN.md). sipp -t t1 (one TCP
#   connection) talks to stunnel4 in client mode on a free 127.0.0.1 port, which carries it
#   over one TLS connection to the node's sip_tls port (no certificate check: the node's
#   certificate is its own identity, and this is loopback). Over one connection every
#   message comes from 127.0.0.1, so for the TLS stages the node is stopped after the UDP
#   stages and started again, on the same data (extensions, passwords), with the guard's
#   per-address rate limit lifted (sip.messages_per_second: 0); everything else in the
#   guard stays on. bench_register_auth_tls_uac.xml writes Via .../TLS and
#   Contact ;transport=tls, as a phone on TLS would, and names the node's TLS address in
#   the Request-URI and digest uri (-set registrar, -auth_uri) rather than stunnel's.
#   stunnel's CPU is given per stage too: it encrypts sipp's side of the connection.
# - Should the probe fail (sipp cannot answer the challenge), the authenticated figures
#   cannot be measured with this sipp (digests computed outside sipp cost a process per
#   call), which a comment line says, and two UDP figures of the same path are given instead
#   (no TLS figures):
#     sip_register_udp_noauth_per_s / _failed_percent   extensions without a phone password
#       and with force authorization off: REGISTER -> 200 OK (no digest)
#     sip_register_udp_challenge_per_s / _failed_percent  REGISTER without credentials ->
#       401 with both challenges (the nonce-issuing half of an authenticated registration)
# Every process is started on loopback, recorded and stopped by PID (sipp, stunnel, node);
# every sipp run is bounded by -m and -timeout.
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/sip_lib.sh
sip_bench_setup "${1:-build}" "SIP registration"

extensions=${WARD_BENCH_EXTENSIONS:-1000}
rates=${WARD_BENCH_RATES:-2000 8000 16000 32000 48000}
tls_rates=${WARD_BENCH_TLS_RATES:-2000 8000 16000 24000 32000}
stage_seconds=${WARD_BENCH_STAGE_SECONDS:-10}
addresses=${WARD_BENCH_ADDRESSES:-3000}
ticks=$(getconf CLK_TCK)
if ! command -v stunnel4 >/dev/null 2>&1; then
  echo "# stunnel4 is not installed (scripts/install-deps): the TLS stages will be skipped"
fi

config="$WARD_TEST_DIR/primary/node.yaml"
write_node_config primary primary
sed -i 's/^  level: info$/  level: warn/' "$config"
# MD5 challenged first: sipp 3.6.1 answers nothing else (see above).
if grep -q '^sip:$' "$config"; then
  sed -i 's/^sip:$/sip:\n  digest_preferred: md5/' "$config"
else
  printf 'sip:\n  udp_port: 0\n  tcp_port: 0\n  tls_port: 0\n  digest_preferred: md5\n' >>"$config"
fi
start_node primary >/dev/null || exit 1
export WARD_SESSION_FILE="$WARD_TEST_DIR/session-admin"
ignite primary
ctl() { wardctl_for primary --timeout 10 "$@"; }
# sip_endpoint SERVICE: HOST:PORT of the node's SIP SERVICE (sip_udp, sip_tls), waiting up
# to 5 s for the node to list it; empty if it does not.
sip_endpoint() {
  local found=""
  for _ in $(seq 1 50); do
    found=$(endpoint primary "$1")
    [ -n "$found" ] && break
    sleep 0.1
  done
  echo "$found"
}
sip=$(sip_endpoint sip_udp)
if [ -z "$sip" ]; then
  echo "# the node lists no sip_udp endpoint: no SIP registration figures"
  exit 1
fi
work="$WARD_TEST_DIR/bench"
mkdir -p "$work"
tunnel_pid=""


# run_sipp NAME RATE CALLS SIPP_ARGS...: one stage, sipp with SIPP_ARGS (target, scenario,
# injection file, transport) at RATE calls a second for CALLS calls, in the background as a
# recorded child. Sets SIPP_CODE, NODE_CPU, SIPP_CPU and TUNNEL_CPU (stunnel's, while
# $tunnel_pid runs), in percent of one core over the stage.
run_sipp() {
  local name=$1 rate=$2 calls=$3
  shift 3
  local node_before tunnel_before=0 start
  node_before=$(cpu_ticks "$NODE_PID_primary")
  [ -n "$tunnel_pid" ] && tunnel_before=$(cpu_ticks "$tunnel_pid")
  start=$(date +%s%N)
  sipp "$@" -r "$rate" -rp 1000 -m "$calls" -l 4000 \
    -recv_timeout 3000 -timeout $((calls / rate + 20)) -timeout_error -nostdin \
    -trace_err -error_file "$work/$name.err" -trace_stat -stf "$work/$name.stat" -fd 1 \
    >"$work/$name.out" 2>&1 &
  local pid=$!
  WARD_TEST_PIDS+=("$pid")
  wait_sampled "$pid"
  local sipp_ticks=$SAMPLED_TICKS
  SIPP_CODE=$SAMPLED_CODE
  local wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  NODE_CPU=$(( ($(cpu_ticks "$NODE_PID_primary") - node_before) * 1000 * 100 / ticks / (wall_ms + 1) ))
  SIPP_CPU=$(( sipp_ticks * 1000 * 100 / ticks / (wall_ms + 1) ))
  TUNNEL_CPU=0
  [ -n "$tunnel_pid" ] &&
    TUNNEL_CPU=$(( ($(cpu_ticks "$tunnel_pid") - tunnel_before) * 1000 * 100 / ticks / (wall_ms + 1) ))
}

# stats NAME: "successful failed seconds" of run NAME (0 0 0 when sipp wrote no statistics).
stats() {
  local row
  row=$(sipp_stat_row "$work/$1.stat")
  echo "${row:-0 0 0}"
}

# csv NAME FIRST COUNT BLOCK WITH_AUTH: one line per address 127.BLOCK.x.y ($addresses of
# them), the extensions FIRST..FIRST+COUNT-1 spread over them; calls take the lines in
# turn, over and over. (Over TLS the address, field3, is not used.)
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

# first_error NAME: the first event of sipp's error file, shortened.
first_error() {
  grep -v '^The following' "$work/$1.err" 2>/dev/null | head -1 | cut -f3 | sed 's/^[0-9.]*: //' |
    cut -c1-110
}

# stages FIGURE RATES SIPP_ARGS...: sipp with SIPP_ARGS at every rate of RATES for
# $stage_seconds s each; prints a comment line per stage and then the best stage's two
# figures, FIGURE_per_s and FIGURE_failed_percent.
stages() {
  local figure=$1 stage_rates=$2
  shift 2
  local label=${figure#sip_register_}
  local best_rate=-1 best_failed=100 any_rate=0 any_failed=100
  for rate in $stage_rates; do
    local calls=$((rate * stage_seconds)) name="$label-$rate"
    run_sipp "$name" "$rate" "$calls" "$@"
    local ok failed elapsed per_s failed_pct note="" tunnel=""
    read -r ok failed elapsed < <(stats "$name")
    per_s=$(awk -v ok="$ok" -v e="$elapsed" 'BEGIN { printf "%d", (e > 0) ? ok / e : 0 }')
    failed_pct=$(awk -v ok="$ok" -v c="$calls" 'BEGIN { printf "%.2f", (c - ok) * 100 / c }')
    if [ "$ok" != "$calls" ] && [ -s "$work/$name.err" ]; then
      note="; first error: $(first_error "$name")"
    fi
    [ -n "$tunnel_pid" ] && tunnel=", stunnel cpu ${TUNNEL_CPU} %"
    echo "# ${label} stage: target ${rate}/s, ${calls} calls: ${ok} ok, ${failed} failed in ${elapsed} s -> ${per_s}/s; node cpu ${NODE_CPU} %, sipp cpu ${SIPP_CPU} %${tunnel} (sipp exit ${SIPP_CODE}${note})"
    if awk -v f="$failed_pct" 'BEGIN { exit !(f <= 1) }' && [ "$per_s" -gt "$best_rate" ]; then
      best_rate=$per_s best_failed=$failed_pct
    fi
    if [ "$per_s" -gt "$any_rate" ]; then any_rate=$per_s any_failed=$failed_pct; fi
  done
  if [ "$best_rate" -lt 0 ]; then best_rate=$any_rate best_failed=$any_failed; fi
  echo "${figure}_per_s $best_rate"
  echo "${figure}_failed_percent $best_failed"
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
echo "# ${made} extensions created with wardctl in ${ms} ms ($( [ "$mode" = auth ] && echo "phone passwords" || echo "no phone password, force authorization off")); UDP calls from ${addresses} addresses"
if [ "$made" -lt 1 ]; then
  echo "# no extension could be created: no SIP registration figures"
  exit 1
fi

udp=(-t ui -ip_field 3 -p 5060 -i 127.0.0.1 -max_socket $((addresses + 100)))
if [ "$mode" != auth ]; then
  echo "# sip_register_udp_per_s and sip_register_tls_per_s not measured: sipp $(sipp -v 2>&1 | sed -n 's/.*SIPp v\([0-9.]*\).*/\1/p') cannot answer Ward's challenge ($(first_error probe | cut -c1-80); the node should challenge MD5 first)"
  echo "# without digest: REGISTER -> 200 OK"
  stages sip_register_udp_noauth "$rates" "$sip" -sf "$scenarios/bench_register_noauth_uac.xml" \
    -inf "$(csv lines_noauth "$first" "$made" 10 0)" "${udp[@]}"
  echo "# challenge only: REGISTER without credentials -> 401 (numbers without an extension: the same cost)"
  stages sip_register_udp_challenge "$rates" "$sip" -sf "$scenarios/bench_register_challenge_uac.xml" \
    -inf "$(csv lines_challenge 5201 "$made" 30 0)" "${udp[@]}"
  exit 0
fi

echo "# UDP, authenticated: REGISTER, 401, REGISTER with sipp's MD5 digest, 200 OK (guard limit 50 messages/s per address)"
inf=$(csv lines "$first" "$made" 10 1)
stages sip_register_udp "$rates" "$sip" -sf "$scenarios/bench_register_auth_uac.xml" -inf "$inf" "${udp[@]}"

# ---- TLS: the same node, its per-address rate limit lifted, through stunnel ---------------------
if ! command -v stunnel4 >/dev/null 2>&1; then
  echo "# sip_register_tls_per_s not measured: stunnel4 is not installed (scripts/install-deps)"
  exit 0
fi
stopped=$NODE_PID_primary
stop_node primary
if [ "$STOP_CODE" != 0 ]; then
  echo "# the node exited with code $STOP_CODE when stopped after the UDP stages"
fi
# Its PID is no longer ours to stop.
for i in "${!WARD_TEST_PIDS[@]}"; do
  [ "${WARD_TEST_PIDS[$i]}" = "$stopped" ] && unset 'WARD_TEST_PIDS[i]'
done
sed -i 's/^  digest_preferred: md5$/&\n  messages_per_second: 0/' "$config"
grep -q '^  messages_per_second: 0$' "$config" || { echo "# cannot lift the rate limit in $config"; exit 1; }
start_node primary >/dev/null || exit 1
sip_tls=$(sip_endpoint sip_tls)
if [ -z "$sip_tls" ]; then
  echo "# the node lists no sip_tls endpoint: no SIP over TLS figures"
  exit 1
fi

tunnel_port=$(free_port)
cat >"$work/stunnel.conf" <<EOF
; sipp -t t1 -> 127.0.0.1:$tunnel_port (TCP) -> stunnel -> $sip_tls (TLS), loopback only
foreground = yes
pid = $work/stunnel.pid
output = $work/stunnel.log
debug = warning
[sip-tls]
client = yes
accept = 127.0.0.1:$tunnel_port
connect = $sip_tls
; no certificate check (verify = 0): the node's certificate is its own identity
verifyChain = no
verifyPeer = no
EOF
stunnel4 "$work/stunnel.conf" >"$work/stunnel.out" 2>&1 &
tunnel_pid=$!
WARD_TEST_PIDS+=("$tunnel_pid")
wait_listening "$tunnel_pid" -ltn "sport = :$tunnel_port"
if ! ss -Hltn "sport = :$tunnel_port" 2>/dev/null | grep -q .; then
  echo "# stunnel did not listen on 127.0.0.1:$tunnel_port: no SIP over TLS figures ($(tail -1 "$work/stunnel.log" 2>/dev/null))"
  exit 1
fi
# sipp's own TCP port (its Via and Contact): a free one, not 5060, which others may hold.
tls=(-t t1 -i 127.0.0.1 -p "$(free_port)" -set registrar "$sip_tls" -auth_uri "$sip_tls")
echo "# TLS, authenticated, one connection: sipp -t t1 -> stunnel (client) -> node sip_tls; node restarted with messages_per_second 0"
stages sip_register_tls "$tls_rates" "127.0.0.1:$tunnel_port" \
  -sf "$scenarios/bench_register_auth_tls_uac.xml" -inf "$inf" "${tls[@]}"
