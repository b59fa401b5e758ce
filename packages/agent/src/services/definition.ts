import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A service as stored and as the API shows it (PROTOCOL.md §11.1, plus env and dir). */
export interface ServiceDefinition {
  name: string;
  cmd: string;
  args: string[];
  env: Record<string, string>;
  dir: string | null;
  needs: string[];
  http_port: number | null;
  /** A stop is sticky: a stopped service stays stopped across boots until started. */
  stopped: boolean;
}

/** A refused definition: status and message for the client. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkName(name: string): void {
  if (!NAME.test(name)) throw new ServiceError(400, 'invalid_name', `service name "${name.slice(0, 80)}" must be 1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit`);
}

function stringArray(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ServiceError(400, 'validation_failed', `${field} must be an array of strings`);
  return v as string[];
}

/** Checks a PUT body (ServiceRequest) and makes a definition of it. */
export function definitionFrom(name: string, body: unknown): ServiceDefinition {
  checkName(name);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ServiceError(400, 'validation_failed', 'the body must be a JSON object like {"cmd":"python3","args":["-m","http.server","8080"]}');
  const b = body as Record<string, unknown>;
  if (typeof b.cmd !== 'string' || b.cmd.trim() === '') throw new ServiceError(400, 'validation_failed', 'cmd is required: the program to run (args go in "args")');
  if (b.cmd.includes('\0')) throw new ServiceError(400, 'validation_failed', 'cmd must not contain NUL bytes');
  const args = stringArray(b.args, 'args');
  const needs = stringArray(b.needs, 'needs');
  for (const n of needs) checkName(n);
  if (needs.includes(name)) throw new ServiceError(400, 'validation_failed', `service ${name} cannot need itself`);
  let httpPort: number | null = null;
  if (b.http_port !== undefined && b.http_port !== null) {
    if (typeof b.http_port !== 'number' || !Number.isInteger(b.http_port) || b.http_port < 1 || b.http_port > 65535) {
      throw new ServiceError(400, 'validation_failed', 'http_port must be an integer from 1 to 65535');
    }
    httpPort = b.http_port;
  }
  let env: Record<string, string> = {};
  if (b.env !== undefined && b.env !== null) {
    if (typeof b.env !== 'object' || Array.isArray(b.env) || Object.values(b.env).some((v) => typeof v !== 'string')) {
      throw new ServiceError(400, 'validation_failed', 'env must be an object of strings, e.g. {"PORT":"8080"}');
    }
    env = b.env as Record<string, string>;
  }
  let dir: string | null = null;
  if (b.dir !== undefined && b.dir !== null) {
    if (typeof b.dir !== 'string' || !b.dir.startsWith('/')) throw new ServiceError(400, 'validation_failed', 'dir must be an absolute path');
    dir = b.dir;
  }
  return { name, cmd: b.cmd, args, env, dir, needs, http_port: httpPort, stopped: false };
}

/**
 * Rejects definitions that cannot all run: unknown `needs`, cycles, and a second service
 * with an `http_port` (the sprite URL routes to one).
 */
export function checkSet(all: Map<string, ServiceDefinition>, changed: ServiceDefinition): void {
  for (const n of changed.needs) {
    if (!all.has(n) && n !== changed.name) throw new ServiceError(400, 'validation_failed', `service ${changed.name} needs "${n}", which does not exist; create it first`);
  }
  if (changed.http_port !== null) {
    const other = [...all.values()].find((s) => s.name !== changed.name && s.http_port !== null);
    if (other) throw new ServiceError(409, 'conflict', `another service already has an HTTP port configured (${other.name} on ${other.http_port})`);
  }
  const graph = new Map(all);
  graph.set(changed.name, changed);
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new ServiceError(400, 'validation_failed', `needs form a cycle: ${[...path, name].join(' → ')}`);
    visiting.add(name);
    for (const n of graph.get(name)?.needs ?? []) visit(n, [...path, name]);
    visiting.delete(name);
    done.add(name);
  };
  visit(changed.name, []);
}

/** Services in an order where every service comes after what it needs. */
export function startOrder(all: Map<string, ServiceDefinition>): ServiceDefinition[] {
  const out: ServiceDefinition[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const def = all.get(name);
    if (!def) return;
    for (const n of def.needs) visit(n);
    out.push(def);
  };
  for (const name of [...all.keys()].sort()) visit(name);
  return out;
}

/** Definitions live on the sprite's own disk, so they come back after boots and restores. */
export class DefinitionStore {
  constructor(private readonly dir: string) {}

  load(): Map<string, ServiceDefinition> {
    const out = new Map<string, ServiceDefinition>();
    let files: string[] = [];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return out;
    }
    for (const f of files) {
      try {
        const def = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as ServiceDefinition;
        if (typeof def.name === 'string' && typeof def.cmd === 'string') out.set(def.name, { ...def, env: def.env ?? {}, dir: def.dir ?? null, needs: def.needs ?? [], args: def.args ?? [], http_port: def.http_port ?? null, stopped: def.stopped === true });
      } catch {
        // a damaged file is skipped; the rest still start
      }
    }
    return out;
  }

  save(def: ServiceDefinition): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const path = join(this.dir, `${def.name}.json`);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(def, null, 2)}\n`, { mode: 0o644 });
    renameSync(`${path}.tmp`, path);
  }

  remove(name: string): void {
    rmSync(join(this.dir, `${name}.json`), { force: true });
  }
}
