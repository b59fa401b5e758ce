import type { Duplex } from 'node:stream';
import { SPRITE_VERSION, SPRITE_VERSION_HEADER, type APIErrorBody } from '@sprites/protocol';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Answers a failed upgrade with a JSON APIError body (kept < 1 KiB: gorilla keeps only that much). */
export function rejectUpgrade(socket: Duplex, status: number, body: APIErrorBody): void {
  const text = JSON.stringify({ ...body, message: body.message.slice(0, 800) });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${SPRITE_VERSION_HEADER}: ${SPRITE_VERSION}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}
