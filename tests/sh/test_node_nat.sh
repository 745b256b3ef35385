#!/usr/bin/env bash
# A client behind a Linux NAT (network namespaces, root): it must print the
# NAT's public address and port, exactly as the bootstrap sees it.
#
#   [cli] 192.168.77.2 --- 192.168.77.1 [nat] 203.0.113.1 --- 203.0.113.10 [boot]
#
# The NAT masquerades with random source ports (nftables "masquerade
# random"), so the mapped port differs from the client's own port and only
# address discovery can tell it.  A second client uses two bootstraps and
# gets a different mapping towards each (symmetric behaviour): it prints both
# addresses, the second as a change.  Internet side: documentation range
# 203.0.113.0/24 (RFC 5737); inside: private 192.168.77.0/24.  Namespaces
# carry a per-run prefix and are removed on exit.  Skipped (77) without root.
set -u
. "$(dirname "$0")/test_node_lib.inc"

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root for network namespaces"
  exit 77
fi
for tool in ip nft; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

p="aq$$"
ns_boot="$p-boot" ns_nat="$p-nat" ns_cli="$p-cli"
extra_cleanup='ip netns del "$ns_boot" 2>/dev/null; ip netns del "$ns_nat" 2>/dev/null; ip netns del "$ns_cli" 2>/dev/null'
ip netns add "$ns_boot" && ip netns add "$ns_nat" && ip netns add "$ns_cli" ||
  { echo "SKIP: cannot create network namespaces"; exit 77; }
in_ns() { ip netns exec "$@"; }
set -e
ip link add "${p}b" type veth peer name "${p}nw"
ip link set "${p}b" netns "$ns_boot"
ip link set "${p}nw" netns "$ns_nat"
ip link add "${p}c" type veth peer name "${p}nl"
ip link set "${p}c" netns "$ns_cli"
ip link set "${p}nl" netns "$ns_nat"
in_ns "$ns_boot" ip addr add 203.0.113.10/24 dev "${p}b"
in_ns "$ns_boot" ip addr add 203.0.113.11/24 dev "${p}b"
in_ns "$ns_boot" ip link set "${p}b" up
in_ns "$ns_boot" ip link set lo up
in_ns "$ns_nat" ip addr add 203.0.113.1/24 dev "${p}nw"
in_ns "$ns_nat" ip addr add 192.168.77.1/24 dev "${p}nl"
in_ns "$ns_nat" ip link set "${p}nw" up
in_ns "$ns_nat" ip link set "${p}nl" up
in_ns "$ns_nat" ip link set lo up
in_ns "$ns_nat" sysctl -qw net.ipv4.ip_forward=1
in_ns "$ns_nat" nft -f - <<NFT
table ip aqnat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${p}nw" masquerade random
  }
}
NFT
in_ns "$ns_cli" ip addr add 192.168.77.2/24 dev "${p}c"
in_ns "$ns_cli" ip link set "${p}c" up
in_ns "$ns_cli" ip link set lo up
in_ns "$ns_cli" ip route add default via 192.168.77.1
set +e

start_node boot ip netns exec "$ns_boot" "$AQ_BIN" --json --force-coordinator --listen 203.0.113.10:9000 \
  --identity "$tmp/boot.key"
wait_for boot '"event":"started"' 20 || fail "bootstrap did not start"
start_node cli ip netns exec "$ns_cli" "$AQ_BIN" --json --bootstrap 203.0.113.10:9000 --identity "$tmp/cli.key"
wait_for cli '"event":"bootstrap_connected"' 20 || fail "client did not reach the bootstrap through the NAT"
json "events('started')[0]['listen'][0].rsplit(':', 1)[0] in ('[::]', '0.0.0.0')" cli ||
  fail "client did not bind the default wildcard address"
wait_for cli '"event":"external_address"' 10 || fail "client reported no external address"
ext=$(json 'events("external_address")[0]["addr"]' cli)
echo "client's external address: $ext"
[[ "$ext" =~ ^203\.0\.113\.1:[0-9]+$ ]] || fail "external address $ext is not the NAT's public address"

send boot /peers
wait_for boot '"event":"peers"' 10 || fail "no /peers"
seen=$(json 'events("peers")[-1]["peers"][0]["addr"]' boot)
[ "$ext" = "$seen" ] || fail "client says $ext, bootstrap sees $seen"
cid=$(peer_id_of cli)
json "events('peers')[-1]['peers'][0]['peer_id'] == '$cid'" boot || fail "bootstrap sees another PeerId"

# NAT rebinding.  Mappings expire after 2 s of silence, shorter than the 5 s
# keep-alive, so the next packets leave from a new random port; the
# bootstrap must answer on the new, unvalidated path although the client
# only sends small keep-alives (its 3x anti-amplification budget is below a
# full-size datagram: the core then sends a small one with the ACK and
# PATH_CHALLENGE), and tell the client, which prints the new address
# ("again when it changes").  AQ_TEST_NAT_REBIND=0 skips this part.
if [ "${AQ_TEST_NAT_REBIND:-1}" = 1 ]; then
  in_ns "$ns_nat" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=2 \
    net.netfilter.nf_conntrack_udp_timeout_stream=2 || fail "cannot shorten the NAT timeouts"
  end=$((SECONDS + 25))
  while [ "$(count_lines cli '"event":"external_address"')" -lt 2 ]; do
    [ $SECONDS -ge $end ] && fail "no new external address after the NAT rebinding"
    sleep 0.2
  done
  ext2=$(json 'events("external_address")[1]["addr"]' cli)
  echo "after the NAT rebinding: $ext2"
  json "events('external_address')[1]['changed'] is True" cli || fail "second address not marked changed"
  [[ "$ext2" =~ ^203\.0\.113\.1:[0-9]+$ ]] && [ "$ext2" != "$ext" ] || fail "bad new address $ext2"
  alive cli || fail "client died"
  json "len(events('bootstrap_connected')) == 1" cli || fail "the connection was replaced, not migrated"
fi

# Two bootstraps: "masquerade random" maps each destination to its own port
# (a symmetric NAT), so the two observations differ and the client prints
# both, the second as a change; each matches what that bootstrap sees.
start_node boot2 ip netns exec "$ns_boot" "$AQ_BIN" --json --listen 203.0.113.11:9000 \
  --identity "$tmp/boot2.key"
wait_for boot2 '"event":"started"' 20 || fail "second bootstrap did not start"
start_node sym ip netns exec "$ns_cli" "$AQ_BIN" --json --listen 0.0.0.0:0 \
  --bootstrap 203.0.113.10:9000,203.0.113.11:9000 --identity "$tmp/sym.key"
end=$((SECONDS + 20))
while [ "$(count_lines sym '"event":"external_address"')" -lt 2 ]; do
  [ $SECONDS -ge $end ] && fail "symmetric NAT: fewer than two external addresses"
  sleep 0.2
done
json "len(set(e['addr'] for e in events('external_address'))) == 2 and \
      [e['changed'] for e in events('external_address')] == [False, True] and \
      all(e['addr'].startswith('203.0.113.1:') for e in events('external_address'))" sym ||
  fail "symmetric NAT events: $(json 'events("external_address")' sym)"
sid=$(peer_id_of sym)
for b in boot boot2; do
  bip=203.0.113.10
  [ $b = boot2 ] && bip=203.0.113.11
  send $b /peers
  sleep 0.5
  seen=$(json "[p['addr'] for p in events('peers')[-1]['peers'] if p['peer_id'] == '$sid'][0]" $b) ||
    fail "$b does not list the second client"
  json "'$seen' == [e['addr'] for e in events('external_address') \
        if e['observed_by'] == '$bip:9000'][0]" sym ||
    fail "$b sees $seen, the client was told otherwise: $(json 'events("external_address")' sym)"
done
echo "symmetric NAT: $(json '" and ".join(e["addr"] for e in events("external_address"))' sym)"
send sym /status
wait_for sym '"event":"status"' 10 || fail "no /status"
json "len(events('status')[-1]['discovered_addresses']) == 2" sym || fail "/status lacks both addresses"

for n in sym cli boot2 boot; do
  stop_node $n TERM
  no_sanitizer_report $n
done
echo "PASS: behind the NAT the client discovered $ext"
