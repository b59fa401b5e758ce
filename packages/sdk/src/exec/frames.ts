import type { StreamId, PortEvent, SessionInfoMessage } from '@sprites/protocol';

/**
 * Stream ids of non-TTY exec frames (PROTOCOL §5.3): the first byte of every binary frame.
 * The values are the protocol's `StreamId`; the enum keeps the official SDK's names.
 */
export enum StreamID {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  Exit = 3,
  StdinEOF = 4,
}

/** @internal Fails to compile when the enum and the protocol's ids part ways. */
export const STREAM_IDS_MATCH_PROTOCOL = {
  Stdin: StreamID.Stdin,
  Stdout: StreamID.Stdout,
  Stderr: StreamID.Stderr,
  Exit: StreamID.Exit,
  StdinEof: StreamID.StdinEOF,
} as const satisfies typeof StreamId;

export function frame(id: StreamID, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + (payload?.length ?? 0));
  out[0] = id;
  if (payload) out.set(payload, 1);
  return out;
}

/** A port a process in the sprite started or stopped listening on. */
export type PortNotification = PortEvent;

/**
 * The first message of every exec connection: `session_id` (for attach and kill) and `tty`
 * always, the rest where the server sends it.
 */
export type SessionInfo = Pick<SessionInfoMessage, 'type' | 'session_id' | 'tty'> &
  Partial<Omit<SessionInfoMessage, 'type' | 'session_id' | 'tty'>>;

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
