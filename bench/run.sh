#!/usr/bin/env bash
# make bench: run every benchmark; each prints its own baseline measured in the same run.
set -u
build=${1:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*.sh; do
  [ "$(basename "$script")" = run.sh ] && continue
  echo "== $(basename "$script")"
  bash "$script" "$build" || status=1
done
exit $status
