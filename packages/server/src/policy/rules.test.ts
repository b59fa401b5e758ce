import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpriteError } from '@sprites/protocol';
import { PolicyMatcher, validatePolicy } from './rules.js';

test('validation: domains, wildcards, presets, actions; clear reasons', () => {
  assert.deepEqual(validatePolicy({ rules: null }), { rules: [] });
  assert.deepEqual(
    validatePolicy({ rules: [{ domain: 'API.Example.com.', action: 'allow' }, { include: 'defaults' }] }).rules,
    [{ domain: 'api.example.com', action: 'allow' }, { include: 'defaults' }],
  );
  for (const [body, reason] of [
    [{ rules: [{ domain: 'exa mple.com', action: 'allow' }] }, /not a domain/],
    [{ rules: [{ domain: '*.*.com', action: 'allow' }] }, /not a domain/],
    [{ rules: [{ domain: 'example.com', action: 'block' }] }, /action must be/],
    [{ rules: [{ domain: 'example.com' }] }, /needs an action/],
    [{ rules: [{ include: 'everything' }] }, /unknown preset/],
    [{ rules: [{ domain: 'example.com', include: 'defaults', action: 'allow' }] }, /both domain and include/],
    [{ rules: [{ action: 'allow' }] }, /needs a domain/],
    [{ rules: 'all' }, /must be an array/],
    [{ rules: [{ domain: 'x.com', action: 'allow', port: 80 }] }, /unknown field "port"/],
    [['rules'], /JSON object/],
  ] as const) {
    assert.throws(
      () => validatePolicy(body),
      (e: unknown) => e instanceof SpriteError && e.status === 400 && reason.test(e.message),
      JSON.stringify(body),
    );
  }
});

test('matching: the most specific rule wins; an unmatched name is denied once rules exist', () => {
  const m = new PolicyMatcher(
    validatePolicy({
      rules: [
        { domain: '*.example.com', action: 'allow' },
        { domain: 'bad.example.com', action: 'deny' },
        { domain: 'example.org', action: 'allow' },
        { domain: '*.corp.example.net', action: 'deny' },
        { domain: '*.example.net', action: 'allow' },
      ],
    }),
  );
  assert.equal(m.decide('www.example.com'), 'allow');
  assert.equal(m.decide('a.b.example.com'), 'allow');
  assert.equal(m.decide('example.com'), 'deny', '*.x does not cover x itself');
  assert.equal(m.decide('bad.example.com'), 'deny', 'exact beats wildcard');
  assert.equal(m.decide('Example.ORG.'), 'allow');
  assert.equal(m.decide('www.example.org'), 'deny');
  assert.equal(m.decide('x.corp.example.net'), 'deny', 'the longer wildcard wins');
  assert.equal(m.decide('x.example.net'), 'allow');
  assert.equal(m.decide('unlisted.test'), 'deny');
  const open = new PolicyMatcher(
    validatePolicy({
      rules: [
        { domain: 'evil.test', action: 'deny' },
        { domain: '*', action: 'allow' },
      ],
    }),
  );
  assert.equal(open.decide('anything.test'), 'allow');
  assert.equal(open.decide('evil.test'), 'deny');
  assert.equal(new PolicyMatcher({ rules: [] }).decide('any.test'), 'allow', 'no rules: unrestricted');
  const preset = new PolicyMatcher(validatePolicy({ rules: [{ include: 'defaults' }] }));
  assert.equal(preset.decide('registry.npmjs.org'), 'allow');
  assert.equal(preset.decide('raw.githubusercontent.com'), 'allow');
  assert.equal(preset.decide('example.com'), 'deny');
});
