// Bundled for the browser test: `@sprites/sdk` resolves to its browser entry (web streams).
import { SpritesClient } from '@sprites/sdk';
import { scenario } from './sdk-scenario.mjs';

export function run(url, token, name) {
  return scenario(SpritesClient, { url, token, name });
}
