#!/usr/bin/env bash
# The node's command line and process behaviour:
#  - bad input (unknown flag, malformed address, unresolvable host, port in
#    use, reserved later-release flags and subcommands): one clear line on
#    stderr, a non-zero status (2 for usage errors), never a crash;
#  - -h/--help and -V/--version; the existing subcommands still work;
#  - EOF on stdin does not stop a node; SIGINT/SIGTERM stop it with status 0
#    within a second; console commands work from a regular file.
set -u
. "$(dirname "$0")/test_node_lib.inc"

# bad WANT-STATUS PATTERN ARGS... : run ant-quic ARGS, expect status and a one-line stderr.
bad() {
  local want=$1 pat=$2 err rc
  shift 2
  err=$(XDG_DATA_HOME="$tmp/xdg" timeout 10 "$AQ_BIN" "$@" </dev/null 2>&1 >/dev/null)
  rc=$?
  [ $rc -eq "$want" ] || fail "ant-quic $*: status $rc, want $want ($err)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "ant-quic $*: not one line: $err"
  printf '%s\n' "$err" | grep -Eq -- "$pat" || fail "ant-quic $*: unclear message: $err"
  echo "ok ($rc): $err"
}
bad 2 "unknown option '--frobnicate'" --frobnicate
bad 2 "unknown option '-z'" -z
bad 2 "--listen needs a value" --listen
bad 2 "--listen: '1.2.3.4:99999': bad port" --listen 1.2.3.4:99999
bad 2 "--listen: .*not an IP address" --listen nosuch:1
bad 2 "--bootstrap: '300.1.1.1:9000'" --bootstrap 300.1.1.1:9000
bad 2 "--bootstrap: '127.0.0.1': missing ':PORT'" --bootstrap 127.0.0.1
bad 2 "must be written \[ADDRESS\]:PORT" --bootstrap ::1:9000
bad 2 "bad port" --bootstrap 127.0.0.1:0
bad 2 "cannot resolve host 'no-such-host.invalid'" --listen 127.0.0.1:0 --bootstrap no-such-host.invalid:9000
bad 2 "'--log-level': |--log-level: 'shouty'" --log-level shouty
bad 2 "--dashboard is not yet available" --dashboard
bad 2 "not yet available" --dashboard-interval 5
bad 2 "not yet available" --connect 00
bad 2 "not yet available" --nickname bob
bad 2 "'connect' is not yet available" connect --coordinator 1.2.3.4:9000 00
bad 2 "'chat' is not yet available" chat
bad 2 "unknown subcommand 'frob'" frob
ANT_QUIC_MAX_OBSERVATION_RATE=64 bad 2 "ANT_QUIC_MAX_OBSERVATION_RATE|observation rate" --listen 127.0.0.1:0
ANT_QUIC_ADDRESS_DISCOVERY_ENABLED=perhaps bad 2 "ANT_QUIC_ADDRESS_DISCOVERY_ENABLED" --listen 127.0.0.1:0
bad 2 "no listening socket can reach \[::1\]:9000" --listen 127.0.0.1:0 --bootstrap '[::1]:9000'

# Port in use: a first node holds the port.
start_node holder "$AQ_BIN" --json --listen 127.0.0.1:0 --identity "$tmp/holder.key"
wait_for holder '"event":"started"' 20 || fail "holder did not start"
hport=$(port_of holder)
bad 1 "cannot listen on 127.0.0.1:$hport: Address already in use" --listen "127.0.0.1:$hport"
stop_node holder TERM

out=$("$AQ_BIN" --help) || fail "--help status"
printf '%s\n' "$out" | grep -q -- '--bootstrap <ADDR1,ADDR2,...>' || fail "--help text"
out=$("$AQ_BIN" -h) || fail "-h status"
printf '%s\n' "$out" | grep -q '^Usage: ant-quic' || fail "-h text"
"$AQ_BIN" help | grep -q '^Usage: ant-quic' || fail "help subcommand"
[ "$("$AQ_BIN" -V)" = "ant-quic 0.1.0" ] || fail "-V"
[ "$("$AQ_BIN" --version)" = "ant-quic 0.1.0" ] || fail "--version"
"$AQ_BIN" identity --identity "$tmp/sub.key" | grep -q '^PeerId: ' || fail "identity subcommand"

# EOF on stdin does not stop the node; SIGINT does, with status 0 within 1 s.
start_node eof "$AQ_BIN" --listen 127.0.0.1:0 --identity "$tmp/eof.key" --log-level info
wait_for eof '^PeerId: ' 20 || fail "eof node did not start"
send eof /debug
wait_for eof '^Debug logging on' 10 || fail "/debug did not switch debug logging on"
send eof /debug
wait_for eof '^Debug logging off' 10 || fail "/debug did not switch debug logging off"
send eof /status
close_stdin eof
wait_for eof '^Status:' 10 || fail "no /status before EOF"
sleep 1.5
alive eof || fail "the node stopped at EOF on stdin"
grep -q 'stdin closed; the node keeps running' "$tmp/eof.err" || fail "no EOF log line"
stop_node eof INT
grep -q 'Shutting down (SIGINT)' "$tmp/eof.out" || fail "no shutdown line"
no_sanitizer_report eof

# Stdin from /dev/null (a background service) and SIGTERM.
"$AQ_BIN" --minimal --listen 127.0.0.1:0 --identity "$tmp/bg.key" </dev/null >"$tmp/bg.out" 2>"$tmp/bg.err" &
bg_pid=$!
node_pids+=("$bg_pid")
wait_for bg '^PeerId: ' 20 || fail "background node did not start"
sleep 1
alive bg || fail "background node stopped with stdin at /dev/null"
stop_node bg TERM

# Console commands from a regular file (epoll cannot watch one).
printf '/help\n/status\n/stats\n/nonsense\n/quit\n' >"$tmp/cmds.txt"
timeout 20 "$AQ_BIN" --listen 127.0.0.1:0 --identity "$tmp/f.key" <"$tmp/cmds.txt" >"$tmp/file.out" 2>"$tmp/file.err" ||
  fail "file-driven node: status $?"
for pat in '^Commands:' '^Status:' '^Stats:' "unknown command '/nonsense'" 'Shutting down \(quit\)'; do
  grep -Eq "$pat" "$tmp/file.out" || fail "file-driven node: no '$pat'"
done
no_sanitizer_report file
echo "PASS: command line, signals, stdin"
