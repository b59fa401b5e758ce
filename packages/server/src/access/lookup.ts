import { ErrorCode, nameProblem, SpriteError } from '@sprites/protocol';
import type { Registry, SpriteRecord } from '../registry/index.js';

/** The caller's sprite by name; another organization's sprite is indistinguishable from none. */
export async function findSprite(registry: Registry, orgId: string, name: string): Promise<SpriteRecord> {
  const sprite = nameProblem(name) === null ? await registry.sprites.byName(orgId, name) : null;
  if (!sprite) throw new SpriteError(ErrorCode.SpriteNotFound, `sprite not found: ${name}`);
  return sprite;
}
