import type { LifecycleContext } from './context.js';

export interface ReclaimSummary {
  adopted: number;
  stoppedStale: number;
  reclaimed: Record<string, number>;
  errors: string[];
}

/** What the steps of one startup reclaim share: what was adopted, and the summary they fill. */
export interface ReclaimState {
  ctx: LifecycleContext;
  summary: ReclaimSummary;
  /** Sprites whose run was re-adopted: every later step leaves what they hold alone. */
  adopted: Set<string>;
  liveNetSlots: Set<number>;
  liveIdSlots: Set<number>;
  /** Counts one (or `n`) reclaimed `what`. */
  count: (what: string, n?: number) => void;
  /** Runs `fn`; a failure is recorded in the summary and the step goes on. */
  attempt: (what: string, fn: () => Promise<unknown>) => Promise<void>;
}

export interface ReclaimStep {
  name: string;
  /** A required step's failure ends startup: what follows would take adopted sprites' resources for leftovers. */
  required?: boolean;
  run(state: ReclaimState): Promise<void>;
}
