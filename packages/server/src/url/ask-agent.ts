import { AGENT_INTERNAL_PATHS } from '@sprites/protocol';
import { agentRequest } from '../lifecycle/index.js';

/** Default port of the sprite URL when no service claims it (PROTOCOL §11, PLATFORM §2.6). */
const DEFAULT_HTTP_PORT = 8080;
/** What the agent may take to answer where HTTP goes, and how much of its answer is read. */
const TARGET_ANSWER_MS = 5000;
const TARGET_ANSWER_BYTES = 4096;

/**
 * Asks the agent which port the URL goes to (and to start an `http_port` service). The agent
 * is untrusted: its answer is bounded in time and size and must name a valid port. An answer
 * that is not JSON (an agent from before services) means the default port.
 */
export async function askAgentForTarget(socketPath: string): Promise<{ port: number; started: boolean }> {
  const res = await agentRequest(socketPath, 'POST', AGENT_INTERNAL_PATHS.httpTarget, {
    timeoutMs: TARGET_ANSWER_MS,
    maxBytes: TARGET_ANSWER_BYTES,
  });
  let body: { port?: unknown; started?: unknown };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    return { port: DEFAULT_HTTP_PORT, started: false };
  }
  const port = body?.port;
  if (res.status !== 200 || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return { port: DEFAULT_HTTP_PORT, started: false };
  }
  return { port, started: body.started === true };
}
