import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SpriteError } from '@sprites/protocol';
import { KeyedMutex } from '../host/index.js';
import { createLogger } from '../log.js';
import { openRegistry, repositories, type Registry, type SpriteRecord } from '../registry/index.js';
import { DirDriver } from '../storage/index.js';
import { adoptAndReclaim } from './adopt.js';
import { checkpointRef, createCheckpoint, deleteCheckpoint } from './checkpoint.js';
import type { LifecycleContext } from './context.js';
import { reconcileCheckpoints, reconcileVolumes, settleRestores } from './reclaim-disks.js';

const IMAGE = 'img';
let root = '';
let registry: Registry;
let storage: DirDriver;
let ctx: LifecycleContext;
let orgId = '';

/**
 * Checkpoints and the disk side of startup reclaim, on the directory driver and a real
 * SQLite registry: no root, no containers (the sprites are cold).
 */
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'spr-lifecycle-disks-'));
  registry = repositories(await openRegistry(join(root, 'registry.sqlite')));
  storage = new DirDriver(join(root, 'pool'));
  await storage.mount();
  const image = join(root, 'image');
  await mkdir(image);
  await writeFile(join(image, 'data'), 'image');
  await storage.importImage(IMAGE, image);
  orgId = (await registry.orgs.create('disks')).id;
  // Only what cold sprites' checkpoints and the disk reclaim steps use.
  ctx = {
    registry,
    storage,
    locks: new KeyedMutex(),
    log: createLogger('silent'),
  } as Partial<LifecycleContext> as LifecycleContext;
});

after(async () => {
  await registry.db.destroy();
  await rm(root, { recursive: true, force: true });
});

let made = 0;
async function coldSprite(text: string): Promise<SpriteRecord> {
  const id = `00000000-0000-4000-8000-${String(++made).padStart(12, '0')}`;
  await storage.createVolume(id, { fromImage: IMAGE });
  await writeFile(join(storage.volumePath(id), 'data'), text);
  return registry.sprites.insert({
    id,
    orgId,
    name: `sprite-${made}`,
    status: 'cold',
    config: { ram_mb: 512, cpus: 1, storage_gb: 1, region: 'local' },
    environment: {},
    labels: [],
    urlSettings: { auth: 'sprite' },
    imageKey: IMAGE,
  });
}

const readData = (id: string) => readFile(join(storage.volumePath(id), 'data'), 'utf8');
const quietProgress = () => undefined;

test('a checkpoint of a cold sprite is recorded, numbered and browsable; deleting it removes both', async () => {
  const sprite = await coldSprite('first');
  const first = await createCheckpoint(ctx, sprite, 'one', quietProgress);
  await writeFile(join(storage.volumePath(sprite.id), 'data'), 'second');
  const second = await createCheckpoint(ctx, sprite, null, quietProgress);
  assert.deepEqual([first.id, second.id], ['v0', 'v1'], 'numbered from v0');
  const browsable = await storage.browsableCheckpoints(sprite.id);
  assert.deepEqual((await readdir(browsable)).sort(), ['v0', 'v1']);
  assert.equal(await readFile(join(browsable, 'v0', 'data'), 'utf8'), 'first');
  assert.notEqual((await registry.sprites.byId(sprite.id))?.quotaGroup, null, 'the quota group is recorded');

  await deleteCheckpoint(ctx, sprite, 'v0');
  assert.deepEqual(await readdir(browsable), ['v1']);
  assert.equal(await registry.checkpoints.get(sprite.id, 'v0'), null);
  await assert.rejects(deleteCheckpoint(ctx, sprite, 'v0'), (e: SpriteError) => e.status === 404);
  // The checkpoint the disk descends from stays.
  await registry.sprites.setCurrentCheckpoint(sprite.id, 'v1');
  await assert.rejects(deleteCheckpoint(ctx, sprite, 'v1'), (e: SpriteError) => e.status === 409);
});

test('startup settles restores cut off by a crash by the registry: committed kept, others undone', async () => {
  const committed = await coldSprite('committed: live');
  const uncommitted = await coldSprite('uncommitted: live');
  const restoring = new Map<string, string>();
  for (const sprite of [committed, uncommitted]) {
    await writeFile(join(storage.volumePath(sprite.id), 'data'), 'checkpointed');
    const cp = await createCheckpoint(ctx, sprite, null, quietProgress);
    await writeFile(join(storage.volumePath(sprite.id), 'data'), 'live');
    const group = (await registry.sprites.byId(sprite.id))?.quotaGroup ?? 0;
    await (await storage.prepareRestore(sprite.id, checkpointRef(cp), group)).swapIn();
    restoring.set(sprite.id, cp.id);
  }
  // Only one restore reached its commit point before the crash; the registry names another
  // checkpoint for the other (a restore takes an auto checkpoint first, which is current then).
  await registry.sprites.setCurrentCheckpoint(committed.id, restoring.get(committed.id) ?? null);
  await registry.sprites.setCurrentCheckpoint(uncommitted.id, null);

  const summary = await adoptAndReclaim(ctx, [
    { name: 'half-done restores', run: settleRestores },
    { name: 'volumes', run: reconcileVolumes },
  ]);
  assert.deepEqual(summary.errors, []);
  assert.equal(summary.reclaimed['restores finished'], 1);
  assert.equal(summary.reclaimed['restores undone'], 1);
  assert.equal(await readData(committed.id), 'checkpointed');
  assert.equal(await readData(uncommitted.id), 'live');
  assert.equal(summary.reclaimed['volumes'], 1, "the undone restore's copy is deleted");
});

test('startup removes what the registry does not know: volumes, checkpoints, half-made creates', async () => {
  const kept = await coldSprite('kept');
  await createCheckpoint(ctx, kept, null, quietProgress);
  // A checkpoint taken but never recorded (crash between snapshot and registry).
  await storage.snapshot(kept.id, { id: 'v9', kind: 'named' }, { quota: 0 });
  // A deleted sprite's disk and checkpoint, its row gone.
  await storage.createVolume('11111111-0000-4000-8000-000000000000', { fromImage: IMAGE });
  await storage.snapshot('11111111-0000-4000-8000-000000000000', { id: 'auto-1', kind: 'auto' }, { quota: 0 });
  // A create cut off between its registry row and its volume.
  const halfMade = await coldSprite('never acknowledged');
  await storage.deleteVolume(halfMade.id);

  const summary = await adoptAndReclaim(ctx, [
    { name: 'half-done restores', run: settleRestores },
    { name: 'checkpoints', run: reconcileCheckpoints },
    { name: 'volumes', run: reconcileVolumes },
  ]);
  assert.deepEqual(summary.errors, []);
  assert.equal(summary.reclaimed['half-made creates'], 1);
  assert.equal(await registry.sprites.byId(halfMade.id), null);
  assert.equal(summary.reclaimed['checkpoints'], 2);
  assert.deepEqual(
    (await storage.listCheckpoints()).get(kept.id)?.map((c) => c.id),
    ['v0'],
  );
  assert.ok(!(await storage.hasVolume('11111111-0000-4000-8000-000000000000')));
  assert.equal(await readData(kept.id), 'kept');
});

test('a required reclaim step that fails ends startup; a best-effort one is recorded and the rest go on', async () => {
  const ran: string[] = [];
  const failing = () => Promise.reject(new Error('no'));
  const summary = await adoptAndReclaim(ctx, [
    { name: 'best effort', run: failing },
    { name: 'next', run: () => Promise.resolve(void ran.push('next')) },
  ]);
  assert.deepEqual(summary.errors, ['best effort: no']);
  assert.deepEqual(ran, ['next']);
  await assert.rejects(
    adoptAndReclaim(ctx, [
      { name: 'adopt', required: true, run: failing },
      { name: 'after', run: () => Promise.resolve(void ran.push('after')) },
    ]),
    /no/,
  );
  assert.deepEqual(ran, ['next'], 'nothing runs after a failed required step');
});
