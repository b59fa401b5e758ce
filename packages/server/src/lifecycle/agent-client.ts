import { request } from 'node:http';
import { AGENT_HEALTH_PATH } from '@sprites/protocol';
import { DeadlineError, readBounded } from '../io/index.js';

export interface AgentResponse {
  status: number;
  body: string;
}

/** What the daemon reads of one agent answer at most: the agent is untrusted (DESIGN §5.5). */
export const AGENT_ANSWER_MAX_BYTES = 1024 * 1024;
/** Headers of an agent answer, in bytes (Node's parser fails the request past this). */
export const AGENT_HEADER_MAX_BYTES = 16 * 1024;

export interface AgentRequestOptions {
  /** Connect, headers and the whole body must be done within this (default 5 s). */
  timeoutMs?: number;
  /** JSON-encoded as the request body. */
  body?: unknown;
  /** Answers longer than this fail (default AGENT_ANSWER_MAX_BYTES). */
  maxBytes?: number;
}

/**
 * One HTTP request to a sprite's agent over its unix socket, bounded in time and size: an
 * agent that stalls, floods or never ends its answer makes this fail, never grow or hang.
 */
export function agentRequest(
  socketPath: string,
  method: string,
  path: string,
  options: AgentRequestOptions = {},
): Promise<AgentResponse> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? AGENT_ANSWER_MAX_BYTES;
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers =
      payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const started = Date.now();
    const req = request(
      { socketPath, method, path, headers, agent: false, maxHeaderSize: AGENT_HEADER_MAX_BYTES },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          req.destroy();
          return reject(
            new Error(`agent answered ${method} ${path} with ${declared} bytes (at most ${maxBytes} are read)`),
          );
        }
        readBounded(res, { limit: maxBytes, deadlineMs: Math.max(1, timeoutMs - (Date.now() - started)) }).then(
          (body) => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: body.toString('utf8') });
          },
          (e: unknown) => {
            clearTimeout(timer);
            req.destroy();
            reject(new Error(`agent's answer to ${method} ${path} was refused: ${(e as Error).message}`, { cause: e }));
          },
        );
      },
    );
    const timer = setTimeout(
      () => req.destroy(new DeadlineError(`agent did not answer ${method} ${path} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(payload);
  });
}

/** Waits until the agent answers its health check; rejects after `timeoutMs`. */
export async function waitForAgent(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await agentRequest(socketPath, 'GET', AGENT_HEALTH_PATH, {
        timeoutMs: Math.max(100, deadline - Date.now()),
        maxBytes: 64 * 1024,
      });
      if (res.status === 200) return;
      last = new Error(`health answered ${res.status}: ${res.body.slice(0, 200)}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the sprite's agent did not become ready within ${timeoutMs} ms`, { cause: last });
}
