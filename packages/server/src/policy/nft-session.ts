import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How long one command may take before it counts as failed. */
const COMMAND_TIMEOUT_MS = 5000;

/**
 * A long-lived `nft -e -i`: one transaction per line, acknowledged by the "new generation"
 * line nft prints once it committed. Adding a learned address costs a write and a netlink
 * commit instead of a process start, which matters because a DNS answer waits for it.
 * Every line also adds and deletes an element of `syncSet`, so even a transaction that
 * changes nothing else commits (and is acknowledged).
 */
export class NftSession {
  constructor(private readonly syncSet: string) {}

  private proc: ChildProcessWithoutNullStreams | null = null;
  private queue: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout; command: string }[] = [];

  private start(): ChildProcessWithoutNullStreams {
    const proc = spawn('nft', ['-e', '-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.on('error', (e) => this.failAll(e));
    proc.on('exit', () => {
      if (this.proc === proc) this.proc = null;
      this.failAll(new Error('nft exited'));
    });
    // Every committed command ends with "# new generation N by process P (nft)".
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (line.startsWith('# new generation')) this.settle();
    });
    let errorText = '';
    createInterface({ input: proc.stderr }).on('line', (line) => {
      errorText += `${line}\n`;
      // nft prints the error, the command and a caret line: fail the oldest command.
      if (/^\s*\^+\s*$/.test(line)) {
        this.settle(new Error(`nft: ${errorText.trim()}`));
        errorText = '';
      }
    });
    return proc;
  }

  private settle(error?: Error): void {
    const next = this.queue.shift();
    if (!next) return;
    clearTimeout(next.timer);
    if (error) next.reject(error);
    else next.resolve();
  }

  private failAll(e: Error): void {
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      q.reject(e);
    }
  }

  /** Runs one nft command (a single line); resolves once it committed. */
  run(command: string): Promise<void> {
    this.proc ??= this.start();
    const proc = this.proc;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.queue.findIndex((q) => q.timer === timer);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new Error(`nft did not answer within ${COMMAND_TIMEOUT_MS} ms: ${command}`));
        // The session may be out of step now: start a fresh one next time.
        proc.kill();
      }, COMMAND_TIMEOUT_MS);
      this.queue.push({ resolve, reject, timer, command });
      proc.stdin.write(
        `${command.replace(/\n/g, ' ')}; add element ${this.syncSet} { 1 }; delete element ${this.syncSet} { 1 }\n`,
      );
    });
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc?.kill();
    this.proc = null;
  }
}
