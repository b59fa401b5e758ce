import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { SPRITE_VERSION, SPRITE_VERSION_HEADER, type APIErrorBody } from '@sprites/protocol';

/** Answers a failed upgrade with a JSON APIError body (kept < 1 KiB: gorilla keeps only that much). */
export function rejectUpgrade(socket: Duplex, status: number, body: APIErrorBody): void {
  const text = JSON.stringify({ ...body, message: body.message.slice(0, 800) });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${SPRITE_VERSION_HEADER}: ${SPRITE_VERSION}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}
