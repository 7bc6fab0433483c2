#!/usr/bin/env bash
# The network-namespace harness (netns.sh) end to end: a real primary in namespace
# "primary", wardctl in namespace "driver", a partition between them and its healing, and
# a teardown that leaves no namespace, link or process behind. Needs root, iproute2 and
# iptables; without them it says why and exits 77 (skipped).
# Usage: bash netns_harness_test.sh WARD_NODE WARDCTL
set -u
here=$(dirname "$0")
source "$here/lib.sh"
source "$here/netns.sh"

netns_require
echo "# iptables: $NETNS_IPTABLES ($(netns_iptables_backend))"

ward_test_init "$@"                 # first: netns_setup chains its teardown before this trap
prefix="wn$$-"
netns_setup "$prefix" driver primary expansion || exit 1
echo "# namespaces ${prefix}{br,driver,primary,expansion} on $NETNS_SUBNET.0/24"

check "each host has its own address on the private subnet" \
  test "$NETNS_ADDR_driver,$NETNS_ADDR_primary,$NETNS_ADDR_expansion" = \
       "$NETNS_SUBNET.11,$NETNS_SUBNET.12,$NETNS_SUBNET.13"
if ip -o addr show | grep -q " $NETNS_SUBNET\."; then
  fail "the root namespace has no address on the test subnet"
else
  pass "the root namespace has no address on the test subnet"
fi

write_node_config primary primary
netns_start_node primary primary || exit 1

# The PID recorded is the node itself (ip netns exec execs), living in the primary's namespace.
pid=$(cat "$WARD_TEST_DIR/primary/pid")
{ [ "$(readlink -f "/proc/$pid/exe")" = "$(readlink -f "$WARD_NODE")" ] &&
  [ "$(readlink "/proc/$pid/ns/net")" = "net:[$(stat -L -c %i "/run/netns/${prefix}primary")]" ]; } \
  && pass "netns_spawn records the node's own PID, inside its namespace" \
  || fail "netns_spawn records the node's own PID, inside its namespace (pid $pid: $(readlink "/proc/$pid/exe"))"

status_endpoint=$(endpoint primary status)
[[ $status_endpoint == "$NETNS_ADDR_primary:"* ]] \
  && pass "the primary listens on its namespace address ($status_endpoint)" \
  || fail "the primary listens on its namespace address ($status_endpoint)"

# status_from NS: wardctl status against the primary from NS; bounded by wardctl's own
# deadline (3 s) and by timeout(1) (15 s). Sets STATUS_MS.
status_from() {
  local start code
  start=$(date +%s%3N)
  OUT=$(timeout 15 ip netns exec "$(netns_ns "$1")" "$WARDCTL" \
    --endpoints "$WARD_TEST_DIR/primary/data/run/endpoints" --ca-file "$(trust_anchor primary)" \
    --server-name primary.ward.test --timeout 3 status 2>&1)
  code=$?
  STATUS_MS=$(( $(date +%s%3N) - start ))
  return $code
}

if status_from driver && grep -q '^role  *primary$' <<<"$OUT"; then
  pass "driver reaches the primary: wardctl status over TLS says role primary (${STATUS_MS} ms)"
else
  fail "driver reaches the primary: wardctl status over TLS says role primary: $OUT"
fi

netns_cut driver primary
if status_from driver; then
  fail "after netns_cut driver primary, wardctl status from the driver fails: $OUT"
else
  [ "$STATUS_MS" -lt 15000 ] \
    && pass "after netns_cut driver primary, wardctl status from the driver fails (${STATUS_MS} ms)" \
    || fail "after netns_cut driver primary, wardctl status from the driver fails within 15 s (${STATUS_MS} ms)"
fi
status_from expansion && grep -q '^role  *primary$' <<<"$OUT" \
  && pass "the cut leaves the others alone: expansion still reaches the primary" \
  || fail "the cut leaves the others alone: expansion still reaches the primary: $OUT"

netns_heal driver primary
healed=0
for _ in 1 2 3; do status_from driver && { healed=1; break; }; sleep 1; done
[ "$healed" = 1 ] && grep -q '^role  *primary$' <<<"$OUT" \
  && pass "after netns_heal, the driver reaches the primary again (${STATUS_MS} ms)" \
  || fail "after netns_heal, the driver reaches the primary again: $OUT"
check "netns_heal removed every DROP rule" \
  test -z "$(netns_exec driver "$NETNS_IPTABLES" -S | grep -- '-j DROP')"

# Teardown, checked here rather than trusted; the EXIT trap runs it again (idempotent).
netns_cleanup
kill -0 "$pid" 2>/dev/null \
  && fail "netns_cleanup stops the node it spawned" || pass "netns_cleanup stops the node it spawned"
left=$(ip netns list | awk '{print $1}' | grep "^$prefix")
[ -z "$left" ] && pass "netns_cleanup removes every namespace of the run" \
  || fail "netns_cleanup removes every namespace of the run: $left"
netns_cleanup && pass "netns_cleanup is idempotent" || fail "netns_cleanup is idempotent"

finish
