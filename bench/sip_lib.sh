# Shared by the sipp benchmarks (bench/sip_register.sh, bench/sip_calls.sh); sourced.

# cpu_ticks PID: user + system clock ticks the process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# sipp_stat_row FILE: "successful failed seconds" from the last row of a sipp statistics file
# (the seconds from sipp's start to that row; its screen's own Elapsed Time reads 0 at exit).
sipp_stat_row() {
  awk -F';' '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { split($(col["StartTime"]), s, "\t"); split($(col["CurrentTime"]), c, "\t")
      seconds = c[3] - s[3]; ok = $(col["SuccessfulCall(C)"]); failed = $(col["FailedCall(C)"]) }
    END { printf "%d %d %.3f\n", ok, failed, seconds }' "$1" 2>/dev/null | head -1
}
