import { Deadline, type CallOptions } from './abort.js';
import { AbortError, ConnectionError, parseAPIError } from './errors.js';

/** A query string value: repeated keys keep their order. */
export type QueryValue = string | number | boolean | undefined | null | readonly string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions extends CallOptions {
  query?: Query;
  /** A JSON body (sent with `Content-Type: application/json`). */
  json?: unknown;
  /** A raw body (sent as `application/octet-stream`). */
  body?: Uint8Array | ReadableStream<Uint8Array> | string;
  headers?: Record<string, string>;
  /** Status codes that count as success; anything else throws an APIError. Default 2xx. */
  expect?: readonly number[];
  /**
   * The response body is read by the caller after this returns (streams, downloads): the
   * timeout then keeps running until the caller calls `done()` on the result.
   */
  streaming?: boolean;
}

export interface StreamingResponse {
  response: Response;
  deadline: Deadline;
}

/** Builds `/v1/...` URLs and runs authenticated fetches with timeouts and cancellation. */
export class HttpTransport {
  readonly baseURL: string;
  private readonly token: string;
  readonly defaultTimeout: number;

  constructor(baseURL: string, token: string, defaultTimeout: number) {
    this.baseURL = baseURL.replace(/\/+$/, '');
    this.token = token;
    this.defaultTimeout = defaultTimeout;
  }

  url(path: string, query?: Query): string {
    const u = new URL(this.baseURL + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const v of value as readonly string[]) u.searchParams.append(key, v);
      else u.searchParams.append(key, String(value));
    }
    return u.toString();
  }

  /**
   * The WebSocket URL of `path`: the scheme becomes ws(s) and the base URL's path is
   * replaced, as the official clients do (the API lives at the root of its origin).
   */
  wsURL(path: string, query?: Query): string {
    const u = new URL(this.url(path, query));
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  get bearerToken(): string {
    return this.token;
  }

  /** Sends a request; a status outside `expect` throws an APIError after reading its body. */
  async send(method: string, path: string, opts: RequestOptions & { streaming: true }): Promise<StreamingResponse>;
  async send(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response | StreamingResponse> {
    const deadline = new Deadline(`${method} ${path}`, opts, opts.streaming ? 0 : this.defaultTimeout);
    const headers: Record<string, string> = { ...this.authHeaders(), ...(opts.headers ?? {}) };
    let body: RequestInit['body'];
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/octet-stream';
      body = opts.body as RequestInit['body'];
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers, body, signal: deadline.signal };
    if (opts.body instanceof ReadableStream) init.duplex = 'half';
    let response: Response;
    try {
      response = await fetch(this.url(path, opts.query), init);
    } catch (e) {
      deadline.dispose();
      if (deadline.aborted) throw deadline.reason;
      throw new ConnectionError(`${method} ${path}: could not reach ${this.baseURL} (${describe(e)})`, { cause: e });
    }
    const ok = opts.expect ? opts.expect.includes(response.status) : response.status >= 200 && response.status < 300;
    if (!ok) {
      try {
        const text = await response.text().catch(() => '');
        throw (
          parseAPIError(response.status, text, headerRecord(response.headers)) ??
          new Error(`${method} ${path}: unexpected status ${response.status}`)
        );
      } finally {
        deadline.dispose();
      }
    }
    if (opts.streaming) return { response, deadline };
    // The caller reads the body right away (json/text/bytes helpers), inside the timeout.
    return withDisposal(response, deadline);
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, opts);
    const text = await readText(response);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(
        `${method} ${path}: the server answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  /** A request whose answer has no body the caller needs (204 and the like). */
  async empty(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const response = await this.send(method, path, opts);
    await readText(response);
  }
}

const disposals = new WeakMap<Response, Deadline>();

function withDisposal(response: Response, deadline: Deadline): Response {
  disposals.set(response, deadline);
  return response;
}

/** Reads a whole body as text under the request's deadline, then releases the deadline. */
export async function readText(response: Response): Promise<string> {
  const deadline = disposals.get(response);
  try {
    return await response.text();
  } catch (e) {
    if (deadline?.aborted) throw deadline.reason;
    throw new ConnectionError(`reading the answer failed: ${describe(e)}`, { cause: e });
  } finally {
    deadline?.dispose();
  }
}

/** Reads a whole body as bytes under the request's deadline, then releases the deadline. */
export async function readBytes(response: Response): Promise<Uint8Array> {
  const deadline = disposals.get(response);
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    if (deadline?.aborted) throw deadline.reason;
    throw new ConnectionError(`reading the answer failed: ${describe(e)}`, { cause: e });
  } finally {
    deadline?.dispose();
  }
}

export function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key.toLowerCase()] = value;
  });
  return out;
}

export function describe(e: unknown): string {
  if (e instanceof AbortError) return e.message;
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

/** `encodeURIComponent` for a path segment (names, ids). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
