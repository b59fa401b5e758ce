/** Exec WebSocket framing (PROTOCOL.md §5). */
export const StreamId = {
  Stdin: 0x00,
  Stdout: 0x01,
  Stderr: 0x02,
  Exit: 0x03,
  StdinEof: 0x04,
} as const;

export type StreamId = (typeof StreamId)[keyof typeof StreamId];

export interface SessionInfoMessage {
  type: 'session_info';
  session_id: string;
  command: string;
  created: number;
  tty: boolean;
  is_owner: boolean;
}

export interface ExitMessage {
  type: 'exit';
  exit_code: number;
}

export interface ClientControlMessage {
  type: 'resize' | 'signal';
  cols?: number;
  rows?: number;
  signal?: string;
}

/** Exit status of a process killed by signal number n, as shells report it. */
export function signalExitCode(signalNumber: number): number {
  return 128 + signalNumber;
}
