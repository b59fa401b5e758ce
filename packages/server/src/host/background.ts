/**
 * Work that may finish after the request that started it (deleting a removed sprite's
 * disk), tracked so shutdown can wait for it. Failures are reported, never thrown.
 */
export class BackgroundTasks {
  private running = new Set<Promise<void>>();

  constructor(private readonly onError: (what: string, err: unknown) => void) {}

  add(what: string, task: () => Promise<unknown>): void {
    const p: Promise<void> = task().then(
      () => undefined,
      (err: unknown) => this.onError(what, err),
    );
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
