/** Exec WebSocket framing (PROTOCOL.md §5): the first byte of every binary frame of a non-TTY command. */
export const StreamId = {
  Stdin: 0x00,
  Stdout: 0x01,
  Stderr: 0x02,
  Exit: 0x03,
  StdinEof: 0x04,
} as const;
export type StreamId = (typeof StreamId)[keyof typeof StreamId];

/** The first text message of every exec connection. */
export interface SessionInfoMessage {
  type: 'session_info';
  session_id: string;
  command: string;
  created: number;
  tty: boolean;
  is_owner: boolean;
  /** Server extension: the terminal size (TTY sessions). */
  cols?: number;
  rows?: number;
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

/** A port a process in the sprite started or stopped listening on (exec sockets and `ports/watch`, §5.5). */
export interface PortEvent {
  type: 'port_opened' | 'port_closed';
  port: number;
  address: string;
  pid: number;
}

/** The first message of `ports/watch`: what listens now. */
export interface PortListMessage {
  type: 'port_list';
  ports: Omit<PortEvent, 'type'>[];
}

/** Exit status of a process killed by signal number n, as shells report it. */
export function signalExitCode(signalNumber: number): number {
  return 128 + signalNumber;
}
