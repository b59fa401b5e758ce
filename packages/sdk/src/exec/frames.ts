/** Stream ids of non-TTY exec frames (PROTOCOL §5.3): the first byte of every binary frame. */
export enum StreamID {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  Exit = 3,
  StdinEOF = 4,
}

export function frame(id: StreamID, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + (payload?.length ?? 0));
  out[0] = id;
  if (payload) out.set(payload, 1);
  return out;
}

/** A port a process in the sprite started or stopped listening on. */
export interface PortNotification {
  type: 'port_opened' | 'port_closed';
  port: number;
  address: string;
  pid: number;
}

/** The first message of every exec connection. */
export interface SessionInfo {
  type: 'session_info';
  /** The session id, for attach and kill. */
  session_id: string;
  command?: string;
  created?: number;
  cols?: number;
  rows?: number;
  is_owner?: boolean;
  tty: boolean;
}

/** A JSON text frame from the server; `exit` carries the code in both modes on our server. */
export type ServerMessage =
  SessionInfo | PortNotification | { type: 'exit'; exit_code: number } | { type: string; [key: string]: unknown };

/** Parses a text frame; text that is not a JSON object is returned as is (Go does the same). */
export function parseTextFrame(text: string): ServerMessage | string | null {
  if (text.startsWith('control:')) return null;
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string')
      return v as ServerMessage;
  } catch {
    // opaque text
  }
  return text;
}
