import { request } from 'node:http';

export interface AgentResponse {
  status: number;
  body: string;
}

/** One HTTP request to a sprite's agent over its unix socket. */
export function agentRequest(socketPath: string, method: string, path: string, timeoutMs = 5000, body?: unknown): Promise<AgentResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const req = request({ socketPath, method, path, timeout: timeoutMs, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`agent did not answer ${method} ${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Waits until the agent answers its health check; rejects after `timeoutMs`. */
export async function waitForAgent(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await agentRequest(socketPath, 'GET', '/v1/health', Math.max(100, deadline - Date.now()));
      if (res.status === 200) return;
      last = new Error(`health answered ${res.status}: ${res.body}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the sprite's agent did not become ready within ${timeoutMs} ms`, { cause: last });
}
