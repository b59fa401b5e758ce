import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AGENT_OOM_SCORE_ADJ, buildOciConfig, USER_OOM_SCORE_ADJ, type SpriteBundleSpec } from './bundle.js';

const spec: SpriteBundleSpec = {
  hostname: 'demo',
  rootfs: '/data/run/id/rootfs',
  hostIdBase: 268435456,
  idCount: 65536,
  netnsPath: '/run/netns/spr-x-3',
  cgroupsPath: '/sprites-x/id',
  memoryBytes: 512 * 2 ** 20,
  cpus: 1.5,
  pidsLimit: 256,
  tmpBytes: 64 * 2 ** 20,
  nofile: 20000,
  hostsFile: '/data/run/id/hosts',
  resolvFile: '/data/run/id/resolv.conf',
  agent: {
    tini: '/usr/bin/tini-static',
    node: '/usr/bin/node',
    libDir: '/data/agent-runtime/lib',
    loader: 'ld-linux-x86-64.so.2',
    agentDir: '/repo/agent',
  },
  env: { SPRITE_NAME: 'demo' },
};

test('the OCI config isolates the sprite in every namespace, user namespace included', () => {
  const c = buildOciConfig(spec);
  const types = c.linux.namespaces.map((n) => n.type).sort();
  assert.deepEqual(types, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts']);
  assert.equal(c.linux.namespaces.find((n) => n.type === 'network')?.path, '/run/netns/spr-x-3');
  assert.deepEqual(c.linux.uidMappings, [{ containerID: 0, hostID: 268435456, size: 65536 }]);
  assert.deepEqual(c.linux.gidMappings, c.linux.uidMappings);
  assert.equal(c.hostname, 'demo');
});

test('limits come from the sprite config and stay within the daemon', () => {
  const c = buildOciConfig(spec);
  assert.equal(c.linux.resources.memory.limit, 512 * 2 ** 20);
  assert.deepEqual(c.linux.resources.cpu, { quota: 150000, period: 100000 });
  assert.equal(c.linux.resources.pids.limit, 256);
  assert.deepEqual(c.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  assert.ok(!c.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.ok(!c.process.capabilities.bounding.includes('CAP_SYS_MODULE'));
  assert.equal(c.linux.resources.devices[0]?.allow, false, 'devices are denied unless listed');
});

test('the agent runs from read-only host mounts under /.sprite, with tini as PID 1', () => {
  const c = buildOciConfig(spec);
  assert.equal(c.process.args[0], '/.sprite/bin/tini');
  assert.ok(c.process.args.includes('/.sprite/agent/agent.js'));
  for (const dest of [
    '/.sprite/bin/tini',
    '/.sprite/bin/node',
    '/.sprite/lib',
    '/.sprite/agent',
    '/etc/hosts',
    '/etc/resolv.conf',
  ]) {
    const m = c.mounts.find((x) => x.destination === dest);
    assert.ok(m?.options?.includes('ro'), `${dest} is read-only`);
  }
  assert.equal(c.mounts.find((m) => m.destination === '/tmp')?.type, 'tmpfs');
  assert.ok(c.process.env.includes('SPRITE_NAME=demo'));
});

test('seccomp refuses the btrfs subvolume and snapshot ioctls on their low 32 bits, everything else is allowed', () => {
  const s = buildOciConfig(spec).linux.seccomp;
  assert.ok(s);
  assert.equal(s.defaultAction, 'SCMP_ACT_ALLOW');
  if (process.arch === 'x64') assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const refused = s.syscalls.map((r) => {
    assert.deepEqual([r.names, r.action, r.errnoRet], [['ioctl'], 'SCMP_ACT_ERRNO', 1]);
    const [arg] = r.args ?? [];
    assert.deepEqual([arg?.index, arg?.op, arg?.value], [1, 'SCMP_CMP_MASKED_EQ', 0xffffffff]);
    return arg?.valueTwo;
  });
  assert.deepEqual(refused.sort(), [0x50009401, 0x5000940e, 0x50009417, 0x50009418]);
});

test('tini and the agent get a lower OOM score than the commands they start', () => {
  assert.equal(buildOciConfig(spec).process.oomScoreAdj, AGENT_OOM_SCORE_ADJ);
  assert.ok(AGENT_OOM_SCORE_ADJ >= 0 && AGENT_OOM_SCORE_ADJ < USER_OOM_SCORE_ADJ);
});
