import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SESSION_SECONDS, SessionSigner, sessionCookie } from './session.js';

const dir = mkdtempSync(join(tmpdir(), 'url-session-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a login cookie names its organization until it expires', () => {
  const signer = new SessionSigner(dir);
  const now = Date.UTC(2026, 0, 1);
  const value = signer.issue('org-a', now);
  assert.equal(signer.verify(value, now), 'org-a');
  assert.equal(signer.verify(value, now + (SESSION_SECONDS - 1) * 1000), 'org-a');
  assert.equal(signer.verify(value, now + (SESSION_SECONDS + 1) * 1000), null);
});

test('a tampered or foreign cookie names nobody', () => {
  const signer = new SessionSigner(dir);
  const value = signer.issue('org-a');
  const [, expiry, mac] = value.split('.');
  assert.equal(signer.verify(`org-b.${expiry}.${mac}`), null);
  assert.equal(signer.verify(`${value}x`), null);
  assert.equal(signer.verify('org-a'), null);
  assert.equal(signer.verify(''), null);
  const otherDir = mkdtempSync(join(tmpdir(), 'url-session-'));
  try {
    assert.equal(new SessionSigner(otherDir).verify(value), null);
  } finally {
    rmSync(otherDir, { recursive: true, force: true });
  }
});

test('the key is kept (0600) so logins survive a restart', () => {
  const value = new SessionSigner(dir).issue('org-a');
  assert.equal(new SessionSigner(dir).verify(value), 'org-a');
  const keyFile = join(dir, 'url-session.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.match(readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
});

test('the cookie is HttpOnly, Lax, host-only, and Secure over TLS', () => {
  assert.equal(sessionCookie('v', false), 'sprites_session=v; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax');
  assert.equal(sessionCookie('v', true), 'sprites_session=v; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure');
});
