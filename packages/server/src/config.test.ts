import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseSize, poolReserveOf } from './config.js';

test('embedded defaults, then environment, then flags', () => {
  const d = loadConfig([], {});
  assert.ok(d !== 'help');
  assert.equal(d.dataDir, '/var/lib/sprites');
  assert.equal(d.listenHost, '127.0.0.1');
  assert.equal(d.listenPort, 7070);
  assert.equal(d.instanceId, 'main');
  const e = loadConfig([], { SPRITES_DATA_DIR: '/srv/s', SPRITES_LISTEN: '0.0.0.0:9000' });
  assert.ok(e !== 'help');
  assert.equal(e.dataDir, '/srv/s');
  assert.equal(e.listenPort, 9000);
  const f = loadConfig(['--data-dir', '/x', '--listen', '[::1]:0', '--instance', 'ab12'], {
    SPRITES_DATA_DIR: '/srv/s',
  });
  assert.ok(f !== 'help');
  assert.equal(f.dataDir, '/x');
  assert.equal(f.listenHost, '::1');
  assert.equal(f.instanceId, 'ab12');
  assert.equal(loadConfig(['--help']), 'help');
});

test('bad settings say what to fix', () => {
  assert.throws(() => loadConfig(['--instance', 'Too-Long-Id'], {}), ConfigError);
  assert.throws(() => loadConfig(['--listen', 'nowhere'], {}), /HOST:PORT/);
  assert.throws(() => loadConfig(['--runtime', 'docker'], {}), /crun or runc/);
  assert.throws(() => loadConfig(['--bogus'], {}));
  assert.equal(parseSize('64G'), 64 * 2 ** 30);
  assert.equal(parseSize('512MiB'), 512 * 2 ** 20);
  assert.throws(() => parseSize('lots'), /size/);
});

test('egress allow ranges: none by default, repeatable flag over a comma-separated env, validated', () => {
  const none = loadConfig([], {});
  assert.ok(none !== 'help');
  assert.deepEqual(none.egressAllow, []);
  const env = loadConfig([], { SPRITES_EGRESS_ALLOW: '10.1.2.3/24, 192.168.5.5,' });
  assert.ok(env !== 'help');
  assert.deepEqual(env.egressAllow, ['10.1.2.0/24', '192.168.5.5/32']);
  const flags = loadConfig(['--egress-allow', '172.20.0.0/16', '--egress-allow', '172.20.1.0/16'], {
    SPRITES_EGRESS_ALLOW: '10.0.0.0/8',
  });
  assert.ok(flags !== 'help');
  assert.deepEqual(flags.egressAllow, ['172.20.0.0/16'], 'flags win over the environment; duplicates go');
  assert.throws(() => loadConfig(['--egress-allow', 'fd00::/8'], {}), /--egress-allow: .*no IPv6/);
  assert.throws(() => loadConfig([], { SPRITES_EGRESS_ALLOW: '10.0.0.0/40' }), ConfigError);
});

test('organization limits: tenant and admin defaults, overridden by key, validated', () => {
  const d = loadConfig([], {});
  assert.ok(d !== 'help');
  assert.deepEqual(d.orgLimits.tenant, { sprites: 50, running: 10, memoryMb: 20480, storageGb: 1000 });
  // The admin organization is bounded by the host: live sprites by its uid ranges.
  assert.equal(d.orgLimits.admin.running, d.limits.maxSprites);
  assert.ok(d.orgLimits.admin.sprites >= 1000 && d.orgLimits.admin.memoryMb >= d.limits.maxSprites * 2048);
  const e = loadConfig(['--org-limits', 'running=2, memory_mb=1024'], {
    SPRITES_ORG_LIMITS: 'sprites=1',
    SPRITES_ADMIN_ORG_LIMITS: 'sprites=7',
    SPRITES_MAX_SPRITES: '64',
  });
  assert.ok(e !== 'help');
  assert.deepEqual(
    e.orgLimits.tenant,
    { sprites: 50, running: 2, memoryMb: 1024, storageGb: 1000 },
    'the flag wins over the environment',
  );
  assert.equal(e.orgLimits.admin.sprites, 7);
  assert.equal(e.orgLimits.admin.running, 64);
  assert.throws(() => loadConfig(['--org-limits', 'cpus=4'], {}), /one of sprites, running, memory_mb, storage_gb/);
  assert.throws(() => loadConfig(['--org-limits', 'running=-1'], {}), ConfigError);
  assert.throws(() => loadConfig(['--admin-org-limits', 'sprites=9999999999'], {}), /at most 2147483647/);
});

test('the pool reserve: 5% of the pool up to 1 GiB unless set; 0 turns it off', () => {
  const d = loadConfig([], {});
  assert.ok(d !== 'help');
  assert.equal(d.poolReserveBytes, null);
  assert.equal(poolReserveOf(d, 2 * 2 ** 30), Math.floor(0.05 * 2 * 2 ** 30));
  assert.equal(poolReserveOf(d, 64 * 2 ** 30), 2 ** 30);
  const set = loadConfig(['--pool-reserve', '300M'], {});
  assert.ok(set !== 'help');
  assert.equal(poolReserveOf(set, 64 * 2 ** 30), 300 * 2 ** 20);
  const off = loadConfig([], { SPRITES_POOL_RESERVE: '0' });
  assert.ok(off !== 'help');
  assert.equal(poolReserveOf(off, 64 * 2 ** 30), 0);
  assert.throws(() => loadConfig(['--pool-reserve', 'lots'], {}), ConfigError);
});
