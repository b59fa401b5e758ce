import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIError, SpritesClient, type Sprite } from '@sprites/sdk';
import { startTestDaemon } from '../helpers/daemon.js';
import { TestNet } from '../helpers/testnet.js';
import { freePort, pollUntil } from '../helpers/ws.js';
import { DNS_QUERY_SCRIPT } from '../helpers/dns-query.js';

/** A TCP connection from inside the sprite: prints the server's greeting or the error. */
const CONN = String.raw`
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 3)
    print(s.recv(100).decode().strip())
except OSError as e:
    print('ERR', e.__class__.__name__)
`;

test('network policy: DNS-based egress rules enforced from the host, changed live, surviving restarts', async (t) => {
  const net = new TestNet();
  t.after(() => net.down());
  net.up([10, 11, 12, 13, 14]);
  const dnsPort = await net.dns();
  net.zone.set('allowed.test', net.ip(10));
  net.zone.set('denied.test', net.ip(11));
  net.zone.set('other.test', net.ip(12));
  net.zone.set('*.wild.test', net.ip(13));
  net.zone.set('private.test', '10.99.0.1');
  net.rogueResolver(14, net.ip(11));

  // The test hosts live in 198.18.0.0/15, which sprites reach only when the operator allows it (ADR 0016).
  const d = await startTestDaemon(t, {
    listen: `127.0.0.1:${await freePort()}`,
    env: { SPRITES_DNS_UPSTREAM: `127.0.0.1:${dnsPort}` },
    extraArgs: ['--egress-allow', '198.18.0.0/15'],
  });
  const client = new SpritesClient(d.adminToken, { baseURL: d.url });
  const a = await client.createSprite('fenced', { ramMB: 256, storageGB: 1 });
  const b = await client.createSprite('open', { ramMB: 256, storageGB: 1 });
  for (const s of [a, b]) {
    const fs = s.filesystem('/home/sprite');
    await fs.writeFile('dnsq.py', DNS_QUERY_SCRIPT);
    await fs.writeFile('conn.py', CONN);
  }
  const dnsq = async (s: Sprite, name: string, server = '-', transport = 'udp') =>
    (await s.exec(`python3 /home/sprite/dnsq.py ${name} ${server} ${transport}`)).stdout.trim();
  const conn = async (s: Sprite, host: string, port = 80) =>
    (await s.exec(`python3 /home/sprite/conn.py ${host} ${port}`)).stdout.trim();
  const policy = {
    rules: [
      { domain: 'allowed.test', action: 'allow' },
      { domain: '*.wild.test', action: 'allow' },
      { domain: 'deep.wild.test', action: 'deny' },
      { domain: 'denied.test', action: 'deny' },
      { domain: 'private.test', action: 'allow' },
    ],
  };

  await t.test('without a policy a sprite is unrestricted, and sees an empty policy', async () => {
    assert.deepEqual((await d.api('GET', '/v1/sprites/fenced/policy/network')).body, { rules: [] });
    assert.equal(await conn(a, net.ip(11)), `host ${net.ip(11)}`, 'an IP literal is reachable without a policy');
  });

  await t.test('an IP literal of an allowed host is refused until the name is resolved', async () => {
    const set = await d.api('POST', '/v1/sprites/fenced/policy/network', policy);
    assert.equal(set.status, 204, set.text);
    assert.deepEqual((await d.api('GET', '/v1/sprites/fenced/policy/network')).body, policy);
    assert.match(await conn(a, net.ip(10)), /^ERR/, 'not learned from an allowed name yet');
    assert.equal(await dnsq(a, 'allowed.test'), `NOERROR ${net.ip(10)}`);
    assert.equal(await conn(a, 'allowed.test'), `host ${net.ip(10)}`);
    assert.equal(await conn(a, net.ip(10)), `host ${net.ip(10)}`, 'now learned');
  });

  await t.test(
    'denied and unlisted names get REFUSED; wildcards and precedence; private ranges always refused',
    async () => {
      assert.equal(await dnsq(a, 'denied.test'), 'REFUSED');
      assert.equal(await dnsq(a, 'other.test'), 'REFUSED', 'unlisted names are denied once rules exist');
      assert.equal(await dnsq(a, 'x.wild.test'), `NOERROR ${net.ip(13)}`);
      assert.equal(await dnsq(a, 'deep.wild.test'), 'REFUSED', 'the exact rule beats the wildcard');
      assert.equal(await dnsq(a, 'wild.test'), 'REFUSED', '*.wild.test does not cover wild.test');
      assert.match(await conn(a, net.ip(11)), /^ERR/, 'a denied host is unreachable');
      assert.match(await conn(a, net.ip(12)), /^ERR/);
      assert.equal(await dnsq(a, 'private.test'), 'NOERROR 10.99.0.1');
      assert.match(
        await conn(a, '10.99.0.1'),
        /^ERR/,
        'a private address is refused even when an allowed name resolves to it',
      );
      const getent = await a.exec('getent hosts denied.test').catch((e: unknown) => e);
      assert.ok(getent instanceof Error, 'the libc resolver fails fast on REFUSED');
    },
  );

  await t.test('another resolver and DNS over TCP do not get around the policy', async () => {
    assert.equal(
      await dnsq(a, 'denied.test', net.ip(14)),
      'REFUSED',
      'UDP to a second resolver is answered by the policy proxy',
    );
    assert.equal(await dnsq(a, 'denied.test', net.ip(14), 'tcp'), 'REFUSED', 'and so is TCP');
    assert.equal(await dnsq(a, 'denied.test', '-', 'tcp'), 'REFUSED');
    assert.equal(
      await dnsq(a, 'allowed.test', net.ip(14), 'tcp'),
      `NOERROR ${net.ip(10)}`,
      'allowed names get the real answer',
    );
  });

  await t.test('root inside the sprite cannot change the rules', async () => {
    const writes = await a
      .exec(
        "sudo sh -c 'echo {} > /.sprite/policy/network.json; echo nameserver " +
          net.ip(14) +
          ' > /etc/resolv.conf; ip route add 198.18.0.0/15 dev eth0 2>/dev/null; ip addr add ' +
          net.ip(200) +
          "/32 dev eth0 2>/dev/null'; echo done",
      )
      .catch((e: unknown) => e);
    assert.ok(!(writes instanceof Error));
    const shown = JSON.parse((await a.exec('cat /.sprite/policy/network.json')).stdout) as typeof policy;
    assert.deepEqual(shown, policy, 'the policy is shown read-only inside the sprite');
    assert.equal(await dnsq(a, 'denied.test'), 'REFUSED');
    assert.match(await conn(a, net.ip(11)), /^ERR/);
  });

  await t.test('two sprites with different policies do not affect each other', async () => {
    assert.equal(await conn(b, net.ip(11)), `host ${net.ip(11)}`, 'the sprite without a policy still reaches it');
    assert.equal(
      (await d.api('POST', '/v1/sprites/open/policy/network', { rules: [{ domain: 'denied.test', action: 'allow' }] }))
        .status,
      204,
    );
    assert.equal(await dnsq(b, 'denied.test'), `NOERROR ${net.ip(11)}`);
    assert.equal(await conn(b, 'denied.test'), `host ${net.ip(11)}`);
    assert.equal(await dnsq(b, 'allowed.test'), 'REFUSED');
    assert.equal(await dnsq(a, 'denied.test'), 'REFUSED', 'the other sprite still refuses it');
    assert.equal((await d.api('POST', '/v1/sprites/open/policy/network', { rules: [] })).status, 204);
    assert.equal(await conn(b, net.ip(12)), `host ${net.ip(12)}`, 'no rules: unrestricted again');
  });

  await t.test('invalid policies get 400 with a reason and the previous one stays', async () => {
    for (const [body, reason] of [
      [{ rules: [{ domain: 'bad domain', action: 'allow' }] }, /not a domain/],
      [{ rules: [{ domain: 'x.test', action: 'maybe' }] }, /action must be/],
      [{ rules: [{ include: 'everything' }] }, /unknown preset/],
      [{ rules: [{ domain: 'x.test', include: 'defaults', action: 'allow' }] }, /both domain and include/],
    ] as const) {
      const r = await d.api<{ error: string; message: string }>('POST', '/v1/sprites/fenced/policy/network', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.message, reason);
    }
    assert.deepEqual((await d.api('GET', '/v1/sprites/fenced/policy/network')).body, policy);
    assert.equal(await dnsq(a, 'denied.test'), 'REFUSED');
    const sdk = await a
      .updateNetworkPolicy({
        rules: [
          { domain: 'x', action: 'allow' },
          { domain: '*', include: 'defaults' },
        ],
      })
      .catch((e: unknown) => e);
    assert.ok(sdk instanceof APIError && sdk.statusCode === 400);
  });

  await t.test('a live update cuts an open connection to a destination no longer allowed', async () => {
    const script = `import socket, time
s = socket.create_connection(("allowed.test", 80), 3)
print(s.recv(100).decode().strip(), flush=True)
time.sleep(3)
try:
    s.sendall(b"still there?\\n")
    s.settimeout(3)
    d = s.recv(100)
    print("open" if d else "closed", flush=True)
except OSError as e:
    print("cut", e.__class__.__name__, flush=True)
`;
    await a.filesystem('/home/sprite').writeFile('hold.py', script);
    const running = a.exec('python3 /home/sprite/hold.py');
    await new Promise((r) => setTimeout(r, 1000));
    await a.updateNetworkPolicy({ rules: [{ domain: 'other.test', action: 'allow' }] });
    const out = (await running).stdout;
    assert.match(out, new RegExp(`^host ${net.ip(10).replace(/\./g, '\\.')}\\ncut `), out);
    assert.equal(await dnsq(a, 'allowed.test'), 'REFUSED');
    assert.deepEqual(await a.getNetworkPolicy(), { rules: [{ domain: 'other.test', action: 'allow' }] });
    await a.updateNetworkPolicy(policy as never);
  });

  await t.test('the policy survives a daemon restart and a restore', async () => {
    await d.restart();
    assert.equal(await dnsq(a, 'denied.test'), 'REFUSED');
    assert.equal(await dnsq(a, 'allowed.test'), `NOERROR ${net.ip(10)}`);
    assert.equal(await conn(a, 'allowed.test'), `host ${net.ip(10)}`);
    const cp = await (await a.createCheckpoint()).done();
    const id = /Checkpoint (\S+) created/.exec(cp.data ?? '')?.[1] ?? '';
    await (await a.restoreCheckpoint(id)).done();
    await pollUntil(
      async () => ((await dnsq(a, 'denied.test')) === 'REFUSED' ? true : null),
      10_000,
      'the policy after a restore',
    );
    assert.match(await conn(a, net.ip(11)), /^ERR/);
    await d.restart({ stopSprites: true });
    assert.equal(await dnsq(a, 'denied.test'), 'REFUSED', 'and after a cold boot');
  });
});
