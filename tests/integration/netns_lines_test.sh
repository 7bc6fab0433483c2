#!/usr/bin/env bash
# A line across a real network: the primary, an expansion and the test driver each in a
# network namespace of their own on a private subnet (nothing is addressed from the root
# namespace). The link between expansion and primary is cut with iptables inside the
# expansion's namespace: both ends declare the line down, the primary keeps writing, and
# after the link heals the line returns by itself and the expansion catches up (SPEC LINE-1,
# LINE-3, LINE-4).
# Usage: bash netns_lines_test.sh WARD_NODE WARDCTL
set -u
here=$(dirname "$0")
source "$here/lib.sh"
source "$here/netns.sh"

netns_require

ward_test_init "$@"                 # first: netns_setup chains its teardown before this trap
prefix="wl$$-"
netns_setup "$prefix" driver primary exp1 || exit 1
primary_addr=$NETNS_ADDR_primary
line_port=17444

# Every wardctl call runs in the driver's namespace.
WARDCTL_WRAPPER=(netns_exec driver)

write_node_config primary primary
pin_line_port primary "$line_port"
netns_start_node primary primary || exit 1
ignite_admin primary

write_node_config exp1 expansion "$line_port"
sed -i "s/address: 127.0.0.1, port: $line_port/address: $primary_addr, port: $line_port/" \
  "$WARD_TEST_DIR/exp1/node.yaml"
netns_start_node exp1 exp1 || exit 1

wait_for 20 line_at_high exp1 up \
  && pass "LINE-1 the expansion in its own namespace enrolled and holds its line at High" \
  || fail "LINE-1 the expansion in its own namespace enrolled and holds its line at High: $(at primary cluster status 2>&1)"
at exp1 login -u Administrator <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
expect_code 0 "LINE-3 the expansion authenticates with the replicated settings" \
  at exp1 service-user list

netns_cut exp1 primary
cut_at=$(date +%s)
wait_for 15 line_at_high exp1 down \
  && pass "LINE-4 with the link cut the primary declares the line down ($(( $(date +%s) - cut_at )) s)" \
  || fail "LINE-4 with the link cut the primary declares the line down"
expect_output "line_down" "LINE-4 the primary raised a line-down alarm" \
  at primary audit list --kind alarm --limit 20
expect_code 0 "LINE-3 the primary keeps writing while the expansion is cut off" \
  at primary service-user add cuttest1 -g "Administrator Group" --setting enabled \
  <<<"Hazel-Brook-Stone-36"
expect_code 0 "LINE-3 the cut-off expansion still authenticates from its copy" \
  at exp1 service-user list

netns_heal exp1 primary
healed_at=$(date +%s)
wait_for 30 line_at_high exp1 up \
  && pass "LINE-4 after the link heals the line returns by itself ($(( $(date +%s) - healed_at )) s)" \
  || fail "LINE-4 after the link heals the line returns by itself"
caught_up() { WARD_SESSION_FILE="$WARD_TEST_DIR/session-cut" at exp1 login -u cuttest1 <<<"Hazel-Brook-Stone-36"; }
wait_for 10 caught_up \
  && pass "LINE-3 the expansion caught up: the user created during the cut logs in there" \
  || fail "LINE-3 the expansion caught up: the user created during the cut logs in there"

finish
