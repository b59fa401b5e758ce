import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ListeningPort {
  port: number;
  address: string;
  pid: number;
}

const LISTEN = '0A';

function ipv4(hex: string): string {
  // /proc/net/tcp stores the address as a little-endian 32-bit number.
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const le = hex.slice(i, i + 8);
    const be = le.slice(6, 8) + le.slice(4, 6) + le.slice(2, 4) + le.slice(0, 2);
    words.push(be.slice(0, 4), be.slice(4, 8));
  }
  const text = words.map((w) => parseInt(w, 16).toString(16)).join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  return text;
}

/** Parses /proc/net/tcp or tcp6 text into listening sockets (address, port, inode). Pure. */
export function parseProcNetTcp(text: string, v6: boolean): { address: string; port: number; inode: string }[] {
  const out: { address: string; port: number; inode: string }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const [addr = '', port = '0'] = (f[1] ?? '').split(':');
    out.push({ address: v6 ? ipv6(addr) : ipv4(addr), port: parseInt(port, 16), inode: f[9] ?? '' });
  }
  return out;
}

/** Which process owns each socket inode (scans /proc/<pid>/fd; only for new sockets). */
function ownersOf(inodes: Set<string>): Map<string, number> {
  const owners = new Map<string, number>();
  if (inodes.size === 0) return owners;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!) && !owners.has(m[1]!)) owners.set(m[1]!, Number(pid));
      } catch {
        // gone meanwhile
      }
    }
    if (owners.size === inodes.size) break;
  }
  return owners;
}

/** The sprite's listening TCP ports right now (this network namespace only). */
export function listeningPorts(known: Map<string, ListeningPort>): Map<string, ListeningPort> {
  const found = new Map<string, { address: string; port: number; inode: string }>();
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const s of parseProcNetTcp(text, v6)) found.set(`${s.address}:${s.port}`, s);
  }
  const fresh = new Set([...found].filter(([key]) => !known.has(key)).map(([, s]) => s.inode));
  const owners = ownersOf(fresh);
  const result = new Map<string, ListeningPort>();
  for (const [key, s] of found)
    result.set(key, known.get(key) ?? { port: s.port, address: s.address, pid: owners.get(s.inode) ?? 0 });
  return result;
}
