import type { SpriteConfig as WireSpriteConfig, SpriteInfo as WireSprite } from '@sprites/protocol';

/** Resources of a sprite. */
export interface SpriteConfig {
  ramMB?: number;
  cpus?: number;
  region?: string;
  storageGB?: number;
}

/** Who may open the sprite's URL: `sprite` (the organization's token, default) or `public`. */
export interface URLSettings {
  auth?: 'sprite' | 'public' | (string & {});
  privateAccess?: string;
}

/** Every field of a sprite as the API reports it (the Go SDK's Sprite fields, camelCased). */
export interface SpriteInfo {
  id: string;
  name: string;
  organization: string;
  /** `running`, `warm`, `cold` (and `created` right after a Go-style create). */
  status: string;
  config?: SpriteConfig;
  environment?: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  url?: string;
  urlSettings?: URLSettings;
  bucketName?: string;
  primaryRegion?: string;
  labels?: string[];
  lastRunningAt?: Date;
  lastWarmingAt?: Date;
}

/** Options of `createSprite`. */
export interface CreateSpriteOptions {
  config?: SpriteConfig;
  /** Environment variables every command in the sprite sees. */
  environment?: Record<string, string>;
  urlSettings?: URLSettings;
  labels?: string[];
  waitForCapacity?: boolean;
  signal?: AbortSignal;
  /** Milliseconds (default 120 000: a first create may build the base image). */
  timeout?: number;
}

/** Options of `updateSprite`: at least one of `urlSettings`, `labels`, `clearLabels`. */
export interface UpdateSpriteOptions {
  urlSettings?: URLSettings;
  /** Replaces the labels. */
  labels?: string[];
  /** Removes every label. */
  clearLabels?: boolean;
  signal?: AbortSignal;
  timeout?: number;
}

/** Options of `listSprites`. */
export interface ListOptions {
  prefix?: string;
  maxResults?: number;
  continuationToken?: string;
  signal?: AbortSignal;
  timeout?: number;
}

/** One page of sprites, with the organization's counters and limits. */
export interface SpriteListPage<S> {
  sprites: S[];
  hasMore: boolean;
  nextContinuationToken?: string;
  running?: number;
  warm?: number;
  cold?: number;
  organizationName?: string;
  runningLimit?: number;
  warmLimit?: number;
}

/** An exec session (a command that can be attached to). */
export interface Session {
  id: string;
  command: string;
  workdir: string;
  created: Date;
  bytesPerSecond: number;
  isActive: boolean;
  lastActivity?: Date;
  tty: boolean;
}

/** Progress of `killSession`. */
export interface SessionKillEvent {
  type: 'signal' | 'timeout' | 'exited' | 'killed' | 'error' | 'complete' | (string & {});
  message?: string;
  signal?: string;
  pid?: number;
  exitCode?: number;
}

/** A checkpoint of a sprite's disk. */
export interface Checkpoint {
  id: string;
  createTime: Date;
  comment?: string;
  /** Ancestor checkpoint ids, nearest first. */
  history?: string[];
  isAuto?: boolean;
  sourceId?: string;
}

/** One line of a checkpoint or restore stream. */
export interface StreamMessage {
  type: 'info' | 'stdout' | 'stderr' | 'error' | 'complete' | (string & {});
  data?: string;
  error?: string;
  time?: Date;
}

/** Options of `listCheckpoints`. */
export interface ListCheckpointsOptions {
  /** Only this checkpoint and those descending from it (see docs/api.md). */
  history?: string;
  /** Include auto checkpoints (taken before every restore). */
  includeAuto?: boolean;
  signal?: AbortSignal;
  timeout?: number;
}

/** Client-side metadata of an organization attached to handles (never sent). */
export interface OrganizationInfo {
  name: string;
  url?: string;
}

// ---- wire shapes and converters -------------------------------------------------------

/**
 * @internal A sprite as it arrives: the protocol's `SpriteInfo`, read leniently (the hosted
 * API leaves fields out, sends null for empty objects, and has statuses of its own).
 */
export type WireSpriteInfo = Partial<
  Omit<
    WireSprite,
    'status' | 'config' | 'environment' | 'url_settings' | 'labels' | 'last_running_at' | 'last_warming_at'
  >
> & {
  status?: string;
  config?: WireSpriteConfig | null;
  environment?: WireSprite['environment'] | null;
  url_settings?: { auth?: string; private_access?: string } | null;
  labels?: WireSprite['labels'] | null;
  last_running_at?: string | null;
  last_warming_at?: string | null;
};

/**
 * @internal A wire value as text, the way `String()` prints it (ids may come as numbers);
 * `fallback` when it is absent or null.
 */
export function wireText(v: unknown, fallback = ''): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any wire value prints as String() prints it
  return String(v ?? fallback);
}

function date(v: unknown): Date | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** @internal */
export function spriteInfoFromWire(w: WireSpriteInfo): SpriteInfo {
  return defined({
    id: w.id ?? '',
    name: w.name ?? '',
    organization: w.organization ?? '',
    status: w.status ?? '',
    config: w.config
      ? defined({
          ramMB: w.config.ram_mb,
          cpus: w.config.cpus,
          region: w.config.region,
          storageGB: w.config.storage_gb,
        })
      : undefined,
    environment: w.environment ?? undefined,
    createdAt: date(w.created_at) ?? new Date(0),
    updatedAt: date(w.updated_at) ?? new Date(0),
    url: w.url,
    urlSettings: w.url_settings ? urlSettingsFromWire(w.url_settings) : undefined,
    bucketName: w.bucket_name,
    primaryRegion: w.primary_region,
    labels: w.labels ?? undefined,
    lastRunningAt: date(w.last_running_at),
    lastWarmingAt: date(w.last_warming_at),
  });
}

/** @internal */
export function urlSettingsFromWire(w: { auth?: string; private_access?: string }): URLSettings {
  return defined({ auth: w.auth, privateAccess: w.private_access });
}

/** @internal */
export function urlSettingsToWire(s: URLSettings): { auth?: string; private_access?: string } {
  return defined({ auth: s.auth, private_access: s.privateAccess });
}

/** @internal */
export function configToWire(c: SpriteConfig): Record<string, unknown> {
  return defined({ ram_mb: c.ramMB, cpus: c.cpus, region: c.region, storage_gb: c.storageGB });
}

/** @internal */
export function sessionFromWire(w: Record<string, unknown>): Session {
  return defined({
    id: wireText(w.id),
    command: wireText(w.command),
    workdir: typeof w.workdir === 'string' ? w.workdir : '',
    created: date(w.created) ?? new Date(0),
    bytesPerSecond: typeof w.bytes_per_second === 'number' ? w.bytes_per_second : 0,
    isActive: w.is_active === true,
    lastActivity: date(w.last_activity),
    tty: w.tty === true,
  });
}

/** @internal */
export function checkpointFromWire(w: Record<string, unknown>): Checkpoint {
  return defined({
    id: wireText(w.id),
    createTime: date(w.create_time) ?? new Date(0),
    comment: typeof w.comment === 'string' && w.comment !== '' ? w.comment : undefined,
    history: Array.isArray(w.history) ? w.history.map(String) : undefined,
    isAuto: typeof w.is_auto === 'boolean' ? w.is_auto : undefined,
    sourceId: typeof w.source_id === 'string' && w.source_id !== '' ? w.source_id : undefined,
  });
}

/** @internal */
export function streamMessageFromWire(w: Record<string, unknown>): StreamMessage {
  return defined({
    type: wireText(w.type),
    data: typeof w.data === 'string' ? w.data : undefined,
    error: typeof w.error === 'string' ? w.error : undefined,
    time: date(w.time),
  });
}

/** @internal */
export function killEventFromWire(w: Record<string, unknown>): SessionKillEvent {
  return defined({
    type: wireText(w.type),
    message: typeof w.message === 'string' ? w.message : undefined,
    signal: typeof w.signal === 'string' ? w.signal : undefined,
    pid: typeof w.pid === 'number' ? w.pid : undefined,
    exitCode: typeof w.exit_code === 'number' ? w.exit_code : undefined,
  });
}
