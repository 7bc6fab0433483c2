# Helpers for integration tests that run real ward-node processes on loopback.
# Every process a test starts is recorded and stopped by PID when the test exits.

# The helper scripts python3 runs must not leave __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1

WARD_TEST_PIDS=()
# A command every wardctl call of wardctl_for and at runs under, e.g. (netns_exec driver) to
# run them inside a network namespace (netns.sh); empty: none.
WARDCTL_WRAPPER=()
WARD_TEST_FAILURES=0
WARD_TEST_PASSES=0

ward_test_cleanup() {
  for pid in "${WARD_TEST_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${WARD_TEST_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ -n "${WARD_TEST_DIR:-}" ] && [ "${WARD_KEEP_TEST_DIR:-0}" != 1 ] && rm -rf "$WARD_TEST_DIR"
}

# ward_test_init [WARD_NODE WARDCTL]: the binaries under test (a test script's arguments),
# and a test directory, removed at exit with every recorded process stopped.
# WARD_DEBUG_KEEP=1 keeps the directory and prints its path.
ward_test_init() {
  if [ $# -ge 2 ]; then WARD_NODE=$1 WARDCTL=$2; fi
  WARD_TEST_DIR=$(mktemp -d /tmp/ward-it.XXXXXX)
  trap ward_test_cleanup EXIT
  # wardctl keeps its session in $XDG_CONFIG_HOME/ward/session unless WARD_SESSION_FILE says
  # otherwise: one of the test's own, not the one every test on the machine would share.
  export XDG_CONFIG_HOME="$WARD_TEST_DIR/config"
  [ -n "${WARD_DEBUG_KEEP:-}" ] && WARD_KEEP_TEST_DIR=1 && echo "test dir $WARD_TEST_DIR"
  return 0
}

# require_sipp: exits 77 (skipped) when sipp is not installed.
require_sipp() {
  command -v sipp >/dev/null 2>&1 && return 0
  echo "SKIP: sipp is not installed (apt-get install sip-tester)"
  exit 77
}

pass() { WARD_TEST_PASSES=$((WARD_TEST_PASSES + 1)); echo "ok   - $*"; }
fail() { WARD_TEST_FAILURES=$((WARD_TEST_FAILURES + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
  local description=$1; shift
  if "$@" >/dev/null 2>&1; then pass "$description"; else fail "$description"; fi
}

# write_node_config NAME ROLE [LINE_PORT_OF_PRIMARY]: a config with every port 0.
write_node_config() {
  local name=$1 role=$2 line_to=${3:-}
  mkdir -p "$WARD_TEST_DIR/$name"
  {
    echo "node:"
    echo "  name: $name"
    echo "  role: $role"
    echo "  hostname: $name.ward.test"
    echo "  data_dir: data"
    echo "listen:"
    echo "  address: 127.0.0.1"
    echo "  status_port: 0"
    echo "  status_plain_port: 0"
    echo "  configuration_port: 0"
    echo "  configuration_plain_port: 0"
    echo "  security_port: 0"
    echo "  security_plain_port: 0"
    echo "  metrics_port: 0"
    echo "  line_port: 0"
    echo "sip:"
    echo "  udp_port: 0"
    echo "  tcp_port: 0"
    echo "  tls_port: 0"
    if [ "$role" = primary ]; then
      echo "syslog_intake:"
      echo "  tls_port: 0"
      echo "  tcp_port: 0"
      echo "  udp_port: 0"
    fi
    echo "log:"
    echo "  level: info"
    echo "cluster:"
    echo "  line_password_file: ../line.pw"
    echo "  line_security: ${WARD_LINE_SECURITY:-high}"
    [ -n "${WARD_FALLBACK_ACCOUNT:-}" ] && echo "  fallback_account: $WARD_FALLBACK_ACCOUNT"
    if [ -n "$line_to" ]; then
      echo "lines:"
      echo "  - {name: primary, address: 127.0.0.1, port: $line_to}"
    fi
  } > "$WARD_TEST_DIR/$name/node.yaml"
  if [ ! -f "$WARD_TEST_DIR/line.pw" ]; then
    (umask 077; echo "${WARD_LINE_PASSWORD:-Line-Test-Secret-2026}" > "$WARD_TEST_DIR/line.pw")
  fi
}

# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
wait_for() {
  local seconds=$1; shift
  local deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$deadline" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# free_port: a TCP port on 127.0.0.1 that nothing holds right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# free_udp_port [ADDRESS]: a UDP port free on ADDRESS (127.0.0.1) right now.
free_udp_port() {
  python3 -c 'import socket, sys; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "${1:-127.0.0.1}"
}

# start_node NAME: starts ward-node for NAME's config and waits until it wrote its
# endpoints (WARD_NODE_START_SECONDS, 10). Sets NODE_PID_<NAME>.
start_node() {
  local name=$1
  rm -f "$WARD_TEST_DIR/$name/data/run/endpoints"
  "$WARD_NODE" --config "$WARD_TEST_DIR/$name/node.yaml" >>"$WARD_TEST_DIR/$name/node.log" 2>&1 &
  local pid=$!
  WARD_TEST_PIDS+=("$pid")
  await_node "$name" "$pid" "${WARD_NODE_START_SECONDS:-10}" ""
}

# await_node NAME PID SECONDS WHERE: sets NODE_PID_<NAME> to PID, then waits up to SECONDS
# for NAME's endpoints file while PID lives; else prints "node NAME did not come up WHERE"
# and its log, and returns 1.
await_node() {
  local name=$1 pid=$2 seconds=$3 where=$4
  printf -v "NODE_PID_${name//-/_}" '%s' "$pid"
  for _ in $(seq 1 $((seconds * 10))); do
    [ -s "$WARD_TEST_DIR/$name/data/run/endpoints" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "node $name did not come up$where; its log:"; cat "$WARD_TEST_DIR/$name/node.log"
  return 1
}

# endpoint NAME SERVICE: HOST:PORT the node bound for SERVICE (admin, metrics).
endpoint() {
  sed -n "s/^$2=//p" "$WARD_TEST_DIR/$1/data/run/endpoints"
}

# wardctl_trusting NAME ANCHOR ARGS...: wardctl against NAME, trusting the certificate file
# ANCHOR; under WARDCTL_WRAPPER.
wardctl_trusting() {
  local name=$1 anchor=$2; shift 2
  "${WARDCTL_WRAPPER[@]}" "$WARDCTL" --endpoints "$WARD_TEST_DIR/$name/data/run/endpoints" \
    --ca-file "$anchor" --server-name "$name.ward.test" "$@"
}

# wardctl_for NAME ARGS...: wardctl against NAME, trusting exactly NAME's identity.
wardctl_for() {
  local name=$1; shift
  wardctl_trusting "$name" "$(trust_anchor "$name")" "$@"
}

# at NAME ARGS...: wardctl against cluster member NAME trusting the cluster CA (the primary's
# root), with NAME's own session file (or the one in WARD_SESSION_FILE) and a deadline of
# WARD_AT_TIMEOUT seconds (5).
at() {
  local name=$1; shift
  WARD_SESSION_FILE="${WARD_SESSION_FILE:-$WARD_TEST_DIR/session-$name}" wardctl_trusting "$name" \
    "$WARD_TEST_DIR/primary/data/certificates/root-ca.pem" --timeout "${WARD_AT_TIMEOUT:-5}" "$@"
}

# metric NODE NAME: NODE's value of metric NAME (with its labels, or the family's last
# series when NAME has none) from its /metrics; empty when the node has no such series.
metric() {
  curl -s --max-time 5 "http://$(endpoint "$1" metrics)/metrics" 2>/dev/null |
    awk -v name="$2" '$1 == name || index($1, name "{") == 1 { v = $2; found = 1 }
                      END { if (found) print v }'
}

# unlisted_ports NAME: the TCP and UDP ports node NAME holds open for anyone to reach (listening
# or unconnected, from ss) that its endpoints file does not name, one "proto port" a line.
# Empty when the node opens exactly what it reports; "unseen" when ss shows the node no
# socket at all (every node has its metrics port), so a blind ss cannot pass a test.
unlisted_ports() {
  local pid_var="NODE_PID_${1//-/_}" listed sockets
  listed=$(sed -n 's/^[^=]*=.*:\([0-9]*\)$/\1/p' "$WARD_TEST_DIR/$1/data/run/endpoints")
  sockets=$(ss -Hlntup 2>/dev/null | grep "pid=${!pid_var},")
  [ -n "$sockets" ] || { echo "unseen"; return; }
  awk '{ n = split($5, part, ":"); print $1, part[n] }' <<<"$sockets" |
    while read -r proto port; do grep -qx "$port" <<<"$listed" || echo "$proto $port"; done
}

# open_sockets NAME PROTO: how many PROTO (tcp, udp) sockets node NAME holds open (listening
# or unconnected).
open_sockets() {
  local pid_var="NODE_PID_${1//-/_}"
  ss -Hlntup 2>/dev/null | grep "pid=${!pid_var}," | awk -v proto="$2" '$1 == proto' | wc -l
}

# trust_anchor NAME: the certificate that vouches for NAME's identity: its CA's root on a
# node hosting the CA, else its own self-signed identity.
trust_anchor() {
  local certs="$WARD_TEST_DIR/$1/data/certificates"
  if [ -f "$certs/root-ca.pem" ]; then echo "$certs/root-ca.pem"; else echo "$certs/identity.pem"; fi
}

# stop_node NAME: SIGTERM, then waits up to 10 s. Sets STOP_CODE and STOP_MS.
stop_node() {
  local name=$1 pid_var="NODE_PID_${1//-/_}"
  local pid=${!pid_var}
  local start
  start=$(date +%s%3N)
  kill -TERM "$pid"
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  STOP_CODE=0
  wait "$pid" || STOP_CODE=$?
  STOP_MS=$(( $(date +%s%3N) - start ))
}

finish() {
  echo "$WARD_TEST_PASSES passed, $WARD_TEST_FAILURES failed"
  [ "$WARD_TEST_FAILURES" -eq 0 ]
}

# ignite NAME: changes the three first-start passwords of NAME (SPEC SEC-6) and leaves an
# Administrator session in $WARD_SESSION_FILE. Administrator: Oak-Tree-Plan-47.
ignite() {
  local name=$1 sec="$WARD_TEST_DIR/session-ignite-$1"
  wardctl_for "$name" login -u Administrator <<<"Administrator" >/dev/null 2>&1
  wardctl_for "$name" passwd <<<$'Administrator\nOak-Tree-Plan-47' >/dev/null 2>&1
  WARD_SESSION_FILE=$sec wardctl_for "$name" login -u security <<<"securitypwd" >/dev/null 2>&1
  WARD_SESSION_FILE=$sec wardctl_for "$name" passwd <<<$'securitypwd\nHarbor-Light-93' >/dev/null 2>&1
  WARD_SESSION_FILE=$sec wardctl_for "$name" login -u security <<<"Harbor-Light-93" >/dev/null 2>&1
  WARD_SESSION_FILE=$sec wardctl_for "$name" system-password <<<"Sys-Gate-Key-58" >/dev/null 2>&1
  wardctl_for "$name" login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
}

# pin_line_port NAME PORT: NAME's line listener on PORT instead of 0, so that the lines of
# the nodes written before NAME restarts still reach it.
pin_line_port() {
  sed -i "s/^  line_port: 0$/  line_port: $2/" "$WARD_TEST_DIR/$1/node.yaml"
}

# ignite_admin NAME: ignite NAME, then an Administrator session in NAME's own session file
# for `at NAME`.
ignite_admin() {
  ignite "$1"
  WARD_SESSION_FILE="$WARD_TEST_DIR/session-$1" at "$1" login -u Administrator \
    <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
}

# line_at_high NAME STATE: the primary's cluster status shows NAME's line in STATE (up,
# down) at security High.
line_at_high() { at primary cluster status | grep -q "^$1 .* $2  *high "; }

# expect_code CODE DESCRIPTION COMMAND...: the command exits with CODE; its output in $OUT.
expect_code() {
  local want=$1 description=$2; shift 2
  OUT=$("$@" 2>&1); local got=$?
  if [ "$got" = "$want" ]; then pass "$description"; else fail "$description (exit $got: $OUT)"; fi
}

# expect_output PATTERN DESCRIPTION COMMAND...: the command's output matches PATTERN.
expect_output() {
  local pattern=$1 description=$2; shift 2
  OUT=$("$@" 2>&1)
  if grep -q -- "$pattern" <<<"$OUT"; then pass "$description"; else fail "$description: $OUT"; fi
}
