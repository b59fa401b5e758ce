/**
 * Undo steps registered as resources come into existence, run last-in-first-out when the
 * surrounding operation fails. `commit()` forgets them once the whole operation succeeded.
 * Disposable: the block that declares it unwinds it on the way out, however it leaves.
 *
 *   await using undo = new UndoStack((err) => log.error({ err }, 'cleanup after a failed X did not finish'));
 *   ...; undo.push('delete volume', () => storage.deleteVolume(v)); ...; undo.commit();
 */
export class UndoStack implements AsyncDisposable {
  private steps: { what: string; fn: () => unknown }[] = [];
  private committed = false;

  /** `report` hears of each undo step that failed when the stack is disposed. */
  constructor(private readonly report: (err: Error) => void = () => undefined) {}

  push(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }

  commit(): void {
    this.committed = true;
  }

  /** Runs the steps if not committed; returns the errors of steps that failed (never throws). */
  async unwind(): Promise<Error[]> {
    if (this.committed) return [];
    const errors: Error[] = [];
    for (const step of this.steps.reverse()) {
      try {
        await step.fn();
      } catch (e) {
        errors.push(new Error(`undo ${step.what}`, { cause: e }));
      }
    }
    this.steps = [];
    return errors;
  }

  /** Unwinds and reports each failed step: a failing undo never hides the error that caused it. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const err of await this.unwind()) this.report(err);
  }
}

/** Run every step even if some fail; throw one AggregateError at the end if any did. */
export async function runAll(what: string, steps: [string, () => unknown][]): Promise<void> {
  const errors: Error[] = [];
  for (const [name, fn] of steps) {
    try {
      await fn();
    } catch (e) {
      errors.push(new Error(name, { cause: e }));
    }
  }
  if (errors.length > 0)
    throw new AggregateError(errors, `${what}: ${errors.map((e) => `${e.message}: ${errorText(e.cause)}`).join('; ')}`);
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
