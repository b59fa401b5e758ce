import { randomBytes } from 'node:crypto';
import type { ScaleClient } from './client.js';
import type { Fleet, Phases } from './fleet.js';
import type { Recorder } from './recorder.js';

export interface ChurnDeps {
  client: ScaleClient;
  recorder: Recorder;
  fleet: Fleet;
  phases: Phases;
  /**
   * The checkpoint each sprite's disk descends from (the last one restored). The daemon
   * refuses to delete that one (409), so it is deleted once a later restore replaces it.
   */
  current: Map<string, string>;
}

const FILE = '/home/sprite/bench-scale.txt';

function content(): Buffer {
  return Buffer.from(`${randomBytes(512 + Math.floor(Math.random() * 1536)).toString('base64')}\n`);
}

/** exec `echo` and check the output. */
async function execOp(d: ChurnDeps, name: string): Promise<void> {
  await d.recorder.time('exec', d.phases.of(d.fleet.size), () => d.client.exec(name));
}

/** Write a file through the fs API and read it back. */
async function fsOp(d: ChurnDeps, name: string): Promise<void> {
  const data = content();
  const w = await d.recorder.time('fs-write', d.phases.of(d.fleet.size), () => d.client.writeFile(name, FILE, data));
  if (w.ok) await d.recorder.time('fs-read', d.phases.of(d.fleet.size), () => d.client.readFile(name, FILE, data));
}

/**
 * Checkpoint and restore, checked by content: write A, checkpoint, write B, restore, read
 * back A. A checkpoint no longer needed is deleted, so a sprite keeps at most one and a
 * long run does not pile them up.
 */
async function checkpointOp(d: ChurnDeps, name: string): Promise<void> {
  const phase = () => d.phases.of(d.fleet.size);
  const before = content();
  if (!(await d.recorder.time('fs-write', phase(), () => d.client.writeFile(name, FILE, before))).ok) return;
  const cp = await d.recorder.time('checkpoint', phase(), () => d.client.checkpoint(name));
  if (!cp.ok || !cp.value) return;
  const id = cp.value;
  let restored = false;
  if ((await d.recorder.time('fs-write', phase(), () => d.client.writeFile(name, FILE, content()))).ok) {
    restored = (await d.recorder.time('restore', phase(), () => d.client.restore(name, id))).ok;
    if (restored)
      await d.recorder.time('fs-read', phase(), () => d.client.readFile(name, FILE, before, 'read after restore'));
  }
  // A failed restore leaves the disk as it was (ADR 0019): the new checkpoint is the spare one.
  const unused = restored ? d.current.get(name) : id;
  if (restored) d.current.set(name, id);
  if (unused !== undefined)
    await d.recorder.time('checkpoint-delete', phase(), () => d.client.deleteCheckpoint(name, unused));
}

/** Delete the sprite and create it again under the same name. */
async function recreateOp(d: ChurnDeps, name: string): Promise<void> {
  d.fleet.remove(name);
  d.current.delete(name);
  const deleted = await d.recorder.time('delete', d.phases.of(d.fleet.size), () => d.client.remove(name));
  if (!deleted.ok) {
    // It may still be there: keep using it (the final sweep deletes whatever the list shows).
    d.fleet.add(name);
    return;
  }
  const created = await d.recorder.time('recreate', d.phases.of(d.fleet.size), () => d.client.create(name));
  if (created.ok) d.fleet.add(name);
}

const OPS = [execOp, fsOp, checkpointOp, recreateOp];

/**
 * One churn worker: until `running()` says stop, pick a random sprite no other worker holds
 * and do one of exec, file write/read, checkpoint/restore, delete/re-create on it.
 * Returns the number of operations done.
 */
export async function churnWorker(d: ChurnDeps, running: () => boolean): Promise<number> {
  let ops = 0;
  while (running()) {
    const name = d.fleet.lease();
    if (name === undefined) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      await OPS[Math.floor(Math.random() * OPS.length)]!(d, name);
      ops++;
    } finally {
      d.fleet.release(name);
    }
  }
  return ops;
}
