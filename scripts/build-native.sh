#!/usr/bin/env bash
# Builds what tsc does not: the native helper and the single-file agent bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p packages/server/native/build
src=packages/server/native/sprites-helper.c
out=packages/server/native/build/sprites-helper
if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
  cc -O2 -Wall -Wextra -o "$out.tmp" "$src"
  mv "$out.tmp" "$out"
fi
# One file, CommonJS, no node_modules: it is bind-mounted read-only into every sprite.
npx esbuild packages/agent/src/main.ts --bundle --platform=node --target=node20 --format=cjs \
  --log-level=warning --outfile=packages/agent/dist/bundle/agent.js
chmod +x packages/server/dist/main.js
