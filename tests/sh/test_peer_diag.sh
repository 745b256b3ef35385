#!/usr/bin/env bash
# ant-quic-peer diagnostics, ours -> ours on loopback: with SSLKEYLOGFILE and QLOGDIR set on
# both sides (and --ecn), three echo connections.  Checks: each key log has, per connection
# (client random), exactly the four 1-RTT handshake labels, 64-hex client randoms and secrets
# (AES-128-GCM: SHA-256 secrets), and the client's and server's logs hold the same lines; each
# side wrote one <odcid>_<role>.sqlog per connection, the same odcids on both sides, and every
# file parses as JSON-SEQ (split on RS, json.loads each record) with a header naming that
# odcid and the role, then packet_sent / packet_received events; ECN validated on both sides;
# the key log file is created with mode 600.
# Negative: an unwritable SSLKEYLOGFILE makes the peer fail with exit 1.
# shellcheck source=tests/sh/test_peer_lib.inc
. "$(dirname "$0")/test_peer_lib.inc"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

SSLKEYLOGFILE="$work/server-keys.log" QLOGDIR="$work/qlog-server" \
  peer_start_server diag --ecn --suite aes128
SSLKEYLOGFILE="$work/client-keys.log" QLOGDIR="$work/qlog-client" \
  peer_client diag 60 --echo-bytes 64K --runs 3 --ecn
peer_stop_server
[ "$(grep -c '^RESULT echo .* ok .* ecn=capable$' "$work/diag.out")" -eq 3 ] ||
  fail "expected 3 echo RESULT lines with ecn=capable"
[ "$(grep -c 'connection closed ecn=capable' "$work/server-diag.log")" -eq 3 ] ||
  fail "server: expected 3 connections with ecn=capable"

# The key log holds secrets: created private.
[ "$(stat -c %a "$work/client-keys.log")" = 600 ] || fail "client key log is not mode 600"

python3 - "$work" <<'PY' || fail "key log / qlog checks"
import json, os, re, sys
work = sys.argv[1]
labels = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"}
line_re = re.compile(r"^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]{64})$")
def keylog(path):
    by_random = {}
    lines = open(path).read().splitlines()
    assert lines, path + " is empty"
    for ln in lines:
        m = line_re.match(ln)
        assert m, "%s: malformed line %r" % (path, ln[:60])
        assert m.group(1) in labels, "%s: unexpected label %s" % (path, m.group(1))
        by_random.setdefault(m.group(2), {})
        assert m.group(1) not in by_random[m.group(2)], "duplicate " + m.group(1)
        by_random[m.group(2)][m.group(1)] = m.group(3)
    for r, d in by_random.items():
        assert set(d) == labels, "%s: client random %s has %s" % (path, r, sorted(d))
        assert len(set(d.values())) == 4, "secrets of one connection repeat"
    return by_random, set(lines)
cr, clines = keylog(os.path.join(work, "client-keys.log"))
sr, slines = keylog(os.path.join(work, "server-keys.log"))
assert len(cr) == 3, "client: %d connections in the key log, expected 3" % len(cr)
assert clines == slines, "client and server key logs differ"

def qlogs(role):
    d = os.path.join(work, "qlog-" + role)
    names = sorted(os.listdir(d))
    assert len(names) == 3, "%s: %d qlog files, expected 3: %s" % (role, len(names), names)
    ids = set()
    for n in names:
        m = re.match(r"^([0-9a-f]{16,40})_" + role + r"\.sqlog$", n)
        assert m, "bad qlog file name " + n
        data = open(os.path.join(d, n), "rb").read()
        assert data.startswith(b"\x1e"), n + ": not JSON-SEQ (no leading RS)"
        recs = [json.loads(x) for x in data.split(b"\x1e")[1:]]
        hdr = recs[0]
        assert hdr["serialization_format"] == "application/qlog+json-seq", n
        assert hdr["trace"]["vantage_point"]["type"] == role, n
        assert hdr["trace"]["common_fields"]["group_id"] == m.group(1), n + ": group_id"
        ev = [r["name"] for r in recs[1:]]
        for want in ("quic:packet_sent", "quic:packet_received", "quic:connection_closed"):
            assert want in ev, "%s: no %s event" % (n, want)
        assert all(isinstance(r["time"], (int, float)) for r in recs[1:]), n + ": time"
        ids.add(m.group(1))
    return ids
assert qlogs("client") == qlogs("server"), "client and server qlog odcids differ"
print("key logs: 3 connections x 4 labels, identical on both sides; qlog: 3+3 JSON-SEQ files")
PY

# An unwritable key log file is an error, not silently ignored.
SSLKEYLOGFILE="$work/no/such/dir/keys.log" timeout 10 "$ap" client --connect 127.0.0.1:9 \
  >"$work/bad.out" 2>"$work/bad.err"
rc=$?
[ "$rc" -eq 1 ] || fail "unwritable SSLKEYLOGFILE: exit $rc, expected 1"
grep -q "SSLKEYLOGFILE" "$work/bad.err" || fail "unwritable SSLKEYLOGFILE: no message"
echo "PASS"
