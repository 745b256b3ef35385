#!/usr/bin/env bash
# Install the Debian 12 packages the build and the tests need, if missing.
# Runs apt-get as root (or through sudo).  Safe to run again: it only installs
# what dpkg does not already list as installed.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libssl-dev openssl clang libclang-rt-14-dev
      valgrind iproute2 nftables iptables procps python3)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo for apt-get" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
