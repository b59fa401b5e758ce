/** The parts of a DNS message (RFC 1035) the policy proxy needs. */
export interface DnsQuestion {
  id: number;
  name: string;
  type: number;
}

export interface DnsAddress {
  family: 4 | 6;
  address: string;
  ttl: number;
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_REFUSED = 5;
export const RCODE_SERVFAIL = 2;

/** Reads a (possibly compressed) name at `offset`; returns it and the offset after it. */
function readName(msg: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = offset;
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (at >= msg.length) throw new Error('truncated name');
    const len = msg[at]!;
    if (len === 0) {
      if (next < 0) next = at + 1;
      return { name: labels.join('.'), next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) throw new Error('truncated pointer');
      if (next < 0) next = at + 2;
      at = ((len & 0x3f) << 8) | msg[at + 1]!;
      continue;
    }
    if (len > 63 || at + 1 + len > msg.length) throw new Error('bad label');
    labels.push(msg.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  throw new Error('name compression loop');
}

/** The first question of a query, or null for anything else (answered SERVFAIL/dropped). */
export function parseQuestion(msg: Buffer): DnsQuestion | null {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response, not a query
  if (msg.readUInt16BE(4) < 1) return null;
  try {
    const { name, next } = readName(msg, 12);
    if (next + 4 > msg.length) return null;
    return { id: msg.readUInt16BE(0), name: name.toLowerCase(), type: msg.readUInt16BE(next) };
  } catch {
    return null;
  }
}

/** An answer to `query` with no records and the given rcode (REFUSED for denied names). */
export function errorResponse(query: Buffer, rcode: number): Buffer {
  let end: number;
  try {
    end = readName(query, 12).next + 4;
  } catch {
    end = 12;
  }
  const out = Buffer.from(query.subarray(0, Math.min(end, query.length)));
  const opcodeRd = query.readUInt16BE(2) & 0x7900; // keep opcode and RD
  out.writeUInt16BE(0x8000 | opcodeRd | 0x0080 | (rcode & 0xf), 2); // QR, RA, rcode
  out.writeUInt16BE(end > 12 ? 1 : 0, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

/** The A and AAAA records of a response's answer section, with their TTLs. */
export function answerAddresses(msg: Buffer): DnsAddress[] {
  const out: DnsAddress[] = [];
  if (msg.length < 12) return out;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  try {
    let at = 12;
    for (let i = 0; i < qd; i++) at = readName(msg, at).next + 4;
    for (let i = 0; i < an; i++) {
      at = readName(msg, at).next;
      if (at + 10 > msg.length) break;
      const type = msg.readUInt16BE(at);
      const ttl = msg.readUInt32BE(at + 4);
      const len = msg.readUInt16BE(at + 8);
      const data = at + 10;
      if (data + len > msg.length) break;
      if (type === TYPE_A && len === 4)
        out.push({ family: 4, address: [...msg.subarray(data, data + 4)].join('.'), ttl });
      if (type === TYPE_AAAA && len === 16) {
        const groups: string[] = [];
        for (let g = 0; g < 8; g++) groups.push(msg.readUInt16BE(data + g * 2).toString(16));
        out.push({ family: 6, address: groups.join(':'), ttl });
      }
      at = data + len;
    }
  } catch {
    // a malformed answer adds nothing
  }
  return out;
}
