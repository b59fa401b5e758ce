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
# The PTY addon is native: it stays a package next to the bundle (node_modules/@lydell/...).
npx esbuild packages/agent/src/main.ts --bundle --platform=node --target=node20 --format=cjs \
  --external:@lydell/node-pty --log-level=error --outfile=packages/agent/dist/bundle/agent.js
rm -rf packages/agent/dist/bundle/node_modules
mkdir -p packages/agent/dist/bundle/node_modules/@lydell
for pkg in node-pty "node-pty-linux-$(node -p 'process.arch')"; do
  cp -r "node_modules/@lydell/$pkg" packages/agent/dist/bundle/node_modules/@lydell/
done
chmod +x packages/server/dist/main.js
