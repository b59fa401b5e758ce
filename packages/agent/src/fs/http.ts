import { lstatSync, mkdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, FsError, fsErrorFrom } from './errors.js';
import { entryOf, listPath } from './entries.js';
import { asIdentity, identityFor } from './identity.js';
import { chmodPath, chownPath, copyPath, removePath, renamePath } from './ops.js';
import { flag, parseMode, resolvePath } from './paths.js';
import { parseRange, readFileTo, writeFileFrom } from './transfer.js';
import { finishUnreadBody, readLimited, sendJson } from '../http-json.js';

/** JSON bodies of rename, copy, chmod and chown are small. */
const MAX_JSON_BODY = 1024 * 1024;

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const { text, tooLarge } = await readLimited(req, MAX_JSON_BODY);
  if (tooLarge) throw new FsError(413, 'EINVAL', `the JSON body is larger than ${MAX_JSON_BODY} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('the body must be JSON, e.g. {"path":"/home/sprite/x"}');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw badRequest('the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function idValue(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return -1;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > 0xfffffffe)
    throw badRequest(`${field} must be a number (or -1 to leave it)`);
  return n;
}

/** Runs a synchronous operation as the caller, mapping fs errors onto `path`. */
function run<T>(asRoot: boolean, path: string, fn: () => T): T {
  try {
    return asIdentity(identityFor(asRoot), fn);
  } catch (e) {
    throw fsErrorFrom(e, path);
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => Promise<void>;

const handlers: Record<string, Handler> = {
  'GET read': async (req, res, q) => {
    const path = resolvePath(q.get('path'), q.get('workingDir'));
    const range = parseRange(req.headers.range, q.get('start'), q.get('end'));
    await readFileTo(res, path, identityFor(flag(q.get('asRoot'))), range, req.headers.range !== undefined);
  },
  'GET list': async (_req, res, q) => {
    const path = resolvePath(q.get('path') ?? '.', q.get('workingDir'));
    const pattern = q.get('pattern') ?? undefined;
    sendJson(
      res,
      200,
      run(flag(q.get('asRoot')), path, () => listPath(path, { recursive: flag(q.get('recursive')), pattern })),
    );
  },
  // Our extension: one entry for any path, a directory included (list shows its children).
  // `follow=true` reports what a symlink points to (stat rather than lstat).
  'GET stat': async (_req, res, q) => {
    const path = resolvePath(q.get('path'), q.get('workingDir'));
    const follow = flag(q.get('follow'));
    sendJson(
      res,
      200,
      run(flag(q.get('asRoot')), path, () => entryOf(path, follow ? statSync(path) : lstatSync(path))),
    );
  },
  'PUT write': async (req, res, q) => {
    const path = resolvePath(q.get('path'), q.get('workingDir'));
    const mode = parseMode(q.get('mode'));
    // Both SDKs send mkdirParents=true; the docs call it mkdir. Absent means true (§7.4).
    const mkdirParents = flag(q.get('mkdirParents') ?? q.get('mkdir'), true);
    sendJson(res, 200, await writeFileFrom(req, path, identityFor(flag(q.get('asRoot'))), { mode, mkdirParents }));
  },
  'DELETE delete': async (_req, res, q) => {
    const path = resolvePath(q.get('path'), q.get('workingDir'));
    const deleted = run(flag(q.get('asRoot')), path, () => removePath(path, flag(q.get('recursive'))));
    sendJson(res, 200, { deleted, count: deleted.length });
  },
  'POST rename': async (req, res) => {
    const b = await readJsonBody(req);
    const source = resolvePath(b.source, b.workingDir, 'source');
    const dest = resolvePath(b.dest, b.workingDir, 'dest');
    run(flag(b.asRoot), source, () => renamePath(source, dest));
    sendJson(res, 200, { source, dest });
  },
  'POST copy': async (req, res) => {
    const b = await readJsonBody(req);
    const source = resolvePath(b.source, b.workingDir, 'source');
    const dest = resolvePath(b.dest, b.workingDir, 'dest');
    sendJson(
      res,
      200,
      run(flag(b.asRoot), source, () =>
        copyPath(source, dest, { recursive: flag(b.recursive), preserveAttrs: flag(b.preserveAttrs) }),
      ),
    );
  },
  'POST chmod': async (req, res) => {
    const b = await readJsonBody(req);
    const path = resolvePath(b.path, b.workingDir);
    const mode = parseMode(b.mode);
    if (mode === undefined) throw badRequest('mode is required, e.g. "0755"', path);
    const affected = run(flag(b.asRoot), path, () => chmodPath(path, mode, flag(b.recursive)));
    sendJson(res, 200, { affected, count: affected.length });
  },
  // Our extension (the official SDKs write and delete a `.keep` file instead): a real mkdir,
  // so a missing parent without `recursive` is ENOENT and an existing directory EEXIST.
  'POST mkdir': async (req, res) => {
    const b = await readJsonBody(req);
    const path = resolvePath(b.path, b.workingDir);
    const mode = parseMode(b.mode) ?? 0o755;
    const recursive = flag(b.recursive);
    run(flag(b.asRoot), path, () => mkdirSync(path, { recursive, mode }));
    sendJson(res, 200, { path, mode: `0${mode.toString(8)}` });
  },
  'POST chown': async (req, res) => {
    const b = await readJsonBody(req);
    const path = resolvePath(b.path, b.workingDir);
    const uid = idValue(b.uid, 'uid');
    const gid = idValue(b.gid, 'gid');
    if (uid === -1 && gid === -1) throw badRequest('uid or gid is required', path);
    const affected = run(flag(b.asRoot), path, () => chownPath(path, uid, gid, flag(b.recursive)));
    sendJson(res, 200, { affected, count: affected.length });
  },
};

/** /v1/sprites/{name}/fs/{op}: the filesystem API (PROTOCOL.md §8), run inside the sprite. */
export function handleFsRequest(req: IncomingMessage, res: ServerResponse, op: string, query: URLSearchParams): void {
  const handler = handlers[`${req.method === 'HEAD' ? 'GET' : req.method} ${op}`];
  const fail = (e: unknown) => {
    const err = e instanceof FsError ? e : fsErrorFrom(e, query.get('path') ?? '');
    if (res.headersSent) return void res.destroy();
    // A body still arriving is discarded briefly, then the connection is cut.
    finishUnreadBody(req, res);
    sendJson(res, err.status, err.toBody());
  };
  if (!handler) {
    const known = Object.keys(handlers).filter((k) => k.endsWith(` ${op}`));
    if (known.length > 0)
      return fail(new FsError(405, 'EINVAL', `fs/${op} takes ${known.map((k) => k.split(' ')[0]).join(' or ')}`));
    return fail(new FsError(404, 'ENOENT', `no filesystem endpoint fs/${op}`));
  }
  handler(req, res, query).catch(fail);
}
