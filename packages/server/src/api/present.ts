import type { SpriteInfo } from '@sprites/protocol';
import type { SpriteRecord } from '../registry/index.js';

/** Registry record → the wire SpriteInfo (PROTOCOL.md §4.1). */
export function toSpriteInfo(record: SpriteRecord, orgSlug: string, urlTemplate: string): SpriteInfo {
  return {
    id: record.id,
    name: record.name,
    organization: orgSlug,
    status: record.status,
    config: record.config,
    environment: record.environment,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    primary_region: record.config.region,
    url: urlTemplate.replaceAll('{name}', record.name).replaceAll('{org}', orgSlug),
    url_settings: { auth: 'sprite', ...record.urlSettings },
    labels: record.labels,
    last_running_at: record.lastRunningAt,
    last_warming_at: record.lastWarmingAt,
  };
}
