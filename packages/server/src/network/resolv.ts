import { readFile } from 'node:fs/promises';

/**
 * The resolv.conf a sprite gets: the host's nameservers, minus loopback ones that would
 * point into the sprite's own network namespace.
 */
export async function spriteResolvConf(hostResolvConf = '/etc/resolv.conf'): Promise<string> {
  const text = await readFile(hostResolvConf, 'utf8').catch(() => '');
  const servers = text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => !!s && !s.startsWith('127.') && s !== '::1');
  const lines = servers.length > 0 ? servers : ['1.1.1.1'];
  return lines.map((s) => `nameserver ${s}`).join('\n') + '\noptions edns0\n';
}
