import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, SpriteError } from '@sprites/protocol';
import { errorAnswer, UrlError } from './errors.js';

test("the router's own failures keep their status, with the matching code", () => {
  const cases: [number, ErrorCode][] = [
    [400, ErrorCode.BadRequest],
    [401, ErrorCode.Unauthorized],
    [404, ErrorCode.SpriteNotFound],
    [405, ErrorCode.MethodNotAllowed],
    [413, ErrorCode.PayloadTooLarge],
    [503, ErrorCode.SpriteNotReady],
    [504, ErrorCode.GatewayTimeout],
    [502, ErrorCode.BadGateway],
  ];
  for (const [status, code] of cases) {
    assert.deepEqual(errorAnswer(new UrlError(status, 'why')), { status, body: { error: code, message: 'why' } });
  }
});

test("what nobody explained is the sprite's failure: 502, without the details", () => {
  const { status, body } = errorAnswer(new Error('EHOSTUNREACH 10.0.0.2: internal detail'));
  assert.equal(status, 502);
  assert.equal(body.error, ErrorCode.BadGateway);
  assert.ok(!body.message.includes('internal detail'));
});

test("the daemon's refusals on the way (e.g. an organization limit) keep their code", () => {
  const { status, body } = errorAnswer(new SpriteError(ErrorCode.SpriteNotReady, 'waking'));
  assert.equal(status, 503);
  assert.equal(body.error, ErrorCode.SpriteNotReady);
});
