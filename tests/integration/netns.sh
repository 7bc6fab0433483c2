# Network-namespace harness for multi-host integration tests (bash library; source it).
#
# Every "host" of a test, the test driver included, is a network namespace joined to a
# private Linux bridge that lives in a namespace of its own. Nothing is created in the
# root namespace and the root namespace has no route to these addresses: never talk to a
# namespace's address from the root namespace (the traffic would leave the machine); run
# the client inside a namespace with netns_exec instead.
#
#   netns_available || { echo "SKIP: $NETNS_UNAVAILABLE_REASON"; exit 77; }
#   netns_setup "wn$$-" driver primary      # after lib.sh's ward_test_init (see below)
#   netns_spawn primary "$dir/pid" some-server --listen "$NETNS_ADDR_primary" >log 2>&1
#   netns_exec driver some-client "$NETNS_ADDR_primary"
#   netns_cut driver primary; ...; netns_heal driver primary
#
# Names: NAME is the short name given to netns_setup (a-z, 0-9, '_', '-'; "br" is taken by
# the bridge); the namespace is "${PREFIX}NAME". Addresses: 10.231.X.(10+i)/24 for the
# i-th name (i from 1), X = $$ % 200 + 20 unless NETNS_SUBNET_OCTET is set beforehand.
# Every run has its own bridge, so two runs never share a link even if X collides.
#
# Cleanup: netns_setup chains netns_cleanup in front of the EXIT trap that is already set
# (lib.sh's ward_test_cleanup), so call ward_test_init BEFORE netns_setup; a later
# `trap ... EXIT` would drop the namespace teardown. INT, TERM and HUP are turned into
# exits (when not trapped already) so the teardown also runs on Ctrl-C or a kill.
# Only SIGKILL leaves namespaces behind; netns_reap_stale removes those of dead runs.

NETNS_PREFIX=""
NETNS_SUBNET=""
NETNS_BRIDGE_NS=""
NETNS_NAMES=()
NETNS_NAMESPACES=()
NETNS_BRIDGE_LINKS=()
NETNS_PIDS=()
NETNS_IPTABLES=${NETNS_IPTABLES:-}
NETNS_UNAVAILABLE_REASON=""
NETNS_PREVIOUS_EXIT_TRAP=""

# netns__fail MESSAGE: prints MESSAGE on stderr and returns 1 (internal).
netns__fail() { echo "netns: $*" >&2; return 1; }

# netns__var NAME: NAME made fit for a variable name ('-' becomes '_') (internal).
netns__var() { local v=${1//-/_}; echo "$v"; }

# netns_ns NAME: the full namespace name of NAME ("${PREFIX}NAME").
netns_ns() { echo "${NETNS_PREFIX}$1"; }

# netns_addr NAME: the IPv4 address of NAME (the value of NETNS_ADDR_<NAME>).
netns_addr() {
  local var
  var="NETNS_ADDR_$(netns__var "$1")"
  [ -n "${!var:-}" ] || { netns__fail "no namespace '$1' in this run"; return 1; }
  echo "${!var}"
}

# netns__pick_iptables PROBE_NS: sets NETNS_IPTABLES to the first iptables command that
# can add and delete a rule inside PROBE_NS: $NETNS_IPTABLES, iptables, iptables-nft,
# iptables-legacy (internal).
netns__pick_iptables() {
  local probe=$1 c
  for c in ${NETNS_IPTABLES:-} iptables iptables-nft iptables-legacy; do
    command -v "$c" >/dev/null 2>&1 || continue
    if ip netns exec "$probe" "$c" -w 5 -A OUTPUT -d 10.231.255.254 -j DROP >/dev/null 2>&1 &&
       ip netns exec "$probe" "$c" -w 5 -D OUTPUT -d 10.231.255.254 -j DROP >/dev/null 2>&1; then
      NETNS_IPTABLES=$c
      return 0
    fi
  done
  return 1
}

# netns_iptables_backend: "nf_tables" or "legacy", the backend of $NETNS_IPTABLES.
netns_iptables_backend() {
  local v
  v=$("${NETNS_IPTABLES:-iptables}" --version 2>/dev/null)
  case $v in *nf_tables*) echo nf_tables ;; *legacy*) echo legacy ;; *) echo "unknown ($v)" ;; esac
}

# netns_available: 0 if this machine can run the harness (root, `ip`, namespaces, bridge,
# veth, a working iptables inside a namespace); else 1 with the reason in
# NETNS_UNAVAILABLE_REASON. Probes with a throwaway namespace that it deletes again.
netns_available() {
  NETNS_UNAVAILABLE_REASON=""
  if [ "$(id -u)" != 0 ]; then NETNS_UNAVAILABLE_REASON="not root"; return 1; fi
  if ! command -v ip >/dev/null 2>&1; then
    NETNS_UNAVAILABLE_REASON="no 'ip' command (install iproute2)"; return 1
  fi
  if ! command -v iptables >/dev/null 2>&1 && ! command -v iptables-nft >/dev/null 2>&1 &&
     ! command -v iptables-legacy >/dev/null 2>&1; then
    NETNS_UNAVAILABLE_REASON="no iptables command (install iptables)"; return 1
  fi
  local probe="wnprobe$$-${RANDOM}" ok=1
  if ! ip netns add "$probe" >/dev/null 2>&1; then
    NETNS_UNAVAILABLE_REASON="cannot create a network namespace"; return 1
  fi
  if ! ip -n "$probe" link add b0 type bridge >/dev/null 2>&1; then
    NETNS_UNAVAILABLE_REASON="cannot create a bridge in a namespace"; ok=0
  elif ! ip -n "$probe" link add v0 type veth peer name v1 >/dev/null 2>&1; then
    NETNS_UNAVAILABLE_REASON="cannot create a veth pair in a namespace"; ok=0
  elif ! netns__pick_iptables "$probe"; then
    NETNS_UNAVAILABLE_REASON="iptables does not work inside a namespace"; ok=0
  fi
  ip netns del "$probe" >/dev/null 2>&1
  [ "$ok" = 1 ]
}

# netns__grab_trap -- TEXT SIGNAL: keeps TEXT, the words of `trap -p` re-parsed (internal).
netns__grab_trap() { NETNS_PREVIOUS_EXIT_TRAP=$2; }

# netns__install_trap: runs netns_cleanup first on EXIT, then the EXIT trap that was set
# before; turns untrapped INT/TERM/HUP into exits so that the EXIT trap runs (internal).
netns__install_trap() {
  local prev
  prev=$(trap -p EXIT)
  NETNS_PREVIOUS_EXIT_TRAP=""
  [ -n "$prev" ] && eval "netns__grab_trap ${prev#trap }"
  case $NETNS_PREVIOUS_EXIT_TRAP in
    netns_cleanup*) ;;  # already installed
    *) # shellcheck disable=SC2064  # the previous trap's text is to be expanded now
       trap "netns_cleanup; ${NETNS_PREVIOUS_EXIT_TRAP:-:}" EXIT ;;
  esac
  [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
  [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
  [ -n "$(trap -p HUP)" ] || trap 'exit 129' HUP
}

# netns_require: exits 77 (skipped), saying why, when network namespaces are unavailable.
netns_require() {
  netns_available && return 0
  echo "SKIP: network namespaces unavailable: $NETNS_UNAVAILABLE_REASON"
  echo "0 passed, 0 failed, 1 skipped"
  exit 77
}

# netns_setup PREFIX NAMES...: creates namespace "${PREFIX}br" holding bridge br0, and
# per NAME a namespace "${PREFIX}NAME" whose eth0 is a veth joined to br0 with address
# 10.231.X.(10+i)/24 (i-th NAME, from 1), loopback up; exports NETNS_ADDR_<NAME> and
# records everything for netns_cleanup (installed on EXIT before anything is created).
netns_setup() {
  local prefix=$1; shift
  [ -z "$NETNS_PREFIX" ] || { netns__fail "netns_setup already ran ($NETNS_PREFIX)"; return 1; }
  [ -n "$prefix" ] && [ "$#" -ge 1 ] || { netns__fail "usage: netns_setup PREFIX NAMES..."; return 1; }
  [ "$#" -le 200 ] || { netns__fail "at most 200 names"; return 1; }
  local name
  for name in "$@"; do
    [[ $name =~ ^[a-z0-9][a-z0-9_-]*$ ]] || { netns__fail "bad name '$name'"; return 1; }
    [ "$name" != br ] || { netns__fail "'br' is the bridge namespace's name"; return 1; }
  done
  if [ -z "$NETNS_IPTABLES" ]; then
    netns_available || { netns__fail "unavailable: $NETNS_UNAVAILABLE_REASON"; return 1; }
  fi
  NETNS_PREFIX=$prefix
  NETNS_SUBNET="10.231.${NETNS_SUBNET_OCTET:-$(( $$ % 200 + 20 ))}"
  NETNS_BRIDGE_NS="${prefix}br"
  netns__install_trap

  ip netns add "$NETNS_BRIDGE_NS" || { netns__fail "cannot create $NETNS_BRIDGE_NS"; return 1; }
  NETNS_NAMESPACES+=("$NETNS_BRIDGE_NS")
  ip -n "$NETNS_BRIDGE_NS" link set lo up &&
    ip -n "$NETNS_BRIDGE_NS" link add br0 type bridge &&
    NETNS_BRIDGE_LINKS+=(br0) &&
    ip -n "$NETNS_BRIDGE_NS" link set br0 up || { netns__fail "cannot create the bridge"; return 1; }
  # Bridged frames must not go through the bridge namespace's iptables (br_netfilter).
  ip netns exec "$NETNS_BRIDGE_NS" sh -c \
    'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -w "$f" ] && echo 0 > "$f"; done' \
    2>/dev/null || true

  local i=0 ns addr
  for name in "$@"; do
    i=$((i + 1))
    ns="${prefix}${name}"
    addr="${NETNS_SUBNET}.$((10 + i))"
    ip netns add "$ns" || { netns__fail "cannot create $ns"; return 1; }
    NETNS_NAMESPACES+=("$ns")
    NETNS_NAMES+=("$name")
    # The veth is born in the bridge namespace with its peer in $ns: it never exists in
    # the root namespace, so its names (v<i>, eth0) cannot clash with anything there.
    ip -n "$NETNS_BRIDGE_NS" link add "v$i" type veth peer name eth0 netns "$ns" &&
      NETNS_BRIDGE_LINKS+=("v$i") &&
      ip -n "$NETNS_BRIDGE_NS" link set "v$i" master br0 up &&
      ip -n "$ns" link set lo up &&
      ip -n "$ns" addr add "$addr/24" dev eth0 &&
      ip -n "$ns" link set eth0 up || { netns__fail "cannot wire $ns"; return 1; }
    export "NETNS_ADDR_$(netns__var "$name")=$addr"
  done
  # Bounded wait until every eth0 is up (carrier from the bridge side).
  local tries
  for name in "$@"; do
    for tries in $(seq 1 50); do
      ip -n "${prefix}${name}" -o link show eth0 2>/dev/null | grep -q 'state UP' && break
      [ "$tries" = 50 ] && { netns__fail "eth0 of $name did not come up"; return 1; }
      sleep 0.1
    done
  done
}

# netns_exec NAME CMD...: runs CMD (a program, not a shell function) inside namespace NAME.
netns_exec() {
  local name=$1; shift
  ip netns exec "$(netns_ns "$name")" "$@"
}

# netns_spawn NAME PIDFILE CMD...: starts CMD in the background inside NAME and writes its
# PID to PIDFILE (and records it for cleanup). `ip netns exec` does setns() and then
# execs CMD without forking, so $! is CMD itself; this is checked (bounded, 2 s).
# Redirect the call (netns_spawn ... >log 2>&1); do not call it inside $(...).
netns_spawn() {
  local name=$1 pidfile=$2; shift 2
  local ns ip_exe pid exe
  ns=$(netns_ns "$name")
  [ -e "/run/netns/$ns" ] || { netns__fail "no namespace $ns"; return 1; }
  ip netns exec "$ns" "$@" &
  pid=$!
  NETNS_PIDS+=("$pid")
  echo "$pid" > "$pidfile"
  ip_exe=$(readlink -f "$(command -v ip)")
  for _ in $(seq 1 40); do
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0  # already gone: caller sees it
    [ "$exe" != "$ip_exe" ] && return 0
    sleep 0.05
  done
  netns__fail "PID $pid is still 'ip netns exec' after 2 s: $*"
}

# netns_stop PIDFILE [SECONDS]: SIGTERM to the PID in PIDFILE, SIGKILL after SECONDS
# (default 10); sets NETNS_STOP_CODE to its exit code when it is a child of this shell.
netns_stop() {
  local pid limit=${2:-10}
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((limit * 20))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  NETNS_STOP_CODE=0
  wait "$pid" 2>/dev/null || NETNS_STOP_CODE=$?
}

# netns__rule NAME CHAIN ADDR-FLAG ADDR ACTION: -C/-I/-D one DROP rule in NAME (internal).
netns__rule() {
  ip netns exec "$(netns_ns "$1")" "$NETNS_IPTABLES" -w 5 "$5" "$2" "$3" "$4" -j DROP
}

# netns_cut A B: partitions A from B: DROP rules inside A for everything from B (INPUT)
# and to B (OUTPUT). Other pairs still talk. Idempotent. New connections from A to B fail
# at once (connect: EPERM); B's packets to A vanish (B sees timeouts).
netns_cut() {
  local peer
  peer=$(netns_addr "$2") || return 1
  [ -e "/run/netns/$(netns_ns "$1")" ] || { netns__fail "no namespace $1"; return 1; }
  netns__rule "$1" INPUT -s "$peer" -C 2>/dev/null || netns__rule "$1" INPUT -s "$peer" -I || return 1
  netns__rule "$1" OUTPUT -d "$peer" -C 2>/dev/null || netns__rule "$1" OUTPUT -d "$peer" -I || return 1
}

# netns_heal A B: removes the rules of netns_cut A B (every copy). Idempotent.
netns_heal() {
  local peer
  peer=$(netns_addr "$2") || return 1
  while netns__rule "$1" INPUT -s "$peer" -C 2>/dev/null; do netns__rule "$1" INPUT -s "$peer" -D || return 1; done
  while netns__rule "$1" OUTPUT -d "$peer" -C 2>/dev/null; do netns__rule "$1" OUTPUT -d "$peer" -D || return 1; done
}

# netns_cleanup: idempotent teardown: SIGTERM then (after 5 s) SIGKILL to every spawned
# PID and to any process still inside one of this run's namespaces (`ip netns pids`),
# then deletes the veths and the bridge, then every namespace of this run.
netns_cleanup() {
  local pid ns link
  local -a pids=("${NETNS_PIDS[@]}")
  for ns in "${NETNS_NAMESPACES[@]}"; do
    [ -e "/run/netns/$ns" ] || continue
    local -a inside=()
    read -r -d '' -a inside < <(ip netns pids "$ns" 2>/dev/null)
    pids+=("${inside[@]}")
  done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  NETNS_PIDS=()
  if [ -n "$NETNS_BRIDGE_NS" ] && [ -e "/run/netns/$NETNS_BRIDGE_NS" ]; then
    for link in "${NETNS_BRIDGE_LINKS[@]}"; do
      ip -n "$NETNS_BRIDGE_NS" link del "$link" 2>/dev/null || true
    done
  fi
  NETNS_BRIDGE_LINKS=()
  for ns in "${NETNS_NAMESPACES[@]}"; do
    [ -e "/run/netns/$ns" ] && { ip netns del "$ns" 2>/dev/null || netns__fail "cannot delete $ns"; }
  done
  NETNS_NAMESPACES=()
  return 0
}

# netns_reap_stale: deletes namespaces named wn<PID>-* (and kills what runs in them) whose
# run <PID> is no longer alive: the leftovers of a run killed with SIGKILL. Not automatic.
netns_reap_stale() {
  local ns run pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns =~ ^wn([0-9]+)- ]] || continue
    run=${BASH_REMATCH[1]}
    kill -0 "$run" 2>/dev/null && continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null && echo "netns: reaped stale $ns" >&2
  done
}

# --- Ward helpers: need lib.sh (WARD_TEST_DIR, WARD_NODE, WARDCTL, write_node_config). ---

# netns_start_node NS NAME: starts ward-node for $WARD_TEST_DIR/NAME/node.yaml (from
# write_node_config) inside namespace NS, every listener on NS's address (through
# WARD_LISTEN_ADDRESS, overriding the 127.0.0.1 of write_node_config); waits at most 15 s
# for its endpoints file. Sets NODE_PID_<NAME> (so lib.sh's stop_node works); PID also in
# $WARD_TEST_DIR/NAME/pid. Note: a `lines:` entry of write_node_config still says 127.0.0.1.
netns_start_node() {
  local ns=$1 name=$2 addr pid
  addr=$(netns_addr "$ns") || return 1
  rm -f "$WARD_TEST_DIR/$name/data/run/endpoints"
  netns_spawn "$ns" "$WARD_TEST_DIR/$name/pid" env WARD_LISTEN_ADDRESS="$addr" \
    "$WARD_NODE" --config "$WARD_TEST_DIR/$name/node.yaml" >>"$WARD_TEST_DIR/$name/node.log" 2>&1
  pid=$(cat "$WARD_TEST_DIR/$name/pid")
  await_node "$name" "$pid" 15 " in namespace $ns"
}

# netns_wardctl NS NAME ARGS...: lib.sh's wardctl_for run from inside namespace NS:
# wardctl against node NAME's endpoints, trusting exactly NAME's identity.
netns_wardctl() {
  local ns=$1; shift
  local WARDCTL_WRAPPER=(netns_exec "$ns")
  wardctl_for "$@"
}
