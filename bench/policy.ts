import { SpritesClient, type Sprite } from '@sprites/sdk';
import { TestDaemon } from '../test/helpers/daemon.js';
import { TestNet } from '../test/helpers/testnet.js';
import type { Summary } from './stats.js';

export interface PolicyResult {
  /** One A lookup from inside a sprite, straight to a resolver / through the policy proxy to the same resolver. */
  lookupOpen: Summary;
  lookupPolicy: Summary;
  /** TCP connect to a test host and its greeting. */
  connectOpen: Summary;
  connectPolicy: Summary;
  /** A 1-byte ping-pong on an established connection. */
  roundTripOpen: Summary;
  roundTripPolicy: Summary;
}

/** Runs inside the sprite: times lookups, connects and round trips, prints JSON of ms samples. */
const PROBE = String.raw`
import json, random, socket, struct, sys, time
server, host, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def lookup(name):
    q = struct.pack('>HHHHHH', random.randint(0, 65535), 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\x00\x00\x01\x00\x01'
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(q, (server, 53)); r = s.recv(4096); s.close()
    assert r[3] & 15 == 0
out = {'lookup': [], 'connect': [], 'rtt': []}
for i in range(n):
    t = time.perf_counter(); lookup('bench.test'); out['lookup'].append((time.perf_counter() - t) * 1000)
for i in range(n):
    t = time.perf_counter(); c = socket.create_connection((host, 80), 3); c.recv(100); out['connect'].append((time.perf_counter() - t) * 1000); c.close()
c = socket.create_connection((host, 80), 3); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); c.recv(100)
for i in range(n):
    t = time.perf_counter(); c.sendall(b'x'); c.recv(1); out['rtt'].append((time.perf_counter() - t) * 1000)
print(json.dumps(out))
`;

/**
 * DNS lookup, connection setup and established round trips from inside a sprite, without and
 * with a policy, against the same resolver and test host (a network namespace on this
 * machine): the policy sprite's queries go through the daemon's proxy to that resolver.
 */
export async function measurePolicy(runs: number, summarize: (s: number[]) => Summary): Promise<PolicyResult> {
  const net = new TestNet();
  net.up([10, 14]);
  net.rogueResolver(14, net.ip(10));
  // The test hosts live in 198.18.0.0/15, which sprites reach only when the operator allows it (ADR 0016).
  const d = new TestDaemon({
    env: { SPRITES_PREBOOTED: '0', SPRITES_DNS_UPSTREAM: `${net.ip(14)}:53` },
    extraArgs: ['--egress-allow', '198.18.0.0/15'],
  });
  try {
    await d.start();
    const client = new SpritesClient(d.adminToken, { baseURL: d.url });
    const open = await client.createSprite('bench-open', { ramMB: 256, storageGB: 1 });
    const fenced = await client.createSprite('bench-fenced', { ramMB: 256, storageGB: 1 });
    await fenced.updateNetworkPolicy({ rules: [{ domain: 'bench.test', action: 'allow' }] });
    const probe = async (s: Sprite) => {
      await s.filesystem('/home/sprite').writeFile('probe.py', PROBE);
      // The policy sprite learns the host's address from an allowed name first.
      await s.exec(`python3 -c "import socket; socket.gethostbyname('bench.test')" || true`);
      const { stdout } = await s.exec(`python3 /home/sprite/probe.py ${net.ip(14)} ${net.ip(10)} ${runs * 10}`);
      return JSON.parse(stdout) as { lookup: number[]; connect: number[]; rtt: number[] };
    };
    const a = await probe(open);
    const b = await probe(fenced);
    return {
      lookupOpen: summarize(a.lookup),
      lookupPolicy: summarize(b.lookup),
      connectOpen: summarize(a.connect),
      connectPolicy: summarize(b.connect),
      roundTripOpen: summarize(a.rtt),
      roundTripPolicy: summarize(b.rtt),
    };
  } finally {
    await d.destroy();
    net.down();
  }
}
