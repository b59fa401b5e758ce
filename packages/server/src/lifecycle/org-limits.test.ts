import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OrgLimits } from '../config.js';
import type { SpriteFootprint } from '../registry/index.js';
import { effectiveLimits, orgUsage, planAdmission, type OrgUsage, type Reservation } from './org-limits.js';

const LIMITS: OrgLimits = { sprites: 5, running: 2, memoryMb: 1024, storageGb: 10 };
const sprite = (id: string, over: Partial<SpriteFootprint> = {}): SpriteFootprint => ({
  id,
  status: 'cold',
  ramMb: 256,
  storageGb: 2,
  live: false,
  ...over,
});
const usage = (over: Partial<OrgUsage> = {}): OrgUsage => ({ sprites: 0, live: 0, memoryMb: 0, storageGb: 0, ...over });

test('custom limits win over the defaults, one by one', () => {
  assert.deepEqual(effectiveLimits(LIMITS, { running: 7 }), { ...LIMITS, running: 7 });
  assert.deepEqual(effectiveLimits(LIMITS, { sprites: 0, storageGb: 0 }), { ...LIMITS, sprites: 0, storageGb: 0 });
  assert.deepEqual(effectiveLimits(LIMITS, {}), LIMITS);
});

test('usage: all sprites count for count and disk, live ones for running and memory', () => {
  const rows = [
    sprite('a', { live: true, status: 'running', ramMb: 512 }),
    sprite('b', { live: true, status: 'warm' }),
    sprite('c', { storageGb: 5 }),
  ];
  assert.deepEqual(orgUsage(rows, []), { sprites: 3, live: 2, memoryMb: 768, storageGb: 9 });
});

test('usage: reservations count once, and not again once the registry shows them', () => {
  const rows = [sprite('a', { live: true, status: 'running' }), sprite('b')];
  const r = (over: Partial<Reservation>): Reservation => ({
    orgId: 'o',
    spriteId: null,
    kind: 'create',
    ramMb: 128,
    storageGb: 1,
    ...over,
  });
  // A create without an id yet: one more sprite, its disk, live, its memory.
  assert.deepEqual(orgUsage(rows, [r({})]), { sprites: 3, live: 2, memoryMb: 384, storageGb: 5 });
  // Its row is inserted (cold, not yet running): counted from the row, still live by the reservation.
  assert.deepEqual(orgUsage([...rows, sprite('n', { ramMb: 128, storageGb: 1 })], [r({ spriteId: 'n' })]), {
    sprites: 3,
    live: 2,
    memoryMb: 384,
    storageGb: 5,
  });
  // Its run is recorded: the reservation adds nothing.
  assert.deepEqual(orgUsage([...rows, sprite('n', { ramMb: 128, storageGb: 1, live: true })], [r({ spriteId: 'n' })]), {
    sprites: 3,
    live: 2,
    memoryMb: 384,
    storageGb: 5,
  });
  // A boot of the cold sprite b: live and its memory, no new sprite; a hold on live a: nothing.
  assert.deepEqual(
    orgUsage(rows, [r({ spriteId: 'b', kind: 'start', ramMb: 256 }), r({ spriteId: 'a', kind: 'start', ramMb: 256 })]),
    { sprites: 2, live: 2, memoryMb: 512, storageGb: 4 },
  );
});

test('creates: the sprite count and the disk are refused, never made room for', () => {
  const create = { create: true, ramMb: 256, storageGb: 2 };
  assert.deepEqual(planAdmission(LIMITS, usage({ sprites: 4, storageGb: 8 }), create, []), { kind: 'admit' });
  assert.deepEqual(planAdmission(LIMITS, usage({ sprites: 5 }), create, [{ id: 'w', ramMb: 256, lastActive: 1 }]), {
    kind: 'refuse',
    refusal: { limit: 'sprites', max: 5, current: 5, requested: 1 },
  });
  assert.deepEqual(planAdmission(LIMITS, usage({ sprites: 1, storageGb: 9 }), create, []), {
    kind: 'refuse',
    refusal: { limit: 'storage', max: 10, current: 9, requested: 2 },
  });
  // A boot does not add a sprite or disk: an organization over those limits still wakes its sprites.
  assert.deepEqual(planAdmission(LIMITS, usage({ sprites: 9, storageGb: 90 }), { ...create, create: false }, []), {
    kind: 'admit',
  });
});

test('at the running limit the least recently used warm sprite makes room; none: refused', () => {
  const wake = { create: false, ramMb: 256, storageGb: 2 };
  const full = usage({ sprites: 3, live: 2, memoryMb: 512 });
  const candidates = [
    { id: 'recent', ramMb: 256, lastActive: 2_000 },
    { id: 'oldest', ramMb: 256, lastActive: 1_000 },
  ];
  assert.deepEqual(planAdmission(LIMITS, full, wake, candidates), {
    kind: 'evict',
    victims: ['oldest'],
    refusal: { limit: 'running', max: 2, current: 2, requested: 1 },
  });
  assert.deepEqual(planAdmission(LIMITS, full, wake, []), {
    kind: 'refuse',
    refusal: { limit: 'running', max: 2, current: 2, requested: 1 },
  });
  // Over the limit (it was lowered): as many go as it takes, or none if that is not enough.
  const over = usage({ live: 4, memoryMb: 1024 });
  assert.equal(planAdmission(LIMITS, over, wake, candidates).kind, 'refuse');
  assert.deepEqual(planAdmission(LIMITS, over, wake, [...candidates, { id: 'c', ramMb: 256, lastActive: 1_500 }]), {
    kind: 'evict',
    victims: ['oldest', 'c', 'recent'],
    refusal: { limit: 'running', max: 2, current: 4, requested: 1 },
  });
});

test('memory: made room for like the running limit; a sprite larger than the whole limit is refused at once', () => {
  const wide = { ...LIMITS, running: 10 };
  const big = { create: false, ramMb: 512, storageGb: 1 };
  const used = usage({ live: 3, memoryMb: 768 });
  const candidates = [
    { id: 'small-old', ramMb: 128, lastActive: 1 },
    { id: 'large', ramMb: 512, lastActive: 2 },
  ];
  assert.deepEqual(planAdmission(wide, used, big, candidates), {
    kind: 'evict',
    victims: ['small-old', 'large'],
    refusal: { limit: 'memory', max: 1024, current: 768, requested: 512 },
  });
  assert.deepEqual(planAdmission(wide, used, big, [candidates[0]!]), {
    kind: 'refuse',
    refusal: { limit: 'memory', max: 1024, current: 768, requested: 512 },
  });
  assert.deepEqual(planAdmission(wide, usage(), { ...big, ramMb: 2048 }, candidates), {
    kind: 'refuse',
    refusal: { limit: 'memory', max: 1024, current: 0, requested: 2048 },
  });
  // A running limit of 0: nothing may run, nothing is stopped for it.
  assert.deepEqual(planAdmission({ ...LIMITS, running: 0 }, usage(), big, candidates), {
    kind: 'refuse',
    refusal: { limit: 'running', max: 0, current: 0, requested: 1 },
  });
});
