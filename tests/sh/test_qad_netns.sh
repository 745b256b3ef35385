#!/usr/bin/env bash
# test_qad_netns.sh - QUIC address discovery through a real Linux NAT.
#
# Three network namespaces (created and removed here; names unique per run):
#   server  203.0.113.10/24  ("internet", documentation range)
#   router  203.0.113.1/24 on its WAN veth, 10.77.0.1/24 on its LAN veth;
#           forwards and MASQUERADEs UDP to ports 40000-40999 (iptables, or nft)
#   client  10.77.0.2/24, default route via the router
# qad_probe (tests/tools/qad_probe.c, node_ep + aq_ep_set_qad) runs as the
# server and as the client; the client must learn 203.0.113.1:<the NAT's
# port>, exactly the address the server sees it come from, and the server
# must learn 203.0.113.10:4433.
#
# Needs root and iproute2; skipped (exit 77) otherwise.
set -u

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root (network namespaces)"
  exit 77
fi
if ! command -v ip >/dev/null 2>&1; then
  echo "SKIP: iproute2 (ip) missing"
  exit 77
fi
B=${AQ_BUILD_DIR:-build/asan}
PROBE=$B/qad_probe
if [ ! -x "$PROBE" ]; then
  echo "FAIL: $PROBE not built"
  exit 1
fi

P=qa$$
NS_S=${P}s
NS_R=${P}r
NS_C=${P}c
TMP=$(mktemp -d)
SRV_PID=

cleanup() {
  if [ -n "$SRV_PID" ]; then
    kill "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
  fi
  for ns in "$NS_C" "$NS_R" "$NS_S"; do
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

if ! ip netns add "$NS_S" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here"
  exit 77
fi
set -e
ip netns add "$NS_R"
ip netns add "$NS_C"
ip link add "${P}w0" type veth peer name "${P}w1"
ip link set "${P}w0" netns "$NS_R"
ip link set "${P}w1" netns "$NS_S"
ip link add "${P}l0" type veth peer name "${P}l1"
ip link set "${P}l0" netns "$NS_R"
ip link set "${P}l1" netns "$NS_C"
for ns in "$NS_S" "$NS_R" "$NS_C"; do
  ip -n "$ns" link set lo up
done
ip -n "$NS_R" addr add 203.0.113.1/24 dev "${P}w0"
ip -n "$NS_R" link set "${P}w0" up
ip -n "$NS_S" addr add 203.0.113.10/24 dev "${P}w1"
ip -n "$NS_S" link set "${P}w1" up
ip -n "$NS_R" addr add 10.77.0.1/24 dev "${P}l0"
ip -n "$NS_R" link set "${P}l0" up
ip -n "$NS_C" addr add 10.77.0.2/24 dev "${P}l1"
ip -n "$NS_C" link set "${P}l1" up
ip -n "$NS_C" route add default via 10.77.0.1
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
set +e

# The NAT: iptables if it works here, else nftables.
if ip netns exec "$NS_R" iptables -t nat -A POSTROUTING -o "${P}w0" -p udp \
     -j MASQUERADE --to-ports 40000-40999 2>/dev/null; then
  echo "NAT: iptables MASQUERADE --to-ports 40000-40999"
elif command -v nft >/dev/null 2>&1 &&
     ip netns exec "$NS_R" nft -f - <<EOF
table ip aqnat {
  chain post {
    type nat hook postrouting priority 100;
    oifname "${P}w0" meta l4proto udp masquerade to :40000-40999
  }
}
EOF
then
  echo "NAT: nft masquerade to :40000-40999"
else
  echo "SKIP: neither iptables nor nft can set up a MASQUERADE NAT here"
  exit 77
fi

ip netns exec "$NS_S" "$PROBE" server 203.0.113.10:4433 30 >"$TMP/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 1 50); do
  grep -q '^LISTEN' "$TMP/server.log" && break
  sleep 0.1
done
if ! grep -q '^LISTEN 203.0.113.10:4433' "$TMP/server.log"; then
  echo "FAIL: server did not start"
  cat "$TMP/server.log"
  exit 1
fi

status=0
ip netns exec "$NS_C" "$PROBE" client 10.77.0.2:0 203.0.113.10:4433 10 >"$TMP/client.log" 2>&1 ||
  status=$?
sleep 0.3
echo "--- client"
cat "$TMP/client.log"
echo "--- server"
cat "$TMP/server.log"
if [ "$status" != 0 ]; then
  echo "FAIL: client exited with $status"
  exit 1
fi

local_addr=$(awk '/^LOCAL/{print $2; exit}' "$TMP/client.log")
observed=$(awk '/^OBSERVED/{print $2; exit}' "$TMP/client.log")
changed=$(awk '/^OBSERVED/{print $3; exit}' "$TMP/client.log")
discovered=$(awk '/^DISCOVERED/{print $2 " " $4; exit}' "$TMP/client.log")
peer=$(awk '/^PEER/{print $2; exit}' "$TMP/server.log")
srv_observed=$(awk '/^OBSERVED/{print $2; exit}' "$TMP/server.log")
fail=0
check() { # description, condition result
  if [ "$2" = yes ]; then
    echo "ok   $1"
  else
    echo "FAIL $1"
    fail=1
  fi
}
yn() { if "$@"; then echo yes; else echo no; fi; }
port=${observed##*:}
check "client bound inside the LAN ($local_addr)" "$(yn test "${local_addr%%:*}" = 10.77.0.2)"
check "client learned the NAT's public IP ($observed)" "$(yn test "${observed%%:*}" = 203.0.113.1)"
check "observed port $port is one the NAT hands out (40000-40999)" \
  "$(yn test "$port" -ge 40000 -a "$port" -le 40999)"
check "client's observation = the address the server sees ($peer)" "$(yn test "$observed" = "$peer")"
check "first observation is flagged as a change ($changed)" "$(yn test "$changed" = changed=1)"
check "discovered set: $discovered" \
  "$(yn test "$discovered" = "$observed reporter=203.0.113.10:4433")"
check "server learned its own address ($srv_observed)" "$(yn test "$srv_observed" = 203.0.113.10:4433)"
exit $fail
