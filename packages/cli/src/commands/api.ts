import { readFileSync } from 'node:fs';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { io } from '../output.js';
import { resolveTarget } from '../target.js';

/** The curl-like options after `--`: -X METHOD, -d DATA (@file reads a file), -H 'K: V', -i. */
function curlish(args: string[]): {
  method?: string;
  body?: string;
  headers: Record<string, string>;
  include: boolean;
} {
  const out: { method?: string; body?: string; headers: Record<string, string>; include: boolean } = {
    headers: {},
    include: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-X' || a === '--request') out.method = next().toUpperCase();
    else if (a === '-d' || a === '--data') {
      const v = next();
      out.body = v.startsWith('@') ? readFileSync(v.slice(1), 'utf8') : v;
    } else if (a === '-H' || a === '--header') {
      const v = next();
      const colon = v.indexOf(':');
      if (colon <= 0) throw new UsageError(`-H wants "Name: value", got "${v}"`);
      out.headers[v.slice(0, colon).trim().toLowerCase()] = v.slice(colon + 1).trim();
    } else if (a === '-i' || a === '--include') out.include = true;
    else throw new UsageError(`sprite api understands -X, -d, -H and -i; got "${a}"`);
  }
  return out;
}

const api: Command = {
  name: 'api',
  summary: 'Call any API path with your credentials (prints the body; exit 1 on an HTTP error)',
  usage: 'api PATH [-- -X METHOD -d DATA -H "Name: value" -i]',
  examples: [
    'sprite api /v1/sprites',
    'sprite api /v1/sprites/demo -- -X PUT -d \'{"labels":["a"]}\'',
    'sprite api /v1/sprites/demo/checkpoints -- -i',
  ],
  async run(p) {
    const path = p.positionals[0];
    if (!path) throw new UsageError('which path? sprite api /v1/sprites');
    const opts = curlish(p.rest);
    if (opts.body !== undefined) opts.headers['content-type'] ??= 'application/json';
    const { client } = resolveTarget(p);
    const response = await client.request(opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'), path, {
      body: opts.body,
      headers: opts.headers,
    });
    if (opts.include) {
      io.stdout.write(`HTTP ${response.status} ${response.statusText}\n`);
      response.headers.forEach((v, k) => io.stdout.write(`${k}: ${v}\n`));
      io.stdout.write('\n');
    }
    const body = Buffer.from(await response.arrayBuffer());
    io.stdout.write(body);
    if (body.length > 0 && body[body.length - 1] !== 10 && process.stdout.isTTY) io.stdout.write('\n');
    return response.ok ? 0 : 1;
  },
};

export const apiCommands: Command[] = [api];
