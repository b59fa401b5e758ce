#!/usr/bin/env bash
# Installs everything spritesd needs on a Debian host and builds the project.
# Idempotent: installs only what is missing. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup-host: run as root (spritesd manages mounts, namespaces, cgroups and nftables)" >&2
  exit 1
fi

# Debian packages: the OCI runtimes, PID 1 of every sprite, the storage pool, the base image
# builder, the network, and a C compiler for the small native helper.
packages=(crun runc tini btrfs-progs mmdebstrap nftables iproute2 uidmap ca-certificates gcc libc6-dev util-linux procps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-host: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup-host: installing npm dependencies"
npm install --no-audit --no-fund --loglevel=error
echo "setup-host: installing the official clients used by the compatibility tests (test/compat)"
npm install --prefix test/compat --no-audit --no-fund --loglevel=error
echo "setup-host: building"
npm run --silent build
echo "setup-host: done"
