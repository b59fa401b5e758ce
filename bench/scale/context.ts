import type { TestDaemon } from '../../test/helpers/daemon.js';
import type { ScaleClient } from './client.js';
import type { Fleet, Phases } from './fleet.js';
import type { HostSnapshot } from './host.js';
import type { ScaleKnobs } from './knobs.js';
import type { Recorder } from './recorder.js';

/** What every step of the bench works with. */
export interface ScaleContext {
  daemon: TestDaemon;
  client: ScaleClient;
  recorder: Recorder;
  fleet: Fleet;
  phases: Phases;
  knobs: ScaleKnobs;
  interrupted: AbortSignal;
  /** The host and daemon figures now, labelled `at`. */
  snap(at: string): HostSnapshot;
  /** A progress line on stderr. */
  progress(line: string): void;
}

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Throws Interrupted once Ctrl-C (or SIGTERM) was pressed: steps end, teardown runs. */
export function checkInterrupt(ctx: ScaleContext): void {
  if (ctx.interrupted.aborted) throw new Interrupted();
}

/** Sleeps, cut short by an interrupt. */
export function pause(ctx: ScaleContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      ctx.interrupted.removeEventListener('abort', done);
      resolve();
    }
    ctx.interrupted.addEventListener('abort', done, { once: true });
  });
}
