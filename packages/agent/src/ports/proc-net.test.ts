import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcNetTcp } from './proc-net.js';

test('listening sockets are read from /proc/net/tcp and tcp6', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0',
    '   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0',
    '   2: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000  1000        0 333 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  assert.deepEqual(parseProcNetTcp(tcp, false), [
    { address: '127.0.0.1', port: 8080, inode: '12345' },
    { address: '0.0.0.0', port: 22, inode: '222' },
  ]);
  const tcp6 = [
    'header',
    '   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 444 1',
    '   1: 00000000000000000000000001000000:0BB9 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 555 1',
  ].join('\n');
  assert.deepEqual(parseProcNetTcp(tcp6, true), [
    { address: '::', port: 3000, inode: '444' },
    { address: '::1', port: 3001, inode: '555' },
  ]);
});
