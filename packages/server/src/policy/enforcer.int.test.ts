import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { NftTable } from '../network/index.js';
import { PolicyEnforcer } from './enforcer.js';

const list = (table: string) => execFileSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });

test('policy chains, sets and maps in the real nftables: apply, learn, a new generation, remove', async (t) => {
  const instance = `p${randomBytes(2).toString('hex')}`;
  const table = new NftTable(instance, '10.254.0.0/24', 15353);
  const enforcer = new PolicyEnforcer(table.name);
  t.after(async () => {
    enforcer.close();
    await table.remove();
  });
  await table.install();
  const base = list(table.name);
  assert.match(base, /map policy_egress \{\s*type ifname : verdict/);
  assert.match(
    base,
    new RegExp(`iifname "spr${instance}\\*" meta l4proto \\{ tcp, udp \\} th dport 53 redirect to :15353`),
    'every sprite of ours asks the proxy',
  );
  assert.match(base, /th dport 15353 accept/);

  const veth = `spr${instance}3`;
  await enforcer.apply(3, veth, 1, [
    { family: 4, address: '198.18.0.5', ttl: 60 },
    { family: 6, address: '2001:db8::1', ttl: 60 },
  ]);
  let now = list(table.name);
  assert.match(now, /set policy_3_v4 \{[\s\S]*198\.18\.0\.5 timeout 1m/);
  assert.doesNotMatch(now, /2001:db8/, 'IPv6 is not learned (sprites under a policy have none)');
  assert.match(now, new RegExp(`"${veth}" : jump policy_3`));
  assert.match(
    now,
    /chain policy_3 \{[\s\S]*ct mark set 0x00000001 accept[\s\S]*ct mark 0x00000001 accept[\s\S]*reject with tcp reset/,
  );
  assert.match(
    now,
    /ip daddr @egress_deny meta l4proto tcp counter packets \d+ bytes \d+ reject with tcp reset/,
    'non-public ranges are refused for every sprite, policy or not',
  );

  await enforcer.learn(3, [{ family: 4, address: '198.18.0.6', ttl: 5 }]);
  assert.match(list(table.name), /198\.18\.0\.6 timeout 30s/, 'short TTLs are raised to the minimum');
  await enforcer.learn(3, [{ family: 4, address: '198.18.0.6', ttl: 90 }]);
  await enforcer.learn(3, [{ family: 6, address: '2001:db8::2', ttl: 90 }]);

  await enforcer.apply(3, veth, 2, []);
  now = list(table.name);
  assert.doesNotMatch(now, /198\.18\.0\.5/, 'a new generation starts from what is still allowed');
  assert.match(now, /ct mark 0x00000002 accept/);
  assert.doesNotMatch(now, /0x00000001/);

  await enforcer.remove(3, veth);
  now = list(table.name);
  assert.doesNotMatch(now, /policy_3/);
  assert.doesNotMatch(now, new RegExp(veth));
});
