import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, SpriteError, type APIErrorBody } from '@sprites/protocol';
import { lingerClose, rejectUpgrade } from '../access/index.js';
import { hostFault } from '../host/index.js';
import { loggablePath, type Logger } from '../log.js';

/** A sprite URL request that fails with a status of its own (the router answers it as JSON). */
export class UrlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'UrlError';
  }
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.BadRequest,
  401: ErrorCode.Unauthorized,
  404: ErrorCode.SpriteNotFound,
  405: ErrorCode.MethodNotAllowed,
  413: ErrorCode.PayloadTooLarge,
  503: ErrorCode.SpriteNotReady,
  504: ErrorCode.GatewayTimeout,
};

/**
 * The status and APIError body of a failed sprite URL request (HTTP or WebSocket). Errors
 * neither we nor the daemon's rooms raised are the sprite's (its agent or app failed): 502,
 * never 500; host faults (waking the sprite failed on the host, the pool is full) are ours.
 */
export function errorAnswer(e: unknown): { status: number; body: APIErrorBody } {
  // The daemon's own refusals on the way (an organization limit when waking) keep their code,
  // and so do host faults.
  const fault = e instanceof UrlError ? null : hostFault(e);
  if (fault) return { status: fault.status, body: fault.toBody() };
  const status = e instanceof UrlError ? e.status : 502;
  const error = CODE_BY_STATUS[status] ?? ErrorCode.BadGateway;
  const message = e instanceof UrlError ? e.message : 'the sprite could not be reached; retry in a moment';
  return { status, body: { error, message } };
}

/**
 * Answers a failed sprite URL request with its JSON error (or cuts it, when the app's answer
 * had begun). Only failures nobody explained are logged: the rest are the caller's or the app's.
 */
export function failRequest(req: IncomingMessage, res: ServerResponse, e: unknown, log: Logger): void {
  if (!(e instanceof UrlError || e instanceof SpriteError))
    log.warn({ err: e, path: loggablePath(req.url) }, 'sprite URL request failed');
  if (res.headersSent) return void res.destroy();
  const { status, body } = errorAnswer(e);
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    })
    .end(text);
  // An unread body (a refused upload) is drained for a moment, then the connection closed.
  if (!req.complete) lingerClose(req);
}

/** Answers a failed sprite URL upgrade on its raw socket. */
export function failUpgrade(req: IncomingMessage, socket: Duplex, e: unknown, log: Logger): void {
  if (!(e instanceof UrlError || e instanceof SpriteError))
    log.warn({ err: e, path: loggablePath(req.url) }, 'sprite URL upgrade failed');
  const { status, body } = errorAnswer(e);
  rejectUpgrade(socket, status, body);
}
