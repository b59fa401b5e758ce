import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_ORG, type DaemonConfig } from '../config.js';
import { holdInstanceLock } from '../host/index.js';
import type { Logger } from '../log.js';
import { hashToken, openRegistry, repositories, type Registry } from '../registry/index.js';

/** File in the data dir holding the API's URL, for clients on this host. */
export const API_URL_FILE = 'api-url';

/**
 * Makes the data dir and takes this instance's lock on it, before anything on the host is
 * touched: startup reclaim must never see another daemon's state. Returns the lock's release.
 */
export async function claimDataDir(config: DaemonConfig): Promise<() => void> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  await chmod(config.dataDir, 0o711);
  return holdInstanceLock(config.instanceId, config.dataDir);
}

/** The registry in the data dir, with the `default` organization and the admin token in place. */
export async function openDataRegistry(
  dataDir: string,
  log: Logger,
): Promise<{ registry: Registry; adminTokenPath: string }> {
  const registry = repositories(await openRegistry(join(dataDir, 'registry.sqlite')));
  const adminTokenPath = await ensureOrgAndAdminToken(registry, dataDir, log);
  return { registry, adminTokenPath };
}

/** Where clients on this host find the API (the `sprite` CLI reads it with admin.token). */
export async function publishApiUrl(dataDir: string, url: string): Promise<void> {
  await writeFile(join(dataDir, API_URL_FILE), `${url}\n`, { mode: 0o644 });
}

/**
 * First start: the `default` organization and an admin token in DATA_DIR/admin.token (0600).
 * A lost token file is replaced by a new admin token; the old one stops working.
 */
async function ensureOrgAndAdminToken(registry: Registry, dataDir: string, log: Logger): Promise<string> {
  const org = (await registry.orgs.bySlug(ADMIN_ORG)) ?? (await registry.orgs.create(ADMIN_ORG));
  const tokenPath = join(dataDir, 'admin.token');
  const existing = (await readFile(tokenPath, 'utf8').catch(() => '')).trim();
  if (existing) {
    const grant = await registry.tokens.resolve(existing);
    if (grant?.isAdmin) return tokenPath;
  }
  await registry.tokens.revokeAdmins();
  const token = await registry.tokens.mint(org.id, 'admin token', true);
  await writeFile(tokenPath, `${token}\n`, { mode: 0o600 });
  await chmod(tokenPath, 0o600);
  log.info(
    { tokenPath, tokenHash: hashToken(token).slice(0, 12) },
    `admin token written to ${tokenPath}: use it as "Authorization: Bearer $(cat ${tokenPath})"; it acts for organization "${ADMIN_ORG}" and can create organizations and tokens`,
  );
  return tokenPath;
}
