import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePool, poolContains, slotAddresses, slotCount } from './ipam.js';
import { vethName } from './names.js';

test('the pool is cut into /30 slots: host end first, sprite second', () => {
  const pool = parsePool('10.213.0.0/16');
  assert.equal(slotCount(pool), 16384);
  assert.deepEqual(slotAddresses(pool, 0), {
    index: 0,
    hostIp: '10.213.0.1',
    spriteIp: '10.213.0.2',
    prefixLength: 30,
  });
  assert.deepEqual(slotAddresses(pool, 64), {
    index: 64,
    hostIp: '10.213.1.1',
    spriteIp: '10.213.1.2',
    prefixLength: 30,
  });
  assert.equal(slotAddresses(pool, 16383).spriteIp, '10.213.255.254');
  assert.throws(() => slotAddresses(pool, 16384), RangeError);
  assert.ok(poolContains(pool, '10.213.7.9'));
  assert.ok(!poolContains(pool, '10.214.0.1'));
});

test('pools are normalized and checked', () => {
  assert.equal(parsePool('192.168.5.77/24').cidr, '192.168.5.0/24');
  for (const bad of ['10.0.0.0', '10.0.0.0/4', '10.0.0.0/30', '300.1.1.1/16', 'x/16'])
    assert.throws(() => parsePool(bad), /IPv4 CIDR/);
});

test('interface names fit in 15 bytes', () => {
  assert.equal(vethName('abc123', 16383), 'sprabc12316383');
  assert.throws(() => vethName('abcdefgh', 99999), /15 bytes/);
});
