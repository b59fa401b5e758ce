import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestDaemon } from '../helpers/daemon.js';
import { execUrl, rawExec } from '../helpers/ws.js';

test('exec framing: non-TTY streams, exit codes, stdin, binary data, signals; TTY with a real pty', async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('ex', { ram_mb: 512, storage_gb: 1 });
  const url = (params: [string, string][], suffix = '') => execUrl(d.url, 'ex', params, suffix);
  const cmd = (...argv: string[]): [string, string][] => [
    ...argv.map((a): [string, string] => ['cmd', a]),
    ['path', argv[0]!],
  ];

  await t.test(
    'non-TTY transcript: session_info, stdout and stderr frames, then [0x03, code], close 1000',
    async () => {
      const tr = await rawExec(
        url([...cmd('sh', '-c', 'printf out; printf err >&2; exit 42'), ['stdin', 'false']]),
        d.adminToken,
        (ws) => ws.send(Buffer.from([4])),
      );
      const info = tr.texts[0] as { type: string; session_id: unknown; tty: boolean };
      assert.equal(info.type, 'session_info');
      assert.equal(typeof info.session_id, 'string');
      assert.equal(info.tty, false);
      const stdout = Buffer.concat(tr.binaries.filter((b) => b[0] === 1).map((b) => b.subarray(1))).toString();
      const stderr = Buffer.concat(tr.binaries.filter((b) => b[0] === 2).map((b) => b.subarray(1))).toString();
      assert.equal(stdout, 'out');
      assert.equal(stderr, 'err');
      assert.deepEqual([...tr.binaries.at(-1)!], [3, 42], 'the exit frame comes last');
      assert.equal(tr.closeCode, 1000);
    },
  );

  await t.test('exit codes 0, 1, 255 and 128+signal', async () => {
    for (const [script, code] of [
      ['exit 0', 0],
      ['exit 1', 1],
      ['exit 255', 255],
      ['kill -TERM $$', 143],
      ['kill -KILL $$', 137],
    ] as const) {
      const r = await d.exec('ex', ['sh', '-c', script]);
      assert.equal(r.code, code, script);
    }
  });

  await t.test('stdin streams through cat, binary bytes round-trip unchanged, EOF ends it', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i % 256));
    const tr = await rawExec(url([...cmd('cat'), ['stdin', 'true']]), d.adminToken, (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), bytes.subarray(0, 5000)]));
      ws.send(Buffer.from([0]));
      ws.send(Buffer.concat([Buffer.from([0]), bytes.subarray(5000)]));
      ws.send(Buffer.from([4]));
    });
    const out = Buffer.concat(tr.binaries.filter((b) => b[0] === 1).map((b) => b.subarray(1)));
    assert.ok(out.equals(bytes), 'every byte came back');
    assert.deepEqual([...tr.binaries.at(-1)!], [3, 0]);
  });

  await t.test('a large stdout arrives intact, in frames of at most 64 KiB', async () => {
    const r = await d.exec('ex', ['sh', '-c', 'head -c 20000000 /dev/zero | tr "\\0" "x"']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.length, 20_000_000);
    assert.ok(/^x+$/.test(r.stdout));
  });

  await t.test('100 MB of stdout arrives intact (checksummed on both sides)', async () => {
    const script = 'head -c 100000000 /dev/urandom > /tmp/big && cat /tmp/big && sha256sum /tmp/big >&2 && rm /tmp/big';
    const hash = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    const exit = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url([...cmd('sh', '-c', script), ['stdin', 'false']]), {
        headers: { authorization: `Bearer ${d.adminToken}` },
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return;
        if (data[0] === 1) {
          hash.update(data.subarray(1));
          bytes += data.length - 1;
        } else if (data[0] === 2) stderr += data.subarray(1).toString();
        else if (data[0] === 3) resolve(data[1]!);
      });
      ws.on('error', reject);
      ws.on('close', () => reject(new Error('closed before the exit frame')));
    });
    assert.equal(exit, 0, stderr);
    assert.equal(bytes, 100_000_000);
    assert.equal(stderr.split(' ')[0], hash.digest('hex'));
  });

  await t.test('large, fragmented and empty client frames all reach stdin in order', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const tr = await rawExec(url([...cmd('sha256sum'), ['stdin', 'true']]), d.adminToken, (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), big]));
      // One message in three fragments: the stream id is in the first only.
      ws.send(Buffer.from([0, 0x62]), { fin: false });
      ws.send(Buffer.from('cc'), { fin: false });
      ws.send(Buffer.from('d'), { fin: true });
      ws.send(Buffer.from([0]));
      ws.send(Buffer.from([4]));
    });
    const expected = createHash('sha256').update(big).update('bccd').digest('hex');
    const out = Buffer.concat(tr.binaries.filter((b) => b[0] === 1).map((b) => b.subarray(1))).toString();
    assert.equal(out.split(' ')[0], expected);
    assert.deepEqual([...tr.binaries.at(-1)!], [3, 0]);
  });

  await t.test('pings are answered; unknown frames are ignored and the command goes on', async () => {
    let pongs = 0;
    const tr = await rawExec(url([...cmd('cat'), ['stdin', 'true']]), d.adminToken, (ws) => {
      ws.on('pong', () => pongs++);
      ws.ping();
      ws.send('not json at all');
      ws.send(JSON.stringify({ type: 'no-such-message' }));
      ws.send(JSON.stringify({ type: 'signal', signal: 'SIGNOPE' }));
      ws.send(Buffer.from([9, 1, 2, 3]));
      ws.send(Buffer.alloc(0));
      ws.send(Buffer.from([0, 0x6f, 0x6b]));
      ws.ping();
      setTimeout(() => ws.send(Buffer.from([4])), 200);
    });
    assert.equal(pongs, 2);
    const out = Buffer.concat(tr.binaries.filter((b) => b[0] === 1).map((b) => b.subarray(1))).toString();
    assert.equal(out, 'ok');
    assert.deepEqual([...tr.binaries.at(-1)!], [3, 0]);
    assert.equal((await d.exec('ex', ['echo', 'still serving'])).stdout, 'still serving\n');
  });

  await t.test("a command gets only stdin, stdout and stderr: none of the agent's descriptors", async () => {
    const r = await d.exec('ex', ['ls', '/proc/self/fd']);
    assert.equal(r.code, 0);
    // 3 is the directory ls itself opened to list.
    assert.deepEqual(r.stdout.trim().split('\n'), ['0', '1', '2', '3']);
    const id = await d.exec('ex', ['id']);
    assert.match(id.stdout, /^uid=1000\(sprite\) gid=1000\(sprite\) groups=1000\(sprite\)/);
  });

  await t.test('a signal message (with or without SIG) reaches the process group', async () => {
    for (const name of ['TERM', 'SIGINT']) {
      const tr = await rawExec(url([...cmd('sleep', '60'), ['stdin', 'false']]), d.adminToken, (ws) => {
        setTimeout(() => ws.send(JSON.stringify({ type: 'signal', signal: name })), 300);
      });
      const expected = name === 'TERM' ? 143 : 130;
      assert.deepEqual([...tr.binaries.at(-1)!], [3, expected], name);
    }
  });

  await t.test('TTY: a real pseudo-terminal, rows/cols, resize, raw input, JSON exit', async () => {
    const tr = await rawExec(
      url([
        ...cmd('bash', '--norc', '--noprofile'),
        ['tty', 'true'],
        ['rows', '24'],
        ['cols', '80'],
        ['stdin', 'true'],
      ]),
      d.adminToken,
      (ws) => {
        ws.send(Buffer.from('tty; stty size\n'));
        // Resize only once the first size was printed, then ask again.
        let seen = '';
        let resized = false;
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary || resized) return;
          seen += data.toString();
          if (/24 80/.test(seen)) {
            resized = true;
            ws.send(JSON.stringify({ type: 'resize', cols: 132, rows: 50 }));
            ws.send(Buffer.from('stty size; exit 7\n'));
          }
        });
      },
    );
    const output = Buffer.concat(tr.binaries).toString();
    assert.match(output, /\/dev\/pts\/\d+/);
    assert.match(output, /24 80/);
    assert.match(output, /50 132/);
    assert.deepEqual(tr.texts.at(-1), { type: 'exit', exit_code: 7 });
    assert.equal((tr.texts[0] as { tty: boolean }).tty, true);
    assert.equal(tr.closeCode, 1000);
  });

  await t.test('HTTP exec: the body is stdin, the response is stream-tagged chunks ending in [3, code]', async () => {
    const input = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) % 256));
    const q = new URLSearchParams([
      ['cmd', 'sh'],
      ['cmd', '-c'],
      ['cmd', 'cat; sleep 0.3; echo done >&2; exit 5'],
      ['path', 'sh'],
      ['stdin', 'true'],
    ]);
    const res = await fetch(`${d.url}/v1/sprites/ex/exec?${q.toString()}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/octet-stream' },
      body: input,
    });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...body.subarray(-2)], [3, 5], 'the last two bytes are the exit');
    // stderr comes well after cat has written everything, so it is the last chunk.
    const tail = Buffer.concat([Buffer.from([2]), Buffer.from('done\n'), Buffer.from([3, 5])]);
    assert.ok(body.subarray(-tail.length).equals(tail), 'stderr, then the exit');
    assert.ok(body.length >= input.length + 1 + tail.length, 'all of stdin came back as stdout');
    const bad = await fetch(`${d.url}/v1/sprites/ex/exec?stdin=false`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    assert.equal(bad.status, 400);
  });

  await t.test('non-TTY commands see no terminal', async () => {
    const r = await d.exec('ex', ['tty']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /not a tty/);
  });
});
