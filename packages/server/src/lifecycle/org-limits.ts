/**
 * Organization limits as pure planning (ADR 0023): what an organization uses, and whether a
 * new sprite or a wake fits its limits, or fits once some idle warm sprites go cold. No I/O:
 * `admission.ts` feeds it registry rows and carries out its answer.
 */
import type { OrgLimits } from '../config.js';
import type { SpriteFootprint } from '../registry/index.js';

/** What an organization holds, counted against its limits. */
export interface OrgUsage {
  /** Its sprites, whatever their state. */
  sprites: number;
  /** Sprites with a live container (running or warm) or being booted. */
  live: number;
  /** Sum of `ram_mb` of the live ones. */
  memoryMb: number;
  /** Sum of `storage_gb` of all of them. */
  storageGb: number;
}

/**
 * Room held for a create or a boot that passed admission and has not finished. A create
 * counts as one more sprite (with its disk) until its registry row exists; both count as
 * live until their run is recorded. `spriteId` is null while a create has not picked its id.
 */
export interface Reservation {
  orgId: string;
  spriteId: string | null;
  kind: 'create' | 'start';
  ramMb: number;
  storageGb: number;
}

/** What is enforced: the organization's own limits where set, else the daemon's defaults. */
export function effectiveLimits(defaults: OrgLimits, custom: Partial<OrgLimits>): OrgLimits {
  return {
    sprites: custom.sprites ?? defaults.sprites,
    running: custom.running ?? defaults.running,
    memoryMb: custom.memoryMb ?? defaults.memoryMb,
    storageGb: custom.storageGb ?? defaults.storageGb,
  };
}

/**
 * Usage from the registry's rows plus the reservations in flight. A reservation whose sprite
 * already shows in the rows (its row was inserted, its run recorded) is not counted twice.
 */
export function orgUsage(sprites: readonly SpriteFootprint[], reservations: Iterable<Reservation>): OrgUsage {
  const usage: OrgUsage = { sprites: sprites.length, live: 0, memoryMb: 0, storageGb: 0 };
  const rows = new Map<string, SpriteFootprint>();
  for (const s of sprites) {
    rows.set(s.id, s);
    usage.storageGb += s.storageGb;
    if (s.live) {
      usage.live++;
      usage.memoryMb += s.ramMb;
    }
  }
  const counted = new Set<string>();
  for (const r of reservations) {
    const row = r.spriteId === null ? undefined : rows.get(r.spriteId);
    if (r.spriteId !== null) {
      if (counted.has(r.spriteId)) continue;
      counted.add(r.spriteId);
    }
    if (r.kind === 'create' && !row) {
      usage.sprites++;
      usage.storageGb += r.storageGb;
    }
    if (!row?.live) {
      usage.live++;
      usage.memoryMb += r.ramMb;
    }
  }
  return usage;
}

/** Which limit refused, with the numbers the error reports. */
export interface Refusal {
  limit: 'sprites' | 'storage' | 'running' | 'memory';
  /** The limit (sprites, GB, live sprites, MB). */
  max: number;
  /** What the organization uses of it now. */
  current: number;
  /** What the request would add. */
  requested: number;
}

export type Admission =
  | { kind: 'admit' }
  /** Fits once these warm sprites are cold (least recently used first). */
  | { kind: 'evict'; victims: string[]; refusal: Refusal }
  | { kind: 'refuse'; refusal: Refusal };

/** A warm sprite that may be stopped to make room: frozen, idle, nothing in flight on it. */
export interface EvictionCandidate {
  id: string;
  ramMb: number;
  /** When it was last used (ms since the epoch); the oldest goes first. */
  lastActive: number;
}

export interface AdmissionRequest {
  /** A create (one more sprite, with its disk) rather than the boot of an existing sprite. */
  create: boolean;
  ramMb: number;
  storageGb: number;
}

/**
 * Decides a create or a boot. What an organization keeps (sprites, disk) is checked first and
 * only refused; what it runs (live sprites, memory) may be made room for by putting its
 * least recently used warm sprites to cold, the smallest such prefix that suffices. If even
 * all of them would not make room, nothing is stopped and the request is refused.
 */
export function planAdmission(
  limits: OrgLimits,
  usage: OrgUsage,
  request: AdmissionRequest,
  candidates: readonly EvictionCandidate[],
): Admission {
  if (request.create) {
    if (usage.sprites + 1 > limits.sprites) return refuse('sprites', limits.sprites, usage.sprites, 1);
    if (usage.storageGb + request.storageGb > limits.storageGb)
      return refuse('storage', limits.storageGb, usage.storageGb, request.storageGb);
  }
  const fits = (live: number, memoryMb: number) =>
    live + 1 <= limits.running && memoryMb + request.ramMb <= limits.memoryMb;
  const binding = (live: number): Refusal =>
    live + 1 > limits.running
      ? { limit: 'running', max: limits.running, current: usage.live, requested: 1 }
      : { limit: 'memory', max: limits.memoryMb, current: usage.memoryMb, requested: request.ramMb };
  if (fits(usage.live, usage.memoryMb)) return { kind: 'admit' };
  const first = binding(usage.live);
  // Room that no eviction can make: refuse without stopping anything.
  if (limits.running < 1 || request.ramMb > limits.memoryMb) return { kind: 'refuse', refusal: first };
  const victims: string[] = [];
  let live = usage.live;
  let memoryMb = usage.memoryMb;
  for (const c of [...candidates].sort((a, b) => a.lastActive - b.lastActive)) {
    victims.push(c.id);
    live--;
    memoryMb -= c.ramMb;
    if (fits(live, memoryMb)) return { kind: 'evict', victims, refusal: first };
  }
  return { kind: 'refuse', refusal: binding(live) };
}

function refuse(limit: Refusal['limit'], max: number, current: number, requested: number): Admission {
  return { kind: 'refuse', refusal: { limit, max, current, requested } };
}
