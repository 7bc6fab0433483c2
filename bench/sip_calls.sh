#!/usr/bin/env bash
# Calls through the B2BUA of one primary on loopback, driven by sipp, one line per figure
# (SPEC SIP-6, SIP-2, MED-3):
#   sip_calls_per_s          calls per second that went through whole: INVITE, 407, ACK,
#                            INVITE with the caller's MD5 digest, 100/180/200 from the callee
#                            through the node, ACK, BYE, 200 (both legs, relay anchored)
#   sip_calls_failed_percent calls that failed, of those started
#   sip_calls_per_s_with_1000_short_codes  the same through a dial plan of 1,000 system
#                            short codes (SPEC TF-1), and the ratio to the plain figure
#   sip_trunk_calls_per_s    outside calls through a trunk (SPEC TF-9): 201 dials
#                            92125550100, 50:Main sends 2125550100 to a carrier that is the
#                            answering sipp; with the 1,000 short codes loaded
#   sip_trunk_calls_per_s_with_100_fraud_rules  the same with 100 fraud rules loaded
#                            (SPEC TF-10; 10 of them cover the calls, alarm only, limits
#                            never reached), and the ratio to the figure without them
# at the best of a few target rates (sipp -r R for 10 s each; the best stage is the fastest
# whose failures stay at or below 1 %, else the fastest; failures are the caller's). A
# comment line per stage gives the counts, the CPU the node, the calling sipp and the
# answering sipp used (100 % = one core; 2 cores are shared here), what the node counted
# (calls answered and ended in the stage; calls and relay sessions still open a second
# after it), the callee's own failed calls, and the datagrams the host's UDP sockets
# dropped for a full receive buffer during the stage (every process on the host).
#   bench/sip_calls.sh [BUILD_DIR]
# Environment: WARD_BENCH_RATES ("250 500 1000 1500 2000 3000 4000"),
# WARD_BENCH_STAGE_SECONDS (10), WARD_BENCH_HOLD_MS (0: BYE right after the ACK),
# WARD_BENCH_RTP_PORTS (40000-49999), WARD_BENCH_TRUNK_RATES ("1000 2000 3000": the trunk
# passes' stages). About 8 to 10 minutes.
#
# How sipp is used, and why:
# - The node challenges MD5 first (sip.digest_preferred: md5): sipp 3.6.1 computes MD5 only,
#   and answers only the first challenge (see bench/sip_register.sh).
# - The node's per-address rate limit is lifted (sip.messages_per_second: 0): the caller is
#   one sipp on one address and port (127.0.21.1) and the callee one sipp on another
#   (127.0.22.1); at 1000 calls a second that is 5000 messages a second from the caller and
#   3000 from the callee, where the guard admits 50 from one address by default (SPEC SIP-4:
#   a phone, not a trunk). The rest of the guard stays on.
# - The relay anchors every call on 4 ports of media.rtp_ports (40000-49999: 2500 calls at
#   once); with the default hold of 0 ms a call is up for a few milliseconds, so a few
#   hundred are open at once while the node keeps up. Past that, calls whose ACK or BYE is
#   late or lost stay up until the node gives up on them (32 s), and at range/4 open calls
#   it answers 503 "no media ports". No RTP is sent: signalling is what is measured.
# - Both sipp get socket buffers of net.core.rmem_max (sipp's own default is 64 KiB), so a
#   burst the phones' sockets drop is not counted as the node's failure.
# - Extensions 201 (the caller) and 202 (the callee) have phone passwords. 202 registers
#   from 127.0.22.1:PORT for an hour (bench_call_register_uac.xml), then a sipp UAS
#   (call_uas.xml, no -m, bounded by -timeout) answers on that address and port for the
#   whole bench: 180, 200 with its SDP, ACK, BYE, 200.
# - 201 calls 202 with call_uac.xml, its [authentication] keyword in the injection file
#   (../shared/TOOLCHAIN.md) and -auth_uri 202@node, so the digest uri is the INVITE's
#   Request-URI (RFC 2617 3.2.2.5); -set hold WARD_BENCH_HOLD_MS.
# - Addresses 127.0.21.1 and 127.0.22.1 keep clear of the e2e tests' 127.0.0.x phones, whose
#   sipp bind the same default media port.
# Every process is started on loopback, recorded and stopped by PID (sipp, node); every sipp
# run is bounded by -timeout (and the caller's by -m).
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/sip_lib.sh
sip_bench_setup "${1:-build}" "SIP call"

rates=${WARD_BENCH_RATES:-250 500 1000 1500 2000 3000 4000}
trunk_rates=${WARD_BENCH_TRUNK_RATES:-1000 2000 3000}
stage_seconds=${WARD_BENCH_STAGE_SECONDS:-10}
hold_ms=${WARD_BENCH_HOLD_MS:-0}
rtp_ports=${WARD_BENCH_RTP_PORTS:-40000-49999}
caller_ip=127.0.21.1
callee_ip=127.0.22.1
ticks=$(getconf CLK_TCK)
# sipp's socket buffers (its default is 64 KiB): as large as the host allows (rmem_max), so
# that datagrams the phones drop in a burst do not count as the node's failures.
buffer=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 4194304)

config="$WARD_TEST_DIR/primary/node.yaml"
write_node_config primary primary
sed -i 's/^  level: info$/  level: warn/' "$config"
sed -i 's/^sip:$/sip:\n  digest_preferred: md5\n  messages_per_second: 0/' "$config"
grep -q '^  messages_per_second: 0$' "$config" || { echo "# no sip section in $config"; exit 1; }
printf 'media:\n  rtp_ports: %s\n' "$rtp_ports" >>"$config"
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
  echo "# the node lists no sip_udp endpoint: no SIP call figures"
  exit 1
fi
work="$WARD_TEST_DIR/bench"
mkdir -p "$work"

# node_count NAME: the primary's value of metric NAME (tests/integration/lib.sh), 0 if it has none.
node_count() { metric primary "$1" | awk '{ v = $1 } END { printf "%d\n", v }'; }
# udp_drops: datagrams this host's UDP sockets dropped for a full receive buffer so far (every
# process on the host, /proc/net/snmp RcvbufErrors).
udp_drops() {
  local count
  count=$(awk '$1 == "Udp:" && !seen { for (i = 2; i <= NF; i++) col[$i] = i; seen = 1; next }
               $1 == "Udp:" { print $(col["RcvbufErrors"]) + 0; exit }' /proc/net/snmp 2>/dev/null)
  echo "${count:-0}"
}
# first_error FILE: the first event of a sipp error file, shortened.
first_error() {
  grep -v '^The following' "$1" 2>/dev/null | head -1 | cut -f3 | sed 's/^[0-9.]*: //' | cut -c1-110
}

# ---- Extensions and the callee ----------------------------------------------------------------
for n in 201 202; do
  if ! ctl extension add "$n" --phone-password-stdin <<<"83${n}61" >/dev/null 2>&1; then
    echo "# extension $n could not be created: no SIP call figures"
    exit 1
  fi
done

callee_port=$(free_udp_port "$callee_ip")
printf 'SEQUENTIAL\n202;[authentication username=202 password=8320261]\n' >"$work/register.csv"
sipp "$sip" -sf "$scenarios/bench_call_register_uac.xml" -inf "$work/register.csv" \
  -i "$callee_ip" -p "$callee_port" -m 1 -recv_timeout 3000 -timeout 15 -timeout_error -nostdin \
  -trace_err -error_file "$work/register.err" >"$work/register.out" 2>&1 &
register_pid=$!
WARD_TEST_PIDS+=("$register_pid")
register_code=0
wait "$register_pid" || register_code=$?
if [ "$register_code" != 0 ]; then
  echo "# 202 could not register (sipp exit $register_code: $(first_error "$work/register.err")): no SIP call figures"
  exit 1
fi

# The callee answers every call for the whole bench: every stage's budget (two passes: plain,
# then through 1,000 short codes; then two through a trunk), the codes' and rules' loading and
# a minute more.
budget=240
for rate in $rates; do budget=$((budget + 2 * (stage_seconds + 40))); done
for rate in $trunk_rates; do budget=$((budget + 2 * (stage_seconds + 40))); done
budget=$((budget + 3 * 125)) # the relay drained before each later pass
sipp "$sip" -sf "$scenarios/call_uas.xml" -i "$callee_ip" -mi "$callee_ip" -p "$callee_port" \
  -buff_size "$buffer" -recv_timeout 10000 -timeout $((budget + 60)) -nostdin -trace_err -error_file "$work/callee.err" \
  -trace_stat -stf "$work/callee.stat" -fd 1 >"$work/callee.out" 2>&1 &
callee_pid=$!
WARD_TEST_PIDS+=("$callee_pid")
wait_listening "$callee_pid" -lun "src $callee_ip:$callee_port"
if ! kill -0 "$callee_pid" 2>/dev/null; then
  echo "# the callee's sipp did not start ($(head -c 200 "$work/callee.out")): no SIP call figures"
  exit 1
fi
printf 'SEQUENTIAL\n201;[authentication username=201 password=8320161];202\n' >"$work/caller.csv"
echo "# 201 calls 202 (registered from $callee_ip:$callee_port, answered by sipp call_uas.xml): INVITE, 407, ACK, INVITE with MD5 digest, 180, 200, ACK, hold ${hold_ms} ms, BYE, 200; relay ports $rtp_ports"

# drain_relay: waits 35 s, then (up to 90 s more) until the relay holds at most a few
# sessions. The B2BUA keeps ended calls 32 s for retransmissions, and calls an overloaded stage
# left half set up hold their relay ports until the node gives up on them: a pass started
# sooner would measure the last pass's leftovers, not its own calls.
drain_relay() {
  sleep 35
  local waited=35
  while [ "$(node_count ward_media_relay_sessions)" -gt 20 ] && [ "$waited" -lt 125 ]; do
    sleep 1
    waited=$((waited + 1))
  done
  echo "# relay drained to $(node_count ward_media_relay_sessions) sessions in ${waited} s"
}

# ---- Stages ----------------------------------------------------------------------------------
# run_stages LABEL CSV DIALLED: one stage per rate, the caller's injection file CSV dialling
# DIALLED; the best rate in BEST_RATE and its failures in BEST_FAILED.
run_stages() {
local label=$1 csv=$2 dialled=$3
local best_rate=-1 best_failed=100 any_rate=0 any_failed=100
for rate in ${STAGE_RATES:-$rates}; do
  calls=$((rate * stage_seconds))
  name="$label-$rate"
  read -r _ callee_failed_before _ < <(sipp_stat_row "$work/callee.stat")
  callee_failed_before=${callee_failed_before:-0}
  answered_before=$(node_count ward_calls_answered_total)
  node_before=$(cpu_ticks "$NODE_PID_primary")
  callee_before=$(cpu_ticks "$callee_pid")
  drops_before=$(udp_drops)
  start=$(date +%s%N)
  sipp "$sip" -sf "$scenarios/call_uac.xml" -inf "$csv" -i "$caller_ip" -mi "$caller_ip" \
    -set hold "$hold_ms" -auth_uri "$dialled@$sip" -r "$rate" -rp 1000 -m "$calls" -l 5000 -buff_size "$buffer" \
    -recv_timeout 5000 -timeout $((calls / rate + 30)) -timeout_error -nostdin \
    -trace_err -error_file "$work/$name.err" -trace_stat -stf "$work/$name.stat" -fd 1 \
    >"$work/$name.out" 2>&1 &
  caller_pid=$!
  WARD_TEST_PIDS+=("$caller_pid")
  wait_sampled "$caller_pid"
  caller_ticks=$SAMPLED_TICKS caller_code=$SAMPLED_CODE
  wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  node_cpu=$(( ($(cpu_ticks "$NODE_PID_primary") - node_before) * 1000 * 100 / ticks / (wall_ms + 1) ))
  callee_cpu=$(( ($(cpu_ticks "$callee_pid") - callee_before) * 1000 * 100 / ticks / (wall_ms + 1) ))
  caller_cpu=$(( caller_ticks * 1000 * 100 / ticks / (wall_ms + 1) ))

  read -r ok failed elapsed < <(sipp_stat_row "$work/$name.stat")
  ok=${ok:-0} failed=${failed:-0} elapsed=${elapsed:-0}
  # The node's and the callee's view: calls the node saw answered and ended in the stage, and
  # the callee's failed calls (its statistics file is written every second).
  sleep 1.2
  answered=$(( $(node_count ward_calls_answered_total) - answered_before ))
  drops=$(( $(udp_drops) - drops_before ))
  read -r _ callee_failed _ < <(sipp_stat_row "$work/callee.stat")
  callee_failed=$(( ${callee_failed:-0} - callee_failed_before ))
  per_s=$(awk -v ok="$ok" -v e="$elapsed" 'BEGIN { printf "%d", (e > 0) ? ok / e : 0 }')
  failed_pct=$(awk -v ok="$ok" -v c="$calls" 'BEGIN { printf "%.2f", (c - ok) * 100 / c }')
  note=""
  if [ "$ok" != "$calls" ] && [ -s "$work/$name.err" ]; then
    note="; first error: $(first_error "$work/$name.err")"
  fi
  echo "# $label stage: target ${rate}/s, ${calls} calls: ${ok} ok, ${failed} failed in ${elapsed} s -> ${per_s}/s; node cpu ${node_cpu} %, caller sipp cpu ${caller_cpu} %, callee sipp cpu ${callee_cpu} %; node: ${answered} answered, $(node_count ward_calls_active) active, $(node_count ward_media_relay_sessions) relay sessions open; callee: ${callee_failed} failed; host UDP receive-buffer drops ${drops} (sipp exit ${caller_code}${note})"
  if awk -v f="$failed_pct" 'BEGIN { exit !(f <= 1) }' && [ "$per_s" -gt "$best_rate" ]; then
    best_rate=$per_s best_failed=$failed_pct
  fi
  if [ "$per_s" -gt "$any_rate" ]; then any_rate=$per_s any_failed=$failed_pct; fi
  if ! kill -0 "$callee_pid" 2>/dev/null; then
    echo "# the callee's sipp ended ($(first_error "$work/callee.err")): no further stages"
    break
  fi
done
if [ "$best_rate" -lt 0 ]; then best_rate=$any_rate best_failed=$any_failed; fi
BEST_RATE=$best_rate BEST_FAILED=$best_failed
}

run_stages calls "$work/caller.csv" 202
echo "sip_calls_per_s $BEST_RATE"
echo "sip_calls_failed_percent $BEST_FAILED"
plain_rate=$BEST_RATE

# ---- The same calls through a dial plan of 1,000 system short codes (SPEC TF-1) -------------
# 201 dials 7202, which one of the codes 7000..7999 turns into 202: every INVITE is matched
# against all 1,000 (the compiled plan is cached; the directory is the node's own).
load_start=$(date +%s%N)
for code in $(seq 7000 7999); do
  if ! ctl short-code set system "$code" dial 202 >/dev/null 2>&1; then
    echo "# short code $code could not be set: no dial plan figures"
    exit 0
  fi
done
echo "# 1000 system short codes set with wardctl in $(( ($(date +%s%N) - load_start) / 1000000 )) ms"
printf 'SEQUENTIAL\n201;[authentication username=201 password=8320161];7202\n' >"$work/caller-codes.csv"
drain_relay
run_stages codes "$work/caller-codes.csv" 7202
echo "sip_calls_per_s_with_1000_short_codes $BEST_RATE"
echo "sip_calls_with_1000_short_codes_failed_percent $BEST_FAILED"
awk -v a="$BEST_RATE" -v b="$plain_rate" 'BEGIN { printf "sip_calls_short_codes_to_plain_ratio %.2f\n", (b > 0) ? a / b : 0 }'

# ---- Outside calls through a trunk, without and with 100 fraud rules (SPEC TF-9, TF-10) -------
# The answering sipp is also the carrier: the trunk's address and port are its own. 201 needs
# a user (an extension without one reaches no outside number, SPEC TF-7).
if ! ctl user add alice --extension 201 >/dev/null 2>&1 ||
  ! ctl trunk set carrier --address "$callee_ip" --port "$callee_port" --transport udp \
    --channels 10000 >/dev/null 2>&1 ||
  ! ctl ars set 50 Main --trunk carrier >/dev/null 2>&1 ||
  ! ctl short-code set ars:50 'N;' dial N >/dev/null 2>&1 ||
  ! ctl short-code set system 9N dial N --route 50:Main >/dev/null 2>&1; then
  echo "# the trunk could not be configured: no trunk figures"
  exit 0
fi
printf 'SEQUENTIAL\n201;[authentication username=201 password=8320161];92125550100\n' >"$work/caller-trunk.csv"
drain_relay
STAGE_RATES=$trunk_rates run_stages trunk "$work/caller-trunk.csv" 92125550100
echo "sip_trunk_calls_per_s $BEST_RATE"
echo "sip_trunk_calls_failed_percent $BEST_FAILED"
trunk_rate=$BEST_RATE

# 100 rules as a site might write them: most watch international and premium prefixes these
# calls never dial; 10 cover them (prefix 212) with limits never reached, so every call is
# counted by 10 rules and matched against all 100, and no action changes the calls.
measures=(calls_per_minute calls_per_hour concurrent_calls call_seconds daily_minutes)
prefixes=(011 1900 1976 00 44 33 49 881 882 870 1809 1876 1473 1268 1664 1649 1284 1767)
load_start=$(date +%s%N)
for i in $(seq 0 99); do
  measure=${measures[$((i % 5))]}
  if [ "$i" -lt 10 ]; then prefix=212; else prefix=${prefixes[$((i % ${#prefixes[@]}))]}; fi
  case $measure in
    call_seconds) limit=86400 ;;
    daily_minutes) limit=144000 ;;
    *) limit=100000 ;;
  esac
  if ! ctl fraud-rule set "rule-$i" every_user "$measure" --prefix "$prefix" --critical "$limit" \
    >/dev/null 2>&1; then
    echo "# fraud rule $i could not be set: no fraud rule figures"
    exit 0
  fi
done
echo "# 100 fraud rules set with wardctl in $(( ($(date +%s%N) - load_start) / 1000000 )) ms; ward_fraud_rules $(node_count ward_fraud_rules)"
drain_relay
STAGE_RATES=$trunk_rates run_stages fraud "$work/caller-trunk.csv" 92125550100
echo "sip_trunk_calls_per_s_with_100_fraud_rules $BEST_RATE"
echo "sip_trunk_calls_with_100_fraud_rules_failed_percent $BEST_FAILED"
echo "# fraud levels reached in the bench: $(( $(node_count 'ward_fraud_trips_total{level="critical",action="alarm"}') )) (expected 0)"
awk -v a="$BEST_RATE" -v b="$trunk_rate" 'BEGIN { printf "sip_trunk_calls_fraud_rules_to_plain_ratio %.2f\n", (b > 0) ? a / b : 0 }'
