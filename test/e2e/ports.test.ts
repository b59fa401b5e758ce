import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestDaemon } from '../helpers/daemon.js';
import { execUrl, rawExec } from '../helpers/ws.js';

interface PortMsg {
  type: string;
  port?: number;
  address?: string;
  pid?: number;
  ports?: { port: number }[];
}

test('port_opened and port_closed reach /ports/watch and the exec socket of the command that listens', async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('porty', { ram_mb: 256, storage_gb: 1 });

  const watch = new WebSocket(`${d.url.replace(/^http/, 'ws')}/v1/sprites/porty/ports/watch`, {
    headers: { authorization: `Bearer ${d.adminToken}` },
  });
  const seen: PortMsg[] = [];
  const waitFor = (pred: (m: PortMsg) => boolean) =>
    new Promise<PortMsg>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not seen: ${JSON.stringify(seen)}`)), 20_000);
      const check = () => {
        const hit = seen.find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else setTimeout(check, 50);
      };
      check();
    });
  watch.on('message', (data: Buffer) => seen.push(JSON.parse(data.toString()) as PortMsg));
  t.after(() => watch.terminate());
  const list = await waitFor((m) => m.type === 'port_list');
  assert.ok(Array.isArray(list.ports));

  const started = await d.exec('porty', [
    'sh',
    '-c',
    'nohup python3 -m http.server 8123 --bind 127.0.0.1 >/dev/null 2>&1 & echo $!',
  ]);
  const serverPid = Number(started.stdout.trim());
  const opened = await waitFor((m) => m.type === 'port_opened' && m.port === 8123);
  assert.equal(opened.address, '127.0.0.1');
  assert.equal(opened.pid, serverPid, 'the event names the listening process');
  await d.exec('porty', ['kill', String(serverPid)]);
  await waitFor((m) => m.type === 'port_closed' && m.port === 8123);

  // The exec socket of a command that starts listening gets the event as a text message.
  const script =
    'import socket,time; s=socket.socket(); s.bind(("0.0.0.0",8124)); s.listen(); print("up", flush=True); time.sleep(2)';
  const tr = await rawExec(
    execUrl(d.url, 'porty', [
      ['cmd', 'python3'],
      ['cmd', '-c'],
      ['cmd', script],
      ['stdin', 'false'],
    ]),
    d.adminToken,
    (ws) => ws.send(Buffer.from([4])),
  );
  const events = tr.texts.filter((x) => (x as PortMsg).type === 'port_opened') as PortMsg[];
  assert.ok(
    events.some((e) => e.port === 8124 && e.address === '0.0.0.0'),
    JSON.stringify(tr.texts),
  );
  assert.deepEqual([...tr.binaries.at(-1)!], [3, 0]);
});
