import type { FastifyRequest } from 'fastify';
import type { DaemonConfig } from '../config.js';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/index.js';
import type { Caller } from '../access/index.js';

export interface ApiDeps {
  config: DaemonConfig;
  registry: Registry;
  lifecycle: SpriteLifecycle;
  log: Logger;
  authenticate(request: FastifyRequest): Promise<Caller>;
  /** A sprite's record changed or it is gone: caches keyed by it (sprite URLs) drop it. */
  spriteChanged(spriteId: string): void;
}
