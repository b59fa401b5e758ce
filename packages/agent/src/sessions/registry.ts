import type { Session } from './session.js';

const REMEMBERED_ENDED = 1000;

/** The sessions of this sprite, by id; remembers recently ended ids (kill answers 410). */
export class SessionRegistry {
  private readonly live = new Map<string, Session>();
  private readonly ended: string[] = [];
  private next = 1;

  nextId(): string {
    return String(this.next++);
  }

  add(session: Session): void {
    this.live.set(session.id, session);
  }

  get(id: string): Session | undefined {
    return this.live.get(id);
  }

  hasEnded(id: string): boolean {
    return this.ended.includes(id);
  }

  end(session: Session): void {
    this.live.delete(session.id);
    this.ended.push(session.id);
    if (this.ended.length > REMEMBERED_ENDED) this.ended.shift();
  }

  list(): Session[] {
    return [...this.live.values()];
  }
}
