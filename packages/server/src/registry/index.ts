export { openRegistry, type RegistryDb } from './db.js';
export { OrganizationStore, type Organization } from './orgs.js';
export { TokenStore, hashToken, generateToken, type TokenGrant } from './tokens.js';
export {
  SpriteStore,
  NameTakenError,
  UrlTakenError,
  type SpriteRecord,
  type NewSprite,
  type ListPage,
  type SpriteFootprint,
} from './sprites.js';
export { RunStore, type RunRecord } from './runs.js';
export { CheckpointStore, type CheckpointRecord } from './checkpoints.js';
export { OrgLimitStore, type OrgLimitOverrides, type OrgLimitPatch } from './org-limits.js';

import { CheckpointStore } from './checkpoints.js';
import type { RegistryDb } from './db.js';
import { OrganizationStore } from './orgs.js';
import { OrgLimitStore } from './org-limits.js';
import { RunStore } from './runs.js';
import { SpriteStore } from './sprites.js';
import { TokenStore } from './tokens.js';

/** The repositories over one database. */
export interface Registry {
  db: RegistryDb;
  orgs: OrganizationStore;
  tokens: TokenStore;
  sprites: SpriteStore;
  runs: RunStore;
  checkpoints: CheckpointStore;
  orgLimits: OrgLimitStore;
}

export function repositories(db: RegistryDb): Registry {
  return {
    db,
    orgs: new OrganizationStore(db),
    tokens: new TokenStore(db),
    sprites: new SpriteStore(db),
    runs: new RunStore(db),
    checkpoints: new CheckpointStore(db),
    orgLimits: new OrgLimitStore(db),
  };
}
export { urlLabel } from './migrations.js';
