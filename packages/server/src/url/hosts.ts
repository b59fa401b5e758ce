import type { Registry, SpriteRecord } from '../registry/index.js';
import type { Organization } from '../registry/orgs.js';

/** The host name without a port, lower-cased; IPv6 literals stay bracketed. */
export function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** `<name>-<org>` when the host is a sprite URL under `domain`, else null. */
export function spriteLabel(host: string | undefined, domain: string): string | null {
  const name = hostName(host);
  const suffix = `.${domain}`;
  if (!name.endsWith(suffix)) return null;
  const label = name.slice(0, -suffix.length);
  return /^[a-z0-9-]+$/.test(label) ? label : null;
}

export interface SpriteHost {
  sprite: SpriteRecord;
  org: Organization;
}

const CACHE_MS = 2000;

/**
 * Finds the sprite a URL label names. Sprite and organization names may both hold dashes,
 * so each split `<name>-<org>` is tried, the longest organization name last. Answers are
 * cached briefly (a URL request must add well under a millisecond); the API drops a sprite's
 * entry when its settings change or it is deleted.
 */
export class SpriteHosts {
  private readonly cache = new Map<string, { at: number; found: SpriteHost | null }>();

  constructor(private readonly registry: Registry) {}

  async find(label: string): Promise<SpriteHost | null> {
    const hit = this.cache.get(label);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.found;
    let found: SpriteHost | null = null;
    for (let i = label.indexOf('-'); i > 0 && !found; i = label.indexOf('-', i + 1)) {
      const org = await this.registry.orgs.bySlug(label.slice(i + 1));
      if (!org) continue;
      const sprite = await this.registry.sprites.byName(org.id, label.slice(0, i));
      if (sprite) found = { sprite, org };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(label, { at: Date.now(), found });
    return found;
  }

  /** Drops what is cached about a sprite (its settings changed, or it was deleted). */
  forget(spriteId: string): void {
    for (const [label, entry] of this.cache) if (entry.found?.sprite.id === spriteId) this.cache.delete(label);
  }
}
