# Shared by the sipp benchmarks (bench/sip_register.sh, bench/sip_calls.sh); sourced from the
# project's root.

# sip_bench_setup BUILD WHAT: WARD_NODE, WARDCTL and scenarios for BUILD (relative to the
# project's root or absolute), then a test directory (tests/integration/lib.sh); exits 77 with
# a note naming the missing WHAT figures when sipp is not installed.
sip_bench_setup() {
  local build=$1
  case $build in /*) ;; *) build=$PWD/$build ;; esac
  WARD_NODE=$build/node/ward-node
  WARDCTL=$build/cli/wardctl
  scenarios=$PWD/tests/e2e/sip
  if ! command -v sipp >/dev/null 2>&1; then
    echo "# sipp is not installed (apt-get install sip-tester): no $2 figures"
    exit 77
  fi
  source tests/integration/lib.sh
  ward_test_init
}

# cpu_ticks PID: user + system clock ticks the process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# wait_sampled PID: waits for the child PID, sampling its CPU while it runs (a process's
# ticks can be read only until it exits). Sets SAMPLED_TICKS and SAMPLED_CODE (its exit code).
wait_sampled() {
  local t
  SAMPLED_TICKS=0
  while kill -0 "$1" 2>/dev/null; do
    t=$(cpu_ticks "$1")
    [ "$t" -gt 0 ] 2>/dev/null && SAMPLED_TICKS=$t
    sleep 0.2
  done
  SAMPLED_CODE=0
  wait "$1" || SAMPLED_CODE=$?
}

# sipp_stat_row FILE: "successful failed seconds" from the last row of a sipp statistics file
# (the seconds from sipp's start to that row; its screen's own Elapsed Time reads 0 at exit).
sipp_stat_row() {
  awk -F';' '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { split($(col["StartTime"]), s, "\t"); split($(col["CurrentTime"]), c, "\t")
      seconds = c[3] - s[3]; ok = $(col["SuccessfulCall(C)"]); failed = $(col["FailedCall(C)"]) }
    END { printf "%d %d %.3f\n", ok, failed, seconds }' "$1" 2>/dev/null | head -1
}

# wait_listening PID SS_ARGS...: waits up to 5 s until `ss -H SS_ARGS...` lists a socket
# (0), or until PID has exited (1).
wait_listening() {
  local pid=$1
  shift
  for _ in $(seq 1 50); do
    ss -H "$@" 2>/dev/null | grep -q . && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
