#!/usr/bin/env bash
# ant-quic-peer resumption and 0-RTT, ours -> ours on loopback:
#  - client --resume --runs 3 (echo 100 KiB): run 1 is a full handshake, runs 2-3 resume the
#    latest session with early data accepted; the server logs resumed=1 early_data=1 for them;
#    the second connection's qlog shows a 0RTT packet carrying a stream frame, and its key log
#    a CLIENT_EARLY_TRAFFIC_SECRET line;
#  - a verified download and a DATAGRAM echo also resume; --connections 5 --resume: 4 resumed;
#  - against a --retry server a resumed connection skips the Retry (NEW_TOKEN token);
#  - a --no-early-data server still resumes, but its tickets allow no early data: the client
#    does not attempt 0-RTT (early_data=none);
#  - without --resume nothing resumes.
# shellcheck source=tests/sh/test_peer_lib.inc
. "$(dirname "$0")/test_peer_lib.inc"

field() { # field TAG RUN NAME -> the NAME=value of RESULT line RUN of TAG
  grep "^RESULT .* run=$2 " "$work/$1.out" | tr ' ' '\n' | sed -n "s/^$3=//p" | head -n 1
}
expect_run() { # expect_run TAG RUN RESUMED EARLY
  local r e
  r=$(field "$1" "$2" resumed)
  e=$(field "$1" "$2" early_data)
  [ "$r" = "$3" ] && [ "$e" = "$4" ] ||
    fail "[$1] run $2: resumed=$r early_data=$e, expected resumed=$3 early_data=$4"
}

peer_start_server resume --retry
SSLKEYLOGFILE="$work/keys.log" QLOGDIR="$work/qlog" \
  peer_client echo 60 --echo-bytes 100K --runs 3 --resume
expect_run echo 1 0 none
expect_run echo 2 1 accepted
expect_run echo 3 1 accepted
[ "$(grep -c ' bytes=102400 ok ' "$work/echo.out")" -eq 3 ] || fail "[echo] not 3 verified echoes"
# The first connection went through the Retry; the resumed ones used the NEW_TOKEN token.
grep -q "retry=1 resumed=0" "$work/echo.err" || fail "[echo] the first connection had no Retry"
[ "$(grep -c 'retry=0 resumed=1' "$work/echo.err")" -eq 2 ] ||
  fail "[echo] resumed connections should skip the Retry"
if command -v python3 >/dev/null; then
  python3 - "$work" <<'PY' || fail "[echo] qlog / key log of the 0-RTT connections"
import json, os, re, sys
work = sys.argv[1]
# Key log: the two resumed connections have an early secret, the first does not.
early = set()
randoms = set()
for ln in open(os.path.join(work, "keys.log")).read().splitlines():
    m = re.match(r"^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]{64})$", ln)
    assert m, "malformed key log line"
    randoms.add(m.group(2))
    if m.group(1) == "CLIENT_EARLY_TRAFFIC_SECRET":
        early.add(m.group(2))
assert len(randoms) == 3 and len(early) == 2, "randoms=%d early=%d" % (len(randoms), len(early))
# qlog: exactly two client traces sent 0RTT packets with stream frames.
with0rtt = 0
for n in os.listdir(os.path.join(work, "qlog")):
    data = open(os.path.join(work, "qlog", n), "rb").read()
    recs = [json.loads(x) for x in data.split(b"\x1e")[1:]]
    zr = [r for r in recs[1:] if r["name"] == "quic:packet_sent"
          and r["data"]["header"]["packet_type"] == "0RTT"]
    if zr:
        assert any(f.get("frame_type") == "stream" for r in zr for f in r["data"].get("frames", [])), n
        with0rtt += 1
assert with0rtt == 2, "%d traces with 0-RTT stream data, expected 2" % with0rtt
print("0-RTT: 2 of 3 connections sent stream data in 0RTT packets; early secrets logged")
PY
fi
peer_client dl 60 --download 2M --verify --runs 2 --resume
expect_run dl 1 0 none
expect_run dl 2 1 accepted
peer_client dg 30 --datagram resume-me --runs 2 --resume
expect_run dg 2 1 accepted
peer_client conns 60 --connections 5 --resume
grep -q "^RESULT handshakes .* resumed=4 early_data_accepted=4$" "$work/conns.out" ||
  fail "[conns] expected 4 resumed connections with early data"
peer_client plain 30 --echo-bytes 10K --runs 2
grep -q "resumed=" "$work/plain.out" && fail "[plain] resumed= printed without --resume"
peer_stop_server
[ "$(grep -c 'resumed=1 early_data=1' "$work/server-resume.log")" -eq 8 ] ||
  fail "server: expected 8 resumed connections with early data (2 echo, 1 dl, 1 dg, 4 conns; no plain one)"

# A server refusing early data: resumption still works; its tickets do not offer 0-RTT.
peer_start_server noearly --no-early-data
peer_client rej 60 --echo-bytes 100K --runs 2 --resume
expect_run rej 1 0 none
expect_run rej 2 1 none
[ "$(grep -c ' bytes=102400 ok ' "$work/rej.out")" -eq 2 ] || fail "[rej] not 2 verified echoes"
peer_stop_server
grep -q "resumed=1 early_data=0" "$work/server-noearly.log" || fail "server: no resumed rejection"
echo "PASS"
