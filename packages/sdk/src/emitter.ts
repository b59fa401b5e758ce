type Listener = (...args: unknown[]) => void;

/**
 * A small event emitter with Node's method names (on, once, off, emit, addListener,
 * removeListener, listenerCount), so the SDK's objects behave alike on every runtime,
 * browsers included. `events.once(cmd, 'exit')` from node:events works with it.
 */
export class Emitter<Events extends Record<string, unknown[]>> {
  private listeners = new Map<keyof Events, { fn: Listener; once: boolean }[]>();

  on<E extends keyof Events & string>(event: E, fn: (...args: Events[E]) => void): this {
    const list = this.listeners.get(event) ?? [];
    list.push({ fn: fn as unknown as Listener, once: false });
    this.listeners.set(event, list);
    return this;
  }

  once<E extends keyof Events & string>(event: E, fn: (...args: Events[E]) => void): this {
    const list = this.listeners.get(event) ?? [];
    list.push({ fn: fn as unknown as Listener, once: true });
    this.listeners.set(event, list);
    return this;
  }

  off<E extends keyof Events & string>(event: E, fn: (...args: Events[E]) => void): this {
    const list = this.listeners.get(event);
    if (!list) return this;
    const i = list.findIndex((l) => l.fn === (fn as unknown as Listener));
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(event);
    return this;
  }

  addListener<E extends keyof Events & string>(event: E, fn: (...args: Events[E]) => void): this {
    return this.on(event, fn);
  }

  removeListener<E extends keyof Events & string>(event: E, fn: (...args: Events[E]) => void): this {
    return this.off(event, fn);
  }

  removeAllListeners(event?: keyof Events & string): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  listenerCount(event: keyof Events & string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Calls the listeners in order; returns whether there were any. */
  emit<E extends keyof Events & string>(event: E, ...args: Events[E]): boolean {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const l of [...list]) {
      if (l.once) this.off(event, l.fn);
      l.fn(...args);
    }
    return true;
  }
}
