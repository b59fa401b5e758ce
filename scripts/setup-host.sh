#!/usr/bin/env bash
# Installs everything spritesd needs on a Debian host and builds the project.
# Idempotent: installs only what is missing. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup-host: run as root (spritesd manages mounts, namespaces, cgroups and nftables)" >&2
  exit 1
fi

# Installs the Debian packages of the arguments that are not installed yet.
install_missing() {
  local why=$1
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-host: installing ${missing[*]} ($why)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Debian packages: the OCI runtimes, PID 1 of every sprite, the storage pool, the base image
# builder, the network, and a C compiler for the small native helper.
install_missing "for spritesd" crun runc tini btrfs-progs mmdebstrap nftables iproute2 uidmap ca-certificates gcc libc6-dev util-linux procps
# For the tests only: a real browser runs the SDK's browser flavour (test/e2e/sdk-runtimes);
# tmux is the real terminal the CLI's console is driven through (test/e2e/cli).
install_missing "for the tests" chromium tmux openssl

echo "setup-host: installing npm dependencies"
npm install --no-audit --no-fund --loglevel=error
echo "setup-host: installing the official clients and the runtimes (Node 24, Bun, Deno) used by the compatibility tests (test/compat)"
npm install --prefix test/compat --no-audit --no-fund --loglevel=error
echo "setup-host: building"
npm run --silent build
# The `sprite` command on PATH; on this host it finds the daemon and its admin token itself.
ln -sf "$PWD/packages/cli/dist/sprite.cjs" /usr/local/bin/sprite
echo "setup-host: done"
