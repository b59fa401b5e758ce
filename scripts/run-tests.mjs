#!/usr/bin/env node
// Runs the whole suite with Node's test runner (TypeScript through tsx):
// unit tests (src/**/*.test.ts), integration tests on real host resources
// (packages/*/test/*.int.test.ts) and end-to-end tests against a real spritesd (test/e2e).
// `--unit` runs only the unit tests. Extra arguments go to `node --test`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const passThrough = args.filter((a) => a !== '--unit');

function find(dir, pattern, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, pattern, out);
    else if (pattern.test(name)) out.push(path);
  }
  return out;
}

const unit = find('packages', /\.test\.ts$/).filter((p) => !p.endsWith('.int.test.ts'));
const integration = unitOnly ? [] : find('packages', /\.int\.test\.ts$/);
const e2e = unitOnly ? [] : find('test/e2e', /\.test\.ts$/);
const files = [...unit, ...integration, ...e2e].sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...passThrough, ...files],
  { stdio: 'inherit', env: process.env },
);
process.exit(result.status ?? 1);
