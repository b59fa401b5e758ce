import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  constants as fsConstants,
} from 'node:fs';
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
/** Bounds of one definition, from the API or from disk (docs/operations.md). */
export const MAX_DEFINITION_BYTES = 256 * 1024;
const MAX_ARGS = 4096;
const MAX_NEEDS = 64;
const MAX_ENV = 1024;
/** How many definition files the agent reads at boot; the rest are ignored. */
export const MAX_SERVICES = 256;

export function checkName(name: string): void {
  if (!NAME.test(name))
    throw new ServiceError(
      400,
      'invalid_name',
      `service name "${name.slice(0, 80)}" must be 1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit`,
    );
}

function stringArray(v: unknown, field: string, max: number): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.includes('\0')))
    throw new ServiceError(400, 'validation_failed', `${field} must be an array of strings without NUL bytes`);
  if (v.length > max)
    throw new ServiceError(400, 'validation_failed', `${field} has ${v.length} entries; at most ${max} are allowed`);
  return [...(v as string[])];
}

/** Checks a PUT body (ServiceRequest) and makes a definition of it. */
export function definitionFrom(name: string, body: unknown): ServiceDefinition {
  checkName(name);
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ServiceError(
      400,
      'validation_failed',
      'the body must be a JSON object like {"cmd":"python3","args":["-m","http.server","8080"]}',
    );
  const b = body as Record<string, unknown>;
  if (typeof b.cmd !== 'string' || b.cmd.trim() === '')
    throw new ServiceError(400, 'validation_failed', 'cmd is required: the program to run (args go in "args")');
  if (b.cmd.includes('\0')) throw new ServiceError(400, 'validation_failed', 'cmd must not contain NUL bytes');
  const args = stringArray(b.args, 'args', MAX_ARGS);
  const needs = stringArray(b.needs, 'needs', MAX_NEEDS);
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
    if (
      typeof b.env !== 'object' ||
      Array.isArray(b.env) ||
      Object.values(b.env).some((v) => typeof v !== 'string' || v.includes('\0'))
    ) {
      throw new ServiceError(400, 'validation_failed', 'env must be an object of strings, e.g. {"PORT":"8080"}');
    }
    const keys = Object.keys(b.env);
    if (keys.length > MAX_ENV)
      throw new ServiceError(
        400,
        'validation_failed',
        `env has ${keys.length} variables; at most ${MAX_ENV} are allowed`,
      );
    const bad = keys.find((k) => k === '' || k.includes('=') || k.includes('\0'));
    if (bad !== undefined)
      throw new ServiceError(
        400,
        'validation_failed',
        `env name "${bad.slice(0, 80)}" must be non-empty without "=" or NUL`,
      );
    env = { ...(b.env as Record<string, string>) };
  }
  let dir: string | null = null;
  if (b.dir !== undefined && b.dir !== null) {
    if (typeof b.dir !== 'string' || !b.dir.startsWith('/') || b.dir.includes('\0'))
      throw new ServiceError(400, 'validation_failed', 'dir must be an absolute path');
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
    if (!all.has(n) && n !== changed.name)
      throw new ServiceError(
        400,
        'validation_failed',
        `service ${changed.name} needs "${n}", which does not exist; create it first`,
      );
  }
  if (changed.http_port !== null) {
    const other = [...all.values()].find((s) => s.name !== changed.name && s.http_port !== null);
    if (other)
      throw new ServiceError(
        409,
        'conflict',
        `another service already has an HTTP port configured (${other.name} on ${other.http_port})`,
      );
  }
  const graph = new Map(all);
  graph.set(changed.name, changed);
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    if (visiting.has(name))
      throw new ServiceError(400, 'validation_failed', `needs form a cycle: ${[...path, name].join(' → ')}`);
    visiting.add(name);
    for (const n of graph.get(name)?.needs ?? []) visit(n, [...path, name]);
    visiting.delete(name);
    done.add(name);
  };
  visit(changed.name, []);
}

/** A definition the agent refused to load, and why. */
export interface RefusedDefinition {
  file: string;
  reason: string;
}

/**
 * Keeps the definitions that can run together: those whose `needs` all exist and are not
 * part of (or behind) a cycle, and only the first (by name) with an `http_port`. What a
 * sprite's root wrote on disk is checked as strictly as what arrives over the API.
 */
export function runnableSet(all: Map<string, ServiceDefinition>): {
  kept: Map<string, ServiceDefinition>;
  refused: RefusedDefinition[];
} {
  const refused: RefusedDefinition[] = [];
  const state = new Map<string, 'visiting' | 'ok' | 'bad'>();
  // Iterative depth-first walk: a hostile chain of needs must not overflow the stack.
  const check = (root: string): void => {
    const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
    state.set(root, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const needs = all.get(top.name)!.needs;
      if (top.next < needs.length) {
        const need = needs[top.next++]!;
        const s = state.get(need);
        let why: string | null = null;
        if (!all.has(need)) why = `needs "${need}", which does not exist`;
        else if (s === 'visiting') why = `its needs form a cycle through "${need}"`;
        else if (s === 'bad') why = `needs "${need}", which was refused`;
        if (why !== null) {
          // This service and every one waiting on it in the walk cannot start.
          for (const f of stack) {
            state.set(f.name, 'bad');
            refused.push({
              file: `${f.name}.json`,
              reason: f === top ? why : `needs "${stack[stack.indexOf(f) + 1]!.name}", which was refused`,
            });
          }
          stack.length = 0;
          break;
        }
        if (s === undefined) {
          state.set(need, 'visiting');
          stack.push({ name: need, next: 0 });
        }
        continue;
      }
      state.set(top.name, 'ok');
      stack.pop();
    }
  };
  for (const name of [...all.keys()].sort()) if (!state.has(name)) check(name);
  // A service left 'ok' may still need one refused later through another path: settle that.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, def] of all) {
      if (state.get(name) !== 'ok') continue;
      const bad = def.needs.find((n) => state.get(n) !== 'ok');
      if (bad !== undefined) {
        state.set(name, 'bad');
        refused.push({ file: `${name}.json`, reason: `needs "${bad}", which was refused` });
        changed = true;
      }
    }
  }
  const kept = new Map<string, ServiceDefinition>();
  let httpOwner: string | null = null;
  for (const name of [...all.keys()].sort()) {
    if (state.get(name) !== 'ok') continue;
    const def = all.get(name)!;
    if (def.http_port !== null) {
      if (httpOwner !== null) {
        refused.push({ file: `${name}.json`, reason: `another service (${httpOwner}) already has an http_port` });
        continue;
      }
      httpOwner = name;
    }
    kept.set(name, def);
  }
  // A service behind the refused http_port duplicate would miss what it needs: drop it too.
  return dropMissing(kept, refused);
}

function dropMissing(
  kept: Map<string, ServiceDefinition>,
  refused: RefusedDefinition[],
): { kept: Map<string, ServiceDefinition>; refused: RefusedDefinition[] } {
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, def] of kept) {
      const missing = def.needs.find((n) => !kept.has(n));
      if (missing !== undefined) {
        kept.delete(name);
        refused.push({ file: `${name}.json`, reason: `needs "${missing}", which was refused` });
        changed = true;
      }
    }
  }
  return { kept, refused };
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

  /**
   * The definitions on disk that can run. Everything there is untrusted (the sprite's root
   * writes it): each file is size-capped, checked like an API request, and must be named
   * after its service; the set must be free of unknown needs and cycles. What is refused is
   * reported through `onRefused` and left on disk untouched.
   */
  load(onRefused: (r: RefusedDefinition) => void = () => undefined): Map<string, ServiceDefinition> {
    const out = new Map<string, ServiceDefinition>();
    let files: string[];
    try {
      files = readdirSync(this.dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
    } catch {
      return out;
    }
    if (files.length > MAX_SERVICES) {
      for (const f of files.slice(MAX_SERVICES))
        onRefused({ file: f, reason: `more than ${MAX_SERVICES} service definitions` });
      files = files.slice(0, MAX_SERVICES);
    }
    for (const f of files) {
      try {
        const def = parseStored(f, readCapped(join(this.dir, f), MAX_DEFINITION_BYTES));
        out.set(def.name, def);
      } catch (e) {
        onRefused({ file: f, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    const { kept, refused } = runnableSet(out);
    for (const r of refused) onRefused(r);
    return kept;
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

/** A regular file's contents, refused (not truncated) past `limit` bytes; never follows a FIFO or device. */
function readCapped(path: string, limit: number): string {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > limit) throw new Error(`larger than ${limit} bytes`);
    const buf = Buffer.alloc(limit + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > limit) throw new Error(`larger than ${limit} bytes`);
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** One stored definition: the API's checks, plus the file name and the sticky stop flag. */
function parseStored(file: string, text: string): ServiceDefinition {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  const name = file.slice(0, -'.json'.length);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
  const r = raw as Record<string, unknown>;
  if (r.name !== name)
    throw new Error(`its name ${JSON.stringify(r.name)?.slice(0, 80)} is not the file's name "${name}"`);
  const def = definitionFrom(name, raw);
  def.stopped = r.stopped === true;
  return def;
}
