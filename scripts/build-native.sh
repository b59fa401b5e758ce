#!/usr/bin/env bash
# Builds what tsc does not: the native helpers and the single-file agent and CLI bundles.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p packages/server/native/build
src=packages/server/native/sprites-helper.c
out=packages/server/native/build/sprites-helper
if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
  cc -O2 -Wall -Wextra -o "$out.tmp" "$src"
  mv "$out.tmp" "$out"
fi
# The agent's native helpers (process spawner, per-thread file credentials), a Node-API addon (headers from the node-api-headers package).
addon_src=packages/agent/native/agent-native.c
addon=packages/agent/native/build/agent-native.node
mkdir -p packages/agent/native/build
if [ ! -f "$addon" ] || [ "$addon_src" -nt "$addon" ]; then
  cc -O2 -Wall -Wextra -shared -fPIC -pthread -I node_modules/node-api-headers/include -o "$addon.tmp" "$addon_src"
  mv "$addon.tmp" "$addon"
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
cp "$addon" packages/agent/dist/bundle/agent-native.node
chmod +x packages/server/dist/main.js
# The `sprite` CLI as one file: Node then loads one script instead of ~40 modules and the
# ws package, which was most of a CLI call's start-up time (ADR 0013).
npx esbuild packages/cli/src/sprite.ts --bundle --platform=node --target=node20 --format=cjs --minify \
  --log-level=error --outfile=packages/cli/dist/sprite.cjs
chmod +x packages/cli/dist/sprite.cjs
