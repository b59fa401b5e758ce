import { ErrorCode, SpriteError, type APIErrorBody } from '@sprites/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hostFault } from '../host/index.js';

/** Fastify's own error codes that are the client's fault, and what we answer for each. */
const FASTIFY_CLIENT_ERRORS: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: ErrorCode.PayloadTooLarge, message: 'request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: ErrorCode.UnsupportedMediaType,
    message: 'send JSON with Content-Type: application/json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: ErrorCode.InvalidJson, message: 'request body is empty; send a JSON object' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: ErrorCode.InvalidJson },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: ErrorCode.BadRequest, message: 'Content-Length does not match the body' },
  FST_ERR_BAD_URL: { code: ErrorCode.BadRequest, message: 'the request URL is malformed' },
  FST_ERR_ASYNC_CONSTRAINT: { code: ErrorCode.BadRequest },
  FST_ERR_MAX_PARAM_LENGTH: { code: ErrorCode.BadRequest, message: 'a path segment is too long' },
};

function validationMessage(error: FastifyError): { message: string; field?: string } {
  const first = error.validation?.[0];
  if (!first) return { message: error.message };
  const where = error.validationContext ?? 'body';
  const path = first.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
  const field =
    first.keyword === 'required' ? String((first.params as { missingProperty?: string }).missingProperty ?? '') : path;
  const subject = field ? `${where}.${field}` : where;
  return { message: `${subject} ${first.message ?? 'is invalid'}`, field: field || undefined };
}

/** The one place where errors become HTTP responses (PROTOCOL.md §2 bodies). */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  let status: number;
  let body: APIErrorBody;
  const fastifyError = error as FastifyError;
  const fault = error instanceof SpriteError || fastifyError.validation ? null : hostFault(error);
  if (error instanceof SpriteError) {
    status = error.status;
    body = error.toBody();
    if (error.details.retry_after_seconds) void reply.header('Retry-After', String(error.details.retry_after_seconds));
  } else if (fastifyError.validation) {
    status = 400;
    const { message, field } = validationMessage(fastifyError);
    body = { error: ErrorCode.ValidationFailed, message, ...(field ? { field } : {}) };
  } else if (fastifyError.code && FASTIFY_CLIENT_ERRORS[fastifyError.code]) {
    const known = FASTIFY_CLIENT_ERRORS[fastifyError.code]!;
    status = fastifyError.statusCode && fastifyError.statusCode < 500 ? fastifyError.statusCode : 400;
    body = { error: known.code, message: known.message ?? fastifyError.message };
  } else if (
    error instanceof SyntaxError ||
    (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500)
  ) {
    status = fastifyError.statusCode && fastifyError.statusCode < 500 ? fastifyError.statusCode : 400;
    body = { error: ErrorCode.BadRequest, message: error.message };
  } else if (fault) {
    // A host command failed or the pool is full: the message names the operation, the log has the chain.
    status = fault.status;
    body = { ...fault.toBody(), request_id: String(request.id) };
    const level = fault.code === ErrorCode.HostError ? 'error' : 'warn';
    request.log[level](
      { err: error, code: fault.code },
      fault.code === ErrorCode.HostError ? 'a host operation failed; the request was undone' : 'out of storage',
    );
  } else {
    status = 500;
    body = {
      error: ErrorCode.InternalError,
      message: `internal error; quote request id ${request.id} when reporting it`,
      request_id: String(request.id),
    };
    request.log.error({ err: error }, 'unhandled error');
  }
  void reply.status(status).type('application/json').send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .status(404)
    .send({ error: ErrorCode.NotFound, message: `no such endpoint: ${request.method} ${request.url.split('?')[0]}` });
}
