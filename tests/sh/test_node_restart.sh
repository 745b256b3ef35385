#!/usr/bin/env bash
# Bootstrap restarted mid-run: two clients reconnect by themselves within 10 s.
#  1. SIGTERM: the bootstrap closes the connections (CONNECTION_CLOSE with a
#     reason); the clients retry with backoff until it is back.
#  2. SIGKILL: nothing is sent; the restarted bootstrap (same identity, so the
#     same stateless-reset key) resets the old connections when the clients'
#     keep-alives (5 s) reach it, and the clients reconnect.
#  3. A client crashes and restarts: the bootstrap replaces its connection.
set -u
. "$(dirname "$0")/test_node_lib.inc"

start_node boot "$AQ_BIN" --json --listen 127.0.0.1:0 --identity "$tmp/boot.key"
wait_for boot '"event":"started"' 20 || fail "bootstrap did not start"
bport=$(port_of boot) || fail "no bootstrap port"
bid=$(peer_id_of boot)

for c in c1 c2; do
  start_node $c "$AQ_BIN" --json --listen 127.0.0.1:0 --bootstrap "127.0.0.1:$bport" \
    --identity "$tmp/$c.key"
done
for c in c1 c2; do
  wait_for $c '"event":"bootstrap_connected"' 20 || fail "$c did not connect"
done

# --- 1: graceful restart
stop_node boot TERM
for c in c1 c2; do
  wait_for $c '"event":"bootstrap_disconnected"' 5 || fail "$c did not notice the shutdown"
done
sleep 1 # the bootstrap stays away for a second; clients keep retrying
mv "$tmp/boot.out" "$tmp/boot1.log"
start_node boot "$AQ_BIN" --json --listen "127.0.0.1:$bport" --identity "$tmp/boot.key"
wait_for boot '"event":"started"' 20 || fail "bootstrap did not restart on port $bport"
[ "$(peer_id_of boot)" = "$bid" ] || fail "bootstrap PeerId changed across the restart"
t0=$SECONDS
for c in c1 c2; do
  end=$((t0 + 10))
  while [ "$(count_lines $c '"event":"bootstrap_connected"')" -lt 2 ]; do
    [ $SECONDS -ge $end ] && fail "$c did not reconnect within 10 s of the restart"
    sleep 0.1
  done
done
echo "reconnected after SIGTERM restart in $((SECONDS - t0)) s"
send boot /peers
wait_for boot '"event":"peers"' 10 || fail "no /peers"
json "events('peers')[-1]['count'] == 2" boot || fail "restarted bootstrap does not see both clients"

# --- 2: crash (SIGKILL) and restart
kill -KILL "$boot_pid"
wait "$boot_pid" 2>/dev/null
mv "$tmp/boot.out" "$tmp/boot2.log"
start_node boot "$AQ_BIN" --json --listen "127.0.0.1:$bport" --identity "$tmp/boot.key"
wait_for boot '"event":"started"' 20 || fail "bootstrap did not restart after SIGKILL"
t0=$SECONDS
for c in c1 c2; do
  end=$((t0 + 10))
  while [ "$(count_lines $c '"event":"bootstrap_connected"')" -lt 3 ]; do
    [ $SECONDS -ge $end ] && fail "$c did not reconnect within 10 s of the crash restart"
    sleep 0.1
  done
done
echo "reconnected after SIGKILL restart in $((SECONDS - t0)) s"
# --- 3: a client crashes and comes back with the same identity: the
# bootstrap keeps one connection per PeerId (the older one is closed).
kill -KILL "$c1_pid"
wait "$c1_pid" 2>/dev/null
mv "$tmp/c1.out" "$tmp/c1-first.log"
start_node c1 "$AQ_BIN" --json --listen 127.0.0.1:0 --bootstrap "127.0.0.1:$bport" \
  --identity "$tmp/c1.key"
wait_for c1 '"event":"bootstrap_connected"' 20 || fail "restarted c1 did not connect"
c1id=$(peer_id_of c1)
end=$((SECONDS + 5))
while :; do
  send boot /peers
  sleep 0.5
  json "events('peers')[-1]['count'] == 2 and \
        [p['peer_id'] for p in events('peers')[-1]['peers']].count('$c1id') == 1" boot && break
  [ $SECONDS -ge $end ] && fail "bootstrap still lists the crashed c1 twice: $(json 'events("peers")[-1]' boot)"
done

for c in c1 c2; do
  alive $c || fail "$c died"
  stop_node $c TERM
  no_sanitizer_report $c
done
stop_node boot TERM
no_sanitizer_report boot
echo "PASS: clients reconnect to a restarted bootstrap"
