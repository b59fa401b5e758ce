import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Path of the compiled native helper (packages/server/native/sprites-helper.c), built by
 * `npm run build:native`. Resolved relative to this module so src/ (tsx) and dist/ agree.
 */
export function helperPath(): string {
  const path = fileURLToPath(new URL('../../native/build/sprites-helper', import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`native helper missing at ${path}: run \`npm run build\` (it compiles packages/server/native)`);
  }
  return path;
}
