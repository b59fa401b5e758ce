import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './args.js';

/** One organization's API and token, as `sprite login` stores them. */
export interface OrgEntry {
  url: string;
  token: string;
}

/** ~/.sprites/sprites.json (mode 0600). */
export interface CliConfig {
  current?: string;
  orgs: Record<string, OrgEntry>;
}

/** The `.sprite` file `sprite use` writes in a project directory. */
export interface SpriteFile {
  organization?: string;
  sprite: string;
}

export function configPath(): string {
  return join(process.env.SPRITES_CONFIG_DIR ?? join(homedir(), '.sprites'), 'sprites.json');
}

export function readConfig(): CliConfig {
  const path = configPath();
  if (!existsSync(path)) return { orgs: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CliConfig>;
    return { current: parsed.current, orgs: parsed.orgs && typeof parsed.orgs === 'object' ? parsed.orgs : {} };
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message}); fix or delete it`);
  }
}

/** Writes the config through a temporary file, readable by its owner only. */
export function writeConfig(config: CliConfig): string {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** The nearest `.sprite` file from `dir` upwards. */
export function findSpriteFile(dir = process.cwd()): { path: string; file: SpriteFile } | null {
  let current = resolve(dir);
  for (;;) {
    const path = join(current, '.sprite');
    if (existsSync(path) && statSync(path).isFile()) {
      try {
        const file = JSON.parse(readFileSync(path, 'utf8')) as SpriteFile;
        if (typeof file.sprite === 'string' && file.sprite !== '') return { path, file };
      } catch {
        throw new UsageError(`${path} is not a valid .sprite file; run \`sprite use NAME\` again`);
      }
    }
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/** Writes `.sprite` in `dir`; refuses when something that is not a file is there. */
export function writeSpriteFile(dir: string, file: SpriteFile): string {
  const path = join(dir, '.sprite');
  if (existsSync(path) && !statSync(path).isFile()) {
    throw new UsageError(`${path} exists and is not a file (a directory?); remove it or run \`sprite use\` elsewhere`);
  }
  writeFileSync(path, `${JSON.stringify(file)}\n`, { mode: 0o644 });
  return path;
}
