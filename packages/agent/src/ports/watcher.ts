import type { PortEvent } from '@sprites/protocol';
import { listeningPorts, type ListeningPort } from './proc-net.js';

export type { PortEvent };

const POLL_MS = 500;

/**
 * Notices processes starting and stopping to listen, by polling /proc/net/tcp{,6} while
 * anyone listens for it, and only then: an idle sprite's agent stays at zero CPU.
 */
export class PortWatcher {
  private ports = new Map<string, ListeningPort>();
  private readonly listeners = new Set<(e: PortEvent) => void>();
  private timer: NodeJS.Timeout | undefined;

  current(): ListeningPort[] {
    if (!this.timer) this.ports = listeningPorts(this.ports);
    return [...this.ports.values()];
  }

  subscribe(listener: (e: PortEvent) => void): () => void {
    if (this.listeners.size === 0) {
      // The baseline is taken after the caller's current work (an exec starting), not during it.
      this.baseline = false;
      setImmediate(() => {
        this.ports = listeningPorts(this.ports);
        this.baseline = true;
      });
      this.timer = setInterval(() => this.poll(), POLL_MS);
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private baseline = true;

  private poll(): void {
    if (!this.baseline) return;
    const next = listeningPorts(this.ports);
    const events: PortEvent[] = [];
    for (const [key, p] of next) if (!this.ports.has(key)) events.push({ type: 'port_opened', ...p });
    for (const [key, p] of this.ports) if (!next.has(key)) events.push({ type: 'port_closed', ...p });
    this.ports = next;
    for (const e of events) for (const l of this.listeners) l(e);
  }
}
