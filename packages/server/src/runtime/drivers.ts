import { existsSync, readFileSync } from 'node:fs';
import { run } from '../host/index.js';
import { helperPath } from '../host/index.js';
import type { RuntimeDriver } from './driver.js';
import { UnknownDriverError } from './driver.js';
import { OciCliDriver } from './oci-cli.js';

/**
 * crun 1.8 refuses hosts whose cgroup2 hierarchy at /sys/fs/cgroup/unified has controllers
 * ("hybrid" mode); it must run where that hierarchy is hidden.
 */
export function isHybridCgroupHost(): boolean {
  const path = '/sys/fs/cgroup/unified/cgroup.controllers';
  return existsSync(path) && readFileSync(path, 'utf8').trim() !== '';
}

async function versionOf(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['--version']);
  return (stdout.split('\n')[0] ?? '').replace(/^\S+ version /, '').trim();
}

async function loadCrun(): Promise<RuntimeDriver> {
  const prefix = isHybridCgroupHost() ? [helperPath(), 'hide-unified', '--'] : [];
  return new OciCliDriver('crun', 'crun', await versionOf('crun'), prefix);
}

async function loadRunc(): Promise<RuntimeDriver> {
  return new OciCliDriver('runc', 'runc', await versionOf('runc'));
}

export const runtimeDrivers: Record<string, () => Promise<RuntimeDriver>> = { crun: loadCrun, runc: loadRunc };

export async function loadRuntime(name: string): Promise<RuntimeDriver> {
  const load = runtimeDrivers[name];
  if (!load) throw new UnknownDriverError(name, Object.keys(runtimeDrivers));
  return load();
}
