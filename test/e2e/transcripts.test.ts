import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';
import { execUrl, rawExec } from '../helpers/ws.js';

/** A frame as the transcript of PROTOCOL.md §9 writes it: bin[hex…] or the text frame's type. */
function frames(tr: { texts: unknown[]; binaries: Buffer[] }, order: ('t' | 'b')[]): string[] {
  let ti = 0;
  let bi = 0;
  return order.map((kind) =>
    kind === 't' ? `txt:${(tr.texts[ti++] as { type: string }).type}` : `bin:${tr.binaries[bi++]!.toString('hex')}`,
  );
}

test('the wire transcripts of PROTOCOL §9, frame by frame', async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('s1', { ram_mb: 256, storage_gb: 1 });
  const recordOrder = (onOpen: (ws: import('ws').WebSocket) => void = () => undefined) => {
    const order: ('t' | 'b')[] = [];
    return {
      order,
      script: (ws: import('ws').WebSocket) => {
        ws.on('message', (_d: Buffer, isBinary: boolean) => order.push(isBinary ? 'b' : 't'));
        onOpen(ws);
      },
    };
  };

  await t.test('non-TTY exec with stdin (cat)', async () => {
    const r = recordOrder((ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hi\n')]));
      ws.send(Buffer.from([4]));
    });
    const tr = await rawExec(
      execUrl(d.url, 's1', [
        ['cmd', 'cat'],
        ['path', 'cat'],
        ['stdin', 'true'],
      ]),
      d.adminToken,
      r.script,
    );
    assert.deepEqual(frames(tr, r.order), [
      'txt:session_info',
      `bin:01${Buffer.from('hi\n').toString('hex')}`,
      'bin:0300',
    ]);
    const info = tr.texts[0] as Record<string, unknown>;
    assert.equal(typeof info.session_id, 'string');
    assert.equal(info.command, 'cat');
    assert.equal(info.tty, false);
    assert.equal(info.is_owner, true);
    assert.equal(typeof info.created, 'number');
  });

  await t.test('non-TTY exec, no stdin, non-zero exit', async () => {
    const r = recordOrder((ws) => ws.send(Buffer.from([4])));
    const tr = await rawExec(
      execUrl(d.url, 's1', [
        ['cmd', 'sh'],
        ['cmd', '-c'],
        ['cmd', 'echo err >&2; exit 3'],
        ['path', 'sh'],
        ['stdin', 'false'],
      ]),
      d.adminToken,
      r.script,
    );
    assert.deepEqual(frames(tr, r.order), [
      'txt:session_info',
      `bin:02${Buffer.from('err\n').toString('hex')}`,
      'bin:0303',
    ]);
  });

  await t.test('TTY exec (stty size at 24x80)', async () => {
    const r = recordOrder();
    const tr = await rawExec(
      execUrl(d.url, 's1', [
        ['cmd', 'sh'],
        ['cmd', '-c'],
        ['cmd', 'stty size'],
        ['cols', '80'],
        ['path', 'sh'],
        ['rows', '24'],
        ['stdin', 'false'],
        ['tty', 'true'],
      ]),
      d.adminToken,
      r.script,
    );
    assert.deepEqual(frames(tr, r.order), [
      'txt:session_info',
      `bin:${Buffer.from('24 80\r\n').toString('hex')}`,
      'txt:exit',
    ]);
    assert.deepEqual(tr.texts[1], { type: 'exit', exit_code: 0 });
    const info = tr.texts[0] as Record<string, unknown>;
    assert.equal(info.tty, true);
    assert.equal(info.cols, 80);
    assert.equal(info.rows, 24);
    assert.equal(tr.closeCode, 1000);
  });

  await t.test('attach to a TTY session: session_info, then the replayed scrollback', async () => {
    let id = '';
    await rawExec(
      execUrl(d.url, 's1', [
        ['cmd', 'sh'],
        ['cmd', '-c'],
        ['cmd', 'echo ready; sleep 30'],
        ['tty', 'true'],
      ]),
      d.adminToken,
      (ws) => {
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary) id = (JSON.parse(data.toString()) as { session_id: string }).session_id;
          else if (data.toString().includes('ready')) ws.terminate();
        });
      },
    );
    const r = recordOrder((ws) => ws.on('message', (_d: Buffer, isBinary: boolean) => isBinary && ws.close(1000)));
    const tr = await rawExec(
      execUrl(
        d.url,
        's1',
        [
          ['stdin', 'false'],
          ['tty', 'true'],
        ],
        `/${id}`,
      ),
      d.adminToken,
      r.script,
    );
    assert.deepEqual(frames(tr, r.order.slice(0, 2)), [
      'txt:session_info',
      `bin:${Buffer.from('ready\r\n').toString('hex')}`,
    ]);
    assert.equal((tr.texts[0] as { is_owner: boolean }).is_owner, false);
    await d.api('POST', `/v1/sprites/s1/exec/${id}/kill?signal=KILL&timeout=5s`);
  });
});

test('50 concurrent commands across 10 sprites all return their own output and exit code', async (t) => {
  const d = await startTestDaemon(t);
  const names = Array.from({ length: 10 }, (_, i) => `many-${i}`);
  for (const n of names) await d.createSprite(n, { ram_mb: 128, storage_gb: 1 });
  const jobs = Array.from({ length: 50 }, (_, i) => {
    const name = names[i % 10]!;
    return d
      .exec(name, [
        'sh',
        '-c',
        `echo "$(hostname) job ${i}"; head -c ${1000 * (i + 1)} /dev/zero | wc -c; exit ${i % 7}`,
      ])
      .then((r) => ({ i, name, r }));
  });
  for (const { i, name, r } of await Promise.all(jobs)) {
    assert.equal(r.code, i % 7, `job ${i}`);
    assert.equal(r.stdout, `${name} job ${i}\n${1000 * (i + 1)}\n`, `job ${i}`);
  }
});
