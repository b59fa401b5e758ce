import type { Generated } from 'kysely';

/** Row types of the registry. Times are RFC 3339 strings; JSON columns are text. */
export interface OrganizationsTable {
  id: string;
  slug: string;
  created_at: string;
}

export interface TokensTable {
  id: string;
  org_id: string;
  /** sha256 of the token; the token itself is never stored. */
  token_hash: string;
  description: string;
  is_admin: number;
  created_at: string;
}

export interface SpritesTable {
  id: string;
  org_id: string;
  name: string;
  /** What the user last asked for or the lifecycle last reached: cold | warm | running. */
  status: string;
  config_json: string;
  environment_json: string;
  labels_json: string;
  url_settings_json: string;
  image_key: string;
  created_at: string;
  updated_at: string;
  last_running_at: string | null;
  last_warming_at: string | null;
  /** Monotonic creation order, for stable pagination. */
  seq: Generated<number>;
  /** The checkpoint the disk descends from (last taken or restored); null before the first. */
  current_checkpoint: string | null;
  /** btrfs level-1 quota group (1/N) of the sprite's volume and checkpoints; null until set. */
  quota_group: number | null;
  network_policy_json: Generated<string>;
  network_policy_generation: Generated<number>;
  /** The number the next `vN` checkpoint gets. */
  next_checkpoint_version: Generated<number>;
  /** `<name>-<org slug>`, unique: the host label of the sprite's URL (null: it has no URL). */
  url_label: string | null;
}

/** A checkpoint: a read-only snapshot of a sprite's disk (ids v0, v1, … or auto-<ms>). */
export interface CheckpointsTable {
  sprite_id: string;
  id: string;
  /** Order of creation within the sprite (auto checkpoints included). */
  seq: number;
  is_auto: number;
  comment: string | null;
  source_id: string | null;
  /** Ancestor ids, nearest first (JSON array). */
  history_json: string;
  created_at: string;
}

/** Host resources a running sprite holds, so a restarted daemon can re-adopt or reclaim them. */
export interface RunsTable {
  sprite_id: string;
  run_id: string;
  net_slot: number;
  id_slot: number;
  started_at: string;
}

/** Limits the admin set for an organization; null: the daemon's default. */
export interface OrgLimitsTable {
  org_id: string;
  sprite_limit: number | null;
  running_limit: number | null;
  memory_limit_mb: number | null;
  storage_limit_gb: number | null;
  updated_at: string;
}

export interface Database {
  organizations: OrganizationsTable;
  tokens: TokensTable;
  sprites: SpritesTable;
  runs: RunsTable;
  checkpoints: CheckpointsTable;
  org_limits: OrgLimitsTable;
}
