import { ipToNumber, ipToString } from './ipam.js';

/**
 * Where a sprite may not connect unless the operator allows the range (DESIGN §5.6,
 * ADR 0016): the IPv4 blocks IANA lists as not globally reachable, except the three
 * documentation blocks (TEST-NET-1/2/3): nothing answers there on the internet, so denying
 * them protects nothing, while some lab and sandbox networks do route real services
 * (package mirrors, proxies) to them and sprites there must reach those. The sprites' own pool
 * is added by the daemon; the host's own addresses are refused by the input chain, which no
 * allow range opens.
 */
export const DENIED_V4: readonly string[] = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // private
  '100.64.0.0/10', // CGNAT
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata (169.254.169.254)
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and the limited broadcast 255.255.255.255
];

/**
 * Parses an IPv4 CIDR such as 10.1.2.0/24 and returns it in canonical form (host bits
 * cleared); throws with what is wrong. A bare address means /32.
 */
export function canonicalCidr(text: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!m) {
    const v6 = text.includes(':') ? ' (sprites have no IPv6, so IPv6 ranges are never needed)' : '';
    throw new Error(`"${text}" is not an IPv4 CIDR such as 10.1.2.0/24${v6}`);
  }
  const octets = m.slice(1, 5).map(Number);
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`"${text}" is not an IPv4 CIDR such as 10.1.2.0/24`);
  const size = 2 ** (32 - prefix);
  const addr = ipToNumber(octets.join('.'));
  return `${ipToString(addr - (addr % size))}/${prefix}`;
}
