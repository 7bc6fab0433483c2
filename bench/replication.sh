#!/usr/bin/env bash
# Replication and lockout propagation over lines (SPEC LINE-3, POL-7), one line per figure.
# For N = 2, 4, 8 expansions on loopback: a primary and N expansions enrol and hold lines
# at High; 30 service-user changes are made on the primary one after another and, for each,
# the primary's measured time from commit to each node's acknowledgement is collected.
# Lockout propagation: 3 wrong passwords on one expansion, then the time until the last
# expansion shows the account locked (polled with wardctl, so it includes wardctl's own
# start-up of ~30 ms per poll).
#   bench/replication.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
WARD_NODE=$PWD/$build/node/ward-node
WARDCTL=$PWD/$build/cli/wardctl
source tests/integration/lib.sh
ward_test_init

changes=30
# Every wardctl call (`at`, tests/integration/lib.sh) waits up to 10 s.
WARD_AT_TIMEOUT=10

run_cluster() {
  local n=$1 up version
  write_node_config primary primary
  sed -i 's/^  level: info$/  level: warn/' "$WARD_TEST_DIR/primary/node.yaml"
  start_node primary >/dev/null || return 1
  ignite_admin primary
  local line_port
  line_port=$(endpoint primary line | sed 's/.*://')
  for i in $(seq 1 "$n"); do
    write_node_config "exp$i" expansion "$line_port"
    sed -i 's/^  level: info$/  level: warn/' "$WARD_TEST_DIR/exp$i/node.yaml"
    start_node "exp$i" >/dev/null || return 1
  done
  for _ in $(seq 1 150); do
    up=$(at primary cluster status 2>/dev/null | grep -c " up  *high ")
    [ "$up" = "$n" ] && break
    sleep 0.2
  done
  samples="$WARD_TEST_DIR/samples-$n"
  : > "$samples"
  for c in $(seq 1 "$changes"); do
    at primary service-user add "bench${n}x$c" -g "Administrator Group" --setting enabled \
      <<<"Quartz-Field-Lamp-$((c + 10))" >/dev/null 2>&1
    for _ in $(seq 1 100); do
      json=$(at primary --json cluster status 2>/dev/null)
      if python3 - "$json" "$samples" <<'PY'
import json, sys
status = json.loads(sys.argv[1])
members = [m for m in status.get("members", []) if m.get("line_up")]
if not members or any(int(m["settings_version"]) < int(status["settings_version"]) for m in members):
    sys.exit(1)
with open(sys.argv[2], "a") as out:
    for m in members:
        out.write("%f\n" % float(m["replication_ms"]))
PY
      then break; fi
      sleep 0.02
    done
  done
  python3 - "$samples" "$n" <<'PY'
import sys
values = sorted(float(v) for v in open(sys.argv[1]) if v.strip())
n = sys.argv[2]
def pct(p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
print("replication_latency_n%s_samples %d" % (n, len(values)))
print("replication_latency_n%s_p50_ms %.1f" % (n, pct(50)))
print("replication_latency_n%s_p99_ms %.1f" % (n, pct(99)))
PY
}

lockout() {
  local n=$1 trials=3
  at "exp$n" login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
  for t in $(seq 1 "$trials"); do
    at primary service-user add "lockuser$t" -g "Administrator Group" --setting enabled \
      <<<"Willow-Gate-Rain-$((t + 40))" >/dev/null 2>&1
    sleep 0.5
    for a in 1 2 3; do
      WARD_SESSION_FILE="$WARD_TEST_DIR/session-bad" at exp1 \
        login -u "lockuser$t" <<<"wrong-$a" >/dev/null 2>&1
    done
    local start end locked=0
    start=$(date +%s%N)
    for _ in $(seq 1 200); do
      if at "exp$n" service-user show "lockuser$t" 2>&1 | grep -q "^status *locked"; then
        locked=1
        break
      fi
    done
    end=$(date +%s%N)
    if [ "$locked" = 1 ]; then
      echo "lockout_propagation_n${n}_trial${t}_ms $(( (end - start) / 1000000 ))"
    else
      echo "lockout_propagation_n${n}_trial${t}_ms failed: $(at "exp$n" service-user show "lockuser$t" 2>&1 | head -3 | tr '\n' ' ')"
    fi
  done
}

for n in ${WARD_BENCH_NODES:-2 4 8}; do
  run_cluster "$n"
  [ "$n" = 8 ] && lockout "$n"
  ward_test_cleanup
  WARD_TEST_PIDS=()
  ward_test_init
done
