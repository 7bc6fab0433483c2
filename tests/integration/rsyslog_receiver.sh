# A real rsyslog for integration tests of SPEC MON-2 (RFC 5424 over TLS, RFC 5425): as the
# receiver Ward sends to, or as a device that forwards its syslog to Ward's receiver.
# Source this file; it needs the Debian packages rsyslog and rsyslog-openssl.
#
#   rsyslog_tls_start DIR CA_PEM CERT_PEM KEY_PEM   # sets RSYSLOG_PORT, prints the port
#   ... point Ward at 127.0.0.1:$RSYSLOG_PORT, then read DIR/received.log ...
#   rsyslog_stop DIR
#
# The daemon uses only DIR: its config, work directory, PID file and output live there, it
# loads no system configuration and no local log inputs (imuxsock, imklog), and it listens
# on 127.0.0.1 only. Every message received over TLS is written to DIR/received.log exactly
# as it arrived (without its octet-count prefix), one per line; rsyslogd's own messages go
# to DIR/rsyslogd.log so they never mix with what a test asserts on.

RSYSLOG_PORT=

# rsyslog_tls_start DIR CA_PEM CERT_PEM KEY_PEM: starts rsyslogd on a free loopback port
# with TLS (OpenSSL driver, no client certificate required) and waits until it accepts
# connections (at most 10 s). Returns non-zero, with rsyslogd stopped, if it does not.
rsyslog_tls_start() {
  local dir=$1 ca=$2 cert=$3 key=$4
  if [ $# -ne 4 ]; then
    echo "usage: rsyslog_tls_start DIR CA_PEM CERT_PEM KEY_PEM" >&2
    return 2
  fi
  mkdir -p "$dir/work" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  local file
  for file in "$ca" "$cert" "$key"; do
    if [ ! -r "$file" ]; then
      echo "rsyslog_tls_start: cannot read $file" >&2
      return 1
    fi
  done
  ca=$(cd "$(dirname "$ca")" && pwd)/$(basename "$ca")
  cert=$(cd "$(dirname "$cert")" && pwd)/$(basename "$cert")
  key=$(cd "$(dirname "$key")" && pwd)/$(basename "$key")
  rm -f "$dir/port" "$dir/rsyslog.pid" "$dir/rsyslogd.started-pid"

  # Port 0 with listenPortFileName lets the kernel pick a free port and rsyslog report
  # it, so parallel tests never race for a port chosen in advance.
  # processInternalMessages="on" routes rsyslogd's own messages through this config (to
  # rsyslogd.log) instead of the host's /dev/log.
  cat > "$dir/rsyslog.conf" <<EOF
global(
  workDirectory="$dir/work"
  processInternalMessages="on"
  maxMessageSize="64k"
  defaultNetstreamDriver="ossl"
  defaultNetstreamDriverCAFile="$ca"
  defaultNetstreamDriverCertFile="$cert"
  defaultNetstreamDriverKeyFile="$key"
)
module(load="imtcp"
       StreamDriver.Name="ossl"
       StreamDriver.Mode="1"
       StreamDriver.AuthMode="anon")
template(name="ward_raw" type="string" string="%rawmsg%\n")
# A ruleset of its own keeps received messages apart from rsyslogd's internal messages,
# which take the default ruleset.
ruleset(name="ward_received") {
  action(type="omfile" file="$dir/received.log" template="ward_raw")
}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$dir/port"
      ruleset="ward_received")
action(type="omfile" file="$dir/rsyslogd.log")
EOF
  : > "$dir/received.log"
  _rsyslog_launch "$dir" rsyslog_tls_start
}

# rsyslog_tls_forwarder_start DIR CA_PEM TARGET_PORT PEER_NAME: an rsyslog playing a device
# that sends its syslog on: it takes messages in clear on a free loopback TCP port (sets
# RSYSLOG_PORT, prints it; feed it with logger --tcp) and forwards each, in RFC 5424 with
# octet counting, over TLS (RFC 5425) to 127.0.0.1:TARGET_PORT, whose certificate must chain
# to CA_PEM and name PEER_NAME. It presents no client certificate.
rsyslog_tls_forwarder_start() {
  local dir=$1 ca=$2 target=$3 peer=$4
  if [ $# -ne 4 ]; then
    echo "usage: rsyslog_tls_forwarder_start DIR CA_PEM TARGET_PORT PEER_NAME" >&2
    return 2
  fi
  mkdir -p "$dir/work" || return 1
  dir=$(cd "$dir" && pwd) || return 1
  ca=$(cd "$(dirname "$ca")" && pwd)/$(basename "$ca")
  rm -f "$dir/port" "$dir/rsyslog.pid" "$dir/rsyslogd.started-pid"
  cat > "$dir/rsyslog.conf" <<EOF
global(
  workDirectory="$dir/work"
  processInternalMessages="on"
  defaultNetstreamDriverCAFile="$ca"
)
module(load="imtcp")
ruleset(name="ward_forward") {
  action(type="omfwd" target="127.0.0.1" port="$target" protocol="tcp"
         StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
         StreamDriverPermittedPeers="$peer" TCP_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$dir/port"
      ruleset="ward_forward")
action(type="omfile" file="$dir/rsyslogd.log")
EOF
  _rsyslog_launch "$dir" rsyslog_tls_forwarder_start
}

# _rsyslog_launch DIR CALLER: runs rsyslogd on DIR/rsyslog.conf and waits (at most 10 s)
# until its input port (DIR/port) accepts connections; sets RSYSLOG_PORT and prints it.
_rsyslog_launch() {
  local dir=$1 caller=$2 rsyslogd
  rsyslogd=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
  if [ ! -x "$rsyslogd" ]; then
    echo "$caller: rsyslogd not installed (packages rsyslog rsyslog-openssl)" >&2
    return 1
  fi

  "$rsyslogd" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" \
    < /dev/null > "$dir/rsyslogd.out" 2>&1 &
  local pid=$!
  echo "$pid" > "$dir/rsyslogd.started-pid"
  # Lets lib.sh's exit trap stop it too if the test dies before rsyslog_stop.
  if declare -p WARD_TEST_PIDS > /dev/null 2>&1; then
    WARD_TEST_PIDS+=("$pid")
  fi

  local port="" _
  for _ in $(seq 1 100); do
    if ! _rsyslog_alive "$pid"; then
      echo "$caller: rsyslogd exited; its output:" >&2
      cat "$dir/rsyslogd.out" "$dir/rsyslogd.log" >&2 2> /dev/null
      return 1
    fi
    if [ -s "$dir/port" ]; then
      port=$(tr -dc 0-9 < "$dir/port")
      # A bare TCP connect proves the listener is up; the TLS error it causes in
      # rsyslog goes to rsyslogd.log, not received.log.
      if [ -n "$port" ] && timeout 1 bash -c ": > /dev/tcp/127.0.0.1/$port" 2> /dev/null; then
        # shellcheck disable=SC2034 # read by the sourcing test
        RSYSLOG_PORT=$port
        echo "$port"
        return 0
      fi
    fi
    sleep 0.1
  done
  echo "$caller: rsyslogd did not accept connections within 10 s" >&2
  cat "$dir/rsyslogd.out" >&2 2> /dev/null
  rsyslog_stop "$dir"
  return 1
}

# _rsyslog_alive PID: whether PID is a live process (a zombie awaiting its parent's wait
# counts as gone, though kill -0 still succeeds on it).
_rsyslog_alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# rsyslog_stop DIR: stops the rsyslogd that rsyslog_tls_start DIR started (TERM, then KILL
# after 5 s) and waits until it is gone. Does nothing if it is not running.
rsyslog_stop() {
  local dir=$1 pid
  pid=$(cat "$dir/rsyslogd.started-pid" 2> /dev/null) || return 0
  [ -n "$pid" ] || return 0
  # The PID may have been reused if rsyslogd died long ago: only signal an rsyslogd.
  if [ "$(cat "/proc/$pid/comm" 2> /dev/null)" != rsyslogd ]; then
    rm -f "$dir/rsyslogd.started-pid"
    return 0
  fi
  kill -TERM "$pid" 2> /dev/null
  local _
  for _ in $(seq 1 50); do
    _rsyslog_alive "$pid" || break
    sleep 0.1
  done
  _rsyslog_alive "$pid" && kill -KILL "$pid" 2> /dev/null
  wait "$pid" 2> /dev/null
  rm -f "$dir/rsyslogd.started-pid"
  return 0
}
