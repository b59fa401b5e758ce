/**
 * Address plan of the sprite network pool (pure). The pool is an IPv4 CIDR cut into /30s:
 * slot i owns the i-th /30, the host end of the veth takes its first usable address and the
 * sprite the second.
 */
export interface SlotAddresses {
  index: number;
  hostIp: string;
  spriteIp: string;
  prefixLength: 30;
}

export interface Pool {
  base: number;
  prefixLength: number;
  cidr: string;
}

export function parsePool(cidr: string): Pool {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`network pool "${cidr}" is not an IPv4 CIDR such as 10.213.0.0/16`);
  const octets = m.slice(1, 5).map(Number);
  const prefixLength = Number(m[5]);
  if (octets.some((o) => o > 255) || prefixLength < 8 || prefixLength > 28) {
    throw new Error(`network pool "${cidr}" must be an IPv4 CIDR with a prefix length between /8 and /28`);
  }
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefixLength);
  const base = addr - (addr % size);
  return { base, prefixLength, cidr: `${ipToString(base)}/${prefixLength}` };
}

export function slotCount(pool: Pool): number {
  return 2 ** (32 - pool.prefixLength) / 4;
}

export function slotAddresses(pool: Pool, index: number): SlotAddresses {
  if (!Number.isInteger(index) || index < 0 || index >= slotCount(pool)) {
    throw new RangeError(`slot ${index} is outside pool ${pool.cidr} (${slotCount(pool)} slots)`);
  }
  const start = pool.base + index * 4;
  return { index, hostIp: ipToString(start + 1), spriteIp: ipToString(start + 2), prefixLength: 30 };
}

export function ipToString(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function ipToNumber(ip: string): number {
  return ip
    .split('.')
    .map(Number)
    .reduce((acc, o) => acc * 256 + o, 0);
}

/** True when `ip` falls inside `pool`. */
export function poolContains(pool: Pool, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= pool.base && n < pool.base + 2 ** (32 - pool.prefixLength);
}
