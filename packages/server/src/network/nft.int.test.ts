import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { NftTable } from './nft.js';

const list = (table: string) => execFileSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });

test('the table refuses non-public ranges and the pool (minus allowed ranges), with resets, and sends all DNS to the proxy', async (t) => {
  const instance = `n${randomBytes(2).toString('hex')}`;
  const table = new NftTable(instance, '10.254.0.0/24', 15354, ['192.168.77.0/24', '10.254.0.8/30']);
  t.after(() => table.remove());
  await table.install();
  const text = list(table.name);
  const deny = /set egress_deny \{[^}]*elements = \{([^}]*)\}/.exec(text)?.[1] ?? '';
  for (const range of [
    '10.0.0.0/8',
    '100.64.0.0/10',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '198.18.0.0/15',
    '224.0.0.0/3' /* multicast and reserved, merged */,
  ]) {
    assert.ok(deny.includes(range), `${range} is refused: ${deny}`);
  }
  const allow = /set egress_allow \{[^}]*elements = \{([^}]*)\}/.exec(text)?.[1] ?? '';
  assert.match(allow, /192\.168\.77\.0\/24/);
  assert.match(allow, /10\.254\.0\.8\/30/);
  // The order is the contract: allowed ranges return before anything is refused.
  assert.match(
    text,
    /chain egress_guard \{\s*ip daddr @egress_allow return\s*ip daddr @egress_deny meta l4proto tcp counter packets \d+ bytes \d+ reject with tcp reset\s*ip daddr @egress_deny counter packets \d+ bytes \d+ reject with icmpx admin-prohibited\s*meta nfproto ipv6/,
  );
  assert.match(
    text,
    new RegExp(
      `iifname "spr${instance}\\*" jump egress_guard\\s*iifname "spr${instance}\\*" iifname vmap @policy_egress`,
    ),
  );
  assert.match(
    text,
    new RegExp(
      `iifname "spr${instance}\\*" meta l4proto tcp counter packets \\d+ bytes \\d+ reject with tcp reset\\s*iifname "spr${instance}\\*" counter packets \\d+ bytes \\d+ reject with icmpx admin-prohibited\\s*\\}`,
    ),
    'the host refuses, not drops',
  );
  assert.match(
    text,
    new RegExp(`iifname "spr${instance}\\*" meta l4proto \\{ tcp, udp \\} th dport 53 redirect to :15354`),
  );
});

test('without allowed ranges the allow set is empty', async (t) => {
  const instance = `n${randomBytes(2).toString('hex')}`;
  const table = new NftTable(instance, '10.254.0.0/24', 15355);
  t.after(() => table.remove());
  await table.install();
  assert.match(list(table.name), /set egress_allow \{\s*type ipv4_addr\s*flags interval\s*auto-merge\s*\}/);
});
