/** Error code the API sends when too many sprites are created too quickly. */
export const ERR_CODE_CREATION_RATE_LIMITED = 'sprite_creation_rate_limited';
/** Error code the API sends when the organization runs as many sprites as it may. */
export const ERR_CODE_CONCURRENT_LIMIT_EXCEEDED = 'concurrent_sprite_limit_exceeded';

/** Fields of an {@link APIError}, as parsed from the response body and headers. */
export interface APIErrorDetails {
  errorCode?: string;
  statusCode?: number;
  limit?: number;
  windowSeconds?: number;
  retryAfterSeconds?: number;
  currentCount?: number;
  upgradeAvailable?: boolean;
  upgradeUrl?: string;
  retryAfterHeader?: number;
  rateLimitLimit?: number;
  rateLimitRemaining?: number;
  rateLimitReset?: number;
  /** Our server's extension: which input was wrong, for validation errors. */
  field?: string;
  /** Our server's extension: the request id to quote when reporting a server error. */
  requestId?: string;
  /** The parsed JSON body, when it was a JSON object. */
  body?: Record<string, unknown>;
}

/**
 * An HTTP error answered by the API (status ≥ 400), with the structured body of
 * PROTOCOL §2.1. `message` is the server's text, else its code, else `API error (status N)`.
 */
export class APIError extends Error {
  readonly errorCode?: string;
  readonly statusCode?: number;
  readonly limit?: number;
  readonly windowSeconds?: number;
  readonly retryAfterSeconds?: number;
  readonly currentCount?: number;
  readonly upgradeAvailable?: boolean;
  readonly upgradeUrl?: string;
  readonly retryAfterHeader?: number;
  readonly rateLimitLimit?: number;
  readonly rateLimitRemaining?: number;
  readonly rateLimitReset?: number;
  readonly field?: string;
  readonly requestId?: string;
  readonly body?: Record<string, unknown>;

  constructor(message: string, details: APIErrorDetails = {}) {
    super(message);
    this.name = 'APIError';
    Object.assign(this, details);
  }

  /** The same as `statusCode`, under the name `fetch` users expect. */
  get status(): number | undefined {
    return this.statusCode;
  }

  /** True for 429 Too Many Requests. */
  isRateLimitError(): boolean {
    return this.statusCode === 429;
  }

  isCreationRateLimited(): boolean {
    return this.errorCode === ERR_CODE_CREATION_RATE_LIMITED;
  }

  isConcurrentLimitExceeded(): boolean {
    return this.errorCode === ERR_CODE_CONCURRENT_LIMIT_EXCEEDED;
  }

  isNotFound(): boolean {
    return this.statusCode === 404;
  }

  /** `retry_after_seconds` from the body when positive, else the `Retry-After` header. */
  getRetryAfterSeconds(): number | undefined {
    if (this.retryAfterSeconds !== undefined && this.retryAfterSeconds > 0) return this.retryAfterSeconds;
    return this.retryAfterHeader;
  }
}

/** True if `err` is an {@link APIError}. */
export function isAPIError(err: unknown): err is APIError {
  return err instanceof APIError;
}

/** True if `err` is an {@link APIError} for a 429 answer. */
export function isRateLimitError(err: unknown): boolean {
  return err instanceof APIError && err.isRateLimitError();
}

function intHeader(headers: Record<string, string>, name: string): number | undefined {
  const raw = headers[name] ?? headers[name.toLowerCase()];
  if (raw === undefined || !/^\s*-?\d+\s*$/.test(raw)) return undefined;
  return Number(raw);
}

function pick<T>(body: Record<string, unknown>, key: string, type: 'number' | 'string' | 'boolean'): T | undefined {
  const v = body[key];
  return typeof v === type ? (v as T) : undefined;
}

/**
 * Builds an {@link APIError} from a response: status, body text and headers (lower-case
 * names). Returns undefined below 400. A body that is not a JSON object becomes the message.
 */
export function parseAPIError(
  statusCode: number,
  body: string | undefined,
  headers: Record<string, string> = {},
): APIError | undefined {
  if (statusCode < 400) return undefined;
  const details: APIErrorDetails = {
    statusCode,
    retryAfterHeader: intHeader(headers, 'retry-after'),
    rateLimitLimit: intHeader(headers, 'x-ratelimit-limit'),
    rateLimitRemaining: intHeader(headers, 'x-ratelimit-remaining'),
    rateLimitReset: intHeader(headers, 'x-ratelimit-reset'),
  };
  let message = '';
  const text = body ?? '';
  if (text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const b = parsed as Record<string, unknown>;
      details.body = b;
      details.errorCode = pick(b, 'error', 'string');
      message = pick<string>(b, 'message', 'string') ?? '';
      details.limit = pick(b, 'limit', 'number');
      details.windowSeconds = pick(b, 'window_seconds', 'number');
      details.retryAfterSeconds = pick(b, 'retry_after_seconds', 'number');
      details.currentCount = pick(b, 'current_count', 'number');
      details.upgradeAvailable = pick(b, 'upgrade_available', 'boolean');
      details.upgradeUrl = pick(b, 'upgrade_url', 'string');
      details.field = pick(b, 'field', 'string');
      details.requestId = pick(b, 'request_id', 'string');
    } else {
      message = text.trim();
    }
  }
  for (const key of Object.keys(details) as (keyof APIErrorDetails)[])
    if (details[key] === undefined) delete details[key];
  return new APIError(message || details.errorCode || `API error (status ${statusCode})`, details);
}

/** What a finished command produced (the `exec`/`execFile` shapes). */
export interface ExecResult<T = string> {
  stdout: T;
  stderr: T;
  exitCode: number;
}

/** `exec`/`execFile` rejected: the command exited non-zero (or produced too much output). */
export class ExecError<T = string> extends Error {
  readonly result: ExecResult<T>;

  constructor(message: string, result: ExecResult<T>) {
    super(message);
    this.name = 'ExecError';
    this.result = result;
  }

  get exitCode(): number {
    return this.result.exitCode;
  }

  get stdout(): T {
    return this.result.stdout;
  }

  get stderr(): T {
    return this.result.stderr;
  }
}

/**
 * A command ran to completion with a non-zero exit code (`Cmd.run()`, `output()`,
 * `combinedOutput()`), shaped after Go's `*exec.ExitError`. `stderr` holds what the command
 * wrote to stderr; `output` what the call had collected (stdout, or both streams for
 * `combinedOutput`), as Go returns it next to the error.
 */
export class ExitError extends Error {
  readonly code: number;
  readonly stderr: Uint8Array;
  readonly output: Uint8Array;

  constructor(code: number, stderr: Uint8Array = new Uint8Array(), output: Uint8Array = new Uint8Array()) {
    super(`exit status ${code}`);
    this.name = 'ExitError';
    this.code = code;
    this.stderr = stderr;
    this.output = output;
  }

  exitCode(): number {
    return this.code;
  }
}

/** Node-style codes of filesystem errors. */
export type FilesystemErrorCode =
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'EACCES'
  | 'EPERM'
  | 'ENOTEMPTY'
  | 'EINVAL'
  | 'EIO'
  | 'ELOOP'
  | 'ENAMETOOLONG'
  | 'ENOSPC'
  | 'EDQUOT'
  | 'EROFS'
  | 'EXDEV'
  | 'EBUSY'
  | 'UNKNOWN';

/** A filesystem call failed inside the sprite; `code` is the errno name, as `node:fs` has it. */
export class FilesystemError extends Error {
  readonly code: FilesystemErrorCode;
  readonly path: string;
  readonly syscall?: string;
  readonly statusCode?: number;

  constructor(message: string, code: FilesystemErrorCode, path: string, syscall?: string, statusCode?: number) {
    super(message);
    this.name = 'FilesystemError';
    this.code = code;
    this.path = path;
    if (syscall !== undefined) this.syscall = syscall;
    if (statusCode !== undefined) this.statusCode = statusCode;
  }
}

/** The operation was cancelled by its AbortSignal (or its timeout). */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** The connection to the server ended before the operation finished. */
export class ConnectionError extends Error {
  readonly code = 'ECONNRESET';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}
