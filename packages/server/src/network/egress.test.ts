import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalCidr, DENIED_V4 } from './egress.js';

test('allow ranges are IPv4 CIDRs, normalized; anything else says what is wrong', () => {
  assert.equal(canonicalCidr('10.1.2.3/24'), '10.1.2.0/24');
  assert.equal(canonicalCidr(' 192.168.7.9 '), '192.168.7.9/32');
  assert.equal(canonicalCidr('0.0.0.0/0'), '0.0.0.0/0');
  assert.throws(() => canonicalCidr('10.1.2.0/33'), /not an IPv4 CIDR/);
  assert.throws(() => canonicalCidr('300.1.2.0/8'), /not an IPv4 CIDR/);
  assert.throws(() => canonicalCidr('fd00::/8'), /sprites have no IPv6/);
  assert.throws(() => canonicalCidr('example.com'), /not an IPv4 CIDR/);
});

test('the default deny list covers private, loopback, link-local, CGNAT, multicast and reserved ranges', () => {
  for (const range of [
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '100.64.0.0/10',
    '224.0.0.0/4',
    '240.0.0.0/4',
  ]) {
    assert.ok(DENIED_V4.includes(range), range);
  }
  for (const range of DENIED_V4) assert.equal(canonicalCidr(range), range, 'every entry is canonical');
});
