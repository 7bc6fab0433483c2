# Helpers of the sipp call tests (sourced after tests/integration/lib.sh): sipp in the
# background with its traces under $work, injection files, one registration, one call
# between a caller and a callee sipp, and checks of how a call ended. The caller sets
# `primary_sip` (the node the phones use) before calling them; sipp_test_init sets `work`
# and `scenarios`.

# sipp_test_init ARGS...: how every sipp test starts: skipped (77) without sipp, its test
# directory made, `scenarios` (tests/e2e/sip) and `work` (the sipp traces) set.
sipp_test_init() {
  require_sipp
  ward_test_init "$@"
  scenarios="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sip"
  work="$WARD_TEST_DIR/sipp"
  mkdir -p "$work"
}

# sip_site NAME RTP_RANGE: MD5 first for sipp, and a media port range of the node's own.
sip_site() {
  sed -i "s/^sip:$/sip:\n  digest_preferred: md5/" "$WARD_TEST_DIR/$1/node.yaml"
  printf 'media:\n  rtp_ports: %s\n' "$2" >>"$WARD_TEST_DIR/$1/node.yaml"
}

# start_primary_and_expansion PRIMARY_RTP EXP1_RTP: a primary (ignited, an Administrator
# session) and an expansion exp1 on a line to it at High, logged in too; a node whose RTP
# range is "-" keeps SIP as write_node_config leaves it, else sip_site gives it that range.
start_primary_and_expansion() {
  line_port=$(free_port)
  write_node_config primary primary
  pin_line_port primary "$line_port"
  [ "$1" = - ] || sip_site primary "$1"
  start_node primary || exit 1
  ignite_admin primary
  write_node_config exp1 expansion "$line_port"
  [ "$2" = - ] || sip_site exp1 "$2"
  start_node exp1 || exit 1
  wait_for 30 line_at_high exp1 up ||
    fail "LINE-1 the expansion's line is up: $(at primary cluster status 2>&1)"
  WARD_SESSION_FILE="$WARD_TEST_DIR/session-exp1" at exp1 login -u Administrator \
    <<<"Oak-Tree-Plan-47" >/dev/null 2>&1
}

# sipp_bg NAME TARGET SOURCE ARGS...: sipp in the background, recorded for cleanup; its PID in
# SIPP_PID. sipp_wait PID: its exit code in SIPP_CODE.
sipp_bg() {
  local name=$1 target=$2 source=$3
  shift 3
  sipp "$target" -i "$source" -mi "$source" -nostdin -trace_err -error_file "$work/$name.err" \
    -trace_msg -message_file "$work/$name.msg" "$@" >"$work/$name.out" 2>&1 &
  SIPP_PID=$!
  WARD_TEST_PIDS+=("$SIPP_PID")
}
sipp_wait() { SIPP_CODE=0; wait "$1" || SIPP_CODE=$?; }
why() {
  echo "sipp exit $SIPP_CODE; $(grep -v '^The following events' "$work/$1.err" 2>/dev/null | head -c 400)"
}
# csv NAME CALLER PASSWORD DIALLED: the caller's injection file.
csv() {
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s];%s\n' "$2" "$2" "$3" "$4" \
    >"$work/$1.csv"
  echo "$work/$1.csv"
}

# register NAME NODE_SIP SOURCE PORT EXTENSION: one registration, from SOURCE:PORT.
register() {
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=7%s4619]\n' "$5" "$5" "$5" \
    >"$work/$1.csv"
  sipp_bg "$1" "$2" "$3" -p "$4" -sf "$scenarios/register_uac.xml" -inf "$work/$1.csv" -m 1 \
    -recv_timeout 4000 -timeout 15 -timeout_error
  sipp_wait "$SIPP_PID"
}

# call NAME CALLEE_SCENARIO CALLEE_SOURCE CALLEE_PORT CALLER_SCENARIO DIALLED [PASSWORD]: a
# callee sipp (if any) waiting on the port its extension registered from, then the caller
# ($CALLER, default 201, password 7<extension>4619) from 127.0.0.31 to the primary. Exit
# codes in CALLEE_CODE and CALLER_CODE.
call() {
  local name=$1 callee=$2 callee_source=$3 callee_port=$4 caller=$5 dialled=$6
  local extension=${CALLER:-201}
  local password=${7:-7${extension}4619}
  local callee_pid=""
  if [ -n "$callee" ]; then
    sipp_bg "$name-callee" "$primary_sip" "$callee_source" -p "$callee_port" \
      -sf "$scenarios/$callee" -m 1 -rtp_echo -recv_timeout 10000 -timeout 20 -timeout_error
    callee_pid=$SIPP_PID
    sleep 0.3
  fi
  local extra=()
  [ "$caller" = call_uac.xml ] && extra=(-set hold "${HOLD_MS:-1500}")
  # The digest uri must be the INVITE's Request-URI (RFC 2617 3.2.2.5); sipp's default is
  # the server's address.
  extra+=(-auth_uri "$dialled@$primary_sip")
  sipp_bg "$name-caller" "$primary_sip" 127.0.0.31 -sf "$scenarios/$caller" \
    -inf "$(csv "$name" "$extension" "$password" "$dialled")" -m 1 "${extra[@]}" \
    -recv_timeout 10000 -timeout 20 -timeout_error
  sipp_wait "$SIPP_PID"
  CALLER_CODE=$SIPP_CODE
  CALLEE_CODE=0
  if [ -n "$callee_pid" ]; then
    sipp_wait "$callee_pid"
    CALLEE_CODE=$SIPP_CODE
  fi
}
# expect_answered NAME TEXT: the last call() NAME was answered and hung up on both legs.
expect_answered() {
  if [ "$CALLER_CODE" = 0 ] && [ "$CALLEE_CODE" = 0 ]; then
    pass "$2"
  else
    fail "$2 (caller $(why "$1-caller"); callee $(why "$1-callee"))"
  fi
}
final_code() { tr -d '\r' <"$work/$1-caller.msg" | grep -Eo '^SIP/2.0 [0-9]+' | awk '{print $2}' | tail -1; }
# expect_refused NAME CODE TEXT: the last call() NAME ended with final response CODE, ACKed.
expect_refused() {
  if [ "$CALLER_CODE" = 0 ] && [ "$(final_code "$1")" = "$2" ]; then
    pass "$3"
  else
    fail "$3 (final $(final_code "$1"); $(why "$1-caller"))"
  fi
}

