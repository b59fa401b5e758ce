import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerAddresses, errorResponse, parseQuestion, RCODE_REFUSED, TYPE_A, TYPE_AAAA } from './dns-wire.js';

function name(n: string): Buffer {
  return Buffer.concat([
    ...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

function query(id: number, qname: string, type: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, name(qname), tail]);
}

/** A response with a CNAME (compressed pointer to the question) and A/AAAA records. */
function response(q: Buffer): Buffer {
  const out = Buffer.from(q);
  out.writeUInt16BE(0x8180, 2);
  out.writeUInt16BE(3, 6);
  const rr = (type: number, ttl: number, data: Buffer, owner: Buffer) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(type, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(ttl, 4);
    fixed.writeUInt16BE(data.length, 8);
    return Buffer.concat([owner, fixed, data]);
  };
  const pointer = Buffer.from([0xc0, 12]);
  const cname = name('edge.example.net');
  return Buffer.concat([
    out,
    rr(5, 300, cname, pointer),
    rr(TYPE_A, 60, Buffer.from([198, 18, 0, 7]), name('edge.example.net')),
    rr(TYPE_AAAA, 120, Buffer.from('20010db8000000000000000000000001', 'hex'), name('edge.example.net')),
  ]);
}

test('questions, REFUSED answers and the addresses of an answer (with compression)', () => {
  const q = query(0x1234, 'WWW.Example.com', TYPE_A);
  assert.deepEqual(parseQuestion(q), { id: 0x1234, name: 'www.example.com', type: TYPE_A });
  assert.equal(parseQuestion(Buffer.from([1, 2, 3])), null);
  assert.equal(parseQuestion(response(q)), null, 'a response is not a question');
  const refused = errorResponse(q, RCODE_REFUSED);
  assert.equal(refused.readUInt16BE(0), 0x1234);
  assert.equal(refused.readUInt16BE(2) & 0x8000, 0x8000, 'QR set');
  assert.equal(refused.readUInt16BE(2) & 0xf, RCODE_REFUSED);
  assert.equal(refused.readUInt16BE(4), 1, 'the question is echoed');
  assert.equal(refused.readUInt16BE(6), 0, 'no answers');
  assert.deepEqual(
    parseQuestion(Buffer.concat([refused.subarray(0, 2), Buffer.from([1, 0]), refused.subarray(4)]))?.name,
    'www.example.com',
  );
  assert.deepEqual(answerAddresses(response(q)), [
    { family: 4, address: '198.18.0.7', ttl: 60 },
    { family: 6, address: '2001:db8:0:0:0:0:0:1', ttl: 120 },
  ]);
  const loop = Buffer.concat([query(1, 'a.b', TYPE_A).subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.equal(parseQuestion(loop), null, 'a compression loop is rejected, not followed forever');
});
