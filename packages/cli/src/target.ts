import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpritesClient, type Sprite } from '@sprites/sdk';
import { str, UsageError, type Parsed } from './args.js';
import { findSpriteFile, readConfig } from './config.js';

/** Where the daemon on this host keeps its admin token and its URL. */
export function localDataDir(): string {
  return process.env.SPRITES_DATA_DIR ?? '/var/lib/sprites';
}

/** The local daemon's URL and admin token, if this user can read them. */
export function discoverLocal(): { url: string; token: string } | null {
  const dir = localDataDir();
  try {
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    let url = 'http://127.0.0.1:7070';
    try {
      url = readFileSync(join(dir, 'api-url'), 'utf8').trim() || url;
    } catch {
      // a daemon from before the file existed: its default address
    }
    return token ? { url, token } : null;
  } catch {
    return null;
  }
}

export interface Target {
  client: SpritesClient;
  url: string;
  /** The organization name used to pick credentials, if any. */
  org?: string;
  /** Where the credentials came from, for `sprite org list` and error messages. */
  source: 'flags' | 'environment' | 'config' | 'local daemon';
}

/**
 * API URL and token: flags, then environment (SPRITES_API_URL, SPRITE_TOKEN), then the
 * organization in ~/.sprites/sprites.json (-o, SPRITE_ORG, the .sprite file, or the
 * current one), then the daemon on this host (its data dir's admin token).
 */
export function resolveTarget(p: Parsed): Target {
  let url = str(p, 'api-url');
  let token = str(p, 'token');
  let source: Target['source'] = 'flags';
  if (!url && process.env.SPRITES_API_URL) {
    url = process.env.SPRITES_API_URL;
    source = 'environment';
  }
  if (!token && process.env.SPRITE_TOKEN) {
    token = process.env.SPRITE_TOKEN;
    source = 'environment';
  }
  const config = readConfig();
  const org = str(p, 'org') ?? process.env.SPRITE_ORG ?? findSpriteFile()?.file.organization ?? config.current;
  if ((!url || !token) && org) {
    const entry = config.orgs[org];
    if (!entry && (str(p, 'org') || process.env.SPRITE_ORG)) {
      throw new UsageError(
        `organization "${org}" is not configured; run \`sprite login URL --token TOKEN -o ${org}\` (see \`sprite org list\`)`,
      );
    }
    if (entry) {
      url ??= entry.url;
      token ??= entry.token;
      source = 'config';
    }
  }
  if (!url || !token) {
    const local = discoverLocal();
    if (local) {
      url ??= local.url;
      token ??= local.token;
      source = 'local daemon';
    }
  }
  if (!url || !token) {
    throw new UsageError(
      `no API configured: run \`sprite login URL --token TOKEN\`, set SPRITES_API_URL and SPRITE_TOKEN, or run this as root on the daemon's host (it reads ${join(localDataDir(), 'admin.token')})`,
    );
  }
  return { client: new SpritesClient(token, { baseURL: url }), url, org, source };
}

/** The sprite to act on: -s, then a positional name, then the nearest .sprite file. */
export function resolveSpriteName(p: Parsed, positional?: string): string {
  const name = str(p, 'sprite') ?? positional ?? process.env.SPRITE_NAME ?? findSpriteFile()?.file.sprite;
  if (!name) throw new UsageError('no sprite given: pass -s NAME, or run `sprite use NAME` in this directory');
  return name;
}

export function spriteOf(p: Parsed, positional?: string): { target: Target; sprite: Sprite } {
  const target = resolveTarget(p);
  return { target, sprite: target.client.sprite(resolveSpriteName(p, positional)) };
}
