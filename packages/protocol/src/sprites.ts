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
  running_limit: number;
  warm_limit: number;
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

export interface CreateTokenRequest {
  description?: string;
  invite_code?: string;
}

export interface CreateTokenResponse {
  token: string;
}
