import type { Registry, SpriteRecord } from '../registry/index.js';

export interface SpriteHost {
  sprite: SpriteRecord;
}

const CACHE_MS = 2000;
const CACHE_MAX = 10_000;

/**
 * Finds the sprite a URL label names. Each sprite's label `<name>-<org>` is stored unique over
 * all organizations (checked at create), so a label names at most one sprite whatever dashes
 * the names hold. Answers are cached briefly (a URL request must add well under a
 * millisecond); the API drops a sprite's entry when its settings change or it is deleted.
 */
export class SpriteHosts {
  private readonly cache = new Map<string, { at: number; found: SpriteHost | null }>();

  constructor(private readonly registry: Registry) {}

  async find(label: string): Promise<SpriteHost | null> {
    const hit = this.cache.get(label);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.found;
    const sprite = await this.registry.sprites.byUrlLabel(label);
    const found = sprite ? { sprite } : null;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(label, { at: Date.now(), found });
    return found;
  }

  /** Drops what is cached about a sprite (its settings changed, or it was deleted). */
  forget(spriteId: string): void {
    for (const [label, entry] of this.cache) if (entry.found?.sprite.id === spriteId) this.cache.delete(label);
  }
}
