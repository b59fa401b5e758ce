/**
 * The sprites that exist (created and not deleted) and which of them a churn worker holds
 * right now. A worker leases a sprite for one operation so no other worker deletes it, or
 * restores it, under its feet; creates add names, deletes remove them.
 */
export class Fleet {
  private readonly live = new Set<string>();
  private readonly leased = new Set<string>();

  get size(): number {
    return this.live.size;
  }

  add(name: string): void {
    this.live.add(name);
  }

  remove(name: string): void {
    this.live.delete(name);
  }

  names(): string[] {
    return [...this.live];
  }

  /** A random existing sprite no other worker holds, or undefined if there is none. */
  lease(): string | undefined {
    const free = [...this.live].filter((n) => !this.leased.has(n));
    const name = free[Math.floor(Math.random() * free.length)];
    if (name !== undefined) this.leased.add(name);
    return name;
  }

  release(name: string): void {
    this.leased.delete(name);
  }

  /** `n` distinct random existing sprites. */
  sample(n: number): string[] {
    const all = this.names();
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, n);
  }
}

/**
 * The phases of the sprite count that latencies are reported by: up to a tenth of N, up to
 * half, up to N (for N = 1,000: the windows around 100, 500 and 1,000 sprites), then the
 * steady churn once all N exist.
 */
export class Phases {
  readonly labels: string[];
  private readonly marks: number[];
  steady = false;

  constructor(total: number) {
    this.marks = [Math.max(1, Math.ceil(total / 10)), Math.max(1, Math.ceil(total / 2)), total];
    const [a, b, c] = this.marks as [number, number, number];
    this.labels = [`0–${a}`, `${a + 1}–${b}`, `${b + 1}–${c}`, `steady at ${c}`];
  }

  /** The phase a request starting now, with `count` sprites existing, belongs to. */
  of(count: number): string {
    if (this.steady) return this.labels[3]!;
    if (count <= this.marks[0]!) return this.labels[0]!;
    if (count <= this.marks[1]!) return this.labels[1]!;
    return this.labels[2]!;
  }
}
