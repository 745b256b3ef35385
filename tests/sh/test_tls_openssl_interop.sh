#!/usr/bin/env bash
# test_tls_openssl_interop.sh - our TLS 1.3 engine (lib/tls/aq_tls.h, carried
# over TCP by the test-only record layer tests/tools/tls_rec_peer.c) against
# the OpenSSL CLI, on 127.0.0.1 only:
#   (a) tls_rec_peer client -> openssl s_server -rev, every suite, with and
#       without a client certificate (s_server -Verify 1 -verify_return_error)
#   (b) openssl s_client -> tls_rec_peer server, every suite, with and without
#       a client certificate (our server requires and pins it)
#   (c) certificate made by aq_x509_self_signed_ed25519, checked by s_client
#   (d) secp256r1 ECDHE and HelloRetryRequest, both ways
#   (e) our client -> our server over the same record layer (baseline)
#   ALPN both ways; resumption both ways (NewSessionTicket -> PSK)
#   0-RTT over TCP: our client does not offer it, our server rejects it and the
#   record layer skips the early records (the engine does 0-RTT in QUIC mode only)
#   fragmentation: OpenSSL -max_send_frag 512 and our --max-record 37
#   negative cases: wrong pins, missing client certs, no common suite, untrusted cert
# Certificates: `openssl req -x509 -newkey ed25519` and `-newkey ec P-256`
# (plus RSA-2048 and P-384 for the signer/verifier of aq_tls_cert.h).
# Every wait is bounded by `timeout`; every process we start is killed on EXIT.
set -u

BUILD=${AQ_BUILD_DIR:-build/asan}
PEER=$BUILD/tls_rec_peer
if ! command -v openssl >/dev/null 2>&1; then
  echo "SKIP: the openssl command-line tool is not installed"
  exit 77
fi
if [ ! -x "$PEER" ]; then
  echo "SKIP: $PEER is not built (it needs the TLS engine lib/tls/aq_tls.c from branch tls)"
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aq_tls_interop.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

VERBOSE=${AQ_INTEROP_VERBOSE:-}
PASS=0
FAIL=0
FAILED=()
ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
# Negative cases set EXPECT_FAIL to a pattern that must appear in the named
# log (the reason for the failure), and the exchange must not succeed.
EXPECT_FAIL=
SX=()   # extra s_server arguments
OX=()   # extra arguments for our server
# verdict NAME SUCCEEDED LOG-TO-GREP LOGS... : records ok/FAIL per expectation.
verdict() {
  local name=$1 succeeded=$2 greplog=$3
  shift 3
  if [ -z "$EXPECT_FAIL" ]; then
    if [ "$succeeded" = 1 ]; then ok "$name"; else bad "$name" "$@"; fi
  elif [ "$succeeded" = 0 ] && grep -q -- "$EXPECT_FAIL" "$greplog"; then
    ok "$name (refused as expected: $EXPECT_FAIL)"
  else
    bad "$name (expected a failure matching '$EXPECT_FAIL')" "$@"
  fi
}
bad() {
  FAIL=$((FAIL + 1)); FAILED+=("$1"); echo "FAIL $1"
  shift
  local f
  for f in "$@"; do
    [ -s "$f" ] && sed 's/^/     | /' "$f" | tail -n 25
  done
}

# ------------------------------------------------------------ certificates
mkcert() { # name keyalg-args...
  local name=$1 cn=$2
  shift 2
  openssl req -x509 "$@" -nodes -days 2 -subj "/CN=$cn" -addext "subjectAltName=DNS:$cn" \
    -keyout "$WORK/$name.key" -out "$WORK/$name.pem" >/dev/null 2>&1 || {
    echo "cannot make certificate $name"
    exit 1
  }
}
mkcert srv_ed localhost -newkey ed25519
mkcert srv_ec localhost -newkey ec -pkeyopt ec_paramgen_curve:P-256
mkcert cli_ed aq-client -newkey ed25519
mkcert cli_ec aq-client -newkey ec -pkeyopt ec_paramgen_curve:P-256
# Beyond the brief's two key types: RSA-PSS (rsae) and P-384, both directions.
mkcert srv_rsa localhost -newkey rsa:2048
mkcert srv_p384 localhost -newkey ec -pkeyopt ec_paramgen_curve:P-384
mkcert cli_rsa aq-client -newkey rsa:2048

SUITES="TLS_AES_128_GCM_SHA256:1301 TLS_AES_256_GCM_SHA384:1302 TLS_CHACHA20_POLY1305_SHA256:1303"

# A port nobody listens on now (s_server binds it just after; retried on failure).
pick_port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000)); }

# start_s_server LOG args... : starts s_server on a free loopback port, sets SPORT/SPID.
start_s_server() {
  local log=$1 try
  shift
  for try in 1 2 3 4 5; do
    SPORT=$(pick_port)
    : >"$log"
    openssl s_server -tls1_3 -accept "127.0.0.1:$SPORT" -naccept 1 -rev "$@" >"$log" 2>&1 </dev/null &
    SPID=$!
    PIDS+=("$SPID")
    if timeout 10 bash -c "until grep -q '^ACCEPT' '$log'; do kill -0 $SPID 2>/dev/null || exit 1; sleep 0.05; done"; then
      return 0
    fi
    kill "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
  done
  return 1
}

# start_our_server LOG args... : starts tls_rec_peer server on port 0, sets OPORT/OPID.
start_our_server() {
  local log=$1 pf="$WORK/port.$RANDOM"
  shift
  rm -f "$pf"
  : >"$log"
  "$PEER" server --port 0 --port-file "$pf" --timeout 10 $VERBOSE "$@" >"$log" 2>&1 &
  OPID=$!
  PIDS+=("$OPID")
  if ! timeout 10 bash -c "until [ -s '$pf' ]; do kill -0 $OPID 2>/dev/null || exit 1; sleep 0.05; done"; then
    return 1
  fi
  OPORT=$(cat "$pf")
}

wait_pid() { # pid seconds -> exit status (124 on timeout)
  local pid=$1 secs=$2 i
  for ((i = 0; i < secs * 20; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      return $?
    fi
    sleep 0.05
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 124
}

# ------------------------------------------ (a) our client -> s_server
client_case() { # name suite-name suite-hex srvcert clicert(or -) [extra client args...]
  local name=$1 sname=$2 shex=$3 srv=$4 cli=$5
  shift 5
  local slog="$WORK/$name.s_server.log" clog="$WORK/$name.client.log"
  local sargs=(-cert "$WORK/$srv.pem" -key "$WORK/$srv.key" -ciphersuites "$sname" "${SX[@]}")
  local cargs=(--port 0 --suite "$shex" --expect-suite "$shex" --peer-cert "$WORK/$srv.pem"
               --expect-peer-cert --message "hello from aq client")
  if [ "$cli" != - ]; then
    sargs+=(-Verify 1 -verify_return_error -CAfile "$WORK/$cli.pem")
    cargs+=(--cert "$WORK/$cli.pem" --key "$WORK/$cli.key")
  fi
  if ! start_s_server "$slog" "${sargs[@]}"; then
    bad "$name (s_server did not start)" "$slog"
    return
  fi
  cargs[1]=$SPORT
  timeout 30 "$PEER" client "${cargs[@]}" $VERBOSE "$@" >"$clog" 2>&1
  local rc=$?
  wait_pid "$SPID" 10
  local src=$?
  local good=0
  if [ $rc -eq 0 ] && grep -q "reply 'tneilc qa morf olleh'" "$clog"; then good=1; fi
  echo "client exit $rc, s_server exit $src" >>"$clog"
  verdict "$name" $good "$clog" "$clog" "$slog"
}

# ------------------------------------------ (b) s_client -> our server
server_case() { # name suite-name suite-hex srvcert(or @self) clicert(or -) [extra s_client args...]
  local name=$1 sname=$2 shex=$3 srv=$4 cli=$5
  shift 5
  local olog="$WORK/$name.server.log" clog="$WORK/$name.s_client.log" cout="$WORK/$name.s_client.out"
  local oargs=(--suite "$shex" --expect-suite "$shex")
  local trust
  if [ "$srv" = @self ]; then
    trust="$WORK/$name.self.pem"
    oargs+=(--self-signed localhost --write-cert "$trust")
  else
    trust="$WORK/$srv.pem"
    oargs+=(--cert "$WORK/$srv.pem" --key "$WORK/$srv.key")
  fi
  local cargs=(-tls1_3 -ciphersuites "$sname" -servername localhost -verify_hostname localhost
               -verify_return_error -quiet)
  if [ "$cli" != - ]; then
    oargs+=(--client-auth require --peer-cert "$WORK/$cli.pem" --expect-peer-cert)
    cargs+=(-cert "$WORK/$cli.pem" -key "$WORK/$cli.key")
  fi
  oargs+=("${OX[@]}")
  if ! start_our_server "$olog" "${oargs[@]}"; then
    bad "$name (our server did not start)" "$olog"
    return
  fi
  printf 'hello from s_client\n' | timeout 30 openssl s_client -connect "127.0.0.1:$OPORT" \
    -CAfile "$trust" "${cargs[@]}" "$@" >"$cout" 2>"$clog"
  local crc=$?
  wait_pid "$OPID" 10
  local rc=$?
  local good=0
  if [ $rc -eq 0 ] && grep -q "tneilc_s morf olleh" "$cout"; then good=1; fi
  echo "our server exit $rc, s_client exit $crc" >>"$olog"
  verdict "$name" $good "$olog" "$olog" "$clog" "$cout"
}

# ------------------------------------------ (e) our client -> our server (baseline)
self_case() {
  local name=$1 shex=$2
  local olog="$WORK/$name.server.log" clog="$WORK/$name.client.log"
  if ! start_our_server "$olog" --cert "$WORK/srv_ec.pem" --key "$WORK/srv_ec.key" --suite "$shex" \
      --client-auth require --peer-cert "$WORK/cli_ed.pem" --expect-peer-cert; then
    bad "$name (our server did not start)" "$olog"
    return
  fi
  timeout 30 "$PEER" client --port "$OPORT" --suite "$shex" --expect-suite "$shex" \
    --peer-cert "$WORK/srv_ec.pem" --expect-peer-cert --cert "$WORK/cli_ed.pem" \
    --key "$WORK/cli_ed.key" --message "hello from aq client" $VERBOSE >"$clog" 2>&1
  local rc=$?
  wait_pid "$OPID" 10
  local src=$?
  if [ $rc -eq 0 ] && [ $src -eq 0 ]; then ok "$name"; else bad "$name (client $rc, server $src)" "$clog" "$olog"; fi
}

for s in $SUITES; do
  sname=${s%%:*}
  shex=${s##*:}
  self_case "self_$shex" "$shex"
  for srv in srv_ed srv_ec; do
    client_case "aq_client_${srv}_$shex" "$sname" "$shex" "$srv" -
    server_case "s_client_${srv}_$shex" "$sname" "$shex" "$srv" -
  done
  client_case "aq_client_clientcert_ed_$shex" "$sname" "$shex" srv_ec cli_ed
  client_case "aq_client_clientcert_ec_$shex" "$sname" "$shex" srv_ed cli_ec
  server_case "s_client_clientcert_ed_$shex" "$sname" "$shex" srv_ec cli_ed
  server_case "s_client_clientcert_ec_$shex" "$sname" "$shex" srv_ed cli_ec
done
# RSA (rsa_pss_rsae_sha256, our PEM signer and verifier) and P-384 (ecdsa_secp384r1_sha384).
for srv in srv_rsa srv_p384; do
  client_case "aq_client_$srv" TLS_AES_128_GCM_SHA256 1301 "$srv" -
  server_case "s_client_$srv" TLS_AES_128_GCM_SHA256 1301 "$srv" -
done
client_case aq_client_clientcert_rsa TLS_AES_256_GCM_SHA384 1302 srv_p384 cli_rsa
server_case s_client_clientcert_rsa TLS_AES_256_GCM_SHA384 1302 srv_p384 cli_rsa
# Fragmentation: OpenSSL splits its flight into 512-byte records (the RSA
# Certificate message spans several: the engine must reassemble it), and we
# split ours into 37-byte records (OpenSSL reassembles).
SX=(-max_send_frag 512)
client_case aq_client_fragmented TLS_AES_128_GCM_SHA256 1301 srv_rsa cli_rsa --max-record 37
SX=()
OX=(--max-record 37)
server_case s_client_fragmented TLS_CHACHA20_POLY1305_SHA256 1303 srv_rsa cli_rsa -max_send_frag 512
OX=()
# (c) our own certificate generator, verified by OpenSSL (chain + hostname).
server_case s_client_aq_self_signed TLS_AES_128_GCM_SHA256 1301 @self -
# (d) secp256r1 key exchange both ways, and HelloRetryRequest both ways: the
# HRR side only takes X25519 while the other sends a secp256r1 key share first.
client_case aq_client_p256 TLS_AES_128_GCM_SHA256 1301 srv_ed - --groups 0017
OX=(--groups 0017)
server_case s_client_p256 TLS_AES_128_GCM_SHA256 1301 srv_ed - -groups P-256
OX=()
SX=(-groups X25519)
client_case aq_client_hrr TLS_AES_128_GCM_SHA256 1301 srv_ec - --groups 0017,001d --key-shares 1 -v
SX=()
OX=(-v)
server_case s_client_hrr TLS_AES_128_GCM_SHA256 1301 srv_ec - -groups P-256:X25519
OX=()
# ... the secp256r1 cases really used secp256r1 (0x0017) ...
for f in aq_client_p256.client s_client_p256.server aq_client_hrr.client s_client_hrr.server; do
  want=001d
  case $f in *p256*) want=0017 ;; esac
  if grep -q "handshake done: .* group $want" "$WORK/$f.log"; then ok "$f: group $want"; else bad "$f: group is not $want" "$WORK/$f.log"; fi
done
# ... and a HelloRetryRequest really happened: two Initial flights from the HRR side's peer.
for f in aq_client_hrr.client s_client_hrr.server; do
  n=$(grep -c "engine sends .* at initial" "$WORK/$f.log")
  if [ "$n" = 2 ]; then ok "$f: 2 Initial flights (HRR)"; else bad "$f: $n Initial flights, expected 2 (no HRR?)" "$WORK/$f.log"; fi
done

# ------------------------------------------ optional client auth, no certificate (empty Certificate)
SX=(-verify 1)
client_case aq_client_cert_requested_none TLS_AES_128_GCM_SHA256 1301 srv_ed -
SX=()
OX=(--client-auth request)
server_case s_client_cert_requested_none TLS_AES_128_GCM_SHA256 1301 srv_ed -
OX=()

# ------------------------------------------ ALPN (RFC 7301) both ways
SX=(-alpn h3,aq-test)
client_case aq_client_alpn TLS_AES_128_GCM_SHA256 1301 srv_ed - --alpn aq-test,h2 --expect-alpn aq-test
SX=()
OX=(--alpn aq-test,h3 --alpn-required --expect-alpn h3)
server_case s_client_alpn TLS_AES_128_GCM_SHA256 1301 srv_ed - -alpn foo,h3
OX=()

# ------------------------------------------ resumption (PSK from a NewSessionTicket)
# our client: full handshake, then a second connection resumed with s_server's ticket.
SX=(-naccept 2)
client_case aq_client_resume TLS_AES_256_GCM_SHA384 1302 srv_ec cli_ed --connections 2 --resume --expect-resumed
SX=()
# s_client: -sess_out on the first connection, -sess_in on the second; our server
# issues tickets and must see the second handshake resumed.
resume_server_case() {
  local name=$1 olog="$WORK/$1.server.log" sess="$WORK/$1.sess"
  if ! start_our_server "$olog" --cert "$WORK/srv_ec.pem" --key "$WORK/srv_ec.key" --tickets \
      --connections 2 --expect-resumed; then
    bad "$name (our server did not start)" "$olog"
    return
  fi
  local i crc=0 got=0
  for i in 1 2; do
    local io=(-sess_out "$sess")
    [ $i = 2 ] && io=(-sess_in "$sess")
    printf 'hello from s_client\n' | timeout 30 openssl s_client -connect "127.0.0.1:$OPORT" \
      -tls1_3 -CAfile "$WORK/srv_ec.pem" -verify_return_error -servername localhost -ign_eof \
      "${io[@]}" >"$WORK/$name.s_client$i.out" 2>&1 || crc=$?
    grep -q "tneilc_s morf olleh" "$WORK/$name.s_client$i.out" && got=$((got + 1))
  done
  wait_pid "$OPID" 10
  local rc=$?
  echo "our server exit $rc, s_client exit $crc" >>"$olog"
  local good=0
  if [ $rc -eq 0 ] && [ $got = 2 ] && grep -q "^Reused, TLSv1.3" "$WORK/$name.s_client2.out"; then
    good=1
  fi
  verdict "$name" $good "$olog" "$olog" "$WORK/$name.s_client1.out" "$WORK/$name.s_client2.out"
}
resume_server_case s_client_resume

# ------------------------------------------ 0-RTT over TCP
# The engine does 0-RTT only in QUIC mode (no EndOfEarlyData over TLS records,
# aq_tls.h): over TCP our client must not offer early data even when asked and
# the ticket allows it, and our server must reject it.
# (1) our client, --early-data, resuming against s_server -early_data: the
#     resumed handshake succeeds without early data.
early_data_case() {
  local name=aq_client_0rtt_not_offered_over_tcp slog="$WORK/aq_client_0rtt.s_server.log" clog="$WORK/aq_client_0rtt.client.log"
  # s_server -early_data cannot be combined with -rev; its stdin is held open (no reply awaited).
  local try
  for try in 1 2 3; do
    SPORT=$(pick_port)
    : >"$slog"
    # stdin: a FIFO we hold open read-write, so s_server never sees EOF and no extra process runs.
    [ -p "$WORK/stdin.fifo" ] || mkfifo "$WORK/stdin.fifo"
    exec 9<>"$WORK/stdin.fifo"
    openssl s_server -tls1_3 -accept "127.0.0.1:$SPORT" -naccept 2 -early_data \
      -cert "$WORK/srv_ed.pem" -key "$WORK/srv_ed.key" <&9 >"$slog" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    timeout 10 bash -c "until grep -q '^ACCEPT' '$slog'; do sleep 0.05; done" && break
  done
  timeout 30 "$PEER" client --port "$SPORT" --connections 2 --resume --expect-resumed --early-data \
    --no-reply --timeout 3 $VERBOSE >"$clog" 2>&1
  local rc=$?
  kill "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
  exec 9>&-
  local good=0
  # s_server -early_data reports "No early data received" for each connection without it.
  if [ $rc -eq 0 ] && [ "$(grep -c 'No early data received' "$slog")" = 2 ] &&
     ! grep -qi "error\|bad record mac" "$slog"; then good=1; fi
  verdict "$name" $good "$clog" "$clog" "$slog"
}
early_data_case

# (2) s_client -early_data -> our server (which issued the ticket with --early-data):
#     the early data is rejected and the record layer skips the records it cannot
#     decrypt (RFC 8446 §4.2.10).  "new_server": the ticket came from an earlier
#     server process (another ticket key), so the handshake is full; "same_server":
#     the PSK is accepted (resumed) but 0-RTT is still rejected.
early_server_case() {
  local mode=$1 name="s_client_0rtt_rejected_$1" sess="$WORK/0rtt_$1.sess" ed="$WORK/0rtt.txt"
  local olog1="$WORK/$name.server1.log" olog2="$WORK/$name.server2.log"
  printf 'hello from s_client\n' >"$ed"
  local common=(--cert "$WORK/srv_ec.pem" --key "$WORK/srv_ec.key" --tickets --early-data -v)
  local ocmd=(-tls1_3 -CAfile "$WORK/srv_ec.pem" -verify_return_error -servername localhost -ign_eof)
  local conns=1 want=New
  if [ "$mode" = same_server ]; then conns=2; want=Reused; fi
  if ! start_our_server "$olog1" "${common[@]}" --connections $conns; then
    bad "$name (our server did not start)" "$olog1"
    return
  fi
  printf 'hello from s_client\n' | timeout 30 openssl s_client -connect "127.0.0.1:$OPORT" \
    "${ocmd[@]}" -sess_out "$sess" >"$WORK/$name.c1.out" 2>&1
  local port2=$OPORT olog=$olog1
  if [ "$mode" = new_server ]; then
    wait_pid "$OPID" 10
    if ! start_our_server "$olog2" "${common[@]}"; then
      bad "$name (second server did not start)" "$olog2"
      return
    fi
    port2=$OPORT
    olog=$olog2
  fi
  printf 'hello from s_client\n' | timeout 30 openssl s_client -connect "127.0.0.1:$port2" \
    "${ocmd[@]}" -sess_in "$sess" -early_data "$ed" >"$WORK/$name.c2.out" 2>&1
  wait_pid "$OPID" 10
  local rc=$? good=0
  if [ $rc -eq 0 ] && grep -q "tneilc_s morf olleh" "$WORK/$name.c2.out" &&
     grep -q "Early data was rejected" "$WORK/$name.c2.out" &&
     grep -q "^$want, TLSv1.3" "$WORK/$name.c2.out" &&
     grep -q "skipping a rejected early-data record" "$olog"; then
    good=1
  fi
  echo "our server exit $rc" >>"$olog"
  verdict "$name" $good "$olog" "$olog" "$WORK/$name.c2.out"
}
early_server_case new_server
early_server_case same_server

# ------------------------------------------ negative cases: each must fail, for the stated reason
EXPECT_FAIL="does not match --peer-cert"   # our client pins another key than the server's
client_case neg_aq_client_wrong_pin TLS_AES_128_GCM_SHA256 1301 srv_ed - --peer-cert "$WORK/cli_ec.pem"
EXPECT_FAIL="description 116"              # s_server requires a cert, we have none: certificate_required
SX=(-Verify 1 -verify_return_error -CAfile "$WORK/cli_ec.pem")
client_case neg_s_server_requires_cert TLS_AES_128_GCM_SHA256 1301 srv_ed -
SX=()
EXPECT_FAIL="description 40"               # no common suite: handshake_failure
client_case neg_no_common_suite TLS_AES_256_GCM_SHA384 1301 srv_ed -
EXPECT_FAIL="description 48"               # s_client does not trust our certificate: unknown_ca
server_case neg_s_client_untrusted TLS_AES_128_GCM_SHA256 1301 srv_ec - -CAfile "$WORK/cli_ed.pem"
EXPECT_FAIL="alert 116"                    # our server requires a client cert, none sent
OX=(--client-auth require)
server_case neg_our_server_requires_cert TLS_AES_128_GCM_SHA256 1301 srv_ec -
EXPECT_FAIL="does not match --peer-cert"   # our server pins another client key
OX=(--peer-cert "$WORK/cli_ed.pem")
server_case neg_our_server_wrong_pin TLS_AES_128_GCM_SHA256 1301 srv_ec cli_ec
OX=()
EXPECT_FAIL="alert 120"                    # no common ALPN protocol: no_application_protocol
OX=(--alpn aq-test --alpn-required)
server_case neg_alpn_mismatch TLS_AES_128_GCM_SHA256 1301 srv_ec - -alpn h2
OX=()
EXPECT_FAIL="no NewSessionTicket"          # s_server -num_tickets 0: nothing to resume with
SX=(-naccept 2 -num_tickets 0)
client_case neg_resume_without_ticket TLS_AES_128_GCM_SHA256 1301 srv_ec - --connections 2 --resume
SX=()
EXPECT_FAIL=

echo "interop: $PASS passed, $FAIL failed"
if [ $FAIL -ne 0 ]; then
  printf '  failed: %s\n' "${FAILED[@]}"
  exit 1
fi
exit 0
