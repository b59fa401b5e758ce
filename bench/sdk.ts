import { SpritesClient } from '@sprites/sdk';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { execInSprite } from '../test/helpers/exec.js';
import { summarize, timed, type Summary } from './stats.js';

export interface SdkResult {
  /** `sprite.execFile('true')` through the SDK. */
  sdkRoundTrip: Summary;
  /** The same command over a bare `ws` WebSocket, interleaved with the SDK runs. */
  rawRoundTrip: Summary;
  /** Heap after a GC, in MB, after 1,000 and after `commands` SDK commands. */
  heapAfter1kMb: number;
  heapAfterAllMb: number;
  commands: number;
  gcAvailable: boolean;
}

/** One `true` over a bare `ws` WebSocket (no SDK): open, wait for the exit frame, close. */
async function rawExec(d: TestDaemon): Promise<void> {
  await execInSprite(d.url, d.adminToken, 'bench-sdk', ['true'], { keepOutput: false, perMessageDeflate: false });
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/**
 * SDK overhead: the SDK's exec round trip next to a raw WebSocket one in the same run
 * (alternating, so both see the same machine), and the heap after many commands.
 */
export async function measureSdk(d: TestDaemon, runs: number, commands: number): Promise<SdkResult> {
  await d.createSprite('bench-sdk', { ram_mb: 256, storage_gb: 1 });
  try {
    const client = new SpritesClient(d.adminToken, { baseURL: d.url });
    const sprite = client.sprite('bench-sdk');
    for (let i = 0; i < 20; i++) {
      await sprite.execFile('true');
      await rawExec(d);
    }
    const sdk: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < runs; i++) {
      sdk.push((await timed(() => sprite.execFile('true'))).ms);
      raw.push((await timed(() => rawExec(d))).ms);
    }
    let heapAfter1kMb = 0;
    for (let i = 1; i <= commands; i++) {
      await sprite.execFile('true');
      if (i === 1000) heapAfter1kMb = heapMb();
    }
    const heapAfterAllMb = heapMb();
    return {
      sdkRoundTrip: summarize(sdk),
      rawRoundTrip: summarize(raw),
      heapAfter1kMb,
      heapAfterAllMb,
      commands,
      gcAvailable: typeof (globalThis as { gc?: unknown }).gc === 'function',
    };
  } finally {
    await d.api('DELETE', '/v1/sprites/bench-sdk');
  }
}
