/** Sprite management types, exactly as they travel on the wire (PROTOCOL.md §4). */

export type SpriteStatus = 'cold' | 'warm' | 'running';

export interface SpriteConfig {
  ram_mb?: number;
  cpus?: number;
  region?: string;
  storage_gb?: number;
}

export type URLAuth = 'sprite' | 'public';

export interface URLSettings {
  auth?: URLAuth;
  private_access?: string;
}

export interface SpriteInfo {
  id: string;
  name: string;
  organization: string;
  status: SpriteStatus;
  config: Required<SpriteConfig>;
  environment: Record<string, string>;
  created_at: string;
  updated_at: string;
  bucket_name?: string;
  primary_region: string;
  url: string;
  url_settings: URLSettings;
  labels: string[];
  last_running_at: string | null;
  last_warming_at: string | null;
}

export interface CreateSpriteRequest {
  name: string;
  config?: SpriteConfig;
  environment?: Record<string, string>;
  labels?: string[];
  url_settings?: URLSettings | null;
  wait_for_capacity?: boolean;
  runtime?: string;
}

export interface UpdateSpriteRequest {
  url_settings?: URLSettings | null;
  labels?: string[];
  clear_labels?: boolean;
}

export interface OrgInfo {
  name: string;
  running: number;
  warm: number;
  cold: number;
  /** Live sprites (running + warm) the organization may have at once. */
  running_limit: number;
  /** The same number: a warm sprite counts against the running limit. */
  warm_limit: number;
  /** Server extension: the organization's limits (see OrganizationLimits) and what it uses. */
  sprite_limit?: number;
  memory_limit_mb?: number;
  storage_limit_gb?: number;
  sprite_count?: number;
  memory_used_mb?: number;
  storage_used_gb?: number;
}

export interface ListSpritesResponse extends Partial<OrgInfo> {
  sprites: SpriteInfo[];
  org?: OrgInfo;
  has_more: boolean;
  next_continuation_token: string | null;
}

export interface CreateOrganizationRequest {
  name: string;
}

export interface OrganizationInfo {
  name: string;
  created_at: string;
}

/**
 * An organization's limits (server extension): sprites it may have, live (running or warm)
 * sprites at once, the sum of its live sprites' `ram_mb`, the sum of all its sprites'
 * `storage_gb`.
 */
export interface OrganizationLimits {
  sprite_limit: number;
  running_limit: number;
  memory_limit_mb: number;
  storage_limit_gb: number;
}

/** `PUT /v1/organizations/{org}/limits`: a number sets a limit, `null` returns it to the default, absent leaves it. */
export type SetOrganizationLimitsRequest = { [K in keyof OrganizationLimits]?: number | null };

export interface OrganizationUsage {
  sprite_count: number;
  /** Running + warm sprites (and ones booting). */
  live_count: number;
  memory_used_mb: number;
  storage_used_gb: number;
}

/** `GET /v1/organizations/{org}/limits`. */
export interface OrganizationLimitsResponse {
  organization: string;
  /** What is enforced: `custom` where set, else `defaults`. */
  limits: OrganizationLimits;
  /** The limits set for this organization through the API. */
  custom: Partial<OrganizationLimits>;
  /** The daemon's defaults for this organization (operations.md). */
  defaults: OrganizationLimits;
  usage: OrganizationUsage;
}

export interface CreateTokenRequest {
  description?: string;
  invite_code?: string;
}

export interface CreateTokenResponse {
  token: string;
}
